package e2e_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/portal"
	"github.com/fidelis/fidelis/privacy"
)

// TestBrowser_PortalMagicLinkAndWithdrawal_C2 drives the customer portal in headless
// Chromium: the customer asks for a sign-in link, the link is read from a real SMTP server
// and opened in the browser, the customer sees their data and withdraws a consent in one
// click, which the consent ledger and the lawfulness decision apply at once; then the
// language switch and sign-out.
func TestBrowser_PortalMagicLinkAndWithdrawal_C2(t *testing.T) {
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, RequireTLS: true})
	a := fidelistest.MustApp(t, fidelistest.Backends(t)[0], fidelistest.Options{Mutate: func(c *app.Config) {
		c.PortalHandler = portal.Mount
		c.SMTP = mailer.Config{Host: srv.Host, Port: srv.Port, TLS: mailer.TLSRequired, RootCAs: srv.RootCAs,
			From: "Boutique Dupont <no-reply@dupont.example>", Timeout: 10 * time.Second}
	}})
	base := fidelistest.MustServe(t, a)
	sys := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	cu, err := a.Customers.Create(sys, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldGivenName: fidelis.NewSecret("Léa"), fidelis.FieldFamilyName: fidelis.NewSecret("Moreau"),
		fidelis.FieldEmail: fidelis.NewSecret("lea.moreau@example.fr"), fidelis.FieldLocale: fidelis.NewSecret("fr"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	fidelistest.MustConsent(t, a, cu.ID, fidelis.PurposeMarketingEmail)

	br := newBrowser(t, 1100, 900)
	do, text, expect, shot := br.do, br.text, br.expect, br.shot

	// The sign-in page follows the browser's language; the answer is the neutral one.
	do("ask for a link",
		chromedp.Navigate(base+"/portal/"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#email`), "lea.moreau@example.fr"),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="sent"]`)),
	)
	expect("sent page", text("sent page", `[data-testid="sent-text"]`), "If this address belongs to a customer account")

	// The link, from the mail server, opens the portal in the customer's language (fr).
	link := waitSignInLink(t, srv, base)
	do("follow the link",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`html[lang="fr"] #signin-form`)),
		chromedp.Click(css(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="data"]`)),
	)
	expect("my e-mail", text("my e-mail", `[data-testid="field-email"]`), "lea.moreau@example.fr")
	expect("my name", text("my name", `[data-testid="field-given_name"]`), "Léa")
	shot("portal-data")

	// One click withdraws the consent.
	do("open my consents",
		chromedp.Click(css(`[data-testid="nav-consents"]`)),
		chromedp.WaitVisible(css(`[data-testid="consent-withdraw"]`)),
	)
	expect("notice shown", text("notice", `[data-testid="consent-notice"]`), "recevoir des offres")
	do("withdraw",
		chromedp.Click(css(`[data-testid="consent-withdraw"]`)),
		chromedp.WaitVisible(css(`[data-testid="consent-give"]`)),
	)
	expect("flash", text("flash", `[data-testid="flash"]`), "Votre retrait est enregistré")
	shot("portal-consents")
	marketing := app.SystemContext(context.Background(), "campaign", fidelis.RoleMarketing)
	if _, err := a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, cu.ID); fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "consent_withdrawn" {
		t.Fatalf("marketing read after the click: %v; want refused (consent_withdrawn)", err)
	}
	dpo := app.SystemContext(context.Background(), "test", fidelis.RoleDPO)
	if h, err := a.Consents.History(dpo, fidelis.PurposeDataProtection, cu.ID, "", 10); err != nil ||
		h.Current["marketing_email/email"].Decision != privacy.ConsentWithdrawn {
		t.Fatalf("current consent after the click: %v, %v; want withdrawn", h, err)
	}

	// The language switch, then sign-out.
	do("switch to English",
		chromedp.Click(css(`[data-testid="lang-en"]`)),
		chromedp.WaitVisible(css(`html[lang="en"] body[data-page="consents"]`)),
	)
	expect("consents in English", text("heading", `h1`), "My consents")
	do("open my requests", chromedp.Click(css(`[data-testid="nav-requests"]`)), chromedp.WaitVisible(css(`#request-form`)))
	shot("portal-requests")
	do("sign out",
		chromedp.Click(css(`[data-testid="logout"]`)),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.Navigate(base+"/portal/data"),
		chromedp.WaitVisible(css(`#login-form`)),
	)
}

var portalLinkRE = regexp.MustCompile(`https?://\S+/portal/signin\?\S+`)

// waitSignInLink waits for the sign-in message and returns its link.
func waitSignInLink(t *testing.T, srv *fidelistest.SMTPServer, base string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for len(srv.Messages()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no sign-in message reached the SMTP server")
		}
		time.Sleep(50 * time.Millisecond)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
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
		if l := portalLinkRE.FindString(string(b)); strings.HasPrefix(part.Header.Get("Content-Type"), "text/plain") && l != "" {
			if !strings.HasPrefix(l, base) {
				t.Fatalf("link %q does not point to %s", l, base)
			}
			return l
		}
	}
	t.Fatal("the sign-in message has no link")
	return ""
}
