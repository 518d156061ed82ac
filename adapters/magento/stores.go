package magento

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/paklog/integration-hub/canonical"
	magentoapi "github.com/paklog/integration-hub/connectors/magento"
	"github.com/paklog/integration-hub/internal/intake"
)

// Source is the intake source of Magento orders; they go to inbound.magento.
const Source = string(canonical.ChannelMagento)

// Message metadata set on every accepted order version (besides the hub's own keys:
// the partner is the store's name). The handler needs only the body and the partner;
// these say which version of which order a message holds without decoding it.
const (
	MetaEntityID    = "magento_entity_id"
	MetaIncrementID = "magento_increment_id"
	MetaUpdatedAt   = "magento_updated_at" // RFC 3339, UTC
	MetaState       = "magento_state"
	MetaStoreCode   = "magento_store_code"
)

// Acceptor commits an order version durably; *intake.Intake is one.
type Acceptor interface {
	// Accept returns once item is committed, with the first result when its
	// idempotency key was accepted before (Duplicate set), or an error wrapping
	// intake.ErrConflict when the key was accepted with another payload. If ctx
	// ends first the item may still commit. Safe for concurrent use.
	Accept(ctx context.Context, item intake.Item) (intake.Result, error)
}

// Stores polls the configured Magento stores into the intake and serves their
// trigger endpoint, POST /webhooks/magento/{store}. It is safe for concurrent use.
type Stores struct {
	stores  map[string]*storeEntry
	names   []string
	in      Acceptor
	maxBody int64
	log     *slog.Logger
	m       *metrics
}

type storeEntry struct {
	name   string
	code   string
	client *magentoapi.Client
	poller *magentoapi.Poller
	hmac   [][]byte
	bearer [][sha256.Size]byte
	log    *slog.Logger
}

// New validates cfg and builds a client and a poller per store, each poller keeping
// its watermark in cp(store name). Nothing is fetched before Run. A nil log discards.
func New(cfg Config, in Acceptor, cp func(store string) magentoapi.Checkpoint, log *slog.Logger) (*Stores, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if in == nil || cp == nil {
		return nil, errors.New("magento: an intake and checkpoints are required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("adapter", "magento")
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Stores{stores: map[string]*storeEntry{}, in: in, maxBody: cfg.MaxBody, log: log, m: m}
	for _, sc := range cfg.Stores {
		client, err := magentoapi.New(sc.Client)
		if err != nil {
			return nil, fmt.Errorf("magento store %s: %w", sc.Name, err)
		}
		e := &storeEntry{name: sc.Name, code: sc.Client.Store, client: client, hmac: nonEmpty(sc.Trigger.HMACSecrets),
			log: log.With("partner", sc.Name)}
		if e.code == "" {
			e.code = magentoapi.DefaultStore
		}
		for _, t := range nonEmpty(sc.Trigger.BearerTokens) {
			e.bearer = append(e.bearer, sha256.Sum256(t))
		}
		var checkpoint magentoapi.Checkpoint = cp(sc.Name)
		if checkpoint != nil && sc.Lookback > 0 {
			checkpoint = lookback{Checkpoint: checkpoint, d: sc.Lookback}
		}
		pc := sc.Poll
		pc.Logger = e.log
		if e.poller, err = magentoapi.NewPoller(client, checkpoint, s.sink(e), pc); err != nil {
			return nil, fmt.Errorf("magento store %s: %w", sc.Name, err)
		}
		s.stores[sc.Name] = e
		s.names = append(s.names, sc.Name)
		m.seed(sc.Name)
	}
	slices.Sort(s.names)
	return s, nil
}

// Names lists the stores, sorted.
func (s *Stores) Names() []string { return slices.Clone(s.names) }

// Client returns the store's Magento client (for shipping back), or false for an
// unknown store.
func (s *Stores) Client(store string) (*magentoapi.Client, bool) {
	e, ok := s.stores[store]
	if !ok {
		return nil, false
	}
	return e.client, true
}

// Poll runs one pass of the store's poller now (for a command or a test; Run polls on
// its own). It waits for a pass or triggered fetch under way. Cancelling ctx stops
// the pass between requests; the watermark then stays at the last committed page.
func (s *Stores) Poll(ctx context.Context, store string) (magentoapi.PassStats, error) {
	e, ok := s.stores[store]
	if !ok {
		return magentoapi.PassStats{}, fmt.Errorf("magento: no store %q is configured", store)
	}
	return e.poller.Poll(ctx)
}

// Run polls every store until ctx ends, each on its own goroutine: a pass at once,
// then every poll interval, and triggered orders as soon as the trigger endpoint
// names them. A pass that fails (Magento down, refused credentials, the intake
// unavailable) is logged with the store's name and retried at the next pass; one
// store failing never holds up another. Run returns nil once every poller has
// stopped; a pass under way stops between requests, so Run must return before the
// intake closes.
func (s *Stores) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, name := range s.names {
		e := s.stores[name]
		wg.Go(func() {
			e.log.Info("magento poller started", "store_code", e.code)
			_ = e.poller.Run(ctx) // returns only when ctx ends
			e.log.Debug("magento poller stopped")
		})
	}
	wg.Wait()
	return nil
}

// IdempotencyKey is the intake key of an order version: "<entity_id>@<updated_at>",
// updated_at in RFC 3339 UTC, such as "1042@2026-11-21T08:02:17Z", with its fraction
// of a second when the source sends one ("…T08:02:17.25Z"), so that two versions saved
// within one second are two keys. A version fetched again has the same key; a newer
// one a new key.
func IdempotencyKey(o magentoapi.RawOrder) string {
	return strconv.FormatInt(o.EntityID, 10) + "@" + o.UpdatedAt.UTC().Format(time.RFC3339Nano)
}

// sink commits a page of orders: every order is accepted at once (the intake commits
// them together) and the sink returns nil only when all of them are durable.
func (s *Stores) sink(e *storeEntry) magentoapi.Sink {
	return func(ctx context.Context, orders []magentoapi.RawOrder) error {
		errs := make([]error, len(orders))
		var wg sync.WaitGroup
		for i, o := range orders {
			wg.Go(func() { errs[i] = s.accept(ctx, e, o) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

func (s *Stores) accept(ctx context.Context, e *storeEntry, o magentoapi.RawOrder) error {
	key := IdempotencyKey(o)
	md := map[string]string{
		MetaEntityID:  strconv.FormatInt(o.EntityID, 10),
		MetaUpdatedAt: o.UpdatedAt.UTC().Format(time.RFC3339Nano),
		MetaStoreCode: e.code,
	}
	if o.IncrementID != "" {
		md[MetaIncrementID] = clip(o.IncrementID)
	}
	if o.State != "" {
		md[MetaState] = clip(o.State)
	}
	res, err := s.in.Accept(ctx, intake.Item{
		Source:         Source,
		Partner:        e.name,
		IdempotencyKey: key,
		Payload:        o.Body,
		ContentType:    "application/json",
		Metadata:       md,
	})
	var conflict *intake.ConflictError
	switch {
	case errors.As(err, &conflict):
		// The same entity_id and updated_at with other bytes: Magento changed
		// something without saving the order (or the list and the single GET
		// differ). That version is stored already; the next save brings a new
		// updated_at. Refusing it would stop the watermark for good.
		e.log.Info("magento order version stored before with a different body: the first is kept",
			"entity_id", o.EntityID, "updated_at", md[MetaUpdatedAt])
		s.m.orders.WithLabelValues(e.name, "conflict").Inc()
		return nil
	case err != nil:
		s.m.orders.WithLabelValues(e.name, "failed").Inc()
		return fmt.Errorf("accepting magento order %d of %s: %w", o.EntityID, md[MetaUpdatedAt], err)
	case res.Duplicate:
		s.m.orders.WithLabelValues(e.name, "duplicate").Inc()
	default:
		s.m.orders.WithLabelValues(e.name, "stored").Inc()
		e.log.Debug("magento order version accepted", "entity_id", o.EntityID, "updated_at", md[MetaUpdatedAt],
			"state", o.State, "message_uuid", res.MessageUUID)
	}
	return nil
}

// lookback starts a store never polled before d before now instead of at the
// beginning of its history.
type lookback struct {
	magentoapi.Checkpoint
	d time.Duration
}

func (l lookback) Load(ctx context.Context) (magentoapi.Watermark, error) {
	w, err := l.Checkpoint.Load(ctx)
	if err == nil && w == (magentoapi.Watermark{}) {
		w.UpdatedAt = time.Now().UTC().Add(-l.d).Truncate(time.Second)
	}
	return w, err
}

// maxMeta is the longest value from Magento kept as metadata.
const maxMeta = 200

// clip shortens a value from outside before it is logged or kept as metadata.
func clip(s string) string {
	if len(s) > maxMeta {
		return s[:maxMeta] + "…"
	}
	return s
}
