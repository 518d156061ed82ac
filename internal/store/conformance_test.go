package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
)

// TestConformance is the store's acceptance suite: every case runs against SQLite and
// PostgreSQL, each on a fresh database, and checks what the rest of the hub relies on.
func TestConformance(t *testing.T) {
	cases := []struct {
		name string
		fn   func(t *testing.T, s *store.Store)
	}{
		{"OpenMigratesOnce", testOpenMigratesOnce},
		{"Rebind", testRebind},
		{"InTx", testInTx},
		{"OrderID", testOrderID},
		{"OrderIDRace", testOrderIDRace},
		{"ReleaseOrder", testReleaseOrder},
		{"MarkProcessed", testMarkProcessed},
		{"Trail", testTrail},
		{"InitTopics", testInitTopics},
		{"ValidateTopic", testValidateTopic},
		{"PublishInTx", testPublishInTx},
		{"ConsumerGroups", testConsumerGroups},
		{"RedeliveryUntilAck", testRedeliveryUntilAck},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { storetest.Dialects(t, c.fn) })
	}
}

// hubTables are the tables of the hub's own migrations.
var hubTables = []string{"ingest", "order_ids", "order_trail", "processed", "dlq_entries"}

// latestMigration is the highest version in migrations/<dialect>, read from the files
// so that a new migration does not need a test change.
func latestMigration(t *testing.T, d store.Dialect) (version int64, files int) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("migrations", string(d), "*.sql"))
	if err != nil || len(names) == 0 {
		t.Fatalf("listing migrations/%s: %v (%d files)", d, err, len(names))
	}
	for _, n := range names {
		prefix, _, _ := strings.Cut(filepath.Base(n), "_")
		v, err := strconv.ParseInt(prefix, 10, 64)
		if err != nil {
			t.Fatalf("migration %s: no numeric version prefix", n)
		}
		version = max(version, v)
	}
	return version, len(names)
}

// sameDatabase is a config that opens the database s has open: the same SQLite file, or
// the same PostgreSQL schema.
func sameDatabase(t *testing.T, s *store.Store) store.Config {
	t.Helper()
	switch s.Dialect() {
	case store.SQLite:
		var path string
		if err := s.ReadDB().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
			t.Fatalf("finding the SQLite file: %v", err)
		}
		return store.Config{Driver: store.SQLite, SQLitePath: path, Synchronous: "normal"}
	default:
		var schema string
		if err := s.ReadDB().QueryRow(`SELECT current_schema()`).Scan(&schema); err != nil {
			t.Fatalf("finding the PostgreSQL schema: %v", err)
		}
		base := os.Getenv("PAKLOG_TEST_POSTGRES")
		if base == "" {
			base = storetest.DefaultPostgres
		}
		return store.Config{Driver: store.Postgres, PostgresDSN: storetest.WithSearchPath(t, base, schema)}
	}
}

func testOpenMigratesOnce(t *testing.T, s *store.Store) {
	ctx := context.Background()
	want, files := latestMigration(t, s.Dialect())
	for _, table := range hubTables {
		storetest.Count(t, s, "SELECT COUNT(*) FROM "+table) // fails the test if the table is missing
	}
	version := func(st *store.Store) (v int64, rows int) {
		t.Helper()
		if err := st.ReadDB().QueryRow(`SELECT MAX(version_id), COUNT(*) FROM goose_db_version`).Scan(&v, &rows); err != nil {
			t.Fatalf("reading goose_db_version: %v", err)
		}
		return v, rows
	}
	v1, rows1 := version(s)
	if v1 != want {
		t.Errorf("after Open: goose version %d, want %d (the latest file in migrations/%s)", v1, want, s.Dialect())
	}
	if rows1 != files+1 { // goose's own version-0 row plus one per migration
		t.Errorf("after Open: %d goose_db_version rows, want %d", rows1, files+1)
	}

	var logs bytes.Buffer
	again, err := store.Open(ctx, sameDatabase(t, s), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("opening the same database a second time: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	if strings.Contains(logs.String(), "applied migration") {
		t.Errorf("second Open applied migrations:\n%s", logs.String())
	}
	if v2, rows2 := version(again); v2 != v1 || rows2 != rows1 {
		t.Errorf("second Open: goose version %d with %d rows, want %d with %d (unchanged)", v2, rows2, v1, rows1)
	}
	// Both handles see one database.
	if _, err := again.MarkProcessed(ctx, again.DB(), "open-test", "k", "m"); err != nil {
		t.Fatal(err)
	}
	if n := storetest.Count(t, s, `SELECT COUNT(*) FROM processed WHERE handler = ?`, "open-test"); n != 1 {
		t.Errorf("a row written through the second store: first store sees %d, want 1", n)
	}
}

func testRebind(t *testing.T, s *store.Store) {
	eleven := strings.TrimSuffix(strings.Repeat("?,", 11), ",")
	tests := []struct {
		name, in, postgres string
	}{
		{"none", "SELECT 1", "SELECT 1"},
		{"one", "SELECT * FROM t WHERE a = ?", "SELECT * FROM t WHERE a = $1"},
		{"several", "INSERT INTO t (a, b, c) VALUES (?, ?, ?)", "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)"},
		{"two digits", eleven, "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.in
			if s.Dialect() == store.Postgres {
				want = tc.postgres
			}
			if got := s.Rebind(tc.in); got != want {
				t.Errorf("Rebind(%q) = %q, want %q", tc.in, got, want)
			}
		})
	}
	var sum int
	if err := s.ReadDB().QueryRow(s.Rebind(`SELECT CAST(? AS INTEGER) + CAST(? AS INTEGER)`), 2, 3).Scan(&sum); err != nil || sum != 5 {
		t.Errorf("a rebound query: got %d, %v; want 5", sum, err)
	}
}

// insertProcessed is a write the InTx tests can look for.
func insertProcessed(ctx context.Context, s *store.Store, q store.Execer, key string) error {
	_, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO processed (handler, idempotency_key, message_uuid, processed_at) VALUES (?, ?, ?, ?)`),
		"intx", key, "uuid-"+key, store.Now())
	return err
}

func countKey(t *testing.T, s *store.Store, key string) int {
	t.Helper()
	return storetest.Count(t, s, `SELECT COUNT(*) FROM processed WHERE handler = 'intx' AND idempotency_key = ?`, key)
}

func testInTx(t *testing.T, s *store.Store) {
	ctx := context.Background()

	t.Run("commits on nil", func(t *testing.T) {
		err := s.InTx(ctx, func(tx *sql.Tx) error { return insertProcessed(ctx, s, tx, "commit") })
		if err != nil {
			t.Fatal(err)
		}
		if n := countKey(t, s, "commit"); n != 1 {
			t.Errorf("committed row: read pool sees %d, want 1", n)
		}
	})

	t.Run("rolls back on error", func(t *testing.T) {
		errBoom := errors.New("boom")
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			if err := insertProcessed(ctx, s, tx, "error"); err != nil {
				return err
			}
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("InTx returned %v, want fn's error", err)
		}
		if n := countKey(t, s, "error"); n != 0 {
			t.Errorf("rolled-back row: read pool sees %d, want 0", n)
		}
	})

	t.Run("rolls back on panic and re-panics", func(t *testing.T) {
		var recovered any
		func() {
			defer func() { recovered = recover() }()
			_ = s.InTx(ctx, func(tx *sql.Tx) error {
				if err := insertProcessed(ctx, s, tx, "panic"); err != nil {
					t.Error(err)
				}
				panic("handler bug")
			})
		}()
		if recovered != "handler bug" {
			t.Fatalf("recovered %v, want the panic to propagate", recovered)
		}
		if n := countKey(t, s, "panic"); n != 0 {
			t.Errorf("row of a panicking transaction: read pool sees %d, want 0", n)
		}
		// The write connection was given back (on SQLite it is the only one).
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.InTx(ctx, func(tx *sql.Tx) error { return insertProcessed(ctx, s, tx, "after-panic") }); err != nil {
			t.Fatalf("a transaction after the panic: %v", err)
		}
	})

	t.Run("rolls back when ctx ends", func(t *testing.T) {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		err := s.InTx(cctx, func(tx *sql.Tx) error {
			if err := insertProcessed(cctx, s, tx, "cancelled"); err != nil {
				return err
			}
			cancel()
			return nil
		})
		if err == nil {
			t.Fatal("InTx committed after its ctx was cancelled")
		}
		if n := countKey(t, s, "cancelled"); n != 0 {
			t.Errorf("row of a cancelled transaction: read pool sees %d, want 0", n)
		}
	})
}

func orderID(t *testing.T, s *store.Store, ref store.OrderRef, offered string) (string, bool) {
	t.Helper()
	var id string
	var existed bool
	err := s.InTx(context.Background(), func(tx *sql.Tx) (err error) {
		id, existed, err = s.OrderID(context.Background(), tx, ref, offered)
		return err
	})
	if err != nil {
		t.Fatalf("OrderID(%v): %v", ref, err)
	}
	return id, existed
}

func testOrderID(t *testing.T, s *store.Store) {
	ref := store.OrderRef{Channel: "shopify", Partner: "acme", ExternalID: "1001"}
	if id, existed := orderID(t, s, ref, "ord_A"); id != "ord_A" || existed {
		t.Fatalf("new ref: got %q existed=%v, want the offered ord_A existed=false", id, existed)
	}
	if id, existed := orderID(t, s, ref, "ord_B"); id != "ord_A" || !existed {
		t.Errorf("same ref again: got %q existed=%v, want the first id ord_A existed=true", id, existed)
	}
	others := []struct {
		name string
		ref  store.OrderRef
	}{
		{"other channel", store.OrderRef{Channel: "magento", Partner: "acme", ExternalID: "1001"}},
		{"other partner", store.OrderRef{Channel: "shopify", Partner: "globex", ExternalID: "1001"}},
		{"other external id", store.OrderRef{Channel: "shopify", Partner: "acme", ExternalID: "1002"}},
	}
	for i, o := range others {
		t.Run(o.name, func(t *testing.T) {
			offered := fmt.Sprintf("ord_other_%d", i)
			if id, existed := orderID(t, s, o.ref, offered); id != offered || existed {
				t.Errorf("got %q existed=%v, want its own id %q existed=false", id, existed, offered)
			}
		})
	}
}

func testOrderIDRace(t *testing.T, s *store.Store) {
	const n = 20
	ctx := context.Background()
	ref := store.OrderRef{Channel: "edi", Partner: "acme", ExternalID: "PO-RACE"}
	type result struct {
		offered, id string
		existed     bool
		err         error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := &results[i]
			r.offered = fmt.Sprintf("ord_race_%02d", i)
			<-start
			r.err = s.InTx(ctx, func(tx *sql.Tx) (err error) {
				r.id, r.existed, err = s.OrderID(ctx, tx, ref, r.offered)
				return err
			})
		})
	}
	close(start)
	wg.Wait()
	var winners []result
	for _, r := range results {
		if r.err != nil {
			t.Fatalf("OrderID offering %s: %v", r.offered, r.err)
		}
		if !r.existed {
			winners = append(winners, r)
		}
	}
	if len(winners) != 1 {
		t.Fatalf("%d goroutines were told the ref was new, want exactly 1: %+v", len(winners), winners)
	}
	win := winners[0]
	if win.id != win.offered {
		t.Errorf("the winner got %q, want the id it offered, %q", win.id, win.offered)
	}
	for _, r := range results {
		if r.id != win.id {
			t.Errorf("goroutine offering %s got %q, want the winning id %q", r.offered, r.id, win.id)
		}
	}
	if rows := storetest.Count(t, s, `SELECT COUNT(*) FROM order_ids WHERE external_id = ?`, ref.ExternalID); rows != 1 {
		t.Errorf("%d order_ids rows for the ref, want 1", rows)
	}
}

func testMarkProcessed(t *testing.T, s *store.Store) {
	ctx := context.Background()
	mark := func(q store.Execer, handler, key string) bool {
		t.Helper()
		ok, err := s.MarkProcessed(ctx, q, handler, key, "uuid-"+key)
		if err != nil {
			t.Fatalf("MarkProcessed(%s, %s): %v", handler, key, err)
		}
		return ok
	}
	if !mark(s.DB(), "normalize", "k1") {
		t.Error("first MarkProcessed(normalize, k1) = false, want true")
	}
	if mark(s.DB(), "normalize", "k1") {
		t.Error("second MarkProcessed(normalize, k1) = true, want false")
	}
	if !mark(s.DB(), "route", "k1") {
		t.Error("MarkProcessed(route, k1) after normalize's = false, want true: keys are per handler")
	}

	errHandler := errors.New("handler failed")
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if !mark(tx, "normalize", "k2") {
			t.Error("MarkProcessed(normalize, k2) in a transaction = false, want true")
		}
		return errHandler
	})
	if !errors.Is(err, errHandler) {
		t.Fatalf("InTx: %v", err)
	}
	if !mark(s.DB(), "normalize", "k2") {
		t.Error("after a rolled-back MarkProcessed, MarkProcessed(normalize, k2) = false: the rollback left a record")
	}
}

func testTrail(t *testing.T, s *store.Store) {
	ctx := context.Background()
	now := store.Now()
	micro := time.Date(2024, 10, 14, 15, 4, 5, 123456000, time.FixedZone("CEST", 2*3600))
	want := []store.TrailEntry{
		{OrderID: "ord_1", Stage: store.StageAccepted, Topic: "inbound.api", MessageUUID: "m1", CorrelationID: "c1", Detail: "accepted from api", At: micro},
		{OrderID: "ord_1", Stage: store.StageRouted, Topic: "fulfilment.orders", Handler: "route", MessageUUID: "m2", CorrelationID: "c1", At: now},
		{OrderID: "ord_1", Stage: store.StagePacked, Handler: "packed", At: now.Add(time.Microsecond)},
	}
	other := store.TrailEntry{OrderID: "ord_2", Stage: store.StageAccepted, At: now}
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		for i, e := range want {
			if err := s.AppendTrail(ctx, tx, e); err != nil {
				return err
			}
			if i == 0 {
				if err := s.AppendTrail(ctx, tx, other); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	before := store.Now()
	unset := store.TrailEntry{OrderID: "ord_1", Stage: store.StageShipped}
	if err := s.AppendTrail(ctx, s.DB(), unset); err != nil {
		t.Fatal(err)
	}
	after := store.Now()

	got, err := s.Trail(ctx, "ord_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want)+1 {
		t.Fatalf("Trail(ord_1) has %d entries, want %d: %+v", len(got), len(want)+1, got)
	}
	var stages []string
	for _, e := range got {
		stages = append(stages, e.Stage)
	}
	if want := []string{store.StageAccepted, store.StageRouted, store.StagePacked, store.StageShipped}; !slices.Equal(stages, want) {
		t.Fatalf("Trail(ord_1) stages %v, want %v (in the order they were appended)", stages, want)
	}
	for i, w := range want {
		g := got[i]
		if g.At.Location() != time.UTC {
			t.Errorf("entry %d: At in %v, want UTC", i, g.At.Location())
		}
		if !g.At.Equal(w.At) {
			t.Errorf("entry %d: At %s, want %s (microseconds must round-trip)", i, g.At.Format(time.RFC3339Nano), w.At.UTC().Format(time.RFC3339Nano))
		}
		g.At, w.At = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
	last := got[len(want)]
	if last.Stage != store.StageShipped || last.At.Before(before) || last.At.After(after) || last.At.Nanosecond()%1000 != 0 || last.At.Location() != time.UTC {
		t.Errorf("entry without a time: got %s at %s, want shipped at store.Now() (between %s and %s)", last.Stage,
			last.At.Format(time.RFC3339Nano), before.Format(time.RFC3339Nano), after.Format(time.RFC3339Nano))
	}

	none, err := s.Trail(ctx, "ord_unknown")
	if err != nil || len(none) != 0 {
		t.Errorf("Trail(unknown order) = %v, %v; want no entries and no error", none, err)
	}
}

func testInitTopics(t *testing.T, s *store.Store) {
	ctx := context.Background()
	if err := s.InitTopics(ctx, "conformance.once"); err != nil {
		t.Fatal(err)
	}
	if err := s.InitTopics(ctx, "conformance.once"); err != nil {
		t.Fatalf("InitTopics a second time: %v", err)
	}

	// Several hub instances, or several subscribers of a new topic, create its tables at
	// the same moment.
	topics := []string{"race.a", "race.b", "race.c"}
	const n = 8
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = s.InitTopics(ctx, topics...)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent InitTopics #%d: %v", i, err)
		}
	}
	pub, err := s.Publisher(s.DB())
	if err != nil {
		t.Fatal(err)
	}
	for _, topic := range append(topics, "conformance.once") {
		if err := pub.Publish(topic, message.NewMessage("uuid-"+topic, []byte("x"))); err != nil {
			t.Errorf("publishing to %s: %v", topic, err)
			continue
		}
		if got := storetest.Count(t, s, "SELECT COUNT(*) FROM "+s.MessagesTable(topic)); got != 1 {
			t.Errorf("%s holds %d messages, want 1", topic, got)
		}
	}

	if err := s.InitTopics(ctx, "ok.topic", "bad topic"); err == nil {
		t.Error("InitTopics with an invalid name succeeded")
	}
}

// testValidateTopic checks the names ValidateTopic lets through are usable as topics
// (their tables are created, published to and counted) and that the others are refused,
// by InitTopics too.
func testValidateTopic(t *testing.T, s *store.Store) {
	ctx := context.Background()
	tests := []struct {
		topic string
		ok    bool
	}{
		{"inbound.api", true},
		{"replay.normalize.api", true},
		{"acme-prod:inbound.edi_850$1", true},
		{"a b", false},
		{"a;drop", false},
		{"", false},
		{`a"b`, false},
		{"inbound/api", false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%q", tc.topic), func(t *testing.T) {
			err := store.ValidateTopic(tc.topic)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateTopic(%q) = %v, want ok=%v", tc.topic, err, tc.ok)
			}
			err = s.InitTopics(ctx, tc.topic)
			if !tc.ok {
				if err == nil {
					t.Errorf("InitTopics(%q) succeeded, want an error", tc.topic)
				}
				return
			}
			if err != nil {
				t.Fatalf("InitTopics(%q): %v", tc.topic, err)
			}
			if err := publishInTx(t, s, tc.topic, nil, message.NewMessage("m", []byte("x"))); err != nil {
				t.Fatalf("publishing to %q: %v", tc.topic, err)
			}
			if n := storetest.Count(t, s, "SELECT COUNT(*) FROM "+s.MessagesTable(tc.topic)); n != 1 {
				t.Errorf("%q holds %d messages, want 1", tc.topic, n)
			}
		})
	}
}

// subscribe consumes topic as group until the test ends. The subscriber is returned so
// that a test can close it early, as a crash would.
func subscribe(t *testing.T, s *store.Store, group, topic string) (message.Subscriber, <-chan *message.Message) {
	t.Helper()
	sub, err := s.Subscriber(store.SubscriberConfig{ConsumerGroup: group, PollInterval: 10 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := sub.Subscribe(ctx, topic)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		sub.Close()
	})
	return sub, ch
}

func receive(t *testing.T, ch <-chan *message.Message, within time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("subscription closed")
		}
		return m
	case <-time.After(within):
		t.Fatalf("no message within %s", within)
		return nil
	}
}

func expectNothing(t *testing.T, ch <-chan *message.Message, within time.Duration) {
	t.Helper()
	select {
	case m, ok := <-ch:
		if ok {
			m.Ack()
			t.Errorf("got message %s (%q), want none", m.UUID, m.Payload)
		}
	case <-time.After(within):
	}
}

func publishInTx(t *testing.T, s *store.Store, topic string, fail error, msgs ...*message.Message) error {
	t.Helper()
	return s.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := s.Publisher(tx)
		if err != nil {
			return err
		}
		if err := pub.Publish(topic, msgs...); err != nil {
			return err
		}
		return fail
	})
}

func testPublishInTx(t *testing.T, s *store.Store) {
	const topic = "conformance.tx"
	if err := s.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	_, ch := subscribe(t, s, "consumer", topic)

	errRollback := errors.New("handler failed")
	rolledBack := []*message.Message{
		message.NewMessage("rb-1", []byte("one")), message.NewMessage("rb-2", []byte("two")), message.NewMessage("rb-3", []byte("three")),
	}
	if err := publishInTx(t, s, topic, errRollback, rolledBack...); !errors.Is(err, errRollback) {
		t.Fatalf("InTx: %v", err)
	}
	expectNothing(t, ch, 300*time.Millisecond)

	payloads := [][]byte{
		{0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, '\n', 0x00}, // not UTF-8, with NULs
		[]byte("ISA*00*          *00*          *ZZ*SENDER         *ZZ*PAKLOG         *241014*1504*U*00401*000000905*0*P*>~GS*PO*SENDER*PAKLOG*20241014*1504*905*X*004010~"),
		[]byte(`{"order_id":"ord_1","note":"ü ✓"}`),
	}
	var sent []*message.Message
	for i, p := range payloads {
		m := message.NewMessage(fmt.Sprintf("msg-%d", i), p)
		m.Metadata.Set("correlation_id", fmt.Sprintf("corr-%d", i))
		m.Metadata.Set("partner", "acme ✓")
		m.Metadata.Set("note", `quotes " and \ backslash`)
		sent = append(sent, m)
	}
	if err := publishInTx(t, s, topic, nil, sent...); err != nil {
		t.Fatalf("publishing in a committed transaction: %v", err)
	}
	for i, want := range sent {
		got := receive(t, ch, 5*time.Second)
		got.Ack()
		if got.UUID != want.UUID {
			t.Fatalf("message %d: got %s, want %s (in publish order; rolled-back messages never delivered)", i, got.UUID, want.UUID)
		}
		if !bytes.Equal(got.Payload, want.Payload) {
			t.Errorf("message %d payload:\n got %q\nwant %q", i, got.Payload, want.Payload)
		}
		if !maps.Equal(got.Metadata, want.Metadata) {
			t.Errorf("message %d metadata: got %v, want %v", i, got.Metadata, want.Metadata)
		}
	}
	expectNothing(t, ch, 100*time.Millisecond)
	if n := storetest.Count(t, s, "SELECT COUNT(*) FROM "+s.MessagesTable(topic)); n != len(sent) {
		t.Errorf("%s holds %d messages, want %d (the rolled-back ones must not be stored)", topic, n, len(sent))
	}
}

func testConsumerGroups(t *testing.T, s *store.Store) {
	const topic, n = "conformance.groups", 10
	if err := s.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	var sent []*message.Message
	for i := range n {
		sent = append(sent, message.NewMessage(fmt.Sprintf("g-%02d", i), []byte{byte(i)}))
	}
	if err := publishInTx(t, s, topic, nil, sent...); err != nil {
		t.Fatal(err)
	}

	t.Run("one group shares", func(t *testing.T) {
		_, a := subscribe(t, s, "shared", topic)
		_, b := subscribe(t, s, "shared", topic)
		seen := map[string]int{}
		deadline := time.After(10 * time.Second)
		for total := 0; total < n; total++ {
			var m *message.Message
			select {
			case m = <-a:
			case m = <-b:
			case <-deadline:
				t.Fatalf("the group received %d of %d messages", total, n)
			}
			m.Ack()
			seen[m.UUID]++
		}
		// Anything delivered twice arrives within a few polls.
		for range 2 {
			select {
			case m := <-a:
				m.Ack()
				seen[m.UUID]++
			case m := <-b:
				m.Ack()
				seen[m.UUID]++
			case <-time.After(300 * time.Millisecond):
			}
		}
		for _, m := range sent {
			if seen[m.UUID] != 1 {
				t.Errorf("message %s delivered %d times to the group, want once", m.UUID, seen[m.UUID])
			}
		}
	})

	t.Run("each group gets all", func(t *testing.T) {
		for _, group := range []string{"billing", "audit"} {
			_, ch := subscribe(t, s, group, topic)
			for i, want := range sent {
				got := receive(t, ch, 5*time.Second)
				got.Ack()
				if got.UUID != want.UUID {
					t.Fatalf("group %s message %d: got %s, want %s", group, i, got.UUID, want.UUID)
				}
			}
		}
	})
}

func testRedeliveryUntilAck(t *testing.T, s *store.Store) {
	const topic, group = "conformance.crash", "worker"
	if err := s.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	m1, m2 := message.NewMessage("crash-1", []byte("first")), message.NewMessage("crash-2", []byte("second"))
	if err := publishInTx(t, s, topic, nil, m1, m2); err != nil {
		t.Fatal(err)
	}

	// A consumer takes m1 and dies before acking it.
	a, chA := subscribe(t, s, group, topic)
	if got := receive(t, chA, 5*time.Second); got.UUID != m1.UUID {
		t.Fatalf("first consumer: got %s, want %s", got.UUID, m1.UUID)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	// The next consumer of the group gets m1 again; it acks m1, nacks m2 (delivered
	// again in place) and dies holding m2.
	b, chB := subscribe(t, s, group, topic)
	got := receive(t, chB, 5*time.Second)
	if got.UUID != m1.UUID {
		t.Fatalf("after a consumer died without acking: got %s, want %s again", got.UUID, m1.UUID)
	}
	if !bytes.Equal(got.Payload, m1.Payload) {
		t.Errorf("redelivered payload %q, want %q", got.Payload, m1.Payload)
	}
	got.Ack()
	got = receive(t, chB, 5*time.Second)
	if got.UUID != m2.UUID {
		t.Fatalf("after acking %s: got %s, want %s", m1.UUID, got.UUID, m2.UUID)
	}
	got.Nack()
	if got = receive(t, chB, 5*time.Second); got.UUID != m2.UUID {
		t.Fatalf("after a nack: got %s, want %s again", got.UUID, m2.UUID)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A third consumer resumes after the last ack: m2, never m1.
	_, chC := subscribe(t, s, group, topic)
	if got := receive(t, chC, 5*time.Second); got.UUID != m2.UUID {
		t.Fatalf("after %s was acked and %s was not: got %s, want %s", m1.UUID, m2.UUID, got.UUID, m2.UUID)
	} else {
		got.Ack()
	}
	expectNothing(t, chC, 300*time.Millisecond)
}

// ReleaseOrder assigns the id, keeps the order and appends its trail in order, once:
// the same source order again returns the first id and writes nothing.
func testReleaseOrder(t *testing.T, s *store.Store) {
	ctx := context.Background()
	ref := store.OrderRef{Channel: "shopify", Partner: "acme", ExternalID: "5812345678901"}
	at := time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)
	release := func(newID, body string) (string, bool) {
		t.Helper()
		var id string
		var existed bool
		err := s.InTx(ctx, func(tx *sql.Tx) (err error) {
			id, existed, err = s.ReleaseOrder(ctx, tx, ref, newID, []byte(body),
				store.TrailEntry{OrderID: newID, Stage: store.StageAccepted, Topic: "inbound.shopify", Handler: "normalize.shopify", MessageUUID: "m-" + newID, CorrelationID: "c1", Detail: "from shopify"},
				store.TrailEntry{OrderID: newID, Stage: store.StageRouted, Topic: "inbound.shopify", Handler: "normalize.shopify", MessageUUID: "m-" + newID, CorrelationID: "c1", Detail: "published to fulfilment.orders", At: at})
			return err
		})
		if err != nil {
			t.Fatalf("ReleaseOrder(%s): %v", newID, err)
		}
		return id, existed
	}
	if id, existed := release("ord_A", `{"order_id":"ord_A"}`); id != "ord_A" || existed {
		t.Fatalf("first release: %s, existed %v; want ord_A, new", id, existed)
	}
	if id, existed := release("ord_B", `{"order_id":"ord_B"}`); id != "ord_A" || !existed {
		t.Fatalf("second release: %s, existed %v; want ord_A, existed", id, existed)
	}
	b, err := s.ReleasedOrder(ctx, s.ReadDB(), "ord_A")
	if err != nil || string(b) != `{"order_id":"ord_A"}` {
		t.Errorf("kept order: %q, %v", b, err)
	}
	if _, err := s.ReleasedOrder(ctx, s.ReadDB(), "ord_B"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the second release kept an order: %v", err)
	}
	trail, err := s.Trail(ctx, "ord_A")
	if err != nil {
		t.Fatal(err)
	}
	if len(trail) != 2 || trail[0].Stage != store.StageAccepted || trail[1].Stage != store.StageRouted ||
		trail[0].Handler != "normalize.shopify" || trail[1].Detail != "published to fulfilment.orders" || !trail[1].At.Equal(at) {
		t.Errorf("trail: %+v", trail)
	}
	if tr, _ := s.Trail(ctx, "ord_B"); len(tr) != 0 {
		t.Errorf("the second release wrote a trail: %+v", tr)
	}
}
