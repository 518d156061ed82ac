package fedex

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// FedEx error codes the client acts on. FedEx sends them in its envelope
// {"transactionId":…,"errors":[{"code":…,"message":…,"parameterList":[…]}]}.
const (
	// CodeNotAuthorized: credentials refused (token endpoint) or the access token
	// expired or is invalid (every other endpoint). Class Auth.
	CodeNotAuthorized = "NOT.AUTHORIZED.ERROR"
	// CodeReloginRequired is another way FedEx refuses a session. Class Auth.
	CodeReloginRequired = "USER.RELOGIN.REQUIRED"
	// CodeForbidden: the project may not use this API; on /oauth/token, the IP
	// address crossed FedEx's token thresholds (then Class Throttled).
	CodeForbidden = "FORBIDDEN.ERROR"
	// CodeTooManyRequests: the rest of a 10-second rate window, or the day's quota,
	// is refused (HTTP 429). Class Throttled.
	CodeTooManyRequests = "TOO.MANY.REQUESTS"
	// CodeInternalError, CodeServiceUnavailable and CodeSystemUnavailable: FedEx
	// failed without acting. Class Transient.
	CodeInternalError      = "INTERNAL.SERVER.ERROR"
	CodeServiceUnavailable = "SERVICE.UNAVAILABLE.ERROR"
	CodeSystemUnavailable  = "SYSTEM.UNAVAILABLE.EXCEPTION"
	// CodeInvalidInput is FedEx's answer to a missing or unusable request element.
	// Class Permanent.
	CodeInvalidInput = "INVALID.INPUT.EXCEPTION"
	// CodeAlreadyCancelled, CodeTrackingCancelled and CodeCancelledWithoutPickup
	// answer a cancel of a shipment that is (now) cancelled: Void treats them as
	// success.
	CodeAlreadyCancelled       = "CANCELSHIPMENT.TRACKINGNUMBER.DELETED"
	CodeTrackingCancelled      = "MASTERTRACKINGID.TRACKINGNUMBER.CANCELLED"
	CodeCancelledWithoutPickup = "SHIPMENT.CANCELEDWITHOUTPICKUP.SUCCESS"
	// CodeReferenceNotFound is Track by References finding nothing: Lookup returns
	// an empty list.
	CodeReferenceNotFound = "TRACKING.REFERENCENUMBER.NOTFOUND"
)

// Limits on what is copied from a carrier answer into an Error.
const (
	maxCode    = 100
	maxMessage = 500
	maxField   = 200
)

// node is decoded JSON looked at without trusting its shape: a missing key, a
// wrong type or an index out of range yields the empty node.
type node struct{ v any }

func decodeJSON(body []byte) (node, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return node{}, false
	}
	return node{v}, true
}

func (n node) get(keys ...string) node {
	cur := n.v
	for _, k := range keys {
		m, ok := cur.(map[string]any)
		if !ok {
			return node{}
		}
		cur = m[k]
	}
	return node{cur}
}

func (n node) index(i int) node {
	a, ok := n.v.([]any)
	if !ok || i < 0 || i >= len(a) {
		return node{}
	}
	return node{a[i]}
}

func (n node) list() []node {
	a, ok := n.v.([]any)
	if !ok {
		return nil
	}
	out := make([]node, len(a))
	for i, v := range a {
		out[i] = node{v}
	}
	return out
}

func (n node) present() bool { return n.v != nil }

func (n node) object() bool {
	_, ok := n.v.(map[string]any)
	return ok
}

// str is a string, or a number or boolean written as one, trimmed.
func (n node) str() string {
	switch v := n.v.(type) {
	case string:
		return strings.TrimSpace(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// num is a number, or a string holding one.
func (n node) num() (float64, bool) {
	switch v := n.v.(type) {
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil
	}
	return 0, false
}

// boolean is true for true or "true".
func (n node) boolean() bool {
	switch v := n.v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(strings.TrimSpace(v), "true")
	}
	return false
}

// apiError is one entry of FedEx's errors array.
type apiError struct {
	Code, Message, Field string
}

// envelope is FedEx's error envelope, read leniently.
type envelope struct {
	TransactionID         string
	CustomerTransactionID string
	Errors                []apiError
}

// parseEnvelope reads an error envelope from any body. It copes with FedEx's
// documented shape, the gateway's OAuth-style {"error","error_description"}, an
// errors object instead of an array, strings instead of objects, and bodies that
// are not JSON at all (isJSON false).
func parseEnvelope(body []byte) (env envelope, isJSON bool) {
	root, ok := decodeJSON(body)
	if !ok {
		return env, false
	}
	env.TransactionID = clip(root.get("transactionId").str(), maxCode)
	env.CustomerTransactionID = clip(root.get("customerTransactionId").str(), maxCode)
	errs := root.get("errors")
	if !errs.present() {
		errs = root.get("output", "cxsErrors")
	}
	if _, isList := root.v.([]any); isList {
		errs = root
	}
	var items []node
	switch errs.v.(type) {
	case []any:
		items = errs.list()
	case map[string]any, string:
		items = []node{errs}
	}
	for _, it := range items {
		if e, ok := parseAPIError(it); ok {
			env.Errors = append(env.Errors, e)
		}
	}
	if len(env.Errors) == 0 && root.object() {
		// {"error":"invalid_token","error_description":"Invalid CXS JWT"} from the
		// gateway, or a bare {"code":…,"message":…}.
		code := root.get("code").str()
		if code == "" {
			code = root.get("error").str()
		}
		msg := root.get("message").str()
		if msg == "" {
			msg = root.get("error_description").str()
		}
		if code != "" || msg != "" {
			env.Errors = append(env.Errors, apiError{Code: clip(code, maxCode), Message: clip(msg, maxMessage)})
		}
	}
	return env, true
}

func parseAPIError(it node) (apiError, bool) {
	if s, ok := it.v.(string); ok {
		s = clip(s, maxMessage)
		return apiError{Message: s}, s != ""
	}
	if !it.object() {
		return apiError{}, false
	}
	e := apiError{Code: clip(it.get("code").str(), maxCode), Message: clip(it.get("message").str(), maxMessage)}
	if e.Message == "" {
		e.Message = clip(it.get("description").str(), maxMessage)
	}
	e.Field = clip(fieldOf(it.get("parameterList"), e.Message), maxField)
	return e, e.Code != "" || e.Message != ""
}

// requestPath matches a JSON path into one of the client's request bodies, as
// FedEx names fields in parameterList or messages.
var requestPath = regexp.MustCompile(`\b(?:requestedShipment|accountNumber|labelResponseOptions|trackingNumber|referencesInformation|deletionControl)(?:\[\d+\])?(?:\.[A-Za-z]+(?:\[\d+\])?)*`)

// fieldOf finds the request field an error names: a parameterList entry keyed
// "field" (any case; the simulator's convention), else a key or value that is a
// request path, else a request path in the message.
func fieldOf(params node, message string) string {
	type kv struct{ k, v string }
	var pairs []kv
	switch params.v.(type) {
	case []any:
		for _, p := range params.list() {
			pairs = append(pairs, kv{p.get("key").str(), p.get("value").str()})
		}
	case map[string]any:
		if params.get("key").present() {
			pairs = append(pairs, kv{params.get("key").str(), params.get("value").str()})
		} else {
			for k, v := range params.v.(map[string]any) {
				pairs = append(pairs, kv{k, node{v}.str()})
			}
		}
	}
	for _, p := range pairs {
		switch strings.ToLower(p.k) {
		case "field", "fieldname", "path", "element":
			if p.v != "" {
				return p.v
			}
		}
	}
	for _, p := range pairs {
		for _, s := range []string{p.k, p.v} {
			if m := requestPath.FindString(s); m != "" && m == s {
				return m
			}
		}
	}
	return requestPath.FindString(message)
}

// clip cuts s to at most n runes, dropping control characters and invalid UTF-8.
func clip(s string, n int) string {
	var b strings.Builder
	count := 0
	for _, r := range s {
		if count == n {
			break
		}
		if r == utf8.RuneError || unicode.IsControl(r) {
			if r == '\n' || r == '\t' || r == '\r' {
				r = ' '
			} else {
				continue
			}
		}
		b.WriteRune(r)
		count++
	}
	return strings.TrimSpace(b.String())
}

var (
	tags   = regexp.MustCompile(`<[^>]*>`)
	spaces = regexp.MustCompile(`\s+`)
)

// describeNonJSON says what came instead of JSON: its type, size and the start of
// its text (tags stripped).
func describeNonJSON(h http.Header, body []byte) string {
	ct := h.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	if ct == "" {
		ct = "no content type"
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fmt.Sprintf("empty response (%s)", clip(ct, 60))
	}
	head := body
	if len(head) > 4096 {
		head = head[:4096]
	}
	text := spaces.ReplaceAllString(tags.ReplaceAllString(string(head), " "), " ")
	return fmt.Sprintf("non-JSON response (%s, %d bytes): %s", clip(ct, 60), len(body), clip(text, 120))
}

// authCodes are the codes of a refused token.
var authCodes = map[string]bool{CodeNotAuthorized: true, CodeReloginRequired: true}

// transientCodes are FedEx failing without acting, whatever the HTTP status.
var transientCodes = map[string]bool{CodeInternalError: true, CodeServiceUnavailable: true, CodeSystemUnavailable: true}

// classify turns a FedEx error answer into a *carriers.Error: HTTP status first
// (carriers.ClassifyStatus), refined by FedEx's code. now and window give
// RetryAfter when FedEx does not.
func classify(op carriers.Op, idempotent bool, resp *carriers.Response, now time.Time, window time.Duration) *carriers.Error {
	e := &carriers.Error{Carrier: carriers.FedEx, Op: op, Status: resp.Status}
	env, isJSON := parseEnvelope(resp.Body)
	e.TransactionID = env.CustomerTransactionID
	if e.TransactionID == "" {
		e.TransactionID = env.TransactionID
	}
	if len(env.Errors) > 0 {
		first := env.Errors[0]
		e.Code, e.Message = first.Code, first.Message
		for _, more := range env.Errors[1:] {
			if e.Field == "" {
				e.Field = more.Field
			}
			e.Message = clip(e.Message+"; "+strings.TrimPrefix(more.Code+": "+more.Message, ": "), maxMessage)
		}
		if first.Field != "" {
			e.Field = first.Field
		}
	} else if !isJSON || resp.Status >= 300 {
		e.Message = describeNonJSON(resp.Header, resp.Body)
		if isJSON {
			e.Message = fmt.Sprintf("HTTP %d without FedEx errors", resp.Status)
		}
	}

	e.Class = carriers.ClassifyStatus(resp.Status, idempotent)
	switch {
	case resp.Status == http.StatusUnauthorized || authCodes[e.Code]:
		e.Class = carriers.Auth
	case resp.Status == http.StatusTooManyRequests || e.Code == CodeTooManyRequests:
		e.Class = carriers.Throttled
		e.RetryAfter = carriers.RetryAfter(resp.Header, now)
		if e.RetryAfter == 0 {
			e.RetryAfter = throttleWait(e.Message, now, window)
		}
	case op == carriers.OpToken && resp.Status == http.StatusForbidden:
		// FedEx's per-IP thresholds on /oauth/token answer 403 and block the
		// address for about ten minutes.
		e.Class = carriers.Throttled
		e.RetryAfter = carriers.RetryAfter(resp.Header, now)
		if e.RetryAfter == 0 {
			e.RetryAfter = TokenThresholdBlock
		}
	case transientCodes[e.Code] && (e.Class == carriers.Permanent || e.Class == ""):
		e.Class = carriers.Transient
	case e.Class == "":
		// A 2xx carrying errors, or a 3xx: FedEx refused or we are misconfigured.
		e.Class = carriers.Permanent
	}
	if e.RetryAfter == 0 && e.Class != carriers.Permanent {
		e.RetryAfter = carriers.RetryAfter(resp.Header, now)
	}
	return e
}

// throttleWait is how long a 429 without Retry-After asks for: until midnight GMT
// for the daily quota ("Daily transaction quota exceeded. Retry after 12:00AM
// GMT"), else the rest of the rate window, at most its whole length.
func throttleWait(message string, now time.Time, window time.Duration) time.Duration {
	if strings.Contains(strings.ToLower(message), "daily transaction quota") {
		u := now.UTC()
		midnight := time.Date(u.Year(), u.Month(), u.Day()+1, 0, 0, 0, 0, time.UTC)
		return midnight.Sub(u)
	}
	return window
}

// shipResult is what a create-shipment answer says.
type shipResult struct {
	Tracking, Master string
	Service          string
	Label            []byte
	Cost             canonical.Money
}

// parseShip reads a create-shipment answer. An error means the answer does not
// hold a usable label; the label may still exist at FedEx.
func parseShip(body []byte) (shipResult, error) {
	var r shipResult
	root, ok := decodeJSON(body)
	if !ok {
		return r, fmt.Errorf("answer is not JSON")
	}
	out := root.get("output")
	ts := out.get("transactionShipments").index(0)
	if !ts.present() {
		if job := out.get("jobId").str(); job != "" {
			return r, fmt.Errorf("shipment accepted as asynchronous job %s", clip(job, maxCode))
		}
		return r, fmt.Errorf("answer has no transactionShipments")
	}
	piece := ts.get("pieceResponses").index(0)
	r.Tracking = firstOf(piece.get("trackingNumber"), ts.get("masterTrackingNumber"), piece.get("masterTrackingNumber"),
		ts.get("completedShipmentDetail", "masterTrackingId", "trackingNumber"))
	r.Master = firstOf(ts.get("masterTrackingNumber"), piece.get("masterTrackingNumber"),
		ts.get("completedShipmentDetail", "masterTrackingId", "trackingNumber"))
	if r.Master == "" {
		r.Master = r.Tracking
	}
	r.Tracking, r.Master = clip(r.Tracking, maxCode), clip(r.Master, maxCode)
	r.Service = clip(ts.get("serviceType").str(), maxCode)
	if r.Tracking == "" {
		return r, fmt.Errorf("answer has no tracking number")
	}

	var encoded string
	for _, docs := range []node{piece.get("packageDocuments"), ts.get("shipmentDocuments")} {
		for _, d := range docs.list() {
			ct := d.get("contentType").str()
			if enc := d.get("encodedLabel").str(); enc != "" && (ct == "" || ct == "LABEL" || ct == "MERGED_LABEL_DOCUMENTS") {
				encoded = enc
				break
			}
		}
		if encoded != "" {
			break
		}
	}
	if encoded == "" {
		return r, fmt.Errorf("answer for tracking number %s has no label image", r.Tracking)
	}
	data, err := decodeBase64(encoded)
	if err != nil || len(data) == 0 {
		return r, fmt.Errorf("label image of tracking number %s is not base64", r.Tracking)
	}
	r.Label = data

	rate := ts.get("completedShipmentDetail", "shipmentRating", "shipmentRateDetails").index(0)
	amount, ok := piece.get("netChargeAmount").num()
	if !ok {
		amount, ok = rate.get("totalNetCharge").num()
	}
	currency := rate.get("currency").str()
	if currency == "" {
		currency = ts.get("completedShipmentDetail", "completedPackageDetails").index(0).
			get("packageRating", "packageRateDetails").index(0).get("currency").str()
	}
	if ok && len(currency) == 3 {
		r.Cost = canonical.Money{Amount: strconv.FormatFloat(amount, 'f', 2, 64), Currency: strings.ToUpper(currency)}
	}
	return r, nil
}

func firstOf(ns ...node) string {
	for _, n := range ns {
		if s := n.str(); s != "" {
			return s
		}
	}
	return ""
}

// decodeBase64 reads standard base64, padded or not, ignoring line breaks.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// parseCancel reads a cancel-shipment answer: cancelled, or FedEx's reason why not.
func parseCancel(body []byte) (cancelled bool, reason apiError, err error) {
	root, ok := decodeJSON(body)
	if !ok {
		return false, reason, fmt.Errorf("answer is not JSON")
	}
	out := root.get("output")
	if !out.get("cancelledShipment").present() {
		return false, reason, fmt.Errorf("answer has no cancelledShipment")
	}
	if out.get("cancelledShipment").boolean() {
		return true, reason, nil
	}
	alert := out.get("alerts").index(0)
	reason.Code = clip(alert.get("code").str(), maxCode)
	reason.Message = clip(firstOf(out.get("message"), alert.get("message"), out.get("successMessage")), maxMessage)
	if reason.Message == "" {
		reason.Message = "FedEx did not cancel the shipment"
	}
	return false, reason, nil
}

// lookupResult is what a Track by References answer says.
type lookupResult struct {
	Found []carriers.Found
	// Err is the first per-result error other than "not found", kept for when
	// nothing was found.
	Err *apiError
}

// parseLookup reads a Track by References answer.
func parseLookup(body []byte) (lookupResult, error) {
	var r lookupResult
	root, ok := decodeJSON(body)
	if !ok {
		return r, fmt.Errorf("answer is not JSON")
	}
	out := root.get("output")
	if !out.object() {
		return r, fmt.Errorf("answer has no output")
	}
	seen := map[string]bool{}
	r.Found = []carriers.Found{}
	for _, ctr := range out.get("completeTrackResults").list() {
		for _, tr := range ctr.get("trackResults").list() {
			if e := tr.get("error"); e.object() {
				code := clip(e.get("code").str(), maxCode)
				if code != CodeReferenceNotFound && r.Err == nil {
					r.Err = &apiError{Code: code, Message: clip(e.get("message").str(), maxMessage)}
				}
				continue
			}
			tn := clip(tr.get("trackingNumberInfo", "trackingNumber").str(), maxCode)
			if tn == "" || seen[tn] {
				continue
			}
			seen[tn] = true
			r.Found = append(r.Found, carriers.Found{TrackingNumber: tn, ShipmentID: tn})
		}
	}
	return r, nil
}

// parseToken reads the OAuth answer: the token and its lifetime (0 when FedEx does
// not say).
func parseToken(body []byte) (value string, life time.Duration, err error) {
	root, ok := decodeJSON(body)
	if !ok {
		return "", 0, fmt.Errorf("token answer is not JSON")
	}
	value = root.get("access_token").str()
	if value == "" {
		return "", 0, fmt.Errorf("token answer has no access_token")
	}
	if secs, ok := root.get("expires_in").num(); ok && secs > 0 && secs < 366*24*3600 {
		life = time.Duration(secs * float64(time.Second))
	}
	return value, life, nil
}
