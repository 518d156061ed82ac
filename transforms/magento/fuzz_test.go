package magento

import (
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzOrderFromREST checks that no body makes OrderFromREST panic, that it
// is deterministic, and that every result is an error, a skip, or a
// message that validates once the hub fills in its id and receipt time.
// Seeds: every order in testdata, the public sample in fixtures/magento,
// and testdata/fuzz/FuzzOrderFromREST.
//
// The seeds are large (the public sample is 46 kB), and minimising each
// new interesting input at the default 60s stalls the run; fuzz with
//
//	go test -run XXX -fuzz FuzzOrderFromREST -fuzzminimizetime 50x
func FuzzOrderFromREST(f *testing.F) {
	inputs, err := filepath.Glob("testdata/*.order.json")
	if err != nil {
		f.Fatal(err)
	}
	inputs = append(inputs, publicSample)
	for i, name := range inputs {
		f.Add(readBody(f, name), uint8(i))
	}
	f.Fuzz(func(t *testing.T, body []byte, flags uint8) {
		var opts Options
		if flags&1 != 0 {
			opts.ReleaseStates = []string{"new", "processing", "complete"}
		}
		if flags&2 != 0 {
			opts.BundleShipment = ShipSeparately
		}
		if flags&4 != 0 {
			opts.CancelStates = []string{"canceled", "closed"}
		}
		if flags&8 != 0 {
			opts.SkipStatuses = []string{"fraud"}
		}
		res, err := OrderFromREST(body, "fuzz-store", opts)
		checkResult(t, res, err)
		again, err2 := OrderFromREST(body, "fuzz-store", opts)
		if !reflect.DeepEqual(res, again) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("not deterministic:\n%+v %v\n%+v %v", res, err, again, err2)
		}
		for _, e := range flatten(err) {
			if e.Error() == "" {
				t.Fatalf("empty error in %v", err)
			}
		}
		if !res.UpdatedAt.IsZero() && res.UpdatedAt.Location() != time.UTC {
			t.Fatalf("UpdatedAt %v is not UTC", res.UpdatedAt)
		}
		if res.ExternalID != "" {
			n, perr := strconv.ParseInt(res.ExternalID, 10, 64)
			if perr != nil || strconv.FormatInt(n, 10) != res.ExternalID {
				t.Fatalf("ExternalID %q is not a canonical int64", res.ExternalID)
			}
		}
	})
}

// FuzzParseTime checks that every time ParseTime accepts is UTC, can be
// written as JSON, and reads back the same from its RFC 3339 and Magento
// core forms, and that every error quotes the value.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2026-11-20 18:00:00", "2026-11-20T18:00:00Z", "2026-11-20T18:00:00+00:00",
		"2026-11-20T18:00:00.123456Z", "2026-11-20T13:00:00-0500", "2026-11-20T18:00:00", "9999-12-31T23:00:00-02:00",
		"yesterday"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("error %q does not quote %q", err, s)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseTime(%q) = %v, not UTC", s, got)
		}
		if _, err := got.MarshalJSON(); err != nil {
			t.Fatalf("ParseTime(%q) = %v: %v", s, got, err)
		}
		for _, form := range []string{got.Format(time.RFC3339Nano), got.Format(TimeLayout + ".999999999")} {
			if again, err := ParseTime(form); err != nil || !again.Equal(got) {
				t.Fatalf("ParseTime(%q) = %v; its form %q reads back as %v, %v", s, got, form, again, err)
			}
		}
	})
}
