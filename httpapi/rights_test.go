package httpapi_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
)

const rightsPath = "/api/v1/rights-requests"

// rightsConformance drives every rights-request operation through each documented status
// (TestOpenAPI_Conformance calls it and checks that nothing documented went unobserved).
func rightsConformance(t *testing.T, cf *conformance, a *app.App, admin, dpo, support, anon *fidelistest.Client) {
	t.Helper()
	const cs, dp = fidelis.PurposeCustomerService, fidelis.PurposeDataProtection
	huge := `{"kind": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
	textPlain := []string{"Content-Type", "text/plain"}
	crossSite := []string{"Sec-Fetch-Site", "cross-site"}
	reason := func(r *fidelistest.Response, want string) {
		t.Helper()
		if got := problemReason(t, r); got != want {
			t.Errorf("problem reason = %q; want %q (body %s)", got, want, clip(r.Body))
		}
	}
	cust := func(fields map[string]any) string {
		return cf.call(admin, "POST", "/api/v1/customers", cs, fields, http.StatusCreated).JSON(t)["id"].(string)
	}
	alice := cust(map[string]any{"given_name": "Alice", "email": "alice.rights@example.com", "phone": "06 11 22 33 44", "locale": "en"})
	bob := cust(map[string]any{"given_name": "Bob", "email": "bob.rights@example.com"})
	create := func(c *fidelistest.Client, body any, want int, header ...string) *fidelistest.Response {
		t.Helper()
		return cf.call(c, "POST", rightsPath, dp, body, want, header...)
	}
	newCase := func(customer, kind, channel string, extra ...any) string {
		t.Helper()
		body := map[string]any{"customer_id": customer, "kind": kind, "channel": channel}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		r := create(dpo, body, http.StatusCreated)
		m := r.JSON(t)
		if r.Header.Get("Location") != rightsPath+"/"+m["id"].(string) || m["status"] != "received" {
			t.Errorf("created case %v (Location %s)", m, r.Header.Get("Location"))
		}
		return m["id"].(string)
	}
	one := func(id string) string { return rightsPath + "/" + id }
	act := func(c *fidelistest.Client, id, op string, body any, want int, header ...string) map[string]any {
		t.Helper()
		r := cf.call(c, "POST", one(id)+"/"+op, dp, body, want, header...)
		if want == http.StatusOK {
			return r.JSON(t)
		}
		return nil
	}
	startAndVerify := func(id string) {
		t.Helper()
		act(dpo, id, "start", nil, http.StatusOK)
		act(dpo, id, "verify-identity", map[string]any{"method": "email_confirmation", "result": "verified"}, http.StatusOK)
	}

	// Create.
	access := newCase(alice, "access", "email")
	received := time.Now().Add(-40 * 24 * time.Hour).UTC().Format(time.RFC3339)
	late := newCase(alice, "access", "post", "received_at", received)
	create(admin, map[string]any{"customer_id": bob, "kind": "objection", "channel": "portal", "purposes": []string{"marketing_email"}}, http.StatusCreated)
	create(dpo, `{"kind": "access", "kind": "erasure"}`, http.StatusBadRequest)
	create(dpo, ``, http.StatusBadRequest)
	create(dpo, `{"kind": "access"}`, http.StatusUnsupportedMediaType, textPlain...)
	create(dpo, huge, http.StatusRequestEntityTooLarge)
	create(dpo, map[string]any{"customer_id": alice, "kind": "deletion", "channel": "fax"}, http.StatusUnprocessableEntity)
	create(dpo, map[string]any{"customer_id": alice, "kind": "access", "channel": "email", "fee": 10}, http.StatusUnprocessableEntity) // no fee
	create(dpo, map[string]any{"customer_id": alice, "kind": "access", "channel": "email", "received_at": "yesterday"}, http.StatusUnprocessableEntity)
	create(dpo, map[string]any{"customer_id": alice, "kind": "access", "channel": "email", "received_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, http.StatusUnprocessableEntity)
	create(dpo, map[string]any{"customer_id": string(fidelis.NewCustomerID(time.Now())), "kind": "access", "channel": "email"}, http.StatusUnprocessableEntity)
	create(dpo, map[string]any{"customer_id": alice, "kind": "objection", "channel": "email"}, http.StatusUnprocessableEntity)
	reason(cf.call(admin, "POST", rightsPath, cs, map[string]any{"customer_id": alice, "kind": "access", "channel": "email"}, http.StatusForbidden), "purpose_not_applicable")
	reason(cf.call(support, "POST", rightsPath, dp, map[string]any{"customer_id": alice, "kind": "access", "channel": "email"}, http.StatusForbidden), "purpose_not_granted")
	reason(cf.call(dpo, "POST", rightsPath, "", map[string]any{}, http.StatusForbidden), "purpose_missing")
	create(dpo, map[string]any{"customer_id": alice, "kind": "access", "channel": "email"}, http.StatusForbidden, crossSite...)
	create(anon, map[string]any{"customer_id": alice, "kind": "access", "channel": "email"}, http.StatusUnauthorized)

	// List: by deadline; the letter logged 40 days late is overdue and first.
	page := cf.call(dpo, "GET", rightsPath+"?status=open&limit=1", dp, nil, http.StatusOK).JSON(t)
	items := page["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["id"] != late || items[0].(map[string]any)["deadline_state"] != "overdue" {
		t.Errorf("first open case = %v; want %s, overdue", items, late)
	}
	next, _ := page["next_cursor"].(string)
	if next == "" {
		t.Fatal("next_cursor missing with 3 open cases and limit=1")
	}
	cf.call(dpo, "GET", rightsPath+"?status=open&limit=1&cursor="+url.QueryEscape(next), dp, nil, http.StatusOK)
	cf.call(admin, "GET", rightsPath+"?kind=access&status=received,in_progress&due_before=2099-01-01&customer_id="+alice, dp, nil, http.StatusOK)
	cf.call(dpo, "GET", rightsPath+"?status=lost", dp, nil, http.StatusUnprocessableEntity)
	cf.call(dpo, "GET", rightsPath+"?due_before=31/12/2026", dp, nil, http.StatusUnprocessableEntity)
	cf.call(dpo, "GET", rightsPath+"?cursor=nope", dp, nil, http.StatusUnprocessableEntity)
	reason(cf.call(support, "GET", rightsPath, dp, nil, http.StatusForbidden), "purpose_not_granted")
	reason(cf.call(support, "GET", rightsPath, cs, nil, http.StatusForbidden), "purpose_not_applicable")
	cf.call(anon, "GET", rightsPath, dp, nil, http.StatusUnauthorized)

	// Read.
	cf.call(dpo, "GET", one(access), dp, nil, http.StatusOK)
	reason(cf.call(dpo, "GET", one("rrq_42"), dp, nil, http.StatusNotFound), "bad_id")
	cf.call(dpo, "GET", one(fidelis.NewID("rrq", time.Now())), dp, nil, http.StatusNotFound)
	reason(cf.call(dpo, "GET", one(access), fidelis.PurposeLegalClaims, nil, http.StatusForbidden), "purpose_not_applicable")
	cf.call(anon, "GET", one(access), dp, nil, http.StatusUnauthorized)

	// Every state-changing operation refuses the same bad inputs.
	unknown := fidelis.NewID("rrq", time.Now())
	valid := map[string]any{
		"start": nil, "verify-identity": map[string]any{"method": "not_needed"}, "extend": map[string]any{"months": 1, "reasons": []string{"complexity"}},
		"refuse": map[string]any{"reasons": []string{"excessive"}}, "complete": nil,
	}
	for _, op := range []string{"start", "verify-identity", "extend", "refuse", "complete"} {
		act(dpo, access, op, `{"a":`, http.StatusBadRequest)
		act(dpo, access, op, `{}`, http.StatusUnsupportedMediaType, textPlain...)
		act(dpo, access, op, huge, http.StatusRequestEntityTooLarge)
		act(dpo, access, op, map[string]any{"nickname": "x"}, http.StatusUnprocessableEntity)
		act(dpo, unknown, op, valid[op], http.StatusNotFound)
		reason(cf.call(support, "POST", one(access)+"/"+op, dp, nil, http.StatusForbidden), "purpose_not_granted")
		act(dpo, access, op, nil, http.StatusForbidden, crossSite...)
		act(anon, access, op, nil, http.StatusUnauthorized)
	}

	// Lifecycle of the access request: complete before start is 412; start; identity;
	// extend; a paper answer to an e-mail request is 422; complete; export.
	act(dpo, access, "complete", nil, http.StatusPreconditionFailed)
	act(dpo, access, "start", map[string]any{}, http.StatusOK)
	act(dpo, access, "start", nil, http.StatusPreconditionFailed)
	act(dpo, access, "verify-identity", map[string]any{"method": "id_document"}, http.StatusUnprocessableEntity)
	act(dpo, access, "complete", nil, http.StatusPreconditionFailed) // identity_not_recorded
	act(dpo, access, "verify-identity", map[string]any{"method": "not_needed"}, http.StatusOK)
	act(dpo, access, "extend", map[string]any{"months": 3, "reasons": []string{"complexity"}}, http.StatusUnprocessableEntity)
	act(dpo, access, "extend", map[string]any{"months": 2, "reasons": []string{"complexity"}, "told_via": "post"}, http.StatusUnprocessableEntity)
	ext := act(dpo, access, "extend", map[string]any{"months": 2, "reasons": []string{"complexity"}}, http.StatusOK)
	if ext["status"] != "extended" || ext["due_date"] == ext["original_due_date"] {
		t.Errorf("extended case = %v", ext)
	}
	act(dpo, access, "extend", map[string]any{"months": 1, "reasons": []string{"number_of_requests"}}, http.StatusPreconditionFailed)
	reason(cf.call(dpo, "POST", one(access)+"/complete", dp, map[string]any{"channel": "post"}, http.StatusUnprocessableEntity), "electronic_answer_required")
	act(dpo, access, "refuse", map[string]any{"reasons": []string{}}, http.StatusUnprocessableEntity)
	cf.call(dpo, "GET", one(access)+"/export?format=pdf", dp, nil, http.StatusUnprocessableEntity)
	cf.call(dpo, "GET", one(access)+"/export", dp, nil, http.StatusOK)
	html := cf.call(dpo, "GET", one(access)+"/export?format=html", dp, nil, http.StatusOK)
	if !bytes.Contains(html.Body, []byte("Your personal data")) || !bytes.Contains(html.Body, []byte("alice.rights@example.com")) {
		t.Errorf("access page (English customer) = %s", clip(html.Body))
	}
	cf.call(dpo, "GET", one(access)+"/export?format=zip", dp, nil, http.StatusUnprocessableEntity)
	done := act(dpo, access, "complete", map[string]any{"channel": "portal"}, http.StatusOK)
	if done["status"] != "completed" || done["answer"].(map[string]any)["channel"] != "portal" {
		t.Errorf("completed = %v", done)
	}
	act(dpo, access, "refuse", map[string]any{"reasons": []string{"excessive"}}, http.StatusPreconditionFailed)
	act(dpo, access, "verify-identity", map[string]any{"method": "not_needed"}, http.StatusPreconditionFailed)
	cf.call(dpo, "GET", one(unknown)+"/export", dp, nil, http.StatusNotFound)
	reason(cf.call(dpo, "GET", one(access)+"/export", fidelis.PurposeLegalClaims, nil, http.StatusForbidden), "purpose_not_applicable")
	reason(cf.call(admin, "GET", one(access)+"/export", cs, nil, http.StatusForbidden), "action_not_covered")
	cf.call(anon, "GET", one(access)+"/export", dp, nil, http.StatusUnauthorized)

	// Refusal with letters naming the CNIL.
	refused := act(dpo, late, "refuse", map[string]any{"reasons": []string{"manifestly_unfounded"}, "channel": "post"}, http.StatusOK)
	letter := refused["refusal"].(map[string]any)["letter"].(map[string]any)
	if !strings.Contains(letter["fr"].(string), "CNIL") || !strings.Contains(letter["en"].(string), "CNIL") {
		t.Errorf("refusal letter = %v; want the CNIL named", letter)
	}
	cf.call(dpo, "GET", one(late)+"/export", dp, nil, http.StatusPreconditionFailed)

	// Portability: a zip of JSON and CSV.
	port := newCase(alice, "portability", "api")
	startAndVerify(port)
	z := cf.call(dpo, "GET", one(port)+"/export", dp, nil, http.StatusOK)
	if zr, err := zip.NewReader(bytes.NewReader(z.Body), int64(len(z.Body))); err != nil || len(zr.File) != 3 {
		t.Errorf("portability zip: %v", err)
	}
	act(dpo, port, "complete", nil, http.StatusOK)

	// Rectification and erasure, then the suppression list refuses the erased
	// e-mail.
	rect := newCase(alice, "rectification", "email")
	startAndVerify(rect)
	act(dpo, rect, "complete", map[string]any{"changes": map[string]any{"given_name": 42}}, http.StatusUnprocessableEntity)
	r := act(dpo, rect, "complete", map[string]any{"changes": map[string]any{"given_name": "Alicia"}, "version": 1}, http.StatusOK)
	if r["answer"].(map[string]any)["ref"] != "customer_version:2" {
		t.Errorf("rectification answer = %v", r["answer"])
	}
	erase := newCase(alice, "erasure", "in_person")
	startAndVerify(erase)
	e := act(dpo, erase, "complete", nil, http.StatusOK)
	if e["answer"].(map[string]any)["erasure_effective_at"] == nil {
		t.Errorf("erasure answer = %v", e["answer"])
	}
	reason(cf.call(admin, "POST", "/api/v1/customers", cs, map[string]any{"given_name": "A", "email": "ALICE.rights@example.com"}, http.StatusConflict), "suppressed")

	// Restriction without the restriction service (an installation wired without it): 503,
	// the case stays open; with it, the customer is restricted at once.
	restr := newCase(bob, "restriction", "email")
	startAndVerify(restr)
	hook := a.Rights.Restrictions
	a.Rights.Restrictions = nil
	reason(cf.call(dpo, "POST", one(restr)+"/complete", dp, nil, http.StatusServiceUnavailable), "restrictions_unavailable")
	a.Rights.Restrictions = hook
	if got := cf.call(dpo, "GET", one(restr), dp, nil, http.StatusOK).JSON(t); got["status"] != "in_progress" {
		t.Errorf("after 503 the case is %v; want in_progress", got["status"])
	}
	act(dpo, restr, "complete", nil, http.StatusOK)
	reason(cf.call(admin, "GET", "/api/v1/customers/"+bob, cs, nil, http.StatusForbidden), "restricted")
}

func TestAPI_RightsErasureReceiptHasEffectiveDate_R8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b, fidelistest.Options{Mutate: func(c *app.Config) { c.BackupRetention = 7 * 24 * time.Hour }})
		c := e.mustCreate(t, map[string]any{"given_name": "Alice", "email": "alice@example.com"})
		rec := e.dpo.Do("POST", customersPath+"/"+c["id"].(string)+"/erase", dp, nil).MustStatus(t, http.StatusOK).JSON(t)
		erased, _ := time.Parse(time.RFC3339Nano, rec["erased_at"].(string))
		eff, _ := time.Parse(time.RFC3339Nano, rec["effective_erasure_at"].(string))
		if eff.Sub(erased) != 7*24*time.Hour || rec["backup_retention_days"] != float64(7) {
			t.Errorf("receipt = %v; want effective 7 days after erasure", rec)
		}
		// the same e-mail cannot be recorded again.
		e.admin.Do("POST", customersPath, cs, map[string]any{"email": "alice@example.com"}).MustStatus(t, http.StatusConflict)
	})
}
