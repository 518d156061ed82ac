package magento

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paklog/integration-hub/fixtures/magentosim"
)

// newClient returns a Client of the simulator, OAuth 1.0a HMAC-SHA256
// unless change says otherwise.
func newClient(t *testing.T, sim *magentosim.Server, change func(*Config)) *Client {
	t.Helper()
	sc := sim.Config()
	cfg := Config{
		BaseURL: sim.URL, ConsumerKey: sc.ConsumerKey, ConsumerSecret: Secret(sc.ConsumerSecret),
		AccessToken: Secret(sc.AccessToken), AccessTokenSecret: Secret(sc.AccessTokenSecret),
		Timeout: 2 * time.Second, RetryWait: 5 * time.Millisecond,
	}
	if change != nil {
		change(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addOrders(sim *magentosim.Server, from, to int64) {
	for id := from; id <= to; id++ {
		sim.AddOrder(magentosim.Order{EntityID: id, Items: []magentosim.Item{
			{ItemID: id * 10, SKU: fmt.Sprintf("SKU-%d", id), QtyOrdered: 2, Price: 10},
		}})
	}
}

func TestAuthModes(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	addOrders(sim, 1, 1)
	tests := []struct {
		name   string
		change func(*Config)
		class  Class
	}{
		{"oauth1 HMAC-SHA256", nil, ""},
		{"oauth1 HMAC-SHA1", func(c *Config) { c.SignatureMethod = HMACSHA1 }, ""},
		{"bearer", func(c *Config) { c.Auth = AuthBearer }, ""},
		{"wrong token secret", func(c *Config) { c.AccessTokenSecret = "nope" }, Auth},
		{"wrong bearer", func(c *Config) { c.Auth, c.AccessToken = AuthBearer, "nope" }, Auth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, sim, tc.change)
			o, err := c.GetOrder(context.Background(), 1)
			if ClassOf(err) != tc.class {
				t.Fatalf("class %q, want %q: %v", ClassOf(err), tc.class, err)
			}
			if err == nil {
				if o.EntityID != 1 || o.IncrementID != "000000001" || o.State != "processing" || o.UpdatedAt.IsZero() {
					t.Fatalf("order %+v", o)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != 401 || e.Message != "The consumer isn't authorized to access Magento_Sales::actions_view." ||
				e.Parameters["resources"] != "Magento_Sales::actions_view" {
				t.Fatalf("error %#v", err)
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	c := newClient(t, sim, nil)
	_, err := c.GetOrder(context.Background(), 404)
	var e *Error
	if !errors.As(err, &e) || e.Status != 404 || e.Class != Permanent || !strings.Contains(e.Message, "doesn't exist") {
		t.Fatalf("404: %v", err)
	}
	sim.Inject(magentosim.Fault{Kind: magentosim.ServerError, Op: magentosim.OpGetOrder, Count: 1})
	if _, err := c.GetOrder(context.Background(), 1); ClassOf(err) != Transient {
		t.Fatalf("500: %v", err)
	}
	if got := parseError("x", 400, []byte(`{"message":"%1 of %2 (%10)","parameters":["a","b","c","d","e","f","g","h","i","j"]}`)); got.Message != "a of b (j)" {
		t.Fatalf("positional parameters: %q", got.Message)
	}
	if got := parseError("x", 502, []byte(`<html>bad gateway</html>`)); got.Class != Transient || got.Message != "<html>bad gateway</html>" {
		t.Fatalf("non-JSON: %+v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{BaseURL: "ftp://x", Store: "a b", SignatureMethod: "PLAINTEXT", ShipAttempts: 20}.Validate()
	for _, want := range []string{"base_url:", "store:", "consumer_key: required", "access_token_secret: required", "signature_method:", "ship_attempts: 20"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in %v", want, err)
		}
	}
	if err := (Config{BaseURL: "https://m.example", Auth: AuthBearer, AccessToken: "t"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if s := fmt.Sprint(Config{AccessToken: "top-secret"}); strings.Contains(s, "top-secret") {
		t.Fatalf("secret printed: %s", s)
	}
}

func TestListOrdersKeyset(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{Seed: 3})
	old := sim.Now()
	addOrders(sim, 1, 3)
	sim.Advance(time.Hour)
	addOrders(sim, 4, 26) // 23 orders sharing one updated_at: ties
	c := newClient(t, sim, nil)
	seen := map[int64]int{}
	cursor, pages := int64(0), 0
	for {
		page, err := c.ListOrdersUpdatedSince(context.Background(), old.Add(30*time.Minute), cursor, 5)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Orders {
			seen[o.EntityID]++
		}
		cursor = page.Next
		if page.Last {
			break
		}
		if pages > 10 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 23 || pages != 5 {
		t.Fatalf("%d orders in %d pages, want 23 in 5: %v", len(seen), pages, seen)
	}
	for id, n := range seen {
		if n != 1 || id < 4 {
			t.Fatalf("order %d seen %d times", id, n)
		}
	}
}

// TestRepeatedLastPage plays a Magento that ignores the entity_id filter
// and, asked for more, serves its last page again: the page is recognised
// as nothing new and paging ends.
func TestRepeatedLastPage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items":[{"entity_id":8,"updated_at":"2026-11-21 08:00:00"},{"entity_id":9,"updated_at":"2026-11-21 08:00:00"}],"total_count":9}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthBearer, AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListOrdersUpdatedSince(context.Background(), time.Time{}, 9, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != 0 || !page.Last || page.Repeated != 2 || page.Next != 9 {
		t.Fatalf("page %+v", page)
	}
}

// TestListOrdersTimeForms plays an extension or proxy that writes
// updated_at in ISO 8601 / RFC 3339 forms: each is read, in UTC; an
// updated_at in no accepted form is a permanent error naming the item,
// the order, the value and what is accepted.
func TestListOrdersTimeForms(t *testing.T) {
	var body string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) }))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Auth: AuthBearer, AccessToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	forms := map[int64]struct {
		in   string
		want time.Time
	}{
		1: {"2026-11-20 18:00:00", at},
		2: {"2026-11-20T18:00:00Z", at},
		3: {"2026-11-20T18:00:00+00:00", at},
		4: {"2026-11-20T18:00:00.250Z", at.Add(250 * time.Millisecond)},
		5: {"2026-11-20T13:00:00.250000-05:00", at.Add(250 * time.Millisecond)},
		6: {"2026-11-20T18:00:00", at},
	}
	var items []string
	for id := int64(1); id <= int64(len(forms)); id++ {
		items = append(items, fmt.Sprintf(`{"entity_id":%d,"updated_at":%q}`, id, forms[id].in))
	}
	body = `{"items":[` + strings.Join(items, ",") + `],"total_count":6}`
	page, err := c.ListOrdersUpdatedSince(context.Background(), time.Time{}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Orders) != len(forms) {
		t.Fatalf("page %+v", page)
	}
	for _, o := range page.Orders {
		if want := forms[o.EntityID].want; !o.UpdatedAt.Equal(want) || o.UpdatedAt.Location() != time.UTC {
			t.Errorf("order %d: updated_at %q read as %v, want %v", o.EntityID, forms[o.EntityID].in, o.UpdatedAt, want)
		}
	}

	body = `{"items":[{"entity_id":1,"updated_at":"2026-11-20 18:00:00"},{"entity_id":2,"updated_at":"20/11/2026 18:00"}],"total_count":2}`
	_, err = c.ListOrdersUpdatedSince(context.Background(), time.Time{}, 0, 10)
	var e *Error
	if !errors.As(err, &e) || e.Class != Permanent {
		t.Fatalf("error %v, want a permanent *Error", err)
	}
	for _, want := range []string{"items[1]", "order 2", "updated_at", `"20/11/2026 18:00"`, `"YYYY-MM-DD hh:mm:ss"`, "RFC 3339"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %s", err, want)
		}
	}
}

func TestShipTimeoutAfterCreate(t *testing.T) {
	tests := []struct {
		name string
		req  ShipRequest
	}{
		{"found by track number", ShipRequest{Items: []ShipItem{{OrderItemID: 10, Qty: 2}},
			Tracks: []Track{{TrackNumber: "1Z999AA10123456784", Title: "United Parcel Service", CarrierCode: "ups"}}}},
		{"found by qty_shipped", ShipRequest{Items: []ShipItem{{OrderItemID: 10, Qty: 2}}}},
		{"ship everything", ShipRequest{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sim := magentosim.Start(t, magentosim.Config{})
			addOrders(sim, 1, 1)
			sim.Inject(magentosim.Fault{Kind: magentosim.TimeoutAfterShip, Count: 1})
			c := newClient(t, sim, func(c *Config) { c.Timeout = 300 * time.Millisecond })
			res, err := c.Ship(context.Background(), 1, tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if !res.AlreadyShipped || res.Attempts != 1 || len(tc.req.Tracks) > 0 && res.ShipmentID != 1 {
				t.Fatalf("result %+v", res)
			}
			if n := len(sim.Shipments(1)); n != 1 || sim.Calls(magentosim.OpShip) != 1 {
				t.Fatalf("%d shipments from %d POSTs, want 1 and 1", n, sim.Calls(magentosim.OpShip))
			}
		})
	}
}

func TestShipRetriesAndRefusals(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	sim.AddOrder(magentosim.Order{EntityID: 3, Items: []magentosim.Item{
		{ItemID: 10, SKU: "MH01-S-Gray", ProductType: "configurable", QtyOrdered: 1, Price: 52},
		{ItemID: 11, ParentItemID: 10, SKU: "MH01-S-Gray", QtyOrdered: 1},
	}})
	c := newClient(t, sim, nil)
	track := []Track{{TrackNumber: "T1", Title: "UPS", CarrierCode: "ups"}}

	// The configurable's child is refused: a permanent error, no retry.
	_, err := c.Ship(context.Background(), 3, ShipRequest{Items: []ShipItem{{OrderItemID: 11, Qty: 1}}, Tracks: track})
	var e *Error
	if !errors.As(err, &e) || e.Class != Permanent || e.Status != 400 || !strings.Contains(e.Message, "without products") || sim.Calls(magentosim.OpShip) != 1 {
		t.Fatalf("child item: %v (%d POSTs)", err, sim.Calls(magentosim.OpShip))
	}

	// A 500 and a dropped connection are retried; one shipment results.
	sim.Inject(magentosim.Fault{Kind: magentosim.ServerError, Op: magentosim.OpShip, Count: 1})
	sim.Inject(magentosim.Fault{Kind: magentosim.Drop, Op: magentosim.OpShip, Count: 1})
	res, err := c.Ship(context.Background(), 3, ShipRequest{Items: []ShipItem{{OrderItemID: 10, Qty: 1}}, Tracks: track})
	if err != nil {
		t.Fatal(err)
	}
	if res.AlreadyShipped || res.Attempts != 3 || res.ShipmentID != 1 || len(sim.Shipments(3)) != 1 {
		t.Fatalf("result %+v, shipments %+v", res, sim.Shipments(3))
	}

	// Asked again (a redelivered message), nothing new is created.
	res, err = c.Ship(context.Background(), 3, ShipRequest{Items: []ShipItem{{OrderItemID: 10, Qty: 1}}, Tracks: track})
	if err != nil || !res.AlreadyShipped || res.ShipmentID != 1 || len(sim.Shipments(3)) != 1 {
		t.Fatalf("again: %+v %v", res, err)
	}

	// Magento down for good: the attempts run out.
	sim.Inject(magentosim.Fault{Kind: magentosim.ServerError, Op: magentosim.OpListShipments})
	_, err = c.Ship(context.Background(), 3, ShipRequest{Tracks: []Track{{TrackNumber: "T2"}}})
	if ClassOf(err) != Transient || !strings.Contains(err.Error(), "after 0 attempts") {
		t.Fatalf("down: %v", err)
	}
}

// memCheckpoint is an in-memory Checkpoint that records every Save.
type memCheckpoint struct {
	mu    sync.Mutex
	w     Watermark
	saves []Watermark
}

func (m *memCheckpoint) Load(context.Context) (Watermark, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.w, nil
}

func (m *memCheckpoint) Save(_ context.Context, w Watermark) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.w = w
	m.saves = append(m.saves, w)
	return nil
}

func (m *memCheckpoint) get() Watermark {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.w
}

// recorder is a Sink that records what it committed and can be told to
// fail.
type recorder struct {
	mu     sync.Mutex
	got    []int64
	failAt int // fail the failAt-th call (1-based); 0 never
	calls  int
}

func (r *recorder) sink(_ context.Context, orders []RawOrder) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls == r.failAt {
		return errors.New("store unavailable")
	}
	for _, o := range orders {
		r.got = append(r.got, o.EntityID)
	}
	return nil
}

func (r *recorder) take() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

func exactlyOnce(t *testing.T, got []int64, want ...int64) {
	t.Helper()
	count := map[int64]int{}
	for _, id := range got {
		count[id]++
	}
	for _, id := range want {
		if count[id] != 1 {
			t.Fatalf("order %d committed %d times in %v", id, count[id], got)
		}
		delete(count, id)
	}
	if len(count) > 0 {
		t.Fatalf("unexpected orders %v in %v", count, got)
	}
}

func ids(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

func TestPollerPasses(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{Seed: 11})
	t0 := sim.Now()
	addOrders(sim, 1, 12) // equal updated_at
	cp := &memCheckpoint{}
	rec := &recorder{}
	p, err := NewPoller(newClient(t, sim, nil), cp, rec.sink, PollerConfig{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, rec.take(), ids(1, 12)...)
	if st.Pages != 3 || cp.get() != (Watermark{UpdatedAt: t0}) {
		t.Fatalf("stats %+v, watermark %+v", st, cp.get())
	}

	// An hour later two orders change and one is added; the overlap
	// window still covers t0, so the first pass after re-reads everything…
	sim.Advance(time.Hour)
	for _, id := range []int64{4, 9} {
		if err := sim.UpdateOrder(id, func(o map[string]any) { o["status"] = "ready_to_ship" }); err != nil {
			t.Fatal(err)
		}
	}
	addOrders(sim, 13, 13)
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, rec.take(), ids(1, 13)...)
	// …and the next only what changed within the overlap.
	if _, err := p.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, rec.take(), 4, 9, 13)
	if w := cp.get(); !w.UpdatedAt.Equal(t0.Add(time.Hour)) || w.EntityID != 0 {
		t.Fatalf("watermark %+v", w)
	}
}

func TestPollerCrashBeforeCommit(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	t0 := sim.Now()
	addOrders(sim, 1, 12)
	cp := &memCheckpoint{}
	rec := &recorder{failAt: 2} // the second page is fetched, not committed
	p, err := NewPoller(newClient(t, sim, nil), cp, rec.sink, PollerConfig{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "store unavailable") {
		t.Fatalf("pass error %v", err)
	}
	exactlyOnce(t, rec.take(), ids(1, 5)...)
	if w := cp.get(); w != (Watermark{EntityID: 5}) {
		t.Fatalf("watermark %+v, want the first page's cursor only", w)
	}
	// Magento fails on the next try; the watermark stays.
	sim.Inject(magentosim.Fault{Kind: magentosim.ServerError, Op: magentosim.OpListOrders, Count: 1})
	if _, err := p.Poll(context.Background()); ClassOf(err) != Transient {
		t.Fatalf("pass error %v", err)
	}
	if w := cp.get(); w != (Watermark{EntityID: 5}) {
		t.Fatalf("watermark %+v after a failed pass", w)
	}
	// The pass resumes after the committed page: the uncommitted orders
	// are fetched again. Having seen only the entity_ids above the cursor,
	// it leaves the watermark where the failed pass started (here the
	// start of history)…
	st, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, rec.take(), ids(6, 12)...)
	if w := cp.get(); w != (Watermark{}) || !st.Resumed || st.Watermark != w {
		t.Fatalf("watermark %+v, stats %+v", w, st)
	}
	// …and the next, full, pass moves it on.
	st, err = p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	exactlyOnce(t, rec.take(), ids(1, 12)...)
	if w := cp.get(); w != (Watermark{UpdatedAt: t0}) || st.Resumed {
		t.Fatalf("watermark %+v, stats %+v", w, st)
	}
}

// TestPollerResumedPassDoesNotSkipUpdates: a pass fails part-way after
// committing a page; while the hub is down (longer than the overlap) an
// order below the saved cursor and one above it change in Magento. The
// resumed pass sees only entity_ids above the cursor; the pass after it
// must still fetch the order below, with its new updated_at.
func TestPollerResumedPassDoesNotSkipUpdates(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{Seed: 5})
	t0 := sim.Now()
	addOrders(sim, 1, 12)
	cp := &memCheckpoint{w: Watermark{UpdatedAt: t0.Add(-24 * time.Hour)}} // polled before
	var (
		mu       sync.Mutex
		versions = map[int64][]time.Time{}
		fail     = true
	)
	sink := func(_ context.Context, orders []RawOrder) error {
		mu.Lock()
		defer mu.Unlock()
		if fail && slices.ContainsFunc(orders, func(o RawOrder) bool { return o.EntityID == 7 }) {
			return errors.New("store unavailable")
		}
		for _, o := range orders {
			versions[o.EntityID] = append(versions[o.EntityID], o.UpdatedAt)
		}
		return nil
	}
	fetched := func(id int64, at time.Time) bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(versions[id], at.Equal)
	}
	p, err := NewPoller(newClient(t, sim, nil), cp, sink, PollerConfig{PageSize: 5})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	from := cp.get().UpdatedAt

	// The second page (6…10) is refused: the first page's cursor is saved.
	if _, err := p.Poll(ctx); err == nil {
		t.Fatal("the pass did not fail")
	}
	if w := cp.get(); w != (Watermark{UpdatedAt: from, EntityID: 5}) {
		t.Fatalf("watermark %+v, want the first page's cursor", w)
	}

	// The hub is down for two hours: order 3 (at or below the cursor) and
	// order 11 (above it) change meanwhile.
	sim.Advance(time.Hour)
	if err := sim.UpdateOrder(3, func(o map[string]any) { o["status"] = "on_the_way" }); err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Hour)
	if err := sim.UpdateOrder(11, func(o map[string]any) { o["status"] = "on_the_way" }); err != nil {
		t.Fatal(err)
	}

	// The resumed pass completes: 6…12, with order 11's new version, but
	// not order 3's; the watermark stays where the failed pass started.
	mu.Lock()
	fail = false
	mu.Unlock()
	st, err := p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Resumed || st.Orders != 7 || !fetched(11, t0.Add(2*time.Hour)) || fetched(3, t0.Add(time.Hour)) {
		t.Fatalf("resumed pass %+v, versions %v", st, versions)
	}
	if w := cp.get(); w != (Watermark{UpdatedAt: from}) {
		t.Errorf("watermark after the resumed pass %+v, want {UpdatedAt: %v}", w, from)
	}

	// The next pass sweeps every entity_id again and finds order 3.
	st, err = p.Poll(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !fetched(3, t0.Add(time.Hour)) {
		t.Fatalf("order 3's update at %v was never fetched: %v", t0.Add(time.Hour), versions)
	}
	if w := cp.get(); st.Resumed || w != (Watermark{UpdatedAt: t0.Add(2 * time.Hour)}) {
		t.Fatalf("watermark %+v after the full pass, stats %+v", w, st)
	}
}

func TestPollerTrigger(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	addOrders(sim, 1, 2)
	rec := &recorder{}
	p, err := NewPoller(newClient(t, sim, nil), &memCheckpoint{}, rec.sink, PollerConfig{Interval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- p.Run(ctx) }()
	waitFor(t, func() bool { return len(rec.got2()) == 2 })
	rec.take()

	sim.OnChange(p.Trigger) // Magento's event, as a webhook would bring it
	addOrders(sim, 3, 3)
	waitFor(t, func() bool { return len(rec.got2()) == 1 })
	exactlyOnce(t, rec.take(), 3)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func (r *recorder) got2() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.got...)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
