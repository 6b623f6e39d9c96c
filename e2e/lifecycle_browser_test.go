package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

// TestBrowser_CustomerLifeInBackOffice_C2_R6_R10_R11_R8 walks the whole life of a customer
// in the back-office, in headless Chromium, as a DPO would: creation, consent given then
// withdrawn (the lawfulness decision refuses marketing at once), an access request answered
// with the readable page and the JSON, a portability request answered with the zip, a
// restriction that freezes processing, and an erasure that leaves nothing to read.
func TestBrowser_CustomerLifeInBackOffice_C2_R6_R10_R11_R8(t *testing.T) {
	a, base := mustBackOffice(t, fidelistest.Backends(t)[0])
	fidelistest.MustNotice(t, a, fidelis.PurposeMarketingEmail)
	br := newBrowser(t, 1280, 1000)
	do, text, expect := br.do, br.text, br.expect
	marketing := app.SystemContext(context.Background(), "campaign", fidelis.RoleMarketing)
	support := app.SystemContext(context.Background(), "desk", fidelis.RoleSupport)

	do("sign in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#username`), "alice"),
		chromedp.SendKeys(css(`#password`), browserPassword),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="customers"]`)),
		chromedp.Click(css(`[data-testid="lang-en"]`)),
		chromedp.WaitVisible(css(`html[lang="en"]`)),
	)
	do("create the customer",
		chromedp.Click(css(`[data-testid="new-customer"]`)),
		chromedp.WaitVisible(css(`#customer-form`)),
		chromedp.SendKeys(css(`#f-given_name`), "Noémie"),
		chromedp.SendKeys(css(`#f-family_name`), "Garnier"),
		chromedp.SendKeys(css(`#f-email`), "noemie.garnier@example.fr"),
		chromedp.SendKeys(css(`#f-city`), "Nantes"),
		chromedp.Click(css(`[data-testid="save"]`)),
		chromedp.WaitVisible(css(`body[data-page="customer"]`)),
	)
	loc := br.get("customer address", chromedp.Location())
	path, _, _ := strings.Cut(loc, "?")
	id := fidelis.CustomerID(path[strings.LastIndex(path, "/")+1:])
	if !fidelis.ValidID("cus", string(id)) {
		t.Fatalf("customer page at %s; want /app/customers/cus_...", loc)
	}

	// Consent, one click each way (C-1, C-2); nothing is ticked in advance.
	if n := br.count("pre-ticked", `[data-testid="consent-form"] input:checked`); n != 0 {
		t.Fatalf("the consent form has %d choices ticked in advance", n)
	}
	consent := func(decision string) {
		t.Helper()
		do("record "+decision,
			chromedp.Click(css(`[data-testid="consent-option"][value="marketing_email/email"]`)),
			chromedp.Click(css(`[data-testid="decision-`+decision+`"]`)),
			chromedp.Click(css(`[data-testid="consent-submit"]`)),
			chromedp.WaitVisible(css(`[data-testid="consent-current-row"][data-purpose="marketing_email"][data-decision="`+decision+`"]`)),
		)
	}
	consent("granted")
	if _, err := a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, id); err != nil {
		t.Fatalf("marketing read after the grant = %v; want allowed", err)
	}
	consent("withdrawn")
	if _, err := a.Customers.Get(marketing, fidelis.PurposeMarketingEmail, id); reason(err) != "consent_withdrawn" {
		t.Fatalf("marketing read after the withdrawal = %v; want refused, consent_withdrawn (C-2)", err)
	}

	// request opens a rights request for the customer, starts it and records how the
	// identity was checked; it returns the case page's address.
	request := func(kind string) string {
		t.Helper()
		do("new "+kind+" request",
			chromedp.Navigate(base+"/app/rights-requests"),
			chromedp.WaitVisible(css(`#rights-form`)),
			chromedp.SendKeys(css(`#rr-customer`), string(id)),
			chromedp.SetValue(css(`#rr-kind`), kind),
			chromedp.SetValue(css(`#rr-channel`), "email"),
			chromedp.Click(css(`[data-testid="rr-submit"]`)),
			chromedp.WaitVisible(css(`[data-testid="case-status"][data-status="received"]`)),
			chromedp.Click(css(`[data-testid="start"]`)),
			chromedp.WaitVisible(css(`[data-testid="case-status"][data-status="in_progress"]`)),
			chromedp.SetValue(css(`#id-method`), "knowledge_check"),
			chromedp.SetValue(css(`#id-result`), "verified"),
			chromedp.Click(css(`[data-testid="verify"]`)),
			chromedp.WaitVisible(css(`[data-testid="identity-record"]`)),
		)
		return br.get("case address", chromedp.Location())
	}
	complete := func(kind string) {
		t.Helper()
		do("complete the "+kind+" request",
			chromedp.Click(css(`[data-testid="complete"]`)),
			chromedp.WaitVisible(css(`[data-testid="case-status"][data-status="completed"]`)),
		)
	}

	// Access: the readable page and the JSON hold the data and the access log.
	request("access")
	page := br.fetch("access page", `[data-testid="export-html"]`)
	expect("access page", page, "200 text/html", "Noémie", "noemie.garnier@example.fr", "Qui a accédé à vos données", "customer.read") // in the customer's language (French by default)
	js := br.fetch("access JSON", `[data-testid="export-json"]`)
	expect("access JSON", js, "200 application/json", "noemie.garnier@example.fr", `"access_log"`, `"sections"`)
	complete("access")

	// Portability: a zip archive.
	request("portability")
	expect("portability archive", br.fetch("portability zip", `[data-testid="export-zip"]`), "200 application/zip", "PK")
	complete("portability")

	// Restriction: once the request is carried out, processing is frozen.
	request("restriction")
	complete("restriction")
	if _, err := a.Customers.Get(support, fidelis.PurposeCustomerService, id); reason(err) != "restricted" {
		t.Fatalf("customer-service read after the restriction = %v; want refused, restricted (R-10)", err)
	}
	do("customer page after the restriction",
		chromedp.Navigate(base+"/app/customers/"+string(id)),
		chromedp.WaitVisible(css(`[data-testid="refusal"]`)),
	)
	expect("refusal under customer service", text("refusal", `[data-testid="refusal"]`), "restricted")
	do("the DPO still sees the frozen record under data protection",
		chromedp.SetValue(css(`#purpose-select`), "data_protection"),
		chromedp.Click(css(`[data-testid="purpose-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="restricted"]`)),
	)

	// Erasure: the receipt's effective date, then nothing left to read.
	caseURL := request("erasure")
	complete("erasure")
	expect("effective erasure", text("effective erasure date", `[data-testid="erasure-effective"]`), "20")
	dpo := app.SystemContext(context.Background(), "dpo", fidelis.RoleDPO)
	if _, err := a.Customers.Get(dpo, fidelis.PurposeDataProtection, id); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		t.Fatalf("read after the erasure = %v; want not found (R-8)", err)
	}
	do("customer page after the erasure", chromedp.Navigate(base+"/app/customers/"+string(id)), chromedp.WaitReady(css(`body`)))
	if body := br.bodyText("page after the erasure"); strings.Contains(body, "Noémie") || strings.Contains(body, "noemie.garnier") {
		t.Fatal("the erased customer's data is still shown")
	}
	do("the case stays, as evidence", chromedp.Navigate(caseURL), chromedp.WaitVisible(css(`[data-testid="case-status"][data-status="completed"]`)))
}

// reason returns the refusal reason of err, "" if none.
func reason(err error) string {
	if e := fidelis.AsError(err); e != nil {
		return e.Reason
	}
	return ""
}
