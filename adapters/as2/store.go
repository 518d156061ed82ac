package as2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"sync"
	"time"
)

// ErrNotFound is returned by MDNStore.Get when no MDN is kept for a partner and
// Message-ID.
var ErrNotFound = errors.New("no MDN stored for this message")

// Status is where the delivery of a kept MDN stands.
type Status string

// Delivery statuses.
const (
	// StatusPending: an asynchronous MDN not yet delivered (attempts under way, or
	// interrupted by Close; the wiring may resume it).
	StatusPending Status = "pending"
	// StatusSent: returned in the HTTP response (synchronous) or POSTed and
	// answered 2xx (asynchronous).
	StatusSent Status = "sent"
	// StatusFailed: every asynchronous attempt failed, or the receipt URL refused it
	// for good; LastError says why.
	StatusFailed Status = "failed"
	// StatusNotSent: kept but never sent, because no answer could carry it: a
	// message accepted by a DLQ replay after it had been refused with a
	// synchronous MDN. The partner gets it when it resends the Message-ID.
	StatusNotSent Status = "not-sent"
)

// StoredMDN is a receipt we sent, kept byte for byte: it proves what we told the
// partner (non-repudiation of receipt) and answers a resent Message-ID with the
// original MDN. Only "processed" MDNs are kept; negative ones are logged.
type StoredMDN struct {
	Partner      string // the hub's partner key (Item.Partner)
	MessageID    string // the Message-ID of the message the MDN answers, with <>
	MDNMessageID string // the MDN's own Message-ID
	Disposition  string // the Disposition field, e.g. "automatic-action/MDN-sent-automatically; processed"
	MIC          string // Received-Content-MIC as sent; empty if none
	Header       http.Header
	Body         []byte
	Async        bool   // delivered by POST to URL rather than in the response
	URL          string // Receipt-Delivery-Option, when Async
	Status       Status
	Attempts     int    // asynchronous delivery attempts made
	LastError    string // the last asynchronous delivery error
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

func (m StoredMDN) clone() StoredMDN {
	m.Header = m.Header.Clone()
	m.Body = append([]byte(nil), m.Body...)
	return m
}

// MDNStore keeps the MDNs we sent. Implementations must be safe for concurrent use.
type MDNStore interface {
	// Get returns the MDN kept for partner and messageID (the original message's
	// Message-ID, with angle brackets), or an error wrapping ErrNotFound. The
	// returned value is the caller's to modify. Cancelling ctx abandons the lookup.
	Get(ctx context.Context, partner, messageID string) (*StoredMDN, error)
	// Put creates or replaces the MDN kept for m.Partner and m.MessageID. It returns
	// once the record is durable. Cancelling ctx abandons the write; the record may
	// or may not be written.
	Put(ctx context.Context, m StoredMDN) error
}

// MemoryStore is an MDNStore in memory, for tests and single-process trials: its
// receipts are lost on restart, so a resent Message-ID after a restart gets a new
// MDN (the intake still refuses the second order).
type MemoryStore struct {
	mu sync.Mutex
	m  map[[2]string]StoredMDN
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{m: map[[2]string]StoredMDN{}} }

// Get implements MDNStore.
func (s *MemoryStore) Get(ctx context.Context, partner, messageID string) (*StoredMDN, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.m[[2]string{partner, messageID}]
	if !ok {
		return nil, fmt.Errorf("partner %q, message %s: %w", partner, messageID, ErrNotFound)
	}
	m = m.clone()
	return &m, nil
}

// Put implements MDNStore.
func (s *MemoryStore) Put(ctx context.Context, m StoredMDN) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[[2]string{m.Partner, m.MessageID}] = m.clone()
	return nil
}

// All returns a copy of every kept MDN, for tests and inspection.
func (s *MemoryStore) All() []StoredMDN {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredMDN, 0, len(s.m))
	for v := range maps.Values(s.m) {
		out = append(out, v.clone())
	}
	return out
}
