package ups_test

import (
	"context"
	"fmt"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/ups"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	upssim "github.com/paklog/integration-hub/fixtures/carriersim/ups"
)

// Buying a ZPL label from the UPS simulator, then finding it again by its
// reference, as the reconciler does after an ambiguous Ship.
func ExampleClient_Ship() {
	sim := upssim.New(upssim.Options{})
	srv, err := carriersim.Start(sim.Handler())
	if err != nil {
		panic(err)
	}
	defer srv.Close()

	c, err := ups.New(ups.Config{
		BaseURL:       srv.URL,
		ClientID:      upssim.DefaultClientID,
		ClientSecret:  upssim.DefaultClientSecret,
		AccountNumber: upssim.DefaultAccountNumber,
	}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	label, err := c.Ship(ctx, carriers.ShipRequest{
		RequestID: "550e8400-e29b-41d4-a716-446655440000",
		Reference: "ORDER-1001",
		Service:   "03", // Ground
		Format:    canonical.LabelZPL,
		From:      canonical.Address{Company: "PakLog DC", Address1: "55 Glenlake Pkwy", City: "Atlanta", Region: "GA", PostalCode: "30328", Country: "US"},
		To:        canonical.Address{Name: "Ada Lovelace", Address1: "10 Hudson Yards", City: "New York", Region: "NY", PostalCode: "10001", Country: "US"},
		Weight:    canonical.Weight{Value: 2, Unit: canonical.Pound},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(label.TrackingNumber, label.Format, label.Cost.Amount, label.Cost.Currency)

	found, err := c.Lookup(ctx, carriers.LookupRequest{Reference: "ORDER-1001"})
	if err != nil {
		panic(err)
	}
	fmt.Println(found[0].TrackingNumber == label.TrackingNumber)
	// Output:
	// 1ZA1B2C30300000012 ZPL 10.80 USD
	// true
}
