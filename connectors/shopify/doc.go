// Package shopify is the hub's outbound edge to Shopify shops, through the
// GraphQL Admin API (POST https://{shop}/admin/api/{version}/graphql.json,
// header X-Shopify-Access-Token; version DefaultAPIVersion unless configured).
// One Client per shop does three jobs:
//
//   - Reconciliation. Webhooks get lost (a shop that removed a failing
//     subscription, a delivery that never came). A Reconciler polls
//     orders(query: "updated_at:>='<watermark − overlap>'", sortKey: UPDATED_AT)
//     page by page, converts each Order node into the REST / webhook JSON that
//     transforms/shopify.OrderFromWebhook reads (WebhookJSON), hands each page
//     to a Sink that commits through the hub's idempotent path, and only then
//     moves the shop's watermark (a Checkpoint) to the newest updated_at
//     committed. The overlap (DefaultOverlap) re-reads recent orders on
//     purpose; the sink's dedupe and last-writer-wins by updated_at make that
//     harmless.
//   - Subscription health. EnsureSubscriptions lists webhookSubscriptions and
//     creates the missing ones with webhookSubscriptionCreate, returning what
//     was missing so the caller can raise an alert.
//   - Fulfilment back. CreateFulfillment reads the order's fulfilmentOrders
//     and fulfilments, then calls fulfillmentCreate with the tracking number;
//     the tracking number makes it idempotent: after a timeout, and before any
//     retry, it reads the order again and returns the fulfilment it finds.
//
// # Rate limits
//
// Shopify meters GraphQL by query cost: each answer's extensions.cost has
// requestedQueryCost, actualQueryCost and throttleStatus{maximumAvailable,
// currentlyAvailable, restoreRate}. The client remembers the bucket and each
// operation's last requested cost, and before a call waits until the bucket,
// restored since, holds it. A THROTTLED error (HTTP 200) is waited out for
// (requested − available) / restoreRate, an HTTP 429 for its Retry-After, and
// tried again with backoff (cenkalti/backoff/v4), up to Config.MaxRetries.
//
// # Errors
//
// Every failure is an *Error with a Class: Permanent (userErrors, with field
// and message; 401/403 as ErrUnauthorized; other 4xx), Throttled (retries ran
// out), Transient (5xx or a connection error on a query: nothing happened) and
// Ambiguous (a mutation sent without a clear answer: read before retrying).
// ClassOf reads it with errors.As.
//
// # Example
//
//	client, err := shopify.New(shopify.Config{Shop: "acme", Domain: "acme.myshopify.com", AccessToken: token})
//	if err != nil {
//		return err
//	}
//	rec, err := shopify.NewReconciler(client, checkpoints, commitOrders, shopify.ReconcileConfig{})
//	if err != nil {
//		return err
//	}
//	go rec.Run(ctx, 5*time.Minute)
//	f, err := client.CreateFulfillment(ctx, orderID, shopify.Tracking{Company: "UPS", Number: "1Z999AA10123456784"}, nil)
package shopify
