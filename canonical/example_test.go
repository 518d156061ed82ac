package canonical_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

func Example() {
	// A document from outside is checked against its schema, and every
	// problem is reported at once.
	doc := []byte(`{
	  "schema": "paklog.order.v1",
	  "order_id": "ord_01J9ZK3M4N5P6Q7R8S9T0VWXYZ",
	  "source": {"channel": "api", "partner": "acme", "external_id": "A-1001",
	             "received_at": "2024-10-14T15:04:05Z"},
	  "ship_to": {"name": "Dana Whitfield", "address1": "1200 Market St",
	              "city": "San Francisco", "region": "CA", "country": "usa"},
	  "lines": [
	    {"line_number": "1", "sku": "TENT-2P-GRN", "quantity": 1},
	    {"line_number": "2", "sku": "ROPE-10M", "quantity": 0}
	  ]
	}`)
	_, err := canonical.DecodeOrder(doc)
	var problems canonical.Problems
	if errors.As(err, &problems) {
		for _, p := range problems {
			fmt.Println(p)
		}
	}

	// A transform builds the message in Go and validates it before
	// publishing it.
	order := canonical.Order{
		OrderID: "ord_01J9ZK3M4N5P6Q7R8S9T0VWXYZ", // canonical.NewOrderID() for a new order
		Source: canonical.Source{
			Channel:    canonical.ChannelAPI,
			Partner:    "acme",
			ExternalID: "A-1001",
			ReceivedAt: time.Date(2024, 10, 14, 15, 4, 5, 0, time.UTC),
		},
		ShipTo: canonical.Address{Name: "Dana Whitfield", Address1: "1200 Market St",
			City: "San Francisco", Region: "CA", Country: "US"},
		Shipping: canonical.Shipping{ServiceLevel: canonical.ServiceTwoDay},
		Lines: []canonical.Line{{LineNumber: "1", SKU: "TENT-2P-GRN", Quantity: 1,
			UOM: canonical.UnitEach, UnitPrice: canonical.Money{Amount: "249.00", Currency: "USD"}}},
	}
	fmt.Println("valid:", order.Validate() == nil)
	out, _ := json.Marshal(order.Lines[0])
	fmt.Println(string(out))
	// Output:
	// lines[1].quantity: must be > 0
	// ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "usa"
	// valid: true
	// {"line_number":"1","sku":"TENT-2P-GRN","quantity":1,"uom":"EA","unit_price":{"amount":"249.00","currency":"USD"}}
}
