package consent_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
)

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

// today is the tests' date: 2026-11-22.
var today = time.Date(2026, time.November, 22, 10, 0, 0, 0, time.UTC)

func newApp(t *testing.T, b fidelistest.Backend) *app.App {
	t.Helper()
	return fidelistest.MustApp(t, b, fidelistest.Options{Now: (&clock{t: today}).Now})
}

func as(job string, role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), job, role)
}

var (
	support = as("support", fidelis.RoleSupport)
	dpo     = as("dpo", fidelis.RoleDPO)
	mkt     = as("mkt", fidelis.RoleMarketing)
	sales   = as("sales", fidelis.RoleSales)
	loyalty = as("loyalty", fidelis.RoleLoyaltyManager)
)

const (
	cs    = fidelis.PurposeCustomerService
	dp    = fidelis.PurposeDataProtection
	email = fidelis.PurposeMarketingEmail
	sms   = fidelis.PurposeMarketingSMS
)

func mustCustomer(t *testing.T, a *app.App, kv ...string) fidelis.CustomerID {
	t.Helper()
	in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Set[fidelis.Field(kv[i])] = fidelis.NewSecret(kv[i+1])
	}
	c, err := a.Customers.Create(support, cs, in)
	if err != nil {
		t.Fatalf("Create = %v", err)
	}
	return c.ID
}

func mustRecord(t *testing.T, a *app.App, id fidelis.CustomerID, in consent.Input) *consent.Record {
	t.Helper()
	if in.Method == "" {
		in.Method = consent.MethodBackOffice
	}
	if in.NoticeVersion == 0 && in.Decision != privacy.ConsentWithdrawn {
		in.NoticeVersion = fidelistest.MustNotice(t, a, in.Purpose).Version
	}
	r, _, err := a.Consents.Record(support, cs, id, in)
	if err != nil {
		t.Fatalf("Record(%s %s %s) = %v", in.Purpose, in.Channel, in.Decision, err)
	}
	return r
}

func checkReason(t *testing.T, what string, err error, reason string) {
	t.Helper()
	if e := fidelis.AsError(err); reason == "" && err != nil || reason != "" && (e == nil || e.Reason != reason) {
		t.Fatalf("%s = %v; want reason %q", what, err, reason)
	}
}

func readMail(a *app.App, id fidelis.CustomerID) error {
	_, err := a.Customers.Get(mkt, email, id)
	return err
}

// The ledger records subject, purpose, channel, decision, the exact notice version and its
// hash, the method, who recorded it and when; refusals are recorded too; nothing is ever
// overwritten.
func TestConsent_LedgerRecordsEverything_C1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Zoé", "email", "zoe@example.fr")
		n1 := fidelistest.MustNotice(t, a, email)
		n2, err := a.Consents.PublishNotice(dpo, email, privacy.Text{FR: "Nouveau texte.", EN: "New wording."})
		if err != nil || n2.Version != n1.Version+1 || n2.Hash == n1.Hash || n2.Hash != consent.NoticeHash(email, n2.Version, n2.Text) {
			t.Fatalf("PublishNotice = %+v, %v; want version %d with its own hash", n2, err, n1.Version+1)
		}
		paper := time.Date(2026, time.October, 3, 9, 30, 0, 0, time.UTC)
		refused := mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentRefused, NoticeVersion: n1.Version, Method: consent.MethodPaper, Reference: "FORM-77", CollectedAt: paper})
		granted := mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, NoticeVersion: n2.Version, NoticeHash: n2.Hash, Method: consent.MethodPortal})
		if _, _, err := a.Consents.Record(support, cs, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, NoticeVersion: n2.Version, NoticeHash: n1.Hash, Method: consent.MethodAPI}); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Record with the hash of another wording = %v; want invalid", err)
		}
		if _, _, err := a.Consents.Record(support, cs, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, NoticeVersion: 99, Method: consent.MethodAPI}); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Record citing an unpublished notice = %v; want invalid", err)
		}
		h, err := a.Consents.History(support, cs, id, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Records) != 2 || h.Records[0].ID != granted.ID || h.Records[1].ID != refused.ID {
			t.Fatalf("History = %d records; want the grant then the refusal, newest first", len(h.Records))
		}
		r := h.Records[1]
		if r.Decision != privacy.ConsentRefused || r.NoticeVersion != n1.Version || r.NoticeHash != n1.Hash || r.Method != consent.MethodPaper ||
			r.Reference != "FORM-77" || !r.CollectedAt.Equal(paper) || r.RecordedBy != "system:support" || r.CustomerID != id || r.Channel != privacy.ChannelEmail {
			t.Errorf("refusal record = %+v; want every detail kept", r)
		}
		if g := h.Records[0]; g.NoticeHash != n2.Hash || g.Method != consent.MethodPortal || !g.RecordedAt.After(r.RecordedAt) {
			t.Errorf("grant record = %+v; want notice v%d hash and portal", g, n2.Version)
		}
		if cur := h.Current[privacy.ConsentKey(email, privacy.ChannelEmail)]; cur.Decision != privacy.ConsentGranted || cur.NoticeVersion != n2.Version {
			t.Errorf("current = %+v; want granted under v%d", cur, n2.Version)
		}
		// Append-only: the database holds both rows and the store has no way to change one.
		raw := fidelistest.MustRawDB(t, a)
		var rows int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM consents WHERE customer_id = '` + string(id) + `'`).Scan(&rows); err != nil || rows != 2 {
			t.Errorf("consent rows = %d, %v; want 2", rows, err)
		}
	})
}

// A withdrawal is one call, like the grant, and applies to the very next processing, with
// a problem that says which rule refused it; the outbox tells the e-mail provider.
func TestConsent_WithdrawalAppliesAtOnce_C2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		base := fidelistest.MustServe(t, a)
		staff := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
		marketing := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleMarketing))
		id := mustCustomer(t, a, "given_name", "Inès", "email", "ines@example.fr")
		n := fidelistest.MustNotice(t, a, email)
		path := "/api/v1/customers/" + string(id)
		marketing.Do("GET", path, email, nil).MustStatus(t, http.StatusForbidden)
		staff.Do("POST", path+"/consents", cs, map[string]any{"purpose": "marketing_email", "channel": "email", "decision": "granted", "notice_version": n.Version}).MustStatus(t, http.StatusCreated)
		marketing.Do("GET", path, email, nil).MustStatus(t, http.StatusOK)
		search := marketing.Do("POST", "/api/v1/customers/search", email, map[string]any{"email": "ines@example.fr"}).MustStatus(t, http.StatusOK).JSON(t)
		if items, _ := search["items"].([]any); len(items) != 1 {
			t.Fatalf("search before withdrawal = %v; want the customer", search)
		}
		staff.Do("POST", path+"/consents", cs, map[string]any{"purpose": "marketing_email", "channel": "email", "decision": "withdrawn"}).MustStatus(t, http.StatusCreated)
		p := marketing.Do("GET", path, email, nil).MustStatus(t, http.StatusForbidden).JSON(t)
		if p["reason"] != "consent_withdrawn" || !strings.Contains(p["detail"].(string), "withdrew") {
			t.Errorf("read after withdrawal = %v; want reason consent_withdrawn with an explanation", p)
		}
		search = marketing.Do("POST", "/api/v1/customers/search", email, map[string]any{"email": "ines@example.fr"}).MustStatus(t, http.StatusOK).JSON(t)
		if items, _ := search["items"].([]any); len(items) != 0 {
			t.Errorf("search after withdrawal = %v; want nobody", search)
		}
		var events int
		raw := fidelistest.MustRawDB(t, a)
		if err := raw.QueryRow(`SELECT COUNT(*) FROM outbox WHERE type = 'consent.withdrawn' AND subject = '` + string(id) + `' AND payload LIKE '%marketing_email%' AND payload NOT LIKE '%ines%'`).Scan(&events); err != nil || events != 1 {
			t.Errorf("consent.withdrawn events = %d, %v; want 1, naming the purpose and no personal value", events, err)
		}
	})
}

// P-3: after a withdrawal the marketing purpose does not fall back on another basis, even
// though the same customer may still be processed under purposes with their own basis.
func TestLawfulness_NoFallbackAfterWithdrawal_P3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Paul", "email", "paul@example.fr")
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted})
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentWithdrawn})
		checkReason(t, "Get(marketing_email) after withdrawal", readMail(a, id), "consent_withdrawn")
		if _, err := a.Customers.Get(sales, fidelis.PurposeSales, id); err != nil {
			t.Errorf("Get(sales) = %v; the legitimate-interest purpose is unaffected, but separate", err)
		}
		checkReason(t, "Get(marketing_email) still", readMail(a, id), "consent_withdrawn")
		// A refusal is no consent either, and never a grant by default.
		other := mustCustomer(t, a, "given_name", "Léa", "email", "lea@example.fr")
		mustRecord(t, a, other, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentRefused})
		checkReason(t, "Get(marketing_email) after refusal", readMail(a, other), "consent_refused")
	})
}

// C-3: no tying. Processing for the loyalty programme (a contract) needs no marketing
// consent, and refusing or withdrawing marketing consent changes nothing for it.
func TestConsent_NoTyingLoyaltyWithoutMarketing_C3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Hugo", "email", "hugo@example.fr")
		if _, err := a.Customers.Get(loyalty, fidelis.PurposeLoyalty, id); err != nil {
			t.Fatalf("Get(loyalty) without any consent = %v; want allowed", err)
		}
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentRefused})
		mustRecord(t, a, id, consent.Input{Purpose: sms, Channel: privacy.ChannelSMS, Decision: privacy.ConsentWithdrawn})
		if _, err := a.Customers.Update(loyalty, fidelis.PurposeLoyalty, id, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Lyon")}}, 0); err != nil {
			t.Errorf("Update(loyalty) after refusing marketing = %v; want allowed", err)
		}
		// And no consent can be recorded for the programme itself: it is not consent-based,
		// so a sign-up form cannot bundle a "consent" with the terms (C-5).
		_, _, err := a.Consents.Record(support, cs, id, consent.Input{Purpose: fidelis.PurposeLoyalty, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, NoticeVersion: 1, Method: consent.MethodPortal})
		if e := fidelis.AsError(err); e == nil || len(e.Fields) == 0 || e.Fields[0].Rule != "not_consent_based" {
			t.Errorf("Record(loyalty) = %v; want invalid not_consent_based", err)
		}
	})
}

// C-4: below 15, a consent-based purpose also needs a parental consent; from 15 it does not.
func TestConsent_AgeGateNeedsParentalConsent_C4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		child := mustCustomer(t, a, "given_name", "Théo", "email", "theo@example.fr", "birth_date", "2013-06-01")  // 13
		teen := mustCustomer(t, a, "given_name", "Manon", "email", "manon@example.fr", "birth_date", "2011-01-10") // 15
		r := mustRecord(t, a, child, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted})
		if !r.Minor {
			t.Fatalf("record of a 13-year-old: Minor = false; want true")
		}
		checkReason(t, "Get(marketing_email) of a minor without parental consent", readMail(a, child), "parental_consent_missing")
		mustRecord(t, a, child, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, Parental: true, Method: consent.MethodPaper, Reference: "AUT-PAR-3"})
		checkReason(t, "Get(marketing_email) of a minor with parental consent", readMail(a, child), "")
		mustRecord(t, a, child, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentWithdrawn, Parental: true})
		checkReason(t, "Get(marketing_email) after the parent withdrew", readMail(a, child), "parental_consent_missing")

		if r := mustRecord(t, a, teen, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted}); r.Minor {
			t.Errorf("record of a 15-year-old: Minor = true; want false")
		}
		checkReason(t, "Get(marketing_email) of a 15-year-old", readMail(a, teen), "")
		// The age check read the birth date, and the audit log says so.
		log, err := a.Customers.AccessLog(dpo, dp, child, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(log.Items, func(e fidelisAuditEntry) bool {
			return e.Action == customer.ActAgeCheck && slices.Contains(e.Fields, fidelis.FieldBirthDate)
		}) {
			t.Errorf("access log has no age check of the birth date")
		}
	})
}

// C-5: a consent is never assumed (no default decision), never bundled (one purpose and
// channel per record, never for a purpose that is not consent-based).
func TestConsent_NeverPreTickedNorBundled_C5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		base := fidelistest.MustServe(t, a)
		staff := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
		id := mustCustomer(t, a, "given_name", "Nina", "email", "nina@example.fr")
		n := fidelistest.MustNotice(t, a, email)
		path := "/api/v1/customers/" + string(id) + "/consents"
		rules := func(body map[string]any) []string {
			p := staff.Do("POST", path, cs, body).MustStatus(t, http.StatusUnprocessableEntity).JSON(t)
			var out []string
			for _, e := range p["errors"].([]any) {
				out = append(out, e.(map[string]any)["field"].(string)+":"+e.(map[string]any)["rule"].(string))
			}
			return out
		}
		if got := rules(map[string]any{"purpose": "marketing_email", "channel": "email", "notice_version": n.Version}); !slices.Contains(got, "decision:required") {
			t.Errorf("no decision: errors %v; want decision:required", got)
		}
		if got := rules(map[string]any{"purposes": []string{"marketing_email", "marketing_sms"}, "channel": "email", "decision": "granted"}); !slices.Contains(got, "purposes:unknown_field") {
			t.Errorf("several purposes at once: errors %v; want purposes:unknown_field", got)
		}
		if got := rules(map[string]any{"purpose": "customer_service", "channel": "email", "decision": "granted", "notice_version": 1}); !slices.Contains(got, "purpose:not_consent_based") {
			t.Errorf("consent to a contract purpose: errors %v; want purpose:not_consent_based", got)
		}
		if got := rules(map[string]any{"purpose": "marketing_email", "channel": "sms", "decision": "granted", "notice_version": n.Version}); !slices.Contains(got, "channel:channel_not_used") {
			t.Errorf("consent on a channel the purpose does not use: errors %v", got)
		}
		if got := rules(map[string]any{"purpose": "marketing_email", "channel": "email", "decision": "granted"}); !slices.Contains(got, "notice_version:required") {
			t.Errorf("grant without the notice shown: errors %v; want notice_version:required", got)
		}
		// Nothing was recorded by the refused requests.
		h, err := a.Consents.History(support, cs, id, "", 0)
		if err != nil || len(h.Records) != 0 {
			t.Errorf("History after refused requests = %d records, %v; want none", len(h.Records), err)
		}
	})
}

// restriction freezes every processing except storage, legal claims, the customer's
// own requests and consented processing; lifting it resumes them.
func TestRestriction_FreezesProcessing_R10(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Rémi", "email", "remi@example.fr", "phone", "0611223344")
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted})
		if _, err := a.States.Restrict(support, cs, id, privacy.RestrictAccuracyContested, ""); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("Restrict under customer_service = %v; want refused (a data_protection operation)", err)
		}
		if _, err := a.States.Restrict(dpo, dp, id, privacy.RestrictAccuracyContested, "RR-2026-31"); err != nil {
			t.Fatalf("Restrict = %v", err)
		}
		_, err := a.Customers.Get(support, cs, id)
		checkReason(t, "Get(customer_service) while restricted", err, "restricted")
		_, err = a.Customers.Update(support, cs, id, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Nice")}}, 0)
		checkReason(t, "Update(customer_service) while restricted", err, "restricted")
		_, err = a.Customers.Get(sales, fidelis.PurposeSales, id)
		checkReason(t, "Get(sales) while restricted", err, "restricted")
		page, err := a.Customers.List(support, cs, "", 50)
		if err != nil || len(page.Items) != 0 {
			t.Errorf("List(customer_service) while restricted = %d items, %v; want none", len(page.Items), err)
		}
		if _, err := a.Customers.Get(dpo, fidelis.PurposeLegalClaims, id); err != nil {
			t.Errorf("Get(legal_claims) while restricted = %v; want allowed (art. 18(2))", err)
		}
		if _, err := a.Customers.Export(dpo, dp, id); err != nil {
			t.Errorf("Export(data_protection) while restricted = %v; want allowed: the customer's own request", err)
		}
		checkReason(t, "Get(marketing_email, consented) while restricted", readMail(a, id), "")
		_, err = a.Loyalty.Member(loyalty, fidelis.PurposeLoyalty, id, "", 10)
		checkReason(t, "Loyalty.Member while restricted", err, "restricted")
		// Recording a withdrawal stays possible while restricted (C-2).
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentWithdrawn})
		if _, err := a.States.Lift(dpo, dp, id, privacy.LiftAccuracyVerified); err != nil {
			t.Fatalf("Lift = %v", err)
		}
		if _, err := a.Customers.Get(support, cs, id); err != nil {
			t.Errorf("Get(customer_service) after lifting = %v; want allowed", err)
		}
		var events int
		raw := fidelistest.MustRawDB(t, a)
		if err := raw.QueryRow(`SELECT COUNT(*) FROM outbox WHERE subject = '` + string(id) + `' AND type IN ('customer.restricted', 'customer.restriction_lifted')`).Scan(&events); err != nil || events != 2 {
			t.Errorf("restriction events = %d, %v; want 2 (for R-9 propagation)", events, err)
		}
	})
}

// an objection to direct marketing is absolute and immediate: no consent, earlier or
// later, brings marketing back, and nobody can overrule it.
func TestObjection_DirectMarketingAbsolute_R12(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Yann", "email", "yann@example.fr", "phone", "0699887766")
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted})
		mustRecord(t, a, id, consent.Input{Purpose: sms, Channel: privacy.ChannelSMS, Decision: privacy.ConsentGranted})
		checkReason(t, "Get(marketing_email) before objecting", readMail(a, id), "")
		// Said on the phone to customer service: recorded by support, under their purpose.
		if _, err := a.States.Object(support, cs, id, privacy.ScopeDirectMarket, "CALL-31"); err != nil {
			t.Fatalf("Object = %v", err)
		}
		checkReason(t, "Get(marketing_email) after objecting", readMail(a, id), "objection_direct_marketing")
		_, err := a.Customers.Get(mkt, sms, id)
		checkReason(t, "Get(marketing_sms) after objecting", err, "objection_direct_marketing")
		mustRecord(t, a, id, consent.Input{Purpose: email, Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted})
		checkReason(t, "Get(marketing_email) after a new grant", readMail(a, id), "objection_direct_marketing")
		_, err = a.States.OverrideObjection(dpo, dp, id, email, privacy.OverrideCompellingGrounds, "DEC-1")
		if e := fidelis.AsError(err); e == nil || len(e.Fields) == 0 || e.Fields[0].Rule != "absolute_objection" {
			t.Errorf("OverrideObjection(marketing) = %v; want invalid absolute_objection", err)
		}
		if _, err := a.Customers.Get(support, cs, id); err != nil {
			t.Errorf("Get(customer_service) = %v; the objection is to marketing only", err)
		}
	})
}

// an objection to a legitimate-interest purpose stops it until a privacy manager
// records compelling grounds with a reference; the override is audited.
func TestObjection_LegitimateInterestUntilCompellingGrounds_R13(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		id := mustCustomer(t, a, "given_name", "Sacha", "email", "sacha@example.fr")
		if _, err := a.States.Object(sales, fidelis.PurposeSales, id, string(fidelis.PurposeSales), ""); err != nil {
			t.Fatalf("Object(sales) = %v", err)
		}
		_, err := a.Customers.Get(sales, fidelis.PurposeSales, id)
		checkReason(t, "Get(sales) after objection", err, "objection_upheld")
		_, err = a.States.Object(sales, fidelis.PurposeSales, id, string(fidelis.PurposeCustomerService), "")
		if fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Object(customer_service, a contract) = %v; want invalid", err)
		}
		if _, err := a.States.OverrideObjection(sales, dp, id, fidelis.PurposeSales, privacy.OverrideCompellingGrounds, "DEC-9"); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("OverrideObjection by sales = %v; want forbidden", err)
		}
		if _, err := a.States.OverrideObjection(dpo, dp, id, fidelis.PurposeSales, privacy.OverrideCompellingGrounds, ""); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("OverrideObjection without a reference = %v; want invalid", err)
		}
		st, err := a.States.OverrideObjection(dpo, dp, id, fidelis.PurposeSales, privacy.OverrideCompellingGrounds, "DEC-9")
		if err != nil || st.Objections[fidelis.PurposeSales].Override == nil || st.Objections[fidelis.PurposeSales].Override.By != "system:dpo" {
			t.Fatalf("OverrideObjection = %+v, %v; want the override recorded with its author", st, err)
		}
		if _, err := a.Customers.Get(sales, fidelis.PurposeSales, id); err != nil {
			t.Errorf("Get(sales) after override = %v; want allowed", err)
		}
		log, err := a.Customers.AccessLog(dpo, dp, id, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(log.Items, func(e fidelisAuditEntry) bool { return e.Action == privacy.ActOverride && e.Actor == "system:dpo" }) {
			t.Errorf("access log has no override entry by system:dpo")
		}
	})
}

type fidelisAuditEntry = audit.Entry
