package x12

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rewrite reads in with a Reader and writes every segment back with a
// Writer, with each interchange's own delimiters and line ending, or with d
// when d is not nil. It returns the output and the rendered segments read.
func rewrite(t testing.TB, in []byte, d *Delimiters) ([]byte, []string) {
	t.Helper()
	var out bytes.Buffer
	r := NewReader(bytes.NewReader(in))
	var w *Writer
	var segs []string
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				continue
			}
			t.Fatal(err)
		}
		segs = append(segs, renderFields(s))
		if s.ID == "ISA" {
			delims, le := r.Delimiters(), r.LineEnding()
			if d != nil {
				delims = *d
			}
			if w == nil {
				if w, err = NewWriter(&out, delims, WithLineEnding(le)); err != nil {
					t.Fatal(err)
				}
			} else if err := w.SetDelimiters(delims); err != nil {
				t.Fatal(err)
			} else if err := w.SetLineEnding(le); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.WriteSegment(s); err != nil {
			t.Fatalf("writing %s: %v", s, err)
		}
	}
	if w != nil {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes(), segs
}

func readSegments(t testing.TB, in []byte) []string {
	t.Helper()
	var segs []string
	r := NewReader(bytes.NewReader(in))
	for {
		s, err := r.Next()
		if err == io.EOF {
			return segs
		}
		if err != nil {
			t.Fatalf("reading back: %v", err)
		}
		segs = append(segs, renderFields(s))
	}
}

// TestRoundTripFixtures: read → write → read gives the same segments for
// every fixture, and the very same bytes for the files written the regular
// way (every terminator followed by the same line ending).
func TestRoundTripFixtures(t *testing.T) {
	sameBytes := []string{
		"staedi__x12-997-5010.edi", "staedi__x12-999-5010.edi", "staedi__x12-997-three-interchanges.edi",
		"staedi__x12-855-two-sets-caret-component.edi", "ediengine__x12-850.edi", "ediengine__x12-856-crossdock.edi",
		"nodex12__x12-855.edi", "nodex12__x12-850-two-interchanges.edi",
		"x12-846-tilde-element-brace-terminator-crlf.edi", "x12-945-00501-isa11-u-crlf.edi",
		"x12-ta1-only-crlf.edi",
	}
	for _, path := range fixtureFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, segs := rewrite(t, in, nil)
			if back := readSegments(t, out); !slices.Equal(back, segs) {
				t.Errorf("segments differ after the round trip\n got %q\nwant %q", back, segs)
			}
			in = bytes.TrimPrefix(in, bom)
			if slices.Contains(sameBytes, name) && !bytes.Equal(out, in) {
				t.Errorf("output differs from the input\n got %q\nwant %q", out, in)
			}
		})
	}
}

// TestRoundTripOtherDelimiters converts every valid fixture to other
// delimiters and line endings and reads back the same segments.
func TestRoundTripOtherDelimiters(t *testing.T) {
	others := []Delimiters{
		{Element: '|', Repetition: '!', Component: '\\', Segment: "\n"},
		{Element: '\x1c', Repetition: '\x1d', Component: '\x1f', Segment: "\x1e"},
		{Element: '*', Repetition: '^', Component: ':', Segment: "…"},
	}
	for _, path := range fixtureFiles(t) {
		in, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range others {
			out, segs := rewrite(t, in, &d)
			back := readSegments(t, out)
			// ISA11 and ISA16 are delimiters: they change with them.
			for _, list := range [][]string{segs, back} {
				for i, s := range list {
					if strings.HasPrefix(s, "ISA\x00") {
						f := strings.Split(s, "\x00")
						f[11], f[16] = "", ""
						list[i] = strings.Join(f, "\x00")
					}
				}
			}
			if !slices.Equal(back, segs) {
				t.Errorf("%s with %v: segments differ\n got %q\nwant %q", filepath.Base(path), d, back, segs)
			}
		}
	}
}

func TestWriterEnvelope(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, DefaultDelimiters, WithLineEnding("\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.BeginInterchange(&Interchange{
		SenderQualifier: "ZZ", SenderID: "PAKLOG", ReceiverQualifier: "01", ReceiverID: "RETAILER",
		Date: "240115", Time: "0930", Version: "00501", ControlNumber: "905", Usage: "T",
	}))
	must(w.BeginGroup(&FunctionalGroup{FunctionalID: "SW", ApplicationSender: "PAKLOG", ApplicationReceiver: "RETAILER",
		Date: "20240115", Time: "0930", ControlNumber: "905", Version: "005010"}))
	must(w.BeginSet(&TransactionSet{ID: "945", ControlNumber: "0001"}))
	must(w.Write("W06", "N", "ORD1", "20240115", "SHIP1"))
	must(w.Write("N1", "ST", "ACME", "", "", "")) // trailing empty elements are left out
	must(w.WriteValues("REF", Simple("ZZ"), Simple(""), Simple(""), Repeated(Composite("SI", "A"), Simple("B"))))
	must(w.EndSet())
	must(w.BeginSet(&TransactionSet{ID: "945", ControlNumber: "0002"}))
	must(w.EndSet())
	must(w.EndGroup())
	must(w.EndInterchange())
	must(w.Flush())
	want := "ISA*00*          *00*          *ZZ*PAKLOG         *01*RETAILER       *240115*0930*^*00501*000000905*0*T*:~\r\n" +
		"GS*SW*PAKLOG*RETAILER*20240115*0930*905*X*005010~\r\n" +
		"ST*945*0001~\r\n" +
		"W06*N*ORD1*20240115*SHIP1~\r\n" +
		"N1*ST*ACME~\r\n" +
		"REF*ZZ***SI:A^B~\r\n" +
		"SE*5*0001~\r\n" +
		"ST*945*0002~\r\n" +
		"SE*2*0002~\r\n" +
		"GE*2*905~\r\n" +
		"IEA*1*000000905~\r\n"
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
	if err := Validate(bytes.NewReader(buf.Bytes())); err != nil {
		t.Errorf("the written interchange is not valid: %v", err)
	}
}

func TestWriterISA00401(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, Delimiters{Element: '*', Repetition: '^', Component: '>', Segment: "~"})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.BeginInterchange(&Interchange{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B",
		Date: "240229", Time: "2359", Version: "00401", ControlNumber: "1", Usage: "P", AckRequested: "1"}); err != nil {
		t.Fatal(err)
	}
	// Before 00402 there is no repetition separator: ^ is data.
	if err := w.Write("REF", "ZZ", "A^B"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteValues("REF", Simple("ZZ"), Repeated(Simple("A"), Simple("B"))); !errors.Is(err, ErrDelimiterInData) {
		t.Errorf("repetitions in 00401: %v", err)
	}
	if err := w.EndInterchange(); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "ISA*00*          *00*          *ZZ*A              *ZZ*B              *240229*2359*U*00401*000000001*1*P*>~REF*ZZ*A^B~IEA*0*000000001~"
	if buf.String() != want {
		t.Errorf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestWriterErrors(t *testing.T) {
	newW := func() *Writer {
		w, err := NewWriter(io.Discard, DefaultDelimiters)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	tests := []struct {
		name string
		run  func(w *Writer) error
		want error
		msg  string
	}{
		{"element separator in data", func(w *Writer) error { return w.Write("N1", "ST", "A*B") }, ErrDelimiterInData,
			`x12: writing N102: "A*B" contains the element separator "*": x12: value contains a delimiter`},
		{"terminator in data", func(w *Writer) error { return w.Write("N1", "ST", "A~") }, ErrDelimiterInData,
			`x12: writing N102: "A~" contains the segment terminator "~": x12: value contains a delimiter`},
		{"component separator in a component", func(w *Writer) error {
			return w.WriteValues("SLN", Simple("1"), Composite("A", "B:C"))
		}, ErrDelimiterInData, `x12: writing SLN02-2: "B:C" contains the component separator ":": x12: value contains a delimiter`},
		{"repetition separator in data", func(w *Writer) error { return w.Write("N1", "A^B") }, ErrDelimiterInData,
			`x12: writing N101: "A^B" contains the repetition separator "^": x12: value contains a delimiter`},
		{"bad segment ID", func(w *Writer) error { return w.Write("n1", "ST") }, ErrSegmentID, ""},
		{"group outside an interchange", func(w *Writer) error {
			return w.BeginGroup(&FunctionalGroup{FunctionalID: "PO"})
		}, ErrEnvelope, "beginning a functional group: nothing open: x12: envelope helpers called out of order"},
		{"ISA fields missing and too long", func(w *Writer) error {
			return w.BeginInterchange(&Interchange{SenderQualifier: "ZZ", SenderID: strings.Repeat("X", 16), ReceiverQualifier: "ZZ", ReceiverID: "B",
				Date: "241301", Time: "2460", Version: "00501", ControlNumber: "1", Usage: "Q"})
		}, ErrTooLong, `x12: writing ISA06: "XXXXXXXXXXXXXXXX" is 16 bytes long, it must be exactly 15: x12: element too long
x12: writing ISA09: "241301" is not a date (YYMMDD): x12: invalid date
x12: writing ISA10: "2460" is not a time (HHMM): x12: invalid time
x12: writing ISA15: "Q" is not a usage indicator (P, T or I): x12: invalid code value`},
		{"ISA required fields", func(w *Writer) error { return w.BeginInterchange(&Interchange{SenderQualifier: "ZZ", SenderID: "A"}) }, ErrMissingElement, ""},
		{"ST02 too short", func(w *Writer) error {
			if err := w.BeginInterchange(&Interchange{SenderQualifier: "ZZ", SenderID: "A", ReceiverQualifier: "ZZ", ReceiverID: "B",
				Date: "240101", Time: "0000", Version: "00501", ControlNumber: "1", Usage: "P"}); err != nil {
				return err
			}
			if err := w.BeginGroup(&FunctionalGroup{FunctionalID: "PO", ApplicationSender: "A", ApplicationReceiver: "B",
				Date: "20240101", Time: "0000", ControlNumber: "1", Version: "005010"}); err != nil {
				return err
			}
			return w.BeginSet(&TransactionSet{ID: "850", ControlNumber: "1"})
		}, ErrTooShort, `x12: writing ST02 "1": must be 4 to 9 characters: x12: element too short`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(newW())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message\n got %s\nwant %s", err, tt.msg)
			}
		})
	}
	if _, err := NewWriter(io.Discard, Delimiters{Element: '*', Component: '*', Segment: "~"}); err == nil {
		t.Error("NewWriter accepted the same delimiter twice")
	}
	if _, err := NewWriter(io.Discard, Delimiters{Element: 'A', Component: ':', Segment: "~"}); err == nil {
		t.Error("NewWriter accepted a letter as delimiter")
	}
	if _, err := NewWriter(io.Discard, DefaultDelimiters, WithLineEnding("\t")); err == nil {
		t.Error("NewWriter accepted a tab line ending")
	}
}

// renderFields is renderSegment with NUL between the ID and the elements,
// so that a test can pick elements out.
func renderFields(s *Segment) string {
	f := []string{s.ID}
	for i := 1; i <= s.Len(); i++ {
		f = append(f, renderElement(s.Element(i)))
	}
	return strings.Join(f, "\x00")
}
