package carriers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// MaxResponseBytes caps what a client reads from a carrier response (labels are
// base64 images, a few hundred KB at most).
const MaxResponseBytes = 16 << 20

// Response is a carrier's HTTP answer, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req with hc and reads the answer. A failure to get an answer becomes an
// *Error: Transient if the request had not been written when it failed (connection
// refused, DNS, TLS), or whatever the op, if idempotent; Ambiguous if it had been
// written and the op is not idempotent (the carrier may have acted on it). An answer
// with any status is returned as is, for the client to parse its error envelope.
func Do(ctx context.Context, hc *http.Client, carrier string, op Op, idempotent bool, req *http.Request) (*Response, error) {
	var wrote atomic.Bool
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	resp, err := hc.Do(req)
	if err != nil {
		return nil, sendError(carrier, op, idempotent, wrote.Load(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		// The carrier answered and the body broke off: it acted on the request.
		return nil, sendError(carrier, op, idempotent, true, fmt.Errorf("reading the response: %w", err))
	}
	if len(body) > MaxResponseBytes {
		return nil, &Error{Carrier: carrier, Op: op, Status: resp.StatusCode, Class: classAfterSend(idempotent),
			Err: fmt.Errorf("response larger than %d bytes", MaxResponseBytes)}
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

func sendError(carrier string, op Op, idempotent, wrote bool, err error) *Error {
	class := Transient
	if wrote {
		class = classAfterSend(idempotent)
	}
	if errors.Is(err, context.Canceled) && !wrote {
		class = Transient
	}
	return &Error{Carrier: carrier, Op: op, Class: class, Err: err}
}

func classAfterSend(idempotent bool) Class {
	if idempotent {
		return Transient
	}
	return Ambiguous
}

// HTTPClient is the http.Client the carrier clients use by default: a whole-call
// timeout and no redirects (a carrier API never redirects a POST we would replay).
func HTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
