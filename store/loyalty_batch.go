package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// Multi-row statements for the loyalty ledger. A till batch writes hundreds of small rows
// per transaction; on SQLite the per-statement cost (database/sql, binding, VDBE set-up) is
// a large part of writing one small row, so rows go in statements of up to batchRows rows.
// The statement for each row count is built once, and (on SQLite) prepared once per pool.

// batchRows bounds the rows of one statement (11 parameters at most each, far below both
// engines' parameter limits), and so the number of distinct statements per table.
const batchRows = 64

// rowStatements holds, at index n, the statement for n rows: head, n copies of row
// separated by commas, then tail.
type rowStatements []string

func newRowStatements(head, row, tail string) rowStatements {
	qs := make(rowStatements, batchRows+1)
	for n := 1; n <= batchRows; n++ {
		qs[n] = head + row + strings.Repeat(", "+row, n-1) + tail
	}
	return qs
}

// execRows runs qs over items in statements of at most batchRows rows, args appending the
// parameters of one item; it returns the rows affected.
func execRows[T any](ctx context.Context, t *Tx, qs rowStatements, items []T, args func([]any, T) []any) (int64, error) {
	var affected int64
	for chunk := range slices.Chunk(items, batchRows) {
		var a []any
		for _, it := range chunk {
			a = args(a, it)
		}
		res, err := t.exec(ctx, qs[len(chunk)], a...)
		if err != nil {
			return affected, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return affected, err
		}
		affected += n
	}
	return affected, nil
}

// inLists splits ids into sorted, de-duplicated chunks for "IN (...)" lists, each padded
// with its last value to 1, 4, 16 or 64 entries, so that a handful of statements serve
// every list length. Chunks come in ascending order: rows locked through them are locked
// in ID order.
func inLists(ids []string) [][]any {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var out [][]any
	for chunk := range slices.Chunk(sorted, batchRows) {
		size := 1
		for size < len(chunk) {
			size *= 4
		}
		list := make([]any, size)
		for i := range list {
			list[i] = chunk[min(i, len(chunk)-1)]
		}
		out = append(out, list)
	}
	return out
}

// LockMembers implements loyalty.BatchTx: one statement per 64 members; on PostgreSQL the
// rows are locked in customer order (the sort runs below the row locks), as GetMember with
// lock would lock them one by one.
func (t *Tx) LockMembers(ctx context.Context, programme string, customers []fidelis.CustomerID) (map[fidelis.CustomerID]*loyalty.Member, error) {
	ids := make([]string, len(customers))
	for i, c := range customers {
		ids[i] = string(c)
	}
	out := make(map[fidelis.CustomerID]*loyalty.Member, len(ids))
	for _, list := range inLists(ids) {
		ms, err := t.members(ctx, lockMembersSQL(len(list), t.db.Dialect == Postgres, t.db.Dialect == Postgres && t.inTx()), append([]any{programme}, list...)...)
		if err != nil {
			return nil, fmt.Errorf("lock members: %w", err)
		}
		for _, m := range ms {
			out[m.Customer] = m
		}
	}
	return out, nil
}

// lockMembersSQL reads the members of one programme among n customers, locking them when
// forUpdate. On PostgreSQL (postgres) the programme is a filter the planner cannot serve
// from an index ("IS TRUE" is not indexable): a cached generic plan, costed from
// statistics taken when the programme was small, could otherwise read the primary key on
// the programme alone and walk every member it has. The only index path left is one
// descent per customer in loyalty_members_customer.
func lockMembersSQL(n int, postgres, forUpdate bool) string {
	programme := `programme_id = ?`
	if postgres {
		programme = `(programme_id = ?) IS TRUE`
	}
	q := `SELECT ` + memberColumns + ` FROM loyalty_members WHERE ` + programme + ` AND customer_id IN (` + placeholders(n) + `) ORDER BY customer_id`
	if forUpdate {
		q += ` FOR UPDATE`
	}
	return q
}

// LoyaltyKeysOf implements loyalty.BatchTx.
func (t *Tx) LoyaltyKeysOf(ctx context.Context, scope string, keys []string) (map[string]*loyalty.Idempotency, error) {
	out := map[string]*loyalty.Idempotency{}
	for _, list := range inLists(keys) {
		rows, err := t.query(ctx, keysOfSQL(len(list)), append([]any{scope}, list...)...)
		if err != nil {
			return nil, fmt.Errorf("read idempotency keys: %w", err)
		}
		for rows.Next() {
			k, err := scanKey(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[k.Key] = k
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// keysOfSQL reads the keys of one scope among n. On PostgreSQL the primary key is led by
// the key (migration 00011), so that the plan is one index descent per key whatever the
// table's statistics say.
func keysOfSQL(n int) string {
	return `SELECT ` + keyColumns + ` FROM loyalty_idempotency WHERE scope = ? AND idem_key IN (` + placeholders(n) + `)`
}

var keyInserts = newRowStatements(`INSERT INTO loyalty_idempotency (scope, idem_key, request_hash, programme_id, result, created_at) VALUES `, `(?, ?, ?, ?, ?, ?)`, ``)

// InsertLoyaltyKeys implements loyalty.BatchTx: a key already stored is a constraint
// violation (ECONFLICT), never silently skipped.
func (t *Tx) InsertLoyaltyKeys(ctx context.Context, ks []*loyalty.Idempotency) error {
	_, err := execRows(ctx, t, keyInserts, ks, keyArgs)
	if err != nil {
		return fmt.Errorf("insert idempotency keys: %w", err)
	}
	return nil
}

var orderInserts = newRowStatements(`INSERT INTO loyalty_orders (id, programme_id, customer_id, ordered_at, channel, store, document, created_at) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?)`, ``)

// InsertOrders implements loyalty.BatchTx.
func (t *Tx) InsertOrders(ctx context.Context, os []*loyalty.Order) error {
	rows, err := orderRows(os)
	if err != nil {
		return err
	}
	if _, err := execRows(ctx, t, orderInserts, rows, orderArgs); err != nil {
		return fmt.Errorf("insert orders: %w", err)
	}
	return nil
}

var (
	ledgerInserts  = newRowStatements(`INSERT INTO loyalty_transactions (`+ledgerColumns+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)
	postingInserts = newRowStatements(`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES `, `(?, ?, ?, ?, ?, ?, ?)`, ``)
)

// InsertLedgerTxs implements loyalty.BatchTx: the transactions, then their postings.
func (t *Tx) InsertLedgerTxs(ctx context.Context, xs []*loyalty.Transaction) error {
	_, err := execRows(ctx, t, ledgerInserts, xs, ledgerArgs)
	if err != nil {
		return fmt.Errorf("insert ledger transactions: %w", err)
	}
	_, err = execRows(ctx, t, postingInserts, postingsOf(xs), postingArgs)
	if err != nil {
		return fmt.Errorf("insert postings: %w", err)
	}
	return nil
}

var lotInserts = newRowStatements(`INSERT INTO loyalty_lots (`+lotColumns+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)

// InsertLots implements loyalty.BatchTx.
func (t *Tx) InsertLots(ctx context.Context, ls []*loyalty.Lot) error {
	_, err := execRows(ctx, t, lotInserts, ls, lotArgs)
	if err != nil {
		return fmt.Errorf("insert lots: %w", err)
	}
	return nil
}

// balanceUpdates holds, per dialect, the UPDATE of several members' balances: a CTE with
// a column list reads the same on SQLite (3.33+) and PostgreSQL; PostgreSQL needs the
// parameter types spelled out. The version condition makes a lost update impossible.
var balanceUpdates = func() map[Dialect]rowStatements {
	const head = `WITH v (programme_id, customer_id, balance, debt, version, old) AS (VALUES `
	const tail = `) UPDATE loyalty_members SET balance = v.balance, debt = v.debt, version = v.version FROM v
		WHERE loyalty_members.programme_id = v.programme_id AND loyalty_members.customer_id = v.customer_id AND loyalty_members.version = v.old`
	return map[Dialect]rowStatements{
		SQLite:   newRowStatements(head, `(?, ?, ?, ?, ?, ?)`, tail),
		Postgres: newRowStatements(head, `(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))`, tail),
	}
}()

// UpdateBalances implements loyalty.BatchTx.
func (t *Tx) UpdateBalances(ctx context.Context, us []loyalty.BalanceUpdate) error {
	n, err := execRows(ctx, t, balanceUpdates[t.db.Dialect], us, balanceArgs)
	if err != nil {
		return fmt.Errorf("update balances: %w", err)
	}
	if n != int64(len(us)) {
		return errVersionMismatch()
	}
	return nil
}

// OrderEnvStamp implements loyalty.BatchTx: counts through each table's primary key.
func (t *Tx) OrderEnvStamp(ctx context.Context, programme string) (loyalty.EnvStamp, error) {
	st, err := scanStamp(t.queryRow(ctx, stampSQL, programme, programme, programme, programme))
	if err != nil {
		return st, fmt.Errorf("order environment stamp: %w", err)
	}
	return st, nil
}

const stampSQL = `SELECT (SELECT count(*) FROM loyalty_programmes WHERE id = ?), (SELECT count(*) FROM loyalty_terms WHERE programme_id = ?),
		(SELECT count(*) FROM loyalty_rules WHERE programme_id = ?), (SELECT count(*) FROM loyalty_policies WHERE programme_id = ?)`

func scanStamp(sc interface{ Scan(...any) error }) (loyalty.EnvStamp, error) {
	var st loyalty.EnvStamp
	var progs int
	if err := sc.Scan(&progs, &st.Terms, &st.Rules, &st.Policies); err != nil {
		return st, err
	}
	st.Programme = progs > 0
	return st, nil
}

// ReadChunk implements loyalty.BatchTx. On SQLite, whose statements cost no round trip, it
// runs the three reads one after the other. In a PostgreSQL write transaction it sends
// BEGIN (if not sent yet) and every statement of the three as one pipeline (pgx.Batch) on
// the transaction's session.
func (t *Tx) ReadChunk(ctx context.Context, r loyalty.ChunkReads) (*loyalty.ChunkState, error) {
	st := &loyalty.ChunkState{
		Stamps:  make(map[string]loyalty.EnvStamp, len(r.Programmes)),
		Members: make(map[string]map[fidelis.CustomerID]*loyalty.Member, len(r.Programmes)),
		Keys:    make(map[string]map[string]*loyalty.Idempotency, len(r.Keys)),
	}
	scopes := slices.Sorted(maps.Keys(r.Keys))
	if t.conn == nil {
		for _, p := range r.Programmes {
			s, err := t.OrderEnvStamp(ctx, p)
			if err != nil {
				return nil, err
			}
			st.Stamps[p] = s
		}
		for _, p := range r.Programmes {
			ms, err := t.LockMembers(ctx, p, r.Members[p])
			if err != nil {
				return nil, err
			}
			st.Members[p] = ms
		}
		for _, scope := range scopes {
			ks, err := t.LoyaltyKeysOf(ctx, scope, r.Keys[scope])
			if err != nil {
				return nil, err
			}
			st.Keys[scope] = ks
		}
		return st, nil
	}
	b := &pgx.Batch{}
	if !t.begun {
		// Marked begun before it is sent: a ROLLBACK outside a transaction is harmless, a
		// transaction left open is not.
		t.begun = true
		b.Queue(`BEGIN`)
	}
	for _, p := range r.Programmes {
		b.Queue(t.db.q(stampSQL), p, p, p, p).QueryRow(func(row pgx.Row) error {
			s, err := scanStamp(row)
			if err != nil {
				return fmt.Errorf("order environment stamp: %w", err)
			}
			st.Stamps[p] = s
			return nil
		})
	}
	for _, p := range r.Programmes {
		ms := map[fidelis.CustomerID]*loyalty.Member{}
		st.Members[p] = ms
		ids := make([]string, len(r.Members[p]))
		for i, c := range r.Members[p] {
			ids[i] = string(c)
		}
		for _, list := range inLists(ids) {
			b.Queue(t.db.q(lockMembersSQL(len(list), true, true)), append([]any{p}, list...)...).Query(
				scanRows("lock members", scanMember, func(m *loyalty.Member) { ms[m.Customer] = m }))
		}
	}
	for _, scope := range scopes {
		ks := map[string]*loyalty.Idempotency{}
		st.Keys[scope] = ks
		for _, list := range inLists(r.Keys[scope]) {
			b.Queue(t.db.q(keysOfSQL(len(list))), append([]any{scope}, list...)...).Query(
				scanRows("read idempotency keys", scanKey, func(k *loyalty.Idempotency) { ks[k.Key] = k }))
		}
	}
	err := t.conn.Raw(func(dc any) error {
		return dc.(*stdlib.Conn).Conn().SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// scanRows reads a pipelined query's rows with scan, handing each to put.
func scanRows[T any](what string, scan func(interface{ Scan(...any) error }) (T, error), put func(T)) func(pgx.Rows) error {
	return func(rows pgx.Rows) error {
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
			put(v)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}
