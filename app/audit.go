package app

import (
	"context"
	"crypto/ed25519"

	"github.com/fidelis/fidelis/audit"
)

// VerifyAudit recomputes the whole audit log (read-only).
func (a *App) VerifyAudit(ctx context.Context) (*audit.Report, error) {
	pub := a.Keyring.AuditSigningKey().Public().(ed25519.PublicKey)
	return audit.Verify(ctx, a.DB, a.AuditLog, pub)
}
