package x12

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"
	"testing"
)

// FuzzReader checks that the reader never panics, that every segment it
// returns is where it says in the input, and that read → write → read gives
// the same segments.
func FuzzReader(f *testing.F) {
	for _, path := range fixtureFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(bytes.NewReader(data), WithMaxSegmentSize(4096))
		var out bytes.Buffer
		var w *Writer
		var segs []string
		for range len(data) + 1 {
			s, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("error that is not a *SyntaxError from a bytes.Reader: %v", err)
				}
				if se.Line < 1 || se.Offset < 0 || se.Offset > int64(len(data)) {
					t.Fatalf("error located outside the input: %v", se)
				}
				continue
			}
			if s.Line < 1 || s.Offset < 0 || s.Offset+int64(len(s.raw)) > int64(len(data)) ||
				!bytes.Equal(data[s.Offset:s.Offset+int64(len(s.raw))], s.raw) {
				t.Fatalf("segment %q not found at offset %d", s.raw, s.Offset)
			}
			if s.ID == "ISA" {
				if w == nil {
					if w, err = NewWriter(&out, r.Delimiters()); err != nil {
						t.Fatalf("delimiters read from an ISA are refused by the writer: %v", err)
					}
				}
				if err := errors.Join(w.SetLineEnding(""), w.SetDelimiters(r.Delimiters()), w.SetLineEnding(r.LineEnding())); err != nil {
					t.Fatalf("delimiters read from an ISA are refused by the writer: %v", err)
				}
			}
			if err := w.WriteSegment(s); err != nil {
				// Two things the reader accepts cannot be written back: ISA
				// fields holding the component separator (ISA fields are not
				// split), and, after a one-byte terminator from 0xC0 up, a
				// segment starting with a UTF-8 continuation byte.
				if errors.Is(err, ErrDelimiterInData) && (s.ID == "ISA" || len(s.raw) > 0 && s.raw[0] >= 0x80) {
					return
				}
				t.Fatalf("writing %q: %v", s.raw, err)
			}
			segs = append(segs, renderFields(s))
		}
		if w == nil {
			return
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if back := readSegments(t, out.Bytes()); !slices.Equal(back, segs) {
			t.Fatalf("read → write → read differs\ninput  %q\noutput %q\n got %q\nwant %q", data, out.Bytes(), back, segs)
		}
	})
}

// FuzzDecoder checks that the envelope and specification validation never
// panics, locates every problem inside the input with an acknowledgement
// code, and nests its events properly.
func FuzzDecoder(f *testing.F) {
	for _, path := range fixtureFiles(f) {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(bytes.NewReader(data), WithMaxSegmentSize(4096), WithSpecs(StandardSpecs()))
		check := func(errs []error) {
			for _, err := range errs {
				var ve *ValidationError
				var se *SyntaxError
				switch {
				case errors.As(err, &ve):
					if ve.Code.IsZero() || ve.Line < 1 || ve.Offset < 0 || ve.Offset > int64(len(data)) || ve.Err == nil {
						t.Fatalf("bad validation error %#v", ve)
					}
				case errors.As(err, &se):
					if se.Line < 1 || se.Offset < 0 || se.Offset > int64(len(data)) || se.Err == nil {
						t.Fatalf("bad syntax error %#v", se)
					}
				default:
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
			}
		}
		depth := 0 // 0 outside, 1 in an interchange, 2 in a group
		for range 4*len(data) + 8 {
			ev, err := d.Next()
			if err == io.EOF {
				if depth != 0 {
					t.Fatalf("stream ended at depth %d", depth)
				}
				return
			}
			if err != nil {
				check([]error{err})
				continue
			}
			want := map[EventKind]int{InterchangeStart: 0, GroupStart: 1, SetEnd: 2, GroupEnd: 2, InterchangeEnd: 1, TechnicalAck: 1}[ev.Kind]
			if depth != want {
				t.Fatalf("%s at depth %d", ev.Kind, depth)
			}
			switch ev.Kind {
			case InterchangeStart, GroupStart:
				depth++
			case GroupEnd:
				check(ev.Group.Errors)
				depth--
			case InterchangeEnd:
				check(ev.Interchange.Errors)
				depth--
			case SetEnd:
				check(ev.Set.Errors)
				if len(ev.Set.Segments) == 0 || ev.Set.Segments[0].ID != "ST" {
					t.Fatalf("set without its ST")
				}
			}
		}
		t.Fatal("the decoder did not reach io.EOF")
	})
}

// TestFuzzCrashers pins what the inputs FuzzReader found (kept in
// testdata/fuzz/FuzzReader/crasher-*) must do now.
func TestFuzzCrashers(t *testing.T) {
	t.Run("segment ID holds the component separator", func(t *testing.T) {
		in := []byte("ISA****************!\"!0")
		if got := readerTrace(bytes.NewReader(in)); got != "-- element '*' repetition none component '!' segment \"\\\"\", line ending \"\"\n"+
			`1:0 #0 ISA "" "" "" "" "" "" "" "" "" "" "" "" "" "" "" "!"`+"\n"+`1:21 #0 !0`+"\n" {
			t.Errorf("trace:\n%s", got)
		}
		out, segs := rewrite(t, in, nil)
		if string(out) != "ISA****************!\"!0\"" || !slices.Equal(readSegments(t, out), segs) {
			t.Errorf("rewritten as %q", out)
		}
	})
	t.Run("one-byte terminator from 0xC0 up, then a continuation byte", func(t *testing.T) {
		r := NewReader(bytes.NewReader([]byte("ISA****************!\xe2 \x80\x9a")))
		isa, _ := r.Next()
		if r.Delimiters().Segment != "\xe2" {
			t.Fatalf("terminator %q", r.Delimiters().Segment)
		}
		w, err := NewWriter(io.Discard, r.Delimiters())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteSegment(isa); err != nil {
			t.Fatal(err)
		}
		s, err := r.Next()
		if err != nil || s.String() != "\x80\x9a" {
			t.Fatalf("segment %v %v", s, err)
		}
		if err := w.WriteSegment(s); !errors.Is(err, ErrDelimiterInData) {
			t.Errorf("writing a segment that would merge with the terminator: %v", err)
		}
	})
	t.Run("NUL component separator", func(t *testing.T) {
		got := readerTrace(bytes.NewReader([]byte("ISA****************\x00!*\x00")))
		want := "error [TA105 027] line 1 (offset 0): ISA16 component separator '\\x00' is a letter, digit, space, NUL or the element separator; skipped the remaining 23 bytes\n"
		if got != want {
			t.Errorf("trace\n got %s\nwant %s", got, want)
		}
	})
	t.Run("ISA at the end of the stream", func(t *testing.T) {
		got := readerTrace(bytes.NewReader([]byte("ISA****************!\n0000000000000\nISA")))
		want := "-- element '*' repetition none component '!' segment \"\\n\", line ending \"\"\n" +
			`1:0 #0 ISA "" "" "" "" "" "" "" "" "" "" "" "" "" "" "" "!"` + "\n" +
			"2:21 #0 0000000000000\n" +
			"error [TA105 023] line 3 (offset 35): the stream ends inside the ISA segment; skipped the remaining 3 bytes\n"
		if got != want {
			t.Errorf("trace\n got %s\nwant %s", got, want)
		}
	})
}
