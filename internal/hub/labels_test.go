package hub_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	"github.com/paklog/integration-hub/fixtures/carriersim/simset"
	"github.com/paklog/integration-hub/internal/carrierspec"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/hub"
	"github.com/paklog/integration-hub/internal/labels"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

var dlqOpen = dlq.Filter{Status: dlq.StatusOpen}

// carrierHub is a hub with the three simulated carriers, every request and response
// validated against the carriers' published API documents.
type carrierHub struct {
	*hub.Hub
	sims       *simset.Set
	validators map[string]*carrierspec.Validator
	// undocumented are answers a test provokes on purpose that the carrier's spec
	// does not describe (an injected 503 where UPS documents none): violations
	// containing one of these are expected.
	undocumented []string
}

func startCarrierHub(t *testing.T, adjust func(*config.Config), tune func(*labels.Config)) *carrierHub {
	t.Helper()
	ch := &carrierHub{validators: map[string]*carrierspec.Validator{}}
	specs := map[string][]carrierspec.Spec{
		"ups":   {carrierspec.UPSOAuth, carrierspec.UPSShipping},
		"fedex": {carrierspec.FedExAuth, carrierspec.FedExShip},
		"usps":  {carrierspec.USPSLabels, carrierspec.USPSPayments},
	}
	// Endpoints no published document in the tree describes.
	unspecified := map[string][]string{"fedex": {"/track/v1/referencenumbers"}, "usps": {"/oauth2/v3/token"}}
	var mu sync.Mutex
	sims, err := simset.Start(func(carrier string, h http.Handler) http.Handler {
		v, err := carrierspec.New(specs[carrier]...)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		ch.validators[carrier] = v
		mu.Unlock()
		return v.Handler(h, unspecified[carrier]...)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sims.Close)
	ch.sims = sims
	cfg := config.Default()
	cfg.Store.SQLite.Path = filepath.Join(t.TempDir(), "paklog.db")
	cfg.Store.SQLite.Synchronous = config.SyncNormal
	cfg.HTTP.Addr = "127.0.0.1:0"
	cfg.Router.PollInterval = config.Duration(10 * time.Millisecond)
	cfg.Carriers.Accounts = sims.Accounts()
	cfg.Carriers.Rules = simset.Rules()
	for i := range cfg.Carriers.Accounts {
		cfg.Carriers.Accounts[i].Timeout = config.Duration(2 * time.Second)
	}
	if adjust != nil {
		adjust(&cfg)
	}
	h, err := hub.New(context.Background(), cfg, nil, hub.Options{Labels: func(c *labels.Config) {
		c.Poll = 10 * time.Millisecond
		c.ReconcileAfter = 50 * time.Millisecond
		c.DeferredBackoff = 50 * time.Millisecond
		c.Retry = labels.RetryConfig{Attempts: 3, Initial: 5 * time.Millisecond, Max: 20 * time.Millisecond, Budget: 2 * time.Second}
		if tune != nil {
			tune(c)
		}
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
		for carrier, v := range ch.validators {
			for _, viol := range v.Violations() {
				if !slices.ContainsFunc(ch.undocumented, func(u string) bool { return strings.Contains(viol, u) }) {
					t.Errorf("%s spec violation: %s", carrier, viol)
				}
			}
		}
	})
	ch.Hub = h
	return ch
}

func (h *carrierHub) pack(t testing.TB, s canonical.Shipment) {
	t.Helper()
	if err := h.publish(s); err != nil {
		t.Fatal(err)
	}
}

// publish puts a packed shipment on fulfilment.shipments, as the core would.
func (h *carrierHub) publish(s canonical.Shipment) error {
	body, err := s.MarshalJSON()
	if err != nil {
		return err
	}
	msg := message.NewMessage(watermill.NewUUID(), body)
	msg.Metadata.Set(router.MetaIdempotencyKey, "packed:"+s.ShipmentID)
	msg.Metadata.Set(router.MetaOrderID, s.OrderID)
	return h.Store.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := h.Store.Publisher(tx)
		if err != nil {
			return err
		}
		return pub.Publish(router.TopicFulfilmentShipments, msg)
	})
}

func (h *carrierHub) states(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	rows, err := h.Store.ReadDB().Query(`SELECT state, COUNT(*) FROM label_shipments GROUP BY state`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			t.Fatal(err)
		}
		out[s] = n
	}
	return out
}

func (h *carrierHub) awaitLabelled(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if h.states(t)[labels.ShipmentLabelled] == n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	entries, _ := h.DLQ.List(context.Background(), dlqOpen)
	var reasons []string
	for _, e := range entries {
		reasons = append(reasons, e.ErrorClass+": "+e.Reason)
	}
	t.Fatalf("shipment states %v, want %d labelled; DLQ %q", h.states(t), n, reasons)
}

func usShipment(id string, level canonical.ServiceLevel, format canonical.LabelFormat) canonical.Shipment {
	return canonical.Shipment{ShipmentID: id, OrderID: canonical.NewOrderID(), ServiceLevel: level, LabelFormat: format,
		ShipFrom: canonical.Address{Name: "PakLog DC1", Company: "PakLog", Address1: "1200 Logistics Pkwy", City: "Columbus",
			Region: "OH", PostalCode: "43217", Country: "US", Phone: "6145550100"},
		ShipTo: canonical.Address{Name: "Ann Buyer", Address1: "500 Commerce St", City: "Nashville", Region: "TN",
			PostalCode: "37203", Country: "US", Phone: "6155550100"},
		Packages: []canonical.Package{{PackageID: id + "-1", Weight: canonical.Weight{Value: 2.5, Unit: canonical.Pound},
			Dimensions: canonical.Dimensions{Length: 12, Width: 9, Height: 6, Unit: canonical.Inch}}},
	}
}

// activeTotal is how many labels the three carriers have sold and not voided.
func (h *carrierHub) activeTotal() int {
	return h.sims.UPS.Ledger.Active() + h.sims.FedEx.Ledger.Active() + h.sims.USPS.Ledger.Active()
}

// onPostgres moves a carrier hub's store to a fresh PostgreSQL schema.
func onPostgres(t *testing.T) func(*config.Config) {
	return func(c *config.Config) {
		sc := storetest.PostgresConfig(t)
		c.Store.Driver = config.DriverPostgres
		c.Store.Postgres.DSN = config.NewSecret(sc.PostgresDSN)
	}
}

// Every service level reaches its carrier through the real clients; each label is
// served by the API; every request and response was valid per the carrier's spec.
func TestLabelsFromEveryCarrier(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { labelsFromEveryCarrier(t, nil) })
	t.Run("postgres", func(t *testing.T) { labelsFromEveryCarrier(t, onPostgres(t)) })
}

func labelsFromEveryCarrier(t *testing.T, adjust func(*config.Config)) {
	h := startCarrierHub(t, adjust, nil)
	h.pack(t, usShipment("G1", canonical.ServiceGround, canonical.LabelZPL))
	h.pack(t, usShipment("E1", canonical.ServiceEconomy, canonical.LabelPDF))
	h.pack(t, usShipment("X1", canonical.ServiceTwoDay, canonical.LabelPNG))
	h.awaitLabelled(t, 3, 20*time.Second)
	for acct, want := range map[string]int{simset.UPS: 1, simset.USPS: 1, simset.FedEx: 1} {
		if got := h.sims.Ledger(acct).Active(); got != want {
			t.Errorf("%s sold %d labels, want %d", acct, got, want)
		}
	}
	rows, err := h.Store.ReadDB().Query(`SELECT id, label_format FROM label_requests WHERE state = 'created'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, format string
		if err := rows.Scan(&id, &format); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get("http://" + h.Server.Addr() + "/api/v1/labels/" + id)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := map[string]string{"PDF": "application/pdf", "PNG": "image/png", "ZPL": "application/x-zpl"}[format]
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want || resp.ContentLength <= 0 {
			t.Errorf("GET label %s (%s): %d %s, %d bytes", id, format, resp.StatusCode, resp.Header.Get("Content-Type"), resp.ContentLength)
		}
	}
	for carrier, v := range h.validators {
		if v.Checked() == 0 {
			t.Errorf("no %s request was validated", carrier)
		}
	}
}

// UPS goes down: its breaker opens, FedEx labels the next shipments; with every
// ground carrier down the shipment is deferred; when UPS returns the breaker
// half-opens, closes, and the deferred shipment is labelled by itself.
func TestCarrierDownFallbackAndRecovery(t *testing.T) {
	h := startCarrierHub(t, func(c *config.Config) {
		c.Carriers.Rules = []config.CarrierRule{{Name: "ground", Use: []string{simset.UPS + ":03", simset.FedEx + ":FEDEX_GROUND"}}}
	}, func(c *labels.Config) {
		c.Breaker = labels.BreakerConfig{MinRequests: 3, FailureRatio: 0.5, OpenFor: 500 * time.Millisecond}
		c.Workers = 1
	})
	h.sims.Servers[simset.UPS].Down()
	for i := range 6 {
		h.pack(t, usShipment(fmt.Sprintf("S%d", i), canonical.ServiceGround, canonical.LabelZPL))
	}
	h.awaitLabelled(t, 6, 20*time.Second)
	if got := h.sims.FedEx.Ledger.Active(); got != 6 {
		t.Fatalf("FedEx sold %d labels while UPS was down, want 6", got)
	}
	// Refused connections fail the token fetch first: UPS's token breaker opens.
	if st := h.Labels.BreakerState(simset.UPS, carriers.OpToken); st.String() == "closed" {
		t.Fatalf("UPS token breaker %s after UPS went down", st)
	}

	h.sims.FedEx.Faults.Inject(carriersim.Fault{Kind: carriersim.Unavailable, Op: "ship"})
	h.pack(t, usShipment("DEFER", canonical.ServiceGround, canonical.LabelZPL))
	deadline := time.Now().Add(10 * time.Second)
	for h.states(t)[labels.ShipmentParked] != 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if h.states(t)[labels.ShipmentParked] != 1 {
		t.Fatalf("with both carriers down the shipment is %v, want parked", h.states(t))
	}

	if err := h.sims.Servers[simset.UPS].Up(); err != nil {
		t.Fatal(err)
	}
	h.awaitLabelled(t, 7, 20*time.Second)
	if got := h.sims.UPS.Ledger.Active(); got != 1 {
		t.Errorf("UPS sold %d labels after it came back, want 1 (the deferred shipment)", got)
	}
	for _, op := range []carriers.Op{carriers.OpToken, carriers.OpShip} {
		if st := h.Labels.BreakerState(simset.UPS, op); st.String() != "closed" {
			t.Errorf("UPS %s breaker %s after its probe succeeded, want closed", op, st)
		}
	}
	entries, err := h.DLQ.List(context.Background(), dlqOpen)
	if err != nil || len(entries) != 0 {
		t.Errorf("%d open DLQ entries after the replay (%v), want 0", len(entries), err)
	}
}

// 100 timeouts after the carrier created the label, spread over the three carriers:
// no package keeps two labels. USPS is resent with the same idempotency key; the UPS
// and FedEx orphans are found by reference and voided before one label is bought.
func TestTimeoutsAfterCreateKeepNoDuplicateLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("100 client timeouts take a few seconds")
	}
	t.Run("sqlite", func(t *testing.T) { timeoutsAfterCreate(t, nil) })
	t.Run("postgres", func(t *testing.T) { timeoutsAfterCreate(t, onPostgres(t)) })
}

func timeoutsAfterCreate(t *testing.T, store func(*config.Config)) {
	h := startCarrierHub(t, func(c *config.Config) {
		if store != nil {
			store(c)
		}
		for i := range c.Carriers.Accounts {
			c.Carriers.Accounts[i].Timeout = config.Duration(250 * time.Millisecond)
		}
	}, func(c *labels.Config) {
		c.Workers = 8
		// This test is about duplicates: keep the breakers out of it (timeouts count
		// as failures and would open them).
		c.Breaker.MinRequests = 1000
	})
	const n = 102
	for _, acct := range []string{simset.UPS, simset.FedEx, simset.USPS} {
		h.sims.Faults(acct).Inject(carriersim.Fault{Kind: carriersim.TimeoutAfterCreate, Op: "ship", Count: n / 3, Latency: 2 * time.Second})
	}
	levels := []canonical.ServiceLevel{canonical.ServiceGround, canonical.ServiceTwoDay, canonical.ServiceEconomy}
	for i := range n {
		h.pack(t, usShipment(fmt.Sprintf("T%03d", i), levels[i%3], canonical.LabelZPL))
	}
	h.awaitLabelled(t, n, 90*time.Second)
	played := 0
	for _, acct := range []string{simset.UPS, simset.FedEx, simset.USPS} {
		played += h.sims.Faults(acct).Played(carriersim.TimeoutAfterCreate)
	}
	if played != n {
		t.Errorf("%d timeouts after create were played, want %d", played, n)
	}
	if got := h.activeTotal(); got != n {
		t.Errorf("%d labels kept for %d packages", got, n)
	}
	// Every label the hub holds is one the carrier still has active, once.
	rows, err := h.Store.ReadDB().Query(`SELECT account, tracking_number FROM label_requests WHERE state = 'created'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var acct, trk string
		if err := rows.Scan(&acct, &trk); err != nil {
			t.Fatal(err)
		}
		l, ok := h.sims.Ledger(acct).Get(trk)
		if !ok || l.Voided || seen[trk] {
			t.Errorf("%s label %s: at the carrier %v, voided %v, seen twice %v", acct, trk, ok, l.Voided, seen[trk])
		}
		seen[trk] = true
	}
	var orphans int
	_ = h.Store.ReadDB().QueryRow(`SELECT COUNT(*) FROM label_requests WHERE state = 'orphan_voided'`).Scan(&orphans)
	if want := 2 * n / 3; orphans != want {
		t.Errorf("%d orphans voided, want %d (the UPS and FedEx timeouts)", orphans, want)
	}
	if usps := h.sims.USPS.Ledger.All(); len(usps) != n/3 {
		t.Errorf("USPS sold %d labels in all, want %d: a resend with the same key must not sell another", len(usps), n/3)
	}
}

// A label the carrier refuses (an address it cannot ship to) is parked once with the
// carrier's code: never retried, never failed over, and no breaker opens.
func TestCarrierValidationErrorParksWithoutRetry(t *testing.T) {
	h := startCarrierHub(t, nil, func(c *labels.Config) {
		c.Breaker = labels.BreakerConfig{MinRequests: 2, FailureRatio: 0.5, OpenFor: time.Minute}
	})
	for i := range 4 {
		s := usShipment(fmt.Sprintf("V%d", i), canonical.ServiceGround, canonical.LabelZPL)
		s.ShipTo.PostalCode = "90210" // a California ZIP for a Tennessee address
		h.pack(t, s)
	}
	deadline := time.Now().Add(15 * time.Second)
	for h.states(t)[labels.ShipmentParked] != 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if h.states(t)[labels.ShipmentParked] != 4 {
		t.Fatalf("states %v, want 4 parked", h.states(t))
	}
	if calls := h.sims.UPS.Calls("ship"); calls != 4 {
		t.Errorf("UPS got %d ship calls for 4 refused shipments, want 4 (no retry)", calls)
	}
	if h.sims.FedEx.Calls("ship")+h.sims.USPS.Requests("label") != 0 {
		t.Errorf("a refused shipment was failed over")
	}
	if st := h.Labels.BreakerState(simset.UPS, carriers.OpShip); st.String() != "closed" {
		t.Errorf("UPS breaker %s after validation errors, want closed", st)
	}
	var entries []dlq.Entry
	for deadline := time.Now().Add(5 * time.Second); len(entries) < 4 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		entries, _ = h.DLQ.List(context.Background(), dlqOpen)
	}
	if len(entries) != 4 {
		t.Fatalf("%d open DLQ entries, want 4", len(entries))
	}
	for _, e := range entries {
		if e.ErrorClass != "permanent" || !strings.Contains(e.Reason, "ups ship: permanent (HTTP 400)") {
			t.Errorf("DLQ entry %s: %s", e.ErrorClass, e.Reason)
		}
	}
}

// UPS's OAuth endpoint fails: the token breaker opens and FedEx labels the
// shipments; no UPS label call is made without a token.
func TestTokenOutageFallsBack(t *testing.T) {
	h := startCarrierHub(t, func(c *config.Config) {
		c.Carriers.Rules = []config.CarrierRule{{Name: "ground", Use: []string{simset.UPS + ":03", simset.FedEx + ":FEDEX_GROUND"}}}
	}, func(c *labels.Config) {
		c.Breaker = labels.BreakerConfig{MinRequests: 2, FailureRatio: 0.5, OpenFor: time.Minute}
	})
	h.sims.UPS.Faults.Inject(carriersim.Fault{Kind: carriersim.Unavailable, Op: "token"})
	h.undocumented = []string{"response 503 POST /security/v1/oauth/token: status is not supported"}
	for i := range 4 {
		h.pack(t, usShipment(fmt.Sprintf("K%d", i), canonical.ServiceGround, canonical.LabelZPL))
	}
	h.awaitLabelled(t, 4, 20*time.Second)
	if got := h.sims.FedEx.Ledger.Active(); got != 4 {
		t.Errorf("FedEx sold %d labels, want 4", got)
	}
	if calls := h.sims.UPS.Calls("ship"); calls != 0 {
		t.Errorf("UPS got %d ship calls without a token", calls)
	}
	if st := h.Labels.BreakerState(simset.UPS, carriers.OpToken); st.String() != "open" {
		t.Errorf("UPS token breaker %s, want open", st)
	}
}
