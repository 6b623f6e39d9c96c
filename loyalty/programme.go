package loyalty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
)

// DefaultNoticeDays is the notice period before new terms take effect (L-2).
const DefaultNoticeDays = 30

// ProgrammeInput creates a programme.
type ProgrammeInput struct {
	Name            string
	Currency        string
	PointValueCents int64
	NoticeDays      *int
}

// currencies are the ISO 4217 codes accepted for programmes.
var currencies = []string{"EUR", "CHF", "GBP", "USD", "SEK", "DKK", "NOK", "PLN", "CZK"}

// CreateProgramme creates a programme (administrative action).
func (s *Service) CreateProgramme(ctx context.Context, in ProgrammeInput) (*Programme, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	p, err := s.newProgramme(in)
	if err != nil {
		return nil, err
	}
	err = s.Store.Write(ctx, func(tx Tx) error { return s.insertProgramme(ctx, tx, p) })
	if err != nil {
		return nil, fmt.Errorf("loyalty.CreateProgramme: %w", err)
	}
	return p, nil
}

// newProgramme validates in and returns the programme it describes, not yet stored.
func (s *Service) newProgramme(in ProgrammeInput) (*Programme, error) {
	var errs []fidelis.FieldError
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 || !cleanText(in.Name, 400) {
		errs = append(errs, fidelis.FieldError{Field: "name", Rule: "invalid", Message: "must be 1 to 100 characters"})
	}
	if !slices.Contains(currencies, in.Currency) {
		errs = append(errs, fidelis.FieldError{Field: "currency", Rule: "invalid_currency", Message: "must be one of " + strings.Join(currencies, ", ")})
	}
	if in.PointValueCents < 0 || in.PointValueCents > 100_000 {
		errs = append(errs, fidelis.FieldError{Field: "point_value_cents", Rule: "out_of_range", Message: "must be from 0 to 100000"})
	}
	notice := DefaultNoticeDays
	if in.NoticeDays != nil {
		notice = *in.NoticeDays
		// L-2: never shorter than the legal-default month.
		if notice < DefaultNoticeDays || notice > 365 {
			errs = append(errs, fidelis.FieldError{Field: "notice_days", Rule: "out_of_range", Message: "must be from 30 to 365 days"})
		}
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	now := s.now()
	return &Programme{ID: fidelis.NewID("lpg", now), Name: in.Name, Currency: in.Currency, PointValueCents: in.PointValueCents, NoticeDays: notice, CreatedAt: now}, nil
}

// insertProgramme stores a new programme with its event.
func (s *Service) insertProgramme(ctx context.Context, tx Tx, p *Programme) error {
	if err := tx.InsertProgramme(ctx, p); err != nil {
		return err
	}
	return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.programme_created", p.ID, map[string]any{"programme_id": p.ID}))
}

// programmeErr turns a store's not-found into the programme's; other errors pass.
func programmeErr(err error) error {
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return programmeNotFound()
	}
	return err
}

func programmeNotFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "programme_not_found", Message: "no loyalty programme with this id"}
}

// ProgrammeView is a programme with its published terms.
type ProgrammeView struct {
	Programme *Programme
	Terms     []*Terms
	Current   *Terms // in force now, nil before the first version takes effect
	Rules     []*Rule
}

// GetProgramme returns a programme, its terms and its rules (no personal data: any
// authenticated caller).
func (s *Service) GetProgramme(ctx context.Context, id string) (*ProgrammeView, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lpg", id) {
		return nil, programmeNotFound()
	}
	v := &ProgrammeView{}
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if v.Programme, err = tx.GetProgramme(ctx, id); err != nil {
			return err
		}
		if v.Terms, err = tx.ListTerms(ctx, id); err != nil {
			return err
		}
		all, err := tx.Rules(ctx, id)
		v.Rules = latestRules(all)
		return err
	})
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, programmeNotFound()
		}
		return nil, fmt.Errorf("loyalty.GetProgramme: %w", err)
	}
	v.Current = inForce(v.Terms, s.now())
	return v, nil
}

// TermsInput publishes a version of the terms.
type TermsInput struct {
	Text         Text
	Changes      Text
	Mediator     Mediator
	ExpiryMonths int
	EffectiveAt  time.Time // zero: as early as allowed
}

// hashTerms is the SHA-256 of the canonical JSON of everything a member accepts.
func hashTerms(t *Terms) string {
	b, err := json.Marshal([]any{"fidelis-terms/v1", t.Programme, t.Version, t.Text.FR, t.Text.EN, t.Changes.FR, t.Changes.EN,
		t.Mediator.Name, t.Mediator.Website, t.Mediator.Address, t.ExpiryMonths, t.EffectiveAt.UTC().Format(time.RFC3339Nano), t.PublishedAt.UTC().Format(time.RFC3339Nano)})
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// PublishTerms publishes the next version of a programme's terms (L-1, L-2, X-2). A new
// version takes effect no earlier than the programme's notice period after publication;
// every member gets an event to be notified in their language; nobody is bound by it until
// they accept it (silence is not acceptance), and points already earned keep their value:
// expiry dates of existing lots never change.
func (s *Service) PublishTerms(ctx context.Context, programme string, in TermsInput) (*Terms, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	if err := validateTerms(&in); err != nil {
		return nil, err
	}
	now := s.now()
	var t *Terms
	err := s.Store.Write(ctx, func(tx Tx) error {
		p, err := tx.GetProgramme(ctx, programme)
		if err != nil {
			return err
		}
		versions, err := tx.ListTerms(ctx, programme)
		if err != nil {
			return err
		}
		if t, err = nextTerms(p, versions, in, now); err != nil {
			return err
		}
		return s.insertTerms(ctx, tx, t)
	})
	if err != nil {
		if e := fidelis.AsError(err); e != nil && e.Code == fidelis.ENOTFOUND {
			return nil, programmeNotFound()
		}
		return nil, fmt.Errorf("loyalty.PublishTerms: %w", err)
	}
	return t, nil
}

// validateTerms checks what a version of the terms states, whatever its number (X-2: the
// mediator is always named).
func validateTerms(in *TermsInput) error {
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	for f, v := range map[string]string{"text.fr": in.Text.FR, "text.en": in.Text.EN} {
		if strings.TrimSpace(v) == "" || !cleanText(v, 200_000) {
			bad(f, "required", "the terms in French and English are required (at most 200000 bytes)")
		}
	}
	for f, v := range map[string]string{"changes.fr": in.Changes.FR, "changes.en": in.Changes.EN} {
		if !cleanText(v, 20_000) {
			bad(f, "invalid", "at most 20000 bytes, no control characters")
		}
	}
	m := &in.Mediator
	m.Name, m.Website, m.Address = strings.TrimSpace(m.Name), strings.TrimSpace(m.Website), strings.TrimSpace(m.Address)
	if m.Name == "" || !cleanText(m.Name, 200) {
		bad("mediator.name", "required", "the consumer mediator's name is required (X-2)")
	}
	if u, err := url.Parse(m.Website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(m.Website) > 300 {
		bad("mediator.website", "invalid_url", "the consumer mediator's website must be an http(s) URL (X-2)")
	}
	if m.Address == "" || !cleanText(m.Address, 500) {
		bad("mediator.address", "required", "the consumer mediator's postal address is required (X-2)")
	}
	if in.ExpiryMonths < 0 || in.ExpiryMonths > 120 {
		bad("expiry_months", "out_of_range", "must be from 0 (never) to 120")
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b fidelis.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return fidelis.Invalid(errs...)
	}
	return nil
}

// nextTerms returns the version that publishing in at now would add after versions, with
// its effective date and hash, or why it may not be published (L-2: a change needs a
// summary and takes effect only after the notice period).
func nextTerms(p *Programme, versions []*Terms, in TermsInput, now time.Time) (*Terms, error) {
	t := &Terms{Programme: p.ID, Version: len(versions) + 1, Text: in.Text, Changes: in.Changes, Mediator: in.Mediator,
		ExpiryMonths: in.ExpiryMonths, PublishedAt: now, EffectiveAt: fidelis.UTC(in.EffectiveAt)}
	earliest := now
	if t.Version > 1 {
		// L-2: a change takes effect only after the notice period.
		earliest = now.AddDate(0, 0, p.NoticeDays)
		if strings.TrimSpace(in.Changes.FR) == "" || strings.TrimSpace(in.Changes.EN) == "" {
			return nil, invalid("changes", "required", "a new version needs a summary of the changes in French and English (L-2)")
		}
		if last := versions[len(versions)-1]; earliest.Before(last.EffectiveAt) {
			earliest = last.EffectiveAt
		}
	}
	if in.EffectiveAt.IsZero() {
		t.EffectiveAt = earliest
	} else if t.EffectiveAt.Before(earliest) {
		return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "notice_period", Message: fmt.Sprintf("new terms may take effect no earlier than %s (notice period of %d days, L-2)", earliest.Format(time.DateOnly), p.NoticeDays),
			Fields: []fidelis.FieldError{{Field: "effective_at", Rule: "notice_period", Message: fmt.Sprintf("must be on or after %s", earliest.Format(time.RFC3339))}}}
	}
	t.Hash = hashTerms(t)
	return t, nil
}

// insertTerms stores a version of the terms with its events: one for the programme, and one
// per active member, IDs only, for the mailer to render the notice in the member's
// language, with the link to accept or to leave (L-2).
func (s *Service) insertTerms(ctx context.Context, tx Tx, t *Terms) error {
	if err := tx.InsertTerms(ctx, t); err != nil {
		return err
	}
	if err := tx.AppendLoyaltyEvent(ctx, s.event("loyalty.terms_published", t.Programme, map[string]any{"programme_id": t.Programme, "version": t.Version, "effective_at": t.EffectiveAt})); err != nil {
		return err
	}
	return eachActiveMember(ctx, tx, t.Programme, func(m *Member) error {
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.terms_change_notice", string(m.Customer),
			map[string]any{"programme_id": t.Programme, "customer_id": m.Customer, "version": t.Version, "effective_at": t.EffectiveAt}))
	})
}

// eachActiveMember calls fn for every member of programme who has not left, in pages.
func eachActiveMember(ctx context.Context, tx Tx, programme string, fn func(*Member) error) error {
	var after fidelis.CustomerID
	for {
		ms, err := tx.ListMembers(ctx, programme, after, 500)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if !m.Active() {
				continue
			}
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(ms) < 500 {
			return nil
		}
		after = ms[len(ms)-1].Customer
	}
}

// Channels through which a member accepts terms or joins.
var channels = []string{"store", "web", "app", "phone", "back_office"}

// MembershipInput joins, accepts new terms or leaves.
type MembershipInput struct {
	Programme    string             `json:"programme_id"`
	Customer     fidelis.CustomerID `json:"customer_id"`
	TermsVersion int                `json:"terms_version,omitempty"`
	Channel      string             `json:"channel,omitempty"`
	// ReferralCode, on joining, names the member who invited the customer (referral.go).
	ReferralCode string `json:"referral_code,omitempty"`
	Key          string `json:"-"`
}

func (in *MembershipInput) validate(needTerms bool) error {
	var errs []fidelis.FieldError
	if needTerms {
		if in.TermsVersion < 1 {
			errs = append(errs, fidelis.FieldError{Field: "terms_version", Rule: "required", Message: "name the version of the terms the customer accepts (L-1)"})
		}
		if !slices.Contains(channels, in.Channel) {
			errs = append(errs, fidelis.FieldError{Field: "channel", Rule: "invalid", Message: "must be one of " + strings.Join(channels, ", ")})
		}
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return ValidKey(in.Key)
}

func notMember() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "not_a_member", Message: "the customer is not a member of this programme"}
}

// Join makes a customer a member, on acceptance of one specific version of the terms
// (L-1): the version in force, or the latest published. The proof (version, hash, time,
// channel) is stored. Joining needs no consent of any kind (C-3): the loyalty purpose rests
// on the contract, and nothing here reads or writes consent.
func (s *Service) Join(ctx context.Context, p fidelis.Purpose, in MembershipInput) (*MemberView, bool, error) {
	if err := s.authorize(ctx, p, fidelis.ActionCreate, ActJoin, in.Customer); err != nil {
		return nil, false, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, false, programmeNotFound()
	}
	if err := in.validate(true); err != nil {
		return nil, false, err
	}
	now := s.now()
	replayed := false
	err := s.Store.Write(ctx, func(tx Tx) error {
		prev, err := s.claim(ctx, tx, in.Key, in.Programme, "join", in, "member:"+string(in.Customer))
		if err != nil || prev != "" {
			replayed = prev != ""
			return err
		}
		if _, err := tx.GetProgramme(ctx, in.Programme); err != nil {
			return programmeErr(err)
		}
		ok, err := tx.LoyaltyCustomerExists(ctx, in.Customer)
		if err != nil {
			return err
		}
		if !ok {
			return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
		}
		versions, err := tx.ListTerms(ctx, in.Programme)
		if err != nil {
			return err
		}
		t, err := acceptable(versions, in.TermsVersion, now)
		if err != nil {
			return err
		}
		m, err := tx.GetMember(ctx, in.Programme, in.Customer, true)
		switch {
		case err == nil && m.Active():
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_member", Message: "the customer is already a member of this programme"}
		case err == nil:
			if in.ReferralCode != "" {
				return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "referral_not_new_member", Message: "a referral code is for customers joining for the first time"}
			}
			// Rejoining: the points kept since leaving are still theirs.
			m.JoinedAt, m.LeftAt, m.TermsVersion, m.Version = now, nil, t.Version, m.Version+1
			if err := tx.UpdateMember(ctx, m); err != nil {
				return err
			}
		case fidelis.ErrorCode(err) == fidelis.ENOTFOUND:
			if err := tx.InsertMember(ctx, &Member{Programme: in.Programme, Customer: in.Customer, JoinedAt: now, TermsVersion: t.Version, Version: 1}); err != nil {
				return err
			}
			// Every member gets a random code to invite others.
			if _, err := ensureReferralCode(ctx, tx, in.Programme, in.Customer, now); err != nil {
				return err
			}
			if in.ReferralCode != "" {
				if err := s.attachReferral(ctx, tx, in, t.Version, now); err != nil {
					return err
				}
			}
		default:
			return err
		}
		if err := tx.InsertAcceptance(ctx, &Acceptance{Programme: in.Programme, Customer: in.Customer, TermsVersion: t.Version, TermsHash: t.Hash, AcceptedAt: now, Channel: in.Channel}); err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, ActJoin, p, in.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.member_joined", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "terms_version": t.Version}))
	})
	if err != nil {
		return nil, false, fmt.Errorf("loyalty.Join: %w", err)
	}
	v, err := s.memberView(ctx, in.Programme, in.Customer)
	return v, replayed, err
}

// acceptable returns version v if a member may accept it now: the version in force or a
// later published one.
func acceptable(versions []*Terms, v int, now time.Time) (*Terms, error) {
	if v < 1 || v > len(versions) {
		return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "terms_unknown", Message: "no published version of the terms has this number",
			Fields: []fidelis.FieldError{{Field: "terms_version", Rule: "unknown", Message: "is not a published version"}}}
	}
	if cur := inForce(versions, now); cur != nil && v < cur.Version {
		return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "terms_superseded", Message: fmt.Sprintf("version %d of the terms is no longer offered; version %d is in force", v, cur.Version),
			Fields: []fidelis.FieldError{{Field: "terms_version", Rule: "superseded", Message: "is no longer offered"}}}
	}
	return versions[v-1], nil
}

// memberChange runs one idempotent change of an active membership: the role check, the
// input's validation, the idempotency claim, the member row locked, change applied to it,
// then the audit entry and the event change returns, all in one transaction; it answers
// the member view and whether the call was a replay.
func (s *Service) memberChange(ctx context.Context, p fidelis.Purpose, in MembershipInput, act, op string, needTerms bool, leftMsg string,
	change func(tx Tx, m *Member, now time.Time) (event string, data map[string]any, err error)) (*MemberView, bool, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, act, in.Customer); err != nil {
		return nil, false, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, false, programmeNotFound()
	}
	if err := in.validate(needTerms); err != nil {
		return nil, false, err
	}
	now := s.now()
	replayed := false
	err := s.Store.Write(ctx, func(tx Tx) error {
		prev, err := s.claim(ctx, tx, in.Key, in.Programme, op, in, "member:"+string(in.Customer))
		if err != nil || prev != "" {
			replayed = prev != ""
			return err
		}
		m, err := tx.GetMember(ctx, in.Programme, in.Customer, true)
		if err != nil {
			if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
				return notMember()
			}
			return err
		}
		if !m.Active() {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "member_left", Message: leftMsg}
		}
		event, data, err := change(tx, m, now)
		if err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, act, p, in.Customer); err != nil {
			return err
		}
		data["programme_id"], data["customer_id"] = in.Programme, in.Customer
		return tx.AppendLoyaltyEvent(ctx, s.event(event, string(in.Customer), data))
	})
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", act, err)
	}
	v, err := s.memberView(ctx, in.Programme, in.Customer)
	return v, replayed, err
}

// AcceptTerms records a member's acceptance of a newer version (L-2: only an explicit act
// binds the member to new terms).
func (s *Service) AcceptTerms(ctx context.Context, p fidelis.Purpose, in MembershipInput) (*MemberView, bool, error) {
	return s.memberChange(ctx, p, in, ActAccept, "accept", true, "the customer left the programme; they join again to accept terms",
		func(tx Tx, m *Member, now time.Time) (string, map[string]any, error) {
			versions, err := tx.ListTerms(ctx, in.Programme)
			if err != nil {
				return "", nil, err
			}
			t, err := acceptable(versions, in.TermsVersion, now)
			if err != nil {
				return "", nil, err
			}
			if t.Version <= m.TermsVersion {
				return "", nil, &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_accepted", Message: fmt.Sprintf("the member already accepted version %d", m.TermsVersion)}
			}
			m.TermsVersion, m.Version = t.Version, m.Version+1
			if err := tx.UpdateMember(ctx, m); err != nil {
				return "", nil, err
			}
			if err := tx.InsertAcceptance(ctx, &Acceptance{Programme: in.Programme, Customer: in.Customer, TermsVersion: t.Version, TermsHash: t.Hash, AcceptedAt: now, Channel: in.Channel}); err != nil {
				return "", nil, err
			}
			return "loyalty.terms_accepted", map[string]any{"terms_version": t.Version}, nil
		})
}

// Leave ends a membership (L-2: members may leave, for instance rather than accept new
// terms). Points already earned keep their value: they stay on the member's account and may
// still be redeemed until they expire under the terms the member accepted; no new points
// are earned.
func (s *Service) Leave(ctx context.Context, p fidelis.Purpose, in MembershipInput) (*MemberView, bool, error) {
	return s.memberChange(ctx, p, in, ActLeave, "leave", false, "the customer already left the programme",
		func(tx Tx, m *Member, now time.Time) (string, map[string]any, error) {
			m.LeftAt, m.Version = &now, m.Version+1
			return "loyalty.member_left", map[string]any{}, tx.UpdateMember(ctx, m)
		})
}
