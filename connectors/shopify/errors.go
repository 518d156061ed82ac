package shopify

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class says what a caller may do after a call failed.
type Class string

const (
	// Permanent: Shopify refused the request (a userError, a bad token, an
	// unknown order). Never retried; the work goes to the DLQ.
	Permanent Class = "permanent"
	// Throttled: the cost budget or the request rate was exceeded and
	// retries ran out; RetryAfter says how long to wait.
	Throttled Class = "throttled"
	// Transient: nothing was done (a 5xx to a query, a connection error on a
	// query). Safe to retry.
	Transient Class = "transient"
	// Ambiguous: a mutation was sent and no clear answer came (a timeout, a
	// dropped connection, a 5xx). It may have taken effect: read the remote
	// state before trying again.
	Ambiguous Class = "ambiguous"
)

// Sentinels for errors.Is, wrapped in an *Error.
var (
	// ErrUnauthorized: the access token was refused (HTTP 401 or 403, or
	// ACCESS_DENIED). Permanent until someone installs the app again.
	ErrUnauthorized = errors.New("access token refused")
	// ErrUserErrors: a mutation answered userErrors; Error.UserErrors lists
	// them.
	ErrUserErrors = errors.New("shopify refused the mutation")
	// ErrOrderNotFound: the order id is not in the shop.
	ErrOrderNotFound = errors.New("order not found")
	// ErrNothingToFulfil: a requested line is not in an open fulfilment
	// order, or asks for more than remains.
	ErrNothingToFulfil = errors.New("nothing left to fulfil")
	// ErrNoTrackingNumber: CreateFulfillment needs the tracking number; it
	// is how a retry finds a fulfilment already made.
	ErrNoTrackingNumber = errors.New("a tracking number is required")
)

// UserError is one of a mutation's userErrors: the input field it names,
// as a path, and Shopify's message.
type UserError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
	Code    string   `json:"code,omitempty"`
}

func (u UserError) String() string {
	if len(u.Field) == 0 {
		return u.Message
	}
	return u.Message + " [field " + strings.Join(u.Field, ".") + "]"
}

// Error is any failed call to a shop.
type Error struct {
	Shop string
	// Op is the GraphQL root field: orders, fulfillmentCreate, …
	Op    string
	Class Class
	// Status is the HTTP status (0 when none came, 200 for GraphQL errors).
	Status int
	// Code is the GraphQL error's extensions.code (THROTTLED,
	// ACCESS_DENIED, …), where there was one.
	Code    string
	Message string
	// UserErrors are a mutation's userErrors (with Err ErrUserErrors).
	UserErrors []UserError
	// RetryAfter is how long Shopify asked us to wait, or 0.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "shopify %s %s: %s", e.Shop, e.Op, e.Class)
	if e.Status != 0 && e.Status != 200 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	for i, u := range e.UserErrors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(u.String())
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

// ClassOf is the class of the first *Error in err's chain, Transient for
// any other non-nil error, "" for nil.
func ClassOf(err error) Class {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Class
	}
	return Transient
}
