package x12

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// receivedAcks decodes data and parses every 997 and 999 in it, checking
// that the stream is valid against the standard specifications.
func receivedAcks(t *testing.T, data string) []FunctionalAckResult {
	t.Helper()
	d := NewDecoder(strings.NewReader(data), WithSpecs(StandardSpecs()))
	var out []FunctionalAckResult
	for {
		ev, err := d.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind != SetEnd {
			continue
		}
		if len(ev.Set.Errors) > 0 {
			t.Fatalf("set %s has errors: %v", ev.Set.ControlNumber, ev.Set.Errors)
		}
		res, err := ParseFunctionalAck(ev.Set)
		if err != nil {
			t.Fatalf("set %s: %v", ev.Set.ControlNumber, err)
		}
		out = append(out, res)
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../fixtures/edi/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var fixture997 = FunctionalAckResult{
	SetID: "997", ControlNumber: "0001", FunctionalID: "HC", GroupControlNumber: "000001",
	Sets: []SetAckResult{{
		ID: "837", ControlNumber: "0021", Status: Code{"AK501", "R"}, Codes: []Code{{"AK502", "5"}}, Line: 5,
		Errors: []SegmentNote{{SegmentID: "NM1", Position: 8, Code: Code{"AK304", "8"}, Line: 6,
			Elements: []ElementNote{{Element: 8, Ref: "66", Code: Code{"AK403", "7"}, Value: "MI", Line: 7}}}},
	}},
	Group: GroupAckResult{Status: Code{"AK901", "R"}, Included: 1, Received: 1, Accepted: 0},
}

func TestParseFunctionalAckFixtures(t *testing.T) {
	t.Run("997", func(t *testing.T) {
		got := receivedAcks(t, readFixture(t, "staedi__x12-997-5010.edi"))
		if len(got) != 1 || !reflect.DeepEqual(got[0], fixture997) {
			t.Errorf("got  %+v\nwant %+v", got, fixture997)
		}
		e := got[0].Sets[0].Errors[0]
		if e.Code.Description() != "Segment Has Data Element Errors" || e.Elements[0].Code.Description() != "Invalid code value" ||
			got[0].Sets[0].Status.Description() != "Rejected" {
			t.Errorf("descriptions: %q %q %q", e.Code.Description(), e.Elements[0].Code.Description(), got[0].Sets[0].Status.Description())
		}
	})
	t.Run("997 three interchanges", func(t *testing.T) {
		got := receivedAcks(t, readFixture(t, "staedi__x12-997-three-interchanges.edi"))
		if len(got) != 3 {
			t.Fatalf("got %d acknowledgements, want 3", len(got))
		}
		for i, g := range got {
			if g.GroupControlNumber != "000001" || len(g.Sets) != 1 || g.Sets[0].Line != 5+12*i || g.Sets[0].Errors[0].Elements[0].Value != "MI" {
				t.Errorf("acknowledgement %d: %+v", i, g)
			}
		}
	})
	t.Run("999", func(t *testing.T) {
		got := receivedAcks(t, readFixture(t, "staedi__x12-999-5010.edi"))
		want := FunctionalAckResult{
			SetID: "999", ControlNumber: "2870001", FunctionalID: "HC", GroupControlNumber: "17456", Version: "005010X222",
			Sets: []SetAckResult{
				{ID: "837", ControlNumber: "0001", Status: Code{"IK501", "A"}, Line: 5},
				{ID: "837", ControlNumber: "0002", Status: Code{"IK501", "R"}, Codes: []Code{{"IK502", "5"}}, Line: 7,
					Errors: []SegmentNote{{SegmentID: "CLM", Position: 22, Code: Code{"IK304", "8"}, Line: 8,
						Elements: []ElementNote{{Element: 2, Ref: "782", Code: Code{"IK403", "1"}, Line: 10}}}}},
				{ID: "837", ControlNumber: "0003", Status: Code{"IK501", "R"}, Codes: []Code{{"IK502", "5"}}, Line: 12,
					Errors: []SegmentNote{{SegmentID: "REF", Position: 57, Code: Code{"IK304", "3"}, Line: 13}}},
			},
			Group: GroupAckResult{Status: Code{"AK901", "P"}, Included: 3, Received: 3, Accepted: 1},
		}
		if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
			t.Errorf("got  %+v\nwant %+v", got, want)
		}
		if d := got[0].Sets[1].Errors[0].Elements[0].Code.Description(); d != "Mandatory data element missing" {
			t.Error(d)
		}
		if d := got[0].Group.Status.Description(); d != "Partially Accepted, At Least One Transaction Set Was Rejected" {
			t.Error(d)
		}
	})
}

// TestParseFunctionalAckRoundTrip parses the 997 and the 999 this package
// writes for the same input: both say the same.
func TestParseFunctionalAckRoundTrip(t *testing.T) {
	var results []FunctionalAckResult
	for _, kind := range []AckKind{Ack997, Ack999} {
		cfg := testAckConfig(false)
		cfg.Kind = kind
		out, err := acknowledgeWith(t, []byte(ack997Input), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got := receivedAcks(t, out)
		if len(got) != 1 {
			t.Fatalf("%v: %d acknowledgements", kind, len(got))
		}
		results = append(results, got[0])
	}
	a, b := results[0], results[1]
	if a.SetID != "997" || b.SetID != "999" || b.Version != "004010" || a.Version != "" {
		t.Errorf("headers: %+v / %+v", a, b)
	}
	// Same content once the code element names are aligned.
	rename := func(r *FunctionalAckResult) {
		r.SetID, r.Version = "", ""
		for i := range r.Sets {
			s := &r.Sets[i]
			s.Status.Element = "AK501"
			for j := range s.Codes {
				s.Codes[j].Element = "AK502"
			}
			for j := range s.Errors {
				s.Errors[j].Code.Element = "AK304"
				for k := range s.Errors[j].Elements {
					s.Errors[j].Elements[k].Code.Element = "AK403"
				}
			}
		}
	}
	rename(&a)
	rename(&b)
	if !reflect.DeepEqual(a, b) {
		t.Errorf("997 and 999 differ:\n%+v\n%+v", a, b)
	}
	want := SegmentNote{SegmentID: "W01", Position: 3, Loop: "W01", Code: Code{"AK304", "8"}, Line: 13,
		Elements: []ElementNote{{Element: 2, Ref: "355", Code: Code{"AK403", "5"}, Value: "EACH", Line: 14}}}
	if len(a.Sets) != 3 || len(a.Sets[2].Errors) != 3 || !reflect.DeepEqual(a.Sets[2].Errors[1], want) {
		t.Errorf("set 0003: %+v", a.Sets)
	}
}

func TestParseFunctionalAckErrors(t *testing.T) {
	tests := []struct {
		name string
		set  string // the set's ID
		segs []string
		want []string // sentinel: message
	}{
		{name: "not an acknowledgement", set: "850", segs: []string{"BEG*00*SA*1**20240101"},
			want: []string{`line 3, ST (segment 1 of set 0001): ST01 "850" is not a functional acknowledgement (997 or 999)`}},
		{name: "AK1, AK9 and AK5 missing", set: "997", segs: []string{"AK2*850*0001"},
			want: []string{
				`line 5, AK1 (segment 3 of set 0001): the acknowledgement has no AK1: the acknowledged group is unknown`,
				`line 5, AK9 (segment 3 of set 0001): the acknowledgement has no AK9`,
				`line 5, AK5 (segment 3 of set 0001): the AK2 loop of set 0001 (line 4) has no AK5`,
			}},
		{name: "out of place and not numbers", set: "999", segs: []string{"AK1*PO*1", "AK1*PO*2", "IK3*BEG*2", "IK5*A", "IK4*1*353*7", "AK2*850*0001", "IK3*BEG*x**8", "IK4*1:y*353*7", "IK5*R*5", "AK9*R*one*1*0", "ZZ*1"},
			want: []string{
				`line 5, AK1 (segment 3 of set 0001): a second AK1`,
				`line 6, IK3 (segment 4 of set 0001): IK3 outside an AK2 loop`,
				`line 7, IK5 (segment 5 of set 0001): IK5 outside an AK2 loop`,
				`line 8, IK4 (segment 6 of set 0001): IK4 without its IK3`,
				`line 10, IK3 (segment 8 of set 0001): IK302 "x" is not a number`,
				`line 11, IK4 (segment 9 of set 0001): IK401 "y" is not a number`,
				`line 13, AK9 (segment 11 of set 0001): AK902 "one" is not a number`,
				`line 14, ZZ (segment 12 of set 0001): segment ZZ is not part of a 999`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := append([]string{"ST*" + tt.set + "*0001"}, tt.segs...)
			body = append(body, "SE*"+itoa(len(body)+1)+"*0001")
			in := lines(append(append([]string{"GS*FA*S*R*20240115*0930*1*X*005010"}, body...), "GE*1*1", "IEA*1*000000001")...)
			d := NewDecoder(strings.NewReader(in))
			for {
				ev, err := d.Next()
				if err != nil {
					t.Fatal(err)
				}
				if ev.Kind != SetEnd {
					continue
				}
				_, err = ParseFunctionalAck(ev.Set)
				var got []string
				var ve *ValidationError
				if list, ok := err.(ErrorList); ok {
					for _, e := range list {
						got = append(got, e.Error())
					}
				} else if errors.As(err, &ve) {
					got = append(got, ve.Error())
					if !errors.Is(err, ErrNotAcknowledgement) {
						t.Errorf("%v is not ErrNotAcknowledgement", err)
					}
				}
				if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
					t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
				}
				return
			}
		})
	}
}

func TestAckMatcher(t *testing.T) {
	var m AckMatcher
	m.Sent(SentGroup{FunctionalID: "HC", ControlNumber: "1", Sets: []SentSet{{"837", "0001"}, {"837", "0002"}, {"837", "0003"}, {"837", "0004"}}})
	m.Sent(SentGroup{FunctionalID: "OW", ControlNumber: "77", Sets: []SentSet{{"940", "0001"}, {"940", "0002"}}})
	m.Sent(SentGroup{FunctionalID: "SH", ControlNumber: "5", Sets: []SentSet{{"856", "0001"}}})
	m.Sent(SentGroup{FunctionalID: "IN", ControlNumber: "88", Sets: []SentSet{{"810", "0001"}}})
	m.Sent(SentGroup{FunctionalID: "HC", ControlNumber: "17456", Sets: []SentSet{{"837", "0001"}, {"837", "0002"}, {"837", "0003"}, {"837", "0004"}}})

	type setWant struct {
		control string
		status  AckStatus
	}
	tests := []struct {
		name         string
		ack          string
		group        AckStatus
		sets         []setWant
		notMentioned []string
		unknown      []string
		err          error
	}{
		{
			name: "999 fixture: accepted, rejected, a set not mentioned",
			ack:  readFixture(t, "staedi__x12-999-5010.edi"), group: PartiallyAccepted,
			sets:         []setWant{{"0001", Accepted}, {"0002", Rejected}, {"0003", Rejected}, {"0004", NotAcknowledged}},
			notMentioned: []string{"0004"},
		},
		{
			name: "997 fixture: an unknown set, and our sets not mentioned",
			ack:  readFixture(t, "staedi__x12-997-5010.edi"), group: Rejected,
			sets:         []setWant{{"0001", NotAcknowledged}, {"0002", NotAcknowledged}, {"0003", NotAcknowledged}, {"0004", NotAcknowledged}},
			notMentioned: []string{"0001", "0002", "0003", "0004"},
			unknown:      []string{"0021"},
		},
		{
			name:  "group acknowledged as a whole",
			ack:   lines("GS*FA*R*S*20240115*0930*9*X*004010", "ST*997*0009", "AK1*OW*0077", "AK9*A*2*2*2", "SE*4*0009", "GE*1*9", "IEA*1*000000001"),
			group: Accepted, sets: []setWant{{"0001", Accepted}, {"0002", Accepted}}, notMentioned: []string{"0001", "0002"},
		},
		{
			name: "accepted with errors, and a set ID that differs",
			ack: lines("GS*FA*R*S*20240115*0930*9*X*005010X231", "ST*999*0009*005010X231", "AK1*SH*5*004010",
				"AK2*856*0001", "IK3*TD5*4*HL*8", "IK4*5*67*5*ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG", "IK5*E*I5",
				"AK2*850*0001", "IK5*A", "AK9*E*1*2*2", "SE*10*0009", "GE*1*9", "IEA*1*000000001"),
			group: AcceptedWithErrors, sets: []setWant{{"0001", AcceptedWithErrors}}, unknown: []string{"0001"},
		},
		{
			name: "not sent",
			ack:  lines("GS*FA*R*S*20240115*0930*9*X*004010", "ST*997*0009", "AK1*PO*77", "AK9*A*0*0*0", "SE*4*0009", "GE*1*9", "IEA*1*000000001"),
			err:  ErrUnmatchedAck,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acks := receivedAcks(t, tt.ack)
			if len(acks) != 1 {
				t.Fatalf("%d acknowledgements", len(acks))
			}
			got, err := m.Match(&acks[0])
			if tt.err != nil {
				if !errors.Is(err, tt.err) || got != nil {
					t.Errorf("got %v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.group {
				t.Errorf("group status %v, want %v", got.Status, tt.group)
			}
			var sets []setWant
			for _, s := range got.Sets {
				sets = append(sets, setWant{s.Sent.ControlNumber, s.Status})
				if (s.Ack == nil) != slicesContains(tt.notMentioned, s.Sent.ControlNumber) {
					t.Errorf("set %s: Ack %v", s.Sent.ControlNumber, s.Ack)
				}
			}
			if !reflect.DeepEqual(sets, tt.sets) {
				t.Errorf("sets %v, want %v", sets, tt.sets)
			}
			var nm, unk []string
			for _, s := range got.NotMentioned {
				nm = append(nm, s.ControlNumber)
			}
			for _, s := range got.Unknown {
				unk = append(unk, s.ControlNumber)
			}
			if !reflect.DeepEqual(nm, tt.notMentioned) || !reflect.DeepEqual(unk, tt.unknown) {
				t.Errorf("not mentioned %v, unknown %v; want %v, %v", nm, unk, tt.notMentioned, tt.unknown)
			}
		})
	}
	if out := m.Outstanding(); len(out) != 1 || out[0].FunctionalID != "IN" || out[0].ControlNumber != "88" {
		t.Errorf("outstanding: %+v", out)
	}
	for s, want := range map[AckStatus]string{NotAcknowledged: "not acknowledged", Rejected: "rejected", AckStatus(9): "AckStatus(9)"} {
		if s.String() != want {
			t.Errorf("%d: %s", s, s)
		}
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
