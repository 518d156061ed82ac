package hub_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	"github.com/paklog/integration-hub/dlq"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/as2test"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/router"
)

func writeFile(t testing.TB, dir, name string, data []byte) string {
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

// as2Hub is a hub with one AS2 partner, "acme", played by as2sim.
type as2Hub struct {
	*hub.Hub
	partner *as2sim.Partner
	cfg     config.Config
	stop    func() // stops the hub (once); also run at cleanup
}

// newAS2Config is the configuration of a hub at addr (SQLite in dir) whose partner
// acme is asked for MDNs as mdn says.
func newAS2Config(t testing.TB, dir, addr string, ours, theirs as2sim.Identity, partnerURL, mdn string) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(dir, "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = addr
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	cfg.AS2 = config.AS2{ID: ours.ID, Keys: []config.AS2Key{{Cert: writeFile(t, dir, "hub.pem", ours.CertPEM()), Key: config.NewSecret(string(ours.KeyPEM()))}}}
	cfg.Partners = []config.Partner{{Name: "acme",
		AS2:      config.AS2Partner{ID: theirs.ID, URL: partnerURL, Certs: []string{writeFile(t, dir, "acme.pem", theirs.CertPEM())}, MDN: mdn},
		Outbound: config.Outbound{Via: config.ViaAS2}}}
	if mdn == "async" {
		cfg.AS2.ReceiptURL = "http://" + addr + "/as2"
	}
	return cfg
}

// runAS2Hub starts a hub for cfg with quick delivery retries (attempts as given).
func runAS2Hub(t testing.TB, cfg config.Config, attempts int) *as2Hub {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Delivery: func(c *partners.DeliveryConfig) {
		c.Poll, c.Initial, c.Max, c.Attempts = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, attempts
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("hub stopped: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return &as2Hub{Hub: h, cfg: cfg, stop: stop}
}

// startAS2Hub starts as2sim's acme and a hub that asks it for MDNs as mdn says.
func startAS2Hub(t *testing.T, mdn string, adjust func(*config.Config), attempts int) *as2Hub {
	t.Helper()
	dir := t.TempDir()
	ours, theirs := as2Identities(t)
	partner, err := as2sim.Start(as2sim.Config{Self: theirs, Hub: ours.Peer()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(partner.Close)
	cfg := newAS2Config(t, dir, freeAddr(t), ours, theirs, partner.URL(), mdn)
	if adjust != nil {
		adjust(&cfg)
	}
	h := runAS2Hub(t, cfg, attempts)
	h.partner = partner
	if err := partner.SetHubURL("http://" + h.Server.Addr() + "/as2"); err != nil {
		t.Fatal(err)
	}
	return h
}

var (
	as2IDsOnce         sync.Once
	as2Ours, as2Theirs as2sim.Identity
	as2IDsErr          error
)

// as2Identities are the hub's and acme's key pairs, made once per test binary.
func as2Identities(t testing.TB) (ours, theirs as2sim.Identity) {
	t.Helper()
	as2IDsOnce.Do(func() {
		if as2Ours, as2IDsErr = as2sim.NewIdentity("PAKLOG-HUB", 365*24*time.Hour); as2IDsErr == nil {
			as2Theirs, as2IDsErr = as2sim.NewIdentity("ACME-AS2", 365*24*time.Hour)
		}
	})
	if as2IDsErr != nil {
		t.Fatal(as2IDsErr)
	}
	return as2Ours, as2Theirs
}

// sent is the as2_sent row of the partner's only message, and whether there is one.
type sentRow struct {
	status, disposition, header, deliveryID string
	mdn                                     []byte
}

func sentRows(t testing.TB, h *hub.Hub) []sentRow {
	t.Helper()
	rows, err := h.Store.ReadDB().Query(`SELECT status, disposition, mdn_header, delivery_id, mdn FROM as2_sent WHERE partner = 'acme' ORDER BY sent_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []sentRow
	for rows.Next() {
		var r sentRow
		if err := rows.Scan(&r.status, &r.disposition, &r.header, &r.deliveryID, &r.mdn); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

func deliveryStates(t testing.TB, h *hub.Hub) []partners.DeliveryState {
	t.Helper()
	ds, err := h.Delivery.Deliveries(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func pendingCount(t testing.TB, h *hub.Hub) int {
	t.Helper()
	var n int
	if err := h.Store.ReadDB().QueryRow(`SELECT COUNT(*) FROM as2_pending`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// awaitHeldMDN sends the partner's 850 and waits until the hub's 997 reached the
// partner and its asynchronous MDN is held back there, the delivery awaiting it.
func awaitHeldMDN(t *testing.T, h *as2Hub) {
	t.Helper()
	h.partner.SetMDNMode(as2sim.MDNHold)
	if _, err := h.partner.Send(context.Background(), read850(t), "po-1001.edi"); err != nil {
		t.Fatalf("sending the 850: %v", err)
	}
	eventually(t, "the 997's MDN held by the partner", 20*time.Second, func() bool { return h.partner.Held() == 1 })
	eventually(t, "the delivery awaiting its receipt", 5*time.Second, func() bool {
		ds := deliveryStates(t, h.Hub)
		return len(ds) == 1 && ds[0].State == partners.StateAwaiting
	})
	if s := sentRows(t, h.Hub); len(s) != 1 || s[0].status != string(connas2.StatusPendingMDN) || len(s[0].mdn) != 0 || s[0].deliveryID == "" {
		t.Fatalf("as2_sent before the MDN: %+v", s)
	}
	if n := pendingCount(t, h.Hub); n != 1 {
		t.Fatalf("as2_pending holds %d, want 1", n)
	}
}

// assertDeliveredByMDN checks that the 997's delivery was settled by a positive
// MDN, kept raw with its header.
func assertDeliveredByMDN(t *testing.T, h *hub.Hub) {
	t.Helper()
	eventually(t, "the delivery recorded delivered", 10*time.Second, func() bool {
		ds := deliveryStates(t, h)
		return len(ds) == 1 && ds[0].State == partners.StateDelivered
	})
	s := sentRows(t, h)
	if len(s) != 1 || s[0].status != string(connas2.StatusDelivered) || !strings.HasSuffix(s[0].disposition, "processed") ||
		!strings.Contains(string(s[0].mdn), "Received-Content-MIC") || !strings.Contains(s[0].header, "multipart/signed") {
		t.Fatalf("as2_sent after the MDN: %+v", s)
	}
	if ds := deliveryStates(t, h); ds[0].Attempts != 1 || !strings.Contains(ds[0].RemotePath, "processed") {
		t.Errorf("delivery %+v, want 1 attempt and the disposition in its remote path", ds[0])
	}
	if n := pendingCount(t, h); n != 0 {
		t.Errorf("as2_pending holds %d after the MDN, want 0", n)
	}
}

// The 997 goes back asking for an asynchronous MDN: the delivery awaits it (not
// delivered yet), and when the partner POSTs the MDN to /as2 later, the hub
// answers 200, records the delivery delivered and keeps the raw MDN.
func TestAS2AsyncMDN(t *testing.T) {
	h := startAS2Hub(t, "async", func(c *config.Config) { c.Partners[0].AS2.AsyncMDNTimeout = config.Duration(time.Minute) }, 3)
	awaitHeldMDN(t, h)
	time.Sleep(200 * time.Millisecond) // nothing settles it meanwhile
	if ds := deliveryStates(t, h.Hub); ds[0].State != partners.StateAwaiting {
		t.Fatalf("delivery %+v before the MDN came", ds[0])
	}
	codes, err := h.partner.ReleaseMDNs(context.Background())
	if err != nil || len(codes) != 1 || codes[0] != 200 {
		t.Fatalf("posting the MDN to the hub: %v %v", codes, err)
	}
	assertDeliveredByMDN(t, h.Hub)
	if got := h.partner.Received(); len(got) != 1 || !strings.Contains(string(got[0].Payload), "ST*997*") {
		t.Errorf("the partner received %d messages", len(got))
	}
}

// A partner whose MDNs never arrive: after async_mdn_timeout the 997 is resent under
// the same Message-ID (the partner keeps it once), and when the delivery's attempts
// are used up it is parked in the DLQ with the reason.
func TestAS2AsyncMDNNeverArrives(t *testing.T) {
	h := startAS2Hub(t, "async", func(c *config.Config) { c.Partners[0].AS2.AsyncMDNTimeout = config.Duration(time.Second) }, 2)
	h.partner.SetMDNMode(as2sim.MDNDrop)
	if _, err := h.partner.Send(context.Background(), read850(t), "po-1001.edi"); err != nil {
		t.Fatalf("sending the 850: %v", err)
	}
	eventually(t, "the delivery parked", 20*time.Second, func() bool {
		ds := deliveryStates(t, h.Hub)
		return len(ds) == 1 && ds[0].State == partners.StateParked
	})
	ds := deliveryStates(t, h.Hub)
	if ds[0].Attempts != 2 || !strings.Contains(ds[0].LastError, "asynchronous MDN overdue") {
		t.Errorf("parked delivery %+v, want 2 attempts and the overdue MDN as the reason", ds[0])
	}
	// Sent twice (the 850 is the partner's own POST to the hub, not counted there),
	// under one Message-ID: the partner has it once.
	if n := h.partner.Requests(); n != 2 {
		t.Errorf("the partner got %d POSTs, want 2 (a send and a resend)", n)
	}
	if got := h.partner.Received(); len(got) != 1 {
		t.Errorf("the partner holds %d messages, want 1 (the resend is a duplicate)", len(got))
	}
	es, err := h.DLQ.List(context.Background(), dlq.Filter{Status: dlq.StatusOpen})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Reason, "sent no MDN") || !strings.Contains(es[0].Reason, "as2.receipt_url") {
		t.Fatalf("DLQ entries %+v (%v), want one naming the missing MDN", es, err)
	}
	if s := sentRows(t, h.Hub); len(s) != 1 || !strings.HasPrefix(s[0].status, "failed: ") || len(s[0].mdn) != 0 {
		t.Errorf("as2_sent %+v", s)
	}
	if n := pendingCount(t, h.Hub); n != 0 {
		t.Errorf("as2_pending holds %d, want 0", n)
	}
}

// The hub stops while the 997's MDN is outstanding; a new hub process on the same
// database and address matches the MDN that arrives after the restart.
func TestAS2AsyncMDNAfterRestart(t *testing.T) {
	h := startAS2Hub(t, "async", func(c *config.Config) { c.Partners[0].AS2.AsyncMDNTimeout = config.Duration(time.Minute) }, 3)
	awaitHeldMDN(t, h)
	h.stop()

	again := runAS2Hub(t, h.cfg, 3)
	codes, err := h.partner.ReleaseMDNs(context.Background())
	if err != nil || len(codes) != 1 || codes[0] != 200 {
		t.Fatalf("posting the MDN to the restarted hub: %v %v", codes, err)
	}
	assertDeliveredByMDN(t, again.Hub)
}

// opensslAS2 builds inbound AS2 messages with openssl cms, the independent peer,
// as a partner with the key pair in dir ("them.crt", "them.key") to the hub
// ("us.crt"), and POSTs them to the hub's /as2 asking for a signed synchronous MDN.
type opensslAS2 struct {
	dir         string
	hubID, from string
	hubCert     *x509.Certificate
}

// post signs entity (in text mode, canonicalising to CRLF but writing LF, when
// text), encrypts it with AES-128-CBC, POSTs it and returns the hub's MDN, verified.
func (o opensslAS2) post(t *testing.T, h *hub.Hub, entity []byte, text bool, id string) *edias2.MDN {
	t.Helper()
	as2test.WriteFile(t, o.dir, "entity.txt", entity)
	args := []string{"cms", "-sign", "-md", "sha256", "-in", "entity.txt", "-signer", "them.crt", "-inkey", "them.key"}
	if !text {
		args = append(args, "-binary")
	}
	as2test.WriteFile(t, o.dir, "signed.eml", as2test.OpenSSL(t, o.dir, nil, args...))
	der := as2test.OpenSSL(t, o.dir, nil, "cms", "-encrypt", "-binary", "-aes128", "-outform", "DER", "-in", "signed.eml", "us.crt")
	req, err := http.NewRequest(http.MethodPost, "http://"+h.Server.Addr()+"/as2", bytes.NewReader(der))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"Content-Type": `application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"`, "MIME-Version": "1.0",
		"AS2-Version": "1.2", "AS2-From": o.from, "AS2-To": o.hubID, "Message-ID": id,
		"Disposition-Notification-To":      "mdn@acme.example",
		"Disposition-Notification-Options": "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, sha-256",
	} {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /as2: %d %v\n%s", resp.StatusCode, err, body)
	}
	recv, err := edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(func(context.Context, string, string) (*edias2.Partner, *edias2.Identity, error) {
		return &edias2.Partner{ID: o.hubID, Certs: []*x509.Certificate{o.hubCert}, MDN: edias2.MDNRequest{Signed: true}}, &edias2.Identity{ID: o.from}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	mdn, err := recv.ParseMDN(context.Background(), resp.Header, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("the hub's MDN does not verify: %v\n%s", err, body)
	}
	if mdn.OriginalMessageID != id {
		t.Fatalf("MDN answers %s, want %s", mdn.OriginalMessageID, id)
	}
	return mdn
}

// Messages built by openssl as the partner, through the hub's real /as2, each with
// the MDN it must produce and whether an order results.
func TestAS2ReceiverEdgeCases(t *testing.T) {
	as2test.RequireOpenSSL(t)
	ours, theirs := as2Identities(t)
	// The partner's certificate expired yesterday; the hub still lists it.
	expiredKey := as2test.RSAKey(t, 0)
	expired := as2sim.Identity{ID: theirs.ID, Key: expiredKey,
		Cert: as2test.SelfSigned(t, theirs.ID, expiredKey, 4130, time.Now().AddDate(-1, 0, 0), time.Now().AddDate(0, 0, -1))}
	edi := read850(t)
	// 8-bit bytes (Latin-1 "é") in the payload, and no Content-Transfer-Encoding:
	// the signed entity is binary and must reach the intake byte for byte.
	binary := bytes.Replace(edi, []byte("SMALL WIDGET"), []byte("SMALL WIDGET CAF\xc9 \xff"), 1)

	for _, tc := range []struct {
		name    string
		partner as2sim.Identity
		entity  []byte
		text    bool
		// what the MDN must say, and the payload the intake must hold (nil: nothing)
		disposition string
		reason      string
		committed   []byte
		orders      int
	}{
		// Authentication-failed, naming the certificate's validity and what to do:
		// nothing is committed, so a resend signed with a renewed certificate is
		// processed afresh under the same Message-ID.
		{"expired partner certificate", expired, append([]byte("Content-Type: application/edi-x12\r\n\r\n"), edi...), false,
			"automatic-action/MDN-sent-automatically; processed/Error: authentication-failed", "renewed certificate", nil, 0},
		{"binary payload without Content-Transfer-Encoding", theirs, append([]byte("Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename=po.edi\r\n\r\n"), binary...), false,
			"automatic-action/MDN-sent-automatically; processed", "", binary, 1},
		// openssl in text mode signs the CRLF form and writes LF: the signature
		// verifies over the canonical form, which is what the intake gets.
		{"LF-only line endings in the signed part", theirs, append([]byte("Content-Type: application/edi-x12\n\n"), edi...), true,
			"automatic-action/MDN-sent-automatically; processed", "", bytes.ReplaceAll(edi, []byte("\n"), []byte("\r\n")), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, tc.partner, "http://127.0.0.1:1/as2", "sync")
			cfg.Partners[0].Outbound = config.Outbound{} // nothing goes back in this test
			h := runAS2Hub(t, cfg, 3)
			as2test.WriteKeyPair(t, dir, "them", tc.partner.Cert, tc.partner.Key)
			as2test.WriteFile(t, dir, "us.crt", ours.CertPEM())
			o := opensslAS2{dir: dir, hubID: ours.ID, from: theirs.ID, hubCert: ours.Cert}
			mdn := o.post(t, h.Hub, tc.entity, tc.text, "<edge-1@acme>")
			if got := mdn.Disposition.String(); got != tc.disposition {
				t.Fatalf("disposition %q, want %q\n%s", got, tc.disposition, mdn.Text)
			}
			if !strings.Contains(mdn.Text, tc.reason) {
				t.Errorf("MDN text lacks %q:\n%s", tc.reason, mdn.Text)
			}
			if tc.committed == nil {
				time.Sleep(100 * time.Millisecond)
				if n := count(t, h.Store, router.InboundTopic("edi")); n != 0 {
					t.Errorf("%d inbound.edi messages, want none", n)
				}
				if !mdn.MIC.IsZero() {
					t.Errorf("a refusal carries MIC %s", mdn.MIC)
				}
			} else {
				// Our MIC is openssl's digest of the exact bytes it signed (the CRLF
				// form in text mode).
				signed := tc.entity
				if tc.text {
					signed = bytes.ReplaceAll(signed, []byte("\n"), []byte("\r\n"))
				}
				as2test.WriteFile(t, dir, "canon.txt", signed)
				if want := as2test.Digest(t, dir, "canon.txt", "sha256") + ", sha-256"; mdn.MIC.String() != want {
					t.Errorf("Received-Content-MIC %q, openssl dgst %q", mdn.MIC, want)
				}
				var payload []byte
				if err := h.Store.ReadDB().QueryRow(`SELECT payload FROM ` + h.Store.MessagesTable(router.InboundTopic("edi"))).Scan(&payload); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(payload, tc.committed) {
					t.Errorf("committed payload differs from what was signed:\n%q\nwant\n%q", payload, tc.committed)
				}
			}
			if tc.orders > 0 {
				eventually(t, "the order in the core", 20*time.Second, func() bool { return count(t, h.Store, router.TopicFulfilmentOrders) == tc.orders })
			}
			time.Sleep(200 * time.Millisecond)
			if n := count(t, h.Store, router.TopicFulfilmentOrders); n != tc.orders {
				t.Errorf("fulfilment.orders holds %d, want %d", n, tc.orders)
			}
		})
	}
}
