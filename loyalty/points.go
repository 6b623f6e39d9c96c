package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// Adjustment reasons: fixed codes with their texts, so that no free text (which could hold
// personal data) enters the ledger.
var adjustReasons = map[string]Text{
	"goodwill":   {FR: "geste commercial", EN: "goodwill gesture"},
	"correction": {FR: "correction d'une erreur", EN: "correction of an error"},
	"migration":  {FR: "reprise du solde d'un ancien programme", EN: "balance carried over from a former programme"},
	"complaint":  {FR: "suite à une réclamation", EN: "following a complaint"},
}

// member loads and locks a membership with its programme and terms.
type memberCtx struct {
	p     *Programme
	m     *Member
	terms []*Terms
}

func (s *Service) lockMember(ctx context.Context, tx Tx, programme string, customer fidelis.CustomerID) (*memberCtx, error) {
	p, err := tx.GetProgramme(ctx, programme)
	if err != nil {
		return nil, programmeErr(err)
	}
	m, err := tx.GetMember(ctx, programme, customer, true)
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, notMember()
		}
		return nil, err
	}
	terms, err := tx.ListTerms(ctx, programme)
	if err != nil {
		return nil, err
	}
	return &memberCtx{p: p, m: m, terms: terms}, nil
}

// apply moves m's balance, debt and version by transaction t, once t is checked: balanced
// double entry (L-6), and neither the balance nor the debt ever negative (L-7). m is left
// unchanged when t is refused.
func (m *Member) apply(t *Transaction) error {
	if err := CheckBalanced(t.Postings); err != nil {
		return fmt.Errorf("loyalty: refusing an unbalanced transaction: %w", err)
	}
	var debt int64
	for _, p := range t.Postings {
		if p.Account == AccountDebt {
			debt -= p.Amount
		}
	}
	balance := m.Balance + t.MemberDelta()
	if balance < 0 || m.Debt+debt < 0 {
		return fmt.Errorf("loyalty: transaction %s would make balance %d, debt %d", t.ID, balance, m.Debt+debt)
	}
	m.Balance, m.Debt, m.Version = balance, m.Debt+debt, m.Version+1
	return nil
}

// post appends transaction t for member m: it checks it (apply), stores it, the lot it
// creates and the lots it consumed, and the member's new balance.
func (s *Service) post(ctx context.Context, tx Tx, m *Member, t *Transaction, lot *Lot, touched []*Lot) error {
	next := *m
	if err := next.apply(t); err != nil {
		return err
	}
	if err := tx.InsertLedgerTx(ctx, t); err != nil {
		return err
	}
	if lot != nil {
		if err := tx.InsertLot(ctx, lot); err != nil {
			return err
		}
	}
	for _, l := range touched {
		if err := tx.UpdateLot(ctx, l); err != nil {
			return err
		}
	}
	if err := tx.UpdateMember(ctx, &next); err != nil {
		return err
	}
	*m = next
	return nil
}

func insufficient(balance, want int64) error {
	return &fidelis.Error{Code: fidelis.EINVALID, Reason: "insufficient_points",
		Message: fmt.Sprintf("the member has %d points; %d were asked (L-7: a balance never goes negative)", balance, want),
		Fields:  []fidelis.FieldError{{Field: "points", Rule: "insufficient", Message: "exceeds the member's balance"}}}
}

// RedeemInput spends points.
type RedeemInput struct {
	Programme string             `json:"programme_id"`
	Customer  fidelis.CustomerID `json:"customer_id"`
	Points    int64              `json:"points"`
	Reference string             `json:"reference"`
	Key       string             `json:"-"`
}

// Result is the transaction an operation produced; Replayed is true when it was produced
// by an earlier call with the same Idempotency-Key (L-7).
type Result struct {
	Transaction *Transaction
	Replayed    bool
}

// Redeem spends points from the member's oldest lots first. Concurrent redemptions
// serialise on the member row, so they can never overspend (L-7).
func (s *Service) Redeem(ctx context.Context, p fidelis.Purpose, in RedeemInput) (*Result, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActRedeem, in.Customer); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, programmeNotFound()
	}
	if in.Points < 1 || in.Points > maxPoints {
		return nil, invalid("points", "out_of_range", fmt.Sprintf("must be from 1 to %d", maxPoints))
	}
	if !validRef(in.Reference) {
		return nil, invalid("reference", "invalid", "at most 64 characters: letters, digits and - _ . : /")
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: in.Programme, Customer: in.Customer, Kind: KindRedeem, At: now, Reference: in.Reference}
	return s.run(ctx, in.Key, in.Programme, "redeem", in, t, func(tx Tx) error {
		mc, err := s.lockMember(ctx, tx, in.Programme, in.Customer)
		if err != nil {
			return err
		}
		if mc.m.Balance < in.Points {
			return insufficient(mc.m.Balance, in.Points)
		}
		lots, err := tx.OpenLots(ctx, in.Programme, in.Customer)
		if err != nil {
			return err
		}
		debits, touched := consumeFIFO(lots, in.Customer, in.Points, "")
		t.Postings = append(debits, Posting{Account: AccountRedemption, Amount: in.Points})
		t.TermsVersion = termsVersion(applicable(mc.terms, mc.m.TermsVersion, now))
		// Redemption follows the terms' own clause: the terms version is the rule cited.
		t.RuleID, t.RuleVersion = "terms.redemption", t.TermsVersion
		t.Reason = Text{FR: fmt.Sprintf("%d point%s utilisé%s", in.Points, plural(in.Points), plural(in.Points)), EN: fmt.Sprintf("%d point%s redeemed", in.Points, plural(in.Points))}
		if err := s.post(ctx, tx, mc.m, t, nil, touched); err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, ActRedeem, p, in.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.points_redeemed", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "transaction_id": t.ID}))
	})
}

func termsVersion(t *Terms) int {
	if t == nil {
		return 0
	}
	return t.Version
}

// run executes an idempotent ledger operation producing t.
func (s *Service) run(ctx context.Context, key, programme, op string, req any, t *Transaction, fn func(Tx) error) (*Result, error) {
	var prev string
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if prev, err = s.claim(ctx, tx, key, programme, op, req, t.ID); err != nil || prev != "" {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.%s: %w", op, err)
	}
	if prev == "" {
		return &Result{Transaction: t}, nil
	}
	var first *Transaction
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { first, err = tx.GetLedgerTx(ctx, prev); return err }); err != nil {
		return nil, fmt.Errorf("loyalty.%s: replay: %w", op, err)
	}
	return &Result{Transaction: first, Replayed: true}, nil
}

// AdjustInput credits (positive) or debits (negative) points by hand, with a reason code.
type AdjustInput struct {
	Programme string             `json:"programme_id"`
	Customer  fidelis.CustomerID `json:"customer_id"`
	Points    int64              `json:"points"`
	Reason    string             `json:"reason"`
	Key       string             `json:"-"`
}

// AdjustReasons lists the adjustment reason codes.
func AdjustReasons() map[string]Text { return adjustReasons }

// Adjust credits or debits a member against the adjustment account. A credit forms a lot
// that expires as the member's terms say; a debit takes the oldest lots first and never
// more than the balance (L-7).
func (s *Service) Adjust(ctx context.Context, p fidelis.Purpose, in AdjustInput) (*Result, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActAdjust, in.Customer); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, programmeNotFound()
	}
	if in.Points == 0 || in.Points > maxPoints || in.Points < -maxPoints {
		return nil, invalid("points", "out_of_range", fmt.Sprintf("must be a non-zero integer from -%d to %d", maxPoints, maxPoints))
	}
	why, ok := adjustReasons[in.Reason]
	if !ok {
		return nil, invalid("reason", "invalid", "must be one of goodwill, correction, migration, complaint")
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: in.Programme, Customer: in.Customer, Kind: KindAdjust, At: now, RuleID: "adjustment:" + in.Reason}
	return s.run(ctx, in.Key, in.Programme, "adjust", in, t, func(tx Tx) error {
		mc, err := s.lockMember(ctx, tx, in.Programme, in.Customer)
		if err != nil {
			return err
		}
		terms := applicable(mc.terms, mc.m.TermsVersion, now)
		t.TermsVersion = termsVersion(terms)
		n := in.Points
		var lot *Lot
		var touched []*Lot
		if n > 0 {
			if !mc.m.Active() {
				return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "member_left", Message: "the customer left the programme; no points are credited"}
			}
			lot = &Lot{ID: fidelis.NewID("lot", now), Programme: in.Programme, Customer: in.Customer, TxID: t.ID, EarnedAt: now, ExpiresAt: expiryOf(terms, now), Points: n, Remaining: n}
			t.Postings = []Posting{{Account: AccountAdjustment, Amount: -n}, {Account: AccountMember, Customer: in.Customer, Amount: n, Lot: lot.ID}}
			t.Reason = Text{FR: fmt.Sprintf("%d point%s crédité%s : %s", n, plural(n), plural(n), why.FR), EN: fmt.Sprintf("%d point%s credited: %s", n, plural(n), why.EN)}
		} else {
			n = -n
			if mc.m.Balance < n {
				return insufficient(mc.m.Balance, n)
			}
			lots, err := tx.OpenLots(ctx, in.Programme, in.Customer)
			if err != nil {
				return err
			}
			var debits []Posting
			debits, touched = consumeFIFO(lots, in.Customer, n, "")
			t.Postings = append(debits, Posting{Account: AccountAdjustment, Amount: n})
			t.Reason = Text{FR: fmt.Sprintf("%d point%s débité%s : %s", n, plural(n), plural(n), why.FR), EN: fmt.Sprintf("%d point%s debited: %s", n, plural(n), why.EN)}
		}
		if err := s.post(ctx, tx, mc.m, t, lot, touched); err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, ActAdjust, p, in.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.points_adjusted", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "transaction_id": t.ID}))
	})
}

// earn credits points issued under a rule to a locked member: a debt left by an earlier
// refund is settled first (so a buy-earn-refund loop gains nothing, L-5), the rest forms a
// lot that expires as the member's terms say (L-4).
func earn(m *Member, terms *Terms, t *Transaction, points int64, at time.Time) *Lot {
	settle := min(points, m.Debt)
	t.Postings = []Posting{{Account: AccountIssuance, Amount: -points}}
	if settle > 0 {
		t.Postings = append(t.Postings, Posting{Account: AccountDebt, Customer: m.Customer, Amount: settle})
		t.Reason.FR += fmt.Sprintf(" ; dont %d point%s en remboursement de la dette", settle, plural(settle))
		t.Reason.EN += fmt.Sprintf("; of which %d point%s repay the debt", settle, plural(settle))
	}
	var lot *Lot
	if rest := points - settle; rest > 0 {
		lot = &Lot{ID: fidelis.NewID("lot", at), Programme: m.Programme, Customer: m.Customer, TxID: t.ID, EarnedAt: at, ExpiresAt: expiryOf(terms, at), Points: rest, Remaining: rest}
		t.Postings = append(t.Postings, Posting{Account: AccountMember, Customer: m.Customer, Amount: rest, Lot: lot.ID})
	}
	return lot
}

// reverse takes back points issued by earlier transaction orig (L-5): from the lot it
// created first, then from the oldest lots; what was already spent becomes a debt on the
// member's debt account, settled by their next earnings, so the balance never goes
// negative (L-7).
func reverse(m *Member, lots []*Lot, orig *Transaction, t *Transaction, points int64) []*Lot {
	var origLot string
	for _, p := range orig.Postings {
		if p.Account == AccountMember && p.Amount > 0 {
			origLot = p.Lot
		}
	}
	take := min(points, m.Balance)
	debits, touched := consumeFIFO(lots, m.Customer, take, origLot)
	t.Postings = append(debits, Posting{Account: AccountIssuance, Amount: points})
	if owed := points - take; owed > 0 {
		t.Postings = append(t.Postings, Posting{Account: AccountDebt, Customer: m.Customer, Amount: -owed})
		t.Reason.FR += fmt.Sprintf(" ; %d point%s déjà utilisé%s, inscrit%s en dette et déduit%s des prochains gains", owed, plural(owed), plural(owed), plural(owed), plural(owed))
		t.Reason.EN += fmt.Sprintf("; %d point%s already spent, recorded as a debt deducted from future earnings", owed, plural(owed))
	}
	return touched
}
