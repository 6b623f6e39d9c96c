package loyalty_test

import (
	"crypto/sha256"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

func reason(err error) string {
	if e := fidelis.AsError(err); e != nil {
		return e.Reason
	}
	return ""
}

// TestTerms_JoinAcceptsOneVersionWithProof_L1 checks that joining names a published
// version and stores the proof: version, SHA-256 hash, time and channel.
func TestTerms_JoinAcceptsOneVersionWithProof_L1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.customer()
		in := loyalty.MembershipInput{Programme: e.prog, Customer: id, TermsVersion: 2, Channel: "web", Key: key()}
		if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, in); reason(err) != "terms_unknown" {
			t.Fatalf("Join(version 2, unpublished) = %v; want terms_unknown", err)
		}
		in.TermsVersion, in.Channel = 1, "telepathy"
		if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, in); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Fatalf("Join(bad channel) = %v; want EINVALID", err)
		}
		in.Channel = "web"
		v, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, in)
		if err != nil {
			t.Fatalf("Join: %v", err)
		}
		pv, err := e.svc.GetProgramme(e.mgr, e.prog)
		if err != nil {
			t.Fatal(err)
		}
		terms := pv.Terms[0]
		if len(v.Acceptances) != 1 {
			t.Fatalf("acceptances = %d; want 1", len(v.Acceptances))
		}
		a := v.Acceptances[0]
		if a.TermsVersion != 1 || a.TermsHash != terms.Hash || a.Channel != "web" || a.AcceptedAt.IsZero() {
			t.Errorf("proof = %+v; want version 1, hash %s, channel web, a time", a, terms.Hash)
		}
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(terms.Hash) {
			t.Errorf("terms hash %q is not a SHA-256", terms.Hash)
		}
		// The hash covers the text: recomputing it over other text gives another hash.
		h := sha256.Sum256([]byte(terms.Text.FR))
		if terms.Hash == string(h[:]) {
			t.Error("hash is of the French text alone")
		}
		if v.Applicable == nil || v.Applicable.Mediator.Name == "" || v.Applicable.Mediator.Website == "" || v.Applicable.Mediator.Address == "" {
			t.Errorf("member view terms = %+v; want the mediator's name, website and address (X-2)", v.Applicable)
		}
	})
}

// TestTerms_MediatorRequired_X2 refuses terms without the mediator's name, website and
// postal address.
func TestTerms_MediatorRequired_X2(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	_, err := e.svc.PublishTerms(e.admin, e.prog, loyalty.TermsInput{Text: loyalty.Text{FR: "x", EN: "x"}, Changes: loyalty.Text{FR: "y", EN: "y"}, Mediator: loyalty.Mediator{Website: "ftp://x"}})
	fe := fidelis.AsError(err)
	if fe == nil || fe.Code != fidelis.EINVALID {
		t.Fatalf("PublishTerms without mediator = %v; want EINVALID", err)
	}
	var fields []string
	for _, f := range fe.Fields {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, ","); got != "mediator.address,mediator.name,mediator.website" {
		t.Errorf("fields = %s; want mediator.address,mediator.name,mediator.website", got)
	}
}

// TestTerms_ChangeNeedsNoticeAndAcceptance_L2 publishes new terms: an effective date inside
// the notice period is refused; each member gets a notice event; a member who does not
// accept stays under the version they accepted (silence is not acceptance) and is shown a
// pending version; a member who accepts moves to it on its effective date; a member may
// leave and keeps their points.
func TestTerms_ChangeNeedsNoticeAndAcceptance_L2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		silent, accepting, leaving := e.member(), e.member(), e.member()
		e.order(leaving, 5000)
		v2 := loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions v2", EN: "Terms v2"}, Changes: loyalty.Text{FR: "Validité 24 mois", EN: "Valid 24 months"}, Mediator: mediator, ExpiryMonths: 24}
		v2.EffectiveAt = e.clock.Now().AddDate(0, 0, 29)
		if _, err := e.svc.PublishTerms(e.admin, e.prog, v2); reason(err) != "notice_period" {
			t.Fatalf("PublishTerms(effective in 29 days) = %v; want notice_period", err)
		}
		noChanges := v2
		noChanges.Changes = loyalty.Text{}
		noChanges.EffectiveAt = time.Time{}
		if _, err := e.svc.PublishTerms(e.admin, e.prog, noChanges); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Fatalf("PublishTerms(no summary of changes) = %v; want EINVALID", err)
		}
		v2.EffectiveAt = time.Time{} // the earliest allowed
		published := e.clock.Now()
		terms, err := e.svc.PublishTerms(e.admin, e.prog, v2)
		if err != nil {
			t.Fatalf("PublishTerms: %v", err)
		}
		if terms.Version != 2 || terms.EffectiveAt.Before(published.AddDate(0, 0, 30)) {
			t.Fatalf("v2 = version %d effective %s; want version 2, at least 30 days after %s", terms.Version, terms.EffectiveAt, published)
		}
		// One notice per member, IDs only.
		raw := fidelistest.MustRawDB(t, e.a)
		rows, err := raw.Query(`SELECT subject, payload FROM outbox WHERE type = 'loyalty.terms_change_notice' ORDER BY subject`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var subject, payload string
			if err := rows.Scan(&subject, &payload); err != nil {
				t.Fatal(err)
			}
			n++
			var p map[string]any
			json.Unmarshal([]byte(payload), &p)
			data := p["data"].(map[string]any)
			if data["customer_id"] != subject || data["programme_id"] != e.prog || data["version"] != float64(2) {
				t.Errorf("notice payload = %s", payload)
			}
		}
		rows.Close()
		if n != 3 {
			t.Errorf("terms change notices = %d; want one per member (3)", n)
		}
		if _, _, err := e.svc.AcceptTerms(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: accepting, TermsVersion: 2, Channel: "app", Key: key()}); err != nil {
			t.Fatalf("AcceptTerms: %v", err)
		}
		if _, _, err := e.svc.Leave(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: leaving, Key: key()}); err != nil {
			t.Fatalf("Leave: %v", err)
		}
		// Before v2 takes effect, everyone is under v1.
		for _, id := range []fidelis.CustomerID{silent, accepting} {
			if v := e.view(id); v.Applicable.Version != 1 {
				t.Errorf("before the effective date, %s is under version %d; want 1", id, v.Applicable.Version)
			}
		}
		e.clock.Advance(31 * 24 * time.Hour)
		s, a := e.view(silent), e.view(accepting)
		if s.Applicable.Version != 1 || s.Pending == nil || s.Pending.Version != 2 {
			t.Errorf("silent member: applicable %d, pending %v; want 1 and pending 2 (silence is not acceptance)", s.Applicable.Version, s.Pending)
		}
		if a.Applicable.Version != 2 || a.Pending != nil {
			t.Errorf("accepting member: applicable %d, pending %v; want 2, none", a.Applicable.Version, a.Pending)
		}
		// Earnings cite the terms that apply to each member, and expire by them.
		rs, ra := e.order(silent, 1000).Transactions[0], e.order(accepting, 1000).Transactions[0]
		if rs.TermsVersion != 1 || ra.TermsVersion != 2 {
			t.Errorf("earnings cite terms v%d (silent) and v%d (accepting); want 1 and 2", rs.TermsVersion, ra.TermsVersion)
		}
		if exp := e.view(accepting).Lots[0].ExpiresAt; exp == nil || !exp.Equal(fidelis.UTC(ra.At.AddDate(0, 24, 0))) {
			t.Errorf("accepting member's lot expires %v; want 24 months after %s", exp, ra.At)
		}
		// The member who left keeps their 50 points and may still spend them, but earns no more.
		l := e.view(leaving)
		if l.Member.Active() || l.Member.Balance != 50 {
			t.Errorf("after leaving: active %v, balance %d; want inactive with 50 points", l.Member.Active(), l.Member.Balance)
		}
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: leaving, Points: 50, Key: key()}); err != nil {
			t.Errorf("redeeming kept points after leaving: %v", err)
		}
		_, err = e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: leaving, OrderedAt: e.clock.Now(), Channel: "store", Store: "s", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: 1000}}, Key: key()})
		if reason(err) != "member_left" {
			t.Errorf("order after leaving = %v; want member_left", err)
		}
		e.mustVerify()
	})
}

// TestOrder_EarnsByVersionedRuleWithReason_L3 earns under a rule with a category
// multiplier, a minimum basket, a date window and an eligibility condition, and checks the
// cited rule version and the French and English reason.
func TestOrder_EarnsByVersionedRuleWithReason_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		res := e.order(id, 1234)
		tx := res.Transactions[0]
		if tx.RuleID != "base" || tx.RuleVersion != 1 || tx.TermsVersion != 1 || tx.MemberDelta() != 12 {
			t.Fatalf("earning = rule %s v%d, terms v%d, %d points; want base v1, terms v1, 12 points", tx.RuleID, tx.RuleVersion, tx.TermsVersion, tx.MemberDelta())
		}
		if tx.Reason.FR != "12 points : 1 point par EUR sur 12,34 EUR, règle « base » v1" || tx.Reason.EN != `12 points: 1 point per EUR on 12.34 EUR, rule "base" v1` {
			t.Errorf("reason = %q / %q", tx.Reason.FR, tx.Reason.EN)
		}
		// Version 2: double points on wine, a 20 EUR minimum, French members only, 18+.
		if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1,
			Multipliers: []loyalty.Multiplier{{Category: "wine", Percent: 200}}, MinBasketCents: 2000, Countries: []string{"FR"}, MinAge: 18}); err != nil {
			t.Fatalf("CreateRule v2: %v", err)
		}
		if got := e.order(id, 1500); len(got.Transactions) != 0 {
			t.Errorf("a 15 EUR basket under a 20 EUR minimum earned %v", got.Transactions)
		}
		res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: e.clock.Now(), Channel: "web", Store: "web", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "wine", Quantity: 2, UnitPriceCents: 1000, PromotionCents: 200}, {GTIN: "96385074", Category: "grocery", Quantity: 1, UnitPriceCents: 500}}, Key: key()})
		if err != nil {
			t.Fatal(err)
		}
		// wine: 18 EUR net x 2 = 36; grocery 5 = 5 → 41.
		if tx := res.Transactions[0]; tx.MemberDelta() != 41 || tx.RuleVersion != 2 || !strings.Contains(tx.Reason.EN, "with multipliers") {
			t.Errorf("v2 earning = %d points, rule v%d, reason %q; want 41, v2, with multipliers", tx.MemberDelta(), tx.RuleVersion, tx.Reason.EN)
		}
		// Invalid GTIN check digit.
		_, err = e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: e.clock.Now(), Channel: "web", Store: "web", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: "4006381333932", Category: "wine", Quantity: 1, UnitPriceCents: 1000}}, Key: key()})
		if fe := fidelis.AsError(err); fe == nil || len(fe.Fields) != 1 || fe.Fields[0].Rule != "invalid_gtin" {
			t.Errorf("bad GTIN = %v; want invalid_gtin", err)
		}
	})
}

// TestValidGTIN_L3 checks GTIN check digits.
func TestValidGTIN_L3(t *testing.T) {
	for s, want := range map[string]bool{"4006381333931": true, "4006381333932": false, "96385074": true, "036000291452": true, "10614141000415": true,
		"0": false, "400638133393a": false, "": false} {
		if got := loyalty.ValidGTIN(s); got != want {
			t.Errorf("ValidGTIN(%q) = %v; want %v", s, got, want)
		}
	}
}

// TestRefund_ReversesExactlyWhatWasEarned_L5 refunds part of an order, then the rest, and
// checks the points taken back are exactly those the refunded part earned; a refund after
// the points were spent leaves a debt, never a negative balance, and the next earnings
// settle it (no buy-earn-refund loop).
func TestRefund_ReversesExactlyWhatWasEarned_L5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1, MinBasketCents: 1000}); err != nil {
			t.Fatal(err)
		}
		o, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: e.clock.Now(), Channel: "store", Store: "s", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "a", Quantity: 3, UnitPriceCents: 999}, {GTIN: gtin13, Category: "b", Quantity: 1, UnitPriceCents: 1550}}, Key: key()})
		if err != nil {
			t.Fatal(err)
		}
		if got := o.Transactions[0].MemberDelta(); got != 45 { // 29.97 + 15.50 = 45.47 EUR
			t.Fatalf("earned %d; want 45", got)
		}
		r, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.Order.ID, Lines: []loyalty.RefundLine{{Line: 0, Quantity: 1}}, Key: key()})
		if err != nil {
			t.Fatal(err)
		}
		// Kept: 19.98 + 15.50 = 35.48 → 35; 45 - 35 = 10 taken back.
		if len(r.Transactions) != 1 || r.Transactions[0].MemberDelta() != -10 || r.Transactions[0].Kind != loyalty.KindReverse || r.Transactions[0].RuleVersion != 2 {
			t.Fatalf("partial refund = %+v; want one reversal of 10 points citing rule v2", r.Transactions)
		}
		// Spend 30 of the 35 left.
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: id, Points: 30, Key: key()}); err != nil {
			t.Fatal(err)
		}
		// Refunding 2 units of line 0 takes the basket to 15.50 ≥ 10: keeps 15, takes back 20.
		r, err = e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.Order.ID, Lines: []loyalty.RefundLine{{Line: 0, Quantity: 2}}, Key: key()})
		if err != nil {
			t.Fatal(err)
		}
		v := e.view(id)
		if got := r.Transactions[0].MemberDelta(); got != -5 || v.Member.Balance != 0 || v.Member.Debt != 15 {
			t.Fatalf("refund after spending: member -%d, balance %d, debt %d; want -5 (all that was left), 0, debt 15", -got, v.Member.Balance, v.Member.Debt)
		}
		if !strings.Contains(r.Transactions[0].Reason.FR, "dette") || !strings.Contains(r.Transactions[0].Reason.EN, "debt") {
			t.Errorf("reason = %+v; want the debt explained", r.Transactions[0].Reason)
		}
		// The whole rest: basket 0 < minimum, the last 15 come back (all as debt).
		if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.Order.ID, Key: key()}); err != nil {
			t.Fatal(err)
		}
		if v := e.view(id); v.Member.Balance != 0 || v.Member.Debt != 30 {
			t.Fatalf("after the full refund: balance %d, debt %d; want 0, 30", v.Member.Balance, v.Member.Debt)
		}
		if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.Order.ID, Key: key()}); reason(err) != "already_refunded" {
			t.Errorf("refunding twice = %v; want already_refunded", err)
		}
		// Next earnings settle the debt first.
		e.order(id, 4000)
		if v := e.view(id); v.Member.Balance != 10 || v.Member.Debt != 0 {
			t.Fatalf("after earning 40 with a debt of 30: balance %d, debt %d; want 10, 0", v.Member.Balance, v.Member.Debt)
		}
		e.mustVerify()
	})
}

// TestExpire_FIFOWithNoticeAndNextExpiry_L4 earns lots at different dates, checks the next
// expiry shown, the advance notice (once, with amount and date), the dry run, and that
// expiry takes the oldest lots.
func TestExpire_FIFOWithNoticeAndNextExpiry_L4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		first := e.order(id, 10000).Transactions[0] // 100 points, expire in 12 months
		e.clock.Advance(60 * 24 * time.Hour)
		e.order(id, 5000) // 50 points, 2 months later
		v := e.view(id)
		if v.NextExpiry == nil || v.NextExpiry.Points != 100 || !v.NextExpiry.At.Equal(fidelis.UTC(first.At.AddDate(1, 0, 0))) {
			t.Fatalf("next expiry = %+v; want 100 points on %s", v.NextExpiry, first.At.AddDate(1, 0, 0))
		}
		// Spend 30: from the oldest lot.
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: id, Points: 30, Key: key()}); err != nil {
			t.Fatal(err)
		}
		// 20 days before the first expiry: a notice of 70 points, once.
		e.clock.Advance(fidelis.UTC(first.At.AddDate(1, 0, 0)).Sub(e.clock.Now()) - 20*24*time.Hour)
		now := e.clock.Now()
		dry, err := e.svc.Expire(e.admin, now, true)
		if err != nil || dry.Notices != 1 || dry.Transactions != 0 {
			t.Fatalf("dry run = %+v, %v; want 1 notice, nothing expired", dry, err)
		}
		r1, err := e.svc.Expire(e.admin, now, false)
		if err != nil || r1.Notices != 1 {
			t.Fatalf("Expire = %+v, %v; want 1 notice", r1, err)
		}
		r2, err := e.svc.Expire(e.admin, e.clock.Now(), false)
		if err != nil || r2.Notices != 0 {
			t.Fatalf("second Expire = %+v, %v; want no notice again", r2, err)
		}
		var payload string
		if err := fidelistest.MustRawDB(t, e.a).QueryRow(`SELECT payload FROM outbox WHERE type = 'loyalty.expiry_notice'`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(payload, `"points":70`) || !strings.Contains(payload, `"expires_at":"`+fidelis.UTC(first.At.AddDate(1, 0, 0)).Format(time.RFC3339Nano)) {
			t.Errorf("notice payload = %s; want 70 points and the date", payload)
		}
		// Past the first expiry: the 70 left of the first lot expire, the 50 stay.
		e.clock.Advance(21 * 24 * time.Hour)
		dry, _ = e.svc.Expire(e.admin, e.clock.Now(), true)
		if dry.Points != 70 || e.view(id).Member.Balance != 120 {
			t.Fatalf("dry run = %+v, balance %d; want 70 points reported and nothing written (120)", dry, e.view(id).Member.Balance)
		}
		r, err := e.svc.Expire(e.admin, e.clock.Now(), false)
		if err != nil || r.Points != 70 || r.Transactions != 1 {
			t.Fatalf("Expire = %+v, %v; want 70 points in 1 transaction", r, err)
		}
		v = e.view(id)
		if v.Member.Balance != 50 || len(v.Lots) != 1 || v.Lots[0].Remaining != 50 {
			t.Fatalf("after expiry: balance %d, lots %d; want 50 in the second lot", v.Member.Balance, len(v.Lots))
		}
		page, _ := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, id, "", 1)
		if h := page.History.Items[0]; h.Kind != loyalty.KindExpire || !strings.Contains(h.Reason.FR, "70 points expirés") || h.TermsVersion != 1 {
			t.Errorf("last history entry = %s %q v%d; want the expiry with its reason and terms", h.Kind, h.Reason.FR, h.TermsVersion)
		}
		e.mustVerify()
	})
}

// TestLiability_AtAnyDate_L6 reports outstanding points and value at past dates.
func TestLiability_AtAnyDate_L6(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		a, c := e.member(), e.member()
		t0 := e.clock.Now()
		e.order(a, 10000)
		e.order(c, 2500)
		t1 := e.clock.Now()
		e.clock.Advance(48 * time.Hour)
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: a, Points: 40, Key: key()}); err != nil {
			t.Fatal(err)
		}
		t2 := e.clock.Now()
		for _, tt := range []struct {
			at   time.Time
			want int64
		}{{t0, 0}, {t1, 125}, {t2, 85}} {
			l, err := e.svc.Liability(e.admin, e.prog, tt.at)
			if err != nil || l.Points != tt.want || l.ValueCents != tt.want*1 {
				t.Errorf("Liability(%s) = %+v, %v; want %d points worth %d cents", tt.at, l, err, tt.want, tt.want)
			}
		}
		if _, err := e.svc.Liability(e.mgr, e.prog, t2); err != nil {
			t.Errorf("loyalty_manager liability: %v", err)
		}
		if _, err := e.svc.Liability(as("x", fidelis.RoleSales), e.prog, t2); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("sales liability = %v; want EFORBIDDEN", err)
		}
	})
}

// TestMemberOperations_AuditedWithoutValues_P4 checks member operations leave audit
// entries naming the member and the action, under purpose loyalty, with no values.
func TestMemberOperations_AuditedWithoutValues_P4(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	id := e.member()
	e.order(id, 1000)
	if _, err := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, id, "", 0); err != nil {
		t.Fatal(err)
	}
	rows, err := fidelistest.MustRawDB(t, e.a).Query(`SELECT action, purpose, fields FROM audit_entries WHERE subject = '` + string(id) + `' AND action LIKE 'loyalty.%' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var action, purpose, fields string
		rows.Scan(&action, &purpose, &fields)
		got = append(got, action+"/"+purpose+"/"+fields)
	}
	if want := "loyalty.join/loyalty/,loyalty.order/loyalty/,loyalty.read/loyalty/"; strings.Join(got, ",") != want {
		t.Errorf("audit entries = %v; want %s", got, want)
	}
	// Another purpose is refused, and the refusal is audited.
	if _, err := e.svc.Member(e.mgr, fidelis.PurposeCustomerService, id, "", 0); reason(err) != "action_not_covered" {
		t.Errorf("member view under customer_service = %v; want action_not_covered", err)
	}
}

// TestOrder_EligibilityAndDateWindow_L3 checks a rule's conditions are enforced exactly:
// a member without a birth date is not eligible to an age-restricted rule, a member of
// another country is not eligible to a country-restricted one, and a rule earns only within
// its date window.
func TestOrder_EligibilityAndDateWindow_L3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		now := e.clock.Now()
		until := now.Add(24 * time.Hour)
		for _, r := range []loyalty.Rule{
			{Programme: e.prog, ID: "adults", Name: loyalty.Text{FR: "Majeurs", EN: "Adults"}, PointsPerUnit: 2, MinAge: 18},
			{Programme: e.prog, ID: "belgium", Name: loyalty.Text{FR: "Belgique", EN: "Belgium"}, PointsPerUnit: 3, Countries: []string{"BE"}},
			{Programme: e.prog, ID: "week", Name: loyalty.Text{FR: "Semaine", EN: "Week"}, PointsPerUnit: 5, ValidUntil: &until},
		} {
			if _, err := e.svc.CreateRule(e.admin, r); err != nil {
				t.Fatalf("CreateRule(%s): %v", r.ID, err)
			}
		}
		// A customer who gave neither birth date nor country.
		c, err := e.a.Customers.Create(e.mgr, fidelis.PurposeLoyalty, customerInput("Noé"))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: c.ID, TermsVersion: 1, Channel: "store", Key: key()}); err != nil {
			t.Fatal(err)
		}
		rules := func(res *loyalty.OrderResult) string {
			var ids []string
			for _, t := range res.Transactions {
				ids = append(ids, t.RuleID)
			}
			return strings.Join(ids, ",")
		}
		if got := rules(e.order(c.ID, 1000)); got != "base,week" {
			t.Errorf("member without birth date or country earned under %q; want base,week", got)
		}
		adult := e.member() // born 1990, in France
		if got := rules(e.order(adult, 1000)); got != "adults,base,week" {
			t.Errorf("French adult earned under %q; want adults,base,week", got)
		}
		e.clock.Advance(48 * time.Hour)
		if got := rules(e.order(adult, 1000)); got != "adults,base" {
			t.Errorf("after the window, earned under %q; want adults,base", got)
		}
		e.mustVerify()
	})
}

// TestOrder_LateOrderEarnsUnderRulesOfItsDate_L3 reports an order after the rule changed:
// it earns under the version in force when it was placed.
func TestOrder_LateOrderEarnsUnderRulesOfItsDate_L3(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	id := e.member()
	placed := e.clock.Now()
	e.clock.Advance(time.Hour)
	if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 10}); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: placed, Channel: "store", Store: "s", Currency: "EUR",
		Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: 1000}}, Key: key()})
	if err != nil {
		t.Fatal(err)
	}
	if tx := res.Transactions[0]; tx.RuleVersion != 1 || tx.MemberDelta() != 10 {
		t.Errorf("late order earned %d under v%d; want 10 under v1 (in force when placed)", tx.MemberDelta(), tx.RuleVersion)
	}
	if tx := e.order(id, 1000).Transactions[0]; tx.RuleVersion != 2 || tx.MemberDelta() != 100 {
		t.Errorf("new order earned %d under v%d; want 100 under v2", tx.MemberDelta(), tx.RuleVersion)
	}
}

// TestLoyalty_NoPersonalValuesInRowsOrEvents_D5 runs a member through every loyalty
// operation, with eligibility rules that read their country and birth date, and checks no
// personal value reaches the loyalty tables, the outbox or the audit log.
func TestLoyalty_NoPersonalValuesInRowsOrEvents_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		if _, err := e.svc.CreateRule(e.admin, loyalty.Rule{Programme: e.prog, ID: "adults", Name: loyalty.Text{FR: "Majeurs", EN: "Adults"}, PointsPerUnit: 1, MinAge: 18, Countries: []string{"LU"}}); err != nil {
			t.Fatal(err)
		}
		canaries := []string{"Zéphyrine-Canari", "zephyrine.canari@example.org", "1977-07-17", "Canariville"}
		c, err := e.a.Customers.Create(e.mgr, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName: fidelis.NewSecret(canaries[0]), fidelis.FieldEmail: fidelis.NewSecret(canaries[1]),
			fidelis.FieldBirthDate: fidelis.NewSecret(canaries[2]), fidelis.FieldCity: fidelis.NewSecret(canaries[3]), fidelis.FieldCountry: fidelis.NewSecret("LU")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: e.prog, Customer: c.ID, TermsVersion: 1, Channel: "web", Key: key()}); err != nil {
			t.Fatal(err)
		}
		o := e.order(c.ID, 5000)
		if len(o.Transactions) != 2 {
			t.Fatalf("order earned under %d rules; want base and adults (eligible: LU, born 1977)", len(o.Transactions))
		}
		if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.Order.ID, Key: key()}); err != nil {
			t.Fatal(err)
		}
		e.order(c.ID, 3000)
		if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: c.ID, Points: 10, Key: key()}); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(370 * 24 * time.Hour)
		if _, err := e.svc.Expire(e.admin, e.clock.Now(), false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, c.ID, "", 0); err != nil {
			t.Fatal(err)
		}
		raw := fidelistest.MustRawDB(t, e.a)
		for _, table := range []string{"loyalty_programmes", "loyalty_terms", "loyalty_members", "loyalty_acceptances", "loyalty_rules", "loyalty_transactions",
			"loyalty_postings", "loyalty_lots", "loyalty_orders", "loyalty_idempotency", "outbox", "audit_entries"} {
			rows, err := raw.Query("SELECT * FROM " + table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			n := 0
			for rows.Next() {
				n++
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					var s string
					switch x := v.(type) {
					case string:
						s = x
					case []byte:
						s = string(x)
					default:
						continue
					}
					for _, c := range canaries {
						if strings.Contains(strings.ToLower(s), strings.ToLower(c)) {
							t.Errorf("%s.%s holds a personal value", table, cols[i])
						}
					}
				}
			}
			rows.Close()
			if n == 0 && table != "loyalty_programmes" {
				t.Errorf("table %s is empty: the test did not exercise it", table)
			}
		}
	})
}
