package store

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/loyalty"
)

// The parameters of one row of each table a chunk of orders writes, in column order,
// shared by the multi-row statements and by InsertBatch's arrays.

func keyArgs(a []any, k *loyalty.Idempotency) []any {
	return append(a, k.Scope, k.Key, k.RequestHash, k.Programme, k.Result, micros(k.CreatedAt))
}

// orderRow is an order with its stored document.
type orderRow struct {
	o   *loyalty.Order
	doc string
}

func orderRows(os []*loyalty.Order) ([]orderRow, error) {
	rows := make([]orderRow, len(os))
	for i, o := range os {
		b, err := json.Marshal(orderDocument{Currency: o.Currency, Lines: o.Lines})
		if err != nil {
			return nil, err
		}
		rows[i] = orderRow{o, string(b)}
	}
	return rows, nil
}

func orderArgs(a []any, r orderRow) []any {
	o := r.o
	return append(a, o.ID, o.Programme, o.Customer, micros(o.OrderedAt), o.Channel, o.Store, r.doc, micros(o.CreatedAt))
}

func ledgerArgs(a []any, x *loyalty.Transaction) []any {
	return append(a, x.ID, x.Programme, x.Customer, string(x.Kind), micros(x.At), x.RuleID, x.RuleVersion, x.TermsVersion, x.Reason.FR, x.Reason.EN, x.Reference)
}

// posting is one row of loyalty_postings.
type posting struct {
	tx  *loyalty.Transaction
	seq int
}

func postingsOf(xs []*loyalty.Transaction) []posting {
	var ps []posting
	for _, x := range xs {
		for seq := range x.Postings {
			ps = append(ps, posting{x, seq})
		}
	}
	return ps
}

func postingArgs(a []any, p posting) []any {
	l := &p.tx.Postings[p.seq]
	return append(a, p.tx.ID, p.seq, p.tx.Programme, string(l.Account), l.Customer, l.Amount, l.Lot)
}

func lotArgs(a []any, l *loyalty.Lot) []any {
	return append(a, l.ID, l.Programme, l.Customer, l.TxID, micros(l.EarnedAt), optMicros(l.ExpiresAt), l.Points, l.Remaining, optMicros(l.NotifiedAt))
}

func balanceArgs(a []any, u loyalty.BalanceUpdate) []any {
	m := u.Member
	return append(a, m.Programme, string(m.Customer), m.Balance, m.Debt, m.Version, u.From)
}

func auditArgs(a []any, e *audit.Entry) []any {
	return append(a, e.UID, micros(e.At), e.Actor, e.Action, e.Subject, string(e.Purpose), joinFields(e.Fields), string(e.Outcome), e.Reason, e.RequestID, e.MAC)
}

func eventArgs(a []any, e *loyalty.Event) ([]any, error) {
	payload, err := json.Marshal(map[string]any{"id": e.ID, "type": e.Type, "subject": e.Subject, "at": e.At, "data": e.Data})
	if err != nil {
		return a, err
	}
	return append(a, e.ID, micros(e.At), e.Type, e.Subject, string(payload)), nil
}

func errVersionMismatch() error {
	return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "a membership was changed meanwhile; try again"}
}

// InsertBatch implements loyalty.BatchTx. On SQLite, whose statements cost no round trip,
// it runs the multi-row statements table by table. On PostgreSQL it is one statement
// whatever the number of rows (batchSQL): every table's rows go as one array per column,
// so that a group of orders costs one round trip and one prepared statement, not one per
// table.
func (t *Tx) InsertBatch(ctx context.Context, b *loyalty.BatchRows) error {
	if t.db.Dialect != Postgres {
		if err := t.InsertLoyaltyKeys(ctx, b.Keys); err != nil {
			return err
		}
		if err := t.InsertOrders(ctx, b.Orders); err != nil {
			return err
		}
		if err := t.InsertLedgerTxs(ctx, b.Txs); err != nil {
			return err
		}
		if err := t.InsertLots(ctx, b.Lots); err != nil {
			return err
		}
		if err := t.UpdateBalances(ctx, b.Balances); err != nil {
			return err
		}
		if err := t.AppendAudit(ctx, b.Audit...); err != nil {
			return err
		}
		return t.AppendLoyaltyEvents(ctx, b.Events)
	}
	orders, err := orderRows(b.Orders)
	if err != nil {
		return err
	}
	var args []any
	add := func(rows [][]any, types string) error {
		cols, err := pgArrays(rows, types)
		args = append(args, cols...)
		return err
	}
	events := make([][]any, len(b.Events))
	for i, e := range b.Events {
		if events[i], err = eventArgs(nil, e); err != nil {
			return err
		}
	}
	audits := make([][]any, len(b.Audit))
	for i := range b.Audit {
		audits[i] = auditArgs(nil, &b.Audit[i])
	}
	for _, c := range []struct {
		rows  [][]any
		types string
	}{
		{rowsOf(b.Keys, keyArgs), batchTables[0].types},
		{rowsOf(orders, orderArgs), batchTables[1].types},
		{rowsOf(b.Txs, ledgerArgs), batchTables[2].types},
		{rowsOf(postingsOf(b.Txs), postingArgs), batchTables[3].types},
		{rowsOf(b.Lots, lotArgs), batchTables[4].types},
		{audits, batchTables[5].types},
		{events, batchTables[6].types},
		{rowsOf(b.Balances, balanceArgs), batchTables[7].types},
	} {
		if err := add(c.rows, c.types); err != nil {
			return fmt.Errorf("write orders: %w", err)
		}
	}
	var updated int
	if err := t.queryRow(ctx, batchSQL, args...).Scan(&updated); err != nil {
		return fmt.Errorf("write orders: %w", err)
	}
	if updated != len(b.Balances) {
		return errVersionMismatch()
	}
	return nil
}

func rowsOf[T any](items []T, args func([]any, T) []any) [][]any {
	out := make([][]any, len(items))
	for i, it := range items {
		out[i] = args(nil, it)
	}
	return out
}

// batchTables are the tables InsertBatch writes on PostgreSQL, in order, with their
// columns and the PostgreSQL type of each (t text, i bigint, b bytea).
var batchTables = [...]struct{ table, columns, types string }{
	{"loyalty_idempotency", "scope, idem_key, request_hash, programme_id, result, created_at", "ttttti"},
	{"loyalty_orders", "id, programme_id, customer_id, ordered_at, channel, store, document, created_at", "tttittti"},
	{"loyalty_transactions", ledgerColumns, "ttttitiittt"},
	{"loyalty_postings", "tx_id, seq, programme_id, account, customer_id, amount, lot_id", "titttit"},
	{"loyalty_lots", lotColumns, "ttttiiiii"},
	{"audit_entries", "uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac", "tittttttttb"},
	{"outbox", "id, at, type, subject, payload", "tittt"},
	{"", "programme_id, customer_id, balance, debt, version, old", "ttiiii"}, // the members' balances
}

// batchSQL inserts every table's rows from arrays (unnest keeps their order: audit entries
// get their IDs in the order they were recorded) and updates the balances of members
// whose version is still the one read, returning how many. The statements of a WITH run
// as one; the foreign keys are checked at its end, once every table is written.
var batchSQL = func() string {
	var b strings.Builder
	unnest := func(types string) string {
		casts := make([]string, len(types))
		for i, c := range types {
			casts[i] = "CAST(? AS " + map[rune]string{'t': "TEXT", 'i': "BIGINT", 'b': "BYTEA"}[c] + "[])"
		}
		return "unnest(" + strings.Join(casts, ", ") + ")"
	}
	b.WriteString("WITH ")
	for i, t := range batchTables[:len(batchTables)-1] {
		fmt.Fprintf(&b, "w%d AS (INSERT INTO %s (%s) SELECT * FROM %s), ", i, t.table, t.columns, unnest(t.types))
	}
	v := batchTables[len(batchTables)-1]
	fmt.Fprintf(&b, `m AS (UPDATE loyalty_members SET balance = v.balance, debt = v.debt, version = v.version FROM %s AS v (%s)
		WHERE loyalty_members.programme_id = v.programme_id AND loyalty_members.customer_id = v.customer_id AND loyalty_members.version = v.old RETURNING 1)
		SELECT count(*) FROM m`, unnest(v.types), v.columns)
	return b.String()
}()

// pgArrays turns rows of parameters into one array per column, of the types given.
func pgArrays(rows [][]any, types string) ([]any, error) {
	out := make([]any, len(types))
	for c, typ := range types {
		col := pgArray{elems: make([]any, len(rows))}
		for r, row := range rows {
			v, err := pgElement(row[c], typ)
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", c, err)
			}
			col.elems[r] = v
		}
		switch typ {
		case 't':
			col.index = ""
		case 'i':
			col.index = int64(0)
		case 'b':
			col.index = []byte(nil)
		}
		out[c] = col
	}
	return out, nil
}

// pgElement is v as an element of an array of typ (t text, i bigint, b bytea): a string,
// an int64 or a []byte, nil for NULL. A value already of that type is returned as it is,
// so that it is not boxed again; one of a named type (fidelis.CustomerID, loyalty.Kind,
// int) is converted.
func pgElement(v any, typ rune) (any, error) {
	switch v.(type) {
	case nil:
		return nil, nil
	case string:
		if typ == 't' {
			return v, nil
		}
	case int64:
		if typ == 'i' {
			return v, nil
		}
	case []byte:
		if typ == 'b' {
			return v, nil
		}
	}
	rv := reflect.ValueOf(v)
	switch {
	case typ == 't' && rv.Kind() == reflect.String:
		return rv.String(), nil
	case typ == 'i' && rv.CanInt():
		return rv.Int(), nil
	}
	return nil, fmt.Errorf("%T is not %s", v, map[rune]string{'t': "text", 'i': "an integer", 'b': "bytes"}[typ])
}

// pgArray is a one-dimensional array parameter for pgx (a pgtype.ArrayGetter): its
// elements go to the encoder as they are, without the reflection pgx uses for slices of
// other types than its own ([]*string, for NULLs, costs two allocations per element).
type pgArray struct {
	elems []any
	index any // a value of the elements' type
}

func (a pgArray) Dimensions() []pgtype.ArrayDimension {
	return []pgtype.ArrayDimension{{Length: int32(len(a.elems)), LowerBound: 1}}
}

func (a pgArray) Index(i int) any { return a.elems[i] }

func (a pgArray) IndexType() any { return a.index }
