package usps

import (
	"context"
	"sync"
	"time"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// tokenSource is a carriers.TokenCache whose fetch first looks at the token it
// fetched last. TokenCache reads its token and then joins a single flight; a caller
// that read the empty cache just before another caller's flight stored the new
// token would start a second flight and fetch a second token. Here that second
// flight returns the token just fetched instead.
type tokenSource struct {
	cache *carriers.TokenCache
	fetch func(context.Context) (carriers.Token, error)
	now   func() time.Time

	mu      sync.Mutex
	last    carriers.Token
	fetched time.Time
}

func newTokenSource(fetch func(context.Context) (carriers.Token, error), now func() time.Time) *tokenSource {
	s := &tokenSource{fetch: fetch, now: now}
	s.cache = &carriers.TokenCache{Fetch: s.fetchOnce, Now: now}
	return s
}

// Get returns a valid token, fetching one if needed (see carriers.TokenCache.Get).
func (s *tokenSource) Get(ctx context.Context) (string, error) { return s.cache.Get(ctx) }

// Invalidate drops value: the carrier refused it.
func (s *tokenSource) Invalidate(value string) {
	s.cache.Invalidate(value)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last.Value == value {
		s.last = carriers.Token{}
	}
}

func (s *tokenSource) fetchOnce(ctx context.Context) (carriers.Token, error) {
	s.mu.Lock()
	last, fetched := s.last, s.fetched
	s.mu.Unlock()
	// Still usable by TokenCache's own rule (its refresh margin: a tenth of the
	// life, 10 s to 5 min)?
	if last.Value != "" {
		life := last.Expiry.Sub(fetched)
		margin := min(max(life/10, 10*time.Second), 5*time.Minute)
		if s.now().Before(last.Expiry.Add(-margin)) {
			return last, nil
		}
	}
	t, err := s.fetch(ctx)
	if err != nil {
		return t, err
	}
	s.mu.Lock()
	s.last, s.fetched = t, s.now()
	s.mu.Unlock()
	return t, nil
}
