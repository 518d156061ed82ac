// Package mapping holds what the JSON order transforms (transforms/shopify,
// transforms/magento) share: the typed field reader that collects an
// *Error per bad field, the Error type itself, JSON path helpers and the
// small value checks both mappings make.
//
// Each transform keeps its own sentinels (their messages name the
// channel) and passes its ErrInvalidValue to the Reader; where the two
// channels read a field differently (numbers as strings, trailing data
// after the body, time formats), the difference is a field or a parameter
// here, set by the transform.
package mapping
