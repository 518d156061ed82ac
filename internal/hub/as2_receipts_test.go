package hub_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"database/sql"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	"github.com/paklog/integration-hub/dlq"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/fixtures/as2sim"
	"github.com/paklog/integration-hub/internal/as2test"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// receipt is one MDN the hub POSTed to the partner's receipt URL.
type receipt struct {
	mdn *edias2.MDN // verified with the hub's certificate
	err error       // why it did not verify
	// inbound is how many inbound.edi messages the hub's store held when the MDN
	// arrived (-1 when not checked): a positive MDN must follow the commit.
	inbound int
}

// receiptURL is the partner's asynchronous MDN endpoint, on an address that
// refuses connections until up is called. Each MDN is verified as the partner's
// AS2 software would: the hub's signature, then the fields.
type receiptURL struct {
	addr   string
	verify *edias2.Receiver
	// store, when set, is read at each arrival (receipt.inbound).
	store *store.Store

	mu  sync.Mutex
	got []receipt
}

func newReceiptURL(t *testing.T, ours as2sim.Identity, partnerID string) *receiptURL {
	t.Helper()
	hubPeer := &edias2.Partner{ID: ours.ID, Certs: []*x509.Certificate{ours.Cert}, MDN: edias2.MDNRequest{Signed: true}}
	v, err := edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(func(context.Context, string, string) (*edias2.Partner, *edias2.Identity, error) {
		return hubPeer, &edias2.Identity{ID: partnerID}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return &receiptURL{addr: freeAddr(t), verify: v}
}

func (r *receiptURL) URL() string { return "http://" + r.addr + "/mdn" }

// up starts answering at the address, until the test ends.
func (r *receiptURL) up(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", r.addr)
	if err != nil {
		t.Fatalf("the receipt URL's address %s: %v", r.addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		rc := receipt{inbound: -1}
		rc.mdn, rc.err = r.verify.ParseMDN(req.Context(), req.Header, bytes.NewReader(body))
		r.mu.Lock()
		st := r.store
		r.mu.Unlock()
		if st != nil {
			// Not count(): t.Fatal belongs to the test's goroutine.
			if err := st.ReadDB().QueryRow(`SELECT COUNT(*) FROM ` + st.MessagesTable(router.InboundTopic("edi"))).Scan(&rc.inbound); err != nil {
				rc.inbound, rc.err = -2, err
			}
		}
		r.mu.Lock()
		r.got = append(r.got, rc)
		r.mu.Unlock()
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
}

func (r *receiptURL) watch(st *store.Store) {
	r.mu.Lock()
	r.store = st
	r.mu.Unlock()
}

func (r *receiptURL) list() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receipt(nil), r.got...)
}

// sendAsking sends the 850 to the hub at hubAddr as acme, signed with signer,
// asking for a signed asynchronous MDN at r; the hub answers an empty 200.
func (r *receiptURL) sendAsking(t *testing.T, hubAddr string, ours, signer as2sim.Identity, id string) *connas2.Result {
	t.Helper()
	res, err := r.send(t, hubAddr, ours, signer, id)
	if err != nil || res.Status != connas2.StatusPendingMDN {
		t.Fatalf("sending the 850 asking for an asynchronous MDN: %+v, %v", res, err)
	}
	return res
}

// send sends the 850 to the hub as signer, asking for an asynchronous MDN at r.
func (r *receiptURL) send(t *testing.T, hubAddr string, ours, signer as2sim.Identity, id string) (*connas2.Result, error) {
	t.Helper()
	s, err := connas2.New(connas2.Config{Pending: connas2.NewMemoryPending(), Profiles: func(context.Context, string, string) (*connas2.Profile, error) {
		return nil, edias2.ErrUnknownPartner
	}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Send(context.Background(), &connas2.Profile{LocalID: signer.ID, PartnerID: ours.ID, URL: "http://" + hubAddr + "/as2",
		Keys: []edias2.KeyPair{signer.KeyPair()}, EncryptCerts: []*x509.Certificate{ours.Cert}, SigningCerts: []*x509.Certificate{ours.Cert},
		MDN: edias2.MDNAsync, ReceiptURL: r.URL(), SignedMDN: true},
		connas2.Message{Payload: read850(t), ContentType: "application/edi-x12", FileName: "po.edi", MessageID: id})
	return res, err
}

// keptMDN is the as2_mdns row of what acme sent under id.
type keptMDN struct {
	status, lastError, leaseOwner, disposition string
	attempts                                   int
	async                                      bool
}

func keptMDNOf(t testing.TB, st *store.Store, id string) (keptMDN, bool) {
	t.Helper()
	var k keptMDN
	err := st.ReadDB().QueryRow(st.Rebind(`SELECT status, last_error, lease_owner, disposition, attempts, async FROM as2_mdns WHERE partner = 'acme' AND message_id = ?`), id).
		Scan(&k.status, &k.lastError, &k.leaseOwner, &k.disposition, &k.attempts, &k.async)
	if errors.Is(err, sql.ErrNoRows) {
		return k, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return k, true
}

// onPostgresAS2 moves an AS2 hub's store to a fresh PostgreSQL schema.
func onPostgresAS2(t *testing.T, cfg *config.Config) {
	sc := storetest.PostgresConfig(t)
	cfg.Store.Driver = config.DriverPostgres
	cfg.Store.Postgres.DSN = config.NewSecret(sc.PostgresDSN)
}

// newAS2Hub builds (without running) a hub for cfg.
func newAS2Hub(t *testing.T, cfg config.Config) *hub.Hub {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// runBuilt runs h until the test ends (or the returned stop).
func runBuilt(t *testing.T, h *hub.Hub) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped: %v", err)
		}
	})
}

// A partner asks for an asynchronous MDN at a URL that is down. The hub commits
// the order, its first POST fails, and the hub stops while the MDN is pending:
// the record says pending, with the error, and no one holds it. The URL comes
// up; new hub processes on the same database (two of them on PostgreSQL, started
// together) resume the delivery at start: the MDN arrives once, verified, and
// the record says sent.
func TestAS2AsyncMDNResumedAfterRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { asyncMDNResumed(t, nil, 1) })
	t.Run("postgres", func(t *testing.T) { asyncMDNResumed(t, onPostgresAS2, 2) })
}

func asyncMDNResumed(t *testing.T, adjust func(*testing.T, *config.Config), instances int) {
	ours, theirs := as2Identities(t)
	dir := t.TempDir()
	cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, theirs, "http://127.0.0.1:1/as2", "sync")
	cfg.Partners[0].Outbound = config.Outbound{} // nothing goes back but the MDN
	if adjust != nil {
		adjust(t, &cfg)
	}
	h := runAS2Hub(t, cfg, 3)
	rcpt := newReceiptURL(t, ours, theirs.ID)
	const id = "<async-down-1@acme>"
	sent := rcpt.sendAsking(t, h.Server.Addr(), ours, theirs, id)
	eventually(t, "the first POST of the MDN failing", 10*time.Second, func() bool {
		k, ok := keptMDNOf(t, h.Store, id)
		return ok && k.attempts == 1 && k.lastError != ""
	})
	h.stop()
	st, err := store.Open(context.Background(), storeConfig(t, cfg), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := keptMDNOf(t, st, id)
	_ = st.Close()
	if k.status != "pending" || k.leaseOwner != "" || !k.async || !strings.Contains(k.lastError, "interrupted by a shutdown") ||
		!strings.Contains(k.lastError, "connection refused") || !strings.HasSuffix(k.disposition, "; processed") {
		t.Fatalf("the MDN after the stop: %+v; want pending, not leased, with the error", k)
	}
	if got := rcpt.list(); len(got) != 0 {
		t.Fatalf("%d MDNs arrived while the URL was down", len(got))
	}

	rcpt.up(t)
	var hs []*hub.Hub
	for range instances {
		hs = append(hs, newAS2Hub(t, cfg))
	}
	for _, h := range hs {
		runBuilt(t, h)
	}
	next := hs[0]
	eventually(t, "the resumed MDN recorded sent", 20*time.Second, func() bool {
		k, _ := keptMDNOf(t, next.Store, id)
		return k.status == "sent"
	})
	// Every instance has made its start-up resume by now: none finds anything left.
	for _, h := range hs {
		<-h.Router.Running()
		if n, err := h.AS2.Receiver.Resume(context.Background()); n != 0 || err != nil {
			t.Errorf("a later resume started %d deliveries (%v)", n, err)
		}
	}
	got := rcpt.list()
	if len(got) != 1 {
		t.Fatalf("the partner got %d MDNs, want 1", len(got))
	}
	if got[0].err != nil {
		t.Fatalf("the resumed MDN does not verify: %v", got[0].err)
	}
	if m := got[0].mdn; !m.Disposition.OK() || m.OriginalMessageID != id || m.CheckMIC(sent.MIC) != nil {
		t.Fatalf("resumed MDN: %s for %s, MIC check %v", m.Disposition, m.OriginalMessageID, m.CheckMIC(sent.MIC))
	}
	if k, _ := keptMDNOf(t, next.Store, id); k.attempts != 2 || k.lastError != "" || k.leaseOwner != "" {
		t.Errorf("record after delivery: %+v; want 2 attempts, no error, no lease", k)
	}
	if n := count(t, next.Store, router.InboundTopic("edi")); n != 1 {
		t.Errorf("inbound.edi holds %d, want 1", n)
	}
}

// storeConfig is the store a hub configuration opens.
func storeConfig(t *testing.T, cfg config.Config) store.Config {
	t.Helper()
	if cfg.Store.Driver == config.DriverPostgres {
		return store.Config{Driver: store.Postgres, PostgresDSN: cfg.Store.Postgres.DSN.Value()}
	}
	return store.Config{Driver: store.SQLite, SQLitePath: cfg.Store.SQLite.Path, Synchronous: "normal"}
}

// A partner signs with a certificate the hub does not know yet and asks for an
// asynchronous MDN: nothing proves the message is the partner's, so the negative
// MDN comes in the response (the hub POSTs nothing to a URL an unproven sender
// names) and the message is parked. Once the certificate is added and the hub restarted, the replay
// commits exactly one order, and the positive MDN is POSTed to the original
// Receipt-Delivery-Option once, after the commit; the record says sent.
func TestAS2RefusalReplayAsyncMDN(t *testing.T) {
	as2test.RequireOpenSSL(t) // refusalCases builds certificates with it
	ours, cases := refusalCases(t)
	tc := cases[3]
	if tc.name != "certificate not configured" {
		t.Fatalf("case %q", tc.name)
	}
	dir := t.TempDir()
	cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, tc.configured, "http://127.0.0.1:1/as2", "sync")
	cfg.Partners[0].Outbound = config.Outbound{}
	h := runAS2Hub(t, cfg, 3)
	rcpt := newReceiptURL(t, ours, tc.signer.ID)
	rcpt.up(t)
	const id = "<renewed-async-1@acme>"
	sent, err := rcpt.send(t, h.Server.Addr(), ours, tc.signer, id)
	var mdnErr *connas2.MDNError
	if !errors.As(err, &mdnErr) || sent == nil || sent.Disposition.Modifier != edias2.AuthenticationFailed || sent.Receipt.OriginalMessageID != id {
		t.Fatalf("first send: %+v, %v; want the authentication-failed MDN in the response", sent, err)
	}
	e := refusalEntry(t, h.Hub)
	if got := e.Metadata[partners.MetaAS2MDNDelivery]; got != "sync" {
		t.Fatalf("entry's MDN delivery %q, want sync", got)
	}
	if n := len(rcpt.list()); n != 0 {
		t.Fatalf("the receipt URL got %d MDNs before the replay, want none", n)
	}
	if _, ok := keptMDNOf(t, h.Store, id); ok {
		t.Fatal("a negative MDN was kept")
	}

	h.stop()
	fixed := h.cfg
	fixed.Partners = append([]config.Partner(nil), h.cfg.Partners...)
	fixed.Partners[0].AS2.Certs = append(append([]string(nil), fixed.Partners[0].AS2.Certs...), writeFile(t, dir, "acme-2.pem", tc.signer.CertPEM()))
	h2 := runAS2Hub(t, fixed, 3)
	rcpt.watch(h2.Store)
	ctx := context.Background()
	if _, err := h2.DLQ.Replay(ctx, e.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replayed MDN recorded sent", 20*time.Second, func() bool {
		k, _ := keptMDNOf(t, h2.Store, id)
		return k.status == "sent"
	})
	eventually(t, "the replayed order in the core", 20*time.Second, func() bool { return count(t, h2.Store, router.TopicFulfilmentOrders) == 1 })
	if n, err := h2.AS2.Receiver.Resume(ctx); n != 0 || err != nil {
		t.Errorf("a resume after the delivery started %d (%v)", n, err)
	}
	got := rcpt.list()
	if len(got) != 1 {
		t.Fatalf("the receipt URL got %d MDNs, want one positive", len(got))
	}
	pos := got[0]
	if pos.err != nil || !pos.mdn.Disposition.OK() || pos.mdn.OriginalMessageID != id || pos.mdn.CheckMIC(sent.MIC) != nil {
		t.Fatalf("replayed MDN: %+v (MIC check %v)", pos, pos.mdn.CheckMIC(sent.MIC))
	}
	if pos.inbound != 1 {
		t.Errorf("the positive MDN arrived with %d inbound.edi messages committed, want 1 (after the commit)", pos.inbound)
	}
	if k, _ := keptMDNOf(t, h2.Store, id); k.attempts != 1 || k.lastError != "" || !k.async {
		t.Errorf("kept MDN %+v; want sent asynchronously in one attempt", k)
	}
	if got, _ := h2.DLQ.Get(ctx, e.ID); got.Status != dlq.StatusReplayed {
		t.Errorf("entry %s after the replay:\n%s", got.Status, got.Reason)
	}
	if n := count(t, h2.Store, router.TopicFulfilmentOrders); n != 1 {
		t.Errorf("fulfilment.orders holds %d, want 1", n)
	}
}

// Anyone can POST as an unknown sender: its refused message is parked with at
// most as2.refused_body_max (64KiB) of the body, not as2.max_body, and such an
// entry is not replayable, saying why; replaying it reopens it with that reason.
// The same goes for a message that only claims a partner's AS2 id (nothing in it
// verified as signed by acme): it is capped too, and such refusals of one kind
// count on one entry, however many Message-IDs they use.
func TestAS2UnknownSenderBodyCapped(t *testing.T) {
	ours, theirs := as2Identities(t)
	dir := t.TempDir()
	cfg := newAS2Config(t, dir, "127.0.0.1:0", ours, theirs, "http://127.0.0.1:1/as2", "sync")
	cfg.Partners[0].Outbound = config.Outbound{}
	h := runAS2Hub(t, cfg, 3)
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16) // 200KiB, not a CMS message
	post := func(from, id string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, "http://"+h.Server.Addr()+"/as2", bytes.NewReader(big))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"Content-Type": `application/pkcs7-mime; smime-type=enveloped-data`, "AS2-Version": "1.2",
			"AS2-From": from, "AS2-To": ours.ID, "Message-ID": id} {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("POST from %s: %d, want 400 (no MDN asked for)", from, resp.StatusCode)
		}
	}
	post("STRANGER-AS2", "<big-1@stranger>")
	// Anyone can claim acme's AS2 id: garbage posted as acme proves nothing
	// either, and more of it, under new Message-IDs, counts on the same entry.
	post(theirs.ID, "<big-1@acme>")
	post(theirs.ID, "<big-2@acme>")
	post(theirs.ID, "<big-3@acme>")
	ctx := context.Background()
	var es []dlq.Entry
	eventually(t, "the refusals parked", 10*time.Second, func() bool {
		var err error
		es, err = h.DLQ.List(ctx, dlq.Filter{Handler: partners.HandlerAS2Receive})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			n += e.TimesFailed
		}
		return n == 4
	})
	if len(es) != 2 {
		t.Fatalf("%d DLQ entries; want 2 (the stranger's, and one for everything posted as acme)", len(es))
	}
	byID := map[string]dlq.Entry{}
	for _, e := range es {
		full, err := h.DLQ.Get(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		byID[full.Metadata["as2_message_id"]] = full
	}
	stranger, acme := byID["<big-1@stranger>"], byID["<big-1@acme>"]
	if !bytes.HasSuffix(stranger.Payload, append([]byte("\r\n\r\n"), big[:64<<10]...)) || len(stranger.Payload) > 64<<10+1024 {
		t.Errorf("the stranger's entry keeps %d bytes; want its header and the first 64KiB of the body", len(stranger.Payload))
	}
	md := stranger.Metadata
	if md[partners.MetaAS2BodyBytes] != "65536" || md[partners.MetaAS2ReceivedBytes] != "204800" ||
		!strings.HasPrefix(md[partners.MetaAS2Replayable], "no: the sender was not recognised, so only the first 65536 of its 204800 bytes were kept (as2.refused_body_max)") {
		t.Errorf("the stranger's entry metadata: %v", md)
	}
	if !strings.Contains(stranger.Reason, "ask it to resend the message") || !strings.Contains(stranger.Reason, "cannot be replayed") {
		t.Errorf("the stranger's reason:\n%s", stranger.Reason)
	}
	if !bytes.HasSuffix(acme.Payload, append([]byte("\r\n\r\n"), big[:64<<10]...)) || len(acme.Payload) > 64<<10+1024 || acme.Metadata[router.MetaPartner] != "acme" ||
		!strings.HasPrefix(acme.Metadata[partners.MetaAS2Replayable], "no: the message did not prove it came from partner acme (no signature of theirs verified), so only the first 65536 of its 204800 bytes were kept") {
		t.Errorf("acme's entry: %d bytes, metadata %v; want the first 64KiB, not replayable", len(acme.Payload), acme.Metadata)
	}
	if acme.TimesFailed != 3 || !strings.Contains(acme.Reason, "counts on this one entry") {
		t.Errorf("acme's entry counts %d refusals; want 3. Reason:\n%s", acme.TimesFailed, acme.Reason)
	}

	if _, err := h.DLQ.Replay(ctx, stranger.ID, false); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the replay refused", 10*time.Second, func() bool {
		got, err := h.DLQ.Get(ctx, stranger.ID)
		return err == nil && got.Status == dlq.StatusOpen && got.TimesFailed == 2
	})
	if got, _ := h.DLQ.Get(ctx, stranger.ID); !strings.Contains(got.Reason, "this entry cannot be replayed (the sender was not recognised") ||
		!strings.Contains(got.Reason, "ask the partner to resend AS2 message <big-1@stranger>") {
		t.Errorf("reopened entry's reason:\n%s", got.Reason)
	}
}
