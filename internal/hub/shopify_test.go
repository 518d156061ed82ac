package hub_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	shopifyconn "github.com/paklog/integration-hub/connectors/shopify"
	"github.com/paklog/integration-hub/fixtures/fulfilsim"
	"github.com/paklog/integration-hub/fixtures/shopifysim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// The complaints users of Shopify connectors file, replayed against the simulator:
// each ends with one canonical order in the right state and one fulfilment back.

type shopHub struct {
	*hub.Hub
	sim  *shopifysim.Sim
	stop func()
}

// shopifyOrder is a paid order in the REST / webhook shape, without ids: the
// simulator assigns them (above 2^53).
func shopifyOrder(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../transforms/shopify/testdata/paid.webhook.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "admin_graphql_api_id", "created_at", "updated_at", "order_number", "number"} {
		delete(doc, k)
	}
	doc["name"] = name
	for _, it := range doc["line_items"].([]any) {
		item := it.(map[string]any)
		delete(item, "id")
		delete(item, "admin_graphql_api_id")
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// startShopHub runs a hub with one shop, "acme", on a simulator: webhooks, the
// reconciliation poll (interval poll; 0 leaves it to the test), the subscription
// check and fulfilments back; the simulated fulfilment core ships every order.
func startShopHub(t *testing.T, dir string, poll time.Duration, sim *shopifysim.Sim, wrap func(shopifyconn.Sink) shopifyconn.Sink) *shopHub {
	return startShopHubAt(t, dir, "127.0.0.1:0", poll, sim, wrap, nil)
}

func startShopHubAt(t *testing.T, dir, addr string, poll time.Duration, sim *shopifysim.Sim, wrap func(shopifyconn.Sink) shopifyconn.Sink, adjust func(*config.Shop)) *shopHub {
	t.Helper()
	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(dir, "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = addr
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	sh := config.Shop{Name: "acme", Domain: sim.Domain, Secrets: []config.Secret{config.NewSecret(shopifysim.DefaultSecret)},
		Admin: config.ShopAdmin{AccessToken: config.NewSecret(sim.AccessToken()), BaseURL: sim.URL,
			Reconcile: config.ShopReconcile{Interval: config.Duration(poll), Off: poll == 0, Overlap: config.Duration(time.Minute)}}}
	if adjust != nil {
		adjust(&sh)
	}
	cfg.Channels.Shopify.Shops = []config.Shop{sh}
	sim.SetSecret(shopifysim.DefaultSecret)
	fs := &fulfilsim.Sim{}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{
		Register: fs.Register,
		Delivery: func(c *partners.DeliveryConfig) {
			c.Poll, c.Initial, c.Max, c.Attempts = 20*time.Millisecond, 20*time.Millisecond, 50*time.Millisecond, 3
		},
		ShopifySink: wrap,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	<-h.Router.Running()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("hub stopped: %v", err)
		}
	}
	t.Cleanup(stop)
	if sh.Admin.Subscriptions.CallbackURL == "" {
		for _, topic := range config.DefaultShopTopics {
			sim.Subscribe(topic, "http://"+h.Server.Addr()+"/webhooks/shopify")
		}
	}
	return &shopHub{Hub: h, sim: sim, stop: stop}
}

func newSim(t *testing.T) *shopifysim.Sim {
	sim := shopifysim.New(shopifysim.Options{})
	t.Cleanup(sim.Close)
	return sim
}

// ordersOf counts the hub's orders of the shop and returns the one with external id.
func orderOf(t testing.TB, st *store.Store, shopOrder int64) (string, int) {
	t.Helper()
	var id string
	var n int
	err := st.ReadDB().QueryRow(st.Rebind(`SELECT COUNT(*), COALESCE(MAX(order_id), '') FROM order_ids WHERE channel = 'shopify' AND partner = 'acme' AND external_id = ?`),
		strconv.FormatInt(shopOrder, 10)).Scan(&n, &id)
	if err != nil {
		t.Fatal(err)
	}
	return id, n
}

// released returns the canonical order as the hub released it.
func released(t testing.TB, st *store.Store, orderID string) canonical.Order {
	t.Helper()
	b, err := st.ReleasedOrder(context.Background(), st.ReadDB(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	o, err := canonical.DecodeOrder(b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// oneOrderOneFulfilment waits for the shop's order to reach the core once and for
// exactly one fulfilment to come back, and returns the canonical order.
func (h *shopHub) oneOrderOneFulfilment(t *testing.T, shopOrder int64) canonical.Order {
	t.Helper()
	var orderID string
	eventually(t, "the order in the hub", 20*time.Second, func() bool {
		id, n := orderOf(t, h.Store, shopOrder)
		orderID = id
		return n == 1
	})
	eventually(t, "a fulfilment in the shop", 20*time.Second, func() bool { return len(h.sim.Fulfillments(shopOrder)) >= 1 })
	eventually(t, "the fulfilment job done", 20*time.Second, func() bool {
		ds, _ := h.Delivery.Deliveries(context.Background(), "shopify:acme")
		return len(ds) == 1 && ds[0].State == partners.StateDelivered
	})
	seen, err := fulfilsim.Orders(context.Background(), h.Store)
	if err != nil {
		t.Fatal(err)
	}
	if s := seen[orderID]; s.Deliveries != 1 {
		t.Errorf("the fulfilment core got order %s %d times, want once", orderID, s.Deliveries)
	}
	if f := h.sim.Fulfillments(shopOrder); len(f) != 1 {
		t.Errorf("shop has %d fulfilments of order %d, want 1: %+v", len(f), shopOrder, f)
	} else if !strings.HasPrefix(f[0].Number, "SIM") || f[0].Company != "SIM" {
		t.Errorf("fulfilment tracking = %s %s, want the core's SIM tracking", f[0].Company, f[0].Number)
	}
	// trail.shipped and confirm.shipped are separate consumers of fulfilment.shipped:
	// either stage may be recorded first.
	eventually(t, "the trail through shipped and confirmed", 10*time.Second, func() bool {
		trail, err := h.Store.Trail(context.Background(), orderID)
		return err == nil && store.HasStages(trail, store.StageAccepted, store.StageRouted, store.StageShipped, store.StageConfirmed)
	})
	return released(t, h.Store, orderID)
}

// A webhook Shopify never delivered: only the reconciliation poll finds the order.
func TestShopifyLostWebhookFoundByPoll(t *testing.T) {
	sim := newSim(t)
	h := startShopHub(t, t.TempDir(), 200*time.Millisecond, sim, nil)
	sim.DropNext(1)
	id, err := sim.CreateOrder(shopifyOrder(t, "#5001"))
	if err != nil {
		t.Fatal(err)
	}
	o := h.oneOrderOneFulfilment(t, id)
	for _, d := range sim.Deliveries() {
		if d.OrderID == id && !d.Dropped {
			t.Errorf("the webhook was delivered after all (%+v): the poll was not what found the order", d)
		}
	}
	var md string
	if err := h.Store.ReadDB().QueryRow(`SELECT metadata FROM ` + h.Store.MessagesTable(router.InboundTopic("shopify"))).Scan(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md, `"shopify_via":"reconcile"`) {
		t.Errorf("inbound message metadata %s does not say the poll found it", md)
	}
	if o.OrderNumber != "#5001" {
		t.Errorf("order number %q, want #5001", o.OrderNumber)
	}
	if got := scrape(t, h.Hub); !strings.Contains(got, `paklog_shopify_reconcile_polls_total{result="ok",shop="acme"}`) {
		t.Errorf("no reconcile poll metric:\n%s", grep(got, "paklog_shopify"))
	}
}

// The same event delivered three times is one order and one fulfilment.
func TestShopifySameEventThreeTimes(t *testing.T) {
	sim := newSim(t)
	h := startShopHub(t, t.TempDir(), 0, sim, nil)
	sim.DuplicateNext(2)
	id, err := sim.CreateOrder(shopifyOrder(t, "#5002"))
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "three deliveries", 10*time.Second, func() bool {
		n := 0
		for _, d := range sim.Deliveries() {
			if d.Status == 200 {
				n++
			}
		}
		return n == 3
	})
	h.oneOrderOneFulfilment(t, id)
	if n := count(t, h.Store, router.InboundTopic("shopify")); n != 1 {
		t.Errorf("inbound.shopify holds %d messages, want 1 (the redeliveries are duplicates)", n)
	}
}

// orders/updated arrives before its orders/create: the order is released from the
// update, in its updated state, and the late create changes nothing.
func TestShopifyUpdatedBeforeCreate(t *testing.T) {
	sim := newSim(t)
	h := startShopHub(t, t.TempDir(), 0, sim, nil)
	sim.HoldNext()
	id, err := sim.CreateOrder(shopifyOrder(t, "#5003"))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.UpdateOrder(id, map[string]any{"note": "Ring twice."}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the order released from orders/updated", 10*time.Second, func() bool { _, n := orderOf(t, h.Store, id); return n == 1 })
	sim.ReleaseHeld()
	o := h.oneOrderOneFulfilment(t, id)
	if !strings.Contains(o.Notes, "Ring twice.") {
		t.Errorf("order released with notes %q, want the updated note", o.Notes)
	}
	if n := count(t, h.Store, router.InboundTopic("shopify")); n != 2 {
		t.Errorf("inbound.shopify holds %d messages, want 2 (update and late create)", n)
	}
}

// The hub dies while a reconciliation poll commits a page: the orders committed
// before stay, the watermark did not move, and after a restart the next poll commits
// the rest. Each order once, each fulfilled once.
func TestShopifyPollCrashBetweenFetchAndCommit(t *testing.T) {
	sim := newSim(t)
	dir := t.TempDir()
	var crashed atomic.Bool
	crashAfterOne := func(next shopifyconn.Sink) shopifyconn.Sink {
		return func(ctx context.Context, shop string, orders []shopifyconn.Order) error {
			if len(orders) > 1 && crashed.CompareAndSwap(false, true) {
				if err := next(ctx, shop, orders[:1]); err != nil {
					return err
				}
				return errors.New("killed while committing the page")
			}
			return next(ctx, shop, orders)
		}
	}
	h := startShopHub(t, dir, 0, sim, crashAfterOne)
	sim.DropNext(3)
	var ids []int64
	for i := range 3 {
		id, err := sim.CreateOrder(shopifyOrder(t, "#60"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if _, err := h.Shopify.Reconcile(context.Background(), "acme"); err == nil {
		t.Fatal("the poll whose commit was killed reported success")
	}
	if wm, _ := h.Store.Checkpoint(context.Background(), "shopify.reconcile:acme"); wm != "" {
		t.Errorf("watermark moved to %s though the page was not committed", wm)
	}
	h.stop()

	h2 := startShopHub(t, dir, 0, sim, nil)
	res, err := h2.Shopify.Reconcile(context.Background(), "acme")
	if err != nil || res.Orders != 3 {
		t.Fatalf("poll after the restart: %+v, %v", res, err)
	}
	for _, id := range ids {
		h2.oneOrderOneFulfilmentOf(t, id)
	}
	if n := count(t, h2.Store, router.TopicFulfilmentOrders); n != 3 {
		t.Errorf("fulfilment.orders holds %d orders, want 3", n)
	}
	// Polling again reads the same orders (the overlap) and changes nothing.
	if _, err := h2.Shopify.Reconcile(context.Background(), "acme"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if n := count(t, h2.Store, router.TopicFulfilmentOrders); n != 3 {
		t.Errorf("after another poll fulfilment.orders holds %d orders, want 3", n)
	}
}

// oneOrderOneFulfilmentOf is oneOrderOneFulfilment for one of several orders.
func (h *shopHub) oneOrderOneFulfilmentOf(t *testing.T, shopOrder int64) {
	t.Helper()
	eventually(t, "the order in the hub", 20*time.Second, func() bool { _, n := orderOf(t, h.Store, shopOrder); return n == 1 })
	eventually(t, "one fulfilment in the shop", 20*time.Second, func() bool { return len(h.sim.Fulfillments(shopOrder)) == 1 })
}

// Shopify removed a subscription (its deliveries kept failing): the check finds it
// missing, creates it again and raises the alert metric; orders arrive by webhook
// again.
func TestShopifyMissingSubscriptionRecreated(t *testing.T) {
	sim := newSim(t)
	addr := freeAddr(t)
	h := startShopHubAt(t, t.TempDir(), addr, 0, sim, nil, func(sh *config.Shop) {
		sh.Admin.Subscriptions = config.ShopSubscriptions{CallbackURL: "http://" + addr + "/webhooks/shopify", Every: config.Duration(time.Hour)}
	})
	// A new install has none: the check at start subscribes the hub to every topic.
	eventually(t, "the hub's subscriptions created at start", 10*time.Second, func() bool { return len(sim.Subscriptions()) == 4 })
	if n := sim.RemoveSubscription("orders/create"); n != 1 {
		t.Fatalf("removed %d subscriptions", n)
	}
	got, err := h.Shopify.CheckSubscriptions(context.Background(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Missing) != 1 || len(got.Created) != 1 || shopifyconn.EnumTopic(got.Missing[0].Topic) != "ORDERS_CREATE" {
		t.Errorf("check = %+v, want orders/create missing and created", got)
	}
	if m := scrape(t, h.Hub); !strings.Contains(m, `paklog_shopify_subscriptions_missing{shop="acme"} 1`) {
		t.Errorf("alert metric not raised:\n%s", grep(m, "paklog_shopify_subscriptions"))
	}
	n := 0
	for _, s := range sim.Subscriptions() {
		if shopifyconn.EnumTopic(s.Topic) == "ORDERS_CREATE" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("shop has %d orders/create subscriptions, want 1", n)
	}
	id, err := sim.CreateOrder(shopifyOrder(t, "#5005"))
	if err != nil {
		t.Fatal(err)
	}
	h.oneOrderOneFulfilment(t, id)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func grep(s, sub string) string {
	var out []string
	for l := range strings.SplitSeq(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
