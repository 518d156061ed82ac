package x12

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var (
	// ErrDelimiterInData: a value to write contains one of the writer's
	// delimiters. X12 has no escape character, so the value cannot be
	// written; change the delimiters or the value.
	ErrDelimiterInData = errors.New("x12: value contains a delimiter")
	// ErrEnvelope: a Writer envelope helper called out of order (a group
	// outside an interchange, an interchange ended with a set open...).
	ErrEnvelope = errors.New("x12: envelope helpers called out of order")
)

// Value is one element to write with Writer.WriteValues: its repetitions,
// each a list of components. Simple, Composite and Repeated build one.
type Value [][]string

// Simple is a simple element.
func Simple(s string) Value { return Value{{s}} }

// Composite is a composite element made of components, e.g.
// Composite("8", "2") for an AK401 pointing at the second component of
// element 8.
func Composite(components ...string) Value { return Value{components} }

// Repeated is an element repeated with the repetition separator (version
// 00402 and later); each repetition a simple or composite value.
func Repeated(reps ...Value) Value {
	var v Value
	for _, r := range reps {
		v = append(v, r...)
	}
	return v
}

// WriterOption configures a Writer.
type WriterOption func(*Writer) error

// WithLineEnding writes le after every segment terminator: "" (the default,
// one long line), "\n", "\r\n" or "\r", as the partner expects.
func WithLineEnding(le string) WriterOption {
	return func(w *Writer) error { return w.SetLineEnding(le) }
}

// Writer writes X12 segments with a partner's delimiters and line-ending
// habit. It refuses values that contain a delimiter (X12 has no escape
// character) with ErrDelimiterInData.
//
// Segments can be written one by one with Write, WriteValues or
// WriteSegment, envelope segments included; or the envelope helpers
// (BeginInterchange ... EndInterchange) write ISA/IEA, GS/GE and ST/SE with
// the counts computed (IEA01, GE01, SE01) from the control numbers the
// caller supplies. Output is buffered: call Flush at the end.
//
// A Writer is not safe for concurrent use.
type Writer struct {
	bw  *bufio.Writer
	d   Delimiters
	cur Delimiters // d as usable in the open interchange (no repetition before 00402)
	le  string
	err error
	buf []byte

	icOpen, groupOpen, setOpen bool
	icControl, groupControl    string
	setControl                 string
	groups, sets, segments     int
}

// NewWriter returns a Writer writing to w with delimiters d.
func NewWriter(w io.Writer, d Delimiters, opts ...WriterOption) (*Writer, error) {
	wr := &Writer{bw: bufio.NewWriter(w)}
	if err := wr.SetDelimiters(d); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(wr); err != nil {
			return nil, err
		}
	}
	return wr, nil
}

// Delimiters returns the writer's delimiters.
func (w *Writer) Delimiters() Delimiters { return w.d }

// SetDelimiters changes the delimiters for the next interchange; it fails
// inside an interchange begun with BeginInterchange.
func (w *Writer) SetDelimiters(d Delimiters) error {
	if w.icOpen {
		return fmt.Errorf("changing delimiters inside interchange %s: %w", w.icControl, ErrEnvelope)
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if strings.ContainsAny(w.le, string([]byte{d.Element, d.Component})) || d.Repetition != 0 && strings.IndexByte(w.le, d.Repetition) >= 0 {
		return fmt.Errorf("x12: line ending %q contains a delimiter", w.le)
	}
	w.d, w.cur = d, d
	return nil
}

// SetLineEnding changes what is written after each segment terminator: "",
// "\n", "\r\n" or "\r".
func (w *Writer) SetLineEnding(le string) error {
	switch le {
	case "", "\n", "\r\n", "\r":
	default:
		return fmt.Errorf("x12: line ending %q is not \"\", \"\\n\", \"\\r\\n\" or \"\\r\"", le)
	}
	for i := 0; i < len(le); i++ {
		if c := le[i]; c == w.d.Element || c == w.d.Component || c == w.d.Repetition && c != 0 {
			return fmt.Errorf("x12: line ending %q contains a delimiter", le)
		}
	}
	w.le = le
	return nil
}

// Write writes a segment whose elements are simple values. Trailing empty
// elements are left out, as X12 requires.
func (w *Writer) Write(id string, elements ...string) error {
	if err := w.startSegment(id); err != nil {
		return err
	}
	n := len(elements)
	for n > 0 && elements[n-1] == "" {
		n--
	}
	for i, v := range elements[:n] {
		if err := w.checkData(id, i+1, 0, v); err != nil {
			return err
		}
		w.buf = append(w.buf, w.cur.Element)
		w.buf = append(w.buf, v...)
	}
	return w.endSegment()
}

// WriteValues writes a segment whose elements may be composite or
// repeated. Trailing empty elements and components are left out.
func (w *Writer) WriteValues(id string, elements ...Value) error {
	if err := w.startSegment(id); err != nil {
		return err
	}
	n := len(elements)
	for n > 0 && valueEmpty(elements[n-1]) {
		n--
	}
	for i, v := range elements[:n] {
		w.buf = append(w.buf, w.cur.Element)
		if len(v) > 1 && w.cur.Repetition == 0 {
			return fmt.Errorf("x12: writing %s%02d: %d repetitions but the interchange has no repetition separator (ISA12 00402 or later): %w", id, i+1, len(v), ErrDelimiterInData)
		}
		for r, comps := range v {
			if r > 0 {
				w.buf = append(w.buf, w.cur.Repetition)
			}
			m := len(comps)
			for m > 1 && comps[m-1] == "" {
				m--
			}
			for c, s := range comps[:m] {
				if c > 0 {
					w.buf = append(w.buf, w.cur.Component)
				}
				comp := c + 1
				if m == 1 {
					comp = 0
				}
				if err := w.checkData(id, i+1, comp, s); err != nil {
					return err
				}
				w.buf = append(w.buf, s...)
			}
		}
	}
	return w.endSegment()
}

func valueEmpty(v Value) bool {
	for _, r := range v {
		for _, c := range r {
			if c != "" {
				return false
			}
		}
	}
	return true
}

// WriteSegment writes a segment read by a Reader, possibly from a stream
// with other delimiters: its elements, repetitions and components are
// re-encoded with the writer's delimiters, empty trailing elements kept. An
// ISA gets the writer's component separator (ISA16) and, from version 00402
// on, its repetition separator (ISA11); before 00402 ISA11 is kept and
// repetitions are unavailable until the IEA.
func (w *Writer) WriteSegment(s *Segment) error {
	if w.err != nil {
		return w.err
	}
	w.buf = append(w.buf[:0], s.ID...)
	// The ID is not split on components or repetitions: only the element
	// separator and terminator would change it.
	if strings.IndexByte(s.ID, w.cur.Element) >= 0 || strings.Contains(s.ID, w.cur.Segment) {
		return fmt.Errorf("x12: writing segment ID %q: %w", s.ID, ErrDelimiterInData)
	}
	if len(s.raw) > 0 && s.raw[0]&0xC0 == 0x80 && len(w.cur.Segment) == 1 && w.cur.Segment[0] >= 0xC0 && w.le == "" {
		// The terminator and this byte would read back as one UTF-8
		// character, the terminator of a different interchange.
		return fmt.Errorf("x12: writing segment %q: it starts with a byte that would merge with the terminator %q: %w", s.raw[:1], w.cur.Segment, ErrDelimiterInData)
	}
	if s.ID == "ISA" {
		// As in BeginInterchange: no repetition separator before 00402.
		w.cur = w.d
		if string(s.Element(12).b) < "00402" {
			w.cur.Repetition = 0
		}
		for i := 1; i <= s.Len(); i++ {
			v := s.Element(i).b
			switch {
			case i == 11 && w.cur.Repetition != 0:
				v = []byte{w.cur.Repetition}
			case i == 16:
				v = []byte{w.cur.Component}
			default:
				if bytes.IndexByte(v, w.cur.Element) >= 0 || bytes.Contains(v, []byte(w.cur.Segment)) {
					return fmt.Errorf("x12: writing ISA%02d %s: %w", i, quote(v), ErrDelimiterInData)
				}
			}
			w.buf = append(w.buf, w.cur.Element)
			w.buf = append(w.buf, v...)
		}
		return w.endSegment()
	}
	for i := 1; i <= s.Len(); i++ {
		w.buf = append(w.buf, w.cur.Element)
		e := s.Element(i)
		for r := 1; r <= e.NumRepetitions(); r++ {
			if r > 1 {
				if w.cur.Repetition == 0 {
					return fmt.Errorf("x12: writing %s%02d: repetitions but no repetition separator: %w", s.ID, i, ErrDelimiterInData)
				}
				w.buf = append(w.buf, w.cur.Repetition)
			}
			rep := e.Repetition(r)
			nc := rep.NumComponents()
			for c := 1; c <= nc; c++ {
				if c > 1 {
					w.buf = append(w.buf, w.cur.Component)
				}
				v := rep.Component(c).b
				comp := c
				if nc == 1 {
					comp = 0
				}
				if err := w.checkData(s.ID, i, comp, string(v)); err != nil {
					return err
				}
				w.buf = append(w.buf, v...)
			}
		}
	}
	err := w.endSegment()
	if s.ID == "IEA" {
		w.cur = w.d
	}
	return err
}

func (w *Writer) startSegment(id string) error {
	if w.err != nil {
		return w.err
	}
	if !validSegmentID(id) {
		return fmt.Errorf("x12: writing segment %q: %w", id, ErrSegmentID)
	}
	w.buf = append(w.buf[:0], id...)
	return nil
}

func (w *Writer) endSegment() error {
	w.buf = append(w.buf, w.cur.Segment...)
	w.buf = append(w.buf, w.le...)
	if _, err := w.bw.Write(w.buf); err != nil {
		w.err = fmt.Errorf("x12: writing: %w", err)
		return w.err
	}
	if w.setOpen {
		w.segments++
	}
	return nil
}

// checkData refuses a value holding one of the delimiters.
func (w *Writer) checkData(id string, elem, comp int, v string) error {
	d := w.cur
	name := ""
	switch {
	case strings.IndexByte(v, d.Element) >= 0:
		name = "element separator"
	case strings.IndexByte(v, d.Component) >= 0:
		name = "component separator"
	case d.Repetition != 0 && strings.IndexByte(v, d.Repetition) >= 0:
		name = "repetition separator"
	case strings.Contains(v, d.Segment):
		name = "segment terminator"
	default:
		return nil
	}
	ref := id
	if elem > 0 {
		ref = fmt.Sprintf("%s%02d", id, elem)
		if comp > 0 {
			ref += "-" + strconv.Itoa(comp)
		}
	}
	return fmt.Errorf("x12: writing %s: %q contains the %s %q: %w", ref, v, name, delimOf(name, d), ErrDelimiterInData)
}

func delimOf(name string, d Delimiters) string {
	switch name {
	case "element separator":
		return string(d.Element)
	case "component separator":
		return string(d.Component)
	case "repetition separator":
		return string(d.Repetition)
	}
	return d.Segment
}

// Flush writes any buffered data to the underlying io.Writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		w.err = fmt.Errorf("x12: writing: %w", err)
	}
	return w.err
}

// BeginInterchange writes the ISA for ic with the writer's delimiters: the
// fields padded to their fixed widths (106 bytes with the terminator),
// ISA13 zero-padded to 9 digits, ISA11 the repetition separator from
// version 00402 on ("U" before, when repetitions are not available),
// ISA16 the component separator. Empty AuthorizationQualifier and
// SecurityQualifier default to "00", AckRequested to "0". The other fields
// are required; the result is validated as a received ISA would be.
func (w *Writer) BeginInterchange(ic *Interchange) error {
	if w.err != nil {
		return w.err
	}
	if w.icOpen {
		return fmt.Errorf("beginning an interchange inside interchange %s: %w", w.icControl, ErrEnvelope)
	}
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return v
	}
	var errs ErrorList
	required := func(name, v string) string {
		if v == "" {
			errs = append(errs, fmt.Errorf("x12: writing ISA: %s is required: %w", name, ErrMissingElement))
		}
		return v
	}
	version := required("Version (ISA12)", ic.Version)
	cur := w.d
	isa11 := "U"
	if version >= "00402" {
		if cur.Repetition == 0 {
			errs = append(errs, fmt.Errorf("x12: writing ISA: version %s needs a repetition separator in ISA11 (Delimiters.Repetition): %w", version, ErrMissingElement))
		}
		isa11 = string(cur.Repetition)
	} else {
		cur.Repetition = 0
	}
	control := required("ControlNumber (ISA13)", ic.ControlNumber)
	if isDigits(control) && len(control) < 9 {
		control = strings.Repeat("0", 9-len(control)) + control
	}
	fields := [16]string{
		or(ic.AuthorizationQualifier, "00"),
		ic.AuthorizationInformation,
		or(ic.SecurityQualifier, "00"),
		ic.SecurityInformation,
		required("SenderQualifier (ISA05)", ic.SenderQualifier),
		required("SenderID (ISA06)", ic.SenderID),
		required("ReceiverQualifier (ISA07)", ic.ReceiverQualifier),
		required("ReceiverID (ISA08)", ic.ReceiverID),
		required("Date (ISA09)", ic.Date),
		required("Time (ISA10)", ic.Time),
		isa11,
		version,
		control,
		or(ic.AckRequested, "0"),
		required("Usage (ISA15)", ic.Usage),
		string(cur.Component),
	}
	line := []byte("ISA")
	seps := make([]int32, 0, 16)
	for i, v := range fields {
		if i < 15 && (strings.IndexByte(v, cur.Element) >= 0 || strings.Contains(v, cur.Segment)) {
			errs = append(errs, fmt.Errorf("x12: writing ISA%02d %q: %w", i+1, v, ErrDelimiterInData))
		}
		if pad := isaFields[i].width - len(v); pad > 0 {
			v += strings.Repeat(" ", pad)
		}
		seps = append(seps, int32(len(line)))
		line = append(line, cur.Element)
		line = append(line, v...)
	}
	if len(errs) == 0 {
		for _, e := range checkISA(&Segment{ID: "ISA", raw: line, seps: seps}) {
			errs = append(errs, fmt.Errorf("x12: writing ISA%02d: %s: %w", e.Element, e.Detail, e.Err))
		}
	}
	if len(errs) > 0 {
		return errs
	}
	w.cur = cur
	w.buf = append(w.buf[:0], line...)
	w.icOpen, w.icControl, w.groups = true, control, 0
	if err := w.endSegment(); err != nil {
		return err
	}
	return nil
}

// EndInterchange writes the IEA: the number of groups written and the
// interchange control number.
func (w *Writer) EndInterchange() error {
	if !w.icOpen || w.groupOpen {
		return fmt.Errorf("ending an interchange: %w", w.envelopeState())
	}
	w.icOpen = false
	err := w.Write("IEA", strconv.Itoa(w.groups), w.icControl)
	w.cur = w.d
	return err
}

// BeginGroup writes the GS for g. GS07 (Agency) defaults to "X"; the other
// fields are required.
func (w *Writer) BeginGroup(g *FunctionalGroup) error {
	if !w.icOpen || w.groupOpen {
		return fmt.Errorf("beginning a functional group: %w", w.envelopeState())
	}
	var errs ErrorList
	for _, f := range []struct{ name, v string }{
		{"FunctionalID (GS01)", g.FunctionalID}, {"ApplicationSender (GS02)", g.ApplicationSender},
		{"ApplicationReceiver (GS03)", g.ApplicationReceiver}, {"Date (GS04)", g.Date}, {"Time (GS05)", g.Time},
		{"ControlNumber (GS06)", g.ControlNumber}, {"Version (GS08)", g.Version},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("x12: writing GS: %s is required: %w", f.name, ErrMissingElement))
		}
	}
	if g.ControlNumber != "" && (!isDigits(g.ControlNumber) || len(g.ControlNumber) > 9) {
		errs = append(errs, fmt.Errorf("x12: writing GS06 %q: not 1 to 9 digits: %w", g.ControlNumber, ErrNotNumeric))
	}
	if len(errs) > 0 {
		return errs
	}
	agency := g.Agency
	if agency == "" {
		agency = "X"
	}
	if err := w.Write("GS", g.FunctionalID, g.ApplicationSender, g.ApplicationReceiver, g.Date, g.Time, g.ControlNumber, agency, g.Version); err != nil {
		return err
	}
	w.groupOpen, w.groupControl, w.sets = true, g.ControlNumber, 0
	w.groups++
	return nil
}

// EndGroup writes the GE: the number of sets written and the group control
// number.
func (w *Writer) EndGroup() error {
	if !w.groupOpen || w.setOpen {
		return fmt.Errorf("ending a functional group: %w", w.envelopeState())
	}
	w.groupOpen = false
	return w.Write("GE", strconv.Itoa(w.sets), w.groupControl)
}

// BeginSet writes the ST for ts: ST01 ts.ID, ST02 ts.ControlNumber (4 to 9
// characters), ST03 ts.ImplementationReference if set.
func (w *Writer) BeginSet(ts *TransactionSet) error {
	if !w.groupOpen || w.setOpen {
		return fmt.Errorf("beginning a transaction set: %w", w.envelopeState())
	}
	if len(ts.ID) != 3 || !isDigits(ts.ID) {
		return fmt.Errorf("x12: writing ST01 %q: not a transaction set identifier (3 digits): %w", ts.ID, ErrInvalidCode)
	}
	if n := len(ts.ControlNumber); n < 4 || n > 9 {
		return fmt.Errorf("x12: writing ST02 %q: must be 4 to 9 characters: %w", ts.ControlNumber, ErrTooShort)
	}
	if err := w.Write("ST", ts.ID, ts.ControlNumber, ts.ImplementationReference); err != nil {
		return err
	}
	w.setOpen, w.setControl, w.segments = true, ts.ControlNumber, 1
	w.sets++
	return nil
}

// EndSet writes the SE: the number of segments ST through SE and the set
// control number.
func (w *Writer) EndSet() error {
	if !w.setOpen {
		return fmt.Errorf("ending a transaction set: %w", w.envelopeState())
	}
	w.setOpen = false
	return w.Write("SE", strconv.Itoa(w.segments+1), w.setControl)
}

func (w *Writer) envelopeState() error {
	state := "nothing open"
	switch {
	case w.setOpen:
		state = "transaction set " + w.setControl + " open"
	case w.groupOpen:
		state = "functional group " + w.groupControl + " open"
	case w.icOpen:
		state = "interchange " + w.icControl + " open"
	}
	return fmt.Errorf("%s: %w", state, ErrEnvelope)
}

// FormatControlNumber writes sequence number n as the control number of an envelope
// segment: ISA13 is nine digits, zero-padded; ST02 at least four (its minimum length);
// GS06 and others as they are.
func FormatControlNumber(segment string, n int64) string {
	switch segment {
	case "ISA", "IEA":
		return fmt.Sprintf("%09d", n)
	case "ST", "SE":
		return fmt.Sprintf("%04d", n)
	}
	return strconv.FormatInt(n, 10)
}
