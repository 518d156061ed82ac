package shopify

import (
	"errors"
	"strconv"
)

// Sentinel errors, one per mapping rule. Every problem with a webhook body
// is a *MappingError that unwraps to one of these, for errors.Is.
var (
	// ErrTopic: the topic is not one OrderFromWebhook translates.
	ErrTopic = errors.New("shopify translation: unsupported topic")
	// ErrMalformed: the body is not a JSON object.
	ErrMalformed = errors.New("shopify translation: malformed body")
	// ErrMissingField: a field the mapping needs (id, a line's id, an
	// address's country_code) is absent, null or empty.
	ErrMissingField = errors.New("shopify translation: field missing")
	// ErrInvalidValue: a field has the wrong JSON type or a value the
	// canonical order cannot carry (an id that is not an int64, a price
	// that is not a decimal, a time that is not RFC 3339).
	ErrInvalidValue = errors.New("shopify translation: invalid value")
	// ErrMissingSKU: a shippable line has no sku and Options.SKUFallback
	// gives none either.
	ErrMissingSKU = errors.New("shopify translation: line without SKU")
	// ErrNoShippingAddress: the order has shippable lines but no
	// shipping_address.
	ErrNoShippingAddress = errors.New("shopify translation: no shipping address")
)

// MappingError is one problem found translating a webhook body, located by
// its JSON path in the Shopify body. Error reads like
//
//	line_items[2].sku: line 466157049 "IPod Nano - 8gb" has no SKU
type MappingError struct {
	// Field is the JSON path in the Shopify body: "line_items[2].sku",
	// "shipping_address", "id". Empty for the body itself.
	Field string
	// Value is the offending value as found, JSON-encoded ("" when absent).
	Value string
	// Detail says what is wrong, for the person fixing the shop's data.
	Detail string
	// Err is the rule broken: one of the Err… sentinels.
	Err error
}

func (e *MappingError) Error() string {
	field := e.Field
	if field == "" {
		field = "(body)"
	}
	s := field + ": " + e.Detail
	if e.Value != "" {
		s += ", got " + e.Value
	}
	return s
}

// Unwrap returns the sentinel of the rule broken.
func (e *MappingError) Unwrap() error { return e.Err }

// index appends "[i]" to a JSON path.
func index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// join appends ".key" to a JSON path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
