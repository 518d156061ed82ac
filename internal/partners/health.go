// Package partners runs the hub's file exchange with trading partners: the pollers
// of their SFTP and FTP servers, the hosted SFTP inbox, and the delivery of files
// back to them (acknowledgements, 856s, 945s) by SFTP, FTP or the inbox's /outbound.
//
// Each partner endpoint runs on its own: its own goroutine, backoff and circuit
// breaker, so one partner's dead server never delays another's. What each endpoint
// last did is kept in a [Health] that /readyz shows and metrics export.
package partners

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"
)

// Health is the last known state of every partner endpoint, keyed
// "partner/kind[index]" (acme/sftp[0], acme/outbound).
type Health struct {
	mu  sync.Mutex
	eps map[string]*EndpointState
	now func() time.Time
}

// EndpointState is what one endpoint last did.
type EndpointState struct {
	Partner     string    `json:"partner"`
	Endpoint    string    `json:"endpoint"`
	LastOK      time.Time `json:"last_ok,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	FailingFrom time.Time `json:"failing_since,omitzero"`
	Stopped     bool      `json:"stopped,omitempty"` // needs a person (a changed host key)
}

// NewHealth returns an empty Health.
func NewHealth() *Health { return &Health{eps: map[string]*EndpointState{}, now: time.Now} }

func (h *Health) state(partner, endpoint string) *EndpointState {
	k := partner + "/" + endpoint
	s, ok := h.eps[k]
	if !ok {
		s = &EndpointState{Partner: partner, Endpoint: endpoint}
		h.eps[k] = s
	}
	return s
}

// Register makes an endpoint known before its first result.
func (h *Health) Register(partner, endpoint string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.state(partner, endpoint)
}

// OK records a success.
func (h *Health) OK(partner, endpoint string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.state(partner, endpoint)
	s.LastOK, s.LastError, s.FailingFrom, s.Stopped = h.now(), "", time.Time{}, false
}

// Failed records a failure; stopped says the endpoint will not be retried.
func (h *Health) Failed(partner, endpoint string, err error, stopped bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.state(partner, endpoint)
	if s.FailingFrom.IsZero() {
		s.FailingFrom = h.now()
	}
	s.LastError, s.Stopped = err.Error(), stopped
}

// Snapshot returns every endpoint's state, sorted by key.
func (h *Health) Snapshot() []EndpointState {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]EndpointState, 0, len(h.eps))
	for _, k := range slices.Sorted(maps.Keys(h.eps)) {
		out = append(out, *h.eps[k])
	}
	return out
}

// Checks renders the states for /readyz: "ok (last success …)", "failing since …:
// error", "stopped: error", or "not yet polled". A failing partner endpoint does not
// make the hub unready (the hub serves everyone else); it shows here and in metrics.
func (h *Health) Checks() map[string]string {
	out := map[string]string{}
	for _, s := range h.Snapshot() {
		k := "partner " + s.Partner + " " + s.Endpoint
		switch {
		case s.Stopped:
			out[k] = "stopped, needs a person: " + s.LastError
		case s.LastError != "":
			out[k] = fmt.Sprintf("failing since %s: %s", s.FailingFrom.UTC().Format(time.RFC3339), s.LastError)
		case !s.LastOK.IsZero():
			out[k] = "ok (last success " + s.LastOK.UTC().Format(time.RFC3339) + ")"
		default:
			out[k] = "not yet polled"
		}
	}
	return out
}
