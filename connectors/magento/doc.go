// Package magento is the hub's connector to a Magento 2 (Adobe Commerce)
// store's REST API: it polls orders in (Poller), and ships them back
// (Client.Ship).
//
// # Authentication
//
// A Magento integration has four credentials: consumer key and secret,
// access token and secret. By default every request is signed with
// OAuth 1.0a, HMAC-SHA256 (Magento 2.4.4+; HMAC-SHA1 for older stores),
// using github.com/dghubble/oauth1. AuthBearer sends the access token as a
// bearer token instead, for stores that allow it.
//
// # Polling
//
// Magento has no reliable order webhook of its own, so orders are polled
// with GET /rest/<store>/V1/orders. Offset paging on that endpoint is
// unsafe: a currentPage past the end repeats the last page, and orders
// with the same updated_at come back in a different order on every
// request. ListOrdersUpdatedSince pages by keyset instead — updated_at
// gteq the window's start, entity_id gt the cursor, sorted by entity_id —
// and drops anything at or below the cursor. A Poller pass walks the pages,
// commits each to a Sink, and only then saves a Watermark in its
// Checkpoint; passes start Overlap (5 minutes) before the last watermark,
// so orders saved while a pass ran are not lost. A pass that fails
// part-way saves its cursor, and the next pass resumes after it; a resumed
// pass keeps the watermark where the failed one started, so the pass after
// it sweeps every entity_id again and finds what changed below the cursor
// meanwhile. Delivery is at least once; the sink deduplicates. Trigger fetches one order at once, for a
// webhook or message-queue event.
//
//	p, err := magento.NewPoller(client, checkpoint, func(ctx context.Context, orders []magento.RawOrder) error {
//		return intake.StoreAndPublish(ctx, orders) // durable before returning nil
//	}, magento.PollerConfig{})
//	go p.Run(ctx)
//
// # Shipping back
//
// POST /V1/order/{id}/ship is not idempotent: a retry after a timeout may
// ship twice. Ship looks for our shipment (by tracking number, else by the
// items' qty_shipped) before every attempt and returns the one it finds.
// For a configurable product, ship the parent item id — the canonical line
// number transforms/magento gives it.
//
// # Errors
//
// Every failed call is an *Error with the HTTP status and Magento's
// message (its %1/%name parameters filled in) and a Class: Permanent,
// Auth, Transient or Ambiguous. Use ClassOf to decide.
package magento
