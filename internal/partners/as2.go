package partners

import (
	"context"
	crand "crypto/rand"
	"crypto/x509"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	adapteras2 "github.com/paklog/integration-hub/adapters/as2"
	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/config"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/intake"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// AS2 is the hub's AS2 side: the receiver of POST /as2, the sender that delivers
// files to partners with outbound via as2, and the certificates' expiry watch.
type AS2 struct {
	Receiver *adapteras2.Receiver
	Sender   *connas2.Sender

	identity *edias2.Identity
	byAS2ID  map[string]*as2Partner // partner AS2 id -> profile
	byName   map[string]*as2Partner // hub partner name -> profile
	store    *store.Store
	warning  time.Duration
	now      func() time.Time
	expiry   *prometheus.GaugeVec
	log      *slog.Logger

	// Asynchronous MDNs: the pending sends (in the store), the deliveries they
	// settle, and how often overdue ones are swept.
	pending  PendingStore
	delivery *Delivery
	async    bool
	sweep    time.Duration
	maxBody  int64
	// refusedMax is as2.refused_body_max: the most of an unrecognised sender's
	// refused body the DLQ keeps.
	refusedMax int64

	// Refused messages: parked through router (set by Register), replayed
	// through parser.
	router *router.Router
	parser *edias2.Receiver
}

type as2Partner struct {
	name    string
	cfg     config.AS2Partner
	certs   []*x509.Certificate
	profile *connas2.Profile
}

// NewAS2 builds the AS2 side from the configuration; nil when no partner exchanges
// AS2. in commits what partners send.
func NewAS2(cfg config.Config, st *store.Store, in *intake.Intake, reg prometheus.Registerer, log *slog.Logger) (*AS2, error) {
	var ps []config.Partner
	for _, p := range cfg.Partners {
		if p.AS2.Enabled() {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return nil, nil
	}
	id, err := config.AS2Identity(cfg.AS2)
	if err != nil {
		return nil, err
	}
	a := &AS2{identity: id, byAS2ID: map[string]*as2Partner{}, byName: map[string]*as2Partner{}, store: st,
		warning: cfg.AS2.Warning(), now: time.Now, log: log.With("connector", "as2"), sweep: maxSweep}
	// A late MDN for a message given up on still settles it (PendingStore.Match).
	a.pending = PendingStore{Store: st, Names: func(as2ID string) (string, bool) {
		p, ok := a.byAS2ID[as2ID]
		if !ok {
			return "", false
		}
		return p.name, true
	}}
	for i, p := range ps {
		field := fmt.Sprintf("partners[%d].as2", i)
		certs, err := config.AS2Certificates(p.AS2, field)
		if err != nil {
			return nil, err
		}
		digest, sign, cipher, encrypt, comp, err := config.AS2Algorithms(p.AS2)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		prof := &connas2.Profile{LocalID: id.ID, PartnerID: p.AS2.ID, URL: p.AS2.URL, Keys: id.Keys, EncryptCerts: certs, SigningCerts: certs,
			Unsigned: !sign, Unencrypted: !encrypt, Digest: digest, Cipher: cipher, Compression: comp,
			SignedMDN: !p.AS2.UnsignedMDN, Timeout: p.AS2.Timeout.Std()}
		switch p.AS2.MDN {
		case "none":
		case "async":
			prof.MDN, prof.ReceiptURL, prof.AsyncMDNTimeout = edias2.MDNAsync, cfg.AS2.ReceiptURL, p.AS2.MDNWait()
			a.async = true
			// Overdue receipts are noticed within a fifth of the shortest wait.
			a.sweep = min(a.sweep, max(prof.AsyncMDNTimeout/5, minSweep))
		default:
			prof.MDN = edias2.MDNSync
		}
		if !sign {
			prof.SignedMDN = false
		}
		ap := &as2Partner{name: p.Name, cfg: p.AS2, certs: certs, profile: prof}
		a.byAS2ID[p.AS2.ID] = ap
		a.byName[p.Name] = ap
	}
	rc := edias2.DefaultConfig()
	if cfg.AS2.MaxBody > 0 {
		rc.MaxBodySize = int64(cfg.AS2.MaxBody)
	}
	a.maxBody = rc.MaxBodySize
	a.refusedMax = cfg.AS2.RefusedBodyLimit()
	recv, err := edias2.NewReceiver(rc, edias2.ResolverFunc(a.resolve))
	if err != nil {
		return nil, err
	}
	a.parser = recv
	if a.Receiver, err = adapteras2.New(adapteras2.Config{Receiver: recv, MaxBody: rc.MaxBodySize,
		PartnerKey: func(p *edias2.Partner) string { return a.byAS2ID[p.ID].name }, Refused: a.recordRefusal},
		in, MDNStore{st}, log.With("adapter", "as2")); err != nil {
		return nil, err
	}
	if a.Sender, err = connas2.New(connas2.Config{Pending: a.pending, Profiles: func(_ context.Context, partnerID, localID string) (*connas2.Profile, error) {
		if p, ok := a.byAS2ID[partnerID]; ok && localID == id.ID {
			return p.profile, nil
		}
		return nil, fmt.Errorf("%w: no partner has as2.id %q for our id %q", edias2.ErrUnknownPartner, partnerID, localID)
	}}); err != nil {
		return nil, err
	}
	a.expiry = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "paklog_as2_certificate_expiry_seconds",
		Help: "Seconds until an AS2 certificate expires (negative once expired): ours (owner=\"paklog\") and each partner's. Alert well before 0."},
		[]string{"owner", "subject", "serial"})
	if err := reg.Register(a.expiry); err != nil {
		return nil, err
	}
	a.updateExpiry()
	return a, nil
}

// resolve is the receiver's partner lookup: AS2-From and AS2-To, case-sensitive.
func (a *AS2) resolve(_ context.Context, partner, ours string) (*edias2.Partner, *edias2.Identity, error) {
	p, ok := a.byAS2ID[partner]
	if !ok {
		return nil, nil, fmt.Errorf("%w: no partner has as2.id %q", edias2.ErrUnknownPartner, partner)
	}
	if ours != a.identity.ID {
		return nil, nil, fmt.Errorf("%w: AS2-To %q is not our id", edias2.ErrUnknownPartner, ours)
	}
	return &edias2.Partner{ID: p.cfg.ID, Certs: p.certs, RequireSignature: !p.cfg.AcceptUnsigned, RequireEncryption: !p.cfg.AcceptUnencrypted}, a.identity, nil
}

// Profile is the sending profile of the hub partner name.
func (a *AS2) Profile(name string) (*connas2.Profile, bool) {
	p, ok := a.byName[name]
	if !ok {
		return nil, false
	}
	return p.profile, true
}

// targetOf is the delivery target of the hub partner name (outbound via as2).
func (a *AS2) targetOf(name string) (Target, bool) {
	if a == nil {
		return nil, false
	}
	p, ok := a.byName[name]
	if !ok {
		return nil, false
	}
	return as2Target{a: a, p: p}, true
}

// as2Target sends a partner's files by AS2 with the receipt its profile asks for.
type as2Target struct {
	a *AS2
	p *as2Partner
}

func (t as2Target) Via() string { return config.ViaAS2 }

// Put sends the file and keeps the MDN. The Message-ID names the file and the
// partner and carries a random part, so that nobody can guess it and post a
// receipt for it; it is kept in as2_sent with the delivery it carries, so a retry
// or a DLQ replay of the delivery resends under the same Message-ID and the
// partner answers with its original receipt instead of taking the file twice.
func (t as2Target) Put(ctx context.Context, name string, r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return "", err
	}
	mid, err := t.messageID(ctx, name)
	if err != nil {
		return "", fault.AsTransient(err)
	}
	ct := "application/octet-stream"
	if strings.HasPrefix(string(data), "ISA") {
		ct = "application/edi-x12"
	}
	// The row names the delivery before anything is sent: an asynchronous MDN may
	// come back before Send returns, and settles the delivery it names.
	if _, err := t.a.store.DB().ExecContext(ctx, t.a.store.Rebind(`INSERT INTO as2_sent (message_id, partner, name, mic, status, disposition, sent_at, delivery_id)
		VALUES (?, ?, ?, '', ?, '', ?, ?) ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, sent_at = excluded.sent_at,
		delivery_id = excluded.delivery_id, mdn_overdue = FALSE`), mid, t.p.name, name, sentSending, store.Now(), deliveryID(ctx)); err != nil {
		return "", fault.AsTransient(fmt.Errorf("recording AS2 message %s before sending it: %w", mid, err))
	}
	res, err := t.a.Sender.Send(ctx, t.p.profile, connas2.Message{Payload: data, ContentType: ct, FileName: name, MessageID: mid})
	// Kept whatever the outcome: the MDN (or its absence) is the record of what the
	// partner said. A receipt that came in the meantime is not overwritten.
	var mic, disp, hdr string
	var mdn []byte
	status := statusOf("", err)
	if res != nil {
		mic, disp, mdn, hdr, status = res.MIC.String(), res.Disposition.String(), res.MDN, headerJSON(res), statusOf(string(res.Status), err)
	}
	if _, serr := t.a.store.DB().ExecContext(context.WithoutCancel(ctx), t.a.store.Rebind(`UPDATE as2_sent SET status = ?, mic = ?, disposition = ?, mdn = ?,
		mdn_header = ? WHERE message_id = ? AND status = ?`), status, mic, disp, mdn, hdr, mid, sentSending); serr != nil && err == nil {
		return "", fault.AsTransient(fmt.Errorf("keeping the MDN of %s: %w", mid, serr))
	}
	if err != nil {
		return "", err
	}
	remote := fmt.Sprintf("%s %s (%s)", t.p.cfg.URL, mid, res.Disposition)
	if res.Status == connas2.StatusPendingMDN {
		remote = fmt.Sprintf("%s %s", t.p.cfg.URL, mid)
		return "", &AwaitingReceipt{Remote: remote, Deadline: t.a.now().Add(t.p.profile.AsyncMDNTimeout)}
	}
	return remote, nil
}

// messageID is the Message-ID of the delivery Put works on: the one it was
// first sent under (as2_sent.delivery_id), or a new one for a first send.
func (t as2Target) messageID(ctx context.Context, name string) (string, error) {
	if id := deliveryID(ctx); id != "" {
		var mid string
		err := t.a.store.DB().QueryRowContext(ctx, t.a.store.Rebind(`SELECT message_id FROM as2_sent WHERE delivery_id = ? AND partner = ?
			ORDER BY sent_at LIMIT 1`), id, t.p.name).Scan(&mid)
		switch {
		case err == nil:
			return mid, nil
		case !errors.Is(err, sql.ErrNoRows):
			return "", fmt.Errorf("reading the Message-ID delivery %s was sent under: %w", id, err)
		}
	}
	var nonce [12]byte
	_, _ = crand.Read(nonce[:])
	return fmt.Sprintf("<%s.%s.%s@%s>", strings.ReplaceAll(name, " ", "_"), t.p.name, hex.EncodeToString(nonce[:]), t.a.identity.ID), nil
}

// sentSending is the as2_sent status of a message being sent.
const sentSending = "sending"

func statusOf(s string, err error) string {
	if err != nil {
		return "failed: " + err.Error()
	}
	return s
}

// updateExpiry sets the expiry gauge of every certificate.
func (a *AS2) updateExpiry() {
	now := a.now()
	for _, k := range a.identity.Keys {
		a.expiry.WithLabelValues("paklog", k.Cert.Subject.CommonName, k.Cert.SerialNumber.String()).Set(k.Cert.NotAfter.Sub(now).Seconds())
	}
	for _, p := range a.byName {
		for _, c := range p.certs {
			a.expiry.WithLabelValues(p.name, c.Subject.CommonName, c.SerialNumber.String()).Set(c.NotAfter.Sub(now).Seconds())
		}
	}
}

// Checks are the /readyz details of certificates that expire within the warning
// period (or have expired); they do not make the hub unready.
func (a *AS2) Checks() map[string]string {
	if a == nil {
		return nil
	}
	a.updateExpiry()
	now := a.now()
	out := map[string]string{}
	check := func(owner string, c *x509.Certificate) {
		left := c.NotAfter.Sub(now)
		key := fmt.Sprintf("as2 certificate %s %q", owner, c.Subject.CommonName)
		switch {
		case left <= 0:
			out[key] = fmt.Sprintf("EXPIRED on %s: messages signed or encrypted with it are refused; install the new certificate", c.NotAfter.UTC().Format(time.DateOnly))
		case left <= a.warning:
			out[key] = fmt.Sprintf("expires in %d days, on %s: exchange the new certificate with the partner now", int(left.Hours()/24), c.NotAfter.UTC().Format(time.DateOnly))
		}
	}
	for _, k := range a.identity.Keys {
		check("paklog", k.Cert)
	}
	names := make([]string, 0, len(a.byName))
	for n := range a.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, c := range a.byName[n].certs {
			check(n, c)
		}
	}
	return out
}

// MDNStore keeps the MDNs the receiver sent in the store (as2_mdns).
type MDNStore struct{ Store *store.Store }

// Get implements adapters/as2.MDNStore.
func (s MDNStore) Get(ctx context.Context, partner, messageID string) (*adapteras2.StoredMDN, error) {
	return s.get(ctx, s.Store.DB(), partner, messageID)
}

func (s MDNStore) get(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, partner, messageID string) (*adapteras2.StoredMDN, error) {
	m := adapteras2.StoredMDN{Partner: partner, MessageID: messageID}
	var header string
	var status string
	var until sql.NullTime
	err := q.QueryRowContext(ctx, s.Store.Rebind(`SELECT mdn_message_id, disposition, mic, header, body, async, url, status, attempts, last_error, created_at, updated_at,
		lease_owner, lease_until FROM as2_mdns WHERE partner = ? AND message_id = ?`), partner, messageID).Scan(&m.MDNMessageID, &m.Disposition, &m.MIC, &header, &m.Body,
		&m.Async, &m.URL, &status, &m.Attempts, &m.LastError, &m.CreatedAt, &m.UpdatedAt, &m.LeaseOwner, &until)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%s from %s: %w", messageID, partner, adapteras2.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	m.Status = adapteras2.Status(status)
	m.CreatedAt, m.UpdatedAt = m.CreatedAt.UTC(), m.UpdatedAt.UTC()
	if until.Valid {
		m.LeaseUntil = until.Time.UTC()
	}
	if err := json.Unmarshal([]byte(header), &m.Header); err != nil {
		return nil, fmt.Errorf("the kept MDN header of %s: %w", messageID, err)
	}
	return &m, nil
}

// leaseTime is a lease's end as kept: NULL for none.
func leaseTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// Claim implements adapters/as2.MDNStore: an UPDATE guarded by the lease, so
// that of concurrent claims (in any process on the database) one gets it.
func (s MDNStore) Claim(ctx context.Context, partner, messageID, owner string, until time.Time) (*adapteras2.StoredMDN, error) {
	now := store.Now()
	res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE as2_mdns SET lease_owner = ?, lease_until = ?
		WHERE partner = ? AND message_id = ? AND (lease_owner = '' OR lease_until IS NULL OR lease_until < ? OR lease_owner = ?)`),
		owner, leaseTime(until), partner, messageID, now, owner)
	if err != nil {
		return nil, fmt.Errorf("claiming the MDN of %s from %s: %w", messageID, partner, err)
	}
	m, err := s.get(ctx, s.Store.DB(), partner, messageID)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 || m.LeaseOwner != owner {
		return nil, fmt.Errorf("the MDN of %s from %s, leased until %s: %w", messageID, partner, m.LeaseUntil.Format(time.RFC3339), adapteras2.ErrLeased)
	}
	return m, nil
}

// ClaimPending implements adapters/as2.MDNStore.
func (s MDNStore) ClaimPending(ctx context.Context, owner string, until time.Time, limit int) ([]adapteras2.StoredMDN, error) {
	now := store.Now()
	rows, err := s.Store.ReadDB().QueryContext(ctx, s.Store.Rebind(`SELECT partner, message_id FROM as2_mdns
		WHERE status = ? AND async AND (lease_owner = '' OR lease_until IS NULL OR lease_until < ?) ORDER BY updated_at LIMIT `+fmt.Sprint(limit)),
		string(adapteras2.StatusPending), now)
	if err != nil {
		return nil, fmt.Errorf("listing pending asynchronous MDNs: %w", err)
	}
	var keys [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			rows.Close()
			return nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []adapteras2.StoredMDN
	for _, k := range keys {
		res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE as2_mdns SET lease_owner = ?, lease_until = ?
			WHERE partner = ? AND message_id = ? AND status = ? AND (lease_owner = '' OR lease_until IS NULL OR lease_until < ?)`),
			owner, leaseTime(until), k[0], k[1], string(adapteras2.StatusPending), now)
		if err != nil {
			return out, fmt.Errorf("claiming the pending MDN of %s from %s: %w", k[1], k[0], err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			continue // another instance took it
		}
		m, err := s.get(ctx, s.Store.DB(), k[0], k[1])
		if err != nil {
			return out, err
		}
		out = append(out, *m)
	}
	return out, nil
}

// Record implements adapters/as2.MDNStore.
func (s MDNStore) Record(ctx context.Context, m adapteras2.StoredMDN, owner string) error {
	res, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`UPDATE as2_mdns SET status = ?, attempts = ?, last_error = ?, async = ?, url = ?,
		lease_owner = ?, lease_until = ?, updated_at = ? WHERE partner = ? AND message_id = ? AND lease_owner = ?`),
		string(m.Status), m.Attempts, m.LastError, m.Async, m.URL, m.LeaseOwner, leaseTime(m.LeaseUntil), store.Now(), m.Partner, m.MessageID, owner)
	if err != nil {
		return fmt.Errorf("recording the delivery of the MDN of %s from %s: %w", m.MessageID, m.Partner, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("the MDN of %s from %s: %w", m.MessageID, m.Partner, adapteras2.ErrLeaseLost)
	}
	return nil
}

// Put implements adapters/as2.MDNStore.
func (s MDNStore) Put(ctx context.Context, m adapteras2.StoredMDN) error {
	return putMDN(ctx, s.Store.DB(), s.Store, m)
}

// putMDN writes m to as2_mdns through ex (the database, or a transaction).
func putMDN(ctx context.Context, ex interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, st *store.Store, m adapteras2.StoredMDN) error {
	h, err := json.Marshal(m.Header)
	if err != nil {
		return err
	}
	now := store.Now()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	_, err = ex.ExecContext(ctx, st.Rebind(`INSERT INTO as2_mdns (partner, message_id, mdn_message_id, disposition, mic, header, body, async, url, status, attempts, last_error,
		created_at, updated_at, lease_owner, lease_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (partner, message_id) DO UPDATE SET mdn_message_id = excluded.mdn_message_id,
		disposition = excluded.disposition, mic = excluded.mic, header = excluded.header, body = excluded.body, async = excluded.async, url = excluded.url,
		status = excluded.status, attempts = excluded.attempts, last_error = excluded.last_error, updated_at = excluded.updated_at,
		lease_owner = excluded.lease_owner, lease_until = excluded.lease_until`),
		m.Partner, m.MessageID, m.MDNMessageID, m.Disposition, m.MIC, string(h), m.Body, m.Async, m.URL, string(m.Status), m.Attempts, m.LastError, m.CreatedAt, now,
		m.LeaseOwner, leaseTime(m.LeaseUntil))
	return err
}

// Handler is the POST /as2 handler, or nil: partners' messages go to the
// receiver, their asynchronous MDNs to the sender (see ServeHTTP).
func (a *AS2) Handler() http.Handler {
	if a == nil {
		return nil
	}
	return a
}
