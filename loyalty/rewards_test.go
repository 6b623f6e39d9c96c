package loyalty_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

func ptr[T any](v T) *T { return &v }

// reward adds a reward of cost points to the catalogue (stock nil: unlimited).
func (e *env) reward(kind loyalty.RewardKind, cost int64, stock *int64) *loyalty.Reward {
	e.t.Helper()
	in := loyalty.RewardInput{Kind: kind, Name: loyalty.Text{FR: "Bon d'achat 10 €", EN: "10 € voucher"}, CostPoints: cost, Stock: stock, ValueCents: 1000}
	if kind == loyalty.RewardProduct {
		in.GTIN, in.ValueCents = gtin13, 0
	}
	r, err := e.svc.CreateReward(e.admin, e.prog, in)
	if err != nil {
		e.t.Fatalf("CreateReward: %v", err)
	}
	return r
}

func (e *env) reserve(id fidelis.CustomerID, rw string) (*loyalty.ReservationResult, error) {
	return e.svc.Reserve(e.mgr, fidelis.PurposeLoyalty, loyalty.ReserveInput{Programme: e.prog, Customer: id, Reward: rw, Reference: "till-1", Key: key()})
}

func (e *env) stock(id string) int64 {
	e.t.Helper()
	r, err := e.svc.GetReward(e.mgr, e.prog, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return *r.Stock
}

var voucherRE = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$`)

// TestRewards_ReserveConfirmCancelVoucher_L7 walks a reservation through confirm (with a
// voucher used once at a till) and another through cancel, checking balances, the
// reserved account, stock and the ledger after each step.
func TestRewards_ReserveConfirmCancelVoucher_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		e.order(id, 35000) // 350 points
		rw := e.reward(loyalty.RewardVoucher, 100, ptr[int64](2))

		res, err := e.reserve(id, rw.ID)
		if err != nil {
			t.Fatalf("Reserve: %v", err)
		}
		if r := res.Reservation; r.Status != loyalty.ReservationReserved || r.Points != 100 || !r.ExpiresAt.Equal(r.ReservedAt.Add(loyalty.DefaultReservationTTL)) {
			t.Errorf("reservation = %+v; want reserved, 100 points, 15 minutes", r)
		}
		if v := e.view(id); v.Member.Balance != 250 || v.Reserved != 100 {
			t.Errorf("after reserve: balance %d, reserved %d; want 250, 100", v.Member.Balance, v.Reserved)
		}
		if got := e.stock(rw.ID); got != 1 {
			t.Errorf("stock after reserve = %d; want 1", got)
		}
		e.mustVerify()

		key1 := key()
		conf, err := e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res.Reservation.ID, Key: key1})
		if err != nil {
			t.Fatalf("Confirm: %v", err)
		}
		code := conf.Reservation.VoucherCode
		if conf.Reservation.Status != loyalty.ReservationConfirmed || !voucherRE.MatchString(code) || conf.Reservation.VoucherExpiresAt == nil {
			t.Fatalf("confirmed = %+v; want a voucher code like XXXX-XXXX-XXXX-XXXX", conf.Reservation)
		}
		if kinds := fmt.Sprint(txKinds(conf.Transactions)); kinds != "[reserve redeem]" {
			t.Errorf("reservation transactions = %s; want [reserve redeem]", kinds)
		}
		again, err := e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res.Reservation.ID, Key: key1})
		if err != nil || !again.Replayed || again.Reservation.VoucherCode != code {
			t.Errorf("Confirm replay = %+v, %v; want the first result", again, err)
		}
		if _, err := e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res.Reservation.ID, Key: key()}); reason(err) != "already_confirmed" {
			t.Errorf("Confirm twice = %v; want already_confirmed", err)
		}
		if _, err := e.svc.Cancel(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res.Reservation.ID, Key: key()}); reason(err) != "already_confirmed" {
			t.Errorf("Cancel after confirm = %v; want already_confirmed", err)
		}
		if v := e.view(id); v.Member.Balance != 250 || v.Reserved != 0 {
			t.Errorf("after confirm: balance %d, reserved %d; want 250, 0", v.Member.Balance, v.Reserved)
		}

		// The voucher: checked, used once, typed in lower case with O for 0.
		chk, err := e.svc.CheckVoucher(e.mgr, fidelis.PurposeLoyalty, strings.ToLower(code))
		if err != nil || chk.State != loyalty.VoucherValid || chk.Reward.ID != rw.ID {
			t.Fatalf("CheckVoucher = %+v, %v; want valid", chk, err)
		}
		useKey := key()
		used, err := e.svc.UseVoucher(e.mgr, fidelis.PurposeLoyalty, loyalty.UseVoucherInput{Code: strings.ReplaceAll(code, "0", "O"), Reference: "receipt-9", Key: useKey})
		if err != nil || used.State != loyalty.VoucherUsed || used.Replayed {
			t.Fatalf("UseVoucher = %+v, %v; want used", used, err)
		}
		if rep, err := e.svc.UseVoucher(e.mgr, fidelis.PurposeLoyalty, loyalty.UseVoucherInput{Code: code, Reference: "receipt-9", Key: useKey}); err != nil || !rep.Replayed {
			t.Errorf("UseVoucher replay = %+v, %v; want the first result", rep, err)
		}
		if _, err := e.svc.UseVoucher(e.mgr, fidelis.PurposeLoyalty, loyalty.UseVoucherInput{Code: code, Reference: "receipt-10", Key: key()}); reason(err) != "voucher_used" {
			t.Errorf("UseVoucher twice = %v; want voucher_used", err)
		}
		if _, err := e.svc.CheckVoucher(e.mgr, fidelis.PurposeLoyalty, "AAAA-BBBB-CCCC-DDDD"); reason(err) != "voucher_not_found" {
			t.Errorf("CheckVoucher(unknown) = %v; want voucher_not_found", err)
		}

		// Cancel gives points and stock back, to the very lots they came from.
		before := e.view(id)
		res2, err := e.reserve(id, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.reserve(id, rw.ID); reason(err) != "out_of_stock" {
			t.Errorf("Reserve with no stock left = %v; want out_of_stock", err)
		}
		if _, err := e.svc.Cancel(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res2.Reservation.ID, Key: key()}); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		after := e.view(id)
		if after.Member.Balance != before.Member.Balance || lotsOf(after) != lotsOf(before) || e.stock(rw.ID) != 1 {
			t.Errorf("after cancel: balance %d lots %s stock %d; want %d, %s, 1", after.Member.Balance, lotsOf(after), e.stock(rw.ID), before.Member.Balance, lotsOf(before))
		}
		if _, err := e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res2.Reservation.ID, Key: key()}); reason(err) != "reservation_closed" {
			t.Errorf("Confirm after cancel = %v; want reservation_closed", err)
		}
		if _, err := e.reserve(id, rw.ID); err != nil {
			t.Errorf("Reserve after cancel: %v", err)
		}
		big := e.reward(loyalty.RewardProduct, 10_000, nil)
		if _, err := e.reserve(id, big.ID); reason(err) != "insufficient_points" {
			t.Errorf("Reserve beyond the balance = %v; want insufficient_points", err)
		}
		off := false
		if _, err := e.svc.UpdateReward(e.admin, e.prog, big.ID, loyalty.RewardPatch{Active: &off, CostPoints: ptr[int64](1)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reserve(id, big.ID); reason(err) != "reward_unavailable" {
			t.Errorf("Reserve an inactive reward = %v; want reward_unavailable", err)
		}
		if err := e.svc.DeleteReward(e.admin, e.prog, rw.ID); reason(err) != "reward_in_use" {
			t.Errorf("DeleteReward(reserved) = %v; want reward_in_use", err)
		}
		if err := e.svc.DeleteReward(e.admin, e.prog, big.ID); err != nil {
			t.Errorf("DeleteReward(never reserved) = %v", err)
		}
		e.mustVerify()
	})
}

func txKinds(txs []*loyalty.Transaction) []loyalty.Kind {
	var out []loyalty.Kind
	for _, t := range txs {
		out = append(out, t.Kind)
	}
	return out
}

func lotsOf(v *loyalty.MemberView) string {
	var s []string
	for _, l := range v.Lots {
		s = append(s, fmt.Sprintf("%s:%d", l.ID, l.Remaining))
	}
	return strings.Join(s, ",")
}

// TestRewards_ReservationExpiresPointsComeBack_L7 lets a reservation pass its hold: the
// job gives the points back to their lots and the unit to the stock, once.
func TestRewards_ReservationExpiresPointsComeBack_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		id := e.member()
		e.order(id, 5000)
		e.order(id, 7000)
		before := e.view(id)
		rw := e.reward(loyalty.RewardDiscount, 80, ptr[int64](1))
		res, err := e.reserve(id, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.ExpireReservations(e.admin, e.clock.Now()); err != nil || n != 0 {
			t.Fatalf("ExpireReservations before the end = %d, %v; want 0", n, err)
		}
		e.clock.Advance(loyalty.DefaultReservationTTL)
		if _, err := e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: res.Reservation.ID, Key: key()}); reason(err) != "reservation_expired" {
			t.Errorf("Confirm after the hold = %v; want reservation_expired", err)
		}
		if n, err := e.svc.ExpireReservations(e.admin, e.clock.Now()); err != nil || n != 1 {
			t.Fatalf("ExpireReservations = %d, %v; want 1", n, err)
		}
		if n, err := e.svc.ExpireReservations(e.admin, e.clock.Now()); err != nil || n != 0 {
			t.Fatalf("ExpireReservations again = %d, %v; want 0", n, err)
		}
		after := e.view(id)
		if after.Member.Balance != 120 || lotsOf(after) != lotsOf(before) || e.stock(rw.ID) != 1 {
			t.Errorf("after expiry: balance %d, lots %s, stock %d; want 120, %s, 1", after.Member.Balance, lotsOf(after), e.stock(rw.ID), lotsOf(before))
		}
		got, err := e.svc.GetReservation(e.mgr, fidelis.PurposeLoyalty, res.Reservation.ID)
		if err != nil || got.Reservation.Status != loyalty.ReservationExpired || fmt.Sprint(txKinds(got.Transactions)) != "[reserve release]" {
			t.Errorf("reservation = %+v, %v; want expired with [reserve release]", got, err)
		}
		e.mustVerify()
	})
}

// TestRewards_ConcurrentReservationsNeverOversell_L7 runs many reservations at once on
// few members and a reward with little stock: the stock is never oversold, no balance
// goes negative, and the ledger verifies.
func TestRewards_ConcurrentReservationsNeverOversell_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		const members, perMember, stock = 4, 8, 10
		var ids []fidelis.CustomerID
		for range members {
			id := e.member()
			e.order(id, 35000) // 350 points: 3 reservations of 100 each
			ids = append(ids, id)
		}
		rw := e.reward(loyalty.RewardVoucher, 100, ptr[int64](stock))
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := map[fidelis.CustomerID]int{}
		reasons := map[string]int{}
		for _, id := range ids {
			for range perMember {
				wg.Go(func() {
					_, err := e.reserve(id, rw.ID)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						ok[id]++
					} else {
						reasons[reason(err)]++
					}
				})
			}
		}
		wg.Wait()
		total := 0
		for _, id := range ids {
			total += ok[id]
			if ok[id] > 3 {
				t.Errorf("member reserved %d times 100 of 350 points", ok[id])
			}
			if v := e.view(id); v.Member.Balance != 350-int64(ok[id])*100 || v.Reserved != int64(ok[id])*100 {
				t.Errorf("balance %d, reserved %d after %d reservations; want %d, %d", v.Member.Balance, v.Reserved, ok[id], 350-ok[id]*100, ok[id]*100)
			}
		}
		if total != stock || e.stock(rw.ID) != 0 {
			t.Errorf("%d reservations succeeded, stock left %d; want exactly %d and 0 (reasons %v)", total, e.stock(rw.ID), stock, reasons)
		}
		for r := range reasons {
			if r != "out_of_stock" && r != "insufficient_points" {
				t.Errorf("unexpected refusal %q (%v)", r, reasons)
			}
		}
		e.mustVerify()
	})
}

// TestReservations_RandomOperationsMatchModel_L6_L7 drives random reservations,
// confirmations, cancellations, expiries and purchases and checks after each step that
// the member's balance, reserved points and the reward's stock equal a model's, and at
// the end that Verify finds the ledger intact.
func TestReservations_RandomOperationsMatchModel_L6_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		rapid.Check(t, func(rt *rapid.T) {
			id := e.member()
			stock := rapid.Int64Range(0, 5).Draw(rt, "stock")
			cost := rapid.Int64Range(1, 300).Draw(rt, "cost")
			rw := e.reward(loyalty.RewardVoucher, cost, &stock)
			var balance, reserved int64
			open := map[string]bool{}
			for i := range rapid.IntRange(1, 15).Draw(rt, "steps") {
				switch op := rapid.SampledFrom([]string{"earn", "reserve", "reserve", "confirm", "cancel", "expire"}).Draw(rt, "op"); op {
				case "earn":
					cents := rapid.Int64Range(100, 60_000).Draw(rt, "cents")
					e.order(id, cents)
					balance += cents / 100
				case "reserve":
					res, err := e.reserve(id, rw.ID)
					switch {
					case balance < cost:
						if reason(err) != "insufficient_points" {
							rt.Fatalf("Reserve with %d < %d points: %v", balance, cost, err)
						}
					case stock == 0:
						if reason(err) != "out_of_stock" {
							rt.Fatalf("Reserve with no stock: %v", err)
						}
					case err != nil:
						rt.Fatalf("Reserve: %v", err)
					default:
						balance, reserved, stock = balance-cost, reserved+cost, stock-1
					}
					if err == nil {
						open[res.Reservation.ID] = true
					}
				case "confirm", "cancel":
					ids := slices.Sorted(func(yield func(string) bool) {
						for k := range open {
							if !yield(k) {
								return
							}
						}
					})
					if len(ids) == 0 {
						continue
					}
					rid := rapid.SampledFrom(ids).Draw(rt, "reservation")
					var err error
					if op == "confirm" {
						_, err = e.svc.Confirm(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: rid, Key: key()})
					} else {
						_, err = e.svc.Cancel(e.mgr, fidelis.PurposeLoyalty, loyalty.SettleInput{Reservation: rid, Key: key()})
						balance, stock = balance+cost, stock+1
					}
					if err != nil {
						rt.Fatalf("%s: %v", op, err)
					}
					reserved -= cost
					delete(open, rid)
				case "expire":
					e.clock.Advance(loyalty.DefaultReservationTTL)
					if _, err := e.svc.ExpireReservations(e.admin, e.clock.Now()); err != nil {
						rt.Fatal(err)
					}
					for range open {
						balance, reserved, stock = balance+cost, reserved-cost, stock+1
					}
					clear(open)
				}
				v := e.view(id)
				if v.Member.Balance != balance || v.Reserved != reserved || e.stock(rw.ID) != stock {
					rt.Fatalf("step %d: balance %d reserved %d stock %d; model %d, %d, %d", i, v.Member.Balance, v.Reserved, e.stock(rw.ID), balance, reserved, stock)
				}
			}
			if r, err := e.svc.Verify(e.admin); err != nil || !r.OK() {
				rt.Fatalf("Verify: %v %v", err, r.Problems)
			}
		})
	})
}

// TestVerify_DetectsBrokenReservation_L7 corrupts reservations in the database and checks
// that Verify names each.
func TestVerify_DetectsBrokenReservation_L7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b)
		a, c := e.member(), e.member()
		e.order(a, 50000)
		e.order(c, 50000)
		rw := e.reward(loyalty.RewardVoucher, 100, nil)
		ra, err := e.reserve(a, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := e.reserve(c, rw.ID)
		if err != nil {
			t.Fatal(err)
		}
		e.mustVerify()
		raw := fidelistest.MustRawDB(t, e.a)
		fidelistest.MustExec(t, raw,
			// a: the reservation says it holds less than its hold moved.
			"UPDATE loyalty_reservations SET points = 60 WHERE id = '"+ra.Reservation.ID+"'",
			// c: marked confirmed without a redemption: the points stay on reserved.
			"UPDATE loyalty_reservations SET status = 'confirmed' WHERE id = '"+rc.Reservation.ID+"'")
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
			"reservation " + ra.Reservation.ID + ": holds 60 points, its hold transaction moved 100",
			"reserved_balance reserved:" + string(a) + ": the reserved account holds 100 points, open reservations 60",
			"reservation " + rc.Reservation.ID + `: is confirmed but its settlement "" is not a redeem of its 100 points`,
			"reserved_balance reserved:" + string(c) + ": the reserved account holds 100 points, open reservations 0",
		} {
			if !strings.Contains(all, want) {
				t.Errorf("Verify did not report %q; problems:\n%s", want, all)
			}
		}
	})
}

// TestRewards_CatalogueValidationAndPages checks reward validation and the catalogue's
// pages.
func TestRewards_CatalogueValidationAndPages(t *testing.T) {
	e := newEnv(t, fidelistest.Backends(t)[0])
	_, err := e.svc.CreateReward(e.admin, e.prog, loyalty.RewardInput{Kind: "gift", CostPoints: 0, Stock: ptr[int64](-1), GTIN: "123"})
	fe := fidelis.AsError(err)
	if fe == nil || fe.Code != fidelis.EINVALID {
		t.Fatalf("CreateReward(bad) = %v; want EINVALID", err)
	}
	var fields []string
	for _, f := range fe.Fields {
		fields = append(fields, f.Field)
	}
	if got := strings.Join(fields, ","); got != "cost_points,gtin,kind,name,stock" {
		t.Errorf("fields = %s", got)
	}
	if _, err := e.svc.CreateReward(as("sales", fidelis.RoleSales), e.prog, loyalty.RewardInput{Kind: loyalty.RewardVoucher, Name: loyalty.Text{FR: "x", EN: "x"}, CostPoints: 1}); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
		t.Errorf("CreateReward by sales = %v; want EFORBIDDEN", err)
	}
	for range 5 {
		e.reward(loyalty.RewardVoucher, 10, nil)
	}
	e.reward(loyalty.RewardVoucher, 10, ptr[int64](0))
	var seen int
	q := loyalty.RewardQuery{Programme: e.prog, Limit: 2}
	for {
		page, err := e.svc.Rewards(e.mgr, q)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page.Items)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	if seen != 6 {
		t.Errorf("pages listed %d rewards; want 6", seen)
	}
	avail, err := e.svc.Rewards(e.mgr, loyalty.RewardQuery{Programme: e.prog, Available: true})
	if err != nil || len(avail.Items) != 5 {
		t.Errorf("available rewards = %d, %v; want 5 (one is out of stock)", len(avail.Items), err)
	}
}

// TestVoucherCode_RandomAndNormalised checks the code alphabet, its length and that
// typing variants normalise.
func TestVoucherCode_RandomAndNormalised(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		c := loyalty.NewVoucherCode()
		if !voucherRE.MatchString(c) || seen[c] {
			t.Fatalf("NewVoucherCode() = %q (repeat: %v)", c, seen[c])
		}
		seen[c] = true
		if n, ok := loyalty.NormalizeVoucherCode(strings.ToLower(strings.ReplaceAll(c, "-", " "))); !ok || n != c {
			t.Fatalf("NormalizeVoucherCode(lower %q) = %q, %v", c, n, ok)
		}
	}
	for _, bad := range []string{"", "ABCD", "ABCD-EFGH-JKMN-PQRU", "ABCD-EFGH-JKMN-PQRST"} {
		if _, ok := loyalty.NormalizeVoucherCode(bad); ok {
			t.Errorf("NormalizeVoucherCode(%q) accepted", bad)
		}
	}
}
