package magento

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mappingtest"
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
			mappingtest.Golden(t, filepath.Join("testdata", tc.golden+".golden.json"), g, *update)
		})
	}
}

// flatten lists the errors joined in err: each *MappingError, and each
// canonical.Problem as an error of its own.
func flatten(err error) []error { return mappingtest.Flatten(err) }

// checkResult holds a result to OrderFromREST's contract: exactly one
// outcome, and a published message valid once the hub fills in its id and
// receipt time.
func checkResult(t *testing.T, res Result, err error) {
	t.Helper()
	mappingtest.CheckResult(t, mappingtest.Outcome{Result: res, Order: res.Order, Cancel: res.Cancel, Skip: res.Skip, ExternalID: res.ExternalID}, err)
}
