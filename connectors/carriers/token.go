package carriers

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Token is an OAuth access token and when it stops working.
type Token struct {
	Value  string
	Expiry time.Time
}

// TokenCache holds one account's token: it fetches on first use, refreshes before
// expiry, and lets only one fetch run at a time however many callers wait (single
// flight). The zero value is not usable: set Fetch.
type TokenCache struct {
	// Fetch gets a new token from the carrier.
	Fetch func(ctx context.Context) (Token, error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu    sync.Mutex
	tok   Token
	group singleflight.Group
}

// refreshBefore is how long before expiry a token is replaced: a tenth of its life,
// between 10 seconds and 5 minutes.
func refreshBefore(life time.Duration) time.Duration {
	d := life / 10
	if d < 10*time.Second {
		d = 10 * time.Second
	}
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	return d
}

func (c *TokenCache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Get returns a token valid for a while yet, fetching one if needed. The fetch is not
// cancelled when one waiting caller's ctx ends: the others still want it.
func (c *TokenCache) Get(ctx context.Context) (string, error) {
	c.mu.Lock()
	tok := c.tok
	c.mu.Unlock()
	if tok.Value != "" && c.now().Before(tok.Expiry) {
		return tok.Value, nil
	}
	ch := c.group.DoChan("token", func() (any, error) {
		// A fetch that finished between our look and this one may have left a
		// good token: use it rather than fetch twice.
		c.mu.Lock()
		cur := c.tok
		c.mu.Unlock()
		if cur.Value != "" && c.now().Before(cur.Expiry) {
			return cur.Value, nil
		}
		t, err := c.Fetch(context.WithoutCancel(ctx))
		if err != nil {
			return nil, err
		}
		if t.Expiry.IsZero() {
			t.Expiry = c.now().Add(time.Hour)
		}
		// Keep the refresh margin inside Expiry, so Get never hands out a token in
		// its last moments.
		life := t.Expiry.Sub(c.now())
		t.Expiry = t.Expiry.Add(-refreshBefore(life))
		c.mu.Lock()
		c.tok = t
		c.mu.Unlock()
		return t.Value, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Invalidate drops value if it is still the cached token (the carrier refused it), so
// the next Get fetches a new one. A token another caller already replaced is kept.
func (c *TokenCache) Invalidate(value string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tok.Value == value {
		c.tok = Token{}
	}
}

// TokenError is what a client returns for an error from TokenCache.Get: the
// carrier's *Error as it is, anything else (ctx ended while waiting for the fetch,
// which sent nothing of ours) as a Transient *Error for OpToken. err must not be
// nil.
func TokenError(carrier string, err error) *Error {
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	return &Error{Carrier: carrier, Op: OpToken, Class: Transient, Err: err}
}
