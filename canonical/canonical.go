package canonical

import (
	"fmt"
	"time"
)

// Schema names: the value of every message's "schema" field, and the base
// name of its JSON Schema document (SchemaDocument).
const (
	SchemaOrder           = "paklog.order.v1"
	SchemaOrderCancel     = "paklog.order_cancel.v1"
	SchemaShipment        = "paklog.shipment.v1"
	SchemaLabel           = "paklog.label.v1"
	SchemaShipConfirm     = "paklog.ship_confirm.v1"
	SchemaInventoryAdvice = "paklog.inventory_advice.v1"
)

// Channel is the kind of system a message came from (Source.Channel).
type Channel string

// Channels, as in Source.Channel and the "source" metadata of hub messages.
const (
	ChannelShopify Channel = "shopify"
	ChannelMagento Channel = "magento"
	ChannelCustom  Channel = "custom"
	ChannelEDI     Channel = "edi"
	ChannelERP     Channel = "erp"
	ChannelCSV     Channel = "csv"
	ChannelAPI     Channel = "api"
)

// ServiceLevel is a carrier-neutral shipping speed, normalised from the
// source's own method names. The empty ServiceLevel means "not stated": the
// fulfilment core applies the partner's default.
type ServiceLevel string

// Service levels.
const (
	ServiceNone    ServiceLevel = ""
	ServiceGround  ServiceLevel = "ground"
	ServiceEconomy ServiceLevel = "economy"
	ServiceTwoDay  ServiceLevel = "two_day"
	ServiceNextDay ServiceLevel = "next_day"
	ServiceSameDay ServiceLevel = "same_day"
	ServiceFreight ServiceLevel = "freight"
	ServicePickup  ServiceLevel = "pickup"
)

// LabelFormat is the file format of a shipping label.
type LabelFormat string

// Label formats.
const (
	LabelPDF LabelFormat = "PDF"
	LabelZPL LabelFormat = "ZPL"
	LabelPNG LabelFormat = "PNG"
)

// WeightUnit is the unit of a Weight.
type WeightUnit string

// Weight units.
const (
	Pound    WeightUnit = "lb"
	Kilogram WeightUnit = "kg"
	Ounce    WeightUnit = "oz"
	Gram     WeightUnit = "g"
)

// LengthUnit is the unit of Dimensions.
type LengthUnit string

// Length units.
const (
	Inch       LengthUnit = "in"
	Centimetre LengthUnit = "cm"
)

// UnitEach is the X12 unit code for single items, the default Line.UOM.
const UnitEach = "EA"

// DateLayout is the time layout of a Date.
const DateLayout = "2006-01-02"

// Date is a calendar date written "YYYY-MM-DD", with no time zone: an order
// date or a requested ship date means the same day wherever it is read.
// The zero Date ("") means "not given".
type Date string

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	return Date(t.Format(DateLayout))
}

// Time parses d as midnight UTC of that day.
func (d Date) Time() (time.Time, error) {
	t, err := time.Parse(DateLayout, string(d))
	if err != nil {
		return time.Time{}, fmt.Errorf("parsing date %q: want YYYY-MM-DD", string(d))
	}
	return t, nil
}

// IsZero reports whether d is the empty date.
func (d Date) IsZero() bool { return d == "" }

// Money is an amount in a currency. Amount is a decimal string ("12.50",
// "-3", "0.075"), never a float, so that no cent is lost in transit;
// Currency is an ISO 4217 code ("USD").
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// IsZero reports whether m is the zero Money, which is omitted from JSON.
func (m Money) IsZero() bool { return m == Money{} }

// Address is a postal address with its contact. Region is the state or
// province code ("CA", "ON"); Country is ISO 3166-1 alpha-2 ("US", "GB").
type Address struct {
	Name       string `json:"name,omitempty"`
	Company    string `json:"company,omitempty"`
	Address1   string `json:"address1,omitempty"`
	Address2   string `json:"address2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Email      string `json:"email,omitempty"`
}

// Source says where a message came from: the channel, the partner key from
// the hub's configuration, the document's id in the source system and the
// kind of document.
type Source struct {
	Channel Channel `json:"channel"`
	// Partner is the partner, shop or store key from the configuration.
	Partner string `json:"partner"`
	// ExternalID is the id in the source system: Shopify order id, Magento
	// entity_id, X12 BEG03/W0502, IDoc number, CSV order_number.
	ExternalID string `json:"external_id"`
	// Document is the kind of source document: "orders/create", "850",
	// "940", "ORDERS05", "csv".
	Document string `json:"document,omitempty"`
	// ReceivedAt is when the hub durably accepted the document (UTC).
	ReceivedAt time.Time `json:"received_at,omitzero"`
}
