package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
)

// TestWeb_Register_LanguagesAndDownloads_D2: an administrator finds the register in the
// navigation, reads it in French or English whatever the page's language, and downloads it
// as Markdown and JSON; a sales user neither sees nor opens it.
func TestWeb_Register_LanguagesAndDownloads_D2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		s := mustSite(t, be)
		b := newBrowser(t, s.base)
		b.login("alice")
		b.get("/app/customers").must(t, 200, `data-testid="nav-register"`, `href="/app/register"`)
		for _, tc := range []struct{ query, ui, title, other string }{
			{"", "Registre des activités de traitement", "<h1>Registre des activités de traitement</h1>", "Download (JSON)"},
			{"?lang=en", "Télécharger (JSON)", "<h1>Record of processing activities</h1>", "Retention"},
			{"?lang=fr", "Télécharger (Markdown)", "<h1>Registre des activités de traitement</h1>", "Durée de conservation"},
		} {
			p := b.get("/app/register"+tc.query).must(t, 200, `data-testid="register-document"`, tc.ui, tc.title)
			if tc.query == "" && strings.Contains(p.body, tc.other) {
				t.Errorf("French page shows the English label %q", tc.other)
			}
			if tc.query != "" && !strings.Contains(p.body, tc.other) {
				t.Errorf("register%s lacks %q", tc.query, tc.other)
			}
			for _, pd := range privacy.DefaultPurposes() {
				if !strings.Contains(p.body, `data-purpose="`+string(pd.Name)+`"`) {
					t.Errorf("register%s lacks purpose %s", tc.query, pd.Name)
				}
			}
			if strings.Contains(p.body, "⟦") {
				t.Errorf("register%s has an untranslated key: %s", tc.query, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(p.body))
			}
		}
		md := b.get("/app/register/download?format=md&lang=en").must(t, 200, "# Record of processing activities")
		if cd := md.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="register-en-`) || !strings.HasSuffix(cd, `.md"`) {
			t.Errorf("Markdown download Content-Disposition = %q", cd)
		}
		j := b.get("/app/register/download?format=json&lang=fr").must(t, 200)
		var reg register.Register
		if err := json.Unmarshal([]byte(j.body), &reg); err != nil || !reg.Verify() || reg.Lang != "fr" || j.header.Get("Content-Type") != "application/json" {
			t.Errorf("JSON download: %v, lang %q, Content-Type %q; want a verified French register", err, reg.Lang, j.header.Get("Content-Type"))
		}
		b.get("/app/register?lang=de").must(t, http.StatusUnprocessableEntity)
		b.get("/app/register/download?format=pdf").must(t, http.StatusUnprocessableEntity)

		sales := newBrowser(t, s.base)
		sales.login("sam")
		if p := sales.get("/app/customers"); strings.Contains(p.body, `data-testid="nav-register"`) {
			t.Error("a sales user sees the register in the navigation")
		}
		sales.get("/app/register").must(t, http.StatusForbidden, `data-testid="error-page"`)
		sales.get("/app/register/download?format=json").must(t, http.StatusForbidden)
	})
}
