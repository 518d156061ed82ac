package router_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// A handler with WithPrepare finds each message's result prepared ahead of its
// consumer, outside the transaction, and it is that message's result; when there is
// none (the read-ahead is behind, or prepare panicked) it computes it itself. Every
// message is handled once either way.
func TestReadAheadPreparesAheadOfTheConsumer(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		const n = 60
		var prepares atomic.Int64
		prepare := func(msg *message.Message) any {
			if string(msg.Payload) == "panic" {
				panic("prepare failed")
			}
			prepares.Add(1)
			return strings.ToUpper(string(msg.Payload))
		}
		var mu sync.Mutex
		handled := map[string]int{}
		inline := map[string]bool{}
		var hits, misses int
		first := true
		// Every message is committed before the router starts, so the consumer's
		// transaction (on SQLite, the only writer) cannot hold the accepts back.
		if err := st.InitTopics(context.Background(), router.InboundTopic("csv")); err != nil {
			t.Fatal(err)
		}
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		var payloads []string
		for i := range n {
			payloads = append(payloads, fmt.Sprintf("order-%02d", i))
		}
		payloads = append(payloads, "panic")
		for _, p := range payloads {
			if _, err := in.Accept(context.Background(), intake.Item{Source: "csv", Partner: "p", IdempotencyKey: p, Payload: []byte(p)}); err != nil {
				t.Fatal(err)
			}
		}
		in.Close()
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return r.Handle("prep.test", router.InboundTopic("csv"), func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
				mu.Lock()
				wait := first
				first = false
				mu.Unlock()
				if wait && st.Dialect() == store.SQLite {
					// Hold the consumer until the read-ahead has gone past this batch.
					deadline := time.Now().Add(20 * time.Second)
					for prepares.Load() < n/2 && time.Now().Before(deadline) {
						time.Sleep(5 * time.Millisecond)
					}
				}
				v, ok := tx.Prepared()
				want := strings.ToUpper(string(msg.Payload))
				mu.Lock()
				defer mu.Unlock()
				if ok {
					hits++
					if v != want {
						t.Errorf("message %q: prepared %v, want %q (another message's result?)", msg.Payload, v, want)
					}
				} else {
					misses++
					inline[string(msg.Payload)] = true
				}
				handled[string(msg.Payload)]++
				return nil
			}, router.WithPrepare(prepare))
		})
		waitFor(t, "every message handled", 30*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(handled) == len(payloads)
		})
		mu.Lock()
		defer mu.Unlock()
		for _, p := range payloads {
			if handled[p] != 1 {
				t.Errorf("message %q handled %d times, want once", p, handled[p])
			}
		}
		t.Logf("%d prepared ahead, %d inline", hits, misses)
		if st.Dialect() == store.Postgres {
			if hits != 0 {
				t.Errorf("%d messages prepared ahead on PostgreSQL, where the read-ahead is off", hits)
			}
			return
		}
		if !inline["panic"] {
			t.Errorf("the message whose prepare panicked was not handled inline")
		}
		if hits == 0 {
			t.Errorf("no message was prepared ahead of the consumer")
		}
		if hits+misses != len(payloads) {
			t.Errorf("%d hits + %d misses, want %d", hits, misses, len(payloads))
		}
	})
}
