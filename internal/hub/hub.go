// Package hub wires the hub together from its configuration: the store, the router with
// the core handlers and the DLQ consumer, the intake, and the HTTP server. `paklog
// serve`, `paklog demo` and the end-to-end tests all start the hub through New and Run.
package hub

import (
	"maps"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/paklog/integration-hub/adapters/custom"
	"github.com/paklog/integration-hub/adapters/filedrop"
	"github.com/paklog/integration-hub/adapters/magento"
	"github.com/paklog/integration-hub/adapters/sftpinbox"
	"github.com/paklog/integration-hub/internal/confirm"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/shops"

	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/paklog/integration-hub/adapters/shopify"
	shopifyconn "github.com/paklog/integration-hub/connectors/shopify"
	shopifymap "github.com/paklog/integration-hub/transforms/shopify"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/dlq"
	x12 "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/labels"
	"github.com/paklog/integration-hub/internal/server"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// Options adds to what the configuration says.
type Options struct {
	// Register adds handlers (the fulfilment simulator, a test's handler) before Run.
	Register func(ctx context.Context, r *router.Router) error
	// Labels adjusts the label service's configuration (the demo's and tests' short
	// intervals) before it is built.
	Labels func(*labels.Config)
	// Delivery adjusts the partner delivery configuration (tests' short backoff).
	Delivery func(*partners.DeliveryConfig)
	// PartnerBreaker replaces the partner endpoints' breaker settings.
	PartnerBreaker *partners.BreakerSettings
	// ShopifySink wraps the Shopify reconciliation sink (tests fail a commit with it).
	ShopifySink func(shopifyconn.Sink) shopifyconn.Sink
}

// Hub is a configured, not yet running hub.
type Hub struct {
	Config config.Config
	Store  *store.Store
	Router *router.Router
	Intake *intake.Intake
	Server *server.Server
	DLQ    *dlq.Console
	// Labels buys carrier labels; nil when no carrier account is configured.
	Labels *labels.Service
	// Inbox is the hosted SFTP inbox; nil when no partner has one.
	Inbox *sftpinbox.Server
	// Pollers poll the partners' SFTP and FTP servers.
	Pollers []partners.Poller
	// Delivery puts files to partners (its workers run when a partner has an outbound
	// section).
	Delivery *partners.Delivery
	// PartnerHealth is what each partner endpoint last did (/readyz).
	PartnerHealth *partners.Health
	// Shopify polls the shops with Admin API access for orders their webhooks missed
	// and keeps their webhook subscriptions in place.
	Shopify *shops.Shopify
	// Magento polls the Magento stores; nil when none is configured.
	Magento *magento.Stores
	// AS2 receives at POST /as2 and sends to partners with outbound via as2; nil when
	// no partner exchanges AS2.
	AS2      *partners.AS2
	files    sync.WaitGroup
	Registry *prometheus.Registry
	Log      *slog.Logger
}

// EDIConfig turns the configured partners into the EDI handler's policies. Partners
// not listed get the defaults: acknowledgements by version, the default mapping.
func EDIConfig(c config.Config) router.EDIConfig {
	out := router.EDIConfig{Default: router.EDIPartner{Ack: x12.AckByVersion}, Partners: map[string]router.EDIPartner{}}
	for _, p := range c.Partners {
		kind := x12.AckByVersion
		switch p.X12.Ack {
		case "997":
			kind = x12.Ack997
		case "999":
			kind = x12.Ack999
		}
		out.Partners[p.Name] = router.EDIPartner{Ack: kind, SkipAccepted: p.X12.SkipAccepted, Mapping: p.X12.Mapping}
	}
	return out
}

// ShopifyConfig turns the configured shops into the Shopify handler's options.
func ShopifyConfig(c config.Config) router.ShopifyConfig {
	out := router.ShopifyConfig{Shops: map[string]shopifymap.Options{}}
	for _, sh := range c.Channels.Shopify.Shops {
		out.Shops[sh.Name] = sh.Mapping
	}
	return out
}

// nilIfNone keeps a nil *Webhooks from becoming a non-nil http.Handler.
func nilIfNone(w *shopify.Webhooks) http.Handler {
	if w == nil {
		return nil
	}
	return w
}

// StoreConfig turns the configuration's store section into the store's.
func StoreConfig(c config.Config) store.Config {
	return store.Config{
		Driver:      store.Dialect(c.Store.Driver),
		SQLitePath:  c.Store.SQLite.Path,
		Synchronous: string(c.Store.SQLite.Synchronous),
		PostgresDSN: c.Store.Postgres.DSN.Value(),
		MaxConns:    c.Store.Postgres.MaxConns,
	}
}

// Topics is the configured topic naming.
func Topics(c config.Config) router.Topics { return router.Topics{Prefix: c.Router.TopicPrefix} }

// New opens the store (applying migrations), builds the router, registers the core
// handlers and binds the HTTP listener. Close releases what it opened if Run is never
// called.
func New(ctx context.Context, cfg config.Config, logger *slog.Logger, opts Options) (*Hub, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := store.Open(ctx, StoreConfig(cfg), logger)
	if err != nil {
		return nil, err
	}
	h := &Hub{Config: cfg, Store: st, Log: logger, Registry: prometheus.NewRegistry()}
	h.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := h.build(ctx, opts); err != nil {
		st.Close()
		return nil, err
	}
	return h, nil
}

func (h *Hub) build(ctx context.Context, opts Options) error {
	cfg := h.Config
	topics := Topics(cfg)
	r, err := router.New(h.Store, router.Config{
		Topics:         topics,
		BatchSize:      cfg.Router.BatchSize,
		PollInterval:   cfg.Router.PollInterval.Std(),
		HandlerTimeout: cfg.Router.HandlerTimeout.Std(),
		Retry: router.RetryConfig{
			MaxRetries:      cfg.Router.Retry.MaxRetries,
			InitialInterval: cfg.Router.Retry.InitialInterval.Std(),
			MaxInterval:     cfg.Router.Retry.MaxInterval.Std(),
			Multiplier:      cfg.Router.Retry.Multiplier,
		},
	}, h.Log, h.Registry)
	if err != nil {
		return err
	}
	h.Router = r
	if err := router.RegisterCore(r); err != nil {
		return err
	}
	if err := dlq.Register(r); err != nil {
		return err
	}
	if err := router.RegisterEDI(r, EDIConfig(cfg)); err != nil {
		return err
	}
	if err := router.RegisterShopify(r, ShopifyConfig(cfg)); err != nil {
		return err
	}
	if err := router.RegisterMagento(r, router.MagentoConfig{Stores: cfg.Channels.Magento.Mappings()}); err != nil {
		return err
	}
	h.DLQ = dlq.NewConsole(h.Store, topics)
	if len(cfg.Carriers.Accounts) > 0 {
		lc, err := LabelsConfig(cfg)
		if err != nil {
			return err
		}
		if opts.Labels != nil {
			opts.Labels(&lc)
		}
		if h.Labels, err = labels.New(lc, h.Store, r, labels.ConsoleReplayer(h.DLQ), h.Log, h.Registry); err != nil {
			return err
		}
		if err := h.Labels.Register(r); err != nil {
			return err
		}
	}
	r.DeclareTopics(intake.Topics(string(canonical.ChannelAPI), string(canonical.ChannelCSV), string(canonical.ChannelEDI), string(canonical.ChannelShopify), string(canonical.ChannelCustom))...)
	if opts.Register != nil {
		if err := opts.Register(ctx, r); err != nil {
			return err
		}
	}
	h.Intake = intake.New(h.Store, topics, intake.Config{MaxBatch: cfg.Ingest.MaxBatch, MaxWait: cfg.Ingest.MaxWait.Std(),
		SpoolDir: filepath.Join(cfg.DataDir(), "spool")}, h.Log)
	if h.Shopify, err = shops.NewShopify(cfg, h.Store, h.Intake, h.Registry, h.Log, opts.ShopifySink); err != nil {
		h.closePartial()
		return err
	}
	var magentoHooks http.Handler
	if len(cfg.Channels.Magento.Stores) > 0 {
		mc := config.MagentoAdapterConfig(cfg)
		mc.Registerer = h.Registry
		if h.Magento, err = magento.New(mc, h.Intake, magento.StoreCheckpoints(h.Store), h.Log.With("adapter", "magento")); err != nil {
			h.closePartial()
			return err
		}
		magentoHooks = h.Magento
	}
	if err := h.buildPartners(r, opts); err != nil {
		h.closePartial()
		return err
	}
	var shopifyWebhooks *shopify.Webhooks
	if shops := cfg.Channels.Shopify.Shops; len(shops) > 0 {
		wc := shopify.Config{Shops: map[string]shopify.Shop{}, MaxBody: int64(cfg.HTTP.MaxBodyBytes)}
		for _, sh := range shops {
			var secrets []string
			for _, sec := range sh.Secrets {
				secrets = append(secrets, sec.Value())
			}
			wc.Shops[sh.Name] = shopify.Shop{Domain: sh.Domain, Secrets: secrets}
		}
		var err error
		if shopifyWebhooks, err = shopify.New(wc, h.Intake, h.Log); err != nil {
			h.closePartial()
			return err
		}
	}
	var customHooks http.Handler
	if cc := config.CustomConfig(cfg); len(cc.Channels) > 0 {
		hooks, err := custom.New(cc, h.Intake, h.Log)
		if err != nil {
			h.closePartial()
			return err
		}
		customHooks = hooks
	}
	h.Server = server.New(server.Config{
		Addr:            cfg.HTTP.Addr,
		MaxBodyBytes:    int64(cfg.HTTP.MaxBodyBytes),
		ReadTimeout:     cfg.HTTP.ReadTimeout.Std(),
		WriteTimeout:    cfg.HTTP.WriteTimeout.Std(),
		ShutdownTimeout: cfg.HTTP.ShutdownTimeout.Std(),
	}, server.Deps{Store: h.Store, Intake: h.Intake, DLQ: h.DLQ, Gatherer: h.Registry, Running: r.IsRunning, Log: h.Log, Shopify: nilIfNone(shopifyWebhooks), Custom: customHooks, Magento: magentoHooks, AS2: h.AS2.Handler(),
		Labels: labelFiles(h.Labels), Checks: func() map[string]string {
			out := h.PartnerHealth.Checks()
			maps.Copy(out, h.AS2.Checks())
			return out
		}})
	if err := h.Server.Listen(); err != nil {
		h.closePartial()
		return fmt.Errorf("listening on %s (http.addr): %w", cfg.HTTP.Addr, err)
	}
	return nil
}

// buildPartners builds the partners' file exchange: the hosted inbox (listening at
// once, so a taken port fails the start), the pollers and the delivery service.
func (h *Hub) buildPartners(r *router.Router, opts Options) error {
	cfg := h.Config
	h.PartnerHealth = partners.NewHealth()
	m, err := partners.NewMetrics(h.Registry)
	if err != nil {
		return err
	}
	sink := filedrop.IntakeSink{Intake: h.Intake}
	if ic, ok := config.InboxConfig(cfg); ok {
		if h.Inbox, err = sftpinbox.New(ic, sink, h.Log.With("adapter", "sftpinbox")); err != nil {
			return err
		}
		addr, err := h.Inbox.Listen()
		if err != nil {
			return fmt.Errorf("sftp inbox on %s (sftp_inbox.addr): %w", ic.Addr, err)
		}
		h.Log.Info("sftp inbox listening", "addr", addr.String(), "host_key", ssh.FingerprintSHA256(h.Inbox.HostKey()))
	}
	bs := partners.DefaultBreaker
	if opts.PartnerBreaker != nil {
		bs = *opts.PartnerBreaker
	}
	if h.Pollers, err = partners.BuildPollers(cfg, sink, h.PartnerHealth, m, bs, h.Log); err != nil {
		return err
	}
	if h.AS2, err = partners.NewAS2(cfg, h.Store, h.Intake, h.Registry, h.Log); err != nil {
		return err
	}
	targets, err := partners.Targets(cfg, h.Inbox, h.AS2)
	if err != nil {
		return err
	}
	// The delivery handlers always run (they skip partners without an outbound
	// section): a consumer group that started only when the first outbound section
	// appeared would read the topics from the start and send every old acknowledgement.
	// Shipments go back to the shops and stores through the same workers.
	maps.Copy(targets, h.Shopify.Targets())
	for _, st := range cfg.Channels.Magento.Stores {
		if c, ok := h.Magento.Client(st.Name); ok && st.ShipBack() {
			targets[confirm.MagentoTarget(st.Name)] = confirm.Magento{Client: c}
		}
	}
	// A late receipt that proves a parked delivery delivered closes its DLQ entry.
	dc := partners.DeliveryConfig{Targets: targets, Breaker: bs, Resolve: h.DLQ.Resolve}
	if opts.Delivery != nil {
		opts.Delivery(&dc)
	}
	h.Delivery = partners.NewDelivery(dc, h.Store, r, h.PartnerHealth, m, h.Log)
	h.AS2.UseDelivery(h.Delivery) // asynchronous MDNs settle deliveries
	// Refused AS2 messages are parked in the DLQ; their replay handler.
	if err := h.AS2.Register(r); err != nil {
		return err
	}
	if err := h.Delivery.Register(r); err != nil {
		return err
	}
	// Like the delivery handlers, the confirm handler always runs: a consumer group that
	// started only when the first shop took fulfilments back would read every old
	// shipment.
	return confirm.Register(r, ConfirmConfig(cfg), h.Delivery)
}

// ConfirmConfig is what each trading partner gets back when its orders ship.
func ConfirmConfig(c config.Config) confirm.Config {
	out := confirm.Config{EDI: map[string]confirm.EDIPartner{}}
	for _, p := range c.Partners {
		if p.X12.ShipNotice != "" {
			out.EDI[p.Name] = confirm.EDIPartner{Set: p.X12.ShipNotice}
		}
	}
	return out
}

// closePartial releases what build opened when it fails halfway.
func (h *Hub) closePartial() {
	if h.Inbox != nil {
		h.Inbox.Close()
	}
	h.Intake.Close()
}

// Run runs the router and the HTTP server until ctx ends, then shuts down in order:
// stop taking requests (letting those in flight finish), commit what was accepted,
// let the handlers finish, close the store.
func (h *Hub) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	routerDone := make(chan struct{})
	g.Go(func() error {
		defer close(routerDone)
		if err := h.Router.Run(context.WithoutCancel(gctx)); err != nil {
			return fmt.Errorf("router: %w", err)
		}
		return nil
	})
	if h.Labels != nil {
		g.Go(func() error {
			select {
			case <-h.Router.Running():
			case <-gctx.Done():
				return nil
			}
			return h.Labels.Run(gctx)
		})
	}
	if h.Delivery != nil && h.Delivery.Active() {
		g.Go(func() error {
			select {
			case <-h.Router.Running():
			case <-gctx.Done():
				return nil
			}
			return h.Delivery.Run(gctx)
		})
	}
	if h.AS2 != nil {
		g.Go(func() error {
			select {
			case <-h.Router.Running():
			case <-gctx.Done():
				return nil
			}
			h.AS2.Run(gctx) // pending MDNs owed to partners, overdue MDNs owed to us
			return nil
		})
	}
	// The file adapters feed the intake: they stop before it closes, also when the
	// HTTP server fails on its own.
	fctx, stopFiles := context.WithCancel(gctx)
	h.files.Go(func() {
		select {
		case <-h.Router.Running():
		case <-fctx.Done():
			return
		}
		partners.RunPollers(fctx, h.Pollers, h.Log)
	})
	if h.Shopify.Active() {
		h.files.Go(func() {
			select {
			case <-h.Router.Running():
			case <-fctx.Done():
				return
			}
			h.Shopify.Run(fctx)
		})
	}
	if h.Magento != nil {
		h.files.Go(func() {
			select {
			case <-h.Router.Running():
			case <-fctx.Done():
				return
			}
			if err := h.Magento.Run(fctx); err != nil && fctx.Err() == nil {
				h.Log.Error("magento pollers stopped", "error", err)
			}
		})
	}
	if h.Inbox != nil {
		h.files.Go(func() {
			if err := h.Inbox.Serve(fctx); err != nil && fctx.Err() == nil {
				h.Log.Error("sftp inbox stopped", "error", err)
			}
		})
	}
	g.Go(func() error {
		select {
		case <-h.Router.Running():
		case <-gctx.Done():
		case <-routerDone:
		}
		h.Log.Info("paklog hub ready", "addr", "http://"+h.Server.Addr(), "store", h.Store.Dialect(), "handlers", len(h.Router.Handlers()))
		err := h.Server.Serve(gctx)
		if h.AS2 != nil {
			// Asynchronous MDNs under way get a moment; those cut short stay pending.
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = h.AS2.Receiver.Close(cctx)
			cancel()
		}
		stopFiles()
		h.files.Wait()
		h.Intake.Close()
		if cerr := h.Router.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return err
	})
	err := g.Wait()
	if cerr := h.Store.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err != nil {
		h.Log.Error("paklog hub stopped", "error", err)
	} else {
		h.Log.Info("paklog hub stopped")
	}
	return err
}

// Close releases a hub that never ran.
func (h *Hub) Close() error {
	h.closePartial()
	return h.Store.Close()
}

// labelFiles keeps a nil *labels.Service from becoming a non-nil interface.
func labelFiles(s *labels.Service) server.LabelFiles {
	if s == nil {
		return nil
	}
	return s
}
