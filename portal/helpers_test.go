package portal_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/portal"
)

// clock is a settable time source for the installation under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// env is an installation serving the portal, with a real SMTP server (STARTTLS required).
type env struct {
	a    *app.App
	base string
	smtp *fidelistest.SMTPServer
	logs *fidelistest.SyncBuffer
	clk  *clock
}

func mustPortal(t *testing.T, b fidelistest.Backend) *env {
	t.Helper()
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, RequireTLS: true})
	e := &env{smtp: srv, logs: &fidelistest.SyncBuffer{}, clk: &clock{t: time.Now().UTC()}}
	e.a = fidelistest.MustApp(t, b, fidelistest.Options{Now: e.clk.now, Logs: e.logs, Mutate: func(c *app.Config) {
		c.PortalHandler = portal.Mount
		c.SMTP = mailer.Config{Host: srv.Host, Port: srv.Port, TLS: mailer.TLSRequired, RootCAs: srv.RootCAs,
			From: "Boutique Dupont <no-reply@dupont.example>", Timeout: 10 * time.Second}
	}})
	e.base = fidelistest.MustServe(t, e.a)
	return e
}

// mustCustomer creates a customer as customer service would.
func (e *env) mustCustomer(t *testing.T, given, family, email, locale string) fidelis.CustomerID {
	t.Helper()
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	c, err := e.a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldGivenName: fidelis.NewSecret(given), fidelis.FieldFamilyName: fidelis.NewSecret(family),
		fidelis.FieldEmail: fidelis.NewSecret(email), fidelis.FieldLocale: fidelis.NewSecret(locale),
		fidelis.FieldCity: fidelis.NewSecret("Lyon"),
	}})
	if err != nil {
		t.Fatalf("create customer: %v", err)
	}
	return c.ID
}

// received is a message the SMTP server accepted, decoded.
type received struct {
	to      string
	subject string
	lang    string
	text    string
}

// waitMail waits until the server holds n messages and returns the n-th (1-based).
func (e *env) waitMail(t *testing.T, n int) received {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(e.smtp.Messages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("the SMTP server holds %d messages after 15s; want %d", len(e.smtp.Messages()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	m := e.smtp.Messages()[n-1]
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	r := received{to: strings.Join(m.To, ","), subject: subject, lang: msg.Header.Get("Content-Language")}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(part)
		if strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") {
			r.text = string(b)
		}
	}
	return r
}

var linkRE = regexp.MustCompile(`https?://\S+/portal/signin\?\S+`)

// link returns the sign-in link of a message, as a path and query on the server.
func (r received) link(t *testing.T, base string) string {
	t.Helper()
	l := linkRE.FindString(r.text)
	if l == "" {
		t.Fatalf("no sign-in link in the message:\n%s", r.text)
	}
	if !strings.HasPrefix(l, base+"/portal/signin?") {
		t.Fatalf("link %q does not point to the server %s", l, base)
	}
	return strings.TrimPrefix(l, base)
}

func tokenOf(t *testing.T, path string) string {
	t.Helper()
	u, err := url.Parse(path)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrf(t *testing.T, r *fidelistest.FormResponse) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("no csrf field in the page (status %d):\n%.400s", r.Status, r.Body)
	}
	return m[1]
}

func mustStatus(t *testing.T, what string, r *fidelistest.FormResponse, status int) *fidelistest.FormResponse {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d; want %d\n%.600s", what, r.Status, status, r.Body)
	}
	return r
}

func mustRedirect(t *testing.T, what string, r *fidelistest.FormResponse, to string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != to {
		t.Fatalf("%s: status %d, Location %q; want 303 to %q\n%.600s", what, r.Status, r.Header.Get("Location"), to, r.Body)
	}
}

// askLink posts the sign-in form for address and checks the one answer every address gets.
func askLink(t *testing.T, c *fidelistest.FormClient, address string) {
	t.Helper()
	token := csrf(t, mustStatus(t, "GET /portal/login", c.Do("GET", "/portal/login", nil), http.StatusOK))
	mustRedirect(t, "POST /portal/login", c.Do("POST", "/portal/login", url.Values{"email": {address}, "csrf": {token}}), "/portal/sent")
}

// signIn follows a sign-in link: the page it opens, then its one-click form.
func signIn(t *testing.T, c *fidelistest.FormClient, path string) *fidelistest.FormResponse {
	t.Helper()
	page := mustStatus(t, "GET "+path, c.Do("GET", path, nil), http.StatusOK)
	return c.Do("POST", "/portal/signin", url.Values{"token": {tokenOf(t, path)}, "csrf": {csrf(t, page)}})
}

// noMissingText fails when a page shows a catalogue key instead of a text.
func noMissingText(t *testing.T, what, body string) {
	t.Helper()
	if i := strings.Index(body, "⟦"); i >= 0 {
		t.Errorf("%s shows an untranslated key: %.80s", what, body[i:])
	}
}
