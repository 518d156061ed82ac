package labels_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/hubtest"
	"github.com/paklog/integration-hub/internal/labels"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/internal/store/storetest"
	"github.com/paklog/integration-hub/router"
)

// fakeCarrier is a carrier account whose next answers a test scripts: it sells labels
// into its own ledger, so a test can count what was bought and voided.
type fakeCarrier struct {
	name string

	mu     sync.Mutex
	script []func(r carriers.ShipRequest) error // consumed one per Ship call; nil entry = sell
	always error                                // returned when the script is empty, if set
	ships  int
	sold   map[string]*sold // by tracking number
	seq    int
}

type sold struct {
	ref    string
	voided bool
}

func newFake(name string) *fakeCarrier { return &fakeCarrier{name: name, sold: map[string]*sold{}} }

func (f *fakeCarrier) Carrier() string             { return f.name }
func (f *fakeCarrier) Token(context.Context) error { return nil }

func (f *fakeCarrier) Ship(_ context.Context, r carriers.ShipRequest) (*carriers.Label, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ships++
	var step func(carriers.ShipRequest) error
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	if f.name == carriers.USPS && step == nil { // honours the idempotency key
		for trk, s := range f.sold {
			if s.ref == r.Reference {
				return &carriers.Label{Carrier: f.name, TrackingNumber: trk, Format: r.Format, Data: []byte("%PDF-1.4 " + trk)}, nil
			}
		}
	}
	if step == nil && f.always != nil {
		return nil, f.always
	}
	if step != nil {
		if err := step(r); err != nil {
			return nil, err
		}
	}
	return f.sell(r), nil
}

func (f *fakeCarrier) sell(r carriers.ShipRequest) *carriers.Label {
	f.seq++
	trk := fmt.Sprintf("%s%010d", strings.ToUpper(f.name[:1]), f.seq)
	f.sold[trk] = &sold{ref: r.Reference}
	return &carriers.Label{Carrier: f.name, Service: r.Service, TrackingNumber: trk, Format: r.Format,
		Data: []byte("%PDF-1.4 " + trk), Cost: canonical.Money{Amount: "9.50", Currency: "USD"}}
}

// timeoutAfterCreate sells the label, then loses the answer.
func (f *fakeCarrier) timeoutAfterCreate(r carriers.ShipRequest) error {
	f.sell(r)
	return &carriers.Error{Carrier: f.name, Op: carriers.OpShip, Class: carriers.Ambiguous, Err: context.DeadlineExceeded}
}

func (f *fakeCarrier) Void(_ context.Context, r carriers.VoidRequest) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sold[r.TrackingNumber]
	if !ok {
		return &carriers.Error{Carrier: f.name, Op: carriers.OpVoid, Class: carriers.Permanent, Message: "no such label"}
	}
	s.voided = true
	return nil
}

func (f *fakeCarrier) Lookup(_ context.Context, r carriers.LookupRequest) ([]carriers.Found, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.name == carriers.USPS {
		return nil, carriers.ErrNoLookup
	}
	var out []carriers.Found
	for trk, s := range f.sold {
		if s.ref == r.Reference && !s.voided {
			out = append(out, carriers.Found{TrackingNumber: trk})
		}
	}
	return out, nil
}

func (f *fakeCarrier) active() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.sold {
		if !s.voided {
			n++
		}
	}
	return n
}

func (f *fakeCarrier) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ships
}

type hub struct {
	st  *store.Store
	svc *labels.Service
}

func startHub(t *testing.T, st *store.Store, cfg labels.Config) hub {
	t.Helper()
	var svc *labels.Service
	r := hubtest.StartRouter(t, st, func(r *router.Router) error {
		var err error
		svc, err = labels.New(cfg, st, r, labels.ConsoleReplayer(dlq.NewConsole(st, router.Topics{})),
			slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err != nil {
			return err
		}
		return svc.Register(r)
	})
	_ = r
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return hub{st: st, svc: svc}
}

func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func shipment(id string, packages int) canonical.Shipment {
	s := canonical.Shipment{ShipmentID: id, OrderID: canonical.NewOrderID(), ServiceLevel: canonical.ServiceGround, LabelFormat: canonical.LabelPDF,
		ShipFrom: canonical.Address{Name: "DC1", Address1: "1200 Logistics Pkwy", City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US"},
		ShipTo:   canonical.Address{Name: "Ann Buyer", Address1: "1 Main St", City: "Austin", Region: "TX", PostalCode: "78701", Country: "US"}}
	for i := range packages {
		s.Packages = append(s.Packages, canonical.Package{PackageID: fmt.Sprintf("P%d", i+1), Weight: canonical.Weight{Value: 2, Unit: canonical.Pound}})
	}
	return s
}

func (h hub) pack(t *testing.T, s canonical.Shipment) {
	t.Helper()
	body, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(watermill.NewUUID(), body)
	msg.Metadata.Set(router.MetaIdempotencyKey, "packed:"+s.ShipmentID)
	msg.Metadata.Set(router.MetaOrderID, s.OrderID)
	if err := h.st.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := h.st.Publisher(tx)
		if err != nil {
			return err
		}
		return pub.Publish(router.TopicFulfilmentShipments, msg)
	}); err != nil {
		t.Fatal(err)
	}
}

// cancel publishes the order's cancellation to fulfilment.cancellations.
func (h hub) cancel(t *testing.T, orderID string) {
	t.Helper()
	c := canonical.OrderCancel{OrderID: orderID, Reason: "customer",
		Source: canonical.Source{Channel: canonical.ChannelAPI, Partner: "acme", ExternalID: orderID, ReceivedAt: time.Now().UTC()}}
	body, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(watermill.NewUUID(), body)
	if err := h.st.InTx(context.Background(), func(tx *sql.Tx) error {
		pub, err := h.st.Publisher(tx)
		if err != nil {
			return err
		}
		return pub.Publish(router.TopicFulfilmentCancellation, msg)
	}); err != nil {
		t.Fatal(err)
	}
}

func (h hub) shipmentState(t *testing.T, id string) string {
	t.Helper()
	var s string
	err := h.st.ReadDB().QueryRow(h.st.Rebind(`SELECT state FROM label_shipments WHERE shipment_id = ?`), id).Scan(&s)
	if err != nil && err != sql.ErrNoRows {
		t.Fatal(err)
	}
	return s
}

func (h hub) await(t *testing.T, id, state string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if h.shipmentState(t, id) == state {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("shipment %s is %q, want %q; DLQ: %q", id, h.shipmentState(t, id), state, h.dlq())
}

// dlq lists the DLQ's entries, for failure messages.
func (h hub) dlq() []string {
	var reasons []string
	rows, err := h.st.ReadDB().Query(`SELECT handler || ': ' || error_class || ': ' || reason FROM dlq_entries`)
	if err == nil {
		for rows.Next() {
			var r string
			_ = rows.Scan(&r)
			reasons = append(reasons, r)
		}
		rows.Close()
	}
	return reasons
}

func (h hub) labelsCreated(t *testing.T) []canonical.Label {
	t.Helper()
	rows, err := h.st.ReadDB().Query(`SELECT payload FROM ` + h.st.MessagesTable(router.TopicLabelsCreated))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []canonical.Label
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		l, err := canonical.DecodeLabel(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

func config(rules []labels.Rule, accounts ...*fakeCarrier) labels.Config {
	cfg := labels.Config{Rules: rules, Workers: 2, Poll: 20 * time.Millisecond, ReconcileAfter: 100 * time.Millisecond,
		DeferredBackoff: 50 * time.Millisecond,
		Retry:           labels.RetryConfig{Attempts: 3, Initial: time.Millisecond, Max: 5 * time.Millisecond, Budget: time.Second},
		Breaker:         labels.BreakerConfig{MinRequests: 2, FailureRatio: 0.5, OpenFor: 300 * time.Millisecond}}
	for _, a := range accounts {
		cfg.Accounts = append(cfg.Accounts, labels.Account{Name: a.name + "-main", Client: a})
	}
	return cfg
}

func rule(use ...string) []labels.Rule {
	r := labels.Rule{Name: "ground"}
	for _, u := range use {
		acct, svc, _ := strings.Cut(u, ":")
		r.Use = append(r.Use, labels.Choice{Account: acct, Service: svc})
	}
	return []labels.Rule{r}
}

// A packed shipment gets one label per package, published once with the labelled
// stage; the label files are served; redelivering the shipment buys nothing more.
func TestLabelsOncePerPackage(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups := newFake(carriers.UPS)
		h := startHub(t, st, config(rule("ups-main:03"), ups))
		s := shipment("S1", 2)
		h.pack(t, s)
		h.await(t, "S1", labels.ShipmentLabelled)
		h.pack(t, s) // redelivered by the core
		time.Sleep(200 * time.Millisecond)
		if got := ups.calls(); got != 2 {
			t.Errorf("carrier called %d times, want 2 (one per package)", got)
		}
		var md string
		if err := st.ReadDB().QueryRow(`SELECT metadata FROM ` + st.MessagesTable(router.TopicLabelsCreated)).Scan(&md); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md, `"label_rule":"ground"`) || !strings.Contains(md, `"label_account":"ups-main"`) {
			t.Errorf("labels.created metadata %s lacks the rule and account", md)
		}
		ls := h.labelsCreated(t)
		if len(ls) != 1 || len(ls[0].Packages) != 2 || ls[0].Carrier != carriers.UPS || ls[0].Cost.Amount != "19.00" {
			t.Fatalf("labels.created = %+v, want one label for UPS with 2 packages costing 19.00", ls)
		}
		format, data, err := h.svc.LabelFile(context.Background(), strings.TrimPrefix(ls[0].Packages[1].LabelRef, "/api/v1/labels/"))
		if err != nil || format != canonical.LabelPDF || !strings.Contains(string(data), ls[0].Packages[1].TrackingNumber) {
			t.Fatalf("label file = %s %q, %v", format, data, err)
		}
		trail, err := st.Trail(context.Background(), s.OrderID)
		if err != nil || !store.HasStages(trail, store.StageLabelled) {
			t.Fatalf("trail %+v lacks labelled (%v)", trail, err)
		}
	})
}

// A carrier that keeps failing opens its breaker; shipments go to the next carrier;
// a 4xx never trips a breaker and is never retried or failed over.
func TestFallbackAndPermanent(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups, fedex := newFake(carriers.UPS), newFake(carriers.FedEx)
		ups.always = &carriers.Error{Carrier: "ups", Op: carriers.OpShip, Status: 503, Class: carriers.Transient}
		cfg := config(rule("ups-main:03", "fedex-main:FEDEX_GROUND"), ups, fedex)
		cfg.Breaker.OpenFor = time.Minute
		h := startHub(t, st, cfg)
		for i := range 4 {
			h.pack(t, shipment(fmt.Sprintf("F%d", i), 1))
		}
		for i := range 4 {
			h.await(t, fmt.Sprintf("F%d", i), labels.ShipmentLabelled)
		}
		if fedex.active() != 4 || ups.active() != 0 {
			t.Fatalf("fedex sold %d, ups %d; want 4 and 0", fedex.active(), ups.active())
		}
		if st := h.svc.BreakerState("ups-main", carriers.OpShip).String(); st != "open" {
			t.Fatalf("ups breaker %s, want open", st)
		}
		upsCalls := ups.calls()
		if upsCalls > 2*3 { // min requests 2, three attempts each
			t.Errorf("ups called %d times; an open breaker should have stopped the calls", upsCalls)
		}

	})
}

// A validation error is parked at once: no retry, no fallback, and the breaker
// stays closed however many there are.
func TestPermanentErrorParksWithoutFallback(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		fedex, ups := newFake(carriers.FedEx), newFake(carriers.UPS)
		fedex.always = &carriers.Error{Carrier: "fedex", Op: carriers.OpShip, Status: 400, Code: "RECIPIENTS.ADDRESS.REQUIRED", Class: carriers.Permanent}
		h := startHub(t, st, config(rule("fedex-main:FEDEX_GROUND", "ups-main:03"), fedex, ups))
		for i := range 3 {
			h.pack(t, shipment(fmt.Sprintf("BAD%d", i), 1))
		}
		for i := range 3 {
			h.await(t, fmt.Sprintf("BAD%d", i), labels.ShipmentParked)
		}
		if got := fedex.calls(); got != 3 {
			t.Errorf("three 400s were sent %d times, want 3", got)
		}
		if ups.calls() != 0 {
			t.Errorf("a validation error was failed over to UPS")
		}
		if st := h.svc.BreakerState("fedex-main", carriers.OpShip).String(); st != "closed" {
			t.Errorf("fedex breaker %s after validation errors, want closed", st)
		}
		eventually(t, func() bool {
			return storetest.Count(t, st, `SELECT COUNT(*) FROM dlq_entries WHERE error_class = 'permanent' AND reason LIKE '%RECIPIENTS.ADDRESS.REQUIRED%'`) == 3
		}, "three permanent DLQ entries naming the carrier's code")
	})
}

// A UPS call that times out after UPS created the label is neither retried nor failed
// over: the shipment is parked as ambiguous, the reconciler finds the orphan by its
// reference, voids it, and buys exactly one label. USPS resends with the same key.
func TestTimeoutAfterCreateNeverKeepsTwoLabels(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups, fedex, usps := newFake(carriers.UPS), newFake(carriers.FedEx), newFake(carriers.USPS)
		ups.script = []func(carriers.ShipRequest) error{ups.timeoutAfterCreate}
		usps.script = []func(carriers.ShipRequest) error{usps.timeoutAfterCreate}
		cfg := config(append(rule("ups-main:03", "fedex-main:FEDEX_GROUND"),
			labels.Rule{Name: "usps", Use: []labels.Choice{{Account: "usps-main", Service: "USPS_GROUND_ADVANTAGE"}}}), ups, fedex, usps)
		cfg.Rules[0].ServiceLevels = []canonical.ServiceLevel{canonical.ServiceGround}
		h := startHub(t, st, cfg)
		h.pack(t, shipment("AMB", 1))
		eco := shipment("USPS1", 1)
		eco.ServiceLevel = canonical.ServiceEconomy
		h.pack(t, eco)
		h.await(t, "USPS1", labels.ShipmentLabelled)
		h.await(t, "AMB", labels.ShipmentLabelled)
		if fedex.calls() != 0 {
			t.Errorf("an ambiguous UPS failure was failed over to FedEx")
		}
		if ups.active() != 1 || ups.calls() != 2 {
			t.Errorf("UPS: %d active labels after %d calls; want 1 active after 2 (the orphan voided)", ups.active(), ups.calls())
		}
		if usps.active() != 1 {
			t.Errorf("USPS: %d labels, want 1 (the resend carried the same idempotency key)", usps.active())
		}
		if n := storetest.Count(t, st, `SELECT COUNT(*) FROM label_requests WHERE state = 'orphan_voided'`); n != 1 {
			t.Errorf("%d orphan_voided requests, want 1", n)
		}
		eventually(t, func() bool {
			return storetest.Count(t, st, `SELECT COUNT(*) FROM dlq_entries WHERE error_class = 'ambiguous' AND status = 'replayed'`) == 1
		}, "the ambiguous DLQ entry replayed by the reconciler")
	})
}

// With every carrier's breaker open the shipment is deferred to the DLQ, and replayed
// by itself once a breaker closes again.
func TestDeferredReplayWhenBreakerCloses(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups := newFake(carriers.UPS)
		down := &carriers.Error{Carrier: "ups", Op: carriers.OpShip, Class: carriers.Transient, Err: fmt.Errorf("connection refused")}
		ups.mu.Lock()
		ups.always = down
		ups.mu.Unlock()
		h := startHub(t, st, config(rule("ups-main:03"), ups))
		h.pack(t, shipment("D1", 1))
		h.await(t, "D1", labels.ShipmentParked)
		h.pack(t, shipment("D2", 1))
		h.await(t, "D2", labels.ShipmentParked)
		eventually(t, func() bool {
			return storetest.Count(t, st, `SELECT COUNT(*) FROM dlq_entries WHERE error_class = 'deferred'`) == 2
		}, "two deferred DLQ entries")
		ups.mu.Lock()
		ups.always = nil // the carrier is back
		ups.mu.Unlock()
		h.await(t, "D1", labels.ShipmentLabelled)
		h.await(t, "D2", labels.ShipmentLabelled)
		if ups.active() != 2 {
			t.Errorf("%d labels, want 2", ups.active())
		}
	})
}

// Cancelling a labelled order voids its labels at the carrier.
func TestCancelVoidsLabels(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups := newFake(carriers.UPS)
		h := startHub(t, st, config(rule("ups-main:03"), ups))
		s := shipment("C1", 2)
		h.pack(t, s)
		h.await(t, "C1", labels.ShipmentLabelled)
		h.cancel(t, s.OrderID)
		deadline := time.Now().Add(10 * time.Second)
		for ups.active() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if ups.active() != 0 {
			t.Fatalf("%d labels still active after the cancel; DLQ %q", ups.active(), h.dlq())
		}
		eventually(t, func() bool {
			return storetest.Count(t, st, `SELECT COUNT(*) FROM label_requests WHERE state = 'voided'`) == 2
		}, "both label requests recorded as voided")
	})
}

// A USPS call that timed out after the label was made, then met 503s on every resend:
// the request stays unknown (never failed, never a new key), and the later resend with
// the same key gets the one label.
func TestAmbiguousThenUnavailableStaysUnknown(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		usps := newFake(carriers.USPS)
		down := func(carriers.ShipRequest) error {
			return &carriers.Error{Carrier: "usps", Op: carriers.OpShip, Status: 503, Class: carriers.Transient}
		}
		usps.script = []func(carriers.ShipRequest) error{usps.timeoutAfterCreate, down, down, down}
		h := startHub(t, st, config(rule("usps-main:USPS_GROUND_ADVANTAGE"), usps))
		h.pack(t, shipment("U1", 1))
		h.await(t, "U1", labels.ShipmentLabelled)
		if usps.active() != 1 {
			t.Errorf("%d USPS labels, want 1", usps.active())
		}
		if n := storetest.Count(t, st, `SELECT COUNT(*) FROM label_requests`); n != 1 {
			t.Errorf("%d label requests, want 1: the resend must reuse the unknown request's key", n)
		}
	})
}

// A cancel that arrives before the order's shipment (they travel on different
// topics) keeps the shipment from being labelled at all.
func TestCancelBeforeShipmentBuysNothing(t *testing.T) {
	storetest.Dialects(t, func(t *testing.T, st *store.Store) {
		ups := newFake(carriers.UPS)
		h := startHub(t, st, config(rule("ups-main:03"), ups))
		s := shipment("CB1", 1)
		h.cancel(t, s.OrderID)
		eventually(t, func() bool {
			return storetest.Count(t, st, `SELECT COUNT(*) FROM label_cancelled_orders`) == 1
		}, "the cancellation recorded")
		h.pack(t, s)
		h.await(t, "CB1", labels.ShipmentCancelled)
		time.Sleep(100 * time.Millisecond)
		if ups.calls() != 0 {
			t.Errorf("%d carrier calls for a cancelled order's shipment", ups.calls())
		}
	})
}
