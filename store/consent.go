package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

// Consents adapts DB to consent.Store.
type Consents = Adapter[consent.Tx]

// States adapts DB to privacy.StateStore.
type States = Adapter[privacy.StateTx]

var (
	_ consent.Store      = Consents{}
	_ consent.Tx         = (*Tx)(nil)
	_ privacy.StateStore = States{}
	_ privacy.StateTx    = (*Tx)(nil)
)

// CustomerExists implements consent.Tx and privacy.StateTx.
func (t *Tx) CustomerExists(ctx context.Context, id fidelis.CustomerID) error {
	var one int
	err := t.queryRow(ctx, `SELECT 1 FROM customers WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("customer")
	}
	return err
}

const noticeColumns = `purpose, version, text_fr, text_en, hash, published_at, published_by`

func scanNotice(sc interface{ Scan(...any) error }) (*consent.Notice, error) {
	n := &consent.Notice{}
	var at int64
	if err := sc.Scan(&n.Purpose, &n.Version, &n.Text.FR, &n.Text.EN, &n.Hash, &at, &n.PublishedBy); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("consent notice")
		}
		return nil, err
	}
	n.PublishedAt = fromMicros(at)
	return n, nil
}

// InsertNotice implements consent.Tx.
func (t *Tx) InsertNotice(ctx context.Context, n *consent.Notice) error {
	_, err := t.exec(ctx, `INSERT INTO consent_notices (`+noticeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		string(n.Purpose), n.Version, n.Text.FR, n.Text.EN, n.Hash, micros(n.PublishedAt), n.PublishedBy)
	return err
}

// Notice implements consent.Tx.
func (t *Tx) Notice(ctx context.Context, p fidelis.Purpose, version int) (*consent.Notice, error) {
	return scanNotice(t.queryRow(ctx, `SELECT `+noticeColumns+` FROM consent_notices WHERE purpose = ? AND version = ?`, string(p), version))
}

// LatestNotice implements consent.Tx.
func (t *Tx) LatestNotice(ctx context.Context, p fidelis.Purpose) (*consent.Notice, error) {
	return scanNotice(t.queryRow(ctx, `SELECT `+noticeColumns+` FROM consent_notices WHERE purpose = ? ORDER BY version DESC LIMIT 1`, string(p)))
}

// Notices implements consent.Tx.
func (t *Tx) Notices(ctx context.Context, p fidelis.Purpose) ([]*consent.Notice, error) {
	q, args := `SELECT `+noticeColumns+` FROM consent_notices ORDER BY purpose, version DESC`, []any{}
	if p != "" {
		q, args = `SELECT `+noticeColumns+` FROM consent_notices WHERE purpose = ? ORDER BY version DESC`, []any{string(p)}
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*consent.Notice{}
	for rows.Next() {
		n, err := scanNotice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

const consentColumns = `id, customer_id, purpose, channel, decision, notice_version, notice_hash, method, parental, minor, reference, collected_at, recorded_at, recorded_by`

// InsertConsent implements consent.Tx.
func (t *Tx) InsertConsent(ctx context.Context, r *consent.Record) error {
	var version, hash any
	if r.NoticeVersion > 0 {
		version, hash = int64(r.NoticeVersion), r.NoticeHash
	}
	_, err := t.exec(ctx, `INSERT INTO consents (`+consentColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, string(r.CustomerID), string(r.Purpose), string(r.Channel), string(r.Decision), version, hash, string(r.Method),
		b2i(r.Parental), b2i(r.Minor), r.Reference, micros(r.CollectedAt), micros(r.RecordedAt), r.RecordedBy)
	return err
}

// Consents implements consent.Tx.
func (t *Tx) Consents(ctx context.Context, id fidelis.CustomerID, before string, limit int) ([]*consent.Record, error) {
	q, args := `SELECT `+consentColumns+` FROM consents WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, []any{string(id), limit}
	if before != "" {
		q, args = `SELECT `+consentColumns+` FROM consents WHERE customer_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, []any{string(id), before, limit}
	}
	rows, err := t.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanConsents(rows)
}

// scanConsents reads rows of consentColumns.
func scanConsents(rows *sql.Rows) ([]*consent.Record, error) {
	out := []*consent.Record{}
	for rows.Next() {
		r := &consent.Record{}
		var version sql.NullInt64
		var hash sql.NullString
		var parental, minor, collected, recorded int64
		if err := rows.Scan(&r.ID, &r.CustomerID, &r.Purpose, &r.Channel, &r.Decision, &version, &hash, &r.Method,
			&parental, &minor, &r.Reference, &collected, &recorded, &r.RecordedBy); err != nil {
			return nil, err
		}
		r.NoticeVersion, r.NoticeHash = int(version.Int64), hash.String
		r.Parental, r.Minor = parental != 0, minor != 0
		r.CollectedAt, r.RecordedAt = fromMicros(collected), fromMicros(recorded)
		out = append(out, r)
	}
	return out, rows.Err()
}

func decodeState(raw string) (*privacy.SubjectState, error) {
	st := &privacy.SubjectState{}
	if err := json.Unmarshal([]byte(raw), st); err != nil {
		return nil, fmt.Errorf("subject state: %w", err)
	}
	return st, nil
}

// SubjectState implements consent.Tx, privacy.StateTx and customer.Tx: an empty state when
// the subject has none stored.
func (t *Tx) SubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error) {
	var raw string
	err := t.queryRow(ctx, `SELECT state FROM subject_states WHERE customer_id = ?`, string(id)).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return &privacy.SubjectState{}, nil
	} else if err != nil {
		return nil, err
	}
	return decodeState(raw)
}

// SubjectStates implements customer.Tx: the states of the given subjects, by ID; subjects
// without a stored state are absent.
func (t *Tx) SubjectStates(ctx context.Context, ids []fidelis.CustomerID) (map[fidelis.CustomerID]*privacy.SubjectState, error) {
	out := map[fidelis.CustomerID]*privacy.SubjectState{}
	for len(ids) > 0 {
		n := min(len(ids), 100)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = string(id)
		}
		// Hand-written IN list: placeholders only, never values.
		rows, err := t.query(ctx, `SELECT customer_id, state FROM subject_states WHERE customer_id IN (?`+strings.Repeat(`, ?`, n-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, raw string
			if err := rows.Scan(&id, &raw); err != nil {
				rows.Close()
				return nil, err
			}
			st, err := decodeState(raw)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[fidelis.CustomerID(id)] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return out, nil
}

// LockSubjectState implements consent.Tx and privacy.StateTx. The row is created first so
// that PostgreSQL's row lock always has a row to hold: two concurrent changes of one
// subject's state then run one after the other (SQLite's single writer does that anyway).
func (t *Tx) LockSubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error) {
	if _, err := t.exec(ctx, `INSERT INTO subject_states (customer_id, state, restricted) VALUES (?, '{}', 0) ON CONFLICT (customer_id) DO NOTHING`, string(id)); err != nil {
		return nil, fmt.Errorf("lock subject state: %w", err)
	}
	q := `SELECT state FROM subject_states WHERE customer_id = ?`
	if t.db.Dialect == Postgres {
		q += ` FOR UPDATE`
	}
	var raw string
	if err := t.queryRow(ctx, q, string(id)).Scan(&raw); err != nil {
		return nil, fmt.Errorf("lock subject state: %w", err)
	}
	return decodeState(raw)
}

// PutSubjectState implements consent.Tx and privacy.StateTx.
func (t *Tx) PutSubjectState(ctx context.Context, id fidelis.CustomerID, st *privacy.SubjectState) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE subject_states SET state = ?, restricted = ? WHERE customer_id = ?`,
		string(raw), b2i(st.Restriction != nil), string(id))
	return err
}
