package partners_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

func pendingOf(partner, id string, sent time.Time, wait time.Duration) connas2.Pending {
	sum := sha256.Sum256([]byte(partner + id))
	return connas2.Pending{MessageID: id, Partner: partner, MIC: edias2.MIC{Digest: edias2.SHA256, Value: sum[:]},
		SentAt: sent.UTC().Truncate(time.Microsecond), Deadline: sent.Add(wait).UTC().Truncate(time.Microsecond)}
}

func samePending(a, b connas2.Pending) bool {
	return a.MessageID == b.MessageID && a.Partner == b.Partner && a.MIC.Equal(b.MIC) && a.SentAt.Equal(b.SentAt) && a.Deadline.Equal(b.Deadline)
}

// pendingSuite is the PendingStore contract, run against every implementation.
func pendingSuite(t *testing.T, s connas2.PendingStore) {
	ctx := context.Background()
	t0 := time.Now().Add(-time.Hour)
	a := pendingOf("ACME", "<a@PAKLOG>", t0, 10*time.Minute)
	b := pendingOf("ACME", "<b@PAKLOG>", t0, 5*time.Minute)
	c := pendingOf("ACME", "<c@PAKLOG>", t0, 2*time.Hour) // not due
	other := pendingOf("OTHER", "<a@PAKLOG>", t0, time.Minute)
	for _, p := range []connas2.Pending{a, b, c, other} {
		if err := s.Save(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	// A resend replaces the record.
	a2 := pendingOf("ACME", "<a@PAKLOG>", t0.Add(time.Second), 20*time.Minute)
	if err := s.Save(ctx, a2); err != nil {
		t.Fatal(err)
	}
	due, err := s.Expired(ctx, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 3 || !samePending(due[0], other) || !samePending(due[1], b) || !samePending(due[2], a2) {
		t.Fatalf("Expired = %+v, want OTHER's, b, a (resent) by deadline", due)
	}
	if again, _ := s.Expired(ctx, time.Now()); len(again) != 3 {
		t.Fatalf("Expired removed records: %d left", len(again))
	}
	got, err := s.Match(ctx, "ACME", "<a@PAKLOG>")
	if err != nil || !samePending(got, a2) {
		t.Fatalf("Match = %+v, %v; want %+v", got, err, a2)
	}
	if _, err := s.Match(ctx, "ACME", "<a@PAKLOG>"); !errors.Is(err, connas2.ErrUnknownMessage) {
		t.Fatalf("second Match = %v, want ErrUnknownMessage", err)
	}
	// One partner's MDN never settles another's message.
	if _, err := s.Match(ctx, "ACME", "<nobody@PAKLOG>"); !errors.Is(err, connas2.ErrUnknownMessage) {
		t.Fatalf("Match of an unknown message = %v", err)
	}
	if got, err := s.Match(ctx, "OTHER", "<a@PAKLOG>"); err != nil || !samePending(got, other) {
		t.Fatalf("OTHER's record: %+v, %v", got, err)
	}
	// Concurrent claims: exactly one wins.
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := s.Match(ctx, "ACME", "<b@PAKLOG>"); err == nil {
				wins.Add(1)
			} else if !errors.Is(err, connas2.ErrUnknownMessage) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent claims won, want 1", wins.Load())
	}
}

func TestPendingStore(t *testing.T) {
	t.Run("memory", func(t *testing.T) { pendingSuite(t, connas2.NewMemoryPending()) })
	storetest.Dialects(t, func(t *testing.T, st *store.Store) { pendingSuite(t, partners.PendingStore{Store: st}) })
}

// A send awaiting its MDN survives a restart: a new store on the same database
// (a new hub process) matches it.
func TestPendingStoreSurvivesRestart(t *testing.T) {
	for name, cfg := range map[string]func(t *testing.T) store.Config{
		"sqlite": func(t *testing.T) store.Config { return storetest.SQLiteConfig(t) }, "postgres": func(t *testing.T) store.Config { return storetest.PostgresConfig(t) },
	} {
		t.Run(name, func(t *testing.T) {
			c := cfg(t)
			p := pendingOf("ACME", "<late@PAKLOG>", time.Now(), time.Hour)
			first, err := store.Open(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := (partners.PendingStore{Store: first}).Save(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if err := first.Close(); err != nil {
				t.Fatal(err)
			}
			second := storetest.Open(t, c)
			got, err := partners.PendingStore{Store: second}.Match(context.Background(), "ACME", "<late@PAKLOG>")
			if err != nil || !samePending(got, p) {
				t.Fatalf("after the restart: %+v, %v", got, err)
			}
		})
	}
}
