package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

// The customer page shows the consents and their ledger and records a decision in one
// click; nothing is ticked in advance and a form without a decision records nothing (C-1,
// C-2, C-5).
func TestWeb_Consents_RecordAndWithdraw_C1_C2_C5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		s := mustSite(t, be)
		n := fidelistest.MustNotice(t, s.app, fidelis.PurposeMarketingEmail)
		b := newBrowser(t, s.base)
		b.login("alice")
		id := b.createCustomer(camille())
		p := b.get(id).must(t, 200, `data-testid="consent-form"`, `value="marketing_email/email"`, html.EscapeString(n.Text.FR), `data-testid="no-consent"`)
		form := p.body[strings.Index(p.body, `data-testid="consent-form"`):]
		form = form[:strings.Index(form, "</form>")]
		if strings.Contains(form, "checked") {
			t.Errorf("the consent form ticks something in advance (C-5):\n%s", form)
		}
		if strings.Contains(p.body, "⟦") {
			t.Errorf("a text is missing from the catalogue:\n%s", p.body)
		}
		// No decision picked: refused, nothing recorded.
		r := b.post(id+"/consents", url.Values{"option": {"marketing_email/email"}})
		if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "done=consent_invalid") {
			t.Fatalf("post without a decision: %d %q", r.status, r.header.Get("Location"))
		}
		b.get(id+"?done=consent_invalid").must(t, 200, html.EscapeString("aucune n'est cochée d'avance"), `data-testid="no-consent"`)
		// Granted, then withdrawn in one click: the state follows at once, the ledger keeps both.
		b.post(id+"/consents", url.Values{"option": {"marketing_email/email"}, "decision": {"granted"}})
		b.get(id).must(t, 200, `data-testid="consent-current-row" data-purpose="marketing_email" data-channel="email" data-decision="granted"`)
		if _, err := s.app.Customers.Get(marketingCtx(), fidelis.PurposeMarketingEmail, fidelis.CustomerID(strings.TrimPrefix(id, "/app/customers/"))); err != nil {
			t.Errorf("read under marketing_email after the grant = %v", err)
		}
		b.post(id+"/consents", url.Values{"option": {"marketing_email/email"}, "decision": {"withdrawn"}})
		p = b.get(id+"?done=consent").must(t, 200, `data-decision="withdrawn"`, "Décision enregistrée")
		if got := strings.Count(p.body, `data-testid="consent-record"`); got != 2 {
			t.Errorf("ledger rows = %d; want 2 (grant and withdrawal)", got)
		}
		_, err := s.app.Customers.Get(marketingCtx(), fidelis.PurposeMarketingEmail, fidelis.CustomerID(strings.TrimPrefix(id, "/app/customers/")))
		if e := fidelis.AsError(err); e == nil || e.Reason != "consent_withdrawn" {
			t.Errorf("read under marketing_email after the withdrawal = %v; want consent_withdrawn", err)
		}
	})
}

func marketingCtx() context.Context {
	return app.SystemContext(context.Background(), "mkt", fidelis.RoleMarketing)
}
