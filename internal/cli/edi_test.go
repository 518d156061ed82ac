package cli_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/canonical"
)

const fx = "../../fixtures/edi/"

func TestEDIValidate(t *testing.T) {
	code, out, _ := paklog(t, "edi", "validate", fx+"ediengine__x12-850.edi")
	if code != 0 || !strings.HasSuffix(out, "ediengine__x12-850.edi: 1 interchange(s), 1 group(s), 1 set(s): valid\n") {
		t.Fatalf("valid file: exit %d\n%s", code, out)
	}
	code, out, _ = paklog(t, "edi", "validate", fx+"ediengine__x12-940-wrong-counts.edi")
	want := "line 8, GE: GE01 says 2 transaction sets, the group has 1\n" +
		"line 9, IEA: IEA01 says 2 functional groups, the interchange has 1\n"
	if code != 1 || !strings.HasPrefix(out, want) || !strings.Contains(out, "INVALID: 2 problem(s)") {
		t.Fatalf("wrong counts: exit %d\n%s", code, out)
	}
	code, out, _ = paklog(t, "edi", "validate", "--json", fx+"ediengine__x12-940-control-number-mismatch.edi")
	var rep struct {
		Valid    bool     `json:"valid"`
		Problems []string `json:"problems"`
		Counts   struct {
			Sets int `json:"sets"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 || rep.Valid || len(rep.Problems) == 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, out)
	}
	if code, _, errOut := paklog(t, "edi", "validate", fx+"nope.edi"); code != 1 || !strings.Contains(errOut, "nope.edi") {
		t.Fatalf("missing file: exit %d %s", code, errOut)
	}
}

func TestEDITranslateAndParse(t *testing.T) {
	code, out, errOut := paklog(t, "edi", "translate", "--partner", "acme", fx+"ediengine__x12-850.edi")
	if code != 0 {
		t.Fatalf("translate: exit %d\n%s", code, errOut)
	}
	var o canonical.Order
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Source.Partner != "acme" || o.Source.Document != "850" || o.OrderNumber != "08292233294" || len(o.Lines) == 0 {
		t.Fatalf("translated order: %+v", o)
	}
	// A 940 without a ship-to cannot become an order: exit 1, every problem on stderr.
	code, _, errOut = paklog(t, "edi", "translate", fx+"ediengine__x12-940-small.edi")
	if code != 1 || !strings.Contains(errOut, "has no ship-to") {
		t.Fatalf("untranslatable 940: exit %d\n%s", code, errOut)
	}
	code, out, _ = paklog(t, "edi", "parse", fx+"nodex12__x12-850-two-interchanges.edi")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("parse: exit %d, %d sets\n%s", code, len(lines), out)
	}
	var ps struct {
		Set      string     `json:"set"`
		Segments [][]string `json:"segments"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &ps); err != nil || ps.Set != "850" || ps.Segments[0][0] != "ST" {
		t.Fatalf("parsed set: %v %+v", err, ps)
	}
}

func TestEDIRender(t *testing.T) {
	dir := t.TempDir()
	order := copyFile(t, "../../canonical/testdata/paklog.order.v1.valid.json", dir, "order.json")
	confirm := copyFile(t, "../../canonical/testdata/paklog.ship_confirm.v1.valid.json", dir, "confirm.json")
	for _, tc := range []struct {
		set  string
		args []string
		want []string
	}{
		{"856", []string{"--order", order, "--confirm", confirm}, []string{"GS*SH*", "ST*856*0007~", "HL*1**S*1~", "MAN*CP*"}},
		{"945", []string{"--order", order, "--confirm", confirm}, []string{"GS*SW*", "ST*945*0007~", "W06*"}},
		{"855", []string{"--order", order}, []string{"GS*PR*", "ST*855*0007~", "BAK*"}},
	} {
		t.Run(tc.set, func(t *testing.T) {
			args := append([]string{"edi", "render", "--set", tc.set, "--control", "7", "--receiver", "ZZ:ACME"}, tc.args...)
			code, out, errOut := paklog(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			for _, w := range append(tc.want, "*ZZ*ACME           *", "*000000007*0*P*") {
				if !strings.Contains(out, w) {
					t.Errorf("the %s lacks %q:\n%s", tc.set, w, out)
				}
			}
			// What the hub writes, the hub reads back as valid.
			rendered := writeFile(t, dir, "out.edi", out)
			if code, vout, _ := paklog(t, "edi", "validate", rendered); code != 0 {
				t.Fatalf("the rendered %s does not validate:\n%s", tc.set, vout)
			}
		})
	}
	if code, _, errOut := paklog(t, "edi", "render", "--set", "856", "--order", order); code != 1 || !strings.Contains(errOut, "--confirm") {
		t.Fatalf("856 without --confirm: exit %d %s", code, errOut)
	}
}

func copyFile(t *testing.T, from, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, string(b))
}

func TestEDIAck(t *testing.T) {
	set := "../../edi/x12/testdata/constructed/x12-940-set-errors.edi"
	code, out, errOut := paklog(t, "edi", "ack", set)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"ST*997*0001~", "AK1*OW*77~", "AK2*940*0002~\nAK3*W01*4*W01*8~\nAK4*1*330*6*4x~\nAK5*R*4*5~", "AK9*P*3*3*1~"} {
		if !strings.Contains(out, want) {
			t.Errorf("997 lacks %q:\n%s", want, out)
		}
	}
	_, out, _ = paklog(t, "edi", "ack", "--999", set)
	if !strings.Contains(out, "ST*999*0001*005010X231~") || !strings.Contains(out, "IK4*1*330*6*4x~") {
		t.Errorf("999:\n%s", out)
	}
	// An interchange whose control numbers disagree gets a TA1 rejection, no 997.
	_, out, _ = paklog(t, "edi", "ack", fx+"ediengine__x12-940-control-number-mismatch.edi")
	if !strings.Contains(out, "TA1*000003438*") || !strings.Contains(out, "*R*001~") || strings.Contains(out, "ST*997") {
		t.Errorf("TA1:\n%s", out)
	}
	// What the hub sends back validates.
	_, out, _ = paklog(t, "edi", "ack", set)
	if code, vout, _ := paklog(t, "edi", "validate", writeFile(t, t.TempDir(), "997.edi", out)); code != 0 {
		t.Fatalf("the 997 does not validate:\n%s", vout)
	}
}

// translate uses the partner's mapping from the configuration.
func TestEDITranslateUsesThePartnersMapping(t *testing.T) {
	cleanEnv(t)
	cfgPath := writeFile(t, t.TempDir(), "hub.yaml", "partners:\n  - name: acme\n    x12:\n      mapping:\n        sku_precedence: [CB, VN]\n")
	code, out, errOut := paklog(t, "edi", "translate", "--config", cfgPath, "--partner", "acme", fx+"ediengine__x12-850.edi")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var o canonical.Order
	if err := json.Unmarshal([]byte(out), &o); err != nil {
		t.Fatal(err)
	}
	if o.Lines[0].SKU != o.Lines[0].BuyerItem || o.Lines[0].SKU == o.Lines[0].VendorItem {
		t.Fatalf("with sku_precedence [BP, VN, VP] the SKU is the buyer's catalog number: %+v", o.Lines[0])
	}
}
