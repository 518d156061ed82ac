package partners

import (
	"context"
	"crypto/sha256"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

// recordingTarget takes every file.
type recordingTarget struct {
	mu   sync.Mutex
	puts []string
}

func (r *recordingTarget) Put(_ context.Context, name string, _ io.Reader) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.puts = append(r.puts, name)
	return "inbox/" + name, nil
}

func (r *recordingTarget) Via() string { return "inbox" }

func testDelivery(t *testing.T, st *store.Store, tgt Target) *Delivery {
	t.Helper()
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	return NewDelivery(DeliveryConfig{Targets: map[string]Target{"acme": tgt}, Attempts: 5, Initial: time.Millisecond, Max: 2 * time.Millisecond,
		ReceiptGrace: time.Second}, st, nil, NewHealth(), m, slog.New(slog.DiscardHandler))
}

// insertDelivery records delivery id of acme in state, due at next (a lease
// until then when working).
func insertDelivery(t *testing.T, st *store.Store, id, state string, next time.Time) {
	t.Helper()
	now := store.Now()
	var lease any
	if state == StateWorking {
		lease = next.UTC().Truncate(time.Microsecond)
	}
	if _, err := st.DB().Exec(st.Rebind(`INSERT INTO deliveries (id, partner, via, name, handler, topic, payload, metadata, state, next_at, lease_until, lease_owner, created_at, updated_at)
		VALUES (?, 'acme', 'inbox', ?, ?, ?, ?, '{}', ?, ?, ?, 'someone', ?, ?)`), id, "997_"+id+".edi", HandlerAcks, "edi.acks", []byte("ISA"), state,
		next.UTC().Truncate(time.Microsecond), lease, now, now); err != nil {
		t.Fatal(err)
	}
}

func deliveryOf(t *testing.T, d *Delivery, id string) DeliveryState {
	t.Helper()
	ds, err := d.Deliveries(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ds {
		if s.ID == id {
			return s
		}
	}
	t.Fatalf("no delivery %s", id)
	return DeliveryState{}
}

// A delivery awaiting its receipt that nothing settles — the hub stopped
// between claiming the receipt (or the overdue record) and recording what it
// said — is taken over by a worker ReceiptGrace after its deadline, as
// overdue: resent (or parked once its attempts are used up). Awaiting
// deliveries have their own gauge.
func TestAwaitingDeliveryTakenOverWhenOverdue(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		tgt := &recordingTarget{}
		d := testDelivery(t, st, tgt)
		insertDelivery(t, st, "stuck", StateAwaiting, time.Now().Add(-time.Hour))
		insertDelivery(t, st, "waiting", StateAwaiting, time.Now().Add(-100*time.Millisecond)) // within the grace
		d.updatePending(ctx)
		var g dto.Metric
		if err := d.metrics.awaiting.WithLabelValues("acme").Write(&g); err != nil || g.GetGauge().GetValue() != 2 {
			got := g.GetGauge().GetValue()
			t.Errorf("awaiting gauge = %v, want 2", got)
		}
		did, err := d.once(ctx)
		if err != nil || !did {
			t.Fatalf("once = %v, %v; want the overdue delivery taken", did, err)
		}
		if s := deliveryOf(t, d, "stuck"); s.State != StatePending || s.Attempts != 1 || !strings.Contains(s.LastError, "receipt overdue") {
			t.Fatalf("after the take-over: %+v; want pending for a resend, 1 attempt, the overdue receipt as the reason", s)
		}
		time.Sleep(20 * time.Millisecond)
		if did, err := d.once(ctx); err != nil || !did {
			t.Fatalf("the resend: %v, %v", did, err)
		}
		if s := deliveryOf(t, d, "stuck"); s.State != StateDelivered || len(tgt.puts) != 1 {
			t.Fatalf("after the resend: %+v, %d puts", s, len(tgt.puts))
		}
		if did, err := d.once(ctx); err != nil || did {
			t.Fatalf("a delivery within the grace was taken: %v, %v", did, err)
		}
		if s := deliveryOf(t, d, "waiting"); s.State != StateAwaiting {
			t.Fatalf("the delivery within the grace: %+v", s)
		}
	})
}

// The sweep finds a message's MDN overdue while its delivery is still being
// sent (the POST outlasting async_mdn_timeout): the claim is put back with a
// later deadline instead of being dropped, and as2_sent is left to the send.
func TestSweepKeepsClaimWhileStillSending(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		d := testDelivery(t, st, &recordingTarget{})
		insertDelivery(t, st, "slow", StateWorking, time.Now().Add(time.Minute))
		const mid = "<997_slow.edi.acme.0123@PAKLOG>"
		if _, err := st.DB().Exec(st.Rebind(`INSERT INTO as2_sent (message_id, partner, name, mic, status, disposition, sent_at, delivery_id)
			VALUES (?, 'acme', '997_slow.edi', '', ?, '', ?, 'slow')`), mid, sentSending, store.Now()); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte("x"))
		sent := time.Now().Add(-2 * time.Second)
		ps := PendingStore{Store: st}
		if err := ps.Save(ctx, connas2.Pending{MessageID: mid, Partner: "ACME", MIC: edias2.MIC{Digest: edias2.SHA256, Value: sum[:]},
			SentAt: sent, Deadline: sent.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		a := &AS2{store: st, pending: ps, delivery: d, now: time.Now, log: slog.New(slog.DiscardHandler), sweep: time.Second, byAS2ID: map[string]*as2Partner{}}
		if err := a.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		p, err := ps.Peek(ctx, "ACME", mid)
		if err != nil {
			t.Fatalf("the claim of a message still being sent was dropped: %v", err)
		}
		if !p.Deadline.After(time.Now()) {
			t.Errorf("the claim was put back due at %s; want a later deadline", p.Deadline)
		}
		var status string
		var overdue bool
		if err := st.DB().QueryRow(st.Rebind(`SELECT status, mdn_overdue FROM as2_sent WHERE message_id = ?`), mid).Scan(&status, &overdue); err != nil {
			t.Fatal(err)
		}
		if status != sentSending || overdue {
			t.Errorf("as2_sent = %q, overdue %v; want it left to the send", status, overdue)
		}
		if s := deliveryOf(t, d, "slow"); s.State != StateWorking || s.Attempts != 0 {
			t.Errorf("delivery = %+v; want still working", s)
		}
	})
}

// A message given up on is found by its mdn_overdue flag, not by the text of
// its status: a late MDN matches it once.
func TestLateMDNMatchesOnTheOverdueFlag(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sum := sha256.Sum256([]byte("x"))
		mic := edias2.MIC{Digest: edias2.SHA256, Value: sum[:]}.String()
		for _, r := range []struct {
			id, status string
			overdue    bool
		}{
			{"<flagged@PAKLOG>", "failed: the receipt did not come (reworded)", true},
			{"<text-only@PAKLOG>", "failed: " + ErrMDNOverdue.Error() + ": but settled since", false},
		} {
			if _, err := st.DB().Exec(st.Rebind(`INSERT INTO as2_sent (message_id, partner, name, mic, status, disposition, sent_at, delivery_id, mdn_overdue)
				VALUES (?, 'acme', 'x.edi', ?, ?, '', ?, 'd', ?)`), r.id, mic, r.status, store.Now(), r.overdue); err != nil {
				t.Fatal(err)
			}
		}
		ps := PendingStore{Store: st, Names: func(id string) (string, bool) { return "acme", id == "ACME" }}
		if _, err := ps.Match(ctx, "ACME", "<flagged@PAKLOG>"); err != nil {
			t.Errorf("a message flagged overdue did not match: %v", err)
		}
		if _, err := ps.Match(ctx, "ACME", "<flagged@PAKLOG>"); err == nil {
			t.Error("a message flagged overdue matched twice")
		}
		if _, err := ps.Match(ctx, "ACME", "<text-only@PAKLOG>"); err == nil {
			t.Error("a message whose status merely reads overdue matched")
		}
	})
}
