package as2

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/httpapi"
	"github.com/paklog/integration-hub/internal/intake"
)

// Source is the intake source of AS2 messages: accepted payloads (X12 in practice)
// go to inbound.edi.
const Source = "edi"

// KeyPrefix starts every intake idempotency key: "as2:" + the AS2 Message-ID.
const KeyPrefix = "as2:"

// DefaultMaxBody is Config.MaxBody when it is zero.
const DefaultMaxBody = 64 << 20

// MaxHeader is the longest AS2 id or Message-ID logged or kept as metadata as is.
const MaxHeader = 200

// Message metadata set on accepted payloads (besides the hub's own keys).
const (
	MetaMessageID = "as2_message_id"
	MetaFrom      = "as2_from"
	MetaTo        = "as2_to"
	MetaMIC       = "mic"
	MetaFilename  = "as2_filename" // only when the sender named the file
	MetaSubject   = "as2_subject"  // only when the sender set a Subject
)

// Acceptor commits a payload durably; *intake.Intake is one.
type Acceptor interface {
	// Accept returns once item is committed (or was committed before under the same
	// idempotency key: Result.Duplicate), or with an error when nothing was
	// committed; an error wrapping intake.ErrConflict means the key was used for
	// different content. It must be safe for concurrent use.
	Accept(ctx context.Context, item intake.Item) (intake.Result, error)
}

// Retry bounds the delivery of asynchronous MDNs.
type Retry struct {
	// MaxAttempts is how many POSTs are tried in all (default 8).
	MaxAttempts int
	// InitialInterval is the wait after the first failure (default 5s); it doubles,
	// with jitter, up to MaxInterval (default 5m).
	InitialInterval time.Duration
	MaxInterval     time.Duration
}

// Config sets up a Receiver.
type Config struct {
	// Receiver parses and checks messages; its Resolver is the hub's partner
	// configuration. Required.
	Receiver *edias2.Receiver
	// MaxBody is the largest request body read, in bytes (default DefaultMaxBody).
	// Keep it at or below the edi/as2 Config.MaxBodySize.
	MaxBody int64
	// ReportingUA is the MDN's Reporting-UA (default the edi/as2 one).
	ReportingUA string
	// AsyncClient POSTs asynchronous MDNs (default a client with a 30s timeout).
	AsyncClient *http.Client
	// PartnerKey names the hub partner (intake.Item.Partner) of a resolved AS2
	// partner (default its AS2 id, Partner.ID).
	PartnerKey func(*edias2.Partner) string
	// Retry bounds asynchronous MDN delivery.
	Retry Retry
	// Lease is the slack a delivery of an asynchronous MDN keeps its lease for,
	// past the end of the attempt or wait under way (default DefaultLease). A
	// receiver that stopped or crashed mid-delivery leaves the MDN pending; once
	// the lease has run out, Resume of any receiver on the same store takes it
	// over.
	Lease time.Duration
	// Refused, when set, is told of every message that was not accepted because
	// of the sender (a negative MDN, a 400 without an MDN, a 413): the hub parks
	// each in the DLQ. It is called before the answer is written, with a context
	// the sender hanging up does not cancel, and should return once its record
	// is durable; its failures are its own to log (the sender still gets its
	// answer). It must be safe for concurrent use.
	Refused func(ctx context.Context, rf Refusal)
}

// Refusal is a message the receiver did not accept, with what it answered and
// the request as received, so that it can be inspected and processed again.
type Refusal struct {
	// From, To and MessageID are the AS2-From, AS2-To and Message-ID headers
	// (unquoted where they parsed), clipped to MaxHeader.
	From, To, MessageID string
	// Partner is the hub's partner key when AS2-From and AS2-To resolved; "".
	// It comes from the headers alone: anyone can claim to be a partner.
	Partner string
	// Authenticated is true when the message proved it came from Partner: its
	// signature verified against one of the partner's certificates before it
	// was refused (a later layer, the policy or the intake refused it).
	// Decrypting proves nothing (our certificate is public), so a message that
	// decrypts but whose signer is unknown or expired is not authenticated.
	Authenticated bool
	// Err is why: an *edias2.Error (its Modifier is in the MDN), an error
	// wrapping intake.ErrConflict, or ErrTooLarge.
	Err error
	// Disposition is the Disposition of the negative MDN sent, and MDNMessageID
	// its Message-ID; both "" when no MDN was sent (none requested, no
	// Message-ID to answer, or 413).
	Disposition, MDNMessageID string
	// AsyncURL is where the MDN was POSTed, when it went asynchronously.
	AsyncURL string
	// Status is the HTTP status of the answer.
	Status int
	// Header is the request's header without credentials (Authorization,
	// Cookie, Proxy-Authorization).
	Header http.Header
	// Body is the request body as read, at most Config.MaxBody bytes; nil when
	// it was refused on its Content-Length unread. Truncated: it went on past
	// the cap, so Body is not the whole message.
	Body      []byte
	Truncated bool
	// Remote is the client's address.
	Remote string
}

// DefaultLease is Config.Lease when it is zero.
const DefaultLease = time.Minute

// ErrTooLarge is the Refusal.Err of a message over Config.MaxBody (answered 413).
var ErrTooLarge = errors.New("AS2 message larger than the receiver's size limit")

// Validate reports every problem of c, naming the field.
func (c Config) Validate() error {
	var errs []error
	if c.Receiver == nil {
		errs = append(errs, errors.New("as2: receiver: an edi/as2 Receiver (with the partner resolver) is required"))
	}
	if c.MaxBody < 0 {
		errs = append(errs, fmt.Errorf("as2: max_body: %d is negative", c.MaxBody))
	}
	if c.Retry.MaxAttempts < 0 {
		errs = append(errs, fmt.Errorf("as2: retry.max_attempts: %d is negative", c.Retry.MaxAttempts))
	}
	if c.Lease < 0 {
		errs = append(errs, fmt.Errorf("as2: lease: %v is negative", c.Lease))
	}
	if c.Retry.InitialInterval < 0 || c.Retry.MaxInterval < 0 {
		errs = append(errs, fmt.Errorf("as2: retry: intervals %v and %v must not be negative", c.Retry.InitialInterval, c.Retry.MaxInterval))
	}
	return errors.Join(errs...)
}

// Receiver serves POST /as2. It is safe for concurrent use; Close waits for the
// asynchronous MDNs it is still sending.
type Receiver struct {
	cfg  Config
	acc  Acceptor
	mdns MDNStore
	log  *slog.Logger

	ctx    context.Context // cancelled by Close when its deadline passes: requests under way stop
	cancel context.CancelFunc
	stop   context.Context // cancelled when Close starts: waits between attempts stop
	halt   context.CancelFunc
	mu     sync.Mutex // guards closed and wg.Add
	closed bool
	wg     sync.WaitGroup
}

// New validates cfg and returns the handler. A nil log discards.
func New(cfg Config, acc Acceptor, mdns MDNStore, log *slog.Logger) (*Receiver, error) {
	err := cfg.Validate()
	if acc == nil {
		err = errors.Join(err, errors.New("as2: an acceptor (the intake) is required"))
	}
	if mdns == nil {
		err = errors.Join(err, errors.New("as2: an MDN store is required"))
	}
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBody == 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.AsyncClient == nil {
		cfg.AsyncClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.PartnerKey == nil {
		cfg.PartnerKey = func(p *edias2.Partner) string { return p.ID }
	}
	if cfg.Retry.MaxAttempts == 0 {
		cfg.Retry.MaxAttempts = 8
	}
	if cfg.Retry.InitialInterval == 0 {
		cfg.Retry.InitialInterval = 5 * time.Second
	}
	if cfg.Retry.MaxInterval == 0 {
		cfg.Retry.MaxInterval = 5 * time.Minute
	}
	if cfg.Lease == 0 {
		cfg.Lease = DefaultLease
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop, halt := context.WithCancel(ctx)
	return &Receiver{cfg: cfg, acc: acc, mdns: mdns, log: log, ctx: ctx, cancel: cancel, stop: stop, halt: halt}, nil
}

// Close stops taking asynchronous deliveries and waits for the POSTs under way.
// Deliveries waiting between attempts stop at once, and when ctx is done first
// the POSTs under way are cancelled too (and ctx's error returned): their MDNs
// stay StatusPending in the store, with their lease released, for Resume after
// the restart (or of another receiver on the store) to finish. Requests arriving
// after Close still get their payload committed and a synchronous MDN; an
// asynchronous one is left pending.
func (h *Receiver) Close(ctx context.Context) error {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.halt()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		h.cancel()
		return nil
	case <-ctx.Done():
		h.cancel()
		<-done
		return ctx.Err()
	}
}

// capReader records whether the body went over the cap.
type capReader struct {
	r   io.Reader
	hit bool
}

func (c *capReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		c.hit = true
	}
	return n, err
}

func (h *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusMethodNotAllowed,
			Detail: "AS2 messages are sent with POST"})
		return
	}
	log := h.log.With("as2_from", clip(r.Header.Get("AS2-From")), "as2_to", clip(r.Header.Get("AS2-To")),
		"message_id", clip(r.Header.Get("Message-ID")))
	if r.ContentLength > h.cfg.MaxBody {
		h.tooLarge(w, r, log, nil)
		return
	}
	// The body is read whole first (Parse would anyway) so that a refusal can
	// keep the request as received.
	body := &capReader{r: http.MaxBytesReader(w, r.Body, h.cfg.MaxBody)}
	raw, rerr := io.ReadAll(body)
	if body.hit {
		h.tooLarge(w, r, log, raw)
		return
	}
	if rerr != nil {
		if r.Context().Err() == nil {
			log.Warn("reading an AS2 message failed; nothing was accepted", "error", rerr, "remote", r.RemoteAddr)
		}
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
			Detail: "reading the request body: " + rerr.Error() + "; nothing was accepted, send it again"})
		return
	}
	msg, perr := h.cfg.Receiver.Parse(r.Context(), r.Header, bytes.NewReader(raw))
	if perr != nil {
		var asErr *edias2.Error
		if !errors.As(perr, &asErr) {
			// The resolver failed or the request was cancelled: our trouble, not the
			// sender's. No MDN: a negative one would stop the sender from resending.
			if r.Context().Err() == nil {
				log.Error("AS2 message could not be processed on our side", "error", perr)
			}
			httpapi.Unavailable(w, "the message could not be processed now; nothing was accepted, send it again", 30*time.Second)
			return
		}
		log.Warn("AS2 message refused", "disposition", edias2.DispositionFor(perr).String(), "error", perr,
			"partner_resolved", msg.Partner != nil, "remote", r.RemoteAddr)
		h.refuse(w, r, log, msg, perr, raw)
		return
	}

	partner := h.cfg.PartnerKey(msg.Partner)
	log = log.With("partner", partner)
	// The commit finishes even if the sender hangs up: it will resend, and the
	// resend is then a duplicate answered with the MDN kept below.
	ctx := context.WithoutCancel(r.Context())
	res, err := h.acc.Accept(ctx, Item(msg, partner))
	var conflict *intake.ConflictError
	switch {
	case errors.As(err, &conflict) || errors.Is(err, intake.ErrConflict):
		perr := &edias2.Error{Modifier: edias2.UnexpectedProcessingError, Op: "accepting payload",
			Err: fmt.Errorf("Message-ID %s was received before with different content; send new content under a new Message-ID: %w", msg.MessageID, err)}
		log.Warn("AS2 message reuses a Message-ID for different content", "error", err)
		h.refuse(w, r, log, msg, perr, raw)
		return
	case err != nil:
		// Nothing committed: 503, no MDN, so that the sender resends (RFC 4130
		// senders retry on HTTP errors). A negative MDN would end the exchange with
		// the order lost.
		log.Error("committing an AS2 payload failed", "error", err)
		httpapi.Unavailable(w, "the message could not be stored; nothing was accepted, send it again", 30*time.Second)
		return
	}
	log = log.With("duplicate", res.Duplicate, "message_uuid", res.MessageUUID)

	if msg.MDN.Mode == edias2.MDNNone {
		log.Info("AS2 message accepted; no MDN requested")
		w.WriteHeader(http.StatusOK)
		return
	}
	if res.Duplicate {
		kept, err := h.mdns.Get(ctx, partner, msg.MessageID)
		switch {
		case err == nil:
			log.Info("AS2 message resent; answering with the original MDN", "mdn_message_id", kept.MDNMessageID)
			h.deliver(w, log, msg, *kept, true, true, "")
			return
		case !errors.Is(err, ErrNotFound):
			log.Error("reading the kept MDN of a resent AS2 message failed", "error", err)
			httpapi.Unavailable(w, "the receipt could not be read; the message is already accepted, send it again", 30*time.Second)
			return
		}
		// Committed before, but the MDN was never kept (we stopped in between):
		// build it now.
	}
	resp, err := edias2.BuildMDN(msg, nil, edias2.MDNOptions{ReportingUA: h.cfg.ReportingUA})
	if err != nil {
		log.Error("building the MDN of an accepted AS2 message failed", "error", err)
		httpapi.Unavailable(w, "the receipt could not be built; the message is already accepted, send it again", 30*time.Second)
		return
	}
	now := time.Now().UTC()
	kept := StoredMDN{
		Partner:      partner,
		MessageID:    msg.MessageID,
		MDNMessageID: resp.MessageID,
		Disposition:  edias2.DispositionFor(nil).String(),
		MIC:          msg.MIC.String(),
		Header:       resp.Header,
		Body:         resp.Body,
		Async:        resp.Async,
		URL:          resp.URL,
		Status:       StatusSent,
		CreatedAt:    now,
		UpdatedAt:    now,
	}
	var owner string
	if h.async(msg, true) {
		// Kept pending and leased to the delivery started below, so that no other
		// receiver's Resume sends it as well.
		owner = newOwner()
		kept.Status, kept.LeaseOwner, kept.LeaseUntil = StatusPending, owner, now.Add(h.leaseFor(0))
	}
	stored := true
	if err := h.mdns.Put(ctx, kept); err != nil {
		// The payload is committed; the receipt still goes out. A resend will get
		// a new MDN instead of this one.
		log.Error("keeping the MDN failed; sending it anyway", "mdn_message_id", kept.MDNMessageID, "error", err)
		stored = false
	}
	log.Info("AS2 message accepted", "mdn_message_id", kept.MDNMessageID, "mdn_async", kept.Async)
	h.deliver(w, log, msg, kept, true, stored, owner)
}

// Item is what an accepted message is committed as: Source, the hub's partner
// key, IdempotencyKey KeyPrefix + Message-ID, the payload byte for byte, and the
// Meta… metadata. A DLQ replay of a refused message commits the same.
func Item(msg *edias2.Message, partner string) intake.Item {
	md := map[string]string{MetaMessageID: clip(msg.MessageID), MetaFrom: clip(msg.From), MetaTo: clip(msg.To), MetaMIC: msg.MIC.String()}
	if msg.Payload.Filename != "" {
		md[MetaFilename] = clip(msg.Payload.Filename)
	}
	if msg.Subject != "" {
		md[MetaSubject] = clip(msg.Subject)
	}
	return intake.Item{
		Source:         Source,
		Partner:        partner,
		IdempotencyKey: KeyPrefix + msg.MessageID,
		Payload:        msg.Payload.Data,
		ContentType:    msg.Payload.ContentType,
		Metadata:       md,
	}
}

// refuse answers a message that was not accepted with a negative MDN, and reports
// it to Config.Refused. Negative MDNs are not kept: a resend of the corrected
// message under the same Message-ID must be processed afresh.
func (h *Receiver) refuse(w http.ResponseWriter, r *http.Request, log *slog.Logger, msg *edias2.Message, perr error, raw []byte) {
	disp := edias2.DispositionFor(perr)
	rf := h.refusal(r, msg, perr, raw)
	problem := func() {
		rf.Status = http.StatusBadRequest
		h.report(r, log, rf)
		httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeBadRequest, Status: http.StatusBadRequest,
			Detail: "the AS2 message was not accepted (" + disp.String() + "): " + perr.Error()})
	}
	if msg.MDN.Mode == edias2.MDNNone {
		problem()
		return
	}
	resp, err := edias2.BuildMDN(msg, perr, edias2.MDNOptions{ReportingUA: h.cfg.ReportingUA})
	if err != nil {
		// No Message-ID, AS2-From or AS2-To: no MDN can name the message.
		problem()
		return
	}
	now := time.Now().UTC()
	m := StoredMDN{MessageID: msg.MessageID, MDNMessageID: resp.MessageID, Disposition: disp.String(), MIC: msg.MIC.String(),
		Header: resp.Header, Body: resp.Body, Async: resp.Async, URL: resp.URL, CreatedAt: now, UpdatedAt: now}
	if msg.Partner != nil {
		m.Partner = h.cfg.PartnerKey(msg.Partner)
	}
	// Never POST to a URL named by a sender we could not identify: that would let
	// anyone make the hub send requests. Such senders get the MDN in the response.
	allowAsync := mayPostTo(msg)
	rf.Status, rf.Disposition, rf.MDNMessageID = http.StatusOK, m.Disposition, m.MDNMessageID
	if h.async(msg, allowAsync) {
		rf.AsyncURL = msg.MDN.URL
	}
	h.report(r, log, rf)
	h.deliver(w, log, msg, m, allowAsync, false, "")
}

// refusal describes a refused request for Config.Refused.
func (h *Receiver) refusal(r *http.Request, msg *edias2.Message, err error, raw []byte) Refusal {
	rf := Refusal{From: clip(r.Header.Get("AS2-From")), To: clip(r.Header.Get("AS2-To")), MessageID: clip(r.Header.Get("Message-ID")),
		Err: err, Header: r.Header.Clone(), Body: raw, Remote: r.RemoteAddr}
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		rf.Header.Del(k)
	}
	if msg != nil {
		if msg.From != "" {
			rf.From = clip(msg.From)
		}
		if msg.To != "" {
			rf.To = clip(msg.To)
		}
		if msg.Partner != nil {
			rf.Partner = h.cfg.PartnerKey(msg.Partner)
			rf.Authenticated = msg.Security.Signed
		}
	}
	return rf
}

// report hands rf to Config.Refused, finishing even if the sender hangs up.
func (h *Receiver) report(r *http.Request, log *slog.Logger, rf Refusal) {
	if h.cfg.Refused == nil {
		return
	}
	start := time.Now()
	h.cfg.Refused(context.WithoutCancel(r.Context()), rf)
	log.Debug("AS2 refusal recorded", "took", time.Since(start))
}

// mayPostTo reports whether the MDN of msg, refused, may be POSTed to the URL it
// names: only when msg proved it came from its partner (its signature verified),
// or the partner does not sign (accept_unsigned: then nothing can prove it, and
// an accepted message of that partner is answered there anyway). AS2-From alone
// proves nothing.
func mayPostTo(msg *edias2.Message) bool {
	return msg.Partner != nil && (msg.Security.Signed || !msg.Partner.RequireSignature)
}

// async reports whether msg's MDN goes by POST to its Receipt-Delivery-Option.
func (h *Receiver) async(msg *edias2.Message, allowAsync bool) bool {
	return msg.MDN.Mode == edias2.MDNAsync && allowAsync && validURL(msg.MDN.URL)
}

// deliver sends m as the current request asked: in the response, or (when allowed)
// by POST to the current Receipt-Delivery-Option URL, answering 200 at once. Only
// processed MDNs of a known partner that are in the store (stored) have their
// delivery outcomes written to it, under the lease of owner (when "", the
// delivery claims the lease first).
func (h *Receiver) deliver(w http.ResponseWriter, log *slog.Logger, msg *edias2.Message, m StoredMDN, allowAsync, stored bool, owner string) {
	async := h.async(msg, allowAsync)
	if msg.MDN.Mode == edias2.MDNAsync && !async {
		log.Warn("asynchronous MDN not sent to the requested URL; returned in the response instead",
			"url", clip(msg.MDN.URL), "partner_resolved", msg.Partner != nil)
	}
	if !async {
		for k, v := range m.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(m.Body)
		return
	}
	m.URL = msg.MDN.URL
	w.WriteHeader(http.StatusOK)
	j := asyncJob{m: m, keep: stored && keepable(m), owner: owner, budget: h.cfg.Retry.MaxAttempts}
	if !h.startAsync(log, j, nil) && j.keep && owner != "" {
		h.release(log, m, owner)
	}
}

// keepable reports whether m's delivery outcomes are recorded in the store: a
// processed MDN of a known partner.
func keepable(m StoredMDN) bool {
	return m.Disposition == edias2.DispositionFor(nil).String() && m.Partner != ""
}

// asyncJob is one asynchronous delivery of an MDN.
type asyncJob struct {
	m StoredMDN
	// keep: the outcomes are recorded in the store, under the lease of owner;
	// when owner is "" the delivery claims the lease first, and sends nothing
	// if another delivery holds it.
	keep  bool
	owner string
	// budget is how many POSTs this delivery may make.
	budget int
}

// SendAsync POSTs m.Body to m.URL in the background, with the receiver's retries
// (Config.Retry, a whole budget), as for an MDN requested asynchronously. A
// kept MDN (processed, partner known) must be in the store: the delivery claims
// its lease first — nothing is sent if another delivery holds it, for instance
// a Resume that found it pending — and records each outcome there. When ready
// is not nil the first attempt waits for it to return true (checked every 50ms,
// for up to a minute; false, a timeout or Close: nothing is sent and the MDN
// stays as it is in the store, where Resume finds it if it is pending). It
// returns false when the receiver is closing and nothing was started. Close
// waits for it like for any asynchronous MDN.
func (h *Receiver) SendAsync(m StoredMDN, ready func(context.Context) (bool, error)) bool {
	log := h.log.With("partner", m.Partner, "message_id", clip(m.MessageID))
	return h.startAsync(log, asyncJob{m: m, keep: keepable(m), budget: h.cfg.Retry.MaxAttempts}, ready)
}

// Resume takes over the asynchronous MDNs that are pending in the store with no
// live lease — left by a receiver that stopped or crashed before delivering
// them, this one before a restart or another hub instance on the same
// database — and delivers each in the background. A resumed delivery gets what
// is left of the retry budget: Config.Retry.MaxAttempts less the attempts
// already made, and at least one (an attempt cut short by a shutdown counts),
// so that restarts do not multiply the POSTs a partner's receipt URL gets. Its
// outcome is recorded as for any asynchronous MDN (sent, or failed with the
// error). It returns how many deliveries it started; ctx bounds the claims
// only. Call it at start and periodically (the hub does both).
func (h *Receiver) Resume(ctx context.Context) (int, error) {
	const batch = 16
	started := 0
	for {
		h.mu.Lock()
		closed := h.closed
		h.mu.Unlock()
		if closed {
			return started, nil
		}
		owner := newOwner()
		ms, err := h.mdns.ClaimPending(ctx, owner, time.Now().Add(h.leaseFor(0)), batch)
		if err != nil {
			return started, fmt.Errorf("claiming pending asynchronous MDNs: %w", err)
		}
		for _, m := range ms {
			log := h.log.With("partner", m.Partner, "message_id", clip(m.MessageID))
			budget := max(h.cfg.Retry.MaxAttempts-m.Attempts, 1)
			log.Info("resuming the delivery of a pending asynchronous MDN", "mdn_message_id", m.MDNMessageID,
				"attempts_made", m.Attempts, "attempts_left", budget, "url", clip(m.URL))
			if !h.startAsync(log, asyncJob{m: m, keep: true, owner: owner, budget: budget}, nil) {
				h.release(log, m, owner)
				continue
			}
			started++
		}
		if len(ms) < batch {
			return started, nil
		}
	}
}

// release gives up the lease of m held by owner without sending, for Resume to
// find it again.
func (h *Receiver) release(log *slog.Logger, m StoredMDN, owner string) {
	m.LeaseOwner, m.LeaseUntil = "", time.Time{}
	if err := h.mdns.Record(context.WithoutCancel(h.ctx), m, owner); err != nil {
		log.Error("releasing the lease of an unsent asynchronous MDN failed; it is resumed when the lease runs out", "error", err)
	}
}

// leaseFor is how long a delivery owns its MDN when it is about to wait wait
// and then POST.
func (h *Receiver) leaseFor(wait time.Duration) time.Duration {
	post := h.cfg.AsyncClient.Timeout
	if post <= 0 {
		post = 5 * time.Minute
	}
	return wait + post + h.cfg.Lease
}

// newOwner is a fresh lease owner token.
func newOwner() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Receiver) startAsync(log *slog.Logger, j asyncJob, ready func(context.Context) (bool, error)) bool {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		log.Warn("asynchronous MDN not sent: the receiver is closing", "mdn_message_id", j.m.MDNMessageID)
		return false
	}
	h.wg.Add(1)
	h.mu.Unlock()
	go func() {
		defer h.wg.Done()
		if ready != nil && !h.waitReady(log, ready) {
			return
		}
		if j.keep && j.owner == "" {
			owner := newOwner()
			cur, err := h.mdns.Claim(h.ctx, j.m.Partner, j.m.MessageID, owner, time.Now().Add(h.leaseFor(0)))
			switch {
			case errors.Is(err, ErrLeased):
				log.Info("asynchronous MDN not sent here: another delivery of it is under way", "mdn_message_id", j.m.MDNMessageID, "error", err)
				return
			case err != nil:
				log.Error("asynchronous MDN not sent: claiming its delivery failed", "mdn_message_id", j.m.MDNMessageID, "error", err)
				return
			}
			// The stored record, sent where this request asks.
			url := j.m.URL
			j.m, j.owner = *cur, owner
			j.m.URL = url
		}
		h.sendAsync(log, j)
	}()
	return true
}

// waitReady polls ready until it says yes, fails, a minute passes or the
// receiver closes.
func (h *Receiver) waitReady(log *slog.Logger, ready func(context.Context) (bool, error)) bool {
	ctx, cancel := context.WithTimeout(h.stop, time.Minute)
	defer cancel()
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := ready(ctx)
		if ok {
			return true
		}
		if err != nil && ctx.Err() == nil {
			log.Error("asynchronous MDN not sent: checking that it may go failed", "error", err)
			return false
		}
		select {
		case <-ctx.Done():
			log.Warn("asynchronous MDN not sent: what it answers was not committed in time")
			return false
		case <-t.C:
		}
	}
}

func validURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// sendAsync POSTs j.m.Body to j.m.URL with at most j.budget attempts and, when
// j.keep, records each outcome in the store under j.owner's lease, renewed to
// cover each wait and the attempt after it. A delivery whose lease was lost
// (it ran out and another receiver took the MDN over), or could not be renewed
// (the store failing: another receiver may take it over once it runs out),
// stops; the MDN stays pending for Resume.
func (h *Receiver) sendAsync(log *slog.Logger, j asyncJob) {
	m := j.m
	log = log.With("mdn_message_id", m.MDNMessageID, "url", clip(m.URL))
	m.Status = StatusPending
	lost := false
	var unrenewed error // why the lease could not be renewed
	permanent := false  // the last attempt's failure is one a retry cannot fix
	record := func(until time.Time) error {
		if !j.keep || lost {
			return nil
		}
		m.UpdatedAt = time.Now().UTC()
		m.LeaseOwner, m.LeaseUntil = j.owner, until
		if until.IsZero() {
			m.LeaseOwner = ""
		}
		err := h.mdns.Record(context.WithoutCancel(h.ctx), m, j.owner)
		switch {
		case errors.Is(err, ErrLeaseLost):
			lost = true
			log.Warn("asynchronous MDN delivery taken over by another receiver (the lease ran out); this one stops", "error", err)
		case err != nil:
			log.Error("recording the asynchronous MDN delivery failed", "status", m.Status, "error", err)
		}
		return err
	}
	op := func() error {
		if lost {
			return backoff.Permanent(ErrLeaseLost)
		}
		if unrenewed != nil {
			return backoff.Permanent(unrenewed)
		}
		m.Attempts++
		req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, m.URL, bytes.NewReader(m.Body))
		if err != nil {
			permanent = true
			return backoff.Permanent(fmt.Errorf("building the MDN request: %w", err))
		}
		req.Header = m.Header.Clone()
		resp, err := h.cfg.AsyncClient.Do(req)
		if err != nil {
			return fmt.Errorf("posting the MDN: %w", err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		err = fmt.Errorf("posting the MDN: the receipt URL answered %s", resp.Status)
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			permanent = true
			return backoff.Permanent(err)
		}
		return err
	}
	exp := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(h.cfg.Retry.InitialInterval),
		backoff.WithMaxInterval(h.cfg.Retry.MaxInterval),
		backoff.WithMaxElapsedTime(0))
	// Waits end when Close starts; a POST under way is cut only at its deadline.
	b := backoff.WithContext(backoff.WithMaxRetries(exp, uint64(max(j.budget, 1)-1)), h.stop)
	err := backoff.RetryNotify(op, b, func(err error, wait time.Duration) {
		m.LastError = err.Error()
		log.Warn("asynchronous MDN delivery failed; retrying", "attempt", m.Attempts, "retry_in", wait, "error", err)
		if rerr := record(time.Now().Add(h.leaseFor(wait))); rerr != nil && !lost {
			// Without a renewed lease another receiver may take the MDN over
			// when the old one runs out: stop rather than send it twice.
			unrenewed = fmt.Errorf("renewing the lease of the delivery: %w", rerr)
		}
	})
	switch {
	case lost:
		return
	case err == nil:
		m.Status, m.LastError = StatusSent, ""
		log.Info("asynchronous MDN delivered", "attempts", m.Attempts)
	case permanent:
		// Checked before the shutdown: a refusal stays a refusal.
		m.Status, m.LastError = StatusFailed, err.Error()
		log.Error("asynchronous MDN delivery failed for good", "attempts", m.Attempts, "error", err)
	case unrenewed != nil:
		prev := m.LastError // the attempt's failure, set before the renewal
		m.Status = StatusPending
		m.LastError = "stopped: " + unrenewed.Error() + "; resumed once the lease runs out"
		if prev != "" {
			m.LastError += "; last error: " + prev
		}
		log.Error("asynchronous MDN delivery stopped: its lease could not be renewed; it stays pending for Resume", "attempts", m.Attempts, "error", unrenewed)
	case h.stop.Err() != nil:
		prev := m.LastError
		if !errors.Is(err, context.Canceled) {
			prev = err.Error()
		}
		m.Status, m.LastError = StatusPending, "interrupted by a shutdown; resumed at the next start, or by another hub instance"
		if prev != "" {
			m.LastError += "; last error: " + prev
		}
		log.Warn("asynchronous MDN delivery interrupted by shutdown; it stays pending", "attempts", m.Attempts, "error", err)
	default:
		m.Status, m.LastError = StatusFailed, err.Error()
		log.Error("asynchronous MDN delivery failed for good", "attempts", m.Attempts, "error", err)
	}
	_ = record(time.Time{})
}

func (h *Receiver) tooLarge(w http.ResponseWriter, r *http.Request, log *slog.Logger, raw []byte) {
	log.Warn("AS2 message over the size limit refused; no MDN sent", "limit", h.cfg.MaxBody,
		"content_length", r.ContentLength, "remote", r.RemoteAddr)
	rf := h.refusal(r, nil, fmt.Errorf("%w: the body is over %d bytes (Content-Length %d)", ErrTooLarge, h.cfg.MaxBody, r.ContentLength), raw)
	rf.Status, rf.Truncated = http.StatusRequestEntityTooLarge, true
	h.report(r, log, rf)
	httpapi.WriteProblem(w, httpapi.Problem{Type: httpapi.TypeTooLarge, Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("the message is larger than this endpoint's limit of %d bytes; nothing was accepted. Split the file or ask for the limit to be raised", h.cfg.MaxBody)})
}

// clip shortens a value from outside before it is logged or kept as metadata.
func clip(s string) string {
	if len(s) > MaxHeader {
		return s[:MaxHeader] + "…"
	}
	return s
}
