package app

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
	_ "time/tzdata" // the rights calendar is Europe/Paris whatever the host has installed

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/store"
)

// RightsCalendar is the time zone due dates of rights requests are counted in: the
// controller's (France), so a letter received at 00:30 in Paris counts from that day.
const RightsCalendar = "Europe/Paris"

// newRights builds the rights-request service; restriction and objection cases take effect
// through the lawfulness engine's subject state (restrictions).
func (a *App) newRights() *rights.Service {
	loc, err := time.LoadLocation(RightsCalendar)
	if err != nil {
		loc = time.UTC // unreachable with time/tzdata embedded
	}
	return &rights.Service{Store: store.Rights{DB: a.DB}, Customers: a.Customers, Registry: a.Registry, Audit: a.AuditLog,
		Now: a.Config.Now, Location: loc, DueSoonDays: a.Config.RightsDueSoonDays, Restrictions: restrictions{a}}
}

// rightsDaily runs the daily jobs of the privacy engine at start and then every day until
// ctx ends: it purges expired suppression entries and warns the operator of rights
// requests overdue or due soon (DESIGN invariant 6: legal clocks are warned about before
// they pass). Several nodes may run it: the purge is an idempotent DELETE and the warning
// only a log line.
func (a *App) rightsDaily(ctx context.Context) {
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	sys := SystemContext(ctx, "rights-daily", fidelis.RoleDPO)
	for {
		if n, err := a.Customers.PurgeSuppressions(sys); err != nil {
			if ctx.Err() == nil {
				a.Logger.Warn("suppression purge failed", "err", err)
			}
		} else if n > 0 {
			a.Logger.Info("suppression purge", "deleted", n)
		}
		if _, _, err := a.WarnRightsDeadlines(sys); err != nil && ctx.Err() == nil {
			a.Logger.Warn("rights deadlines check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// WarnRightsDeadlines counts the open rights requests that are overdue or due soon and
// logs a warning naming them by ID (never a personal value) when there are any.
func (a *App) WarnRightsDeadlines(ctx context.Context) (overdue, dueSoon []string, err error) {
	q := rights.Query{Filter: rights.Filter{Status: []rights.Status{rights.StatusReceived, rights.StatusInProgress, rights.StatusExtended}}, Limit: rights.MaxPageSize}
	for {
		page, err := a.Rights.List(ctx, fidelis.PurposeDataProtection, q)
		if err != nil {
			return nil, nil, err
		}
		for _, c := range page.Items {
			switch a.Rights.Deadline(c) {
			case rights.DeadlineOverdue:
				overdue = append(overdue, c.ID)
			case rights.DeadlineDueSoon:
				dueSoon = append(dueSoon, c.ID)
			}
		}
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	if len(overdue) > 0 || len(dueSoon) > 0 {
		a.Logger.Warn("rights requests need an answer", "overdue", len(overdue), "due_soon", len(dueSoon),
			"overdue_ids", overdue, "due_soon_ids", dueSoon)
	}
	return overdue, dueSoon, nil
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

// restrictions applies completed restriction and objection cases through
// the lawfulness engine's subject state. Applying a case twice changes nothing.
type restrictions struct{ a *App }

var _ rights.Restrictions = restrictions{}

// Restrict implements rights.Restrictions.
func (r restrictions) Restrict(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, caseID string) error {
	_, err := r.a.States.Restrict(ctx, p, id, privacy.RestrictSubjectRequest, caseID)
	if e := fidelis.AsError(err); e != nil && e.Reason == "already_restricted" {
		return nil
	}
	return err
}

// Lift implements rights.Restrictions.
func (r restrictions) Lift(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, caseID string) error {
	_, err := r.a.States.Lift(ctx, p, id, privacy.LiftSubjectRequest)
	if e := fidelis.AsError(err); e != nil && e.Reason == "not_restricted" {
		return nil
	}
	return err
}

// Object implements rights.Restrictions: an objection to a direct-marketing purpose is an
// objection to direct marketing as a whole; others name their purpose.
func (r restrictions) Object(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, purposes []fidelis.Purpose, caseID string) error {
	scopes := map[string]bool{}
	for _, pp := range purposes {
		d, err := r.a.Registry.Purpose(pp)
		if err != nil {
			return fidelis.Invalid(fidelis.FieldError{Field: "purposes", Rule: "unknown_purpose", Message: "names a purpose that is not declared"})
		}
		if d.DirectMarketing {
			scopes[privacy.ScopeDirectMarket] = true
		} else {
			scopes[string(pp)] = true
		}
	}
	for _, scope := range slices.Sorted(maps.Keys(scopes)) {
		if _, err := r.a.States.Object(ctx, p, id, scope, caseID); err != nil {
			return err
		}
	}
	return nil
}

// suppressor puts an objector to direct marketing on the suppression list. The
// list is a legal obligation of the controller, kept under purpose data_protection by
// Fidelis itself, whoever recorded the objection.
type suppressor struct{ a *App }

// SuppressObjector implements privacy.Suppressor.
func (s suppressor) SuppressObjector(ctx context.Context, id fidelis.CustomerID) error {
	_, err := s.a.Customers.Suppress(SystemContext(ctx, "objection-suppression", fidelis.RoleDPO), fidelis.PurposeDataProtection, id)
	return err
}
