package web_test

import (
	"context"
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
	"github.com/fidelis/fidelis/retention"
	"github.com/fidelis/fidelis/web"
)

type yearsClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *yearsClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *yearsClock) Add(years, days int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.AddDate(years, 0, days)
}

var holdRE = regexp.MustCompile(`data-hold="(hld_[0-9a-z]{26})"`)

// TestWeb_Retention_T7_T8: the retention page shows the rules, the dry-run report with the
// rule, dates and reason of each due customer (IDs only), the legal holds; its forms change
// a period with a reason, place and lift a hold, and run retention; in French and English;
// roles that do not manage privacy get no link and a refusal.
func TestWeb_Retention_T7_T8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := &yearsClock{t: time.Now().UTC().AddDate(-4, 0, 0)}
		logs := &fidelistest.SyncBuffer{}
		a := fidelistest.MustApp(t, b, fidelistest.Options{Logs: logs, Now: clk.Now, Mutate: func(c *app.Config) {
			c.WebHandler = web.Mount
			c.RetentionInterval = -1
		}})
		ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		for _, u := range []struct {
			name string
			role fidelis.Role
		}{{"alice", fidelis.RoleAdmin}, {"sam", fidelis.RoleSales}} {
			if _, err := a.Auth.CreateUser(ctx, u.name, "a-long-password-123", u.role, "fr"); err != nil {
				t.Fatal(err)
			}
		}
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName: fidelis.NewSecret("Romane"), fidelis.FieldEmail: fidelis.NewSecret("romane.web@example.fr")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Retention.RecordActivity(ctx, fidelis.PurposeCustomerService, c.ID, retention.KindPurchase, time.Time{}); err != nil {
			t.Fatal(err)
		}
		clk.Add(3, 10) // the purchase is 3 years and 10 days old: due for the archive (T-2)
		base := fidelistest.MustServe(t, a)
		br := newBrowser(t, base)
		br.login("alice")
		line := `data-customer="` + string(c.ID) + `" data-action="archive" data-rule="T-2"`
		pg := br.get("/app/retention").must(t, http.StatusOK, `data-testid="nav-retention"`, `data-rule="T-1"`, `data-rule="T-6"`, `data-dry-run="true"`,
			line, `data-action="archive" data-count="1"`, "Durées de conservation", "Archivage intermédiaire", `data-testid="retention-no-holds"`)
		if strings.Contains(pg.body, "romane") || strings.Contains(pg.body, "Romane") {
			t.Error("the retention page shows personal data")
		}

		// A longer period, with its reason: no longer due.
		br.post("/app/retention/rules", url.Values{"rule": {"T-2"}, "months": {"48"}, "reason": {"x"}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-reason"`)
		if r := br.post("/app/retention/rules", url.Values{"rule": {"T-2"}, "months": {"48"}, "reason": {"Four-year warranty on our furniture"}}); r.status != http.StatusSeeOther {
			t.Fatalf("override: %d\n%s", r.status, r.body)
		}
		pg = br.get("/app/retention?done=rule").must(t, http.StatusOK, `data-rule="T-2" data-months="48"`, "Four-year warranty on our furniture", `data-testid="flash"`)
		if strings.Contains(pg.body, line) {
			t.Error("the customer is still due after the period was lengthened")
		}
		if r := br.post("/app/retention/rules", url.Values{"rule": {"T-2"}, "months": {"36"}, "reason": {"Back to the CNIL default"}}); r.status != http.StatusSeeOther {
			t.Fatalf("override back: %d", r.status)
		}

		// A legal hold from the form: the customer is reported held, and the run leaves them.
		if r := br.post("/app/retention/holds", url.Values{"customer_id": {string(c.ID)}, "case": {"TJ-LYON/2026-3"}, "reason": {"Unpaid invoice before the court"}}); r.status != http.StatusSeeOther {
			t.Fatalf("hold: %d\n%s", r.status, r.body)
		}
		br.post("/app/retention/holds", url.Values{"customer_id": {string(c.ID)}, "case": {"bad case"}, "reason": {"short"}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-case"`)
		pg = br.get("/app/retention?done=hold").must(t, http.StatusOK, `data-testid="retention-hold"`, "TJ-LYON/2026-3",
			`data-customer="`+string(c.ID)+`" data-action="held"`)
		m := holdRE.FindStringSubmatch(pg.body)
		if m == nil {
			t.Fatal("no hold on the page")
		}
		br.post("/app/retention/run", url.Values{}).must(t, http.StatusOK, `data-dry-run="false"`, `data-action="held" data-count="1"`)
		if r := br.post("/app/retention/holds/"+m[1]+"/lift", url.Values{"customer_id": {string(c.ID)}, "reason": {"Invoice paid, case closed"}}); r.status != http.StatusSeeOther {
			t.Fatalf("lift: %d\n%s", r.status, r.body)
		}
		br.get("/app/retention").must(t, http.StatusOK, `data-testid="retention-no-holds"`, line)

		// Run, in English: the customer goes to the archive.
		br.get("/lang?l=en&next=/app/retention")
		run := br.post("/app/retention/run", url.Values{}).must(t, http.StatusOK, `data-dry-run="false"`, "What retention just did", `data-action="archive" data-count="1"`, "Retention applied.")
		en := br.get("/app/retention").must(t, http.StatusOK, "Rules in force", "Latest runs", "Legal holds")
		for _, p := range []string{pg.body, run.body, en.body} {
			if i := strings.Index(p, "⟦"); i >= 0 {
				t.Errorf("missing translation: %s", p[i:min(i+60, len(p))])
			}
		}
		if _, err := a.Customers.Get(ctx, fidelis.PurposeCustomerService, c.ID); fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "retention_expired" {
			t.Errorf("after the run, Get(customer_service) = %v; want retention_expired", err)
		}
		// The run's form carries the CSRF token: without it, refused.
		if r := br.do("POST", "/app/retention/run", url.Values{}); r.status != http.StatusForbidden {
			t.Errorf("run without CSRF token: %d; want 403", r.status)
		}

		sam := newBrowser(t, base)
		sam.login("sam")
		if strings.Contains(sam.get("/app/customers").body, `data-testid="nav-retention"`) {
			t.Error("sales sees the retention link")
		}
		sam.get("/app/retention").must(t, http.StatusForbidden)
		if strings.Contains(logs.String(), "romane") {
			t.Error("logs hold personal data")
		}
	})
}
