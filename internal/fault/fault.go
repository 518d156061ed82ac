// Package fault classifies errors by what the hub should do with the work that failed:
// retry it (transient), park it in the dead-letter queue at once (permanent,
// validation), or put it back for later without counting it as a failure (deferred,
// e.g. a carrier whose circuit breaker is open).
//
// Wrap an error once, where its meaning is known (a connector knows a 503 is transient,
// a transform knows a missing ship-to is a validation error); everything above decides
// with [ClassOf], which walks the chain with errors.As.
package fault

import (
	"errors"
	"time"
)

// Class is what to do with a failed message.
type Class string

const (
	// Transient errors may succeed on retry: timeouts, 5xx, a locked database.
	Transient Class = "transient"
	// Permanent errors will fail the same way every time until a person acts: a bug, a
	// partner's business rejection, missing configuration.
	Permanent Class = "permanent"
	// Validation errors are permanent errors in the input itself.
	Validation Class = "validation"
	// Deferred work is not failing: it waits for something (an open breaker) and is
	// redelivered without counting against retries or going to the DLQ.
	Deferred Class = "deferred"
	// Ambiguous work called an outside system that may have acted on it without
	// saying so (a label request that timed out after it was sent). It is neither
	// retried nor failed over: reconciliation finds out what happened first.
	Ambiguous Class = "ambiguous"
)

// Error is an error with a class.
type Error struct {
	Class Class
	// RetryAfter is how long to wait before trying again, where the cause says (a 429's
	// Retry-After, a breaker's open interval).
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func wrap(c Class, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Class: c, Err: err}
}

// AsTransient marks err as worth retrying.
func AsTransient(err error) error { return wrap(Transient, err) }

// AsPermanent marks err as not worth retrying.
func AsPermanent(err error) error { return wrap(Permanent, err) }

// AsValidation marks err as a problem in the input.
func AsValidation(err error) error { return wrap(Validation, err) }

// AsDeferred marks err as "not now": redeliver after d without counting a failure.
func AsDeferred(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &Error{Class: Deferred, RetryAfter: d, Err: err}
}

// ClassOf is the class of the outermost classified error in err's chain. Unclassified
// errors are transient: they are retried a few times and then parked, so an
// unexpected error is never dropped and never loops forever.
func ClassOf(err error) Class {
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}

// RetryAfter is the wait the error's cause asked for, or 0.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Chain lists the messages of err's chain, outermost first, each once: the DLQ shows it
// so that a person sees both "routing order ord_…" and the driver error under it.
func Chain(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			msg := e.Error()
			if !seen[msg] {
				seen[msg] = true
				out = append(out, msg)
			}
			switch u := e.(type) {
			case interface{ Unwrap() []error }:
				for _, x := range u.Unwrap() {
					walk(x)
				}
				return
			case interface{ Unwrap() error }:
				e = u.Unwrap()
			default:
				return
			}
		}
	}
	walk(err)
	return out
}
