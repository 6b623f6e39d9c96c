package customer

import (
	"context"
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Audit actions of the suppression list.
const (
	ActSuppress         = "customer.suppress"
	ActSuppressionPurge = "customer.suppression_purge"
)

// Defaults of the retention settings a Service applies when its fields are zero.
const (
	// DefaultBackupRetention is how long backups are kept (docs/operations.md): an erased
	// customer's wrapped key survives in backups until the last one holding it expires.
	DefaultBackupRetention = 35 * 24 * time.Hour
	// DefaultSuppressionYears is how long a suppression entry is kept (R-15, default).
	DefaultSuppressionYears = 3
)

// Suppression reasons.
const (
	SuppressErasure   = "erasure"
	SuppressObjection = "objection"
)

// Suppression is one entry of the suppression list: the keyed blind-index hash of an
// e-mail address or telephone number, never the value, and until when it is kept.
type Suppression struct {
	Kind      string // "email" or "phone"
	Index     []byte // blind index (keyed hash, vault.BlindIndex)
	Reason    string // SuppressErasure or SuppressObjection
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SuppressionTx is the storage of the suppression list, part of Tx.
type SuppressionTx interface {
	// PutSuppression adds an entry, or on an existing (kind, index) keeps the later expiry.
	PutSuppression(ctx context.Context, s *Suppression) error
	// Suppressed reports whether (kind, index) has an entry that expires after now.
	Suppressed(ctx context.Context, kind string, index []byte, now time.Time) (bool, error)
	// PurgeSuppressions deletes the entries that expired at or before now and counts them.
	PurgeSuppressions(ctx context.Context, now time.Time) (int, error)
}

// suppressionEnd returns when an entry made at now expires.
func (s *Service) suppressionEnd(now time.Time) time.Time {
	if s.SuppressionPeriod > 0 {
		return now.Add(s.SuppressionPeriod)
	}
	return now.AddDate(DefaultSuppressionYears, 0, 0)
}

// backupRetention returns the configured backup retention period.
func (s *Service) backupRetention() time.Duration {
	if s.BackupRetention > 0 {
		return s.BackupRetention
	}
	return DefaultBackupRetention
}

// suppress puts rec's e-mail and phone blind indexes on the suppression list and returns
// the kinds it listed.
func (s *Service) suppress(ctx context.Context, tx Tx, rec *Record, reason string, now time.Time) ([]string, error) {
	var kinds []string
	for _, e := range []struct {
		kind string
		idx  []byte
	}{{"email", rec.EmailIndex}, {"phone", rec.PhoneIndex}} {
		if len(e.idx) == 0 {
			continue
		}
		if err := tx.PutSuppression(ctx, &Suppression{Kind: e.kind, Index: e.idx, Reason: reason, CreatedAt: now, ExpiresAt: s.suppressionEnd(now)}); err != nil {
			return nil, fmt.Errorf("suppress %s: %w", e.kind, err)
		}
		kinds = append(kinds, e.kind)
	}
	return kinds, nil
}

// checkSuppressed refuses a new record whose e-mail or phone is on the suppression list
// so that a re-import does not bring back a person who was erased or objected.
// The problem names the field only: nothing about the former record is revealed. prefix is
// the batch position ("3.") for CreateMany.
func (s *Service) checkSuppressed(ctx context.Context, tx Tx, rec *Record, prefix string, now time.Time) error {
	var bad []fidelis.FieldError
	for _, e := range []struct {
		kind string
		idx  []byte
	}{{"email", rec.EmailIndex}, {"phone", rec.PhoneIndex}} {
		if len(e.idx) == 0 {
			continue
		}
		hit, err := tx.Suppressed(ctx, e.kind, e.idx, now)
		if err != nil {
			return err
		}
		if hit {
			bad = append(bad, fidelis.FieldError{Field: prefix + e.kind, Rule: "suppressed",
				Message: "is on the suppression list (a former erasure or objection); it cannot be recorded again"})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "suppressed", Fields: bad,
		Message: "the e-mail address or telephone number is on the suppression list (R-15): this person asked not to be recorded or contacted again"}
}

// Suppress puts customer id's e-mail and phone blind indexes on the suppression list
// after an objection to direct marketing: the record stays, but a later
// create or import with the same e-mail or phone is refused. It is idempotent: listing
// again only extends the expiry. It returns the kinds listed ("email", "phone").
func (s *Service) Suppress(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) ([]string, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActSuppress, string(id)); err != nil {
		return nil, err
	}
	now := s.now()
	var kinds []string
	err := s.Store.Write(ctx, func(tx Tx) error {
		rec, err := tx.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		if kinds, err = s.suppress(ctx, tx, rec, SuppressObjection, now); err != nil {
			return err
		}
		fields := make([]fidelis.Field, len(kinds))
		for i, k := range kinds {
			fields[i] = fidelis.Field(k)
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActSuppress, Subject: string(id), Purpose: p, Fields: fields, Reason: SuppressObjection}))
	})
	if err != nil {
		return nil, fmt.Errorf("customer.Suppress: %w", err)
	}
	if kinds == nil {
		kinds = []string{}
	}
	return kinds, nil
}

// PurgeSuppressions deletes the suppression entries whose period has ended (R-15: kept 3
// years by default) and returns how many it deleted. It is a system job: the entries are
// keyed hashes with no subject, and a purge that deleted entries is audited with its count
// only.
func (s *Service) PurgeSuppressions(ctx context.Context) (int, error) {
	now := s.now()
	var n int
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if n, err = tx.PurgeSuppressions(ctx, now); err != nil || n == 0 {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActSuppressionPurge, Reason: fmt.Sprintf("purged_%d", n)}))
	})
	if err != nil {
		return 0, fmt.Errorf("customer.PurgeSuppressions: %w", err)
	}
	return n, nil
}
