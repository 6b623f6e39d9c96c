package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/register"
)

// TestAPI_RetentionOverrideReachesRegisterAndNotice_D2_R5_T2: once the DPO changes T-2 to
// 48 months through the API, the public privacy notice (HTML and JSON) and the register
// state 48 months at the next request, on both backends; the register keeps the default,
// the date and the reason, names no one, and the notice states neither the old period nor
// the reason.
func TestAPI_RetentionOverrideReachesRegisterAndNotice_D2_R5_T2(t *testing.T) {
	const (
		reason  = "Our furniture carries a 4-year warranty"
		now48   = "48 months (4 years) after the end of the commercial relationship"
		old36   = "36 months (3 years) after the end of the commercial relationship"
		oldText = "3 years after the end of the commercial relationship" // the registry's text of marketing_email
	)
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b, fidelistest.Options{Mutate: func(c *app.Config) { c.RetentionInterval = -1 }})
		base := fidelistest.MustServe(t, a)
		dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		auditor := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor))
		anon := fidelistest.NewClient(t, base, "")

		before := anon.Do("GET", "/privacy?lang=en", "", nil).MustStatus(t, http.StatusOK)
		if body := string(before.Body); !strings.Contains(body, old36) || !strings.Contains(body, `data-rule="T-2" data-months="36"`) || !strings.Contains(body, oldText) {
			t.Fatalf("notice before the change does not state the default T-2 period")
		}
		beforeReg := auditor.Do("GET", "/api/v1/register?format=json", "", nil).MustStatus(t, http.StatusOK)

		dpo.Do("PUT", "/api/v1/retention/rules/T-2", "", map[string]any{"months": 48, "reason": reason}).MustStatus(t, http.StatusOK)
		rules := dpo.Do("GET", "/api/v1/retention/rules", "", nil).MustStatus(t, http.StatusOK).JSON(t)["rules"].([]any)
		by, _ := rules[1].(map[string]any)["override"].(map[string]any)["by"].(string)
		if by == "" {
			t.Fatalf("the override records no operator: %v", rules[1])
		}

		// The public notice, as a page and as JSON.
		page := anon.Do("GET", "/privacy?lang=en", "", nil).MustStatus(t, http.StatusOK)
		body := string(page.Body)
		if !strings.Contains(body, now48) || !strings.Contains(body, `data-rule="T-2" data-months="48"`) {
			t.Errorf("GET /privacy?lang=en after the change does not state %q", now48)
		}
		for _, stale := range []string{old36, oldText, reason, by} {
			if strings.Contains(body, stale) {
				t.Errorf("GET /privacy?lang=en after the change still contains %q", stale)
			}
		}
		if page.Header.Get("ETag") == before.Header.Get("ETag") {
			t.Errorf("the notice's ETag %s did not change with the rule", page.Header.Get("ETag"))
		}
		var n register.Notice
		if err := json.Unmarshal(anon.Do("GET", "/privacy.json?lang=en", "", nil).MustStatus(t, http.StatusOK).Body, &n); err != nil || !n.Verify() {
			t.Fatalf("GET /privacy.json: %v, verified %v", err, n.Verify())
		}
		if r := n.RetentionRules[1]; r.Rule != "T-2" || r.Months != 48 || !strings.HasPrefix(r.Period, "48 months") {
			t.Errorf("notice T-2 = %+v; want 48 months", r)
		}

		// The register (French by default): in force, default, date and reason; no operator.
		regResp := auditor.Do("GET", "/api/v1/register?format=json", "", nil).MustStatus(t, http.StatusOK)
		var reg register.Register
		if err := json.Unmarshal(regResp.Body, &reg); err != nil || !reg.Verify() || reg.Format != register.FormatRegister {
			t.Fatalf("GET /api/v1/register?format=json: %v, verified %v, format %q", err, reg.Verify(), reg.Format)
		}
		if r := reg.RetentionRules[1]; r.Rule != "T-2" || r.Months != 48 || r.DefaultMonths != 36 || !r.Overridden || r.ChangeReason != reason || r.ChangedAt == "" ||
			!strings.HasPrefix(r.Period, "48 mois (4 ans)") {
			t.Errorf("register T-2 = %+v; want 48 months over a default of 36, with the date and reason", r)
		}
		if strings.Contains(string(regResp.Body), by) {
			t.Errorf("the register names the operator %q; it shows no staff IDs", by)
		}
		if regResp.Header.Get("ETag") == beforeReg.Header.Get("ETag") {
			t.Errorf("the register's ETag did not change with the rule")
		}
		for _, ac := range reg.Activities {
			if ac.Purpose == fidelis.PurposeMarketingEmail && (!strings.Contains(ac.Retention, "Client (T-2) : 48 mois") || strings.Contains(ac.Retention, "3 ans après")) {
				t.Errorf("register marketing_email retention = %q; want the period in force", ac.Retention)
			}
		}
		fr := string(auditor.Do("GET", "/api/v1/register?format=md&lang=fr", "", nil).MustStatus(t, http.StatusOK).Body)
		if !strings.Contains(fr, "**Durée en vigueur** : 48 mois (4 ans)") || !strings.Contains(fr, reason) {
			t.Errorf("French Markdown register does not state 48 months in force with the reason")
		}

		// the readable answer to an access request states the same periods as the
		// notice, in the customer's language.
		desk := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
		id := desk.Do("POST", "/api/v1/customers", fidelis.PurposeCustomerService, map[string]any{"given_name": "Ada", "locale": "en"}).MustStatus(t, http.StatusCreated).JSON(t)["id"].(string)
		c := dpo.Do("POST", "/api/v1/rights-requests", fidelis.PurposeDataProtection, map[string]any{"customer_id": id, "kind": "access", "channel": "email",
			"received_at": time.Now().UTC().Format(time.RFC3339)}).MustStatus(t, http.StatusCreated).JSON(t)
		access := string(dpo.Do("GET", "/api/v1/rights-requests/"+c["id"].(string)+"/export?format=html", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK).Body)
		if !strings.Contains(access, "48 months") || strings.Contains(access, oldText) {
			t.Errorf("the access answer does not state the retention in force (48 months) or still states %q", oldText)
		}
	})
}
