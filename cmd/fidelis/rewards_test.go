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

// TestLoyaltyTiersReview_CLI_L3 runs `fidelis loyalty tiers review` (dry, then for real)
// and `fidelis loyalty reservations expire` on both backends: the member reached silver by
// a purchase; thirteen months later the review downgrades them with its reason, and an
// unconfirmed reservation is given back; `verify` stays clean.
func TestLoyaltyTiersReview_CLI_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		admin := app.SystemContext(t.Context(), "test", fidelis.RoleAdmin)
		mgr := app.SystemContext(t.Context(), "till", fidelis.RoleLoyaltyManager)
		p, err := a.Loyalty.CreateProgramme(admin, loyalty.ProgrammeInput{Name: "Club", Currency: "EUR", PointValueCents: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.PublishTerms(admin, p.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "v1", EN: "v1"}, ExpiryMonths: 24,
			Mediator: loyalty.Mediator{Name: "Médiateur", Website: "https://mediateur.example", Address: "1 rue de Paris, 75001 Paris"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.CreateRule(admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.PublishTierSchedule(admin, p.ID, loyalty.TierScheduleInput{TermsVersion: 1, Metric: loyalty.MetricPointsEarned, PeriodMonths: 12,
			Tiers: []loyalty.Tier{{ID: "silver", Name: loyalty.Text{FR: "Argent", EN: "Silver"}, Threshold: 10}}}); err != nil {
			t.Fatal(err)
		}
		c, err := a.Customers.Create(mgr, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret("Jules")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.Loyalty.Join(mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: c.ID, TermsVersion: 1, Channel: "store", Key: "j"}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.PlaceOrder(mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: p.ID, Customer: c.ID, OrderedAt: time.Now(), Channel: "store", Store: "s", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "grocery", Quantity: 1, UnitPriceCents: 4200}}, Key: "o"}); err != nil {
			t.Fatal(err)
		}
		rw, err := a.Loyalty.CreateReward(admin, p.ID, loyalty.RewardInput{Kind: loyalty.RewardVoucher, Name: loyalty.Text{FR: "Bon", EN: "Voucher"}, CostPoints: 30})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Loyalty.Reserve(mgr, fidelis.PurposeLoyalty, loyalty.ReserveInput{Programme: p.ID, Customer: c.ID, Reward: rw.ID, Key: "r"}); err != nil {
			t.Fatal(err)
		}
		args := []string{"--data", a.Config.DataDir}
		if a.Config.DBURL != "" {
			args = append(args, "--db", a.Config.DBURL)
		}
		later := time.Now().AddDate(1, 1, 0).UTC().Format(time.RFC3339)
		if r := run(t, append(args, "loyalty", "tiers", "review", "--dry-run", "--now", later)...); r.code != 0 ||
			!strings.Contains(r.stdout, "reviewed (dry run, nothing written) 1 members: 0 upgrades, 1 downgrades") || !strings.Contains(r.stdout, "downgrade\tsilver -> (none)\tNo tier: 0 points earned between") {
			t.Fatalf("tiers review --dry-run = exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		if r := run(t, append(args, "loyalty", "tiers", "review", "--now", later)...); r.code != 0 || !strings.Contains(r.stdout, "reviewed 1 members: 0 upgrades, 1 downgrades") {
			t.Fatalf("tiers review = exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		if r := run(t, append(args, "loyalty", "tiers", "review", "--now", later)...); r.code != 0 || !strings.Contains(r.stdout, "reviewed 1 members: 0 upgrades, 0 downgrades") {
			t.Errorf("tiers review again = exit %d, %q %q; want no change", r.code, r.stdout, r.stderr)
		}
		if r := run(t, append(args, "loyalty", "reservations", "expire", "--now", later)...); r.code != 0 || !strings.Contains(r.stdout, "released 1 expired reservations") {
			t.Errorf("reservations expire = exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
		if r := run(t, append(args, "loyalty", "tiers", "review", "--now", "yesterday")...); r.code == 0 {
			t.Errorf("tiers review --now yesterday = exit 0; want a refusal")
		}
		if r := run(t, append(args, "loyalty", "verify")...); r.code != 0 || !strings.Contains(r.stdout, "reservations: 1") {
			t.Errorf("verify = exit %d, %q %q", r.code, r.stdout, r.stderr)
		}
	})
}
