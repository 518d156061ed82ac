package x12

import (
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"
	"testing/fstest"
)

// testSpecs is a small made-up version, 009999, whose set 899 exercises
// every feature of the specification format.
var testSpecs = func() *Specs {
	s, err := ParseSpecs(fstest.MapFS{
		"009999/segments.txt": {Data: []byte(`
SEG ST Transaction Set Header
  01 143 M ID 3 3 Transaction Set Identifier Code
  02 329 M AN 4 9 Transaction Set Control Number
SEG SE Transaction Set Trailer
  01 96 M N0 1 10 Number of Included Segments
  02 329 M AN 4 9 Transaction Set Control Number
SEG AAA Every type
  01 100 M ID 2 2 Code
  02 101 O AN 2 5 Text
  03 102 O N2 1 4 Amount
  04 103 O R 1 5 Rate
  05 104 O DT 8 8 Date
  06 105 O TM 4 8 Time
  07 C001 O Composite
    1 106 M ID 1 2 Unit
    2 107 O N0 1 3 Factor
SEG BBB Syntax notes
  01 201 X AN 1 3 A
  02 202 X AN 1 3 B
  03 203 X AN 1 3 C
  04 204 X AN 1 3 D
  05 205 X AN 1 3 E
  06 206 X AN 1 3 F
  07 207 X AN 1 3 G
  08 208 X AN 1 3 H
  09 209 X AN 1 3 I
  P0102
  E0304
  C050607
  L080902
SEG CCC Partly described
  01 301 M AN 1 3 A
  ...
SEG RRR Required note
  01 401 X AN 1 3 A
  02 402 X AN 1 3 B
  R0102
`)},
		"009999/codes.txt": {Data: []byte("CODES 100 AA BB\n")},
		"009999/899.txt": {Data: []byte(`SET 899 Test set
ST M 1
AAA M 1
BBB O 2
CCC O 1
RRR O 1
LOOP LPA O 2
  LPA O 1
  LPB M 1
  LOOP LPC O >1
    LPC O 1
    LPD O 1
LOOP ZZZ M 1
  ZZZ O 1
SE M 1
`)},
	})
	if err != nil {
		panic(err)
	}
	return s
}()

// specProblems decodes one 899 set made of segs (between ST and SE, SE01
// computed) and returns its problems.
func specProblems(t *testing.T, segs ...string) []string {
	t.Helper()
	body := append([]string{"ST*899*0001"}, segs...)
	body = append(body, "SE*"+itoa(len(body)+1)+"*0001")
	in := lines(append(append([]string{"GS*XX*S*R*20240115*0930*1*X*009999"}, body...), "GE*1*1", "IEA*1*000000001")...)
	d := NewDecoder(strings.NewReader(in), WithSpecs(testSpecs))
	var out []string
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == SetEnd {
			for _, e := range ev.Set.Errors {
				out = append(out, renderError(e))
			}
		}
		if (ev.Kind == GroupEnd && len(ev.Group.Errors) > 0) || (ev.Kind == InterchangeEnd && len(ev.Interchange.Errors) > 0) {
			t.Fatalf("envelope errors: %v %v", ev.Group, ev.Interchange)
		}
	}
}

func itoa(n int) string { return string(appendNum(nil, n, 1)) }

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		segs []string
		want []string
	}{
		{
			name: "valid, loops nested and repeated",
			segs: []string{"AAA*AA*ab*1250*-1.25*20240229*235959*A:1", "BBB*A*B", "LPA", "LPB", "LPC", "LPD", "LPC", "LPA", "LPB", "ZZZ"},
		},
		{
			name: "mandatory segment and loop missing",
			segs: []string{"BBB"},
			want: []string{
				`[AK304 3] line 4, AAA (segment 2 of set 0001): mandatory segment AAA is missing before this BBB`,
				`[AK304 3] line 5, ZZZ (segment 3 of set 0001): mandatory loop ZZZ is missing before this SE`,
			},
		},
		{
			name: "mandatory segment of a loop missing when the loop ends",
			segs: []string{"AAA*AA", "LPA", "LPC", "ZZZ"},
			want: []string{`[AK304 3] line 6, LPB (segment 4 of set 0001): mandatory segment LPB is missing before this LPC`},
		},
		{
			name: "segment and loop maximum use",
			segs: []string{"AAA*AA", "BBB", "BBB", "BBB", "LPA", "LPB", "LPA", "LPB", "LPA", "LPB", "ZZZ"},
			want: []string{
				`[AK304 5] line 7, BBB (segment 5 of set 0001): segment BBB occurs more than 2 times`,
				`[AK304 4] line 12, LPA (segment 10 of set 0001): loop LPA occurs more than 2 times`,
			},
		},
		{
			name: "out of sequence and not in the set",
			segs: []string{"AAA*AA", "ZZZ", "BBB", "N1*ST*X"},
			want: []string{
				`[AK304 7] line 6, BBB (segment 4 of set 0001): segment BBB is not in its place in the 899 transaction set`,
				`[AK304 6] line 7, N1 (segment 5 of set 0001): segment N1 is not part of the 899 transaction set (009999)`,
			},
		},
		{
			name: "element types and lengths",
			segs: []string{
				"AAA*CC*a*1.5*1.2.3*20240230*2460",
				"AAA*A*abcdef*12345*123456*2402*1200*12:AAA:1",
				"AAA**a\x01*-*-*20241301*1261*:4x",
				"ZZZ",
			},
			want: []string{
				`[AK403 7] line 4, AAA (segment 2 of set 0001): AAA01 "CC" is not a valid code for element 100 (Code)`,
				`[AK403 4] line 4, AAA (segment 2 of set 0001): AAA02 "a" is shorter than 2 characters (AN 2/5)`,
				`[AK403 6] line 4, AAA (segment 2 of set 0001): AAA03 "1.5" is not numeric (N2)`,
				`[AK403 6] line 4, AAA (segment 2 of set 0001): AAA04 "1.2.3" is not numeric (R)`,
				`[AK403 8] line 4, AAA (segment 2 of set 0001): AAA05 "20240230" is not a date (CCYYMMDD)`,
				`[AK403 9] line 4, AAA (segment 2 of set 0001): AAA06 "2460" is not a time (HHMM[SS[D[D]]])`,
				`[AK304 5] line 5, AAA (segment 3 of set 0001): segment AAA occurs more than 1 times`,
				`[AK403 7] line 5, AAA (segment 3 of set 0001): AAA01 "A" is not a valid code for element 100 (Code)`,
				`[AK403 5] line 5, AAA (segment 3 of set 0001): AAA02 "abcdef" is longer than 5 characters (AN 2/5)`,
				`[AK403 5] line 5, AAA (segment 3 of set 0001): AAA03 "12345" is longer than 4 characters (N2 1/4)`,
				`[AK403 5] line 5, AAA (segment 3 of set 0001): AAA04 "123456" is longer than 5 characters (R 1/5)`,
				`[AK403 8] line 5, AAA (segment 3 of set 0001): AAA05 "2402" is not a date (CCYYMMDD)`,
				`[AK403 13] line 5, AAA (segment 3 of set 0001): AAA07 "12:AAA:1" has 3 components, C001 has 2`,
				`[AK403 6] line 5, AAA (segment 3 of set 0001): AAA07-2 "AAA" is not numeric (N0)`,
				`[AK304 5] line 6, AAA (segment 4 of set 0001): segment AAA occurs more than 1 times`,
				`[AK403 1] line 6, AAA (segment 4 of set 0001): AAA01 mandatory element is missing`,
				`[AK403 6] line 6, AAA (segment 4 of set 0001): AAA02 "a\x01" holds a control character`,
				`[AK403 6] line 6, AAA (segment 4 of set 0001): AAA03 "-" is not numeric (N2)`,
				`[AK403 6] line 6, AAA (segment 4 of set 0001): AAA04 "-" is not numeric (R)`,
				`[AK403 8] line 6, AAA (segment 4 of set 0001): AAA05 "20241301" is not a date (CCYYMMDD)`,
				`[AK403 9] line 6, AAA (segment 4 of set 0001): AAA06 "1261" is not a time (HHMM[SS[D[D]]])`,
				`[AK403 1] line 6, AAA (segment 4 of set 0001): AAA07-1 mandatory element is missing`,
				`[AK403 6] line 6, AAA (segment 4 of set 0001): AAA07-2 "4x" is not numeric (N0)`,
			},
		},
		{
			name: "too many elements, components in a simple element, partial description",
			segs: []string{"AAA*AA*ab*1*1*20240101*1200*A:1*extra", "BBB*A:B", "CCC*A*B*C", "ZZZ"},
			want: []string{
				`[AK403 3] line 4, AAA (segment 2 of set 0001): AAA08 is one element too many: AAA has 7`,
				`[AK403 13] line 5, BBB (segment 3 of set 0001): BBB01 "A:B" has components, it is a simple element`,
				`[AK403 2] line 5, BBB (segment 3 of set 0001): BBB02 is required when BBB01 is present (syntax note P0102)`,
			},
		},
		{
			name: "syntax notes",
			segs: []string{"AAA*AA", "BBB**B*C*D*E**", "BBB*A*B****F", "RRR", "ZZZ"},
			want: []string{
				`[AK403 2] line 5, BBB (segment 3 of set 0001): BBB01 is required when BBB02 is present (syntax note P0102)`,
				`[AK403 10] line 5, BBB (segment 3 of set 0001): BBB04 may not be used with BBB03 (syntax note E0304)`,
				`[AK403 2] line 5, BBB (segment 3 of set 0001): BBB06 is required when BBB05 is present (syntax note C050607)`,
				`[AK403 2] line 5, BBB (segment 3 of set 0001): BBB07 is required when BBB05 is present (syntax note C050607)`,
				`[AK403 2] line 7, RRR (segment 5 of set 0001): RRR01 at least one of RRR01, RRR02 is required (syntax note R0102)`,
			},
		},
		{
			name: "list conditional",
			segs: []string{"AAA*AA", "BBB********H", "ZZZ"},
			want: []string{`[AK403 2] line 5, BBB (segment 3 of set 0001): BBB09 one of BBB09, BBB02 is required when BBB08 is present (syntax note L080902)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := specProblems(t, tt.segs...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestSpecValidationErrorFields(t *testing.T) {
	in := lines("GS*OW*S*R*20240115*0930*1*X*004010",
		"ST*940*0003", "W05*N*ORD1", "LX*1", "W01*4x*EA", "SE*5*0003", "GE*1*1", "IEA*1*000000001")
	err := Validate(strings.NewReader(in), WithSpecs(StandardSpecs()))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v", err)
	}
	want := ValidationError{Line: 6, Offset: 174, SegmentID: "W01", Position: 4, SetControlNumber: "0003", Element: 1,
		Value: "4x", ElementRef: "330", Loop: "W01", Detail: `"4x" is not numeric (R)`, Code: Code{"AK403", "6"}, Err: ErrNotNumeric}
	if *ve != want {
		t.Errorf("got  %+v\nwant %+v", *ve, want)
	}
	if ve.Error() != `line 6, W01 (segment 4 of set 0003): W0101 "4x" is not numeric (R)` {
		t.Errorf("message %s", ve)
	}
}

func TestStandardSpecs(t *testing.T) {
	s := StandardSpecs()
	for _, c := range []struct{ version, id, name string }{
		{"004010", "850", "Purchase Order"},
		{"004010VICS", "850", "Purchase Order"},
		{"004010", "940", "Warehouse Shipping Order"},
		{"004010", "997", "Functional Acknowledgment"},
		{"004010", "856", "Ship Notice/Manifest"},
		{"005010", "997", "Functional Acknowledgment"},
		{"005010X231", "999", "Implementation Acknowledgment"},
	} {
		spec := s.Set(c.version, c.id)
		if spec == nil || spec.Name != c.name || spec.Version != c.version[:6] {
			t.Errorf("Set(%s, %s) = %+v", c.version, c.id, spec)
		}
	}
	if s.Set("003010", "850") != nil || s.Set("004010", "214") != nil {
		t.Error("a set that is not shipped was found")
	}
	if seg := s.Segment("004010", "AK4"); seg == nil || len(seg.Elements) != 4 || len(seg.Elements[0].Components) != 2 {
		t.Errorf("AK4: %+v", seg)
	}
}

func TestParseSpecsErrors(t *testing.T) {
	_, err := ParseSpecs(fstest.MapFS{
		"001000/segments.txt": {Data: []byte("SEG ST\n  01 143 M ID 3 3 Code\n  03 329 M AN 4 9 Skipped position\n  02 329 Q AN 4 9 Bad req\nSEG SE\n  01 96 M XX 1 10 Bad type\n  02 329 M AN 9 4 Bad lengths\n  01 96\n")},
		"001000/codes.txt":    {Data: []byte("CODES 100\n")},
		"001000/100.txt":      {Data: []byte("SET 100 Test\nST M 1\nLOOP N1 O 2\nN1 O 1\nFOO M 0\nSE M 1\n")},
		"001000/101.txt":      {Data: []byte("ST M 1\n")},
		"001000/102.txt":      {Data: []byte("SET 102 Test\nBEG M 1\nLOOP N1 O 2\n  N3 O 1\n")},
	})
	want := []string{
		`001000/segments.txt:3: element "03 329 M AN 4 9 Skipped position": position 03, want 2`,
		`001000/segments.txt:4: element "02 329 Q AN 4 9 Bad req": requirement "Q" is not M, O or X (with an optional repeat count)`,
		`001000/segments.txt:6: element "01 96 M XX 1 10 Bad type": unknown type "XX"`,
		`001000/segments.txt:7: element "02 329 M AN 9 4 Bad lengths": bad lengths 9/4`,
		`001000/segments.txt:8: element "01 96": want position, number, M/O/X, type, min, max, name`,
		`001000/codes.txt:1: want CODES <element number> <code>...`,
		`001000/100.txt:4: LOOP N1 has no segments`,
		`001000/100.txt:5: maximum "0" is not a number or >1`,
		`001000/101.txt:1: want SET <id> <name> on the first line`,
		`001000/102.txt:4: LOOP N1 must start with segment N1`,
		`001000/102.txt:4: set 102 must start with ST and end with SE`,
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v", err)
	}
	var got []string
	for _, e := range list {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// setErrors decodes one set of id in version, made of segs between ST and
// SE (SE01 computed), checked against specs, and returns its problems.
func setErrors(t *testing.T, specs *Specs, version, id string, segs ...string) []error {
	t.Helper()
	body := append([]string{"ST*" + id + "*0001"}, segs...)
	body = append(body, "SE*"+itoa(len(body)+1)+"*0001")
	in := lines(append(append([]string{"GS*XX*S*R*20240115*0930*1*X*" + version}, body...), "GE*1*1", "IEA*1*000000001")...)
	d := NewDecoder(strings.NewReader(in), WithSpecs(specs))
	var out []error
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == SetEnd {
			out = append(out, ev.Set.Errors...)
		}
	}
}

func TestSpecBaseRepeatAndLoopIDs(t *testing.T) {
	specs, err := ParseSpecs(fstest.MapFS{
		"009990/segments.txt": {Data: []byte("SEG ST Header\n  01 143 M ID 3 3 Code\n  02 329 M AN 4 9 Control\n" +
			"SEG SE Trailer\n  01 96 M N0 1 10 Count\n  02 329 M AN 4 9 Control\n" +
			"SEG AAA Base\n  01 100 M ID 2 2 Code\n")},
		"009990/codes.txt": {Data: []byte("CODES 100 AA BB\nCODES 101 X Y\n")},
		"009990/898.txt":   {Data: []byte("SET 898 Base set\nST M 1\nAAA M 1\nSE M 1\n")},
		// 009991 inherits ST, SE and the codes, and replaces AAA and code list 100.
		"009991/segments.txt": {Data: []byte("BASE 009990\nSEG AAA Repeating\n  01 100 M3 ID 2 2 Code\n  02 C001 O>1 Composite\n    1 101 M ID 1 1 Kind\n    2 102 O N0 1 2 Number\n")},
		"009991/codes.txt":    {Data: []byte("BASE 009990\nCODES 100 CC DD\n")},
		"009991/898.txt":      {Data: []byte("SET 898 Derived set\nST M 1\nLOOP LPA M 2\n  LPA M 1\n  AAA O 1\n  LOOP LPB O 1\n    LPB O 1\n    BBB M 1\nSE M 1\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := specs.Segment("009990", "AAA"); len(got.Elements) != 1 || got.Elements[0].Repeat != 0 {
		t.Errorf("base AAA changed: %+v", got)
	}
	if got := specs.Segment("009991", "AAA"); len(got.Elements) != 2 || got.Elements[0].Repeat != 3 || got.Elements[1].Repeat != math.MaxInt32 {
		t.Errorf("derived AAA: %+v", got)
	}
	if specs.Segment("009991", "ST") == nil {
		t.Error("ST not inherited")
	}
	if errs := setErrors(t, specs, "009990", "898", "AAA*CC"); len(errs) != 1 || !errors.Is(errs[0], ErrInvalidCode) {
		t.Errorf("base code list: %v", errs)
	}
	type want struct {
		err                    error
		code, seg, loop, value string
		elem, comp             int
	}
	tests := []struct {
		name string
		segs []string
		want []want
	}{
		{name: "valid repetitions", segs: []string{"LPA", "AAA*CC^DD^CC*X:1^Y"}},
		{
			name: "repetitions checked one by one and counted",
			segs: []string{"LPA", "AAA*CC^AA^DD^CC*Z:1^X:x"},
			want: []want{
				{ErrTooManyRepetitions, "AK403 12", "AAA", "LPA", "CC^AA^DD^CC", 1, 0},
				{ErrInvalidCode, "AK403 7", "AAA", "LPA", "AA", 1, 0},
				{ErrInvalidCode, "AK403 7", "AAA", "LPA", "Z", 2, 1},
				{ErrNotNumeric, "AK403 6", "AAA", "LPA", "x", 2, 2},
			},
		},
		{
			name: "loop identifiers of segment errors",
			segs: []string{"AAA*CC", "LPA", "LPB", "LPA", "LPA", "LPB", "LPB"},
			want: []want{
				{ErrSegmentOrder, "AK304 7", "AAA", "", "", 0, 0},
				{ErrSegmentMissing, "AK304 3", "BBB", "LPB", "", 0, 0},
				{ErrLoopMaxUse, "AK304 4", "LPA", "LPA", "", 0, 0},
				{ErrSegmentMissing, "AK304 3", "BBB", "LPB", "", 0, 0},
				{ErrLoopMaxUse, "AK304 4", "LPB", "LPB", "", 0, 0},
				{ErrSegmentMissing, "AK304 3", "BBB", "LPB", "", 0, 0},
			},
		},
		{
			name: "mandatory loop missing",
			segs: nil,
			want: []want{{ErrSegmentMissing, "AK304 3", "LPA", "LPA", "", 0, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := setErrors(t, specs, "009991", "898", tt.segs...)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d problems, want %d: %v", len(errs), len(tt.want), errs)
			}
			for i, w := range tt.want {
				var ve *ValidationError
				if !errors.As(errs[i], &ve) || !errors.Is(ve, w.err) || ve.Code.String() != w.code || ve.SegmentID != w.seg ||
					ve.Loop != w.loop || ve.Value != w.value || ve.Element != w.elem || ve.Component != w.comp {
					t.Errorf("problem %d: got %+v, want %+v", i, errs[i], w)
				}
			}
		})
	}
}

func TestParseSpecsBaseErrors(t *testing.T) {
	_, err := ParseSpecs(fstest.MapFS{
		"001000/segments.txt": {Data: []byte("SEG ST\n  01 143 M ID 3 3 Code\nBASE 000900\n")},
		"001001/segments.txt": {Data: []byte("BASE 009999\n")},
		"001002/segments.txt": {Data: []byte("SEG XX\n  01 1 O1 AN 1 1 One is no repeat\n  02 C001 Q2 Bad\n")},
	})
	want := []string{
		`001000/segments.txt:3: want BASE <version> on the first line only`,
		`001001/segments.txt:1: BASE 009999: no such version before this one`,
		`001002/segments.txt:2: element "01 1 O1 AN 1 1 One is no repeat": requirement "O1" is not M, O or X (with an optional repeat count)`,
		`001002/segments.txt:3: composite "02 C001 Q2 Bad": want position 2, C-number, M/O/X, name`,
	}
	var got []string
	var list ErrorList
	if errors.As(err, &list) {
		for _, e := range list {
			got = append(got, e.Error())
		}
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSpecHierarchy(t *testing.T) {
	specs := StandardSpecs()
	bsn := "BSN*00*SHIP1*20240116*1312"
	tests := []struct {
		name string
		segs []string
		want []string // code, segment, element, value
	}{
		{name: "shipment, order, pack, item", segs: []string{bsn, "HL*1**S", "HL*2*1*O", "PRF*PO1", "HL*3*2*P", "MAN*GM*00012345678901234567", "HL*4*3*I", "LIN**UP*012345678905", "SN1**12*EA", "CTT*4"}},
		{
			name: "duplicate ID, unknown and later parents, bad level",
			segs: []string{bsn, "HL*1**S", "HL*2*3*O", "HL*3*1*O", "HL*3*2*P", "HL*4*4*I", "HL*5*1*X", "HL*6*1*F"},
			want: []string{"hierarchy HL 2 3", "hierarchy HL 1 3", "hierarchy HL 2 4", "AK403 7 HL 3 X", "hierarchy HL 3 F"},
		},
		{
			name: "mandatory HL loop and element missing",
			segs: []string{bsn, "CTT*0", "HL*1"},
			want: []string{"AK304 3 HL 0 ", "AK304 7 HL 0 ", "AK403 1 HL 3 "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, err := range setErrors(t, specs, "004010", "856", tt.segs...) {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("%T %v", err, err)
				}
				code := ve.Code.String()
				if errors.Is(err, ErrHierarchy) {
					if code != "AK403 7" {
						t.Errorf("%v: code %s", err, code)
					}
					code = "hierarchy"
				}
				got = append(got, fmt.Sprintf("%s %s %d %s", code, ve.SegmentID, ve.Element, ve.Value))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}
