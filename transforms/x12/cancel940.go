package x12

import (
	"slices"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// CancelFrom940 translates a 940 whose W0501 is one of
// Options.CancelStatuses (default "F", cancel) into a paklog.order_cancel.v1
// message for the order OrderFrom940 made from the original 940.
//
// The cancel's source is channel edi, the partner, document "940" and
// external_id W0502, the depositor order number: exactly the external_id
// OrderFrom940 gives the order, so that the hub finds the order by
// (channel, partner, external_id). order_id and source.received_at are left
// empty for the hub to fill.
//
// Without W01 lines (or with Options.CancelWholeOrder) the whole order is
// cancelled. W01 lines cancel only those lines: line_number as
// OrderFrom940 numbers them (LX01, "5-2" for the second W01 of LX 5, else
// the position), sku by Options.SKUPrecedence, quantity W0101 (absent: the
// whole line). The reason is fixed text naming W0501, followed by the NTE02
// texts.
//
// The error is an edi/x12 ErrorList of *MappingError, one per problem; the
// cancel is then the zero value.
func CancelFrom940(ts *edi.TransactionSet, env Envelope, opts Options) (canonical.OrderCancel, error) {
	b := newBuilder(ts, env, opts, "940")
	if b.wrongSet("940") {
		return canonical.OrderCancel{}, b.p.err()
	}
	segs := ts.Segments
	var w05 *edi.Segment
	var refs []canonical.LineRef
	lx, lxLines := "", 0
	for i := range segs {
		s := &segs[i]
		switch s.ID {
		case "W05":
			if w05 == nil {
				w05, b.head = s, s
				b.cancelW05(s)
			}
		case "NTE":
			if t := el(s, 2); t != "" {
				b.notes = append(b.notes, t)
			}
		case "LX":
			lx, lxLines = el(s, 1), 0
		case "W01":
			if b.opts.CancelWholeOrder {
				continue
			}
			lxLines++
			n := lineNumber940(lx, lxLines, len(refs))
			refs = append(refs, b.cancelLine(s, n, len(refs)))
		}
	}
	if w05 == nil {
		b.report(b.p.add(b.head, 0, ErrMissingSegment, "shipping order has no W05 segment"), "source.external_id")
	}
	status := ""
	if w05 != nil {
		status = strings.ToUpper(el(w05, 1))
	}
	oc := b.orderCancel("shipping order cancelled by the partner (940 W0501 "+quote(status)+")", refs)
	if err := b.p.err(); err != nil {
		return canonical.OrderCancel{}, err
	}
	return *oc, nil
}

// lineNumber940 numbers a W01 as OrderFrom940 does: LX01, then "5-2"… for
// more W01 in one LX loop; without LX the position (1, 2, 3…).
func lineNumber940(lx string, lxLines, seen int) string {
	if lx == "" {
		return strconv.Itoa(seen + 1)
	}
	if lxLines > 1 {
		return lx + "-" + strconv.Itoa(lxLines)
	}
	return lx
}

// cancelW05 reads the W05 of a cancel: status, depositor order number.
func (b *builder) cancelW05(s *edi.Segment) {
	if st := el(s, 1); !slices.Contains(b.opts.CancelStatuses, strings.ToUpper(st)) {
		b.p.add(s, 1, ErrPurpose, "order status %s is not a cancellation (accepted: %s): an original order is translated by OrderFrom940",
			quote(st), strings.Join(b.opts.CancelStatuses, ", "))
	}
	n := el(s, 2)
	if n == "" {
		b.report(b.p.add(s, 2, ErrMissingElement, "depositor order number is missing"), "source.external_id")
	}
	b.o.OrderNumber, b.o.Source.ExternalID = n, n
}

// cancelLine reads a W01 of a cancel: the line to cancel, its SKU and the
// quantity (W0101; empty for the whole line).
func (b *builder) cancelLine(s *edi.Segment, lineNumber string, idx int) canonical.LineRef {
	l := &canonical.Line{LineNumber: lineNumber}
	b.addLine(s, l)
	ref := canonical.LineRef{LineNumber: lineNumber}
	if v := el(s, 1); v != "" {
		q, _, ok := number(v)
		var e *MappingError
		switch {
		case !ok:
			e = b.p.add(s, 1, ErrNotNumber, "quantity %s is not a number", quote(v))
		case q <= 0:
			e = b.p.add(s, 1, ErrQuantity, "quantity %s is not more than zero", quote(v))
		default:
			ref.Quantity = q
		}
		if e != nil {
			e.OrderLine, e.Value = lineNumber, v
			b.report(e, "lines["+strconv.Itoa(idx)+"].quantity")
		}
	}
	ids, _ := itemIDs(s, w01IDElems)
	if c := el(s, 3); c != "" {
		if _, dup := ids["UA"]; !dup {
			ids["UA"] = c
		}
	}
	ref.SKU = firstOf(ids, b.opts.SKUPrecedence)
	return ref
}
