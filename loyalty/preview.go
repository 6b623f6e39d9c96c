package loyalty

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

// Outcome is what one rule version gives a basket, and why (L-3).
type Outcome struct {
	Rule        *Rule
	Applies     bool // the order is in the rule's date window and the member eligible
	Points      int64
	BasketCents int64
	Reason      Text
}

// Evaluate returns, for each rule version in force at the order time at (the newest
// version of each rule published at or before it), what it gives the basket and why. It is
// pure and it is the one evaluation of a basket: PlaceOrder posts the outcomes that carry
// points, and the back-office preview shows every outcome, so a preview is exactly what
// the order would earn (L-3). all holds every version of the programme's rules, by ID then
// version.
func Evaluate(all []*Rule, lines []OrderLine, profile Profile, at time.Time, currency string) []Outcome {
	whole := func(i int) int64 { return lines[i].Quantity }
	var out []Outcome
	for _, r := range rulesAt(all, at) {
		o := Outcome{Rule: r}
		ruleFR, ruleEN := fmt.Sprintf("règle « %s » v%d", r.ID, r.Version), fmt.Sprintf("rule %q v%d", r.ID, r.Version)
		if !r.inWindow(at) {
			o.Reason = Text{FR: "0 point : commande hors de la période " + windowFR(r) + ", " + ruleFR, EN: "0 points: order outside the period " + windowEN(r) + ", " + ruleEN}
		} else if ok, why := r.eligible(profile, at); !ok {
			o.Reason = Text{FR: "0 point : " + why.FR + ", " + ruleFR, EN: "0 points: " + why.EN + ", " + ruleEN}
		} else {
			e := r.Earn(lines, whole, currency)
			o.Applies, o.Points, o.BasketCents, o.Reason = true, e.Points, e.BasketCents, e.Reason
		}
		out = append(out, o)
	}
	return out
}

func windowFR(r *Rule) string {
	var parts []string
	if r.ValidFrom != nil {
		parts = append(parts, "à partir du "+r.ValidFrom.UTC().Format("02/01/2006 15:04")+" UTC")
	}
	if r.ValidUntil != nil {
		parts = append(parts, "avant le "+r.ValidUntil.UTC().Format("02/01/2006 15:04")+" UTC")
	}
	return strings.Join(parts, " et ")
}

func windowEN(r *Rule) string {
	var parts []string
	if r.ValidFrom != nil {
		parts = append(parts, "from "+r.ValidFrom.UTC().Format("2006-01-02 15:04")+" UTC")
	}
	if r.ValidUntil != nil {
		parts = append(parts, "before "+r.ValidUntil.UTC().Format("2006-01-02 15:04")+" UTC")
	}
	return strings.Join(parts, " and ")
}

// PreviewInput is a sample basket to evaluate, with an optional draft rule version.
type PreviewInput struct {
	Programme string
	// Draft is a rule version as it would be published now; nil previews the published
	// rules only.
	Draft *Rule
	Lines []OrderLine
	// At is the order time; zero means now.
	At time.Time
	// Profile is a sample member's country and birth date, for eligibility conditions.
	Profile Profile
}

// EarningPreview is what a basket would earn, rule by rule, with nothing posted.
type EarningPreview struct {
	Programme *Programme
	At        time.Time
	// Draft is the draft with the version number it would get; nil without a draft.
	Draft *Rule
	// DraftInForce is false when the order time is before the draft's publication (now):
	// a rule never applies to orders placed before it was published.
	DraftInForce bool
	Outcomes     []Outcome
	Points       int64
}

// PreviewEarning evaluates a sample basket under the programme's rules, and a draft rule
// version as if published now, without writing anything (administrative action: a sample
// basket is no one's personal data). Lines are checked as an order's are, and the draft as
// CreateRule checks it; the evaluation is Evaluate, the same code as PlaceOrder's.
func (s *Service) PreviewEarning(ctx context.Context, in PreviewInput) (*EarningPreview, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, programmeNotFound()
	}
	now := s.now()
	at := fidelis.UTC(in.At)
	if in.At.IsZero() {
		at = now
	}
	ep := &EarningPreview{At: at}
	var all []*Rule
	if err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if ep.Programme, err = tx.GetProgramme(ctx, in.Programme); err != nil {
			return programmeErr(err)
		}
		all, err = tx.Rules(ctx, in.Programme)
		return err
	}); err != nil {
		return nil, fmt.Errorf("loyalty.PreviewEarning: %w", err)
	}
	var errs []fidelis.FieldError
	var draft *Rule
	if in.Draft != nil {
		d := *in.Draft
		d.Programme, d.Countries = in.Programme, slices.Clone(d.Countries)
		slices.Sort(d.Countries)
		errs = append(errs, d.validate()...)
		draft = &d
	}
	// The sample order is checked as a real one is, at its own time.
	order := OrderInput{Programme: in.Programme, OrderedAt: at, Channel: orderChannels[0], Currency: ep.Programme.Currency, Lines: in.Lines}
	if err := order.validate(at); err != nil {
		errs = append(errs, fidelis.AsError(err).Fields...)
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	if draft != nil {
		draft.Version, draft.CreatedAt = 1, now
		for _, r := range all {
			if r.ID == draft.ID {
				draft.Version = r.Version + 1
			}
		}
		all = append(slices.Clone(all), draft)
		slices.SortStableFunc(all, func(a, b *Rule) int {
			if c := strings.Compare(a.ID, b.ID); c != 0 {
				return c
			}
			return a.Version - b.Version
		})
		ep.Draft, ep.DraftInForce = draft, !draft.CreatedAt.After(at)
	}
	ep.Outcomes = Evaluate(all, in.Lines, in.Profile, at, ep.Programme.Currency)
	for _, o := range ep.Outcomes {
		ep.Points += o.Points
	}
	return ep, nil
}

// TermsPreview is a version of the terms exactly as publishing it now would make it, and
// who would be told.
type TermsPreview struct {
	Terms    *Terms
	Previous *Terms // the latest published version; nil before the first
	Notified int    // active members who would get a notice (L-2)
}

// PreviewTerms checks a new version of the terms as PublishTerms does and returns it as it
// would be published now, without writing anything: what members will see, its number and
// effective date (L-2).
func (s *Service) PreviewTerms(ctx context.Context, programme string, in TermsInput) (*TermsPreview, error) {
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
	tp := &TermsPreview{}
	err := s.Store.Read(ctx, func(tx Tx) error {
		p, err := tx.GetProgramme(ctx, programme)
		if err != nil {
			return programmeErr(err)
		}
		versions, err := tx.ListTerms(ctx, programme)
		if err != nil {
			return err
		}
		if n := len(versions); n > 0 {
			tp.Previous = versions[n-1]
		}
		if tp.Terms, err = nextTerms(p, versions, in, now); err != nil {
			return err
		}
		return eachActiveMember(ctx, tx, programme, func(*Member) error { tp.Notified++; return nil })
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.PreviewTerms: %w", err)
	}
	return tp, nil
}
