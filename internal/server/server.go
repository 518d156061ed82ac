// Package server is the hub's one HTTP listener: health and readiness, Prometheus
// metrics, the canonical JSON Schemas, the order API and the DLQ API.
package server

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/paklog/integration-hub/adapters/api"
	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
)

// Config tunes the listener.
type Config struct {
	Addr            string
	MaxBodyBytes    int64
	ReadTimeout     time.Duration
	WriteTimeout    time.Duration
	ShutdownTimeout time.Duration
}

// Deps is what the endpoints use.
type Deps struct {
	Store    *store.Store
	Intake   *intake.Intake
	DLQ      *dlq.Console
	Gatherer prometheus.Gatherer
	// Running reports whether the router runs, for /readyz.
	Running func() bool
	// Shopify takes the shops' webhooks; nil when no shop is configured.
	Shopify http.Handler
	// Custom takes the custom platforms' webhooks; nil when none is configured.
	Custom http.Handler
	// Magento takes the stores' order triggers; nil when no store is configured.
	Magento http.Handler
	// AS2 receives partners' AS2 messages; nil when no partner exchanges AS2.
	AS2 http.Handler
	// Labels serves label files; nil when no carrier account is configured.
	Labels LabelFiles
	// Checks adds detail to /readyz that does not make the hub unready (partner
	// endpoints: one partner's dead server does not stop the hub serving the others).
	Checks func() map[string]string
	Log    *slog.Logger
}

// LabelFiles finds a stored label file by its label-request id.
type LabelFiles interface {
	LabelFile(ctx context.Context, id string) (canonical.LabelFormat, []byte, error)
}

// Server is the HTTP listener.
type Server struct {
	cfg  Config
	deps Deps
	srv  *http.Server
	ln   net.Listener
}

// New builds the server; Listen binds it.
func New(cfg Config, deps Deps) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	s := &Server{cfg: cfg, deps: deps}
	s.srv = &http.Server{
		Handler:           s.Routes(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(deps.Log.Handler(), slog.LevelWarn),
	}
	return s
}

// route is one endpoint: "METHOD /path/{param}" as http.ServeMux patterns write it.
type route struct {
	pattern string
	handler http.Handler
}

func (s *Server) routes() []route {
	hf := func(pattern string, f http.HandlerFunc) route { return route{pattern, f} }
	return []route{
		hf("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte("ok\n"))
		}),
		hf("GET /readyz", s.ready),
		{"GET /metrics", promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{})},
		hf("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(openAPI)
		}),
		hf("GET /api/v1/schemas", func(w http.ResponseWriter, r *http.Request) {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"schemas": canonical.SchemaNames()})
		}),
		hf("GET /api/v1/schemas/{name}", func(w http.ResponseWriter, r *http.Request) {
			doc, ok := canonical.SchemaDocument(r.PathValue("name"))
			if !ok {
				httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound,
					Detail: "no schema " + r.PathValue("name") + "; GET /api/v1/schemas lists them"})
				return
			}
			w.Header().Set("Content-Type", "application/schema+json")
			_, _ = w.Write(doc)
		}),
		{"POST /api/v1/orders", &api.Orders{Intake: s.deps.Intake, MaxBody: s.cfg.MaxBodyBytes, Log: s.deps.Log}},
		hf("GET /api/v1/orders/{order_id}", s.orderTrail),
		hf("GET /api/v1/dlq", s.dlqList),
		hf("GET /api/v1/dlq/{id}", s.dlqShow),
		hf("POST /api/v1/dlq/{id}/replay", s.dlqReplay),
		hf("GET /api/v1/labels/{id}", s.label),
		{"POST /webhooks/shopify", orNotConfigured(s.deps.Shopify, "no Shopify shop is configured (channels.shopify.shops)")},
		{"POST /webhooks/custom/{channel}", orNotConfigured(s.deps.Custom, "no custom channel is configured (channels.custom.channels)")},
		{"POST /webhooks/magento/{store}", orNotConfigured(s.deps.Magento, "no Magento store is configured (channels.magento.stores)")},
		{"POST /as2", orNotConfigured(s.deps.AS2, "no partner exchanges AS2 (partners[].as2 and as2.id)")},
	}
}

// labelContentTypes are the media types of the label formats.
var labelContentTypes = map[canonical.LabelFormat]string{
	canonical.LabelPDF: "application/pdf",
	canonical.LabelPNG: "image/png",
	canonical.LabelZPL: "application/x-zpl",
}

func (s *Server) label(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if s.deps.Labels == nil {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound,
			Detail: "no carrier account is configured (carriers.accounts), so the hub holds no labels"})
		return
	}
	format, data, err := s.deps.Labels.LabelFile(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound,
			Detail: "no label " + id + "; label ids are the label_ref of paklog.label.v1 packages"})
		return
	}
	if err != nil {
		s.deps.Log.Error("reading a label", "label_id", id, "error", err)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeInternal, Status: http.StatusInternalServerError,
			Detail: "the label could not be read; see the hub's log"})
		return
	}
	ct := labelContentTypes[format]
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.Header().Set("Content-Disposition", `inline; filename="`+id+strings.ToLower(map[canonical.LabelFormat]string{canonical.LabelPDF: ".pdf", canonical.LabelPNG: ".png", canonical.LabelZPL: ".zpl"}[format])+`"`)
	_, _ = w.Write(data)
}

// orNotConfigured is h, or when h is nil a handler that answers 404 with what to
// configure: a channel that is not set up says so instead of a bare 404.
func orNotConfigured(h http.Handler, what string) http.Handler {
	if h != nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound, Detail: what})
	})
}

// Routes is the request multiplexer, for tests that use httptest.
func (s *Server) Routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.Handle(rt.pattern, rt.handler)
	}
	return mux
}

// Patterns lists the endpoints as "METHOD /path" (the OpenAPI document describes each).
func (s *Server) Patterns() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.pattern)
	}
	return out
}

//go:embed openapi.json
var openAPI []byte

// Listen binds the configured address (port 0 picks a free one).
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, after Listen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve answers requests until ctx ends, then stops accepting and lets requests in
// flight finish within the shutdown timeout.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"store": "ok", "router": "running"}
	status := http.StatusOK
	if err := s.deps.Store.Ping(ctx); err != nil {
		checks["store"] = "unreachable: " + err.Error()
		status = http.StatusServiceUnavailable
	}
	if s.deps.Running == nil || !s.deps.Running() {
		checks["router"] = "not running"
		status = http.StatusServiceUnavailable
	}
	if s.deps.Checks != nil {
		maps.Copy(checks, s.deps.Checks())
	}
	httpapi.WriteJSON(w, status, map[string]any{"ready": status == http.StatusOK, "checks": checks})
}

// OrderStatus is the body of GET /api/v1/orders/{order_id}: the order's current stage
// (the furthest it reached, or dead_lettered) and every stage recorded, in the order
// they were recorded.
type OrderStatus struct {
	OrderID string             `json:"order_id"`
	Stage   string             `json:"stage"`
	Trail   []store.TrailEntry `json:"trail"`
}

func (s *Server) orderTrail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("order_id")
	trail, err := s.deps.Store.Trail(r.Context(), id)
	if err != nil {
		httpapi.Unavailable(w, "reading the order's trail failed", time.Second)
		return
	}
	if len(trail) == 0 {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound, Detail: "no order " + id})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, OrderStatus{OrderID: id, Stage: store.CurrentStage(trail), Trail: trail})
}

func (s *Server) dlqList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	entries, err := s.deps.DLQ.List(r.Context(), dlq.Filter{Status: q.Get("status"), Handler: q.Get("handler"), OrderID: q.Get("order_id"), Limit: limit})
	if err != nil {
		httpapi.Unavailable(w, err.Error(), time.Second)
		return
	}
	if entries == nil {
		entries = []dlq.Entry{}
	}
	for i := range entries {
		entries[i].Payload = nil
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"entries": entries})
}

func (s *Server) dlqID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(strings.TrimSpace(r.PathValue("id")), 10, 64)
	if err != nil {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest, Detail: "DLQ entry ids are numbers"})
		return 0, false
	}
	return id, true
}

func (s *Server) dlqShow(w http.ResponseWriter, r *http.Request) {
	id, ok := s.dlqID(w, r)
	if !ok {
		return
	}
	e, err := s.deps.DLQ.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound, Detail: err.Error()})
		return
	}
	if err != nil {
		httpapi.Unavailable(w, err.Error(), time.Second)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, e)
}

func (s *Server) dlqReplay(w http.ResponseWriter, r *http.Request) {
	id, ok := s.dlqID(w, r)
	if !ok {
		return
	}
	e, err := s.deps.DLQ.Replay(r.Context(), id, r.URL.Query().Get("force") == "true")
	switch {
	case errors.Is(err, store.ErrNotFound):
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeNotFound, Status: http.StatusNotFound, Detail: err.Error()})
	case errors.Is(err, dlq.ErrNotOpen):
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeConflict, Status: http.StatusConflict, Detail: err.Error()})
	case err != nil:
		httpapi.Unavailable(w, err.Error(), time.Second)
	default:
		e.Payload = nil
		httpapi.WriteJSON(w, http.StatusAccepted, e)
	}
}
