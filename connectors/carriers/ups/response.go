package ups

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// node is a lenient view of a decoded JSON document: a missing element, a wrong
// type, one object where an array is expected (or the reverse) all read as
// something usable, never as a panic.
type node struct{ v any }

// decode reads a JSON document; ok is false for anything else (HTML, empty, cut).
func decode(body []byte) (n node, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return node{}, false
	}
	return node{v}, true
}

// get is the member key of an object, matched exactly or else ignoring case (the
// first such key in sorted order).
func (n node) get(key string) node {
	m, isObject := n.v.(map[string]any)
	if !isObject {
		return node{}
	}
	if v, found := m[key]; found {
		return node{v}
	}
	var keys []string
	for k := range m {
		if strings.EqualFold(k, key) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return node{}
	}
	sort.Strings(keys)
	return node{m[keys[0]]}
}

// list is an array's elements, or an object alone: UPS sends repeatable elements as
// one object when there is one in API versions before v2403.
func (n node) list() []node {
	switch v := n.v.(type) {
	case []any:
		out := make([]node, len(v))
		for i, e := range v {
			out[i] = node{e}
		}
		return out
	case map[string]any:
		return []node{n}
	}
	return nil
}

// str is a scalar as text ("" for objects, arrays and null), cleaned.
func (n node) str() string {
	switch v := n.v.(type) {
	case string:
		return clean(v)
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// clean drops the XML carriage-return entities UPS has been seen to leave in JSON
// values ("&#xD;&#xD;1": UPS-API/api-documentation#63) and surrounding space.
func clean(s string) string {
	for {
		prev := s
		s = strings.ReplaceAll(s, "&#xD;", "")
		s = strings.ReplaceAll(s, "&#xA;", "")
		s = strings.TrimSpace(s)
		if s == prev {
			return s
		}
	}
}

// errorInfo is what UPS's error envelope says.
type errorInfo struct {
	Code, Message, Field string
}

// maxMessage caps the message kept from an error body.
const maxMessage = 1024

// parseError reads UPS's error envelope,
//
//	{"response":{"errors":[{"code":"120100","message":"Missing or invalid shipper number"}]}}
//
// leniently (errors as one object, numeric codes, any case), and the older shapes
// some gateways still answer with: the XML-era Fault
// ({"Fault":{"detail":{"Errors":{"ErrorDetail":{"PrimaryErrorCode":{"Code","Description"}}}}}})
// and OAuth's {"error","error_description"}. The first code is kept and the messages
// are joined. Anything else is the zero errorInfo.
func parseError(body []byte) errorInfo {
	root, isJSON := decode(body)
	if !isJSON {
		return errorInfo{}
	}
	var codes, msgs []string
	add := func(code, msg string) {
		if code != "" {
			codes = append(codes, code)
		}
		if msg != "" && !contains(msgs, msg) {
			msgs = append(msgs, msg)
		}
	}
	for _, e := range root.get("response").get("errors").list() {
		add(e.get("code").str(), e.get("message").str())
	}
	if len(codes)+len(msgs) == 0 {
		for _, d := range root.get("Fault").get("detail").get("Errors").get("ErrorDetail").list() {
			pc := d.get("PrimaryErrorCode")
			add(pc.get("Code").str(), pc.get("Description").str())
		}
	}
	if len(codes)+len(msgs) == 0 {
		add(root.get("error").str(), root.get("error_description").str())
	}
	var info errorInfo
	if len(codes) > 0 {
		info.Code = carriers.Truncate(codes[0], 64)
	}
	first := ""
	if len(msgs) > 0 {
		first = msgs[0]
	}
	info.Message = clean(carriers.Truncate(strings.Join(msgs, "; "), maxMessage))
	info.Field = fieldOf(info.Code, first)
	return info
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// codeFields names the request element of codes whose message does not.
var codeFields = map[string]string{
	"120100": "ShipmentRequest/Shipment/Shipper/ShipperNumber",
	"120106": "ShipmentRequest/Shipment/Shipper/Address/StateProvinceCode",
	"120207": "ShipmentRequest/Shipment/ShipTo/Address/PostalCode",
	"120541": "ShipmentRequest/Shipment/ReferenceNumber",
	"120702": "ShipmentRequest/LabelSpecification/LabelImageFormat/Code",
	"120801": "ShipmentRequest/Shipment/Shipper/Address",
	"120802": "ShipmentRequest/Shipment/ShipTo/Address",
	"121100": "ShipmentRequest/Shipment/Service/Code",
}

var elementPath = regexp.MustCompile(`[A-Z][A-Za-z0-9]*(?:/[A-Za-z][A-Za-z0-9]*)+`)

// fieldOf is the element an error is about: from the code where known, else the
// longest element path the message names ("Missing Required field,
// ShipmentRequest/Shipment/ShipTo/Address/City.").
func fieldOf(code, msg string) string {
	if f, known := codeFields[code]; known {
		return f
	}
	best := ""
	for _, m := range elementPath.FindAllString(msg, -1) {
		switch strings.ToLower(m) {
		case "missing/invalid", "missing/illegal", "invalid/missing":
			continue
		}
		if len(m) > len(best) {
			best = m
		}
	}
	return best
}

// Codes that refine the class of an answer.
var (
	// Invalid or expired token; invalid client credentials.
	authCodes = map[string]bool{"250002": true, "250003": true, "10401": true}
	// Rate limited (HTTP 429, no Retry-After).
	throttleCodes = map[string]bool{"10429": true}
	// UPS's "Transient" severity: general process failure; system unavailable.
	transientCodes = map[string]bool{"20001": true, "190001": true}
)

// classify is the class of an error answer.
func classify(status int, code string, idempotent bool) carriers.Class {
	switch {
	case authCodes[code] || status == http.StatusUnauthorized:
		return carriers.Auth
	case throttleCodes[code] || status == http.StatusTooManyRequests:
		return carriers.Throttled
	case status >= 500:
		return carriers.ClassifyStatus(status, idempotent)
	case transientCodes[code]:
		return carriers.Transient
	case status >= 400:
		return carriers.ClassifyStatus(status, idempotent)
	}
	// 1xx, 3xx: not an answer of the API; it did not act.
	return carriers.Transient
}

// errorFrom is the *carriers.Error for an error answer.
func (c *Client) errorFrom(op carriers.Op, idempotent bool, tid string, resp *carriers.Response) *carriers.Error {
	info := parseError(resp.Body)
	e := &carriers.Error{
		Carrier:       carriers.UPS,
		Op:            op,
		Status:        resp.Status,
		Code:          info.Code,
		Message:       info.Message,
		Field:         info.Field,
		Class:         classify(resp.Status, info.Code, idempotent),
		TransactionID: tid,
	}
	if e.Class == carriers.Throttled {
		e.RetryAfter = carriers.RetryAfter(resp.Header, c.cfg.Now())
	}
	if info == (errorInfo{}) {
		e.Err = unreadable(resp)
	}
	return e
}

func unreadable(resp *carriers.Response) error {
	if len(resp.Body) == 0 {
		return errors.New("empty response body")
	}
	return fmt.Errorf("response body is not UPS JSON (%d bytes of %q)", len(resp.Body), resp.Header.Get("Content-Type"))
}

// tokenInfo is the OAuth answer: the token and its lifetime (0 when not said).
type tokenInfo struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// parseToken reads OAuthClientCredentials.yaml's tokenSuccessResponse, whose
// expires_in is a string of seconds ("14399"); a number is read too.
func parseToken(body []byte) (tokenInfo, error) {
	root, isJSON := decode(body)
	if !isJSON {
		return tokenInfo{}, errors.New("token response is not JSON")
	}
	t := tokenInfo{AccessToken: root.get("access_token").str()}
	if t.AccessToken == "" {
		return tokenInfo{}, errors.New("token response has no access_token")
	}
	if s, err := strconv.ParseFloat(root.get("expires_in").str(), 64); err == nil && s > 0 && s <= 86400*30 {
		t.ExpiresIn = time.Duration(s * float64(time.Second))
	}
	return t, nil
}

// shipResult is what a ShipmentResponse says about its first package.
type shipResult struct {
	TrackingNumber string
	ShipmentID     string
	// FormatCode is ShippingLabel/ImageFormat/Code ("GIF", "ZPL", ...).
	FormatCode string
	Image      []byte
	Amount     string
	Currency   string
}

// parseShipment reads a ShipmentResponse. PackageResults may be one object (API
// versions before v2403) or an array; GraphicImage may be split in
// GraphicImagePart. The cost is the negotiated total where UPS gives one, else
// ShipmentCharges/TotalCharges.
func parseShipment(body []byte) (shipResult, error) {
	root, isJSON := decode(body)
	if !isJSON {
		return shipResult{}, errors.New("ship response is not JSON")
	}
	results := root.get("ShipmentResponse").get("ShipmentResults")
	r := shipResult{ShipmentID: results.get("ShipmentIdentificationNumber").str()}
	var label node
	for _, p := range results.get("PackageResults").list() {
		if r.TrackingNumber = p.get("TrackingNumber").str(); r.TrackingNumber != "" {
			label = p.get("ShippingLabel")
			break
		}
	}
	if r.TrackingNumber == "" {
		r.TrackingNumber = r.ShipmentID
	}
	if r.ShipmentID == "" {
		r.ShipmentID = r.TrackingNumber
	}
	if r.TrackingNumber == "" {
		return r, errors.New("ship response has no tracking number")
	}
	for _, charge := range []node{
		results.get("NegotiatedRateCharges").get("TotalCharge"),
		results.get("ShipmentCharges").get("TotalCharges"),
	} {
		if amount := charge.get("MonetaryValue").str(); isDecimal(amount) {
			r.Amount, r.Currency = amount, strings.ToUpper(charge.get("CurrencyCode").str())
			break
		}
	}
	r.FormatCode = strings.ToUpper(label.get("ImageFormat").get("Code").str())
	encoded := label.get("GraphicImage").str()
	if encoded == "" {
		var parts []string
		for _, p := range label.get("GraphicImagePart").list() {
			parts = append(parts, p.str())
		}
		if s := label.get("GraphicImagePart").str(); s != "" {
			parts = append(parts, s)
		}
		encoded = strings.Join(parts, "")
	}
	img, err := decodeBase64(encoded)
	if err != nil {
		return r, fmt.Errorf("label image of %s: %w", r.TrackingNumber, err)
	}
	r.Image = img
	return r, nil
}

var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

func isDecimal(s string) bool { return len(s) <= 32 && decimalRE.MatchString(s) }

// decodeBase64 reads standard base64 with or without padding, line breaks
// included.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return nil, errors.New("no GraphicImage")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("GraphicImage is not base64")
}

// parseVoid reads a VoidShipmentResponse: voided is true when the summary status
// is 1 ("Voided", which includes "Already Voided"). ok is false for a body that is
// not one.
func parseVoid(body []byte) (voided bool, status string, ok bool) {
	root, isJSON := decode(body)
	if !isJSON {
		return false, "", false
	}
	resp := root.get("VoidShipmentResponse")
	st := resp.get("SummaryResult").get("Status")
	if st.v == nil {
		return false, "", false
	}
	return st.get("Code").str() == "1", st.get("Description").str(), true
}

// parseRecovery reads a LabelRecoveryResponse: the tracking numbers of
// LabelResults (one object or an array) and TrackingCandidate, deduplicated. ok is
// false for a body that is not one.
func parseRecovery(body []byte) (found []carriers.Found, ok bool) {
	root, isJSON := decode(body)
	if !isJSON {
		return nil, false
	}
	resp := root.get("LabelRecoveryResponse")
	if resp.v == nil {
		return nil, false
	}
	shipID := resp.get("ShipmentIdentificationNumber").str()
	found = []carriers.Found{}
	seen := map[string]bool{}
	addFound := func(trk, ship string) {
		if trk == "" || seen[trk] {
			return
		}
		seen[trk] = true
		if ship == "" {
			ship = trk
		}
		found = append(found, carriers.Found{TrackingNumber: trk, ShipmentID: ship})
	}
	for _, lr := range resp.get("LabelResults").list() {
		addFound(lr.get("TrackingNumber").str(), shipID)
	}
	for _, tc := range resp.get("TrackingCandidate").list() {
		addFound(tc.get("TrackingNumber").str(), "")
	}
	if len(found) == 0 {
		addFound(shipID, shipID)
	}
	return found, true
}
