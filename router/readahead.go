package router

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/internal/store"
)

// PrepareFunc computes from a message alone what its handler computes first (a
// mapping of the payload, say). It must be pure: no database, no side effects, the
// same result for the same message, safe for concurrent use.
type PrepareFunc func(msg *message.Message) any

// WithPrepare has the router run prepare over the handler's topic ahead of its
// consumer, in a goroutine of its own and outside any transaction; the handler finds
// the result with Tx.Prepared, and computes it itself when it is not there (the
// read-ahead fell behind, the message is a replay, or it was evicted).
//
// A handler runs inside the consumer's write transaction, and on SQLite that
// transaction holds the only write connection: every accept waits while the handler
// maps. Work moved ahead of it is work done on the other core with the writer free.
// On PostgreSQL a consumer's transaction holds no other writer back, and reading each
// message a second time costs the database more than it saves (measured: about 10%
// more CPU per webhook and 15-25% fewer accepted per second), so there the option
// does nothing and the handler prepares inline.
func WithPrepare(prepare PrepareFunc) HandlerOption {
	return func(o *handlerOptions) { o.prepare = prepare }
}

// Prepared is the handler's read-ahead result for the message (see WithPrepare);
// ok is false when there is none and the handler must compute it.
func (t *Tx) Prepared() (v any, ok bool) {
	if t.ahead == nil {
		return nil, false
	}
	v, ok = t.ahead.take(t.in.UUID)
	outcome := "miss"
	if ok {
		outcome = "hit"
	}
	t.router.m.prepared.WithLabelValues(t.handler, outcome).Inc()
	return v, ok
}

// PreparedOr is the handler's read-ahead result for the message (see WithPrepare),
// or compute's when there is none.
func PreparedOr[T any](tx *Tx, compute func() T) T {
	if v, ok := tx.Prepared(); ok {
		if t, ok := v.(T); ok {
			return t
		}
	}
	return compute()
}

// mapping is a mapping's result, or why it failed: what a normalize handler prepares.
type mapping[T any] struct {
	res T
	err error
}

// readAhead prepares a topic's messages ahead of one consumer group.
type readAhead struct {
	store   *store.Store
	topic   string // full name
	group   string
	prepare PrepareFunc
	poll    time.Duration
	keep    int // most results held
	log     *slog.Logger

	mu    sync.Mutex
	ready map[string]preparedMsg // by message UUID
}

type preparedMsg struct {
	offset int64
	v      any
}

// readAheadKeep bounds the results held per handler: a few consumer batches.
const readAheadKeep = 512

func (a *readAhead) take(uuid string) (any, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.ready[uuid]
	if ok {
		delete(a.ready, uuid)
	}
	return p.v, ok
}

func (a *readAhead) held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.ready)
}

// evict drops results of messages at or below the consumer's acked offset: it has
// passed them (handled inline, or skipped).
func (a *readAhead) evict(acked int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for id, p := range a.ready {
		if p.offset <= acked {
			delete(a.ready, id)
		}
	}
}

func (a *readAhead) put(uuid string, offset int64, v any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ready[uuid] = preparedMsg{offset: offset, v: v}
}

// run reads the topic from the consumer's acked offset on, prepares each message and
// holds up to keep results, until ctx ends. Errors only cost hits: the handler then
// prepares inline. An idle topic is looked at less and less often, up to once a
// second.
func (a *readAhead) run(ctx context.Context) {
	var last int64
	idle := a.poll
	wait := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}
	for ctx.Err() == nil {
		acked, err := a.store.AckedOffset(ctx, a.topic, a.group)
		if err != nil {
			// Without the consumer's position a read could start at the topic's
			// oldest message: skip this round.
			if !wait(a.poll) {
				return
			}
			continue
		}
		last = max(last, acked)
		a.evict(acked)
		room := a.keep - a.held()
		if room <= 0 {
			if !wait(a.poll) {
				return
			}
			continue
		}
		rows, err := a.store.MessagesAfter(ctx, a.topic, last, min(room, 100))
		if err != nil {
			if ctx.Err() == nil {
				a.log.Debug("read-ahead could not read its topic; the handler prepares inline", "topic", a.topic, "error", err)
			}
			if !wait(a.poll) {
				return
			}
			continue
		}
		if len(rows) == 0 {
			if !wait(idle) {
				return
			}
			idle = min(2*idle, time.Second)
			continue
		}
		idle = a.poll
		for _, row := range rows {
			if ctx.Err() != nil {
				return
			}
			if v, ok := a.safely(row.Msg); ok {
				a.put(row.Msg.UUID, row.Offset, v)
			}
			last = row.Offset
		}
	}
}

// safely runs prepare; a panic leaves the message to the handler, whose recoverer
// parks it.
func (a *readAhead) safely(msg *message.Message) (v any, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			v, ok = nil, false
		}
	}()
	return a.prepare(msg), true
}
