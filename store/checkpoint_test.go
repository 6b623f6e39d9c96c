package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointer_CopiesCommitsIntoTheDatabaseFile: a commit's pages reach the database
// file itself, not only the WAL, without anyone asking for a checkpoint and far below the
// automatic threshold (which a few rows never reach): the background checkpointer copies
// them back. It fails if the checkpointer is not started or not woken by commits.
func TestCheckpointer_CopiesCommitsIntoTheDatabaseFile(t *testing.T) {
	db, dir := probeDB(t)
	marker := fmt.Sprintf("checkpoint-probe-%d", time.Now().UnixNano())
	probeInsert(t, db, marker)
	file := filepath.Join(dir, DatabaseFile)
	for range 500 { // 10 s at most
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(marker)) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the committed row never reached the database file: no checkpoint ran")
}

// TestCheckpoint_NeverSkippedForTheBackgroundOne: a checkpoint asked for (after an erasure,
// R-8, or by Checkpoint) while the background checkpointer runs one would be refused by
// SQLite without waiting, leaving the WAL, and any erased bytes in it, in place. Asked for
// again and again at the moment the background one starts, it must always truncate the WAL.
func TestCheckpoint_NeverSkippedForTheBackgroundOne_R8(t *testing.T) {
	db, dir := probeDB(t)
	ctx := t.Context()
	wal := filepath.Join(dir, DatabaseFile+"-wal")
	for i := range 30 {
		probeInsert(t, db, strings.Repeat("x", 20000))
		time.Sleep(checkpointDelay + time.Duration(i%6)*200*time.Microsecond) // when the background one starts
		if err := db.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(wal); err != nil || st.Size() != 0 {
			t.Fatalf("round %d: WAL after Checkpoint: %v, %v; want it truncated to 0 bytes", i, st.Size(), err)
		}
	}
}

// probeDB opens a SQLite store in a new directory with a table checkpoint_probe (v TEXT).
func probeDB(t *testing.T) (*DB, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.WriteTx(t.Context(), func(tx *Tx) error {
		_, err := tx.exec(t.Context(), `CREATE TABLE checkpoint_probe (v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// probeInsert commits one row of checkpoint_probe.
func probeInsert(t *testing.T, db *DB, v string) {
	t.Helper()
	if err := db.WriteTx(t.Context(), func(tx *Tx) error {
		_, err := tx.exec(t.Context(), `INSERT INTO checkpoint_probe (v) VALUES (?)`, v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
