package e2e_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
)

// TestBrowser_LoyaltyFromTermsToLiability_L1_L2_L3_L6 runs a programme in headless
// Chromium as a loyalty manager: create the programme with its terms naming the mediator,
// publish a new version after previewing it, create a rule after previewing a sample
// basket, join a customer from their page, see the points of an order placed through the
// API on the member page with their reason, and read the liability report and verify.
func TestBrowser_LoyaltyFromTermsToLiability_L1_L2_L3_L6(t *testing.T) {
	c := newBrowserIn(t, 1280, 1000, "fr-FR")
	a, base := mustBackOffice(t, fidelistest.Backends(t)[0])
	admin := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	if _, err := a.Auth.CreateUser(admin, "lou", browserPassword, fidelis.RoleLoyaltyManager, "fr"); err != nil {
		t.Fatal(err)
	}
	cus, err := a.Customers.Create(admin, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldGivenName: fidelis.NewSecret("Camille"), fidelis.FieldFamilyName: fidelis.NewSecret("Durand")}})
	if err != nil {
		t.Fatal(err)
	}

	c.do("sign in as the loyalty manager",
		chromedp.Navigate(base+"/login"), chromedp.WaitVisible(css(`#login-form`)),
		chromedp.SendKeys(css(`#username`), "lou"), chromedp.SendKeys(css(`#password`), browserPassword),
		chromedp.Click(css(`[data-testid="login-submit"]`)), chromedp.WaitVisible(css(`body[data-page="customers"]`)),
	)

	// 1. The programme, with version 1 of its terms naming the consumer mediator (L-1, X-2).
	c.do("open the programmes", chromedp.Click(css(`[data-testid="nav-loyalty"]`)), chromedp.WaitVisible(css(`#programme-form`)))
	c.do("fill the programme",
		chromedp.SendKeys(css(`#name`), "Club Lumière"),
		chromedp.SetValue(css(`#text_fr`), "Article 1. Un point par euro dépensé."),
		chromedp.SetValue(css(`#text_en`), "Article 1. One point per euro spent."),
		chromedp.SendKeys(css(`#mediator_name`), "Médiateur du e-commerce de la FEVAD"),
		chromedp.SendKeys(css(`#mediator_website`), "https://www.mediateurfevad.fr"),
		chromedp.Click(css(`[data-testid="programme-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="error-mediator_address"]`)),
	)
	c.expect("address error", c.text("address error", `[data-testid="error-mediator_address"]`), "adresse postale")
	c.shot("loyalty-programme-error")
	c.do("add the address",
		chromedp.SetValue(css(`#mediator_address`), "60 rue La Boétie, 75008 Paris"),
		chromedp.Click(css(`[data-testid="programme-submit"]`)),
		chromedp.WaitVisible(css(`body[data-page="loyalty_programme"]`)),
	)
	c.expect("current terms", c.text("current terms", `[data-testid="terms-current"]`), "v1", "Un point par euro", "Médiateur du e-commerce de la FEVAD", "60 rue La Boétie")

	// 2. A new version of the terms: preview, then publish, 45 days ahead (L-2).
	effective := time.Now().UTC().AddDate(0, 0, 45).Format(time.DateOnly)
	c.do("preview new terms",
		chromedp.SetValue(css(`#text_fr`), "Article 1. Deux points par euro dépensé."),
		chromedp.SetValue(css(`#text_en`), "Article 1. Two points per euro spent."),
		chromedp.SetValue(css(`#changes_fr`), "Deux points par euro au lieu d'un."),
		chromedp.SetValue(css(`#changes_en`), "Two points per euro instead of one."),
		chromedp.SetValue(css(`#effective_at`), effective),
		chromedp.Click(css(`[data-testid="terms-preview-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="terms-preview"]`)),
	)
	c.expect("terms preview", c.text("terms preview", `[data-testid="terms-preview"]`), "v2", "Deux points par euro dépensé.", "Two points per euro instead of one.", "Médiateur du e-commerce de la FEVAD")
	c.shot("loyalty-terms-preview")
	c.do("publish the terms", chromedp.Click(css(`[data-testid="terms-publish"]`)), chromedp.WaitVisible(css(`[data-testid="terms-upcoming"]`)))
	c.expect("flash", c.text("flash", `[data-testid="flash"]`), "Nouvelle version publiée")
	c.expect("upcoming", c.text("upcoming", `[data-testid="upcoming-version"]`), "v2")

	// 3. A rule, previewed on a sample basket before it is published (L-3).
	c.do("open the rules", chromedp.Click(css(`[data-testid="rules-link"]`)), chromedp.WaitVisible(css(`#rule-form`)))
	c.do("preview a rule",
		chromedp.SendKeys(css(`#id`), "base"),
		chromedp.SendKeys(css(`[data-testid="rule-name-fr"]`), "Base"),
		chromedp.SendKeys(css(`[data-testid="rule-name-en"]`), "Base"),
		chromedp.SetValue(css(`#multipliers`), "category toys 200"),
		chromedp.SendKeys(css(`[data-testid="line-0-gtin"]`), "4006381333931"),
		chromedp.SendKeys(css(`[data-testid="line-0-category"]`), "toys"),
		chromedp.SetValue(css(`[data-testid="line-0-quantity"]`), "2"),
		chromedp.SendKeys(css(`[data-testid="line-0-price"]`), "12,50"),
		chromedp.Click(css(`[data-testid="rule-preview-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="rule-preview"]`)),
	)
	if got := c.attr("preview points", `[data-testid="preview-row"][data-rule="base"]`, "data-points"); got != "50" {
		t.Fatalf("preview gives %s points; want 50", got)
	}
	c.expect("preview reason", c.text("preview reason", `[data-testid="preview-reason"]`), "50 points : 1 point par EUR sur 25,00 EUR avec multiplicateurs")
	c.shot("loyalty-rule-preview")
	c.do("publish the rule", chromedp.Click(css(`[data-testid="rule-publish"]`)), chromedp.WaitVisible(css(`[data-testid="rule-version"][data-rule="base"]`)))

	// 4. The customer joins from their page, accepting version 1 (L-1).
	c.do("open the customer", chromedp.Navigate(base+"/app/customers/"+string(cus.ID)), chromedp.WaitVisible(css(`[data-testid="loyalty-member-link"]`)))
	c.do("open the member page", chromedp.Click(css(`[data-testid="loyalty-member-link"]`)), chromedp.WaitVisible(css(`#join-form`)))
	value := c.attr("join option", `[data-testid="join-terms"] option:nth-child(2)`, "value")
	c.do("join",
		chromedp.SetValue(css(`[data-testid="join-terms"]`), value),
		chromedp.Click(css(`[data-testid="join-accepted"]`)),
		chromedp.Click(css(`[data-testid="join-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="membership"]`)),
	)
	c.expect("balance after joining", c.text("balance", `[data-testid="balance"]`), "0")

	// 5. An order through the API; the member page shows its points and why. Its time is
	// after the rule's publication (to the nanosecond: a rule never applies to earlier orders).
	programme, _, _ := strings.Cut(value, "/")
	api := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
	api.Do("POST", "/api/v1/orders", fidelis.PurposeLoyalty, map[string]any{"programme_id": programme, "customer_id": cus.ID,
		"ordered_at": time.Now().UTC().Format(time.RFC3339Nano), "channel": "store", "store": "lyon-01", "currency": "EUR",
		"lines": []map[string]any{{"gtin": "4006381333931", "category": "toys", "quantity": 2, "unit_price_cents": 1250, "promotion_cents": 0}}},
		"Idempotency-Key", "till-lyon-01-0001").MustStatus(t, http.StatusCreated)
	c.do("reload the member page", chromedp.Reload(), chromedp.WaitVisible(css(`[data-testid="history-row"]`)))
	c.expect("balance after the order", c.text("balance", `[data-testid="balance"]`), "50")
	c.expect("history", c.text("history", `[data-testid="history-reason"]`), "50 points : 1 point par EUR sur 25,00 EUR avec multiplicateurs, règle « base » v1")
	c.shot("loyalty-member")

	// 6. The liability report and the verification (L-6).
	c.do("open the liability", chromedp.Navigate(base+"/app/loyalty/liability"), chromedp.WaitVisible(css(`[data-testid="liability-table"]`)))
	if got := c.attr("liability points", `[data-testid="liability-row"][data-programme="`+programme+`"]`, "data-points"); got != "50" {
		t.Fatalf("liability = %s points; want 50", got)
	}
	c.do("verify", chromedp.Click(css(`[data-testid="verify-run"]`)), chromedp.WaitVisible(css(`[data-testid="verify-ok"]`)))
	c.expect("verify", c.text("verify", `[data-testid="verify-ok"]`), "Aucune anomalie")
	c.shot("loyalty-liability")
}
