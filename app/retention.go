package app

import (
	"context"
	"errors"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/retention"
	"github.com/fidelis/fidelis/store"
)

// DefaultRetentionInterval is how often the scheduled retention run starts.
const DefaultRetentionInterval = 24 * time.Hour

// newRetention builds the retention service: erasure through the customer service's
// crypto-shredding, notices through the mail server when one is configured, runs kept one
// at a time across nodes by the database lock.
func (a *App) newRetention() *retention.Service {
	s := &retention.Service{Store: store.Retention{DB: a.DB}, Registry: a.Registry, Audit: a.AuditLog, Now: a.Config.Now,
		Lawfulness: a.States, Eraser: retentionEraser{a}, Locker: a.DB, Grace: a.Config.RetentionGrace}
	if a.Mailer != nil {
		s.Notifier = retentionNotifier{a}
	}
	return s
}

// retentionEraser erases through customer.Service.EraseExpired, under purpose
// data_protection, as the actor who runs retention (the DPO's job, or the scheduled job).
type retentionEraser struct{ a *App }

// EraseExpired implements retention.Eraser.
func (e retentionEraser) EraseExpired(ctx context.Context, id fidelis.CustomerID, rule retention.RuleID) (string, error) {
	r, err := e.a.Customers.EraseExpired(ctx, fidelis.PurposeDataProtection, id, string(rule))
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// retentionNotifier sends the renewal request (T-1) and the warning (T-3) by e-mail, in the
// customer's language; the address is read under purpose data_protection (audited).
type retentionNotifier struct{ a *App }

// Notify implements retention.Notifier.
func (n retentionNotifier) Notify(ctx context.Context, id fidelis.CustomerID, notice retention.Notice, _ retention.RuleID, actAt time.Time) (retention.NoticeResult, string, error) {
	c, err := n.a.Customers.Get(ctx, fidelis.PurposeDataProtection, id)
	if err != nil {
		return "", "", err
	}
	to := c.Get(fidelis.FieldEmail)
	if to.IsZero() {
		return retention.NoticeNoAddress, "", nil
	}
	kind := mailer.KindRetentionRenewal
	if notice == retention.NoticeWarning {
		kind = mailer.KindRetentionWarning
	}
	msgID, err := n.a.Mailer.Send(ctx, mailer.Message{Kind: kind, Lang: c.Get(fidelis.FieldLocale).Reveal(), To: to, Data: map[string]any{"date": actAt}})
	if err != nil {
		if e := fidelis.AsError(err); e != nil && e.Reason == "recipient_rejected" {
			// The address is refused for good: there is no one to ask.
			return retention.NoticeNoAddress, "", nil
		}
		return "", "", err
	}
	return retention.NoticeSent, msgID, nil
}

// RunRetention runs retention once as the scheduled job does: as Fidelis itself with the
// DPO's role (T-7).
func (a *App) RunRetention(ctx context.Context, dry bool, progress retention.Progress) (*retention.Report, error) {
	ctx = SystemContext(ctx, "retention", fidelis.RoleDPO)
	if dry {
		return a.Retention.Report(ctx, progress)
	}
	return a.Retention.Run(ctx, progress)
}

// retentionJob runs retention at start and then every RetentionInterval (default a day)
// until ctx ends. Several nodes may run it: the database lock lets one run at a time, and
// the others skip their turn.
func (a *App) retentionJob(ctx context.Context) {
	interval := a.Config.RetentionInterval
	if interval < 0 {
		return
	}
	if interval == 0 {
		interval = DefaultRetentionInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r, err := a.RunRetention(ctx, false, nil)
		switch {
		case errors.Is(err, retention.ErrRunning):
			a.Logger.Debug("retention: another node is running it")
		case err != nil:
			if ctx.Err() == nil {
				a.Logger.Warn("retention run failed", "err", err)
			}
		case r.Failures > 0:
			a.Logger.Warn("retention run", "scanned", r.Scanned, "summary", r.Summary(), "failures", r.Failures)
		case r.Counts[retention.ActionBlocked] > 0:
			a.Logger.Warn("retention: notices are due but no mail server is configured (--smtp-host)", "blocked", r.Counts[retention.ActionBlocked])
		default:
			a.Logger.Info("retention run", "scanned", r.Scanned, "summary", r.Summary())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
