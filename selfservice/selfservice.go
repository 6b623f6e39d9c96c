// Package selfservice is the customer's side of Fidelis: signing in to the portal with a
// single-use link sent by e-mail, the customer session, and what a signed-in customer does
// with their own data: read it, download it, give or withdraw consents (C-2),
// make and follow rights requests, read the privacy notice and their
// loyalty account with the consumer mediator (L-4, X-2).
//
// The customer acts as themself: an actor of kind customer whose ID is their customer ID
// and whose role is fidelis.RoleSubject. Every operation goes through the same services,
// access decision and audit log as staff do (P-1); this package only binds each one to the
// signed-in customer's own record. It knows nothing of HTTP or SQL.
package selfservice

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/mailer"
)

// Audit actions recorded by this package. Entries name the customer by ID only.
const (
	ActLink     = "portal.link"     // a sign-in link was made for the customer
	ActSignIn   = "portal.sign_in"  // a link was used (or refused: outcome denied)
	ActSignOut  = "portal.sign_out" // the customer signed out
	ActSendMail = "message.send"    // a message was sent to the customer (reason kind:Message-ID)
	ActivityKey = "portal_sign_in"  // the kind passed to Activity.Touch
	sysActorID  = "portal"          // the system actor that looks addresses up and sends
	purposeDP   = fidelis.PurposeDataProtection
)

// Link is a sign-in link as stored: the SHA-256 of its token, never the token itself.
type Link struct {
	TokenHash  []byte
	CustomerID fidelis.CustomerID
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// Session is a customer signed in to the portal. Its token is held by the browser only; the
// store keeps its hash.
type Session struct {
	CustomerID fidelis.CustomerID
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
}

// Actor is the customer acting on their own data (P-1): kind customer, their ID, role
// subject.
func (s *Session) Actor() fidelis.Actor {
	return fidelis.Actor{Kind: fidelis.ActorCustomer, ID: string(s.CustomerID), Role: fidelis.RoleSubject}
}

// Tx is the storage sign-in needs inside one transaction. Methods return ENOTFOUND for a
// missing row.
type Tx interface {
	audit.Appender
	// InsertPortalLink stores a new link; ECONFLICT if its hash exists.
	InsertPortalLink(ctx context.Context, l *Link) error
	// PortalLink returns the link with this token hash, whether used or expired.
	PortalLink(ctx context.Context, tokenHash []byte) (*Link, error)
	// UsePortalLink marks the link used at at, unless it was used already: it reports
	// whether this call used it (two concurrent uses: exactly one gets true).
	UsePortalLink(ctx context.Context, tokenHash []byte, at time.Time) (bool, error)
	// CountPortalLinks counts the links made for a customer at or after since.
	CountPortalLinks(ctx context.Context, id fidelis.CustomerID, since time.Time) (int, error)
	// InsertPortalSession stores a session under the hash of its token.
	InsertPortalSession(ctx context.Context, idHash []byte, s *Session) error
	// PortalSession returns the session if it has not expired at now and its customer
	// still exists; ENOTFOUND otherwise.
	PortalSession(ctx context.Context, idHash []byte, now time.Time) (*Session, error)
	// DeletePortalSession removes a session (no error if there is none).
	DeletePortalSession(ctx context.Context, idHash []byte) error
	// PurgePortal deletes links and sessions that expired before before; it returns how
	// many rows went.
	PurgePortal(ctx context.Context, before time.Time) (int, error)
}

// Store runs sign-in transactions.
type Store interface {
	audit.Recorder
	Write(ctx context.Context, fn func(Tx) error) error
	Read(ctx context.Context, fn func(Tx) error) error
}

// Sender sends a message to a customer and returns its Message-ID (mailer.Sender).
type Sender interface {
	Send(ctx context.Context, m mailer.Message) (string, error)
}

// Activity is told when a customer signs in, so that retention can date their last
// activity (T-3). Errors are logged, never shown to the customer.
type Activity interface {
	Touch(ctx context.Context, id fidelis.CustomerID, kind string, at time.Time) error
}
