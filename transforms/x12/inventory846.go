package x12

import (
	"fmt"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// QTY01 qualifiers (code list 673) of the 846.
const (
	qtyAvailable = "33" // quantity available for sale (stock quantity)
	qtyOnHand    = "17" // quantity on hand
)

// WriteInventory846 writes one 846 inventory inquiry/advice (version
// 004010) for an inventory advice, as transaction set setControl inside
// the interchange and group the caller has opened on w (GS01 "IB"). The
// BIA carries as_of (or OutboundOptions.Now when as_of is zero); each item
// is a LIN with QTY 33 (available) and QTY 17 (on hand) for the
// quantities reported. When every item has the same warehouse it is one
// header N1 WH; otherwise each item's warehouse is an N1 WH after its
// QTYs. Errors are as for WriteASN856.
func WriteInventory846(w *edi.Writer, setControl string, a canonical.InventoryAdvice, opts OutboundOptions) error {
	opts = opts.withDefaults()
	out := &output{set: "846"}
	asOf := a.AsOf
	if asOf.IsZero() {
		out.checkClock(opts, "BIA", 4)
		asOf = opts.Now
	}
	if len(a.Items) == 0 {
		out.fail("LIN", 0, "items", ErrNoLines, "the inventory advice has no items")
	}
	for i, it := range a.Items {
		if it.SKU == "" && it.UPC == "" {
			out.fail("LIN", 3, fmt.Sprintf("items[%d].sku", i), ErrMissingElement, "item has neither sku nor upc")
		}
	}
	if len(out.errs) > 0 {
		return out.errs
	}
	oneWarehouse := true
	for _, it := range a.Items {
		oneWarehouse = oneWarehouse && it.Warehouse == a.Items[0].Warehouse
	}

	date, hm := stamp(asOf, opts.Location)
	out.add("BIA", "00", opts.InventoryReportType, setControl, date, hm)
	warehouse := func(code string) {
		if code != "" {
			out.add("N1", "WH", "", opts.WarehouseIDQualifier, code)
		}
	}
	if oneWarehouse {
		warehouse(a.Items[0].Warehouse)
	}
	for i, it := range a.Items {
		var ids []string
		if it.SKU != "" {
			ids = append(ids, "SK", it.SKU)
		}
		if it.UPC != "" {
			ids = append(ids, "UP", it.UPC)
		}
		out.add("LIN", append([]string{fmt.Sprint(i + 1)}, ids...)...)
		u := it.UOM
		if u == "" {
			u = canonical.UnitEach
		}
		if it.QuantityAvailable != nil {
			out.add("QTY", qtyAvailable, num(*it.QuantityAvailable), u)
		}
		if it.QuantityOnHand != nil {
			out.add("QTY", qtyOnHand, num(*it.QuantityOnHand), u)
		}
		if !oneWarehouse {
			warehouse(it.Warehouse)
		}
	}
	out.add("CTT", fmt.Sprint(len(a.Items)))
	return out.write(w, setControl)
}

// InventoryFrom846 translates a received 846 into an inventory advice:
// partner from env.Partner, as_of from BIA04/BIA05 (read as UTC; DTM 405
// wins when present), one item per LIN with its SKU by
// Options.SKUPrecedence, UPC from UP/UA, QTY 33 available and QTY 17 on
// hand with their unit (QTY03), warehouse from the N1 WH loop (N104, else
// N102) of the header or of the item. Other QTY qualifiers are ignored.
//
// A set that cannot become an advice returns the zero advice and an
// edi/x12 ErrorList of every *MappingError found: no BIA or LIN, an item
// without a usable identifier, a quantity that is not a number, a QTY
// outside a LIN loop, two units for one item.
func InventoryFrom846(ts *edi.TransactionSet, env Envelope, opts Options) (canonical.InventoryAdvice, error) {
	opts = opts.withDefaults()
	p := &problems{set: ts.ControlNumber}
	if ts.ID != "846" {
		p.add(nil, 0, ErrWrongSet, "transaction set %s is not an 846", quote(ts.ID))
		return canonical.InventoryAdvice{}, p.err()
	}
	adv := canonical.InventoryAdvice{Schema: canonical.SchemaInventoryAdvice, Partner: env.Partner}
	var (
		bia, dtm *edi.Segment
		headWH   string
		itemWH   []bool         // the item had its own N1 WH
		uomSeg   []*edi.Segment // the QTY that gave the item's unit
		sawLIN   bool
		last     *edi.Segment
		items    []canonical.InventoryItem
	)
	for i := 0; i < len(ts.Segments); i++ {
		s := &ts.Segments[i]
		last = s
		switch s.ID {
		case "BIA":
			if bia == nil {
				bia = s
			}
		case "DTM":
			if el(s, 1) == "405" && !sawLIN {
				dtm = s
			}
		case "N1":
			if strings.ToUpper(el(s, 1)) != "WH" {
				continue
			}
			code := el(s, 4)
			if code == "" {
				code = el(s, 2)
			}
			if !sawLIN {
				headWH = code
			} else if len(items) > 0 {
				items[len(items)-1].Warehouse = code
				itemWH[len(items)-1] = true
			}
		case "LIN":
			sawLIN = true
			ids, order := itemIDs(s, linIDElems(s))
			it := canonical.InventoryItem{SKU: firstOf(ids, opts.SKUPrecedence), UPC: firstOf(ids, []string{"UP", "UA"})}
			if it.SKU == "" {
				p.add(s, 3, ErrNoItemID, "item has no product ID with a qualifier of %s (found: %s)", strings.Join(opts.SKUPrecedence, ", "), describe(order))
			}
			items = append(items, it)
			itemWH = append(itemWH, false)
			uomSeg = append(uomSeg, nil)
		case "QTY":
			if len(items) == 0 {
				p.add(s, 0, ErrUnsupported, "QTY before any LIN: a quantity must follow the item it counts")
				continue
			}
			item := &items[len(items)-1]
			q := el(s, 1)
			if q != qtyAvailable && q != qtyOnHand {
				continue
			}
			v := el(s, 2)
			f, _, ok := number(v)
			switch {
			case v == "":
				p.add(s, 2, ErrMissingElement, "quantity (qualifier %s) is missing", quote(q))
			case !ok:
				p.add(s, 2, ErrNotNumber, "quantity %s (qualifier %s) is not a number", quote(v), quote(q))
			case q == qtyOnHand && f < 0:
				p.add(s, 2, ErrQuantity, "quantity on hand %s is negative", quote(v))
			case q == qtyAvailable:
				item.QuantityAvailable = &f
			default:
				item.QuantityOnHand = &f
			}
			u := strings.ToUpper(strings.TrimSpace(s.Element(3).Component(1).String()))
			if u == "" {
				continue
			}
			if prev := uomSeg[len(items)-1]; prev != nil && item.UOM != u {
				p.add(s, 3, ErrUnsupported, "unit %s differs from the item's unit %s (line %d): one item has one unit", quote(u), quote(item.UOM), prev.Line)
				continue
			}
			item.UOM, uomSeg[len(items)-1] = u, s
		}
	}
	if bia == nil {
		var st *edi.Segment
		if len(ts.Segments) > 0 {
			st = &ts.Segments[0]
		}
		p.add(st, 0, ErrMissingSegment, "inventory advice has no BIA segment")
	} else {
		adv.AsOf = p.dateTime(bia, 4, 5)
	}
	if dtm != nil {
		if t := p.dateTime(dtm, 2, 3); !t.IsZero() {
			adv.AsOf = t
		}
	}
	if len(items) == 0 {
		p.add(last, 0, ErrNoLines, "inventory advice has no LIN segment")
	}
	for i := range items {
		if !itemWH[i] {
			items[i].Warehouse = headWH
		}
		if items[i].UOM == "" && (items[i].QuantityAvailable != nil || items[i].QuantityOnHand != nil) {
			items[i].UOM = canonical.UnitEach
		}
	}
	if err := p.err(); err != nil {
		return canonical.InventoryAdvice{}, err
	}
	adv.Items = items
	return adv, nil
}

// linIDElems are the qualifier positions of a LIN's product ID pairs:
// LIN02, LIN04… up to the segment's last element.
func linIDElems(s *edi.Segment) []int {
	var out []int
	for i := 2; i < s.Len(); i += 2 {
		out = append(out, i)
	}
	return out
}

func describe(order []string) string {
	if len(order) == 0 {
		return "none"
	}
	return strings.Join(order, ", ")
}

// dateTime reads a CCYYMMDD date and an optional HHMM[SS] time as UTC,
// reporting a bad one.
func (p *problems) dateTime(s *edi.Segment, dateElem, timeElem int) time.Time {
	v := el(s, dateElem)
	d, ok := date(v)
	if !ok {
		p.add(s, dateElem, ErrDate, "date %s is not CCYYMMDD", quote(v))
		return time.Time{}
	}
	t, _ := d.Time()
	tm := el(s, timeElem)
	if tm == "" {
		return t
	}
	layout := map[int]string{4: "1504", 6: "150405"}[len(tm)]
	clock, err := time.Parse(layout, tm)
	if layout == "" || err != nil {
		p.add(s, timeElem, ErrDate, "time %s is not HHMM or HHMMSS", quote(tm))
		return time.Time{}
	}
	return t.Add(time.Duration(clock.Hour())*time.Hour + time.Duration(clock.Minute())*time.Minute + time.Duration(clock.Second())*time.Second)
}
