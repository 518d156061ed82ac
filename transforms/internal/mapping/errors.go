package mapping

import "strconv"

// Error is one problem found translating a body, located by its JSON path
// in the channel's body. Error reads like
//
//	line_items[2].sku: line 466157049 "IPod Nano - 8gb" has no SKU
//
// The transforms export it as their MappingError.
type Error struct {
	// Field is the JSON path in the channel's body: "line_items[2].sku",
	// "shipping_address", "id". Empty for the body itself.
	Field string
	// Value is the offending value as found, JSON-encoded ("" when absent).
	Value string
	// Detail says what is wrong, for the person fixing the channel's data.
	Detail string
	// Err is the rule broken: one of the transform's Err… sentinels.
	Err error
}

func (e *Error) Error() string {
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
func (e *Error) Unwrap() error { return e.Err }

// Index appends "[i]" to a JSON path.
func Index(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// Join appends ".key" to a JSON path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
