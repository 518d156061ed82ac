// Package as2 is the hub's AS2 sender (RFC 4130): it POSTs outbound EDI to a
// trading partner's AS2 endpoint and checks the receipt, the MDN, that proves what
// the partner received. Building and reading the S/MIME layers and MDNs is done by
// edi/as2; this package adds the partner profile, HTTP, receipt checking, the fault
// class of every error and the bookkeeping of asynchronous receipts. Its peer in
// the hub is adapters/as2, the receiver.
//
// # Sending
//
// A Profile describes one partner: our AS2 id and theirs, their URL, our signing
// key pairs, their encryption and MDN-signing certificates, the algorithms
// (sha-256 and AES-128-CBC unless set otherwise; never AES-GCM or RSA-OAEP, which
// OpenSSL-based products do not read) and the receipt to ask for.
//
//	s, err := as2.New(as2.Config{Pending: pendingStore, Profiles: lookup})
//	…
//	res, err := s.Send(ctx, profile, as2.Message{
//		Payload:     x12,
//		ContentType: "application/edi-x12",
//		FileName:    "856-000123.x12",
//		MessageID:   "<delivery-" + deliveryID + "@PAKLOG>", // stable across retries
//	})
//	// keep res.MessageID, res.MIC, res.MDN and res.Header whatever err is
//
// A synchronous MDN is accepted only if it verifies against the profile's
// SigningCerts (whenever it is signed; a signature is required with SignedMDN),
// names the profile's partner and us in AS2-From/AS2-To, answers our Message-ID
// (angle brackets optional), says "processed" (a "processed/Warning" is delivered,
// with Result.Warning set), and carries a Received-Content-MIC equal to ours.
//
// For an asynchronous MDN, Send records a Pending in the PendingStore before it
// POSTs (so the MDN cannot overtake it) and returns StatusPendingMDN. The hub's
// receipt endpoint passes each POSTed MDN to HandleAsyncMDN, which verifies it,
// claims the pending record by partner and Original-Message-ID, and returns the
// message's outcome. A receipt can be settled before Send returns: record the
// pending status so that it does not overwrite a settled one. PendingStore.Expired
// lists the sends whose MDN is overdue; claim each with Match before acting on it.
// Anyone can POST to the receipt URL: a refused MDN settles nothing. An MDN
// whose signature did not verify (SignedMDN off) never settles a send as
// refused, and settles it as delivered only when its Received-Content-MIC is
// ours (ErrUnprovenMDN otherwise; the record is looked at with Peek and left in
// place): an unsigned receipt is only as trustworthy as its MIC, which an
// eavesdropper can compute for an unencrypted message. Ask for signed receipts.
//
// # Errors and what to do next
//
// Every error from Send and HandleAsyncMDN carries an internal/fault class, so the
// delivery workers retry or park without reading messages:
//
//   - transient (retried): network errors, ErrTimeout (Profile.Timeout), a
//     cancelled ctx, HTTP 5xx, 408 and 429 (*HTTPError, with Retry-After as the
//     fault's RetryAfter), a 2xx without the synchronous MDN (ErrNoMDN), an MDN
//     whose signature is damaged or that does not verify (ErrMDNVerification), a
//     MIC mismatch or a missing MIC (*MICError: a resend can fix corruption in
//     transit), a failing PendingStore;
//   - permanent (parked for a person): other 4xx and redirects (*HTTPError, with
//     the first 512 bytes of the body), every negative MDN (*MDNError with the
//     partner's modifier: authentication-failed, decryption-failed, and also
//     unexpected-processing-error, which receivers send for a Message-ID reused
//     for other content: a resend gets the same answer), an MDN signed by a
//     certificate not in SigningCerts or not valid now (ErrMDNSigner: the partner
//     changed its certificate), an unsigned MDN when a signed one was asked for
//     (ErrUnsignedMDN), an MDN for
//     another message or other parties (ErrMessageIDMismatch, ErrWrongParties),
//     an invalid Profile (*ProfileError naming every bad field), no key pair or
//     partner certificate valid now (ErrNoValidCert);
//   - validation: an unusable Message (ErrInvalidMessage).
//
// Retrying is safe because AS2 receivers recognise a resent Message-ID (most
// products do; adapters/as2 commits the payload once and answers with the receipt
// it kept), which is why
// timeouts after the request was written are transient rather than ambiguous, and
// why Message.MessageID must stay the same across retries and DLQ replays. A
// receipt that does not verify is retried for the same reason: the resend brings
// back the kept receipt intact. A receipt signed by a certificate we do not hold
// is not retried: every resend would fail the same way, so the message is parked
// at once with an error naming the certificates.
//
// # Certificates
//
// Keys and EncryptCerts may hold several entries: the first valid at send time is
// used, so a rollover is configured ahead by listing the new certificate first.
// SigningCerts are all tried (by issuer and serial); the MDN's signer must be valid
// at the time of checking. No chain building is done: certificates are pinned.
//
// # Concurrency
//
// smallstep/pkcs7 keeps its encryption algorithm choices in package variables.
// edi/as2 sets them under its own mutex and re-reads every envelope it built,
// refusing anything other than the requested AES-CBC with RSA PKCS#1 v1.5, so this
// package adds no lock of its own; TestConcurrentCiphers holds it to that.
//
// # What this package does not do
//
// It does not retry (the delivery workers do, by fault class), persist anything
// itself (PendingStore is the hub's; MemoryPending is for tests), keep the raw
// receipts (Result hands them over), serve the asynchronous receipt endpoint (the
// hub wires HandleAsyncMDN to a route), log, follow redirects with the default
// client, stream payloads larger than memory, send multiple attachments (RFC
// 6362), or answer with MDNs (adapters/as2 does).
package as2
