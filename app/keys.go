package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/vault"
)

// RotateKeys creates a new key-encryption key and rewraps every customer data key under it,
// in small transactions, while servers keep running: they reload the key file when it
// changes and can unwrap under old and new keys meanwhile. Field ciphertext is untouched.
// The old keys stay in the key file, retired, for restoring older backups.
func (a *App) RotateKeys(ctx context.Context, progress io.Writer) (string, int64, error) {
	ctx = SystemContext(ctx, "keys-rotate", fidelis.RoleAdmin)
	newID, err := a.Keyring.Rotate()
	if err != nil {
		return "", 0, err
	}
	fmt.Fprintf(progress, "New key-encryption key %s is active; rewrapping data keys...\n", newID)
	var total int64
	clean := 0
	for clean < 2 {
		n, err := a.rewrapBatch(ctx, newID, 500)
		if err != nil {
			return newID, total, err
		}
		total += int64(n)
		if n > 0 {
			fmt.Fprintf(progress, "\rRewrapped %d data keys", total)
			continue
		}
		// Nothing left: wait past the servers' key-file refresh interval and look again, in
		// case one created a customer under the old key in the meantime.
		clean++
		if clean < 2 {
			select {
			case <-time.After(1500 * time.Millisecond):
			case <-ctx.Done():
				return newID, total, ctx.Err()
			}
		}
	}
	fmt.Fprintf(progress, "\rRewrapped %d data keys under %s.\n", total, newID)
	err = a.DB.RecordAudit(ctx, a.AuditLog.Entry(ctx, audit.Event{Action: "keys.rotate", Reason: fmt.Sprintf("new_kek=%s rewrapped=%d", newID, total)}))
	return newID, total, err
}

func (a *App) rewrapBatch(ctx context.Context, active string, limit int) (int, error) {
	n := 0
	err := a.DB.WriteTx(ctx, func(tx *store.Tx) error {
		return tx.WrappedKeys(ctx, active, limit, func(id fidelis.CustomerID, w vault.WrappedDEK) error {
			nw, err := a.Vault.RewrapDEK(id, w)
			if err != nil {
				return fmt.Errorf("rewrap %s: %w", id, err)
			}
			n++
			return tx.ReplaceWrappedKey(ctx, id, w.KEKID, nw)
		})
	})
	return n, err
}
