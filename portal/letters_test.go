package portal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/rights"
)

// TestRightsLetters_ElectronicRequestAnsweredByEmail_R4: a request made by electronic means,
// recorded by staff, is acknowledged, told of its extension and refusal (with the CNIL),
// and of its completion by e-mail in the customer's language; the completion of an erasure
// still reaches the address it removed; a request by post gets no e-mail.
func TestRightsLetters_ElectronicRequestAnsweredByEmail_R4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustPortal(t, b)
		id := e.mustCustomer(t, "Emma", "Brown", "emma.brown@example.co.uk", "en")
		dpo := app.SystemContext(context.Background(), "test", fidelis.RoleDPO)
		const dp = fidelis.PurposeDataProtection
		must := func(c *rights.Case, err error) *rights.Case {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		verify := func(c *rights.Case) {
			t.Helper()
			must(e.a.Rights.Start(dpo, dp, c.ID))
			must(e.a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityNotNeeded}))
		}
		n := 0
		next := func(subject string, text ...string) {
			t.Helper()
			n++
			m := e.waitMail(t, n)
			if m.to != "emma.brown@example.co.uk" || m.lang != "en" || !strings.Contains(m.subject, subject) {
				t.Fatalf("message %d: to %q lang %q subject %q; want %q in English", n, m.to, m.lang, m.subject, subject)
			}
			for _, w := range text {
				if !strings.Contains(m.text, w) {
					t.Errorf("message %d lacks %q:\n%s", n, w, m.text)
				}
			}
		}

		access := must(e.a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelEmail}))
		next("We have received your request ("+access.ID+")", "your access request", "free of charge")
		verify(access)
		must(e.a.Rights.Extend(dpo, dp, access.ID, rights.ExtendInput{Months: 1, Reasons: []rights.ExtensionReason{rights.ExtendComplexity}}))
		next("More time needed", "the complexity of your request", "CNIL")
		must(e.a.Rights.Complete(dpo, dp, access.ID, rights.CompleteInput{}))
		next("Your request has been handled (" + access.ID + ")")

		objection := must(e.a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindObjection, Channel: rights.ChannelAPI, Purposes: []fidelis.Purpose{fidelis.PurposeSales}}))
		next("We have received your request ("+objection.ID+")", "objection")
		verify(objection)
		must(e.a.Rights.Refuse(dpo, dp, objection.ID, rights.RefuseInput{Reasons: []rights.RefusalReason{rights.RefuseCompellingGrounds}}))
		next("Answer to your request ("+objection.ID+")", "compelling legitimate grounds", "CNIL")

		// By post: answered by post, not by e-mail.
		must(e.a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelPost}))

		erasure := must(e.a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindErasure, Channel: rights.ChannelEmail}))
		next("We have received your request ("+erasure.ID+")", "erasure")
		verify(erasure)
		must(e.a.Rights.Complete(dpo, dp, erasure.ID, rights.CompleteInput{}))
		done := must(e.a.Rights.Get(dpo, dp, erasure.ID))
		if done.Answer == nil || done.Answer.ErasureEffectiveAt == nil {
			t.Fatalf("erasure answer = %+v; want an effective-erasure date", done.Answer)
		}
		// The customer area is gone with the data: the letter says what was done and kept,
		// and when no backup holds the key any more, without sending them to the portal.
		next("Your data has been erased ("+erasure.ID+")", "customer area closed", done.Answer.ErasureEffectiveAt.UTC().Format("2 January 2006"), "accounting records", "last message")
		if m := e.waitMail(t, n); strings.Contains(m.text, "You will find the result") {
			t.Errorf("the erasure letter sends the person to a customer area that no longer exists:\n%s", m.text)
		}
		e.a.Portal.Wait()
		if got := len(e.smtp.Messages()); got != n {
			t.Fatalf("%d messages; want %d (none for the request by post)", got, n)
		}
		if strings.Contains(e.logs.String(), "emma.brown") {
			t.Error("the application log holds the address")
		}
	})
}
