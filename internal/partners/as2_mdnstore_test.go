package partners_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	adapteras2 "github.com/paklog/integration-hub/adapters/as2"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

// mdnLeaseSuite is the lease contract of adapters/as2.MDNStore, run against every
// implementation: pending asynchronous MDNs are claimed by one of many concurrent
// claimers, live leases are respected, run-out ones taken over, and a delivery
// that lost its lease cannot record over the new owner.
func mdnLeaseSuite(t *testing.T, s adapteras2.MDNStore) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Microsecond)
	mdn := func(id string, status adapteras2.Status, async bool) adapteras2.StoredMDN {
		return adapteras2.StoredMDN{Partner: "acme", MessageID: id, MDNMessageID: "<mdn" + id + ">", Disposition: "automatic-action/MDN-sent-automatically; processed",
			Header: http.Header{"Content-Type": {"multipart/report"}}, Body: []byte("receipt " + id), Async: async, URL: "http://partner.example/mdn",
			Status: status, CreatedAt: now, UpdatedAt: now}
	}
	for _, m := range []adapteras2.StoredMDN{mdn("<p1>", adapteras2.StatusPending, true), mdn("<sent>", adapteras2.StatusSent, true),
		mdn("<sync>", adapteras2.StatusSent, false), mdn("<failed>", adapteras2.StatusFailed, true)} {
		if err := s.Put(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	live := mdn("<leased>", adapteras2.StatusPending, true)
	live.LeaseOwner, live.LeaseUntil = "busy", now.Add(time.Hour)
	if err := s.Put(ctx, live); err != nil {
		t.Fatal(err)
	}

	// Eight claimers at once: the one pending, unleased MDN goes to exactly one.
	var mu sync.Mutex
	got := map[string]string{} // message id -> owner
	var wg sync.WaitGroup
	for i := range 8 {
		owner := string(rune('a' + i))
		wg.Go(func() {
			ms, err := s.ClaimPending(ctx, owner, time.Now().Add(time.Minute), 10)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				if prev, dup := got[m.MessageID]; dup {
					t.Errorf("%s claimed by %s and %s", m.MessageID, prev, owner)
				}
				if m.LeaseOwner != owner || string(m.Body) != "receipt "+m.MessageID {
					t.Errorf("claimed %+v", m)
				}
				got[m.MessageID] = owner
			}
		})
	}
	wg.Wait()
	owner, ok := got["<p1>"]
	if len(got) != 1 || !ok {
		t.Fatalf("claimed %v, want <p1> only (sent, failed, synchronous and leased MDNs stay)", got)
	}

	// A claim by key respects the live lease.
	if _, err := s.Claim(ctx, "acme", "<p1>", "intruder", time.Now().Add(time.Minute)); !errors.Is(err, adapteras2.ErrLeased) {
		t.Fatalf("Claim under a live lease: %v, want ErrLeased", err)
	}
	if _, err := s.Claim(ctx, "acme", "<none>", "x", time.Now().Add(time.Minute)); !errors.Is(err, adapteras2.ErrNotFound) {
		t.Fatalf("Claim of nothing: %v, want ErrNotFound", err)
	}
	// Only the owner records.
	m := mdn("<p1>", adapteras2.StatusPending, true)
	m.Attempts, m.LastError, m.LeaseOwner, m.LeaseUntil = 1, "503", owner, now.Add(time.Minute)
	if err := s.Record(ctx, m, "intruder"); !errors.Is(err, adapteras2.ErrLeaseLost) {
		t.Fatalf("Record by a non-owner: %v, want ErrLeaseLost", err)
	}
	// Released (the shutdown case): claimable again.
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	if err := s.Record(ctx, m, owner); err != nil {
		t.Fatal(err)
	}
	ms, err := s.ClaimPending(ctx, "next", time.Now().Add(time.Minute), 10)
	if err != nil || len(ms) != 1 || ms[0].Attempts != 1 || ms[0].LastError != "503" {
		t.Fatalf("after the release: %+v, %v", ms, err)
	}
	// The first owner's lease is gone: it cannot record over "next".
	m.Status = adapteras2.StatusSent
	if err := s.Record(ctx, m, owner); !errors.Is(err, adapteras2.ErrLeaseLost) {
		t.Fatalf("Record after losing the lease: %v, want ErrLeaseLost", err)
	}
	// A lease that ran out (a crashed receiver) is taken over.
	m.LeaseOwner, m.LeaseUntil = "next", time.Now().Add(-time.Second)
	if err := s.Record(ctx, m, "next"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "acme", "<p1>", "rescuer", time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Claim after the lease ran out: %v", err)
	}
	m.Status, m.LeaseOwner, m.LeaseUntil = adapteras2.StatusSent, "", time.Time{}
	if err := s.Record(ctx, m, "rescuer"); err != nil {
		t.Fatal(err)
	}
	kept, err := s.Get(ctx, "acme", "<p1>")
	if err != nil || kept.Status != adapteras2.StatusSent || kept.LeaseOwner != "" || !kept.LeaseUntil.IsZero() {
		t.Fatalf("final record %+v, %v", kept, err)
	}
	if ms, err := s.ClaimPending(ctx, "late", time.Now().Add(time.Minute), 10); err != nil || len(ms) != 0 {
		t.Fatalf("ClaimPending after delivery: %+v, %v", ms, err)
	}
}

func TestMDNStoreLeases(t *testing.T) {
	t.Run("memory", func(t *testing.T) { mdnLeaseSuite(t, adapteras2.NewMemoryStore()) })
	storetest.Dialects(t, func(t *testing.T, st *store.Store) { mdnLeaseSuite(t, partners.MDNStore{Store: st}) })
}
