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
	h := startAS2Hub(t, "async", func(c *config.Config) {
		c.Partners[0].AS2.AsyncMDNTimeout, c.Partners[0].AS2.Timeout = config.Duration(time.Second), config.Duration(time.Second)
	}, 2)
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
	// The parked delivery's DLQ message is stored by the dlq consumer shortly after.
	var es []dlq.Entry
	var err error
	eventually(t, "the DLQ entry", 10*time.Second, func() bool {
		es, err = h.DLQ.List(context.Background(), dlq.Filter{Status: dlq.StatusOpen})
		return err != nil || len(es) > 0
	})
	if err != nil || len(es) != 1 || !strings.Contains(es[0].Reason, "sent no MDN") || !strings.Contains(es[0].Reason, "as2.receipt_url") {
		t.Fatalf("DLQ entries %+v (%v), want one naming the missing MDN", es, err)
	}
	if s := sentRows(t, h.Hub); len(s) != 1 || !strings.HasPrefix(s[0].status, "failed: ") || len(s[0].mdn) != 0 {
		t.Errorf("as2_sent %+v", s)
	}
	if n := pendingCount(t, h.Hub); n != 0 {
		t.Errorf("as2_pending holds %d, want 0", n)
	}
	// The Message-ID cannot be guessed from the file name: a random part, kept
	// with the delivery, so that the resend above reused it.
	var mid string
	if err := h.Store.ReadDB().QueryRow(`SELECT message_id FROM as2_sent WHERE partner = 'acme'`).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^<997_[0-9]+\.edi\.acme\.[0-9a-f]{24}@`).MatchString(mid) {
		t.Errorf("Message-ID %s; want the file name, the partner and 24 random hex digits", mid)
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
	mdn, _ := o.postWith(t, h, entity, id, postOptions{text: text})
	return mdn
}

// postOptions vary what opensslAS2.postWith sends.
type postOptions struct {
	text bool
	// tamper changes the signed S/MIME entity before it is encrypted.
	tamper func(signed []byte) []byte
	// recipient is the certificate file encrypted to (default "us.crt").
	recipient string
	// unsignedMDN: the hub cannot sign the MDN (it does not know the sender).
	unsignedMDN bool
}

// postWith is post with options; it also returns the body POSTed.
func (o opensslAS2) postWith(t *testing.T, h *hub.Hub, entity []byte, id string, opt postOptions) (*edias2.MDN, []byte) {
	t.Helper()
	as2test.WriteFile(t, o.dir, "entity.txt", entity)
	args := []string{"cms", "-sign", "-md", "sha256", "-in", "entity.txt", "-signer", "them.crt", "-inkey", "them.key"}
	if !opt.text {
		args = append(args, "-binary")
	}
	signed := as2test.OpenSSL(t, o.dir, nil, args...)
	if opt.tamper != nil {
		signed = opt.tamper(signed)
	}
	as2test.WriteFile(t, o.dir, "signed.eml", signed)
	if opt.recipient == "" {
		opt.recipient = "us.crt"
	}
	der := as2test.OpenSSL(t, o.dir, nil, "cms", "-encrypt", "-binary", "-aes128", "-outform", "DER", "-in", "signed.eml", opt.recipient)
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
		return &edias2.Partner{ID: o.hubID, Certs: []*x509.Certificate{o.hubCert}, MDN: edias2.MDNRequest{Signed: !opt.unsignedMDN}}, &edias2.Identity{ID: o.from}, nil
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
	return mdn, der
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

// refusalCase is an inbound AS2 message the hub must refuse, built with openssl.
type refusalCase struct {
	name       string
	signer     as2sim.Identity // signs the message
	configured as2sim.Identity // acme's certificate in the hub's configuration
	from       string          // AS2-From
	opt        postOptions
	modifier   edias2.Modifier
	partner    string   // the hub partner the DLQ entry names; "" when unknown
	reason     []string // what the DLQ reason must say
}

// refusalCases are the hub's identity and the messages it must refuse, with the
// certificates they are signed and encrypted with.
func refusalCases(t *testing.T) (ours as2sim.Identity, cases []refusalCase) {
	ours, theirs := as2Identities(t)
	now := time.Now()
	expiredKey := as2test.RSAKey(t, 0)
	expired := as2sim.Identity{ID: theirs.ID, Key: expiredKey,
		Cert: as2test.SelfSigned(t, theirs.ID, expiredKey, 4130, now.AddDate(-1, 0, 0), now.AddDate(0, 0, -1))}
	renewedKey := as2test.RSAKey(t, 1)
	renewed := as2sim.Identity{ID: theirs.ID, Key: renewedKey,
		Cert: as2test.SelfSigned(t, theirs.ID, renewedKey, 0x4131, now.Add(-time.Hour), now.AddDate(1, 0, 0))}
	tamper := func(signed []byte) []byte {
		out := bytes.Replace(signed, []byte("SMALL WIDGET"), []byte("LARGE WIDGET"), 1)
		if bytes.Equal(out, signed) {
			t.Fatal("nothing to tamper with in the signed entity")
		}
		return out
	}
	return ours, []refusalCase{
		{"unknown partner", theirs, theirs, "STRANGER-AS2", postOptions{unsignedMDN: true}, edias2.AuthenticationFailed, "",
			[]string{`no partner has as2.id "STRANGER-AS2"`, "add it under partners[]", "replay this entry"}},
		// Encrypted to a certificate of "ours" (serial 77 = 4d) whose key the hub does not hold.
		{"wrong key", theirs, theirs, theirs.ID, postOptions{recipient: "other.crt"}, edias2.DecryptionFailed, "acme",
			[]string{"no key matches recipient", "serial=4d", "as2.keys"}},
		{"tampered payload", theirs, theirs, theirs.ID, postOptions{tamper: tamper}, edias2.IntegrityCheckFailed, "acme",
			[]string{"altered after the partner signed it", "ask the partner to resend"}},
		{"certificate not configured", renewed, theirs, theirs.ID, postOptions{}, edias2.AuthenticationFailed, "acme",
			[]string{`issuer="CN=ACME-AS2,O=PakLog test" serial=4131`, "partners[].as2.certs of partner acme", "replay this entry"}},
		{"expired certificate", expired, expired, theirs.ID, postOptions{}, edias2.AuthenticationFailed, "acme",
			[]string{"is valid from", "renewed certificate", "partners[].as2.certs of partner acme"}},
	}
}

// post POSTs tc's message to the hub, checks the negative MDN and returns the body sent.
func (tc refusalCase) post(t *testing.T, h *hub.Hub, dir string, ours as2sim.Identity, id string) []byte {
	t.Helper()
	as2test.WriteKeyPair(t, dir, "them", tc.signer.Cert, tc.signer.Key)
	as2test.WriteFile(t, dir, "us.crt", ours.CertPEM())
	as2test.WriteFile(t, dir, "other.crt", as2test.CertPEM(as2test.SelfSigned(t, ours.ID, as2test.RSAKey(t, 2), 77, time.Now().Add(-time.Hour), time.Now().AddDate(1, 0, 0))))
	o := opensslAS2{dir: dir, hubID: ours.ID, from: tc.from, hubCert: ours.Cert}
	entity := append([]byte("Content-Type: application/edi-x12\r\n\r\n"), read850(t)...)
	mdn, body := o.postWith(t, h, entity, id, tc.opt)
	want := "automatic-action/MDN-sent-automatically; processed/Error: " + string(tc.modifier)
	if got := mdn.Disposition.String(); got != want {
		t.Fatalf("disposition %q, want %q\n%s", got, want, mdn.Text)
	}
	return body
}

// refusalEntry waits for the one DLQ entry of a refused message and returns it.
func refusalEntry(t *testing.T, h *hub.Hub) dlq.Entry {
	t.Helper()
	list := func() []dlq.Entry {
		es, err := h.DLQ.List(context.Background(), dlq.Filter{Handler: partners.HandlerAS2Receive})
		if err != nil {
			t.Fatal(err)
		}
		return es
	}
	eventually(t, "the refusal's DLQ entry", 10*time.Second, func() bool { return len(list()) > 0 })
	time.Sleep(200 * time.Millisecond)
	es := list()
	if len(es) != 1 {
		t.Fatalf("%d DLQ entries, want 1: %+v", len(es), es)
	}
	e, err := h.DLQ.Get(context.Background(), es[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Each message the receiver refuses gets its negative MDN and exactly one DLQ
// entry an operator can act on: who sent it, its Message-ID, the disposition sent,
// the reason with what to do, and the request as received (header, then the body
// byte for byte) for a replay. No order results.
func TestAS2RefusalsParked(t *testing.T) {
	as2test.RequireOpenSSL(t)
	ours, cases := refusalCases(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, tc.configured, "http://127.0.0.1:1/as2", "sync")
			cfg.Partners[0].Outbound = config.Outbound{}
			h := runAS2Hub(t, cfg, 3)
			body := tc.post(t, h.Hub, dir, ours, "<refused-1@acme>")
			e := refusalEntry(t, h.Hub)
			t.Logf("DLQ reason: %s", e.Reason)
			md := e.Metadata
			want := map[string]string{
				router.MetaPartner: tc.partner, "as2_message_id": "<refused-1@acme>", "as2_from": tc.from, "as2_to": ours.ID,
				partners.MetaAS2Disposition: "automatic-action/MDN-sent-automatically; processed/Error: " + string(tc.modifier),
				partners.MetaAS2MDNDelivery: "sync", partners.MetaAS2Replayable: "yes", partners.MetaAS2HTTPStatus: "200",
			}
			for k, v := range want {
				if md[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, md[k], v)
				}
			}
			if e.Handler != partners.HandlerAS2Receive || e.Topic != partners.TopicAS2Receive || e.ErrorClass != "validation" || e.Status != dlq.StatusOpen {
				t.Errorf("entry %s/%s class %s status %s", e.Handler, e.Topic, e.ErrorClass, e.Status)
			}
			for _, s := range append([]string{"<refused-1@acme>", "processed/Error: " + string(tc.modifier), "What to do: "}, tc.reason...) {
				if !strings.Contains(e.Reason, s) {
					t.Errorf("reason lacks %q:\n%s", s, e.Reason)
				}
			}
			if !bytes.HasSuffix(e.Payload, append([]byte("\r\n\r\n"), body...)) || !bytes.Contains(e.Payload, []byte("As2-From: "+tc.from+"\r\n")) ||
				!bytes.Contains(e.Payload, []byte("Message-Id: <refused-1@acme>\r\n")) {
				t.Errorf("the entry's payload is not the request as received:\n%.400q", e.Payload)
			}
			if n := count(t, h.Store, router.InboundTopic("edi")); n != 0 {
				t.Errorf("%d inbound.edi messages, want none", n)
			}
			if n := count(t, h.Store, router.TopicFulfilmentOrders); n != 0 {
				t.Errorf("fulfilment.orders holds %d, want 0", n)
			}
		})
	}
}

// A partner signs with a new certificate the hub does not know yet: refused and
// parked. Replayed before the certificate is imported, the entry reopens with the
// new refusal; after the certificate is added and the hub restarted, the replay is
// accepted: exactly one order, the processed MDN kept (not sent: the original
// asked for a synchronous one), which the partner gets when it resends the
// Message-ID. Replaying again takes nothing twice.
func TestAS2RefusalReplay(t *testing.T) {
	as2test.RequireOpenSSL(t)
	ours, cases := refusalCases(t)
	tc := cases[3]
	if tc.name != "certificate not configured" {
		t.Fatalf("case %q", tc.name)
	}
	dir := t.TempDir()
	cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, tc.configured, "http://127.0.0.1:1/as2", "sync")
	cfg.Partners[0].Outbound = config.Outbound{}
	h := runAS2Hub(t, cfg, 3)
	const id = "<renewed-1@acme>"
	tc.post(t, h.Hub, dir, ours, id)
	e := refusalEntry(t, h.Hub)
	ctx := context.Background()

	if _, err := h.DLQ.Replay(ctx, e.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replay refused again", 10*time.Second, func() bool {
		got, err := h.DLQ.Get(ctx, e.ID)
		return err == nil && got.Status == dlq.StatusOpen && got.TimesFailed == 2
	})
	again, _ := h.DLQ.Get(ctx, e.ID)
	if !strings.HasPrefix(again.Reason, "Replayed with the current configuration and refused again") || !strings.Contains(again.Reason, "serial=4131") {
		t.Errorf("reopened entry's reason:\n%s", again.Reason)
	}

	// Import the partner's new certificate and restart on the same database.
	h.stop()
	fixed := h.cfg
	fixed.Partners = append([]config.Partner(nil), h.cfg.Partners...)
	fixed.Partners[0].AS2.Certs = append(append([]string(nil), fixed.Partners[0].AS2.Certs...), writeFile(t, dir, "acme-2.pem", tc.signer.CertPEM()))
	h2 := runAS2Hub(t, fixed, 3)
	if _, err := h2.DLQ.Replay(ctx, e.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replayed order in the core", 20*time.Second, func() bool { return count(t, h2.Store, router.TopicFulfilmentOrders) == 1 })
	got, err := h2.DLQ.Get(ctx, e.ID)
	if err != nil || got.Status != dlq.StatusReplayed {
		t.Fatalf("entry after a successful replay: %s (%v)\n%s", got.Status, err, got.Reason)
	}
	var status, disposition string
	if err := h2.Store.ReadDB().QueryRow(`SELECT status, disposition FROM as2_mdns WHERE partner = 'acme' AND message_id = ?`, id).Scan(&status, &disposition); err != nil ||
		status != "not-sent" || !strings.HasSuffix(disposition, "; processed") {
		t.Errorf("kept MDN %q %q (%v), want a processed one, not sent", status, disposition, err)
	}

	// A forced second replay is a duplicate; the partner's resend gets the kept MDN.
	if _, err := h2.DLQ.Replay(ctx, e.ID, true); err != nil {
		t.Fatal(err)
	}
	o := opensslAS2{dir: dir, hubID: ours.ID, from: tc.from, hubCert: ours.Cert}
	mdn := o.post(t, h2.Hub, append([]byte("Content-Type: application/edi-x12\r\n\r\n"), read850(t)...), false, id)
	if !mdn.Disposition.OK() {
		t.Errorf("the resend got %s", mdn.Disposition)
	}
	time.Sleep(time.Second)
	if n := count(t, h2.Store, router.TopicFulfilmentOrders); n != 1 {
		t.Errorf("fulfilment.orders holds %d, want 1", n)
	}
	if got, _ := h2.DLQ.Get(ctx, e.ID); got.Status != dlq.StatusReplayed {
		t.Errorf("entry reopened by the second replay: %s", got.Reason)
	}
}
