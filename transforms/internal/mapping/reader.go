package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Object is a decoded JSON object, its numbers kept as json.Number so that
// ids above 2^53 are never rounded through float64.
type Object = map[string]any

// Trailing says what after the body's JSON object DecodeObject refuses.
type Trailing int

const (
	// RefuseTrailingValue refuses a second JSON value after the object
	// ("{} 1"); trailing text that is not a value ("{} x") is ignored.
	RefuseTrailingValue Trailing = iota
	// RefuseTrailingText refuses anything but white space, "]" or "}"
	// after the object.
	RefuseTrailingText
)

// DecodeObject decodes a JSON object, numbers as json.Number.
func DecodeObject(body []byte, trailing Trailing) (Object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if trailing == RefuseTrailingText && dec.More() {
		return nil, errors.New("data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, errors.New("data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

// Reader reads typed fields out of objects, collecting an *Error for
// every field of the wrong type.
type Reader struct {
	// Invalid is the sentinel of a field of the wrong type or value: the
	// transform's ErrInvalidValue.
	Invalid error
	// NumbersAsText makes Str accept a JSON number as its decimal text;
	// otherwise a number where a string belongs is an error.
	NumbersAsText bool
	// Errs are the problems found so far.
	Errs []error
	// Covered lists canonical paths ("ship_to", "lines") whose problems an
	// Error already reports.
	Covered []string
}

// Add records a problem with field.
func (r *Reader) Add(field, value, detail string, err error) {
	r.Errs = append(r.Errs, &Error{Field: field, Value: value, Detail: detail, Err: err})
}

// Err joins the problems found, nil when none.
func (r *Reader) Err() error { return errors.Join(r.Errs...) }

// Uncovered drops the problems an Error already reports.
func (r *Reader) Uncovered(ps canonical.Problems) canonical.Problems {
	var out canonical.Problems
	for _, p := range ps {
		if !slices.ContainsFunc(r.Covered, func(c string) bool {
			return p.Path == c || strings.HasPrefix(p.Path, c+".") || strings.HasPrefix(p.Path, c+"[")
		}) {
			out = append(out, p)
		}
	}
	return out
}

// Show renders a JSON value for Error.Value, cut to a readable length.
func Show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 80
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// WrongType records that the value v at path is not what it must be.
func (r *Reader) WrongType(path string, v any, want string) {
	r.Add(path, Show(v), "must be "+want+", not "+kind(v), r.Invalid)
}

// Str returns o[key] as a trimmed string; absent and null are "". A number
// is its decimal text when NumbersAsText, an error otherwise.
func (r *Reader) Str(o Object, path, key string) string {
	switch v := o[key].(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		if r.NumbersAsText {
			return v.String()
		}
		r.WrongType(Join(path, key), v, "a string")
		return ""
	default:
		r.WrongType(Join(path, key), v, "a string")
		return ""
	}
}

// ID returns o[key] as an int64 id, accepting a JSON integer or a string of
// digits; ok is false when absent or null.
func (r *Reader) ID(o Object, path, key string) (id int64, ok bool) {
	v := o[key]
	var s string
	switch v := v.(type) {
	case nil:
		return 0, false
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		r.WrongType(Join(path, key), v, "an integer id")
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		r.Add(Join(path, key), Show(v), "must be a positive 64-bit integer id", r.Invalid)
		return 0, false
	}
	return n, true
}

// Obj returns o[key] as an object; absent and null are nil.
func (r *Reader) Obj(o Object, path, key string) Object {
	switch v := o[key].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		r.WrongType(Join(path, key), v, "an object")
		return nil
	}
}

// Array returns o[key] as an array; absent and null are nil.
func (r *Reader) Array(o Object, path, key string) []any {
	switch v := o[key].(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		r.WrongType(Join(path, key), v, "an array")
		return nil
	}
}

// Time returns o[key], read with Str, parsed with parse; absent, null and
// "" are the zero time. A value parse refuses is an error with detail.
func (r *Reader) Time(o Object, path, key string, parse func(string) (time.Time, error), detail string) time.Time {
	s := r.Str(o, path, key)
	if s == "" {
		return time.Time{}
	}
	t, err := parse(s)
	if err != nil {
		r.Add(Join(path, key), Show(s), detail, r.Invalid)
		return time.Time{}
	}
	return t
}

// IsDecimal reports whether s is a plain decimal: "12.50", "-3", "0".
func IsDecimal(s string) bool {
	s = strings.TrimPrefix(s, "-")
	whole, frac, dot := strings.Cut(s, ".")
	return digits(whole) && (!dot || digits(frac))
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// IsUpperCode reports whether s is n letters A to Z: a currency or country
// code.
func IsUpperCode(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Blank reports whether a JSON value is absent, null or a blank string.
func Blank(v any) bool {
	s, isString := v.(string)
	return v == nil || isString && strings.TrimSpace(s) == ""
}

// Placeholders stand in for the order_id and received_at the hub assigns,
// so that a message can be validated before it has them.
const placeholderOrderID = canonical.OrderIDPrefix + "00000000000000000000000000"

var placeholderReceivedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// CheckOrder validates o with placeholder order_id and received_at and
// adds to Errs, as one canonical.Problems, the problems no Error already
// reports (see Covered). A validation error that is not
// canonical.Problems is returned.
func (r *Reader) CheckOrder(o canonical.Order) error {
	o.OrderID, o.Source.ReceivedAt = placeholderOrderID, placeholderReceivedAt
	if err := o.Validate(); err != nil {
		var ps canonical.Problems
		if !errors.As(err, &ps) {
			return err
		}
		if ps = r.Uncovered(ps); len(ps) > 0 {
			r.Errs = append(r.Errs, ps)
		}
	}
	return nil
}

// CheckCancel validates c with placeholder order_id and received_at.
func CheckCancel(c canonical.OrderCancel) error {
	c.OrderID, c.Source.ReceivedAt = placeholderOrderID, placeholderReceivedAt
	return c.Validate()
}
