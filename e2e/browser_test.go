package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fidelis/fidelis/fidelistest"
)

// TestBrowser_BackOffice drives the back-office in headless Chromium: sign-in, a form with
// a field error in French, creation, an edit that shows in the history, the language switch,
// the exact search, the access log, a purpose without access to personal fields, sign-out.
func TestBrowser_BackOffice(t *testing.T) {
	_, base := mustBackOffice(t, fidelistest.Backends(t)[0])
	// The browser asks for English: the sign-in page follows it, the signed-in pages follow
	// the user's locale (fr) until the user picks a language.
	br := newBrowser(t, 1280, 1000)
	do, get, text, count, bodyText, expect, shot := br.do, br.get, br.text, br.count, br.bodyText, br.expect, br.shot

	// A wrong password is refused, in the browser's language.
	do("open the sign-in page", chromedp.Navigate(base+"/app/customers"), chromedp.WaitVisible(css(`#login-form`)))
	do("sign in with a wrong password",
		chromedp.SendKeys(css(`#username`), "alice"),
		chromedp.SendKeys(css(`#password`), "not-the-password"),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
	)
	expect("sign-in error", text("wrong password error", `[data-testid="login-error"]`), "Wrong username or password")
	shot("fidelis-login")

	// Signing in lands on the page first asked for, in the user's language (fr). The page
	// with the error keeps the username and never the password.
	do("sign in",
		chromedp.SendKeys(css(`#password`), browserPassword),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="customers"]`)),
	)
	expect("header user", text("header", `[data-testid="current-user"]`), "alice", "Administrateur")
	expect("empty list", text("empty list", `[data-testid="no-customers"]`), "Aucun client")

	// An invalid e-mail address comes back as a field error in French, values kept.
	do("open the new customer form",
		chromedp.Click(css(`[data-testid="new-customer"]`)),
		chromedp.WaitVisible(css(`#customer-form`)),
	)
	do("fill the form",
		chromedp.SendKeys(css(`#f-given_name`), "Camille"),
		chromedp.SendKeys(css(`#f-family_name`), "Durand"),
		chromedp.SendKeys(css(`#f-email`), "camille.durand@exemple"),
		chromedp.SendKeys(css(`#f-phone`), "06 12 34 56 78"),
		chromedp.SetValue(css(`#f-birth_date`), "1985-07-14"),
		chromedp.SendKeys(css(`#f-street`), "12 rue des Lilas"),
		chromedp.SendKeys(css(`#f-postal_code`), "69003"),
		chromedp.SendKeys(css(`#f-city`), "Lyon"),
		chromedp.SendKeys(css(`#f-country`), "FR"),
		chromedp.SetValue(css(`#f-locale`), "fr"),
		chromedp.SendKeys(css(`#f-attributes`), "carte = or\nmagasin = part_dieu"),
		chromedp.Click(css(`[data-testid="save"]`)),
	)
	expect("e-mail field error", text("field error", `[data-testid="error-email"]`), "n'est pas une adresse e-mail valide")
	expect("error summary", text("error summary", `[data-testid="error-summary"]`), "E-mail")
	shot("fidelis-form-error")
	given := get("values kept", chromedp.Value(css(`#f-given_name`)))
	expect("given name after the error", given, "Camille")

	// Fixed, the customer is created and its page shows the values.
	do("fix the e-mail",
		chromedp.SetValue(css(`#f-email`), "camille.durand@example.fr"),
		chromedp.Click(css(`[data-testid="save"]`)),
		chromedp.WaitVisible(css(`body[data-page="customer"]`)),
	)
	expect("flash", text("flash", `[data-testid="flash"]`), "Client créé")
	expect("e-mail", text("e-mail", `[data-testid="field-email"]`), "camille.durand@example.fr")
	expect("city", text("city", `[data-testid="field-city"]`), "Lyon")
	expect("birth date", text("birth date", `[data-testid="field-birth_date"]`), "14 juillet 1985")
	expect("attribute", text("attribute", `[data-testid="attr-magasin"]`), "part_dieu")

	// Editing the city shows in the history with the previous value.
	do("edit the city",
		chromedp.Click(css(`[data-testid="edit-customer"]`)),
		chromedp.WaitVisible(css(`#customer-form`)),
		chromedp.SetValue(css(`#f-city`), "Villeurbanne"),
		chromedp.Click(css(`[data-testid="save"]`)),
		chromedp.WaitVisible(css(`body[data-page="customer"]`)),
	)
	expect("flash", text("flash", `[data-testid="flash"]`), "Modifications enregistrées")
	expect("city", text("city after edit", `[data-testid="field-city"]`), "Villeurbanne")
	expect("history", text("history", `[data-testid="history-row"]`), "Ville", "Lyon", "alice")

	// The language switch turns the labels to English.
	do("switch to English",
		chromedp.Click(css(`[data-testid="lang-en"]`)),
		chromedp.WaitVisible(css(`html[lang="en"] body[data-page="customer"]`)),
	)
	expect("page in English", bodyText("English page"), "Personal data", "Given name", "City", "Birth date", "14 July 1985", "History of changes", "Access log")

	// The exact search finds the customer by e-mail.
	do("search by e-mail",
		chromedp.Click(css(`[data-testid="nav-customers"]`)),
		chromedp.WaitVisible(css(`body[data-page="customers"]`)),
		chromedp.SendKeys(css(`#search-q`), "camille.durand@example.fr"),
		chromedp.Click(css(`[data-testid="search-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="search-clear"]`)),
	)
	if n := count("result rows", `[data-testid="customer-row"]`); n != 1 {
		t.Fatalf("search found %d rows; want 1", n)
	}
	expect("search result", text("search result", `[data-testid="customer-row"]`), "Camille Durand", "camille.durand@example.fr")
	loc := get("search stays off the URL", chromedp.Location())
	if strings.Contains(loc, "camille") {
		t.Fatalf("the searched e-mail is in the URL: %s", loc)
	}
	shot("fidelis-customers")

	// The customer page shows the access log (admin holds data_protection), with the reads.
	do("open the customer",
		chromedp.Click(css(`[data-testid="customer-row"] a`)),
		chromedp.WaitVisible(css(`[data-testid="access-log-row"]`)),
	)
	expect("access log purpose", text("access log purpose", `[data-testid="access-log-purpose"]`), "Handling data subject requests")
	if n := count("read rows", `[data-testid="access-log-row"][data-action="customer.read"]`); n < 4 {
		t.Fatalf("access log has %d read entries; want at least 4 (create page, edit form, page after edit, search, this page)", n)
	}
	expect("access log", text("access log", `[data-testid="access-log-table"]`), "Read", "Creation", "Update", "alice (you)")
	shot("fidelis-customer")

	// Under "audit" the record may not be read: no personal field, the refusal says why,
	// the access log is still there.
	do("switch to the audit purpose",
		chromedp.SetValue(css(`#purpose-select`), "audit"),
		chromedp.Click(css(`[data-testid="purpose-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="refusal"]`)),
	)
	if n := count("personal fields under audit", `[data-testid^="field-"], [data-testid="customer-data"], [data-testid^="attr-"]`); n != 0 {
		t.Fatalf("the customer page under audit shows %d personal fields", n)
	}
	body := bodyText("page under audit")
	for _, v := range []string{"Camille", "Durand", "camille.durand@example.fr", "Villeurbanne", "1985", "Lilas", "part_dieu"} {
		if strings.Contains(body, v) {
			t.Fatalf("the customer page under audit shows %q", v)
		}
	}
	expect("refusal", text("refusal", `[data-testid="refusal"]`), "audit", "does not cover")
	if logPurpose := br.attr("access log under audit", `[data-testid="access-log-purpose"]`, "data-purpose"); logPurpose != "audit" {
		t.Fatalf("access log read under %q; want audit", logPurpose)
	}
	shot("fidelis-audit")
	if n := count("denied rows", `[data-testid="access-log-row"][data-outcome="denied"]`); n < 1 {
		t.Fatal("the refused read is not in the access log")
	}

	// After signing out, the back-office sends the browser to the sign-in page.
	do("sign out",
		chromedp.Click(css(`[data-testid="logout"]`)),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.Navigate(base+"/app/customers"),
		chromedp.WaitVisible(css(`#login-form`)),
	)
	loc = get("location after sign-out", chromedp.Location())
	if !strings.HasPrefix(loc, base+"/login") {
		t.Fatalf("after sign-out /app/customers is at %s; want the sign-in page", loc)
	}
}
