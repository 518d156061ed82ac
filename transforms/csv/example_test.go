package csv_test

import (
	"fmt"
	"io"
	"strings"

	"github.com/paklog/integration-hub/transforms/csv"
)

func Example() {
	file := strings.NewReader(`order_number,ship_to_name,ship_to_address1,ship_to_city,ship_to_country,sku,quantity
SO-1,Dana Whitfield,1200 Market St,San Francisco,US,TENT-2P-GRN,1
SO-1,,,,,STOVE-TI-1,2
SO-2,Ben Okafor,400 Front St W,Toronto,CA,BAG-35L-BLK,4x
SO-3,Olivia Bennett,14 Aldersgate St,London,GB,JACKET-RAIN-W-S,1
`)
	r, err := csv.NewReader(file, csv.Config{Partner: "acme"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if b.Order == nil {
			for _, e := range b.Errors {
				fmt.Println("rejected:", e)
			}
			continue
		}
		fmt.Printf("order %s: %d line(s) to %s, lines %d-%d\n", b.Order.OrderNumber, len(b.Order.Lines), b.Order.ShipTo.Country, b.FirstLine, b.LastLine)
	}
	// Output:
	// order SO-1: 2 line(s) to US, lines 2-3
	// rejected: line 4, column quantity: "4x" is not a number
	// order SO-3: 1 line(s) to GB, lines 5-5
}
