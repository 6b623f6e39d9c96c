package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
)

// TestAccessLog_WhoWhenWhy_P4 reads a customer as support and checks that the DPO sees, in
// the customer's access log, who read it, when, under which purpose and which fields, and
// nothing of the values.
func TestAccessLog_WhoWhenWhy_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		supportTok := fidelistest.MustToken(t, a, fidelis.RoleSupport)
		support := fidelistest.NewClient(t, base, supportTok)
		dpo := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		auditor := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleAuditor))

		start := time.Now().Add(-time.Second)
		created := support.Do("POST", "/api/v1/customers", fidelis.PurposeCustomerService,
			map[string]any{"given_name": "Maëlle", "email": "maelle.p4@example.com"}).MustStatus(t, http.StatusCreated).JSON(t)
		id := created["id"].(string)
		read := support.Do("GET", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, nil).MustStatus(t, http.StatusOK)
		requestID := read.Header.Get("X-Request-Id")

		// Support's role may not see the access log: a DPO, or an auditor under "audit", may.
		support.Do("GET", "/api/v1/customers/"+id+"/access-log", fidelis.PurposeCustomerService, nil).MustStatus(t, http.StatusForbidden)
		auditor.Do("GET", "/api/v1/customers/"+id+"/access-log", fidelis.PurposeAudit, nil).MustStatus(t, http.StatusOK)
		resp := dpo.Do("GET", "/api/v1/customers/"+id+"/access-log", fidelis.PurposeDataProtection, nil).MustStatus(t, http.StatusOK)
		if strings.Contains(string(resp.Body), "Maëlle") || strings.Contains(string(resp.Body), "maelle.p4") {
			t.Fatal("the access log holds personal values")
		}
		tokID, _, _ := strings.Cut(supportTok, ".")
		var found bool
		for _, it := range resp.JSON(t)["items"].([]any) {
			e := it.(map[string]any)
			if e["action"] != "customer.read" || e["outcome"] != "ok" {
				continue
			}
			found = true
			at, err := time.Parse(time.RFC3339Nano, e["at"].(string))
			if err != nil || at.Before(start) || at.After(time.Now().Add(time.Second)) {
				t.Errorf("read entry at = %v, %v; want the time of the read", e["at"], err)
			}
			if e["actor"] != "token:"+tokID || e["purpose"] != "customer_service" || e["request_id"] != requestID {
				t.Errorf("read entry = %v; want actor token:%s, purpose customer_service, request %s", e, tokID, requestID)
			}
			var fields []string
			for _, f := range e["fields"].([]any) {
				fields = append(fields, f.(string))
			}
			if !slices.Equal(fields, []string{"email", "given_name"}) {
				t.Errorf("read entry fields = %v; want [email given_name]", fields)
			}
		}
		if !found {
			t.Fatalf("no read entry in the access log: %s", resp.Body)
		}
	})
}
