package loyalty_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

var silverGold = loyalty.TierScheduleInput{TermsVersion: 1, Metric: loyalty.MetricPointsEarned, PeriodMonths: 12, Tiers: []loyalty.Tier{
	{ID: "silver", Name: loyalty.Text{FR: "Argent", EN: "Silver"}, Threshold: 100},
	{ID: "gold", Name: loyalty.Text{FR: "Or", EN: "Gold"}, Threshold: 1000, MultiplierPercent: 150, Benefits: loyalty.Text{FR: "Points x1,5", EN: "Points x1.5"}},
}}

// TestTiers_UpgradeAtThresholdDowngradeAtReview_L3 publishes a schedule cited in the terms,
// then checks: an upgrade as soon as a purchase reaches a threshold, with a reason the
// member reads in French and English; the gold multiplier's bonus as its own transaction
// citing the tier, taken back exactly by a refund (L-5); the progress to the next tier; no
// downgrade on a refund, and the downgrade at the periodic review once the period no
// longer qualifies (a dry run first, which writes nothing).
func TestTiers_UpgradeAtThresholdDowngradeAtReview_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		bad := silverGold
		bad.TermsVersion = 9
		if _, err := e.svc.PublishTierSchedule(e.admin, e.prog, bad); reason(err) != "terms_unknown" {
			t.Fatalf("PublishTierSchedule(terms v9) = %v; want terms_unknown (L-3: tiers are stated in published terms)", err)
		}
		sch, err := e.svc.PublishTierSchedule(e.admin, e.prog, silverGold)
		if err != nil || sch.Version != 1 || sch.Tiers[0].MultiplierPercent != 100 {
			t.Fatalf("PublishTierSchedule = %+v, %v", sch, err)
		}
		id := e.member()
		if v := e.view(id); v.Tier == nil || v.Tier.Tier != loyalty.BaseTier || v.TierProgress == nil || v.TierProgress.Next.ID != "silver" || v.TierProgress.Missing != 100 {
			t.Fatalf("new member tier = %+v, progress %+v; want base, 100 points to silver", v.Tier, v.TierProgress)
		}
		start := e.clock.Now()
		e.order(id, 15000) // 150 points: silver
		v := e.view(id)
		if v.Tier.Tier != "silver" || len(v.TierHistory) != 1 {
			t.Fatalf("after 150 points: tier %q, history %d; want silver, 1", v.Tier.Tier, len(v.TierHistory))
		}
		c := v.TierHistory[0]
		wantFR := "Argent : 150 points gagnés entre le " + start.AddDate(-1, 0, 0).Format("02/01/2006") + " et le " + start.Format("02/01/2006") + ", seuil 100 (paliers v1, conditions v1)"
		if c.Direction != "upgrade" || c.Reason.FR != wantFR || !strings.HasPrefix(c.Reason.EN, "Silver: 150 points earned between ") || !strings.HasSuffix(c.Reason.EN, ", threshold 100 (tier schedule v1, terms v1)") {
			t.Errorf("upgrade = %s / %q / %q; want upgrade, %q", c.Direction, c.Reason.FR, c.Reason.EN, wantFR)
		}
		if v.TierProgress.Next.ID != "gold" || v.TierProgress.Missing != 850 || v.TierProgress.Value != 150 {
			t.Errorf("progress = %+v; want 850 more to gold", v.TierProgress)
		}
		e.order(id, 90000) // 1050: gold
		if v := e.view(id); v.Tier.Tier != "gold" || len(v.TierHistory) != 2 || !strings.HasPrefix(v.TierHistory[1].Reason.EN, "Gold: 1,050 points earned") || v.TierProgress.Next != nil {
			t.Fatalf("after 1,050 points: tier %q, history %+v, next %+v; want gold, no next tier", v.Tier.Tier, v.TierHistory, v.TierProgress.Next)
		}
		res := e.order(id, 10001) // 100 points, gold bonus 50
		if len(res.Transactions) != 2 || res.Transactions[1].RuleID != "tier:gold" || res.Transactions[1].RuleVersion != 1 || res.Transactions[1].MemberDelta() != 50 {
			t.Fatalf("gold order transactions = %+v; want the base 100 and a tier:gold v1 bonus of 50", res.Transactions)
		}
		if r := res.Transactions[1].Reason.FR; r != "50 points : bonus du palier Or (x1,5) sur 100 points, paliers v1" {
			t.Errorf("bonus reason = %q", r)
		}
		before := e.view(id).Member.Balance
		if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: res.Order.ID, Key: key()}); err != nil {
			t.Fatal(err)
		}
		v = e.view(id)
		if v.Member.Balance != before-150 || v.Tier.Tier != "gold" {
			t.Errorf("after refund: balance %d, tier %q; want %d (base and bonus back), still gold (no downgrade outside the review)", v.Member.Balance, v.Tier.Tier, before-150)
		}
		e.mustVerify()

		// Thirteen months later the period holds nothing: the review downgrades.
		e.clock.Advance(396 * 24 * time.Hour)
		dry, err := e.svc.ReviewTiers(e.admin, e.clock.Now(), true)
		if err != nil || dry.Downgrades != 1 || len(dry.Changes) != 1 {
			t.Fatalf("ReviewTiers(dry) = %+v, %v; want 1 downgrade", dry, err)
		}
		if v := e.view(id); v.Tier.Tier != "gold" {
			t.Fatalf("a dry run changed the tier to %q", v.Tier.Tier)
		}
		rep, err := e.svc.ReviewTiers(e.admin, e.clock.Now(), false)
		if err != nil || rep.Downgrades != 1 || rep.Members != 1 {
			t.Fatalf("ReviewTiers = %+v, %v; want 1 downgrade", rep, err)
		}
		v = e.view(id)
		last := v.TierHistory[len(v.TierHistory)-1]
		if v.Tier.Tier != loyalty.BaseTier || last.Direction != "downgrade" || !strings.HasPrefix(last.Reason.FR, "Aucun palier : 0 point gagné entre le ") ||
			!strings.Contains(last.Reason.EN, "below the 1,000 threshold of Gold (tier schedule v1, terms v1)") {
			t.Errorf("after review: tier %q, change %+v", v.Tier.Tier, last)
		}
		if again, err := e.svc.ReviewTiers(e.admin, e.clock.Now(), false); err != nil || again.Downgrades+again.Upgrades != 0 {
			t.Errorf("second review = %+v, %v; want no change", again, err)
		}
		e.mustVerify()
	})
}

// TestTiers_NotBindingUnderUnacceptedTerms_L2 checks that a schedule stated in terms the
// member has not accepted does not apply to them (silence is not acceptance).
func TestTiers_NotBindingUnderUnacceptedTerms_L2(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	id := e.member()
	if _, err := e.svc.PublishTerms(e.admin, e.prog, loyalty.TermsInput{Text: loyalty.Text{FR: "v2 avec paliers", EN: "v2 with tiers"},
		Changes: loyalty.Text{FR: "Paliers", EN: "Tiers"}, Mediator: mediator, ExpiryMonths: 12}); err != nil {
		t.Fatal(err)
	}
	in := silverGold
	in.TermsVersion = 2
	if _, err := e.svc.PublishTierSchedule(e.admin, e.prog, in); err != nil {
		t.Fatal(err)
	}
	e.order(id, 20000)
	if v := e.view(id); v.Tier.Tier != loyalty.BaseTier || v.TierProgress != nil {
		t.Errorf("member under terms v1: tier %q, progress %+v; want no tier (the schedule is stated in v2 only)", v.Tier.Tier, v.TierProgress)
	}
}

// TestReferral_BonusAfterFirstPurchaseOnce_L5 checks the referral: a random code (nothing
// of the member in it or its link), a bonus for both after the new member's first
// purchase only, refused self- and re-referrals, and the bonuses taken back when that first
// purchase is refunded in full, never earned again.
func TestReferral_BonusAfterFirstPurchaseOnce_L5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		referrer := e.member()
		code := e.view(referrer).ReferralCode
		if code == nil || !regexpMatch(`^PARR-[0-9A-HJKMNP-TV-Z]{8}$`, code.Code) {
			t.Fatalf("referral code = %+v; want PARR- and 8 random characters", code)
		}
		if link := e.svc.ReferralLink(code.Code); link != "/join?ref="+code.Code || strings.Contains(link, string(referrer)) {
			t.Errorf("ReferralLink = %q; want the code as its only content", link)
		}
		join := func(id fidelis.CustomerID, code string) error {
			_, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: id, TermsVersion: 1, Channel: "web", ReferralCode: code, Key: key()})
			return err
		}
		if err := join(e.customer(), code.Code); reason(err) != "referral_not_offered" {
			t.Fatalf("Join with a code and no referral policy = %v; want referral_not_offered", err)
		}
		if _, err := e.svc.PublishReferralPolicy(e.admin, e.prog, loyalty.ReferralPolicyInput{TermsVersion: 1, ReferrerPoints: 200, RefereePoints: 50}); err != nil {
			t.Fatal(err)
		}
		if err := join(e.customer(), "PARR-ZZZZZZZZ"); reason(err) != "referral_code_unknown" {
			t.Errorf("Join with an unknown code = %v; want referral_code_unknown", err)
		}
		// No self-referral: a member who left and rejoins cannot use a code, their own least.
		self := e.member()
		if _, _, err := e.svc.Leave(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: self, Key: key()}); err != nil {
			t.Fatal(err)
		}
		if err := join(self, e.view(self).ReferralCode.Code); reason(err) != "referral_not_new_member" {
			t.Errorf("rejoin with own code = %v; want referral_not_new_member", err)
		}
		newbie := e.customer()
		if err := join(newbie, strings.ToLower(code.Code)); err != nil {
			t.Fatalf("Join with a code: %v", err)
		}
		if v := e.view(newbie); v.ReferredBy == nil || v.ReferredBy.Referrer != referrer || v.ReferredBy.Status != loyalty.ReferralPending {
			t.Fatalf("referee's referral = %+v; want pending from the referrer", v.ReferredBy)
		}
		first := e.order(newbie, 3000) // 30 points + 50 welcome
		if got := e.view(newbie).Member.Balance; got != 80 {
			t.Errorf("referee balance after the first purchase = %d; want 30 + 50", got)
		}
		if got := e.view(referrer).Member.Balance; got != 200 {
			t.Errorf("referrer balance = %d; want the 200 bonus", got)
		}
		hist, err := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, referrer, "", 10)
		if err != nil || hist.History.Items[0].RuleID != loyalty.RuleReferral || !strings.HasPrefix(hist.History.Items[0].Reason.FR, "200 points de parrainage : premier achat d'un membre parrainé") {
			t.Errorf("referrer history = %+v, %v", hist.History.Items, err)
		}
		e.order(newbie, 3000) // a second purchase: no more bonus
		if got := e.view(referrer).Member.Balance; got != 200 {
			t.Errorf("referrer balance after a second purchase = %d; want 200 (once)", got)
		}
		// L-5: the first purchase refunded in full takes both bonuses back; the referrer
		// spent 150 meanwhile, which becomes a debt.
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: referrer, Points: 150, Key: key()}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: first.Order.ID, Key: key()}); err != nil {
			t.Fatal(err)
		}
		if v := e.view(referrer); v.Member.Balance != 0 || v.Member.Debt != 150 {
			t.Errorf("referrer after the refund: balance %d, debt %d; want 0 and 150", v.Member.Balance, v.Member.Debt)
		}
		if v := e.view(newbie); v.Member.Balance != 30 || v.ReferredBy.Status != loyalty.ReferralReversed {
			t.Errorf("referee after the refund: balance %d, status %s; want 30 (second purchase only), reversed", v.Member.Balance, v.ReferredBy.Status)
		}
		e.order(newbie, 3000)
		if v := e.view(referrer); v.Member.Debt != 150 {
			t.Errorf("referrer debt after a later purchase = %d; want 150 (the referral is not earned again)", v.Member.Debt)
		}
		e.mustVerify()
	})
}

func regexpMatch(expr, s string) bool { return regexp.MustCompile(expr).MatchString(s) }

// TestBatch_PerOrderResultsAndIdempotency_L7 sends a till batch mixing valid orders, an
// invalid one, an unknown member, a member who left and a repeated key, then the same
// batch again: per-order results, nothing stored for the failures, replays the second time,
// and a ledger that verifies.
func TestBatch_PerOrderResultsAndIdempotency_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		a, c, gone := e.member(), e.member(), e.member()
		if _, _, err := e.svc.Leave(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: gone, Key: key()}); err != nil {
			t.Fatal(err)
		}
		stranger := e.customer()
		at := e.clock.Now()
		o := func(id fidelis.CustomerID, k string, cents int64, gtin string) loyalty.OrderInput {
			return loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "paris-01", Currency: "EUR", Key: k,
				Lines: []loyalty.OrderLine{{GTIN: gtin, Category: "grocery", Quantity: 2, UnitPriceCents: cents, PromotionCents: 100}}}
		}
		batch := []loyalty.OrderInput{o(a, "b-1", 1000, gtin13), o(c, "b-2", 2000, gtin13), o(a, "b-3", 1000, "4006381333932"),
			o(stranger, "b-4", 1000, gtin13), o(gone, "b-5", 1000, gtin13), o(c, "b-2", 5000, gtin13), o(a, "b-6", 3000, gtin13)}
		want := []string{"created", "created", "error:validation_failed", "error:not_a_member", "error:member_left", "error:idempotency_key_repeated", "created"}
		check := func(round string, res []*loyalty.BatchResult, want []string) {
			t.Helper()
			for i, r := range res {
				got := string(r.Status)
				if r.Err != nil {
					got += ":" + reason(r.Err)
				}
				if got != want[i] || r.Index != i || r.Key != batch[i].Key {
					t.Errorf("%s: result %d = %s (index %d, key %s); want %s", round, i, got, r.Index, r.Key, want[i])
				}
			}
		}
		res, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
		if err != nil {
			t.Fatal(err)
		}
		check("first", res, want)
		if p := res[1].Order.Transactions[0].MemberDelta(); p != 39 {
			t.Errorf("order b-2 earned %d; want 39 (2 x 20.00 - 1.00)", p)
		}
		if v := e.view(a); v.Member.Balance != 19+59 {
			t.Errorf("a's balance = %d; want 19 + 59", v.Member.Balance)
		}
		again, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
		if err != nil {
			t.Fatal(err)
		}
		check("replay", again, []string{"replayed", "replayed", "error:validation_failed", "error:not_a_member", "error:member_left", "error:idempotency_key_repeated", "replayed"})
		if again[0].Order.Order.ID != res[0].Order.Order.ID || len(again[0].Order.Transactions) != 1 {
			t.Errorf("replayed order = %+v; want the first order with its transaction", again[0].Order)
		}
		if v := e.view(a); v.Member.Balance != 19+59 {
			t.Errorf("a's balance after the replay = %d; want unchanged", v.Member.Balance)
		}
		changed := batch[:1:1]
		changed[0].Store = "lyon"
		if r, _ := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, changed); reason(r[0].Err) != "idempotency_key_reused" {
			t.Errorf("same key, other order = %v; want idempotency_key_reused", r[0].Err)
		}
		if _, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, nil); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("empty batch = %v; want EINVALID", err)
		}
		if _, err := e.svc.PlaceOrders(as("sales", fidelis.RoleSales), fidelis.PurposeSales, batch); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("batch by sales = %v; want EFORBIDDEN", err)
		}
		e.mustVerify()
	})
}

// TestBatch_ConcurrentBatchesSharingMembers_L7 sends several batches at once over the same
// members in different orders: every order is recorded once (no deadlock, no lost update),
// each balance is the sum of its orders, and the ledger verifies.
func TestBatch_ConcurrentBatchesSharingMembers_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		var ids []fidelis.CustomerID
		for range 8 {
			ids = append(ids, e.member())
		}
		at := e.clock.Now()
		const batches, per = 4, 40
		var wg sync.WaitGroup
		errs := make(chan string, batches*per)
		for k := range batches {
			wg.Go(func() {
				var batch []loyalty.OrderInput
				for j := range per {
					id := ids[(j*(k+1)+k)%len(ids)] // a different member order in each batch
					batch = append(batch, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "s", Currency: "EUR",
						Key: fmt.Sprintf("cb-%d-%d", k, j), Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: 1000}}})
				}
				res, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
				if err != nil {
					errs <- err.Error()
					return
				}
				for _, r := range res {
					if r.Status != loyalty.BatchCreated {
						errs <- fmt.Sprintf("order %d: %s %v", r.Index, r.Status, r.Err)
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		var total int64
		for _, id := range ids {
			total += e.view(id).Member.Balance
		}
		if total != batches*per*10 {
			t.Errorf("balances sum to %d; want %d", total, batches*per*10)
		}
		e.mustVerify()
	})
}
