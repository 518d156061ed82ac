package shopify_test

import (
	"errors"
	"fmt"

	"github.com/paklog/integration-hub/transforms/shopify"
)

func ExampleOrderFromWebhook() {
	body := []byte(`{
	  "id": 9007199254740993, "name": "#1001", "financial_status": "paid",
	  "created_at": "2026-11-20T18:25:43-08:00", "updated_at": "2026-11-20T18:26:10-08:00",
	  "currency": "USD", "tags": "VIP, gift",
	  "shipping_address": {"name": "Dana Whitfield", "address1": "1200 Market St",
	    "city": "San Francisco", "province_code": "CA", "zip": "94102", "country_code": "US"},
	  "shipping_lines": [{"title": "Express", "code": "EXP"}],
	  "line_items": [
	    {"id": 14123456789012, "sku": "TENT-2P-GRN", "title": "Trail Tent", "quantity": 2,
	     "fulfillable_quantity": 1, "price": "249.00"},
	    {"id": 14123456789013, "sku": "", "title": "Gift card", "quantity": 1, "price": "25.00",
	     "requires_shipping": false}
	  ]
	}`)
	res, err := shopify.OrderFromWebhook(shopify.TopicOrdersPaid, body, "acme-shop", shopify.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := res.Order
	fmt.Println(res.ExternalID, res.UpdatedAt, o.OrderNumber, o.OrderDate, o.Shipping.ServiceLevel)
	for _, l := range o.Lines {
		fmt.Println(l.LineNumber, l.SKU, l.Quantity, l.UnitPrice.Amount, l.UnitPrice.Currency)
	}
	fmt.Println(o.Attributes["tag:VIP"], o.Attributes["tag:gift"])

	// Without a SKU the line is an error naming its place in the body.
	_, err = shopify.OrderFromWebhook(shopify.TopicOrdersPaid,
		[]byte(`{"id": 1, "financial_status": "paid", "line_items": [{"id": 2, "quantity": 1}]}`),
		"acme-shop", shopify.Options{})
	fmt.Println(errors.Is(err, shopify.ErrMissingSKU), errors.Is(err, shopify.ErrNoShippingAddress))
	fmt.Println(err)
	// Output:
	// 9007199254740993 2026-11-21 02:26:10 +0000 UTC #1001 2026-11-20 two_day
	// 14123456789012 TENT-2P-GRN 1 249.00 USD
	// true true
	// true true
	// line_items[0].sku: line 2 has no SKU
	// shipping_address: an order with shippable lines needs a shipping address
}
