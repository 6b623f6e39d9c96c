package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/store"
)

// The till batch cases (loyalty.BatchTx), run by Run on both backends: a chunk's rows
// written a few statements per table round-trip exactly, keys and balances are never
// silently overwritten, and concurrent writers locking overlapping members never deadlock
// nor lose an update.

// batchMembers stores n more members of programme p, returned in customer ID order.
func batchMembers(t *testing.T, p *loyalty.Programme, n int, tx loyalty.Tx) []*loyalty.Member {
	t.Helper()
	at := fidelis.UTC(baseTime())
	var out []*loyalty.Member
	for range n {
		m := &loyalty.Member{Programme: p.ID, Customer: fidelis.NewCustomerID(at), JoinedAt: at, TermsVersion: 1, Version: 1}
		if err := tx.InsertMember(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b *loyalty.Member) int { return compareIDs(a.Customer, b.Customer) })
	return out
}

func compareIDs[S ~string](a, b S) int { return strings.Compare(string(a), string(b)) }

// testLoyaltyBatchRoundTrip_L7 writes 150 orders' rows (more than one statement's worth per
// table) through the multi-row methods, or all at once through InsertBatch (oneWrite, with
// audit entries and events), and reads them back through the single-row ones.
func testLoyaltyBatchRoundTrip_L7(t *testing.T, open Opener, oneWrite bool) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	const n = 150
	var members []*loyalty.Member
	mustLoyalty(t, db, func(tx loyalty.Tx) error { members = batchMembers(t, p, n, tx); return nil })
	var (
		keys   []*loyalty.Idempotency
		orders []*loyalty.Order
		txs    []*loyalty.Transaction
		lots   []*loyalty.Lot
		moves  []loyalty.BalanceUpdate
	)
	for i, m := range members {
		exp := at.AddDate(1, 0, 0)
		o := &loyalty.Order{ID: fidelis.NewID("lod", at), Programme: p.ID, Customer: m.Customer, OrderedAt: at.Add(-time.Minute), Channel: "store", Store: "paris-01", Currency: "EUR",
			Lines: []loyalty.OrderLine{{GTIN: "4006381333931", Category: "grocery", Quantity: int64(i + 1), UnitPriceCents: 100}}, CreatedAt: at}
		pts := int64(i + 1)
		x := &loyalty.Transaction{ID: fidelis.NewID("ltx", at), Programme: p.ID, Customer: m.Customer, Kind: loyalty.KindEarn, At: at, RuleID: "base", RuleVersion: 1, TermsVersion: 1,
			Reason: loyalty.Text{FR: fmt.Sprintf("%d points", pts), EN: fmt.Sprintf("%d points", pts)}, Reference: o.ID}
		l := &loyalty.Lot{ID: fidelis.NewID("lot", at), Programme: p.ID, Customer: m.Customer, TxID: x.ID, EarnedAt: at, ExpiresAt: &exp, Points: pts, Remaining: pts}
		x.Postings = []loyalty.Posting{{Account: loyalty.AccountIssuance, Amount: -pts}, {Account: loyalty.AccountMember, Customer: m.Customer, Amount: pts, Lot: l.ID}}
		keys = append(keys, &loyalty.Idempotency{Scope: "token:till", Key: fmt.Sprintf("k-%03d", i), RequestHash: fmt.Sprintf("h%d", i), Programme: p.ID, Result: o.ID, CreatedAt: at})
		orders, txs, lots = append(orders, o), append(txs, x), append(lots, l)
		next := *m
		next.Balance, next.Version = pts, m.Version+1
		moves = append(moves, loyalty.BalanceUpdate{Member: &next, From: m.Version})
	}
	var (
		entries []audit.Entry
		events  []*loyalty.Event
	)
	for i := range 3 {
		entries = append(entries, audit.Entry{UID: fidelis.NewID("aud", at), At: at, Actor: "token:till", Action: loyalty.ActOrder, Subject: string(members[i].Customer),
			Purpose: fidelis.PurposeLoyalty, Outcome: audit.OutcomeOK, RequestID: fmt.Sprintf("req-%d", i), MAC: []byte{byte(i), 1, 2, 3}})
		events = append(events, &loyalty.Event{ID: fidelis.NewID("evt", at), At: at, Type: "loyalty.order_recorded", Subject: string(members[i].Customer), Data: map[string]any{"order_id": orders[i].ID}})
	}
	// LedgerTxs and Lots list in ID order.
	slices.SortFunc(txs, func(a, b *loyalty.Transaction) int { return compareIDs(a.ID, b.ID) })
	slices.SortFunc(lots, func(a, b *loyalty.Lot) int { return compareIDs(a.ID, b.ID) })
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		ctx := t.Context()
		locked, err := tx.LockMembers(ctx, p.ID, append([]fidelis.CustomerID{fidelis.NewCustomerID(at), members[3].Customer}, customersOf(members)...))
		if err != nil {
			return err
		}
		if len(locked) != n || !reflect.DeepEqual(locked[members[7].Customer], members[7]) {
			t.Errorf("LockMembers = %d members (member 7: %+v); want %d, the stored ones only", len(locked), locked[members[7].Customer], n)
		}
		if oneWrite {
			return tx.InsertBatch(ctx, &loyalty.BatchRows{Keys: keys, Orders: orders, Txs: txs, Lots: lots, Balances: moves, Audit: entries, Events: events})
		}
		for _, step := range []func() error{
			func() error { return tx.InsertLoyaltyKeys(ctx, keys) },
			func() error { return tx.InsertOrders(ctx, orders) },
			func() error { return tx.InsertLedgerTxs(ctx, txs) },
			func() error { return tx.InsertLots(ctx, lots) },
			func() error { return tx.UpdateBalances(ctx, moves) },
		} {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
	err := loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		ctx := t.Context()
		gotTxs, err := tx.LedgerTxs(ctx, p.ID, "", 1000)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(gotTxs, txs) {
			t.Errorf("LedgerTxs after InsertLedgerTxs: %d transactions, differing from the %d written", len(gotTxs), len(txs))
		}
		gotLots, err := tx.Lots(ctx, p.ID, "", 1000)
		if err != nil {
			return err
		}
		if !reflect.DeepEqual(gotLots, lots) {
			t.Errorf("Lots after InsertLots: %d lots, differing from the %d written", len(gotLots), len(lots))
		}
		for _, i := range []int{0, 64, 149} {
			o, err := tx.GetOrder(ctx, orders[i].ID)
			if err != nil || !reflect.DeepEqual(o, orders[i]) {
				t.Errorf("GetOrder(%d) = %+v, %v; want %+v", i, o, err, orders[i])
			}
			m, err := tx.GetMember(ctx, p.ID, members[i].Customer, false)
			if err != nil || m.Balance != int64(i+1) || m.Version != 2 {
				t.Errorf("member %d after UpdateBalances = %+v, %v; want balance %d, version 2", i, m, err, i+1)
			}
		}
		got, err := tx.LoyaltyKeysOf(ctx, "token:till", []string{"k-000", "k-149", "k-077", "k-none", "k-077"})
		if err != nil {
			return err
		}
		if len(got) != 3 || !reflect.DeepEqual(got["k-149"], keys[149]) || got["k-none"] != nil {
			t.Errorf("LoyaltyKeysOf = %v; want k-000, k-077 and k-149 as stored", slices.Sorted(maps.Keys(got)))
		}
		if other, err := tx.LoyaltyKeysOf(ctx, "token:other", []string{"k-000"}); err != nil || len(other) != 0 {
			t.Errorf("LoyaltyKeysOf(another scope) = %v, %v; want none", other, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if oneWrite {
		// A write transaction: reading pending events locks them on PostgreSQL.
		err := db.WriteTx(t.Context(), func(tx *store.Tx) error {
			for i, want := range entries {
				got, err := tx.AccessLog(t.Context(), want.Subject, 0, 10)
				if err != nil {
					return err
				}
				if len(got) != 1 || got[0].UID != want.UID || got[0].RequestID != want.RequestID || got[0].Action != want.Action {
					t.Errorf("access log of member %d after InsertBatch = %+v; want its one entry", i, got)
				}
			}
			unsealed, err := tx.UnsealedEntries(t.Context(), 100)
			if err != nil {
				return err
			}
			macs := map[string][]byte{}
			for _, e := range unsealed {
				macs[e.UID] = e.MAC
			}
			for _, want := range entries {
				if !bytes.Equal(macs[want.UID], want.MAC) {
					t.Errorf("MAC of entry %s after InsertBatch = %x; want %x", want.UID, macs[want.UID], want.MAC)
				}
			}
			pending, err := tx.PendingEvents(t.Context(), 100)
			if err != nil {
				return err
			}
			var ids []string
			for _, e := range pending {
				ids = append(ids, e.ID)
			}
			for _, e := range events {
				if !slices.Contains(ids, e.ID) {
					t.Errorf("event %s not pending after InsertBatch (pending: %v)", e.ID, ids)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// A stale version refuses the whole write: nothing of it is stored.
		err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
			fresh := &loyalty.Idempotency{Scope: "token:till", Key: "k-new", RequestHash: "h", Programme: p.ID, Result: "lod_x", CreatedAt: at}
			return tx.InsertBatch(t.Context(), &loyalty.BatchRows{Keys: []*loyalty.Idempotency{fresh}, Balances: moves[:2]})
		})
		checkCode(t, "InsertBatch(stale version)", err, fidelis.EPRECONDITION)
		err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
			return tx.InsertBatch(t.Context(), &loyalty.BatchRows{Keys: []*loyalty.Idempotency{keys[5]}})
		})
		checkCode(t, "InsertBatch(a stored key)", err, fidelis.ECONFLICT)
		_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
			if got, _ := tx.LoyaltyKeysOf(t.Context(), "token:till", []string{"k-new"}); len(got) != 0 {
				t.Errorf("a refused InsertBatch stored %v", got)
			}
			return nil
		})
		return
	}
	// A key stored before is refused, not skipped, and a stale version is refused: the
	// caller's savepoint then undoes the whole write.
	err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
		fresh := &loyalty.Idempotency{Scope: "token:till", Key: "k-new", RequestHash: "h", Programme: p.ID, Result: "lod_x", CreatedAt: at}
		return tx.InsertLoyaltyKeys(t.Context(), []*loyalty.Idempotency{fresh, keys[5]})
	})
	checkCode(t, "InsertLoyaltyKeys(a stored key)", err, fidelis.ECONFLICT)
	err = loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
		return tx.UpdateBalances(t.Context(), moves[:2]) // their stored version is now 2
	})
	checkCode(t, "UpdateBalances(stale version)", err, fidelis.EPRECONDITION)
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		if got, _ := tx.LoyaltyKeysOf(t.Context(), "token:till", []string{"k-new"}); len(got) != 0 {
			t.Errorf("a refused InsertLoyaltyKeys stored %v", got)
		}
		return nil
	})
}

func customersOf(ms []*loyalty.Member) []fidelis.CustomerID {
	out := make([]fidelis.CustomerID, len(ms))
	for i, m := range ms {
		out[i] = m.Customer
	}
	// Reversed: LockMembers takes them in ID order whatever the order asked.
	slices.Reverse(out)
	return out
}

// testLoyaltyLockMembersConcurrent_L7 runs writers that each lock an overlapping set of
// members, asked in different orders, and add one point to each through UpdateBalances:
// no deadlock, no lost update.
func testLoyaltyLockMembersConcurrent_L7(t *testing.T, open Opener, viaChunk bool) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	var members []*loyalty.Member
	mustLoyalty(t, db, func(tx loyalty.Tx) error { members = batchMembers(t, p, 12, tx); return nil })
	const writers, rounds = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers*rounds)
	want := map[fidelis.CustomerID]int64{}
	var mu sync.Mutex
	for w := range writers {
		// Writer w touches members w, w+1, ..., w+6 (mod 12), asked from the last.
		var ids []fidelis.CustomerID
		for k := 6; k >= 0; k-- {
			ids = append(ids, members[(w+k)%len(members)].Customer)
		}
		mu.Lock()
		for _, id := range ids {
			want[id] += rounds
		}
		mu.Unlock()
		wg.Go(func() {
			for range rounds {
				errs <- loyaltyStore(db).Write(context.Background(), func(tx loyalty.Tx) error {
					var locked map[fidelis.CustomerID]*loyalty.Member
					if viaChunk {
						st, err := tx.ReadChunk(t.Context(), loyalty.ChunkReads{Programmes: []string{p.ID}, Members: map[string][]fidelis.CustomerID{p.ID: ids}})
						if err != nil {
							return err
						}
						locked = st.Members[p.ID]
					} else {
						var err error
						if locked, err = tx.LockMembers(t.Context(), p.ID, ids); err != nil {
							return err
						}
					}
					var us []loyalty.BalanceUpdate
					for _, id := range ids {
						m := locked[id]
						next := *m
						next.Balance, next.Version = m.Balance+1, m.Version+1
						us = append(us, loyalty.BalanceUpdate{Member: &next, From: m.Version})
					}
					return tx.UpdateBalances(t.Context(), us)
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("locked batch update: %v; want every one to succeed in turn", err)
		}
	}
	_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
		for _, m := range members {
			got, err := tx.GetMember(t.Context(), p.ID, m.Customer, false)
			if err != nil || got.Balance != want[m.Customer] {
				t.Errorf("member %s: balance %+v, %v; want %d", m.Customer, got, err, want[m.Customer])
			}
		}
		return nil
	})
}

// testOrderEnvStamp_L3 counts what an order reads of a programme: a published rule
// version, terms version, tier schedule or referral policy each moves the stamp; another
// programme's do not; an unknown programme has none.
func testOrderEnvStamp_L3(t *testing.T, open Opener) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	q, _ := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	stamp := func(programme string) loyalty.EnvStamp {
		t.Helper()
		var st loyalty.EnvStamp
		mustLoyalty(t, db, func(tx loyalty.Tx) (err error) { st, err = tx.OrderEnvStamp(t.Context(), programme); return err })
		return st
	}
	if got, want := stamp(p.ID), (loyalty.EnvStamp{Programme: true, Terms: 1}); got != want {
		t.Errorf("stamp of a new programme = %+v; want %+v", got, want)
	}
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		for v := 1; v <= 2; v++ {
			if err := tx.InsertRule(t.Context(), &loyalty.Rule{Programme: p.ID, ID: "base", Version: v, Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: int64(v), CreatedAt: at}); err != nil {
				return err
			}
		}
		if err := tx.InsertTerms(t.Context(), &loyalty.Terms{Programme: p.ID, Version: 2, Text: loyalty.Text{FR: "fr", EN: "en"}, Mediator: loyalty.Mediator{Name: "M", Website: "https://m.example", Address: "A"},
			ExpiryMonths: 12, EffectiveAt: at, PublishedAt: at, Hash: "h2"}); err != nil {
			return err
		}
		if err := tx.InsertTierSchedule(t.Context(), &loyalty.TierSchedule{Programme: p.ID, Version: 1, TermsVersion: 1, Metric: loyalty.MetricPointsEarned, PeriodMonths: 12,
			Tiers: []loyalty.Tier{{ID: "gold", Name: loyalty.Text{FR: "Or", EN: "Gold"}, Threshold: 10, MultiplierPercent: 150}}, CreatedAt: at}); err != nil {
			return err
		}
		return tx.InsertReferralPolicy(t.Context(), &loyalty.ReferralPolicy{Programme: p.ID, Version: 1, TermsVersion: 1, ReferrerPoints: 100, RefereePoints: 50, CreatedAt: at})
	})
	if got, want := stamp(p.ID), (loyalty.EnvStamp{Programme: true, Terms: 2, Rules: 2, Policies: 2}); got != want {
		t.Errorf("stamp after publications = %+v; want %+v", got, want)
	}
	if got, want := stamp(q.ID), (loyalty.EnvStamp{Programme: true, Terms: 1}); got != want {
		t.Errorf("stamp of another programme = %+v; want %+v", got, want)
	}
	if got := stamp("lpg_unknown"); got != (loyalty.EnvStamp{}) {
		t.Errorf("stamp of an unknown programme = %+v; want none", got)
	}
}

// testLoyaltyReadChunk_L7 reads a chunk's stamps, members and keys together and finds
// exactly what OrderEnvStamp, LockMembers and LoyaltyKeysOf find one by one in the same
// transaction: more members and keys than one statement holds, customers who are not
// members, keys never used, an unknown programme; whether the transaction began with the
// read or before it. The transaction the read began still rolls back whole.
func testLoyaltyReadChunk_L7(t *testing.T, open Opener) {
	db := open(t)
	p, _ := loyaltyFixture(t, db)
	q, _ := loyaltyFixture(t, db)
	at := fidelis.UTC(baseTime())
	var inP, inQ []*loyalty.Member
	var stored []*loyalty.Idempotency
	mustLoyalty(t, db, func(tx loyalty.Tx) error {
		inP, inQ = batchMembers(t, p, 70, tx), batchMembers(t, q, 3, tx)
		for i := range 70 {
			scope := "token:a"
			if i%10 == 0 {
				scope = "token:b"
			}
			stored = append(stored, &loyalty.Idempotency{Scope: scope, Key: fmt.Sprintf("key-%03d", i), RequestHash: fmt.Sprintf("h%d", i), Programme: p.ID, Result: fmt.Sprintf("lod_%d", i), CreatedAt: at})
		}
		return tx.InsertLoyaltyKeys(t.Context(), stored)
	})
	reads := loyalty.ChunkReads{
		Programmes: []string{"lpg_unknown", p.ID, q.ID},
		Members: map[string][]fidelis.CustomerID{
			"lpg_unknown": {inP[0].Customer},
			p.ID:          append(customersOf(inP), fidelis.NewCustomerID(at), inQ[0].Customer),
			q.ID:          customersOf(inQ),
		},
		Keys: map[string][]string{"token:a": {"key-001", "key-010", "never"}, "token:b": {"key-010", "key-020"}, "token:c": {"key-001"}},
	}
	for i := range 70 {
		reads.Keys["token:a"] = append(reads.Keys["token:a"], fmt.Sprintf("key-%03d", i))
	}
	for _, begun := range []bool{false, true} {
		errRollback := errors.New("roll back")
		err := loyaltyStore(db).Write(t.Context(), func(tx loyalty.Tx) error {
			ctx := t.Context()
			if begun {
				if _, err := tx.GetMember(ctx, q.ID, inQ[0].Customer, false); err != nil {
					return err
				}
			}
			got, err := tx.ReadChunk(ctx, reads)
			if err != nil {
				return err
			}
			want := &loyalty.ChunkState{Stamps: map[string]loyalty.EnvStamp{}, Members: map[string]map[fidelis.CustomerID]*loyalty.Member{}, Keys: map[string]map[string]*loyalty.Idempotency{}}
			for _, prog := range reads.Programmes {
				if want.Stamps[prog], err = tx.OrderEnvStamp(ctx, prog); err != nil {
					return err
				}
				if want.Members[prog], err = tx.LockMembers(ctx, prog, reads.Members[prog]); err != nil {
					return err
				}
			}
			for scope, keys := range reads.Keys {
				if want.Keys[scope], err = tx.LoyaltyKeysOf(ctx, scope, keys); err != nil {
					return err
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("ReadChunk (begun before: %v) = %d stamps, members %d/%d/%d, keys %d/%d/%d; want what the reads one by one find: %+v, members %d/%d/%d, keys %d/%d/%d",
					begun, len(got.Stamps), len(got.Members["lpg_unknown"]), len(got.Members[p.ID]), len(got.Members[q.ID]), len(got.Keys["token:a"]), len(got.Keys["token:b"]), len(got.Keys["token:c"]),
					want.Stamps, len(want.Members["lpg_unknown"]), len(want.Members[p.ID]), len(want.Members[q.ID]), len(want.Keys["token:a"]), len(want.Keys["token:b"]), len(want.Keys["token:c"]))
			}
			if len(got.Members[p.ID]) != 70 || len(got.Members[q.ID]) != 3 || got.Stamps["lpg_unknown"].Programme || !got.Stamps[p.ID].Programme ||
				len(got.Keys["token:a"]) != 63 || len(got.Keys["token:b"]) != 2 || len(got.Keys["token:c"]) != 0 {
				t.Errorf("ReadChunk found %d and %d members, %d/%d/%d keys, stamps %+v; want 70 and 3 members, 63/2/0 keys, the unknown programme absent",
					len(got.Members[p.ID]), len(got.Members[q.ID]), len(got.Keys["token:a"]), len(got.Keys["token:b"]), len(got.Keys["token:c"]), got.Stamps)
			}
			m := got.Members[p.ID][inP[5].Customer]
			next := *m
			next.Balance, next.Version = 99, m.Version+1
			if err := tx.UpdateBalances(ctx, []loyalty.BalanceUpdate{{Member: &next, From: m.Version}}); err != nil {
				return err
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatalf("Write = %v; want the function's own error", err)
		}
		_ = loyaltyStore(db).Read(t.Context(), func(tx loyalty.Tx) error {
			if m, err := tx.GetMember(t.Context(), p.ID, inP[5].Customer, false); err != nil || m.Balance != 0 || m.Version != inP[5].Version {
				t.Errorf("member after a rolled-back chunk (begun before: %v) = %+v, %v; want it untouched", begun, m, err)
			}
			return nil
		})
	}
}
