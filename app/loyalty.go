package app

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// loyaltyProfile reads what earning-rule eligibility needs (country, birth date) through
// the customer service under the loyalty purpose, so the read is authorised and audited
// like any other (P-1, P-4).
func (a *App) loyaltyProfile(ctx context.Context, id fidelis.CustomerID) (loyalty.Profile, error) {
	c, err := a.Customers.Get(ctx, fidelis.PurposeLoyalty, id)
	if err != nil {
		return loyalty.Profile{}, err
	}
	p := loyalty.Profile{Country: c.Get(fidelis.FieldCountry).Reveal()}
	if b := c.Get(fidelis.FieldBirthDate).Reveal(); b != "" {
		if d, err := time.Parse(time.DateOnly, b); err == nil {
			p.BirthDate = &d
		}
	}
	return p, nil
}

// ExpireLoyalty runs the loyalty expiry job once (L-4): expired lots are posted to the
// expiry account and advance notices are sent.
func (a *App) ExpireLoyalty(ctx context.Context, now time.Time, dry bool) (*loyalty.ExpiryReport, error) {
	return a.Loyalty.Expire(SystemContext(ctx, "loyalty-expiry", fidelis.RoleAdmin), now, dry)
}

// runLoyaltyJobs runs the expiry job (L-4) every interval until ctx ends. Several nodes
// may run it together: each member's expiry re-reads its lots under the member lock, and
// notices take their lots with SKIP LOCKED, so nothing expires or is notified twice.
func (a *App) runLoyaltyJobs(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r, err := a.ExpireLoyalty(ctx, a.Config.Now(), false)
			if err != nil {
				if ctx.Err() == nil {
					a.Logger.Error("loyalty expiry", "err", err)
				}
				continue
			}
			if r.Transactions > 0 || r.Notices > 0 {
				a.Logger.Info("loyalty expiry", "transactions", r.Transactions, "points", r.Points, "notices", r.Notices)
			}
		}
	}
}
