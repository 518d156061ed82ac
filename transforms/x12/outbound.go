package x12

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// Sentinel errors of the outbound sets (856, 945, 855, 846). Every problem
// is an *OutputError that unwraps to one of these, or to ErrMissingElement,
// ErrNoLines or ErrQuantity.
var (
	// ErrNoClock: OutboundOptions.Now is zero. The mappings never read the
	// system clock: the caller passes the document's creation time.
	ErrNoClock = errors.New("x12 translation: no document time (OutboundOptions.Now)")
	// ErrUnknownLine: a shipped or short line names no line of the order.
	ErrUnknownLine = errors.New("x12 translation: line not in the order")
	// ErrNoPackages: a ship confirm without packages, or with several
	// packages none of which lists its lines, so that the 856 cannot say
	// what is in which package.
	ErrNoPackages = errors.New("x12 translation: packages missing or without contents")
)

// OutputError is one problem found writing a set from canonical messages:
// the canonical field that is wrong and the X12 element it would fill.
// Error reads like
//
//	856 BSN02: shipment_id: shipment_id is empty
//	856: packages[1].lines[1]: line_number "7" (sku "STAKE-AL") is not a line of order "PO-7781"
type OutputError struct {
	SetID     string // "856"
	SegmentID string // the segment being built, e.g. "SN1"
	Element   int    // 1-based element, 0 for the whole segment
	// Field is the canonical field as a JSON path ("packages[0].lines[1]").
	Field  string
	Value  string
	Detail string
	Err    error // the sentinel
}

func (e *OutputError) Error() string {
	var b strings.Builder
	b.WriteString(e.SetID)
	if e.SegmentID != "" {
		b.WriteString(" " + e.SegmentID)
		if e.Element > 0 {
			fmt.Fprintf(&b, "%02d", e.Element)
		}
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

func (e *OutputError) Unwrap() error { return e.Err }

// Party is a party of an outbound set that the canonical messages do not
// carry, such as the warehouse: an address and an N103/N104 identification.
type Party struct {
	Address canonical.Address `json:"address,omitzero" yaml:"address,omitempty"`
	// IDQualifier is N103 (code list 66), e.g. "92" assigned by buyer,
	// "9" DUNS+4, "ZZ" mutually defined. Default "92" when ID is set.
	IDQualifier string `json:"id_qualifier,omitempty" yaml:"id_qualifier,omitempty"`
	ID          string `json:"id,omitempty" yaml:"id,omitempty"` // N104
}

// PackageDetail is what the 856 and 945 can say of a package beyond the
// ship confirm: its SSCC-18 (the GS1-128 label's serial shipping container
// code) and weight.
type PackageDetail struct {
	// SSCC is the 18-digit serial shipping container code (without the
	// "00" application identifier); it becomes MAN GM in the 856.
	SSCC   string           `json:"sscc,omitempty"`
	Weight canonical.Weight `json:"weight,omitzero"`
}

// LineAck is the 855 status of one order line (ACK01, code list 668).
type LineAck struct {
	// Status is ACK01: IA accepted (the default), IR rejected, IB
	// backordered, IQ quantity changed, ID deleted, IS substitution…
	Status string `json:"status"`
	// Quantity is ACK02; nil means the ordered quantity, or 0 for the
	// rejecting codes (IR, ID, R1-R4).
	Quantity *float64 `json:"quantity,omitempty"`
	// Date is ACK05, the scheduled ship date (ACK04 "068"), if given.
	Date canonical.Date `json:"date,omitempty"`
}

// OutboundOptions are the partner configuration and the per-document data
// of an outbound set. Partner fields (the ones with JSON tags) come from
// the configuration, like Options; Now, Location, Packages and LineAcks
// are given per document by the caller.
type OutboundOptions struct {
	// Now is the document's creation time: BSN03/BSN04, BAK09, the 846
	// BIA when the advice has no as_of. Required; the mappings never read
	// the system clock.
	Now time.Time `json:"-"`
	// Location is the time zone of the dates and times written (BSN03,
	// DTM 011, G62 11, W0603). Default UTC.
	Location *time.Location `json:"-"`
	// Packages gives the SSCC and weight of packages, keyed by the ship
	// confirm's package_id or tracking_number.
	Packages map[string]PackageDetail `json:"-"`
	// LineAcks sets the 855 status of order lines, keyed by line_number;
	// lines not listed are accepted (IA) in full.
	LineAcks map[string]LineAck `json:"-"`
	// BillOfLading is REF BM in the 856 and W0607 in the 945, if any.
	BillOfLading string `json:"-"`

	// Warehouse is the ship-from: N1 SF in the 856, N1 WH in the 945.
	// Nothing is written when it is empty.
	Warehouse Party `json:"warehouse,omitzero" yaml:"warehouse,omitempty"`
	// ShipFromEntity is N101 of the warehouse loop in the 856. Default "SF".
	ShipFromEntity string `json:"ship_from_entity,omitempty" yaml:"ship_from_entity,omitempty"`
	// WarehouseEntity is N101 of the warehouse loop in the 945. Default "WH".
	WarehouseEntity string `json:"warehouse_entity,omitempty" yaml:"warehouse_entity,omitempty"`
	// ShipToIDQualifier is N103 written before the ship-to's N104 (the
	// order's attributes.party_st_id, the store number the partner sent).
	// Default "92".
	ShipToIDQualifier string `json:"ship_to_id_qualifier,omitempty" yaml:"ship_to_id_qualifier,omitempty"`
	// SCACs maps the ship confirm's carrier name to its SCAC (TD503,
	// W2702); merged over DefaultSCACs.
	SCACs map[string]string `json:"scacs,omitempty" yaml:"scacs,omitempty"`
	// TransportMethod is TD504/W2701 (code list 91) when the order has no
	// attributes.transport_method. Default "U" (private parcel service).
	TransportMethod string `json:"transport_method,omitempty" yaml:"transport_method,omitempty"`
	// PackagingCode is TD101 (e.g. "CTN25" corrugated carton). Default
	// "CTN25".
	PackagingCode string `json:"packaging_code,omitempty" yaml:"packaging_code,omitempty"`
	// ShortLineStatus is SN108 (code list 668) on 856 items of short
	// lines, e.g. "BP" (partial shipment, balance backordered). Default
	// empty: short lines carry their ordered quantity in SN105/SN106 only.
	ShortLineStatus string `json:"short_line_status,omitempty" yaml:"short_line_status,omitempty"`
	// InventoryReportType is BIA02 (code list 755). Default "DD"
	// (distributor inventory report).
	InventoryReportType string `json:"inventory_report_type,omitempty" yaml:"inventory_report_type,omitempty"`
	// WarehouseIDQualifier is N103 of the 846 N1 WH loops, before the
	// item's warehouse code. Default "ZZ" (mutually defined).
	WarehouseIDQualifier string `json:"warehouse_id_qualifier,omitempty" yaml:"warehouse_id_qualifier,omitempty"`
}

// DefaultSCACs maps carrier names, as the ship confirm gives them, to
// SCACs.
var DefaultSCACs = map[string]string{
	"UPS": "UPSN", "FEDEX": "FDEG", "FEDEX GROUND": "FDEG", "FEDEX EXPRESS": "FDEN",
	"USPS": "USPS", "DHL": "DHLC",
}

func (o OutboundOptions) withDefaults() OutboundOptions {
	str := func(v, def string) string {
		if v = strings.ToUpper(strings.TrimSpace(v)); v == "" {
			return def
		}
		return v
	}
	o.ShipFromEntity = str(o.ShipFromEntity, "SF")
	o.WarehouseEntity = str(o.WarehouseEntity, "WH")
	o.ShipToIDQualifier = str(o.ShipToIDQualifier, "92")
	o.TransportMethod = str(o.TransportMethod, "U")
	o.PackagingCode = str(o.PackagingCode, "CTN25")
	o.ShortLineStatus = str(o.ShortLineStatus, "")
	o.InventoryReportType = str(o.InventoryReportType, "DD")
	o.WarehouseIDQualifier = str(o.WarehouseIDQualifier, "ZZ")
	scacs := maps.Clone(DefaultSCACs)
	for k, v := range o.SCACs {
		scacs[normKey(k)] = strings.ToUpper(strings.TrimSpace(v))
	}
	o.SCACs = scacs
	if o.Location == nil {
		o.Location = time.UTC
	}
	return o
}

// FunctionalID returns the GS01 functional identifier of a set this
// package writes or reads: "SH" for the 856, "SW" 945, "PR" 855, "IB" 846,
// "PO" 850, "OW" 940; "" for others.
func FunctionalID(setID string) string {
	return map[string]string{"856": "SH", "945": "SW", "855": "PR", "846": "IB", "850": "PO", "940": "OW"}[setID]
}

// segment is one segment to write.
type segment struct {
	id  string
	els []string
}

// output collects the segments of one outbound set and its problems; the
// set is written only when there are none.
type output struct {
	set  string
	segs []segment
	errs edi.ErrorList
}

func (out *output) add(id string, els ...string) { out.segs = append(out.segs, segment{id, els}) }

func (out *output) fail(seg string, elem int, field string, sentinel error, format string, args ...any) {
	out.errs = append(out.errs, &OutputError{SetID: out.set, SegmentID: seg, Element: elem, Field: field, Detail: fmt.Sprintf(format, args...), Err: sentinel})
}

// write writes the set into w: nothing when problems were found (they are
// returned as an edi ErrorList of *OutputError); otherwise the segments
// are first written to a scratch writer with w's delimiters, so that a
// value holding a delimiter (ErrDelimiterInData) is refused before
// anything reaches w. Only an I/O error of w can leave a partial set.
func (out *output) write(w *edi.Writer, control string) error {
	if len(out.errs) > 0 {
		return out.errs
	}
	scratch, err := edi.NewWriter(io.Discard, w.Delimiters())
	if err != nil {
		return err
	}
	for _, s := range out.segs {
		if err := scratch.Write(s.id, s.els...); err != nil {
			return fmt.Errorf("writing %s set %s: %w", out.set, control, err)
		}
	}
	if err := w.BeginSet(&edi.TransactionSet{ID: out.set, ControlNumber: control}); err != nil {
		return err
	}
	for _, s := range out.segs {
		if err := w.Write(s.id, s.els...); err != nil {
			return err
		}
	}
	return w.EndSet()
}

// num formats a quantity or weight as an X12 R value: no exponent, no
// trailing zeros, rounded to 6 decimals so that float noise (1.5 - 1.2)
// does not become 17 digits.
func num(f float64) string {
	f = math.Round(f*1e6) / 1e6
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// x12Date returns CCYYMMDD of a canonical date ("" for the zero date).
func x12Date(d canonical.Date) string { return strings.ReplaceAll(string(d), "-", "") }

// partyLoop writes an N1 loop: N1, N2 (company, when a name is also
// there), N3 and N4. N102 is the name, else the company.
func (out *output) partyLoop(code string, a canonical.Address, idQual, id string) {
	name, company := a.Name, a.Company
	if name == "" {
		name, company = company, ""
	}
	if id != "" && idQual == "" {
		idQual = "92"
	}
	if id == "" {
		idQual = ""
	}
	out.add("N1", code, name, idQual, id)
	if company != "" {
		out.add("N2", company)
	}
	if a.Address1 != "" || a.Address2 != "" {
		out.add("N3", a.Address1, a.Address2)
	}
	if a.City != "" || a.Region != "" || a.PostalCode != "" || a.Country != "" {
		out.add("N4", a.City, a.Region, a.PostalCode, a.Country)
	}
}

func (p Party) empty() bool { return p.Address == canonical.Address{} && p.ID == "" }

// scac returns the SCAC for the ship confirm's carrier: the partner's
// table, the defaults, the order's own SCAC when the carriers agree, or
// the carrier itself when it looks like a SCAC (2 to 4 letters).
func (o OutboundOptions) scac(carrier string, ord canonical.Order) string {
	k := normKey(carrier)
	if s, ok := o.SCACs[k]; ok {
		return s
	}
	if ord.Shipping.SCAC != "" && (k == "" || normKey(ord.Shipping.Carrier) == k || normKey(ord.Shipping.SCAC) == k) {
		return strings.ToUpper(ord.Shipping.SCAC)
	}
	if n := len(k); n >= 2 && n <= 4 && strings.IndexFunc(k, func(r rune) bool { return r < 'A' || r > 'Z' }) < 0 {
		return k
	}
	return ""
}

// transportMethod is TD504/W2701: the order's own, else the partner's.
func (o OutboundOptions) transportMethod(ord canonical.Order) string {
	if m := strings.ToUpper(strings.TrimSpace(ord.Attributes["transport_method"])); m != "" {
		return m
	}
	return o.TransportMethod
}

// shipped is what shipped of one order line, across packages.
type shipped struct {
	idx      int // index in the order's lines
	line     canonical.Line
	ordered  float64
	quantity float64
	short    *canonical.ShortLine
}

// findLine returns the index of the order line a shipped or short line
// names: by line number, else by SKU.
func findLine(o canonical.Order, number, sku string) int {
	if number != "" {
		for i, l := range o.Lines {
			if l.LineNumber == number {
				return i
			}
		}
		return -1
	}
	for i, l := range o.Lines {
		if sku != "" && l.SKU == sku {
			return i
		}
	}
	return -1
}

// shortLines indexes the ship confirm's short lines by order line index,
// reporting the ones that name no line.
func (out *output) shortLines(c canonical.ShipConfirm, o canonical.Order) map[int]*canonical.ShortLine {
	m := map[int]*canonical.ShortLine{}
	for i := range c.LinesShort {
		s := &c.LinesShort[i]
		idx := findLine(o, s.LineNumber, s.SKU)
		if idx < 0 {
			out.fail("", 0, fmt.Sprintf("lines_short[%d]", i), ErrUnknownLine, "line_number %s (sku %s) is not a line of order %s", quote(s.LineNumber), quote(s.SKU), quote(o.OrderNumber))
			continue
		}
		if s.QuantityShipped < 0 || s.QuantityShipped > s.QuantityOrdered {
			out.fail("", 0, fmt.Sprintf("lines_short[%d]", i), ErrQuantity, "quantity_shipped %s is not between 0 and quantity_ordered %s", num(s.QuantityShipped), num(s.QuantityOrdered))
		}
		m[idx] = s
	}
	return m
}

// shippedLines returns what shipped of every order line, in order: from
// the packages' lines when any package lists them, else the ordered
// quantity less what lines_short says is short.
func (out *output) shippedLines(c canonical.ShipConfirm, o canonical.Order) []shipped {
	short := out.shortLines(c, o)
	lines := make([]shipped, len(o.Lines))
	listed := false
	for i, l := range o.Lines {
		lines[i] = shipped{idx: i, line: l, ordered: l.Quantity, short: short[i]}
		if s := short[i]; s != nil && s.QuantityOrdered > 0 {
			lines[i].ordered = s.QuantityOrdered
		}
	}
	for p, pkg := range c.Packages {
		for j, r := range pkg.Lines {
			listed = true
			idx := findLine(o, r.LineNumber, r.SKU)
			if idx < 0 {
				out.fail("", 0, fmt.Sprintf("packages[%d].lines[%d]", p, j), ErrUnknownLine, "line_number %s (sku %s) is not a line of order %s", quote(r.LineNumber), quote(r.SKU), quote(o.OrderNumber))
				continue
			}
			if r.Quantity <= 0 {
				out.fail("", 0, fmt.Sprintf("packages[%d].lines[%d].quantity", p, j), ErrQuantity, "quantity %s is not positive", num(r.Quantity))
			}
			lines[idx].quantity += r.Quantity
		}
	}
	if !listed {
		for i := range lines {
			lines[i].quantity = lines[i].ordered
			if s := lines[i].short; s != nil {
				lines[i].quantity = s.QuantityShipped
			}
		}
	}
	return lines
}

// packageDetail returns the detail the options give for a package.
func (o OutboundOptions) packageDetail(p canonical.ShippedPackage) PackageDetail {
	if d, ok := o.Packages[p.PackageID]; ok && p.PackageID != "" {
		return d
	}
	if d, ok := o.Packages[p.TrackingNumber]; ok && p.TrackingNumber != "" {
		return d
	}
	return PackageDetail{}
}

// weightUOM maps a canonical weight unit to the X12 unit code (355).
var weightUOM = map[canonical.WeightUnit]string{"lb": "LB", "kg": "KG", "oz": "OZ", "g": "GR"}

// poundsPer converts a canonical weight unit to pounds.
var poundsPer = map[canonical.WeightUnit]float64{"lb": 1, "kg": 2.20462262185, "oz": 1.0 / 16, "g": 0.00220462262185}

// totalWeight sums the packages' weights when every package has one: in
// their unit when they share one, else in pounds (rounded to 0.01).
func (o OutboundOptions) totalWeight(c canonical.ShipConfirm) (string, string, bool) {
	var sum, lbs float64
	var unit canonical.WeightUnit
	mixed := false
	for i, p := range c.Packages {
		w := o.packageDetail(p).Weight
		if w.Value <= 0 || poundsPer[w.Unit] == 0 {
			return "", "", false
		}
		if i == 0 {
			unit = w.Unit
		} else if w.Unit != unit {
			mixed = true
		}
		sum += w.Value
		lbs += w.Value * poundsPer[w.Unit]
	}
	if len(c.Packages) == 0 {
		return "", "", false
	}
	if mixed {
		return num(math.Round(lbs*100) / 100), "LB", true
	}
	return num(math.Round(sum*1000) / 1000), weightUOM[unit], true
}

// checkClock reports a zero OutboundOptions.Now.
func (out *output) checkClock(o OutboundOptions, seg string, elem int) {
	if o.Now.IsZero() {
		out.fail(seg, elem, "", ErrNoClock, "OutboundOptions.Now is zero: pass the document's creation time")
	}
}

// stamp returns CCYYMMDD and HHMM of t in loc.
func stamp(t time.Time, loc *time.Location) (string, string) {
	t = t.In(loc)
	return t.Format("20060102"), t.Format("1504")
}
