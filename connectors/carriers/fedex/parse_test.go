package fedex

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

func TestClassify(t *testing.T) {
	now := time.Date(2026, 3, 10, 20, 30, 0, 0, time.UTC)
	const window = 10 * time.Second
	for _, tc := range []struct {
		name       string
		op         carriers.Op
		idempotent bool
		status     int
		header     http.Header
		body       string
		class      carriers.Class
		code       string
		message    string // substring
		field      string
		retryAfter time.Duration
		txn        string
	}{
		{name: "expired token", op: carriers.OpShip, status: 401,
			body:  `{"transactionId":"624deea6-b709-470c-8c39-4b5511281492","errors":[{"code":"NOT.AUTHORIZED.ERROR","message":"Access token expired. Please modify your request and try again."}]}`,
			class: carriers.Auth, code: CodeNotAuthorized, message: "Access token expired", txn: "624deea6-b709-470c-8c39-4b5511281492"},
		{name: "gateway's own token refusal", op: carriers.OpShip, status: 401,
			body:  `{"error":"invalid_token","error_description":"Invalid CXS JWT"}`,
			class: carriers.Auth, code: "invalid_token", message: "Invalid CXS JWT"},
		{name: "validation with parameterList", op: carriers.OpShip, status: 400,
			body:  `{"transactionId":"t","customerTransactionId":"req-1","errors":[{"code":"INVALID.INPUT.EXCEPTION","message":"Invalid field value in the input","parameterList":[{"key":"field","value":"requestedShipment.shipper.address.city"}]}]}`,
			class: carriers.Permanent, code: CodeInvalidInput, field: "requestedShipment.shipper.address.city", txn: "req-1"},
		{name: "field named in the message", op: carriers.OpShip, status: 400,
			body:  `{"errors":[{"code":"RECIPIENTS.ADDRESS.REQUIRED","message":"requestedShipment.recipients[0].address is required."}]}`,
			class: carriers.Permanent, code: "RECIPIENTS.ADDRESS.REQUIRED", field: "requestedShipment.recipients[0].address"},
		{name: "field as a parameter key", op: carriers.OpShip, status: 400,
			body:  `{"errors":[{"code":"SHIPPER.POSTALSTATE.MISMATCH","message":"Shipper Postal-State Mismatch.","parameterList":[{"key":"requestedShipment.shipper.address.postalCode","value":"90210"}]}]}`,
			class: carriers.Permanent, code: "SHIPPER.POSTALSTATE.MISMATCH", field: "requestedShipment.shipper.address.postalCode"},
		{name: "errors as an object, code as a number", op: carriers.OpVoid, idempotent: true, status: 400,
			body:  `{"errors":{"code":12345,"message":"odd"}}`,
			class: carriers.Permanent, code: "12345", message: "odd"},
		{name: "several errors", op: carriers.OpShip, status: 400,
			body:  `{"errors":[{"code":"A.B","message":"first"},{"code":"C.D","message":"second","parameterList":[{"key":"field","value":"accountNumber.value"}]}]}`,
			class: carriers.Permanent, code: "A.B", message: "first; C.D: second", field: "accountNumber.value"},
		{name: "system unavailable in a 400", op: carriers.OpShip, status: 400,
			body:  `{"errors":[{"code":"SYSTEM.UNAVAILABLE.EXCEPTION","message":"The system is unavailable."}]}`,
			class: carriers.Transient, code: CodeSystemUnavailable},
		{name: "rate window, no Retry-After", op: carriers.OpShip, status: 429,
			body:  `{"errors":[{"code":"TOO.MANY.REQUESTS","message":"We have received too many requests in a short duration. Please wait a while to try again."}]}`,
			class: carriers.Throttled, code: CodeTooManyRequests, retryAfter: window},
		{name: "rate window with Retry-After", op: carriers.OpShip, status: 429, header: http.Header{"Retry-After": {"7"}},
			body:  `{"errors":[{"code":"TOO.MANY.REQUESTS","message":"too many"}]}`,
			class: carriers.Throttled, code: CodeTooManyRequests, retryAfter: 7 * time.Second},
		{name: "daily quota", op: carriers.OpLookup, idempotent: true, status: 429,
			body:  `{"errors":[{"code":"TOO.MANY.REQUESTS","message":"Daily transaction quota exceeded. Retry after 12:00AM GMT"}]}`,
			class: carriers.Throttled, retryAfter: 3*time.Hour + 30*time.Minute, code: CodeTooManyRequests},
		{name: "token threshold", op: carriers.OpToken, idempotent: true, status: 403,
			body:  `{"errors":[{"code":"FORBIDDEN.ERROR","message":"We could not authorize your credentials."}]}`,
			class: carriers.Throttled, code: CodeForbidden, retryAfter: TokenThresholdBlock},
		{name: "forbidden API", op: carriers.OpShip, status: 403,
			body:  `{"errors":[{"code":"FORBIDDEN.ERROR","message":"We could not authorize your credentials."}]}`,
			class: carriers.Permanent, code: CodeForbidden},
		{name: "HTML from the edge", op: carriers.OpShip, status: 502, header: http.Header{"Content-Type": {"text/html; charset=UTF-8"}},
			body:  "<html><body><h1>502 Bad Gateway</h1>\n<p>Reference #97</p></body></html>",
			class: carriers.Transient, message: "non-JSON response (text/html"},
		{name: "gateway timeout on ship", op: carriers.OpShip, status: 504, body: "",
			class: carriers.Ambiguous, message: "empty response"},
		{name: "gateway timeout on void", op: carriers.OpVoid, idempotent: true, status: 504, body: "",
			class: carriers.Transient},
		{name: "unavailable with Retry-After", op: carriers.OpShip, status: 503, header: http.Header{"Retry-After": {"30"}},
			body:  `{"errors":[{"code":"SERVICE.UNAVAILABLE.ERROR","message":"The service is currently unavailable"}]}`,
			class: carriers.Transient, code: CodeServiceUnavailable, retryAfter: 30 * time.Second},
		{name: "JSON without errors", op: carriers.OpShip, status: 500, body: `{"output":{}}`,
			class: carriers.Transient, message: "HTTP 500 without FedEx errors"},
		{name: "200 with errors", op: carriers.OpShip, status: 200,
			body:  `{"errors":[{"code":"ACCOUNTNUMBER.REGISTRATION.REQUIRED","message":"Please enter a valid 9-digit FedEx account number"}]}`,
			class: carriers.Permanent, code: "ACCOUNTNUMBER.REGISTRATION.REQUIRED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			e := classify(tc.op, tc.idempotent, &carriers.Response{Status: tc.status, Header: h, Body: []byte(tc.body)}, now, window)
			if e.Class != tc.class || e.Code != tc.code || e.Field != tc.field || e.RetryAfter != tc.retryAfter {
				t.Errorf("got class %q code %q field %q retry %s, want %q %q %q %s",
					e.Class, e.Code, e.Field, e.RetryAfter, tc.class, tc.code, tc.field, tc.retryAfter)
			}
			if !strings.Contains(e.Message, tc.message) {
				t.Errorf("message %q does not contain %q", e.Message, tc.message)
			}
			if e.Status != tc.status || e.Op != tc.op || e.Carrier != carriers.FedEx || e.TransactionID != tc.txn {
				t.Errorf("error %+v", e)
			}
		})
	}
}

func TestClassifyClipsWhatItCopies(t *testing.T) {
	body := `{"errors":[{"code":"` + strings.Repeat("C", 300) + `","message":"\u0000\u0007` + strings.Repeat("é", 2000) + `"}]}`
	e := classify(carriers.OpShip, false, &carriers.Response{Status: 400, Header: http.Header{}, Body: []byte(body)}, time.Now(), time.Second)
	if n := utf8.RuneCountInString(e.Code); n != maxCode {
		t.Errorf("code has %d runes", n)
	}
	if n := utf8.RuneCountInString(e.Message); n != maxMessage || strings.ContainsAny(e.Message, "\x00\x07") {
		t.Errorf("message has %d runes: %.20q", n, e.Message)
	}
}

func shipBody(label string, extra string) []byte {
	return []byte(`{"transactionId":"x","output":{"transactionShipments":[{"serviceType":"FEDEX_2_DAY","masterTrackingNumber":"794953555571",` +
		`"pieceResponses":[{"trackingNumber":794953555571,"netChargeAmount":"21.5",` +
		`"packageDocuments":[{"contentType":"LABEL","docType":"PDF","encodedLabel":"` + label + `"}]}],` +
		`"completedShipmentDetail":{"shipmentRating":{"shipmentRateDetails":[{"currency":"usd"}]}}` + extra + `}]}}`)
}

func TestParseShip(t *testing.T) {
	pdf := base64.StdEncoding.EncodeToString([]byte("%PDF-1.4 label"))
	r, err := parseShip(shipBody(pdf[:len(pdf)-2]+`\n`+pdf[len(pdf)-2:], ""))
	if err != nil {
		t.Fatal(err)
	}
	if r.Tracking != "794953555571" || r.Master != "794953555571" || r.Service != "FEDEX_2_DAY" ||
		string(r.Label) != "%PDF-1.4 label" || r.Cost.Amount != "21.50" || r.Cost.Currency != "USD" {
		t.Errorf("parsed %+v", r)
	}
	for name, body := range map[string][]byte{
		"no label":      shipBody("", ""),
		"not base64":    shipBody("%%%", ""),
		"not JSON":      []byte("<html>"),
		"asynchronous":  []byte(`{"output":{"jobId":"abc"}}`),
		"no shipments":  []byte(`{"output":{"transactionShipments":[]}}`),
		"no tracking":   []byte(`{"output":{"transactionShipments":[{"pieceResponses":[{}]}]}}`),
		"wrong types":   []byte(`{"output":{"transactionShipments":{"pieceResponses":7}}}`),
		"output a list": []byte(`{"output":[1,2]}`),
	} {
		if _, err := parseShip(body); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestParseCancelAndLookup(t *testing.T) {
	if ok, _, err := parseCancel([]byte(`{"output":{"cancelledShipment":true}}`)); !ok || err != nil {
		t.Errorf("cancelled: %v %v", ok, err)
	}
	ok, reason, err := parseCancel([]byte(`{"output":{"cancelledShipment":"false","alerts":[{"code":"SHIPMENT.CANCEL.NOTALLOWED","message":"Too late"}]}}`))
	if ok || err != nil || reason.Code != "SHIPMENT.CANCEL.NOTALLOWED" || reason.Message != "Too late" {
		t.Errorf("not cancelled: %v %+v %v", ok, reason, err)
	}
	if _, _, err := parseCancel([]byte(`{"output":{}}`)); err == nil {
		t.Error("an answer without cancelledShipment parsed")
	}

	r, err := parseLookup([]byte(`{"output":{"completeTrackResults":[{"trackResults":[
		{"trackingNumberInfo":{"trackingNumber":"794953555571"}},
		{"trackingNumberInfo":{"trackingNumber":"794953555571"}},
		{"error":{"code":"TRACKING.REFERENCENUMBER.NOTFOUND"}}]},
		{"trackResults":[{"trackingNumberInfo":{"trackingNumber":794953535000}}]}]}}`))
	if err != nil || len(r.Found) != 2 || r.Found[1].TrackingNumber != "794953535000" || r.Err != nil {
		t.Errorf("lookup %+v %v", r, err)
	}
	r, err = parseLookup([]byte(`{"output":{"completeTrackResults":[{"trackResults":[{"error":{"code":"TRACKING.DATA.NOTUNIQUE","message":"not unique"}}]}]}}`))
	if err != nil || len(r.Found) != 0 || r.Found == nil || r.Err == nil || r.Err.Code != "TRACKING.DATA.NOTUNIQUE" {
		t.Errorf("lookup error %+v %v", r, err)
	}
}

func TestParseToken(t *testing.T) {
	for _, tc := range []struct {
		body string
		life time.Duration
		ok   bool
	}{
		{`{"access_token":"abc","token_type":"bearer","expires_in":3599,"scope":"CXS"}`, 3599 * time.Second, true},
		{`{"access_token":"abc","expires_in":"3600"}`, time.Hour, true},
		{`{"access_token":"abc"}`, 0, true},
		{`{"access_token":"abc","expires_in":-5}`, 0, true},
		{`{"access_token":""}`, 0, false},
		{`<html>`, 0, false},
	} {
		v, life, err := parseToken([]byte(tc.body))
		if (err == nil) != tc.ok || life != tc.life || (tc.ok && v != "abc") {
			t.Errorf("%s: %q %s %v", tc.body, v, life, err)
		}
	}
}

func TestWeightsAndDimensions(t *testing.T) {
	for _, tc := range []struct {
		in    float64
		unit  string
		units string
		want  float64
	}{
		{2.5, "lb", "LB", 2.5}, {40, "oz", "LB", 2.5}, {1, "oz", "LB", 0.1}, {1.21, "LB", "LB", 1.3},
		{2, "kg", "KG", 2}, {1234, "g", "KG", 1.3}, {1200, "g", "KG", 1.2},
	} {
		w, err := fedexWeight(weightOf(tc.in, tc.unit))
		if err != nil || w.Units != tc.units || w.Value != tc.want {
			t.Errorf("%v %s: %+v %v, want %v %s", tc.in, tc.unit, w, err, tc.want, tc.units)
		}
	}
	if _, err := fedexWeight(weightOf(1, "stone")); err == nil {
		t.Error("stone accepted")
	}
	if d, err := fedexDimensions(dimsOf(10, 10.2, 3, "IN")); err != nil || *d != (dimensions{10, 11, 3, "IN"}) {
		t.Errorf("dimensions %+v %v", d, err)
	}
	if d, err := fedexDimensions(dimsOf(0, 0, 0, "")); err != nil || d != nil {
		t.Errorf("no dimensions: %+v %v", d, err)
	}
}

func TestAddressMapping(t *testing.T) {
	for _, tc := range []struct{ country, region, phone, wantCountry, wantRegion, wantPhone string }{
		{"us", "California", "+1 (415) 555-0100", "US", "CA", "4155550100"},
		{"United States", "new york", "415.555.0100", "US", "NY", "4155550100"},
		{"CA", "Québec", "1-514-555-0100", "CA", "QC", "5145550100"},
		{"GB", "Greater London", "+44 20 7946 0958", "GB", "Greater London", "442079460958"},
	} {
		p := fedexParty(canonical.Address{Country: tc.country, Region: tc.region, Phone: tc.phone})
		if c, r, ph := p.Address.CountryCode, p.Address.StateOrProvinceCode, p.Contact.PhoneNumber; c != tc.wantCountry || r != tc.wantRegion || ph != tc.wantPhone {
			t.Errorf("%s/%s/%s: %s %s %s", tc.country, tc.region, tc.phone, c, r, ph)
		}
	}
	if got := reference("7c9e6679-7425-40de-944b-e07fc1f90ae7"); got != "7c9e6679-7425-40de-944b-e07fc1" {
		t.Errorf("reference %q", got)
	}
}

func weightOf(v float64, unit string) canonical.Weight {
	return canonical.Weight{Value: v, Unit: canonical.WeightUnit(unit)}
}

func dimsOf(l, w, h float64, unit string) canonical.Dimensions {
	return canonical.Dimensions{Length: l, Width: w, Height: h, Unit: canonical.LengthUnit(unit)}
}
