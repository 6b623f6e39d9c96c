package privacy

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Audit actions recorded by the subject-state service.
const (
	ActRestrict       = "privacy.restrict"
	ActLiftRestrict   = "privacy.restriction_lift"
	ActObject         = "privacy.object"
	ActOverride       = "privacy.objection_override"
	ActReadState      = "privacy.state_read"
	ScopeDirectMarket = "direct_marketing" // the objection scope of R-12
)

// StateTx is the storage the subject-state service needs inside one transaction.
type StateTx interface {
	audit.Appender
	// CustomerExists returns ENOTFOUND if the customer never existed or was erased.
	CustomerExists(ctx context.Context, id fidelis.CustomerID) error
	// LockSubjectState returns the subject's state for update (empty if none).
	LockSubjectState(ctx context.Context, id fidelis.CustomerID) (*SubjectState, error)
	// PutSubjectState stores it.
	PutSubjectState(ctx context.Context, id fidelis.CustomerID, st *SubjectState) error
	// SubjectState returns the subject's state (empty if none).
	SubjectState(ctx context.Context, id fidelis.CustomerID) (*SubjectState, error)
	// SubjectStates returns the states of several subjects, by ID; subjects without a
	// stored state are absent.
	SubjectStates(ctx context.Context, ids []fidelis.CustomerID) (map[fidelis.CustomerID]*SubjectState, error)
	// AppendEvent writes an event to the outbox.
	AppendEvent(ctx context.Context, e *fidelis.Event) error
}

// StateStore runs subject-state transactions.
type StateStore interface {
	audit.Recorder
	Write(ctx context.Context, fn func(StateTx) error) error
	Read(ctx context.Context, fn func(StateTx) error) error
}

// Suppressor puts a customer's contact details on the suppression list after an
// objection to direct marketing. It is idempotent: the objection is recorded first, and a
// failed suppression is reported to the caller, who may repeat the objection.
type Suppressor interface {
	SuppressObjector(ctx context.Context, id fidelis.CustomerID) error
}

// StateService records restrictions and objections: the parts of a
// subject's state that the lawfulness decision reads besides consents.
type StateService struct {
	Store    StateStore
	Registry *Registry
	Audit    *audit.Log
	Now      func() time.Time
	// Suppress, when set, adds an objector to direct marketing to the suppression list.
	Suppress Suppressor
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

func (s *StateService) now() time.Time { return fidelis.UTC(s.Now()) }

// authorize runs the role check for acting purpose p and audits a refusal (P-1).
func (s *StateService) authorize(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action string, id fidelis.CustomerID) (fidelis.Actor, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return actor, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("cus", string(id)) {
		return actor, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	_, err := s.Registry.Authorize(actor, p, a)
	if err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = ""
		}
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(id), Purpose: p, Outcome: audit.OutcomeDenied, Reason: fidelis.AsError(err).Reason}))
	}
	return actor, err
}

// requirePurpose refuses an operation outside the purposes it belongs to.
func requirePurpose(p fidelis.Purpose, allowed ...fidelis.Purpose) error {
	for _, a := range allowed {
		if p == a {
			return nil
		}
	}
	return fidelis.Refusal("purpose_not_applicable", fmt.Sprintf("this operation is handled under purpose %q", allowed[0]))
}

// change runs fn on the locked state of customer id, stores the result, and writes the
// audit entry and the event in the same transaction.
func (s *StateService) change(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, action, event string, attrs map[string]string, fn func(tx StateTx, st *SubjectState, now time.Time) error) (*SubjectState, error) {
	now := s.now()
	var out *SubjectState
	err := s.Store.Write(ctx, func(tx StateTx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		st, err := tx.LockSubjectState(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, st, now); err != nil {
			return err
		}
		if err := tx.PutSubjectState(ctx, id, st); err != nil {
			return err
		}
		out = st
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(id), Purpose: p})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: event, Subject: string(id), Attrs: attrs})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Restrict freezes the processing of customer id: from now on only storage, legal
// claims, the customer's own requests and consented processing go on. Recorded under
// purpose data_protection; ref names the rights request, if any.
func (s *StateService) Restrict(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, ground RestrictionGround, ref string) (*SubjectState, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActRestrict, id); err != nil {
		return nil, err
	}
	if err := requirePurpose(p, fidelis.PurposeDataProtection); err != nil {
		return nil, err
	}
	var bad []fidelis.FieldError
	if !ground.Valid() {
		bad = append(bad, fidelis.FieldError{Field: "ground", Rule: "unknown_ground", Message: "must be accuracy_contested, unlawful_processing, legal_claims, objection_pending (GDPR art. 18(1)) or subject_request (a rights request stating the ground)"})
	}
	if ref != "" && !refPattern.MatchString(ref) {
		bad = append(bad, fidelis.FieldError{Field: "reference", Rule: "invalid_reference", Message: "must be a short code (letters, digits, . _ / -), at most 64 characters"})
	}
	if len(bad) > 0 {
		return nil, fidelis.Invalid(bad...)
	}
	return s.change(ctx, p, id, ActRestrict, "customer.restricted", map[string]string{"ground": string(ground)}, func(_ StateTx, st *SubjectState, now time.Time) error {
		if st.Restriction != nil {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_restricted", Message: fmt.Sprintf("processing is restricted already since %s", st.Restriction.Since.Format(time.DateOnly))}
		}
		st.Restriction = &Restriction{Since: now, Ground: ground, Reference: ref}
		return nil
	})
}

// LiftReason is why a restriction ends.
type LiftReason string

// Reasons to lift a restriction.
const (
	LiftAccuracyVerified  LiftReason = "accuracy_verified"
	LiftObjectionDecided  LiftReason = "objection_decided"
	LiftLegalClaimsEnded  LiftReason = "legal_claims_ended"
	LiftSubjectRequest    LiftReason = "subject_request"
	LiftProcessingLawful  LiftReason = "processing_lawful"
	LiftRestrictionErased LiftReason = "data_erased"
)

func (r LiftReason) valid() bool {
	switch r {
	case LiftAccuracyVerified, LiftObjectionDecided, LiftLegalClaimsEnded, LiftSubjectRequest, LiftProcessingLawful, LiftRestrictionErased:
		return true
	}
	return false
}

// Lift ends the restriction of customer id. The event it writes is the cue to inform the
// customer before processing resumes (GDPR art. 18(3)) and to tell recipients.
func (s *StateService) Lift(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, reason LiftReason) (*SubjectState, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActLiftRestrict, id); err != nil {
		return nil, err
	}
	if err := requirePurpose(p, fidelis.PurposeDataProtection); err != nil {
		return nil, err
	}
	if !reason.valid() {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "reason", Rule: "unknown_reason", Message: "must be accuracy_verified, objection_decided, legal_claims_ended, subject_request, processing_lawful or data_erased"})
	}
	return s.change(ctx, p, id, ActLiftRestrict, "customer.restriction_lifted", map[string]string{"reason": string(reason)}, func(_ StateTx, st *SubjectState, _ time.Time) error {
		if st.Restriction == nil {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "not_restricted", Message: "processing of this customer is not restricted"}
		}
		st.Restriction = nil
		return nil
	})
}

// Object records the customer's objection. Scope "direct_marketing" stops every
// direct-marketing purpose at once and for good, consents notwithstanding; a purpose name
// stops that legitimate-interest purpose unless compelling grounds are recorded.
// Anyone who may update the customer under their purpose may record it: objecting must be
// as easy as telling any member of staff.
func (s *StateService) Object(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, scope string, ref string) (*SubjectState, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActObject, id); err != nil {
		return nil, err
	}
	var bad []fidelis.FieldError
	var target *Purpose
	if scope != ScopeDirectMarket {
		d, err := s.Registry.Purpose(fidelis.Purpose(scope))
		switch {
		case scope == "":
			bad = append(bad, fidelis.FieldError{Field: "scope", Rule: "required", Message: "is required: direct_marketing or a legitimate-interest purpose"})
		case err != nil:
			bad = append(bad, fidelis.FieldError{Field: "scope", Rule: "unknown_scope", Message: "must be direct_marketing or a declared purpose"})
		case d.LawfulBasis != fidelis.BasisLegitimateInterest:
			bad = append(bad, fidelis.FieldError{Field: "scope", Rule: "not_objectable", Message: fmt.Sprintf("purpose %q rests on %s: the right to object applies to legitimate interest and direct marketing; for consent, record a withdrawal", d.Name, d.LawfulBasis)})
		default:
			target = d
		}
	}
	if ref != "" && !refPattern.MatchString(ref) {
		bad = append(bad, fidelis.FieldError{Field: "reference", Rule: "invalid_reference", Message: "must be a short code (letters, digits, . _ / -), at most 64 characters"})
	}
	if len(bad) > 0 {
		return nil, fidelis.Invalid(bad...)
	}
	st, err := s.change(ctx, p, id, ActObject, "customer.objected", map[string]string{"scope": scope}, func(tx StateTx, st *SubjectState, now time.Time) error {
		if target == nil {
			if st.MarketingObjection == nil {
				st.MarketingObjection = &now
			}
			return nil
		}
		if st.Objections == nil {
			st.Objections = map[fidelis.Purpose]Objection{}
		}
		if o, ok := st.Objections[target.Name]; ok && o.Override == nil {
			return nil // already upheld: recording it twice changes nothing
		}
		st.Objections[target.Name] = Objection{At: now, Reference: ref}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if target == nil && s.Suppress != nil {
		// an objector to marketing must not come back through an import.
		if err := s.Suppress.SuppressObjector(ctx, id); err != nil {
			return nil, fmt.Errorf("privacy: the objection is recorded, but the suppression list could not be updated; repeat the objection: %w", err)
		}
	}
	return st, nil
}

// OverrideObjection records compelling legitimate grounds (or legal claims) to go on
// processing under a legitimate-interest purpose despite the customer's objection.
// It never applies to direct marketing. Only a role that manages privacy may do it,
// under purpose data_protection, with the decision's reference.
func (s *StateService) OverrideObjection(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, purpose fidelis.Purpose, ground, ref string) (*SubjectState, error) {
	actor, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActOverride, id)
	if err != nil {
		return nil, err
	}
	if err := requirePurpose(p, fidelis.PurposeDataProtection); err != nil {
		return nil, err
	}
	if !s.Registry.Can(actor.Role, fidelis.ActionManagePrivacy) {
		return nil, fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not overrule an objection", actor.Role))
	}
	var bad []fidelis.FieldError
	d, err := s.Registry.Purpose(purpose)
	switch {
	case string(purpose) == ScopeDirectMarket || err == nil && d.DirectMarketing:
		bad = append(bad, fidelis.FieldError{Field: "purpose", Rule: "absolute_objection", Message: "an objection to direct marketing is absolute and cannot be overruled (R-12)"})
	case err != nil || d.LawfulBasis != fidelis.BasisLegitimateInterest:
		bad = append(bad, fidelis.FieldError{Field: "purpose", Rule: "not_objectable", Message: "must be a legitimate-interest purpose the customer objected to"})
	}
	if ground != OverrideCompellingGrounds && ground != OverrideLegalClaims {
		bad = append(bad, fidelis.FieldError{Field: "ground", Rule: "unknown_ground", Message: "must be compelling_grounds or legal_claims (GDPR art. 21(1))"})
	}
	if !refPattern.MatchString(ref) {
		bad = append(bad, fidelis.FieldError{Field: "reference", Rule: "required", Message: "is required: the reference of the written decision (letters, digits, . _ / -, at most 64)"})
	}
	if len(bad) > 0 {
		return nil, fidelis.Invalid(bad...)
	}
	return s.change(ctx, p, id, ActOverride, "customer.objection_overridden", map[string]string{"purpose": string(purpose), "ground": ground}, func(_ StateTx, st *SubjectState, now time.Time) error {
		o, ok := st.Objections[purpose]
		if !ok {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "no_objection", Message: fmt.Sprintf("the customer has not objected to purpose %q", purpose)}
		}
		if o.Override != nil {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_overridden", Message: "compelling grounds were recorded already"}
		}
		o.Override = &Override{At: now, By: actor.String(), Ground: ground, Reference: ref}
		st.Objections[purpose] = o
		return nil
	})
}

// State returns the privacy state of customer id (restriction, objections, consents), read
// under purpose p and audited.
func (s *StateService) State(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*SubjectState, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionRead, ActReadState, id); err != nil {
		return nil, err
	}
	var st *SubjectState
	err := s.Store.Read(ctx, func(tx StateTx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		var err error
		st, err = tx.SubjectState(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActReadState, Subject: string(id), Purpose: p})); err != nil {
		return nil, fmt.Errorf("privacy.State: audit: %w", err)
	}
	return st, nil
}

// Lawfulness decides whether purpose p may process customer id now; other domains (the
// loyalty ledger, campaigns) call it after their role check.
type Lawfulness interface {
	// Lawful returns nil or the EFORBIDDEN refusal of Purpose.Lawful.
	Lawful(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) error
}

// BatchLawfulness is Lawfulness for many customers at once (a till batch): the same
// decision for each, from one read of their states.
type BatchLawfulness interface {
	Lawfulness
	// LawfulEach returns, for each of ids, nil or the EFORBIDDEN refusal of Purpose.Lawful;
	// an error when the decision could not be made for any (unknown purpose, storage).
	LawfulEach(ctx context.Context, p fidelis.Purpose, ids []fidelis.CustomerID) (map[fidelis.CustomerID]error, error)
}

var _ BatchLawfulness = (*StateService)(nil)

// Lawful implements Lawfulness from the subject's stored state.
func (s *StateService) Lawful(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) error {
	d, err := s.Registry.Purpose(p)
	if err != nil {
		return err
	}
	var st *SubjectState
	if err := s.Store.Read(ctx, func(tx StateTx) (err error) { st, err = tx.SubjectState(ctx, id); return err }); err != nil {
		return fmt.Errorf("privacy: subject state: %w", err)
	}
	return d.Lawful(st)
}

// LawfulEach implements BatchLawfulness: the subjects' states in one read, then, for each,
// the decision Lawful makes (a subject without a stored state has the empty state).
func (s *StateService) LawfulEach(ctx context.Context, p fidelis.Purpose, ids []fidelis.CustomerID) (map[fidelis.CustomerID]error, error) {
	d, err := s.Registry.Purpose(p)
	if err != nil {
		return nil, err
	}
	var states map[fidelis.CustomerID]*SubjectState
	if err := s.Store.Read(ctx, func(tx StateTx) (err error) { states, err = tx.SubjectStates(ctx, ids); return err }); err != nil {
		return nil, fmt.Errorf("privacy: subject states: %w", err)
	}
	out := make(map[fidelis.CustomerID]error, len(ids))
	for _, id := range ids {
		st := states[id]
		if st == nil {
			st = &SubjectState{}
		}
		out[id] = d.Lawful(st)
	}
	return out, nil
}
