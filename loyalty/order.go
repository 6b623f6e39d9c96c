package loyalty

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// CreateRule publishes a new version of an earning rule (administrative action). Versions
// are immutable; the new one governs orders placed from now on.
func (s *Service) CreateRule(ctx context.Context, r Rule) (*Rule, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", r.Programme) {
		return nil, programmeNotFound()
	}
	slices.Sort(r.Countries)
	if errs := r.validate(); len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	now := s.now()
	r.CreatedAt = now
	err := s.Store.Write(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, r.Programme); err != nil {
			return programmeErr(err)
		}
		rules, err := tx.Rules(ctx, r.Programme)
		if err != nil {
			return err
		}
		r.Version = 1
		for _, o := range rules {
			if o.ID == r.ID {
				r.Version = o.Version + 1
			}
		}
		if err := tx.InsertRule(ctx, &r); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.rule_published", r.Programme, map[string]any{"programme_id": r.Programme, "rule_id": r.ID, "version": r.Version}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.CreateRule: %w", err)
	}
	return &r, nil
}

// OrderInput is a purchase to record and earn on.
type OrderInput struct {
	Programme string             `json:"programme_id"`
	Customer  fidelis.CustomerID `json:"customer_id"`
	OrderedAt time.Time          `json:"ordered_at"`
	Channel   string             `json:"channel"`
	Store     string             `json:"store"`
	Currency  string             `json:"currency"`
	Lines     []OrderLine        `json:"lines"`
	Key       string             `json:"-"`
}

// OrderResult is a recorded order and the transactions it produced.
type OrderResult struct {
	Order        *Order
	Transactions []*Transaction
	Replayed     bool
	// Mediator is the consumer mediator of the terms that govern the member, shown on
	// order confirmations.
	Mediator *Mediator
}

var orderChannels = []string{"store", "web", "app", "phone"}

func (in *OrderInput) validate(now time.Time) error {
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	if in.OrderedAt.IsZero() || in.OrderedAt.After(now.Add(5*time.Minute)) || in.OrderedAt.Before(now.AddDate(-1, 0, 0)) {
		bad("ordered_at", "out_of_range", "must be a time within the last year, not in the future")
	}
	if !slices.Contains(orderChannels, in.Channel) {
		bad("channel", "invalid", "must be one of "+strings.Join(orderChannels, ", "))
	}
	if !validRef(in.Store) {
		bad("store", "invalid", "a store code: at most 64 characters, letters, digits and - _ . : /")
	}
	if !slices.Contains(currencies, in.Currency) {
		bad("currency", "invalid_currency", "must be one of "+strings.Join(currencies, ", "))
	}
	if len(in.Lines) == 0 || len(in.Lines) > 500 {
		bad("lines", "out_of_range", "an order has 1 to 500 lines")
	}
	for i, l := range in.Lines {
		f := fmt.Sprintf("lines.%d.", i)
		if !ValidGTIN(l.GTIN) {
			bad(f+"gtin", "invalid_gtin", "is not a GTIN-8, -12, -13 or -14 with a valid check digit")
		}
		if !slugRE.MatchString(l.Category) {
			bad(f+"category", "invalid", "a category code: lower-case letters, digits, - and _")
		}
		if l.Quantity < 1 || l.Quantity > 10_000 {
			bad(f+"quantity", "out_of_range", "must be from 1 to 10000")
		}
		if l.UnitPriceCents < 0 || l.UnitPriceCents > 100_000_000 {
			bad(f+"unit_price_cents", "out_of_range", "must be from 0 to 100000000")
		}
		if l.PromotionCents < 0 || l.PromotionCents > l.Quantity*l.UnitPriceCents {
			bad(f+"promotion_cents", "out_of_range", "must be from 0 to the line amount")
		}
		if l.Refunded != 0 {
			bad(f+"refunded", "read_only", "is set by refunds")
		}
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}

// PlaceOrder records a member's purchase and earns points under each of the programme's
// rules that covers it (L-3): one transaction per rule, citing the rule version and the
// terms version that apply to the member, with the reason in French and English.
//
// The order is written exactly as an order of a till batch (PlaceOrders), together with
// the orders other callers place meanwhile (group.go): its own key, lawfulness decision,
// audit entry, event and outcome, answered once its transaction has committed.
func (s *Service) PlaceOrder(ctx context.Context, p fidelis.Purpose, in OrderInput) (*OrderResult, error) {
	// The role and purpose now; the lawfulness of processing the member (P-3, R-10) is
	// decided by the group that writes the order, from one read for all its members.
	if err := s.permit(ctx, p, fidelis.ActionUpdate, ActOrder, in.Customer, false); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, programmeNotFound()
	}
	now := s.now()
	in.OrderedAt = fidelis.UTC(in.OrderedAt)
	if err := in.validate(now); err != nil {
		return nil, err
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	r := s.place(orderRequest{ctx: ctx, p: p, in: in})
	switch r.Status {
	case BatchCreated:
		return r.Order, nil
	case BatchReplayed:
		return s.orderResult(ctx, r.Order.Order.ID, true)
	}
	return nil, fmt.Errorf("loyalty.PlaceOrder: %w", r.Err)
}

// orderEnv is what placing orders of one programme reads once per write transaction.
type orderEnv struct {
	prog      *Programme
	terms     []*Terms
	rules     []*Rule // every version, by ID then version
	schedules []*TierSchedule
	policies  []*ReferralPolicy
	// deferred, when set (a till batch), collects each recorded order's audit entry and
	// event, written together at the end of the chunk's transaction.
	deferred *deferredWrites
}

// deferredWrites are the audit entries and events of a batch chunk's recorded orders.
type deferredWrites struct {
	audit  []audit.Entry
	events []*Event
}

// stamp is what env was read from (EnvStamp).
func (env *orderEnv) stamp() EnvStamp {
	return EnvStamp{Programme: env.prog != nil, Terms: len(env.terms), Rules: len(env.rules), Policies: len(env.schedules) + len(env.policies)}
}

// envCache keeps, per programme, the last orderEnv read whole with the stamp it was read
// from. Everything in an orderEnv is insert-only (EnvStamp), so a cached one whose stamp
// equals the stamp read in a transaction holds what that transaction would read: one
// statement instead of five per programme and transaction. A node's cache is its own;
// the stamp read in each transaction is what keeps nodes, and the CLI, in step.
type envCache struct {
	mu   sync.Mutex
	envs map[string]*orderEnv
}

func (c *envCache) get(programme string) *orderEnv {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.envs[programme]
}

func (c *envCache) put(programme string, env *orderEnv) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.envs == nil {
		c.envs = map[string]*orderEnv{}
	}
	c.envs[programme] = env
}

// orderEnv returns what placing orders of programme reads, as of tx: the cached one when
// its stamp is tx's, otherwise read whole (and cached when it was read in step with the
// stamp). The caller gets a copy of its own: placeIn may read newer terms into it.
// ENOTFOUND if there is no such programme.
func (s *Service) orderEnv(ctx context.Context, tx Tx, programme string) (*orderEnv, error) {
	st, err := tx.OrderEnvStamp(ctx, programme)
	if err != nil {
		return nil, err
	}
	return s.stampedEnv(ctx, tx, programme, st)
}

// stampedEnv is orderEnv once the programme's stamp is read: the cached environment if
// its stamp is st, else one read afresh.
func (s *Service) stampedEnv(ctx context.Context, tx Tx, programme string, st EnvStamp) (*orderEnv, error) {
	var err error
	if !st.Programme {
		return nil, programmeNotFound()
	}
	env := s.envs.get(programme)
	if env == nil || env.stamp() != st {
		if env, err = loadOrderEnv(ctx, tx, programme); err != nil {
			return nil, err
		}
		if env.stamp() == st { // nothing was published between the two reads
			s.envs.put(programme, env)
		}
	}
	c := *env
	return &c, nil
}

func loadOrderEnv(ctx context.Context, tx Tx, programme string) (*orderEnv, error) {
	env := &orderEnv{}
	var err error
	if env.prog, err = tx.GetProgramme(ctx, programme); err != nil {
		return nil, programmeErr(err)
	}
	if env.terms, err = tx.ListTerms(ctx, programme); err != nil {
		return nil, err
	}
	if env.rules, err = tx.Rules(ctx, programme); err != nil {
		return nil, err
	}
	if env.schedules, err = tx.TierSchedules(ctx, programme); err != nil {
		return nil, err
	}
	if env.policies, err = tx.ReferralPolicies(ctx, programme); err != nil {
		return nil, err
	}
	return env, nil
}

// placeIn records order o (from in) inside tx: the idempotency claim (prev is the first
// result's order ID when the key was used before, and nothing is written), the member
// locked, one earning transaction per rule in force at the order time (L-3), the tier
// multiplier's bonus, a tier upgrade as soon as the threshold is reached, the referral
// bonuses after a referred member's first purchase, the audit entry and the event.
func (s *Service) placeIn(ctx context.Context, tx Tx, env *orderEnv, p fidelis.Purpose, in OrderInput, o *Order, profile Profile, now time.Time) (*OrderResult, string, error) {
	prev, err := s.claim(ctx, tx, in.Key, in.Programme, "order", in, o.ID)
	if err != nil || prev != "" {
		return nil, prev, err
	}
	m, err := tx.GetMember(ctx, in.Programme, in.Customer, true)
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, "", notMember()
		}
		return nil, "", err
	}
	// A version of the terms the member accepted since env was read is the only one it can
	// lack (versions are numbered 1, 2, ... and never change).
	if m.TermsVersion > len(env.terms) {
		if env.terms, err = tx.ListTerms(ctx, in.Programme); err != nil {
			return nil, "", err
		}
	}
	if err := env.mayEarn(m, in); err != nil {
		return nil, "", err
	}
	if err := tx.InsertOrder(ctx, o); err != nil {
		return nil, "", err
	}
	out, terms, base, err := env.earnOrder(m, in, o, profile, now, func(t *Transaction, lot *Lot) error { return s.post(ctx, tx, m, t, lot, nil) })
	if err != nil {
		return nil, "", err
	}
	if len(env.schedules) > 0 {
		nowTerms := applicable(env.terms, m.TermsVersion, now)
		if t, err := s.tierBonus(ctx, tx, env, m, terms, o, base, now); err != nil {
			return nil, "", err
		} else if t != nil {
			out.Transactions = append(out.Transactions, t)
		}
		// A member rises as soon as they reach the threshold (downgrades wait for the
		// periodic review).
		if sch := scheduleFor(env.schedules, termsVersion(nowTerms)); sch != nil {
			if _, err := s.evaluateTier(ctx, tx, env.schedules, sch, termsVersion(nowTerms), m, env.prog.Currency, now, true, false); err != nil {
				return nil, "", err
			}
		}
	}
	if len(env.policies) > 0 {
		txs, err := s.rewardReferral(ctx, tx, env, m, o, now)
		if err != nil {
			return nil, "", err
		}
		out.Transactions = append(out.Transactions, txs...)
	}
	entry := s.Audit.Entry(ctx, auditEvent(ActOrder, in.Customer, p))
	ev := s.event("loyalty.order_recorded", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "order_id": o.ID})
	if env.deferred != nil {
		env.deferred.audit = append(env.deferred.audit, entry)
		env.deferred.events = append(env.deferred.events, ev)
		return out, "", nil
	}
	if err := tx.AppendAudit(ctx, entry); err != nil {
		return nil, "", err
	}
	return out, "", tx.AppendLoyaltyEvent(ctx, ev)
}

// mayEarn checks that member m may earn on order in: still a member, and the order in the
// programme's currency.
func (env *orderEnv) mayEarn(m *Member, in OrderInput) error {
	if !m.Active() {
		return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "member_left", Message: "the customer left the programme; purchases no longer earn points"}
	}
	if env.prog.Currency != in.Currency {
		return invalid("currency", "mismatch", "must be the programme's currency, "+env.prog.Currency)
	}
	return nil
}

// earnOrder earns on order o (from in) for member m, whom the caller holds locked: one
// transaction per rule in force at the order time whose window and eligibility conditions
// cover the order and which gives points (L-3), citing the rule version and the terms
// version that governs the member, with the reason in French and English. Each is handed
// to post with the lot it creates; post checks it against m and records it (at once, or
// with the rest of a batch chunk). It returns the order's result, the terms that govern
// the order and the points the rules gave (what a tier multiplier applies to).
func (env *orderEnv) earnOrder(m *Member, in OrderInput, o *Order, profile Profile, now time.Time, post func(*Transaction, *Lot) error) (*OrderResult, *Terms, int64, error) {
	out := &OrderResult{Order: o}
	terms := applicable(env.terms, m.TermsVersion, in.OrderedAt)
	if terms != nil {
		out.Mediator = &terms.Mediator
	}
	var base int64
	// The one evaluation the back-office preview shows too (Evaluate): preview == reality.
	for _, e := range Evaluate(env.rules, o.Lines, profile, in.OrderedAt, o.Currency) {
		if e.Points <= 0 {
			continue
		}
		r := e.Rule
		t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: in.Programme, Customer: in.Customer, Kind: KindEarn, At: now,
			RuleID: r.ID, RuleVersion: r.Version, TermsVersion: termsVersion(terms), Reason: e.Reason, Reference: o.ID}
		lot := earn(m, terms, t, e.Points, now)
		if err := post(t, lot); err != nil {
			return nil, nil, 0, err
		}
		base += e.Points
		out.Transactions = append(out.Transactions, t)
	}
	return out, terms, base, nil
}

// tierRulePrefix prefixes the rule ID a tier bonus cites: "tier:gold", with the schedule
// version as the rule version.
const tierRulePrefix = "tier:"

// tierBonus posts the extra points the member's tier multiplier grants on base, the points
// the earning rules gave the order: one transaction citing the tier and its schedule.
func (s *Service) tierBonus(ctx context.Context, tx Tx, env *orderEnv, m *Member, terms *Terms, o *Order, base int64, now time.Time) (*Transaction, error) {
	if base <= 0 {
		return nil, nil
	}
	mt, err := currentTier(ctx, tx, m.Programme, m.Customer)
	if err != nil || mt.Tier == BaseTier {
		return nil, err
	}
	sch := scheduleVersion(env.schedules, mt.ScheduleVersion)
	tier := sch.tier(mt.Tier)
	if tier == nil {
		return nil, nil
	}
	bonus := tierExtra(tier.MultiplierPercent, base)
	if bonus <= 0 {
		return nil, nil
	}
	t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: m.Programme, Customer: m.Customer, Kind: KindEarn, At: now,
		RuleID: tierRulePrefix + tier.ID, RuleVersion: sch.Version, TermsVersion: termsVersion(terms), Reference: o.ID,
		Reason: Text{
			FR: fmt.Sprintf("%d point%s : bonus du palier %s (x%s) sur %d point%s, paliers v%d", bonus, plural(bonus), tier.Name.FR, percentText(tier.MultiplierPercent, ","), base, plural(base), sch.Version),
			EN: fmt.Sprintf("%d point%s: %s tier bonus (x%s) on %d point%s, tier schedule v%d", bonus, plural(bonus), tier.Name.EN, percentText(tier.MultiplierPercent, "."), base, plural(base), sch.Version),
		}}
	lot := earn(m, terms, t, bonus, now)
	return t, s.post(ctx, tx, m, t, lot, nil)
}

// tierExtra is what a multiplier of pct percent adds to base points, rounded down.
func tierExtra(pct, base int64) int64 { return base * (pct - 100) / 100 }

// percentText renders 150 as "1,5" or "1.5".
func percentText(pct int64, dec string) string {
	s := fmt.Sprintf("%d", pct/100)
	if r := pct % 100; r != 0 {
		frac := strings.TrimRight(fmt.Sprintf("%02d", r), "0")
		s += dec + frac
	}
	return s
}

func (s *Service) orderResult(ctx context.Context, id string, replayed bool) (*OrderResult, error) {
	out := &OrderResult{Replayed: replayed}
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if out.Order, err = tx.GetOrder(ctx, id); err != nil {
			return err
		}
		if out.Transactions, err = tx.TxsByReference(ctx, out.Order.Programme, id); err != nil {
			return err
		}
		return s.orderMediator(ctx, tx, out)
	})
	return out, err
}

// RefundLine refunds some units of one order line.
type RefundLine struct {
	Line     int   `json:"line"`
	Quantity int64 `json:"quantity"`
}

// RefundInput refunds an order as a whole (Lines empty) or some of its lines.
type RefundInput struct {
	Order string       `json:"order_id"`
	Lines []RefundLine `json:"lines"`
	Key   string       `json:"-"`
}

// Refund records a refund and takes back exactly the points the refunded part earned (L-5):
// for each rule that earned on the order, the basket that remains is re-evaluated under the
// same rule version, and the difference with what is still credited is reversed. A refund
// that takes the basket under a rule's minimum therefore takes back all of its points. What
// the member already spent becomes a debt settled by their next earnings (see reverse).
func (s *Service) Refund(ctx context.Context, p fidelis.Purpose, in RefundInput) (*OrderResult, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lod", in.Order) {
		return nil, orderNotFound()
	}
	var o *Order
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { o, err = tx.GetOrder(ctx, in.Order); return err }); err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, orderNotFound()
		}
		return nil, err
	}
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActRefund, o.Customer); err != nil {
		return nil, err
	}
	if len(in.Lines) > len(o.Lines) {
		return nil, invalid("lines", "out_of_range", "more lines than the order has")
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	refID := fidelis.NewID("lrf", now)
	out := &OrderResult{}
	var prev string
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if prev, err = s.claim(ctx, tx, in.Key, o.Programme, "refund", in, in.Order); err != nil || prev != "" {
			return err
		}
		mc, err := s.lockMember(ctx, tx, o.Programme, o.Customer)
		if err != nil {
			return err
		}
		// Re-read under the member lock: refunds of one order serialise.
		if o, err = tx.GetOrder(ctx, in.Order); err != nil {
			return err
		}
		if len(in.Lines) == 0 {
			for i := range o.Lines {
				if left := o.Lines[i].Quantity - o.Lines[i].Refunded; left > 0 {
					in.Lines = append(in.Lines, RefundLine{Line: i, Quantity: left})
				}
			}
			if len(in.Lines) == 0 {
				return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_refunded", Message: "the order was already refunded in full"}
			}
		}
		for i, rl := range in.Lines {
			if rl.Line < 0 || rl.Line >= len(o.Lines) {
				return invalid(fmt.Sprintf("lines.%d.line", i), "out_of_range", "is not a line of the order")
			}
			l := &o.Lines[rl.Line]
			if rl.Quantity < 1 || rl.Quantity > l.Quantity-l.Refunded {
				return invalid(fmt.Sprintf("lines.%d.quantity", i), "out_of_range", fmt.Sprintf("must be from 1 to the %d unit(s) not yet refunded", l.Quantity-l.Refunded))
			}
			l.Refunded += rl.Quantity
		}
		if err := tx.UpdateOrder(ctx, o); err != nil {
			return err
		}
		txs, err := tx.TxsByReference(ctx, o.Programme, o.ID)
		if err != nil {
			return err
		}
		// Net points still credited per rule version.
		type key struct {
			id string
			v  int
		}
		credited := map[key]int64{}
		origin := map[key]*Transaction{}
		var order []key
		for _, t := range txs {
			k := key{t.RuleID, t.RuleVersion}
			for _, p := range t.Postings {
				if p.Account == AccountIssuance {
					credited[k] -= p.Amount
				}
			}
			if t.Kind == KindEarn {
				origin[k] = t
				order = append(order, k)
			}
		}
		kept := func(i int) int64 { return o.Lines[i].Quantity - o.Lines[i].Refunded }
		lots, err := tx.OpenLots(ctx, o.Programme, o.Customer)
		if err != nil {
			return err
		}
		// What each rule version should have credited on the basket that remains; a tier
		// bonus follows the rules' total under its own schedule version.
		shouldOf := map[key]int64{}
		var baseShould int64
		var schedules []*TierSchedule
		for _, k := range order {
			if strings.HasPrefix(k.id, tierRulePrefix) {
				if schedules == nil {
					if schedules, err = tx.TierSchedules(ctx, o.Programme); err != nil {
						return err
					}
				}
				continue
			}
			r, err := tx.GetRule(ctx, o.Programme, k.id, k.v)
			if err != nil {
				return err
			}
			shouldOf[k] = r.Earn(o.Lines, kept, o.Currency).Points
			baseShould += shouldOf[k]
		}
		for _, k := range order {
			should := shouldOf[k]
			if id, ok := strings.CutPrefix(k.id, tierRulePrefix); ok {
				tier := scheduleVersion(schedules, k.v).tier(id)
				if tier == nil {
					return fmt.Errorf("transaction cites tier %q of schedule v%d, which does not exist", id, k.v)
				}
				should = tierExtra(tier.MultiplierPercent, baseShould)
			}
			back := credited[k] - should
			if back <= 0 {
				continue
			}
			orig := origin[k]
			t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: o.Programme, Customer: o.Customer, Kind: KindReverse, At: now,
				RuleID: k.id, RuleVersion: k.v, TermsVersion: orig.TermsVersion, Reference: o.ID,
				Reason: Text{
					FR: fmt.Sprintf("%d point%s repris : remboursement %s de la commande, règle « %s » v%d", back, plural(back), refID, k.id, k.v),
					EN: fmt.Sprintf("%d point%s taken back: refund %s of the order, rule %q v%d", back, plural(back), refID, k.id, k.v),
				}}
			touched := reverse(mc.m, lots, orig, t, back)
			if err := s.post(ctx, tx, mc.m, t, nil, touched); err != nil {
				return err
			}
			out.Transactions = append(out.Transactions, t)
		}
		if o.fullyRefunded() {
			txs, err := s.reverseReferral(ctx, tx, mc.m, lots, o, refID, now)
			if err != nil {
				return err
			}
			out.Transactions = append(out.Transactions, txs...)
		}
		if err := s.auditIn(ctx, tx, ActRefund, p, o.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.order_refunded", string(o.Customer), map[string]any{"programme_id": o.Programme, "customer_id": o.Customer, "order_id": o.ID, "refund_id": refID}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Refund: %w", err)
	}
	if prev != "" {
		return s.orderResult(ctx, prev, true)
	}
	out.Order = o
	if err := s.Store.Read(ctx, func(tx Tx) error { return s.orderMediator(ctx, tx, out) }); err != nil {
		return nil, err
	}
	return out, nil
}

// fullyRefunded reports whether every unit of every line was refunded.
func (o *Order) fullyRefunded() bool {
	for _, l := range o.Lines {
		if l.Refunded < l.Quantity {
			return false
		}
	}
	return true
}

func orderNotFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "order_not_found", Message: "no order with this id"}
}

// orderMediator sets the mediator of the terms that govern the order's member now.
func (s *Service) orderMediator(ctx context.Context, tx Tx, out *OrderResult) error {
	m, err := tx.GetMember(ctx, out.Order.Programme, out.Order.Customer, false)
	if err != nil {
		return err
	}
	terms, err := tx.ListTerms(ctx, out.Order.Programme)
	if err != nil {
		return err
	}
	if t := applicable(terms, m.TermsVersion, s.now()); t != nil {
		out.Mediator = &t.Mediator
	}
	return nil
}

// GetOrder returns an order with the transactions it produced and the mediator, and
// audits the read.
func (s *Service) GetOrder(ctx context.Context, p fidelis.Purpose, id string) (*OrderResult, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lod", id) {
		return nil, orderNotFound()
	}
	out, err := s.orderResult(ctx, id, false)
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, orderNotFound()
		}
		return nil, fmt.Errorf("loyalty.GetOrder: %w", err)
	}
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, out.Order.Customer); err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, auditEvent(ActRead, out.Order.Customer, p))); err != nil {
		return nil, fmt.Errorf("loyalty.GetOrder: audit: %w", err) // no unaudited read
	}
	return out, nil
}
