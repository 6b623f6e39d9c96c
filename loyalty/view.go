package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// NextExpiry is the next date on which points expire and how many (L-4).
type NextExpiry struct {
	Points int64
	At     time.Time
}

// MemberView is a membership as the member sees it: balance, lots, next expiry, the terms
// that apply to them and any newer version awaiting their acceptance.
type MemberView struct {
	Programme   *Programme
	Member      *Member
	Lots        []*Lot
	NextExpiry  *NextExpiry
	Applicable  *Terms // the version that governs the member now
	Accepted    *Terms // the latest version the member accepted
	Pending     *Terms // a newer published version not accepted: it does not bind them (L-2)
	Acceptances []*Acceptance

	// Tier (tiers.go): the current tier and its definition, the progress towards the next
	// one over the qualification period, and every change with its reason.
	Tier         *MemberTier
	TierDetail   *Tier
	TierProgress *TierProgress
	TierHistory  []*TierChange
	// ReferralCode is the member's code to invite others; ReferredBy, the referral they
	// joined by (referral.go).
	ReferralCode *ReferralCode
	ReferralLink string // the shareable link carrying the code, nothing else
	ReferredBy   *Referral
	// Reserved is the points held by open reservations (rewards.go), not in Balance.
	Reserved int64
}

func (s *Service) memberView(ctx context.Context, programme string, customer fidelis.CustomerID) (*MemberView, error) {
	v := &MemberView{}
	err := s.Store.Snapshot(ctx, func(tx Tx) error { return s.fillView(ctx, tx, v, programme, customer) })
	return v, err
}

func (s *Service) fillView(ctx context.Context, tx Tx, v *MemberView, programme string, customer fidelis.CustomerID) error {
	var err error
	if v.Programme, err = tx.GetProgramme(ctx, programme); err != nil {
		return err
	}
	if v.Member, err = tx.GetMember(ctx, programme, customer, false); err != nil {
		return err
	}
	if v.Lots, err = tx.OpenLots(ctx, programme, customer); err != nil {
		return err
	}
	if v.Acceptances, err = tx.Acceptances(ctx, programme, customer); err != nil {
		return err
	}
	terms, err := tx.ListTerms(ctx, programme)
	if err != nil {
		return err
	}
	now := s.now()
	v.Applicable = applicable(terms, v.Member.TermsVersion, now)
	for _, t := range terms {
		if t.Version == v.Member.TermsVersion {
			v.Accepted = t
		}
	}
	if n := len(terms); n > 0 && terms[n-1].Version > v.Member.TermsVersion {
		v.Pending = terms[n-1]
	}
	for _, l := range v.Lots {
		if l.ExpiresAt == nil {
			continue
		}
		switch {
		case v.NextExpiry == nil || l.ExpiresAt.Before(v.NextExpiry.At):
			v.NextExpiry = &NextExpiry{Points: l.Remaining, At: *l.ExpiresAt}
		case l.ExpiresAt.Equal(v.NextExpiry.At):
			v.NextExpiry.Points += l.Remaining
		}
	}
	return s.rewardsView(ctx, tx, v)
}

// Page is one page of a cursor-paginated list. Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// CustomerLoyalty is everything a customer holds in loyalty programmes, with a page of
// their ledger history (newest first, each entry with its reason).
type CustomerLoyalty struct {
	Customer    fidelis.CustomerID
	Memberships []*MemberView
	History     Page[*Transaction]
}

// MaxPageSize bounds history pages.
const MaxPageSize = 200

// Member returns a customer's memberships and a page of history, and audits the read.
func (s *Service) Member(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, cursor string, limit int) (*CustomerLoyalty, error) {
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, id); err != nil {
		return nil, err
	}
	if cursor != "" && !fidelis.ValidID("ltx", cursor) {
		return nil, invalid("cursor", "invalid_cursor", "is not a cursor returned by a previous page")
	}
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, MaxPageSize)
	out := &CustomerLoyalty{Customer: id}
	err := s.Store.Snapshot(ctx, func(tx Tx) error {
		ms, err := tx.MembershipsOf(ctx, id)
		if err != nil {
			return err
		}
		if len(ms) == 0 {
			return notMember()
		}
		for _, m := range ms {
			v := &MemberView{}
			if err := s.fillView(ctx, tx, v, m.Programme, id); err != nil {
				return err
			}
			out.Memberships = append(out.Memberships, v)
		}
		txs, err := tx.MemberHistory(ctx, id, cursor, limit+1)
		if err != nil {
			return err
		}
		if len(txs) > limit {
			txs = txs[:limit]
			out.History.Next = txs[limit-1].ID
		}
		out.History.Items = txs
		return nil
	})
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, notMember()
		}
		return nil, fmt.Errorf("loyalty.Member: %w", err)
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, auditEvent(ActRead, id, p))); err != nil {
		return nil, fmt.Errorf("loyalty.Member: audit: %w", err) // no unaudited read
	}
	return out, nil
}

// Liability is the programme's outstanding points and their value at a date (L-6).
type Liability struct {
	Programme  *Programme
	At         time.Time
	Points     int64
	ValueCents int64
}

// Liability reports the points held on member accounts at the end of at, valued at the
// programme's point value (L-6). Debts from refunds are not netted: they are not assets
// the programme may count on.
func (s *Service) Liability(ctx context.Context, programme string, at time.Time) (*Liability, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	l := &Liability{At: fidelis.UTC(at)}
	err := s.Store.Snapshot(ctx, func(tx Tx) (err error) {
		if l.Programme, err = tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		l.Points, err = tx.MemberPoints(ctx, programme, l.At)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Liability: %w", err)
	}
	l.ValueCents = l.Points * l.Programme.PointValueCents
	return l, nil
}

// Programmes lists the programmes (administrative).
func (s *Service) Programmes(ctx context.Context) ([]*Programme, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	var ps []*Programme
	err := s.Store.Read(ctx, func(tx Tx) (err error) { ps, err = tx.ListProgrammes(ctx); return err })
	return ps, err
}
