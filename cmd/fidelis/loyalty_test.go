package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// TestLoyaltyVerify_CLIExitsNamingTheBreak_L6 fills a ledger through the services, checks
// `fidelis loyalty verify` passes, corrupts a posting directly in the database, and checks
// the command exits 3 naming the transaction; `liability` and `expire --dry-run` report on
// the same data. Both backends.
func TestLoyaltyVerify_CLIExitsNamingTheBreak_L6(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		admin := app.SystemContext(t.Context(), "test", fidelis.RoleAdmin)
		mgr := app.SystemContext(t.Context(), "till", fidelis.RoleLoyaltyManager)
		p, err := a.Loyalty.CreateProgramme(admin, loyalty.ProgrammeInput{Name: "Club", Currency: "EUR", PointValueCents: 2})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.PublishTerms(admin, p.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "v1", EN: "v1"}, ExpiryMonths: 12,
			Mediator: loyalty.Mediator{Name: "Médiateur", Website: "https://mediateur.example", Address: "1 rue de Paris, 75001 Paris"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.CreateRule(admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
			t.Fatal(err)
		}
		c, err := a.Customers.Create(mgr, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret("Jules")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Loyalty.Join(mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: c.ID, TermsVersion: 1, Channel: "store", Key: "j"}); err != nil {
			t.Fatal(err)
		}
		o, err := a.Loyalty.PlaceOrder(mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: p.ID, Customer: c.ID, OrderedAt: time.Now(), Channel: "store", Store: "s", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "grocery", Quantity: 1, UnitPriceCents: 4200}}, Key: "o"})
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"--data", a.Config.DataDir}
		if a.Config.DBURL != "" {
			args = append(args, "--db", a.Config.DBURL)
		}
		if r := run(t, append(args, "loyalty", "verify")...); r.code != 0 || !strings.Contains(r.stdout, "loyalty ledger OK") || !strings.Contains(r.stdout, "transactions: 1, members: 1, lots: 1") {
			t.Fatalf("loyalty verify = exit %d, %q %q; want 0 and OK", r.code, r.stdout, r.stderr)
		}
		today := time.Now().UTC().Format(time.DateOnly)
		if r := run(t, append(args, "loyalty", "liability", "--at", today)...); r.code != 0 || !strings.Contains(r.stdout, "42 points\t0.84 EUR") {
			t.Errorf("loyalty liability = exit %d, %q %q; want 42 points worth 0.84 EUR", r.code, r.stdout, r.stderr)
		}
		if r := run(t, append(args, "loyalty", "liability", "--at", "2020-01-01")...); r.code != 0 || !strings.Contains(r.stdout, "0 points") {
			t.Errorf("loyalty liability before the programme = exit %d, %q; want 0 points", r.code, r.stdout)
		}
		if r := run(t, append(args, "loyalty", "expire", "--dry-run", "--now", time.Now().AddDate(1, 0, 2).UTC().Format(time.RFC3339))...); r.code != 0 || !strings.Contains(r.stdout, "would expire (dry run, nothing written) 42 points in 1 transactions") {
			t.Errorf("loyalty expire --dry-run = exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		raw := fidelistest.MustRawDB(t, a)
		fidelistest.MustExec(t, raw, "UPDATE loyalty_postings SET amount = 41 WHERE tx_id = '"+o.Transactions[0].ID+"' AND account = 'member'")
		r := run(t, append(args, "loyalty", "verify")...)
		if r.code != 3 || !strings.Contains(r.stdout, "PROBLEM: "+p.ID+" balanced "+o.Transactions[0].ID+": postings sum to -1, not 0") || !strings.Contains(r.stderr, "loyalty ledger verification FAILED") {
			t.Fatalf("loyalty verify after corruption = exit %d, stdout %q, stderr %q; want exit 3 naming the transaction", r.code, r.stdout, r.stderr)
		}
	})
}
