// Package web serves the staff back-office: server-rendered pages (html/template), a
// stylesheet and an icon, all embedded in the binary. No JavaScript, no external resources.
//
// Every page that touches personal data calls the customer service under the purpose the
// session works under (P-1); the header shows that purpose and lets the user switch to
// another one their role holds. Handlers are thin: parse, call the service, render; errors
// go to one renderer (renderError).
package web

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/web/webform"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	sessionCookie = "fidelis_session"
	langCookie    = "fidelis_lang"
	loginCookie   = "fidelis_login_csrf"
)

// maxFormBytes bounds a form body: a customer form with 50 attributes of 500 characters
// stays well under it.
const maxFormBytes = 64 << 10

type server struct {
	app   *app.App
	log   *slog.Logger
	cat   catalogue
	pages map[string]*template.Template
}

// visit is what a handler knows about the person behind a request: the language, and for a
// signed-in user the session and its token. sess is nil on public pages.
type visit struct {
	lang  string
	sess  *auth.Session
	token string
}

type handler func(w http.ResponseWriter, r *http.Request, v *visit) error

// Mount adds the back-office routes to mux. It panics if an embedded template does not
// parse: they are constants of the binary, and the package tests parse them.
func Mount(a *app.App, mux *http.ServeMux) {
	s := &server{app: a, log: a.Logger, cat: messages(), pages: map[string]*template.Template{}}
	maps.Copy(s.cat, recipientMessages())
	if s.log == nil {
		s.log = slog.Default()
	}
	// Each page is its own template set: layout.html around the page's "content".
	maps.Copy(s.cat, rightsMessages())
	maps.Copy(s.cat, consentMessages())
	maps.Copy(s.cat, retentionMessages())
	for _, name := range []string{"login", "customers", "customer", "form", "error", "register", "recipients", "recipient", "recipient_form", "rights", "rights_case", "retention"} {
		t := template.New("").Funcs(templateFuncs(s.cat))
		s.pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))

	mux.HandleFunc("GET /{$}", s.public(s.handleRoot))
	mux.HandleFunc("GET /login", s.public(s.handleLoginForm))
	mux.HandleFunc("POST /login", s.public(s.handleLogin))
	mux.HandleFunc("GET /lang", s.public(s.handleLang))
	mux.HandleFunc("POST /logout", s.private(s.handleLogout))
	mux.HandleFunc("POST /app/purpose", s.private(s.handlePurpose))
	mux.HandleFunc("GET /app/{$}", s.private(s.handleHome))
	mux.HandleFunc("GET /app/customers", s.private(s.handleCustomerList))
	mux.HandleFunc("POST /app/customers/search", s.private(s.handleCustomerSearch))
	mux.HandleFunc("GET /app/customers/new", s.private(s.handleCustomerNew))
	mux.HandleFunc("POST /app/customers", s.private(s.handleCustomerCreate))
	mux.HandleFunc("GET /app/customers/{id}", s.private(s.handleCustomerShow))
	mux.HandleFunc("GET /app/customers/{id}/edit", s.private(s.handleCustomerEdit))
	mux.HandleFunc("POST /app/customers/{id}", s.private(s.handleCustomerUpdate))
	mux.HandleFunc("POST /app/customers/{id}/consents", s.private(s.handleConsentRecord))
	mux.HandleFunc("GET /app/register", s.private(s.handleRegister))
	mux.HandleFunc("GET /app/register/download", s.private(s.handleRegisterDownload))
	s.mountRecipients(mux)
	s.rightsRoutes(mux)
	s.retentionRoutes(mux)
	s.loyaltyRoutes(mux)
	mux.HandleFunc("/app/", s.private(func(http.ResponseWriter, *http.Request, *visit) error {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_route", Message: "there is no page at this address"}
	}))
}

// public wraps a handler for pages open to anyone (sign-in, language switch).
func (s *server) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		v := &visit{lang: s.language(r, nil)}
		if err := webform.ParsePost(w, r, maxFormBytes); err != nil {
			s.renderError(w, r, v, err)
			return
		}
		if err := h(w, r, v); err != nil {
			s.renderError(w, r, v, err)
		}
	}
}

// private wraps a handler for signed-in staff: it resolves the session cookie (or sends the
// browser to the sign-in page), puts the user in the context as the actor, and checks the
// CSRF token of every POST.
func (s *server) private(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		webform.SecureHeaders(w)
		v, err := s.session(r)
		if fidelis.ErrorCode(err) == fidelis.EUNAUTHORIZED {
			s.toLogin(w, r)
			return
		}
		if err != nil {
			s.renderError(w, r, &visit{lang: s.language(r, nil)}, err)
			return
		}
		r = r.WithContext(fidelis.WithActor(r.Context(), v.sess.User.Actor()))
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

// session returns the visit of the signed-in user of r, or EUNAUTHORIZED.
func (s *server) session(r *http.Request) (*visit, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_session", Message: "please sign in"}
	}
	sess, err := s.app.Auth.Session(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &visit{lang: s.language(r, sess.User), sess: sess, token: c.Value}, nil
}

// toLogin sends an anonymous visitor to the sign-in page, remembering where they were going
// when it was a page (not a form post, whose body is lost anyway).
func (s *server) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && webform.LocalPath(r.URL.RequestURI(), "/") {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// purposeView is a purpose as the header and pages show it.
type purposeView struct {
	Name     fidelis.Purpose
	Label    string
	Basis    string
	Selected bool
}

// page is what every template receives: the layout's data, and the page's own in Data.
type page struct {
	Lang     string
	Name     string // template name; also body[data-page] for tests
	Title    string
	Path     string // where the language and purpose switches return to
	User     *auth.User
	Role     string
	CSRF     string
	Purpose  *purposeView
	Purposes []purposeView
	Flash    string
	Register bool // the role may read the register of processing (D-2): shown in the navigation
	Data     any
	cat      catalogue

	// Recipients is true when the user may manage the recipients registry (navigation).
	Recipients bool
	// Loyalty is true when the user may manage loyalty programmes (navigation).
	Loyalty bool
}

// newPage builds the layout data for v.
func (s *server) newPage(r *http.Request, v *visit, name, title string, data any) *page {
	p := &page{Lang: v.lang, Name: name, Title: title, Data: data, cat: s.cat, Path: "/app/customers"}
	if r.Method == http.MethodGet && webform.LocalPath(r.URL.RequestURI(), "/") {
		p.Path = r.URL.RequestURI()
	}
	if v.sess == nil {
		return p
	}
	u := v.sess.User
	p.User, p.CSRF, p.Role = u, v.sess.CSRFToken, s.cat.role(u.Role, v.lang)
	p.Register = s.app.Registry.Can(u.Role, fidelis.ActionReadRegister)
	p.Recipients = s.app.Registry.Can(u.Role, fidelis.ActionManageRecipients)
	p.Loyalty = s.app.Registry.Can(u.Role, fidelis.ActionManageLoyalty)
	for _, d := range s.app.Registry.PurposesOf(u.Role) {
		pv := s.purposeView(d, v.lang)
		pv.Selected = d.Name == v.sess.Purpose
		if pv.Selected {
			p.Purpose = &pv
		}
		p.Purposes = append(p.Purposes, pv)
	}
	return p
}

func (s *server) purposeView(d *privacy.Purpose, lang string) purposeView {
	return purposeView{Name: d.Name, Label: d.Description.In(lang), Basis: s.cat.t(lang, "basis."+string(d.LawfulBasis))}
}

// T translates a catalogue key into the page's language.
func (p *page) T(key string) string { return p.cat.t(p.Lang, key) }

// Field returns the label of a customer field ("attributes.x" names a custom attribute).
func (p *page) Field(f fidelis.Field) string { return p.cat.field(p.Lang, string(f)) }

// When formats an instant in the page's language, in UTC.
func (p *page) When(t time.Time) string { return formatTime(p.Lang, t) }

// render executes page p with status. The output is buffered so that a template failure
// becomes a clean error page rather than half a page. Pages are never cached: most carry
// personal data, and the others carry CSRF tokens.
func (s *server) render(w http.ResponseWriter, status int, p *page) error {
	return webform.Render(w, status, s.pages[p.Name], p)
}

// errorView is the data of the error page.
type errorView struct {
	Status    int
	Code      fidelis.Code
	Reason    string
	Heading   string
	Explain   string // translated explanation of the code or reason
	Detail    string // the error's safe message, as the domain wrote it (English)
	Fields    []fieldMsg
	RequestID string
}

// renderError is the one place where an error becomes a response: a page in the visitor's
// language with the right status. Internal causes go to the operator's log only, with the
// request ID shown to the user to quote.
func (s *server) renderError(w http.ResponseWriter, r *http.Request, v *visit, err error) {
	e := fidelis.AsError(err)
	if e == nil || e.Code == fidelis.EINTERNAL {
		e = &fidelis.Error{Code: fidelis.EINTERNAL, Reason: "internal"}
	}
	status := httpapi.Status(e)
	if status >= 500 && !errors.Is(err, context.Canceled) {
		s.log.ErrorContext(r.Context(), "back-office request failed", "route", r.Pattern, "status", status,
			"request_id", fidelis.RequestIDFrom(r.Context()), "err", err)
	}
	ev := &errorView{Status: status, Code: e.Code, Reason: e.Reason, RequestID: fidelis.RequestIDFrom(r.Context()),
		Heading: s.cat.t(v.lang, "error.title."+string(e.Code)), Explain: s.cat.explain(v.lang, e)}
	if e.Code != fidelis.EINTERNAL {
		ev.Detail = e.Message
	}
	for _, f := range e.Fields {
		ev.Fields = append(ev.Fields, s.cat.fieldError(v.lang, f))
	}
	p := s.newPage(r, v, "error", ev.Heading, ev)
	if rerr := s.render(w, status, p); rerr != nil {
		s.log.ErrorContext(r.Context(), "error page rendering failed", "err", rerr)
		http.Error(w, http.StatusText(status), status)
	}
}

// setCookie sets a cookie on the whole site: HttpOnly, SameSite=Lax, Secure over TLS.
func setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
}
