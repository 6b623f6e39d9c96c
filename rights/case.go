// Package rights handles data subject requests (GDPR art. 12-22) as tracked cases with
// legal clocks (DESIGN invariant 6): access, rectification, erasure, restriction, objection
// and portability. A case records when and through which channel the request came in
// its due date (one calendar month, one extension of up to two more months with
// reasons told to the person within the first month), how identity was verified,
// a refusal with its reasons and the right to complain to the CNIL or a court, and
// the answer, given in the channel of the request. Completing a case performs the
// request through the customer service: export, portable archive,
// rectification, erasure; restriction and objection go through the
// Restrictions hook. Every change is audited and writes an outbox event, in one
// transaction. Cases hold IDs, codes and times only, never personal values (D-5).
package rights

import (
	"time"

	"github.com/fidelis/fidelis"
)

// Kind is the right the person exercises.
type Kind string

// Kinds of requests.
const (
	KindAccess        Kind = "access"        // art. 15
	KindRectification Kind = "rectification" // art. 16
	KindErasure       Kind = "erasure"       // art. 17
	KindRestriction   Kind = "restriction"   // art. 18
	KindObjection     Kind = "objection"     // art. 21
	KindPortability   Kind = "portability"   // art. 20
)

// Kinds returns every kind, in display order.
func Kinds() []Kind {
	return []Kind{KindAccess, KindRectification, KindErasure, KindRestriction, KindObjection, KindPortability}
}

// Channel is how a request came in, and how it is answered.
type Channel string

// Channels.
const (
	ChannelEmail    Channel = "email"
	ChannelPortal   Channel = "portal"
	ChannelAPI      Channel = "api"
	ChannelPost     Channel = "post"
	ChannelPhone    Channel = "phone"
	ChannelInPerson Channel = "in_person"
)

// Channels returns every channel, electronic ones first.
func Channels() []Channel {
	return []Channel{ChannelEmail, ChannelPortal, ChannelAPI, ChannelPost, ChannelPhone, ChannelInPerson}
}

// Electronic reports whether the channel is electronic: a request made by electronic means
// is answered by electronic means (GDPR art. 12(3); R-4).
func (c Channel) Electronic() bool {
	return c == ChannelEmail || c == ChannelPortal || c == ChannelAPI
}

// Status is where a case stands.
type Status string

// Statuses. received -> in_progress -> completed | refused; extended is a case whose
// deadline was extended (from received or in_progress), which then completes or is refused.
const (
	StatusReceived   Status = "received"
	StatusInProgress Status = "in_progress"
	StatusExtended   Status = "extended"
	StatusCompleted  Status = "completed"
	StatusRefused    Status = "refused"
)

// Statuses returns every status, in lifecycle order.
func Statuses() []Status {
	return []Status{StatusReceived, StatusInProgress, StatusExtended, StatusCompleted, StatusRefused}
}

// Open reports whether the case still awaits an answer.
func (s Status) Open() bool {
	return s == StatusReceived || s == StatusInProgress || s == StatusExtended
}

// IdentityMethod is how the person's identity was checked. Checks are made only where
// there is reasonable doubt; "not_needed" records that there was none.
type IdentityMethod string

// Identity methods.
const (
	IdentityNotNeeded         IdentityMethod = "not_needed"         // no reasonable doubt (e.g. known sender address)
	IdentitySignedIn          IdentityMethod = "signed_in_account"  // request made from the person's signed-in account
	IdentityEmailConfirmation IdentityMethod = "email_confirmation" // confirmed from the address on record
	IdentityKnowledgeCheck    IdentityMethod = "knowledge_check"    // details only the person knows (e.g. last order)
	IdentityInPerson          IdentityMethod = "in_person"          // seen in person
	IdentityDocument          IdentityMethod = "id_document"        // identity document seen, not kept (CNIL)
)

// IdentityMethods returns every method.
func IdentityMethods() []IdentityMethod {
	return []IdentityMethod{IdentityNotNeeded, IdentitySignedIn, IdentityEmailConfirmation, IdentityKnowledgeCheck, IdentityInPerson, IdentityDocument}
}

// IdentityResult is the outcome of a check.
type IdentityResult string

// Identity results.
const (
	IdentityVerified IdentityResult = "verified"
	IdentityFailed   IdentityResult = "failed"
	IdentityNoCheck  IdentityResult = "not_needed"
)

// Identity records how identity was verified: method, result, by whom, when. There is
// no fee anywhere: requests are free of charge.
type Identity struct {
	Method IdentityMethod `json:"method"`
	Result IdentityResult `json:"result"`
	By     string         `json:"by"`
	At     time.Time      `json:"at"`
}

// ExtensionReason is a ground for extending the deadline (GDPR art. 12(3)).
type ExtensionReason string

// Extension reasons.
const (
	ExtendComplexity       ExtensionReason = "complexity"
	ExtendNumberOfRequests ExtensionReason = "number_of_requests"
)

// ExtensionReasons returns every extension reason.
func ExtensionReasons() []ExtensionReason {
	return []ExtensionReason{ExtendComplexity, ExtendNumberOfRequests}
}

// Extension is the one extension a case may have: up to two more months, with written
// reasons told to the person within the first month.
type Extension struct {
	Months  int               `json:"months"`
	Reasons []ExtensionReason `json:"reasons"`
	ToldAt  time.Time         `json:"told_at"`  // when the person was told
	ToldVia Channel           `json:"told_via"` // how
	At      time.Time         `json:"at"`
	By      string            `json:"by"`
}

// RefusalReason is a ground for refusing or not acting on a request.
type RefusalReason string

// Refusal reasons.
const (
	RefuseManifestlyUnfounded RefusalReason = "manifestly_unfounded"  // art. 12(5)
	RefuseExcessive           RefusalReason = "excessive"             // art. 12(5), e.g. repetitive
	RefuseIdentityNotVerified RefusalReason = "identity_not_verified" // art. 12(2), 12(6)
	RefuseLegalObligation     RefusalReason = "legal_obligation"      // art. 17(3)(b)
	RefuseLegalClaims         RefusalReason = "legal_claims"          // art. 17(3)(e), 21(1)
	RefuseCompellingGrounds   RefusalReason = "compelling_grounds"    // art. 21(1)
	RefuseRightsOfOthers      RefusalReason = "rights_of_others"      // art. 15(4), 20(4)
	RefuseNoData              RefusalReason = "no_data"               // nothing held about the person
)

// RefusalReasons returns every refusal reason.
func RefusalReasons() []RefusalReason {
	return []RefusalReason{RefuseManifestlyUnfounded, RefuseExcessive, RefuseIdentityNotVerified, RefuseLegalObligation,
		RefuseLegalClaims, RefuseCompellingGrounds, RefuseRightsOfOthers, RefuseNoData}
}

// Refusal records that the request was refused or not acted on, with its reasons;
// the letter (Letters) tells the person the reasons and their right to complain to the
// CNIL and to seek a judicial remedy.
type Refusal struct {
	Reasons []RefusalReason `json:"reasons"`
	Channel Channel         `json:"channel"`
	At      time.Time       `json:"at"`
	By      string          `json:"by"`
}

// Outcome says what completing a case did.
type Outcome string

// Outcomes.
const (
	OutcomeDataProvided     Outcome = "data_provided"     // access: the export and the readable page
	OutcomePortableProvided Outcome = "portable_provided" // portability: the zip of JSON and CSV
	OutcomeRectified        Outcome = "rectified"
	OutcomeErased           Outcome = "erased"
	OutcomeRestricted       Outcome = "restricted"
	OutcomeObjectionUpheld  Outcome = "objection_upheld"
)

// Answer is what was done and when: the reply to the person, in Channel.
type Answer struct {
	Outcome Outcome   `json:"outcome"`
	Channel Channel   `json:"channel"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	// Ref links the case to what it produced: "customer_version:N" for a rectification
	// (the change in the customer's history), the erasure receipt ID for an erasure.
	Ref string `json:"ref,omitempty"`
	// ErasureEffectiveAt is the receipt's effective-erasure date (erasure only).
	ErasureEffectiveAt *time.Time `json:"erasure_effective_at,omitempty"`
}

// Case is one rights request. It holds IDs, codes and times, never personal values.
type Case struct {
	ID         string
	CustomerID fidelis.CustomerID
	Kind       Kind
	Channel    Channel
	Status     Status
	ReceivedAt time.Time
	// OriginalDue is the calendar date one month after receipt; Due is the date in force
	// (OriginalDue, or later after an extension). Dates are midnight UTC values naming a
	// day of the Service's calendar.
	OriginalDue time.Time
	Due         time.Time
	Purposes    []fidelis.Purpose // objection: the purposes objected to
	Identity    *Identity
	Extension   *Extension
	Refusal     *Refusal
	Answer      *Answer
	CreatedAt   time.Time
	CreatedBy   string
	UpdatedAt   time.Time
	Version     int
}

// DeadlineState says how a case stands against its due date.
type DeadlineState string

// Deadline states.
const (
	DeadlineOK      DeadlineState = "ok"
	DeadlineDueSoon DeadlineState = "due_soon"
	DeadlineOverdue DeadlineState = "overdue"
	DeadlineClosed  DeadlineState = "closed" // answered or refused
)

// DateLayout is how due dates are written.
const DateLayout = "2006-01-02"

// civil returns the calendar date of t in loc as midnight UTC.
func civil(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// AddMonths returns date plus n calendar months: the same day number n months later, or,
// when that month is shorter, its last day (31 January + 1 month = 28 or 29 February;
// 31 March + 1 = 30 April). This is how a period "of one month" is counted (Regulation
// 1182/71 art. 3(2)(c), which the EDPB applies to art. 12(3)).
func AddMonths(date time.Time, n int) time.Time {
	y, m, d := date.Date()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), 0, 0, 0, 0, time.UTC)
}

// DueDate returns the due date of a request received at receivedAt, read in loc's calendar:
// one calendar month later.
func DueDate(receivedAt time.Time, loc *time.Location) time.Time {
	return AddMonths(civil(receivedAt, loc), 1)
}

// Deadline returns the case's deadline state at now in loc's calendar: overdue after the
// due date, due_soon from soonDays before it.
func (c *Case) Deadline(now time.Time, loc *time.Location, soonDays int) DeadlineState {
	if !c.Status.Open() {
		return DeadlineClosed
	}
	today := civil(now, loc)
	switch {
	case today.After(c.Due):
		return DeadlineOverdue
	case !today.Before(c.Due.AddDate(0, 0, -soonDays)):
		return DeadlineDueSoon
	}
	return DeadlineOK
}

// endOf returns the first instant after calendar date d in loc: a deadline on d holds until
// then.
func endOf(d time.Time, loc *time.Location) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
}
