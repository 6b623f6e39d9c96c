package app

import (
	"time"
	_ "time/tzdata" // the rights calendar is Europe/Paris whatever the host has installed

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
