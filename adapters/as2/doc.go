// Package as2 is the AS2 receiver adapter: POST /as2 takes AS2 messages (RFC 4130)
// from trading partners, commits their payloads (X12 in practice) to inbound.edi
// through the intake, and answers with an MDN, the signed receipt. Parsing,
// decryption, signature checks and building MDNs are done by edi/as2; this package
// adds HTTP, the intake, the kept MDNs and asynchronous delivery.
//
// # Order of operations
//
//  1. Size: a Content-Length over Config.MaxBody, or a body that turns out longer,
//     is answered 413 with a problem document and no MDN. The message was not read,
//     so there is nothing to sign a receipt about, and a sync MDN travels in a 200
//     response, which would tell the sender's software the exchange worked. The
//     413 shows up in the partner's AS2 log as a transport failure for an operator
//     to handle (split the file or raise the limit); the refusal is logged here
//     with the AS2 ids.
//  2. Parse (edi/as2 Receiver.Parse): resolve the partner from AS2-From/AS2-To,
//     decrypt, verify, decompress. A failure that is the sender's (unknown partner,
//     wrong key, bad signature, tampered content, decompression failure) is
//     answered with a negative MDN ("processed/Error: authentication-failed",
//     "…integrity-check-failed", …), never a bare 500, and logged with the AS2
//     ids. A failure that is ours (the resolver's store is down) is 503: no MDN,
//     so the sender resends.
//  3. Commit: Acceptor.Accept with Source "edi", Partner the hub's partner key
//     (Config.PartnerKey, default the AS2 id), IdempotencyKey "as2:" + Message-ID,
//     the payload byte for byte and metadata as2_message_id, as2_from, as2_to,
//     mic (and as2_filename, as2_subject when present). The commit runs under
//     context.WithoutCancel so that a sender hanging up does not leave it half
//     done.
//     If the intake fails, the answer is 503 with Retry-After and no MDN. Nothing
//     was committed, and RFC 4130 senders resend on HTTP errors; a negative MDN
//     ("unexpected-processing-error") would be final in their eyes and the order
//     would be lost. If the intake says the Message-ID was used before for other
//     content (intake.ErrConflict), the answer is a negative MDN: resending will
//     not help.
//  4. Receipt: only after the commit is the processed MDN built, kept in the
//     MDNStore (raw header and body, for non-repudiation) and sent. A resent
//     Message-ID is a duplicate for the intake (no second order) and is answered
//     with the kept MDN, byte for byte. If the MDN was never kept (the hub stopped
//     between commit and keeping it), a new one is built.
//
// Negative MDNs are logged, not kept: a corrected message resent under the same
// Message-ID is processed afresh.
//
// Every refusal that is the sender's (a negative MDN, a 400 without one, a 413)
// is also reported to Config.Refused, before the answer goes out, with what was
// answered and the request as received (header without credentials, body up to
// MaxBody): the hub parks it in the DLQ, from where a replay runs it through the
// receiver again (internal/partners, HandlerAS2Receive). Item is what a message
// is committed as, so that such a replay commits the same.
//
// # Synchronous and asynchronous MDNs
//
// Without Receipt-Delivery-Option the MDN is the body of the 200 response. With
// it, the answer is an empty 200 as soon as the payload is committed, and the MDN
// is POSTed to the URL in the background with bounded exponential retries
// (Config.Retry; a 4xx other than 408/429 is final). The negative MDN of a
// refused message is POSTed there only when the message proved it came from the
// partner (its signature verified), or the partner does not sign; otherwise it
// is the body of the response, so that nobody can make the hub POST to a URL
// of their choosing by claiming a partner's AS2-From. A delivery stops when its
// lease cannot be renewed, for whatever reason, and the MDN stays pending. Each attempt's outcome is
// recorded in the kept MDN: Status (pending, sent, failed), Attempts, LastError.
//
// A delivery owns its kept MDN under a lease (StoredMDN.LeaseOwner and
// LeaseUntil), renewed before each wait to cover it and the next attempt, plus
// Config.Lease. Close stops the waits between attempts at once and lets POSTs
// under way finish until its deadline; what it interrupts stays pending with the
// lease released. Resume — the hub calls it at start and then periodically —
// claims the pending MDNs no live lease holds (those interrupted by a shutdown,
// and, once their lease has run out, those of a receiver that crashed) and
// delivers them with what is left of the retry budget (MaxAttempts less the
// attempts made, at least one). Claims are atomic in the MDNStore, so of several
// hub instances on one database exactly one sends each MDN, and a delivery that
// lost its lease stops without recording over its successor.
//
// Only http and https URLs of a resolved partner are POSTed to: a sender we
// could not identify gets its negative MDN in the response, so that nobody can
// make the hub send requests to arbitrary addresses.
//
// # Wiring
//
//	recv, err := edias2.NewReceiver(edias2.DefaultConfig(), resolver) // resolver from the partner config
//	if err != nil {
//		return err
//	}
//	h, err := as2.New(as2.Config{Receiver: recv, MaxBody: 64 << 20}, in, mdnStore, log)
//	if err != nil {
//		return err
//	}
//	defer h.Close(shutdownCtx)
//	go func() { // MDNs left pending by a stop: at start, then periodically
//		for {
//			h.Resume(ctx)
//			select {
//			case <-ctx.Done():
//				return
//			case <-time.After(30 * time.Second):
//			}
//		}
//	}()
//	mux.Handle("POST /as2", h)
//
// MemoryStore is for tests; the hub needs a persistent MDNStore.
package as2
