// Package labels buys shipping labels for the shipments the fulfilment core packs,
// and never two for one package.
//
// The "labels.request" handler takes each shipment from fulfilment.shipments and
// queues it (label_shipments) in the consumer's transaction. Workers claim queued
// shipments and, outside any transaction, for each package:
//
//  1. commit a label-request record keyed by (shipment, package, attempt) with a hash
//     of the request, before any carrier call;
//  2. call the carrier chosen by the configured rules, through a circuit breaker per
//     account × operation and bounded retries of transient and throttled failures;
//  3. store the label (database or directory) on the record.
//
// When every package has its label, labels.created is published with the labelled
// stage of the order, in one transaction. A replayed or redelivered shipment reads
// the stored records: a created label is never bought again.
//
// A carrier call that timed out after it was sent leaves its record "unknown". USPS
// takes the record id as X-Idempotency-Key, so the same request is simply sent
// again. UPS and FedEx have no idempotency: the shipment is parked (class
// "ambiguous"), neither retried nor sent to another carrier; the reconciler looks the
// reference up at the carrier after a settling delay, voids any label it finds (an
// orphan), and then replays the shipment, which buys one label afresh.
//
// A carrier whose breaker is open, that throttles for longer than the retry budget,
// or that refuses the lane before a call, is skipped for the next service of the
// rule. When none is left the shipment is parked as "deferred" and replayed
// automatically once a breaker of its carriers closes.
//
// An order cancelled after labelling has its labels voided (saga compensation).
package labels

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Handler names.
const (
	HandlerRequest = "labels.request"
	HandlerCancel  = "labels.cancel"
)

// Shipment states (label_shipments.state).
const (
	ShipmentQueued    = "queued"
	ShipmentWorking   = "working"
	ShipmentLabelled  = "labelled"
	ShipmentParked    = "parked"
	ShipmentCancelled = "cancelled"
)

// Label-request states (label_requests.state).
const (
	RequestPending       = "pending"        // committed, carrier call under way (or cut short by a crash)
	RequestCreated       = "created"        // the carrier sold the label; it is stored
	RequestFailed        = "failed"         // the carrier said no, or was never reached: no label exists
	RequestUnknown       = "unknown"        // sent, no answer: a label may exist
	RequestNone          = "none"           // reconciled: the carrier has no label for it
	RequestOrphanVoided  = "orphan_voided"  // reconciled: the label it bought was found and voided
	RequestVoidRequested = "void_requested" // to be voided (order cancelled)
	RequestVoided        = "voided"         // voided at the carrier
	RequestVoidFailed    = "void_failed"    // the carrier refused the void; a person must look
)

// Account is one carrier account the hub buys labels with.
type Account struct {
	// Name is the account's key in rules ("ups-main").
	Name   string
	Client carriers.Client
}

// Config configures the label service.
type Config struct {
	Accounts []Account
	Rules    []Rule
	Breaker  BreakerConfig
	Retry    RetryConfig
	// Workers is how many shipments are labelled at once (default 4).
	Workers int
	// Dir stores label files in a directory instead of the database.
	Dir string
	// Lease is how long a worker holds a shipment before another may take it over
	// (a crashed worker's shipment); default 2m.
	Lease time.Duration
	// ReconcileAfter is how long an unknown outcome settles before the reconciler
	// asks the carrier (default 30s): a label bought by a request that timed out may
	// take a moment to be findable.
	ReconcileAfter time.Duration
	// Poll is how often idle workers and the background loops look for work
	// (default 20ms for workers; the background loops use 5× that).
	Poll time.Duration
	// DeferredBackoff is the least time a deferred shipment waits before an automatic
	// replay (doubling with each failure, at most 5m); default 5s.
	DeferredBackoff time.Duration
}

func (c *Config) setDefaults() {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.Lease <= 0 {
		c.Lease = 2 * time.Minute
	}
	if c.ReconcileAfter <= 0 {
		c.ReconcileAfter = 30 * time.Second
	}
	if c.Poll <= 0 {
		c.Poll = 20 * time.Millisecond
	}
	if c.DeferredBackoff <= 0 {
		c.DeferredBackoff = 5 * time.Second
	}
	c.Retry.setDefaults()
}

// Service buys, stores, reconciles and voids labels.
type Service struct {
	cfg      Config
	store    *store.Store
	router   *router.Router
	log      *slog.Logger
	accounts map[string]Account
	breakers *breakers
	replayer Replayer

	wake chan struct{}
	once sync.Once

	m metrics
}

// Replayer replays DLQ entries: the DLQ console. The service replays the shipments it
// parked when what held them is resolved.
type Replayer interface {
	// Parked lists the open entries of handler: id, class, metadata, when it last
	// failed and how many times.
	Parked(ctx context.Context, handler string) ([]ParkedEntry, error)
	Replay(ctx context.Context, id int64) error
}

// ParkedEntry is an open DLQ entry the service may replay.
type ParkedEntry struct {
	ID           int64
	MessageUUID  string
	Class        string
	Metadata     map[string]string
	LastFailedAt time.Time
	TimesFailed  int
}

type metrics struct {
	labels   *prometheus.CounterVec
	calls    *prometheus.HistogramVec
	unknown  prometheus.Counter
	orphans  prometheus.Counter
	fallback *prometheus.CounterVec
}

// New builds the service; Register adds its handlers to r and Run starts its workers.
func New(cfg Config, st *store.Store, r *router.Router, rp Replayer, logger *slog.Logger, reg prometheus.Registerer) (*Service, error) {
	cfg.setDefaults()
	s := &Service{cfg: cfg, store: st, router: r, log: logger, replayer: rp, accounts: map[string]Account{},
		wake: make(chan struct{}, 1)}
	for _, a := range cfg.Accounts {
		if a.Name == "" || a.Client == nil {
			return nil, fmt.Errorf("labels: account %q has no name or client", a.Name)
		}
		s.accounts[a.Name] = a
	}
	for _, rule := range cfg.Rules {
		for _, c := range rule.Use {
			if _, ok := s.accounts[c.Account]; !ok {
				return nil, fmt.Errorf("labels: rule %s uses account %q, which is not configured", rule.Name, c.Account)
			}
		}
	}
	if cfg.Dir != "" {
		if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
			return nil, fmt.Errorf("labels: creating the label directory: %w", err)
		}
	}
	s.breakers = newBreakers(cfg.Breaker, reg)
	s.breakers.onChange = func(account string, op carriers.Op, to gobreaker.State) {
		s.log.Warn("carrier circuit breaker changed state", "account", account, "op", op, "state", to.String())
	}
	s.m = metrics{
		labels: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_labels_total",
			Help: "Label requests by account and outcome."}, []string{"account", "outcome"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "paklog_carrier_call_seconds",
			Help: "Carrier calls (with their retries), by account and operation.", Buckets: prometheus.DefBuckets},
			[]string{"account", "op"}),
		unknown: prometheus.NewCounter(prometheus.CounterOpts{Name: "paklog_label_unknown_total",
			Help: "Label requests whose outcome was unknown (sent, no answer)."}),
		orphans: prometheus.NewCounter(prometheus.CounterOpts{Name: "paklog_label_orphans_voided_total",
			Help: "Labels found by reconciliation after an unknown outcome and voided."}),
		fallback: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_label_fallbacks_total",
			Help: "Shipments passed from one carrier service to the next, by the account skipped."}, []string{"account"}),
	}
	if reg != nil {
		reg.MustRegister(s.m.labels, s.m.calls, s.m.unknown, s.m.orphans, s.m.fallback)
	}
	return s, nil
}

// Register adds labels.request (fulfilment.shipments) and labels.cancel
// (fulfilment.cancellations) to r.
func (s *Service) Register(r *router.Router) error {
	if err := r.Handle(HandlerRequest, router.TopicFulfilmentShipments, s.handleShipment); err != nil {
		return err
	}
	if err := r.Handle(HandlerCancel, router.TopicFulfilmentCancellation, s.handleCancel); err != nil {
		return err
	}
	r.DeclareTopics(router.TopicLabelsCreated)
	return nil
}

// BreakerState is the state of an account's breaker for op.
func (s *Service) BreakerState(account string, op carriers.Op) gobreaker.State {
	return s.breakers.State(account, op)
}

func (s *Service) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// handleShipment queues a packed shipment, or re-arms a parked one on a DLQ replay.
func (s *Service) handleShipment(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	sh, err := canonical.DecodeShipment(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaShipment, err))
	}
	md, _ := json.Marshal(map[string]string(msg.Metadata))
	now := store.Now()
	var cancelled int
	if err := tx.QueryRow(`SELECT COUNT(*) FROM label_cancelled_orders WHERE order_id = ?`, sh.OrderID).Scan(&cancelled); err != nil {
		return err
	}
	if cancelled > 0 {
		// The cancel came first (they travel on different topics): no label.
		_, err := tx.Exec(`INSERT INTO label_shipments (shipment_id, order_id, payload, message_uuid, metadata, state, detail,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (shipment_id) DO NOTHING`,
			sh.ShipmentID, sh.OrderID, []byte(msg.Payload), msg.UUID, string(md), ShipmentCancelled, "order cancelled before packing", now, now)
		return err
	}
	var state string
	err = tx.QueryRow(`SELECT state FROM label_shipments WHERE shipment_id = ?`, sh.ShipmentID).Scan(&state)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.Exec(`INSERT INTO label_shipments (shipment_id, order_id, payload, message_uuid, metadata, state,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			sh.ShipmentID, sh.OrderID, []byte(msg.Payload), msg.UUID, string(md), ShipmentQueued, now, now); err != nil {
			return fmt.Errorf("queueing shipment %s for labels: %w", sh.ShipmentID, err)
		}
	case err != nil:
		return err
	case state == ShipmentParked && msg.Metadata.Get(router.MetaReplayOf) != "":
		// A replay: the payload may have been fixed by the operator.
		if _, err := tx.Exec(`UPDATE label_shipments SET state = ?, payload = ?, metadata = ?, not_before = NULL,
			detail = ?, updated_at = ? WHERE shipment_id = ?`, ShipmentQueued, []byte(msg.Payload), string(md),
			"replayed from DLQ entry "+msg.Metadata.Get(router.MetaReplayOf), now, sh.ShipmentID); err != nil {
			return err
		}
	default:
		// A redelivery, or a replay of a shipment that is queued, labelled or
		// cancelled: the stored state stands.
		return nil
	}
	s.nudge()
	return nil
}

// handleCancel voids the labels of a cancelled order and stops its unlabelled
// shipments.
func (s *Service) handleCancel(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	c, err := canonical.DecodeOrderCancel(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaOrderCancel, err))
	}
	if c.OrderID == "" {
		return nil
	}
	now := store.Now()
	if _, err := tx.Exec(`INSERT INTO label_cancelled_orders (order_id, cancelled_at) VALUES (?, ?) ON CONFLICT (order_id) DO NOTHING`,
		c.OrderID, now); err != nil {
		return err
	}
	res, err := tx.Exec(`UPDATE label_requests SET state = ?, updated_at = ? WHERE state = ? AND shipment_id IN
		(SELECT shipment_id FROM label_shipments WHERE order_id = ?)`, RequestVoidRequested, now, RequestCreated, c.OrderID)
	if err != nil {
		return err
	}
	n, _ := res.RowsAffected()
	if _, err := tx.Exec(`UPDATE label_shipments SET state = ?, detail = ?, updated_at = ? WHERE order_id = ? AND state <> ?`,
		ShipmentCancelled, "order cancelled", now, c.OrderID, ShipmentCancelled); err != nil {
		return err
	}
	if n > 0 {
		s.nudge()
		return tx.Trail(c.OrderID, store.StageCancelRequested, fmt.Sprintf("%d label(s) to void", n))
	}
	return nil
}

// requestRow is a label_requests row.
type requestRow struct {
	ID, ShipmentID, PackageID   string
	Attempt                     int
	Carrier, Account, Service   string
	Rule, Hash, State, Tracking string
	CarrierShipmentID, Format   string
	CostAmount, CostCurrency    string
	Error, ErrorClass           string
	CreatedAt, UpdatedAt        time.Time
}

const requestCols = `id, shipment_id, package_id, attempt, carrier, account, service, rule, request_hash, state,
	tracking_number, carrier_shipment_id, label_format, cost_amount, cost_currency, error, error_class, created_at, updated_at`

func scanRequest(sc interface{ Scan(...any) error }) (requestRow, error) {
	var r requestRow
	err := sc.Scan(&r.ID, &r.ShipmentID, &r.PackageID, &r.Attempt, &r.Carrier, &r.Account, &r.Service, &r.Rule, &r.Hash,
		&r.State, &r.Tracking, &r.CarrierShipmentID, &r.Format, &r.CostAmount, &r.CostCurrency, &r.Error, &r.ErrorClass, &r.CreatedAt, &r.UpdatedAt)
	return r, err
}

func (s *Service) requests(ctx context.Context, q store.Execer, where string, args ...any) ([]requestRow, error) {
	rows, err := q.QueryContext(ctx, s.store.Rebind(`SELECT `+requestCols+` FROM label_requests WHERE `+where), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []requestRow
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *Service) exec(ctx context.Context, q string, args ...any) error {
	_, err := s.store.DB().ExecContext(ctx, s.store.Rebind(q), args...)
	return err
}

// requestHash identifies what was asked of the carrier: the same package asked
// again with other data is not the same request.
func requestHash(c Choice, sh canonical.Shipment, p canonical.Package) string {
	b, _ := json.Marshal(struct {
		C        Choice
		From, To canonical.Address
		P        canonical.Package
		F        canonical.LabelFormat
	}{c, sh.ShipFrom, sh.ShipTo, p, sh.LabelFormat})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Reference is the customer reference a label request is bought with: its id
// without dashes (32 characters, within every carrier's limit).
func Reference(requestID string) string { return strings.ReplaceAll(requestID, "-", "") }

func newRequestID() string { return uuid.NewString() }

// LabelFile returns a stored label by its request id.
func (s *Service) LabelFile(ctx context.Context, id string) (canonical.LabelFormat, []byte, error) {
	var format, path string
	var data []byte
	err := s.store.ReadDB().QueryRowContext(ctx, s.store.Rebind(`SELECT label_format, label, label_path FROM label_requests
		WHERE id = ? AND tracking_number <> ''`), id).Scan(&format, &data, &path)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("label %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return "", nil, err
	}
	if path != "" {
		data, err = os.ReadFile(path)
		if err != nil {
			return "", nil, fmt.Errorf("reading label %s: %w", id, err)
		}
	}
	return canonical.LabelFormat(format), data, nil
}

// saveLabel writes a label to the directory (when configured), returning its path.
func (s *Service) saveLabel(id string, l *carriers.Label) (string, error) {
	if s.cfg.Dir == "" {
		return "", nil
	}
	ext := map[canonical.LabelFormat]string{canonical.LabelPDF: ".pdf", canonical.LabelPNG: ".png", canonical.LabelZPL: ".zpl"}[l.Format]
	path := filepath.Join(s.cfg.Dir, id+ext)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(l.Data); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return path, os.Rename(tmp, path)
}
