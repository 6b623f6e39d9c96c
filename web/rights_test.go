package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/rights"
)

var caseIDRE = regexp.MustCompile(`/app/rights-requests/(rrq_[0-9a-z]{26})`)

// TestWeb_RightsQueueAndCase_R1_R2 walks a request through the back-office in both
// languages: the queue sorted by deadline with due-soon and overdue badges, a case created
// from the form, identity, completion with the readable access page, and a refusal letter
// naming the CNIL.
func TestWeb_RightsQueueAndCase_R1_R2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		s := mustSite(t, b)
		ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		c, err := s.app.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName: fidelis.NewSecret("Camille"), fidelis.FieldEmail: fidelis.NewSecret("camille@example.fr")}})
		if err != nil {
			t.Fatal(err)
		}
		// An old letter, logged late: overdue, first in the queue.
		late, err := s.app.Rights.Create(ctx, fidelis.PurposeDataProtection, rights.NewCase{CustomerID: c.ID, Kind: rights.KindErasure,
			Channel: rights.ChannelPost, ReceivedAt: time.Now().AddDate(0, -2, 0)})
		if err != nil {
			t.Fatal(err)
		}
		soon, err := s.app.Rights.Create(ctx, fidelis.PurposeDataProtection, rights.NewCase{CustomerID: c.ID, Kind: rights.KindRectification,
			Channel: rights.ChannelEmail, ReceivedAt: time.Now().AddDate(0, 0, -28)})
		if err != nil {
			t.Fatal(err)
		}

		br := newBrowser(t, s.base)
		br.login("alice")
		q := br.get("/app/rights-requests").must(t, http.StatusOK, `data-testid="nav-rights"`, `data-testid="rights-table"`)
		first := strings.Index(q.body, late.ID)
		second := strings.Index(q.body, soon.ID)
		if first < 0 || second < 0 || first > second {
			t.Errorf("queue is not sorted by deadline (overdue %d, due soon %d)", first, second)
		}
		for _, want := range []string{`data-id="` + late.ID + `" data-deadline="overdue"`, `data-id="` + soon.ID + `" data-deadline="due_soon"`, "En retard", "Échéance proche"} {
			if !strings.Contains(q.body, want) {
				t.Errorf("queue lacks %q", want)
			}
		}

		// A request recorded from the form: access, by e-mail.
		p := br.post("/app/rights-requests", url.Values{"customer_id": {string(c.ID)}, "kind": {"access"}, "channel": {"email"}, "received_at": {""}})
		if p.status != http.StatusSeeOther {
			t.Fatalf("create: %d\n%s", p.status, p.body)
		}
		m := caseIDRE.FindStringSubmatch(p.header.Get("Location"))
		if m == nil {
			t.Fatalf("create redirected to %q", p.header.Get("Location"))
		}
		id := m[1]
		casePath := "/app/rights-requests/" + id
		br.get(p.header.Get("Location")).must(t, http.StatusOK, `data-status="received"`, `data-testid="start"`, "Demande enregistrée")
		// Bad input re-shows the form with the field named.
		br.post("/app/rights-requests", url.Values{"customer_id": {"nobody"}, "kind": {"access"}, "channel": {"email"}}).must(t, http.StatusUnprocessableEntity, `data-testid="error-customer_id"`)

		step := func(op string, form url.Values) {
			t.Helper()
			r := br.post(casePath+"/"+op, form)
			if r.status != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", op, r.status, r.body)
			}
		}
		step("start", url.Values{})
		// a paper answer to an e-mail request is refused with an explanation.
		step("verify-identity", url.Values{"method": {"not_needed"}})
		br.post(casePath+"/complete", url.Values{"channel": {"post"}}).must(t, http.StatusUnprocessableEntity, "voie électronique")
		step("complete", url.Values{"channel": {""}})
		cp := br.get(casePath).must(t, http.StatusOK, `data-status="completed"`, `data-testid="answer-record"`, "Données communiquées", `data-testid="export-html"`)
		if strings.Contains(cp.body, `data-testid="refuse"`) {
			t.Error("a completed case still offers to refuse it")
		}
		html := br.get(casePath+"/export?format=html").must(t, http.StatusOK, "Vos données personnelles", "camille@example.fr")
		if html.header.Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("export Content-Type = %q", html.header.Get("Content-Type"))
		}

		// The one extension, with its letter.
		soonP := "/app/rights-requests/" + soon.ID
		if r := br.post(soonP+"/extend", url.Values{"months": {"2"}, "reasons": {"complexity"}, "told_via": {""}}); r.status != http.StatusSeeOther {
			t.Fatalf("extend: %d\n%s", r.status, r.body)
		}
		extP := br.get(soonP).must(t, http.StatusOK, `data-status="extended"`, `data-testid="extension-letter"`, "2 mois", "complexité", `data-testid="case-original-due"`)
		if strings.Contains(extP.body, `data-testid="extend"`) || strings.Contains(extP.body, "⟦") {
			t.Error("an extended case still offers an extension, or lacks a translation")
		}
		br.post(soonP+"/extend", url.Values{"months": {"1"}, "reasons": {"complexity"}}).must(t, http.StatusPreconditionFailed, "une seule prolongation")

		// A refusal letter names the CNIL, in English for an English page.
		lateP := "/app/rights-requests/" + late.ID
		br.get("/lang?l=en&next=" + url.QueryEscape(lateP))
		r := br.post(lateP+"/refuse", url.Values{"reasons": {"legal_obligation"}, "channel": {""}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("refuse: %d\n%s", r.status, r.body)
		}
		refusedPage := br.get(lateP).must(t, http.StatusOK, `data-status="refused"`, `data-testid="refusal-letter"`, "CNIL", "judicial remedy", "Refused")
		en := br.get("/app/rights-requests?show=all").must(t, http.StatusOK, "Data subject requests", "Closed", "On time", "Extended")
		for _, pg := range []string{en.body, q.body, cp.body, refusedPage.body} {
			if strings.Contains(pg, "⟦") {
				t.Errorf("a page shows a missing translation: %s", pg[strings.Index(pg, "⟦"):][:60])
			}
		}
		// A role without data_protection gets no link and a refusal.
		sam := newBrowser(t, s.base)
		sam.login("sam")
		if strings.Contains(sam.get("/app/customers").body, `data-testid="nav-rights"`) {
			t.Error("sales sees the rights-request link")
		}
		sam.get("/app/rights-requests").must(t, http.StatusForbidden)
	})
}
