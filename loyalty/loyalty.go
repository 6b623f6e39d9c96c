// Package loyalty is the loyalty engine: programmes with versioned terms (L-1, L-2), members
// who join by accepting one specific version and never by consenting to marketing (C-3), and
// the points ledger (L-6, L-7): append-only, balanced double-entry transactions between
// accounts, lots consumed first-in first-out, idempotent external operations, and a verifier
// that re-derives every balance. It knows nothing of HTTP or SQL.
package loyalty

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// Text is a text a member or operator reads, in French and English (fidelis.Text).
type Text = fidelis.Text

// Programme is a loyalty programme. PointValueCents values one point for the liability
// report (L-6); NoticeDays is the least time between publishing new terms and their effect
// (L-2).
type Programme struct {
	ID              string
	Name            string
	Currency        string
	PointValueCents int64
	NoticeDays      int
	CreatedAt       time.Time
}

// Mediator is the consumer mediator the terms name.
type Mediator struct {
	Name    string `json:"name"`
	Website string `json:"website"`
	Address string `json:"address"`
}

// Terms is one published version of a programme's terms (L-1). Hash is the SHA-256 of its
// canonical content: the acceptance proof names it, so the accepted text can be proved.
type Terms struct {
	Programme    string
	Version      int
	Text         Text
	Changes      Text
	Mediator     Mediator
	ExpiryMonths int // points expire this many months after they are earned; 0: never (L-4)
	EffectiveAt  time.Time
	PublishedAt  time.Time
	Hash         string
}

// Member is a customer's membership of a programme. Balance and Debt are stored for
// concurrency control (a redemption locks this row) and re-derived from the postings by
// Verify. Debt is what a refund could not take back because the points were already spent
// (see Refund).
type Member struct {
	Programme    string
	Customer     fidelis.CustomerID
	JoinedAt     time.Time
	LeftAt       *time.Time
	TermsVersion int // the latest version the member accepted
	Balance      int64
	Debt         int64
	Version      int64
}

// Active reports whether the member has not left.
func (m *Member) Active() bool { return m.LeftAt == nil }

// Acceptance is the proof that a member accepted one version of the terms (L-1).
type Acceptance struct {
	Programme    string
	Customer     fidelis.CustomerID
	TermsVersion int
	TermsHash    string
	AcceptedAt   time.Time
	Channel      string
}

// Account is a ledger account of a programme. The member and debt accounts exist per member.
type Account string

// Accounts.
const (
	AccountMember     Account = "member"     // the member's points
	AccountDebt       Account = "debt"       // points a member owes after a refund of spent points (negative)
	AccountIssuance   Account = "issuance"   // points issued (earned) come from here
	AccountRedemption Account = "redemption" // points redeemed go here
	AccountExpiry     Account = "expiry"     // points expired go here
	AccountAdjustment Account = "adjustment" // manual corrections
)

// Posting is one line of a transaction: an amount (credit positive, debit negative) on an
// account. Member postings name the lot they create or consume.
type Posting struct {
	Account  Account
	Customer fidelis.CustomerID // member and debt accounts only
	Amount   int64
	Lot      string
}

// Name renders the account as "member:cus_..." or "issuance".
func (p Posting) Name() string {
	if p.Customer != "" {
		return string(p.Account) + ":" + string(p.Customer)
	}
	return string(p.Account)
}

// Kind says what a transaction did.
type Kind string

// Transaction kinds.
const (
	KindEarn    Kind = "earn"
	KindRedeem  Kind = "redeem"
	KindReverse Kind = "reverse" // points taken back by a refund (L-5)
	KindExpire  Kind = "expire"
	KindAdjust  Kind = "adjust"
)

// Transaction is one balanced, append-only movement of points (L-6). It cites the rule and
// terms version that produced it and says why in French and English (L-3).
type Transaction struct {
	ID           string
	Programme    string
	Customer     fidelis.CustomerID
	Kind         Kind
	At           time.Time
	RuleID       string
	RuleVersion  int
	TermsVersion int
	Reason       Text
	Reference    string // the order, refund or original transaction it belongs to
	Postings     []Posting
}

// MemberDelta is the change of the member's points account.
func (t *Transaction) MemberDelta() int64 {
	var n int64
	for _, p := range t.Postings {
		if p.Account == AccountMember {
			n += p.Amount
		}
	}
	return n
}

// Lot is a quantity of points earned together; lots are consumed and expire first-in
// first-out (L-4).
type Lot struct {
	ID         string
	Programme  string
	Customer   fidelis.CustomerID
	TxID       string
	EarnedAt   time.Time
	ExpiresAt  *time.Time
	Points     int64
	Remaining  int64
	NotifiedAt *time.Time
}

// Idempotency records the first result of an external operation under a key (L-7).
type Idempotency struct {
	Scope       string // the caller (actor) the key belongs to
	Key         string
	RequestHash string
	Programme   string
	Result      string // the ID of what the operation produced
	CreatedAt   time.Time
}

// Event is an outbox event (DESIGN invariant 7): IDs, point amounts and dates only.
type Event struct {
	ID      string
	At      time.Time
	Type    string
	Subject string
	Data    map[string]any
}

// Tx is the storage a loyalty operation needs inside one transaction. Methods return
// ENOTFOUND for a missing row and ECONFLICT for a duplicate key.
type Tx interface {
	audit.Appender
	RewardsTx // tiers, rewards, reservations, referral (rewards_tx.go)
	BatchTx   // a till batch's chunk in few statements (batch_tx.go)

	InsertProgramme(ctx context.Context, p *Programme) error
	GetProgramme(ctx context.Context, id string) (*Programme, error)
	ListProgrammes(ctx context.Context) ([]*Programme, error)
	InsertTerms(ctx context.Context, t *Terms) error
	// ListTerms returns the published versions, oldest first.
	ListTerms(ctx context.Context, programme string) ([]*Terms, error)

	// LoyaltyCustomerExists reports whether a customer record exists (not erased).
	LoyaltyCustomerExists(ctx context.Context, id fidelis.CustomerID) (bool, error)
	InsertMember(ctx context.Context, m *Member) error
	// GetMember returns a membership; with lock, the row stays locked until the end of the
	// transaction (SELECT ... FOR UPDATE on PostgreSQL; SQLite has a single writer).
	GetMember(ctx context.Context, programme string, customer fidelis.CustomerID, lock bool) (*Member, error)
	// UpdateMember stores m if the stored version is m.Version-1; EPRECONDITION otherwise.
	UpdateMember(ctx context.Context, m *Member) error
	// ListMembers returns members with customer IDs above after, in ID order.
	ListMembers(ctx context.Context, programme string, after fidelis.CustomerID, limit int) ([]*Member, error)
	// MembershipsOf returns a customer's memberships, by programme ID.
	MembershipsOf(ctx context.Context, customer fidelis.CustomerID) ([]*Member, error)
	InsertAcceptance(ctx context.Context, a *Acceptance) error
	// Acceptances returns a member's acceptances, oldest first.
	Acceptances(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*Acceptance, error)

	// InsertLedgerTx appends a transaction and its postings.
	InsertLedgerTx(ctx context.Context, t *Transaction) error
	GetLedgerTx(ctx context.Context, id string) (*Transaction, error)
	// LedgerTxs returns a programme's transactions with IDs above after, in ID order.
	LedgerTxs(ctx context.Context, programme, after string, limit int) ([]*Transaction, error)
	// MemberHistory returns a customer's transactions with IDs below before ("" for the
	// newest), newest first.
	MemberHistory(ctx context.Context, customer fidelis.CustomerID, before string, limit int) ([]*Transaction, error)
	// MemberPoints returns the sum of member-account postings of a programme's
	// transactions at or before at (the outstanding points, L-6).
	MemberPoints(ctx context.Context, programme string, at time.Time) (int64, error)

	InsertLot(ctx context.Context, l *Lot) error
	// UpdateLot stores a lot's remaining points and notice time.
	UpdateLot(ctx context.Context, l *Lot) error
	// OpenLots returns a member's lots with points remaining, oldest first (FIFO).
	OpenLots(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*Lot, error)
	// Lots returns a programme's lots with IDs above after, in ID order.
	Lots(ctx context.Context, programme, after string, limit int) ([]*Lot, error)
	// ExpiringLots returns lots with points remaining that expire at or before until,
	// oldest expiry first.
	ExpiringLots(ctx context.Context, until time.Time, limit int) ([]*Lot, error)
	// UnnotifiedLots is ExpiringLots restricted to lots whose expiry notice was not sent,
	// locked for the transaction (on PostgreSQL, rows another transaction holds are
	// skipped, so two nodes never notify the same lot). Call it in a write transaction.
	UnnotifiedLots(ctx context.Context, until time.Time, limit int) ([]*Lot, error)

	// ClaimLoyaltyKey stores k unless a row with its scope and key exists; then it
	// returns that row (and stores nothing).
	ClaimLoyaltyKey(ctx context.Context, k *Idempotency) (*Idempotency, error)
	// LoyaltyKeys returns a programme's idempotency rows.
	LoyaltyKeys(ctx context.Context, programme string) ([]*Idempotency, error)

	// AppendLoyaltyEvent writes an event to the outbox.
	AppendLoyaltyEvent(ctx context.Context, e *Event) error

	// Rules and orders.
	InsertRule(ctx context.Context, r *Rule) error
	// Rules returns every version of a programme's rules, by ID then version.
	Rules(ctx context.Context, programme string) ([]*Rule, error)
	GetRule(ctx context.Context, programme, id string, version int) (*Rule, error)
	InsertOrder(ctx context.Context, o *Order) error
	GetOrder(ctx context.Context, id string) (*Order, error)
	// UpdateOrder stores an order's refunded quantities.
	UpdateOrder(ctx context.Context, o *Order) error
	// TxsByReference returns the transactions citing reference, oldest first.
	TxsByReference(ctx context.Context, programme, reference string) ([]*Transaction, error)
}

// Store runs loyalty transactions.
type Store interface {
	audit.Recorder
	// Write runs fn in a read-write transaction; an error from fn rolls it back.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
	// Snapshot runs fn in a read-only transaction that sees one consistent state
	// throughout (Verify, reports).
	Snapshot(ctx context.Context, fn func(Tx) error) error
}
