package app

import (
	"context"
	"fmt"
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

// LoadDemoRights records a few rights requests on the newest demo customers, so that a
// newcomer sees the queue with each deadline state: overdue, due soon, extended, on time.
func (a *App) LoadDemoRights(ctx context.Context) error {
	ctx = SystemContext(ctx, "demo", fidelis.RoleAdmin)
	const dp = fidelis.PurposeDataProtection
	page, err := a.Customers.List(ctx, fidelis.PurposeCustomerService, "", 5)
	if err != nil || len(page.Items) < 5 {
		return err
	}
	now := a.Config.Now()
	days := func(n int) time.Time { return now.AddDate(0, 0, -n) }
	for i, d := range []struct {
		kind     rights.Kind
		channel  rights.Channel
		received time.Time
		purposes []fidelis.Purpose
		steps    func(id string) error
	}{
		{rights.KindAccess, rights.ChannelPost, days(40), nil, nil},
		{rights.KindRectification, rights.ChannelEmail, days(27), nil, func(id string) error {
			if _, err := a.Rights.Start(ctx, dp, id); err != nil {
				return err
			}
			_, err := a.Rights.VerifyIdentity(ctx, dp, id, rights.IdentityInput{Method: rights.IdentityEmailConfirmation, Result: rights.IdentityVerified})
			return err
		}},
		{rights.KindErasure, rights.ChannelPortal, days(20), nil, func(id string) error {
			_, err := a.Rights.Extend(ctx, dp, id, rights.ExtendInput{Months: 2, Reasons: []rights.ExtensionReason{rights.ExtendComplexity}})
			return err
		}},
		{rights.KindPortability, rights.ChannelAPI, days(3), nil, nil},
		{rights.KindObjection, rights.ChannelEmail, days(1), []fidelis.Purpose{fidelis.PurposeMarketingEmail}, nil},
	} {
		c, err := a.Rights.Create(ctx, dp, rights.NewCase{CustomerID: page.Items[i].ID, Kind: d.kind, Channel: d.channel, ReceivedAt: d.received, Purposes: d.purposes})
		if err != nil {
			return fmt.Errorf("demo: rights request: %w", err)
		}
		if d.steps != nil {
			if err := d.steps(c.ID); err != nil {
				return fmt.Errorf("demo: rights request: %w", err)
			}
		}
	}
	return nil
}
