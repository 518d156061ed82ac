package usps

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// The body of POST /labels/v3/label (domestic-labels.yaml, LabelRequest).
type labelRequest struct {
	ImageInfo          imageInfo          `json:"imageInfo"`
	ToAddress          address            `json:"toAddress"`
	FromAddress        address            `json:"fromAddress"`
	PackageDescription packageDescription `json:"packageDescription"`
}

type imageInfo struct {
	ImageType        string `json:"imageType"`
	LabelType        string `json:"labelType"`
	ReceiptOption    string `json:"receiptOption"`
	SuppressPostage  bool   `json:"suppressPostage"`
	SuppressMailDate bool   `json:"suppressMailDate"`
	ReturnLabel      bool   `json:"returnLabel"`
}

type address struct {
	FirstName        string `json:"firstName,omitempty"`
	LastName         string `json:"lastName,omitempty"`
	Firm             string `json:"firm,omitempty"`
	StreetAddress    string `json:"streetAddress,omitempty"`
	SecondaryAddress string `json:"secondaryAddress,omitempty"`
	City             string `json:"city,omitempty"`
	State            string `json:"state,omitempty"`
	ZIPCode          string `json:"ZIPCode,omitempty"`
	ZIPPlus4         string `json:"ZIPPlus4,omitempty"`
	Phone            string `json:"phone,omitempty"`
	Email            string `json:"email,omitempty"`
}

type packageDescription struct {
	MailClass                    string              `json:"mailClass"`
	RateIndicator                string              `json:"rateIndicator"`
	WeightUOM                    string              `json:"weightUOM"`
	Weight                       float64             `json:"weight"`
	DimensionsUOM                string              `json:"dimensionsUOM"`
	Length                       float64             `json:"length"`
	Width                        float64             `json:"width"`
	Height                       float64             `json:"height"`
	ProcessingCategory           string              `json:"processingCategory"`
	MailingDate                  string              `json:"mailingDate"`
	DestinationEntryFacilityType string              `json:"destinationEntryFacilityType"`
	CustomerReference            []customerReference `json:"customerReference,omitempty"`
}

type customerReference struct {
	ReferenceNumber      string `json:"referenceNumber"`
	PrintReferenceNumber bool   `json:"printReferenceNumber"`
}

// MailClasses are the packageDescription.mailClass values of the Labels API 3.9.13,
// the values ShipRequest.Service takes (USPS_GROUND_ADVANTAGE when empty).
var MailClasses = []string{
	"USPS_GROUND_ADVANTAGE", "PRIORITY_MAIL", "PRIORITY_MAIL_EXPRESS",
	"PARCEL_SELECT", "PARCEL_SELECT_LIGHTWEIGHT", "USPS_CONNECT_LOCAL",
	"USPS_CONNECT_REGIONAL", "USPS_CONNECT_MAIL", "FIRST-CLASS_PACKAGE_SERVICE",
	"LIBRARY_MAIL", "MEDIA_MAIL", "BOUND_PRINTED_MATTER",
}

// DefaultMailClass is the mail class of a ShipRequest without a Service.
const DefaultMailClass = "USPS_GROUND_ADVANTAGE"

// MaxReference is the longest customerReference.referenceNumber USPS takes; a
// longer ShipRequest.Reference is cut to it.
const MaxReference = 30

// Conversions to USPS's only units, pounds and inches.
var (
	poundsPer = map[canonical.WeightUnit]float64{
		canonical.Pound: 1, canonical.Ounce: 1.0 / 16, canonical.Kilogram: 2.20462262185, canonical.Gram: 0.00220462262185,
	}
	inchesPer = map[canonical.LengthUnit]float64{canonical.Inch: 1, canonical.Centimetre: 1 / 2.54}
)

// labelRequest maps a ShipRequest to USPS's body, or says which field cannot be
// sent.
func (c *Client) labelRequest(r carriers.ShipRequest, txn string) (*labelRequest, error) {
	op := carriers.OpShip
	var body labelRequest
	switch r.Format {
	case canonical.LabelPDF, "":
		body.ImageInfo.ImageType = "PDF"
	case canonical.LabelPNG:
		body.ImageInfo.ImageType = "PNG"
	case canonical.LabelZPL:
		body.ImageInfo.ImageType = fmt.Sprintf("ZPL%dDPI", c.cfg.ZPLResolution)
	default:
		return nil, invalid(op, txn, "imageInfo.imageType", fmt.Sprintf("label format %q is not one USPS prints (PDF, PNG, ZPL)", r.Format))
	}
	body.ImageInfo.LabelType = c.cfg.LabelType
	// The label only: ZPL cannot carry a same-page receipt (error 160009), and the
	// hub has no use for one.
	body.ImageInfo.ReceiptOption = "NONE"

	var err error
	if body.ToAddress, err = mapAddress(op, txn, "toAddress", r.To); err != nil {
		return nil, err
	}
	if body.FromAddress, err = mapAddress(op, txn, "fromAddress", r.From); err != nil {
		return nil, err
	}

	p := &body.PackageDescription
	p.MailClass = strings.ToUpper(strings.TrimSpace(r.Service))
	if p.MailClass == "" {
		p.MailClass = DefaultMailClass
	}
	if !slices.Contains(MailClasses, p.MailClass) {
		return nil, invalid(op, txn, "packageDescription.mailClass", fmt.Sprintf("service %q is not a USPS mail class", clip(r.Service, 60)))
	}
	p.RateIndicator = "SP"
	p.WeightUOM, p.DimensionsUOM = "lb", "in"
	p.ProcessingCategory = c.cfg.ProcessingCategory
	p.DestinationEntryFacilityType = "NONE"

	per, ok := poundsPer[r.Weight.Unit]
	if !ok {
		return nil, invalid(op, txn, "packageDescription.weight", fmt.Sprintf("weight unit %q is not lb, oz, kg or g", r.Weight.Unit))
	}
	if !(r.Weight.Value > 0) || math.IsInf(r.Weight.Value, 0) {
		return nil, invalid(op, txn, "packageDescription.weight", "weight must be more than 0")
	}
	// Up to the next hundredth of a pound: never declare less than the package weighs.
	p.Weight = math.Ceil(r.Weight.Value*per*100-1e-9) / 100

	d := r.Dimensions
	inch, ok := inchesPer[d.Unit]
	if !ok {
		return nil, invalid(op, txn, "packageDescription.length", fmt.Sprintf("dimensions unit %q is not in or cm: USPS needs length, width and height", d.Unit))
	}
	for _, dim := range []struct {
		field string
		v     float64
		dst   *float64
	}{{"packageDescription.length", d.Length, &p.Length}, {"packageDescription.width", d.Width, &p.Width}, {"packageDescription.height", d.Height, &p.Height}} {
		if !(dim.v > 0) || math.IsInf(dim.v, 0) {
			return nil, invalid(op, txn, dim.field, "length, width and height must each be more than 0")
		}
		*dim.dst = max(math.Round(dim.v*inch*100)/100, 0.01)
	}

	date := r.ShipDate
	if date.IsZero() {
		date = c.cfg.Now()
	}
	p.MailingDate = date.Format("2006-01-02")

	if ref := strings.TrimSpace(r.Reference); ref != "" {
		p.CustomerReference = []customerReference{{ReferenceNumber: carriers.Truncate(ref, MaxReference), PrintReferenceNumber: true}}
	}
	return &body, nil
}

var (
	zipPattern   = regexp.MustCompile(`^(\d{5})(?:-?(\d{4}))?$`)
	phonePattern = regexp.MustCompile(`^\+?[1-9][0-9]{7,14}$|^[0-9]{6,15}$`)
	emailPattern = regexp.MustCompile(`^[a-zA-Z0-9_+&*-]+(?:\.[a-zA-Z0-9_+&*-]+)*@(?:[a-zA-Z0-9-]+\.)+[a-zA-Z]{2,}$`)
)

// mapAddress maps a canonical address to USPS's, checking what USPS's schema would
// refuse. The country (none is the US) and the state are normalised first
// (carriers.CountryCode, carriers.RegionCode); a territory's state defaults to its
// country code. Names: "Jane Q Public" becomes firstName "Jane", lastName "Q Public"; a
// one-word name with no company becomes the firm. A phone is sent as digits; a
// phone or email USPS's patterns refuse is left out (both are optional and only
// used for notices).
func mapAddress(op carriers.Op, txn, prefix string, a canonical.Address) (address, error) {
	var out address
	fail := func(field, msg string) (address, error) {
		return address{}, invalid(op, txn, prefix+"."+field, msg)
	}
	country := carriers.CountryCode(a.Country)
	if country == "" {
		country = "US"
	}
	state := carriers.RegionCode(country, a.Region)
	switch {
	case country == "US":
	case territories[country]:
		if state == "" {
			state = country
		}
	default:
		return fail("state", fmt.Sprintf("country %q: USPS domestic labels go to and from the US, its territories and military addresses only", clip(a.Country, 10)))
	}
	if !states[state] {
		return fail("state", fmt.Sprintf("region %q is not a US state, territory or military state code", clip(a.Region, 40)))
	}
	out.State = state

	m := zipPattern.FindStringSubmatch(strings.TrimSpace(a.PostalCode))
	if m == nil {
		return fail("ZIPCode", fmt.Sprintf("postal code %q is not a ZIP Code (12345 or 12345-6789)", clip(a.PostalCode, 20)))
	}
	out.ZIPCode, out.ZIPPlus4 = m[1], m[2]

	var err error
	text := func(field, v string, limit int) string {
		v = strings.Join(strings.Fields(v), " ")
		if err == nil && utf8.RuneCountInString(v) > limit {
			_, err = fail(field, fmt.Sprintf("%s is longer than USPS's %d characters", field, limit))
		}
		return v
	}
	out.StreetAddress = text("streetAddress", a.Address1, 50)
	out.SecondaryAddress = text("secondaryAddress", a.Address2, 50)
	out.City = text("city", a.City, 28)
	out.Firm = text("firm", a.Company, 50)
	name := strings.Fields(a.Name)
	switch {
	case len(name) == 1 && out.Firm == "":
		out.Firm = text("firm", name[0], 50)
	case len(name) == 1:
		out.LastName = text("lastName", name[0], 50)
	case len(name) > 1:
		out.FirstName = text("firstName", name[0], 50)
		out.LastName = text("lastName", strings.Join(name[1:], " "), 50)
	}
	if err != nil {
		return address{}, err
	}
	if p := phone(a.Phone); phonePattern.MatchString(p) {
		out.Phone = p
	}
	if e := strings.TrimSpace(a.Email); len(e) <= 50 && emailPattern.MatchString(e) {
		out.Email = e
	}
	return out, nil
}

// phone keeps a phone's digits and a leading +: "+1 (614) 555-0100" →
// "+16145550100".
func phone(s string) string {
	if strings.HasPrefix(strings.TrimSpace(s), "+") {
		return "+" + carriers.Digits(s)
	}
	return carriers.Digits(s)
}

// territories are ISO 3166 codes USPS addresses as a state.
var territories = map[string]bool{"PR": true, "GU": true, "VI": true, "AS": true, "MP": true, "FM": true, "MH": true, "PW": true}

// states are the state codes of domestic-labels.yaml's State pattern.
var states = func() map[string]bool {
	m := map[string]bool{}
	for s := range strings.FieldsSeq("AA AE AL AK AP AS AZ AR CA CO CT DE DC FM FL GA GU HI ID IL IN IA KS KY LA ME MH MD MA MI MN MS MO MP MT NE NV NH NJ NM NY NC ND OH OK OR PW PA PR RI SC SD TN TX UT VT VI VA WA WV WI WY") {
		m[s] = true
	}
	return m
}()
