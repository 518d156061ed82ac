package ups

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// The request documents, named after Shipping.yaml's schemas. Every element is a
// string, as UPS wants.
type (
	// shipRequestWrapper is SHIPRequestWrapper.
	shipRequestWrapper struct {
		ShipmentRequest shipmentRequest `json:"ShipmentRequest"`
	}
	shipmentRequest struct {
		Request            shipRequestHeader  `json:"Request"`
		Shipment           shipment           `json:"Shipment"`
		LabelSpecification labelSpecification `json:"LabelSpecification"`
	}
	shipRequestHeader struct {
		RequestOption        string                `json:"RequestOption"`
		TransactionReference *transactionReference `json:"TransactionReference,omitempty"`
	}
	transactionReference struct {
		CustomerContext string `json:"CustomerContext,omitempty"`
	}
	shipment struct {
		Shipper            party              `json:"Shipper"`
		ShipTo             party              `json:"ShipTo"`
		ShipFrom           *party             `json:"ShipFrom,omitempty"`
		PaymentInformation paymentInformation `json:"PaymentInformation"`
		ReferenceNumber    []referenceNumber  `json:"ReferenceNumber,omitempty"`
		Service            code               `json:"Service"`
		ShipmentDate       string             `json:"ShipmentDate,omitempty"`
		Package            []pkg              `json:"Package"`
	}
	party struct {
		Name          string  `json:"Name,omitempty"`
		AttentionName string  `json:"AttentionName,omitempty"`
		ShipperNumber string  `json:"ShipperNumber,omitempty"`
		Phone         *phone  `json:"Phone,omitempty"`
		EMailAddress  string  `json:"EMailAddress,omitempty"`
		Address       address `json:"Address"`
	}
	phone struct {
		Number    string `json:"Number"`
		Extension string `json:"Extension,omitempty"`
	}
	address struct {
		AddressLine       []string `json:"AddressLine,omitempty"`
		City              string   `json:"City,omitempty"`
		StateProvinceCode string   `json:"StateProvinceCode,omitempty"`
		PostalCode        string   `json:"PostalCode,omitempty"`
		CountryCode       string   `json:"CountryCode,omitempty"`
	}
	paymentInformation struct {
		ShipmentCharge []shipmentCharge `json:"ShipmentCharge"`
	}
	shipmentCharge struct {
		Type        string       `json:"Type"`
		BillShipper *billShipper `json:"BillShipper,omitempty"`
	}
	billShipper struct {
		AccountNumber string `json:"AccountNumber"`
	}
	referenceNumber struct {
		Value string `json:"Value"`
	}
	code struct {
		Code        string `json:"Code"`
		Description string `json:"Description,omitempty"`
	}
	pkg struct {
		Packaging       code              `json:"Packaging"`
		Dimensions      *dimensions       `json:"Dimensions,omitempty"`
		PackageWeight   packageWeight     `json:"PackageWeight"`
		ReferenceNumber []referenceNumber `json:"ReferenceNumber,omitempty"`
	}
	dimensions struct {
		UnitOfMeasurement code   `json:"UnitOfMeasurement"`
		Length            string `json:"Length"`
		Width             string `json:"Width"`
		Height            string `json:"Height"`
	}
	packageWeight struct {
		UnitOfMeasurement code   `json:"UnitOfMeasurement"`
		Weight            string `json:"Weight"`
	}
	labelSpecification struct {
		LabelImageFormat code           `json:"LabelImageFormat"`
		HTTPUserAgent    string         `json:"HTTPUserAgent,omitempty"`
		LabelStockSize   labelStockSize `json:"LabelStockSize"`
	}
	labelStockSize struct {
		Height string `json:"Height"`
		Width  string `json:"Width"`
	}
)

// packagingCustomer is Packaging code 02, "Customer Supplied Package".
const packagingCustomer = "02"

// labelFormat is the LabelImageFormat code asked for a canonical format: ZPL as is;
// PNG as GIF, the one image format Ship produces ("Only EPL, SPL, ZPL and GIF are
// currently supported"), converted to PNG on receipt. PDF is not a Ship format.
func labelFormat(f canonical.LabelFormat) (string, bool) {
	switch f {
	case canonical.LabelZPL:
		return "ZPL", true
	case canonical.LabelPNG:
		return "GIF", true
	}
	return "", false
}

// buildShipment maps a ShipRequest to a ShipmentRequest. What UPS could never
// accept (a label format it cannot print, a weight it cannot carry) is refused here
// as a Permanent error, without a call.
func (c *Client) buildShipment(r carriers.ShipRequest) (*shipRequestWrapper, *carriers.Error) {
	refuse := func(code, field, format string, args ...any) *carriers.Error {
		return &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpShip, Class: carriers.Permanent,
			Code: code, Field: field, Message: fmt.Sprintf(format, args...), TransactionID: transID(r.RequestID)}
	}
	imageFormat, ok := labelFormat(r.Format)
	if !ok {
		return nil, refuse("UNSUPPORTED_LABEL_FORMAT", "Format", "UPS Ship cannot produce a %q label (ZPL and PNG only)", r.Format)
	}
	if r.Service == "" {
		return nil, refuse("MISSING_SERVICE", "Service", "a UPS service code is required, e.g. \"03\" (Ground)")
	}
	if utf8.RuneCountInString(r.Reference) > 35 {
		return nil, refuse("INVALID_REFERENCE", "Reference", "the reference is %d characters, UPS keeps at most 35", utf8.RuneCountInString(r.Reference))
	}
	weight, metric, err := packageWeightOf(r.Weight)
	if err != nil {
		return nil, refuse("INVALID_WEIGHT", "Weight", "%v", err)
	}
	dims, err := dimensionsOf(r.Dimensions, metric)
	if err != nil {
		return nil, refuse("INVALID_DIMENSIONS", "Dimensions", "%v", err)
	}

	shipper := partyOf(r.From)
	shipper.ShipperNumber = c.cfg.AccountNumber
	from := partyOf(r.From)
	to := partyOf(r.To)

	p := pkg{
		Packaging:     code{Code: packagingCustomer},
		Dimensions:    dims,
		PackageWeight: weight,
	}
	s := shipment{
		Shipper:  shipper,
		ShipTo:   to,
		ShipFrom: &from,
		PaymentInformation: paymentInformation{ShipmentCharge: []shipmentCharge{{
			Type:        "01", // Transportation
			BillShipper: &billShipper{AccountNumber: c.cfg.AccountNumber},
		}}},
		Service: code{Code: r.Service},
	}
	if r.Reference != "" {
		// UPS takes a reference per package on US→US and PR→PR shipments and per
		// shipment elsewhere (120541 otherwise).
		ref := []referenceNumber{{Value: r.Reference}}
		if domestic(from.Address.CountryCode, to.Address.CountryCode) {
			p.ReferenceNumber = ref
		} else {
			s.ReferenceNumber = ref
		}
	}
	if !r.ShipDate.IsZero() {
		s.ShipmentDate = r.ShipDate.Format("20060102")
	}
	s.Package = []pkg{p}

	spec := labelSpecification{
		LabelImageFormat: code{Code: imageFormat},
		LabelStockSize:   labelStockSize{Height: "6", Width: "4"},
	}
	if imageFormat == "GIF" {
		spec.HTTPUserAgent = "Mozilla/4.5"
	}
	w := &shipRequestWrapper{ShipmentRequest: shipmentRequest{
		Request:            shipRequestHeader{RequestOption: "nonvalidate"},
		Shipment:           s,
		LabelSpecification: spec,
	}}
	if r.RequestID != "" {
		w.ShipmentRequest.Request.TransactionReference = &transactionReference{CustomerContext: carriers.Truncate(r.RequestID, 512)}
	}
	return w, nil
}

func domestic(from, to string) bool {
	return from == to && (to == "US" || to == "PR")
}

// transID is the transId header: the request id without the UUID's dashes, at most
// 32 characters.
func transID(requestID string) string {
	return carriers.Truncate(strings.ReplaceAll(requestID, "-", ""), 32)
}

// packageWeightOf is the weight in pounds (lb, oz) or kilograms (kg, g), rounded up
// to a tenth, as at most 5 characters. metric reports kilograms.
func packageWeightOf(w canonical.Weight) (packageWeight, bool, error) {
	v, unit, metric := w.Value, "LBS", false
	switch w.Unit {
	case canonical.Pound:
	case canonical.Ounce:
		v /= 16
	case canonical.Kilogram:
		unit, metric = "KGS", true
	case canonical.Gram:
		v, unit, metric = v/1000, "KGS", true
	default:
		return packageWeight{}, false, fmt.Errorf("unknown weight unit %q (lb, oz, kg or g)", w.Unit)
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return packageWeight{}, false, fmt.Errorf("weight %v %s must be more than zero", w.Value, w.Unit)
	}
	v = math.Max(ceil(v*10)/10, 0.1)
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if len(s) > 5 {
		return packageWeight{}, false, fmt.Errorf("weight %s %s is more than a UPS package can weigh", s, unit)
	}
	return packageWeight{UnitOfMeasurement: code{Code: unit}, Weight: s}, metric, nil
}

// dimensionsOf is the package's size in inches (or centimetres when the weight is
// metric: UPS wants one system), rounded up to whole units; nil when not given.
func dimensionsOf(d canonical.Dimensions, metric bool) (*dimensions, error) {
	if d == (canonical.Dimensions{}) {
		return nil, nil
	}
	factor := 1.0
	switch {
	case d.Unit == canonical.Inch && metric:
		factor = 2.54
	case d.Unit == canonical.Centimetre && !metric:
		factor = 1 / 2.54
	case d.Unit != canonical.Inch && d.Unit != canonical.Centimetre:
		return nil, fmt.Errorf("unknown length unit %q (in or cm)", d.Unit)
	}
	unit := "IN"
	if metric {
		unit = "CM"
	}
	out := &dimensions{UnitOfMeasurement: code{Code: unit}}
	for _, side := range []struct {
		v   float64
		dst *string
	}{{d.Length, &out.Length}, {d.Width, &out.Width}, {d.Height, &out.Height}} {
		if !(side.v > 0) || math.IsInf(side.v, 0) {
			return nil, fmt.Errorf("dimensions %vx%vx%v %s must each be more than zero", d.Length, d.Width, d.Height, d.Unit)
		}
		n := ceil(side.v * factor)
		if n > 999 {
			return nil, fmt.Errorf("dimensions %vx%vx%v %s are larger than UPS accepts", d.Length, d.Width, d.Height, d.Unit)
		}
		*side.dst = strconv.Itoa(int(n))
	}
	return out, nil
}

// ceil rounds up, ignoring the float noise of a unit conversion (25.4 cm is 10 in,
// not 11).
func ceil(v float64) float64 { return math.Ceil(math.Round(v*1e6) / 1e6) }

// partyOf maps an address: UPS's Name is the company (or the person), AttentionName
// the person; names are cut to 35 characters, address lines to 35, the city to 30,
// the state or province code (carriers.RegionCode, upper case) to 5.
func partyOf(a canonical.Address) party {
	country := carriers.CountryCode(a.Country)
	p := party{
		Name:          carriers.Truncate(firstNonEmpty(a.Company, a.Name), 35),
		AttentionName: carriers.Truncate(firstNonEmpty(a.Name, a.Company), 35),
		Address: address{
			City:              carriers.Truncate(strings.TrimSpace(a.City), 30),
			StateProvinceCode: carriers.Truncate(strings.ToUpper(carriers.RegionCode(country, a.Region)), 5),
			PostalCode:        postalCode(country, a.PostalCode),
			CountryCode:       country,
		},
	}
	for _, l := range []string{a.Address1, a.Address2} {
		if l = strings.TrimSpace(l); l != "" {
			p.Address.AddressLine = append(p.Address.AddressLine, carriers.Truncate(l, 35))
		}
	}
	if n, ext := phoneNumber(country, a.Phone); n != "" {
		p.Phone = &phone{Number: n, Extension: ext}
	}
	if e := strings.TrimSpace(a.Email); e != "" && len(e) <= 50 {
		p.EMailAddress = e
	}
	return p
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// postalCode is the postal code as UPS wants it: US and Puerto Rico ZIP or ZIP+4
// digits ("12345-6789" → "123456789"), Canadian codes without the space, others
// upper case without spaces, at most 9 characters.
func postalCode(country, pc string) string {
	switch country {
	case "US", "PR":
		return carriers.Truncate(carriers.Digits(pc), 9)
	}
	return carriers.Truncate(strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '-' && country == "CA" {
			return -1
		}
		return unicode.ToUpper(r)
	}, pc), 9)
}

// phoneNumber is the phone number's digits, at most 15, and its extension: "+1
// (555) 123-4567 x89" in the US is "5551234567" and "89".
func phoneNumber(country, p string) (number, ext string) {
	p = strings.ToLower(p)
	for _, sep := range []string{"ext.", "ext", "x", "#"} {
		if i := strings.LastIndex(p, sep); i > 0 {
			ext = carriers.Truncate(carriers.Digits(p[i+len(sep):]), 4)
			p = p[:i]
			break
		}
	}
	return carriers.Truncate(carriers.PhoneDigits(country, p), 15), ext
}
