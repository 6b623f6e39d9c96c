package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fidelis/fidelis/fidelistest"
)

// chromiumPath returns Debian's Chromium. Without it the browser test is skipped, except
// under CI=true, where a missing browser must fail rather than hide the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but Chromium is not installed (/usr/bin/chromium or chromium in PATH): the browser test must run in CI (apt-get install chromium)")
	}
	t.Skip("Chromium is not installed (/usr/bin/chromium or chromium in PATH); skipping the browser test")
	return ""
}

// TestBrowser_BackOffice drives the back-office in headless Chromium: sign-in, a form with
// a field error in French, creation, an edit that shows in the history, the language switch,
// the exact search, the access log, a purpose without access to personal fields, sign-out.
func TestBrowser_BackOffice(t *testing.T) {
	chrome := chromiumPath(t)
	_, base := mustBackOffice(t, fidelistest.Backends(t)[0])

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// The browser asks for English: the sign-in page follows it, the signed-in pages
		// follow the user's locale (fr) until the user picks a language.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("accept-lang", "en-US,en"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	overall, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(overall, opts...)
	defer cancelAlloc()
	ctx, cancelTab := chromedp.NewContext(actx)
	defer cancelTab()

	// The first action starts the browser; it must not run under a step's deadline, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// step bounds one step of the scenario in time.
	step := func(name string) (context.Context, context.CancelFunc) {
		return context.WithTimeout(ctx, 30*time.Second)
	}
	do := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := step(name)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	get := func(name string, a chromedp.Action[string]) string {
		t.Helper()
		sctx, cancel := step(name)
		defer cancel()
		v, err := chromedp.Run(sctx, a)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	text := func(name, sel string) string {
		t.Helper()
		do(name, chromedp.WaitVisible(css(sel)))
		return strings.TrimSpace(get(name, chromedp.Text(css(sel))))
	}
	count := func(name, sel string) int {
		t.Helper()
		sctx, cancel := step(name)
		defer cancel()
		n, err := chromedp.Run(sctx, chromedp.Evaluate[int](`document.querySelectorAll(`+jsString(sel)+`).length`))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return n
	}
	bodyText := func(name string) string {
		t.Helper()
		return get(name, chromedp.Text(css("body")))
	}
	expect := func(what, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Fatalf("%s = %q; want it to contain %q", what, got, w)
			}
		}
	}
	// shot saves a screenshot when FIDELIS_SCREENSHOTS names a directory, to look at the
	// layout by eye.
	shot := func(name string) {
		t.Helper()
		dir := os.Getenv("FIDELIS_SCREENSHOTS")
		if dir == "" {
			return
		}
		sctx, cancel := step(name)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

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
	sctx, cancel := step("access log under audit")
	attr, err := chromedp.Run(sctx, chromedp.AttributeValue(css(`[data-testid="access-log-purpose"]`), "data-purpose"))
	cancel()
	if err != nil {
		t.Fatalf("access log purpose: %v", err)
	}
	if logPurpose := attr.Value; logPurpose != "audit" {
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

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
