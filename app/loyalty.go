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
