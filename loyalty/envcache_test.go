package loyalty_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// TestOrder_EarnsUnderWhatAnotherNodePublished_L3: a node keeps what placing orders reads
// of a programme (terms, rules) between transactions; what another node publishes
// meanwhile (a rule's new version, a rule with an eligibility condition, new terms a
// member accepted) governs the next order this node places, as if nothing were kept.
func TestOrder_EarnsUnderWhatAnotherNodePublished_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		a := e.svc // this node
		// Another node: the same storage, a cache of its own.
		other := &loyalty.Service{Store: a.Store, Registry: a.Registry, Audit: a.Audit, Now: a.Now, Profiles: a.Profiles, Lawfulness: a.Lawfulness, OrderWriters: a.OrderWriters}
		m := e.member() // in France, born 1990
		earned := func(res *loyalty.OrderResult) string {
			var out []string
			for _, t := range res.Transactions {
				out = append(out, t.RuleID+" v"+itoa(t.RuleVersion)+" terms v"+itoa(t.TermsVersion)+": "+itoa(int(t.MemberDelta())))
			}
			return strings.Join(out, ", ")
		}
		check := func(step, want string) {
			t.Helper()
			e.clock.Advance(time.Minute)
			if got := earned(e.order(m, 1000)); got != want {
				t.Errorf("%s: the order earned %q; want %q", step, got, want)
			}
		}
		check("first order", "base v1 terms v1: 10")
		check("nothing published", "base v1 terms v1: 10")

		if _, err := other.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 3}); err != nil {
			t.Fatal(err)
		}
		check("a new version of the rule", "base v2 terms v1: 30")

		// A rule with a condition: this node had decided no order needed a profile.
		if _, err := other.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "locals", Name: loyalty.Text{FR: "Clients de France", EN: "French customers"}, PointsPerUnit: 2, Countries: []string{"FR"}}); err != nil {
			t.Fatal(err)
		}
		check("a rule for French customers", "base v2 terms v1: 30, locals v1 terms v1: 20")

		if _, err := other.PublishTerms(e.admin, e.prog, loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions, version 2.", EN: "Terms, version 2."},
			Changes: loyalty.Text{FR: "Validité portée à 24 mois.", EN: "Validity extended to 24 months."}, Mediator: mediator, ExpiryMonths: 24}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := other.AcceptTerms(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: m, TermsVersion: 2, Channel: "app", Key: key()}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(31 * 24 * time.Hour) // past the notice period
		check("terms v2 in force and accepted", "base v2 terms v2: 30, locals v1 terms v2: 20")
		e.mustVerify()
	})
}
