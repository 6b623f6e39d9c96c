package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/web"
)

// testClock is a clock a test can move forward.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustLoyaltySite is mustSite with a movable clock and a loyalty manager, lou.
func mustLoyaltySite(t *testing.T, b fidelistest.Backend) (*site, *testClock) {
	t.Helper()
	clock := &testClock{t: time.Now().UTC().Truncate(time.Second)}
	logs := &fidelistest.SyncBuffer{}
	a := fidelistest.MustApp(t, b, fidelistest.Options{Logs: logs, Now: clock.Now, Mutate: func(c *app.Config) { c.WebHandler = web.Mount }})
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	for _, u := range []struct {
		name string
		role fidelis.Role
	}{{"alice", fidelis.RoleAdmin}, {"sam", fidelis.RoleSales}, {"lou", fidelis.RoleLoyaltyManager}} {
		if _, err := a.Auth.CreateUser(ctx, u.name, "a-long-password-123", u.role, "fr"); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.name, err)
		}
	}
	return &site{app: a, base: fidelistest.MustServe(t, a), logs: logs}, clock
}

var programmePathRE = regexp.MustCompile(`^/app/loyalty/programmes/(lpg_[0-9a-z]{26})\?done=launched$`)

const mediatorWebsite = "https://www.mediateurfevad.fr"

func programmeForm() url.Values {
	return url.Values{"name": {"Club Lumière"}, "currency": {"EUR"}, "point_value": {"0,01"}, "notice_days": {"30"}, "expiry_months": {"12"},
		"text_fr": {"Article 1. Un point par euro.\nArticle 2. Les points expirent après 12 mois."}, "text_en": {"Article 1. One point per euro.\nArticle 2. Points expire after 12 months."},
		"mediator_name": {"Médiateur du e-commerce de la FEVAD"}, "mediator_website": {mediatorWebsite}, "mediator_address": {"60 rue La Boétie, 75008 Paris"}}
}

func noMissingText(t *testing.T, name string, p *page) {
	t.Helper()
	if i := strings.Index(p.body, "⟦"); i >= 0 {
		t.Errorf("%s shows a missing translation: %s", name, p.body[i:min(len(p.body), i+60)])
	}
}

// TestWeb_LoyaltyProgrammeTermsAndRules_L1_L2_L3_X2 runs a programme from the back-office:
// created with terms naming the mediator (errors beside the fields), a new version of the
// terms previewed exactly as members will see it and published no earlier than the notice
// period, and a rule whose preview on a sample basket gives the points and why before it
// is published. A role without manage_loyalty gets no link and a refusal.
func TestWeb_LoyaltyProgrammeTermsAndRules_L1_L2_L3_X2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		s, clock := mustLoyaltySite(t, be)
		b := newBrowser(t, s.base)
		b.login("lou")
		list := b.get("/app/loyalty/programmes").must(t, http.StatusOK, `data-testid="nav-loyalty"`, `data-testid="no-programmes"`, `id="programme-form"`)
		noMissingText(t, "programmes", list)

		// the mediator's name, website and address are required; errors beside fields.
		bad := programmeForm()
		bad.Set("mediator_name", "")
		bad.Set("mediator_website", "ftp://mediateur")
		bad.Del("mediator_address")
		p := b.post("/app/loyalty/programmes", bad).must(t, http.StatusUnprocessableEntity, `data-testid="error-mediator_name"`,
			`data-testid="error-mediator_website"`, `data-testid="error-mediator_address"`, `data-testid="error-summary"`, "médiateur", "Club Lumière")
		noMissingText(t, "programme form with errors", p)
		if programmes, _ := s.app.Loyalty.Programmes(app.SystemContext(context.Background(), "t", fidelis.RoleAdmin)); len(programmes) != 0 {
			t.Fatal("a refused form created a programme")
		}
		p = b.post("/app/loyalty/programmes", programmeForm())
		m := programmePathRE.FindStringSubmatch(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || m == nil {
			t.Fatalf("create programme: %d, Location %q\n%s", p.status, p.header.Get("Location"), p.body)
		}
		pid := m[1]
		progPath := "/app/loyalty/programmes/" + pid
		pg := b.get(p.header.Get("Location")).must(t, http.StatusOK, "Programme créé", `data-testid="terms-current"`, `data-version="1"`, "Article 1. Un point par euro.", mediatorWebsite, "60 rue La Boétie")
		noMissingText(t, "programme", pg)

		// L-2: a new version needs a summary and the notice period; the preview is refused
		// with the field named, and shows the first allowed date.
		terms := url.Values{"action": {"preview"}, "text_fr": {"Article 1. Deux points par euro."}, "text_en": {"Article 1. Two points per euro."},
			"mediator_name": {"Médiateur du e-commerce de la FEVAD"}, "mediator_website": {mediatorWebsite}, "mediator_address": {"60 rue La Boétie, 75008 Paris"},
			"expiry_months": {"24"}, "effective_at": {clock.Now().AddDate(0, 0, 5).Format(time.DateOnly)}, "changes_fr": {"Deux points par euro."}, "changes_en": {"Two points per euro."}}
		b.post(progPath+"/terms", terms).must(t, http.StatusUnprocessableEntity, `data-testid="error-effective_at"`, "préavis")
		noChanges := url.Values{}
		for k, v := range terms {
			noChanges[k] = v
		}
		noChanges.Del("changes_fr")
		noChanges.Del("changes_en")
		noChanges.Set("effective_at", "")
		b.post(progPath+"/terms", noChanges).must(t, http.StatusUnprocessableEntity, `data-testid="error-changes"`)
		terms.Set("effective_at", clock.Now().AddDate(0, 0, 45).Format(time.DateOnly))
		pv := b.post(progPath+"/terms", terms).must(t, http.StatusOK, `data-testid="terms-preview"`, `data-testid="preview-version">v2`,
			"Article 1. Deux points par euro.", "Two points per euro.", `data-testid="terms-publish"`, "0 membre(s) actif(s)")
		noMissingText(t, "terms preview", pv)
		if strings.Contains(b.get(progPath).body, `data-testid="terms-upcoming"`) {
			t.Fatal("a preview published the terms")
		}
		// The preview's own form publishes exactly what it showed.
		form := url.Values{}
		re := regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
		publish := pv.body[strings.Index(pv.body, `id="terms-publish-form"`):]
		publish = publish[:strings.Index(publish, "</form>")]
		for _, mm := range re.FindAllStringSubmatch(publish, -1) {
			if mm[1] != "csrf" {
				form.Set(mm[1], html.UnescapeString(mm[2]))
			}
		}
		if form.Get("action") != "publish" || form.Get("text_fr") != terms.Get("text_fr") {
			t.Fatalf("preview's publish form = %v", form)
		}
		if r := b.post(progPath+"/terms", form); r.status != http.StatusSeeOther {
			t.Fatalf("publish terms: %d\n%s", r.status, r.body)
		}
		b.get(progPath+"?done=terms_published").must(t, http.StatusOK, "Nouvelle version publiée", `data-testid="terms-upcoming"`, `data-testid="upcoming-version" data-version="2"`)

		// L-3: a rule previewed on a sample basket: the points and why, nothing posted.
		rulesPath := progPath + "/rules"
		b.get(rulesPath).must(t, http.StatusOK, `data-testid="no-rules"`, `id="rule-form"`)
		rule := url.Values{"action": {"preview"}, "id": {"base"}, "name_fr": {"Base"}, "name_en": {"Base"}, "points_per_unit": {"1"},
			"multipliers": {"category toys 200"}, "min_basket": {""},
			"line_0_gtin": {"4006381333931"}, "line_0_category": {"toys"}, "line_0_quantity": {"2"}, "line_0_unit_price": {"12,50"},
			"line_2_gtin": {"4006381333932"}, "line_2_category": {"grocery"}, "line_2_quantity": {"1"}, "line_2_unit_price": {"3"}}
		// A wrong check digit is named on its own line of the basket.
		b.post(rulesPath, rule).must(t, http.StatusUnprocessableEntity, `data-testid="error-lines_2"`, "clé de contrôle")
		rule.Set("line_2_gtin", "5901234123457")
		pr := b.post(rulesPath, rule).must(t, http.StatusOK, `data-testid="rule-preview"`, `data-rule="base" data-version="1" data-points="53"`,
			"53 points : 1 point par EUR sur 28,00 EUR avec multiplicateurs, règle « base » v1", `data-testid="preview-total">53`)
		noMissingText(t, "rule preview", pr)
		if _, rules, _ := s.app.Loyalty.RuleVersions(app.SystemContext(context.Background(), "t", fidelis.RoleAdmin), pid); len(rules) != 0 {
			t.Fatal("a preview published the rule")
		}
		rule.Set("action", "publish")
		if r := b.post(rulesPath, rule); r.status != http.StatusSeeOther {
			t.Fatalf("publish rule: %d\n%s", r.status, r.body)
		}
		rp := b.get(rulesPath+"?done=rule_published").must(t, http.StatusOK, `data-testid="rule-version" data-rule="base" data-version="1"`, "toys", "Règle publiée")
		noMissingText(t, "rules", rp)
		// A new version starts from the latest one.
		b.get(rulesPath+"?from=base").must(t, http.StatusOK, `value="base"`, "category toys 200")
		// A bad rule is refused with its fields named.
		bad = url.Values{"action": {"publish"}, "id": {"Base!"}, "name_fr": {""}, "points_per_unit": {"5000"}, "multipliers": {"toys 200"}}
		b.post(rulesPath, bad).must(t, http.StatusUnprocessableEntity, `data-testid="error-multipliers"`)
		bad.Set("multipliers", "")
		b.post(rulesPath, bad).must(t, http.StatusUnprocessableEntity, `data-testid="error-id"`, `data-testid="error-name"`, `data-testid="error-points_per_unit"`)

		// The pages in English.
		b.get("/lang?l=en&next=" + url.QueryEscape(progPath))
		for _, path := range []string{"/app/loyalty/programmes", progPath, rulesPath, "/app/loyalty/liability", "/app/loyalty/expiry"} {
			noMissingText(t, path, b.get(path).must(t, http.StatusOK, `lang="en"`))
		}
		b.get(progPath).must(t, http.StatusOK, "Terms in force", "Upcoming versions", "Publish a new version of the terms")

		// Sales may not manage loyalty: no link, and a refusal.
		sam := newBrowser(t, s.base)
		sam.login("sam")
		if strings.Contains(sam.get("/app/customers").body, `data-testid="nav-loyalty"`) {
			t.Error("sales sees the loyalty link")
		}
		sam.get("/app/loyalty/programmes").must(t, http.StatusForbidden)
		sam.get(progPath).must(t, http.StatusForbidden)
		sam.get("/app/loyalty/liability").must(t, http.StatusForbidden)
	})
}

// TestWeb_LoyaltyMemberLiabilityExpiry_L1_L3_L4_L6 runs a member from the customer page:
// joining needs the terms ticked (never in advance), the points of an order show with their
// reason and lot, a manual adjustment needs a reason and cannot overdraw, a resubmitted
// form changes nothing twice; the liability report and verify follow; expiry is previewed
// dry, then run.
func TestWeb_LoyaltyMemberLiabilityExpiry_L1_L3_L4_L6(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		s, clock := mustLoyaltySite(t, be)
		admin := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		mgr := app.SystemContext(context.Background(), "till", fidelis.RoleLoyaltyManager)
		prog, _, err := s.app.Loyalty.LaunchProgramme(admin, loyalty.ProgrammeInput{Name: "Club Lumière", Currency: "EUR", PointValueCents: 2},
			loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions.", EN: "Terms."}, ExpiryMonths: 12,
				Mediator: loyalty.Mediator{Name: "Médiateur FEVAD", Website: mediatorWebsite, Address: "60 rue La Boétie, 75008 Paris"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.app.Loyalty.CreateRule(admin, loyalty.Rule{Programme: prog.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
			t.Fatal(err)
		}
		c, err := s.app.Customers.Create(mgr, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret("Camille")}})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, s.base)
		b.login("lou")
		member := "/app/loyalty/members/" + string(c.ID)
		b.get("/app/customers/"+string(c.ID)).must(t, http.StatusOK, `data-testid="loyalty-member-link"`, member)
		mp := b.get(member).must(t, http.StatusOK, `data-testid="not-member"`, `data-testid="join-terms"`, "Club Lumière — conditions v1 (en vigueur)")
		noMissingText(t, "member page", mp)
		join := mp.body[strings.Index(mp.body, `id="join-form"`):]
		if join = join[:strings.Index(join, "</form>")]; strings.Contains(join, "checked") {
			t.Fatalf("the join form ticks something in advance:\n%s", join)
		}
		key := regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(join)[1]
		// L-1: joining is accepting one version; without the tick, refused, beside the box.
		b.post(member+"/join", url.Values{"key": {key}, "terms": {prog.ID + "/1"}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-accepted"`)
		if r := b.post(member+"/join", url.Values{"key": {key}, "terms": {prog.ID + "/1"}, "accepted": {"on"}}); r.status != http.StatusSeeOther {
			t.Fatalf("join: %d\n%s", r.status, r.body)
		}
		// The same form sent again replays the first join (L-7): no error, no second row.
		if r := b.post(member+"/join", url.Values{"key": {key}, "terms": {prog.ID + "/1"}, "accepted": {"on"}}); r.status != http.StatusSeeOther {
			t.Fatalf("join replay: %d\n%s", r.status, r.body)
		}
		b.get(member+"?done=join").must(t, http.StatusOK, `data-testid="membership"`, `data-testid="member-active"`, `data-testid="balance">0<`, "Adhésion enregistrée", `data-testid="accepted-version">v1`)

		// An order from a till earns; the member page shows why.
		if _, err := s.app.Loyalty.PlaceOrder(mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: prog.ID, Customer: c.ID, OrderedAt: clock.Now(), Channel: "store", Store: "lyon-01", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "grocery", Quantity: 1, UnitPriceCents: 1234}}, Key: "till-1"}); err != nil {
			t.Fatal(err)
		}
		mp = b.get(member).must(t, http.StatusOK, `data-testid="balance">12<`, "12 points : 1 point par EUR sur 12,34 EUR, règle « base » v1",
			`data-testid="lot" data-remaining="12"`, `data-testid="next-expiry">12 points`, "0,24 EUR", `<code>base</code> v1 · conditions v1`)
		noMissingText(t, "member page with points", mp)

		// Adjustments: a reason is required, a debit never overdraws, a replay changes nothing.
		akey := regexp.MustCompile(`name="key" value="([^"]+-adjust-[^"]+)"`).FindStringSubmatch(mp.body)[1]
		b.post(member+"/adjust", url.Values{"key": {akey}, "programme_id": {prog.ID}, "points": {"5"}, "reason": {""}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-reason"`)
		b.post(member+"/adjust", url.Values{"key": {akey}, "programme_id": {prog.ID}, "points": {"-100"}, "reason": {"correction"}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-points"`, "dépasse le solde")
		for range 2 {
			if r := b.post(member+"/adjust", url.Values{"key": {akey}, "programme_id": {prog.ID}, "points": {"5"}, "reason": {"goodwill"}}); r.status != http.StatusSeeOther {
				t.Fatalf("adjust: %d\n%s", r.status, r.body)
			}
		}
		b.get(member).must(t, http.StatusOK, `data-testid="balance">17<`, "5 points crédités : geste commercial")

		// L-6: the liability at today's end, and verify.
		alice := newBrowser(t, s.base)
		alice.login("alice")
		today := clock.Now().Format(time.DateOnly)
		lp := alice.get("/app/loyalty/liability?at="+today).must(t, http.StatusOK, `data-programme="`+prog.ID+`" data-points="17" data-value-cents="34"`, "0,34 EUR")
		noMissingText(t, "liability", lp)
		alice.get("/app/loyalty/liability?at="+clock.Now().AddDate(0, 0, -1).Format(time.DateOnly)).must(t, http.StatusOK, `data-points="0"`)
		alice.get("/app/loyalty/liability?at=demain").must(t, http.StatusUnprocessableEntity, `data-testid="error-at"`)
		alice.get("/app/loyalty/liability?at="+today+"&verify=1").must(t, http.StatusOK, `data-testid="verify-ok"`, "Aucune anomalie")
		// The admin manages programmes but does not hold the loyalty purpose: no member page.
		alice.get(member).must(t, http.StatusForbidden)

		// L-4: expiry outlook, dry run, run, a year on.
		ep := alice.get("/app/loyalty/expiry").must(t, http.StatusOK, `data-testid="expiry-due" data-points="0"`, `data-testid="expiry-next">12 points`)
		noMissingText(t, "expiry", ep)
		clock.Advance(366 * 24 * time.Hour)
		alice = newBrowser(t, s.base) // the year-old session has ended
		alice.login("alice")
		alice.get("/app/loyalty/expiry").must(t, http.StatusOK, `data-testid="expiry-due" data-points="17"`)
		alice.post("/app/loyalty/expiry", url.Values{"action": {"preview"}}).must(t, http.StatusOK, `data-testid="expiry-dry-run" data-transactions="1" data-points="17"`, `data-testid="expiry-run-submit"`)
		if bal := balance(t, s.app, c.ID); bal != 17 {
			t.Fatalf("balance after a dry run = %d; want 17", bal)
		}
		r := alice.post("/app/loyalty/expiry", url.Values{"action": {"run"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("run expiry: %d\n%s", r.status, r.body)
		}
		alice.get(r.header.Get("Location")).must(t, http.StatusOK, `data-testid="expiry-ran"`, "17 point(s) expirés", `data-testid="expiry-due" data-points="0"`)
		if bal := balance(t, s.app, c.ID); bal != 0 {
			t.Fatalf("balance after expiry = %d; want 0", bal)
		}

		// Leaving keeps the history; the page says the member left.
		b = newBrowser(t, s.base)
		b.login("lou")
		mp = b.get(member).must(t, http.StatusOK, "17 points expirés")
		lkey := regexp.MustCompile(`name="key" value="([^"]+-leave-[^"]+)"`).FindStringSubmatch(mp.body)[1]
		if r := b.post(member+"/leave", url.Values{"key": {lkey}, "programme_id": {prog.ID}}); r.status != http.StatusSeeOther {
			t.Fatalf("leave: %d\n%s", r.status, r.body)
		}
		b.get(member+"?done=leave").must(t, http.StatusOK, `data-testid="member-left"`, `data-active="false"`)
	})
}

func balance(t *testing.T, a *app.App, id fidelis.CustomerID) int64 {
	t.Helper()
	v, err := a.Loyalty.Member(app.SystemContext(context.Background(), "t", fidelis.RoleLoyaltyManager), fidelis.PurposeLoyalty, id, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	return v.Memberships[0].Member.Balance
}
