package loyalty_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// TestPreview_EqualsWhatTheOrderEarns_L3 previews a basket under rules of every kind
// (multipliers by category and GTIN, a minimum basket, a bonus event's date window, age and
// country eligibility), with a draft version of the base rule, then publishes the draft
// and places the same order for a member of the previewed profile: the order earns exactly
// the previewed points, rule by rule, with the previewed reasons.
func TestPreview_EqualsWhatTheOrderEarns_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		now := e.clock.Now()
		past, future := now.Add(-time.Hour), now.Add(30*24*time.Hour)
		for _, r := range []loyalty.Rule{
			{Programme: e.prog, ID: "toys", Name: loyalty.Text{FR: "Jouets", EN: "Toys"}, PointsPerUnit: 1, MinBasketCents: 2000,
				Multipliers: []loyalty.Multiplier{{Category: "toys", Percent: 300}, {GTIN: gtin13, Percent: 50}}},
			{Programme: e.prog, ID: "adults", Name: loyalty.Text{FR: "Majeurs", EN: "Adults"}, PointsPerUnit: 2, MinAge: 18, Countries: []string{"FR"}},
			{Programme: e.prog, ID: "seniors", Name: loyalty.Text{FR: "Seniors", EN: "Seniors"}, PointsPerUnit: 4, MinAge: 65},
			{Programme: e.prog, ID: "christmas", Name: loyalty.Text{FR: "Noël", EN: "Christmas"}, PointsPerUnit: 5, ValidFrom: &future},
			{Programme: e.prog, ID: "week", Name: loyalty.Text{FR: "Semaine", EN: "Week"}, PointsPerUnit: 1, ValidFrom: &past, ValidUntil: &future},
		} {
			if _, err := e.svc.CreateRule(e.admin, r); err != nil {
				t.Fatalf("CreateRule(%s): %v", r.ID, err)
			}
		}
		id := e.member() // born 1990-04-01, in France
		lines := []loyalty.OrderLine{
			{GTIN: gtin13, Category: "grocery", Quantity: 2, UnitPriceCents: 1250, PromotionCents: 300},
			{GTIN: "5901234123457", Category: "toys", Quantity: 1, UnitPriceCents: 1999},
		}
		birth := time.Date(1990, 4, 1, 0, 0, 0, 0, time.UTC)
		draft := &loyalty.Rule{ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 2}
		pv, err := e.svc.PreviewEarning(e.admin, loyalty.PreviewInput{Programme: e.prog, Draft: draft, Lines: lines, Profile: loyalty.Profile{Country: "FR", BirthDate: &birth}})
		if err != nil {
			t.Fatalf("PreviewEarning: %v", err)
		}
		if pv.Draft == nil || pv.Draft.Version != 2 || !pv.DraftInForce {
			t.Fatalf("preview draft = %+v, in force %v; want base v2 in force", pv.Draft, pv.DraftInForce)
		}
		var ids []string
		for _, o := range pv.Outcomes {
			ids = append(ids, o.Rule.ID)
			if o.Reason.FR == "" || o.Reason.EN == "" {
				t.Errorf("outcome of %s has no reason in both languages: %+v", o.Rule.ID, o.Reason)
			}
		}
		if got := strings.Join(ids, ","); got != "adults,base,christmas,seniors,toys,week" {
			t.Fatalf("preview evaluated %s; want every rule in force", got)
		}
		for _, o := range pv.Outcomes {
			if (o.Rule.ID == "christmas" || o.Rule.ID == "seniors") && (o.Points != 0 || o.Applies) {
				t.Errorf("%s gives %d points in the preview; want 0 (outside its window / not eligible)", o.Rule.ID, o.Points)
			}
		}
		if !strings.Contains(reasonOf(pv, "christmas").EN, "outside the period") || !strings.Contains(reasonOf(pv, "seniors").FR, "65 ans") {
			t.Errorf("reasons for no points: %+v / %+v", reasonOf(pv, "christmas"), reasonOf(pv, "seniors"))
		}
		// Nothing was posted by the preview.
		if v := e.view(id); v.Member.Balance != 0 {
			t.Fatalf("balance after a preview = %d; want 0", v.Member.Balance)
		}
		// Publish the draft as previewed, then order: reality equals the preview.
		if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: draft.ID, Name: draft.Name, PointsPerUnit: draft.PointsPerUnit}); err != nil {
			t.Fatal(err)
		}
		at := e.clock.Now()
		res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "paris-01", Currency: "EUR", Lines: lines, Key: key()})
		if err != nil {
			t.Fatal(err)
		}
		var want []loyalty.Outcome
		for _, o := range pv.Outcomes {
			if o.Points > 0 {
				want = append(want, o)
			}
		}
		if len(res.Transactions) != len(want) {
			t.Fatalf("order produced %d transactions; preview had %d rules with points", len(res.Transactions), len(want))
		}
		var total int64
		for i, tx := range res.Transactions {
			w := want[i]
			if tx.RuleID != w.Rule.ID || tx.RuleVersion != w.Rule.Version || tx.MemberDelta() != w.Points || tx.Reason != w.Reason {
				t.Errorf("transaction %d = %s v%d %d points %q; preview said %s v%d %d points %q", i, tx.RuleID, tx.RuleVersion, tx.MemberDelta(), tx.Reason.EN, w.Rule.ID, w.Rule.Version, w.Points, w.Reason.EN)
			}
			total += tx.MemberDelta()
		}
		if total != pv.Points || e.view(id).Member.Balance != pv.Points {
			t.Errorf("order earned %d points; preview said %d", total, pv.Points)
		}
		// Evaluate is what both use: the same call on the order's own data gives the same.
		_, all, err := e.svc.RuleVersions(e.admin, e.prog)
		if err != nil {
			t.Fatal(err)
		}
		again := loyalty.Evaluate(all, lines, loyalty.Profile{Country: "FR", BirthDate: &birth}, at, "EUR")
		if len(again) != len(pv.Outcomes) {
			t.Errorf("Evaluate at the order time gives %d outcomes; preview %d", len(again), len(pv.Outcomes))
		}
		e.mustVerify()
	})
}

func reasonOf(pv *loyalty.EarningPreview, rule string) loyalty.Text {
	for _, o := range pv.Outcomes {
		if o.Rule.ID == rule {
			return o.Reason
		}
	}
	return loyalty.Text{}
}

// TestPreview_ChecksLinesAndDraftLikeTheRealThing_L3 gives a preview a bad basket and a bad
// draft: every field is named, as an order and CreateRule would name them; a role without
// manage_loyalty is refused.
func TestPreview_ChecksLinesAndDraftLikeTheRealThing_L3(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	_, err := e.svc.PreviewEarning(e.admin, loyalty.PreviewInput{Programme: e.prog,
		Draft: &loyalty.Rule{ID: "Bad Id", Name: loyalty.Text{FR: "x", EN: "x"}, PointsPerUnit: 1},
		Lines: []loyalty.OrderLine{{GTIN: "4006381333932", Category: "grocery", Quantity: 0, UnitPriceCents: 100}}})
	var fields []string
	if fe := fidelis.AsError(err); fe != nil {
		for _, f := range fe.Fields {
			fields = append(fields, f.Field)
		}
	}
	for _, want := range []string{"id", "lines.0.gtin", "lines.0.quantity"} {
		if !slices.Contains(fields, want) {
			t.Errorf("PreviewEarning fields = %v; want %s among them (err %v)", fields, want, err)
		}
	}
	_, err = e.svc.PreviewEarning(as("sam", fidelis.RoleSales), loyalty.PreviewInput{Programme: e.prog, Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1}}})
	if fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
		t.Errorf("preview by sales = %v; want forbidden", err)
	}
	// A draft published now does not apply to an order placed before: the preview says so.
	earlier := e.clock.Now()
	e.clock.Advance(time.Hour)
	pv, err := e.svc.PreviewEarning(e.admin, loyalty.PreviewInput{Programme: e.prog, At: earlier,
		Draft: &loyalty.Rule{ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 9},
		Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if pv.DraftInForce || pv.Points != 10 {
		t.Errorf("preview of an earlier order = %d points, draft in force %v; want 10 points under base v1, draft not in force", pv.Points, pv.DraftInForce)
	}
}

// TestPreviewTerms_IsWhatIsPublished_L2 previews a new version, then publishes it with the
// same input: same number, text, mediator and effective date; the preview counts the
// members to be told and refuses an effective date inside the notice period.
func TestPreviewTerms_IsWhatIsPublished_L2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		e.member()
		e.member()
		in := loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions v2.", EN: "Terms v2."}, Changes: loyalty.Text{FR: "Durée de validité portée à 24 mois.", EN: "Points now valid 24 months."},
			Mediator: mediator, ExpiryMonths: 24, EffectiveAt: e.clock.Now().AddDate(0, 0, 45)}
		tooSoon := in
		tooSoon.EffectiveAt = e.clock.Now().AddDate(0, 0, 10)
		if _, err := e.svc.PreviewTerms(e.admin, e.prog, tooSoon); fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "notice_period" {
			t.Errorf("PreviewTerms 10 days ahead = %v; want notice_period", err)
		}
		pv, err := e.svc.PreviewTerms(e.admin, e.prog, in)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Terms.Version != 2 || pv.Notified != 2 || pv.Previous == nil || pv.Previous.Version != 1 {
			t.Errorf("preview = v%d, %d notified, previous %v; want v2, 2, v1", pv.Terms.Version, pv.Notified, pv.Previous)
		}
		got, err := e.svc.PublishTerms(e.admin, e.prog, in)
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != pv.Terms.Version || got.Text != pv.Terms.Text || got.Changes != pv.Terms.Changes || got.Mediator != pv.Terms.Mediator ||
			!got.EffectiveAt.Equal(pv.Terms.EffectiveAt) || got.ExpiryMonths != pv.Terms.ExpiryMonths {
			t.Errorf("published %+v; preview showed %+v", got, pv.Terms)
		}
	})
}

// TestLaunchProgramme_StartsWithTermsNamingTheMediator_L1_X2 creates a programme with its
// first terms in one step: every missing field of both is reported, and nothing is stored
// until both are valid.
func TestLaunchProgramme_StartsWithTermsNamingTheMediator_L1_X2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		before, err := e.svc.Programmes(e.admin)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = e.svc.LaunchProgramme(e.admin, loyalty.ProgrammeInput{Name: "", Currency: "EUR"},
			loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions.", EN: "Terms."}, Mediator: loyalty.Mediator{Name: "Médiateur", Website: "ftp://x"}})
		var fields []string
		for _, f := range fidelis.AsError(err).Fields {
			fields = append(fields, f.Field)
		}
		for _, want := range []string{"name", "mediator.website", "mediator.address"} {
			if !slices.Contains(fields, want) {
				t.Errorf("LaunchProgramme fields = %v; want %s", fields, want)
			}
		}
		if after, _ := e.svc.Programmes(e.admin); len(after) != len(before) {
			t.Fatalf("a refused launch stored a programme")
		}
		p, terms, err := e.svc.LaunchProgramme(e.admin, loyalty.ProgrammeInput{Name: "Club Lumière", Currency: "EUR", PointValueCents: 2},
			loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions.", EN: "Terms."}, Mediator: mediator, ExpiryMonths: 12})
		if err != nil {
			t.Fatal(err)
		}
		v, err := e.svc.GetProgramme(e.admin, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if terms.Version != 1 || v.Current == nil || v.Current.Mediator != mediator || v.Current.Hash != terms.Hash {
			t.Errorf("launched programme's current terms = %+v; want v1 naming the mediator", v.Current)
		}
	})
}

// TestOutlook_DueNextAndSoon_L4 reports what the expiry job has to do without doing it.
func TestOutlook_DueNextAndSoon_L4(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	id := e.member()
	e.order(id, 1234) // 12 points, expiring in 12 months
	o, err := e.svc.Outlook(e.admin, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if o.DuePoints != 0 || o.Next == nil || o.Next.Points != 12 || o.SoonPoints != 0 {
		t.Fatalf("outlook now = %+v; want 12 points next, none due or soon", o)
	}
	o, err = e.svc.Outlook(e.admin, o.Next.At.AddDate(0, 0, -10))
	if err != nil {
		t.Fatal(err)
	}
	if o.SoonPoints != 12 || o.DuePoints != 0 {
		t.Errorf("outlook 10 days before = %+v; want 12 soon", o)
	}
	o, err = e.svc.Outlook(e.admin, o.Next.At)
	if err != nil {
		t.Fatal(err)
	}
	if o.DuePoints != 12 || o.DueMembers != 1 || o.Next != nil {
		t.Errorf("outlook at the expiry = %+v; want 12 due for 1 member", o)
	}
	if v := e.view(id); v.Member.Balance != 12 {
		t.Errorf("balance after outlooks = %d; want 12 (nothing written)", v.Member.Balance)
	}
}
