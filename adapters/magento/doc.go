// Package magento is the hub's Magento 2 (Adobe Commerce) inbound channel: it polls
// each configured store's orders with connectors/magento and commits every order
// version it fetches to inbound.magento through the intake, where the
// normalize.magento handler (router.RegisterMagento) maps it and keeps the newest.
//
// # Polling
//
// Magento has no reliable order webhook, so each store has a connectors/magento
// Poller: a pass every poll interval fetches the orders updated since the store's
// watermark less the overlap, page by page, and the watermark moves only after the
// page was committed. The Sink of every poller accepts each order into the intake
// with the idempotency key
//
//	<entity_id>@<updated_at, RFC 3339>      e.g. 1042@2026-11-21T08:02:17Z
//
// so the same version fetched again (the overlap, a redelivery, a triggered fetch) is
// stored once, while a version with a newer updated_at is stored again and reaches
// the handler, which releases, cancels or ignores it. Accept returns only once the
// raw body is durable: a sink that fails (the database down) leaves the watermark at
// the last committed page, and the next pass fetches the orders again. A pass that resumes after
// a failed page (connectors/magento's Poller walks on from the last committed entity_id)
// ends with the watermark where the failed pass started, so that orders below that
// entity_id saved in the meantime are swept up by the next, full pass.
//
// A store the hub has never polled starts Lookback before now (the configuration's
// poll.lookback, 24 hours by default), not at the beginning of the store's history.
//
// # Trigger
//
// POST /webhooks/magento/{store} asks for one order at once, without waiting for the
// next pass: a Magento module, an Adobe I/O event or a person calls it when an order
// changes. The body names the order in one of three shapes:
//
//	{"order_id": 1042}
//	{"entity_id": 1042}
//	{"data": {"order": {"entity_id": 1042, ...}}}   (Magento's event shape)
//
// It authenticates with an X-Paklog-Signature header, the hex HMAC-SHA256 of the raw
// body under one of the store's trigger secrets (an optional "sha256=" prefix is
// allowed), or with "Authorization: Bearer <token>"; two of each during a rotation,
// compared in constant time. The order is fetched with GET /V1/orders/{id} by the
// store's poller and committed like a polled one; the answer does not wait for it:
//
//	202  queued: {"store": "us-store", "order_id": 1042, "queued": true}
//	400  the body is not JSON or names no order
//	401  missing or wrong signature or token
//	404  no such store, or the store has no trigger credentials
//	413  the body is over Config.MaxBody
//
// # Example
//
//	stores, err := magento.New(magento.Config{Stores: []magento.StoreConfig{{
//		Name:    "us-store",
//		Client:  magentoapi.Config{BaseURL: "https://shop.example.com", ConsumerKey: ..., ...},
//		Trigger: magento.Trigger{HMACSecrets: []string{secret}},
//	}}}, in, magento.StoreCheckpoints(st), log)
//	if err != nil {
//		return err
//	}
//	mux.Handle("POST /webhooks/magento/{store}", stores)
//	go stores.Run(ctx) // stop it before the intake closes
package magento
