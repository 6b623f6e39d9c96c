package rights_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/rights"
)

// clock is a settable test clock that moves 1ms forward at every reading, so that IDs and
// audit entries made one after the other sort in that order.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

const dp = fidelis.PurposeDataProtection

var paris = func() *time.Location {
	l, err := time.LoadLocation(app.RightsCalendar)
	if err != nil {
		panic(err)
	}
	return l
}()

func day(s string) time.Time {
	d, err := time.Parse(rights.DateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func newApp(t *testing.T, b fidelistest.Backend, start time.Time, mutate ...func(*app.Config)) (*app.App, *clock) {
	t.Helper()
	c := &clock{t: start}
	opts := fidelistest.Options{Now: c.Now}
	if len(mutate) > 0 {
		opts.Mutate = mutate[0]
	}
	return fidelistest.MustApp(t, b, opts), c
}

func as(job string, role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), job, role)
}

var dpo = as("dpo", fidelis.RoleDPO)

func mustCustomer(t *testing.T, a *app.App, kv ...string) fidelis.CustomerID {
	t.Helper()
	in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Set[fidelis.Field(kv[i])] = fidelis.NewSecret(kv[i+1])
	}
	c, err := a.Customers.Create(as("support", fidelis.RoleSupport), fidelis.PurposeCustomerService, in)
	if err != nil {
		t.Fatalf("Create customer: %v", err)
	}
	return c.ID
}

func mustCase(t *testing.T, a *app.App, in rights.NewCase) *rights.Case {
	t.Helper()
	c, err := a.Rights.Create(dpo, dp, in)
	if err != nil {
		t.Fatalf("Create(%s, %s) = %v", in.Kind, in.Channel, err)
	}
	return c
}

func checkCode(t *testing.T, what string, err error, code fidelis.Code, reason string) {
	t.Helper()
	e := fidelis.AsError(err)
	if fidelis.ErrorCode(err) != code || (reason != "" && (e == nil || e.Reason != reason)) {
		t.Errorf("%s = %v; want code %s, reason %q", what, err, code, reason)
	}
}

func TestAddMonths_LastDayOfShorterMonth_R1(t *testing.T) {
	for _, tt := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-31", 1, "2026-02-28"},
		{"2028-01-31", 1, "2028-02-29"}, // leap year
		{"2100-01-31", 1, "2100-02-28"}, // not a leap year (century)
		{"2000-01-31", 1, "2000-02-29"}, // leap year (400)
		{"2026-03-31", 1, "2026-04-30"},
		{"2026-01-30", 1, "2026-02-28"},
		{"2026-01-28", 1, "2026-02-28"},
		{"2026-06-15", 1, "2026-07-15"},
		{"2026-12-31", 1, "2027-01-31"},
		{"2026-02-28", 2, "2026-04-28"},
		{"2026-11-30", 3, "2027-02-28"},
	} {
		if got := rights.AddMonths(day(tt.from), tt.n).Format(rights.DateLayout); got != tt.want {
			t.Errorf("AddMonths(%s, %d) = %s; want %s", tt.from, tt.n, got, tt.want)
		}
	}
}

func TestRightsRequest_DueOneCalendarMonth_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2028, time.June, 1, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice", "email", "alice@example.com")
		for _, tt := range []struct {
			received time.Time
			want     string
		}{
			{time.Date(2026, time.January, 31, 10, 0, 0, 0, paris), "2026-02-28"},
			{time.Date(2028, time.January, 31, 10, 0, 0, 0, paris), "2028-02-29"},
			{time.Date(2026, time.March, 31, 10, 0, 0, 0, paris), "2026-04-30"},
			{time.Date(2026, time.May, 15, 10, 0, 0, 0, paris), "2026-06-15"},
			// 23:30 UTC on 31 January is 00:30 on 1 February in Paris: the clock starts on
			// the controller's calendar day.
			{time.Date(2026, time.January, 31, 23, 30, 0, 0, time.UTC), "2026-03-01"},
		} {
			c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelPost, ReceivedAt: tt.received})
			if got := c.Due.Format(rights.DateLayout); got != tt.want || !c.OriginalDue.Equal(c.Due) {
				t.Errorf("received %s: due %s (original %s); want %s", tt.received, got, c.OriginalDue.Format(rights.DateLayout), tt.want)
			}
			got, err := a.Rights.Get(dpo, dp, c.ID)
			if err != nil || !got.Due.Equal(c.Due) || !got.ReceivedAt.Equal(fidelis.UTC(tt.received)) || got.Status != rights.StatusReceived {
				t.Errorf("Get = %+v, %v; want the stored case", got, err)
			}
		}
		// Received now when not given; never in the future; not before the GDPR.
		c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindErasure, Channel: rights.ChannelEmail})
		if c.Due.Format(rights.DateLayout) != "2028-07-01" {
			t.Errorf("received now (1 June 2028): due %s; want 2028-07-01", c.Due.Format(rights.DateLayout))
		}
		_, err := a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelPost, ReceivedAt: time.Date(2028, 6, 2, 0, 0, 0, 0, time.UTC)})
		checkCode(t, "Create(received in the future)", err, fidelis.EINVALID, "validation_failed")
		_, err = a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: "deletion", Channel: "fax"})
		if e := fidelis.AsError(err); e == nil || len(e.Fields) != 2 {
			t.Errorf("Create(bad kind and channel) = %v; want 2 field errors", err)
		}
		_, err = a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: fidelis.NewCustomerID(time.Now()), Kind: rights.KindAccess, Channel: rights.ChannelPost})
		checkCode(t, "Create(unknown customer)", err, fidelis.EINVALID, "")
	})
}

func TestRightsRequest_ExtensionOnlyWithinFirstMonth_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b, time.Date(2026, time.February, 10, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		received := time.Date(2026, time.January, 31, 10, 0, 0, 0, paris)
		newCase := func() *rights.Case {
			return mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelEmail, ReceivedAt: received})
		}
		reasons := []rights.ExtensionReason{rights.ExtendComplexity}

		c := newCase()
		for _, tt := range []struct {
			in   rights.ExtendInput
			rule string
		}{
			{rights.ExtendInput{Months: 3, Reasons: reasons}, "out_of_range"},
			{rights.ExtendInput{Months: 0, Reasons: reasons}, "out_of_range"},
			{rights.ExtendInput{Months: 2}, "required"},
			{rights.ExtendInput{Months: 2, Reasons: []rights.ExtensionReason{"busy"}}, "invalid_reason"},
		} {
			_, err := a.Rights.Extend(dpo, dp, c.ID, tt.in)
			if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || len(e.Fields) == 0 || e.Fields[0].Rule != tt.rule {
				t.Errorf("Extend(%+v) = %v; want EINVALID rule %s", tt.in, err, tt.rule)
			}
		}
		// Told by post about an e-mail request: refused.
		_, err := a.Rights.Extend(dpo, dp, c.ID, rights.ExtendInput{Months: 2, Reasons: reasons, ToldVia: rights.ChannelPost})
		checkCode(t, "Extend(told by post, e-mail request)", err, fidelis.EINVALID, "electronic_answer_required")
		// Told before the request arrived: refused.
		_, err = a.Rights.Extend(dpo, dp, c.ID, rights.ExtendInput{Months: 2, Reasons: reasons, ToldAt: received.Add(-time.Hour)})
		checkCode(t, "Extend(told before receipt)", err, fidelis.EINVALID, "validation_failed")

		told := time.Date(2026, time.February, 9, 15, 0, 0, 0, time.UTC)
		ext, err := a.Rights.Extend(dpo, dp, c.ID, rights.ExtendInput{Months: 2, Reasons: []rights.ExtensionReason{rights.ExtendNumberOfRequests, rights.ExtendComplexity}, ToldAt: told})
		if err != nil {
			t.Fatalf("Extend(2 months, within the first month) = %v", err)
		}
		if ext.Status != rights.StatusExtended || ext.Due.Format(rights.DateLayout) != "2026-04-28" || ext.OriginalDue.Format(rights.DateLayout) != "2026-02-28" ||
			ext.Extension.Months != 2 || !ext.Extension.ToldAt.Equal(told) || ext.Extension.ToldVia != rights.ChannelEmail || ext.Extension.By != "system:dpo" ||
			!slices.Equal(ext.Extension.Reasons, []rights.ExtensionReason{rights.ExtendComplexity, rights.ExtendNumberOfRequests}) {
			t.Errorf("Extend = %+v (extension %+v); want extended to 2026-04-28, told by e-mail", ext, ext.Extension)
		}
		for _, l := range []string{"fr", "en"} {
			letter := rights.ExtensionLetter(ext, l)
			for _, want := range []string{c.ID, "2"} {
				if !strings.Contains(letter, want) {
					t.Errorf("ExtensionLetter(%s) = %q; want it to mention %q", l, letter, want)
				}
			}
		}
		// A second extension is refused.
		_, err = a.Rights.Extend(dpo, dp, c.ID, rights.ExtendInput{Months: 1, Reasons: reasons})
		checkCode(t, "Extend(second)", err, fidelis.EPRECONDITION, "already_extended")

		// On the last day of the first month (Paris time) an extension is still possible;
		// the day after, it is refused.
		last := newCase()
		clk.Set(time.Date(2026, time.February, 28, 22, 30, 0, 0, time.UTC)) // 23:30 in Paris
		if _, err := a.Rights.Extend(dpo, dp, last.ID, rights.ExtendInput{Months: 1, Reasons: reasons}); err != nil {
			t.Errorf("Extend(on the original due date) = %v; want it allowed", err)
		}
		late := newCase()
		clk.Set(time.Date(2026, time.February, 28, 23, 0, 0, 0, time.UTC)) // 1 March, 00:00 in Paris
		_, err = a.Rights.Extend(dpo, dp, late.ID, rights.ExtendInput{Months: 1, Reasons: reasons})
		checkCode(t, "Extend(after the original due date)", err, fidelis.EPRECONDITION, "extension_too_late")
		if got, _ := a.Rights.Get(dpo, dp, late.ID); got.Extension != nil || got.Status != rights.StatusReceived {
			t.Errorf("after a refused extension the case is %+v; want it unchanged", got)
		}
	})
}

func TestRightsRequest_InvalidTransitionsRefused_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelPortal})

		_, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		checkCode(t, "Complete(received)", err, fidelis.EPRECONDITION, "invalid_transition")
		if _, err := a.Rights.Start(dpo, dp, c.ID); err != nil {
			t.Fatalf("Start = %v", err)
		}
		_, err = a.Rights.Start(dpo, dp, c.ID)
		checkCode(t, "Start(in progress)", err, fidelis.EPRECONDITION, "invalid_transition")
		_, err = a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		checkCode(t, "Complete(identity not recorded)", err, fidelis.EPRECONDITION, "identity_not_recorded")
		if _, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityEmailConfirmation, Result: rights.IdentityFailed}); err != nil {
			t.Fatal(err)
		}
		_, err = a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		checkCode(t, "Complete(identity failed)", err, fidelis.EPRECONDITION, "identity_failed")
		if _, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentitySignedIn, Result: rights.IdentityVerified}); err != nil {
			t.Fatal(err)
		}
		done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		if err != nil {
			t.Fatalf("Complete = %v", err)
		}
		if done.Status != rights.StatusCompleted || done.Answer.Outcome != rights.OutcomeDataProvided || done.Answer.Channel != rights.ChannelPortal || done.Answer.At.IsZero() || done.Version != 5 {
			t.Errorf("Complete = %+v (answer %+v); want completed, data provided through the portal, version 5", done, done.Answer)
		}
		// A closed case cannot change.
		_, err = a.Rights.Start(dpo, dp, c.ID)
		checkCode(t, "Start(completed)", err, fidelis.EPRECONDITION, "case_closed")
		_, err = a.Rights.Refuse(dpo, dp, c.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{rights.RefuseExcessive}})
		checkCode(t, "Refuse(completed)", err, fidelis.EPRECONDITION, "case_closed")
		_, err = a.Rights.Extend(dpo, dp, c.ID, rights.ExtendInput{Months: 1, Reasons: []rights.ExtensionReason{rights.ExtendComplexity}})
		checkCode(t, "Extend(completed)", err, fidelis.EPRECONDITION, "case_closed")
		_, err = a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityNotNeeded})
		checkCode(t, "VerifyIdentity(completed)", err, fidelis.EPRECONDITION, "case_closed")
		_, err = a.Rights.Get(dpo, dp, "rrq_nope")
		checkCode(t, "Get(bad id)", err, fidelis.ENOTFOUND, "bad_id")
		_, err = a.Rights.Get(dpo, dp, fidelis.NewID("rrq", time.Now()))
		checkCode(t, "Get(unknown)", err, fidelis.ENOTFOUND, "")
		// Only data_protection, only roles holding it.
		_, err = a.Rights.Get(dpo, fidelis.PurposeLegalClaims, c.ID)
		checkCode(t, "Get(legal_claims)", err, fidelis.EFORBIDDEN, "")
		_, err = a.Rights.Get(as("support", fidelis.RoleSupport), dp, c.ID)
		checkCode(t, "Get(support)", err, fidelis.EFORBIDDEN, "purpose_not_granted")
		_, err = a.Rights.Get(as("admin", fidelis.RoleAdmin), fidelis.PurposeCustomerService, c.ID)
		checkCode(t, "Get(admin, customer_service)", err, fidelis.EFORBIDDEN, "purpose_not_applicable")
	})
}

func TestIdentity_RecordedEvenWhenNotNeeded_R3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelInPerson})
		got, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityNotNeeded})
		if err != nil {
			t.Fatal(err)
		}
		if i := got.Identity; i == nil || i.Method != rights.IdentityNotNeeded || i.Result != rights.IdentityNoCheck || i.By != "system:dpo" || i.At.IsZero() {
			t.Errorf("identity = %+v; want not_needed recorded with who and when", got.Identity)
		}
		for _, in := range []rights.IdentityInput{{Method: "passport_copy_kept", Result: rights.IdentityVerified}, {Method: rights.IdentityDocument}, {Method: rights.IdentityNotNeeded, Result: rights.IdentityVerified}} {
			_, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, in)
			checkCode(t, "VerifyIdentity("+string(in.Method)+")", err, fidelis.EINVALID, "")
		}
		got, err = a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityDocument, Result: rights.IdentityVerified})
		if err != nil || got.Identity.Method != rights.IdentityDocument || got.Identity.Result != rights.IdentityVerified {
			t.Errorf("VerifyIdentity(id_document) = %+v, %v", got, err)
		}
	})
}

func TestRefusal_MentionsCNIL_R2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindErasure, Channel: rights.ChannelPost})
		_, err := a.Rights.Refuse(dpo, dp, c.ID, rights.RefuseInput{})
		checkCode(t, "Refuse(no reasons)", err, fidelis.EINVALID, "")
		_, err = a.Rights.Refuse(dpo, dp, c.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{"we_do_not_want_to"}})
		checkCode(t, "Refuse(unknown reason)", err, fidelis.EINVALID, "")
		got, err := a.Rights.Refuse(dpo, dp, c.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{rights.RefuseLegalObligation, rights.RefuseLegalClaims}})
		if err != nil {
			t.Fatalf("Refuse = %v", err)
		}
		if got.Status != rights.StatusRefused || got.Refusal.Channel != rights.ChannelPost || got.Refusal.By != "system:dpo" {
			t.Errorf("Refuse = %+v (refusal %+v); want refused, told by post", got, got.Refusal)
		}
		for _, tt := range []struct {
			lang string
			want []string
		}{
			{"fr", []string{"CNIL", "réclamation", "recours juridictionnel", "tribunal", "obligation légale", "défense de droits en justice", c.ID}},
			{"en", []string{"CNIL", "complaint", "judicial remedy", "court", "legal obligation", "legal claims", c.ID}},
		} {
			letter := rights.RefusalLetter(got, tt.lang)
			for _, w := range tt.want {
				if !strings.Contains(letter, w) {
					t.Errorf("RefusalLetter(%s) does not mention %q:\n%s", tt.lang, w, letter)
				}
			}
		}
		// Every reason has a text in both languages.
		for _, r := range rights.RefusalReasons() {
			if tx := rights.RefusalReasonText(r); tx.FR == "" || tx.EN == "" {
				t.Errorf("reason %s has no text: %+v", r, tx)
			}
		}
	})
}

func TestAnswer_ElectronicRequestElectronicAnswer_R4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		ready := func(ch rights.Channel) *rights.Case {
			c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: ch})
			if _, err := a.Rights.Start(dpo, dp, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityNotNeeded}); err != nil {
				t.Fatal(err)
			}
			return c
		}
		for _, ch := range []rights.Channel{rights.ChannelEmail, rights.ChannelPortal, rights.ChannelAPI} {
			c := ready(ch)
			for _, paper := range []rights.Channel{rights.ChannelPost, rights.ChannelPhone, rights.ChannelInPerson} {
				_, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{Channel: paper})
				checkCode(t, "Complete("+string(ch)+" request, "+string(paper)+" answer)", err, fidelis.EINVALID, "electronic_answer_required")
				_, err = a.Rights.Refuse(dpo, dp, c.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{rights.RefuseExcessive}, Channel: paper})
				checkCode(t, "Refuse("+string(ch)+" request, "+string(paper)+" answer)", err, fidelis.EINVALID, "electronic_answer_required")
			}
			done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
			if err != nil || done.Answer.Channel != ch {
				t.Errorf("Complete(%s request, default channel) = %+v, %v; want answered by %s", ch, done, err, ch)
			}
		}
		// A letter may be answered electronically.
		c := ready(rights.ChannelPost)
		done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{Channel: rights.ChannelEmail})
		if err != nil || done.Answer.Channel != rights.ChannelEmail {
			t.Errorf("Complete(post request, e-mail answer) = %+v, %v", done, err)
		}
	})
}

func TestRightsRequest_AuditedWithEvents_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice", "email", "alice.secret@example.com")
		c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelEmail})
		a.Rights.Start(dpo, dp, c.ID)
		a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityNotNeeded})
		if _, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{}); err != nil {
			t.Fatal(err)
		}
		page, err := a.Customers.AccessLog(dpo, dp, id, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, e := range page.Items {
			if strings.HasPrefix(e.Action, "rights_request.") {
				actions = append(actions, e.Action)
				if e.Reason != "access:"+c.ID || e.Purpose != dp || e.Outcome != audit.OutcomeOK || len(e.Fields) != 0 {
					t.Errorf("audit entry %+v; want reason access:%s, purpose data_protection, no fields", e, c.ID)
				}
			}
		}
		slices.Reverse(actions)
		want := []string{rights.ActCreate, rights.ActStart, rights.ActIdentity, rights.ActComplete}
		if !slices.Equal(actions, want) {
			t.Errorf("audited actions = %v; want %v", actions, want)
		}
		db := fidelistest.MustRawDB(t, a)
		rows, err := db.Query(`SELECT type, payload FROM outbox WHERE subject = '` + c.ID + `' ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var types []string
		for rows.Next() {
			var typ, payload string
			rows.Scan(&typ, &payload)
			types = append(types, typ)
			if strings.Contains(payload, "alice") || !strings.Contains(payload, string(id)) || !strings.Contains(payload, `"kind":"access"`) {
				t.Errorf("event payload %s; want ids and kind only", payload)
			}
		}
		if want := []string{"rights_request.received", "rights_request.started", "rights_request.identity_verified", "rights_request.completed"}; !slices.Equal(types, want) {
			t.Errorf("outbox events = %v; want %v", types, want)
		}
		var doc string
		db.QueryRow(`SELECT doc FROM rights_requests WHERE id = '` + c.ID + `'`).Scan(&doc)
		if strings.Contains(strings.ToLower(doc), "alice") {
			t.Errorf("case document holds personal data: %s", doc)
		}
	})
}

func TestDeadlines_SortedWithDueSoonAndOverdue_R1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b, time.Date(2026, time.April, 20, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice")
		mk := func(received string) *rights.Case {
			r, _ := time.ParseInLocation(rights.DateLayout, received, paris)
			return mustCase(t, a, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelPost, ReceivedAt: r.Add(10 * time.Hour)})
		}
		late := mk("2026-03-15")   // due 2026-04-15: overdue on 20 April
		soon := mk("2026-03-26")   // due 2026-04-26: within 7 days
		edge := mk("2026-03-27")   // due 2026-04-27: exactly 7 days: due soon
		fine := mk("2026-04-10")   // due 2026-05-10
		closed := mk("2026-03-01") // due 2026-04-01, refused
		closed, err := a.Rights.Refuse(dpo, dp, closed.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{rights.RefuseNoData}})
		if err != nil {
			t.Fatal(err)
		}
		clk.Set(time.Date(2026, time.April, 20, 9, 0, 0, 0, time.UTC))
		page, err := a.Rights.List(dpo, dp, rights.Query{Filter: rights.Filter{Status: []rights.Status{rights.StatusReceived, rights.StatusInProgress, rights.StatusExtended}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range page.Items {
			got = append(got, c.ID+"="+string(a.Rights.Deadline(c)))
		}
		want := []string{late.ID + "=overdue", soon.ID + "=due_soon", edge.ID + "=due_soon", fine.ID + "=ok"}
		if !slices.Equal(got, want) {
			t.Errorf("open cases = %v; want %v", got, want)
		}
		// All statuses, paged one at a time, still by deadline.
		var all []string
		cursor := ""
		for range 10 {
			p, err := a.Rights.List(dpo, dp, rights.Query{Cursor: cursor, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range p.Items {
				all = append(all, c.ID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		if want := []string{closed.ID, late.ID, soon.ID, edge.ID, fine.ID}; !slices.Equal(all, want) {
			t.Errorf("all cases paged = %v; want %v", all, want)
		}
		if d := a.Rights.Deadline(closed); d != rights.DeadlineClosed {
			t.Errorf("Deadline(refused) = %s; want closed", d)
		}
		p, err := a.Rights.List(dpo, dp, rights.Query{Filter: rights.Filter{DueBefore: day("2026-04-27")}})
		if err != nil || len(p.Items) != 3 {
			t.Errorf("List(due before 2026-04-27) = %d cases, %v; want 3", len(p.Items), err)
		}
		_, err = a.Rights.List(dpo, dp, rights.Query{Cursor: "garbage"})
		checkCode(t, "List(bad cursor)", err, fidelis.EINVALID, "")
		// The due-soon window is configurable.
		b2, clk2 := newApp(t, b, time.Date(2026, time.April, 1, 9, 0, 0, 0, time.UTC), func(c *app.Config) { c.RightsDueSoonDays = 20 })
		id2 := mustCustomer(t, b2, "given_name", "Bob")
		c2 := mustCase(t, b2, rights.NewCase{CustomerID: id2, Kind: rights.KindAccess, Channel: rights.ChannelPost})
		clk2.Set(time.Date(2026, time.April, 12, 9, 0, 0, 0, time.UTC))
		if d := b2.Rights.Deadline(c2); d != rights.DeadlineDueSoon {
			t.Errorf("Deadline(19 days before, window 20) = %s; want due_soon", d)
		}
	})
}
