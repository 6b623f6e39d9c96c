package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/proof"
)

// proofError marks a proof file that failed verification (exit status 3, as audit verify).
type proofError struct{ first string }

func (e *proofError) Error() string { return "proof verification FAILED: " + e.first }

func proofCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "proof", Short: "Accountability proof for an audit or the CNIL: export it, verify it offline (P-4)"}
	var out, since, role string
	export := &cobra.Command{
		Use:   "export --out FILE.zip",
		Short: "Write the audit log, consent proofs and register of processing into one zip file",
		Long: "export writes one zip file an auditor or the supervisory authority can check offline:\n" +
			"the audit log (every entry: IDs, actions, purposes, field names, outcomes, times, MAC,\n" +
			"leaf index and hash; never a personal value), every signed checkpoint and the Ed25519\n" +
			"public key that verifies them; every consent notice version and every consent record;\n" +
			"the register of processing in JSON, Markdown and HTML, French and English; a README\n" +
			"(FR/EN) saying how to verify; a manifest with counts and the SHA-256 of every file.\n" +
			"Pending audit entries are sealed first. With --since, audit entries and consent records\n" +
			"from that date on only (the entries resume at the last checkpoint before it); the\n" +
			"checkpoints, notices and register are always whole. The export is audited (proof.export).\n" +
			"It acts with --role, which must hold verify_audit and read_register (admin, dpo, auditor).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fidelis.Invalid(fidelis.FieldError{Field: "out", Rule: "required", Message: "is required: the zip file to write"})
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			if !a.Registry.ValidRole(fidelis.Role(role)) {
				return fidelis.Invalid(fidelis.FieldError{Field: "role", Rule: "unknown_role", Message: "is not a known role"})
			}
			ctx := app.SystemContext(cmd.Context(), "proof-export", fidelis.Role(role))
			if _, err := a.Proof.Check(ctx); err != nil {
				return err
			}
			from, err := proof.ParseSince(since, a.Proof.Calendar, time.Now())
			if err != nil {
				return err
			}
			// Written beside the target and renamed at the end: a failed export leaves no
			// file that looks complete.
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.part")
			if err != nil {
				return fmt.Errorf("create %s: %w", out, err)
			}
			defer os.Remove(tmp.Name())
			stderr := cmd.ErrOrStderr()
			m, err := a.Proof.Export(ctx, tmp, proof.Options{Since: from, Progress: func(p proof.Progress) {
				if p.Final {
					fmt.Fprintf(stderr, "%s: %d, done\n", p.Stage, p.Done)
				} else {
					fmt.Fprintf(stderr, "%s: %d...\n", p.Stage, p.Done)
				}
			}})
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "proof written to %s\n", out)
			fmt.Fprintf(w, "audit entries: %d (from leaf %d), checkpoints: %d", m.Counts.AuditEntries, m.Audit.FirstLeaf, m.Counts.Checkpoints)
			if l := m.Audit.Latest; l != nil {
				fmt.Fprintf(w, ", latest checkpoint: size %d root %s", l.Size, l.Root)
			}
			fmt.Fprintf(w, "\nconsent notices: %d, consent records: %d, register documents: %d\n", m.Counts.ConsentNotices, m.Counts.ConsentRecords, m.Counts.Registers)
			fmt.Fprintf(w, "audit key: %s (check it with 'fidelis proof verify %s')\n", m.Audit.KeyID, out)
			return nil
		},
	}
	export.Flags().StringVar(&out, "out", "", "the zip file to write (replaced if it exists)")
	export.Flags().StringVar(&since, "since", "", "only audit entries and consent records from this date (2026-01-31, Paris time) or RFC 3339 time on")
	export.Flags().StringVar(&role, "role", string(fidelis.RoleAuditor), "role the export acts with: it must hold verify_audit and read_register (admin, dpo, auditor)")
	c.AddCommand(export)

	var keyFile string
	verify := &cobra.Command{
		Use:   "verify FILE.zip",
		Short: "Check a proof file offline: manifest hashes, Merkle roots, checkpoint signatures, notice and register hashes",
		Long: "verify checks a file written by 'proof export' from its contents alone, without a database:\n" +
			"every file against the manifest's SHA-256, every audit leaf and the Merkle root at every\n" +
			"signed checkpoint, every signature, the consent notices' hashes and the records' notice\n" +
			"references, the register's content hashes. It exits 0 if the file is intact and 3 naming\n" +
			"the first problem otherwise. The key inside the file only proves the file agrees with\n" +
			"itself: pass --key with the audit public key obtained separately.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key []byte
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return fidelis.Invalid(fidelis.FieldError{Field: "key", Rule: "unreadable", Message: err.Error()})
				}
				k, err := proof.ParsePublicKey(b)
				if err != nil {
					return fidelis.Invalid(fidelis.FieldError{Field: "key", Rule: "invalid_key", Message: err.Error()})
				}
				key = k
			}
			f, err := os.Open(args[0])
			if err != nil {
				return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_file", Message: err.Error()}
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			r, err := proof.Verify(cmd.Context(), f, st.Size(), key)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if m := r.Manifest; m != nil {
				fmt.Fprintf(w, "generated %s by %s", m.GeneratedAt.Format(time.RFC3339), m.GeneratedBy)
				if m.Since != nil {
					fmt.Fprintf(w, ", since %s", m.Since.Format(time.RFC3339))
				}
				fmt.Fprintf(w, ", key %s\n", r.KeyID)
			}
			if a := r.Audit; a != nil {
				fmt.Fprintf(w, "audit entries: %d, checkpoints: %d, tree size %d, root %s\n", a.Entries, a.Checkpoints, a.Size, a.Root)
			}
			fmt.Fprintf(w, "consent notices: %d, consent records: %d, register documents: %d\n", r.ConsentNotices, r.ConsentRecords, r.Registers)
			if r.OK() {
				fmt.Fprintln(w, "proof OK")
				return nil
			}
			for _, p := range r.Problems {
				fmt.Fprintln(w, "PROBLEM:", p)
			}
			return &proofError{first: r.Problems[0]}
		},
	}
	verify.Flags().StringVar(&keyFile, "key", "", "the audit public key (PEM) the file must carry, obtained separately")
	c.AddCommand(verify)
	return c
}
