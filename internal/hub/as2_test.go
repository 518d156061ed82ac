package hub_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/router"
)

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A partner sends an 850 over AS2: the hub answers a signed MDN, the order reaches
// the core once, and the 997 and — when the order ships — the 856 go back to the
// partner over AS2 with their MDNs kept. A resent Message-ID gets the original MDN
// and no second order. A partner certificate that expires within the warning period
// shows on /readyz and in the expiry metric.
func TestAS2PartnerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ours, err := as2sim.NewIdentity("PAKLOG-HUB", 365*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := as2sim.NewIdentity("ACME-AS2", 10*24*time.Hour) // expires within the 30-day warning
	if err != nil {
		t.Fatal(err)
	}
	partner, err := as2sim.Start(as2sim.Config{Self: theirs, Hub: ours.Peer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(partner.Close)

	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(dir, "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	cfg.AS2 = config.AS2{ID: ours.ID, Keys: []config.AS2Key{{Cert: writeFile(t, dir, "hub.pem", ours.CertPEM()), Key: config.NewSecret(string(ours.KeyPEM()))}}}
	cfg.Partners = []config.Partner{{Name: "acme",
		X12:      config.X12Partner{ShipNotice: "856"},
		AS2:      config.AS2Partner{ID: theirs.ID, URL: partner.URL(), Certs: []string{writeFile(t, dir, "acme.pem", theirs.CertPEM())}},
		Outbound: config.Outbound{Via: config.ViaAS2}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fs := &fulfilsim.Sim{}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Register: fs.Register,
		Delivery: func(c *partners.DeliveryConfig) {
			c.Poll, c.Initial, c.Max = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped: %v", err)
		}
	})
	if err := partner.SetHubURL("http://" + h.Server.Addr() + "/as2"); err != nil {
		t.Fatal(err)
	}

	edi := read850(t)
	res, err := partner.Send(context.Background(), edi, "po-1001.edi")
	if err != nil {
		t.Fatalf("sending the 850: %v", err)
	}
	if !res.Disposition.OK() {
		t.Fatalf("MDN disposition %s", res.Disposition)
	}
	eventually(t, "the order in the core", 20*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == 1 })

	// A resend under the same Message-ID: the original MDN, no second order.
	again, err := partner.SendMessage(context.Background(), connas2.Message{Payload: edi, FileName: "po-1001.edi", MessageID: res.MessageID})
	if err != nil {
		t.Fatalf("resending: %v", err)
	}
	if string(again.MDN) != string(res.MDN) {
		t.Errorf("a resent Message-ID got a new MDN:\n%s\nwant the original:\n%s", again.MDN, res.MDN)
	}

	// The 997 and the 856 come back over AS2.
	got, err := partner.WaitFor(contextWithTimeout(t, 20*time.Second), 2)
	if err != nil {
		t.Fatalf("waiting for the 997 and the 856: %v (received %d)", err, len(partner.Received()))
	}
	sets := map[string]bool{}
	for _, r := range got {
		for _, s := range []string{"ST*997*", "ST*856*"} {
			if strings.Contains(string(r.Payload), s) {
				sets[s] = true
			}
		}
		if r.ContentType != "application/edi-x12" {
			t.Errorf("%s sent as %s", r.Filename, r.ContentType)
		}
	}
	if !sets["ST*997*"] || !sets["ST*856*"] {
		t.Errorf("the partner received %d messages without a 997 and an 856", len(got))
	}
	time.Sleep(100 * time.Millisecond)
	if n := count(t, h.Store, router.TopicFulfilmentOrders); n != 1 {
		t.Errorf("fulfilment.orders holds %d, want 1", n)
	}
	var kept int
	if err := h.Store.ReadDB().QueryRow(`SELECT COUNT(*) FROM as2_sent WHERE partner = 'acme' AND status = 'delivered' AND length(mdn) > 0`).Scan(&kept); err != nil || kept != 2 {
		t.Errorf("%d sent messages with their MDN kept, want 2 (%v)", kept, err)
	}
	var mdns int
	if err := h.Store.ReadDB().QueryRow(`SELECT COUNT(*) FROM as2_mdns WHERE partner = 'acme'`).Scan(&mdns); err != nil || mdns != 1 {
		t.Errorf("%d MDNs kept for what the partner sent, want 1 (%v)", mdns, err)
	}
	ready := readyz(t, h)
	if got := ready[`as2 certificate acme "ACME-AS2"`]; !strings.HasPrefix(got, "expires in ") {
		t.Errorf("/readyz certificate detail = %q (all: %v)", got, ready)
	}
	if m := scrape(t, h); !regexp.MustCompile(`paklog_as2_certificate_expiry_seconds\{owner="acme",serial="\d+",subject="ACME-AS2"\} 8\d{5}`).MatchString(m) {
		t.Errorf("no expiry metric:\n%s", grep(m, "paklog_as2"))
	}
}

func contextWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
