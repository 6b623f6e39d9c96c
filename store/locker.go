package store

import (
	"github.com/pressly/goose/v3/lock"
)

// migrationLockID is the PostgreSQL advisory lock key that serialises migrations.
const migrationLockID = 0x66696465 // "fide"

func newPostgresLocker() lock.SessionLocker {
	l, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID))
	if err != nil {
		panic(err) // only fails on invalid options, which are constants here
	}
	return l
}
