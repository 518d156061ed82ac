package usps

import (
	"bytes"
	"os"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// Answers as USPS sends them (sources in testdata/README.md).
const (
	// USPS/api-examples issue #68: a 401 whose source is a string.
	body401NotJWT = `{"apiVersion":"/addresses/v3/","error":{"code":"401","message":"Missing or malformed access token.","errors":[{"title":"invalid_token","detail":"The access token presented with the request is missing or malformed (not a JWT).","source":"Access Token"}]}}`
	// USPS/api-examples issue #83: the gateway's schema check, no errors list entries.
	bodyOAS = `{"apiVersion":"/international-labels/v3/","error":{"code":"400","message":"OASValidation OpenAPI-Spec-Validation-International-Labels with resource oas://international-labels-v3.yaml: failed with reason: [ERROR - Object has missing required properties ([packageDescription]): []]","errors":[]}}`
	// The same check on a nested object, as the simulator words it.
	bodyOASNested = `{"apiVersion":"/labels/v3","error":{"code":"400","message":"OASValidation OpenAPI-Spec-Validation-Domestic-Labels with resource oas://domestic-labels-v3.yaml: failed with reason: [ERROR - ECMA 262 regex \"^\\d{5}$\" does not match input string \"1234\": [/toAddress/ZIPCode]]","errors":[]}}`
	// domestic-labels.yaml, ExampleCancelError_NOTFOUND (with an inventory code).
	bodyNotFound = `{"apiVersion":"/labels/v3","error":{"code":"400","message":"Bad Request","errors":[{"title":"Bad Request","detail":"Order not found","code":"160185","source":{"parameter":"trackingNumber"}}]}}`
	// USPS/api-examples issue #36: a message and no errors.
	bodyNoSKU  = `{"apiVersion":"/prices/v3","error":{"code":"400","message":"Could not find working sku from SSF ingredients","errors":[]}}`
	bodyOAuth  = `{"error":"invalid_client","error_description":"The client application credentials provided in the request are missing, invalid, inactive or not approved for access."}`
	bodyHeader = `{"apiVersion":"/labels/v3","error":{"code":"400","message":"Bad Request","errors":[{"status":"400","code":"160302","title":"Bad Request","detail":"Must be enrolled in USPS Ship Outbound in order to create labels","source":{"parameter":"Header: X-Payment-Authorization-Token"}}]}}`
	bodyHTML   = "<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1>\n<p>upstream\tconnect error</p></body></html>"
	// Wrong types everywhere.
	bodyOdd = `{"error":{"code":400,"message":["x"],"errors":[7,{"code":160001,"detail":null,"title":true,"source":{"parameter":5}}]}}`
)

func TestParseError(t *testing.T) {
	for _, tc := range []struct {
		name, body           string
		code, message, field string
	}{
		{"401 source string", body401NotJWT, "401", "The access token presented with the request is missing or malformed (not a JWT).", "Access Token"},
		{"OAS root", bodyOAS, CodeOASValidation, "", "packageDescription"},
		{"OAS nested", bodyOASNested, CodeOASValidation, "", "toAddress.ZIPCode"},
		{"not found", bodyNotFound, "160185", "Order not found", "trackingNumber"},
		{"message only", bodyNoSKU, "400", "Could not find working sku from SSF ingredients", ""},
		{"oauth", bodyOAuth, "invalid_client", "The client application credentials provided in the request are missing, invalid, inactive or not approved for access.", ""},
		{"header field", bodyHeader, "160302", "Must be enrolled in USPS Ship Outbound in order to create labels", "X-Payment-Authorization-Token"},
		{"html", bodyHTML, "", "502 Bad Gateway Bad Gateway upstream connect error", ""},
		{"empty", "", "", "", ""},
		{"odd types", bodyOdd, "160001", "true", "5"},
		{"not an object", `["a"]`, "", `["a"]`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := parseError([]byte(tc.body))
			if e.Code != tc.code || e.Field != tc.field || (tc.message != "" && e.Message != tc.message) {
				t.Errorf("parseError = %+v\nwant code %q, message %q, field %q", e, tc.code, tc.message, tc.field)
			}
		})
	}
}

func TestPaymentTokenErrorTellsTheTokens(t *testing.T) {
	if parseError([]byte(body401NotJWT)).isPaymentTokenError() {
		t.Error("an access token 401 taken for a payment token one")
	}
	pay := `{"apiVersion":"/labels/v3","error":{"code":"401","message":"Unauthorized","errors":[{"status":"401","title":"Unauthorized","detail":"The payment authorization token is missing, invalid or expired.","source":{"parameter":"Header: X-Payment-Authorization-Token"}}]}}`
	if !parseError([]byte(pay)).isPaymentTokenError() {
		t.Error("the payment token 401 not recognised")
	}
	if !parseError([]byte(`{"error":{"message":"The payment authorization token has been revoked"}}`)).isPaymentTokenError() {
		t.Error("the revoked payment token message not recognised")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status     int
		idempotent bool
		code       string
		want       carriers.Class
	}{
		{400, false, "160185", carriers.Permanent},
		{400, false, "160312", carriers.Transient},
		{400, true, "100005", carriers.Transient},
		{401, false, "", carriers.Auth},
		{403, false, "", carriers.Permanent},
		{429, false, "", carriers.Throttled},
		{500, false, "", carriers.Transient},
		{503, true, "", carriers.Transient},
		{504, false, "", carriers.Ambiguous},
		{504, true, "", carriers.Transient},
		{302, false, "", carriers.Permanent},
	} {
		if got := classify(tc.status, tc.idempotent, apiError{Code: tc.code}); got != tc.want {
			t.Errorf("classify(%d, %v, %q) = %s, want %s", tc.status, tc.idempotent, tc.code, got, tc.want)
		}
	}
}

// TestParseUSPS2023Multipart reads USPS's own 2023 multipart answer: LF line ends,
// a "File Name:" part header and no line end after the closing delimiter.
func TestParseUSPS2023Multipart(t *testing.T) {
	body, err := os.ReadFile("testdata/usps-domesticlabel-v3-response.2023.multipart.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range []string{"multipart/mixed; boundary=726UYUDSQB6JWJXFDY", "multipart/form-data", ""} {
		a, err := parseLabel(ct, body)
		if err != nil {
			t.Fatalf("%q: %v", ct, err)
		}
		if a.TrackingNumber != "9205590109769900012613" {
			t.Errorf("%q: tracking number %q", ct, a.TrackingNumber)
		}
		if !bytes.HasPrefix(a.Image, []byte("%PDF-1.4")) || !bytes.Contains(a.Image, []byte("%%EOF")) {
			t.Errorf("%q: the label is not the PDF: %q", ct, a.Image[:min(20, len(a.Image))])
		}
		if a.Cost.Amount != "7.64" || a.Cost.Currency != "USD" {
			t.Errorf("%q: cost %+v", ct, a.Cost)
		}
	}
}

func TestParseLabelShapes(t *testing.T) {
	pdf := "JVBERi0xLjQK" // "%PDF-1.4\n"
	for _, tc := range []struct {
		name, ct, body string
		tracking, cost string
		fail           bool
	}{
		{"vendor json", "application/vnd.usps.labels+json", `{"trackingNumber":"9200190490412893600011","postage":7.5,"extraServices":[{"name":"x","price":1.25}],"fees":[{"price":"0.1"}],"labelImage":"` + pdf + `"}`, "9200190490412893600011", "8.85", false},
		{"nested metadata", "application/json", `{"labelMetadata":{"trackingNumber":"9200190490412893600011","postage":"3"},"labelImage":"` + pdf + `"}`, "9200190490412893600011", "3.00", false},
		{"base64 with line breaks", "application/vnd.usps.labels+json", `{"trackingNumber":"1","labelImage":"JVBE\nRi0x\r\nLjQK"}`, "1", "", false},
		{"form-data", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"labelMetadata\"\r\nContent-Type: application/json\r\n\r\n{\"trackingNumber\":\"42\"}\r\n--b\r\nContent-Disposition: form-data; name=\"receiptImage\"\r\n\r\nAAAA\r\n--b\r\nContent-Disposition: form-data; name=\"labelImage\"; filename=\"l.pdf\"\r\nContent-Type: application/octet-stream\r\n\r\n" + pdf + "\r\n--b--\r\n", "42", "", false},
		{"no image", "application/vnd.usps.labels+json", `{"trackingNumber":"1"}`, "", "", true},
		{"no tracking", "application/vnd.usps.labels+json", `{"labelImage":"` + pdf + `"}`, "", "", true},
		{"not base64", "application/vnd.usps.labels+json", `{"trackingNumber":"1","labelImage":"!!!"}`, "", "", true},
		{"html", "text/html", "<html>oops</html>", "", "", true},
		{"empty multipart", "multipart/mixed; boundary=x", "", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := parseLabel(tc.ct, []byte(tc.body))
			if tc.fail {
				if err == nil {
					t.Fatalf("parsed %+v", a)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.TrackingNumber != tc.tracking || a.Cost.Amount != tc.cost || !bytes.HasPrefix(a.Image, []byte("%PDF")) {
				t.Errorf("parsed %+v", a)
			}
		})
	}
}

func TestExpiryOf(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	if got := expiryOf(now, "28799", "", time.Hour); !got.Equal(now.Add(28799 * time.Second)) {
		t.Errorf("expires_in as text: %s", got)
	}
	jwt := "eyJhbGciOiJub25lIn0.eyJleHAiOjE3MDAwMDM2MDB9.c2ln" // {"exp":1700003600}
	if got := expiryOf(now, nil, jwt, time.Hour*8); !got.Equal(time.Unix(1_700_003_600, 0)) {
		t.Errorf("from exp: %s", got)
	}
	if got := expiryOf(now, "soon", "opaque", 8*time.Hour); !got.Equal(now.Add(8 * time.Hour)) {
		t.Errorf("fallback: %s", got)
	}
}

func TestOASField(t *testing.T) {
	for msg, want := range map[string]string{
		"[ERROR - Object has missing required properties ([city, state]): [/fromAddress]]":        "fromAddress.city",
		`[ERROR - Object has missing required properties (["packageDescription"]): []]`:           "packageDescription",
		"[ERROR - Instance value (\"X\") not found in enum: [/packageDescription/mailClass]]":     "packageDescription.mailClass",
		"[ERROR - String is too long: [/packageDescription/customerReference/0/referenceNumber]]": "packageDescription.customerReference.0.referenceNumber",
		"nothing to see":                 "",
		"missing required properties ([": "",
		"[/a~1b~0c]":                     "a/b~c",
	} {
		if got := oasField(msg); got != want {
			t.Errorf("oasField(%q) = %q, want %q", msg, got, want)
		}
	}
}

// FuzzParseResponse feeds any answer to the parsers of error and label answers:
// they must not panic, and what they keep stays short and valid text.
func FuzzParseResponse(f *testing.F) {
	sample, err := os.ReadFile("testdata/usps-domesticlabel-v3-response.2023.multipart.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add("multipart/mixed; boundary=726UYUDSQB6JWJXFDY", sample[:2000])
	for _, b := range []string{body401NotJWT, bodyOAS, bodyOASNested, bodyNotFound, bodyNoSKU, bodyOAuth, bodyHeader, bodyHTML, bodyOdd} {
		f.Add("application/json", []byte(b))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		e := parseError(body)
		for _, s := range []string{e.Code, e.Message, e.Field} {
			if len(s) > 1000 || !utf8.ValidString(s) {
				t.Fatalf("parseError kept %d bytes of %q", len(s), s)
			}
		}
		_ = e.isPaymentTokenError()
		_ = classify(400, false, e)
		a, err := parseLabel(contentType, body)
		if err == nil && (a.TrackingNumber == "" || len(a.Image) == 0) {
			t.Fatalf("parseLabel accepted an answer without tracking number or image: %+v", a)
		}
		_, _ = parseCancel(body)
		_, _ = parseToken(body)
		_, _ = parsePaymentToken(body)
		_, _ = jwtExpiry(string(body))
	})
}
