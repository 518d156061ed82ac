// Package api is the manual-entry adapter: POST /api/v1/orders takes a canonical order
// (paklog.order.v1 without the fields the hub assigns) and answers 202 once it is
// durably committed, with the order's hub id.
//
// The hub assigns order_id, source.channel ("api") and source.received_at; a client
// that sends them is ignored on those fields. source.partner defaults to the
// X-Paklog-Partner header, then "manual"; source.external_id defaults to order_number.
// The Idempotency-Key header (at most 255 characters) makes retries safe; without it
// the order's external id is the key, so the same order posted twice is accepted once.
package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
)

// DefaultPartner is source.partner for orders that name none.
const DefaultPartner = "manual"

// MaxIdempotencyKey is the longest Idempotency-Key accepted.
const MaxIdempotencyKey = 255

// Orders serves POST /api/v1/orders.
type Orders struct {
	Intake  *intake.Intake
	MaxBody int64
	Log     *slog.Logger
}

// Accepted is the 202 body.
type Accepted struct {
	intake.Result
	Links map[string]string `json:"links"`
}

func (h *Orders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/vnd.paklog.order.v1+json") {
			httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeMediaType, Status: http.StatusUnsupportedMediaType,
				Detail: fmt.Sprintf("Content-Type %q: send the order as application/json", ct)})
			return
		}
	}
	key := r.Header.Get("Idempotency-Key")
	if p := r.Header.Get("X-Paklog-Partner"); len(p) > MaxIdempotencyKey {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("X-Paklog-Partner is %d characters; at most %d", len(p), MaxIdempotencyKey)})
		return
	}
	if len(key) > MaxIdempotencyKey {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
			Detail: fmt.Sprintf("Idempotency-Key is %d characters; at most %d", len(key), MaxIdempotencyKey)})
		return
	}
	body, ok := httpapi.ReadBody(w, r, h.MaxBody)
	if !ok {
		return
	}
	order, problems, err := Prepare(body, r.Header.Get("X-Paklog-Partner"), time.Now())
	if err != nil {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	if len(problems) > 0 {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeValidation, Status: http.StatusBadRequest,
			Title: "The order is not valid", Detail: fmt.Sprintf("%d problem(s); fix them and send the order again", len(problems)), Problems: problems})
		return
	}
	if key == "" {
		key = "order:" + order.Source.ExternalID
	}
	res, err := h.Intake.Accept(r.Context(), intake.Item{
		Source:         string(canonical.ChannelAPI),
		Partner:        order.Source.Partner,
		IdempotencyKey: key,
		Payload:        body,
		ContentType:    "application/json",
		Order:          &order,
	})
	var conflict *intake.ConflictError
	switch {
	case errors.As(err, &conflict):
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeConflict, Status: http.StatusConflict, Detail: conflict.Reason, OrderID: conflict.OrderID})
		return
	case err != nil:
		if r.Context().Err() == nil {
			h.Log.Error("accepting an order failed", "error", err)
		}
		httpapi.Unavailable(w, "the order could not be stored; nothing was accepted, send it again", time.Second)
		return
	}
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	self := "/api/v1/orders/" + res.OrderID
	w.Header().Set("Location", self)
	httpapi.WriteJSON(w, http.StatusAccepted, Accepted{Result: res, Links: map[string]string{"self": self}})
}

// Prepare turns a request body into the canonical order the hub accepts: it fills the
// hub-assigned fields, validates the result against paklog.order.v1 and returns every
// problem with its JSON path. err is set only when the body is not a JSON object.
func Prepare(body []byte, partnerHeader string, now time.Time) (canonical.Order, canonical.Problems, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return canonical.Order{}, nil, fmt.Errorf("the body is not a JSON object: %v", errOr(err, "null"))
	}
	if dec.More() {
		return canonical.Order{}, nil, errors.New("the body has more than one JSON value")
	}
	if _, ok := doc["schema"]; !ok {
		doc["schema"] = canonical.SchemaOrder
	}
	doc["order_id"] = canonical.NewOrderID() // replaced by the stable id when committed
	src, _ := doc["source"].(map[string]any)
	if src == nil {
		src = map[string]any{}
	}
	src["channel"] = string(canonical.ChannelAPI)
	src["received_at"] = now.UTC().Format(time.RFC3339Nano)
	if p, _ := src["partner"].(string); p == "" {
		if partnerHeader != "" {
			src["partner"] = partnerHeader
		} else {
			src["partner"] = DefaultPartner
		}
	}
	if e, _ := src["external_id"].(string); e == "" {
		if n, ok := doc["order_number"].(string); ok {
			src["external_id"] = n
		}
	}
	if d, _ := src["document"].(string); d == "" {
		src["document"] = "api"
	}
	doc["source"] = src
	patched, err := json.Marshal(doc)
	if err != nil {
		return canonical.Order{}, nil, err
	}
	o, err := canonical.DecodeOrder(patched)
	var problems canonical.Problems
	if errors.As(err, &problems) {
		return canonical.Order{}, problems, nil
	}
	if err != nil {
		return canonical.Order{}, nil, err
	}
	return o, nil, nil
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}
