package store_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/store"
)

// TestPostgres_GroupReadsPerRow_L7: the reads a group of orders makes in one statement,
// its Idempotency-Keys already used (one scope) and its members locked (one programme),
// cost a few pages per row asked for, not a walk of every key the scope ever used or of
// every member of the programme, even under the generic plan PostgreSQL caches for a
// prepared statement and with statistics taken when the table was small and spread over
// many scopes or programmes (as after a till's first day). Measured by the buffers
// EXPLAIN ANALYZE reports.
func TestPostgres_GroupReadsPerRow_L7(t *testing.T) {
	var base string
	for _, b := range fidelistest.Backends(t) {
		if b.URL != "" {
			base = b.URL
		}
	}
	if base == "" {
		t.Skip("a PostgreSQL plan: FIDELIS_TEST_POSTGRES is not set")
	}
	url := fidelistest.MustPostgresSchema(t, base)
	db, err := store.OpenPostgres(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	const rows = 64
	for _, c := range []struct {
		name          string
		setup         []string
		statement     string
		first, prefix string // the statement's first argument, and the prefix of the others
	}{
		{"idempotency keys", []string{
			// The statistics: 300 keys over 300 scopes; then a till's 30,000 keys.
			`INSERT INTO loyalty_idempotency SELECT 'token:t' || i, 'k-' || i, 'h', 'lpg_x', 'lod_' || i, i FROM generate_series(1, 300) i`,
			`ANALYZE loyalty_idempotency`,
			`INSERT INTO loyalty_idempotency SELECT 'token:till', 'till-' || i, 'h', 'lpg_x', 'lod_' || i, i FROM generate_series(1, 30000) i`,
		}, store.KeysOfSQL(db, rows), "token:till", "till-"},
		{"members", []string{
			// The statistics: 300 programmes of one member; then a programme's 30,000.
			`INSERT INTO loyalty_programmes SELECT 'lpg_' || i, 'P', 'EUR', 1, 30, 0 FROM generate_series(0, 300) i`,
			`INSERT INTO loyalty_members SELECT 'lpg_' || i, 'cus_' || i, 0, NULL, 1, 0, 0, 1 FROM generate_series(1, 300) i`,
			`ANALYZE loyalty_members`,
			`INSERT INTO loyalty_members SELECT 'lpg_0', 'cus_' || i, 0, NULL, 1, 0, 0, 1 FROM generate_series(1, 30000) i`,
		}, store.LockMembersSQL(db, rows), "lpg_0", "cus_"},
	} {
		stmt := strings.ReplaceAll(c.name, " ", "_")
		t.Run(c.name, func(t *testing.T) {
			conn, err := raw.Conn(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			for _, q := range append(c.setup, `SET plan_cache_mode = force_generic_plan`, `PREPARE `+stmt+` AS `+c.statement) {
				if _, err := conn.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("%.60s: %v", q, err)
				}
			}
			args := []string{"'" + c.first + "'"}
			for i := range rows {
				args = append(args, fmt.Sprintf("'%s%d'", c.prefix, 100+i*7))
			}
			var plan string
			if err := conn.QueryRowContext(t.Context(), `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE `+stmt+`(`+strings.Join(args, ", ")+`)`).Scan(&plan); err != nil {
				t.Fatal(err)
			}
			var out []struct {
				Plan struct {
					NodeType   string `json:"Node Type"`
					SharedHit  int    `json:"Shared Hit Blocks"`
					SharedRead int    `json:"Shared Read Blocks"`
				} `json:"Plan"`
			}
			if err := json.Unmarshal([]byte(plan), &out); err != nil || len(out) != 1 {
				t.Fatalf("EXPLAIN output %q: %v", plan, err)
			}
			// One descent per row through an index three levels deep, and its heap page.
			if got := out[0].Plan.SharedHit + out[0].Plan.SharedRead; got > 5*rows {
				t.Errorf("reading %d rows among 30,000 of one %s read %d pages (%s); want at most %d", rows, c.first, got, out[0].Plan.NodeType, 5*rows)
			}
		})
	}
}
