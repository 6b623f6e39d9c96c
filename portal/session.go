package portal

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/web/webform"
)

// loginView is the data of the sign-in page.
type loginView struct {
	Email   string
	Message string // a translated notice: expired link, invalid address, signed out...
	Error   bool
	CSRF    string
}

func (s *server) handleHome(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.sess != nil {
		http.Redirect(w, r, "/portal/data", http.StatusSeeOther)
		return nil
	}
	http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
	return nil
}

func (s *server) handleLoginForm(w http.ResponseWriter, r *http.Request, v *visit) error {
	if v.sess != nil {
		http.Redirect(w, r, "/portal/data", http.StatusSeeOther)
		return nil
	}
	lv := &loginView{}
	if r.URL.Query().Get("out") == "1" {
		lv.Message = s.cat.t(v.lang, "login.signed_out")
	}
	return s.renderLogin(w, r, v, http.StatusOK, lv)
}

// formToken sets a fresh double-submit token: a random value in a SameSite=Strict cookie,
// repeated in the form. There is no session yet to hold a CSRF token; a cross-site form can
// set neither (http.CrossOriginProtection also stops modern browsers' cross-site posts).
func (s *server) formToken(w http.ResponseWriter, r *http.Request) string {
	tok := auth.RandomSecret(24)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Value: tok, Path: cookiePath, MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil || s.secure})
	return tok
}

// checkFormToken checks the double-submit token of a sign-in form.
func checkFormToken(r *http.Request) error {
	c, err := r.Cookie(formCookie)
	if err != nil {
		return webform.CheckCSRF(r.PostForm.Get("csrf"), "")
	}
	return webform.CheckCSRF(r.PostForm.Get("csrf"), c.Value)
}

func (s *server) renderLogin(w http.ResponseWriter, r *http.Request, v *visit, status int, lv *loginView) error {
	lv.CSRF = s.formToken(w, r)
	return s.render(w, status, s.newPage(r, v, "login", "login.title", lv))
}

// handleLogin asks for a sign-in link. The answer is the same whether or not the address
// belongs to a customer (no account enumeration); only a malformed address, too many
// requests from this connection or a missing mail server are told apart, as none of them
// says anything about accounts.
func (s *server) handleLogin(w http.ResponseWriter, r *http.Request, v *visit) error {
	lv := &loginView{Email: strings.TrimSpace(r.PostForm.Get("email"))}
	if checkFormToken(r) != nil {
		lv.Message, lv.Error = s.cat.t(v.lang, "login.form_expired"), true
		return s.renderLogin(w, r, v, http.StatusForbidden, lv)
	}
	err := s.svc.RequestLink(r.Context(), fidelis.NewSecret(lv.Email), client(r))
	switch fidelis.ErrorCode(err) {
	case "":
		http.SetCookie(w, &http.Cookie{Name: formCookie, Path: cookiePath, MaxAge: -1})
		http.Redirect(w, r, "/portal/sent", http.StatusSeeOther)
		return nil
	case fidelis.EINVALID:
		lv.Message, lv.Error = s.cat.t(v.lang, "login.invalid"), true
		return s.renderLogin(w, r, v, http.StatusBadRequest, lv)
	case fidelis.ETOOMANY:
		lv.Message, lv.Error = s.cat.t(v.lang, "login.too_many"), true
		return s.renderLogin(w, r, v, http.StatusTooManyRequests, lv)
	case fidelis.EUNAVAILABLE:
		lv.Message, lv.Error = s.cat.t(v.lang, "login.unavailable"), true
		return s.renderLogin(w, r, v, http.StatusServiceUnavailable, lv)
	}
	return err
}

func (s *server) handleSent(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.render(w, http.StatusOK, s.newPage(r, v, "sent", "sent.title", nil))
}

// confirmView is the data of the page a sign-in link opens.
type confirmView struct {
	Token string
	CSRF  string
}

// handleConfirm is where a sign-in link leads. It does not use the link: a GET must not
// change anything, and mail scanners that open links would otherwise spend it. The page
// carries the token to a one-click form, in the customer's language (the link names it).
func (s *server) handleConfirm(w http.ResponseWriter, r *http.Request, v *visit) error {
	if l := r.URL.Query().Get("lang"); l == "fr" || l == "en" {
		s.setCookie(w, r, langCookie, l, 365*24*3600)
		v.lang = l
	}
	cv := &confirmView{Token: r.URL.Query().Get("token"), CSRF: s.formToken(w, r)}
	return s.render(w, http.StatusOK, s.newPage(r, v, "confirm", "confirm.title", cv))
}

// handleSignIn uses the link's token (once) and opens the customer session: its own cookie
// (HttpOnly, SameSite=Lax, Secure over https), a browser-session cookie whose server-side
// expiry is enforced whatever the browser keeps.
func (s *server) handleSignIn(w http.ResponseWriter, r *http.Request, v *visit) error {
	if checkFormToken(r) != nil {
		return s.renderLogin(w, r, v, http.StatusForbidden, &loginView{Message: s.cat.t(v.lang, "login.form_expired"), Error: true})
	}
	_, token, err := s.svc.SignIn(r.Context(), r.PostForm.Get("token"))
	if fidelis.ErrorCode(err) == fidelis.EUNAUTHORIZED {
		return s.renderLogin(w, r, v, http.StatusUnauthorized, &loginView{Message: s.cat.t(v.lang, "login.expired"), Error: true})
	} else if err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, token, 0)
	http.SetCookie(w, &http.Cookie{Name: formCookie, Path: cookiePath, MaxAge: -1})
	http.Redirect(w, r, "/portal/data", http.StatusSeeOther)
	return nil
}

func (s *server) handleLogout(w http.ResponseWriter, r *http.Request, v *visit) error {
	if err := s.svc.SignOut(r.Context(), v.token, v.sess); err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, "/portal/login?out=1", http.StatusSeeOther)
	return nil
}

// handleLang stores the chosen language and goes back. A GET is enough: it changes a
// display preference of this browser only.
func (s *server) handleLang(w http.ResponseWriter, r *http.Request, v *visit) error {
	lang := r.URL.Query().Get("l")
	if lang != "fr" && lang != "en" {
		return fidelis.Invalid(fidelis.FieldError{Field: "l", Rule: "invalid_locale", Message: "must be one of: fr, en"})
	}
	s.setCookie(w, r, langCookie, lang, 365*24*3600)
	next := r.URL.Query().Get("next")
	if !webform.LocalPath(next, "/portal/") {
		next = "/portal/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

// privacyView is the privacy notice, generated from the purpose registry.
type privacyView struct {
	Notice template.HTML
}

func (s *server) handlePrivacy(w http.ResponseWriter, r *http.Request, v *visit) error {
	n, err := s.svc.Notice(r.Context(), v.lang)
	if err != nil {
		return err
	}
	return s.render(w, http.StatusOK, s.newPage(r, v, "privacy", "privacy.title", &privacyView{Notice: n.HTMLFragment()}))
}
