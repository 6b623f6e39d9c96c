package portal_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/selfservice"
)

const camille = "camille.durand@example.fr"

// TestPortal_MagicLinkFlow_C2_R1_R3_R4 walks the whole portal over HTTP with a real SMTP
// exchange: ask for a link, read it from the mail server, follow it, see my data, withdraw
// a consent in one click (in the ledger at once, and marketing is refused at once), make an
// erasure request (acknowledged by e-mail, identity recorded as verified by the link), get
// my data as JSON and as a portable archive, see the requests listed, sign out. No personal
// value reaches the audit log or the application log.
func TestPortal_MagicLinkFlow_C2_R1_R3_R4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustPortal(t, b)
		id := e.mustCustomer(t, "Camille", "Durand", camille, "fr")
		fidelistest.MustConsent(t, e.a, id, fidelis.PurposeMarketingEmail)
		marketing := app.SystemContext(context.Background(), "campaign", fidelis.RoleMarketing)
		if _, err := e.a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, id); err != nil {
			t.Fatalf("marketing read before the withdrawal: %v", err)
		}

		c := fidelistest.NewFormClient(t, e.base)
		askLink(t, c, camille)
		sent := mustStatus(t, "GET /portal/sent", c.Do("GET", "/portal/sent", nil), http.StatusOK)
		if !strings.Contains(sent.Body, "Si cette adresse correspond à un compte client") {
			t.Fatalf("sent page does not give the neutral answer:\n%s", sent.Body)
		}
		m := e.waitMail(t, 1)
		if m.to != camille || m.subject != "Votre lien de connexion à votre espace client" || m.lang != "fr" || !strings.Contains(m.text, "15 minutes") {
			t.Fatalf("sign-in mail: to %q subject %q lang %q; want the customer, in French, valid 15 minutes", m.to, m.subject, m.lang)
		}
		link := m.link(t, e.base)
		if !strings.Contains(link, "lang=fr") {
			t.Errorf("link %q does not carry the customer's language", link)
		}

		// Following the link shows a one-click page; the POST opens the session.
		r := signIn(t, c, link)
		mustRedirect(t, "sign in", r, "/portal/data")
		var session *http.Cookie
		for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
			if ck.Name == "fidelis_portal" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Path != "/portal" || session.Secure {
			t.Fatalf("session cookie = %+v; want fidelis_portal, HttpOnly, SameSite=Lax, Path=/portal (not Secure over plain http)", session)
		}

		data := mustStatus(t, "GET /portal/data", c.Do("GET", "/portal/data", nil), http.StatusOK)
		for _, want := range []string{"Camille", "Durand", camille, "Lyon", "français", `data-page="data"`} {
			if !strings.Contains(data.Body, want) {
				t.Errorf("my data page lacks %q", want)
			}
		}
		noMissingText(t, "my data", data.Body)
		if data.Header.Get("Content-Security-Policy") == "" || data.Header.Get("Cache-Control") != "no-store" || data.Header.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("my data headers: CSP %q, Cache-Control %q, Referrer-Policy %q", data.Header.Get("Content-Security-Policy"), data.Header.Get("Cache-Control"), data.Header.Get("Referrer-Policy"))
		}

		// My consents: the notice text shown, one form with one button.
		page := mustStatus(t, "GET /portal/consents", c.Do("GET", "/portal/consents", nil), http.StatusOK)
		notice := fidelistest.MustNotice(t, e.a, fidelis.PurposeMarketingEmail)
		if !strings.Contains(page.Body, "recevoir des offres (marketing_email)") || !strings.Contains(page.Body, `data-testid="consent-withdraw"`) || strings.Contains(page.Body, "checked") {
			t.Fatalf("consents page: want the French notice and a withdraw button, nothing checked:\n%s", page.Body)
		}
		noMissingText(t, "my consents", page.Body)
		token := csrf(t, page)

		// CSRF: a form without the session's token changes nothing.
		bad := c.Do("POST", "/portal/consents", url.Values{"csrf": {"forged"}, "purpose": {"marketing_email"}, "channel": {"email"}, "decision": {"withdrawn"}})
		mustStatus(t, "POST /portal/consents with a bad token", bad, http.StatusForbidden)
		if _, err := e.a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, id); err != nil {
			t.Fatalf("a refused form changed the consent: %v", err)
		}

		e.clk.advance(time.Minute) // the customer reads the page
		withdraw := url.Values{"csrf": {token}, "purpose": {"marketing_email"}, "channel": {"email"}, "decision": {"withdrawn"},
			"notice_version": {"1"}, "notice_hash": {notice.Hash}}
		mustRedirect(t, "withdraw", c.Do("POST", "/portal/consents", withdraw), "/portal/consents?done=withdrawn")
		// C-2: in the ledger, collected by the portal, recorded by the customer themself...
		dpo := app.SystemContext(context.Background(), "test", fidelis.RoleDPO)
		h, err := e.a.Consents.History(dpo, fidelis.PurposeDataProtection, id, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		last := h.Records[0]
		if last.Decision != privacy.ConsentWithdrawn || last.Method != consent.MethodPortal || last.RecordedBy != "customer:"+string(id) || last.NoticeVersion != notice.Version {
			t.Fatalf("last ledger record = %+v; want withdrawn via portal by customer:%s with notice v%d", last, id, notice.Version)
		}
		// ...and marketing is refused at once.
		_, err = e.a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, id)
		if e := fidelis.AsError(err); e == nil || e.Reason != "consent_withdrawn" {
			t.Fatalf("marketing read after the withdrawal: %v; want refused (consent_withdrawn)", err)
		}
		after := mustStatus(t, "consents after withdrawal", c.Do("GET", "/portal/consents?done=withdrawn", nil), http.StatusOK)
		if !strings.Contains(after.Body, "Votre retrait est enregistré") || !strings.Contains(after.Body, `data-testid="consent-give"`) {
			t.Fatalf("consents page after withdrawal: want the flash and a give button")
		}

		// An erasure request: recorded with its clock, identity verified by the link, and
		// acknowledged by e-mail.
		reqs := mustStatus(t, "GET /portal/requests", c.Do("GET", "/portal/requests", nil), http.StatusOK)
		noMissingText(t, "my requests", reqs.Body)
		if strings.Contains(reqs.Body, "checked") {
			t.Error("the request form has a choice ticked in advance")
		}
		noKind := mustStatus(t, "request without a kind", c.Do("POST", "/portal/requests", url.Values{"csrf": {token}}), http.StatusUnprocessableEntity)
		if !strings.Contains(noKind.Body, "Choisissez le droit que vous souhaitez exercer") {
			t.Error("a request without a kind does not say what is missing")
		}
		mustRedirect(t, "erasure request", c.Do("POST", "/portal/requests", url.Values{"csrf": {token}, "kind": {"erasure"}}), "/portal/requests?done=request")
		cases := e.cases(t, id)
		if len(cases) != 1 {
			t.Fatalf("%d cases after the request; want 1", len(cases))
		}
		erasure := cases[0]
		if erasure.Kind != rights.KindErasure || erasure.Channel != rights.ChannelPortal || erasure.Status != rights.StatusReceived ||
			erasure.Identity == nil || erasure.Identity.Method != rights.IdentityEmailConfirmation || erasure.Identity.Result != rights.IdentityVerified ||
			erasure.CreatedBy != "customer:"+string(id) {
			t.Fatalf("erasure case = %+v (identity %+v); want a portal erasure, identity verified by e-mail confirmation, created by the customer", erasure, erasure.Identity)
		}
		ack := e.waitMail(t, 2)
		if ack.to != camille || !strings.Contains(ack.subject, erasure.ID) || !strings.Contains(ack.text, "votre demande d'effacement") {
			t.Fatalf("acknowledgement: to %q subject %q; want the customer, naming %s and the right\n%s", ack.to, ack.subject, erasure.ID, ack.text)
		}
		list := mustStatus(t, "requests after", c.Do("GET", "/portal/requests?done=request", nil), http.StatusOK)
		for _, want := range []string{erasure.ID, "Effacement", "reçue", "Votre demande est enregistrée"} {
			if !strings.Contains(list.Body, want) {
				t.Errorf("requests page lacks %q", want)
			}
		}

		// Access: answered at once, downloaded as JSON.
		r = c.Do("POST", "/portal/data/export", url.Values{"csrf": {token}, "kind": {"access"}})
		if r.Status != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "/download") {
			t.Fatalf("access export: %d %q", r.Status, r.Header.Get("Location"))
		}
		dl := mustStatus(t, "download access", c.Do("GET", r.Header.Get("Location"), nil), http.StatusOK)
		var export map[string]any
		if err := json.Unmarshal([]byte(dl.Body), &export); err != nil || !strings.Contains(dl.Body, camille) || dl.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("access download: %v, type %q:\n%.300s", err, dl.Header.Get("Content-Type"), dl.Body)
		}
		// Portability: a zip of JSON and CSV.
		r = c.Do("POST", "/portal/data/export", url.Values{"csrf": {token}, "kind": {"portability"}})
		zipped := mustStatus(t, "download portability", c.Do("GET", r.Header.Get("Location"), nil), http.StatusOK)
		zr, err := zip.NewReader(bytes.NewReader([]byte(zipped.Body)), int64(len(zipped.Body)))
		if err != nil {
			t.Fatalf("portability download is not a zip: %v", err)
		}
		var names []string
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		if !strings.Contains(strings.Join(names, " "), "customer.json") || !strings.Contains(strings.Join(names, " "), "customer.csv") {
			t.Errorf("portability archive holds %v; want customer.json and customer.csv", names)
		}
		cases = e.cases(t, id)
		completed := 0
		for _, cs := range cases {
			if cs.Status == rights.StatusCompleted && cs.Answer != nil && cs.Answer.Channel == rights.ChannelPortal {
				completed++
			}
		}
		if len(cases) != 3 || completed != 2 {
			t.Fatalf("cases = %d with %d completed through the portal; want 3 and 2 (access, portability)", len(cases), completed)
		}
		// Another customer's case is not mine.
		other := e.mustCustomer(t, "Jean", "Martin", "jean.martin@example.fr", "fr")
		theirs, err := e.a.Rights.Create(dpo, fidelis.PurposeDataProtection, rights.NewCase{CustomerID: other, Kind: rights.KindAccess, Channel: rights.ChannelPost})
		if err != nil {
			t.Fatal(err)
		}
		mustStatus(t, "someone else's download", c.Do("GET", "/portal/requests/"+theirs.ID+"/download", nil), http.StatusNotFound)

		// The link works once.
		r = signIn(t, fidelistest.NewFormClient(t, e.base), link)
		mustStatus(t, "reused link", r, http.StatusUnauthorized)
		if !strings.Contains(r.Body, "a expiré ou a déjà servi") {
			t.Errorf("reused link page does not say so")
		}

		// The privacy notice and the points page (not a member) render in both languages.
		for _, lang := range []string{"en", "fr"} {
			mustRedirect(t, "language", c.Do("GET", "/portal/lang?l="+lang+"&next=/portal/privacy", nil), "/portal/privacy")
			p := mustStatus(t, "privacy", c.Do("GET", "/portal/privacy", nil), http.StatusOK)
			if !strings.Contains(p.Body, `<html lang="`+lang+`">`) || !strings.Contains(p.Body, `data-testid="privacy-notice"`) {
				t.Errorf("privacy notice in %s: wrong language or no notice", lang)
			}
			noMissingText(t, "privacy "+lang, p.Body)
			for _, path := range []string{"/portal/data", "/portal/consents", "/portal/requests", "/portal/nowhere"} {
				status := http.StatusOK
				if path == "/portal/nowhere" {
					status = http.StatusNotFound
				}
				pg := mustStatus(t, path, c.Do("GET", path, nil), status)
				if !strings.Contains(pg.Body, `<html lang="`+lang+`">`) {
					t.Errorf("%s is not in %s", path, lang)
				}
				noMissingText(t, path+" "+lang, pg.Body)
			}
			pts := mustStatus(t, "points", c.Do("GET", "/portal/points", nil), http.StatusOK)
			if !strings.Contains(pts.Body, `data-testid="not-member"`) {
				t.Errorf("points page for a non-member in %s lacks the notice", lang)
			}
			noMissingText(t, "points "+lang, pts.Body)
		}

		// Sign-out ends the session.
		mustRedirect(t, "sign out", c.Do("POST", "/portal/logout", url.Values{"csrf": {token}}), "/portal/login?out=1")
		mustRedirect(t, "my data after sign-out", c.Do("GET", "/portal/data", nil), "/portal/login")

		// The customer's access log shows every step as the customer or the portal, under
		// data_protection, with no personal value anywhere.
		e.a.Portal.Wait()
		log, err := e.a.Customers.AccessLog(dpo, fidelis.PurposeDataProtection, id, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, en := range log.Items {
			if strings.HasPrefix(en.Actor, "customer:") || en.Actor == "system:portal" {
				seen[en.Action] = true
				if en.Purpose != fidelis.PurposeDataProtection && en.Purpose != fidelis.PurposeLoyalty {
					t.Errorf("portal entry %s under purpose %q", en.Action, en.Purpose)
				}
			}
			if strings.Contains(en.Reason, camille) || strings.Contains(en.Reason, "Camille") || strings.Contains(en.Reason, "Durand") {
				t.Errorf("audit entry %s holds a personal value in its reason %q", en.Action, en.Reason)
			}
		}
		for _, want := range []string{selfservice.ActLink, selfservice.ActSignIn, selfservice.ActSignOut, selfservice.ActSendMail, "customer.read", "consent.record", "rights_request.create", "customer.export"} {
			if !seen[want] {
				t.Errorf("access log has no %s entry by the customer or the portal (has %v)", want, seen)
			}
		}
		for _, secret := range []string{camille, "Camille", "Durand", tokenOf(t, link)} {
			if strings.Contains(e.logs.String(), secret) {
				t.Errorf("the application log holds %q", secret)
			}
		}
	})
}

// cases returns customer id's rights requests.
func (e *env) cases(t *testing.T, id fidelis.CustomerID) []*rights.Case {
	t.Helper()
	dpo := app.SystemContext(context.Background(), "test", fidelis.RoleDPO)
	p, err := e.a.Rights.List(dpo, fidelis.PurposeDataProtection, rights.Query{Filter: rights.Filter{CustomerID: id}})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// TestPortal_LinkRules_NoEnumeration: an unknown address gets the same answer and no mail;
// an expired link is refused; a customer writing in English gets English; the number of
// links per address and of requests per client is bounded; a form without its token is
// refused.
func TestPortal_LinkRules_NoEnumeration(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustPortal(t, b)
		e.mustCustomer(t, "Emma", "Brown", "emma.brown@example.co.uk", "en")
		c := fidelistest.NewFormClient(t, e.base)

		// Unknown: the same redirect, the same page, no message.
		askLink(t, c, "nobody@example.fr")
		e.a.Portal.Wait()
		if n := len(e.smtp.Messages()); n != 0 {
			t.Fatalf("an unknown address got %d messages; want none", n)
		}

		// Known, in English; the link expires after 15 minutes.
		askLink(t, c, "Emma.Brown@example.co.uk") // addresses match whatever their case
		m := e.waitMail(t, 1)
		if m.subject != "Your sign-in link to your customer area" || m.lang != "en" || !strings.Contains(m.link(t, e.base), "lang=en") {
			t.Fatalf("English customer's mail: subject %q lang %q", m.subject, m.lang)
		}
		confirm := mustStatus(t, "confirm page", c.Do("GET", m.link(t, e.base), nil), http.StatusOK)
		if !strings.Contains(confirm.Body, `<html lang="en">`) {
			t.Error("the link does not open the page in the customer's language")
		}
		e.clk.advance(selfservice.DefaultLinkTTL + time.Second)
		mustStatus(t, "expired link", signIn(t, c, m.link(t, e.base)), http.StatusUnauthorized)

		// Per address: three links per window, then the same answer and no message.
		for range 4 {
			askLink(t, c, "emma.brown@example.co.uk")
		}
		e.a.Portal.Wait()
		if n := len(e.smtp.Messages()); n != 1+selfservice.DefaultLinksPerAddress {
			t.Fatalf("%d messages after 4 more requests; want %d (the limit per address)", n, 1+selfservice.DefaultLinksPerAddress)
		}

		// Per client: ten requests per window, then 429.
		// Four requests in the window so far (the first two left it when the clock moved).
		for i := 4; i < selfservice.DefaultRequestsPerClient; i++ {
			askLink(t, c, "nobody@example.fr")
		}
		token := csrf(t, c.Do("GET", "/portal/login", nil))
		r := c.Do("POST", "/portal/login", url.Values{"email": {"nobody@example.fr"}, "csrf": {token}})
		mustStatus(t, "too many requests", r, http.StatusTooManyRequests)
		e.clk.advance(selfservice.LinkWindow)
		askLink(t, c, "nobody@example.fr")

		// A form without its double-submit token is refused; a malformed address is said so.
		mustStatus(t, "login without token", fidelistest.NewFormClient(t, e.base).Do("POST", "/portal/login", url.Values{"email": {"x@example.fr"}, "csrf": {"x"}}), http.StatusForbidden)
		token = csrf(t, c.Do("GET", "/portal/login", nil))
		mustStatus(t, "malformed address", c.Do("POST", "/portal/login", url.Values{"email": {"not an address"}, "csrf": {token}}), http.StatusBadRequest)

		// Private pages send an anonymous visitor to the sign-in page; a made-up session
		// cookie is no session.
		mustRedirect(t, "anonymous", c.Do("GET", "/portal/consents", nil), "/portal/login")
		mustRedirect(t, "forged session", c.Do("GET", "/portal/data", nil, "Cookie", "fidelis_portal=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "/portal/login")
	})
}
