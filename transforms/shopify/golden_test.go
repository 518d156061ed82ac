package shopify

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/transforms/internal/mappingtest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenResult is a Result as a golden file shows it.
type goldenResult struct {
	Topic      string                 `json:"topic"`
	Options    Options                `json:"options,omitzero"`
	ExternalID string                 `json:"external_id,omitempty"`
	UpdatedAt  time.Time              `json:"updated_at,omitzero"`
	Skip       string                 `json:"skip,omitempty"`
	Order      *canonical.Order       `json:"order,omitempty"`
	Cancel     *canonical.OrderCancel `json:"cancel,omitempty"`
	Errors     []string               `json:"errors,omitempty"`
}

// goldenCases maps each input to the topic and options it is sent with.
// Inputs are testdata/<name>.webhook.json, or a public sample from
// fixtures/shopify (unwrapped from its {"order": …}); the output is
// testdata/<golden>.golden.json.
var goldenCases = []struct {
	golden string
	input  string
	topic  string
	opts   Options
}{
	{"paid", "testdata/paid.webhook.json", TopicOrdersCreate, Options{}},
	{"paid.orders-paid", "testdata/paid.webhook.json", TopicOrdersPaid, Options{ServiceLevels: map[string]canonical.ServiceLevel{"Standard": canonical.ServiceEconomy}}},
	{"pending", "testdata/pending.webhook.json", TopicOrdersCreate, Options{}},
	{"authorized", "testdata/authorized.webhook.json", TopicOrdersUpdated, Options{ReleaseFinancialStatuses: []string{"authorized", "paid"}, ServiceLevels: map[string]canonical.ServiceLevel{"01": canonical.ServiceNextDay}}},
	{"cancelled", "testdata/cancelled.webhook.json", TopicOrdersCancelled, Options{}},
	{"cancelled.orders-updated", "testdata/cancelled.webhook.json", TopicOrdersUpdated, Options{}},
	{"partial_refund", "testdata/partial_refund.webhook.json", TopicOrdersUpdated, Options{}},
	{"bundle", "testdata/bundle.webhook.json", TopicOrdersCreate, Options{}},
	{"missing_sku", "testdata/missing_sku.webhook.json", TopicOrdersCreate, Options{}},
	{"missing_sku.variant-fallback", "testdata/missing_sku.webhook.json", TopicOrdersCreate, Options{SKUFallback: SKUFallbackVariantID}},
	{"no_shipping_address", "testdata/no_shipping_address.webhook.json", TopicOrdersCreate, Options{}},
	{"digital_only", "testdata/digital_only.webhook.json", TopicOrdersCreate, Options{}},
	{"test_order", "testdata/test_order.webhook.json", TopicOrdersCreate, Options{}},
	{"test_order.released", "testdata/test_order.webhook.json", TopicOrdersCreate, Options{ReleaseTestOrders: true}},
	{"big_id", "testdata/big_id.webhook.json", TopicOrdersCreate, Options{SKUFallback: SKUFallbackVariantID}},
	{"go-shopify_order", "../../fixtures/shopify/go-shopify_order.json", TopicOrdersCreate, Options{}},
	{"go-shopify_order.released", "../../fixtures/shopify/go-shopify_order.json", TopicOrdersCreate, Options{ReleaseTestOrders: true}},
	{"shopify-api-ruby_order", "../../fixtures/shopify/shopify-api-ruby_order.json", TopicOrdersCreate, Options{}},
	{"shopify-api-ruby_order.authorized", "../../fixtures/shopify/shopify-api-ruby_order.json", TopicOrdersCreate, Options{ReleaseFinancialStatuses: []string{"authorized"}}},
}

// readBody reads a webhook body; the public samples are REST responses
// wrapped in {"order": …}, and a webhook body is the inner object.
func readBody(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(name, "../../fixtures/") {
		var wrapped struct {
			Order json.RawMessage `json:"order"`
		}
		if err := json.Unmarshal(data, &wrapped); err != nil || wrapped.Order == nil {
			t.Fatalf("unwrapping %s: %v", name, err)
		}
		return wrapped.Order
	}
	return data
}

// TestGolden translates every variant and public sample and compares the
// whole result with its golden file. Run with -update to rewrite them
// after a deliberate change, and review the diff.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.golden, func(t *testing.T) {
			res, err := OrderFromWebhook(tc.topic, readBody(t, tc.input), "golden-shop", tc.opts)
			g := goldenResult{Topic: tc.topic, Options: tc.opts, ExternalID: res.ExternalID, UpdatedAt: res.UpdatedAt,
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

// checkResult holds a result to OrderFromWebhook's contract: exactly one
// outcome, and a published message valid once the hub fills in its id and
// receipt time.
func checkResult(t *testing.T, res Result, err error) {
	t.Helper()
	mappingtest.CheckResult(t, mappingtest.Outcome{Result: res, Order: res.Order, Cancel: res.Cancel, Skip: res.Skip, ExternalID: res.ExternalID}, err)
}
