package fedex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// Paths on the API host.
const (
	pathToken             = "/oauth/token"
	pathShip              = "/ship/v1/shipments"
	pathCancel            = "/ship/v1/shipments/cancel"
	pathTrackByReferences = "/track/v1/referencenumbers"
)

// Client is one FedEx account's API. It is safe for concurrent use. It retries
// nothing but one token refresh when FedEx refuses a token; breakers and retries
// are the caller's.
type Client struct {
	cfg    Config
	hc     *http.Client
	tokens *carriers.TokenCache
}

var _ carriers.Client = (*Client)(nil)

// New checks cfg and returns a client. A nil hc is carriers.HTTPClient(cfg.Timeout).
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

// Carrier is carriers.FedEx.
func (c *Client) Carrier() string { return carriers.FedEx }

// Token obtains an OAuth token, or reuses the cached one while it has a while to
// live. Concurrent callers share one fetch; cancelling ctx abandons the wait, not
// the fetch.
func (c *Client) Token(ctx context.Context) error {
	_, err := c.token(ctx)
	return err
}

func (c *Client) token(ctx context.Context) (string, error) {
	tok, err := c.tokens.Get(ctx)
	if err != nil {
		return "", carriers.TokenError(carriers.FedEx, err)
	}
	return tok, nil
}

// fetchToken is POST /oauth/token with the credentials in the form body.
func (c *Client) fetchToken(ctx context.Context) (carriers.Token, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {string(c.cfg.ClientSecret)},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+pathToken, strings.NewReader(form.Encode()))
	if err != nil {
		return carriers.Token{}, &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpToken, Class: carriers.Permanent,
			Err: fmt.Errorf("building the token request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := carriers.Do(ctx, c.hc, carriers.FedEx, carriers.OpToken, true, req)
	if err != nil {
		return carriers.Token{}, err
	}
	if resp.Status != http.StatusOK {
		return carriers.Token{}, classify(carriers.OpToken, true, resp, c.cfg.Now(), c.cfg.ThrottleWindow)
	}
	value, life, err := parseToken(resp.Body)
	if err != nil {
		return carriers.Token{}, &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpToken, Status: resp.Status,
			Class: carriers.Transient, Message: err.Error()}
	}
	tok := carriers.Token{Value: value}
	if life > 0 {
		tok.Expiry = c.cfg.Now().Add(life)
	}
	return tok, nil
}

// send makes one API call with a bearer token. When FedEx refuses the token (401,
// NOT.AUTHORIZED.ERROR) it drops it, fetches a new one and sends once more; a
// second refusal is returned for the caller to classify. Any other answer is
// returned as it came.
func (c *Client) send(ctx context.Context, op carriers.Op, idempotent bool, method, path string, body []byte, requestID string) (*carriers.Response, error) {
	for attempt := 0; ; attempt++ {
		tok, err := c.token(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, c.cfg.BaseURL+path, bytes.NewReader(body))
		if err != nil {
			return nil, &carriers.Error{Carrier: carriers.FedEx, Op: op, Class: carriers.Permanent, TransactionID: requestID,
				Err: fmt.Errorf("building the request: %w", err)}
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("x-locale", c.cfg.Locale)
		if requestID != "" {
			req.Header.Set("x-customer-transaction-id", requestID)
		}
		resp, err := carriers.Do(ctx, c.hc, carriers.FedEx, op, idempotent, req)
		if err != nil {
			var ce *carriers.Error
			if errors.As(err, &ce) && ce.TransactionID == "" {
				ce.TransactionID = requestID
			}
			return nil, err
		}
		if attempt == 0 && refusedToken(resp) {
			c.tokens.Invalidate(tok)
			continue
		}
		return resp, nil
	}
}

// refusedToken reports whether FedEx refused the bearer token.
func refusedToken(resp *carriers.Response) bool {
	if resp.Status == http.StatusUnauthorized {
		return true
	}
	if resp.Status < 400 || resp.Status >= 500 {
		return false
	}
	env, _ := parseEnvelope(resp.Body)
	for _, e := range env.Errors {
		if authCodes[e.Code] {
			return true
		}
	}
	return false
}

// failure classifies an error answer, keeping the hub's correlation id.
func (c *Client) failure(op carriers.Op, idempotent bool, resp *carriers.Response, requestID string) *carriers.Error {
	e := classify(op, idempotent, resp, c.cfg.Now(), c.cfg.ThrottleWindow)
	if requestID != "" {
		e.TransactionID = requestID
	}
	return e
}

// Ship buys the label of one package: POST /ship/v1/shipments with
// labelResponseOptions LABEL, so the label comes back base64 in the answer.
// RequestID travels as x-customer-transaction-id, Reference (cut to 30 characters)
// as the package's CUSTOMER_REFERENCE. Once the request is written, a timeout, a
// dropped connection, a cancelled ctx or an unreadable 200 is Ambiguous: the label
// may exist, and Lookup by the reference finds it.
func (c *Client) Ship(ctx context.Context, r carriers.ShipRequest) (*carriers.Label, error) {
	sr, lerr := c.buildShip(r)
	if lerr != nil {
		return nil, lerr
	}
	body, err := json.Marshal(sr)
	if err != nil {
		return nil, localError(carriers.OpShip, r.RequestID, "", "encoding the ship request: %v", err)
	}
	resp, err := c.send(ctx, carriers.OpShip, false, http.MethodPost, pathShip, body, r.RequestID)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK && resp.Status != http.StatusCreated {
		return nil, c.failure(carriers.OpShip, false, resp, r.RequestID)
	}
	res, perr := parseShip(resp.Body)
	if perr != nil {
		if env, isJSON := parseEnvelope(resp.Body); isJSON && len(env.Errors) > 0 {
			return nil, c.failure(carriers.OpShip, false, resp, r.RequestID) // 200 carrying errors
		}
		return nil, &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpShip, Status: resp.Status,
			Class: carriers.Ambiguous, TransactionID: r.RequestID,
			Message: "FedEx accepted the shipment but the answer is unusable: " + perr.Error()}
	}
	service := res.Service
	if service == "" {
		service = sr.RequestedShipment.ServiceType
	}
	return &carriers.Label{
		Carrier:        carriers.FedEx,
		Service:        service,
		TrackingNumber: res.Tracking,
		ShipmentID:     res.Master,
		Format:         r.Format,
		Data:           res.Label,
		Cost:           res.Cost,
	}, nil
}

// Void cancels a shipment: PUT /ship/v1/shipments/cancel with DELETE_ALL_PACKAGES
// for r.ShipmentID (the master tracking number), else r.TrackingNumber. A shipment
// FedEx reports as already cancelled is not an error. Void is safe to repeat.
func (c *Client) Void(ctx context.Context, r carriers.VoidRequest) error {
	tn := strings.TrimSpace(r.ShipmentID)
	if tn == "" {
		tn = strings.TrimSpace(r.TrackingNumber)
	}
	if tn == "" {
		return localError(carriers.OpVoid, r.RequestID, "TrackingNumber", "a tracking number is required to void a FedEx label")
	}
	body, err := json.Marshal(cancelRequest{
		AccountNumber:   accountNumber{Value: c.cfg.AccountNumber},
		TrackingNumber:  tn,
		DeletionControl: deleteAllPackages,
	})
	if err != nil {
		return localError(carriers.OpVoid, r.RequestID, "", "encoding the cancel request: %v", err)
	}
	resp, err := c.send(ctx, carriers.OpVoid, true, http.MethodPut, pathCancel, body, r.RequestID)
	if err != nil {
		return err
	}
	if resp.Status != http.StatusOK {
		e := c.failure(carriers.OpVoid, true, resp, r.RequestID)
		switch e.Code {
		case CodeAlreadyCancelled, CodeTrackingCancelled, CodeCancelledWithoutPickup:
			return nil
		}
		return e
	}
	cancelled, reason, perr := parseCancel(resp.Body)
	switch {
	case perr != nil:
		return &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpVoid, Status: resp.Status, Class: carriers.Transient,
			TransactionID: r.RequestID, Message: "unusable cancel answer: " + perr.Error()}
	case !cancelled:
		return &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpVoid, Status: resp.Status, Class: carriers.Permanent,
			TransactionID: r.RequestID, Code: reason.Code, Message: reason.Message}
	}
	return nil
}

// Lookup lists the labels FedEx has for r.Reference (cut to 30 characters, as
// Ship sent it): POST /track/v1/referencenumbers, Track by References with type
// CUSTOMER_REFERENCE and the account number, ship dates from the day before to
// the day after r.ShipDate (today when zero). Nothing found is an empty slice.
func (c *Client) Lookup(ctx context.Context, r carriers.LookupRequest) ([]carriers.Found, error) {
	ref := reference(r.Reference)
	if ref == "" {
		return nil, localError(carriers.OpLookup, r.RequestID, "Reference", "a reference is required to look up FedEx labels")
	}
	day := r.ShipDate
	if day.IsZero() {
		day = c.cfg.Now()
	}
	body, err := json.Marshal(trackByReferencesRequest{ReferencesInformation: referencesInformation{
		Type:          customerReferenceType,
		Value:         ref,
		AccountNumber: c.cfg.AccountNumber,
		ShipDateBegin: day.AddDate(0, 0, -1).Format(time.DateOnly),
		ShipDateEnd:   day.AddDate(0, 0, 1).Format(time.DateOnly),
	}})
	if err != nil {
		return nil, localError(carriers.OpLookup, r.RequestID, "", "encoding the track request: %v", err)
	}
	resp, err := c.send(ctx, carriers.OpLookup, true, http.MethodPost, pathTrackByReferences, body, r.RequestID)
	if err != nil {
		return nil, err
	}
	if resp.Status != http.StatusOK {
		e := c.failure(carriers.OpLookup, true, resp, r.RequestID)
		if e.Code == CodeReferenceNotFound {
			return []carriers.Found{}, nil
		}
		return nil, e
	}
	res, perr := parseLookup(resp.Body)
	if perr != nil {
		return nil, &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpLookup, Status: resp.Status, Class: carriers.Transient,
			TransactionID: r.RequestID, Message: "unusable track answer: " + perr.Error()}
	}
	if len(res.Found) == 0 && res.Err != nil {
		return nil, &carriers.Error{Carrier: carriers.FedEx, Op: carriers.OpLookup, Status: resp.Status, Class: carriers.Permanent,
			TransactionID: r.RequestID, Code: res.Err.Code, Message: res.Err.Message}
	}
	return res.Found, nil
}
