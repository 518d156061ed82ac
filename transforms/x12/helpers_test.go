package x12_test

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	edi "github.com/paklog/integration-hub/edi/x12"
)

var placeholderTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const testISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*PAKLOG         *240115*0930*U*00401*000000101*0*P*>~\n"

// buildSet wraps segments (one a line, without terminators) in an
// interchange, a group and an ST/SE with control number 0001, reads it
// through the decoder and returns the set. The ISA is line 1, GS line 2,
// ST line 3: the first segment given is line 4, segment 2 of the set.
func buildSet(t testing.TB, id string, segments string) *edi.TransactionSet {
	t.Helper()
	segs := strings.Split(strings.TrimSpace(segments), "\n")
	fid := map[string]string{"850": "PO", "940": "OW"}[id]
	if fid == "" {
		fid = "IN"
	}
	var b strings.Builder
	b.WriteString(testISA)
	b.WriteString("GS*" + fid + "*SENDER*PAKLOG*20240115*0930*7*X*004010~\n")
	b.WriteString("ST*" + id + "*0001~\n")
	for _, s := range segs {
		b.WriteString(strings.TrimSpace(s) + "~\n")
	}
	b.WriteString("SE*" + strconv.Itoa(len(segs)+2) + "*0001~\nGE*1*7~\nIEA*1*000000101~\n")
	d := edi.NewDecoder(strings.NewReader(b.String()))
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			t.Fatal("no set")
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == edi.SetEnd {
			return ev.Set.Clone()
		}
	}
}

// minimal850 is a valid 850 header and ship-to; tests append lines.
const minimal850 = `BEG*00*SA*PO-1**20240110
N1*ST*DANA WHITFIELD
N3*1200 MARKET ST
N4*SAN FRANCISCO*CA*94102*US`

// minimal940 is a valid 940 header and ship-to.
const minimal940 = `W05*N*SO-1*PO-9
N1*ST*DANA WHITFIELD
N3*1200 MARKET ST
N4*SAN FRANCISCO*CA*94102*US`

// errorStrings returns the messages of a translation error.
func errorStrings(err error) []string {
	var l edi.ErrorList
	if !errors.As(err, &l) {
		if err == nil {
			return nil
		}
		return []string{err.Error()}
	}
	var out []string
	for _, e := range l {
		out = append(out, e.Error())
	}
	return out
}
