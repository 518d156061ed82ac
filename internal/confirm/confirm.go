// Package confirm sends shipments back to where their orders came from. When the
// fulfilment core confirms a shipment (fulfilment.shipped), the hub looks up the
// order's source and:
//
//   - for a Shopify shop, records a fulfilment job: a delivery worker calls
//     fulfillmentCreate with the tracking, reading the shop's state first so a retry
//     never makes a second fulfilment;
//   - for a Magento store, records a ship job: POST /V1/order/{id}/ship with the
//     tracks, checked against the order's shipments before every attempt;
//   - for an X12 trading partner that wants them, writes an 856 ship notice or a 945
//     shipping advice and publishes it to outbound.edi, where the partner's own
//     delivery (SFTP, FTP, the hosted inbox, AS2) takes it.
//
// Jobs run in partners.Delivery: recorded in the consumer's transaction, put by
// leased workers outside it, retried with backoff, parked in the DLQ when a retry
// cannot help, and started over by a DLQ replay.
package confirm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	x12 "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/partners"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
	x12map "github.com/paklog/integration-hub/transforms/x12"
)

// Handler is the router handler that turns shipments into work back to the sources.
const Handler = "confirm.shipped"

// Target keys of the shop and store delivery targets.
func ShopifyTarget(shop string) string  { return "shopify:" + shop }
func MagentoTarget(store string) string { return "magento:" + store }

// EDIPartner is what a trading partner gets back when its order ships.
type EDIPartner struct {
	// Set is "856" (ship notice), "945" (shipping advice) or "" (nothing).
	Set string
	// Options shape the document (warehouse party, SCACs, time zone).
	Options x12map.OutboundOptions
}

// Config says who gets what back.
type Config struct {
	// EDI by partner key; partners not listed get nothing.
	EDI map[string]EDIPartner
	// Now is the clock of the documents (time.Now when nil).
	Now func() time.Time
}

// Register subscribes the handler to fulfilment.shipped. Shops and stores get their
// jobs when d has a target for them (ShopifyTarget, MagentoTarget).
func Register(r *router.Router, cfg Config, d *partners.Delivery) error {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r.DeclareTopics(partners.TopicOutboundEDI)
	c := &confirmer{cfg: cfg, d: d}
	return r.Handle(Handler, router.TopicFulfilmentShipped, c.handle)
}

type confirmer struct {
	cfg Config
	d   *partners.Delivery
}

func (c *confirmer) handle(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	sc, err := canonical.DecodeShipConfirm(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("message %s is not a valid %s: %w", msg.UUID, canonical.SchemaShipConfirm, err))
	}
	ref, err := tx.Store().OrderRefOf(ctx, tx, sc.OrderID)
	if errors.Is(err, store.ErrNotFound) {
		// An order the hub never released (entered in the core by hand): no source to
		// tell.
		return nil
	}
	if err != nil {
		return err
	}
	var key string
	switch ref.Channel {
	case string(canonical.ChannelShopify):
		key = ShopifyTarget(ref.Partner)
	case "magento":
		key = MagentoTarget(ref.Partner)
	case string(canonical.ChannelEDI):
		return c.shipNotice(ctx, tx, msg, sc, ref)
	default:
		return nil
	}
	if !c.d.HasTarget(key) {
		return nil // the shop or store does not take shipments back
	}
	id := msg.UUID
	replay := msg.Metadata.Get(partners.MetaDeliveryID)
	if replay != "" {
		id = replay // a DLQ replay: the parked job starts over
	}
	md := maps.Clone(msg.Metadata)
	md.Set(router.MetaOrderID, sc.OrderID)
	return c.d.Enqueue(tx, partners.Job{ID: id, Target: key, Name: ref.ExternalID, Handler: Handler, Topic: router.TopicFulfilmentShipped,
		Payload: msg.Payload, Metadata: md, Replay: replay != ""})
}

// shipNotice writes the partner's 856 or 945 and publishes it to outbound.edi, in
// the consumer's transaction: the control numbers it takes are given back if the
// transaction rolls back, so the partner sees no gaps.
func (c *confirmer) shipNotice(ctx context.Context, tx *router.Tx, msg *message.Message, sc canonical.ShipConfirm, ref store.OrderRef) error {
	p, ok := c.cfg.EDI[ref.Partner]
	if !ok || p.Set == "" {
		return nil
	}
	body, err := tx.Store().ReleasedOrder(ctx, tx, sc.OrderID)
	if err != nil {
		return err
	}
	o, err := canonical.DecodeOrder(body)
	if err != nil {
		return fault.AsPermanent(fmt.Errorf("order %s as released cannot be read back: %w", sc.OrderID, err))
	}
	// We answer from the id the partner sent to, to the id it sent from.
	from, to := o.Attributes["x12_receiver_id"], o.Attributes["x12_sender_id"]
	sq, sid, ok1 := strings.Cut(from, ":")
	rq, rid, ok2 := strings.Cut(to, ":")
	if !ok1 || !ok2 || sid == "" || rid == "" {
		return fault.AsPermanent(fmt.Errorf("order %s has no X12 sender and receiver ids (attributes x12_sender_id %q, x12_receiver_id %q): the %s cannot be addressed",
			sc.OrderID, to, from, p.Set))
	}
	st := tx.Store()
	next := func(kind string) (string, error) {
		n, err := st.NextControlNumber(ctx, tx, ref.Partner, kind)
		if err != nil {
			return "", err
		}
		return x12.FormatControlNumber(kind, n), nil
	}
	isa, err := next("ISA")
	if err != nil {
		return err
	}
	gs, err := next("GS")
	if err != nil {
		return err
	}
	stc, err := next("ST")
	if err != nil {
		return err
	}
	now := c.cfg.Now().UTC()
	var out bytes.Buffer
	w, err := x12.NewWriter(&out, x12.DefaultDelimiters, x12.WithLineEnding("\n"))
	if err != nil {
		return err
	}
	if err := w.BeginInterchange(&x12.Interchange{SenderQualifier: sq, SenderID: sid, ReceiverQualifier: rq, ReceiverID: rid,
		Date: now.Format("060102"), Time: now.Format("1504"), Version: "00401", ControlNumber: isa, Usage: "P"}); err != nil {
		return err
	}
	if err := w.BeginGroup(&x12.FunctionalGroup{FunctionalID: x12map.FunctionalID(p.Set), ApplicationSender: sid, ApplicationReceiver: rid,
		Date: now.Format("20060102"), Time: now.Format("1504"), ControlNumber: gs, Agency: "X", Version: "004010"}); err != nil {
		return err
	}
	opts := p.Options
	opts.Now = now
	switch p.Set {
	case "856":
		err = x12map.WriteASN856(w, stc, sc, o, opts)
	case "945":
		err = x12map.WriteShipAdvice945(w, stc, sc, o, opts)
	default:
		err = fmt.Errorf("ship notice %q: 856 or 945", p.Set)
	}
	if err != nil {
		return fault.AsPermanent(fmt.Errorf("writing the %s of shipment %s for partner %s: %w", p.Set, sc.ShipmentID, ref.Partner, err))
	}
	if err := w.EndGroup(); err != nil {
		return err
	}
	if err := w.EndInterchange(); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	out2 := message.NewMessage(watermill.NewUUID(), out.Bytes())
	out2.Metadata.Set(router.MetaPartner, ref.Partner)
	out2.Metadata.Set(router.MetaOrderID, sc.OrderID)
	out2.Metadata.Set(router.MetaIdempotencyKey, p.Set+":"+sc.ShipmentID)
	out2.Metadata.Set(partners.MetaDeliveryName, fmt.Sprintf("%s_%s.edi", p.Set, isa))
	return tx.Publish(partners.TopicOutboundEDI, out2)
}
