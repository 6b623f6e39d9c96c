package recipient

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/vault"
	"github.com/fidelis/fidelis/webhook"
)

// Sender posts one signed notification (webhook.Sender in production).
type Sender interface {
	Send(ctx context.Context, r webhook.Request) webhook.Result
}

// Policy bounds retries: the delay after the n-th failed attempt is Base·2^(n-1), capped at
// Cap, with jitter (a random point in its upper half) so that many failed deliveries do not
// retry in lockstep; after MaxAttempts failures the delivery is dead.
type Policy struct {
	MaxAttempts int
	Base        time.Duration
	Cap         time.Duration
	Timeout     time.Duration // one attempt, connection and response included
}

// DefaultPolicy retries for about 13 hours: 10 s, 20 s, 40 s ... up to 2 h between tries,
// 16 attempts.
func DefaultPolicy() Policy {
	return Policy{MaxAttempts: 16, Base: 10 * time.Second, Cap: 2 * time.Hour, Timeout: 10 * time.Second}
}

// Delay returns the wait after the n-th consecutive failed attempt (n >= 1). jitter is a
// number in [0, 1).
func (p Policy) Delay(n int, jitter float64) time.Duration {
	d := p.Cap
	if n-1 < 40 {
		if e := p.Base << (n - 1); e > 0 && e < p.Cap {
			d = e
		}
	}
	return d/2 + time.Duration(jitter*float64(d/2))
}

// Outcome of an attempt, as counted by Dispatcher.Observe.
const (
	OutcomeDelivered = "delivered" // 2xx
	OutcomeFailed    = "failed"    // will be retried
	OutcomeDead      = "dead"      // no more attempts
)

// Error classes a dispatcher records without posting.
const (
	ClassRecipientInactive = "recipient_inactive" // deactivated, or its endpoint removed
	ClassSecretUnavailable = "secret_unavailable" // the sealed secret does not open
)

// Dispatcher delivers outbox events to recipients. Several dispatchers (goroutines or
// nodes) may run on one database: events and deliveries are claimed in transactions that
// skip what another holds, and a claimed delivery carries a lease, so no two dispatchers
// post the same delivery at the same time. A dispatcher that dies mid-post leaves its lease
// to expire, and the delivery is tried again: delivery is at least once, and receivers
// deduplicate on Fidelis-Event-Id.
type Dispatcher struct {
	Store  Store
	Vault  *vault.Vault
	Audit  *audit.Log
	Sender Sender
	Now    func() time.Time
	Policy Policy
	Logger *slog.Logger
	// Observe, when set, is called with the outcome of every attempt (metrics).
	Observe func(outcome string)
	// BatchSize bounds the events or deliveries claimed per transaction; 100 when zero.
	BatchSize int
	// Concurrency bounds simultaneous posts; 8 when zero.
	Concurrency int

	jitterMu sync.Mutex
	rnd      *rand.Rand
}

// Stats counts what one pass did.
type Stats struct {
	Events    int // outbox events fanned out
	Delivered int
	Failed    int
	Dead      int
}

func (d *Dispatcher) now() time.Time { return fidelis.UTC(d.Now()) }

func (d *Dispatcher) batch() int {
	if d.BatchSize <= 0 {
		return 100
	}
	return d.BatchSize
}

func (d *Dispatcher) policy() Policy {
	p := d.Policy
	def := DefaultPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = def.MaxAttempts
	}
	if p.Base <= 0 {
		p.Base = def.Base
	}
	if p.Cap <= 0 {
		p.Cap = def.Cap
	}
	if p.Timeout <= 0 {
		p.Timeout = def.Timeout
	}
	return p
}

func (d *Dispatcher) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

func (d *Dispatcher) jitter() float64 {
	d.jitterMu.Lock()
	defer d.jitterMu.Unlock()
	if d.rnd == nil {
		d.rnd = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	return d.rnd.Float64()
}

// ctx acts as Fidelis itself: audit entries of deliveries name the dispatcher.
func systemContext(ctx context.Context) context.Context {
	return fidelis.WithActor(ctx, fidelis.SystemActor("webhooks", fidelis.RoleAdmin))
}

// RunOnce fans out every pending outbox event, then posts every delivery due now, once
// each (a failed one waits for its backoff).
func (d *Dispatcher) RunOnce(ctx context.Context) (Stats, error) {
	ctx = systemContext(ctx)
	var st Stats
	var pending bool
	if err := d.Store.Read(ctx, func(tx Tx) (err error) { pending, err = tx.WorkPending(ctx, d.now()); return err }); err != nil || !pending {
		return st, err
	}
	for {
		n, err := d.fanOut(ctx)
		st.Events += n
		if err != nil {
			return st, err
		}
		if n < d.batch() {
			break
		}
	}
	tried := map[string]bool{}
	for ctx.Err() == nil {
		claimed, err := d.claim(ctx, tried)
		if err != nil {
			return st, err
		}
		if len(claimed) == 0 {
			break
		}
		d.deliverAll(ctx, claimed, &st)
	}
	return st, nil
}

// Run runs passes every interval until ctx ends. In-flight posts finish (each bounded by
// the policy's timeout) and their outcome is recorded before Run returns.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.logger().Error("webhook dispatch failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fieldName admits the field names an event may carry: identifiers, never values.
var fieldName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Body is the JSON posted for an event: IDs, type, time and field names only (D-5).
type Body struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Subject string   `json:"subject"`
	At      string   `json:"at"`
	Fields  []string `json:"fields"`
}

// body builds the notification of e. Only the field names are taken from the producer's
// payload, and only those that are field names (a customer's known fields for customer
// events): whatever a producer wrote, no value can leave through a webhook (D-5).
func body(e Event) ([]byte, error) {
	known := func(f string) bool { return fieldName.MatchString(f) }
	if strings.HasPrefix(e.Type, "customer.") {
		known = func(f string) bool { return slices.Contains(fidelis.CustomerFields(), fidelis.Field(f)) }
	}
	var p struct {
		Fields []string `json:"fields"`
	}
	_ = json.Unmarshal(e.Payload, &p) // a payload without fields notifies the event alone
	b := Body{ID: e.ID, Type: e.Type, Subject: e.Subject, At: e.At.UTC().Format(time.RFC3339Nano), Fields: []string{}}
	for _, f := range p.Fields {
		if known(f) {
			b.Fields = append(b.Fields, f)
		}
	}
	return json.Marshal(b)
}

// fanOut turns up to one batch of outbox events into deliveries, in one transaction.
func (d *Dispatcher) fanOut(ctx context.Context) (int, error) {
	n := 0
	err := d.Store.Write(ctx, func(tx Tx) error {
		n = 0
		events, err := tx.PendingEvents(ctx, d.batch())
		if err != nil || len(events) == 0 {
			return err
		}
		recipients, err := tx.ActiveRecipients(ctx)
		if err != nil {
			return err
		}
		now := d.now()
		ids := make([]string, 0, len(events))
		for _, e := range events {
			b, err := body(e)
			if err != nil {
				return fmt.Errorf("event %s: %w", e.ID, err)
			}
			for _, r := range recipients {
				if !r.Wants(e.Type) {
					continue
				}
				due := now
				del := &Delivery{ID: fidelis.NewID("dlv", now), EventID: e.ID, RecipientID: r.ID, EventType: e.Type, Subject: e.Subject,
					EventAt: e.At, Body: b, Required: Art19(e.Type), State: StatePending, NextAttempt: &due, CreatedAt: now}
				if err := tx.InsertDelivery(ctx, del); err != nil {
					return err
				}
			}
			ids = append(ids, e.ID)
		}
		// Marked together: a till batch fans out hundreds of events at a time.
		if err := tx.MarkEventsDispatched(ctx, ids, now); err != nil {
			return err
		}
		n = len(events)
		return nil
	})
	return n, err
}

type claimed struct {
	del       *Delivery
	recipient *Recipient
}

// lease is how long a claimed delivery is reserved: past it, the dispatcher is presumed
// dead and another may take the delivery.
func (d *Dispatcher) lease() time.Duration { return 2*d.policy().Timeout + time.Minute }

// claim reserves up to one batch of due deliveries not tried yet in this pass.
func (d *Dispatcher) claim(ctx context.Context, tried map[string]bool) ([]claimed, error) {
	var out []claimed
	err := d.Store.Write(ctx, func(tx Tx) error {
		out = nil
		now := d.now()
		due, err := tx.DueDeliveries(ctx, now, d.batch())
		if err != nil {
			return err
		}
		recipients := map[string]*Recipient{}
		for _, del := range due {
			if tried[del.ID] {
				continue
			}
			r, ok := recipients[del.RecipientID]
			if !ok {
				if r, err = tx.GetRecipient(ctx, del.RecipientID); err != nil {
					return err
				}
				recipients[del.RecipientID] = r
			}
			old := del.Lease
			until := now.Add(d.lease())
			del.Lease, del.NextAttempt = fidelis.NewID("lse", now), &until
			saved, err := tx.SaveDelivery(ctx, del, old)
			if err != nil {
				return err
			}
			if saved {
				out = append(out, claimed{del, r})
			}
		}
		return nil
	})
	for _, c := range out {
		tried[c.del.ID] = true
	}
	return out, err
}

func (d *Dispatcher) deliverAll(ctx context.Context, cs []claimed, st *Stats) {
	conc := d.Concurrency
	if conc <= 0 {
		conc = 8
	}
	sem := make(chan struct{}, conc)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range cs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			outcome, err := d.deliver(ctx, c)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				d.logger().Error("webhook delivery not recorded", "delivery", c.del.ID, "err", err)
			case outcome == OutcomeDelivered:
				st.Delivered++
			case outcome == OutcomeDead:
				st.Dead++
			case outcome == OutcomeFailed:
				st.Failed++
			}
		})
	}
	wg.Wait()
}

// deliver posts one claimed delivery and records the attempt. A stopping server lets the
// post finish (bounded by the timeout) rather than lose its outcome.
func (d *Dispatcher) deliver(ctx context.Context, c claimed) (string, error) {
	ctx = context.WithoutCancel(ctx)
	p := d.policy()
	del, r := c.del, c.recipient
	var res webhook.Result
	switch {
	case !r.Webhook():
		res = webhook.Result{ErrorClass: ClassRecipientInactive}
	default:
		secret, err := d.Vault.OpenSecret(secretKind, r.ID, r.Secret)
		if err != nil {
			d.logger().Error("webhook secret does not open", "recipient", r.ID, "err", err)
			res = webhook.Result{ErrorClass: ClassSecretUnavailable}
			break
		}
		pctx, cancel := context.WithTimeout(ctx, p.Timeout)
		res = d.Sender.Send(pctx, webhook.Request{URL: r.Endpoint, Secret: string(secret), EventID: del.EventID, EventType: del.EventType,
			DeliveryID: del.ID, Body: del.Body, At: d.Now()})
		cancel()
	}
	now := d.now()
	lease := del.Lease
	del.Attempts++
	del.LastAttempt, del.LastStatus, del.LastError, del.Lease = &now, res.StatusCode, res.ErrorClass, ""
	outcome := OutcomeFailed
	switch {
	case res.OK:
		outcome = OutcomeDelivered
		del.State, del.DeliveredAt, del.NextAttempt = StateDelivered, &now, nil
	case res.ErrorClass == ClassRecipientInactive || res.ErrorClass == ClassSecretUnavailable || del.Attempts-del.RetryFrom >= p.MaxAttempts:
		outcome = OutcomeDead
		del.State, del.NextAttempt = StateDead, nil
	default:
		next := now.Add(p.Delay(del.Attempts-del.RetryFrom, d.jitter()))
		del.NextAttempt = &next
	}
	lost := false
	err := d.Store.Write(ctx, func(tx Tx) error {
		saved, err := tx.SaveDelivery(ctx, del, lease)
		if err != nil || !saved {
			lost = !saved // the lease expired and another dispatcher owns the delivery now
			return err
		}
		if err := tx.InsertAttempt(ctx, &Attempt{DeliveryID: del.ID, N: del.Attempts, At: now, StatusCode: res.StatusCode,
			ErrorClass: res.ErrorClass, Duration: res.Duration, NextAttempt: del.NextAttempt}); err != nil {
			return err
		}
		// the art. 19 notification, or its failure, is evidence in the tamper-evident
		// log, under the customer's pseudonymous ID.
		switch outcome {
		case OutcomeDelivered:
			return tx.AppendAudit(ctx, d.Audit.Entry(ctx, audit.Event{Action: ActDelivered, Subject: del.Subject, Reason: "recipient=" + r.ID + " event=" + del.EventType}))
		case OutcomeDead:
			return tx.AppendAudit(ctx, d.Audit.Entry(ctx, audit.Event{Action: ActDead, Subject: del.Subject, Outcome: audit.OutcomeFailed, Reason: "recipient=" + r.ID + " event=" + del.EventType + " error=" + del.LastError}))
		}
		return nil
	})
	if err != nil || lost {
		return "", err
	}
	if d.Observe != nil {
		d.Observe(outcome)
	}
	if outcome != OutcomeDelivered {
		// Names and classes only: never the URL (it may hold a receiver's token) or a body.
		d.logger().Warn("webhook delivery failed", "delivery", del.ID, "recipient", r.ID, "attempt", del.Attempts,
			"status", res.StatusCode, "error_class", res.ErrorClass, "outcome", outcome)
	}
	return outcome, nil
}
