package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// The rewards cases, run by Run on both backends: rewards, stock, reservations, vouchers,
// savepoints, tier and referral rows as the loyalty domain relies on them.

func rewardFixture(t *testing.T, tx loyalty.Tx, p *loyalty.Programme, stock *int64) *loyalty.Reward {
	at := fidelis.UTC(baseTime())
	until := at.AddDate(0, 1, 0)
	r := &loyalty.Reward{ID: fidelis.NewID("lrw", at), Programme: p.ID, Kind: loyalty.RewardVoucher, Name: loyalty.Text{FR: "Bon", EN: "Voucher"}, CostPoints: 100,
		Stock: stock, ValueCents: 500, ValidUntil: &until, VoucherDays: 90, Active: true, CreatedAt: at, UpdatedAt: at, Version: 1}
	if err := tx.InsertReward(t.Context(), r); err != nil {
		t.Fatalf("InsertReward: %v", err)
	}
	return r
}

// testRewardRoundTrip stores a reward, a reservation with its voucher, tier schedules,
// member tiers and changes, referral codes and referrals, and reads each back equal.
func testRewardRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	p, m := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	stock := int64(3)
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		r := rewardFixture(t, tx, p, &stock)
		got, err := tx.GetReward(t.Context(), r.ID)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Errorf("GetReward = %+v, %v; want %+v", got, err, r)
		}
		r.Stock, r.Active, r.Version = nil, false, 2
		if err := tx.UpdateReward(t.Context(), r); err != nil {
			t.Errorf("UpdateReward: %v", err)
		}
		if err := tx.UpdateReward(t.Context(), r); fidelis.ErrorCode(err) != fidelis.EPRECONDITION {
			t.Errorf("UpdateReward(stale version) = %v; want EPRECONDITION", err)
		}
		if ok, err := tx.TakeStock(t.Context(), r.ID); !ok || err != nil {
			t.Errorf("TakeStock(unlimited) = %v, %v; want true", ok, err)
		}
		exp := at.Add(15 * time.Minute)
		res := &loyalty.Reservation{ID: fidelis.NewID("lrs", at), Programme: p.ID, Customer: m.Customer, Reward: r.ID, Points: 100, Status: loyalty.ReservationReserved,
			Reference: "till-1", ReservedAt: at, ExpiresAt: exp, HoldTx: "ltx_x"}
		if err := tx.InsertReservation(t.Context(), res); err != nil {
			return err
		}
		if due, err := tx.DueReservations(t.Context(), exp, 10); err != nil || len(due) != 1 || !reflect.DeepEqual(due[0], res) {
			t.Errorf("DueReservations = %+v, %v; want the reservation", due, err)
		}
		if due, _ := tx.DueReservations(t.Context(), exp.Add(-time.Microsecond), 10); len(due) != 0 {
			t.Errorf("DueReservations before its end = %d; want 0", len(due))
		}
		vexp := at.AddDate(0, 3, 0)
		res.Status, res.SettleTx, res.SettledAt, res.VoucherCode, res.VoucherExpiresAt = loyalty.ReservationConfirmed, "ltx_y", &at, "AAAA-BBBB-CCCC-DDDD", &vexp
		if err := tx.UpdateReservation(t.Context(), res); err != nil {
			return err
		}
		if got, err := tx.ReservationByVoucher(t.Context(), "AAAA-BBBB-CCCC-DDDD"); err != nil || !reflect.DeepEqual(got, res) {
			t.Errorf("ReservationByVoucher = %+v, %v; want %+v", got, err, res)
		}
		if used, err := tx.RewardReserved(t.Context(), r.ID); !used || err != nil {
			t.Errorf("RewardReserved = %v, %v; want true", used, err)
		}
		sch := &loyalty.TierSchedule{Programme: p.ID, Version: 1, TermsVersion: 1, Metric: loyalty.MetricPointsEarned, PeriodMonths: 12,
			Tiers: []loyalty.Tier{{ID: "gold", Name: loyalty.Text{FR: "Or", EN: "Gold"}, Threshold: 10, MultiplierPercent: 150}}, CreatedAt: at}
		if err := tx.InsertTierSchedule(t.Context(), sch); err != nil {
			return err
		}
		if got, err := tx.TierSchedules(t.Context(), p.ID); err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], sch) {
			t.Errorf("TierSchedules = %+v, %v", got, err)
		}
		mt := &loyalty.MemberTier{Programme: p.ID, Customer: m.Customer, Tier: "gold", ScheduleVersion: 1, Since: at}
		for range 2 { // insert, then replace
			if err := tx.PutMemberTier(t.Context(), mt); err != nil {
				return err
			}
		}
		if got, err := tx.GetMemberTier(t.Context(), p.ID, m.Customer); err != nil || !reflect.DeepEqual(got, mt) {
			t.Errorf("GetMemberTier = %+v, %v", got, err)
		}
		if first, err := tx.ClaimTierReview(t.Context(), p.ID, "2026-03", at); !first || err != nil {
			t.Errorf("ClaimTierReview = %v, %v; want true", first, err)
		}
		if again, err := tx.ClaimTierReview(t.Context(), p.ID, "2026-03", at); again || err != nil {
			t.Errorf("ClaimTierReview twice = %v, %v; want false", again, err)
		}
		rc := &loyalty.ReferralCode{Programme: p.ID, Customer: m.Customer, Code: "PARR-ABCDEFGH", CreatedAt: at}
		if err := tx.InsertReferralCode(t.Context(), rc); err != nil {
			return err
		}
		if got, err := tx.ReferralCodeByCode(t.Context(), rc.Code); err != nil || !reflect.DeepEqual(got, rc) {
			t.Errorf("ReferralCodeByCode = %+v, %v", got, err)
		}
		ref := &loyalty.Referral{ID: fidelis.NewID("lrr", at), Programme: p.ID, Referrer: m.Customer, Referee: fidelis.NewCustomerID(at), PolicyVersion: 1, JoinedAt: at, Status: loyalty.ReferralPending}
		if err := tx.InsertReferral(t.Context(), ref); err != nil {
			return err
		}
		ref.Status, ref.FirstOrder, ref.SettledAt = loyalty.ReferralRewarded, "lod_x", &at
		if err := tx.UpdateReferral(t.Context(), ref); err != nil {
			return err
		}
		if got, err := tx.ReferralOf(t.Context(), p.ID, ref.Referee); err != nil || !reflect.DeepEqual(got, ref) {
			t.Errorf("ReferralOf = %+v, %v; want %+v", got, err, ref)
		}
		if _, err := tx.ReferralOf(t.Context(), p.ID, m.Customer); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("ReferralOf(no referral) = %v; want ENOTFOUND", err)
		}
		return nil
	})
}

// testTakeStockNeverOversells takes stock from many transactions at once: exactly the
// stock succeeds, and it never goes below zero.
func testTakeStockNeverOversells(t *testing.T, open Opener) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	stock := int64(5)
	var r *loyalty.Reward
	mustLoyalty(t, db, func(tx loyalty.Tx) error { r = rewardFixture(t, tx, p, &stock); return nil })
	var mu sync.Mutex
	var wg sync.WaitGroup
	taken := 0
	for range 20 {
		wg.Go(func() {
			err := loyaltyStore(db).Write(context.Background(), func(tx loyalty.Tx) error {
				ok, err := tx.TakeStock(context.Background(), r.ID)
				if ok {
					mu.Lock()
					taken++
					mu.Unlock()
				}
				return err
			})
			if err != nil && fidelis.ErrorCode(err) != fidelis.EUNAVAILABLE {
				t.Errorf("TakeStock: %v", err)
			}
		})
	}
	wg.Wait()
	var got *loyalty.Reward
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) (err error) { got, err = tx.GetReward(t.Context(), r.ID); return err })
	if taken != 5 || *got.Stock != 0 {
		t.Errorf("20 concurrent takes of a stock of 5: %d succeeded, %d left; want 5 and 0", taken, *got.Stock)
	}
	mustLoyalty(t, db, func(tx loyalty.Tx) error { return tx.ReturnStock(t.Context(), r.ID) })
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) (err error) { got, err = tx.GetReward(t.Context(), r.ID); return err })
	if *got.Stock != 1 {
		t.Errorf("after ReturnStock: %d; want 1", *got.Stock)
	}
}

// testNestedRollsBackAlone checks that a failing savepoint undoes its own writes only,
// including after a constraint violation (which aborts the transaction on PostgreSQL
// without a savepoint), and that the enclosing transaction commits the rest.
func testNestedRollsBackAlone(t *testing.T, open Opener) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	code := func(c string, cus fidelis.CustomerID) *loyalty.ReferralCode {
		return &loyalty.ReferralCode{Programme: p.ID, Customer: cus, Code: c, CreatedAt: at}
	}
	a, b, c := fidelis.NewCustomerID(at), fidelis.NewCustomerID(at), fidelis.NewCustomerID(at)
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		if err := tx.Nested(t.Context(), func() error { return tx.InsertReferralCode(t.Context(), code("PARR-AAAAAAAA", a)) }); err != nil {
			return err
		}
		// A duplicate code: the constraint fails inside the savepoint, reported as ECONFLICT.
		err := tx.Nested(t.Context(), func() error {
			if err := tx.InsertReferralCode(t.Context(), code("PARR-BBBBBBBB", b)); err != nil {
				return err
			}
			return tx.InsertReferralCode(t.Context(), code("PARR-AAAAAAAA", c))
		})
		if fidelis.ErrorCode(err) != fidelis.ECONFLICT {
			t.Errorf("Nested(duplicate) = %v; want ECONFLICT", err)
		}
		return tx.Nested(t.Context(), func() error { return tx.InsertReferralCode(t.Context(), code("PARR-CCCCCCCC", c)) })
	})
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		for cus, want := range map[fidelis.CustomerID]string{a: "PARR-AAAAAAAA", c: "PARR-CCCCCCCC"} {
			if got, err := tx.ReferralCodeOf(t.Context(), p.ID, cus); err != nil || got.Code != want {
				t.Errorf("ReferralCodeOf = %+v, %v; want %s", got, err, want)
			}
		}
		if _, err := tx.ReferralCodeOf(t.Context(), p.ID, b); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("the failed savepoint's first write survived: %v", err)
		}
		return nil
	})
}
