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
// the Decoder's events and written as a 997 (Write997) or a 999
// (Write999): an AK2 loop per transaction set (AK3/AK4 or IK3/IK4 for its
// segment and element errors, AK5 or IK5 accepted or rejected with its
// codes) and an AK9 for the group. Both are written from the same result.
//
// It keeps the IDs, control numbers and errors of the group's sets, not
// their segments.
type FunctionalAck struct {
	Group *FunctionalGroup
	sets  []setAck
}

type setAck struct {
	id, control string
	ref         string   // ST03, the implementation convention (AK203)
	codes       []string // AK502 codes
	segments    []segmentAck
}

type segmentAck struct {
	id       string
	position int
	loop     string // AK303, when known
	code     string // AK304; "8" when only its elements are wrong
	elements []*ValidationError
}

// NewFunctionalAck starts the acknowledgement of group g (at its
// GroupStart event).
func NewFunctionalAck(g *FunctionalGroup) *FunctionalAck { return &FunctionalAck{Group: g} }

// Add records the result of a transaction set of the group (at its SetEnd
// event).
func (a *FunctionalAck) Add(ts *TransactionSet) {
	sa := setAck{id: ts.ID, control: ts.ControlNumber, ref: ts.ImplementationReference}
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
			if seg.loop == "" {
				seg.loop = ve.Loop
			}
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
	return a.write(w, controlNumber, Ack997)
}

// Implementation999 is the implementation convention of the 999 this
// package writes: ST03 of the 999 and GS08 of its group.
const Implementation999 = "005010X231"

// Write999 writes the acknowledgement as a 999 implementation
// acknowledgement (005010X231) with control number controlNumber (4 to 9
// characters), inside the functional group ("FA", GS08 "005010X231") the
// caller has begun on w: AK1 with the group's GS08 (AK103), AK2 with each
// set's ST03 (AK203), IK3 for a segment in error (segment ID, position,
// loop when known, IK304 code), IK4 for each of its element errors
// (position, element number, IK403 code, copy of the bad value), IK5 and
// AK9. The codes are those of the 997: IK304, IK403 and IK502 share their
// values with AK304, AK403 and AK502 for the problems this package finds.
// No CTX segment is written.
func (a *FunctionalAck) Write999(w *Writer, controlNumber string) error {
	return a.write(w, controlNumber, Ack999)
}

func (a *FunctionalAck) write(w *Writer, controlNumber string, kind AckKind) error {
	g := a.Group
	name, segID, elemID, setID := "997", "AK3", "AK4", "AK5"
	st := &TransactionSet{ID: "997", ControlNumber: controlNumber}
	ak1 := []string{g.FunctionalID, g.ControlNumber}
	if kind == Ack999 {
		name, segID, elemID, setID = "999", "IK3", "IK4", "IK5"
		st = &TransactionSet{ID: "999", ControlNumber: controlNumber, ImplementationReference: Implementation999}
		ak1 = append(ak1, g.Version)
	}
	steps := []func() error{
		func() error { return w.BeginSet(st) },
		func() error { return w.Write("AK1", ak1...) },
	}
	for _, s := range a.sets {
		steps = append(steps, func() error {
			if kind == Ack999 {
				return w.Write("AK2", s.id, s.control, s.ref)
			}
			return w.Write("AK2", s.id, s.control)
		})
		for _, seg := range s.segments {
			steps = append(steps, func() error { return w.Write(segID, seg.id, strconv.Itoa(seg.position), seg.loop, seg.code) })
			for _, e := range seg.elements {
				pos := Simple(strconv.Itoa(e.Element))
				if e.Component > 0 {
					pos = Composite(strconv.Itoa(e.Element), strconv.Itoa(e.Component))
				}
				steps = append(steps, func() error {
					return w.WriteValues(elemID, pos, Simple(e.ElementRef), Simple(e.Code.Value), Simple(ackCopy(e.Value, w.cur)))
				})
			}
		}
		steps = append(steps, func() error {
			status := "A"
			if len(s.codes) > 0 {
				status = "R"
			}
			return w.Write(setID, append([]string{status}, s.codes[:min(len(s.codes), 5)]...)...)
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
			return fmt.Errorf("writing the %s for group %s: %w", name, g.ControlNumber, err)
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
// answering g with 997s: application sender and receiver swapped, same
// version without its industry suffix ("004010VICS" answers in "004010").
// For 999s, set the reply's Version to Implementation999.
func (g *FunctionalGroup) Reply(controlNumber, date, clock string) *FunctionalGroup {
	return &FunctionalGroup{
		FunctionalID: "FA", ApplicationSender: g.ApplicationReceiver, ApplicationReceiver: g.ApplicationSender,
		Date: date, Time: clock, ControlNumber: controlNumber, Agency: "X", Version: g.Version[:min(len(g.Version), 6)],
	}
}

// AckKind chooses the functional acknowledgement that answers a group.
type AckKind uint8

const (
	// Ack997 answers with 997 Functional Acknowledgments (the zero value).
	Ack997 AckKind = iota
	// Ack999 answers with 999 Implementation Acknowledgments (005010X231).
	Ack999
	// AckByVersion answers groups of version 005010 and later (GS08) with
	// a 999, earlier ones with a 997.
	AckByVersion
)

func (k AckKind) String() string {
	switch k {
	case Ack997:
		return "997"
	case Ack999:
		return "999"
	case AckByVersion:
		return "by version"
	}
	return "AckKind(" + strconv.Itoa(int(k)) + ")"
}

// For returns the kind, 997 or 999, that answers group g.
func (k AckKind) For(g *FunctionalGroup) AckKind {
	if k != AckByVersion {
		return k
	}
	if len(g.Version) >= 6 && isDigits(g.Version[:6]) && g.Version[:6] >= "005010" {
		return Ack999
	}
	return Ack997
}

// AckConfig configures Acknowledge. ControlNumber is required.
type AckConfig struct {
	// ControlNumber returns the next control number for "ISA", "GS" or
	// "ST" (the hub keeps gap-free sequences per partner).
	ControlNumber func(segment string) string
	// Now gives the date and time of the acknowledgements; time.Now if nil.
	Now func() time.Time
	// Kind is the partner's choice of functional acknowledgement: 997 (the
	// zero value), 999, or by the group's version.
	Kind AckKind
	// SkipAccepted writes no 997 or 999 for a group whose sets are all
	// accepted (AK901 "A"), and no TA1 for an interchange without problems
	// unless its ISA14 asks for one.
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
//   - otherwise a 997 or 999 (cfg.Kind) per received functional group,
//     except groups of acknowledgements (GS01 "FA"), which are never
//     acknowledged; consecutive acknowledgements of the same kind and
//     version, for the same application sender and receiver (GS02,
//     GS03), share one FA group.
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
	// A group of acknowledgements answers the application sender of the
	// groups it acknowledges, in one version.
	open := ""
	for _, a := range groups {
		kind := cfg.Kind.For(a.Group)
		reply := a.Group.Reply("", t.Format("20060102"), clock)
		if kind == Ack999 {
			reply.Version = Implementation999
		}
		key := reply.Version + "\x00" + reply.ApplicationSender + "\x00" + reply.ApplicationReceiver
		if open != key {
			if open != "" {
				if err := w.EndGroup(); err != nil {
					return err
				}
			}
			reply.ControlNumber = cfg.ControlNumber("GS")
			if err := w.BeginGroup(reply); err != nil {
				return fmt.Errorf("acknowledging interchange %s: %w", ic.ControlNumber, err)
			}
			open = key
		}
		if err := a.write(w, cfg.ControlNumber("ST"), kind); err != nil {
			return err
		}
	}
	if open != "" {
		if err := w.EndGroup(); err != nil {
			return err
		}
	}
	return w.EndInterchange()
}
