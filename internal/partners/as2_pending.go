package partners

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	connas2 "github.com/paklog/integration-hub/connectors/as2"
	edias2 "github.com/paklog/integration-hub/edi/as2"
	"github.com/paklog/integration-hub/internal/store"
)

// PendingStore is the connectors/as2 PendingStore in the hub's database (table
// as2_pending, PostgreSQL or SQLite): a message awaiting its asynchronous MDN
// survives a restart, and an MDN that reaches another hub instance on the same
// database still finds it. Match claims a row with DELETE … RETURNING, so of two
// concurrent claims exactly one gets it. It is safe for concurrent use.
type PendingStore struct {
	Store *store.Store
	// Names, when set, maps a partner's AS2 id to its hub partner name (the
	// partner of as2_sent). It lets Match find a message whose MDN the hub gave
	// up waiting for: see Match.
	Names func(as2ID string) (string, bool)
}

// sentLateMDN is the as2_sent status of a message whose overdue MDN came late and
// is being settled.
const sentLateMDN = "late-mdn"

var _ connas2.PendingStore = PendingStore{}

// pendingTime is how a time is kept: UTC, microseconds (what both databases hold).
func pendingTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Save implements connectors/as2.PendingStore.
func (s PendingStore) Save(ctx context.Context, p connas2.Pending) error {
	_, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`INSERT INTO as2_pending (partner, message_id, mic, sent_at, deadline)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner, message_id) DO UPDATE SET mic = excluded.mic, sent_at = excluded.sent_at, deadline = excluded.deadline`),
		p.Partner, p.MessageID, p.MIC.String(), pendingTime(p.SentAt), pendingTime(p.Deadline))
	if err != nil {
		return fmt.Errorf("recording AS2 message %s to %q as awaiting its MDN: %w", p.MessageID, p.Partner, err)
	}
	return nil
}

// Match implements connectors/as2.PendingStore.
//
// With Names set, a message that is no longer awaiting its MDN because the hub
// gave up on it — the sweep found the MDN overdue, and the delivery was parked
// with its attempts used up (as2_sent.mdn_overdue, the MIC kept) — matches too,
// once (the flag is cleared with an UPDATE that claims it): a
// late MDN that verifies against that MIC is still the partner's proof of
// receipt, and settles the parked delivery.
func (s PendingStore) Match(ctx context.Context, partner, messageID string) (connas2.Pending, error) {
	p := connas2.Pending{Partner: partner, MessageID: messageID}
	var mic string
	err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`DELETE FROM as2_pending WHERE partner = ? AND message_id = ?
		RETURNING mic, sent_at, deadline`), partner, messageID).Scan(&mic, &p.SentAt, &p.Deadline)
	if errors.Is(err, sql.ErrNoRows) && s.Names != nil {
		if name, ok := s.Names(partner); ok {
			err = s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`UPDATE as2_sent SET status = ?, mdn_overdue = FALSE WHERE message_id = ? AND partner = ? AND mic <> ''
				AND mdn_overdue RETURNING mic, sent_at`), sentLateMDN, messageID, name).Scan(&mic, &p.SentAt)
			p.Deadline = p.SentAt
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return connas2.Pending{}, fmt.Errorf("partner %q, message %s: %w", partner, messageID, connas2.ErrUnknownMessage)
	}
	if err != nil {
		return connas2.Pending{}, fmt.Errorf("claiming AS2 message %s to %q: %w", messageID, partner, err)
	}
	return p, pendingMIC(&p, mic)
}

// Peek implements connectors/as2.PendingStore: the record Match would claim,
// unclaimed.
func (s PendingStore) Peek(ctx context.Context, partner, messageID string) (connas2.Pending, error) {
	p := connas2.Pending{Partner: partner, MessageID: messageID}
	var mic string
	err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT mic, sent_at, deadline FROM as2_pending WHERE partner = ? AND message_id = ?`),
		partner, messageID).Scan(&mic, &p.SentAt, &p.Deadline)
	if errors.Is(err, sql.ErrNoRows) && s.Names != nil {
		if name, ok := s.Names(partner); ok {
			err = s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT mic, sent_at FROM as2_sent WHERE message_id = ? AND partner = ? AND mic <> ''
				AND mdn_overdue`), messageID, name).Scan(&mic, &p.SentAt)
			p.Deadline = p.SentAt
		}
	}
	if errors.Is(err, sql.ErrNoRows) {
		return connas2.Pending{}, fmt.Errorf("partner %q, message %s: %w", partner, messageID, connas2.ErrUnknownMessage)
	}
	if err != nil {
		return connas2.Pending{}, fmt.Errorf("reading AS2 message %s to %q: %w", messageID, partner, err)
	}
	return p, pendingMIC(&p, mic)
}

// restore puts back the record of a send whose claim must be undone, unless a
// resend has recorded a newer one meanwhile.
func (s PendingStore) restore(ctx context.Context, p connas2.Pending) error {
	_, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`INSERT INTO as2_pending (partner, message_id, mic, sent_at, deadline)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (partner, message_id) DO NOTHING`),
		p.Partner, p.MessageID, p.MIC.String(), pendingTime(p.SentAt), pendingTime(p.Deadline))
	if err != nil {
		return fmt.Errorf("putting back AS2 message %s to %q as awaiting its MDN: %w", p.MessageID, p.Partner, err)
	}
	return nil
}

// Expired implements connectors/as2.PendingStore.
func (s PendingStore) Expired(ctx context.Context, now time.Time) ([]connas2.Pending, error) {
	rows, err := s.Store.ReadDB().QueryContext(ctx, s.Store.Rebind(`SELECT partner, message_id, mic, sent_at, deadline FROM as2_pending
		WHERE deadline < ? ORDER BY deadline, message_id`), pendingTime(now))
	if err != nil {
		return nil, fmt.Errorf("listing AS2 messages whose MDN is overdue: %w", err)
	}
	defer rows.Close()
	var out []connas2.Pending
	for rows.Next() {
		var p connas2.Pending
		var mic string
		if err := rows.Scan(&p.Partner, &p.MessageID, &mic, &p.SentAt, &p.Deadline); err != nil {
			return nil, err
		}
		if err := pendingMIC(&p, mic); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func pendingMIC(p *connas2.Pending, mic string) error {
	m, err := edias2.ParseMIC(mic)
	if err != nil {
		return fmt.Errorf("the MIC kept for AS2 message %s to %q (%q): %w", p.MessageID, p.Partner, mic, err)
	}
	p.MIC = m
	p.SentAt, p.Deadline = p.SentAt.UTC(), p.Deadline.UTC()
	return nil
}
