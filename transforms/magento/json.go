package magento

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/transforms/internal/mapping"
)

// object is a decoded JSON object, its numbers kept as json.Number so that
// ids above 2^53 are never rounded through float64 and prices keep the
// digits Magento sent.
type object = mapping.Object

// decodeObject decodes a JSON object, numbers as json.Number. A second
// JSON value after the object is refused; other trailing text is not
// looked at.
func decodeObject(body []byte) (object, error) {
	return mapping.DecodeObject(body, mapping.RefuseTrailingValue)
}

// reader reads typed fields out of objects, collecting a *MappingError for
// every field of the wrong type. Its Str accepts numbers as their decimal
// text (Magento sends some codes either way).
type reader struct {
	mapping.Reader
}

func newReader() reader {
	return reader{mapping.Reader{Invalid: ErrInvalidValue, NumbersAsText: true}}
}

// maxQty bounds quantities: beyond it a float64 no longer counts units.
const maxQty = 1 << 31

// qty returns o[key] as a quantity: a JSON number (or a numeric string,
// "1.0000") from 0 to 2^31; absent and null are 0.
func (r *reader) qty(o object, path, key string) float64 {
	v := o[key]
	var s string
	switch v := v.(type) {
	case nil:
		return 0
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		r.WrongType(mapping.Join(path, key), v, "a number")
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxQty {
		r.Add(mapping.Join(path, key), mapping.Show(v), "must be a quantity from 0 to 2^31", ErrInvalidValue)
		return 0
	}
	return f
}

// decimal returns o[key] as a decimal string ("22", "27.5"); absent and
// null are "". Exponent forms are rewritten as plain decimals.
func (r *reader) decimal(o object, path, key string) string {
	v := o[key]
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
		if s == "" {
			return ""
		}
	default:
		r.WrongType(mapping.Join(path, key), v, "a number")
		return ""
	}
	if mapping.IsDecimal(s) {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		r.Add(mapping.Join(path, key), mapping.Show(v), "must be a decimal amount", ErrInvalidValue)
		return ""
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// flag returns o[key] as a Magento boolean: true/false, 1/0 or "1"/"0";
// absent and null are false.
func (r *reader) flag(o object, path, key string) bool {
	switch v := o[key].(type) {
	case nil:
		return false
	case bool:
		return v
	case json.Number:
		if v == "0" || v == "1" {
			return v == "1"
		}
	case string:
		if v == "0" || v == "1" || v == "" {
			return v == "1"
		}
	}
	r.WrongType(mapping.Join(path, key), o[key], "0, 1, true or false")
	return false
}

// TimeLayout is how Magento core's REST API writes times: UTC, no zone,
// "2026-11-20 18:00:00".
const TimeLayout = "2006-01-02 15:04:05"

// timeForms lists, for error messages, the times ParseTime accepts.
const timeForms = `"YYYY-MM-DD hh:mm:ss" (Magento core, UTC) or ISO 8601 / RFC 3339 ` +
	`"YYYY-MM-DDThh:mm:ss", each with optional fractional seconds and an optional zone ` +
	`"Z", "±hh:mm" or "±hhmm" (UTC when none)`

// timeLayouts are tried in turn by ParseTime. time.Parse takes fractional
// seconds after "05" without a layout for them, "." or ",".
var timeLayouts = []string{
	TimeLayout,                  // Magento core
	"2006-01-02T15:04:05Z07:00", // RFC 3339: "…T18:00:00Z", "…T18:00:00+00:00"
	"2006-01-02T15:04:05",       // ISO 8601 local time: taken as UTC
	"2006-01-02T15:04:05Z0700",  // ISO 8601 basic offset (PHP's DATE_ISO8601): "…T18:00:00+0000"
	"2006-01-02 15:04:05Z07:00", // RFC 3339 with a space (PHP's "Y-m-d H:i:sP")
	"2006-01-02 15:04:05Z0700",
}

// ParseTime parses a Magento time, returned in UTC:
//
//	2026-11-20 18:00:00              Magento core's REST API: UTC
//	2026-11-20T18:00:00Z             RFC 3339 (extensions, Adobe Commerce
//	2026-11-20T18:00:00+00:00        SaaS and GraphQL-backed proxies)
//	2026-11-20T18:00:00.123456Z      fractional seconds, in any form
//	2026-11-20T13:00:00-0500         ISO 8601 basic offset
//	2026-11-20T18:00:00              ISO 8601 without a zone: UTC
//
// "T" or a space separates date and time; "t" and "z" are read as "T" and
// "Z" (RFC 3339 allows them); surrounding white space is ignored. A time
// whose UTC year falls outside 1 to 9999 is an error; anything else is an
// error that quotes the value and lists the accepted forms.
func ParseTime(s string) (time.Time, error) {
	v := strings.ToUpper(strings.TrimSpace(s))
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, v)
		if err != nil {
			continue
		}
		// An offset can push year 0 or 9999 out of what RFC 3339 (and
		// time.Time's MarshalJSON, which the watermark uses) can write.
		if t = t.UTC(); t.Year() < 1 || t.Year() > 9999 {
			return time.Time{}, fmt.Errorf("parsing magento time %q: year %d in UTC is outside 1 to 9999", s, t.Year())
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("parsing magento time %q: want %s", s, timeForms)
}

// time returns o[key] parsed with ParseTime; absent, null and "" are the
// zero time.
func (r *reader) time(o object, path, key string) time.Time {
	return r.Time(o, path, key, ParseTime, "must be a time: "+timeForms)
}
