package ups_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/ups"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	upssim "github.com/paklog/integration-hub/fixtures/carriersim/ups"
	"github.com/paklog/integration-hub/internal/carrierspec"
)

// validator loads UPS's documents once (Shipping.yaml takes seconds under -race);
// the tests run one at a time and each checks what it added.
var validator = sync.OnceValues(func() (*carrierspec.Validator, error) {
	return carrierspec.New(carrierspec.UPSOAuth, carrierspec.UPSShipping)
})

// env is a client talking to a simulator through the spec validator: every request
// the client sends and every answer the simulator gives is checked against
// OAuthClientCredentials.yaml and Shipping.yaml.
type env struct {
	sim *upssim.Sim
	srv *carriersim.Server
	v   *carrierspec.Validator
	hc  *http.Client
	cfg ups.Config
	c   *ups.Client
	// allow lists substrings of the violations the test causes on purpose.
	allow []string
}

func newEnv(t *testing.T, opts upssim.Options, edit func(*ups.Config)) *env {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{sim: upssim.New(opts), v: v}
	// Every UPS endpoint the client uses has a document: nothing is skipped.
	e.srv, err = carriersim.Start(v.Handler(e.sim.Handler()))
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = ups.Config{
		BaseURL:       e.srv.URL,
		ClientID:      upssim.DefaultClientID,
		ClientSecret:  upssim.DefaultClientSecret,
		AccountNumber: upssim.DefaultAccountNumber,
		Timeout:       3 * time.Second,
	}
	if edit != nil {
		edit(&e.cfg)
	}
	e.hc = carriers.HTTPClient(e.cfg.Timeout)
	e.c, err = ups.New(e.cfg, e.hc)
	if err != nil {
		t.Fatal(err)
	}
	violations, checked := len(v.Violations()), v.Checked()
	t.Cleanup(func() {
		e.srv.Close()
		if v.Checked() <= checked {
			t.Error("the spec validator checked nothing")
		}
		seen := make([]bool, len(e.allow))
		for _, viol := range v.Violations()[violations:] {
			ok := false
			for i, a := range e.allow {
				if strings.Contains(viol, a) {
					ok, seen[i] = true, true
				}
			}
			if !ok {
				t.Errorf("spec violation: %s", viol)
			}
		}
		for i, a := range e.allow {
			if !seen[i] {
				t.Errorf("expected a spec violation matching %q, got none", a)
			}
		}
	})
	return e
}

const requestID = "550e8400-e29b-41d4-a716-446655440000"

// shipRequest is a 2.5 lb, 10×8×4 in package from Atlanta to New York by Ground.
func shipRequest(ref string, format canonical.LabelFormat) carriers.ShipRequest {
	return carriers.ShipRequest{
		RequestID: requestID,
		Reference: ref,
		Service:   "03",
		Format:    format,
		From: canonical.Address{Name: "Shipping Desk", Company: "PakLog DC", Address1: "55 Glenlake Pkwy", City: "Atlanta",
			Region: "GA", PostalCode: "30328", Country: "US", Phone: "+1 404-555-0100"},
		To: canonical.Address{Name: "Ada Lovelace", Address1: "10 Hudson Yards", Address2: "Fl 5", City: "New York",
			Region: "New York", PostalCode: "10001-2170", Country: "USA", Phone: "(212) 555-0199", Email: "ada@example.com"},
		Weight:     canonical.Weight{Value: 2.5, Unit: canonical.Pound},
		Dimensions: canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch},
	}
}

func asError(t *testing.T, err error) *carriers.Error {
	t.Helper()
	var ce *carriers.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *carriers.Error", err, err)
	}
	return ce
}

// want checks the parts of an error a test cares about.
func want(t *testing.T, err error, class carriers.Class, status int, code string) *carriers.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s %d %s", class, status, code)
	}
	ce := asError(t, err)
	if ce.Class != class || ce.Status != status || ce.Code != code || ce.Carrier != carriers.UPS {
		t.Fatalf("got %s (class %s, status %d, code %q), want %s %d %q", ce, ce.Class, ce.Status, ce.Code, class, status, code)
	}
	return ce
}

func TestShipEachLabelFormat(t *testing.T) {
	for _, tc := range []struct {
		format   canonical.LabelFormat
		upsCode  string
		validate func([]byte, string) error
	}{
		{canonical.LabelZPL, "ZPL", func(b []byte, trk string) error {
			s := strings.TrimSpace(string(b))
			if !strings.HasPrefix(s, "^XA") || !strings.HasSuffix(s, "^XZ") || !strings.Contains(s, trk) {
				return fmt.Errorf("not a ZPL label of %s: %q", trk, s)
			}
			return nil
		}},
		{canonical.LabelPNG, "GIF", func(b []byte, _ string) error {
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				return err
			}
			if r := img.Bounds(); r.Dx() != 100 || r.Dy() != 150 {
				return fmt.Errorf("PNG is %v", r)
			}
			return nil
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			e := newEnv(t, upssim.Options{}, nil)
			lb, err := e.c.Ship(context.Background(), shipRequest("R-"+string(tc.format), tc.format))
			if err != nil {
				t.Fatal(err)
			}
			if !upssim.ValidTrackingNumber(lb.TrackingNumber) || lb.ShipmentID != lb.TrackingNumber {
				t.Errorf("tracking %q, shipment %q", lb.TrackingNumber, lb.ShipmentID)
			}
			// Billed 3 lb (2.5 actual, 2.3 dimensional) by Ground: 9.85 + 2×0.95.
			if lb.Carrier != "ups" || lb.Service != "03" || lb.Format != tc.format || lb.Cost != (canonical.Money{Amount: "11.75", Currency: "USD"}) {
				t.Errorf("label %+v", lb)
			}
			if err := tc.validate(lb.Data, lb.TrackingNumber); err != nil {
				t.Error(err)
			}
			sold, found := e.sim.Ledger.Get(lb.TrackingNumber)
			if !found || sold.Reference != "R-"+string(tc.format) || sold.Format != tc.upsCode || sold.Service != "03" ||
				sold.TransactionID != "550e8400e29b41d4a716446655440000" {
				t.Errorf("ledger %+v", sold)
			}
		})
	}
}

func TestShipRefusedWithoutACall(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		edit  func(*carriers.ShipRequest)
		code  string
		field string
	}{
		{"PDF", func(r *carriers.ShipRequest) { r.Format = canonical.LabelPDF }, "UNSUPPORTED_LABEL_FORMAT", "Format"},
		{"no format", func(r *carriers.ShipRequest) { r.Format = "" }, "UNSUPPORTED_LABEL_FORMAT", "Format"},
		{"no service", func(r *carriers.ShipRequest) { r.Service = "" }, "MISSING_SERVICE", "Service"},
		{"no weight", func(r *carriers.ShipRequest) { r.Weight.Value = 0 }, "INVALID_WEIGHT", "Weight"},
		{"weight in stones", func(r *carriers.ShipRequest) { r.Weight.Unit = "st" }, "INVALID_WEIGHT", "Weight"},
		{"flat box", func(r *carriers.ShipRequest) { r.Dimensions.Height = 0 }, "INVALID_DIMENSIONS", "Dimensions"},
		{"long reference", func(r *carriers.ShipRequest) { r.Reference = strings.Repeat("r", 36) }, "INVALID_REFERENCE", "Reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := shipRequest("R-1", canonical.LabelZPL)
			tc.edit(&r)
			_, err := e.c.Ship(ctx, r)
			ce := want(t, err, carriers.Permanent, 0, tc.code)
			if ce.Field != tc.field || ce.Op != carriers.OpShip || ce.TransactionID != "550e8400e29b41d4a716446655440000" {
				t.Errorf("error %+v", ce)
			}
		})
	}
	if n := e.sim.Calls("ship") + e.sim.Calls("token"); n != 0 {
		t.Errorf("%d calls to UPS for refused requests", n)
	}
	if _, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL)); err != nil {
		t.Fatal(err)
	}
}

func TestShipRejectedByUPS(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*carriers.ShipRequest)
		code   string
		field  string
		schema bool // the request breaks Shipping.yaml too
	}{
		{"missing ShipTo city", func(r *carriers.ShipRequest) { r.To.City = "" }, "20007", "ShipmentRequest/Shipment/ShipTo/Address/City", true},
		{"missing ShipTo name", func(r *carriers.ShipRequest) { r.To.Name = "" }, "20007", "ShipmentRequest/Shipment/ShipTo/Name", true},
		{"ZIP of another state", func(r *carriers.ShipRequest) { r.To.Region = "CA" }, "120802", "ShipmentRequest/Shipment/ShipTo/Address", false},
		{"malformed ZIP", func(r *carriers.ShipRequest) { r.To.PostalCode = "1000" }, "120207", "ShipmentRequest/Shipment/ShipTo/Address/PostalCode", false},
		{"unknown service", func(r *carriers.ShipRequest) { r.Service = "99" }, "121100", "ShipmentRequest/Shipment/Service/Code", false},
		{"overweight", func(r *carriers.ShipRequest) { r.Weight.Value = 151 }, "110601", "Package/PackageWeight/Weight", false},
		{"ship date past", func(r *carriers.ShipRequest) { r.ShipDate = time.Now().AddDate(0, 0, -3) }, "20008", "ShipmentRequest/Shipment/ShipmentDate", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, upssim.Options{}, nil)
			if tc.schema {
				e.allow = []string{"request POST /api/shipments/v2409/ship"}
			}
			r := shipRequest("R-1", canonical.LabelZPL)
			tc.edit(&r)
			_, err := e.c.Ship(context.Background(), r)
			ce := want(t, err, carriers.Permanent, http.StatusBadRequest, tc.code)
			if ce.Field != tc.field || ce.Message == "" || ce.TransactionID != "550e8400e29b41d4a716446655440000" {
				t.Errorf("field %q, message %q, transaction %q", ce.Field, ce.Message, ce.TransactionID)
			}
			if n := len(e.sim.Ledger.All()); n != 0 {
				t.Errorf("%d labels sold", n)
			}
		})
	}
}

func TestTokenSingleFlight(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	var wg sync.WaitGroup
	labels := make([]*carriers.Label, 20)
	errs := make([]error, 20)
	for i := range labels {
		wg.Add(1)
		go func() {
			defer wg.Done()
			labels[i], errs[i] = e.c.Ship(context.Background(), shipRequest(fmt.Sprintf("R-%d", i), canonical.LabelZPL))
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ship %d: %v", i, err)
		}
		seen[labels[i].TrackingNumber] = true
	}
	if n := e.sim.TokensIssued(); n != 1 {
		t.Errorf("TokensIssued = %d, want 1", n)
	}
	if len(seen) != 20 || e.sim.Ledger.Active() != 20 {
		t.Errorf("%d distinct tracking numbers, %d labels", len(seen), e.sim.Ledger.Active())
	}
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestTokenRefreshedBeforeExpiry(t *testing.T) {
	clk := &clock{now: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)}
	e := newEnv(t, upssim.Options{Now: clk.Now}, func(c *ups.Config) { c.Now = clk.Now })
	ctx := context.Background()
	if _, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL)); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3*time.Hour + 56*time.Minute) // within the last 5 minutes of 14399 s
	if _, err := e.c.Ship(ctx, shipRequest("R-2", canonical.LabelZPL)); err != nil {
		t.Fatal(err)
	}
	if issued, refused := e.sim.TokensIssued(), e.sim.Unauthorized(); issued != 2 || refused != 0 {
		t.Errorf("TokensIssued = %d, Unauthorized = %d; want 2, 0", issued, refused)
	}
}

func TestExpiredTokenRefreshedOnce(t *testing.T) {
	// UPS's clock runs ahead of ours: the cached token has expired there.
	upsClock := &clock{now: time.Now()}
	e := newEnv(t, upssim.Options{Now: upsClock.Now}, nil)
	ctx := context.Background()
	if err := e.c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	upsClock.Advance(5 * time.Hour)
	lb, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	if err != nil {
		t.Fatal(err)
	}
	if issued, refused, calls := e.sim.TokensIssued(), e.sim.Unauthorized(), e.sim.Calls("ship"); issued != 2 || refused != 1 || calls != 2 {
		t.Errorf("TokensIssued = %d, Unauthorized = %d, ship calls = %d; want 2, 1, 2", issued, refused, calls)
	}
	if _, found := e.sim.Ledger.Get(lb.TrackingNumber); !found || e.sim.Ledger.Active() != 1 {
		t.Error("label not sold exactly once")
	}
}

func TestRevokedTokens(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	ctx := context.Background()

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship", Count: 1})
	if _, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL)); err != nil {
		t.Fatalf("one revocation: %v", err)
	}
	if issued, refused := e.sim.TokensIssued(), e.sim.Unauthorized(); issued != 2 || refused != 1 {
		t.Errorf("TokensIssued = %d, Unauthorized = %d; want 2, 1", issued, refused)
	}

	// Every token refused: one refresh, then the 401 is the caller's.
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship"})
	_, err := e.c.Ship(ctx, shipRequest("R-2", canonical.LabelZPL))
	ce := want(t, err, carriers.Auth, http.StatusUnauthorized, "250002")
	if ce.Message != "Invalid Authentication Information." {
		t.Errorf("message %q", ce.Message)
	}
	if issued, calls := e.sim.TokensIssued(), e.sim.Calls("ship"); issued != 3 || calls != 4 {
		t.Errorf("TokensIssued = %d, ship calls = %d; want 3, 4", issued, calls)
	}
	if n := e.sim.Ledger.Active(); n != 1 {
		t.Errorf("%d labels, want 1", n)
	}
}

func TestFaults(t *testing.T) {
	const shipPath = "POST /api/shipments/v2409/ship"
	for _, tc := range []struct {
		name   string
		fault  carriersim.Fault
		op     carriers.Op
		class  carriers.Class
		status int
		code   string
		allow  string // the answer Shipping.yaml does not document
	}{
		{"ship server error", carriersim.Fault{Kind: carriersim.ServerError}, carriers.OpShip, carriers.Transient, 500, "20001", "response 500 " + shipPath},
		{"ship bad gateway", carriersim.Fault{Kind: carriersim.ServerError, Status: 502}, carriers.OpShip, carriers.Transient, 502, "20001", "response 502 " + shipPath},
		{"ship gateway timeout", carriersim.Fault{Kind: carriersim.ServerError, Status: 504}, carriers.OpShip, carriers.Ambiguous, 504, "20001", "response 504 " + shipPath},
		{"ship unavailable", carriersim.Fault{Kind: carriersim.Unavailable}, carriers.OpShip, carriers.Transient, 503, "190001", "response 503 " + shipPath},
		{"ship throttled", carriersim.Fault{Kind: carriersim.Throttle}, carriers.OpShip, carriers.Throttled, 429, "10429", ""},
		{"ship malformed", carriersim.Fault{Kind: carriersim.Malformed}, carriers.OpShip, carriers.Ambiguous, 200, "", "response 200 " + shipPath},
		{"ship dropped", carriersim.Fault{Kind: carriersim.Drop}, carriers.OpShip, carriers.Ambiguous, 0, "", ""},
		{"token throttled", carriersim.Fault{Kind: carriersim.Throttle}, carriers.OpToken, carriers.Throttled, 429, "10429", ""},
		{"token server error", carriersim.Fault{Kind: carriersim.ServerError}, carriers.OpToken, carriers.Transient, 500, "20001", "response 500 POST /security/v1/oauth/token"},
		{"token dropped", carriersim.Fault{Kind: carriersim.Drop}, carriers.OpToken, carriers.Transient, 0, "", ""},
		{"token malformed", carriersim.Fault{Kind: carriersim.Malformed}, carriers.OpToken, carriers.Transient, 200, "", "response 200 POST /security/v1/oauth/token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, upssim.Options{}, nil)
			if tc.allow != "" {
				e.allow = []string{tc.allow}
			}
			f := tc.fault
			f.Op = string(tc.op)
			e.sim.Faults.Inject(f)
			_, err := e.c.Ship(context.Background(), shipRequest("R-1", canonical.LabelZPL))
			ce := want(t, err, tc.class, tc.status, tc.code)
			if ce.Op != tc.op || ce.RetryAfter != 0 {
				t.Errorf("op %s, retry after %s", ce.Op, ce.RetryAfter)
			}
			if tc.op == carriers.OpShip && ce.TransactionID != "550e8400e29b41d4a716446655440000" {
				t.Errorf("transaction %q", ce.TransactionID)
			}
			if tc.class != carriers.Throttled && tc.code == "" && ce.Err == nil {
				t.Error("no underlying error for an answer without UPS's envelope")
			}
			if e.sim.Faults.Played(tc.fault.Kind) != 1 || e.sim.Ledger.Active() != 0 {
				t.Errorf("played %d, %d labels", e.sim.Faults.Played(tc.fault.Kind), e.sim.Ledger.Active())
			}
		})
	}
	t.Run("latency", func(t *testing.T) {
		e := newEnv(t, upssim.Options{}, nil)
		e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Latency, Op: "ship", Latency: 50 * time.Millisecond})
		began := time.Now()
		if _, err := e.c.Ship(context.Background(), shipRequest("R-1", canonical.LabelZPL)); err != nil || time.Since(began) < 50*time.Millisecond {
			t.Errorf("err %v after %s", err, time.Since(began))
		}
	})
}

func TestTimeoutAfterCreateIsAmbiguousAndFoundByLookup(t *testing.T) {
	e := newEnv(t, upssim.Options{}, func(c *ups.Config) { c.Timeout = 400 * time.Millisecond })
	ctx := context.Background()
	if err := e.c.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.TimeoutAfterCreate, Op: "ship", Count: 1, Latency: 10 * time.Second})
	_, err := e.c.Ship(ctx, shipRequest("R-LOST", canonical.LabelPNG))
	ce := want(t, err, carriers.Ambiguous, 0, "")
	if ce.Err == nil || ce.TransactionID != "550e8400e29b41d4a716446655440000" {
		t.Errorf("error %+v", ce)
	}
	sold := e.sim.Ledger.ByReference("R-LOST")
	if len(sold) != 1 {
		t.Fatalf("%d labels sold with the reference, want 1", len(sold))
	}
	found, err := e.c.Lookup(ctx, carriers.LookupRequest{RequestID: requestID, Reference: "R-LOST"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0] != (carriers.Found{TrackingNumber: sold[0].TrackingNumber, ShipmentID: sold[0].ShipmentID}) {
		t.Errorf("Lookup = %+v, want %s", found, sold[0].TrackingNumber)
	}
}

func TestOtherOperationsFaults(t *testing.T) {
	e := newEnv(t, upssim.Options{}, func(c *ups.Config) { c.Timeout = 400 * time.Millisecond })
	e.allow = []string{"response 503 POST /api/labels/v1/recovery", "response 200 POST /api/labels/v1/recovery"}
	ctx := context.Background()
	lb, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	if err != nil {
		t.Fatal(err)
	}
	void := carriers.VoidRequest{RequestID: requestID, ShipmentID: lb.ShipmentID, TrackingNumber: lb.TrackingNumber}

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Drop, Op: "void", Count: 1})
	want(t, e.c.Void(ctx, void), carriers.Transient, 0, "")

	// Void acted, then the answer never came: idempotent, so Transient, and a
	// second void is the "Already Voided" success.
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.TimeoutAfterCreate, Op: "void", Count: 1, Latency: 10 * time.Second})
	want(t, e.c.Void(ctx, void), carriers.Transient, 0, "")
	if got, _ := e.sim.Ledger.Get(lb.TrackingNumber); !got.Voided {
		t.Error("the void was not acted on")
	}
	if err := e.c.Void(ctx, void); err != nil {
		t.Errorf("void after an unanswered void: %v", err)
	}

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Throttle, Op: "void", Count: 1})
	want(t, e.c.Void(ctx, void), carriers.Throttled, 429, "10429")

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Unavailable, Op: "lookup", Count: 1})
	_, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-1"})
	want(t, err, carriers.Transient, 503, "190001")

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Malformed, Op: "lookup", Count: 1})
	_, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-1"})
	want(t, err, carriers.Transient, 200, "")

	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Drop, Op: "lookup", Count: 1})
	_, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-1"})
	want(t, err, carriers.Transient, 0, "")
}

func TestVoid(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	ctx := context.Background()
	lb, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	if err != nil {
		t.Fatal(err)
	}
	void := carriers.VoidRequest{RequestID: requestID, ShipmentID: lb.ShipmentID, TrackingNumber: lb.TrackingNumber}
	if err := e.c.Void(ctx, void); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.sim.Ledger.Get(lb.TrackingNumber); !got.Voided {
		t.Fatal("label not voided")
	}
	if err := e.c.Void(ctx, void); err != nil {
		t.Errorf("void twice (UPS: Already Voided): %v", err)
	}

	unknown := upssim.TrackingNumber(upssim.DefaultAccountNumber, "03", 4242)
	ce := want(t, e.c.Void(ctx, carriers.VoidRequest{RequestID: requestID, TrackingNumber: unknown}), carriers.Permanent, 400, "190102")
	if ce.Op != carriers.OpVoid || !strings.Contains(ce.Message, "No shipment found") {
		t.Errorf("unknown: %+v", ce)
	}

	// By tracking number alone, when the shipment id is not known.
	lb2, err := e.c.Ship(ctx, shipRequest("R-2", canonical.LabelPNG))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Void(ctx, carriers.VoidRequest{TrackingNumber: lb2.TrackingNumber}); err != nil {
		t.Fatal(err)
	}
	if e.sim.Ledger.Active() != 0 {
		t.Error("labels left active")
	}

	calls := e.sim.Calls("void")
	want(t, e.c.Void(ctx, carriers.VoidRequest{}), carriers.Permanent, 0, "MISSING_SHIPMENT_ID")
	if e.sim.Calls("void") != calls {
		t.Error("an empty void request was sent")
	}
}

func TestLookup(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	ctx := context.Background()
	found, err := e.c.Lookup(ctx, carriers.LookupRequest{RequestID: requestID, Reference: "R-NONE"})
	if err != nil || found == nil || len(found) != 0 {
		t.Fatalf("nothing sold: %+v, %v", found, err)
	}

	a, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	if err != nil {
		t.Fatal(err)
	}
	found, err = e.c.Lookup(ctx, carriers.LookupRequest{RequestID: requestID, Reference: "R-1"})
	if err != nil || len(found) != 1 || found[0] != (carriers.Found{TrackingNumber: a.TrackingNumber, ShipmentID: a.ShipmentID}) {
		t.Fatalf("one label: %+v, %v", found, err)
	}

	b, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	if err != nil {
		t.Fatal(err)
	}
	found, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-1"})
	if err != nil || len(found) != 2 {
		t.Fatalf("two labels: %+v, %v", found, err)
	}
	got := map[string]bool{found[0].TrackingNumber: true, found[1].TrackingNumber: true}
	if !got[a.TrackingNumber] || !got[b.TrackingNumber] {
		t.Errorf("found %+v, want %s and %s", found, a.TrackingNumber, b.TrackingNumber)
	}

	// An international shipment keeps its reference at shipment level.
	r := shipRequest("R-CA", canonical.LabelZPL)
	r.To = canonical.Address{Name: "Grace Hopper", Address1: "100 Queen St W", City: "Toronto", Region: "Ontario", PostalCode: "m5h 2n2", Country: "CA", Phone: "416-555-0142"}
	r.Service = "11"
	c, err := e.c.Ship(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	found, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-CA"})
	if err != nil || len(found) != 1 || found[0].TrackingNumber != c.TrackingNumber {
		t.Fatalf("international: %+v, %v", found, err)
	}

	if err := e.c.Void(ctx, carriers.VoidRequest{ShipmentID: c.ShipmentID}); err != nil {
		t.Fatal(err)
	}
	found, err = e.c.Lookup(ctx, carriers.LookupRequest{Reference: "R-CA"})
	if err != nil || len(found) != 0 {
		t.Errorf("voided label found: %+v, %v", found, err)
	}
	_, err = e.c.Lookup(ctx, carriers.LookupRequest{})
	want(t, err, carriers.Permanent, 0, "MISSING_REFERENCE")
}

func TestServerDownIsTransient(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	ctx := context.Background()
	if _, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL)); err != nil {
		t.Fatal(err)
	}
	e.srv.Down()
	e.hc.CloseIdleConnections()

	_, err := e.c.Ship(ctx, shipRequest("R-2", canonical.LabelZPL))
	ce := want(t, err, carriers.Transient, 0, "")
	if ce.Op != carriers.OpShip || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("ship while down: %v", err)
	}
	fresh, err := ups.New(e.cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ce = want(t, fresh.Token(ctx), carriers.Transient, 0, "")
	if ce.Op != carriers.OpToken || !errors.Is(ce, syscall.ECONNREFUSED) {
		t.Errorf("token while down: %v", ce)
	}

	if err := e.srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Ship(ctx, shipRequest("R-2", canonical.LabelZPL)); err != nil {
		t.Fatalf("after Up: %v", err)
	}
	if n := e.sim.Ledger.Active(); n != 2 {
		t.Errorf("%d labels, want 2", n)
	}
}

func TestOlderVersionPackageResultsObject(t *testing.T) {
	e := newEnv(t, upssim.Options{}, func(c *ups.Config) { c.Version = "v2205" })
	// Shipping.yaml documents only the array form of PackageResults.
	e.allow = []string{"response 200 POST /api/shipments/v2205/ship"}
	lb, err := e.c.Ship(context.Background(), shipRequest("R-1", canonical.LabelPNG))
	if err != nil {
		t.Fatal(err)
	}
	if !upssim.ValidTrackingNumber(lb.TrackingNumber) || lb.Format != canonical.LabelPNG || len(lb.Data) == 0 {
		t.Errorf("label %+v", lb)
	}
}

func TestWrongCredentialsAreAuth(t *testing.T) {
	e := newEnv(t, upssim.Options{}, func(c *ups.Config) { c.ClientSecret = "not-the-secret" })
	_, err := e.c.Ship(context.Background(), shipRequest("R-1", canonical.LabelZPL))
	ce := want(t, err, carriers.Auth, 401, "10401")
	if ce.Op != carriers.OpToken || strings.Contains(ce.Error(), "not-the-secret") {
		t.Errorf("error %v", ce)
	}
	if e.sim.Calls("ship") != 0 {
		t.Error("shipped without a token")
	}
}

func TestConfig(t *testing.T) {
	err := ups.Config{}.Validate()
	for _, field := range []string{"BaseURL", "ClientID", "ClientSecret", "AccountNumber"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("zero Config: %v does not name %s", err, field)
		}
	}
	for _, tc := range []struct {
		name string
		cfg  ups.Config
		says string
	}{
		{"path", ups.Config{BaseURL: "https://onlinetools.ups.com/api"}, "host only"},
		{"trailing slash", ups.Config{BaseURL: "https://onlinetools.ups.com/"}, "host only"},
		{"scheme", ups.Config{BaseURL: "onlinetools.ups.com"}, "absolute"},
		{"account", ups.Config{AccountNumber: "12345"}, `AccountNumber "12345"`},
		{"version", ups.Config{Version: "2409"}, `Version "2409"`},
		{"recovery version", ups.Config{RecoveryVersion: "one"}, `RecoveryVersion "one"`},
		{"timeout", ups.Config{Timeout: -time.Second}, "Timeout -1s"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: %v, want it to say %q", tc.name, err, tc.says)
		}
	}
	good := ups.Config{BaseURL: "https://wwwcie.ups.com", ClientID: "id", ClientSecret: "s3cr3t", AccountNumber: "a1b2c3"}
	if err := good.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	if _, err := ups.New(ups.Config{}, nil); err == nil {
		t.Error("New accepted an empty config")
	}
	if s := fmt.Sprint(good.LogValue()); strings.Contains(s, "s3cr3t") || !strings.Contains(s, "REDACTED") {
		t.Errorf("LogValue shows the secret: %s", s)
	}
}

func TestContextCancelledBeforeSending(t *testing.T) {
	e := newEnv(t, upssim.Options{}, nil)
	if err := e.c.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.c.Ship(ctx, shipRequest("R-1", canonical.LabelZPL))
	want(t, err, carriers.Transient, 0, "")
	if !errors.Is(err, context.Canceled) || e.sim.Calls("ship") != 0 {
		t.Errorf("err %v, ship calls %d", err, e.sim.Calls("ship"))
	}
}
