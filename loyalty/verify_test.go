package loyalty_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// TestVerify_NamesEveryBrokenInvariant_L6_L7 corrupts ledger rows directly in the database,
// as an attacker or a bug with database access would, one kind per member, and checks that
// Verify names each break and the row concerned.
func TestVerify_NamesEveryBrokenInvariant_L6_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		var ids [5]fidelis.CustomerID
		var earn [5]*loyalty.Transaction
		for i := range ids {
			ids[i] = e.member()
			earn[i] = e.order(ids[i], 10000).Transactions[0]
			if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: ids[i], Points: 10, Key: fmt.Sprintf("redeem-%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		e.mustVerify()
		raw := fidelistest.MustRawDB(t, e.a)
		lot := memberLot(earn[2])
		var ignoreChecks []string
		if b.URL == "" {
			// SQLite: the CHECK constraints would refuse a negative lot; an attacker with the
			// file can switch them off.
			ignoreChecks = []string{"PRAGMA ignore_check_constraints = ON"}
		} else {
			ignoreChecks = []string{"ALTER TABLE loyalty_lots DROP CONSTRAINT loyalty_lots_remaining_check"}
		}
		fidelistest.MustExec(t, raw, append(ignoreChecks,
			// 0: one posting of a transaction changed: unbalanced, and the member's sums differ.
			"UPDATE loyalty_postings SET amount = amount + 5 WHERE tx_id = '"+earn[0].ID+"' AND account = 'member'",
			// 1: the stored balance changed.
			"UPDATE loyalty_members SET balance = balance + 7 WHERE customer_id = '"+string(ids[1])+"'",
			// 2: a lot made negative.
			"UPDATE loyalty_lots SET remaining = -3 WHERE id = '"+lot+"'",
			// 3: a transaction removed with its postings.
			"DELETE FROM loyalty_postings WHERE tx_id IN (SELECT id FROM loyalty_transactions WHERE customer_id = '"+string(ids[3])+"' AND kind = 'redeem')",
			"DELETE FROM loyalty_transactions WHERE customer_id = '"+string(ids[3])+"' AND kind = 'redeem'",
			// 3: an earning made to cite a rule version that never existed.
			"UPDATE loyalty_transactions SET rule_version = 99 WHERE id = '"+earn[3].ID+"'",
			// 4: an idempotency key pointing elsewhere.
			"UPDATE loyalty_idempotency SET result = 'ltx_00000000000000000000000000' WHERE idem_key = 'redeem-4'",
		)...)
		r, err := e.svc.Verify(e.admin)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range r.Problems {
			got = append(got, p.String())
		}
		all := strings.Join(got, "\n")
		for _, want := range []string{
			"balanced " + earn[0].ID + ": postings sum to 5, not 0",
			"member_balance member:" + string(ids[0]) + ": stored balance 90, postings sum to 95",
			"member_balance member:" + string(ids[1]) + ": stored balance 97, postings sum to 90",
			"lot " + lot + ": remaining points are negative (-3)",
			"lots_vs_balance member:" + string(ids[2]) + ": lots hold -3 points",
			"member_balance member:" + string(ids[3]) + ": stored balance 90, postings sum to 100",
			"idempotency key system:till/redeem-3: names transaction",
			"citation " + earn[3].ID + `: cites rule "base" version 99, which was never published`,
			"idempotency key system:till/redeem-4: names transaction ltx_00000000000000000000000000",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("Verify did not report %q; problems:\n%s", want, all)
			}
		}
		if strings.Contains(all, "member:"+string(ids[4])) {
			t.Errorf("member 4's accounts are intact, yet reported:\n%s", all)
		}
	})
}
