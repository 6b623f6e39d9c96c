package fidelis

import "time"

// Event is a domain event, written to the outbox in the same transaction as the change it
// reports (DESIGN invariant 7) and delivered later to webhooks. It carries IDs, types and
// field names only, never personal values (D-5).
type Event struct {
	ID      string
	At      time.Time
	Type    string
	Subject string
	Fields  []Field
	// Attrs are non-personal attributes a receiver needs to act: a purpose, a channel, a
	// related ID. Never a personal value.
	Attrs map[string]string
}
