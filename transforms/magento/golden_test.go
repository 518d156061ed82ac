package magento

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenResult is a Result as a golden file shows it.
type goldenResult struct {
	Options    Options                `json:"options,omitzero"`
	ExternalID string                 `json:"external_id,omitempty"`
	UpdatedAt  time.Time              `json:"updated_at,omitzero"`
	Skip       string                 `json:"skip,omitempty"`
	Order      *canonical.Order       `json:"order,omitempty"`
	Cancel     *canonical.OrderCancel `json:"cancel,omitempty"`
	Errors     []string               `json:"errors,omitempty"`
}

// publicSample is the Apache-2.0 order from Adobe's REST tutorial (see
// fixtures/magento/PROVENANCE.md): state new, status pending; simple,
// downloadable, bundle and configurable items.
const publicSample = "../../fixtures/magento/adobe-commerce_rest-tutorial_order-GET-V1-orders-3.json"

// goldenCases maps each input to the options it is translated with.
// Inputs are testdata/<name>.order.json or the public sample; the output
// is testdata/<golden>.golden.json.
var goldenCases = []struct {
	golden string
	input  string
	opts   Options
}{
	{"paid", "testdata/paid.order.json", Options{}},
	{"paid.release-statuses", "testdata/paid.order.json", Options{ReleaseStatuses: []string{"ready_to_ship"}}},
	{"paid_iso_times", "testdata/paid_iso_times.order.json", Options{}},
	{"paid_bad_times", "testdata/paid_bad_times.order.json", Options{}},
	{"pending", "testdata/pending.order.json", Options{}},
	{"pending.release-new", "testdata/pending.order.json", Options{ReleaseStates: []string{"new", "processing"}}},
	{"canceled", "testdata/canceled.order.json", Options{}},
	{"holded", "testdata/holded.order.json", Options{}},
	{"fraud", "testdata/fraud.order.json", Options{SkipStatuses: []string{"fraud", "payment_review"}}},
	{"partial_refund", "testdata/partial_refund.order.json", Options{}},
	{"configurable", "testdata/configurable.order.json", Options{}},
	{"bundle", "testdata/bundle.order.json", Options{}},
	{"bundle.separately", "testdata/bundle.order.json", Options{BundleShipment: ShipSeparately}},
	{"bundle_separately", "testdata/bundle_separately.order.json", Options{}},
	{"missing_sku", "testdata/missing_sku.order.json", Options{}},
	{"no_shipping_address", "testdata/no_shipping_address.order.json", Options{}},
	{"virtual_only", "testdata/virtual_only.order.json", Options{}},
	{"adobe-commerce_order-3", publicSample, Options{}},
	{"adobe-commerce_order-3.release-new", publicSample, Options{ReleaseStates: []string{"new"}}},
}

func readBody(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGolden translates every variant and the public sample and compares
// the whole result with its golden file. Run with -update to rewrite them
// after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.golden, func(t *testing.T) {
			res, err := OrderFromREST(readBody(t, tc.input), "golden-store", tc.opts)
			g := goldenResult{Options: tc.opts, ExternalID: res.ExternalID, UpdatedAt: res.UpdatedAt,
				Skip: res.Skip, Order: res.Order, Cancel: res.Cancel}
			for _, e := range flatten(err) {
				g.Errors = append(g.Errors, e.Error())
			}
			checkResult(t, res, err)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.golden+".golden.json")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGolden -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("output differs from %s; run go test -run TestGolden -update and review the diff.\ngot:\n%s", golden, buf.Bytes())
			}
		})
	}
}

// flatten lists the errors joined in err: each *MappingError, and each
// canonical.Problem as an error of its own.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	if ps, ok := err.(canonical.Problems); ok {
		var out []error
		for _, p := range ps {
			out = append(out, canonical.Problems{p})
		}
		return out
	}
	return []error{err}
}

// checkResult holds a result to OrderFromREST's contract: exactly one
// outcome, and a published message valid once the hub fills in its id and
// receipt time.
func checkResult(t *testing.T, res Result, err error) {
	t.Helper()
	outcomes := 0
	for _, set := range []bool{res.Order != nil, res.Cancel != nil, res.Skip != ""} {
		if set {
			outcomes++
		}
	}
	if err != nil {
		if res.Order != nil || res.Cancel != nil {
			t.Fatalf("error %v with a message to publish: %+v", err, res)
		}
		return
	}
	if outcomes != 1 {
		t.Fatalf("want exactly one of Order, Cancel, Skip; got %+v", res)
	}
	if res.ExternalID == "" {
		t.Fatalf("no ExternalID in %+v", res)
	}
	received := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	if res.Order != nil {
		o := *res.Order
		if o.OrderID != "" || !o.Source.ReceivedAt.IsZero() || o.Source.ExternalID != res.ExternalID {
			t.Fatalf("order_id/received_at not left to the hub, or wrong external_id: %+v", o.Source)
		}
		o.OrderID, o.Source.ReceivedAt = canonical.NewOrderID(), received
		if err := o.Validate(); err != nil {
			t.Fatalf("order does not validate: %v", err)
		}
	}
	if res.Cancel != nil {
		c := *res.Cancel
		c.OrderID, c.Source.ReceivedAt = canonical.NewOrderID(), received
		if err := c.Validate(); err != nil {
			t.Fatalf("cancel does not validate: %v", err)
		}
	}
}
