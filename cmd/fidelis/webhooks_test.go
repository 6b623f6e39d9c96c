package main_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/webhook"
)

// TestWebhooksDeliver_OnePass_R9 drives 'fidelis webhooks deliver' as an operator would: it
// fans out the pending events and posts what is due, signed, once.
func TestWebhooksDeliver_OnePass_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		dir := t.TempDir()
		cfg := app.Config{DataDir: dir, Stderr: io.Discard}
		args := []string{"--data", dir}
		if b.URL != "" {
			cfg.DBURL = fidelistest.MustPostgresSchema(t, b.URL)
			args = append(args, "--db", cfg.DBURL)
		}
		var secret string
		var verified, bad atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), body, time.Now(), 0) != nil {
				bad.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			verified.Add(1)
		}))
		t.Cleanup(srv.Close)

		a, err := app.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		endpoint, purposes := srv.URL, []fidelis.Purpose{fidelis.PurposeCustomerService}
		name, kind, country, contract, contact := "Caisse", recipient.KindProcessor, "FR", "DPA-1", "it@shop.example"
		_, secret, err = a.Recipients.Create(ctx, recipient.Input{Name: &name, Kind: &kind, Purposes: &purposes, Country: &country,
			ContractRef: &contract, ContactEmail: &contact, Endpoint: &endpoint})
		if err != nil {
			t.Fatal(err)
		}
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldFamilyName: fidelis.NewSecret("Roux")}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.Customers.Erase(ctx, fidelis.PurposeDataProtection, c.ID); err != nil {
			t.Fatal(err)
		}
		a.Close()

		r := run(t, append(args, "webhooks", "deliver")...)
		if r.code != 0 || !strings.Contains(r.stdout, "events dispatched: 2, deliveries: 1 delivered, 0 failed (will be retried), 0 dead") {
			t.Fatalf("webhooks deliver = exit %d, stdout %q, stderr %q; want 2 events and 1 delivery", r.code, r.stdout, r.stderr)
		}
		if verified.Load() != 1 || bad.Load() != 0 {
			t.Fatalf("receiver verified %d notifications, refused %d; want 1 and 0", verified.Load(), bad.Load())
		}
		r = run(t, append(args, "webhooks", "deliver")...)
		if r.code != 0 || !strings.Contains(r.stdout, "events dispatched: 0, deliveries: 0 delivered") || verified.Load() != 1 {
			t.Fatalf("second pass = exit %d, %q, %d received; want nothing more", r.code, r.stdout, verified.Load())
		}
	})
}
