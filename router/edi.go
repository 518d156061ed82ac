package router

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/paklog/integration-hub/canonical"
	x12 "github.com/paklog/integration-hub/edi/x12"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	x12map "github.com/paklog/integration-hub/transforms/x12"
)

// EDI handler metadata.
const (
	// MetaX12Set, on a DLQ entry the EDI handler parked, names the one set
	// ("ISA13/GS06/ST02") that a replay of the entry processes.
	MetaX12Set = "x12_set"
	// MetaAckKind on an edi.acks message is "997", "999" or "by version".
	MetaAckKind = "x12_ack"
	// metaX12DLQID keeps a parked set's DLQ identity across replays, so a set that
	// fails again updates its entry instead of opening a second one.
	metaX12DLQID = "x12_dlq_id"
)

// EDIPartner is a trading partner's X12 policy.
type EDIPartner struct {
	// Ack is the functional acknowledgement the partner wants: 997, 999 or by the
	// group's version (x12.AckByVersion, the default).
	Ack x12.AckKind
	// SkipAccepted sends no 997/999 for groups whose sets were all accepted.
	SkipAccepted bool
	// Mapping is the partner's 850/940 mapping options.
	Mapping x12map.Options
}

// EDIConfig holds the X12 policies by partner key (the "partner" metadata the adapter
// sets); Default applies to partners not listed.
type EDIConfig struct {
	Default  EDIPartner
	Partners map[string]EDIPartner
}

// For returns the policy of partner name, or the default.
func (c EDIConfig) For(name string) EDIPartner {
	if p, ok := c.Partners[name]; ok {
		return p
	}
	return c.Default
}

// RegisterEDI adds the normalize handler of inbound.edi.
func RegisterEDI(r *Router, cfg EDIConfig) error {
	h := &ediHandler{cfg: cfg}
	r.DeclareTopics(TopicEDIAcks, TopicFulfilmentOrders, TopicFulfilmentCancellation)
	return r.Handle("normalize.edi", InboundTopic(string(canonical.ChannelEDI)), h.handle)
}

type ediHandler struct{ cfg EDIConfig }

// handle turns one received X12 file into acknowledgements and canonical orders:
//
//   - an interchange received before (same partner, sender and ISA13) is not
//     translated again;
//   - the acknowledgements the file calls for (TA1, 997 or 999 per the partner's
//     policy) are published to edi.acks, with control numbers from the partner's
//     gap-free sequences;
//   - each accepted 850 or 940 is translated with the partner's mapping, given its
//     stable order id, and routed to fulfilment.orders; a cancelling 940 or 860 of an
//     order the hub has goes to fulfilment.cancellations; other 860 changes are parked
//     (not applied yet);
//   - each rejected or untranslatable set is parked in the DLQ on its own, with every
//     problem by line, segment and element, and the others go on. A replay of such an
//     entry processes that set only (no acks, no duplicate check).
func (h *ediHandler) handle(ctx context.Context, tx *Tx, msg *message.Message) error {
	partnerKey := msg.Metadata.Get(MetaPartner)
	if partnerKey == "" {
		return fault.AsPermanent(fmt.Errorf("EDI message %s has no partner: the adapter must say who sent it", msg.UUID))
	}
	p := h.cfg.For(partnerKey)
	replay := msg.Metadata.Get(MetaReplayOf) != ""
	onlySet := msg.Metadata.Get(MetaX12Set)
	st := tx.Store()

	if !replay {
		if err := h.acknowledge(ctx, tx, msg, partnerKey, p); err != nil {
			return err
		}
	}
	payload, err := PayloadReader(msg)
	if err != nil {
		return err // transient: the spool may be on a volume that comes back
	}
	defer payload.Close()
	d := x12.NewDecoder(payload, x12.WithSpecs(x12.StandardSpecs()))
	duplicate := map[*x12.Interchange]bool{}
	translated, parked := 0, 0
	for {
		ev, err := d.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var se *x12.SyntaxError
			if errors.As(err, &se) {
				continue // reported in the acknowledgements (or as stream-level problems)
			}
			return fmt.Errorf("reading EDI message %s: %w", msg.UUID, err)
		}
		switch ev.Kind {
		case x12.InterchangeStart:
			if replay {
				continue
			}
			ic := ev.Interchange
			fresh, err := st.RecordInterchange(ctx, tx, partnerKey, ic.SenderQualifier+":"+strings.TrimSpace(ic.SenderID), ic.ControlNumber, msg.UUID)
			if err != nil {
				return err
			}
			duplicate[ic] = !fresh
			if !fresh {
				tx.router.log.Warn("duplicate interchange: not translated again", "partner", partnerKey, "sender", ic.SenderID, "isa13", ic.ControlNumber, "message_uuid", msg.UUID)
			}
		case x12.SetEnd:
			ts := ev.Set
			key := ev.Interchange.ControlNumber + "/" + ev.Group.ControlNumber + "/" + ts.ControlNumber
			if duplicate[ev.Interchange] || (onlySet != "" && key != onlySet) {
				continue
			}
			if ts.ID != "850" && ts.ID != "940" && ts.ID != "860" {
				continue // other sets have their own handlers (997s received, …)
			}
			problems := ts.Errors
			var order *canonical.Order
			var cancel *canonical.OrderCancel
			if len(problems) == 0 {
				order, cancel, problems, err = TranslateX12(ts, x12map.EnvelopeOf(partnerKey, ts), p.Mapping)
				if err != nil {
					return err
				}
			}
			if len(problems) == 0 && cancel != nil {
				problems, err = h.cancel(ctx, tx, *cancel, key)
				if err != nil {
					return err
				}
			}
			if len(problems) > 0 {
				if err := h.park(ctx, tx, msg, ts, key, problems); err != nil {
					return err
				}
				parked++
				continue
			}
			if order != nil {
				if ok, err := h.route(ctx, tx, msg, *order, key); err != nil {
					return err
				} else if ok {
					translated++
				}
			}
		}
	}
	tx.router.log.Info("EDI message processed", "partner", partnerKey, "message_uuid", msg.UUID, "orders", translated, "sets_parked", parked)
	return nil
}

// TranslateX12 turns an accepted 850, 940 or 860 into an order or a cancel. A 940 whose
// status is a cancellation (the partner's cancel statuses) is a cancel; an 860 that
// cancels the order or some of its lines is a cancel; other 860 changes are not applied
// yet and come back as a problem, so the set is parked with that reason.
func TranslateX12(ts *x12.TransactionSet, env x12map.Envelope, opts x12map.Options) (*canonical.Order, *canonical.OrderCancel, []error, error) {
	problems := func(err error) []error {
		var list x12.ErrorList
		if errors.As(err, &list) {
			return list
		}
		return []error{err}
	}
	switch ts.ID {
	case "850":
		o, err := x12map.OrderFrom850(ts, env, opts)
		if err != nil {
			return nil, nil, problems(err), nil
		}
		return &o, nil, nil, nil
	case "940":
		o, err := x12map.OrderFrom940(ts, env, opts)
		if err == nil {
			return &o, nil, nil, nil
		}
		if !errors.Is(err, x12map.ErrPurpose) {
			return nil, nil, problems(err), nil
		}
		c, cerr := x12map.CancelFrom940(ts, env, opts)
		if cerr != nil {
			return nil, nil, problems(cerr), nil
		}
		return nil, &c, nil, nil
	case "860":
		ch, err := x12map.ChangeFrom860(ts, env, opts)
		if err != nil {
			return nil, nil, problems(err), nil
		}
		if ch.Cancel != nil {
			return nil, ch.Cancel, nil, nil
		}
		return nil, nil, []error{fmt.Errorf("860 change %s of order %s (line %d): %d line change(s); changes other than cancellations are not applied by the hub yet: apply them in the fulfilment core, then discard this entry",
			ts.ControlNumber, ch.OrderNumber, ts.Line, len(ch.Lines))}, nil
	}
	return nil, nil, nil, nil
}

// cancel sends a cancel of an order the hub has to fulfilment.cancellations. A cancel
// for an order the hub does not know is a problem of the set (parked).
func (h *ediHandler) cancel(ctx context.Context, tx *Tx, c canonical.OrderCancel, key string) ([]error, error) {
	st := tx.Store()
	ref := store.OrderRef{Channel: string(c.Source.Channel), Partner: c.Source.Partner, ExternalID: c.Source.ExternalID}
	id, ok, err := st.LookupOrderID(ctx, tx, ref)
	if err != nil {
		return nil, err
	}
	if !ok {
		return []error{fmt.Errorf("cancel of order %s (set %s): the hub has no such order from %s; if the order arrives later, replay this entry",
			c.Source.ExternalID, key, c.Source.Partner)}, nil
	}
	c.OrderID = id
	detail := "whole order"
	if len(c.Lines) > 0 {
		detail = fmt.Sprintf("%d line(s)", len(c.Lines))
	}
	return nil, tx.requestCancel(c, ":"+key, detail+" from "+c.Source.Document+" set "+key+" to "+TopicFulfilmentCancellation)
}

// acknowledge publishes what the file calls for to edi.acks.
func (h *ediHandler) acknowledge(ctx context.Context, tx *Tx, msg *message.Message, partnerKey string, p EDIPartner) error {
	st := tx.Store()
	var out bytes.Buffer
	w, err := x12.NewWriter(&out, x12.DefaultDelimiters, x12.WithLineEnding("\n"))
	if err != nil {
		return err
	}
	var seqErr error
	payload, err := PayloadReader(msg)
	if err != nil {
		return err
	}
	defer payload.Close()
	ackErr := x12.Acknowledge(payload, w, x12.AckConfig{
		Kind:         p.Ack,
		SkipAccepted: p.SkipAccepted,
		Options:      []x12.Option{x12.WithSpecs(x12.StandardSpecs())},
		Now:          func() time.Time { return time.Now().UTC() },
		ControlNumber: func(kind string) string {
			n, err := st.NextControlNumber(ctx, tx, partnerKey, kind)
			if err != nil {
				seqErr = err
				return "1"
			}
			return x12.FormatControlNumber(kind, n)
		},
	})
	if seqErr != nil {
		return seqErr
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if ackErr != nil {
		// Problems no acknowledgement can carry (data outside interchanges, an ISA too
		// broken to answer): the file still gets what it can; a person sees the rest.
		tx.router.log.Warn("parts of an EDI message cannot be acknowledged", "partner", partnerKey, "message_uuid", msg.UUID, "problems", ackErr.Error())
	}
	if out.Len() == 0 {
		return nil
	}
	ack := message.NewMessage(watermill.NewUUID(), out.Bytes())
	ack.Metadata.Set(MetaPartner, partnerKey)
	ack.Metadata.Set(MetaAckKind, p.Ack.String())
	return tx.Publish(TopicEDIAcks, ack)
}

// park publishes one rejected set to the DLQ, as the poison middleware would, with a
// key of its own so that replaying it is not taken for a redelivery of the file.
func (h *ediHandler) park(ctx context.Context, tx *Tx, msg *message.Message, ts *x12.TransactionSet, key string, problems []error) error {
	lines := make([]string, len(problems))
	for i, p := range problems {
		lines[i] = p.Error()
	}
	reason := fmt.Sprintf("%s set %s (line %d) rejected: %s", ts.ID, key, ts.Line, strings.Join(lines, "; "))
	dlqID := msg.Metadata.Get(metaX12DLQID)
	extra := []string{MetaX12Set, key, MetaReplayFreshKey, "1", MetaReplayOf, ""}
	if dlqID == "" { // the first failure, not a replay
		dlqID = msg.UUID + "#" + key
		extra = append(extra, MetaIdempotencyKey, IdempotencyKey(msg)+"#"+key)
	}
	// The handler returns success after parking, so its dedupe record of this key stays:
	// each replay needs a key of its own (MetaReplayFreshKey), and a replay that fails
	// again must find the same entry (metaX12DLQID).
	extra = append(extra, metaX12DLQID, dlqID)
	return tx.router.park(tx.Tx, msg, failure{handler: tx.Handler(), topic: InboundTopic(string(canonical.ChannelEDI)),
		reason: reason, chain: lines, class: fault.Validation, attempts: 1, messageID: dlqID}, extra...)
}

// route gives the order its stable id and publishes it to fulfilment.orders; an order
// the hub already has (the partner sent the same PO again) is not sent twice.
func (h *ediHandler) route(ctx context.Context, tx *Tx, msg *message.Message, o canonical.Order, key string) (bool, error) {
	id, released, err := tx.releaseOrder(ctx, o, "translated from "+o.Source.Document+" set "+key)
	if err == nil && !released {
		tx.router.log.Warn("EDI order already accepted: not sent again", "order_id", id, "external_id", o.Source.ExternalID, "set", key)
	}
	return released, err
}
