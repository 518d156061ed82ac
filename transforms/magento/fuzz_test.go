package magento

import (
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
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
		if res.ExternalID != "" {
			n, perr := strconv.ParseInt(res.ExternalID, 10, 64)
			if perr != nil || strconv.FormatInt(n, 10) != res.ExternalID {
				t.Fatalf("ExternalID %q is not a canonical int64", res.ExternalID)
			}
		}
	})
}
