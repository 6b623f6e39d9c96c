package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/audit/merkle"
)

type auditEntry = audit.Entry

var (
	_ audit.Recorder    = (*DB)(nil)
	_ audit.SealStore   = (*DB)(nil)
	_ audit.VerifyStore = (*DB)(nil)
	_ audit.SealTx      = (*Tx)(nil)
)

// RecordAudit implements audit.Recorder: entries are durable when it returns. On SQLite
// they go to the process's audit journal (auditjournal.go). Otherwise concurrent callers
// are committed together (group commit): while one transaction commits, the next callers
// queue and share the following one. Each caller still waits for its own commit, so no
// read is answered before its audit entry is stored.
func (db *DB) RecordAudit(ctx context.Context, entries ...audit.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	if db.journal != nil {
		return db.journal.append(entries)
	}
	db.auditOnce.Do(db.startAuditWriter)
	req := auditRequest{entries: entries, done: make(chan error, 1)}
	select {
	case db.auditQ <- req:
	case <-db.closing:
		return errClosed
	case <-ctx.Done():
		return translate(ctx.Err())
	}
	// Once queued, the entries will be written even if ctx ends: wait for the outcome.
	return <-req.done
}

type auditRequest struct {
	entries []audit.Entry
	done    chan error
}

// auditLinger is how long a group commit waits for more callers when the previous one was
// shared by several: measured on the SQLite lookup benchmark, 300 µs served 15 % more reads
// than none, 1 ms about as many, 2 ms fewer (docs/benchmarks.md).
const auditLinger = 300 * time.Microsecond

// maxAuditBatch bounds one group commit.
const maxAuditBatch = 512

func (db *DB) startAuditWriter() {
	db.auditQ = make(chan auditRequest)
	db.auditDone = make(chan struct{})
	go db.auditWriter()
}

func (db *DB) auditWriter() {
	defer close(db.auditDone)
	shared := false
	for {
		var first auditRequest
		select {
		case first = <-db.auditQ:
		case <-db.closing:
			return
		}
		batch := []auditRequest{first}
		n := len(first.entries)
		// Under concurrency (the previous commit was shared), wait a little for more
		// callers: every commit resets the page cache of SQLite's readers and rewrites
		// the same pages to the WAL, so fewer, larger commits serve more reads. A lone
		// caller never waits.
		var linger <-chan time.Time
		if shared {
			linger = time.After(auditLinger)
		}
	drain:
		for n < maxAuditBatch {
			var r auditRequest
			if linger == nil {
				select {
				case r = <-db.auditQ:
				default:
					break drain
				}
			} else {
				select {
				case r = <-db.auditQ:
				case <-linger:
					break drain
				}
			}
			batch = append(batch, r)
			n += len(r.entries)
		}
		shared = len(batch) > 1
		err := db.WriteTx(context.Background(), func(tx *Tx) error {
			for _, r := range batch {
				if err := tx.AppendAudit(context.Background(), r.entries...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil && len(batch) > 1 {
			// One bad request must not fail the others: retry them one by one.
			for _, r := range batch {
				r.done <- db.WriteTx(context.Background(), func(tx *Tx) error { return tx.AppendAudit(context.Background(), r.entries...) })
			}
			continue
		}
		for _, r := range batch {
			r.done <- err
		}
	}
}

// SyncAudit returns once every audit entry this process recorded before the call is in
// the audit_entries table, for whoever reads that table directly (tests, tools).
func (db *DB) SyncAudit(ctx context.Context) error { return db.syncAuditJournal(ctx) }

// syncAuditJournal returns once every entry this process journaled before the call is in
// audit_entries (no-op without a journal).
func (db *DB) syncAuditJournal(ctx context.Context) error {
	if db.journal == nil {
		return nil
	}
	return db.journal.sync(ctx)
}

// AppendAudit implements audit.Appender. Entries go in multi-row INSERTs: on SQLite the
// per-statement cost (database/sql, VDBE set-up) is a large part of writing one small row,
// and a read writes one entry, so a group commit of many reads pays it once per chunk.
func (t *Tx) AppendAudit(ctx context.Context, entries ...audit.Entry) error {
	for len(entries) > 0 {
		n := min(len(entries), auditInsertChunk)
		args := make([]any, 0, n*11)
		for i := range entries[:n] {
			args = auditArgs(args, &entries[i])
		}
		if _, err := t.exec(ctx, auditInsert(n), args...); err != nil {
			return fmt.Errorf("append audit entries: %w", err)
		}
		entries = entries[n:]
	}
	return nil
}

// auditInsertChunk bounds the rows of one INSERT (11 parameters each, far below both
// engines' parameter limits), and so the number of distinct prepared statements.
const auditInsertChunk = 32

// auditInserts holds the INSERT statement for 1..auditInsertChunk rows.
var auditInserts = func() (qs [auditInsertChunk + 1]string) {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	for n := 1; n <= auditInsertChunk; n++ {
		qs[n] = `INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac) VALUES ` + row + strings.Repeat(`, `+row, n-1)
	}
	return qs
}()

func auditInsert(n int) string { return auditInserts[n] }

const auditColumns = `id, uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac, leaf_index, leaf_hash`

func scanAudit(sc interface{ Scan(...any) error }) (audit.Entry, error) {
	var e audit.Entry
	var at int64
	var purpose, fields, outcome string
	var leaf sql.NullInt64
	if err := sc.Scan(&e.ID, &e.UID, &at, &e.Actor, &e.Action, &e.Subject, &purpose, &fields, &outcome, &e.Reason, &e.RequestID, &e.MAC, &leaf, &e.LeafHash); err != nil {
		return e, err
	}
	e.At, e.Purpose, e.Fields, e.Outcome = fromMicros(at), fidelis.Purpose(purpose), splitFields(fields), audit.Outcome(outcome)
	if leaf.Valid {
		e.LeafIndex = &leaf.Int64
	}
	return e, nil
}

func (t *Tx) auditEntries(ctx context.Context, query string, args ...any) ([]audit.Entry, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// AccessLog implements customer.Tx. It reads only what an access log shows (not the
// authentication code nor the Merkle leaf): an access export reads thousands of entries.
func (t *Tx) AccessLog(ctx context.Context, subject string, before int64, limit int) ([]audit.Entry, error) {
	if !t.inTx() { // a read: first take in the entries journaled so far (SQLite)
		if err := t.db.syncAuditJournal(ctx); err != nil {
			return nil, err
		}
	}
	const cols = `SELECT id, uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id FROM audit_entries WHERE subject = ? `
	q, args := cols+`ORDER BY id DESC LIMIT ?`, []any{subject, limit}
	if before > 0 {
		q, args = cols+`AND id < ? ORDER BY id DESC LIMIT ?`, []any{subject, before, limit}
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]audit.Entry, 0, min(limit, 1024))
	for rows.Next() {
		var e audit.Entry
		var at int64
		var purpose, fields, outcome string
		if err := rows.Scan(&e.ID, &e.UID, &at, &e.Actor, &e.Action, &e.Subject, &purpose, &fields, &outcome, &e.Reason, &e.RequestID); err != nil {
			return nil, err
		}
		e.At, e.Purpose, e.Fields, e.Outcome = fromMicros(at), fidelis.Purpose(purpose), splitFields(fields), audit.Outcome(outcome)
		out = append(out, e)
	}
	return out, rows.Err()
}

// sealLockID is the PostgreSQL advisory lock that makes one node at a time seal.
const sealLockID = 0x61756469 // "audi"

// SealTx implements audit.SealStore. SQLite's single writer already serialises sealing;
// on PostgreSQL a transaction-scoped advisory lock does.
func (db *DB) SealTx(ctx context.Context, fn func(audit.SealTx) error) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		if db.Dialect == Postgres {
			if _, err := tx.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, int64(sealLockID)); err != nil {
				return fmt.Errorf("seal lock: %w", err)
			}
		}
		return fn(tx)
	})
}

const checkpointColumns = `tree_size, root_hash, created_at, key_id, signature, frontier`

func scanCheckpoint(sc interface{ Scan(...any) error }) (*audit.Checkpoint, error) {
	cp := &audit.Checkpoint{}
	var root []byte
	var at int64
	if err := sc.Scan(&cp.Size, &root, &at, &cp.KeyID, &cp.Signature, &cp.Frontier); err != nil {
		return nil, err
	}
	h, err := merkle.HashFromBytes(root)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %d: %w", cp.Size, err)
	}
	cp.Root, cp.At = h, fromMicros(at)
	return cp, nil
}

// LatestCheckpoint implements audit.SealTx.
func (t *Tx) LatestCheckpoint(ctx context.Context) (*audit.Checkpoint, error) {
	cp, err := scanCheckpoint(t.queryRow(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY tree_size DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil // an empty log has no checkpoint: not an error
	}
	return cp, err
}

// UnsealedEntries implements audit.SealTx.
func (t *Tx) UnsealedEntries(ctx context.Context, limit int) ([]audit.Entry, error) {
	return t.auditEntries(ctx, `SELECT `+auditColumns+` FROM audit_entries WHERE leaf_index IS NULL ORDER BY id LIMIT ?`, limit)
}

// SetLeaves implements audit.SealTx, in multi-row UPDATEs for the same reason as
// AppendAudit. The UNIQUE constraint on leaf_index refuses a position given twice.
func (t *Tx) SetLeaves(ctx context.Context, leaves []audit.Leaf) error {
	if t.db.Dialect == Postgres {
		return t.setLeavesPG(ctx, leaves)
	}
	for len(leaves) > 0 {
		n := min(len(leaves), leafUpdateChunk)
		args := make([]any, 0, n*3)
		for _, l := range leaves[:n] {
			args = append(args, l.ID, l.Index, l.Hash)
		}
		res, err := t.exec(ctx, leafUpdates[n], args...)
		if err != nil {
			return fmt.Errorf("set audit leaves: %w", err)
		}
		if got, err := res.RowsAffected(); err == nil && got != int64(n) {
			return fmt.Errorf("set audit leaves: %d of %d entries found", got, n)
		}
		leaves = leaves[n:]
	}
	return nil
}

// setLeavesPG is SetLeaves on PostgreSQL: one statement per sealing batch, whatever its
// size, the leaves going as one array per column. A statement per 64 leaves, its text
// changing with their number, cost the server a fresh plan per text and session, and the
// sealer a quarter of the API's earn rate (docs/benchmarks.md).
func (t *Tx) setLeavesPG(ctx context.Context, leaves []audit.Leaf) error {
	for chunk := range slices.Chunk(leaves, leafArrayChunk) {
		rows := make([][]any, len(chunk))
		for i, l := range chunk {
			rows[i] = []any{l.ID, l.Index, l.Hash}
		}
		cols, err := pgArrays(rows, "iib")
		if err != nil {
			return fmt.Errorf("set audit leaves: %w", err)
		}
		res, err := t.exec(ctx, `UPDATE audit_entries SET leaf_index = v.idx, leaf_hash = v.h
			FROM unnest(CAST(? AS BIGINT[]), CAST(? AS BIGINT[]), CAST(? AS BYTEA[])) AS v (id, idx, h) WHERE audit_entries.id = v.id`, cols...)
		if err != nil {
			return fmt.Errorf("set audit leaves: %w", err)
		}
		if got, err := res.RowsAffected(); err == nil && got != int64(len(chunk)) {
			return fmt.Errorf("set audit leaves: %d of %d entries found", got, len(chunk))
		}
	}
	return nil
}

// leafArrayChunk bounds the leaves of one PostgreSQL UPDATE (a sealing batch is 512).
const leafArrayChunk = 4096

// leafUpdateChunk bounds the rows of one UPDATE.
const leafUpdateChunk = 64

// leafUpdates holds SQLite's UPDATE statement for 1..leafUpdateChunk rows (a CTE with a
// column list, SQLite 3.33+). SQLite's prepared statements are kept per pool, so each
// size is parsed once.
var leafUpdates = func() []string {
	qs := make([]string, leafUpdateChunk+1)
	for n := 1; n <= leafUpdateChunk; n++ {
		qs[n] = `WITH v (id, idx, h) AS (VALUES ` + strings.Repeat(`(?, ?, ?), `, n-1) + `(?, ?, ?))
			UPDATE audit_entries SET leaf_index = v.idx, leaf_hash = v.h FROM v WHERE audit_entries.id = v.id`
	}
	return qs
}()

// InsertCheckpoint implements audit.SealTx.
func (t *Tx) InsertCheckpoint(ctx context.Context, cp *audit.Checkpoint) error {
	_, err := t.exec(ctx, `INSERT INTO audit_checkpoints (`+checkpointColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		cp.Size, cp.Root[:], micros(cp.At), cp.KeyID, cp.Signature, cp.Frontier)
	return err
}

// Checkpoints implements audit.VerifyStore.
func (db *DB) Checkpoints(ctx context.Context) ([]audit.Checkpoint, error) {
	var out []audit.Checkpoint
	err := db.ReadTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT `+checkpointColumns+` FROM audit_checkpoints ORDER BY tree_size`)
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

// LatestCheckpoint returns the newest checkpoint, or nil.
func (db *DB) LatestCheckpoint(ctx context.Context) (cp *audit.Checkpoint, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) error { cp, err = tx.LatestCheckpoint(ctx); return err })
	return cp, err
}

// PendingAudit counts entries not sealed yet.
func (db *DB) PendingAudit(ctx context.Context) (n int64, err error) {
	if err := db.syncAuditJournal(ctx); err != nil {
		return 0, err
	}
	err = db.ReadTx(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, `SELECT COUNT(*) FROM audit_entries WHERE leaf_index IS NULL`).Scan(&n)
	})
	return n, err
}

// ScanEntries implements audit.VerifyStore, reading in pages so that a large log does not
// hold one long transaction: sealed entries by leaf index, then pending ones by id.
func (db *DB) ScanEntries(ctx context.Context, fn func(*audit.Entry) error) error {
	if err := db.syncAuditJournal(ctx); err != nil {
		return err
	}
	sealed := `SELECT ` + auditColumns + ` FROM audit_entries WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?`
	if err := db.scanAudit(ctx, sealed, -1, func(e *audit.Entry) int64 { return *e.LeafIndex }, fn); err != nil {
		return err
	}
	pending := `SELECT ` + auditColumns + ` FROM audit_entries WHERE leaf_index IS NULL AND id > ? ORDER BY id LIMIT ?`
	return db.scanAudit(ctx, pending, 0, func(e *audit.Entry) int64 { return e.ID }, fn)
}

// scanAudit pages through query (whose placeholders are the cursor and the page size),
// starting after cursor; key gives the cursor of an entry.
func (db *DB) scanAudit(ctx context.Context, query string, cursor int64, key func(*audit.Entry) int64, fn func(*audit.Entry) error) error {
	const page = 5000
	for {
		var batch []audit.Entry
		err := db.ReadTx(ctx, func(tx *Tx) (err error) {
			batch, err = tx.auditEntries(ctx, query, cursor, page)
			return err
		})
		if err != nil {
			return err
		}
		for i := range batch {
			if err := fn(&batch[i]); err != nil {
				return err
			}
		}
		if len(batch) < page {
			return nil
		}
		cursor = key(&batch[len(batch)-1])
	}
}
