package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/vault"
)

func recipients(db *store.DB) store.Recipients { return store.Recipients{DB: db} }

func newRecipient(at time.Time, name string) *recipient.Recipient {
	return &recipient.Recipient{
		ID: fidelis.NewID("rcp", at), Version: 1, Name: name, Kind: recipient.KindProcessor,
		Purposes: []fidelis.Purpose{fidelis.PurposeLoyalty, fidelis.PurposeSales}, Country: "US", Safeguard: recipient.SafeguardSCC,
		ContractRef: "DPA-1", ContactName: "DPO", ContactEmail: "dpo@example.com", Active: true,
		Endpoint: "https://hooks.example.com/f?x=1", Events: []string{recipient.EventCustomerCreated},
		Secret:    vault.Sealed{KEKID: fidelis.NewID("kek", at), Data: randomBytes(60)},
		CreatedAt: fidelis.UTC(at), UpdatedAt: fidelis.UTC(at),
	}
}

func mustRecipientWrite(t *testing.T, db *store.DB, fn func(recipient.Tx) error) {
	t.Helper()
	if err := recipients(db).Write(t.Context(), fn); err != nil {
		t.Fatalf("Recipients.Write = %v; want nil", err)
	}
}

func testRecipientRoundTrip(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := baseTime()
	r := newRecipient(at, "Sous-traitant")
	inactive := newRecipient(at.Add(time.Millisecond), "Inactif")
	inactive.Active, inactive.Endpoint, inactive.Events, inactive.Safeguard, inactive.Country = false, "", nil, recipient.SafeguardNone, "FR"
	mustRecipientWrite(t, db, func(tx recipient.Tx) error {
		if err := tx.InsertRecipient(ctx, r); err != nil {
			return err
		}
		return tx.InsertRecipient(ctx, inactive)
	})
	var got *recipient.Recipient
	err := recipients(db).Read(ctx, func(tx recipient.Tx) (err error) { got, err = tx.GetRecipient(ctx, r.ID); return err })
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("GetRecipient = %+v, %v; want %+v", got, err, r)
	}
	// Duplicate name; missing; version check.
	err = recipients(db).Write(ctx, func(tx recipient.Tx) error { return tx.InsertRecipient(ctx, newRecipient(at, "Sous-traitant")) })
	checkCode(t, "InsertRecipient(duplicate name)", err, fidelis.ECONFLICT)
	err = recipients(db).Read(ctx, func(tx recipient.Tx) error { _, err := tx.GetRecipient(ctx, "rcp_missing"); return err })
	checkCode(t, "GetRecipient(missing)", err, fidelis.ENOTFOUND)
	r.Version, r.Name, r.Active = 2, "Renommé", false
	mustRecipientWrite(t, db, func(tx recipient.Tx) error { return tx.UpdateRecipient(ctx, r) })
	err = recipients(db).Write(ctx, func(tx recipient.Tx) error { return tx.UpdateRecipient(ctx, r) }) // stored is 2, not 1
	checkCode(t, "UpdateRecipient(stale)", err, fidelis.EPRECONDITION)
	var list, active []*recipient.Recipient
	err = recipients(db).Read(ctx, func(tx recipient.Tx) (err error) {
		if list, err = tx.ListRecipients(ctx, "", 10); err != nil {
			return err
		}
		active, err = tx.ActiveRecipients(ctx)
		return err
	})
	if err != nil || len(list) != 2 || list[0].ID != inactive.ID || list[1].ID != r.ID || list[1].Name != "Renommé" {
		t.Fatalf("ListRecipients = %v, %v; want newest first, with the change", list, err)
	}
	if len(active) != 0 {
		t.Fatalf("ActiveRecipients = %v; want none (both inactive)", active)
	}
	mustRecipientWrite(t, db, func(tx recipient.Tx) error { return tx.DeleteRecipient(ctx, inactive.ID) })
	err = recipients(db).Write(ctx, func(tx recipient.Tx) error { return tx.DeleteRecipient(ctx, inactive.ID) })
	checkCode(t, "DeleteRecipient(again)", err, fidelis.ENOTFOUND)
}

// appendEvents writes n events about subject to the outbox, one millisecond apart.
func appendEvents(t *testing.T, db *store.DB, n int, typ string) []string {
	t.Helper()
	var ids []string
	mustWrite(t, db, func(tx customer.Tx) error {
		for i := range n {
			at := fidelis.UTC(baseTime().Add(time.Duration(i) * time.Millisecond))
			e := &customer.Event{ID: fidelis.NewID("evt", at), At: at, Type: typ, Subject: string(fidelis.NewCustomerID(at)), Fields: []fidelis.Field{fidelis.FieldCity}}
			ids = append(ids, e.ID)
			if err := tx.AppendEvent(t.Context(), e); err != nil {
				return err
			}
		}
		return nil
	})
	return ids
}

func eventIDs(es []recipient.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

// Outbox claims are disjoint: a transaction never gets an event another holds or has
// dispatched, and events come oldest first.
func testOutboxClaims(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	checkWork := func(want bool) {
		t.Helper()
		var got bool
		err := recipients(db).Read(ctx, func(tx recipient.Tx) (err error) { got, err = tx.WorkPending(ctx, baseTime()); return err })
		if err != nil || got != want {
			t.Errorf("WorkPending = %v, %v; want %v", got, err, want)
		}
	}
	checkWork(false)
	ids := appendEvents(t, db, 6, recipient.EventCustomerUpdated)
	checkWork(true)
	claimed := make(chan struct{})
	var first, second []recipient.Event
	var wg sync.WaitGroup
	var err1 error
	wg.Go(func() {
		err1 = recipients(db).Write(context.Background(), func(tx recipient.Tx) error {
			var err error
			if first, err = tx.PendingEvents(context.Background(), 3); err != nil {
				close(claimed)
				return err
			}
			close(claimed)
			time.Sleep(150 * time.Millisecond) // hold the claim while the other transaction runs
			var ids []string
			for _, e := range first {
				ids = append(ids, e.ID)
			}
			return tx.MarkEventsDispatched(context.Background(), ids, baseTime())
		})
	})
	<-claimed
	err2 := recipients(db).Write(ctx, func(tx recipient.Tx) (err error) {
		if second, err = tx.PendingEvents(ctx, 3); err != nil {
			return err
		}
		var ids []string
		for _, e := range second {
			ids = append(ids, e.ID)
		}
		return tx.MarkEventsDispatched(ctx, ids, baseTime())
	})
	wg.Wait()
	if err1 != nil || err2 != nil {
		t.Fatalf("claims = %v, %v; want nil", err1, err2)
	}
	if got := eventIDs(first); !slices.Equal(got, ids[:3]) {
		t.Errorf("first claim = %v; want the 3 oldest %v", got, ids[:3])
	}
	if got := eventIDs(second); !slices.Equal(got, ids[3:]) {
		t.Errorf("second claim = %v; want the 3 others %v (never an event the first holds)", got, ids[3:])
	}
	var rest []recipient.Event
	mustRecipientWrite(t, db, func(tx recipient.Tx) (err error) { rest, err = tx.PendingEvents(ctx, 10); return err })
	if len(rest) != 0 {
		t.Errorf("pending after both claims = %v; want none", eventIDs(rest))
	}
	checkWork(false)
	if len(first) > 0 && (first[0].Type != recipient.EventCustomerUpdated || len(first[0].Payload) == 0 || !first[0].At.Equal(fidelis.UTC(baseTime()))) {
		t.Errorf("claimed event = %+v; want its type, time and payload", first[0])
	}
}

// Deliveries: one per event and recipient, due ones oldest first, saved only under the
// lease that claimed them, attempts kept in order, listed per recipient and per subject.
func testDeliveries(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	at := fidelis.UTC(baseTime())
	r := newRecipient(at, "Destinataire")
	mustRecipientWrite(t, db, func(tx recipient.Tx) error { return tx.InsertRecipient(ctx, r) })
	subject := string(fidelis.NewCustomerID(at))
	var ds []*recipient.Delivery
	for i := range 3 {
		due := at.Add(time.Duration(2-i) * time.Second) // the last is due first
		ds = append(ds, &recipient.Delivery{ID: fidelis.NewID("dlv", at.Add(time.Duration(i)*time.Millisecond)), EventID: fmt.Sprintf("evt_%d", i),
			RecipientID: r.ID, EventType: recipient.EventCustomerErased, Subject: subject, EventAt: at, Body: []byte(`{"id":"x"}`),
			Required: true, State: recipient.StatePending, NextAttempt: &due, CreatedAt: at})
	}
	mustRecipientWrite(t, db, func(tx recipient.Tx) error {
		for _, d := range ds {
			if err := tx.InsertDelivery(ctx, d); err != nil {
				return err
			}
		}
		dup := *ds[0]
		dup.ID = fidelis.NewID("dlv", at.Add(time.Hour))
		return tx.InsertDelivery(ctx, &dup) // same event and recipient: ignored
	})
	var due []*recipient.Delivery
	mustRecipientWrite(t, db, func(tx recipient.Tx) (err error) {
		due, err = tx.DueDeliveries(ctx, at.Add(time.Second), 10)
		return err
	})
	if len(due) != 2 || due[0].ID != ds[2].ID || due[1].ID != ds[1].ID {
		t.Fatalf("DueDeliveries = %v; want the 2 due, earliest due first", due)
	}
	if !reflect.DeepEqual(due[0], ds[2]) {
		t.Errorf("delivery round trip = %+v; want %+v", due[0], ds[2])
	}
	// Claim under a lease; a save under another lease does nothing.
	d := due[0]
	until := at.Add(time.Minute)
	d.Lease, d.NextAttempt = "lse_a", &until
	mustRecipientWrite(t, db, func(tx recipient.Tx) error {
		if ok, err := tx.SaveDelivery(ctx, d, ""); err != nil || !ok {
			return fmt.Errorf("claim: %v, %v", ok, err)
		}
		if ok, err := tx.SaveDelivery(ctx, d, "lse_other"); err != nil || ok {
			return fmt.Errorf("save under another lease: %v, %v; want false", ok, err)
		}
		return nil
	})
	d.Attempts, d.State, d.LastAttempt, d.LastStatus, d.LastError, d.DeliveredAt, d.NextAttempt, d.Lease = 1, recipient.StateDelivered, &at, 204, "", &at, nil, ""
	mustRecipientWrite(t, db, func(tx recipient.Tx) error {
		if ok, err := tx.SaveDelivery(ctx, d, "lse_a"); err != nil || !ok {
			return fmt.Errorf("save under its lease: %v, %v", ok, err)
		}
		next := at.Add(time.Second)
		if err := tx.InsertAttempt(ctx, &recipient.Attempt{DeliveryID: d.ID, N: 1, At: at, StatusCode: 503, ErrorClass: "http_status", Duration: 1500 * time.Microsecond, NextAttempt: &next}); err != nil {
			return err
		}
		return tx.InsertAttempt(ctx, &recipient.Attempt{DeliveryID: d.ID, N: 2, At: at, StatusCode: 204, Duration: time.Millisecond})
	})
	var got *recipient.Delivery
	var attempts []recipient.Attempt
	var byRecipient, byState, bySubject []*recipient.Delivery
	var n int
	err := recipients(db).Read(ctx, func(tx recipient.Tx) (err error) {
		if got, err = tx.GetDelivery(ctx, d.ID); err != nil {
			return err
		}
		if attempts, err = tx.Attempts(ctx, d.ID); err != nil {
			return err
		}
		if byRecipient, err = tx.Deliveries(ctx, r.ID, "", "", 2); err != nil {
			return err
		}
		if byState, err = tx.Deliveries(ctx, r.ID, recipient.StateDelivered, "", 10); err != nil {
			return err
		}
		if bySubject, err = tx.SubjectDeliveries(ctx, subject, 10); err != nil {
			return err
		}
		n, err = tx.CountDeliveries(ctx, r.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("GetDelivery = %+v; want %+v", got, d)
	}
	if len(attempts) != 2 || attempts[0].N != 1 || attempts[0].Duration != 1500*time.Microsecond || attempts[0].NextAttempt == nil || attempts[1].NextAttempt != nil || attempts[1].StatusCode != 204 {
		t.Errorf("Attempts = %+v; want both, in order, with durations and next attempt", attempts)
	}
	if len(byRecipient) != 2 || byRecipient[0].ID != ds[2].ID || byRecipient[1].ID != ds[1].ID {
		t.Errorf("Deliveries(limit 2) = %v; want the 2 newest", byRecipient)
	}
	if len(byState) != 1 || byState[0].ID != d.ID {
		t.Errorf("Deliveries(delivered) = %v; want %s", byState, d.ID)
	}
	if len(bySubject) != 3 || n != 3 {
		t.Errorf("SubjectDeliveries = %d, CountDeliveries = %d; want 3 and 3 (the duplicate ignored)", len(bySubject), n)
	}
	var page []*recipient.Delivery
	err = recipients(db).Read(ctx, func(tx recipient.Tx) (err error) { page, err = tx.Deliveries(ctx, r.ID, "", ds[1].ID, 10); return err })
	if err != nil || len(page) != 1 || page[0].ID != ds[0].ID {
		t.Errorf("Deliveries(before %s) = %v, %v; want the oldest", ds[1].ID, page, err)
	}
	err = recipients(db).Read(ctx, func(tx recipient.Tx) error { _, err := tx.GetDelivery(ctx, "dlv_missing"); return err })
	checkCode(t, "GetDelivery(missing)", err, fidelis.ENOTFOUND)
}

func testCustomerState(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	kept, erased := newRecord(baseTime(), fidelis.FieldCity), newRecord(baseTime(), fidelis.FieldCity)
	mustInsert(t, db, kept, erased)
	mustWrite(t, db, func(tx customer.Tx) error {
		if _, err := tx.DeleteCustomer(ctx, erased.ID); err != nil {
			return err
		}
		return tx.InsertErasure(ctx, newErasure(erased.ID, baseTime()))
	})
	for _, tt := range []struct {
		id   fidelis.CustomerID
		want recipient.CustomerState
	}{
		{kept.ID, recipient.CustomerState{Exists: true}},
		{erased.ID, recipient.CustomerState{Erased: true}},
		{fidelis.NewCustomerID(baseTime()), recipient.CustomerState{}},
	} {
		var got recipient.CustomerState
		err := recipients(db).Read(ctx, func(tx recipient.Tx) (err error) { got, err = tx.CustomerState(ctx, tt.id); return err })
		if err != nil || got != tt.want {
			t.Errorf("CustomerState(%s) = %+v, %v; want %+v", tt.id, got, err, tt.want)
		}
	}
}
