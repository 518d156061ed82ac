package as2

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/fault"
)

// DefaultMaxMDNSize is Config.MaxMDNSize when zero. MDNs are a few KiB.
const DefaultMaxMDNSize = 1 << 20

// DefaultUserAgent is Config.UserAgent when empty.
const DefaultUserAgent = "PakLog Integration Hub (connectors/as2)"

// Status says how far a successful send got.
type Status string

// Send outcomes.
const (
	// StatusDelivered: the partner returned a verified "processed" MDN (perhaps
	// with a warning) whose Received-Content-MIC is ours.
	StatusDelivered Status = "delivered"
	// StatusPendingMDN: the partner answered 2xx and will POST the MDN to the
	// profile's ReceiptURL; HandleAsyncMDN settles it.
	StatusPendingMDN Status = "pending-async-mdn"
	// StatusDeliveredWithoutMDN: the partner answered 2xx to a message that asked
	// for no receipt. Nothing proves what it received.
	StatusDeliveredWithoutMDN Status = "delivered-without-mdn"
)

// Message is one business document to send.
type Message struct {
	Payload []byte
	// ContentType is the payload's media type, e.g. application/edi-x12,
	// application/edifact, application/xml; default application/octet-stream.
	ContentType string
	// FileName, when set, travels in Content-Disposition.
	FileName string
	// MessageID is the AS2 Message-ID, "<left@right>" (angle brackets are added
	// when missing). Empty means a random "<…@LocalID>". Pass a value derived
	// from the hub's delivery id: a retry must resend under the same Message-ID
	// so that the partner recognises the duplicate.
	MessageID string
	// Subject is the optional Subject header.
	Subject string
}

// Result is what a send, or an asynchronous MDN, established.
//
// Send returns a Result, even with an error, once the message was built: keep
// MessageID (to resend under it) and, when set, MDN and Header (what the partner
// said, kept raw for non-repudiation). Status is set only when there is no error.
type Result struct {
	MessageID string     // as sent, with angle brackets
	MIC       edias2.MIC // the MIC we computed (RFC 4130 §7.3.1)
	Status    Status

	// MDN is the receipt's body byte for byte, and Header its header fields
	// (Content-Type carries the boundary and micalg needed to verify MDN again).
	// Nil when no receipt came (yet).
	MDN    []byte
	Header http.Header
	// Receipt is MDN parsed; Disposition is Receipt.Disposition. Receipt is nil
	// when the MDN could not be parsed or its signature failed; with
	// ErrUnsignedMDN it is set (unsigned, so unproven) for the operator to read.
	Receipt     *edias2.MDN
	Disposition edias2.Disposition
	// Warning is the modifier of a "processed/Warning: …" disposition: the
	// message was delivered and the partner wants someone to look.
	Warning edias2.Modifier
}

// ProfileFunc finds the profile of an exchange from the AS2 ids an asynchronous
// MDN names: partnerID from its AS2-From, localID from its AS2-To. It returns an
// error wrapping edias2.ErrUnknownPartner when the pair is not configured; other
// errors are taken as transient trouble. It must be safe for concurrent use.
type ProfileFunc func(ctx context.Context, partnerID, localID string) (*Profile, error)

// Config sets up a Sender. Every field is optional.
type Config struct {
	// Client sends the messages. The default does not follow redirects (a
	// moved endpoint is reported, not silently followed) and relies on
	// Profile.Timeout. A client of your own keeps its own redirect policy.
	Client *http.Client
	// Pending keeps sends awaiting an asynchronous MDN. Required to send with a
	// profile whose MDN is MDNAsync.
	Pending PendingStore
	// Profiles finds the profile an asynchronous MDN is for. Required by
	// HandleAsyncMDN.
	Profiles ProfileFunc
	// UserAgent is sent as User-Agent (default DefaultUserAgent).
	UserAgent string
	// MaxMDNSize caps the MDN read, from a response or an asynchronous POST, in
	// bytes (default DefaultMaxMDNSize).
	MaxMDNSize int64
	// Now is the clock for certificate validity and pending deadlines (default
	// time.Now).
	Now func() time.Time
}

// Validate reports every problem of c, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.MaxMDNSize < 0 {
		errs = append(errs, fmt.Errorf("as2 sender: MaxMDNSize: %d is negative (0 means %d)", c.MaxMDNSize, DefaultMaxMDNSize))
	}
	if strings.ContainsAny(c.UserAgent, "\r\n") {
		errs = append(errs, fmt.Errorf("as2 sender: UserAgent: %q contains a line break", c.UserAgent))
	}
	return errors.Join(errs...)
}

// Sender sends AS2 messages and checks their receipts. It is safe for concurrent
// use.
type Sender struct {
	cfg Config
}

// New validates cfg, fills its defaults and returns a Sender.
func New(cfg Config) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	if cfg.MaxMDNSize == 0 {
		cfg.MaxMDNSize = DefaultMaxMDNSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Sender{cfg: cfg}, nil
}

// Send builds the message for p (compressing, signing and encrypting as p says),
// POSTs it to p.URL and, for a synchronous MDN, verifies the receipt: its
// signature against p.SigningCerts, its Original-Message-ID, its disposition and
// its Received-Content-MIC against ours. For an asynchronous MDN it records a
// Pending before POSTing and returns StatusPendingMDN.
//
// With MDNNone, a receipt the partner sends anyway is ignored.
//
// Every error carries a fault class (see the package doc); a negative receipt is
// an *MDNError, a MIC mismatch a *MICError, a non-2xx answer an *HTTPError.
//
// Cancelling ctx abandons the exchange; the partner may or may not have received
// the message, and the error is transient: resend under Result.MessageID. The
// exchange is also bounded by p.Timeout.
func (s *Sender) Send(ctx context.Context, p *Profile, m Message) (*Result, error) {
	res, err := s.send(ctx, p, m)
	return res, classify(err)
}

func (s *Sender) send(ctx context.Context, p *Profile, m Message) (*Result, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	msgID, err := m.check()
	if err != nil {
		return nil, fmt.Errorf("sending to %q: %w", p.PartnerID, err)
	}
	if p.MDN == edias2.MDNAsync && s.cfg.Pending == nil {
		return nil, fmt.Errorf("sending to %q: %w: the profile asks for an asynchronous MDN and Config.Pending is nil", p.PartnerID, ErrNotConfigured)
	}
	now := s.cfg.Now()
	self := &edias2.Identity{ID: p.LocalID}
	if !p.Unsigned {
		kp, err := p.signingKey(now)
		if err != nil {
			return nil, fmt.Errorf("sending to %q: %w", p.PartnerID, err)
		}
		self.Keys = []edias2.KeyPair{kp}
	}
	var encryptTo *x509.Certificate
	if !p.Unencrypted {
		if encryptTo, err = p.encryptCert(now); err != nil {
			return nil, fmt.Errorf("sending to %q: %w", p.PartnerID, err)
		}
	}
	// edi/as2 sets pkcs7's package-level algorithm choices under its own mutex
	// and re-reads the envelope it produced, so concurrent sends with different
	// ciphers are safe without a lock here.
	req, err := edias2.BuildRequest(self, p.partner(encryptTo),
		edias2.Payload{Data: m.Payload, ContentType: m.ContentType, Filename: m.FileName},
		edias2.RequestOptions{MessageID: msgID, Subject: m.Subject})
	if err != nil {
		return nil, fmt.Errorf("sending to %q: %w", p.PartnerID, err)
	}
	res := &Result{MessageID: req.MessageID, MIC: req.MIC}
	fail := func(err error) (*Result, error) {
		return res, fmt.Errorf("sending AS2 message %s to %q: %w", res.MessageID, p.PartnerID, err)
	}

	async := p.MDN == edias2.MDNAsync
	if async {
		pend := Pending{MessageID: req.MessageID, Partner: p.PartnerID, MIC: req.MIC, SentAt: now, Deadline: now.Add(p.asyncMDNTimeout())}
		if err := s.cfg.Pending.Save(ctx, pend); err != nil {
			return fail(fmt.Errorf("recording the pending MDN: %w", err))
		}
	}
	resp, body, err := s.post(ctx, p, req)
	if err == nil {
		err = statusError(p, resp, body, s.cfg.Now())
	}
	if err != nil {
		// A permanent failure settles the message: the MDN will not come. A
		// transient one leaves the record, so that a late MDN still matches
		// (and a resend replaces it).
		if async && fault.ClassOf(classify(err)) != fault.Transient {
			s.withdraw(ctx, p, req.MessageID)
		}
		return fail(err)
	}
	if int64(len(body)) > s.cfg.MaxMDNSize {
		if async {
			s.withdraw(ctx, p, req.MessageID)
		}
		return fail(fmt.Errorf("%w: the response is longer than %d bytes (Config.MaxMDNSize)", ErrMDNTooLarge, s.cfg.MaxMDNSize))
	}
	hasMDN := len(body) > 0 && isMDNType(resp.Header.Get("Content-Type"))
	switch {
	case p.MDN == edias2.MDNNone:
		res.Status = StatusDeliveredWithoutMDN
		return res, nil
	case async && !hasMDN:
		res.Status = StatusPendingMDN
		return res, nil
	case async:
		// The partner answered in the response after all (some products do when
		// they refuse the message, or cannot reach the receipt URL).
		s.withdraw(ctx, p, req.MessageID)
	case len(body) == 0:
		return fail(fmt.Errorf("%w: HTTP %d with an empty body, but the profile asks for a synchronous MDN", ErrNoMDN, resp.StatusCode))
	}

	res.MDN, res.Header = body, resp.Header.Clone()
	mdn, _, err := s.readMDN(ctx, resp.Header, body, func(_ context.Context, partner, local string) (*Profile, error) {
		if partner != p.PartnerID || local != p.LocalID {
			return nil, fmt.Errorf("%w: AS2-From %q and AS2-To %q, but we sent from %q to %q", ErrWrongParties, partner, local, p.LocalID, p.PartnerID)
		}
		return p, nil
	})
	if mdn != nil {
		res.Receipt, res.Disposition = mdn, mdn.Disposition
	}
	if err != nil {
		return fail(err)
	}
	if got := normalizeID(mdn.OriginalMessageID); got != req.MessageID {
		return fail(fmt.Errorf("%w: Original-Message-ID is %q, we sent %s", ErrMessageIDMismatch, mdn.OriginalMessageID, req.MessageID))
	}
	if err := settle(p, res, mdn); err != nil {
		return fail(err)
	}
	return res, nil
}

// post sends req and reads the answer, all within p.Timeout.
func (s *Sender) post(ctx context.Context, p *Profile, req *edias2.Request) (*http.Response, []byte, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, p.timeout(), fmt.Errorf("%w (%s)", ErrTimeout, p.timeout()))
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(req.Body))
	if err != nil {
		return nil, nil, &ProfileError{LocalID: p.LocalID, PartnerID: p.PartnerID, Fields: []FieldError{{"URL", err.Error()}}}
	}
	hr.Header = req.Header.Clone()
	hr.Header.Set("User-Agent", s.cfg.UserAgent)
	resp, err := s.cfg.Client.Do(hr)
	if err != nil {
		return nil, nil, transportError(ctx, p, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.cfg.MaxMDNSize+1))
	if err != nil {
		return nil, nil, transportError(ctx, p, fmt.Errorf("reading the response: %w", err))
	}
	return resp, body, nil
}

// transportError names our timeout as such; anything else (refused
// connection, reset, TLS, the caller's cancellation) is passed on.
func transportError(ctx context.Context, p *Profile, err error) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrTimeout) {
		return fmt.Errorf("posting to %s: %w", p.URL, cause)
	}
	return fmt.Errorf("posting to %s: %w", p.URL, err)
}

// statusError turns a non-2xx answer into an *HTTPError.
func statusError(p *Profile, resp *http.Response, body []byte, now time.Time) error {
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	e := &HTTPError{Partner: p.PartnerID, URL: p.URL, Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header, now)}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Location = resp.Header.Get("Location")
	}
	if len(body) > MaxErrorBody {
		body = body[:MaxErrorBody]
	}
	e.Body = append([]byte(nil), body...)
	return e
}

// withdraw drops the pending record of a send whose MDN will not come by POST. It
// finishes even if ctx is cancelled; a record already gone is fine.
func (s *Sender) withdraw(ctx context.Context, p *Profile, messageID string) {
	_, _ = s.cfg.Pending.Match(context.WithoutCancel(ctx), p.PartnerID, messageID)
}

// HandleAsyncMDN reads an asynchronous MDN POSTed to the receipt URL (its header
// fields and body), verifies it against the profile Config.Profiles finds for its
// AS2-From and AS2-To, and settles the pending send it answers.
//
// The Result is nil when the MDN itself was refused: it does not parse or verify,
// names unknown parties, is unsigned although the profile asks for signed
// receipts, matches no pending send (ErrUnknownMessage), or is unsigned and
// negative, or unsigned with a Received-Content-MIC that is not ours
// (ErrUnprovenMDN: Message-IDs can be guessed, so an unsigned MDN only
// settles a send when it proves its recipient computed our MIC). Those refusals leave
// the pending sends untouched, so a forged MDN settles nothing; answer the poster
// 4xx for a permanent error and 5xx for a transient one (a failing store).
//
// The Result is non-nil when the MDN matched a pending send, which is then
// settled: the error, if any, is that message's outcome, classified like Send's
// (an *MDNError for a negative receipt, a *MICError for a MIC mismatch), and the
// poster should get 200 either way.
//
// Cancelling ctx abandons the call before the pending record is claimed; the
// claim itself, once started, finishes.
func (s *Sender) HandleAsyncMDN(ctx context.Context, h http.Header, body io.Reader) (*Result, error) {
	res, err := s.handleAsyncMDN(ctx, h, body)
	return res, classify(err)
}

func (s *Sender) handleAsyncMDN(ctx context.Context, h http.Header, body io.Reader) (*Result, error) {
	refuse := func(err error) (*Result, error) {
		return nil, fmt.Errorf("refusing asynchronous MDN %s from %s: %w",
			clip(h.Get("Message-ID"), 200), clip(h.Get("AS2-From"), 200), err)
	}
	if s.cfg.Pending == nil || s.cfg.Profiles == nil {
		return refuse(fmt.Errorf("%w: HandleAsyncMDN needs Config.Pending and Config.Profiles", ErrNotConfigured))
	}
	raw, err := io.ReadAll(io.LimitReader(body, s.cfg.MaxMDNSize+1))
	if err != nil {
		return refuse(fmt.Errorf("reading the MDN: %w", err))
	}
	if int64(len(raw)) > s.cfg.MaxMDNSize {
		return refuse(fmt.Errorf("%w: longer than %d bytes (Config.MaxMDNSize)", ErrMDNTooLarge, s.cfg.MaxMDNSize))
	}
	mdn, p, err := s.readMDN(ctx, h, raw, s.cfg.Profiles)
	if err != nil {
		return refuse(err)
	}
	id := normalizeID(mdn.OriginalMessageID)
	if id == "" {
		return refuse(fmt.Errorf("%w: the MDN carries no Original-Message-ID", ErrUnknownMessage))
	}
	if !mdn.Security.Signed {
		// Nothing proves who sent an unsigned MDN, and Message-IDs are not
		// secret: it may only settle a send as delivered, and only when it
		// carries the MIC we computed, which only the message's recipient knows.
		// A negative one is left for the deadline (a resend) to settle.
		if !mdn.Disposition.OK() {
			return refuse(fmt.Errorf("%w: partner %q sent an unsigned MDN %q for %s; a refusal without a signature is not trusted, the message stays awaiting its receipt and is resent at its deadline",
				ErrUnprovenMDN, p.PartnerID, mdn.Disposition.String(), id))
		}
		peek, err := s.cfg.Pending.Peek(ctx, p.PartnerID, id)
		if err != nil {
			return refuse(fmt.Errorf("matching the MDN to a send: %w", err))
		}
		if mdn.MIC.IsZero() || !mdn.MIC.Equal(peek.MIC) {
			return refuse(fmt.Errorf("%w: partner %q sent an unsigned MDN for %s whose Received-Content-MIC %s is not ours (%s); the message stays awaiting its receipt",
				ErrUnprovenMDN, p.PartnerID, id, mdn.MIC, peek.MIC))
		}
	}
	// The claim is not abandoned when the poster hangs up: a claim whose
	// answer is lost would leave the send unsettled and the poster's retry
	// unmatched.
	pend, err := s.cfg.Pending.Match(context.WithoutCancel(ctx), p.PartnerID, id)
	if err != nil {
		return refuse(fmt.Errorf("matching the MDN to a send: %w", err))
	}
	res := &Result{MessageID: pend.MessageID, MIC: pend.MIC, MDN: raw, Header: h.Clone(), Receipt: mdn, Disposition: mdn.Disposition}
	if err := settle(p, res, mdn); err != nil {
		return res, fmt.Errorf("asynchronous MDN for AS2 message %s from %q: %w", pend.MessageID, p.PartnerID, err)
	}
	return res, nil
}

// readMDN parses an MDN and verifies it against the profile lookup returns for
// the AS2 ids it names: the signature, when there is one, against the profile's
// SigningCerts; the presence of a signature when the profile asks for one.
func (s *Sender) readMDN(ctx context.Context, h http.Header, body []byte, lookup ProfileFunc) (*edias2.MDN, *Profile, error) {
	var prof *Profile
	cfg := edias2.DefaultConfig()
	cfg.MaxBodySize, cfg.Now = s.cfg.MaxMDNSize, s.cfg.Now
	recv, err := edias2.NewReceiver(cfg, edias2.ResolverFunc(func(ctx context.Context, partner, ours string) (*edias2.Partner, *edias2.Identity, error) {
		p, err := lookup(ctx, partner, ours)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			return nil, nil, fmt.Errorf("no profile for %q to %q: %w", ours, partner, edias2.ErrUnknownPartner)
		}
		prof = p
		// The signed-receipt requirement is checked below rather than by
		// edi/as2, so that it gets its own error and class.
		return &edias2.Partner{ID: p.PartnerID, Certs: p.SigningCerts}, &edias2.Identity{ID: p.LocalID}, nil
	}))
	if err != nil {
		return nil, nil, err
	}
	mdn, err := recv.ParseMDN(ctx, h, bytes.NewReader(body))
	if err != nil {
		var asErr *edias2.Error
		switch {
		case errors.Is(err, ErrWrongParties) || errors.Is(err, edias2.ErrUnknownPartner):
			return nil, prof, err
		case prof != nil && len(prof.SigningCerts) == 0 && mediaType(h.Get("Content-Type")) == "multipart/signed":
			return nil, prof, &ProfileError{LocalID: prof.LocalID, PartnerID: prof.PartnerID, Fields: []FieldError{{"SigningCerts",
				"empty, but the partner signs its MDNs; import the partner's certificate to verify them"}}}
		case errors.Is(err, edias2.ErrUnknownSigner) || errors.Is(err, edias2.ErrSignerNotValid):
			return nil, prof, fmt.Errorf("%w: %w", ErrMDNSigner, err)
		case errors.As(err, &asErr):
			return nil, prof, fmt.Errorf("%w: %w", ErrMDNVerification, err)
		}
		return nil, prof, fmt.Errorf("reading the MDN: %w", err)
	}
	if prof.SignedMDN && !mdn.Security.Signed {
		return mdn, prof, fmt.Errorf("%w: partner %q sent an unsigned MDN (%q) for %s; without a signature it proves nothing. Ask the partner to sign receipts, or clear SignedMDN",
			ErrUnsignedMDN, prof.PartnerID, mdn.Disposition.String(), mdn.OriginalMessageID)
	}
	return mdn, prof, nil
}

// settle applies a verified MDN's verdict to res: the disposition first (a
// refusal may carry no MIC), then Received-Content-MIC.
func settle(p *Profile, res *Result, mdn *edias2.MDN) error {
	res.Receipt, res.Disposition = mdn, mdn.Disposition
	if !mdn.Disposition.OK() {
		return newMDNError(p.PartnerID, res.MessageID, mdn)
	}
	if mdn.MIC.IsZero() || !mdn.MIC.Equal(res.MIC) {
		return &MICError{Partner: p.PartnerID, MessageID: res.MessageID, Sent: res.MIC, Received: mdn.MIC}
	}
	if strings.EqualFold(mdn.Disposition.ModifierKind, "warning") {
		res.Warning = mdn.Disposition.Modifier
	}
	res.Status = StatusDelivered
	return nil
}

// check validates m and returns its Message-ID in "<…>" form ("" to generate).
func (m *Message) check() (string, error) {
	var problems []string
	if len(m.Payload) == 0 {
		problems = append(problems, "Payload is empty")
	}
	if m.ContentType != "" {
		if strings.ContainsAny(m.ContentType, "\r\n") {
			problems = append(problems, fmt.Sprintf("ContentType %q contains a line break", m.ContentType))
		} else if _, _, err := mime.ParseMediaType(m.ContentType); err != nil {
			problems = append(problems, fmt.Sprintf("ContentType %q: %v", m.ContentType, err))
		}
	}
	if strings.ContainsFunc(m.FileName, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		problems = append(problems, fmt.Sprintf("FileName %q contains a control character", m.FileName))
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		problems = append(problems, fmt.Sprintf("Subject %q contains a line break", m.Subject))
	}
	id := ""
	if m.MessageID != "" {
		id = normalizeID(m.MessageID)
		inner := id[1 : len(id)-1]
		switch {
		case len(inner) > 250:
			problems = append(problems, fmt.Sprintf("MessageID is %d characters, want at most 250", len(inner)))
		case strings.ContainsFunc(inner, func(r rune) bool { return r <= ' ' || r > '~' || r == '<' || r == '>' }):
			problems = append(problems, fmt.Sprintf("MessageID %q must be printable ASCII without spaces or angle brackets inside", m.MessageID))
		case !strings.Contains(inner, "@") || strings.HasPrefix(inner, "@") || strings.HasSuffix(inner, "@"):
			problems = append(problems, fmt.Sprintf("MessageID %q is not of the form <left@right>", m.MessageID))
		}
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("%w: %s", ErrInvalidMessage, strings.Join(problems, "; "))
	}
	return id, nil
}

// normalizeID returns a Message-ID in "<…>" form: some products drop the angle
// brackets in Original-Message-ID. Empty stays empty.
func normalizeID(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	return "<" + s + ">"
}

func mediaType(ct string) string {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	return mt
}

// isMDNType reports whether a response's Content-Type can hold an MDN.
func isMDNType(ct string) bool {
	mt := mediaType(ct)
	return mt == "multipart/report" || mt == "multipart/signed"
}
