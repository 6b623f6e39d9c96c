package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/web"
)

var secretRE = regexp.MustCompile(`data-testid="secret-value">(whsec_[A-Za-z0-9_-]{43})<`)

func TestWeb_RecipientsPages_D4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		a := fidelistest.MustApp(t, be, fidelistest.Options{Mutate: func(c *app.Config) {
			c.WebHandler = web.Mount
			c.WebhookPolicy = recipient.Policy{MaxAttempts: 1, Timeout: time.Second}
			c.WebhookInterval = time.Hour // the test runs the dispatcher itself
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
		base := fidelistest.MustServe(t, a)
		b := newBrowser(t, base)
		b.login("alice")
		b.get("/app/recipients").must(t, 200, `data-testid="nav-recipients"`, `data-testid="no-recipients"`, "Destinataires et sous-traitants")
		b.get("/app/recipients/new").must(t, 200, `id="recipient-form"`, "Sous-traitant (art. 28)")

		// Field errors, in French, on the form.
		bad := url.Values{"name": {"Transporteur"}, "kind": {"processor"}, "country": {"IN"}, "contact_email": {"pas une adresse"},
			"endpoint": {"http://crm.example.com/hook"}, "active": {"on"}}
		p := b.post("/app/recipients", bad).must(t, http.StatusUnprocessableEntity, `data-testid="error-summary"`,
			`data-testid="error-safeguard"`, "un destinataire hors EEE exige une garantie de transfert.",
			`data-testid="error-contract_ref"`, `data-testid="error-purposes"`, `data-testid="error-contact_email"`,
			`data-testid="error-endpoint"`, `value="Transporteur"`)
		if strings.Contains(p.body, "⟦") {
			t.Errorf("form with errors has an untranslated key: %s", regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(p.body))
		}

		// Created: the secret is shown once.
		closed := httptest.NewServer(http.NotFoundHandler())
		closedURL := closed.URL
		closed.Close()
		good := url.Values{"name": {"Transporteur"}, "kind": {"processor"}, "country": {"in"}, "safeguard": {"standard_contractual_clauses"},
			"contract_ref": {"DPA-9"}, "contact_email": {"dpo@carrier.example"}, "purposes": {"customer_service", "loyalty"},
			"endpoint": {closedURL}, "active": {"on"}}
		p = b.post("/app/recipients", good).must(t, http.StatusCreated, "Secret de signature", "Destinataire enregistré.", "Transfert hors EEE")
		m := secretRE.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("the creation page shows no secret:\n%s", p.body)
		}
		list := b.get("/app/recipients").must(t, 200, `data-testid="recipient-row"`, "Transporteur")
		rid := regexp.MustCompile(`data-id="(rcp_[0-9a-z]+)"`).FindStringSubmatch(list.body)[1]
		show := b.get("/app/recipients/"+rid).must(t, 200, "Clauses contractuelles types", `data-testid="no-deliveries"`)
		if strings.Contains(show.body, m[1]) {
			t.Error("the recipient page shows the secret again")
		}

		// A rectification dies at the closed endpoint; the page offers to redeliver it.
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldFamilyName: fidelis.NewSecret("Morel")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Customers.Update(ctx, fidelis.PurposeCustomerService, c.ID, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Dijon")}}, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := a.DeliverWebhooks(context.Background()); err != nil {
			t.Fatal(err)
		}
		show = b.get("/app/recipients/"+rid+"?state=dead").must(t, 200, `data-testid="delivery-row" data-state="dead"`, "Rectification", "abandonnée", "connection", string(c.ID))
		action := regexp.MustCompile(`action="(/app/recipients/rcp_[0-9a-z]+/deliveries/dlv_[0-9a-z]+/redeliver)"`).FindStringSubmatch(show.body)
		if action == nil {
			t.Fatalf("no redeliver form for the dead delivery:\n%s", show.body)
		}
		// Fix the endpoint through the edit form, then redeliver.
		ok := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		t.Cleanup(ok.Close)
		b.get("/app/recipients/"+rid+"/edit").must(t, 200, `name="version" value="1"`, `value="`+closedURL+`"`)
		edit := url.Values{"version": {"1"}, "name": {"Transporteur"}, "kind": {"processor"}, "country": {"IN"}, "safeguard": {"standard_contractual_clauses"},
			"contract_ref": {"DPA-9"}, "contact_email": {"dpo@carrier.example"}, "purposes": {"customer_service"}, "endpoint": {ok.URL}, "active": {"on"}}
		if p := b.post("/app/recipients/"+rid, edit); p.status != http.StatusSeeOther {
			t.Fatalf("edit: status %d\n%s", p.status, p.body)
		}
		b.post("/app/recipients/"+rid, edit).must(t, http.StatusConflict, `data-testid="conflict"`) // stale version
		if p := b.post(action[1], url.Values{}); p.status != http.StatusSeeOther {
			t.Fatalf("redeliver: status %d\n%s", p.status, p.body)
		}
		if _, err := a.DeliverWebhooks(context.Background()); err != nil {
			t.Fatal(err)
		}
		b.get("/app/recipients/"+rid+"?done=redelivered").must(t, 200, "Notification remise en file", `data-state="delivered"`)
		p = b.post("/app/recipients/"+rid+"/rotate", url.Values{}).must(t, 200, "Nouveau secret de signature créé.")
		if m2 := secretRE.FindStringSubmatch(p.body); m2 == nil || m2[1] == m[1] {
			t.Error("rotation shows no new secret")
		}

		// English.
		b.get("/lang?l=en&next=/app/recipients")
		for path, want := range map[string]string{
			"/app/recipients":                  "Recipients and processors",
			"/app/recipients/" + rid:           "Notifications sent",
			"/app/recipients/new":              "Transfer safeguard",
			"/app/recipients/" + rid + "/edit": "Edit the recipient",
		} {
			p := b.get(path).must(t, 200, want)
			if strings.Contains(p.body, "⟦") {
				t.Errorf("%s in English has an untranslated key: %s", path, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(p.body))
			}
		}

		// A role without manage_recipients sees no link and is refused.
		s2 := newBrowser(t, base)
		s2.login("sam")
		if p := s2.get("/app/customers"); strings.Contains(p.body, `data-testid="nav-recipients"`) {
			t.Error("the sales role sees the recipients link")
		}
		s2.get("/app/recipients").must(t, http.StatusForbidden)
		s2.get("/app/recipients/new").must(t, http.StatusForbidden)
	})
}
