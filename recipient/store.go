package recipient

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Event is a domain event as the outbox holds it (DESIGN invariant 7).
type Event struct {
	ID      string
	At      time.Time
	Type    string
	Subject string
	Payload []byte // JSON written by the producing domain: ids and field names only
}

// State is where a delivery stands.
type State string

// Delivery states.
const (
	StatePending   State = "pending"   // waiting for its next attempt
	StateDelivered State = "delivered" // a 2xx answer was received
	StateDead      State = "dead"      // attempts exhausted, or the recipient can no longer receive
)

// States returns every state.
func States() []State { return []State{StatePending, StateDelivered, StateDead} }

// Delivery is one event to post to one recipient.
type Delivery struct {
	ID          string
	EventID     string
	RecipientID string
	EventType   string
	Subject     string
	EventAt     time.Time
	Body        []byte // the exact JSON posted: ids and field names only (D-5)
	Required    bool   // an art. 19 notification, sent whatever the subscriptions
	State       State
	Attempts    int // attempts made in total
	RetryFrom   int // Attempts when last redelivered by an operator: the budget restarts there
	NextAttempt *time.Time
	LastAttempt *time.Time
	LastStatus  int    // HTTP status of the last attempt, 0 if none was received
	LastError   string // error class of the last attempt, "" if it succeeded
	DeliveredAt *time.Time
	CreatedAt   time.Time
	Lease       string // claim token of the dispatcher working on it, "" when none
}

// Attempt is one try at a delivery. It records no body and no URL.
type Attempt struct {
	DeliveryID  string
	N           int
	At          time.Time
	StatusCode  int
	ErrorClass  string
	Duration    time.Duration
	NextAttempt *time.Time // when the next try is due; nil if none
}

// CustomerState says whether a customer exists, or existed and was erased.
type CustomerState struct {
	Exists bool
	Erased bool
}

// Tx is the storage the registry and the dispatcher need inside one transaction.
type Tx interface {
	audit.Appender

	// InsertRecipient stores a new recipient; ECONFLICT if the name is taken.
	InsertRecipient(ctx context.Context, r *Recipient) error
	// UpdateRecipient replaces a recipient if its stored version is r.Version-1;
	// EPRECONDITION otherwise, ENOTFOUND if there is none, ECONFLICT if the name is taken.
	UpdateRecipient(ctx context.Context, r *Recipient) error
	// GetRecipient returns a recipient; ENOTFOUND if none.
	GetRecipient(ctx context.Context, id string) (*Recipient, error)
	// ListRecipients returns up to limit recipients with IDs below before ("" for the
	// newest), newest first.
	ListRecipients(ctx context.Context, before string, limit int) ([]*Recipient, error)
	// ActiveRecipients returns every active recipient, oldest first.
	ActiveRecipients(ctx context.Context) ([]*Recipient, error)
	// DeleteRecipient deletes a recipient; ENOTFOUND if none.
	DeleteRecipient(ctx context.Context, id string) error
	// CountDeliveries counts the deliveries to a recipient.
	CountDeliveries(ctx context.Context, recipientID string) (int, error)

	// WorkPending reports whether an outbox event waits to be dispatched or a delivery is
	// due at now: a cheap read, so that idle dispatchers do not take the write lock.
	WorkPending(ctx context.Context, now time.Time) (bool, error)
	// PendingEvents returns up to limit outbox events not dispatched yet, oldest first,
	// locked for this transaction: a concurrent transaction skips them (PostgreSQL
	// FOR UPDATE SKIP LOCKED; SQLite has one writer).
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// MarkEventsDispatched records that events were fanned out into deliveries.
	MarkEventsDispatched(ctx context.Context, ids []string, at time.Time) error
	// InsertDelivery stores a delivery; a second delivery of the same event to the same
	// recipient is ignored.
	InsertDelivery(ctx context.Context, d *Delivery) error
	// DueDeliveries returns up to limit pending deliveries due at now, oldest due first,
	// locked like PendingEvents.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*Delivery, error)
	// SaveDelivery writes d's state, attempts, times, last outcome and lease if the stored
	// lease is still lease; it reports whether it did (false: another dispatcher took it).
	SaveDelivery(ctx context.Context, d *Delivery, lease string) (bool, error)
	// InsertAttempt records one attempt.
	InsertAttempt(ctx context.Context, a *Attempt) error
	// GetDelivery returns a delivery; ENOTFOUND if none.
	GetDelivery(ctx context.Context, id string) (*Delivery, error)
	// Deliveries returns up to limit deliveries to a recipient with IDs below before (""
	// for the newest), newest first, in state (all states when "").
	Deliveries(ctx context.Context, recipientID string, state State, before string, limit int) ([]*Delivery, error)
	// Attempts returns the attempts of a delivery, oldest first.
	Attempts(ctx context.Context, deliveryID string) ([]Attempt, error)
	// SubjectDeliveries returns up to limit deliveries about subject, newest first.
	SubjectDeliveries(ctx context.Context, subject string, limit int) ([]*Delivery, error)
	// CustomerState says whether customer id exists or was erased.
	CustomerState(ctx context.Context, id fidelis.CustomerID) (CustomerState, error)
}

// Store runs recipient transactions.
type Store interface {
	audit.Recorder
	// Write runs fn in a read-write transaction; an error from fn rolls it back.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}
