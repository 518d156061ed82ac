// Package httpapi holds the HTTP plumbing every hub endpoint shares: RFC 9457 problem
// responses, JSON replies and body limits.
package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/paklog/integration-hub/canonical"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string              `json:"type"`
	Title    string              `json:"title"`
	Status   int                 `json:"status"`
	Detail   string              `json:"detail,omitempty"`
	Problems []canonical.Problem `json:"problems,omitempty"`
	OrderID  string              `json:"order_id,omitempty"`
}

// Problem types.
const (
	TypeValidation  = "https://paklog.dev/problems/validation"
	TypeTooLarge    = "https://paklog.dev/problems/too-large"
	TypeConflict    = "https://paklog.dev/problems/conflict"
	TypeUnavailable = "https://paklog.dev/problems/unavailable"
	TypeNotFound    = "https://paklog.dev/problems/not-found"
	TypeBadRequest  = "https://paklog.dev/problems/bad-request"
	TypeMediaType   = "https://paklog.dev/problems/unsupported-media-type"
	TypeInternal    = "https://paklog.dev/problems/internal"
)

// WriteProblem writes p as application/problem+json.
func WriteProblem(w http.ResponseWriter, p Problem) {
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// Unavailable answers 503 with a Retry-After, for failures the sender should retry.
func Unavailable(w http.ResponseWriter, detail string, retryAfter time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(max(1, retryAfter.Seconds()))))
	WriteProblem(w, Problem{Type: TypeUnavailable, Status: http.StatusServiceUnavailable, Detail: detail})
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// ReadBody reads r's body up to limit bytes. Over the limit it answers 413 itself and
// returns ok=false; so it does for a body that cannot be read.
func ReadBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, ok bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		WriteProblem(w, Problem{Type: TypeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the body is larger than this endpoint's limit of %d bytes (http.max_body_bytes); split it or raise the limit", limit)})
		return nil, false
	case err != nil:
		WriteProblem(w, Problem{Type: TypeBadRequest, Status: http.StatusBadRequest, Detail: "reading the body: " + err.Error()})
		return nil, false
	}
	return body, true
}
