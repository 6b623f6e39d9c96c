package store

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

// The audit journal (SQLite). A read must not be answered before its audit entry is
// durable (DESIGN invariant 4), but committing an SQLite transaction for every few reads
// costs more than the read: every commit rewrites the audit table's last pages to the WAL
// and resets the page cache of every reader connection. So, on SQLite, RecordAudit appends
// the entries to a journal file of this process beside the database, with one write(2),
// and answers; a background loop ingests the journal into audit_entries in large batches
// (every journalInterval, or journalBatch entries), recording in the same transaction up to
// which byte the file is ingested (table audit_journals).
//
// Durability is SQLite's own with synchronous=NORMAL: an entry whose write returned
// survives a crash of the process (it is in the operating system's cache, like a
// committed WAL frame) and may be lost with the last transactions on power loss. After a
// crash, the next process to open the database ingests what a dead process's journal holds
// past its recorded offset: each live process holds an exclusive lock (flock) on its own
// journal, so a journal whose lock can be taken belongs to nobody. Records carry a length
// and a CRC-32C, so a torn last record (a crash in the middle of a write) is recognised and
// left out: its read was never answered.
//
// Whatever reads the audit log in this process (an access log, verification, the sealer)
// first asks the loop to ingest everything written so far (syncAuditJournal), so it sees
// every entry recorded before. Entries written by domain transactions (changes) do not go
// through the journal: they commit with their change. An entry's position in the Merkle log
// is its ingestion order, so a read may follow a change made a few milliseconds after it;
// each entry keeps its own time.

const (
	journalPrefix   = "audit-journal-"
	journalSuffix   = ".log"
	journalInterval = 20 * time.Millisecond // longest wait before ingesting
	journalBatch    = 2048                  // entries that trigger ingestion at once
	journalTruncate = 16 << 20              // file size above which an ingested journal restarts empty
	journalMaxEntry = 1 << 20               // bound on one record, against a corrupted length
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

type auditJournal struct {
	db   *DB
	name string // file base name, the key of its audit_journals row
	path string

	mu       sync.Mutex
	f        *os.File // opened O_APPEND, locked exclusively for the life of the process
	size     int64    // bytes written
	pending  []audit.Entry
	failed   error // set when the file can no longer be written: appends fail
	kick     chan struct{}
	syncs    chan chan error
	stop     chan struct{}
	stopped  chan struct{}
	ingested int64 // bytes covered by the audit_journals row (loop only)
}

// openAuditJournal recovers the journals of processes that ended without ingesting them,
// then starts this process's journal. It returns nil, nil where file locks are not
// available: RecordAudit then commits entries directly.
func openAuditJournal(ctx context.Context, db *DB) (*auditJournal, error) {
	if !journalSupported {
		return nil, nil
	}
	dir := filepath.Dir(db.path)
	if err := recoverAuditJournals(ctx, db, dir); err != nil {
		return nil, err
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	name := journalPrefix + hex.EncodeToString(rnd[:]) + journalSuffix
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create audit journal: %w", err)
	}
	if locked, err := lockFile(f); err != nil || !locked {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("store: lock audit journal %s: %v", name, err)
	}
	j := &auditJournal{db: db, name: name, path: path, f: f,
		kick: make(chan struct{}, 1), syncs: make(chan chan error), stop: make(chan struct{}), stopped: make(chan struct{})}
	go j.loop()
	return j, nil
}

// append makes entries durable in the journal (see above).
func (j *auditJournal) append(entries []audit.Entry) error {
	var buf []byte
	for i := range entries {
		buf = appendJournalRecord(buf, &entries[i])
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil {
		return j.failed
	}
	if _, err := j.f.Write(buf); err != nil {
		// A partial write leaves a torn record that recovery skips; later records would
		// follow it unreadably, so the journal takes no more.
		j.failed = &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "the audit journal cannot be written", Err: err}
		return j.failed
	}
	j.size += int64(len(buf))
	j.pending = append(j.pending, entries...)
	// Wake the loop for the first entries since the last ingestion (it arms its timer)
	// and when a batch is full (it ingests at once).
	if len(j.pending) == len(entries) || len(j.pending) >= journalBatch {
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// sync returns once every entry appended before the call is in audit_entries.
func (j *auditJournal) sync(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case j.syncs <- done:
	case <-j.stopped:
		return nil // closed: everything was ingested
	case <-ctx.Done():
		return translate(ctx.Err())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return translate(ctx.Err())
	}
}

func (j *auditJournal) loop() {
	defer close(j.stopped)
	// The timer runs only while entries are pending: an idle process does not wake up.
	timer := time.NewTimer(journalInterval)
	timer.Stop()
	armed := false
	for {
		var waiting []chan error
		select {
		case <-timer.C:
			armed = false
		case <-j.kick:
			if !j.full() { // the first entries since the last ingestion: ingest them in time
				if !armed {
					timer.Reset(journalInterval)
					armed = true
				}
				continue
			}
		case done := <-j.syncs:
			waiting = append(waiting, done)
		case <-j.stop:
			// Closing: ingest what is left (close then removes the file), retrying for a
			// second; what still fails is left to the next process's recovery.
			for try := 0; j.ingest() != nil && try < 50; try++ {
				time.Sleep(journalInterval)
			}
			return
		}
		// Requests that arrived meanwhile share this ingestion.
	more:
		for {
			select {
			case done := <-j.syncs:
				waiting = append(waiting, done)
			default:
				break more
			}
		}
		err := j.ingest()
		for _, w := range waiting {
			w <- err
		}
		// Entries written meanwhile, or kept after a failure, wait for the next round.
		if pending := j.pendingCount() > 0; pending && !armed {
			timer.Reset(journalInterval)
			armed = true
		} else if !pending && armed {
			timer.Stop()
			armed = false
		}
	}
}

func (j *auditJournal) pendingCount() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.pending)
}

func (j *auditJournal) full() bool { return j.pendingCount() >= journalBatch }

// ingest writes the pending entries to audit_entries with the journal's new offset, in one
// transaction; on failure they stay pending for the next attempt.
func (j *auditJournal) ingest() error {
	j.mu.Lock()
	batch, end := j.pending, j.size
	j.pending = nil
	j.mu.Unlock()
	if len(batch) == 0 && end == j.ingested {
		return j.maybeTruncate()
	}
	err := j.db.WriteTx(context.Background(), func(tx *Tx) error {
		if err := tx.AppendAudit(context.Background(), batch...); err != nil {
			return err
		}
		return tx.setJournalOffset(context.Background(), j.name, end)
	})
	if err != nil {
		j.mu.Lock()
		j.pending = append(batch, j.pending...)
		j.mu.Unlock()
		return fmt.Errorf("store: ingest audit journal: %w", err)
	}
	j.ingested = end
	return j.maybeTruncate()
}

// maybeTruncate empties a large journal once everything in it is ingested, holding
// appends for one small transaction: the file is truncated before its offset is set back
// to 0, so a crash in between leaves an empty file read from its old offset (nothing).
func (j *auditJournal) maybeTruncate() error {
	if j.ingested < journalTruncate {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.pending) > 0 || j.size != j.ingested || j.failed != nil {
		return nil
	}
	err := j.db.WriteTx(context.Background(), func(tx *Tx) error {
		if err := j.f.Truncate(0); err != nil {
			return err
		}
		return tx.setJournalOffset(context.Background(), j.name, 0)
	})
	if err != nil {
		return fmt.Errorf("store: restart audit journal: %w", err)
	}
	j.size, j.ingested = 0, 0
	return nil
}

// close ingests what is left and removes the journal. It runs before the database closes.
func (j *auditJournal) close() {
	close(j.stop)
	<-j.stopped
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.pending) > 0 || j.size != j.ingested {
		j.f.Close() // left for recovery by the next process
		return
	}
	// The file goes first: a row without its file is dropped by the next recovery.
	os.Remove(j.path)
	j.f.Close()
	_ = j.db.WriteTx(context.Background(), func(tx *Tx) error { return tx.dropJournal(context.Background(), j.name) })
}

func (t *Tx) setJournalOffset(ctx context.Context, name string, off int64) error {
	_, err := t.exec(ctx, `INSERT INTO audit_journals (name, ingested) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET ingested = excluded.ingested`, name, off)
	return err
}

func (t *Tx) dropJournal(ctx context.Context, name string) error {
	_, err := t.exec(ctx, `DELETE FROM audit_journals WHERE name = ?`, name)
	return err
}

// recoverAuditJournals ingests and removes every journal in dir that no live process holds.
func recoverAuditJournals(ctx context.Context, db *DB, dir string) error {
	paths, err := filepath.Glob(filepath.Join(dir, journalPrefix+"*"+journalSuffix))
	if err != nil {
		return err
	}
	present := map[string]bool{}
	for _, p := range paths {
		present[filepath.Base(p)] = true
		if err := recoverAuditJournal(ctx, db, p); err != nil {
			return err
		}
	}
	// Rows whose file is gone (removed after its last ingestion) are dropped.
	var names []string
	err = db.ReadTx(ctx, func(tx *Tx) error {
		var err error
		names, err = queryAll(ctx, tx, func(rows *sql.Rows) (n string, err error) { err = rows.Scan(&n); return n, err }, `SELECT name FROM audit_journals`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: list audit journals: %w", err)
	}
	for _, n := range names {
		if !present[n] {
			if err := db.WriteTx(ctx, func(tx *Tx) error { return tx.dropJournal(ctx, n) }); err != nil {
				return err
			}
		}
	}
	return nil
}

func recoverAuditJournal(ctx context.Context, db *DB, path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil // its process removed it meanwhile
	}
	if err != nil {
		return fmt.Errorf("store: open audit journal: %w", err)
	}
	defer f.Close()
	locked, err := lockFile(f)
	if err != nil {
		return fmt.Errorf("store: lock audit journal: %w", err)
	}
	if !locked {
		return nil // a live process writes it
	}
	name := filepath.Base(path)
	var off int64
	err = db.ReadTx(ctx, func(tx *Tx) error {
		err := tx.queryRow(ctx, `SELECT ingested FROM audit_journals WHERE name = ?`, name).Scan(&off)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("store: read audit journal offset: %w", err)
	}
	entries, end, err := readJournal(f, off)
	if err != nil {
		return fmt.Errorf("store: read audit journal %s: %w", name, err)
	}
	if len(entries) > 0 {
		err := db.WriteTx(ctx, func(tx *Tx) error {
			if err := tx.AppendAudit(ctx, entries...); err != nil {
				return err
			}
			return tx.setJournalOffset(ctx, name, end)
		})
		if err != nil {
			return fmt.Errorf("store: recover audit journal %s: %w", name, err)
		}
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("store: remove audit journal: %w", err)
	}
	return db.WriteTx(ctx, func(tx *Tx) error { return tx.dropJournal(ctx, name) })
}

// readJournal returns the whole records of f from offset off, and the offset after the
// last of them: a torn or corrupted record ends the journal.
func readJournal(f *os.File, off int64) ([]audit.Entry, int64, error) {
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return nil, off, err
	}
	r := bufio.NewReaderSize(f, 1<<16)
	var out []audit.Entry
	var head [8]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			return out, off, nil // end of file, or a torn header
		}
		n, sum := binary.LittleEndian.Uint32(head[:4]), binary.LittleEndian.Uint32(head[4:])
		if n > journalMaxEntry {
			return out, off, nil
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil || crc32.Checksum(payload, crcTable) != sum {
			return out, off, nil
		}
		e, err := decodeJournalEntry(payload)
		if err != nil {
			return out, off, nil
		}
		out = append(out, e)
		off += int64(len(head)) + int64(n)
	}
}

// appendJournalRecord appends e's record: length and CRC-32C of the payload (little
// endian), then the payload, every attribute of the entry as a length-prefixed string, the
// time as a varint of microseconds.
func appendJournalRecord(buf []byte, e *audit.Entry) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, 8)...)
	str := func(s string) { buf = binary.AppendUvarint(buf, uint64(len(s))); buf = append(buf, s...) }
	str(e.UID)
	buf = binary.AppendVarint(buf, micros(e.At))
	str(e.Actor)
	str(e.Action)
	str(e.Subject)
	str(string(e.Purpose))
	str(joinFields(e.Fields))
	str(string(e.Outcome))
	str(e.Reason)
	str(e.RequestID)
	str(string(e.MAC))
	payload := buf[start+8:]
	binary.LittleEndian.PutUint32(buf[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(payload, crcTable))
	return buf
}

var errJournalRecord = errors.New("malformed audit journal record")

func decodeJournalEntry(p []byte) (audit.Entry, error) {
	var e audit.Entry
	bad := false
	str := func() string {
		n, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < n {
			bad = true
			return ""
		}
		s := string(p[k : k+int(n)])
		p = p[k+int(n):]
		return s
	}
	e.UID = str()
	at, k := binary.Varint(p)
	if bad || k <= 0 {
		return e, errJournalRecord
	}
	p = p[k:]
	e.At = fromMicros(at)
	e.Actor, e.Action, e.Subject = str(), str(), str()
	e.Purpose = fidelis.Purpose(str())
	e.Fields = splitFields(str())
	e.Outcome = audit.Outcome(str())
	e.Reason, e.RequestID = str(), str()
	e.MAC = []byte(str())
	if bad || len(p) != 0 {
		return e, errJournalRecord
	}
	return e, nil
}
