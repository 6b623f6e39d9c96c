package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
)

var _ auth.Store = (*DB)(nil)

// CreateUser implements auth.Store.
func (db *DB) CreateUser(ctx context.Context, u *auth.User, hash string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO users (id, username, password_hash, role, locale, created_at, disabled) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			u.ID, u.Username, hash, string(u.Role), u.Locale, micros(u.CreatedAt), u.Disabled)
		return err
	})
}

const userColumns = `u.id, u.username, u.role, u.locale, u.created_at, u.disabled`

func scanUser(dest []any) (*auth.User, []any) {
	u := &auth.User{}
	var role string
	var created int64
	return u, append(dest, &u.ID, &u.Username, &role, &u.Locale, &created, &u.Disabled, &fixup{func() {
		u.Role, u.CreatedAt = fidelis.Role(role), fromMicros(created)
	}})
}

// fixup is a scan destination that runs a function after scanning; it lets scanUser convert
// columns without a second pass. It must be the last destination.
type fixup struct{ f func() }

// Scan implements sql.Scanner.
func (f *fixup) Scan(any) error { f.f(); return nil }

// UserByUsername implements auth.Store.
func (db *DB) UserByUsername(ctx context.Context, username string) (*auth.User, string, error) {
	var u *auth.User
	var hash string
	err := db.ReadTx(ctx, func(tx *Tx) error {
		var dest []any
		u, dest = scanUser([]any{&hash})
		return tx.queryRow(ctx, `SELECT u.password_hash, `+userColumns+`, 0 FROM users u WHERE u.username = ?`, username).Scan(dest...)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", notFound("user")
	}
	return u, hash, err
}

// SetPassword implements auth.Store.
func (db *DB) SetPassword(ctx context.Context, userID, hash string) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, hash, userID); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		return err
	})
}

// CountUsers implements auth.Store.
func (db *DB) CountUsers(ctx context.Context) (n int, err error) {
	err = db.ReadTx(ctx, func(tx *Tx) error { return tx.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n) })
	return n, err
}

// CreateSession implements auth.Store. Expired sessions are swept on the way.
func (db *DB) CreateSession(ctx context.Context, idHash []byte, s *auth.Session, created time.Time) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, micros(created)); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO sessions (id_hash, user_id, csrf_token, purpose, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			idHash, s.User.ID, s.CSRFToken, string(s.Purpose), micros(created), micros(s.ExpiresAt))
		return err
	})
}

// SessionByHash implements auth.Store.
func (db *DB) SessionByHash(ctx context.Context, idHash []byte, now time.Time) (*auth.Session, error) {
	s := &auth.Session{}
	var purpose string
	var expires int64
	err := db.ReadTx(ctx, func(tx *Tx) error {
		var dest []any
		s.User, dest = scanUser([]any{&s.CSRFToken, &purpose, &expires})
		return tx.queryRow(ctx, `SELECT s.csrf_token, s.purpose, s.expires_at, `+userColumns+`, 0 FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, micros(now)).Scan(dest...)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("session")
	}
	if err != nil {
		return nil, err
	}
	s.Purpose, s.ExpiresAt = fidelis.Purpose(purpose), fromMicros(expires)
	return s, nil
}

// SetSessionPurpose implements auth.Store.
func (db *DB) SetSessionPurpose(ctx context.Context, idHash []byte, p fidelis.Purpose) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `UPDATE sessions SET purpose = ? WHERE id_hash = ?`, string(p), idHash)
		return err
	})
}

// DeleteSession implements auth.Store.
func (db *DB) DeleteSession(ctx context.Context, idHash []byte) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
		return err
	})
}

// CreateToken implements auth.Store.
func (db *DB) CreateToken(ctx context.Context, t *auth.Token, secretHash []byte) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, `INSERT INTO api_tokens (id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)`,
			t.ID, t.Name, string(t.Role), secretHash, micros(t.CreatedAt))
		return err
	})
}

func scanToken(sc interface{ Scan(...any) error }, extra ...any) (*auth.Token, error) {
	t := &auth.Token{}
	var role string
	var created int64
	var revoked sql.NullInt64
	if err := sc.Scan(append([]any{&t.ID, &t.Name, &role, &created, &revoked}, extra...)...); err != nil {
		return nil, err
	}
	t.Role, t.CreatedAt, t.RevokedAt = fidelis.Role(role), fromMicros(created), nullMicros(revoked)
	return t, nil
}

// TokenByID implements auth.Store.
func (db *DB) TokenByID(ctx context.Context, id string) (*auth.Token, []byte, error) {
	var t *auth.Token
	var hash []byte
	err := db.ReadTx(ctx, func(tx *Tx) (err error) {
		t, err = scanToken(tx.queryRow(ctx, `SELECT id, name, role, created_at, revoked_at, secret_hash FROM api_tokens WHERE id = ?`, id), &hash)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("token")
	}
	return t, hash, err
}

// RevokeToken implements auth.Store.
func (db *DB) RevokeToken(ctx context.Context, id string, at time.Time) error {
	return db.WriteTx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, micros(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("active token")
		}
		return nil
	})
}

// Tokens implements auth.Store.
func (db *DB) Tokens(ctx context.Context) ([]*auth.Token, error) {
	var out []*auth.Token
	err := db.ReadTx(ctx, func(tx *Tx) error {
		rows, err := tx.query(ctx, `SELECT id, name, role, created_at, revoked_at FROM api_tokens ORDER BY id DESC`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			t, err := scanToken(rows)
			if err != nil {
				return err
			}
			out = append(out, t)
		}
		return rows.Err()
	})
	return out, err
}

// PrincipalNames implements auth.Store.
func (db *DB) PrincipalNames(ctx context.Context, userIDs, tokenIDs []string) (map[string]string, error) {
	out := map[string]string{}
	err := db.ReadTx(ctx, func(tx *Tx) error {
		for _, q := range []struct {
			query string
			ids   []string
		}{{`SELECT id, username FROM users WHERE id IN (%s)`, userIDs}, {`SELECT id, name FROM api_tokens WHERE id IN (%s)`, tokenIDs}} {
			for len(q.ids) > 0 {
				batch := q.ids[:min(len(q.ids), 100)]
				q.ids = q.ids[len(batch):]
				args := make([]any, len(batch))
				for i, id := range batch {
					args[i] = id
				}
				rows, err := tx.query(ctx, fmt.Sprintf(q.query, strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",")), args...)
				if err != nil {
					return err
				}
				for rows.Next() {
					var id, name string
					if err := rows.Scan(&id, &name); err != nil {
						rows.Close()
						return err
					}
					out[id] = name
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return out, err
}
