// Package as2 builds and parses AS2 messages (RFC 4130) and their receipts,
// MDNs (RFC 3798 as profiled by RFC 4130 §7). It knows nothing of the hub:
// it turns HTTP header fields and bodies into payloads and back, and leaves
// transport, storage and logging to its callers.
//
// # The protocol in brief
//
// An AS2 message is an HTTP POST whose body is a MIME entity, the payload
// (application/edi-x12, application/edifact, application/xml,
// application/octet-stream, …), optionally wrapped in S/MIME layers:
//
//   - compressed: application/pkcs7-mime; smime-type=compressed-data, a CMS
//     CompressedData with zlib (RFC 5402, RFC 3274), applied before or after
//     signing;
//   - signed: multipart/signed with a detached application/pkcs7-signature
//     (CMS SignedData, digest sha-1, sha-256, sha-384 or sha-512);
//   - encrypted: application/pkcs7-mime; smime-type=enveloped-data, a CMS
//     EnvelopedData with RSA PKCS#1 v1.5 key transport and AES-CBC.
//
// The AS2-From and AS2-To fields name the parties (case-sensitive; quoted
// with "…" when they contain spaces). A sender asks for a receipt with
// Disposition-Notification-To, for a signed one and its digest with
// Disposition-Notification-Options, and for an asynchronous one with
// Receipt-Delivery-Option. The receipt, an MDN, reports a disposition
// ("processed", or "processed/Error: decryption-failed" and so on) and the
// Received-Content-MIC, a digest of what was received that the sender
// compares with its own.
//
// # Using the package
//
// To send, describe the partner in a Partner profile and call BuildRequest;
// POST Request.Header and Request.Body, keep Request.MIC and check the MDN
// you get back with Receiver.ParseMDN and MDN.CheckMIC.
//
// To receive, create a Receiver with NewReceiver and a Resolver that finds
// the Partner profile and our Identity for an AS2-From/AS2-To pair. Pass
// each request to Receiver.Parse; answer with BuildMDN(msg, err, …), which
// turns the error into the disposition through DispositionFor. Errors of
// type *Error are the sender's fault and carry the Modifier to report;
// other errors (a failing Resolver) are ours: answer 5xx and let the
// sender retry.
//
//	recv, err := as2.NewReceiver(as2.DefaultConfig(), resolver)
//	…
//	msg, perr := recv.Parse(ctx, r.Header, r.Body)
//	// store msg.Payload durably first, then:
//	mdn, err := as2.BuildMDN(msg, perr, as2.MDNOptions{})
//
// See Example for a complete exchange.
//
// # Rules this package follows
//
// Layers on receipt are peeled in whatever order they were applied
// (encrypted → signed → compressed, encrypted → compressed → signed, …), up
// to Config.MaxDepth. Message.Security reports each layer, the cipher, the
// digest, which of the partner's certificates verified the signature and
// which of our keys decrypted.
//
// MIC (RFC 4130 §7.3.1): for a signed message, the digest, with the
// signature's digest algorithm, of the signed body part as transmitted,
// MIME headers included. Compressed-then-signed therefore covers the
// compressed entity, signed-then-compressed the uncompressed payload entity
// (the RFC 5402 notes). For an unsigned message, the digest of the payload
// entity with its headers after decryption and decompression, in the first
// algorithm of signed-receipt-micalg we support (sha-256 if none). When the
// payload entity is the HTTP body itself, its headers are rebuilt from the
// HTTP Content-Type, Content-Transfer-Encoding and Content-Disposition
// fields in that order, which is what BuildRequest emits. (RFC 4130 suggests
// leaving headers out for unsigned, unencrypted messages because mail
// gateways rewrite them; over HTTP most products include them, as we do.)
//
// Canonicalisation: signed MIME text is sent CRLF. On receipt the signature
// is first checked over the signed part exactly as received. Only if that
// fails with a digest mismatch and the part contains bare LFs is it checked
// again with every bare LF turned into CRLF; Security.CRLFConverted reports
// that the second form verified, and the payload and MIC then come from the
// CRLF form, which is what the sender signed.
//
// Certificates: partner certificates are pinned in Partner.Certs (several
// may be valid during a rollover; the signer is matched by issuer and
// serial). A certificate outside its validity at Config.Now is rejected with
// authentication-failed; no chain building is done. Decryption picks among
// Identity.Keys by the RecipientInfo's issuer and serial (or subject key
// identifier), so an old key can stay during our own rollover.
//
// Algorithms: outbound encryption is AES-128/192/256-CBC with RSA PKCS#1
// v1.5 only, never AES-GCM or RSA-OAEP, which OpenSSL-based AS2 products do
// not read; inbound accepts AES-CBC and 3DES. smallstep/pkcs7 signs,
// verifies and does AES-128/256 encryption; its algorithm choices are
// package variables, set under a package mutex and checked in the output.
// Decryption, AES-192, CompressedData and BER normalisation are done here
// because pkcs7 v0.2.3 lacks them or panics on hostile padding.
//
// Dispositions (RFC 4130 §7.5.3): processing errors are
// "processed/Error: <modifier>" with authentication-failed,
// decryption-failed, integrity-check-failed, decompression-failed or
// unexpected-processing-error. Receipt requests we cannot honour are
// "failed/Failure: unsupported format" (a required signed-receipt-protocol
// other than pkcs7-signature) and "failed/Failure: unsupported
// MIC-algorithms" (a required signed-receipt-micalg list with nothing we
// support). When those options are marked optional the message is processed
// and the receipt is unsigned, or signed with sha-256, respectively.
//
// Limits: the body (Config.MaxBodySize), every MIME header block
// (MaxHeaderSize), the inflated size of compressed data
// (MaxDecompressedSize) and the nesting depth (MaxDepth) are capped;
// exceeding one yields an error wrapping ErrTooLarge.
package as2
