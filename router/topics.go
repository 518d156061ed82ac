package router

import "strings"

// Topic names (before the deployment prefix). See DESIGN.md, "Messages and topics".
const (
	TopicInboundPrefix          = "inbound."
	TopicFulfilmentOrders       = "fulfilment.orders"
	TopicFulfilmentCancellation = "fulfilment.cancellations"
	TopicFulfilmentShipments    = "fulfilment.shipments"
	TopicLabelsCreated          = "labels.created"
	TopicFulfilmentShipped      = "fulfilment.shipped"
	TopicOutboundPrefix         = "outbound."
	TopicEDIAcks                = "edi.acks"
	TopicDLQ                    = "dlq"
	// TopicReplayPrefix + handler name is the topic a DLQ replay is published to: only
	// that handler subscribes to it, so a replay reaches the handler that failed and no
	// other subscriber of the original topic.
	TopicReplayPrefix = "replay."
)

// Message metadata keys every hub message carries where they apply.
const (
	MetaCorrelationID  = "correlation_id"
	MetaCausationID    = "causation_id"
	MetaSource         = "source"
	MetaPartner        = "partner"
	MetaSchema         = "schema"
	MetaIdempotencyKey = "idempotency_key"
	MetaOrderID        = "order_id"

	// Set on messages published to the dlq topic.
	MetaDLQHandler    = "dlq_handler"
	MetaDLQTopic      = "dlq_topic"
	MetaDLQReason     = "dlq_reason"
	MetaDLQErrorChain = "dlq_error_chain"
	MetaDLQClass      = "dlq_class"
	MetaDLQAttempts   = "dlq_attempts"
	MetaDLQFailedAt   = "dlq_failed_at"
	MetaDLQMessageID  = "dlq_message_uuid"

	// Set on a replayed message: the DLQ entry it came from.
	MetaReplayOf = "replay_of"
	// MetaReplayFreshKey "1" on a DLQ entry makes each replay carry an idempotency key
	// of its own: for entries a handler parked itself while succeeding (one bad set of
	// a file), whose key the handler has recorded as processed.
	MetaReplayFreshKey = "replay_fresh_key"
)

// InboundTopic is the topic an adapter of source publishes accepted payloads to.
func InboundTopic(source string) string { return TopicInboundPrefix + source }

// ReplayTopic is the topic only handler subscribes to for DLQ replays.
func ReplayTopic(handler string) string { return TopicReplayPrefix + handler }

// Topics applies a deployment's prefix to topic names.
type Topics struct{ Prefix string }

// Name is topic with the deployment prefix.
func (t Topics) Name(topic string) string { return t.Prefix + topic }

// Base is name without the deployment prefix.
func (t Topics) Base(name string) string { return strings.TrimPrefix(name, t.Prefix) }
