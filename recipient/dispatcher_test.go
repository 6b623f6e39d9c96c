package recipient_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/recipient"
)

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// testApp opens an installation on a settable clock with a fast retry policy.
func testApp(t *testing.T, b fidelistest.Backend, clk *clock, p recipient.Policy) *app.App {
	return fidelistest.MustApp(t, b, fidelistest.Options{Now: clk.Now, Mutate: func(c *app.Config) { c.WebhookPolicy = p }})
}

func TestDispatcher_RetriesWithExponentialBackoff_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := newClock()
		p := recipient.Policy{MaxAttempts: 10, Base: time.Minute, Cap: 3 * time.Minute, Timeout: 5 * time.Second}
		a := testApp(t, b, clk, p)
		rc := newReceiver(t, 4) // fails the first 4 requests
		rc.now = clk.Now
		r, secret := mustRecipient(t, a, input("CRM Lyon", rc.srv.URL+"/hook"))
		var outcomes []string
		a.Dispatcher.Observe = func(o string) { outcomes = append(outcomes, o) }
		id := mustCustomer(t, a, "Lyon")
		mustUpdate(t, a, id, "Nantes")

		// customer.created is not subscribed: only the rectification is delivered.
		st := mustRunOnce(t, a.Dispatcher)
		if st.Events != 2 || st.Failed != 1 {
			t.Fatalf("first pass = %+v; want 2 events fanned out and 1 failed attempt", st)
		}
		ds := deliveries(t, a, r.ID)
		if len(ds) != 1 || ds[0].EventType != recipient.EventCustomerUpdated || !ds[0].Required {
			t.Fatalf("deliveries = %v; want one required customer.updated", ds)
		}
		// Not due yet: nothing is attempted.
		if st := mustRunOnce(t, a.Dispatcher); st != (recipient.Stats{}) {
			t.Fatalf("pass before the backoff elapsed = %+v; want nothing done", st)
		}
		// Each wait is in the upper half of Base·2^(n-1), capped: 1 min, 2 min, 3 min (cap), 3 min.
		wantMax := []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 3 * time.Minute}
		for n := 1; n <= 4; n++ {
			d := deliveries(t, a, r.ID)[0]
			if d.State != recipient.StatePending || d.Attempts != n || d.NextAttempt == nil || d.LastStatus != 503 || d.LastError != "http_status" {
				t.Fatalf("after attempt %d: state %s, attempts %d, next %v, last %d %q; want pending, %d, a next attempt, 503 http_status",
					n, d.State, d.Attempts, d.NextAttempt, d.LastStatus, d.LastError, n)
			}
			wait := d.NextAttempt.Sub(*d.LastAttempt)
			if wait < wantMax[n-1]/2 || wait > wantMax[n-1] {
				t.Errorf("backoff after attempt %d = %v; want within [%v, %v]", n, wait, wantMax[n-1]/2, wantMax[n-1])
			}
			clk.Set(*d.NextAttempt)
			mustRunOnce(t, a.Dispatcher)
		}
		d, attempts, err := a.Recipients.Delivery(adminCtx(), r.ID, deliveries(t, a, r.ID)[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if d.State != recipient.StateDelivered || d.Attempts != 5 || d.DeliveredAt == nil || d.NextAttempt != nil {
			t.Fatalf("after the receiver recovered: %+v; want delivered at the 5th attempt", d)
		}
		if len(attempts) != 5 || attempts[4].StatusCode != 204 || attempts[4].ErrorClass != "" || attempts[0].StatusCode != 503 || attempts[0].NextAttempt == nil {
			t.Fatalf("attempts = %+v; want 4 × 503 with a next attempt, then 204", attempts)
		}
		if want := []string{"failed", "failed", "failed", "failed", "delivered"}; !slices.Equal(outcomes, want) {
			t.Errorf("observed outcomes = %v; want %v", outcomes, want)
		}
		// Every try carried the same event, signed with the recipient's secret at its time.
		reqs := rc.requests()
		if len(reqs) != 5 {
			t.Fatalf("receiver got %d requests; want 5", len(reqs))
		}
		for _, req := range reqs {
			body := mustVerify(t, req, secret)
			if body.Type != recipient.EventCustomerUpdated || body.Subject != string(id) || !slices.Equal(body.Fields, []string{"city"}) {
				t.Errorf("body = %+v; want customer.updated of %s with fields [city]", body, id)
			}
		}
		if n := len(auditEntries(t, a, recipient.ActDelivered)); n != 1 {
			t.Errorf("%d webhook.delivered audit entries; want 1", n)
		}
	})
}

func TestDispatcher_DeadAfterMaxAttemptsThenRedeliver_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := newClock()
		a := testApp(t, b, clk, recipient.Policy{MaxAttempts: 3, Base: time.Second, Cap: time.Minute, Timeout: 5 * time.Second})
		rc := newReceiver(t, -1) // always 503
		rc.now = clk.Now
		r, secret := mustRecipient(t, a, input("Entrepôt Nord", rc.srv.URL))
		id := mustCustomer(t, a, "Lille")
		mustEvent(t, a, recipient.EventCustomerErased, id)
		for range 3 {
			mustRunOnce(t, a.Dispatcher)
			clk.Set(clk.Now().Add(time.Minute))
		}
		mustRunOnce(t, a.Dispatcher)
		ds := deliveries(t, a, r.ID)
		if len(ds) != 1 || ds[0].State != recipient.StateDead || ds[0].Attempts != 3 || ds[0].NextAttempt != nil {
			t.Fatalf("after 3 failures: %+v; want one dead delivery with 3 attempts and no next attempt", ds)
		}
		if n := len(rc.requests()); n != 3 {
			t.Fatalf("receiver got %d requests; want exactly MaxAttempts = 3", n)
		}
		if es := auditEntries(t, a, recipient.ActDead); len(es) != 1 || es[0].Subject != string(id) {
			t.Fatalf("webhook.dead audit entries = %v; want one about %s", es, id)
		}
		// Filtered listing.
		if page, err := a.Recipients.Deliveries(adminCtx(), r.ID, recipient.StateDead, "", 10); err != nil || len(page.Items) != 1 {
			t.Fatalf("Deliveries(dead) = %v, %v; want the dead one", page, err)
		}
		if page, err := a.Recipients.Deliveries(adminCtx(), r.ID, recipient.StatePending, "", 10); err != nil || len(page.Items) != 0 {
			t.Fatalf("Deliveries(pending) = %v, %v; want none", page, err)
		}

		// The receiver is fixed; an operator redelivers: a fresh budget, due now.
		rc.setFail(0)
		d, err := a.Recipients.Redeliver(adminCtx(), r.ID, ds[0].ID)
		if err != nil || d.State != recipient.StatePending {
			t.Fatalf("Redeliver = %+v, %v; want pending", d, err)
		}
		if st := mustRunOnce(t, a.Dispatcher); st.Delivered != 1 {
			t.Fatalf("pass after redelivery = %+v; want 1 delivered", st)
		}
		reqs := rc.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests after redelivery; want 1", len(reqs))
		}
		mustVerify(t, reqs[0], secret)
		if _, err := a.Recipients.Redeliver(adminCtx(), r.ID, ds[0].ID); fidelis.ErrorCode(err) != fidelis.ECONFLICT {
			t.Errorf("Redeliver(delivered) = %v; want ECONFLICT", err)
		}
		if _, err := a.Recipients.Redeliver(adminCtx(), r.ID, "dlv_nope"); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("Redeliver(unknown) = %v; want ENOTFOUND", err)
		}
		if n := len(auditEntries(t, a, recipient.ActRedeliver)); n != 1 {
			t.Errorf("%d recipient.redeliver audit entries; want 1", n)
		}
	})
}

func TestDispatcher_Art19EventsReachEveryRecipient_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := newClock()
		a := testApp(t, b, clk, recipient.Policy{})
		subscribed, plain, inactive := newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 0)
		rs, _ := mustRecipient(t, a, input("Abonné", subscribed.srv.URL, recipient.EventCustomerCreated))
		rp, _ := mustRecipient(t, a, input("Sans abonnement", plain.srv.URL))
		in := input("Inactif", inactive.srv.URL)
		in.Active = ptr(false)
		mustRecipient(t, a, in)
		mustRecipient(t, a, input("Sans webhook", ""))

		id := mustCustomer(t, a, "Rennes")
		mustUpdate(t, a, id, "Brest")
		mustEvent(t, a, recipient.EventCustomerRestricted, id)
		mustEvent(t, a, recipient.EventCustomerRestrictionLifted, id)
		if _, err := a.Customers.Erase(adminCtx(), fidelis.PurposeDataProtection, id); err != nil {
			t.Fatal(err)
		}
		mustRunOnce(t, a.Dispatcher)
		types := func(rc *receiver) []string {
			var out []string
			for _, r := range rc.requests() {
				out = append(out, r.header.Get("Fidelis-Event-Type"))
			}
			slices.Sort(out)
			return out
		}
		art19 := []string{recipient.EventCustomerErased, recipient.EventCustomerRestricted, recipient.EventCustomerRestrictionLifted, recipient.EventCustomerUpdated}
		slices.Sort(art19)
		if got := types(plain); !slices.Equal(got, art19) {
			t.Errorf("recipient without subscriptions got %v; want every art. 19 event %v", got, art19)
		}
		want := append([]string{recipient.EventCustomerCreated}, art19...)
		slices.Sort(want)
		if got := types(subscribed); !slices.Equal(got, want) {
			t.Errorf("recipient subscribed to customer.created got %v; want %v", got, want)
		}
		if got := types(inactive); len(got) != 0 {
			t.Errorf("inactive recipient got %v; want nothing", got)
		}
		for _, d := range deliveries(t, a, rs.ID) {
			if d.Required != recipient.Art19(d.EventType) {
				t.Errorf("delivery of %s: required = %v; want %v", d.EventType, d.Required, recipient.Art19(d.EventType))
			}
		}
		if n := len(deliveries(t, a, rp.ID)); n != 4 {
			t.Errorf("%d deliveries to the unsubscribed recipient; want 4", n)
		}
		// A second pass finds nothing new: every event was fanned out once.
		if st := mustRunOnce(t, a.Dispatcher); st != (recipient.Stats{}) {
			t.Errorf("second pass = %+v; want nothing", st)
		}
	})
}

// Several serve nodes run dispatchers on one database: each event reaches each recipient
// once. On PostgreSQL the claims use FOR UPDATE SKIP LOCKED; on SQLite the single writer.
func TestDispatcher_TwoNodesNeverDeliverTwice_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a1 := fidelistest.MustApp(t, b)
		a2 := fidelistest.MustApp(t, b, fidelistest.Options{Mutate: func(c *app.Config) {
			c.DataDir, c.DBURL = a1.Config.DataDir, a1.Config.DBURL // same database and key file
		}})
		rc := newReceiver(t, 0)
		rc.delay = 2 * time.Millisecond
		r, secret := mustRecipient(t, a1, input("Caisse centrale", rc.srv.URL))
		const events = 60
		id := mustCustomer(t, a1, "Paris")
		for i := range events {
			mustEvent(t, a1, recipient.EventCustomerRestricted, id)
			_ = i
		}
		var delivered atomic.Int64
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		for _, a := range []*app.App{a1, a2, a1, a2} {
			// Each node's store, with small batches so that the nodes interleave.
			src := a.Dispatcher
			d := &recipient.Dispatcher{Store: src.Store, Vault: src.Vault, Audit: src.Audit, Sender: src.Sender, Now: src.Now,
				Logger: src.Logger, BatchSize: 5, Concurrency: 3}
			wg.Go(func() {
				for ctx.Err() == nil && delivered.Load() < events {
					st, err := d.RunOnce(ctx)
					if err != nil {
						t.Errorf("RunOnce: %v", err)
						return
					}
					delivered.Add(int64(st.Delivered))
				}
			})
		}
		wg.Wait()
		if ctx.Err() != nil {
			t.Fatalf("only %d of %d events delivered before the deadline", delivered.Load(), events)
		}
		seen := map[string]int{}
		for _, req := range rc.requests() {
			body := mustVerify(t, req, secret)
			seen[body.ID]++
		}
		if len(seen) != events {
			t.Errorf("receiver saw %d distinct events; want %d", len(seen), events)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("event %s delivered %d times; want once", id, n)
			}
		}
		if got := delivered.Load(); got != events {
			t.Errorf("dispatchers report %d deliveries; want %d", got, events)
		}
		if n := len(deliveries(t, a2, r.ID)); n != events {
			t.Errorf("%d delivery rows; want %d (one per event and recipient)", n, events)
		}
	})
}

func TestDispatcher_BodyHoldsNoPersonalValue_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := newClock()
		logs := &fidelistest.SyncBuffer{}
		a := fidelistest.MustApp(t, b, fidelistest.Options{Now: clk.Now, Logs: logs})
		rc := newReceiver(t, 1)
		mustRecipient(t, a, input("Analyse", rc.srv.URL+"/hook?token=url-secret-canary-77"))
		const canary = "Canary-Ville-8231"
		id := mustCustomer(t, a, canary)
		mustUpdate(t, a, id, canary+"-bis")
		// A producer that put values in its payload: the dispatcher keeps known field names only.
		raw := fidelistest.MustRawDB(t, a)
		fidelistest.MustExec(t, raw, fmt.Sprintf(`INSERT INTO outbox (id, at, type, subject, payload) VALUES ('%s', %d, 'customer.updated', '%s',
			'{"fields": ["city", "%s", "lefebvre"], "city": "%s"}')`, fidelis.NewID("evt", clk.Now()), clk.Now().UnixMicro(), id, canary, canary))
		mustRunOnce(t, a.Dispatcher)
		clk.Set(clk.Now().Add(time.Hour))
		mustRunOnce(t, a.Dispatcher)
		reqs := rc.requests()
		if len(reqs) != 3 {
			t.Fatalf("receiver got %d requests; want 3 (one failure, two successes)", len(reqs))
		}
		for _, req := range reqs {
			for _, v := range []string{canary, "Lefebvre", "lefebvre"} {
				if bytes.Contains(req.body, []byte(v)) || strings.Contains(fmt.Sprint(req.header), v) {
					t.Errorf("webhook request holds a personal value: %s %v", req.body, req.header)
				}
			}
			var body recipient.Body
			if err := decodeStrict(req.body, &body); err != nil || !slices.Equal(body.Fields, []string{"city"}) {
				t.Errorf("body %s: fields = %v (%v); want [city]", req.body, body.Fields, err)
			}
		}
		if l := logs.String(); bytes.Contains([]byte(l), []byte("url-secret-canary-77")) || bytes.Contains([]byte(l), []byte(canary)) {
			t.Error("the logs hold the endpoint's query secret or a personal value")
		}
		if !bytes.Contains(logs.Bytes(), []byte("webhook delivery failed")) {
			t.Error("the failed attempt was not logged")
		}
	})
}
