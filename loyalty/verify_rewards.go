package loyalty

import (
	"context"
	"strings"

	"github.com/fidelis/fidelis"
)

// citations are the policies other than earning rules that transactions may cite: tier
// schedules ("tier:<id>" at a schedule version) and referral policies ("referral" at a
// policy version).
type citations struct {
	schedules []*TierSchedule
	policies  []*ReferralPolicy
}

func loadCitations(ctx context.Context, tx Tx, prog string) (*citations, error) {
	c := &citations{}
	var err error
	if c.schedules, err = tx.TierSchedules(ctx, prog); err != nil {
		return nil, err
	}
	c.policies, err = tx.ReferralPolicies(ctx, prog)
	return c, err
}

// cites reports whether rule id at version v names a published tier or referral policy.
func (c *citations) cites(id string, v int) bool {
	if tier, ok := strings.CutPrefix(id, tierRulePrefix); ok {
		return scheduleVersion(c.schedules, v).tier(tier) != nil
	}
	return id == RuleReferral && policyVersion(c.policies, v) != nil
}

// verifyReservations checks that each member's reserved account holds exactly the points
// of their open reservations, and that every reservation's transactions match its state:
// a hold moving its points to the reserved account, then, once settled, one redeem
// (confirmed) or release (cancelled, expired) moving them out (L-6, L-7).
func verifyReservations(ctx context.Context, tx Tx, prog string, txs map[string]*Transaction, reservedSum map[fidelis.CustomerID]int64,
	bad func(check, subject, format string, args ...any), rep *VerifyReport) error {
	held := map[fidelis.CustomerID]int64{}
	var after string
	for {
		rs, err := tx.Reservations(ctx, prog, after, 1000)
		if err != nil {
			return err
		}
		for _, r := range rs {
			rep.Reservations++
			reservedOn := func(t *Transaction) int64 {
				var n int64
				for _, p := range t.Postings {
					if p.Account == AccountReserved && p.Customer == r.Customer {
						n += p.Amount
					}
				}
				return n
			}
			hold := txs[r.HoldTx]
			switch {
			case hold == nil || hold.Kind != KindReserve || hold.Reference != r.ID:
				bad("reservation", r.ID, "its hold transaction %s is missing or is not a reservation of it", r.HoldTx)
			case reservedOn(hold) != r.Points:
				bad("reservation", r.ID, "holds %d points, its hold transaction moved %d", r.Points, reservedOn(hold))
			}
			settle := txs[r.SettleTx]
			want := map[ReservationStatus]Kind{ReservationConfirmed: KindRedeem, ReservationCancelled: KindRelease, ReservationExpired: KindRelease}
			switch r.Status {
			case ReservationReserved:
				held[r.Customer] += r.Points
				if r.SettleTx != "" {
					bad("reservation", r.ID, "is open but cites settlement %s", r.SettleTx)
				}
			case ReservationConfirmed, ReservationCancelled, ReservationExpired:
				if settle == nil || settle.Kind != want[r.Status] || settle.Reference != r.ID || reservedOn(settle) != -r.Points {
					bad("reservation", r.ID, "is %s but its settlement %q is not a %s of its %d points", r.Status, r.SettleTx, want[r.Status], r.Points)
				}
			default:
				bad("reservation", r.ID, "unknown status %q", r.Status)
			}
			if r.VoucherUsedAt != nil && r.VoucherCode == "" {
				bad("reservation", r.ID, "a voucher was used but none was issued")
			}
			if r.VoucherCode != "" && r.Status != ReservationConfirmed {
				bad("reservation", r.ID, "has a voucher but is %s", r.Status)
			}
		}
		if len(rs) < 1000 {
			break
		}
		after = rs[len(rs)-1].ID
	}
	for c, n := range reservedSum {
		if n != held[c] {
			bad("reserved_balance", "reserved:"+string(c), "the reserved account holds %d points, open reservations %d", n, held[c])
		}
		delete(held, c)
	}
	for c, n := range held {
		if n != 0 {
			bad("reserved_balance", "reserved:"+string(c), "the reserved account holds 0 points, open reservations %d", n)
		}
	}
	return nil
}

// verifyTiers checks that every member's tier exists in the schedule it was decided under.
func verifyTiers(ctx context.Context, tx Tx, prog string, c *citations, bad func(check, subject, format string, args ...any)) error {
	mts, err := tx.MemberTiers(ctx, prog)
	if err != nil {
		return err
	}
	for _, mt := range mts {
		if mt.Tier != BaseTier && scheduleVersion(c.schedules, mt.ScheduleVersion).tier(mt.Tier) == nil {
			bad("tier", "member:"+string(mt.Customer), "holds tier %q of schedule v%d, which does not define it", mt.Tier, mt.ScheduleVersion)
		}
	}
	return nil
}
