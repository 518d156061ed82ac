package x12

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtureFiles are the public samples in fixtures/edi (see its
// PROVENANCE.md) and the files written for this package in
// testdata/constructed.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"../../fixtures/edi/*x12*.edi", "testdata/constructed/*.edi"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 27 {
		t.Fatalf("found %d fixture files, want at least 27", len(files))
	}
	return files
}

// renderElement shows an element's structure whatever the delimiters:
// "v" for a simple value, ["a" "b"] for components, {x|y} for repetitions.
func renderElement(e Element) string {
	var reps []string
	for r := 1; r <= e.NumRepetitions(); r++ {
		rep := e.Repetition(r)
		if rep.NumComponents() == 1 {
			reps = append(reps, strconv.Quote(rep.String()))
			continue
		}
		var comps []string
		for c := 1; c <= rep.NumComponents(); c++ {
			comps = append(comps, strconv.Quote(rep.Component(c).String()))
		}
		reps = append(reps, "["+strings.Join(comps, " ")+"]")
	}
	if len(reps) == 1 {
		return reps[0]
	}
	return "{" + strings.Join(reps, "|") + "}"
}

// renderSegment shows a segment's ID and elements (not its position).
func renderSegment(s *Segment) string {
	var b strings.Builder
	b.WriteString(s.ID)
	for i := 1; i <= s.Len(); i++ {
		b.WriteByte(' ')
		b.WriteString(renderElement(s.Element(i)))
	}
	return b.String()
}

func renderError(err error) string {
	var ve *ValidationError
	var se *SyntaxError
	code := ""
	switch {
	case errors.As(err, &ve):
		code = ve.Code.String()
	case errors.As(err, &se):
		code = se.Code.String()
	}
	if code == "" {
		code = "-"
	}
	return fmt.Sprintf("[%s] %v", code, err)
}

// readerTrace lists what a Reader returns for data, one line per segment
// or error.
func readerTrace(r io.Reader, opts ...Option) string {
	var b strings.Builder
	rd := NewReader(r, opts...)
	for {
		s, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&b, "error %s\n", renderError(err))
			var se *SyntaxError
			if !errors.As(err, &se) {
				break
			}
			continue
		}
		if s.ID == "ISA" {
			fmt.Fprintf(&b, "-- %s, line ending %q\n", rd.Delimiters(), rd.LineEnding())
		}
		fmt.Fprintf(&b, "%d:%d #%d %s\n", s.Line, s.Offset, s.Position, renderSegment(s))
	}
	return b.String()
}

// decoderTrace lists the Decoder's events and every problem attached.
func decoderTrace(r io.Reader, opts ...Option) string {
	var b strings.Builder
	d := NewDecoder(r, opts...)
	errs := func(list []error) {
		for _, err := range list {
			fmt.Fprintf(&b, "    %s\n", renderError(err))
		}
	}
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Fprintf(&b, "error %s\n", renderError(err))
			var se *SyntaxError
			if !errors.As(err, &se) {
				break
			}
			continue
		}
		switch ev.Kind {
		case InterchangeStart:
			ic := ev.Interchange
			fmt.Fprintf(&b, "%s %s from %s/%s to %s/%s on %s %s version %s usage %s ack %s\n", ev.Kind, ic.ControlNumber,
				ic.SenderQualifier, ic.SenderID, ic.ReceiverQualifier, ic.ReceiverID, ic.Date, ic.Time, ic.Version, ic.Usage, ic.AckRequested)
		case GroupStart:
			g := ev.Group
			fmt.Fprintf(&b, "  %s %s %s from %s to %s on %s %s version %s\n", ev.Kind, g.FunctionalID, g.ControlNumber,
				g.ApplicationSender, g.ApplicationReceiver, g.Date, g.Time, g.Version)
		case SetEnd:
			ts := ev.Set
			fmt.Fprintf(&b, "    %s %s %s line %d, %d segments, accepted %v\n", ev.Kind, ts.ID, ts.ControlNumber, ts.Line, len(ts.Segments), ts.Accepted())
			errs(ts.Errors)
		case GroupEnd:
			fmt.Fprintf(&b, "  %s %s, %d sets\n", ev.Kind, ev.Group.ControlNumber, ev.Group.SetCount)
			errs(ev.Group.Errors)
		case InterchangeEnd:
			fmt.Fprintf(&b, "%s %s, %d groups\n", ev.Kind, ev.Interchange.ControlNumber, ev.Interchange.GroupCount)
			errs(ev.Interchange.Errors)
		case TechnicalAck:
			fmt.Fprintf(&b, "  %s %s\n", ev.Kind, renderSegment(ev.Segment))
		}
	}
	return b.String()
}

// TestFixturesGolden reads every fixture with the Reader and the Decoder
// and compares the whole output with testdata/golden/<file>.golden.
// Run with -update to rewrite the golden files after a deliberate change.
func TestFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := "# reader\n" + readerTrace(bytes.NewReader(data)) + "# decoder, with the standard specifications\n" + decoderTrace(bytes.NewReader(data), WithSpecs(StandardSpecs()))
			golden := filepath.Join("testdata", "golden", name+".golden")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run go test -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run go test -update if the change is deliberate)\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestFixturesOneByteReads checks that the reader's output does not depend
// on how the input is cut into reads: every fixture read one byte at a
// time gives the same trace as read whole.
func TestFixturesOneByteReads(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		whole := readerTrace(bytes.NewReader(data)) + decoderTrace(bytes.NewReader(data))
		bytewise := readerTrace(iotest.OneByteReader(bytes.NewReader(data))) + decoderTrace(iotest.OneByteReader(bytes.NewReader(data)))
		if whole != bytewise {
			t.Errorf("%s: one-byte reads differ\n--- one byte\n%s--- whole\n%s", filepath.Base(path), bytewise, whole)
		}
	}
}

// TestFixturesExpectedProblems pins, for every fixture, the exact problems
// (sentinel, X12 code, line) Validate reports with the standard
// specifications: none for the valid samples.
func TestFixturesExpectedProblems(t *testing.T) {
	type problem struct {
		err  error
		code string
		line int
	}
	want := map[string][]problem{
		"ediengine__x12-940-control-number-mismatch.edi": {
			{ErrControlNumberMismatch, "AK502 3", 7},
			{ErrControlNumberMismatch, "AK905 4", 8},
			{ErrControlNumberMismatch, "TA105 001", 9},
		},
		"ediengine__x12-940-wrong-counts.edi": {
			{ErrSetCount, "AK905 5", 8},
			{ErrGroupCount, "TA105 021", 9},
		},
		"edinet__x12-850-bom-nbsp-bad-isa.edi": {
			{ErrTooLong, "TA105 011", 1},
			{ErrTooLong, "TA105 013", 1},
			{ErrTooLong, "TA105 006", 1},
			{ErrTooLong, "TA105 008", 1},
			{ErrControlNumberMismatch, "TA105 001", 15},
		},
		"x12-850-many-problems.edi": {
			{ErrInvalidDate, "TA105 014", 1},
			{ErrInvalidTime, "TA105 015", 1},
			{ErrInvalidCode, "TA105 019", 1},
			{ErrInvalidCode, "TA105 020", 1},
			{ErrSegmentCount, "AK502 4", 10},
			{ErrControlNumberMismatch, "AK502 3", 14},
			{ErrDuplicateControlNumber, "AK502 23", 19},
			{ErrMissingTrailer, "AK502 2", 26},
			{ErrSetCount, "AK905 5", 30},
			{ErrControlNumberMismatch, "AK905 4", 30},
			{ErrGroupCount, "TA105 021", 31},
			{ErrControlNumberMismatch, "TA105 001", 31},
			{ErrTrailingData, "", 32},
		},
		"x12-940-set-errors.edi": {
			{ErrNotNumeric, "AK403 6", 11},
			{ErrSegmentCount, "AK502 4", 12},
			{ErrSegmentMissing, "AK304 3", 14},
			{ErrTooLong, "AK403 5", 15},
			{ErrSegmentNotInSet, "AK304 6", 16},
		},
		"x12-850-short-isa.edi": {
			{ErrTooShort, "TA105 011", 1},
			{ErrTooShort, "TA105 013", 1},
			{ErrTooShort, "TA105 006", 1},
			{ErrTooShort, "TA105 008", 1},
			{ErrTooShort, "TA105 018", 1},
		},
		"x12-850-truncated.edi": {
			// Checked against the 005010 850 table: the date is in BEG04
			// (release number), set 0001 has no PO1 loop, and set 0002's
			// PO107 repeats.
			{ErrMissingElement, "AK403 1", 4},
			{ErrSegmentMissing, "AK304 3", 5},
			{ErrMissingElement, "AK403 1", 7},
			{ErrTooManyRepetitions, "AK403 12", 8},
			{ErrMissingTrailer, "AK502 2", 8},
			{ErrMissingTrailer, "AK905 3", 8},
			{ErrMissingTrailer, "TA105 023", 8},
		},
	}
	for _, path := range fixtureFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			err = Validate(f, WithSpecs(StandardSpecs()))
			var got ErrorList
			if err != nil && !errors.As(err, &got) {
				t.Fatalf("Validate returned %T %v, want an ErrorList", err, err)
			}
			exp := want[name]
			if len(got) != len(exp) {
				t.Fatalf("got %d problems, want %d:\n%v", len(got), len(exp), got)
			}
			for i, p := range exp {
				g := got[i]
				if !errors.Is(g, p.err) {
					t.Errorf("problem %d: %v is not %v", i, g, p.err)
				}
				var code string
				var line int
				var ve *ValidationError
				var se *SyntaxError
				switch {
				case errors.As(g, &ve):
					code, line = ve.Code.String(), ve.Line
				case errors.As(g, &se):
					code, line = se.Code.String(), se.Line
				}
				if code != p.code || line != p.line {
					t.Errorf("problem %d: code %q line %d, want %q line %d: %v", i, code, line, p.code, p.line, g)
				}
			}
		})
	}
}
