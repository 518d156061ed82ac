package router

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/transforms/shopify"
)

// MetaShopifyTopic is the webhook topic on an inbound.shopify message (set by the
// webhook adapter).
const MetaShopifyTopic = "shopify_topic"

// ShopifyConfig holds each shop's mapping options by shop key; Default applies to
// shops not listed.
type ShopifyConfig struct {
	Default shopify.Options
	Shops   map[string]shopify.Options
}

// RegisterShopify adds the normalize handler of inbound.shopify.
func RegisterShopify(r *Router, cfg ShopifyConfig) error {
	r.DeclareTopics(TopicFulfilmentOrders, TopicFulfilmentCancellation)
	h := &shopifyHandler{cfg: cfg}
	// No processed-key record: the handler is idempotent by itself. A message handled
	// again carries a version no newer than the one recorded, and changes nothing.
	// The mapping, most of the handler's work, is done ahead of the consumer, outside
	// its transaction (WithPrepare).
	return r.Handle("normalize.shopify", InboundTopic(string(canonical.ChannelShopify)), h.handle, WithoutDedupe(),
		WithPrepare(func(msg *message.Message) any { return h.mapWebhook(msg) }))
}

func (h *shopifyHandler) mapWebhook(msg *message.Message) mapping[shopify.Result] {
	shop := msg.Metadata.Get(MetaPartner)
	opts, ok := h.cfg.Shops[shop]
	if !ok {
		opts = h.cfg.Default
	}
	res, err := shopify.OrderFromWebhook(msg.Metadata.Get(MetaShopifyTopic), msg.Payload, shop, opts)
	return mapping[shopify.Result]{res, err}
}

type shopifyHandler struct{ cfg ShopifyConfig }

// handle maps one webhook delivery. Shopify delivers at least once and out of order,
// so the last writer wins by the order's own updated_at: a delivery older than (or as
// old as) one already seen for the same shop and order changes nothing. Then:
//
//   - an order the hub does not have yet is released to fulfilment.orders when the
//     shop's release rules allow (an orders/updated before its orders/create, or an
//     orders/paid after an unpaid create, both release it);
//   - an order the hub has is not sent again: changes to it are not applied (there is
//     no canonical change message yet) and are logged;
//   - a cancellation of an order the hub has goes to fulfilment.cancellations; of one
//     it never released, nothing is sent;
//   - a body the mapping rejects is a validation error, parked in the DLQ with every
//     problem.
func (h *shopifyHandler) handle(ctx context.Context, tx *Tx, msg *message.Message) error {
	shop := msg.Metadata.Get(MetaPartner)
	topic := msg.Metadata.Get(MetaShopifyTopic)
	mapped := PreparedOr(tx, func() mapping[shopify.Result] { return h.mapWebhook(msg) })
	res, err := mapped.res, mapped.err
	if err != nil {
		if errors.Is(err, shopify.ErrTopic) {
			return fault.AsPermanent(fmt.Errorf("shopify %s webhook from %s: %w", topic, shop, err))
		}
		return fault.AsValidation(fmt.Errorf("shopify %s webhook from %s (order %s): %w", topic, shop, res.ExternalID, err))
	}
	st := tx.Store()
	ref := store.OrderRef{Channel: string(canonical.ChannelShopify), Partner: shop, ExternalID: res.ExternalID}
	newer, err := st.NewerVersion(ctx, tx, ref, res.UpdatedAt)
	if err != nil {
		return err
	}
	log := tx.router.log.With("shop", shop, "topic", topic, "shopify_order", res.ExternalID, "message_uuid", msg.UUID)
	if !newer {
		log.Info("shopify webhook older than what the hub has seen: ignored", "updated_at", res.UpdatedAt)
		return nil
	}
	switch {
	case res.Cancel != nil:
		id, known, err := st.LookupOrderID(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !known {
			log.Info("shopify cancellation of an order never released: nothing to cancel")
			return nil
		}
		c := *res.Cancel
		c.OrderID = id
		return tx.requestCancel(c, "", "shopify "+topic+": "+c.Reason)
	case res.Order != nil:
		id, released, err := tx.releaseOrder(ctx, *res.Order, "from shopify "+topic+" of "+shop)
		if err == nil && !released {
			log.Info("shopify order already released: changes are not applied", "order_id", id)
		}
		return err
	default:
		log.Info("shopify order not released", "reason", res.Skip)
		return nil
	}
}
