package fidelistest

import (
	"context"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

// MustNotice returns the current consent notice of purpose p, publishing a first version
// when there is none.
func MustNotice(tb testing.TB, a *app.App, p fidelis.Purpose) *consent.Notice {
	tb.Helper()
	ctx := app.SystemContext(context.Background(), "test-notices", fidelis.RoleDPO)
	n, err := a.Consents.LatestNotice(ctx, p)
	if err == nil {
		return n
	}
	n, err = a.Consents.PublishNotice(ctx, p, privacy.Text{
		FR: "J'accepte de recevoir des offres (" + string(p) + ").",
		EN: "I agree to receive offers (" + string(p) + ").",
	})
	if err != nil {
		tb.Fatalf("publish notice of %s: %v", p, err)
	}
	return n
}

// MustConsent records that customer id granted every consent the purposes need, as a DPO
// would record a paper form.
func MustConsent(tb testing.TB, a *app.App, id fidelis.CustomerID, purposes ...fidelis.Purpose) {
	tb.Helper()
	ctx := app.SystemContext(context.Background(), "test-consents", fidelis.RoleDPO)
	for _, p := range purposes {
		decl, err := a.Registry.Purpose(p)
		if err != nil {
			tb.Fatalf("purpose %s: %v", p, err)
		}
		n := MustNotice(tb, a, p)
		for _, c := range decl.ConsentChannels {
			if _, _, err := a.Consents.Record(ctx, fidelis.PurposeDataProtection, id, consent.Input{
				Purpose: p, Channel: c, Decision: privacy.ConsentGranted, NoticeVersion: n.Version, Method: consent.MethodPaper,
			}); err != nil {
				tb.Fatalf("record consent of %s to %s on %s: %v", id, p, c, err)
			}
		}
	}
}
