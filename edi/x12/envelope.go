package x12

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// Interchange is an ISA ... IEA envelope: who sends to whom, when, under
// which version and control number. The Decoder fills it from the ISA; the
// Writer builds an ISA from it (see Writer.BeginInterchange).
//
// Fields hold the ISA values without their padding spaces.
type Interchange struct {
	AuthorizationQualifier   string // ISA01, e.g. "00"
	AuthorizationInformation string // ISA02
	SecurityQualifier        string // ISA03, e.g. "00"
	SecurityInformation      string // ISA04
	SenderQualifier          string // ISA05, e.g. "ZZ"
	SenderID                 string // ISA06
	ReceiverQualifier        string // ISA07
	ReceiverID               string // ISA08
	Date                     string // ISA09, YYMMDD
	Time                     string // ISA10, HHMM
	Version                  string // ISA12, e.g. "00401"
	ControlNumber            string // ISA13, 9 digits
	AckRequested             string // ISA14, "0" or "1" (TA1 requested)
	Usage                    string // ISA15, "P" production, "T" test, "I" information

	Delimiters Delimiters // as declared by the ISA
	LineEnding string     // what followed the ISA's terminator: "", "\n", "\r\n" or "\r"

	// Set by the Decoder.
	Line       int   // line of the ISA
	Offset     int64 // byte offset of the ISA
	GroupCount int   // functional groups read so far
	// Errors are the interchange-level problems, each a *ValidationError or
	// *SyntaxError carrying a TA1 note code (TA105). Complete at the
	// InterchangeEnd event.
	Errors []error
}

// FunctionalGroup is a GS ... GE envelope: transaction sets of one
// functional kind (GS01, e.g. "PO" for 850s) and one version.
type FunctionalGroup struct {
	FunctionalID        string // GS01, e.g. "PO", "OW", "FA"
	ApplicationSender   string // GS02
	ApplicationReceiver string // GS03
	Date                string // GS04, CCYYMMDD
	Time                string // GS05, HHMM[SS[D[D]]]
	ControlNumber       string // GS06, 1 to 9 digits
	Agency              string // GS07, "X"
	Version             string // GS08, e.g. "004010"

	// Set by the Decoder.
	Interchange *Interchange
	Line        int
	Offset      int64
	SetCount    int // transaction sets read so far
	// Errors are the group-level problems, each a *ValidationError with an
	// AK905 code. Complete at the GroupEnd event.
	Errors []error

	geSeen bool // the GE was read and GE01 is a number, geSets
	geSets int
}

// TransactionSet is an ST ... SE envelope: one business document, such as
// an 850 purchase order.
type TransactionSet struct {
	ID                      string // ST01, e.g. "850"
	ControlNumber           string // ST02
	ImplementationReference string // ST03 (005010 and later), e.g. "005010X222"

	// Set by the Decoder.
	Group  *FunctionalGroup
	Line   int
	Offset int64
	// Segments are the set's segments, ST through SE.
	Segments []Segment
	// Errors are the set's problems, each carrying an AK502 code (or an
	// AK304/AK403 code for segment and element problems). A set with errors
	// is to be rejected; the sets after it are not affected.
	Errors []error

	data  []byte
	seps  []int32
	spans []setSpan
}

type setSpan struct{ raw0, raw1, sep0, sep1 int }

// Accepted reports whether the set has no errors.
func (ts *TransactionSet) Accepted() bool { return len(ts.Errors) == 0 }

// Clone returns a copy of ts that the Decoder does not reuse.
func (ts *TransactionSet) Clone() *TransactionSet {
	c := &TransactionSet{
		ID: ts.ID, ControlNumber: ts.ControlNumber, ImplementationReference: ts.ImplementationReference,
		Group: ts.Group, Line: ts.Line, Offset: ts.Offset,
		Errors: slices.Clone(ts.Errors),
		data:   bytes.Clone(ts.data),
		seps:   slices.Clone(ts.seps),
		spans:  slices.Clone(ts.spans),
	}
	c.Segments = slices.Clone(ts.Segments)
	c.seal()
	return c
}

func (ts *TransactionSet) reset(s *Segment) {
	ts.ID, ts.ControlNumber, ts.ImplementationReference = s.Element(1).String(), s.Element(2).String(), s.Element(3).String()
	ts.Line, ts.Offset = s.Line, s.Offset
	ts.Segments = ts.Segments[:0]
	ts.Errors = nil
	ts.data = ts.data[:0]
	ts.seps = ts.seps[:0]
	ts.spans = ts.spans[:0]
}

func (ts *TransactionSet) add(s *Segment) {
	sp := setSpan{raw0: len(ts.data), sep0: len(ts.seps)}
	ts.data = append(ts.data, s.raw...)
	ts.seps = append(ts.seps, s.seps...)
	sp.raw1, sp.sep1 = len(ts.data), len(ts.seps)
	ts.spans = append(ts.spans, sp)
	ts.Segments = append(ts.Segments, Segment{ID: s.ID, Line: s.Line, Offset: s.Offset, Position: s.Position, rep: s.rep, comp: s.comp})
}

// seal points the segments into the set's own buffers once they stop growing.
func (ts *TransactionSet) seal() {
	for i, sp := range ts.spans {
		ts.Segments[i].raw = ts.data[sp.raw0:sp.raw1:sp.raw1]
		ts.Segments[i].seps = ts.seps[sp.sep0:sp.sep1:sp.sep1]
	}
}

// EventKind tells what a Decoder event is about.
type EventKind uint8

const (
	// InterchangeStart: an ISA was read. Event.Interchange has its fields
	// and the problems found in the ISA itself.
	InterchangeStart EventKind = iota + 1
	// GroupStart: a GS was read.
	GroupStart
	// SetEnd: a complete transaction set, ST through SE (or up to where it
	// was cut short), in Event.Set with its problems.
	SetEnd
	// GroupEnd: a GE was read, or the group ended without one. The group's
	// Errors are complete.
	GroupEnd
	// InterchangeEnd: an IEA was read, or the interchange ended without
	// one. The interchange's Errors are complete.
	InterchangeEnd
	// TechnicalAck: a TA1 segment between the ISA and the first GS, in
	// Event.Segment.
	TechnicalAck
)

var eventNames = [...]string{"", "InterchangeStart", "GroupStart", "SetEnd", "GroupEnd", "InterchangeEnd", "TechnicalAck"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is one step through the envelope structure. Interchange is set for
// every event, Group for the group events and sets, Set for SetEnd, Segment
// for TechnicalAck.
type Event struct {
	Kind        EventKind
	Interchange *Interchange
	Group       *FunctionalGroup
	Set         *TransactionSet
	Segment     *Segment
}

// Decoder reads a stream as interchanges, functional groups and
// transaction sets, and validates the envelopes as it goes (and, with
// WithSpecs, each set's content): the ISA's fixed
// widths and values, ISA13 = IEA02, IEA01 = number of groups, GS06 = GE02,
// GE01 = number of sets, ST02 = SE02, SE01 = the number of segments ST
// through SE, trailers present, control numbers unique in their group.
//
// Problems are attached to the structure they condemn: the TransactionSet,
// FunctionalGroup or Interchange Errors, carrying the AK5, AK9 or TA1 code
// to acknowledge them with. A set with errors does not affect the sets
// after it. Next returns a *SyntaxError for stream-level problems (no ISA,
// data after the last IEA, an unreadable ISA): the caller may go on calling
// Next. Other errors are from the underlying reader and are final.
//
// Memory is bounded by the largest transaction set, whose segments are
// kept until the SetEnd event.
type Decoder struct {
	r         *Reader
	specs     *Specs
	validator setValidator

	ic    *Interchange
	grp   *FunctionalGroup
	inSet bool
	set   *TransactionSet
	// sets are used in turn, so that a set cut short by the next ST is not
	// overwritten by it before the caller sees it.
	sets [2]TransactionSet
	// setNumbers are the ST02s of the current group.
	setNumbers map[string]struct{}
	// stray is set when a segment outside any set has been reported, so
	// that a run of them is reported once.
	stray bool

	queue   []Event
	qhead   int
	pending error // a stream-level error to return once the queue is empty
	done    bool
	seenISA bool
}

// NewDecoder returns a Decoder reading from r.
func NewDecoder(r io.Reader, opts ...Option) *Decoder {
	return &Decoder{r: NewReader(r, opts...), specs: newConfig(opts).specs, setNumbers: make(map[string]struct{})}
}

// Next returns the next event, or io.EOF after the last one. The
// TransactionSet of a SetEnd event, and its segments, are reused by the
// following calls: use TransactionSet.Clone to keep them. Interchange and
// FunctionalGroup values are not reused.
func (d *Decoder) Next() (Event, error) {
	for {
		if d.qhead < len(d.queue) {
			ev := d.queue[d.qhead]
			d.queue[d.qhead] = Event{}
			d.qhead++
			return ev, nil
		}
		d.queue, d.qhead = d.queue[:0], 0
		if d.pending != nil {
			err := d.pending
			d.pending = nil
			return Event{}, err
		}
		if d.done {
			return Event{}, io.EOF
		}
		seg, err := d.r.Next()
		switch {
		case err == io.EOF:
			d.done = true
			d.closeAll(nil)
			if !d.seenISA {
				d.pending = &SyntaxError{Line: d.r.Line(), Offset: d.r.InputOffset(), Detail: "no ISA segment: the stream is not an X12 interchange", Err: ErrNoInterchange}
				d.seenISA = true // report it once
			}
		case err != nil:
			var se *SyntaxError
			if !errors.As(err, &se) {
				return Event{}, err
			}
			d.syntaxError(se)
		default:
			d.segment(seg)
		}
	}
}

func (d *Decoder) emit(ev Event) { d.queue = append(d.queue, ev) }

// syntaxError attaches a reader error to the structure it belongs to, or
// queues it for the caller.
func (d *Decoder) syntaxError(se *SyntaxError) {
	switch {
	case errors.Is(se, ErrSegmentTooLong), errors.Is(se, ErrEmptySegment):
		if d.inSet {
			se.Code = ak5Code("5")
			d.set.Errors = append(d.set.Errors, se)
			return
		}
		if d.ic != nil {
			se.Code = ta1Code("024")
			d.ic.Errors = append(d.ic.Errors, se)
			return
		}
	case errors.Is(se, ErrInvalidISA):
		d.closeAll(&Segment{ID: "ISA", Line: se.Line, Offset: se.Offset})
	case errors.Is(se, ErrNoInterchange):
		d.seenISA = true // said already: no need to repeat it at the end
	}
	d.pending = se
}

// segment moves the envelope state machine by one segment.
func (d *Decoder) segment(s *Segment) {
	if d.ic == nil && s.ID != "ISA" {
		return // the Reader only returns segments inside an interchange
	}
	switch s.ID {
	case "ISA":
		d.closeAll(s)
		d.startInterchange(s)
	case "IEA":
		d.closeGroup(s)
		d.endInterchange(s)
	case "GS":
		d.closeGroup(s)
		d.startGroup(s)
	case "GE":
		d.closeSet(s)
		if d.grp == nil {
			d.icError(s, 0, "", ta1Code("022"), ErrUnexpectedSegment, "GE without a GS")
			return
		}
		d.endGroup(s)
	case "ST":
		d.closeSet(s)
		d.startSet(s)
	case "SE":
		if !d.inSet {
			d.icError(s, 0, "", ta1Code("022"), ErrUnexpectedSegment, "SE without an ST")
			return
		}
		d.endSet(s)
	default:
		switch {
		case d.inSet:
			d.set.add(s)
			if !validSegmentID(s.ID) {
				d.setError(s, 0, s.ID, ak3Code("1"), ErrSegmentID, fmt.Sprintf("invalid segment ID %q (must be 2 or 3 upper-case letters and digits)", s.ID))
			}
		case s.ID == "TA1" && d.grp == nil:
			d.emit(Event{Kind: TechnicalAck, Interchange: d.ic, Segment: s.Clone()})
		case !d.stray:
			d.stray = true
			d.icError(s, 0, "", ta1Code("022"), ErrUnexpectedSegment, fmt.Sprintf("segment %s is outside any transaction set", quote([]byte(s.ID))))
		}
		return
	}
	d.stray = false
}

func validSegmentID(id string) bool {
	if len(id) < 2 || len(id) > 3 || id[0] < 'A' || id[0] > 'Z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// vErr builds a *ValidationError located at segment s (or at the end of the
// stream when s is nil).
func (d *Decoder) vErr(s *Segment, elem int, value string, code Code, sentinel error, detail string) *ValidationError {
	e := &ValidationError{Element: elem, Value: value, Detail: detail, Code: code, Err: sentinel}
	if s == nil {
		e.Line, e.Offset = d.r.Line(), d.r.InputOffset()
		return e
	}
	e.Line, e.Offset, e.SegmentID, e.Position = s.Line, s.Offset, s.ID, s.Position
	if s.Position > 0 && d.set != nil {
		e.SetControlNumber = d.set.ControlNumber
	}
	return e
}

func (d *Decoder) icError(s *Segment, elem int, value string, code Code, sentinel error, detail string) {
	d.ic.Errors = append(d.ic.Errors, d.vErr(s, elem, value, code, sentinel, detail))
}

func (d *Decoder) groupError(s *Segment, elem int, value string, code Code, sentinel error, detail string) {
	d.grp.Errors = append(d.grp.Errors, d.vErr(s, elem, value, code, sentinel, detail))
}

func (d *Decoder) setError(s *Segment, elem int, value string, code Code, sentinel error, detail string) {
	d.set.Errors = append(d.set.Errors, d.vErr(s, elem, value, code, sentinel, detail))
}

// where describes the end of a structure that lacks its trailer.
func where(s *Segment) string {
	if s == nil {
		return "at the end of the stream"
	}
	return "at this " + s.ID
}

func (d *Decoder) startInterchange(s *Segment) {
	d.seenISA = true
	el := func(i int) string { return string(bytes.TrimRight(s.Element(i).b, " ")) }
	ic := &Interchange{
		AuthorizationQualifier:   el(1),
		AuthorizationInformation: el(2),
		SecurityQualifier:        el(3),
		SecurityInformation:      el(4),
		SenderQualifier:          el(5),
		SenderID:                 el(6),
		ReceiverQualifier:        el(7),
		ReceiverID:               el(8),
		Date:                     el(9),
		Time:                     el(10),
		Version:                  el(12),
		ControlNumber:            el(13),
		AckRequested:             el(14),
		Usage:                    el(15),
		Delimiters:               d.r.Delimiters(),
		LineEnding:               d.r.LineEnding(),
		Line:                     s.Line,
		Offset:                   s.Offset,
	}
	d.ic = ic
	d.stray = false
	for _, err := range checkISA(s) {
		err.Line, err.Offset = s.Line, s.Offset
		ic.Errors = append(ic.Errors, err)
	}
	d.emit(Event{Kind: InterchangeStart, Interchange: ic})
}

func (d *Decoder) endInterchange(s *Segment) {
	ic := d.ic
	if n := s.Element(1).String(); !isDigits(n) || atoi(n) != ic.GroupCount {
		d.icError(s, 1, n, ta1Code("021"), ErrGroupCount, fmt.Sprintf("says %s functional groups, the interchange has %d", quoteIfOdd(n), ic.GroupCount))
	}
	if n := s.Element(2).String(); !sameNumber(n, ic.ControlNumber) {
		d.icError(s, 2, n, ta1Code("001"), ErrControlNumberMismatch, fmt.Sprintf("%q does not match ISA13 %q", n, ic.ControlNumber))
	}
	d.emit(Event{Kind: InterchangeEnd, Interchange: ic})
	d.ic = nil
}

func (d *Decoder) startGroup(s *Segment) {
	ic := d.ic
	g := &FunctionalGroup{
		FunctionalID:        s.Element(1).String(),
		ApplicationSender:   s.Element(2).String(),
		ApplicationReceiver: s.Element(3).String(),
		Date:                s.Element(4).String(),
		Time:                s.Element(5).String(),
		ControlNumber:       s.Element(6).String(),
		Agency:              s.Element(7).String(),
		Version:             s.Element(8).String(),
		Interchange:         ic,
		Line:                s.Line,
		Offset:              s.Offset,
	}
	ic.GroupCount++
	d.grp = g
	clear(d.setNumbers)
	if s.Len() < 8 {
		d.icError(s, 0, "", ta1Code("024"), ErrMissingElement, fmt.Sprintf("GS has %d elements, it needs 8", s.Len()))
	}
	if cn := g.ControlNumber; !isDigits(cn) || len(cn) > 9 {
		d.groupError(s, 6, cn, ak9Code("6"), ErrNotNumeric, fmt.Sprintf("%q is not a group control number (1 to 9 digits)", cn))
	}
	d.emit(Event{Kind: GroupStart, Interchange: ic, Group: g})
}

func (d *Decoder) endGroup(s *Segment) {
	g := d.grp
	if n := s.Element(1).String(); isDigits(n) {
		g.geSeen, g.geSets = true, atoi(n)
	}
	if n := s.Element(1).String(); !isDigits(n) || atoi(n) != g.SetCount {
		d.groupError(s, 1, n, ak9Code("5"), ErrSetCount, fmt.Sprintf("says %s transaction sets, the group has %d", quoteIfOdd(n), g.SetCount))
	}
	if n := s.Element(2).String(); !sameNumber(n, g.ControlNumber) {
		d.groupError(s, 2, n, ak9Code("4"), ErrControlNumberMismatch, fmt.Sprintf("%q does not match GS06 %q", n, g.ControlNumber))
	}
	d.emit(Event{Kind: GroupEnd, Interchange: d.ic, Group: g})
	d.grp = nil
}

func (d *Decoder) startSet(s *Segment) {
	d.inSet = true
	if d.set == &d.sets[0] {
		d.set = &d.sets[1]
	} else {
		d.set = &d.sets[0]
	}
	ts := d.set
	ts.reset(s)
	ts.Group = d.grp
	ts.add(s)
	if id := ts.ID; len(id) != 3 || !isDigits(id) {
		d.setError(s, 1, id, ak5Code("6"), ErrInvalidCode, fmt.Sprintf("%q is not a transaction set identifier (3 digits)", id))
	}
	switch cn := ts.ControlNumber; {
	case cn == "":
		d.setError(s, 2, cn, ak5Code("7"), ErrMissingElement, "transaction set control number is missing")
	case len(cn) < 4:
		d.setError(s, 2, cn, ak5Code("7"), ErrTooShort, fmt.Sprintf("%q is shorter than 4 characters", cn))
	case len(cn) > 9:
		d.setError(s, 2, cn, ak5Code("7"), ErrTooLong, fmt.Sprintf("%q is longer than 9 characters", cn))
	}
	if d.grp == nil {
		return // reported when the set ends
	}
	d.grp.SetCount++
	if _, dup := d.setNumbers[ts.ControlNumber]; dup {
		d.setError(s, 2, ts.ControlNumber, ak5Code("23"), ErrDuplicateControlNumber, fmt.Sprintf("%q is the control number of an earlier set in group %s", ts.ControlNumber, d.grp.ControlNumber))
	} else if len(d.setNumbers) < 1<<20 {
		d.setNumbers[ts.ControlNumber] = struct{}{}
	}
}

func (d *Decoder) endSet(s *Segment) {
	ts := d.set
	ts.add(s)
	if n := s.Element(1).String(); !isDigits(n) || atoi(n) != s.Position {
		d.setError(s, 1, n, ak5Code("4"), ErrSegmentCount, fmt.Sprintf("says %s segments, the set has %d", quoteIfOdd(n), s.Position))
	}
	if n := s.Element(2).String(); n != ts.ControlNumber {
		d.setError(s, 2, n, ak5Code("3"), ErrControlNumberMismatch, fmt.Sprintf("%q does not match ST02 %q", n, ts.ControlNumber))
	}
	d.finishSet()
}

// finishSet yields the set, or, outside a group, reports it on the
// interchange.
func (d *Decoder) finishSet() {
	ts := d.set
	d.inSet = false
	ts.seal()
	if d.grp == nil {
		first := ts.Segments[0]
		d.icError(&Segment{ID: "ST", Line: first.Line, Offset: first.Offset}, 0, "", ta1Code("024"), ErrUnexpectedSegment,
			fmt.Sprintf("transaction set %s %s is outside a functional group (no GS before it)", ts.ID, ts.ControlNumber))
		d.ic.Errors = append(d.ic.Errors, ts.Errors...)
		return
	}
	if d.specs != nil {
		if spec := d.specs.Set(d.grp.Version, ts.ID); spec != nil {
			ts.Errors = append(ts.Errors, d.validator.run(spec, ts)...)
		}
	}
	d.emit(Event{Kind: SetEnd, Interchange: d.ic, Group: d.grp, Set: ts})
}

// closeSet ends an open set that lacks its SE, at segment s (nil: the end
// of the stream).
func (d *Decoder) closeSet(s *Segment) {
	if !d.inSet {
		return
	}
	d.set.Errors = append(d.set.Errors, d.vErr(s, 0, "", ak5Code("2"), ErrMissingTrailer,
		fmt.Sprintf("transaction set %s (line %d) ends %s without its SE trailer", d.set.ControlNumber, d.set.Line, where(s))))
	d.finishSet()
}

// closeGroup ends an open set and an open group that lacks its GE.
func (d *Decoder) closeGroup(s *Segment) {
	d.closeSet(s)
	if d.grp == nil {
		return
	}
	d.groupError(s, 0, "", ak9Code("3"), ErrMissingTrailer,
		fmt.Sprintf("functional group %s (line %d) ends %s without its GE trailer", d.grp.ControlNumber, d.grp.Line, where(s)))
	d.emit(Event{Kind: GroupEnd, Interchange: d.ic, Group: d.grp})
	d.grp = nil
}

// closeAll ends whatever is open, at segment s (nil: the end of the stream).
func (d *Decoder) closeAll(s *Segment) {
	d.closeGroup(s)
	if d.ic == nil {
		return
	}
	d.icError(s, 0, "", ta1Code("023"), ErrMissingTrailer,
		fmt.Sprintf("interchange %s (line %d) ends %s without its IEA trailer", d.ic.ControlNumber, d.ic.Line, where(s)))
	d.emit(Event{Kind: InterchangeEnd, Interchange: d.ic})
	d.ic = nil
}

// Validate reads the whole stream and returns every problem found in its
// envelopes, in stream order, as an ErrorList; nil if there is none.
func Validate(r io.Reader, opts ...Option) error {
	d := NewDecoder(r, opts...)
	var errs ErrorList
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, err)
			var se *SyntaxError
			if errors.As(err, &se) {
				continue
			}
			break
		}
		switch ev.Kind {
		case SetEnd:
			errs = append(errs, ev.Set.Errors...)
		case GroupEnd:
			errs = append(errs, ev.Group.Errors...)
		case InterchangeEnd:
			errs = append(errs, ev.Interchange.Errors...)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(errorOffset(a), errorOffset(b)) })
	return errs
}

// errorOffset is where an error is located in the stream, for sorting.
func errorOffset(err error) int64 {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Offset
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Offset
	}
	return 1<<63 - 1
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// atoi converts a string of digits, saturating instead of overflowing.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if n > 1<<40 {
			return n
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// sameNumber compares control numbers: as numbers when both are digits
// (X12 control numbers are N0: 000003438 and 3438 are the same number),
// as text otherwise.
func sameNumber(a, b string) bool {
	if isDigits(a) && isDigits(b) {
		return trimZeros(a) == trimZeros(b)
	}
	return a == b
}

func trimZeros(s string) string {
	for len(s) > 1 && s[0] == '0' {
		s = s[1:]
	}
	return s
}

// quoteIfOdd prints a count as is when it is digits, quoted otherwise.
func quoteIfOdd(s string) string {
	if isDigits(s) {
		return s
	}
	return strconv.Quote(s)
}
