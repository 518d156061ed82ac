package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultMaxSegmentSize is the longest segment a Reader accepts unless told
// otherwise with WithMaxSegmentSize.
const DefaultMaxSegmentSize = 64 << 10

const (
	minBufferSize = 64 << 10
	// isaMaxLen bounds the search for the 16th element separator of an ISA
	// whose fields are not padded to their fixed widths.
	isaMaxLen = 1024
)

var (
	isaTag = []byte("ISA")
	bom    = []byte("\xef\xbb\xbf")
)

// Option configures a Reader (and the Decoder built on it).
type Option func(*config)

type config struct {
	maxSegmentSize int
	specs          *Specs
}

func newConfig(opts []Option) config {
	c := config{maxSegmentSize: DefaultMaxSegmentSize}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithMaxSegmentSize sets the longest segment accepted, in bytes, without
// its terminator. A longer segment is reported as ErrSegmentTooLong and
// skipped. The reader's memory is about max(64 KiB, n). n <= 0 means
// DefaultMaxSegmentSize.
func WithMaxSegmentSize(n int) Option {
	return func(c *config) {
		if n <= 0 {
			n = DefaultMaxSegmentSize
		}
		c.maxSegmentSize = n
	}
}

// Reader reads the segments of an X12 stream one at a time, in memory
// bounded by the longest segment, whatever the size of the stream.
//
// The delimiters are read from each ISA, so a stream may hold several
// interchanges with different delimiters. A UTF-8 byte order mark before an
// ISA, and spaces, tabs and line breaks before any segment (line endings
// after terminators, indentation), are skipped. The last segment of the
// stream may lack its terminator.
//
// Next returns a *SyntaxError for bytes it cannot read as segments and has
// already skipped them: the caller may call Next again to go on. Any other
// error (from the underlying io.Reader) is final.
//
// Delimiters may be any byte but a letter, digit, space or NUL; the
// segment terminator may also be one multi-byte UTF-8 character ("…"). A
// one-byte terminator from 0xC0 up followed by continuation bytes reads as
// that multi-byte character: such a stream is ambiguous, and the Writer
// refuses to produce one.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	rd     io.Reader
	buf    []byte
	start  int   // first unread byte in buf
	end    int   // end of the data in buf
	base   int64 // stream offset of buf[0]
	line   int   // line number of buf[start]
	prevCR bool  // the last byte consumed was a CR
	eof    bool
	err    error // final read error

	maxSeg int

	seenISA       bool
	inInterchange bool // between an ISA and its IEA
	delims        Delimiters
	term0         byte   // first byte of the segment terminator
	termRest      []byte // the terminator's other bytes, if multi-byte
	lineEnding    string

	inSet bool
	pos   int

	seg  Segment
	seps []int32
	ids  map[uint32]string
}

// NewReader returns a Reader reading from rd.
func NewReader(rd io.Reader, opts ...Option) *Reader {
	c := newConfig(opts)
	return &Reader{
		rd:     rd,
		buf:    make([]byte, minBufferSize),
		line:   1,
		maxSeg: c.maxSegmentSize,
		seps:   make([]int32, 0, 64),
		ids:    make(map[uint32]string, 64),
	}
}

// Delimiters returns the delimiters of the current interchange: the one
// whose ISA was read last.
func (r *Reader) Delimiters() Delimiters { return r.delims }

// LineEnding returns what followed the segment terminator of the last ISA
// read: "", "\n", "\r\n" or "\r". Writing with it reproduces the partner's
// habit.
func (r *Reader) LineEnding() string { return r.lineEnding }

// InputOffset returns the number of bytes consumed so far.
func (r *Reader) InputOffset() int64 { return r.base + int64(r.start) }

// Line returns the 1-based line number at InputOffset.
func (r *Reader) Line() int { return r.line }

// Next returns the next segment, or io.EOF at the end of the stream. The
// segment is valid until the next call to Next (see Segment).
func (r *Reader) Next() (*Segment, error) {
	if r.err != nil {
		return nil, r.err
	}
	for {
		if err := r.skipSpace(); err != nil {
			return nil, err
		}
		if r.inInterchange {
			break
		}
		if err := r.ensure(len(bom)); err != nil {
			return nil, err
		}
		if !bytes.HasPrefix(r.buf[r.start:r.end], bom) {
			break
		}
		r.start += len(bom)
		r.prevCR = false
	}
	if err := r.ensure(4); err != nil {
		return nil, err
	}
	if r.atISA() {
		return r.readISA()
	}
	if !r.inInterchange {
		return nil, r.junk()
	}
	if r.atTerminator() {
		return nil, r.emptySegment()
	}
	return r.readSegment()
}

// fill reads more data into the buffer, first moving the unread bytes to
// its front. It returns io.EOF when the stream has no more data.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.eof {
		return io.EOF
	}
	if r.start > 0 {
		n := copy(r.buf, r.buf[r.start:r.end])
		r.base += int64(r.start)
		r.end = n
		r.start = 0
	}
	if r.end == len(r.buf) {
		n := 2 * len(r.buf)
		if limit := max(minBufferSize, r.maxSeg+2*utf8.UTFMax); n > limit {
			n = limit
		}
		if n <= len(r.buf) {
			// Callers check the segment size before filling.
			return errors.New("x12: internal error: reader buffer full")
		}
		nb := make([]byte, n)
		copy(nb, r.buf[:r.end])
		r.buf = nb
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			r.err = errors.New("x12: reading: invalid count from Read")
			return r.err
		}
		r.end += n
		if err == io.EOF {
			r.eof = true
			if n > 0 {
				return nil
			}
			return io.EOF
		}
		if err != nil {
			r.err = fmt.Errorf("x12: reading: %w", err)
			if n > 0 {
				return nil
			}
			return r.err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = fmt.Errorf("x12: reading: %w", io.ErrNoProgress)
	return r.err
}

// ensure buffers at least n unread bytes, fewer at the end of the stream.
// It only fails on read errors.
func (r *Reader) ensure(n int) error {
	for r.end-r.start < n {
		if err := r.fill(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
	return nil
}

// skipSpace skips spaces, tabs and line breaks before a segment (and empty
// segments when the terminator itself is a line break). It returns io.EOF
// when the stream ends.
func (r *Reader) skipSpace() error {
	for {
		for r.start < r.end {
			c := r.buf[r.start]
			switch c {
			case ' ', '\t', '\r', '\n':
			default:
				return nil
			}
			if r.inInterchange && c != r.term0 && (c == r.delims.Element || c == r.delims.Component || c == r.delims.Repetition) {
				return nil
			}
			switch c {
			case '\n':
				if !r.prevCR {
					r.line++
				}
				r.prevCR = false
			case '\r':
				r.line++
				r.prevCR = true
			default:
				r.prevCR = false
			}
			r.start++
		}
		if err := r.fill(); err != nil {
			return err
		}
	}
}

// countLines advances the line number over b, about to be consumed. A line
// break is LF, CR LF or a CR alone.
func (r *Reader) countLines(b []byte) {
	if len(b) == 0 {
		return
	}
	if bytes.IndexByte(b, '\r') < 0 {
		n := bytes.Count(b, []byte{'\n'})
		if r.prevCR && b[0] == '\n' {
			n--
		}
		r.line += n
		r.prevCR = false
		return
	}
	for _, c := range b {
		switch c {
		case '\n':
			if !r.prevCR {
				r.line++
			}
			r.prevCR = false
		case '\r':
			r.line++
			r.prevCR = true
		default:
			r.prevCR = false
		}
	}
}

// consume advances past n buffered bytes, counting their lines.
func (r *Reader) consume(n int) {
	r.countLines(r.buf[r.start : r.start+n])
	r.start += n
}

// atISA reports whether the buffered data starts with "ISA" and a byte that
// could be an element separator, or with "ISA" at the end of the stream.
func (r *Reader) atISA() bool {
	b := r.buf[r.start:r.end]
	if len(b) < 3 || b[0] != 'I' || b[1] != 'S' || b[2] != 'A' {
		return false
	}
	if len(b) == 3 {
		return r.eof
	}
	return !isAlnum(b[3]) && b[3] != ' '
}

func (r *Reader) atTerminator() bool {
	b := r.buf[r.start:r.end]
	if len(r.termRest) > 0 {
		if r.ensure(1+len(r.termRest)) != nil {
			return false
		}
		b = r.buf[r.start:r.end]
		return len(b) > len(r.termRest) && b[0] == r.term0 && bytes.HasPrefix(b[1:], r.termRest)
	}
	return len(b) > 0 && b[0] == r.term0
}

func (r *Reader) emptySegment() error {
	line, off := r.line, r.InputOffset()
	r.consume(1 + len(r.termRest))
	return &SyntaxError{Line: line, Offset: off, Detail: fmt.Sprintf("empty segment (segment terminator %q right after another)", r.delims.Segment), Err: ErrEmptySegment}
}

// readSegment reads one segment of the current interchange.
func (r *Reader) readSegment() (*Segment, error) {
	tl := 1 + len(r.termRest)
	scan := 0 // bytes after r.start already searched
	for {
		b := r.buf[r.start:r.end]
		if i := bytes.IndexByte(b[scan:], r.term0); i >= 0 {
			j := scan + i
			if tl > 1 {
				if len(b)-j < tl && !r.eof {
					if err := r.fill(); err != nil && err != io.EOF {
						return nil, err
					}
					scan = j
					continue
				}
				if !bytes.HasPrefix(b[j+1:], r.termRest) {
					scan = j + 1
					continue
				}
			}
			if j > r.maxSeg {
				return nil, r.skipLong()
			}
			return r.emit(j, j+tl), nil
		}
		scan = len(b)
		if len(b) > r.maxSeg+tl {
			return nil, r.skipLong()
		}
		if err := r.fill(); err != nil {
			if err != io.EOF {
				return nil, err
			}
			// The last segment of the stream lacks its terminator: take
			// it, without the line break that often ends the file.
			b = r.buf[r.start:r.end]
			e := len(b)
			for e > 0 && r.trailingSpace(b[e-1]) {
				e--
			}
			if e == 0 {
				r.consume(len(b))
				return nil, io.EOF
			}
			return r.emit(e, len(b)), nil
		}
	}
}

func (r *Reader) trailingSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n':
		return c != r.delims.Element && c != r.delims.Component && c != r.delims.Repetition
	}
	return false
}

// emit makes r.seg of the buffered bytes [start, start+contentEnd) and
// consumes them up to start+next (the terminator included).
func (r *Reader) emit(contentEnd, next int) *Segment {
	b := r.buf[r.start : r.start+next]
	raw := b[:contentEnd:contentEnd]
	s := &r.seg
	s.Line = r.line
	s.Offset = r.InputOffset()
	r.countLines(b)
	r.start += next

	elem := r.delims.Element
	seps := r.seps[:0]
	for k, c := range raw {
		if c == elem {
			seps = append(seps, int32(k))
		}
	}
	r.seps = seps
	idEnd := len(raw)
	if len(seps) > 0 {
		idEnd = int(seps[0])
	}
	s.ID = r.intern(raw[:idEnd])
	s.raw = raw
	s.seps = seps
	s.rep = r.delims.Repetition
	s.comp = r.delims.Component

	switch s.ID {
	case "ST":
		r.inSet = true
		r.pos = 1
	case "ISA", "GS", "GE", "IEA":
		r.inSet = false
		r.pos = 0
	default:
		if r.inSet {
			r.pos++
		}
	}
	s.Position = 0
	if r.inSet {
		s.Position = r.pos
	}
	switch s.ID {
	case "SE":
		r.inSet = false
		r.pos = 0
	case "IEA":
		r.inInterchange = false
	}
	return s
}

// intern returns b as a string, without allocating for the segment IDs
// already seen.
func (r *Reader) intern(b []byte) string {
	if len(b) == 0 || len(b) > 3 {
		return string(b)
	}
	k := uint32(len(b)) << 24
	for i, c := range b {
		k |= uint32(c) << (8 * i)
	}
	if s, ok := r.ids[k]; ok {
		return s
	}
	s := string(b)
	if len(r.ids) < 4096 {
		r.ids[k] = s
	}
	return s
}

// readISA reads an ISA and takes the delimiters from it. The element
// separator is the byte after "ISA"; ISA16, the component separator, follows
// the 16th element separator (byte 104 of a standard 106-byte ISA, anywhere
// in an ISA whose fields are not padded); the segment terminator follows
// ISA16 and is one byte or one multi-byte UTF-8 character.
func (r *Reader) readISA() (*Segment, error) {
	// A read error is returned only if the ISA is incomplete without the
	// missing data; otherwise it waits for the next read.
	readErr := r.ensure(isaMaxLen)
	b := r.buf[r.start:r.end]
	if len(b) > isaMaxLen {
		b = b[:isaMaxLen]
	}
	line, off := r.line, r.InputOffset()
	fail := func(code, format string, args ...any) (*Segment, error) {
		r.inInterchange = false
		r.inSet = false
		r.pos = 0
		detail := fmt.Sprintf(format, args...)
		n, err := r.skipToISA(3)
		if err != nil {
			return nil, err
		}
		if r.start < r.end {
			detail += fmt.Sprintf("; skipped %d bytes to the next ISA", n)
		} else {
			detail += fmt.Sprintf("; skipped the remaining %d bytes", n)
		}
		return nil, &SyntaxError{Line: line, Offset: off, SegmentID: "ISA", Detail: detail, Code: ta1Code(code), Err: ErrInvalidISA}
	}

	if len(b) < 4 {
		return fail("023", "the stream ends inside the ISA segment")
	}
	elem := b[3]
	if elem == 0 {
		return fail("026", "the element separator after \"ISA\" is a NUL byte")
	}
	compAt := -1
	if len(b) > 105 && b[103] == elem && bytes.Count(b[3:104], b[3:4]) == 16 {
		compAt = 104
	} else {
		// The fields are not padded: find the 16th separator, but not past
		// a line break, which no ISA field holds.
		n := 0
		for k := 3; k < len(b) && compAt < 0; k++ {
			switch b[k] {
			case elem:
				if n++; n == 16 {
					compAt = k + 1
				}
			case '\r', '\n':
				return fail("022", "the ISA has %d elements before its first line break, it needs 16", n)
			}
		}
	}
	termAt := compAt + 1
	if readErr != nil && (compAt < 0 || termAt+utf8.UTFMax > len(b)) {
		return nil, readErr
	}
	switch {
	case compAt < 0 && len(b) < isaMaxLen:
		return fail("023", "the stream ends inside the ISA segment")
	case compAt < 0:
		return fail("022", "no 16th element separator %q within %d bytes of the ISA", elem, isaMaxLen)
	case termAt >= len(b):
		return fail("023", "the stream ends inside the ISA segment, before its segment terminator")
	}
	comp := b[compAt]
	tl := 1
	if b[termAt] >= 0xC2 {
		if c, n := utf8.DecodeRune(b[termAt:]); c != utf8.RuneError && n > 1 {
			tl = n
		}
	}
	term := b[termAt : termAt+tl]
	if comp == elem || isAlnum(comp) || comp == ' ' || comp == 0 {
		return fail("027", "ISA16 component separator %q is a letter, digit, space, NUL or the element separator", comp)
	}
	if t := term[0]; t == elem || t == comp || tl == 1 && (isAlnum(t) || t == ' ' || t == 0) {
		return fail("004", "segment terminator %q after ISA16 is a letter, digit, space, NUL or another delimiter", t)
	}

	raw := b[: compAt+1 : compAt+1]
	seps := r.seps[:0]
	for k, c := range raw {
		if c == elem {
			seps = append(seps, int32(k))
		}
	}
	r.seps = seps

	d := Delimiters{Element: elem, Component: comp, Segment: string(term)}
	isa11 := raw[seps[10]+1 : seps[11]]
	version := bytes.TrimRight(raw[seps[11]+1:seps[12]], " ")
	if len(isa11) == 1 && string(version) >= "00402" {
		if c := isa11[0]; !isAlnum(c) && c != ' ' && c != 0 && c != elem && c != comp && c != term[0] {
			d.Repetition = c
		}
	}
	r.delims = d
	r.term0 = term[0]
	r.termRest = append(r.termRest[:0], term[1:]...)

	after := b[termAt+tl:]
	r.lineEnding = ""
	if i := bytes.IndexFunc(after, func(c rune) bool { return c != '\r' && c != '\n' }); i >= 0 {
		after = after[:i]
	}
	if bytes.IndexByte(after, elem) >= 0 || bytes.IndexByte(after, comp) >= 0 || d.Repetition != 0 && bytes.IndexByte(after, d.Repetition) >= 0 {
		after = nil // a line break used as a delimiter is not a line ending
	}
	switch {
	case tl == 1 && term[0] == '\n':
	case tl == 1 && term[0] == '\r':
		if bytes.HasPrefix(after, []byte{'\n'}) {
			r.lineEnding = "\n"
		}
	case bytes.HasPrefix(after, []byte("\r\n")):
		r.lineEnding = "\r\n"
	case bytes.HasPrefix(after, []byte{'\n'}):
		r.lineEnding = "\n"
	case bytes.HasPrefix(after, []byte{'\r'}):
		r.lineEnding = "\r"
	}

	s := &r.seg
	s.ID = "ISA"
	s.Line = line
	s.Offset = off
	s.Position = 0
	s.raw = raw
	s.seps = seps
	s.rep = 0
	s.comp = 0
	r.consume(termAt + tl)
	r.seenISA = true
	r.inInterchange = true
	r.inSet = false
	r.pos = 0
	return s, nil
}

// junk skips data found where an ISA should start and reports it.
func (r *Reader) junk() error {
	line, off := r.line, r.InputOffset()
	sample := bytes.Clone(r.buf[r.start:min(r.end, r.start+24)])
	n, err := r.skipToISA(0)
	if err != nil {
		return err
	}
	sample = sample[:min(int64(len(sample)), n)]
	sentinel, where := ErrTrailingData, "after the interchange trailer (IEA)"
	if !r.seenISA {
		sentinel, where = ErrNoInterchange, "before the first ISA"
	}
	detail := fmt.Sprintf("%d bytes %s are not an interchange: %s", n, where, quote(sample))
	if n > int64(len(sample)) {
		detail += "..."
	}
	if r.start < r.end {
		detail += "; skipped to the next ISA"
	}
	return &SyntaxError{Line: line, Offset: off, Detail: detail, Err: sentinel}
}

// skipToISA consumes bytes from r.start up to the next "ISA" followed by a
// possible element separator, searching from r.start+from, or to the end of
// the stream. It returns the number of bytes consumed.
func (r *Reader) skipToISA(from int) (int64, error) {
	var skipped int64
	for {
		b := r.buf[r.start:r.end]
		from = min(from, len(b))
		cut := max(len(b)-2, 0) // keep a possible "IS" at the end
		for {
			i := bytes.Index(b[from:], isaTag)
			if i < 0 {
				break
			}
			k := from + i
			if k+3 >= len(b) {
				if !r.eof {
					cut = k
				}
				break
			}
			if c := b[k+3]; !isAlnum(c) && c != ' ' {
				r.consume(k)
				return skipped + int64(k), nil
			}
			from = k + 1
		}
		if r.eof {
			r.consume(len(b))
			return skipped + int64(len(b)), nil
		}
		cut = max(cut, min(from, len(b)))
		r.consume(cut)
		skipped += int64(cut)
		from = 0
		if err := r.fill(); err != nil && err != io.EOF {
			return skipped, err
		}
	}
}

// skipLong skips a segment longer than maxSeg up to its terminator and
// reports it.
func (r *Reader) skipLong() error {
	line, off := r.line, r.InputOffset()
	b := r.buf[r.start:r.end]
	id := b[:min(3, len(b))]
	if i := bytes.IndexByte(id, r.delims.Element); i >= 0 {
		id = id[:i]
	}
	se := &SyntaxError{Line: line, Offset: off, SegmentID: string(id), Err: ErrSegmentTooLong}
	if r.inSet {
		r.pos++
		se.Position = r.pos
	}
	tl := 1 + len(r.termRest)
	var skipped int64
	for {
		b := r.buf[r.start:r.end]
		found := -1
		for from := 0; ; {
			i := bytes.IndexByte(b[from:], r.term0)
			if i < 0 {
				break
			}
			j := from + i
			if len(b)-j >= tl && bytes.HasPrefix(b[j+1:], r.termRest) {
				found = j
				break
			}
			from = j + 1
		}
		if found >= 0 {
			r.consume(found + tl)
			skipped += int64(found + tl)
			break
		}
		if r.eof {
			r.consume(len(b))
			skipped += int64(len(b))
			break
		}
		cut := max(len(b)-(tl-1), 0)
		r.consume(cut)
		skipped += int64(cut)
		if err := r.fill(); err != nil && err != io.EOF {
			return err
		}
	}
	se.Detail = fmt.Sprintf("segment %q is longer than %d bytes (the maximum segment size); skipped %d bytes to its terminator", id, r.maxSeg, skipped)
	return se
}
