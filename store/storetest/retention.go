package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/retention"
	"github.com/fidelis/fidelis/store"
)

// The retention cases, run by Run on both backends: retention.Tx as the domain relies on
// it, and the lock that keeps runs one at a time.

func retentionStore(db *store.DB) store.Retention { return store.Retention{DB: db} }

func mustRetention(t *testing.T, db *store.DB, fn func(retention.Tx) error) {
	t.Helper()
	if err := retentionStore(db).Write(t.Context(), fn); err != nil {
		t.Fatalf("Retention.Write = %v; want nil", err)
	}
}

func readSubject(t *testing.T, db *store.DB, id fidelis.CustomerID) (s *retention.Subject, err error) {
	t.Helper()
	err = retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) { s, err = tx.RetentionSubject(t.Context(), id); return err })
	return s, err
}

// testRetentionFacts_T1_T4_T8: a subject carries its collection date, the latest time of
// each kind of recorded activity (an older one never wins), the loyalty ledger's orders
// and redemptions as purchase and redemption, its membership, active holds only, its
// notices and its privacy state; subjects page by ID; erasure deletes the clock and the
// notices but keeps the holds.
func testRetentionFacts_T1_T4_T8(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	p, m := loyaltyFixture(t, db)
	rec := newRecord(at, fidelis.FieldGivenName)
	rec.ID = m.Customer
	other := newRecord(at.Add(time.Second), fidelis.FieldGivenName)
	mustInsert(t, db, rec, other)
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		return tx.InsertOrder(t.Context(), &loyalty.Order{ID: fidelis.NewID("ord", at), Programme: p.ID, Customer: m.Customer, OrderedAt: at.Add(-48 * time.Hour),
			Channel: "store", Store: "s1", Currency: "EUR", Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "c", Quantity: 1, UnitPriceCents: 100}}, CreatedAt: at})
	})
	click := at.Add(time.Hour)
	h1 := &retention.Hold{ID: fidelis.NewID("hld", at), CustomerID: rec.ID, Case: "CASE-1", Reason: "a dispute before the court", PlacedBy: "user:u1", PlacedAt: at}
	h2 := &retention.Hold{ID: fidelis.NewID("hld", at.Add(time.Second)), CustomerID: rec.ID, Case: "CASE-2", Reason: "another dispute", PlacedBy: "user:u1", PlacedAt: at}
	notice := &retention.NoticeRecord{CustomerID: rec.ID, Rule: retention.RuleProspect, Notice: retention.NoticeRenewal, At: at, Result: retention.NoticeSent, MessageID: "<m1@x>"}
	mustRetention(t, db, func(tx retention.Tx) error {
		for _, a := range []struct {
			k  retention.Kind
			at time.Time
		}{{retention.KindClick, click}, {retention.KindClick, at}, {retention.KindPurchase, at.Add(-72 * time.Hour)}} {
			if err := tx.PutRetentionActivity(t.Context(), rec.ID, a.k, a.at); err != nil {
				return err
			}
		}
		for _, h := range []*retention.Hold{h1, h2} {
			if err := tx.InsertRetentionHold(t.Context(), h); err != nil {
				return err
			}
		}
		lifted := *h2
		lt := at.Add(time.Minute)
		lifted.LiftedAt, lifted.LiftedBy, lifted.LiftReason = &lt, "user:u2", "case closed for good"
		if err := tx.LiftRetentionHold(t.Context(), &lifted); err != nil {
			return err
		}
		if err := tx.PutRetentionNotice(t.Context(), &retention.NoticeRecord{CustomerID: rec.ID, Rule: retention.RuleProspect, At: at.Add(-time.Hour), Result: retention.NoticeNoAddress}); err != nil {
			return err
		}
		if err := tx.PutRetentionNotice(t.Context(), notice); err != nil {
			return err
		}
		st, err := tx.LockSubjectState(t.Context(), rec.ID)
		if err != nil {
			return err
		}
		st.Archived = &at
		return tx.PutSubjectState(t.Context(), rec.ID, st)
	})
	s, err := readSubject(t, db, rec.ID)
	if err != nil {
		t.Fatalf("RetentionSubject = %v", err)
	}
	want := map[retention.Kind]time.Time{retention.KindClick: click, retention.KindPurchase: at.Add(-48 * time.Hour)}
	if !reflect.DeepEqual(s.Activity, want) || !s.CollectedAt.Equal(at) {
		t.Errorf("Activity = %v, collected %v; want %v, %v (latest click; the ledger's order is the later purchase)", s.Activity, s.CollectedAt, want, at)
	}
	if s.Membership == nil || !s.Membership.JoinedAt.Equal(at) || s.Membership.LeftAt != nil {
		t.Errorf("Membership = %+v; want joined at %v, not left", s.Membership, at)
	}
	if len(s.Holds) != 1 || !reflect.DeepEqual(s.Holds[0], h1) {
		t.Errorf("Holds = %+v; want the active one only", s.Holds)
	}
	if !reflect.DeepEqual(s.Notices[retention.RuleProspect], notice) {
		t.Errorf("Notices = %+v; want the latest", s.Notices)
	}
	if s.State == nil || s.State.Archived == nil || !s.State.Archived.Equal(at) {
		t.Errorf("State = %+v; want archived", s.State)
	}
	var page1, page2 []*retention.Subject
	err = retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) {
		if page1, err = tx.RetentionSubjects(t.Context(), "", 1); err != nil {
			return err
		}
		page2, err = tx.RetentionSubjects(t.Context(), page1[0].ID, 10)
		return err
	})
	if err != nil || len(page1) != 1 || len(page2) != 1 || page1[0].ID >= page2[0].ID {
		t.Fatalf("RetentionSubjects pages = %d, %d, %v; want 1 and 1, by ID", len(page1), len(page2), err)
	}
	if o := page2[0]; o.ID == rec.ID && o.Membership == nil || o.ID == other.ID && (o.Membership != nil || len(o.Activity) != 0 || o.State != nil) {
		t.Errorf("second page subject = %+v; facts leaked between subjects", o)
	}
	mustWrite(t, db, func(tx customer.Tx) error { _, err := tx.DeleteCustomer(t.Context(), rec.ID); return err })
	_, err = readSubject(t, db, rec.ID)
	checkCode(t, "RetentionSubject(erased)", err, fidelis.ENOTFOUND)
	var acts map[retention.Kind]time.Time
	var holds []*retention.Hold
	err = retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) {
		if acts, err = tx.RetentionActivity(t.Context(), rec.ID); err != nil {
			return err
		}
		holds, err = tx.RetentionHolds(t.Context(), retention.HoldFilter{CustomerID: rec.ID}, 10)
		return err
	})
	if err != nil || len(acts) != 0 || len(holds) != 2 || holds[0].ID != h2.ID || holds[0].LiftedAt == nil {
		t.Errorf("after erasure: activity %v, holds %d (%v); want no activity, both holds kept, newest first", acts, len(holds), err)
	}
}

// testRetentionRulesHoldsRuns: overrides replace each other per rule; a hold is lifted once
// (EPRECONDITION after, ENOTFOUND for an unknown one); runs keep their counts.
func testRetentionRulesHoldsRuns(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	mustRetention(t, db, func(tx retention.Tx) error {
		for _, o := range []*retention.Override{
			{Rule: retention.RuleCustomer, Months: 48, Reason: "warranty", By: "user:a", At: at},
			{Rule: retention.RuleCustomer, Months: 40, Reason: "shorter after all", By: "user:b", At: at.Add(time.Hour)},
			{Rule: retention.RuleEvidence, Months: 72, Reason: "longer limitation", By: "user:a", At: at},
		} {
			if err := tx.PutRetentionOverride(t.Context(), o); err != nil {
				return err
			}
		}
		return nil
	})
	var ovs []retention.Override
	if err := retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) { ovs, err = tx.RetentionOverrides(t.Context()); return err }); err != nil {
		t.Fatal(err)
	}
	want := []retention.Override{{Rule: retention.RuleCustomer, Months: 40, Reason: "shorter after all", By: "user:b", At: at.Add(time.Hour)},
		{Rule: retention.RuleEvidence, Months: 72, Reason: "longer limitation", By: "user:a", At: at}}
	if !reflect.DeepEqual(ovs, want) {
		t.Errorf("RetentionOverrides = %+v; want %+v", ovs, want)
	}
	h := &retention.Hold{ID: fidelis.NewID("hld", at), CustomerID: fidelis.NewCustomerID(at), Case: "C-1", Reason: "r", PlacedBy: "user:a", PlacedAt: at}
	mustRetention(t, db, func(tx retention.Tx) error { return tx.InsertRetentionHold(t.Context(), h) })
	lt := at.Add(time.Hour)
	lift := *h
	lift.LiftedAt, lift.LiftedBy, lift.LiftReason = &lt, "user:b", "done"
	mustRetention(t, db, func(tx retention.Tx) error { return tx.LiftRetentionHold(t.Context(), &lift) })
	err := retentionStore(db).Write(t.Context(), func(tx retention.Tx) error { return tx.LiftRetentionHold(t.Context(), &lift) })
	checkCode(t, "LiftRetentionHold(twice)", err, fidelis.EPRECONDITION)
	unknown := lift
	unknown.ID = fidelis.NewID("hld", at)
	err = retentionStore(db).Write(t.Context(), func(tx retention.Tx) error { return tx.LiftRetentionHold(t.Context(), &unknown) })
	checkCode(t, "LiftRetentionHold(unknown)", err, fidelis.ENOTFOUND)
	err = retentionStore(db).Write(t.Context(), func(tx retention.Tx) error { return tx.InsertRetentionHold(t.Context(), h) })
	checkCode(t, "InsertRetentionHold(same id)", err, fidelis.ECONFLICT)
	var got *retention.Hold
	var active []*retention.Hold
	err = retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) {
		if got, err = tx.RetentionHold(t.Context(), h.ID); err != nil {
			return err
		}
		active, err = tx.RetentionHolds(t.Context(), retention.HoldFilter{ActiveOnly: true}, 10)
		return err
	})
	if err != nil || !reflect.DeepEqual(got, &lift) || len(active) != 0 {
		t.Errorf("RetentionHold = %+v, active %d, %v; want the lifted hold, none active", got, len(active), err)
	}
	run := &retention.Run{ID: fidelis.NewID("ret", at), At: at, By: "system:retention", Scanned: 12, Duration: 1500 * time.Microsecond,
		Counts: map[retention.Action]int{retention.ActionArchive: 2, retention.ActionNone: 10},
		ByRule: map[retention.RuleID]map[retention.Action]int{retention.RuleCustomer: {retention.ActionArchive: 2}, retention.RuleProspect: {retention.ActionNone: 10}}}
	mustRetention(t, db, func(tx retention.Tx) error { return tx.InsertRetentionRun(t.Context(), run) })
	var runs []*retention.Run
	if err := retentionStore(db).Read(t.Context(), func(tx retention.Tx) (err error) { runs, err = tx.RetentionRuns(t.Context(), 5); return err }); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || !reflect.DeepEqual(runs[0], run) {
		t.Errorf("RetentionRuns = %+v; want %+v", runs, run)
	}
}

// testRetentionLock_T7: the named lock is held by one handle at a time, across two handles
// on the same database (two nodes), and free again once released.
func testRetentionLock_T7(t *testing.T, open Opener) {
	a, b := open(t), open(t)
	unlock, ok, err := a.TryLock(t.Context(), "retention-run")
	if err != nil || !ok {
		t.Fatalf("TryLock(a) = %v, %v; want taken", ok, err)
	}
	if _, ok, err := b.TryLock(t.Context(), "retention-run"); err != nil || ok {
		t.Fatalf("TryLock(b) while a holds it = %v, %v; want refused", ok, err)
	}
	if unlockOther, ok, err := b.TryLock(t.Context(), "another-job"); err != nil || !ok {
		t.Errorf("TryLock(b, another job) = %v, %v; want taken", ok, err)
	} else {
		unlockOther()
	}
	unlock()
	unlockB, ok, err := b.TryLock(t.Context(), "retention-run")
	if err != nil || !ok {
		t.Fatalf("TryLock(b) after release = %v, %v; want taken", ok, err)
	}
	unlockB()
}
