package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/vault"
)

// Customers adapts DB to customer.Store.
type Customers = Adapter[customer.Tx]

var _ customer.Store = Customers{}
var _ customer.Tx = (*Tx)(nil)

// sealedColumns are the ciphertext columns, named after the fields they hold.
func sealedColumns() []fidelis.Field { return fidelis.CustomerFields() }

func customerSelect(where string) string {
	var b strings.Builder
	b.WriteString("SELECT c.id, c.version, c.created_at, c.updated_at, c.email_bidx, c.phone_bidx, k.kek_id, k.wrapped_dek")
	for _, f := range sealedColumns() {
		b.WriteString(", c." + string(f))
	}
	b.WriteString(" FROM customers c JOIN customer_keys k ON k.customer_id = c.id ")
	b.WriteString(where)
	return b.String()
}

func scanCustomer(sc interface{ Scan(...any) error }) (*customer.Record, error) {
	r := &customer.Record{Sealed: map[fidelis.Field][]byte{}}
	var created, updated int64
	cols := sealedColumns()
	vals := make([][]byte, len(cols))
	dest := []any{&r.ID, &r.Version, &created, &updated, &r.EmailIndex, &r.PhoneIndex, &r.Key.KEKID, &r.Key.Wrapped}
	for i := range vals {
		dest = append(dest, &vals[i])
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	for i, f := range cols {
		if len(vals[i]) > 0 {
			r.Sealed[f] = vals[i]
		}
	}
	return r, nil
}

func (t *Tx) customers(ctx context.Context, query string, args ...any) ([]*customer.Record, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*customer.Record, error) { return scanCustomer(rows) }, query, args...)
}

func sealedArgs(r *customer.Record) []any {
	var args []any
	for _, f := range sealedColumns() {
		if v := r.Sealed[f]; len(v) > 0 {
			args = append(args, v)
		} else {
			args = append(args, nil)
		}
	}
	return args
}

func nilIfEmpty(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// InsertCustomer implements customer.Tx.
func (t *Tx) InsertCustomer(ctx context.Context, r *customer.Record) error {
	if _, err := t.exec(ctx, `INSERT INTO customer_keys (customer_id, kek_id, wrapped_dek, created_at) VALUES (?, ?, ?, ?)`,
		r.ID, r.Key.KEKID, r.Key.Wrapped, micros(r.CreatedAt)); err != nil {
		return fmt.Errorf("insert customer key: %w", err)
	}
	cols := sealedColumns()
	names := make([]string, len(cols))
	for i, f := range cols {
		names[i] = string(f)
	}
	q := "INSERT INTO customers (id, version, created_at, updated_at, email_bidx, phone_bidx, " + strings.Join(names, ", ") +
		") VALUES (?, ?, ?, ?, ?, ?" + strings.Repeat(", ?", len(cols)) + ")"
	args := append([]any{r.ID, r.Version, micros(r.CreatedAt), micros(r.UpdatedAt), nilIfEmpty(r.EmailIndex), nilIfEmpty(r.PhoneIndex)}, sealedArgs(r)...)
	if _, err := t.exec(ctx, q, args...); err != nil {
		return fmt.Errorf("insert customer: %w", err)
	}
	return nil
}

// UpdateCustomer implements customer.Tx.
func (t *Tx) UpdateCustomer(ctx context.Context, r *customer.Record) error {
	var sets []string
	for _, f := range sealedColumns() {
		sets = append(sets, string(f)+" = ?")
	}
	q := "UPDATE customers SET version = ?, updated_at = ?, email_bidx = ?, phone_bidx = ?, " + strings.Join(sets, ", ") +
		" WHERE id = ? AND version = ?"
	args := append([]any{r.Version, micros(r.UpdatedAt), nilIfEmpty(r.EmailIndex), nilIfEmpty(r.PhoneIndex)}, sealedArgs(r)...)
	args = append(args, r.ID, r.Version-1)
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update customer: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "the customer was changed meanwhile; reload and try again"}
	}
	return nil
}

// GetCustomer implements customer.Tx.
func (t *Tx) GetCustomer(ctx context.Context, id fidelis.CustomerID) (*customer.Record, error) {
	r, err := scanCustomer(t.queryRow(ctx, customerSelect("WHERE c.id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("customer")
	}
	return r, err
}

// ListCustomers implements customer.Tx.
func (t *Tx) ListCustomers(ctx context.Context, before fidelis.CustomerID, limit int) ([]*customer.Record, error) {
	if before == "" {
		return t.customers(ctx, customerSelect("ORDER BY c.id DESC LIMIT ?"), limit)
	}
	return t.customers(ctx, customerSelect("WHERE c.id < ? ORDER BY c.id DESC LIMIT ?"), before, limit)
}

// FindByEmailIndex implements customer.Tx.
func (t *Tx) FindByEmailIndex(ctx context.Context, idx []byte, limit int) ([]*customer.Record, error) {
	return t.customers(ctx, customerSelect("WHERE c.email_bidx = ? ORDER BY c.id DESC LIMIT ?"), idx, limit)
}

// FindByPhoneIndex implements customer.Tx.
func (t *Tx) FindByPhoneIndex(ctx context.Context, idx []byte, limit int) ([]*customer.Record, error) {
	return t.customers(ctx, customerSelect("WHERE c.phone_bidx = ? ORDER BY c.id DESC LIMIT ?"), idx, limit)
}

// InsertChange implements customer.Tx.
func (t *Tx) InsertChange(ctx context.Context, c *customer.Change) error {
	_, err := t.exec(ctx, `INSERT INTO customer_changes (customer_id, version, at, actor, purpose, fields, previous) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		c.CustomerID, c.Version, micros(c.At), c.Actor, string(c.Purpose), joinFields(c.Fields), c.Previous)
	return err
}

// Changes implements customer.Tx.
func (t *Tx) Changes(ctx context.Context, id fidelis.CustomerID) ([]*customer.Change, error) {
	rows, err := t.query(ctx, `SELECT version, at, actor, purpose, fields, previous FROM customer_changes WHERE customer_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*customer.Change
	for rows.Next() {
		c := &customer.Change{CustomerID: id}
		var at int64
		var fields, purpose string
		if err := rows.Scan(&c.Version, &at, &c.Actor, &purpose, &fields, &c.Previous); err != nil {
			return nil, err
		}
		c.At, c.Fields, c.Purpose = fromMicros(at), splitFields(fields), fidelis.Purpose(purpose)
		out = append(out, c)
	}
	return out, rows.Err()
}

// DeleteCustomer implements customer.Tx: key first, so that nothing readable survives even
// if a later statement failed and the caller ignored it (it cannot: one transaction).
func (t *Tx) DeleteCustomer(ctx context.Context, id fidelis.CustomerID) (customer.Deleted, error) {
	var d customer.Deleted
	r, err := t.GetCustomer(ctx, id)
	if err != nil {
		return d, err
	}
	d.Fields = len(r.Sealed)
	if len(r.EmailIndex) > 0 {
		d.BlindIndexes++
	}
	if len(r.PhoneIndex) > 0 {
		d.BlindIndexes++
	}
	if _, err := t.exec(ctx, `DELETE FROM customer_keys WHERE customer_id = ?`, id); err != nil {
		return d, fmt.Errorf("delete customer key: %w", err)
	}
	t.truncateWAL = true
	res, err := t.exec(ctx, `DELETE FROM customer_changes WHERE customer_id = ?`, id)
	if err != nil {
		return d, fmt.Errorf("delete customer history: %w", err)
	}
	n, _ := res.RowsAffected()
	d.HistoryRows = int(n)
	// The folded privacy state goes with the customer; the consent ledger stays, with IDs
	// and times only, as the evidence the law asks to keep (T-6).
	if _, err := t.exec(ctx, `DELETE FROM subject_states WHERE customer_id = ?`, id); err != nil {
		return d, fmt.Errorf("delete subject state: %w", err)
	}
	// The retention clock and notices are facts about the person; legal holds stay, as
	// evidence of the cases (T-8).
	for _, q := range []string{`DELETE FROM retention_activity WHERE customer_id = ?`, `DELETE FROM retention_notices WHERE customer_id = ?`} {
		if _, err := t.exec(ctx, q, id); err != nil {
			return d, fmt.Errorf("delete retention facts: %w", err)
		}
	}
	if _, err := t.exec(ctx, `DELETE FROM customers WHERE id = ?`, id); err != nil {
		return d, fmt.Errorf("delete customer: %w", err)
	}
	return d, nil
}

// InsertErasure implements customer.Tx.
func (t *Tx) InsertErasure(ctx context.Context, e *customer.Erasure) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO erasures (id, customer_id, erased_at, receipt) VALUES (?, ?, ?, ?)`, e.ID, e.CustomerID, micros(e.ErasedAt), string(b))
	return err
}

// AppendEvent implements customer.Tx.
func (t *Tx) AppendEvent(ctx context.Context, e *customer.Event) error {
	body := map[string]any{"id": e.ID, "type": e.Type, "subject": e.Subject, "fields": e.Fields, "at": e.At}
	if len(e.Attrs) > 0 {
		body["attrs"] = e.Attrs
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)`, e.ID, micros(e.At), e.Type, e.Subject, string(payload))
	return err
}

// WrappedKeys calls fn for up to limit customer keys wrapped under a KEK other than active.
func (t *Tx) WrappedKeys(ctx context.Context, active string, limit int, fn func(id fidelis.CustomerID, w vault.WrappedDEK) error) error {
	rows, err := t.query(ctx, `SELECT customer_id, kek_id, wrapped_dek FROM customer_keys WHERE kek_id <> ? ORDER BY customer_id LIMIT ?`, active, limit)
	if err != nil {
		return err
	}
	type row struct {
		id fidelis.CustomerID
		w  vault.WrappedDEK
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.w.KEKID, &r.w.Wrapped); err != nil {
			rows.Close()
			return err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range all {
		if err := fn(r.id, r.w); err != nil {
			return err
		}
	}
	return nil
}

// ReplaceWrappedKey stores a rewrapped key if the stored one is still old (a concurrent
// erasure wins: the row is gone and nothing is written).
func (t *Tx) ReplaceWrappedKey(ctx context.Context, id fidelis.CustomerID, old string, w vault.WrappedDEK) error {
	_, err := t.exec(ctx, `UPDATE customer_keys SET kek_id = ?, wrapped_dek = ? WHERE customer_id = ? AND kek_id = ?`, w.KEKID, w.Wrapped, id, old)
	return err
}

// CountKeysNotUnder counts customer keys wrapped under a KEK other than active.
func (t *Tx) CountKeysNotUnder(ctx context.Context, active string) (int64, error) {
	var n int64
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM customer_keys WHERE kek_id <> ?`, active).Scan(&n)
	return n, err
}

func joinFields(fs []fidelis.Field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ",")
}

func splitFields(s string) []fidelis.Field {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]fidelis.Field, len(parts))
	for i, p := range parts {
		out[i] = fidelis.Field(p)
	}
	return out
}

// CountCustomers counts stored customers.
func (db *DB) CountCustomers(ctx context.Context) (n int64, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) error { return tx.queryRow(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n) })
	return n, err
}
