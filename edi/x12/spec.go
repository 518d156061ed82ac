package x12

import (
	"bufio"
	"embed"
	"fmt"
	"io/fs"
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Transaction set specifications are data: per version, a segment
// dictionary (segments.txt), code lists (codes.txt) and one table per
// transaction set (850.txt, 940.txt, ...), in the plain-text format below.
// The tables shipped with the package are in specs/<version>/; a partner's
// own tables can be loaded with ParseSpecs.
//
// segments.txt describes each segment's elements:
//
//	SEG BEG Beginning Segment for Purchase Order
//	  01 353 M ID 2 2 Transaction Set Purpose Code
//	  05 373 M DT 8 8 Date
//	  P0102
//	SEG AK4 Data Element Note
//	  01 C030 M Position in Segment
//	    1 722 M N0 1 2 Element Position in Segment
//	    2 1528 O N0 1 2 Component Data Element Position in Composite
//
// A line "..." ends a partial description: the elements after it are not
// checked. An element line is: position, data element number, requirement (M
// mandatory, O optional, X conditional, followed by the maximum number of
// repetitions for a repeating element: "O10", "M>1"), type (AN, ID, N0-N9, R, DT, TM, B),
// minimum and maximum length, name. A composite line has a C-number and no
// type, and its components follow, indented. Lines such as P0102 are the
// segment's syntax notes: P paired (all or none), R required (at least
// one), E exclusion (at most one), C conditional (if the first, then all
// the others), L list conditional (if the first, then at least one other).
//
// A version's dictionary can start from an earlier version's with a first
// line "BASE 004010": its segments are copied, and the SEG entries that
// follow replace them (005010 adds AK103 and AK203 to the 004010 segments,
// for instance). codes.txt takes a BASE line too; its CODES lines then
// replace the base's list for their element.
//
// codes.txt lists valid codes of ID elements whose codes matter:
//
//	CODES 353 00 01 05 06 07
//
// <set>.txt lists the set's segments in order with requirement and maximum
// use ("n" or ">1" for unbounded); LOOP lines open a loop, whose segments
// follow, indented, the first one being the loop's trigger:
//
//	SET 850 Purchase Order
//	ST M 1
//	BEG M 1
//	LOOP N1 O 200
//	  N1 O 1
//	  N3 O 2
//	SE M 1
//
// A HIERARCHY line, right after the SET line, makes a loop hierarchical, the way the 856's HL loop
// is: it names the segment, the positions of its ID, parent ID and level
// code elements, and the level codes the set allows:
//
//	HIERARCHY HL 1 2 3 S O P T I
//
// Each HL01 must be unique in the set, each HL02 must name an HL before it,
// and HL03 must be one of the levels (AK403 7 for all three: X12 has no
// code of its own for a broken hierarchy).
//
// Segments of a set that the dictionary does not describe are checked for
// placement and count only.

//go:embed specs
var standardSpecFS embed.FS

// Specs holds transaction set specifications by version and set ID.
type Specs struct {
	versions map[string]*specVersion
}

type specVersion struct {
	segments map[string]*SegmentSpec
	codes    map[string]map[string]bool
	sets     map[string]*SetSpec
}

// SetSpec is the specification of one transaction set in one version: its
// segments, loops and their order. Validate checks a set against it.
type SetSpec struct {
	ID      string // e.g. "850"
	Version string // e.g. "004010"
	Name    string // e.g. "Purchase Order"

	body     []*specNode
	segments map[string]*SegmentSpec
	codes    map[string]map[string]bool
	inSet    map[string]bool // segment IDs used anywhere in the set
	hier     *hierarchy      // the HIERARCHY line, if any
}

// hierarchy describes a hierarchical loop: the segment that opens each
// level, its ID, parent ID and level code elements, and the levels
// allowed.
type hierarchy struct {
	seg                  string
	id, parent, levelPos int
	levels               map[string]bool
}

// specNode is a segment or a loop in a set's table.
type specNode struct {
	id   string // the segment ID; for a loop, its trigger's
	loop bool
	req  byte // 'M' or 'O'
	max  int  // maximum use or repeat, 0 for unbounded
	body []*specNode
}

// SegmentSpec describes a segment's elements and syntax notes.
type SegmentSpec struct {
	ID       string
	Name     string
	Elements []ElementSpec
	Notes    []string // syntax notes, e.g. "P0102"
	// Open is set when the description stops before the segment's last
	// element ("..." in segments.txt): the elements after are not checked.
	Open bool

	notes []syntaxNote // Notes, parsed
}

// syntaxNote is a parsed syntax note: its kind (P, R, E, C, L) and the
// element positions it names.
type syntaxNote struct {
	text string
	kind byte
	pos  []int
}

// ElementSpec describes a simple element, or a composite with Components.
type ElementSpec struct {
	Ref  string // data element number, e.g. "353", or composite "C030"
	Name string
	Req  byte // 'M', 'O' or 'X'
	// Repeat is the maximum number of repetitions of a repeating element
	// (math.MaxInt32 for ">1"), 0 for an element that does not repeat.
	Repeat     int
	Type       string // AN, ID, N0-N9, R, DT, TM, B; "" for a composite
	Min, Max   int
	Components []ElementSpec

	codes map[string]bool // the element's code list, if codes.txt has one
}

// WithSpecs makes the Decoder (and Validate, and Acknowledge) check every
// transaction set against its specification in specs, by the version of
// its group (GS08) and its ID (ST01), adding the problems to the set's
// Errors. Sets without a specification are only checked for their
// envelope. The Reader ignores this option.
func WithSpecs(specs *Specs) Option {
	return func(c *config) { c.specs = specs }
}

var standardSpecs = sync.OnceValues(func() (*Specs, error) {
	sub, err := fs.Sub(standardSpecFS, "specs")
	if err != nil {
		return nil, err
	}
	return ParseSpecs(sub)
})

// StandardSpecs returns the specifications shipped with the package:
// 810, 846, 850, 855, 856, 940, 943, 944, 945 and 997 in version 004010; 850, 855, 856,
// 940, 945, 997 and 999 in version 005010. It panics only if the embedded tables
// are broken, which the package's tests rule out.
func StandardSpecs() *Specs {
	s, err := standardSpecs()
	if err != nil {
		panic(err)
	}
	return s
}

// Set returns the specification of set id in version, or nil. version is
// the first 6 characters of GS08: "004010VICS" is version "004010".
func (s *Specs) Set(version, id string) *SetSpec {
	if len(version) > 6 {
		version = version[:6]
	}
	v := s.versions[version]
	if v == nil {
		return nil
	}
	return v.sets[id]
}

// Segment returns the dictionary entry of a segment in version, or nil.
func (s *Specs) Segment(version, id string) *SegmentSpec {
	if len(version) > 6 {
		version = version[:6]
	}
	if v := s.versions[version]; v != nil {
		return v.segments[id]
	}
	return nil
}

// ParseSpecs reads specifications from fsys: one directory per version
// (e.g. "004010"), each with segments.txt, an optional codes.txt and one
// <set>.txt per transaction set. Errors name the file and line.
func ParseSpecs(fsys fs.FS) (*Specs, error) {
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading specifications: %w", err)
	}
	specs := &Specs{versions: make(map[string]*specVersion)}
	var errs ErrorList
	for _, dir := range dirs {
		if !dir.IsDir() {
			continue
		}
		version := dir.Name()
		v := &specVersion{segments: map[string]*SegmentSpec{}, codes: map[string]map[string]bool{}, sets: map[string]*SetSpec{}}
		specs.versions[version] = v
		files, err := fs.ReadDir(fsys, version)
		if err != nil {
			return nil, fmt.Errorf("reading specifications: %w", err)
		}
		read := func(name string, parse func(p *specParser)) {
			f, err := fsys.Open(path.Join(version, name))
			if err != nil {
				errs = append(errs, fmt.Errorf("reading specifications: %w", err))
				return
			}
			defer f.Close()
			p := &specParser{file: path.Join(version, name), sc: bufio.NewScanner(f)}
			parse(p)
			if err := p.sc.Err(); err != nil {
				p.errs = append(p.errs, fmt.Errorf("%s: %w", p.file, err))
			}
			errs = append(errs, p.errs...)
		}
		read("segments.txt", func(p *specParser) { p.segments(v.segments, specs.versions) })
		if _, err := fs.Stat(fsys, path.Join(version, "codes.txt")); err == nil {
			read("codes.txt", func(p *specParser) { p.codes(v.codes, specs.versions) })
		}
		for _, seg := range v.segments {
			for i := range seg.Elements {
				e := &seg.Elements[i]
				e.codes = v.codes[e.Ref]
				for j := range e.Components {
					e.Components[j].codes = v.codes[e.Components[j].Ref]
				}
			}
			for _, n := range seg.Notes {
				note := syntaxNote{text: n, kind: n[0]}
				for i := 1; i+1 < len(n); i += 2 {
					note.pos = append(note.pos, atoi(n[i:i+2]))
				}
				seg.notes = append(seg.notes, note)
			}
		}
		for _, f := range files {
			name := f.Name()
			if f.IsDir() || name == "segments.txt" || name == "codes.txt" || !strings.HasSuffix(name, ".txt") {
				continue
			}
			read(name, func(p *specParser) {
				if set := p.set(version); set != nil {
					set.segments, set.codes = v.segments, v.codes
					v.sets[set.ID] = set
				}
			})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return specs, nil
}

// specParser reads one specification file, line by line.
type specParser struct {
	file string
	sc   *bufio.Scanner
	line int
	errs ErrorList
}

func (p *specParser) errorf(format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %s", p.file, p.line, fmt.Sprintf(format, args...)))
}

// next returns the next non-blank, non-comment line's indentation and
// fields.
func (p *specParser) next() (indent int, fields []string, ok bool) {
	for p.sc.Scan() {
		p.line++
		text := p.sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields = strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		return len(text) - len(strings.TrimLeft(text, " \t")), fields, true
	}
	return 0, nil, false
}

// base returns the version named by a "BASE <version>" line, which must
// come first and name a version parsed before (an earlier directory name).
func (p *specParser) base(f []string, first bool, versions map[string]*specVersion) *specVersion {
	if len(f) != 2 || !first {
		p.errorf("want BASE <version> on the first line only")
		return nil
	}
	v := versions[f[1]]
	if v == nil {
		p.errorf("BASE %s: no such version before this one", f[1])
	}
	return v
}

func (p *specParser) segments(into map[string]*SegmentSpec, versions map[string]*specVersion) {
	var seg *SegmentSpec
	var composite *ElementSpec
	compositeIndent := 0
	inherited := map[string]bool{}
	for first := true; ; first = false {
		indent, f, ok := p.next()
		if !ok {
			return
		}
		switch {
		case f[0] == "BASE":
			if b := p.base(f, first, versions); b != nil {
				for id, s := range b.segments {
					into[id] = s.clone()
					inherited[id] = true
				}
			}
		case f[0] == "SEG":
			if len(f) < 2 || !validSegmentID(f[1]) {
				p.errorf("SEG needs a segment ID")
				seg = nil
				continue
			}
			seg = &SegmentSpec{ID: f[1], Name: strings.Join(f[2:], " ")}
			if into[seg.ID] != nil && !inherited[seg.ID] {
				p.errorf("segment %s described twice", seg.ID)
			}
			delete(inherited, seg.ID)
			into[seg.ID] = seg
			composite = nil
		case seg == nil:
			p.errorf("element outside a SEG")
		case len(f) == 1 && f[0] == "...":
			seg.Open = true
			composite = nil
		case len(f) == 1 && isSyntaxNote(f[0]):
			seg.Notes = append(seg.Notes, f[0])
		case composite != nil && indent > compositeIndent:
			e, ok := p.element(f, len(composite.Components)+1)
			if ok {
				composite.Components = append(composite.Components, e)
			}
		default:
			composite = nil
			if len(f) >= 3 && strings.HasPrefix(f[1], "C") {
				pos, err := strconv.Atoi(f[0])
				req, repeat, ok := requirement(f[2])
				if err != nil || pos != len(seg.Elements)+1 || !ok {
					p.errorf("composite %q: want position %d, C-number, M/O/X, name", strings.Join(f, " "), len(seg.Elements)+1)
					continue
				}
				seg.Elements = append(seg.Elements, ElementSpec{Ref: f[1], Req: req, Repeat: repeat, Name: strings.Join(f[3:], " ")})
				composite = &seg.Elements[len(seg.Elements)-1]
				compositeIndent = indent
				continue
			}
			if e, ok := p.element(f, len(seg.Elements)+1); ok {
				seg.Elements = append(seg.Elements, e)
			}
		}
	}
}

func isSyntaxNote(s string) bool {
	if len(s) < 5 || len(s)%2 == 0 || !strings.ContainsRune("PRECL", rune(s[0])) {
		return false
	}
	return isDigits(s[1:])
}

// element parses "pos ref req type min max name...".
func (p *specParser) element(f []string, wantPos int) (ElementSpec, bool) {
	if len(f) < 6 {
		p.errorf("element %q: want position, number, M/O/X, type, min, max, name", strings.Join(f, " "))
		return ElementSpec{}, false
	}
	pos, err1 := strconv.Atoi(f[0])
	min, err2 := strconv.Atoi(f[4])
	max, err3 := strconv.Atoi(f[5])
	e := ElementSpec{Ref: f[1], Req: 'O', Type: f[3], Min: min, Max: max, Name: strings.Join(f[6:], " ")}
	req, repeat, reqOK := requirement(f[2])
	switch {
	case err1 != nil || pos != wantPos:
		p.errorf("element %q: position %s, want %d", strings.Join(f, " "), f[0], wantPos)
	case !reqOK:
		p.errorf("element %q: requirement %q is not M, O or X (with an optional repeat count)", strings.Join(f, " "), f[2])
	case !validType(e.Type):
		p.errorf("element %q: unknown type %q", strings.Join(f, " "), e.Type)
	case err2 != nil || err3 != nil || min < 0 || max < min || max == 0:
		p.errorf("element %q: bad lengths %s/%s", strings.Join(f, " "), f[4], f[5])
	default:
		e.Req, e.Repeat = req, repeat
		return e, true
	}
	// A bad line at the right position still takes its place, so that the
	// lines after it are not reported as misplaced too.
	return e, err1 == nil && pos == wantPos
}

// requirement parses "M", "O" or "X", followed for a repeating element by
// its maximum number of repetitions ("O10", "M>1").
func requirement(s string) (req byte, repeat int, ok bool) {
	if s == "" || !strings.ContainsRune("MOX", rune(s[0])) {
		return 0, 0, false
	}
	switch rest := s[1:]; {
	case rest == "":
	case rest == ">1":
		repeat = math.MaxInt32
	default:
		n, err := strconv.Atoi(rest)
		if err != nil || n < 2 {
			return 0, 0, false
		}
		repeat = n
	}
	return s[0], repeat, true
}

// clone copies a segment description for another version's dictionary,
// which links its own code lists to it.
func (s *SegmentSpec) clone() *SegmentSpec {
	c := *s
	c.notes = nil
	c.Notes = slices.Clone(s.Notes)
	c.Elements = slices.Clone(s.Elements)
	for i := range c.Elements {
		c.Elements[i].Components = slices.Clone(c.Elements[i].Components)
	}
	return &c
}

func validType(t string) bool {
	switch t {
	case "AN", "ID", "R", "DT", "TM", "B":
		return true
	}
	return len(t) == 2 && t[0] == 'N' && t[1] >= '0' && t[1] <= '9'
}

func (p *specParser) codes(into map[string]map[string]bool, versions map[string]*specVersion) {
	inherited := map[string]bool{}
	for first := true; ; first = false {
		_, f, ok := p.next()
		if !ok {
			return
		}
		if f[0] == "BASE" {
			if b := p.base(f, first, versions); b != nil {
				for ref, m := range b.codes {
					into[ref] = m
					inherited[ref] = true
				}
			}
			continue
		}
		if len(f) >= 3 && inherited[f[1]] {
			delete(into, f[1]) // replaced, not merged: the base's map is shared
			delete(inherited, f[1])
		}
		if f[0] != "CODES" || len(f) < 3 {
			p.errorf("want CODES <element number> <code>...")
			continue
		}
		m := into[f[1]]
		if m == nil {
			m = make(map[string]bool)
			into[f[1]] = m
		}
		for _, c := range f[2:] {
			m[c] = true
		}
	}
}

// set parses a set table.
func (p *specParser) set(version string) *SetSpec {
	_, f, ok := p.next()
	if !ok || f[0] != "SET" || len(f) < 2 {
		p.errorf("want SET <id> <name> on the first line")
		return nil
	}
	set := &SetSpec{ID: f[1], Version: version, Name: strings.Join(f[2:], " "), inSet: map[string]bool{}}
	type level struct {
		indent int
		body   *[]*specNode
	}
	stack := []level{{-1, &set.body}}
	var lastLoop *specNode
	loopIndent := -1
	for {
		indent, f, ok := p.next()
		if !ok {
			break
		}
		if lastLoop != nil {
			// The lines after a LOOP, indented deeper, are its body.
			if indent <= loopIndent {
				p.errorf("LOOP %s has no segments", lastLoop.id)
			} else {
				stack = append(stack, level{indent, &lastLoop.body})
			}
			lastLoop = nil
		}
		for len(stack) > 1 && indent < stack[len(stack)-1].indent {
			stack = stack[:len(stack)-1]
		}
		if top := stack[len(stack)-1]; len(stack) > 1 && indent != top.indent {
			p.errorf("indentation does not match the enclosing loop")
		}
		if f[0] == "HIERARCHY" {
			h := &hierarchy{levels: map[string]bool{}}
			ok := len(f) >= 5 && validSegmentID(f[1])
			for i, dst := range []*int{&h.id, &h.parent, &h.levelPos} {
				if ok {
					n, err := strconv.Atoi(f[2+i])
					ok = err == nil && n > 0
					*dst = n
				}
			}
			if !ok || set.hier != nil {
				p.errorf("want one HIERARCHY <segment> <id position> <parent position> <level position> <level>...")
				continue
			}
			h.seg = f[1]
			for _, l := range f[5:] {
				h.levels[l] = true
			}
			set.hier = h
			continue
		}
		isLoop := f[0] == "LOOP"
		if isLoop {
			f = f[1:]
		}
		if len(f) != 3 || !validSegmentID(f[0]) || (f[1] != "M" && f[1] != "O") {
			p.errorf("want [LOOP] <segment> <M|O> <max>")
			continue
		}
		n := &specNode{id: f[0], loop: isLoop, req: f[1][0]}
		if f[2] != ">1" {
			m, err := strconv.Atoi(f[2])
			if err != nil || m < 1 {
				p.errorf("maximum %q is not a number or >1", f[2])
			}
			n.max = m
		}
		body := stack[len(stack)-1].body
		*body = append(*body, n)
		if isLoop {
			lastLoop, loopIndent = n, indent
		} else {
			set.inSet[n.id] = true
		}
	}
	if lastLoop != nil {
		p.errorf("LOOP %s has no segments", lastLoop.id)
	}
	var check func(body []*specNode)
	check = func(body []*specNode) {
		for _, n := range body {
			if n.loop && len(n.body) > 0 { // an empty loop is reported already
				if n.body[0].loop || n.body[0].id != n.id {
					p.errorf("LOOP %s must start with segment %s", n.id, n.id)
					continue
				}
				check(n.body)
			}
		}
	}
	check(set.body)
	if len(set.body) < 2 || set.body[0].id != "ST" || set.body[len(set.body)-1].id != "SE" {
		p.errorf("set %s must start with ST and end with SE", set.ID)
	}
	return set
}
