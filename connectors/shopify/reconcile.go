package shopify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Reconciliation defaults.
const (
	// DefaultOverlap is how far before the watermark each poll starts, to
	// catch orders whose updated_at was stamped before a commit we already
	// saw: clock skew and Shopify's indexing lag.
	DefaultOverlap = 10 * time.Minute
	// DefaultPageSize is how many orders each query asks for.
	DefaultPageSize = 25
	// DefaultLineItems is how many line items are read per order (at most
	// 250, Shopify's page limit).
	DefaultLineItems = 100
	// DefaultInitialLookback is where the first poll of a shop starts,
	// before now, when the checkpoint holds no watermark.
	DefaultInitialLookback = 24 * time.Hour
)

// Checkpoint stores each shop's watermark: the newest updated_at committed.
// Implementations must be safe for concurrent use by different shops.
type Checkpoint interface {
	// Load returns the shop's watermark, or the zero time if none was saved.
	Load(ctx context.Context, shop string) (time.Time, error)
	// Save records the shop's watermark durably before returning nil.
	Save(ctx context.Context, shop string, watermark time.Time) error
}

// Order is one order read by a reconciliation poll, in the REST / webhook
// shape, ready for transforms/shopify.OrderFromWebhook(o.Topic, o.Body, …).
type Order struct {
	// ID is the Shopify order id.
	ID int64
	// Name is the order's name ("#1001").
	Name string
	// UpdatedAt is the order's updated_at.
	UpdatedAt time.Time
	// Topic is the webhook topic the order stands for: orders/cancelled when
	// it is cancelled, orders/updated otherwise.
	Topic string
	// Body is the order in the REST / webhook shape (see WebhookJSON).
	Body json.RawMessage
}

// Sink commits a page of orders through the hub's idempotent path (the
// same dedupe and last-writer-wins by updated_at as webhooks), returning
// nil only once they are durable. It sees orders it has seen before: the
// overlap window re-reads them on purpose.
type Sink func(ctx context.Context, shop string, orders []Order) error

// ReconcileConfig shapes a Reconciler.
type ReconcileConfig struct {
	// Overlap is subtracted from the watermark at the start of each poll
	// (default DefaultOverlap).
	Overlap time.Duration
	// PageSize is the orders read per query, 1 to 250 (default
	// DefaultPageSize).
	PageSize int
	// LineItems is the line items read per order, 1 to 250 (default
	// DefaultLineItems).
	LineItems int
	// InitialLookback is where the first poll starts when the checkpoint has
	// no watermark (default DefaultInitialLookback).
	InitialLookback time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Validate reports every problem, naming the field.
func (c ReconcileConfig) Validate() error {
	var errs []error
	if c.Overlap < 0 {
		errs = append(errs, fmt.Errorf("shopify: reconcile.overlap: %s is negative", c.Overlap))
	}
	if c.PageSize < 0 || c.PageSize > 250 {
		errs = append(errs, fmt.Errorf("shopify: reconcile.page_size: %d is not within 1 to 250", c.PageSize))
	}
	if c.LineItems < 0 || c.LineItems > 250 {
		errs = append(errs, fmt.Errorf("shopify: reconcile.line_items: %d is not within 1 to 250", c.LineItems))
	}
	if c.InitialLookback < 0 {
		errs = append(errs, fmt.Errorf("shopify: reconcile.initial_lookback: %s is negative", c.InitialLookback))
	}
	return errors.Join(errs...)
}

// Reconciler polls one shop for orders whose webhooks were missed. Poll is
// not meant to run concurrently with itself for one shop; Run serialises.
type Reconciler struct {
	client *Client
	cp     Checkpoint
	sink   Sink
	cfg    ReconcileConfig
	log    *slog.Logger
	mu     sync.Mutex
}

// NewReconciler returns a reconciler of client's shop.
func NewReconciler(client *Client, cp Checkpoint, sink Sink, cfg ReconcileConfig) (*Reconciler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil || cp == nil || sink == nil {
		return nil, errors.New("shopify: a reconciler needs a client, a checkpoint and a sink")
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.LineItems == 0 {
		cfg.LineItems = DefaultLineItems
	}
	if cfg.InitialLookback == 0 {
		cfg.InitialLookback = DefaultInitialLookback
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reconciler{client: client, cp: cp, sink: sink, cfg: cfg, log: client.log}, nil
}

// PollResult says what one poll did.
type PollResult struct {
	// From is the updated_at the query started at (watermark − overlap).
	From time.Time
	// Pages and Orders count what was read and committed.
	Pages, Orders int
	// Watermark is the watermark after the poll.
	Watermark time.Time
}

// Poll reads every order updated since the watermark minus the overlap,
// oldest first, a page at a time; hands each page to the sink; and after
// the sink returns nil saves the watermark as the newest updated_at of the
// page (never moving it back). When the sink or a query fails, the pages
// committed so far keep their watermark and the rest are read again next
// poll. Cancelling ctx stops the poll between or within calls.
func (r *Reconciler) Poll(ctx context.Context) (PollResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	shop := r.client.Shop()
	var res PollResult
	wm, err := r.cp.Load(ctx, shop)
	if err != nil {
		return res, fmt.Errorf("loading the watermark of shop %s: %w", shop, err)
	}
	res.Watermark = wm
	if wm.IsZero() {
		res.From = r.cfg.Now().Add(-r.cfg.InitialLookback)
	} else {
		res.From = wm.Add(-r.cfg.Overlap)
	}
	query := fmt.Sprintf("updated_at:>='%s'", res.From.UTC().Format(time.RFC3339))
	var after any
	for {
		var data struct {
			Orders struct {
				Nodes    []json.RawMessage `json:"nodes"`
				PageInfo struct {
					HasNextPage bool    `json:"hasNextPage"`
					EndCursor   *string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"orders"`
		}
		vars := map[string]any{"first": r.cfg.PageSize, "after": after, "query": query, "lineItems": r.cfg.LineItems}
		if err := r.client.do(ctx, call{op: "orders", query: ordersQuery, vars: vars}, &data); err != nil {
			return res, fmt.Errorf("reading orders of shop %s updated since %s: %w", shop, res.From.Format(time.RFC3339), err)
		}
		res.Pages++
		page := make([]Order, 0, len(data.Orders.Nodes))
		newest := res.Watermark
		for _, node := range data.Orders.Nodes {
			o, err := orderOf(node)
			if err != nil {
				return res, &Error{Shop: shop, Op: "orders", Class: Permanent, Message: "converting an order node", Err: err}
			}
			page = append(page, o)
			if o.UpdatedAt.After(newest) {
				newest = o.UpdatedAt
			}
		}
		if len(page) > 0 {
			if err := r.sink(ctx, shop, page); err != nil {
				return res, fmt.Errorf("committing %d reconciled orders of shop %s: %w", len(page), shop, err)
			}
			res.Orders += len(page)
			if newest.After(res.Watermark) {
				if err := r.cp.Save(ctx, shop, newest); err != nil {
					return res, fmt.Errorf("saving the watermark of shop %s: %w", shop, err)
				}
				res.Watermark = newest
			}
		}
		if !data.Orders.PageInfo.HasNextPage || data.Orders.PageInfo.EndCursor == nil {
			return res, nil
		}
		after = *data.Orders.PageInfo.EndCursor
	}
}

func orderOf(node json.RawMessage) (Order, error) {
	body, err := WebhookJSON(node)
	if err != nil {
		return Order{}, err
	}
	var head struct {
		ID          json.Number `json:"id"`
		Name        string      `json:"name"`
		UpdatedAt   time.Time   `json:"updated_at"`
		CancelledAt *string     `json:"cancelled_at"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return Order{}, fmt.Errorf("reading the converted order: %w", err)
	}
	id, err := head.ID.Int64()
	if err != nil {
		return Order{}, err
	}
	o := Order{ID: id, Name: head.Name, UpdatedAt: head.UpdatedAt.UTC(), Topic: "orders/updated", Body: body}
	if head.CancelledAt != nil && *head.CancelledAt != "" {
		o.Topic = "orders/cancelled"
	}
	return o, nil
}

// Run polls every interval until ctx is cancelled, logging failed polls
// (the next poll starts again from the saved watermark). It returns ctx's
// error.
func (r *Reconciler) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("shopify: reconcile interval %s must be positive", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		res, err := r.Poll(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("shopify reconciliation poll failed", "error", err, "orders", res.Orders, "class", ClassOf(err))
		case err == nil:
			r.log.Debug("shopify reconciliation poll", "from", res.From, "orders", res.Orders, "watermark", res.Watermark)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// MemoryCheckpoint is a Checkpoint in memory, for tests and the demo.
type MemoryCheckpoint struct {
	mu sync.Mutex
	m  map[string]time.Time
}

// Load implements Checkpoint.
func (c *MemoryCheckpoint) Load(_ context.Context, shop string) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[shop], nil
}

// Save implements Checkpoint.
func (c *MemoryCheckpoint) Save(_ context.Context, shop string, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]time.Time{}
	}
	c.m[shop] = t
	return nil
}
