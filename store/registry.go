package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

// registryDocument is the stored form of the purpose registry.
type registryDocument struct {
	Purposes []privacy.Purpose   `json:"purposes"`
	Grants   []privacy.RoleGrant `json:"grants"`
}

// LoadRegistry returns the stored purpose registry, seeding it with the defaults on first
// use (P-2).
func (db *DB) LoadRegistry(ctx context.Context, now time.Time) (*privacy.Registry, error) {
	var doc registryDocument
	err := db.WriteTx(ctx, func(tx *Tx) error {
		var raw string
		err := tx.queryRow(ctx, `SELECT document FROM registry WHERE id = 1`).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			doc = registryDocument{Purposes: privacy.DefaultPurposes(), Grants: privacy.DefaultGrants()}
			b, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			_, err = tx.exec(ctx, `INSERT INTO registry (id, document, updated_at) VALUES (1, ?, ?)`, string(b), micros(now))
			return err
		} else if err != nil {
			return err
		}
		return json.Unmarshal([]byte(raw), &doc)
	})
	if err != nil {
		return nil, err
	}
	return privacy.NewRegistry(doc.Purposes, doc.Grants)
}

// RegistryUpdatedAt returns when the stored purpose registry was last written (its date in
// the register of processing, D-2); ENOTFOUND before LoadRegistry seeded it.
func (db *DB) RegistryUpdatedAt(ctx context.Context) (time.Time, error) {
	var at int64
	err := db.ReadTx(ctx, func(tx *Tx) error {
		return tx.queryRow(ctx, `SELECT updated_at FROM registry WHERE id = 1`).Scan(&at)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_registry", Message: "the purpose registry is not stored yet"}
	}
	if err != nil {
		return time.Time{}, err
	}
	return fromMicros(at), nil
}
