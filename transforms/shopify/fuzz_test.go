package shopify

import (
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// FuzzOrderFromWebhook checks that no body makes OrderFromWebhook panic,
// that it is deterministic, and that every result is an error, a skip, or
// a message that validates once the hub fills in its id and receipt time.
// Seeds: every webhook in testdata, the public samples in fixtures/shopify,
// and testdata/fuzz/FuzzOrderFromWebhook.
func FuzzOrderFromWebhook(f *testing.F) {
	inputs, err := filepath.Glob("testdata/*.webhook.json")
	if err != nil {
		f.Fatal(err)
	}
	inputs = append(inputs, "../../fixtures/shopify/go-shopify_order.json", "../../fixtures/shopify/shopify-api-ruby_order.json")
	for i, name := range inputs {
		f.Add(uint8(i), readBody(f, name), uint8(i))
	}
	f.Fuzz(func(t *testing.T, topic uint8, body []byte, flags uint8) {
		opts := Options{
			ReleaseTestOrders: flags&1 != 0,
		}
		if flags&2 != 0 {
			opts.SKUFallback = SKUFallbackVariantID
		}
		if flags&4 != 0 {
			opts.ReleaseFinancialStatuses = FinancialStatuses
		}
		tp := Topics[int(topic)%len(Topics)]
		res, err := OrderFromWebhook(tp, body, "fuzz-shop", opts)
		checkResult(t, res, err)
		again, err2 := OrderFromWebhook(tp, body, "fuzz-shop", opts)
		if !reflect.DeepEqual(res, again) || (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
			t.Fatalf("not deterministic:\n%+v %v\n%+v %v", res, err, again, err2)
		}
		if err != nil {
			for _, e := range flatten(err) {
				if e.Error() == "" {
					t.Fatalf("empty error in %v", err)
				}
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
