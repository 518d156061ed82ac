package magento_test

import (
	"errors"
	"fmt"

	"github.com/paklog/integration-hub/transforms/magento"
)

func ExampleOrderFromREST() {
	body := []byte(`{
	  "entity_id": 3, "increment_id": "000000003", "state": "processing", "status": "processing",
	  "created_at": "2026-11-20 21:14:05", "updated_at": "2026-11-21 08:02:17",
	  "order_currency_code": "USD",
	  "items": [
	    {"item_id": 10, "product_type": "configurable", "sku": "MH01-S-Gray", "name": "Chaz Kangeroo Hoodie",
	     "qty_ordered": 2, "qty_shipped": 0, "price": 52},
	    {"item_id": 11, "parent_item_id": 10, "product_type": "simple", "sku": "MH01-S-Gray",
	     "name": "Chaz Kangeroo Hoodie-S-Gray", "qty_ordered": 2, "price": 0},
	    {"item_id": 12, "product_type": "downloadable", "sku": "240-LV08", "qty_ordered": 1, "is_virtual": 1}
	  ],
	  "extension_attributes": {"shipping_assignments": [{"shipping": {"method": "ups_GND", "address": {
	    "firstname": "Jane", "lastname": "Doe", "street": ["123 Oak Ave"], "city": "Purchase",
	    "region_code": "NY", "postcode": "10577", "country_id": "US"}}}]}
	}`)
	res, err := magento.OrderFromREST(body, "us-store", magento.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	o := res.Order
	fmt.Println(res.ExternalID, res.UpdatedAt, o.OrderNumber, o.Shipping.Carrier, o.Shipping.ServiceLevel)
	for _, l := range o.Lines {
		fmt.Println(l.LineNumber, l.SKU, l.Quantity, l.UnitPrice.Amount)
	}

	// Without a SKU or a shipping address the order is an error naming the
	// places in the body.
	_, err = magento.OrderFromREST(
		[]byte(`{"entity_id": 4, "state": "processing", "items": [{"item_id": 2, "qty_ordered": 1}]}`),
		"us-store", magento.Options{})
	fmt.Println(errors.Is(err, magento.ErrMissingSKU), errors.Is(err, magento.ErrNoShippingAddress))
	fmt.Println(err)
	// Output:
	// 3 2026-11-21 08:02:17 +0000 UTC 000000003 UPS ground
	// 10 MH01-S-Gray 2 52
	// true true
	// items[0].sku: item 2 has no SKU
	// extension_attributes.shipping_assignments[0].shipping.address: an order with shippable items needs a shipping address
}
