package usps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/connectors/carriers/usps"
	"github.com/paklog/integration-hub/fixtures/carriersim"
	uspssim "github.com/paklog/integration-hub/fixtures/carriersim/usps"
	"github.com/paklog/integration-hub/internal/carrierspec"
)

// clock is a settable clock shared by a test's client and simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is a client talking to a simulator through the spec validator.
type env struct {
	t      *testing.T
	sim    *uspssim.Sim
	srv    *carriersim.Server
	v      *carrierspec.Validator
	client *usps.Client
	cfg    usps.Config
	hc     *http.Client

	mu        sync.Mutex
	lastLabel []byte      // the last POST /labels/v3/label body
	lastHdr   http.Header // and its headers
	accept    string      // when set, replaces the client's Accept on label calls
	// violations the test expects (the malformed answer); anything else fails.
	expectViolations int
	// the shared validator's counts when the test began
	baseChecked, baseViolations int
}

type setup struct {
	sim    uspssim.Options
	config func(*usps.Config)
	accept string
}

// validator loads USPS's documents once (a second or so): the tests share it and
// each looks at what was added while it ran. They must not run in parallel.
var validator = sync.OnceValues(func() (*carrierspec.Validator, error) {
	return carrierspec.New(carrierspec.USPSLabels, carrierspec.USPSPayments)
})

func newEnv(t *testing.T, s setup) *env {
	t.Helper()
	v, err := validator()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, v: v, sim: uspssim.New(s.sim), accept: s.accept,
		baseChecked: v.Checked(), baseViolations: len(v.Violations())}
	// The OAuth token endpoint has no published document: not validated.
	srv, err := carriersim.Start(v.Handler(e.capture(e.sim.Handler()), "/oauth2/v3/token"))
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	t.Cleanup(srv.Close)
	o := e.sim.Options()
	e.cfg = usps.Config{
		BaseURL: srv.URL, ClientID: o.ClientID, ClientSecret: o.ClientSecret,
		CRID: o.CRID, MID: o.MID, AccountNumber: o.AccountNumber, Timeout: 5 * time.Second,
	}
	if s.config != nil {
		s.config(&e.cfg)
	}
	// A transport of the test's own: no connection shared between tests.
	e.hc = carriers.HTTPClient(e.cfg.Timeout)
	e.hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(e.hc.CloseIdleConnections)
	e.client, err = usps.New(e.cfg, e.hc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.checkSpec)
	return e
}

// checkSpec asserts that every request and answer was validated against USPS's
// documents and none failed (but the ones a test expects).
func (e *env) checkSpec() {
	e.t.Helper()
	if e.v.Checked() == e.baseChecked {
		e.t.Error("no request or answer was validated against the USPS documents")
	}
	if got := e.violations(); len(got) != e.expectViolations {
		e.t.Errorf("%d spec violations, want %d:\n%s", len(got), e.expectViolations, strings.Join(got, "\n"))
	}
}

// violations are the validator's findings since the test began.
func (e *env) violations() []string { return e.v.Violations()[e.baseViolations:] }

func (e *env) capture(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/labels/v3/label" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			e.mu.Lock()
			e.lastLabel, e.lastHdr = body, r.Header.Clone()
			if e.accept != "" {
				r.Header.Set("Accept", e.accept)
			}
			e.mu.Unlock()
		}
		next.ServeHTTP(w, r)
	})
}

func (e *env) sentLabel() (map[string]any, http.Header) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var m map[string]any
	if err := json.Unmarshal(e.lastLabel, &m); err != nil {
		e.t.Fatalf("label request body: %v", err)
	}
	return m, e.lastHdr
}

var (
	warehouse = canonical.Address{
		Name: "PakLog Fulfilment DC1", Company: "PakLog", Address1: "1200 Logistics Pkwy",
		City: "Columbus", Region: "OH", PostalCode: "43217", Country: "US", Phone: "+1 614 555 0100",
	}
	customer = canonical.Address{
		Name: "Joe Doe", Address1: "1100 Wyoming", Address2: "Suite 150", City: "St. Louis",
		Region: "MO", PostalCode: "63118-2628", Country: "US", Email: "joe@example.com",
	}
)

var reqSeq struct {
	sync.Mutex
	n int
}

func requestID() string {
	reqSeq.Lock()
	defer reqSeq.Unlock()
	reqSeq.n++
	return fmt.Sprintf("3f6d2c1e-8b4a-4c2d-9e7f-%012d", reqSeq.n)
}

func shipRequest(format canonical.LabelFormat) carriers.ShipRequest {
	id := requestID()
	return carriers.ShipRequest{
		RequestID: id, Reference: id, Service: "USPS_GROUND_ADVANTAGE", Format: format,
		From: warehouse, To: customer,
		Weight:     canonical.Weight{Value: 1.5, Unit: canonical.Pound},
		Dimensions: canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch},
		ShipDate:   time.Now(),
	}
}

// asError asserts err is a *carriers.Error of class.
func asError(t *testing.T, err error, class carriers.Class) *carriers.Error {
	t.Helper()
	var ce *carriers.Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *carriers.Error", err, err)
	}
	if ce.Class != class {
		t.Fatalf("class %s, want %s: %v", ce.Class, class, err)
	}
	if ce.Carrier != carriers.USPS {
		t.Errorf("carrier %q", ce.Carrier)
	}
	return ce
}

func checkTracking(t *testing.T, tn, stc string) {
	t.Helper()
	if len(tn) != 22 || strings.Trim(tn, "0123456789") != "" {
		t.Fatalf("tracking number %q is not 22 digits", tn)
	}
	if !strings.HasPrefix(tn, "92"+stc) {
		t.Errorf("tracking number %q does not start 92%s", tn, stc)
	}
	if want := uspssim.CheckDigit(tn[:21]); int(tn[21]-'0') != want {
		t.Errorf("tracking number %q: check digit %c, want %d", tn, tn[21], want)
	}
}

func TestShipEachFormat(t *testing.T) {
	for _, tc := range []struct {
		format  canonical.LabelFormat
		service string
		stc     string
		check   func(t *testing.T, data []byte)
	}{
		{canonical.LabelPDF, "USPS_GROUND_ADVANTAGE", "001", func(t *testing.T, data []byte) {
			if !bytes.HasPrefix(data, []byte("%PDF-1.")) || !bytes.Contains(data, []byte("%%EOF")) {
				t.Errorf("not a PDF: %q", data[:min(len(data), 20)])
			}
		}},
		{canonical.LabelPNG, "PRIORITY_MAIL", "055", func(t *testing.T, data []byte) {
			img, err := png.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			if b := img.Bounds(); b.Dx() != 200 || b.Dy() != 300 {
				t.Errorf("PNG is %v, want 200x300 (4x6 in)", b)
			}
		}},
		{canonical.LabelZPL, "PRIORITY_MAIL_EXPRESS", "701", func(t *testing.T, data []byte) {
			s := strings.TrimSpace(string(data))
			if !strings.HasPrefix(s, "^XA") || !strings.HasSuffix(s, "^XZ") {
				t.Errorf("not ZPL: %q", s)
			}
		}},
	} {
		t.Run(string(tc.format), func(t *testing.T) {
			e := newEnv(t, setup{})
			r := shipRequest(tc.format)
			r.Service = tc.service
			label, err := e.client.Ship(context.Background(), r)
			if err != nil {
				t.Fatal(err)
			}
			if label.Carrier != carriers.USPS || label.Service != tc.service || label.Format != tc.format {
				t.Errorf("label %s/%s/%s", label.Carrier, label.Service, label.Format)
			}
			checkTracking(t, label.TrackingNumber, tc.stc)
			tc.check(t, label.Data)
			if label.Cost.Currency != "USD" || label.Cost.Amount == "" || label.Cost.Amount == "0.00" {
				t.Errorf("cost %+v", label.Cost)
			}
			sold, ok := e.sim.Ledger.Get(label.TrackingNumber)
			if !ok {
				t.Fatalf("the simulator did not sell %s", label.TrackingNumber)
			}
			if sold.TransactionID != r.RequestID || sold.Reference != r.RequestID[:30] || sold.Service != tc.service {
				t.Errorf("sold %+v: want key %s, reference %s", sold, r.RequestID, r.RequestID[:30])
			}
		})
	}
}

// TestShipMultipartAnswer has the simulator answer USPS's default
// multipart/form-data (labelMetadata and labelImage parts) instead of the vendor
// JSON; the client reads it the same.
func TestShipMultipartAnswer(t *testing.T) {
	e := newEnv(t, setup{accept: "multipart/form-data"})
	label, err := e.client.Ship(context.Background(), shipRequest(canonical.LabelPNG))
	if err != nil {
		t.Fatal(err)
	}
	checkTracking(t, label.TrackingNumber, "001")
	if _, err := png.Decode(bytes.NewReader(label.Data)); err != nil {
		t.Errorf("label: %v", err)
	}
}

func TestShipMapsCanonicalToUSPS(t *testing.T) {
	e := newEnv(t, setup{})
	r := shipRequest(canonical.LabelZPL)
	r.RequestID = "3F6D2C1E-8B4A-4C2D-9E7F-AAAAAAAAAAAA"
	r.Reference = "ORDER-1234567890-1234567890-1234567890"
	r.To = canonical.Address{Name: "Mary Ann Smith", Company: "Acme", Address1: "12  Main  St", City: "Los Angeles",
		Region: "California", PostalCode: "900121234", Country: "US", Phone: "(213) 555-0199", Email: "not-an-email"}
	r.Weight = canonical.Weight{Value: 1, Unit: canonical.Kilogram}
	r.Dimensions = canonical.Dimensions{Length: 30, Width: 20, Height: 10.16, Unit: canonical.Centimetre}
	r.ShipDate = time.Date(2020, 1, 2, 23, 0, 0, 0, time.FixedZone("PST", -8*3600))
	// A mailing date in the past: USPS refuses it, this test looks at the request only.
	_, err := e.client.Ship(context.Background(), r)
	if ce := asError(t, err, carriers.Permanent); ce.Code != "160001" {
		t.Fatalf("code %q, want 160001 (mailing date): %v", ce.Code, err)
	}
	body, hdr := e.sentLabel()
	if got := hdr.Get("X-Idempotency-Key"); got != strings.ToLower(r.RequestID) {
		t.Errorf("X-Idempotency-Key %q", got)
	}
	if got := hdr.Get("Accept"); got != "application/vnd.usps.labels+json" {
		t.Errorf("Accept %q", got)
	}
	if !strings.HasPrefix(hdr.Get("Authorization"), "Bearer ") || hdr.Get("X-Payment-Authorization-Token") == "" {
		t.Error("a token header is missing")
	}
	want := map[string]any{
		"imageInfo": map[string]any{"imageType": "ZPL203DPI", "labelType": "4X6LABEL", "receiptOption": "NONE",
			"suppressPostage": false, "suppressMailDate": false, "returnLabel": false},
		"toAddress": map[string]any{"firstName": "Mary", "lastName": "Ann Smith", "firm": "Acme", "streetAddress": "12 Main St",
			"city": "Los Angeles", "state": "CA", "ZIPCode": "90012", "ZIPPlus4": "1234", "phone": "2135550199"},
		"fromAddress": map[string]any{"firstName": "PakLog", "lastName": "Fulfilment DC1", "firm": "PakLog",
			"streetAddress": "1200 Logistics Pkwy", "city": "Columbus", "state": "OH", "ZIPCode": "43217", "phone": "+16145550100"},
		"packageDescription": map[string]any{"mailClass": "USPS_GROUND_ADVANTAGE", "rateIndicator": "SP",
			"weightUOM": "lb", "weight": 2.21, "dimensionsUOM": "in", "length": 11.81, "width": 7.87, "height": 4.0,
			"processingCategory": "MACHINABLE", "mailingDate": "2020-01-02", "destinationEntryFacilityType": "NONE",
			"customerReference": []any{map[string]any{"referenceNumber": "ORDER-1234567890-1234567890-12", "printReferenceNumber": true}}},
	}
	got, _ := json.Marshal(body)
	exp, _ := json.Marshal(want)
	if !bytes.Equal(got, exp) {
		t.Errorf("label request\n got %s\nwant %s", got, exp)
	}
}

func TestTokensFetchedOnceFor20ConcurrentShips(t *testing.T) {
	e := newEnv(t, setup{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]bool{}
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			label, err := e.client.Ship(context.Background(), shipRequest(canonical.LabelZPL))
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			seen[label.TrackingNumber] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != 20 || e.sim.Ledger.Active() != 20 {
		t.Errorf("%d tracking numbers, %d labels sold, want 20", len(seen), e.sim.Ledger.Active())
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 1 || p != 1 {
		t.Errorf("%d access and %d payment tokens issued, want 1 and 1", n, p)
	}
}

func TestTokensRefreshedAfterExpiry(t *testing.T) {
	clk := newClock()
	e := newEnv(t, setup{
		sim:    uspssim.Options{Now: clk.Now, TokenLifetime: time.Hour, PaymentTokenLifetime: 2 * time.Hour},
		config: func(c *usps.Config) { c.Now = clk.Now },
	})
	ctx := context.Background()
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	clk.Add(30 * time.Minute)
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 1 || p != 1 {
		t.Fatalf("after 30 min: %d access, %d payment tokens, want 1 and 1", n, p)
	}
	clk.Add(40 * time.Minute) // the access token (1 h) is past its refresh margin
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 2 || p != 1 {
		t.Fatalf("after 70 min: %d access, %d payment tokens, want 2 and 1", n, p)
	}
	clk.Add(time.Hour) // now the payment token (2 h, from its exp claim) too
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 3 || p != 2 {
		t.Fatalf("after 130 min: %d access, %d payment tokens, want 3 and 2", n, p)
	}
	if got := e.sim.Requests("ship"); got != 4 {
		t.Errorf("%d label requests, want 4 (no 401 on the way)", got)
	}
}

// TestTokenExpiredAtUSPS: USPS's clock says the token expired while the client's
// does not; the 401 makes the client refresh once, inside the same call.
func TestTokenExpiredAtUSPS(t *testing.T) {
	simClock := newClock()
	e := newEnv(t, setup{sim: uspssim.Options{Now: simClock.Now, TokenLifetime: time.Hour}})
	ctx := context.Background()
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	simClock.Add(90 * time.Minute)
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n := e.sim.TokensIssued(); n != 2 {
		t.Errorf("%d access tokens issued, want 2", n)
	}
	if n := e.sim.Requests("ship"); n != 3 {
		t.Errorf("%d label requests, want 3 (one refused)", n)
	}
}

func TestRevokeTokensRefreshesOnce(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	if err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship", Count: 1})
	label, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	if err != nil {
		t.Fatal(err)
	}
	checkTracking(t, label.TrackingNumber, "001")
	if e.sim.Faults.Played(carriersim.RevokeTokens) != 1 {
		t.Error("the fault was not played")
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 2 || p != 2 {
		t.Errorf("%d access and %d payment tokens issued, want 2 and 2", n, p)
	}
	if n := e.sim.Requests("ship"); n != 2 {
		t.Errorf("%d label requests, want 2", n)
	}
}

// TestPaymentTokenRefused: a 401 naming X-Payment-Authorization-Token refreshes
// the payment token only.
func TestPaymentTokenRefused(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	e.sim.RevokePaymentTokens()
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n, p := e.sim.TokensIssued(), e.sim.PaymentTokensIssued(); n != 1 || p != 2 {
		t.Errorf("%d access and %d payment tokens issued, want 1 and 2", n, p)
	}
}

func TestSecond401IsAuth(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.RevokeTokens, Op: "ship", Count: 2})
	_, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	ce := asError(t, err, carriers.Auth)
	if ce.Status != http.StatusUnauthorized || ce.Op != carriers.OpShip || ce.Message == "" {
		t.Errorf("error %+v", ce)
	}
	if n := e.sim.Requests("ship"); n != 2 {
		t.Errorf("%d label requests, want 2 (one refresh, no more)", n)
	}
	if e.sim.Ledger.Active() != 0 {
		t.Error("a label was sold")
	}
}

func TestBadCredentials(t *testing.T) {
	e := newEnv(t, setup{config: func(c *usps.Config) { c.ClientSecret = "wrong-secret-4711" }})
	ctx := context.Background()
	_, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	ce := asError(t, err, carriers.Auth)
	if ce.Op != carriers.OpToken || ce.Code != "invalid_client" || ce.Status != 401 {
		t.Errorf("error %+v", ce)
	}
	if strings.Contains(err.Error(), "wrong-secret-4711") || strings.Contains(fmt.Sprintf("%+v", ce), "wrong-secret-4711") {
		t.Error("the error shows the client secret")
	}
	if e.sim.Requests("ship") != 0 {
		t.Error("a label request was sent without a token")
	}
	// Nothing validated but the skipped token path: add one documented call.
	e.cfg.ClientSecret = e.sim.Options().ClientSecret
	good, _ := usps.New(e.cfg, nil)
	if err := good.Token(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fault     carriersim.Fault
		class     carriers.Class
		status    int
		code      string
		retry     time.Duration
		sold      int
		shipCalls int
	}{
		{"server error", carriersim.Fault{Kind: carriersim.ServerError}, carriers.Transient, 500, "500", 0, 0, 1},
		{"bad gateway", carriersim.Fault{Kind: carriersim.ServerError, Status: 502}, carriers.Transient, 502, "502", 0, 0, 1},
		{"gateway timeout", carriersim.Fault{Kind: carriersim.ServerError, Status: 504}, carriers.Ambiguous, 504, "504", 0, 0, 1},
		{"unavailable", carriersim.Fault{Kind: carriersim.Unavailable}, carriers.Transient, 503, "503", 0, 0, 1},
		{"throttle", carriersim.Fault{Kind: carriersim.Throttle, RetryAfter: 2 * time.Second}, carriers.Throttled, 429, "429", 2 * time.Second, 0, 1},
		{"throttle default", carriersim.Fault{Kind: carriersim.Throttle}, carriers.Throttled, 429, "429", 30 * time.Second, 0, 1},
		{"drop", carriersim.Fault{Kind: carriersim.Drop}, carriers.Ambiguous, 0, "", 0, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, setup{})
			ctx := context.Background()
			if err := e.client.Token(ctx); err != nil {
				t.Fatal(err)
			}
			tc.fault.Op, tc.fault.Count = "ship", 1
			e.sim.Faults.Inject(tc.fault)
			r := shipRequest(canonical.LabelPDF)
			_, err := e.client.Ship(ctx, r)
			ce := asError(t, err, tc.class)
			if ce.Status != tc.status || ce.Code != tc.code || ce.RetryAfter != tc.retry || ce.Op != carriers.OpShip {
				t.Errorf("error %+v: want status %d, code %q, retry after %s", ce, tc.status, tc.code, tc.retry)
			}
			if ce.TransactionID != r.RequestID {
				t.Errorf("transaction id %q, want %q", ce.TransactionID, r.RequestID)
			}
			if n := e.sim.Requests("ship"); n != tc.shipCalls {
				t.Errorf("%d label requests, want %d: the client retries nothing", n, tc.shipCalls)
			}
			if n := len(e.sim.Ledger.All()); n != tc.sold {
				t.Errorf("%d labels sold, want %d", n, tc.sold)
			}
			// The fault is spent: the same request now succeeds.
			if _, err := e.client.Ship(ctx, r); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFaultOnTokenCall(t *testing.T) {
	e := newEnv(t, setup{})
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Throttle, Op: "token", Count: 1, RetryAfter: 5 * time.Second})
	_, err := e.client.Ship(context.Background(), shipRequest(canonical.LabelPDF))
	ce := asError(t, err, carriers.Throttled)
	if ce.Op != carriers.OpToken || ce.RetryAfter != 5*time.Second {
		t.Errorf("error %+v", ce)
	}
	if _, err := e.client.Ship(context.Background(), shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, setup{})
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Latency, Op: "ship", Count: 1, Latency: 150 * time.Millisecond})
	start := time.Now()
	if _, err := e.client.Ship(context.Background(), shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered in %s, before the injected latency", d)
	}
}

// TestTimeoutAfterCreateThenResend: USPS made the label and the answer never came.
// The client says Ambiguous; sending the same request again (same RequestID, so the
// same X-Idempotency-Key) returns that label, and USPS sold one label, not two.
func TestTimeoutAfterCreateThenResend(t *testing.T) {
	e := newEnv(t, setup{config: func(c *usps.Config) { c.Timeout = 400 * time.Millisecond }})
	ctx := context.Background()
	if err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.TimeoutAfterCreate, Op: "ship", Count: 1})
	r := shipRequest(canonical.LabelPDF)
	_, err := e.client.Ship(ctx, r)
	ce := asError(t, err, carriers.Ambiguous)
	if ce.Status != 0 || ce.TransactionID != r.RequestID || ce.Err == nil {
		t.Errorf("error %+v", ce)
	}
	all := e.sim.Ledger.All()
	if len(all) != 1 || all[0].TransactionID != r.RequestID {
		t.Fatalf("ledger %+v: want the one label of %s", all, r.RequestID)
	}
	label, err := e.client.Ship(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if label.TrackingNumber != all[0].TrackingNumber {
		t.Errorf("resend got %s, want the first label %s", label.TrackingNumber, all[0].TrackingNumber)
	}
	if n := len(e.sim.Ledger.All()); n != 1 {
		t.Errorf("%d labels sold, want 1", n)
	}
}

// TestMalformedAnswer: a 200 that is not USPS's JSON is Ambiguous for a label (USPS
// may have made it); resending returns it. The validator flags that one answer.
func TestMalformedAnswer(t *testing.T) {
	e := newEnv(t, setup{})
	e.expectViolations = 1
	ctx := context.Background()
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Malformed, Op: "ship", Count: 1})
	r := shipRequest(canonical.LabelPNG)
	_, err := e.client.Ship(ctx, r)
	ce := asError(t, err, carriers.Ambiguous)
	if !errors.Is(err, usps.ErrUnreadableAnswer) || ce.Status != 200 {
		t.Errorf("error %+v", ce)
	}
	label, err := e.client.Ship(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if all := e.sim.Ledger.All(); len(all) != 1 || all[0].TrackingNumber != label.TrackingNumber {
		t.Errorf("ledger %+v, resend got %s", all, label.TrackingNumber)
	}
	if v := e.violations(); len(v) != 1 || !strings.Contains(v[0], "response 200 POST /labels/v3/label") {
		t.Errorf("violations %q: want the malformed answer's", v)
	}
}

func TestIdempotencyKeyReusedWithAnotherBody(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	r := shipRequest(canonical.LabelPDF)
	first, err := e.client.Ship(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.client.Ship(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if again.TrackingNumber != first.TrackingNumber {
		t.Errorf("same key, same body: %s then %s", first.TrackingNumber, again.TrackingNumber)
	}
	r.Weight.Value = 3
	_, err = e.client.Ship(ctx, r)
	ce := asError(t, err, carriers.Permanent)
	if ce.Status != http.StatusUnprocessableEntity || ce.Field != "X-Idempotency-Key" {
		t.Errorf("error %+v", ce)
	}
	if n := len(e.sim.Ledger.All()); n != 1 {
		t.Errorf("%d labels sold, want 1", n)
	}
}

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*carriers.ShipRequest, *usps.Config)
		code   string
		field  string
		sent   bool
	}{
		{"no name", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.Name = "" }, "160075", "toAddress.firstName, toAddress.lastName, toAddress.firm", true},
		{"unknown ZIP", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.PostalCode = "00012" }, "160119", "toAddress.ZIPCode", true},
		{"no city", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.City = "" }, "400", "toAddress.city", true},
		{"mailing date past", func(r *carriers.ShipRequest, _ *usps.Config) { r.ShipDate = time.Now().AddDate(0, 0, -10) }, "160001", "packageDescription.mailingDate", true},
		{"letters by ground", func(_ *carriers.ShipRequest, c *usps.Config) { c.ProcessingCategory = "LETTERS" }, "160020", "processingCategory/mailClass", true},
		{"abroad", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.Country = "GB"; r.To.Region = "" }, "", "toAddress.state", false},
		{"unknown state", func(r *carriers.ShipRequest, _ *usps.Config) { r.From.Region = "Ontario" }, "", "fromAddress.state", false},
		{"bad ZIP", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.PostalCode = "SW1A 1AA" }, "", "toAddress.ZIPCode", false},
		{"long street", func(r *carriers.ShipRequest, _ *usps.Config) { r.To.Address1 = strings.Repeat("x", 51) }, "", "toAddress.streetAddress", false},
		{"no dimensions", func(r *carriers.ShipRequest, _ *usps.Config) { r.Dimensions = canonical.Dimensions{} }, "", "packageDescription.length", false},
		{"no weight", func(r *carriers.ShipRequest, _ *usps.Config) { r.Weight.Value = 0 }, "", "packageDescription.weight", false},
		{"not a mail class", func(r *carriers.ShipRequest, _ *usps.Config) { r.Service = "FEDEX_GROUND" }, "", "packageDescription.mailClass", false},
		{"format", func(r *carriers.ShipRequest, _ *usps.Config) { r.Format = "EPL" }, "", "imageInfo.imageType", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := shipRequest(canonical.LabelPDF)
			e := newEnv(t, setup{config: func(c *usps.Config) { tc.change(&r, c) }})
			ctx := context.Background()
			if err := e.client.Token(ctx); err != nil { // one validated call, whatever happens next
				t.Fatal(err)
			}
			_, err := e.client.Ship(ctx, r)
			ce := asError(t, err, carriers.Permanent)
			if ce.Code != tc.code || ce.Field != tc.field || ce.Message == "" {
				t.Errorf("error %+v: want code %q, field %q", ce, tc.code, tc.field)
			}
			if sent := e.sim.Requests("ship") > 0; sent != tc.sent {
				t.Errorf("sent %v, want %v", sent, tc.sent)
			}
			if !tc.sent && !errors.Is(err, usps.ErrInvalidRequest) {
				t.Error("a refusal before sending does not wrap ErrInvalidRequest")
			}
			if tc.sent && ce.Status != http.StatusBadRequest {
				t.Errorf("status %d", ce.Status)
			}
			if e.sim.Ledger.Active() != 0 {
				t.Error("a label was sold")
			}
		})
	}
}

func TestVoid(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	label, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	if err != nil {
		t.Fatal(err)
	}
	void := carriers.VoidRequest{RequestID: requestID(), TrackingNumber: label.TrackingNumber}
	if err := e.client.Void(ctx, void); err != nil {
		t.Fatal(err)
	}
	if sold, _ := e.sim.Ledger.Get(label.TrackingNumber); !sold.Voided {
		t.Error("the label is not void at USPS")
	}
	// Already canceled (160186) is not an error.
	if err := e.client.Void(ctx, void); err != nil {
		t.Errorf("void twice: %v", err)
	}
	err = e.client.Void(ctx, carriers.VoidRequest{TrackingNumber: "9200190490412893600099"})
	ce := asError(t, err, carriers.Permanent)
	if ce.Code != usps.CodeOrderNotFound || ce.Field != "trackingNumber" || ce.Status != 400 || ce.Message != "Order not found" {
		t.Errorf("void unknown: %+v", ce)
	}
	err = e.client.Void(ctx, carriers.VoidRequest{})
	if ce := asError(t, err, carriers.Permanent); !errors.Is(err, usps.ErrInvalidRequest) || ce.Field != "trackingNumber" {
		t.Errorf("void nothing: %+v", ce)
	}
	if n := e.sim.Requests("void"); n != 3 {
		t.Errorf("%d void requests, want 3", n)
	}
}

func TestVoidFaults(t *testing.T) {
	e := newEnv(t, setup{})
	e.expectViolations = 1 // the malformed answer
	ctx := context.Background()
	label, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	if err != nil {
		t.Fatal(err)
	}
	void := carriers.VoidRequest{TrackingNumber: label.TrackingNumber}
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Drop, Op: "void", Count: 1})
	if ce := asError(t, e.client.Void(ctx, void), carriers.Transient); ce.Op != carriers.OpVoid || ce.Status != 0 {
		t.Errorf("drop: %+v", ce)
	}
	e.sim.Faults.Inject(carriersim.Fault{Kind: carriersim.Malformed, Op: "void", Count: 1})
	if ce := asError(t, e.client.Void(ctx, void), carriers.Transient); !errors.Is(ce, usps.ErrUnreadableAnswer) {
		t.Errorf("malformed: %+v", ce)
	}
	// USPS did cancel it: voiding again is done (160186).
	if err := e.client.Void(ctx, void); err != nil {
		t.Fatal(err)
	}
	if sold, _ := e.sim.Ledger.Get(label.TrackingNumber); !sold.Voided {
		t.Error("not void")
	}
}

func TestLookupIsNotOffered(t *testing.T) {
	e := newEnv(t, setup{})
	found, err := e.client.Lookup(context.Background(), carriers.LookupRequest{Reference: "x"})
	if found != nil || !errors.Is(err, carriers.ErrNoLookup) || carriers.ClassOf(err) != carriers.Permanent {
		t.Errorf("Lookup = %v, %v", found, err)
	}
	if err := e.client.Token(context.Background()); err != nil { // for the validator
		t.Fatal(err)
	}
}

func TestServerDown(t *testing.T) {
	e := newEnv(t, setup{})
	ctx := context.Background()
	if err := e.client.Token(ctx); err != nil {
		t.Fatal(err)
	}
	e.srv.Down()
	e.hc.CloseIdleConnections() // the next call dials: refused, nothing written
	_, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF))
	ce := asError(t, err, carriers.Transient)
	if ce.Status != 0 || ce.Err == nil || ce.Op != carriers.OpShip {
		t.Errorf("error %+v", ce)
	}
	if ce := asError(t, e.client.Void(ctx, carriers.VoidRequest{TrackingNumber: "9200190490412893600099"}), carriers.Transient); ce.Op != carriers.OpVoid {
		t.Errorf("void: %+v", ce)
	}
	if err := e.srv.Up(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Ship(ctx, shipRequest(canonical.LabelPDF)); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sim.Ledger.All()); n != 1 {
		t.Errorf("%d labels sold, want 1", n)
	}
}

func TestConfigValidate(t *testing.T) {
	err := usps.Config{}.Validate()
	if err == nil {
		t.Fatal("an empty config validated")
	}
	for _, field := range []string{"BaseURL", "ClientID", "ClientSecret", "CRID", "MID", "AccountNumber"} {
		if !strings.Contains(err.Error(), field+" is required") {
			t.Errorf("%q does not name %s", err, field)
		}
	}
	c := usps.Config{BaseURL: "https://apis.usps.com/", ClientID: "a", ClientSecret: "b", CRID: "1", MID: "12345",
		AccountNumber: "1", LabelType: "5X5", ZPLResolution: 600}
	err = c.Validate()
	for _, want := range []string{"must not end with a slash", "MID \"12345\"", "CRID", "LabelType", "ZPLResolution"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: want %q", err, want)
		}
	}
	if _, err := usps.New(c, nil); err == nil {
		t.Error("New took a bad config")
	}
}

func TestConfigLogValueHidesSecret(t *testing.T) {
	var b bytes.Buffer
	slog.New(slog.NewJSONHandler(&b, nil)).Info("usps", "config", usps.Config{ClientID: "id", ClientSecret: "s3cr3t-value"})
	if strings.Contains(b.String(), "s3cr3t-value") || !strings.Contains(b.String(), "REDACTED") {
		t.Errorf("logged %s", b.String())
	}
}

func TestIdempotencyKey(t *testing.T) {
	if got := usps.IdempotencyKey("3F6D2C1E-8B4A-4C2D-9E7F-AAAAAAAAAAAA"); got != "3f6d2c1e-8b4a-4c2d-9e7f-aaaaaaaaaaaa" {
		t.Errorf("UUID key %q", got)
	}
	a, b := usps.IdempotencyKey("order-17"), usps.IdempotencyKey("order-17")
	if a != b || len(a) != 36 || a[14] != '5' || usps.IdempotencyKey("order-18") == a {
		t.Errorf("derived keys %q %q", a, b)
	}
	if usps.IdempotencyKey("") != "" {
		t.Error("a key for no RequestID")
	}
}
