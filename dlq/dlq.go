// Package dlq is the hub's dead-letter queue: every message a handler could not process
// — after its retries, or at once for permanent and validation errors — with the
// original payload and metadata, the handler and topic it failed in, the error chain,
// the error class and the number of attempts.
//
// The router's poison middleware publishes failures to the dlq topic inside the failing
// handler's transaction; this package's consumer stores each one as an Entry. An
// operator lists and inspects entries, fixes the cause, and replays: the replay is
// published to replay.<handler>, which only the handler that failed consumes, so other
// subscribers of the original topic never see it twice. A replay of a message the
// handler has meanwhile processed is skipped by the handler's deduplication (its
// processed-key record, or for normalize.shopify and normalize.magento the source's
// version: a version no newer than the one recorded changes nothing): replaying twice
// delivers once.
package dlq

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Entry statuses.
const (
	StatusOpen      = "open"      // waiting for a person
	StatusReplayed  = "replayed"  // replayed; a new failure reopens it
	StatusDiscarded = "discarded" // a person decided it needs no processing
)

// Entry is one dead-lettered message.
type Entry struct {
	ID            int64             `json:"id"`
	MessageUUID   string            `json:"message_uuid"`
	Handler       string            `json:"handler"`
	Topic         string            `json:"topic"`
	ErrorClass    string            `json:"error_class"`
	Reason        string            `json:"reason"`
	ErrorChain    []string          `json:"error_chain"`
	Attempts      int               `json:"attempts"`
	OrderID       string            `json:"order_id,omitempty"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	Status        string            `json:"status"`
	TimesFailed   int               `json:"times_failed"`
	FailedAt      time.Time         `json:"failed_at"`
	LastFailedAt  time.Time         `json:"last_failed_at"`
	ReplayCount   int               `json:"replay_count"`
	ReplayedAt    *time.Time        `json:"replayed_at,omitempty"`
	Payload       []byte            `json:"payload,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
}

// Register adds the DLQ's consumer to r. It has no poison queue of its own: if storing
// an entry fails, the message stays on the dlq topic and is retried.
func Register(r *router.Router) error {
	return r.Handle("dlq.store", router.TopicDLQ, storeEntry, router.WithoutPoison(), router.WithoutReplay(), router.WithoutDedupe())
}

func storeEntry(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	md := msg.Metadata
	handler := md.Get(router.MetaDLQHandler)
	orig := md.Get(router.MetaDLQMessageID)
	if handler == "" || orig == "" {
		// Not from the poison middleware (published by hand, or by a future bug): keep
		// it anyway, under its own id, rather than stall the DLQ behind it.
		handler, orig = "(unknown)", msg.UUID
		if md.Get(router.MetaDLQReason) == "" {
			md.Set(router.MetaDLQReason, "a message on the dlq topic without the poison middleware's metadata")
		}
	}
	payload := []byte(msg.Payload)
	if payload == nil {
		payload = []byte{} // the column is NOT NULL; an empty message is still an entry
	}
	attempts, _ := strconv.Atoi(md.Get(router.MetaDLQAttempts))
	failedAt, err := time.Parse(time.RFC3339Nano, md.Get(router.MetaDLQFailedAt))
	if err != nil {
		failedAt = store.Now()
	}
	failedAt = failedAt.UTC().Truncate(time.Microsecond)
	mdJSON, _ := json.Marshal(originalMetadata(md))
	st := tx.Store()
	// A replay that fails again reopens its entry (found by replay_of: the replay is a
	// new message); a redelivered failure updates the entry of the same message.
	where, key := "handler = ? AND message_uuid = ?", []any{handler, orig}
	if id, err := strconv.ParseInt(md.Get(router.MetaReplayOf), 10, 64); err == nil {
		where, key = "id = ?", []any{id}
	}
	res, err := tx.Exec(`UPDATE dlq_entries SET status = ?, times_failed = times_failed + 1, last_failed_at = ?,
		reason = ?, error_chain = ?, error_class = ?, attempts = ? WHERE `+where,
		append([]any{StatusOpen, failedAt, md.Get(router.MetaDLQReason), md.Get(router.MetaDLQErrorChain), md.Get(router.MetaDLQClass),
			attempts}, key...)...)
	if err != nil {
		return fmt.Errorf("updating the DLQ entry of %s: %w", orig, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err = tx.Exec(`INSERT INTO dlq_entries (message_uuid, handler, topic, error_class, reason, error_chain, attempts,
			payload, metadata, order_id, correlation_id, status, failed_at, last_failed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			orig, handler, md.Get(router.MetaDLQTopic), md.Get(router.MetaDLQClass), md.Get(router.MetaDLQReason),
			md.Get(router.MetaDLQErrorChain), attempts, payload, string(mdJSON),
			md.Get(router.MetaOrderID), md.Get(router.MetaCorrelationID), StatusOpen, failedAt, failedAt)
		if err != nil {
			return fmt.Errorf("storing the DLQ entry of %s: %w", orig, err)
		}
	}
	if id := md.Get(router.MetaOrderID); id != "" {
		return st.AppendTrail(ctx, tx, store.TrailEntry{
			OrderID: id, Stage: store.StageDeadLettered, Topic: md.Get(router.MetaDLQTopic), Handler: handler,
			MessageUUID: orig, CorrelationID: md.Get(router.MetaCorrelationID),
			Detail: md.Get(router.MetaDLQClass) + ": " + md.Get(router.MetaDLQReason),
		})
	}
	return nil
}

// originalMetadata is md without the fields the poison middleware added.
func originalMetadata(md message.Metadata) map[string]string {
	out := maps.Clone(map[string]string(md))
	for k := range out {
		if strings.HasPrefix(k, "dlq_") {
			delete(out, k)
		}
	}
	return out
}

// Console reads and acts on DLQ entries.
type Console struct {
	store  *store.Store
	topics router.Topics
}

// NewConsole returns a console on st; topics must match the running hub's.
func NewConsole(st *store.Store, topics router.Topics) *Console {
	return &Console{store: st, topics: topics}
}

// Filter narrows List.
type Filter struct {
	Status  string // "" = any
	Handler string
	OrderID string
	Limit   int // default 100
}

const entryColumns = `id, message_uuid, handler, topic, error_class, reason, error_chain, attempts, order_id,
	correlation_id, status, times_failed, failed_at, last_failed_at, replay_count, replayed_at, payload, metadata`

func scanEntry(sc interface{ Scan(...any) error }) (Entry, error) {
	var e Entry
	var chain, md string
	var replayed sql.NullTime
	err := sc.Scan(&e.ID, &e.MessageUUID, &e.Handler, &e.Topic, &e.ErrorClass, &e.Reason, &chain, &e.Attempts, &e.OrderID,
		&e.CorrelationID, &e.Status, &e.TimesFailed, &e.FailedAt, &e.LastFailedAt, &e.ReplayCount, &replayed, &e.Payload, &md)
	if err != nil {
		return Entry{}, err
	}
	_ = json.Unmarshal([]byte(chain), &e.ErrorChain)
	_ = json.Unmarshal([]byte(md), &e.Metadata)
	e.FailedAt, e.LastFailedAt = e.FailedAt.UTC(), e.LastFailedAt.UTC()
	if replayed.Valid {
		t := replayed.Time.UTC()
		e.ReplayedAt = &t
	}
	return e, nil
}

// MaxList is the most entries one List returns.
const MaxList = 1000

// List returns entries, newest first, without their payloads.
func (c *Console) List(ctx context.Context, f Filter) ([]Entry, error) {
	var where []string
	var args []any
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Handler != "" {
		where, args = append(where, "handler = ?"), append(args, f.Handler)
	}
	if f.OrderID != "" {
		where, args = append(where, "order_id = ?"), append(args, f.OrderID)
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	f.Limit = min(f.Limit, MaxList)
	// Listing leaves the payloads out (Get has them): a page of entries stays small
	// however large the parked messages are.
	q := `SELECT ` + strings.Replace(entryColumns, "payload", "''", 1) + ` FROM dlq_entries`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(f.Limit)
	rows, err := c.store.ReadDB().QueryContext(ctx, c.store.Rebind(q), args...)
	if err != nil {
		return nil, fmt.Errorf("listing DLQ entries: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("listing DLQ entries: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Get returns one entry, or an error wrapping store.ErrNotFound.
func (c *Console) Get(ctx context.Context, id int64) (Entry, error) {
	e, err := scanEntry(c.store.ReadDB().QueryRowContext(ctx, c.store.Rebind(`SELECT `+entryColumns+` FROM dlq_entries WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("DLQ entry %d: %w", id, store.ErrNotFound)
	}
	return e, err
}

// ErrNotOpen is returned when replaying or discarding an entry that is not open.
var ErrNotOpen = errors.New("entry is not open")

// Replay publishes the entry's original message to replay.<handler> and marks it
// replayed. The running hub delivers it to that handler only; if it fails again, the
// entry reopens with the new reason. Replaying an entry that is not open needs force.
func (c *Console) Replay(ctx context.Context, id int64, force bool) (Entry, error) {
	var out Entry
	err := c.store.InTx(ctx, func(tx *sql.Tx) error {
		e, err := scanEntry(tx.QueryRowContext(ctx, c.store.Rebind(`SELECT `+entryColumns+` FROM dlq_entries WHERE id = ?`), id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("DLQ entry %d: %w", id, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		if e.Status != StatusOpen && !force {
			return fmt.Errorf("DLQ entry %d is %s: %w (use --force to replay it anyway)", id, e.Status, ErrNotOpen)
		}
		msg := message.NewMessage(watermill.NewUUID(), e.Payload)
		for k, v := range e.Metadata {
			msg.Metadata.Set(k, v)
		}
		msg.Metadata.Set(router.MetaReplayOf, strconv.FormatInt(e.ID, 10))
		if e.Metadata[router.MetaReplayFreshKey] == "1" {
			msg.Metadata.Set(router.MetaIdempotencyKey, e.Metadata[router.MetaIdempotencyKey]+"#replay-"+strconv.Itoa(e.ReplayCount+1))
		}
		pub, err := c.store.Publisher(tx)
		if err != nil {
			return err
		}
		if err := pub.Publish(c.topics.Name(router.ReplayTopic(e.Handler)), msg); err != nil {
			return fmt.Errorf("publishing the replay of entry %d: %w", id, err)
		}
		now := store.Now()
		if _, err := tx.ExecContext(ctx, c.store.Rebind(`UPDATE dlq_entries SET status = ?, replay_count = replay_count + 1, replayed_at = ? WHERE id = ?`),
			StatusReplayed, now, id); err != nil {
			return err
		}
		if e.OrderID != "" {
			if err := c.store.AppendTrail(ctx, tx, store.TrailEntry{OrderID: e.OrderID, Stage: store.StageReplayed,
				Topic: router.ReplayTopic(e.Handler), Handler: e.Handler, MessageUUID: msg.UUID, CorrelationID: e.CorrelationID,
				Detail: fmt.Sprintf("DLQ entry %d replayed to %s", id, e.Handler)}); err != nil {
				return err
			}
		}
		e.Status, e.ReplayCount, e.ReplayedAt = StatusReplayed, e.ReplayCount+1, &now
		out = e
		return nil
	})
	return out, err
}

// Discard closes an open entry without processing it, recording why.
func (c *Console) Discard(ctx context.Context, id int64, why string) error {
	if strings.TrimSpace(why) == "" {
		return errors.New("say why the entry is discarded (--reason)")
	}
	return c.store.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, c.store.Rebind(`UPDATE dlq_entries SET status = ?, reason = reason || ? WHERE id = ? AND status = ?`),
			StatusDiscarded, " [discarded: "+why+"]", id, StatusOpen)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := c.Get(ctx, id); err != nil {
				return err
			}
			return fmt.Errorf("DLQ entry %d: %w", id, ErrNotOpen)
		}
		return nil
	})
}

// Resolve closes the open entry of messageUUID under handler as discarded, with
// why appended to its reason, when what it parked turned out done without a
// replay (a partner's late receipt for a parked delivery). It reports whether an
// open entry was closed: false when there is none (never parked, not stored
// yet, or already replayed or discarded).
func (c *Console) Resolve(ctx context.Context, handler, messageUUID, why string) (bool, error) {
	res, err := c.store.DB().ExecContext(ctx, c.store.Rebind(`UPDATE dlq_entries SET status = ?, reason = reason || ? WHERE handler = ? AND message_uuid = ? AND status = ?`),
		StatusDiscarded, " [resolved: "+why+"]", handler, messageUUID, StatusOpen)
	if err != nil {
		return false, fmt.Errorf("resolving the DLQ entry of %s in %s: %w", messageUUID, handler, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
