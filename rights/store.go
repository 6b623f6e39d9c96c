package rights

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Event is a domain event about a case, written to the outbox in the same transaction as
// the change (DESIGN invariant 7). IDs and codes only.
type Event struct {
	ID         string
	At         time.Time
	Type       string // rights_request.received, .started, .identity_verified, .extended, .refused, .completed
	CaseID     string
	CustomerID fidelis.CustomerID
	Kind       Kind
	Status     Status
}

// Filter selects cases in a list.
type Filter struct {
	Status     []Status // any of these; empty: all
	Kind       Kind     // "" for all
	DueBefore  time.Time
	CustomerID fidelis.CustomerID // "" for all
}

// Cursor is the position after which a list page starts: cases sort by due date, then ID.
type Cursor struct {
	Due time.Time
	ID  string
}

// Tx is the storage a case operation needs inside one transaction.
type Tx interface {
	audit.Appender
	// InsertRightsRequest stores a new case.
	InsertRightsRequest(ctx context.Context, c *Case) error
	// UpdateRightsRequest replaces a case if its stored version is c.Version-1;
	// EPRECONDITION otherwise.
	UpdateRightsRequest(ctx context.Context, c *Case) error
	// GetRightsRequest returns a case; ENOTFOUND if there is none.
	GetRightsRequest(ctx context.Context, id string) (*Case, error)
	// ListRightsRequests returns up to limit cases matching f, by due date then ID, after
	// the cursor (nil for the first page).
	ListRightsRequests(ctx context.Context, f Filter, after *Cursor, limit int) ([]*Case, error)
	// HasCustomer reports whether a customer record exists (not erased).
	HasCustomer(ctx context.Context, id fidelis.CustomerID) (bool, error)
	// AppendRightsEvent writes an event to the outbox.
	AppendRightsEvent(ctx context.Context, e *Event) error
}

// Store runs case transactions.
type Store interface {
	audit.Recorder
	// Write runs fn in a read-write transaction; an error from fn rolls it back.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}
