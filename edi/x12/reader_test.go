package x12

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// testISA returns a standard 106-byte ISA (105 bytes and the terminator)
// with the given delimiters, version and control number.
func testISA(elem, rep, comp byte, term, version, control string) string {
	f := []string{"00", "          ", "00", "          ", "ZZ", "SENDER         ", "ZZ", "RECEIVER       ",
		"240115", "0930", string(rep), version, control, "0", "P", string(comp)}
	var b strings.Builder
	b.WriteString("ISA")
	for _, v := range f {
		b.WriteByte(elem)
		b.WriteString(v)
	}
	b.WriteString(term)
	return b.String()
}

// small850 is a valid interchange with one 850 of three segments, with
// delimiters * ^ : ~ and a LF after each terminator: 8 lines.
func small850(control string) string {
	return testISA('*', '^', ':', "~", "00501", control) + "\n" +
		"GS*PO*SENDER*RECEIVER*20240115*0930*1*X*005010~\n" +
		"ST*850*0001~\n" +
		"BEG*00*SA*PO1**20240115~\n" +
		"SE*3*0001~\n" +
		"GE*1*1~\n" +
		"IEA*1*" + control + "~\n"
}

type segInfo struct {
	id       string
	line     int
	offset   int64
	position int
}

type readResult struct {
	segs []segInfo
	errs []error
}

func readAll(t *testing.T, input string, opts ...Option) readResult {
	t.Helper()
	var res readResult
	r := NewReader(strings.NewReader(input), opts...)
	for range 10000 {
		s, err := r.Next()
		if err == io.EOF {
			return res
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Next: non-syntax error %v", err)
			}
			res.errs = append(res.errs, err)
			continue
		}
		res.segs = append(res.segs, segInfo{s.ID, s.Line, s.Offset, s.Position})
	}
	t.Fatal("Next did not reach io.EOF")
	return res
}

func TestReaderPositions(t *testing.T) {
	isa := testISA('*', '^', ':', "~", "00501", "000000001")
	tests := []struct {
		name  string
		input string
		want  []segInfo
	}{
		{
			name:  "LF after each terminator",
			input: small850("000000001"),
			want: []segInfo{
				{"ISA", 1, 0, 0}, {"GS", 2, 107, 0}, {"ST", 3, 155, 1}, {"BEG", 4, 168, 2},
				{"SE", 5, 193, 3}, {"GE", 6, 204, 0}, {"IEA", 7, 212, 0},
			},
		},
		{
			name:  "BOM, leading blank lines and indentation",
			input: "\xef\xbb\xbf\r\n\r\n  " + isa + "\r\n\tGS*PO*S*R*20240115*0930*1*X*005010~\r\n  ST*850*0001~SE*2*0001~GE*1*1~IEA*1*000000001~",
			want: []segInfo{
				{"ISA", 3, 9, 0}, {"GS", 4, 118, 0}, {"ST", 5, 157, 1}, {"SE", 5, 169, 2}, {"GE", 5, 179, 0}, {"IEA", 5, 186, 0},
			},
		},
		{
			name:  "CR alone is a line break",
			input: isa + "\rGS*PO*S*R*20240115*0930*1*X*005010~\rIEA*0*000000001~\r",
			want:  []segInfo{{"ISA", 1, 0, 0}, {"GS", 2, 107, 0}, {"IEA", 3, 143, 0}},
		},
		{
			name:  "no line breaks at all",
			input: strings.ReplaceAll(small850("000000001"), "\n", ""),
			want: []segInfo{
				{"ISA", 1, 0, 0}, {"GS", 1, 106, 0}, {"ST", 1, 153, 1}, {"BEG", 1, 165, 2},
				{"SE", 1, 189, 3}, {"GE", 1, 199, 0}, {"IEA", 1, 206, 0},
			},
		},
		{
			name:  "last segment without terminator, file ends with a line break",
			input: isa + "\nIEA*0*000000001\n",
			want:  []segInfo{{"ISA", 1, 0, 0}, {"IEA", 2, 107, 0}},
		},
		{
			name:  "LF is the segment terminator",
			input: testISA('*', 'U', '>', "\n", "00401", "000000001") + "ST*850*0001\nN1*ST*X\n\nSE*3*0001\nIEA*0*000000001",
			want:  []segInfo{{"ISA", 1, 0, 0}, {"ST", 2, 106, 1}, {"N1", 3, 118, 2}, {"SE", 5, 127, 3}, {"IEA", 6, 137, 0}},
		},
		{
			name:  "position restarts at each ST and is 0 outside sets",
			input: isa + "GS*PO*S*R*20240115*0930*1*X*005010~ST*850*1~A~B~SE*4*1~ST*850*2~C~GE*2*1~IEA*1*000000001~",
			want: []segInfo{
				{"ISA", 1, 0, 0}, {"GS", 1, 106, 0}, {"ST", 1, 141, 1}, {"A", 1, 150, 2}, {"B", 1, 152, 3}, {"SE", 1, 154, 4},
				{"ST", 1, 161, 1}, {"C", 1, 170, 2}, {"GE", 1, 172, 0}, {"IEA", 1, 179, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, tt.input)
			if len(got.errs) > 0 {
				t.Fatalf("unexpected errors: %v", got.errs)
			}
			if fmt.Sprint(got.segs) != fmt.Sprint(tt.want) {
				t.Errorf("segments (id line offset position)\n got %v\nwant %v", got.segs, tt.want)
			}
		})
	}
}

func TestReaderDelimiters(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		want       Delimiters
		lineEnding string
		elements   string // renderSegment of the second segment
	}{
		{
			name:       "00501 with repetition separator",
			input:      testISA('*', '^', ':', "~", "00501", "000000001") + "\nREF*ZZ*A^B:C~",
			want:       Delimiters{'*', '^', ':', "~"},
			lineEnding: "\n",
			elements:   `REF "ZZ" {"A"|["B" "C"]}`,
		},
		{
			name:       "00401: ISA11 is the standards identifier",
			input:      testISA('*', 'U', '>', "~", "00401", "000000001") + "\r\nREF*ZZ*A^B>C~",
			want:       Delimiters{'*', 0, '>', "~"},
			lineEnding: "\r\n",
			elements:   `REF "ZZ" ["A^B" "C"]`,
		},
		{
			name:     "00402: first version with a repetition separator",
			input:    testISA('*', '!', '>', "~", "00402", "000000001") + "REF*ZZ*A!B~",
			want:     Delimiters{'*', '!', '>', "~"},
			elements: `REF "ZZ" {"A"|"B"}`,
		},
		{
			name:     "00501 with a letter in ISA11: no repetition separator",
			input:    testISA('*', 'U', '>', "~", "00501", "000000001") + "REF*ZZ*AUB~",
			want:     Delimiters{'*', 0, '>', "~"},
			elements: `REF "ZZ" "AUB"`,
		},
		{
			name:       "tilde element separator, brace terminator",
			input:      testISA('~', 'U', '>', "}", "00401", "000000001") + "\r\nN1~ST~A*B~~C>D}",
			want:       Delimiters{'~', 0, '>', "}"},
			lineEnding: "\r\n",
			elements:   `N1 "ST" "A*B" "" ["C" "D"]`,
		},
		{
			name:     "star terminator, backtick component",
			input:    testISA('~', 'U', '`', "*", "00401", "000000001") + "REF~BM~X~~SI`Y*",
			want:     Delimiters{'~', 0, '`', "*"},
			elements: `REF "BM" "X" "" ["SI" "Y"]`,
		},
		{
			name:       "control character terminator 0x1D",
			input:      testISA('*', 'U', ':', "\x1d", "00401", "000000001") + "\r\nAK4*2:1*330\x1d\r\n",
			want:       Delimiters{'*', 0, ':', "\x1d"},
			lineEnding: "\r\n",
			elements:   `AK4 ["2" "1"] "330"`,
		},
		{
			name:       "CR terminator with LF after it",
			input:      testISA('*', 'U', '>', "\r", "00200", "000000001") + "\nN1*ST*X\r\n",
			want:       Delimiters{'*', 0, '>', "\r"},
			lineEnding: "\n",
			elements:   `N1 "ST" "X"`,
		},
		{
			name:       "multi-byte UTF-8 terminator",
			input:      testISA('*', 'U', '>', "…", "00400", "000000001") + "\nN1*ST*X…\n",
			want:       Delimiters{'*', 0, '>', "…"},
			lineEnding: "\n",
			elements:   `N1 "ST" "X"`,
		},
		{
			name:     "control character element separator",
			input:    testISA('\x1c', 'U', '\x1f', "\x1e", "00401", "000000001") + "N1\x1cST\x1cA\x1fB\x1e",
			want:     Delimiters{'\x1c', 0, '\x1f', "\x1e"},
			elements: `N1 "ST" ["A" "B"]`,
		},
		{
			name:     "short ISA: fields not padded",
			input:    "ISA*00**00**ZZ*S*ZZ*R*240115*0930*^*00501*1*0*P*:~N1*ST*A^B~",
			want:     Delimiters{'*', '^', ':', "~"},
			elements: `N1 "ST" {"A"|"B"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, rd := range []io.Reader{strings.NewReader(tt.input), iotest.OneByteReader(strings.NewReader(tt.input))} {
				r := NewReader(rd)
				isa, err := r.Next()
				if err != nil || isa.ID != "ISA" || isa.Len() != 16 {
					t.Fatalf("first segment: %v, %v", isa, err)
				}
				if r.Delimiters() != tt.want {
					t.Errorf("delimiters %v, want %v", r.Delimiters(), tt.want)
				}
				if r.LineEnding() != tt.lineEnding {
					t.Errorf("line ending %q, want %q", r.LineEnding(), tt.lineEnding)
				}
				s, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				if got := renderSegment(s); got != tt.elements {
					t.Errorf("segment %s, want %s", got, tt.elements)
				}
				if s, err := r.Next(); err != io.EOF {
					t.Errorf("after the last segment: %v, %v; want io.EOF", s, err)
				}
			}
		})
	}
}

func TestReaderSeveralInterchanges(t *testing.T) {
	first := testISA('*', '^', ':', "~", "00501", "000000001") + "\nIEA*0*000000001~\n"
	second := testISA('|', 'U', '>', "\n", "00401", "000000002") + "N1|A>B\nIEA|0|000000002\n"
	r := NewReader(strings.NewReader(first + "\xef\xbb\xbf" + second))
	var got []string
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d:%s %s", s.Line, renderSegment(s), r.Delimiters()))
	}
	want := []string{
		`1:ISA "00" "          " "00" "          " "ZZ" "SENDER         " "ZZ" "RECEIVER       " "240115" "0930" "^" "00501" "000000001" "0" "P" ":" element '*' repetition '^' component ':' segment "~"`,
		`2:IEA "0" "000000001" element '*' repetition '^' component ':' segment "~"`,
		`3:ISA "00" "          " "00" "          " "ZZ" "SENDER         " "ZZ" "RECEIVER       " "240115" "0930" "U" "00401" "000000002" "0" "P" ">" element '|' repetition none component '>' segment "\n"`,
		`4:N1 ["A" "B"] element '|' repetition none component '>' segment "\n"`,
		`5:IEA "0" "000000002" element '|' repetition none component '>' segment "\n"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestReaderSyntaxErrors(t *testing.T) {
	isa := testISA('*', '^', ':', "~", "00501", "000000001")
	type wantErr struct {
		err    error
		line   int
		offset int64
		code   string
		detail string
	}
	tests := []struct {
		name  string
		input string
		opts  []Option
		errs  []wantErr
		ids   string // IDs of the segments read, in order
	}{
		{
			name:  "garbage after the last IEA",
			input: isa + "\nIEA*0*000000001~\n\x00\x00garbage\n",
			errs:  []wantErr{{ErrTrailingData, 3, 124, "", `10 bytes after the interchange trailer (IEA) are not an interchange: "\x00\x00garbage\n"`}},
			ids:   "ISA IEA",
		},
		{
			name:  "garbage between interchanges is skipped up to the next ISA",
			input: isa + "IEA*0*000000001~junk\njunk\n" + isa + "IEA*0*000000001~",
			errs:  []wantErr{{ErrTrailingData, 1, 122, "", `10 bytes after the interchange trailer (IEA) are not an interchange: "junk\njunk\n"; skipped to the next ISA`}},
			ids:   "ISA IEA ISA IEA",
		},
		{
			name:  "data before the first ISA",
			input: "UNA:+.? 'UNB+UNOC:3'\n" + isa + "IEA*0*000000001~",
			errs:  []wantErr{{ErrNoInterchange, 1, 0, "", `21 bytes before the first ISA are not an interchange: "UNA:+.? 'UNB+UNOC:3'\n"; skipped to the next ISA`}},
			ids:   "ISA IEA",
		},
		{
			name:  "segment longer than the maximum is skipped",
			input: isa + "\nST*850*0001~\nN9*ZZ*" + strings.Repeat("x", 100) + "~\nN1*ST*X~\nSE*4*0001~",
			opts:  []Option{WithMaxSegmentSize(64)},
			errs:  []wantErr{{ErrSegmentTooLong, 3, 120, "", `segment "N9" is longer than 64 bytes (the maximum segment size); skipped 107 bytes to its terminator`}},
			ids:   "ISA ST N1 SE",
		},
		{
			name:  "segment longer than the maximum at the end of the stream",
			input: isa + "N9*ZZ*" + strings.Repeat("x", 100),
			opts:  []Option{WithMaxSegmentSize(64)},
			errs:  []wantErr{{ErrSegmentTooLong, 1, 106, "", `segment "N9" is longer than 64 bytes (the maximum segment size); skipped 106 bytes to its terminator`}},
			ids:   "ISA",
		},
		{
			name:  "empty segment",
			input: isa + "ST*850*0001~~SE*2*0001~",
			errs:  []wantErr{{ErrEmptySegment, 1, 118, "", `empty segment (segment terminator "~" right after another)`}},
			ids:   "ISA ST SE",
		},
		{
			name:  "component separator is a letter: the interchange is skipped",
			input: strings.Replace(isa, "*:~", "*A~", 1) + "GS*X~IEA*0*1~" + isa + "IEA*0*000000001~",
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 027", `ISA16 component separator 'A' is a letter, digit, space, NUL or the element separator; skipped 119 bytes to the next ISA`}},
			ids:   "ISA IEA",
		},
		{
			name:  "terminator equals the component separator",
			input: strings.Replace(isa, "*:~", "*::", 1) + "IEA*0*1:",
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 004", `segment terminator ':' after ISA16 is a letter, digit, space, NUL or another delimiter; skipped the remaining 114 bytes`}},
			ids:   "",
		},
		{
			name:  "NUL element separator",
			input: "ISA\x0000\x00",
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 026", `the element separator after "ISA" is a NUL byte; skipped the remaining 7 bytes`}},
			ids:   "",
		},
		{
			name:  "stream ends inside the ISA",
			input: isa[:60],
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 023", `the stream ends inside the ISA segment; skipped the remaining 60 bytes`}},
			ids:   "",
		},
		{
			name:  "ISA with too few elements",
			input: "ISA*00*00*ZZ*S~\n" + strings.Repeat("N1*A~\n", 200),
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 022", `the ISA has 4 elements before its first line break, it needs 16; skipped the remaining 1216 bytes`}},
			ids:   "",
		},
		{
			name:  "no 16th element separator in the first 1024 bytes",
			input: "ISA*00*" + strings.Repeat("x", 2000),
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 022", `no 16th element separator '*' within 1024 bytes of the ISA; skipped the remaining 2007 bytes`}},
			ids:   "",
		},
		{
			name:  "ISA at the very end without its terminator",
			input: isa[:105],
			errs:  []wantErr{{ErrInvalidISA, 1, 0, "TA105 023", `the stream ends inside the ISA segment, before its segment terminator; skipped the remaining 105 bytes`}},
			ids:   "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := readAll(t, tt.input, tt.opts...)
			var ids []string
			for _, s := range got.segs {
				ids = append(ids, s.id)
			}
			if strings.Join(ids, " ") != tt.ids {
				t.Errorf("segments %q, want %q", strings.Join(ids, " "), tt.ids)
			}
			if len(got.errs) != len(tt.errs) {
				t.Fatalf("errors %v, want %d", got.errs, len(tt.errs))
			}
			for i, w := range tt.errs {
				var se *SyntaxError
				if !errors.As(got.errs[i], &se) {
					t.Fatalf("error %d is %T", i, got.errs[i])
				}
				if !errors.Is(se, w.err) || se.Line != w.line || se.Offset != w.offset || se.Code.String() != w.code || se.Detail != w.detail {
					t.Errorf("error %d:\n got %v line %d offset %d code %q detail %s\nwant %v line %d offset %d code %q detail %s",
						i, se.Err, se.Line, se.Offset, se.Code, se.Detail, w.err, w.line, w.offset, w.code, w.detail)
				}
			}
		})
	}
}

func TestReaderEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\n\r\n  \t", "\xef\xbb\xbf"} {
		got := readAll(t, in)
		if len(got.segs) != 0 || len(got.errs) != 0 {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	r := NewReader(io.MultiReader(strings.NewReader(testISA('*', '^', ':', "~", "00501", "000000001")+"ST*850"), iotest.ErrReader(boom)))
	if s, err := r.Next(); err != nil || s.ID != "ISA" {
		t.Fatalf("ISA: %v %v", s, err)
	}
	for range 2 { // the error is final
		if _, err := r.Next(); !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
	}
}

func TestSegmentAccessors(t *testing.T) {
	r := NewReader(strings.NewReader(testISA('*', '^', ':', "~", "00501", "000000001") + "CTX*SIT^A:B:*CLM*43**5:3~"))
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	s, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "CTX" || s.Len() != 5 || s.String() != "CTX*SIT^A:B:*CLM*43**5:3" {
		t.Fatalf("segment %q len %d", s.String(), s.Len())
	}
	e := s.Element(1)
	checks := []struct{ got, want any }{
		{e.String(), "SIT^A:B:"},
		{e.NumRepetitions(), 2},
		{e.NumComponents(), 1},
		{e.Repetition(1).String(), "SIT"},
		{e.Repetition(2).String(), "A:B:"},
		{e.Repetition(2).NumComponents(), 3},
		{e.Repetition(2).Component(2).String(), "B"},
		{e.Repetition(2).Component(3).IsEmpty(), true},
		{e.Repetition(3).IsEmpty(), true},
		{e.Component(1).String(), "SIT"},
		{e.Component(2).IsEmpty(), true},
		{s.Element(4).IsEmpty(), true},
		{s.Element(5).Component(2).String(), "3"},
		{s.Element(6).IsEmpty(), true},
		{s.Element(0).IsEmpty(), true},
		{s.Element(3).Component(1).String(), "43"},
		{string(s.Element(2).Bytes()), "CLM"},
	}
	for i, c := range checks {
		if c.got != c.want {
			t.Errorf("check %d: got %v, want %v", i, c.got, c.want)
		}
	}
	c := s.Clone()
	if _, err := r.Next(); err != io.EOF {
		t.Fatal(err)
	}
	if c.String() != "CTX*SIT^A:B:*CLM*43**5:3" || c.Element(5).Component(1).String() != "5" {
		t.Errorf("clone changed: %q", c.String())
	}
}

// TestReaderBufferBoundaries reads a stream whose segments straddle every
// possible buffer boundary (one-byte reads) with a multi-byte terminator
// whose first byte also appears in the data.
func TestReaderBufferBoundaries(t *testing.T) {
	in := testISA('*', 'U', '>', "…", "00401", "000000001") + "N1*\xe2\x80\x94dash*X…N2*Y…IEA*0*000000001…"
	for _, rd := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in)), iotest.HalfReader(strings.NewReader(in))} {
		var got []string
		r := NewReader(rd)
		for {
			s, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, s.String())
		}
		want := []string{"N1*—dash*X", "N2*Y", "IEA*0*000000001"}
		if len(got) != 4 || strings.Join(got[1:], "|") != strings.Join(want, "|") {
			t.Errorf("got %q", got)
		}
	}
}

func TestReaderLargeSegmentGrowsBuffer(t *testing.T) {
	long := "N9*ZZ*" + strings.Repeat("y", 200<<10)
	in := testISA('*', '^', ':', "~", "00501", "000000001") + long + "~N1*A~"
	r := NewReader(strings.NewReader(in), WithMaxSegmentSize(1<<20))
	var got []int
	for {
		s, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, len(s.Bytes()))
	}
	if fmt.Sprint(got) != fmt.Sprint([]int{105, len(long), 4}) {
		t.Errorf("segment lengths %v", got)
	}
	if !bytes.Equal([]byte(long[:10]), []byte("N9*ZZ*yyyy")) {
		t.Fatal("bad test")
	}
}
