// Package intaketest has an in-memory stand-in for the intake, for tests of adapters
// that accept payloads.
package intaketest

import (
	"bytes"
	"context"
	"sync"

	"github.com/paklog/integration-hub/internal/intake"
)

// Memory behaves like the intake: the first item under a (partner, key) is
// committed, the same key again is a duplicate, and with other content a conflict.
// The zero value is ready to use.
type Memory struct {
	mu    sync.Mutex
	err   error
	calls []intake.Item
	items map[string]intake.Item
}

// Fail makes every later Accept fail with err (nil: succeed again), as a database
// that is down.
func (m *Memory) Fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.err = err
}

// Accept records it and answers as the intake would.
func (m *Memory) Accept(_ context.Context, it intake.Item) (intake.Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, it)
	if m.err != nil {
		return intake.Result{}, m.err
	}
	if m.items == nil {
		m.items = map[string]intake.Item{}
	}
	k := it.Partner + "|" + it.IdempotencyKey
	if prev, ok := m.items[k]; ok {
		if !bytes.Equal(prev.Payload, it.Payload) {
			return intake.Result{}, &intake.ConflictError{Reason: "idempotency key reused for a different payload"}
		}
		return intake.Result{MessageUUID: "m-1", Duplicate: true}, nil
	}
	m.items[k] = it
	return intake.Result{MessageUUID: "m-1"}, nil
}

// Calls is every item Accept was given, in order.
func (m *Memory) Calls() []intake.Item {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]intake.Item(nil), m.calls...)
}

// Accepted is every call answered with success (new or duplicate), in order.
func (m *Memory) Accepted() []intake.Item {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []intake.Item
	for _, c := range m.calls {
		if it, ok := m.items[c.Partner+"|"+c.IdempotencyKey]; ok && bytes.Equal(it.Payload, c.Payload) {
			out = append(out, c)
		}
	}
	return out
}

// Distinct is how many items were committed.
func (m *Memory) Distinct() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}
