package partners

import (
	"bytes"
	"cmp"
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/sony/gobreaker"

	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Handler names of the delivery handlers, and the outbound topic of EDI files.
const (
	HandlerAcks      = "deliver.acks"
	HandlerEDI       = "deliver.edi"
	TopicOutboundEDI = router.TopicOutboundPrefix + "edi"
)

// MetaDeliveryName is the file name a delivery was given, and MetaDeliveryID its row;
// both are kept on a DLQ entry, so a replay restarts the same delivery under the same
// name.
const (
	MetaDeliveryName = "delivery_name"
	MetaDeliveryID   = "delivery_id"
)

// Delivery states.
const (
	StatePending   = "pending"
	StateWorking   = "working"
	StateDelivered = "delivered"
	StateParked    = "parked"
	// StateAwaiting: the target sent the file and its receipt comes later (an
	// asynchronous AS2 MDN); Receipt or Overdue settles it.
	StateAwaiting = "awaiting-receipt"
)

// AwaitingReceipt is what Target.Put returns when it sent the file and the proof of
// receipt comes later: the delivery waits in StateAwaiting (the send counts as an
// attempt only once settled) until the target calls Delivery.Receipt or
// Delivery.Overdue.
type AwaitingReceipt struct {
	Remote   string    // where the file went, as Put would return it
	Deadline time.Time // when the receipt is overdue
}

func (a *AwaitingReceipt) Error() string {
	return fmt.Sprintf("sent to %s; awaiting the receipt until %s", a.Remote, a.Deadline.UTC().Format(time.RFC3339))
}

// ErrNotAwaiting is returned by Receipt and Overdue when the delivery is not
// waiting for a receipt (any more): already settled, parked, or unknown.
var ErrNotAwaiting = errors.New("the delivery is not awaiting a receipt")

// ErrReceiptOverdue is the cause a delivery is resent (or, with its attempts used
// up, parked) with when it was still awaiting its receipt DeliveryConfig.ReceiptGrace
// after its deadline: neither the receipt nor the target's own overdue check
// (the AS2 sweep) settled it, for instance because the hub stopped between
// claiming the receipt and recording it. Transient.
var ErrReceiptOverdue = errors.New("receipt overdue")

// Target puts a file where a partner takes it from.
type Target interface {
	// Put writes the file and returns where it now is.
	Put(ctx context.Context, name string, r io.Reader) (string, error)
	// Via is "sftp", "ftp" or "inbox".
	Via() string
}

// DeliveryConfig tunes delivery.
type DeliveryConfig struct {
	// Targets by partner; partners without one get nothing delivered.
	Targets map[string]Target
	// Workers put files at once (default 2).
	Workers int
	// Attempts before a transiently failing file is parked (default 8).
	Attempts int
	// Initial and Max bound the backoff between attempts (defaults 2s and 5m),
	// full jitter.
	Initial, Max time.Duration
	// Lease is how long a worker owns a delivery before another may take it over
	// (default 5m).
	Lease time.Duration
	// Poll is how often workers look for due deliveries when not woken (default 1s).
	Poll time.Duration
	// ReceiptGrace is how long past its deadline a delivery may stay awaiting its
	// receipt before a worker takes it over as overdue (ErrReceiptOverdue), in
	// case nothing else settles it (default 2m: longer than the AS2 sweep's
	// longest interval, which settles it first when all is well).
	ReceiptGrace time.Duration
	// Breaker per partner target (default DefaultBreaker).
	Breaker BreakerSettings
	// Resolve closes the open DLQ entry (by handler and message UUID) of a parked
	// delivery that turned out delivered after all — the partner's positive
	// receipt came after the delivery was parked for want of it — saying why, so
	// that the entry no longer invites a resend; it reports whether an entry was
	// closed (dlq.Console.Resolve). Nil: such entries stay open, and the log says
	// to discard them.
	Resolve func(ctx context.Context, handler, messageUUID, why string) (bool, error)
}

func (c DeliveryConfig) withDefaults() DeliveryConfig {
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Attempts <= 0 {
		c.Attempts = 8
	}
	if c.Initial <= 0 {
		c.Initial = 2 * time.Second
	}
	if c.Max <= 0 {
		c.Max = 5 * time.Minute
	}
	if c.Lease <= 0 {
		c.Lease = 5 * time.Minute
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.ReceiptGrace <= 0 {
		c.ReceiptGrace = 2 * time.Minute
	}
	if c.Breaker.Failures == 0 {
		c.Breaker = DefaultBreaker
	}
	return c
}

// Delivery puts outbound files (edi.acks, outbound.edi) to the partners: the handlers
// record each file in the consumer's transaction; workers put them outside any
// transaction, retry what a retry can fix, and park the rest in the DLQ.
type Delivery struct {
	cfg      DeliveryConfig
	store    *store.Store
	router   *router.Router
	health   *Health
	metrics  *Metrics
	log      *slog.Logger
	breakers map[string]*gobreaker.CircuitBreaker
	wake     chan struct{}
}

// NewDelivery builds the delivery service.
func NewDelivery(cfg DeliveryConfig, st *store.Store, r *router.Router, h *Health, m *Metrics, log *slog.Logger) *Delivery {
	cfg = cfg.withDefaults()
	d := &Delivery{cfg: cfg, store: st, router: r, health: h, metrics: m, log: log, breakers: map[string]*gobreaker.CircuitBreaker{},
		wake: make(chan struct{}, 1)}
	for partner := range cfg.Targets {
		d.breakers[partner] = newBreaker(partner+"/outbound", partner, "outbound", cfg.Breaker, m, log)
		h.Register(partner, "outbound")
	}
	return d
}

// Active reports whether some partner has a delivery target: the workers have work.
func (d *Delivery) Active() bool { return len(d.cfg.Targets) > 0 }

// Register subscribes the delivery handlers.
func (d *Delivery) Register(r *router.Router) error {
	if err := r.Handle(HandlerAcks, router.TopicEDIAcks, d.handle(HandlerAcks, router.TopicEDIAcks)); err != nil {
		return err
	}
	return r.Handle(HandlerEDI, TopicOutboundEDI, d.handle(HandlerEDI, TopicOutboundEDI))
}

func (d *Delivery) handle(handler, topic string) router.Handler {
	return func(ctx context.Context, tx *router.Tx, msg *message.Message) error {
		partner := msg.Metadata.Get(router.MetaPartner)
		if _, ok := d.cfg.Targets[partner]; !ok {
			d.log.Debug("no outbound delivery configured for the partner; the file stays on its topic", "partner", partner, "topic", topic, "message_uuid", msg.UUID)
			return nil
		}
		name := msg.Metadata.Get(MetaDeliveryName)
		if name == "" {
			name = FileName(msg.Payload, msg.UUID)
		}
		id := msg.UUID
		if prev := msg.Metadata.Get(MetaDeliveryID); prev != "" {
			id = prev // a replay from the DLQ: the parked delivery starts over
		}
		return d.Enqueue(tx, Job{ID: id, Target: partner, Name: name, Handler: handler, Topic: topic, Payload: msg.Payload,
			Metadata: msg.Metadata, Replay: msg.Metadata.Get(MetaDeliveryID) != ""})
	}
}

// Job is one piece of outbound work for a Target: a file for a partner, a fulfilment
// for a shop.
type Job struct {
	// ID identifies the job: the message's UUID, so a redelivered message is one job
	// (on a DLQ replay, the parked job's id).
	ID string
	// Target is the key of the target in DeliveryConfig.Targets.
	Target string
	// Name is what the target is given with the payload (a file name, an order id).
	Name string
	// Handler and Topic are the router handler that made the job and the topic it
	// consumed: a parked job is replayed to that handler, with Payload and Metadata.
	Handler, Topic string
	Payload        []byte
	Metadata       message.Metadata
	// Replay is true when the message is a DLQ replay of the parked job ID.
	Replay bool
}

// HasTarget reports whether key has a delivery target.
func (d *Delivery) HasTarget(key string) bool { _, ok := d.cfg.Targets[key]; return ok }

// Enqueue records j in the consumer's transaction; the workers take it from there. A
// redelivered message is the same job; a replay of a parked one starts it over.
func (d *Delivery) Enqueue(tx *router.Tx, j Job) error {
	t, ok := d.cfg.Targets[j.Target]
	if !ok {
		return fault.AsPermanent(fmt.Errorf("no delivery target %q is configured", j.Target))
	}
	md, err := json.Marshal(j.Metadata)
	if err != nil {
		return err
	}
	now := store.Now()
	res, err := tx.Exec(`INSERT INTO deliveries (id, partner, via, name, handler, topic, payload, metadata, state, next_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET state = ?, attempts = 0, next_at = ?, updated_at = ?, last_error = '' WHERE deliveries.state = ?`,
		j.ID, j.Target, t.Via(), j.Name, j.Handler, j.Topic, j.Payload, string(md), StatePending, now, now, now,
		StatePending, now, now, StateParked)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 && j.Replay {
		d.log.Warn("a replayed delivery is not parked (already pending or delivered); nothing to do", "target", j.Target, "delivery_id", j.ID, "name", j.Name)
	}
	d.nudge()
	return nil
}

func (d *Delivery) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run runs the workers until ctx ends.
func (d *Delivery) Run(ctx context.Context) error {
	done := make(chan struct{})
	for range d.cfg.Workers {
		go func() {
			defer func() { done <- struct{}{} }()
			d.work(ctx)
		}()
	}
	for range d.cfg.Workers {
		<-done
	}
	return nil
}

func (d *Delivery) work(ctx context.Context) {
	t := time.NewTicker(d.cfg.Poll)
	defer t.Stop()
	for {
		for {
			did, err := d.once(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.Error("delivering partner files", "error", err)
			}
			if !did || ctx.Err() != nil {
				break
			}
		}
		d.updatePending(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.wake:
		}
	}
}

type deliveryRow struct {
	id, partner, via, name, handler, topic, metadata string
	payload                                          []byte
	attempts                                         int
	owner                                            string
	// late: settled by a receipt that came after the delivery was parked.
	late bool
	// overdue: claimed while awaiting its receipt, ReceiptGrace past the deadline.
	overdue bool
	due     time.Time
}

// once claims one due delivery and works it; did is false when none was due.
func (d *Delivery) once(ctx context.Context) (did bool, err error) {
	row, err := d.claim(ctx)
	if err != nil || row == nil {
		return false, err
	}
	if row.overdue {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		cause := fault.AsTransient(fmt.Errorf("%w: %s was sent to partner %s and its receipt was due by %s; nothing settled it within %s after that (DeliveryConfig.ReceiptGrace), so it is resent",
			ErrReceiptOverdue, row.name, row.partner, row.due.UTC().Format(time.RFC3339), d.cfg.ReceiptGrace))
		d.log.Warn("delivery still awaiting its receipt well past the deadline; treated as overdue", "partner", row.partner, "name", row.name,
			"delivery_id", row.id, "due", row.due)
		return true, d.failed(ctx, row, cause)
	}
	return true, d.deliver(ctx, row)
}

// claim takes one due delivery under a lease: a pending one whose time has come,
// a working one whose lease ran out, or one awaiting its receipt ReceiptGrace
// past its deadline (overdue).
func (d *Delivery) claim(ctx context.Context) (*deliveryRow, error) {
	now := store.Now()
	stale := now.Add(-d.cfg.ReceiptGrace)
	due := `((state = ? AND next_at <= ?) OR (state = ? AND lease_until < ?) OR (state = ? AND next_at < ?))`
	dueArgs := []any{StatePending, now, StateWorking, now, StateAwaiting, stale}
	rows, err := d.store.ReadDB().QueryContext(ctx, d.store.Rebind(`SELECT id, state FROM deliveries WHERE `+due+` ORDER BY next_at LIMIT 8`), dueArgs...)
	if err != nil {
		return nil, err
	}
	type cand struct{ id, state string }
	var cands []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.state); err != nil {
			rows.Close()
			return nil, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	var tok [8]byte
	crand.Read(tok[:])
	owner := hex.EncodeToString(tok[:])
	for _, c := range cands {
		// Claimed only in the state it was seen in: an awaiting delivery settled
		// meanwhile is not taken as overdue.
		var cond string
		var condArgs []any
		switch c.state {
		case StatePending:
			cond, condArgs = `state = ? AND next_at <= ?`, []any{StatePending, now}
		case StateWorking:
			cond, condArgs = `state = ? AND lease_until < ?`, []any{StateWorking, now}
		default:
			cond, condArgs = `state = ? AND next_at < ?`, []any{StateAwaiting, stale}
		}
		var dueAt time.Time
		if c.state == StateAwaiting {
			if err := d.store.ReadDB().QueryRowContext(ctx, d.store.Rebind(`SELECT next_at FROM deliveries WHERE id = ?`), c.id).Scan(&dueAt); err != nil {
				continue
			}
		}
		res, err := d.store.DB().ExecContext(ctx, d.store.Rebind(`UPDATE deliveries SET state = ?, lease_until = ?, lease_owner = ?, updated_at = ?
			WHERE id = ? AND `+cond), append([]any{StateWorking, now.Add(d.cfg.Lease), owner, now, c.id}, condArgs...)...)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue
		}
		r := &deliveryRow{owner: owner, overdue: c.state == StateAwaiting, due: dueAt}
		err = d.store.ReadDB().QueryRowContext(ctx, d.store.Rebind(`SELECT id, partner, via, name, handler, topic, metadata, payload, attempts
			FROM deliveries WHERE id = ?`), c.id).Scan(&r.id, &r.partner, &r.via, &r.name, &r.handler, &r.topic, &r.metadata, &r.payload, &r.attempts)
		return r, err
	}
	return nil, nil
}

func (d *Delivery) deliver(ctx context.Context, r *deliveryRow) error {
	t, ok := d.cfg.Targets[r.partner]
	if !ok {
		return d.park(ctx, r, fault.AsPermanent(fmt.Errorf("partner %q has no outbound delivery configured any more", r.partner)))
	}
	cb := d.breakers[r.partner]
	putCtx, cancel := context.WithTimeout(ctx, d.cfg.Lease/2) // a stalled server must not hold the worker
	putCtx = withDeliveryID(putCtx, r.id)
	v, err := cb.Execute(func() (any, error) {
		p, err := t.Put(putCtx, r.name, bytes.NewReader(r.payload))
		var aw *AwaitingReceipt
		if errors.As(err, &aw) {
			return aw, nil // the partner's server took it: not a failure for the breaker
		}
		return p, err
	})
	cancel()
	stopping := ctx.Err() != nil
	// What was done is recorded even when the hub is stopping.
	ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if aw, ok := v.(*AwaitingReceipt); ok && err == nil {
		return d.await(ctx, r, aw)
	}
	switch {
	case err != nil && stopping:
		// Interrupted by the shutdown: not an attempt; hand the delivery back.
		return d.reschedule(ctx, r, r.attempts, 0, "interrupted by a shutdown")
	case err == nil:
		return d.delivered(ctx, r, v.(string))
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		// Not an attempt: the partner's server is known to be down; wait for the breaker.
		d.metrics.delivered.WithLabelValues(r.partner, r.via, "deferred").Inc()
		return d.reschedule(ctx, r, r.attempts, max(d.cfg.Breaker.OpenFor, time.Second), "waiting for the partner's server: circuit breaker open")
	}
	return d.failed(ctx, r, err)
}

// delivered records a delivery done, and the order's trail.
func (d *Delivery) delivered(ctx context.Context, r *deliveryRow, remote string) error {
	d.health.OK(r.partner, "outbound")
	d.metrics.up.WithLabelValues(r.partner, "outbound").Set(1)
	d.metrics.lastOK.WithLabelValues(r.partner, "outbound").SetToCurrentTime()
	d.metrics.delivered.WithLabelValues(r.partner, r.via, "delivered").Inc()
	d.log.Info("file delivered to partner", "partner", r.partner, "via", r.via, "path", remote, "bytes", len(r.payload), "message_uuid", r.id)
	now := store.Now()
	inc := 1
	if r.late {
		inc = 0 // the send was counted when the delivery was parked
	}
	return d.store.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.store.Rebind(`UPDATE deliveries SET state = ?, remote_path = ?, delivered_at = ?, updated_at = ?,
			attempts = attempts + ?, lease_until = NULL, last_error = '' WHERE id = ? AND lease_owner = ?`), StateDelivered, remote, now, now, inc, r.id, r.owner)
		if err != nil {
			return err
		}
		var md map[string]string
		if n, _ := res.RowsAffected(); n == 0 || json.Unmarshal([]byte(r.metadata), &md) != nil || md[router.MetaOrderID] == "" {
			return nil
		}
		// Something about an order went back to its source: its trail says so.
		detail := fmt.Sprintf("%s %s delivered by %s: %s", r.partner, r.name, r.via, remote)
		if r.late {
			detail += " (the partner's receipt came after the delivery had been parked)"
		}
		return d.store.AppendTrail(ctx, tx, store.TrailEntry{OrderID: md[router.MetaOrderID], Stage: store.StageConfirmed,
			Handler: r.handler, MessageUUID: r.id, CorrelationID: md[router.MetaCorrelationID], Detail: detail})
	})
}

// failed records a failed attempt: retried with backoff while the error is
// transient and attempts remain, parked otherwise.
func (d *Delivery) failed(ctx context.Context, r *deliveryRow, err error) error {
	d.metrics.up.WithLabelValues(r.partner, "outbound").Set(0)
	if errors.Is(err, filedrop.ErrPermanent) {
		// The server is not the one configured (a changed host key or certificate):
		// nothing is put there until a person checks; the files wait, without using
		// up their attempts.
		d.health.Failed(r.partner, "outbound", err, true)
		d.log.Error("partner server identity changed; deliveries held until the configuration is fixed", "partner", r.partner, "error", err)
		return d.reschedule(ctx, r, r.attempts, d.cfg.Max, err.Error())
	}
	d.health.Failed(r.partner, "outbound", err, false)
	if fault.ClassOf(err) != fault.Transient {
		return d.park(ctx, r, err)
	}
	attempts := r.attempts + 1
	if attempts >= d.cfg.Attempts {
		return d.park(ctx, r, fmt.Errorf("gave up after %d attempts: %w", attempts, err))
	}
	wait := d.backoff(attempts)
	d.metrics.delivered.WithLabelValues(r.partner, r.via, "retry").Inc()
	d.log.Warn("partner delivery failed; will retry", "partner", r.partner, "name", r.name, "attempt", attempts, "retry_in", wait, "error", err)
	return d.reschedule(ctx, r, attempts, wait, err.Error())
}

// await records that the target sent the file and waits for its receipt.
func (d *Delivery) await(ctx context.Context, r *deliveryRow, aw *AwaitingReceipt) error {
	d.health.OK(r.partner, "outbound")
	d.metrics.up.WithLabelValues(r.partner, "outbound").Set(1)
	d.metrics.lastOK.WithLabelValues(r.partner, "outbound").SetToCurrentTime()
	d.metrics.delivered.WithLabelValues(r.partner, r.via, "awaiting-receipt").Inc()
	d.log.Info("file sent to partner; awaiting its receipt", "partner", r.partner, "via", r.via, "path", aw.Remote,
		"until", aw.Deadline, "message_uuid", r.id)
	now := store.Now()
	_, err := d.store.DB().ExecContext(ctx, d.store.Rebind(`UPDATE deliveries SET state = ?, remote_path = ?, next_at = ?, last_error = ?,
		lease_until = NULL, updated_at = ? WHERE id = ? AND lease_owner = ?`),
		StateAwaiting, aw.Remote, aw.Deadline.UTC().Truncate(time.Microsecond), "", now, r.id, r.owner)
	return err
}

// Receipt settles a delivery whose target returned AwaitingReceipt, when the
// receipt came: cause nil records it delivered (remote is where it went), an error
// is the receipt's verdict, retried or parked by its fault class like a failed Put,
// the send counted as an attempt. The receipt may come before Put returned, or
// after an overdue receipt had a resend scheduled: both are settled.
//
// A positive receipt (cause nil) for a delivery already parked for want of it is
// still proof of delivery: the delivery is recorded delivered (its order's trail
// says the receipt came late), and its DLQ entry is closed through
// DeliveryConfig.Resolve so that nobody resends the file. It returns
// ErrNotAwaiting (wrapped) when the delivery is settled already, or parked and
// the receipt negative.
func (d *Delivery) Receipt(ctx context.Context, id, remote string, cause error) error {
	err := d.settle(ctx, id, remote, cause, StateAwaiting, StateWorking, StatePending)
	if cause != nil || !errors.Is(err, ErrNotAwaiting) {
		return err
	}
	return d.settle(ctx, id, remote, nil, StateParked)
}

// Overdue settles a delivery in StateAwaiting whose receipt did not come in time:
// cause (transient, say) is retried by resending, or parked once the attempts are
// used up. It returns ErrNotAwaiting (wrapped) when the delivery is not awaiting.
func (d *Delivery) Overdue(ctx context.Context, id string, cause error) error {
	return d.settle(ctx, id, "", cause, StateAwaiting)
}

func (d *Delivery) settle(ctx context.Context, id, remote string, cause error, from ...string) error {
	var tok [8]byte
	crand.Read(tok[:])
	owner := hex.EncodeToString(tok[:])
	now := store.Now()
	q := `UPDATE deliveries SET state = ?, lease_until = ?, lease_owner = ?, updated_at = ? WHERE id = ? AND state IN (?` +
		strings.Repeat(", ?", len(from)-1) + `)`
	args := []any{StateWorking, now.Add(d.cfg.Lease), owner, now, id}
	for _, f := range from {
		args = append(args, f)
	}
	res, err := d.store.DB().ExecContext(ctx, d.store.Rebind(q), args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("delivery %s: %w", id, ErrNotAwaiting)
	}
	r := &deliveryRow{owner: owner}
	var prevRemote string
	if err := d.store.DB().QueryRowContext(ctx, d.store.Rebind(`SELECT id, partner, via, name, handler, topic, metadata, payload, attempts, remote_path
		FROM deliveries WHERE id = ?`), id).Scan(&r.id, &r.partner, &r.via, &r.name, &r.handler, &r.topic, &r.metadata, &r.payload, &r.attempts, &prevRemote); err != nil {
		return err
	}
	if cause == nil {
		r.late = len(from) == 1 && from[0] == StateParked
		if err := d.delivered(ctx, r, cmp.Or(remote, prevRemote)); err != nil || !r.late {
			return err
		}
		d.resolveParked(ctx, r, cmp.Or(remote, prevRemote))
		return nil
	}
	d.health.Failed(r.partner, "outbound", cause, false)
	return d.failed(ctx, r, cause)
}

// resolveParked closes the DLQ entry of r, a parked delivery that a late receipt
// proved delivered.
func (d *Delivery) resolveParked(ctx context.Context, r *deliveryRow, remote string) {
	log := d.log.With("partner", r.partner, "name", r.name, "delivery_id", r.id, "path", remote)
	why := fmt.Sprintf("the partner's receipt came after the delivery was parked: %s was delivered (%s); do not resend it", r.name, remote)
	ok := false
	var err error
	if d.cfg.Resolve != nil {
		ok, err = d.cfg.Resolve(ctx, r.handler, r.id, why)
	}
	switch {
	case err != nil:
		log.Error("a late receipt proved a parked delivery delivered, but closing its DLQ entry failed: discard the entry, do not replay it", "error", err)
	case !ok:
		log.Warn("a late receipt proved a parked delivery delivered; no open DLQ entry was closed (not stored yet, or already handled): if one is open, discard it, do not replay it")
	default:
		log.Info("a late receipt proved a parked delivery delivered; its DLQ entry is closed")
	}
}

type deliveryIDKey struct{}

func withDeliveryID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, deliveryIDKey{}, id)
}

// deliveryID is the id of the delivery a Target.Put call works on, for targets
// whose receipts settle it later.
func deliveryID(ctx context.Context) string {
	id, _ := ctx.Value(deliveryIDKey{}).(string)
	return id
}

// backoff is the wait before attempt n+1: equal jitter (half the cap plus a random
// part of the other half) under an exponential cap.
func (d *Delivery) backoff(n int) time.Duration {
	limit := d.cfg.Initial << min(n-1, 20)
	if limit > d.cfg.Max || limit <= 0 {
		limit = d.cfg.Max
	}
	return limit/2 + rand.N(limit/2+1)
}

func (d *Delivery) reschedule(ctx context.Context, r *deliveryRow, attempts int, wait time.Duration, why string) error {
	now := store.Now()
	_, err := d.store.DB().ExecContext(ctx, d.store.Rebind(`UPDATE deliveries SET state = ?, attempts = ?, next_at = ?, last_error = ?, lease_until = NULL,
		updated_at = ? WHERE id = ? AND lease_owner = ?`), StatePending, attempts, now.Add(wait), why, now, r.id, r.owner)
	return err
}

// park parks the delivery in the DLQ, where a replay puts the same name again.
func (d *Delivery) park(ctx context.Context, r *deliveryRow, cause error) error {
	d.metrics.delivered.WithLabelValues(r.partner, r.via, "parked").Inc()
	d.log.Error("partner delivery parked in the DLQ", "partner", r.partner, "name", r.name, "error", cause)
	var md message.Metadata
	if err := json.Unmarshal([]byte(r.metadata), &md); err != nil {
		md = message.Metadata{}
	}
	class := fault.ClassOf(cause)
	if class == fault.Transient {
		class = fault.Permanent // retries exhausted
	}
	return d.store.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, d.store.Rebind(`UPDATE deliveries SET state = ?, attempts = ?, last_error = ?, lease_until = NULL, updated_at = ?
			WHERE id = ? AND lease_owner = ?`), StateParked, r.attempts+1, cause.Error(), store.Now(), r.id, r.owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // taken over by another worker
		}
		return d.router.Park(tx, r.payload, md, router.Parked{Handler: r.handler, Topic: r.topic,
			Reason: fmt.Sprintf("delivering %s to partner %s by %s: %v", r.name, r.partner, r.via, cause), Class: class,
			Chain: fault.Chain(cause), Attempts: r.attempts + 1, MessageID: r.id,
			Extra: map[string]string{MetaDeliveryName: r.name, MetaDeliveryID: r.id, router.MetaReplayFreshKey: "1"}})
	})
}

// updatePending sets the gauges of deliveries waiting to be put (pending,
// working) and of those sent and awaiting their receipt.
func (d *Delivery) updatePending(ctx context.Context) {
	rows, err := d.store.ReadDB().QueryContext(ctx, d.store.Rebind(`SELECT partner, state, COUNT(*) FROM deliveries WHERE state IN (?, ?, ?) GROUP BY partner, state`),
		StatePending, StateWorking, StateAwaiting)
	if err != nil {
		return
	}
	defer rows.Close()
	pending, awaiting := map[string]int{}, map[string]int{}
	for rows.Next() {
		var p, state string
		var n int
		if rows.Scan(&p, &state, &n) == nil {
			if state == StateAwaiting {
				awaiting[p] += n
			} else {
				pending[p] += n
			}
		}
	}
	for p := range d.cfg.Targets {
		pending[p] += 0
		awaiting[p] += 0
	}
	for p, n := range pending {
		d.metrics.pending.WithLabelValues(p).Set(float64(n))
	}
	for p, n := range awaiting {
		d.metrics.awaiting.WithLabelValues(p).Set(float64(n))
	}
}

// state is the state of delivery id.
func (d *Delivery) state(ctx context.Context, id string) (string, error) {
	var st string
	if err := d.store.DB().QueryRowContext(ctx, d.store.Rebind(`SELECT state FROM deliveries WHERE id = ?`), id).Scan(&st); err != nil {
		return "", fmt.Errorf("reading the state of delivery %s: %w", id, err)
	}
	return st, nil
}

// DeliveryState is one delivery as `paklog` and tests see it.
type DeliveryState struct {
	ID, Partner, Via, Name, State, LastError, RemotePath string
	Attempts                                             int
}

// Deliveries lists the deliveries of partner ("" for all), oldest first.
func (d *Delivery) Deliveries(ctx context.Context, partner string) ([]DeliveryState, error) {
	rows, err := d.store.ReadDB().QueryContext(ctx, d.store.Rebind(`SELECT id, partner, via, name, state, last_error, remote_path, attempts
		FROM deliveries WHERE ? = '' OR partner = ? ORDER BY created_at, id`), partner, partner)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DeliveryState
	for rows.Next() {
		var s DeliveryState
		if err := rows.Scan(&s.ID, &s.Partner, &s.Via, &s.Name, &s.State, &s.LastError, &s.RemotePath, &s.Attempts); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// FileName names an outbound X12 file after its first transaction set and its
// interchange control number ("997_000000123.edi", "TA1_000000007.edi"), which the
// hub keeps gap-free per partner; files it cannot read are named after the message.
func FileName(payload []byte, uuid string) string {
	s := string(payload[:min(len(payload), 4096)])
	if len(s) >= 106 && strings.HasPrefix(s, "ISA") {
		sep := s[3:4]
		f := strings.Split(s[:106], sep)
		if len(f) >= 17 {
			ctrl := strings.TrimSpace(f[13])
			kind := "X12"
			for seg := range strings.SplitSeq(s[106:], s[105:106]) {
				seg = strings.TrimSpace(seg)
				if strings.HasPrefix(seg, "ST"+sep) && len(seg) >= 6 {
					kind = seg[3:6]
					break
				}
				if strings.HasPrefix(seg, "TA1"+sep) {
					kind = "TA1"
					break
				}
			}
			if strings.Trim(kind, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
				kind = "X12"
			}
			if ctrl != "" && strings.Trim(ctrl, "0123456789") == "" {
				return kind + "_" + ctrl + ".edi"
			}
		}
	}
	return "paklog_" + uuid + ".edi"
}
