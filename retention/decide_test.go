package retention_test

import (
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/retention"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr(t time.Time) *time.Time { return &t }

const cid = fidelis.CustomerID("cus_06h0a1kn2vk7k81ma000a4gne8")

// subject builds a subject collected on 2020-01-15 with the given activity.
func subject(activity map[retention.Kind]string) *retention.Subject {
	s := &retention.Subject{ID: cid, CollectedAt: day("2020-01-15"), Activity: map[retention.Kind]time.Time{}, Notices: map[retention.RuleID]*retention.NoticeRecord{}}
	for k, v := range activity {
		s.Activity[k] = day(v)
	}
	return s
}

func withNotice(s *retention.Subject, rule retention.RuleID, at string, res retention.NoticeResult) *retention.Subject {
	s.Notices[rule] = &retention.NoticeRecord{CustomerID: s.ID, Rule: rule, At: day(at), Result: res}
	return s
}

type decideCase struct {
	name   string
	sub    *retention.Subject
	now    string
	rules  retention.Rules
	noMail bool
	rule   retention.RuleID
	action retention.Action
	reason string
	last   string // the clock's start
	due    string
	actAt  string
}

func runDecide(t *testing.T, cases []decideCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			rules := tt.rules
			if rules == nil {
				rules = retention.Apply(nil)
			}
			d := retention.Decide(tt.sub, rules, day(tt.now), retention.Policy{CanNotify: !tt.noMail})
			if d.Rule != tt.rule || d.Action != tt.action || (tt.reason != "" && d.Reason != tt.reason) {
				t.Errorf("Decide at %s = rule %s, action %s (%s); want %s, %s (%s)", tt.now, d.Rule, d.Action, d.Reason, tt.rule, tt.action, tt.reason)
			}
			for _, c := range []struct {
				what string
				got  time.Time
				want string
			}{{"last activity", d.LastActivity, tt.last}, {"due", d.Due, tt.due}, {"act at", d.ActAt, tt.actAt}} {
				if c.want != "" && !c.got.Equal(day(c.want)) {
					t.Errorf("Decide at %s: %s = %s; want %s", tt.now, c.what, c.got.Format(time.DateOnly), c.want)
				}
			}
		})
	}
}

// TestDecide_Prospect_T1: 3 years from collection or the last contact from the prospect;
// the renewal request is sent once, 30 days before, and erasure waits for its grace period.
func TestDecide_Prospect_T1(t *testing.T) {
	objected := subject(nil)
	objected.State = &privacy.SubjectState{MarketingObjection: ptr(day("2021-01-01"))}
	withdrawn := subject(nil)
	withdrawn.State = &privacy.SubjectState{Consents: map[string]privacy.ConsentStatus{
		privacy.ConsentKey(fidelis.PurposeMarketingEmail, privacy.ChannelEmail): {Decision: privacy.ConsentWithdrawn}}}
	runDecide(t, []decideCase{
		{name: "within 3 years of collection", sub: subject(nil), now: "2022-12-15", rule: "T-1", action: retention.ActionNone, last: "2020-01-15", due: "2023-01-15"},
		{name: "renewal 30 days before", sub: subject(nil), now: "2022-12-16", rule: "T-1", action: retention.ActionNotify, due: "2023-01-15", actAt: "2023-01-15"},
		{name: "renewal late: grace from now", sub: subject(nil), now: "2023-06-01", rule: "T-1", action: retention.ActionNotify, actAt: "2023-07-01"},
		{name: "no mail server: blocked, never skipped", sub: subject(nil), now: "2023-06-01", noMail: true, rule: "T-1", action: retention.ActionBlocked, reason: "no_mail_server"},
		{name: "asked once: waits for the grace period", sub: withNotice(subject(nil), "T-1", "2023-06-01", retention.NoticeSent), now: "2023-06-30", rule: "T-1", action: retention.ActionWait, actAt: "2023-07-01"},
		{name: "asked once: erased after the grace period", sub: withNotice(subject(nil), "T-1", "2023-06-01", retention.NoticeSent), now: "2023-07-01", rule: "T-1", action: retention.ActionErase, reason: "retention_expired"},
		{name: "asked before due: erased at due", sub: withNotice(subject(nil), "T-1", "2022-12-16", retention.NoticeSent), now: "2023-01-15", rule: "T-1", action: retention.ActionErase},
		{name: "no address: erased at due", sub: withNotice(subject(nil), "T-1", "2023-01-10", retention.NoticeNoAddress), now: "2023-01-15", rule: "T-1", action: retention.ActionErase},
		{name: "a click restarts the clock", sub: subject(map[retention.Kind]string{retention.KindClick: "2021-06-01"}), now: "2023-06-01", rule: "T-1", action: retention.ActionNone, last: "2021-06-01", due: "2024-06-01"},
		{name: "a reply restarts the clock", sub: subject(map[retention.Kind]string{retention.KindReply: "2022-02-01"}), now: "2024-12-01", rule: "T-1", action: retention.ActionNone, due: "2025-02-01"},
		{name: "a contact after the request starts a new period", sub: withNotice(subject(map[retention.Kind]string{retention.KindShopVisit: "2023-06-10"}), "T-1", "2023-06-01", retention.NoticeSent), now: "2026-05-20", rule: "T-1", action: retention.ActionNotify, due: "2026-06-10"},
		{name: "objected to marketing: not asked, erased at due", sub: objected, now: "2023-01-15", rule: "T-1", action: retention.ActionErase},
		{name: "objected to marketing: nothing before due", sub: objected, now: "2023-01-14", rule: "T-1", action: retention.ActionNone},
		{name: "withdrew e-mail consent: not asked", sub: withdrawn, now: "2023-01-15", noMail: true, rule: "T-1", action: retention.ActionErase},
	})
}

// TestDecide_Customer_T2: 3 years after the last purchase or contact from the customer,
// then the restricted archive; erased when the contract evidence period ends (T-6).
func TestDecide_Customer_T2(t *testing.T) {
	archived := func(s *retention.Subject, at string) *retention.Subject {
		s.State = &privacy.SubjectState{Archived: ptr(day(at))}
		return s
	}
	buyer := func() *retention.Subject {
		return subject(map[retention.Kind]string{retention.KindPurchase: "2020-03-01"})
	}
	runDecide(t, []decideCase{
		{name: "within 3 years of the purchase", sub: buyer(), now: "2023-02-28", rule: "T-2", action: retention.ActionNone, last: "2020-03-01", due: "2023-03-01"},
		{name: "archived when 3 years have passed", sub: buyer(), now: "2023-03-01", rule: "T-2", action: retention.ActionArchive, reason: "retention_expired", actAt: "2023-03-01"},
		{name: "no notice for customers", sub: buyer(), now: "2023-03-01", noMail: true, rule: "T-2", action: retention.ActionArchive},
		{name: "in the archive until the evidence period ends", sub: archived(buyer(), "2023-03-02"), now: "2025-02-28", rule: "T-2", action: retention.ActionArchived, actAt: "2025-03-01"},
		{name: "erased 5 years after the relationship", sub: archived(buyer(), "2023-03-02"), now: "2025-03-01", rule: "T-2", action: retention.ActionErase, reason: "evidence_period_over"},
		{name: "first seen after the evidence period: erased", sub: buyer(), now: "2025-03-02", rule: "T-2", action: retention.ActionErase},
		{name: "a later contact from the customer ends the relationship later", sub: subject(map[retention.Kind]string{retention.KindPurchase: "2020-03-01", retention.KindCall: "2022-01-10"}), now: "2024-06-01", rule: "T-2", action: retention.ActionNone, last: "2022-01-10", due: "2025-01-10"},
		{name: "an operator's longer period", sub: buyer(), now: "2023-06-01", rules: retention.Apply([]retention.Override{{Rule: "T-2", Months: 48}}), rule: "T-2", action: retention.ActionNone, due: "2024-03-01"},
	})
}

// TestDecide_Account_T3: 2 years of inactivity of an online account holder, after a warning.
func TestDecide_Account_T3(t *testing.T) {
	holder := func() *retention.Subject {
		return subject(map[retention.Kind]string{retention.KindLogin: "2021-01-10"})
	}
	runDecide(t, []decideCase{
		{name: "within 2 years of the last sign-in", sub: holder(), now: "2022-12-01", rule: "T-3", action: retention.ActionNone, last: "2021-01-10", due: "2023-01-10"},
		{name: "warned 30 days before", sub: holder(), now: "2022-12-11", rule: "T-3", action: retention.ActionNotify},
		{name: "warned: grace period", sub: withNotice(holder(), "T-3", "2022-12-11", retention.NoticeSent), now: "2023-01-09", rule: "T-3", action: retention.ActionWait, actAt: "2023-01-10"},
		{name: "warned: erased at due", sub: withNotice(holder(), "T-3", "2022-12-11", retention.NoticeSent), now: "2023-01-10", rule: "T-3", action: retention.ActionErase},
		{name: "a buyer with an account is a customer", sub: subject(map[retention.Kind]string{retention.KindLogin: "2021-01-10", retention.KindPurchase: "2020-05-05"}), now: "2023-01-11", rule: "T-2", action: retention.ActionNone, due: "2024-01-10"},
	})
}

// TestDecide_LoyaltyMember_T4: membership, then 3 years of member inactivity.
func TestDecide_LoyaltyMember_T4(t *testing.T) {
	member := func(joined string, left string, activity map[retention.Kind]string) *retention.Subject {
		s := subject(activity)
		s.Membership = &retention.Membership{JoinedAt: day(joined)}
		if left != "" {
			s.Membership.LeftAt = ptr(day(left))
		}
		return s
	}
	runDecide(t, []decideCase{
		{name: "active member, inactive 3 years", sub: member("2019-05-01", "", map[retention.Kind]string{retention.KindRedemption: "2020-05-01"}), now: "2023-05-01", rule: "T-4", action: retention.ActionArchive, last: "2020-05-01"},
		{name: "active member, inactive less", sub: member("2019-05-01", "", map[retention.Kind]string{retention.KindShopVisit: "2021-05-01"}), now: "2023-05-01", rule: "T-4", action: retention.ActionNone, due: "2024-05-01"},
		{name: "member who left: 3 years after leaving", sub: member("2019-05-01", "2022-01-01", nil), now: "2024-12-31", rule: "T-4", action: retention.ActionNone, due: "2025-01-01"},
		{name: "member purchases count", sub: member("2019-05-01", "", map[retention.Kind]string{retention.KindPurchase: "2022-08-08"}), now: "2025-08-08", rule: "T-4", action: retention.ActionArchive, due: "2025-08-08"},
		{name: "erased 5 years after the membership ended", sub: member("2019-05-01", "2020-01-01", nil), now: "2025-01-01", rule: "T-4", action: retention.ActionErase, reason: "evidence_period_over"},
	})
}

// TestDecide_EvidenceAndAccounting_T5_T6: contract evidence sets the archive's end (T-6);
// accounting records have a 10-year floor and are never an action of retention (T-5).
func TestDecide_EvidenceAndAccounting_T5_T6(t *testing.T) {
	buyer := subject(map[retention.Kind]string{retention.KindPurchase: "2020-03-01"})
	short := retention.Apply([]retention.Override{{Rule: "T-6", Months: 24}})
	runDecide(t, []decideCase{
		{name: "evidence kept shorter than the active period: erased at its end", sub: buyer, now: "2023-03-01", rules: short, rule: "T-2", action: retention.ActionErase},
	})
	rules := retention.Apply(nil)
	acc := rules.Get(retention.RuleAccounting)
	if acc.Months != 120 || acc.MinMonths != 120 || acc.Outcome != retention.OutcomeKeep {
		t.Errorf("T-5 = %d months (min %d), %s; want 120, 120, keep", acc.Months, acc.MinMonths, acc.Outcome)
	}
	if ev := rules.Get(retention.RuleEvidence); ev.Months != 60 {
		t.Errorf("T-6 = %d months; want 60", ev.Months)
	}
	for _, id := range retention.RuleIDs() {
		r := rules.Get(id)
		if r.Name.FR == "" || r.Name.EN == "" || r.Description.FR == "" || r.Description.EN == "" || r.DefaultMonths != r.Months {
			t.Errorf("rule %s lacks a French or English text, or its default: %+v", id, r)
		}
	}
}

// TestDecide_LegalHold_T8: a hold (or a restriction for legal claims) suspends archiving,
// erasure and the notice announcing them; it does not hide the due date.
func TestDecide_LegalHold_T8(t *testing.T) {
	held := subject(map[retention.Kind]string{retention.KindPurchase: "2015-03-01"})
	held.Holds = []*retention.Hold{{ID: "hld_1", Case: "TJ-2026-17"}, {ID: "hld_2", Case: "CNIL-44"}}
	heldProspect := withNotice(subject(nil), "T-1", "2023-06-01", retention.NoticeSent)
	heldProspect.Holds = held.Holds
	restricted := subject(nil)
	restricted.State = &privacy.SubjectState{Restriction: &privacy.Restriction{Ground: privacy.RestrictLegalClaims}}
	runDecide(t, []decideCase{
		{name: "held customer is not archived nor erased", sub: held, now: "2026-01-01", rule: "T-2", action: retention.ActionHeld, reason: "legal_hold", due: "2018-03-01"},
		{name: "held prospect is not erased", sub: heldProspect, now: "2026-01-01", rule: "T-1", action: retention.ActionHeld},
		{name: "restricted for legal claims", sub: restricted, now: "2026-01-01", rule: "T-1", action: retention.ActionHeld, reason: "restricted_legal_claims"},
	})
	d := retention.Decide(held, retention.Apply(nil), day("2026-01-01"), retention.Policy{})
	if len(d.Holds) != 2 || d.Holds[0] != "CNIL-44" || d.Holds[1] != "TJ-2026-17" {
		t.Errorf("Holds = %v; want the two cases, sorted", d.Holds)
	}
}
