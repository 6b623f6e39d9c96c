package app

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"os"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/audit/merkle"
)

// AuditPublicKey returns the key that verifies audit checkpoints.
func (a *App) AuditPublicKey() ed25519.PublicKey {
	return a.Keyring.AuditSigningKey().Public().(ed25519.PublicKey)
}

// VerifyAudit recomputes the whole audit log (read-only). Each file in archivedFiles holds
// a signed checkpoint exported earlier (fidelis audit seal); the log must still contain it.
func (a *App) VerifyAudit(ctx context.Context, archivedFiles ...string) (*audit.Report, error) {
	var archived []merkle.Checkpoint
	for _, f := range archivedFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read archived checkpoint: %w", err)
		}
		cp, err := audit.ParseSignedCheckpoint(b, a.AuditPublicKey())
		if err != nil {
			return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "bad_checkpoint", Message: fmt.Sprintf("%s: %v", f, err)}
		}
		archived = append(archived, cp)
	}
	return audit.Verify(ctx, a.DB, a.AuditLog, a.AuditPublicKey(), archived...)
}
