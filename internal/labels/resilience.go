package labels

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker"

	"github.com/paklog/integration-hub/connectors/carriers"
)

// BreakerConfig sets when a carrier's breaker opens and for how long.
type BreakerConfig struct {
	// MinRequests is how many calls a window needs before its failure ratio counts
	// (default 5).
	MinRequests uint32
	// FailureRatio opens the breaker (default 0.5).
	FailureRatio float64
	// Window is how long a closed breaker counts before starting over (default 60s).
	Window time.Duration
	// OpenFor is how long an open breaker refuses calls before one probe (default 30s).
	OpenFor time.Duration
}

func (c *BreakerConfig) setDefaults() {
	if c.MinRequests == 0 {
		c.MinRequests = 5
	}
	if c.FailureRatio <= 0 || c.FailureRatio > 1 {
		c.FailureRatio = 0.5
	}
	if c.Window <= 0 {
		c.Window = time.Minute
	}
	if c.OpenFor <= 0 {
		c.OpenFor = 30 * time.Second
	}
}

// RetryConfig bounds the retries of one carrier call.
type RetryConfig struct {
	// Attempts is the most calls, the first included (default 3).
	Attempts int
	// Initial and Max bound the exponential wait; each wait is drawn uniformly from
	// zero to the exponential value (full jitter). Defaults 200ms and 2s.
	Initial, Max time.Duration
	// Budget is the longest the retries of one call may take, waits included
	// (default 8s): a carrier that asks to wait longer (Retry-After) is given up on
	// for this shipment, which falls back to the next carrier.
	Budget time.Duration
}

func (c *RetryConfig) setDefaults() {
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Initial <= 0 {
		c.Initial = 200 * time.Millisecond
	}
	if c.Max <= 0 {
		c.Max = 2 * time.Second
	}
	if c.Budget <= 0 {
		c.Budget = 8 * time.Second
	}
}

// BreakerOpenError is returned instead of calling a carrier whose breaker is open
// (or half-open with its probe already out).
type BreakerOpenError struct {
	Account string
	Op      carriers.Op
	Err     error
}

func (e *BreakerOpenError) Error() string {
	return fmt.Sprintf("%s %s: circuit breaker open, carrier not called: %v", e.Account, e.Op, e.Err)
}

func (e *BreakerOpenError) Unwrap() error { return e.Err }

// breakers holds one gobreaker per account × operation.
type breakers struct {
	cfg      BreakerConfig
	onChange func(account string, op carriers.Op, to gobreaker.State)

	mu sync.Mutex
	m  map[string]*gobreaker.CircuitBreaker

	state       *prometheus.GaugeVec
	transitions *prometheus.CounterVec
}

func newBreakers(cfg BreakerConfig, reg prometheus.Registerer) *breakers {
	cfg.setDefaults()
	b := &breakers{cfg: cfg, m: map[string]*gobreaker.CircuitBreaker{},
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_carrier_breaker_state",
			Help: "Circuit breaker state per carrier account and operation: 0 closed, 1 half-open, 2 open."},
			[]string{"account", "op"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_carrier_breaker_transitions_total",
			Help: "Circuit breaker state changes, by the state entered."}, []string{"account", "op", "to"}),
	}
	if reg != nil {
		reg.MustRegister(b.state, b.transitions)
	}
	return b
}

func (b *breakers) get(account string, op carriers.Op) *gobreaker.CircuitBreaker {
	key := account + "/" + string(op)
	b.mu.Lock()
	defer b.mu.Unlock()
	if cb, ok := b.m[key]; ok {
		return cb
	}
	cfg := b.cfg
	cb := gobreaker.NewCircuitBreaker(gobreaker.Settings{
		Name:        key,
		MaxRequests: 1,
		Interval:    cfg.Window,
		Timeout:     cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.Requests >= cfg.MinRequests && float64(c.TotalFailures)/float64(c.Requests) >= cfg.FailureRatio
		},
		// The carrier refusing a request (validation, business rule) is the carrier
		// working: it never counts towards opening the breaker.
		IsSuccessful: func(err error) bool {
			return err == nil || carriers.ClassOf(err) == carriers.Permanent
		},
		OnStateChange: func(_ string, from, to gobreaker.State) {
			b.state.WithLabelValues(account, string(op)).Set(float64(to))
			b.transitions.WithLabelValues(account, string(op), to.String()).Inc()
			if b.onChange != nil {
				b.onChange(account, op, to)
			}
		},
	})
	b.state.WithLabelValues(account, string(op)).Set(0)
	b.m[key] = cb
	return cb
}

// State is the breaker's state now (an open breaker past its OpenFor turns half-open).
func (b *breakers) State(account string, op carriers.Op) gobreaker.State {
	return b.get(account, op).State()
}

// call runs fn through the account's breaker for op, retrying transient and
// throttled failures (and ambiguous ones when resending is safe) with full-jitter
// exponential backoff, honouring Retry-After, within the retry budget. It returns
// fn's last error, or a *BreakerOpenError.
func call(ctx context.Context, b *breakers, rc RetryConfig, account string, op carriers.Op, resendSafe bool, fn func(ctx context.Context) error) (attempts int, err error) {
	rc.setDefaults()
	cb := b.get(account, op)
	exp := backoff.NewExponentialBackOff()
	exp.InitialInterval, exp.MaxInterval, exp.RandomizationFactor = rc.Initial, rc.Max, 0
	exp.MaxElapsedTime = 0
	var bo backoff.BackOff = backoff.WithMaxRetries(exp, uint64(rc.Attempts-1))
	bo = backoff.WithContext(bo, ctx)
	bo.Reset()
	start := time.Now()
	var ambiguous error // an earlier attempt whose outcome is unknown
	defer func() {
		// Whatever later attempts met, an unknown outcome stays unknown.
		if err != nil && ambiguous != nil && carriers.ClassOf(err) != carriers.Ambiguous {
			err = &carriers.Error{Op: op, Class: carriers.Ambiguous,
				Message: "an earlier attempt was sent and got no answer (" + ambiguous.Error() + ")", Err: err}
		}
	}()
	for {
		attempts++
		_, err = cb.Execute(func() (any, error) { return nil, fn(ctx) })
		if err == nil {
			return attempts, nil
		}
		if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
			return attempts, &BreakerOpenError{Account: account, Op: op, Err: err}
		}
		class := carriers.ClassOf(err)
		if class == carriers.Ambiguous {
			ambiguous = err
		}
		if !(class == carriers.Transient || class == carriers.Throttled || (class == carriers.Ambiguous && resendSafe)) {
			return attempts, err
		}
		next := bo.NextBackOff()
		if next == backoff.Stop {
			return attempts, err
		}
		wait := time.Duration(rand.Int64N(int64(next) + 1)) // full jitter
		var ce *carriers.Error
		if errors.As(err, &ce) && ce.RetryAfter > wait {
			wait = ce.RetryAfter
		}
		if time.Since(start)+wait > rc.Budget {
			return attempts, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return attempts, err
		case <-t.C:
		}
	}
}
