package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// ExpiryReport says what an expiry run did (or, dry, would do).
type ExpiryReport struct {
	Transactions int   // expiry transactions posted
	Points       int64 // points expired
	Notices      int   // advance notices sent
}

type memberKey struct {
	programme string
	customer  fidelis.CustomerID
}

// Expire expires the lots whose date has passed, oldest first (L-4): one transaction per
// member, from the member account to the expiry account, citing the terms that set the
// date. It then sends each member, once, an advance notice of points expiring within the
// notice window (default 30 days) with the amount and date. With dry, nothing is written.
// It is safe to run on several nodes at once: each member's expiry happens under the member
// lock and re-reads the lots, so a lot never expires twice.
func (s *Service) Expire(ctx context.Context, now time.Time, dry bool) (*ExpiryReport, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	now = fidelis.UTC(now)
	rep := &ExpiryReport{}
	// Batches keep each read bounded; a write run repeats until nothing is due (each batch
	// expires what the previous read returned, so the next read moves on). A dry run reads
	// one batch: its report is a lower bound past expiryBatch lots.
	for {
		var due []*Lot
		if err := s.Store.Read(ctx, func(tx Tx) (err error) { due, err = tx.ExpiringLots(ctx, now, expiryBatch); return err }); err != nil {
			return nil, fmt.Errorf("loyalty.Expire: %w", err)
		}
		var members []memberKey
		seen := map[memberKey]bool{}
		for _, l := range due {
			k := memberKey{l.Programme, l.Customer}
			if !seen[k] {
				seen[k] = true
				members = append(members, k)
			}
			if dry {
				rep.Points += l.Remaining
			}
		}
		if dry {
			rep.Transactions = len(members)
			break
		}
		for _, k := range members {
			n, err := s.expireMember(ctx, k, now)
			if err != nil {
				return rep, err
			}
			if n > 0 {
				rep.Transactions++
				rep.Points += n
			}
		}
		if len(due) < expiryBatch {
			break
		}
	}
	for {
		n, scanned, err := s.notices(ctx, now, dry)
		rep.Notices += n
		if err != nil || dry || scanned < expiryBatch {
			return rep, err
		}
	}
}

// expiryBatch bounds the lots one read of the expiry job handles.
const expiryBatch = 10_000

func (s *Service) expireMember(ctx context.Context, k memberKey, now time.Time) (int64, error) {
	var total int64
	err := s.Store.Write(ctx, func(tx Tx) error {
		mc, err := s.lockMember(ctx, tx, k.programme, k.customer)
		if err != nil {
			return err
		}
		lots, err := tx.OpenLots(ctx, k.programme, k.customer)
		if err != nil {
			return err
		}
		t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: k.programme, Customer: k.customer, Kind: KindExpire, At: now}
		var touched []*Lot
		var earliest time.Time
		for _, l := range lots {
			if l.ExpiresAt == nil || l.ExpiresAt.After(now) || l.Remaining == 0 {
				continue
			}
			t.Postings = append(t.Postings, Posting{Account: AccountMember, Customer: k.customer, Amount: -l.Remaining, Lot: l.ID})
			if earliest.IsZero() {
				earliest = l.EarnedAt
			}
			total += l.Remaining
			l.Remaining = 0
			touched = append(touched, l)
		}
		if total == 0 {
			return nil
		}
		t.Postings = append(t.Postings, Posting{Account: AccountExpiry, Amount: total})
		terms := applicable(mc.terms, mc.m.TermsVersion, now)
		t.TermsVersion = termsVersion(terms)
		// Expiry follows the terms' own clause: the terms version is the rule cited.
		t.RuleID, t.RuleVersion = "terms.expiry", t.TermsVersion
		months := 0
		if terms != nil {
			months = terms.ExpiryMonths
		}
		t.Reason = Text{
			FR: fmt.Sprintf("%d point%s expiré%s : points gagnés depuis le %s, validité de %d mois (conditions v%d)", total, plural(total), plural(total), earliest.Format("02/01/2006"), months, t.TermsVersion),
			EN: fmt.Sprintf("%d point%s expired: points earned from %s, valid %d months (terms v%d)", total, plural(total), earliest.Format(time.DateOnly), months, t.TermsVersion),
		}
		if err := s.post(ctx, tx, mc.m, t, nil, touched); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.points_expired", string(k.customer), map[string]any{"programme_id": k.programme, "customer_id": k.customer, "transaction_id": t.ID, "points": total}))
	})
	return total, err
}

// notices sends, once per lot, an advance notice of expiry: one event per member and
// expiry date, with the amount and the date (L-4).
func (s *Service) notices(ctx context.Context, now time.Time, dry bool) (sent, scanned int, err error) {
	days := s.NoticeDays
	if days <= 0 {
		days = DefaultNoticeDays
	}
	err = s.Store.Write(ctx, func(tx Tx) error {
		lots, err := tx.UnnotifiedLots(ctx, now.AddDate(0, 0, days), expiryBatch)
		if err != nil {
			return err
		}
		scanned = len(lots)
		type group struct {
			memberKey
			at time.Time
		}
		sums := map[group]int64{}
		var order []group
		for _, l := range lots {
			if !dry {
				l.NotifiedAt = &now
				if err := tx.UpdateLot(ctx, l); err != nil {
					return err
				}
			}
			if !l.ExpiresAt.After(now) {
				continue // expired already: no notice after the fact
			}
			g := group{memberKey{l.Programme, l.Customer}, *l.ExpiresAt}
			if _, ok := sums[g]; !ok {
				order = append(order, g)
			}
			sums[g] += l.Remaining
		}
		for _, g := range order {
			sent++
			if dry {
				continue
			}
			if err := tx.AppendLoyaltyEvent(ctx, s.event("loyalty.expiry_notice", string(g.customer), map[string]any{
				"programme_id": g.programme, "customer_id": g.customer, "points": sums[g], "expires_at": g.at})); err != nil {
				return err
			}
		}
		return nil
	})
	return sent, scanned, err
}
