package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/fixtures/as2sim"
)

// as2PartnerConfig writes a hub.yaml with our AS2 identity and partner acme at url,
// whose certificate in the configuration is cert's.
func as2PartnerConfig(t *testing.T, ours as2sim.Identity, partnerID, url string, cert as2sim.Identity) string {
	t.Helper()
	cfg, _ := hubConfig(t)
	dir := filepath.Dir(cfg)
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hubCert := writeFile(t, dir, "hub.pem", string(ours.CertPEM()))
	hubKey := writeFile(t, dir, "hub.key", string(ours.KeyPEM()))
	acmeCert := writeFile(t, dir, "acme.pem", string(cert.CertPEM()))
	return writeFile(t, dir, "hub.yaml", string(b)+fmt.Sprintf(`as2:
  id: %s
  keys:
    - {cert: %s, key: {file: %s}}
partners:
  - name: acme
    as2: {id: %s, url: %q, certs: [%s], timeout: 20s}
`, ours.ID, hubCert, hubKey, partnerID, url, acmeCert))
}

// paklog partner test against an AS2 partner played by as2sim: a signed, encrypted
// test message is accepted and the signed MDN verified (exit 0). With a certificate
// in the configuration that is not the partner's, the partner cannot decrypt and
// the MDN does not verify: the send step fails naming the certificate to fix (exit
// 1). A URL where nothing listens fails the same step with advice about as2.url.
func TestPartnerTestAS2(t *testing.T) {
	cleanEnv(t)
	ours, err := as2sim.NewIdentity("PAKLOG-HUB", 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := as2sim.NewIdentity("ACME-AS2", 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := as2sim.NewIdentity("ACME-AS2", 365*24*time.Hour) // same id, another key pair
	if err != nil {
		t.Fatal(err)
	}
	partner, err := as2sim.Start(as2sim.Config{Self: theirs, Hub: ours.Peer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(partner.Close)

	code, out, errOut := paklog(t, "partner", "test", "acme", "--config", as2PartnerConfig(t, ours, theirs.ID, partner.URL(), theirs))
	if code != 0 || !strings.Contains(out, "PASS  certs") || !strings.Contains(out, "PASS  send") ||
		!strings.Contains(out, "automatic-action/MDN-sent-automatically; processed") || !strings.Contains(out, "All steps passed.") {
		t.Fatalf("partner test: exit %d\n%s%s", code, out, errOut)
	}
	got := partner.Received()
	if len(got) != 1 || !strings.HasPrefix(string(got[0].Payload), "paklog partner test ") || got[0].ContentType != "text/plain" {
		t.Fatalf("the partner received %+v", got)
	}

	for _, tc := range []struct {
		name, url string
		cert      as2sim.Identity
		advice    []string
	}{
		{"certificate not the partner's", partner.URL(), other,
			[]string{"FAIL  send", "partners[].as2.certs", "current certificate"}},
		{"nothing listens at the URL", "http://127.0.0.1:1/as2", theirs,
			[]string{"FAIL  send", "as2.url", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := paklog(t, "partner", "test", "acme", "--config", as2PartnerConfig(t, ours, theirs.ID, tc.url, tc.cert))
			if code != 1 || strings.Contains(out, "All steps passed.") {
				t.Errorf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, s := range tc.advice {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
	if n := len(partner.Received()); n != 1 {
		t.Errorf("the partner holds %d messages, want 1 (nothing it could read came from the failed tests)", n)
	}
}
