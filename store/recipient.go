package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/recipient"
)

// Recipients adapts DB to recipient.Store.
type Recipients = Adapter[recipient.Tx]

var _ recipient.Store = Recipients{}
var _ recipient.Tx = (*Tx)(nil)

const recipientColumns = `id, version, name, kind, purposes, country, safeguard, contract_ref, contact_name, contact_email, active, endpoint, events, secret_kek, secret_sealed, created_at, updated_at`

func joinStrings[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func splitStrings[T ~string](s string) []T {
	if s == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	out := make([]T, len(parts))
	for i, p := range parts {
		out[i] = T(p)
	}
	return out
}

func recipientArgs(r *recipient.Recipient) []any {
	return []any{r.ID, r.Version, r.Name, string(r.Kind), joinStrings(r.Purposes), r.Country, string(r.Safeguard), r.ContractRef,
		r.ContactName, r.ContactEmail, r.Active, r.Endpoint, joinStrings(r.Events), r.Secret.KEKID, r.Secret.Data, micros(r.CreatedAt), micros(r.UpdatedAt)}
}

func scanRecipient(sc interface{ Scan(...any) error }) (*recipient.Recipient, error) {
	r := &recipient.Recipient{}
	var kind, purposes, safeguard, events string
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.Version, &r.Name, &kind, &purposes, &r.Country, &safeguard, &r.ContractRef, &r.ContactName, &r.ContactEmail,
		&r.Active, &r.Endpoint, &events, &r.Secret.KEKID, &r.Secret.Data, &created, &updated); err != nil {
		return nil, err
	}
	r.Kind, r.Safeguard = recipient.Kind(kind), recipient.Safeguard(safeguard)
	r.Purposes, r.Events = splitStrings[fidelis.Purpose](purposes), splitStrings[string](events)
	r.CreatedAt, r.UpdatedAt = fromMicros(created), fromMicros(updated)
	return r, nil
}

func (t *Tx) recipients(ctx context.Context, query string, args ...any) ([]*recipient.Recipient, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*recipient.Recipient, error) {
		r, err := scanRecipient(rows)
		if err != nil {
			return nil, err
		}
		return r, nil
	}, query, args...)
}

// InsertRecipient implements recipient.Tx.
func (t *Tx) InsertRecipient(ctx context.Context, r *recipient.Recipient) error {
	_, err := t.exec(ctx, `INSERT INTO recipients (`+recipientColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, recipientArgs(r)...)
	if err != nil {
		return fmt.Errorf("insert recipient: %w", err)
	}
	return nil
}

// UpdateRecipient implements recipient.Tx.
func (t *Tx) UpdateRecipient(ctx context.Context, r *recipient.Recipient) error {
	args := append(recipientArgs(r)[1:], r.ID, r.Version-1)
	res, err := t.exec(ctx, `UPDATE recipients SET version = ?, name = ?, kind = ?, purposes = ?, country = ?, safeguard = ?, contract_ref = ?,
		contact_name = ?, contact_email = ?, active = ?, endpoint = ?, events = ?, secret_kek = ?, secret_sealed = ?, created_at = ?, updated_at = ?
		WHERE id = ? AND version = ?`, args...)
	if err != nil {
		return fmt.Errorf("update recipient: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		if _, err := t.GetRecipient(ctx, r.ID); err != nil {
			return err
		}
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "the recipient was changed meanwhile; reload and try again"}
	}
	return nil
}

// GetRecipient implements recipient.Tx.
func (t *Tx) GetRecipient(ctx context.Context, id string) (*recipient.Recipient, error) {
	r, err := scanRecipient(t.queryRow(ctx, `SELECT `+recipientColumns+` FROM recipients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "recipient_not_found", Message: "no recipient with this id"}
	}
	return r, err
}

// ListRecipients implements recipient.Tx.
func (t *Tx) ListRecipients(ctx context.Context, before string, limit int) ([]*recipient.Recipient, error) {
	if before == "" {
		return t.recipients(ctx, `SELECT `+recipientColumns+` FROM recipients ORDER BY id DESC LIMIT ?`, limit)
	}
	return t.recipients(ctx, `SELECT `+recipientColumns+` FROM recipients WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
}

// ActiveRecipients implements recipient.Tx.
func (t *Tx) ActiveRecipients(ctx context.Context) ([]*recipient.Recipient, error) {
	return t.recipients(ctx, `SELECT `+recipientColumns+` FROM recipients WHERE active = ? ORDER BY id`, true)
}

// DeleteRecipient implements recipient.Tx.
func (t *Tx) DeleteRecipient(ctx context.Context, id string) error {
	res, err := t.exec(ctx, `DELETE FROM recipients WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete recipient: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "recipient_not_found", Message: "no recipient with this id"}
	}
	return nil
}

// CountDeliveries implements recipient.Tx.
func (t *Tx) CountDeliveries(ctx context.Context, recipientID string) (n int, err error) {
	err = t.queryRow(ctx, `SELECT COUNT(*) FROM webhook_deliveries WHERE recipient_id = ?`, recipientID).Scan(&n)
	return n, err
}

// lockSkip is the clause that locks claimed rows and skips rows another transaction holds:
// several nodes on PostgreSQL never claim the same row. SQLite's single writer serialises
// write transactions, so it needs none.
func (t *Tx) lockSkip() string {
	if t.db.Dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// WorkPending implements recipient.Tx. Both probes use partial indexes.
func (t *Tx) WorkPending(ctx context.Context, now time.Time) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM outbox WHERE delivered_at IS NULL LIMIT 1) e)
		+ (SELECT COUNT(*) FROM (SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ? LIMIT 1) d)`, micros(now)).Scan(&n)
	return n > 0, err
}

// PendingEvents implements recipient.Tx.
func (t *Tx) PendingEvents(ctx context.Context, limit int) ([]recipient.Event, error) {
	rows, err := t.query(ctx, `SELECT id, at, type, subject, payload FROM outbox WHERE delivered_at IS NULL ORDER BY at, id LIMIT ?`+t.lockSkip(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recipient.Event
	for rows.Next() {
		var e recipient.Event
		var at int64
		var payload string
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.Subject, &payload); err != nil {
			return nil, err
		}
		e.At, e.Payload = fromMicros(at), []byte(payload)
		out = append(out, e)
	}
	return out, rows.Err()
}

// MarkEventsDispatched implements recipient.Tx: one UPDATE per 64 events.
func (t *Tx) MarkEventsDispatched(ctx context.Context, ids []string, at time.Time) error {
	for _, list := range inLists(ids) {
		if _, err := t.exec(ctx, `UPDATE outbox SET delivered_at = ? WHERE id IN (`+placeholders(len(list))+`)`, append([]any{micros(at)}, list...)...); err != nil {
			return fmt.Errorf("mark events dispatched: %w", err)
		}
	}
	return nil
}

func nullTime(p *time.Time) any {
	if p == nil {
		return nil
	}
	return micros(*p)
}

// InsertDelivery implements recipient.Tx.
func (t *Tx) InsertDelivery(ctx context.Context, d *recipient.Delivery) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_deliveries (id, event_id, recipient_id, event_type, subject, event_at, body, required, state,
		attempts, retry_from, next_attempt, last_attempt, last_status, last_error, delivered_at, created_at, lease)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, recipient_id) DO NOTHING`,
		d.ID, d.EventID, d.RecipientID, d.EventType, d.Subject, micros(d.EventAt), string(d.Body), d.Required, string(d.State),
		d.Attempts, d.RetryFrom, nullTime(d.NextAttempt), nullTime(d.LastAttempt), d.LastStatus, d.LastError, nullTime(d.DeliveredAt), micros(d.CreatedAt), d.Lease)
	if err != nil {
		return fmt.Errorf("insert delivery: %w", err)
	}
	return nil
}

const deliveryColumns = `id, event_id, recipient_id, event_type, subject, event_at, body, required, state, attempts, retry_from,
	next_attempt, last_attempt, last_status, last_error, delivered_at, created_at, lease`

func scanDelivery(sc interface{ Scan(...any) error }) (*recipient.Delivery, error) {
	d := &recipient.Delivery{}
	var eventAt, created int64
	var body, state string
	var next, last, delivered sql.NullInt64
	if err := sc.Scan(&d.ID, &d.EventID, &d.RecipientID, &d.EventType, &d.Subject, &eventAt, &body, &d.Required, &state, &d.Attempts, &d.RetryFrom,
		&next, &last, &d.LastStatus, &d.LastError, &delivered, &created, &d.Lease); err != nil {
		return nil, err
	}
	d.EventAt, d.CreatedAt, d.Body, d.State = fromMicros(eventAt), fromMicros(created), []byte(body), recipient.State(state)
	d.NextAttempt, d.LastAttempt, d.DeliveredAt = nullMicros(next), nullMicros(last), nullMicros(delivered)
	return d, nil
}

func (t *Tx) deliveries(ctx context.Context, query string, args ...any) ([]*recipient.Delivery, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*recipient.Delivery, error) {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		return d, nil
	}, query, args...)
}

// DueDeliveries implements recipient.Tx.
func (t *Tx) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]*recipient.Delivery, error) {
	return t.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE state = 'pending' AND next_attempt <= ?
		ORDER BY next_attempt, id LIMIT ?`+t.lockSkip(), micros(now), limit)
}

// SaveDelivery implements recipient.Tx.
func (t *Tx) SaveDelivery(ctx context.Context, d *recipient.Delivery, lease string) (bool, error) {
	res, err := t.exec(ctx, `UPDATE webhook_deliveries SET state = ?, attempts = ?, retry_from = ?, next_attempt = ?, last_attempt = ?,
		last_status = ?, last_error = ?, delivered_at = ?, lease = ? WHERE id = ? AND lease = ?`,
		string(d.State), d.Attempts, d.RetryFrom, nullTime(d.NextAttempt), nullTime(d.LastAttempt), d.LastStatus, d.LastError,
		nullTime(d.DeliveredAt), d.Lease, d.ID, lease)
	if err != nil {
		return false, fmt.Errorf("save delivery: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// InsertAttempt implements recipient.Tx.
func (t *Tx) InsertAttempt(ctx context.Context, a *recipient.Attempt) error {
	_, err := t.exec(ctx, `INSERT INTO webhook_attempts (delivery_id, n, at, status_code, error_class, duration_us, next_attempt) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		a.DeliveryID, a.N, micros(a.At), a.StatusCode, a.ErrorClass, a.Duration.Microseconds(), nullTime(a.NextAttempt))
	if err != nil {
		return fmt.Errorf("insert attempt: %w", err)
	}
	return nil
}

// GetDelivery implements recipient.Tx.
func (t *Tx) GetDelivery(ctx context.Context, id string) (*recipient.Delivery, error) {
	d, err := scanDelivery(t.queryRow(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "delivery_not_found", Message: "no delivery with this id"}
	}
	return d, err
}

// Deliveries implements recipient.Tx.
func (t *Tx) Deliveries(ctx context.Context, recipientID string, state recipient.State, before string, limit int) ([]*recipient.Delivery, error) {
	q := `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE recipient_id = ?`
	args := []any{recipientID}
	if state != "" {
		q += ` AND state = ?`
		args = append(args, string(state))
	}
	if before != "" {
		q += ` AND id < ?`
		args = append(args, before)
	}
	return t.deliveries(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
}

// Attempts implements recipient.Tx.
func (t *Tx) Attempts(ctx context.Context, deliveryID string) ([]recipient.Attempt, error) {
	rows, err := t.query(ctx, `SELECT n, at, status_code, error_class, duration_us, next_attempt FROM webhook_attempts WHERE delivery_id = ? ORDER BY n`, deliveryID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []recipient.Attempt
	for rows.Next() {
		a := recipient.Attempt{DeliveryID: deliveryID}
		var at, dur int64
		var next sql.NullInt64
		if err := rows.Scan(&a.N, &at, &a.StatusCode, &a.ErrorClass, &dur, &next); err != nil {
			return nil, err
		}
		a.At, a.Duration, a.NextAttempt = fromMicros(at), time.Duration(dur)*time.Microsecond, nullMicros(next)
		out = append(out, a)
	}
	return out, rows.Err()
}

// SubjectDeliveries implements recipient.Tx.
func (t *Tx) SubjectDeliveries(ctx context.Context, subject string, limit int) ([]*recipient.Delivery, error) {
	return t.deliveries(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE subject = ? ORDER BY id DESC LIMIT ?`, subject, limit)
}

// CustomerState implements recipient.Tx.
func (t *Tx) CustomerState(ctx context.Context, id fidelis.CustomerID) (recipient.CustomerState, error) {
	var st recipient.CustomerState
	var n int
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM customers WHERE id = ?`, id).Scan(&n); err != nil {
		return st, err
	}
	st.Exists = n > 0
	if err := t.queryRow(ctx, `SELECT COUNT(*) FROM erasures WHERE customer_id = ?`, id).Scan(&n); err != nil {
		return st, err
	}
	st.Erased = n > 0
	return st, nil
}
