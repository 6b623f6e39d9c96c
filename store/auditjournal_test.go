//go:build unix

package store

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
)

func journalEntry(i int) audit.Entry {
	at := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC).Add(time.Duration(i) * time.Millisecond)
	fields := []fidelis.Field{fidelis.FieldEmail, fidelis.FieldGivenName}
	if i%3 == 0 {
		fields = nil
	}
	return audit.Entry{UID: fmt.Sprintf("aud_journal_%04d", i), At: at, Actor: "user:usr_j", Action: "customer.read",
		Subject: "cus_j", Purpose: fidelis.PurposeCustomerService, Fields: fields, Outcome: audit.OutcomeOK,
		RequestID: fmt.Sprintf("req-%d", i), MAC: []byte{byte(i), 0, 0xff, byte(i >> 8)}}
}

func uidsOf(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	if err := db.ScanEntries(t.Context(), func(e *audit.Entry) error { out = append(out, e.UID); return nil }); err != nil {
		t.Fatalf("ScanEntries = %v", err)
	}
	return out
}

func journals(t *testing.T, dir string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, journalPrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestAuditJournal_RecordRoundTrip_P4: a journal record decodes to the entry written, every
// attribute included (the MAC covers them).
func TestAuditJournal_RecordRoundTrip_P4(t *testing.T) {
	for i := range 4 {
		e := journalEntry(i)
		e.Reason = strings.Repeat("é", i*100)
		rec := appendJournalRecord(nil, &e)
		got, err := decodeJournalEntry(rec[8:])
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got.UID != e.UID || !got.At.Equal(e.At) || got.Actor != e.Actor || got.Action != e.Action || got.Subject != e.Subject ||
			got.Purpose != e.Purpose || !slices.Equal(got.Fields, e.Fields) || got.Outcome != e.Outcome || got.Reason != e.Reason ||
			got.RequestID != e.RequestID || string(got.MAC) != string(e.MAC) {
			t.Errorf("decoded %+v; want %+v", got, e)
		}
		if _, err := decodeJournalEntry(rec[8 : len(rec)-1]); err == nil {
			t.Errorf("decoding a truncated payload succeeded")
		}
	}
}

// TestAuditJournal_ReadIsVisibleAtOnce_P4: an entry recorded through the journal is seen by
// the access log, the scan and the sealer of the same process right after RecordAudit
// returns, and closing leaves neither file nor row behind.
func TestAuditJournal_ReadIsVisibleAtOnce_P4(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if db.journal == nil {
		t.Fatal("no audit journal on SQLite")
	}
	e := journalEntry(1)
	if err := db.RecordAudit(t.Context(), e); err != nil {
		t.Fatalf("RecordAudit = %v", err)
	}
	var log []audit.Entry
	err = db.ReadTx(t.Context(), func(tx *Tx) (err error) { log, err = tx.AccessLog(t.Context(), "cus_j", 0, 10); return err })
	if err != nil || len(log) != 1 || log[0].UID != e.UID {
		t.Fatalf("AccessLog right after RecordAudit = %v, %v; want the entry", log, err)
	}
	if n, err := db.PendingAudit(t.Context()); err != nil || n != 1 {
		t.Fatalf("PendingAudit = %d, %v; want 1", n, err)
	}
	if got := journals(t, dir); len(got) != 1 {
		t.Fatalf("journals while open = %v; want this process's one", got)
	}
	name := db.journal.name
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := journals(t, dir); len(got) != 0 {
		t.Fatalf("journals after Close = %v; want none", got)
	}
	db, err = OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := uidsOf(t, db); !slices.Equal(got, []string{e.UID}) {
		t.Fatalf("entries after reopening = %v; want [%s]", got, e.UID)
	}
	var rows int
	if err := db.read.QueryRow(`SELECT COUNT(*) FROM audit_journals WHERE name = ?`, name).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("audit_journals rows of the closed process = %d, %v; want none", rows, err)
	}
}

// TestAuditJournal_SurvivesCrash_P4 runs a process that records entries and is killed
// (SIGKILL) without closing anything, with a torn record at the end of its journal; the
// next process to open the database ingests exactly the whole entries, once.
func TestAuditJournal_SurvivesCrash_P4(t *testing.T) {
	if dir := os.Getenv("FIDELIS_JOURNAL_CRASH_DIR"); dir != "" {
		crashingProcess(dir)
		return
	}
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir) // creates the schema, then closes cleanly
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	cmd := exec.Command(os.Args[0], "-test.run", "^TestAuditJournal_SurvivesCrash_P4$")
	cmd.Env = append(os.Environ(), "FIDELIS_JOURNAL_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("crashing process ended with %v (%s); want killed by SIGKILL", err, out)
	}
	if got := journals(t, dir); len(got) != 1 {
		t.Fatalf("journals left by the killed process = %v; want 1", got)
	}

	// A live process's journal is not touched by another opening the same database.
	db, err = OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	got := uidsOf(t, db)
	want := make([]string, crashEntries)
	for i := range want {
		want[i] = journalEntry(i).UID
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("entries after recovery = %d %v; want the %d recorded before the crash, once each", len(got), got, len(want))
	}
	if got := journals(t, dir); len(got) != 1 || got[0] != db.journal.path {
		t.Fatalf("journals after recovery = %v; want only the new process's own", got)
	}
	db.Close()
	db, err = OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := len(uidsOf(t, db)); n != crashEntries {
		t.Fatalf("entries after a second opening = %d; want %d (nothing ingested twice)", n, crashEntries)
	}
}

const crashEntries = 300

// crashingProcess records entries (some ingested, the last ones only journaled), writes half
// a record as a crash in the middle of a write would, and kills itself.
func crashingProcess(dir string) {
	db, err := OpenSQLite(context.Background(), dir)
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	for i := range crashEntries {
		if err := db.RecordAudit(context.Background(), journalEntry(i)); err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		if i == crashEntries/2 {
			if err := db.syncAuditJournal(context.Background()); err != nil { // the first half is ingested
				fmt.Println(err)
				os.Exit(2)
			}
		}
	}
	e := journalEntry(crashEntries)
	rec := appendJournalRecord(nil, &e)
	db.journal.mu.Lock() // no ingestion from here on
	db.journal.f.Write(rec[:len(rec)/2])
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestAuditJournal_LiveJournalUntouched_P4: a second process opening the database (a command
// beside the server) leaves the first one's journal alone, and sees its entries once the
// first ingests them.
func TestAuditJournal_LiveJournalUntouched_P4(t *testing.T) {
	dir := t.TempDir()
	first, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	first.journal.mu.Lock() // hold ingestion: the entry stays in the journal only
	e := journalEntry(7)
	rec := appendJournalRecord(nil, &e)
	if _, err := first.journal.f.Write(rec); err != nil {
		t.Fatal(err)
	}
	first.journal.size += int64(len(rec))
	first.journal.pending = append(first.journal.pending, e)
	first.journal.mu.Unlock()

	second, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if got := journals(t, dir); len(got) != 2 {
		t.Fatalf("journals = %v; want both processes' own", got)
	}
	if err := first.syncAuditJournal(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := uidsOf(t, second); !slices.Equal(got, []string{e.UID}) {
		t.Fatalf("entries seen by the second process = %v; want [%s] once", got, e.UID)
	}
}

// TestAuditJournal_RestartsEmptyWhenLarge: a journal above journalTruncate restarts at
// offset 0 once ingested, and later entries are ingested from there.
func TestAuditJournal_RestartsEmptyWhenLarge(t *testing.T) {
	dir := t.TempDir()
	db, err := OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	big := journalEntry(0)
	big.Reason = strings.Repeat("x", 512<<10)
	for i := range 34 {
		e := big
		e.UID = fmt.Sprintf("aud_big_%d", i)
		if err := db.RecordAudit(t.Context(), e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.syncAuditJournal(t.Context()); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(db.journal.path)
	if err != nil || st.Size() != 0 {
		t.Fatalf("journal size after ingesting 17 MiB = %v, %v; want 0", st.Size(), err)
	}
	if err := db.RecordAudit(t.Context(), journalEntry(1)); err != nil {
		t.Fatal(err)
	}
	if n := len(uidsOf(t, db)); n != 35 {
		t.Fatalf("entries = %d; want 35", n)
	}
}

// TestAuditJournal_IngestedWithoutAsking_P4: entries reach audit_entries on the loop's own
// timer, with nobody syncing, after an idle start.
func TestAuditJournal_IngestedWithoutAsking_P4(t *testing.T) {
	db, err := OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	time.Sleep(3 * journalInterval) // idle: the timer is not armed
	for round := range 2 {
		if err := db.RecordAudit(t.Context(), journalEntry(round)); err != nil {
			t.Fatal(err)
		}
		var n int
		for try := 0; try < 200; try++ { // up to 2 s, 100 times the interval
			if err := db.read.QueryRow(`SELECT COUNT(*) FROM audit_entries`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == round+1 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if n != round+1 {
			t.Fatalf("round %d: audit_entries holds %d entries; want %d without any sync", round, n, round+1)
		}
	}
}
