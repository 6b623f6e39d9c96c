package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/store"
)

// The loyalty cases, run by Run on both backends. They exercise loyalty.Tx as the domain
// relies on it: round trips at microsecond precision, the conditional member update, the
// member lock, FIFO lot order, idempotency claims and the liability sum.

func loyaltyStore(db *store.DB) store.Loyalty { return store.NewLoyalty(db) }

func mustLoyalty(t *testing.T, db *store.DB, fn func(loyalty.Tx) error) {
	t.Helper()
	if err := loyaltyStore(db).Write(t.Context(), fn); err != nil {
		t.Fatalf("Loyalty.Write = %v; want nil", err)
	}
}

// loyaltyFixture stores a programme, terms v1 and a member.
func loyaltyFixture(t *testing.T, db *store.DB) (*loyalty.Programme, *loyalty.Member) {
	t.Helper()
	at := fidelis.UTC(baseTime())
	p := &loyalty.Programme{ID: fidelis.NewID("lpg", at), Name: "Club", Currency: "EUR", PointValueCents: 1, NoticeDays: 30, CreatedAt: at}
	m := &loyalty.Member{Programme: p.ID, Customer: fidelis.NewCustomerID(at), JoinedAt: at, TermsVersion: 1, Version: 1}
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		if err := tx.InsertProgramme(t.Context(), p); err != nil {
			return err
		}
		if err := tx.InsertTerms(t.Context(), &loyalty.Terms{Programme: p.ID, Version: 1, Text: loyalty.Text{FR: "fr", EN: "en"}, Mediator: loyalty.Mediator{Name: "M", Website: "https://m.example", Address: "A"},
			ExpiryMonths: 12, EffectiveAt: at, PublishedAt: at, Hash: "h"}); err != nil {
			return err
		}
		return tx.InsertMember(t.Context(), m)
	})
	return p, m
}

func testLoyaltyProgrammeTerms(t *testing.T, open Opener) {
	db := open(t)
	p, m := loyaltyFixture(t, db)
	var gotP *loyalty.Programme
	var terms []*loyalty.Terms
	var gotM *loyalty.Member
	err := loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) (err error) {
		if gotP, err = tx.GetProgramme(t.Context(), p.ID); err != nil {
			return err
		}
		if terms, err = tx.ListTerms(t.Context(), p.ID); err != nil {
			return err
		}
		gotM, err = tx.GetMember(t.Context(), p.ID, m.Customer, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotP, p) {
		t.Errorf("GetProgramme = %+v; want %+v", gotP, p)
	}
	if !reflect.DeepEqual(gotM, m) {
		t.Errorf("GetMember = %+v; want %+v", gotM, m)
	}
	if len(terms) != 1 || terms[0].Mediator.Website != "https://m.example" || !terms[0].EffectiveAt.Equal(p.CreatedAt) {
		t.Errorf("ListTerms = %+v", terms)
	}
	err = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		_, err := tx.GetMember(t.Context(), p.ID, fidelis.NewCustomerID(baseTime()), false)
		checkCode(t, "GetMember(missing)", err, fidelis.ENOTFOUND)
		_, err = tx.GetProgramme(t.Context(), "lpg_x")
		checkCode(t, "GetProgramme(missing)", err, fidelis.ENOTFOUND)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error { return tx.InsertMember(t.Context(), m) })
	checkCode(t, "InsertMember(duplicate)", err, fidelis.ECONFLICT)
}

func testLoyaltyMemberVersion(t *testing.T, open Opener) {
	db := open(t)
	_, m := loyaltyFixture(t, db)
	next := *m
	next.Balance, next.Version = 10, 2
	mustLoyalty(t, db, func(tx loyalty.Tx) error { return tx.UpdateMember(t.Context(), &next) })
	stale := *m
	stale.Balance, stale.Version = 99, 2
	err := loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error { return tx.UpdateMember(t.Context(), &stale) })
	checkCode(t, "UpdateMember(stale)", err, fidelis.EPRECONDITION)
	neg := next
	neg.Balance, neg.Version = -1, 3
	err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error { return tx.UpdateMember(t.Context(), &neg) })
	checkCode(t, "UpdateMember(negative balance)", err, fidelis.ECONFLICT) // the CHECK constraint: never negative (L-7)
}

// testLoyaltyMemberLock holds the member lock in one transaction while another wants it:
// the second waits, so both increments land (no lost update, no version conflict).
func testLoyaltyMemberLock(t *testing.T, open Opener) {
	db := open(t)
	p, m := loyaltyFixture(t, db)
	var wg sync.WaitGroup
	started := make(chan struct{})
	bump := func(hold time.Duration, signal bool) error {
		return loyaltyStore(db).Write(context.Background(), func(tx loyalty.Tx) error {
			cur, err := tx.GetMember(t.Context(), p.ID, m.Customer, true)
			if err != nil {
				return err
			}
			if signal {
				close(started)
			}
			time.Sleep(hold)
			cur.Balance, cur.Version = cur.Balance+1, cur.Version+1
			return tx.UpdateMember(t.Context(), cur)
		})
	}
	var errA, errB error
	wg.Go(func() { errA = bump(200*time.Millisecond, true) })
	<-started
	wg.Go(func() { errB = bump(0, false) })
	wg.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("locked updates: %v, %v; want both to succeed in turn", errA, errB)
	}
	var got *loyalty.Member
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) (err error) {
		got, err = tx.GetMember(t.Context(), p.ID, m.Customer, false)
		return err
	})
	if got.Balance != 2 || got.Version != 3 {
		t.Errorf("after two locked increments: balance %d version %d; want 2, 3", got.Balance, got.Version)
	}
}

func testLoyaltyLedgerAndLots(t *testing.T, open Opener) {
	db := open(t)
	p, m := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	var txs []*loyalty.Transaction
	var lots []*loyalty.Lot
	for i := range 3 {
		when := at.Add(time.Duration(i) * time.Hour)
		exp := when.AddDate(1, 0, 0)
		l := &loyalty.Lot{ID: fidelis.NewID("lot", when), Programme: p.ID, Customer: m.Customer, EarnedAt: when, ExpiresAt: &exp, Points: int64(10 * (i + 1)), Remaining: int64(10 * (i + 1))}
		x := &loyalty.Transaction{ID: fidelis.NewID("ltx", when), Programme: p.ID, Customer: m.Customer, Kind: loyalty.KindEarn, At: when, RuleID: "base", RuleVersion: 1, TermsVersion: 1,
			Reason: loyalty.Text{FR: "fr", EN: "en"}, Reference: "lod_1",
			Postings: []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: -l.Points}, {Account: loyalty.AccountMember, Customer: m.Customer, Amount: l.Points, Lot: l.ID}}}
		l.TxID = x.ID
		txs, lots = append(txs, x), append(lots, l)
	}
	// Insert newest first: FIFO order must come from the earning time, not insertion.
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		for i := 2; i >= 0; i-- {
			if err := tx.InsertLedgerTx(t.Context(), txs[i]); err != nil {
				return err
			}
			if err := tx.InsertLot(t.Context(), lots[i]); err != nil {
				return err
			}
		}
		return nil
	})
	err := loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		got, err := tx.GetLedgerTx(t.Context(), txs[1].ID)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(got, txs[1]) {
			t.Errorf("GetLedgerTx = %+v; want %+v", got, txs[1])
		}
		open, err := tx.OpenLots(t.Context(), p.ID, m.Customer)
		if err != nil {
			return err
		}
		if len(open) != 3 || open[0].ID != lots[0].ID || open[2].ID != lots[2].ID || !reflect.DeepEqual(open[1], lots[1]) {
			t.Errorf("OpenLots not oldest first or not round-tripped: %+v", open)
		}
		hist, err := tx.MemberHistory(t.Context(), m.Customer, "", 2)
		if err != nil {
			return err
		}
		if len(hist) != 2 || hist[0].ID != txs[2].ID || hist[1].ID != txs[1].ID {
			t.Errorf("MemberHistory newest first = %v", hist)
		}
		more, err := tx.MemberHistory(t.Context(), m.Customer, hist[1].ID, 2)
		if err != nil || len(more) != 1 || more[0].ID != txs[0].ID {
			t.Errorf("MemberHistory(before) = %v, %v", more, err)
		}
		byRef, err := tx.TxsByReference(t.Context(), p.ID, "lod_1")
		if err != nil || len(byRef) != 3 || byRef[0].ID != txs[0].ID {
			t.Errorf("TxsByReference = %v, %v", byRef, err)
		}
		due, err := tx.ExpiringLots(t.Context(), at.AddDate(1, 0, 0).Add(time.Minute), 10)
		if err != nil || len(due) != 1 || due[0].ID != lots[0].ID {
			t.Errorf("ExpiringLots(one year and a minute) = %v, %v; want the first lot", due, err)
		}
		for _, tt := range []struct {
			at   time.Time
			want int64
		}{{at.Add(-time.Microsecond), 0}, {at, 10}, {at.Add(2 * time.Hour), 60}} {
			if n, err := tx.MemberPoints(t.Context(), p.ID, tt.at); err != nil || n != tt.want {
				t.Errorf("MemberPoints(%s) = %d, %v; want %d", tt.at, n, err, tt.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A notice sent is recorded on the lot, and an empty lot is no longer open.
	now := at.Add(time.Hour)
	lots[0].Remaining, lots[1].NotifiedAt = 0, &now
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		if err := tx.UpdateLot(t.Context(), lots[0]); err != nil {
			return err
		}
		return tx.UpdateLot(t.Context(), lots[1])
	})
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		open, err := tx.OpenLots(t.Context(), p.ID, m.Customer)
		if err != nil {
			return err
		}
		if len(open) != 2 || open[0].NotifiedAt == nil || !open[0].NotifiedAt.Equal(now) {
			t.Errorf("after UpdateLot: %+v", open)
		}
		un, err := tx.UnnotifiedLots(t.Context(), at.AddDate(2, 0, 0), 10)
		if err != nil {
			return err
		}
		if len(un) != 1 || un[0].ID != lots[2].ID {
			t.Errorf("UnnotifiedLots = %v; want the third lot only", un)
		}
		return nil
	})
}

func testLoyaltyIdempotency(t *testing.T, open Opener) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	k := &loyalty.Idempotency{Scope: "token:tok_1", Key: "k1", RequestHash: "h1", Programme: p.ID, Result: "ltx_1", CreatedAt: at}
	var prev *loyalty.Idempotency
	mustLoyalty(t, db, func(tx loyalty.Tx) (err error) { prev, err = tx.ClaimLoyaltyKey(t.Context(), k); return err })
	if prev != nil {
		t.Fatalf("first claim returned %+v; want nil", prev)
	}
	again := *k
	again.RequestHash, again.Result = "h2", "ltx_2"
	mustLoyalty(t, db, func(tx loyalty.Tx) (err error) { prev, err = tx.ClaimLoyaltyKey(t.Context(), &again); return err })
	if prev == nil || !reflect.DeepEqual(prev, k) {
		t.Fatalf("second claim returned %+v; want the first row %+v", prev, k)
	}
	// Another caller's key of the same name is theirs.
	other := *k
	other.Scope = "token:tok_2"
	mustLoyalty(t, db, func(tx loyalty.Tx) (err error) { prev, err = tx.ClaimLoyaltyKey(t.Context(), &other); return err })
	if prev != nil {
		t.Errorf("claim by another scope returned %+v; want nil", prev)
	}
	// A claim in a transaction that rolls back leaves nothing.
	gone := *k
	gone.Key = "k2"
	_ = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
		_, _ = tx.ClaimLoyaltyKey(t.Context(), &gone)
		return fidelis.Errorf(fidelis.EINVALID, "refused")
	})
	mustLoyalty(t, db, func(tx loyalty.Tx) (err error) { prev, err = tx.ClaimLoyaltyKey(t.Context(), &gone); return err })
	if prev != nil {
		t.Errorf("claim after a rolled-back claim returned %+v; want nil", prev)
	}
	var keys []*loyalty.Idempotency
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) (err error) { keys, err = tx.LoyaltyKeys(t.Context(), p.ID); return err })
	if len(keys) != 3 {
		t.Errorf("LoyaltyKeys = %d rows; want 3", len(keys))
	}
}
