package magento

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// Watermark is how far polling has got. UpdatedAt is where the next pass's
// window starts (less the overlap): the newest updated_at committed by a
// finished full pass. EntityID is the cursor of a pass that failed part-way
// (0 between passes): the next pass resumes after it, with the same
// UpdatedAt, and ends by saving that UpdatedAt again, not a newer one (see
// Poller.Poll).
type Watermark struct {
	UpdatedAt time.Time
	EntityID  int64
}

// Checkpoint stores a store's Watermark. Implementations must be safe for
// use by one Poller at a time; Save must be durable when it returns.
type Checkpoint interface {
	// Load returns the saved watermark, or the zero Watermark when none
	// was saved (poll everything).
	Load(ctx context.Context) (Watermark, error)
	// Save stores w, replacing the previous watermark.
	Save(ctx context.Context, w Watermark) error
}

// Sink commits fetched orders (stores the raw bodies, publishes them). It
// returns nil only once they are durable: the watermark moves past them
// only then. It may be called with an order it has seen before and must
// deduplicate (by entity_id and updated_at).
type Sink func(ctx context.Context, orders []RawOrder) error

// PollerConfig tunes a Poller. Zero fields get the defaults.
type PollerConfig struct {
	// Interval between passes in Run. Default 1m.
	Interval time.Duration `yaml:"interval"`
	// Overlap is how far before the watermark each pass starts: it
	// absorbs orders saved while the last pass ran and clock skew. Default 5m.
	Overlap time.Duration `yaml:"overlap"`
	// PageSize is the orders fetched per request. Default 50.
	PageSize int `yaml:"page_size"`
	// Logger receives pass and trigger failures; nil discards them.
	Logger *slog.Logger `yaml:"-"`
}

// Poller defaults.
const (
	DefaultPollInterval = time.Minute
	DefaultOverlap      = 5 * time.Minute
	DefaultPageSize     = 50
)

// Poller polls one store's orders into a Sink: every pass fetches the
// orders updated since the watermark less the overlap, page by page in
// entity_id order, commits each page to the sink, and advances the
// watermark only after the sink committed. A pass that fails (Magento
// down, the sink refusing) leaves the watermark where the last committed
// page put it, so the orders are fetched again next time: delivery is at
// least once. A pass resumed after such a failure does not advance the
// watermark's UpdatedAt (see Poll).
type Poller struct {
	client *Client
	cp     Checkpoint
	sink   Sink
	cfg    PollerConfig
	log    *slog.Logger

	passMu  sync.Mutex // one pass or trigger fetch at a time
	mu      sync.Mutex
	pending []int64
	wake    chan struct{}
}

// PassStats says what one pass did.
type PassStats struct {
	Pages    int
	Orders   int
	Repeated int
	// Resumed is true when the pass resumed after the cursor of a pass
	// that failed part-way, and so kept the watermark's UpdatedAt.
	Resumed bool
	// Watermark is the watermark saved at the end of the pass.
	Watermark Watermark
}

// NewPoller returns a Poller of client's store.
func NewPoller(client *Client, cp Checkpoint, sink Sink, cfg PollerConfig) (*Poller, error) {
	var errs []error
	if client == nil || cp == nil || sink == nil {
		errs = append(errs, errors.New("client, checkpoint and sink are required"))
	}
	if cfg.Interval < 0 || cfg.Overlap < 0 || cfg.PageSize < 0 {
		errs = append(errs, fmt.Errorf("interval %s, overlap %s, page_size %d: none may be negative", cfg.Interval, cfg.Overlap, cfg.PageSize))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("checking magento poller config: %w", err)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultPollInterval
	}
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultOverlap
	}
	if cfg.PageSize == 0 {
		cfg.PageSize = DefaultPageSize
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{client: client, cp: cp, sink: sink, cfg: cfg, log: log.With("store", client.cfg.Store),
		wake: make(chan struct{}, 1)}, nil
}

// Poll runs one pass. Within a pass every order is handed to the sink
// once, however Magento pages; across passes the overlap hands some over
// again. The error is the first failure; the watermark then stays at the
// last page committed, {UpdatedAt: from, EntityID: cursor}. Cancelling
// ctx stops the pass between requests.
//
// A full pass ends by saving the newest updated_at it committed. A pass
// that resumes after a saved cursor sees only the entity_ids above it, so
// it ends by saving {UpdatedAt: from} instead: an order at or below the
// cursor saved in Magento between the failure and the resumed pass (the
// hub down for an hour, longer than the overlap) would otherwise fall
// before the next window and never be fetched. The next, full, pass
// sweeps every entity_id from there; the sink drops what it has already.
func (p *Poller) Poll(ctx context.Context) (PassStats, error) {
	p.passMu.Lock()
	defer p.passMu.Unlock()
	var st PassStats
	w, err := p.cp.Load(ctx)
	if err != nil {
		return st, fmt.Errorf("loading magento watermark: %w", err)
	}
	var since time.Time
	if !w.UpdatedAt.IsZero() {
		since = w.UpdatedAt.Add(-p.cfg.Overlap)
	}
	newest := w.UpdatedAt
	cursor := w.EntityID
	st.Resumed = cursor > 0
	for {
		page, err := p.client.ListOrdersUpdatedSince(ctx, since, cursor, p.cfg.PageSize)
		if err != nil {
			return st, fmt.Errorf("polling magento orders after entity_id %d: %w", cursor, err)
		}
		st.Pages++
		st.Repeated += page.Repeated
		if len(page.Orders) > 0 {
			if err := p.sink(ctx, page.Orders); err != nil {
				return st, fmt.Errorf("committing %d magento orders: %w", len(page.Orders), err)
			}
			st.Orders += len(page.Orders)
			for _, o := range page.Orders {
				if o.UpdatedAt.After(newest) {
					newest = o.UpdatedAt
				}
			}
		}
		cursor = page.Next
		if page.Last {
			break
		}
		// Committed so far: a crash resumes the pass after cursor.
		if err := p.cp.Save(ctx, Watermark{UpdatedAt: w.UpdatedAt, EntityID: cursor}); err != nil {
			return st, fmt.Errorf("saving magento watermark: %w", err)
		}
	}
	st.Watermark = Watermark{UpdatedAt: newest}
	if st.Resumed {
		// Only entity_ids above the cursor were seen: moving on would skip
		// what changed below it since the failed pass.
		st.Watermark.UpdatedAt = w.UpdatedAt
	}
	if err := p.cp.Save(ctx, st.Watermark); err != nil {
		return st, fmt.Errorf("saving magento watermark: %w", err)
	}
	return st, nil
}

// Trigger asks Run to fetch an order at once (a webhook or event said it
// changed), without waiting for the next pass. It never blocks; the
// fetched order goes to the sink and leaves the watermark alone. Safe for
// concurrent use.
func (p *Poller) Trigger(orderID int64) {
	p.mu.Lock()
	if !slices.Contains(p.pending, orderID) {
		p.pending = append(p.pending, orderID)
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// FetchTriggered fetches the orders passed to Trigger since the last call
// and hands them to the sink. An order that cannot be fetched or
// committed is left to the next pass, which finds it by its updated_at.
func (p *Poller) FetchTriggered(ctx context.Context) error {
	p.mu.Lock()
	ids := p.pending
	p.pending = nil
	p.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	p.passMu.Lock()
	defer p.passMu.Unlock()
	var errs []error
	for _, id := range ids {
		o, err := p.client.GetOrder(ctx, id)
		if err == nil {
			err = p.sink(ctx, []RawOrder{o})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("fetching triggered magento order %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// Run polls until ctx is cancelled: a pass at once, then every Interval,
// and triggered orders as soon as Trigger names them. Failures are logged
// and retried at the next pass. It returns the cause of ctx's
// cancellation; a pass in progress stops between requests.
func (p *Poller) Run(ctx context.Context) error {
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	for {
		if st, err := p.Poll(ctx); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			p.log.Warn("magento poll pass failed", "error", err, "pages", st.Pages, "orders", st.Orders)
		}
	wait:
		for {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-p.wake:
				if err := p.FetchTriggered(ctx); err != nil && ctx.Err() == nil {
					p.log.Warn("magento triggered fetch failed", "error", err)
				}
			case <-tick.C:
				break wait
			}
		}
	}
}
