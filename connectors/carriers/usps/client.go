// Package usps speaks the USPS APIs version 3 for one account: an OAuth 2.0
// access token (POST /oauth2/v3/token), a payment authorization token (POST
// /payments/v3/payment-authorization, "Payments" 3.1.20), and labels (POST and
// DELETE /labels/v3/label, "Labels" 3.9.13). It implements carriers.Client.
//
// Every label call carries two tokens: Authorization: Bearer <access token> and
// X-Payment-Authorization-Token, which names who pays (the EPS account) and whose
// MID the tracking numbers come from. Both are cached and fetched once however
// many calls wait (carriers.TokenCache); a 401 drops the token USPS refused and the
// call is sent once more.
//
// USPS honours X-Idempotency-Key: the same key with the same body returns the label
// first created, never a second one. The client sends the hub's RequestID as that
// key, so a Ship whose outcome is unknown (carriers.Ambiguous) is resolved by
// sending it again; Lookup is therefore not offered (carriers.ErrNoLookup).
//
//	c, err := usps.New(usps.Config{
//		BaseURL: "https://apis-tem.usps.com", ClientID: id, ClientSecret: secret,
//		CRID: "56982563", MID: "904128936", AccountNumber: "1000405525",
//	}, nil)
//	label, err := c.Ship(ctx, carriers.ShipRequest{RequestID: id, Service: "USPS_GROUND_ADVANTAGE", …})
//
// The client retries nothing but that one token refresh and has no breaker: the
// caller adds those.
package usps

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
)

// Client is one USPS account. It is safe for concurrent use.
type Client struct {
	cfg     Config
	hc      *http.Client
	access  *carriers.TokenCache
	payment *carriers.TokenCache
}

var _ carriers.Client = (*Client)(nil)

// New checks cfg and returns its client. A nil hc is carriers.HTTPClient(cfg.Timeout).
func New(cfg Config, hc *http.Client) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if hc == nil {
		hc = carriers.HTTPClient(cfg.Timeout)
	}
	c := &Client{cfg: cfg, hc: hc}
	c.access = &carriers.TokenCache{Fetch: c.fetchAccessToken, Now: cfg.Now}
	c.payment = &carriers.TokenCache{Fetch: c.fetchPaymentToken, Now: cfg.Now}
	return c, nil
}

// Carrier is carriers.USPS.
func (c *Client) Carrier() string { return carriers.USPS }

// Token obtains (or reuses) the access token and the payment authorization token.
// Cancelling ctx stops waiting; a fetch under way finishes for the other callers.
func (c *Client) Token(ctx context.Context) error {
	if _, err := c.access.Get(ctx); err != nil {
		return carriers.TokenError(carriers.USPS, err)
	}
	if _, err := c.payment.Get(ctx); err != nil {
		return carriers.TokenError(carriers.USPS, err)
	}
	return nil
}

// Ship buys one label. r.RequestID is sent as X-Idempotency-Key (a UUID as it is,
// anything else as a UUID derived from it), r.Reference as the printed customer
// reference (cut to 30 characters), r.Service as the mail class. Cancelling ctx
// abandons the call; if the request was already sent the error is Ambiguous, and
// sending the same request again returns the label if USPS made it.
func (c *Client) Ship(ctx context.Context, r carriers.ShipRequest) (*carriers.Label, error) {
	key := IdempotencyKey(r.RequestID)
	body, err := c.labelRequest(r, key)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, invalid(carriers.OpShip, key, "", fmt.Sprintf("encoding the label request: %v", err))
	}
	resp, err := c.send(ctx, carriers.OpShip, false, key, true, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/labels/v3/label", bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/vnd.usps.labels+json")
		if key != "" {
			req.Header.Set("X-Idempotency-Key", key)
		}
		return req, nil
	})
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, c.failure(carriers.OpShip, false, resp, key)
	}
	a, err := parseLabel(resp.Header.Get("Content-Type"), resp.Body)
	if err != nil {
		return nil, unreadable(carriers.OpShip, false, resp.Status, key, err.Error())
	}
	return &carriers.Label{
		Carrier:        carriers.USPS,
		Service:        body.PackageDescription.MailClass,
		TrackingNumber: a.TrackingNumber,
		Format:         formatOf(r),
		Data:           a.Image,
		Cost:           a.Cost,
	}, nil
}

func formatOf(r carriers.ShipRequest) canonical.LabelFormat {
	if r.Format == "" {
		return canonical.LabelPDF
	}
	return r.Format
}

// Void cancels a label by its tracking number (DELETE
// /labels/v3/label/{trackingNumber}). A label USPS says is already canceled
// (160186) is not an error; an unknown one (160185) is Permanent. A label already in
// a Shipping Services File is not canceled but refunded: USPS answers DISPUTED, and
// Void returns nil as well.
func (c *Client) Void(ctx context.Context, r carriers.VoidRequest) error {
	key := IdempotencyKey(r.RequestID)
	tn := strings.TrimSpace(r.TrackingNumber)
	if tn == "" {
		tn = strings.TrimSpace(r.ShipmentID)
	}
	if tn == "" {
		return invalid(carriers.OpVoid, key, "trackingNumber", "a tracking number is needed to cancel a USPS label")
	}
	resp, err := c.send(ctx, carriers.OpVoid, true, key, true, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.cfg.BaseURL+"/labels/v3/label/"+url.PathEscape(tn), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return err
	}
	if resp.Status >= 200 && resp.Status <= 299 {
		if _, err := parseCancel(resp.Body); err != nil {
			return unreadable(carriers.OpVoid, true, resp.Status, key, err.Error())
		}
		return nil
	}
	ce := c.failure(carriers.OpVoid, true, resp, key)
	if ce.Code == CodeOrderAlreadyCanceled {
		return nil
	}
	return ce
}

// Lookup is not offered: it returns a Permanent error wrapping carriers.ErrNoLookup.
// Resend the Ship with the same RequestID instead.
func (c *Client) Lookup(ctx context.Context, r carriers.LookupRequest) ([]carriers.Found, error) {
	return nil, &carriers.Error{
		Carrier: carriers.USPS, Op: carriers.OpLookup, Class: carriers.Permanent,
		TransactionID: IdempotencyKey(r.RequestID), Err: carriers.ErrNoLookup,
	}
}

// send makes one API call with the access token (and the payment token when
// payment is set). On a 401 it drops the token USPS refused — the payment token
// when the answer names it, else the access token and the payment token — and
// sends once more; the second answer is returned whatever it is.
func (c *Client) send(ctx context.Context, op carriers.Op, idempotent bool, txn string, payment bool, build func(context.Context) (*http.Request, error)) (*carriers.Response, error) {
	for attempt := 0; ; attempt++ {
		access, err := c.access.Get(ctx)
		if err != nil {
			return nil, carriers.TokenError(carriers.USPS, err)
		}
		var pay string
		if payment {
			if pay, err = c.payment.Get(ctx); err != nil {
				return nil, carriers.TokenError(carriers.USPS, err)
			}
		}
		req, err := build(ctx)
		if err != nil {
			return nil, invalid(op, txn, "", fmt.Sprintf("building the request: %v", err))
		}
		if !idempotent {
			// Without GetBody net/http will not silently resend a POST that carries
			// X-Idempotency-Key after a dropped connection: resending is the
			// caller's decision.
			req.GetBody = nil
		}
		req.Header.Set("Authorization", "Bearer "+access)
		if payment {
			req.Header.Set("X-Payment-Authorization-Token", pay)
		}
		resp, err := carriers.Do(ctx, c.hc, carriers.USPS, op, idempotent, req)
		if err != nil {
			if ce, ok := err.(*carriers.Error); ok {
				ce.TransactionID = txn
			}
			return nil, err
		}
		if resp.Status != http.StatusUnauthorized || attempt > 0 {
			return resp, nil
		}
		if e := parseError(resp.Body); payment && e.isPaymentTokenError() {
			c.payment.Invalidate(pay)
		} else {
			c.access.Invalidate(access)
			if payment {
				c.payment.Invalidate(pay)
			}
		}
	}
}

// fetchAccessToken is POST /oauth2/v3/token with the client credentials grant.
func (c *Client) fetchAccessToken(ctx context.Context) (carriers.Token, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
	}
	if c.cfg.Scope != "" {
		form.Set("scope", c.cfg.Scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/oauth2/v3/token", strings.NewReader(form.Encode()))
	if err != nil {
		return carriers.Token{}, invalid(carriers.OpToken, "", "", "building the token request")
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := carriers.Do(ctx, c.hc, carriers.USPS, carriers.OpToken, true, req)
	if err != nil {
		return carriers.Token{}, err
	}
	if resp.Status != http.StatusOK {
		return carriers.Token{}, c.failure(carriers.OpToken, true, resp, "")
	}
	t, err := parseToken(resp.Body)
	if err != nil {
		return carriers.Token{}, unreadable(carriers.OpToken, true, resp.Status, "", err.Error())
	}
	return carriers.Token{Value: t.AccessToken, Expiry: expiryOf(c.cfg.Now(), t.ExpiresIn, t.AccessToken, time.Hour)}, nil
}

// paymentRole is one role of a payment authorization request.
type paymentRole struct {
	RoleName      string `json:"roleName"`
	CRID          string `json:"CRID"`
	MID           string `json:"MID"`
	ManifestMID   string `json:"manifestMID"`
	AccountType   string `json:"accountType,omitempty"`
	AccountNumber string `json:"accountNumber,omitempty"`
}

// fetchPaymentToken is POST /payments/v3/payment-authorization with the PAYER
// (the EPS account) and LABEL_OWNER (the MID) roles. A 401 there refreshes the
// access token once.
func (c *Client) fetchPaymentToken(ctx context.Context) (carriers.Token, error) {
	raw, _ := json.Marshal(map[string][]paymentRole{"roles": {
		{RoleName: "PAYER", CRID: c.cfg.CRID, MID: c.cfg.MID, ManifestMID: c.cfg.ManifestMID, AccountType: "EPS", AccountNumber: c.cfg.AccountNumber},
		{RoleName: "LABEL_OWNER", CRID: c.cfg.CRID, MID: c.cfg.MID, ManifestMID: c.cfg.ManifestMID},
	}})
	resp, err := c.send(ctx, carriers.OpToken, true, "", false, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/payments/v3/payment-authorization", bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return carriers.Token{}, err
	}
	if resp.Status != http.StatusOK {
		return carriers.Token{}, c.failure(carriers.OpToken, true, resp, "")
	}
	tok, err := parsePaymentToken(resp.Body)
	if err != nil {
		return carriers.Token{}, unreadable(carriers.OpToken, true, resp.Status, "", err.Error())
	}
	now := c.cfg.Now()
	return carriers.Token{Value: tok, Expiry: expiryOf(now, nil, tok, c.cfg.PaymentTokenLifetime)}, nil
}

// IdempotencyKey is the X-Idempotency-Key sent for a RequestID: the RequestID
// itself, lowercased, when it is a UUID (as the hub's are); otherwise a UUID
// (version 5, SHA-1) derived from it, the same for the same RequestID; "" for "".
func IdempotencyKey(requestID string) string {
	id := strings.TrimSpace(requestID)
	if id == "" {
		return ""
	}
	if isUUID(id) {
		return strings.ToLower(id)
	}
	h := sha1.New()
	h.Write(keyNamespace[:])
	h.Write([]byte(id))
	sum := h.Sum(nil)
	sum[6] = sum[6]&0x0f | 0x50 // version 5
	sum[8] = sum[8]&0x3f | 0x80 // RFC 4122 variant
	b := hex.EncodeToString(sum[:16])
	return b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
}

// keyNamespace is the UUID namespace of derived keys (a fixed random UUID,
// 6f0b3c4e-5b7d-4f0a-9d2e-1c8a7e5f3b21).
var keyNamespace = [16]byte{0x6f, 0x0b, 0x3c, 0x4e, 0x5b, 0x7d, 0x4f, 0x0a, 0x9d, 0x2e, 0x1c, 0x8a, 0x7e, 0x5f, 0x3b, 0x21}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}
