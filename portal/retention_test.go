package portal_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/retention"
)

// TestPortal_SignInDatesAccountActivity_T3: a sign-in to the portal is activity from the
// customer themself, so it restarts an account holder's retention clock (T-3); it is
// recorded, audited, as a login.
func TestPortal_SignInDatesAccountActivity_T3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustPortal(t, b)
		id := e.mustCustomer(t, "Maëlle", "Roux", "maelle.roux@example.fr", "fr")
		c := fidelistest.NewFormClient(t, e.base)
		askLink(t, c, "maelle.roux@example.fr")
		mustRedirect(t, "sign in", signIn(t, c, e.waitMail(t, 1).link(t, e.base)), "/portal/data")

		dpo := app.SystemContext(context.Background(), "test", fidelis.RoleDPO)
		page, err := e.a.Customers.AccessLog(dpo, fidelis.PurposeDataProtection, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range page.Items {
			if en.Action == retention.ActActivity && en.Reason == string(retention.KindLogin) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no retention activity %q recorded for the sign-in; access log = %+v", retention.KindLogin, page.Items)
		}
		mustStatus(t, "GET /portal/data", c.Do("GET", "/portal/data", nil), http.StatusOK)
	})
}
