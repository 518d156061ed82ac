// Package intake is the one durable path by which every adapter accepts a payload from
// outside: the raw payload, its dedupe key and the inbound message are committed in one
// transaction, and only then is the caller told it was accepted (HTTP 202, an ack, an
// MDN, an archived file).
//
// Concurrent accepts are committed together (group commit): a writer goroutine takes
// what is waiting, up to Config.MaxBatch, and commits it in one transaction. Payloads
// that carry no order (webhook bodies, files) are looked up and inserted with one
// statement each for the whole batch; items that carry an order get their order id
// one at a time, each in a savepoint, so one conflict fails alone. Either way the
// batch shares one fsync. A caller returns only after its item's commit.
package intake

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Item is one payload to accept.
type Item struct {
	// Source is the channel (api, csv, shopify, edi, …); the message goes to inbound.<Source>.
	Source string
	// Partner is the partner, shop or store key.
	Partner string
	// IdempotencyKey identifies the payload at its source; accepting the same key again
	// is a duplicate, answered with the first result.
	IdempotencyKey string
	// Payload is what was received, byte for byte (for Order items: the request body).
	Payload     []byte
	ContentType string
	// Order, when set, is the canonical order the payload carries: it gets its stable
	// order id inside the transaction, and the published message is the order with
	// that id and received_at filled in.
	Order *canonical.Order
	// Metadata is added to the inbound message.
	Metadata map[string]string
}

// Result is what the hub committed for an Item.
type Result struct {
	OrderID       string    `json:"order_id,omitempty"`
	MessageUUID   string    `json:"message_uuid"`
	CorrelationID string    `json:"correlation_id"`
	ReceivedAt    time.Time `json:"received_at"`
	// Duplicate is true when the idempotency key had been accepted before; the other
	// fields are those of the first acceptance.
	Duplicate bool `json:"duplicate"`
}

// ErrRaced is returned by Record inside a PostgreSQL transaction at REPEATABLE READ
// (a router consumer's) when another transaction committed the same key after its
// snapshot: the answer (a duplicate, most likely) is known only to a new transaction.
var ErrRaced = errors.New("raced by a concurrent acceptance")

// isSerializationFailure reports a PostgreSQL serialization failure (SQLSTATE 40001).
func isSerializationFailure(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40001"
}

// ErrConflict is returned when an idempotency key is reused for a different payload,
// or an order that was already accepted arrives again under another key.
var ErrConflict = errors.New("conflict")

// ConflictError says what conflicted.
type ConflictError struct {
	Reason  string
	OrderID string
}

func (e *ConflictError) Error() string { return e.Reason }
func (e *ConflictError) Unwrap() error { return ErrConflict }

// Config tunes group commit.
type Config struct {
	// MaxBatch is the most items one transaction commits (default 256).
	MaxBatch int
	// MaxWait is how long the writer waits for more items once it has one (default 0:
	// it takes what is already waiting; under load, the next batch fills while the
	// current one commits).
	MaxWait time.Duration
	// Writers is how many transactions may commit at once (default 1 on SQLite, which
	// has one writer anyway, 4 on PostgreSQL).
	Writers int
	// SpoolDir holds files accepted by AcceptFile that are too large to travel inside
	// a message (default: a "spool" directory in the system's temporary directory).
	SpoolDir string
	// InlineMax is the largest file AcceptFile puts inside the inbound message itself
	// (default 16 MiB); larger files stay in SpoolDir and the message points at them.
	InlineMax int64
}

// Intake accepts payloads durably.
type Intake struct {
	store  *store.Store
	topics router.Topics
	cfg    Config
	log    *slog.Logger
	reqs   chan *request
	wg     sync.WaitGroup
	stop   chan struct{}
	once   sync.Once
	// mu is held for reading while an Accept queues its item and for writing by Close,
	// so that no item is queued after the writers have drained the queue and left.
	mu     sync.RWMutex
	closed bool
}

type request struct {
	item Item
	done chan struct{}
	res  Result
	err  error

	// set by acceptPlain
	hash  string   // RequestHash of the payload
	dupOf *request // the first request of the batch with the same key
	// stored is what the key holds once the first request of the batch with it was
	// answered (the row found, or the one it inserted); the others with the same key
	// are answered from it.
	stored    earlierRow
	hasStored bool
}

// New starts the writers. Close stops them.
func New(st *store.Store, topics router.Topics, cfg Config, logger *slog.Logger) *Intake {
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(os.TempDir(), "paklog-spool")
	}
	if cfg.InlineMax <= 0 {
		cfg.InlineMax = 16 << 20
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Writers <= 0 {
		cfg.Writers = 1
		if st.Dialect() == store.Postgres {
			cfg.Writers = 4
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	in := &Intake{store: st, topics: topics, cfg: cfg, log: logger, reqs: make(chan *request, cfg.MaxBatch*cfg.Writers), stop: make(chan struct{})}
	for range cfg.Writers {
		in.wg.Add(1)
		go in.writer()
	}
	return in
}

// Topics lists the inbound topics Accept may publish to for these sources, so the
// router creates their tables.
func Topics(sources ...string) []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = router.InboundTopic(s)
	}
	return out
}

// Close stops the writers after the items already queued.
func (in *Intake) Close() {
	in.mu.Lock()
	in.closed = true
	in.mu.Unlock()
	in.once.Do(func() { close(in.stop) })
	in.wg.Wait()
}

// ErrClosed is returned by Accept after Close.
var ErrClosed = errors.New("intake is closed")

// Accept commits item and returns once it is durable. If ctx ends first the item may
// still commit; the caller's sender will retry and get a duplicate.
func (in *Intake) Accept(ctx context.Context, item Item) (Result, error) {
	if item.Source == "" || item.IdempotencyKey == "" {
		return Result{}, errors.New("intake: an item needs a source and an idempotency key")
	}
	r := &request{item: item, done: make(chan struct{})}
	in.mu.RLock()
	if in.closed {
		in.mu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case in.reqs <- r:
		in.mu.RUnlock()
	case <-ctx.Done():
		in.mu.RUnlock()
		return Result{}, ctx.Err()
	}
	select {
	case <-r.done:
		return r.res, r.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

func (in *Intake) writer() {
	defer in.wg.Done()
	batch := make([]*request, 0, in.cfg.MaxBatch)
	for {
		batch = batch[:0]
		select {
		case r := <-in.reqs:
			batch = append(batch, r)
		case <-in.stop:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-in.reqs:
					in.commit([]*request{r})
				default:
					return
				}
			}
		}
		var deadline <-chan time.Time
		if in.cfg.MaxWait > 0 {
			deadline = time.After(in.cfg.MaxWait)
		}
	fill:
		for len(batch) < in.cfg.MaxBatch {
			select {
			case r := <-in.reqs:
				batch = append(batch, r)
			default:
				if deadline == nil {
					break fill
				}
				select {
				case r := <-in.reqs:
					batch = append(batch, r)
				case <-deadline:
					break fill
				}
			}
		}
		in.commit(batch)
	}
}

func (in *Intake) commit(batch []*request) {
	ctx := context.Background()
	pending := make(map[string][]*message.Message)
	var order []string
	queue := func(r *request, msg *message.Message) {
		topic := in.topics.Name(router.InboundTopic(r.item.Source))
		if _, seen := pending[topic]; !seen {
			order = append(order, topic)
		}
		pending[topic] = append(pending[topic], msg)
	}
	// Items that carry an order get their order id one at a time, each in a savepoint
	// so that one conflict fails alone; the others (webhook bodies, files) take three
	// statements for the whole batch (acceptPlain).
	var plain []*request
	err := in.store.InTx(ctx, func(tx *sql.Tx) error {
		var ordered []*request
		for _, r := range batch {
			if r.item.Order == nil {
				plain = append(plain, r)
			} else {
				ordered = append(ordered, r)
			}
		}
		if err := in.eachAlone(ctx, tx, ordered, queue); err != nil {
			return err
		}
		if err := in.acceptPlain(ctx, tx, plain, queue); err != nil {
			return err
		}
		if len(order) == 0 {
			return nil
		}
		pub, err := in.store.Publisher(tx)
		if err != nil {
			return err
		}
		for _, topic := range order {
			if err := pub.Publish(topic, pending[topic]...); err != nil {
				return fmt.Errorf("publishing to %s: %w", topic, err)
			}
		}
		return nil
	})
	if err != nil {
		in.log.Error("committing accepted payloads failed; their senders are told to retry", "items", len(batch), "error", err)
		// Nothing of the batch is stored: every item gets this error (including items
		// the transaction never reached, when it could not even begin), in place of a
		// result that did not commit.
		for _, r := range batch {
			if r.err == nil || r.dupOf != nil {
				r.err = fmt.Errorf("committing: %w", err)
			}
		}
	} else {
		// A key that came twice in one batch: the later ones answer as a retry (or a
		// reuse) of the first, as they would have in separate batches.
		for _, r := range plain {
			if f := r.dupOf; f != nil {
				r.res, r.err = againOf(r, f)
			}
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// acceptPlain accepts the items that carry no order in three statements for all of
// them: one lookup of their keys, one insert of the new ones, then the publish (by the
// caller). A key accepted before is a duplicate (or a conflict, if the payload
// differs); a key that another writer commits between the lookup and the insert (on
// PostgreSQL) is looked up again after the insert, which waited for that commit.
//
// Should a statement fail for the whole batch (one item's key PostgreSQL cannot store,
// say: a NUL byte), the batch is rolled back to before it and each item is accepted on
// its own, in a savepoint, so that the bad one fails alone instead of failing every
// sender's retry with it.
func (in *Intake) acceptPlain(ctx context.Context, tx *sql.Tx, reqs []*request, queue func(*request, *message.Message)) error {
	if len(reqs) == 0 {
		return nil
	}
	first := make(map[ingestKey]*request, len(reqs))
	var fresh []*request
	for _, r := range reqs {
		r.hash = RequestHash(r.item.Payload)
		k := keyOf(r.item)
		if f, ok := first[k]; ok {
			r.dupOf = f
			continue
		}
		first[k] = r
		fresh = append(fresh, r)
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT paklog_bulk"); err != nil {
		return err
	}
	accepted, err := in.bulk(ctx, tx, fresh)
	if err == nil {
		for _, r := range accepted {
			queue(r, inboundMessage(r.item, r.res))
		}
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT paklog_bulk")
		return err
	}
	in.log.Warn("accepting a batch in one statement failed; accepting its items one at a time", "items", len(fresh), "error", err)
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT paklog_bulk"); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT paklog_bulk"); err != nil {
		return err
	}
	// One at a time, each key's later requests are answered by the database like the
	// first: as duplicates of what it stored, or conflicts.
	for _, r := range reqs {
		r.res, r.err, r.dupOf, r.hasStored = Result{}, nil, nil, false
	}
	return in.eachAlone(ctx, tx, reqs, queue)
}

// eachAlone accepts reqs one at a time, each in a savepoint, so that one that fails
// (a conflict, a row the database refuses) fails alone.
func (in *Intake) eachAlone(ctx context.Context, tx *sql.Tx, reqs []*request, queue func(*request, *message.Message)) error {
	for _, r := range reqs {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT paklog_item"); err != nil {
			return err
		}
		msg, res, err := Record(ctx, in.store, tx, r.item)
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT paklog_item"); rbErr != nil {
				return rbErr
			}
			r.err = err
		} else {
			r.res = res
			if msg != nil {
				queue(r, msg)
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT paklog_item"); err != nil {
			return err
		}
	}
	return nil
}

// bulk looks up and inserts fresh (distinct keys) in a statement or two each, setting
// every request's answer, and returns those newly accepted, whose messages are to be
// published. An error means the statements failed as a whole.
func (in *Intake) bulk(ctx context.Context, tx *sql.Tx, fresh []*request) ([]*request, error) {
	settled := make(map[*request]bool, len(fresh))
	for lo := 0; lo < len(fresh); lo += lookupChunk {
		chunk := fresh[lo:min(lo+lookupChunk, len(fresh))]
		prev, err := in.lookup(ctx, tx, chunk)
		if err != nil {
			return nil, err
		}
		for _, r := range chunk {
			if p, ok := prev[keyOf(r.item)]; ok {
				r.res, r.err = p.answer(r)
				r.stored, r.hasStored = p, true
				settled[r] = true
			}
		}
	}
	var todo []*request
	for _, r := range fresh {
		if !settled[r] {
			todo = append(todo, r)
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
	// Rows go in key order, so two writers inserting overlapping keys lock them in the
	// same order instead of deadlocking.
	slices.SortFunc(todo, func(a, b *request) int { return keyOf(a.item).compare(keyOf(b.item)) })
	now := store.Now()
	for _, r := range todo {
		r.res = Result{MessageUUID: watermill.NewUUID(), CorrelationID: watermill.NewULID(), ReceivedAt: now}
	}
	inserted := make(map[ingestKey]bool, len(todo))
	for lo := 0; lo < len(todo); lo += insertChunk {
		chunk := todo[lo:min(lo+insertChunk, len(todo))]
		var q strings.Builder
		q.WriteString(`INSERT INTO ingest
			(source, partner, idempotency_key, request_hash, message_uuid, correlation_id, order_id, content_type, payload, received_at) VALUES `)
		args := make([]any, 0, 10*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, '', ?, ?, ?)")
			args = append(args, r.item.Source, r.item.Partner, r.item.IdempotencyKey, r.hash, r.res.MessageUUID, r.res.CorrelationID,
				r.item.ContentType, r.item.Payload, now)
		}
		q.WriteString(` ON CONFLICT (source, partner, idempotency_key) DO NOTHING RETURNING source, partner, idempotency_key`)
		if err := in.inserted(ctx, tx, q.String(), args, inserted); err != nil {
			return nil, err
		}
	}
	var accepted, raced []*request
	for _, r := range todo {
		if inserted[keyOf(r.item)] {
			r.stored, r.hasStored = earlierRow{hash: r.hash, res: r.res}, true
			accepted = append(accepted, r)
		} else {
			raced = append(raced, r)
		}
	}
	if len(raced) == 0 {
		return accepted, nil
	}
	prev, err := in.lookup(ctx, tx, raced)
	if err != nil {
		return nil, err
	}
	for _, r := range raced {
		p, ok := prev[keyOf(r.item)]
		if !ok {
			r.res, r.err = Result{}, fmt.Errorf("recording the accepted payload: idempotency key %q was taken concurrently", r.item.IdempotencyKey)
			continue
		}
		r.res, r.err = p.answer(r)
		r.stored, r.hasStored = p, true
	}
	return accepted, nil
}

// inserted runs an INSERT … RETURNING of ingest keys and adds the keys to into.
func (in *Intake) inserted(ctx context.Context, tx *sql.Tx, q string, args []any, into map[ingestKey]bool) error {
	rows, err := tx.QueryContext(ctx, in.store.Rebind(q), args...)
	if err != nil {
		return fmt.Errorf("recording the accepted payloads: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k ingestKey
		if err := rows.Scan(&k.source, &k.partner, &k.key); err != nil {
			return fmt.Errorf("recording the accepted payloads: %w", err)
		}
		into[k] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("recording the accepted payloads: %w", err)
	}
	return nil
}

// Statement sizes: rows per lookup and per insert (10 parameters a row; SQLite allows
// 32,766 parameters, PostgreSQL 65,535).
const (
	lookupChunk = 500
	insertChunk = 500
)

// ingestKey is an ingest row's dedupe key.
type ingestKey struct{ source, partner, key string }

func keyOf(it Item) ingestKey { return ingestKey{it.Source, it.Partner, it.IdempotencyKey} }

func (k ingestKey) compare(o ingestKey) int {
	if c := strings.Compare(k.source, o.source); c != 0 {
		return c
	}
	if c := strings.Compare(k.partner, o.partner); c != 0 {
		return c
	}
	return strings.Compare(k.key, o.key)
}

// earlierRow is what the hub committed for a key before.
type earlierRow struct {
	hash string
	res  Result
}

// answer is the answer to r, whose key was accepted before as p: the first result as
// a duplicate, or a conflict if the payload differs.
func (p earlierRow) answer(r *request) (Result, error) {
	if p.hash != r.hash {
		return Result{}, reusedKey(r.item.IdempotencyKey, p.res)
	}
	res := p.res
	res.Duplicate = true
	return res, nil
}

func reusedKey(key string, prev Result) error {
	return &ConflictError{
		Reason:  fmt.Sprintf("idempotency key %q was used before for a different payload (accepted at %s); use a new key for a new payload", key, prev.ReceivedAt.UTC().Format(time.RFC3339)),
		OrderID: prev.OrderID,
	}
}

// againOf answers r, whose key came earlier in the same batch as f: from the row
// the key holds (f's own, or one stored before f, which f may have conflicted with).
func againOf(r, f *request) (Result, error) {
	if !f.hasStored {
		return Result{}, f.err
	}
	return f.stored.answer(r)
}

// lookup reads the ingest rows of reqs' keys, in one statement.
func (in *Intake) lookup(ctx context.Context, tx *sql.Tx, reqs []*request) (map[ingestKey]earlierRow, error) {
	var q strings.Builder
	q.WriteString(`SELECT source, partner, idempotency_key, request_hash, message_uuid, correlation_id, order_id, received_at FROM ingest
		WHERE (source, partner, idempotency_key) IN (VALUES `)
	args := make([]any, 0, 3*len(reqs))
	for i, r := range reqs {
		if i > 0 {
			q.WriteByte(',')
		}
		q.WriteString("(?, ?, ?)")
		args = append(args, r.item.Source, r.item.Partner, r.item.IdempotencyKey)
	}
	q.WriteByte(')')
	rows, err := tx.QueryContext(ctx, in.store.Rebind(q.String()), args...)
	if err != nil {
		return nil, fmt.Errorf("looking up idempotency keys: %w", err)
	}
	defer rows.Close()
	out := make(map[ingestKey]earlierRow)
	for rows.Next() {
		var k ingestKey
		var p earlierRow
		if err := rows.Scan(&k.source, &k.partner, &k.key, &p.hash, &p.res.MessageUUID, &p.res.CorrelationID, &p.res.OrderID, &p.res.ReceivedAt); err != nil {
			return nil, fmt.Errorf("looking up idempotency keys: %w", err)
		}
		p.res.ReceivedAt = p.res.ReceivedAt.UTC()
		out[k] = p
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("looking up idempotency keys: %w", err)
	}
	return out, nil
}

// inboundMessage is the inbound message of an accepted item.
func inboundMessage(item Item, res Result) *message.Message {
	msg := message.NewMessage(res.MessageUUID, nil)
	for k, v := range item.Metadata {
		msg.Metadata.Set(k, v)
	}
	msg.Metadata.Set(router.MetaCorrelationID, res.CorrelationID)
	msg.Metadata.Set(router.MetaSource, item.Source)
	msg.Metadata.Set(router.MetaPartner, item.Partner)
	msg.Metadata.Set(router.MetaIdempotencyKey, item.Source+":"+item.Partner+":"+item.IdempotencyKey)
	msg.Payload = item.Payload
	return msg
}

// RequestHash is the hash the hub keeps of an accepted payload, to tell a retry (same
// key, same payload) from a reused key (same key, other payload).
func RequestHash(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// Record accepts item inside tx, a write transaction the caller holds (a router
// handler's, which cannot wait for the intake's writers: on SQLite it holds the only
// write connection). It returns the inbound message for the caller to publish in the
// same transaction to router.InboundTopic(item.Source), or nil and the first result
// for a duplicate, or a *ConflictError. The caller needs a savepoint around it if a
// failure must not end its transaction.
func Record(ctx context.Context, st *store.Store, tx *sql.Tx, item Item) (*message.Message, Result, error) {
	if item.Source == "" || item.IdempotencyKey == "" {
		return nil, Result{}, errors.New("intake: an item needs a source and an idempotency key")
	}
	hash := RequestHash(item.Payload)
	now := store.Now()
	res := Result{MessageUUID: watermill.NewUUID(), CorrelationID: watermill.NewULID(), ReceivedAt: now}

	// earlier answers for a key accepted before: the first result (a duplicate), or a
	// conflict if the payload differs. found is false for a new key.
	earlier := func() (prev Result, found bool, err error) {
		var prevHash string
		err = tx.QueryRowContext(ctx, st.Rebind(`SELECT request_hash, message_uuid, correlation_id, order_id, received_at FROM ingest
			WHERE source = ? AND partner = ? AND idempotency_key = ?`), item.Source, item.Partner, item.IdempotencyKey).
			Scan(&prevHash, &prev.MessageUUID, &prev.CorrelationID, &prev.OrderID, &prev.ReceivedAt)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return Result{}, false, nil
		case err != nil:
			return Result{}, false, fmt.Errorf("looking up idempotency key: %w", err)
		case prevHash != hash:
			return Result{}, true, reusedKey(item.IdempotencyKey, prev)
		}
		prev.ReceivedAt = prev.ReceivedAt.UTC()
		prev.Duplicate = true
		return prev, true, nil
	}
	if prev, found, err := earlier(); found || err != nil {
		return nil, prev, err
	}

	payload := item.Payload
	if item.Order != nil {
		o := *item.Order
		ref := store.OrderRef{Channel: string(o.Source.Channel), Partner: o.Source.Partner, ExternalID: o.Source.ExternalID}
		id, existed, err := st.OrderID(ctx, tx, ref, canonical.NewOrderID())
		if err != nil {
			return nil, Result{}, err
		}
		if existed {
			// On PostgreSQL another writer may just have committed this same key (a
			// sender's retry racing its first attempt): a duplicate, not a conflict.
			// The insert above waited for that commit, so a new lookup sees it.
			if prev, found, err := earlier(); found || err != nil {
				return nil, prev, err
			}
			return nil, Result{}, &ConflictError{
				Reason: fmt.Sprintf("order %s/%s/%s was already accepted as %s under another idempotency key; changes to an accepted order are not taken here",
					ref.Channel, ref.Partner, ref.ExternalID, id),
				OrderID: id,
			}
		}
		o.OrderID = id
		o.Source.ReceivedAt = now
		res.OrderID = id
		if payload, err = o.MarshalJSON(); err != nil {
			return nil, Result{}, fmt.Errorf("encoding order %s: %w", id, err)
		}
	}

	ins, err := tx.ExecContext(ctx, st.Rebind(`INSERT INTO ingest
		(source, partner, idempotency_key, request_hash, message_uuid, correlation_id, order_id, content_type, payload, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, partner, idempotency_key) DO NOTHING`),
		item.Source, item.Partner, item.IdempotencyKey, hash, res.MessageUUID, res.CorrelationID, res.OrderID,
		item.ContentType, item.Payload, now)
	if err != nil {
		if isSerializationFailure(err) {
			return nil, Result{}, fmt.Errorf("%w: idempotency key %q was accepted by another transaction after this one's snapshot; try again in a new transaction: %w", ErrRaced, item.IdempotencyKey, err)
		}
		return nil, Result{}, fmt.Errorf("recording the accepted payload: %w", err)
	}
	if n, err := ins.RowsAffected(); err != nil || n != 1 {
		// Another writer committed this key since the lookup (PostgreSQL).
		if prev, found, err := earlier(); found || err != nil {
			return nil, prev, err
		}
		return nil, Result{}, fmt.Errorf("recording the accepted payload: idempotency key %q was taken concurrently", item.IdempotencyKey)
	}

	msg := inboundMessage(item, res)
	msg.Payload = payload
	if item.Order != nil {
		msg.Metadata.Set(router.MetaSchema, canonical.SchemaOrder)
		msg.Metadata.Set(router.MetaOrderID, res.OrderID)
		if err := st.AppendTrail(ctx, tx, store.TrailEntry{
			OrderID: res.OrderID, Stage: store.StageAccepted, Topic: router.InboundTopic(item.Source),
			MessageUUID: res.MessageUUID, CorrelationID: res.CorrelationID,
			Detail: "accepted from " + item.Source + " (" + strconv.Itoa(len(item.Payload)) + " bytes)",
		}); err != nil {
			return nil, Result{}, err
		}
	}
	return msg, res, nil
}
