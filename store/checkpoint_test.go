package store

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
