package custom_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paklog/integration-hub/adapters/custom"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
)

const (
	secretNew = "whsec_new_0123456789abcdef"
	secretOld = "whsec_old_fedcba9876543210"
	token     = "tok_kiosk_0123456789abcdef"
	maxBody   = 64 << 10
)

// fakeIntake accepts in memory, deduplicating as the real intake does.
type fakeIntake struct {
	mu    sync.Mutex
	items []intake.Item
	byKey map[string]fakeEntry
	err   error
}

type fakeEntry struct {
	hash string
	res  intake.Result
}

func (f *fakeIntake) Accept(_ context.Context, item intake.Item) (intake.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return intake.Result{}, f.err
	}
	if f.byKey == nil {
		f.byKey = map[string]fakeEntry{}
	}
	k := item.Source + "\x00" + item.Partner + "\x00" + item.IdempotencyKey
	h := intake.RequestHash(item.Payload)
	if prev, ok := f.byKey[k]; ok {
		if prev.hash != h {
			return intake.Result{}, &intake.ConflictError{Reason: "idempotency key reused", OrderID: prev.res.OrderID}
		}
		r := prev.res
		r.Duplicate = true
		return r, nil
	}
	res := intake.Result{OrderID: canonical.NewOrderID(), MessageUUID: "m" + item.IdempotencyKey, CorrelationID: "c", ReceivedAt: time.Now().UTC()}
	f.byKey[k] = fakeEntry{hash: h, res: res}
	f.items = append(f.items, item)
	return res, nil
}

func (f *fakeIntake) stored() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.items)
}

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wooChannel is a WooCommerce-like channel signed as WooCommerce signs:
// base64(HMAC-SHA256) in X-WC-Webhook-Signature.
func wooChannel(t testing.TB) custom.ChannelConfig {
	return custom.ChannelConfig{
		Name: "woo",
		Auth: custom.Auth{HMAC: &custom.HMAC{Header: "X-WC-Webhook-Signature", Encoding: custom.Base64,
			Secrets: []string{secretNew, secretOld}}},
		Mapping:      string(read(t, "woocommerce.jq")),
		Release:      `.status == "processing"`,
		MaxBodyBytes: maxBody,
	}
}

// kioskChannel is the homegrown platform: a bearer token, the key in a header.
func kioskChannel(t testing.TB) custom.ChannelConfig {
	return custom.ChannelConfig{
		Name:        "kiosk",
		Auth:        custom.Auth{Bearer: &custom.Bearer{Tokens: []string{token}}},
		Idempotency: custom.Idempotency{Header: "X-Event-Id"},
		Mapping:     string(read(t, "homegrown.jq")),
	}
}

func channels(t testing.TB) []custom.ChannelConfig {
	woo := wooChannel(t)
	hexsig := woo
	hexsig.Name = "hexsig"
	hexsig.Auth = custom.Auth{HMAC: &custom.HMAC{Header: "X-Signature", Prefix: "sha256=", Secrets: []string{secretNew}}}
	sha512b := woo
	sha512b.Name = "sha512"
	sha512b.Auth = custom.Auth{HMAC: &custom.HMAC{Header: "X-Signature", Algorithm: custom.SHA512, Encoding: custom.Base64, Secrets: []string{secretNew}}}
	sha1h := woo
	sha1h.Name = "sha1"
	sha1h.Auth = custom.Auth{HMAC: &custom.HMAC{Header: "X-Hub-Signature", Algorithm: custom.SHA1, Prefix: "sha1=", Secrets: []string{secretNew}}}
	return []custom.ChannelConfig{woo, hexsig, sha512b, sha1h, kioskChannel(t)}
}

func server(t *testing.T, in custom.Acceptor, logs io.Writer) *httptest.Server {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	h, err := custom.New(custom.Config{Channels: channels(t)}, in, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/custom/{channel}", h)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func mac(newHash func() hash.Hash, secret string, body []byte) []byte {
	m := hmac.New(newHash, []byte(secret))
	m.Write(body)
	return m.Sum(nil)
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// wooBody is the WooCommerce-like sample, changed by change.
func wooBody(t testing.TB, change func(map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(read(t, "woocommerce.json"), &doc); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lineItem(d map[string]any, i int) map[string]any {
	return d["line_items"].([]any)[i].(map[string]any)
}

func post(t *testing.T, srv *httptest.Server, channel string, body []byte, headers map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/custom/"+channel, bytes.NewReader(body))
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

// wooSigned posts body to channel woo with a good signature.
func wooSigned(t *testing.T, srv *httptest.Server, body []byte) (int, http.Header, []byte) {
	return post(t, srv, "woo", body, map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, body))})
}

func TestDeliveries(t *testing.T) {
	woo := wooBody(t, nil)
	kiosk := read(t, "homegrown.json")
	big := wooBody(t, func(d map[string]any) { d["customer_note"] = strings.Repeat("x", maxBody) })
	pending := wooBody(t, func(d map[string]any) { d["status"] = "pending" })
	tests := []struct {
		name       string
		channel    string
		body       []byte
		headers    map[string]string
		wantStatus int
		wantStored int
		wantIn     []string // in the response body
	}{
		{name: "base64 signature", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1, wantIn: []string{`"accepted": true`, `"order_id": "ord_`}},
		{name: "rotated secret", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretOld, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "base64 without padding, URL alphabet", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": base64.RawURLEncoding.EncodeToString(mac(sha256.New, secretNew, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "hex signature with prefix", channel: "hexsig", body: woo,
			headers:    map[string]string{"X-Signature": "sha256=" + hex.EncodeToString(mac(sha256.New, secretNew, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "upper-case hex and prefix", channel: "hexsig", body: woo,
			headers:    map[string]string{"X-Signature": "SHA256=" + strings.ToUpper(hex.EncodeToString(mac(sha256.New, secretNew, woo)))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "sha512 base64", channel: "sha512", body: woo,
			headers:    map[string]string{"X-Signature": b64(mac(sha512.New, secretNew, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "sha1 hex", channel: "sha1", body: woo,
			headers:    map[string]string{"X-Hub-Signature": "sha1=" + hex.EncodeToString(mac(sha1.New, secretNew, woo))},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "wrong secret", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, "not-the-secret", woo))},
			wantStatus: http.StatusUnauthorized, wantIn: []string{"does not match"}},
		{name: "signature of another body", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, pending))},
			wantStatus: http.StatusUnauthorized},
		{name: "missing signature", channel: "woo", body: woo,
			wantStatus: http.StatusUnauthorized, wantIn: []string{"X-WC-Webhook-Signature is missing"}},
		{name: "signature with the wrong algorithm", channel: "woo", body: woo,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha1.New, secretNew, woo))},
			wantStatus: http.StatusUnauthorized},
		{name: "hex signature without its prefix", channel: "hexsig", body: woo,
			headers:    map[string]string{"X-Signature": hex.EncodeToString(mac(sha256.New, secretNew, woo))},
			wantStatus: http.StatusUnauthorized, wantIn: []string{"does not start with sha256="}},
		{name: "bearer", channel: "kiosk", body: kiosk,
			headers:    map[string]string{"Authorization": "Bearer " + token, "X-Event-Id": "evt-1"},
			wantStatus: http.StatusAccepted, wantStored: 1},
		{name: "bad bearer", channel: "kiosk", body: kiosk,
			headers:    map[string]string{"Authorization": "Bearer " + token + "x", "X-Event-Id": "evt-1"},
			wantStatus: http.StatusUnauthorized},
		{name: "basic instead of bearer", channel: "kiosk", body: kiosk,
			headers:    map[string]string{"Authorization": "Basic " + b64([]byte("kiosk:"+token)), "X-Event-Id": "evt-1"},
			wantStatus: http.StatusUnauthorized},
		{name: "missing idempotency header", channel: "kiosk", body: kiosk,
			headers:    map[string]string{"Authorization": "Bearer " + token},
			wantStatus: http.StatusBadRequest, wantIn: []string{"X-Event-Id is missing"}},
		{name: "oversize", channel: "woo", body: big,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, big))},
			wantStatus: http.StatusRequestEntityTooLarge, wantIn: []string{"65536 bytes"}},
		{name: "not JSON", channel: "woo", body: []byte(`{"id": 1,, "x": 2}`),
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, []byte(`{"id": 1,, "x": 2}`)))},
			wantStatus: http.StatusBadRequest, wantIn: []string{"line 1, column 10 (byte 9)"}},
		{name: "release false", channel: "woo", body: pending,
			headers:    map[string]string{"X-WC-Webhook-Signature": b64(mac(sha256.New, secretNew, pending))},
			wantStatus: http.StatusOK, wantIn: []string{`"accepted": false`, `.status == \"processing\"`}},
		{name: "unknown channel", channel: "nope", body: woo, wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fakeIntake{}
			var logs bytes.Buffer
			srv := server(t, in, &logs)
			status, h, body := post(t, srv, tt.channel, tt.body, tt.headers)
			if status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", status, tt.wantStatus, body)
			}
			if n := in.stored(); n != tt.wantStored {
				t.Errorf("%d items stored, want %d", n, tt.wantStored)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(string(body), s) {
					t.Errorf("response does not contain %q:\n%s", s, body)
				}
			}
			if status >= 400 && h.Get("Content-Type") != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", h.Get("Content-Type"))
			}
			if status == http.StatusUnauthorized && tt.channel == "kiosk" && h.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			for _, secret := range []string{secretNew, secretOld, token} {
				if strings.Contains(logs.String(), secret) || strings.Contains(string(body), secret) {
					t.Errorf("a secret reached the logs or the response:\n%s\n%s", logs.String(), body)
				}
			}
		})
	}
}

func TestAcceptedItem(t *testing.T) {
	in := &fakeIntake{}
	srv := server(t, in, nil)
	body := read(t, "homegrown.json")
	status, h, resp := post(t, srv, "kiosk", body, map[string]string{"Authorization": "Bearer " + token, "X-Event-Id": "evt-42"})
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, resp)
	}
	item := in.items[0]
	if item.Source != "custom" || item.Partner != "kiosk" || item.IdempotencyKey != "evt-42" || !bytes.Equal(item.Payload, body) {
		t.Errorf("item %+v", item)
	}
	o := item.Order
	if o == nil || o.Source.Channel != canonical.ChannelCustom || o.Source.Partner != "kiosk" || o.Source.ExternalID != "HG-2026-00042" || o.Source.ReceivedAt.IsZero() {
		t.Fatalf("order %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("order does not validate: %v", err)
	}
	if item.Metadata[custom.MetaKeyFrom] != "header X-Event-Id" || len(item.Metadata[custom.MetaMappingSHA256]) != 64 {
		t.Errorf("metadata %v", item.Metadata)
	}
	var r custom.Response
	if err := json.Unmarshal(resp, &r); err != nil || r.Result == nil {
		t.Fatalf("response %s: %v", resp, err)
	}
	if h.Get("Location") != "/api/v1/orders/"+r.OrderID || r.Links["self"] != h.Get("Location") {
		t.Errorf("Location %q, links %v, order %s", h.Get("Location"), r.Links, r.OrderID)
	}
}

func TestDuplicateDeliveryGetsTheFirstResult(t *testing.T) {
	in := &fakeIntake{}
	srv := server(t, in, nil)
	body := wooBody(t, nil)
	_, _, first := wooSigned(t, srv, body)
	status, h, second := wooSigned(t, srv, body)
	if status != http.StatusAccepted {
		t.Fatalf("status %d: %s", status, second)
	}
	var a, b custom.Response
	_ = json.Unmarshal(first, &a)
	_ = json.Unmarshal(second, &b)
	if a.Result == nil || b.Result == nil || a.OrderID != b.OrderID || a.MessageUUID != b.MessageUUID || a.Duplicate || !b.Duplicate {
		t.Errorf("first %s\nsecond %s", first, second)
	}
	if h.Get("Idempotent-Replayed") != "true" {
		t.Error("no Idempotent-Replayed header")
	}
	if n := in.stored(); n != 1 {
		t.Errorf("%d stored, want 1", n)
	}

	// The same key with another body is a conflict, not a duplicate.
	changed := wooBody(t, func(d map[string]any) { d["customer_note"] = "changed" })
	if status, _, resp := wooSigned(t, srv, changed); status != http.StatusConflict {
		t.Errorf("status %d, want 409: %s", status, resp)
	}
}

func TestIntakeFailureAsksForRetry(t *testing.T) {
	in := &fakeIntake{err: errors.New("disk full")}
	srv := server(t, in, nil)
	status, h, body := wooSigned(t, srv, wooBody(t, nil))
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Errorf("status %d, Retry-After %q: %s", status, h.Get("Retry-After"), body)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	srv := server(t, &fakeIntake{}, nil)
	resp, err := http.Get(srv.URL + "/webhooks/custom/woo")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != http.MethodPost {
		t.Errorf("status %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// TestMappingErrors: what a 422 says must let the person who wrote the
// mapping fix it: the program, the field, the expression and what it gave.
func TestMappingErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(map[string]any)
		// wantPath is the problem's path ("" for a runtime error).
		wantPath string
		wantIn   []string // in the detail
	}{
		{name: "empty sku", change: func(d map[string]any) { lineItem(d, 0)["sku"] = "" }, wantPath: "lines[0].sku",
			wantIn: []string{"mapping for channel woo: field lines[0].sku must not be empty", "the mapping sets it with `.sku`, which produced \"\""}},
		{name: "missing sku", change: func(d map[string]any) { delete(lineItem(d, 1), "sku") }, wantPath: "lines[1].sku",
			wantIn: []string{"field lines[1].sku must be a string, got null", "`.sku`, which produced null"}},
		{name: "missing city", change: func(d map[string]any) { delete(d["shipping"].(map[string]any), "city") }, wantPath: "ship_to.city",
			wantIn: []string{"ship_to.city", "`.shipping.city`, which produced null"}},
		{name: "zero quantity", change: func(d map[string]any) { lineItem(d, 0)["quantity"] = 0 }, wantPath: "lines[0].quantity",
			wantIn: []string{"lines[0].quantity must be > 0", "`.quantity`, which produced 0"}},
		{name: "runtime error", change: func(d map[string]any) { d["line_items"] = "oops" }, wantIn: []string{
			"mapping for channel woo: cannot iterate over: string (\"oops\")",
			"it failed in `.line_items[]`, which computes lines[]",
			"the mapping program is `.currency as $currency | { order_number: .number,",
		}},
		{name: "runtime error deep in a line", change: func(d map[string]any) { d["line_items"].([]any)[1] = "x" }, wantIn: []string{
			"expected an object but got: string (\"x\")",
			"it failed in `.id`, which computes lines[].line_number",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &fakeIntake{}
			srv := server(t, in, nil)
			status, h, body := wooSigned(t, srv, wooBody(t, tt.change))
			if status != http.StatusUnprocessableEntity || h.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d (%s): %s", status, h.Get("Content-Type"), body)
			}
			if in.stored() != 0 {
				t.Error("something was stored")
			}
			var p httpapi.Problem
			if err := json.Unmarshal(body, &p); err != nil {
				t.Fatal(err)
			}
			t.Log(p.Detail)
			if p.Type != custom.TypeMapping {
				t.Errorf("type %q", p.Type)
			}
			for _, s := range tt.wantIn {
				if !strings.Contains(p.Detail, s) {
					t.Errorf("detail does not contain %q:\n%s", s, p.Detail)
				}
			}
			if tt.wantPath != "" && (len(p.Problems) != 1 || p.Problems[0].Path != tt.wantPath) {
				t.Errorf("problems %+v, want one at %s", p.Problems, tt.wantPath)
			}
		})
	}
}
