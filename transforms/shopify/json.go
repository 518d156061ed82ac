package shopify

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/paklog/integration-hub/transforms/internal/mapping"
)

// object is a decoded JSON object, its numbers kept as json.Number so that
// ids above 2^53 are never rounded through float64.
type object = mapping.Object

// decodeObject decodes a JSON object, numbers as json.Number. Anything
// after the object but white space, "]" or "}" is refused.
func decodeObject(body []byte) (object, error) {
	return mapping.DecodeObject(body, mapping.RefuseTrailingText)
}

// reader reads typed fields out of objects, collecting a *MappingError for
// every field of the wrong type. Its Str refuses a number where a string
// belongs.
type reader struct {
	mapping.Reader
}

func newReader() reader {
	return reader{mapping.Reader{Invalid: ErrInvalidValue}}
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
		r.WrongType(mapping.Join(path, key), v, "a whole number")
		return 0, false
	}
	n, err := strconv.ParseInt(num.String(), 10, 64)
	if err != nil || n < 0 || n > 1<<31 {
		r.Add(mapping.Join(path, key), mapping.Show(v), "must be a whole number from 0 to 2^31", ErrInvalidValue)
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
		r.WrongType(mapping.Join(path, key), v, "true or false")
		return def
	}
}

// parseRFC3339 parses the times Shopify sends.
func parseRFC3339(s string) (time.Time, error) { return time.Parse(time.RFC3339, s) }

// time returns o[key] parsed as RFC 3339; absent, null and "" are the zero
// time.
func (r *reader) time(o object, path, key string) time.Time {
	return r.Time(o, path, key, parseRFC3339, "must be an RFC 3339 time")
}
