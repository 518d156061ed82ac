package labels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/sony/gobreaker"

	"github.com/paklog/integration-hub/canonical"
	"github.com/paklog/integration-hub/connectors/carriers"
	"github.com/paklog/integration-hub/internal/fault"
	"github.com/paklog/integration-hub/internal/store"
	"github.com/paklog/integration-hub/router"
)

// MetaAccounts is the DLQ entry metadata naming the accounts a deferred shipment
// waits for (comma-separated).
const MetaAccounts = "label_accounts"

// Metadata of labels.created: the carrier rule that chose the service and the account
// the labels were bought with.
const (
	MetaRule    = "label_rule"
	MetaAccount = "label_account"
)

// Run runs the workers, the reconciler, the deferred replayer and the voider until
// ctx ends.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for range s.cfg.Workers {
		wg.Go(func() { s.workLoop(ctx) })
	}
	wg.Go(func() { s.loop(ctx, 5*s.cfg.Poll, s.voidPending) })
	wg.Go(func() { s.loop(ctx, 5*s.cfg.Poll, s.reconcileDue) })
	wg.Go(func() { s.loop(ctx, 5*s.cfg.Poll, s.replayDeferred) })
	wg.Wait()
	return nil
}

func (s *Service) loop(ctx context.Context, every time.Duration, fn func(context.Context) error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("label background task failed; retrying", "error", err)
		}
	}
}

func (s *Service) workLoop(ctx context.Context) {
	for ctx.Err() == nil {
		id, owner, err := s.claim(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("claiming a shipment to label", "error", err)
		}
		if id == "" {
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-time.After(s.cfg.Poll):
			}
			continue
		}
		if err := s.processLeased(ctx, id, owner); err != nil && ctx.Err() == nil {
			// The shipment stays claimed until its lease ends, then is taken again.
			s.log.Error("labelling a shipment; it will be tried again when its lease ends", "shipment_id", id, "error", err)
		}
	}
}

// claim takes one queued shipment (or one whose worker's lease ran out), under a
// lease owned by a token of this claim: only the owner may finish or park it.
func (s *Service) claim(ctx context.Context) (id, owner string, err error) {
	now := store.Now()
	rows, err := s.store.ReadDB().QueryContext(ctx, s.store.Rebind(`SELECT shipment_id FROM label_shipments
		WHERE (state = ? AND (not_before IS NULL OR not_before <= ?)) OR (state = ? AND lease_until < ?)
		ORDER BY created_at LIMIT 8`), ShipmentQueued, now, ShipmentWorking, now)
	if err != nil {
		return "", "", err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return "", "", err
		}
		ids = append(ids, id)
	}
	rows.Close()
	owner = newRequestID()
	for _, id := range ids {
		res, err := s.store.DB().ExecContext(ctx, s.store.Rebind(`UPDATE label_shipments SET state = ?, lease_until = ?, lease_owner = ?, updated_at = ?
			WHERE shipment_id = ? AND ((state = ? AND (not_before IS NULL OR not_before <= ?)) OR (state = ? AND lease_until < ?))`),
			ShipmentWorking, now.Add(s.cfg.Lease), owner, now, id, ShipmentQueued, now, ShipmentWorking, now)
		if err != nil {
			return "", "", err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return id, owner, nil
		}
	}
	return "", "", nil
}

// processLeased labels a claimed shipment while a heartbeat renews its lease, so a
// slow carrier never lets a second worker take the shipment over. Carrier calls
// that have started are not cut short when ctx ends (the hub stopping): an
// abandoned UPS or FedEx call would leave an unknown outcome to reconcile.
func (s *Service) processLeased(ctx context.Context, id, owner string) error {
	hb, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	go func() {
		t := time.NewTicker(s.cfg.Lease / 4)
		defer t.Stop()
		for {
			select {
			case <-hb.Done():
				return
			case <-t.C:
				if err := s.exec(hb, `UPDATE label_shipments SET lease_until = ? WHERE shipment_id = ? AND lease_owner = ? AND state = ?`,
					store.Now().Add(s.cfg.Lease), id, owner, ShipmentWorking); err != nil {
					s.log.Warn("renewing a label lease", "shipment_id", id, "error", err)
				}
			}
		}
	}()
	return s.process(ctx, id, owner)
}

// shipmentRow is a claimed label_shipments row.
type shipmentRow struct {
	ID, OrderID, MessageUUID string
	Owner                    string // the lease owner token of this claim
	Payload                  []byte
	Metadata                 message.Metadata
}

func (s *Service) loadShipment(ctx context.Context, id string) (shipmentRow, error) {
	var r shipmentRow
	var md string
	err := s.store.ReadDB().QueryRowContext(ctx, s.store.Rebind(`SELECT shipment_id, order_id, message_uuid, payload, metadata
		FROM label_shipments WHERE shipment_id = ?`), id).Scan(&r.ID, &r.OrderID, &r.MessageUUID, &r.Payload, &md)
	if err != nil {
		return r, err
	}
	r.Metadata = message.Metadata{}
	_ = json.Unmarshal([]byte(md), &r.Metadata)
	return r, nil
}

// outcome is how one carrier service fared with a shipment.
type outcome int

const (
	done      outcome = iota // every package has its label
	fallback                 // nothing bought and the service cannot be used now: try the next
	permanent                // the carrier refused the shipment: park for a person
	unknown                  // a label may exist: park for reconciliation
	cancelled                // the order was cancelled meanwhile
)

// process labels one claimed shipment.
func (s *Service) process(ctx context.Context, id, owner string) error {
	row, err := s.loadShipment(ctx, id)
	if err != nil {
		return err
	}
	row.Owner = owner
	sh, err := canonical.DecodeShipment(row.Payload)
	if err != nil {
		return s.park(ctx, row, fault.Validation, fmt.Errorf("shipment %s is not a valid %s: %w", id, canonical.SchemaShipment, err), nil)
	}
	rule, choices, err := Select(s.cfg.Rules, sh, row.Metadata.Get(router.MetaPartner), s.carrierOf)
	if err != nil {
		return s.park(ctx, row, fault.Permanent, err, nil)
	}
	reqs, err := s.requests(ctx, s.store.ReadDB(), `shipment_id = ? ORDER BY package_id, attempt`, id)
	if err != nil {
		return err
	}
	latest := map[string]requestRow{}
	for _, r := range reqs {
		latest[r.PackageID] = r
	}
	// A shipment that has (or may have) a label with one service stays with it.
	for _, r := range latest {
		if r.State == RequestCreated || r.State == RequestPending || r.State == RequestUnknown {
			if _, ok := s.accounts[r.Account]; !ok {
				return s.park(ctx, row, fault.Permanent, fmt.Errorf("package %s of shipment %s has label request %s (%s) with account %s, which is no longer configured: configure it again, or void the label at the carrier and discard this entry",
					r.PackageID, id, r.ID, r.State, r.Account), nil)
			}
			choices = []Choice{{Account: r.Account, Service: r.Service}}
			break
		}
	}
	// skipped are the accounts that could not be used now (breaker open, throttled,
	// unreachable): the shipment waits for one of them. refused are the services that
	// do not take the shipment at all (a label format or lane the carrier lacks).
	var skipped, refused []string
	var lastErr error
	for i, c := range choices {
		out, err := s.tryChoice(ctx, row, sh, rule.Name, c, latest)
		var se storeError
		if errors.As(err, &se) {
			return se.err // the shipment is taken again when its lease ends
		}
		switch out {
		case done:
			return s.finish(ctx, row, sh)
		case cancelled:
			return s.voidCreated(ctx, id)
		case permanent:
			return s.park(ctx, row, fault.Permanent, err, nil)
		case unknown:
			return s.park(ctx, row, fault.Ambiguous, err, nil)
		}
		if bought(latest, sh, c.Account) {
			// Some packages have (or may have) a label with this service: the
			// shipment stays with it and waits.
			return s.park(ctx, row, fault.Deferred, fmt.Errorf("shipment %s is part-labelled with %s, which cannot be used now: %w", id, c, err), []string{c.Account})
		}
		if carriers.ClassOf(err) == carriers.Permanent {
			refused = append(refused, fmt.Sprintf("%s: %v", c, err))
		} else {
			skipped, lastErr = append(skipped, c.Account), err
		}
		s.m.fallback.WithLabelValues(c.Account).Inc()
		if i+1 < len(choices) {
			s.log.Info("carrier service unavailable; trying the next one", "shipment_id", id, "skipped", c.String(),
				"next", choices[i+1].String(), "error", err)
		}
	}
	if len(skipped) == 0 {
		return s.park(ctx, row, fault.Permanent, fmt.Errorf("no carrier service of rule %s takes shipment %s: %s; add a service that does to the rule",
			rule.Name, id, strings.Join(refused, "; ")), nil)
	}
	return s.park(ctx, row, fault.Deferred, fmt.Errorf("no carrier service could label shipment %s now (waiting for %s): %w",
		id, strings.Join(skipped, ", "), lastErr), skipped)
}

func (s *Service) carrierOf(account string) string {
	if a, ok := s.accounts[account]; ok {
		return a.Client.Carrier()
	}
	return ""
}

// storeError is a failure of the hub's own database, not the carrier's.
type storeError struct{ err error }

func (e storeError) Error() string { return e.err.Error() }
func (e storeError) Unwrap() error { return e.err }

// tryChoice labels every package of sh with c that has no label yet.
func (s *Service) tryChoice(ctx context.Context, row shipmentRow, sh canonical.Shipment, rule string, c Choice, latest map[string]requestRow) (outcome, error) {
	acct := s.accounts[c.Account]
	carrier := acct.Client.Carrier()
	resendSafe := carrier == carriers.USPS
	leased := time.Now() // claim set the lease; a worker renews it as it goes
	tokenOK := false
	for _, p := range sh.Packages {
		hash := requestHash(c, sh, p)
		prev, had := latest[p.PackageID]
		if !tokenOK && !(had && prev.State == RequestCreated) {
			// The account's token, through its own breaker, before any record or
			// label call: a carrier whose OAuth endpoint is down is skipped.
			if _, err := call(ctx, s.breakers, s.cfg.Retry, c.Account, carriers.OpToken, true, acct.Client.Token); err != nil {
				s.m.labels.WithLabelValues(c.Account, "token_"+string(carriers.ClassOf(err))).Inc()
				return fallback, fmt.Errorf("getting %s's token: %w", c.Account, err)
			}
			tokenOK = true
		}
		var rec requestRow
		switch {
		case had && prev.State == RequestCreated:
			if prev.Hash != hash {
				return permanent, fmt.Errorf("package %s of shipment %s already has label %s (%s) bought for other data; void it (paklog carrier void %s) before replaying",
					p.PackageID, sh.ShipmentID, prev.Tracking, prev.ID, prev.ID)
			}
			continue
		case had && (prev.State == RequestPending || prev.State == RequestUnknown):
			if prev.Account != c.Account {
				return unknown, fmt.Errorf("package %s has an unresolved request %s with %s", p.PackageID, prev.ID, prev.Account)
			}
			if !resendSafe {
				out, err := s.reconcile(ctx, prev)
				if out != done {
					return out, err
				}
				// Reconciled (no label at the carrier, or its orphan voided): buy afresh.
				rec = s.newRecord(sh, p, c, rule, prev.Attempt+1, hash, carrier)
				if err := s.insertRecord(ctx, rec); err != nil {
					return fallback, storeError{err}
				}
			} else {
				if prev.Hash != hash {
					return permanent, fmt.Errorf("package %s of shipment %s has label request %s whose outcome is unknown, and the shipment changed since: it cannot be resent with the same idempotency key; check the carrier for a label with reference %s, void it if there is one, and discard this entry",
						p.PackageID, sh.ShipmentID, prev.ID, Reference(prev.ID))
				}
				rec = prev // same idempotency key: USPS returns the label it may have sold
			}
		default:
			attempt := 1
			if had {
				attempt = prev.Attempt + 1
			}
			rec = s.newRecord(sh, p, c, rule, attempt, hash, carrier)
			if err := s.insertRecord(ctx, rec); err != nil {
				return fallback, storeError{err}
			}
		}
		if time.Since(leased) > s.cfg.Lease/4 {
			// A long shipment (many packages, slow carrier): keep it ours.
			if err := s.exec(ctx, `UPDATE label_shipments SET lease_until = ? WHERE shipment_id = ?`,
				store.Now().Add(s.cfg.Lease), sh.ShipmentID); err != nil {
				return fallback, storeError{err}
			}
			leased = time.Now()
		}
		latest[p.PackageID] = rec
		req := carriers.ShipRequest{RequestID: rec.ID, Reference: Reference(rec.ID), Service: c.Service,
			Format: sh.LabelFormat, From: sh.ShipFrom, To: sh.ShipTo, Weight: p.Weight, Dimensions: p.Dimensions}
		var label *carriers.Label
		start := time.Now()
		_, err := call(ctx, s.breakers, s.cfg.Retry, c.Account, carriers.OpShip, resendSafe, func(ctx context.Context) error {
			l, err := acct.Client.Ship(context.WithoutCancel(ctx), req)
			label = l
			return err
		})
		s.m.calls.WithLabelValues(c.Account, string(carriers.OpShip)).Observe(time.Since(start).Seconds())
		if err == nil {
			s.m.labels.WithLabelValues(c.Account, "created").Inc()
			if err := s.storeLabel(ctx, rec.ID, label); err != nil {
				if errors.Is(err, errOrphan) {
					s.voidOrphan(ctx, c.Account, rec.ID, label)
				}
				return fallback, storeError{fmt.Errorf("storing label %s (tracking %s): %w", rec.ID, label.TrackingNumber, err)}
			}
			rec.State = RequestCreated
			latest[p.PackageID] = rec
			continue
		}
		var open *BreakerOpenError
		class := carriers.ClassOf(err)
		if had && rec.ID == prev.ID && class != carriers.Permanent {
			// A resent request whose first outcome is unknown stays unknown whatever
			// the resend met: a label may exist under its key.
			class = carriers.Ambiguous
		}
		rec.State = RequestFailed
		if class == carriers.Ambiguous {
			rec.State = RequestUnknown
		}
		latest[p.PackageID] = rec
		switch {
		case errors.As(err, &open) && class != carriers.Ambiguous:
			s.m.labels.WithLabelValues(c.Account, "breaker_open").Inc()
			if ferr := s.failRecord(ctx, rec.ID, RequestFailed, "breaker_open", err); ferr != nil {
				return fallback, storeError{ferr}
			}
			return fallback, err
		case class == carriers.Ambiguous:
			s.m.labels.WithLabelValues(c.Account, "unknown").Inc()
			s.m.unknown.Inc()
			if ferr := s.failRecord(ctx, rec.ID, RequestUnknown, string(class), err); ferr != nil {
				return unknown, storeError{ferr}
			}
			return unknown, fmt.Errorf("label request %s for package %s: outcome unknown, to be reconciled with %s: %w",
				rec.ID, p.PackageID, c.Account, err)
		case class == carriers.Permanent:
			s.m.labels.WithLabelValues(c.Account, "refused").Inc()
			if ferr := s.failRecord(ctx, rec.ID, RequestFailed, string(class), err); ferr != nil {
				return permanent, storeError{ferr}
			}
			var ce *carriers.Error
			if errors.As(err, &ce) && ce.Status == 0 && !anyCreated(latest, sh) {
				// Refused before any call (a label format or service the carrier
				// does not offer): the lane is not this carrier's.
				return fallback, err
			}
			return permanent, err
		default: // transient, throttled or auth beyond the budget: nothing was bought
			s.m.labels.WithLabelValues(c.Account, string(class)).Inc()
			if ferr := s.failRecord(ctx, rec.ID, RequestFailed, string(class), err); ferr != nil {
				return fallback, storeError{ferr}
			}
			return fallback, err
		}
	}
	var state string
	if err := s.store.ReadDB().QueryRowContext(ctx, s.store.Rebind(`SELECT state FROM label_shipments WHERE shipment_id = ?`),
		sh.ShipmentID).Scan(&state); err != nil {
		return fallback, err
	}
	if state == ShipmentCancelled {
		return cancelled, nil
	}
	return done, nil
}

// bought reports whether a package of sh has, or may have, a label with account.
func bought(latest map[string]requestRow, sh canonical.Shipment, account string) bool {
	for _, p := range sh.Packages {
		r, ok := latest[p.PackageID]
		if ok && r.Account == account && (r.State == RequestCreated || r.State == RequestPending || r.State == RequestUnknown) {
			return true
		}
	}
	return false
}

func anyCreated(latest map[string]requestRow, sh canonical.Shipment) bool {
	for _, p := range sh.Packages {
		if latest[p.PackageID].State == RequestCreated {
			return true
		}
	}
	return false
}

func (s *Service) newRecord(sh canonical.Shipment, p canonical.Package, c Choice, rule string, attempt int, hash, carrier string) requestRow {
	return requestRow{ID: newRequestID(), ShipmentID: sh.ShipmentID, PackageID: p.PackageID, Attempt: attempt,
		Carrier: carrier, Account: c.Account, Service: c.Service, Rule: rule, Hash: hash, State: RequestPending}
}

// insertRecord commits a pending label request before the carrier is called.
func (s *Service) insertRecord(ctx context.Context, r requestRow) error {
	now := store.Now()
	return s.exec(ctx, `INSERT INTO label_requests (id, shipment_id, package_id, attempt, carrier, account, service, rule,
		request_hash, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.ShipmentID, r.PackageID, r.Attempt, r.Carrier, r.Account, r.Service, r.Rule, r.Hash, r.State, now, now)
}

func (s *Service) failRecord(ctx context.Context, id, state, class string, err error) error {
	return s.exec(context.WithoutCancel(ctx), `UPDATE label_requests SET state = ?, error = ?, error_class = ?, updated_at = ? WHERE id = ?`,
		state, err.Error(), class, store.Now(), id)
}

func (s *Service) storeLabel(ctx context.Context, id string, l *carriers.Label) error {
	ctx = context.WithoutCancel(ctx) // the label is bought: keep it whatever happens
	path, err := s.saveLabel(id, l)
	if err != nil {
		return err
	}
	var data []byte
	if path == "" {
		data = l.Data
	}
	res, err := s.store.DB().ExecContext(ctx, s.store.Rebind(`UPDATE label_requests SET state = ?, tracking_number = ?, carrier_shipment_id = ?, label_format = ?,
		label = ?, label_path = ?, cost_amount = ?, cost_currency = ?, error = '', error_class = '', updated_at = ?
		WHERE id = ? AND state IN (?, ?)`),
		RequestCreated, l.TrackingNumber, l.ShipmentID, string(l.Format), data, path, l.Cost.Amount, l.Cost.Currency, store.Now(), id,
		RequestPending, RequestUnknown)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// The request was settled meanwhile (reconciled by a worker that took the
		// shipment over): this label is an orphan.
		return fmt.Errorf("label request %s was settled while its call was out: %w", id, errOrphan)
	}
	return nil
}

// errOrphan marks a label bought for a request that was meanwhile settled.
var errOrphan = errors.New("the label is an orphan")

// voidOrphan voids a label nobody holds, best effort, and says so loudly if it
// cannot.
func (s *Service) voidOrphan(ctx context.Context, account, requestID string, l *carriers.Label) {
	acct := s.accounts[account]
	_, err := call(context.WithoutCancel(ctx), s.breakers, s.cfg.Retry, account, carriers.OpVoid, true, func(ctx context.Context) error {
		return acct.Client.Void(ctx, carriers.VoidRequest{RequestID: requestID, TrackingNumber: l.TrackingNumber, ShipmentID: l.ShipmentID})
	})
	if err != nil {
		s.log.Error("an orphan label could not be voided; void it at the carrier", "account", account, "request_id", requestID,
			"tracking", l.TrackingNumber, "error", err)
		return
	}
	s.m.orphans.Inc()
	s.log.Warn("orphan label voided", "account", account, "request_id", requestID, "tracking", l.TrackingNumber)
}

// reconcile finds out what happened to a request whose outcome is unknown: done when
// the carrier has no label for it or its labels were voided (the package may be
// bought afresh), unknown when it is too early or the carrier cannot be asked now.
func (s *Service) reconcile(ctx context.Context, r requestRow) (outcome, error) {
	if r.State == RequestPending {
		// A worker stopped while this call was out (a crash): it may have reached
		// the carrier. Let it settle like any unknown outcome.
		err := fmt.Errorf("label request %s was cut short (the hub stopped during the carrier call); outcome unknown", r.ID)
		s.m.unknown.Inc()
		if ferr := s.failRecord(ctx, r.ID, RequestUnknown, string(carriers.Ambiguous), err); ferr != nil {
			return unknown, ferr
		}
		return unknown, err
	}
	if age := time.Since(r.UpdatedAt); r.State == RequestUnknown && age < s.cfg.ReconcileAfter {
		return unknown, fmt.Errorf("label request %s has an unknown outcome; the reconciler asks %s in %s",
			r.ID, r.Account, (s.cfg.ReconcileAfter - age).Round(time.Second))
	}
	acct, ok := s.accounts[r.Account]
	if !ok {
		return unknown, fmt.Errorf("label request %s: account %s is no longer configured", r.ID, r.Account)
	}
	var found []carriers.Found
	_, err := call(ctx, s.breakers, s.cfg.Retry, r.Account, carriers.OpLookup, true, func(ctx context.Context) error {
		f, err := acct.Client.Lookup(ctx, carriers.LookupRequest{RequestID: r.ID, Reference: Reference(r.ID), ShipDate: r.CreatedAt})
		found = f
		return err
	})
	if err != nil {
		return unknown, fmt.Errorf("reconciling label request %s with %s: %w", r.ID, r.Account, err)
	}
	var voided []string
	for _, f := range found {
		_, err := call(ctx, s.breakers, s.cfg.Retry, r.Account, carriers.OpVoid, true, func(ctx context.Context) error {
			return acct.Client.Void(ctx, carriers.VoidRequest{RequestID: r.ID, TrackingNumber: f.TrackingNumber, ShipmentID: f.ShipmentID})
		})
		if err != nil {
			return unknown, fmt.Errorf("voiding orphan label %s of request %s: %w", f.TrackingNumber, r.ID, err)
		}
		voided = append(voided, f.TrackingNumber)
		s.m.orphans.Inc()
	}
	state, note := RequestNone, "reconciled: the carrier has no label for this request"
	if len(voided) > 0 {
		state, note = RequestOrphanVoided, "reconciled: orphan label(s) "+strings.Join(voided, ", ")+" voided"
		s.log.Warn("orphan label voided after an unknown outcome", "request_id", r.ID, "account", r.Account, "tracking", voided)
	}
	return done, s.exec(context.WithoutCancel(ctx), `UPDATE label_requests SET state = ?, tracking_number = ?, error = ?, updated_at = ? WHERE id = ?`,
		state, strings.Join(voided, ","), note, store.Now(), r.ID)
}

// finish publishes labels.created and the labelled stage, once every package has
// its label.
func (s *Service) finish(ctx context.Context, row shipmentRow, sh canonical.Shipment) error {
	ctx = context.WithoutCancel(ctx)
	reqs, err := s.requests(ctx, s.store.ReadDB(), `shipment_id = ? AND state = ? ORDER BY package_id, attempt`, sh.ShipmentID, RequestCreated)
	if err != nil {
		return err
	}
	byPkg := map[string]requestRow{}
	for _, r := range reqs {
		byPkg[r.PackageID] = r
	}
	label := canonical.Label{ShipmentID: sh.ShipmentID, OrderID: sh.OrderID, CreatedAt: store.Now()}
	var total float64
	var rule, account string
	for i, p := range sh.Packages {
		r, ok := byPkg[p.PackageID]
		if !ok {
			return fmt.Errorf("shipment %s: package %s has no label", sh.ShipmentID, p.PackageID)
		}
		if i == 0 {
			label.LabelID, label.RequestID, label.Carrier, label.Service = r.ID, r.ID, r.Carrier, r.Service
			rule, account = r.Rule, r.Account
			label.Cost.Currency = r.CostCurrency
		}
		if v, err := strconv.ParseFloat(r.CostAmount, 64); err == nil {
			total += v
		}
		label.Packages = append(label.Packages, canonical.LabelPackage{PackageID: p.PackageID, TrackingNumber: r.Tracking,
			LabelFormat: canonical.LabelFormat(r.Format), LabelRef: "/api/v1/labels/" + r.ID})
	}
	if label.Cost.Currency != "" {
		label.Cost.Amount = strconv.FormatFloat(total, 'f', 2, 64)
	}
	body, err := label.MarshalJSON()
	if err != nil {
		return err
	}
	var wasCancelled bool
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.store.Rebind(`UPDATE label_shipments SET state = ?, lease_until = NULL, detail = ?, updated_at = ?
			WHERE shipment_id = ? AND state = ? AND lease_owner = ?`), ShipmentLabelled, label.Carrier+" "+label.Service, store.Now(),
			sh.ShipmentID, ShipmentWorking, row.Owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Cancelled meanwhile, or another worker holds the shipment now.
			var state string
			if err := tx.QueryRowContext(ctx, s.store.Rebind(`SELECT state FROM label_shipments WHERE shipment_id = ?`), sh.ShipmentID).Scan(&state); err != nil {
				return err
			}
			wasCancelled = state == ShipmentCancelled
			return nil
		}
		out := message.NewMessage(watermill.NewUUID(), body)
		for _, k := range []string{router.MetaCorrelationID, router.MetaSource, router.MetaPartner} {
			if v := row.Metadata.Get(k); v != "" {
				out.Metadata.Set(k, v)
			}
		}
		out.Metadata.Set(router.MetaCausationID, row.MessageUUID)
		out.Metadata.Set(router.MetaSchema, canonical.SchemaLabel)
		out.Metadata.Set(router.MetaOrderID, sh.OrderID)
		out.Metadata.Set(router.MetaIdempotencyKey, "label:"+sh.ShipmentID)
		out.Metadata.Set(MetaRule, rule)
		out.Metadata.Set(MetaAccount, account)
		pub, err := s.store.Publisher(tx)
		if err != nil {
			return err
		}
		if err := pub.Publish(s.router.Topics().Name(router.TopicLabelsCreated), out); err != nil {
			return err
		}
		trk := make([]string, len(label.Packages))
		for i, p := range label.Packages {
			trk[i] = p.TrackingNumber
		}
		return s.store.AppendTrail(ctx, tx, store.TrailEntry{OrderID: sh.OrderID, Stage: store.StageLabelled,
			Topic: router.TopicLabelsCreated, Handler: HandlerRequest, MessageUUID: out.UUID,
			CorrelationID: row.Metadata.Get(router.MetaCorrelationID),
			Detail:        fmt.Sprintf("shipment %s: %s %s, tracking %s", sh.ShipmentID, label.Carrier, label.Service, strings.Join(trk, ", "))})
	})
	if err != nil {
		return err
	}
	if wasCancelled {
		return s.voidCreated(ctx, sh.ShipmentID)
	}
	return nil
}

// voidIfCancelled queues the voids of a shipment's labels if it was cancelled.
func (s *Service) voidIfCancelled(ctx context.Context, shipmentID string) error {
	var state string
	if err := s.store.ReadDB().QueryRowContext(ctx, s.store.Rebind(`SELECT state FROM label_shipments WHERE shipment_id = ?`), shipmentID).Scan(&state); err != nil {
		return err
	}
	if state != ShipmentCancelled {
		return nil
	}
	return s.voidCreated(ctx, shipmentID)
}

// voidCreated queues the voids of a cancelled shipment's labels.
func (s *Service) voidCreated(ctx context.Context, shipmentID string) error {
	return s.exec(context.WithoutCancel(ctx), `UPDATE label_requests SET state = ?, updated_at = ? WHERE shipment_id = ? AND state = ?`,
		RequestVoidRequested, store.Now(), shipmentID, RequestCreated)
}

// park sends a shipment the workers cannot finish to the DLQ, as if its handler had
// failed: a replay reaches labels.request, which queues it again.
func (s *Service) park(ctx context.Context, row shipmentRow, class fault.Class, cause error, accounts []string) error {
	ctx = context.WithoutCancel(ctx)
	extra := map[string]string{router.MetaReplayFreshKey: "1"}
	if len(accounts) > 0 {
		extra[MetaAccounts] = strings.Join(slices.Compact(accounts), ",")
	}
	md := message.Metadata{}
	for k, v := range row.Metadata {
		md[k] = v
	}
	s.log.Warn("shipment parked in the DLQ", "shipment_id", row.ID, "class", class, "error", cause)
	var cancelled bool
	defer func() {
		if cancelled {
			if err := s.voidIfCancelled(ctx, row.ID); err != nil {
				s.log.Error("voiding the labels of a cancelled shipment", "shipment_id", row.ID, "error", err)
			}
		}
	}()
	return s.store.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.store.Rebind(`UPDATE label_shipments SET state = ?, lease_until = NULL, detail = ?, waiting_for = ?,
			updated_at = ? WHERE shipment_id = ? AND state = ? AND lease_owner = ?`), ShipmentParked, string(class)+": "+cause.Error(),
			strings.Join(slices.Compact(accounts), ","), store.Now(), row.ID, ShipmentWorking, row.Owner)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Cancelled meanwhile (its labels are voided below), or taken over.
			cancelled = true
			return nil
		}
		return s.router.Park(tx, row.Payload, md, router.Parked{Handler: HandlerRequest, Topic: router.TopicFulfilmentShipments,
			Reason: cause.Error(), Class: class, Chain: fault.Chain(cause), Attempts: 1, MessageID: row.MessageUUID, Extra: extra})
	})
}

// voidPending voids the labels of cancelled orders.
func (s *Service) voidPending(ctx context.Context) error {
	reqs, err := s.requests(ctx, s.store.ReadDB(), `state = ? ORDER BY updated_at LIMIT 50`, RequestVoidRequested)
	if err != nil {
		return err
	}
	for _, r := range reqs {
		acct, ok := s.accounts[r.Account]
		if !ok {
			continue
		}
		_, err := call(ctx, s.breakers, s.cfg.Retry, r.Account, carriers.OpVoid, true, func(ctx context.Context) error {
			return acct.Client.Void(ctx, carriers.VoidRequest{RequestID: r.ID, TrackingNumber: r.Tracking, ShipmentID: r.CarrierShipmentID})
		})
		switch class := carriers.ClassOf(err); {
		case err == nil:
			if err := s.exec(ctx, `UPDATE label_requests SET state = ?, updated_at = ? WHERE id = ?`, RequestVoided, store.Now(), r.ID); err != nil {
				return err
			}
			var orderID string
			_ = s.store.ReadDB().QueryRowContext(ctx, s.store.Rebind(`SELECT order_id FROM label_shipments WHERE shipment_id = ?`), r.ShipmentID).Scan(&orderID)
			if orderID != "" {
				_ = s.store.AppendTrail(ctx, s.store.DB(), store.TrailEntry{OrderID: orderID, Stage: store.StageLabelVoided,
					Handler: HandlerCancel, Detail: fmt.Sprintf("%s label %s voided", r.Account, r.Tracking)})
			}
		case class == carriers.Permanent:
			s.log.Error("the carrier refused to void a label; void it by hand", "request_id", r.ID, "tracking", r.Tracking, "error", err)
			if err := s.failRecord(ctx, r.ID, RequestVoidFailed, string(class), err); err != nil {
				return err
			}
		default:
			s.log.Warn("voiding a label failed; will retry", "request_id", r.ID, "tracking", r.Tracking, "error", err)
		}
	}
	return nil
}

// reconcileDue replays the shipments parked with an unknown outcome once the
// settling delay has passed: the worker then asks the carrier (reconcile).
func (s *Service) reconcileDue(ctx context.Context) error {
	if s.replayer == nil {
		return nil
	}
	cutoff := store.Now().Add(-s.cfg.ReconcileAfter)
	// The order was cancelled while a request's outcome was unknown: nothing will be
	// replayed, so reconcile here (void any label the carrier has).
	gone, err := s.requests(ctx, s.store.ReadDB(), `state = ? AND updated_at <= ? AND carrier <> ? AND shipment_id IN
		(SELECT shipment_id FROM label_shipments WHERE state = ?) ORDER BY updated_at LIMIT 20`, RequestUnknown, cutoff, carriers.USPS, ShipmentCancelled)
	if err != nil {
		return err
	}
	for _, r := range gone {
		if _, err := s.reconcile(ctx, r); err != nil {
			s.log.Warn("reconciling a cancelled shipment's label request", "request_id", r.ID, "error", err)
		}
	}
	reqs, err := s.requests(ctx, s.store.ReadDB(), `state = ? AND updated_at <= ? ORDER BY updated_at LIMIT 100`, RequestUnknown, cutoff)
	if err != nil || len(reqs) == 0 {
		return err
	}
	due := map[string]bool{}
	for _, r := range reqs {
		due[r.ShipmentID] = true
	}
	return s.replayParked(ctx, func(e ParkedEntry, p parkedShipment) bool {
		// A lookup that keeps failing (carrier down) is asked again less and less often.
		return e.Class == string(fault.Ambiguous) && due[p.id] && time.Since(e.LastFailedAt) >= s.backoff(e.TimesFailed)
	})
}

// replayDeferred replays shipments deferred by open breakers (or throttling) once a
// breaker of their accounts lets calls through: all of them when it is closed, one
// (the probe) when it is half-open.
func (s *Service) replayDeferred(ctx context.Context) error {
	if s.replayer == nil {
		return nil
	}
	probes := map[string]bool{}
	return s.replayParked(ctx, func(e ParkedEntry, p parkedShipment) bool {
		if e.Class != string(fault.Deferred) {
			return false
		}
		if time.Since(e.LastFailedAt) < s.backoff(e.TimesFailed) {
			return false
		}
		for _, acct := range strings.Split(p.waitingFor, ",") {
			if _, ok := s.accounts[acct]; !ok {
				continue
			}
			switch s.usable(acct) {
			case gobreaker.StateClosed:
				return true
			case gobreaker.StateHalfOpen:
				if !probes[acct] {
					probes[acct] = true
					return true
				}
			}
		}
		return false
	})
}

// backoff is how long a parked shipment that failed n times waits before an
// automatic replay: DeferredBackoff doubling, at most 5 minutes.
func (s *Service) backoff(n int) time.Duration {
	return min(s.cfg.DeferredBackoff<<min(max(n-1, 0), 6), 5*time.Minute)
}

// usable is the state of an account for buying labels: open if its token or ship
// breaker is open, half-open if either only lets a probe through, else closed.
func (s *Service) usable(account string) gobreaker.State {
	tok, ship := s.breakers.State(account, carriers.OpToken), s.breakers.State(account, carriers.OpShip)
	switch {
	case tok == gobreaker.StateOpen || ship == gobreaker.StateOpen:
		return gobreaker.StateOpen
	case tok == gobreaker.StateHalfOpen || ship == gobreaker.StateHalfOpen:
		return gobreaker.StateHalfOpen
	}
	return gobreaker.StateClosed
}

// parkedShipment is a parked label_shipments row.
type parkedShipment struct{ id, waitingFor string }

func (s *Service) replayParked(ctx context.Context, want func(e ParkedEntry, p parkedShipment) bool) error {
	entries, err := s.replayer.Parked(ctx, HandlerRequest)
	if err != nil {
		return err
	}
	parked := map[string]parkedShipment{} // by message uuid
	if len(entries) > 0 {
		rows, err := s.store.ReadDB().QueryContext(ctx, s.store.Rebind(`SELECT message_uuid, shipment_id, waiting_for FROM label_shipments WHERE state = ?`), ShipmentParked)
		if err != nil {
			return err
		}
		for rows.Next() {
			var m string
			var p parkedShipment
			if err := rows.Scan(&m, &p.id, &p.waitingFor); err != nil {
				rows.Close()
				return err
			}
			parked[m] = p
		}
		rows.Close()
	}
	for _, e := range entries {
		p, ok := parked[e.MessageUUID]
		if !ok || !want(e, p) {
			continue
		}
		if err := s.replayer.Replay(ctx, e.ID); err != nil {
			return fmt.Errorf("replaying DLQ entry %d (shipment %s): %w", e.ID, p.id, err)
		}
		s.log.Info("parked shipment replayed automatically", "dlq_entry", e.ID, "shipment_id", p.id, "class", e.Class)
	}
	return nil
}
