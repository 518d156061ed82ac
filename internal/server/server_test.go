package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/server"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// startHub runs a whole hub (with the simulated core) on st's configuration and
// returns its base URL.
func startHub(t *testing.T, sc store.Config, tweaks ...func(*config.Config)) (string, *hub.Hub) {
	t.Helper()
	cfg := config.Default()
	cfg.Store.Driver = config.Driver(sc.Driver)
	cfg.Store.SQLite.Path = sc.SQLitePath
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.Store.Postgres.DSN = config.NewSecret(sc.PostgresDSN)
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.HTTP.MaxBodyBytes = 4096
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	for _, tw := range tweaks {
		tw(&cfg)
	}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Register: func(ctx context.Context, r *router.Router) error {
		return (&fulfilsim.Sim{}).Register(ctx, r)
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped with %v", err)
		}
	})
	<-h.Router.Running()
	return "http://" + h.Server.Addr(), h
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, url, contentType, key string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, b}
}

const goodOrder = `{"order_number":"W-1","ship_to":{"name":"A B","address1":"1 Main St","city":"Springfield","country":"US"},
	"lines":[{"line_number":"1","sku":"S-1","quantity":2}]}`

func TestOrderAPI(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		// Dialects opened st for us; the hub opens its own on the same database.
		var sc store.Config
		if st.Dialect() == store.SQLite {
			sc = storetest.SQLiteConfig(t)
		} else {
			sc = storetest.PostgresConfig(t)
		}
		base, _ := startHub(t, sc)

		r := do(t, "POST", base+"/api/v1/orders", "application/json", "k-1", []byte(goodOrder))
		if r.status != http.StatusAccepted {
			t.Fatalf("POST good order: %d %s", r.status, r.body)
		}
		var acc struct {
			OrderID   string `json:"order_id"`
			Duplicate bool   `json:"duplicate"`
		}
		if err := json.Unmarshal(r.body, &acc); err != nil || !strings.HasPrefix(acc.OrderID, "ord_") || acc.Duplicate {
			t.Fatalf("202 body %s", r.body)
		}
		if r.header.Get("Location") != "/api/v1/orders/"+acc.OrderID {
			t.Fatalf("Location %q", r.header.Get("Location"))
		}

		// The same request again: the same answer, marked as a replay.
		r2 := do(t, "POST", base+"/api/v1/orders", "application/json", "k-1", []byte(goodOrder))
		var acc2 struct {
			OrderID   string `json:"order_id"`
			Duplicate bool   `json:"duplicate"`
		}
		_ = json.Unmarshal(r2.body, &acc2)
		if r2.status != http.StatusAccepted || !acc2.Duplicate || acc2.OrderID != acc.OrderID || r2.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("retry: %d %s", r2.status, r2.body)
		}
		// The key reused for another body, and the same order under another key: 409.
		other := strings.Replace(goodOrder, `"quantity":2`, `"quantity":3`, 1)
		if r := do(t, "POST", base+"/api/v1/orders", "application/json", "k-1", []byte(other)); r.status != http.StatusConflict {
			t.Fatalf("reused key: %d %s", r.status, r.body)
		}
		if r := do(t, "POST", base+"/api/v1/orders", "application/json", "k-2", []byte(goodOrder)); r.status != http.StatusConflict ||
			!strings.Contains(string(r.body), acc.OrderID) {
			t.Fatalf("same order, new key: %d %s", r.status, r.body)
		}

		// Every validation problem, with its path.
		bad := `{"order_number":"W-2","ship_to":{"name":"A","address1":"x","country":"usa"},"lines":[{"line_number":"1","sku":"S","quantity":0},{"line_number":"2","sku":"","quantity":"4x"}]}`
		r = do(t, "POST", base+"/api/v1/orders", "application/json", "", []byte(bad))
		var prob httpapi.Problem
		if err := json.Unmarshal(r.body, &prob); err != nil || r.status != http.StatusBadRequest {
			t.Fatalf("invalid order: %d %s", r.status, r.body)
		}
		var paths []string
		for _, p := range prob.Problems {
			paths = append(paths, p.Path)
		}
		for _, want := range []string{"ship_to.city", "ship_to.country", "lines[0].quantity", "lines[1].sku", "lines[1].quantity"} {
			if !strings.Contains(strings.Join(paths, " "), want) {
				t.Errorf("400 does not name %s; problems: %v", want, prob.Problems)
			}
		}
		if r := do(t, "POST", base+"/api/v1/orders", "application/json", "", []byte(`[1,2]`)); r.status != http.StatusBadRequest {
			t.Fatalf("array body: %d", r.status)
		}
		if r := do(t, "POST", base+"/api/v1/orders", "text/csv", "", []byte(goodOrder)); r.status != http.StatusUnsupportedMediaType {
			t.Fatalf("text/csv: %d", r.status)
		}
		big := strings.Replace(goodOrder, `"W-1"`, `"`+strings.Repeat("x", 5000)+`"`, 1)
		if r := do(t, "POST", base+"/api/v1/orders", "application/json", "", []byte(big)); r.status != http.StatusRequestEntityTooLarge {
			t.Fatalf("over the body cap: %d", r.status)
		}
		if r := do(t, "POST", base+"/api/v1/orders", "application/json", strings.Repeat("k", 300), []byte(goodOrder)); r.status != http.StatusBadRequest {
			t.Fatalf("long Idempotency-Key: %d", r.status)
		}

		// The trail reaches "shipped" through the simulated core.
		deadline := time.Now().Add(10 * time.Second)
		var status server.OrderStatus
		for {
			r = do(t, "GET", base+"/api/v1/orders/"+acc.OrderID, "", "", nil)
			if r.status != http.StatusOK {
				t.Fatalf("GET order: %d %s", r.status, r.body)
			}
			_ = json.Unmarshal(r.body, &status)
			if store.HasStages(status.Trail, store.StagePacked, store.StageShipped) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		var stages []string
		for _, e := range status.Trail {
			stages = append(stages, e.Stage)
		}
		slices.Sort(stages)
		if got := strings.Join(stages, ","); got != "accepted,packed,routed,shipped" || status.Stage != store.StageShipped {
			t.Fatalf("stage %s, trail %s", status.Stage, got)
		}
		if r := do(t, "GET", base+"/api/v1/orders/ord_01ZZZZZZZZZZZZZZZZZZZZZZZZ", "", "", nil); r.status != http.StatusNotFound {
			t.Fatalf("unknown order: %d", r.status)
		}
	})
}

func TestOperationalEndpoints(t *testing.T) {
	base, h := startHub(t, storetest.SQLiteConfig(t))
	for _, c := range []struct {
		path, want string
		status     int
	}{
		{"/healthz", "ok", 200},
		{"/readyz", `"ready": true`, 200},
		{"/metrics", "paklog_router_handler_execution_time_seconds", 200},
		{"/api/v1/schemas", "paklog.shipment.v1", 200},
		{"/api/v1/schemas/paklog.order.v1.json", `"$schema"`, 200},
		{"/api/v1/schemas/nope.json", "no schema", 404},
		{"/api/v1/dlq", `"entries"`, 200},
		{"/api/v1/dlq/999", "not found", 404},
	} {
		// Metrics appear once a handler ran: send an order first.
		if c.path == "/metrics" {
			do(t, "POST", base+"/api/v1/orders", "application/json", "", []byte(goodOrder))
			time.Sleep(300 * time.Millisecond)
		}
		r := do(t, "GET", base+c.path, "", "", nil)
		if r.status != c.status || !strings.Contains(string(r.body), c.want) {
			t.Errorf("GET %s: %d, body lacks %q:\n%.300s", c.path, r.status, c.want, r.body)
		}
	}
	// Not ready once the router stops.
	_ = h.Router.Close()
	r := do(t, "GET", base+"/readyz", "", "", nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "not running") {
		t.Fatalf("readyz after the router stopped: %d %s", r.status, r.body)
	}
}

// The OpenAPI document describes every endpoint the server has, with the same method,
// and nothing else.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	base, h := startHub(t, storetest.SQLiteConfig(t))
	r := do(t, "GET", base+"/api/v1/openapi.json", "", "", nil)
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil || r.status != 200 || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /api/v1/openapi.json: %d %v", r.status, err)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	for _, p := range h.Server.Patterns() {
		if !documented[p] {
			t.Errorf("route %s is not in the OpenAPI document", p)
		}
		delete(documented, p)
	}
	for p := range documented {
		t.Errorf("the OpenAPI document describes %s, which the server does not have", p)
	}
}

// A signed Shopify webhook for a configured shop becomes an order that reaches the
// (simulated) core; a badly signed one stores nothing.
func TestShopifyWebhookEndToEnd(t *testing.T) {
	const secret = "shpss_test_secret"
	sc := storetest.SQLiteConfig(t)
	base, h := startHub(t, sc, func(c *config.Config) {
		c.HTTP.MaxBodyBytes = 1 << 20
		c.Channels.Shopify.Shops = []config.Shop{{Name: "acme", Domain: "acme.myshopify.com", Secrets: []config.Secret{config.NewSecret(secret)}}}
	})
	body, err := os.ReadFile("../../transforms/shopify/testdata/paid.webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", base+"/webhooks/shopify", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Shop-Domain", "acme.myshopify.com")
		req.Header.Set("X-Shopify-Topic", "orders/paid")
		req.Header.Set("X-Shopify-Event-Id", "evt-1")
		req.Header.Set("X-Shopify-Hmac-Sha256", sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(base64.StdEncoding.EncodeToString([]byte("forged"))); code != http.StatusUnauthorized {
		t.Fatalf("forged signature: %d", code)
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	if code := post(base64.StdEncoding.EncodeToString(mac.Sum(nil))); code != http.StatusOK {
		t.Fatalf("signed webhook: %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		seen, err := fulfilsim.Orders(context.Background(), h.Store)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) == 1 {
			for _, o := range seen {
				if o.OrderNumber != "#1042" || o.Deliveries != 1 {
					t.Fatalf("the core saw %+v", o)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Shopify order did not reach the core (%d orders)", len(seen))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
