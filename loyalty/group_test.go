package loyalty_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/privacy"
)

// Concurrent single orders are written together (group commit), each keeping its own key
// in its own caller's scope, its own lawfulness decision and its own outcome: many callers
// of three tills, one key sent by eight callers at once, the same key string used by
// another till, and a restricted member among the others.
func TestPlaceOrder_ConcurrentCallersKeepTheirOwnOutcome_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		var ids []fidelis.CustomerID
		for range 6 {
			ids = append(ids, e.member())
		}
		restricted := e.member()
		if _, err := e.a.States.Restrict(as("dpo", fidelis.RoleDPO), fidelis.PurposeDataProtection, restricted, privacy.RestrictAccuracyContested, "RR-2026-9"); err != nil {
			t.Fatal(err)
		}
		tills := []context.Context{as("till-a", fidelis.RoleLoyaltyManager), as("till-b", fidelis.RoleLoyaltyManager), as("till-c", fidelis.RoleLoyaltyManager)}
		at := e.clock.Now()
		order := func(id fidelis.CustomerID, k string, cents int64) loyalty.OrderInput {
			return loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "s", Currency: "EUR", Key: k,
				Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: cents}}}
		}
		type outcome struct {
			till int
			key  string
			res  *loyalty.OrderResult
			err  error
		}
		const callers = 60
		out := make(chan outcome, callers+10)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range callers {
			wg.Go(func() {
				<-start
				k := fmt.Sprintf("g-%d", i)
				res, err := e.svc.PlaceOrder(tills[i%3], fidelis.PurposeLoyalty, order(ids[i%len(ids)], k, 1000))
				out <- outcome{i % 3, k, res, err}
			})
		}
		for range 8 { // one key, one content, eight callers of till a
			wg.Go(func() {
				<-start
				res, err := e.svc.PlaceOrder(tills[0], fidelis.PurposeLoyalty, order(ids[0], "same", 500))
				out <- outcome{0, "same", res, err}
			})
		}
		wg.Go(func() { // the same key string in another till's scope: another order
			<-start
			res, err := e.svc.PlaceOrder(tills[1], fidelis.PurposeLoyalty, order(ids[1], "same", 700))
			out <- outcome{1, "same", res, err}
		})
		wg.Go(func() {
			<-start
			res, err := e.svc.PlaceOrder(tills[2], fidelis.PurposeLoyalty, order(restricted, "r", 1000))
			out <- outcome{2, "r", res, err}
		})
		close(start)
		wg.Wait()
		close(out)
		var created, replayed int
		var sameID string
		for o := range out {
			switch {
			case o.key == "r":
				if fidelis.ErrorCode(o.err) != fidelis.EFORBIDDEN {
					t.Errorf("order of a restricted member: err = %v; want EFORBIDDEN (R-10)", o.err)
				}
			case o.err != nil:
				t.Errorf("PlaceOrder(till %d, %s) = %v", o.till, o.key, o.err)
			case o.key == "same" && o.till == 0:
				if sameID == "" {
					sameID = o.res.Order.ID
				} else if o.res.Order.ID != sameID {
					t.Errorf("key used by eight callers gave orders %s and %s; want one", sameID, o.res.Order.ID)
				}
				if o.res.Replayed {
					replayed++
				} else {
					created++
				}
			case o.res.Replayed:
				t.Errorf("PlaceOrder(till %d, %s) replayed; want created", o.till, o.key)
			}
		}
		if created != 1 || replayed != 7 {
			t.Errorf("one key from eight callers: %d created, %d replayed; want 1 and 7", created, replayed)
		}
		var total int64
		for _, id := range ids {
			total += e.view(id).Member.Balance
		}
		if want := int64(callers*10 + 5 + 7); total != want {
			t.Errorf("balances sum to %d; want %d (each order earned once)", total, want)
		}
		e.mustVerify()
	})
}

// A caller whose request ended before its order was taken into a group gets the
// context's error and nothing of its order is stored; one whose order was taken gets its
// outcome. Either way the key tells the truth: a retry with it creates the order exactly
// once.
func TestPlaceOrder_CancelledCallerLeavesNothingHalfDone_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		at := e.clock.Now()
		order := func(k string) loyalty.OrderInput {
			return loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "s", Currency: "EUR", Key: k,
				Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: 100}}}
		}
		done, cancel := context.WithCancel(e.mgr)
		cancel()
		if _, err := e.svc.PlaceOrder(done, fidelis.PurposeLoyalty, order("c-ended")); err == nil {
			t.Fatal("PlaceOrder with an ended context succeeded")
		}
		const callers = 40
		var wg sync.WaitGroup
		failed := make(chan string, callers)
		for i := range callers {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(e.mgr, time.Duration(i%8)*200*time.Microsecond)
				defer cancel()
				k := fmt.Sprintf("c-%d", i)
				if _, err := e.svc.PlaceOrder(ctx, fidelis.PurposeLoyalty, order(k)); err != nil {
					failed <- k
				}
			})
		}
		wg.Wait()
		close(failed)
		// Retrying every key: those that failed are created now, the others replayed.
		retried := map[string]bool{"c-ended": true}
		for k := range failed {
			retried[k] = true
		}
		for i := -1; i < callers; i++ {
			k := fmt.Sprintf("c-%d", i)
			if i < 0 {
				k = "c-ended"
			}
			res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, order(k))
			if err != nil {
				t.Fatalf("retry of %s: %v", k, err)
			}
			if res.Replayed == retried[k] {
				t.Errorf("retry of %s: replayed = %v; want %v (the first call failed: %v)", k, res.Replayed, !retried[k], retried[k])
			}
		}
		if got := e.view(id).Member.Balance; got != callers+1 {
			t.Errorf("balance = %d; want %d (each key's order earned once)", got, callers+1)
		}
		e.mustVerify()
	})
}
