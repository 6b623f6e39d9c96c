package loyalty

import (
	"context"
	"sync"

	"github.com/fidelis/fidelis"
)

// Group commit of single orders.
//
// Orders placed one per request (PlaceOrder) are written by the till batch's path: they
// queue, and a writer takes what has queued and writes it together, in one transaction
// (placeRequests). Every order keeps all it had alone: its own Idempotency-Key in its
// caller's scope, its own lawfulness decision, its own audit entry under its caller's
// actor and request ID, its own event, its own outcome (one refused order refuses nothing
// else; a failed bulk write is rolled back and written again order by order in
// savepoints), and its caller is answered only once the transaction holding its order has
// committed: durability is that of an order written alone. What the group shares is the
// cost of a transaction: on SQLite one commit of the single writer serves many orders, on
// PostgreSQL a dozen round trips serve the whole group instead of each order.
//
// Nothing waits on purpose: an order that finds fewer than Service.OrderWriters writers at
// work starts one at once (an order alone is written as soon as it arrives), and a group
// is whatever queued while the writers were busy, up to MaxBatchOrders. A writer takes
// groups until the queue is empty, then ends. Only writers take orders from the queue, and
// each order is answered exactly once, by the writer that wrote it. Groups being written
// at the same time lock their members in one order (programme, then customer), so they may
// wait on each other but never deadlock.
type orderGroup struct {
	mu      sync.Mutex
	queue   []*queuedOrder // waiting for a group, in arrival order
	writers int            // writers at work
}

// queuedOrder is one PlaceOrder call waiting for, or written in, a group.
type queuedOrder struct {
	req orderRequest
	res BatchResult
	// taken is set, under the group's lock, when a writer takes the order into a group;
	// from then on its caller waits for res whatever its context says.
	taken bool
	// done is closed by the writer once res is final.
	done chan struct{}
	// panicked holds what the group's write panicked with, for the group's first caller
	// to panic with in its own goroutine (the writer's must not bring the process down).
	panicked any
}

// place writes req through a group and returns its outcome: created, replayed (the first
// result's order ID in res.Order) or error. A caller whose context ends while its order
// still waits for a group gets the context's error, and nothing of its order is written.
func (s *Service) place(req orderRequest) *BatchResult {
	if err := req.ctx.Err(); err != nil {
		return &BatchResult{Key: req.in.Key, Status: BatchError, Err: err}
	}
	g := &s.group
	q := &queuedOrder{req: req, done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, q)
	if g.writers < max(1, s.OrderWriters) {
		g.writers++
		go s.write()
	}
	g.mu.Unlock()
	select {
	case <-q.done:
	case <-req.ctx.Done():
		g.mu.Lock()
		if !q.taken {
			g.remove(q)
			g.mu.Unlock()
			return &BatchResult{Key: req.in.Key, Status: BatchError, Err: req.ctx.Err()}
		}
		g.mu.Unlock()
		<-q.done // being written: its outcome is coming
	}
	if q.panicked != nil {
		panic(q.panicked)
	}
	return &q.res
}

// write takes groups from the queue and writes them until the queue is empty.
func (s *Service) write() {
	g := &s.group
	for {
		g.mu.Lock()
		group := g.take()
		if len(group) == 0 {
			g.writers--
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		s.writeGroup(group)
	}
}

// remove drops q from the queue (the caller holds g.mu).
func (g *orderGroup) remove(q *queuedOrder) {
	for i, o := range g.queue {
		if o == q {
			g.queue = append(g.queue[:i], g.queue[i+1:]...)
			return
		}
	}
}

// take moves up to MaxBatchOrders orders from the queue into a group, in arrival order,
// leaving for a later group any order whose Idempotency-Key an earlier order of the group
// has in the same scope (the later one is then a replay, or a conflict, of the first; the
// first of the queue is always taken). The caller holds g.mu.
func (g *orderGroup) take() []*queuedOrder {
	type scopedKey struct{ scope, key string }
	var group, rest []*queuedOrder
	seen := map[scopedKey]bool{}
	for _, q := range g.queue {
		k := scopedKey{scopeOf(q.req.ctx), q.req.in.Key}
		if len(group) == MaxBatchOrders || seen[k] {
			rest = append(rest, q)
			continue
		}
		seen[k] = true
		q.taken = true
		group = append(group, q)
	}
	g.queue = rest
	return group
}

// writeGroup writes group in one transaction (placeRequests) and gives every order its
// outcome. A panic of the write fails every order of the group with EINTERNAL, and is
// raised again in the goroutine of the group's first caller.
func (s *Service) writeGroup(group []*queuedOrder) {
	defer func() {
		v := recover()
		for _, q := range group {
			if q.res.Status == "" { // placeRequests did not return (it panicked)
				q.res.Status, q.res.Err = BatchError, &fidelis.Error{Code: fidelis.EINTERNAL, Message: "the order could not be recorded"}
			}
		}
		group[0].panicked = v
		for _, q := range group {
			close(q.done)
		}
	}()
	// Once taken, an order is written whatever becomes of its caller's request: the
	// write must not be cut short for the group by one caller going away.
	reqs := make([]orderRequest, len(group))
	res := make([]*BatchResult, len(group))
	for i, q := range group {
		reqs[i] = q.req
		reqs[i].ctx = context.WithoutCancel(q.req.ctx)
		reqs[i].origin = i
		q.res = BatchResult{Index: i, Key: q.req.in.Key}
		res[i] = &q.res
	}
	if err := s.placeRequests(reqs[0].ctx, reqs, res, s.now()); err != nil {
		for _, r := range res {
			r.Status, r.Order, r.Err = BatchError, nil, err
		}
	}
}

// scopeOf is the scope of the Idempotency-Keys of ctx's actor.
func scopeOf(ctx context.Context) string {
	actor, _ := fidelis.ActorFrom(ctx)
	return actor.String()
}
