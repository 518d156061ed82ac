// Package shops runs what the hub does with shops beyond taking their webhooks: the
// Shopify reconciliation poll that finds orders the webhooks missed, the check that a
// shop's webhook subscriptions still exist, and the fulfilment targets that send
// shipments back. Checkpoints (watermarks) live in the hub's store.
package shops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	adaptshopify "github.com/paklog/integration-hub/adapters/shopify"
	"github.com/paklog/integration-hub/connectors/shopify"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/confirm"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
)

// ShopifyCheckpoint keeps each shop's reconciliation watermark in the store.
type ShopifyCheckpoint struct{ Store *store.Store }

func shopifyCheckpointName(shop string) string { return "shopify.reconcile:" + shop }

// Load implements shopify.Checkpoint.
func (c ShopifyCheckpoint) Load(ctx context.Context, shop string) (time.Time, error) {
	v, err := c.Store.Checkpoint(ctx, shopifyCheckpointName(shop))
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("checkpoint %s holds %q, not a time: %w", shopifyCheckpointName(shop), v, err)
	}
	return t, nil
}

// Save implements shopify.Checkpoint.
func (c ShopifyCheckpoint) Save(ctx context.Context, shop string, t time.Time) error {
	return c.Store.SaveCheckpoint(ctx, shopifyCheckpointName(shop), t.UTC().Format(time.RFC3339Nano))
}

// ShopifySink commits the orders a reconciliation poll read through the intake: the
// same path as webhooks (inbound.shopify, normalize.shopify's last-writer-wins by
// updated_at), keyed by order id and version so each version is stored once.
func ShopifySink(in *intake.Intake, log *slog.Logger) shopify.Sink {
	return func(ctx context.Context, shop string, orders []shopify.Order) error {
		for _, o := range orders {
			res, err := in.Accept(ctx, intake.Item{
				Source:         adaptshopify.Source,
				Partner:        shop,
				IdempotencyKey: fmt.Sprintf("poll:%d@%s", o.ID, o.UpdatedAt.UTC().Format(time.RFC3339Nano)),
				Payload:        o.Body,
				ContentType:    "application/json",
				Metadata:       map[string]string{adaptshopify.MetaTopic: o.Topic, "shopify_via": "reconcile"},
			})
			var conflict *intake.ConflictError
			switch {
			case errors.As(err, &conflict):
				// The same version read again in another shape (an API version change):
				// the first one stands.
				log.Warn("shopify order version read again with a different body; the first stands", "shop", shop, "order", o.ID, "updated_at", o.UpdatedAt)
			case err != nil:
				return fmt.Errorf("committing shopify order %d (%s): %w", o.ID, o.Name, err)
			case !res.Duplicate:
				log.Info("shopify order found by the reconciliation poll", "shop", shop, "order", o.ID, "name", o.Name, "topic", o.Topic, "updated_at", o.UpdatedAt)
			}
		}
		return nil
	}
}

// Shopify is the hub's admin side of every shop with Admin API access.
type Shopify struct {
	shops   []*shop
	log     *slog.Logger
	metrics *metrics
}

type shop struct {
	name      string
	client    *shopify.Client
	rec       *shopify.Reconciler
	every     time.Duration
	subsEvery time.Duration
	subs      []shopify.Subscription
	fulfil    bool
}

type metrics struct {
	polls      *prometheus.CounterVec
	found      *prometheus.CounterVec
	lastPoll   *prometheus.GaugeVec
	missing    *prometheus.GaugeVec
	recreated  *prometheus.CounterVec
	subsChecks *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_shopify_reconcile_polls_total",
			Help: "Reconciliation polls of a shop, by result (ok, error)."}, []string{"shop", "result"}),
		found: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_shopify_reconcile_orders_total",
			Help: "Orders read by reconciliation polls (most are already known; the normalize handler keeps one)."}, []string{"shop"}),
		lastPoll: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_shopify_reconcile_last_success_timestamp_seconds",
			Help: "When the shop's last reconciliation poll succeeded."}, []string{"shop"}),
		missing: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_shopify_subscriptions_missing",
			Help: "Webhook subscriptions found missing at the last check (Shopify removes those whose deliveries kept failing): alert when above 0."}, []string{"shop"}),
		recreated: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_shopify_subscriptions_recreated_total",
			Help: "Webhook subscriptions the hub created again."}, []string{"shop"}),
		subsChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "paklog_shopify_subscription_checks_total",
			Help: "Webhook subscription checks, by result (ok, missing, error)."}, []string{"shop", "result"}),
	}
	for _, c := range []prometheus.Collector{m.polls, m.found, m.lastPoll, m.missing, m.recreated, m.subsChecks} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ShopifyClientConfig is the connector configuration of a configured shop.
func ShopifyClientConfig(sh config.Shop, log *slog.Logger) shopify.Config {
	return shopify.Config{Shop: sh.Name, Domain: sh.Domain, AccessToken: sh.Admin.AccessToken.Value(), APIVersion: sh.Admin.APIVersion,
		BaseURL: sh.Admin.BaseURL, Logger: log}
}

// NewShopify builds the admin side of the configured shops that have an access
// token. Shops without one are left to their webhooks. wrap, when not nil, wraps the
// reconciliation sink (tests use it to fail a commit).
func NewShopify(cfg config.Config, st *store.Store, in *intake.Intake, reg prometheus.Registerer, log *slog.Logger, wrap func(shopify.Sink) shopify.Sink) (*Shopify, error) {
	s := &Shopify{log: log}
	var err error
	if s.metrics, err = newMetrics(reg); err != nil {
		return nil, err
	}
	for i, sh := range cfg.Channels.Shopify.Shops {
		if !sh.Admin.Enabled() {
			continue
		}
		field := fmt.Sprintf("channels.shopify.shops[%d].admin", i)
		client, err := shopify.New(ShopifyClientConfig(sh, log.With("shop", sh.Name)))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		one := &shop{name: sh.Name, client: client, every: sh.Admin.ReconcileEvery(), subsEvery: sh.Admin.SubscriptionEvery(), fulfil: sh.Admin.FulfilBack()}
		{ // the poll can be run by hand (Reconcile) even when its schedule is off
			rc := shopify.ReconcileConfig{Overlap: sh.Admin.Reconcile.Overlap.Std(), PageSize: sh.Admin.Reconcile.PageSize,
				InitialLookback: sh.Admin.Reconcile.Lookback.Std()}
			sink := ShopifySink(in, log.With("adapter", "shopify-reconcile"))
			if wrap != nil {
				sink = wrap(sink)
			}
			if one.rec, err = shopify.NewReconciler(client, ShopifyCheckpoint{st}, sink, rc); err != nil {
				return nil, fmt.Errorf("%s.reconcile: %w", field, err)
			}
		}
		for _, t := range sh.Admin.SubscriptionTopics() {
			one.subs = append(one.subs, shopify.Subscription{Topic: t, CallbackURL: sh.Admin.Subscriptions.CallbackURL})
		}
		s.shops = append(s.shops, one)
	}
	return s, nil
}

// Targets are the fulfilment targets of the shops that take shipments back, keyed
// by confirm.ShopifyTarget.
func (s *Shopify) Targets() map[string]partners.Target {
	out := map[string]partners.Target{}
	for _, sh := range s.shops {
		if sh.fulfil {
			out[confirm.ShopifyTarget(sh.name)] = confirm.Shopify{Client: sh.client}
		}
	}
	return out
}

// Active reports whether any shop has a poll or a subscription check to run.
func (s *Shopify) Active() bool {
	for _, sh := range s.shops {
		if sh.every > 0 || sh.subsEvery > 0 {
			return true
		}
	}
	return false
}

// Reconcile runs one reconciliation poll of the named shop (for `paklog` and tests).
func (s *Shopify) Reconcile(ctx context.Context, name string) (shopify.PollResult, error) {
	for _, sh := range s.shops {
		if sh.name == name && sh.rec != nil {
			return s.poll(ctx, sh)
		}
	}
	return shopify.PollResult{}, fmt.Errorf("shop %q has no reconciliation poll configured", name)
}

// CheckSubscriptions checks the named shop's webhook subscriptions once.
func (s *Shopify) CheckSubscriptions(ctx context.Context, name string) (shopify.Ensured, error) {
	for _, sh := range s.shops {
		if sh.name == name && len(sh.subs) > 0 && sh.subsEvery > 0 {
			return s.check(ctx, sh)
		}
	}
	return shopify.Ensured{}, fmt.Errorf("shop %q has no subscription check configured (admin.subscriptions.callback_url)", name)
}

func (s *Shopify) poll(ctx context.Context, sh *shop) (shopify.PollResult, error) {
	res, err := sh.rec.Poll(ctx)
	s.metrics.found.WithLabelValues(sh.name).Add(float64(res.Orders))
	if err != nil {
		s.metrics.polls.WithLabelValues(sh.name, "error").Inc()
		return res, err
	}
	s.metrics.polls.WithLabelValues(sh.name, "ok").Inc()
	s.metrics.lastPoll.WithLabelValues(sh.name).SetToCurrentTime()
	return res, nil
}

func (s *Shopify) check(ctx context.Context, sh *shop) (shopify.Ensured, error) {
	got, err := sh.client.EnsureSubscriptions(ctx, sh.subs)
	if err != nil {
		s.metrics.subsChecks.WithLabelValues(sh.name, "error").Inc()
		return got, err
	}
	s.metrics.missing.WithLabelValues(sh.name).Set(float64(len(got.Missing)))
	s.metrics.recreated.WithLabelValues(sh.name).Add(float64(len(got.Created)))
	if len(got.Missing) > 0 {
		s.metrics.subsChecks.WithLabelValues(sh.name, "missing").Inc()
		var topics []string
		for _, m := range got.Missing {
			topics = append(topics, m.Topic)
		}
		s.log.Error("shopify webhook subscriptions were missing: Shopify removes subscriptions whose deliveries kept failing; created again, and the reconciliation poll picks up what was missed",
			"shop", sh.name, "missing", topics, "created", len(got.Created))
	} else {
		s.metrics.subsChecks.WithLabelValues(sh.name, "ok").Inc()
	}
	return got, nil
}

// Run runs every shop's poll and subscription check until ctx ends; one shop's
// failures never hold up another's.
func (s *Shopify) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, sh := range s.shops {
		if sh.every > 0 {
			wg.Go(func() {
				every(ctx, sh.every, func() {
					if res, err := s.poll(ctx, sh); err != nil && ctx.Err() == nil {
						s.log.Warn("shopify reconciliation poll failed; the next starts again from the saved watermark",
							"shop", sh.name, "error", err, "class", shopify.ClassOf(err), "orders_committed", res.Orders)
					}
				})
			})
		}
		if sh.subsEvery > 0 && len(sh.subs) > 0 {
			wg.Go(func() {
				every(ctx, sh.subsEvery, func() {
					if _, err := s.check(ctx, sh); err != nil && ctx.Err() == nil {
						s.log.Warn("shopify subscription check failed", "shop", sh.name, "error", err, "class", shopify.ClassOf(err))
					}
				})
			})
		}
	}
	wg.Wait()
}

// every runs fn at once and then every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
