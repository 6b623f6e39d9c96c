package consent

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Audit actions recorded by this package.
const (
	ActRecord  = "consent.record"
	ActRead    = "consent.read"
	ActPublish = "consent.notice_publish"
)

// Ages tells whether a customer was under the age of digital consent at a time (C-4). It
// reads the sealed birth date, so the implementation audits that read.
type Ages interface {
	// MinorAt reports whether customer id was under privacy.AgeOfDigitalConsent at t;
	// false when no birth date is known. ENOTFOUND if there is no such customer.
	MinorAt(ctx context.Context, id fidelis.CustomerID, t time.Time) (bool, error)
}

// Service is the consent ledger. It is safe for concurrent use.
type Service struct {
	Store    Store
	Registry *privacy.Registry
	Audit    *audit.Log
	Ages     Ages
	Now      func() time.Time
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

// maxNoticeText bounds a notice text: a consent request is short by nature.
const maxNoticeText = 4000

// PublishNotice stores the next version of the consent text of a consent-based purpose.
// Earlier versions stay: records refer to them.
func (s *Service) PublishNotice(ctx context.Context, p fidelis.Purpose, text privacy.Text) (*Notice, error) {
	actor, err := s.admin(ctx)
	if err != nil {
		return nil, err
	}
	var bad []fidelis.FieldError
	decl, err := s.Registry.Purpose(p)
	switch {
	case p == "":
		bad = append(bad, fidelis.FieldError{Field: "purpose", Rule: "required", Message: "is required"})
	case err != nil:
		bad = append(bad, fidelis.FieldError{Field: "purpose", Rule: "unknown_purpose", Message: "is not a declared purpose"})
	case decl.LawfulBasis != fidelis.BasisConsent:
		bad = append(bad, fidelis.FieldError{Field: "purpose", Rule: "not_consent_based",
			Message: fmt.Sprintf("rests on %s, not consent: asking for consent would mislead the customer (P-3)", decl.LawfulBasis)})
	}
	for _, t := range []struct{ field, v string }{{"text.fr", text.FR}, {"text.en", text.EN}} {
		switch {
		case strings.TrimSpace(t.v) == "":
			bad = append(bad, fidelis.FieldError{Field: t.field, Rule: "required", Message: "is required: the notice is shown in French and English"})
		case !utf8.ValidString(t.v) || utf8.RuneCountInString(t.v) > maxNoticeText:
			bad = append(bad, fidelis.FieldError{Field: t.field, Rule: "too_long", Message: fmt.Sprintf("must be valid text of at most %d characters", maxNoticeText)})
		}
	}
	if len(bad) > 0 {
		return nil, fidelis.Invalid(bad...)
	}
	now := s.now()
	var n *Notice
	err = s.Store.Write(ctx, func(tx Tx) error {
		version := 1
		latest, err := tx.LatestNotice(ctx, p)
		switch {
		case err == nil:
			if latest.Text == text {
				return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "notice_unchanged", Message: fmt.Sprintf("version %d already has exactly this text", latest.Version)}
			}
			version = latest.Version + 1
		case fidelis.ErrorCode(err) != fidelis.ENOTFOUND:
			return err
		}
		n = &Notice{Purpose: p, Version: version, Text: text, Hash: NoticeHash(p, version, text), PublishedAt: now, PublishedBy: actor.String()}
		if err := tx.InsertNotice(ctx, n); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActPublish, Purpose: p}))
	})
	if err != nil {
		return nil, fmt.Errorf("consent.PublishNotice: %w", err)
	}
	return n, nil
}

// Notices lists the notice versions of purpose p ("" for all), newest first. Notices are
// public texts: any authenticated actor may read them.
func (s *Service) Notices(ctx context.Context, p fidelis.Purpose) ([]*Notice, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	var out []*Notice
	err := s.Store.Read(ctx, func(tx Tx) (err error) { out, err = tx.Notices(ctx, p); return err })
	return out, err
}

// LatestNotice returns the current notice of purpose p; ENOTFOUND if none was published.
func (s *Service) LatestNotice(ctx context.Context, p fidelis.Purpose) (*Notice, error) {
	var n *Notice
	err := s.Store.Read(ctx, func(tx Tx) (err error) { n, err = tx.LatestNotice(ctx, p); return err })
	return n, err
}

func (s *Service) admin(ctx context.Context) (fidelis.Actor, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return actor, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !s.Registry.Can(actor.Role, fidelis.ActionManagePrivacy) {
		return actor, fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not manage privacy notices", actor.Role))
	}
	return actor, nil
}

// authorize checks that the actor's role holds acting purpose p for action a on subject id,
// and audits a refusal (P-1). Recording a consent decision is never blocked by the
// subject's state: withdrawing must stay as easy as giving (C-2), also when restricted.
func (s *Service) authorize(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action string, id fidelis.CustomerID) (fidelis.Actor, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return actor, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("cus", string(id)) {
		return actor, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	if _, err := s.Registry.Authorize(actor, p, a); err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = ""
		}
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(id), Purpose: p, Outcome: audit.OutcomeDenied, Reason: fidelis.AsError(err).Reason}))
		return actor, err
	}
	return actor, nil
}

// Check runs the access decision for recording (a = update) or reading (a = read) the
// consents of customer id, without doing it: transports call it before parsing a request.
func (s *Service) Check(ctx context.Context, p fidelis.Purpose, a fidelis.Action, id fidelis.CustomerID) error {
	action := ActRead
	if a != fidelis.ActionRead {
		action = ActRecord
	}
	_, err := s.authorize(ctx, p, a, action, id)
	return err
}

// validate checks an input against the registry; it returns the consented purpose.
func (s *Service) validate(in *Input, now time.Time) []fidelis.FieldError {
	var bad []fidelis.FieldError
	add := func(field, rule, msg string) {
		bad = append(bad, fidelis.FieldError{Field: field, Rule: rule, Message: msg})
	}
	decl, err := s.Registry.Purpose(in.Purpose)
	switch {
	case in.Purpose == "":
		add("purpose", "required", "is required: a consent is given for one purpose (C-5: never bundled)")
	case err != nil:
		add("purpose", "unknown_purpose", "is not a declared purpose")
	case decl.LawfulBasis != fidelis.BasisConsent:
		add("purpose", "not_consent_based", fmt.Sprintf("rests on %s, not consent; recording a consent for it would suggest a choice the customer does not have (P-3)", decl.LawfulBasis))
	}
	switch {
	case in.Channel == "":
		add("channel", "required", "is required")
	case !in.Channel.Valid():
		add("channel", "unknown_channel", "must be one of email, sms, phone, post, ad_matching")
	case decl != nil && len(decl.ConsentChannels) > 0 && !slices.Contains(decl.ConsentChannels, in.Channel):
		add("channel", "channel_not_used", fmt.Sprintf("purpose %q does not use this channel", in.Purpose))
	}
	switch {
	case in.Decision == "":
		add("decision", "required", "is required: granted, refused or withdrawn; consent is never assumed (C-5)")
	case !in.Decision.Valid():
		add("decision", "unknown_decision", "must be granted, refused or withdrawn")
	}
	if in.Decision == privacy.ConsentGranted || in.Decision == privacy.ConsentRefused {
		if in.NoticeVersion <= 0 {
			add("notice_version", "required", "is required: the exact notice version shown to the customer (C-1)")
		}
	} else if in.NoticeVersion < 0 {
		add("notice_version", "invalid", "must be a published version")
	}
	switch {
	case in.Method == "":
		add("method", "required", "is required: back_office, portal, api, import or paper")
	case !in.Method.Valid():
		add("method", "unknown_method", "must be back_office, portal, api, import or paper")
	}
	if in.Reference != "" && !validReference(in.Reference) {
		add("reference", "invalid_reference", "must be a short code (letters, digits, . _ / -), at most 64 characters")
	}
	if in.CollectedAt.After(now.Add(time.Minute)) {
		add("collected_at", "in_future", "must not be in the future")
	}
	if !in.CollectedAt.IsZero() && in.CollectedAt.Year() < 2000 {
		add("collected_at", "too_old", "is not a plausible collection time")
	}
	return bad
}

// Record appends a consent decision for customer id, recorded by the actor under acting
// purpose p (the purpose of the staff member's work, e.g. customer_service), and returns the
// record and the customer's new current consents. The decision takes effect at once (C-2).
func (s *Service) Record(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, in Input) (*Record, *privacy.SubjectState, error) {
	actor, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActRecord, id)
	if err != nil {
		return nil, nil, err
	}
	now := s.now()
	if bad := s.validate(&in, now); len(bad) > 0 {
		return nil, nil, fidelis.Invalid(bad...)
	}
	at := now
	if !in.CollectedAt.IsZero() {
		at = fidelis.UTC(in.CollectedAt)
	}
	minor := false
	if in.Decision == privacy.ConsentGranted && !in.Parental && s.Ages != nil {
		// C-4: below 15 the consent stands only with a parental consent as well.
		if minor, err = s.Ages.MinorAt(ctx, id, at); err != nil {
			return nil, nil, err
		}
	}
	rec := &Record{
		ID: fidelis.NewID("cns", now), CustomerID: id, Purpose: in.Purpose, Channel: in.Channel, Decision: in.Decision,
		Method: in.Method, Parental: in.Parental, Minor: minor, Reference: in.Reference,
		CollectedAt: at, RecordedAt: now, RecordedBy: actor.String(),
	}
	var state *privacy.SubjectState
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		if in.NoticeVersion > 0 {
			n, err := tx.Notice(ctx, in.Purpose, in.NoticeVersion)
			if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
				return fidelis.Invalid(fidelis.FieldError{Field: "notice_version", Rule: "unknown_notice", Message: fmt.Sprintf("no version %d of the consent notice of purpose %q was published", in.NoticeVersion, in.Purpose)})
			} else if err != nil {
				return err
			}
			if in.NoticeHash != "" && !strings.EqualFold(in.NoticeHash, n.Hash) {
				return fidelis.Invalid(fidelis.FieldError{Field: "notice_hash", Rule: "hash_mismatch", Message: "does not match the published text of this version: the customer saw another wording"})
			}
			rec.NoticeVersion, rec.NoticeHash = n.Version, n.Hash
		}
		st, err := tx.LockSubjectState(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.InsertConsent(ctx, rec); err != nil {
			return err
		}
		Fold(st, rec)
		if err := tx.PutSubjectState(ctx, id, st); err != nil {
			return err
		}
		state = st
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRecord, Subject: string(id), Purpose: p})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, &fidelis.Event{ID: fidelis.NewID("evt", now), At: now, Type: "consent." + string(in.Decision), Subject: string(id),
			Attrs: map[string]string{"purpose": string(in.Purpose), "channel": string(in.Channel), "record_id": rec.ID}})
	})
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRecord, Subject: string(id), Purpose: p, Outcome: audit.OutcomeFailed, Reason: string(fidelis.ENOTFOUND)}))
		}
		return nil, nil, fmt.Errorf("consent.Record: %w", err)
	}
	return rec, state, nil
}

// History is a customer's consents: the current state and a page of the ledger.
type History struct {
	Current map[string]privacy.ConsentStatus
	Records []*Record
	Next    string
}

// Limits of history pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// History returns the current consents of customer id and its ledger, newest first, a page
// at a time, read under purpose p and audited.
func (s *Service) History(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, cursor string, limit int) (*History, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, id); err != nil {
		return nil, err
	}
	if cursor != "" && !fidelis.ValidID("cns", cursor) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "cursor", Rule: "invalid_cursor", Message: "is not a cursor returned by a previous page"})
	}
	switch {
	case limit <= 0:
		limit = DefaultPageSize
	case limit > MaxPageSize:
		limit = MaxPageSize
	}
	h := &History{}
	err := s.Store.Read(ctx, func(tx Tx) error {
		if err := tx.CustomerExists(ctx, id); err != nil {
			return err
		}
		st, err := tx.SubjectState(ctx, id)
		if err != nil {
			return err
		}
		h.Current = st.Consents
		recs, err := tx.Consents(ctx, id, cursor, limit+1)
		if err != nil {
			return err
		}
		if len(recs) > limit {
			recs = recs[:limit]
			h.Next = recs[limit-1].ID
		}
		h.Records = recs
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("consent.History: %w", err)
	}
	if h.Current == nil {
		h.Current = map[string]privacy.ConsentStatus{}
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRead, Subject: string(id), Purpose: p})); err != nil {
		return nil, fmt.Errorf("consent.History: audit: %w", err)
	}
	return h, nil
}
