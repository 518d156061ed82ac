package cli

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	magentoadapter "github.com/paklog/integration-hub/adapters/magento"
	"github.com/paklog/integration-hub/fixtures/demo"
	"github.com/paklog/integration-hub/fixtures/magentosim"
	"github.com/paklog/integration-hub/fixtures/shopifysim"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/store"
)

// The demo's Shopify shop, played by shopifysim: it signs its webhooks with the
// secret, and the hub reads its Admin API with the access token.
const (
	demoShop       = "demo-shop"
	demoShopDomain = "paklog-demo.myshopify.com"
	demoShopSecret = "demo-shop-client-secret"
)

// demoShopify is the shop's side of the demo.
type demoShopify struct {
	sim    *shopifysim.Sim
	orders []shopOrder
}

type shopOrder struct {
	id   int64
	name string
}

func startDemoShop() *demoShopify {
	sim := shopifysim.New(shopifysim.Options{Domain: demoShopDomain, Secret: demoShopSecret})
	return &demoShopify{sim: sim}
}

func (d *demoShopify) Close() { d.sim.Close() }

// configure adds the shop: webhooks signed with the secret, and Admin API access for
// the reconciliation poll and fulfilments back.
func (d *demoShopify) configure(c *config.Config) {
	c.Channels.Shopify.Shops = append(c.Channels.Shopify.Shops, config.Shop{
		Name: demoShop, Domain: demoShopDomain, Secrets: []config.Secret{config.NewSecret(demoShopSecret)},
		Admin: config.ShopAdmin{AccessToken: config.NewSecret(d.sim.AccessToken()), BaseURL: d.sim.URL}})
}

// send plays the shop: a forged webhook, an order whose orders/create arrives twice,
// and one whose webhook is lost and that the reconciliation poll finds.
func (d *demoShopify) send(ctx context.Context, out io.Writer, client *http.Client, base string, h *hub.Hub) ([]*demoOrder, error) {
	// The app is installed: the shop posts its order webhooks to the hub.
	for _, t := range config.DefaultShopTopics {
		d.sim.Subscribe(t, base+"/webhooks/shopify")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/shopify", bytes.NewReader(demo.ShopifyOrder))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Shopify-Shop-Domain", demoShopDomain)
	req.Header.Set("X-Shopify-Topic", "orders/paid")
	req.Header.Set("X-Shopify-Event-Id", "forged-event")
	req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString([]byte("forged")))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	fmt.Fprintf(out, "   a forged webhook -> %d, nothing stored\n", resp.StatusCode)

	start := time.Now()
	d.sim.DuplicateNext(1)
	first, err := d.sim.CreateOrder(demo.ShopifyOrder)
	if err != nil {
		return nil, err
	}
	d.orders = append(d.orders, shopOrder{first, "#1042"})
	var answers []string
	for _, dl := range d.sim.Deliveries() {
		if dl.OrderID == first {
			answers = append(answers, strconv.Itoa(dl.Status))
		}
	}
	fmt.Fprintf(out, "   #1042 created in the shop; Shopify delivers orders/create twice -> %v (the second is a duplicate)\n", answers)

	var doc map[string]any
	if err := json.Unmarshal(demo.ShopifyOrder, &doc); err != nil {
		return nil, err
	}
	delete(doc, "id")
	delete(doc, "admin_graphql_api_id")
	doc["name"] = "#1043"
	for _, it := range doc["line_items"].([]any) {
		delete(it.(map[string]any), "id")
		delete(it.(map[string]any), "admin_graphql_api_id")
	}
	second, _ := json.Marshal(doc)
	d.sim.DropNext(1)
	lost, err := d.sim.CreateOrder(second)
	if err != nil {
		return nil, err
	}
	d.orders = append(d.orders, shopOrder{lost, "#1043"})
	fmt.Fprintln(out, "   #1043 created in the shop; its webhook is lost on the way")
	res, err := h.Shopify.Reconcile(ctx, demoShop)
	if err != nil {
		return nil, fmt.Errorf("the reconciliation poll of the demo shop: %w", err)
	}
	fmt.Fprintf(out, "   the reconciliation poll (every 5m; the demo runs one now) read %d orders updated since %s\n", res.Orders, res.From.Format(time.TimeOnly))

	var orders []*demoOrder
	for _, so := range d.orders {
		ref := store.OrderRef{Channel: "shopify", Partner: demoShop, ExternalID: strconv.FormatInt(so.id, 10)}
		deadline := time.Now().Add(10 * time.Second)
		for {
			oid, ok, err := h.Store.LookupOrderID(ctx, h.Store.ReadDB(), ref)
			if err != nil {
				return nil, err
			}
			if ok {
				orders = append(orders, &demoOrder{channel: "shopify", number: so.name, orderID: oid, start: start, confirm: true})
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the Shopify order %s was not released within 10 s", so.name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return orders, nil
}

// report waits for each order's fulfilment in the shop and prints it; false when one
// is missing or doubled.
func (d *demoShopify) report(ctx context.Context, out io.Writer) bool {
	ok := true
	for _, so := range d.orders {
		id, name := so.id, so.name
		deadline := time.Now().Add(10 * time.Second)
		for len(d.sim.Fulfillments(id)) == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		fs := d.sim.Fulfillments(id)
		if len(fs) != 1 {
			fmt.Fprintf(out, "   %s: %d fulfilments in the shop, want 1\n", name, len(fs))
			ok = false
			continue
		}
		fmt.Fprintf(out, "   %s: fulfilled in the shop, %s %s\n", name, fs[0].Company, fs[0].Number)
	}
	return ok
}

// The demo's Magento store, played by magentosim (OAuth 1.0a with the simulator's
// integration credentials); its order events reach POST /webhooks/magento/demo-magento
// signed with the trigger secret.
const (
	demoMagento        = "demo-magento"
	demoMagentoTrigger = "demo-magento-trigger-secret"
	demoMagentoOrder   = 501
)

type demoMagentoStore struct{ sim *magentosim.Server }

func startDemoMagento() *demoMagentoStore {
	sim := magentosim.New(magentosim.Config{})
	sim.SetNow(time.Now().UTC().Truncate(time.Second))
	return &demoMagentoStore{sim: sim}
}

func (d *demoMagentoStore) Close() { d.sim.Close() }

func (d *demoMagentoStore) configure(c *config.Config) {
	sc := d.sim.Config()
	c.Channels.Magento.Stores = append(c.Channels.Magento.Stores, config.MagentoStore{Name: demoMagento, BaseURL: d.sim.URL,
		Auth: config.MagentoAuth{Mode: "oauth1", ConsumerKey: config.NewSecret(sc.ConsumerKey), ConsumerSecret: config.NewSecret(sc.ConsumerSecret),
			AccessToken: config.NewSecret(sc.AccessToken), AccessTokenSecret: config.NewSecret(sc.AccessTokenSecret)},
		Trigger: config.MagentoTrigger{HMACSecrets: []config.Secret{config.NewSecret(demoMagentoTrigger)}}})
}

// send places an order with a configurable product and an e-book, and has the store
// tell the hub at once (the poll would find it within a minute).
func (d *demoMagentoStore) send(ctx context.Context, out io.Writer, client *http.Client, base string, h *hub.Hub) (*demoOrder, error) {
	start := time.Now()
	d.sim.AddOrder(magentosim.Order{EntityID: demoMagentoOrder, IncrementID: "000000501", Items: []magentosim.Item{
		{ItemID: 10, SKU: "MH01-S-Gray", Name: "Chaz Kangeroo Hoodie", ProductType: "configurable", QtyOrdered: 2, Price: 52},
		{ItemID: 11, ParentItemID: 10, SKU: "MH01-S-Gray", Name: "Chaz Kangeroo Hoodie-S-Gray", QtyOrdered: 2},
		{ItemID: 12, SKU: "240-LV08", Name: "Yoga e-book", ProductType: "downloadable", QtyOrdered: 1, IsVirtual: true},
	}})
	body := []byte(fmt.Sprintf(`{"order_id": %d}`, demoMagentoOrder))
	mac := hmac.New(sha256.New, []byte(demoMagentoTrigger))
	mac.Write(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/magento/"+demoMagento, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(magentoadapter.HeaderSignature, hex.EncodeToString(mac.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	fmt.Fprintf(out, "   order 000000501 (a configurable hoodie and an e-book) placed; the store's event -> %d, the hub fetches it now\n", resp.StatusCode)
	ref := store.OrderRef{Channel: "magento", Partner: demoMagento, ExternalID: strconv.Itoa(demoMagentoOrder)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		oid, ok, err := h.Store.LookupOrderID(ctx, h.Store.ReadDB(), ref)
		if err != nil {
			return nil, err
		}
		if ok {
			return &demoOrder{channel: "magento", number: "000000501", orderID: oid, start: start, confirm: true}, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the Magento order 000000501 was not released within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// report prints the shipment Magento got; false unless exactly one.
func (d *demoMagentoStore) report(out io.Writer) bool {
	s := d.sim.Shipments(demoMagentoOrder)
	if len(s) != 1 {
		fmt.Fprintf(out, "   000000501: %d shipments in Magento, want 1\n", len(s))
		return false
	}
	fmt.Fprintf(out, "   000000501: shipped in Magento (shipment %d, item 10 × %v, tracking %s); the e-book needs no shipping\n", s[0].ID, s[0].Items[10], strings.Join(s[0].Tracks, ", "))
	return true
}
