package ups

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"net/http"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want errorInfo
	}{
		{"UPS envelope", `{"response":{"errors":[{"code":"120802","message":"Address Validation Error on ShipTo address"}]}}`,
			errorInfo{"120802", "Address Validation Error on ShipTo address", "ShipmentRequest/Shipment/ShipTo/Address"}},
		{"element in the message", `{"response":{"errors":[{"code":"20007","message":"Missing Required field, ShipmentRequest/Shipment/ShipTo/Address/City."}]}}`,
			errorInfo{"20007", "Missing Required field, ShipmentRequest/Shipment/ShipTo/Address/City.", "ShipmentRequest/Shipment/ShipTo/Address/City"}},
		{"Missing/Illegal is not the element", `{"response":{"errors":[{"code":"110601","message":"Missing/Illegal Package/PackageWeight/Weight"}]}}`,
			errorInfo{"110601", "Missing/Illegal Package/PackageWeight/Weight", "Package/PackageWeight/Weight"}},
		{"numeric code", `{"response":{"errors":[{"code":120100,"message":"Missing or invalid shipper number"}]}}`,
			errorInfo{"120100", "Missing or invalid shipper number", "ShipmentRequest/Shipment/Shipper/ShipperNumber"}},
		{"errors as one object, capitalised keys", `{"Response":{"Errors":{"Code":"10429","Message":"Too Many Requests"}}}`,
			errorInfo{"10429", "Too Many Requests", ""}},
		{"two errors", `{"response":{"errors":[{"code":"120100","message":"a"},{"code":"120207","message":"b"},{"message":"a"}]}}`,
			errorInfo{"120100", "a; b", "ShipmentRequest/Shipment/Shipper/ShipperNumber"}},
		{"message only", `{"response":{"errors":[{"message":"  Something broke &#xD;"}]}}`, errorInfo{"", "Something broke", ""}},
		{"XML-era fault", `{"Fault":{"faultcode":"Client","faultstring":"An exception has been raised as a result of client data.","detail":{"Errors":{"ErrorDetail":{"Severity":"Authentication","PrimaryErrorCode":{"Code":"250003","Description":"Invalid Access License number"},"Location":{"LocationElementName":"p2:AccessLicenseNumber"}}}}}}`,
			errorInfo{"250003", "Invalid Access License number", ""}},
		{"OAuth style", `{"error":"invalid_client","error_description":"Client authentication failed"}`,
			errorInfo{"invalid_client", "Client authentication failed", ""}},
		{"wrong types", `{"response":{"errors":"oops"}}`, errorInfo{}},
		{"array", `[{"code":"1"}]`, errorInfo{}},
		{"HTML", `<html><body>Bad Gateway</body></html>`, errorInfo{}},
		{"empty", ``, errorInfo{}},
		{"cut", `{"response":{"errors":[{"code":"1201`, errorInfo{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := parseError([]byte(tc.body)); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status     int
		code       string
		idempotent bool
		want       carriers.Class
	}{
		{401, "250002", false, carriers.Auth},
		{401, "", true, carriers.Auth},
		{400, "250003", false, carriers.Auth},
		{403, "", false, carriers.Permanent},
		{429, "10429", false, carriers.Throttled},
		{400, "10429", true, carriers.Throttled},
		{500, "20001", false, carriers.Transient},
		{503, "190001", false, carriers.Transient},
		{400, "190001", false, carriers.Transient},
		{504, "", false, carriers.Ambiguous},
		{504, "", true, carriers.Transient},
		{408, "", false, carriers.Ambiguous},
		{400, "120100", false, carriers.Permanent},
		{400, "190102", true, carriers.Permanent},
		{404, "", true, carriers.Permanent},
		{302, "", false, carriers.Transient},
	} {
		if got := classify(tc.status, tc.code, tc.idempotent); got != tc.want {
			t.Errorf("classify(%d, %q, %v) = %s, want %s", tc.status, tc.code, tc.idempotent, got, tc.want)
		}
	}
}

func TestErrorFromHonoursRetryAfter(t *testing.T) {
	c := testClient(t)
	now := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)
	c.cfg.Now = func() time.Time { return now }
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0}, // UPS's own 429: no header
		{"7", 7 * time.Second},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		e := c.errorFrom(carriers.OpShip, false, "tid", &carriers.Response{Status: 429, Header: h,
			Body: []byte(`{"response":{"errors":[{"code":"10429","message":"Too Many Requests"}]}}`)})
		if e.Class != carriers.Throttled || e.RetryAfter != tc.want || e.Code != "10429" || e.TransactionID != "tid" || e.Err != nil {
			t.Errorf("Retry-After %q: %+v", tc.header, e)
		}
	}
	e := c.errorFrom(carriers.OpShip, false, "", &carriers.Response{Status: 502, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte("<html/>")})
	if e.Class != carriers.Transient || e.Err == nil || e.Code != "" {
		t.Errorf("HTML 502: %+v", e)
	}
}

func tinyGIF(t *testing.T) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.White, color.Black})
	img.SetColorIndex(1, 1, 1)
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParseShipment(t *testing.T) {
	zpl := base64.StdEncoding.EncodeToString([]byte("^XA^FD1Z^FS^XZ"))
	const trk = "1ZA1B2C30300000017"
	for _, tc := range []struct {
		name string
		body string
		want shipResult
		fail bool
	}{
		{"v2409 array", `{"ShipmentResponse":{"Response":{"ResponseStatus":{"Code":"1","Description":"Success"}},"ShipmentResults":{
			"ShipmentCharges":{"TotalCharges":{"CurrencyCode":"USD","MonetaryValue":"11.75"}},
			"ShipmentIdentificationNumber":"` + trk + `",
			"PackageResults":[{"TrackingNumber":"` + trk + `","ShippingLabel":{"ImageFormat":{"Code":"ZPL"},"GraphicImage":"` + zpl + `"}}]}}}`,
			shipResult{trk, trk, "ZPL", []byte("^XA^FD1Z^FS^XZ"), "11.75", "USD"}, false},
		{"older version: one object, negotiated rate, split image, CR noise", `{"ShipmentResponse":{"ShipmentResults":{
			"ShipmentCharges":{"TotalCharges":{"CurrencyCode":"USD","MonetaryValue":"11.75"}},
			"NegotiatedRateCharges":{"TotalCharge":{"CurrencyCode":"usd","MonetaryValue":"&#xD;9.10"}},
			"ShipmentIdentificationNumber":"&#xD;&#xD;` + trk + `",
			"PackageResults":{"TrackingNumber":"` + trk + `","ShippingLabel":{"ImageFormat":{"Code":"zpl"},
				"GraphicImagePart":["` + zpl[:8] + `","` + zpl[8:] + `"]}}}}}`,
			shipResult{trk, trk, "ZPL", []byte("^XA^FD1Z^FS^XZ"), "9.10", "USD"}, false},
		{"charges not a number", `{"ShipmentResponse":{"ShipmentResults":{"ShipmentCharges":{"TotalCharges":{"CurrencyCode":"USD","MonetaryValue":"n/a"}},
			"PackageResults":[{"TrackingNumber":"` + trk + `","ShippingLabel":{"GraphicImage":"` + zpl + `"}}]}}}`,
			shipResult{trk, trk, "", []byte("^XA^FD1Z^FS^XZ"), "", ""}, false},
		{"no tracking number", `{"ShipmentResponse":{"ShipmentResults":{"PackageResults":[]}}}`, shipResult{}, true},
		{"image not base64", `{"ShipmentResponse":{"ShipmentResults":{"PackageResults":[{"TrackingNumber":"` + trk + `","ShippingLabel":{"GraphicImage":"%%%"}}]}}}`, shipResult{}, true},
		{"HTML", `<html/>`, shipResult{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseShipment([]byte(tc.body))
			if tc.fail {
				if err == nil {
					t.Errorf("no error, got %+v", got)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestLabelData(t *testing.T) {
	g := tinyGIF(t)
	format, data, err := labelData(canonical.LabelPNG, shipResult{FormatCode: "GIF", Image: g})
	if err != nil || format != canonical.LabelPNG {
		t.Fatalf("GIF: %s %v", format, err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil || img.Bounds().Dx() != 3 {
		t.Fatalf("PNG from GIF: %v", err)
	}
	// UPS answers GIF for COD shipments whatever was asked (UPS-API/api-documentation#130).
	if format, _, err := labelData(canonical.LabelZPL, shipResult{FormatCode: "GIF", Image: g}); err != nil || format != canonical.LabelPNG {
		t.Errorf("GIF for ZPL: %s %v", format, err)
	}
	if format, data, err := labelData(canonical.LabelZPL, shipResult{Image: []byte("^XA^XZ")}); err != nil || format != canonical.LabelZPL || string(data) != "^XA^XZ" {
		t.Errorf("ZPL without a format code: %s %q %v", format, data, err)
	}
	if _, _, err := labelData(canonical.LabelZPL, shipResult{FormatCode: "EPL", Image: []byte("N")}); err == nil {
		t.Error("EPL accepted")
	}
	if _, _, err := labelData(canonical.LabelPNG, shipResult{FormatCode: "GIF", Image: []byte("GIF89a")}); err == nil {
		t.Error("broken GIF accepted")
	}
}

func TestParseVoid(t *testing.T) {
	for _, tc := range []struct {
		name             string
		body             string
		voided, readable bool
		status           string
	}{
		{"spec", `{"VoidShipmentResponse":{"Response":{"ResponseStatus":{"Code":"1","Description":"Success"}},"SummaryResult":{"Status":{"Code":"1","Description":"Voided"}},"PackageLevelResults":[{"TrackingNumber":"1Z2220060291994175","Status":{"Code":"1","Description":"Already Voided"}}]}}`, true, true, "Voided"},
		// As UPS's CIE answered in UPS-API/api-documentation#63.
		{"CR noise", `{"VoidShipmentResponse":{"Response":{"ResponseStatus":{"Code":"&#xD;&#xD;&#xD;1","Description":"&#xD;Success"}},"SummaryResult":{"Status":{"Code":"&#xD;&#xD;&#xD;1","Description":"&#xD;Voided"}},"PackageLevelResult":{"TrackingNumber":"&#xD;&#xD;1Z2220060291994175","Status":{"Code":"&#xD;&#xD;1","Description":"&#xD;Voided"}}}}`, true, true, "Voided"},
		{"not voided", `{"VoidShipmentResponse":{"SummaryResult":{"Status":{"Code":"0","Description":"Not Voided"}}}}`, false, true, "Not Voided"},
		{"something else", `{"ShipmentResponse":{}}`, false, false, ""},
		{"HTML", `<html/>`, false, false, ""},
	} {
		voided, status, readable := parseVoid([]byte(tc.body))
		if voided != tc.voided || readable != tc.readable || status != tc.status {
			t.Errorf("%s: voided=%v readable=%v status=%q", tc.name, voided, readable, status)
		}
	}
}

func TestParseRecovery(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []carriers.Found
		ok   bool
	}{
		// LabelResults as one object, as UPS's CIE answers (abantecart/ups-php#12).
		{"one object", `{"LabelRecoveryResponse":{"Response":{"ResponseStatus":{"Code":"1","Description":"Success"}},"ShipmentIdentificationNumber":"1Z12345E8791315509","LabelResults":{"TrackingNumber":"1Z12345E8791315509","LabelImage":{"LabelImageFormat":{"Code":"PDF"},"GraphicImage":"JVBERi0xLjMNJeLjz9MNCjIw="}}}}`,
			[]carriers.Found{{TrackingNumber: "1Z12345E8791315509", ShipmentID: "1Z12345E8791315509"}}, true},
		{"candidates", `{"LabelRecoveryResponse":{"ShipmentIdentificationNumber":"1ZB","LabelResults":[{"TrackingNumber":"1ZB"}],"TrackingCandidate":[{"TrackingNumber":"1ZA"},{"TrackingNumber":"1ZB"}]}}`,
			[]carriers.Found{{TrackingNumber: "1ZB", ShipmentID: "1ZB"}, {TrackingNumber: "1ZA", ShipmentID: "1ZA"}}, true},
		{"shipment id only", `{"LabelRecoveryResponse":{"ShipmentIdentificationNumber":"1ZC","LabelResults":[]}}`,
			[]carriers.Found{{TrackingNumber: "1ZC", ShipmentID: "1ZC"}}, true},
		{"nothing", `{"LabelRecoveryResponse":{"LabelResults":[]}}`, []carriers.Found{}, true},
		{"not one", `{"response":{"errors":[]}}`, nil, false},
	} {
		got, ok := parseRecovery([]byte(tc.body))
		if ok != tc.ok || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v %v, want %+v", tc.name, got, ok, tc.want)
		}
	}
}

func TestParseToken(t *testing.T) {
	for _, tc := range []struct {
		body string
		want tokenInfo
		fail bool
	}{
		{`{"token_type":"Bearer","issued_at":"1741000000000","client_id":"x","access_token":"eyJ","scope":"","expires_in":"14399","refresh_count":"0","status":"approved"}`, tokenInfo{"eyJ", 14399 * time.Second}, false},
		{`{"access_token":"eyJ","expires_in":3600}`, tokenInfo{"eyJ", time.Hour}, false},
		{`{"access_token":"eyJ","expires_in":"soon"}`, tokenInfo{"eyJ", 0}, false},
		{`{"access_token":"eyJ","expires_in":"-5"}`, tokenInfo{"eyJ", 0}, false},
		{`{"access_token":"","expires_in":"14399"}`, tokenInfo{}, true},
		{`<html/>`, tokenInfo{}, true},
	} {
		got, err := parseToken([]byte(tc.body))
		if (err != nil) != tc.fail || got != tc.want {
			t.Errorf("%s: %+v %v", tc.body, got, err)
		}
	}
}

// FuzzParseResponse feeds any body to every parser of UPS answers: none may panic,
// what parseError reads survives being written back in UPS's envelope, and a
// parsed shipment always has a tracking number.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte(`{"response":{"errors":[{"code":"120802","message":"Address Validation Error on ShipTo address"}]}}`))
	f.Add([]byte(`{"ShipmentResponse":{"ShipmentResults":{"PackageResults":{"TrackingNumber":"1Z","ShippingLabel":{"GraphicImage":"Xlg="}}}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		info := parseError(body)
		if utf8.ValidString(info.Code) && utf8.ValidString(info.Message) && (info.Code != "" || info.Message != "") {
			var env struct {
				Response struct {
					Errors []map[string]string `json:"errors"`
				} `json:"response"`
			}
			env.Response.Errors = []map[string]string{{"code": info.Code, "message": info.Message}}
			b, err := json.Marshal(env)
			if err != nil {
				t.Fatal(err)
			}
			if again := parseError(b); again != info {
				t.Errorf("parseError is not stable: %+v, then %+v from %s", info, again, b)
			}
		}
		if r, err := parseShipment(body); err == nil && r.TrackingNumber == "" {
			t.Errorf("shipment without a tracking number: %+v", r)
		}
		if tok, err := parseToken(body); err == nil && (tok.AccessToken == "" || tok.ExpiresIn < 0) {
			t.Errorf("token %+v", tok)
		}
		parseVoid(body)
		if found, ok := parseRecovery(body); ok && found == nil {
			t.Error("recovery read with a nil list")
		}
		_, _, _ = labelData(canonical.LabelPNG, shipResult{FormatCode: "GIF", Image: body})
	})
}
