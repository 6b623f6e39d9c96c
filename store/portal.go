package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/selfservice"
)

// Portal adapts DB to selfservice.Store: sign-in links and customer sessions.
type Portal = Adapter[selfservice.Tx]

var (
	_ selfservice.Store = Portal{}
	_ selfservice.Tx    = (*Tx)(nil)
)

// InsertPortalLink implements selfservice.Tx.
func (t *Tx) InsertPortalLink(ctx context.Context, l *selfservice.Link) error {
	_, err := t.exec(ctx, `INSERT INTO portal_links (token_hash, customer_id, created_at, expires_at, used_at) VALUES (?, ?, ?, ?, NULL)`,
		l.TokenHash, string(l.CustomerID), micros(l.CreatedAt), micros(l.ExpiresAt))
	return err
}

// PortalLink implements selfservice.Tx.
func (t *Tx) PortalLink(ctx context.Context, tokenHash []byte) (*selfservice.Link, error) {
	l := &selfservice.Link{}
	var id string
	var created, expires int64
	var used sql.NullInt64
	err := t.queryRow(ctx, `SELECT token_hash, customer_id, created_at, expires_at, used_at FROM portal_links WHERE token_hash = ?`, tokenHash).
		Scan(&l.TokenHash, &id, &created, &expires, &used)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("sign-in link")
	}
	if err != nil {
		return nil, err
	}
	l.CustomerID, l.CreatedAt, l.ExpiresAt, l.UsedAt = fidelis.CustomerID(id), fromMicros(created), fromMicros(expires), nullMicros(used)
	return l, nil
}

// UsePortalLink implements selfservice.Tx: the condition on used_at makes the use single
// even between concurrent transactions (the second finds no row to update).
func (t *Tx) UsePortalLink(ctx context.Context, tokenHash []byte, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE portal_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL`, micros(at), tokenHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// CountPortalLinks implements selfservice.Tx.
func (t *Tx) CountPortalLinks(ctx context.Context, id fidelis.CustomerID, since time.Time) (int, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM portal_links WHERE customer_id = ? AND created_at >= ?`, string(id), micros(since)).Scan(&n)
	return n, err
}

// InsertPortalSession implements selfservice.Tx.
func (t *Tx) InsertPortalSession(ctx context.Context, idHash []byte, s *selfservice.Session) error {
	_, err := t.exec(ctx, `INSERT INTO portal_sessions (id_hash, customer_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		idHash, string(s.CustomerID), s.CSRFToken, micros(s.CreatedAt), micros(s.ExpiresAt))
	return err
}

// PortalSession implements selfservice.Tx. The join drops the session of a customer who
// was erased between two requests (the cascade removes it too).
func (t *Tx) PortalSession(ctx context.Context, idHash []byte, now time.Time) (*selfservice.Session, error) {
	s := &selfservice.Session{}
	var id string
	var created, expires int64
	err := t.queryRow(ctx, `SELECT s.customer_id, s.csrf_token, s.created_at, s.expires_at FROM portal_sessions s
		JOIN customers c ON c.id = s.customer_id WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, micros(now)).
		Scan(&id, &s.CSRFToken, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("portal session")
	}
	if err != nil {
		return nil, err
	}
	s.CustomerID, s.CreatedAt, s.ExpiresAt = fidelis.CustomerID(id), fromMicros(created), fromMicros(expires)
	return s, nil
}

// DeletePortalSession implements selfservice.Tx.
func (t *Tx) DeletePortalSession(ctx context.Context, idHash []byte) error {
	_, err := t.exec(ctx, `DELETE FROM portal_sessions WHERE id_hash = ?`, idHash)
	return err
}

// PurgePortal implements selfservice.Tx.
func (t *Tx) PurgePortal(ctx context.Context, before time.Time) (int, error) {
	total := 0
	for _, q := range []string{`DELETE FROM portal_links WHERE expires_at < ?`, `DELETE FROM portal_sessions WHERE expires_at < ?`} {
		res, err := t.exec(ctx, q, micros(before))
		if err != nil {
			return total, err
		}
		n, _ := res.RowsAffected()
		total += int(n)
	}
	return total, nil
}
