package as2

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
)

// Pending is a message sent with a request for an asynchronous MDN that has not
// been answered yet.
type Pending struct {
	MessageID string     // as sent, with angle brackets
	Partner   string     // the partner's AS2 id (the MDN's AS2-From)
	MIC       edias2.MIC // the MIC we computed, to compare with Received-Content-MIC
	SentAt    time.Time
	Deadline  time.Time // SentAt + Profile.AsyncMDNTimeout
}

// PendingStore keeps the sends that await an asynchronous MDN. Records are keyed
// by partner AS2 id and Message-ID, so that one partner's MDN can never settle
// another partner's message. Implementations must be safe for concurrent use;
// cancelling ctx abandons the call.
type PendingStore interface {
	// Save records p, replacing the record of an earlier send of the same
	// partner and Message-ID (a resend). It returns once the record is
	// durable: Send saves before it POSTs, so the MDN cannot arrive first.
	Save(ctx context.Context, p Pending) error
	// Match removes and returns the record for partner and messageID, or
	// returns an error wrapping ErrUnknownMessage. It is a claim: of two
	// concurrent calls for one record, exactly one gets it.
	Match(ctx context.Context, partner, messageID string) (Pending, error)
	// Peek returns the record Match would claim for partner and messageID,
	// without claiming it, or an error wrapping ErrUnknownMessage.
	Peek(ctx context.Context, partner, messageID string) (Pending, error)
	// Expired returns the records whose Deadline is before now, earliest
	// deadline first, without removing them. Settle each by claiming it with
	// Match: ErrUnknownMessage then means its MDN arrived in the meantime.
	Expired(ctx context.Context, now time.Time) ([]Pending, error)
}

// MemoryPending is a PendingStore in memory, for tests and single-process trials:
// what it holds is lost on restart, and MDNs arriving after a restart are then
// refused as unknown.
type MemoryPending struct {
	mu sync.Mutex
	m  map[[2]string]Pending
}

// NewMemoryPending returns an empty MemoryPending.
func NewMemoryPending() *MemoryPending { return &MemoryPending{m: map[[2]string]Pending{}} }

// Save implements PendingStore.
func (s *MemoryPending) Save(ctx context.Context, p Pending) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.MIC.Value = append([]byte(nil), p.MIC.Value...)
	s.m[[2]string{p.Partner, p.MessageID}] = p
	return nil
}

// Match implements PendingStore.
func (s *MemoryPending) Match(ctx context.Context, partner, messageID string) (Pending, error) {
	if err := ctx.Err(); err != nil {
		return Pending{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{partner, messageID}
	p, ok := s.m[k]
	if !ok {
		return Pending{}, fmt.Errorf("partner %q, message %s: %w", partner, messageID, ErrUnknownMessage)
	}
	delete(s.m, k)
	return p, nil
}

// Peek implements PendingStore.
func (s *MemoryPending) Peek(ctx context.Context, partner, messageID string) (Pending, error) {
	if err := ctx.Err(); err != nil {
		return Pending{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.m[[2]string{partner, messageID}]
	if !ok {
		return Pending{}, fmt.Errorf("partner %q, message %s: %w", partner, messageID, ErrUnknownMessage)
	}
	return p, nil
}

// Expired implements PendingStore.
func (s *MemoryPending) Expired(ctx context.Context, now time.Time) ([]Pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Pending
	for _, p := range s.m {
		if p.Deadline.Before(now) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Pending) int {
		return cmp.Or(a.Deadline.Compare(b.Deadline), cmp.Compare(a.MessageID, b.MessageID))
	})
	return out, nil
}

// Len is the number of sends awaiting an MDN.
func (s *MemoryPending) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
