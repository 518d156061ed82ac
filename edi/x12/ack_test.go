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
	var out bytes.Buffer
	w, err := NewWriter(&out, DefaultDelimiters, WithLineEnding("\n"))
	if err != nil {
		t.Fatal(err)
	}
	err = Acknowledge(bytes.NewReader(in), w, testAckConfig(skipAccepted))
	return out.String(), err
}

// TestAcknowledgeFixturesGolden writes the acknowledgements of every
// fixture, compares them with testdata/golden/<file>.ack.golden and checks
// that they are themselves valid X12: envelopes and 997 content.
func TestAcknowledgeFixturesGolden(t *testing.T) {
	for _, path := range fixtureFiles(t) {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			out, err := acknowledge(t, in, false)
			got := out
			if err != nil {
				got += "# problems no acknowledgement can carry:\n" + err.Error() + "\n"
			}
			golden := filepath.Join("testdata", "golden", name+".ack.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			} else if want, err := os.ReadFile(golden); err != nil || string(want) != got {
				t.Errorf("acknowledgements differ from %s (go test -update if deliberate)\n--- got\n%s--- want\n%s", golden, got, want)
			}
			if out == "" {
				return
			}
			if err := Validate(strings.NewReader(out), WithSpecs(StandardSpecs())); err != nil {
				t.Errorf("the acknowledgement is not valid X12:\n%v\n%s", err, out)
			}
		})
	}
}

func TestAcknowledge997(t *testing.T) {
	in := lines("GS*OW*DEPOSITOR*WAREHOUSE*20240115*0930*77*X*004010",
		// accepted
		"ST*940*0001", "W05*N*ORD1", "LX*1", "W01*24*EA", "SE*5*0001",
		// SE01 wrong and an element error
		"ST*940*0002", "W05*N*ORD2", "LX*1", "W01*4x*EA", "SE*9*0002",
		// a mandatory segment missing, a composite-free element error and an unknown segment
		"ST*940*0003", "LX*1", "W01*1*EACH", "ZZ9*X", "SE*5*0003",
		"GE*3*77", "IEA*1*000000001")
	out, err := acknowledge(t, []byte(in), false)
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
		"AK3*W01*4**8~\n" +
		"AK4*1*330*6*4x~\n" +
		"AK5*R*4*5~\n" +
		"AK2*940*0003~\n" +
		"AK3*W05*2**3~\n" +
		"AK3*W01*3**8~\n" +
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
	out, err := acknowledge(t, []byte(small850("000000001")+"garbage"), true)
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
