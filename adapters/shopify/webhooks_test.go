package shopify_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/paklog/integration-hub/adapters/shopify"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

const (
	domain    = "acme.myshopify.com"
	secretNew = "shpss_new_secret_0123456789"
	secretOld = "shpss_old_secret_9876543210"
	maxBody   = 64 << 10
)

var topic = router.InboundTopic(shopify.Source)

// orderBody is a public Shopify sample order (fixtures/shopify, with its provenance),
// as Shopify would post it: the webhook body is the inner order object.
func orderBody(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("../../fixtures/shopify/go-shopify_order.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Order json.RawMessage `json:"order"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || len(doc.Order) == 0 {
		t.Fatalf("sample order: %v", err)
	}
	return doc.Order
}

func sign(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// server starts the handler for shop "acme" on a loopback server over a fresh intake.
func server(t *testing.T, st *store.Store, logs io.Writer) *httptest.Server {
	t.Helper()
	if err := st.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := shopify.New(shopify.Config{
		Shops:   map[string]shopify.Shop{"acme": {Domain: domain, Secrets: []string{secretNew, secretOld}}},
		MaxBody: maxBody,
	}, in, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

type delivery struct {
	body    []byte
	headers map[string]string // "" value: header removed
}

// deliver posts a delivery signed with secretNew, with Shopify's headers for an
// orders/create event, as overridden by d.headers.
func deliver(t *testing.T, srv *httptest.Server, d delivery) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(d.body))
	if err != nil {
		t.Fatal(err)
	}
	h := map[string]string{
		"Content-Type":           "application/json",
		"X-Shopify-Topic":        "orders/create",
		"X-Shopify-Shop-Domain":  domain,
		"X-Shopify-Hmac-Sha256":  sign(d.body, secretNew),
		"X-Shopify-Event-Id":     "98880550-7158-44d4-b7cd-2c97c8a091b5",
		"X-Shopify-Webhook-Id":   "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
		"X-Shopify-Triggered-At": "2026-11-21T10:00:00.123456Z",
		"X-Shopify-API-Version":  "2026-10",
	}
	for k, v := range d.headers {
		h[k] = v
	}
	for k, v := range h {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func stored(t *testing.T, st *store.Store) int {
	t.Helper()
	return storetest.Count(t, st, "SELECT COUNT(*) FROM "+st.MessagesTable(topic))
}

func decode(t *testing.T, body []byte) shopify.Response {
	t.Helper()
	var r shopify.Response
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("response %s: %v", body, err)
	}
	return r
}

func TestValidDeliveryIsStoredByteForByte(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		var logs bytes.Buffer
		srv := server(t, st, &logs)
		body := orderBody(t)
		status, _, resp := deliver(t, srv, delivery{body: body})
		if status != http.StatusOK {
			t.Fatalf("status %d: %s", status, resp)
		}
		if r := decode(t, resp); !r.Accepted || r.Duplicate {
			t.Fatalf("response %+v", r)
		}
		if n := stored(t, st); n != 1 {
			t.Fatalf("%d messages stored, want 1", n)
		}
		var payload, md []byte
		if err := st.ReadDB().QueryRow(`SELECT payload, metadata FROM `+st.MessagesTable(topic)).Scan(&payload, &md); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(payload, body) {
			t.Errorf("payload differs from the body posted:\n got %q\nwant %q", payload, body)
		}
		var meta map[string]string
		if err := json.Unmarshal(md, &meta); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			shopify.MetaTopic:         "orders/create",
			shopify.MetaShopDomain:    domain,
			shopify.MetaEventID:       "98880550-7158-44d4-b7cd-2c97c8a091b5",
			shopify.MetaWebhookID:     "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
			shopify.MetaTriggeredAt:   "2026-11-21T10:00:00.123456Z",
			shopify.MetaAPIVersion:    "2026-10",
			router.MetaSource:         shopify.Source,
			router.MetaPartner:        "acme",
			router.MetaIdempotencyKey: "shopify:acme:orders/create:98880550-7158-44d4-b7cd-2c97c8a091b5",
		}
		for k, v := range want {
			if meta[k] != v {
				t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
			}
		}
		if strings.Contains(logs.String(), secretNew) || strings.Contains(logs.String(), sign(body, secretNew)) {
			t.Errorf("a secret or HMAC reached the log:\n%s", logs.String())
		}
	})
}

func TestDeliveries(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		var logs bytes.Buffer
		srv := server(t, st, &logs)
		body := orderBody(t)
		tests := []struct {
			name        string
			d           delivery
			wantStatus  int
			wantStored  int // messages added
			wantProblem string
			want        *shopify.Response
		}{
			{"old secret during a rotation", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": sign(body, secretOld), "X-Shopify-Event-Id": "ev-rotation"}},
				http.StatusOK, 1, "", &shopify.Response{Accepted: true}},
			{"newer events' un-prefixed headers", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": "", "X-Shopify-Shop-Domain": "", "X-Shopify-Topic": "", "X-Shopify-Event-Id": "", "X-Shopify-Webhook-Id": "",
				"shopify-hmac-sha256": sign(body, secretNew), "shopify-shop-domain": strings.ToUpper(domain),
				"shopify-topic": "orders/paid", "shopify-event-id": "ev-events"}},
				http.StatusOK, 1, "", &shopify.Response{Accepted: true}},
			{"wrong signature", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": sign(body, "another app's secret"), "X-Shopify-Event-Id": "ev-wrong"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"signature of another body", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": sign(append([]byte(" "), body...), secretNew), "X-Shopify-Event-Id": "ev-other-body"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"signature not base64", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": "not base64!", "X-Shopify-Event-Id": "ev-garbled"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"missing signature", delivery{body, map[string]string{
				"X-Shopify-Hmac-Sha256": "", "X-Shopify-Event-Id": "ev-missing"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"unknown shop", delivery{body, map[string]string{
				"X-Shopify-Shop-Domain": "other.myshopify.com", "X-Shopify-Event-Id": "ev-unknown"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"no shop", delivery{body, map[string]string{
				"X-Shopify-Shop-Domain": "", "X-Shopify-Event-Id": "ev-no-shop"}},
				http.StatusUnauthorized, 0, shopify.TypeUnauthorized, nil},
			{"body over the cap", delivery{bytes.Repeat([]byte("x"), maxBody+1), map[string]string{
				"X-Shopify-Event-Id": "ev-large"}},
				http.StatusRequestEntityTooLarge, 0, httpapi.TypeTooLarge, nil},
			{"unsupported topic", delivery{body, map[string]string{
				"X-Shopify-Topic": "products/update", "X-Shopify-Event-Id": "ev-product"}},
				http.StatusOK, 0, "", &shopify.Response{Ignored: `topic "products/update" is not taken by this hub`}},
			{"missing event and webhook ids", delivery{body, map[string]string{
				"X-Shopify-Event-Id": "", "X-Shopify-Webhook-Id": ""}},
				http.StatusBadRequest, 0, httpapi.TypeBadRequest, nil},
			{"missing topic", delivery{body, map[string]string{
				"X-Shopify-Topic": "", "X-Shopify-Event-Id": "ev-no-topic"}},
				http.StatusBadRequest, 0, httpapi.TypeBadRequest, nil},
			{"webhook id when there is no event id", delivery{body, map[string]string{
				"X-Shopify-Event-Id": "", "X-Shopify-Webhook-Id": "wh-only"}},
				http.StatusOK, 1, "", &shopify.Response{Accepted: true}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := stored(t, st)
				status, hdr, resp := deliver(t, srv, tt.d)
				if status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, resp)
				}
				if got := stored(t, st) - before; got != tt.wantStored {
					t.Errorf("%d messages stored, want %d", got, tt.wantStored)
				}
				if tt.wantProblem != "" {
					var p httpapi.Problem
					if err := json.Unmarshal(resp, &p); err != nil || p.Type != tt.wantProblem || p.Status != tt.wantStatus || p.Detail == "" ||
						hdr.Get("Content-Type") != "application/problem+json" {
						t.Errorf("problem %s (%v), Content-Type %q; want type %s", resp, err, hdr.Get("Content-Type"), tt.wantProblem)
					}
				}
				if tt.want != nil {
					if got := decode(t, resp); got != *tt.want {
						t.Errorf("response %+v, want %+v", got, *tt.want)
					}
				}
			})
		}
		if strings.Contains(logs.String(), secretNew) || strings.Contains(logs.String(), secretOld) || strings.Contains(logs.String(), sign(body, secretNew)) {
			t.Errorf("a secret or HMAC reached the log:\n%s", logs.String())
		}
	})
}

// TestSameEventTwice: Shopify delivers at least once; a redelivered event is
// acknowledged as a duplicate and stored once, while another event about the same
// order is a message of its own (the transform orders them by updated_at).
func TestSameEventTwice(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		srv := server(t, st, io.Discard)
		body := orderBody(t)
		first := delivery{body, map[string]string{"X-Shopify-Event-Id": "ev-1"}}
		for i, wantDup := range []bool{false, true, true} {
			status, _, resp := deliver(t, srv, first)
			if r := decode(t, resp); status != http.StatusOK || !r.Accepted || r.Duplicate != wantDup {
				t.Fatalf("delivery %d: status %d, %+v; want 200, duplicate %v", i+1, status, r, wantDup)
			}
		}
		if n := stored(t, st); n != 1 {
			t.Fatalf("%d messages after three deliveries of one event, want 1", n)
		}
		status, _, resp := deliver(t, srv, delivery{body, map[string]string{"X-Shopify-Event-Id": "ev-2", "X-Shopify-Topic": "orders/updated"}})
		if r := decode(t, resp); status != http.StatusOK || !r.Accepted || r.Duplicate {
			t.Fatalf("second event: status %d, %+v", status, r)
		}
		status, _, resp = deliver(t, srv, delivery{body, map[string]string{"X-Shopify-Event-Id": "ev-3", "X-Shopify-Topic": "orders/updated"}})
		if r := decode(t, resp); status != http.StatusOK || !r.Accepted || r.Duplicate {
			t.Fatalf("third event: status %d, %+v", status, r)
		}
		if n := stored(t, st); n != 3 {
			t.Fatalf("%d messages after three events of one order, want 3", n)
		}
	})
}

// TestIntakeFailureAsksForRetry: when nothing can be stored Shopify is told to retry.
func TestIntakeFailureAsksForRetry(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	if err := st.InitTopics(context.Background(), topic); err != nil {
		t.Fatal(err)
	}
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	h, err := shopify.New(shopify.Config{Shops: map[string]shopify.Shop{"acme": {Domain: domain, Secrets: []string{secretNew}}}}, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	in.Close() // Accept now fails with intake.ErrClosed
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	status, hdr, resp := deliver(t, srv, delivery{body: orderBody(t)})
	if status != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q: %s", status, hdr.Get("Retry-After"), resp)
	}
	if n := stored(t, st); n != 0 {
		t.Fatalf("%d messages stored", n)
	}
}

func TestNewValidatesConfig(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	in := intake.New(st, router.Topics{}, intake.Config{}, nil)
	t.Cleanup(in.Close)
	tests := []struct {
		name string
		cfg  shopify.Config
		want []string // every one must be in the error
	}{
		{"no shops", shopify.Config{}, []string{"at least one shop"}},
		{"duplicate domains", shopify.Config{Shops: map[string]shopify.Shop{
			"a": {Domain: "acme.myshopify.com", Secrets: []string{"s"}},
			"b": {Domain: "ACME.myshopify.com ", Secrets: []string{"s"}},
		}}, []string{"shops.b.domain", "also the domain of shop \"a\""}},
		{"every problem", shopify.Config{MaxBody: -1, Shops: map[string]shopify.Shop{
			"a": {Secrets: []string{"s"}},
			"b": {Domain: "b.myshopify.com", Secrets: []string{"", ""}},
			"c": {Domain: "c.myshopify.com"},
		}}, []string{"max_body", "shops.a.domain: is required", "shops.b.secrets", "shops.c.secrets"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := shopify.New(tt.cfg, in, nil)
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
	if _, err := shopify.New(shopify.Config{Shops: map[string]shopify.Shop{"a": {Domain: "a.myshopify.com", Secrets: []string{"", "s"}}}}, in, nil); err != nil {
		t.Errorf("a valid config: %v", err)
	}
}

func TestShopLogValueHidesSecrets(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("shop", "shop", shopify.Shop{Domain: domain, Secrets: []string{secretNew, secretOld}})
	if strings.Contains(buf.String(), secretNew) || strings.Contains(buf.String(), secretOld) || !strings.Contains(buf.String(), "shop.secrets=2") {
		t.Fatalf("logged %s", buf.String())
	}
}
