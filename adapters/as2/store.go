package as2

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"
)

// ErrNotFound is returned by MDNStore.Get when no MDN is kept for a partner and
// Message-ID.
var ErrNotFound = errors.New("no MDN stored for this message")

// ErrLeased is returned by MDNStore.Claim when another delivery holds a live
// lease on the MDN: it is being sent already, and must not be sent twice.
var ErrLeased = errors.New("the MDN is being delivered by another receiver")

// ErrLeaseLost is returned by MDNStore.Record when the caller no longer holds the
// MDN's lease: it ran out and another receiver took the delivery over.
var ErrLeaseLost = errors.New("the MDN's delivery lease was lost to another receiver")

// Status is where the delivery of a kept MDN stands.
type Status string

// Delivery statuses.
const (
	// StatusPending: an asynchronous MDN not yet delivered (attempts under way, or
	// interrupted by Close or a crash; Receiver.Resume takes it over once no live
	// lease holds it).
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
	// LeaseOwner and LeaseUntil name the delivery that is sending an asynchronous
	// MDN and until when it owns it. A StatusPending MDN with no lease, or one
	// that has run out (its receiver stopped or crashed), is taken over by
	// Receiver.Resume of any receiver on the same store. Empty and zero when no
	// delivery is under way.
	LeaseOwner string
	LeaseUntil time.Time
}

// leased reports whether a delivery holds m at now.
func (m StoredMDN) leased(now time.Time) bool {
	return m.LeaseOwner != "" && !m.LeaseUntil.Before(now)
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
	// Claim leases the MDN kept for partner and messageID to owner until until,
	// whatever its Status, unless another live lease holds it (an error wrapping
	// ErrLeased), and returns it with the lease set; an error wrapping ErrNotFound
	// when none is kept. Of concurrent claims at most one succeeds.
	Claim(ctx context.Context, partner, messageID, owner string, until time.Time) (*StoredMDN, error)
	// ClaimPending leases to owner, until until, at most limit asynchronous MDNs
	// whose Status is StatusPending and that no live lease holds (never leased,
	// or the lease ran out), least recently updated first, and returns them with
	// the lease set. Each MDN goes to at most one of concurrent callers, also
	// across processes sharing the store.
	ClaimPending(ctx context.Context, owner string, until time.Time, limit int) ([]StoredMDN, error)
	// Record writes the delivery state of m (Status, Attempts, LastError, Async,
	// URL) and its lease (m.LeaseOwner and m.LeaseUntil; empty and zero release
	// it), provided owner still holds the lease of m.Partner and m.MessageID.
	// Otherwise it writes nothing and returns an error wrapping ErrLeaseLost.
	Record(ctx context.Context, m StoredMDN, owner string) error
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

// Claim implements MDNStore.
func (s *MemoryStore) Claim(ctx context.Context, partner, messageID, owner string, until time.Time) (*StoredMDN, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{partner, messageID}
	m, ok := s.m[k]
	switch {
	case !ok:
		return nil, fmt.Errorf("partner %q, message %s: %w", partner, messageID, ErrNotFound)
	case m.leased(time.Now()) && m.LeaseOwner != owner:
		return nil, fmt.Errorf("partner %q, message %s, leased until %s: %w", partner, messageID, m.LeaseUntil.Format(time.RFC3339), ErrLeased)
	}
	m.LeaseOwner, m.LeaseUntil = owner, until
	s.m[k] = m
	m = m.clone()
	return &m, nil
}

// ClaimPending implements MDNStore.
func (s *MemoryStore) ClaimPending(ctx context.Context, owner string, until time.Time, limit int) ([]StoredMDN, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var keys [][2]string
	for k, m := range s.m {
		if m.Async && m.Status == StatusPending && !m.leased(now) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b [2]string) int { return s.m[a].UpdatedAt.Compare(s.m[b].UpdatedAt) })
	var out []StoredMDN
	for _, k := range keys[:min(len(keys), limit)] {
		m := s.m[k]
		m.LeaseOwner, m.LeaseUntil = owner, until
		s.m[k] = m
		out = append(out, m.clone())
	}
	return out, nil
}

// Record implements MDNStore.
func (s *MemoryStore) Record(ctx context.Context, m StoredMDN, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{m.Partner, m.MessageID}
	cur, ok := s.m[k]
	if !ok || cur.LeaseOwner != owner {
		return fmt.Errorf("partner %q, message %s: %w", m.Partner, m.MessageID, ErrLeaseLost)
	}
	cur.Status, cur.Attempts, cur.LastError, cur.Async, cur.URL = m.Status, m.Attempts, m.LastError, m.Async, m.URL
	cur.LeaseOwner, cur.LeaseUntil, cur.UpdatedAt = m.LeaseOwner, m.LeaseUntil, time.Now().UTC()
	s.m[k] = cur
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
