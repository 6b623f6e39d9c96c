package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/retention"
)

// jumpClock is a clock a test moves forward by years; it ticks 1ms per reading so that IDs
// sort in order.
type jumpClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *jumpClock) Add(years, days int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.AddDate(years, 0, days)
}

// exerciseRetention drives every retention operation through each documented status, on
// an installation of its own whose clock jumps years ahead (T-1..T-8).
func exerciseRetention(t *testing.T, cf *conformance, b fidelistest.Backend) {
	t.Helper()
	clk := &jumpClock{t: time.Now().UTC().AddDate(-5, 0, 0)}
	a := fidelistest.MustApp(t, b, fidelistest.Options{Now: clk.Now, Mutate: func(c *app.Config) { c.RetentionInterval = -1 }})
	base := fidelistest.MustServe(t, a)
	dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
	support := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
	marketing := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleMarketing))
	auditor := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor))
	anon := fidelistest.NewClient(t, base, "")
	const cs, dp = fidelis.PurposeCustomerService, fidelis.PurposeDataProtection
	huge := `{"reason": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	textPlain := []string{"Content-Type", "text/plain"}
	reason := func(r *fidelistest.Response, want string) {
		t.Helper()
		if got := problemReason(t, r); got != want {
			t.Errorf("problem reason = %q; want %q (body %s)", got, want, clip(r.Body))
		}
	}

	// Rules.
	rules := cf.call(dpo, "GET", "/api/v1/retention/rules", "", nil, http.StatusOK).JSON(t)
	if rs, _ := rules["rules"].([]any); len(rs) != 6 || rules["grace_days"] != float64(30) {
		t.Errorf("rules = %v; want six rules and a 30-day grace period", rules)
	}
	cf.call(auditor, "GET", "/api/v1/retention/rules", "", nil, http.StatusOK)
	reason(cf.call(support, "GET", "/api/v1/retention/rules", "", nil, http.StatusForbidden), "action_not_permitted")
	cf.call(anon, "GET", "/api/v1/retention/rules", "", nil, http.StatusUnauthorized)
	const t2 = "/api/v1/retention/rules/T-2"
	over := map[string]any{"months": 48, "reason": "Our furniture carries a 4-year warranty"}
	if r := cf.call(dpo, "PUT", t2, "", over, http.StatusOK).JSON(t); r["months"] != float64(48) || r["override"] == nil {
		t.Errorf("override = %v", r)
	}
	// The documents state the overridden rule (D-2, R-5): checked against their schemas.
	cf.call(auditor, "GET", "/api/v1/register?format=json&lang=en", "", nil, http.StatusOK)
	cf.call(anon, "GET", "/privacy.json?lang=en", "", nil, http.StatusOK)
	cf.call(dpo, "PUT", "/api/v1/retention/rules/T-5", "", map[string]any{"months": 60, "reason": "Five years is enough for us"}, http.StatusUnprocessableEntity)
	cf.call(dpo, "PUT", t2, "", map[string]any{"months": 48}, http.StatusUnprocessableEntity)
	reason(cf.call(dpo, "PUT", "/api/v1/retention/rules/T-9", "", over, http.StatusNotFound), "unknown_rule")
	cf.call(dpo, "PUT", t2, "", `{"months": `, http.StatusBadRequest)
	cf.call(dpo, "PUT", t2, "", `{}`, http.StatusUnsupportedMediaType, textPlain...)
	cf.call(dpo, "PUT", t2, "", huge, http.StatusRequestEntityTooLarge)
	reason(cf.call(support, "PUT", t2, "", over, http.StatusForbidden), "action_not_permitted")
	cf.call(anon, "PUT", t2, "", over, http.StatusUnauthorized)

	// Activity.
	id := cf.call(support, "POST", "/api/v1/customers", cs, map[string]any{"given_name": "Jeanne", "email": "jeanne.retention@example.fr"}, http.StatusCreated).JSON(t)["id"].(string)
	activity := "/api/v1/customers/" + id + "/activity"
	unknown := "/api/v1/customers/" + string(fidelis.NewCustomerID(time.Now()))
	if r := cf.call(support, "POST", activity, cs, map[string]any{"kind": "purchase"}, http.StatusOK).JSON(t); r["clock_restarted"] != true {
		t.Errorf("purchase = %v; want the clock restarted", r)
	}
	reason(cf.call(support, "POST", activity, cs, map[string]any{"kind": "email_open"}, http.StatusUnprocessableEntity), "not_customer_contact")
	cf.call(support, "POST", activity, cs, map[string]any{"kind": "teleport", "at": "2100-01-01T00:00:00Z"}, http.StatusUnprocessableEntity)
	cf.call(support, "POST", activity, cs, `[`, http.StatusBadRequest)
	reason(cf.call(marketing, "POST", activity, fidelis.PurposeMarketingEmail, map[string]any{"kind": "click"}, http.StatusForbidden), "action_not_covered")
	cf.call(anon, "POST", activity, cs, map[string]any{"kind": "click"}, http.StatusUnauthorized)
	cf.call(support, "POST", unknown+"/activity", cs, map[string]any{"kind": "click"}, http.StatusNotFound)

	// Legal holds.
	holds := "/api/v1/customers/" + id + "/legal-holds"
	hold := map[string]any{"case": "TJ-PARIS/2026-117", "reason": "Dispute about a refund before the court"}
	hid := cf.call(dpo, "POST", holds, dp, hold, http.StatusCreated).JSON(t)["id"].(string)
	reason(cf.call(dpo, "POST", holds, dp, hold, http.StatusConflict), "already_held")
	cf.call(dpo, "POST", holds, dp, map[string]any{"case": "no spaces allowed", "reason": "short"}, http.StatusUnprocessableEntity)
	cf.call(dpo, "POST", holds, dp, `{`, http.StatusBadRequest)
	cf.call(dpo, "POST", holds, dp, `{}`, http.StatusUnsupportedMediaType, textPlain...)
	cf.call(dpo, "POST", holds, dp, huge, http.StatusRequestEntityTooLarge)
	reason(cf.call(support, "POST", holds, cs, hold, http.StatusForbidden), "purpose_not_applicable")
	cf.call(anon, "POST", holds, dp, hold, http.StatusUnauthorized)
	cf.call(dpo, "POST", unknown+"/legal-holds", dp, hold, http.StatusNotFound)
	list := cf.call(dpo, "GET", "/api/v1/retention/holds", "", nil, http.StatusOK).JSON(t)
	if items, _ := list["items"].([]any); len(items) != 1 {
		t.Errorf("holds = %v; want one", list)
	}
	cf.call(dpo, "GET", "/api/v1/retention/holds?active=false&customer_id="+id, "", nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/retention/holds?active=maybe", "", nil, http.StatusUnprocessableEntity)
	reason(cf.call(support, "GET", "/api/v1/retention/holds", "", nil, http.StatusForbidden), "action_not_permitted")
	cf.call(anon, "GET", "/api/v1/retention/holds", "", nil, http.StatusUnauthorized)

	// Four years and a day later (T-2 overridden to 48 months): due, but held.
	clk.Add(4, 1)
	rep := cf.call(dpo, "GET", "/api/v1/retention/report", "", nil, http.StatusOK).JSON(t)
	lines, _ := rep["lines"].([]any)
	if len(lines) != 1 || lines[0].(map[string]any)["action"] != "held" || rep["dry_run"] != true {
		t.Fatalf("report = %v; want the customer held", rep)
	}
	cf.call(dpo, "GET", "/api/v1/retention/report?limit=0", "", nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/retention/report?limit=5000", "", nil, http.StatusUnprocessableEntity)
	reason(cf.call(support, "GET", "/api/v1/retention/report", "", nil, http.StatusForbidden), "action_not_permitted")
	cf.call(anon, "GET", "/api/v1/retention/report", "", nil, http.StatusUnauthorized)

	lift := holds + "/" + hid + "/lift"
	lifted := map[string]any{"reason": "Judgment final, no appeal"}
	cf.call(dpo, "POST", lift, dp, lifted, http.StatusOK)
	reason(cf.call(dpo, "POST", lift, dp, lifted, http.StatusPreconditionFailed), "already_lifted")
	cf.call(dpo, "POST", lift, dp, map[string]any{"reason": ""}, http.StatusUnprocessableEntity)
	cf.call(dpo, "POST", lift, dp, `{`, http.StatusBadRequest)
	cf.call(dpo, "POST", holds+"/hld_nope/lift", dp, lifted, http.StatusNotFound)
	reason(cf.call(support, "POST", lift, cs, lifted, http.StatusForbidden), "purpose_not_applicable")
	cf.call(anon, "POST", lift, dp, lifted, http.StatusUnauthorized)

	// Runs: one at a time across nodes.
	unlock, ok, err := a.DB.TryLock(context.Background(), retention.LockName)
	if err != nil || !ok {
		t.Fatalf("TryLock: %v %v", ok, err)
	}
	reason(cf.call(dpo, "POST", "/api/v1/retention/run", "", nil, http.StatusConflict), "retention_running")
	unlock()
	cf.call(dpo, "POST", "/api/v1/retention/run", "", map[string]any{"now": "later"}, http.StatusUnprocessableEntity)
	cf.call(dpo, "POST", "/api/v1/retention/run", "", `[`, http.StatusBadRequest)
	reason(cf.call(support, "POST", "/api/v1/retention/run", "", nil, http.StatusForbidden), "action_not_permitted")
	cf.call(anon, "POST", "/api/v1/retention/run", "", nil, http.StatusUnauthorized)
	run := cf.call(dpo, "POST", "/api/v1/retention/run", "", `{}`, http.StatusOK).JSON(t)
	if counts, _ := run["counts"].(map[string]any); counts["archive"] != float64(1) || run["dry_run"] != false {
		t.Errorf("run = %v; want one customer archived", run)
	}
	// T-7: archived, the customer's activity is no longer recorded under customer service.
	reason(cf.call(support, "POST", activity, cs, map[string]any{"kind": "click"}, http.StatusForbidden), "retention_expired")
}
