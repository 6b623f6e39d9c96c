package loyalty

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
)

// ActExport is the audit action of a loyalty export.
const ActExport = "loyalty.export"

// PortableTables names the tables of Portability, in order.
var PortableTables = []string{"loyalty_memberships", "loyalty_ledger", "loyalty_order_lines", "loyalty_tier_changes", "loyalty_reservations", "loyalty_referrals"}

// PortableTable is one table of a customer's loyalty data in the access and portability
// exports: named columns, rows of strings.
type PortableTable struct {
	Name    string
	Title   fidelis.Text // the table's name for people, in French and English
	Columns []string
	Rows    [][]string
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optStamp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// decimal renders cents as "12.34" (machine-readable, with the currency in its own column).
func decimal(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// Portability returns everything the loyalty engine holds about a customer, as tables
// memberships, the ledger (every transaction with its reason and citations),
// orders line by line with product barcodes (GTIN) and promotion amounts, tier changes,
// reservations and vouchers, referrals (without the other party's identity). It runs for
// an export of the customer's data: the actor's role must hold the export action under p
// (the rights-request service has decided the request), and the read is audited. Tables
// with no rows are left out.
//
// names, when given, restricts the export to those tables.
func (s *Service) Portability(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, names ...string) ([]*PortableTable, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if _, err := s.Registry.Authorize(actor, p, fidelis.ActionExport); err != nil {
		return nil, err
	}
	members := &PortableTable{Name: "loyalty_memberships", Title: fidelis.Text{FR: "Programmes de fidélité", EN: "Loyalty programmes"}, Columns: []string{"programme_id", "programme_name", "joined_at", "left_at", "terms_version_accepted",
		"balance", "debt", "reserved", "tier", "referral_code"}}
	ledger := &PortableTable{Name: "loyalty_ledger", Title: fidelis.Text{FR: "Mouvements de points", EN: "Points history"}, Columns: []string{"transaction_id", "programme_id", "at", "kind", "points", "rule_id", "rule_version",
		"terms_version", "reason_fr", "reason_en", "reference"}}
	lines := &PortableTable{Name: "loyalty_order_lines", Title: fidelis.Text{FR: "Achats, ligne par ligne", EN: "Purchases, line by line"}, Columns: []string{"order_id", "programme_id", "ordered_at", "channel", "store", "currency", "line",
		"gtin", "category", "quantity", "unit_price", "promotion_amount", "refunded_quantity", "net_amount"}}
	tiers := &PortableTable{Name: "loyalty_tier_changes", Title: fidelis.Text{FR: "Changements de niveau", EN: "Tier changes"}, Columns: []string{"at", "programme_id", "from_tier", "to_tier", "direction", "reason_fr", "reason_en"}}
	reservations := &PortableTable{Name: "loyalty_reservations", Title: fidelis.Text{FR: "Récompenses et bons", EN: "Rewards and vouchers"}, Columns: []string{"reservation_id", "programme_id", "reward_id", "reward_name_fr", "reward_name_en",
		"points", "status", "reserved_at", "settled_at", "voucher_code", "voucher_expires_at", "voucher_used_at"}}
	referrals := &PortableTable{Name: "loyalty_referrals", Title: fidelis.Text{FR: "Parrainages", EN: "Referrals"}, Columns: []string{"referral_id", "programme_id", "role", "status", "joined_at", "settled_at"}}
	err := s.Store.Snapshot(ctx, func(tx Tx) error {
		ms, err := tx.MembershipsOf(ctx, id)
		if err != nil {
			return err
		}
		for _, m := range ms {
			v := &MemberView{}
			if err := s.fillView(ctx, tx, v, m.Programme, id); err != nil {
				return err
			}
			tier, code := "", ""
			if v.Tier != nil {
				tier = v.Tier.Tier
			}
			if v.ReferralCode != nil {
				code = v.ReferralCode.Code
			}
			members.Rows = append(members.Rows, []string{m.Programme, v.Programme.Name, stamp(m.JoinedAt), optStamp(m.LeftAt), strconv.Itoa(m.TermsVersion),
				strconv.FormatInt(m.Balance, 10), strconv.FormatInt(m.Debt, 10), strconv.FormatInt(v.Reserved, 10), tier, code})
			for _, c := range v.TierHistory {
				tiers.Rows = append(tiers.Rows, []string{stamp(c.At), c.Programme, c.From, c.To, c.Direction, c.Reason.FR, c.Reason.EN})
			}
		}
		var txs []*Transaction
		for before := ""; ; {
			page, err := tx.MemberHistory(ctx, id, before, 1000)
			if err != nil {
				return err
			}
			txs = append(txs, page...)
			if len(page) < 1000 {
				break
			}
			before = page[len(page)-1].ID
		}
		for i := len(txs) - 1; i >= 0; i-- { // oldest first
			t := txs[i]
			ledger.Rows = append(ledger.Rows, []string{t.ID, t.Programme, stamp(t.At), string(t.Kind), strconv.FormatInt(t.MemberDelta(), 10), t.RuleID,
				strconv.Itoa(t.RuleVersion), strconv.Itoa(t.TermsVersion), t.Reason.FR, t.Reason.EN, t.Reference})
		}
		orders, err := tx.OrdersOf(ctx, id)
		if err != nil {
			return err
		}
		for _, o := range orders {
			for i, l := range o.Lines {
				lines.Rows = append(lines.Rows, []string{o.ID, o.Programme, stamp(o.OrderedAt), o.Channel, o.Store, o.Currency, strconv.Itoa(i), l.GTIN, l.Category,
					strconv.FormatInt(l.Quantity, 10), decimal(l.UnitPriceCents), decimal(l.PromotionCents), strconv.FormatInt(l.Refunded, 10), decimal(l.netCents(l.Quantity))})
			}
		}
		rs, err := tx.CustomerReservations(ctx, id)
		if err != nil {
			return err
		}
		for _, r := range rs {
			rw, err := tx.GetReward(ctx, r.Reward)
			if err != nil {
				return err
			}
			reservations.Rows = append(reservations.Rows, []string{r.ID, r.Programme, r.Reward, rw.Name.FR, rw.Name.EN, strconv.FormatInt(r.Points, 10), string(r.Status),
				stamp(r.ReservedAt), optStamp(r.SettledAt), r.VoucherCode, optStamp(r.VoucherExpiresAt), optStamp(r.VoucherUsedAt)})
		}
		refs, err := tx.CustomerReferrals(ctx, id)
		if err != nil {
			return err
		}
		for _, r := range refs {
			// The other party is another person: their identity stays out (GDPR art. 20(4)).
			role := "referee"
			if r.Referrer == id {
				role = "referrer"
			}
			referrals.Rows = append(referrals.Rows, []string{r.ID, r.Programme, role, string(r.Status), stamp(r.JoinedAt), optStamp(r.SettledAt)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Portability: %w", err)
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, auditEvent(ActExport, id, p))); err != nil {
		return nil, fmt.Errorf("loyalty.Portability: audit: %w", err)
	}
	var out []*PortableTable
	for _, t := range []*PortableTable{members, ledger, lines, tiers, reservations, referrals} {
		if len(t.Rows) > 0 && (len(names) == 0 || slices.Contains(names, t.Name)) {
			out = append(out, t)
		}
	}
	return out, nil
}
