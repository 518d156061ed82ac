package x12

import (
	"slices"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// w01IDElems are the qualifier elements of the W01 product ID pairs:
// W0104/W0105, W0106/W0107 and W0115/W0116.
var w01IDElems = []int{4, 6, 15}

// OrderFrom940 translates a 940 warehouse shipping order into a canonical
// order (see the package documentation for the mapping), as OrderFrom850
// does for an 850.
func OrderFrom940(ts *edi.TransactionSet, env Envelope, opts Options) (canonical.Order, error) {
	b := newBuilder(ts, env, opts, "940")
	if b.wrongSet("940") {
		return canonical.Order{}, b.p.err()
	}
	segs := ts.Segments
	lx, lxLines := "", 0 // the current LX01 and the W01s seen in its loop
	for i := 0; i < len(segs); i++ {
		s := &segs[i]
		inLine := len(b.lines) > 0
		switch s.ID {
		case "W05":
			if b.head == &segs[0] {
				b.head = s
				b.w05(s)
			}
		case "N1":
			p, next := b.readParty(segs, i)
			i = next - 1
			b.addParty(p)
		case "N9":
			if !inLine {
				b.ref(s)
			}
		case "G62":
			if !inLine {
				q := el(s, 1)
				if q == "04" && b.o.OrderDate == "" {
					b.setDate(s, 2, "purchase order date (qualifier \"04\")", "order_date", &b.o.OrderDate)
					continue
				}
				b.requestedDate(s, q, 2, b.opts.G62ShipDateQualifiers, b.opts.G62DeliveryDateQualifiers, "g62_")
			}
		case "NTE":
			b.note(s, 2)
		case "W66":
			if !inLine {
				b.w66(s)
			}
		case "LX":
			lx, lxLines = el(s, 1), 0
		case "W01":
			lxLines++
			n := strconv.Itoa(len(b.lines) + 1)
			if lx != "" {
				n = lx
				if lxLines > 1 {
					n = lx + "-" + strconv.Itoa(lxLines)
				}
			}
			b.w01(s, n)
		case "G69":
			if inLine {
				l := b.lines[len(b.lines)-1].line
				l.Description = strings.TrimSpace(l.Description + " " + el(s, 1))
			}
		}
	}
	if len(segs) == 0 || b.head == &segs[0] {
		b.report(b.p.add(b.head, 0, ErrMissingSegment, "shipping order has no W05 segment"), "source.external_id")
	}
	return b.finish("shipping order "+quote(b.o.OrderNumber), "W01")
}

// w05 reads the W05: status, depositor order number, purchase order
// number, reference.
func (b *builder) w05(s *edi.Segment) {
	if st := el(s, 1); !slices.Contains(b.opts.OrderStatuses, strings.ToUpper(st)) {
		b.p.add(s, 1, ErrPurpose, "order status %s is not an original order (accepted: %s): changes and cancellations are not translated to new orders",
			quote(st), strings.Join(b.opts.OrderStatuses, ", "))
	}
	n := el(s, 2)
	if n == "" {
		b.report(b.p.add(s, 2, ErrMissingElement, "depositor order number is missing"), "source.external_id")
	}
	b.o.OrderNumber, b.o.Source.ExternalID = n, n
	b.o.PurchaseOrder = el(s, 3)
	b.attr("reference_id", el(s, 4))
}

// w66 reads the carrier information: W6601 method of payment (kept as the
// freight_payment attribute, not a service level), W6602 transportation
// method, W6605 routing, W6610 SCAC.
func (b *builder) w66(s *edi.Segment) {
	b.attr("freight_payment", strings.ToUpper(el(s, 1)))
	b.carrierDetails(strings.ToUpper(el(s, 10)), el(s, 5), strings.ToUpper(el(s, 2)), "")
}

// w01 reads a line: W0101 quantity, W0102 unit, W0103 U.P.C. case code,
// then the product ID pairs.
func (b *builder) w01(s *edi.Segment, lineNumber string) {
	idx := len(b.lines)
	l := &canonical.Line{LineNumber: lineNumber, UOM: strings.ToUpper(el(s, 2))}
	if l.UOM == "" {
		l.UOM = canonical.UnitEach
	}
	b.addLine(s, l)
	b.quantity(s, 1, l, idx)
	ids, order := itemIDs(s, w01IDElems)
	if c := el(s, 3); c != "" {
		if _, dup := ids["UA"]; !dup {
			ids["UA"] = c // the U.P.C. case code counts as a UA pair
			order = append(order, "UA (W0103)")
		}
	}
	b.identify(s, l, ids, order, idx, "W0103-W0107, W0115-W0116")
}
