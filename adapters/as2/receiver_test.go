package as2

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/intake/intaketest"
)

var x12 = []byte("ISA*00*          *00*          *ZZ*ACME           *ZZ*PAKLOG         *260101*1200*U*00401*000000001*0*P*>~\r\n" +
	"GS*PO*ACME*PAKLOG*20260101*1200*1*X*004010~\r\nST*850*0001~\r\nBEG*00*SA*PO-1**20260101~\r\nSE*3*0001~\r\nGE*1*1~\r\nIEA*1*000000001~\r\n")

// Key generation is the slowest thing here: three pairs, once per test binary.
var (
	keysOnce sync.Once
	keyPairs []edias2.KeyPair
)

func testKeys(t *testing.T) []edias2.KeyPair {
	t.Helper()
	keysOnce.Do(func() {
		for i, cn := range []string{"PAKLOG AS2", "ACME AS2", "Mallory"} {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(100 + i)), Subject: pkix.Name{CommonName: cn},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
				KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
			if err != nil {
				panic(err)
			}
			cert, err := x509.ParseCertificate(der)
			if err != nil {
				panic(err)
			}
			keyPairs = append(keyPairs, edias2.KeyPair{Cert: cert, Key: key})
		}
	})
	return keyPairs
}

// env is the hub ("PAKLOG") receiving from "ACME" over HTTP.
type env struct {
	us, them  *edias2.Identity
	ofUs      *edias2.Partner // ACME's profile of us: how it sends
	acc       *intaketest.Memory
	store     *MemoryStore
	h         *Receiver
	srv       *httptest.Server
	theirRecv *edias2.Receiver
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	keys := testKeys(t)
	e := &env{
		us:    &edias2.Identity{ID: "PAKLOG", Keys: []edias2.KeyPair{keys[0]}},
		them:  &edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{keys[1]}},
		acc:   &intaketest.Memory{},
		store: NewMemoryStore(),
	}
	e.ofUs = &edias2.Partner{ID: "PAKLOG", Certs: []*x509.Certificate{keys[0].Cert}, Sign: true, Encrypt: true,
		MDN: edias2.MDNRequest{Mode: edias2.MDNSync, Signed: true, MICAlgs: []edias2.Digest{edias2.SHA256}}}
	ofThem := &edias2.Partner{ID: "ACME", Certs: []*x509.Certificate{keys[1].Cert}, RequireSignature: true}
	recv, err := edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(
		func(_ context.Context, partner, ours string) (*edias2.Partner, *edias2.Identity, error) {
			if partner == "ACME" && ours == "PAKLOG" {
				return ofThem, e.us, nil
			}
			return nil, nil, edias2.ErrUnknownPartner
		}))
	if err != nil {
		t.Fatal(err)
	}
	e.theirRecv, err = edias2.NewReceiver(edias2.DefaultConfig(), edias2.ResolverFunc(
		func(context.Context, string, string) (*edias2.Partner, *edias2.Identity, error) {
			return e.ofUs, e.them, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Receiver: recv, Retry: Retry{InitialInterval: 5 * time.Millisecond, MaxInterval: 20 * time.Millisecond}}
	if mod != nil {
		mod(&cfg)
	}
	e.h, err = New(cfg, e.acc, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(func() {
		e.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = e.h.Close(ctx)
	})
	return e
}

func (e *env) build(t *testing.T, from *edias2.Identity, p *edias2.Partner, id string, payload []byte) *edias2.Request {
	t.Helper()
	req, err := edias2.BuildRequest(from, p, edias2.Payload{Data: payload, ContentType: "application/edi-x12", Filename: "po.x12"},
		edias2.RequestOptions{MessageID: id})
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func (e *env) post(t *testing.T, req *edias2.Request) (*http.Response, []byte) {
	t.Helper()
	hr, err := http.NewRequest(http.MethodPost, e.srv.URL+"/as2", bytes.NewReader(req.Body))
	if err != nil {
		t.Fatal(err)
	}
	hr.Header = req.Header.Clone()
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func (e *env) mdn(t *testing.T, h http.Header, body []byte) *edias2.MDN {
	t.Helper()
	m, err := e.theirRecv.ParseMDN(context.Background(), h, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parsing the MDN: %v\n%s", err, body)
	}
	return m
}

func TestAcceptSyncMDN(t *testing.T) {
	e := newEnv(t, nil)
	req := e.build(t, e.them, e.ofUs, "<po-1@acme>", x12)
	resp, body := e.post(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d: %s", resp.StatusCode, body)
	}
	m := e.mdn(t, resp.Header, body)
	if !m.Disposition.OK() || m.Disposition.Modifier != "" || !m.Security.Signed {
		t.Fatalf("MDN disposition = %s, signed = %v", m.Disposition, m.Security.Signed)
	}
	if err := m.CheckMIC(req.MIC); err != nil {
		t.Fatalf("Received-Content-MIC: %v", err)
	}
	if m.OriginalMessageID != "<po-1@acme>" {
		t.Fatalf("Original-Message-ID = %q", m.OriginalMessageID)
	}

	calls, committed := e.acc.Calls(), e.acc.Distinct()
	if len(calls) != 1 || committed != 1 {
		t.Fatalf("Accept calls = %d, committed = %d, want 1, 1", len(calls), committed)
	}
	it := calls[0]
	want := map[string]string{MetaMessageID: "<po-1@acme>", MetaFrom: "ACME", MetaTo: "PAKLOG", MetaMIC: req.MIC.String(), MetaFilename: "po.x12"}
	if it.Source != "edi" || it.Partner != "ACME" || it.IdempotencyKey != "as2:<po-1@acme>" || !bytes.Equal(it.Payload, x12) ||
		it.ContentType != "application/edi-x12" {
		t.Fatalf("accepted item = %+v", it)
	}
	for k, v := range want {
		if it.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, it.Metadata[k], v)
		}
	}

	kept, err := e.store.Get(context.Background(), "ACME", "<po-1@acme>")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(kept.Body, body) || kept.Status != StatusSent || kept.Async || kept.MIC != req.MIC.String() {
		t.Fatalf("kept MDN = status %s async %v MIC %q, same bytes %v", kept.Status, kept.Async, kept.MIC, bytes.Equal(kept.Body, body))
	}
}

func TestResentMessageGetsOriginalMDN(t *testing.T) {
	e := newEnv(t, nil)
	req := e.build(t, e.them, e.ofUs, "<po-2@acme>", x12)
	resp1, body1 := e.post(t, req)
	resp2, body2 := e.post(t, req)
	if resp1.StatusCode != http.StatusOK || resp2.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, %d", resp1.StatusCode, resp2.StatusCode)
	}
	if !bytes.Equal(body1, body2) || resp1.Header.Get("Message-ID") != resp2.Header.Get("Message-ID") {
		t.Fatalf("resend got a different MDN (%s vs %s)", resp1.Header.Get("Message-ID"), resp2.Header.Get("Message-ID"))
	}
	calls, committed := e.acc.Calls(), e.acc.Distinct()
	if len(calls) != 2 || calls[0].IdempotencyKey != calls[1].IdempotencyKey || committed != 1 {
		t.Fatalf("Accept calls = %d, committed = %d; want 2 calls with one key, 1 committed", len(calls), committed)
	}
	if got := len(e.store.All()); got != 1 {
		t.Fatalf("kept MDNs = %d, want 1", got)
	}
}

// refusals records what Config.Refused is told.
type refusals struct {
	mu  sync.Mutex
	all []Refusal
}

func (r *refusals) add(_ context.Context, rf Refusal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, rf)
}

func (r *refusals) list() []Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Refusal(nil), r.all...)
}

func TestRefusedMessagesGetNegativeMDN(t *testing.T) {
	keys := testKeys(t)
	tests := []struct {
		name    string
		request func(e *env) *edias2.Request
		want    edias2.Modifier
	}{
		{"tampered payload", func(e *env) *edias2.Request {
			p := *e.ofUs
			p.Encrypt = false // so the change reaches the signature check
			req := e.build(t, e.them, &p, "<po-t@acme>", x12)
			req.Body = bytes.Replace(req.Body, []byte("ST*850"), []byte("ST*860"), 1)
			return req
		}, edias2.IntegrityCheckFailed},
		{"unknown partner", func(e *env) *edias2.Request {
			nobody := &edias2.Identity{ID: "NOBODY", Keys: []edias2.KeyPair{keys[2]}}
			return e.build(t, nobody, e.ofUs, "<po-u@nobody>", x12)
		}, edias2.AuthenticationFailed},
		{"signed with the wrong key", func(e *env) *edias2.Request {
			mallory := &edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{keys[2]}}
			return e.build(t, mallory, e.ofUs, "<po-m@acme>", x12)
		}, edias2.AuthenticationFailed},
		{"encrypted to another key", func(e *env) *edias2.Request {
			p := *e.ofUs
			p.Certs = []*x509.Certificate{keys[2].Cert}
			return e.build(t, e.them, &p, "<po-k@acme>", x12)
		}, edias2.DecryptionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec refusals
			e := newEnv(t, func(c *Config) { c.Refused = rec.add })
			req := tt.request(e)
			req.Header.Set("Authorization", "Basic c2VjcmV0OnNlY3JldA==")
			resp, body := e.post(t, req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200 with a negative MDN: %s", resp.StatusCode, body)
			}
			want := "processed/Error: " + string(tt.want)
			if !bytes.Contains(body, []byte(want)) {
				t.Fatalf("MDN lacks %q:\n%s", want, body)
			}
			// Config.Refused is told once, with the request as received minus credentials.
			rs := rec.list()
			if len(rs) != 1 {
				t.Fatalf("Refused called %d times, want 1", len(rs))
			}
			rf := rs[0]
			if !strings.HasSuffix(rf.Disposition, want) || rf.MDNMessageID != resp.Header.Get("Message-ID") || rf.Status != http.StatusOK ||
				!bytes.Equal(rf.Body, req.Body) || rf.Truncated || rf.MessageID != req.Header.Get("Message-ID") ||
				rf.Header.Get("Authorization") != "" || rf.Header.Get("AS2-From") == "" || !errors.Is(rf.Err, &edias2.Error{Modifier: tt.want}) {
				t.Errorf("refusal %+v", rf)
			}
			if tt.want != edias2.AuthenticationFailed || resp.Header.Get("AS2-To") == "ACME" {
				// the MDN of a known partner is signed and verifies
				m := e.mdn(t, resp.Header, body)
				if m.Disposition.Modifier != tt.want {
					t.Fatalf("disposition = %s", m.Disposition)
				}
			}
			if calls := e.acc.Calls(); len(calls) != 0 {
				t.Fatalf("Accept called %d times for a refused message", len(calls))
			}
			if kept := e.store.All(); len(kept) != 0 {
				t.Fatalf("negative MDN kept: %+v", kept)
			}
		})
	}
}

func TestTooLarge(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "content-length", true: "chunked"}[chunked], func(t *testing.T) {
			var rec refusals
			e := newEnv(t, func(c *Config) { c.MaxBody = 1024; c.Refused = rec.add })
			req := e.build(t, e.them, e.ofUs, "<po-big@acme>", bytes.Repeat(x12, 20))
			var body io.Reader = bytes.NewReader(req.Body)
			if chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			hr, _ := http.NewRequest(http.MethodPost, e.srv.URL, body)
			hr.Header = req.Header.Clone()
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("status = %d, want 413", resp.StatusCode)
			}
			if calls := e.acc.Calls(); len(calls) != 0 {
				t.Fatalf("Accept called %d times", len(calls))
			}
			// Refused is told, with what was read: nothing when the Content-Length
			// said it all, the first MaxBody bytes of a chunked body.
			wantBody := map[bool]int{false: 0, true: 1024}[chunked]
			rs := rec.list()
			if len(rs) != 1 || !errors.Is(rs[0].Err, ErrTooLarge) || rs[0].Status != http.StatusRequestEntityTooLarge ||
				!rs[0].Truncated || len(rs[0].Body) != wantBody || rs[0].Disposition != "" || rs[0].MessageID != "<po-big@acme>" {
				t.Fatalf("refusals %+v, want one 413 with %d body bytes", rs, wantBody)
			}
		})
	}
}

func TestIntakeFailureIs503(t *testing.T) {
	e := newEnv(t, nil)
	e.acc.Fail(errors.New("database is down"))
	resp, body := e.post(t, e.build(t, e.them, e.ofUs, "<po-503@acme>", x12))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status = %d, Retry-After %q, want 503 with Retry-After: %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if bytes.Contains(body, []byte("disposition-notification")) {
		t.Fatalf("503 carries an MDN:\n%s", body)
	}
	if kept := e.store.All(); len(kept) != 0 {
		t.Fatalf("MDN kept for an uncommitted message: %+v", kept)
	}
}

func TestReusedMessageIDWithOtherContent(t *testing.T) {
	e := newEnv(t, nil)
	e.post(t, e.build(t, e.them, e.ofUs, "<po-r@acme>", x12))
	other := bytes.Replace(x12, []byte("PO-1"), []byte("PO-2"), 1)
	resp, body := e.post(t, e.build(t, e.them, e.ofUs, "<po-r@acme>", other))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	if m := e.mdn(t, resp.Header, body); m.Disposition.Modifier != edias2.UnexpectedProcessingError {
		t.Fatalf("disposition = %s", m.Disposition)
	}
}

// mdnSink is the partner's asynchronous MDN endpoint; it answers 500 to the first
// failFirst POSTs.
type mdnSink struct {
	mu        sync.Mutex
	failFirst int
	got       []*http.Request
	bodies    [][]byte
}

func (s *mdnSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got, s.bodies = append(s.got, r), append(s.bodies, b)
	if len(s.got) <= s.failFirst {
		http.Error(w, "busy", http.StatusInternalServerError)
	}
}

func TestAsyncMDN(t *testing.T) {
	tests := []struct {
		name         string
		failFirst    int
		wantStatus   Status
		wantAttempts int
	}{
		{"delivered at once", 0, StatusSent, 1},
		{"retried after a 500", 1, StatusSent, 2},
		{"gives up after MaxAttempts", 100, StatusFailed, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &mdnSink{failFirst: tt.failFirst}
			srv := httptest.NewServer(sink)
			defer srv.Close()
			e := newEnv(t, func(c *Config) { c.Retry.MaxAttempts = 3 })
			p := *e.ofUs
			p.MDN.Mode, p.MDN.URL = edias2.MDNAsync, srv.URL+"/mdn"
			req := e.build(t, e.them, &p, "<po-a@acme>", x12)
			resp, body := e.post(t, req)
			if resp.StatusCode != http.StatusOK || len(body) != 0 {
				t.Fatalf("status = %d, body %q; want an empty 200", resp.StatusCode, body)
			}
			if committed := e.acc.Distinct(); committed != 1 {
				t.Fatalf("committed = %d before the MDN", committed)
			}
			// Close would cut the retries short: wait for the outcome first.
			waitKept(t, e.store, "<po-a@acme>", func(m StoredMDN) bool { return m.Status != StatusPending })
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := e.h.Close(ctx); err != nil {
				t.Fatal(err)
			}
			sink.mu.Lock()
			defer sink.mu.Unlock()
			if len(sink.got) != tt.wantAttempts {
				t.Fatalf("POSTs = %d, want %d", len(sink.got), tt.wantAttempts)
			}
			last := len(sink.got) - 1
			m := e.mdn(t, sink.got[last].Header, sink.bodies[last])
			if !m.Disposition.OK() || m.CheckMIC(req.MIC) != nil || m.OriginalMessageID != "<po-a@acme>" {
				t.Fatalf("async MDN = %s, MIC check %v", m.Disposition, m.CheckMIC(req.MIC))
			}
			kept, err := e.store.Get(context.Background(), "ACME", "<po-a@acme>")
			if err != nil {
				t.Fatal(err)
			}
			if kept.Status != tt.wantStatus || kept.Attempts != tt.wantAttempts || !kept.Async || kept.URL != p.MDN.URL {
				t.Fatalf("kept = status %s, attempts %d, async %v, url %q", kept.Status, kept.Attempts, kept.Async, kept.URL)
			}
			if (tt.wantStatus == StatusFailed) != strings.Contains(kept.LastError, "500") {
				t.Fatalf("last error = %q", kept.LastError)
			}
		})
	}
}

// waitKept waits up to 10s for the MDN kept for ACME's id to satisfy ok.
func waitKept(t *testing.T, st MDNStore, id string, ok func(StoredMDN) bool) StoredMDN {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := st.Get(context.Background(), "ACME", id)
		if err == nil && ok(*m) {
			return *m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kept MDN of %s never reached the expected state: %+v (%v)", id, m, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// switchSink answers 503 until up is set, then 200; it counts the POSTs of each.
type switchSink struct {
	mu       sync.Mutex
	up       bool
	down, ok int
	last     []byte
	header   http.Header
}

func (s *switchSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.up {
		s.down++
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	s.ok++
	s.last, s.header = b, r.Header.Clone()
}

func (s *switchSink) counts() (down, ok int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down, s.ok
}

// An asynchronous MDN whose receipt URL is down when the receiver closes stays
// pending with its lease released (Close does not sit out the wait between
// attempts); receivers started later on the same store resume it — only one of
// them, however many race — with what is left of the retry budget, and record
// it sent. A delivery under a live lease is not taken over.
func TestResumePendingMDN(t *testing.T) {
	sink := &switchSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	e := newEnv(t, func(c *Config) {
		c.Retry = Retry{MaxAttempts: 5, InitialInterval: time.Hour, MaxInterval: time.Hour}
	})
	p := *e.ofUs
	p.MDN.Mode, p.MDN.URL = edias2.MDNAsync, srv.URL+"/mdn"
	req := e.build(t, e.them, &p, "<po-resume@acme>", x12)
	if resp, body := e.post(t, req); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("status = %d, body %q; want an empty 200", resp.StatusCode, body)
	}
	waitKept(t, e.store, "<po-resume@acme>", func(m StoredMDN) bool { return m.Attempts == 1 && m.LastError != "" })
	if m, _ := e.store.Get(context.Background(), "ACME", "<po-resume@acme>"); m.LeaseOwner == "" || !m.LeaseUntil.After(time.Now().Add(30*time.Minute)) {
		// The wait is an hour with ±50% jitter.
		t.Fatalf("while waiting about an hour to retry, the lease is %q until %s; want it to cover the wait", m.LeaseOwner, m.LeaseUntil)
	}
	// A live lease: nobody takes it over.
	other, err := New(Config{Receiver: e.h.cfg.Receiver}, e.acc, e.store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := other.Resume(context.Background()); n != 0 || err != nil {
		t.Fatalf("Resume under a live lease started %d (%v)", n, err)
	}
	_ = other.Close(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.h.Close(ctx); err != nil {
		t.Fatalf("Close waited out the hour between attempts: %v", err)
	}
	kept := waitKept(t, e.store, "<po-resume@acme>", func(StoredMDN) bool { return true })
	if kept.Status != StatusPending || kept.LeaseOwner != "" || !kept.LeaseUntil.IsZero() || kept.Attempts != 1 ||
		!strings.Contains(kept.LastError, "interrupted by a shutdown") || !strings.Contains(kept.LastError, "503") {
		t.Fatalf("after Close: %+v", kept)
	}

	sink.mu.Lock()
	sink.up = true
	sink.mu.Unlock()
	var rs []*Receiver
	for range 4 {
		r, err := New(Config{Receiver: e.h.cfg.Receiver, Retry: Retry{MaxAttempts: 5, InitialInterval: 5 * time.Millisecond}}, e.acc, e.store, nil)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	var started atomic.Int32
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() {
			n, err := r.Resume(context.Background())
			if err != nil {
				t.Error(err)
			}
			started.Add(int32(n))
		})
	}
	wg.Wait()
	if started.Load() != 1 {
		t.Fatalf("%d receivers resumed the MDN, want 1", started.Load())
	}
	kept = waitKept(t, e.store, "<po-resume@acme>", func(m StoredMDN) bool { return m.Status != StatusPending })
	for _, r := range rs {
		if err := r.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if down, ok := sink.counts(); down != 1 || ok != 1 {
		t.Fatalf("the receipt URL got %d POSTs while down and %d after, want 1 and 1", down, ok)
	}
	if kept.Status != StatusSent || kept.Attempts != 2 || kept.LastError != "" || kept.LeaseOwner != "" {
		t.Fatalf("after the resume: %+v", kept)
	}
	if m := e.mdn(t, sink.header, sink.last); !m.Disposition.OK() || m.CheckMIC(req.MIC) != nil || m.OriginalMessageID != "<po-resume@acme>" {
		t.Fatalf("resumed MDN = %s, MIC check %v", m.Disposition, m.CheckMIC(req.MIC))
	}
	// Sent: nothing is left to resume.
	again, _ := New(Config{Receiver: e.h.cfg.Receiver}, e.acc, e.store, nil)
	defer again.Close(context.Background())
	if n, err := again.Resume(context.Background()); n != 0 || err != nil {
		t.Fatalf("Resume after delivery started %d (%v)", n, err)
	}
}

// A resumed delivery gets what is left of the budget: with MaxAttempts 3 and
// two attempts made before the stop, one more POST, then failed.
func TestResumeRemainingBudget(t *testing.T) {
	sink := &switchSink{}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	st := NewMemoryStore()
	now := time.Now().UTC()
	if err := st.Put(context.Background(), StoredMDN{Partner: "ACME", MessageID: "<po-b@acme>", MDNMessageID: "<mdn-b@PAKLOG>",
		Disposition: edias2.DispositionFor(nil).String(), Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("receipt"),
		Async: true, URL: srv.URL, Status: StatusPending, Attempts: 2, LastError: "interrupted by a shutdown", CreatedAt: now, UpdatedAt: now,
		// A lease that ran out: its receiver crashed.
		LeaseOwner: "crashed", LeaseUntil: now.Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	r, err := New(Config{Receiver: e.h.cfg.Receiver, Retry: Retry{MaxAttempts: 3, InitialInterval: time.Millisecond}}, e.acc, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.Resume(context.Background()); n != 1 || err != nil {
		t.Fatalf("Resume started %d (%v), want 1", n, err)
	}
	kept := waitKept(t, st, "<po-b@acme>", func(m StoredMDN) bool { return m.Status != StatusPending })
	_ = r.Close(context.Background())
	if down, _ := sink.counts(); down != 1 || kept.Status != StatusFailed || kept.Attempts != 3 || !strings.Contains(kept.LastError, "503") {
		t.Fatalf("%d POSTs; kept %+v; want 1 POST and failed after 3 attempts", down, kept)
	}
}
