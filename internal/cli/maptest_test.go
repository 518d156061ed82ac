package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// customConfig writes a hub.yaml with the WooCommerce-like channel of adapters/custom's
// test data, its secret from the environment.
func customConfig(t *testing.T) (cfgPath string, dir string) {
	t.Helper()
	cfg, _ := hubConfig(t)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := os.ReadFile("../../adapters/custom/testdata/woocommerce.jq")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PAKLOG_TEST_WOO_SECRET", "woo-secret")
	var sb strings.Builder
	sb.Write(b)
	sb.WriteString("channels:\n  custom:\n    channels:\n      - name: woo\n        hmac: {header: X-WC-Webhook-Signature, encoding: base64, secrets: [{env: PAKLOG_TEST_WOO_SECRET}]}\n        mapping: |\n")
	for line := range strings.SplitSeq(string(prog), "\n") {
		sb.WriteString("          " + line + "\n")
	}
	return writeFile(t, filepath.Dir(cfg), "hub.yaml", sb.String()), filepath.Dir(cfg)
}

// paklog map test prints the canonical order of a payload that maps, and for one that
// does not, the canonical field and the jq expression, with exit 1.
func TestMapTest(t *testing.T) {
	cleanEnv(t)
	cfg, dir := customConfig(t)
	code, out, errOut := paklog(t, "map", "test", "--channel", "woo", "../../adapters/custom/testdata/woocommerce.json", "--config", cfg)
	if code != 0 || !strings.Contains(out, `"schema": "paklog.order.v1"`) || !strings.Contains(out, `"sku": "WOO-SINGLE-1"`) {
		t.Errorf("good payload: exit %d\n%s%s", code, out, errOut)
	}
	body, _ := os.ReadFile("../../adapters/custom/testdata/woocommerce.json")
	bad := writeFile(t, dir, "bad.json", strings.Replace(string(body), `"sku": "WOO-SINGLE-1"`, `"sku": ""`, 1))
	code, out, _ = paklog(t, "map", "test", "--channel", "woo", bad, "--config", cfg)
	if code != 1 || !strings.Contains(out, "lines[0].sku") || !strings.Contains(out, ".sku") {
		t.Errorf("payload without a SKU: exit %d\n%s", code, out)
	}
	code, _, errOut = paklog(t, "map", "test", "--channel", "nope", bad, "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "configured: woo") {
		t.Errorf("unknown channel: exit %d, %s", code, errOut)
	}
}
