package recipient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/webhook"
)

// clock is a settable clock shared by an installation and its dispatcher.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func adminCtx() context.Context {
	return fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorUser, ID: "usr_test", Role: fidelis.RoleAdmin})
}

func ptr[T any](v T) *T { return &v }

// input returns a valid registration of a processor in France.
func input(name, endpoint string, events ...string) recipient.Input {
	in := recipient.Input{
		Name: ptr(name), Kind: ptr(recipient.KindProcessor), Purposes: ptr([]fidelis.Purpose{fidelis.PurposeCustomerService}),
		Country: ptr("FR"), ContractRef: ptr("DPA-2026-01"), ContactEmail: ptr("dpo@processor.example"),
	}
	if endpoint != "" {
		in.Endpoint = &endpoint
	}
	if events != nil {
		in.Events = &events
	}
	return in
}

func mustRecipient(t *testing.T, a *app.App, in recipient.Input) (*recipient.Recipient, string) {
	t.Helper()
	r, secret, err := a.Recipients.Create(adminCtx(), in)
	if err != nil {
		t.Fatalf("Recipients.Create: %v", err)
	}
	return r, secret
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time // the receiver's clock when it arrived
}

// receiver is a webhook endpoint on loopback that fails the first failFirst requests with
// 503 (all of them when failFirst < 0) and records every request.
type receiver struct {
	mu        sync.Mutex
	got       []received
	failFirst int
	delay     time.Duration
	now       func() time.Time
	srv       *httptest.Server
}

func newReceiver(t *testing.T, failFirst int) *receiver {
	rc := &receiver{failFirst: failFirst, now: time.Now}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, received{r.Header.Clone(), b, rc.now()})
		n, fail, delay := len(rc.got), rc.failFirst, rc.delay
		rc.mu.Unlock()
		time.Sleep(delay)
		if fail < 0 || n <= fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

func (rc *receiver) setFail(n int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.failFirst, rc.got = n, nil
}

// mustVerify checks a request's signature with secret at its arrival and returns its body.
func mustVerify(t *testing.T, r received, secret string) recipient.Body {
	t.Helper()
	if err := webhook.Verify(secret, r.header.Get(webhook.HeaderSignature), r.body, r.at, webhook.DefaultTolerance); err != nil {
		t.Fatalf("webhook.Verify(received request) = %v; want nil", err)
	}
	var b recipient.Body
	if err := decodeStrict(r.body, &b); err != nil {
		t.Fatalf("received body %s: %v", r.body, err)
	}
	if r.header.Get(webhook.HeaderEventID) != b.ID || r.header.Get(webhook.HeaderEventType) != b.Type {
		t.Errorf("headers name event %q of type %q; the body %q of type %q", r.header.Get(webhook.HeaderEventID), r.header.Get(webhook.HeaderEventType), b.ID, b.Type)
	}
	return b
}

// mustCustomer creates a customer under customer_service and returns its ID.
func mustCustomer(t *testing.T, a *app.App, city string) fidelis.CustomerID {
	t.Helper()
	c, err := a.Customers.Create(adminCtx(), fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldFamilyName: fidelis.NewSecret("Lefebvre"), fidelis.FieldCity: fidelis.NewSecret(city)}})
	if err != nil {
		t.Fatalf("Customers.Create: %v", err)
	}
	return c.ID
}

func mustUpdate(t *testing.T, a *app.App, id fidelis.CustomerID, city string) {
	t.Helper()
	if _, err := a.Customers.Update(adminCtx(), fidelis.PurposeCustomerService, id, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
		fidelis.FieldCity: fidelis.NewSecret(city)}}, 0); err != nil {
		t.Fatalf("Customers.Update: %v", err)
	}
}

// mustEvent writes an event to the outbox as a domain change would.
func mustEvent(t *testing.T, a *app.App, typ string, id fidelis.CustomerID) {
	t.Helper()
	err := a.Customers.Store.Write(context.Background(), func(tx customer.Tx) error {
		now := fidelis.UTC(a.Config.Now())
		return tx.AppendEvent(context.Background(), &customer.Event{ID: fidelis.NewID("evt", now), At: now, Type: typ, Subject: string(id)})
	})
	if err != nil {
		t.Fatalf("AppendEvent(%s): %v", typ, err)
	}
}

func mustRunOnce(t *testing.T, d *recipient.Dispatcher) recipient.Stats {
	t.Helper()
	st, err := d.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("Dispatcher.RunOnce: %v", err)
	}
	return st
}

func deliveries(t *testing.T, a *app.App, id string) []*recipient.Delivery {
	t.Helper()
	page, err := a.Recipients.Deliveries(adminCtx(), id, "", "", recipient.MaxPageSize)
	if err != nil {
		t.Fatalf("Recipients.Deliveries: %v", err)
	}
	return page.Items
}

// auditEntries returns every audit entry with action.
func auditEntries(t *testing.T, a *app.App, action string) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
		if e.Action == action {
			out = append(out, *e)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
