package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/paklog/integration-hub/adapters/shopify"
	"github.com/paklog/integration-hub/internal/config"
	shopifymap "github.com/paklog/integration-hub/transforms/shopify"
)

// The bench shop: the partner and domain of every webhook a shopify run sends.
const (
	ShopName   = "bench-shop"
	ShopDomain = "bench-shop.myshopify.com"
)

// sampleOrder is a byte-for-byte copy of fixtures/shopify/shopify-api-ruby_order.json
// (Shopify/shopify-api-ruby:test/fixtures/order.json at
// 298f9cddebd6433702e4f394ad83d6becf46a373, MIT, LICENSES/MIT-Shopify-shopify-api-ruby.txt;
// see fixtures/shopify/PROVENANCE.md): a REST "GET order" wrapped in {"order": …}, three
// lines with SKUs, financial_status "authorized". A test checks the copy against the fixture.
//
//go:embed shopify-api-ruby_order.json
var sampleOrder []byte

// Values put in the sample where each webhook's own value goes; each occurs only where
// it was put (newShopifyOrders checks).
const (
	slotID          = "987650000000000001" // id, checkout_id, fulfillments[].order_id
	slotOrderNumber = "987650000000000002"
	slotNumber      = "987650000000000003"
	slotName        = "#BENCH-SLOT-NAME"
	slotToken       = "BENCH-SLOT-TOKEN"
)

// shopifyOrders builds distinct orders/create bodies from the sample: delivery n is
// order 5900000000000+n, "#" + (100001+n), with its own token, event id and webhook
// id. The signatures are computed up front by sign, so that the client only copies
// bytes while the clock runs.
type shopifyOrders struct {
	secret   string
	parts    [][]byte // literal JSON between slots
	slots    []string // the slot after parts[i]
	size     int      // bytes in parts
	at       string   // created_at, updated_at and X-Shopify-Triggered-At
	sigs     []string // X-Shopify-Hmac-Sha256 of delivery n
	events   []string // X-Shopify-Event-Id of delivery n
	webhooks []string // X-Shopify-Webhook-Id of delivery n
}

// newShopifyOrders makes the template from the sample order and a random client
// secret.
func newShopifyOrders(now time.Time) (*shopifyOrders, error) {
	var wrapped struct {
		Order map[string]any `json:"order"`
	}
	dec := json.NewDecoder(bytes.NewReader(sampleOrder))
	dec.UseNumber()
	if err := dec.Decode(&wrapped); err != nil {
		return nil, fmt.Errorf("decoding the sample order: %w", err)
	}
	o := wrapped.Order
	at := now.UTC().Format(time.RFC3339)
	o["id"] = json.Number(slotID)
	o["checkout_id"] = json.Number(slotID)
	o["order_number"] = json.Number(slotOrderNumber)
	o["number"] = json.Number(slotNumber)
	o["name"] = slotName
	o["token"] = slotToken
	o["created_at"], o["updated_at"] = at, at
	if fs, ok := o["fulfillments"].([]any); ok {
		for _, f := range fs {
			if f, ok := f.(map[string]any); ok {
				f["order_id"] = json.Number(slotID)
			}
		}
	}
	doc, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding the sample order: %w", err)
	}
	s := &shopifyOrders{at: at}
	for len(doc) > 0 {
		i, slot := -1, ""
		for _, sl := range []string{slotID, slotOrderNumber, slotNumber, slotName, slotToken} {
			if j := bytes.Index(doc, []byte(sl)); j >= 0 && (i < 0 || j < i) {
				i, slot = j, sl
			}
		}
		if i < 0 {
			s.parts = append(s.parts, doc)
			s.size += len(doc)
			break
		}
		s.parts = append(s.parts, doc[:i])
		s.size += i
		s.slots = append(s.slots, slot)
		doc = doc[i+len(slot):]
	}
	for _, sl := range []string{slotOrderNumber, slotNumber, slotName, slotToken} {
		if n := countOf(s.slots, sl); n != 1 {
			return nil, fmt.Errorf("the sample order has %s %d times in the template, want once", sl, n)
		}
	}
	if n := countOf(s.slots, slotID); n < 2 {
		return nil, fmt.Errorf("the sample order has its id %d times in the template, want at least twice", n)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	s.secret = "shpss_" + hex.EncodeToString(key)
	return s, nil
}

func countOf(xs []string, x string) int {
	n := 0
	for _, v := range xs {
		if v == x {
			n++
		}
	}
	return n
}

// shop is the hub configuration of the bench shop. The sample is an authorised,
// not yet captured order, so the shop ships on authorisation as well as on payment.
func (s *shopifyOrders) shop() config.Shop {
	return config.Shop{
		Name:    ShopName,
		Domain:  ShopDomain,
		Secrets: []config.Secret{config.NewSecret(s.secret)},
		Mapping: shopifymap.Options{ReleaseFinancialStatuses: []string{"authorized", "paid"}},
	}
}

// body is the webhook body of delivery n.
func (s *shopifyOrders) body(n int) []byte {
	id := strconv.FormatInt(5_900_000_000_000+int64(n), 10)
	num := 100_001 + n
	out := make([]byte, 0, s.size+len(s.slots)*32)
	for i, p := range s.parts {
		out = append(out, p...)
		if i == len(s.slots) {
			break
		}
		switch s.slots[i] {
		case slotID:
			out = append(out, id...)
		case slotOrderNumber:
			out = strconv.AppendInt(out, int64(num), 10)
		case slotNumber:
			out = strconv.AppendInt(out, int64(num-1000), 10)
		case slotName:
			out = strconv.AppendInt(append(out, '#'), int64(num), 10)
		case slotToken:
			out = fmt.Appendf(out, "%032x", 0xb3c4<<48|uint64(n))
		}
	}
	return out
}

// sign signs deliveries [0, n) and gives each an event id and a webhook id. It is
// called before the clock starts.
func (s *shopifyOrders) sign(n int) {
	s.sigs, s.events, s.webhooks = make([]string, n), make([]string, n), make([]string, n)
	for i := range n {
		s.sigs[i] = signature(s.body(i), s.secret)
		s.events[i] = uuid.NewString()
		s.webhooks[i] = uuid.NewString()
	}
}

// request is delivery n as Shopify sends it: the body rebuilt from the template (a
// copy; no signing) and the headers with the signature sign computed.
func (s *shopifyOrders) request(n int) ([]byte, http.Header) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Shopify-Captain-Hook")
	h.Set("X-Shopify-Topic", shopify.TopicOrdersCreate)
	h.Set("X-Shopify-Hmac-Sha256", s.sigs[n])
	h.Set("X-Shopify-Shop-Domain", ShopDomain)
	h.Set("X-Shopify-API-Version", "2025-01")
	h.Set("X-Shopify-Webhook-Id", s.webhooks[n])
	h.Set("X-Shopify-Event-Id", s.events[n])
	h.Set("X-Shopify-Triggered-At", s.at)
	return s.body(n), h
}

// accepted checks a 200 answer: the delivery was stored, and not as a duplicate
// (every delivery is a new event).
func accepted(body []byte) error {
	var r shopify.Response
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("200 with an unreadable body: %w", err)
	}
	switch {
	case r.Duplicate:
		return fmt.Errorf("200 duplicate")
	case !r.Accepted:
		return fmt.Errorf("200 not accepted (%s)", r.Ignored)
	}
	return nil
}

// signature is Shopify's webhook signature: base64(HMAC-SHA256(body, secret)).
func signature(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
