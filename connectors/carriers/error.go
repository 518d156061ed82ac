package carriers

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Class says what a caller may do after a carrier call failed.
type Class string

const (
	// Permanent: the carrier refused the request (validation, business rule, an
	// unknown account). Never retried, never trips a breaker; goes to the DLQ.
	Permanent Class = "permanent"
	// Auth: the token was refused. Refresh it once and try again.
	Auth Class = "auth"
	// Throttled: the carrier asked us to slow down; RetryAfter says how long where
	// it said.
	Throttled Class = "throttled"
	// Transient: the request did not reach the carrier, or the carrier failed
	// without acting on it (5xx). Safe to retry.
	Transient Class = "transient"
	// Ambiguous: the request was sent and no answer came (a timeout, a dropped
	// connection, a 504). The label may exist. Never retried blindly, never failed
	// over: only a carrier idempotency key (USPS) or reconciliation resolves it.
	Ambiguous Class = "ambiguous"
)

// Error is any failed carrier call, whatever the carrier's error envelope looked
// like.
type Error struct {
	Carrier string
	Op      Op
	// Status is the HTTP status (0 when no response came).
	Status int
	// Code, Message and Field are the carrier's own error code, text and the request
	// field it names, where it says.
	Code    string
	Message string
	Field   string
	Class   Class
	// RetryAfter is the wait the carrier asked for (Retry-After), or 0.
	RetryAfter time.Duration
	// TransactionID is the correlation id sent with the request (UPS transId, FedEx
	// x-customer-transaction-id, USPS X-Idempotency-Key) or returned by the carrier.
	TransactionID string
	// Err is the underlying network or decoding error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Carrier, e.Op, e.Class)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, " [field %s]", e.Field)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %s", e.RetryAfter)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf is the class of err: that of the first *Error in its chain, Transient for
// any other non-nil error (a caller-side problem is not the carrier's refusal), and
// "" for nil.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce.Class
	}
	return Transient
}

// ClassifyStatus is the class of an HTTP error status for an operation: 401 is Auth,
// 429 Throttled, 5xx Transient except 504 on a non-idempotent op (the carrier's
// gateway gave up while the carrier may still be creating the label), other 4xx
// Permanent. Clients refine it with the carrier's own codes.
func ClassifyStatus(status int, idempotent bool) Class {
	switch {
	case status == http.StatusUnauthorized:
		return Auth
	case status == http.StatusTooManyRequests:
		return Throttled
	case status == http.StatusGatewayTimeout && !idempotent:
		return Ambiguous
	case status == http.StatusRequestTimeout:
		if idempotent {
			return Transient
		}
		return Ambiguous
	case status >= 500:
		return Transient
	case status >= 400:
		return Permanent
	}
	return ""
}

// RetryAfter parses a Retry-After header: delay-seconds or an HTTP date (relative to
// now). A missing or unreadable header is 0.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
