package app_test

import (
	"context"
	"io"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

// The demo data set carries consents of every kind, so that the marketing purposes see
// only the customers who consented and the consent pages show grants, refusals and
// withdrawals (C-1, C-2).
func TestDemo_ConsentsOfEveryKind_C1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		if err := a.LoadDemo(context.Background(), 50, 7, io.Discard); err != nil {
			t.Fatal(err)
		}
		mkt := app.SystemContext(context.Background(), "test", fidelis.RoleMarketing)
		page, err := a.Customers.List(mkt, fidelis.PurposeMarketingEmail, "", 200)
		if err != nil {
			t.Fatal(err)
		}
		// i%5 in {0, 1} granted; 2 refused; 3 granted then withdrawn; 4 nothing.
		if len(page.Items) != 20 {
			t.Errorf("customers visible under marketing_email = %d; want the 20 who consented", len(page.Items))
		}
		sms, err := a.Customers.List(mkt, fidelis.PurposeMarketingSMS, "", 200)
		if err != nil || len(sms.Items) != 17 {
			t.Errorf("customers visible under marketing_sms = %d, %v; want 17", len(sms.Items), err)
		}
		all, err := a.Customers.List(app.SystemContext(context.Background(), "test", fidelis.RoleSupport), fidelis.PurposeCustomerService, "", 200)
		if err != nil || len(all.Items) != 50 {
			t.Fatalf("customers under customer_service = %d, %v; want all 50", len(all.Items), err)
		}
	})
}
