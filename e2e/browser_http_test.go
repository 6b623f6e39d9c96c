package e2e_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/web"
)

// browserPassword is the password of the staff users these tests create.
const browserPassword = "a-long-password-123"

// mustBackOffice starts an installation with the back-office and the admin user alice
// (locale fr) and returns the app and its base URL.
func mustBackOffice(t *testing.T, b fidelistest.Backend) (*app.App, string) {
	t.Helper()
	a := fidelistest.MustApp(t, b, fidelistest.Options{Mutate: func(c *app.Config) { c.WebHandler = web.Mount }})
	base := fidelistest.MustServe(t, a)
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	if _, err := a.Auth.CreateUser(ctx, "alice", browserPassword, fidelis.RoleAdmin, "fr"); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return a, base
}

// formClient is the shared back-office client, answering in this file's field names.
type formClient struct {
	t  *testing.T
	fc *fidelistest.FormClient
}

type formResponse struct {
	status int
	header http.Header
	body   string
}

var formCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newFormClient(t *testing.T, base string) *formClient {
	return &formClient{t: t, fc: fidelistest.NewFormClient(t, base)}
}

func (c *formClient) do(method, path string, form url.Values, header ...string) *formResponse {
	c.t.Helper()
	r := c.fc.Do(method, path, form, header...)
	return &formResponse{status: r.Status, header: r.Header, body: r.Body}
}

// csrf returns the CSRF token of the forms on a page.
func (r *formResponse) csrf(t *testing.T) string {
	t.Helper()
	m := formCSRF.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no csrf field in page (status %d)", r.status)
	}
	return m[1]
}

// signIn signs alice in and returns the session's CSRF token.
func (c *formClient) signIn() string {
	c.t.Helper()
	token := c.do("GET", "/login", nil).csrf(c.t)
	r := c.do("POST", "/login", url.Values{"username": {"alice"}, "password": {browserPassword}, "csrf": {token}})
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/app/customers" {
		c.t.Fatalf("sign-in: status %d, Location %q", r.status, r.header.Get("Location"))
	}
	list := c.do("GET", "/app/customers", nil)
	if list.status != http.StatusOK {
		c.t.Fatalf("GET /app/customers after sign-in: status %d", list.status)
	}
	return list.csrf(c.t)
}

// TestCSRF_PostWithoutToken_Refused checks that every state-changing back-office form is
// refused without the session's CSRF token, and that nothing changes.
func TestCSRF_PostWithoutToken_Refused(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		_, base := mustBackOffice(t, b)
		c := newFormClient(t, base)
		token := c.signIn()
		create := url.Values{"given_name": {"Camille"}, "email": {"camille@example.fr"}}
		for _, tt := range []struct {
			name, path string
			form       url.Values
		}{
			{"create without token", "/app/customers", create},
			{"create with a forged token", "/app/customers", with(create, "csrf", "forged-"+token[:8])},
			{"search without token", "/app/customers/search", url.Values{"q": {"camille@example.fr"}}},
			{"purpose without token", "/app/purpose", url.Values{"purpose": {"audit"}}},
			{"sign-out without token", "/logout", url.Values{}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do("POST", tt.path, tt.form)
				if r.status != http.StatusForbidden || !strings.Contains(r.body, `data-testid="error-page"`) || !strings.Contains(r.body, "csrf") {
					t.Fatalf("POST %s = %d; want 403 with the CSRF explanation\n%s", tt.path, r.status, r.body)
				}
			})
		}
		// Nothing happened: still signed in, still under the first purpose, no customer.
		list := c.do("GET", "/app/customers", nil)
		if list.status != http.StatusOK || strings.Contains(list.body, `data-testid="customer-row"`) || !strings.Contains(list.body, `data-purpose="customer_service"`) {
			t.Fatalf("after refused posts: status %d, list or purpose changed\n%s", list.status, list.body)
		}
		// With the token, the same form goes through.
		if r := c.do("POST", "/app/customers", with(create, "csrf", token)); r.status != http.StatusSeeOther {
			t.Fatalf("create with token = %d; want 303\n%s", r.status, r.body)
		}
		// The sign-in form has its own double-submit token.
		anon := newFormClient(t, base)
		r := anon.do("POST", "/login", url.Values{"username": {"alice"}, "password": {browserPassword}})
		if r.status != http.StatusForbidden {
			t.Fatalf("sign-in without token = %d; want 403", r.status)
		}
		for _, sc := range r.header.Values("Set-Cookie") {
			if strings.HasPrefix(sc, "fidelis_session=") {
				t.Fatalf("sign-in without token opened a session: %q", sc)
			}
		}
	})
}

func with(v url.Values, key, value string) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	out.Set(key, value)
	return out
}

// TestLogin_Language checks the sign-in page speaks French by default and follows
// Accept-Language, and that the language cookie wins over both.
func TestLogin_Language(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		_, base := mustBackOffice(t, b)
		for _, tt := range []struct {
			accept, cookie, want string
		}{
			{"", "", "fr"},
			{"en", "", "en"},
			{"en-GB,en;q=0.9,fr;q=0.5", "", "en"},
			{"de-DE,de;q=0.9,fr;q=0.8,en;q=0.7", "", "fr"},
			{"fr-FR,fr;q=0.9", "", "fr"},
			{"de", "", "fr"},
			{"en", "fr", "fr"},
		} {
			t.Run(tt.accept+"/"+tt.cookie, func(t *testing.T) {
				c := newFormClient(t, base)
				var h []string
				if tt.accept != "" {
					h = append(h, "Accept-Language", tt.accept)
				}
				if tt.cookie != "" {
					h = append(h, "Cookie", "fidelis_lang="+tt.cookie)
				}
				r := c.do("GET", "/login", nil, h...)
				text := map[string]string{"fr": "Mot de passe", "en": "Password"}[tt.want]
				if r.status != http.StatusOK || !strings.Contains(r.body, `<html lang="`+tt.want+`">`) || !strings.Contains(r.body, text) {
					t.Fatalf("GET /login (Accept-Language %q, cookie %q) = %d; want lang %s with %q\n%s", tt.accept, tt.cookie, r.status, tt.want, text, r.body)
				}
				if got := r.header.Get("Cache-Control"); got != "no-store" {
					t.Errorf("Cache-Control = %q; want no-store", got)
				}
			})
		}
	})
}
