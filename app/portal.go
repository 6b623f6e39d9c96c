package app

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/retention"

	"github.com/fidelis/fidelis/selfservice"
	"github.com/fidelis/fidelis/store"
)

// newPortal builds the customer portal's service: sign-in links go out through the mailer
// (none without an SMTP server: nobody can then sign in), to Config.PublicURL.
func (a *App) newPortal() *selfservice.Service {
	s := &selfservice.Service{Store: store.Portal{DB: a.DB}, Customers: a.Customers, Consents: a.Consents, Rights: a.Rights,
		Loyalty: a.Loyalty, Register: a.Register, Registry: a.Registry, Audit: a.AuditLog, PublicURL: a.Config.PublicURL,
		Now: a.Config.Now, Logger: a.Logger}
	if a.Mailer != nil { // never a typed nil in the interface
		s.Mailer = a.Mailer
	}
	// electronic requests, however recorded, are acknowledged and answered by e-mail.
	a.Rights.Notifier = s
	return s
}

// portalDefaults gives the portal the listening address as its public URL when none is
// configured; a wildcard address makes links no customer can follow, which it warns of.
func (a *App) portalDefaults(bound string) {
	if a.Portal == nil || a.Portal.PublicURL != "" {
		return
	}
	a.Portal.PublicURL = (&url.URL{Scheme: "http", Host: bound}).String()
	if host, _, err := net.SplitHostPort(bound); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
			a.Logger.Warn("portal sign-in links point to a wildcard address; set --public-url (FIDELIS_PUBLIC_URL) to the address customers reach", "public_url", a.Portal.PublicURL)
		}
	}
}

// portalActivity dates a portal sign-in as the customer's own activity for retention: an
// account holder's 2 years (T-3) run from their last sign-in.
type portalActivity struct{ r *retention.Service }

func (p portalActivity) Touch(ctx context.Context, id fidelis.CustomerID, _ string, at time.Time) error {
	return p.r.Touch(ctx, id, retention.KindLogin, at)
}
