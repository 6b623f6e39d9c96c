package loyalty

import (
	"context"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// BatchTx is the storage a till batch writes a chunk's rows through, a few statements per
// table instead of several per order (part of Tx). Methods return ECONFLICT for a
// duplicate key.
type BatchTx interface {
	// LockMembers returns the memberships of customers in programme, by customer, locked as
	// GetMember with lock locks them and taken in customer ID order, so that transactions
	// locking overlapping sets never deadlock. Customers who are not members are absent.
	LockMembers(ctx context.Context, programme string, customers []fidelis.CustomerID) (map[fidelis.CustomerID]*Member, error)
	// LoyaltyKeysOf returns the idempotency rows of scope among keys, by key.
	LoyaltyKeysOf(ctx context.Context, scope string, keys []string) (map[string]*Idempotency, error)
	// InsertLoyaltyKeys stores new idempotency rows; a key already stored is ECONFLICT.
	InsertLoyaltyKeys(ctx context.Context, ks []*Idempotency) error
	InsertOrders(ctx context.Context, os []*Order) error
	// InsertLedgerTxs appends transactions and their postings.
	InsertLedgerTxs(ctx context.Context, ts []*Transaction) error
	InsertLots(ctx context.Context, ls []*Lot) error
	// UpdateBalances stores the balance, debt and version of each member whose stored
	// version is From; EPRECONDITION if one's is not (the caller then rolls back).
	UpdateBalances(ctx context.Context, us []BalanceUpdate) error
	// InsertBatch writes a chunk's rows: keys, orders, ledger transactions with their
	// postings, lots, balances (EPRECONDITION as UpdateBalances), audit entries and events,
	// all or nothing (the caller rolls back on error).
	InsertBatch(ctx context.Context, b *BatchRows) error
	// OrderEnvStamp counts, in one statement, what placing an order reads of a programme
	// (orderEnv): whether it exists, its terms versions, its rule versions, and its tier
	// schedules and referral policies together.
	OrderEnvStamp(ctx context.Context, programme string) (EnvStamp, error)
	// ReadChunk reads together what a chunk's transaction reads before it writes: each
	// programme's stamp (as OrderEnvStamp), the members of each programme, locked as
	// LockMembers locks them, programme after programme in the order of r.Programmes, and
	// the idempotency rows among each scope's keys (as LoyaltyKeysOf). On PostgreSQL they
	// travel in one round trip, with the transaction's BEGIN.
	ReadChunk(ctx context.Context, r ChunkReads) (*ChunkState, error)
}

// ChunkReads is what ReadChunk reads.
type ChunkReads struct {
	Programmes []string
	Members    map[string][]fidelis.CustomerID // by programme, in customer ID order
	Keys       map[string][]string             // by scope
}

// ChunkState is what ReadChunk read. Customers who are not members, and keys not used
// before, are absent.
type ChunkState struct {
	Stamps  map[string]EnvStamp
	Members map[string]map[fidelis.CustomerID]*Member
	Keys    map[string]map[string]*Idempotency
}

// BatchRows are the rows of a chunk of orders computed in memory (placeBulk).
type BatchRows struct {
	Keys     []*Idempotency
	Orders   []*Order
	Txs      []*Transaction
	Lots     []*Lot
	Balances []BalanceUpdate
	Audit    []audit.Entry
	Events   []*Event
}

// EnvStamp counts the rows an orderEnv is read from. All of them are insert-only
// (programmes, terms, rules, tier schedules and referral policies are published as new
// versions, never changed nor deleted), so two reads with equal stamps read the same rows.
type EnvStamp struct {
	Programme bool
	Terms     int
	Rules     int
	Policies  int // tier schedules and referral policies
}

// BalanceUpdate is a member's new balance, debt and version, stored only over version From.
type BalanceUpdate struct {
	Member *Member
	From   int64
}
