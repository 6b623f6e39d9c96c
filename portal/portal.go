// Package portal serves the customer portal under /portal: sign-in by a single-use link
// sent by e-mail, then the customer's own pages (my data, my consents, my requests, my
// points, the privacy notice), server-rendered from embedded templates in French and
// English, without JavaScript, under the same security headers as the back-office.
//
// Handlers are thin: parse, call the self-service domain (package selfservice) as the
// signed-in customer, render. Errors go to one renderer. The customer session has its own
// cookie, apart from staff sessions.
package portal

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/selfservice"
	"github.com/fidelis/fidelis/web/webform"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names: apart from the back-office's, and scoped to /portal.
const (
	sessionCookie = "fidelis_portal"
	langCookie    = "fidelis_portal_lang"
	formCookie    = "fidelis_portal_form" // double-submit token of the sign-in forms
	cookiePath    = "/portal"
)

// maxFormBytes bounds a form body: the largest form is a request with a few purposes.
const maxFormBytes = 16 << 10

// pageNames are the templates, each its own set with layout.html.
var pageNames = []string{"login", "sent", "confirm", "data", "consents", "requests", "privacy", "points", "error"}

type server struct {
	app    *app.App
	svc    *selfservice.Service
	log    *slog.Logger
	cat    catalogue
	pages  map[string]*template.Template
	secure bool // the public URL is https: cookies are Secure even behind a TLS proxy
}

// visit is what a handler knows of the person behind a request: their language and, once
// signed in, the session and its token.
type visit struct {
	lang  string
	sess  *selfservice.Session
	token string
}

type handler func(w http.ResponseWriter, r *http.Request, v *visit) error

// Mount adds the portal's routes to mux. It panics if an embedded template does not parse:
// they are constants of the binary, and the package tests parse them.
func Mount(a *app.App, mux *http.ServeMux) {
	s := &server{app: a, svc: a.Portal, log: a.Logger, cat: messages(), pages: map[string]*template.Template{},
		secure: strings.HasPrefix(a.Config.PublicURL, "https://")}
	if s.log == nil {
		s.log = slog.Default()
	}
	for _, name := range pageNames {
		t := template.New("").Funcs(template.FuncMap{"reveal": func(v fidelis.Secret) string { return v.Reveal() }})
		s.pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/portal/static/", http.FileServerFS(static))
	mux.Handle("GET /portal/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))

	mux.HandleFunc("GET /portal/{$}", s.public(s.handleHome))
	mux.HandleFunc("GET /portal/login", s.public(s.handleLoginForm))
	mux.HandleFunc("POST /portal/login", s.public(s.handleLogin))
	mux.HandleFunc("GET /portal/sent", s.public(s.handleSent))
	mux.HandleFunc("GET /portal/signin", s.public(s.handleConfirm))
	mux.HandleFunc("POST /portal/signin", s.public(s.handleSignIn))
	mux.HandleFunc("GET /portal/lang", s.public(s.handleLang))
	mux.HandleFunc("GET /portal/privacy", s.public(s.handlePrivacy))
	mux.HandleFunc("POST /portal/logout", s.private(s.handleLogout))
	mux.HandleFunc("GET /portal/data", s.private(s.handleData))
	mux.HandleFunc("POST /portal/data/export", s.private(s.handleExport))
	mux.HandleFunc("GET /portal/requests/{id}/download", s.private(s.handleDownload))
	mux.HandleFunc("GET /portal/consents", s.private(s.handleConsents))
	mux.HandleFunc("POST /portal/consents", s.private(s.handleConsentDecide))
	mux.HandleFunc("GET /portal/requests", s.private(s.handleRequests))
	mux.HandleFunc("POST /portal/requests", s.private(s.handleRequestCreate))
	mux.HandleFunc("GET /portal/points", s.private(s.handlePoints))
	mux.HandleFunc("/portal/", s.public(func(http.ResponseWriter, *http.Request, *visit) error {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_route", Message: "there is no page at this address"}
	}))
}

// public wraps a page open to anyone; a signed-in customer is recognised (for the layout)
// but not required.
func (s *server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		v, err := s.session(r)
		if err != nil {
			v = &visit{lang: s.language(r)}
		}
		if err := webform.ParsePost(w, r, maxFormBytes); err != nil {
			s.renderError(w, r, v, err)
			return
		}
		if err := h(w, r, v); err != nil {
			s.renderError(w, r, v, err)
		}
	}
}

// private wraps a page of a signed-in customer: it resolves the session (or sends the
// browser to the sign-in page), makes the customer the actor of the request, and checks
// the CSRF token of every POST.
func (s *server) private(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		v, err := s.session(r)
		if fidelis.ErrorCode(err) == fidelis.EUNAUTHORIZED {
			http.Redirect(w, r, "/portal/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			s.renderError(w, r, &visit{lang: s.language(r)}, err)
			return
		}
		r = r.WithContext(fidelis.WithActor(r.Context(), v.sess.Actor()))
		if err = webform.ParsePost(w, r, maxFormBytes); err == nil && r.Method == http.MethodPost {
			err = webform.CheckCSRF(r.PostForm.Get("csrf"), v.sess.CSRFToken)
		}
		if err == nil {
			err = h(w, r, v)
		}
		if err != nil {
			s.renderError(w, r, v, err)
		}
	}
}

// session returns the visit of the signed-in customer of r, or EUNAUTHORIZED.
func (s *server) session(r *http.Request) (*visit, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_session", Message: "please sign in"}
	}
	sess, err := s.svc.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &visit{lang: s.language(r), sess: sess, token: c.Value}, nil
}

// language is the visitor's choice (cookie, set from the customer's language when they
// follow their link), else the browser's; French by default.
func (s *server) language(r *http.Request) string {
	if c, err := r.Cookie(langCookie); err == nil && (c.Value == "fr" || c.Value == "en") {
		return c.Value
	}
	return httpapi.PreferredLanguage(r.Header.Get("Accept-Language"))
}

// client names the requester for the sign-in rate limit: the peer's IP address. A proxy in
// front would make every customer one client; see docs/operations.md.
func client(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// setCookie sets a portal cookie: HttpOnly, SameSite=Lax, Secure over TLS or behind an
// https public URL.
func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.secure})
}

// page is what every template receives: the layout's data, and the page's own in Data.
type page struct {
	Lang   string
	Name   string
	Title  string
	Path   string // where the language switch returns to
	Signed bool
	CSRF   string
	Flash  string
	Data   any
	cat    catalogue
}

func (s *server) newPage(r *http.Request, v *visit, name, titleKey string, data any) *page {
	p := &page{Lang: v.lang, Name: name, Title: s.cat.t(v.lang, titleKey), Data: data, cat: s.cat, Path: "/portal/data"}
	if r.Method == http.MethodGet && webform.LocalPath(r.URL.Path, "/portal/") && r.URL.Path != "/portal/signin" {
		// The sign-in link's token never goes into another URL.
		p.Path = r.URL.Path
	}
	if v.sess != nil {
		p.Signed, p.CSRF = true, v.sess.CSRFToken
	}
	if done := r.URL.Query().Get("done"); done != "" && s.cat.has("flash."+done) {
		p.Flash = s.cat.t(v.lang, "flash."+done)
	}
	return p
}

// T translates a catalogue key into the page's language.
func (p *page) T(key string) string { return p.cat.t(p.Lang, key) }

// Date formats a day in the page's language ("" for the zero time).
func (p *page) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return webform.Date(p.Lang, t)
}

// When formats an instant in the page's language.
func (p *page) When(t time.Time) string { return formatTime(p.Lang, t) }

// render executes page p with status, buffered so that a template failure becomes a clean
// error page. Pages are never cached: they carry personal data or CSRF tokens.
func (s *server) render(w http.ResponseWriter, status int, p *page) error {
	return webform.Render(w, status, s.pages[p.Name], p)
}

// errorView is the data of the error page.
type errorView struct {
	Status    int
	Code      fidelis.Code
	Reason    string
	Explain   string
	RequestID string
}

// renderError is the one place where an error becomes a response: a page in the visitor's
// language with the right status. Causes go to the operator's log only.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	e := fidelis.AsError(err)
	if e == nil || e.Code == fidelis.EINTERNAL {
		e = &fidelis.Error{Code: fidelis.EINTERNAL, Reason: "internal"}
	}
	status := httpapi.Status(e)
	if status >= 500 && !errors.Is(err, context.Canceled) {
		s.log.ErrorContext(r.Context(), "portal request failed", "route", r.Pattern, "status", status,
			"request_id", fidelis.RequestIDFrom(r.Context()), "err", err)
	}
	key := "error." + string(e.Code)
	if e.Reason == "csrf" {
		key = "error.csrf"
	}
	if !s.cat.has(key) {
		key = "error.invalid"
	}
	ev := &errorView{Status: status, Code: e.Code, Reason: e.Reason, Explain: s.cat.t(v.lang, key), RequestID: fidelis.RequestIDFrom(r.Context())}
	p := s.newPage(r, v, "error", "error.title", ev)
	if rerr := s.render(w, status, p); rerr != nil {
		s.log.ErrorContext(r.Context(), "portal error page rendering failed", "err", rerr)
		http.Error(w, http.StatusText(status), status)
	}
}

// redirect answers 303 to a portal path with an optional flash key.
func redirect(w http.ResponseWriter, r *http.Request, path, done string) {
	if done != "" {
		path += "?" + url.Values{"done": {done}}.Encode()
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}
