package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/web/webform"
)

// loginView is the data of the sign-in page.
type loginView struct {
	Username string
	Next     string
	Error    string
	CSRF     string
}

func (s *server) handleRoot(w http.ResponseWriter, r *http.Request, v *visit) error {
	if _, err := s.session(r); err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/app/customers", http.StatusSeeOther)
	return nil
}

func (s *server) handleHome(w http.ResponseWriter, r *http.Request, v *visit) error {
	http.Redirect(w, r, "/app/customers", http.StatusSeeOther)
	return nil
}

// afterLogin returns where to go after signing in: the page asked for, if it is one of
// the back-office's, else the customer list.
func afterLogin(next string) string {
	if webform.LocalPath(next, "/") && strings.HasPrefix(next, "/app/") {
		return next
	}
	return "/app/customers"
}

// handleLoginForm shows the sign-in page; a signed-in user goes straight on.
func (s *server) handleLoginForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	next := r.URL.Query().Get("next")
	if _, err := s.session(r); err == nil {
		http.Redirect(w, r, afterLogin(next), http.StatusSeeOther)
		return nil
	}
	return s.renderLogin(w, r, v, http.StatusOK, &loginView{Next: next})
}

// renderLogin renders the sign-in form with a fresh double-submit token.
//
// Login CSRF (an attacker signing the victim in to the attacker's account) is already
// stopped for modern browsers by http.CrossOriginProtection, which the API server applies
// to every route; it lets through requests that carry neither Sec-Fetch-Site nor Origin,
// though, which older browsers send. There is no session yet to hold a token, so the form
// also carries a double-submit token: a random value in a SameSite=Strict cookie scoped to
// /login, repeated in a hidden field. A cross-site form can set neither.
func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, v *visit, status int, lv *loginView) error {
	lv.CSRF = auth.RandomSecret(24)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: lv.CSRF, Path: "/login", MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	p := s.newPage(r, v, "login", s.cat.t(v.lang, "login.title"), lv)
	p.Path = "/login"
	if webform.LocalPath(lv.Next, "/") {
		p.Path += "?next=" + url.QueryEscape(lv.Next)
	}
	return s.render(w, status, p)
}

func (s *server) handleLogin(w http.ResponseWriter, r *http.Request, v *visit) error {
	lv := &loginView{Username: strings.TrimSpace(r.PostForm.Get("username")), Next: r.PostForm.Get("next")}
	c, err := r.Cookie(loginCookie)
	if err != nil || webform.CheckCSRF(r.PostForm.Get("csrf"), c.Value) != nil {
		lv.Error = s.cat.t(v.lang, "login.expired")
		return s.renderLogin(w, r, v, http.StatusForbidden, lv)
	}
	token, _, err := s.app.Auth.Login(r.Context(), lv.Username, r.PostForm.Get("password"), "")
	if fidelis.ErrorCode(err) == fidelis.EUNAUTHORIZED {
		lv.Error = s.cat.t(v.lang, "login.bad")
		return s.renderLogin(w, r, v, http.StatusUnauthorized, lv)
	} else if fidelis.ErrorCode(err) == fidelis.ETOOMANY {
		lv.Error = s.cat.t(v.lang, "login.locked")
		return s.renderLogin(w, r, v, http.StatusTooManyRequests, lv)
	} else if err != nil {
		return err
	}
	// A browser-session cookie (no Max-Age): closing the browser signs out, and the server
	// enforces the session's own expiry (sess.ExpiresAt) whatever the cookie says.
	setCookie(w, r, sessionCookie, token, 0)
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/login", MaxAge: -1})
	http.Redirect(w, r, afterLogin(lv.Next), http.StatusSeeOther)
	return nil
}

func (s *server) handleLogout(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.app.Auth.Logout(r.Context(), v.token); err != nil {
		return err
	}
	setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
	return nil
}

// handleLang stores the chosen language in a cookie and goes back. A GET is enough: it
// changes a display preference of this browser only, nothing on the server.
func (s *server) handleLang(w http.ResponseWriter, r *http.Request, v *visit) error {
	lang := r.URL.Query().Get("l")
	if lang != "fr" && lang != "en" {
		return fidelis.Invalid(fidelis.FieldError{Field: "l", Rule: "invalid_locale", Message: "must be one of: fr, en"})
	}
	setCookie(w, r, langCookie, lang, 365*24*3600)
	next := r.URL.Query().Get("next")
	if !webform.LocalPath(next, "/") {
		next = "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// handlePurpose switches the purpose the session works under (P-1); the auth service
// refuses a purpose the user's role does not hold.
func (s *server) handlePurpose(w http.ResponseWriter, r *http.Request, v *visit) error {
	p := fidelis.Purpose(r.PostForm.Get("purpose"))
	if err := s.app.Auth.SetPurpose(r.Context(), v.token, v.sess, p); err != nil {
		return err
	}
	next := r.PostForm.Get("next")
	if !webform.LocalPath(next, "/") || !strings.HasPrefix(next, "/app/") {
		next = "/app/customers"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
