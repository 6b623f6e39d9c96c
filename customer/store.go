package customer

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/vault"
)

// Record is a customer as stored: IDs, timestamps and ciphertext only (D-5).
type Record struct {
	ID         fidelis.CustomerID
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Key        vault.WrappedDEK
	Sealed     map[fidelis.Field][]byte // one ciphertext per field, nil when empty
	EmailIndex []byte                   // blind index of the normalised e-mail, nil when none
	PhoneIndex []byte                   // blind index of the normalised phone, nil when none
}

// Change is one entry of a customer's history of changes: who changed which fields, when,
// under which purpose, and the previous values sealed under the customer's key.
type Change struct {
	CustomerID fidelis.CustomerID
	Version    int // the version this change produced
	At         time.Time
	Actor      string
	Purpose    fidelis.Purpose
	Fields     []fidelis.Field
	Previous   []byte // sealed JSON object field -> previous value
}

// Erasure is the receipt of an erasure: what was destroyed, when, by whom. It holds
// the customer's pseudonymous ID only.
type Erasure struct {
	ID           string             `json:"receipt_id"`
	CustomerID   fidelis.CustomerID `json:"customer_id"`
	ErasedAt     time.Time          `json:"erased_at"`
	Actor        string             `json:"actor"`
	Purpose      fidelis.Purpose    `json:"purpose"`
	DataKey      string             `json:"data_key"`      // "destroyed"
	Fields       int                `json:"fields"`        // sealed fields deleted
	HistoryRows  int                `json:"history_rows"`  // history entries deleted
	BlindIndexes int                `json:"blind_indexes"` // blind indexes deleted
	KeptRecords  []string           `json:"kept_records"`  // records kept by law, pseudonymised
	Notice       string             `json:"notice"`        // what the receipt means
	// EffectiveAt is when the erasure is complete everywhere: ErasedAt plus the backup
	// retention period, when the last backup holding the wrapped key expires.
	EffectiveAt         time.Time `json:"effective_erasure_at"`
	BackupRetentionDays int       `json:"backup_retention_days"`
	// Suppressed lists the kinds ("email", "phone") whose keyed hashes went on the
	// suppression list.
	Suppressed []string `json:"suppressed"`
	NoticeFR   string   `json:"notice_fr"` // Notice in French
}

// Deleted counts what DeleteCustomer removed.
type Deleted struct {
	Fields       int
	HistoryRows  int
	BlindIndexes int
}

// Event is a domain event written to the outbox (fidelis.Event).
type Event = fidelis.Event

// Tx is the storage a customer operation needs inside one transaction.
type Tx interface {
	audit.Appender
	SuppressionTx

	// InsertCustomer stores a new record and its wrapped key.
	InsertCustomer(ctx context.Context, r *Record) error
	// UpdateCustomer replaces a record's sealed fields and indexes if its stored version is
	// r.Version-1; EPRECONDITION otherwise.
	UpdateCustomer(ctx context.Context, r *Record) error
	// GetCustomer returns a record; ENOTFOUND if it never existed or was erased.
	GetCustomer(ctx context.Context, id fidelis.CustomerID) (*Record, error)
	// ListCustomers returns up to limit records with IDs below before ("" for the newest),
	// newest first.
	ListCustomers(ctx context.Context, before fidelis.CustomerID, limit int) ([]*Record, error)
	// FindByEmailIndex and FindByPhoneIndex return records by blind index, newest first.
	FindByEmailIndex(ctx context.Context, idx []byte, limit int) ([]*Record, error)
	FindByPhoneIndex(ctx context.Context, idx []byte, limit int) ([]*Record, error)
	// InsertChange appends to a customer's history.
	InsertChange(ctx context.Context, c *Change) error
	// Changes returns a customer's history, oldest first.
	Changes(ctx context.Context, id fidelis.CustomerID) ([]*Change, error)
	// DeleteCustomer deletes the wrapped key, the record with its blind indexes and the
	// history of a customer (crypto-shredding). ENOTFOUND if there is none.
	DeleteCustomer(ctx context.Context, id fidelis.CustomerID) (Deleted, error)
	// InsertErasure stores an erasure receipt.
	InsertErasure(ctx context.Context, e *Erasure) error
	// AppendEvent writes an event to the outbox.
	AppendEvent(ctx context.Context, e *Event) error
	// SubjectState returns a customer's privacy state (empty when none is stored) and
	// SubjectStates those of several customers (absent when none is stored): what the
	// lawfulness decision reads (P-3, R-10, R-12, R-13).
	SubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error)
	SubjectStates(ctx context.Context, ids []fidelis.CustomerID) (map[fidelis.CustomerID]*privacy.SubjectState, error)
	// AccessLog returns audit entries about subject with IDs below before (0 for the
	// newest), newest first, with what an access log shows: not their authentication code
	// nor their place in the Merkle log.
	AccessLog(ctx context.Context, subject string, before int64, limit int) ([]audit.Entry, error)
}

// Store runs customer transactions.
type Store interface {
	audit.Recorder
	// Write runs fn in a read-write transaction; an error from fn rolls it back.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}
