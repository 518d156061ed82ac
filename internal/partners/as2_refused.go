package partners

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	adapteras2 "github.com/paklog/integration-hub/adapters/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/router"
)

// HandlerAS2Receive is the handler of replayed AS2 refusals. Every inbound AS2
// message the receiver refuses (unknown partner or AS2-To, decryption, signature,
// certificate, integrity, decompression, unsupported receipt options, a reused
// Message-ID, over the size cap) is parked in the DLQ under this handler, with the
// request as received (header without credentials, then the body, capped at
// as2.max_body) as its payload.
//
// Replaying such an entry runs the stored request through the receiver again
// with the hub's current configuration (partners, their certificates, our keys),
// so that a refusal caused by configuration — a partner not yet configured, a
// partner certificate not yet imported, a key pair of ours missing — is processed
// once it is fixed and the hub restarted. If it now passes, the payload is
// committed as the receiver would have (the ingest record with the Message-ID as
// dedupe key, inbound.edi), so a message the partner has meanwhile resent and got
// accepted is not taken twice. The processed MDN is built and kept in as2_mdns:
// POSTed to the Receipt-Delivery-Option when the original asked for an
// asynchronous MDN, and otherwise kept as not-sent (no answer is open to carry a
// synchronous MDN any more; the partner gets the kept MDN when it resends the
// Message-ID). If it is refused again, the entry reopens with the new reason.
//
// Nothing but a verified signature proves who sent a message: AS2-From is a
// header, and our certificate, to which anyone can encrypt, is public. So an
// entry keeps the whole body (up to as2.max_body) only when the message's
// signature verified against one of the partner's certificates before it was
// refused (a later layer, the partner's policy or a reused Message-ID refused
// it). Every other refusal — an unknown AS2-From, an AS2-To that is not ours, a
// 413, and a message claiming a configured partner whose signature did not
// verify, including one signed with a certificate we do not know (a partner's
// rollover looks like a forgery) — keeps at most as2.refused_body_max bytes of
// the body (64KiB by default). A body that fits is kept whole and stays
// replayable (the flow for a new partner or a new partner certificate:
// configure it, restart, replay); a longer one keeps its prefix for inspection
// only. Entries whose body was not kept whole (over either cap) are parked as
// not replayable (metadata as2_replayable "no: why"): their replay reopens them
// saying so.
//
// Unproven refusals claiming a configured partner share one entry per partner,
// kind of refusal (the MDN modifier, or unknown signer, reused Message-ID, 413)
// and hour: the first such request of the hour is kept, and each further one
// counts on the entry (times failed, reason updated), so forged messages cannot
// add entries without bound. Authenticated refusals, and those of unknown
// senders, get one entry per distinct request.
// Signatures are checked at the time of the replay, so a message signed with a
// certificate that has since expired stays refused.
const HandlerAS2Receive = "as2.receive"

// TopicAS2Receive is the topic named on refused AS2 messages' DLQ entries: they
// came from POST /as2, not from a topic.
const TopicAS2Receive = "POST /as2"

// Metadata of the DLQ entry of a refused AS2 message, besides partner, source and
// the adapters/as2 Meta… keys (as2_message_id, as2_from, as2_to).
const (
	MetaAS2Disposition   = "as2_disposition"    // the Disposition of the negative MDN sent; "(no MDN)" when none was
	MetaAS2MDNMessageID  = "as2_mdn_message_id" // the negative MDN's Message-ID
	MetaAS2MDNDelivery   = "as2_mdn_delivery"   // "sync", "async <url>" or "none"
	MetaAS2HTTPStatus    = "as2_http_status"    // the HTTP status answered
	MetaAS2Remote        = "as2_remote"         // the client address
	MetaAS2Replayable    = "as2_replayable"     // "yes", or "no: why"
	MetaAS2BodyBytes     = "as2_body_bytes"     // the length of the stored body
	MetaAS2ReceivedBytes = "as2_received_bytes" // the length of the body as read (at most as2.max_body)
)

// Register records refusals in the DLQ through r and subscribes the replay
// handler of their entries (HandlerAS2Receive). Call it before the router runs.
func (a *AS2) Register(r *router.Router) error {
	if a == nil {
		return nil
	}
	a.router = r
	return r.Handle(HandlerAS2Receive, router.ReplayTopic(HandlerAS2Receive), a.replayRefused, router.WithoutReplay())
}

// recordRefusal parks rf in the DLQ (adapters/as2 Config.Refused). A failure is
// logged: the sender gets its answer regardless.
func (a *AS2) recordRefusal(ctx context.Context, rf adapteras2.Refusal) {
	log := a.log.With("as2_from", rf.From, "as2_to", rf.To, "message_id", rf.MessageID)
	if a.router == nil {
		log.Error("refused AS2 message not parked in the DLQ: the AS2 side is not registered with the router", "error", rf.Err)
		return
	}
	body, replayable := rf.Body, "yes"
	if rf.Truncated {
		replayable = "no: the body went over as2.max_body and was not kept whole"
	}
	partner := rf.Partner
	if partner == "" {
		if p, ok := a.byAS2ID[rf.From]; ok {
			partner = p.name
		}
	}
	var partial string
	if !rf.Authenticated && int64(len(body)) > a.refusedMax {
		// Anyone can post as an unknown sender, or claim a partner's AS2 id: keep
		// a prefix to look at, not the whole body.
		body = body[:a.refusedMax]
		received := fmt.Sprintf("%d", len(rf.Body))
		if rf.Truncated {
			received = "over " + received
		}
		who := "the sender was not recognised"
		if partner != "" {
			who = fmt.Sprintf("the message did not prove it came from partner %s (no signature of theirs verified)", partner)
		}
		partial = fmt.Sprintf("%s, so only the first %d of its %s bytes were kept (as2.refused_body_max)", who, a.refusedMax, received)
		replayable = "no: " + partial
	}
	payload := encodeRequest(rf.Header, body)
	delivery := "none"
	switch {
	case rf.AsyncURL != "":
		delivery = "async " + rf.AsyncURL
	case rf.Disposition != "":
		delivery = "sync"
	}
	disp := rf.Disposition
	if disp == "" {
		disp = "(no MDN)"
	}
	md := message.Metadata{
		router.MetaSource:        adapteras2.Source,
		adapteras2.MetaMessageID: rf.MessageID,
		adapteras2.MetaFrom:      rf.From,
		adapteras2.MetaTo:        rf.To,
		MetaAS2Disposition:       disp,
		MetaAS2MDNMessageID:      rf.MDNMessageID,
		MetaAS2MDNDelivery:       delivery,
		MetaAS2HTTPStatus:        strconv.Itoa(rf.Status),
		MetaAS2Remote:            rf.Remote,
		MetaAS2Replayable:        replayable,
		MetaAS2BodyBytes:         strconv.Itoa(len(body)),
		MetaAS2ReceivedBytes:     strconv.Itoa(len(rf.Body)),
	}
	if partner != "" {
		md.Set(router.MetaPartner, partner)
	}
	// One entry per refused request: the same bytes refused again (a partner's
	// software resending) count on the same entry; other bytes get their own.
	sum := sha256.Sum256(append([]byte(rf.From+"\x00"+rf.To+"\x00"+rf.MessageID+"\x00"), rf.Body...))
	shared := !rf.Authenticated && partner != ""
	if shared {
		// Anyone can claim a partner's AS2 id: the refusals of one kind that do
		// not prove they came from the partner count on one entry per partner
		// and hour (the first request kept), so that forged messages cannot add
		// entries without bound.
		sum = sha256.Sum256([]byte("unproven\x00" + partner + "\x00" + refusalKind(rf.Err) + "\x00" + time.Now().UTC().Truncate(time.Hour).Format(time.RFC3339)))
	}
	id := "as2-refused-" + hex.EncodeToString(sum[:16])
	reason := a.refusalReason(refusalFacts{from: rf.From, to: rf.To, messageID: rf.MessageID, partner: partner,
		disposition: rf.Disposition, asyncURL: rf.AsyncURL, status: rf.Status, err: rf.Err, partial: partial, shared: shared})
	err := a.store.InTx(ctx, func(tx *sql.Tx) error {
		return a.router.Park(tx, payload, md, router.Parked{Handler: HandlerAS2Receive, Topic: TopicAS2Receive,
			Reason: reason, Class: fault.Validation, Chain: fault.Chain(rf.Err), Attempts: 1, MessageID: id})
	})
	if err != nil {
		log.Error("parking a refused AS2 message in the DLQ failed; it is only in this log", "error", err, "reason", reason)
		return
	}
	log.Info("refused AS2 message parked in the DLQ", "dlq_message_uuid", id, "partner", partner, "authenticated", rf.Authenticated)
}

// refusalKind names the rule a refusal broke, for the shared entry of a claimed
// partner's unproven refusals: the MDN modifier, or the sentinel.
func refusalKind(err error) string {
	var asErr *edias2.Error
	switch {
	case errors.Is(err, adapteras2.ErrTooLarge):
		return "too-large"
	case errors.Is(err, intake.ErrConflict):
		return "conflict"
	case errors.Is(err, edias2.ErrUnknownPartner):
		return "unknown-partner"
	case errors.Is(err, edias2.ErrUnknownSigner):
		return "unknown-signer"
	case errors.Is(err, edias2.ErrSignerNotValid):
		return "signer-not-valid"
	case errors.As(err, &asErr):
		return string(asErr.Modifier)
	}
	return "other"
}

// refusalFacts are what a refusal's reason is written from.
type refusalFacts struct {
	from, to, messageID, partner string
	disposition, asyncURL        string
	status                       int
	replay                       bool
	err                          error
	// partial says why the entry keeps only part of the body; "" when whole.
	partial string
	// shared: the entry is the one of the partner's unproven refusals of this
	// kind in this hour.
	shared bool
}

// refusalReason says, for the DLQ console, what was refused, what the partner
// was told, why, and what to do.
func (a *AS2) refusalReason(f refusalFacts) string {
	var b strings.Builder
	if f.replay {
		fmt.Fprintf(&b, "Replayed with the current configuration and refused again: AS2 message %s from %q to %q", f.messageID, f.from, f.to)
	} else {
		fmt.Fprintf(&b, "AS2 message %s from %q to %q", f.messageID, f.from, f.to)
	}
	if f.partner != "" {
		fmt.Fprintf(&b, " (partner %s)", f.partner)
	}
	switch {
	case f.replay:
		b.WriteString(" was not accepted; no MDN was sent")
	case f.disposition != "" && f.asyncURL != "":
		fmt.Fprintf(&b, " was refused with the MDN %q, POSTed to %s", f.disposition, f.asyncURL)
	case f.disposition != "":
		fmt.Fprintf(&b, " was refused with the MDN %q in the response", f.disposition)
	default:
		fmt.Fprintf(&b, " was refused with HTTP %d and no MDN", f.status)
	}
	fmt.Fprintf(&b, ". Cause: %v. What to do: %s", f.err, a.refusalAdvice(f))
	if f.shared {
		fmt.Fprintf(&b, ". Nothing proved that partner %s sent it (no signature of theirs verified), so every such refusal of this kind within the hour counts on this one entry (times failed), which keeps the first request received", f.partner)
	}
	return b.String()
}

// refusalAdvice maps the cause of a refusal to what an operator does about it.
func (a *AS2) refusalAdvice(f refusalFacts) string {
	const resend = "ask the partner to resend it (a resend under the same Message-ID is processed afresh), then discard this entry; replaying this copy gets the same answer"
	certs := "partners[].as2.certs"
	if f.partner != "" {
		certs = fmt.Sprintf("partners[].as2.certs of partner %s", f.partner)
	}
	switch {
	case errors.Is(f.err, adapteras2.ErrTooLarge):
		return fmt.Sprintf("the message is larger than as2.max_body (%d bytes): ask the partner to split the file, or raise as2.max_body. The body was not kept whole, so this entry cannot be replayed: once fixed, ask the partner to resend it, then discard this entry", a.maxBody)
	case errors.Is(f.err, intake.ErrConflict):
		return "the partner reused the Message-ID of a message accepted before for different content: ask them to send the new content under a new Message-ID, then discard this entry; replaying it gets the same answer"
	case errors.Is(f.err, edias2.ErrUnknownPartner):
		if _, ok := a.byAS2ID[f.from]; !ok && f.partial != "" {
			return fmt.Sprintf("no partner has as2.id %q. If this is a new trading partner, add it under partners[] with as2.id %q and its certificate in as2.certs, restart the hub, then ask it to resend the message: %s, so this entry cannot be replayed. If you do not know the sender, discard it", f.from, f.from, f.partial)
		}
		if _, ok := a.byAS2ID[f.from]; !ok {
			return fmt.Sprintf("no partner has as2.id %q. If this is a new trading partner, add it under partners[] with as2.id %q and its certificate in as2.certs, restart the hub, then replay this entry; if you do not know the sender, discard it", f.from, f.from)
		}
		return fmt.Sprintf("AS2-To %q is not our as2.id %q: ask the partner to address %q, then to resend, and discard this entry", f.to, a.identity.ID, a.identity.ID)
	case errors.Is(f.err, edias2.ErrUnknownSigner):
		return fmt.Sprintf("the partner signed with the certificate named above (issuer and serial), which is not among %s: the partner changed its certificate. Get the new certificate from the partner through a trusted channel, add it to %s (keep the old one listed during the rollover), restart the hub, then replay this entry", certs, certs)
	case errors.Is(f.err, edias2.ErrSignerNotValid):
		return fmt.Sprintf("the partner signed with its certificate outside its validity dates (above): ask the partner for its renewed certificate, add it to %s, restart the hub, and %s", certs, resend)
	case errors.Is(f.err, edias2.ErrBadSignature):
		return "the signature does not verify with the partner's certificate: the message was damaged in transit or forged. If the partner did send it, " + resend
	case errors.Is(f.err, edias2.ErrIntegrityCheckFailed):
		return "the content was altered after the partner signed it (damaged in transit, or tampered with). If the partner did send it, " + resend
	case errors.Is(f.err, edias2.ErrDecryptionFailed):
		return "the partner encrypted with a certificate we hold no key for, or with a cipher we do not accept (above). If it is an old certificate of ours, add its key pair back to as2.keys (every listed key decrypts), restart the hub and replay this entry; otherwise send the partner our current certificate (as2.keys[0].cert) and " + resend
	case errors.Is(f.err, edias2.ErrDecompressionFailed):
		return "the compressed content could not be inflated: ask the partner to send uncompressed or to check their compression, then " + resend
	case errors.Is(f.err, edias2.ErrUnsupportedMICAlgorithms), errors.Is(f.err, edias2.ErrUnsupportedFormat):
		return "the partner's Disposition-Notification-Options require a receipt we do not produce: ask them to allow signed-receipt-protocol pkcs7-signature and signed-receipt-micalg sha-256 (or sha-1/384/512), then " + resend
	}
	return "the message is not a well-formed AS2 message (above): ask the partner to correct it, then " + resend
}

// replayRefused is the handler of replayed refusals (see HandlerAS2Receive).
func (a *AS2) replayRefused(ctx context.Context, tx *router.Tx, msg *message.Message) error {
	md := msg.Metadata
	if r := md.Get(MetaAS2Replayable); strings.HasPrefix(r, "no") {
		return fault.AsValidation(fmt.Errorf("this entry cannot be replayed (%s): ask the partner to resend AS2 message %s, then discard this entry",
			strings.TrimPrefix(strings.TrimPrefix(r, "no"), ": "), md.Get(adapteras2.MetaMessageID)))
	}
	h, body, err := decodeRequest(msg.Payload)
	if err != nil {
		return fault.AsValidation(fmt.Errorf("the entry's payload is not a stored AS2 request (%w): discard this entry", err))
	}
	m, perr := a.parser.Parse(ctx, h, bytes.NewReader(body))
	if perr != nil {
		var asErr *edias2.Error
		if !errors.As(perr, &asErr) {
			return fault.AsTransient(fmt.Errorf("replaying AS2 message %s: %w", md.Get(adapteras2.MetaMessageID), perr))
		}
		f := refusalFacts{from: m.From, to: m.To, messageID: m.MessageID, replay: true, err: perr}
		if m.Partner != nil {
			f.partner = a.byAS2ID[m.Partner.ID].name
		}
		return fault.AsValidation(fmt.Errorf("%s: %w", a.refusalReason(f), perr))
	}
	partner := a.byAS2ID[m.Partner.ID].name
	log := a.log.With("partner", partner, "message_id", m.MessageID, "dlq_entry", md.Get(router.MetaReplayOf))
	res, err := acceptInTx(ctx, tx, adapteras2.Item(m, partner))
	if err != nil {
		if errors.Is(err, intake.ErrConflict) {
			f := refusalFacts{from: m.From, to: m.To, messageID: m.MessageID, partner: partner, replay: true, err: err}
			return fault.AsValidation(fmt.Errorf("%s: %w", a.refusalReason(f), err))
		}
		return err
	}
	if res.Duplicate {
		log.Info("replayed AS2 message was accepted before (the partner resent it): no second order", "message_uuid", res.MessageUUID)
		return nil
	}
	if m.MDN.Mode == edias2.MDNNone {
		log.Info("replayed AS2 message accepted; no MDN requested", "message_uuid", res.MessageUUID)
		return nil
	}
	resp, err := edias2.BuildMDN(m, nil, edias2.MDNOptions{})
	if err != nil {
		return fault.AsPermanent(fmt.Errorf("building the MDN of replayed AS2 message %s: %w", m.MessageID, err))
	}
	now := time.Now().UTC()
	kept := adapteras2.StoredMDN{Partner: partner, MessageID: m.MessageID, MDNMessageID: resp.MessageID,
		Disposition: edias2.DispositionFor(nil).String(), MIC: m.MIC.String(), Header: resp.Header, Body: resp.Body,
		Status: adapteras2.StatusNotSent, CreatedAt: now, UpdatedAt: now,
		LastError: "accepted by a DLQ replay; the original request asked for a synchronous MDN, which no answer can carry now: the partner gets this MDN when it resends the Message-ID"}
	async := m.MDN.Mode == edias2.MDNAsync && validHTTPURL(m.MDN.URL)
	if async {
		kept.Async, kept.URL, kept.Status, kept.LastError = true, m.MDN.URL, adapteras2.StatusPending, ""
	}
	if err := putMDN(ctx, tx.Tx, a.store, kept); err != nil {
		return fmt.Errorf("keeping the MDN of replayed AS2 message %s: %w", m.MessageID, err)
	}
	if !async {
		log.Info("replayed AS2 message accepted; its MDN is kept, not sent (the original asked for a synchronous one)", "message_uuid", res.MessageUUID, "mdn_message_id", kept.MDNMessageID)
		return nil
	}
	// The MDN goes once this transaction has committed: until then the payload
	// might still be rolled back, and a positive MDN must not precede it.
	committed := func(ctx context.Context) (bool, error) {
		var n int
		err := a.store.ReadDB().QueryRowContext(ctx, a.store.Rebind(`SELECT COUNT(*) FROM as2_mdns WHERE partner = ? AND message_id = ? AND mdn_message_id = ?`),
			kept.Partner, kept.MessageID, kept.MDNMessageID).Scan(&n)
		return n > 0, err
	}
	a.Receiver.SendAsync(kept, committed)
	log.Info("replayed AS2 message accepted; its MDN goes to the requested URL", "message_uuid", res.MessageUUID, "mdn_message_id", kept.MDNMessageID, "url", kept.URL)
	return nil
}

func validHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// acceptInTx commits item inside the consumer's transaction as intake.Intake
// commits it in its own: the ingest record (the dedupe key; a duplicate returns
// the first acceptance, other content under the same key is a conflict) and the
// message on inbound.<source>, with the same metadata. intake.Accept cannot be
// used here: it commits in a transaction of its own, which on SQLite waits for
// the only writer connection, held by this consumer's transaction; intake.Record
// is the same acceptance inside the caller's transaction.
func acceptInTx(ctx context.Context, tx *router.Tx, item intake.Item) (intake.Result, error) {
	msg, res, err := intake.Record(ctx, tx.Store(), tx.Tx, item)
	if errors.Is(err, intake.ErrRaced) {
		// The partner's resend was committed while this replay ran: a later replay
		// finds it and records a duplicate.
		return res, fault.AsTransient(fmt.Errorf("the partner resent this message while it was being replayed; replay again to record it as received: %w", err))
	}
	if err != nil || msg == nil {
		return res, err
	}
	return res, tx.Publish(router.InboundTopic(item.Source), msg)
}

// encodeRequest is a refused request as a DLQ payload: the header block as on the
// wire, a blank line, the body byte for byte.
func encodeRequest(h http.Header, body []byte) []byte {
	var b bytes.Buffer
	_ = h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

// decodeRequest reverses encodeRequest.
func decodeRequest(p []byte) (http.Header, []byte, error) {
	var head, body []byte
	if bytes.HasPrefix(p, []byte("\r\n")) {
		head, body = nil, p[2:]
	} else {
		i := bytes.Index(p, []byte("\r\n\r\n"))
		if i < 0 {
			return nil, nil, errors.New("no blank line after the header")
		}
		head, body = p[:i+2], p[i+4:]
	}
	mh, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head[:len(head):len(head)], '\r', '\n')))).ReadMIMEHeader()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the stored header: %w", err)
	}
	return http.Header(mh), body, nil
}
