package store_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/store/storetest"
	"github.com/fidelis/fidelis/vault"
)

// opener returns a storetest.Opener for backend b: a fresh database per test (a temporary
// directory for SQLite, a fresh schema for PostgreSQL), reopened on later calls.
func opener(b fidelistest.Backend) storetest.Opener {
	var mu sync.Mutex
	where := map[*testing.T]string{}
	return func(t *testing.T) *store.DB {
		t.Helper()
		mu.Lock()
		w, ok := where[t]
		if !ok {
			if b.URL == "" {
				w = t.TempDir()
			} else {
				w = fidelistest.MustPostgresSchema(t, b.URL)
			}
			where[t] = w
		}
		mu.Unlock()
		var db *store.DB
		var err error
		if b.URL == "" {
			db, err = store.OpenSQLite(context.Background(), w)
		} else {
			db, err = store.OpenPostgres(context.Background(), w)
		}
		if err != nil {
			t.Fatalf("open %s: %v", b.Name, err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
}

// TestConformance runs the one conformance suite on every backend; under CI=true the
// PostgreSQL run is mandatory (fidelistest.Backends).
func TestConformance(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		storetest.Run(t, opener(b))
	})
}

// goModRequire returns the version of module path required by the go.mod text in b.
func goModRequire(b []byte, path string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	inBlock := false
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "//")
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
			continue
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inBlock = true
			continue
		case inBlock && f[0] == ")":
			inBlock = false
			continue
		case f[0] == "require" && len(f) == 3:
			f = f[1:]
		case !inBlock:
			continue
		}
		if len(f) == 2 && f[0] == path {
			return f[1], true
		}
	}
	return "", false
}

func TestGoModRequire(t *testing.T) {
	const mod = "module x\n\nrequire a.b/c v1.0.0 // indirect\n\nrequire (\n\tmodernc.org/libc v1.2.3 // indirect\n\tmodernc.org/libcx v9.9.9\n)\n"
	for _, tt := range []struct {
		path string
		want string
		ok   bool
	}{
		{"a.b/c", "v1.0.0", true},
		{"modernc.org/libc", "v1.2.3", true},
		{"modernc.org/lib", "", false},
	} {
		if got, ok := goModRequire([]byte(mod), tt.path); got != tt.want || ok != tt.ok {
			t.Errorf("goModRequire(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// TestGoMod_LibcPinnedToSQLite checks that go.mod pins modernc.org/libc to exactly the
// version modernc.org/sqlite's go.mod requires (STYLE: dependencies): the SQLite
// translation is generated against one libc, and a newer one selected by another
// dependency has broken it before. Offline: it reads the module cache only.
func TestGoMod_LibcPinnedToSQLite(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to locate go.mod files: %v", err)
	}
	cmd := exec.Command(gobin, "list", "-m", "-json", "modernc.org/sqlite")
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOWORK=off", "GOFLAGS=-mod=readonly")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -m -json modernc.org/sqlite: %v", err)
	}
	var sqliteMod struct{ Version, GoMod string }
	if err := json.Unmarshal(out, &sqliteMod); err != nil || sqliteMod.GoMod == "" {
		t.Fatalf("go list -m -json modernc.org/sqlite = %s, %v; want a module with a GoMod file", out, err)
	}
	cmd = exec.Command(gobin, "env", "GOMOD")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err = cmd.Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	main, err := os.ReadFile(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("read go.mod: %v", err)
	}
	dep, err := os.ReadFile(sqliteMod.GoMod)
	if err != nil {
		t.Fatalf("read modernc.org/sqlite@%s go.mod: %v", sqliteMod.Version, err)
	}
	pinned, ok := goModRequire(main, "modernc.org/libc")
	if !ok {
		t.Fatalf("go.mod does not require modernc.org/libc; want it pinned")
	}
	wanted, ok := goModRequire(dep, "modernc.org/libc")
	if !ok {
		t.Fatalf("modernc.org/sqlite@%s go.mod does not require modernc.org/libc", sqliteMod.Version)
	}
	t.Logf("go.mod pins modernc.org/libc %s; modernc.org/sqlite@%s requires %s", pinned, sqliteMod.Version, wanted)
	if pinned != wanted {
		t.Errorf("go.mod pins modernc.org/libc %s; want %s, the version modernc.org/sqlite@%s requires", pinned, wanted, sqliteMod.Version)
	}
}

// pragmas reads PRAGMA values on a raw driver connection.
func pragmas(conn sqlite.ExecQuerierContext, names ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, n := range names {
		rows, err := conn.QueryContext(context.Background(), "PRAGMA "+n, nil)
		if err != nil {
			return nil, err
		}
		v := make([]driver.Value, len(rows.Columns()))
		err = rows.Next(v)
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("PRAGMA %s: %w", n, err)
		}
		out[n] = fmt.Sprint(v[0])
	}
	return out, nil
}

// TestSQLite_Pragmas checks the settings every SQLite connection runs with, read on the
// connections the store itself opened: the writer holds WAL, secure_delete (without which
// shredded keys linger in free pages, R-8), foreign keys and the busy timeout; readers are
// query-only.
func TestSQLite_Pragmas(t *testing.T) {
	dir := t.TempDir()
	names := []string{"journal_mode", "secure_delete", "foreign_keys", "busy_timeout", "synchronous", "query_only"}
	var mu sync.Mutex
	var seen []struct {
		writer bool
		vals   map[string]string
		err    error
	}
	// Connection hooks cannot be removed: this one only looks at this test's database.
	sqlite.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, dsn string) error {
		if !strings.Contains(dsn, filepath.Join(dir, store.DatabaseFile)+"?") {
			return nil
		}
		vals, err := pragmas(conn, names...)
		mu.Lock()
		seen = append(seen, struct {
			writer bool
			vals   map[string]string
			err    error
		}{strings.Contains(dsn, "_txlock=immediate"), vals, err})
		mu.Unlock()
		return nil
	})
	db, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatalf("OpenSQLite = %v", err)
	}
	defer db.Close()
	// Use a reader so that the pool opens one.
	if _, err := db.CountCustomers(t.Context()); err != nil {
		t.Fatalf("CountCustomers = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	var writers, readers int
	for _, c := range seen {
		if c.err != nil {
			t.Fatalf("reading pragmas: %v", c.err)
		}
		want := map[string]string{"journal_mode": "wal", "secure_delete": "1", "foreign_keys": "1", "busy_timeout": "10000", "synchronous": "1", "query_only": "0"}
		role := "writer"
		if c.writer {
			writers++
		} else {
			readers++
			role = "reader"
			want["query_only"] = "1"
		}
		for _, n := range names {
			if got := c.vals[n]; got != want[n] {
				t.Errorf("%s PRAGMA %s = %s; want %s", role, n, got, want[n])
			}
		}
	}
	if writers != 1 || readers == 0 {
		t.Errorf("connections opened = %d writers, %d readers; want 1 writer, at least 1 reader", writers, readers)
	}
	st, err := os.Stat(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of %s = %v; want 0600", db.Path(), got)
	}
}

func fileContains(t *testing.T, path string, needle []byte) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false
	} else if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(b, needle)
}

// TestSQLite_DeleteLeavesNoKeyBytes_R8 checks crypto-shredding at the file level: once a
// customer is deleted and the WAL checkpointed, neither the wrapped key nor the ciphertext
// can be found in the database file or the WAL (secure_delete zeroes freed content).
func TestSQLite_DeleteLeavesNoKeyBytes_R8(t *testing.T) {
	dir := t.TempDir()
	db, err := store.OpenSQLite(t.Context(), dir)
	if err != nil {
		t.Fatalf("OpenSQLite = %v", err)
	}
	defer db.Close()
	cs := store.Customers{DB: db}
	now := time.Now()
	keyMarker := []byte("WRAPPED-KEY-MARKER-" + fidelis.NewID("m", now))
	fieldMarker := []byte("SEALED-FIELD-MARKER-" + fidelis.NewID("m", now))
	r := &customer.Record{ID: fidelis.NewCustomerID(now), Version: 1, CreatedAt: now, UpdatedAt: now,
		Key:    vault.WrappedDEK{KEKID: "kek_marker", Wrapped: keyMarker},
		Sealed: map[fidelis.Field][]byte{fidelis.FieldEmail: fieldMarker}}
	if err := cs.Write(t.Context(), func(tx customer.Tx) error { return tx.InsertCustomer(t.Context(), r) }); err != nil {
		t.Fatalf("InsertCustomer = %v", err)
	}
	if err := db.Checkpoint(t.Context()); err != nil {
		t.Fatalf("Checkpoint = %v", err)
	}
	if !fileContains(t, db.Path(), keyMarker) || !fileContains(t, db.Path(), fieldMarker) {
		t.Fatalf("markers not found in %s after insert: the test cannot see the file", db.Path())
	}
	if err := cs.Write(t.Context(), func(tx customer.Tx) error { _, err := tx.DeleteCustomer(t.Context(), r.ID); return err }); err != nil {
		t.Fatalf("DeleteCustomer = %v", err)
	}
	if err := db.Checkpoint(t.Context()); err != nil {
		t.Fatalf("Checkpoint = %v", err)
	}
	for _, p := range []string{db.Path(), db.Path() + "-wal"} {
		for _, m := range [][]byte{keyMarker, fieldMarker} {
			if fileContains(t, p, m) {
				t.Errorf("%s still holds %q after DeleteCustomer and a checkpoint; want it zeroed (secure_delete)", filepath.Base(p), m)
			}
		}
	}
}

// rawDB opens a fresh store on backend b and a second, plain database/sql handle on the
// same database, to look at rows no domain interface reads back yet. The returned function
// adapts a one-placeholder query to the dialect.
func rawDB(t *testing.T, b fidelistest.Backend) (*store.DB, *sql.DB, func(string) string) {
	t.Helper()
	if b.URL == "" {
		dir := t.TempDir()
		db, err := store.OpenSQLite(t.Context(), dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		raw, err := sql.Open("sqlite", "file:"+db.Path()+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { raw.Close() })
		return db, raw, func(q string) string { return q }
	}
	u := fidelistest.MustPostgresSchema(t, b.URL)
	db, err := store.OpenPostgres(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("pgx", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return db, raw, func(q string) string { return strings.ReplaceAll(q, "?", "$1") }
}

// TestOutboxAndReceiptRows_D5 looks at the stored outbox event and erasure receipt: they
// carry the pseudonymous ID, the type and field names, and nothing else (D-5).
func TestOutboxAndReceiptRows_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		db, raw, q := rawDB(t, b)
		now := fidelis.UTC(time.Now())
		id := fidelis.NewCustomerID(now)
		ev := &customer.Event{ID: fidelis.NewID("evt", now), At: now, Type: "customer.updated", Subject: string(id), Fields: []fidelis.Field{fidelis.FieldEmail, fidelis.FieldCity}}
		er := &customer.Erasure{ID: fidelis.NewID("era", now), CustomerID: id, ErasedAt: now, Actor: "user:usr_x", Purpose: fidelis.PurposeDataProtection,
			DataKey: "destroyed", Fields: 4, HistoryRows: 2, BlindIndexes: 1, KeptRecords: []string{}, Notice: "n"}
		err := store.Customers{DB: db}.Write(t.Context(), func(tx customer.Tx) error {
			if err := tx.AppendEvent(t.Context(), ev); err != nil {
				return err
			}
			return tx.InsertErasure(t.Context(), er)
		})
		if err != nil {
			t.Fatalf("Write = %v", err)
		}
		var typ, subject, payload string
		var at int64
		if err := raw.QueryRowContext(t.Context(), q(`SELECT type, subject, payload, at FROM outbox WHERE id = ?`), ev.ID).Scan(&typ, &subject, &payload, &at); err != nil {
			t.Fatalf("outbox row: %v", err)
		}
		if typ != ev.Type || subject != ev.Subject || at != now.UnixMicro() {
			t.Errorf("outbox row = %q, %q, %d; want %q, %q, %d", typ, subject, at, ev.Type, ev.Subject, now.UnixMicro())
		}
		var p struct {
			ID      string          `json:"id"`
			Type    string          `json:"type"`
			Subject string          `json:"subject"`
			Fields  []fidelis.Field `json:"fields"`
			At      time.Time       `json:"at"`
		}
		if err := json.Unmarshal([]byte(payload), &p); err != nil || p.ID != ev.ID || p.Type != ev.Type || p.Subject != ev.Subject ||
			len(p.Fields) != 2 || p.Fields[0] != fidelis.FieldEmail || !p.At.Equal(now) {
			t.Errorf("outbox payload = %s (%v); want the event's id, type, subject, fields and time", payload, err)
		}
		var members map[string]any
		if err := json.Unmarshal([]byte(payload), &members); err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(members)); !slices.Equal(got, []string{"at", "fields", "id", "subject", "type"}) {
			t.Errorf("outbox payload members = %v; want only at, fields, id, subject, type (IDs and field names, D-5)", got)
		}
		var receipt, cid string
		if err := raw.QueryRowContext(t.Context(), q(`SELECT customer_id, receipt FROM erasures WHERE id = ?`), er.ID).Scan(&cid, &receipt); err != nil {
			t.Fatalf("erasure row: %v", err)
		}
		var got customer.Erasure
		if err := json.Unmarshal([]byte(receipt), &got); err != nil {
			t.Fatalf("receipt %s: %v", receipt, err)
		}
		if cid != string(id) || got.ID != er.ID || got.CustomerID != id || !got.ErasedAt.Equal(now) || got.Fields != 4 || got.HistoryRows != 2 || got.BlindIndexes != 1 || got.DataKey != "destroyed" {
			t.Errorf("erasure row = %s, %s; want the receipt of %s", cid, receipt, id)
		}
	})
}
