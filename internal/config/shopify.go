package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// ShopAdmin is a shop's Admin API access (GraphQL): what the hub does beyond taking
// webhooks. With an access token the hub polls for the orders webhooks missed, checks
// that its webhook subscriptions still exist, and sends fulfilments back.
type ShopAdmin struct {
	AccessToken   Secret            `yaml:"access_token"` // Admin API access token (X-Shopify-Access-Token)
	APIVersion    string            `yaml:"api_version"`  // default 2025-10
	BaseURL       string            `yaml:"base_url"`     // instead of https://DOMAIN: a proxy or a simulator
	Reconcile     ShopReconcile     `yaml:"reconcile"`    // the poll that finds orders the webhooks missed
	Subscriptions ShopSubscriptions `yaml:"subscriptions"`
	Fulfilments   string            `yaml:"fulfilments"` // "on" (default): shipments go back as fulfilments; "off"
}

// ShopReconcile tunes the reconciliation poll.
type ShopReconcile struct {
	Off      bool     `yaml:"off"`       // true turns the poll off
	Interval Duration `yaml:"interval"`  // between polls; default 5m
	Overlap  Duration `yaml:"overlap"`   // each poll starts this far before the watermark; default 10m
	Lookback Duration `yaml:"lookback"`  // where the first poll starts; default 24h
	PageSize int      `yaml:"page_size"` // orders per query, 1..250; default 25
}

// ShopSubscriptions is the webhook subscription check.
type ShopSubscriptions struct {
	CallbackURL string   `yaml:"callback_url"` // the hub's public POST /webhooks/shopify URL; empty turns the check off
	Topics      []string `yaml:"topics"`       // default orders/create, orders/updated, orders/paid, orders/cancelled
	Every       Duration `yaml:"every"`        // default 15m
}

// Shop admin defaults.
const (
	DefaultShopReconcileInterval = 5 * time.Minute
	DefaultShopSubscriptionEvery = 15 * time.Minute
)

// DefaultShopTopics are the webhook topics the hub subscribes a shop to.
var DefaultShopTopics = []string{"orders/create", "orders/updated", "orders/paid", "orders/cancelled"}

// Enabled reports whether the shop has Admin API access configured.
func (a ShopAdmin) Enabled() bool { return a.AccessToken.Value() != "" || a.AccessToken.err != nil }

// FulfilBack reports whether shipments go back to the shop as fulfilments.
func (a ShopAdmin) FulfilBack() bool { return a.Enabled() && a.Fulfilments != "off" }

// ReconcileEvery is the poll interval; 0 when the poll is off.
func (a ShopAdmin) ReconcileEvery() time.Duration {
	if !a.Enabled() || a.Reconcile.Off {
		return 0
	}
	if a.Reconcile.Interval == 0 {
		return DefaultShopReconcileInterval
	}
	return a.Reconcile.Interval.Std()
}

// SubscriptionTopics are the topics to keep subscribed.
func (a ShopAdmin) SubscriptionTopics() []string {
	if len(a.Subscriptions.Topics) == 0 {
		return DefaultShopTopics
	}
	return a.Subscriptions.Topics
}

// SubscriptionEvery is how often the subscriptions are checked; 0 when off.
func (a ShopAdmin) SubscriptionEvery() time.Duration {
	if !a.Enabled() || a.Subscriptions.CallbackURL == "" {
		return 0
	}
	if a.Subscriptions.Every == 0 {
		return DefaultShopSubscriptionEvery
	}
	return a.Subscriptions.Every.Std()
}

func (c Config) validateShopAdmin(v *validator) {
	for i, sh := range c.Channels.Shopify.Shops {
		a := sh.Admin
		field := fmt.Sprintf("channels.shopify.shops[%d].admin", i)
		v.secretRef(field+".access_token", a.AccessToken)
		if !a.Enabled() {
			if a.Subscriptions.CallbackURL != "" || a.Fulfilments != "" || a.BaseURL != "" {
				v.add(field+".access_token", "is required for the reconciliation poll, the subscription check and fulfilments")
			}
			continue
		}
		if a.BaseURL != "" {
			if u, err := url.Parse(a.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(field+".base_url", fmt.Sprintf("must be an http(s) URL such as https://proxy.example.com, got %q", a.BaseURL))
			}
		}
		if a.Fulfilments != "" {
			v.oneOf(field+".fulfilments", a.Fulfilments, "on", "off")
		}
		if a.Reconcile.Interval != 0 {
			v.durRange(field+".reconcile.interval", a.Reconcile.Interval, Duration(10*time.Second), Duration(24*time.Hour))
		}
		v.durRange(field+".reconcile.overlap", a.Reconcile.Overlap, 0, Duration(24*time.Hour))
		v.durRange(field+".reconcile.lookback", a.Reconcile.Lookback, 0, Duration(90*24*time.Hour))
		if a.Reconcile.PageSize != 0 {
			v.intRange(field+".reconcile.page_size", a.Reconcile.PageSize, 1, 250)
		}
		if cb := a.Subscriptions.CallbackURL; cb != "" {
			if u, err := url.Parse(cb); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				v.add(field+".subscriptions.callback_url", fmt.Sprintf("must be the hub's public URL of POST /webhooks/shopify, got %q", cb))
			}
			if a.Subscriptions.Every != 0 {
				v.durRange(field+".subscriptions.every", a.Subscriptions.Every, Duration(time.Minute), Duration(24*time.Hour))
			}
		}
		for j, t := range a.Subscriptions.Topics {
			if !strings.Contains(t, "/") {
				v.add(fmt.Sprintf("%s.subscriptions.topics[%d]", field, j), fmt.Sprintf(`must be a webhook topic such as "orders/create", got %q`, t))
			}
		}
	}
}
