package loyalty_test

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/privacy"
)

// countRows counts rows of a raw query with one customer or type parameter.
func countRows(t *testing.T, raw *sql.DB, dialectPG bool, query string, arg string) int {
	t.Helper()
	if dialectPG {
		query = strings.Replace(query, "?", "$1", 1)
	}
	var n int
	if err := raw.QueryRow(query, arg).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestBatch_OneFailingOrderLeavesTheOthers_L7 makes the database refuse one order of a
// chunk (a trigger, as a constraint would): the chunk's multi-row write fails, and the
// orders are retried one by one. The others are stored with their audit entries and
// events, the failing one alone is an error with nothing stored, the results are exact,
// and a replay returns the first results (and records the failed order once the database
// accepts it).
func TestBatch_OneFailingOrderLeavesTheOthers_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		pg := e.a.Config.DBURL != ""
		raw := fidelistest.MustRawDB(t, e.a)
		if pg {
			fidelistest.MustExec(t, raw, `CREATE FUNCTION batch_fault() RETURNS trigger AS $$ BEGIN
				IF NEW.store = 'faulty' THEN RAISE EXCEPTION 'injected fault' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER batch_fault BEFORE INSERT ON loyalty_orders FOR EACH ROW EXECUTE FUNCTION batch_fault()`)
		} else {
			fidelistest.MustExec(t, raw, `CREATE TRIGGER batch_fault BEFORE INSERT ON loyalty_orders WHEN NEW.store = 'faulty' BEGIN SELECT RAISE(ABORT, 'injected fault'); END`)
		}
		a, bb, c, d := e.member(), e.member(), e.member(), e.member()
		at := e.clock.Now()
		o := func(id fidelis.CustomerID, k, store string, cents int64) loyalty.OrderInput {
			return loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: store, Currency: "EUR", Key: k,
				Lines: []loyalty.OrderLine{{GTIN: gtin13, Category: "grocery", Quantity: 1, UnitPriceCents: cents}}}
		}
		batch := []loyalty.OrderInput{o(a, "f-1", "paris-01", 1000), o(bb, "f-2", "paris-01", 2000), o(c, "f-3", "faulty", 1500), o(d, "f-4", "paris-01", 500), o(a, "f-5", "paris-01", 700)}
		res, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
		if err != nil {
			t.Fatal(err)
		}
		points := []int64{10, 20, 0, 5, 7}
		for i, r := range res {
			if i == 2 {
				if r.Status != loyalty.BatchError || fidelis.ErrorCode(r.Err) != fidelis.ECONFLICT || r.Order != nil {
					t.Errorf("faulty order: %s %v %+v; want an ECONFLICT error and no order", r.Status, r.Err, r.Order)
				}
				continue
			}
			if r.Status != loyalty.BatchCreated || r.Err != nil || len(r.Order.Transactions) != 1 || r.Order.Transactions[0].MemberDelta() != points[i] || r.Order.Mediator == nil {
				t.Errorf("order %d: %s %v %+v; want created with one transaction of %d points and the mediator", i, r.Status, r.Err, r.Order, points[i])
			}
		}
		for id, want := range map[fidelis.CustomerID]int64{a: 17, bb: 20, c: 0, d: 5} {
			if got := e.view(id).Member.Balance; got != want {
				t.Errorf("balance of %s = %d; want %d", id, got, want)
			}
		}
		// Invariants 4 and 7: one audit entry and one event per recorded order, none for
		// the failed one.
		audited := `SELECT COUNT(*) FROM audit_entries WHERE action = 'loyalty.order' AND outcome = 'ok' AND subject = ?`
		events := `SELECT COUNT(*) FROM outbox WHERE type = 'loyalty.order_recorded' AND subject = ?`
		check := func(when string, want map[fidelis.CustomerID]int) {
			t.Helper()
			for id, n := range want {
				if got := countRows(t, raw, pg, audited, string(id)); got != n {
					t.Errorf("%s: audit entries of %s = %d; want %d", when, id, got, n)
				}
				if got := countRows(t, raw, pg, events, string(id)); got != n {
					t.Errorf("%s: events of %s = %d; want %d", when, id, got, n)
				}
			}
		}
		check("first", map[fidelis.CustomerID]int{a: 2, bb: 1, c: 0, d: 1})
		e.mustVerify()

		again, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range again {
			switch {
			case i == 2:
				if r.Status != loyalty.BatchError {
					t.Errorf("faulty order replayed: %s; want an error again", r.Status)
				}
			case r.Status != loyalty.BatchReplayed || r.Order.Order.ID != res[i].Order.Order.ID || len(r.Order.Transactions) != 1 || r.Order.Transactions[0].ID != res[i].Order.Transactions[0].ID:
				t.Errorf("order %d replayed: %s %+v; want the first order %s and its transaction", i, r.Status, r.Order, res[i].Order.Order.ID)
			}
		}
		if pg {
			fidelistest.MustExec(t, raw, `DROP TRIGGER batch_fault ON loyalty_orders`)
		} else {
			fidelistest.MustExec(t, raw, `DROP TRIGGER batch_fault`)
		}
		third, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, batch)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range third {
			want := loyalty.BatchReplayed
			if i == 2 {
				want = loyalty.BatchCreated // its key was never stored: the till's retry records it
			}
			if r.Status != want {
				t.Errorf("order %d once the database accepts it: %s %v; want %s", i, r.Status, r.Err, want)
			}
		}
		if got := e.view(c).Member.Balance; got != 15 {
			t.Errorf("balance of the retried order's member = %d; want 15", got)
		}
		check("after the retry", map[fidelis.CustomerID]int{a: 2, bb: 1, c: 1, d: 1})
		e.mustVerify()
	})
}

// modelOrder is one order of the model test with what it should come to.
type modelOrder struct {
	in     loyalty.OrderInput
	want   string // "created", "replayed" or "error:<reason>"
	single bool   // also placed one by one in the twin programme
}

// TestBatch_SameAsOrderByOrder_L3_L5_L7 is a model test of the batch path against the
// order-by-order path (PlaceOrder): random orders (several rules, one with eligibility
// conditions, members with a refund debt, members who left, a restricted member, a
// non-member, invalid orders, wrong currencies, keys repeated in a batch, replayed and
// reused across batches) go in batches to one programme and one by one to a twin
// programme. Each order must come to the same outcome, earn the same transactions (rule
// and terms citations, reasons, postings) and leave the same balances, debts and lots;
// each recorded order has one audit entry and one event; both ledgers verify.
func TestBatch_SameAsOrderByOrder_L3_L5_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		pg := e.a.Config.DBURL != ""
		raw := fidelistest.MustRawDB(t, e.a)
		twin, err := e.svc.CreateProgramme(e.admin, loyalty.ProgrammeInput{Name: "Club jumeau", Currency: "EUR", PointValueCents: 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PublishTerms(e.admin, twin.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions générales du Club, version 1.", EN: "Club terms and conditions, version 1."},
			Mediator: mediator, ExpiryMonths: 12}); err != nil {
			t.Fatal(err)
		}
		progs := []string{e.prog, twin.ID}
		for _, prog := range progs {
			rules := []loyalty.Rule{
				{ID: "wine", Name: loyalty.Text{FR: "Vins", EN: "Wine"}, PointsPerUnit: 2, MinBasketCents: 5000, Multipliers: []loyalty.Multiplier{{Category: "wine", Percent: 300}}},
				{ID: "locals", Name: loyalty.Text{FR: "Clients de France", EN: "French customers"}, PointsPerUnit: 1, Countries: []string{"FR"}},
			}
			if prog == twin.ID {
				rules = append([]loyalty.Rule{{ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}}, rules...)
			}
			for _, r := range rules {
				r.Programme = prog
				if _, err := e.svc.CreateRule(e.admin, r); err != nil {
					t.Fatal(err)
				}
			}
		}
		join := func(id fidelis.CustomerID) {
			for _, prog := range progs {
				if _, _, err := e.svc.Join(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: prog, Customer: id, TermsVersion: 1, Channel: "store", Key: key()}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var members []fidelis.CustomerID
		for range 10 {
			id := e.customer()
			join(id)
			members = append(members, id)
		}
		at := e.clock.Now()
		line := func(cat string, qty, cents, promo int64) loyalty.OrderLine {
			return loyalty.OrderLine{GTIN: gtin13, Category: cat, Quantity: qty, UnitPriceCents: cents, PromotionCents: promo}
		}
		// Members 0 and 1 owe points: they spent what a purchase earned, then it was refunded.
		for _, id := range members[:2] {
			for _, prog := range progs {
				r, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, loyalty.OrderInput{Programme: prog, Customer: id, OrderedAt: at, Channel: "store", Store: "s", Currency: "EUR",
					Lines: []loyalty.OrderLine{line("wine", 3, 2500, 0)}, Key: key()})
				if err != nil {
					t.Fatal(err)
				}
				all := e.balance(prog, id)
				if _, err := e.svc.Redeem(e.mgr, fidelis.PurposeLoyalty, loyalty.RedeemInput{Programme: prog, Customer: id, Points: all, Key: key()}); err != nil {
					t.Fatal(err)
				}
				if _, err := e.svc.Refund(e.mgr, fidelis.PurposeLoyalty, loyalty.RefundInput{Order: r.Order.ID, Key: key()}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Member 2 left both programmes; member 3 is restricted; a stranger never joined.
		for _, prog := range progs {
			if _, _, err := e.svc.Leave(e.mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: prog, Customer: members[2], Key: key()}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.a.States.Restrict(as("dpo", fidelis.RoleDPO), fidelis.PurposeDataProtection, members[3], privacy.RestrictAccuracyContested, "RR-2026-7"); err != nil {
			t.Fatal(err)
		}
		stranger := e.customer()
		buyers := append(slices.Clone(members), stranger)

		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 4))
		n := 0
		newOrder := func() modelOrder {
			n++
			id := buyers[rng.IntN(len(buyers))]
			var lines []loyalty.OrderLine
			for range 1 + rng.IntN(3) {
				cat := []string{"grocery", "wine"}[rng.IntN(2)]
				qty, cents := int64(1+rng.IntN(4)), int64(50+rng.IntN(4000))
				lines = append(lines, line(cat, qty, cents, int64(rng.IntN(int(qty*cents/4+1)))))
			}
			m := modelOrder{in: loyalty.OrderInput{Programme: e.prog, Customer: id, OrderedAt: at, Channel: "store", Store: "paris-01", Currency: "EUR", Lines: lines,
				Key: fmt.Sprintf("m-%d", n)}, want: "created", single: true}
			switch {
			case id == members[2]:
				m.want = "error:member_left"
			case id == members[3]:
				m.want = "error:restricted"
			case id == stranger:
				m.want = "error:not_a_member"
			default:
				// Invalid orders of members in good standing (which check comes first for
				// a member who left differs between the two paths, as it did before).
				switch rng.IntN(20) {
				case 0:
					m.in.Currency, m.want = "XXX", "error:validation_failed"
				case 1:
					m.in.Currency, m.want = "USD", "error:validation_failed" // valid, not the programme's
				}
			}
			return m
		}
		var first []modelOrder
		e.svc.BatchChunk = 100
		for range 2*e.svc.BatchChunk + 50 { // several chunks
			first = append(first, newOrder())
		}
		// Keys repeated within the batch: an error for the second, which the order-by-order
		// path never sees.
		for _, i := range []int{17, 101, 2*e.svc.BatchChunk + 20} {
			dup := newOrder()
			dup.in.Key, dup.want, dup.single = first[i].in.Key, "error:idempotency_key_repeated", false
			first = append(first, dup)
		}
		var second []modelOrder
		for range 120 {
			second = append(second, newOrder())
		}
		for _, i := range rng.Perm(len(first))[:40] {
			o := first[i]
			if strings.HasPrefix(o.want, "error:") {
				continue // a failed order stored nothing: its key is free
			}
			if rng.IntN(2) == 0 {
				o.want = "replayed"
			} else {
				o.in.Store, o.want = "lyon-02", "error:idempotency_key_reused"
			}
			second = append(second, o)
		}
		rng.Shuffle(len(second), func(i, j int) { second[i], second[j] = second[j], second[i] })

		beforeAudit := countRows(t, raw, pg, `SELECT COUNT(*) FROM audit_entries WHERE action = ? AND outcome = 'ok'`, loyalty.ActOrder)
		beforeEvents := countRows(t, raw, pg, `SELECT COUNT(*) FROM outbox WHERE type = ?`, "loyalty.order_recorded")
		var batched []*loyalty.BatchResult
		created := 0
		for _, round := range [][]modelOrder{first, second} {
			ins := make([]loyalty.OrderInput, len(round))
			for i, o := range round {
				ins[i] = o.in
			}
			res, err := e.svc.PlaceOrders(e.mgr, fidelis.PurposeLoyalty, ins)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range res {
				if got := outcome(r.Status, r.Err); got != round[i].want {
					t.Errorf("batch order %s: %s; want %s", round[i].in.Key, got, round[i].want)
				}
				if r.Status == loyalty.BatchCreated {
					created++
				}
			}
			batched = append(batched, res...)
		}
		if got := countRows(t, raw, pg, `SELECT COUNT(*) FROM audit_entries WHERE action = ? AND outcome = 'ok'`, loyalty.ActOrder) - beforeAudit; got != created {
			t.Errorf("audit entries of the batches = %d; want one per recorded order, %d", got, created)
		}
		if got := countRows(t, raw, pg, `SELECT COUNT(*) FROM outbox WHERE type = ?`, "loyalty.order_recorded") - beforeEvents; got != created {
			t.Errorf("events of the batches = %d; want one per recorded order, %d", got, created)
		}

		// The same orders one by one in the twin programme.
		for k, o := range append(slices.Clone(first), second...) {
			if !o.single {
				continue
			}
			in := o.in
			in.Programme, in.Key = twin.ID, "twin-"+in.Key
			r, err := e.svc.PlaceOrder(e.mgr, fidelis.PurposeLoyalty, in)
			status := loyalty.BatchCreated
			if r != nil && r.Replayed {
				status = loyalty.BatchReplayed
			}
			if got := outcome(status, err); got != o.want {
				t.Errorf("order %s one by one: %s; want %s", o.in.Key, got, o.want)
				continue
			}
			if err == nil {
				if diff := sameEarnings(batched[k].Order, r); diff != "" {
					t.Errorf("order %s: batch and one-by-one earnings differ: %s", o.in.Key, diff)
				}
			}
		}
		for _, id := range members {
			if id == members[3] {
				continue // restricted: not readable under the loyalty purpose
			}
			var got [2]string
			for i, prog := range progs {
				v := e.membership(prog, id)
				var lots []string
				for _, l := range v.Lots {
					lots = append(lots, fmt.Sprintf("%d/%d", l.Points, l.Remaining))
				}
				slices.Sort(lots) // lots earned at one time list in ID order, random within it
				got[i] = fmt.Sprintf("balance %d debt %d lots %v", v.Member.Balance, v.Member.Debt, lots)
			}
			if got[0] != got[1] {
				t.Errorf("member %s: batches leave %s; one by one %s", id, got[0], got[1])
			}
		}
		e.mustVerify()
	})
}

// outcome renders a result as the model writes it.
func outcome(status loyalty.BatchStatus, err error) string {
	if err != nil {
		return "error:" + reason(err)
	}
	return string(status)
}

// sameEarnings compares what two placements of one order earned, but for IDs and times
// (and order: a replay lists the transactions by ID, random within one time).
func sameEarnings(a, b *loyalty.OrderResult) string {
	render := func(r *loyalty.OrderResult) string {
		var s []string
		for _, t := range r.Transactions {
			var ps []string
			for _, p := range t.Postings {
				ps = append(ps, fmt.Sprintf("%s:%d:lot=%t", p.Account, p.Amount, p.Lot != ""))
			}
			s = append(s, fmt.Sprintf("%s %s v%d terms v%d %q/%q %v", t.Kind, t.RuleID, t.RuleVersion, t.TermsVersion, t.Reason.FR, t.Reason.EN, ps))
		}
		slices.Sort(s)
		return strings.Join(s, "; ")
	}
	if ra, rb := render(a), render(b); ra != rb {
		return ra + " <> " + rb
	}
	return ""
}

// membership returns a member's view of programme prog.
func (e *env) membership(prog string, id fidelis.CustomerID) *loyalty.MemberView {
	e.t.Helper()
	v, err := e.svc.Member(e.mgr, fidelis.PurposeLoyalty, id, "", 0)
	if err != nil {
		e.t.Fatalf("Member: %v", err)
	}
	for _, m := range v.Memberships {
		if m.Programme.ID == prog {
			return m
		}
	}
	e.t.Fatalf("no membership of %s", prog)
	return nil
}

func (e *env) balance(prog string, id fidelis.CustomerID) int64 {
	return e.membership(prog, id).Member.Balance
}
