package loyalty

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Till batches (L-7): bounded size, chunks written in one transaction each, each order with
// its own Idempotency-Key and its own outcome.
const (
	// MaxBatchOrders bounds the orders of one batch.
	MaxBatchOrders = 500
	// BatchChunk is how many orders one database transaction records.
	BatchChunk = 100
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
//   - Valid orders are written in chunks of BatchChunk, one transaction per chunk, each
//     order inside a savepoint so that one failure leaves its neighbours untouched. Orders
//     are taken by member (programme, then customer ID; a member's orders in batch order),
//     so concurrent batches lock members in the same order.
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
		lawful := map[fidelis.CustomerID]error{}
		var denied []audit.Entry
		for i, in := range orders {
			if res[i].Status == BatchError {
				continue
			}
			err, seen := lawful[in.Customer]
			if !seen {
				err = s.Lawfulness.Lawful(ctx, p, in.Customer)
				lawful[in.Customer] = err
				if err != nil {
					denied = append(denied, s.Audit.Entry(ctx, audit.Event{Action: ActOrder, Subject: string(in.Customer), Purpose: p, Outcome: audit.OutcomeDenied, Reason: fidelis.AsError(err).Reason}))
				}
			}
			if err != nil {
				fail(i, err)
			}
		}
		if len(denied) > 0 {
			if err := s.Store.RecordAudit(ctx, denied...); err != nil {
				return nil, fmt.Errorf("loyalty.PlaceOrders: audit: %w", err)
			}
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
	for chunk := range slices.Chunk(pending, BatchChunk) {
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

// placeChunk writes the orders at indexes idx in one transaction, each in a savepoint.
func (s *Service) placeChunk(ctx context.Context, p fidelis.Purpose, orders []OrderInput, idx []int, profiles map[fidelis.CustomerID]Profile, res []*BatchResult, now time.Time) {
	type outcome struct {
		out  *OrderResult
		prev string
		err  error
	}
	outcomes := make([]outcome, len(idx))
	err := s.Store.Write(ctx, func(tx Tx) error {
		envs := map[string]*orderEnv{}
		deferred := &deferredWrites{}
		for j, i := range idx {
			in := orders[i]
			env, ok := envs[in.Programme]
			if !ok {
				var err error
				if env, err = loadOrderEnv(ctx, tx, in.Programme); err != nil && fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
					return err
				}
				if env != nil {
					env.deferred = deferred
				}
				envs[in.Programme] = env
			}
			if env == nil {
				outcomes[j].err = programmeNotFound()
				continue
			}
			o := &Order{ID: fidelis.NewID("lod", now), Programme: in.Programme, Customer: in.Customer, OrderedAt: in.OrderedAt, Channel: in.Channel,
				Store: in.Store, Currency: in.Currency, Lines: in.Lines, CreatedAt: now}
			oc := &outcomes[j]
			oc.err = tx.Nested(ctx, func() (err error) {
				oc.out, oc.prev, err = s.placeIn(ctx, tx, env, p, in, o, profiles[in.Customer], now)
				return err
			})
		}
		// The recorded orders' audit entries and events, in the same transaction.
		if err := tx.AppendAudit(ctx, deferred.audit...); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvents(ctx, deferred.events)
	})
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
