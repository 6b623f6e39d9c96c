package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/proof"
)

// The proof export (P-4) reads the audit log, its checkpoints and the consent ledger in
// pages, each page in its own read transaction, so that an export of a large installation
// neither holds one long transaction nor loads a table in memory.

var _ proof.Store = (*DB)(nil)

// CheckpointBefore implements proof.Store: the newest checkpoint made before t, or nil.
func (db *DB) CheckpointBefore(ctx context.Context, t time.Time) (cp *audit.Checkpoint, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) error {
		cp, err = scanCheckpoint(tx.queryRow(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE created_at < ? ORDER BY tree_size DESC LIMIT 1`, micros(t)))
		if errors.Is(err, sql.ErrNoRows) {
			cp, err = nil, nil // no checkpoint before t: not an error
		}
		return err
	})
	return cp, err
}

// CheckpointsPage implements proof.Store: up to limit checkpoints of sizes in (after, upTo],
// by size.
func (db *DB) CheckpointsPage(ctx context.Context, after, upTo int64, limit int) ([]audit.Checkpoint, error) {
	var out []audit.Checkpoint
	err := db.ReadTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints WHERE tree_size > ? AND tree_size <= ? ORDER BY tree_size LIMIT ?`, after, upTo, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			cp, err := scanCheckpoint(rows)
			if err != nil {
				return err
			}
			out = append(out, *cp)
		}
		return rows.Err()
	})
	return out, err
}

// LeavesPage implements proof.Store: up to limit sealed entries with leaf indexes in
// [from, to), by leaf index.
func (db *DB) LeavesPage(ctx context.Context, from, to int64, limit int) (out []audit.Entry, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) (err error) {
		out, err = tx.auditEntries(ctx, `SELECT `+auditColumns+` FROM audit_entries WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index LIMIT ?`, from, to, limit)
		return err
	})
	return out, err
}

// ConsentNotices implements proof.Store: every version of every consent notice, by
// purpose, newest version first.
func (db *DB) ConsentNotices(ctx context.Context) (out []*consent.Notice, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) (err error) { out, err = tx.Notices(ctx, ""); return err })
	return out, err
}

// ConsentRecordsPage implements proof.Store: up to limit records of the whole ledger, every
// customer, with IDs above after ("" for the first page) and recorded at or after since
// (zero: all), by ID (which orders them by recording time).
func (db *DB) ConsentRecordsPage(ctx context.Context, after string, since time.Time, limit int) (out []*consent.Record, err error) {
	var from int64 = -1 << 62 // before any time: the whole ledger
	if !since.IsZero() {
		from = micros(since)
	}
	err = db.ReadTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT `+consentColumns+` FROM consents WHERE id > ? AND recorded_at >= ? ORDER BY id LIMIT ?`, after, from, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		out, err = scanConsents(rows)
		return err
	})
	return out, err
}
