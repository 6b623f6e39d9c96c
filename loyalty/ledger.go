package loyalty

import (
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// maxPoints bounds one operation, far above any real basket, so that sums never overflow.
const maxPoints = 1_000_000_000

// CheckBalanced reports why postings do not form a valid transaction: at least two lines,
// no zero line, and a sum of zero (L-6: double entry).
func CheckBalanced(ps []Posting) error {
	if len(ps) < 2 {
		return fmt.Errorf("%d posting(s); a transaction needs at least two", len(ps))
	}
	var sum int64
	for i, p := range ps {
		if p.Amount == 0 {
			return fmt.Errorf("posting %d has a zero amount", i)
		}
		sum += p.Amount
	}
	if sum != 0 {
		return fmt.Errorf("postings sum to %d, not 0", sum)
	}
	return nil
}

// consumeFIFO takes points from lots, oldest first (L-4), lowering their Remaining, and
// returns the member-account debits, one per lot touched, and the lots it changed. prefer,
// if not "", is taken first (a refund takes back the very points it earned first).
func consumeFIFO(lots []*Lot, customer fidelis.CustomerID, points int64, prefer string) ([]Posting, []*Lot) {
	ordered := make([]*Lot, 0, len(lots))
	for _, l := range lots {
		if l.ID == prefer {
			ordered = append(ordered, l)
		}
	}
	for _, l := range lots {
		if l.ID != prefer {
			ordered = append(ordered, l)
		}
	}
	var ps []Posting
	var touched []*Lot
	for _, l := range ordered {
		if points == 0 {
			break
		}
		take := min(points, l.Remaining)
		if take <= 0 {
			continue
		}
		l.Remaining -= take
		points -= take
		ps = append(ps, Posting{Account: AccountMember, Customer: customer, Amount: -take, Lot: l.ID})
		touched = append(touched, l)
	}
	return ps, touched
}

// applicable returns the terms that govern a member who accepted version accepted at time t:
// the newest version not above the accepted one already in force. Silence is never
// acceptance (L-2): a version the member did not accept never applies to them; a version
// they accepted applies from its effective date, the previous one until then.
func applicable(terms []*Terms, accepted int, t time.Time) *Terms {
	var best *Terms
	for _, v := range terms {
		if v.Version <= accepted && !v.EffectiveAt.After(t) && (best == nil || v.Version > best.Version) {
			best = v
		}
	}
	if best == nil {
		for _, v := range terms {
			if v.Version == accepted {
				return v
			}
		}
	}
	return best
}

// inForce returns the newest version in force at t, or nil.
func inForce(terms []*Terms, t time.Time) *Terms {
	var best *Terms
	for _, v := range terms {
		if !v.EffectiveAt.After(t) && (best == nil || v.Version > best.Version) {
			best = v
		}
	}
	return best
}

// expiryOf returns when points earned at earned expire under terms, or nil for never.
func expiryOf(terms *Terms, earned time.Time) *time.Time {
	if terms == nil || terms.ExpiryMonths <= 0 {
		return nil
	}
	e := fidelis.UTC(earned.AddDate(0, terms.ExpiryMonths, 0))
	return &e
}

// frenchAmount formats cents as "12,34"; englishAmount as "12.34".
func frenchAmount(cents int64) string {
	return fmt.Sprintf("%d,%02d", cents/100, cents%100)
}

func englishAmount(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

func plural(n int64) string {
	if n == 1 || n == -1 {
		return ""
	}
	return "s"
}
