package store

import (
	"context"
)

// Unexported parts the external tests (package store_test) check.

// KeysOfSQL is the PostgreSQL text of LoyaltyKeysOf's statement for n keys.
func KeysOfSQL(db *DB, n int) string { return db.q(keysOfSQL(n)) }

// LockMembersSQL is the PostgreSQL text of LockMembers's statement for n customers.
func LockMembersSQL(db *DB, n int) string { return db.q(lockMembersSQL(n, true, true)) }

// QueryRowInTx runs query on t.
func QueryRowInTx(ctx context.Context, t *Tx, query string, args ...any) interface{ Scan(...any) error } {
	return t.queryRow(ctx, query, args...)
}

// ExecInTx runs query on t.
func ExecInTx(ctx context.Context, t *Tx, query string, args ...any) error {
	_, err := t.exec(ctx, query, args...)
	return err
}
