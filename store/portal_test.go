package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/store"
)

// TestMigration00007_GrantsSubjectToStoredRegistry: an installation whose registry was
// stored before the portal existed gets the subject role from migration 00007, once, on
// both backends; the other grants are untouched.
func TestMigration00007_GrantsSubjectToStoredRegistry(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		dir, url, driver, dsn := t.TempDir(), "", "sqlite", ""
		if b.URL != "" {
			url = fidelistest.MustPostgresSchema(t, b.URL)
			driver, dsn = "pgx", url
		} else {
			dsn = "file:" + filepath.Join(dir, store.DatabaseFile)
		}
		db, err := store.Open(context.Background(), dir, url)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.LoadRegistry(context.Background(), time.Now()); err != nil {
			t.Fatal(err)
		}
		db.Close()

		// The registry as an installation from before the portal stored it.
		var old []privacy.RoleGrant
		for _, g := range privacy.DefaultGrants() {
			if g.Role != fidelis.RoleSubject {
				old = append(old, g)
			}
		}
		doc, _ := json.Marshal(map[string]any{"purposes": privacy.DefaultPurposes(), "grants": old})
		raw, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		set := `UPDATE registry SET document = ? WHERE id = 1`
		if b.URL != "" {
			set = strings.Replace(set, "?", "$1", 1)
		}
		if _, err := raw.Exec(set, string(doc)); err != nil {
			t.Fatal(err)
		}
		update := migrationUpdate(t, b)
		for range 2 { // the migration's statement is idempotent
			if _, err := raw.Exec(update); err != nil {
				t.Fatalf("migration statement: %v", err)
			}
		}

		db, err = store.Open(context.Background(), dir, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		reg, err := db.LoadRegistry(context.Background(), time.Now())
		if err != nil {
			t.Fatalf("LoadRegistry after migration: %v", err)
		}
		var got []fidelis.Role
		for _, g := range reg.Roles() {
			got = append(got, g.Role)
		}
		if len(got) != len(privacy.DefaultGrants()) || !slices.Contains(got, fidelis.RoleSubject) {
			t.Fatalf("roles after migration = %v; want the defaults, subject included once", got)
		}
		if got := reg.PurposesOf(fidelis.RoleSubject); len(got) != 2 || got[0].Name != fidelis.PurposeLoyalty || got[1].Name != fidelis.PurposeDataProtection {
			t.Errorf("PurposesOf(subject) = %v; want loyalty and data_protection", got)
		}
		if !reg.Can(fidelis.RoleSubject, fidelis.ActionExport) || reg.Can(fidelis.RoleSubject, fidelis.ActionErase) {
			t.Error("subject role: want export, and no erase")
		}
	})
}

// migrationUpdate returns the UPDATE statement of migration 00007 for b's dialect.
func migrationUpdate(t *testing.T, b fidelistest.Backend) string {
	t.Helper()
	dialect := "sqlite"
	if b.URL != "" {
		dialect = "postgres"
	}
	src, err := os.ReadFile(filepath.Join("migrations", dialect, "00007_portal.sql"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	i := strings.Index(s, "UPDATE registry")
	j := strings.Index(s[i:], ";")
	if i < 0 || j < 0 {
		t.Fatal("migration 00007 has no UPDATE registry statement")
	}
	return s[i : i+j]
}
