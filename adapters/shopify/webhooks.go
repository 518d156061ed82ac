// Package shopify is the Shopify webhook adapter: POST /webhooks/shopify takes the
// order webhooks a Shopify app is subscribed to, checks that Shopify signed them, and
// answers 200 once the raw body is durably committed to inbound.shopify.
//
// # Signature
//
// Shopify signs every delivery with the app's client secret: the header
// X-Shopify-Hmac-Sha256 is base64(HMAC-SHA256(raw body, client secret)). The handler
// reads the raw body (at most Config.MaxBody bytes, 413 over it), finds the shop by
// X-Shopify-Shop-Domain, and compares the header with the HMAC of the body under each
// of the shop's secrets — two during a rotation, the new one and the old one — in
// constant time. An unknown shop, a missing or wrong signature: 401, nothing stored.
// Shopify's newer events send the same headers without the X- prefix
// (shopify-hmac-sha256, shopify-shop-domain, shopify-topic, shopify-event-id,
// shopify-triggered-at, shopify-api-version); both spellings are accepted, the X-
// one first.
//
// # Topics
//
// Only orders/create, orders/updated, orders/paid and orders/cancelled are taken. A
// signed delivery of any other topic is answered 200 {"accepted": false, ...} with
// nothing stored, and logged at debug level: a non-2xx answer would only make Shopify
// retry it for hours and, after enough failures, remove the subscription.
//
// # Deduplication
//
// Shopify delivers at least once: the same event may arrive several times, under the
// same X-Shopify-Event-Id (or, for older deliveries without one, the same
// X-Shopify-Webhook-Id). The intake's idempotency key is topic ":" event id, scoped to
// the shop (the partner), so a repeated delivery is answered 200 with
// "duplicate": true and stored once. Two events about the same order (an
// orders/updated after an orders/create, two orders/updated) are two messages; the
// transform orders them by the order's updated_at. A delivery with neither id is
// answered 400.
//
// # Example
//
//	hooks, err := shopify.New(shopify.Config{Shops: map[string]shopify.Shop{
//		"acme": {Domain: "acme.myshopify.com", Secrets: []string{newSecret, oldSecret}},
//	}}, in, log)
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /webhooks/shopify", hooks)
package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
)

// Source is the intake source of Shopify webhooks; accepted payloads go to
// inbound.shopify.
const Source = "shopify"

// DefaultMaxBody is Config.MaxBody when it is zero. Shopify order payloads with many
// lines run to a few hundred kilobytes.
const DefaultMaxBody = 4 << 20

// MaxHeader is the longest event id, webhook id or topic accepted.
const MaxHeader = 200

// TypeUnauthorized is the problem type of a delivery whose shop or signature is not
// recognised.
const TypeUnauthorized = "https://paklog.dev/problems/unauthorized"

// Topics accepted; every other topic is acknowledged and dropped.
const (
	TopicOrdersCreate    = "orders/create"
	TopicOrdersUpdated   = "orders/updated"
	TopicOrdersPaid      = "orders/paid"
	TopicOrdersCancelled = "orders/cancelled"
)

// Message metadata set on accepted deliveries (besides the hub's own keys). Headers
// Shopify did not send are left out.
const (
	MetaTopic       = "shopify_topic"
	MetaShopDomain  = "shopify_shop_domain"
	MetaEventID     = "shopify_event_id"
	MetaWebhookID   = "shopify_webhook_id"
	MetaTriggeredAt = "shopify_triggered_at"
	MetaAPIVersion  = "shopify_api_version"
)

var topics = map[string]bool{
	TopicOrdersCreate:    true,
	TopicOrdersUpdated:   true,
	TopicOrdersPaid:      true,
	TopicOrdersCancelled: true,
}

// Config lists the shops whose webhooks are taken.
type Config struct {
	// Shops by shop key: the key is the partner of accepted messages.
	Shops map[string]Shop
	// MaxBody is the largest body read, in bytes (default DefaultMaxBody).
	MaxBody int64
}

// Shop is one Shopify store.
type Shop struct {
	// Domain is the shop's myshopify.com domain, as Shopify sends it in
	// X-Shopify-Shop-Domain, e.g. acme.myshopify.com (compared case-insensitively).
	Domain string
	// Secrets are the app's client secrets a delivery may be signed with: one, or two
	// during a rotation. Empty entries are ignored; at least one must be set.
	Secrets []string
}

// LogValue implements [slog.LogValuer]: a logged Shop shows its domain and how many
// secrets it has, never the secrets.
func (s Shop) LogValue() slog.Value {
	return slog.GroupValue(slog.String("domain", s.Domain), slog.Int("secrets", len(s.secrets())))
}

func (s Shop) secrets() [][]byte {
	var out [][]byte
	for _, sec := range s.Secrets {
		if sec != "" {
			out = append(out, []byte(sec))
		}
	}
	return out
}

// Validate reports every problem of the configuration, naming the field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Shops) == 0 {
		errs = append(errs, errors.New("shopify: shops: at least one shop is required"))
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("shopify: max_body: %d is negative", c.MaxBody))
	}
	byDomain := map[string]string{}
	for _, key := range slices.Sorted(maps.Keys(c.Shops)) {
		s := c.Shops[key]
		if key == "" {
			errs = append(errs, errors.New("shopify: shops: a shop has an empty key"))
		}
		d := normalizeDomain(s.Domain)
		switch {
		case d == "":
			errs = append(errs, fmt.Errorf("shopify: shops.%s.domain: is required (e.g. %s.myshopify.com)", key, key))
		case byDomain[d] != "":
			errs = append(errs, fmt.Errorf("shopify: shops.%s.domain: %q is also the domain of shop %q; domains must be unique", key, s.Domain, byDomain[d]))
		default:
			byDomain[d] = key
		}
		if len(s.secrets()) == 0 {
			errs = append(errs, fmt.Errorf("shopify: shops.%s.secrets: at least one non-empty client secret is required", key))
		}
	}
	return errors.Join(errs...)
}

// Webhooks serves POST /webhooks/shopify. It is safe for concurrent use.
type Webhooks struct {
	shops   map[string]shopEntry // by normalized domain
	in      *intake.Intake
	maxBody int64
	log     *slog.Logger
}

type shopEntry struct {
	key     string
	domain  string
	secrets [][]byte
}

// Response is the 200 body.
type Response struct {
	// Accepted is true when the delivery is stored (now or by an earlier delivery).
	Accepted bool `json:"accepted"`
	// Duplicate is true when an earlier delivery of the same event was stored.
	Duplicate bool `json:"duplicate"`
	// Ignored says why a delivery was acknowledged without being stored.
	Ignored string `json:"ignored,omitempty"`
}

// New validates cfg and returns the handler. A nil log discards.
func New(cfg Config, in *intake.Intake, log *slog.Logger) (*Webhooks, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, errors.New("shopify: an intake is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	h := &Webhooks{shops: map[string]shopEntry{}, in: in, maxBody: cfg.MaxBody, log: log}
	for key, s := range cfg.Shops {
		d := normalizeDomain(s.Domain)
		h.shops[d] = shopEntry{key: key, domain: d, secrets: s.secrets()}
	}
	return h, nil
}

// header returns the X-Shopify-<name> header, or else the un-prefixed Shopify-<name>
// of Shopify's newer events.
func header(r *http.Request, name string) string {
	if v := r.Header.Get("X-Shopify-" + name); v != "" {
		return v
	}
	return r.Header.Get("Shopify-" + name)
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusMethodNotAllowed,
			Detail: "Shopify webhooks are delivered with POST"})
		return
	}
	domain := header(r, "Shop-Domain")
	shop, ok := h.shops[normalizeDomain(domain)]
	if !ok {
		h.log.Warn("shopify webhook from an unknown shop refused", "shop_domain", clip(domain), "remote", r.RemoteAddr)
		unauthorized(w, "the shop in X-Shopify-Shop-Domain is not configured in this hub")
		return
	}
	log := h.log.With("partner", shop.key, "shop_domain", shop.domain)
	body, ok := httpapi.ReadBody(w, r, h.maxBody)
	if !ok {
		log.Warn("shopify webhook body refused (too large or unreadable)", "limit", h.maxBody)
		return
	}
	if !verify(body, header(r, "Hmac-Sha256"), shop.secrets) {
		// Never log the received HMAC or the secrets.
		log.Warn("shopify webhook with a missing or wrong signature refused", "remote", r.RemoteAddr)
		unauthorized(w, "X-Shopify-Hmac-Sha256 is missing or does not match the body under this shop's client secret")
		return
	}

	topic := header(r, "Topic")
	eventID, webhookID := header(r, "Event-Id"), header(r, "Webhook-Id")
	for name, v := range map[string]string{"X-Shopify-Topic": topic, "X-Shopify-Event-Id": eventID, "X-Shopify-Webhook-Id": webhookID} {
		if len(v) > MaxHeader {
			badRequest(w, fmt.Sprintf("%s is %d characters; at most %d", name, len(v), MaxHeader))
			return
		}
	}
	if topic == "" {
		badRequest(w, "X-Shopify-Topic is missing")
		return
	}
	if !topics[topic] {
		log.Debug("shopify webhook of an unsupported topic acknowledged and dropped", "topic", topic, "event_id", eventID)
		httpapi.WriteJSON(w, http.StatusOK, Response{Ignored: fmt.Sprintf("topic %q is not taken by this hub", topic)})
		return
	}
	id := eventID
	if id == "" {
		id = webhookID
	}
	if id == "" {
		badRequest(w, "neither X-Shopify-Event-Id nor X-Shopify-Webhook-Id is set; the delivery cannot be deduplicated")
		return
	}

	md := map[string]string{MetaTopic: topic, MetaShopDomain: shop.domain}
	for key, name := range map[string]string{MetaEventID: "Event-Id", MetaWebhookID: "Webhook-Id", MetaTriggeredAt: "Triggered-At", MetaAPIVersion: "API-Version"} {
		if v := header(r, name); v != "" {
			md[key] = clip(v)
		}
	}
	res, err := h.in.Accept(r.Context(), intake.Item{
		Source:         Source,
		Partner:        shop.key,
		IdempotencyKey: topic + ":" + id,
		Payload:        body,
		ContentType:    "application/json",
		Metadata:       md,
	})
	var conflict *intake.ConflictError
	switch {
	case errors.As(err, &conflict):
		// The same event id with another body: Shopify resends events unchanged, so
		// this is not a retry; say so rather than drop it silently.
		log.Warn("shopify webhook reuses an event id with a different body", "topic", topic, "event_id", id)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeConflict, Status: http.StatusConflict, Detail: conflict.Reason})
		return
	case err != nil:
		if r.Context().Err() == nil {
			log.Error("accepting a shopify webhook failed", "topic", topic, "event_id", id, "error", err)
		}
		httpapi.Unavailable(w, "the webhook could not be stored; nothing was accepted, deliver it again", time.Second)
		return
	}
	log.Debug("shopify webhook accepted", "topic", topic, "event_id", id, "duplicate", res.Duplicate, "message_uuid", res.MessageUUID)
	httpapi.WriteJSON(w, http.StatusOK, Response{Accepted: true, Duplicate: res.Duplicate})
}

// verify reports whether sig is base64(HMAC-SHA256(body, secret)) for one of secrets.
// The MACs are compared with hmac.Equal, in constant time, so the time taken does not
// tell an attacker how many leading bytes of a forged signature were right. Every
// secret is tried, matching or not.
func verify(body []byte, sig string, secrets [][]byte) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		if hmac.Equal(got, mac.Sum(nil)) {
			ok = true
		}
	}
	return ok
}

func unauthorized(w http.ResponseWriter, detail string) {
	httpapi.WriteProblem(w, httpapi.Problem{Type: TypeUnauthorized, Status: http.StatusUnauthorized, Detail: detail})
}

func badRequest(w http.ResponseWriter, detail string) {
	httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: detail})
}

func normalizeDomain(d string) string { return strings.ToLower(strings.TrimSpace(d)) }

// clip shortens a value from outside before it is logged or stored as metadata.
func clip(s string) string {
	if len(s) > MaxHeader {
		return s[:MaxHeader] + "…"
	}
	return s
}
