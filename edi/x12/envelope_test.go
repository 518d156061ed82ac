package x12

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// lines joins segments with "~\n", the terminator and line ending of testISA
// interchanges in these tests; the ISA is on line 1.
func lines(segs ...string) string {
	return testISA('*', '^', ':', "~", "00501", "000000001") + "\n" + strings.Join(segs, "~\n") + "~\n"
}

func problems(t *testing.T, input string, opts ...Option) []string {
	t.Helper()
	err := Validate(strings.NewReader(input), opts...)
	if err == nil {
		return nil
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Validate returned %T, want ErrorList", err)
	}
	var out []string
	for _, e := range list {
		out = append(out, renderError(e))
	}
	return out
}

func TestValidateEnvelope(t *testing.T) {
	tests := []struct {
		name  string
		input string
		opts  []Option
		want  []string
	}{
		{
			name:  "valid",
			input: small850("000000001"),
		},
		{
			name: "SE01 lower than the real count",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*850*0003", "BEG*00*SA*1**20240115", "N1*ST*X", "SE*3*0003",
				"GE*1*1", "IEA*1*000000001"),
			want: []string{`[AK502 4] line 6, SE (segment 4 of set 0003): SE01 says 3 segments, the set has 4`},
		},
		{
			name: "SE01 not a number",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*850*0003", "SE*two*0003", "GE*1*1", "IEA*1*000000001"),
			want: []string{`[AK502 4] line 4, SE (segment 2 of set 0003): SE01 says "two" segments, the set has 2`},
		},
		{
			name: "SE02 differs from ST02",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*850*0003", "SE*2*0004", "GE*1*1", "IEA*1*000000001"),
			want: []string{`[AK502 3] line 4, SE (segment 2 of set 0003): SE02 "0004" does not match ST02 "0003"`},
		},
		{
			name: "bad ST01 and ST02",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*85*003", "SE*2*003", "ST*850", "SE*2", "GE*2*1", "IEA*1*000000001"),
			want: []string{
				`[AK502 6] line 3, ST (segment 1 of set 003): ST01 "85" is not a transaction set identifier (3 digits)`,
				`[AK502 7] line 3, ST (segment 1 of set 003): ST02 "003" is shorter than 4 characters`,
				`[AK502 7] line 5, ST: ST02 transaction set control number is missing`,
			},
		},
		{
			name: "GE01 and GE02 wrong",
			input: lines("GS*PO*S*R*20240115*0930*17*X*005010",
				"ST*850*0001", "SE*2*0001", "GE*2*18", "IEA*1*000000001"),
			want: []string{
				`[AK905 5] line 5, GE: GE01 says 2 transaction sets, the group has 1`,
				`[AK905 4] line 5, GE: GE02 "18" does not match GS06 "17"`,
			},
		},
		{
			name:  "GS06 not numeric",
			input: lines("GS*PO*S*R*20240115*0930*A1*X*005010", "GE*0*A1", "IEA*1*000000001"),
			want:  []string{`[AK905 6] line 2, GS: GS06 "A1" is not a group control number (1 to 9 digits)`},
		},
		{
			name:  "GS with too few elements",
			input: lines("GS*PO*S*R*20240115*0930*1", "GE*0*1", "IEA*1*000000001"),
			want:  []string{`[TA105 024] line 2, GS: GS has 6 elements, it needs 8`},
		},
		{
			name:  "IEA01 and IEA02 wrong; control numbers compare as numbers",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "GE*0*0001", "IEA*2*000000002"),
			want: []string{
				`[TA105 021] line 4, IEA: IEA01 says 2 functional groups, the interchange has 1`,
				`[TA105 001] line 4, IEA: IEA02 "000000002" does not match ISA13 "000000001"`,
			},
		},
		{
			name:  "IEA02 without leading zeros is the same number",
			input: lines("IEA*0*1"),
		},
		{
			name: "duplicate set control number in a group, not across groups",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*850*0001", "SE*2*0001", "ST*850*0001", "SE*2*0001", "GE*2*1",
				"GS*PO*S*R*20240115*0930*2*X*005010", "ST*850*0001", "SE*2*0001", "GE*1*2",
				"IEA*2*000000001"),
			want: []string{`[AK502 23] line 5, ST (segment 1 of set 0001): ST02 "0001" is the control number of an earlier set in group 1`},
		},
		{
			name: "missing SE, GE and IEA at the end of the stream",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010",
				"ST*850*0001", "BEG*00*SA*1**20240115"),
			want: []string{
				`[AK502 2] line 5: transaction set 0001 (line 3) ends at the end of the stream without its SE trailer`,
				`[AK905 3] line 5: functional group 1 (line 2) ends at the end of the stream without its GE trailer`,
				`[TA105 023] line 5: interchange 000000001 (line 1) ends at the end of the stream without its IEA trailer`,
			},
		},
		{
			name: "a new ISA closes everything open",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "ST*850*0001") +
				small850("000000002"),
			want: []string{
				`[AK502 2] line 4, ISA: transaction set 0001 (line 3) ends at this ISA without its SE trailer`,
				`[AK905 3] line 4, ISA: functional group 1 (line 2) ends at this ISA without its GE trailer`,
				`[TA105 023] line 4, ISA: interchange 000000001 (line 1) ends at this ISA without its IEA trailer`,
			},
		},
		{
			name:  "GE closes a set without SE",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "ST*850*0001", "GE*1*1", "IEA*1*000000001"),
			want:  []string{`[AK502 2] line 4, GE: transaction set 0001 (line 3) ends at this GE without its SE trailer`},
		},
		{
			name: "segments outside a set are reported once per run",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "N1*ST*X", "N3*Y", "ST*850*0001", "SE*2*0001",
				"N4*Z", "GE*1*1", "IEA*1*000000001"),
			want: []string{
				`[TA105 022] line 3, N1: segment "N1" is outside any transaction set`,
				`[TA105 022] line 7, N4: segment "N4" is outside any transaction set`,
			},
		},
		{
			name:  "GE without GS, SE without ST",
			input: lines("SE*1*0001", "GE*0*1", "IEA*0*000000001"),
			want: []string{
				`[TA105 022] line 2, SE: SE without an ST`,
				`[TA105 022] line 3, GE: GE without a GS`,
			},
		},
		{
			name:  "transaction set outside a group",
			input: lines("ST*850*0001", "SE*3*0001", "IEA*0*000000001"),
			want: []string{
				`[TA105 024] line 2, ST: transaction set 850 0001 is outside a functional group (no GS before it)`,
				`[AK502 4] line 3, SE (segment 2 of set 0001): SE01 says 3 segments, the set has 2`,
			},
		},
		{
			name: "invalid segment ID in a set",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "ST*850*0001", "n1*ST*X", "SE*3*0001", "GE*1*1",
				"IEA*1*000000001"),
			want: []string{`[AK304 1] line 4, n1 (segment 2 of set 0001): invalid segment ID "n1" (must be 2 or 3 upper-case letters and digits)`},
		},
		{
			name: "segment too long in a set: the set is rejected, its count kept",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "ST*850*0001", "N9*ZZ*"+strings.Repeat("x", 80), "SE*3*0001",
				"GE*1*1", "IEA*1*000000001"),
			opts: []Option{WithMaxSegmentSize(64)},
			want: []string{`[AK502 5] line 4 (offset 156): segment "N9" is longer than 64 bytes (the maximum segment size); skipped 87 bytes to its terminator`},
		},
		{
			name: "unreadable ISA in the middle: the open interchange ends there",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010") +
				strings.Replace(small850("000000002"), "*:~", "*A~", 1) + small850("000000003"),
			want: []string{
				`[AK905 3] line 3, ISA: functional group 1 (line 2) ends at this ISA without its GE trailer`,
				`[TA105 023] line 3, ISA: interchange 000000001 (line 1) ends at this ISA without its IEA trailer`,
				`[TA105 027] line 3 (offset 143): ISA16 component separator 'A' is a letter, digit, space, NUL or the element separator; skipped 229 bytes to the next ISA`,
			},
		},
		{
			name:  "not X12 at all",
			input: "UNB+UNOC:3+SENDER+RECEIVER'",
			want:  []string{`[-] line 1 (offset 0): 27 bytes before the first ISA are not an interchange: "UNB+UNOC:3+SENDER+RECEIV"...`},
		},
		{
			name:  "empty stream",
			input: "",
			want:  []string{`[-] line 1 (offset 0): no ISA segment: the stream is not an X12 interchange`},
		},
		{
			name:  "TA1 inside a group is out of place",
			input: lines("GS*PO*S*R*20240115*0930*1*X*005010", "TA1*000000001*240115*0930*A*000", "GE*0*1", "IEA*1*000000001"),
			want:  []string{`[TA105 022] line 3, TA1: segment "TA1" is outside any transaction set`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.input, tt.opts...)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems\n got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestBadSetDoesNotHideGoodSets: in a group of five sets where the second
// and fourth are wrong, the three others are yielded as accepted, each
// with its own segments.
func TestBadSetDoesNotHideGoodSets(t *testing.T) {
	in := lines("GS*PO*S*R*20240115*0930*1*X*005010",
		"ST*850*0001", "BEG*00*SA*PO1**20240115", "SE*3*0001",
		"ST*850*0002", "BEG*00*SA*PO2**20240115", "SE*9*0002",
		"ST*850*0003", "BEG*00*SA*PO3**20240115", "SE*3*0003",
		"ST*850*0004", "BEG*00*SA*PO4**20240115",
		"ST*850*0005", "BEG*00*SA*PO5**20240115", "SE*3*0005",
		"GE*5*1", "IEA*1*000000001")
	d := NewDecoder(strings.NewReader(in))
	var accepted, rejected []string
	var kept []*TransactionSet
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != SetEnd {
			continue
		}
		if ev.Set.Group == nil || ev.Set.Group.Interchange != ev.Interchange || ev.Group != ev.Set.Group {
			t.Fatalf("set %s: group/interchange links wrong", ev.Set.ControlNumber)
		}
		po := ev.Set.Segments[1].Element(3).String()
		if ev.Set.Accepted() {
			accepted = append(accepted, po)
		} else {
			rejected = append(rejected, po)
		}
		kept = append(kept, ev.Set.Clone())
	}
	if strings.Join(accepted, " ") != "PO1 PO3 PO5" || strings.Join(rejected, " ") != "PO2 PO4" {
		t.Errorf("accepted %v rejected %v", accepted, rejected)
	}
	// Clones survive the decoder reusing its sets.
	var pos []string
	for _, ts := range kept {
		pos = append(pos, ts.Segments[1].Element(3).String()+"/"+ts.Segments[len(ts.Segments)-1].ID)
	}
	if strings.Join(pos, " ") != "PO1/SE PO2/SE PO3/SE PO4/BEG PO5/SE" {
		t.Errorf("clones %v", pos)
	}
}

func TestDecoderEvents(t *testing.T) {
	in := lines("TA1*000000007*240115*0930*A*000",
		"GS*PO*S*R*20240115*0930*1*X*005010", "ST*850*0001", "SE*2*0001", "GE*1*1",
		"GS*IN*S*R*20240115*0930*2*X*005010", "GE*0*2",
		"IEA*2*000000001")
	d := NewDecoder(strings.NewReader(in))
	var kinds []string
	for {
		ev, err := d.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Interchange == nil {
			t.Fatalf("%s without interchange", ev.Kind)
		}
		k := ev.Kind.String()
		switch ev.Kind {
		case TechnicalAck:
			k += " " + ev.Segment.Element(1).String()
		case GroupStart, GroupEnd:
			k += " " + ev.Group.FunctionalID
		case SetEnd:
			k += " " + ev.Set.ID
		case InterchangeStart:
			ic := ev.Interchange
			if ic.SenderID != "SENDER" || ic.ReceiverID != "RECEIVER" || ic.ControlNumber != "000000001" || ic.SenderQualifier != "ZZ" ||
				ic.Delimiters != (Delimiters{'*', '^', ':', "~"}) || ic.LineEnding != "\n" || ic.Version != "00501" || ic.Usage != "P" {
				t.Errorf("interchange %+v", ic)
			}
		}
		kinds = append(kinds, k)
	}
	want := "InterchangeStart,TechnicalAck 000000007,GroupStart PO,SetEnd 850,GroupEnd PO,GroupStart IN,GroupEnd IN,InterchangeEnd"
	if strings.Join(kinds, ",") != want {
		t.Errorf("events\n got %s\nwant %s", strings.Join(kinds, ","), want)
	}
}

func TestValidationErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ValidationError
		want string
	}{
		{&ValidationError{Line: 27, SegmentID: "W01", Position: 12, SetControlNumber: "0003", Element: 1, Value: "4x", Detail: `"4x" is not numeric (R)`},
			`line 27, W01 (segment 12 of set 0003): W0101 "4x" is not numeric (R)`},
		{&ValidationError{Line: 40, SegmentID: "SE", Position: 31, SetControlNumber: "0003", Element: 1, Detail: "says 30 segments, the set has 31"},
			`line 40, SE (segment 31 of set 0003): SE01 says 30 segments, the set has 31`},
		{&ValidationError{Line: 9, SegmentID: "SLN", Position: 4, SetControlNumber: "12345", Element: 5, Component: 2, Detail: `"X" is not a valid code`},
			`line 9, SLN (segment 4 of set 12345): SLN05-2 "X" is not a valid code`},
		{&ValidationError{Line: 3, Detail: "the stream ends"}, `line 3: the stream ends`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
	var err error = &ValidationError{Err: ErrSegmentCount}
	if !errors.Is(err, ErrSegmentCount) {
		t.Error("ValidationError does not unwrap to its sentinel")
	}
	err = ErrorList{errors.New("a"), &SyntaxError{Err: ErrTrailingData}}
	if !errors.Is(err, ErrTrailingData) {
		t.Error("ErrorList does not unwrap to its members")
	}
}

func TestCodeDescription(t *testing.T) {
	for _, c := range []struct {
		code Code
		want string
	}{
		{ta1Code("001"), "The Interchange Control Number in the Header and Trailer Do Not Match. The Value From the Header is Used in the Acknowledgment."},
		{ak5Code("3"), "Transaction Set Control Number in Header and Trailer Do Not Match"},
		{ak5Code("4"), "Number of Included Segments Does Not Match Actual Count"},
		{ak9Code("4"), "Group Control Number in the Functional Group Header and Trailer Do Not Agree"},
		{ak9Code("5"), "Number of Included Transaction Sets Does Not Match Actual Count"},
		{Code{"IK403", "6"}, "Invalid character in data element"},
		{Code{}, ""},
	} {
		if got := c.code.Description(); got != c.want {
			t.Errorf("%v: %q, want %q", c.code, got, c.want)
		}
	}
}
