package retention

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Run is the record of one retention run: counts only, per rule and action, with no
// customer ID (T-7: statistics kept beyond retention are anonymous aggregates).
type Run struct {
	ID       string
	At       time.Time
	By       string
	Scanned  int
	Counts   map[Action]int
	ByRule   map[RuleID]map[Action]int
	Duration time.Duration
}

// HoldFilter selects legal holds.
type HoldFilter struct {
	CustomerID fidelis.CustomerID // "" for every customer
	ActiveOnly bool
}

// Tx is the storage retention needs inside one transaction. Errors are fidelis errors:
// ENOTFOUND for a missing customer or hold, ECONFLICT for a duplicate.
type Tx interface {
	audit.Appender
	// CustomerExists returns ENOTFOUND if the customer never existed or was erased.
	CustomerExists(ctx context.Context, id fidelis.CustomerID) error
	// PutRetentionActivity keeps the later of the stored time and at for the customer and
	// kind; RetentionActivity returns the stored times by kind.
	PutRetentionActivity(ctx context.Context, id fidelis.CustomerID, kind Kind, at time.Time) error
	RetentionActivity(ctx context.Context, id fidelis.CustomerID) (map[Kind]time.Time, error)
	// RetentionOverrides returns the operator's overrides in force, one per rule at most;
	// PutRetentionOverride replaces a rule's override.
	RetentionOverrides(ctx context.Context) ([]Override, error)
	PutRetentionOverride(ctx context.Context, o *Override) error
	// InsertRetentionHold stores a new hold; LiftRetentionHold stores the lift of an active
	// hold (EPRECONDITION if it was lifted already); RetentionHold returns one (ENOTFOUND);
	// RetentionHolds lists holds by placement time, newest first.
	InsertRetentionHold(ctx context.Context, h *Hold) error
	LiftRetentionHold(ctx context.Context, h *Hold) error
	RetentionHold(ctx context.Context, id string) (*Hold, error)
	RetentionHolds(ctx context.Context, f HoldFilter, limit int) ([]*Hold, error)
	// RetentionSubjects returns up to limit subjects with IDs after after ("" for the
	// first), by ID; RetentionSubject returns one (ENOTFOUND if erased or unknown). A
	// subject's activity includes the loyalty ledger's orders and redemptions, its holds
	// are the active ones and its notices the latest per rule.
	RetentionSubjects(ctx context.Context, after fidelis.CustomerID, limit int) ([]*Subject, error)
	RetentionSubject(ctx context.Context, id fidelis.CustomerID) (*Subject, error)
	// PutRetentionNotice stores the notice of a rule for a customer, replacing an earlier one.
	PutRetentionNotice(ctx context.Context, n *NoticeRecord) error
	// LockSubjectState and PutSubjectState read for update and store the privacy state the
	// lawfulness decision reads (Archived, T-7).
	LockSubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error)
	PutSubjectState(ctx context.Context, id fidelis.CustomerID, st *privacy.SubjectState) error
	// AppendEvent writes an event to the outbox.
	AppendEvent(ctx context.Context, e *fidelis.Event) error
	// InsertRetentionRun stores a run's counts; RetentionRuns lists the latest, newest first.
	InsertRetentionRun(ctx context.Context, r *Run) error
	RetentionRuns(ctx context.Context, limit int) ([]*Run, error)
}

// Store runs retention transactions.
type Store interface {
	audit.Recorder
	Write(ctx context.Context, fn func(Tx) error) error
	Read(ctx context.Context, fn func(Tx) error) error
}

// Eraser erases a customer whose retention ended, by crypto-shredding: the record,
// its key and indexes go; accounting records stay, pseudonymised (T-5). It returns the
// erasure receipt's ID, or ENOTFOUND if the customer is already gone.
type Eraser interface {
	EraseExpired(ctx context.Context, id fidelis.CustomerID, rule RuleID) (receipt string, err error)
}

// Notifier sends a customer the renewal request (T-1) or the warning (T-3) of a rule, in
// their language, announcing when the rule acts. It returns NoticeSent with the message's
// ID, or NoticeNoAddress when the customer has no e-mail address; an error when the mail
// could not be sent (the next run tries again).
type Notifier interface {
	Notify(ctx context.Context, id fidelis.CustomerID, n Notice, rule RuleID, actAt time.Time) (NoticeResult, string, error)
}

// Locker coordinates retention runs between processes: two nodes never run at once.
type Locker interface {
	// TryLock takes the named lock if it is free; ok is false when another holder has it.
	TryLock(ctx context.Context, name string) (unlock func(), ok bool, err error)
}
