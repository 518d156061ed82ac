package carriers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many callers at once share one fetch; the token is replaced before it expires;
// a refused token is fetched again; a failed fetch is not cached.
func TestTokenCache(t *testing.T) {
	var fetches atomic.Int32
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	fail := false
	c := &TokenCache{Now: clock, Fetch: func(context.Context) (Token, error) {
		n := fetches.Add(1)
		time.Sleep(10 * time.Millisecond)
		if fail {
			return Token{}, errors.New("refused")
		}
		return Token{Value: string(rune('A' + n - 1)), Expiry: clock().Add(time.Hour)}, nil
	}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if tok, err := c.Get(context.Background()); err != nil || tok != "A" {
				t.Errorf("Get = %q, %v", tok, err)
			}
		})
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for 50 concurrent callers, want 1", n)
	}
	mu.Lock()
	now = now.Add(55*time.Minute + time.Second) // inside the 5-minute refresh margin
	mu.Unlock()
	if tok, _ := c.Get(context.Background()); tok != "B" {
		t.Fatalf("token near expiry not replaced: %q", tok)
	}
	c.Invalidate("A") // an old value: kept
	if tok, _ := c.Get(context.Background()); tok != "B" || fetches.Load() != 2 {
		t.Fatalf("invalidating a replaced token refetched: %q after %d fetches", tok, fetches.Load())
	}
	c.Invalidate("B")
	fail = true
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("a failed fetch returned a token")
	}
	fail = false
	if tok, _ := c.Get(context.Background()); tok != "D" {
		t.Fatalf("after a failed fetch got %q, want a fresh token", tok)
	}
}

func TestTokenError(t *testing.T) {
	carrierErr := &Error{Carrier: UPS, Op: OpToken, Class: Permanent, Status: 401}
	for _, tc := range []struct {
		name      string
		in        error
		wantClass Class
		same      bool
	}{
		{"carrier error kept", carrierErr, Permanent, true},
		{"wrapped carrier error unwrapped", errors.Join(errors.New("outer"), carrierErr), Permanent, true},
		{"ctx ended", errors.New("context canceled"), Transient, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TokenError(FedEx, tc.in)
			if got.Class != tc.wantClass || (got == carrierErr) != tc.same {
				t.Fatalf("TokenError(%v) = %+v", tc.in, got)
			}
			if !tc.same && (got.Carrier != FedEx || got.Op != OpToken || !errors.Is(got, tc.in)) {
				t.Errorf("TokenError(%v) = %+v, want a FedEx token error wrapping it", tc.in, got)
			}
		})
	}
}
