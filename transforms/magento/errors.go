package magento

import (
	"errors"
	"strconv"
)

// Sentinel errors, one per mapping rule. Every problem with an order body
// is a *MappingError that unwraps to one of these, for errors.Is.
var (
	// ErrMalformed: the body is not a JSON object.
	ErrMalformed = errors.New("magento translation: malformed body")
	// ErrMissingField: a field the mapping needs (entity_id, an item's
	// item_id or qty_ordered, an address's country_id) is absent, null or
	// empty.
	ErrMissingField = errors.New("magento translation: field missing")
	// ErrInvalidValue: a field has the wrong JSON type or a value the
	// canonical order cannot carry (an id that is not an int64, a price
	// that is not a number, a created_at or updated_at in none of the
	// forms ParseTime accepts).
	ErrInvalidValue = errors.New("magento translation: invalid value")
	// ErrMissingSKU: a shippable item has no sku.
	ErrMissingSKU = errors.New("magento translation: item without SKU")
	// ErrNoShippingAddress: the order has shippable items but
	// extension_attributes.shipping_assignments[0].shipping.address is
	// absent.
	ErrNoShippingAddress = errors.New("magento translation: no shipping address")
)

// MappingError is one problem found translating an order body, located by
// its JSON path in the Magento body. Error reads like
//
//	items[2].sku: item 12 "Chaz Kangeroo Hoodie" has no SKU
type MappingError struct {
	// Field is the JSON path in the Magento body: "items[2].sku",
	// "extension_attributes.shipping_assignments[0].shipping.address",
	// "entity_id". Empty for the body itself.
	Field string
	// Value is the offending value as found, JSON-encoded ("" when absent).
	Value string
	// Detail says what is wrong, for the person fixing the store's data.
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
