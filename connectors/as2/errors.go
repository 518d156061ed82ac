package as2

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
)

// Sentinels, one per rule, for errors.Is. The fault class each gets is given in
// brackets; the package doc explains the choices.
var (
	// ErrInvalidMessage: the Message itself is unusable (empty payload, a bad
	// Content-Type, a line break in a header value). [validation]
	ErrInvalidMessage = errors.New("invalid AS2 message")
	// ErrNoValidCert: none of our key pairs, or none of the partner's encryption
	// certificates, is valid now. [permanent]
	ErrNoValidCert = errors.New("no certificate valid now")
	// ErrNotConfigured: the Sender lacks what this call needs (a PendingStore for
	// an asynchronous MDN, a profile lookup for HandleAsyncMDN). [permanent]
	ErrNotConfigured = errors.New("AS2 sender not configured for this")
	// ErrTimeout: the partner did not answer within Profile.Timeout. [transient]
	ErrTimeout = errors.New("no answer from the partner within the profile's Timeout")
	// ErrNoMDN: a synchronous MDN was asked for and the 2xx response had no
	// body. [transient]
	ErrNoMDN = errors.New("the partner answered without an MDN")
	// ErrMDNTooLarge: the MDN is longer than Config.MaxMDNSize. [permanent]
	ErrMDNTooLarge = errors.New("MDN too large")
	// ErrMDNVerification: the MDN does not verify: a damaged signature,
	// content altered after signing, or a malformed receipt. [transient: the
	// partner answers a resend under the same Message-ID with its kept receipt,
	// which replaces a copy damaged in transit] A signer we do not know is
	// ErrMDNSigner instead.
	ErrMDNVerification = errors.New("MDN does not verify")
	// ErrMDNSigner: the MDN is signed with a certificate that is not among the
	// profile's SigningCerts, or with one that is expired or not yet valid: the
	// partner changed its certificate, and every resend would fail the same way.
	// Import the partner's current certificate. [permanent]
	ErrMDNSigner = errors.New("MDN signed by a certificate we cannot accept")
	// ErrUnsignedMDN: the profile asks for a signed MDN and the partner sent an
	// unsigned one. [permanent]
	ErrUnsignedMDN = errors.New("MDN is not signed but a signed MDN was requested")
	// ErrWrongParties: the MDN's AS2-From/AS2-To are not the profile's partner
	// and us. [permanent]
	ErrWrongParties = errors.New("MDN names other AS2 parties")
	// ErrMessageIDMismatch: the synchronous MDN's Original-Message-ID is not the
	// Message-ID we sent. [permanent]
	ErrMessageIDMismatch = errors.New("MDN answers another message")
	// ErrUnknownMessage: an asynchronous MDN whose Original-Message-ID matches no
	// pending send of that partner (never sent, already settled, or expired and
	// claimed). [permanent]
	ErrUnknownMessage = errors.New("no pending send for this MDN")
	// ErrUnprovenMDN: an asynchronous MDN without a verified signature (the
	// profile accepts unsigned receipts) that would settle a send it cannot
	// prove it answers: a negative disposition, which anyone who guesses the
	// Message-ID could post, or a positive one whose Received-Content-MIC is
	// not the MIC we computed. It settles nothing: the send keeps waiting, and
	// is resent at its deadline. [permanent]
	ErrUnprovenMDN = errors.New("unsigned MDN does not prove what it says")
)

// MDNError is a receipt in which the partner refused the message:
// "processed/Error: <modifier>" or "failed/Failure: <modifier>". It is always
// permanent: the message goes to the DLQ and a person acts on the modifier and
// the partner's text.
//
// That includes unexpected-processing-error. RFC 4130 makes it the catch-all for
// whatever else is wrong with the message, and receivers send it for a Message-ID
// they saw before with other content (adapters/as2 does, as do the common AS2
// products): resending the same bytes under the same Message-ID, which is all a
// retry does, gets the same answer every time (RFC 4130 §9.3: a resend is a
// duplicate by its Message-ID). A receiver in trouble of its own answers with
// HTTP 5xx and no MDN (as adapters/as2 does), which is retried as an *HTTPError.
//
// errors.Is(err, edias2.ErrDecryptionFailed) and the other edi/as2 modifier
// sentinels work on it.
type MDNError struct {
	Partner     string             // the partner's AS2 id
	MessageID   string             // the Message-ID of our message
	Disposition edias2.Disposition // as the partner wrote it
	Modifier    edias2.Modifier    // e.g. decryption-failed; empty if the partner gave none
	Text        string             // the MDN's human-readable part, clipped to 1 KiB
	err         *edias2.Error
}

func newMDNError(partner, messageID string, m *edias2.MDN) *MDNError {
	return &MDNError{
		Partner: partner, MessageID: messageID, Disposition: m.Disposition, Modifier: m.Disposition.Modifier,
		Text: clip(strings.TrimSpace(m.Text), 1024),
		err:  &edias2.Error{Modifier: m.Disposition.Modifier, Op: "partner receipt", Err: fmt.Errorf("%s", m.Disposition)},
	}
}

func (e *MDNError) Error() string {
	s := fmt.Sprintf("partner %q refused message %s: %q", e.Partner, e.MessageID, e.Disposition.String())
	if hint := modifierHint(e.Modifier); hint != "" {
		s += "; " + hint
	}
	return s
}

// Unwrap returns an *edias2.Error with the partner's modifier.
func (e *MDNError) Unwrap() error { return e.err }

func modifierHint(m edias2.Modifier) string {
	switch m {
	case edias2.AuthenticationFailed:
		return "the partner does not accept our signature: check that they have our current certificate and our AS2 id"
	case edias2.DecryptionFailed:
		return "the partner cannot decrypt: check that EncryptCerts holds their current certificate and that they accept the cipher"
	case edias2.IntegrityCheckFailed:
		return "the content changed between signing and verification"
	case edias2.DecompressionFailed:
		return "the partner cannot decompress: try Compression none"
	case edias2.UnsupportedFormat:
		return "the partner does not support the receipt or content format we asked for"
	case edias2.UnsupportedMICAlgorithms:
		return "the partner supports none of the MICAlgs we asked for"
	case edias2.UnexpectedProcessingError:
		return "read the partner's text: a resend under the same Message-ID gets the same answer (a Message-ID the partner saw before with other content is the usual cause; replaying from the DLQ resends the same bytes under the same Message-ID, so send the file again as a new delivery if the partner lost or rejected it)"
	}
	return ""
}

// MICError is a receipt whose Received-Content-MIC is not the MIC we computed:
// the partner received (or digested) other bytes than we sent. It is transient: a
// resend can fix corruption in transit.
type MICError struct {
	Partner   string
	MessageID string
	Sent      edias2.MIC // ours
	Received  edias2.MIC // the partner's; zero when the MDN carried none
}

func (e *MICError) Error() string {
	if e.Received.IsZero() {
		return fmt.Sprintf("the MDN of %q for %s carries no Received-Content-MIC; we computed %q, and without the partner's MIC the receipt proves nothing",
			e.Partner, e.MessageID, e.Sent.String())
	}
	return fmt.Sprintf("the MDN of %q for %s has Received-Content-MIC %q but we computed %q: the partner received or digested other bytes than we sent",
		e.Partner, e.MessageID, e.Received.String(), e.Sent.String())
}

// Unwrap returns edias2.ErrNoMIC or edias2.ErrMICMismatch.
func (e *MICError) Unwrap() error {
	if e.Received.IsZero() {
		return edias2.ErrNoMIC
	}
	return edias2.ErrMICMismatch
}

// MaxErrorBody is how much of a refusing response's body HTTPError keeps.
const MaxErrorBody = 512

// HTTPError is a non-2xx answer to the POST. 5xx, 408 and 429 are transient
// (RetryAfter carries the partner's Retry-After); other statuses, redirects
// included, are permanent.
type HTTPError struct {
	Partner    string
	URL        string
	Status     int
	Body       []byte        // the first MaxErrorBody bytes of the response body
	Location   string        // the Location of a redirect
	RetryAfter time.Duration // from Retry-After, or 0
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("partner %q at %s answered HTTP %d %s", e.Partner, e.URL, e.Status, http.StatusText(e.Status))
	if e.Location != "" {
		s += fmt.Sprintf(", redirecting to %q; update the profile's URL if the partner moved", e.Location)
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(", retry after %s", e.RetryAfter)
	}
	if len(e.Body) > 0 {
		s += fmt.Sprintf(": %q", e.Body)
	}
	return s
}

// Transient reports whether the status is worth retrying: 5xx, 408 or 429.
func (e *HTTPError) Transient() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// classify is the one place an error of this package gets its fault class.
// Errors not named here (network errors, a cancelled context, a failing
// PendingStore) are transient.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var (
		mdnErr  *MDNError
		httpErr *HTTPError
		micErr  *MICError
		profErr *ProfileError
	)
	switch {
	case errors.As(err, &mdnErr):
		return fault.AsPermanent(err)
	case errors.As(err, &httpErr):
		if httpErr.Transient() {
			return &fault.Error{Class: fault.Transient, RetryAfter: httpErr.RetryAfter, Err: err}
		}
		return fault.AsPermanent(err)
	case errors.As(err, &micErr):
		return fault.AsTransient(err)
	case errors.Is(err, ErrInvalidMessage):
		return fault.AsValidation(err)
	case errors.As(err, &profErr),
		errors.Is(err, ErrNoValidCert),
		errors.Is(err, ErrNotConfigured),
		errors.Is(err, ErrMDNTooLarge),
		errors.Is(err, ErrUnsignedMDN),
		errors.Is(err, ErrMDNSigner),
		errors.Is(err, ErrWrongParties),
		errors.Is(err, ErrMessageIDMismatch),
		errors.Is(err, ErrUnknownMessage),
		errors.Is(err, ErrUnprovenMDN),
		errors.Is(err, edias2.ErrUnknownPartner):
		return fault.AsPermanent(err)
	}
	// ErrTimeout, ErrNoMDN, ErrMDNVerification, network errors, context errors,
	// store errors.
	return fault.AsTransient(err)
}

// retryAfter parses Retry-After: delay-seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
