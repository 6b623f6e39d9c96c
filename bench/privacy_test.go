package bench_test

import (
	"fmt"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
)

// BenchmarkLawfulness measures what the lawfulness decision (issue 3: consents,
// restriction, objections, retention, read from the subject's stored state at processing
// time) adds to a read: the decision alone beside the whole service read that includes it,
// on the same customers in the same run. The ratio decision ÷ read is the decision's share.
func BenchmarkLawfulness(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		ctx := app.SystemContext(b.Context(), "bench", fidelis.RoleSupport)
		p := fidelis.PurposeCustomerService
		id := func(i int64) fidelis.CustomerID { return fidelis.CustomerID(f.ids[i%int64(len(f.ids))]) }
		b.Run("read", func(b *testing.B) {
			parallel(b, func(i int64) error { _, err := f.a.Customers.Get(ctx, p, id(i)); return err })
		})
		b.Run("decision", func(b *testing.B) {
			parallel(b, func(i int64) error { return f.a.States.Lawful(ctx, p, id(i)) })
		})
	})
}

// BenchmarkErasure measures one erasure (R-8: key destroyed, record, indexes and history
// deleted, suppression entries, receipt, audit entry and event, in one transaction, then
// the WAL checkpoint on SQLite) one at a time, beside a bare DELETE of a customer-shaped
// row. Goal: median under 50 ms.
func BenchmarkErasure(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		ctx := app.SystemContext(b.Context(), "bench", fidelis.RoleDPO)
		run := 0 // erased e-mails go on the suppression list: every run needs new ones
		b.Run("api_service", func(b *testing.B) {
			b.StopTimer()
			run++
			inputs := make([]customer.Input, b.N)
			for i := range inputs {
				inputs[i] = customer.Input{Set: map[fidelis.Field]fidelis.Secret{
					fidelis.FieldGivenName: fidelis.NewSecret("Erwan"), fidelis.FieldEmail: fidelis.NewSecret(fmt.Sprintf("erase.%d.%d@example.com", run, i)),
					fidelis.FieldPhone: fidelis.NewSecret(fmt.Sprintf("06 %02d %02d %02d %02d", run%100, i/10000%100, i/100%100, i%100))}}
			}
			ids, err := f.a.Customers.CreateMany(app.SystemContext(b.Context(), "bench", fidelis.RoleAdmin), fidelis.PurposeCustomerService, inputs)
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			for _, id := range ids {
				if _, err := f.a.Customers.Erase(ctx, fidelis.PurposeDataProtection, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("bare_delete", func(b *testing.B) {
			b.StopTimer()
			for i := range b.N {
				if err := f.bareInsert(int64(1_000_000 + i)); err != nil {
					b.Fatal(err)
				}
			}
			rows, err := f.raw.Query(`SELECT id FROM customers WHERE id LIKE 'bare_%'`)
			if err != nil {
				b.Fatal(err)
			}
			var bare []string
			for rows.Next() {
				var s string
				rows.Scan(&s)
				bare = append(bare, s)
			}
			rows.Close()
			b.StartTimer()
			for _, id := range bare[:min(len(bare), b.N)] {
				if _, err := f.raw.Exec(f.q(`DELETE FROM customers WHERE id = ?`), id); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
