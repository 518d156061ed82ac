package router_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

func testOrder(n int) *canonical.Order {
	return &canonical.Order{
		Source:      canonical.Source{Channel: canonical.ChannelAPI, Partner: "test", ExternalID: fmt.Sprintf("EXT-%d", n), Document: "api"},
		OrderNumber: fmt.Sprintf("T-%d", n),
		ShipTo:      canonical.Address{Name: "Test Person", Address1: "1 Main St", City: "Springfield", Country: "US"},
		Lines:       []canonical.Line{{LineNumber: "1", SKU: "SKU-1", Quantity: 1}},
	}
}

// counter records which orders a handler processed successfully.
type counter struct {
	mu   sync.Mutex
	seen map[string]int
}

func (c *counter) add(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	c.seen[id]++
}

func (c *counter) get(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.seen[id]
}

func (c *counter) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen)
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type testHub struct {
	st      *store.Store
	r       *router.Router
	in      *intake.Intake
	console *dlq.Console
}

func startHub(t *testing.T, st *store.Store, register func(r *router.Router) error) *testHub {
	t.Helper()
	r := hubtest.StartRouter(t, st, register)
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	return &testHub{st: st, r: r, in: in, console: dlq.NewConsole(st, router.Topics{})}
}

func (h *testHub) accept(t *testing.T, n int) string {
	t.Helper()
	res, err := h.in.Accept(context.Background(), intake.Item{Source: "api", Partner: "test", IdempotencyKey: fmt.Sprintf("key-%d", n),
		Payload: []byte(fmt.Sprintf(`{"n":%d}`, n)), Order: testOrder(n)})
	if err != nil {
		t.Fatal(err)
	}
	return res.OrderID
}

func decode(t *testing.T, msg *message.Message) canonical.Order {
	o, err := canonical.DecodeOrder(msg.Payload)
	if err != nil {
		t.Errorf("handler got an invalid order: %v", err)
	}
	return o
}

func orderID(t *testing.T, msg *message.Message) string { return decode(t, msg).OrderID }

// A handler that always fails for one order parks it in the DLQ with its reason while
// the other orders flow past; after the fix a replay delivers it once, to that handler
// only.
func TestPoisonedMessageIsParkedAndReplayedOnce(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		var mu sync.Mutex
		broken := true
		var flaky, other counter
		h := startHub(t, st, func(r *router.Router) error {
			if err := r.Handle("test.flaky", router.TopicFulfilmentOrders, func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				o := decode(t, msg)
				id := o.OrderID
				mu.Lock()
				fail := broken && o.OrderNumber == "T-0"
				mu.Unlock()
				if fail {
					return fault.AsPermanent(fmt.Errorf("warehouse mapping for order %s: %w", id, errors.New("no warehouse serves SKU-1")))
				}
				flaky.add(id)
				return nil
			}); err != nil {
				return err
			}
			return r.Handle("test.other", router.TopicFulfilmentOrders, func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				other.add(orderID(t, msg))
				return nil
			})
		})

		poisoned := h.accept(t, 0)
		for i := 1; i < 30; i++ {
			h.accept(t, i)
		}
		waitFor(t, "the other 29 orders to pass the failing handler", 20*time.Second, func() bool { return flaky.total() == 29 })
		waitFor(t, "all 30 orders at the other subscriber", 10*time.Second, func() bool { return other.total() == 30 })

		var entries []dlq.Entry
		waitFor(t, "the DLQ entry", 10*time.Second, func() bool {
			var err error
			entries, err = h.console.List(context.Background(), dlq.Filter{})
			return err == nil && len(entries) == 1
		})
		e := entries[0]
		if e.Handler != "test.flaky" || e.Topic != router.TopicFulfilmentOrders || e.ErrorClass != string(fault.Permanent) ||
			e.Attempts != 1 || e.OrderID != poisoned || e.Status != dlq.StatusOpen {
			t.Fatalf("DLQ entry = %+v", e)
		}
		if !strings.Contains(e.Reason, "no warehouse serves SKU-1") || len(e.ErrorChain) != 2 || e.ErrorChain[1] != "no warehouse serves SKU-1" {
			t.Fatalf("reason %q, chain %q: want the whole error chain", e.Reason, e.ErrorChain)
		}
		full, err := h.console.Get(context.Background(), e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if o, err := canonical.DecodeOrder(full.Payload); err != nil || o.OrderID != poisoned {
			t.Fatalf("DLQ payload is not the original order: %v", err)
		}
		if flaky.get(poisoned) != 0 {
			t.Fatal("the failing handler processed the poisoned order")
		}

		mu.Lock()
		broken = false
		mu.Unlock()
		if _, err := h.console.Replay(context.Background(), e.ID, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the replay to reach the fixed handler", 10*time.Second, func() bool { return flaky.get(poisoned) == 1 })

		// Replaying again (forced) is deduplicated by the handler: still once.
		if _, err := h.console.Replay(context.Background(), e.ID, false); !errors.Is(err, dlq.ErrNotOpen) {
			t.Fatalf("replaying a replayed entry without force: %v, want ErrNotOpen", err)
		}
		if _, err := h.console.Replay(context.Background(), e.ID, true); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		if n := flaky.get(poisoned); n != 1 {
			t.Fatalf("the poisoned order reached the fixed handler %d times, want 1", n)
		}
		if n := other.get(poisoned); n != 1 {
			t.Fatalf("the replay reached another subscriber of the topic: %d deliveries, want 1", n)
		}
		trail, err := st.Trail(context.Background(), poisoned)
		if err != nil {
			t.Fatal(err)
		}
		var stages []string
		for _, s := range trail {
			stages = append(stages, s.Stage)
		}
		if got := strings.Join(stages, ","); got != "accepted,routed,dead_lettered,replayed,replayed" {
			t.Fatalf("trail = %s", got)
		}
		got, err := h.console.Get(context.Background(), e.ID)
		if err != nil || got.Status != dlq.StatusReplayed || got.ReplayCount != 2 {
			t.Fatalf("entry after replays = %+v, %v", got, err)
		}
	})
}

// Transient errors are retried within the budget; an attempt's writes are rolled back
// so a retry does not double them; errors that outlast the budget, and panics, are
// parked with their class and attempts.
func TestRetriesSavepointsAndPanics(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		var mu sync.Mutex
		calls := map[string]int{}
		h := startHub(t, st, func(r *router.Router) error {
			return r.Handle("test.retry", router.TopicFulfilmentOrders, func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				o := decode(t, msg)
				id := o.OrderID
				mu.Lock()
				calls[id]++
				n := calls[id]
				mu.Unlock()
				recovers, forever, panics := o.OrderNumber == "T-100", o.OrderNumber == "T-101", o.OrderNumber == "T-102"
				// Written before failing: must not survive a failed attempt.
				if err := tx.Trail(id, "test-attempt", fmt.Sprintf("attempt %d", n)); err != nil {
					return err
				}
				switch {
				case recovers && n <= 2:
					return errors.New("carrier timed out") // unclassified: transient
				case forever:
					return fault.AsTransient(errors.New("connection refused"))
				case panics:
					panic("nil map in mapping")
				}
				return nil
			})
		})
		var ids [3]string
		for i := range ids {
			ids[i] = h.accept(t, 100+i)
		}
		var entries []dlq.Entry
		waitFor(t, "two DLQ entries", 15*time.Second, func() bool {
			var err error
			entries, err = h.console.List(context.Background(), dlq.Filter{})
			return err == nil && len(entries) == 2
		})
		byOrder := map[string]dlq.Entry{}
		for _, e := range entries {
			byOrder[e.OrderID] = e
		}
		if e := byOrder[ids[1]]; e.ErrorClass != string(fault.Transient) || e.Attempts != 3 {
			t.Fatalf("transient-forever entry: class %s attempts %d, want transient and 3 (1 + 2 retries)", e.ErrorClass, e.Attempts)
		}
		if e := byOrder[ids[2]]; e.ErrorClass != string(fault.Permanent) || e.Attempts != 1 || !strings.Contains(e.Reason, "panicked") {
			t.Fatalf("panic entry: %+v", e)
		}
		waitFor(t, "the recovering order's trail", 10*time.Second, func() bool {
			trail, _ := st.Trail(context.Background(), ids[0])
			return len(trail) >= 3
		})
		trail, _ := st.Trail(context.Background(), ids[0])
		var attempts []string
		for _, s := range trail {
			if s.Stage == "test-attempt" {
				attempts = append(attempts, s.Detail)
			}
		}
		if len(attempts) != 1 || attempts[0] != "attempt 3" {
			t.Fatalf("trail of the recovering order has attempts %q: failed attempts' writes must roll back", attempts)
		}
		for _, id := range ids[1:] {
			trail, _ := st.Trail(context.Background(), id)
			for _, s := range trail {
				if s.Stage == "test-attempt" {
					t.Fatalf("order %s: a failed attempt's write survived", id)
				}
			}
		}
	})
}

// Regressions found in review: a replay that fails again reopens its entry instead of
// adding one; deferred work is parked without waiting inside the consumer's
// transaction; an empty message is parked, and the DLQ keeps storing after it.
func TestReplayFailingAgainDeferredAndEmptyPayloads(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		h := startHub(t, st, func(r *router.Router) error {
			if err := r.Handle("test.broken", router.TopicFulfilmentOrders, func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				if decode(t, msg).OrderNumber == "T-1" {
					return fault.AsDeferred(errors.New("carrier breaker open"), time.Minute)
				}
				return fault.AsPermanent(errors.New("still broken"))
			}); err != nil {
				return err
			}
			return r.Handle("test.empty", router.TopicFulfilmentShipments, func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				return fault.AsValidation(errors.New("empty shipment event"))
			})
		})
		h.accept(t, 0)
		var entries []dlq.Entry
		waitFor(t, "the first entry", 10*time.Second, func() bool {
			entries, _ = h.console.List(context.Background(), dlq.Filter{Handler: "test.broken"})
			return len(entries) == 1
		})
		first := entries[0]
		if _, err := h.console.Replay(context.Background(), first.ID, false); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the replay to fail again", 10*time.Second, func() bool {
			e, _ := h.console.Get(context.Background(), first.ID)
			return e.Status == dlq.StatusOpen && e.TimesFailed == 2
		})
		if entries, _ = h.console.List(context.Background(), dlq.Filter{Handler: "test.broken"}); len(entries) != 1 {
			t.Fatalf("%d entries after a failed replay, want the one entry reopened", len(entries))
		}

		// A deferred error is parked as deferred, and does not hold the writer: an
		// accept right after it commits at once.
		h.accept(t, 1)
		waitFor(t, "the deferred entry", 10*time.Second, func() bool {
			entries, _ = h.console.List(context.Background(), dlq.Filter{Handler: "test.broken"})
			return len(entries) == 2
		})
		if entries[0].ErrorClass != string(fault.Deferred) {
			t.Fatalf("class %s, want deferred", entries[0].ErrorClass)
		}
		start := time.Now()
		h.accept(t, 2)
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("an accept took %s while deferred work waited", d)
		}

		// An empty message is parked with an empty payload, and entries after it are
		// still stored.
		pub, err := st.Publisher(st.DB())
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Publish(router.TopicFulfilmentShipments, message.NewMessage("empty-1", nil), message.NewMessage("empty-2", []byte("x"))); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "both shipment events parked", 10*time.Second, func() bool {
			entries, _ = h.console.List(context.Background(), dlq.Filter{Handler: "test.empty"})
			return len(entries) == 2
		})
	})
}
