package store

import (
	"strings"
	"testing"
)

// TestLedgerLookups_Indexed: on SQLite (which plans without statistics), the transactions
// citing a reference and a page of a programme's ledger are searched through an index
// that gives them in ID order, not by reading and sorting every transaction of the
// programme. (PostgreSQL plans with statistics; the same indexes exist there.)
func TestLedgerLookups_Indexed(t *testing.T) {
	db, err := OpenSQLite(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range []struct {
		query, index string
		args         []any
	}{
		{txsByReferenceSQL, "loyalty_transactions_reference", []any{"lpg_x", "lod_y"}},
		{ledgerPageSQL, "loyalty_transactions_programme", []any{"lpg_x", "ltx_y", 100}},
	} {
		rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+c.query, c.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		got := strings.Join(plan, "; ")
		if !strings.Contains(got, "USING INDEX "+c.index) || strings.Contains(got, "TEMP B-TREE") {
			t.Errorf("plan of %s:\n%s\nwant a search of %s without a sort", c.query, got, c.index)
		}
	}
}
