package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/register"
)

// TestAPI_Register_D2 fetches the register in every format and language on both backends:
// roles holding read_register get it, others are refused, and the configured controller
// and every purpose with its basis are in it.
func TestAPI_Register_D2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b, fidelistest.Options{Mutate: func(c *app.Config) {
			c.Controller = register.Controller{Name: "Maison Lefèvre SA", Email: "rgpd@lefevre.example", DPOContact: "https://lefevre.example/dpo"}
		}})
		base := fidelistest.MustServe(t, a)
		for _, role := range []fidelis.Role{fidelis.RoleAdmin, fidelis.RoleDPO, fidelis.RoleAuditor} {
			c := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, role))
			r := c.Do("GET", "/api/v1/register", "", nil).MustStatus(t, http.StatusOK)
			var reg register.Register
			if err := json.Unmarshal(r.Body, &reg); err != nil {
				t.Fatalf("%s: register JSON: %v", role, err)
			}
			if reg.Lang != "fr" || reg.Format != register.FormatRegister || !reg.Verify() || reg.RegistryDate == "" ||
				r.Header.Get("ETag") != `"`+reg.ContentHash+`"` || r.Header.Get("Content-Language") != "fr" {
				t.Errorf("%s: register lang %q format %q verify %v date %q ETag %q; want French, verified, dated, hash as ETag",
					role, reg.Lang, reg.Format, reg.Verify(), reg.RegistryDate, r.Header.Get("ETag"))
			}
			if reg.Controller.Name != "Maison Lefèvre SA" || reg.Controller.Configured || reg.DPO.Contact != "https://lefevre.example/dpo" {
				t.Errorf("%s: controller %+v dpo %+v", role, reg.Controller, reg.DPO)
			}
		}
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		for _, tc := range []struct{ format, lang, ctype, want string }{
			{"md", "en", "text/markdown; charset=utf-8", "# Record of processing activities"},
			{"md", "fr", "text/markdown; charset=utf-8", "# Registre des activités de traitement"},
			{"html", "en", "text/html; charset=utf-8", "<h1>Record of processing activities</h1>"},
			{"json", "en", "application/json", `"title": "Record of processing activities"`},
		} {
			r := admin.Do("GET", "/api/v1/register?format="+tc.format+"&lang="+tc.lang, "", nil).MustStatus(t, http.StatusOK)
			body := string(r.Body)
			if r.Header.Get("Content-Type") != tc.ctype || !strings.Contains(body, tc.want) || !strings.Contains(body, "Maison Lefèvre SA") {
				t.Errorf("format=%s lang=%s: Content-Type %q, body lacks %q or the controller", tc.format, tc.lang, r.Header.Get("Content-Type"), tc.want)
			}
			for _, p := range a.Registry.Purposes() {
				if !strings.Contains(body, string(p.Name)) {
					t.Errorf("format=%s lang=%s: purpose %s missing", tc.format, tc.lang, p.Name)
				}
			}
		}
		for _, role := range []fidelis.Role{fidelis.RoleSupport, fidelis.RoleMarketing, fidelis.RoleSales} {
			c := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, role))
			p := problemOf(t, c.Do("GET", "/api/v1/register?format=nope", "", nil).MustStatus(t, http.StatusForbidden))
			if p.Reason != "action_not_permitted" {
				t.Errorf("%s: reason %q; want action_not_permitted (before the bad format is looked at)", role, p.Reason)
			}
		}
		p := problemOf(t, admin.Do("GET", "/api/v1/register?format=pdf&lang=de", "", nil).MustStatus(t, http.StatusUnprocessableEntity))
		if len(p.Errors) != 2 || p.Errors[0].Field != "format" || p.Errors[1].Field != "lang" {
			t.Errorf("bad format and lang: errors %+v; want format and lang", p.Errors)
		}
		problemOf(t, fidelistest.NewClient(t, base, "").Do("GET", "/api/v1/register", "", nil).MustStatus(t, http.StatusUnauthorized))
	})
}

// TestPrivacyPage_PublicNoticeByLanguage_R5: the privacy notice is public, in the language of
// ?lang= or else of Accept-Language, French by default; readable HTML with a strict CSP, and
// JSON.
func TestPrivacyPage_PublicNoticeByLanguage_R5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		anon := fidelistest.NewClient(t, fidelistest.MustServe(t, a), "")
		for _, tc := range []struct{ query, accept, lang, title string }{
			{"", "", "fr", "Politique de confidentialité"},
			{"", "en-GB,en;q=0.9,fr;q=0.5", "en", "Privacy notice"},
			{"", "de-DE,fr;q=0.3,en;q=0.7", "en", "Privacy notice"},
			{"", "de-DE", "fr", "Politique de confidentialité"},
			{"?lang=fr", "en", "fr", "Politique de confidentialité"},
			{"?lang=en", "fr", "en", "Privacy notice"},
		} {
			var header []string
			if tc.accept != "" {
				header = []string{"Accept-Language", tc.accept}
			}
			r := anon.Do("GET", "/privacy"+tc.query, "", nil, header...).MustStatus(t, http.StatusOK)
			body := string(r.Body)
			if r.Header.Get("Content-Language") != tc.lang || !strings.Contains(body, "<h1>"+tc.title+"</h1>") || !strings.HasPrefix(body, "<!doctype html>") {
				t.Errorf("GET /privacy%s Accept-Language %q: Content-Language %q; want %s page %q", tc.query, tc.accept, r.Header.Get("Content-Language"), tc.lang, tc.title)
			}
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, register.StyleSource()) || strings.Contains(body, "<script") {
				t.Errorf("GET /privacy CSP %q; want default-src 'none' and the style hash, and no script", csp)
			}
			if !strings.Contains(body, "CNIL") || !strings.Contains(r.Header.Get("Vary"), "Accept-Language") {
				t.Errorf("GET /privacy%s: no CNIL or no Vary: Accept-Language", tc.query)
			}
			j := anon.Do("GET", "/privacy.json"+tc.query, "", nil, header...).MustStatus(t, http.StatusOK)
			var n register.Notice
			if err := json.Unmarshal(j.Body, &n); err != nil || n.Lang != tc.lang || !n.Verify() || r.Header.Get("ETag") != j.Header.Get("ETag") {
				t.Errorf("GET /privacy.json%s: %v lang %q; want a verified %s notice with the page's ETag", tc.query, err, n.Lang, tc.lang)
			}
		}
		if p := problemOf(t, anon.Do("GET", "/privacy?lang=de", "", nil).MustStatus(t, http.StatusUnprocessableEntity)); len(p.Errors) != 1 || p.Errors[0].Field != "lang" {
			t.Errorf("lang=de: %+v; want one error on lang", p.Errors)
		}
		// Not configured is said, not invented.
		n := anon.Do("GET", "/privacy?lang=en", "", nil).MustStatus(t, http.StatusOK)
		if !strings.Contains(string(n.Body), "not configured") {
			t.Error("an installation without controller configuration does not say so on the notice")
		}
	})
}

func TestPreferredLanguage(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", "fr"}, {"en", "en"}, {"EN-us", "en"}, {"fr-CA, en;q=0.8", "fr"}, {"en;q=0.4, fr;q=0.6", "fr"},
		{"fr;q=0, en;q=0.1", "en"}, {"de, it", "fr"}, {"en;q=2", "fr"}, {"en;q=abc", "fr"}, {"en, fr", "en"},
	} {
		if got := httpapi.PreferredLanguage(tt.in); got != tt.want {
			t.Errorf("PreferredLanguage(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// The default registry grants read_register to exactly admin, dpo and auditor.
func TestDefaults_ReadRegisterGrant_P4(t *testing.T) {
	reg := privacy.DefaultRegistry()
	for _, g := range reg.Roles() {
		want := g.Role == fidelis.RoleAdmin || g.Role == fidelis.RoleDPO || g.Role == fidelis.RoleAuditor
		if got := reg.Can(g.Role, fidelis.ActionReadRegister); got != want {
			t.Errorf("Can(%s, read_register) = %v; want %v", g.Role, got, want)
		}
	}
}

// TestAPI_RegisterListsRecipientsRegistry_D4 checks that the register and the public privacy
// notice are generated from the recipients registry at the time of the request (D-2, D-4,
// a processor outside the EEA appears with its safeguard, an inactive one does not.
func TestAPI_RegisterListsRecipientsRegistry_D4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b, fidelistest.Options{})
		base := fidelistest.MustServe(t, a)
		ctx := app.SystemContext(t.Context(), "test", fidelis.RoleAdmin)
		mk := func(name, country string, sg recipient.Safeguard, active bool) {
			k := recipient.KindProcessor
			purposes := []fidelis.Purpose{fidelis.PurposeMarketingEmail}
			contract, contact := "DPA-2026-"+country, "dpo@processor.example"
			in := recipient.Input{Name: &name, Kind: &k, Purposes: &purposes, Country: &country, Safeguard: &sg, Active: &active, ContractRef: &contract, ContactEmail: &contact}
			if _, _, err := a.Recipients.Create(ctx, in); err != nil {
				t.Fatalf("Create(%s) = %v", name, err)
			}
		}
		mk("Routeur Courriel SAS", "FR", recipient.SafeguardNone, true)
		mk("Mailer Inc.", "US", recipient.SafeguardSCC, true)
		mk("Ancien Prestataire SARL", "FR", recipient.SafeguardNone, false)

		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		var reg register.Register
		if err := json.Unmarshal(admin.Do("GET", "/api/v1/register?lang=en", "", nil).MustStatus(t, http.StatusOK).Body, &reg); err != nil {
			t.Fatal(err)
		}
		got := map[string]register.RecipientView{}
		for _, r := range reg.Recipients {
			got[r.Name] = r
		}
		if r, ok := got["Mailer Inc."]; !ok || !r.Transfer || r.Safeguard != register.SafeguardSCC || r.Kind != register.KindProcessor {
			t.Errorf("register recipient Mailer Inc. = %+v, %v; want a processor, a transfer under standard contractual clauses", r, ok)
		}
		if r, ok := got["Routeur Courriel SAS"]; !ok || r.Transfer {
			t.Errorf("register recipient Routeur Courriel SAS = %+v, %v; want listed, no transfer", r, ok)
		}
		if _, ok := got["Ancien Prestataire SARL"]; ok {
			t.Errorf("register lists an inactive recipient")
		}
		page := fidelistest.NewClient(t, base, "").Do("GET", "/privacy?lang=en", "", nil).MustStatus(t, http.StatusOK)
		if body := string(page.Body); !strings.Contains(body, "Mailer Inc.") || !strings.Contains(body, "Routeur Courriel SAS") || strings.Contains(body, "Ancien Prestataire") {
			t.Errorf("public privacy notice does not list exactly the active recipients")
		}
	})
}
