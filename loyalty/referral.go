package loyalty

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

// ReferralPolicy is one published version of a programme's referral bonus, citing the
// version of the terms that states it (L-3): the referrer (and, if set, the new member)
// earns these points after the new member's first purchase.
type ReferralPolicy struct {
	Programme      string
	Version        int
	TermsVersion   int
	ReferrerPoints int64
	RefereePoints  int64
	CreatedAt      time.Time
}

// ReferralPolicyInput publishes a referral policy.
type ReferralPolicyInput struct {
	TermsVersion   int   `json:"terms_version"`
	ReferrerPoints int64 `json:"referrer_points"`
	RefereePoints  int64 `json:"referee_points"`
}

// ReferralCode is a member's code to invite others. It is random: nothing in it, nor in the
// link that carries it, says who the member is, so sharing it on a social network leaks
// nothing about them.
type ReferralCode struct {
	Programme string
	Customer  fidelis.CustomerID
	Code      string
	CreatedAt time.Time
}

// ReferralStatus is the state of a referral.
type ReferralStatus string

// Referral states.
const (
	ReferralPending  ReferralStatus = "pending"  // the new member has not bought yet
	ReferralRewarded ReferralStatus = "rewarded" // bonuses posted after the first purchase
	ReferralReversed ReferralStatus = "reversed" // the first purchase was refunded in full: bonuses taken back
)

// Referral links a new member to the member whose code they joined with.
type Referral struct {
	ID            string
	Programme     string
	Referrer      fidelis.CustomerID
	Referee       fidelis.CustomerID
	PolicyVersion int
	JoinedAt      time.Time
	Status        ReferralStatus
	FirstOrder    string
	SettledAt     *time.Time
}

// PublishReferralPolicy publishes the next version of a programme's referral bonus
// (administrative action). It must cite a published version of the terms, which states it.
func (s *Service) PublishReferralPolicy(ctx context.Context, programme string, in ReferralPolicyInput) (*ReferralPolicy, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	var errs []fidelis.FieldError
	if in.TermsVersion < 1 {
		errs = append(errs, fidelis.FieldError{Field: "terms_version", Rule: "required", Message: "name the published version of the terms that states the referral bonus (L-3)"})
	}
	if in.ReferrerPoints < 0 || in.ReferrerPoints > 1_000_000 {
		errs = append(errs, fidelis.FieldError{Field: "referrer_points", Rule: "out_of_range", Message: "must be from 0 to 1000000"})
	}
	if in.RefereePoints < 0 || in.RefereePoints > 1_000_000 {
		errs = append(errs, fidelis.FieldError{Field: "referee_points", Rule: "out_of_range", Message: "must be from 0 to 1000000"})
	}
	if in.ReferrerPoints == 0 && in.RefereePoints == 0 && len(errs) == 0 {
		errs = append(errs, fidelis.FieldError{Field: "referrer_points", Rule: "required", Message: "a referral policy grants points to the referrer, the new member or both"})
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	now := s.now()
	out := &ReferralPolicy{Programme: programme, TermsVersion: in.TermsVersion, ReferrerPoints: in.ReferrerPoints, RefereePoints: in.RefereePoints, CreatedAt: now}
	err := s.publishCiting(ctx, programme, in.TermsVersion, "loyalty.referral_policy_published", func(tx Tx) (int, error) {
		prev, err := tx.ReferralPolicies(ctx, programme)
		if err != nil {
			return 0, err
		}
		out.Version = len(prev) + 1
		return out.Version, tx.InsertReferralPolicy(ctx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.PublishReferralPolicy: %w", err)
	}
	return out, nil
}

// ReferralPolicies returns a programme's referral policies, oldest first.
func (s *Service) ReferralPolicies(ctx context.Context, programme string) ([]*ReferralPolicy, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	var out []*ReferralPolicy
	err := s.Store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		var err error
		out, err = tx.ReferralPolicies(ctx, programme)
		return err
	})
	return out, err
}

// policyFor returns the newest referral policy stated in terms not newer than termsVersion.
func policyFor(all []*ReferralPolicy, termsVersion int) *ReferralPolicy {
	var best *ReferralPolicy
	for _, p := range all {
		if p.TermsVersion <= termsVersion && (best == nil || p.Version > best.Version) {
			best = p
		}
	}
	return best
}

func policyVersion(all []*ReferralPolicy, v int) *ReferralPolicy {
	for _, p := range all {
		if p.Version == v {
			return p
		}
	}
	return nil
}

// NewReferralCode returns a random referral code of 40 bits, "PARR-XXXXXXXX" in the
// voucher alphabet: short enough to type, random so that it says nothing about its owner.
func NewReferralCode() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	out := []byte("PARR-")
	for _, c := range b {
		out = append(out, crockford[c&31])
	}
	return string(out)
}

// NormalizeReferralCode puts a typed code in canonical form, or reports false.
func NormalizeReferralCode(code string) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(code))
	rest, ok := strings.CutPrefix(c, "PARR-")
	if !ok || len(rest) != 8 {
		return "", false
	}
	var b strings.Builder
	b.WriteString("PARR-")
	for _, r := range rest {
		switch r {
		case 'O':
			r = '0'
		case 'I', 'L':
			r = '1'
		}
		if r > 0x7f || strings.IndexByte(crockford, byte(r)) < 0 {
			return "", false
		}
		b.WriteRune(r)
	}
	return b.String(), true
}

// ensureReferralCode returns a member's code, creating it (inside tx) if they have none.
func ensureReferralCode(ctx context.Context, tx Tx, programme string, customer fidelis.CustomerID, now time.Time) (*ReferralCode, error) {
	rc, err := tx.ReferralCodeOf(ctx, programme, customer)
	if fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		return rc, err
	}
	for range 3 {
		rc = &ReferralCode{Programme: programme, Customer: customer, Code: NewReferralCode(), CreatedAt: now}
		if err = tx.Nested(ctx, func() error { return tx.InsertReferralCode(ctx, rc) }); fidelis.ErrorCode(err) != fidelis.ECONFLICT {
			return rc, err
		}
	}
	return nil, err
}

// ReferralLink returns the shareable link for a code: the configured join page with the
// code as its only parameter.
func (s *Service) ReferralLink(code string) string {
	base := s.ReferralBaseURL
	if base == "" {
		base = "/join"
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "ref=" + url.QueryEscape(code)
}

// MemberReferralCode returns a member's referral code, creating it if they have none yet
// (members who joined before referral existed). Calling it again returns the same code.
func (s *Service) MemberReferralCode(ctx context.Context, p fidelis.Purpose, programme string, customer fidelis.CustomerID) (*ReferralCode, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, "loyalty.referral_code", customer); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	var rc *ReferralCode
	err := s.Store.Write(ctx, func(tx Tx) error {
		m, err := tx.GetMember(ctx, programme, customer, true)
		if err != nil {
			if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
				return notMember()
			}
			return err
		}
		if !m.Active() {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "member_left", Message: "the customer left the programme; they cannot invite others"}
		}
		if rc, err = ensureReferralCode(ctx, tx, programme, customer, s.now()); err != nil {
			return err
		}
		return s.auditIn(ctx, tx, "loyalty.referral_code", p, customer)
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.MemberReferralCode: %w", err)
	}
	return rc, nil
}

// attachReferral records, when a new member joins with a code, who referred them. No
// self-referral; only a member joining for the first time; only while a referral policy
// stated in the terms they accept is in force.
func (s *Service) attachReferral(ctx context.Context, tx Tx, in MembershipInput, termsVersion int, now time.Time) error {
	code, ok := NormalizeReferralCode(in.ReferralCode)
	unknown := &fidelis.Error{Code: fidelis.EINVALID, Reason: "referral_code_unknown", Message: "no member of this programme has this referral code",
		Fields: []fidelis.FieldError{{Field: "referral_code", Rule: "unknown", Message: "is not a referral code of this programme"}}}
	if !ok {
		return unknown
	}
	rc, err := tx.ReferralCodeByCode(ctx, code)
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND || (err == nil && rc.Programme != in.Programme) {
		return unknown
	} else if err != nil {
		return err
	}
	if rc.Customer == in.Customer {
		return &fidelis.Error{Code: fidelis.EINVALID, Reason: "self_referral", Message: "a member cannot refer themselves",
			Fields: []fidelis.FieldError{{Field: "referral_code", Rule: "self_referral", Message: "is the customer's own code"}}}
	}
	policies, err := tx.ReferralPolicies(ctx, in.Programme)
	if err != nil {
		return err
	}
	pol := policyFor(policies, termsVersion)
	if pol == nil {
		return &fidelis.Error{Code: fidelis.EINVALID, Reason: "referral_not_offered", Message: "the programme's terms offer no referral bonus",
			Fields: []fidelis.FieldError{{Field: "referral_code", Rule: "not_offered", Message: "the programme has no referral policy"}}}
	}
	ref := &Referral{ID: fidelis.NewID("lrr", now), Programme: in.Programme, Referrer: rc.Customer, Referee: in.Customer, PolicyVersion: pol.Version, JoinedAt: now, Status: ReferralPending}
	if err := tx.InsertReferral(ctx, ref); err != nil {
		return err
	}
	return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.referral_recorded", string(in.Customer), map[string]any{
		"programme_id": in.Programme, "customer_id": in.Customer, "referrer_id": rc.Customer, "referral_id": ref.ID}))
}

// referralBonus credits a referral bonus of points to member m (locked) under policy pol.
func (s *Service) referralBonus(ctx context.Context, tx Tx, terms []*Terms, m *Member, ref *Referral, pol *ReferralPolicy, points int64, referrer bool, orderID string, now time.Time) (*Transaction, error) {
	tt := applicable(terms, m.TermsVersion, now)
	t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: m.Programme, Customer: m.Customer, Kind: KindEarn, At: now,
		RuleID: RuleReferral, RuleVersion: pol.Version, TermsVersion: termsVersion(tt), Reference: ref.ID}
	if referrer {
		t.Reason = Text{
			FR: fmt.Sprintf("%d point%s de parrainage : premier achat d'un membre parrainé (commande %s), parrainage v%d", points, plural(points), orderID, pol.Version),
			EN: fmt.Sprintf("%d referral point%s: first purchase of a member you referred (order %s), referral policy v%d", points, plural(points), orderID, pol.Version),
		}
	} else {
		t.Reason = Text{
			FR: fmt.Sprintf("%d point%s de bienvenue : premier achat après un parrainage (commande %s), parrainage v%d", points, plural(points), orderID, pol.Version),
			EN: fmt.Sprintf("%d welcome point%s: first purchase after a referral (order %s), referral policy v%d", points, plural(points), orderID, pol.Version),
		}
	}
	lot := earn(m, tt, t, points, now)
	return t, s.post(ctx, tx, m, t, lot, nil)
}

// RuleReferral is the rule ID referral bonuses cite, with the policy version as its version.
const RuleReferral = "referral"

// rewardReferral posts the referral bonuses after the referee's (m, locked) first
// purchase o: once, in the order's transaction. The referrer is locked after the referee;
// referrals are acyclic (a referrer joined before the member they referred), so two
// purchases never wait on each other's locks.
func (s *Service) rewardReferral(ctx context.Context, tx Tx, env *orderEnv, m *Member, o *Order, now time.Time) ([]*Transaction, error) {
	ref, err := tx.ReferralOf(ctx, m.Programme, m.Customer)
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return nil, nil
	} else if err != nil || ref.Status != ReferralPending {
		return nil, err
	}
	pol := policyVersion(env.policies, ref.PolicyVersion)
	if pol == nil {
		return nil, fmt.Errorf("referral %s cites policy v%d, which does not exist", ref.ID, ref.PolicyVersion)
	}
	var out []*Transaction
	if pol.RefereePoints > 0 {
		t, err := s.referralBonus(ctx, tx, env.terms, m, ref, pol, pol.RefereePoints, false, o.ID, now)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if pol.ReferrerPoints > 0 {
		rm, err := tx.GetMember(ctx, m.Programme, ref.Referrer, true)
		if err != nil {
			return nil, err
		}
		// A referrer who left earns nothing (no points are credited after leaving).
		if rm.Active() {
			t, err := s.referralBonus(ctx, tx, env.terms, rm, ref, pol, pol.ReferrerPoints, true, o.ID, now)
			if err != nil {
				return nil, err
			}
			out = append(out, t)
		}
	}
	ref.Status, ref.FirstOrder, ref.SettledAt = ReferralRewarded, o.ID, &now
	if err := tx.UpdateReferral(ctx, ref); err != nil {
		return nil, err
	}
	return out, tx.AppendLoyaltyEvent(ctx, s.event("loyalty.referral_rewarded", string(m.Customer), map[string]any{
		"programme_id": m.Programme, "customer_id": m.Customer, "referrer_id": ref.Referrer, "referral_id": ref.ID, "order_id": o.ID}))
}

// reverseReferral takes the referral bonuses back when the referee's (m, locked) first
// purchase is refunded in full (L-5: no buy-refer-refund loop). The referral is then closed
// as reversed: a later purchase does not earn it again. What was already spent becomes a
// debt, as for any reversal.
func (s *Service) reverseReferral(ctx context.Context, tx Tx, m *Member, lots []*Lot, o *Order, refID string, now time.Time) ([]*Transaction, error) {
	ref, err := tx.ReferralOf(ctx, m.Programme, m.Customer)
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return nil, nil
	} else if err != nil || ref.Status != ReferralRewarded || ref.FirstOrder != o.ID {
		return nil, err
	}
	txs, err := tx.TxsByReference(ctx, m.Programme, ref.ID)
	if err != nil {
		return nil, err
	}
	credited := map[fidelis.CustomerID]int64{}
	origin := map[fidelis.CustomerID]*Transaction{}
	var order []fidelis.CustomerID
	for _, t := range txs {
		for _, p := range t.Postings {
			if p.Account == AccountIssuance {
				credited[t.Customer] -= p.Amount
			}
		}
		if t.Kind == KindEarn {
			origin[t.Customer] = t
			order = append(order, t.Customer)
		}
	}
	var out []*Transaction
	for _, c := range order {
		back := credited[c]
		if back <= 0 {
			continue
		}
		target, targetLots := m, lots
		if c != m.Customer {
			if target, err = tx.GetMember(ctx, m.Programme, c, true); err != nil {
				return nil, err
			}
			if targetLots, err = tx.OpenLots(ctx, m.Programme, c); err != nil {
				return nil, err
			}
		}
		orig := origin[c]
		t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: m.Programme, Customer: c, Kind: KindReverse, At: now,
			RuleID: RuleReferral, RuleVersion: orig.RuleVersion, TermsVersion: orig.TermsVersion, Reference: ref.ID,
			Reason: Text{
				FR: fmt.Sprintf("%d point%s de parrainage repris : premier achat (commande %s) remboursé en totalité, remboursement %s", back, plural(back), o.ID, refID),
				EN: fmt.Sprintf("%d referral point%s taken back: first purchase (order %s) refunded in full, refund %s", back, plural(back), o.ID, refID),
			}}
		touched := reverse(target, targetLots, orig, t, back)
		if err := s.post(ctx, tx, target, t, nil, touched); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	ref.Status, ref.SettledAt = ReferralReversed, &now
	if err := tx.UpdateReferral(ctx, ref); err != nil {
		return nil, err
	}
	return out, tx.AppendLoyaltyEvent(ctx, s.event("loyalty.referral_reversed", string(m.Customer), map[string]any{
		"programme_id": m.Programme, "customer_id": m.Customer, "referrer_id": ref.Referrer, "referral_id": ref.ID, "order_id": o.ID}))
}

// rewardsView fills the tier, referral and reservation parts of a member view.
func (s *Service) rewardsView(ctx context.Context, tx Tx, v *MemberView) error {
	if err := s.tierView(ctx, tx, v); err != nil {
		return err
	}
	rc, err := tx.ReferralCodeOf(ctx, v.Programme.ID, v.Member.Customer)
	if err == nil {
		v.ReferralCode, v.ReferralLink = rc, s.ReferralLink(rc.Code)
	} else if fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		return err
	}
	ref, err := tx.ReferralOf(ctx, v.Programme.ID, v.Member.Customer)
	if err == nil {
		v.ReferredBy = ref
	} else if fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		return err
	}
	rs, err := tx.CustomerReservations(ctx, v.Member.Customer)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Programme == v.Programme.ID && r.Status == ReservationReserved {
			v.Reserved += r.Points
		}
	}
	return nil
}
