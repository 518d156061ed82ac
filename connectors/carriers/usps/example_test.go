package usps_test

import (
	"context"
	"fmt"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/usps"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	uspssim "github.com/paklog/integration-hub/fixtures/carriersim/usps"
)

// A Ground Advantage label from the simulator, then its cancellation.
func ExampleClient_Ship() {
	sim := uspssim.New(uspssim.Options{})
	srv, err := carriersim.Start(sim.Handler())
	if err != nil {
		panic(err)
	}
	defer srv.Close()
	o := sim.Options()
	c, err := usps.New(usps.Config{
		BaseURL: srv.URL, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		CRID: o.CRID, MID: o.MID, AccountNumber: o.AccountNumber,
	}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	label, err := c.Ship(ctx, carriers.ShipRequest{
		RequestID:  "0b8f3a52-6f1e-4c8e-9d3a-2f4b5c6d7e8f",
		Reference:  "ORDER-1001",
		Service:    "USPS_GROUND_ADVANTAGE",
		Format:     canonical.LabelPDF,
		From:       canonical.Address{Company: "PakLog", Address1: "1200 Logistics Pkwy", City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US"},
		To:         canonical.Address{Name: "Joe Doe", Address1: "1100 Wyoming St", City: "St. Louis", Region: "Missouri", PostalCode: "63118", Country: "US"},
		Weight:     canonical.Weight{Value: 24, Unit: canonical.Ounce},
		Dimensions: canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch},
		ShipDate:   time.Now(),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(label.TrackingNumber[:5], len(label.TrackingNumber), label.Format, string(label.Data[:5]))
	fmt.Println(c.Void(ctx, carriers.VoidRequest{TrackingNumber: label.TrackingNumber}))
	// Output:
	// 92001 22 PDF %PDF-
	// <nil>
}
