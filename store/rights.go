package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/rights"
)

// Rights adapts DB to rights.Store.
type Rights = Adapter[rights.Tx]

var _ rights.Store = Rights{}
var _ rights.Tx = (*Tx)(nil)

// caseDoc is the JSON document column of a case: everything not in an indexed column.
type caseDoc struct {
	Purposes  []fidelis.Purpose `json:"purposes,omitempty"`
	Identity  *rights.Identity  `json:"identity,omitempty"`
	Extension *rights.Extension `json:"extension,omitempty"`
	Refusal   *rights.Refusal   `json:"refusal,omitempty"`
	Answer    *rights.Answer    `json:"answer,omitempty"`
	CreatedBy string            `json:"created_by"`
}

const caseColumns = "id, customer_id, kind, channel, status, received_at, original_due, due, created_at, updated_at, version, doc"

func caseArgs(c *rights.Case) ([]any, error) {
	doc, err := json.Marshal(caseDoc{Purposes: c.Purposes, Identity: c.Identity, Extension: c.Extension, Refusal: c.Refusal, Answer: c.Answer, CreatedBy: c.CreatedBy})
	if err != nil {
		return nil, err
	}
	return []any{c.ID, c.CustomerID, string(c.Kind), string(c.Channel), string(c.Status), micros(c.ReceivedAt),
		c.OriginalDue.Format(rights.DateLayout), c.Due.Format(rights.DateLayout), micros(c.CreatedAt), micros(c.UpdatedAt), c.Version, string(doc)}, nil
}

func scanCase(sc interface{ Scan(...any) error }) (*rights.Case, error) {
	c := &rights.Case{}
	var kind, channel, status, origDue, due, doc string
	var received, created, updated int64
	if err := sc.Scan(&c.ID, &c.CustomerID, &kind, &channel, &status, &received, &origDue, &due, &created, &updated, &c.Version, &doc); err != nil {
		return nil, err
	}
	c.Kind, c.Channel, c.Status = rights.Kind(kind), rights.Channel(channel), rights.Status(status)
	c.ReceivedAt, c.CreatedAt, c.UpdatedAt = fromMicros(received), fromMicros(created), fromMicros(updated)
	var err error
	if c.OriginalDue, err = time.Parse(rights.DateLayout, origDue); err != nil {
		return nil, fmt.Errorf("rights request %s: original due: %w", c.ID, err)
	}
	if c.Due, err = time.Parse(rights.DateLayout, due); err != nil {
		return nil, fmt.Errorf("rights request %s: due: %w", c.ID, err)
	}
	var d caseDoc
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("rights request %s: %w", c.ID, err)
	}
	c.Purposes, c.Identity, c.Extension, c.Refusal, c.Answer, c.CreatedBy = d.Purposes, d.Identity, d.Extension, d.Refusal, d.Answer, d.CreatedBy
	return c, nil
}

// InsertRightsRequest implements rights.Tx.
func (t *Tx) InsertRightsRequest(ctx context.Context, c *rights.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, "INSERT INTO rights_requests ("+caseColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", args...)
	if err != nil {
		return fmt.Errorf("insert rights request: %w", err)
	}
	return nil
}

// UpdateRightsRequest implements rights.Tx.
func (t *Tx) UpdateRightsRequest(ctx context.Context, c *rights.Case) error {
	args, err := caseArgs(c)
	if err != nil {
		return err
	}
	// id and customer_id, kind, channel, received_at, created_at never change.
	res, err := t.exec(ctx, `UPDATE rights_requests SET status = ?, original_due = ?, due = ?, updated_at = ?, version = ?, doc = ? WHERE id = ? AND version = ?`,
		args[4], args[6], args[7], args[9], args[10], args[11], c.ID, c.Version-1)
	if err != nil {
		return fmt.Errorf("update rights request: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "the rights request was changed meanwhile; reload and try again"}
	}
	return nil
}

// GetRightsRequest implements rights.Tx.
func (t *Tx) GetRightsRequest(ctx context.Context, id string) (*rights.Case, error) {
	c, err := scanCase(t.queryRow(ctx, "SELECT "+caseColumns+" FROM rights_requests WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("rights request")
	}
	return c, err
}

// ListRightsRequests implements rights.Tx. The filter is built from fixed fragments with
// placeholders only.
func (t *Tx) ListRightsRequests(ctx context.Context, f rights.Filter, after *rights.Cursor, limit int) ([]*rights.Case, error) {
	var where []string
	var args []any
	if len(f.Status) > 0 {
		where = append(where, "status IN (?"+strings.Repeat(", ?", len(f.Status)-1)+")")
		for _, s := range f.Status {
			args = append(args, string(s))
		}
	}
	if f.Kind != "" {
		where = append(where, "kind = ?")
		args = append(args, string(f.Kind))
	}
	if !f.DueBefore.IsZero() {
		where = append(where, "due < ?")
		args = append(args, f.DueBefore.Format(rights.DateLayout))
	}
	if f.CustomerID != "" {
		where = append(where, "customer_id = ?")
		args = append(args, f.CustomerID)
	}
	if after != nil {
		d := after.Due.Format(rights.DateLayout)
		where = append(where, "(due > ? OR (due = ? AND id > ?))")
		args = append(args, d, d, after.ID)
	}
	q := "SELECT " + caseColumns + " FROM rights_requests"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY due, id LIMIT ?"
	args = append(args, limit)
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*rights.Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// HasCustomer implements rights.Tx.
func (t *Tx) HasCustomer(ctx context.Context, id fidelis.CustomerID) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM customers WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// AppendRightsEvent implements rights.Tx.
func (t *Tx) AppendRightsEvent(ctx context.Context, e *rights.Event) error {
	payload, err := json.Marshal(map[string]any{"id": e.ID, "type": e.Type, "subject": e.CaseID, "customer_id": e.CustomerID,
		"kind": e.Kind, "status": e.Status, "at": e.At})
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)`, e.ID, micros(e.At), e.Type, e.CaseID, string(payload))
	return err
}

// PutSuppression implements customer.SuppressionTx: a second listing keeps the later expiry.
func (t *Tx) PutSuppression(ctx context.Context, s *customer.Suppression) error {
	_, err := t.exec(ctx, `INSERT INTO suppressions (kind, bidx, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (kind, bidx) DO UPDATE SET reason = excluded.reason, expires_at = excluded.expires_at WHERE excluded.expires_at > suppressions.expires_at`,
		s.Kind, s.Index, s.Reason, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

// Suppressed implements customer.SuppressionTx.
func (t *Tx) Suppressed(ctx context.Context, kind string, index []byte, now time.Time) (bool, error) {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM suppressions WHERE kind = ? AND bidx = ? AND expires_at > ?`, kind, index, micros(now)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PurgeSuppressions implements customer.SuppressionTx.
func (t *Tx) PurgeSuppressions(ctx context.Context, now time.Time) (int, error) {
	res, err := t.exec(ctx, `DELETE FROM suppressions WHERE expires_at <= ?`, micros(now))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// CountSuppressions counts the entries of the suppression list (for tests and operators).
func (db *DB) CountSuppressions(ctx context.Context) (n int64, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) error { return tx.queryRow(ctx, `SELECT COUNT(*) FROM suppressions`).Scan(&n) })
	return n, err
}
