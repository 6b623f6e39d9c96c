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
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	marker := fmt.Sprintf("checkpoint-probe-%d", time.Now().UnixNano())
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `CREATE TABLE checkpoint_probe (v TEXT NOT NULL)`); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO checkpoint_probe (v) VALUES (?)`, marker)
		return err
	}); err != nil {
		t.Fatal(err)
	}
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
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := t.Context()
	if err := db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `CREATE TABLE checkpoint_probe (v TEXT NOT NULL)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	wal := filepath.Join(dir, DatabaseFile+"-wal")
	for i := range 30 {
		if err := db.WriteTx(ctx, func(tx *Tx) error {
			_, err := tx.exec(ctx, `INSERT INTO checkpoint_probe (v) VALUES (?)`, strings.Repeat("x", 20000))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(checkpointDelay + time.Duration(i%6)*200*time.Microsecond) // when the background one starts
		if err := db.Checkpoint(ctx); err != nil {
			t.Fatal(err)
		}
		if st, err := os.Stat(wal); err != nil || st.Size() != 0 {
			t.Fatalf("round %d: WAL after Checkpoint: %v, %v; want it truncated to 0 bytes", i, st.Size(), err)
		}
	}
}
