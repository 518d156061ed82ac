package magento

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Class says what a caller may do after a call failed.
type Class string

// Classes.
const (
	// Permanent: Magento refused the request (validation, an unknown
	// order, a state that forbids it). Retrying will not help; the DLQ will.
	Permanent Class = "permanent"
	// Auth: the credentials were refused (401). Fix the integration.
	Auth Class = "auth"
	// Transient: the request failed without effect (5xx, a refused
	// connection, a GET that timed out). Safe to retry.
	Transient Class = "transient"
	// Ambiguous: a POST was sent and no answer came; it may have taken
	// effect. Read before retrying (Ship does).
	Ambiguous Class = "ambiguous"
)

// Error is a failed call to Magento.
type Error struct {
	// Op is the call: "list orders", "get order", "ship", "list shipments".
	Op string
	// Status is the HTTP status, 0 when no answer came.
	Status int
	// Message is Magento's message with its parameters filled in.
	Message string
	// Parameters are Magento's message parameters, by name ("resources")
	// or position ("1").
	Parameters map[string]string
	Class      Class
	// Err is the network or decoding error, if any.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "magento %s: %s", e.Op, e.Class)
	if e.Status != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// ClassOf is the class of err: that of the first *Error in its chain,
// Transient for any other non-nil error, "" for nil.
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

// classifyStatus maps an HTTP error status to a class.
func classifyStatus(status int) Class {
	switch {
	case status == http.StatusUnauthorized:
		return Auth
	case status == http.StatusTooManyRequests, status == http.StatusRequestTimeout, status >= 500:
		return Transient
	}
	return Permanent
}

// parseError reads Magento's error body, {"message": "… %1 … %name …",
// "parameters": [..] or {..}}, filling the parameters in.
func parseError(op string, status int, body []byte) *Error {
	e := &Error{Op: op, Status: status, Class: classifyStatus(status)}
	var env struct {
		Message    string          `json:"message"`
		Parameters json.RawMessage `json:"parameters"`
	}
	if json.Unmarshal(body, &env) != nil || env.Message == "" {
		e.Message = strings.TrimSpace(string(body[:min(len(body), 200)]))
		return e
	}
	params := map[string]string{}
	var list []any
	var named map[string]any
	if json.Unmarshal(env.Parameters, &list) == nil {
		for i, v := range list {
			params[strconv.Itoa(i+1)] = fmt.Sprint(v)
		}
	} else if json.Unmarshal(env.Parameters, &named) == nil {
		for k, v := range named {
			params[k] = fmt.Sprint(v)
		}
	}
	msg := env.Message
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	// Longest first, so %10 is not read as %1 followed by 0.
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, k := range keys {
		msg = strings.ReplaceAll(msg, "%"+k, params[k])
	}
	e.Message, e.Parameters = msg, params
	if len(params) == 0 {
		e.Parameters = nil
	}
	return e
}
