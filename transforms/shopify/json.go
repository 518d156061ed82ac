package shopify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// object is a decoded JSON object, its numbers kept as json.Number so that
// ids above 2^53 are never rounded through float64.
type object map[string]any

// decodeObject decodes a JSON object, numbers as json.Number.
func decodeObject(body []byte) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	if _, err := dec.Token(); err == nil {
		return nil, fmt.Errorf("data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// reader reads typed fields out of objects, collecting a *MappingError for
// every field of the wrong type.
type reader struct {
	errs []error
}

func (r *reader) add(field, value, detail string, err error) {
	r.errs = append(r.errs, &MappingError{Field: field, Value: value, Detail: detail, Err: err})
}

// show renders a JSON value for MappingError.Value, cut to a readable length.
func show(v any) string {
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

func (r *reader) wrongType(path string, v any, want string) {
	r.add(path, show(v), "must be "+want+", not "+kind(v), ErrInvalidValue)
}

// str returns o[key] as a trimmed string; absent and null are "".
func (r *reader) str(o object, path, key string) string {
	switch v := o[key].(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	default:
		r.wrongType(join(path, key), v, "a string")
		return ""
	}
}

// id returns o[key] as an int64 id, accepting a JSON integer or a string of
// digits; ok is false when absent or null.
func (r *reader) id(o object, path, key string) (id int64, ok bool) {
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
		r.wrongType(join(path, key), v, "an integer id")
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		r.add(join(path, key), show(v), "must be a positive 64-bit integer id", ErrInvalidValue)
		return 0, false
	}
	return n, true
}

// count returns o[key] as a non-negative whole number; ok is false when
// absent or null.
func (r *reader) count(o object, path, key string) (n int64, ok bool) {
	v, present := o[key]
	if !present || v == nil {
		return 0, false
	}
	num, isNum := v.(json.Number)
	if !isNum {
		r.wrongType(join(path, key), v, "a whole number")
		return 0, false
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil || n < 0 || n > 1<<31 {
		r.add(join(path, key), show(v), "must be a whole number from 0 to 2^31", ErrInvalidValue)
		return 0, false
	}
	return n, true
}

// boolean returns o[key] as a bool; absent and null are def.
func (r *reader) boolean(o object, path, key string, def bool) bool {
	switch v := o[key].(type) {
	case nil:
		return def
	case bool:
		return v
	default:
		r.wrongType(join(path, key), v, "true or false")
		return def
	}
}

// obj returns o[key] as an object; absent and null are nil.
func (r *reader) obj(o object, path, key string) object {
	switch v := o[key].(type) {
	case nil:
		return nil
	case map[string]any:
		return v
	default:
		r.wrongType(join(path, key), v, "an object")
		return nil
	}
}

// array returns o[key] as an array; absent and null are nil.
func (r *reader) array(o object, path, key string) []any {
	switch v := o[key].(type) {
	case nil:
		return nil
	case []any:
		return v
	default:
		r.wrongType(join(path, key), v, "an array")
		return nil
	}
}

// time returns o[key] parsed as RFC 3339; absent, null and "" are the zero
// time.
func (r *reader) time(o object, path, key string) time.Time {
	s := r.str(o, path, key)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		r.add(join(path, key), show(s), "must be an RFC 3339 time", ErrInvalidValue)
		return time.Time{}
	}
	return t
}

// isDecimal reports whether s is a plain decimal: "12.50", "-3", "0".
func isDecimal(s string) bool {
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

func isUpperCode(s string, n int) bool {
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
