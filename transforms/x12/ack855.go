package x12

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// rejectingAcks are the ACK01 codes (668) under which nothing will ship:
// their default quantity is 0.
var rejectingAcks = []string{"IR", "ID", "R1", "R2", "R3", "R4"}

// WriteOrderAck855 writes one 855 purchase order acknowledgment (version
// 004010) for an order translated from an 850, as transaction set
// setControl inside the interchange and group the caller has opened on w
// (GS01 "PR"). Every line is echoed in a PO1 with its ACK: accepted (IA)
// in full unless OutboundOptions.LineAcks says otherwise. BAK02 is AD
// (acknowledge, no change) when every line is accepted as ordered, RD
// (reject with detail) when every line is rejected, else AC (acknowledge
// with change). Errors are as for WriteASN856.
func WriteOrderAck855(w *edi.Writer, setControl string, o canonical.Order, opts OutboundOptions) error {
	opts = opts.withDefaults()
	out := &output{set: "855"}
	out.checkClock(opts, "BAK", 9)
	po := o.PurchaseOrder
	if po == "" {
		po = o.OrderNumber
	}
	if po == "" {
		out.fail("BAK", 3, "purchase_order", ErrMissingElement, "the order has neither purchase_order nor order_number")
	}
	if o.OrderDate == "" {
		out.fail("BAK", 4, "order_date", ErrMissingElement, "the order has no order_date (BAK04, the purchase order date, is mandatory)")
	}
	if len(o.Lines) == 0 {
		out.fail("PO1", 0, "lines", ErrNoLines, "order %s has no lines", quote(o.OrderNumber))
	}
	for k := range opts.LineAcks {
		if findLine(o, k, "") < 0 {
			out.fail("ACK", 0, "", ErrUnknownLine, "OutboundOptions.LineAcks names line %s, which is not a line of order %s", quote(k), quote(o.OrderNumber))
		}
	}
	slices.SortFunc(out.errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })

	type ack struct {
		status, qty, date string
	}
	acks := make([]ack, len(o.Lines))
	accepted, rejected := 0, 0
	for i, l := range o.Lines {
		a := opts.LineAcks[l.LineNumber]
		st := strings.ToUpper(strings.TrimSpace(a.Status))
		if st == "" {
			st = "IA"
		}
		q := l.Quantity
		if slices.Contains(rejectingAcks, st) {
			q = 0
			rejected++
		}
		if a.Quantity != nil {
			q = *a.Quantity
		}
		if q < 0 {
			out.fail("ACK", 2, fmt.Sprintf("lines[%d]", i), ErrQuantity, "acknowledged quantity %s is negative", num(q))
		}
		if st == "IA" && q == l.Quantity {
			accepted++
		}
		acks[i] = ack{st, num(q), x12Date(a.Date)}
	}
	if len(out.errs) > 0 {
		return out.errs
	}

	ackType := "AC"
	switch len(o.Lines) {
	case accepted:
		ackType = "AD"
	case rejected:
		ackType = "RD"
	}
	date, _ := stamp(opts.Now, opts.Location)
	out.add("BAK", "00", ackType, po, x12Date(o.OrderDate), o.Attributes["release_number"], "", "", "", date)
	var hash float64
	for i, l := range o.Lines {
		els := []string{l.LineNumber, num(l.Quantity), uom(l), l.UnitPrice.Amount, ""}
		els = append(els, itemPairs(l, "VP")...)
		out.add("PO1", els...)
		a := acks[i]
		qual := ""
		if a.date != "" {
			qual = "068" // current schedule ship
		}
		out.add("ACK", a.status, a.qty, uom(l), qual, a.date)
		hash += l.Quantity
	}
	out.add("CTT", strconv.Itoa(len(o.Lines)), num(hash))
	return out.write(w, setControl)
}
