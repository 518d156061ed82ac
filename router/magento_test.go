package router_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
	magentomap "github.com/paklog/integration-hub/transforms/magento"
)

// magentoOrder is the paid sample order of transforms/magento with its entity_id,
// state and updated_at set as given; change, when not nil, edits it further.
func magentoOrder(t *testing.T, entityID int, state, updatedAt string, change func(map[string]any)) []byte {
	t.Helper()
	b, err := os.ReadFile("../transforms/magento/testdata/paid.order.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	doc["entity_id"], doc["increment_id"] = entityID, fmt.Sprintf("%09d", entityID)
	doc["state"], doc["status"], doc["updated_at"] = state, state, updatedAt
	if change != nil {
		change(doc)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The adapter delivers each order version at least once, and a poll overlap or a
// triggered fetch can bring an older version after a newer one. A pending order is
// skipped and released by its processing version, once; the same version again and an
// older one change nothing; the cancellation of the released order reaches
// fulfilment.cancellations with the order's hub id, that of an order never released
// sends nothing; an order the mapping rejects is parked with its problems.
func TestMagentoLastWriterWins(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		hubtest.StartRouter(t, st, func(r *router.Router) error {
			return router.RegisterMagento(r, router.MagentoConfig{Stores: map[string]magentomap.Options{
				// eu-store ships before the invoice; us-store keeps the defaults.
				"eu-store": {ReleaseStates: []string{"new", "processing"}},
			}})
		})
		in := intake.New(st, router.Topics{}, intake.Config{}, nil)
		t.Cleanup(in.Close)
		console := dlq.NewConsole(st, router.Topics{})
		n := 0
		deliver := func(storeKey string, body []byte) {
			t.Helper()
			n++
			if _, err := in.Accept(context.Background(), intake.Item{Source: "magento", Partner: storeKey,
				IdempotencyKey: fmt.Sprintf("delivery-%d", n), Payload: body, ContentType: "application/json"}); err != nil {
				t.Fatal(err)
			}
		}
		orders := func() []string { return messages(t, st, router.TopicFulfilmentOrders) }
		cancels := func() []string { return messages(t, st, router.TopicFulfilmentCancellation) }
		settle := func() { time.Sleep(300 * time.Millisecond) }

		// Not paid yet: skipped.
		deliver("us-store", magentoOrder(t, 1042, "pending_payment", "2026-11-21 08:00:00", nil))
		settle()
		if got := len(orders()); got != 0 {
			t.Fatalf("a pending_payment order was released (%d)", got)
		}
		// Invoiced: released once.
		deliver("us-store", magentoOrder(t, 1042, "processing", "2026-11-21 08:02:17", nil))
		waitFor(t, "the processing order", 10*time.Second, func() bool { return len(orders()) == 1 })
		o, err := canonical.DecodeOrder([]byte(orders()[0]))
		if err != nil || o.Source.Channel != canonical.ChannelMagento || o.Source.Partner != "us-store" ||
			o.Source.ExternalID != "1042" || o.OrderNumber != "000001042" || o.OrderID == "" {
			t.Fatalf("order %v %+v", err, o.Source)
		}

		// The same version again (a poll's overlap), an older one arriving late, and a
		// newer processing version (a comment added): no new order.
		deliver("us-store", magentoOrder(t, 1042, "processing", "2026-11-21 08:02:17", func(d map[string]any) { d["customer_note"] = "again" }))
		deliver("us-store", magentoOrder(t, 1042, "pending_payment", "2026-11-21 08:01:00", nil))
		deliver("us-store", magentoOrder(t, 1042, "processing", "2026-11-21 08:30:00", nil))
		// An older cancel, too: it must not cancel the released order.
		deliver("us-store", magentoOrder(t, 1042, "canceled", "2026-11-21 08:10:00", nil))
		settle()
		if got, c := len(orders()), len(cancels()); got != 1 || c != 0 {
			t.Fatalf("%d orders and %d cancels after duplicates and older versions, want 1 and 0", got, c)
		}

		// The same entity_id in another store is another order, released by that
		// store's own rules.
		deliver("eu-store", magentoOrder(t, 1042, "new", "2026-11-21 08:02:17", nil))
		waitFor(t, "the eu-store order", 10*time.Second, func() bool { return len(orders()) == 2 })

		// Cancelled in Magento after the release.
		deliver("us-store", magentoOrder(t, 1042, "canceled", "2026-11-21 09:00:00", nil))
		waitFor(t, "the cancellation", 10*time.Second, func() bool { return len(cancels()) == 1 })
		c, err := canonical.DecodeOrderCancel([]byte(cancels()[0]))
		if err != nil || c.OrderID != o.OrderID || c.OrderNumber != "000001042" || !strings.Contains(c.Reason, "canceled") {
			t.Fatalf("cancel %v %+v, want order %s", err, c, o.OrderID)
		}
		trail, _ := st.Trail(context.Background(), o.OrderID)
		if !store.HasStages(trail, store.StageAccepted, store.StageRouted, store.StageCancelRequested) {
			t.Fatalf("trail %+v", trail)
		}

		// Cancelled before it was ever released: nothing to send.
		deliver("us-store", magentoOrder(t, 2001, "pending_payment", "2026-11-21 08:00:00", nil))
		deliver("us-store", magentoOrder(t, 2001, "canceled", "2026-11-21 08:05:00", nil))
		settle()
		if got, c := len(orders()), len(cancels()); got != 2 || c != 1 {
			t.Fatalf("%d orders and %d cancels after an unreleased cancel, want 2 and 1", got, c)
		}

		// A shippable order without SKU or ship-to: parked, every problem named.
		deliver("us-store", magentoOrder(t, 3003, "processing", "2026-11-21 08:00:00", func(d map[string]any) {
			delete(d, "extension_attributes")
			d["items"].([]any)[0].(map[string]any)["sku"] = ""
		}))
		var entries []dlq.Entry
		waitFor(t, "the DLQ entry", 10*time.Second, func() bool {
			entries, _ = console.List(context.Background(), dlq.Filter{})
			return len(entries) == 1
		})
		e := entries[0]
		if e.Handler != "normalize.magento" || e.ErrorClass != "validation" || e.Metadata[router.MetaPartner] != "us-store" ||
			!strings.Contains(e.Reason, "magento order 3003 of store us-store") || !strings.Contains(e.Reason, "items[0].sku") ||
			!strings.Contains(e.Reason, "shipping_assignments[0].shipping.address") {
			t.Fatalf("DLQ entry: %s %s %v: %s", e.Handler, e.ErrorClass, e.Metadata, e.Reason)
		}
		if got := len(orders()); got != 2 {
			t.Fatalf("%d orders after the invalid one, want 2", got)
		}
	})
}

// Bad release rules stop the registration, naming the store.
func TestRegisterMagentoValidatesOptions(t *testing.T) {
	st := storetest.Open(t, storetest.SQLiteConfig(t))
	r, err := router.New(st, router.Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = router.RegisterMagento(r, router.MagentoConfig{Stores: map[string]magentomap.Options{
		"us-store": {ReleaseStates: []string{"shipped"}},
	}})
	if err == nil || !strings.Contains(err.Error(), "magento store us-store mapping") || !strings.Contains(err.Error(), `release_states[0]: "shipped"`) {
		t.Fatalf("RegisterMagento = %v", err)
	}
}
