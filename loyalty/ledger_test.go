package loyalty_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// model is the simplest possible points account: lots in earning order, consumed oldest
// first, and a debt.
type model struct {
	lots   []*mlot
	debt   int64
	orders []*morder
}

type mlot struct {
	id        string
	expires   time.Time
	remaining int64
}

type morder struct {
	id       string
	points   int64 // issued by the order
	lot      string
	refunded bool
}

func (m *model) balance() int64 {
	var n int64
	for _, l := range m.lots {
		n += l.remaining
	}
	return n
}

// take consumes n points, lot prefer first, then oldest first.
func (m *model) take(n int64, prefer string) {
	order := slices.Clone(m.lots)
	slices.SortStableFunc(order, func(a, b *mlot) int {
		switch {
		case a.id == prefer && b.id != prefer:
			return -1
		case b.id == prefer && a.id != prefer:
			return 1
		}
		return 0
	})
	for _, l := range order {
		t := min(n, l.remaining)
		l.remaining -= t
		n -= t
	}
	m.lots = slices.DeleteFunc(m.lots, func(l *mlot) bool { return l.remaining == 0 })
}

// memberLot returns the lot a transaction credited, or "".
func memberLot(t *loyalty.Transaction) string {
	for _, p := range t.Postings {
		if p.Account == loyalty.AccountMember && p.Amount > 0 {
			return p.Lot
		}
	}
	return ""
}

// TestLedger_RandomOperationsMatchModel_L6_L7 drives random sequences of earning (orders),
// redemptions, refunds, expiry and adjustments, against the real store on each backend,
// and checks after every step that the member's balance, debt and open lots equal those of
// a simple in-memory model (FIFO lots, L-4), that a redemption or debit beyond the balance
// is refused (L-7: never negative), and at the end that Verify finds every invariant intact
// (L-6).
func TestLedger_RandomOperationsMatchModel_L6_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		rapid.Check(t, func(rt *rapid.T) {
			id := e.member()
			m := &model{}
			check := func(step string) {
				v := e.view(id)
				if v.Member.Balance != m.balance() || v.Member.Debt != m.debt {
					rt.Fatalf("after %s: balance %d, debt %d; model %d, %d", step, v.Member.Balance, v.Member.Debt, m.balance(), m.debt)
				}
				var got, want []string
				for _, l := range v.Lots {
					got = append(got, fmt.Sprintf("%s:%d", l.ID, l.Remaining))
				}
				for _, l := range m.lots {
					want = append(want, fmt.Sprintf("%s:%d", l.id, l.remaining))
				}
				if !slices.Equal(got, want) {
					rt.Fatalf("after %s: lots %v; model %v", step, got, want)
				}
			}
			steps := rapid.IntRange(1, 20).Draw(rt, "steps")
			for i := range steps {
				switch op := rapid.SampledFrom([]string{"earn", "earn", "redeem", "refund", "expire", "adjust"}).Draw(rt, "op"); op {
				case "earn":
					cents := rapid.Int64Range(0, 50_000).Draw(rt, "cents")
					res, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: e.clock.Now(), Channel: "store", Store: "s1", Currency: "EUR",
						Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: cents}}, Key: key()})
					if err != nil {
						rt.Fatalf("PlaceOrder: %v", err)
					}
					points := cents / 100
					o := &morder{id: res.Order.ID, points: points}
					if points > 0 {
						if len(res.Transactions) != 1 {
							rt.Fatalf("order of %d cents: %d transactions; want 1", cents, len(res.Transactions))
						}
						tx := res.Transactions[0]
						settle := min(points, m.debt)
						m.debt -= settle
						if rest := points - settle; rest > 0 {
							o.lot = memberLot(tx)
							m.lots = append(m.lots, &mlot{id: o.lot, expires: tx.At.AddDate(0, 12, 0), remaining: rest})
						}
						if tx.MemberDelta() != points-settle {
							rt.Fatalf("earn of %d with debt %d credited %d", points, settle, tx.MemberDelta())
						}
					}
					m.orders = append(m.orders, o)
				case "redeem":
					n := rapid.Int64Range(1, m.balance()+20).Draw(rt, "points")
					_, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: e.prog, Customer: id, Points: n, Key: key()})
					if n > m.balance() {
						if e := fidelis.AsError(err); e == nil || e.Reason != "insufficient_points" {
							rt.Fatalf("Redeem(%d) with balance %d: %v; want insufficient_points", n, m.balance(), err)
						}
						continue
					}
					if err != nil {
						rt.Fatalf("Redeem(%d): %v", n, err)
					}
					m.take(n, "")
				case "refund":
					var open []*morder
					for _, o := range m.orders {
						if !o.refunded {
							open = append(open, o)
						}
					}
					if len(open) == 0 {
						continue
					}
					o := rapid.SampledFrom(open).Draw(rt, "order")
					if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: o.id, Key: key()}); err != nil {
						rt.Fatalf("Refund: %v", err)
					}
					o.refunded = true
					take := min(o.points, m.balance())
					m.take(take, o.lot)
					m.debt += o.points - take
				case "expire":
					e.clock.Advance(time.Duration(rapid.IntRange(0, 400).Draw(rt, "days")) * 24 * time.Hour)
					now := e.clock.Now()
					if _, err := e.svc.Expire(e.admin, now, false); err != nil {
						rt.Fatalf("Expire: %v", err)
					}
					for _, l := range m.lots {
						if !l.expires.After(fidelis.UTC(now)) {
							l.remaining = 0
						}
					}
					m.lots = slices.DeleteFunc(m.lots, func(l *mlot) bool { return l.remaining == 0 })
				case "adjust":
					n := rapid.Int64Range(-m.balance()-10, 500).Filter(func(n int64) bool { return n != 0 }).Draw(rt, "points")
					res, err := e.svc.Adjust(e.mgr, fidelis.PurposeLoyalty, loyalty.AdjustInput{Programme: e.prog, Customer: id, Points: n, Reason: "correction", Key: key()})
					if -n > m.balance() {
						if e := fidelis.AsError(err); e == nil || e.Reason != "insufficient_points" {
							rt.Fatalf("Adjust(%d) with balance %d: %v; want insufficient_points", n, m.balance(), err)
						}
						continue
					}
					if err != nil {
						rt.Fatalf("Adjust(%d): %v", n, err)
					}
					if n > 0 {
						m.lots = append(m.lots, &mlot{id: memberLot(res.Transaction), expires: res.Transaction.At.AddDate(0, 12, 0), remaining: n})
					} else {
						m.take(-n, "")
					}
				}
				check(fmt.Sprintf("step %d", i))
			}
			r, err := e.svc.Verify(e.admin)
			if err != nil || !r.OK() {
				rt.Fatalf("Verify: %v %v", err, r.Problems)
			}
		})
	})
}

// TestCheckBalanced_L6 checks the double-entry rule on its own.
func TestCheckBalanced_L6(t *testing.T) {
	cus := fidelis.CustomerID("cus_06h0a1kn2vk7k81ma000a4gne8")
	for _, tt := range []struct {
		name string
		ps   []loyalty.Posting
		ok   bool
	}{
		{"balanced", []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: -12}, {Account: loyalty.AccountMember, Customer: cus, Amount: 12}}, true},
		{"unbalanced", []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: -12}, {Account: loyalty.AccountMember, Customer: cus, Amount: 11}}, false},
		{"one line", []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: 0}}, false},
		{"zero line", []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: 0}, {Account: loyalty.AccountMember, Amount: 0}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := loyalty.CheckBalanced(tt.ps); (err == nil) != tt.ok {
				t.Fatalf("CheckBalanced(%v) = %v; want ok=%v", tt.ps, err, tt.ok)
			}
		})
	}
}
