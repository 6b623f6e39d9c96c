package retention

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Audit actions recorded by this package. Entries name the customer by ID, the rule and
// the action; never a personal value.
const (
	ActActivity = "retention.activity"
	ActOverride = "retention.rule_override"
	ActHold     = "retention.hold_place"
	ActLift     = "retention.hold_lift"
	ActNotice   = "retention.notice"
	ActArchive  = "retention.archive"
	ActRun      = "retention.run"
	ActReport   = "retention.report"
	ActRead     = "retention.read"
)

// LockName is the name of the lock that keeps retention runs one at a time.
const LockName = "retention-run"

// Service is the retention capability. It is safe for concurrent use.
type Service struct {
	Store    Store
	Registry *privacy.Registry
	Audit    *audit.Log
	Now      func() time.Time
	// Lawfulness decides whether the purpose an activity is recorded under may process the
	// customer now (an archived customer's activity is refused: T-7).
	Lawfulness privacy.Lawfulness
	// Eraser erases customers whose retention ended; nil makes runs that must erase fail.
	Eraser Eraser
	// Notifier sends renewal requests and warnings; nil means no mail server: due notices
	// are reported blocked, never skipped.
	Notifier Notifier
	// Locker keeps runs one at a time across nodes; nil means this process only.
	Locker Locker
	// Grace is the grace period after a notice; 0 means DefaultGrace (30 days).
	Grace time.Duration
	// BatchSize is how many customers a run reads at a time; 0 means 200.
	BatchSize int
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

func (s *Service) policy() Policy {
	return Policy{Grace: s.Grace, CanNotify: s.Notifier != nil}
}

// refPattern is the form of a case reference: a short code, never free text.
var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

func actorOf(ctx context.Context) (fidelis.Actor, error) {
	a, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return a, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	return a, nil
}

// refuse audits a refusal (P-1) and returns it.
func (s *Service) refuse(ctx context.Context, action, subject string, p fidelis.Purpose, err error) error {
	reason := "refused"
	if e := fidelis.AsError(err); e != nil && e.Reason != "" {
		reason = e.Reason
		if e.Reason == "purpose_unknown" {
			p = "" // caller-chosen text never enters the audit log (D-5)
		}
	}
	_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: subject, Purpose: p, Outcome: audit.OutcomeDenied, Reason: reason}))
	return err
}

// CheckManage refuses actors whose role may not manage privacy: retention rules, runs and
// reports are the DPO's and the administrator's (administrative actions, no purpose).
func (s *Service) CheckManage(ctx context.Context, action string) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if !s.Registry.Can(a.Role, fidelis.ActionManagePrivacy) {
		return s.refuse(ctx, action, "", "", fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not manage retention", a.Role)))
	}
	return nil
}

// CheckRead refuses actors who may neither manage privacy nor read the register: the rules
// are part of the register of processing (P-2, D-2).
func (s *Service) CheckRead(ctx context.Context) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if !s.Registry.Can(a.Role, fidelis.ActionManagePrivacy) && !s.Registry.Can(a.Role, fidelis.ActionReadRegister) {
		return s.refuse(ctx, ActRead, "", "", fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not read the retention rules", a.Role)))
	}
	return nil
}

// CheckHold runs the access decision for placing or lifting a legal hold on customer id:
// purpose data_protection, a role that manages privacy. Refusals are audited.
func (s *Service) CheckHold(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if !fidelis.ValidID("cus", string(id)) {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	if _, err := s.Registry.Authorize(a, p, fidelis.ActionUpdate); err != nil {
		return s.refuse(ctx, ActHold, string(id), p, err)
	}
	if p != fidelis.PurposeDataProtection {
		return s.refuse(ctx, ActHold, string(id), p, fidelis.Refusal("purpose_not_applicable", fmt.Sprintf("legal holds are placed under the purpose %q", fidelis.PurposeDataProtection)))
	}
	if !s.Registry.Can(a.Role, fidelis.ActionManagePrivacy) {
		return s.refuse(ctx, ActHold, string(id), p, fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not place or lift legal holds", a.Role)))
	}
	return nil
}

// CheckActivity runs the access decision for recording activity of customer id under p:
// the role holds p with update, and p may process the customer now. Refusals are audited.
func (s *Service) CheckActivity(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) error {
	a, err := actorOf(ctx)
	if err != nil {
		return err
	}
	if !fidelis.ValidID("cus", string(id)) {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	if _, err := s.Registry.Authorize(a, p, fidelis.ActionUpdate); err != nil {
		return s.refuse(ctx, ActActivity, string(id), p, err)
	}
	if s.Lawfulness != nil {
		if err := s.Lawfulness.Lawful(ctx, p, id); err != nil {
			return s.refuse(ctx, ActActivity, string(id), p, err)
		}
	}
	return nil
}

// Rules returns the rules in force: the CNIL defaults and the operator's overrides.
func (s *Service) Rules(ctx context.Context) (Rules, error) {
	if err := s.CheckRead(ctx); err != nil {
		return nil, err
	}
	return s.rules(ctx)
}

// PublishedRules returns the rules in force as they are published in the privacy notice
// and the register of processing (R-5, D-2): periods, defaults and, for an overridden
// rule, when and why it was changed. It needs no actor and checks no role: the public
// notice has no reader to check, and the rules are no one's personal data. What would be
// is left out: Override.By (who changed a rule) is empty here, and stays in the audit log
// and in Rules for those who may manage or read them. Nothing is audited: no personal data
// is read.
func (s *Service) PublishedRules(ctx context.Context) (Rules, error) {
	rules, err := s.rules(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		if o := rules[i].Override; o != nil {
			pub := *o
			pub.By = ""
			rules[i].Override = &pub
		}
	}
	return rules, nil
}

func (s *Service) rules(ctx context.Context) (Rules, error) {
	var ovs []Override
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { ovs, err = tx.RetentionOverrides(ctx); return err }); err != nil {
		return nil, fmt.Errorf("retention: rules: %w", err)
	}
	return Apply(ovs), nil
}

// OverrideRule changes the period of rule id to months, with the operator's written
// reason; the audit entry records who, when, the change and the reason (REQUIREMENTS
// preamble). The reason must not hold personal data: it names a decision, not a person.
func (s *Service) OverrideRule(ctx context.Context, id RuleID, months int, reason string) (*Rule, error) {
	if err := s.CheckManage(ctx, ActOverride); err != nil {
		return nil, err
	}
	if _, err := ParseRuleID(string(id)); err != nil {
		return nil, err
	}
	actor, _ := fidelis.ActorFrom(ctx)
	reason = strings.TrimSpace(reason)
	if err := validateOverride(Apply(nil).Get(id), months, reason); err != nil {
		return nil, err
	}
	now := s.now()
	o := &Override{Rule: id, Months: months, Reason: reason, By: actor.String(), At: now}
	var out Rule
	err := s.Store.Write(ctx, func(tx Tx) error {
		ovs, err := tx.RetentionOverrides(ctx)
		if err != nil {
			return err
		}
		before := Apply(ovs).Get(id).Months
		if err := tx.PutRetentionOverride(ctx, o); err != nil {
			return err
		}
		out = Apply(append(ovs, *o)).Get(id)
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActOverride, Purpose: fidelis.PurposeDataProtection,
			Reason: fmt.Sprintf("%s: %d -> %d months: %s", id, before, months, reason)})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: "retention.rule_overridden", Subject: string(id),
			Attrs: map[string]string{"rule": string(id), "months": fmt.Sprint(months)}})
	})
	if err != nil {
		return nil, fmt.Errorf("retention.OverrideRule: %w", err)
	}
	return &out, nil
}

// ActivityResult is what recording an activity did.
type ActivityResult struct {
	CustomerID fidelis.CustomerID
	Kind       Kind
	At         time.Time
	// LastContact is the customer's last contact after the recording; ClockRestarted says
	// whether this activity moved it (an older activity than the last one does not).
	LastContact    time.Time
	ClockRestarted bool
}

// validateActivity checks a kind and a time; at zero means now.
func validateActivity(kind Kind, at, now time.Time) (time.Time, error) {
	if kind == KindEmailOpen {
		return at, &fidelis.Error{Code: fidelis.EINVALID, Reason: "not_customer_contact",
			Message: "an e-mail open is not a contact from the customer (CNIL, T-1): it does not restart the retention period, and Fidelis does not record it",
			Fields:  []fidelis.FieldError{{Field: "kind", Rule: "not_allowed", Message: "an e-mail open does not count as a contact from the customer"}}}
	}
	valid := false
	for _, k := range Kinds() {
		valid = valid || k == kind
	}
	var errs []fidelis.FieldError
	if !valid {
		errs = append(errs, fidelis.FieldError{Field: "kind", Rule: "one_of", Message: "must be one of: purchase, click, reply, login, shop_visit, call, redemption"})
	}
	if at.IsZero() {
		at = now
	}
	at = fidelis.UTC(at)
	if at.After(now.Add(5 * time.Minute)) {
		errs = append(errs, fidelis.FieldError{Field: "at", Rule: "in_future", Message: "cannot be in the future"})
	}
	if len(errs) > 0 {
		return at, fidelis.Invalid(errs...)
	}
	return at, nil
}

// RecordActivity records an activity that came from customer id (a purchase, a click, a
// reply, a sign-in, a shop visit, a call) at at (zero: now), under purpose p: it restarts
// the customer's retention clock (T-1..T-4). An e-mail open is refused (not_customer_contact).
func (s *Service) RecordActivity(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, kind Kind, at time.Time) (*ActivityResult, error) {
	if err := s.CheckActivity(ctx, p, id); err != nil {
		return nil, err
	}
	return s.record(ctx, p, id, kind, at)
}

// Touch records an activity from customer id without a role check: the hook other parts
// of Fidelis call when the customer acts by themselves (the portal's sign-in, a purchase
// recorded elsewhere). It is audited under purpose data_protection.
func (s *Service) Touch(ctx context.Context, id fidelis.CustomerID, kind Kind, at time.Time) error {
	if !fidelis.ValidID("cus", string(id)) {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	_, err := s.record(ctx, fidelis.PurposeDataProtection, id, kind, at)
	return err
}

func (s *Service) record(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, kind Kind, at time.Time) (*ActivityResult, error) {
	now := s.now()
	at, err := validateActivity(kind, at, now)
	if err != nil {
		return nil, err
	}
	res := &ActivityResult{CustomerID: id, Kind: kind, At: at}
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		before, err := tx.RetentionActivity(ctx, id)
		if err != nil {
			return err
		}
		last := (&Subject{Activity: before}).LastContact()
		if err := tx.PutRetentionActivity(ctx, id, kind, at); err != nil {
			return err
		}
		res.ClockRestarted = at.After(last)
		res.LastContact = later(last, at)
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActActivity, Subject: string(id), Purpose: p, Reason: string(kind)}))
	})
	if err != nil {
		return nil, fmt.Errorf("retention: record activity: %w", err)
	}
	return res, nil
}

// ActivityHook is what other parts of Fidelis call when a customer acts by themselves: the
// portal's sign-in (KindLogin), a sales channel's purchase. The loyalty ledger needs none:
// retention reads its orders and redemptions at their own dates.
type ActivityHook interface {
	Touch(ctx context.Context, id fidelis.CustomerID, kind Kind, at time.Time) error
}

var _ ActivityHook = (*Service)(nil)

// HoldInput is a legal hold to place (T-8).
type HoldInput struct {
	Case   string // the case's reference
	Reason string // why the data must be kept; no personal data
}

func validText(field, s string, min, max int) []fidelis.FieldError {
	switch n := utf8.RuneCountInString(s); {
	case n < min:
		return []fidelis.FieldError{{Field: field, Rule: "required", Message: fmt.Sprintf("is required: at least %d characters", min)}}
	case n > max:
		return []fidelis.FieldError{{Field: field, Rule: "too_long", Message: fmt.Sprintf("must be at most %d characters", max)}}
	case !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl):
		return []fidelis.FieldError{{Field: field, Rule: "invalid_characters", Message: "must be one line of text"}}
	}
	return nil
}

// PlaceHold puts a legal hold on customer id for a named case (T-8): until it is lifted,
// retention never archives nor erases the customer. Under purpose data_protection, by a
// role that manages privacy; audited with the case reference, with an event.
func (s *Service) PlaceHold(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, in HoldInput) (*Hold, error) {
	if err := s.CheckHold(ctx, p, id); err != nil {
		return nil, err
	}
	in.Case, in.Reason = strings.TrimSpace(in.Case), strings.TrimSpace(in.Reason)
	var errs []fidelis.FieldError
	if !refPattern.MatchString(in.Case) {
		errs = append(errs, fidelis.FieldError{Field: "case", Rule: "invalid_reference", Message: "is required: the case reference (letters, digits, . _ / -), at most 64 characters"})
	}
	errs = append(errs, validText("reason", in.Reason, MinReasonLength, MaxReasonLength)...)
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	actor, _ := fidelis.ActorFrom(ctx)
	now := s.now()
	h := &Hold{ID: fidelis.NewID("hld", now), CustomerID: id, Case: in.Case, Reason: in.Reason, PlacedBy: actor.String(), PlacedAt: now}
	err := s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		active, err := tx.RetentionHolds(ctx, HoldFilter{CustomerID: id, ActiveOnly: true}, 1000)
		if err != nil {
			return err
		}
		for _, o := range active {
			if o.Case == h.Case {
				return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_held", Message: "the customer is already held for this case"}
			}
		}
		if err := tx.InsertRetentionHold(ctx, h); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActHold, Subject: string(id), Purpose: p, Reason: "case:" + h.Case})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: "retention.hold_placed", Subject: string(id),
			Attrs: map[string]string{"hold_id": h.ID, "case": h.Case}})
	})
	if err != nil {
		return nil, fmt.Errorf("retention.PlaceHold: %w", err)
	}
	return h, nil
}

// LiftHold lifts hold holdID of customer id, with the reason: retention applies again from
// the next run (T-8). Audited, with an event.
func (s *Service) LiftHold(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, holdID, reason string) (*Hold, error) {
	if err := s.CheckHold(ctx, p, id); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("hld", holdID) {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no legal hold with this id"}
	}
	reason = strings.TrimSpace(reason)
	if errs := validText("reason", reason, MinReasonLength, MaxReasonLength); len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	actor, _ := fidelis.ActorFrom(ctx)
	now := s.now()
	var out *Hold
	err := s.Store.Write(ctx, func(tx Tx) error {
		h, err := tx.RetentionHold(ctx, holdID)
		if err != nil {
			return err
		}
		if h.CustomerID != id {
			return &fidelis.Error{Code: fidelis.ENOTFOUND, Message: "no legal hold with this id for this customer"}
		}
		if !h.Active() {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "already_lifted", Message: "the legal hold was lifted already"}
		}
		h.LiftedAt, h.LiftedBy, h.LiftReason = &now, actor.String(), reason
		if err := tx.LiftRetentionHold(ctx, h); err != nil {
			return err
		}
		out = h
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActLift, Subject: string(id), Purpose: p, Reason: "case:" + h.Case})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: "retention.hold_lifted", Subject: string(id),
			Attrs: map[string]string{"hold_id": h.ID, "case": h.Case}})
	})
	if err != nil {
		return nil, fmt.Errorf("retention.LiftHold: %w", err)
	}
	return out, nil
}

// MaxHolds bounds a list of holds.
const MaxHolds = 1000

// Holds lists legal holds (active only, or all), newest first, for one customer or all.
// The DPO and the administrator see them; the list holds IDs, case references and reasons.
func (s *Service) Holds(ctx context.Context, f HoldFilter) ([]*Hold, error) {
	if err := s.CheckManage(ctx, ActRead); err != nil {
		return nil, err
	}
	if f.CustomerID != "" && !fidelis.ValidID("cus", string(f.CustomerID)) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "customer_id", Rule: "invalid_id", Message: "is not a customer id"})
	}
	var hs []*Hold
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { hs, err = tx.RetentionHolds(ctx, f, MaxHolds); return err }); err != nil {
		return nil, fmt.Errorf("retention.Holds: %w", err)
	}
	return hs, nil
}

// Runs returns the latest runs' counts, newest first.
func (s *Service) Runs(ctx context.Context, limit int) ([]*Run, error) {
	if err := s.CheckManage(ctx, ActRead); err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), 100)
	var rs []*Run
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { rs, err = tx.RetentionRuns(ctx, limit); return err }); err != nil {
		return nil, fmt.Errorf("retention.Runs: %w", err)
	}
	return rs, nil
}
