package app_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/rights"
)

// TestRightsDeadlines_WarnedBeforeTheyPass_R1: the operator is warned (a log line naming
// case IDs only) of overdue and due-soon requests.
func TestRightsDeadlines_WarnedBeforeTheyPass_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		logs := &fidelistest.SyncBuffer{}
		a := fidelistest.MustApp(t, b, fidelistest.Options{Logs: logs})
		ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret("Zoé")}})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(daysAgo int) string {
			rc, err := a.Rights.Create(ctx, fidelis.PurposeDataProtection, rights.NewCase{CustomerID: c.ID, Kind: rights.KindAccess, Channel: rights.ChannelPost, ReceivedAt: time.Now().AddDate(0, 0, -daysAgo)})
			if err != nil {
				t.Fatal(err)
			}
			return rc.ID
		}
		late, soon, _ := mk(45), mk(27), mk(1)
		overdue, dueSoon, err := a.WarnRightsDeadlines(ctx)
		if err != nil || !slices.Equal(overdue, []string{late}) || !slices.Equal(dueSoon, []string{soon}) {
			t.Errorf("WarnRightsDeadlines = %v, %v, %v; want [%s], [%s]", overdue, dueSoon, err, late, soon)
		}
		out := logs.String()
		if !strings.Contains(out, "rights requests need an answer") || !strings.Contains(out, late) || strings.Contains(out, "Zoé") {
			t.Errorf("log lacks the warning or holds personal data:\n%s", out)
		}
	})
}
