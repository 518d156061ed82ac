package as2

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// renewFails is a MemoryStore whose lease renewals (a Record with a lease end)
// fail, as a store that is down would.
type renewFails struct{ *MemoryStore }

func (s renewFails) Record(ctx context.Context, m StoredMDN, owner string) error {
	if !m.LeaseUntil.IsZero() {
		return errors.New("database is down")
	}
	return s.MemoryStore.Record(ctx, m, owner)
}

// A delivery whose lease cannot be renewed before a wait stops sending: another
// receiver may take the MDN over when the old lease runs out, and the receipt
// URL must not get it from both. The MDN stays pending for Resume.
func TestAsyncMDNStopsWhenLeaseRenewalFails(t *testing.T) {
	sink := &switchSink{} // always 503
	srv := httptest.NewServer(sink)
	defer srv.Close()
	e := newEnv(t, func(c *Config) { c.Retry.MaxAttempts = 5 })
	e.h.mdns = renewFails{e.store}
	p := *e.ofUs
	p.MDN.Mode, p.MDN.URL = edias2.MDNAsync, srv.URL+"/mdn"
	if resp, body := e.post(t, e.build(t, e.them, &p, "<po-renew@acme>", x12)); resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Fatalf("status = %d, body %q; want an empty 200", resp.StatusCode, body)
	}
	kept := waitKept(t, e.store, "<po-renew@acme>", func(m StoredMDN) bool { return m.LeaseOwner == "" && m.Attempts > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if down, _ := sink.counts(); down != 1 {
		t.Fatalf("the receipt URL got %d POSTs; want 1 (none after the renewal failed)", down)
	}
	if kept.Status != StatusPending || !strings.Contains(kept.LastError, "renewing the lease") || !strings.Contains(kept.LastError, "503") {
		t.Fatalf("kept = %+v; want pending, saying the renewal failed", kept)
	}
}

// heldRefusal answers the first POST 400 once release is closed.
type heldRefusal struct {
	got     chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *heldRefusal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.once.Do(func() { close(s.got) })
	<-s.release
	http.Error(w, "no such receipt URL", http.StatusBadRequest)
}

// A receipt URL that refuses the MDN for good (400) while the receiver is
// shutting down: the MDN is failed, not left pending for a resume to send again.
func TestAsyncMDNPermanentRefusalDuringShutdown(t *testing.T) {
	sink := &heldRefusal{got: make(chan struct{}), release: make(chan struct{})}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	e := newEnv(t, func(c *Config) { c.Retry.MaxAttempts = 5 })
	p := *e.ofUs
	p.MDN.Mode, p.MDN.URL = edias2.MDNAsync, srv.URL+"/mdn"
	if resp, _ := e.post(t, e.build(t, e.them, &p, "<po-shut@acme>", x12)); resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	<-sink.got
	closed := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		closed <- e.h.Close(ctx)
	}()
	for e.h.stop.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	close(sink.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	kept, err := e.store.Get(context.Background(), "ACME", "<po-shut@acme>")
	if err != nil {
		t.Fatal(err)
	}
	if kept.Status != StatusFailed || !strings.Contains(kept.LastError, "400") {
		t.Fatalf("kept = status %s, last error %q; want failed with the 400", kept.Status, kept.LastError)
	}
}

// A message that claims to be ACME's but whose signature does not verify gets
// its negative MDN in the response, even when it asks for an asynchronous one:
// the hub POSTs nothing to a URL an unproven sender names.
func TestRefusedForgeryMDNNotPosted(t *testing.T) {
	sink := &switchSink{up: true}
	srv := httptest.NewServer(sink)
	defer srv.Close()
	var refusals []Refusal
	var mu sync.Mutex
	e := newEnv(t, func(c *Config) {
		c.Refused = func(_ context.Context, rf Refusal) { mu.Lock(); refusals = append(refusals, rf); mu.Unlock() }
	})
	mallory := &edias2.Identity{ID: "ACME", Keys: []edias2.KeyPair{testKeys(t)[2]}}
	p := *e.ofUs
	p.MDN.Mode, p.MDN.URL = edias2.MDNAsync, srv.URL+"/internal"
	resp, body := e.post(t, e.build(t, mallory, &p, "<forged@acme>", x12))
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("status = %d, %d bytes; want 200 with the MDN in the response", resp.StatusCode, len(body))
	}
	if m := e.mdn(t, resp.Header, body); m.Disposition.OK() || m.Disposition.Modifier != edias2.AuthenticationFailed {
		t.Fatalf("MDN disposition = %s; want authentication-failed", m.Disposition)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.h.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if down, ok := sink.counts(); down+ok != 0 {
		t.Fatalf("the URL the forger named got %d POSTs; want none", down+ok)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(refusals) != 1 || refusals[0].Partner != "ACME" || refusals[0].Authenticated || refusals[0].AsyncURL != "" {
		t.Fatalf("refusals = %+v; want one from ACME, not authenticated, no async URL", refusals)
	}
}
