package ups

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/gif"
	"image/png"
	"net/http"
	"net/url"
	"strings"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// Client is one UPS account's API. It is safe for concurrent use: the OAuth token
// is shared, fetched by one caller at a time and refreshed before it expires.
type Client struct {
	cfg    Config
	hc     *http.Client
	tokens *carriers.TokenCache
}

var _ carriers.Client = (*Client)(nil)

// New builds a client. A nil hc is carriers.HTTPClient(cfg.Timeout).
func New(cfg Config, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if hc == nil {
		hc = carriers.HTTPClient(cfg.Timeout)
	}
	c := &Client{cfg: cfg, hc: hc}
	c.tokens = &carriers.TokenCache{Fetch: c.fetchToken, Now: cfg.Now}
	return c, nil
}

// Carrier is carriers.UPS.
func (c *Client) Carrier() string { return carriers.UPS }

// Token obtains the account's OAuth token, or reuses the cached one. Cancelling ctx
// stops the wait, not a fetch other callers share.
func (c *Client) Token(ctx context.Context) error {
	_, err := c.token(ctx)
	return err
}

func (c *Client) token(ctx context.Context) (string, error) {
	tok, err := c.tokens.Get(ctx)
	if err != nil {
		return "", carriers.TokenError(carriers.UPS, err)
	}
	return tok, nil
}

// fetchToken asks POST /security/v1/oauth/token for a client-credentials token.
func (c *Client) fetchToken(ctx context.Context) (carriers.Token, error) {
	form := url.Values{"grant_type": {"client_credentials"}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/security/v1/oauth/token", strings.NewReader(form))
	if err != nil {
		return carriers.Token{}, c.localError(carriers.OpToken, "", err)
	}
	req.SetBasicAuth(c.cfg.ClientID, c.cfg.ClientSecret)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("x-merchant-id", c.cfg.AccountNumber)
	resp, err := carriers.Do(ctx, c.hc, carriers.UPS, carriers.OpToken, true, req)
	if err != nil {
		return carriers.Token{}, err
	}
	if resp.Status != http.StatusOK {
		return carriers.Token{}, c.errorFrom(carriers.OpToken, true, "", resp)
	}
	info, err := parseToken(resp.Body)
	if err != nil {
		return carriers.Token{}, &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpToken, Status: resp.Status,
			Class: carriers.Transient, Err: err}
	}
	t := carriers.Token{Value: info.AccessToken}
	if info.ExpiresIn > 0 {
		t.Expiry = c.cfg.Now().Add(info.ExpiresIn)
	}
	return t, nil
}

// localError is a request the client could not even build.
func (c *Client) localError(op carriers.Op, tid string, err error) *carriers.Error {
	return &carriers.Error{Carrier: carriers.UPS, Op: op, Class: carriers.Permanent, TransactionID: tid, Err: err}
}

// send makes one authenticated call: build is given the bearer token. An Auth
// answer (401, codes 250002/250003) drops the token and the call is made once more
// with a fresh one; a second Auth answer is returned. Any other non-2xx answer is
// returned as a *carriers.Error.
func (c *Client) send(ctx context.Context, op carriers.Op, idempotent bool, tid string, build func(token string) (*http.Request, error)) (*carriers.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := build(tok)
		if err != nil {
			return nil, c.localError(op, tid, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("transactionSrc", c.cfg.TransactionSrc)
		if tid != "" {
			req.Header.Set("transId", tid)
		}
		resp, err := carriers.Do(ctx, c.hc, carriers.UPS, op, idempotent, req)
		if err != nil {
			var ce *carriers.Error
			if errors.As(err, &ce) {
				ce.TransactionID = tid
			}
			return nil, err
		}
		if resp.Status >= 200 && resp.Status < 300 {
			return resp, nil
		}
		e := c.errorFrom(op, idempotent, tid, resp)
		if e.Class == carriers.Auth && attempt == 0 {
			c.tokens.Invalidate(tok)
			continue
		}
		return nil, e
	}
}

// Ship buys the label of one package: POST /api/shipments/{version}/ship. Formats:
// ZPL, and PNG (UPS's GIF, converted). PDF is refused without a call
// (UNSUPPORTED_LABEL_FORMAT). r.Reference goes in the package's ReferenceNumber
// (US→US, PR→PR) or the shipment's (elsewhere), so Lookup finds it; r.RequestID
// goes in the transId header (dashes removed) and TransactionReference. A failure
// after the request was sent (timeout, dropped connection, a 200 that cannot be
// read, 504) is Ambiguous: the label may exist.
func (c *Client) Ship(ctx context.Context, r carriers.ShipRequest) (*carriers.Label, error) {
	doc, refusal := c.buildShipment(r)
	if refusal != nil {
		return nil, refusal
	}
	tid := transID(r.RequestID)
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, c.localError(carriers.OpShip, tid, fmt.Errorf("encoding the ShipmentRequest: %w", err))
	}
	endpoint := c.cfg.BaseURL + "/api/shipments/" + c.cfg.Version + "/ship"
	resp, err := c.send(ctx, carriers.OpShip, false, tid, func(string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		return nil, err
	}
	// A 2xx answer means UPS acted: a label that cannot be read may still exist.
	ambiguous := func(trk string, err error) error {
		e := &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpShip, Status: resp.Status,
			Class: carriers.Ambiguous, TransactionID: tid, Err: err}
		if trk != "" {
			e.Message = "UPS sold " + trk + " but its label could not be read"
		}
		return e
	}
	res, err := parseShipment(resp.Body)
	if err != nil {
		if res.TrackingNumber == "" {
			err = errors.Join(err, unreadable(resp))
		}
		return nil, ambiguous(res.TrackingNumber, fmt.Errorf("reading the ShipmentResponse: %w", err))
	}
	format, data, err := labelData(r.Format, res)
	if err != nil {
		return nil, ambiguous(res.TrackingNumber, err)
	}
	return &carriers.Label{
		Carrier:        carriers.UPS,
		Service:        r.Service,
		TrackingNumber: res.TrackingNumber,
		ShipmentID:     res.ShipmentID,
		Format:         format,
		Data:           data,
		Cost:           canonical.Money{Amount: res.Amount, Currency: res.Currency},
	}, nil
}

// maxLabelPixels bounds a GIF label (UPS's are about 1400×800).
const maxLabelPixels = 4000 * 4000

// labelData turns the label UPS returned into the canonical format: ZPL as is, GIF
// (asked for PNG, or returned instead of ZPL, as UPS does for COD shipments) as
// PNG.
func labelData(asked canonical.LabelFormat, res shipResult) (canonical.LabelFormat, []byte, error) {
	code := res.FormatCode
	if code == "" {
		code, _ = labelFormat(asked)
	}
	switch code {
	case "ZPL":
		return canonical.LabelZPL, res.Image, nil
	case "PNG":
		if _, err := png.DecodeConfig(bytes.NewReader(res.Image)); err != nil {
			return "", nil, fmt.Errorf("PNG label does not decode: %w", err)
		}
		return canonical.LabelPNG, res.Image, nil
	case "GIF":
		// Refuse a header claiming a huge image before decoding allocates it.
		cfg, err := gif.DecodeConfig(bytes.NewReader(res.Image))
		if err != nil {
			return "", nil, fmt.Errorf("GIF label does not decode: %w", err)
		}
		if cfg.Width*cfg.Height > maxLabelPixels {
			return "", nil, fmt.Errorf("GIF label of %dx%d pixels is too large", cfg.Width, cfg.Height)
		}
		img, err := gif.Decode(bytes.NewReader(res.Image))
		if err != nil {
			return "", nil, fmt.Errorf("GIF label does not decode: %w", err)
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			return "", nil, fmt.Errorf("converting the GIF label to PNG: %w", err)
		}
		return canonical.LabelPNG, buf.Bytes(), nil
	}
	return "", nil, fmt.Errorf("UPS returned a %q label, which the hub cannot use", code)
}

// Void cancels a shipment: DELETE /api/shipments/{version}/void/cancel/{id} with id
// r.ShipmentID (or r.TrackingNumber), and ?trackingnumber= when only that package
// of the shipment is meant. "Voided" and "Already Voided" are both success. An
// unknown shipment, or one past its void period, is Permanent (190102).
func (c *Client) Void(ctx context.Context, r carriers.VoidRequest) error {
	tid := transID(r.RequestID)
	id := firstNonEmpty(r.ShipmentID, r.TrackingNumber)
	if id == "" {
		return &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpVoid, Class: carriers.Permanent,
			Code: "MISSING_SHIPMENT_ID", Field: "ShipmentID", Message: "a shipment id or tracking number is required", TransactionID: tid}
	}
	endpoint := c.cfg.BaseURL + "/api/shipments/" + c.cfg.Version + "/void/cancel/" + url.PathEscape(id)
	if r.TrackingNumber != "" && r.TrackingNumber != id {
		endpoint += "?" + url.Values{"trackingnumber": {r.TrackingNumber}}.Encode()
	}
	resp, err := c.send(ctx, carriers.OpVoid, true, tid, func(string) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodDelete, endpoint, nil)
	})
	if err != nil {
		return err
	}
	voided, status, readable := parseVoid(resp.Body)
	switch {
	case !readable:
		return &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpVoid, Status: resp.Status, Class: carriers.Transient,
			TransactionID: tid, Err: fmt.Errorf("reading the VoidShipmentResponse: %w", unreadable(resp))}
	case !voided:
		return &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpVoid, Status: resp.Status, Class: carriers.Permanent,
			Code: "NOT_VOIDED", Message: "UPS did not void the shipment: " + status, TransactionID: tid}
	}
	return nil
}

// notFoundCodes are the answers to Label Recovery that mean "no such label".
var notFoundCodes = map[string]bool{"190102": true}

// Lookup lists the labels bought with r.Reference: Label Recovery
// (POST /api/labels/{version}/recovery) by ReferenceValues, the reference and the
// account's shipper number. UPS finds by reference without a date; r.ShipDate is not
// used. Nothing found is an empty slice.
func (c *Client) Lookup(ctx context.Context, r carriers.LookupRequest) ([]carriers.Found, error) {
	tid := transID(r.RequestID)
	if r.Reference == "" {
		return nil, &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpLookup, Class: carriers.Permanent,
			Code: "MISSING_REFERENCE", Field: "Reference", Message: "a reference is required", TransactionID: tid}
	}
	doc := map[string]any{"LabelRecoveryRequest": map[string]any{
		"Request": map[string]any{"TransactionReference": map[string]string{"CustomerContext": firstNonEmpty(carriers.Truncate(r.RequestID, 512), "lookup")}},
		// Required by Shipping.yaml, though it lists Roadie (1R) numbers only.
		"TrackingNumbers": []string{},
		"ReferenceValues": map[string]any{
			"ReferenceNumber": map[string]string{"Value": r.Reference},
			"ShipperNumber":   c.cfg.AccountNumber,
		},
	}}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, c.localError(carriers.OpLookup, tid, fmt.Errorf("encoding the LabelRecoveryRequest: %w", err))
	}
	endpoint := c.cfg.BaseURL + "/api/labels/" + c.cfg.RecoveryVersion + "/recovery"
	resp, err := c.send(ctx, carriers.OpLookup, true, tid, func(string) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	})
	if err != nil {
		var ce *carriers.Error
		if errors.As(err, &ce) && ce.Class == carriers.Permanent && notFoundCodes[ce.Code] {
			return []carriers.Found{}, nil
		}
		return nil, err
	}
	found, readable := parseRecovery(resp.Body)
	if !readable {
		return nil, &carriers.Error{Carrier: carriers.UPS, Op: carriers.OpLookup, Status: resp.Status, Class: carriers.Transient,
			TransactionID: tid, Err: fmt.Errorf("reading the LabelRecoveryResponse: %w", unreadable(resp))}
	}
	return found, nil
}
