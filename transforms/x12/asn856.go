package x12

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// WriteASN856 writes one 856 ship notice (version 004010, hierarchical
// structure 0001: shipment, order, pack, item) for a ship confirm and the
// order it ships, as transaction set setControl (ST02) inside the
// interchange and group the caller has opened on w (GS01 "SH"): the hub
// keeps the partner's control numbers. See the package documentation for
// the mapping.
//
// Problems of the input are returned together, as an edi/x12 ErrorList of
// *OutputError, and nothing is written; a value holding one of w's
// delimiters is refused (edi/x12 ErrDelimiterInData) before anything is
// written too.
func WriteASN856(w *edi.Writer, setControl string, c canonical.ShipConfirm, o canonical.Order, opts OutboundOptions) error {
	opts = opts.withDefaults()
	out := &output{set: "856"}
	out.checkClock(opts, "BSN", 3)
	if c.ShipmentID == "" {
		out.fail("BSN", 2, "shipment_id", ErrMissingElement, "shipment_id is empty")
	}
	if len(o.Lines) == 0 {
		out.fail("LIN", 0, "lines", ErrNoLines, "order %s has no lines", quote(o.OrderNumber))
	}
	lines := out.shippedLines(c, o)
	listed := false
	for _, p := range c.Packages {
		listed = listed || len(p.Lines) > 0
	}
	switch {
	case len(c.Packages) == 0:
		out.fail("HL", 0, "packages", ErrNoPackages, "the ship confirm has no packages")
	case !listed && len(c.Packages) > 1:
		out.fail("HL", 0, "packages", ErrNoPackages, "%d packages and none lists its lines: the 856 cannot say what is in which package", len(c.Packages))
	}
	for i, p := range c.Packages {
		if p.TrackingNumber == "" && opts.packageDetail(p).SSCC == "" {
			out.fail("MAN", 2, fmt.Sprintf("packages[%d].tracking_number", i), ErrMissingElement, "package %s has neither a tracking number nor an SSCC", quote(p.PackageID))
		}
	}
	if len(out.errs) > 0 {
		return out.errs
	}

	date, hm := stamp(opts.Now, opts.Location)
	out.add("BSN", "00", c.ShipmentID, date, hm, "0001")

	hl := 0
	level := func(parent int, code string, children bool) int {
		hl++
		p := ""
		if parent > 0 {
			p = strconv.Itoa(parent)
		}
		out.add("HL", strconv.Itoa(hl), p, code, boolCode(children))
		return hl
	}

	// Shipment.
	s := level(0, "S", true)
	weight, wUOM, hasWeight := opts.totalWeight(c)
	if hasWeight {
		out.add("TD1", opts.PackagingCode, strconv.Itoa(len(c.Packages)), "", "", "", "G", weight, wUOM)
	} else {
		out.add("TD1", opts.PackagingCode, strconv.Itoa(len(c.Packages)))
	}
	scac := opts.scac(c.Carrier, o)
	routing := c.Service
	if scac == "" {
		// No SCAC: the carrier's name goes into the routing text.
		routing = strings.TrimSpace(c.Carrier + " " + c.Service)
	}
	td5 := []string{"B", "", "", opts.transportMethod(o), routing}
	if scac != "" {
		td5[1], td5[2] = "2", scac
	}
	out.add("TD5", td5...)
	if opts.BillOfLading != "" {
		out.add("REF", "BM", opts.BillOfLading)
	}
	if t := c.Packages[0].TrackingNumber; t != "" {
		out.add("REF", "CN", t)
	}
	if !c.ShippedAt.IsZero() {
		d, t := stamp(c.ShippedAt, opts.Location)
		out.add("DTM", "011", d, t)
	}
	out.partyLoop("ST", o.ShipTo, opts.ShipToIDQualifier, o.Attributes["party_st_id"])
	if !opts.Warehouse.empty() {
		out.partyLoop(opts.ShipFromEntity, opts.Warehouse.Address, opts.Warehouse.IDQualifier, opts.Warehouse.ID)
	}

	// Order.
	ord := level(s, "O", true)
	po := o.PurchaseOrder
	if po == "" {
		po = o.OrderNumber
	}
	out.add("PRF", po, "", "", x12Date(o.OrderDate))

	// Packs and items.
	for _, p := range c.Packages {
		refs := p.Lines
		if !listed {
			// One package, contents not listed: everything shipped is in it.
			refs = nil
			for _, l := range lines {
				if l.quantity > 0 {
					refs = append(refs, canonical.LineRef{LineNumber: l.line.LineNumber, SKU: l.line.SKU, Quantity: l.quantity})
				}
			}
		}
		pk := level(ord, "P", len(refs) > 0)
		if sscc := opts.packageDetail(p).SSCC; sscc != "" {
			out.add("MAN", "GM", sscc)
		} else {
			out.add("MAN", "CP", p.TrackingNumber)
		}
		for _, r := range refs {
			l := lines[findLine(o, r.LineNumber, r.SKU)]
			level(pk, "I", false)
			out.lin(l.line)
			sn1 := []string{"", num(r.Quantity), uom(l.line)}
			if l.short != nil {
				sn1 = append(sn1, "", num(l.ordered), uom(l.line), "", opts.ShortLineStatus)
			}
			out.add("SN1", sn1...)
		}
	}
	out.add("CTT", strconv.Itoa(hl))
	return out.write(w, setControl)
}

func boolCode(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func uom(l canonical.Line) string {
	if l.UOM == "" {
		return canonical.UnitEach
	}
	return l.UOM
}

// lin writes the LIN of an item: LIN01 the order line number, then the
// pairs VP vendor item, BP buyer item, UP UPC; SK SKU when none of them is
// known.
func (out *output) lin(l canonical.Line) {
	els := []string{l.LineNumber}
	els = append(els, itemPairs(l, "VP")...)
	out.add("LIN", els...)
}

// itemPairs returns the product ID qualifier/ID pairs of a line: vendor
// item (with vendorQual), BP buyer item, UP UPC, or SK SKU alone.
func itemPairs(l canonical.Line, vendorQual string) []string {
	var els []string
	for _, p := range [][2]string{{vendorQual, l.VendorItem}, {"BP", l.BuyerItem}, {"UP", l.UPC}} {
		if p[1] != "" {
			els = append(els, p[0], p[1])
		}
	}
	if len(els) == 0 {
		els = []string{"SK", l.SKU}
	}
	return els
}
