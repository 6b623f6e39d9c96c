package store_test

import (
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/store"
)

// TestReadsCannotWrite: a read runs without a transaction of its own, on connections that
// cannot write (SQLite opened read-only, PostgreSQL sessions with
// default_transaction_read_only), so a statement that writes fails there and writes
// nothing; the same statement succeeds in a write transaction.
func TestReadsCannotWrite(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		url := ""
		if b.URL != "" {
			url = fidelistest.MustPostgresSchema(t, b.URL)
		}
		db, err := store.Open(t.Context(), t.TempDir(), url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		const insert = `INSERT INTO loyalty_programmes (id, name, currency, point_value_cents, notice_days, created_at) VALUES (?, 'P', 'EUR', 1, 30, 0)`
		if err := db.ReadTx(t.Context(), func(tx *store.Tx) error { return store.ExecInTx(t.Context(), tx, insert, "lpg_read") }); err == nil {
			t.Error("a read wrote a row; want an error")
		}
		var n int
		if err := db.ReadTx(t.Context(), func(tx *store.Tx) error {
			return store.QueryRowInTx(t.Context(), tx, `SELECT count(*) FROM loyalty_programmes`).Scan(&n)
		}); err != nil || n != 0 {
			t.Errorf("programmes after the refused read = %d, %v; want 0", n, err)
		}
		if err := db.WriteTx(t.Context(), func(tx *store.Tx) error { return store.ExecInTx(t.Context(), tx, insert, "lpg_write") }); err != nil {
			t.Errorf("the same insert in a write transaction: %v", err)
		}
	})
}
