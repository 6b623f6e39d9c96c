package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/recipient"
)

// exerciseRecipients drives every recipients operation through each documented status, on
// an installation of its own (one attempt per delivery, so that deadness is quick to
// provoke), recording what it observed in cf.
func exerciseRecipients(t *testing.T, cf *conformance, b fidelistest.Backend) {
	t.Helper()
	a := fidelistest.MustApp(t, b, fidelistest.Options{Mutate: func(c *app.Config) {
		c.WebhookInterval = 20 * time.Millisecond
		c.WebhookPolicy = recipient.Policy{MaxAttempts: 1, Timeout: 2 * time.Second}
	}})
	base := fidelistest.MustServe(t, a)
	admin := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAdmin))
	dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
	support := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
	marketing := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleMarketing))
	anon := fidelistest.NewClient(t, base, "")
	var hits atomic.Int64
	okServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(okServer.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/hook"
	closed.Close() // nothing listens there any more: every attempt fails to connect

	const recipients = "/api/v1/recipients"
	huge := `{"name": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	valid := map[string]any{
		"name": "Transporteur", "kind": "processor", "purposes": []string{"customer_service", "loyalty"}, "country": "GB",
		"safeguard": "adequacy_decision", "contract_ref": "DPA-7", "contact_name": "Service DPO", "contact_email": "dpo@carrier.example",
		"endpoint": closedURL, "events": []string{"customer.created"},
	}
	created := cf.call(admin, "POST", recipients, "", valid, http.StatusCreated).JSON(t)
	rid := created["id"].(string)
	one := recipients + "/" + rid
	cf.call(dpo, "POST", recipients, "", map[string]any{"name": "Imprimeur", "kind": "recipient", "purposes": []string{"customer_service"},
		"country": "FR", "safeguard": nil, "contract_ref": nil, "contact_email": "contact@print.example", "active": false, "endpoint": nil, "events": []string{}}, http.StatusCreated)
	cf.call(admin, "POST", recipients, "", valid, http.StatusUnprocessableEntity) // name taken
	cf.call(admin, "POST", recipients, "", map[string]any{"name": "X", "kind": "friend", "purposes": "all", "country": "IN", "contact_email": "x", "endpoint": "http://crm.example.com"}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", recipients, "", map[string]any{"nickname": "X"}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", recipients, "", `{"name": "A", "name": "B"}`, http.StatusBadRequest)
	cf.call(admin, "POST", recipients, "", `{"name": "A"}`, http.StatusUnsupportedMediaType, "Content-Type", "text/plain")
	cf.call(admin, "POST", recipients, "", huge, http.StatusRequestEntityTooLarge)
	expectForbidden := func(r *fidelistest.Response) {
		t.Helper()
		if got := problemReason(t, r); got != "action_not_permitted" {
			t.Errorf("problem reason = %q; want action_not_permitted", got)
		}
	}
	expectForbidden(cf.call(support, "POST", recipients, "", valid, http.StatusForbidden))
	cf.call(anon, "POST", recipients, "", valid, http.StatusUnauthorized)

	// List.
	page := cf.call(admin, "GET", recipients+"?limit=1", "", nil, http.StatusOK).JSON(t)
	next, _ := page["next_cursor"].(string)
	if next == "" {
		t.Fatalf("recipients page of 1 out of 2: next_cursor = %v; want a cursor", page["next_cursor"])
	}
	cf.call(admin, "GET", recipients+"?limit=1&cursor="+url.QueryEscape(next), "", nil, http.StatusOK)
	cf.call(admin, "GET", recipients+"?cursor=nope", "", nil, http.StatusUnprocessableEntity)
	expectForbidden(cf.call(marketing, "GET", recipients, "", nil, http.StatusForbidden))
	cf.call(anon, "GET", recipients, "", nil, http.StatusUnauthorized)

	// Read, change.
	unknown := recipients + "/" + fidelis.NewID("rcp", time.Now())
	cf.call(admin, "GET", one, "", nil, http.StatusOK)
	cf.call(admin, "GET", unknown, "", nil, http.StatusNotFound)
	cf.call(admin, "GET", recipients+"/42", "", nil, http.StatusNotFound)
	cf.call(support, "GET", one, "", nil, http.StatusForbidden)
	cf.call(anon, "GET", one, "", nil, http.StatusUnauthorized)
	cf.call(admin, "PATCH", one, "", map[string]any{"contact_name": "Délégué"}, http.StatusOK, "If-Match", `"v1"`)
	cf.call(admin, "PATCH", one, "", map[string]any{"contact_name": "Autre", "version": 1}, http.StatusPreconditionFailed)
	cf.call(admin, "PATCH", one, "", map[string]any{"country": "FR"}, http.StatusUnprocessableEntity) // a safeguard inside the EEA
	cf.call(admin, "PATCH", one, "", `{"active": true} {}`, http.StatusBadRequest)
	cf.call(admin, "PATCH", unknown, "", map[string]any{"active": true}, http.StatusNotFound)
	cf.call(support, "PATCH", one, "", map[string]any{"active": true}, http.StatusForbidden)
	cf.call(anon, "PATCH", one, "", map[string]any{"active": true}, http.StatusUnauthorized)

	// A customer and a rectification: the attempt to the closed endpoint fails, and with
	// one attempt allowed the delivery dies.
	cust := cf.call(admin, "POST", "/api/v1/customers", fidelis.PurposeCustomerService, map[string]any{"family_name": "Durand"}, http.StatusCreated).JSON(t)
	cid := cust["id"].(string)
	cf.call(admin, "PATCH", "/api/v1/customers/"+cid, fidelis.PurposeCustomerService, map[string]any{"city": "Metz"}, http.StatusOK)
	deliveries := one + "/deliveries"
	var dead []any
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if dead = admin.Do("GET", deliveries+"?state=dead", "", nil).MustStatus(t, http.StatusOK).JSON(t)["items"].([]any); len(dead) == 2 {
			break
		}
	}
	if len(dead) != 2 {
		t.Fatalf("dead deliveries = %v; want customer.created and customer.updated dead after one failed attempt", dead)
	}
	dl := dead[0].(map[string]any)["id"].(string)
	cf.call(admin, "GET", deliveries+"?state=dead&limit=1", "", nil, http.StatusOK)
	cf.call(admin, "GET", deliveries+"?state=lost", "", nil, http.StatusUnprocessableEntity)
	cf.call(admin, "GET", unknown+"/deliveries", "", nil, http.StatusNotFound)
	cf.call(support, "GET", deliveries, "", nil, http.StatusForbidden)
	cf.call(anon, "GET", deliveries, "", nil, http.StatusUnauthorized)
	cf.call(admin, "GET", deliveries+"/"+dl, "", nil, http.StatusOK)
	cf.call(admin, "GET", deliveries+"/dlv_x", "", nil, http.StatusNotFound)
	cf.call(support, "GET", deliveries+"/"+dl, "", nil, http.StatusForbidden)
	cf.call(anon, "GET", deliveries+"/"+dl, "", nil, http.StatusUnauthorized)

	// Redeliver: refused while the recipient cannot receive, accepted once it can.
	redeliver := deliveries + "/" + dl + "/redeliver"
	cf.call(admin, "PATCH", one, "", map[string]any{"active": false}, http.StatusOK)
	cf.call(admin, "POST", redeliver, "", nil, http.StatusPreconditionFailed)
	cf.call(admin, "PATCH", one, "", map[string]any{"active": true, "endpoint": okServer.URL}, http.StatusOK)
	cf.call(admin, "POST", redeliver, "", map[string]any{"now": true}, http.StatusUnprocessableEntity)
	cf.call(support, "POST", redeliver, "", nil, http.StatusForbidden)
	cf.call(anon, "POST", redeliver, "", nil, http.StatusUnauthorized)
	cf.call(admin, "POST", deliveries+"/dlv_x/redeliver", "", nil, http.StatusNotFound)
	cf.call(admin, "POST", redeliver, "", `{}`, http.StatusOK)
	cf.call(admin, "POST", redeliver, "", nil, http.StatusConflict) // pending or delivered: not dead

	// Who receives the customer's data.
	cr := "/api/v1/customers/" + cid + "/recipients"
	cf.call(dpo, "GET", cr, fidelis.PurposeDataProtection, nil, http.StatusOK)
	cf.call(admin, "GET", cr, fidelis.PurposeCustomerService, nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/customers/"+string(fidelis.NewCustomerID(time.Now()))+"/recipients", fidelis.PurposeDataProtection, nil, http.StatusNotFound)
	cf.call(marketing, "GET", cr, fidelis.PurposeCustomerService, nil, http.StatusForbidden)
	cf.call(anon, "GET", cr, fidelis.PurposeDataProtection, nil, http.StatusUnauthorized)

	// Rotate, delete.
	cf.call(admin, "POST", one+"/rotate-secret", "", nil, http.StatusOK)
	cf.call(admin, "POST", one+"/rotate-secret", "", map[string]any{"secret": "mine"}, http.StatusUnprocessableEntity)
	cf.call(admin, "POST", unknown+"/rotate-secret", "", nil, http.StatusNotFound)
	cf.call(support, "POST", one+"/rotate-secret", "", nil, http.StatusForbidden)
	cf.call(anon, "POST", one+"/rotate-secret", "", nil, http.StatusUnauthorized)
	cf.call(admin, "DELETE", one, "", nil, http.StatusConflict) // it was notified
	fresh := cf.call(admin, "POST", recipients, "", map[string]any{"name": "Erreur", "kind": "recipient", "purposes": []string{"sales"}, "country": "BE", "contact_email": "a@b.example"}, http.StatusCreated).JSON(t)
	cf.call(support, "DELETE", recipients+"/"+fresh["id"].(string), "", nil, http.StatusForbidden)
	cf.call(anon, "DELETE", recipients+"/"+fresh["id"].(string), "", nil, http.StatusUnauthorized)
	cf.call(admin, "DELETE", recipients+"/"+fresh["id"].(string), "", nil, http.StatusNoContent)
	cf.call(admin, "DELETE", recipients+"/"+fresh["id"].(string), "", nil, http.StatusNotFound)
}
