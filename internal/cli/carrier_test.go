package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	"github.com/paklog/integration-hub/fixtures/carriersim/simset"
)

// carrierConfig writes a hub.yaml whose carrier accounts are the simulators, with the
// secrets in environment variables as an operator would keep them.
func carrierConfig(t *testing.T, sims *simset.Set) string {
	t.Helper()
	cfg, _ := hubConfig(t)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sb strings.Builder
	sb.Write(b)
	sb.WriteString("carriers:\n  accounts:\n")
	for _, a := range sims.Accounts() {
		env := "PAKLOG_TEST_" + strings.ToUpper(strings.ReplaceAll(a.Name, "-", "_"))
		t.Setenv(env+"_ID", a.ClientID.Value())
		t.Setenv(env+"_SECRET", a.ClientSecret.Value())
		fmt.Fprintf(&sb, "    - {name: %s, carrier: %s, url: %q, client_id: {env: %s_ID}, client_secret: {env: %s_SECRET}, account_number: %q, crid: %q, mid: %q}\n",
			a.Name, a.Carrier, a.URL, env, env, a.AccountNumber, a.CRID, a.MID)
	}
	sb.WriteString("  rules:\n    - {name: ground, use: [\"ups-sim:03\", \"fedex-sim:FEDEX_GROUND\"]}\n")
	return writeFile(t, filepath.Dir(cfg), "hub.yaml", sb.String())
}

// paklog carrier test: token, label and void pass against each simulated carrier and
// the label is really voided; a carrier that answers 503 fails the label step with
// advice and exit 1.
func TestCarrierTest(t *testing.T) {
	cleanEnv(t)
	sims, err := simset.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sims.Close()
	cfg := carrierConfig(t, sims)
	for _, acct := range []string{simset.UPS, simset.FedEx, simset.USPS} {
		code, out, errOut := paklog(t, "carrier", "test", acct, "--config", cfg)
		if code != 0 || strings.Count(out, "PASS") != 3 {
			t.Errorf("carrier test %s: exit %d\n%s%s", acct, code, out, errOut)
		}
		if sims.Ledger(acct).Active() != 0 || len(sims.Ledger(acct).All()) != 1 {
			t.Errorf("%s: %d labels sold, %d still active; want the test label sold and voided", acct, len(sims.Ledger(acct).All()), sims.Ledger(acct).Active())
		}
	}
	sims.FedEx.Faults.Inject(carriersim.Fault{Kind: carriersim.Unavailable, Op: "ship"})
	code, out, _ := paklog(t, "carrier", "test", simset.FedEx, "--config", cfg)
	if code != 1 || !strings.Contains(out, "FAIL  label") || !strings.Contains(out, "check url and the network") {
		t.Errorf("carrier test against a 503: exit %d\n%s", code, out)
	}
	code, _, errOut := paklog(t, "carrier", "test", "dhl-main", "--config", cfg)
	if code == 0 || !strings.Contains(errOut, "configured: ups-sim, fedex-sim, usps-sim") {
		t.Errorf("unknown account: exit %d, %s", code, errOut)
	}
}

// paklog carrier label: the rules pick UPS for a ground shipment and the label file is
// written; --account picks another.
func TestCarrierLabel(t *testing.T) {
	cleanEnv(t)
	sims, err := simset.Start(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sims.Close()
	cfg := carrierConfig(t, sims)
	dir := t.TempDir()
	s := canonical.Shipment{ShipmentID: "SHP-1", OrderID: canonical.NewOrderID(), ServiceLevel: canonical.ServiceGround, LabelFormat: canonical.LabelZPL,
		ShipFrom: canonical.Address{Name: "DC1", Address1: "1200 Logistics Pkwy", City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US", Phone: "6145550100"},
		ShipTo:   canonical.Address{Name: "Ann", Address1: "500 Commerce St", City: "Nashville", Region: "TN", PostalCode: "37203", Country: "US", Phone: "6155550100"},
		Packages: []canonical.Package{{PackageID: "P1", Weight: canonical.Weight{Value: 3, Unit: canonical.Pound},
			Dimensions: canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch}}}}
	body, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, dir, "shipment.json", string(body))
	code, out, errOut := paklog(t, "carrier", "label", file, "--config", cfg, "--out", filepath.Join(dir, "lbl"))
	if code != 0 || !regexp.MustCompile(`ups-sim service 03 \(rule ground\)`).MatchString(out) || !regexp.MustCompile(`tracking 1Z[0-9A-Z]{16}`).MatchString(out) {
		t.Fatalf("carrier label: exit %d\n%s%s", code, out, errOut)
	}
	zpl, err := os.ReadFile(filepath.Join(dir, "lbl-1.zpl"))
	if err != nil || !strings.HasPrefix(string(zpl), "^XA") {
		t.Errorf("label file: %q, %v", zpl, err)
	}
	code, out, errOut = paklog(t, "carrier", "label", file, "--config", cfg, "--account", simset.FedEx, "--out", filepath.Join(dir, "fx"))
	if code != 0 || !regexp.MustCompile(`tracking \d{12}`).MatchString(out) {
		t.Errorf("carrier label --account fedex-sim: exit %d\n%s%s", code, out, errOut)
	}
}
