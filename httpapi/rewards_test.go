package httpapi_test

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

func reasonOf(t *testing.T, r *fidelistest.Response, want string) {
	t.Helper()
	if got := problemReason(t, r); got != want {
		t.Errorf("reason = %q; want %q (body %s)", got, want, clip(r.Body))
	}
}

// exerciseRewards drives every tiers, referral, rewards, reservation, voucher and batch
// operation through each documented status (TestOpenAPI_Conformance).
func exerciseRewards(t *testing.T, cf *conformance, a *app.App, base string) {
	admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
	till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
	sales := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSales))
	anon := fidelistest.NewClient(t, base, "")
	idem := func(k string) []string { return []string{"Idempotency-Key", k} }
	prog := loyaltySetup(t, admin)
	progs := "/api/v1/loyalty/programmes/"
	p := progs + prog

	// Tiers.
	tiers := map[string]any{"terms_version": 1, "metric": "points_earned", "period_months": 12, "tiers": []any{
		map[string]any{"id": "silver", "name": map[string]any{"fr": "Argent", "en": "Silver"}, "threshold": 50},
		map[string]any{"id": "gold", "name": map[string]any{"fr": "Or", "en": "Gold"}, "threshold": 500, "multiplier_percent": 150, "benefits": map[string]any{"fr": "Points x1,5", "en": "Points x1.5"}},
	}}
	cf.call(admin, "POST", p+"/tiers", "", tiers, http.StatusCreated)
	reasonOf(t, cf.call(admin, "POST", p+"/tiers", "", map[string]any{"terms_version": 4, "metric": "points_earned", "period_months": 12, "tiers": tiers["tiers"]}, http.StatusUnprocessableEntity), "terms_unknown")
	cf.call(admin, "POST", p+"/tiers", "", map[string]any{"terms_version": 1, "metric": "visits", "period_months": 0, "tiers": []any{}}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", progs+"lpg_nope/tiers", "", tiers, http.StatusNotFound)
	cf.call(sales, "POST", p+"/tiers", "", tiers, http.StatusForbidden)
	cf.call(anon, "POST", p+"/tiers", "", tiers, http.StatusUnauthorized)
	cf.call(sales, "GET", p+"/tiers", "", nil, http.StatusOK)
	cf.call(sales, "GET", progs+"lpg_nope/tiers", "", nil, http.StatusNotFound)
	cf.call(anon, "GET", p+"/tiers", "", nil, http.StatusUnauthorized)

	// Referral policies.
	pol := map[string]any{"terms_version": 1, "referrer_points": 100, "referee_points": 20}
	cf.call(admin, "POST", p+"/referral-policies", "", pol, http.StatusCreated)
	cf.call(admin, "POST", p+"/referral-policies", "", map[string]any{"terms_version": 1, "referrer_points": 0, "referee_points": 0}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", progs+"lpg_nope/referral-policies", "", pol, http.StatusNotFound)
	cf.call(sales, "POST", p+"/referral-policies", "", pol, http.StatusForbidden)
	cf.call(anon, "POST", p+"/referral-policies", "", pol, http.StatusUnauthorized)
	cf.call(sales, "GET", p+"/referral-policies", "", nil, http.StatusOK)
	cf.call(sales, "GET", progs+"lpg_nope/referral-policies", "", nil, http.StatusNotFound)
	cf.call(anon, "GET", p+"/referral-policies", "", nil, http.StatusUnauthorized)

	// Catalogue.
	voucher := map[string]any{"kind": "voucher", "name": map[string]any{"fr": "Bon d'achat 5 €", "en": "5 € voucher"}, "cost_points": 40, "stock": 3, "value_cents": 500,
		"valid_from": time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "valid_until": nil}
	rw := cf.call(admin, "POST", p+"/rewards", "", voucher, http.StatusCreated).JSON(t)
	rid := rw["id"].(string)
	product := cf.call(admin, "POST", p+"/rewards", "", map[string]any{"kind": "product", "name": map[string]any{"fr": "Tote bag", "en": "Tote bag"}, "cost_points": 10,
		"gtin": "4006381333931", "voucher_days": 30, "active": true}, http.StatusCreated).JSON(t)
	cf.call(admin, "POST", p+"/rewards", "", `{"kind": "voucher", "kind": "product"}`, http.StatusBadRequest)
	cf.call(admin, "POST", p+"/rewards", "", map[string]any{"kind": "product", "name": map[string]any{"fr": "", "en": ""}, "cost_points": 0}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", progs+"lpg_nope/rewards", "", voucher, http.StatusNotFound)
	cf.call(sales, "POST", p+"/rewards", "", voucher, http.StatusForbidden)
	cf.call(anon, "POST", p+"/rewards", "", voucher, http.StatusUnauthorized)
	page := cf.call(sales, "GET", p+"/rewards?limit=1", "", nil, http.StatusOK).JSON(t)
	cf.call(sales, "GET", p+"/rewards?limit=1&cursor="+page["next_cursor"].(string), "", nil, http.StatusOK)
	cf.call(till, "GET", p+"/rewards?available=true", "", nil, http.StatusOK)
	cf.call(till, "GET", p+"/rewards?cursor=nope", "", nil, http.StatusUnprocessableEntity)
	cf.call(till, "GET", progs+"lpg_nope/rewards", "", nil, http.StatusNotFound)
	cf.call(anon, "GET", p+"/rewards", "", nil, http.StatusUnauthorized)
	one := p + "/rewards/" + rid
	cf.call(till, "GET", one, "", nil, http.StatusOK)
	cf.call(till, "GET", p+"/rewards/lrw_nope", "", nil, http.StatusNotFound)
	cf.call(anon, "GET", one, "", nil, http.StatusUnauthorized)
	cf.call(admin, "PATCH", one, "", map[string]any{"stock": 2, "version": 1}, http.StatusOK)
	cf.call(admin, "PATCH", one, "", map[string]any{"stock": 3, "valid_until": nil}, http.StatusOK)
	reasonOf(t, cf.call(admin, "PATCH", one, "", map[string]any{"active": false, "version": 1}, http.StatusPreconditionFailed), "version_mismatch")
	cf.call(admin, "PATCH", one, "", map[string]any{"cost_points": -5}, http.StatusUnprocessableEntity)
	cf.call(admin, "PATCH", p+"/rewards/lrw_nope", "", map[string]any{"active": false}, http.StatusNotFound)
	cf.call(sales, "PATCH", one, "", map[string]any{"active": false}, http.StatusForbidden)
	cf.call(anon, "PATCH", one, "", map[string]any{"active": false}, http.StatusUnauthorized)

	// A referrer, and a member who joins with their code.
	referrer := loyaltyMember(t, till, prog)
	mv := till.Do("GET", "/api/v1/loyalty/members/"+referrer, lp, nil).MustStatus(t, http.StatusOK).JSON(t)
	code := mv["memberships"].([]any)[0].(map[string]any)["referral"].(map[string]any)["code"].(string)
	cf.call(till, "POST", p+"/members/"+referrer+"/referral-code", lp, nil, http.StatusOK)
	cus := till.Do("POST", "/api/v1/customers", lp, map[string]any{"given_name": "Louise"}).MustStatus(t, http.StatusCreated).JSON(t)
	id := cus["id"].(string)
	reasonOf(t, cf.call(till, "POST", p+"/members", lp, map[string]any{"customer_id": id, "terms_version": 1, "channel": "web", "referral_code": "PARR-ZZZZZZZZ"}, http.StatusUnprocessableEntity, idem("rj0")...), "referral_code_unknown")
	cf.call(till, "POST", p+"/members", lp, map[string]any{"customer_id": id, "terms_version": 1, "channel": "web", "referral_code": code}, http.StatusCreated, idem("rj1")...)
	order := map[string]any{"programme_id": prog, "customer_id": id, "ordered_at": time.Now().UTC().Format(time.RFC3339Nano), "channel": "store", "store": "paris-01", "currency": "EUR",
		"lines": []any{map[string]any{"gtin": "4006381333931", "category": "grocery", "quantity": 1, "unit_price_cents": 10000, "promotion_cents": 500}}}
	cf.call(till, "POST", "/api/v1/orders", lp, order, http.StatusCreated, idem("ro1")...)
	m := cf.call(till, "GET", "/api/v1/loyalty/members/"+id, lp, nil, http.StatusOK).JSON(t)["memberships"].([]any)[0].(map[string]any)
	if m["balance"].(float64) != 95+20 || m["tier"].(map[string]any)["id"] != "silver" || m["referred_by"].(map[string]any)["status"] != "rewarded" {
		t.Errorf("member after the first purchase: balance %v, tier %v, referred_by %v; want 115, silver, rewarded", m["balance"], m["tier"], m["referred_by"])
	}
	cf.call(till, "POST", p+"/members/cus_00000000000000000000000000/referral-code", lp, nil, http.StatusNotFound)
	cf.call(sales, "POST", p+"/members/"+id+"/referral-code", fidelis.PurposeSales, nil, http.StatusForbidden)
	cf.call(anon, "POST", p+"/members/"+id+"/referral-code", lp, nil, http.StatusUnauthorized)

	// Reservations.
	res := p + "/members/" + id + "/reservations"
	r1 := cf.call(till, "POST", res, lp, map[string]any{"reward_id": rid, "reference": "till-7"}, http.StatusCreated, idem("rs1")...).JSON(t)
	cf.call(till, "POST", res, lp, map[string]any{"reward_id": rid, "reference": "till-7"}, http.StatusCreated, idem("rs1")...) // replay
	cf.call(till, "POST", res, lp, map[string]any{"reward_id": product["id"]}, http.StatusConflict, idem("rs1")...)
	r2 := cf.call(till, "POST", res, lp, map[string]any{"reward_id": rid}, http.StatusCreated, idem("rs2")...).JSON(t)
	reasonOf(t, cf.call(till, "POST", res, lp, map[string]any{"reward_id": rid}, http.StatusUnprocessableEntity, idem("rs3")...), "insufficient_points")
	cf.call(till, "POST", res, lp, map[string]any{"reward_id": rid}, http.StatusUnprocessableEntity)
	cf.call(till, "POST", p+"/members/cus_00000000000000000000000000/reservations", lp, map[string]any{"reward_id": rid}, http.StatusNotFound, idem("rs4")...)
	cf.call(sales, "POST", res, fidelis.PurposeSales, map[string]any{"reward_id": rid}, http.StatusForbidden, idem("rs5")...)
	cf.call(anon, "POST", res, lp, map[string]any{"reward_id": rid}, http.StatusUnauthorized, idem("rs6")...)
	rs1 := "/api/v1/loyalty/reservations/" + r1["id"].(string)
	rs2 := "/api/v1/loyalty/reservations/" + r2["id"].(string)
	cf.call(till, "GET", rs1, lp, nil, http.StatusOK)
	cf.call(till, "GET", "/api/v1/loyalty/reservations/lrs_nope", lp, nil, http.StatusNotFound)
	cf.call(sales, "GET", rs1, fidelis.PurposeSales, nil, http.StatusForbidden)
	cf.call(anon, "GET", rs1, lp, nil, http.StatusUnauthorized)
	conf := cf.call(till, "POST", rs1+"/confirm", lp, nil, http.StatusOK, idem("c1")...).JSON(t)
	cf.call(till, "POST", rs1+"/confirm", lp, `{}`, http.StatusOK, idem("c1")...)
	reasonOf(t, cf.call(till, "POST", rs1+"/confirm", lp, nil, http.StatusConflict, idem("c2")...), "already_confirmed")
	cf.call(till, "POST", rs1+"/confirm", lp, nil, http.StatusUnprocessableEntity)
	cf.call(till, "POST", "/api/v1/loyalty/reservations/lrs_nope/confirm", lp, nil, http.StatusNotFound, idem("c3")...)
	cf.call(sales, "POST", rs2+"/confirm", fidelis.PurposeSales, nil, http.StatusForbidden, idem("c4")...)
	cf.call(anon, "POST", rs2+"/confirm", lp, nil, http.StatusUnauthorized, idem("c5")...)
	cf.call(till, "POST", rs2+"/cancel", lp, nil, http.StatusOK, idem("x1")...)
	reasonOf(t, cf.call(till, "POST", rs2+"/cancel", lp, nil, http.StatusConflict, idem("x2")...), "reservation_closed")
	cf.call(till, "POST", rs2+"/cancel", lp, nil, http.StatusUnprocessableEntity)
	cf.call(till, "POST", "/api/v1/loyalty/reservations/lrs_nope/cancel", lp, nil, http.StatusNotFound, idem("x3")...)
	cf.call(sales, "POST", rs2+"/cancel", fidelis.PurposeSales, nil, http.StatusForbidden, idem("x4")...)
	cf.call(anon, "POST", rs2+"/cancel", lp, nil, http.StatusUnauthorized, idem("x5")...)

	// Vouchers.
	vcode := conf["voucher"].(map[string]any)["code"].(string)
	v := "/api/v1/loyalty/vouchers/" + vcode
	cf.call(till, "GET", "/api/v1/loyalty/vouchers/"+strings.ToLower(vcode), lp, nil, http.StatusOK)
	cf.call(till, "GET", "/api/v1/loyalty/vouchers/NOT-A-CODE", lp, nil, http.StatusNotFound)
	cf.call(sales, "GET", v, fidelis.PurposeSales, nil, http.StatusForbidden)
	cf.call(anon, "GET", v, lp, nil, http.StatusUnauthorized)
	cf.call(till, "POST", v+"/use", lp, map[string]any{"reference": "receipt-1"}, http.StatusOK, idem("u1")...)
	cf.call(till, "POST", v+"/use", lp, map[string]any{"reference": "receipt-1"}, http.StatusOK, idem("u1")...)
	reasonOf(t, cf.call(till, "POST", v+"/use", lp, map[string]any{"reference": "receipt-2"}, http.StatusConflict, idem("u2")...), "voucher_used")
	cf.call(till, "POST", v+"/use", lp, map[string]any{"reference": "receipt 2"}, http.StatusUnprocessableEntity, idem("u3")...)
	cf.call(till, "POST", "/api/v1/loyalty/vouchers/AAAA-BBBB-CCCC-DDDD/use", lp, map[string]any{}, http.StatusNotFound, idem("u4")...)
	cf.call(sales, "POST", v+"/use", fidelis.PurposeSales, map[string]any{}, http.StatusForbidden, idem("u5")...)
	cf.call(anon, "POST", v+"/use", lp, map[string]any{}, http.StatusUnauthorized, idem("u6")...)

	// Deleting rewards.
	reasonOf(t, cf.call(admin, "DELETE", one, "", nil, http.StatusConflict), "reward_in_use")
	cf.call(sales, "DELETE", one, "", nil, http.StatusForbidden)
	cf.call(anon, "DELETE", one, "", nil, http.StatusUnauthorized)
	cf.call(admin, "DELETE", p+"/rewards/"+product["id"].(string), "", nil, http.StatusNoContent)
	cf.call(admin, "DELETE", p+"/rewards/"+product["id"].(string), "", nil, http.StatusNotFound)

	// A member who left has no referral code to share.
	till.Do("POST", p+"/members/"+referrer+"/leave", lp, nil, "Idempotency-Key", "leave-"+referrer).MustStatus(t, http.StatusOK)
	reasonOf(t, cf.call(till, "POST", p+"/members/"+referrer+"/referral-code", lp, nil, http.StatusConflict), "member_left")

	// Till batch.
	batchOrder := func(k string, cents int) map[string]any {
		o := map[string]any{"idempotency_key": k}
		for key, val := range order {
			o[key] = val
		}
		o["lines"] = []any{map[string]any{"gtin": "4006381333931", "category": "grocery", "quantity": 1, "unit_price_cents": cents}}
		return o
	}
	bad := batchOrder("b3", 100)
	bad["lines"] = []any{map[string]any{"gtin": "4006381333932", "category": "grocery", "quantity": 1, "unit_price_cents": 100}}
	body := map[string]any{"orders": []any{batchOrder("b1", 1000), batchOrder("b2", 2000), bad, map[string]any{"idempotency_key": "b4", "colour": "red"}}}
	out := cf.call(till, "POST", "/api/v1/orders/batch", lp, body, http.StatusOK).JSON(t)
	if s := out["summary"].(map[string]any); s["created"].(float64) != 2 || s["errors"].(float64) != 2 {
		t.Errorf("batch summary = %v; want 2 created, 2 errors", s)
	}
	out = cf.call(till, "POST", "/api/v1/orders/batch", lp, body, http.StatusOK).JSON(t)
	if s := out["summary"].(map[string]any); s["replayed"].(float64) != 2 {
		t.Errorf("batch replay summary = %v; want 2 replayed", s)
	}
	cf.call(till, "POST", "/api/v1/orders/batch", lp, `{"orders": [`, http.StatusBadRequest)
	cf.call(till, "POST", "/api/v1/orders/batch", lp, map[string]any{"orders": []any{}}, http.StatusUnprocessableEntity)
	cf.call(sales, "POST", "/api/v1/orders/batch", fidelis.PurposeSales, body, http.StatusForbidden)
	cf.call(anon, "POST", "/api/v1/orders/batch", lp, body, http.StatusUnauthorized)

	if r, err := a.Loyalty.Verify(app.SystemContext(t.Context(), "test", fidelis.RoleAdmin)); err != nil || !r.OK() {
		t.Errorf("Verify after the rewards conformance run: %v %v", err, r.Problems)
	}
}

// TestRewards_ConcurrentReservationsOverHTTP_L7 sends many concurrent reservations from
// many HTTP clients for a reward with little stock and members with few points: the stock
// is never oversold, no member overspends, and the ledger verifies.
func TestRewards_ConcurrentReservationsOverHTTP_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		prog := loyaltySetup(t, admin)
		const stock, members, clients, each = 12, 6, 18, 4
		rw := admin.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/rewards", "", map[string]any{"kind": "voucher", "name": map[string]any{"fr": "Bon", "en": "Voucher"},
			"cost_points": 100, "stock": stock}).MustStatus(t, http.StatusCreated).JSON(t)
		var ids []string
		for i := range members {
			id := loyaltyMember(t, till, prog)
			till.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/adjustments", lp, map[string]any{"points": 300, "reason": "migration"},
				"Idempotency-Key", fmt.Sprintf("fund-%d", i)).MustStatus(t, http.StatusCreated)
			ids = append(ids, id)
		}
		var mu sync.Mutex
		ok := map[string]int{}
		var wg sync.WaitGroup
		for c := range clients {
			wg.Go(func() {
				cl := fidelistest.NewClient(t, base, till.Token)
				for i := range each {
					id := ids[(c+i)%members]
					r := cl.Do("POST", "/api/v1/loyalty/programmes/"+prog+"/members/"+id+"/reservations", lp, map[string]any{"reward_id": rw["id"]},
						"Idempotency-Key", fmt.Sprintf("res-%d-%d", c, i))
					mu.Lock()
					switch {
					case r.Status == http.StatusCreated:
						ok[id]++
					case r.Status == http.StatusConflict && strings.Contains(string(r.Body), "out_of_stock"),
						r.Status == http.StatusUnprocessableEntity && strings.Contains(string(r.Body), "insufficient_points"):
					default:
						t.Errorf("reservation: status %d: %s", r.Status, r.Body)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		total := 0
		for _, id := range ids {
			total += ok[id]
			v := till.Do("GET", "/api/v1/loyalty/members/"+id, lp, nil).MustStatus(t, http.StatusOK).JSON(t)
			ms := v["memberships"].([]any)[0].(map[string]any)
			if ms["balance"].(float64) != float64(300-100*ok[id]) || ms["reserved"].(float64) != float64(100*ok[id]) || ok[id] > 3 {
				t.Errorf("member with %d reservations: balance %v, reserved %v", ok[id], ms["balance"], ms["reserved"])
			}
		}
		got := admin.Do("GET", "/api/v1/loyalty/programmes/"+prog+"/rewards/"+rw["id"].(string), "", nil).MustStatus(t, http.StatusOK).JSON(t)
		if total != stock || got["stock"].(float64) != 0 {
			t.Errorf("%d reservations succeeded, stock left %v; want %d and 0", total, got["stock"], stock)
		}
		if r, err := a.Loyalty.Verify(app.SystemContext(t.Context(), "test", fidelis.RoleAdmin)); err != nil || !r.OK() {
			t.Fatalf("Verify: %v %v", err, r.Problems)
		}
		t.Logf("%s: %d clients x %d reservations on %d members: %d succeeded for a stock of %d", b.Name, clients, each, members, total, stock)
	})
}

// TestPortability_LoyaltyLedgerOrdersGTINPromotions_R11 answers a portability request and an
// access request for a member through the API: the zip holds the loyalty ledger and the
// order lines with their GTIN and promotion amounts, in JSON and CSV, and the access JSON
// holds the same sections.
func TestPortability_LoyaltyLedgerOrdersGTINPromotions_R11(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
		till := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleLoyaltyManager))
		dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		prog := loyaltySetup(t, admin)
		id := loyaltyMember(t, till, prog)
		till.Do("POST", "/api/v1/orders", lp, map[string]any{"programme_id": prog, "customer_id": id, "ordered_at": time.Now().UTC().Format(time.RFC3339Nano),
			"channel": "store", "store": "lyon-02", "currency": "EUR", "lines": []any{
				map[string]any{"gtin": "3017620422003", "category": "grocery", "quantity": 2, "unit_price_cents": 620, "promotion_cents": 120},
				map[string]any{"gtin": "4006381333931", "category": "stationery", "quantity": 1, "unit_price_cents": 1999},
			}}, "Idempotency-Key", "o-1").MustStatus(t, http.StatusCreated)
		export := func(kind string) string {
			c := dpo.Do("POST", "/api/v1/rights-requests", fidelis.PurposeDataProtection, map[string]any{"customer_id": id, "kind": kind, "channel": "email",
				"received_at": time.Now().UTC().Format(time.RFC3339)}).MustStatus(t, http.StatusCreated).JSON(t)
			return "/api/v1/rights-requests/" + c["id"].(string) + "/export"
		}
		r := dpo.Do("GET", export("portability"), fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK)
		zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		files := map[string][]byte{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		for _, n := range []string{"loyalty_ledger.json", "loyalty_ledger.csv", "loyalty_order_lines.json", "loyalty_order_lines.csv", "loyalty_memberships.csv"} {
			if len(files[n]) == 0 {
				t.Errorf("the archive has no %s", n)
			}
		}
		lines, err := csv.NewReader(bytes.NewReader(files["loyalty_order_lines.csv"])).ReadAll()
		if err != nil || len(lines) != 3 {
			t.Fatalf("loyalty_order_lines.csv = %q, %v; want a header and 2 lines", files["loyalty_order_lines.csv"], err)
		}
		col := map[string]int{}
		for i, c := range lines[0] {
			col[c] = i
		}
		if l := lines[1]; l[col["gtin"]] != "3017620422003" || l[col["promotion_amount"]] != "1.20" || l[col["unit_price"]] != "6.20" || l[col["net_amount"]] != "11.20" || l[col["quantity"]] != "2" {
			t.Errorf("first line = %v; want GTIN 3017620422003, promotion 1.20, unit price 6.20, net 11.20", l)
		}
		var ledger []map[string]string
		if err := json.Unmarshal(files["loyalty_ledger.json"], &ledger); err != nil || len(ledger) != 1 {
			t.Fatalf("loyalty_ledger.json = %s, %v", files["loyalty_ledger.json"], err)
		}
		if e := ledger[0]; e["kind"] != "earn" || e["points"] != "31" || e["rule_id"] != "base" || e["terms_version"] != "1" || !strings.HasPrefix(e["reason_fr"], "31 points") {
			t.Errorf("ledger entry = %v; want an earning of 31 points citing rule base and terms v1", e)
		}
		acc := dpo.Do("GET", export("access"), fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK).JSON(t)
		secs, _ := acc["sections"].(map[string]any)
		ol, _ := secs["loyalty_order_lines"].([]any)
		if len(ol) != 2 || ol[0].(map[string]any)["gtin"] != "3017620422003" || ol[0].(map[string]any)["promotion_amount"] != "1.20" {
			t.Errorf("access export sections = %v; want the order lines with GTIN and promotion amounts", secs)
		}
		if _, ok := secs["loyalty_ledger"]; !ok {
			t.Errorf("access export has no loyalty_ledger section")
		}
		// the readable page shows the same tables, titled for people.
		page := string(dpo.Do("GET", export("access")+"?format=html", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK).Body)
		for _, w := range []string{"Mouvements de points", "Achats, ligne par ligne", "<td>3017620422003</td>", "<td>1.20</td>"} {
			if !strings.Contains(page, w) {
				t.Errorf("access page lacks %q", w)
			}
		}
	})
}
