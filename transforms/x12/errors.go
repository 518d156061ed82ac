package x12

import (
	"errors"
	"fmt"
	"strings"

	edi "github.com/paklog/integration-hub/edi/x12"
)

// Sentinel errors, one per mapping rule. Every problem is a *MappingError
// that unwraps to one of these, for errors.Is.
var (
	// ErrWrongSet: the set is not the kind the function translates (an 810
	// given to OrderFrom850).
	ErrWrongSet = errors.New("x12 translation: wrong transaction set")
	// ErrMissingSegment: a segment the mapping needs (BEG, W05) is absent.
	ErrMissingSegment = errors.New("x12 translation: segment missing")
	// ErrMissingElement: an element the mapping needs (BEG03, PO102, W0502)
	// is empty.
	ErrMissingElement = errors.New("x12 translation: element missing")
	// ErrPurpose: the set is not an original order (BEG01, W0501 not in
	// Options.OrderPurposes / OrderStatuses): changes and cancellations
	// are not new orders.
	ErrPurpose = errors.New("x12 translation: not an original order")
	// ErrNoShipTo: no N1 loop with the ship-to entity code.
	ErrNoShipTo = errors.New("x12 translation: no ship-to")
	// ErrNoLines: no PO1 (850) or W01 (940) line.
	ErrNoLines = errors.New("x12 translation: no lines")
	// ErrNotNumber: a quantity or price is not an X12 number.
	ErrNotNumber = errors.New("x12 translation: not a number")
	// ErrQuantity: a quantity is zero or negative.
	ErrQuantity = errors.New("x12 translation: quantity not positive")
	// ErrDate: a date is not CCYYMMDD (or YYMMDD) or not a calendar day.
	ErrDate = errors.New("x12 translation: invalid date")
	// ErrCode: a code (currency, country) the canonical order cannot carry.
	ErrCode = errors.New("x12 translation: invalid code")
	// ErrNoItemID: a line has none of the product ID qualifiers of
	// Options.SKUPrecedence.
	ErrNoItemID = errors.New("x12 translation: no usable item identifier")
	// ErrUnsupported: the set uses a structure one canonical order cannot
	// hold (a ship-to per line, SDQ destination quantities).
	ErrUnsupported = errors.New("x12 translation: unsupported structure")
	// ErrInvalidOrder: the built order breaks paklog.order.v1; the
	// MappingError's Field is the JSON path.
	ErrInvalidOrder = errors.New("x12 translation: order breaks paklog.order.v1")
)

// MappingError is one problem found translating a set, located the way a
// trading partner needs it. Error reads like
//
//	line 14, PO1 (segment 9 of set 0001): PO102 quantity "x" is not a number
type MappingError struct {
	Line      int    // 1-based line of the segment in the file
	Offset    int64  // byte offset of the segment
	SegmentID string // e.g. "PO1"
	// Position is the segment's position in its set, ST being 1.
	Position         int
	SetControlNumber string // ST02
	Element          int    // 1-based element position, 0 for the whole segment
	// OrderLine is the order line's number (PO101, LX01…) when the problem
	// is in a line.
	OrderLine string
	// Field is the canonical field the element feeds, as a JSON path
	// ("lines[2].quantity", "ship_to.country"), when known.
	Field  string
	Value  string // the offending value, if any
	Detail string // what is wrong, without the location
	Err    error  // the sentinel
}

func (e *MappingError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d, %s", e.Line, e.SegmentID)
	if e.Position > 0 && e.SetControlNumber != "" {
		fmt.Fprintf(&b, " (segment %d of set %s)", e.Position, e.SetControlNumber)
	}
	b.WriteString(": ")
	if e.Element > 0 {
		fmt.Fprintf(&b, "%s%02d ", e.SegmentID, e.Element)
	}
	b.WriteString(e.Detail)
	return b.String()
}

func (e *MappingError) Unwrap() error { return e.Err }

// problems collects the MappingErrors of one set.
type problems struct {
	set  string
	errs edi.ErrorList
}

func (p *problems) add(s *edi.Segment, elem int, sentinel error, format string, args ...any) *MappingError {
	e := &MappingError{Element: elem, SetControlNumber: p.set, Detail: fmt.Sprintf(format, args...), Err: sentinel}
	if s != nil {
		e.Line, e.Offset, e.SegmentID, e.Position = s.Line, s.Offset, s.ID, s.Position
	}
	p.errs = append(p.errs, e)
	return e
}

func (p *problems) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return p.errs
}

// quote prints a value Go-quoted, cut after 40 bytes.
func quote(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q...", s[:40])
	}
	return fmt.Sprintf("%q", s)
}
