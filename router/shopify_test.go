package router_test

import (
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// webhook is the paid sample order with updated_at, financial_status and cancelled_at
// set as given.
func webhook(t *testing.T, updatedAt, financial, cancelledAt string) []byte {
	t.Helper()
	b, err := os.ReadFile("../transforms/shopify/testdata/paid.webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["updated_at"], doc["financial_status"] = updatedAt, financial
	if cancelledAt != "" {
		doc["cancelled_at"], doc["cancel_reason"] = cancelledAt, "customer"
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Shopify delivers at least once and out of order. An unpaid create is not released;
// the paid update releases it once; an older update arriving late changes nothing; the
// cancellation reaches fulfilment.cancellations with the order's hub id.
func TestShopifyLastWriterWins(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return router.RegisterShopify(r, router.ShopifyConfig{})
		})
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		t.Cleanup(in.Close)
		deliver := func(event, topic string, body []byte) {
			t.Helper()
			if _, err := in.Accept(context.Background(), intake.Item{Source: "shopify", Partner: "acme", IdempotencyKey: topic + ":" + event,
				Payload: body, Metadata: map[string]string{router.MetaShopifyTopic: topic}}); err != nil {
				t.Fatal(err)
			}
		}
		routed := func() int { return len(messages(t, st, router.TopicFulfilmentOrders)) }
		settle := func() { time.Sleep(300 * time.Millisecond) }

		deliver("e1", "orders/create", webhook(t, "2026-11-20T18:00:00-08:00", "pending", ""))
		settle()
		if n := routed(); n != 0 {
			t.Fatalf("an unpaid order was released (%d)", n)
		}
		deliver("e2", "orders/paid", webhook(t, "2026-11-20T18:05:00-08:00", "paid", ""))
		waitFor(t, "the paid order", 10*time.Second, func() bool { return routed() == 1 })
		// A late update older than the paid one, and the paid one again under a new
		// event id: nothing new.
		deliver("e3", "orders/updated", webhook(t, "2026-11-20T18:01:00-08:00", "paid", ""))
		deliver("e4", "orders/updated", webhook(t, "2026-11-20T18:05:00-08:00", "paid", ""))
		settle()
		if n := routed(); n != 1 {
			t.Fatalf("%d orders on fulfilment.orders, want 1", n)
		}
		o, err := canonical.DecodeOrder([]byte(messages(t, st, router.TopicFulfilmentOrders)[0]))
		if err != nil || o.Source.ExternalID != "5812345678901" || o.OrderNumber != "#1042" {
			t.Fatalf("order %v %+v", err, o.Source)
		}
		deliver("e5", "orders/cancelled", webhook(t, "2026-11-20T19:00:00-08:00", "paid", "2026-11-20T19:00:00-08:00"))
		waitFor(t, "the cancellation", 10*time.Second, func() bool {
			return len(messages(t, st, router.TopicFulfilmentCancellation)) == 1
		})
		c, err := canonical.DecodeOrderCancel([]byte(messages(t, st, router.TopicFulfilmentCancellation)[0]))
		if err != nil || c.OrderID != o.OrderID {
			t.Fatalf("cancel %v %+v, want order %s", err, c, o.OrderID)
		}
	})
}
