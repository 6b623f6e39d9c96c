package loyalty

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

// TierMetric is what qualifies a member for a tier over the qualification period.
type TierMetric string

// Tier metrics.
const (
	// MetricPointsEarned counts the points purchases earned under the earning rules, net
	// of refunds (tier bonuses, referral bonuses and adjustments do not count).
	MetricPointsEarned TierMetric = "points_earned"
	// MetricAmountSpent counts the amount of the purchases, net of promotions and refunds,
	// in cents.
	MetricAmountSpent TierMetric = "amount_spent"
)

// Tier is one level of a tier schedule. Benefits are stated in the terms the schedule
// cites (L-3); the earning multiplier is the one Fidelis applies itself.
type Tier struct {
	ID        string `json:"id"`
	Name      Text   `json:"name"`
	Threshold int64  `json:"threshold"` // points, or cents for amount_spent
	// MultiplierPercent scales the points the member's purchases earn under the earning
	// rules while they hold the tier: 150 grants half as much again, as a separate
	// transaction citing the tier. 100 (or 0) means no multiplier.
	MultiplierPercent int64 `json:"multiplier_percent"`
	Benefits          Text  `json:"benefits"`
}

// TierSchedule is one published version of a programme's tiers. It cites the version of
// the terms that states it (L-3): a member is evaluated under the newest schedule stated in
// terms they accepted, never under one stated only in terms they did not (L-2).
type TierSchedule struct {
	Programme    string
	Version      int
	TermsVersion int
	Metric       TierMetric
	PeriodMonths int
	Tiers        []Tier // ascending thresholds
	CreatedAt    time.Time
}

// BaseTier is the ID of "no tier".
const BaseTier = ""

// rank returns the position of tier id in the schedule (1 for the lowest tier), 0 for the
// base level or a tier the schedule no longer has.
func (s *TierSchedule) rank(id string) int {
	for i, t := range s.Tiers {
		if t.ID == id {
			return i + 1
		}
	}
	return 0
}

func (s *TierSchedule) tier(id string) *Tier {
	if s == nil {
		return nil
	}
	for i := range s.Tiers {
		if s.Tiers[i].ID == id {
			return &s.Tiers[i]
		}
	}
	return nil
}

// qualify returns the highest tier whose threshold value reaches, or BaseTier.
func (s *TierSchedule) qualify(value int64) string {
	best := BaseTier
	for _, t := range s.Tiers {
		if value >= t.Threshold {
			best = t.ID
		}
	}
	return best
}

// period returns the qualification period ending at now.
func (s *TierSchedule) period(now time.Time) (time.Time, time.Time) {
	return fidelis.UTC(now.AddDate(0, -s.PeriodMonths, 0)), now
}

// MemberTier is a member's current tier (BaseTier when none) and the schedule version it was
// decided under.
type MemberTier struct {
	Programme       string
	Customer        fidelis.CustomerID
	Tier            string
	ScheduleVersion int
	Since           time.Time
}

// TierChange records one change of a member's tier, with the explanation the member reads
// in their language ("Or : 1 250 points gagnés entre le ... et le ..., seuil 1 000").
type TierChange struct {
	ID              string
	Programme       string
	Customer        fidelis.CustomerID
	At              time.Time
	From, To        string
	Direction       string // upgrade, downgrade
	ScheduleVersion int
	TermsVersion    int
	Value           int64
	Threshold       int64 // of the tier reached, or of the tier lost on a downgrade to base
	PeriodFrom      time.Time
	PeriodTo        time.Time
	Reason          Text
}

// TierProgress is where a member stands in the current period.
type TierProgress struct {
	Schedule   *TierSchedule
	Metric     TierMetric
	Value      int64
	PeriodFrom time.Time
	PeriodTo   time.Time
	Next       *Tier // nil at the top
	Missing    int64 // to reach Next
}

// TierScheduleInput publishes a new version of a programme's tiers.
type TierScheduleInput struct {
	TermsVersion int        `json:"terms_version"`
	Metric       TierMetric `json:"metric"`
	PeriodMonths int        `json:"period_months"`
	Tiers        []Tier     `json:"tiers"`
}

// Tier schedule limits.
const maxTiers = 10

func (in *TierScheduleInput) validate() error {
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	if in.TermsVersion < 1 {
		bad("terms_version", "required", "name the published version of the terms that states the tiers (L-3)")
	}
	if in.Metric != MetricPointsEarned && in.Metric != MetricAmountSpent {
		bad("metric", "invalid", "must be points_earned or amount_spent")
	}
	if in.PeriodMonths < 1 || in.PeriodMonths > 36 {
		bad("period_months", "out_of_range", "must be from 1 to 36")
	}
	if len(in.Tiers) == 0 || len(in.Tiers) > maxTiers {
		bad("tiers", "out_of_range", fmt.Sprintf("a schedule has 1 to %d tiers", maxTiers))
	}
	seen := map[string]bool{}
	for i, t := range in.Tiers {
		f := fmt.Sprintf("tiers.%d.", i)
		if !slugRE.MatchString(t.ID) || seen[t.ID] {
			bad(f+"id", "invalid", "a unique code: lower-case letters, digits, - and _, starting with a letter")
		}
		seen[t.ID] = true
		if strings.TrimSpace(t.Name.FR) == "" || strings.TrimSpace(t.Name.EN) == "" || !cleanText(t.Name.FR, 100) || !cleanText(t.Name.EN, 100) {
			bad(f+"name", "required", "needs a French and an English name of at most 100 bytes")
		}
		if t.Threshold < 1 || t.Threshold > 10_000_000_000 {
			bad(f+"threshold", "out_of_range", "must be from 1 to 10000000000")
		} else if i > 0 && t.Threshold <= in.Tiers[i-1].Threshold {
			bad(f+"threshold", "not_ascending", "tiers are listed from the lowest threshold to the highest")
		}
		if t.MultiplierPercent == 0 {
			in.Tiers[i].MultiplierPercent = 100
		} else if t.MultiplierPercent < 100 || t.MultiplierPercent > 1000 {
			bad(f+"multiplier_percent", "out_of_range", "must be from 100 (none) to 1000")
		}
		if !cleanText(t.Benefits.FR, 2000) || !cleanText(t.Benefits.EN, 2000) {
			bad(f+"benefits", "invalid", "at most 2000 bytes per language, no control characters")
		}
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}

// PublishTierSchedule publishes the next version of a programme's tiers (administrative
// action). It must cite a published version of the terms, which states the tiers, their
// thresholds, period and benefits (L-3); members are evaluated under it once they are
// under that version of the terms.
func (s *Service) PublishTierSchedule(ctx context.Context, programme string, in TierScheduleInput) (*TierSchedule, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	out := &TierSchedule{Programme: programme, TermsVersion: in.TermsVersion, Metric: in.Metric, PeriodMonths: in.PeriodMonths, Tiers: in.Tiers, CreatedAt: now}
	err := s.publishCiting(ctx, programme, in.TermsVersion, "loyalty.tiers_published", func(tx Tx) (int, error) {
		prev, err := tx.TierSchedules(ctx, programme)
		if err != nil {
			return 0, err
		}
		out.Version = len(prev) + 1
		return out.Version, tx.InsertTierSchedule(ctx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.PublishTierSchedule: %w", err)
	}
	return out, nil
}

// publishCiting publishes the next version of a programme's policy that cites terms
// version cited (tier schedules, referral policies: L-3, stated in the terms), in one
// transaction with its event: the programme must exist and the cited version be published;
// insert numbers and stores the new version and returns its number.
func (s *Service) publishCiting(ctx context.Context, programme string, cited int, event string, insert func(Tx) (int, error)) error {
	return s.Store.Write(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		terms, err := tx.ListTerms(ctx, programme)
		if err != nil {
			return err
		}
		if cited > len(terms) {
			return citeUnknownTerms()
		}
		version, err := insert(tx)
		if err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event(event, programme, map[string]any{"programme_id": programme, "version": version, "terms_version": cited}))
	})
}

func citeUnknownTerms() error {
	return &fidelis.Error{Code: fidelis.EINVALID, Reason: "terms_unknown", Message: "no published version of the terms has this number",
		Fields: []fidelis.FieldError{{Field: "terms_version", Rule: "unknown", Message: "is not a published version"}}}
}

// scheduleFor returns the newest schedule stated in terms not newer than termsVersion: the
// version of the terms that governs the member (L-2: silence is not acceptance).
func scheduleFor(all []*TierSchedule, termsVersion int) *TierSchedule {
	var best *TierSchedule
	for _, s := range all {
		if s.TermsVersion <= termsVersion && (best == nil || s.Version > best.Version) {
			best = s
		}
	}
	return best
}

func scheduleVersion(all []*TierSchedule, v int) *TierSchedule {
	for _, s := range all {
		if s.Version == v {
			return s
		}
	}
	return nil
}

// tierValue measures a member's qualification over [from, to].
func tierValue(ctx context.Context, tx Tx, sch *TierSchedule, customer fidelis.CustomerID, from, to time.Time) (int64, error) {
	if sch.Metric == MetricPointsEarned {
		return tx.EarnedPoints(ctx, sch.Programme, customer, from, to)
	}
	orders, err := tx.CustomerOrders(ctx, sch.Programme, customer, from, to)
	if err != nil {
		return 0, err
	}
	var cents int64
	for _, o := range orders {
		for _, l := range o.Lines {
			cents += max(0, l.netCents(l.Quantity-l.Refunded))
		}
	}
	return cents, nil
}

// groupDigits writes n with sep between groups of three digits: "1 250", "1,250".
func groupDigits(n int64, sep string) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// metricText says the measured value in French and English.
func metricText(sch *TierSchedule, value int64, currency string) (string, string) {
	if sch.Metric == MetricAmountSpent {
		return groupDigits(value/100, " ") + fmt.Sprintf(",%02d %s dépensés", value%100, currency),
			groupDigits(value/100, ",") + fmt.Sprintf(".%02d %s spent", value%100, currency)
	}
	fr := "" // French: 0 and 1 are singular
	if value > 1 {
		fr = "s"
	}
	return groupDigits(value, " ") + " point" + fr + " gagné" + fr, groupDigits(value, ",") + " point" + plural(value) + " earned"
}

func thresholdText(sch *TierSchedule, v int64, currency string) (string, string) {
	if sch.Metric == MetricAmountSpent {
		return groupDigits(v/100, " ") + fmt.Sprintf(",%02d %s", v%100, currency), groupDigits(v/100, ",") + fmt.Sprintf(".%02d %s", v%100, currency)
	}
	return groupDigits(v, " "), groupDigits(v, ",")
}

var baseTierName = Text{FR: "Aucun palier", EN: "No tier"}

// tierChange builds the change from cur (lost: its definition, nil for the base level) to
// to, explained in French and English.
func tierChange(sch *TierSchedule, termsVersion int, customer fidelis.CustomerID, cur string, lost *Tier, to string, value int64, from, now time.Time, currency string) *TierChange {
	c := &TierChange{ID: fidelis.NewID("ltc", now), Programme: sch.Programme, Customer: customer, At: now, From: cur, To: to, Direction: "upgrade",
		ScheduleVersion: sch.Version, TermsVersion: termsVersion, Value: value, PeriodFrom: from, PeriodTo: now}
	vFR, vEN := metricText(sch, value, currency)
	datesFR := fmt.Sprintf("entre le %s et le %s", from.Format("02/01/2006"), now.Format("02/01/2006"))
	datesEN := fmt.Sprintf("between %s and %s", from.Format(time.DateOnly), now.Format(time.DateOnly))
	citeFR, citeEN := fmt.Sprintf("paliers v%d, conditions v%d", sch.Version, termsVersion), fmt.Sprintf("tier schedule v%d, terms v%d", sch.Version, termsVersion)
	t := sch.tier(to)
	if t == nil || (lost != nil && t.Threshold < lost.Threshold) {
		c.Direction = "downgrade"
		name := baseTierName
		if t != nil {
			name = t.Name
		}
		c.Threshold = lost.Threshold
		tFR, tEN := thresholdText(sch, lost.Threshold, currency)
		c.Reason = Text{
			FR: fmt.Sprintf("%s : %s %s, sous le seuil de %s du palier %s (%s)", name.FR, vFR, datesFR, tFR, lost.Name.FR, citeFR),
			EN: fmt.Sprintf("%s: %s %s, below the %s threshold of %s (%s)", name.EN, vEN, datesEN, tEN, lost.Name.EN, citeEN),
		}
		return c
	}
	c.Threshold = t.Threshold
	tFR, tEN := thresholdText(sch, t.Threshold, currency)
	c.Reason = Text{
		FR: fmt.Sprintf("%s : %s %s, seuil %s (%s)", t.Name.FR, vFR, datesFR, tFR, citeFR),
		EN: fmt.Sprintf("%s: %s %s, threshold %s (%s)", t.Name.EN, vEN, datesEN, tEN, citeEN),
	}
	return c
}

// currentTier returns a member's stored tier, or the base level.
func currentTier(ctx context.Context, tx Tx, programme string, customer fidelis.CustomerID) (*MemberTier, error) {
	mt, err := tx.GetMemberTier(ctx, programme, customer)
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return &MemberTier{Programme: programme, Customer: customer, Tier: BaseTier}, nil
	}
	return mt, err
}

// evaluateTier re-evaluates a locked member under sch (one of all) at now. With
// upgradeOnly (after a purchase), only a higher tier is applied: a member rises as soon as
// they reach the threshold, and falls only at the periodic review (ReviewTiers). It records
// the change, its event and the new tier, and returns the change (nil when none).
func (s *Service) evaluateTier(ctx context.Context, tx Tx, all []*TierSchedule, sch *TierSchedule, termsVersion int, m *Member, currency string, now time.Time, upgradeOnly, dry bool) (*TierChange, error) {
	cur, err := currentTier(ctx, tx, m.Programme, m.Customer)
	if err != nil {
		return nil, err
	}
	if upgradeOnly && cur.ScheduleVersion == sch.Version && sch.rank(cur.Tier) == len(sch.Tiers) {
		return nil, nil // already at the top
	}
	from, to := sch.period(now)
	value, err := tierValue(ctx, tx, sch, m.Customer, from, to)
	if err != nil {
		return nil, err
	}
	q := sch.qualify(value)
	var lost *Tier // the definition of the current tier, in the schedule it was decided under
	if old := scheduleVersion(all, cur.ScheduleVersion); old != nil {
		lost = old.tier(cur.Tier)
	}
	if lost == nil && cur.Tier != BaseTier {
		lost = &Tier{ID: cur.Tier, Name: Text{FR: cur.Tier, EN: cur.Tier}}
	}
	newRank, curRank := sch.rank(q), sch.rank(cur.Tier)
	if cur.Tier == q || (upgradeOnly && newRank <= curRank) {
		if cur.Tier == q && cur.ScheduleVersion != 0 && cur.ScheduleVersion != sch.Version && !dry {
			cur.ScheduleVersion = sch.Version // the same tier, carried over to the newer schedule
			return nil, tx.PutMemberTier(ctx, cur)
		}
		return nil, nil
	}
	c := tierChange(sch, termsVersion, m.Customer, cur.Tier, lost, q, value, from, now, currency)
	if upgradeOnly && c.Direction == "downgrade" {
		return nil, nil
	}
	if dry {
		return c, nil
	}
	if err := tx.InsertTierChange(ctx, c); err != nil {
		return nil, err
	}
	if err := tx.PutMemberTier(ctx, &MemberTier{Programme: m.Programme, Customer: m.Customer, Tier: q, ScheduleVersion: sch.Version, Since: now}); err != nil {
		return nil, err
	}
	return c, tx.AppendLoyaltyEvent(ctx, s.event("loyalty.tier_changed", string(m.Customer), map[string]any{
		"programme_id": m.Programme, "customer_id": m.Customer, "from": c.From, "to": c.To, "direction": c.Direction, "schedule_version": sch.Version}))
}

// TierReviewReport says what a review did (or, dry, would do).
type TierReviewReport struct {
	Members    int
	Upgrades   int
	Downgrades int
	Changes    []*TierChange
}

// maxReviewChanges bounds the changes a report lists.
const maxReviewChanges = 1000

// ReviewTiers is the periodic tier review: every member of every programme with tiers is
// re-evaluated over the qualification period ending at now, under the schedule stated in
// the terms that govern them. Members below their tier's threshold are downgraded (the
// only way down), members above it upgraded; each change is recorded with its reason.
// With dry, nothing is written. It is safe on several nodes: each member is re-evaluated
// under the member lock, and a change already made is not made again.
func (s *Service) ReviewTiers(ctx context.Context, now time.Time, dry bool) (*TierReviewReport, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	now = fidelis.UTC(now)
	rep := &TierReviewReport{}
	var progs []*Programme
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { progs, err = tx.ListProgrammes(ctx); return err }); err != nil {
		return nil, fmt.Errorf("loyalty.ReviewTiers: %w", err)
	}
	for _, p := range progs {
		var schedules []*TierSchedule
		if err := s.Store.Read(ctx, func(tx Tx) (err error) { schedules, err = tx.TierSchedules(ctx, p.ID); return err }); err != nil {
			return rep, fmt.Errorf("loyalty.ReviewTiers: %w", err)
		}
		if len(schedules) == 0 {
			continue
		}
		var after fidelis.CustomerID
		for {
			var ms []*Member
			if err := s.Store.Read(ctx, func(tx Tx) (err error) { ms, err = tx.ListMembers(ctx, p.ID, after, 500); return err }); err != nil {
				return rep, fmt.Errorf("loyalty.ReviewTiers: %w", err)
			}
			for _, m := range ms {
				rep.Members++
				if err := s.reviewMember(ctx, p, schedules, m.Customer, now, dry, rep); err != nil {
					return rep, fmt.Errorf("loyalty.ReviewTiers: %w", err)
				}
			}
			if len(ms) < 500 {
				break
			}
			after = ms[len(ms)-1].Customer
		}
	}
	return rep, nil
}

func (s *Service) reviewMember(ctx context.Context, p *Programme, schedules []*TierSchedule, customer fidelis.CustomerID, now time.Time, dry bool, rep *TierReviewReport) error {
	run := s.Store.Write
	if dry {
		run = s.Store.Read
	}
	return run(ctx, func(tx Tx) error {
		m, err := tx.GetMember(ctx, p.ID, customer, !dry)
		if err != nil {
			return err
		}
		terms, err := tx.ListTerms(ctx, p.ID)
		if err != nil {
			return err
		}
		tv := termsVersion(applicable(terms, m.TermsVersion, now))
		sch := scheduleFor(schedules, tv)
		if sch == nil {
			return nil
		}
		c, err := s.evaluateTier(ctx, tx, schedules, sch, tv, m, p.Currency, now, false, dry)
		if err != nil || c == nil {
			return err
		}
		if c.Direction == "upgrade" {
			rep.Upgrades++
		} else {
			rep.Downgrades++
		}
		if len(rep.Changes) < maxReviewChanges {
			rep.Changes = append(rep.Changes, c)
		}
		return nil
	})
}

// ClaimTierReview records that the review of period ("2026-03") ran for programme; it
// reports false when it already had, so that the monthly job runs once across nodes.
func (s *Service) ClaimTierReview(ctx context.Context, period string, now time.Time) (bool, error) {
	if err := s.CheckManage(ctx); err != nil {
		return false, err
	}
	claimed := false
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		claimed, err = tx.ClaimTierReview(ctx, "*", period, fidelis.UTC(now))
		return err
	})
	return claimed, err
}

// tierView fills the tier part of a member view: the current tier, the progress towards
// the next one and the history of changes with their reasons.
func (s *Service) tierView(ctx context.Context, tx Tx, v *MemberView) error {
	schedules, err := tx.TierSchedules(ctx, v.Programme.ID)
	if err != nil || len(schedules) == 0 {
		return err
	}
	if v.TierHistory, err = tx.TierChanges(ctx, v.Programme.ID, v.Member.Customer); err != nil {
		return err
	}
	cur, err := currentTier(ctx, tx, v.Programme.ID, v.Member.Customer)
	if err != nil {
		return err
	}
	v.Tier = cur
	sch := scheduleFor(schedules, termsVersion(v.Applicable))
	if sch == nil {
		return nil
	}
	if cs := scheduleVersion(schedules, cur.ScheduleVersion); cs != nil {
		v.TierDetail = cs.tier(cur.Tier)
	}
	now := s.now()
	from, to := sch.period(now)
	value, err := tierValue(ctx, tx, sch, v.Member.Customer, from, to)
	if err != nil {
		return err
	}
	pr := &TierProgress{Schedule: sch, Metric: sch.Metric, Value: value, PeriodFrom: from, PeriodTo: to}
	rank := sch.rank(cur.Tier)
	if rank < len(sch.Tiers) {
		pr.Next = &sch.Tiers[rank]
		pr.Missing = max(0, pr.Next.Threshold-value)
	}
	v.TierProgress = pr
	return nil
}

// TierSchedules returns a programme's tier schedules, oldest first (no personal data).
func (s *Service) TierSchedules(ctx context.Context, programme string) ([]*TierSchedule, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	var out []*TierSchedule
	err := s.Store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		var err error
		out, err = tx.TierSchedules(ctx, programme)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.TierSchedules: %w", err)
	}
	slices.SortFunc(out, func(a, b *TierSchedule) int { return a.Version - b.Version })
	return out, nil
}
