package storetest

import (
	"bytes"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/vault"
)

func rightsStore(db *store.DB) store.Rights { return store.Rights{DB: db} }

func mustRightsWrite(t *testing.T, db *store.DB, fn func(rights.Tx) error) {
	t.Helper()
	if err := rightsStore(db).Write(t.Context(), fn); err != nil {
		t.Fatalf("Rights.Write = %v; want nil", err)
	}
}

func newCase(at time.Time, id fidelis.CustomerID, due string) *rights.Case {
	d, _ := time.Parse(rights.DateLayout, due)
	return &rights.Case{ID: fidelis.NewID("rrq", at), CustomerID: id, Kind: rights.KindObjection, Channel: rights.ChannelPost,
		Status: rights.StatusReceived, ReceivedAt: at, OriginalDue: d, Due: d, Purposes: []fidelis.Purpose{fidelis.PurposeSales},
		CreatedAt: at, CreatedBy: "system:test", UpdatedAt: at, Version: 1}
}

func getCase(t *testing.T, db *store.DB, id string) (c *rights.Case, err error) {
	t.Helper()
	err = rightsStore(db).Read(t.Context(), func(tx rights.Tx) (err error) { c, err = tx.GetRightsRequest(t.Context(), id); return err })
	return c, err
}

func checkCase(t *testing.T, got, want *rights.Case) {
	t.Helper()
	w := *want
	w.ReceivedAt, w.CreatedAt, w.UpdatedAt = fidelis.UTC(w.ReceivedAt), fidelis.UTC(w.CreatedAt), fidelis.UTC(w.UpdatedAt)
	if !reflect.DeepEqual(got, &w) {
		t.Errorf("case = %+v\nwant %+v", got, &w)
	}
}

// testRightsRoundTrip: a case with every part set comes back equal; updates check the
// version; unknown IDs are ENOTFOUND.
func testRightsRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	c := newCase(at, fidelis.NewCustomerID(at), "2026-04-14")
	mustRightsWrite(t, db, func(tx rights.Tx) error { return tx.InsertRightsRequest(t.Context(), c) })
	got, err := getCase(t, db, c.ID)
	if err != nil {
		t.Fatalf("GetRightsRequest = %v", err)
	}
	checkCase(t, got, c)

	eff := at.Add(35 * 24 * time.Hour)
	c2 := *c
	c2.Status, c2.Version, c2.UpdatedAt = rights.StatusCompleted, 2, at.Add(time.Hour)
	c2.Due, _ = time.Parse(rights.DateLayout, "2026-06-14")
	c2.Identity = &rights.Identity{Method: rights.IdentityDocument, Result: rights.IdentityVerified, By: "user:usr_1", At: at}
	c2.Extension = &rights.Extension{Months: 2, Reasons: []rights.ExtensionReason{rights.ExtendComplexity}, ToldAt: at, ToldVia: rights.ChannelPost, At: at, By: "user:usr_1"}
	c2.Refusal = &rights.Refusal{Reasons: []rights.RefusalReason{rights.RefuseExcessive}, Channel: rights.ChannelEmail, At: at, By: "user:usr_1"}
	c2.Answer = &rights.Answer{Outcome: rights.OutcomeErased, Channel: rights.ChannelPost, At: at, By: "user:usr_1", Ref: "era_x", ErasureEffectiveAt: &eff}
	mustRightsWrite(t, db, func(tx rights.Tx) error { return tx.UpdateRightsRequest(t.Context(), &c2) })
	got, _ = getCase(t, db, c.ID)
	checkCase(t, got, &c2)

	stale := c2 // version 2 again: the stored one is 2, not 1
	err = rightsStore(db).Write(t.Context(), func(tx rights.Tx) error { return tx.UpdateRightsRequest(t.Context(), &stale) })
	checkCode(t, "UpdateRightsRequest(stale version)", err, fidelis.EPRECONDITION)
	_, err = getCase(t, db, fidelis.NewID("rrq", at))
	checkCode(t, "GetRightsRequest(unknown)", err, fidelis.ENOTFOUND)
	err = rightsStore(db).Write(t.Context(), func(tx rights.Tx) error { return tx.InsertRightsRequest(t.Context(), c) })
	checkCode(t, "InsertRightsRequest(same id)", err, fidelis.ECONFLICT)
	mustRightsWrite(t, db, func(tx rights.Tx) error {
		return tx.AppendRightsEvent(t.Context(), &rights.Event{ID: fidelis.NewID("evt", at), At: at, Type: "rights_request.received", CaseID: c.ID, CustomerID: c.CustomerID, Kind: c.Kind, Status: c.Status})
	})
}

// testRightsList: cases sort by due date then ID; filters and the cursor combine.
func testRightsList(t *testing.T, open Opener) {
	db := open(t)
	at := baseTime()
	alice, bob := fidelis.NewCustomerID(at), fidelis.NewCustomerID(at)
	var all []*rights.Case
	for i, due := range []string{"2026-04-30", "2026-04-14", "2026-05-02", "2026-04-14", "2026-04-01"} {
		c := newCase(at.Add(time.Duration(i)*time.Millisecond), alice, due)
		if i%2 == 1 {
			c.CustomerID, c.Kind, c.Status, c.Purposes = bob, rights.KindAccess, rights.StatusCompleted, nil
		}
		all = append(all, c)
	}
	mustRightsWrite(t, db, func(tx rights.Tx) error {
		for _, c := range all {
			if err := tx.InsertRightsRequest(t.Context(), c); err != nil {
				return err
			}
		}
		return nil
	})
	list := func(f rights.Filter, after *rights.Cursor, limit int) []string {
		var out []*rights.Case
		if err := rightsStore(db).Read(t.Context(), func(tx rights.Tx) (err error) {
			out, err = tx.ListRightsRequests(t.Context(), f, after, limit)
			return err
		}); err != nil {
			t.Fatalf("ListRightsRequests = %v", err)
		}
		ids := make([]string, len(out))
		for i, c := range out {
			ids[i] = c.ID
		}
		return ids
	}
	byDue := []string{all[4].ID, all[1].ID, all[3].ID, all[0].ID, all[2].ID}
	if got := list(rights.Filter{}, nil, 10); !slices.Equal(got, byDue) {
		t.Errorf("List(all) = %v; want by due date then ID %v", got, byDue)
	}
	if got := list(rights.Filter{}, &rights.Cursor{Due: all[1].Due, ID: all[1].ID}, 2); !slices.Equal(got, byDue[2:4]) {
		t.Errorf("List(after second) = %v; want %v", got, byDue[2:4])
	}
	d, _ := time.Parse(rights.DateLayout, "2026-04-30")
	for _, tt := range []struct {
		name string
		f    rights.Filter
		want []string
	}{
		{"status", rights.Filter{Status: []rights.Status{rights.StatusReceived, rights.StatusInProgress}}, []string{all[4].ID, all[0].ID, all[2].ID}},
		{"kind", rights.Filter{Kind: rights.KindAccess}, []string{all[1].ID, all[3].ID}},
		{"due before", rights.Filter{DueBefore: d}, byDue[:3]},
		{"customer", rights.Filter{CustomerID: bob}, []string{all[1].ID, all[3].ID}},
		{"all filters", rights.Filter{Status: []rights.Status{rights.StatusReceived}, Kind: rights.KindObjection, DueBefore: d, CustomerID: alice}, []string{all[4].ID}},
	} {
		if got := list(tt.f, nil, 10); !slices.Equal(got, tt.want) {
			t.Errorf("List(%s) = %v; want %v", tt.name, got, tt.want)
		}
	}
	// HasCustomer sees customers, not cases.
	r := newRecord(at, fidelis.FieldEmail)
	mustInsert(t, db, r)
	for id, want := range map[fidelis.CustomerID]bool{r.ID: true, alice: false} {
		var got bool
		rightsStore(db).Read(t.Context(), func(tx rights.Tx) (err error) { got, err = tx.HasCustomer(t.Context(), id); return err })
		if got != want {
			t.Errorf("HasCustomer(%s) = %v; want %v", id, got, want)
		}
	}
}

// testSuppressionList: entries are found by kind and hash until they expire, a second
// listing keeps the later expiry, and the purge deletes expired entries only.
func testSuppressionList(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	h1, h2 := randomBytes(vault.BlindIndexSize), randomBytes(vault.BlindIndexSize)
	put := func(kind string, h []byte, exp time.Time) {
		mustWrite(t, db, func(tx customer.Tx) error {
			return tx.PutSuppression(t.Context(), &customer.Suppression{Kind: kind, Index: h, Reason: customer.SuppressErasure, CreatedAt: at, ExpiresAt: exp})
		})
	}
	hit := func(kind string, h []byte, now time.Time) bool {
		return read(t, db, func(tx customer.Tx) (bool, error) { return tx.Suppressed(t.Context(), kind, h, now) })
	}
	put("email", h1, at.Add(48*time.Hour))
	put("phone", h2, at.Add(24*time.Hour))
	put("email", h1, at.Add(time.Hour)) // earlier: keeps 48 h
	for _, tt := range []struct {
		kind string
		h    []byte
		now  time.Time
		want bool
	}{
		{"email", h1, at, true},
		{"phone", h1, at, false}, // kind is part of the key
		{"email", bytes.Clone(h2), at, false},
		{"phone", h2, at.Add(23 * time.Hour), true},
		{"phone", h2, at.Add(24 * time.Hour), false}, // expired at its instant
		{"email", h1, at.Add(47 * time.Hour), true},
	} {
		if got := hit(tt.kind, tt.h, tt.now); got != tt.want {
			t.Errorf("Suppressed(%s, %x, +%v) = %v; want %v", tt.kind, tt.h[:4], tt.now.Sub(at), got, tt.want)
		}
	}
	put("phone", h2, at.Add(72*time.Hour)) // later: extends
	if !hit("phone", h2, at.Add(50*time.Hour)) {
		t.Error("a later listing did not extend the expiry")
	}
	var n int
	mustWrite(t, db, func(tx customer.Tx) (err error) {
		n, err = tx.PurgeSuppressions(t.Context(), at.Add(48*time.Hour))
		return err
	})
	if n != 1 || hit("email", h1, at) || !hit("phone", h2, at) {
		t.Errorf("PurgeSuppressions(+48h) = %d; want the e-mail entry gone and the phone kept", n)
	}
}
