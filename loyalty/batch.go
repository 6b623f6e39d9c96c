package loyalty

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Till batches (L-7): bounded size, chunks written in one transaction each, each order with
// its own Idempotency-Key and its own outcome.
const (
	// MaxBatchOrders bounds the orders of one batch.
	MaxBatchOrders = 500
	// DefaultBatchChunk is how many orders one database transaction records unless
	// Service.BatchChunk says otherwise: a whole batch. Written a few statements per
	// table, 500 orders hold the SQLite writer about 40 ms (the time 100 orders took one
	// by one), and one commit costs less than two of half the size (pages both would
	// touch, the right edges of every index, are written once).
	DefaultBatchChunk = MaxBatchOrders
)

// BatchStatus is the outcome of one order of a batch.
type BatchStatus string

// Batch outcomes.
const (
	BatchCreated  BatchStatus = "created"  // recorded now
	BatchReplayed BatchStatus = "replayed" // its key was used before: the first result
	BatchError    BatchStatus = "error"    // refused or failed: nothing of it was stored
)

// BatchResult is the outcome of the order at Index of a batch.
type BatchResult struct {
	Index  int
	Key    string
	Status BatchStatus
	Order  *OrderResult // created or replayed
	Err    error        // error
}

// PlaceOrders records a till's batch of purchases, each exactly as PlaceOrder would (same
// rules, tiers, referral, audit entry and event per order), with per-order results:
//
//   - The batch as a whole is refused only when the caller may not record orders under p
//     (role and purpose) or it is empty or larger than MaxBatchOrders.
//   - Each order is validated alone; an invalid one, a member the purpose may not process
//     (restricted, R-10), an unknown member, a member who left or a reused key is an error
//     for that order alone, with nothing of it stored.
//   - Valid orders are written in chunks of Service.BatchChunk (by default the whole
//     batch), one transaction per chunk (see placeChunk): computed in memory and written a
//     few statements per table; when that write fails, the transaction is rolled back and
//     the chunk written again order by order, each in a savepoint, so that one failure
//     leaves its neighbours untouched. Orders are taken by member (programme, then
//     customer ID; a member's orders in batch order), so concurrent batches lock members
//     in the same order.
//   - If a chunk's transaction itself fails (the database is unavailable), every order of
//     that chunk is an error and none of them is stored; other chunks are unaffected.
//     Since nothing was stored under their keys, the till retries them with the same keys.
//   - An order whose key was already used with the same content is "replayed" with its
//     first result; the same key twice within one batch is an error for the second.
func (s *Service) PlaceOrders(ctx context.Context, p fidelis.Purpose, orders []OrderInput) ([]*BatchResult, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActOrder, ""); err != nil {
		return nil, err
	}
	if len(orders) == 0 || len(orders) > MaxBatchOrders {
		return nil, invalid("orders", "out_of_range", fmt.Sprintf("a batch has 1 to %d orders", MaxBatchOrders))
	}
	now := s.now()
	res := make([]*BatchResult, len(orders))
	fail := func(i int, err error) { res[i].Status, res[i].Err = BatchError, err }
	keys := map[string]bool{}
	for i := range orders {
		in := &orders[i]
		res[i] = &BatchResult{Index: i, Key: in.Key}
		in.OrderedAt = fidelis.UTC(in.OrderedAt)
		switch {
		case ValidKey(in.Key) != nil:
			fail(i, ValidKey(in.Key))
		case keys[in.Key]:
			fail(i, &fidelis.Error{Code: fidelis.EINVALID, Reason: "idempotency_key_repeated", Message: "an earlier order of this batch has the same Idempotency-Key",
				Fields: []fidelis.FieldError{{Field: "idempotency_key", Rule: "repeated", Message: "is used by an earlier order of the batch"}}})
		case !fidelis.ValidID("lpg", in.Programme):
			fail(i, programmeNotFound())
		case !fidelis.ValidID("cus", string(in.Customer)):
			fail(i, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"})
		default:
			if err := in.validate(now); err != nil {
				fail(i, err)
			}
		}
		keys[in.Key] = true
	}
	reqs := make([]orderRequest, len(orders))
	for i, in := range orders {
		reqs[i] = orderRequest{ctx: ctx, p: p, in: in} // one request: origin 0
	}
	if err := s.placeRequests(ctx, reqs, res, now); err != nil {
		return nil, fmt.Errorf("loyalty.PlaceOrders: %w", err)
	}
	// Errors are wrapped once, before the replays add their own.
	for _, r := range res {
		if r.Status == BatchError {
			r.Err = fmt.Errorf("loyalty.PlaceOrders: %w", r.Err)
		}
	}
	for _, r := range res {
		if r.Status == BatchReplayed {
			first, err := s.orderResult(ctx, r.Order.Order.ID, true)
			if err != nil {
				r.Status, r.Order, r.Err = BatchError, nil, fmt.Errorf("loyalty.PlaceOrders: replay: %w", err)
				continue
			}
			r.Order = first
		}
	}
	return res, nil
}

// orderRequest is one order to place, with the context of the request that brought it:
// its actor (the Idempotency-Key's scope, the audit entry's actor) and request ID. A till
// batch's orders share one; orders placed concurrently through PlaceOrder and written
// together (group.go) each keep their own.
type orderRequest struct {
	ctx context.Context
	p   fidelis.Purpose
	in  OrderInput
	// origin numbers the request the order came from: 0 for every order of a batch, each
	// order's own position in a group. A refusal is audited once per member and origin.
	origin int
}

// placeRequests places the requests whose result res does not already hold an error:
// the lawfulness of processing each member (P-3, R-10) and the profiles eligibility
// conditions need, each decided or read once per member, then the orders written by
// member, in chunks of Service.BatchChunk, one transaction each (placeChunk), under ctx.
// Each outcome goes into res; the error is one that leaves every request undecided (an
// audit entry of a refusal could not be stored).
func (s *Service) placeRequests(ctx context.Context, reqs []orderRequest, res []*BatchResult, now time.Time) error {
	if s.Lawfulness != nil {
		if err := s.batchLawful(ctx, reqs, res); err != nil {
			return err
		}
	}
	pr, err := s.batchProfiles(ctx, reqs, res, false)
	if err != nil {
		return err
	}
	var pending []int
	for i := range reqs {
		if res[i].Status != BatchError {
			pending = append(pending, i)
		}
	}
	// Members are locked in one order (programme, then customer) by every transaction that
	// locks several, so that two sharing members never deadlock; a member's own orders keep
	// their order.
	slices.SortStableFunc(pending, func(a, b int) int {
		if c := strings.Compare(reqs[a].in.Programme, reqs[b].in.Programme); c != 0 {
			return c
		}
		return strings.Compare(string(reqs[a].in.Customer), string(reqs[b].in.Customer))
	})
	size := s.BatchChunk
	if size <= 0 {
		size = DefaultBatchChunk
	}
	for chunk := range slices.Chunk(pending, size) {
		for attempt := 1; ; attempt++ {
			if s.placeChunk(ctx, reqs, chunk, pr, res, now, attempt == maxRuleAttempts) {
				break
			}
			// A rule was published since the profiles were decided: decide them again
			// from the rules as stored, and write the chunk again without what that failed.
			if pr, err = s.batchProfiles(ctx, reqs, res, true); err != nil {
				return err
			}
			chunk = slices.DeleteFunc(chunk, func(i int) bool { return res[i].Status != "" })
			if len(chunk) == 0 {
				break
			}
		}
	}
	return nil
}

// maxRuleAttempts bounds how many times a chunk is written again because rules were
// published meanwhile (placeChunk); the last attempt fails its orders with EUNAVAILABLE.
const maxRuleAttempts = 3

// profileSet is what batchProfiles read: the profiles eligibility conditions need, by
// member, and how many rule versions of each programme it decided that from.
type profileSet struct {
	profiles map[fidelis.CustomerID]Profile
	rules    map[string]int
}

// batchLawful makes the lawfulness decision for each member of the requests not refused
// yet (from one read of their states per purpose when the decision supports it), fails
// the requests of members it refuses and audits each refusal once per request context.
func (s *Service) batchLawful(ctx context.Context, reqs []orderRequest, res []*BatchResult) error {
	type decision struct {
		p  fidelis.Purpose
		id fidelis.CustomerID
	}
	type refusal struct {
		decision
		origin int
	}
	var purposes []fidelis.Purpose
	ids := map[fidelis.Purpose][]fidelis.CustomerID{}
	seen := map[decision]bool{}
	for i, r := range reqs {
		d := decision{r.p, r.in.Customer}
		if res[i].Status == BatchError || seen[d] {
			continue
		}
		seen[d] = true
		if ids[r.p] == nil {
			purposes = append(purposes, r.p)
		}
		ids[r.p] = append(ids[r.p], r.in.Customer)
	}
	lawful := map[decision]error{}
	for _, p := range purposes {
		each, err := s.lawfulEach(ctx, p, ids[p])
		for _, id := range ids[p] {
			if err != nil {
				// No decision could be made: nothing is recorded, each order says why.
				lawful[decision{p, id}] = err
			} else {
				lawful[decision{p, id}] = each[id]
			}
		}
	}
	var denied []audit.Entry
	audited := map[refusal]bool{}
	for i, r := range reqs {
		if res[i].Status == BatchError {
			continue
		}
		d := decision{r.p, r.in.Customer}
		err := lawful[d]
		if err == nil {
			continue
		}
		res[i].Status, res[i].Err = BatchError, err
		if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EFORBIDDEN && !audited[refusal{d, r.origin}] {
			audited[refusal{d, r.origin}] = true
			denied = append(denied, s.Audit.Entry(r.ctx, audit.Event{Action: ActOrder, Subject: string(r.in.Customer), Purpose: r.p, Outcome: audit.OutcomeDenied, Reason: e.Reason}))
		}
	}
	if len(denied) > 0 {
		if err := s.Store.RecordAudit(ctx, denied...); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	return nil
}

// lawfulEach decides the lawfulness of processing each of ids under p, in one read when
// s.Lawfulness supports it.
func (s *Service) lawfulEach(ctx context.Context, p fidelis.Purpose, ids []fidelis.CustomerID) (map[fidelis.CustomerID]error, error) {
	if bl, ok := s.Lawfulness.(privacy.BatchLawfulness); ok {
		return bl.LawfulEach(ctx, p, ids)
	}
	out := make(map[fidelis.CustomerID]error, len(ids))
	for _, id := range ids {
		out[id] = s.Lawfulness.Lawful(ctx, p, id)
	}
	return out, nil
}

// batchProfiles reads, once per member, the profile the orders' eligibility conditions
// need (only for members with an order under a rule that has conditions), under the
// context of the first request that needs it, for the requests without an outcome yet. A
// customer who is not a member has none. The rules are the cached ones (orderEnv) unless
// fresh is set or there are none: placeChunk checks they are the ones it writes under.
func (s *Service) batchProfiles(ctx context.Context, reqs []orderRequest, res []*BatchResult, fresh bool) (profileSet, error) {
	out := profileSet{profiles: map[fidelis.CustomerID]Profile{}, rules: map[string]int{}}
	if s.Profiles == nil {
		return out, nil
	}
	rules := map[string][]*Rule{}
	for i, r := range reqs {
		in := r.in
		if res[i].Status != "" {
			continue
		}
		all, ok := rules[in.Programme]
		if !ok {
			if env := s.envs.get(in.Programme); env != nil && !fresh {
				all = env.rules
			} else if err := s.Store.Read(ctx, func(tx Tx) (err error) { all, err = tx.Rules(ctx, in.Programme); return err }); err != nil {
				return out, err
			}
			rules[in.Programme], out.rules[in.Programme] = all, len(all)
		}
		if _, done := out.profiles[in.Customer]; done {
			continue
		}
		for _, rule := range rulesAt(all, in.OrderedAt) {
			if len(rule.Countries) > 0 || rule.MinAge > 0 {
				// Only a member's profile is read for the loyalty purpose: another customer's
				// order is refused as not a member's by the write.
				err := s.Store.Read(ctx, func(tx Tx) error { _, err := tx.GetMember(ctx, in.Programme, in.Customer, false); return err })
				if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
					break
				} else if err != nil {
					return out, err
				}
				pr, err := s.Profiles(r.ctx, in.Customer)
				if err != nil {
					res[i].Status, res[i].Err = BatchError, fmt.Errorf("profile: %w", err)
					break
				}
				out.profiles[in.Customer] = pr
				break
			}
		}
	}
	return out, nil
}

// errRulesChanged rolls back a chunk's transaction that found other rules than those its
// orders' profiles were decided from.
var errRulesChanged = errors.New("rules changed since the profiles were decided")

// bulkError is a failed bulk write (placeBulk): its transaction must be rolled back and
// the chunk written again order by order.
type bulkError struct{ err error }

func (e *bulkError) Error() string { return "bulk write: " + e.err.Error() }
func (e *bulkError) Unwrap() error { return e.err }

// batchOutcome is what the chunk's transaction made of one order.
type batchOutcome struct {
	out  *OrderResult
	prev string // the first order's ID when the key was used before
	err  error
}

// placeChunk writes the orders at indexes idx in one transaction. The members are locked
// first, all together, in (programme, customer) order, in the same read as the
// programmes' stamps and the keys already used (ReadChunk: one round trip on PostgreSQL,
// BEGIN included). Orders of programmes without tier
// schedules or referral policies are then computed in memory and written together, a few
// statements per table (placeBulk). If that write fails, the whole transaction is rolled
// back and run again with each of those orders placed alone, as the orders of other
// programmes always are: in a savepoint of its own (placeIn), so that one failure leaves
// its neighbours untouched. (No savepoint wraps the bulk write: on SQLite a savepoint
// copies every page the write touches into a sub-journal, a sixth of the bulk write's
// cost, to spare a rollback that almost never happens.)
//
// The profiles (pr) were decided from rules read before the transaction: if the
// transaction finds other rules, nothing is written and placeChunk returns false for the
// caller to decide the profiles again, unless this is the last attempt (last), which
// fails the chunk's orders with EUNAVAILABLE. Otherwise every order of idx has its
// outcome in res and placeChunk returns true.
func (s *Service) placeChunk(ctx context.Context, reqs []orderRequest, idx []int, pr profileSet, res []*BatchResult, now time.Time, last bool) bool {
	profiles := pr.profiles
	outcomes := make([]batchOutcome, len(idx))
	bulkFailed := false
	write := func(tx Tx) error {
		clear(outcomes)
		// One read of everything the chunk reads before it writes: the programmes' stamps,
		// the keys already used and, L-7, every member of the chunk locked before anything
		// is written, in one order for every batch (idx is sorted by programme, then
		// customer).
		reads := ChunkReads{Members: map[string][]fidelis.CustomerID{}, Keys: map[string][]string{}}
		for _, i := range idx {
			in := reqs[i].in
			if _, ok := reads.Members[in.Programme]; !ok {
				reads.Programmes = append(reads.Programmes, in.Programme)
			}
			reads.Members[in.Programme] = append(reads.Members[in.Programme], in.Customer)
			scope := scopeOf(reqs[i].ctx)
			reads.Keys[scope] = append(reads.Keys[scope], in.Key)
		}
		state, err := tx.ReadChunk(ctx, reads)
		if err != nil {
			return err
		}
		envs := map[string]*orderEnv{}
		deferred := &deferredWrites{}
		for _, prog := range reads.Programmes {
			env, err := s.stampedEnv(ctx, tx, prog, state.Stamps[prog])
			if err != nil && fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
				return err
			}
			if env != nil {
				if n, ok := pr.rules[prog]; ok && n != len(env.rules) {
					return errRulesChanged
				}
				env.deferred = deferred
			}
			envs[prog] = env
		}
		locked := state.Members
		var bulk, single []int // positions in idx
		for j, i := range idx {
			switch env := envs[reqs[i].in.Programme]; {
			case env == nil:
				outcomes[j].err = programmeNotFound()
			case len(env.schedules) > 0 || len(env.policies) > 0:
				// Tiers and referral read and change more than the member's balance:
				// such orders are placed one by one.
				single = append(single, j)
			default:
				bulk = append(bulk, j)
			}
		}
		if bulkFailed {
			single = append(single, bulk...)
			slices.Sort(single)
		} else if len(bulk) > 0 {
			if err := s.placeBulk(ctx, tx, envs, locked, state.Keys, reqs, idx, bulk, profiles, outcomes, deferred, len(single) == 0, now); err != nil {
				return &bulkError{err}
			}
		}
		for _, j := range single {
			r := reqs[idx[j]]
			in := r.in
			o := &Order{ID: fidelis.NewID("lod", now), Programme: in.Programme, Customer: in.Customer, OrderedAt: in.OrderedAt, Channel: in.Channel,
				Store: in.Store, Currency: in.Currency, Lines: in.Lines, CreatedAt: now}
			oc := &outcomes[j]
			oc.err = tx.Nested(ctx, func() (err error) {
				oc.out, oc.prev, err = s.placeIn(r.ctx, tx, envs[in.Programme], r.p, in, o, profiles[in.Customer], now)
				return err
			})
		}
		// The recorded orders' audit entries and events, in the same transaction.
		if err := tx.AppendAudit(ctx, deferred.audit...); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvents(ctx, deferred.events)
	}
	err := s.Store.Write(ctx, write)
	if be := (*bulkError)(nil); errors.As(err, &be) {
		// The bulk write failed and its transaction was rolled back whole: the chunk is
		// written again, each order alone in a savepoint of its own.
		bulkFailed = true
		err = s.Store.Write(ctx, write)
	}
	if errors.Is(err, errRulesChanged) {
		if !last {
			return false
		}
		err = &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "rules_changed", Message: "the programme's rules changed while the order was recorded; send it again", Err: err}
	}
	for j, i := range idx {
		r, oc := res[i], outcomes[j]
		switch {
		case err != nil:
			r.Status, r.Err = BatchError, err
		case oc.err != nil:
			r.Status, r.Err = BatchError, oc.err
		case oc.prev != "":
			r.Status, r.Order = BatchReplayed, &OrderResult{Order: &Order{ID: oc.prev}}
		default:
			r.Status, r.Order = BatchCreated, oc.out
		}
	}
	return true
}

// placeBulk places the orders at positions pos of idx, whose members locked holds locked,
// exactly as placeIn would one by one, but computed in memory and written together: the
// keys already used, read with the chunk (used, by scope: a replay, or ECONFLICT for
// another request), are answered, each
// other order is checked and earns against its member's running balance (earnOrder, with
// the same checks as post), then the new keys, orders, transactions with their postings,
// lots and balances are written together (InsertBatch: one statement on PostgreSQL, a few
// per table on SQLite), with the chunk's audit entries and events when nothing is written
// after them (last), or else left in deferred for the chunk to write. An order refused in memory
// is an outcome like any other and writes nothing. The error is that of the write: part of
// it may be stored, so the caller must roll the transaction back, and no outcome of pos
// holds.
func (s *Service) placeBulk(ctx context.Context, tx Tx, envs map[string]*orderEnv, locked map[string]map[fidelis.CustomerID]*Member, used map[string]map[string]*Idempotency,
	reqs []orderRequest, idx, pos []int, profiles map[fidelis.CustomerID]Profile, outcomes []batchOutcome, deferred *deferredWrites, last bool, now time.Time) error {
	// Keys are scoped by actor (scopeOf).
	scopes := make([]string, len(pos))
	for k, j := range pos {
		scopes[k] = scopeOf(reqs[idx[j]].ctx)
	}
	type member struct {
		m    *Member
		from int64
	}
	running := map[*Member]*member{} // a working copy of each locked member who earns
	var (
		claims  []*Idempotency
		placed  []*Order
		txs     []*Transaction
		lots    []*Lot
		touched []*member
		entries []audit.Entry
		events  []*Event
	)
	for k, j := range pos {
		r, oc := reqs[idx[j]], &outcomes[j]
		in := r.in
		hash := requestHash("order", in)
		if prev := used[scopes[k]][in.Key]; prev != nil {
			oc.prev, oc.err = replayOf(prev, hash)
			continue
		}
		stored := locked[in.Programme][in.Customer]
		if stored == nil {
			oc.err = notMember()
			continue
		}
		env := envs[in.Programme]
		if err := env.mayEarn(stored, in); err != nil {
			oc.err = err
			continue
		}
		w := running[stored]
		if w == nil {
			copied := *stored
			w = &member{m: &copied, from: stored.Version}
			running[stored] = w
		}
		o := &Order{ID: fidelis.NewID("lod", now), Programme: in.Programme, Customer: in.Customer, OrderedAt: in.OrderedAt, Channel: in.Channel,
			Store: in.Store, Currency: in.Currency, Lines: in.Lines, CreatedAt: now}
		next := *w.m
		var earned []*Lot
		out, _, _, err := env.earnOrder(&next, in, o, profiles[in.Customer], now, func(t *Transaction, lot *Lot) error {
			if err := next.apply(t); err != nil {
				return err
			}
			if lot != nil {
				earned = append(earned, lot)
			}
			return nil
		})
		if err != nil {
			oc.err = err
			continue
		}
		if next.Version != w.m.Version && w.m.Version == w.from {
			touched = append(touched, w)
		}
		*w.m = next
		oc.out = out
		claims = append(claims, &Idempotency{Scope: scopes[k], Key: in.Key, RequestHash: hash, Programme: in.Programme, Result: o.ID, CreatedAt: now})
		placed = append(placed, o)
		txs = append(txs, out.Transactions...)
		lots = append(lots, earned...)
		entries = append(entries, s.Audit.Entry(r.ctx, auditEvent(ActOrder, in.Customer, r.p)))
		events = append(events, s.event("loyalty.order_recorded", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "order_id": o.ID}))
	}
	balances := make([]BalanceUpdate, len(touched))
	for k, w := range touched {
		balances[k] = BalanceUpdate{Member: w.m, From: w.from}
	}
	rows := &BatchRows{Keys: claims, Orders: placed, Txs: txs, Lots: lots, Balances: balances, Audit: entries, Events: events}
	if last {
		// Nothing is written after these rows: the chunk's audit entries and events go
		// with them.
		rows.Audit = append(deferred.audit, rows.Audit...)
		rows.Events = append(deferred.events, rows.Events...)
		deferred.audit, deferred.events = nil, nil
		return tx.InsertBatch(ctx, rows)
	}
	rows.Audit, rows.Events = nil, nil
	if err := tx.InsertBatch(ctx, rows); err != nil {
		return err
	}
	deferred.audit = append(deferred.audit, entries...)
	deferred.events = append(deferred.events, events...)
	return nil
}
