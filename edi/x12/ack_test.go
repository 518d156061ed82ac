package x12

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// testAckConfig numbers acknowledgements from 1 in each kind and dates them
// 2024-03-01 10:30.
func testAckConfig(skipAccepted bool) AckConfig {
	n := map[string]int{}
	return AckConfig{
		ControlNumber: func(seg string) string {
			n[seg]++
			if seg == "ST" {
				return "0000" + strconv.Itoa(n[seg])
			}
			return strconv.Itoa(n[seg])
		},
		Now:          func() time.Time { return time.Date(2024, 3, 1, 10, 30, 0, 0, time.UTC) },
		SkipAccepted: skipAccepted,
		Options:      []Option{WithSpecs(StandardSpecs())},
	}
}

func acknowledge(t *testing.T, in []byte, skipAccepted bool) (string, error) {
	t.Helper()
	return acknowledgeWith(t, in, testAckConfig(skipAccepted))
}

func acknowledgeWith(t *testing.T, in []byte, cfg AckConfig) (string, error) {
	t.Helper()
	var out bytes.Buffer
	w, err := NewWriter(&out, DefaultDelimiters, WithLineEnding("\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = Acknowledge(bytes.NewReader(in), w, cfg)
	return out.String(), err
}

// checkAcks checks that acknowledgements are valid X12 and that every 997
// and 999 in them was checked against its specification.
func checkAcks(t *testing.T, out string) {
	t.Helper()
	if err := Validate(strings.NewReader(out), WithSpecs(StandardSpecs())); err != nil {
		t.Errorf("the acknowledgement is not valid X12:\n%v\n%s", err, out)
	}
	d := NewDecoder(strings.NewReader(out))
	for {
		ev, err := d.Next()
		if err != nil {
			break
		}
		if ev.Kind != SetEnd {
			continue
		}
		shipped := strings.HasPrefix(ev.Group.Version, "004010") || strings.HasPrefix(ev.Group.Version, "005010")
		if (shipped || ev.Set.ID == "999") && StandardSpecs().Set(ev.Group.Version, ev.Set.ID) == nil {
			t.Errorf("no specification for the %s of group version %s", ev.Set.ID, ev.Group.Version)
		}
	}
}

// TestAcknowledgeFixturesGolden writes the acknowledgements of every
// fixture, as 997s and as 999s, compares them with
// testdata/golden/<file>.ack.golden and <file>.ack999.golden and checks
// that they are themselves valid X12: envelopes and 997/999 content.
func TestAcknowledgeFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		for _, kind := range []AckKind{Ack997, Ack999} {
			name := filepath.Base(path)
			suffix := ".ack.golden"
			if kind == Ack999 {
				suffix = ".ack999.golden"
			}
			t.Run(name+suffix, func(t *testing.T) {
				ackFixtureGolden(t, path, kind, filepath.Join("testdata", "golden", name+suffix))
			})
		}
	}
}

func ackFixtureGolden(t *testing.T, path string, kind AckKind, golden string) {
	{
		{
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			cfg := testAckConfig(false)
			cfg.Kind = kind
			out, err := acknowledgeWith(t, in, cfg)
			got := out
			if err != nil {
				got += "# problems no acknowledgement can carry:\n" + err.Error() + "\n"
			}
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil || string(want) != got {
				t.Errorf("acknowledgements differ from %s (go test -update if deliberate)\n--- got\n%s--- want\n%s", golden, got, want)
			}
			if out != "" {
				checkAcks(t, out)
			}
		}
	}
}

func TestAcknowledge997(t *testing.T) {
	out, err := acknowledge(t, []byte(ack997Input), false)
	if err != nil {
		t.Fatal(err)
	}
	want := "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *240301*1030*^*00501*000000001*0*P*:~\n" +
		"GS*FA*WAREHOUSE*DEPOSITOR*20240301*1030*1*X*004010~\n" +
		"ST*997*00001~\n" +
		"AK1*OW*77~\n" +
		"AK2*940*0001~\n" +
		"AK5*A~\n" +
		"AK2*940*0002~\n" +
		"AK3*W01*4*W01*8~\n" +
		"AK4*1*330*6*4x~\n" +
		"AK5*R*4*5~\n" +
		"AK2*940*0003~\n" +
		"AK3*W05*2**3~\n" +
		"AK3*W01*3*W01*8~\n" +
		"AK4*2*355*5*EACH~\n" +
		"AK3*ZZ9*4**6~\n" +
		"AK5*R*5~\n" +
		"AK9*P*3*3*1~\n" +
		"SE*16*00001~\n" +
		"GE*1*1~\n" +
		"IEA*1*000000001~\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	if err := Validate(strings.NewReader(out), WithSpecs(StandardSpecs())); err != nil {
		t.Errorf("the 997 is not valid: %v", err)
	}
}

// ack997Input has an accepted set and two rejected ones, with segment and
// element errors.
var ack997Input = lines("GS*OW*DEPOSITOR*WAREHOUSE*20240115*0930*77*X*004010",
	// accepted
	"ST*940*0001", "W05*N*ORD1", "LX*1", "W01*24*EA", "SE*5*0001",
	// SE01 wrong and an element error
	"ST*940*0002", "W05*N*ORD2", "LX*1", "W01*4x*EA", "SE*9*0002",
	// a mandatory segment missing, a composite-free element error and an unknown segment
	"ST*940*0003", "LX*1", "W01*1*EACH", "ZZ9*X", "SE*5*0003",
	"GE*3*77", "IEA*1*000000001")

func TestAcknowledge999(t *testing.T) {
	cfg := testAckConfig(false)
	cfg.Kind = Ack999
	out, err := acknowledgeWith(t, []byte(ack997Input), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *240301*1030*^*00501*000000001*0*P*:~\n" +
		"GS*FA*WAREHOUSE*DEPOSITOR*20240301*1030*1*X*005010X231~\n" +
		"ST*999*00001*005010X231~\n" +
		"AK1*OW*77*004010~\n" +
		"AK2*940*0001~\n" +
		"IK5*A~\n" +
		"AK2*940*0002~\n" +
		"IK3*W01*4*W01*8~\n" +
		"IK4*1*330*6*4x~\n" +
		"IK5*R*4*5~\n" +
		"AK2*940*0003~\n" +
		"IK3*W05*2**3~\n" +
		"IK3*W01*3*W01*8~\n" +
		"IK4*2*355*5*EACH~\n" +
		"IK3*ZZ9*4**6~\n" +
		"IK5*R*5~\n" +
		"AK9*P*3*3*1~\n" +
		"SE*16*00001~\n" +
		"GE*1*1~\n" +
		"IEA*1*000000001~\n"
	if out != want {
		t.Errorf("got\n%s\nwant\n%s", out, want)
	}
	checkAcks(t, out)
}

// TestAcknowledgeKinds checks the partner's choice of acknowledgement and
// of acknowledging accepted groups, on an interchange with a 004010 group
// (accepted), a 005010 group with a component error and ST03 (rejected),
// and a 004010 group from another application sender (accepted).
func TestAcknowledgeKinds(t *testing.T) {
	in := lines("GS*PO*BUYER*SELLER*20240115*0930*1*X*004010",
		"ST*850*0001", "BEG*00*SA*PO1**20240115", "PO1*1*1*EA", "SE*4*0001", "GE*1*1",
		"GS*PO*BUYER*SELLER*20240115*0930*2*X*005010",
		"ST*997*0002*005010X230", "AK1*PO*5", "AK2*850*0001", "AK3*PO1*2", "AK4*1:x*7*7", "AK5*R*5", "AK9*R*1*1*0", "SE*8*0002", "GE*1*2",
		"GS*PO*OTHER*SELLER*20240115*0930*3*X*004010",
		"ST*850*0003", "BEG*00*SA*PO3**20240115", "PO1*1*1*EA", "SE*4*0003", "GE*1*3",
		"IEA*3*000000001")
	tests := []struct {
		kind AckKind
		skip bool
		want []string // the acknowledgement segments, AK1 to AK9, and the GS08s
	}{
		{Ack997, false, []string{"GS 004010", "AK1*PO*1", "AK9*A*1*1*1", "GS 005010", "AK1*PO*2", "AK3*AK4*5*AK3*8", "AK4*1:2*1528*6*x", "AK5*R*5", "AK9*R*1*1*0", "GS 004010", "AK1*PO*3", "AK9*A*1*1*1"}},
		{Ack999, false, []string{"GS 005010X231", "AK1*PO*1*004010", "AK9*A*1*1*1", "AK1*PO*2*005010", "AK2*997*0002*005010X230", "IK3*AK4*5*AK3*8", "IK4*1:2*1528*6*x", "IK5*R*5", "AK9*R*1*1*0", "GS 005010X231", "AK1*PO*3*004010", "AK9*A*1*1*1"}},
		{AckByVersion, false, []string{"GS 004010", "AK1*PO*1", "AK9*A*1*1*1", "GS 005010X231", "AK1*PO*2*005010", "AK2*997*0002*005010X230", "IK3*AK4*5*AK3*8", "IK4*1:2*1528*6*x", "IK5*R*5", "AK9*R*1*1*0", "GS 004010", "AK1*PO*3", "AK9*A*1*1*1"}},
		{AckByVersion, true, []string{"GS 005010X231", "AK1*PO*2*005010", "AK2*997*0002*005010X230", "IK3*AK4*5*AK3*8", "IK4*1:2*1528*6*x", "IK5*R*5", "AK9*R*1*1*0"}},
		{Ack999, true, []string{"GS 005010X231", "AK1*PO*2*005010", "AK2*997*0002*005010X230", "IK3*AK4*5*AK3*8", "IK4*1:2*1528*6*x", "IK5*R*5", "AK9*R*1*1*0"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String()+map[bool]string{true: " skip accepted", false: ""}[tt.skip], func(t *testing.T) {
			cfg := testAckConfig(tt.skip)
			cfg.Kind = tt.kind
			out, err := acknowledgeWith(t, []byte(in), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkAcks(t, out)
			var got []string
			for _, seg := range strings.Split(strings.TrimSpace(out), "~\n") {
				f := strings.Split(seg, "*")
				switch {
				case f[0] == "GS":
					got = append(got, "GS "+f[8])
				case (strings.HasPrefix(f[0], "AK") || strings.HasPrefix(f[0], "IK")) && seg != "AK5*A" && seg != "IK5*A" && (f[0] != "AK2" || len(f) > 3):
					got = append(got, seg)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s\nfrom\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"), out)
			}
		})
	}
	if s := AckKind(9).String(); s != "AckKind(9)" {
		t.Error(s)
	}
}

func TestAcknowledgeTA1(t *testing.T) {
	tests := []struct {
		name  string
		input string
		skip  bool
		want  string
	}{
		{
			name:  "rejected interchange: TA1 only",
			input: lines("GS*PO*S*R*20240115*0930*1*X*004010", "GE*0*1", "IEA*1*000000002"),
			want: "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *240301*1030*^*00501*000000001*0*P*:~\n" +
				"TA1*000000001*240115*0930*R*001~\n" +
				"IEA*0*000000001~\n",
		},
		{
			name:  "accepted, TA1 requested, 997 skipped",
			input: strings.Replace(lines("GS*PO*S*R*20240115*0930*1*X*004010", "GE*0*1", "IEA*1*000000001"), "*0*P*:~", "*1*P*:~", 1),
			skip:  true,
			want: "ISA*00*          *00*          *ZZ*RECEIVER       *ZZ*SENDER         *240301*1030*^*00501*000000001*0*P*:~\n" +
				"TA1*000000001*240115*0930*A*000~\n" +
				"IEA*0*000000001~\n",
		},
		{
			name:  "accepted, nothing to say",
			input: lines("GS*PO*S*R*20240115*0930*1*X*004010", "GE*0*1", "IEA*1*000000001"),
			skip:  true,
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := acknowledge(t, []byte(tt.input), tt.skip)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.want {
				t.Errorf("got\n%s\nwant\n%s", out, tt.want)
			}
		})
	}
}

func TestAcknowledgeUnreported(t *testing.T) {
	// small850's set has no PO1 loop, which the 005010 850 table makes
	// mandatory: add one, so that the set is accepted.
	valid := strings.Replace(small850("000000001"), "SE*3*0001~", "PO1*1*1*EA~\nSE*4*0001~", 1)
	out, err := acknowledge(t, []byte(valid+"garbage"), true)
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !errors.Is(err, ErrTrailingData) || out != "" {
		t.Errorf("got %q, %v", out, err)
	}
	// An ISA whose sender ID cannot be written back (16 characters) is
	// reported; the next interchange is still acknowledged.
	bad := strings.Replace(small850("000000001"), "SENDER         *", "SENDER-TOO-LONG-*", 1)
	out, err = acknowledge(t, []byte(bad+small850("000000002")), false)
	if !errors.Is(err, errNoReply) || !strings.Contains(err.Error(), "acknowledging interchange 000000001 (line 1)") ||
		!strings.Contains(out, "AK1*PO*1~") || strings.Count(out, "ISA*") != 1 {
		t.Errorf("got %q, %v", out, err)
	}
	var w Writer
	if err := Acknowledge(strings.NewReader(""), &w, AckConfig{}); err == nil {
		t.Error("Acknowledge without ControlNumber did not fail")
	}
}
