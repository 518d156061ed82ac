package shopify

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Subscription is a webhook subscription the hub needs: a topic, in REST
// form ("orders/create") or GraphQL enum form ("ORDERS_CREATE"), and the
// URL Shopify posts to.
type Subscription struct {
	Topic       string
	CallbackURL string
}

// EnumTopic is a topic in GraphQL enum form: "orders/create" →
// "ORDERS_CREATE".
func EnumTopic(topic string) string {
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(topic), "/", "_"))
}

// RemoteSubscription is a subscription as the shop lists it.
type RemoteSubscription struct {
	ID          string // gid://shopify/WebhookSubscription/N
	Topic       string // enum form
	CallbackURL string
}

// Ensured says what EnsureSubscriptions found and did.
type Ensured struct {
	// Missing were wanted and not in the shop: a non-empty list is worth an
	// alert (Shopify removes a subscription whose callback kept failing).
	Missing []Subscription
	// Created are the missing ones created again.
	Created []Subscription
}

const subscriptionsQuery = `query WebhookSubscriptions($first: Int!, $after: String) {
  webhookSubscriptions(first: $first, after: $after) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}`

const subscriptionCreateMutation = `mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}`

// Subscriptions lists the shop's webhook subscriptions (those of this app:
// Shopify shows an app only its own).
func (c *Client) Subscriptions(ctx context.Context) ([]RemoteSubscription, error) {
	var out []RemoteSubscription
	var after any
	for {
		var data struct {
			WebhookSubscriptions struct {
				Nodes []struct {
					ID          string `json:"id"`
					Topic       string `json:"topic"`
					URI         string `json:"uri"`
					CallbackURL string `json:"callbackUrl"`
				} `json:"nodes"`
				PageInfo struct {
					HasNextPage bool    `json:"hasNextPage"`
					EndCursor   *string `json:"endCursor"`
				} `json:"pageInfo"`
			} `json:"webhookSubscriptions"`
		}
		err := c.do(ctx, call{op: "webhookSubscriptions", query: subscriptionsQuery,
			vars: map[string]any{"first": 100, "after": after}}, &data)
		if err != nil {
			return nil, fmt.Errorf("listing webhook subscriptions: %w", err)
		}
		for _, n := range data.WebhookSubscriptions.Nodes {
			uri := n.URI
			if uri == "" {
				uri = n.CallbackURL
			}
			out = append(out, RemoteSubscription{ID: n.ID, Topic: n.Topic, CallbackURL: uri})
		}
		p := data.WebhookSubscriptions.PageInfo
		if !p.HasNextPage || p.EndCursor == nil {
			return out, nil
		}
		after = *p.EndCursor
	}
}

// EnsureSubscriptions lists the shop's webhook subscriptions and creates
// each wanted one (same topic and callback URL) that is missing. It returns
// what was missing and what it created; failures to create are joined in
// the error, each an *Error (a userError is Permanent). A create that timed
// out may have succeeded: the next call finds it. Cancelling ctx stops
// between and within calls.
func (c *Client) EnsureSubscriptions(ctx context.Context, want []Subscription) (Ensured, error) {
	var res Ensured
	have, err := c.Subscriptions(ctx)
	if err != nil {
		return res, err
	}
	exists := map[[2]string]bool{}
	for _, h := range have {
		exists[[2]string{h.Topic, h.CallbackURL}] = true
	}
	var errs []error
	for _, w := range want {
		key := [2]string{EnumTopic(w.Topic), w.CallbackURL}
		if exists[key] {
			continue
		}
		exists[key] = true // a duplicate in want is created once
		res.Missing = append(res.Missing, w)
		var data struct {
			WebhookSubscriptionCreate struct {
				WebhookSubscription *struct {
					ID string `json:"id"`
				} `json:"webhookSubscription"`
				UserErrors []UserError `json:"userErrors"`
			} `json:"webhookSubscriptionCreate"`
		}
		err := c.do(ctx, call{op: "webhookSubscriptionCreate", query: subscriptionCreateMutation, mutation: true,
			vars: map[string]any{"topic": key[0], "webhookSubscription": map[string]any{"uri": w.CallbackURL, "format": "JSON"}}}, &data)
		if err == nil && len(data.WebhookSubscriptionCreate.UserErrors) > 0 {
			err = &Error{Shop: c.cfg.Shop, Op: "webhookSubscriptionCreate", Class: Permanent,
				UserErrors: data.WebhookSubscriptionCreate.UserErrors, Err: ErrUserErrors}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("creating the %s subscription to %s: %w", key[0], w.CallbackURL, err))
			continue
		}
		res.Created = append(res.Created, w)
	}
	return res, errors.Join(errs...)
}
