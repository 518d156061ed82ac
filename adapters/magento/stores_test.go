package magento_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/paklog/integration-hub/adapters/magento"
	magentoapi "github.com/paklog/integration-hub/connectors/magento"
	"github.com/paklog/integration-hub/fixtures/magentosim"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

const (
	triggerNew = "trigger-secret-new-0123456789"
	triggerOld = "trigger-secret-old-9876543210"
	triggerTok = "trigger-bearer-token-abcdefghij"
)

var topic = router.InboundTopic(magento.Source)

// storeConfig is store name's config against sim: OAuth 1.0a with the simulator's
// credentials, pages of 5, both trigger secrets and a trigger token.
func storeConfig(name string, sim *magentosim.Server) magento.StoreConfig {
	sc := sim.Config()
	return magento.StoreConfig{
		Name: name,
		Client: magentoapi.Config{BaseURL: sim.URL, ConsumerKey: sc.ConsumerKey, ConsumerSecret: magentoapi.Secret(sc.ConsumerSecret),
			AccessToken: magentoapi.Secret(sc.AccessToken), AccessTokenSecret: magentoapi.Secret(sc.AccessTokenSecret), Timeout: 2 * time.Second},
		Poll:    magentoapi.PollerConfig{PageSize: 5, Interval: time.Hour},
		Trigger: magento.Trigger{HMACSecrets: []string{triggerNew, triggerOld}, BearerTokens: []string{triggerTok}},
	}
}

type hub struct {
	st     *store.Store
	in     *intake.Intake
	stores *magento.Stores
	reg    *prometheus.Registry
	logs   *syncBuffer
}

// newHub builds the adapter over a fresh intake on st, accepting through wrap(in) when
// wrap is set.
func newHub(t *testing.T, st *store.Store, cfg magento.Config, wrap func(magento.Acceptor) magento.Acceptor) *hub {
	t.Helper()
	if err := st.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	h := &hub{st: st, in: in, reg: prometheus.NewRegistry(), logs: &syncBuffer{}}
	cfg.Registerer = h.reg
	var acc magento.Acceptor = in
	if wrap != nil {
		acc = wrap(in)
	}
	log := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	stores, err := magento.New(cfg, acc, magento.StoreCheckpoints(st), log)
	if err != nil {
		t.Fatal(err)
	}
	h.stores = stores
	return h
}

func addOrders(sim *magentosim.Server, from, to int64) {
	for id := from; id <= to; id++ {
		sim.AddOrder(magentosim.Order{EntityID: id, Items: []magentosim.Item{
			{ItemID: id * 10, SKU: fmt.Sprintf("SKU-%d", id), QtyOrdered: 1, Price: 10},
		}})
	}
}

// stored is one message on inbound.magento.
type stored struct {
	Payload  []byte
	Metadata map[string]string
}

func messages(t *testing.T, st *store.Store) []stored {
	t.Helper()
	rows, err := st.ReadDB().Query(`SELECT payload, metadata FROM ` + st.MessagesTable(topic) + ` ORDER BY "offset"`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []stored
	for rows.Next() {
		var p, md []byte
		if err := rows.Scan(&p, &md); err != nil {
			t.Fatal(err)
		}
		m := stored{Payload: p}
		if err := json.Unmarshal(md, &m.Metadata); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// keys are the idempotency keys (entity_id@updated_at) of the stored messages.
func keys(t *testing.T, st *store.Store) []string {
	t.Helper()
	var out []string
	for _, m := range messages(t, st) {
		out = append(out, strings.TrimPrefix(m.Metadata[router.MetaIdempotencyKey], "magento:us-store:"))
	}
	return out
}

func watermark(t *testing.T, st *store.Store, name string) magentoapi.Watermark {
	t.Helper()
	w, err := magento.StoreCheckpoints(st)(name).Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Orders polled are stored once per version: a second pass over the overlap stores
// nothing new; an order saved again in Magento is stored again with its new
// updated_at; the watermark follows what was committed.
func TestPollStoresEachVersionOnce(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		sim := magentosim.Start(t, magentosim.Config{Seed: 7})
		t0 := sim.Now()
		addOrders(sim, 1, 12) // one updated_at for all: ties across pages
		h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{storeConfig("us-store", sim)}}, nil)
		ctx := context.Background()

		stats, err := h.stores.Poll(ctx, "us-store")
		if err != nil {
			t.Fatal(err)
		}
		if stats.Orders != 12 || stats.Pages != 3 {
			t.Fatalf("pass %+v", stats)
		}
		msgs := messages(t, st)
		if len(msgs) != 12 {
			t.Fatalf("%d messages after the first pass, want 12", len(msgs))
		}
		first := msgs[0]
		var body struct {
			EntityID  json.Number `json:"entity_id"`
			UpdatedAt string      `json:"updated_at"`
		}
		if err := json.Unmarshal(first.Payload, &body); err != nil || body.UpdatedAt != "2026-11-21 08:00:00" {
			t.Fatalf("payload %s: %v", first.Payload, err)
		}
		id := body.EntityID.String()
		want := map[string]string{
			router.MetaSource:         "magento",
			router.MetaPartner:        "us-store",
			router.MetaIdempotencyKey: "magento:us-store:" + id + "@2026-11-21T08:00:00Z",
			magento.MetaEntityID:      id,
			magento.MetaIncrementID:   fmt.Sprintf("%09s", id),
			magento.MetaUpdatedAt:     "2026-11-21T08:00:00Z",
			magento.MetaState:         "processing",
			magento.MetaStoreCode:     "default",
		}
		for k, v := range want {
			if first.Metadata[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, first.Metadata[k], v)
			}
		}
		var ct string
		if err := st.ReadDB().QueryRow(st.Rebind(`SELECT content_type FROM ingest WHERE source = ? AND idempotency_key = ?`),
			"magento", id+"@2026-11-21T08:00:00Z").Scan(&ct); err != nil || ct != "application/json" {
			t.Errorf("ingest content type %q: %v", ct, err)
		}
		if w := watermark(t, st, "us-store"); !w.UpdatedAt.Equal(t0) || w.EntityID != 0 {
			t.Fatalf("watermark %+v, want %s", w, t0)
		}

		// The overlap hands every order over again: nothing new is stored.
		if stats, err := h.stores.Poll(ctx, "us-store"); err != nil || stats.Orders != 12 {
			t.Fatalf("second pass %+v %v", stats, err)
		}
		if n := len(messages(t, st)); n != 12 {
			t.Fatalf("%d messages after the overlapping pass, want 12", n)
		}

		// An hour later order 4 is saved again in Magento.
		sim.Advance(time.Hour)
		if err := sim.UpdateOrder(4, func(o map[string]any) { o["status"] = "ready_to_ship" }); err != nil {
			t.Fatal(err)
		}
		if _, err := h.stores.Poll(ctx, "us-store"); err != nil {
			t.Fatal(err)
		}
		got := keys(t, st)
		if len(got) != 13 || got[12] != "4@2026-11-21T09:00:00Z" {
			t.Fatalf("keys after the update %v, want a 13th, 4@2026-11-21T09:00:00Z", got)
		}
		if last := messages(t, st)[12]; !bytes.Contains(last.Payload, []byte(`"status":"ready_to_ship"`)) {
			t.Fatalf("the new version's payload %s", last.Payload)
		}
		if w := watermark(t, st, "us-store"); !w.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("watermark %+v", w)
		}
		if got := counter(t, h.reg, "paklog_magento_orders_total", "us-store", "stored"); got != 13 {
			t.Errorf("stored counter %v, want 13", got)
		}
	})
}

// failing refuses the orders fail names, through a real intake otherwise.
type failing struct {
	magento.Acceptor
	mu   sync.Mutex
	fail func(key string) bool
}

func (f *failing) Accept(ctx context.Context, item intake.Item) (intake.Result, error) {
	f.mu.Lock()
	fail := f.fail != nil && f.fail(item.IdempotencyKey)
	f.mu.Unlock()
	if fail {
		return intake.Result{}, errors.New("database is locked")
	}
	return f.Acceptor.Accept(ctx, item)
}

func (f *failing) set(fail func(key string) bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// The watermark moves only past what the intake committed: a pass whose sink fails
// leaves it, and the next pass fetches the orders again, each stored once.
func TestSinkFailureKeepsWatermark(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	sim := magentosim.Start(t, magentosim.Config{})
	t0 := sim.Now()
	addOrders(sim, 1, 12)
	f := &failing{}
	h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{storeConfig("us-store", sim)}},
		func(in magento.Acceptor) magento.Acceptor { f.Acceptor = in; return f })
	ctx := context.Background()

	// The intake refuses everything: nothing stored, no watermark.
	f.set(func(string) bool { return true })
	if _, err := h.stores.Poll(ctx, "us-store"); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("pass error %v", err)
	}
	if n := len(messages(t, st)); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{}) {
		t.Fatalf("watermark %+v after a refused page", w)
	}

	// Order 7 alone is refused: the first page is committed and its cursor saved;
	// the second page's other orders are stored, but the watermark stays.
	f.set(func(key string) bool { return strings.HasPrefix(key, "7@") })
	if _, err := h.stores.Poll(ctx, "us-store"); err == nil || !strings.Contains(err.Error(), "order 7") {
		t.Fatalf("pass error %v", err)
	}
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{EntityID: 5}) {
		t.Fatalf("watermark %+v, want the first page's cursor", w)
	}

	// The intake is back: the pass resumes after the committed page; order 7 arrives
	// and nothing is stored twice.
	f.set(nil)
	if _, err := h.stores.Poll(ctx, "us-store"); err != nil {
		t.Fatal(err)
	}
	got := keys(t, st)
	if len(got) != 12 {
		t.Fatalf("keys %v, want each of the 12 orders once", got)
	}
	seen := map[string]bool{}
	for _, k := range got {
		if seen[k] {
			t.Fatalf("%s stored twice: %v", k, got)
		}
		seen[k] = true
	}
	if !seen["7@2026-11-21T08:00:00Z"] {
		t.Fatalf("order 7 missing: %v", got)
	}
	// The resumed pass saw only the entity_ids above its cursor: the watermark stays
	// where the pass started (here nothing: the first pass ever) until a full pass.
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{}) {
		t.Fatalf("watermark %+v after the resumed pass", w)
	}
	if _, err := h.stores.Poll(ctx, "us-store"); err != nil {
		t.Fatal(err)
	}
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{UpdatedAt: t0}) || len(keys(t, st)) != 12 {
		t.Fatalf("watermark %+v, %d keys", w, len(keys(t, st)))
	}
}

// A pass that resumes after a failed page sees only the entity_ids above the page's
// cursor; an order below it saved in Magento while the intake was down must still
// arrive, through the hub's own checkpoint store (connectors/magento's Poller keeps the
// watermark where the failed pass started; the adapter adds nothing of its own).
func TestResumedPassDoesNotSkipUpdates(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	sim := magentosim.Start(t, magentosim.Config{})
	t0 := sim.Now()
	addOrders(sim, 1, 12)
	f := &failing{}
	h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{storeConfig("us-store", sim)}},
		func(in magento.Acceptor) magento.Acceptor { f.Acceptor = in; return f })
	ctx := context.Background()
	f.set(func(key string) bool { return strings.HasPrefix(key, "7@") })
	if _, err := h.stores.Poll(ctx, "us-store"); err == nil {
		t.Fatal("the pass did not fail")
	}
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{EntityID: 5}) {
		t.Fatalf("watermark %+v", w)
	}
	// While the intake is down, order 3 (below the cursor, 5) and order 11 change.
	sim.Advance(time.Hour)
	if err := sim.UpdateOrder(3, func(o map[string]any) { o["status"] = "on_the_way" }); err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Hour)
	if err := sim.UpdateOrder(11, func(o map[string]any) { o["status"] = "on_the_way" }); err != nil {
		t.Fatal(err)
	}
	f.set(nil)
	if _, err := h.stores.Poll(ctx, "us-store"); err != nil {
		t.Fatal(err)
	}
	if w := watermark(t, st, "us-store"); w != (magentoapi.Watermark{}) {
		t.Fatalf("watermark after the resumed pass %+v, want where the failed pass started", w)
	}
	if _, err := h.stores.Poll(ctx, "us-store"); err != nil {
		t.Fatal(err)
	}
	got := keys(t, st)
	for _, want := range []string{"3@2026-11-21T09:00:00Z", "11@2026-11-21T10:00:00Z", "7@2026-11-21T08:00:00Z"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s was never stored: %v", want, got)
		}
	}
	if w := watermark(t, st, "us-store"); !w.UpdatedAt.Equal(t0.Add(2 * time.Hour)) {
		t.Fatalf("watermark %+v", w)
	}
}

// A store never polled starts Lookback before now, not at the start of its history.
func TestLookback(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	sim := magentosim.Start(t, magentosim.Config{})
	now := time.Now().UTC().Truncate(time.Second)
	sim.SetNow(now.Add(-72 * time.Hour))
	addOrders(sim, 1, 1)
	sim.SetNow(now.Add(-time.Hour))
	addOrders(sim, 2, 2)
	sc := storeConfig("us-store", sim)
	sc.Lookback = 24 * time.Hour
	h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{sc}}, nil)
	if _, err := h.stores.Poll(context.Background(), "us-store"); err != nil {
		t.Fatal(err)
	}
	if got := keys(t, st); len(got) != 1 || !strings.HasPrefix(got[0], "2@") {
		t.Fatalf("keys %v, want order 2 only", got)
	}
}

// trigger posts body to the store's trigger endpoint with headers.
func trigger(t *testing.T, srv *httptest.Server, store string, body []byte, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/magento/"+store, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func serve(t *testing.T, stores *magento.Stores) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/magento/{store}", stores)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, stores *magento.Stores) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- stores.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
	})
}

// A signed trigger makes the order arrive at once, not at the next pass an hour
// later; a wrong signature is refused and fetches nothing.
func TestTriggerFetchesAtOnce(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		sim := magentosim.Start(t, magentosim.Config{})
		addOrders(sim, 1, 2)
		h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{storeConfig("us-store", sim)}}, nil)
		srv := serve(t, h.stores)
		run(t, h.stores)
		waitFor(t, "the first pass", func() bool { return len(messages(t, st)) == 2 })

		sim.Advance(time.Minute)
		addOrders(sim, 3, 6)
		has := func(id int64) bool {
			for _, k := range keys(t, st) {
				if strings.HasPrefix(k, fmt.Sprint(id)+"@") {
					return true
				}
			}
			return false
		}

		// A wrong signature: 401, and the order is not fetched.
		body := []byte(`{"order_id": 3}`)
		status, _, resp := trigger(t, srv, "us-store", body, map[string]string{magento.HeaderSignature: sign(body, "not the secret")})
		if status != http.StatusUnauthorized {
			t.Fatalf("bad signature: status %d: %s", status, resp)
		}
		var p httpapi.Problem
		if err := json.Unmarshal(resp, &p); err != nil || p.Type != magento.TypeUnauthorized || !strings.Contains(p.Detail, magento.HeaderSignature) {
			t.Fatalf("problem %s: %v", resp, err)
		}
		time.Sleep(200 * time.Millisecond)
		if has(3) || sim.Calls(magentosim.OpGetOrder) != 0 {
			t.Fatalf("a refused trigger fetched the order (%d GETs)", sim.Calls(magentosim.OpGetOrder))
		}

		for _, tc := range []struct {
			name    string
			id      int64
			body    string
			headers func(body []byte) map[string]string
		}{
			{"order_id signed with the new secret", 3, `{"order_id": 3}`, func(b []byte) map[string]string {
				return map[string]string{magento.HeaderSignature: sign(b, triggerNew)}
			}},
			{"entity_id signed with the old secret, sha256= prefix", 4, `{"entity_id": "4"}`, func(b []byte) map[string]string {
				return map[string]string{magento.HeaderSignature: "sha256=" + sign(b, triggerOld)}
			}},
			{"Magento's event shape with a bearer token", 5, `{"event":"sales_order_save_after","data":{"order":{"entity_id":5,"state":"processing"}}}`,
				func([]byte) map[string]string { return map[string]string{"Authorization": "Bearer " + triggerTok} }},
			{"a wrong signature beside a right token", 6, `{"order_id": 6}`, func([]byte) map[string]string {
				return map[string]string{magento.HeaderSignature: strings.Repeat("0", 64), "Authorization": "bearer " + triggerTok}
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				body := []byte(tc.body)
				status, _, resp := trigger(t, srv, "us-store", body, tc.headers(body))
				var r magento.TriggerResponse
				if err := json.Unmarshal(resp, &r); status != http.StatusAccepted || err != nil || r != (magento.TriggerResponse{Store: "us-store", OrderID: tc.id, Queued: true}) {
					t.Fatalf("status %d: %s", status, resp)
				}
				waitFor(t, fmt.Sprintf("order %d", tc.id), func() bool { return has(tc.id) })
			})
		}
		if n := len(messages(t, st)); n != 6 {
			t.Fatalf("%d messages, want 6", n)
		}
		if s := h.logs.String(); strings.Contains(s, triggerNew) || strings.Contains(s, triggerOld) || strings.Contains(s, triggerTok) {
			t.Errorf("a secret reached the log:\n%s", s)
		}
	})
}

func TestTriggerRefusals(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	sim := magentosim.Start(t, magentosim.Config{})
	quiet := storeConfig("quiet", sim)
	quiet.Trigger = magento.Trigger{}
	h := newHub(t, st, magento.Config{MaxBody: 256, Stores: []magento.StoreConfig{storeConfig("us-store", sim), quiet}}, nil)
	srv := serve(t, h.stores)
	signed := func(b []byte) map[string]string {
		return map[string]string{magento.HeaderSignature: sign(b, triggerNew)}
	}
	tests := []struct {
		name    string
		store   string
		body    string
		headers func([]byte) map[string]string
		status  int
		problem string
		detail  string
	}{
		{"unknown store", "eu-store", `{"order_id":1}`, signed, 404, httpapi.TypeNotFound, `no Magento store "eu-store"`},
		{"store without trigger credentials", "quiet", `{"order_id":1}`, signed, 404, httpapi.TypeNotFound, "has no trigger credentials"},
		{"no credentials", "us-store", `{"order_id":1}`, func([]byte) map[string]string { return nil }, 401, magento.TypeUnauthorized, "X-Paklog-Signature (hex HMAC-SHA256 of the body) or Authorization: Bearer <token> is missing"},
		{"signature not hex", "us-store", `{"order_id":1}`, func([]byte) map[string]string { return map[string]string{magento.HeaderSignature: "zz"} }, 401, magento.TypeUnauthorized, "does not match"},
		{"signature of another body", "us-store", `{"order_id":1}`, func([]byte) map[string]string {
			return map[string]string{magento.HeaderSignature: sign([]byte(`{"order_id":2}`), triggerNew)}
		}, 401, magento.TypeUnauthorized, "does not match"},
		{"wrong bearer token", "us-store", `{"order_id":1}`, func([]byte) map[string]string { return map[string]string{"Authorization": "Bearer " + triggerNew} }, 401, magento.TypeUnauthorized, "not one of this store's trigger tokens"},
		{"body over the cap", "us-store", `{"order_id":1,"pad":"` + strings.Repeat("x", 300) + `"}`, signed, 413, httpapi.TypeTooLarge, "256 bytes"},
		{"not JSON", "us-store", `order 1`, signed, 400, httpapi.TypeBadRequest, "not a JSON object"},
		{"no order", "us-store", `{"data":{"customer":{"entity_id":1}}}`, signed, 400, httpapi.TypeBadRequest, "names no order"},
		{"id not a number", "us-store", `{"order_id":"one"}`, signed, 400, httpapi.TypeBadRequest, `order_id is "one"`},
		{"negative id", "us-store", `{"entity_id":-3}`, signed, 400, httpapi.TypeBadRequest, "entity_id is -3, not a positive integer"},
		{"ids disagree", "us-store", `{"order_id":3,"data":{"order":{"entity_id":4}}}`, signed, 400, httpapi.TypeBadRequest, "order_id 3 and data.order.entity_id 4 name different orders"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, hdr, resp := trigger(t, srv, tt.store, []byte(tt.body), tt.headers([]byte(tt.body)))
			var p httpapi.Problem
			if err := json.Unmarshal(resp, &p); err != nil || status != tt.status || p.Type != tt.problem || !strings.Contains(p.Detail, tt.detail) ||
				hdr.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s; want %d %s with %q", status, resp, tt.status, tt.problem, tt.detail)
			}
			if status == 401 && hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("401 without WWW-Authenticate")
			}
		})
	}
	if got := counter(t, h.reg, "paklog_magento_triggers_total", "us-store", "unauthorized"); got != 4 {
		t.Errorf("unauthorized counter %v, want 4", got)
	}
	if sim.Calls(magentosim.OpGetOrder) != 0 {
		t.Errorf("a refused trigger reached Magento")
	}
}

// One store failing (its credentials refused) never holds up another; the failure is
// logged with the store's name and no secret.
func TestOneStoreFailingDoesNotStopAnother(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	sim := magentosim.Start(t, magentosim.Config{})
	addOrders(sim, 1, 3)
	broken := storeConfig("broken", sim)
	broken.Client.AccessTokenSecret = "revoked-token-secret"
	h := newHub(t, st, magento.Config{Stores: []magento.StoreConfig{broken, storeConfig("us-store", sim)}}, nil)
	run(t, h.stores)
	waitFor(t, "us-store's orders", func() bool { return len(messages(t, st)) == 3 })
	waitFor(t, "broken's failure in the log", func() bool { return strings.Contains(h.logs.String(), "magento poll pass failed") })
	logs := h.logs.String()
	if !strings.Contains(logs, "partner=broken") || !strings.Contains(logs, "auth (HTTP 401)") {
		t.Errorf("the failure does not name the store or the cause:\n%s", logs)
	}
	for _, secret := range []string{"revoked-token-secret", sim.Config().ConsumerSecret, sim.Config().AccessTokenSecret} {
		if strings.Contains(logs, secret) {
			t.Errorf("secret %q reached the log:\n%s", secret, logs)
		}
	}
	for _, m := range messages(t, st) {
		if m.Metadata[router.MetaPartner] != "us-store" {
			t.Fatalf("message of %q", m.Metadata[router.MetaPartner])
		}
	}
}

func TestNewValidatesConfig(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	ok := magento.StoreConfig{Name: "a", Client: magentoapi.Config{BaseURL: "https://m.example", Auth: magentoapi.AuthBearer, AccessToken: "t"}}
	tests := []struct {
		name string
		cfg  magento.Config
		want []string
	}{
		{"no stores", magento.Config{}, []string{"at least one store"}},
		{"every problem", magento.Config{MaxBody: -1, Stores: []magento.StoreConfig{
			ok,
			{Name: "a", Client: magentoapi.Config{BaseURL: "m.example", Auth: magentoapi.AuthBearer}, Poll: magentoapi.PollerConfig{PageSize: -1}},
			{Name: "b/c", Client: ok.Client, Lookback: -time.Hour},
		}}, []string{"max_body: -1", `stores[1].name: "a" is also stores[0]`, "stores[1] (a).client.base_url", "stores[1] (a).client.access_token: required",
			"stores[1] (a).poll", `stores[2].name: "b/c"`, "stores[2] (b/c).lookback"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := magento.New(tt.cfg, in, magento.StoreCheckpoints(st), nil)
			if err == nil {
				t.Fatal("New accepted the config")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	if _, err := magento.New(magento.Config{Stores: []magento.StoreConfig{ok}}, in, nil, nil); err == nil {
		t.Error("New accepted no checkpoints")
	}
}

func TestIdempotencyKey(t *testing.T) {
	o := magentoapi.RawOrder{EntityID: 1042, UpdatedAt: time.Date(2026, 11, 21, 8, 2, 17, 0, time.UTC)}
	if got := magento.IdempotencyKey(o); got != "1042@2026-11-21T08:02:17Z" {
		t.Fatalf("key %q", got)
	}
	// Two versions saved within one second (a source that sends fractions) are two
	// keys; the whole-second form above is unchanged.
	o.UpdatedAt = o.UpdatedAt.Add(250 * time.Millisecond)
	if got := magento.IdempotencyKey(o); got != "1042@2026-11-21T08:02:17.25Z" {
		t.Fatalf("key with a fraction %q", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// counter is the value of the series name{store, result} in reg.
func counter(t *testing.T, reg *prometheus.Registry, name, store, result string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["store"] == store && labels["result"] == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no series %s{store=%q, result=%q}", name, store, result)
	return 0
}
