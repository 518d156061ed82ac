package fedex

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// FedEx service types the hub ships with (ShipRequest.Service). Others are passed
// through as given.
const (
	ServiceGround            = "FEDEX_GROUND"
	ServiceHomeDelivery      = "GROUND_HOME_DELIVERY"
	Service2Day              = "FEDEX_2_DAY"
	ServiceExpressSaver      = "FEDEX_EXPRESS_SAVER"
	ServiceStandardOvernight = "STANDARD_OVERNIGHT"
	ServicePriorityOvernight = "PRIORITY_OVERNIGHT"
)

// Fixed values of the requests.
const (
	referenceLimit            = 30 // CUSTOMER_REFERENCE: 30 characters for Ground, 40 for Express
	customerReferenceType     = "CUSTOMER_REFERENCE"
	deleteAllPackages         = "DELETE_ALL_PACKAGES"
	packagingYourPackaging    = "YOUR_PACKAGING"
	pickupDropoffAtFedEx      = "DROPOFF_AT_FEDEX_LOCATION"
	paymentSender             = "SENDER"
	labelResponseLabel        = "LABEL"
	processingSynchronousOnly = "SYNCHRONOUS_ONLY"
)

// Request bodies: the parts of ship-api.json's Full_Schema_Ship and
// Full_Schema_Cancel_Shipment, and of the Track API's Track by References, the
// client sends.
type shipRequest struct {
	LabelResponseOptions string            `json:"labelResponseOptions"`
	AccountNumber        accountNumber     `json:"accountNumber"`
	RequestedShipment    requestedShipment `json:"requestedShipment"`
	ShipAction           string            `json:"shipAction"`
	ProcessingOptionType string            `json:"processingOptionType"`
}

type accountNumber struct {
	Value string `json:"value"`
}

type requestedShipment struct {
	ShipDatestamp             string             `json:"shipDatestamp"`
	Shipper                   party              `json:"shipper"`
	Recipients                []party            `json:"recipients"`
	PickupType                string             `json:"pickupType"`
	ServiceType               string             `json:"serviceType"`
	PackagingType             string             `json:"packagingType"`
	TotalWeight               float64            `json:"totalWeight"`
	ShippingChargesPayment    payment            `json:"shippingChargesPayment"`
	LabelSpecification        labelSpecification `json:"labelSpecification"`
	TotalPackageCount         int                `json:"totalPackageCount"`
	RequestedPackageLineItems []packageLineItem  `json:"requestedPackageLineItems"`
}

type party struct {
	Address partyAddress `json:"address"`
	Contact partyContact `json:"contact"`
}

// partyAddress always carries the schema's required streetLines, city and
// countryCode, empty or not, so FedEx (not the schema) names what is missing.
type partyAddress struct {
	StreetLines         []string `json:"streetLines"`
	City                string   `json:"city"`
	StateOrProvinceCode string   `json:"stateOrProvinceCode,omitempty"`
	PostalCode          string   `json:"postalCode,omitempty"`
	CountryCode         string   `json:"countryCode"`
	Residential         bool     `json:"residential,omitempty"`
}

type partyContact struct {
	PersonName   string `json:"personName,omitempty"`
	EmailAddress string `json:"emailAddress,omitempty"`
	PhoneNumber  string `json:"phoneNumber"`
	CompanyName  string `json:"companyName,omitempty"`
}

type payment struct {
	PaymentType string `json:"paymentType"`
	Payor       *payor `json:"payor,omitempty"`
}

type payor struct {
	ResponsibleParty responsibleParty `json:"responsibleParty"`
}

type responsibleParty struct {
	AccountNumber accountNumber `json:"accountNumber"`
}

type labelSpecification struct {
	ImageType      string `json:"imageType"`
	LabelStockType string `json:"labelStockType"`
}

type packageLineItem struct {
	SequenceNumber     int                 `json:"sequenceNumber"`
	Weight             weight              `json:"weight"`
	Dimensions         *dimensions         `json:"dimensions,omitempty"`
	CustomerReferences []customerReference `json:"customerReferences,omitempty"`
}

type weight struct {
	Units string  `json:"units"`
	Value float64 `json:"value"`
}

type dimensions struct {
	Length int    `json:"length"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Units  string `json:"units"`
}

type customerReference struct {
	CustomerReferenceType string `json:"customerReferenceType"`
	Value                 string `json:"value"`
}

type cancelRequest struct {
	AccountNumber   accountNumber `json:"accountNumber"`
	TrackingNumber  string        `json:"trackingNumber"`
	DeletionControl string        `json:"deletionControl"`
}

type trackByReferencesRequest struct {
	ReferencesInformation referencesInformation `json:"referencesInformation"`
	IncludeDetailedScans  bool                  `json:"includeDetailedScans"`
}

// referencesInformation follows the Track API's examples (shipDateEnd); its schema
// calls the end date shipDateEndDate.
type referencesInformation struct {
	Type          string `json:"type"`
	Value         string `json:"value"`
	AccountNumber string `json:"accountNumber"`
	ShipDateBegin string `json:"shipDateBegin"`
	ShipDateEnd   string `json:"shipDateEnd"`
}

// localError is a request the client cannot put into FedEx's terms: Permanent,
// nothing sent.
func localError(op carriers.Op, requestID, field, format string, args ...any) *carriers.Error {
	return &carriers.Error{Carrier: carriers.FedEx, Op: op, Class: carriers.Permanent, Field: field,
		Message: fmt.Sprintf(format, args...), TransactionID: requestID}
}

// labelFormats maps the hub's label formats to FedEx's imageType and stock.
var labelFormats = map[canonical.LabelFormat]labelSpecification{
	canonical.LabelPDF: {ImageType: "PDF", LabelStockType: "PAPER_4X6"},
	canonical.LabelPNG: {ImageType: "PNG", LabelStockType: "PAPER_4X6"},
	canonical.LabelZPL: {ImageType: "ZPLII", LabelStockType: "STOCK_4X6"},
}

// reference is the value sent as CUSTOMER_REFERENCE and searched by Lookup: the
// hub's reference cut to FedEx Ground's 30 characters, so Ship and Lookup agree
// whatever the service.
func reference(ref string) string {
	return carriers.Truncate(strings.TrimSpace(ref), referenceLimit)
}

// buildShip maps a ShipRequest to FedEx's create-shipment body.
func (c *Client) buildShip(r carriers.ShipRequest) (*shipRequest, *carriers.Error) {
	spec, ok := labelFormats[r.Format]
	if !ok {
		return nil, localError(carriers.OpShip, r.RequestID, "Format", "label format %q is not PDF, PNG or ZPL", r.Format)
	}
	w, err := fedexWeight(r.Weight)
	if err != nil {
		return nil, localError(carriers.OpShip, r.RequestID, "Weight.Unit", "%v", err)
	}
	dims, err := fedexDimensions(r.Dimensions)
	if err != nil {
		return nil, localError(carriers.OpShip, r.RequestID, "Dimensions.Unit", "%v", err)
	}
	shipDate := r.ShipDate
	if shipDate.IsZero() {
		shipDate = c.cfg.Now()
	}
	item := packageLineItem{SequenceNumber: 1, Weight: w, Dimensions: dims}
	if ref := reference(r.Reference); ref != "" {
		item.CustomerReferences = []customerReference{{CustomerReferenceType: customerReferenceType, Value: ref}}
	}
	recipient := fedexParty(r.To)
	recipient.Address.Residential = r.Service == ServiceHomeDelivery
	return &shipRequest{
		LabelResponseOptions: labelResponseLabel,
		AccountNumber:        accountNumber{Value: c.cfg.AccountNumber},
		ShipAction:           "CONFIRM",
		ProcessingOptionType: processingSynchronousOnly,
		RequestedShipment: requestedShipment{
			ShipDatestamp: shipDate.Format(time.DateOnly),
			Shipper:       fedexParty(r.From),
			Recipients:    []party{recipient},
			PickupType:    pickupDropoffAtFedEx,
			ServiceType:   strings.TrimSpace(r.Service),
			PackagingType: packagingYourPackaging,
			TotalWeight:   w.Value,
			ShippingChargesPayment: payment{PaymentType: paymentSender, Payor: &payor{
				ResponsibleParty: responsibleParty{AccountNumber: accountNumber{Value: c.cfg.AccountNumber}}}},
			LabelSpecification:        spec,
			TotalPackageCount:         1,
			RequestedPackageLineItems: []packageLineItem{item},
		},
	}, nil
}

// fedexWeight converts to FedEx's LB or KG (ounces to pounds, grams to
// kilograms), rounded up to a tenth.
func fedexWeight(w canonical.Weight) (weight, error) {
	var out weight
	switch canonical.WeightUnit(strings.ToLower(string(w.Unit))) {
	case canonical.Pound:
		out = weight{Units: "LB", Value: w.Value}
	case canonical.Ounce:
		out = weight{Units: "LB", Value: w.Value / 16}
	case canonical.Kilogram:
		out = weight{Units: "KG", Value: w.Value}
	case canonical.Gram:
		out = weight{Units: "KG", Value: w.Value / 1000}
	default:
		return out, fmt.Errorf("weight unit %q is not lb, kg, oz or g", w.Unit)
	}
	if out.Value > 0 {
		out.Value = math.Ceil(out.Value*10-1e-9) / 10
	}
	return out, nil
}

// fedexDimensions converts to FedEx's whole inches or centimetres, rounded up;
// no dimensions (all zero) is nil.
func fedexDimensions(d canonical.Dimensions) (*dimensions, error) {
	if d.Length == 0 && d.Width == 0 && d.Height == 0 {
		return nil, nil
	}
	var units string
	switch canonical.LengthUnit(strings.ToLower(string(d.Unit))) {
	case canonical.Inch:
		units = "IN"
	case canonical.Centimetre:
		units = "CM"
	default:
		return nil, fmt.Errorf("dimension unit %q is not in or cm", d.Unit)
	}
	up := func(v float64) int { return int(math.Ceil(v - 1e-9)) }
	return &dimensions{Length: up(d.Length), Width: up(d.Width), Height: up(d.Height), Units: units}, nil
}

// fedexParty maps a canonical address to a FedEx party: country, state or province
// and phone normalised (carriers.CountryCode, RegionCode, PhoneDigits: FedEx wants
// a US or Canadian phone as its 10 digits), the rest trimmed.
func fedexParty(a canonical.Address) party {
	country := carriers.CountryCode(a.Country)
	var lines []string
	for _, l := range []string{a.Address1, a.Address2} {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if lines == nil {
		lines = []string{""} // FedEx, not the schema, reports the missing street
	}
	return party{
		Address: partyAddress{
			StreetLines:         lines,
			City:                strings.TrimSpace(a.City),
			StateOrProvinceCode: carriers.RegionCode(country, a.Region),
			PostalCode:          strings.ToUpper(strings.TrimSpace(a.PostalCode)),
			CountryCode:         country,
		},
		Contact: partyContact{
			PersonName:   strings.TrimSpace(a.Name),
			CompanyName:  strings.TrimSpace(a.Company),
			EmailAddress: strings.TrimSpace(a.Email),
			PhoneNumber:  carriers.PhoneDigits(country, a.Phone),
		},
	}
}
