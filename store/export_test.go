package store

// Unexported parts the external tests (package store_test) check.

// KeysOfSQL is the PostgreSQL text of LoyaltyKeysOf's statement for n keys.
func KeysOfSQL(db *DB, n int) string { return db.q(keysOfSQL(n)) }

// LockMembersSQL is the PostgreSQL text of LockMembers's statement for n customers.
func LockMembersSQL(db *DB, n int) string { return db.q(lockMembersSQL(n, true, true)) }
