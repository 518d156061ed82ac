package router

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	magentomap "github.com/paklog/integration-hub/transforms/magento"
)

// MagentoConfig holds each Magento store's release rules and mapping by store key (the
// partner of its inbound messages); Default applies to stores not listed.
type MagentoConfig struct {
	Default magentomap.Options
	Stores  map[string]magentomap.Options
}

// Validate checks every store's options, naming the store.
func (c MagentoConfig) Validate() error {
	var errs []error
	if err := c.Default.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("magento default mapping: %w", err))
	}
	for _, name := range slices.Sorted(maps.Keys(c.Stores)) {
		if err := c.Stores[name].Validate(); err != nil {
			errs = append(errs, fmt.Errorf("magento store %s mapping: %w", name, err))
		}
	}
	return errors.Join(errs...)
}

// RegisterMagento adds the normalize handler of inbound.magento, where the Magento
// adapter (adapters/magento) commits each order version it polled or was told of. The
// options are checked here, so that a bad release rule stops the start instead of
// parking every order.
func RegisterMagento(r *Router, cfg MagentoConfig) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.DeclareTopics(TopicFulfilmentOrders, TopicFulfilmentCancellation)
	h := &magentoHandler{cfg: cfg}
	// No processed-key record: the handler is idempotent by itself (see RegisterShopify).
	// The mapping is done ahead of the consumer (see RegisterShopify).
	return r.Handle("normalize.magento", InboundTopic(string(canonical.ChannelMagento)), h.handle, WithoutDedupe(),
		WithPrepare(func(msg *message.Message) any { return h.mapOrder(msg) }))
}

type magentoHandler struct{ cfg MagentoConfig }

func (h *magentoHandler) mapOrder(msg *message.Message) mapping[magentomap.Result] {
	storeKey := msg.Metadata.Get(MetaPartner)
	opts, ok := h.cfg.Stores[storeKey]
	if !ok {
		opts = h.cfg.Default
	}
	res, err := magentomap.OrderFromREST(msg.Payload, storeKey, opts)
	return mapping[magentomap.Result]{res, err}
}

// handle maps one Magento order version. The adapter delivers at least once, and a
// poll's overlap window, a triggered fetch and a redelivery can bring the same or an
// older version after a newer one, so the last writer wins by the order's own
// updated_at: a version older than (or as old as) one already seen for the same store
// and entity_id changes nothing. Then:
//
//   - an order the hub does not have yet is released to fulfilment.orders when the
//     store's release rules allow (a pending_payment order is skipped, and released by
//     the version that reaches processing);
//   - an order the hub has is not sent again: changes to it are not applied (there is
//     no canonical change message yet) and are logged;
//   - a cancellation (state canceled, or a store's cancel_states) of an order the hub
//     has goes to fulfilment.cancellations; of one it never released, nothing is sent;
//   - a body the mapping rejects is a validation error, parked in the DLQ with every
//     problem; its version is not recorded, so a corrected version is taken.
func (h *magentoHandler) handle(ctx context.Context, tx *Tx, msg *message.Message) error {
	storeKey := msg.Metadata.Get(MetaPartner)
	mapped := PreparedOr(tx, func() mapping[magentomap.Result] { return h.mapOrder(msg) })
	res, err := mapped.res, mapped.err
	if err != nil {
		return fault.AsValidation(fmt.Errorf("magento order %s of store %s: %w", orDash(res.ExternalID), storeKey, err))
	}
	st := tx.Store()
	ref := store.OrderRef{Channel: string(canonical.ChannelMagento), Partner: storeKey, ExternalID: res.ExternalID}
	newer, err := st.NewerVersion(ctx, tx, ref, res.UpdatedAt)
	if err != nil {
		return err
	}
	log := tx.router.log.With("partner", storeKey, "magento_order", res.ExternalID, "message_uuid", msg.UUID)
	if !newer {
		log.Info("magento order version not newer than what the hub has seen: ignored", "updated_at", res.UpdatedAt)
		return nil
	}
	detail := "from magento store " + storeKey
	switch {
	case res.Cancel != nil:
		id, known, err := st.LookupOrderID(ctx, tx, ref)
		if err != nil {
			return err
		}
		if !known {
			log.Info("magento cancellation of an order never released: nothing to cancel")
			return nil
		}
		c := *res.Cancel
		c.OrderID = id
		return tx.requestCancel(c, "", "magento store "+storeKey+": "+c.Reason)
	case res.Order != nil:
		id, released, err := tx.releaseOrder(ctx, *res.Order, detail)
		if err == nil && !released {
			log.Info("magento order already released: changes are not applied", "order_id", id)
		}
		return err
	default:
		log.Info("magento order not released", "reason", res.Skip, "updated_at", res.UpdatedAt)
		return nil
	}
}

// orDash is s, or "-" when s is empty (a body without a usable entity_id).
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
