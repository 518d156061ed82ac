// Package router is the hub's Watermill router over the SQL transport, and the
// middleware stack every hub handler runs in.
//
// A hub [Handler] runs inside the consumer's database transaction. What it writes
// through [Tx] and what it publishes with [Tx.Publish] commit together with the ack of
// the message it handles, so a crash anywhere leaves either all of it or none of it:
// at-least-once delivery with an exactly-once effect.
//
// The stack, outermost first (the first middleware added is the outermost):
//
//  1. metrics — Watermill's Prometheus middleware, per handler;
//  2. correlation — every message carries a correlation_id (its own UUID if none);
//  3. poison — a message whose handler failed for good is published to the dlq topic,
//     inside the same transaction, with the handler, topic, error chain, error class and
//     attempts, and acked so the topic moves on. Deferred errors (an open breaker) are
//     parked with class "deferred" rather than waited for inside the transaction;
//  4. retry — transient errors only, bounded, with exponential backoff and jitter;
//  5. atomic — each attempt runs inside a SAVEPOINT, rolled back if it fails so a retry
//     or the DLQ never sees half an attempt; first it records the message's
//     idempotency_key for this handler and skips the message if it was processed before
//     (our own deduplication: Watermill's Deduplicator would drop a redelivery after a
//     failure);
//  6. recoverer — a panic becomes a permanent error with its stack.
//
// Each handler also subscribes to replay.<handler>, where the DLQ console publishes a
// replay, so that a replay reaches the handler that failed and only it.
package router

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime"
	"strconv"
	"sync"
	"time"
	"weak"

	"github.com/ThreeDotsLabs/watermill"
	wmsql "github.com/ThreeDotsLabs/watermill-sql/v3/pkg/sql"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
)

// Config tunes the router.
type Config struct {
	Topics Topics
	// BatchSize is how many messages a consumer reads per transaction (default 100).
	BatchSize int
	// PollInterval is how long an idle consumer waits before looking again (default 50ms).
	PollInterval time.Duration
	// HandlerTimeout bounds one attempt of a handler (default 30s).
	HandlerTimeout time.Duration
	Retry          RetryConfig
}

// RetryConfig bounds the retries of transient errors.
type RetryConfig struct {
	MaxRetries      int
	InitialInterval time.Duration
	MaxInterval     time.Duration
	Multiplier      float64
}

func (c *Config) setDefaults() {
	if c.BatchSize <= 0 {
		c.BatchSize = 100
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 50 * time.Millisecond
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 30 * time.Second
	}
	if c.Retry.InitialInterval <= 0 {
		c.Retry.InitialInterval = 100 * time.Millisecond
	}
	if c.Retry.MaxInterval <= 0 {
		c.Retry.MaxInterval = 2 * time.Second
	}
	if c.Retry.Multiplier < 1 {
		c.Retry.Multiplier = 2
	}
}

// Handler processes one message inside the consumer's transaction. Returning an error
// rolls back everything it did through tx; what happens next depends on the error's
// fault class (see package fault). ctx ends at the handler timeout or when the router
// stops.
type Handler func(ctx context.Context, tx *Tx, msg *message.Message) error

// HandlerOption changes how a handler is wrapped.
type HandlerOption func(*handlerOptions)

type handlerOptions struct {
	noPoison bool
	noDedupe bool
	noReplay bool
	prepare  PrepareFunc
}

// WithoutPoison leaves failures in place (nacked and redelivered) instead of parking
// them: for the DLQ's own consumer, which has nowhere else to park.
func WithoutPoison() HandlerOption { return func(o *handlerOptions) { o.noPoison = true } }

// WithoutDedupe skips the processed-key record, for handlers that are naturally
// idempotent and hot.
func WithoutDedupe() HandlerOption { return func(o *handlerOptions) { o.noDedupe = true } }

// WithoutReplay does not subscribe the handler to its replay topic.
func WithoutReplay() HandlerOption { return func(o *handlerOptions) { o.noReplay = true } }

// Router runs hub handlers over the store's SQL transport.
type Router struct {
	store  *store.Store
	cfg    Config
	log    *slog.Logger
	wm     *message.Router
	m      *routerMetrics
	mu     sync.Mutex
	topics map[string]bool
	names  []string
	aheads []*readAhead
}

// New builds a router on st. Metrics are registered on reg (nil: not exported).
func New(st *store.Store, cfg Config, logger *slog.Logger, reg prometheus.Registerer) (*Router, error) {
	cfg.setDefaults()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	wlog := watermill.NewSlogLoggerWithLevelMapping(logger.With("component", "watermill"), map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug, // Watermill's info lines are per-subscription chatter
	})
	wm, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return nil, err
	}
	r := &Router{store: st, cfg: cfg, log: logger, wm: wm, topics: map[string]bool{}}
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	metrics.NewPrometheusMetricsBuilder(reg, "paklog", "router").AddPrometheusRouterMetrics(wm)
	r.m, err = newRouterMetrics(reg)
	if err != nil {
		return nil, err
	}
	r.addTopic(TopicDLQ)
	return r, nil
}

// Topics is the router's topic naming.
func (r *Router) Topics() Topics { return r.cfg.Topics }

// Store is the store the router runs on.
func (r *Router) Store() *store.Store { return r.store }

func (r *Router) addTopic(base string) {
	r.mu.Lock()
	r.topics[r.cfg.Topics.Name(base)] = true
	r.mu.Unlock()
}

// DeclareTopics makes sure the tables of these topics exist before Run, for topics the
// hub publishes to that no hub handler consumes.
func (r *Router) DeclareTopics(bases ...string) {
	for _, b := range bases {
		r.addTopic(b)
	}
}

// Handle registers h as handler name on topic (and on replay.<name>). Call before Run.
func (r *Router) Handle(name, topic string, h Handler, opts ...HandlerOption) error {
	var o handlerOptions
	for _, opt := range opts {
		opt(&o)
	}
	if err := store.ValidateTopic(name); err != nil {
		return fmt.Errorf("handler name: %w", err)
	}
	type sub struct{ name, topic string }
	var ahead *readAhead
	if o.prepare != nil && r.store.Dialect() == store.SQLite {
		ahead = &readAhead{store: r.store, topic: r.cfg.Topics.Name(topic), group: name, prepare: o.prepare,
			poll: r.cfg.PollInterval, keep: readAheadKeep, ready: map[string]preparedMsg{},
			log: r.log.With("component", "read-ahead", "handler", name)}
		r.aheads = append(r.aheads, ahead)
	}
	subs := []sub{{name, topic}}
	if !o.noReplay {
		subs = append(subs, sub{name + ".replay", ReplayTopic(name)})
	}
	for _, s := range subs {
		full := r.cfg.Topics.Name(s.topic)
		r.addTopic(s.topic)
		poll := r.cfg.PollInterval
		if s.name != name {
			// Replays are rare and an operator waits for them, not a partner: poll less.
			poll = max(10*poll, 250*time.Millisecond)
		}
		subscriber, err := r.store.Subscriber(store.SubscriberConfig{
			ConsumerGroup: name,
			BatchSize:     r.cfg.BatchSize,
			PollInterval:  poll,
			AckDeadline:   r.ackDeadline(),
		}, shutdownQuiet{watermill.NewSlogLoggerWithLevelMapping(r.log.With("component", "subscriber", "handler", s.name), map[slog.Level]slog.Level{
			slog.LevelInfo: slog.LevelDebug, // per-subscriber start and stop chatter
		})})
		if err != nil {
			return err
		}
		wh := r.wm.AddConsumerHandler(s.name, full, subscriber, r.adapt(name, h, ahead))
		wh.AddMiddleware(r.correlation)
		if !o.noPoison {
			wh.AddMiddleware(r.poison(name))
		}
		wh.AddMiddleware(middleware.Retry{
			MaxRetries:          r.cfg.Retry.MaxRetries,
			InitialInterval:     r.cfg.Retry.InitialInterval,
			MaxInterval:         r.cfg.Retry.MaxInterval,
			Multiplier:          r.cfg.Retry.Multiplier,
			RandomizationFactor: 0.5,
			ShouldRetry: func(p middleware.RetryParams) bool {
				if fault.ClassOf(p.Err) != fault.Transient {
					return false
				}
				r.m.retries.WithLabelValues(name).Inc()
				return true
			},
		}.Middleware)
		wh.AddMiddleware(r.atomic(name, !o.noDedupe))
		wh.AddMiddleware(r.recoverer)
		r.names = append(r.names, s.name)
	}
	return nil
}

// ackDeadline outlasts every attempt and backoff of one message: were it to expire
// mid-attempt, watermill-sql would commit the consumer transaction with the attempt's
// writes in it.
func (r *Router) ackDeadline() time.Duration {
	n := time.Duration(r.cfg.Retry.MaxRetries)
	return (n+1)*r.cfg.HandlerTimeout + n*r.cfg.Retry.MaxInterval + 30*time.Second
}

// Run creates the tables of every topic, then runs the handlers until ctx ends or Close
// is called.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	topics := make([]string, 0, len(r.topics))
	for t := range r.topics {
		topics = append(topics, t)
	}
	r.mu.Unlock()
	if err := r.store.InitTopics(ctx, topics...); err != nil {
		return err
	}
	// One connection per consumer, and room for the intake and the API's reads.
	r.store.EnsureConns(len(r.names) + 8)
	actx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	for _, a := range r.aheads {
		wg.Go(func() { a.run(actx) })
	}
	return r.wm.Run(ctx)
}

// Running is closed once every handler has started.
func (r *Router) Running() chan struct{} { return r.wm.Running() }

// IsRunning reports whether the router runs (for /readyz).
func (r *Router) IsRunning() bool { return r.wm.IsRunning() && !r.wm.IsClosed() }

// Close stops the handlers, letting those in flight finish (up to 30s).
func (r *Router) Close() error { return r.wm.Close() }

// Handlers lists the registered handler names.
func (r *Router) Handlers() []string { return append([]string(nil), r.names...) }

type ctxKey int

const (
	attemptsKey ctxKey = iota
)

// adapt turns a hub Handler into a Watermill handler function.
func (r *Router) adapt(name string, h Handler, ahead *readAhead) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		sqlTx, ok := wmsql.TxFromContext(msg.Context())
		if !ok {
			return fault.AsPermanent(errors.New("no transaction in the message context: the handler is not on the SQL transport"))
		}
		ctx, cancel := context.WithTimeout(msg.Context(), r.cfg.HandlerTimeout)
		defer cancel()
		tx := &Tx{Tx: sqlTx, ctx: ctx, router: r, handler: name, in: msg, ahead: ahead}
		return h(ctx, tx, msg)
	}
}

func (r *Router) correlation(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		if msg.Metadata.Get(MetaCorrelationID) == "" {
			msg.Metadata.Set(MetaCorrelationID, msg.UUID)
		}
		return h(msg)
	}
}

// atomic runs each attempt in a savepoint and skips messages the handler processed.
//
// On PostgreSQL a successful attempt's savepoint is released together with the next
// attempt's SAVEPOINT, in one round trip (one simple-protocol statement pair), or by
// the commit: a RELEASE of its own would be one more round trip per message. It must
// be released, not left to nest: with more than 64 subtransactions, other sessions
// resolve each row the transaction wrote through the chain of parents, so a batch of
// nested savepoints slows every concurrent reader. SQLite's savepoints cost no round
// trip and are released at once.
func (r *Router) atomic(name string, dedupe bool) message.HandlerMiddleware {
	var open *openSavepoints
	if r.store.Dialect() == store.Postgres {
		open = &openSavepoints{m: map[weak.Pointer[sql.Tx]]*bool{}}
	}
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) (_ []*message.Message, err error) {
			if n, ok := msg.Context().Value(attemptsKey).(*int); ok {
				*n++
			}
			tx, ok := wmsql.TxFromContext(msg.Context())
			if !ok {
				return nil, fault.AsPermanent(errors.New("no transaction in the message context"))
			}
			ctx := msg.Context()
			begin := "SAVEPOINT paklog_attempt"
			if open.take(tx) {
				begin = "RELEASE SAVEPOINT paklog_attempt; SAVEPOINT paklog_attempt"
			}
			if _, err := tx.ExecContext(ctx, begin); err != nil {
				return nil, fmt.Errorf("starting the attempt's savepoint: %w", err)
			}
			defer func() {
				if err != nil {
					if _, rbErr := tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT paklog_attempt"); rbErr != nil {
						err = errors.Join(err, fmt.Errorf("rolling back the attempt: %w", rbErr))
					}
				} else if open != nil {
					open.hold(tx) // released by the next attempt, or by the commit
					return
				}
				if _, relErr := tx.ExecContext(context.WithoutCancel(ctx), "RELEASE SAVEPOINT paklog_attempt"); relErr != nil && err == nil {
					err = fmt.Errorf("releasing the attempt's savepoint: %w", relErr)
				}
			}()
			if dedupe {
				fresh, err := r.store.MarkProcessed(ctx, tx, name, IdempotencyKey(msg), msg.UUID)
				if err != nil {
					return nil, err
				}
				if !fresh {
					r.m.duplicates.WithLabelValues(name).Inc()
					r.log.Debug("skipping a message processed before", "handler", name, "idempotency_key", IdempotencyKey(msg), "message_uuid", msg.UUID)
					return nil, nil
				}
			}
			return h(msg)
		}
	}
}

// openSavepoints remembers the consumer transactions that hold a successful
// attempt's savepoint not yet released. Its keys are weak: a transaction that ended
// drops out when it is collected.
type openSavepoints struct {
	mu sync.Mutex
	m  map[weak.Pointer[sql.Tx]]*bool
}

// take reports whether tx holds one, and forgets it. A nil set holds none.
func (o *openSavepoints) take(tx *sql.Tx) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	held := o.m[weak.Make(tx)]
	if held == nil || !*held {
		return false
	}
	*held = false
	return true
}

// hold records that tx holds one.
func (o *openSavepoints) hold(tx *sql.Tx) {
	o.mu.Lock()
	defer o.mu.Unlock()
	wp := weak.Make(tx)
	if held := o.m[wp]; held != nil {
		*held = true
		return
	}
	held := true
	o.m[wp] = &held
	runtime.AddCleanup(tx, func(wp weak.Pointer[sql.Tx]) {
		o.mu.Lock()
		delete(o.m, wp)
		o.mu.Unlock()
	}, wp)
}

// IdempotencyKey is the key a handler dedupes msg on: its idempotency_key metadata, or
// its UUID.
func IdempotencyKey(msg *message.Message) string {
	if k := msg.Metadata.Get(MetaIdempotencyKey); k != "" {
		return k
	}
	return msg.UUID
}

// recoverer turns a panic into a permanent error: retrying a bug does not fix it. The
// stack goes to the log; the DLQ keeps the panic value.
func (r *Router) recoverer(h message.HandlerFunc) message.HandlerFunc {
	rec := middleware.Recoverer(h)
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := rec(msg)
		var p middleware.RecoveredPanicError
		if errors.As(err, &p) {
			r.log.Error("handler panicked", "handler", message.HandlerNameFromCtx(msg.Context()), "message_uuid", msg.UUID,
				"panic", fmt.Sprint(p.V), "stack", p.Stacktrace)
			return out, fault.AsPermanent(fmt.Errorf("handler panicked: %v", p.V))
		}
		return out, err
	}
}

// poison parks messages whose handler failed for good.
func (r *Router) poison(name string) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			attempts := 0
			msg.SetContext(context.WithValue(msg.Context(), attemptsKey, &attempts))
			out, err := h(msg)
			if err == nil {
				return out, nil
			}
			class := fault.ClassOf(err)
			topic := r.cfg.Topics.Base(message.SubscribeTopicFromCtx(msg.Context()))
			// Deferred work (an open breaker) is parked too, with class "deferred", so that
			// it never waits inside the consumer's transaction: on SQLite that
			// transaction holds the only writer, on PostgreSQL it holds back every
			// consumer's snapshot. Automatic replay of deferred entries when their cause
			// clears belongs to their producer (the carrier breakers).
			tx, ok := wmsql.TxFromContext(msg.Context())
			if !ok {
				return nil, err
			}
			perr := r.park(tx, msg, failure{handler: name, topic: topic, reason: err.Error(), chain: fault.Chain(err),
				class: class, attempts: attempts, messageID: msg.UUID})
			if perr != nil {
				r.log.Error("could not park a failed message; it will be redelivered", "handler", name, "message_uuid", msg.UUID, "error", err, "park_error", perr)
				return nil, errors.Join(err, perr)
			}
			r.log.Warn("message parked in the DLQ", "handler", name, "topic", topic, "message_uuid", msg.UUID,
				"order_id", msg.Metadata.Get(MetaOrderID), "class", class, "attempts", attempts, "error", err)
			return nil, nil
		}
	}
}

// failure is why and where a message is parked.
type failure struct {
	handler, topic, reason string
	chain                  []string
	class                  fault.Class
	attempts               int
	// messageID identifies the entry: a redelivered failure of the same id updates it.
	messageID string
}

// park publishes msg to the dlq topic inside tx: the original payload and metadata
// (plus extra), and where and why it failed.
func (r *Router) park(tx *sql.Tx, msg *message.Message, f failure, extra ...string) error {
	dead := message.NewMessage(watermill.NewUUID(), msg.Payload)
	dead.Metadata = maps.Clone(msg.Metadata)
	if dead.Metadata == nil {
		dead.Metadata = message.Metadata{}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		dead.Metadata.Set(extra[i], extra[i+1])
	}
	dead.Metadata.Set(MetaDLQHandler, f.handler)
	dead.Metadata.Set(MetaDLQTopic, f.topic)
	dead.Metadata.Set(MetaDLQReason, f.reason)
	dead.Metadata.Set(MetaDLQErrorChain, joinChain(f.chain))
	dead.Metadata.Set(MetaDLQClass, string(f.class))
	dead.Metadata.Set(MetaDLQAttempts, strconv.Itoa(f.attempts))
	dead.Metadata.Set(MetaDLQFailedAt, time.Now().UTC().Format(time.RFC3339Nano))
	dead.Metadata.Set(MetaDLQMessageID, f.messageID)
	pub, err := r.store.Publisher(tx)
	if err != nil {
		return err
	}
	if err := pub.Publish(r.cfg.Topics.Name(TopicDLQ), dead); err != nil {
		return err
	}
	r.m.parked.WithLabelValues(f.handler, string(f.class)).Inc()
	return nil
}

func joinChain(chain []string) string {
	b, _ := jsonMarshal(chain)
	return string(b)
}

// Tx is a handler's view of the consumer transaction.
type Tx struct {
	*sql.Tx
	ctx     context.Context
	router  *Router
	handler string
	in      *message.Message
	n       int
	ahead   *readAhead
}

// Store is the hub's store; use its helpers with this Tx as the Execer.
func (t *Tx) Store() *store.Store { return t.router.store }

// Handler is the name of the handler this transaction belongs to.
func (t *Tx) Handler() string { return t.handler }

// Publish publishes msgs to topic (a base name; the deployment prefix is added) as part
// of the transaction. Each message inherits the input's correlation_id, source, partner
// and order_id unless set, gets causation_id = the input's UUID, and, unless set, an
// idempotency_key derived from the input's key, the handler and its position, so that
// reprocessing the same input yields the same keys.
func (t *Tx) Publish(topic string, msgs ...*message.Message) error {
	for _, m := range msgs {
		for _, k := range []string{MetaCorrelationID, MetaSource, MetaPartner, MetaOrderID} {
			if m.Metadata.Get(k) == "" && t.in.Metadata.Get(k) != "" {
				m.Metadata.Set(k, t.in.Metadata.Get(k))
			}
		}
		m.Metadata.Set(MetaCausationID, t.in.UUID)
		if m.Metadata.Get(MetaIdempotencyKey) == "" {
			sum := sha256.Sum256([]byte(IdempotencyKey(t.in) + "\x00" + t.handler + "\x00" + strconv.Itoa(t.n)))
			m.Metadata.Set(MetaIdempotencyKey, hex.EncodeToString(sum[:16]))
		}
		t.n++
	}
	pub, err := t.router.store.Publisher(t.Tx)
	if err != nil {
		return err
	}
	if err := pub.Publish(t.router.cfg.Topics.Name(topic), msgs...); err != nil {
		return fmt.Errorf("publishing to %s: %w", topic, err)
	}
	return nil
}

// Trail records that the order reached stage, as part of the transaction.
func (t *Tx) Trail(orderID, stage, detail string) error {
	return t.router.store.AppendTrail(t.ctx, t.Tx, t.trailEntry(orderID, stage, detail))
}

// trailEntry is the trail entry of stage reached by the message this handler works on.
func (t *Tx) trailEntry(orderID, stage, detail string) store.TrailEntry {
	return store.TrailEntry{
		OrderID:       orderID,
		Stage:         stage,
		Topic:         t.router.cfg.Topics.Base(message.SubscribeTopicFromCtx(t.in.Context())),
		Handler:       t.handler,
		MessageUUID:   t.in.UUID,
		CorrelationID: t.in.Metadata.Get(MetaCorrelationID),
		Detail:        detail,
		At:            store.Now(),
	}
}

// Exec runs a statement written with `?` placeholders in the transaction.
func (t *Tx) Exec(query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(t.ctx, t.router.store.Rebind(query), args...)
}

// QueryRow runs a query written with `?` placeholders in the transaction.
func (t *Tx) QueryRow(query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(t.ctx, t.router.store.Rebind(query), args...)
}

// Parked is work parked in the DLQ from outside a handler: by a worker that carries
// on, out of any consumer transaction, what a handler queued (label purchase).
type Parked struct {
	// Handler is the handler whose replay topic a replay goes to; Topic the topic its
	// message came from.
	Handler, Topic string
	Reason         string
	Class          fault.Class
	// Chain is the error chain, outermost first (fault.Chain).
	Chain    []string
	Attempts int
	// MessageID is the original message's UUID: parking it again updates its entry.
	MessageID string
	// Extra metadata for the entry (keys without the "dlq_" prefix are kept on replay).
	Extra map[string]string
}

// Park publishes a DLQ entry for payload (with its original metadata md) inside tx.
func (r *Router) Park(tx *sql.Tx, payload []byte, md message.Metadata, p Parked) error {
	msg := message.NewMessage(watermill.NewUUID(), payload)
	msg.Metadata = md
	var extra []string
	for k, v := range p.Extra {
		extra = append(extra, k, v)
	}
	return r.park(tx, msg, failure{handler: p.Handler, topic: p.Topic, reason: p.Reason, chain: p.Chain,
		class: p.Class, attempts: p.Attempts, messageID: p.MessageID}, extra...)
}

// shutdownQuiet logs a subscriber's errors caused by the router stopping (its
// context cancelled mid-query) at debug: they are how a poll ends, not failures.
type shutdownQuiet struct{ watermill.LoggerAdapter }

func (q shutdownQuiet) Error(msg string, err error, fields watermill.LogFields) {
	if errors.Is(err, context.Canceled) {
		q.Debug(msg, fields.Add(watermill.LogFields{"error": err}))
		return
	}
	q.LoggerAdapter.Error(msg, err, fields)
}

func (q shutdownQuiet) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return shutdownQuiet{q.LoggerAdapter.With(fields)}
}
