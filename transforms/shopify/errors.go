package shopify

import (
	"errors"

	"github.com/paklog/integration-hub/transforms/internal/mapping"
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
//
// Field is the JSON path in the Shopify body ("line_items[2].sku", "id"),
// empty for the body itself; Value the offending value, JSON-encoded;
// Detail what is wrong; Err one of the Err… sentinels above.
type MappingError = mapping.Error
