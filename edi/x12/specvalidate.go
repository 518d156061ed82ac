package x12

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// Validate checks a transaction set against its specification: segment
// order, loops, mandatory segments and maximum use (AK304 codes), and each
// described segment's elements: presence, type, length, code lists,
// composites and syntax notes (AK403 codes). The envelope (ST/SE) is the
// Decoder's business and is not checked again. The errors are
// *ValidationError, in segment order.
func (spec *SetSpec) Validate(ts *TransactionSet) []error {
	var v setValidator
	return v.run(spec, ts)
}

// run validates ts; a setValidator can be reused from set to set, without
// allocating once its frames exist.
func (v *setValidator) run(spec *SetSpec, ts *TransactionSet) []error {
	v.spec, v.ts, v.errs = spec, ts, nil
	for _, f := range v.stack {
		v.pool = append(v.pool, f)
	}
	v.stack = append(v.stack[:0], v.frame(nil, spec.body))
	v.stack[0].idx = -1
	clear(v.hlIDs)
	for i := range ts.Segments {
		s := &ts.Segments[i]
		v.place(s)
		v.elements(s)
		if h := spec.hier; h != nil && s.ID == h.seg {
			v.hierarchy(h, s)
		}
	}
	if n := len(ts.Segments); n > 0 {
		last := &ts.Segments[n-1]
		v.popTo(0, last)
		top := v.stack[0]
		v.missing(top, top.idx+1, len(top.body), last)
	}
	return v.errs
}

type setValidator struct {
	spec  *SetSpec
	ts    *TransactionSet
	stack []*vframe
	pool  []*vframe // frames to reuse
	errs  []error
	// loop is the identifier of the loop holding the segment being reported
	// (its first segment's ID), "" at the set's top level or when unknown.
	loop string
	// hlIDs are the hierarchical IDs (HL01) of the set so far.
	hlIDs map[string]bool
}

// hierarchy checks one segment of a hierarchical loop: its ID is new, its
// parent is an earlier one, its level is allowed.
func (v *setValidator) hierarchy(h *hierarchy, s *Segment) {
	if v.hlIDs == nil {
		v.hlIDs = make(map[string]bool)
	}
	ref := func(pos int) string {
		if def := v.spec.segments[s.ID]; def != nil && pos <= len(def.Elements) {
			return def.Elements[pos-1].Ref
		}
		return ""
	}
	id, parent, level := s.Element(h.id).String(), s.Element(h.parent).String(), s.Element(h.levelPos).String()
	switch {
	case id == "":
		// a missing mandatory element, reported by the dictionary
	case v.hlIDs[id]:
		v.err(s, s.ID, h.id, 0, id, ref(h.id), ak4Code("7"), ErrHierarchy, fmt.Sprintf("%s is the ID of an earlier %s: hierarchical IDs must be unique", quote([]byte(id)), s.ID))
	default:
		if len(v.hlIDs) < 1<<20 {
			v.hlIDs[id] = true
		}
	}
	if parent != "" && (!v.hlIDs[parent] || parent == id) {
		v.err(s, s.ID, h.parent, 0, parent, ref(h.parent), ak4Code("7"), ErrHierarchy, fmt.Sprintf("parent %s is not the ID of an earlier %s", quote([]byte(parent)), s.ID))
	}
	if def := v.spec.segments[s.ID]; def != nil && h.levelPos <= len(def.Elements) {
		if codes := def.Elements[h.levelPos-1].codes; codes != nil && !codes[level] {
			return // not a level code at all: reported with the segment's elements
		}
	}
	if len(h.levels) > 0 && level != "" && !h.levels[level] {
		v.err(s, s.ID, h.levelPos, 0, level, ref(h.levelPos), ak4Code("7"), ErrHierarchy, fmt.Sprintf("level %s is not a level of the %s transaction set", quote([]byte(level)), v.spec.ID))
	}
}

// frame returns a frame at the start of body (a loop's first segment
// used once), reusing a released one when it can.
func (v *setValidator) frame(loop *specNode, body []*specNode) *vframe {
	var f *vframe
	if n := len(v.pool); n > 0 {
		f, v.pool = v.pool[n-1], v.pool[:n-1]
	} else {
		f = new(vframe)
	}
	f.loop, f.body, f.idx = loop, body, 0
	f.count = slices.Grow(f.count[:0], len(body))[:len(body)]
	clear(f.count)
	if loop != nil {
		f.count[0] = 1
	}
	return f
}

// vframe is where the validator stands in the set's table or in a loop.
type vframe struct {
	loop  *specNode // nil for the set's table itself
	body  []*specNode
	idx   int   // the node last matched, -1 before any
	count []int // uses of each node in the current repetition of the loop
}

func (v *setValidator) err(s *Segment, id string, elem, comp int, value, ref string, code Code, sentinel error, detail string) {
	v.errs = append(v.errs, &ValidationError{
		Line: s.Line, Offset: s.Offset, SegmentID: id, Position: s.Position, SetControlNumber: v.ts.ControlNumber,
		Element: elem, Component: comp, Value: value, ElementRef: ref, Loop: v.loop, Detail: detail, Code: code, Err: sentinel,
	})
}

// place finds where segment s goes in the table, from the innermost loop
// outwards, and reports what that skips or exceeds.
func (v *setValidator) place(s *Segment) {
	for d := len(v.stack) - 1; d >= 0; d-- {
		f := v.stack[d]
		start := max(f.idx, 0)
		if f.loop != nil {
			start = max(f.idx, 1) // the trigger again is a new repetition, below
		}
		for k := start; k < len(f.body); k++ {
			n := f.body[k]
			if n.id != s.ID {
				continue
			}
			v.popTo(d, s)
			v.missing(f, f.idx+1, k, s)
			f.idx = k
			f.count[k]++
			if n.loop {
				v.loop = n.id
				v.loopRepeat(n, f.count[k], s)
				v.stack = append(v.stack, v.frame(n, n.body))
				return
			}
			v.loop = loopID(f)
			if n.max > 0 && f.count[k] > n.max {
				v.err(s, s.ID, 0, 0, "", "", ak3Code("5"), ErrSegmentMaxUse, fmt.Sprintf("segment %s occurs more than %d times", s.ID, n.max))
			}
			return
		}
		if f.loop != nil && f.loop.id == s.ID {
			v.popTo(d, s)
			v.missing(f, f.idx+1, len(f.body), s)
			v.loop = f.loop.id
			parent := v.stack[d-1]
			parent.count[parent.idx]++
			v.loopRepeat(f.loop, parent.count[parent.idx], s)
			f.idx = 0
			clear(f.count)
			f.count[0] = 1
			return
		}
	}
	v.loop = "" // a segment out of place is in no loop we know of
	if v.spec.inSet[s.ID] {
		v.err(s, s.ID, 0, 0, "", "", ak3Code("7"), ErrSegmentOrder, fmt.Sprintf("segment %s is not in its place in the %s transaction set", s.ID, v.spec.ID))
	} else {
		v.err(s, s.ID, 0, 0, "", "", ak3Code("6"), ErrSegmentNotInSet, fmt.Sprintf("segment %s is not part of the %s transaction set (%s)", s.ID, v.spec.ID, v.spec.Version))
	}
}

func (v *setValidator) loopRepeat(loop *specNode, n int, s *Segment) {
	if loop.max > 0 && n > loop.max {
		v.err(s, s.ID, 0, 0, "", "", ak3Code("4"), ErrLoopMaxUse, fmt.Sprintf("loop %s occurs more than %d times", loop.id, loop.max))
	}
}

// popTo leaves the loops above depth d, reporting their missing segments.
func (v *setValidator) popTo(d int, s *Segment) {
	for len(v.stack)-1 > d {
		f := v.stack[len(v.stack)-1]
		v.missing(f, f.idx+1, len(f.body), s)
		v.stack = v.stack[:len(v.stack)-1]
		v.pool = append(v.pool, f)
	}
}

// loopID identifies the loop of frame f for AK303/IK303: the ID of its
// first segment, as X12 standard tables name loops; "" for the set itself.
func loopID(f *vframe) string {
	if f.loop == nil {
		return ""
	}
	return f.loop.id
}

// missing reports the mandatory nodes of f in [from, to) never used, found
// missing when segment s was read.
func (v *setValidator) missing(f *vframe, from, to int, s *Segment) {
	for j := max(from, 0); j < to; j++ {
		n := f.body[j]
		if n.req != 'M' || f.count[j] > 0 || n.id == "ST" || n.id == "SE" {
			continue
		}
		what := "segment"
		v.loop = loopID(f)
		if n.loop {
			what, v.loop = "loop", n.id
		}
		v.err(s, n.id, 0, 0, "", "", ak3Code("3"), ErrSegmentMissing, fmt.Sprintf("mandatory %s %s is missing before this %s", what, n.id, s.ID))
	}
}

// elements checks the elements of a segment the dictionary describes.
func (v *setValidator) elements(s *Segment) {
	if s.ID == "ST" || s.ID == "SE" {
		return
	}
	def := v.spec.segments[s.ID]
	if def == nil {
		return
	}
	if s.Len() > len(def.Elements) && !def.Open {
		v.err(s, s.ID, len(def.Elements)+1, 0, s.Element(len(def.Elements)+1).String(), "", ak4Code("3"), ErrTooManyElements,
			fmt.Sprintf("is one element too many: %s has %d", s.ID, len(def.Elements)))
	}
	for i := range def.Elements {
		e := &def.Elements[i]
		pos := i + 1
		el := s.Element(pos)
		if el.rep != 0 && bytes.IndexByte(el.b, el.rep) >= 0 {
			n := el.NumRepetitions()
			if e.Repeat == 0 {
				v.err(s, s.ID, pos, 0, el.String(), e.Ref, ak4Code("12"), ErrTooManyRepetitions, fmt.Sprintf("%s repeats %d times, it may not repeat", quote(el.b), n))
				el = el.Repetition(1)
			} else {
				if n > e.Repeat {
					v.err(s, s.ID, pos, 0, el.String(), e.Ref, ak4Code("12"), ErrTooManyRepetitions, fmt.Sprintf("%s repeats %d times, at most %d allowed", quote(el.b), n, e.Repeat))
				}
				for r := 1; r <= min(n, e.Repeat); r++ {
					v.value(s, pos, el.Repetition(r), e)
				}
				continue
			}
		}
		v.value(s, pos, el, e)
	}
	for i := range def.notes {
		v.note(s, &def.notes[i], def)
	}
}

// value checks one occurrence of element pos: a simple value or a
// composite.
func (v *setValidator) value(s *Segment, pos int, el Element, e *ElementSpec) {
	{
		if e.Components == nil {
			if el.comp != 0 && bytes.IndexByte(el.b, el.comp) >= 0 {
				v.err(s, s.ID, pos, 0, el.String(), e.Ref, ak4Code("13"), ErrTooManyComponents, fmt.Sprintf("%s has components, it is a simple element", quote(el.b)))
				return
			}
			v.simple(s, pos, 0, el.b, e)
			return
		}
		if el.IsEmpty() {
			if e.Req == 'M' {
				v.err(s, s.ID, pos, 0, "", e.Ref, ak4Code("1"), ErrMissingElement, "mandatory element is missing")
			}
			return
		}
		if n := el.NumComponents(); n > len(e.Components) {
			v.err(s, s.ID, pos, 0, el.String(), e.Ref, ak4Code("13"), ErrTooManyComponents, fmt.Sprintf("%s has %d components, %s has %d", quote(el.b), n, e.Ref, len(e.Components)))
		}
		for j := range e.Components {
			v.simple(s, pos, j+1, el.Component(j+1).b, &e.Components[j])
		}
	}
}

// simple checks one simple element or component value.
func (v *setValidator) simple(s *Segment, pos, comp int, val []byte, e *ElementSpec) {
	bad := func(code string, sentinel error, format string, args ...any) {
		v.err(s, s.ID, pos, comp, string(val), e.Ref, ak4Code(code), sentinel, fmt.Sprintf(format, args...))
	}
	if len(val) == 0 {
		if e.Req == 'M' {
			bad("1", ErrMissingElement, "mandatory element is missing")
		}
		return
	}
	for _, c := range val {
		if c < 0x20 || c == 0x7f {
			bad("6", ErrInvalidCharacter, "%s holds a control character", quote(val))
			return
		}
	}
	size := len(val)
	switch t := e.Type; {
	case t[0] == 'N' && len(t) == 2:
		digits := val
		if digits[0] == '-' {
			digits = digits[1:]
		}
		if !isDigits(string(digits)) {
			bad("6", ErrNotNumeric, "%s is not numeric (%s)", quote(val), t)
			return
		}
		size = len(digits)
	case t == "R":
		n, ok := decimalDigits(val)
		if !ok {
			bad("6", ErrNotNumeric, "%s is not numeric (R)", quote(val))
			return
		}
		size = n
	case t == "DT":
		if (len(val) == 8 && !validCCYYMMDD(val)) || (len(val) == 6 && !validYYMMDD(val)) || (len(val) != 6 && len(val) != 8) {
			bad("8", ErrInvalidDate, "%s is not a date (%s)", quote(val), map[bool]string{true: "CCYYMMDD", false: "YYMMDD"}[e.Max == 8])
			return
		}
	case t == "TM":
		if !validTime(val) {
			bad("9", ErrInvalidTime, "%s is not a time (HHMM[SS[D[D]]])", quote(val))
			return
		}
	case t == "ID":
		if e.codes != nil && !e.codes[string(val)] {
			bad("7", ErrInvalidCode, "%s is not a valid code for element %s (%s)", quote(val), e.Ref, e.Name)
			return
		}
	}
	switch {
	case size < e.Min:
		bad("4", ErrTooShort, "%s is shorter than %d characters (%s %d/%d)", quote(val), e.Min, e.Type, e.Min, e.Max)
	case size > e.Max:
		bad("5", ErrTooLong, "%s is longer than %d characters (%s %d/%d)", quote(val), e.Max, e.Type, e.Min, e.Max)
	}
}

// decimalDigits checks an R value (optional minus sign, digits, at most one
// decimal point) and returns its number of digits, which its length counts.
func decimalDigits(b []byte) (int, bool) {
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	digits, points := 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return 0, false
		}
	}
	return digits, digits > 0 && points <= 1
}

// validTime checks HHMM, HHMMSS, HHMMSSD or HHMMSSDD.
func validTime(b []byte) bool {
	if len(b) != 4 && (len(b) < 6 || len(b) > 8) {
		return false
	}
	if !validHHMM(b[:4]) {
		return false
	}
	if len(b) >= 6 {
		ss, ok := digits(b[4:6])
		if !ok || ss > 59 {
			return false
		}
	}
	_, ok := digits(b[4:])
	return ok || len(b) == 4
}

// note checks one syntax note of the segment, e.g. "P0102".
func (v *setValidator) note(s *Segment, n *syntaxNote, def *SegmentSpec) {
	note, pos := n.text, n.pos
	present := func(p int) bool { return !s.Element(p).IsEmpty() }
	ref := func(p int) string {
		if p-1 < len(def.Elements) {
			return def.Elements[p-1].Ref
		}
		return ""
	}
	names := func(ps []int) string {
		var out []string
		for _, p := range ps {
			out = append(out, fmt.Sprintf("%s%02d", s.ID, p))
		}
		return strings.Join(out, ", ")
	}
	var buf [16]int
	here := buf[:0]
	for _, p := range pos {
		if present(p) {
			here = append(here, p)
		}
	}
	required := func(p int, why string) {
		v.err(s, s.ID, p, 0, "", ref(p), ak4Code("2"), ErrConditionalMissing, fmt.Sprintf("is required %s (syntax note %s)", why, note))
	}
	switch n.kind {
	case 'P':
		if len(here) > 0 && len(here) < len(pos) {
			for _, p := range pos {
				if !present(p) {
					required(p, "when "+names(here)+" is present")
				}
			}
		}
	case 'R':
		if len(here) == 0 {
			v.err(s, s.ID, pos[0], 0, "", ref(pos[0]), ak4Code("2"), ErrConditionalMissing, fmt.Sprintf("at least one of %s is required (syntax note %s)", names(pos), note))
		}
	case 'E':
		for _, p := range here[min(1, len(here)):] {
			v.err(s, s.ID, p, 0, s.Element(p).String(), ref(p), ak4Code("10"), ErrExclusion, fmt.Sprintf("may not be used with %s (syntax note %s)", names(here[:1]), note))
		}
	case 'C':
		if present(pos[0]) {
			for _, p := range pos[1:] {
				if !present(p) {
					required(p, "when "+names(pos[:1])+" is present")
				}
			}
		}
	case 'L':
		if present(pos[0]) && len(here) == 1 {
			v.err(s, s.ID, pos[1], 0, "", ref(pos[1]), ak4Code("2"), ErrConditionalMissing, fmt.Sprintf("one of %s is required when %s is present (syntax note %s)", names(pos[1:]), names(pos[:1]), note))
		}
	}
}
