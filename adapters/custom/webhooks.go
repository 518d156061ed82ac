package custom

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
)

// Source is the intake source of custom webhooks; accepted orders go to
// inbound.custom.
const Source = string(canonical.ChannelCustom)

// Problem types of this adapter's answers (besides httpapi's).
const (
	TypeUnauthorized = "https://paklog.dev/problems/unauthorized"
	TypeMapping      = "https://paklog.dev/problems/mapping"
)

// Message metadata set on accepted deliveries (besides the hub's own keys).
const (
	// MetaMappingSHA256 is the SHA-256 (hex) of the mapping program that made
	// the order: which version of a channel's mapping to blame or replay with.
	MetaMappingSHA256 = "custom_mapping_sha256"
	// MetaKeyFrom says where the idempotency key came from: "jq <expression>"
	// or "header <name>".
	MetaKeyFrom = "custom_key_from"
)

// Acceptor commits a delivery durably; *intake.Intake is one.
type Acceptor interface {
	// Accept returns once item is committed, with the first result when its
	// idempotency key was accepted before (Duplicate set), or an error wrapping
	// intake.ErrConflict when the key or the order was accepted with another
	// payload. If ctx ends first the item may still commit. Safe for
	// concurrent use.
	Accept(ctx context.Context, item intake.Item) (intake.Result, error)
}

// Webhooks serves POST /webhooks/custom/{channel}. It is safe for concurrent
// use.
type Webhooks struct {
	channels map[string]*Channel
	in       Acceptor
	log      *slog.Logger
}

// Response is the body of a 202 (accepted now or before) or a 200 (held back
// by the release expression).
type Response struct {
	// Accepted is true when the order is stored (now or by an earlier delivery).
	Accepted bool `json:"accepted"`
	// Result is what the intake committed: order_id, message_uuid,
	// correlation_id, received_at and duplicate, the first delivery's for a
	// duplicate. Absent when nothing was stored.
	*intake.Result
	// Ignored says why a delivery was acknowledged without being stored.
	Ignored string            `json:"ignored,omitempty"`
	Links   map[string]string `json:"links,omitempty"`
}

// New validates cfg, compiles every channel's programs and returns the
// handler. A nil log discards.
func New(cfg Config, in Acceptor, log *slog.Logger) (*Webhooks, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in == nil {
		return nil, errors.New("custom: an intake is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Webhooks{channels: map[string]*Channel{}, in: in, log: log}
	for _, cc := range cfg.Channels {
		ch, err := Compile(cc)
		if err != nil {
			return nil, err
		}
		h.channels[cc.Name] = ch
	}
	return h, nil
}

func (h *Webhooks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusMethodNotAllowed,
			Detail: "custom webhooks are delivered with POST"})
		return
	}
	name := r.PathValue("channel")
	if name == "" {
		name = r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	}
	ch, ok := h.channels[name]
	if !ok {
		h.log.Warn("custom webhook for an unknown channel refused", "channel", clip(name, 64), "remote", r.RemoteAddr)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound,
			Detail: fmt.Sprintf("no custom channel %q is configured in this hub", clip(name, 64))})
		return
	}
	log := h.log.With("partner", ch.Name())
	body, ok := readBody(w, r, ch.cfg.MaxBodyBytes)
	if !ok {
		log.Warn("custom webhook body refused (too large or unreadable)", "limit", ch.cfg.MaxBodyBytes)
		return
	}
	if err := ch.auth.authenticate(r.Header, body); err != nil {
		// err names the header and what was expected; never the secret or what
		// was received.
		log.Warn("custom webhook refused", "reason", err, "remote", r.RemoteAddr)
		if c := ch.auth.challenge(); c != "" {
			w.Header().Set("WWW-Authenticate", c)
		}
		httpapi.WriteProblem(w, httpapi.Problem{Type: TypeUnauthorized, Status: http.StatusUnauthorized, Detail: err.Error()})
		return
	}

	d, err := ch.Map(r.Context(), body, r.Header)
	var me *MappingError
	switch {
	case err == nil:
	case errors.Is(err, ErrPayload), errors.Is(err, ErrNoKey):
		log.Info("custom webhook refused", "error", err)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: err.Error()})
		return
	case errors.As(err, &me):
		paths := make([]string, len(me.Problems))
		for i, p := range me.Problems {
			paths[i] = p.Path // not the values: they may be personal data
		}
		log.Info("custom webhook could not be mapped", "program", me.Program, "fields", paths, "runtime_error", me.Err != nil)
		writeMappingProblem(w, me)
		return
	case r.Context().Err() != nil:
		return // the sender has gone
	default:
		log.Error("mapping a custom webhook failed", "error", err)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeInternal, Status: http.StatusInternalServerError, Detail: err.Error()})
		return
	}
	if !d.Release {
		log.Debug("custom webhook held back by the release expression")
		httpapi.WriteJSON(w, http.StatusOK, Response{Ignored: fmt.Sprintf("the release expression `%s` is false for this delivery; nothing was stored", clipExpr(ch.cfg.Release))})
		return
	}

	keyFrom := "jq " + ch.cfg.Idempotency.Key
	if ch.key == nil {
		keyFrom = "header " + ch.cfg.Idempotency.Header
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "application/json"
	}
	res, err := h.in.Accept(r.Context(), intake.Item{
		Source:         Source,
		Partner:        ch.Name(),
		IdempotencyKey: d.Key,
		Payload:        body,
		ContentType:    ct,
		Order:          &d.Order,
		Metadata:       map[string]string{MetaMappingSHA256: ch.mappingSum, MetaKeyFrom: clip(keyFrom, 200)},
	})
	var conflict *intake.ConflictError
	switch {
	case errors.As(err, &conflict):
		log.Warn("custom webhook conflicts with an accepted one", "idempotency_key", clip(d.Key, 64), "reason", conflict.Reason)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeConflict, Status: http.StatusConflict, Detail: conflict.Reason, OrderID: conflict.OrderID})
		return
	case err != nil:
		if r.Context().Err() == nil {
			log.Error("accepting a custom webhook failed", "error", err)
		}
		httpapi.Unavailable(w, "the webhook could not be stored; nothing was accepted, deliver it again", time.Second)
		return
	}
	log.Debug("custom webhook accepted", "order_id", res.OrderID, "duplicate", res.Duplicate, "message_uuid", res.MessageUUID)
	if res.Duplicate {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	self := "/api/v1/orders/" + res.OrderID
	w.Header().Set("Location", self)
	httpapi.WriteJSON(w, http.StatusAccepted, Response{Accepted: true, Result: &res, Links: map[string]string{"self": self}})
}

// writeMappingProblem answers 422 naming the program and, for each field,
// the path and the expression.
func writeMappingProblem(w http.ResponseWriter, me *MappingError) {
	p := httpapi.Problem{Type: TypeMapping, Status: http.StatusUnprocessableEntity,
		Title: "The webhook could not be mapped to an order", Detail: me.Error()}
	for _, pr := range me.Problems {
		msg := pr.String()
		// canonical.Problem puts the path first; drop it from the sentence.
		msg = strings.TrimPrefix(msg, "field "+pr.Path+" ")
		p.Problems = append(p.Problems, canonical.Problem{Path: pr.Path, Message: msg})
	}
	httpapi.WriteProblem(w, p)
}

// readBody reads at most limit bytes, answering 413 over it (naming this
// channel's limit) or 400 when the body cannot be read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the body is larger than this channel's limit of %d bytes (max_body_bytes)", limit)})
		return nil, false
	case err != nil:
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: "reading the body: " + err.Error()})
		return nil, false
	}
	return body, true
}
