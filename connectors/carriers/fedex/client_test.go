package fedex_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/fedex"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	fedexsim "github.com/paklog/integration-hub/fixtures/carriersim/fedex"
	"github.com/paklog/integration-hub/internal/carrierspec"
)

// fixture is a client talking to the simulator through the spec validator.
type fixture struct {
	t       *testing.T
	sim     *fedexsim.Sim
	v       *carrierspec.Validator
	srv     *carriersim.Server
	cfg     fedex.Config
	client  *fedex.Client
	allowed [][2]string

	inflight              atomic.Int64
	violations0, checked0 int
}

// The spec documents take a while to load (most of a second under -race), so the
// tests share one validator and each fixture looks only at the checks made during
// its own test. The tests do not run in parallel.
var (
	specOnce sync.Once
	spec     *carrierspec.Validator
	specErr  error
)

func sharedValidator(t *testing.T) *carrierspec.Validator {
	t.Helper()
	specOnce.Do(func() { spec, specErr = carrierspec.New(carrierspec.FedExAuth, carrierspec.FedExShip) })
	if specErr != nil {
		t.Fatal(specErr)
	}
	return spec
}

// newFixture starts a simulator behind carrierspec and a client for it. At the end
// of the test it checks that requests and answers were validated and that every
// spec violation was one the test expected (see allow).
func newFixture(t *testing.T, opts fedexsim.Options, tweak func(*fedex.Config)) *fixture {
	t.Helper()
	v := sharedValidator(t)
	f := &fixture{t: t, sim: fedexsim.New(opts), v: v, violations0: len(v.Violations()), checked0: v.Checked()}
	// Track by References has no spec file: it passes unchecked.
	checked := v.Handler(f.sim.Handler(), fedexsim.PathTrackByReferences)
	srv, err := carriersim.Start(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.inflight.Add(1)
		defer f.inflight.Add(-1)
		checked.ServeHTTP(w, r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	f.srv = srv
	t.Cleanup(func() {
		srv.Close()
		for deadline := time.Now().Add(3 * time.Second); f.inflight.Load() > 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		f.checkSpec()
	})
	f.cfg = fedex.Config{
		BaseURL:       srv.URL,
		ClientID:      fedexsim.DefaultClientID,
		ClientSecret:  fedexsim.DefaultClientSecret,
		AccountNumber: fedexsim.DefaultAccountNumber,
		Timeout:       2 * time.Second,
	}
	if tweak != nil {
		tweak(&f.cfg)
	}
	f.client, err = fedex.New(f.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// allow expects a spec violation naming what (e.g. "response 429 POST
// /ship/v1/shipments") for the reason given: FedEx answers the simulator plays
// that the spec files do not document.
func (f *fixture) allow(what, reason string) { f.allowed = append(f.allowed, [2]string{what, reason}) }

func (f *fixture) checkSpec() {
	f.t.Helper()
	if f.v.Checked()-f.checked0 == 0 {
		f.t.Error("no request or answer was validated against the spec")
	}
	seen := make([]bool, len(f.allowed))
	for _, viol := range f.v.Violations()[f.violations0:] {
		ok := false
		for i, a := range f.allowed {
			if strings.Contains(viol, a[0]) && strings.Contains(viol, a[1]) {
				ok, seen[i] = true, true
			}
		}
		if !ok {
			f.t.Errorf("spec violation: %s", viol)
		}
	}
	for i, a := range f.allowed {
		if !seen[i] {
			f.t.Errorf("expected the spec violation %q (%s), got none", a[0], a[1])
		}
	}
}

func newRequestID(t testing.TB) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

var (
	warehouse = canonical.Address{Name: "PakLog Fulfilment DC1", Company: "PakLog", Address1: "1200 Logistics Pkwy",
		City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US", Phone: "+1 614 555 0100"}
	customer = canonical.Address{Name: "Ada Lovelace", Address1: "500 W 2nd St", Address2: "Apt 4",
		City: "Austin", Region: "TX", PostalCode: "78701", Country: "US", Phone: "(512) 555-0199", Email: "ada@example.com"}
)

func shipReq(t testing.TB, format canonical.LabelFormat) carriers.ShipRequest {
	id := newRequestID(t)
	return carriers.ShipRequest{
		RequestID: id, Reference: id[:35], Service: fedex.ServiceGround, Format: format,
		From: warehouse, To: customer,
		Weight:     canonical.Weight{Value: 2.5, Unit: canonical.Pound},
		Dimensions: canonical.Dimensions{Length: 12, Width: 9, Height: 4, Unit: canonical.Inch},
	}
}

// carrierError asserts err is a *carriers.Error of a class.
func carrierError(t *testing.T, err error, class carriers.Class) *carriers.Error {
	t.Helper()
	var ce *carriers.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *carriers.Error", err, err)
	}
	if ce.Class != class {
		t.Fatalf("class %q, want %q: %v", ce.Class, class, ce)
	}
	if ce.Carrier != carriers.FedEx {
		t.Errorf("carrier %q, want fedex", ce.Carrier)
	}
	return ce
}

// sent decodes the ship request the simulator received for a tracking number.
func sent(t *testing.T, sim *fedexsim.Sim, tracking string) map[string]any {
	t.Helper()
	body, ok := sim.ShipRequest(tracking)
	if !ok {
		t.Fatalf("the simulator has no request for %s", tracking)
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// at follows a path of keys and indexes through decoded JSON.
func at(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func TestShipEachLabelFormat(t *testing.T) {
	for _, tc := range []struct {
		format         canonical.LabelFormat
		image, stock   string
		checkLabelFile func(t *testing.T, data []byte)
	}{
		{canonical.LabelPDF, "PDF", "PAPER_4X6", func(t *testing.T, data []byte) {
			if !bytes.HasPrefix(data, []byte("%PDF-1.")) || !bytes.HasSuffix(bytes.TrimSpace(data), []byte("%%EOF")) {
				t.Errorf("label is not a PDF: %.40q", data)
			}
		}},
		{canonical.LabelPNG, "PNG", "PAPER_4X6", func(t *testing.T, data []byte) {
			cfg, err := png.DecodeConfig(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("label is not a PNG: %v", err)
			}
			if cfg.Width != 200 || cfg.Height != 300 {
				t.Errorf("PNG is %dx%d, want 200x300", cfg.Width, cfg.Height)
			}
		}},
		{canonical.LabelZPL, "ZPLII", "STOCK_4X6", func(t *testing.T, data []byte) {
			s := strings.TrimSpace(string(data))
			if !strings.HasPrefix(s, "^XA") || !strings.HasSuffix(s, "^XZ") {
				t.Errorf("label is not ZPL: %.40q", s)
			}
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			f := newFixture(t, fedexsim.Options{}, nil)
			req := shipReq(t, tc.format)
			label, err := f.client.Ship(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if label.Carrier != carriers.FedEx || label.Service != fedex.ServiceGround || label.Format != tc.format {
				t.Errorf("label %s/%s/%s", label.Carrier, label.Service, label.Format)
			}
			if !fedexsim.ValidTrackingNumber(label.TrackingNumber) || label.ShipmentID != label.TrackingNumber {
				t.Errorf("tracking %q, shipment %q", label.TrackingNumber, label.ShipmentID)
			}
			// FEDEX_GROUND in the simulator: 9.50 + 0.85 per started pound (3 lb).
			if label.Cost != (canonical.Money{Amount: "12.05", Currency: "USD"}) {
				t.Errorf("cost %+v, want 12.05 USD", label.Cost)
			}
			tc.checkLabelFile(t, label.Data)

			sold, ok := f.sim.Ledger.Get(label.TrackingNumber)
			if !ok {
				t.Fatal("the simulator did not record the label")
			}
			if sold.TransactionID != req.RequestID || sold.Reference != req.Reference[:30] || sold.Format != tc.image {
				t.Errorf("ledger %+v", sold)
			}
			body := sent(t, f.sim, label.TrackingNumber)
			if got := at(body, "requestedShipment", "labelSpecification", "imageType"); got != tc.image {
				t.Errorf("imageType %v", got)
			}
			if got := at(body, "requestedShipment", "labelSpecification", "labelStockType"); got != tc.stock {
				t.Errorf("labelStockType %v", got)
			}
			if got := at(body, "labelResponseOptions"); got != "LABEL" {
				t.Errorf("labelResponseOptions %v", got)
			}
		})
	}
}

func TestShipMapsHubValuesToFedEx(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	req := shipReq(t, canonical.LabelPDF)
	req.Service = fedex.ServiceHomeDelivery
	req.Weight = canonical.Weight{Value: 1234, Unit: canonical.Gram}
	req.Dimensions = canonical.Dimensions{Length: 30.2, Width: 20, Height: 10.01, Unit: canonical.Centimetre}
	req.To.Region = "Texas"
	req.To.Country = "usa"
	req.To.Phone = "+1 (512) 555-0199"
	req.ShipDate = time.Now().AddDate(0, 0, 2)
	label, err := f.client.Ship(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	body := sent(t, f.sim, label.TrackingNumber)
	item := at(body, "requestedShipment", "requestedPackageLineItems", 0)
	for _, c := range []struct {
		name string
		got  any
		want any
	}{
		{"weight units", at(item, "weight", "units"), "KG"},
		{"weight value (1234 g rounded up to 0.1 kg)", at(item, "weight", "value"), 1.3},
		{"totalWeight", at(body, "requestedShipment", "totalWeight"), 1.3},
		{"dimension units", at(item, "dimensions", "units"), "CM"},
		{"length rounded up", at(item, "dimensions", "length"), 31.0},
		{"width", at(item, "dimensions", "width"), 20.0},
		{"height rounded up", at(item, "dimensions", "height"), 11.0},
		{"reference type", at(item, "customerReferences", 0, "customerReferenceType"), "CUSTOMER_REFERENCE"},
		{"reference cut to 30", at(item, "customerReferences", 0, "value"), req.Reference[:30]},
		{"recipient state from name", at(body, "requestedShipment", "recipients", 0, "address", "stateOrProvinceCode"), "TX"},
		{"recipient country", at(body, "requestedShipment", "recipients", 0, "address", "countryCode"), "US"},
		{"recipient residential for Home Delivery", at(body, "requestedShipment", "recipients", 0, "address", "residential"), true},
		{"recipient street lines", at(body, "requestedShipment", "recipients", 0, "address", "streetLines", 1), "Apt 4"},
		{"recipient phone digits", at(body, "requestedShipment", "recipients", 0, "contact", "phoneNumber"), "5125550199"},
		{"shipper phone digits", at(body, "requestedShipment", "shipper", "contact", "phoneNumber"), "6145550100"},
		{"ship date", at(body, "requestedShipment", "shipDatestamp"), req.ShipDate.Format(time.DateOnly)},
		{"service", at(body, "requestedShipment", "serviceType"), fedex.ServiceHomeDelivery},
		{"account", at(body, "accountNumber", "value"), fedexsim.DefaultAccountNumber},
		{"payment", at(body, "requestedShipment", "shippingChargesPayment", "paymentType"), "SENDER"},
		{"packaging", at(body, "requestedShipment", "packagingType"), "YOUR_PACKAGING"},
		{"pickup", at(body, "requestedShipment", "pickupType"), "DROPOFF_AT_FEDEX_LOCATION"},
	} {
		if c.got != c.want {
			t.Errorf("%s: sent %v (%T), want %v", c.name, c.got, c.got, c.want)
		}
	}
	if sold, _ := f.sim.Ledger.Get(label.TrackingNumber); sold.TransactionID != req.RequestID {
		t.Errorf("x-customer-transaction-id %q, want %q", sold.TransactionID, req.RequestID)
	}
}

func TestTokenFetchedOnceForConcurrentShips(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	const n = 20
	var wg sync.WaitGroup
	labels := make([]*carriers.Label, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			labels[i], errs[i] = f.client.Ship(context.Background(), shipReq(t, canonical.LabelZPL))
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("ship %d: %v", i, errs[i])
		}
		seen[labels[i].TrackingNumber] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct tracking numbers, want %d", len(seen), n)
	}
	if got := f.sim.TokensIssued(); got != 1 {
		t.Errorf("%d tokens issued for %d concurrent ships, want 1", got, n)
	}
	if got := f.sim.Calls("token"); got != 1 {
		t.Errorf("%d token requests, want 1", got)
	}
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	clk := newClock()
	f := newFixture(t, fedexsim.Options{}, func(c *fedex.Config) { c.Now = clk.Now })
	ship := func() {
		t.Helper()
		if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
			t.Fatal(err)
		}
	}
	ship()
	// expires_in is 3599 s; the cache replaces a token 5 minutes before that.
	clk.Advance(3000 * time.Second)
	ship()
	if got := f.sim.TokensIssued(); got != 1 {
		t.Fatalf("%d tokens after 3000 s, want 1", got)
	}
	clk.Advance(300 * time.Second)
	ship()
	if got := f.sim.TokensIssued(); got != 2 {
		t.Fatalf("%d tokens after 3300 s, want 2", got)
	}
}

func TestExpiredTokenRefreshedOnce(t *testing.T) {
	simClock := newClock()
	f := newFixture(t, fedexsim.Options{TokenLifetime: time.Minute, Now: simClock.Now}, nil)
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	// FedEx's clock passes the token's expiry before the client's cache thinks so.
	simClock.Advance(61 * time.Second)
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
		t.Fatalf("ship with an expired token: %v", err)
	}
	if got := f.sim.TokensIssued(); got != 2 {
		t.Errorf("%d tokens issued, want 2", got)
	}
	if got := f.sim.Calls("ship"); got != 3 {
		t.Errorf("%d ship requests, want 3 (ok, 401, ok)", got)
	}
}

func TestRevokedTokensRefreshedOnce(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	if err := f.client.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship", Count: 1})
	label, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF))
	if err != nil {
		t.Fatalf("ship after tokens were revoked: %v", err)
	}
	if label.TrackingNumber == "" || f.sim.Ledger.Active() != 1 {
		t.Errorf("label %q, %d labels sold", label.TrackingNumber, f.sim.Ledger.Active())
	}
	if got := f.sim.Faults.Played(carriersim.RevokeTokens); got != 1 {
		t.Errorf("RevokeTokens played %d times", got)
	}
	if got := f.sim.TokensIssued(); got != 2 {
		t.Errorf("%d tokens issued, want 2", got)
	}
}

func TestSecondRefusedTokenIsAuth(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	f.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship", Count: 2})
	req := shipReq(t, canonical.LabelPDF)
	_, err := f.client.Ship(context.Background(), req)
	ce := carrierError(t, err, carriers.Auth)
	if ce.Status != http.StatusUnauthorized || ce.Code != fedex.CodeNotAuthorized || ce.Op != carriers.OpShip {
		t.Errorf("error %+v", ce)
	}
	if !strings.Contains(ce.Message, "Access token expired") || ce.TransactionID != req.RequestID {
		t.Errorf("message %q, transaction %q", ce.Message, ce.TransactionID)
	}
	if got := f.sim.TokensIssued(); got != 2 {
		t.Errorf("%d tokens issued, want 2 (one refresh only)", got)
	}
	if got := f.sim.Calls("ship"); got != 2 {
		t.Errorf("%d ship requests, want 2", got)
	}
	if n := len(f.sim.Ledger.All()); n != 0 {
		t.Errorf("%d labels sold", n)
	}
}

func TestWrongCredentialsAreAuthWithoutTheSecret(t *testing.T) {
	const secret = "not-the-right-secret-d41d8cd98f"
	f := newFixture(t, fedexsim.Options{}, func(c *fedex.Config) { c.ClientSecret = secret })
	err := f.client.Token(context.Background())
	ce := carrierError(t, err, carriers.Auth)
	if ce.Op != carriers.OpToken || ce.Status != http.StatusUnauthorized || ce.Code != fedex.CodeNotAuthorized {
		t.Errorf("error %+v", ce)
	}
	_, err = f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF))
	ce = carrierError(t, err, carriers.Auth)
	if ce.Op != carriers.OpToken {
		t.Errorf("ship without a token failed in op %q, want token", ce.Op)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%+v %#v", ce, f.cfg)} {
		if strings.Contains(s, secret) {
			t.Errorf("the secret leaked: %s", s)
		}
	}
}

func TestFaults(t *testing.T) {
	const window = 10 * time.Second
	type call func(f *fixture, req carriers.ShipRequest) error
	ship := func(f *fixture, req carriers.ShipRequest) error {
		_, err := f.client.Ship(context.Background(), req)
		return err
	}
	void := func(f *fixture, req carriers.ShipRequest) error {
		return f.client.Void(context.Background(), carriers.VoidRequest{RequestID: req.RequestID, TrackingNumber: f.sim.Ledger.All()[0].TrackingNumber})
	}
	lookup := func(f *fixture, req carriers.ShipRequest) error {
		_, err := f.client.Lookup(context.Background(), carriers.LookupRequest{RequestID: req.RequestID, Reference: req.Reference})
		return err
	}
	token := func(f *fixture, _ carriers.ShipRequest) error { return f.client.Token(context.Background()) }

	for _, tc := range []struct {
		name       string
		fault      carriersim.Fault
		call       call
		timeout    time.Duration
		class      carriers.Class // "" for success
		status     int
		code       string
		retryAfter time.Duration
		allow      [2]string
	}{
		{name: "server error on ship", fault: carriersim.Fault{Kind: carriersim.ServerError, Op: "ship"}, call: ship,
			class: carriers.Transient, status: 500, code: fedex.CodeInternalError},
		{name: "server error on token", fault: carriersim.Fault{Kind: carriersim.ServerError, Op: "token"}, call: token,
			class: carriers.Transient, status: 500, code: fedex.CodeInternalError},
		{name: "unavailable on ship", fault: carriersim.Fault{Kind: carriersim.Unavailable, Op: "ship"}, call: ship,
			class: carriers.Transient, status: 503, code: fedex.CodeServiceUnavailable},
		{name: "unavailable on void", fault: carriersim.Fault{Kind: carriersim.Unavailable, Op: "void"}, call: void,
			class: carriers.Transient, status: 503, code: fedex.CodeServiceUnavailable},
		{name: "throttle on ship", fault: carriersim.Fault{Kind: carriersim.Throttle, Op: "ship"}, call: ship,
			class: carriers.Throttled, status: 429, code: fedex.CodeTooManyRequests, retryAfter: window,
			allow: [2]string{"response 429 POST /ship/v1/shipments", "status is not supported"}},
		{name: "throttle on lookup", fault: carriersim.Fault{Kind: carriersim.Throttle, Op: "lookup"}, call: lookup,
			class: carriers.Throttled, status: 429, code: fedex.CodeTooManyRequests, retryAfter: window},
		{name: "throttle on token", fault: carriersim.Fault{Kind: carriersim.Throttle, Op: "token"}, call: token,
			class: carriers.Throttled, status: 403, code: fedex.CodeForbidden, retryAfter: fedex.TokenThresholdBlock,
			allow: [2]string{"response 403 POST /oauth/token", "status is not supported"}},
		{name: "malformed on ship", fault: carriersim.Fault{Kind: carriersim.Malformed, Op: "ship"}, call: ship,
			class: carriers.Ambiguous, status: 200,
			allow: [2]string{"response 200 POST /ship/v1/shipments", "Content-Type"}},
		{name: "malformed on lookup", fault: carriersim.Fault{Kind: carriersim.Malformed, Op: "lookup"}, call: lookup,
			class: carriers.Transient, status: 200},
		{name: "drop on ship", fault: carriersim.Fault{Kind: carriersim.Drop, Op: "ship"}, call: ship,
			class: carriers.Ambiguous},
		{name: "drop on void", fault: carriersim.Fault{Kind: carriersim.Drop, Op: "void"}, call: void,
			class: carriers.Transient},
		{name: "drop on token", fault: carriersim.Fault{Kind: carriersim.Drop, Op: "token"}, call: token,
			class: carriers.Transient},
		{name: "short latency", fault: carriersim.Fault{Kind: carriersim.Latency, Op: "ship", Latency: 50 * time.Millisecond}, call: ship},
		{name: "latency past the timeout on ship", fault: carriersim.Fault{Kind: carriersim.Latency, Op: "ship", Latency: 2 * time.Second},
			call: ship, timeout: 300 * time.Millisecond, class: carriers.Ambiguous},
		{name: "latency past the timeout on lookup", fault: carriersim.Fault{Kind: carriersim.Latency, Op: "lookup", Latency: 2 * time.Second},
			call: lookup, timeout: 300 * time.Millisecond, class: carriers.Transient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fedexsim.Options{}, func(c *fedex.Config) {
				if tc.timeout > 0 {
					c.Timeout = tc.timeout
				}
			})
			if tc.allow[0] != "" {
				f.allow(tc.allow[0], tc.allow[1])
			}
			req := shipReq(t, canonical.LabelPDF)
			if tc.fault.Op != "token" {
				if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
					t.Fatal(err)
				}
			}
			sold := len(f.sim.Ledger.All())
			tc.fault.Count = 1
			f.sim.Faults.Inject(tc.fault)
			err := tc.call(f, req)
			if got := f.sim.Faults.Played(tc.fault.Kind); got != 1 {
				t.Errorf("fault played %d times", got)
			}
			if tc.class == "" {
				if err != nil {
					t.Fatalf("want success, got %v", err)
				}
				return
			}
			ce := carrierError(t, err, tc.class)
			if ce.Status != tc.status || ce.Code != tc.code || ce.RetryAfter != tc.retryAfter {
				t.Errorf("status %d code %q retry %s, want %d %q %s (%v)", ce.Status, ce.Code, ce.RetryAfter,
					tc.status, tc.code, tc.retryAfter, ce)
			}
			if tc.fault.Op != "token" && ce.TransactionID != req.RequestID {
				t.Errorf("transaction id %q, want the request id", ce.TransactionID)
			}
			if got := len(f.sim.Ledger.All()); got != sold {
				t.Errorf("%d labels sold after the fault, want %d", got, sold)
			}
		})
	}
}

func TestTimeoutAfterCreateIsAmbiguousAndFoundByLookup(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, func(c *fedex.Config) { c.Timeout = 300 * time.Millisecond })
	if err := f.client.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.TimeoutAfterCreate, Op: "ship", Count: 1})
	req := shipReq(t, canonical.LabelPNG)
	start := time.Now()
	_, err := f.client.Ship(context.Background(), req)
	ce := carrierError(t, err, carriers.Ambiguous)
	if ce.Status != 0 || ce.Err == nil || ce.TransactionID != req.RequestID {
		t.Errorf("error %+v", ce)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("ship took %s with a 300ms timeout", d)
	}
	labels := f.sim.Ledger.All()
	if len(labels) != 1 || labels[0].TransactionID != req.RequestID || labels[0].Reference != req.Reference[:30] {
		t.Fatalf("ledger %+v, want the one label of %s", labels, req.RequestID)
	}
	found, err := f.client.Lookup(context.Background(), carriers.LookupRequest{RequestID: req.RequestID, Reference: req.Reference})
	if err != nil {
		t.Fatal(err)
	}
	want := []carriers.Found{{TrackingNumber: labels[0].TrackingNumber, ShipmentID: labels[0].TrackingNumber}}
	if fmt.Sprint(found) != fmt.Sprint(want) {
		t.Errorf("lookup found %v, want %v", found, want)
	}
}

func TestThrottledForTheRestOfTheWindow(t *testing.T) {
	clk := newClock()
	f := newFixture(t, fedexsim.Options{Now: clk.Now, RetryAfterHeader: true}, nil)
	f.allow("response 429 POST /ship/v1/shipments", "status is not supported")
	if err := f.client.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Second) // 2 s into a 10 s window
	f.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Throttle, Op: "ship", Count: 1})
	_, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF))
	if ce := carrierError(t, err, carriers.Throttled); ce.RetryAfter != 8*time.Second || ce.Status != 429 {
		t.Errorf("first 429: retry after %s, status %d; want 8s, 429", ce.RetryAfter, ce.Status)
	}
	clk.Advance(3 * time.Second)
	_, err = f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF))
	if ce := carrierError(t, err, carriers.Throttled); ce.RetryAfter != 5*time.Second {
		t.Errorf("second 429: retry after %s, want 5s", ce.RetryAfter)
	}
	if got := f.sim.Faults.Played(carriersim.Throttle); got != 1 {
		t.Errorf("throttle fault played %d times; the window, not the fault, refused the second ship", got)
	}
	clk.Advance(5 * time.Second) // the window is over
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
		t.Fatalf("ship after the window: %v", err)
	}
}

func TestShipRefusedByFedEx(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*carriers.ShipRequest)
		code  string
		field string
	}{
		{"missing city", func(r *carriers.ShipRequest) { r.To.City = "" },
			fedex.CodeInvalidInput, "requestedShipment.recipients[0].address.city"},
		{"missing phone", func(r *carriers.ShipRequest) { r.To.Phone = "" },
			fedex.CodeInvalidInput, "requestedShipment.recipients[0].contact.phoneNumber"},
		{"short phone", func(r *carriers.ShipRequest) { r.From.Phone = "555-0100" },
			fedex.CodeInvalidInput, "requestedShipment.shipper.contact.phoneNumber"},
		{"missing street", func(r *carriers.ShipRequest) { r.From.Address1 = "" },
			fedex.CodeInvalidInput, "requestedShipment.shipper.address.streetLines"},
		{"postal code of another state", func(r *carriers.ShipRequest) { r.To.Region = "NY" },
			"RECIPIENT.POSTALSTATE.MISMATCH", "requestedShipment.recipients[0].address.stateOrProvinceCode"},
		{"shipper postal code of another state", func(r *carriers.ShipRequest) { r.From.PostalCode = "90210" },
			"SHIPPER.POSTALSTATE.MISMATCH", "requestedShipment.shipper.address.stateOrProvinceCode"},
		{"missing postal code", func(r *carriers.ShipRequest) { r.To.PostalCode = "" },
			"POSTALCODE.ZIPCODE.REQUIRED", "requestedShipment.recipients[0].address.postalCode"},
		{"unknown service", func(r *carriers.ShipRequest) { r.Service = "FEDEX_FIRST_FREIGHT" },
			"SERVICE.TYPE.NOTAVAILABLE", "requestedShipment.serviceType"},
		{"zero weight", func(r *carriers.ShipRequest) { r.Weight.Value = 0 },
			"PACKAGE.WEIGHT.INVALID", "requestedShipment.requestedPackageLineItems[0].weight.value"},
		{"too heavy", func(r *carriers.ShipRequest) { r.Weight.Value = 151 },
			"MAXIMUM.WEIGHT.EXCEEDED", "requestedShipment.requestedPackageLineItems[0].weight.value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, fedexsim.Options{}, nil)
			req := shipReq(t, canonical.LabelPDF)
			tc.edit(&req)
			_, err := f.client.Ship(context.Background(), req)
			ce := carrierError(t, err, carriers.Permanent)
			if ce.Status != http.StatusBadRequest || ce.Code != tc.code || ce.Field != tc.field {
				t.Errorf("got %d %q field %q, want 400 %q field %q", ce.Status, ce.Code, ce.Field, tc.code, tc.field)
			}
			if ce.Message == "" || ce.TransactionID != req.RequestID || ce.Op != carriers.OpShip {
				t.Errorf("error %+v", ce)
			}
			if n := len(f.sim.Ledger.All()); n != 0 {
				t.Errorf("%d labels sold", n)
			}
		})
	}
}

func TestShipRefusedBeforeSending(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	if err := f.client.Token(context.Background()); err != nil { // something for the validator to check
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit  func(*carriers.ShipRequest)
		field string
	}{
		{func(r *carriers.ShipRequest) { r.Weight.Unit = "st" }, "Weight.Unit"},
		{func(r *carriers.ShipRequest) { r.Dimensions.Unit = "ft" }, "Dimensions.Unit"},
		{func(r *carriers.ShipRequest) { r.Format = "GIF" }, "Format"},
	} {
		req := shipReq(t, canonical.LabelPDF)
		tc.edit(&req)
		_, err := f.client.Ship(context.Background(), req)
		if ce := carrierError(t, err, carriers.Permanent); ce.Field != tc.field || ce.Status != 0 {
			t.Errorf("field %q status %d, want %q 0", ce.Field, ce.Status, tc.field)
		}
	}
	if got := f.sim.Calls("ship"); got != 0 {
		t.Errorf("%d ship requests sent", got)
	}
}

func TestVoid(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	req := shipReq(t, canonical.LabelZPL)
	label, err := f.client.Ship(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	vr := carriers.VoidRequest{RequestID: req.RequestID, TrackingNumber: label.TrackingNumber, ShipmentID: label.ShipmentID}
	if err := f.client.Void(context.Background(), vr); err != nil {
		t.Fatalf("void: %v", err)
	}
	if sold, _ := f.sim.Ledger.Get(label.TrackingNumber); !sold.Voided {
		t.Error("the label is not void at FedEx")
	}
	if err := f.client.Void(context.Background(), vr); err != nil {
		t.Errorf("voiding twice: %v, want nil (already void)", err)
	}
	if got := f.sim.Calls("void"); got != 2 {
		t.Errorf("%d cancel requests, want 2", got)
	}

	err = f.client.Void(context.Background(), carriers.VoidRequest{RequestID: req.RequestID, TrackingNumber: "794953555571"})
	ce := carrierError(t, err, carriers.Permanent)
	if ce.Status != http.StatusBadRequest || ce.Code != fedexsim.CodeTrackingNotFound || ce.Field != "trackingNumber" {
		t.Errorf("void of an unknown label: %+v", ce)
	}
	if ce := carrierError(t, f.client.Void(context.Background(), carriers.VoidRequest{}), carriers.Permanent); ce.Field != "TrackingNumber" {
		t.Errorf("void without a tracking number: %+v", ce)
	}
}

func TestLookupByReference(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	req := shipReq(t, canonical.LabelPDF)
	label, err := f.client.Ship(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil { // another reference
		t.Fatal(err)
	}
	found, err := f.client.Lookup(context.Background(), carriers.LookupRequest{RequestID: req.RequestID, Reference: req.Reference})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].TrackingNumber != label.TrackingNumber || found[0].ShipmentID != label.ShipmentID {
		t.Errorf("found %+v, want %s", found, label.TrackingNumber)
	}
	none, err := f.client.Lookup(context.Background(), carriers.LookupRequest{Reference: "no-label-has-this-reference"})
	if err != nil {
		t.Fatal(err)
	}
	if none == nil || len(none) != 0 {
		t.Errorf("lookup of an unknown reference: %#v, want an empty slice", none)
	}
	// Outside the ship-date window FedEx searches, nothing is found.
	old, err := f.client.Lookup(context.Background(), carriers.LookupRequest{Reference: req.Reference, ShipDate: time.Now().AddDate(0, 0, -10)})
	if err != nil || len(old) != 0 {
		t.Errorf("lookup ten days back: %v %v", old, err)
	}
}

func TestServerDownIsTransient(t *testing.T) {
	f := newFixture(t, fedexsim.Options{}, nil)
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	f.srv.Down()
	// The connection the last call left idle is gone with the server; drop it from
	// the pool at once rather than race the transport noticing.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	req := shipReq(t, canonical.LabelPDF)
	_, err := f.client.Ship(context.Background(), req)
	ce := carrierError(t, err, carriers.Transient)
	if ce.Status != 0 || ce.Err == nil || ce.Op != carriers.OpShip || ce.TransactionID != req.RequestID {
		t.Errorf("error %+v", ce)
	}
	if !strings.Contains(ce.Error(), "refused") {
		t.Errorf("error %q does not say the connection was refused", ce.Error())
	}
	if err := f.srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Ship(context.Background(), shipReq(t, canonical.LabelPDF)); err != nil {
		t.Fatalf("ship after the server came back: %v", err)
	}
	if got := len(f.sim.Ledger.All()); got != 2 {
		t.Errorf("%d labels sold, want 2", got)
	}
}

func TestConfigValidate(t *testing.T) {
	err := fedex.Config{}.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, want := range []string{"BaseURL is required", "ClientID", "ClientSecret", "AccountNumber is required"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not mention %q", err, want)
		}
	}
	bad := fedex.Config{BaseURL: "https://apis.fedex.com/", ClientID: "k", ClientSecret: "s", AccountNumber: "12345", Timeout: -time.Second}
	err = bad.Validate()
	for _, want := range []string{"must not end with a slash", `AccountNumber "12345" must be 9 digits`, "Timeout -1s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v does not mention %q", err, want)
		}
	}
	if c, err := fedex.New(bad, nil); err == nil || c != nil {
		t.Error("New accepted an invalid config")
	}
	good := fedex.Config{BaseURL: fedex.SandboxURL, ClientID: "k", ClientSecret: "hunter2-secret", AccountNumber: "740561073"}
	if err := good.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if s := fmt.Sprintf("%v %+v %#v %s", good, good, good, good.ClientSecret); strings.Contains(s, "hunter2") {
		t.Errorf("the secret prints: %s", s)
	}
}

func ExampleClient_Ship() {
	sim := fedexsim.New(fedexsim.Options{})
	srv, _ := carriersim.Start(sim.Handler())
	defer srv.Close()
	c, _ := fedex.New(fedex.Config{BaseURL: srv.URL, ClientID: fedexsim.DefaultClientID,
		ClientSecret: fedexsim.DefaultClientSecret, AccountNumber: fedexsim.DefaultAccountNumber}, nil)
	label, err := c.Ship(context.Background(), carriers.ShipRequest{
		RequestID: "7c9e6679-7425-40de-944b-e07fc1f90ae7", Reference: "7c9e6679-7425-40de-944b-e07fc1f90ae",
		Service: fedex.ServicePriorityOvernight, Format: canonical.LabelZPL, From: warehouse, To: customer,
		Weight: canonical.Weight{Value: 24, Unit: canonical.Ounce},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(label.TrackingNumber, label.Service, label.Cost.Amount, label.Cost.Currency)
	fmt.Println(strings.SplitN(string(label.Data), "\n", 2)[0])
	// Output:
	// 794600000010 PRIORITY_OVERNIGHT 49.40 USD
	// ^XA
}
