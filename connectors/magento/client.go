package magento

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dghubble/oauth1"
)

// maxBody caps what is read from one Magento answer.
const maxBody = 32 << 20

// Client calls one Magento store's REST API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string // BaseURL + "/rest/" + store + "/V1/"
	http *http.Client
}

// New returns a Client for cfg, which must Validate.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("checking magento config: %w", err)
	}
	cfg = cfg.withDefaults()
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	c := &Client{
		cfg:  cfg,
		base: strings.TrimRight(cfg.BaseURL, "/") + "/rest/" + cfg.Store + "/V1/",
	}
	switch cfg.Auth {
	case AuthOAuth1:
		oc := oauth1.NewConfig(cfg.ConsumerKey, string(cfg.ConsumerSecret))
		if cfg.SignatureMethod == HMACSHA1 {
			oc.Signer = &oauth1.HMACSigner{ConsumerSecret: string(cfg.ConsumerSecret)}
		} else {
			oc.Signer = &oauth1.HMAC256Signer{ConsumerSecret: string(cfg.ConsumerSecret)}
		}
		ctx := context.WithValue(context.Background(), oauth1.HTTPClient, &http.Client{Transport: transport})
		c.http = oc.Client(ctx, oauth1.NewToken(string(cfg.AccessToken), string(cfg.AccessTokenSecret)))
	case AuthBearer:
		c.http = &http.Client{Transport: bearer{token: string(cfg.AccessToken), next: transport}}
	}
	return c, nil
}

// bearer adds "Authorization: Bearer …".
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// do sends one request and decodes a 2xx answer into out. Cancelling ctx
// abandons the request; the error is then an *Error of class Transient
// (GET) or Ambiguous (POST).
func (c *Client) do(ctx context.Context, op, method, path string, query url.Values, body, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encoding magento %s request: %w", op, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return &Error{Op: op, Class: Permanent, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		class := Transient
		if method != http.MethodGet {
			class = Ambiguous
		}
		return &Error{Op: op, Class: class, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err == nil && len(data) > maxBody {
		err = fmt.Errorf("answer larger than %d bytes", maxBody)
	}
	if err != nil {
		class := Transient
		if method != http.MethodGet && resp.StatusCode < 300 {
			class = Ambiguous
		}
		return &Error{Op: op, Status: resp.StatusCode, Class: class, Err: fmt.Errorf("reading answer: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseError(op, resp.StatusCode, data)
	}
	if out == nil {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Class: Permanent, Err: fmt.Errorf("decoding answer: %w", err)}
	}
	return nil
}

// criteria builds searchCriteria query parameters.
type criteria struct {
	v     url.Values
	group int
}

func newCriteria() *criteria { return &criteria{v: url.Values{}} }

// filter adds a filter group of one filter (groups are ANDed).
func (c *criteria) filter(field, cond, value string) *criteria {
	p := fmt.Sprintf("searchCriteria[filter_groups][%d][filters][0]", c.group)
	c.v.Set(p+"[field]", field)
	c.v.Set(p+"[value]", value)
	c.v.Set(p+"[condition_type]", cond)
	c.group++
	return c
}

func (c *criteria) sort(field, dir string) *criteria {
	c.v.Set("searchCriteria[sortOrders][0][field]", field)
	c.v.Set("searchCriteria[sortOrders][0][direction]", dir)
	return c
}

func (c *criteria) page(size, current int) *criteria {
	c.v.Set("searchCriteria[pageSize]", fmt.Sprint(size))
	c.v.Set("searchCriteria[currentPage]", fmt.Sprint(current))
	return c
}

// errNoID reports an answer without a usable id.
var errNoID = errors.New("no entity_id")
