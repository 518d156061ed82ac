package intake_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

const partner = "acme"

var apiTopic = router.InboundTopic("api")

var sampleOrder = sync.OnceValues(func() (canonical.Order, error) {
	data, err := os.ReadFile("../../canonical/testdata/paklog.order.v1.valid.json")
	if err != nil {
		return canonical.Order{}, err
	}
	return canonical.DecodeOrder(data)
})

// newOrder is the sample order as the order API hands it to the intake: from channel
// api, no order id yet, not yet received.
func newOrder(t testing.TB, externalID string) canonical.Order {
	t.Helper()
	o, err := sampleOrder()
	if err != nil {
		t.Fatalf("loading the sample order: %v", err)
	}
	o.OrderID = ""
	o.Source.Channel = canonical.ChannelAPI
	o.Source.Partner = partner
	o.Source.ExternalID = externalID
	o.Source.ReceivedAt = time.Time{}
	return o
}

// orderItem is what the order API accepts for an order: its request body and the order.
func orderItem(t testing.TB, key, externalID string) intake.Item {
	t.Helper()
	o := newOrder(t, externalID)
	body, err := o.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return intake.Item{Source: "api", Partner: partner, IdempotencyKey: key, Payload: body, ContentType: "application/json", Order: &o}
}

func newIntake(t testing.TB, st *store.Store, cfg intake.Config) *intake.Intake {
	t.Helper()
	return newIntakeLog(t, st, cfg, nil)
}

func newIntakeLog(t testing.TB, st *store.Store, cfg intake.Config, logger *slog.Logger) *intake.Intake {
	t.Helper()
	if err := st.InitTopics(context.Background(), apiTopic, router.InboundTopic("csv")); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, router.Topics{}, cfg, logger)
	t.Cleanup(in.Close)
	return in
}

func accept(t *testing.T, in *intake.Intake, item intake.Item) intake.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := in.Accept(ctx, item)
	if err != nil {
		t.Fatalf("Accept(%s): %v", item.IdempotencyKey, err)
	}
	return res
}

func count(t *testing.T, st *store.Store, q string, args ...any) int {
	t.Helper()
	return storetest.Count(t, st, q, args...)
}

func countMessages(t *testing.T, st *store.Store, topic string) int {
	t.Helper()
	return count(t, st, "SELECT COUNT(*) FROM "+st.MessagesTable(topic))
}

// published reads a message of topic back from the read pool.
func published(t *testing.T, st *store.Store, topic, uuid string) (payload []byte, metadata map[string]string) {
	t.Helper()
	var md []byte
	err := st.ReadDB().QueryRow(st.Rebind(`SELECT payload, metadata FROM `+st.MessagesTable(topic)+` WHERE uuid = ?`), uuid).Scan(&payload, &md)
	if err != nil {
		t.Fatalf("reading message %s of %s: %v", uuid, topic, err)
	}
	if err := json.Unmarshal(md, &metadata); err != nil {
		t.Fatalf("metadata of message %s: %v", uuid, err)
	}
	return payload, metadata
}

// TestAcceptIsDurableOnReturn checks that when Accept returns, everything it promises
// is committed: another connection (the read pool) already sees it.
func TestAcceptIsDurableOnReturn(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		in := newIntake(t, st, intake.Config{})
		for i := range 10 {
			key, ext := fmt.Sprintf("key-%d", i), fmt.Sprintf("EXT-%d", i)
			item := orderItem(t, key, ext)
			item.Metadata = map[string]string{"http_request_id": fmt.Sprintf("req-%d", i)}
			res := accept(t, in, item)

			if res.Duplicate || !strings.HasPrefix(res.OrderID, canonical.OrderIDPrefix) || res.MessageUUID == "" || res.CorrelationID == "" {
				t.Fatalf("Accept(%s) = %+v, want a new order id, message and correlation id", key, res)
			}
			if res.ReceivedAt.IsZero() || res.ReceivedAt.Location() != time.UTC {
				t.Errorf("ReceivedAt = %v, want a UTC time", res.ReceivedAt)
			}

			var uuid, corr, orderID, hash string
			var raw []byte
			err := st.ReadDB().QueryRow(st.Rebind(`SELECT message_uuid, correlation_id, order_id, request_hash, payload FROM ingest
				WHERE source = ? AND partner = ? AND idempotency_key = ?`), "api", partner, key).Scan(&uuid, &corr, &orderID, &hash, &raw)
			if err != nil {
				t.Fatalf("ingest row of %s right after Accept: %v", key, err)
			}
			if uuid != res.MessageUUID || corr != res.CorrelationID || orderID != res.OrderID {
				t.Errorf("ingest row (%s, %s, %s), want the result's (%s, %s, %s)", uuid, corr, orderID, res.MessageUUID, res.CorrelationID, res.OrderID)
			}
			if string(raw) != string(item.Payload) || hash != intake.RequestHash(item.Payload) {
				t.Errorf("ingest row keeps %d bytes hashed %s, want the request body byte for byte", len(raw), hash)
			}

			if n := count(t, st, `SELECT COUNT(*) FROM order_ids WHERE channel = ? AND partner = ? AND external_id = ? AND order_id = ?`,
				"api", partner, ext, res.OrderID); n != 1 {
				t.Errorf("order_ids rows mapping api/%s/%s to %s: %d, want 1", partner, ext, res.OrderID, n)
			}

			trail, err := st.Trail(ctx, res.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if len(trail) != 1 || trail[0].Stage != store.StageAccepted || trail[0].MessageUUID != res.MessageUUID ||
				trail[0].CorrelationID != res.CorrelationID || trail[0].Topic != apiTopic {
				t.Errorf("trail right after Accept: %+v, want one accepted entry for message %s", trail, res.MessageUUID)
			}

			payload, md := published(t, st, apiTopic, res.MessageUUID)
			got, err := canonical.DecodeOrder(payload)
			if err != nil {
				t.Fatalf("published payload is not a valid order: %v\n%s", err, payload)
			}
			want := *item.Order
			want.Schema = canonical.SchemaOrder
			want.OrderID = res.OrderID
			want.Source.ReceivedAt = res.ReceivedAt
			if !got.Source.ReceivedAt.Equal(res.ReceivedAt) {
				t.Errorf("published source.received_at %v, want the result's %v", got.Source.ReceivedAt, res.ReceivedAt)
			}
			got.Source.ReceivedAt = want.Source.ReceivedAt
			if !reflect.DeepEqual(got, want) {
				t.Errorf("published order:\n got %+v\nwant %+v", got, want)
			}
			wantMD := map[string]string{
				router.MetaCorrelationID:  res.CorrelationID,
				router.MetaSource:         "api",
				router.MetaPartner:        partner,
				router.MetaIdempotencyKey: "api:" + partner + ":" + key,
				router.MetaOrderID:        res.OrderID,
				router.MetaSchema:         canonical.SchemaOrder,
				"http_request_id":         fmt.Sprintf("req-%d", i),
			}
			if !maps.Equal(md, wantMD) {
				t.Errorf("published metadata:\n got %v\nwant %v", md, wantMD)
			}
		}
		if n := countMessages(t, st, apiTopic); n != 10 {
			t.Errorf("%s holds %d messages, want 10", apiTopic, n)
		}
	})
}

// TestAcceptRawPayload: an item without an order is published byte for byte to
// inbound.<source>, with no order id.
func TestAcceptRawPayload(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		in := newIntake(t, st, intake.Config{})
		raw := []byte("order_number,sku,qty\n1042,TENT-2P-GRN,1\n\xff\xfe not UTF-8\n")
		res := accept(t, in, intake.Item{Source: "csv", Partner: partner, IdempotencyKey: "file:orders.csv", Payload: raw, ContentType: "text/csv"})
		if res.OrderID != "" {
			t.Errorf("OrderID = %q for an item without an order, want none", res.OrderID)
		}
		payload, md := published(t, st, router.InboundTopic("csv"), res.MessageUUID)
		if string(payload) != string(raw) {
			t.Errorf("published payload %q, want %q", payload, raw)
		}
		if _, ok := md[router.MetaOrderID]; ok || md[router.MetaSource] != "csv" {
			t.Errorf("metadata %v: want source csv and no order_id", md)
		}
	})
}

func TestDuplicatesAndConflicts(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		in := newIntake(t, st, intake.Config{})
		item := orderItem(t, "k1", "E1")
		first := accept(t, in, item)

		t.Run("same key, same payload", func(t *testing.T) {
			dup := accept(t, in, item)
			if !dup.Duplicate {
				t.Error("Duplicate = false, want true")
			}
			if dup.OrderID != first.OrderID || dup.MessageUUID != first.MessageUUID || dup.CorrelationID != first.CorrelationID || !dup.ReceivedAt.Equal(first.ReceivedAt) {
				t.Errorf("duplicate result %+v, want the first result %+v", dup, first)
			}
		})

		t.Run("same key, other payload", func(t *testing.T) {
			changed := orderItem(t, "k1", "E1")
			changed.Order.Notes = "leave at the back door"
			changed.Payload, _ = changed.Order.MarshalJSON()
			_, err := in.Accept(context.Background(), changed)
			if !errors.Is(err, intake.ErrConflict) {
				t.Fatalf("Accept = %v, want ErrConflict", err)
			}
			var conflict *intake.ConflictError
			if !errors.As(err, &conflict) || !strings.Contains(conflict.Reason, `"k1"`) {
				t.Errorf("error %v: want a *ConflictError naming the key k1", err)
			}
		})

		t.Run("same order, other key", func(t *testing.T) {
			_, err := in.Accept(context.Background(), orderItem(t, "k2", "E1"))
			if !errors.Is(err, intake.ErrConflict) {
				t.Fatalf("Accept = %v, want ErrConflict", err)
			}
			var conflict *intake.ConflictError
			if !errors.As(err, &conflict) || conflict.OrderID != first.OrderID || !strings.Contains(conflict.Reason, first.OrderID) {
				t.Errorf("error %v: want a *ConflictError naming the existing order %s", err, first.OrderID)
			}
		})

		if n := countMessages(t, st, apiTopic); n != 1 {
			t.Errorf("%s holds %d messages, want only the first", apiTopic, n)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM ingest`); n != 1 {
			t.Errorf("%d ingest rows, want 1", n)
		}
		if n := count(t, st, `SELECT COUNT(*) FROM order_ids`); n != 1 {
			t.Errorf("%d order ids, want 1", n)
		}
	})
}

// acceptAll runs Accept for every item at once and returns results and errors by index.
func acceptAll(in *intake.Intake, items []intake.Item) ([]intake.Result, []error) {
	results := make([]intake.Result, len(items))
	errs := make([]error, len(items))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			<-start
			results[i], errs[i] = in.Accept(ctx, item)
		})
	}
	close(start)
	wg.Wait()
	return results, errs
}

func TestGroupCommitUnderConcurrency(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		const n = 500
		in := newIntake(t, st, intake.Config{MaxBatch: 64})
		items := make([]intake.Item, n)
		for i := range items {
			items[i] = orderItem(t, fmt.Sprintf("key-%03d", i), fmt.Sprintf("EXT-%03d", i))
		}
		results, errs := acceptAll(in, items)
		ids := map[string]bool{}
		for i, err := range errs {
			if err != nil {
				t.Fatalf("Accept #%d: %v", i, err)
			}
			if results[i].Duplicate {
				t.Errorf("Accept #%d: a duplicate, want new", i)
			}
			ids[results[i].OrderID] = true
		}
		if len(ids) != n {
			t.Errorf("%d distinct order ids, want %d", len(ids), n)
		}
		if got := count(t, st, `SELECT COUNT(*) FROM ingest`); got != n {
			t.Errorf("%d ingest rows, want %d", got, n)
		}
		if got := countMessages(t, st, apiTopic); got != n {
			t.Errorf("%d messages, want %d", got, n)
		}
		if got := count(t, st, `SELECT COUNT(DISTINCT order_id) FROM order_ids`); got != n {
			t.Errorf("%d distinct order ids stored, want %d", got, n)
		}
		if st.Dialect() == store.Postgres {
			// Each message records its transaction: fewer transactions than messages
			// means accepts were committed together.
			txs := count(t, st, `SELECT COUNT(DISTINCT transaction_id) FROM `+st.MessagesTable(apiTopic))
			t.Logf("%d accepts committed in %d transactions", n, txs)
			if txs >= n {
				t.Errorf("%d accepts took %d transactions: no group commit", n, txs)
			}
		}
	})
}

// TestConcurrentRetriesOfOneKey sends one payload many times at once, as a sender
// retrying on timeouts does: one acceptance, every other answer a duplicate of it, even
// when the copies land in different writers' transactions (PostgreSQL runs 4).
func TestConcurrentRetriesOfOneKey(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		in := newIntake(t, st, intake.Config{MaxBatch: 64})
		raw := intake.Item{Source: "csv", Partner: partner, IdempotencyKey: "file:retried.csv", Payload: []byte("order_number,sku,qty\n7,SKU,1\n")}
		for _, tc := range []struct {
			name  string
			item  intake.Item
			topic string
		}{
			{"order", orderItem(t, "retried", "EXT-RETRIED"), apiTopic},
			{"raw payload", raw, router.InboundTopic("csv")},
		} {
			t.Run(tc.name, func(t *testing.T) {
				const n = 200
				items := make([]intake.Item, n)
				for i := range items {
					items[i] = tc.item
				}
				results, errs := acceptAll(in, items)
				var firsts []intake.Result
				for i, err := range errs {
					if err != nil {
						t.Errorf("Accept #%d: %v", i, err)
						continue
					}
					if !results[i].Duplicate {
						firsts = append(firsts, results[i])
					}
				}
				if t.Failed() {
					return
				}
				if len(firsts) != 1 {
					t.Fatalf("%d of %d accepts of one key were not duplicates, want exactly 1", len(firsts), n)
				}
				for i, r := range results {
					if r.OrderID != firsts[0].OrderID || r.MessageUUID != firsts[0].MessageUUID || r.CorrelationID != firsts[0].CorrelationID {
						t.Errorf("Accept #%d = %+v, want the first result %+v", i, r, firsts[0])
					}
				}
				if got := countMessages(t, st, tc.topic); got != 1 {
					t.Errorf("%d messages on %s, want 1", got, tc.topic)
				}
				if got := count(t, st, `SELECT COUNT(*) FROM ingest WHERE idempotency_key = ?`, tc.item.IdempotencyKey); got != 1 {
					t.Errorf("%d ingest rows, want 1", got)
				}
			})
		}
	})
}

// TestOneBadItemDoesNotFailItsBatch fills exactly one batch (MaxBatch items, a MaxWait
// far longer than the test) with good items and two bad ones: a reuse of another item's
// idempotency key with a different payload, refused before it writes, and an item whose
// ingest row fails in SQL (no payload) after it has taken an order id, whose savepoint
// must undo that id.
func TestOneBadItemDoesNotFailItsBatch(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		const good = 8
		var items []intake.Item
		for i := range good {
			items = append(items, orderItem(t, fmt.Sprintf("good-%d", i), fmt.Sprintf("GOOD-%d", i)))
		}
		reused := orderItem(t, "good-0", "REUSED") // good-0's key, another payload
		noPayload := orderItem(t, "no-payload", "NO-PAYLOAD")
		noPayload.Payload = nil
		items = append(items, reused, noPayload)

		in := newIntake(t, st, intake.Config{MaxBatch: len(items), MaxWait: time.Minute, Writers: 1})
		begin := time.Now()
		results, errs := acceptAll(in, items)
		if took := time.Since(begin); took > 30*time.Second {
			t.Fatalf("the batch took %s: it did not fill", took)
		}

		// good-0 and its reuse race for the key: exactly one of them wins.
		conflicts := 0
		for _, i := range []int{0, good} {
			if errors.Is(errs[i], intake.ErrConflict) {
				conflicts++
			} else if errs[i] != nil {
				t.Errorf("Accept(%s, %s): %v, want success or ErrConflict", items[i].IdempotencyKey, items[i].Order.Source.ExternalID, errs[i])
			}
		}
		if conflicts != 1 {
			t.Errorf("good-0 and its reuse: %d conflicts, want exactly 1 (%v, %v)", conflicts, errs[0], errs[good])
		}
		if errs[good+1] == nil {
			t.Errorf("Accept(no payload) succeeded: %+v", results[good+1])
		}
		if n := count(t, st, `SELECT COUNT(*) FROM order_ids WHERE external_id = 'NO-PAYLOAD'`); n != 0 {
			t.Errorf("the failed item left %d order_ids rows, want its savepoint rolled back", n)
		}
		for i := 1; i < good; i++ {
			if errs[i] != nil {
				t.Errorf("Accept(%s) in the same batch: %v", items[i].IdempotencyKey, errs[i])
			}
		}
		if got := countMessages(t, st, apiTopic); got != good {
			t.Errorf("%d messages, want %d (every good item, once)", got, good)
		}
		if got := count(t, st, `SELECT COUNT(*) FROM ingest`); got != good {
			t.Errorf("%d ingest rows, want %d", got, good)
		}
		if st.Dialect() == store.Postgres {
			if txs := count(t, st, `SELECT COUNT(DISTINCT transaction_id) FROM `+st.MessagesTable(apiTopic)); txs != 1 {
				t.Errorf("the items were committed in %d transactions, want 1 batch", txs)
			}
		}
	})
}

// blockWrites holds the database so that the intake's writer waits in its commit,
// until release is called.
func blockWrites(t *testing.T, st *store.Store) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := st.DB().BeginTx(ctx, nil) // SQLite: the only write connection, BEGIN IMMEDIATE
	if err != nil {
		t.Fatal(err)
	}
	if st.Dialect() == store.Postgres {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE ingest IN EXCLUSIVE MODE`); err != nil {
			tx.Rollback()
			t.Fatal(err)
		}
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

func TestClose(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		t.Run("queued items commit", func(t *testing.T) {
			const n = 5
			in := newIntake(t, st, intake.Config{MaxBatch: 8, Writers: 1})
			release := blockWrites(t, st)
			items := make([]intake.Item, n)
			for i := range items {
				items[i] = orderItem(t, fmt.Sprintf("queued-%d", i), fmt.Sprintf("QUEUED-%d", i))
			}
			var errs []error
			accepted := make(chan struct{})
			go func() {
				_, errs = acceptAll(in, items)
				close(accepted)
			}()
			time.Sleep(300 * time.Millisecond) // all n are queued: the writer waits on the database
			closed := make(chan struct{})
			go func() {
				in.Close()
				close(closed)
			}()
			select {
			case <-closed:
				t.Fatal("Close returned while queued items were waiting to commit")
			case <-time.After(100 * time.Millisecond):
			}
			release()
			<-closed
			<-accepted
			for i, err := range errs {
				if err != nil {
					t.Errorf("Accept(%s), queued before Close: %v", items[i].IdempotencyKey, err)
				}
			}
			if got := count(t, st, `SELECT COUNT(*) FROM ingest WHERE idempotency_key LIKE 'queued-%'`); got != n {
				t.Errorf("%d queued items committed, want %d", got, n)
			}
		})

		t.Run("Accept after Close", func(t *testing.T) {
			in := newIntake(t, st, intake.Config{})
			in.Close()
			for i := range 50 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := in.Accept(ctx, orderItem(t, fmt.Sprintf("late-%d", i), fmt.Sprintf("LATE-%d", i)))
				cancel()
				if !errors.Is(err, intake.ErrClosed) {
					t.Fatalf("Accept #%d after Close: %v, want ErrClosed", i, err)
				}
			}
			if got := count(t, st, `SELECT COUNT(*) FROM ingest WHERE idempotency_key LIKE 'late-%'`); got != 0 {
				t.Errorf("%d items accepted after Close, want 0", got)
			}
		})

		t.Run("Close during Accepts", func(t *testing.T) {
			// Senders keep accepting until they are told the intake is closed; none may
			// hang, and every success must be committed.
			in := newIntake(t, st, intake.Config{MaxBatch: 4})
			const senders = 8
			var succeeded atomic.Int64
			var wg sync.WaitGroup
			for s := range senders {
				wg.Go(func() {
					for i := 0; ; i++ {
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						_, err := in.Accept(ctx, orderItem(t, fmt.Sprintf("racing-%d-%d", s, i), fmt.Sprintf("RACING-%d-%d", s, i)))
						cancel()
						switch {
						case err == nil:
							succeeded.Add(1)
						case errors.Is(err, intake.ErrClosed):
							return
						default:
							t.Errorf("sender %d, Accept #%d racing Close: %v, want success or ErrClosed", s, i, err)
							return
						}
					}
				})
			}
			time.Sleep(50 * time.Millisecond)
			in.Close()
			wg.Wait()
			if got := count(t, st, `SELECT COUNT(*) FROM ingest WHERE idempotency_key LIKE 'racing-%'`); got != int(succeeded.Load()) || got == 0 {
				t.Errorf("%d racing items committed, %d Accepts succeeded; want the same, and some", got, succeeded.Load())
			}
		})
	})
}

func TestAcceptContext(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		in := newIntake(t, st, intake.Config{Writers: 1})

		t.Run("cancelled before Accept", func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			if _, err := in.Accept(ctx, orderItem(t, "cancelled", "CANCELLED")); !errors.Is(err, context.Canceled) {
				t.Errorf("Accept with a cancelled ctx: %v, want context.Canceled", err)
			}
		})

		t.Run("ends while waiting; a retry is a duplicate", func(t *testing.T) {
			release := blockWrites(t, st)
			item := orderItem(t, "slow", "SLOW")
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if _, err := in.Accept(ctx, item); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Accept while the database is held: %v, want context.DeadlineExceeded", err)
			}
			release()
			res := accept(t, in, item)
			if !res.Duplicate {
				t.Errorf("the sender's retry: %+v, want a duplicate of the item queued before its ctx ended", res)
			}
		})
	})
}

func BenchmarkAccept(b *testing.B) {
	for _, d := range []struct {
		name string
		cfg  func(testing.TB) store.Config
	}{
		{"sqlite", storetest.SQLiteConfig},
		{"postgres", storetest.PostgresConfig},
	} {
		b.Run(d.name, func(b *testing.B) {
			st := storetest.Open(b, d.cfg(b))
			in := newIntake(b, st, intake.Config{})
			var seq atomic.Int64
			b.SetParallelism(32) // concurrent senders, as on a busy order API
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					item := orderItem(b, fmt.Sprintf("bench-%d", i), fmt.Sprintf("BENCH-%d", i))
					if _, err := in.Accept(context.Background(), item); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "accepts/s")
		})
	}
}

// Regression found in review: when the transaction cannot even begin, every waiting
// caller gets an error (and so a 503), never a zero result with a nil error.
func TestAcceptWhenTheDatabaseIsGone(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		defer in.Close()
		st.DB().Close()
		res, err := in.Accept(context.Background(), intake.Item{Source: "csv", Partner: "p", IdempotencyKey: "k", Payload: []byte("x")})
		if err == nil {
			t.Fatalf("Accept returned %+v and no error with the database closed", res)
		}
	})
}

// TestPayloadsWithoutAnOrderInOneBatch fills one batch with payloads that carry no
// order (webhook bodies, files), which are looked up and inserted with one statement
// each for the whole batch, and checks each answer against what separate accepts give:
// new keys accepted once, a key accepted in an earlier batch a duplicate (or a conflict
// with another payload), and a key sent twice in the same batch one acceptance plus a
// duplicate of it (or a conflict with another payload), a bad item failing alone.
func TestPayloadsWithoutAnOrderInOneBatch(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		csv := router.InboundTopic("csv")
		raw := func(key, body string) intake.Item {
			return intake.Item{Source: "csv", Partner: partner, IdempotencyKey: key, Payload: []byte(body), ContentType: "text/csv",
				Metadata: map[string]string{"file": key}}
		}
		setup := newIntake(t, st, intake.Config{})
		earlier := accept(t, setup, raw("earlier.csv", "a,b\n1,2\n"))

		const fresh = 6
		var items []intake.Item
		for i := range fresh {
			items = append(items, raw(fmt.Sprintf("new-%d.csv", i), fmt.Sprintf("n\n%d\n", i)))
		}
		items = append(items,
			raw("earlier.csv", "a,b\n1,2\n"), // fresh: retry of an earlier batch
			raw("earlier.csv", "a,b\n9,9\n"), // fresh+1: reuse of an earlier key
			raw("twice.csv", "t\n1\n"),       // fresh+2, fresh+3: the same delivery twice
			raw("twice.csv", "t\n1\n"),       //
			raw("reused.csv", "r\n1\n"),      // fresh+4, fresh+5: one key, two payloads
			raw("reused.csv", "r\n2\n"),      //
			intake.Item{},                    // fresh+6: replaced below
		)
		items[len(items)-1] = orderItem(t, "bad-order", "BAD-ORDER")
		items[len(items)-1].Payload = nil // an order item whose row fails: its savepoint undoes it alone

		warnings := &warningLog{}
		in := newIntakeLog(t, st, intake.Config{MaxBatch: len(items), MaxWait: time.Minute, Writers: 1}, slog.New(warnings))
		results, errs := acceptAll(in, items)
		if w := warnings.count("accepting its items one at a time"); w != 0 {
			// The order item fails in its own savepoint; the payloads take the
			// one-statement path.
			t.Errorf("the batch fell back to one item at a time %d times, want 0", w)
		}

		for i := range fresh {
			if errs[i] != nil || results[i].Duplicate || results[i].MessageUUID == "" {
				t.Errorf("new item %d: %+v, %v; want a new acceptance", i, results[i], errs[i])
			}
		}
		if r := results[fresh]; errs[fresh] != nil || !r.Duplicate || r.MessageUUID != earlier.MessageUUID || r.CorrelationID != earlier.CorrelationID || !r.ReceivedAt.Equal(earlier.ReceivedAt) {
			t.Errorf("retry of an earlier key: %+v, %v; want a duplicate of %+v", r, errs[fresh], earlier)
		}
		if !errors.Is(errs[fresh+1], intake.ErrConflict) || !strings.Contains(errs[fresh+1].Error(), `"earlier.csv" was used before`) {
			t.Errorf("reuse of an earlier key: %v; want a conflict naming the key", errs[fresh+1])
		}
		a, b := results[fresh+2], results[fresh+3]
		if errs[fresh+2] != nil || errs[fresh+3] != nil || a.Duplicate == b.Duplicate || a.MessageUUID != b.MessageUUID || a.MessageUUID == "" {
			t.Errorf("one delivery twice in a batch: %+v (%v) and %+v (%v); want one acceptance and a duplicate of it", a, errs[fresh+2], b, errs[fresh+3])
		}
		c1, c2 := errors.Is(errs[fresh+4], intake.ErrConflict), errors.Is(errs[fresh+5], intake.ErrConflict)
		if c1 == c2 || (!c1 && errs[fresh+4] != nil) || (!c2 && errs[fresh+5] != nil) {
			t.Errorf("one key, two payloads in a batch: %v and %v; want one accepted and one conflict", errs[fresh+4], errs[fresh+5])
		}
		if errs[fresh+6] == nil {
			t.Errorf("an order item without a payload was accepted: %+v", results[fresh+6])
		}

		// fresh new ones, twice.csv once, reused.csv once, and the earlier one.
		want := fresh + 3
		if got := countMessages(t, st, csv); got != want {
			t.Errorf("%d messages on %s, want %d", got, csv, want)
		}
		if got := count(t, st, `SELECT COUNT(*) FROM ingest`); got != want {
			t.Errorf("%d ingest rows, want %d", got, want)
		}
		payload, md := published(t, st, csv, results[2].MessageUUID)
		if string(payload) != "n\n2\n" || md["file"] != "new-2.csv" || md[router.MetaIdempotencyKey] != "csv:"+partner+":new-2.csv" ||
			md[router.MetaCorrelationID] != results[2].CorrelationID {
			t.Errorf("message of new-2.csv: %q %v", payload, md)
		}
		if st.Dialect() == store.Postgres {
			if txs := count(t, st, `SELECT COUNT(DISTINCT transaction_id) FROM `+st.MessagesTable(csv)+` WHERE uuid <> ?`, earlier.MessageUUID); txs != 1 {
				t.Errorf("the batch was committed in %d transactions, want 1", txs)
			}
		}
	})
}

// TestABadPayloadDoesNotFailItsBatch: when one item of a batch cannot be stored (no
// payload; on PostgreSQL, a key with a NUL byte, which text cannot hold), the one
// statement for the batch fails, and the items are then accepted one at a time, so
// that only the bad ones fail and every other sender is answered.
func TestABadPayloadDoesNotFailItsBatch(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		csv := router.InboundTopic("csv")
		var items []intake.Item
		const good = 5
		for i := range good {
			items = append(items, intake.Item{Source: "csv", Partner: partner, IdempotencyKey: fmt.Sprintf("good-%d.csv", i), Payload: []byte(fmt.Sprintf("g\n%d\n", i))})
		}
		items = append(items,
			intake.Item{Source: "csv", Partner: partner, IdempotencyKey: "no-payload.csv", Payload: nil},
			intake.Item{Source: "csv", Partner: partner, IdempotencyKey: "nul\x00key.csv", Payload: []byte("x")},
		)
		warnings := &warningLog{}
		in := newIntakeLog(t, st, intake.Config{MaxBatch: len(items), MaxWait: time.Minute, Writers: 1}, slog.New(warnings))
		results, errs := acceptAll(in, items)
		if w := warnings.count("accepting its items one at a time"); w != 1 {
			t.Errorf("the batch fell back to one item at a time %d times, want once", w)
		}
		for i := range good {
			if errs[i] != nil || results[i].Duplicate {
				t.Errorf("good item %d: %+v, %v", i, results[i], errs[i])
			}
		}
		if errs[good] == nil {
			t.Errorf("an item without a payload was accepted: %+v", results[good])
		}
		want := good
		if st.Dialect() == store.Postgres {
			if errs[good+1] == nil {
				t.Errorf("a key with a NUL byte was accepted on PostgreSQL: %+v", results[good+1])
			}
		} else if errs[good+1] == nil {
			want++
		}
		if got := countMessages(t, st, csv); got != want {
			t.Errorf("%d messages on %s, want %d", got, csv, want)
		}
		if got := count(t, st, `SELECT COUNT(*) FROM ingest`); got != want {
			t.Errorf("%d ingest rows, want %d", got, want)
		}
	})
}

// warningLog is a slog.Handler that keeps the messages of warnings and errors.
type warningLog struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warningLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warningLog) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	return nil
}
func (w *warningLog) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warningLog) WithGroup(string) slog.Handler      { return w }

func (w *warningLog) count(substr string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, m := range w.msgs {
		if strings.Contains(m, substr) {
			n++
		}
	}
	return n
}

// TestRecordRacedInASnapshot: a router consumer on PostgreSQL works at REPEATABLE
// READ; a key that another transaction commits after its snapshot cannot be answered
// inside it, and Record says so with ErrRaced (try again in a new transaction)
// instead of a bare serialization failure. A new transaction gets the duplicate.
func TestRecordRacedInASnapshot(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			return // SQLite has one writer: no transaction can commit inside another's
		}
		ctx := context.Background()
		in := newIntake(t, st, intake.Config{})
		item := intake.Item{Source: "csv", Partner: partner, IdempotencyKey: "raced.csv", Payload: []byte("r\n1\n")}
		tx, err := st.DB().BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var one int
		if err := tx.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil { // takes the snapshot
			t.Fatal(err)
		}
		first := accept(t, in, item)
		if _, _, err := intake.Record(ctx, st, tx, item); !errors.Is(err, intake.ErrRaced) {
			t.Fatalf("Record after a concurrent commit in a snapshot: %v, want ErrRaced", err)
		}
		tx.Rollback()
		err = st.InTx(ctx, func(tx *sql.Tx) error {
			msg, res, err := intake.Record(ctx, st, tx, item)
			if err != nil || msg != nil || !res.Duplicate || res.MessageUUID != first.MessageUUID {
				t.Errorf("Record in a new transaction: %v, %+v, %v; want the duplicate of %+v", msg, res, err, first)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
