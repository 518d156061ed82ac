package hub_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/fixtures/magentosim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

const magentoTrigger = "magento-trigger-secret"

func startMagentoHub(t *testing.T, sim *magentosim.Server) *hub.Hub {
	t.Helper()
	sc := sim.Config()
	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	cfg.Channels.Magento.Stores = []config.MagentoStore{{Name: "m1", BaseURL: sim.URL,
		Auth: config.MagentoAuth{Mode: "oauth1", ConsumerKey: config.NewSecret(sc.ConsumerKey), ConsumerSecret: config.NewSecret(sc.ConsumerSecret),
			AccessToken: config.NewSecret(sc.AccessToken), AccessTokenSecret: config.NewSecret(sc.AccessTokenSecret)},
		Poll:    config.MagentoPoll{Interval: config.Duration(time.Hour)},
		Trigger: config.MagentoTrigger{HMACSecrets: []config.Secret{config.NewSecret(magentoTrigger)}}}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	fs := &fulfilsim.Sim{}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Register: fs.Register,
		Delivery: func(c *partners.DeliveryConfig) {
			c.Poll, c.Initial, c.Max, c.Attempts = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, 3
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped: %v", err)
		}
	})
	return h
}

func trigger(t *testing.T, h *hub.Hub, store string, body []byte) int {
	t.Helper()
	mac := hmac.New(sha256.New, []byte(magentoTrigger))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+h.Server.Addr()+"/webhooks/magento/"+store, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Paklog-Signature", hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A Magento order with a configurable product and a downloadable one, placed after
// the store's first poll: the trigger fetches it at once, it becomes one order with
// one shippable line (the child SKU at the parent's item), and when it ships Magento
// gets exactly one shipment — also when the first ship call timed out after Magento
// had created the shipment.
func TestMagentoTriggerToOrderAndShipmentBack(t *testing.T) {
	sim := magentosim.Start(t, magentosim.Config{})
	sim.SetNow(time.Now().UTC().Truncate(time.Second))
	h := startMagentoHub(t, sim)
	// The first ship call creates the shipment and never answers.
	sim.Inject(magentosim.Fault{Kind: magentosim.TimeoutAfterShip, Op: magentosim.OpShip, Count: 1, Hold: 300 * time.Millisecond})
	sim.AddOrder(magentosim.Order{EntityID: 301, IncrementID: "000000301", Items: []magentosim.Item{
		{ItemID: 10, SKU: "MH01-S-Gray", Name: "Hoodie", ProductType: "configurable", QtyOrdered: 2, Price: 52},
		{ItemID: 11, ParentItemID: 10, SKU: "MH01-S-Gray", Name: "Hoodie S Gray", QtyOrdered: 2},
		{ItemID: 12, SKU: "240-LV08", Name: "Yoga e-book", ProductType: "downloadable", QtyOrdered: 1, IsVirtual: true},
	}})
	if code := trigger(t, h, "m1", []byte(`{"order_id": 301}`)); code != http.StatusAccepted {
		t.Fatalf("trigger answered %d", code)
	}
	ref := store.OrderRef{Channel: "magento", Partner: "m1", ExternalID: "301"}
	var orderID string
	eventually(t, "the triggered order in the hub", 10*time.Second, func() bool {
		id, ok, err := h.Store.LookupOrderID(context.Background(), h.Store.ReadDB(), ref)
		orderID = id
		return err == nil && ok
	})
	o := released(t, h.Store, orderID)
	if o.OrderNumber != "000000301" || len(o.Lines) != 1 || o.Lines[0].LineNumber != "10" || o.Lines[0].SKU != "MH01-S-Gray" || o.Lines[0].Quantity != 2 {
		t.Errorf("order %s lines %+v, want one line: item 10, MH01-S-Gray × 2", o.OrderNumber, o.Lines)
	}
	eventually(t, "the shipment job done", 20*time.Second, func() bool {
		ds, _ := h.Delivery.Deliveries(context.Background(), "magento:m1")
		return len(ds) == 1 && ds[0].State == partners.StateDelivered
	})
	shipments := sim.Shipments(301)
	if len(shipments) != 1 {
		t.Fatalf("Magento has %d shipments of order 301, want 1: %+v", len(shipments), shipments)
	}
	if n := sim.Calls(magentosim.OpShip); n != 1 {
		t.Errorf("%d ship calls, want 1 (the timed-out one; the retry found its shipment)", n)
	}
	if s := shipments[0]; s.Items[10] != 2 || len(s.Tracks) != 1 {
		t.Errorf("shipment = %+v, want item 10 × 2 with the core's tracking number", s)
	}
	if n := count(t, h.Store, router.TopicFulfilmentOrders); n != 1 {
		t.Errorf("fulfilment.orders holds %d, want 1", n)
	}
	eventually(t, "the trail through shipped and confirmed", 10*time.Second, func() bool {
		trail, err := h.Store.Trail(context.Background(), orderID)
		return err == nil && store.HasStages(trail, store.StageShipped, store.StageConfirmed)
	})
	// The next scheduled pass reads the order again (overlap): nothing changes.
	if _, err := h.Magento.Poll(context.Background(), "m1"); err != nil {
		t.Fatal(err)
	}
	if count(t, h.Store, router.TopicFulfilmentOrders) != 1 {
		t.Errorf("a second pass released the order again")
	}
}
