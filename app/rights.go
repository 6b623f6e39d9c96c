package app

import (
	"context"
	"time"
	_ "time/tzdata" // the rights calendar is Europe/Paris whatever the host has installed

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/store"
)

// RightsCalendar is the time zone due dates of rights requests are counted in: the
// controller's (France), so a letter received at 00:30 in Paris counts from that day.
const RightsCalendar = "Europe/Paris"

// newRights builds the rights-request service. Restrictions stays nil until the
// lawfulness engine provides it: completing restriction and objection cases is then
// refused as unavailable, never silently done.
func (a *App) newRights() *rights.Service {
	loc, err := time.LoadLocation(RightsCalendar)
	if err != nil {
		loc = time.UTC // unreachable with time/tzdata embedded
	}
	return &rights.Service{Store: store.Rights{DB: a.DB}, Customers: a.Customers, Registry: a.Registry, Audit: a.AuditLog,
		Now: a.Config.Now, Location: loc, DueSoonDays: a.Config.RightsDueSoonDays}
}

// purgeSuppressions deletes expired suppression entries at start and then daily
// until ctx ends. Several nodes may run it: the purge is an idempotent DELETE.
func (a *App) purgeSuppressions(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	sys := SystemContext(ctx, "suppression-purge", fidelis.RoleDPO)
	for {
		if n, err := a.Customers.PurgeSuppressions(sys); err != nil {
			if ctx.Err() == nil {
				a.Logger.Warn("suppression purge failed", "err", err)
			}
		} else if n > 0 {
			a.Logger.Info("suppression purge", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
