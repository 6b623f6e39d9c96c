package loyalty

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
)

// LaunchProgramme creates a programme together with the first version of its terms, in one
// transaction (L-1, X-2): a programme never exists without terms naming the consumer
// mediator. Both inputs are checked as CreateProgramme and PublishTerms check them, and
// every field error of both is reported at once.
func (s *Service) LaunchProgramme(ctx context.Context, in ProgrammeInput, terms TermsInput) (*Programme, *Terms, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, nil, err
	}
	p, perr := s.newProgramme(in)
	terr := validateTerms(&terms)
	if perr != nil || terr != nil {
		var fields []fidelis.FieldError
		for _, err := range []error{perr, terr} {
			if e := fidelis.AsError(err); e != nil {
				fields = append(fields, e.Fields...)
			}
		}
		return nil, nil, fidelis.Invalid(fields...)
	}
	var t *Terms
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if err := s.insertProgramme(ctx, tx, p); err != nil {
			return err
		}
		if t, err = nextTerms(p, nil, terms, p.CreatedAt); err != nil {
			return err
		}
		return s.insertTerms(ctx, tx, t)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("loyalty.LaunchProgramme: %w", err)
	}
	return p, t, nil
}

// RuleVersions returns a programme and every version of its rules, by ID then version
// (administrative action).
func (s *Service) RuleVersions(ctx context.Context, programme string) (*Programme, []*Rule, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, nil, programmeNotFound()
	}
	var p *Programme
	var rules []*Rule
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if p, err = tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		rules, err = tx.Rules(ctx, programme)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("loyalty.RuleVersions: %w", err)
	}
	return p, rules, nil
}

// ExpiryOutlook is what the expiry job has to do, as of a time (L-4).
type ExpiryOutlook struct {
	At time.Time
	// DuePoints and DueMembers are expired points not yet posted: the next run posts them.
	DuePoints  int64
	DueMembers int
	// Next is the next time after At at which points expire, and how many.
	Next *NextExpiry
	// SoonPoints expire within the next NoticeDays days; their members get (or got) notice.
	SoonPoints int64
	NoticeDays int
	// Partial is true when more lots were pending than one batch reads: the figures are
	// lower bounds.
	Partial bool
}

// Outlook reports, without writing anything, the points the expiry job would post at at,
// the next expiry after it, and the points expiring within the notice window (L-4).
func (s *Service) Outlook(ctx context.Context, at time.Time) (*ExpiryOutlook, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	at = fidelis.UTC(at)
	o := &ExpiryOutlook{At: at, NoticeDays: s.NoticeDays}
	if o.NoticeDays <= 0 {
		o.NoticeDays = DefaultNoticeDays
	}
	var lots []*Lot
	// Lots expire at most 120 months after they are earned (the terms' limit).
	if err := s.Store.Read(ctx, func(tx Tx) (err error) {
		lots, err = tx.ExpiringLots(ctx, at.AddDate(11, 0, 0), expiryBatch)
		return err
	}); err != nil {
		return nil, fmt.Errorf("loyalty.Outlook: %w", err)
	}
	o.Partial = len(lots) == expiryBatch
	due := map[memberKey]bool{}
	soon := at.AddDate(0, 0, o.NoticeDays)
	for _, l := range lots {
		switch {
		case !l.ExpiresAt.After(at):
			o.DuePoints += l.Remaining
			due[memberKey{l.Programme, l.Customer}] = true
		case o.Next == nil:
			o.Next = &NextExpiry{At: *l.ExpiresAt, Points: l.Remaining}
		case l.ExpiresAt.Equal(o.Next.At):
			o.Next.Points += l.Remaining
		}
		if l.ExpiresAt.After(at) && !l.ExpiresAt.After(soon) {
			o.SoonPoints += l.Remaining
		}
	}
	o.DueMembers = len(due)
	return o, nil
}

// Currencies returns the ISO 4217 codes a programme may use.
func Currencies() []string { return slices.Clone(currencies) }
