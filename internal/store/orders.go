package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Execer is what the query helpers need: a *sql.Tx (to write as part of a transaction)
// or a *sql.DB.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Order trail stages, in the order an order normally reaches them.
const (
	StageAccepted        = "accepted"         // raw payload committed by an adapter
	StageRouted          = "routed"           // canonical order published to fulfilment.orders
	StagePacked          = "packed"           // the fulfilment core reported a packed shipment
	StageLabelled        = "labelled"         // every package of a shipment has its carrier label
	StageShipped         = "shipped"          // the fulfilment core confirmed the shipment
	StageLabelVoided     = "label_voided"     // a label was voided at the carrier (order cancelled)
	StageDeadLettered    = "dead_lettered"    // a handler parked it in the DLQ
	StageReplayed        = "replayed"         // an operator replayed it from the DLQ
	StageCancelRequested = "cancel_requested" // the source asked to cancel it (sent to fulfilment.cancellations)
	StageConfirmed       = "confirmed"        // the source was told it shipped (a fulfilment, a Magento shipment, an 856/945 delivered)
)

// stageRank orders the progress stages; the fulfilment core's events (packed,
// shipped) are recorded by separate consumers, so they can be recorded out of order.
var stageRank = map[string]int{StageAccepted: 1, StageRouted: 2, StagePacked: 3, StageLabelled: 4, StageShipped: 5, StageConfirmed: 6}

// StageOrder is the position of a progress stage (accepted 1 … confirmed 6), 0 for
// others; for showing a trail in the order an order moves.
func StageOrder(stage string) int { return stageRank[stage] }

// CurrentStage is where an order stands: the furthest progress stage its trail reached,
// or dead_lettered while its latest entry is a DLQ entry.
func CurrentStage(trail []TrailEntry) string {
	if len(trail) == 0 {
		return ""
	}
	if last := trail[len(trail)-1].Stage; last == StageDeadLettered {
		return last
	}
	best := ""
	for _, e := range trail {
		if stageRank[e.Stage] > stageRank[best] {
			best = e.Stage
		}
	}
	if best == "" {
		return trail[len(trail)-1].Stage
	}
	return best
}

// HasStages reports whether the trail has every one of stages.
func HasStages(trail []TrailEntry, stages ...string) bool {
	for _, want := range stages {
		found := false
		for _, e := range trail {
			if e.Stage == want {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// TrailEntry is one stage an order reached.
type TrailEntry struct {
	OrderID       string    `json:"-"`
	Stage         string    `json:"stage"`
	Topic         string    `json:"topic,omitempty"`
	Handler       string    `json:"handler,omitempty"`
	MessageUUID   string    `json:"message_uuid,omitempty"`
	CorrelationID string    `json:"correlation_id,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	At            time.Time `json:"at"`
}

// AppendTrail records that orders reached stages, as part of q's transaction, in
// one statement; the entries keep their order in the trail.
func (s *Store) AppendTrail(ctx context.Context, q Execer, entries ...TrailEntry) error {
	if len(entries) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(`INSERT INTO order_trail (order_id, stage, topic, handler, message_uuid, correlation_id, detail, at) VALUES `)
	args := make([]any, 0, 8*len(entries))
	now := Now()
	for i, e := range entries {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
		if e.At.IsZero() {
			e.At = now
		}
		args = append(args, e.OrderID, e.Stage, e.Topic, e.Handler, e.MessageUUID, e.CorrelationID, e.Detail, e.At)
	}
	if _, err := q.ExecContext(ctx, s.Rebind(b.String()), args...); err != nil {
		e := entries[0]
		return fmt.Errorf("recording stage %s of order %s: %w", e.Stage, e.OrderID, err)
	}
	return nil
}

// Trail lists the stages an order reached, oldest first. An unknown order has none.
func (s *Store) Trail(ctx context.Context, orderID string) ([]TrailEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, s.Rebind(`SELECT stage, topic, handler, message_uuid, correlation_id, detail, at
		FROM order_trail WHERE order_id = ? ORDER BY id`), orderID)
	if err != nil {
		return nil, fmt.Errorf("reading the trail of order %s: %w", orderID, err)
	}
	defer rows.Close()
	var out []TrailEntry
	for rows.Next() {
		e := TrailEntry{OrderID: orderID}
		if err := rows.Scan(&e.Stage, &e.Topic, &e.Handler, &e.MessageUUID, &e.CorrelationID, &e.Detail, &e.At); err != nil {
			return nil, fmt.Errorf("reading the trail of order %s: %w", orderID, err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// OrderRef identifies an order in its source system.
type OrderRef struct {
	Channel    string
	Partner    string
	ExternalID string
}

// OrderID returns the hub's stable id for ref, assigning newID when ref is new.
// existed reports whether ref had an id already. Part of q's transaction.
func (s *Store) OrderID(ctx context.Context, q Execer, ref OrderRef, newID string) (id string, existed bool, err error) {
	res, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO order_ids (channel, partner, external_id, order_id, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel, partner, external_id) DO NOTHING`),
		ref.Channel, ref.Partner, ref.ExternalID, newID, Now())
	if err != nil {
		return "", false, fmt.Errorf("assigning an order id to %s/%s/%s: %w", ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return newID, false, nil
	}
	err = q.QueryRowContext(ctx, s.Rebind(`SELECT order_id FROM order_ids WHERE channel = ? AND partner = ? AND external_id = ?`),
		ref.Channel, ref.Partner, ref.ExternalID).Scan(&id)
	if err != nil {
		return "", false, fmt.Errorf("reading the order id of %s/%s/%s: %w", ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	return id, true, nil
}

// ReleaseOrder gives the source order ref the hub id newID, keeps payload (the
// released order, carrying newID) and appends trail, as part of q's transaction —
// unless ref has an id already: then it returns that id with existed true and
// writes nothing. On PostgreSQL it is one statement (one round trip instead of
// three); on SQLite, three.
func (s *Store) ReleaseOrder(ctx context.Context, q Execer, ref OrderRef, newID string, payload []byte, trail ...TrailEntry) (id string, existed bool, err error) {
	if s.dialect != Postgres {
		if id, existed, err = s.OrderID(ctx, q, ref, newID); err != nil || existed {
			return id, existed, err
		}
		if err := s.SaveOrder(ctx, q, id, payload); err != nil {
			return "", false, err
		}
		return id, false, s.AppendTrail(ctx, q, trail...)
	}
	now := Now()
	args := []any{ref.Channel, ref.Partner, ref.ExternalID, newID, now, payload}
	var vals strings.Builder
	for i, e := range trail {
		if i > 0 {
			vals.WriteByte(',')
		}
		n := len(args)
		fmt.Fprintf(&vals, "(%d, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::text, $%d::timestamptz)", i, n+1, n+2, n+3, n+4, n+5, n+6, n+7)
		if e.At.IsZero() {
			e.At = now
		}
		args = append(args, e.Stage, e.Topic, e.Handler, e.MessageUUID, e.CorrelationID, e.Detail, e.At)
	}
	q1 := `WITH ids AS (
			INSERT INTO order_ids (channel, partner, external_id, order_id, created_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (channel, partner, external_id) DO NOTHING RETURNING order_id),
		kept AS (
			INSERT INTO orders (order_id, payload, released_at) SELECT order_id, $6, $5 FROM ids
			ON CONFLICT (order_id) DO NOTHING)`
	if len(trail) > 0 {
		q1 += `,
		trail AS (
			INSERT INTO order_trail (order_id, stage, topic, handler, message_uuid, correlation_id, detail, at)
			SELECT ids.order_id, v.stage, v.topic, v.handler, v.message_uuid, v.correlation_id, v.detail, v.at
			FROM ids, (VALUES ` + vals.String() + `) AS v(n, stage, topic, handler, message_uuid, correlation_id, detail, at)
			ORDER BY v.n)`
	}
	q1 += `
		SELECT order_id FROM ids`
	err = q.QueryRowContext(ctx, q1, args...).Scan(&id)
	switch {
	case err == nil:
		return id, false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return "", false, fmt.Errorf("releasing order %s/%s/%s: %w", ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	err = q.QueryRowContext(ctx, `SELECT order_id FROM order_ids WHERE channel = $1 AND partner = $2 AND external_id = $3`,
		ref.Channel, ref.Partner, ref.ExternalID).Scan(&id)
	if err != nil {
		return "", false, fmt.Errorf("reading the order id of %s/%s/%s: %w", ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	return id, true, nil
}

// MarkProcessed records that handler processed the message with key, as part of q's
// transaction. It returns false if the key was processed before: the caller skips the
// message. Because the record commits with the handler's own writes, a handler that
// fails leaves no record and the redelivery is processed.
func (s *Store) MarkProcessed(ctx context.Context, q Execer, handler, key, messageUUID string) (bool, error) {
	res, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO processed (handler, idempotency_key, message_uuid, processed_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (handler, idempotency_key) DO NOTHING`), handler, key, messageUUID, Now())
	if err != nil {
		return false, fmt.Errorf("recording that %s processed %s: %w", handler, key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

// ErrNotFound is returned by lookups of something that does not exist.
var ErrNotFound = errors.New("not found")

// NextControlNumber takes the next number of a partner's sequence (kind "ISA", "GS",
// "ST", …), starting at 1, as part of q's transaction: a rollback gives it back, so
// the numbers that reach the partner have no gaps and never repeat.
func (s *Store) NextControlNumber(ctx context.Context, q Execer, partner, kind string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, s.Rebind(`INSERT INTO control_numbers (partner, kind, last) VALUES (?, ?, 1)
		ON CONFLICT (partner, kind) DO UPDATE SET last = control_numbers.last + 1 RETURNING last`), partner, kind).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("taking the next %s control number of %s: %w", kind, partner, err)
	}
	return n, nil
}

// RecordInterchange remembers that partner's sender sent interchange control number
// ctl, as part of q's transaction. It returns false if it had been received before.
func (s *Store) RecordInterchange(ctx context.Context, q Execer, partner, sender, ctl, messageUUID string) (bool, error) {
	res, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO x12_interchanges (partner, sender, control_number, message_uuid, received_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner, sender, control_number) DO NOTHING`), partner, sender, ctl, messageUUID, Now())
	if err != nil {
		return false, fmt.Errorf("recording interchange %s of %s: %w", ctl, sender, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// LookupOrderID returns the hub's id for ref, if the hub has accepted that order.
func (s *Store) LookupOrderID(ctx context.Context, q Execer, ref OrderRef) (string, bool, error) {
	var id string
	err := q.QueryRowContext(ctx, s.Rebind(`SELECT order_id FROM order_ids WHERE channel = ? AND partner = ? AND external_id = ?`),
		ref.Channel, ref.Partner, ref.ExternalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up order %s/%s/%s: %w", ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	return id, true, nil
}

// NewerVersion records that the source sent ref as of updatedAt, as part of q's
// transaction, and reports whether that is newer than every version seen before. An
// older or equal version (a late webhook, a redelivery) returns false and changes
// nothing.
func (s *Store) NewerVersion(ctx context.Context, q Execer, ref OrderRef, updatedAt time.Time) (bool, error) {
	updatedAt = updatedAt.UTC().Truncate(time.Microsecond)
	res, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO source_versions (channel, partner, external_id, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel, partner, external_id) DO UPDATE SET updated_at = excluded.updated_at
		WHERE source_versions.updated_at < excluded.updated_at`), ref.Channel, ref.Partner, ref.ExternalID, updatedAt)
	if err != nil {
		return false, fmt.Errorf("recording version %s of %s/%s/%s: %w", updatedAt.Format(time.RFC3339Nano), ref.Channel, ref.Partner, ref.ExternalID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SaveOrder keeps the order as released, as part of q's transaction.
func (s *Store) SaveOrder(ctx context.Context, q Execer, orderID string, payload []byte) error {
	_, err := q.ExecContext(ctx, s.Rebind(`INSERT INTO orders (order_id, payload, released_at) VALUES (?, ?, ?)
		ON CONFLICT (order_id) DO NOTHING`), orderID, payload, Now())
	if err != nil {
		return fmt.Errorf("keeping order %s: %w", orderID, err)
	}
	return nil
}

// ReleasedOrder returns the order as the hub released it (paklog.order.v1 JSON), or
// ErrNotFound.
func (s *Store) ReleasedOrder(ctx context.Context, q Execer, orderID string) ([]byte, error) {
	var b []byte
	err := q.QueryRowContext(ctx, s.Rebind(`SELECT payload FROM orders WHERE order_id = ?`), orderID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("reading order %s: %w", orderID, err)
	}
	return b, nil
}

// OrderRefOf returns where the hub's order came from, or ErrNotFound.
func (s *Store) OrderRefOf(ctx context.Context, q Execer, orderID string) (OrderRef, error) {
	var ref OrderRef
	err := q.QueryRowContext(ctx, s.Rebind(`SELECT channel, partner, external_id FROM order_ids WHERE order_id = ?`), orderID).
		Scan(&ref.Channel, &ref.Partner, &ref.ExternalID)
	if errors.Is(err, sql.ErrNoRows) {
		return ref, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	if err != nil {
		return ref, fmt.Errorf("looking up the source of order %s: %w", orderID, err)
	}
	return ref, nil
}

// Checkpoint returns the saved value of the named checkpoint, "" when none was saved.
func (s *Store) Checkpoint(ctx context.Context, name string) (string, error) {
	var v string
	err := s.DB().QueryRowContext(ctx, s.Rebind(`SELECT value FROM checkpoints WHERE name = ?`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading checkpoint %s: %w", name, err)
	}
	return v, nil
}

// SaveCheckpoint stores the named checkpoint durably.
func (s *Store) SaveCheckpoint(ctx context.Context, name, value string) error {
	now := Now()
	_, err := s.DB().ExecContext(ctx, s.Rebind(`INSERT INTO checkpoints (name, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`), name, value, now)
	if err != nil {
		return fmt.Errorf("saving checkpoint %s: %w", name, err)
	}
	return nil
}
