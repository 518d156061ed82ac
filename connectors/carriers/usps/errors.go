package usps

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// ErrInvalidRequest is wrapped by the Permanent error a call returns without
// sending anything, because the request cannot be expressed in USPS's terms (a
// country outside the US, an unknown state, no dimensions, a format USPS does not
// print). Field names the USPS field.
var ErrInvalidRequest = errors.New("usps: request cannot be sent")

// ErrUnreadableAnswer is wrapped by the error of a 2xx answer whose body is not what
// USPS documents (not JSON, no tracking number, no label image).
var ErrUnreadableAnswer = errors.New("usps: unreadable answer")

// Codes of USPS's error inventory (fixtures/carriers/specs/usps/errors) that the
// client acts on.
const (
	// CodeOrderNotFound: void of a tracking number USPS does not know.
	CodeOrderNotFound = "160185"
	// CodeOrderAlreadyCanceled: void of a label already canceled; Void treats it as
	// done.
	CodeOrderAlreadyCanceled = "160186"
	// CodeOASValidation is the Code given to USPS's gateway schema check
	// ("OASValidation OpenAPI-Spec-Validation-…"), which has no code of its own.
	CodeOASValidation = "OASValidation"
)

// transientCodes are 400s that say "try again later" rather than "your request is
// wrong".
var transientCodes = map[string]bool{
	"100005": true, // We are having trouble validating your credit card, please try again later.
	"160312": true, // Unknown error when confirming address
	"160368": true, // Label Broker Service is unavailable.
}

// apiError is what a USPS error answer said. Every field may be empty.
type apiError struct {
	Code    string
	Message string
	Field   string
}

// parseError reads a USPS error body leniently: the v3 envelope
// {"apiVersion","error":{"code","message","errors":[{"status","code","title",
// "detail","source":{"parameter","example"}}]}}, the OAuth one
// {"error":"invalid_client","error_description":…}, a bare {"message":…}, or
// anything else (HTML, empty), of which a short printable excerpt is kept. Fields
// of the wrong JSON type are read as text where they can be and ignored where not.
func parseError(body []byte) apiError {
	var e apiError
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		e.Message = excerpt(body)
		return e
	}
	obj, ok := v.(map[string]any)
	if !ok {
		e.Message = excerpt(body)
		return e
	}
	switch ev := obj["error"].(type) {
	case map[string]any:
		e.Code = text(ev["code"])
		e.Message = text(ev["message"])
		e.details(ev["errors"])
	case string: // OAuth 2.0 (RFC 6749 section 5.2)
		e.Code = ev
		e.Message = text(obj["error_description"])
	}
	if e.Message == "" {
		e.Message = text(obj["message"])
	}
	if e.Code == "" {
		e.Code = text(obj["code"])
	}
	e.details(obj["errors"])
	if strings.HasPrefix(e.Message, "OASValidation") {
		if e.Field == "" {
			e.Field = oasField(e.Message)
		}
		if e.Code == "" || e.Code == "400" {
			e.Code = CodeOASValidation
		}
	}
	e.Message = clip(e.Message, 1000)
	e.Code = clip(e.Code, 100)
	return e
}

// details takes the code, text and field of an "errors" list: the first item's
// code and field (more precise than the envelope's HTTP-status code), and every
// item's detail.
func (e *apiError) details(v any) {
	list, ok := v.([]any)
	if !ok {
		return
	}
	var texts []string
	coded := false
	for _, it := range list {
		item, ok := it.(map[string]any)
		if !ok {
			continue
		}
		if c := text(item["code"]); c != "" && !coded {
			coded = true
			if e.Code == "" || isStatus(e.Code) {
				e.Code = clip(c, 100)
			}
		}
		if e.Field == "" {
			switch src := item["source"].(type) {
			case map[string]any:
				e.Field = normalizeField(text(src["parameter"]))
			case string: // seen in the wild: "source": "Access Token"
				e.Field = normalizeField(src)
			}
		}
		t := text(item["detail"])
		if t == "" {
			t = text(item["title"])
		}
		if t != "" {
			texts = append(texts, t)
		}
	}
	if len(texts) > 0 {
		e.Message = strings.Join(texts, "; ")
	}
}

// isStatus reports whether a code is only an HTTP status ("400").
func isStatus(code string) bool {
	return len(code) == 3 && strings.Trim(code, "0123456789") == ""
}

// normalizeField drops the "Header: " prefix USPS puts before header names.
func normalizeField(f string) string {
	f = strings.TrimSpace(f)
	if len(f) > 7 && strings.EqualFold(f[:7], "header:") {
		f = strings.TrimSpace(f[7:])
	}
	return clip(f, 200)
}

// oasField finds the field in a gateway schema-check message, such as
// "[ERROR - Object has missing required properties ([\"city\"]): [/fromAddress]]"
// → "fromAddress.city", or "… does not match input string \"x\": [/toAddress/ZIPCode]]"
// → "toAddress.ZIPCode".
func oasField(msg string) string {
	var name string
	const missing = "missing required properties ("
	if i := strings.Index(msg, missing); i >= 0 {
		rest := msg[i+len(missing):]
		if j := strings.Index(rest, ")"); j >= 0 {
			names := strings.Trim(rest[:j], "[]")
			name, _, _ = strings.Cut(names, ",")
			name = strings.Trim(strings.TrimSpace(name), `"\`)
			msg = rest[j:]
		}
	}
	ptr := ""
	if i := strings.LastIndex(msg, "[/"); i >= 0 {
		rest := msg[i+1:]
		if j := strings.Index(rest, "]"); j >= 0 {
			ptr = rest[:j]
		}
	}
	var parts []string
	for p := range strings.SplitSeq(strings.Trim(ptr, "/"), "/") {
		if p != "" {
			parts = append(parts, strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~"))
		}
	}
	if name != "" {
		parts = append(parts, name)
	}
	return clip(strings.Join(parts, "."), 200)
}

// text renders a JSON scalar as text; objects and arrays give "".
func text(v any) string {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		if t {
			return "true"
		}
		return "false"
	}
	return ""
}

// excerpt is a short printable excerpt of a non-JSON body (an HTML error page).
func excerpt(body []byte) string {
	s := strings.ToValidUTF8(string(body[:min(len(body), 400)]), "")
	// Drop markup, keep the words.
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
		case r == '>':
			inTag = false
			b.WriteByte(' ')
		case inTag:
		case unicode.IsSpace(r) || !unicode.IsPrint(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return clip(strings.Join(strings.Fields(b.String()), " "), 200)
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// isPaymentTokenError reports whether a 401 is about the payment authorization
// token rather than the OAuth access token.
func (e apiError) isPaymentTokenError() bool {
	return strings.Contains(strings.ToLower(e.Field), "x-payment-authorization-token") ||
		strings.Contains(strings.ToLower(e.Message), "payment authorization token")
}

// classify is the class of a USPS error answer.
func classify(status int, idempotent bool, e apiError) carriers.Class {
	if transientCodes[e.Code] && status < 500 {
		return carriers.Transient
	}
	if c := carriers.ClassifyStatus(status, idempotent); c != "" {
		return c
	}
	// 1xx/3xx: the call went somewhere it should not (a redirecting BaseURL).
	return carriers.Permanent
}

// failure turns a non-2xx answer into the *carriers.Error the caller gets.
func (c *Client) failure(op carriers.Op, idempotent bool, resp *carriers.Response, txn string) *carriers.Error {
	e := parseError(resp.Body)
	if e.Message == "" {
		e.Message = http.StatusText(resp.Status)
	}
	ce := &carriers.Error{
		Carrier: carriers.USPS, Op: op, Status: resp.Status,
		Code: e.Code, Message: e.Message, Field: e.Field,
		Class:         classify(resp.Status, idempotent, e),
		TransactionID: txn,
	}
	if ce.Class == carriers.Throttled || resp.Status == http.StatusServiceUnavailable {
		ce.RetryAfter = carriers.RetryAfter(resp.Header, c.cfg.Now())
	}
	return ce
}

// invalid is the Permanent error of a request that cannot be sent.
func invalid(op carriers.Op, txn, field, msg string) *carriers.Error {
	return &carriers.Error{
		Carrier: carriers.USPS, Op: op, Class: carriers.Permanent,
		Field: field, Message: msg, TransactionID: txn, Err: ErrInvalidRequest,
	}
}

// unreadable is the error of a 2xx answer that cannot be used: Ambiguous for a
// label (USPS said yes, the label may exist: resend with the same idempotency key),
// Transient for the idempotent calls.
func unreadable(op carriers.Op, idempotent bool, status int, txn, msg string) *carriers.Error {
	class := carriers.Transient
	if !idempotent {
		class = carriers.Ambiguous
	}
	return &carriers.Error{
		Carrier: carriers.USPS, Op: op, Status: status, Class: class,
		Message: msg, TransactionID: txn, Err: ErrUnreadableAnswer,
	}
}

// expiryOf is when a token stops working: from expires_in (seconds) when given,
// else from the JWT's exp claim, else after fallback.
func expiryOf(now time.Time, expiresIn any, token string, fallback time.Duration) time.Time {
	if s := text(expiresIn); s != "" {
		var n json.Number = json.Number(s)
		if f, err := n.Float64(); err == nil && f > 0 && f < 1e9 {
			return now.Add(time.Duration(f * float64(time.Second)))
		}
	}
	if exp, ok := jwtExpiry(token); ok && exp.After(now) {
		return exp
	}
	return now.Add(fallback)
}
