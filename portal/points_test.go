package portal_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// TestPortal_PointsWithMediator_L3_L4_X2: a member sees their balance, lots, next expiry,
// their history with the reason of each entry, and the consumer mediator's name, website
// and postal address, in their language.
func TestPortal_PointsWithMediator_L3_L4_X2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustPortal(t, b)
		id := e.mustCustomer(t, "Camille", "Durand", camille, "fr")
		admin := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		mgr := app.SystemContext(context.Background(), "till", fidelis.RoleLoyaltyManager)
		p, err := e.a.Loyalty.CreateProgramme(admin, loyalty.ProgrammeInput{Name: "Club Dupont", Currency: "EUR", PointValueCents: 1})
		if err != nil {
			t.Fatal(err)
		}
		med := loyalty.Mediator{Name: "Médiateur du e-commerce de la FEVAD", Website: "https://www.mediateurfevad.fr", Address: "60 rue La Boétie, 75008 Paris"}
		if _, err := e.a.Loyalty.PublishTerms(admin, p.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions v1.", EN: "Terms v1."}, Mediator: med, ExpiryMonths: 12}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.a.Loyalty.Join(mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: id, TermsVersion: 1, Channel: "store", Key: "join-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Loyalty.Adjust(mgr, fidelis.PurposeLoyalty, loyalty.AdjustInput{Programme: p.ID, Customer: id, Points: 250, Reason: "goodwill", Key: "adj-1"}); err != nil {
			t.Fatal(err)
		}

		c := fidelistest.NewFormClient(t, e.base)
		askLink(t, c, camille)
		mustRedirect(t, "sign in", signIn(t, c, e.waitMail(t, 1).link(t, e.base)), "/portal/data")
		page := mustStatus(t, "GET /portal/points", c.Do("GET", "/portal/points", nil), http.StatusOK)
		for _, want := range []string{"Club Dupont", `data-testid="points-balance">250<`, "Prochaine expiration : 250 points", "geste commercial",
			med.Name, `href="https://www.mediateurfevad.fr"`, "60 rue La Boétie, 75008 Paris", "Conditions acceptées : version 1"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("points page lacks %q", want)
			}
		}
		noMissingText(t, "points", page.Body)
		mustRedirect(t, "English", c.Do("GET", "/portal/lang?l=en&next=/portal/points", nil), "/portal/points")
		en := mustStatus(t, "points in English", c.Do("GET", "/portal/points", nil), http.StatusOK)
		for _, want := range []string{"goodwill gesture", "Consumer mediator", "Next expiry: 250 points"} {
			if !strings.Contains(en.Body, want) {
				t.Errorf("English points page lacks %q", want)
			}
		}
	})
}
