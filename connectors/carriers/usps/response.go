package usps

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"mime"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// labelAnswer is what the client takes from a label answer.
type labelAnswer struct {
	TrackingNumber string
	// Cost is postage plus extra services plus fees, where USPS gave postage.
	Cost  canonical.Money
	Image []byte
}

// parseLabel reads a 200 answer to POST /labels/v3/label in any of its forms: the
// vendor JSON (application/vnd.usps.labels+json: LabelMetadata's fields plus
// base64 labelImage at the top level, or under "labelMetadata" as some clients
// and older answers have it), or the default multipart answer (multipart/form-data
// with labelMetadata and labelImage parts, or multipart/mixed whose first JSON part
// is the metadata and next part the base64 label, as in USPS's 2023 sample).
func parseLabel(contentType string, body []byte) (labelAnswer, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(contentType), ";")
		mt = strings.TrimSpace(mt)
		params = nil
	}
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if strings.HasPrefix(mt, "multipart/") || (mt == "" && bytes.HasPrefix(trimmed, []byte("--"))) {
		return parseMultipartLabel(body, params["boundary"])
	}
	obj, err := decodeObject(body)
	if err != nil {
		return labelAnswer{}, err
	}
	meta := obj
	if nested, ok := obj["labelMetadata"].(map[string]any); ok && text(obj["trackingNumber"]) == "" {
		meta = nested
	}
	a := metadata(meta)
	raw := text(obj["labelImage"])
	if raw == "" {
		raw = text(meta["labelImage"])
	}
	if a.TrackingNumber == "" {
		return a, errors.New("the answer has no trackingNumber")
	}
	if raw == "" {
		return a, errors.New("the answer has no labelImage")
	}
	if a.Image, err = decodeImage([]byte(raw)); err != nil {
		return a, err
	}
	return a, nil
}

func parseMultipartLabel(body []byte, boundary string) (labelAnswer, error) {
	parts := splitMultipart(body, boundary)
	if len(parts) == 0 {
		return labelAnswer{}, errors.New("the multipart answer has no parts")
	}
	var meta, image *part
	for i := range parts {
		p := &parts[i]
		name := p.name()
		isJSON := strings.Contains(p.mediaType(), "json") || (p.mediaType() == "" && bytes.HasPrefix(bytes.TrimSpace(p.body), []byte("{")))
		switch {
		case name == "labelMetadata":
			meta = p
		case name == "labelImage":
			image = p
		case name != "":
			// receiptImage, returnLabelImage, …: not the label.
		case isJSON && meta == nil:
			meta = p
		case !isJSON && image == nil && meta != nil:
			image = p
		}
	}
	if meta == nil {
		return labelAnswer{}, errors.New("the multipart answer has no label metadata part")
	}
	obj, err := decodeObject(meta.body)
	if err != nil {
		return labelAnswer{}, fmt.Errorf("label metadata part: %w", err)
	}
	a := metadata(obj)
	if a.TrackingNumber == "" {
		return a, errors.New("the label metadata has no trackingNumber")
	}
	if image == nil {
		return a, errors.New("the multipart answer has no label image part")
	}
	if a.Image, err = decodeImage(image.body); err != nil {
		return a, fmt.Errorf("label image part: %w", err)
	}
	return a, nil
}

// decodeObject decodes a JSON object, numbers kept as written.
func decodeObject(body []byte) (map[string]any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the answer is not a JSON object")
	}
	return obj, nil
}

// metadata takes the tracking number and cost from LabelMetadata.
func metadata(obj map[string]any) labelAnswer {
	var a labelAnswer
	a.TrackingNumber = clip(strings.Join(strings.Fields(text(obj["trackingNumber"])), ""), 64)
	postage, ok := decimal(obj["postage"])
	if !ok {
		return a
	}
	total := new(big.Rat).Set(postage)
	for _, key := range []string{"extraServices", "fees"} {
		list, _ := obj[key].([]any)
		for _, it := range list {
			if m, ok := it.(map[string]any); ok {
				if p, ok := decimal(m["price"]); ok {
					total.Add(total, p)
				}
			}
		}
	}
	a.Cost = canonical.Money{Amount: total.FloatString(2), Currency: "USD"}
	return a
}

// decimal reads a JSON number (or numeric string) exactly.
func decimal(v any) (*big.Rat, bool) {
	s := text(v)
	if s == "" || len(s) > 40 || strings.ContainsAny(s, "eE/") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// decodeImage decodes a base64 label image, whatever the alphabet, padding or line
// breaks. A body that is already a PDF, PNG or ZPL file is taken as it is.
func decodeImage(raw []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, raw)
	if len(clean) == 0 {
		return nil, errors.New("the label image is empty")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err := enc.DecodeString(string(clean)); err == nil && len(data) > 0 {
			return data, nil
		}
	}
	for _, magic := range []string{"%PDF", "\x89PNG", "^XA"} {
		if bytes.HasPrefix(bytes.TrimSpace(raw), []byte(magic)) {
			return raw, nil
		}
	}
	return nil, errors.New("the label image is not base64")
}

// tokenAnswer is a /oauth2/v3/token answer.
type tokenAnswer struct {
	AccessToken string
	ExpiresIn   any
}

func parseToken(body []byte) (tokenAnswer, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return tokenAnswer{}, err
	}
	t := tokenAnswer{AccessToken: text(obj["access_token"]), ExpiresIn: obj["expires_in"]}
	if t.AccessToken == "" {
		return t, errors.New("the token answer has no access_token")
	}
	if tt := text(obj["token_type"]); tt != "" && !strings.EqualFold(tt, "bearer") {
		return t, fmt.Errorf("the token answer has token_type %q, not Bearer", clip(tt, 40))
	}
	return t, nil
}

// parsePaymentToken reads a /payments/v3/payment-authorization answer.
func parsePaymentToken(body []byte) (string, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", err
	}
	tok := text(obj["paymentAuthorizationToken"])
	if tok == "" {
		return "", errors.New("the payment authorization answer has no paymentAuthorizationToken")
	}
	return tok, nil
}

// jwtExpiry reads the exp claim of a JWT without checking its signature (the client
// only wants to know when to fetch a new one).
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(parts[1]) > 8192 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Int64()
	if err != nil || exp <= 0 || exp > 1<<40 {
		return time.Time{}, false
	}
	return time.Unix(exp, 0), true
}

// cancelAnswer reads a 200 answer to DELETE /labels/v3/label/{trackingNumber}.
func parseCancel(body []byte) (string, error) {
	obj, err := decodeObject(body)
	if err != nil {
		return "", err
	}
	st := strings.ToUpper(text(obj["status"]))
	if st == "" && text(obj["trackingNumber"]) == "" {
		return "", errors.New("the cancel answer has neither status nor trackingNumber")
	}
	return st, nil
}
