package x12

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// Delimiters are the four separators an interchange declares in its ISA:
// the element separator (the byte after "ISA"), the repetition separator
// (ISA11, from version 00402 on), the component separator (ISA16) and the
// segment terminator (right after ISA16).
type Delimiters struct {
	Element byte
	// Repetition is 0 when the interchange has none (before version 00402,
	// or ISA11 is a letter or digit such as "U"). No delimiter can be NUL.
	Repetition byte
	Component  byte
	// Segment is the segment terminator: one byte, or one multi-byte UTF-8
	// character such as "…".
	Segment string
}

// DefaultDelimiters are the delimiters most partners use: * ^ : ~.
var DefaultDelimiters = Delimiters{Element: '*', Repetition: '^', Component: ':', Segment: "~"}

// String shows the delimiters, e.g. `element '*' repetition '^' component ':' segment '~'`.
func (d Delimiters) String() string {
	rep := "none"
	if d.Repetition != 0 {
		rep = fmt.Sprintf("%q", d.Repetition)
	}
	return fmt.Sprintf("element %q repetition %s component %q segment %q", d.Element, rep, d.Component, d.Segment)
}

// Validate checks that the delimiters can be written and read back: none a
// letter, digit, space or NUL, all different from each other, and the
// segment terminator one byte or one UTF-8 character.
func (d Delimiters) Validate() error {
	var errs ErrorList
	bad := func(name string, c byte) {
		if isAlnum(c) || c == ' ' || c == 0 {
			errs = append(errs, fmt.Errorf("x12: %s delimiter %q is a letter, digit, space or NUL", name, c))
		}
	}
	bad("element", d.Element)
	bad("component", d.Component)
	if d.Repetition != 0 {
		bad("repetition", d.Repetition)
	}
	switch {
	case d.Segment == "":
		errs = append(errs, fmt.Errorf("x12: segment terminator is empty"))
	case len(d.Segment) > 1:
		if r, n := utf8.DecodeRuneInString(d.Segment); r == utf8.RuneError || n != len(d.Segment) {
			errs = append(errs, fmt.Errorf("x12: segment terminator %q is neither one byte nor one UTF-8 character", d.Segment))
		}
	default:
		bad("segment", d.Segment[0])
	}
	set := []byte{d.Element, d.Component}
	if d.Repetition != 0 {
		set = append(set, d.Repetition)
	}
	if d.Segment != "" {
		set = append(set, d.Segment[0])
	}
	for i := range set {
		for j := i + 1; j < len(set); j++ {
			if set[i] == set[j] {
				errs = append(errs, fmt.Errorf("x12: delimiter %q is used twice", set[i]))
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// Segment is one segment: its identifier, its elements and where it was
// found. Elements are numbered from 1 as in the X12 reference designators:
// for "BEG*00*SA*123", Element(1) is BEG01 "00".
//
// A Segment returned by Reader.Next points into the reader's buffer and is
// overwritten by the next call to Next; use Clone to keep one.
type Segment struct {
	ID     string // segment identifier, e.g. "BEG"
	Line   int    // 1-based line of the segment's first byte, counting the file's line breaks
	Offset int64  // byte offset of the segment's first byte in the stream
	// Position is the segment's position in its transaction set, ST being 1
	// and SE the set's segment count; 0 for segments outside a set (ISA, GS,
	// GE, IEA, TA1). An ISA, GS, GE or IEA ends a set that lacks its SE.
	Position int

	raw  []byte  // the segment without terminator
	seps []int32 // index in raw of each element separator
	rep  byte    // repetition separator, 0 if elements are not split
	comp byte    // component separator, 0 if elements are not split
}

// Len returns the number of elements, counting empty ones up to the last
// element separator: "N3*A**" has 3.
func (s *Segment) Len() int { return len(s.seps) }

// Element returns element i (1-based). Out of range, it returns an empty
// Element, as X12 treats omitted trailing elements as empty.
func (s *Segment) Element(i int) Element {
	if i < 1 || i > len(s.seps) {
		return Element{}
	}
	start := int(s.seps[i-1]) + 1
	end := len(s.raw)
	if i < len(s.seps) {
		end = int(s.seps[i])
	}
	return Element{b: s.raw[start:end], rep: s.rep, comp: s.comp}
}

// Bytes returns the segment as read, without its terminator. It aliases the
// reader's buffer.
func (s *Segment) Bytes() []byte { return s.raw }

// String returns the segment as read, without its terminator.
func (s *Segment) String() string { return string(s.raw) }

// Clone returns a copy of s that does not share memory with the reader.
func (s *Segment) Clone() *Segment {
	c := *s
	c.raw = bytes.Clone(s.raw)
	c.seps = append([]int32(nil), s.seps...)
	return &c
}

// Element is one data element of a segment: a simple value, or a composite
// of components, possibly repeated. It is a view on the segment's bytes.
type Element struct {
	b    []byte
	rep  byte
	comp byte
}

// Bytes returns the element as read, repetitions and components included.
func (e Element) Bytes() []byte { return e.b }

// String returns the element as read, repetitions and components included.
func (e Element) String() string { return string(e.b) }

// IsEmpty reports whether the element is empty or absent.
func (e Element) IsEmpty() bool { return len(e.b) == 0 }

// NumRepetitions returns how many times the element repeats: 1 unless the
// interchange declares a repetition separator and the element uses it.
func (e Element) NumRepetitions() int {
	if e.rep == 0 {
		return 1
	}
	return bytes.Count(e.b, []byte{e.rep}) + 1
}

// Repetition returns repetition i (1-based) of the element; Repetition(1)
// of an element that does not repeat is the element itself.
func (e Element) Repetition(i int) Element {
	if e.rep == 0 {
		if i == 1 {
			return e
		}
		return Element{}
	}
	b := e.b
	for n := 1; ; n++ {
		j := bytes.IndexByte(b, e.rep)
		if n == i {
			if j >= 0 {
				b = b[:j]
			}
			return Element{b: b, comp: e.comp}
		}
		if j < 0 {
			return Element{}
		}
		b = b[j+1:]
	}
}

// NumComponents returns the number of components of the element's first
// repetition: 1 for a simple element.
func (e Element) NumComponents() int {
	b := e.Repetition(1).b
	if e.comp == 0 {
		return 1
	}
	return bytes.Count(b, []byte{e.comp}) + 1
}

// Component returns component i (1-based) of the element's first
// repetition; use Repetition(n).Component(i) for the others. Component(1)
// of a simple element is the element itself.
func (e Element) Component(i int) Element {
	e = e.Repetition(1)
	if e.comp == 0 {
		if i == 1 {
			return Element{b: e.b}
		}
		return Element{}
	}
	b := e.b
	for n := 1; ; n++ {
		j := bytes.IndexByte(b, e.comp)
		if n == i {
			if j >= 0 {
				b = b[:j]
			}
			return Element{b: b}
		}
		if j < 0 {
			return Element{}
		}
		b = b[j+1:]
	}
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}
