package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// maxResponse caps what is read of an answer.
const maxResponse = 16 << 20

// Client calls one shop's GraphQL Admin API. It is safe for concurrent use;
// calls share the shop's cost budget.
type Client struct {
	cfg      Config
	endpoint string
	log      *slog.Logger
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error

	mu     sync.Mutex
	budget ThrottleStatus
	seen   time.Time          // when budget was reported
	costs  map[string]float64 // last requestedQueryCost per root field
}

// Cost is a response's extensions.cost.
type Cost struct {
	RequestedQueryCost float64        `json:"requestedQueryCost"`
	ActualQueryCost    *float64       `json:"actualQueryCost"`
	ThrottleStatus     ThrottleStatus `json:"throttleStatus"`
}

// ThrottleStatus is the shop's cost bucket as last reported.
type ThrottleStatus struct {
	MaximumAvailable   float64 `json:"maximumAvailable"`
	CurrentlyAvailable float64 `json:"currentlyAvailable"`
	RestoreRate        float64 `json:"restoreRate"`
}

// New validates cfg and returns a client.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	return &Client{
		cfg:      cfg,
		endpoint: cfg.BaseURL + "/admin/api/" + cfg.APIVersion + "/graphql.json",
		log:      cfg.Logger.With("partner", cfg.Shop),
		now:      time.Now,
		sleep:    sleep,
		costs:    map[string]float64{},
	}, nil
}

// Shop is the shop's key.
func (c *Client) Shop() string { return c.cfg.Shop }

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *Cost `json:"cost"`
	} `json:"extensions"`
}

// call is one GraphQL operation.
type call struct {
	op       string // the root field, for errors, logs and the cost estimate
	query    string
	vars     map[string]any
	mutation bool
}

// hintBackOff waits at least the wait an answer asked for (Retry-After, the
// time for the bucket to refill), else what the exponential backoff says.
type hintBackOff struct {
	backoff.BackOff
	next time.Duration
}

func (h *hintBackOff) NextBackOff() time.Duration {
	d := h.BackOff.NextBackOff()
	if d == backoff.Stop {
		return d
	}
	if h.next > 0 {
		d = max(d, h.next)
		h.next = 0
	}
	return d
}

// GraphQL runs query with variables and decodes data into out. Throttled
// calls (HTTP 429, THROTTLED) are waited out and tried again; so are 5xx
// and connection errors of queries. A mutation is retried only when
// Shopify said it did nothing (throttled): any other failure after sending
// it is Ambiguous and returned, for the caller to read the remote state.
// Before each call it waits until the shop's budget, as last reported,
// holds what this operation cost last time. Cancelling ctx stops waits and
// the call in flight and returns ctx's error.
func (c *Client) GraphQL(ctx context.Context, query string, vars map[string]any, out any) error {
	trimmed := strings.TrimSpace(query)
	op := rootField(trimmed)
	return c.do(ctx, call{op: op, query: query, vars: vars, mutation: strings.HasPrefix(trimmed, "mutation")}, out)
}

func (c *Client) do(ctx context.Context, cl call, out any) error {
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval = c.cfg.RetryBase
	exp.MaxInterval = c.cfg.MaxWait
	exp.MaxElapsedTime = 0
	hint := &hintBackOff{BackOff: backoff.WithMaxRetries(exp, uint64(c.cfg.MaxRetries))}
	b := backoff.WithContext(hint, ctx)
	attempt := 0
	err := backoff.RetryNotify(func() error {
		attempt++
		if err := c.waitBudget(ctx, cl.op); err != nil {
			return backoff.Permanent(err)
		}
		err := c.once(ctx, cl, out)
		if err == nil || ctx.Err() != nil {
			if ctx.Err() != nil && err != nil {
				return backoff.Permanent(ctx.Err())
			}
			return err
		}
		var e *Error
		if errors.As(err, &e) {
			switch {
			case e.Class == Throttled:
				hint.next = min(e.RetryAfter, c.cfg.MaxWait)
				return err
			case e.Class == Transient && !cl.mutation:
				return err
			}
		}
		return backoff.Permanent(err)
	}, b, func(err error, wait time.Duration) {
		c.log.Info("shopify call retried", "op", cl.op, "attempt", attempt, "wait", wait, "error", err)
	})
	if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	return err
}

// waitBudget waits until the bucket, as last reported and restored since,
// holds what op cost last time.
func (c *Client) waitBudget(ctx context.Context, op string) error {
	c.mu.Lock()
	need := c.costs[op]
	b, seen := c.budget, c.seen
	c.mu.Unlock()
	if need == 0 || b.RestoreRate <= 0 || seen.IsZero() {
		return nil
	}
	avail := min(b.MaximumAvailable, b.CurrentlyAvailable+c.now().Sub(seen).Seconds()*b.RestoreRate)
	if need <= avail {
		return nil
	}
	wait := min(secs((need-avail)/b.RestoreRate), c.cfg.MaxWait)
	c.log.Debug("waiting for the shopify cost budget", "op", op, "cost", need, "available", avail, "wait", wait)
	return c.sleep(ctx, wait)
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (c *Client) record(op string, cost *Cost) {
	if cost == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.budget, c.seen = cost.ThrottleStatus, c.now()
	if cost.RequestedQueryCost > 0 {
		c.costs[op] = cost.RequestedQueryCost
	}
}

// once makes one HTTP call and classifies the outcome.
func (c *Client) once(ctx context.Context, cl call, out any) error {
	fail := func(class Class, status int, msg string, err error) *Error {
		return &Error{Shop: c.cfg.Shop, Op: cl.op, Class: class, Status: status, Message: msg, Err: err}
	}
	body, err := json.Marshal(map[string]any{"query": cl.query, "variables": cl.vars})
	if err != nil {
		return fail(Permanent, 0, "encoding the request", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return fail(Permanent, 0, "building the request", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Shopify-Access-Token", c.cfg.AccessToken)
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		class := Transient
		if cl.mutation {
			class = Ambiguous
		}
		return fail(class, 0, "calling the GraphQL Admin API", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		class := Transient
		if cl.mutation {
			class = Ambiguous
		}
		return fail(class, resp.StatusCode, "reading the answer", err)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusUnauthorized || s == http.StatusForbidden:
		return fail(Permanent, s, restMessage(raw), ErrUnauthorized)
	case s == http.StatusTooManyRequests:
		e := fail(Throttled, s, restMessage(raw), nil)
		e.RetryAfter = RetryAfter(resp.Header, c.now())
		if e.RetryAfter == 0 {
			e.RetryAfter = time.Second
		}
		return e
	case s >= 500:
		class := Transient
		if cl.mutation {
			class = Ambiguous
		}
		return fail(class, s, restMessage(raw), nil)
	case s != http.StatusOK:
		return fail(Permanent, s, restMessage(raw), nil)
	}
	var gr gqlResponse
	if err := json.Unmarshal(raw, &gr); err != nil {
		class := Transient
		if cl.mutation {
			class = Ambiguous
		}
		return fail(class, resp.StatusCode, "decoding the answer", err)
	}
	c.record(cl.op, gr.Extensions.Cost)
	if errs := graphQLErrors(gr.Errors); len(errs) > 0 {
		first := errs[0]
		e := fail(Permanent, resp.StatusCode, joinMessages(errs), nil)
		e.Code = first.Extensions.Code
		switch first.Extensions.Code {
		case "THROTTLED":
			e.Class = Throttled
			e.RetryAfter = time.Second
			if cost := gr.Extensions.Cost; cost != nil && cost.ThrottleStatus.RestoreRate > 0 {
				short := cost.RequestedQueryCost - cost.ThrottleStatus.CurrentlyAvailable
				e.RetryAfter = max(secs(short/cost.ThrottleStatus.RestoreRate), 10*time.Millisecond)
			}
		case "ACCESS_DENIED":
			e.Err = ErrUnauthorized
		case "INTERNAL_SERVER_ERROR":
			e.Class = Transient
			if cl.mutation {
				e.Class = Ambiguous
			}
		}
		return e
	}
	if out != nil {
		dec := json.NewDecoder(bytes.NewReader(gr.Data))
		dec.UseNumber()
		if err := dec.Decode(out); err != nil {
			return fail(Permanent, resp.StatusCode, "decoding data", err)
		}
	}
	return nil
}

// graphQLErrors reads "errors": a list of GraphQL errors, or the string or
// object some REST-style refusals carry.
func graphQLErrors(raw json.RawMessage) []gqlError {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var list []gqlError
	if err := json.Unmarshal(raw, &list); err == nil {
		return list
	}
	return []gqlError{{Message: restMessage([]byte(`{"errors":` + string(raw) + `}`))}}
}

func joinMessages(errs []gqlError) string {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	return strings.Join(msgs, "; ")
}

// restMessage reads {"errors": "..."} or {"errors": {...}}, else the start
// of the body.
func restMessage(raw []byte) string {
	var v struct {
		Errors any `json:"errors"`
	}
	if json.Unmarshal(raw, &v) == nil && v.Errors != nil {
		if s, ok := v.Errors.(string); ok {
			return s
		}
		b, _ := json.Marshal(v.Errors)
		return clip(string(b))
	}
	return clip(strings.TrimSpace(string(raw)))
}

func clip(s string) string {
	const n = 200
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// RetryAfter parses Retry-After: seconds (Shopify sends "2.0") or an HTTP
// date. Missing or unreadable is 0.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return secs(s)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// rootField names the first root field of a document, for errors and the
// per-operation cost estimate.
func rootField(doc string) string {
	i := strings.IndexByte(doc, '{')
	if i < 0 {
		return "graphql"
	}
	// Skip variable definitions: the first '{' after the closing ')'.
	if j := strings.IndexByte(doc, '('); j >= 0 && j < i {
		if k := strings.IndexByte(doc[j:], ')'); k >= 0 {
			if m := strings.IndexByte(doc[j+k:], '{'); m >= 0 {
				i = j + k + m
			}
		}
	}
	rest := strings.TrimLeft(doc[i+1:], " \t\r\n")
	end := strings.IndexFunc(rest, func(r rune) bool {
		return !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	})
	if end <= 0 {
		return "graphql"
	}
	return rest[:end]
}
