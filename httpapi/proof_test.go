package httpapi_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/proof"
)

// exerciseProof drives GET /api/v1/proof through every documented status, for
// TestOpenAPI_Conformance.
func exerciseProof(t *testing.T, cf *conformance, b fidelistest.Backend) {
	t.Helper()
	a := fidelistest.MustApp(t, b)
	base := fidelistest.MustServe(t, a)
	auditor := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor))
	dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
	sales := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSales))
	anon := fidelistest.NewClient(t, base, "")
	cf.call(auditor, "GET", "/api/v1/proof", "", nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/proof?since=2026-01-01", "", nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/proof?since="+time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), "", nil, http.StatusOK)
	cf.call(dpo, "GET", "/api/v1/proof?since=yesterday", "", nil, http.StatusUnprocessableEntity)
	cf.call(dpo, "GET", "/api/v1/proof?since=2999-01-01", "", nil, http.StatusUnprocessableEntity)
	if r := cf.call(sales, "GET", "/api/v1/proof", "", nil, http.StatusForbidden); problemReason(t, r) != "action_not_permitted" {
		t.Errorf("proof as sales: reason %q; want action_not_permitted", problemReason(t, r))
	}
	cf.call(anon, "GET", "/api/v1/proof", "", nil, http.StatusUnauthorized)
}

// TestAPI_Proof_P4 downloads the proof over the API on both backends: a zip file that
// verifies offline with the installation's key, holds the customer's consents and no
// personal value; roles without verify_audit and read_register are refused before any
// byte is sent.
func TestAPI_Proof_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		const canary = "Canarixtrem"
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName: fidelis.NewSecret(canary), fidelis.FieldEmail: fidelis.NewSecret(strings.ToLower(canary) + "@exemple.test")}})
		if err != nil {
			t.Fatal(err)
		}
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail)
		r := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor)).Do("GET", "/api/v1/proof", "", nil).MustStatus(t, http.StatusOK)
		if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); ct != "application/zip" || !strings.HasPrefix(cd, `attachment; filename="fidelis-proof-`) {
			t.Errorf("Content-Type %q, Content-Disposition %q; want a zip attachment", ct, cd)
		}
		rep, err := proof.Verify(context.Background(), bytes.NewReader(r.Body), int64(len(r.Body)), a.AuditPublicKey())
		if err != nil || !rep.OK() || rep.ConsentRecords != 1 || rep.Audit == nil || rep.Audit.Entries == 0 {
			t.Fatalf("Verify(downloaded proof) = %+v, %v; want OK with the consent record and the audit log", rep, err)
		}
		if bytes.Contains(r.Body, []byte(canary)) || bytes.Contains(r.Body, []byte(strings.ToLower(canary))) {
			t.Error("the proof file holds a personal value")
		}
		for _, role := range []fidelis.Role{fidelis.RoleSales, fidelis.RoleMarketing, fidelis.RoleSupport, fidelis.RoleLoyaltyManager} {
			r := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, role)).Do("GET", "/api/v1/proof", "", nil).MustStatus(t, http.StatusForbidden)
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" || r.Header.Get("Content-Disposition") != "" {
				t.Errorf("refusal to %s: Content-Type %q, Content-Disposition %q; want a problem, no attachment", role, ct, r.Header.Get("Content-Disposition"))
			}
		}
	})
}
