package x12

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// po1IDElems are the qualifier elements of the PO1 product ID pairs:
// PO106/PO107 through PO124/PO125.
var po1IDElems = []int{6, 8, 10, 12, 14, 16, 18, 20, 22, 24}

// OrderFrom850 translates an 850 purchase order into a canonical order
// (see the package documentation for the mapping). The order's order_id
// and source.received_at are left for the intake to fill.
//
// The error is an edi/x12 ErrorList of *MappingError, one per problem,
// including the order's paklog.order.v1 validation problems located at the
// segment they come from; the order is then the zero Order. The set is
// only read.
func OrderFrom850(ts *edi.TransactionSet, env Envelope, opts Options) (canonical.Order, error) {
	b := newBuilder(ts, env, opts, "850")
	if b.wrongSet("850") {
		return canonical.Order{}, b.p.err()
	}
	segs := ts.Segments
	var sdq bool
	for i := 0; i < len(segs); i++ {
		s := &segs[i]
		inLine := len(b.lines) > 0
		switch s.ID {
		case "BEG":
			if b.head == &segs[0] {
				b.head = s
				b.beg(s)
			}
		case "CUR":
			if !inLine {
				b.currency(s)
			}
		case "REF":
			if !inLine {
				b.ref(s)
			}
		case "PER":
			if !inLine && b.o.Customer.Phone == "" && b.o.Customer.Email == "" {
				c := &b.o.Customer
				var name string
				b.contact(s, 2, []int{3, 5, 7}, &name, &c.Phone, &c.Email)
				b.attr("buyer_contact", name)
			}
		case "DTM":
			if !inLine {
				b.dtm(s)
			}
		case "TD5":
			if !inLine {
				b.td5(s)
			}
		case "MSG":
			b.note(s, 1)
		case "NTE":
			b.note(s, 2)
		case "N1":
			p, next := b.readParty(segs, i)
			i = next - 1
			if !inLine {
				b.addParty(p)
			} else if p.code == b.opts.ShipToEntity {
				l := b.lines[len(b.lines)-1].line
				e := b.p.add(p.n1, 1, ErrUnsupported, "line %s has its own ship-to (N101 %s in the PO1 loop): one order has one ship-to; split the order per destination", l.LineNumber, quote(p.code))
				e.OrderLine = l.LineNumber
			}
		case "SDQ":
			if !sdq {
				sdq = true
				b.p.add(s, 0, ErrUnsupported, "destination quantities (SDQ) split a line over several ship-tos: one order has one ship-to; split the order per destination")
			}
		case "PO1":
			b.po1(s)
		case "PID":
			if inLine && strings.ToUpper(el(s, 1)) == "F" {
				l := b.lines[len(b.lines)-1].line
				l.Description = strings.TrimSpace(l.Description + " " + el(s, 5))
			}
		}
	}
	if len(segs) == 0 || b.head == &segs[0] {
		b.report(b.p.add(b.head, 0, ErrMissingSegment, "purchase order has no BEG segment"), "source.external_id")
	}
	return b.finish("purchase order "+quote(b.o.PurchaseOrder), "PO1")
}

// beg reads the BEG: purpose, type, PO number, release, date, contract.
func (b *builder) beg(s *edi.Segment) {
	if p := el(s, 1); !slices.Contains(b.opts.OrderPurposes, strings.ToUpper(p)) {
		b.p.add(s, 1, ErrPurpose, "purpose %s is not an original order (accepted: %s): changes and cancellations are not translated to new orders",
			quote(p), strings.Join(b.opts.OrderPurposes, ", "))
	}
	po := el(s, 3)
	if po == "" {
		b.report(b.p.add(s, 3, ErrMissingElement, "purchase order number is missing"), "source.external_id")
	}
	b.o.OrderNumber, b.o.PurchaseOrder, b.o.Source.ExternalID = po, po, po
	b.setDate(s, 5, "purchase order date", "order_date", &b.o.OrderDate)
	b.attr("po_type", el(s, 2))
	b.attr("release_number", el(s, 4))
	b.attr("contract_number", el(s, 6))
}

// dtm reads a header DTM into the requested dates (DTM02, or DTM06 when
// DTM05 is "D8").
func (b *builder) dtm(s *edi.Segment) {
	elem := 2
	if el(s, 2) == "" && strings.ToUpper(el(s, 5)) == "D8" {
		elem = 6
	}
	b.requestedDate(s, el(s, 1), elem, b.opts.ShipDateQualifiers, b.opts.DeliveryDateQualifiers, "dtm_")
}

// td5 reads the carrier details: TD502/TD503 the carrier (a SCAC when
// TD502 is "2"), TD504 the transportation method, TD505 the routing,
// TD512 the service level code.
func (b *builder) td5(s *edi.Segment) {
	qual, id := el(s, 2), el(s, 3)
	scac := ""
	switch qual {
	case "2", "":
		scac = id
	default:
		b.attr("carrier_id", qualified(qual, id))
	}
	if scac == "" && el(s, 4) == "" && el(s, 5) == "" && el(s, 12) == "" {
		return
	}
	b.carrierDetails(strings.ToUpper(scac), el(s, 5), strings.ToUpper(el(s, 4)), strings.ToUpper(el(s, 12)))
}

// po1 starts a line: PO101 line number, PO102 quantity, PO103 unit, PO104
// unit price, then the product ID pairs.
func (b *builder) po1(s *edi.Segment) {
	idx := len(b.lines)
	l := &canonical.Line{LineNumber: el(s, 1), UOM: strings.ToUpper(el(s, 3))}
	if l.LineNumber == "" {
		l.LineNumber = strconv.Itoa(idx + 1)
	}
	if l.UOM == "" {
		l.UOM = canonical.UnitEach
	}
	b.addLine(s, l)
	b.quantity(s, 2, l, idx)
	if v := el(s, 4); v != "" {
		if _, d, ok := number(v); ok {
			l.UnitPrice = canonical.Money{Amount: d}
		} else {
			e := b.p.add(s, 4, ErrNotNumber, "unit price %s is not a number", quote(v))
			e.OrderLine, e.Value = l.LineNumber, v
			b.report(e, fmt.Sprintf("lines[%d].unit_price", idx))
		}
	}
	ids, order := itemIDs(s, po1IDElems)
	b.identify(s, l, ids, order, idx, "PO106-PO125")
}
