package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/web"
)

// site is a running installation with the back-office and its logs.
type site struct {
	app  *app.App
	base string
	logs *fidelistest.SyncBuffer
}

func mustSite(t *testing.T, b fidelistest.Backend) *site {
	t.Helper()
	logs := &fidelistest.SyncBuffer{}
	a := fidelistest.MustApp(t, b, fidelistest.Options{Logs: logs, Mutate: func(c *app.Config) { c.WebHandler = web.Mount }})
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	for _, u := range []struct {
		name string
		role fidelis.Role
	}{{"alice", fidelis.RoleAdmin}, {"sam", fidelis.RoleSales}, {"marc", fidelis.RoleMarketing}} {
		if _, err := a.Auth.CreateUser(ctx, u.name, "a-long-password-123", u.role, "fr"); err != nil {
			t.Fatalf("CreateUser(%s): %v", u.name, err)
		}
	}
	return &site{app: a, base: fidelistest.MustServe(t, a), logs: logs}
}

// browser is the shared back-office client that also keeps the last CSRF token it saw.
type browser struct {
	t    *testing.T
	fc   *fidelistest.FormClient
	csrf string
}

type page struct {
	status int
	header http.Header
	body   string
}

func newBrowser(t *testing.T, base string) *browser {
	return &browser{t: t, fc: fidelistest.NewFormClient(t, base)}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values, header ...string) *page {
	b.t.Helper()
	r := b.fc.Do(method, path, form, header...)
	p := &page{status: r.Status, header: r.Header, body: r.Body}
	if m := csrfRE.FindStringSubmatch(p.body); m != nil && path != "/login" {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string, header ...string) *page {
	b.t.Helper()
	return b.do("GET", path, nil, header...)
}

// post submits a form with the session's CSRF token.
func (b *browser) post(path string, form url.Values) *page {
	b.t.Helper()
	form.Set("csrf", b.csrf)
	return b.do("POST", path, form)
}

func (b *browser) login(user string) {
	b.t.Helper()
	lp := b.get("/login")
	m := csrfRE.FindStringSubmatch(lp.body)
	if m == nil {
		b.t.Fatalf("login page has no csrf field: %s", lp.body)
	}
	p := b.do("POST", "/login", url.Values{"username": {user}, "password": {"a-long-password-123"}, "csrf": {m[1]}})
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/customers" {
		b.t.Fatalf("login %s: status %d, Location %q", user, p.status, p.header.Get("Location"))
	}
	b.get("/app/customers") // picks up the session's CSRF token
}

func (p *page) must(t *testing.T, status int, contains ...string) *page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d; want %d\n%s", p.status, status, p.body)
	}
	for _, s := range contains {
		if !strings.Contains(p.body, s) {
			t.Fatalf("page does not contain %q\n%s", s, p.body)
		}
	}
	return p
}

// createCustomer creates a customer through the form and returns its page path.
func (b *browser) createCustomer(form url.Values) string {
	b.t.Helper()
	b.get("/app/customers/new")
	p := b.post("/app/customers", form)
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("create: status %d\n%s", p.status, p.body)
	}
	loc, _, _ := strings.Cut(p.header.Get("Location"), "?")
	return loc
}

func camille() url.Values {
	return url.Values{
		"given_name": {"Camille"}, "family_name": {"Durand-Quintal"}, "email": {"camille.quintal@example.fr"},
		"phone": {"06 12 34 56 78"}, "birth_date": {"1985-07-14"}, "street": {"12 rue des Lilas"},
		"postal_code": {"69003"}, "city": {"Lyon"}, "country": {"fr"}, "locale": {"fr"},
		"attributes": {"carte = or\nmagasin = part_dieu"},
	}
}

func TestWeb_PagesInBothLanguages(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, be fidelistest.Backend) {
		s := mustSite(t, be)
		b := newBrowser(t, s.base)
		b.login("alice")
		id := b.createCustomer(camille())
		for _, lang := range []struct{ code, list, field, history string }{
			{"fr", "Nouveau client", "Date de naissance", "Historique des modifications"},
			{"en", "New customer", "Birth date", "History of changes"},
		} {
			t.Run(lang.code, func(t *testing.T) {
				if p := b.get("/lang?l=" + lang.code + "&next=/app/customers"); p.status != http.StatusSeeOther || p.header.Get("Location") != "/app/customers" {
					t.Fatalf("GET /lang: status %d, Location %q", p.status, p.header.Get("Location"))
				}
				pages := map[string]*page{
					"list":     b.get("/app/customers").must(t, 200, lang.list, `data-testid="customer-row"`, `lang="`+lang.code+`"`),
					"customer": b.get(id).must(t, 200, lang.field, lang.history, "Camille", `data-testid="access-log-row"`),
					"new":      b.get("/app/customers/new").must(t, 200, `id="customer-form"`),
					"edit":     b.get(id+"/edit").must(t, 200, `name="version" value="1"`, "carte = or"),
					"search":   b.post("/app/customers/search", url.Values{"q": {"camille.quintal@example.fr"}}).must(t, 200, "Durand-Quintal"),
					"404":      b.get("/app/customers/cus_00000000000000000000000000").must(t, 404),
					"nowhere":  b.get("/app/nowhere").must(t, 404),
				}
				for name, p := range pages {
					if strings.Contains(p.body, "⟦") {
						t.Errorf("%s page in %s has an untranslated key: %s", name, lang.code, regexp.MustCompile(`⟦[^⟧]*⟧`).FindString(p.body))
					}
					if got := p.header.Get("Cache-Control"); got != "no-store" {
						t.Errorf("%s page: Cache-Control = %q; want no-store", name, got)
					}
					if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "default-src 'self'") || !strings.Contains(got, "frame-ancestors 'none'") {
						t.Errorf("%s page: Content-Security-Policy = %q", name, got)
					}
					if got := p.header.Get("Referrer-Policy"); got != "no-referrer" {
						t.Errorf("%s page: Referrer-Policy = %q", name, got)
					}
				}
			})
		}
		// D-5: nothing the back-office did put a personal value in the logs.
		logs := s.logs.String()
		for _, v := range []string{"Camille", "Durand-Quintal", "camille.quintal", "12 34 56 78", "1985-07-14", "Lilas", "part_dieu"} {
			if strings.Contains(logs, v) {
				t.Errorf("logs contain the personal value %q", v)
			}
		}
	})
}

func TestWeb_Anonymous_RedirectsToLogin(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	b := newBrowser(t, s.base)
	for path, want := range map[string]string{
		"/":                      "/login",
		"/app/customers":         "/login?next=%2Fapp%2Fcustomers",
		"/app/customers/new":     "/login?next=%2Fapp%2Fcustomers%2Fnew",
		"/app/customers?after=x": "/login?next=%2Fapp%2Fcustomers%3Fafter%3Dx",
	} {
		if p := b.get(path); p.status != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("GET %s = %d, Location %q; want 303, %q", path, p.status, p.header.Get("Location"), want)
		}
	}
	if p := b.do("POST", "/app/customers", url.Values{"given_name": {"X"}}); p.status != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Errorf("anonymous POST = %d, Location %q; want 303 to /login", p.status, p.header.Get("Location"))
	}
	// After signing in, the visitor lands where they were going; "next" never leaves the site.
	lp := b.get("/login?next=/app/customers/new")
	token := csrfRE.FindStringSubmatch(lp.body)[1]
	p := b.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"a-long-password-123"}, "csrf": {token}, "next": {"/app/customers/new"}})
	if got := p.header.Get("Location"); got != "/app/customers/new" {
		t.Errorf("login with next: Location = %q; want /app/customers/new", got)
	}
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/login"} {
		if got := b.get("/login?next=" + url.QueryEscape(next)).header.Get("Location"); got != "/app/customers" {
			t.Errorf("signed-in GET /login?next=%s: Location = %q; want /app/customers", next, got)
		}
	}
}

func TestWeb_Login_WrongPasswordAndExpiredForm(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	b := newBrowser(t, s.base)
	lp := b.get("/login").must(t, 200, `id="login-form"`)
	token := csrfRE.FindStringSubmatch(lp.body)[1]
	b.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"wrong-password-0000"}, "csrf": {token}}).
		must(t, http.StatusUnauthorized, `data-testid="login-error"`, "Identifiant ou mot de passe incorrect", `value="alice"`)
	b.do("POST", "/login", url.Values{"username": {"alice"}, "password": {"a-long-password-123"}, "csrf": {"forged"}}).
		must(t, http.StatusForbidden, "Le formulaire a expiré")
}

func TestWeb_FieldErrors_422(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	b := newBrowser(t, s.base)
	b.login("alice")
	b.get("/app/customers/new")
	for _, tt := range []struct {
		name  string
		form  url.Values
		want  []string
		avoid string
	}{
		{"email", url.Values{"given_name": {"Léa"}, "email": {"lea@invalid"}},
			[]string{`data-testid="error-email"`, "n&#39;est pas une adresse e-mail valide", `data-testid="error-summary"`, `value="lea@invalid"`, `value="Léa"`}, ""},
		{"several", url.Values{"given_name": {"Léa"}, "birth_date": {"2999-01-01"}, "country": {"France"}, "phone": {"12"}},
			[]string{`data-testid="error-birth_date"`, "ne peut pas être dans le futur", `data-testid="error-country"`, `data-testid="error-phone"`}, ""},
		{"empty", url.Values{"city": {"Lyon"}},
			[]string{`data-testid="error-family_name"`, "au moins un nom"}, ""},
		{"attribute line", url.Values{"given_name": {"Léa"}, "attributes": {"ok = 1\nno equals sign"}},
			[]string{`data-testid="error-attributes"`, "ligne 2", "no equals sign"}, ""},
		{"attribute key", url.Values{"given_name": {"Léa"}, "attributes": {"Bad Key = 1"}},
			[]string{`data-testid="error-attributes"`, "nom d&#39;attribut invalide"}, ""},
		{"too long", url.Values{"given_name": {strings.Repeat("a", 101)}},
			[]string{`data-testid="error-given_name"`, "100 caractères au plus"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b.post("/app/customers", tt.form).must(t, http.StatusUnprocessableEntity, tt.want...)
		})
	}
	if p := b.get("/app/customers"); strings.Contains(p.body, `data-testid="customer-row"`) {
		t.Fatal("an invalid form created a customer")
	}
}

func TestWeb_Edit_HistoryAndConflict(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	b := newBrowser(t, s.base)
	b.login("alice")
	id := b.createCustomer(camille())
	b.get(id + "/edit")
	form := camille()
	form.Set("city", "Villeurbanne")
	form.Set("attributes", "carte = argent")
	form.Set("version", "1")
	if p := b.post(id, form); p.status != http.StatusSeeOther || p.header.Get("Location") != id+"?done=saved" {
		t.Fatalf("update: status %d, Location %q\n%s", p.status, p.header.Get("Location"), p.body)
	}
	b.get(id+"?done=saved").must(t, 200, "Modifications enregistrées", "Villeurbanne", `data-testid="history-row" data-version="2"`, "Lyon", "carte = or ; magasin = part_dieu")
	// The same stale form again: version 1 is no longer current.
	form.Set("city", "Bron")
	b.post(id, form).must(t, http.StatusConflict, `data-testid="conflict"`, `value="Bron"`)
	form.Set("version", "zero")
	b.post(id, form).must(t, http.StatusUnprocessableEntity, `data-testid="error-summary"`, "version du formulaire invalide")
}

func TestWeb_Purpose_FieldsAndRefusals(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	admin := newBrowser(t, s.base)
	admin.login("alice")
	id := admin.createCustomer(camille())

	t.Run("sales sees no birth date and may not collect it", func(t *testing.T) {
		b := newBrowser(t, s.base)
		b.login("sam")
		b.post("/app/purpose", url.Values{"purpose": {"sales"}}).must(t, http.StatusSeeOther)
		p := b.get(id).must(t, 200, `data-purpose="sales"`, "Camille", `data-testid="access-log-unavailable"`)
		for _, hidden := range []string{"1985", "Lilas", "69003", `data-testid="field-birth_date"`} {
			if strings.Contains(p.body, hidden) {
				t.Errorf("sales page shows %q", hidden)
			}
		}
		if e := b.get(id+"/edit").must(t, 200); strings.Contains(e.body, `name="birth_date"`) {
			t.Error("the edit form offers birth_date under sales")
		}
		// A forged form with a field the purpose does not allow is refused by the engine.
		b.get("/app/customers/new")
		b.post("/app/customers", url.Values{"given_name": {"Zoé"}, "birth_date": {"1990-01-01"}}).
			must(t, http.StatusForbidden, `data-testid="error-summary"`, "la finalité en cours n&#39;autorise pas ce champ")
	})

	t.Run("audit shows no personal field", func(t *testing.T) {
		b := newBrowser(t, s.base)
		b.login("alice")
		if p := b.post("/app/purpose", url.Values{"purpose": {"audit"}, "next": {id}}); p.status != http.StatusSeeOther || p.header.Get("Location") != id {
			t.Fatalf("switch purpose: status %d, Location %q", p.status, p.header.Get("Location"))
		}
		p := b.get(id).must(t, http.StatusForbidden, `data-testid="refusal"`, `data-purpose="audit"`, `data-testid="access-log-row"`)
		for _, v := range []string{"Camille", "camille.quintal", "Lyon", `data-testid="field-`} {
			if strings.Contains(p.body, v) {
				t.Errorf("customer page under audit shows %q", v)
			}
		}
		b.get("/app/customers").must(t, http.StatusForbidden, "Accès refusé", "action_not_covered")
	})

	t.Run("purpose not granted", func(t *testing.T) {
		b := newBrowser(t, s.base)
		b.login("marc")
		b.post("/app/purpose", url.Values{"purpose": {"data_protection"}}).must(t, http.StatusForbidden, "Votre rôle ne dispose pas de cette finalité")
	})
}

func TestWeb_List_CursorPagination(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	var inputs []customer.Input
	for i := range 30 {
		inputs = append(inputs, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldFamilyName: fidelis.NewSecret(fmt.Sprintf("Client%02d", i))}})
	}
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	if _, err := s.app.Customers.CreateMany(ctx, fidelis.PurposeCustomerService, inputs); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, s.base)
	b.login("alice")
	rows := regexp.MustCompile(`data-testid="customer-row"`)
	next := regexp.MustCompile(`href="(/app/customers\?after=cus_[0-9a-z]+)" data-testid="next-page"`)
	first := b.get("/app/customers").must(t, 200)
	m := next.FindStringSubmatch(first.body)
	if n := len(rows.FindAllString(first.body, -1)); n != 25 || m == nil {
		t.Fatalf("first page: %d rows, next link %v; want 25 rows and a next link", n, m)
	}
	second := b.get(m[1]).must(t, 200, `data-testid="first-page"`)
	if n := len(rows.FindAllString(second.body, -1)); n != 5 || next.MatchString(second.body) {
		t.Fatalf("second page: %d rows, next link %v; want 5 rows and none", n, next.MatchString(second.body))
	}
	b.get("/app/customers?after=not-a-cursor").must(t, http.StatusUnprocessableEntity, "lien de pagination invalide")
}

func TestWeb_Static(t *testing.T) {
	s := mustSite(t, fidelistest.Backends(t)[0])
	b := newBrowser(t, s.base)
	p := b.get("/static/fidelis.css").must(t, 200, ".topbar")
	if ct := p.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type = %q; want text/css", ct)
	}
	b.get("/static/favicon.svg").must(t, 200, "<svg")
}

// TestWeb_AccessLog_NamesWhoActed_P4 shows the access log and history with usernames and
// token names, not internal IDs.
func TestWeb_AccessLog_NamesWhoActed_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		s := mustSite(t, b)
		sam := newBrowser(t, s.base)
		sam.login("sam")
		page := sam.createCustomer(url.Values{"given_name": {"Inès"}, "email": {"ines.p4@example.com"}})
		id := strings.TrimPrefix(page, "/app/customers/")

		tok, _, err := s.app.Auth.CreateToken(app.SystemContext(context.Background(), "test", fidelis.RoleAdmin), "caisse-lyon", fidelis.RoleSupport)
		if err != nil {
			t.Fatal(err)
		}
		fidelistest.NewClient(t, s.base, tok).Do("GET", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, nil).MustStatus(t, http.StatusOK)
		// The customer reading their own record in the portal.
		self := fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorCustomer, ID: id, Role: fidelis.RoleSubject})
		if _, err := s.app.Customers.Get(self, fidelis.PurposeDataProtection, fidelis.CustomerID(id)); err != nil {
			t.Fatalf("Get as the customer = %v", err)
		}

		alice := newBrowser(t, s.base)
		alice.login("alice")
		p := alice.get(page).must(t, http.StatusOK, "caisse-lyon (API)", "alice (", "le client lui-même (espace client)")
		if !strings.Contains(p.body, ">sam<") && !strings.Contains(p.body, "sam\n") && !strings.Contains(p.body, "sam ") {
			t.Errorf("customer page does not name sam in the access log")
		}
		if strings.Contains(p.body, "user:usr_") || strings.Contains(p.body, "token:tok_") || strings.Contains(p.body, "customer:cus_") {
			t.Errorf("customer page shows internal actor IDs")
		}
	})
}
