package app

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/rights"
)

// wireRewards configures the rewards capability of the loyalty service and adds the
// loyalty tables (ledger, orders with GTIN and promotion amounts, tiers, reservations,
// referrals) to the rights exports.
func (a *App) wireRewards() {
	a.Loyalty.ReservationTTL = a.Config.ReservationTTL
	a.Loyalty.ReferralBaseURL = a.Config.ReferralBaseURL
	for _, name := range loyalty.PortableTables {
		a.Rights.Sections = append(a.Rights.Sections, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*rights.Table, error) {
			ts, err := a.Loyalty.Portability(ctx, p, id, name)
			if err != nil || len(ts) == 0 {
				return nil, err
			}
			return &rights.Table{Name: ts[0].Name, Title: ts[0].Title, Columns: ts[0].Columns, Rows: ts[0].Rows}, nil
		})
	}
}

// ExpireReservations gives back the reward reservations whose hold ended (L-7).
func (a *App) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	return a.Loyalty.ExpireReservations(SystemContext(ctx, "loyalty-reservations", fidelis.RoleAdmin), now)
}

// ReviewTiers runs the periodic tier review (L-3): downgrades and catch-up upgrades.
func (a *App) ReviewTiers(ctx context.Context, now time.Time, dry bool) (*loyalty.TierReviewReport, error) {
	return a.Loyalty.ReviewTiers(SystemContext(ctx, "loyalty-tiers", fidelis.RoleAdmin), now, dry)
}

// runRewardsJobs releases expired reservations every interval and runs the tier review
// once a month (the first tick of each calendar month, UTC), until ctx ends. Several nodes
// may run it: a reservation is released once under the member lock, and the monthly review
// is claimed in the database by one node only.
func (a *App) runRewardsJobs(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	sys := SystemContext(ctx, "loyalty-tiers", fidelis.RoleAdmin)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := a.Config.Now()
		if n, err := a.ExpireReservations(ctx, now); err != nil && ctx.Err() == nil {
			a.Logger.Error("loyalty reservations expiry", "err", err)
		} else if n > 0 {
			a.Logger.Info("loyalty reservations expired", "released", n)
		}
		claimed, err := a.Loyalty.ClaimTierReview(sys, now.UTC().Format("2006-01"), now)
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("loyalty tier review claim", "err", err)
			}
			continue
		}
		if !claimed {
			continue
		}
		r, err := a.ReviewTiers(ctx, now, false)
		if err != nil {
			if ctx.Err() == nil {
				a.Logger.Error("loyalty tier review (run `fidelis loyalty tiers review` to retry)", "err", err)
			}
			continue
		}
		a.Logger.Info("loyalty tier review", "members", r.Members, "upgrades", r.Upgrades, "downgrades", r.Downgrades)
	}
}
