// Package storetest is the conformance suite of package store: one set of tests that the
// SQLite and PostgreSQL backends both pass (DESIGN: the adapters only persist, and two
// backends must never mean two behaviours). It is written against the interfaces the
// domain packages declare — customer.Tx through store.Customers, audit.SealTx through
// SealTx, audit.VerifyStore, auth.Store — plus the registry loader and the key-rotation
// statements of store.Tx, never against SQL, so that what it checks is what the domain
// relies on.
package storetest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/audit/merkle"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/vault"
)

// Opener returns a handle on the database of test t. The first call with a given t returns
// a new, empty, migrated database; later calls with the same t open that same database
// again, as a restarted process would. Every handle is closed when t ends.
type Opener func(t *testing.T) *store.DB

// Run runs the conformance suite, each case on its own database from open.
func Run(t *testing.T, open Opener) {
	t.Helper()
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Customer/InsertGetRoundTrip", testCustomerRoundTrip},
		{"Customer/GetMissing_ENOTFOUND", testCustomerMissing},
		{"Customer/UpdateVersionCheck_EPRECONDITION", testCustomerUpdate},
		{"Customer/ListNewestFirstWithCursor", testCustomerList},
		{"Customer/FindByBlindIndex", testCustomerFind},
		{"Customer/HistoryOldestFirst", testCustomerHistory},
		{"Customer/DeleteShredsKeyRowAndHistory_R8", testCustomerDelete},
		{"Customer/ErasureReceiptStored", testErasureStored},
		{"Customer/OutboxEventAppended", testOutboxAppended},
		{"Customer/ConcurrentWriters", testConcurrentWriters},
		{"Tx/RollbackOnError", testRollbackOnError},
		{"Tx/RollbackOnConstraint", testRollbackOnConstraint},
		{"Tx/ReadRefusesWrites", testReadRefusesWrites},
		{"Tx/DuplicateKey_ECONFLICT", testDuplicateKeys},
		{"Audit/AppendRoundTripAndAccessLog", testAuditAccessLog},
		{"Audit/ConcurrentRecordAudit", testAuditConcurrent},
		{"Audit/RecordAfterCloseFails", testAuditAfterClose},
		{"Audit/SealTxRoundTrip", testAuditSealTx},
		{"Audit/ScanEntriesOrder", testAuditScanOrder},
		{"Audit/SealerThenVerify", testAuditSealerVerify},
		{"Auth/Users", testAuthUsers},
		{"Auth/SessionsExpire", testAuthSessions},
		{"Auth/TokensRevoke", testAuthTokens},
		{"Keys/RewrapQueries", testRewrapQueries},
		{"Registry/SeededOnceStableOnReopen", testRegistry},
		{"Reopen/DataSurvives", testReopen},
		{"Recipient/RoundTripVersionAndNames_D4", testRecipientRoundTrip},
		{"Recipient/OutboxClaimsDisjoint_R9", testOutboxClaims},
		{"Recipient/DeliveriesLeaseAndAttempts_R9", testDeliveries},
		{"Recipient/CustomerState", testCustomerState},
		{"Rights/CaseRoundTripAndVersion_R1", testRightsRoundTrip},
		{"Rights/ListByDueWithFilters_R1", testRightsList},
		{"Suppression/ListExpiryPurge_R15", testSuppressionList},
		{"Retention/FactsActivityLedgerHoldsNotices_T1_T4_T8", testRetentionFacts_T1_T4_T8},
		{"Retention/OverridesHoldsRuns_T7_T8", testRetentionRulesHoldsRuns},
		{"Retention/LockOneHolder_T7", testRetentionLock_T7},
		{"Loyalty/ProgrammeTermsMemberRoundTrip", testLoyaltyProgrammeTerms},
		{"Loyalty/MemberVersionCheck_EPRECONDITION", testLoyaltyMemberVersion},
		{"Loyalty/MemberLockSerialises_L7", testLoyaltyMemberLock},
		{"Loyalty/LedgerLotsFIFOAndLiability_L6", testLoyaltyLedgerAndLots},
		{"Loyalty/IdempotencyClaimKeepsFirst_L7", testLoyaltyIdempotency},
		{"Loyalty/BatchRowsRoundTrip_L7", func(t *testing.T, open Opener) { testLoyaltyBatchRoundTrip_L7(t, open, false) }},
		{"Loyalty/InsertBatchRoundTrip_L7", func(t *testing.T, open Opener) { testLoyaltyBatchRoundTrip_L7(t, open, true) }},
		{"Loyalty/BatchLocksNeverDeadlockNorLose_L7", func(t *testing.T, open Opener) { testLoyaltyLockMembersConcurrent_L7(t, open, false) }},
		{"Loyalty/ChunkLocksNeverDeadlockNorLose_L7", func(t *testing.T, open Opener) { testLoyaltyLockMembersConcurrent_L7(t, open, true) }},
		{"Loyalty/ReadChunkSameAsOneByOne_L7", testLoyaltyReadChunk_L7},
		{"Loyalty/OrderEnvStampCountsPublications_L3", testOrderEnvStamp_L3},
		{"Portal/LinksSingleUseCountedNeedCustomer", testPortalLinks},
		{"Portal/SessionsExpirePurgeAndGoWithCustomer_R8", testPortalSessions},
		{"Rewards/RoundTrip", testRewardRoundTrip},
		{"Rewards/TakeStockNeverOversells_L7", testTakeStockNeverOversells},
		{"Rewards/NestedRollsBackAlone_L7", testNestedRollsBackAlone},
		{"Proof/ConsentLedgerPagesAcrossCustomers_C1", testProofConsentLedgerPages_C1},
		{"Proof/AuditLeavesCheckpointsPages_P4", testProofAuditPages_P4},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// baseTime has nanoseconds and a zone other than UTC on purpose: the store keeps UTC at
// microsecond precision (STYLE 7), so what comes back is fidelis.UTC(baseTime()).
func baseTime() time.Time {
	return time.Date(2026, time.March, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

// newRecord returns a record created at at, holding random ciphertext in fields.
func newRecord(at time.Time, fields ...fidelis.Field) *customer.Record {
	r := &customer.Record{
		ID:         fidelis.NewCustomerID(at),
		Version:    1,
		CreatedAt:  at,
		UpdatedAt:  at,
		Key:        vault.WrappedDEK{KEKID: fidelis.NewID("kek", at), Wrapped: randomBytes(60)},
		Sealed:     map[fidelis.Field][]byte{},
		EmailIndex: randomBytes(vault.BlindIndexSize),
		PhoneIndex: randomBytes(vault.BlindIndexSize),
	}
	for i, f := range fields {
		r.Sealed[f] = randomBytes(29 + i)
	}
	return r
}

func customers(db *store.DB) store.Customers { return store.Customers{DB: db} }

func mustWrite(t *testing.T, db *store.DB, fn func(customer.Tx) error) {
	t.Helper()
	if err := customers(db).Write(t.Context(), fn); err != nil {
		t.Fatalf("Customers.Write = %v; want nil", err)
	}
}

func mustInsert(t *testing.T, db *store.DB, recs ...*customer.Record) {
	t.Helper()
	mustWrite(t, db, func(tx customer.Tx) error {
		for _, r := range recs {
			if err := tx.InsertCustomer(t.Context(), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func getCustomer(t *testing.T, db *store.DB, id fidelis.CustomerID) (r *customer.Record, err error) {
	t.Helper()
	err = customers(db).Read(t.Context(), func(tx customer.Tx) (err error) { r, err = tx.GetCustomer(t.Context(), id); return err })
	return r, err
}

func mustGet(t *testing.T, db *store.DB, id fidelis.CustomerID) *customer.Record {
	t.Helper()
	r, err := getCustomer(t, db, id)
	if err != nil {
		t.Fatalf("GetCustomer(%s) = %v; want nil error", id, err)
	}
	return r
}

func read[T any](t *testing.T, db *store.DB, fn func(customer.Tx) (T, error)) T {
	t.Helper()
	var out T
	if err := customers(db).Read(t.Context(), func(tx customer.Tx) (err error) { out, err = fn(tx); return err }); err != nil {
		t.Fatalf("Customers.Read = %v; want nil", err)
	}
	return out
}

func ids(recs []*customer.Record) []fidelis.CustomerID {
	out := make([]fidelis.CustomerID, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

// checkTime reports unless got is want at microsecond precision, in UTC.
func checkTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	w := fidelis.UTC(want)
	if !got.Equal(w) || got.Location() != time.UTC {
		t.Errorf("%s = %v; want %v (UTC, microseconds)", what, got, w)
	}
}

func checkCode(t *testing.T, what string, err error, want fidelis.Code) {
	t.Helper()
	if got := fidelis.ErrorCode(err); got != want {
		t.Errorf("%s: ErrorCode(%v) = %q; want %q", what, err, got, want)
	}
}

func checkRecord(t *testing.T, got, want *customer.Record) {
	t.Helper()
	if got.ID != want.ID || got.Version != want.Version {
		t.Errorf("record = %s v%d; want %s v%d", got.ID, got.Version, want.ID, want.Version)
	}
	checkTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	checkTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	if got.Key.KEKID != want.Key.KEKID || !bytes.Equal(got.Key.Wrapped, want.Key.Wrapped) {
		t.Errorf("Key = %s/%x; want %s/%x", got.Key.KEKID, got.Key.Wrapped, want.Key.KEKID, want.Key.Wrapped)
	}
	if !bytes.Equal(got.EmailIndex, want.EmailIndex) || (want.EmailIndex == nil) != (got.EmailIndex == nil) {
		t.Errorf("EmailIndex = %x; want %x", got.EmailIndex, want.EmailIndex)
	}
	if !bytes.Equal(got.PhoneIndex, want.PhoneIndex) || (want.PhoneIndex == nil) != (got.PhoneIndex == nil) {
		t.Errorf("PhoneIndex = %x; want %x", got.PhoneIndex, want.PhoneIndex)
	}
	wantSealed := maps.Clone(want.Sealed)
	maps.DeleteFunc(wantSealed, func(_ fidelis.Field, v []byte) bool { return len(v) == 0 })
	if !maps.EqualFunc(got.Sealed, wantSealed, bytes.Equal) {
		t.Errorf("Sealed fields = %v; want %v (byte-exact)", slices.Sorted(maps.Keys(got.Sealed)), slices.Sorted(maps.Keys(wantSealed)))
	}
}

func testCustomerRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	full := newRecord(at, fidelis.CustomerFields()...)
	sparse := newRecord(at.Add(time.Millisecond), fidelis.FieldEmail)
	sparse.PhoneIndex = nil
	sparse.Sealed[fidelis.FieldCity] = nil // nil ciphertext means "no value": not stored
	sparse.UpdatedAt = at.Add(time.Hour + 999*time.Nanosecond)
	mustInsert(t, db, full, sparse)
	for _, want := range []*customer.Record{full, sparse} {
		t.Run(string(want.ID), func(t *testing.T) { checkRecord(t, mustGet(t, db, want.ID), want) })
	}
	if got := mustGet(t, db, sparse.ID); got.PhoneIndex != nil || got.Sealed[fidelis.FieldCity] != nil {
		t.Errorf("GetCustomer(sparse) PhoneIndex = %x, city = %x; want nil, nil", got.PhoneIndex, got.Sealed[fidelis.FieldCity])
	}
}

func testCustomerMissing(t *testing.T, open Opener) {
	db := open(t)
	mustInsert(t, db, newRecord(baseTime(), fidelis.FieldGivenName))
	for _, id := range []fidelis.CustomerID{fidelis.NewCustomerID(baseTime()), "", "cus_doesnotexist"} {
		_, err := getCustomer(t, db, id)
		checkCode(t, fmt.Sprintf("GetCustomer(%q)", id), err, fidelis.ENOTFOUND)
	}
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error {
		_, err := tx.DeleteCustomer(t.Context(), fidelis.NewCustomerID(baseTime()))
		return err
	})
	checkCode(t, "DeleteCustomer(missing)", err, fidelis.ENOTFOUND)
}

func testCustomerUpdate(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	r := newRecord(at, fidelis.FieldGivenName, fidelis.FieldEmail, fidelis.FieldPhone)
	mustInsert(t, db, r)

	next := *r
	next.Version = 2
	next.UpdatedAt = at.Add(time.Minute)
	next.Sealed = map[fidelis.Field][]byte{fidelis.FieldGivenName: randomBytes(33), fidelis.FieldCity: randomBytes(31)}
	next.EmailIndex, next.PhoneIndex = nil, randomBytes(vault.BlindIndexSize)
	mustWrite(t, db, func(tx customer.Tx) error { return tx.UpdateCustomer(t.Context(), &next) })
	checkRecord(t, mustGet(t, db, r.ID), &next)

	// A second writer that read version 1 also produces "version 2": it must lose.
	stale := *r
	stale.Version = 2
	stale.Sealed = map[fidelis.Field][]byte{fidelis.FieldGivenName: randomBytes(40)}
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error { return tx.UpdateCustomer(t.Context(), &stale) })
	checkCode(t, "UpdateCustomer(stale version)", err, fidelis.EPRECONDITION)
	checkRecord(t, mustGet(t, db, r.ID), &next)

	// Skipping a version is as stale as going back.
	skip := next
	skip.Version = 4
	err = customers(db).Write(t.Context(), func(tx customer.Tx) error { return tx.UpdateCustomer(t.Context(), &skip) })
	checkCode(t, "UpdateCustomer(version+2)", err, fidelis.EPRECONDITION)

	missing := newRecord(at, fidelis.FieldGivenName)
	missing.Version = 2
	err = customers(db).Write(t.Context(), func(tx customer.Tx) error { return tx.UpdateCustomer(t.Context(), missing) })
	checkCode(t, "UpdateCustomer(missing)", err, fidelis.EPRECONDITION)
}

func testCustomerList(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	var recs []*customer.Record
	for i := range 7 {
		recs = append(recs, newRecord(at.Add(time.Duration(2*i)*time.Millisecond), fidelis.FieldGivenName))
	}
	// Insertion order must not matter: the order is the IDs'.
	mustInsert(t, db, recs[3], recs[0], recs[6], recs[1], recs[5], recs[2], recs[4])
	newestFirst := slices.Clone(ids(recs))
	slices.Reverse(newestFirst)

	list := func(before fidelis.CustomerID, limit int) []fidelis.CustomerID {
		return ids(read(t, db, func(tx customer.Tx) ([]*customer.Record, error) {
			return tx.ListCustomers(t.Context(), before, limit)
		}))
	}
	if got := list("", 100); !slices.Equal(got, newestFirst) {
		t.Errorf("ListCustomers(\"\", 100) = %v; want %v", got, newestFirst)
	}
	for _, tt := range []struct {
		name   string
		before fidelis.CustomerID
		limit  int
		want   []fidelis.CustomerID
	}{
		{"first page", "", 3, newestFirst[:3]},
		{"second page", newestFirst[2], 3, newestFirst[3:6]},
		{"last page", newestFirst[5], 3, newestFirst[6:]},
		{"after the oldest", newestFirst[6], 3, nil},
		{"cursor excludes itself", newestFirst[0], 1, newestFirst[1:2]},
		{"cursor of an absent id", fidelis.NewCustomerID(at.Add(7 * time.Millisecond)), 2, newestFirst[3:5]},
		{"cursor above all", fidelis.NewCustomerID(at.Add(time.Hour)), 2, newestFirst[:2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := list(tt.before, tt.limit); !slices.Equal(got, tt.want) {
				t.Errorf("ListCustomers(%q, %d) = %v; want %v", tt.before, tt.limit, got, tt.want)
			}
		})
	}
	// Walking pages visits every record exactly once.
	var seen []fidelis.CustomerID
	for before := fidelis.CustomerID(""); ; {
		page := list(before, 2)
		seen = append(seen, page...)
		if len(page) < 2 {
			break
		}
		before = page[len(page)-1]
	}
	if !slices.Equal(seen, newestFirst) {
		t.Errorf("pages of 2 = %v; want %v", seen, newestFirst)
	}
}

func testCustomerFind(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	emailA, phoneA := randomBytes(vault.BlindIndexSize), randomBytes(vault.BlindIndexSize)
	r1 := newRecord(at, fidelis.FieldEmail)
	r1.EmailIndex, r1.PhoneIndex = emailA, phoneA
	r2 := newRecord(at.Add(time.Millisecond), fidelis.FieldEmail)
	r2.EmailIndex, r2.PhoneIndex = emailA, nil
	r3 := newRecord(at.Add(2*time.Millisecond), fidelis.FieldEmail)
	r3.EmailIndex, r3.PhoneIndex = nil, phoneA
	r4 := newRecord(at.Add(3*time.Millisecond), fidelis.FieldEmail) // other indexes
	mustInsert(t, db, r1, r2, r3, r4)

	for _, tt := range []struct {
		name  string
		email bool
		idx   []byte
		limit int
		want  []fidelis.CustomerID
	}{
		{"email shared", true, emailA, 10, []fidelis.CustomerID{r2.ID, r1.ID}},
		{"email limit", true, emailA, 1, []fidelis.CustomerID{r2.ID}},
		{"email unique", true, r4.EmailIndex, 10, []fidelis.CustomerID{r4.ID}},
		{"email unknown", true, randomBytes(vault.BlindIndexSize), 10, nil},
		{"email nil matches no record without one", true, nil, 10, nil},
		{"phone shared", false, phoneA, 10, []fidelis.CustomerID{r3.ID, r1.ID}},
		{"phone is not email", false, emailA, 10, nil},
		{"phone nil", false, nil, 10, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := read(t, db, func(tx customer.Tx) ([]*customer.Record, error) {
				if tt.email {
					return tx.FindByEmailIndex(t.Context(), tt.idx, tt.limit)
				}
				return tx.FindByPhoneIndex(t.Context(), tt.idx, tt.limit)
			})
			if !slices.Equal(ids(got), tt.want) {
				t.Errorf("Find(%x, %d) = %v; want %v", tt.idx, tt.limit, ids(got), tt.want)
			}
			for _, r := range got {
				if r.ID == r1.ID {
					checkRecord(t, r, r1)
				}
			}
		})
	}
}

func newChange(id fidelis.CustomerID, version int, at time.Time, fields ...fidelis.Field) *customer.Change {
	return &customer.Change{CustomerID: id, Version: version, At: at, Actor: "user:usr_x", Purpose: fidelis.PurposeCustomerService,
		Fields: fields, Previous: randomBytes(20 + version)}
}

func testCustomerHistory(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	r := newRecord(at, fidelis.FieldGivenName)
	other := newRecord(at.Add(time.Millisecond), fidelis.FieldGivenName)
	mustInsert(t, db, r, other)
	c2 := newChange(r.ID, 2, at.Add(time.Second), fidelis.FieldEmail, fidelis.FieldGivenName)
	c3 := newChange(r.ID, 3, at.Add(2*time.Second), fidelis.FieldPhone)
	c3.Purpose, c3.Actor = fidelis.PurposeDataProtection, "token:tok_y"
	c4 := newChange(r.ID, 4, at.Add(3*time.Second), fidelis.FieldAttributes, fidelis.FieldBirthDate, fidelis.FieldCity)
	mustWrite(t, db, func(tx customer.Tx) error {
		for _, c := range []*customer.Change{c3, c4, c2, newChange(other.ID, 2, at, fidelis.FieldCity)} {
			if err := tx.InsertChange(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
	got := read(t, db, func(tx customer.Tx) ([]*customer.Change, error) { return tx.Changes(t.Context(), r.ID) })
	want := []*customer.Change{c2, c3, c4}
	if len(got) != len(want) {
		t.Fatalf("len(Changes(%s)) = %d; want %d", r.ID, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.CustomerID != w.CustomerID || g.Version != w.Version || g.Actor != w.Actor || g.Purpose != w.Purpose ||
			!slices.Equal(g.Fields, w.Fields) || !bytes.Equal(g.Previous, w.Previous) {
			t.Errorf("Changes(%s)[%d] = %+v; want %+v", r.ID, i, g, w)
		}
		checkTime(t, fmt.Sprintf("Changes[%d].At", i), g.At, w.At)
	}
	if got := read(t, db, func(tx customer.Tx) ([]*customer.Change, error) {
		return tx.Changes(t.Context(), fidelis.NewCustomerID(at))
	}); len(got) != 0 {
		t.Errorf("Changes(unknown) = %d changes; want none", len(got))
	}
}

func testCustomerDelete(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	r := newRecord(at, fidelis.FieldGivenName, fidelis.FieldEmail, fidelis.FieldCity)
	r.PhoneIndex = nil
	keep := newRecord(at.Add(time.Millisecond), fidelis.FieldGivenName)
	keep.EmailIndex = r.EmailIndex // a household sharing an address stays findable
	mustInsert(t, db, r, keep)
	mustWrite(t, db, func(tx customer.Tx) error {
		for _, c := range []*customer.Change{newChange(r.ID, 2, at, fidelis.FieldEmail), newChange(r.ID, 3, at, fidelis.FieldCity), newChange(keep.ID, 2, at, fidelis.FieldCity)} {
			if err := tx.InsertChange(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})

	var d customer.Deleted
	mustWrite(t, db, func(tx customer.Tx) (err error) { d, err = tx.DeleteCustomer(t.Context(), r.ID); return err })
	if want := (customer.Deleted{Fields: 3, HistoryRows: 2, BlindIndexes: 1}); d != want {
		t.Errorf("DeleteCustomer(%s) = %+v; want %+v", r.ID, d, want)
	}

	_, err := getCustomer(t, db, r.ID)
	checkCode(t, "GetCustomer(deleted)", err, fidelis.ENOTFOUND)
	if got := read(t, db, func(tx customer.Tx) ([]*customer.Change, error) { return tx.Changes(t.Context(), r.ID) }); len(got) != 0 {
		t.Errorf("Changes(deleted) = %d changes; want none", len(got))
	}
	if got := ids(read(t, db, func(tx customer.Tx) ([]*customer.Record, error) {
		return tx.FindByEmailIndex(t.Context(), r.EmailIndex, 10)
	})); !slices.Equal(got, []fidelis.CustomerID{keep.ID}) {
		t.Errorf("FindByEmailIndex after delete = %v; want %v", got, []fidelis.CustomerID{keep.ID})
	}
	if got := ids(read(t, db, func(tx customer.Tx) ([]*customer.Record, error) { return tx.ListCustomers(t.Context(), "", 10) })); !slices.Equal(got, []fidelis.CustomerID{keep.ID}) {
		t.Errorf("ListCustomers after delete = %v; want %v", got, []fidelis.CustomerID{keep.ID})
	}
	checkRecord(t, mustGet(t, db, keep.ID), keep)
	if got := read(t, db, func(tx customer.Tx) ([]*customer.Change, error) { return tx.Changes(t.Context(), keep.ID) }); len(got) != 1 {
		t.Errorf("Changes(kept customer) = %d changes; want 1", len(got))
	}
	err = customers(db).Write(t.Context(), func(tx customer.Tx) error { _, err := tx.DeleteCustomer(t.Context(), r.ID); return err })
	checkCode(t, "DeleteCustomer(twice)", err, fidelis.ENOTFOUND)

	// The wrapped key row is gone too: the same ID, key included, can be stored again
	// without a duplicate-key conflict on the key table.
	again := newRecord(at, fidelis.FieldGivenName)
	again.ID = r.ID
	mustInsert(t, db, again)
	checkRecord(t, mustGet(t, db, r.ID), again)
}

func newErasure(id fidelis.CustomerID, at time.Time) *customer.Erasure {
	return &customer.Erasure{ID: fidelis.NewID("era", at), CustomerID: id, ErasedAt: at, Actor: "system:test",
		Purpose: fidelis.PurposeDataProtection, DataKey: "destroyed", Fields: 3, HistoryRows: 1, BlindIndexes: 2,
		KeptRecords: []string{}, Notice: "test"}
}

func newEvent(at time.Time, typ string, id fidelis.CustomerID) *customer.Event {
	return &customer.Event{ID: fidelis.NewID("evt", at), At: at, Type: typ, Subject: string(id), Fields: []fidelis.Field{fidelis.FieldEmail}}
}

// The erasure and outbox tables have no reader in the domain interfaces yet; a receipt or
// event is observably stored when storing its ID again conflicts.
func testErasureStored(t *testing.T, open Opener) {
	db := open(t)
	e := newErasure(fidelis.NewCustomerID(baseTime()), baseTime())
	mustWrite(t, db, func(tx customer.Tx) error { return tx.InsertErasure(t.Context(), e) })
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error { return tx.InsertErasure(t.Context(), e) })
	checkCode(t, "InsertErasure(same receipt again)", err, fidelis.ECONFLICT)
	// Several receipts for one customer are allowed (a re-created then re-erased ID).
	e2 := newErasure(e.CustomerID, baseTime().Add(time.Second))
	mustWrite(t, db, func(tx customer.Tx) error { return tx.InsertErasure(t.Context(), e2) })
}

func testOutboxAppended(t *testing.T, open Opener) {
	db := open(t)
	id := fidelis.NewCustomerID(baseTime())
	e := newEvent(baseTime(), "customer.created", id)
	mustWrite(t, db, func(tx customer.Tx) error { return tx.AppendEvent(t.Context(), e) })
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error { return tx.AppendEvent(t.Context(), e) })
	checkCode(t, "AppendEvent(same event again)", err, fidelis.ECONFLICT)
	mustWrite(t, db, func(tx customer.Tx) error {
		return tx.AppendEvent(t.Context(), &customer.Event{ID: fidelis.NewID("evt", baseTime()), At: baseTime(), Type: "customer.erased", Subject: string(id)})
	})
}

func testConcurrentWriters(t *testing.T, open Opener) {
	db := open(t)
	const writers, each = 6, 5
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	var mu sync.Mutex
	var all []fidelis.CustomerID
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				r := newRecord(baseTime().Add(time.Duration(w*each+i)*time.Millisecond), fidelis.FieldGivenName)
				err := customers(db).Write(context.Background(), func(tx customer.Tx) error {
					if err := tx.InsertCustomer(context.Background(), r); err != nil {
						return err
					}
					return tx.AppendEvent(context.Background(), newEvent(baseTime(), "customer.created", r.ID))
				})
				if err != nil {
					errs <- fmt.Errorf("writer %d insert %d: %w", w, i, err)
					return
				}
				mu.Lock()
				all = append(all, r.ID)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Write = %v; want nil", err)
	}
	got := ids(read(t, db, func(tx customer.Tx) ([]*customer.Record, error) { return tx.ListCustomers(t.Context(), "", 1000) }))
	slices.Sort(all)
	slices.Sort(got)
	if !slices.Equal(got, all) {
		t.Errorf("ListCustomers after %d concurrent writes = %d records; want %d", writers*each, len(got), len(all))
	}
}

// fullWrite performs one of every customer.Tx write for r.
func fullWrite(t *testing.T, tx customer.Tx, r *customer.Record, ev *customer.Event, er *customer.Erasure, ae audit.Entry) error {
	ctx := t.Context()
	if err := tx.InsertCustomer(ctx, r); err != nil {
		return err
	}
	if err := tx.InsertChange(ctx, newChange(r.ID, 2, r.CreatedAt, fidelis.FieldEmail)); err != nil {
		return err
	}
	if err := tx.AppendAudit(ctx, ae); err != nil {
		return err
	}
	if err := tx.AppendEvent(ctx, ev); err != nil {
		return err
	}
	return tx.InsertErasure(ctx, er)
}

// checkNothingWritten reports anything fullWrite(r, ev, er, ae) left behind, then proves
// the event, receipt and audit UID are free by writing them.
func checkNothingWritten(t *testing.T, db *store.DB, r *customer.Record, ev *customer.Event, er *customer.Erasure, ae audit.Entry) {
	t.Helper()
	_, err := getCustomer(t, db, r.ID)
	checkCode(t, "GetCustomer after rollback", err, fidelis.ENOTFOUND)
	if got := read(t, db, func(tx customer.Tx) ([]*customer.Change, error) { return tx.Changes(t.Context(), r.ID) }); len(got) != 0 {
		t.Errorf("Changes after rollback = %d; want 0", len(got))
	}
	if got := read(t, db, func(tx customer.Tx) ([]audit.Entry, error) { return tx.AccessLog(t.Context(), string(r.ID), 0, 10) }); len(got) != 0 {
		t.Errorf("AccessLog after rollback = %d entries; want 0", len(got))
	}
	// Every row fullWrite attempted can be written now, so none of them survived.
	mustWrite(t, db, func(tx customer.Tx) error { return fullWrite(t, tx, r, ev, er, ae) })
	checkRecord(t, mustGet(t, db, r.ID), r)
}

func testRollbackOnError(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	r := newRecord(at, fidelis.FieldGivenName, fidelis.FieldEmail)
	ev, er := newEvent(at, "customer.created", r.ID), newErasure(r.ID, at)
	ae := auditEntry(at, string(r.ID), "customer.create")
	boom := errors.New("boom")
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error {
		if err := fullWrite(t, tx, r, ev, er, ae); err != nil {
			return err
		}
		return fmt.Errorf("after the writes: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Write(fn failing after its writes) = %v; want the error of fn", err)
	}
	checkNothingWritten(t, db, r, ev, er, ae)

	// The same through the audit sealing transaction.
	// Entries recorded outside a transaction may be held back for a moment (the SQLite
	// audit journal): sealing sees them once synced.
	if err := db.SyncAudit(t.Context()); err != nil {
		t.Fatalf("SyncAudit = %v", err)
	}
	err = db.SealTx(t.Context(), func(tx audit.SealTx) error {
		pending, err := tx.UnsealedEntries(t.Context(), 10)
		if err != nil {
			return err
		}
		if err := tx.SetLeaves(t.Context(), []audit.Leaf{{ID: pending[0].ID, Index: 0, Hash: randomBytes(32)}}); err != nil {
			return err
		}
		if err := tx.InsertCheckpoint(t.Context(), newCheckpoint(1, at)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("SealTx(fn failing after its writes) = %v; want the error of fn", err)
	}
	if cp, err := db.LatestCheckpoint(t.Context()); err != nil || cp != nil {
		t.Errorf("LatestCheckpoint after rolled-back seal = %v, %v; want nil, nil", cp, err)
	}
	if n, err := db.PendingAudit(t.Context()); err != nil || n != 1 {
		t.Errorf("PendingAudit after rolled-back seal = %d, %v; want 1, nil", n, err)
	}
}

func testRollbackOnConstraint(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	existing := newRecord(at, fidelis.FieldGivenName)
	mustInsert(t, db, existing)
	r := newRecord(at.Add(time.Millisecond), fidelis.FieldGivenName)
	ev, er := newEvent(at, "customer.created", r.ID), newErasure(r.ID, at)
	ae := auditEntry(at, string(r.ID), "customer.create")
	err := customers(db).Write(t.Context(), func(tx customer.Tx) error {
		if err := fullWrite(t, tx, r, ev, er, ae); err != nil {
			return err
		}
		return tx.InsertCustomer(t.Context(), existing) // duplicate: fails the transaction
	})
	checkCode(t, "Write(ending in a duplicate)", err, fidelis.ECONFLICT)
	checkNothingWritten(t, db, r, ev, er, ae)
	checkRecord(t, mustGet(t, db, existing.ID), existing)
}

func testReadRefusesWrites(t *testing.T, open Opener) {
	db := open(t)
	r := newRecord(baseTime(), fidelis.FieldGivenName)
	err := customers(db).Read(t.Context(), func(tx customer.Tx) error { return tx.InsertCustomer(t.Context(), r) })
	if err == nil {
		t.Errorf("Read(InsertCustomer) = nil; want an error: read transactions are read-only")
	}
	_, err = getCustomer(t, db, r.ID)
	checkCode(t, "GetCustomer after a write in a read transaction", err, fidelis.ENOTFOUND)
}

func testDuplicateKeys(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	r := newRecord(at, fidelis.FieldGivenName)
	ch := newChange(r.ID, 2, at, fidelis.FieldGivenName)
	er, ev := newErasure(r.ID, at), newEvent(at, "customer.created", r.ID)
	u := &auth.User{ID: fidelis.NewID("usr", at), Username: "ann", Role: fidelis.RoleAdmin, Locale: "fr", CreatedAt: at}
	tok := &auth.Token{ID: fidelis.NewID("tok", at), Name: "t", Role: fidelis.RoleSales, CreatedAt: at}
	sessHash := randomBytes(32)
	for _, tt := range []struct {
		name  string
		write func() error
	}{
		{"customer", func() error {
			return customers(db).Write(ctx, func(tx customer.Tx) error { return tx.InsertCustomer(ctx, r) })
		}},
		{"change", func() error {
			return customers(db).Write(ctx, func(tx customer.Tx) error { return tx.InsertChange(ctx, ch) })
		}},
		{"erasure", func() error {
			return customers(db).Write(ctx, func(tx customer.Tx) error { return tx.InsertErasure(ctx, er) })
		}},
		{"event", func() error {
			return customers(db).Write(ctx, func(tx customer.Tx) error { return tx.AppendEvent(ctx, ev) })
		}},
		{"user", func() error { return db.CreateUser(ctx, u, "$argon2id$x") }},
		{"username", func() error {
			u2 := *u
			u2.ID = fidelis.NewID("usr", at)
			return db.CreateUser(ctx, &u2, "$argon2id$y")
		}},
		{"session", func() error {
			return db.CreateSession(ctx, sessHash, &auth.Session{User: u, CSRFToken: "c", Purpose: fidelis.PurposeCustomerService, ExpiresAt: at.Add(time.Hour)}, at)
		}},
		{"token", func() error { return db.CreateToken(ctx, tok, randomBytes(32)) }},
		{"checkpoint", func() error {
			return db.SealTx(ctx, func(tx audit.SealTx) error { return tx.InsertCheckpoint(ctx, newCheckpoint(3, at)) })
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name != "username" {
				if err := tt.write(); err != nil {
					t.Fatalf("first write = %v; want nil", err)
				}
			}
			checkCode(t, "second write", tt.write(), fidelis.ECONFLICT)
		})
	}
	// A leaf index is used once.
	more := []audit.Entry{auditEntry(at, "", "a"), auditEntry(at, "", "b")}
	if err := db.RecordAudit(ctx, more...); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	// Entries recorded outside a transaction may be held back for a moment (the SQLite
	// audit journal): sealing sees them once synced.
	if err := db.SyncAudit(ctx); err != nil {
		t.Fatalf("SyncAudit = %v", err)
	}
	err := db.SealTx(ctx, func(tx audit.SealTx) error {
		pending, err := tx.UnsealedEntries(ctx, 10)
		if err != nil {
			return err
		}
		if err := tx.SetLeaves(ctx, []audit.Leaf{{ID: pending[0].ID, Index: 0, Hash: randomBytes(32)}}); err != nil {
			return err
		}
		return tx.SetLeaves(ctx, []audit.Leaf{{ID: pending[1].ID, Index: 0, Hash: randomBytes(32)}})
	})
	checkCode(t, "SetLeaves(same index twice)", err, fidelis.ECONFLICT)
}

func auditEntry(at time.Time, subject, action string) audit.Entry {
	return audit.Entry{UID: fidelis.NewID("aud", at), At: at, Actor: "user:usr_a", Action: action, Subject: subject,
		Purpose: fidelis.PurposeCustomerService, Fields: []fidelis.Field{fidelis.FieldGivenName, fidelis.FieldEmail},
		Outcome: audit.OutcomeOK, Reason: "", RequestID: "req-1", MAC: randomBytes(32)}
}

// checkEntry compares an entry read whole (sealing, verification) with want.
func checkEntry(t *testing.T, got, want audit.Entry) {
	t.Helper()
	checkShown(t, got, want)
	if !bytes.Equal(got.MAC, want.MAC) {
		t.Errorf("entry %d MAC = %x; want %x", got.ID, got.MAC, want.MAC)
	}
}

// checkShown compares what an access log shows of an entry (everything but its
// authentication code and Merkle leaf) with want.
func checkShown(t *testing.T, got, want audit.Entry) {
	t.Helper()
	if got.UID != want.UID || got.Actor != want.Actor || got.Action != want.Action || got.Subject != want.Subject ||
		got.Purpose != want.Purpose || !slices.Equal(got.Fields, want.Fields) || got.Outcome != want.Outcome ||
		got.Reason != want.Reason || got.RequestID != want.RequestID {
		t.Errorf("entry %d = %+v; want %+v", got.ID, got, want)
	}
	checkTime(t, "entry.At", got.At, want.At)
}

// scanned returns every entry of the log as ScanEntries reads it (whole).
func scanned(t *testing.T, db *store.DB) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := db.ScanEntries(t.Context(), func(e *audit.Entry) error { out = append(out, *e); return nil }); err != nil {
		t.Fatalf("ScanEntries = %v", err)
	}
	return out
}

func accessLog(t *testing.T, db *store.DB, subject string, before int64, limit int) []audit.Entry {
	t.Helper()
	return read(t, db, func(tx customer.Tx) ([]audit.Entry, error) { return tx.AccessLog(t.Context(), subject, before, limit) })
}

func testAuditAccessLog(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	x, y := string(fidelis.NewCustomerID(at)), string(fidelis.NewCustomerID(at))
	var ofX []audit.Entry
	for i := range 5 {
		e := auditEntry(at.Add(time.Duration(i)*time.Second+time.Duration(i)*time.Nanosecond), x, fmt.Sprintf("customer.act%d", i))
		switch i {
		case 1:
			e.Fields, e.Outcome, e.Reason = nil, audit.OutcomeDenied, "purpose_not_granted"
		case 2:
			e.Purpose, e.RequestID = "", ""
		}
		ofX = append(ofX, e)
	}
	// Entries come through both paths: RecordAudit outside and AppendAudit inside a
	// domain transaction.
	if err := db.RecordAudit(t.Context(), ofX[0], auditEntry(at, y, "customer.read")); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	mustWrite(t, db, func(tx customer.Tx) error { return tx.AppendAudit(t.Context(), ofX[1], ofX[2]) })
	if err := db.RecordAudit(t.Context(), ofX[3], auditEntry(at, y, "customer.read"), ofX[4]); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}

	all := accessLog(t, db, x, 0, 100)
	if len(all) != 5 {
		t.Fatalf("len(AccessLog(x, 0, 100)) = %d; want 5", len(all))
	}
	// Newest first by ID. Entries of one path keep their order; between the two paths the
	// store may order them differently (on SQLite, entries recorded outside a transaction
	// are journaled and take their IDs when ingested).
	byUID := map[string]audit.Entry{}
	for i, e := range all {
		byUID[e.UID] = e
		if i > 0 && e.ID >= all[i-1].ID {
			t.Errorf("AccessLog IDs = %d after %d; want strictly decreasing", e.ID, all[i-1].ID)
		}
	}
	for _, want := range ofX {
		checkShown(t, byUID[want.UID], want)
	}
	for _, pair := range [][2]int{{0, 3}, {3, 4}, {1, 2}} {
		if a, b := byUID[ofX[pair[0]].UID], byUID[ofX[pair[1]].UID]; a.ID >= b.ID {
			t.Errorf("entry %s has ID %d, not below %d of %s recorded after it on the same path", a.Action, a.ID, b.ID, b.Action)
		}
	}
	// The whole entries, authentication code included, round-trip; none has a leaf yet.
	whole := map[string]audit.Entry{}
	for _, e := range scanned(t, db) {
		whole[e.UID] = e
		if e.LeafIndex != nil || len(e.LeafHash) != 0 {
			t.Errorf("entry %d leaf = %v, %x; want none before sealing", e.ID, e.LeafIndex, e.LeafHash)
		}
	}
	for _, want := range ofX {
		checkEntry(t, whole[want.UID], want)
	}
	if got := byUID[ofX[1].UID].Fields; got != nil {
		t.Errorf("Fields of an entry recorded without fields = %#v; want nil", got)
	}
	idsOf := func(es []audit.Entry) []int64 {
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	want := idsOf(all)
	for _, tt := range []struct {
		name   string
		before int64
		limit  int
		want   []int64
	}{
		{"newest", 0, 2, want[:2]},
		{"negative cursor is the start", -1, 2, want[:2]},
		{"page two", want[1], 2, want[2:4]},
		{"last page", want[3], 2, want[4:]},
		{"past the oldest", want[4], 2, nil},
		{"cursor between entries", want[0] - 1, 1, want[1:2]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := idsOf(accessLog(t, db, x, tt.before, tt.limit)); !slices.Equal(got, tt.want) {
				t.Errorf("AccessLog(x, %d, %d) = %v; want %v", tt.before, tt.limit, got, tt.want)
			}
		})
	}
	if got := accessLog(t, db, y, 0, 100); len(got) != 2 {
		t.Errorf("len(AccessLog(y)) = %d; want 2", len(got))
	}
	if got := accessLog(t, db, "cus_nobody", 0, 100); len(got) != 0 {
		t.Errorf("len(AccessLog(nobody)) = %d; want 0", len(got))
	}
}

// testAuditConcurrent: concurrent RecordAudit calls (which the store may commit together)
// each return once their own entries are stored, every entry exactly once.
func testAuditConcurrent(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	const callers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, callers*each)
	var mu sync.Mutex
	want := map[string]bool{}
	for c := range callers {
		wg.Go(func() {
			for i := range each {
				e := auditEntry(at, "group", fmt.Sprintf("c%d-%d", c, i))
				if i%3 == 0 {
					e2 := auditEntry(at, "group", fmt.Sprintf("c%d-%d-bis", c, i))
					if err := db.RecordAudit(context.Background(), e, e2); err != nil {
						errs <- err
						continue
					}
					mu.Lock()
					want[e2.UID] = true
					mu.Unlock()
				} else if err := db.RecordAudit(context.Background(), e); err != nil {
					errs <- err
					continue
				}
				// Durable when RecordAudit returns: readable at once.
				var got []audit.Entry
				err := customers(db).Read(context.Background(), func(tx customer.Tx) (err error) {
					got, err = tx.AccessLog(context.Background(), "group", 0, 1000)
					return err
				})
				if err != nil || !slices.ContainsFunc(got, func(g audit.Entry) bool { return g.UID == e.UID }) {
					errs <- fmt.Errorf("entry %s not readable after RecordAudit returned (%v)", e.Action, err)
				}
				mu.Lock()
				want[e.UID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent RecordAudit: %v", err)
	}
	got := accessLog(t, db, "group", 0, 1000)
	seen := map[string]int{}
	for _, e := range got {
		seen[e.UID]++
	}
	if len(got) != len(want) || len(seen) != len(want) {
		t.Errorf("entries stored = %d (%d distinct); want %d, each once", len(got), len(seen), len(want))
	}
	if err := db.RecordAudit(t.Context()); err != nil {
		t.Errorf("RecordAudit() with no entries = %v; want nil", err)
	}
}

func testAuditAfterClose(t *testing.T, open Opener) {
	db := open(t)
	if err := db.RecordAudit(t.Context(), auditEntry(baseTime(), "s", "before")); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- db.RecordAudit(ctx, auditEntry(baseTime(), "s", "after")) }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("RecordAudit after Close = nil; want an error")
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("RecordAudit after Close did not return; want an error at once")
	}
	if got := accessLog(t, open(t), "s", 0, 10); len(got) != 1 || got[0].Action != "before" {
		t.Errorf("entries after reopen = %d; want only the one recorded before Close", len(got))
	}
}

func newCheckpoint(size int64, at time.Time) *audit.Checkpoint {
	root, err := merkle.HashFromBytes(randomBytes(merkle.HashSize))
	if err != nil {
		panic(err)
	}
	return &audit.Checkpoint{Size: size, Root: root, At: at, KeyID: fmt.Sprintf("key-%d", size), Signature: randomBytes(64), Frontier: randomBytes(int(32*size%200) + 8)}
}

func checkCheckpoint(t *testing.T, what string, got, want *audit.Checkpoint) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s = nil; want checkpoint %d", what, want.Size)
	}
	if got.Size != want.Size || got.Root != want.Root || got.KeyID != want.KeyID || !bytes.Equal(got.Signature, want.Signature) || !bytes.Equal(got.Frontier, want.Frontier) {
		t.Errorf("%s = %+v; want %+v (byte-exact)", what, got, want)
	}
	checkTime(t, what+".At", got.At, want.At)
}

func testAuditSealTx(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	var es []audit.Entry
	for i := range 3 {
		es = append(es, auditEntry(at.Add(time.Duration(i)*time.Second), "s", fmt.Sprint("a", i)))
	}
	if err := db.RecordAudit(ctx, es...); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	cp2, cp3 := newCheckpoint(2, at.Add(time.Minute+7*time.Nanosecond)), newCheckpoint(3, at.Add(2*time.Minute))
	hashes := [][]byte{randomBytes(32), randomBytes(32), randomBytes(32)}
	var first []audit.Entry
	// Entries recorded outside a transaction may be held back for a moment (the SQLite
	// audit journal): sealing sees them once synced.
	if err := db.SyncAudit(ctx); err != nil {
		t.Fatalf("SyncAudit = %v", err)
	}
	err := db.SealTx(ctx, func(tx audit.SealTx) error {
		latest, err := tx.LatestCheckpoint(ctx)
		if err != nil || latest != nil {
			return fmt.Errorf("LatestCheckpoint on an empty log = %v, %v; want nil, nil", latest, err)
		}
		if first, err = tx.UnsealedEntries(ctx, 2); err != nil {
			return err
		}
		for i, e := range first {
			if err := tx.SetLeaves(ctx, []audit.Leaf{{ID: e.ID, Index: int64(i), Hash: hashes[i]}}); err != nil {
				return err
			}
		}
		return tx.InsertCheckpoint(ctx, cp2)
	})
	if err != nil {
		t.Fatalf("SealTx(first batch) = %v", err)
	}
	if len(first) != 2 {
		t.Fatalf("UnsealedEntries(2) = %d entries; want 2", len(first))
	}
	checkEntry(t, first[0], es[0])
	checkEntry(t, first[1], es[1])
	if n, err := db.PendingAudit(ctx); err != nil || n != 1 {
		t.Errorf("PendingAudit = %d, %v; want 1, nil", n, err)
	}
	err = db.SealTx(ctx, func(tx audit.SealTx) error {
		latest, err := tx.LatestCheckpoint(ctx)
		if err != nil {
			return err
		}
		checkCheckpoint(t, "LatestCheckpoint after one batch", latest, cp2)
		rest, err := tx.UnsealedEntries(ctx, 10)
		if err != nil {
			return err
		}
		if len(rest) != 1 {
			return fmt.Errorf("UnsealedEntries after one batch = %d entries; want 1", len(rest))
		}
		checkEntry(t, rest[0], es[2])
		if err := tx.SetLeaves(ctx, []audit.Leaf{{ID: rest[0].ID, Index: 2, Hash: hashes[2]}}); err != nil {
			return err
		}
		return tx.InsertCheckpoint(ctx, cp3)
	})
	if err != nil {
		t.Fatalf("SealTx(second batch) = %v", err)
	}
	latest, err := db.LatestCheckpoint(ctx)
	if err != nil {
		t.Fatalf("LatestCheckpoint = %v", err)
	}
	checkCheckpoint(t, "LatestCheckpoint", latest, cp3)
	cps, err := db.Checkpoints(ctx)
	if err != nil || len(cps) != 2 {
		t.Fatalf("Checkpoints = %d, %v; want 2, nil", len(cps), err)
	}
	checkCheckpoint(t, "Checkpoints[0]", &cps[0], cp2)
	checkCheckpoint(t, "Checkpoints[1]", &cps[1], cp3)
	if n, err := db.PendingAudit(ctx); err != nil || n != 0 {
		t.Errorf("PendingAudit = %d, %v; want 0, nil", n, err)
	}
	for i, e := range scanned(t, db) {
		if e.LeafIndex == nil || *e.LeafIndex != int64(i) || !bytes.Equal(e.LeafHash, hashes[i]) {
			t.Errorf("entry %d leaf = %v, %x; want %d, %x", e.ID, e.LeafIndex, e.LeafHash, i, hashes[i])
		}
	}
	// A leaf for an entry that does not exist is refused, with the whole batch.
	more := auditEntry(at, "", "c")
	if err := db.RecordAudit(ctx, more); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	if err := db.SyncAudit(ctx); err != nil {
		t.Fatalf("SyncAudit = %v", err)
	}
	err = db.SealTx(ctx, func(tx audit.SealTx) error {
		pending, err := tx.UnsealedEntries(ctx, 10)
		if err != nil || len(pending) != 1 {
			return fmt.Errorf("UnsealedEntries = %d, %v; want 1", len(pending), err)
		}
		return tx.SetLeaves(ctx, []audit.Leaf{{ID: pending[0].ID, Index: 3, Hash: randomBytes(32)}, {ID: pending[0].ID + 1000, Index: 4, Hash: randomBytes(32)}})
	})
	if err == nil {
		t.Errorf("SetLeaves(an entry that does not exist) = nil; want an error")
	}
	if n, err := db.PendingAudit(ctx); err != nil || n != 1 {
		t.Errorf("unsealed entries after the refused batch = %d, %v; want 1, untouched", n, err)
	}
}

func testAuditScanOrder(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	var es []audit.Entry
	for i := range 6 {
		es = append(es, auditEntry(at, "s", fmt.Sprint("e", i)))
	}
	if err := db.RecordAudit(ctx, es...); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	stored := accessLog(t, db, "s", 0, 10)
	slices.Reverse(stored) // by id
	// Leaves are assigned out of id order, as after a repair or a concurrent batch: the
	// scan follows the leaves, then the pending entries by id.
	leaves := map[int]int64{3: 0, 0: 1, 4: 2, 1: 3}
	err := db.SealTx(ctx, func(tx audit.SealTx) error {
		for i, idx := range leaves {
			if err := tx.SetLeaves(ctx, []audit.Leaf{{ID: stored[i].ID, Index: idx, Hash: randomBytes(32)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("SealTx = %v", err)
	}
	var got []string
	if err := db.ScanEntries(ctx, func(e *audit.Entry) error { got = append(got, e.Action); return nil }); err != nil {
		t.Fatalf("ScanEntries = %v", err)
	}
	if want := []string{"e3", "e0", "e4", "e1", "e2", "e5"}; !slices.Equal(got, want) {
		t.Errorf("ScanEntries order = %v; want %v", got, want)
	}
	stop := errors.New("stop")
	n := 0
	err = db.ScanEntries(ctx, func(*audit.Entry) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ScanEntries(fn failing) = %v after %d calls; want the error of fn after 1", err, n)
	}
	n = 0
	err = db.ScanEntries(ctx, func(e *audit.Entry) error {
		if n++; e.LeafIndex == nil {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 5 {
		t.Errorf("ScanEntries(fn failing on the first pending) = %v after %d calls; want the error of fn after 5", err, n)
	}
}

func testAuditSealerVerify(t *testing.T, open Opener) {
	db := open(t)
	clock := baseTime()
	now := func() time.Time { clock = clock.Add(1234567 * time.Nanosecond); return clock }
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(randomBytes(32), now)
	ctx := fidelis.WithActor(t.Context(), fidelis.SystemActor("storetest", fidelis.RoleAdmin))
	record := func(n int) {
		for i := range n {
			e := l.Entry(ctx, audit.Event{Action: "customer.read", Subject: fmt.Sprint("cus_", i), Purpose: fidelis.PurposeCustomerService,
				Fields: []fidelis.Field{fidelis.FieldEmail, fidelis.FieldCity}})
			if err := db.RecordAudit(ctx, e); err != nil {
				t.Fatalf("RecordAudit = %v", err)
			}
		}
	}
	record(5)
	s := &audit.Sealer{Store: db, Key: priv, Now: now, BatchSize: 2}
	if n, err := s.SealAll(ctx); err != nil || n != 5 {
		t.Fatalf("SealAll = %d, %v; want 5, nil", n, err)
	}
	record(2)
	rep, err := audit.Verify(ctx, db, l, pub)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	if !rep.OK() || rep.Entries != 7 || rep.Sealed != 5 || rep.Pending != 2 || rep.Checkpoints != 3 || rep.Size != 5 {
		t.Errorf("Verify = %+v; want OK, 7 entries, 5 sealed, 2 pending, 3 checkpoints, size 5", rep)
	}
	if n, err := s.SealAll(ctx); err != nil || n != 2 {
		t.Fatalf("SealAll = %d, %v; want 2, nil", n, err)
	}
	if rep, err := audit.Verify(ctx, db, l, pub); err != nil || !rep.OK() || rep.Sealed != 7 || rep.Pending != 0 {
		t.Errorf("Verify after sealing all = %+v, %v; want OK with 7 sealed", rep, err)
	}
}

func testAuthUsers(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	if n, err := db.CountUsers(ctx); err != nil || n != 0 {
		t.Errorf("CountUsers(empty) = %d, %v; want 0, nil", n, err)
	}
	ann := &auth.User{ID: fidelis.NewID("usr", at), Username: "ann", Role: fidelis.RoleDPO, Locale: "en", CreatedAt: at}
	bob := &auth.User{ID: fidelis.NewID("usr", at), Username: "bob", Role: fidelis.RoleSales, Locale: "fr", CreatedAt: at.Add(time.Second), Disabled: true}
	const annHash = "$argon2id$v=19$m=8192,t=1,p=1$c2FsdA$aGFzaA"
	if err := db.CreateUser(ctx, ann, annHash); err != nil {
		t.Fatalf("CreateUser(ann) = %v", err)
	}
	if err := db.CreateUser(ctx, bob, "$argon2id$bob"); err != nil {
		t.Fatalf("CreateUser(bob) = %v", err)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 2 {
		t.Errorf("CountUsers = %d, %v; want 2, nil", n, err)
	}
	for _, want := range []*auth.User{ann, bob} {
		got, hash, err := db.UserByUsername(ctx, want.Username)
		if err != nil {
			t.Fatalf("UserByUsername(%q) = %v", want.Username, err)
		}
		if got.ID != want.ID || got.Username != want.Username || got.Role != want.Role || got.Locale != want.Locale || got.Disabled != want.Disabled {
			t.Errorf("UserByUsername(%q) = %+v; want %+v", want.Username, got, want)
		}
		checkTime(t, "User.CreatedAt", got.CreatedAt, want.CreatedAt)
		if want == ann && hash != annHash {
			t.Errorf("UserByUsername(ann) hash = %q; want %q", hash, annHash)
		}
	}
	for _, name := range []string{"carol", "Ann", ""} {
		_, _, err := db.UserByUsername(ctx, name)
		checkCode(t, fmt.Sprintf("UserByUsername(%q)", name), err, fidelis.ENOTFOUND)
	}
	sess := &auth.Session{User: ann, CSRFToken: "csrf", Purpose: fidelis.PurposeDataProtection, ExpiresAt: at.Add(time.Hour)}
	h := randomBytes(32)
	if err := db.CreateSession(ctx, h, sess, at); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	if err := db.SetPassword(ctx, ann.ID, "$argon2id$new"); err != nil {
		t.Fatalf("SetPassword = %v", err)
	}
	if _, hash, _ := db.UserByUsername(ctx, "ann"); hash != "$argon2id$new" {
		t.Errorf("hash after SetPassword = %q; want %q", hash, "$argon2id$new")
	}
	_, err := db.SessionByHash(ctx, h, at)
	checkCode(t, "SessionByHash after SetPassword", err, fidelis.ENOTFOUND)
}

func testAuthSessions(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	u := &auth.User{ID: fidelis.NewID("usr", at), Username: "sam", Role: fidelis.RoleSupport, Locale: "fr", CreatedAt: at}
	if err := db.CreateUser(ctx, u, "$argon2id$x"); err != nil {
		t.Fatalf("CreateUser = %v", err)
	}
	expires := at.Add(time.Hour + 3*time.Nanosecond)
	s := &auth.Session{User: u, CSRFToken: "csrf-1", Purpose: fidelis.PurposeCustomerService, ExpiresAt: expires}
	h := randomBytes(32)
	if err := db.CreateSession(ctx, h, s, at); err != nil {
		t.Fatalf("CreateSession = %v", err)
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		code fidelis.Code
	}{
		{"at creation", at, ""},
		{"just before expiry", fidelis.UTC(expires).Add(-time.Microsecond), ""},
		{"at expiry", fidelis.UTC(expires), fidelis.ENOTFOUND},
		{"after expiry", expires.Add(time.Hour), fidelis.ENOTFOUND},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.SessionByHash(ctx, h, tt.now)
			checkCode(t, "SessionByHash", err, tt.code)
			if err != nil {
				return
			}
			if got.User.ID != u.ID || got.User.Role != u.Role || got.User.Username != u.Username || got.CSRFToken != s.CSRFToken || got.Purpose != s.Purpose {
				t.Errorf("SessionByHash = %+v (user %+v); want %+v", got, got.User, s)
			}
			checkTime(t, "Session.ExpiresAt", got.ExpiresAt, expires)
		})
	}
	_, err := db.SessionByHash(ctx, randomBytes(32), at)
	checkCode(t, "SessionByHash(unknown)", err, fidelis.ENOTFOUND)

	if err := db.SetSessionPurpose(ctx, h, fidelis.PurposeSales); err != nil {
		t.Fatalf("SetSessionPurpose = %v", err)
	}
	if got, err := db.SessionByHash(ctx, h, at); err != nil || got.Purpose != fidelis.PurposeSales {
		t.Errorf("SessionByHash after SetSessionPurpose = %v, %v; want purpose %q", got, err, fidelis.PurposeSales)
	}

	// Creating a session sweeps the expired ones: a session that ended before the new one
	// began is gone even when asked about at an earlier time.
	h2 := randomBytes(32)
	if err := db.CreateSession(ctx, h2, &auth.Session{User: u, CSRFToken: "csrf-2", Purpose: fidelis.PurposeCustomerService, ExpiresAt: at.Add(3 * time.Hour)}, at.Add(2*time.Hour)); err != nil {
		t.Fatalf("CreateSession(second) = %v", err)
	}
	_, err = db.SessionByHash(ctx, h, at)
	checkCode(t, "SessionByHash(swept)", err, fidelis.ENOTFOUND)
	if _, err := db.SessionByHash(ctx, h2, at.Add(2*time.Hour)); err != nil {
		t.Errorf("SessionByHash(second) = %v; want nil", err)
	}
	if err := db.DeleteSession(ctx, h2); err != nil {
		t.Fatalf("DeleteSession = %v", err)
	}
	_, err = db.SessionByHash(ctx, h2, at.Add(2*time.Hour))
	checkCode(t, "SessionByHash(deleted)", err, fidelis.ENOTFOUND)
}

func testAuthTokens(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	t1 := &auth.Token{ID: fidelis.NewID("tok", at), Name: "shop", Role: fidelis.RoleSales, CreatedAt: at}
	t2 := &auth.Token{ID: fidelis.NewID("tok", at.Add(time.Millisecond)), Name: "", Role: fidelis.RoleAuditor, CreatedAt: at.Add(time.Millisecond)}
	h1 := randomBytes(32)
	for _, tk := range []*auth.Token{t1, t2} {
		if err := db.CreateToken(ctx, tk, h1); err != nil {
			t.Fatalf("CreateToken(%s) = %v", tk.ID, err)
		}
	}
	got, hash, err := db.TokenByID(ctx, t1.ID)
	if err != nil {
		t.Fatalf("TokenByID = %v", err)
	}
	if got.ID != t1.ID || got.Name != t1.Name || got.Role != t1.Role || got.RevokedAt != nil || !bytes.Equal(hash, h1) {
		t.Errorf("TokenByID = %+v, %x; want %+v, %x", got, hash, t1, h1)
	}
	checkTime(t, "Token.CreatedAt", got.CreatedAt, t1.CreatedAt)
	_, _, err = db.TokenByID(ctx, fidelis.NewID("tok", at))
	checkCode(t, "TokenByID(unknown)", err, fidelis.ENOTFOUND)

	list, err := db.Tokens(ctx)
	if err != nil || len(list) != 2 || list[0].ID != t2.ID || list[1].ID != t1.ID {
		t.Fatalf("Tokens = %v, %v; want [%s %s] (newest first)", list, err, t2.ID, t1.ID)
	}

	revoked := at.Add(time.Minute + 999*time.Nanosecond)
	if err := db.RevokeToken(ctx, t1.ID, revoked); err != nil {
		t.Fatalf("RevokeToken = %v", err)
	}
	got, _, err = db.TokenByID(ctx, t1.ID)
	if err != nil || got.RevokedAt == nil {
		t.Fatalf("TokenByID(revoked) = %+v, %v; want RevokedAt set", got, err)
	}
	checkTime(t, "Token.RevokedAt", *got.RevokedAt, revoked)
	checkCode(t, "RevokeToken(again)", db.RevokeToken(ctx, t1.ID, revoked.Add(time.Hour)), fidelis.ENOTFOUND)
	checkCode(t, "RevokeToken(unknown)", db.RevokeToken(ctx, fidelis.NewID("tok", at), revoked), fidelis.ENOTFOUND)
	if got, _, _ := db.TokenByID(ctx, t1.ID); got == nil || got.RevokedAt == nil || !got.RevokedAt.Equal(fidelis.UTC(revoked)) {
		t.Errorf("RevokedAt after a second revoke = %v; want the first revocation %v", got.RevokedAt, fidelis.UTC(revoked))
	}
	if list, _ := db.Tokens(ctx); len(list) != 2 || list[1].RevokedAt == nil || list[0].RevokedAt != nil {
		t.Errorf("Tokens after revoke = %+v; want the older one revoked", list)
	}
}

// testRewrapQueries covers the statements key rotation runs (app.RotateKeys): find the
// keys not under the active KEK, replace one only if it is still under the old KEK.
func testRewrapQueries(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	var recs []*customer.Record
	for i, kek := range []string{"kek_old", "kek_new", "kek_old", "kek_older"} {
		r := newRecord(at.Add(time.Duration(i)*time.Millisecond), fidelis.FieldGivenName)
		r.Key.KEKID = kek
		recs = append(recs, r)
	}
	mustInsert(t, db, recs...)
	if n, err := db.CountCustomers(ctx); err != nil || n != 4 {
		t.Errorf("CountCustomers = %d, %v; want 4", n, err)
	}
	count := func() int64 {
		var n int64
		if err := db.ReadTx(ctx, func(tx *store.Tx) (err error) { n, err = tx.CountKeysNotUnder(ctx, "kek_new"); return err }); err != nil {
			t.Fatalf("CountKeysNotUnder = %v", err)
		}
		return n
	}
	if n := count(); n != 3 {
		t.Errorf("CountKeysNotUnder(kek_new) = %d; want 3", n)
	}
	var seen []fidelis.CustomerID
	err := db.WriteTx(ctx, func(tx *store.Tx) error {
		return tx.WrappedKeys(ctx, "kek_new", 2, func(id fidelis.CustomerID, w vault.WrappedDEK) error {
			seen = append(seen, id)
			if w.KEKID == "kek_new" {
				return fmt.Errorf("WrappedKeys yielded %s under the active KEK", id)
			}
			return tx.ReplaceWrappedKey(ctx, id, w.KEKID, vault.WrappedDEK{KEKID: "kek_new", Wrapped: append([]byte("rewrapped-"), w.Wrapped...)})
		})
	})
	if err != nil {
		t.Fatalf("WrappedKeys/ReplaceWrappedKey = %v", err)
	}
	if want := []fidelis.CustomerID{recs[0].ID, recs[2].ID}; !slices.Equal(seen, want) {
		t.Errorf("WrappedKeys(limit 2) = %v; want %v (by customer ID)", seen, want)
	}
	for _, r := range recs[:3] {
		got := mustGet(t, db, r.ID)
		if got.Key.KEKID != "kek_new" {
			t.Errorf("key of %s after rewrap = %s; want kek_new", r.ID, got.Key.KEKID)
		}
		if r.Key.KEKID != "kek_new" && !bytes.Equal(got.Key.Wrapped, append([]byte("rewrapped-"), r.Key.Wrapped...)) {
			t.Errorf("wrapped key of %s after rewrap = %x; want the replacement", r.ID, got.Key.Wrapped)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("CountKeysNotUnder(kek_new) after rewrapping two = %d; want 1", n)
	}
	// A replacement whose old KEK no longer holds (rewrapped or erased meanwhile) writes
	// nothing.
	err = db.WriteTx(ctx, func(tx *store.Tx) error {
		if err := tx.ReplaceWrappedKey(ctx, recs[0].ID, "kek_old", vault.WrappedDEK{KEKID: "kek_x", Wrapped: []byte("stale")}); err != nil {
			return err
		}
		return tx.ReplaceWrappedKey(ctx, fidelis.NewCustomerID(at), "kek_old", vault.WrappedDEK{KEKID: "kek_x", Wrapped: []byte("gone")})
	})
	if err != nil {
		t.Fatalf("ReplaceWrappedKey(stale) = %v; want nil", err)
	}
	if got := mustGet(t, db, recs[0].ID); got.Key.KEKID != "kek_new" {
		t.Errorf("key after a stale replacement = %s; want kek_new kept", got.Key.KEKID)
	}
}

func checkRegistry(t *testing.T, what string, got, want *privacy.Registry) {
	t.Helper()
	gp, wp := got.Purposes(), want.Purposes()
	if len(gp) != len(wp) {
		t.Fatalf("%s: %d purposes; want %d", what, len(gp), len(wp))
	}
	for i := range wp {
		if !reflect.DeepEqual(*gp[i], *wp[i]) {
			t.Errorf("%s: purpose %d = %+v; want %+v", what, i, *gp[i], *wp[i])
		}
	}
	if !reflect.DeepEqual(got.Roles(), want.Roles()) {
		t.Errorf("%s: roles = %+v; want %+v", what, got.Roles(), want.Roles())
	}
}

func testRegistry(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	first, err := db.LoadRegistry(t.Context(), at)
	if err != nil {
		t.Fatalf("LoadRegistry(first) = %v", err)
	}
	checkRegistry(t, "LoadRegistry(first)", first, privacy.DefaultRegistry())
	second, err := db.LoadRegistry(t.Context(), at.Add(time.Hour))
	if err != nil {
		t.Fatalf("LoadRegistry(second) = %v", err)
	}
	checkRegistry(t, "LoadRegistry(second)", second, first)
	db.Close()
	again, err := open(t).LoadRegistry(t.Context(), at.Add(2*time.Hour))
	if err != nil {
		t.Fatalf("LoadRegistry(after reopen) = %v", err)
	}
	checkRegistry(t, "LoadRegistry(after reopen)", again, first)
}

func testReopen(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	r := newRecord(at, fidelis.CustomerFields()...)
	e := auditEntry(at, string(r.ID), "customer.create")
	mustWrite(t, db, func(tx customer.Tx) error {
		if err := tx.InsertCustomer(t.Context(), r); err != nil {
			return err
		}
		return tx.AppendAudit(t.Context(), e)
	})
	if err := db.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	db = open(t)
	checkRecord(t, mustGet(t, db, r.ID), r)
	if got := accessLog(t, db, string(r.ID), 0, 10); len(got) != 1 {
		t.Fatalf("AccessLog after reopen = %d entries; want 1", len(got))
	} else {
		checkShown(t, got[0], e)
	}
	if got := scanned(t, db); len(got) != 1 {
		t.Fatalf("ScanEntries after reopen = %d entries; want 1", len(got))
	} else {
		checkEntry(t, got[0], e)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping after reopen = %v", err)
	}
}
