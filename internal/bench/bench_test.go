package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/shopify"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/fixtures/shopifysim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
	shopifymap "github.com/paklog/integration-hub/transforms/shopify"
)

// TestRun runs a short bench of each target on each store: every post is accepted,
// and every order of both runs reaches fulfilment.orders once, from the right channel.
// The PostgreSQL half needs PAKLOG_TEST_POSTGRES (see storetest).
func TestRun(t *testing.T) {
	for _, tc := range []struct {
		store   string
		target  Target
		channel canonical.Channel
	}{
		{"sqlite", TargetAPI, canonical.ChannelAPI},
		{"sqlite", TargetShopify, canonical.ChannelShopify},
		{"postgres", TargetShopify, canonical.ChannelShopify},
	} {
		t.Run(tc.store+"/"+string(tc.target), func(t *testing.T) {
			ctx := t.Context()
			cfg := Config{Hub: hubConfig(t, tc.store), Target: tc.target, Orders: 300, Clients: 8, Rate: 200, Duration: 500 * time.Millisecond}
			tg, err := newTarget(&cfg)
			if err != nil {
				t.Fatal(err)
			}
			h, stop, err := startHub(ctx, cfg.Hub)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			res, err := measure(ctx, cfg, h, tg)
			if err != nil {
				t.Fatalf("measure: %v (failures %v)", err, res.Failures)
			}
			if res.Target != tc.target || res.FailedPosts != 0 || res.FailedRate != 0 || res.Sent != 100 || res.P50 <= 0 || res.P99 < res.P50 || res.Max < res.P99 {
				t.Errorf("result = %+v", res)
			}
			orders := routed(t, h, cfg.Orders+res.Sent)
			seen := map[string]bool{}
			for _, o := range orders {
				if o.Source.Channel != tc.channel {
					t.Fatalf("order %s came from channel %q, want %q", o.OrderNumber, o.Source.Channel, tc.channel)
				}
				if seen[o.OrderNumber] {
					t.Fatalf("order %s reached fulfilment.orders twice", o.OrderNumber)
				}
				seen[o.OrderNumber] = true
			}
			if tc.target == TargetShopify && (orders[0].Source.Partner != ShopName || len(orders[0].Lines) != 3) {
				t.Errorf("first order = %+v, want shop %s and the sample's 3 lines", orders[0], ShopName)
			}
		})
	}
}

// TestShopifyRefused: the hub the bench measures checks the signatures, so the
// numbers are those of signed webhooks. A wrong signature, an unknown shop and a
// replayed event are not stored again.
func TestShopifyRefused(t *testing.T) {
	ctx := t.Context()
	cfg := Config{Hub: hubConfig(t, "sqlite"), Target: TargetShopify, Orders: 1, Clients: 1}
	tg, err := newTarget(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	h, stop, err := startHub(ctx, cfg.Hub)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	url := "http://" + h.Server.Addr() + tg.path
	send := func(edit func(http.Header)) (int, string) {
		t.Helper()
		body, header := tg.request(0)
		edit(header)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(answer)
	}
	for _, tc := range []struct {
		name   string
		edit   func(http.Header)
		status int
		want   any // the answer, decoded into a value of its type
	}{
		{"bad signature", func(h http.Header) { h.Set("X-Shopify-Hmac-Sha256", signature([]byte("{}"), "wrong")) }, http.StatusUnauthorized, problem{shopify.TypeUnauthorized}},
		{"no signature", func(h http.Header) { h.Del("X-Shopify-Hmac-Sha256") }, http.StatusUnauthorized, problem{shopify.TypeUnauthorized}},
		{"unknown shop", func(h http.Header) { h.Set("X-Shopify-Shop-Domain", "other.myshopify.com") }, http.StatusUnauthorized, problem{shopify.TypeUnauthorized}},
		{"signed", func(http.Header) {}, http.StatusOK, shopify.Response{Accepted: true}},
		{"replayed", func(http.Header) {}, http.StatusOK, shopify.Response{Accepted: true, Duplicate: true}},
	} {
		status, answer := send(tc.edit)
		got := reflect.New(reflect.TypeOf(tc.want))
		if err := json.Unmarshal([]byte(answer), got.Interface()); err != nil {
			t.Errorf("%s: answer %s: %v", tc.name, answer, err)
		}
		if status != tc.status || got.Elem().Interface() != tc.want {
			t.Errorf("%s: answered %d %s, want %d %+v", tc.name, status, answer, tc.status, tc.want)
		}
	}
	routed(t, h, 1)
}

// problem is the part of an application/problem+json answer the test checks.
type problem struct {
	Type string `json:"type"`
}

// TestSampleOrderIsTheFixture: the embedded sample is the fixture it says it is.
func TestSampleOrderIsTheFixture(t *testing.T) {
	want, err := os.ReadFile("../../fixtures/shopify/shopify-api-ruby_order.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sampleOrder, want) {
		t.Error("shopify-api-ruby_order.json differs from fixtures/shopify/shopify-api-ruby_order.json; copy it again")
	}
}

// TestShopifyOrders: the bodies are distinct orders the shop's mapping releases,
// signed as Shopify signs.
func TestShopifyOrders(t *testing.T) {
	s, err := newShopifyOrders(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	s.sign(3)
	ids := map[string]bool{}
	for n := range 3 {
		body, h := s.request(n)
		if got, want := h.Get("X-Shopify-Hmac-Sha256"), shopifysim.Sign(body, s.secret); got != want {
			t.Errorf("delivery %d: signature %s, want %s", n, got, want)
		}
		res, err := shopifymap.OrderFromWebhook(h.Get("X-Shopify-Topic"), body, ShopName, s.shop().Mapping)
		if err != nil {
			t.Fatalf("delivery %d: %v", n, err)
		}
		if res.Order == nil {
			t.Fatalf("delivery %d: not released: %+v", n, res)
		}
		if ids[res.ExternalID] || ids[res.Order.OrderNumber] || ids[h.Get("X-Shopify-Event-Id")] {
			t.Errorf("delivery %d repeats an id: %s %s %s", n, res.ExternalID, res.Order.OrderNumber, h.Get("X-Shopify-Event-Id"))
		}
		ids[res.ExternalID], ids[res.Order.OrderNumber], ids[h.Get("X-Shopify-Event-Id")] = true, true, true
	}
	if !ids["5900000000002"] || !ids["#100003"] {
		t.Errorf("ids = %v, want order 5900000000002 named #100003 among them", ids)
	}
}

// hubConfig is the default configuration on a fresh SQLite file or PostgreSQL schema.
func hubConfig(t testing.TB, store string) config.Config {
	cfg := config.Default()
	cfg.Log.Level = "error"
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "paklog.db")
	if store == "postgres" {
		cfg.Store.Driver = config.DriverPostgres
		cfg.Store.Postgres.DSN = config.NewSecret(storetest.PostgresConfig(t).PostgresDSN)
	}
	return cfg
}

// routed waits until fulfilment.orders holds n orders and returns them.
func routed(t *testing.T, h *hub.Hub, n int) []canonical.Order {
	t.Helper()
	ctx := t.Context()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := countRouted(ctx, h.Store)
		if err != nil {
			t.Fatal(err)
		}
		if got == n {
			break
		}
		if got > n || time.Now().After(deadline) {
			t.Fatalf("fulfilment.orders holds %d orders, want %d", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	rows, err := h.Store.ReadDB().QueryContext(ctx, `SELECT payload FROM `+h.Store.MessagesTable(router.TopicFulfilmentOrders))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []canonical.Order
	for rows.Next() {
		var payload []byte
		var o canonical.Order
		if err := rows.Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(payload, &o); err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// BenchmarkShopify is the throughput run of `paklog bench --target shopify` as a Go
// benchmark, b.N orders from 64 clients, so that it can be profiled:
//
//	go test ./internal/bench -run '^$' -bench Shopify -benchtime 20000x -cpuprofile cpu.out
//
// The PostgreSQL half uses a fresh schema on PAKLOG_TEST_POSTGRES (see storetest).
func BenchmarkShopify(b *testing.B) {
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run(store, func(b *testing.B) {
			cfg := Config{Hub: hubConfig(b, store), Target: TargetShopify, Orders: b.N, Clients: 64}
			tg, err := newTarget(&cfg)
			if err != nil {
				b.Fatal(err)
			}
			h, stop, err := startHub(b.Context(), cfg.Hub)
			if err != nil {
				b.Fatal(err)
			}
			defer stop()
			b.ResetTimer()
			res, err := measure(b.Context(), cfg, h, tg)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.AcceptRate, "accepted/s")
			b.ReportMetric(res.EndToEnd, "end-to-end/s")
		})
	}
}
