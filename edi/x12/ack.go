package x12

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// FunctionalAck is the acknowledgement of one functional group, built from
// the Decoder's events and written as a 997: an AK2 loop per transaction
// set (AK3/AK4 for its segment and element errors, AK5 accepted or
// rejected with its codes) and an AK9 for the group.
//
// It keeps the IDs, control numbers and errors of the group's sets, not
// their segments.
type FunctionalAck struct {
	Group *FunctionalGroup
	sets  []setAck
}

type setAck struct {
	id, control string
	codes       []string // AK502 codes
	segments    []segmentAck
}

type segmentAck struct {
	id       string
	position int
	code     string // AK304; "8" when only its elements are wrong
	elements []*ValidationError
}

// NewFunctionalAck starts the acknowledgement of group g (at its
// GroupStart event).
func NewFunctionalAck(g *FunctionalGroup) *FunctionalAck { return &FunctionalAck{Group: g} }

// Add records the result of a transaction set of the group (at its SetEnd
// event).
func (a *FunctionalAck) Add(ts *TransactionSet) {
	sa := setAck{id: ts.ID, control: ts.ControlNumber}
	addCode := func(c string) {
		if !slices.Contains(sa.codes, c) {
			sa.codes = append(sa.codes, c)
		}
	}
	for _, err := range ts.Errors {
		var ve *ValidationError
		var se *SyntaxError
		switch {
		case errors.As(err, &ve) && (ve.Code.Element == "AK304" || ve.Code.Element == "AK403"):
			addCode("5")
			seg := sa.segment(ve.SegmentID, ve.Position)
			if ve.Code.Element == "AK304" {
				seg.code = ve.Code.Value
			} else if len(seg.elements) < 99 {
				seg.elements = append(seg.elements, ve)
			}
		case errors.As(err, &ve) && ve.Code.Element == "AK502":
			addCode(ve.Code.Value)
		case errors.As(err, &se) && se.Code.Element == "AK502":
			addCode(se.Code.Value)
		default:
			addCode("5")
		}
	}
	slices.SortStableFunc(sa.segments, func(x, y segmentAck) int { return cmp.Compare(x.position, y.position) })
	a.sets = append(a.sets, sa)
}

func (sa *setAck) segment(id string, position int) *segmentAck {
	for i := range sa.segments {
		if s := &sa.segments[i]; s.id == id && s.position == position {
			return s
		}
	}
	sa.segments = append(sa.segments, segmentAck{id: id, position: position, code: "8"})
	return &sa.segments[len(sa.segments)-1]
}

// Accepted returns how many of the group's sets were accepted.
func (a *FunctionalAck) Accepted() int {
	n := 0
	for _, s := range a.sets {
		if len(s.codes) == 0 {
			n++
		}
	}
	return n
}

// Code returns AK901: "A" when the group and all its sets are accepted,
// "P" when only some sets are, "R" when none is or the group itself is in
// error (its GE disagrees with its content).
func (a *FunctionalAck) Code() string {
	switch accepted := a.Accepted(); {
	case len(a.Group.Errors) > 0 || accepted == 0 && len(a.sets) > 0:
		return "R"
	case accepted < len(a.sets):
		return "P"
	}
	return "A"
}

// Write997 writes the acknowledgement as a 997 transaction set with control
// number controlNumber (4 to 9 characters), inside the functional group
// ("FA") the caller has begun on w.
func (a *FunctionalAck) Write997(w *Writer, controlNumber string) error {
	g := a.Group
	steps := []func() error{
		func() error { return w.BeginSet(&TransactionSet{ID: "997", ControlNumber: controlNumber}) },
		func() error { return w.Write("AK1", g.FunctionalID, g.ControlNumber) },
	}
	for _, s := range a.sets {
		steps = append(steps, func() error { return w.Write("AK2", s.id, s.control) })
		for _, seg := range s.segments {
			steps = append(steps, func() error { return w.Write("AK3", seg.id, strconv.Itoa(seg.position), "", seg.code) })
			for _, e := range seg.elements {
				pos := Simple(strconv.Itoa(e.Element))
				if e.Component > 0 {
					pos = Composite(strconv.Itoa(e.Element), strconv.Itoa(e.Component))
				}
				steps = append(steps, func() error {
					return w.WriteValues("AK4", pos, Simple(e.ElementRef), Simple(e.Code.Value), Simple(ackCopy(e.Value, w.cur)))
				})
			}
		}
		steps = append(steps, func() error {
			status := "A"
			if len(s.codes) > 0 {
				status = "R"
			}
			return w.Write("AK5", append([]string{status}, s.codes[:min(len(s.codes), 5)]...)...)
		})
	}
	steps = append(steps, func() error {
		var codes []string
		for _, err := range g.Errors {
			var ve *ValidationError
			if errors.As(err, &ve) && ve.Code.Element == "AK905" && !slices.Contains(codes, ve.Code.Value) && len(codes) < 5 {
				codes = append(codes, ve.Code.Value)
			}
		}
		included := strconv.Itoa(g.declaredSets(len(a.sets)))
		return w.Write("AK9", append([]string{a.Code(), included, strconv.Itoa(len(a.sets)), strconv.Itoa(a.Accepted())}, codes...)...)
	}, w.EndSet)
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("writing the 997 for group %s: %w", g.ControlNumber, err)
		}
	}
	return nil
}

// ackCopy is the bad value as AK404 can carry it: without the delimiters
// it may hold, at most 99 characters.
func ackCopy(v string, d Delimiters) string {
	b := []byte(v)
	out := b[:0]
	for _, c := range b {
		if c != d.Element && c != d.Component && (d.Repetition == 0 || c != d.Repetition) && (len(d.Segment) != 1 || c != d.Segment[0]) && c >= 0x20 {
			out = append(out, c)
		}
	}
	return string(out[:min(len(out), 99)])
}

// declaredSets is GE01 when the group's trailer was read and is a number,
// else the number of sets received.
func (g *FunctionalGroup) declaredSets(received int) int {
	if g.geSeen {
		return g.geSets
	}
	return received
}

// TA1 returns the interchange acknowledgement's elements for ic: TA101
// ISA13, TA102 ISA09, TA103 ISA10, TA104 "A" accepted or "R" rejected,
// TA105 the note code of its first problem ("000" when none).
func (ic *Interchange) TA1() []string {
	status, note := "A", "000"
	for _, err := range ic.Errors {
		if code := errorCode(err); code.Element == "TA105" {
			status, note = "R", code.Value
			break
		}
	}
	return []string{ic.ControlNumber, ic.Date, ic.Time, status, note}
}

// errorCode is the acknowledgement code an error carries, if any.
func errorCode(err error) Code {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Code
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		return se.Code
	}
	return Code{}
}

// Reply returns the header of an interchange answering ic: sender and
// receiver swapped (without padding, non-breaking spaces included), same
// version (00401 if ic's is not 5 digits), usage (P if ic's is not P, T or
// I) and delimiters, with the given control number, date (YYMMDD) and time
// (HHMM).
func (ic *Interchange) Reply(controlNumber, date, clock string) *Interchange {
	version, usage := ic.Version, ic.Usage
	if len(version) != 5 || !isDigits(version) {
		version = "00401"
	}
	if usage != "T" && usage != "I" {
		usage = "P"
	}
	return &Interchange{
		SenderQualifier: ic.ReceiverQualifier, SenderID: strings.TrimSpace(ic.ReceiverID),
		ReceiverQualifier: ic.SenderQualifier, ReceiverID: strings.TrimSpace(ic.SenderID),
		Date: date, Time: clock, Version: version, ControlNumber: controlNumber, Usage: usage,
		Delimiters: ic.Delimiters, LineEnding: ic.LineEnding,
	}
}

// Reply returns the header of a functional acknowledgement group ("FA")
// answering g: application sender and receiver swapped, same version
// without its industry suffix ("004010VICS" answers in "004010").
func (g *FunctionalGroup) Reply(controlNumber, date, clock string) *FunctionalGroup {
	return &FunctionalGroup{
		FunctionalID: "FA", ApplicationSender: g.ApplicationReceiver, ApplicationReceiver: g.ApplicationSender,
		Date: date, Time: clock, ControlNumber: controlNumber, Agency: "X", Version: g.Version[:min(len(g.Version), 6)],
	}
}

// AckConfig configures Acknowledge. ControlNumber is required.
type AckConfig struct {
	// ControlNumber returns the next control number for "ISA", "GS" or
	// "ST" (the hub keeps gap-free sequences per partner).
	ControlNumber func(segment string) string
	// Now gives the date and time of the acknowledgements; time.Now if nil.
	Now func() time.Time
	// SkipAccepted writes no 997 for a group whose sets are all accepted,
	// and no TA1 for an interchange without problems unless its ISA14
	// asks for one.
	SkipAccepted bool
	// Options for reading the stream, e.g. WithSpecs to check set contents.
	Options []Option
}

// Acknowledge reads r and writes to w every acknowledgement it calls for,
// one interchange per received interchange, addressed back to its sender,
// with the writer's delimiters:
//
//   - a TA1 when the interchange has problems (rejected, TA104 "R", with
//     the note code of the first) or asks for one (ISA14 "1"); a rejected
//     interchange's groups are not acknowledged;
//   - otherwise one FA group with a 997 per received functional group,
//     except groups of acknowledgements (GS01 "FA"), which are never
//     acknowledged.
//
// It returns what no acknowledgement can carry, as an ErrorList: the
// stream-level problems (data outside interchanges) and the interchanges
// whose sender cannot be answered (an ISA too broken to address a reply
// to). Read and write errors end it.
func Acknowledge(r io.Reader, w *Writer, cfg AckConfig) error {
	if cfg.ControlNumber == nil {
		return errors.New("x12: acknowledging: AckConfig.ControlNumber is required")
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	d := NewDecoder(r, cfg.Options...)
	var acks []*FunctionalAck
	var current *FunctionalAck
	var unreported ErrorList
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				unreported = append(unreported, err)
				continue
			}
			return err
		}
		switch ev.Kind {
		case GroupStart:
			current = NewFunctionalAck(ev.Group)
			acks = append(acks, current)
		case SetEnd:
			current.Add(ev.Set)
		case InterchangeEnd:
			if err := writeAcks(w, ev.Interchange, acks, cfg, now()); errors.Is(err, errNoReply) {
				unreported = append(unreported, err)
			} else if err != nil {
				return err
			}
			acks, current = acks[:0], nil
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(unreported) > 0 {
		return unreported
	}
	return nil
}

// errNoReply marks an interchange whose ISA is too broken to answer.
var errNoReply = errors.New("x12: no acknowledgement can be addressed to this interchange")

func writeAcks(w *Writer, ic *Interchange, acks []*FunctionalAck, cfg AckConfig, t time.Time) error {
	ta1 := ic.TA1()
	rejected := ta1[3] == "R"
	wantTA1 := rejected || ic.AckRequested == "1"
	var groups []*FunctionalAck
	if !rejected {
		for _, a := range acks {
			if a.Group.FunctionalID != "FA" && (!cfg.SkipAccepted || a.Code() != "A") {
				groups = append(groups, a)
			}
		}
	}
	if !wantTA1 && len(groups) == 0 {
		return nil
	}
	date, clock := t.Format("060102"), t.Format("1504")
	if err := w.BeginInterchange(ic.Reply(cfg.ControlNumber("ISA"), date, clock)); err != nil {
		// Nothing was written: the stream goes on with the next interchange.
		return fmt.Errorf("acknowledging interchange %s (line %d): %w: %w", ic.ControlNumber, ic.Line, errNoReply, err)
	}
	if wantTA1 {
		if err := w.Write("TA1", ta1...); err != nil {
			return fmt.Errorf("acknowledging interchange %s: %w", ic.ControlNumber, err)
		}
	}
	if len(groups) > 0 {
		if err := w.BeginGroup(groups[0].Group.Reply(cfg.ControlNumber("GS"), t.Format("20060102"), clock)); err != nil {
			return fmt.Errorf("acknowledging interchange %s: %w", ic.ControlNumber, err)
		}
		for _, a := range groups {
			if err := a.Write997(w, cfg.ControlNumber("ST")); err != nil {
				return err
			}
		}
		if err := w.EndGroup(); err != nil {
			return err
		}
	}
	return w.EndInterchange()
}
