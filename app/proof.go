package app

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/fidelis/fidelis/proof"
)

// newProof builds the proof export (P-4): it reads the audit log, the consent ledger and
// the register, and seals pending audit entries first so that an export covers everything
// written until it starts.
func (a *App) newProof() *proof.Service {
	loc, err := time.LoadLocation(RightsCalendar)
	if err != nil {
		loc = time.UTC // unreachable with time/tzdata embedded
	}
	return &proof.Service{Store: a.DB, Registry: a.Registry, Register: a.Register, Audit: a.AuditLog,
		PublicKey: a.AuditPublicKey(), Now: a.Config.Now, Version: buildVersion(), Calendar: loc,
		Seal: func(ctx context.Context) error { _, err := a.Sealer.SealAll(ctx); return err }}
}

// buildVersion is the module version of the binary, with its VCS revision when known; ""
// when neither is.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	v := bi.Main.Version
	if v == "(devel)" {
		v = ""
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && s.Value != "" {
			if v != "" {
				v += "+"
			}
			v += s.Value
		}
	}
	return v
}
