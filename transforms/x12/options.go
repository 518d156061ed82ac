package x12

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	edi "github.com/paklog/integration-hub/edi/x12"
)

// Envelope is what the translation needs from around a transaction set:
// the partner key from the hub's configuration and the control numbers
// and parties of the interchange, group and set. They go to source.partner
// and to the order's attributes (x12_sender_id, x12_receiver_id, x12_isa13,
// x12_gs06, x12_st02), so that an order can be traced to its file.
type Envelope struct {
	// Partner is the trading partner's key in the configuration
	// (source.partner).
	Partner           string
	SenderQualifier   string // ISA05
	SenderID          string // ISA06, without padding
	ReceiverQualifier string // ISA07
	ReceiverID        string // ISA08, without padding
	// InterchangeControlNumber is ISA13.
	InterchangeControlNumber string
	// GroupControlNumber is GS06.
	GroupControlNumber string
	// SetControlNumber is ST02; when empty the set's own ST02 is used.
	SetControlNumber string
}

// EnvelopeOf fills an Envelope from a set read by an edi/x12 Decoder.
func EnvelopeOf(partner string, ts *edi.TransactionSet) Envelope {
	env := Envelope{Partner: partner, SetControlNumber: ts.ControlNumber}
	if g := ts.Group; g != nil {
		env.GroupControlNumber = g.ControlNumber
		if ic := g.Interchange; ic != nil {
			env.SenderQualifier, env.SenderID = ic.SenderQualifier, ic.SenderID
			env.ReceiverQualifier, env.ReceiverID = ic.ReceiverQualifier, ic.ReceiverID
			env.InterchangeControlNumber = ic.ControlNumber
		}
	}
	return env
}

// Options is a trading partner's mapping configuration: plain data, so that
// a YAML or JSON file can fill it, with no code per partner. The zero value
// of every field means "the default" (see DefaultOptions); maps are merged
// over the defaults (an entry replaces the default for its key), lists
// replace the default list.
type Options struct {
	// SKUPrecedence lists product ID qualifiers (PO106, PO108… in the 850;
	// W0104, W0106, W0115 in the 940; code list 235) in order of preference
	// for the line's SKU. The W0103 U.P.C. case code counts as "UA".
	// Default: VP VN VC SK BP IN CB UP UK UA EN, that is vendor part >
	// SKU > buyer part > UPC/GTIN.
	SKUPrecedence []string `json:"sku_precedence,omitempty" yaml:"sku_precedence,omitempty"`
	// ShipToEntity is the N101 entity code of the ship-to loop. Default "ST".
	ShipToEntity string `json:"ship_to_entity,omitempty" yaml:"ship_to_entity,omitempty"`
	// BillToEntity is the N101 entity code of the bill-to loop. Default "BT".
	BillToEntity string `json:"bill_to_entity,omitempty" yaml:"bill_to_entity,omitempty"`
	// CustomerEntity is the N101 entity code whose name and contact fill
	// customer. Default "BY" (buying party).
	CustomerEntity string `json:"customer_entity,omitempty" yaml:"customer_entity,omitempty"`
	// ServiceLevels maps carrier codes and routing text to service levels.
	ServiceLevels ServiceLevelRules `json:"service_levels,omitzero" yaml:"service_levels,omitempty"`
	// Carriers maps a SCAC (TD503, W6610) to the canonical carrier name;
	// merged over DefaultCarriers.
	Carriers map[string]string `json:"carriers,omitempty" yaml:"carriers,omitempty"`
	// DefaultCurrency is the ISO 4217 code of the prices when the 850 has
	// no CUR segment. Default "USD".
	DefaultCurrency string `json:"default_currency,omitempty" yaml:"default_currency,omitempty"`
	// DefaultCountry is the ISO 3166-1 alpha-2 country of an address whose
	// N404 is empty. Default "US".
	DefaultCountry string `json:"default_country,omitempty" yaml:"default_country,omitempty"`
	// OmitBuyerItems leaves lines[].buyer_item empty: for partners whose
	// item numbers must not reach the warehouse. The buyer's numbers can
	// still be the SKU through SKUPrecedence.
	OmitBuyerItems bool `json:"omit_buyer_items,omitempty" yaml:"omit_buyer_items,omitempty"`
	// ShipDateQualifiers are the DTM01 qualifiers (850) for
	// requested_ship_date, first found wins. Default 010 (requested ship),
	// 037 (ship not before).
	ShipDateQualifiers []string `json:"ship_date_qualifiers,omitempty" yaml:"ship_date_qualifiers,omitempty"`
	// DeliveryDateQualifiers are the DTM01 qualifiers (850) for
	// requested_delivery_date. Default 002 (delivery requested).
	DeliveryDateQualifiers []string `json:"delivery_date_qualifiers,omitempty" yaml:"delivery_date_qualifiers,omitempty"`
	// G62ShipDateQualifiers are the G6201 qualifiers (940) for
	// requested_ship_date. Default 10 (requested ship/pick-up date).
	G62ShipDateQualifiers []string `json:"g62_ship_date_qualifiers,omitempty" yaml:"g62_ship_date_qualifiers,omitempty"`
	// G62DeliveryDateQualifiers are the G6201 qualifiers (940) for
	// requested_delivery_date. Default 02 (delivery requested).
	G62DeliveryDateQualifiers []string `json:"g62_delivery_date_qualifiers,omitempty" yaml:"g62_delivery_date_qualifiers,omitempty"`
	// OrderPurposes are the BEG01 purpose codes translated as new orders.
	// Default 00 (original): a cancellation (01), change (04), replace (05),
	// confirmation (06) or duplicate (07) is refused with ErrPurpose rather
	// than risk a second shipment.
	OrderPurposes []string `json:"order_purposes,omitempty" yaml:"order_purposes,omitempty"`
	// OrderStatuses are the W0501 order status codes translated as new
	// orders. Default N (original).
	OrderStatuses []string `json:"order_statuses,omitempty" yaml:"order_statuses,omitempty"`
	// ChangeOptions configure ChangeFrom860 and CancelFrom940 (see
	// changeopts.go).
	ChangeOptions `yaml:",inline"`
}

// ServiceLevelRules normalise a set's carrier details to a
// canonical.ServiceLevel. The first rule that matches wins, in the order
// of the fields. Keys are compared after trimming and upper-casing (and,
// for Routing, collapsing runs of spaces).
type ServiceLevelRules struct {
	// ServiceCodes maps TD512 service level codes (code list 284), 850 only.
	ServiceCodes map[string]canonical.ServiceLevel `json:"service_codes,omitempty" yaml:"service_codes,omitempty"`
	// Routing maps the routing text, TD505 (850) or W6605 (940), e.g.
	// "UPS GROUND".
	Routing map[string]canonical.ServiceLevel `json:"routing,omitempty" yaml:"routing,omitempty"`
	// TransportMethods maps transportation method codes (code list 91),
	// TD504 (850) or W6602 (940), e.g. "H" customer pickup.
	TransportMethods map[string]canonical.ServiceLevel `json:"transport_methods,omitempty" yaml:"transport_methods,omitempty"`
}

// DefaultCarriers maps common SCACs to carrier names.
var DefaultCarriers = map[string]string{
	"UPSN": "UPS", "UPSS": "UPS", "UPSC": "UPS",
	"FDE": "FEDEX", "FDEG": "FEDEX", "FDEN": "FEDEX", "FXFE": "FEDEX", "FEDX": "FEDEX",
	"USPS": "USPS",
	"DHLC": "DHL", "DHL": "DHL",
}

// DefaultServiceLevels are the rules applied when a partner gives none.
var DefaultServiceLevels = ServiceLevelRules{
	ServiceCodes: map[string]canonical.ServiceLevel{
		"CG": canonical.ServiceGround,  // Ground
		"SG": canonical.ServiceGround,  // Standard Ground
		"ND": canonical.ServiceNextDay, // Next Day Air
		"ON": canonical.ServiceNextDay, // Overnight
		"AM": canonical.ServiceNextDay, // A.M. (next day, morning)
		"SC": canonical.ServiceTwoDay,  // Second Day Air
		"SE": canonical.ServiceTwoDay,  // Second Day
		"3D": canonical.ServiceEconomy, // Three Day Service
		"SA": canonical.ServiceSameDay, // Same Day
	},
	Routing: map[string]canonical.ServiceLevel{
		"GROUND":           canonical.ServiceGround,
		"UPS GROUND":       canonical.ServiceGround,
		"FEDEX GROUND":     canonical.ServiceGround,
		"NEXT DAY":         canonical.ServiceNextDay,
		"OVERNIGHT":        canonical.ServiceNextDay,
		"UPS NEXT DAY AIR": canonical.ServiceNextDay,
		"FEDEX OVERNIGHT":  canonical.ServiceNextDay,
		"2ND DAY":          canonical.ServiceTwoDay,
		"SECOND DAY":       canonical.ServiceTwoDay,
		"UPS 2ND DAY AIR":  canonical.ServiceTwoDay,
		"FEDEX 2DAY":       canonical.ServiceTwoDay,
		"LTL":              canonical.ServiceFreight,
		"CUSTOMER PICKUP":  canonical.ServicePickup,
		"WILL CALL":        canonical.ServicePickup,
	},
	TransportMethods: map[string]canonical.ServiceLevel{
		"H":  canonical.ServicePickup,  // Customer Pickup
		"LT": canonical.ServiceFreight, // Less Than Trailer Load (LTL)
	},
}

// DefaultOptions returns the options used for every field a partner leaves
// empty.
func DefaultOptions() Options {
	return Options{
		SKUPrecedence:  []string{"VP", "VN", "VC", "SK", "BP", "IN", "CB", "UP", "UK", "UA", "EN"},
		ShipToEntity:   "ST",
		BillToEntity:   "BT",
		CustomerEntity: "BY",
		ServiceLevels: ServiceLevelRules{
			ServiceCodes:     maps.Clone(DefaultServiceLevels.ServiceCodes),
			Routing:          maps.Clone(DefaultServiceLevels.Routing),
			TransportMethods: maps.Clone(DefaultServiceLevels.TransportMethods),
		},
		Carriers:                  maps.Clone(DefaultCarriers),
		DefaultCurrency:           "USD",
		DefaultCountry:            "US",
		ShipDateQualifiers:        []string{"010", "037"},
		DeliveryDateQualifiers:    []string{"002"},
		G62ShipDateQualifiers:     []string{"10"},
		G62DeliveryDateQualifiers: []string{"02"},
		OrderPurposes:             []string{"00"},
		OrderStatuses:             []string{"N"},
		ChangeOptions:             defaultChangeOptions(),
	}
}

// withDefaults returns o with every empty field set from DefaultOptions,
// maps merged over the defaults and their keys normalised.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	list := func(v, def []string) []string {
		if len(v) == 0 {
			return def
		}
		out := make([]string, len(v))
		for i, s := range v {
			out[i] = strings.ToUpper(strings.TrimSpace(s))
		}
		return out
	}
	str := func(v, def string) string {
		if v = strings.ToUpper(strings.TrimSpace(v)); v == "" {
			return def
		}
		return v
	}
	d.SKUPrecedence = list(o.SKUPrecedence, d.SKUPrecedence)
	d.ShipToEntity = str(o.ShipToEntity, d.ShipToEntity)
	d.BillToEntity = str(o.BillToEntity, d.BillToEntity)
	d.CustomerEntity = str(o.CustomerEntity, d.CustomerEntity)
	d.DefaultCurrency = str(o.DefaultCurrency, d.DefaultCurrency)
	d.DefaultCountry = str(o.DefaultCountry, d.DefaultCountry)
	d.OmitBuyerItems = o.OmitBuyerItems
	d.ShipDateQualifiers = list(o.ShipDateQualifiers, d.ShipDateQualifiers)
	d.DeliveryDateQualifiers = list(o.DeliveryDateQualifiers, d.DeliveryDateQualifiers)
	d.G62ShipDateQualifiers = list(o.G62ShipDateQualifiers, d.G62ShipDateQualifiers)
	d.G62DeliveryDateQualifiers = list(o.G62DeliveryDateQualifiers, d.G62DeliveryDateQualifiers)
	d.OrderPurposes = list(o.OrderPurposes, d.OrderPurposes)
	d.OrderStatuses = list(o.OrderStatuses, d.OrderStatuses)
	d.ChangeOptions = o.ChangeOptions.withDefaults(d.ChangeOptions, list)
	for k, v := range o.Carriers {
		d.Carriers[normKey(k)] = strings.TrimSpace(v)
	}
	merge := func(dst, src map[string]canonical.ServiceLevel) {
		for k, v := range src {
			dst[normKey(k)] = v
		}
	}
	merge(d.ServiceLevels.ServiceCodes, o.ServiceLevels.ServiceCodes)
	merge(d.ServiceLevels.Routing, o.ServiceLevels.Routing)
	merge(d.ServiceLevels.TransportMethods, o.ServiceLevels.TransportMethods)
	return d
}

// normKey trims, upper-cases and collapses runs of white space.
func normKey(s string) string { return strings.Join(strings.Fields(strings.ToUpper(s)), " ") }

var (
	reCurrency  = regexp.MustCompile(`^[A-Z]{3}$`)
	reCountry   = regexp.MustCompile(`^[A-Z]{2}$`)
	reQualifier = regexp.MustCompile(`^[A-Z0-9]{1,3}$`)
)

var serviceLevels = []canonical.ServiceLevel{
	canonical.ServiceNone, canonical.ServiceGround, canonical.ServiceEconomy, canonical.ServiceTwoDay,
	canonical.ServiceNextDay, canonical.ServiceSameDay, canonical.ServiceFreight, canonical.ServicePickup,
}

// Validate reports every problem with the options, naming the field and
// the value: an unknown service level, a currency or country that is not
// an ISO code, a qualifier that is not 1 to 3 letters and digits.
func (o Options) Validate() error {
	var errs []error
	o = o.withDefaults()
	codes := func(field string, vs []string) {
		for i, v := range vs {
			if !reQualifier.MatchString(v) {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is not an X12 code (1 to 3 letters and digits)", field, i, v))
			}
		}
	}
	codes("sku_precedence", o.SKUPrecedence)
	codes("ship_date_qualifiers", o.ShipDateQualifiers)
	codes("delivery_date_qualifiers", o.DeliveryDateQualifiers)
	codes("g62_ship_date_qualifiers", o.G62ShipDateQualifiers)
	codes("g62_delivery_date_qualifiers", o.G62DeliveryDateQualifiers)
	codes("order_purposes", o.OrderPurposes)
	codes("order_statuses", o.OrderStatuses)
	codes("ship_to_entity", []string{o.ShipToEntity})
	codes("bill_to_entity", []string{o.BillToEntity})
	codes("customer_entity", []string{o.CustomerEntity})
	if !reCurrency.MatchString(o.DefaultCurrency) {
		errs = append(errs, fmt.Errorf("default_currency: %q is not an ISO 4217 code (3 letters)", o.DefaultCurrency))
	}
	if !reCountry.MatchString(o.DefaultCountry) {
		errs = append(errs, fmt.Errorf("default_country: %q is not an ISO 3166-1 alpha-2 code (2 letters)", o.DefaultCountry))
	}
	levels := func(field string, m map[string]canonical.ServiceLevel) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(serviceLevels, m[k]) {
				errs = append(errs, fmt.Errorf("service_levels.%s[%q]: %q is not a service level (ground, economy, two_day, next_day, same_day, freight, pickup or empty)", field, k, m[k]))
			}
		}
	}
	levels("service_codes", o.ServiceLevels.ServiceCodes)
	levels("routing", o.ServiceLevels.Routing)
	levels("transport_methods", o.ServiceLevels.TransportMethods)
	errs = append(errs, o.validateChange()...)
	return errors.Join(errs...)
}

// serviceLevel applies the rules: service code, then routing text, then
// transport method.
func (r ServiceLevelRules) serviceLevel(serviceCode, routing, method string) canonical.ServiceLevel {
	if l, ok := r.ServiceCodes[normKey(serviceCode)]; ok && serviceCode != "" {
		return l
	}
	if l, ok := r.Routing[normKey(routing)]; ok && routing != "" {
		return l
	}
	if l, ok := r.TransportMethods[normKey(method)]; ok && method != "" {
		return l
	}
	return canonical.ServiceNone
}
