package as2

import (
	"errors"
	"fmt"
	"strings"
)

// Modifier is the disposition modifier an MDN reports when a message could
// not be processed (RFC 4130 §7.4.3 and §7.5.3). The values are the exact
// strings written after "processed/Error: " or "failed/Failure: ".
type Modifier string

// Disposition modifiers defined by RFC 4130.
const (
	// AuthenticationFailed: the signature did not verify against any of the
	// partner's certificates, the certificate was expired, or the message was
	// unsigned although the partner profile requires a signature.
	AuthenticationFailed Modifier = "authentication-failed"
	// DecryptionFailed: none of our keys could decrypt the message, the
	// cipher is not supported, or the message was not encrypted although the
	// partner profile requires encryption.
	DecryptionFailed Modifier = "decryption-failed"
	// IntegrityCheckFailed: the signature is valid but the content digest does
	// not match: the payload was altered in transit.
	IntegrityCheckFailed Modifier = "integrity-check-failed"
	// DecompressionFailed: CompressedData (RFC 5402) could not be inflated or
	// exceeded Config.MaxDecompressedSize.
	DecompressionFailed Modifier = "decompression-failed"
	// UnexpectedProcessingError: anything else that is the sender's doing
	// (malformed MIME, missing headers, oversized body).
	UnexpectedProcessingError Modifier = "unexpected-processing-error"
	// UnsupportedFormat: the request asked, as "required", for a receipt
	// signature protocol we do not speak, or the content is of a kind we do
	// not handle. Sent as "failed/Failure: unsupported format".
	UnsupportedFormat Modifier = "unsupported format"
	// UnsupportedMICAlgorithms: the request asked, as "required", for MIC
	// algorithms none of which we support. Sent as
	// "failed/Failure: unsupported MIC-algorithms".
	UnsupportedMICAlgorithms Modifier = "unsupported MIC-algorithms"
)

// failure reports whether RFC 4130 sends this modifier as "failed/Failure"
// (the request itself cannot be honoured) rather than "processed/Error".
func (m Modifier) failure() bool {
	return m == UnsupportedFormat || m == UnsupportedMICAlgorithms
}

// parseModifier maps a received modifier text to a Modifier, accepting the
// hyphenated spellings some products use ("unsupported-format").
func parseModifier(s string) Modifier {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "unsupported format", "unsupported-format":
		return UnsupportedFormat
	case "unsupported mic-algorithms", "unsupported-mic-algorithms", "unsupported mic-algorithm":
		return UnsupportedMICAlgorithms
	}
	return Modifier(strings.ToLower(s))
}

// Error is a failure to process an AS2 message or MDN that is attributable to
// the message: it carries the disposition modifier to report to the sender
// in the MDN. Map it with DispositionFor; test for a class with errors.Is and
// the Err… sentinels below.
//
// Errors from Parse that are not *Error (a failing Resolver, a cancelled
// context) are our own trouble: answer with HTTP 5xx so the sender retries,
// rather than with a negative MDN.
type Error struct {
	Modifier Modifier // what to report in the MDN
	Op       string   // what we were doing, e.g. "verifying signature"
	Err      error    // the cause; its text says what to do next
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("as2: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString(string(e.Modifier))
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel for e's modifier, so that
// errors.Is(err, ErrDecryptionFailed) works on any decryption failure.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Op == "" && t.Err == nil && t.Modifier == e.Modifier
}

// Sentinels, one per disposition modifier, for use with errors.Is.
var (
	ErrAuthenticationFailed     error = &Error{Modifier: AuthenticationFailed}
	ErrDecryptionFailed         error = &Error{Modifier: DecryptionFailed}
	ErrIntegrityCheckFailed     error = &Error{Modifier: IntegrityCheckFailed}
	ErrDecompressionFailed      error = &Error{Modifier: DecompressionFailed}
	ErrUnexpectedProcessing     error = &Error{Modifier: UnexpectedProcessingError}
	ErrUnsupportedFormat        error = &Error{Modifier: UnsupportedFormat}
	ErrUnsupportedMICAlgorithms error = &Error{Modifier: UnsupportedMICAlgorithms}
)

// Further sentinels wrapped inside *Error values or returned by helpers.
var (
	// ErrTooLarge: a body, header block, decrypted or decompressed entity
	// exceeded the configured cap. Raise the cap in Config if the partner's
	// files are legitimately that big.
	ErrTooLarge = errors.New("size limit exceeded")
	// ErrUnknownPartner: a Resolver returns it (wrapped is fine) when AS2-From
	// or AS2-To names no configured relationship. Parse reports it as
	// authentication-failed.
	ErrUnknownPartner = errors.New("unknown AS2 partner")
	// ErrUnsupportedDigest: a micalg name we do not know (md5, sha-224, …).
	ErrUnsupportedDigest = errors.New("unsupported digest algorithm")
	// ErrMICMismatch: the MIC returned in an MDN differs from the one we
	// computed when sending; the partner received different bytes.
	ErrMICMismatch = errors.New("MIC mismatch")
	// ErrNoMIC: the MDN carries no Received-Content-MIC.
	ErrNoMIC = errors.New("MDN carries no Received-Content-MIC")

	// The three ways a signature fails authentication-failed, told apart
	// because they call for different action. Each is wrapped in an *Error
	// with modifier AuthenticationFailed (a content digest that does not
	// match is IntegrityCheckFailed instead).
	//
	// ErrUnknownSigner: signed with a certificate that is not among the
	// partner's (by issuer and serial): a configuration matter, the partner
	// changed its certificate. Import the new one.
	ErrUnknownSigner = errors.New("signed by a certificate not configured for the partner")
	// ErrSignerNotValid: signed with one of the partner's certificates, but
	// it is expired or not yet valid at the time of checking.
	ErrSignerNotValid = errors.New("the signing certificate is not valid now")
	// ErrBadSignature: the signature cannot be read, has the wrong number of
	// signers or an unsupported digest, or does not verify with the
	// certificate it names: damaged in transit, or forged.
	ErrBadSignature = errors.New("signature does not verify")
)

func newError(m Modifier, op string, err error) *Error {
	return &Error{Modifier: m, Op: op, Err: err}
}

func errorf(m Modifier, op, format string, args ...any) *Error {
	return &Error{Modifier: m, Op: op, Err: fmt.Errorf(format, args...)}
}
