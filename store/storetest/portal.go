package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/selfservice"
	"github.com/fidelis/fidelis/store"
)

func portalStore(db *store.DB) store.Portal { return store.Portal{DB: db} }

func portalWrite(t *testing.T, db *store.DB, fn func(selfservice.Tx) error) error {
	t.Helper()
	return portalStore(db).Write(t.Context(), fn)
}

func mustPortalWrite(t *testing.T, db *store.DB, fn func(selfservice.Tx) error) {
	t.Helper()
	if err := portalWrite(t, db, fn); err != nil {
		t.Fatalf("Portal.Write = %v; want nil", err)
	}
}

func portalLink(t *testing.T, db *store.DB, hash []byte) (l *selfservice.Link, err error) {
	t.Helper()
	err = portalStore(db).Read(t.Context(), func(tx selfservice.Tx) (err error) { l, err = tx.PortalLink(t.Context(), hash); return err })
	return l, err
}

func portalSession(t *testing.T, db *store.DB, hash []byte, now time.Time) (s *selfservice.Session, err error) {
	t.Helper()
	err = portalStore(db).Read(t.Context(), func(tx selfservice.Tx) (err error) { s, err = tx.PortalSession(t.Context(), hash, now); return err })
	return s, err
}

// testPortalLinks: a sign-in link round-trips, is used once only (also between concurrent
// transactions), is counted per customer since a time, and needs an existing customer;
// unknown hashes are ENOTFOUND and duplicates ECONFLICT.
func testPortalLinks(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	r := newRecord(at, fidelis.FieldEmail)
	mustInsert(t, db, r)
	l := &selfservice.Link{TokenHash: randomBytes(32), CustomerID: r.ID, CreatedAt: at, ExpiresAt: at.Add(15 * time.Minute)}
	mustPortalWrite(t, db, func(tx selfservice.Tx) error { return tx.InsertPortalLink(t.Context(), l) })
	got, err := portalLink(t, db, l.TokenHash)
	if err != nil {
		t.Fatalf("PortalLink = %v", err)
	}
	if !bytes.Equal(got.TokenHash, l.TokenHash) || got.CustomerID != r.ID || !got.CreatedAt.Equal(at) || !got.ExpiresAt.Equal(l.ExpiresAt) || got.UsedAt != nil {
		t.Fatalf("PortalLink = %+v; want %+v", got, l)
	}
	_, err = portalLink(t, db, randomBytes(32))
	checkCode(t, "PortalLink(unknown)", err, fidelis.ENOTFOUND)
	err = portalWrite(t, db, func(tx selfservice.Tx) error { return tx.InsertPortalLink(t.Context(), l) })
	checkCode(t, "InsertPortalLink(duplicate)", err, fidelis.ECONFLICT)
	orphan := &selfservice.Link{TokenHash: randomBytes(32), CustomerID: fidelis.NewCustomerID(at), CreatedAt: at, ExpiresAt: at.Add(time.Minute)}
	err = portalWrite(t, db, func(tx selfservice.Tx) error { return tx.InsertPortalLink(t.Context(), orphan) })
	checkCode(t, "InsertPortalLink(no such customer)", err, fidelis.ECONFLICT)

	// Concurrent uses: exactly one wins.
	used := at.Add(time.Minute)
	var wg sync.WaitGroup
	results := make(chan bool, 4)
	for range 4 {
		wg.Go(func() {
			_ = portalWrite(t, db, func(tx selfservice.Tx) error {
				ok, err := tx.UsePortalLink(t.Context(), l.TokenHash, used)
				results <- ok
				return err
			})
		})
	}
	wg.Wait()
	close(results)
	wins := 0
	for ok := range results {
		if ok {
			wins++
		}
	}
	if wins != 1 {
		t.Fatalf("UsePortalLink succeeded %d times among 4 concurrent uses; want exactly 1", wins)
	}
	if got, _ := portalLink(t, db, l.TokenHash); got.UsedAt == nil || !got.UsedAt.Equal(used) {
		t.Fatalf("UsedAt after use = %v; want %v", got.UsedAt, used)
	}

	second := &selfservice.Link{TokenHash: randomBytes(32), CustomerID: r.ID, CreatedAt: at.Add(10 * time.Minute), ExpiresAt: at.Add(25 * time.Minute)}
	mustPortalWrite(t, db, func(tx selfservice.Tx) error { return tx.InsertPortalLink(t.Context(), second) })
	for _, tt := range []struct {
		since time.Time
		want  int
	}{{at, 2}, {at.Add(time.Microsecond), 1}, {at.Add(10 * time.Minute), 1}, {at.Add(11 * time.Minute), 0}} {
		var n int
		mustPortalWrite(t, db, func(tx selfservice.Tx) (err error) {
			n, err = tx.CountPortalLinks(t.Context(), r.ID, tt.since)
			return err
		})
		if n != tt.want {
			t.Errorf("CountPortalLinks(since %v) = %d; want %d", tt.since, n, tt.want)
		}
	}
}

// testPortalSessions: a session is found until it expires, deleted on sign-out, purged
// once expired, and goes with its customer on erasure (links too).
func testPortalSessions(t *testing.T, open Opener) {
	db := open(t)
	at := fidelis.UTC(baseTime())
	r := newRecord(at, fidelis.FieldEmail)
	mustInsert(t, db, r)
	s := &selfservice.Session{CustomerID: r.ID, CSRFToken: "csrf-token-1", CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	h1, h2, h3 := randomBytes(32), randomBytes(32), randomBytes(32)
	mustPortalWrite(t, db, func(tx selfservice.Tx) error {
		if err := tx.InsertPortalSession(t.Context(), h1, s); err != nil {
			return err
		}
		old := *s
		old.ExpiresAt = at.Add(time.Minute)
		if err := tx.InsertPortalSession(t.Context(), h2, &old); err != nil {
			return err
		}
		return tx.InsertPortalLink(t.Context(), &selfservice.Link{TokenHash: h3, CustomerID: r.ID, CreatedAt: at, ExpiresAt: at.Add(time.Minute)})
	})
	got, err := portalSession(t, db, h1, at.Add(59*time.Minute))
	if err != nil || got.CustomerID != r.ID || got.CSRFToken != s.CSRFToken || !got.CreatedAt.Equal(at) || !got.ExpiresAt.Equal(s.ExpiresAt) {
		t.Fatalf("PortalSession = %+v, %v; want %+v", got, err, s)
	}
	_, err = portalSession(t, db, h1, at.Add(time.Hour))
	checkCode(t, "PortalSession(at expiry)", err, fidelis.ENOTFOUND)
	_, err = portalSession(t, db, randomBytes(32), at)
	checkCode(t, "PortalSession(unknown)", err, fidelis.ENOTFOUND)

	var purged int
	mustPortalWrite(t, db, func(tx selfservice.Tx) (err error) {
		purged, err = tx.PurgePortal(t.Context(), at.Add(2*time.Minute))
		return err
	})
	if purged != 2 {
		t.Errorf("PurgePortal = %d rows; want 2 (the expired session and link)", purged)
	}
	if _, err := portalLink(t, db, h3); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		t.Errorf("expired link after purge: %v; want ENOTFOUND", err)
	}
	if _, err := portalSession(t, db, h1, at); err != nil {
		t.Fatalf("live session after purge: %v", err)
	}

	mustPortalWrite(t, db, func(tx selfservice.Tx) error { return tx.DeletePortalSession(t.Context(), h1) })
	_, err = portalSession(t, db, h1, at)
	checkCode(t, "PortalSession(after sign-out)", err, fidelis.ENOTFOUND)

	// Erasure takes the customer's sessions and links with it.
	h4, h5 := randomBytes(32), randomBytes(32)
	mustPortalWrite(t, db, func(tx selfservice.Tx) error {
		if err := tx.InsertPortalSession(t.Context(), h4, s); err != nil {
			return err
		}
		return tx.InsertPortalLink(t.Context(), &selfservice.Link{TokenHash: h5, CustomerID: r.ID, CreatedAt: at, ExpiresAt: at.Add(time.Hour)})
	})
	mustWrite(t, db, func(tx customer.Tx) error { _, err := tx.DeleteCustomer(t.Context(), r.ID); return err })
	_, err = portalSession(t, db, h4, at)
	checkCode(t, "PortalSession(erased customer)", err, fidelis.ENOTFOUND)
	_, err = portalLink(t, db, h5)
	checkCode(t, "PortalLink(erased customer)", err, fidelis.ENOTFOUND)
}
