package x12

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
)

// ErrNotAcknowledgement: ParseFunctionalAck was given a transaction set
// that is not a 997 or a 999.
var ErrNotAcknowledgement = errors.New("x12: transaction set is not a 997 or 999 acknowledgement")

// ErrUnmatchedAck: an acknowledgement names a functional group that the
// AckMatcher was not told we sent.
var ErrUnmatchedAck = errors.New("x12: acknowledgement of a functional group we did not send")

// FunctionalAckResult is what a received 997 or 999 says about one of our
// functional groups: its AK1, one SetAckResult per AK2 loop, and its AK9.
// ParseFunctionalAck builds it; AckMatcher compares it with what we sent.
type FunctionalAckResult struct {
	SetID              string // "997" or "999"
	ControlNumber      string // ST02 of the acknowledgement
	FunctionalID       string // AK101: GS01 of the acknowledged group, e.g. "SH"
	GroupControlNumber string // AK102: GS06 of the acknowledged group
	Version            string // AK103 (999): GS08 of the acknowledged group
	Sets               []SetAckResult
	Group              GroupAckResult
}

// SetAckResult is one AK2 loop: the acknowledged transaction set, its
// status (AK501 or IK501) and its errors.
type SetAckResult struct {
	ID                      string // AK201: ST01 of the acknowledged set
	ControlNumber           string // AK202: ST02 of the acknowledged set
	ImplementationReference string // AK203: ST03, when given
	// Status is AK501 or IK501: "A" accepted, "E" accepted with errors
	// noted, "R" rejected ("M", "W", "X" are rejections too). Its
	// Description names it.
	Status Code
	Codes  []Code        // AK502-AK506 or IK502-IK506
	Errors []SegmentNote // AK3 or IK3 loops, in the acknowledgement's order
	Line   int           // line of the AK2
}

// SegmentNote is one AK3 or IK3: a segment of the acknowledged set in
// error, with the AK4 or IK4 notes of its elements.
type SegmentNote struct {
	SegmentID string // AK301
	Position  int    // AK302: position in the acknowledged set, ST being 1
	Loop      string // AK303, when given
	Code      Code   // AK304 or IK304; zero when absent
	Elements  []ElementNote
	Line      int // line of the AK3 in the acknowledgement
}

// ElementNote is one AK4 or IK4: an element in error.
type ElementNote struct {
	Element    int    // AK401-1: position in the segment
	Component  int    // AK401-2: position in the composite, 0 if none
	Repetition int    // AK401-3 (005010): repetition, 0 if none
	Ref        string // AK402: data element number, when given
	Code       Code   // AK403 or IK403
	Value      string // AK404: copy of the bad value, when given
	Line       int    // line of the AK4 in the acknowledgement
}

// GroupAckResult is the AK9: the group's status and counts.
type GroupAckResult struct {
	// Status is AK901: "A" accepted, "E" accepted with errors noted, "P"
	// partially accepted, "R" rejected ("M", "W", "X" are rejections too).
	Status   Code
	Included int    // AK902: sets the group says it holds (GE01)
	Received int    // AK903
	Accepted int    // AK904
	Codes    []Code // AK905-AK909
}

// ParseFunctionalAck reads a received 997 or 999 transaction set (a
// Decoder's SetEnd, validated or not) into a FunctionalAckResult. It is
// lenient: it returns what it could read together with an ErrorList of
// *ValidationError for what it could not (a missing AK1 or AK9, a
// segment out of place, a number that is not one), each locating the
// segment in the acknowledgement. Validate the set against its
// specification (WithSpecs) for a full check.
func ParseFunctionalAck(ts *TransactionSet) (FunctionalAckResult, error) {
	res := FunctionalAckResult{SetID: ts.ID, ControlNumber: ts.ControlNumber}
	if ts.ID != "997" && ts.ID != "999" {
		return res, &ValidationError{Line: ts.Line, Offset: ts.Offset, SegmentID: "ST", Position: 1, SetControlNumber: ts.ControlNumber,
			Element: 1, Value: ts.ID, Detail: fmt.Sprintf("%q is not a functional acknowledgement (997 or 999)", ts.ID), Err: ErrNotAcknowledgement}
	}
	p := ackParser{ts: ts}
	segPrefix := "AK"
	if ts.ID == "999" {
		segPrefix = "IK"
	}
	var set *SetAckResult
	var note *SegmentNote
	seenAK1, seenAK9 := false, false
	for i := range ts.Segments {
		s := &ts.Segments[i]
		el := func(n int) string { return s.Element(n).String() }
		switch id := s.ID; {
		case id == "ST" || id == "SE" || id == "CTX":
		case id == "AK1":
			if seenAK1 {
				p.err(s, 0, "", ErrSegmentMaxUse, "a second AK1")
				continue
			}
			seenAK1 = true
			res.FunctionalID, res.GroupControlNumber, res.Version = el(1), el(2), el(3)
		case id == "AK2":
			res.Sets = append(res.Sets, SetAckResult{ID: el(1), ControlNumber: el(2), ImplementationReference: el(3), Line: s.Line})
			set, note = &res.Sets[len(res.Sets)-1], nil
		case id == segPrefix+"3":
			if set == nil {
				p.err(s, 0, "", ErrSegmentOrder, id+" outside an AK2 loop")
				continue
			}
			set.Errors = append(set.Errors, SegmentNote{SegmentID: el(1), Position: p.num(s, 2), Loop: el(3), Line: s.Line})
			note = &set.Errors[len(set.Errors)-1]
			if v := el(4); v != "" {
				note.Code = Code{id + "04", v}
			}
		case id == segPrefix+"4":
			if note == nil {
				p.err(s, 0, "", ErrSegmentOrder, id+" without its "+segPrefix+"3")
				continue
			}
			pos := s.Element(1)
			e := ElementNote{Element: p.numValue(s, 1, pos.Component(1).String()), Ref: el(2), Code: Code{id + "03", el(3)}, Value: el(4), Line: s.Line}
			if c := pos.Component(2).String(); c != "" {
				e.Component = p.numValue(s, 1, c)
			}
			if r := pos.Component(3).String(); r != "" {
				e.Repetition = p.numValue(s, 1, r)
			}
			note.Elements = append(note.Elements, e)
		case id == segPrefix+"5":
			if set == nil {
				p.err(s, 0, "", ErrSegmentOrder, id+" outside an AK2 loop")
				continue
			}
			set.Status = Code{id + "01", el(1)}
			for n := 2; n <= min(s.Len(), 6); n++ {
				if v := el(n); v != "" {
					set.Codes = append(set.Codes, Code{id + "02", v})
				}
			}
			set, note = nil, nil
		case id == "AK9":
			seenAK9 = true
			set, note = nil, nil
			res.Group = GroupAckResult{Status: Code{"AK901", el(1)}, Included: p.num(s, 2), Received: p.num(s, 3), Accepted: p.num(s, 4)}
			for n := 5; n <= min(s.Len(), 9); n++ {
				if v := el(n); v != "" {
					res.Group.Codes = append(res.Group.Codes, Code{"AK905", v})
				}
			}
		default:
			p.err(s, 0, "", ErrSegmentNotInSet, fmt.Sprintf("segment %s is not part of a %s", id, ts.ID))
		}
	}
	if n := len(ts.Segments); n > 0 {
		last := &ts.Segments[n-1]
		if !seenAK1 {
			p.err(last, 0, "AK1", ErrSegmentMissing, "the acknowledgement has no AK1: the acknowledged group is unknown")
		}
		if !seenAK9 {
			p.err(last, 0, "AK9", ErrSegmentMissing, "the acknowledgement has no AK9")
		}
	}
	for i := range res.Sets {
		if res.Sets[i].Status.IsZero() {
			p.err(&ts.Segments[len(ts.Segments)-1], 0, segPrefix+"5", ErrSegmentMissing,
				fmt.Sprintf("the AK2 loop of set %s (line %d) has no %s5", res.Sets[i].ControlNumber, res.Sets[i].Line, segPrefix))
		}
	}
	if len(p.errs) > 0 {
		return res, p.errs
	}
	return res, nil
}

type ackParser struct {
	ts   *TransactionSet
	errs ErrorList
}

// err reports a problem at segment s; id names the segment concerned when
// it is not s (a missing one).
func (p *ackParser) err(s *Segment, elem int, id string, sentinel error, detail string) {
	if id == "" {
		id = s.ID
	}
	p.errs = append(p.errs, &ValidationError{Line: s.Line, Offset: s.Offset, SegmentID: id, Position: s.Position,
		SetControlNumber: p.ts.ControlNumber, Element: elem, Value: s.Element(elem).String(), Detail: detail, Err: sentinel})
}

func (p *ackParser) num(s *Segment, elem int) int {
	return p.numValue(s, elem, s.Element(elem).String())
}

func (p *ackParser) numValue(s *Segment, elem int, v string) int {
	if !isDigits(v) || len(v) > 9 {
		p.err(s, elem, "", ErrNotNumeric, fmt.Sprintf("%q is not a number", v))
		return 0
	}
	n, _ := strconv.Atoi(v)
	return n
}

// AckStatus is what an acknowledgement says about a set or group we sent.
type AckStatus uint8

const (
	// NotAcknowledged: the acknowledgement does not mention the set.
	NotAcknowledged AckStatus = iota
	// Accepted: AK501/IK501 or AK901 "A".
	Accepted
	// AcceptedWithErrors: "E", accepted but errors were noted.
	AcceptedWithErrors
	// PartiallyAccepted: AK901 "P", some sets of the group were rejected.
	PartiallyAccepted
	// Rejected: "R", or "M", "W", "X" (rejected for security reasons).
	Rejected
)

var ackStatusNames = [...]string{"not acknowledged", "accepted", "accepted with errors", "partially accepted", "rejected"}

func (s AckStatus) String() string {
	if int(s) < len(ackStatusNames) {
		return ackStatusNames[s]
	}
	return "AckStatus(" + strconv.Itoa(int(s)) + ")"
}

// statusOf maps an AK501, IK501 or AK901 code to an AckStatus; an unknown
// code is a rejection, so that nothing is taken as accepted by mistake.
func statusOf(c Code) AckStatus {
	switch c.Value {
	case "A":
		return Accepted
	case "E":
		return AcceptedWithErrors
	case "P":
		return PartiallyAccepted
	case "":
		return NotAcknowledged
	}
	return Rejected
}

// SentGroup is a functional group we sent, as an AckMatcher needs it.
type SentGroup struct {
	FunctionalID  string    // GS01, e.g. "SH"
	ControlNumber string    // GS06
	Sets          []SentSet // in the order sent
}

// SentSet is a transaction set we sent.
type SentSet struct {
	ID            string // ST01, e.g. "856"
	ControlNumber string // ST02
}

// AckMatch is an acknowledgement compared with the group it acknowledges.
type AckMatch struct {
	Sent   SentGroup
	Ack    *FunctionalAckResult
	Status AckStatus  // the group's, from AK901
	Sets   []SetMatch // one per set sent, in the order sent
	// NotMentioned are the sets we sent that the acknowledgement has no
	// AK2 for. When it has no AK2 at all, they take the group's status (a
	// group acknowledged as a whole); otherwise they are NotAcknowledged.
	NotMentioned []SentSet
	// Unknown are the AK2 loops for sets we did not send in the group.
	Unknown []SetAckResult
}

// SetMatch is the acknowledgement of one set we sent.
type SetMatch struct {
	Sent   SentSet
	Status AckStatus
	Ack    *SetAckResult // nil when the acknowledgement does not mention it
}

// AckMatcher matches received 997s and 999s to the functional groups we
// sent. Tell it each group sent with Sent, then give it each
// acknowledgement with Match. It keeps what it is told in memory (the hub
// keeps sent groups in its store and builds a matcher per partner). It is
// not safe for concurrent use.
type AckMatcher struct {
	sent  []SentGroup
	acked []bool
}

// Sent records a functional group we sent.
func (m *AckMatcher) Sent(g SentGroup) {
	m.sent = append(m.sent, g)
	m.acked = append(m.acked, false)
}

// Outstanding returns the groups sent that no acknowledgement matched yet,
// in the order sent.
func (m *AckMatcher) Outstanding() []SentGroup {
	var out []SentGroup
	for i, g := range m.sent {
		if !m.acked[i] {
			out = append(out, g)
		}
	}
	return out
}

// Match finds the group ack acknowledges (AK101 = GS01 and AK102 = GS06,
// compared as numbers) and reports, per set sent, what the acknowledgement
// says (AK202 = ST02 and AK201 = ST01). An acknowledgement for a group
// not sent is an error wrapping ErrUnmatchedAck. A group may be
// acknowledged more than once; the latest acknowledgement is the one to
// believe.
func (m *AckMatcher) Match(ack *FunctionalAckResult) (*AckMatch, error) {
	i := slices.IndexFunc(m.sent, func(g SentGroup) bool {
		return g.FunctionalID == ack.FunctionalID && sameNumber(g.ControlNumber, ack.GroupControlNumber)
	})
	if i < 0 {
		return nil, fmt.Errorf("matching %s %s: group %s %s: %w", ack.SetID, ack.ControlNumber, ack.FunctionalID, ack.GroupControlNumber, ErrUnmatchedAck)
	}
	m.acked[i] = true
	sent := m.sent[i]
	res := &AckMatch{Sent: sent, Ack: ack, Status: statusOf(ack.Group.Status)}
	used := make([]bool, len(ack.Sets))
	for _, s := range sent.Sets {
		sm := SetMatch{Sent: s}
		for j := range ack.Sets {
			if a := &ack.Sets[j]; !used[j] && a.ID == s.ID && a.ControlNumber == s.ControlNumber {
				used[j] = true
				sm.Ack, sm.Status = a, statusOf(a.Status)
				break
			}
		}
		if sm.Ack == nil {
			res.NotMentioned = append(res.NotMentioned, s)
			if len(ack.Sets) == 0 && res.Status != PartiallyAccepted {
				sm.Status = res.Status
			}
		}
		res.Sets = append(res.Sets, sm)
	}
	for j, a := range ack.Sets {
		if !used[j] {
			res.Unknown = append(res.Unknown, a)
		}
	}
	return res, nil
}
