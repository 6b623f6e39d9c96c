package rights

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/privacy"
)

// Audit actions recorded by this package. The subject is the customer ID; the reason is
// "<kind>:<case id>", so the customer's access log shows each case by ID and kind only.
const (
	ActCreate   = "rights_request.create"
	ActRead     = "rights_request.read"
	ActStart    = "rights_request.start"
	ActIdentity = "rights_request.verify_identity"
	ActExtend   = "rights_request.extend"
	ActRefuse   = "rights_request.refuse"
	ActComplete = "rights_request.complete"
	ActExport   = "rights_request.export"
)

// DefaultDueSoonDays is how many days before its due date an open case is flagged due soon.
const DefaultDueSoonDays = 7

// MaxExtensionMonths is the longest extension GDPR art. 12(3) allows.
const MaxExtensionMonths = 2

// gdprStart is the date from which GDPR applies: no request can be received before it.
var gdprStart = time.Date(2018, time.May, 25, 0, 0, 0, 0, time.UTC)

// Restrictions is the hook through which completing a restriction or objection case takes
// effect on the customer. The lawfulness decision owns those states; this
// package only calls it. Methods return the fidelis error codes of the implementation.
type Restrictions interface {
	// Restrict freezes every processing of customer id but storage and legal claims.
	Restrict(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, caseID string) error
	// Lift ends a restriction (the person is told before, art. 18(3)).
	Lift(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, caseID string) error
	// Object records an upheld objection of customer id to purposes.
	Object(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, purposes []fidelis.Purpose, caseID string) error
}

// Service is the rights-request capability. It is safe for concurrent use.
type Service struct {
	Store     Store
	Customers *customer.Service
	Registry  *privacy.Registry
	Audit     *audit.Log
	Now       func() time.Time
	// Location is the calendar due dates are counted in; nil means UTC.
	Location *time.Location
	// DueSoonDays flags open cases due within this many days; 0 means DefaultDueSoonDays.
	DueSoonDays int
	// Restrictions applies restriction and objection cases; nil makes completing them
	// EUNAVAILABLE (never a silent success).
	Restrictions Restrictions
	// Sections are extra parts of the portability archive, after the customer's
	// own data: the loyalty ledger, orders with GTIN and promotion amounts, ...
	Sections []Section
	// Retention, when set, states how long each purpose's data are kept as the privacy
	// notice states it in lang (the retention rules in force, which an operator may have
	// changed from the registry's defaults); the readable access answer shows the same.
	Retention func(ctx context.Context, lang string) (map[fidelis.Purpose]string, error)
	// Notifier, when set, writes to the person as their request is received, extended,
	// refused or completed (R-4: an electronic request gets an electronic answer).
	Notifier Notifier
}

// Notifier writes to the person about their request. Prepare is called before a change of
// case c is carried out, while the customer's contact details still exist (an erasure
// removes them), and returns the function that sends the message once the change is
// committed, with the case as it then stands; nil when there is nothing to send. Failures
// to send are the notifier's to log and record: they never undo the change.
type Notifier interface {
	Prepare(ctx context.Context, c *Case) func(ctx context.Context, done *Case)
}

// notify tells the person of a change already made to c (one that keeps their record).
func (s *Service) notify(ctx context.Context, c *Case) {
	if s.Notifier == nil {
		return
	}
	if send := s.Notifier.Prepare(ctx, c); send != nil {
		send(ctx, c)
	}
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

func (s *Service) loc() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

func (s *Service) soonDays() int {
	if s.DueSoonDays > 0 {
		return s.DueSoonDays
	}
	return DefaultDueSoonDays
}

// Deadline returns c's deadline state now.
func (s *Service) Deadline(c *Case) DeadlineState { return c.Deadline(s.now(), s.loc(), s.soonDays()) }

// Lang returns the language the case is answered in: the customer's locale if it can be
// read, French otherwise (the controller is French).
func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "fr"
}

// authorize requires the data_protection purpose (rights requests are handled under it and
// no other) and the registry's decision for action; refusals are audited (P-1).
func (s *Service) authorize(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action string) error {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	_, err := s.Registry.Authorize(actor, p, a)
	if err == nil && p != fidelis.PurposeDataProtection {
		err = fidelis.Refusal("purpose_not_applicable", fmt.Sprintf("rights requests are handled under the purpose %q", fidelis.PurposeDataProtection))
	}
	if err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = "" // caller-chosen text never enters the audit log (D-5)
		}
		reason := fidelis.AsError(err).Reason
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Purpose: p, Outcome: audit.OutcomeDenied, Reason: reason}))
		return err
	}
	return nil
}

// Check runs the access decision for an operation without performing it, auditing a
// refusal. Transports call it before parsing a request (P-1). Reads need read; every
// change of a case needs update.
func (s *Service) Check(ctx context.Context, p fidelis.Purpose, a fidelis.Action) error {
	return s.authorize(ctx, p, a, "rights_request."+string(a))
}

func caseRef(c *Case) string { return string(c.Kind) + ":" + c.ID }

func (s *Service) entry(ctx context.Context, action string, c *Case, p fidelis.Purpose) audit.Entry {
	return s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(c.CustomerID), Purpose: p, Reason: caseRef(c)})
}

func (s *Service) event(typ string, c *Case) *Event {
	now := s.now()
	return &Event{ID: fidelis.NewID("evt", now), At: now, Type: typ, CaseID: c.ID, CustomerID: c.CustomerID, Kind: c.Kind, Status: c.Status}
}

func invalid(field, rule, msg string) error {
	return fidelis.Invalid(fidelis.FieldError{Field: field, Rule: rule, Message: msg})
}

func precondition(reason, msg string) error {
	return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: reason, Message: msg}
}

// NewCase is a request as staff (or, later, the portal) record it.
type NewCase struct {
	CustomerID fidelis.CustomerID
	Kind       Kind
	Channel    Channel
	// ReceivedAt is when the request reached the organisation, by any channel: it starts
	// the clock. Zero means now; it may be in the past (a letter logged later), never
	// in the future.
	ReceivedAt time.Time
	// Purposes are the purposes objected to (objection only).
	Purposes []fidelis.Purpose
}

// Create records a new request as a case due one calendar month after receipt.
func (s *Service) Create(ctx context.Context, p fidelis.Purpose, in NewCase) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActCreate); err != nil {
		return nil, err
	}
	now := s.now()
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	if !fidelis.ValidID("cus", string(in.CustomerID)) {
		bad("customer_id", "invalid_id", "is not a customer id")
	}
	if !slices.Contains(Kinds(), in.Kind) {
		bad("kind", "invalid_kind", "must be one of: access, rectification, erasure, restriction, objection, portability")
	}
	if !slices.Contains(Channels(), in.Channel) {
		bad("channel", "invalid_channel", "must be one of: email, portal, api, post, phone, in_person")
	}
	received := in.ReceivedAt
	if received.IsZero() {
		received = now
	}
	received = fidelis.UTC(received)
	switch {
	case received.After(now):
		bad("received_at", "in_future", "cannot be in the future")
	case received.Before(gdprStart):
		bad("received_at", "too_old", "cannot be before 25 May 2018, when the GDPR began to apply")
	}
	purposes := slices.Clone(in.Purposes)
	slices.Sort(purposes)
	purposes = slices.Compact(purposes)
	if in.Kind == KindObjection {
		if len(purposes) == 0 {
			bad("purposes", "required", "an objection names the purposes objected to")
		}
		for _, name := range purposes {
			decl, err := s.Registry.Purpose(name)
			if err != nil {
				bad("purposes", "unknown_purpose", "names a purpose that is not declared in the registry")
				break
			}
			// Objection is to processing on legitimate interest (art. 21(1)) or to direct
			// marketing (art. 21(2)); consent is withdrawn, not objected to.
			if decl.LawfulBasis != fidelis.BasisLegitimateInterest && !marketing(name) {
				bad("purposes", "not_objectable", fmt.Sprintf("purpose %q rests on %s; objection applies to legitimate interest and direct marketing", name, decl.LawfulBasis))
			}
		}
	} else if len(purposes) > 0 {
		bad("purposes", "not_allowed", "only an objection names purposes")
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	actor, _ := fidelis.ActorFrom(ctx)
	due := DueDate(received, s.loc())
	c := &Case{
		ID: fidelis.NewID("rrq", now), CustomerID: in.CustomerID, Kind: in.Kind, Channel: in.Channel, Status: StatusReceived,
		ReceivedAt: received, OriginalDue: due, Due: due, Purposes: purposes,
		CreatedAt: now, CreatedBy: actor.String(), UpdatedAt: now, Version: 1,
	}
	err := s.Store.Write(ctx, func(tx Tx) error {
		ok, err := tx.HasCustomer(ctx, c.CustomerID)
		if err != nil {
			return err
		}
		if !ok {
			return invalid("customer_id", "unknown_customer", "no customer with this id (never existed or erased)")
		}
		if err := tx.InsertRightsRequest(ctx, c); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.entry(ctx, ActCreate, c, p)); err != nil {
			return err
		}
		return tx.AppendRightsEvent(ctx, s.event("rights_request.received", c))
	})
	if err != nil {
		return nil, fmt.Errorf("rights.Create: %w", err)
	}
	s.notify(ctx, c)
	return c, nil
}

// marketing reports whether p is a direct-marketing purpose, to which objection is absolute
//
func marketing(p fidelis.Purpose) bool {
	return p == fidelis.PurposeMarketingEmail || p == fidelis.PurposeMarketingSMS
}

func validCaseID(id string) error {
	if !fidelis.ValidID("rrq", id) {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no rights request with this id"}
	}
	return nil
}

// Get returns case id and audits the read.
func (s *Service) Get(ctx context.Context, p fidelis.Purpose, id string) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead); err != nil {
		return nil, err
	}
	if err := validCaseID(id); err != nil {
		return nil, err
	}
	var c *Case
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { c, err = tx.GetRightsRequest(ctx, id); return err }); err != nil {
		return nil, fmt.Errorf("rights.Get: %w", err)
	}
	if err := s.Store.RecordAudit(ctx, s.entry(ctx, ActRead, c, p)); err != nil {
		return nil, fmt.Errorf("rights.Get: audit: %w", err)
	}
	return c, nil
}

// Page is one page of cases. Next is "" on the last page.
type Page struct {
	Items []*Case
	Next  string
}

// Query selects and pages a list of cases.
type Query struct {
	Filter
	Cursor string
	Limit  int
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

func encodeCursor(c *Case) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Due.Format(DateLayout) + "|" + c.ID))
}

func decodeCursor(s string) (*Cursor, error) {
	bad := invalid("cursor", "invalid_cursor", "is not a cursor returned by a previous page")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	d, id, ok := strings.Cut(string(b), "|")
	due, err := time.Parse(DateLayout, d)
	if !ok || err != nil || !fidelis.ValidID("rrq", id) {
		return nil, bad
	}
	return &Cursor{Due: due, ID: id}, nil
}

// List returns cases sorted by due date (the most urgent first), then by ID, a page at a
// time, and audits one read per case.
func (s *Service) List(ctx context.Context, p fidelis.Purpose, q Query) (*Page, error) {
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead); err != nil {
		return nil, err
	}
	var after *Cursor
	if q.Cursor != "" {
		var err error
		if after, err = decodeCursor(q.Cursor); err != nil {
			return nil, err
		}
	}
	n := q.Limit
	switch {
	case n <= 0:
		n = DefaultPageSize
	case n > MaxPageSize:
		n = MaxPageSize
	}
	var cases []*Case
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { cases, err = tx.ListRightsRequests(ctx, q.Filter, after, n+1); return err }); err != nil {
		return nil, fmt.Errorf("rights.List: %w", err)
	}
	page := &Page{Items: cases}
	if len(cases) > n {
		page.Items = cases[:n]
		page.Next = encodeCursor(cases[n-1])
	}
	if len(page.Items) > 0 {
		entries := make([]audit.Entry, len(page.Items))
		for i, c := range page.Items {
			entries[i] = s.entry(ctx, ActRead, c, p)
		}
		if err := s.Store.RecordAudit(ctx, entries...); err != nil {
			return nil, fmt.Errorf("rights.List: audit: %w", err)
		}
	}
	return page, nil
}

// change runs one state change of case id in a write transaction: fn checks and changes
// the case; the case is stored with its audit entry and event.
func (s *Service) change(ctx context.Context, p fidelis.Purpose, id, action, eventType string, fn func(c *Case, now time.Time, actor string) error) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, action); err != nil {
		return nil, err
	}
	if err := validCaseID(id); err != nil {
		return nil, err
	}
	now := s.now()
	actor, _ := fidelis.ActorFrom(ctx)
	var out *Case
	err := s.Store.Write(ctx, func(tx Tx) error {
		c, err := tx.GetRightsRequest(ctx, id)
		if err != nil {
			return err
		}
		if !c.Status.Open() {
			return precondition("case_closed", fmt.Sprintf("the request is %s; a closed case cannot change", c.Status))
		}
		if err := fn(c, now, actor.String()); err != nil {
			return err
		}
		c.Version++
		c.UpdatedAt = now
		if err := tx.UpdateRightsRequest(ctx, c); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.entry(ctx, action, c, p)); err != nil {
			return err
		}
		out = c
		return tx.AppendRightsEvent(ctx, s.event(eventType, c))
	})
	if err != nil {
		return nil, fmt.Errorf("rights: %s: %w", action, err)
	}
	return out, nil
}

// Start moves a received case to in_progress.
func (s *Service) Start(ctx context.Context, p fidelis.Purpose, id string) (*Case, error) {
	return s.change(ctx, p, id, ActStart, "rights_request.started", func(c *Case, _ time.Time, _ string) error {
		if c.Status != StatusReceived {
			return precondition("invalid_transition", fmt.Sprintf("only a received request can be started; this one is %s", c.Status))
		}
		c.Status = StatusInProgress
		return nil
	})
}

// IdentityInput is the record of an identity check.
type IdentityInput struct {
	Method IdentityMethod
	Result IdentityResult // empty with not_needed
}

// VerifyIdentity records how the person's identity was verified, or that no check was
// needed because there was no reasonable doubt. A later record replaces an earlier
// one (a failed check followed by a successful one); the audit log keeps both.
func (s *Service) VerifyIdentity(ctx context.Context, p fidelis.Purpose, id string, in IdentityInput) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActIdentity); err != nil {
		return nil, err
	}
	switch {
	case !slices.Contains(IdentityMethods(), in.Method):
		return nil, invalid("method", "invalid_method", "must be one of: not_needed, signed_in_account, email_confirmation, knowledge_check, in_person, id_document")
	case in.Method == IdentityNotNeeded && in.Result != "" && in.Result != IdentityNoCheck:
		return nil, invalid("result", "invalid_result", "must be absent or not_needed when no check was needed")
	case in.Method != IdentityNotNeeded && in.Result != IdentityVerified && in.Result != IdentityFailed:
		return nil, invalid("result", "invalid_result", "must be verified or failed")
	}
	if in.Method == IdentityNotNeeded {
		in.Result = IdentityNoCheck
	}
	return s.change(ctx, p, id, ActIdentity, "rights_request.identity_verified", func(c *Case, now time.Time, actor string) error {
		c.Identity = &Identity{Method: in.Method, Result: in.Result, By: actor, At: now}
		return nil
	})
}

// ExtendInput is an extension of the deadline.
type ExtendInput struct {
	Months  int
	Reasons []ExtensionReason
	// ToldAt is when the person was told of the extension and its reasons (zero: now);
	// ToldVia how (empty: the request's channel).
	ToldAt  time.Time
	ToldVia Channel
}

// Extend extends the deadline once, by one or two months, for the reasons given, told to the
// person within the first month (R-1, GDPR art. 12(3)). Refused after the original due
// date, for a second extension, or for more than two months.
func (s *Service) Extend(ctx context.Context, p fidelis.Purpose, id string, in ExtendInput) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActExtend); err != nil {
		return nil, err
	}
	var errs []fidelis.FieldError
	if in.Months < 1 || in.Months > MaxExtensionMonths {
		errs = append(errs, fidelis.FieldError{Field: "months", Rule: "out_of_range", Message: "an extension is of 1 or 2 months (GDPR art. 12(3))"})
	}
	reasons := slices.Clone(in.Reasons)
	slices.Sort(reasons)
	reasons = slices.Compact(reasons)
	if len(reasons) == 0 {
		errs = append(errs, fidelis.FieldError{Field: "reasons", Rule: "required", Message: "an extension needs its reasons, which are told to the person"})
	}
	for _, r := range reasons {
		if !slices.Contains(ExtensionReasons(), r) {
			errs = append(errs, fidelis.FieldError{Field: "reasons", Rule: "invalid_reason", Message: "must be among: complexity, number_of_requests"})
			break
		}
	}
	if in.ToldVia != "" && !slices.Contains(Channels(), in.ToldVia) {
		errs = append(errs, fidelis.FieldError{Field: "told_via", Rule: "invalid_channel", Message: "must be one of: email, portal, api, post, phone, in_person"})
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	out, err := s.change(ctx, p, id, ActExtend, "rights_request.extended", func(c *Case, now time.Time, actor string) error {
		if c.Extension != nil {
			return precondition("already_extended", "the deadline was already extended once; GDPR art. 12(3) allows one extension")
		}
		if c.Status != StatusReceived && c.Status != StatusInProgress {
			return precondition("invalid_transition", fmt.Sprintf("a %s request cannot be extended", c.Status))
		}
		limit := endOf(c.OriginalDue, s.loc())
		if !now.Before(limit) {
			return precondition("extension_too_late", "the original due date has passed: an extension must be decided and told to the person within the first month")
		}
		told := fidelis.UTC(in.ToldAt)
		if in.ToldAt.IsZero() {
			told = now
		}
		switch {
		case told.After(now):
			return invalid("told_at", "in_future", "cannot be in the future: record the extension once the person has been told")
		case told.Before(c.ReceivedAt):
			return invalid("told_at", "before_receipt", "cannot be before the request was received")
		}
		via := in.ToldVia
		if via == "" {
			via = c.Channel
		}
		if err := answerChannel("told_via", c.Channel, via); err != nil {
			return err
		}
		c.Extension = &Extension{Months: in.Months, Reasons: reasons, ToldAt: told, ToldVia: via, At: now, By: actor}
		c.Due = AddMonths(c.OriginalDue, in.Months)
		c.Status = StatusExtended
		return nil
	})
	if err == nil {
		s.notify(ctx, out)
	}
	return out, err
}

// answerChannel enforces R-4: a request made by electronic means is answered by electronic
// means.
func answerChannel(field string, request, answer Channel) error {
	if !slices.Contains(Channels(), answer) {
		return invalid(field, "invalid_channel", "must be one of: email, portal, api, post, phone, in_person")
	}
	if request.Electronic() && !answer.Electronic() {
		return &fidelis.Error{Code: fidelis.EINVALID, Reason: "electronic_answer_required",
			Message: "the request was made by electronic means, so it is answered by electronic means (GDPR art. 12(3))",
			Fields:  []fidelis.FieldError{{Field: field, Rule: "electronic_answer_required", Message: "must be email, portal or api for a request made by electronic means"}}}
	}
	return nil
}

// RefuseInput is a refusal.
type RefuseInput struct {
	Reasons []RefusalReason
	Channel Channel // how the person is told; empty: the request's channel
}

// Refuse closes the case without acting on it, with its reasons; the letter tells the
// person the reasons and their right to complain to the CNIL and to a court.
func (s *Service) Refuse(ctx context.Context, p fidelis.Purpose, id string, in RefuseInput) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActRefuse); err != nil {
		return nil, err
	}
	reasons := slices.Clone(in.Reasons)
	slices.Sort(reasons)
	reasons = slices.Compact(reasons)
	if len(reasons) == 0 {
		return nil, invalid("reasons", "required", "a refusal needs its reasons, which are told to the person")
	}
	for _, r := range reasons {
		if !slices.Contains(RefusalReasons(), r) {
			return nil, invalid("reasons", "invalid_reason", "must be among: manifestly_unfounded, excessive, identity_not_verified, legal_obligation, legal_claims, compelling_grounds, rights_of_others, no_data")
		}
	}
	out, err := s.change(ctx, p, id, ActRefuse, "rights_request.refused", func(c *Case, now time.Time, actor string) error {
		ch := in.Channel
		if ch == "" {
			ch = c.Channel
		}
		if err := answerChannel("channel", c.Channel, ch); err != nil {
			return err
		}
		c.Refusal = &Refusal{Reasons: reasons, Channel: ch, At: now, By: actor}
		c.Status = StatusRefused
		return nil
	})
	if err == nil {
		s.notify(ctx, out)
	}
	return out, err
}

// CompleteInput is the answer to a case.
type CompleteInput struct {
	Channel Channel // how the answer is given; empty: the request's channel
	// Changes are the rectified fields (rectification only); ExpectVersion, when not 0, the
	// customer version they apply to.
	Changes       *customer.Input
	ExpectVersion int
}

// Complete performs the request and records the answer: what was done, when, how the
// person was told. The case must be in progress (or extended) and the person's identity
// recorded and not failed.
func (s *Service) Complete(ctx context.Context, p fidelis.Purpose, id string, in CompleteInput) (*Case, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActComplete); err != nil {
		return nil, err
	}
	if err := validCaseID(id); err != nil {
		return nil, err
	}
	var c *Case
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { c, err = tx.GetRightsRequest(ctx, id); return err }); err != nil {
		return nil, fmt.Errorf("rights.Complete: %w", err)
	}
	if err := s.completable(c); err != nil {
		return nil, err
	}
	ch := in.Channel
	if ch == "" {
		ch = c.Channel
	}
	if err := answerChannel("channel", c.Channel, ch); err != nil {
		return nil, err
	}
	if c.Kind == KindRectification {
		if in.Changes == nil || len(in.Changes.Fields()) == 0 {
			return nil, invalid("changes", "required", "a rectification names the fields to correct")
		}
	} else if in.Changes != nil {
		return nil, invalid("changes", "not_allowed", "only a rectification carries changes")
	}
	// The letter is prepared before the request is carried out: an erasure removes the
	// address it goes to.
	var send func(context.Context, *Case)
	if s.Notifier != nil {
		send = s.Notifier.Prepare(ctx, c)
	}
	ans, err := s.perform(ctx, p, c, in)
	if err != nil {
		return nil, err
	}
	ans.Channel = ch
	out, err := s.change(ctx, p, id, ActComplete, "rights_request.completed", func(c *Case, now time.Time, actor string) error {
		if err := s.completable(c); err != nil {
			return err
		}
		ans.At, ans.By = now, actor
		c.Answer = ans
		c.Status = StatusCompleted
		return nil
	})
	if err == nil && send != nil {
		send(ctx, out)
	}
	return out, err
}

// completable checks the state a case must be in to be completed.
func (s *Service) completable(c *Case) error {
	switch {
	case !c.Status.Open():
		return precondition("case_closed", fmt.Sprintf("the request is %s; a closed case cannot change", c.Status))
	case c.Status == StatusReceived:
		return precondition("invalid_transition", "start the request before completing it")
	case c.Identity == nil:
		return precondition("identity_not_recorded", "record how the person's identity was verified (or that no check was needed) before answering (R-3)")
	case c.Identity.Result == IdentityFailed:
		return precondition("identity_failed", "the person's identity could not be verified: refuse the request (identity_not_verified) or verify it again")
	}
	return nil
}

// ErrNoRestrictions is returned when a restriction or objection case is completed and no
// Restrictions implementation is wired: the request is not silently marked done.
var ErrNoRestrictions = &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "restrictions_unavailable",
	Message: "restriction and objection cannot be applied: the restriction service is not available in this installation; the case stays open"}

// perform carries out the request through the customer service (or the Restrictions hook)
// and returns the answer to record.
func (s *Service) perform(ctx context.Context, p fidelis.Purpose, c *Case, in CompleteInput) (*Answer, error) {
	switch c.Kind {
	case KindAccess:
		if _, err := s.Customers.Export(ctx, p, c.CustomerID); err != nil {
			return nil, err
		}
		return &Answer{Outcome: OutcomeDataProvided}, nil
	case KindPortability:
		if _, err := s.Customers.Export(ctx, p, c.CustomerID); err != nil {
			return nil, err
		}
		return &Answer{Outcome: OutcomePortableProvided}, nil
	case KindRectification:
		// through the customer service, so the history keeps the previous values and
		// the change is an event for the recipients; the case names the version it made.
		cu, err := s.Customers.Update(ctx, p, c.CustomerID, *in.Changes, in.ExpectVersion)
		if err != nil {
			return nil, err
		}
		return &Answer{Outcome: OutcomeRectified, Ref: fmt.Sprintf("customer_version:%d", cu.Version)}, nil
	case KindErasure:
		r, err := s.Customers.Erase(ctx, p, c.CustomerID)
		if err != nil {
			return nil, err
		}
		eff := r.EffectiveAt
		return &Answer{Outcome: OutcomeErased, Ref: r.ID, ErasureEffectiveAt: &eff}, nil
	case KindRestriction:
		if s.Restrictions == nil {
			return nil, ErrNoRestrictions
		}
		if err := s.Restrictions.Restrict(ctx, p, c.CustomerID, c.ID); err != nil {
			return nil, err
		}
		return &Answer{Outcome: OutcomeRestricted}, nil
	case KindObjection:
		if s.Restrictions == nil {
			return nil, ErrNoRestrictions
		}
		if err := s.Restrictions.Object(ctx, p, c.CustomerID, c.Purposes, c.ID); err != nil {
			return nil, err
		}
		// an objection to direct marketing puts the e-mail and phone on the
		// suppression list, so a re-import does not bring the person back.
		if slices.ContainsFunc(c.Purposes, marketing) {
			if _, err := s.Customers.Suppress(ctx, p, c.CustomerID); err != nil {
				return nil, err
			}
		}
		return &Answer{Outcome: OutcomeObjectionUpheld}, nil
	}
	return nil, errors.New("rights: unknown kind " + string(c.Kind))
}
