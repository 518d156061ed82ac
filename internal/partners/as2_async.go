package partners

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/httpapi"
)

// Bounds of the interval at which overdue asynchronous MDNs are swept: a fifth of
// the shortest partners[].as2.async_mdn_timeout, within these.
const (
	minSweep = 100 * time.Millisecond
	maxSweep = 30 * time.Second
)

// ErrMDNOverdue is the cause a delivery is resent (and, once its attempts are used
// up, parked) with when the partner's asynchronous MDN did not come within its
// async_mdn_timeout. Transient: the resend keeps the Message-ID, so a partner
// that got the message answers with the receipt it kept (RFC 4130 §9.3).
var ErrMDNOverdue = errors.New("asynchronous MDN overdue")

// UseDelivery gives the AS2 side the delivery service whose deliveries its
// asynchronous MDNs settle. Call it before Run and before serving requests.
func (a *AS2) UseDelivery(d *Delivery) {
	if a != nil {
		a.delivery = d
	}
}

// Async reports whether some partner is asked for asynchronous MDNs: Sweep has
// work.
func (a *AS2) Async() bool { return a != nil && a.async }

// Run, until ctx ends, at once (for what was left when the hub stopped) and then
// periodically (every fifth of the shortest async_mdn_timeout, at most every
// 30s): resumes the asynchronous MDNs owed to partners that are pending with no
// live lease (adapters/as2 Receiver.Resume: a shutdown or crash interrupted
// them, here or on another instance), and sweeps the overdue MDNs of what we
// sent, when some partner is asked for asynchronous ones. Run it whenever the
// AS2 side exists.
func (a *AS2) Run(ctx context.Context) {
	t := time.NewTicker(a.sweep)
	defer t.Stop()
	for {
		if n, err := a.Receiver.Resume(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("resuming pending asynchronous MDNs owed to partners", "error", err)
		} else if n > 0 {
			a.log.Info("resumed pending asynchronous MDNs owed to partners", "count", n)
		}
		if a.async {
			if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("sweeping overdue asynchronous MDNs", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep settles the sends whose asynchronous MDN is overdue: each is claimed (an
// MDN that arrived in the meantime wins), and its delivery is resent under the
// same Message-ID or, with its attempts used up, parked in the DLQ with the
// reason; as2_sent then marks the message overdue (a late MDN may still settle
// it). A delivery whose send is still under way (its POST outlasting
// async_mdn_timeout) keeps its claim, put back with a later deadline; a claim
// that could not be settled is put back as it was.
func (a *AS2) Sweep(ctx context.Context) error {
	due, err := a.pending.Expired(ctx, a.now())
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range due {
		// Only the pending record is claimed here, never a send given up on
		// before. The claim and what follows finish even if ctx ends.
		if _, err := (PendingStore{Store: a.store}).Match(context.WithoutCancel(ctx), p.Partner, p.MessageID); err != nil {
			if !errors.Is(err, connas2.ErrUnknownMessage) {
				errs = append(errs, err)
			}
			continue // the MDN came in the meantime
		}
		if err := a.overdue(context.WithoutCancel(ctx), p); err != nil {
			// Put the claim back, so that the next sweep (or the MDN) settles it.
			errs = append(errs, err, a.pending.restore(context.WithoutCancel(ctx), p))
		}
	}
	return errors.Join(errs...)
}

// overdue settles p, claimed by the sweep: see Sweep.
func (a *AS2) overdue(ctx context.Context, p connas2.Pending) error {
	cause := fault.AsTransient(fmt.Errorf("%w: partner %q sent no MDN for AS2 message %s within %s (partners[].as2.async_mdn_timeout); it is resent under the same Message-ID. If this repeats, check that the partner can reach as2.receipt_url and sends its receipts there",
		ErrMDNOverdue, p.Partner, p.MessageID, p.Deadline.Sub(p.SentAt).Round(time.Millisecond)))
	var deliveryID string
	err := a.store.DB().QueryRowContext(ctx, a.store.Rebind(`SELECT delivery_id FROM as2_sent WHERE message_id = ?`), p.MessageID).Scan(&deliveryID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the send of AS2 message %s: %w", p.MessageID, err)
	}
	if a.delivery != nil && deliveryID != "" {
		err := a.delivery.Overdue(ctx, deliveryID, cause)
		switch {
		case errors.Is(err, ErrNotAwaiting):
			state, serr := a.delivery.state(ctx, deliveryID)
			if serr != nil {
				return serr
			}
			if state == StateWorking {
				// Put has not returned yet (or a worker is resending it): the
				// receipt may still come, and if not, the next sweep after the
				// send's own timeout settles it.
				wait := a.sweep
				if ap, ok := a.byAS2ID[p.Partner]; ok {
					wait = max(wait, cmp.Or(ap.profile.Timeout, time.Minute))
				}
				p.Deadline = a.now().Add(wait)
				a.log.Warn("asynchronous MDN overdue while the message is still being sent; waiting for the send to finish",
					"partner", p.Partner, "message_id", p.MessageID, "delivery_id", deliveryID, "until", p.Deadline)
				return a.pending.restore(ctx, p)
			}
			// Settled by its receipt, parked, or a resend scheduled (which
			// records a new claim when it sends).
		case err != nil:
			return fmt.Errorf("settling the delivery of AS2 message %s: %w", p.MessageID, err)
		}
	}
	// A resend that started meanwhile ("sending") is not marked: it is no longer
	// given up on.
	if _, err := a.store.DB().ExecContext(ctx, a.store.Rebind(`UPDATE as2_sent SET status = ?, mdn_overdue = TRUE WHERE message_id = ? AND status <> ?`),
		statusOf("", cause), p.MessageID, sentSending); err != nil {
		return fmt.Errorf("recording the overdue receipt of AS2 message %s: %w", p.MessageID, err)
	}
	return nil
}

// settleSent records the outcome of the message in as2_sent and hands its
// delivery id to settle. A delivery no longer awaiting its receipt is fine.
func (a *AS2) settleSent(ctx context.Context, messageID, status, disposition string, mdn []byte, res *connas2.Result, settle func(deliveryID string) error) error {
	var deliveryID string
	err := a.store.DB().QueryRowContext(ctx, a.store.Rebind(`SELECT delivery_id FROM as2_sent WHERE message_id = ?`), messageID).Scan(&deliveryID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the send of AS2 message %s: %w", messageID, err)
	}
	if res != nil {
		_, err = a.store.DB().ExecContext(ctx, a.store.Rebind(`UPDATE as2_sent SET status = ?, disposition = ?, mdn = ?, mdn_header = ?, mic = ? WHERE message_id = ?`),
			status, disposition, mdn, headerJSON(res), res.MIC.String(), messageID)
	} else {
		_, err = a.store.DB().ExecContext(ctx, a.store.Rebind(`UPDATE as2_sent SET status = ? WHERE message_id = ?`), status, messageID)
	}
	if err != nil {
		return fmt.Errorf("recording the receipt of AS2 message %s: %w", messageID, err)
	}
	if err := settle(deliveryID); err != nil && !errors.Is(err, ErrNotAwaiting) {
		return fmt.Errorf("settling the delivery of AS2 message %s: %w", messageID, err)
	}
	return nil
}

// ServeHTTP serves POST /as2. RFC 4130 lets one URL take both messages and
// asynchronous MDNs; as2.receipt_url is this one. An MDN (multipart/report, or a
// multipart/signed around one) goes to the sender, which verifies it and settles
// the message it answers; anything else is a message for the receiver.
func (a *AS2) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		switch mediaTypeOf(r.Header.Get("Content-Type")) {
		case "multipart/report":
			a.serveMDN(w, r, r.Body)
			return
		case "multipart/signed":
			// A signed MDN or a signed, unencrypted message: the signed part tells.
			// The receiver still applies its size cap to what is read here.
			body, err := io.ReadAll(io.LimitReader(r.Body, a.maxBody+1))
			if err != nil {
				httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
					Detail: "reading the request body: " + err.Error()})
				return
			}
			if edias2.IsMDN(r.Header, body) {
				a.serveMDN(w, r, bytes.NewReader(body))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
	}
	a.Receiver.ServeHTTP(w, r)
}

// serveMDN answers an asynchronous MDN: 200 when it matched a message of ours
// (whatever it says about that message), 400 when it was refused (unverifiable,
// unknown parties, no such pending message), 503 when we could not record it now,
// so that the partner posts it again.
func (a *AS2) serveMDN(w http.ResponseWriter, r *http.Request, body io.Reader) {
	log := a.log.With("as2_from", clipHeader(r.Header.Get("AS2-From")), "mdn_message_id", clipHeader(r.Header.Get("Message-ID")))
	res, outcome := a.Sender.HandleAsyncMDN(r.Context(), r.Header, body)
	if res == nil {
		if fault.ClassOf(outcome) == fault.Transient {
			log.Error("asynchronous MDN could not be checked now", "error", outcome)
			httpapi.Unavailable(w, "the MDN could not be processed now; send it again", 30*time.Second)
			return
		}
		log.Warn("asynchronous MDN refused", "error", outcome, "remote", r.RemoteAddr)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
			Detail: "the MDN was not accepted: " + outcome.Error()})
		return
	}
	log = log.With("message_id", res.MessageID, "disposition", res.Disposition.String())
	// What the MDN settles is recorded even if the partner hangs up now.
	ctx := context.WithoutCancel(r.Context())
	var remote string
	if p, ok := a.byAS2ID[res.Receipt.From]; ok {
		remote = fmt.Sprintf("%s %s (%s)", p.cfg.URL, res.MessageID, res.Disposition)
	}
	err := a.settleSent(ctx, res.MessageID, statusOf(string(res.Status), outcome), res.Disposition.String(), res.MDN, res, func(deliveryID string) error {
		if a.delivery == nil || deliveryID == "" {
			log.Warn("asynchronous MDN for a message that belongs to no delivery; kept in as2_sent only")
			return nil
		}
		return a.delivery.Receipt(ctx, deliveryID, remote, outcome)
	})
	if err != nil {
		// The claim goes back, so that the partner's next POST of this MDN matches.
		wait := time.Hour
		if p, ok := a.byAS2ID[res.Receipt.From]; ok {
			wait = p.profile.AsyncMDNTimeout
		}
		now := a.now()
		if serr := a.pending.Save(ctx, connas2.Pending{MessageID: res.MessageID, Partner: res.Receipt.From, MIC: res.MIC, SentAt: now, Deadline: now.Add(wait)}); serr != nil {
			err = errors.Join(err, serr)
		}
		log.Error("recording an asynchronous MDN failed", "error", err)
		httpapi.Unavailable(w, "the MDN could not be recorded now; send it again", 30*time.Second)
		return
	}
	if outcome != nil {
		log.Warn("asynchronous MDN: the partner did not accept the message", "error", outcome)
	} else {
		log.Info("asynchronous MDN: message delivered")
	}
	w.WriteHeader(http.StatusOK)
}

// headerJSON is the MDN's header fields as kept in as2_sent.mdn_header.
func headerJSON(res *connas2.Result) string {
	if res == nil || res.Header == nil {
		return ""
	}
	b, err := json.Marshal(res.Header)
	if err != nil {
		return ""
	}
	return string(b)
}

func mediaTypeOf(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

func clipHeader(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}
