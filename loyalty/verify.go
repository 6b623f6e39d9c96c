package loyalty

import (
	"context"
	"fmt"
	"strings"

	"github.com/fidelis/fidelis"
)

// Problem is one broken ledger invariant, named so an operator can find the rows.
type Problem struct {
	Programme string
	Check     string // balanced, member_balance, member_debt, lot, lots_vs_balance, idempotency, reservation, reserved_balance, tier
	Subject   string // the transaction, member, lot or key concerned
	Detail    string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s %s %s: %s", p.Programme, p.Check, p.Subject, p.Detail)
}

// VerifyReport is the result of Verify.
type VerifyReport struct {
	Programmes   int
	Transactions int
	Members      int
	Lots         int
	Keys         int
	Reservations int
	Problems     []Problem
}

// OK reports whether every invariant holds.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// Verify re-derives the ledger and checks every invariant (L-6, L-7): each transaction has
// balanced, non-zero postings, a French and English reason and citations of a published
// rule and terms version (L-3); each member's stored balance and debt equal the sums of the
// postings on their accounts; each lot's remaining points equal what its postings left, are
// never negative and never more than it earned; a member's open lots add up to their
// balance; no balance or debt is negative; every idempotency key points to what it
// produced.
func (s *Service) Verify(ctx context.Context) (*VerifyReport, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	rep := &VerifyReport{}
	err := s.Store.Snapshot(ctx, func(tx Tx) error {
		progs, err := tx.ListProgrammes(ctx)
		if err != nil {
			return err
		}
		rep.Programmes = len(progs)
		for _, p := range progs {
			if err := verifyProgramme(ctx, tx, p.ID, rep); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Verify: %w", err)
	}
	return rep, nil
}

func verifyProgramme(ctx context.Context, tx Tx, prog string, rep *VerifyReport) error {
	bad := func(check, subject, format string, args ...any) {
		rep.Problems = append(rep.Problems, Problem{Programme: prog, Check: check, Subject: subject, Detail: fmt.Sprintf(format, args...)})
	}
	rules, err := tx.Rules(ctx, prog)
	if err != nil {
		return err
	}
	ruleExists := map[string]bool{}
	for _, r := range rules {
		ruleExists[fmt.Sprintf("%s/%d", r.ID, r.Version)] = true
	}
	terms, err := tx.ListTerms(ctx, prog)
	if err != nil {
		return err
	}
	cited, err := loadCitations(ctx, tx, prog)
	if err != nil {
		return err
	}
	memberSum := map[fidelis.CustomerID]int64{}
	reservedSum := map[fidelis.CustomerID]int64{}
	txByID := map[string]*Transaction{}
	debtSum := map[fidelis.CustomerID]int64{}
	lotSum := map[string]int64{}
	txIDs := map[string]bool{}
	var after string
	for {
		txs, err := tx.LedgerTxs(ctx, prog, after, 1000)
		if err != nil {
			return err
		}
		for _, t := range txs {
			rep.Transactions++
			txIDs[t.ID] = true
			if t.Kind == KindReserve || t.Kind == KindRelease || (t.Kind == KindRedeem && strings.HasPrefix(t.Reference, "lrs_")) {
				txByID[t.ID] = t
			}
			if err := CheckBalanced(t.Postings); err != nil {
				bad("balanced", t.ID, "%v", err)
			}
			if t.Reason.FR == "" || t.Reason.EN == "" {
				bad("reason", t.ID, "the transaction does not say why in French and English (L-3)")
			}
			// L-3: earnings and their reversals cite a rule version that exists; every
			// transaction cites a published version of the terms.
			if (t.Kind == KindEarn || t.Kind == KindReverse) && !ruleExists[fmt.Sprintf("%s/%d", t.RuleID, t.RuleVersion)] && !cited.cites(t.RuleID, t.RuleVersion) {
				bad("citation", t.ID, "cites rule %q version %d, which was never published", t.RuleID, t.RuleVersion)
			}
			if len(terms) > 0 && (t.TermsVersion < 1 || t.TermsVersion > len(terms)) {
				bad("citation", t.ID, "cites terms version %d, which was never published", t.TermsVersion)
			}
			for _, p := range t.Postings {
				switch p.Account {
				case AccountMember:
					memberSum[p.Customer] += p.Amount
					if p.Lot == "" {
						bad("lot", t.ID, "a member posting names no lot")
					}
					lotSum[p.Lot] += p.Amount
				case AccountDebt:
					debtSum[p.Customer] -= p.Amount
				case AccountReserved:
					reservedSum[p.Customer] += p.Amount
				case AccountIssuance, AccountRedemption, AccountExpiry, AccountAdjustment:
				default:
					bad("account", t.ID, "unknown account %q", p.Account)
				}
			}
		}
		if len(txs) < 1000 {
			break
		}
		after = txs[len(txs)-1].ID
	}
	openSum := map[fidelis.CustomerID]int64{}
	after = ""
	for {
		lots, err := tx.Lots(ctx, prog, after, 1000)
		if err != nil {
			return err
		}
		for _, l := range lots {
			rep.Lots++
			switch derived := lotSum[l.ID]; {
			case l.Remaining < 0:
				bad("lot", l.ID, "remaining points are negative (%d)", l.Remaining)
			case l.Remaining > l.Points:
				bad("lot", l.ID, "remaining points %d exceed the %d earned", l.Remaining, l.Points)
			case derived != l.Remaining:
				bad("lot", l.ID, "stored remaining %d, postings leave %d", l.Remaining, derived)
			}
			delete(lotSum, l.ID)
			openSum[l.Customer] += l.Remaining
		}
		if len(lots) < 1000 {
			break
		}
		after = lots[len(lots)-1].ID
	}
	for id, n := range lotSum {
		bad("lot", id, "postings name a lot that does not exist (%d points)", n)
	}
	var afterMember fidelis.CustomerID
	members := map[fidelis.CustomerID]bool{}
	for {
		ms, err := tx.ListMembers(ctx, prog, afterMember, 1000)
		if err != nil {
			return err
		}
		for _, m := range ms {
			rep.Members++
			members[m.Customer] = true
			subject := "member:" + string(m.Customer)
			if m.Balance < 0 {
				bad("member_balance", subject, "stored balance is negative (%d)", m.Balance)
			}
			if m.Balance != memberSum[m.Customer] {
				bad("member_balance", subject, "stored balance %d, postings sum to %d", m.Balance, memberSum[m.Customer])
			}
			if m.Debt < 0 || m.Debt != debtSum[m.Customer] {
				bad("member_debt", subject, "stored debt %d, postings sum to %d", m.Debt, debtSum[m.Customer])
			}
			if openSum[m.Customer] != memberSum[m.Customer] {
				bad("lots_vs_balance", subject, "lots hold %d points, the member account %d", openSum[m.Customer], memberSum[m.Customer])
			}
		}
		if len(ms) < 1000 {
			break
		}
		afterMember = ms[len(ms)-1].Customer
	}
	for c, n := range memberSum {
		if !members[c] && n != 0 {
			bad("member_balance", "member:"+string(c), "postings on a member account with no membership (%d points)", n)
		}
	}
	if err := verifyReservations(ctx, tx, prog, txByID, reservedSum, bad, rep); err != nil {
		return err
	}
	if err := verifyTiers(ctx, tx, prog, cited, bad); err != nil {
		return err
	}
	keys, err := tx.LoyaltyKeys(ctx, prog)
	if err != nil {
		return err
	}
	for _, k := range keys {
		rep.Keys++
		subject := "key " + k.Scope + "/" + k.Key
		switch {
		case len(k.RequestHash) != 64:
			bad("idempotency", subject, "the request fingerprint is not a SHA-256")
		case strings.HasPrefix(k.Result, "ltx_"):
			if !txIDs[k.Result] {
				bad("idempotency", subject, "names transaction %s, which is not in this programme's ledger", k.Result)
			}
		case strings.HasPrefix(k.Result, "member:"):
			if !members[fidelis.CustomerID(strings.TrimPrefix(k.Result, "member:"))] {
				bad("idempotency", subject, "names a membership that does not exist")
			}
		case strings.HasPrefix(k.Result, "lrs_"):
			if r, err := tx.GetReservation(ctx, k.Result); err != nil || r.Programme != prog {
				bad("idempotency", subject, "names reservation %s, which is not in this programme", k.Result)
			}
		case strings.HasPrefix(k.Result, "lod_"):
			if o, err := tx.GetOrder(ctx, k.Result); err != nil || o.Programme != prog {
				bad("idempotency", subject, "names order %s, which is not in this programme", k.Result)
			}
		default:
			bad("idempotency", subject, "names an unknown result %q", k.Result)
		}
	}
	return nil
}
