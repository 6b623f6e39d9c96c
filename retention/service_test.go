package retention_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/retention"
)

// clock is a test clock that moves 1ms at every reading (so IDs sort in order) and jumps
// forward on demand: retention is tested over years without sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var t0 = time.Date(2020, time.January, 15, 10, 0, 0, 0, time.UTC)

func as(job string, role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), job, role)
}

var (
	dpo     = as("dpo", fidelis.RoleDPO)
	support = as("support", fidelis.RoleSupport)
	sales   = as("sales", fidelis.RoleSales)
)

type env struct {
	t     *testing.T
	a     *app.App
	clock *clock
	smtp  *fidelistest.SMTPServer
}

// newEnv opens an installation at t0 with a real SMTP server (no scheduled run: the test
// runs retention itself).
func newEnv(t *testing.T, b fidelistest.Backend, withMail bool) *env {
	t.Helper()
	e := &env{t: t, clock: &clock{t: t0}}
	if withMail {
		e.smtp = fidelistest.MustSMTPServer(t)
	}
	e.a = fidelistest.MustApp(t, b, fidelistest.Options{Now: e.clock.Now, Mutate: func(c *app.Config) {
		c.RetentionInterval = -1
		if withMail {
			c.SMTP = mailer.Config{Host: e.smtp.Host, Port: e.smtp.Port, TLS: mailer.TLSNone, From: "Boutique Dupont <no-reply@dupont.example>"}
		}
	}})
	return e
}

func (e *env) create(ctx context.Context, p fidelis.Purpose, fields map[fidelis.Field]string) fidelis.CustomerID {
	e.t.Helper()
	set := map[fidelis.Field]fidelis.Secret{}
	for f, v := range fields {
		set[f] = fidelis.NewSecret(v)
	}
	c, err := e.a.Customers.Create(ctx, p, customer.Input{Set: set})
	if err != nil {
		e.t.Fatalf("create customer: %v", err)
	}
	return c.ID
}

func (e *env) run(dry bool) *retention.Report {
	e.t.Helper()
	var r *retention.Report
	var err error
	if dry {
		r, err = e.a.Retention.Report(dpo, nil)
	} else {
		r, err = e.a.Retention.Run(dpo, nil)
	}
	if err != nil {
		e.t.Fatalf("retention run (dry %v): %v", dry, err)
	}
	return r
}

func line(r *retention.Report, id fidelis.CustomerID) retention.Decision {
	for _, d := range r.Lines {
		if d.CustomerID == id {
			return d
		}
	}
	return retention.Decision{CustomerID: id, Action: retention.ActionNone}
}

func (e *env) exists(id fidelis.CustomerID) bool {
	e.t.Helper()
	_, err := e.a.Customers.Get(dpo, fidelis.PurposeDataProtection, id)
	if err != nil && fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		e.t.Fatalf("Get(%s): %v", id, err)
	}
	return err == nil
}

func code(t *testing.T, what string, err error, want fidelis.Code, reason string) {
	t.Helper()
	e := fidelis.AsError(err)
	if fidelis.ErrorCode(err) != want || (reason != "" && (e == nil || e.Reason != reason)) {
		t.Errorf("%s = %v; want code %s, reason %q", what, err, want, reason)
	}
}

// TestRetention_ProspectAskedOnceThenErased_T1_T7: a prospect is asked once, by a real
// e-mail in their language, 30 days before the end of the 3 years; erased after the grace
// period; a click restarts another prospect's clock; an e-mail open is refused.
func TestRetention_ProspectAskedOnceThenErased_T1_T7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, true)
		quiet := e.create(sales, fidelis.PurposeSales, map[fidelis.Field]string{fidelis.FieldGivenName: "Inès", fidelis.FieldEmail: "ines.prospect@example.fr", fidelis.FieldLocale: "fr"})
		clicker := e.create(sales, fidelis.PurposeSales, map[fidelis.Field]string{fidelis.FieldGivenName: "Tom", fidelis.FieldEmail: "tom.prospect@example.com", fidelis.FieldLocale: "en"})
		mute := e.create(sales, fidelis.PurposeSales, map[fidelis.Field]string{fidelis.FieldGivenName: "Noé", fidelis.FieldPhone: "06 12 34 56 78"})

		e.clock.Set(t0.AddDate(1, 0, 0))
		res, err := e.a.Retention.RecordActivity(sales, fidelis.PurposeSales, clicker, retention.KindClick, time.Time{})
		if err != nil || !res.ClockRestarted {
			t.Fatalf("RecordActivity(click) = %+v, %v; want the clock restarted", res, err)
		}
		_, err = e.a.Retention.RecordActivity(sales, fidelis.PurposeSales, quiet, retention.KindEmailOpen, time.Time{})
		code(t, "RecordActivity(email_open)", err, fidelis.EINVALID, "not_customer_contact")
		_, err = e.a.Retention.RecordActivity(as("m", fidelis.RoleMarketing), fidelis.PurposeMarketingEmail, quiet, retention.KindClick, time.Time{})
		code(t, "RecordActivity by marketing (read only)", err, fidelis.EFORBIDDEN, "action_not_covered")

		// 3 years less 10 days: within the notice window of the quiet prospects.
		e.clock.Set(t0.AddDate(3, 0, -10))
		dry := e.run(true)
		if d := line(dry, quiet); d.Action != retention.ActionNotify || d.Rule != retention.RuleProspect {
			t.Errorf("dry run: quiet prospect = %s under %s; want notify under T-1", d.Action, d.Rule)
		}
		if len(e.smtp.Messages()) != 0 {
			t.Fatalf("a dry run sent %d messages", len(e.smtp.Messages()))
		}
		r := e.run(false)
		if r.Counts[retention.ActionNotify] != 2 || line(r, clicker).Action != retention.ActionNone {
			t.Fatalf("run: counts %v, clicker %s; want 2 notices (one without address), clicker untouched", r.Counts, line(r, clicker).Action)
		}
		msgs := e.smtp.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "ines.prospect@example.fr" {
			t.Fatalf("messages = %d (%v); want one, to the quiet prospect", len(msgs), msgs)
		}
		body := string(msgs[0].Data)
		for _, w := range []string{"Content-Language: fr", "Souhaitez-vous rester en contact"} {
			if !strings.Contains(body, w) {
				t.Errorf("renewal request lacks %q", w)
			}
		}
		// Asked ONCE: the next runs wait and send nothing more.
		e.clock.Set(t0.AddDate(3, 0, 5))
		r = e.run(false)
		if d := line(r, quiet); d.Action != retention.ActionWait || d.NoticeAt.IsZero() {
			t.Errorf("after the request: %s (notice %v); want wait", d.Action, d.NoticeAt)
		}
		// No address to ask: erased at the due date, without a grace period.
		if d := line(r, mute); d.Action != retention.ActionErase {
			t.Errorf("prospect without an address after the due date = %s; want erase", d.Action)
		}
		if len(e.smtp.Messages()) != 1 {
			t.Errorf("the renewal request was sent %d times; want once", len(e.smtp.Messages()))
		}
		// The grace period over: erased, not put on the suppression list.
		e.clock.Set(t0.AddDate(3, 0, 21))
		r = e.run(false)
		if line(r, quiet).Action != retention.ActionErase {
			t.Fatalf("after the grace period: quiet %s; want erase", line(r, quiet).Action)
		}
		if e.exists(quiet) || e.exists(mute) || !e.exists(clicker) {
			t.Errorf("exists: quiet %v, mute %v, clicker %v; want false, false, true", e.exists(quiet), e.exists(mute), e.exists(clicker))
		}
		var receipt string
		if err := fidelistest.MustRawDB(t, e.a).QueryRow(`SELECT receipt FROM erasures WHERE customer_id = '` + string(quiet) + `'`).Scan(&receipt); err != nil {
			t.Fatalf("erasure receipt: %v", err)
		}
		if !strings.Contains(receipt, `"suppressed":[]`) || strings.Contains(receipt, "suppression list") || !strings.Contains(receipt, `"data_key":"destroyed"`) {
			t.Errorf("receipt of a retention erasure = %s; want the key destroyed and no suppression entry", receipt)
		}
		if _, err := e.a.Customers.Create(sales, fidelis.PurposeSales, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldEmail: fidelis.NewSecret("ines.prospect@example.fr")}}); err != nil {
			t.Errorf("re-collecting an expired prospect: %v; want allowed (no suppression after retention)", err)
		}
		if runs, err := e.a.Retention.Runs(dpo, 10); err != nil || len(runs) != 3 || runs[0].Counts[retention.ActionErase] != 1 || runs[0].Scanned != 2 {
			t.Errorf("Runs = %d runs, %v; want 3, the last with 2 scanned and 1 erasure", len(runs), err)
		}
	})
}

// TestRetention_AccountWarnedThenErased_T3: the portal's sign-in hook makes a customer an
// account holder; after 2 years without signing in they are warned once in English, then
// erased.
func TestRetention_AccountWarnedThenErased_T3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, true)
		id := e.create(support, fidelis.PurposeCustomerService, map[fidelis.Field]string{fidelis.FieldGivenName: "Ann", fidelis.FieldEmail: "ann.account@example.com", fidelis.FieldLocale: "en"})
		e.clock.Set(t0.AddDate(0, 2, 0))
		if err := e.a.Retention.Touch(as("portal", fidelis.RoleSupport), id, retention.KindLogin, t0.AddDate(0, 1, 0)); err != nil {
			t.Fatalf("Touch(login): %v", err)
		}
		code(t, "Touch(email_open)", e.a.Retention.Touch(dpo, id, retention.KindEmailOpen, time.Time{}), fidelis.EINVALID, "not_customer_contact")
		e.clock.Set(t0.AddDate(2, 1, -20))
		if d := line(e.run(false), id); d.Action != retention.ActionNotify || d.Rule != retention.RuleAccount {
			t.Fatalf("account holder = %s under %s; want notify under T-3", d.Action, d.Rule)
		}
		if msgs := e.smtp.Messages(); len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "inactive customer account will be deleted") {
			t.Fatalf("warning: %d messages; want one English warning", len(msgs))
		}
		e.clock.Set(t0.AddDate(2, 2, 0))
		if d := line(e.run(false), id); d.Action != retention.ActionErase {
			t.Fatalf("after the grace period = %s; want erase", d.Action)
		}
		if e.exists(id) || len(e.smtp.Messages()) != 1 {
			t.Errorf("exists %v, %d messages; want erased after one warning", e.exists(id), len(e.smtp.Messages()))
		}
	})
}

// TestRetention_NoMailServerBlocksNotices_T1: without a mail server a due renewal request
// is reported blocked, and the prospect is kept: never erased without being asked.
func TestRetention_NoMailServerBlocksNotices_T1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		id := e.create(sales, fidelis.PurposeSales, map[fidelis.Field]string{fidelis.FieldEmail: "p@example.fr"})
		e.clock.Set(t0.AddDate(5, 0, 0))
		if r := e.run(false); line(r, id).Action != retention.ActionBlocked || r.Counts[retention.ActionBlocked] != 1 || !e.exists(id) {
			t.Errorf("no mail server: %s, counts %v; want blocked and kept", line(r, id).Action, r.Counts)
		}
	})
}

// loyaltyMember sets up a programme and a member with one order at the current time.
func loyaltyMember(t *testing.T, e *env) (fidelis.CustomerID, string) {
	t.Helper()
	admin, till := as("admin", fidelis.RoleAdmin), as("till", fidelis.RoleLoyaltyManager)
	p, err := e.a.Loyalty.CreateProgramme(admin, loyalty.ProgrammeInput{Name: "Club", Currency: "EUR", PointValueCents: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Loyalty.PublishTerms(admin, p.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions v1", EN: "Terms v1"},
		Mediator: loyalty.Mediator{Name: "Médiateur FEVAD", Website: "https://www.mediateurfevad.fr", Address: "60 rue La Boétie, 75008 Paris"}, ExpiryMonths: 12}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.Loyalty.CreateRule(admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
		t.Fatal(err)
	}
	id := e.create(till, fidelis.PurposeLoyalty, map[fidelis.Field]string{fidelis.FieldGivenName: "Léa", fidelis.FieldEmail: "lea.member@example.fr"})
	if _, _, err := e.a.Loyalty.Join(till, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: id, TermsVersion: 1, Channel: "store", Key: "join-" + string(id)}); err != nil {
		t.Fatal(err)
	}
	res, err := e.a.Loyalty.PlaceOrder(till, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: p.ID, Customer: id, OrderedAt: e.clock.Now(), Channel: "store", Store: "paris-01", Currency: "EUR",
		Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "grocery", Quantity: 1, UnitPriceCents: 2500}}, Key: "order-" + string(id)})
	if err != nil {
		t.Fatal(err)
	}
	return id, res.Order.ID
}

// TestRetention_MemberArchivedThenErasedKeepingAccounts_T4_T5_T6_T7: a loyalty member's
// order is a purchase; 3 years after it the member goes to the restricted archive (only
// data protection may read them); 5 years after it they are erased, and the order stays,
// pseudonymised (T-5).
func TestRetention_MemberArchivedThenErasedKeepingAccounts_T4_T5_T6_T7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		member, order := loyaltyMember(t, e)
		buyer := e.create(support, fidelis.PurposeCustomerService, map[fidelis.Field]string{fidelis.FieldGivenName: "Luc"})
		e.clock.Set(t0.AddDate(1, 0, 0))
		if _, err := e.a.Retention.RecordActivity(support, fidelis.PurposeCustomerService, buyer, retention.KindPurchase, t0.AddDate(1, 0, 0)); err != nil {
			t.Fatal(err)
		}
		e.clock.Set(t0.AddDate(3, 0, 1))
		r := e.run(false)
		if d := line(r, member); d.Action != retention.ActionArchive || d.Rule != retention.RuleLoyalty || d.Category != retention.CategoryMember {
			t.Fatalf("member = %s under %s (%s); want archive under T-4", d.Action, d.Rule, d.Category)
		}
		if d := line(r, buyer); d.Action != retention.ActionNone {
			t.Errorf("buyer (purchase a year later) = %s; want none", d.Action)
		}
		// T-7: the restricted archive: customer service and loyalty are refused, the DPO reads.
		_, err := e.a.Customers.Get(as("till", fidelis.RoleLoyaltyManager), fidelis.PurposeCustomerService, member)
		code(t, "Get(customer_service) of an archived member", err, fidelis.EFORBIDDEN, "retention_expired")
		_, err = e.a.Loyalty.Member(as("till", fidelis.RoleLoyaltyManager), fidelis.PurposeLoyalty, member, "", 0)
		code(t, "loyalty.Member of an archived member", err, fidelis.EFORBIDDEN, "retention_expired")
		_, err = e.a.Retention.RecordActivity(support, fidelis.PurposeCustomerService, member, retention.KindShopVisit, time.Time{})
		code(t, "RecordActivity of an archived member", err, fidelis.EFORBIDDEN, "retention_expired")
		if !e.exists(member) {
			t.Fatal("the archived member is not readable under data_protection")
		}
		e.clock.Set(t0.AddDate(4, 0, 2))
		if d := line(e.run(false), buyer); d.Action != retention.ActionArchive || d.Rule != retention.RuleCustomer {
			t.Errorf("buyer = %s under %s; want archive under T-2", d.Action, d.Rule)
		}
		e.clock.Set(t0.AddDate(5, 0, 1))
		if d := line(e.run(false), member); d.Action != retention.ActionErase || d.Reason != "evidence_period_over" {
			t.Fatalf("member after 5 years = %s (%s); want erase, evidence_period_over", d.Action, d.Reason)
		}
		if e.exists(member) || !e.exists(buyer) {
			t.Errorf("exists: member %v, buyer %v; want false, true", e.exists(member), e.exists(buyer))
		}
		// T-5: the order (an accounting record) stays, under the pseudonymous ID only.
		raw := fidelistest.MustRawDB(t, e.a)
		var orders, customers int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM loyalty_orders WHERE id = '` + order + `' AND customer_id = '` + string(member) + `'`).Scan(&orders); err != nil {
			t.Fatal(err)
		}
		if err := raw.QueryRow(`SELECT COUNT(*) FROM customers WHERE id = '` + string(member) + `'`).Scan(&customers); err != nil {
			t.Fatal(err)
		}
		if orders != 1 || customers != 0 {
			t.Errorf("after erasure: %d orders, %d customer rows; want the order kept, the customer gone", orders, customers)
		}
		if v, err := e.a.Loyalty.Verify(as("admin", fidelis.RoleAdmin)); err != nil || !v.OK() {
			t.Errorf("the ledger does not verify after a retention erasure: %v %v", err, v)
		}
	})
}

// TestRetention_LegalHold_T8: a held customer is neither archived nor erased, and is
// reported held with the case; lifting the hold lets retention act; both are audited.
func TestRetention_LegalHold_T8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		id := e.create(support, fidelis.PurposeCustomerService, map[fidelis.Field]string{fidelis.FieldGivenName: "Marc"})
		if _, err := e.a.Retention.RecordActivity(support, fidelis.PurposeCustomerService, id, retention.KindPurchase, time.Time{}); err != nil {
			t.Fatal(err)
		}
		h, err := e.a.Retention.PlaceHold(dpo, fidelis.PurposeDataProtection, id, retention.HoldInput{Case: "TJ-PARIS/2026-117", Reason: "Dispute about a refund before the court"})
		if err != nil {
			t.Fatalf("PlaceHold: %v", err)
		}
		_, err = e.a.Retention.PlaceHold(dpo, fidelis.PurposeDataProtection, id, retention.HoldInput{Case: "TJ-PARIS/2026-117", Reason: "the same case a second time"})
		code(t, "PlaceHold(same case)", err, fidelis.ECONFLICT, "already_held")
		_, err = e.a.Retention.PlaceHold(support, fidelis.PurposeCustomerService, id, retention.HoldInput{Case: "X-1", Reason: "support may not hold data"})
		code(t, "PlaceHold by support", err, fidelis.EFORBIDDEN, "")
		_, err = e.a.Retention.PlaceHold(dpo, fidelis.PurposeDataProtection, id, retention.HoldInput{Case: "bad case!", Reason: "short"})
		code(t, "PlaceHold(bad input)", err, fidelis.EINVALID, "validation_failed")
		_, err = e.a.Retention.PlaceHold(dpo, fidelis.PurposeDataProtection, fidelis.NewCustomerID(t0), retention.HoldInput{Case: "X-1", Reason: "no such customer here"})
		code(t, "PlaceHold(unknown customer)", err, fidelis.ENOTFOUND, "")

		e.clock.Set(t0.AddDate(6, 0, 0)) // past the archive and the evidence period
		for range 2 {
			r := e.run(false)
			if d := line(r, id); d.Action != retention.ActionHeld || len(d.Holds) != 1 || d.Holds[0] != h.Case || d.Reason != "legal_hold" {
				t.Fatalf("held customer = %s (%s, %v); want held for %s", d.Action, d.Reason, d.Holds, h.Case)
			}
		}
		if !e.exists(id) {
			t.Fatal("a held customer was erased")
		}
		if _, err := e.a.Retention.LiftHold(dpo, fidelis.PurposeDataProtection, id, h.ID, "Judgment final, no appeal"); err != nil {
			t.Fatalf("LiftHold: %v", err)
		}
		_, err = e.a.Retention.LiftHold(dpo, fidelis.PurposeDataProtection, id, h.ID, "Judgment final, no appeal")
		code(t, "LiftHold twice", err, fidelis.EPRECONDITION, "already_lifted")
		if d := line(e.run(false), id); d.Action != retention.ActionErase {
			t.Errorf("after the lift = %s; want erase", d.Action)
		}
		hs, err := e.a.Retention.Holds(dpo, retention.HoldFilter{CustomerID: id})
		if err != nil || len(hs) != 1 || hs[0].Active() || hs[0].LiftReason == "" {
			t.Errorf("Holds after erasure = %v, %v; want the lifted hold kept as evidence", hs, err)
		}
		log, err := e.a.Customers.AccessLog(dpo, fidelis.PurposeDataProtection, id, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, en := range log.Items {
			seen[en.Action] = en.Reason
		}
		if seen[retention.ActHold] != "case:TJ-PARIS/2026-117" || seen[retention.ActLift] != "case:TJ-PARIS/2026-117" || seen[customer.ActErase] != "retention:T-2" {
			t.Errorf("access log = %v; want the hold, the lift and the retention erasure", seen)
		}
	})
}

// TestRetention_OverrideAudited_T2_T5: a default period changes only with a written
// reason, recorded with the operator and time in the audit log; accounting records keep
// their 10-year legal minimum; a role that does not manage privacy is refused.
func TestRetention_OverrideAudited_T2_T5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		r, err := e.a.Retention.OverrideRule(dpo, retention.RuleCustomer, 48, "Warranty of 4 years on our furniture")
		if err != nil || r.Months != 48 || r.DefaultMonths != 36 || r.Override == nil || r.Override.By != "system:dpo" {
			t.Fatalf("OverrideRule = %+v, %v; want 48 months over 36, by system:dpo", r, err)
		}
		_, err = e.a.Retention.OverrideRule(dpo, retention.RuleAccounting, 60, "Five years should be enough for us")
		code(t, "OverrideRule(T-5, 60)", err, fidelis.EINVALID, "validation_failed")
		_, err = e.a.Retention.OverrideRule(dpo, retention.RuleProspect, 24, "")
		code(t, "OverrideRule without reason", err, fidelis.EINVALID, "validation_failed")
		_, err = e.a.Retention.OverrideRule(sales, retention.RuleProspect, 24, "Sales want it shorter, for tests")
		code(t, "OverrideRule by sales", err, fidelis.EFORBIDDEN, "action_not_permitted")
		_, err = e.a.Retention.OverrideRule(dpo, "T-9", 24, "There is no such rule at all")
		code(t, "OverrideRule(T-9)", err, fidelis.ENOTFOUND, "unknown_rule")
		rules, err := e.a.Retention.Rules(as("auditor", fidelis.RoleAuditor))
		if err != nil || rules.Get(retention.RuleCustomer).Months != 48 || rules.Get(retention.RuleProspect).Months != 36 {
			t.Fatalf("Rules = %v, %v", rules, err)
		}
		raw := fidelistest.MustRawDB(t, e.a)
		var actor, reason string
		if err := raw.QueryRow(`SELECT actor, reason FROM audit_entries WHERE action = '`+retention.ActOverride+`'`).Scan(&actor, &reason); err != nil {
			t.Fatalf("override audit entry: %v", err)
		}
		if actor != "system:dpo" || reason != "T-2: 36 -> 48 months: Warranty of 4 years on our furniture" {
			t.Errorf("audit entry = %s, %q; want the operator, the change and the written reason", actor, reason)
		}
		var refused int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM audit_entries WHERE action = '` + retention.ActOverride + `' AND outcome = 'denied'`).Scan(&refused); err != nil || refused != 1 {
			t.Errorf("refused overrides audited = %d, %v; want 1", refused, err)
		}
	})
}

// TestRetention_OneRunAtATime_T7: while one node holds the retention lock, a run elsewhere
// is refused (retention_running) and changes nothing; once released, it runs.
func TestRetention_OneRunAtATime_T7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		id := e.create(support, fidelis.PurposeCustomerService, map[fidelis.Field]string{fidelis.FieldGivenName: "Zoé"})
		var hook retention.ActivityHook = e.a.Retention // what a sales channel calls
		if err := hook.Touch(as("shop", fidelis.RoleSupport), id, retention.KindPurchase, time.Time{}); err != nil {
			t.Fatal(err)
		}
		other, err := app.Open(context.Background(), e.a.Config) // a second node on the same database
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		unlock, ok, err := other.DB.TryLock(context.Background(), retention.LockName)
		if err != nil || !ok {
			t.Fatalf("TryLock = %v, %v", ok, err)
		}
		e.clock.Set(t0.AddDate(3, 1, 0))
		_, err = e.a.Retention.Run(dpo, nil)
		code(t, "Run while another node runs", err, fidelis.ECONFLICT, "retention_running")
		if _, ok2, _ := e.a.DB.TryLock(context.Background(), retention.LockName); ok2 {
			t.Fatal("the lock was taken twice")
		}
		unlock()
		if d := line(e.run(false), id); d.Action != retention.ActionArchive {
			t.Errorf("after release = %s; want archive", d.Action)
		}
	})
}
