package x12

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// pocIDElems are the qualifier elements of the POC product ID pairs:
// POC08/POC09 through POC26/POC27.
var pocIDElems = []int{8, 10, 12, 14, 16, 18, 20, 22, 24, 26}

// OrderChange is an 860 purchase order change: either a cancel (Cancel
// set, Lines empty) or line changes to apply to the order (Lines set,
// Cancel nil). It points at the order as the 850 did: Source.ExternalID is
// BCH03, the BEG03 that OrderFrom850 made the order's source.external_id;
// the hub finds the order by source channel, partner and external_id.
//
// There is no canonical order update message yet: the hub applies Lines
// to the order it holds (or hands them on) itself.
type OrderChange struct {
	// Cancel is the paklog.order_cancel.v1 message when the change
	// cancels: the whole order (BCH01 in Options.CancelPurposes) or lines
	// only (every POC is a cancel action). Its order_id is empty for the
	// hub to fill.
	Cancel *canonical.OrderCancel `json:"cancel,omitempty"`
	// Source is channel edi, the partner, external_id BCH03, document
	// "860"; received_at is left for the intake.
	Source        canonical.Source `json:"source"`
	OrderNumber   string           `json:"order_number"`             // BCH03
	PurchaseOrder string           `json:"purchase_order,omitempty"` // BCH03
	// Purpose is BCH01 as sent ("01", "04").
	Purpose string `json:"purpose"`
	// ChangeSequence is BCH05, the change order sequence number: the hub
	// can refuse a change older than one it applied.
	ChangeSequence string         `json:"change_sequence,omitempty"`
	OrderDate      canonical.Date `json:"order_date,omitempty"`  // BCH06
	ChangeDate     canonical.Date `json:"change_date,omitempty"` // BCH11
	// Currency is CUR02, else Options.DefaultCurrency when a line has a
	// price.
	Currency string       `json:"currency,omitempty"`
	Lines    []LineChange `json:"lines,omitempty"`
	// Notes are the MSG01 and NTE02 texts, one a line.
	Notes string `json:"notes,omitempty"`
	// Attributes hold the envelope (x12_sender_id, x12_receiver_id,
	// x12_isa13, x12_gs06, x12_st02), po_type (BCH02), release_number
	// (BCH04), contract_number (BCH08), ref_<REF01> and dtm_<DTM01>.
	Attributes map[string]string `json:"attributes,omitempty"`
}

// LineChange is one POC: what to do to which order line.
type LineChange struct {
	Action ChangeAction `json:"action"`
	// Code is POC02 as sent, upper case.
	Code string `json:"change_code"`
	// Line holds the values the POC gives: LineNumber POC01 (the PO101 of
	// the order line), Quantity POC03 (the line's new quantity ordered, 0
	// when not given), UOM POC05 (EA when a quantity is given without
	// one), UnitPrice POC06, the item IDs of POC08-POC27 chosen as for the
	// 850 (SKU by Options.SKUPrecedence), Description PID05 (PID01 "F").
	Line canonical.Line `json:"line"`
	// QuantityLeftToReceive is POC04, when given.
	QuantityLeftToReceive float64 `json:"quantity_left_to_receive,omitempty"`
}

// changer holds the state of one 860 translation.
type changer struct {
	*builder
	c      OrderChange
	pocs   []*edi.Segment
	cancel bool // BCH01 is a whole-order cancellation
}

// ChangeFrom860 translates an 860 purchase order change (see the package
// documentation for the mapping). The error is an edi/x12 ErrorList of
// *MappingError, one per problem; the OrderChange is then the zero value.
func ChangeFrom860(ts *edi.TransactionSet, env Envelope, opts Options) (OrderChange, error) {
	ch := &changer{builder: newBuilder(ts, env, opts, "860")}
	if ch.wrongSet("860") {
		return OrderChange{}, ch.p.err()
	}
	segs := ts.Segments
	i := slices.IndexFunc(segs, func(s edi.Segment) bool { return s.ID == "BCH" })
	if i < 0 {
		ch.p.add(ch.head, 0, ErrMissingSegment, "purchase order change has no BCH segment")
		return OrderChange{}, ch.p.err()
	}
	ch.head = &segs[i]
	ch.bch(ch.head)
	sdq := false
	for i := 0; i < len(segs); i++ {
		s := &segs[i]
		if s == ch.head || s.ID == "ST" || s.ID == "SE" {
			continue
		}
		if s.ID == "MSG" || s.ID == "NTE" {
			ch.changeNote(s)
			continue
		}
		if ch.cancel {
			continue // a whole-order cancel: the rest is a copy of the order
		}
		inLine := len(ch.pocs) > 0
		if slices.Contains(ch.opts.ChangeIgnoredSegments, s.ID) {
			if s.ID == "N1" {
				_, next := ch.readParty(segs, i)
				i = next - 1
			}
			continue
		}
		switch s.ID {
		case "CUR":
			if !inLine {
				ch.currency(s)
			}
		case "REF":
			if !inLine {
				ch.ref(s)
			}
		case "DTM":
			if inLine {
				continue // line dates have no place in an order line, as in the 850
			}
			q := el(s, 1)
			if slices.Contains(ch.opts.ShipDateQualifiers, q) || slices.Contains(ch.opts.DeliveryDateQualifiers, q) {
				ch.p.add(s, 1, ErrUnsupported, "requested date changes (DTM01 %s) are not translated: an order update carries line changes only", quote(q))
				continue
			}
			ch.dtm(s)
		case "TD5":
			if !inLine {
				ch.p.add(s, 0, ErrUnsupported, "carrier and routing changes (TD5) are not translated: an order update carries line changes only")
			}
		case "N1":
			p, next := ch.readParty(segs, i)
			i = next - 1
			if inLine {
				e := ch.p.add(p.n1, 1, ErrUnsupported, "line %s has its own party (N101 %s in the POC loop): one order has one ship-to", el(ch.pocs[len(ch.pocs)-1], 1), quote(p.code))
				e.OrderLine = el(ch.pocs[len(ch.pocs)-1], 1)
			} else {
				ch.p.add(p.n1, 1, ErrUnsupported, "party changes (N101 %s: ship-to, bill-to, buyer) are not translated: an order update carries line changes only", quote(p.code))
			}
		case "SDQ":
			if !sdq {
				sdq = true
				ch.p.add(s, 0, ErrUnsupported, "destination quantities (SDQ) split a line over several ship-tos: one order has one ship-to")
			}
		case "POC":
			ch.poc(s)
		case "PID":
			if n := len(ch.c.Lines); inLine && n > 0 && strings.ToUpper(el(s, 1)) == "F" {
				l := &ch.c.Lines[n-1].Line
				l.Description = strings.TrimSpace(l.Description + " " + el(s, 5))
			}
		}
	}
	return ch.finishChange()
}

// bch reads the BCH: purpose, PO type, PO number, release, change
// sequence, PO date, contract number, change date.
func (ch *changer) bch(s *edi.Segment) {
	purpose := strings.ToUpper(el(s, 1))
	ch.c.Purpose = purpose
	switch {
	case slices.Contains(ch.opts.CancelPurposes, purpose):
		ch.cancel = true
	case slices.Contains(ch.opts.ChangePurposes, purpose):
	default:
		ch.p.add(s, 1, ErrPurpose, "purpose %s is neither a change (accepted: %s) nor a cancellation (accepted: %s)",
			quote(el(s, 1)), strings.Join(ch.opts.ChangePurposes, ", "), strings.Join(ch.opts.CancelPurposes, ", "))
	}
	po := el(s, 3)
	if po == "" {
		ch.report(ch.p.add(s, 3, ErrMissingElement, "purchase order number is missing"), "source.external_id")
	}
	ch.c.OrderNumber, ch.c.PurchaseOrder = po, po
	ch.o.Source.ExternalID = po
	ch.c.ChangeSequence = el(s, 5)
	if el(s, 6) != "" {
		ch.setDate(s, 6, "purchase order date", "order_date", &ch.c.OrderDate)
	}
	if el(s, 11) != "" {
		ch.setDate(s, 11, "change date", "change_date", &ch.c.ChangeDate)
	}
	ch.attr("po_type", el(s, 2))
	ch.attr("release_number", el(s, 4))
	ch.attr("contract_number", el(s, 8))
}

// changeNote keeps a MSG01 or NTE02 text; in a POC loop it is prefixed with
// the line.
func (ch *changer) changeNote(s *edi.Segment) {
	elem := 2
	if s.ID == "MSG" {
		elem = 1
	}
	text := el(s, elem)
	if text == "" {
		return
	}
	if n := len(ch.pocs); n > 0 {
		text = "line " + el(ch.pocs[n-1], 1) + ": " + text
	}
	ch.notes = append(ch.notes, text)
}

// needs lists what each action requires: the new quantity, the new price.
var actionNeeds = map[ChangeAction]struct{ quantity, price bool }{
	ActionAdd:                 {quantity: true},
	ActionQuantityIncrease:    {quantity: true},
	ActionQuantityDecrease:    {quantity: true},
	ActionPriceChange:         {price: true},
	ActionPriceQuantityChange: {quantity: true, price: true},
}

// poc reads a line change: POC01 line number, POC02 change type, POC03
// quantity ordered, POC04 quantity left to receive, POC05 unit, POC06 unit
// price, POC08-POC27 product IDs.
func (ch *changer) poc(s *edi.Segment) {
	idx := len(ch.c.Lines)
	ch.pocs = append(ch.pocs, s)
	field := func(f string) string { return fmt.Sprintf("lines[%d].%s", idx, f) }
	code := strings.ToUpper(el(s, 2))
	lc := LineChange{Code: code, Line: canonical.Line{LineNumber: el(s, 1), UOM: strings.ToUpper(s.Element(5).Component(1).String())}}
	l := &lc.Line
	fail := func(elem int, sentinel error, f, format string, args ...any) {
		e := ch.p.add(s, elem, sentinel, format, args...)
		e.OrderLine = l.LineNumber
		ch.report(e, f)
		// the same line in a cancel: lines[i].line_number, not lines[i].line.line_number
		ch.reported = append(ch.reported, strings.Replace(f, ".line.", ".", 1))
		if elem > 0 {
			e.Value = el(s, elem)
		}
	}
	if l.LineNumber == "" {
		fail(1, ErrMissingElement, field("line.line_number"), "line number is missing: a change names the purchase order line (PO101) it changes")
	}
	known := true
	switch action, ok := ch.opts.ChangeTypes[code]; {
	case code == "":
		known = false
		fail(2, ErrMissingElement, field("action"), "change type is missing")
	case !ok:
		known = false
		fail(2, ErrChangeType, field("action"), "change type %s is not translated (accepted: %s)",
			quote(el(s, 2)), strings.Join(slicesSortedKeys(ch.opts.ChangeTypes), ", "))
	default:
		lc.Action = action
	}
	needs := actionNeeds[lc.Action]
	what := fmt.Sprintf("%s (%s)", strings.ReplaceAll(string(lc.Action), "_", " "), code)

	// POC03: the line's quantity ordered after the change.
	if v := el(s, 3); v == "" {
		if needs.quantity {
			fail(3, ErrMissingElement, field("line.quantity"), "quantity is missing: %s needs the new quantity ordered", article(what))
		}
	} else if q, _, ok := number(v); !ok {
		fail(3, ErrNotNumber, field("line.quantity"), "quantity %s is not a number", quote(v))
	} else if q < 0 || (q == 0 && lc.Action != ActionQuantityDecrease && lc.Action != ActionCancel) {
		fail(3, ErrQuantity, field("line.quantity"), "quantity %s is not more than zero", quote(v))
	} else if lc.Action != ActionCancel {
		l.Quantity = q
		if q == 0 {
			lc.Action = ActionCancel // QD to nothing deletes the line
		}
	}
	// POC04: quantity left to receive, informational.
	if v := el(s, 4); v != "" {
		if q, _, ok := number(v); ok && q >= 0 {
			lc.QuantityLeftToReceive = q
		} else {
			fail(4, ErrNotNumber, field("quantity_left_to_receive"), "quantity left to receive %s is not a number of at least zero", quote(v))
		}
	}
	if l.UOM == "" && l.Quantity > 0 {
		l.UOM = canonical.UnitEach
	}
	// POC06: the new unit price.
	if v := el(s, 6); v == "" {
		if needs.price {
			fail(6, ErrMissingElement, field("line.unit_price"), "unit price is missing: %s needs the new unit price", article(what))
		}
	} else if p, d, ok := number(v); !ok || p < 0 {
		fail(6, ErrNotNumber, field("line.unit_price"), "unit price %s is not a number of at least zero", quote(v))
	} else if lc.Action != ActionCancel {
		l.UnitPrice = canonical.Money{Amount: d}
	}

	ids, order := itemIDs(s, pocIDElems)
	l.VendorItem = firstOf(ids, vendorQualifiers)
	if !ch.opts.OmitBuyerItems {
		l.BuyerItem = firstOf(ids, buyerQualifiers)
	}
	l.UPC = firstOf(ids, upcQualifiers)
	l.GTIN = firstOf(ids, gtinQualifiers)
	l.SKU = firstOf(ids, ch.opts.SKUPrecedence)
	if l.SKU == "" && lc.Action == ActionAdd {
		found := "none"
		if len(order) > 0 {
			found = strings.Join(order, ", ")
		}
		fail(0, ErrNoItemID, field("line.sku"), "line %s has no product ID to use as SKU: the partner's precedence is %s, the line has %s (POC08-POC27)",
			l.LineNumber, strings.Join(ch.opts.SKUPrecedence, " > "), found)
	}
	if !known {
		lc.Action = ""
	}
	ch.c.Lines = append(ch.c.Lines, lc)
}

// article puts "a" or "an" before an action description.
func article(s string) string {
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func slicesSortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// finishChange builds the OrderChange: a cancel for a cancellation or a set
// of line cancels, line changes otherwise.
func (ch *changer) finishChange() (OrderChange, error) {
	c := &ch.c
	c.Source = ch.o.Source
	c.Notes = strings.Join(ch.notes, "\n")
	if !ch.cancel && len(ch.pocs) == 0 && c.Purpose != "" && slices.Contains(ch.opts.ChangePurposes, c.Purpose) {
		ch.report(ch.p.add(ch.head, 0, ErrNoLines, "purchase order change %s has no line changes: no POC segment", quote(c.OrderNumber)), "lines")
	}
	if slices.ContainsFunc(c.Lines, func(l LineChange) bool { return !l.Line.UnitPrice.IsZero() }) {
		c.Currency = ch.o.Currency
		if c.Currency == "" {
			c.Currency = ch.opts.DefaultCurrency
		}
		for i := range c.Lines {
			if p := &c.Lines[i].Line.UnitPrice; !p.IsZero() {
				p.Currency = c.Currency
			}
		}
	}
	if len(ch.o.Attributes) > 0 {
		c.Attributes = ch.o.Attributes
	}
	allCancels := len(c.Lines) > 0 && !slices.ContainsFunc(c.Lines, func(l LineChange) bool { return l.Action != ActionCancel })
	switch {
	case ch.cancel:
		c.Lines = nil
		c.Cancel = ch.orderCancel(fmt.Sprintf("purchase order cancelled by the partner (860 BCH01 %s)", quote(c.Purpose)), nil)
	case allCancels:
		var refs []canonical.LineRef
		for i, l := range c.Lines {
			ch.addLine(ch.pocs[i], &c.Lines[i].Line) // for locating schema problems
			refs = append(refs, canonical.LineRef{LineNumber: l.Line.LineNumber, SKU: l.Line.SKU})
		}
		c.Cancel = ch.orderCancel("lines deleted by the partner (860 POC02)", refs)
		c.Lines = nil
	}
	if err := ch.p.err(); err != nil {
		return OrderChange{}, err
	}
	return *c, nil
}

// orderCancel builds and checks a cancel of the builder's order: the whole
// order when refs is empty. The notes follow the reason.
func (b *builder) orderCancel(reason string, refs []canonical.LineRef) *canonical.OrderCancel {
	if len(b.notes) > 0 {
		reason += ": " + strings.Join(b.notes, "; ")
	}
	oc := &canonical.OrderCancel{
		Schema:      canonical.SchemaOrderCancel,
		Source:      b.o.Source,
		OrderNumber: b.o.Source.ExternalID,
		Reason:      reason,
		Lines:       refs,
	}
	check := *oc
	check.OrderID = placeholderOrderID
	check.Source.ReceivedAt = placeholderReceivedAt
	if err := check.Validate(); err != nil {
		var ps canonical.Problems
		if !errors.As(err, &ps) {
			b.p.add(b.head, 0, ErrInvalidCancel, "the cancel cannot be checked: %v", err)
		}
		for _, pr := range ps {
			if b.alreadyReported(pr.Path) {
				continue
			}
			s, elem := b.locate(pr.Path)
			e := b.p.add(s, elem, ErrInvalidCancel, "%s: %s", pathOrRoot(pr.Path), pr.Message)
			e.Field = pr.Path
		}
	}
	return oc
}
