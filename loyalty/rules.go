package loyalty

import (
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
)

// Rule is one version of a declarative earning rule (L-3). A new version never changes
// what earlier versions earned: transactions cite the version that produced them.
type Rule struct {
	Programme string
	ID        string // a slug, e.g. "base"
	Version   int
	Name      Text
	// PointsPerUnit is the points per whole currency unit spent, net of promotions.
	PointsPerUnit int64
	// Multipliers raise or lower the points of matching lines, in percent (200: double).
	// A GTIN match wins over a category match.
	Multipliers    []Multiplier
	MinBasketCents int64      // the basket, net of promotions, must reach this to earn
	ValidFrom      *time.Time // orders before it do not earn under this rule
	ValidUntil     *time.Time // orders at or after it do not earn under this rule
	Countries      []string   // eligibility: the member's country must be one of these
	MinAge         int        // eligibility: the member's age on the order date, from their birth date
	CreatedAt      time.Time
}

// Multiplier scales the points of the lines it matches.
type Multiplier struct {
	Category string `json:"category,omitempty"`
	GTIN     string `json:"gtin,omitempty"`
	Percent  int64  `json:"percent"`
}

// Order is a purchase reported by a till or a web shop (L-3, L-5).
type Order struct {
	ID        string
	Programme string
	Customer  fidelis.CustomerID
	OrderedAt time.Time
	Channel   string
	Store     string
	Currency  string
	Lines     []OrderLine
	CreatedAt time.Time
}

// OrderLine is one product line. PromotionCents is the discount on the whole line.
type OrderLine struct {
	GTIN           string `json:"gtin"`
	Category       string `json:"category"`
	Quantity       int64  `json:"quantity"`
	UnitPriceCents int64  `json:"unit_price_cents"`
	PromotionCents int64  `json:"promotion_cents"`
	Refunded       int64  `json:"refunded"`
}

// netCents is what qty units of the line cost after the promotion, prorated by quantity.
func (l OrderLine) netCents(qty int64) int64 {
	if l.Quantity == 0 {
		return 0
	}
	return qty*l.UnitPriceCents - l.PromotionCents*qty/l.Quantity
}

// ValidGTIN reports whether s is a GTIN-8, -12, -13 or -14 with a correct check digit.
func ValidGTIN(s string) bool {
	switch len(s) {
	case 8, 12, 13, 14:
	default:
		return false
	}
	sum := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		if i == len(s)-1 {
			break
		}
		d := int(c - '0')
		// Weights alternate 3, 1 from the digit next to the check digit.
		if (len(s)-1-i)%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return (10-sum%10)%10 == int(s[len(s)-1]-'0')
}

var slugRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,39}$`)

// validate checks a rule's definition.
func (r *Rule) validate() []fidelis.FieldError {
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	if !slugRE.MatchString(r.ID) {
		bad("id", "invalid", "must be 1 to 40 characters: lower-case letters, digits, - and _, starting with a letter")
	}
	if r.Name.FR == "" || r.Name.EN == "" || len(r.Name.FR) > 200 || len(r.Name.EN) > 200 {
		bad("name", "required", "needs a French and an English name of at most 200 characters")
	}
	if r.PointsPerUnit < 0 || r.PointsPerUnit > 1000 {
		bad("points_per_unit", "out_of_range", "must be from 0 to 1000")
	}
	if r.MinBasketCents < 0 || r.MinBasketCents > 100_000_000 {
		bad("min_basket_cents", "out_of_range", "must be from 0 to 100000000")
	}
	if len(r.Multipliers) > 100 {
		bad("multipliers", "too_many", "at most 100 multipliers")
	}
	for i, m := range r.Multipliers {
		f := fmt.Sprintf("multipliers.%d", i)
		switch {
		case (m.Category == "") == (m.GTIN == ""):
			bad(f, "one_of", "names exactly one of category or gtin")
		case m.GTIN != "" && !ValidGTIN(m.GTIN):
			bad(f+".gtin", "invalid_gtin", "is not a GTIN with a valid check digit")
		case m.Category != "" && !slugRE.MatchString(m.Category):
			bad(f+".category", "invalid", "must be a category code: lower-case letters, digits, - and _")
		case m.Percent < 0 || m.Percent > 10000:
			bad(f+".percent", "out_of_range", "must be from 0 to 10000")
		}
	}
	if r.ValidFrom != nil && r.ValidUntil != nil && !r.ValidUntil.After(*r.ValidFrom) {
		bad("valid_until", "before_start", "must be after valid_from")
	}
	for i, c := range r.Countries {
		if len(c) != 2 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
			bad(fmt.Sprintf("countries.%d", i), "invalid_country", "must be a two-letter ISO 3166 code in capitals")
		}
	}
	if r.MinAge < 0 || r.MinAge > 120 {
		bad("min_age", "out_of_range", "must be from 0 to 120")
	}
	return errs
}

// inWindow reports whether the rule covers an order at t.
func (r *Rule) inWindow(t time.Time) bool {
	return (r.ValidFrom == nil || !t.Before(*r.ValidFrom)) && (r.ValidUntil == nil || t.Before(*r.ValidUntil))
}

// Profile is what eligibility conditions look at: the member's country and birth date,
// when given.
type Profile struct {
	Country   string
	BirthDate *time.Time
}

// eligible reports whether a member with profile p may earn under r at t, and if not, why.
func (r *Rule) eligible(p Profile, t time.Time) (bool, Text) {
	if len(r.Countries) > 0 && !slices.Contains(r.Countries, p.Country) {
		return false, Text{FR: "pays non éligible", EN: "country not eligible"}
	}
	if r.MinAge > 0 {
		if p.BirthDate == nil || p.BirthDate.AddDate(r.MinAge, 0, 0).After(t) {
			return false, Text{FR: fmt.Sprintf("réservé aux %d ans et plus", r.MinAge), EN: fmt.Sprintf("reserved to members aged %d or more", r.MinAge)}
		}
	}
	return true, Text{}
}

// percentFor returns the multiplier of a line, in percent.
func (r *Rule) percentFor(l OrderLine) int64 {
	for _, m := range r.Multipliers {
		if m.GTIN != "" && m.GTIN == l.GTIN {
			return m.Percent
		}
	}
	for _, m := range r.Multipliers {
		if m.Category != "" && m.Category == l.Category {
			return m.Percent
		}
	}
	return 100
}

// Earning is what a rule grants for a basket, and why.
type Earning struct {
	Points      int64
	BasketCents int64
	Reason      Text
}

// Earn computes the points rule r grants for lines, counting qty(i) units of line i. It is
// pure: the same rule version and basket always give the same points, which is what lets a
// refund take back exactly what the refunded part earned (L-5).
func (r *Rule) Earn(lines []OrderLine, qty func(i int) int64, currency string) Earning {
	var basket, weighted, points int64
	multiplied := false
	for i, l := range lines {
		n := qty(i)
		if n <= 0 {
			continue
		}
		net := max(0, l.netCents(n))
		basket += net
		pct := r.percentFor(l)
		if pct != 100 {
			multiplied = true
		}
		weighted += net * pct
	}
	// Rounded down once, on the whole basket: the reason's arithmetic is the member's.
	points = weighted * r.PointsPerUnit / 10000
	e := Earning{BasketCents: basket}
	ruleFR := fmt.Sprintf("règle « %s » v%d", r.ID, r.Version)
	ruleEN := fmt.Sprintf("rule %q v%d", r.ID, r.Version)
	if basket < r.MinBasketCents {
		e.Reason = Text{
			FR: fmt.Sprintf("0 point : panier de %s %s sous le minimum de %s %s, %s", frenchAmount(basket), currency, frenchAmount(r.MinBasketCents), currency, ruleFR),
			EN: fmt.Sprintf("0 points: basket of %s %s below the minimum of %s %s, %s", englishAmount(basket), currency, englishAmount(r.MinBasketCents), currency, ruleEN),
		}
		return e
	}
	e.Points = points
	extraFR, extraEN := "", ""
	if multiplied {
		extraFR, extraEN = " avec multiplicateurs", " with multipliers"
	}
	e.Reason = Text{
		FR: fmt.Sprintf("%d point%s : %d point%s par %s sur %s %s%s, %s", points, plural(points), r.PointsPerUnit, plural(r.PointsPerUnit), currency, frenchAmount(basket), currency, extraFR, ruleFR),
		EN: fmt.Sprintf("%d point%s: %d point%s per %s on %s %s%s, %s", points, plural(points), r.PointsPerUnit, plural(r.PointsPerUnit), currency, englishAmount(basket), currency, extraEN, ruleEN),
	}
	return e
}

// latestRules keeps the newest version of each rule, given every version by ID then version.
func latestRules(all []*Rule) []*Rule {
	var out []*Rule
	for i, r := range all {
		if i+1 == len(all) || all[i+1].ID != r.ID {
			out = append(out, r)
		}
	}
	return out
}

// rulesAt keeps, for each rule, the version in force at t: the newest published at or
// before t. An order reported late earns under the rules of its own date (L-3), and a rule
// published after the order does not apply to it.
func rulesAt(all []*Rule, t time.Time) []*Rule {
	var out []*Rule
	for i, r := range all {
		if r.CreatedAt.After(t) {
			continue
		}
		if i+1 < len(all) && all[i+1].ID == r.ID && !all[i+1].CreatedAt.After(t) {
			continue // a newer version was already in force
		}
		out = append(out, r)
	}
	return out
}
