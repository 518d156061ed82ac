package confirm

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/magento"
	"github.com/paklog/integration-hub/connectors/shopify"
	"github.com/paklog/integration-hub/internal/fault"
)

// maxConfirm caps the ship confirm a job carries (it was validated on the way in).
const maxConfirm = 4 << 20

func readConfirm(r io.Reader) (canonical.ShipConfirm, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxConfirm))
	if err != nil {
		return canonical.ShipConfirm{}, err
	}
	sc, err := canonical.DecodeShipConfirm(b)
	if err != nil {
		return sc, fault.AsPermanent(fmt.Errorf("the job's ship confirm: %w", err))
	}
	return sc, nil
}

// Shopify sends shipments back to one shop as fulfilments.
type Shopify struct {
	Client *shopify.Client
	// TrackingURL builds the tracking page of a number (optional; Shopify builds one
	// for the carriers it knows).
	TrackingURL func(carrier, number string) string
}

// Via is "shopify".
func (Shopify) Via() string { return "shopify" }

// Put makes one fulfilment per package of the ship confirm read from r, on Shopify
// order name (its numeric id): the package's lines, or everything left when the
// package does not list them. Each fulfilment is found by its tracking number before
// it is made, so a retry after a timeout never makes a second one.
func (t Shopify) Put(ctx context.Context, name string, r io.Reader) (string, error) {
	orderID, err := strconv.ParseInt(name, 10, 64)
	if err != nil {
		return "", fault.AsPermanent(fmt.Errorf("shopify order id %q is not a number", name))
	}
	sc, err := readConfirm(r)
	if err != nil {
		return "", err
	}
	if len(sc.Packages) == 0 {
		return "", fault.AsPermanent(fmt.Errorf("shipment %s lists no packages: nothing to fulfil", sc.ShipmentID))
	}
	var made []string
	for _, p := range sc.Packages {
		var lines []shopify.FulfilLine
		for _, l := range p.Lines {
			id, _ := strconv.ParseInt(l.LineNumber, 10, 64)
			q := l.Quantity
			if q <= 0 || q != math.Trunc(q) {
				return "", fault.AsPermanent(fmt.Errorf("package %s line %s: quantity %v is not a whole number Shopify can fulfil", p.PackageID, l.LineNumber, l.Quantity))
			}
			lines = append(lines, shopify.FulfilLine{LineItemID: id, SKU: l.SKU, Quantity: int64(q)})
		}
		tr := shopify.Tracking{Company: shopifyCarrier(sc.Carrier), Number: p.TrackingNumber}
		if t.TrackingURL != nil {
			tr.URL = t.TrackingURL(sc.Carrier, p.TrackingNumber)
		}
		f, err := t.Client.CreateFulfillment(ctx, orderID, tr, lines)
		if err != nil {
			return strings.Join(made, ","), shopifyFault(err)
		}
		made = append(made, f.ID)
	}
	return strings.Join(made, ","), nil
}

// shopifyCarrier is the carrier as Shopify names it ("UPS", "FedEx", "USPS").
func shopifyCarrier(c string) string {
	switch strings.ToLower(c) {
	case "ups":
		return "UPS"
	case "fedex":
		return "FedEx"
	case "usps":
		return "USPS"
	case "dhl":
		return "DHL Express"
	}
	return c
}

func shopifyFault(err error) error {
	if shopify.ClassOf(err) == shopify.Permanent {
		return fault.AsPermanent(err)
	}
	return fault.AsTransient(err)
}

// Magento sends shipments back to one store as Magento shipments.
type Magento struct {
	Client *magento.Client
	// Notify asks Magento to e-mail the customer.
	Notify bool
}

// Via is "magento".
func (Magento) Via() string { return "magento" }

// Put creates one Magento shipment for the ship confirm read from r, on order name
// (its entity_id), with every package's tracking number and the lines the packages
// list (order item ids; everything left when none lists its lines). Magento's ship
// endpoint is not idempotent: Ship looks for a shipment carrying our tracking
// numbers before every attempt.
func (t Magento) Put(ctx context.Context, name string, r io.Reader) (string, error) {
	orderID, err := strconv.ParseInt(name, 10, 64)
	if err != nil {
		return "", fault.AsPermanent(fmt.Errorf("magento order id %q is not a number", name))
	}
	sc, err := readConfirm(r)
	if err != nil {
		return "", err
	}
	req := magento.ShipRequest{Notify: t.Notify}
	qty := map[int64]float64{}
	var order []int64
	for _, p := range sc.Packages {
		if p.TrackingNumber != "" {
			req.Tracks = append(req.Tracks, magento.Track{TrackNumber: p.TrackingNumber, Title: sc.Carrier, CarrierCode: magentoCarrier(sc.Carrier)})
		}
		for _, l := range p.Lines {
			id, err := strconv.ParseInt(l.LineNumber, 10, 64)
			if err != nil {
				return "", fault.AsPermanent(fmt.Errorf("package %s line %q is not a Magento order item id", p.PackageID, l.LineNumber))
			}
			if _, seen := qty[id]; !seen {
				order = append(order, id)
			}
			qty[id] += l.Quantity
		}
	}
	for _, id := range order {
		req.Items = append(req.Items, magento.ShipItem{OrderItemID: id, Qty: qty[id]})
	}
	res, err := t.Client.Ship(ctx, orderID, req)
	if err != nil {
		switch magento.ClassOf(err) {
		case magento.Permanent, magento.Auth:
			return "", fault.AsPermanent(err)
		}
		return "", fault.AsTransient(err)
	}
	return fmt.Sprintf("shipment %d", res.ShipmentID), nil
}

// magentoCarrier is Magento's carrier code of a carrier name.
func magentoCarrier(c string) string {
	switch l := strings.ToLower(c); l {
	case "ups", "fedex", "usps", "dhl":
		return l
	}
	return "custom"
}
