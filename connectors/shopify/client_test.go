package shopify_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/connectors/shopify"
	"github.com/paklog/integration-hub/fixtures/shopifysim"
	transform "github.com/paklog/integration-hub/transforms/shopify"
)

const shop = "acme"

// clock is a settable clock shared by the simulator's store and the
// reconciler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	sim    *shopifysim.Sim
	client *shopify.Client
	clock  *clock
}

func newEnv(t *testing.T, mod func(*shopify.Config)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)}
	sim := shopifysim.New(shopifysim.Options{Now: clk.Now, RetryBase: time.Millisecond})
	t.Cleanup(sim.Close)
	cfg := shopify.Config{
		Shop: shop, Domain: sim.Domain, AccessToken: sim.AccessToken(), BaseURL: sim.URL,
		Timeout: 2 * time.Second, RetryBase: 5 * time.Millisecond, MaxWait: 3 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := shopify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sim: sim, client: c, clock: clk}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../transforms/shopify/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// order is a minimal paid order with one line; id 0 lets the simulator
// assign one.
func order(t *testing.T, name string, lines ...map[string]any) []byte {
	t.Helper()
	if lines == nil {
		lines = []map[string]any{{"title": "Tent", "sku": "TENT-1", "quantity": 2, "price": "10.00", "requires_shipping": true}}
	}
	b, err := json.Marshal(map[string]any{
		"name": name, "email": "a@example.com", "financial_status": "paid", "currency": "USD",
		"shipping_address": map[string]any{"name": "Dana W", "address1": "1 Main St", "city": "Springfield", "country_code": "US", "zip": "12345"},
		"line_items":       lines,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// recorder is a Sink that records what it was given and fails when told.
type recorder struct {
	mu    sync.Mutex
	calls int
	seen  []shopify.Order
	fail  error
}

func (r *recorder) sink(_ context.Context, s string, orders []shopify.Order) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if s != shop {
		return errors.New("wrong shop " + s)
	}
	if r.fail != nil {
		return r.fail
	}
	r.seen = append(r.seen, orders...)
	return nil
}

func (r *recorder) ids() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, o := range r.seen {
		out = append(out, o.ID)
	}
	return out
}

func reconciler(t *testing.T, e *env, cp shopify.Checkpoint, rec *recorder, cfg shopify.ReconcileConfig) *shopify.Reconciler {
	t.Helper()
	cfg.Now = e.clock.Now
	r, err := shopify.NewReconciler(e.client, cp, rec.sink, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestWebhookJSONThroughTransform: an order stored from a webhook fixture,
// read back over GraphQL and converted, maps to the same canonical result as
// the webhook body itself.
func TestWebhookJSONThroughTransform(t *testing.T) {
	for _, name := range []string{"paid.webhook.json", "big_id.webhook.json", "partial_refund.webhook.json",
		"bundle.webhook.json", "cancelled.webhook.json", "digital_only.webhook.json", "missing_sku.webhook.json"} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, nil)
			body := fixture(t, name)
			id, err := e.sim.CreateOrder(body)
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := e.sim.Order(id) // the simulator's copy: fixture plus the ids it assigned
			rec := &recorder{}
			r := reconciler(t, e, &shopify.MemoryCheckpoint{}, rec, shopify.ReconcileConfig{InitialLookback: 10 * 365 * 24 * time.Hour})
			if _, err := r.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			if len(rec.seen) != 1 || rec.seen[0].ID != id {
				t.Fatalf("sink saw %v, want order %d", rec.ids(), id)
			}
			got := rec.seen[0]
			for _, opts := range []transform.Options{{}, {SKUFallback: transform.SKUFallbackVariantID}} {
				want, wantErr := transform.OrderFromWebhook(got.Topic, stored, shop, opts)
				res, err := transform.OrderFromWebhook(got.Topic, got.Body, shop, opts)
				if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
					t.Fatalf("converted: %v\nwebhook:   %v\nbody %s", err, wantErr, got.Body)
				}
				if !reflect.DeepEqual(res, want) {
					a, _ := json.MarshalIndent(res, "", " ")
					b, _ := json.MarshalIndent(want, "", " ")
					t.Fatalf("converted order maps to\n%s\nthe webhook body to\n%s\nconverted body %s", a, b, got.Body)
				}
			}
			if res, _ := transform.OrderFromWebhook(got.Topic, got.Body, shop, transform.Options{}); res.ExternalID != strconv.FormatInt(id, 10) {
				t.Errorf("external id %q, want %d", res.ExternalID, id)
			}
		})
	}
}

func TestWebhookJSONKeepsIDsAbove2To53(t *testing.T) {
	node := []byte(`{"id":"gid://shopify/Order/9007199254740993","updatedAt":"2026-01-01T00:00:00Z",
	 "totalWeight":"2350","tags":["a","b"],
	 "lineItems":{"nodes":[{"id":"gid://shopify/LineItem/9223372036854775807","quantity":3,"unfulfilledQuantity":2,
	  "requiresShipping":true,"sku":"X","originalUnitPriceSet":{"shopMoney":{"amount":"1.5"}},
	  "variant":{"id":"gid://shopify/ProductVariant/9007199254740995","inventoryItem":{"measurement":{"weight":{"unit":"KILOGRAMS","value":1.25}}}},
	  "product":{"id":"gid://shopify/Product/12"}}],"pageInfo":{"hasNextPage":false}}}`)
	body, err := shopify.WebhookJSON(node)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":9007199254740993`, `"id":9223372036854775807`, `"variant_id":9007199254740995`,
		`"product_id":12`, `"grams":1250`, `"fulfillable_quantity":2`, `"quantity":3`, `"total_weight":2350`, `"tags":"a, b"`, `"price":"1.5"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("converted body lacks %s:\n%s", want, body)
		}
	}
	if _, err := shopify.WebhookJSON([]byte(`{"id":"gid://shopify/Order/1","lineItems":{"nodes":[],"pageInfo":{"hasNextPage":true}}}`)); err == nil {
		t.Error("an order with unread line items was converted")
	}
}

// TestReconcilerFindsDroppedWebhook: the webhook of an order is lost; the
// next poll hands the order to the sink and moves the watermark.
func TestReconcilerFindsDroppedWebhook(t *testing.T) {
	e := newEnv(t, nil)
	var got atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got.Add(1) }))
	t.Cleanup(recv.Close)
	e.sim.Subscribe("orders/create", recv.URL)

	e.sim.DropNext(1)
	lost, err := e.sim.CreateOrder(order(t, "#1001"))
	if err != nil {
		t.Fatal(err)
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("%d webhooks arrived; the drop control failed", n)
	}
	cp := &shopify.MemoryCheckpoint{}
	rec := &recorder{}
	r := reconciler(t, e, cp, rec, shopify.ReconcileConfig{})
	res, err := r.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if ids := rec.ids(); !slices.Equal(ids, []int64{lost}) {
		t.Fatalf("sink got %v, want [%d]", ids, lost)
	}
	wm, _ := cp.Load(context.Background(), shop)
	if !wm.Equal(e.clock.Now()) || !res.Watermark.Equal(wm) {
		t.Errorf("watermark %s (result %s), want %s", wm, res.Watermark, e.clock.Now())
	}
	if o := rec.seen[0]; o.Topic != transform.TopicOrdersUpdated || o.Name != "#1001" {
		t.Errorf("order %+v", o)
	}
}

// TestReconcilerOverlapAndPaging: orders inside the overlap window are read
// again (the sink dedupes); older ones are not; pages are committed one by
// one with the watermark following.
func TestReconcilerOverlapAndPaging(t *testing.T) {
	e := newEnv(t, nil)
	var ids []int64
	for i := range 5 {
		id, err := e.sim.CreateOrder(order(t, "#"+strconv.Itoa(1000+i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		e.clock.Advance(time.Minute)
	}
	// Orders at 12:00 … 12:04; the clock is now 12:05.
	cp := &shopify.MemoryCheckpoint{}
	rec := &recorder{}
	r := reconciler(t, e, cp, rec, shopify.ReconcileConfig{PageSize: 2, Overlap: 150 * time.Second})
	res, err := r.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.ids(), ids) || res.Pages != 3 || rec.calls != 3 {
		t.Fatalf("first poll: sink got %v in %d calls over %d pages, want %v in 3", rec.ids(), rec.calls, res.Pages, ids)
	}
	wm := res.Watermark
	if want := time.Date(2026, 11, 20, 12, 4, 0, 0, time.UTC); !wm.Equal(want) {
		t.Fatalf("watermark %s, want %s", wm, want)
	}

	// Second poll: from 12:04 − 2m30s = 12:01:30: orders of 12:02, 12:03, 12:04 again.
	rec.seen, rec.calls = nil, 0
	res, err = r.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rec.ids(), ids[2:]) {
		t.Fatalf("second poll re-read %v, want %v (the overlap)", rec.ids(), ids[2:])
	}
	if !res.Watermark.Equal(wm) || !res.From.Equal(wm.Add(-150*time.Second)) {
		t.Errorf("second poll from %s, watermark %s", res.From, res.Watermark)
	}

	// An update moves the order past the watermark.
	e.clock.Advance(time.Hour)
	if err := e.sim.MarkPaid(ids[0]); err != nil {
		t.Fatal(err)
	}
	rec.seen = nil
	if res, err = r.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The overlap of the old watermark again, then the updated order, newest last.
	if !slices.Equal(rec.ids(), append(slices.Clone(ids[2:]), ids[0])) || !res.Watermark.Equal(e.clock.Now()) {
		t.Fatalf("after an update: %v, watermark %s", rec.ids(), res.Watermark)
	}
}

// TestReconcilerSinkFailureKeepsWatermark: a crash between fetch and commit
// leaves the watermark alone, and the next poll reads the order again.
func TestReconcilerSinkFailureKeepsWatermark(t *testing.T) {
	e := newEnv(t, nil)
	first, _ := e.sim.CreateOrder(order(t, "#1"))
	cp := &shopify.MemoryCheckpoint{}
	rec := &recorder{}
	r := reconciler(t, e, cp, rec, shopify.ReconcileConfig{})
	if _, err := r.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, _ := cp.Load(context.Background(), shop)

	e.clock.Advance(time.Hour)
	second, _ := e.sim.CreateOrder(order(t, "#2"))
	rec.fail = errors.New("database is gone")
	if _, err := r.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "database is gone") {
		t.Fatalf("poll error %v", err)
	}
	if after, _ := cp.Load(context.Background(), shop); !after.Equal(before) {
		t.Fatalf("watermark moved from %s to %s though the sink failed", before, after)
	}
	rec.fail, rec.seen = nil, nil
	if _, err := r.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The first order again (inside the overlap of the unchanged watermark), and the
	// second, whose commit failed.
	if ids := rec.ids(); !slices.Equal(ids, []int64{first, second}) {
		t.Fatalf("next poll got %v, want [%d %d]", ids, first, second)
	}
	if after, _ := cp.Load(context.Background(), shop); !after.Equal(e.clock.Now()) {
		t.Fatalf("watermark %s, want %s", after, e.clock.Now())
	}
}

func TestRateLimits(t *testing.T) {
	t.Run("THROTTLED then success", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.CreateOrder(order(t, "#1"))
		// An empty bucket restoring 500 points a second: the query (2 + 25×4 = 102) waits ~0.2s.
		e.sim.SetThrottle(1000, 500, 0)
		rec := &recorder{}
		start := time.Now()
		if _, err := reconciler(t, e, &shopify.MemoryCheckpoint{}, rec, shopify.ReconcileConfig{}).Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.sim.Calls("orders"); n != 2 {
			t.Errorf("%d orders queries, want 2 (throttled, then served)", n)
		}
		if len(rec.seen) != 1 {
			t.Errorf("sink got %d orders", len(rec.seen))
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("retried after %s; the bucket needed ~200ms", d)
		}
	})
	t.Run("budget waited for before the call", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.CreateOrder(order(t, "#1"))
		e.sim.CreateOrder(order(t, "#2"))
		// Two orders, pages of two: each query costs 2 + 2×4 = 10, and the bucket holds
		// exactly that, restoring 50 a second.
		e.sim.SetThrottle(100, 50, 10)
		r := reconciler(t, e, &shopify.MemoryCheckpoint{}, &recorder{}, shopify.ReconcileConfig{PageSize: 2})
		if _, err := r.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		// The answer said the bucket is empty: the next query waits ~0.2s first
		// instead of being throttled.
		calls, start := e.sim.Calls("orders"), time.Now()
		if _, err := r.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.sim.Calls("orders") - calls; n != 1 {
			t.Errorf("%d calls for the second poll, want 1 (no THROTTLED answer)", n)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("second poll took %s; the budget needed ~200ms", d)
		}
	})
	t.Run("429 with Retry-After", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.CreateOrder(order(t, "#1"))
		e.sim.FailNext("orders", 1, http.StatusTooManyRequests, 300*time.Millisecond)
		rec := &recorder{}
		start := time.Now()
		if _, err := reconciler(t, e, &shopify.MemoryCheckpoint{}, rec, shopify.ReconcileConfig{}).Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 300*time.Millisecond {
			t.Errorf("retried after %s, before Retry-After 0.3", d)
		}
		if n := e.sim.Calls("orders"); n != 2 || len(rec.seen) != 1 {
			t.Errorf("%d calls, %d orders", n, len(rec.seen))
		}
	})
	t.Run("5xx is transient and retried", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.FailNext("orders", 2, http.StatusServiceUnavailable, 0)
		if _, err := reconciler(t, e, &shopify.MemoryCheckpoint{}, &recorder{}, shopify.ReconcileConfig{}).Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := e.sim.Calls("orders"); n != 3 {
			t.Errorf("%d calls, want 3", n)
		}
	})
	t.Run("5xx past the retries", func(t *testing.T) {
		e := newEnv(t, func(c *shopify.Config) { c.MaxRetries = 2 })
		e.sim.FailNext("orders", 10, http.StatusBadGateway, 0)
		_, err := reconciler(t, e, &shopify.MemoryCheckpoint{}, &recorder{}, shopify.ReconcileConfig{}).Poll(context.Background())
		var se *shopify.Error
		if !errors.As(err, &se) || se.Class != shopify.Transient || se.Status != http.StatusBadGateway {
			t.Fatalf("error %v", err)
		}
		if n := e.sim.Calls("orders"); n != 3 {
			t.Errorf("%d calls, want 3", n)
		}
	})
	t.Run("bad token is permanent", func(t *testing.T) {
		e := newEnv(t, func(c *shopify.Config) { c.AccessToken = "shpat_wrong" })
		_, err := reconciler(t, e, &shopify.MemoryCheckpoint{}, &recorder{}, shopify.ReconcileConfig{}).Poll(context.Background())
		if !errors.Is(err, shopify.ErrUnauthorized) || shopify.ClassOf(err) != shopify.Permanent {
			t.Fatalf("error %v (class %s)", err, shopify.ClassOf(err))
		}
		if strings.Contains(err.Error(), "shpat_wrong") {
			t.Errorf("the token is in the error: %v", err)
		}
	})
	t.Run("403 is permanent", func(t *testing.T) {
		e := newEnv(t, nil)
		e.sim.FailNext("", 1, http.StatusForbidden, 0)
		_, err := e.client.Subscriptions(context.Background())
		if !errors.Is(err, shopify.ErrUnauthorized) || e.sim.Calls("") != 1 {
			t.Fatalf("error %v after %d calls", err, e.sim.Calls(""))
		}
	})
}

func TestEnsureSubscriptions(t *testing.T) {
	e := newEnv(t, nil)
	want := []shopify.Subscription{
		{Topic: "orders/create", CallbackURL: "https://hub.example/webhooks/shopify"},
		{Topic: "orders/updated", CallbackURL: "https://hub.example/webhooks/shopify"},
		{Topic: "ORDERS_CANCELLED", CallbackURL: "https://hub.example/webhooks/shopify"},
	}
	ctx := context.Background()
	got, err := e.client.EnsureSubscriptions(ctx, want)
	if err != nil || len(got.Missing) != 3 || len(got.Created) != 3 {
		t.Fatalf("first run: %+v, %v", got, err)
	}
	got, err = e.client.EnsureSubscriptions(ctx, want)
	if err != nil || len(got.Missing) != 0 || len(got.Created) != 0 {
		t.Fatalf("second run: %+v, %v", got, err)
	}
	if n := e.sim.RemoveSubscription("orders/updated"); n != 1 {
		t.Fatalf("removed %d", n)
	}
	got, err = e.client.EnsureSubscriptions(ctx, want)
	if err != nil || !slices.Equal(got.Missing, want[1:2]) || !slices.Equal(got.Created, want[1:2]) {
		t.Fatalf("after a silent removal: %+v, %v", got, err)
	}
	var topics []string
	for _, s := range e.sim.Subscriptions() {
		topics = append(topics, s.Topic)
	}
	slices.Sort(topics)
	if !slices.Equal(topics, []string{"ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_UPDATED"}) {
		t.Errorf("the shop holds %v", topics)
	}

	e.sim.RemoveSubscription("orders/create")
	e.sim.UserErrorNext("webhookSubscriptionCreate", []string{"webhookSubscription", "callbackUrl"}, "Address is invalid")
	got, err = e.client.EnsureSubscriptions(ctx, want)
	var se *shopify.Error
	if !errors.As(err, &se) || !errors.Is(err, shopify.ErrUserErrors) || len(got.Missing) != 1 || len(got.Created) != 0 ||
		!strings.Contains(err.Error(), "Address is invalid [field webhookSubscription.callbackUrl]") {
		t.Fatalf("userError: %+v, %v", got, err)
	}
}

func TestCreateFulfillment(t *testing.T) {
	lines := []map[string]any{
		{"title": "Tent", "sku": "TENT-1", "quantity": 2, "requires_shipping": true, "price": "10.00"},
		{"title": "Rope", "sku": "ROPE-1", "quantity": 1, "requires_shipping": true, "price": "5.00"},
		{"title": "Gift card", "sku": "GIFT", "quantity": 1, "requires_shipping": false, "price": "25.00"},
	}
	tracking := shopify.Tracking{Company: "UPS", Number: "1Z999AA10123456784", URL: "https://www.ups.com/track?tracknum=1Z999AA10123456784"}
	ctx := context.Background()
	lineIDs := func(t *testing.T, e *env, id int64) map[string]int64 {
		body, _ := e.sim.Order(id)
		var o struct {
			LineItems []struct {
				ID  int64  `json:"id"`
				SKU string `json:"sku"`
			} `json:"line_items"`
		}
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatal(err)
		}
		m := map[string]int64{}
		for _, l := range o.LineItems {
			m[l.SKU] = l.ID
		}
		return m
	}

	t.Run("happy path", func(t *testing.T) {
		e := newEnv(t, nil)
		id, _ := e.sim.CreateOrder(order(t, "#1", lines...))
		ids := lineIDs(t, e, id)
		f, err := e.client.CreateFulfillment(ctx, id, tracking, []shopify.FulfilLine{{SKU: "TENT-1", Quantity: 1}, {LineItemID: ids["ROPE-1"], Quantity: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if f.Existing || f.Status != "SUCCESS" || len(f.Tracking) != 1 || f.Tracking[0] != tracking {
			t.Fatalf("fulfilment %+v", f)
		}
		fs := e.sim.Fulfillments(id)
		if len(fs) != 1 || fs[0].Number != tracking.Number || fs[0].Company != "UPS" || fs[0].URL != tracking.URL ||
			fs[0].Lines[ids["TENT-1"]] != 1 || fs[0].Lines[ids["ROPE-1"]] != 1 {
			t.Fatalf("the shop recorded %+v", fs)
		}
		if e.sim.Remaining(id, ids["TENT-1"]) != 1 || e.sim.Remaining(id, ids["ROPE-1"]) != 0 {
			t.Errorf("remaining %d, %d", e.sim.Remaining(id, ids["TENT-1"]), e.sim.Remaining(id, ids["ROPE-1"]))
		}
		// The same shipment again (a redelivered event): found, not repeated.
		again, err := e.client.CreateFulfillment(ctx, id, tracking, []shopify.FulfilLine{{SKU: "TENT-1", Quantity: 1}})
		if err != nil || !again.Existing || again.ID != f.ID || len(e.sim.Fulfillments(id)) != 1 {
			t.Fatalf("again: %+v, %v, %d fulfilments", again, err, len(e.sim.Fulfillments(id)))
		}
		// The rest, with nil lines, under another tracking number.
		rest, err := e.client.CreateFulfillment(ctx, id, shopify.Tracking{Company: "UPS", Number: "1Z999AA10123456785"}, nil)
		if err != nil || rest.Existing || len(e.sim.Fulfillments(id)) != 2 || e.sim.Remaining(id, ids["TENT-1"]) != 0 {
			t.Fatalf("rest: %+v, %v", rest, err)
		}
		body, _ := e.sim.Order(id)
		if !strings.Contains(string(body), `"fulfillment_status":"fulfilled"`) {
			t.Errorf("order not fulfilled: %s", body)
		}
	})
	t.Run("timeout after create, then retry", func(t *testing.T) {
		e := newEnv(t, func(c *shopify.Config) { c.Timeout = 300 * time.Millisecond })
		id, _ := e.sim.CreateOrder(order(t, "#2", lines...))
		e.sim.TimeoutAfterFulfillmentCreate(1)
		f, err := e.client.CreateFulfillment(ctx, id, tracking, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Existing || len(f.Tracking) != 1 || f.Tracking[0].Number != tracking.Number {
			t.Errorf("fulfilment %+v, want the one the timed-out call made", f)
		}
		if fs := e.sim.Fulfillments(id); len(fs) != 1 {
			t.Fatalf("%d fulfilments in the shop, want exactly 1", len(fs))
		}
		if n := e.sim.Calls("fulfillmentCreate"); n != 1 {
			t.Errorf("fulfillmentCreate called %d times", n)
		}
	})
	t.Run("userErrors are permanent", func(t *testing.T) {
		e := newEnv(t, nil)
		id, _ := e.sim.CreateOrder(order(t, "#3", lines...))
		e.sim.UserErrorNext("fulfillmentCreate", []string{"fulfillment", "trackingInfo", "number"}, "Tracking number is invalid")
		_, err := e.client.CreateFulfillment(ctx, id, tracking, nil)
		var se *shopify.Error
		if !errors.As(err, &se) || se.Class != shopify.Permanent || !errors.Is(err, shopify.ErrUserErrors) {
			t.Fatalf("error %v", err)
		}
		if !strings.Contains(err.Error(), "Tracking number is invalid [field fulfillment.trackingInfo.number]") ||
			!slices.Equal(se.UserErrors[0].Field, []string{"fulfillment", "trackingInfo", "number"}) {
			t.Errorf("error does not name message and field: %v", err)
		}
		if e.sim.Calls("fulfillmentCreate") != 1 || len(e.sim.Fulfillments(id)) != 0 {
			t.Errorf("retried or recorded")
		}
	})
	t.Run("refusals before calling", func(t *testing.T) {
		e := newEnv(t, nil)
		id, _ := e.sim.CreateOrder(order(t, "#4", lines...))
		tests := []struct {
			name     string
			orderID  int64
			tracking shopify.Tracking
			lines    []shopify.FulfilLine
			want     error
		}{
			{"unknown order", id + 1000, tracking, nil, shopify.ErrOrderNotFound},
			{"more than remains", id, tracking, []shopify.FulfilLine{{SKU: "TENT-1", Quantity: 3}}, shopify.ErrNothingToFulfil},
			{"unknown SKU", id, tracking, []shopify.FulfilLine{{SKU: "NOPE", Quantity: 1}}, shopify.ErrNothingToFulfil},
			{"digital line", id, tracking, []shopify.FulfilLine{{SKU: "GIFT", Quantity: 1}}, shopify.ErrNothingToFulfil},
			{"no tracking number", id, shopify.Tracking{Company: "UPS"}, nil, shopify.ErrNoTrackingNumber},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.client.CreateFulfillment(ctx, tt.orderID, tt.tracking, tt.lines)
				if !errors.Is(err, tt.want) || shopify.ClassOf(err) != shopify.Permanent {
					t.Fatalf("error %v, want %v", err, tt.want)
				}
			})
		}
		if e.sim.Calls("fulfillmentCreate") != 0 {
			t.Errorf("fulfillmentCreate was called")
		}
	})
}

func TestConfigValidate(t *testing.T) {
	err := shopify.Config{Domain: "not a domain", APIVersion: "v1", Timeout: -1, BaseURL: "ftp://x"}.Validate()
	for _, want := range []string{"shop: is required", "domain:", "access_token: is required", "api_version:", "timeout:", "base_url:"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if err := (shopify.Config{Shop: "a", Domain: "a.myshopify.com", AccessToken: "x"}).Validate(); err != nil {
		t.Error(err)
	}
}
