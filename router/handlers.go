package router

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
)

// CanonicalSources are the channels whose adapters accept canonical order JSON
// (manual entry and CSV import): their inbound messages need validation and routing,
// no translation.
var CanonicalSources = []string{string(canonical.ChannelAPI), string(canonical.ChannelCSV), string(canonical.ChannelCustom)}

// RegisterCore adds the handlers every hub runs: normalize for each canonical inbound
// source, and the trail recorders of the fulfilment core's events.
func RegisterCore(r *Router) error {
	for _, src := range CanonicalSources {
		if err := r.Handle("normalize."+src, InboundTopic(src), NormalizeCanonicalOrder); err != nil {
			return err
		}
	}
	if err := r.Handle("trail.packed", TopicFulfilmentShipments, RecordPacked); err != nil {
		return err
	}
	if err := r.Handle("trail.shipped", TopicFulfilmentShipped, RecordShipped); err != nil {
		return err
	}
	r.DeclareTopics(TopicFulfilmentOrders, TopicFulfilmentCancellation)
	return nil
}

// NormalizeCanonicalOrder validates a canonical order from an inbound topic and routes it
// to fulfilment.orders. An invalid order is a validation error: it goes to the DLQ
// with every problem listed.
func NormalizeCanonicalOrder(ctx context.Context, tx *Tx, msg *message.Message) error {
	o, err := canonical.DecodeOrder(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaOrder, err))
	}
	return tx.routeOrder(ctx, o, msg.Payload)
}

// routeOrder publishes an order that has its hub id (body is its JSON) to the topic
// RouteOrder picks, and records the routed stage. The idempotency key is the order
// id: whatever path an order takes twice, the core sees it once. The order is kept as
// released for what goes back to the source when it ships (an 856 repeats the
// order's parties and lines).
func (tx *Tx) routeOrder(ctx context.Context, o canonical.Order, body []byte) error {
	if err := tx.Store().SaveOrder(ctx, tx, o.OrderID, body); err != nil {
		return err
	}
	topic := RouteOrder(o)
	if err := tx.publishOrder(o, body, topic); err != nil {
		return err
	}
	return tx.Trail(o.OrderID, store.StageRouted, "published to "+topic)
}

// publishOrder publishes an order that has its hub id (body is its JSON) to topic,
// under idempotency key "order:<id>".
func (tx *Tx) publishOrder(o canonical.Order, body []byte, topic string) error {
	out := message.NewMessage(watermill.NewUUID(), body)
	out.Metadata.Set(MetaSchema, canonical.SchemaOrder)
	out.Metadata.Set(MetaOrderID, o.OrderID)
	out.Metadata.Set(MetaIdempotencyKey, "order:"+o.OrderID)
	return tx.Publish(topic, out)
}

// releaseOrder gives an order translated from a source its stable hub id and routes
// it, recording the accepted stage with detail. An order the hub already has is not
// sent again: released is false.
func (tx *Tx) releaseOrder(ctx context.Context, o canonical.Order, detail string) (id string, released bool, err error) {
	ref := store.OrderRef{Channel: string(o.Source.Channel), Partner: o.Source.Partner, ExternalID: o.Source.ExternalID}
	// The order is written out with the id it gets if it is new; ReleaseOrder keeps
	// it, with its trail, only then (one round trip on PostgreSQL).
	o.OrderID = canonical.NewOrderID()
	o.Source.ReceivedAt = store.Now()
	body, err := o.MarshalJSON()
	if err != nil {
		return "", false, err
	}
	topic := RouteOrder(o)
	id, existed, err := tx.Store().ReleaseOrder(ctx, tx, ref, o.OrderID, body,
		tx.trailEntry(o.OrderID, store.StageAccepted, detail), tx.trailEntry(o.OrderID, store.StageRouted, "published to "+topic))
	if err != nil || existed {
		return id, false, err
	}
	return id, true, tx.publishOrder(o, body, topic)
}

// requestCancel publishes a cancel of an order the hub has (c.OrderID set) to
// fulfilment.cancellations under idempotency key "cancel:<order id><keySuffix>", and
// records the stage with detail.
func (tx *Tx) requestCancel(c canonical.OrderCancel, keySuffix, detail string) error {
	c.Source.ReceivedAt = store.Now()
	body, err := c.MarshalJSON()
	if err != nil {
		return err
	}
	out := message.NewMessage(watermill.NewUUID(), body)
	out.Metadata.Set(MetaSchema, canonical.SchemaOrderCancel)
	out.Metadata.Set(MetaOrderID, c.OrderID)
	out.Metadata.Set(MetaIdempotencyKey, "cancel:"+c.OrderID+keySuffix)
	if err := tx.Publish(TopicFulfilmentCancellation, out); err != nil {
		return err
	}
	return tx.Trail(c.OrderID, store.StageCancelRequested, detail)
}

// RouteOrder picks the topic an order goes to. Today every order goes to the fulfilment
// core's order topic; content-based rules (per partner, per warehouse) plug in here.
func RouteOrder(canonical.Order) string { return TopicFulfilmentOrders }

// RecordPacked adds the "packed" stage to the order of a shipment the core packed.
func RecordPacked(ctx context.Context, tx *Tx, msg *message.Message) error {
	s, err := canonical.DecodeShipment(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaShipment, err))
	}
	return tx.Trail(s.OrderID, store.StagePacked, fmt.Sprintf("shipment %s, %d package(s)", s.ShipmentID, len(s.Packages)))
}

// RecordShipped adds the "shipped" stage to the order of a confirmed shipment.
func RecordShipped(ctx context.Context, tx *Tx, msg *message.Message) error {
	c, err := canonical.DecodeShipConfirm(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaShipConfirm, err))
	}
	return tx.Trail(c.OrderID, store.StageShipped, fmt.Sprintf("shipment %s via %s %s", c.ShipmentID, c.Carrier, c.Service))
}
