package x12

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Sentinels of ChangeFrom860 and CancelFrom940, besides those of errors.go.
var (
	// ErrChangeType: a POC02 change type code that is not in
	// Options.ChangeTypes.
	ErrChangeType = errors.New("x12 translation: change type not translated")
	// ErrInvalidCancel: the built cancel breaks paklog.order_cancel.v1; the
	// MappingError's Field is the JSON path.
	ErrInvalidCancel = errors.New("x12 translation: cancel breaks paklog.order_cancel.v1")
)

// ChangeAction is what an 860 line change (POC02) does to an order line.
type ChangeAction string

// The actions of DefaultChangeTypes. A LineChange carries the new values
// the action needs (see LineChange).
const (
	// ActionAdd adds the line to the order (AI): quantity and SKU required.
	ActionAdd ChangeAction = "add"
	// ActionCancel removes the line (DI, or QD to quantity 0).
	ActionCancel ChangeAction = "cancel"
	// ActionQuantityIncrease sets a higher quantity (QI): the new quantity
	// ordered (POC03) is required.
	ActionQuantityIncrease ChangeAction = "quantity_increase"
	// ActionQuantityDecrease sets a lower quantity (QD): the new quantity
	// ordered (POC03) is required.
	ActionQuantityDecrease ChangeAction = "quantity_decrease"
	// ActionPriceChange sets a new unit price (PC): POC06 required.
	ActionPriceChange ChangeAction = "price_change"
	// ActionPriceQuantityChange sets a new price and quantity (PQ): POC03
	// and POC06 required.
	ActionPriceQuantityChange ChangeAction = "price_quantity_change"
	// ActionChange replaces the values the POC gives (CA, changes to line
	// items): the quantity, unit, price and item IDs that are present.
	ActionChange ChangeAction = "change"
	// ActionNoChange: the line is repeated unchanged (NC, concurrent item).
	ActionNoChange ChangeAction = "no_change"
)

var changeActions = []ChangeAction{ActionAdd, ActionCancel, ActionQuantityIncrease, ActionQuantityDecrease,
	ActionPriceChange, ActionPriceQuantityChange, ActionChange, ActionNoChange}

// DefaultChangeTypes maps the POC02 change or response type codes (X12
// element 670) that ChangeFrom860 translates by default. Codes not listed
// (CF, CT, RS, RQ, RZ, RE, RM, TI, …) are refused with ErrChangeType: dates,
// schedules, replacement items and "replace all values" have no place in
// an order update.
var DefaultChangeTypes = map[string]ChangeAction{
	"AI": ActionAdd,                 // Add Additional Item(s)
	"DI": ActionCancel,              // Delete Item(s)
	"QI": ActionQuantityIncrease,    // Quantity Increase
	"QD": ActionQuantityDecrease,    // Quantity Decrease
	"PC": ActionPriceChange,         // Price Change
	"PQ": ActionPriceQuantityChange, // Unit Price/Quantity Change
	"CA": ActionChange,              // Changes To Line Items
	"NC": ActionNoChange,            // Concurrent Item (No Change)
}

// ChangeOptions are the Options of ChangeFrom860 and CancelFrom940. Lists
// replace the default list; ChangeTypes is merged over DefaultChangeTypes.
type ChangeOptions struct {
	// CancelPurposes are the BCH01 purpose codes (X12 element 353) of an
	// 860 that cancels the whole order. Default 01 (cancellation).
	CancelPurposes []string `json:"cancel_purposes,omitempty" yaml:"cancel_purposes,omitempty"`
	// ChangePurposes are the BCH01 purpose codes of an 860 that changes
	// lines. Default 04 (change). 05 (replace) is not a change: the
	// replacement order is a new order with a new set of lines.
	ChangePurposes []string `json:"change_purposes,omitempty" yaml:"change_purposes,omitempty"`
	// ChangeTypes maps POC02 change type codes to actions, merged over
	// DefaultChangeTypes; an entry with an empty action removes the
	// default, so that the code is refused.
	ChangeTypes map[string]ChangeAction `json:"change_types,omitempty" yaml:"change_types,omitempty"`
	// ChangeIgnoredSegments are segment IDs that a partner's 860 repeats
	// from the order rather than changes, skipped instead of refused with
	// ErrUnsupported: "N1" (the whole N1 loop), "TD5", "DTM", "SDQ".
	// Default none.
	ChangeIgnoredSegments []string `json:"change_ignored_segments,omitempty" yaml:"change_ignored_segments,omitempty"`
	// CancelStatuses are the W0501 order status codes (X12 element 473) of
	// a 940 that cancels the order. Default F (cancel). D (delete) is
	// left to the partner's configuration.
	CancelStatuses []string `json:"cancel_statuses,omitempty" yaml:"cancel_statuses,omitempty"`
	// CancelWholeOrder makes a cancelling 940 cancel the whole order even
	// when it lists W01 lines: for depositors that repeat the order's lines
	// in the cancel. By default listed lines cancel only those lines.
	CancelWholeOrder bool `json:"cancel_whole_order,omitempty" yaml:"cancel_whole_order,omitempty"`
}

func defaultChangeOptions() ChangeOptions {
	return ChangeOptions{
		CancelPurposes: []string{"01"},
		ChangePurposes: []string{"04"},
		ChangeTypes:    maps.Clone(DefaultChangeTypes),
		CancelStatuses: []string{"F"},
	}
}

// withDefaults returns c with its empty fields taken from d, lists
// normalised by list, ChangeTypes merged over d's.
func (c ChangeOptions) withDefaults(d ChangeOptions, list func(v, def []string) []string) ChangeOptions {
	d.CancelPurposes = list(c.CancelPurposes, d.CancelPurposes)
	d.ChangePurposes = list(c.ChangePurposes, d.ChangePurposes)
	d.CancelStatuses = list(c.CancelStatuses, d.CancelStatuses)
	d.ChangeIgnoredSegments = list(c.ChangeIgnoredSegments, d.ChangeIgnoredSegments)
	d.CancelWholeOrder = c.CancelWholeOrder
	d.ChangeTypes = maps.Clone(d.ChangeTypes)
	if d.ChangeTypes == nil {
		d.ChangeTypes = map[string]ChangeAction{}
	}
	for k, v := range c.ChangeTypes {
		k = normKey(k)
		v = ChangeAction(strings.ToLower(strings.TrimSpace(string(v))))
		if v == "" {
			delete(d.ChangeTypes, k)
			continue
		}
		d.ChangeTypes[k] = v
	}
	return d
}

// validateChange checks the change options of o (defaults applied).
func (o Options) validateChange() []error {
	var errs []error
	codes := func(field string, vs []string) {
		for i, v := range vs {
			if !reQualifier.MatchString(v) {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is not an X12 code (1 to 3 letters and digits)", field, i, v))
			}
		}
	}
	codes("cancel_purposes", o.CancelPurposes)
	codes("change_purposes", o.ChangePurposes)
	codes("cancel_statuses", o.CancelStatuses)
	codes("change_ignored_segments", o.ChangeIgnoredSegments)
	for _, k := range slices.Sorted(maps.Keys(o.ChangeTypes)) {
		if !reQualifier.MatchString(k) {
			errs = append(errs, fmt.Errorf("change_types[%q]: not an X12 code (1 to 3 letters and digits)", k))
		}
		if v := o.ChangeTypes[k]; !slices.Contains(changeActions, v) {
			errs = append(errs, fmt.Errorf("change_types[%q]: %q is not a change action (add, cancel, quantity_increase, quantity_decrease, price_change, price_quantity_change, change, no_change, or empty to remove)", k, v))
		}
	}
	// A code in two lists for one element would make one document mean
	// two things. (BEG01 and BCH01 are different elements: an 860 purpose
	// may equal an 850 one.)
	overlap := func(field string, vs []string, otherField string, other []string, why string) {
		for i, v := range vs {
			if slices.Contains(other, v) {
				errs = append(errs, fmt.Errorf("%s[%d]: %q is also in %s: %s", field, i, v, otherField, why))
			}
		}
	}
	overlap("cancel_purposes", o.CancelPurposes, "change_purposes", o.ChangePurposes, "an 860 cannot be both a cancellation and a change")
	overlap("cancel_statuses", o.CancelStatuses, "order_statuses", o.OrderStatuses, "a cancellation would also be translated as a new order")
	return errs
}
