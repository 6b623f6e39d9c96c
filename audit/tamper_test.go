package audit_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
)

// mustAuditedApp returns an installation whose audit log holds at least 40 sealed entries
// over several checkpoints, and verifies clean.
func mustAuditedApp(t *testing.T, b fidelistest.Backend) *app.App {
	t.Helper()
	a := fidelistest.MustApp(t, b)
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	for i := range 20 {
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldFamilyName: fidelis.NewSecret(fmt.Sprintf("Tamper%d", i)),
		}})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := a.Customers.Get(ctx, fidelis.PurposeCustomerService, c.ID); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	a.Sealer.BatchSize = 7 // several checkpoints
	if n, err := a.Sealer.SealAll(context.Background()); err != nil || n < 40 {
		t.Fatalf("SealAll = %d, %v; want >= 40 sealed", n, err)
	}
	r, err := a.VerifyAudit(context.Background())
	if err != nil || !r.OK() || r.Checkpoints < 5 {
		t.Fatalf("VerifyAudit before tampering = %+v, %v; want OK with >= 5 checkpoints", r, err)
	}
	return a
}

func entryIDAtLeaf(t *testing.T, a *app.App, leaf int64) int64 {
	t.Helper()
	var id int64
	err := a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
		if e.LeafIndex != nil && *e.LeafIndex == leaf {
			id = e.ID
		}
		return nil
	})
	if err != nil || id == 0 {
		t.Fatalf("no entry at leaf %d: %v", leaf, err)
	}
	return id
}

// TestVerify_DetectsTampering_P4 tampers with the log directly in the database, as someone
// with database access would, and checks that verification fails naming the first bad entry.
func TestVerify_DetectsTampering_P4(t *testing.T) {
	type want struct {
		kind  string
		leaf  int64
		entry func(a *app.App) int64 // expected EntryID of the first problem; nil for 0
	}
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, a *app.App) want
	}{
		{"changed", func(t *testing.T, a *app.App) want {
			id := entryIDAtLeaf(t, a, 9)
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a), fmt.Sprintf("UPDATE audit_entries SET purpose = 'marketing_email' WHERE id = %d", id))
			return want{"changed", 9, func(*app.App) int64 { return id }}
		}},
		{"changed_with_leaf_hash_recomputed_elsewhere", func(t *testing.T, a *app.App) want {
			// The attacker changes the actor and copies another entry's leaf hash: the entry
			// no longer matches its MAC.
			id := entryIDAtLeaf(t, a, 12)
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a), fmt.Sprintf("UPDATE audit_entries SET actor = 'user:usr_nobody' WHERE id = %d", id))
			return want{"changed", 12, func(*app.App) int64 { return id }}
		}},
		{"removed", func(t *testing.T, a *app.App) want {
			id := entryIDAtLeaf(t, a, 9)
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a), fmt.Sprintf("DELETE FROM audit_entries WHERE id = %d", id))
			return want{"removed", 9, nil}
		}},
		{"inserted_pending", func(t *testing.T, a *app.App) want {
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a), `INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac)
				VALUES ('aud_forged', 1, 'user:usr_x', 'customer.read', 'cus_x', 'customer_service', '', 'ok', '', '', `+fidelistest.BlobLiteral(a, "00")+`)`)
			return want{"changed", -1, func(a *app.App) int64 { return forgedID(t, a) }}
		}},
		{"inserted_in_the_middle", func(t *testing.T, a *app.App) want {
			raw := fidelistest.MustRawDB(t, a)
			fidelistest.MustExec(t, raw,
				"UPDATE audit_entries SET leaf_index = leaf_index + 1000000 WHERE leaf_index >= 9",
				"UPDATE audit_entries SET leaf_index = leaf_index - 999999 WHERE leaf_index >= 1000000",
				`INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac, leaf_index, leaf_hash)
				VALUES ('aud_forged', 1, 'user:usr_x', 'customer.read', 'cus_x', 'customer_service', '', 'ok', '', '', `+fidelistest.BlobLiteral(a, "00")+`, 9, `+fidelistest.BlobLiteral(a, "00")+`)`)
			return want{"changed", 9, func(a *app.App) int64 { return forgedID(t, a) }}
		}},
		{"reordered", func(t *testing.T, a *app.App) want {
			first, second := entryIDAtLeaf(t, a, 9), entryIDAtLeaf(t, a, 10)
			// Swap positions, leaf hashes travelling with their rows.
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a),
				fmt.Sprintf("UPDATE audit_entries SET leaf_index = -1 WHERE id = %d", first),
				fmt.Sprintf("UPDATE audit_entries SET leaf_index = 9 WHERE id = %d", second),
				fmt.Sprintf("UPDATE audit_entries SET leaf_index = 10 WHERE id = %d", first))
			return want{"changed", 9, func(*app.App) int64 { return second }}
		}},
		{"checkpoint_forged", func(t *testing.T, a *app.App) want {
			fidelistest.MustExec(t, fidelistest.MustRawDB(t, a), "UPDATE audit_checkpoints SET created_at = created_at + 1 WHERE tree_size = (SELECT MIN(tree_size) FROM audit_checkpoints)")
			return want{"checkpoint", 7 - 0, nil}
		}},
		{"checkpoint_removed_with_its_entries", func(t *testing.T, a *app.App) want {
			// Removing the newest checkpoint leaves sealed entries no signature covers.
			raw := fidelistest.MustRawDB(t, a)
			fidelistest.MustExec(t, raw, "DELETE FROM audit_checkpoints WHERE tree_size = (SELECT MAX(tree_size) FROM audit_checkpoints)")
			cps, err := a.DB.Checkpoints(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return want{"inserted", cps[len(cps)-1].Size, nil}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
				a := mustAuditedApp(t, b)
				w := tc.tamper(t, a)
				r, err := a.VerifyAudit(context.Background())
				if err != nil {
					t.Fatalf("VerifyAudit: %v", err)
				}
				if r.OK() {
					t.Fatalf("VerifyAudit after %s = OK; want a problem", tc.name)
				}
				p := r.Problems[0]
				var wantID int64
				if w.entry != nil {
					wantID = w.entry(a)
				}
				if p.Kind != w.kind || p.EntryID != wantID || (w.leaf >= 0 && p.LeafIndex != w.leaf) {
					t.Fatalf("first problem = %v (kind %q, entry %d, leaf %d); want kind %q, entry %d, leaf %d", p, p.Kind, p.EntryID, p.LeafIndex, w.kind, wantID, w.leaf)
				}
				if strings.Contains(p.String(), "Tamper") {
					t.Fatalf("problem %q contains personal data", p)
				}
			})
		})
	}
}

func forgedID(t *testing.T, a *app.App) int64 {
	t.Helper()
	var id int64
	a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
		if e.UID == "aud_forged" {
			id = e.ID
		}
		return nil
	})
	if id == 0 {
		t.Fatal("forged entry not found")
	}
	return id
}

// TestSealer_ConcurrentWritersAndSealing_P4 writes entries while the sealer runs, then
// checks that every entry ends up sealed exactly once and the log verifies.
func TestSealer_ConcurrentWritersAndSealing_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		a.Sealer.BatchSize = 25
		go func() { defer close(done); a.Sealer.Run(ctx, 5e6) }()
		sys := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
		errc := make(chan error, 4)
		for w := range 4 {
			go func() {
				for i := range 30 {
					_, err := a.Customers.Create(sys, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
						fidelis.FieldFamilyName: fidelis.NewSecret(fmt.Sprintf("W%d-%d", w, i))}})
					if err != nil {
						errc <- err
						return
					}
				}
				errc <- nil
			}()
		}
		for range 4 {
			if err := <-errc; err != nil {
				t.Fatalf("Create: %v", err)
			}
		}
		cancel()
		<-done
		if _, err := a.Sealer.SealAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		r, err := a.VerifyAudit(context.Background())
		if err != nil || !r.OK() || r.Pending != 0 || r.Sealed != 120 {
			t.Fatalf("VerifyAudit = %+v, %v; want OK, 120 sealed, none pending", r, err)
		}
	})
}

// TestVerify_AgainstArchivedCheckpoint_P4: a log whose end was removed along with its
// newest checkpoints fails against a checkpoint archived before, on both backends.
func TestVerify_AgainstArchivedCheckpoint_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := mustAuditedApp(t, b)
		latest, err := a.DB.LatestCheckpoint(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		note := filepath.Join(t.TempDir(), "checkpoint.txt")
		if err := os.WriteFile(note, audit.FormatCheckpoint(latest), 0o600); err != nil {
			t.Fatal(err)
		}
		if r, err := a.VerifyAudit(context.Background(), note); err != nil || !r.OK() {
			t.Fatalf("VerifyAudit(against the latest checkpoint) = %+v, %v; want OK", r, err)
		}
		cps, _ := a.DB.Checkpoints(context.Background())
		keep := cps[len(cps)-2].Size
		fidelistest.MustExec(t, fidelistest.MustRawDB(t, a),
			fmt.Sprintf("DELETE FROM audit_entries WHERE leaf_index >= %d", keep),
			fmt.Sprintf("DELETE FROM audit_checkpoints WHERE tree_size > %d", keep))
		if r, err := a.VerifyAudit(context.Background()); err != nil || !r.OK() {
			t.Fatalf("VerifyAudit(truncated, no archive) = %+v, %v; the truncation is invisible without one", r, err)
		}
		r, err := a.VerifyAudit(context.Background(), note)
		if err != nil || r.OK() || r.Problems[0].Kind != "removed" || r.Problems[0].LeafIndex != keep {
			t.Fatalf("VerifyAudit(truncated, against the archive) = %+v, %v; want removed at leaf %d", r, err, keep)
		}
	})
}
