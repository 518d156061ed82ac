package x12

import (
	"strconv"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// WriteShipAdvice945 writes one 945 warehouse shipping advice (version
// 004010) for a ship confirm and the order (usually from a 940) it ships,
// as transaction set setControl inside the interchange and group the
// caller has opened on w (GS01 "SW"). Every order line gets an LX/W12,
// lines that shipped nothing included. Errors are as for WriteASN856.
func WriteShipAdvice945(w *edi.Writer, setControl string, c canonical.ShipConfirm, o canonical.Order, opts OutboundOptions) error {
	opts = opts.withDefaults()
	out := &output{set: "945"}
	out.checkClock(opts, "", 0)
	if o.OrderNumber == "" {
		out.fail("W06", 2, "order_number", ErrMissingElement, "the order has no order_number (the depositor order number)")
	}
	if c.ShipmentID == "" {
		out.fail("W06", 4, "shipment_id", ErrMissingElement, "shipment_id is empty")
	}
	if c.ShippedAt.IsZero() {
		out.fail("G62", 2, "shipped_at", ErrMissingElement, "shipped_at is empty")
	}
	if len(o.Lines) == 0 {
		out.fail("W12", 0, "lines", ErrNoLines, "order %s has no lines", quote(o.OrderNumber))
	}
	lines := out.shippedLines(c, o)
	if len(out.errs) > 0 {
		return out.errs
	}

	date, _ := stamp(c.ShippedAt, opts.Location)
	out.add("W06", "F", o.OrderNumber, date, c.ShipmentID, "", o.PurchaseOrder, opts.BillOfLading)
	out.partyLoop("ST", o.ShipTo, opts.ShipToIDQualifier, o.Attributes["party_st_id"])
	if !opts.Warehouse.empty() {
		out.partyLoop(opts.WarehouseEntity, opts.Warehouse.Address, opts.Warehouse.IDQualifier, opts.Warehouse.ID)
	}
	out.add("G62", "11", date)
	scac := opts.scac(c.Carrier, o)
	routing := c.Service
	if scac == "" {
		routing = joinNonEmpty(c.Carrier, c.Service)
	}
	out.add("W27", opts.transportMethod(o), scac, routing)

	var units float64
	for i, l := range lines {
		out.add("LX", strconv.Itoa(i+1))
		status := "CC"
		if l.short != nil || l.quantity < l.ordered {
			status = "CP"
		}
		upc := ""
		if len(l.line.UPC) == 12 {
			upc = l.line.UPC // W1206 is the 12-digit U.P.C. case code
		}
		qual, id := "VN", l.line.VendorItem
		if id == "" {
			qual, id = "SK", l.line.SKU
		}
		diff := l.ordered - l.quantity
		out.add("W12", status, num(l.ordered), num(l.quantity), num(diff), uom(l.line), upc, qual, id)
		units += l.quantity
	}
	if weight, wUOM, ok := opts.totalWeight(c); ok {
		out.add("W03", num(units), weight, wUOM)
	} else {
		out.add("W03", num(units))
	}
	return out.write(w, setControl)
}

func joinNonEmpty(vs ...string) string {
	s := ""
	for _, v := range vs {
		if v == "" {
			continue
		}
		if s != "" {
			s += " "
		}
		s += v
	}
	return s
}
