package ups

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

func testClient(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{BaseURL: "https://wwwcie.ups.com", ClientID: "id", ClientSecret: "secret", AccountNumber: "a1b2c3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildShipmentMapsTheCanonicalRequest(t *testing.T) {
	c := testClient(t)
	r := carriers.ShipRequest{
		RequestID: "550e8400-e29b-41d4-a716-446655440000",
		Reference: "ORDER-1001",
		Service:   "02",
		Format:    canonical.LabelPNG,
		From: canonical.Address{Company: "PakLog Distribution Center Number Seventeen", Name: "Dock 4",
			Address1: "55 Glenlake Pkwy", City: "Atlanta", Region: "georgia", PostalCode: "30328", Country: "us",
			Phone: "+1 (404) 555-0100 ext. 12"},
		To: canonical.Address{Name: "Ada Lovelace", Address1: " 10 Hudson Yards ", Address2: "Fl 5", City: "New York",
			Region: "NY", PostalCode: "10001-2170", Country: "United States", Phone: "212.555.0199", Email: "ada@example.com"},
		Weight:     canonical.Weight{Value: 36, Unit: canonical.Ounce},
		Dimensions: canonical.Dimensions{Length: 25.4, Width: 20, Height: 10.1, Unit: canonical.Centimetre},
		ShipDate:   time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC),
	}
	doc, refusal := c.buildShipment(r)
	if refusal != nil {
		t.Fatal(refusal)
	}
	sr := doc.ShipmentRequest
	s := sr.Shipment
	checks := []struct {
		name      string
		got, want any
	}{
		{"shipper number", s.Shipper.ShipperNumber, "A1B2C3"},
		{"bill shipper", s.PaymentInformation.ShipmentCharge, []shipmentCharge{{Type: "01", BillShipper: &billShipper{AccountNumber: "A1B2C3"}}}},
		{"shipper name cut to 35", s.Shipper.Name, "PakLog Distribution Center Number S"},
		{"shipper attention", s.Shipper.AttentionName, "Dock 4"},
		{"shipper phone", *s.Shipper.Phone, phone{Number: "4045550100", Extension: "12"}},
		{"shipper state by name", s.Shipper.Address.StateProvinceCode, "GA"},
		{"shipper country", s.Shipper.Address.CountryCode, "US"},
		{"ship from", s.ShipFrom.Address, s.Shipper.Address},
		{"ship to lines", s.ShipTo.Address.AddressLine, []string{"10 Hudson Yards", "Fl 5"}},
		{"ship to ZIP+4", s.ShipTo.Address.PostalCode, "100012170"},
		{"ship to country name", s.ShipTo.Address.CountryCode, "US"},
		{"ship to phone", s.ShipTo.Phone.Number, "2125550199"},
		{"ship to email", s.ShipTo.EMailAddress, "ada@example.com"},
		{"service", s.Service, code{Code: "02"}},
		{"ship date", s.ShipmentDate, "20250304"},
		{"no shipment reference on US/US", len(s.ReferenceNumber), 0},
		{"package reference", s.Package[0].ReferenceNumber, []referenceNumber{{Value: "ORDER-1001"}}},
		{"36 oz in pounds", s.Package[0].PackageWeight, packageWeight{UnitOfMeasurement: code{Code: "LBS"}, Weight: "2.3"}},
		{"cm in inches, rounded up", *s.Package[0].Dimensions, dimensions{UnitOfMeasurement: code{Code: "IN"}, Length: "10", Width: "8", Height: "4"}},
		{"packaging", s.Package[0].Packaging, code{Code: "02"}},
		{"PNG asked as GIF", sr.LabelSpecification, labelSpecification{LabelImageFormat: code{Code: "GIF"}, HTTPUserAgent: "Mozilla/4.5", LabelStockSize: labelStockSize{Height: "6", Width: "4"}}},
		{"customer context", sr.Request.TransactionReference.CustomerContext, "550e8400-e29b-41d4-a716-446655440000"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}

	// International: the reference goes on the shipment; metric units stay metric.
	r.To = canonical.Address{Name: "Grace Hopper", Address1: "100 Queen St W", City: "Toronto", Region: "Ontario", PostalCode: "m5h 2n2", Country: "CA"}
	r.Weight = canonical.Weight{Value: 1250, Unit: canonical.Gram}
	r.Dimensions = canonical.Dimensions{Length: 10, Width: 8, Height: 4, Unit: canonical.Inch}
	r.Format = canonical.LabelZPL
	doc, refusal = c.buildShipment(r)
	if refusal != nil {
		t.Fatal(refusal)
	}
	s = doc.ShipmentRequest.Shipment
	if !reflect.DeepEqual(s.ReferenceNumber, []referenceNumber{{Value: "ORDER-1001"}}) || s.Package[0].ReferenceNumber != nil {
		t.Errorf("international reference: shipment %v, package %v", s.ReferenceNumber, s.Package[0].ReferenceNumber)
	}
	if got := s.Package[0].PackageWeight; got.Weight != "1.3" || got.UnitOfMeasurement.Code != "KGS" {
		t.Errorf("1250 g = %+v", got)
	}
	if got := *s.Package[0].Dimensions; got.UnitOfMeasurement.Code != "CM" || got.Length != "26" || got.Width != "21" || got.Height != "11" {
		t.Errorf("inches in centimetres = %+v", got)
	}
	if a := s.ShipTo.Address; a.StateProvinceCode != "ON" || a.PostalCode != "M5H2N2" {
		t.Errorf("Canadian address %+v", a)
	}
	if ls := doc.ShipmentRequest.LabelSpecification; ls.LabelImageFormat.Code != "ZPL" || ls.HTTPUserAgent != "" {
		t.Errorf("ZPL label spec %+v", ls)
	}

	// Everything is a string in UPS's JSON.
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	_ = json.Unmarshal(b, &generic)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(path+"/"+k, e)
			}
		case []any:
			for _, e := range v {
				walk(path, e)
			}
		case string:
		default:
			t.Errorf("%s is %T, UPS wants strings", path, v)
		}
	}
	walk("", generic)
}

func TestWeightsAndDimensions(t *testing.T) {
	for _, tc := range []struct {
		w            canonical.Weight
		value, unit  string
		metric, fail bool
	}{
		{canonical.Weight{Value: 2.5, Unit: canonical.Pound}, "2.5", "LBS", false, false},
		{canonical.Weight{Value: 2.51, Unit: canonical.Pound}, "2.6", "LBS", false, false},
		{canonical.Weight{Value: 0.01, Unit: canonical.Pound}, "0.1", "LBS", false, false},
		{canonical.Weight{Value: 8, Unit: canonical.Ounce}, "0.5", "LBS", false, false},
		{canonical.Weight{Value: 3, Unit: canonical.Kilogram}, "3", "KGS", true, false},
		{canonical.Weight{Value: 450, Unit: canonical.Gram}, "0.5", "KGS", true, false},
		{canonical.Weight{Value: 123456, Unit: canonical.Pound}, "", "", false, true},
		{canonical.Weight{Value: 1000.05, Unit: canonical.Pound}, "", "", false, true},
		{canonical.Weight{Value: -1, Unit: canonical.Pound}, "", "", false, true},
		{canonical.Weight{Value: 1, Unit: ""}, "", "", false, true},
	} {
		pw, metric, err := packageWeightOf(tc.w)
		if (err != nil) != tc.fail || pw.Weight != tc.value || pw.UnitOfMeasurement.Code != tc.unit || metric != tc.metric {
			t.Errorf("%v: got %+v metric=%v err=%v", tc.w, pw, metric, err)
		}
	}
	if d, err := dimensionsOf(canonical.Dimensions{}, false); d != nil || err != nil {
		t.Errorf("no dimensions: %v %v", d, err)
	}
	if _, err := dimensionsOf(canonical.Dimensions{Length: 1, Width: 1, Height: 1, Unit: "ft"}, false); err == nil {
		t.Error("feet accepted")
	}
	if _, err := dimensionsOf(canonical.Dimensions{Length: 1200, Width: 1, Height: 1, Unit: canonical.Inch}, false); err == nil {
		t.Error("a 1200 in package accepted")
	}
}

func TestAddressParts(t *testing.T) {
	for _, tc := range []struct{ country, in, number, ext string }{
		{"US", "+1 (212) 555-0199", "2125550199", ""},
		{"US", "212-555-0199 x 77", "2125550199", "77"},
		{"CA", "1 416 555 0142 #9", "4165550142", "9"},
		{"GB", "+44 20 7946 0958", "442079460958", ""},
		{"US", "", "", ""},
	} {
		if n, e := phoneNumber(tc.country, tc.in); n != tc.number || e != tc.ext {
			t.Errorf("phone %q: %q %q", tc.in, n, e)
		}
	}
	for _, tc := range []struct{ country, in, want string }{
		{"US", "10001-2170", "100012170"}, {"PR", "00901", "00901"}, {"CA", "k1a 0b1", "K1A0B1"}, {"GB", "sw1a 1aa", "SW1A1AA"},
	} {
		if got := postalCode(tc.country, tc.in); got != tc.want {
			t.Errorf("postal %s %q = %q", tc.country, tc.in, got)
		}
	}
	if got := partyOf(canonical.Address{Country: "US", Region: "District of Columbia"}).Address.StateProvinceCode; got != "DC" {
		t.Errorf("DC = %q", got)
	}
	if got := partyOf(canonical.Address{Country: "FR", Region: "Île-de-France"}).Address.StateProvinceCode; got != "ÎLE-D" {
		t.Errorf("other countries keep their region, cut to 5: %q", got)
	}
	if got := transID("550e8400-e29b-41d4-a716-446655440000-extra"); got != "550e8400e29b41d4a716446655440000" {
		t.Errorf("transId %q", got)
	}
	if got := partyOf(canonical.Address{Name: strings.Repeat("é", 40)}).Name; len([]rune(got)) != 35 {
		t.Errorf("name cut by runes: %d", len([]rune(got)))
	}
}
