package magento

import (
	"errors"

	"github.com/paklog/integration-hub/transforms/internal/mapping"
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
//
// Field is the JSON path in the Magento body ("items[2].sku",
// "extension_attributes.shipping_assignments[0].shipping.address", "entity_id"),
// empty for the body itself; Value the offending value, JSON-encoded;
// Detail what is wrong; Err one of the Err… sentinels above.
type MappingError = mapping.Error
