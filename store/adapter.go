package store

import (
	"context"
	"database/sql"
)

// Adapter adapts DB to the Store interface a domain package declares over its own
// transaction interface T, which *Tx implements: Write and Read run fn on *Tx seen as T,
// RecordAudit group-commits audit entries. Each domain names its instantiation (Customers,
// Consents, ...) and asserts at compile time that *Tx implements T and the adapter its Store.
type Adapter[T any] struct{ DB *DB }

// Write runs fn in a read-write transaction; an error from fn rolls it back.
func (a Adapter[T]) Write(ctx context.Context, fn func(T) error) error {
	return a.DB.WriteTx(ctx, func(tx *Tx) error { return fn(any(tx).(T)) })
}

// Read runs fn in a read-only transaction.
func (a Adapter[T]) Read(ctx context.Context, fn func(T) error) error {
	return a.DB.ReadTx(ctx, func(tx *Tx) error { return fn(any(tx).(T)) })
}

// RecordAudit implements audit.Recorder.
func (a Adapter[T]) RecordAudit(ctx context.Context, entries ...auditEntry) error {
	return a.DB.RecordAudit(ctx, entries...)
}

// queryAll runs query in t and turns every row into a T with scan: the loop every list
// read of the adapters shares.
func queryAll[T any](ctx context.Context, t *Tx, scan func(*sql.Rows) (T, error), query string, args ...any) ([]T, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
