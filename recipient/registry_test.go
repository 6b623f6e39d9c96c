package recipient_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/webhook"
)

func fieldRules(err error) []string {
	var out []string
	if e := fidelis.AsError(err); e != nil {
		for _, f := range e.Fields {
			out = append(out, f.Field+":"+f.Rule)
		}
	}
	slices.Sort(out)
	return out
}

func TestRegistry_ValidationPerField_D4(t *testing.T) {
	a := fidelistest.MustApp(t, fidelistest.Backends(t)[0])
	mod := func(f func(in *recipient.Input)) recipient.Input {
		in := input("Valide", "")
		f(&in)
		return in
	}
	for _, tt := range []struct {
		name string
		in   recipient.Input
		want []string
	}{
		{"empty", recipient.Input{}, []string{"contact_email:required", "country:required", "kind:invalid_kind", "name:required", "purposes:required"}},
		{"name too long", mod(func(in *recipient.Input) { in.Name = ptr(strings.Repeat("n", 201)) }), []string{"name:too_long"}},
		{"name with a newline", mod(func(in *recipient.Input) { in.Name = ptr("a\nb") }), []string{"name:invalid_text"}},
		{"unknown kind", mod(func(in *recipient.Input) { in.Kind = ptr(recipient.Kind("friend")) }), []string{"kind:invalid_kind"}},
		{"unknown purpose", mod(func(in *recipient.Input) { in.Purposes = ptr([]fidelis.Purpose{"gossip"}) }), []string{"purposes:unknown_purpose"}},
		{"purpose twice", mod(func(in *recipient.Input) {
			in.Purposes = ptr([]fidelis.Purpose{fidelis.PurposeLoyalty, fidelis.PurposeLoyalty})
		}), []string{"purposes:duplicate"}},
		{"no such country", mod(func(in *recipient.Input) { in.Country = ptr("XX") }), []string{"country:invalid_country"}},
		{"country name", mod(func(in *recipient.Input) { in.Country = ptr("France") }), []string{"country:invalid_country"}},
		{"transfer without safeguard", mod(func(in *recipient.Input) { in.Country = ptr("IN") }), []string{"safeguard:required"}},
		{"safeguard inside the EEA", mod(func(in *recipient.Input) { in.Safeguard = ptr(recipient.SafeguardSCC) }), []string{"safeguard:not_a_transfer"}},
		{"adequacy where there is none", mod(func(in *recipient.Input) {
			in.Country, in.Safeguard = ptr("IN"), ptr(recipient.SafeguardAdequacy)
		}), []string{"safeguard:no_adequacy_decision"}},
		{"unknown safeguard", mod(func(in *recipient.Input) { in.Country, in.Safeguard = ptr("IN"), ptr(recipient.Safeguard("trust")) }), []string{"safeguard:invalid_safeguard"}},
		{"processor without contract (art. 28)", mod(func(in *recipient.Input) { in.ContractRef = ptr(" ") }), []string{"contract_ref:required"}},
		{"bad contact", mod(func(in *recipient.Input) { in.ContactEmail = ptr("DPO <dpo@x.example>") }), []string{"contact_email:invalid_email"}},
		{"http to another host", mod(func(in *recipient.Input) { in.Endpoint = ptr("http://crm.example.com/hook") }), []string{"endpoint:insecure_url"}},
		{"credentials in the URL", mod(func(in *recipient.Input) { in.Endpoint = ptr("https://user:pw@crm.example.com/hook") }), []string{"endpoint:credentials_in_url"}},
		{"relative URL", mod(func(in *recipient.Input) { in.Endpoint = ptr("/hook") }), []string{"endpoint:invalid_url"}},
		{"ftp", mod(func(in *recipient.Input) { in.Endpoint = ptr("ftp://crm.example.com/hook") }), []string{"endpoint:invalid_url"}},
		{"unknown event", mod(func(in *recipient.Input) { in.Events = ptr([]string{"customer.deleted"}) }), []string{"events:unknown_event"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := a.Recipients.Create(adminCtx(), tt.in)
			if got := fieldRules(err); fidelis.ErrorCode(err) != fidelis.EINVALID || !slices.Equal(got, tt.want) {
				t.Errorf("Create = %v (fields %v); want EINVALID with %v", err, got, tt.want)
			}
		})
	}
	// Accepted: a recipient outside the EEA under SCC, one under an adequacy decision, a
	// plain recipient without contract, loopback http, lower-case country.
	for i, f := range []func(in *recipient.Input){
		func(in *recipient.Input) { in.Country, in.Safeguard = ptr("IN"), ptr(recipient.SafeguardSCC) },
		func(in *recipient.Input) { in.Country, in.Safeguard = ptr("ch"), ptr(recipient.SafeguardAdequacy) },
		func(in *recipient.Input) { in.Kind, in.ContractRef = ptr(recipient.KindRecipient), nil },
		func(in *recipient.Input) { in.Endpoint = ptr("http://127.0.0.1:9999/hook") },
		func(in *recipient.Input) { in.Endpoint = ptr("https://crm.example.com/hook?channel=7") },
	} {
		in := mod(f)
		in.Name = ptr(fmt.Sprintf("Valide %d", i))
		if _, _, err := a.Recipients.Create(adminCtx(), in); err != nil {
			t.Errorf("Create(valid %d) = %v; want nil", i, err)
		}
	}
	if _, _, err := a.Recipients.Create(adminCtx(), input("Valide 0", "")); fidelis.ErrorCode(err) != fidelis.EINVALID || fieldRules(err)[0] != "name:taken" {
		t.Errorf("Create(duplicate name) = %v; want EINVALID name:taken", err)
	}
}

func TestRegistry_SecretSealedAndShownOnce_D4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		rc := newReceiver(t, 0)
		r, secret := mustRecipient(t, a, input("Routeur SMS", rc.srv.URL))
		if !strings.HasPrefix(secret, webhook.SecretPrefix) {
			t.Fatalf("secret %q... does not start with %s", secret[:4], webhook.SecretPrefix)
		}
		if r.Secret.KEKID == "" || len(r.Secret.Data) == 0 || strings.Contains(string(r.Secret.Data), secret) {
			t.Fatal("the stored secret is not sealed")
		}
		raw := fidelistest.MustRawDB(t, a)
		rows, err := raw.Query(`SELECT * FROM recipients`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if s := fmt.Sprintf("%s", v); strings.Contains(s, secret) || strings.Contains(s, strings.TrimPrefix(secret, webhook.SecretPrefix)) {
					t.Errorf("column %s holds the webhook secret in clear", cols[i])
				}
			}
		}
		rows.Close()
		if n != 1 {
			t.Fatalf("%d recipient rows; want 1", n)
		}
		// Reading the recipient never shows the secret again; rotation gives a new one,
		// with which the next notifications are signed.
		got, err := a.Recipients.Get(adminCtx(), r.ID)
		if err != nil || fmt.Sprintf("%+v", got) == "" || strings.Contains(fmt.Sprintf("%+v", got), secret) {
			t.Fatalf("Get = %v; want the recipient without its secret", err)
		}
		_, rotated, err := a.Recipients.RotateSecret(adminCtx(), r.ID)
		if err != nil || rotated == secret || !strings.HasPrefix(rotated, webhook.SecretPrefix) {
			t.Fatalf("RotateSecret = %v; want a new secret", err)
		}
		mustEvent(t, a, recipient.EventCustomerErased, fidelis.NewCustomerID(time.Now()))
		mustRunOnce(t, a.Dispatcher)
		reqs := rc.requests()
		if len(reqs) != 1 {
			t.Fatalf("receiver got %d requests; want 1", len(reqs))
		}
		h := reqs[0].header.Get(webhook.HeaderSignature)
		if webhook.Verify(secret, h, reqs[0].body, reqs[0].at, 0) == nil {
			t.Error("a notification after rotation verifies with the old secret")
		}
		mustVerify(t, reqs[0], rotated)
	})
}

func TestRegistry_ChangesAuditedAndVersioned_D4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		ctx := adminCtx()
		r, _ := mustRecipient(t, a, input("Logisticien", ""))
		up, err := a.Recipients.Update(ctx, r.ID, recipient.Input{Country: ptr("US"), Safeguard: ptr(recipient.SafeguardAdequacy), Active: ptr(false)}, 1)
		if err != nil || up.Version != 2 || up.Country != "US" || up.Active || !up.Transfer() {
			t.Fatalf("Update = %+v, %v; want version 2, US, inactive, a transfer", up, err)
		}
		if _, err := a.Recipients.Update(ctx, r.ID, recipient.Input{Name: ptr("Autre")}, 1); fidelis.ErrorCode(err) != fidelis.EPRECONDITION {
			t.Errorf("Update(stale version) = %v; want EPRECONDITION", err)
		}
		if _, err := a.Recipients.Update(ctx, r.ID, recipient.Input{Country: ptr("FR")}, 0); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Update(EEA country with a safeguard left) = %v; want EINVALID", err)
		}
		if same, err := a.Recipients.Update(ctx, r.ID, recipient.Input{Country: ptr("us")}, 0); err != nil || same.Version != 2 {
			t.Errorf("Update(no change) = %+v, %v; want version 2 unchanged", same, err)
		}
		if _, _, err := a.Recipients.RotateSecret(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.Recipients.Delete(ctx, r.ID); err != nil {
			t.Fatalf("Delete(never notified) = %v; want nil", err)
		}
		if _, err := a.Recipients.Get(ctx, r.ID); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("Get(deleted) = %v; want ENOTFOUND", err)
		}
		var got []string
		if err := a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
			if e.Subject == r.ID {
				got = append(got, fmt.Sprintf("%s %s %v %s", e.Action, e.Outcome, e.Fields, e.Reason))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"recipient.create ok [contact_email contract_ref country kind name purposes] ",
			"recipient.update ok [active country safeguard] ",
			"recipient.update ok [] no_change",
			"recipient.rotate_secret ok [secret] ",
			"recipient.delete ok [] ",
		}
		if !slices.Equal(got, want) {
			t.Errorf("audit entries about the recipient:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		// A recipient that was notified stays: it is the record of who received what.
		notified, _ := mustRecipient(t, a, input("Notifié", newReceiver(t, 0).srv.URL))
		mustEvent(t, a, recipient.EventCustomerErased, fidelis.NewCustomerID(time.Now()))
		mustRunOnce(t, a.Dispatcher)
		err = a.Recipients.Delete(ctx, notified.ID)
		if e := fidelis.AsError(err); e == nil || e.Code != fidelis.ECONFLICT || e.Reason != "has_deliveries" {
			t.Errorf("Delete(notified) = %v; want ECONFLICT has_deliveries", err)
		}

		// Only roles holding manage_recipients; a refusal is audited.
		support := fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorToken, ID: "tok_x", Role: fidelis.RoleSupport})
		if _, _, err := a.Recipients.Create(support, input("Refusé", "")); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("Create(support) = %v; want EFORBIDDEN", err)
		}
		if _, err := a.Recipients.List(support, "", 10); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("List(support) = %v; want EFORBIDDEN", err)
		}
		dpo := fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorToken, ID: "tok_y", Role: fidelis.RoleDPO})
		if _, err := a.Recipients.List(dpo, "", 10); err != nil {
			t.Errorf("List(dpo) = %v; want nil", err)
		}
		denied := 0
		for _, e := range auditEntries(t, a, recipient.ActManage) {
			if e.Outcome == audit.OutcomeDenied && e.Actor == "token:tok_x" {
				denied++
			}
		}
		if denied != 2 {
			t.Errorf("%d audited refusals for the support role; want 2", denied)
		}
	})
}

func TestRegistry_ListPaginated_D4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		var want []string
		for i := range 5 {
			r, _ := mustRecipient(t, a, input(fmt.Sprintf("Sous-traitant %d", i), ""))
			want = append(want, r.ID)
		}
		// Newest first: IDs sort by creation time (within one millisecond, by their random part).
		slices.Sort(want)
		slices.Reverse(want)
		var got []string
		cursor := ""
		for range 10 {
			page, err := a.Recipients.List(adminCtx(), cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > 2 {
				t.Fatalf("page of %d; want at most 2", len(page.Items))
			}
			for _, r := range page.Items {
				got = append(got, r.ID)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("paged IDs = %v; want %v", got, want)
		}
		if _, err := a.Recipients.List(adminCtx(), "cus_nope", 2); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("List(bad cursor) = %v; want EINVALID", err)
		}
	})
}

func TestForCustomer_RecipientsAndNotifications_R9(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		rc := newReceiver(t, 0)
		hooked, _ := mustRecipient(t, a, input("Boutique en ligne", rc.srv.URL))
		paper, _ := mustRecipient(t, a, input("Imprimeur", ""))
		id := mustCustomer(t, a, "Tours")
		mustUpdate(t, a, id, "Blois")
		mustRunOnce(t, a.Dispatcher)
		dp := fidelis.PurposeDataProtection
		dpo := fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorToken, ID: "tok_dpo", Role: fidelis.RoleDPO})
		cr, err := a.Recipients.ForCustomer(dpo, dp, id)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]recipient.CustomerRecipient{}
		for _, c := range cr.Recipients {
			byID[c.Recipient.ID] = c
		}
		if len(cr.Recipients) != 2 || cr.Erased {
			t.Fatalf("ForCustomer lists %d recipients (erased %v); want the 2 active ones", len(cr.Recipients), cr.Erased)
		}
		if n := byID[hooked.ID].Notifications; len(n) != 1 || n[0].EventType != recipient.EventCustomerUpdated || n[0].State != recipient.StateDelivered || n[0].DeliveredAt == nil {
			t.Errorf("notifications to the webhook recipient = %v; want the delivered rectification", n)
		}
		if n := byID[paper.ID].Notifications; len(n) != 0 {
			t.Errorf("notifications to the recipient without webhook = %v; want none", n)
		}
		// After erasure the recipients told remain answerable (the notifications hold no
		// personal data).
		if _, err := a.Customers.Erase(dpo, dp, id); err != nil {
			t.Fatal(err)
		}
		mustRunOnce(t, a.Dispatcher)
		cr, err = a.Recipients.ForCustomer(dpo, dp, id)
		if err != nil || !cr.Erased || len(cr.Recipients) != 1 || cr.Recipients[0].Recipient.ID != hooked.ID || len(cr.Recipients[0].Notifications) != 2 {
			t.Fatalf("ForCustomer(erased) = %+v, %v; want the webhook recipient with 2 notifications", cr, err)
		}
		if cr.Recipients[0].Notifications[0].EventType != recipient.EventCustomerErased {
			t.Errorf("newest notification = %s; want customer.erased", cr.Recipients[0].Notifications[0].EventType)
		}
		if _, err := a.Recipients.ForCustomer(dpo, dp, fidelis.NewCustomerID(time.Now())); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("ForCustomer(unknown) = %v; want ENOTFOUND", err)
		}
		// P-1: purpose-bound, refusals and reads audited.
		mkt := fidelis.WithActor(context.Background(), fidelis.Actor{Kind: fidelis.ActorToken, ID: "tok_mkt", Role: fidelis.RoleMarketing})
		if _, err := a.Recipients.ForCustomer(mkt, fidelis.PurposeCustomerService, id); fidelis.ErrorCode(err) != fidelis.EFORBIDDEN {
			t.Errorf("ForCustomer(marketing, customer_service) = %v; want EFORBIDDEN", err)
		}
		var outcomes []string
		for _, e := range auditEntries(t, a, recipient.ActCustomerRead) {
			if e.Subject == string(id) {
				outcomes = append(outcomes, string(e.Outcome)+"/"+string(e.Purpose))
			}
		}
		if want := []string{"ok/data_protection", "ok/data_protection", "denied/customer_service"}; !slices.Equal(outcomes, want) {
			t.Errorf("audited reads of the customer's recipients = %v; want %v", outcomes, want)
		}
	})
}
