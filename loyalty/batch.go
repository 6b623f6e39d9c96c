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
	// P-3, R-10: the lawfulness of processing each member, decided once per member.
	if s.Lawfulness != nil {
		if err := s.batchLawful(ctx, p, orders, res); err != nil {
			return nil, err
		}
	}
	profiles, err := s.batchProfiles(ctx, orders, res)
	if err != nil {
		return nil, err
	}
	var pending []int
	for i := range orders {
		if res[i].Status != BatchError {
			pending = append(pending, i)
		}
	}
	// Members are locked in one order (programme, then customer) by every batch, so that two
	// batches sharing members never deadlock; a member's own orders keep the batch's order.
	slices.SortStableFunc(pending, func(a, b int) int {
		if c := strings.Compare(orders[a].Programme, orders[b].Programme); c != 0 {
			return c
		}
		return strings.Compare(string(orders[a].Customer), string(orders[b].Customer))
	})
	size := s.BatchChunk
	if size <= 0 {
		size = DefaultBatchChunk
	}
	for chunk := range slices.Chunk(pending, size) {
		s.placeChunk(ctx, p, orders, chunk, profiles, res, now)
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

// batchLawful makes the lawfulness decision for each member of the orders not refused yet
// (from one read of their states when the decision supports it), fails the orders of
// members it refuses and audits each refusal once.
func (s *Service) batchLawful(ctx context.Context, p fidelis.Purpose, orders []OrderInput, res []*BatchResult) error {
	var ids []fidelis.CustomerID
	seen := map[fidelis.CustomerID]bool{}
	for i, in := range orders {
		if res[i].Status != BatchError && !seen[in.Customer] {
			seen[in.Customer] = true
			ids = append(ids, in.Customer)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var lawful map[fidelis.CustomerID]error
	if bl, ok := s.Lawfulness.(privacy.BatchLawfulness); ok {
		var err error
		if lawful, err = bl.LawfulEach(ctx, p, ids); err != nil {
			// No decision could be made: nothing is recorded, each order says why.
			lawful = map[fidelis.CustomerID]error{}
			for _, id := range ids {
				lawful[id] = err
			}
		}
	} else {
		lawful = make(map[fidelis.CustomerID]error, len(ids))
		for _, id := range ids {
			lawful[id] = s.Lawfulness.Lawful(ctx, p, id)
		}
	}
	var denied []audit.Entry
	for _, id := range ids {
		if e := fidelis.AsError(lawful[id]); e != nil && e.Code == fidelis.EFORBIDDEN {
			denied = append(denied, s.Audit.Entry(ctx, audit.Event{Action: ActOrder, Subject: string(id), Purpose: p, Outcome: audit.OutcomeDenied, Reason: e.Reason}))
		}
	}
	for i, in := range orders {
		if res[i].Status == BatchError {
			continue
		}
		if err := lawful[in.Customer]; err != nil {
			res[i].Status, res[i].Err = BatchError, err
		}
	}
	if len(denied) > 0 {
		if err := s.Store.RecordAudit(ctx, denied...); err != nil {
			return fmt.Errorf("loyalty.PlaceOrders: audit: %w", err)
		}
	}
	return nil
}

// batchProfiles reads, once per member, the profile the orders' eligibility conditions
// need (only for members with an order under a rule that has conditions).
func (s *Service) batchProfiles(ctx context.Context, orders []OrderInput, res []*BatchResult) (map[fidelis.CustomerID]Profile, error) {
	out := map[fidelis.CustomerID]Profile{}
	if s.Profiles == nil {
		return out, nil
	}
	rules := map[string][]*Rule{}
	for i, in := range orders {
		if res[i].Status == BatchError {
			continue
		}
		all, ok := rules[in.Programme]
		if !ok {
			if err := s.Store.Read(ctx, func(tx Tx) (err error) { all, err = tx.Rules(ctx, in.Programme); return err }); err != nil {
				return nil, fmt.Errorf("loyalty.PlaceOrders: %w", err)
			}
			rules[in.Programme] = all
		}
		if _, done := out[in.Customer]; done {
			continue
		}
		for _, r := range rulesAt(all, in.OrderedAt) {
			if len(r.Countries) > 0 || r.MinAge > 0 {
				pr, err := s.Profiles(ctx, in.Customer)
				if err != nil {
					res[i].Status, res[i].Err = BatchError, err
					break
				}
				out[in.Customer] = pr
				break
			}
		}
	}
	return out, nil
}

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
// first, all together, in (programme, customer) order. Orders of programmes without tier
// schedules or referral policies are then computed in memory and written together, a few
// statements per table (placeBulk). If that write fails, the whole transaction is rolled
// back and run again with each of those orders placed alone, as the orders of other
// programmes always are: in a savepoint of its own (placeIn), so that one failure leaves
// its neighbours untouched. (No savepoint wraps the bulk write: on SQLite a savepoint
// copies every page the write touches into a sub-journal, a sixth of the bulk write's
// cost, to spare a rollback that almost never happens.)
func (s *Service) placeChunk(ctx context.Context, p fidelis.Purpose, orders []OrderInput, idx []int, profiles map[fidelis.CustomerID]Profile, res []*BatchResult, now time.Time) {
	outcomes := make([]batchOutcome, len(idx))
	bulkFailed := false
	write := func(tx Tx) error {
		clear(outcomes)
		envs := map[string]*orderEnv{}
		deferred := &deferredWrites{}
		members := map[string][]fidelis.CustomerID{} // by programme
		var programmes []string
		for _, i := range idx {
			in := orders[i]
			if _, ok := envs[in.Programme]; !ok {
				env, err := loadOrderEnv(ctx, tx, in.Programme)
				if err != nil && fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
					return err
				}
				if env != nil {
					env.deferred = deferred
					programmes = append(programmes, in.Programme)
				}
				envs[in.Programme] = env
			}
			members[in.Programme] = append(members[in.Programme], in.Customer)
		}
		// L-7: every member of the chunk locked before anything is written, in one order
		// for every batch (idx is sorted by programme, then customer).
		locked := map[string]map[fidelis.CustomerID]*Member{}
		for _, prog := range programmes {
			ms, err := tx.LockMembers(ctx, prog, members[prog])
			if err != nil {
				return err
			}
			locked[prog] = ms
		}
		var bulk, single []int // positions in idx
		for j, i := range idx {
			switch env := envs[orders[i].Programme]; {
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
			if err := s.placeBulk(ctx, tx, p, envs, locked, orders, idx, bulk, profiles, outcomes, deferred, now); err != nil {
				return &bulkError{err}
			}
		}
		for _, j := range single {
			in := orders[idx[j]]
			o := &Order{ID: fidelis.NewID("lod", now), Programme: in.Programme, Customer: in.Customer, OrderedAt: in.OrderedAt, Channel: in.Channel,
				Store: in.Store, Currency: in.Currency, Lines: in.Lines, CreatedAt: now}
			oc := &outcomes[j]
			oc.err = tx.Nested(ctx, func() (err error) {
				oc.out, oc.prev, err = s.placeIn(ctx, tx, envs[in.Programme], p, in, o, profiles[in.Customer], now)
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
	for j, i := range idx {
		r, oc := res[i], outcomes[j]
		switch {
		case err != nil:
			r.Status, r.Err = BatchError, fmt.Errorf("loyalty.PlaceOrders: %w", err)
		case oc.err != nil:
			r.Status, r.Err = BatchError, fmt.Errorf("loyalty.PlaceOrders: %w", oc.err)
		case oc.prev != "":
			r.Status, r.Order = BatchReplayed, &OrderResult{Order: &Order{ID: oc.prev}}
		default:
			r.Status, r.Order = BatchCreated, oc.out
		}
	}
}

// placeBulk places the orders at positions pos of idx, whose members locked holds locked,
// exactly as placeIn would one by one, but computed in memory and written together: the
// keys already used are read at once (a replay, or ECONFLICT for another request), each
// other order is checked and earns against its member's running balance (earnOrder, with
// the same checks as post), then the new keys, orders, transactions with their postings,
// lots and balances are written in a few statements per table. An order refused in memory
// is an outcome like any other and writes nothing. The error is that of the write: part of
// it may be stored, so the caller must roll the transaction back, and no outcome of pos
// holds.
func (s *Service) placeBulk(ctx context.Context, tx Tx, p fidelis.Purpose, envs map[string]*orderEnv, locked map[string]map[fidelis.CustomerID]*Member,
	orders []OrderInput, idx, pos []int, profiles map[fidelis.CustomerID]Profile, outcomes []batchOutcome, deferred *deferredWrites, now time.Time) error {
	actor, _ := fidelis.ActorFrom(ctx)
	keys := make([]string, len(pos))
	for k, j := range pos {
		keys[k] = orders[idx[j]].Key
	}
	used, err := tx.LoyaltyKeysOf(ctx, actor.String(), keys)
	if err != nil {
		return err
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
	for _, j := range pos {
		in, oc := orders[idx[j]], &outcomes[j]
		hash := requestHash("order", in)
		if prev := used[in.Key]; prev != nil {
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
		claims = append(claims, &Idempotency{Scope: actor.String(), Key: in.Key, RequestHash: hash, Programme: in.Programme, Result: o.ID, CreatedAt: now})
		placed = append(placed, o)
		txs = append(txs, out.Transactions...)
		lots = append(lots, earned...)
		entries = append(entries, s.Audit.Entry(ctx, auditEvent(ActOrder, in.Customer, p)))
		events = append(events, s.event("loyalty.order_recorded", string(in.Customer), map[string]any{"programme_id": in.Programme, "customer_id": in.Customer, "order_id": o.ID}))
	}
	balances := make([]BalanceUpdate, len(touched))
	for k, w := range touched {
		balances[k] = BalanceUpdate{Member: w.m, From: w.from}
	}
	if err := tx.InsertLoyaltyKeys(ctx, claims); err != nil {
		return err
	}
	if err := tx.InsertOrders(ctx, placed); err != nil {
		return err
	}
	if err := tx.InsertLedgerTxs(ctx, txs); err != nil {
		return err
	}
	if err := tx.InsertLots(ctx, lots); err != nil {
		return err
	}
	if err := tx.UpdateBalances(ctx, balances); err != nil {
		return err
	}
	deferred.audit = append(deferred.audit, entries...)
	deferred.events = append(deferred.events, events...)
	return nil
}
