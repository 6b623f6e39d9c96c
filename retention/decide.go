package retention

import (
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

// Kind is a kind of activity. Every kind but KindEmailOpen is a contact that comes from the
// customer, and restarts their retention clock (T-1).
type Kind string

// Activity kinds.
const (
	KindPurchase   Kind = "purchase"   // a purchase (loyalty orders count by themselves)
	KindClick      Kind = "click"      // a click in a message or on the site
	KindReply      Kind = "reply"      // a reply to a message
	KindLogin      Kind = "login"      // a sign-in to an online account (T-3)
	KindShopVisit  Kind = "shop_visit" // a visit to a shop, identified (loyalty card, receipt)
	KindCall       Kind = "call"       // a call or letter from the customer
	KindRedemption Kind = "redemption" // points used by the member (the loyalty ledger counts by itself)
	// KindEmailOpen is refused: an open is measured by a tracking pixel, not done by the
	// person, and the CNIL does not count it as a contact (T-1). Fidelis does not store it
	// (D-1: data it would never use).
	KindEmailOpen Kind = "email_open"
)

// Kinds returns the kinds of activity that are recorded, in order.
func Kinds() []Kind {
	return []Kind{KindPurchase, KindClick, KindReply, KindLogin, KindShopVisit, KindCall, KindRedemption}
}

// Category is the relationship a customer has, which decides the rule that governs them.
type Category string

// Categories, from the weakest relationship to the strongest.
const (
	CategoryProspect Category = "prospect" // no purchase, no membership, no account: T-1
	CategoryAccount  Category = "account"  // an online account, no purchase, no membership: T-3
	CategoryCustomer Category = "customer" // at least one purchase: T-2
	CategoryMember   Category = "member"   // a loyalty member, now or before: T-4 (and T-2)
)

// Membership is a customer's loyalty membership as retention sees it: when they first
// joined and, if they left every programme, when they last left.
type Membership struct {
	JoinedAt time.Time
	LeftAt   *time.Time
}

// Hold is a legal hold (T-8): for a named case, with a reason, it suspends archiving and
// erasure of one customer until it is lifted.
type Hold struct {
	ID         string
	CustomerID fidelis.CustomerID
	Case       string // the case's reference: letters, digits, . _ / -
	Reason     string
	PlacedBy   string
	PlacedAt   time.Time
	LiftedBy   string
	LiftedAt   *time.Time
	LiftReason string
}

// Active reports whether the hold is in force.
func (h *Hold) Active() bool { return h.LiftedAt == nil }

// NoticeResult is what became of a notice.
type NoticeResult string

// Notice results. Only a sent notice opens a grace period; the others let the rule act at
// its due date, since there is no one to wait for.
const (
	NoticeSent      NoticeResult = "sent"
	NoticeNoAddress NoticeResult = "no_address" // the customer has no e-mail address
	NoticeNotAsked  NoticeResult = "not_asked"  // T-1: the prospect objected or withdrew: no renewal is asked
)

// NoticeRecord records that a customer was sent (or could not be sent) the notice of a rule:
// it is asked only once per period (T-1, T-3).
type NoticeRecord struct {
	CustomerID fidelis.CustomerID
	Rule       RuleID
	Notice     Notice
	At         time.Time
	Result     NoticeResult
	MessageID  string // the Message-ID of the sent message, "" otherwise
}

// Subject is what retention knows about one customer: facts, no personal values.
type Subject struct {
	ID          fidelis.CustomerID
	CollectedAt time.Time
	// Activity holds the last time of each kind of activity that came from the customer.
	Activity   map[Kind]time.Time
	Membership *Membership
	State      *privacy.SubjectState // nil: none stored
	Holds      []*Hold               // active holds only
	Notices    map[RuleID]*NoticeRecord
}

// LastContact returns the last activity from the customer, zero if none.
func (s *Subject) LastContact() time.Time {
	var t time.Time
	for _, at := range s.Activity {
		t = later(t, at)
	}
	return t
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Action is what a retention run does (or would do) to one customer.
type Action string

// Actions.
const (
	ActionNone     Action = "none"     // within its period
	ActionNotify   Action = "notify"   // send the renewal request or the warning now
	ActionWait     Action = "wait"     // notice given, grace period running
	ActionArchive  Action = "archive"  // move to the restricted intermediate archive (T-7)
	ActionArchived Action = "archived" // in the archive, erasure not yet due
	ActionErase    Action = "erase"    // erase by crypto-shredding (T-7, R-8)
	ActionHeld     Action = "held"     // due, but a legal hold suspends it (T-8)
	ActionBlocked  Action = "blocked"  // a notice is due but no mail server is configured
	ActionFailed   Action = "failed"   // the run tried and failed; the next run retries
)

// Actions returns every action, in report order.
func Actions() []Action {
	return []Action{ActionNotify, ActionWait, ActionArchive, ActionErase, ActionHeld, ActionBlocked, ActionFailed, ActionArchived, ActionNone}
}

// Decision is what retention decides for one customer now, and why: the rule, the last
// activity its clock started from, and the date the action falls due.
type Decision struct {
	CustomerID   fidelis.CustomerID
	Category     Category
	Rule         RuleID
	LastActivity time.Time // the start of the rule's period: collection, last contact, purchase or membership end
	Due          time.Time // when the rule's period ends (or ended)
	ActAt        time.Time // when the action falls due: Due, or the end of the grace period, or the end of the archive
	NoticeAt     time.Time // when the notice was given; zero if none
	Action       Action
	// Reason is a stable key: retention_expired, evidence_period_over, notice_due,
	// grace_period, legal_hold, restricted_legal_claims, no_mail_server, in_period, ...
	Reason string
	Holds  []string // the cases of the active holds
}

// Policy is how decisions are taken besides the rules.
type Policy struct {
	// Grace is how long after a notice the rule waits, and how early before the due date
	// the notice is sent (default 30 days).
	Grace time.Duration
	// CanNotify is false when no mail server is configured: due notices are then blocked,
	// never skipped (T-1: asked before deletion).
	CanNotify bool
}

// DefaultGrace is the default grace period after a renewal request or a warning.
const DefaultGrace = 30 * 24 * time.Hour

// Decide decides what happens to subject s at now under rules (T-1..T-8). It is pure: the
// same facts always give the same decision.
func Decide(s *Subject, rules Rules, now time.Time, pol Policy) Decision {
	if pol.Grace <= 0 {
		pol.Grace = DefaultGrace
	}
	d := Decision{CustomerID: s.ID}
	contact := s.LastContact()
	purchase := s.Activity[KindPurchase]
	archived := s.State != nil && s.State.Archived != nil
	if s.Membership != nil || !purchase.IsZero() {
		decideContract(&d, s, rules, now, contact, purchase, archived)
	} else {
		decideNoContract(&d, s, rules, now, contact, pol)
	}
	// T-8: a legal hold suspends archiving and erasure (and the notice announcing them); a
	// restriction for legal claims (GDPR art. 18(1)(c)) keeps the data as well.
	switch d.Action {
	case ActionArchive, ActionErase, ActionNotify, ActionBlocked:
		if len(s.Holds) > 0 {
			d.Action, d.Reason = ActionHeld, "legal_hold"
			for _, h := range s.Holds {
				d.Holds = append(d.Holds, h.Case)
			}
			slices.Sort(d.Holds)
		} else if s.State != nil && s.State.Restriction != nil && s.State.Restriction.Ground == privacy.RestrictLegalClaims {
			d.Action, d.Reason = ActionHeld, "restricted_legal_claims"
		}
	}
	return d
}

// decideContract decides for customers with a contract (a purchase or a membership): at
// the end of T-2 or T-4 (whichever ends later) the data goes to the restricted archive,
// where the contract evidence is kept until T-6 ends; then it is erased.
func decideContract(d *Decision, s *Subject, rules Rules, now, contact, purchase time.Time, archived bool) {
	d.Category = CategoryCustomer
	var start time.Time
	if !purchase.IsZero() {
		// T-2: the end of the commercial relationship is the last purchase or the last
		// contact from the customer, whichever is later.
		start = later(purchase, contact)
		d.Rule, d.LastActivity, d.Due = RuleCustomer, start, rules.End(RuleCustomer, start)
	}
	if m := s.Membership; m != nil {
		d.Category = CategoryMember
		// T-4: membership, then member inactivity; any contact from the member counts.
		ms := m.JoinedAt
		if m.LeftAt != nil {
			ms = later(ms, *m.LeftAt)
		}
		ms = later(ms, contact)
		if due := rules.End(RuleLoyalty, ms); d.Rule == "" || !due.Before(d.Due) {
			d.Rule, d.LastActivity, d.Due = RuleLoyalty, ms, due
		}
		start = later(start, ms)
	}
	// T-6: the contract evidence is kept 5 years after the relationship ends; the archive
	// never outlives it, and never ends before the active period does.
	eraseAt := later(d.Due, rules.End(RuleEvidence, start))
	switch {
	case archived && !now.Before(eraseAt):
		d.ActAt, d.Action, d.Reason = eraseAt, ActionErase, "evidence_period_over"
	case archived:
		d.ActAt, d.Action, d.Reason = eraseAt, ActionArchived, "in_archive"
	case now.Before(d.Due):
		d.ActAt, d.Action, d.Reason = d.Due, ActionNone, "in_period"
	case !now.Before(eraseAt):
		d.ActAt, d.Action, d.Reason = eraseAt, ActionErase, "evidence_period_over"
	default:
		d.ActAt, d.Action, d.Reason = d.Due, ActionArchive, "retention_expired"
	}
}

// decideNoContract decides for prospects (T-1) and account holders (T-3): no contract, so
// nothing to keep as evidence: when the period ends, after the notice and its grace period,
// the data is erased.
func decideNoContract(d *Decision, s *Subject, rules Rules, now, contact time.Time, pol Policy) {
	d.Category, d.Rule = CategoryProspect, RuleProspect
	if !s.Activity[KindLogin].IsZero() {
		// T-3: an account holder's data was collected through their account; when it lies
		// dormant, it goes (D-1: the shorter period).
		d.Category, d.Rule = CategoryAccount, RuleAccount
	}
	rule := rules.Get(d.Rule)
	d.LastActivity = later(s.CollectedAt, contact)
	d.Due = rules.End(d.Rule, d.LastActivity)
	d.ActAt = d.Due
	// A notice counts for this period if it was given after the clock last started: a
	// contact after it starts a new period, which will have its own notice.
	n := s.Notices[d.Rule]
	if n != nil && n.At.Before(d.LastActivity) {
		n = nil
	}
	switch {
	case n != nil:
		d.NoticeAt = n.At
		if n.Result == NoticeSent {
			d.ActAt = later(d.Due, n.At.Add(pol.Grace))
		}
	case rule.Notice != NoticeNone && askable(rule.Notice, s.State):
		if now.Before(d.Due.Add(-pol.Grace)) {
			d.Action, d.Reason = ActionNone, "in_period"
			return
		}
		if !pol.CanNotify {
			d.Action, d.Reason = ActionBlocked, "no_mail_server"
			return
		}
		d.ActAt = later(d.Due, now.Add(pol.Grace))
		d.Action, d.Reason = ActionNotify, "notice_due"
		return
	}
	switch {
	case !now.Before(d.ActAt):
		d.Action, d.Reason = ActionErase, "retention_expired"
	case n != nil:
		d.Action, d.Reason = ActionWait, "grace_period"
	default:
		d.Action, d.Reason = ActionNone, "in_period"
	}
}

// askable reports whether the notice may be sent to a subject in state st. A renewal
// request is a marketing message: not to a prospect who objected to direct marketing or
// withdrew or refused e-mail marketing (R-12, C-2); their data is erased at the due date
// without one. A warning of deletion is always due.
func askable(n Notice, st *privacy.SubjectState) bool {
	if n != NoticeRenewal || st == nil {
		return true
	}
	if st.MarketingObjection != nil {
		return false
	}
	if c, ok := st.Consent(fidelis.PurposeMarketingEmail, privacy.ChannelEmail); ok && c.Decision != privacy.ConsentGranted {
		return false
	}
	return true
}
