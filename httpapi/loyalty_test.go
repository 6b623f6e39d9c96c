package httpapi_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

const lp = fidelis.PurposeLoyalty

var testMediator = map[string]any{"name": "Médiateur du e-commerce de la FEVAD", "website": "https://www.mediateurfevad.fr", "address": "60 rue La Boétie, 75008 Paris"}

// loyaltySetup creates a programme with terms v1 in force (12-month expiry) and a rule of
// 1 point per EUR, through the API; it returns the programme ID.
func loyaltySetup(t *testing.T, admin *fidelistest.Client) string {
	t.Helper()
	p := admin.Do("POST", "/api/v1/loyalty/programmes", "", map[string]any{"name": "Club", "currency": "EUR", "point_value_cents": 1}).MustStatus(t, http.StatusCreated).JSON(t)
	id := p["id"].(string)
	admin.Do("POST", "/api/v1/loyalty/programmes/"+id+"/terms", "", map[string]any{
		"text": map[string]any{"fr": "Conditions v1", "en": "Terms v1"}, "mediator": testMediator, "expiry_months": 12,
	}).MustStatus(t, http.StatusCreated)
	admin.Do("POST", "/api/v1/loyalty/programmes/"+id+"/rules", "", map[string]any{
		"id": "base", "name": map[string]any{"fr": "Base", "en": "Base"}, "points_per_unit": 1,
	}).MustStatus(t, http.StatusCreated)
	return id
}

// loyaltyMember creates a customer under the loyalty purpose (no consent of any kind) and
// joins them.
func loyaltyMember(t *testing.T, c *fidelistest.Client, prog string) string {
	t.Helper()
	cus := c.Do("POST", "/api/v1/customers", lp, map[string]any{"given_name": "Camille"}).MustStatus(t, http.StatusCreated).JSON(t)
	id := cus["id"].(string)
	c.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members", lp, map[string]any{"customer_id": id, "terms_version": 1, "channel": "store"},
		"Idempotency-Key", "join-"+id).MustStatus(t, http.StatusCreated)
	return id
}

// TestLoyalty_ConcurrentRedemptionsNeverOverspend_L7 sends many concurrent redemptions from
// many HTTP clients against a real server: the final balance equals the starting balance
// minus the redemptions that succeeded, never goes negative, and the ledger verifies.
func TestLoyalty_ConcurrentRedemptionsNeverOverspend_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		prog := loyaltySetup(t, admin)
		id := loyaltyMember(t, till, prog)
		const start = 1000
		// Several lots, so that redemptions cross lot boundaries.
		for i := range 4 {
			till.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/adjustments", lp, map[string]any{"points": start / 4, "reason": "migration"},
				"Idempotency-Key", fmt.Sprintf("fund-%d", i)).MustStatus(t, http.StatusCreated)
		}
		const clients, each = 24, 6
		var mu sync.Mutex
		spent, ok, refused := int64(0), 0, 0
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				cl := fidelistest.NewClient(t, base, till.Token)
				rng := rand.New(rand.NewPCG(uint64(c), 7))
				for i := range each {
					pts := int64(1 + rng.IntN(20))
					if i == 0 {
						pts = 40 // some large ones, so the balance runs out
					}
					r := cl.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/redemptions", lp, map[string]any{"points": pts},
						"Idempotency-Key", fmt.Sprintf("r-%d-%d", c, i))
					mu.Lock()
					switch r.Status {
					case http.StatusCreated:
						spent += pts
						ok++
					case http.StatusUnprocessableEntity:
						if !strings.Contains(string(r.Body), "insufficient_points") {
							t.Errorf("redemption refused for another reason: %s", r.Body)
						}
						refused++
					default:
						t.Errorf("redemption: status %d: %s", r.Status, r.Body)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		v := till.Do("GET", "/api/v1/loyalty/members/"+id, lp, nil).MustStatus(t, http.StatusOK).JSON(t)
		bal := int64(v["memberships"].([]any)[0].(map[string]any)["balance"].(float64))
		if bal != start-spent || bal < 0 {
			t.Fatalf("final balance = %d; want %d - %d = %d (never negative); %d redemptions succeeded, %d refused", bal, start, spent, start-spent, ok, refused)
		}
		if refused == 0 {
			t.Errorf("no redemption was refused: the test did not exhaust the balance (spent %d)", spent)
		}
		r, err := a.Loyalty.Verify(app.SystemContext(t.Context(), "test", fidelis.RoleAdmin))
		if err != nil || !r.OK() {
			t.Fatalf("Verify after concurrent redemptions: %v %v", err, r.Problems)
		}
		t.Logf("%s: %d clients x %d redemptions: %d succeeded (%d points), %d refused for lack of points, final balance %d", b.Name, clients, each, ok, spent, refused, bal)
	})
}

// TestLoyalty_IdempotencyKey_L7 checks that a replay returns the first result, that a key
// reused with another body is a conflict, and that concurrent requests with one key
// produce one transaction.
func TestLoyalty_IdempotencyKey_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		prog := loyaltySetup(t, admin)
		id := loyaltyMember(t, till, prog)
		order := map[string]any{"programme_id": prog, "customer_id": id, "ordered_at": time.Now().UTC().Format(time.RFC3339Nano), "channel": "store", "store": "paris-01", "currency": "EUR",
			"lines": []any{map[string]any{"gtin": "4006381333931", "category": "grocery", "quantity": 2, "unit_price_cents": 1250}}}
		first := till.Do("POST", "/api/v1/orders", lp, order, "Idempotency-Key", "order-1").MustStatus(t, http.StatusCreated)
		again := till.Do("POST", "/api/v1/orders", lp, order, "Idempotency-Key", "order-1").MustStatus(t, http.StatusCreated)
		f, g := first.JSON(t), again.JSON(t)
		if f["id"] != g["id"] || fmt.Sprint(f["transactions"]) != fmt.Sprint(g["transactions"]) {
			t.Errorf("replay returned %v; want the first result %v", g, f)
		}
		if again.Header.Get("Idempotent-Replayed") != "true" || first.Header.Get("Idempotent-Replayed") != "" {
			t.Errorf("Idempotent-Replayed: first %q, replay %q; want \"\", \"true\"", first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
		}
		order["store"] = "lyon-02"
		r := till.Do("POST", "/api/v1/orders", lp, order, "Idempotency-Key", "order-1").MustStatus(t, http.StatusConflict)
		if !strings.Contains(string(r.Body), "idempotency_key_reused") {
			t.Errorf("same key, other body: %s; want reason idempotency_key_reused", r.Body)
		}
		till.Do("POST", "/api/v1/orders", lp, order, "Idempotency-Key", "").MustStatus(t, http.StatusUnprocessableEntity)

		// Concurrent requests with one key: one transaction.
		var wg sync.WaitGroup
		ids := make([]string, 10)
		for i := range ids {
			wg.Go(func() {
				cl := fidelistest.NewClient(t, base, till.Token)
				r := cl.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/redemptions", lp, map[string]any{"points": 3}, "Idempotency-Key", "same")
				if r.Status != http.StatusCreated {
					t.Errorf("concurrent replay: status %d: %s", r.Status, r.Body)
					return
				}
				ids[i], _ = r.JSON(t)["id"].(string)
			})
		}
		wg.Wait()
		for _, x := range ids {
			if x != ids[0] {
				t.Fatalf("concurrent requests with one key returned transactions %v; want one", ids)
			}
		}
		v := till.Do("GET", "/api/v1/loyalty/members/"+id, lp, nil).MustStatus(t, http.StatusOK).JSON(t)
		if bal := v["memberships"].([]any)[0].(map[string]any)["balance"].(float64); bal != 25-3 {
			t.Errorf("balance = %v; want 25 earned - 3 redeemed once = 22", bal)
		}
	})
}

// TestLoyalty_JoinNeedsNoConsent_C3 joins a customer who has given no consent at all, and
// checks the join operation has no consent member to bundle.
func TestLoyalty_JoinNeedsNoConsent_C3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		prog := loyaltySetup(t, admin)
		cus := till.Do("POST", "/api/v1/customers", lp, map[string]any{"given_name": "Léa"}).MustStatus(t, http.StatusCreated).JSON(t)
		id := cus["id"].(string)
		r := till.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members", lp, map[string]any{"customer_id": id, "terms_version": 1, "channel": "web", "marketing_consent": true},
			"Idempotency-Key", "j1").MustStatus(t, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.Body), `"marketing_consent"`) || !strings.Contains(string(r.Body), "unknown_field") {
			t.Errorf("a consent member bundled with joining: %s; want unknown_field", r.Body)
		}
		m := till.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members", lp, map[string]any{"customer_id": id, "terms_version": 1, "channel": "web"},
			"Idempotency-Key", "j2").MustStatus(t, http.StatusCreated).JSON(t)
		if m["active"] != true {
			t.Errorf("joined member = %v; want active", m)
		}
		// The document's join schema has no consent member either.
		d := mustDoc(t)
		n, err := d.at("/components/schemas/JoinInput/properties")
		if err != nil {
			t.Fatal(err)
		}
		for k := range n.(map[string]any) {
			if strings.Contains(k, "consent") || strings.Contains(k, "marketing") {
				t.Errorf("JoinInput has member %q: joining must not bundle consent (C-3)", k)
			}
		}
	})
}

// exerciseLoyalty drives every documented loyalty operation through every status it
// documents, for TestOpenAPI_Conformance.
func exerciseLoyalty(t *testing.T, cf *conformance, a *app.App, base string) {
	admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
	till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
	sales := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSales))
	anon := fidelistest.NewClient(t, base, "")
	const progs = "/api/v1/loyalty/programmes"
	idem := func(k string) []string { return []string{"Idempotency-Key", k} }

	cf.call(admin, "POST", progs, "", map[string]any{"name": "Club", "currency": "EUR", "point_value_cents": 1, "notice_days": 45}, http.StatusCreated)
	p := cf.call(admin, "POST", progs, "", map[string]any{"name": "Club 2", "currency": "EUR", "point_value_cents": 2}, http.StatusCreated).JSON(t)
	prog := p["id"].(string)
	cf.call(admin, "POST", progs, "", `{"name": "x", "name": "y"}`, http.StatusBadRequest)
	cf.call(admin, "POST", progs, "", map[string]any{"name": "", "currency": "XYZ", "point_value_cents": -1, "notice_days": 3}, http.StatusUnprocessableEntity)
	cf.call(sales, "POST", progs, "", map[string]any{"name": "Club", "currency": "EUR", "point_value_cents": 1}, http.StatusForbidden)
	cf.call(anon, "POST", progs, "", map[string]any{"name": "Club", "currency": "EUR", "point_value_cents": 1}, http.StatusUnauthorized)
	cf.call(admin, "GET", progs, "", nil, http.StatusOK)
	cf.call(sales, "GET", progs, "", nil, http.StatusForbidden)
	cf.call(anon, "GET", progs, "", nil, http.StatusUnauthorized)

	terms := map[string]any{"text": map[string]any{"fr": "Conditions v1", "en": "Terms v1"}, "mediator": testMediator, "expiry_months": 12}
	cf.call(admin, "POST", progs+"/"+prog+"/terms", "", terms, http.StatusCreated)
	cf.call(admin, "POST", progs+"/"+prog+"/terms", "", map[string]any{"text": map[string]any{"fr": "v2", "en": "v2"}, "changes": map[string]any{"fr": "x", "en": "x"},
		"mediator": testMediator, "expiry_months": 12, "effective_at": time.Now().UTC().AddDate(0, 0, 2).Format(time.RFC3339)}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", progs+"/"+prog+"/terms", "", map[string]any{"text": map[string]any{"fr": "", "en": ""}, "mediator": map[string]any{"name": "", "website": "x", "address": ""}, "expiry_months": 1}, http.StatusUnprocessableEntity)
	cf.call(till, "POST", progs+"/lpg_nope/terms", "", terms, http.StatusNotFound)
	cf.call(sales, "POST", progs+"/"+prog+"/terms", "", terms, http.StatusForbidden)
	cf.call(anon, "POST", progs+"/"+prog+"/terms", "", terms, http.StatusUnauthorized)
	rule := map[string]any{"id": "base", "name": map[string]any{"fr": "Base", "en": "Base"}, "points_per_unit": 1,
		"multipliers": []any{map[string]any{"category": "wine", "percent": 200}}, "min_basket_cents": 500, "countries": []any{"FR"}}
	cf.call(admin, "POST", progs+"/"+prog+"/rules", "", rule, http.StatusCreated)
	cf.call(admin, "POST", progs+"/"+prog+"/rules", "", map[string]any{"id": "Bad Id", "name": map[string]any{"fr": "", "en": ""}, "points_per_unit": -1}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", progs+"/lpg_nope/rules", "", rule, http.StatusNotFound)
	cf.call(sales, "POST", progs+"/"+prog+"/rules", "", rule, http.StatusForbidden)
	cf.call(anon, "POST", progs+"/"+prog+"/rules", "", rule, http.StatusUnauthorized)
	cf.call(sales, "GET", progs+"/"+prog, "", nil, http.StatusOK)
	cf.call(admin, "GET", progs+"/lpg_nope", "", nil, http.StatusNotFound)
	cf.call(anon, "GET", progs+"/"+prog, "", nil, http.StatusUnauthorized)

	// Members.
	cus := till.Do("POST", "/api/v1/customers", lp, map[string]any{"given_name": "Camille", "country": "FR"}).MustStatus(t, http.StatusCreated).JSON(t)
	id := cus["id"].(string)
	join := progs + "/" + prog + "/members"
	body := map[string]any{"customer_id": id, "terms_version": 1, "channel": "store"}
	cf.call(till, "POST", join, lp, body, http.StatusCreated, idem("j1")...)
	cf.call(till, "POST", join, lp, body, http.StatusCreated, idem("j1")...) // replay
	cf.call(till, "POST", join, lp, body, http.StatusConflict, idem("j2")...)
	cf.call(till, "POST", join, lp, map[string]any{"customer_id": id, "terms_version": 9, "channel": "fax"}, http.StatusUnprocessableEntity, idem("j3")...)
	cf.call(till, "POST", join, lp, body, http.StatusUnprocessableEntity)
	cf.call(till, "POST", progs+"/lpg_nope/members", lp, body, http.StatusNotFound, idem("j4")...)
	cf.call(sales, "POST", join, fidelis.PurposeSales, body, http.StatusForbidden, idem("j5")...)
	cf.call(anon, "POST", join, lp, body, http.StatusUnauthorized, idem("j6")...)
	one := join + "/" + id
	unknown := join + "/cus_00000000000000000000000000"

	// Orders and refunds.
	line := func(cat string, qty, cents int64) map[string]any {
		return map[string]any{"gtin": "4006381333931", "category": cat, "quantity": qty, "unit_price_cents": cents, "promotion_cents": 0}
	}
	order := map[string]any{"programme_id": prog, "customer_id": id, "ordered_at": time.Now().UTC().Format(time.RFC3339Nano), "channel": "store", "store": "paris-01",
		"currency": "EUR", "lines": []any{line("grocery", 2, 1000), line("wine", 1, 1500)}}
	o := cf.call(till, "POST", "/api/v1/orders", lp, order, http.StatusCreated, idem("o1")...).JSON(t)
	if o["points"].(float64) != 20+30 {
		t.Errorf("order points = %v; want 20 + 2x15 = 50", o["points"])
	}
	// the order confirmation names the consumer mediator.
	if med, _ := o["mediator"].(map[string]any); med["name"] != testMediator["name"] || med["website"] != testMediator["website"] || med["address"] != testMediator["address"] {
		t.Errorf("order mediator = %v; want %v (X-2)", o["mediator"], testMediator)
	}
	order2 := map[string]any{}
	for k, v := range order {
		order2[k] = v
	}
	order2["store"] = "lyon"
	cf.call(till, "POST", "/api/v1/orders", lp, order2, http.StatusConflict, idem("o1")...)
	bad := map[string]any{}
	for k, v := range order {
		bad[k] = v
	}
	bad["lines"] = []any{map[string]any{"gtin": "4006381333932", "category": "grocery", "quantity": 1, "unit_price_cents": 100}}
	cf.call(till, "POST", "/api/v1/orders", lp, bad, http.StatusUnprocessableEntity, idem("o2")...)
	bad["lines"] = order["lines"]
	bad["customer_id"] = "cus_00000000000000000000000000"
	cf.call(till, "POST", "/api/v1/orders", lp, bad, http.StatusNotFound, idem("o3")...)
	cf.call(sales, "POST", "/api/v1/orders", fidelis.PurposeSales, order, http.StatusForbidden, idem("o4")...)
	cf.call(anon, "POST", "/api/v1/orders", lp, order, http.StatusUnauthorized, idem("o5")...)
	got := cf.call(till, "GET", "/api/v1/orders/"+o["id"].(string), lp, nil, http.StatusOK).JSON(t)
	if got["points"] != o["points"] || got["id"] != o["id"] {
		t.Errorf("GET order = %v; want the order as placed %v", got, o)
	}
	cf.call(till, "GET", "/api/v1/orders/lod_nope", lp, nil, http.StatusNotFound)
	cf.call(sales, "GET", "/api/v1/orders/"+o["id"].(string), fidelis.PurposeSales, nil, http.StatusForbidden)
	cf.call(anon, "GET", "/api/v1/orders/"+o["id"].(string), lp, nil, http.StatusUnauthorized)
	refunds := "/api/v1/orders/" + o["id"].(string) + "/refunds"
	cf.call(till, "POST", refunds, lp, map[string]any{"lines": []any{map[string]any{"line": 0, "quantity": 1}}}, http.StatusCreated, idem("rf1")...)
	cf.call(till, "POST", refunds, lp, map[string]any{"lines": []any{map[string]any{"line": 0, "quantity": 5}}}, http.StatusUnprocessableEntity, idem("rf2")...)
	cf.call(till, "POST", refunds, lp, nil, http.StatusCreated, idem("rf3")...)
	cf.call(till, "POST", refunds, lp, nil, http.StatusConflict, idem("rf4")...)
	cf.call(till, "POST", "/api/v1/orders/lod_nope/refunds", lp, nil, http.StatusNotFound, idem("rf5")...)
	cf.call(sales, "POST", refunds, fidelis.PurposeSales, nil, http.StatusForbidden, idem("rf6")...)
	cf.call(anon, "POST", refunds, lp, nil, http.StatusUnauthorized, idem("rf7")...)
	cf.call(till, "POST", "/api/v1/orders", lp, order, http.StatusCreated, idem("o6")...)

	// Redemptions and adjustments.
	cf.call(till, "POST", one+"/adjustments", lp, map[string]any{"points": 100, "reason": "goodwill"}, http.StatusCreated, idem("a1")...)
	cf.call(till, "POST", one+"/adjustments", lp, map[string]any{"points": 0, "reason": "because"}, http.StatusUnprocessableEntity, idem("a2")...)
	cf.call(till, "POST", unknown+"/adjustments", lp, map[string]any{"points": 1, "reason": "goodwill"}, http.StatusNotFound, idem("a3")...)
	cf.call(sales, "POST", one+"/adjustments", fidelis.PurposeSales, map[string]any{"points": 1, "reason": "goodwill"}, http.StatusForbidden, idem("a4")...)
	cf.call(anon, "POST", one+"/adjustments", lp, map[string]any{"points": 1, "reason": "goodwill"}, http.StatusUnauthorized, idem("a5")...)
	cf.call(till, "POST", one+"/redemptions", lp, map[string]any{"points": 30, "reference": "receipt-1"}, http.StatusCreated, idem("r1")...)
	cf.call(till, "POST", one+"/redemptions", lp, map[string]any{"points": 31}, http.StatusConflict, idem("r1")...)
	cf.call(till, "POST", one+"/redemptions", lp, map[string]any{"points": 1_000_000}, http.StatusUnprocessableEntity, idem("r2")...)
	cf.call(till, "POST", unknown+"/redemptions", lp, map[string]any{"points": 1}, http.StatusNotFound, idem("r3")...)
	cf.call(sales, "POST", one+"/redemptions", fidelis.PurposeSales, map[string]any{"points": 1}, http.StatusForbidden, idem("r4")...)
	cf.call(anon, "POST", one+"/redemptions", lp, map[string]any{"points": 1}, http.StatusUnauthorized, idem("r5")...)

	// Member view.
	const members = "/api/v1/loyalty/members/"
	page := cf.call(till, "GET", members+id+"?limit=2", lp, nil, http.StatusOK).JSON(t)
	next, _ := page["next_cursor"].(string)
	if next == "" {
		t.Fatalf("member history with limit=2: next_cursor = %v; want a cursor", page["next_cursor"])
	}
	cf.call(till, "GET", members+id+"?limit=2&cursor="+next, lp, nil, http.StatusOK)
	cf.call(till, "GET", members+id+"?cursor=nope", lp, nil, http.StatusUnprocessableEntity)
	cf.call(till, "GET", members+"cus_00000000000000000000000000", lp, nil, http.StatusNotFound)
	cf.call(sales, "GET", members+id, fidelis.PurposeSales, nil, http.StatusForbidden)
	cf.call(anon, "GET", members+id, lp, nil, http.StatusUnauthorized)

	// Liability.
	liab := "/api/v1/loyalty/liability?programme_id=" + prog
	l := cf.call(admin, "GET", liab+"&at="+time.Now().UTC().Format(time.DateOnly), "", nil, http.StatusOK).JSON(t)
	if l["value_cents"].(float64) != l["points"].(float64)*2 {
		t.Errorf("liability = %v; want points x 2 cents", l)
	}
	cf.call(admin, "GET", liab+"&at=yesterday", "", nil, http.StatusUnprocessableEntity)
	cf.call(admin, "GET", "/api/v1/loyalty/liability?programme_id=lpg_nope", "", nil, http.StatusNotFound)
	cf.call(sales, "GET", liab, "", nil, http.StatusForbidden)
	cf.call(anon, "GET", liab, "", nil, http.StatusUnauthorized)

	// Terms acceptance and leaving.
	v2 := map[string]any{"text": map[string]any{"fr": "Conditions v2", "en": "Terms v2"}, "changes": map[string]any{"fr": "Expiration à 24 mois", "en": "Expiry at 24 months"},
		"mediator": testMediator, "expiry_months": 24}
	cf.call(admin, "POST", progs+"/"+prog+"/terms", "", v2, http.StatusCreated)
	acc := map[string]any{"terms_version": 2, "channel": "web"}
	cf.call(till, "POST", one+"/terms-acceptances", lp, map[string]any{"terms_version": 7, "channel": "web"}, http.StatusUnprocessableEntity, idem("t1")...)
	cf.call(till, "POST", one+"/terms-acceptances", lp, acc, http.StatusOK, idem("t2")...)
	cf.call(till, "POST", one+"/terms-acceptances", lp, acc, http.StatusConflict, idem("t3")...)
	cf.call(till, "POST", unknown+"/terms-acceptances", lp, acc, http.StatusNotFound, idem("t4")...)
	cf.call(sales, "POST", one+"/terms-acceptances", fidelis.PurposeSales, acc, http.StatusForbidden, idem("t5")...)
	cf.call(anon, "POST", one+"/terms-acceptances", lp, acc, http.StatusUnauthorized, idem("t6")...)
	cf.call(till, "POST", one+"/leave", lp, nil, http.StatusOK, idem("l1")...)
	cf.call(till, "POST", one+"/leave", lp, `{}`, http.StatusConflict, idem("l2")...)
	cf.call(till, "POST", unknown+"/leave", lp, nil, http.StatusNotFound, idem("l3")...)
	cf.call(sales, "POST", one+"/leave", fidelis.PurposeSales, nil, http.StatusForbidden, idem("l4")...)
	cf.call(anon, "POST", one+"/leave", lp, nil, http.StatusUnauthorized, idem("l5")...)
	cf.call(till, "POST", "/api/v1/orders", lp, order, http.StatusConflict, idem("o7")...)                        // left: no more earning
	cf.call(till, "POST", one+"/redemptions", lp, map[string]any{"points": 1}, http.StatusCreated, idem("r6")...) // points keep their value (L-2)
}

// TestLoyalty_ConcurrentMixedOperations_L6_L7 runs orders, refunds, redemptions and
// adjustments for a few members from many concurrent clients, with the expiry job running
// beside them, and checks that every request gets a proper answer (no deadlock, no
// internal error) and that the ledger verifies afterwards.
func TestLoyalty_ConcurrentMixedOperations_L6_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		prog := loyaltySetup(t, admin)
		members := []string{loyaltyMember(t, till, prog), loyaltyMember(t, till, prog), loyaltyMember(t, till, prog)}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Go(func() {
			ctx := app.SystemContext(t.Context(), "expiry", fidelis.RoleAdmin)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := a.Loyalty.Expire(ctx, time.Now().AddDate(0, 0, 400), false); err != nil {
					t.Errorf("Expire beside the clients: %v", err)
					return
				}
			}
		})
		var clients sync.WaitGroup
		for c := range 12 {
			clients.Go(func() {
				cl := fidelistest.NewClient(t, base, till.Token)
				rng := rand.New(rand.NewPCG(uint64(c), 11))
				var orders []string
				for i := range 10 {
					id := members[rng.IntN(len(members))]
					k := fmt.Sprintf("mix-%d-%d", c, i)
					var r *fidelistest.Response
					switch rng.IntN(4) {
					case 0:
						r = cl.Do("POST", "/api/v1/orders", lp, map[string]any{"programme_id": prog, "customer_id": id, "ordered_at": time.Now().UTC().Format(time.RFC3339Nano),
							"channel": "store", "store": "s1", "currency": "EUR", "lines": []any{map[string]any{"gtin": "4006381333931", "category": "grocery", "quantity": 1 + rng.IntN(3), "unit_price_cents": 500 + rng.IntN(5000)}}},
							"Idempotency-Key", k)
						if r.Status == http.StatusCreated {
							orders = append(orders, r.JSON(t)["id"].(string))
						}
					case 1:
						if len(orders) == 0 {
							continue
						}
						r = cl.Do("POST", "/api/v1/orders/"+orders[rng.IntN(len(orders))]+"/refunds", lp, nil, "Idempotency-Key", k)
					case 2:
						r = cl.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/redemptions", lp, map[string]any{"points": 1 + rng.IntN(40)}, "Idempotency-Key", k)
					default:
						r = cl.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/adjustments", lp, map[string]any{"points": rng.IntN(60) - 20, "reason": "correction"}, "Idempotency-Key", k)
					}
					switch r.Status {
					case http.StatusCreated, http.StatusConflict, http.StatusUnprocessableEntity: // conflict: already refunded; 422: insufficient points or 0
					default:
						t.Errorf("status %d: %s", r.Status, r.Body)
					}
				}
			})
		}
		clients.Wait()
		close(stop)
		wg.Wait()
		r, err := a.Loyalty.Verify(app.SystemContext(t.Context(), "test", fidelis.RoleAdmin))
		if err != nil || !r.OK() {
			t.Fatalf("Verify after concurrent mixed operations: %v %v", err, r.Problems)
		}
		t.Logf("%s: %d transactions, %d lots verified", b.Name, r.Transactions, r.Lots)
	})
}
