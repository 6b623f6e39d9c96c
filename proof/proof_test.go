package proof_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/proof"
	"github.com/fidelis/fidelis/register"
)

// canaries are personal values stored in customers: none may appear in any file of a proof.
var canaries = []string{"Zorglubette", "Quimperlé-Canari", "canari.zq9@exemple.test", "+33 6 11 22 33 44", "611223344", "Rue du Canari 17", "1987-04-05"}

// mustCustomers creates n customers holding the canary values, reads each, and records
// their marketing consents; it returns their IDs.
func mustCustomers(t *testing.T, a *app.App, n int) []fidelis.CustomerID {
	t.Helper()
	ctx := app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
	var ids []fidelis.CustomerID
	for i := range n {
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName:  fidelis.NewSecret(canaries[0]),
			fidelis.FieldFamilyName: fidelis.NewSecret(fmt.Sprintf("%s%d", canaries[1], i)),
			fidelis.FieldEmail:      fidelis.NewSecret(fmt.Sprintf("%d.%s", i, canaries[2])),
			fidelis.FieldPhone:      fidelis.NewSecret(canaries[3]),
			fidelis.FieldStreet:     fidelis.NewSecret(canaries[5]),
			fidelis.FieldBirthDate:  fidelis.NewSecret(canaries[6]),
		}})
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if _, err := a.Customers.Get(ctx, fidelis.PurposeCustomerService, c.ID); err != nil {
			t.Fatalf("Get: %v", err)
		}
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		ids = append(ids, c.ID)
	}
	return ids
}

func asRole(role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), "proof-test", role)
}

// mustExport exports as the auditor and returns the archive's bytes and manifest.
func mustExport(t *testing.T, a *app.App, opt proof.Options) ([]byte, *proof.Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := a.Proof.Export(asRole(fidelis.RoleAuditor), &buf, opt)
	if err != nil {
		t.Fatalf("Export = %v", err)
	}
	return buf.Bytes(), m
}

// archive is a proof file's files by name, in archive order.
type archive struct {
	names []string
	files map[string][]byte
}

func mustRead(t *testing.T, b []byte) *archive {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("the export is not a zip archive: %v", err)
	}
	ar := &archive{files: map[string][]byte{}}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		rc.Close()
		ar.names = append(ar.names, f.Name)
		ar.files[f.Name] = buf.Bytes()
	}
	return ar
}

// zip writes the archive back, with the manifest's hashes recomputed when rehash is set
// (as a careful forger would).
func (ar *archive) zip(t *testing.T, rehash bool) []byte {
	t.Helper()
	if rehash {
		var m proof.Manifest
		if err := json.Unmarshal(ar.files[proof.FileManifest], &m); err != nil {
			t.Fatal(err)
		}
		for i, f := range m.Files {
			sum := sha256.Sum256(ar.files[f.Name])
			m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(ar.files[f.Name]))
		}
		b, _ := json.Marshal(&m)
		ar.files[proof.FileManifest] = b
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range ar.names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(ar.files[n])
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (ar *archive) lines(name string) []string {
	s := strings.TrimSuffix(string(ar.files[name]), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

func verify(t *testing.T, b []byte, key ed25519.PublicKey) *proof.Report {
	t.Helper()
	r, err := proof.Verify(context.Background(), bytes.NewReader(b), int64(len(b)), key)
	if err != nil {
		t.Fatalf("Verify = %v", err)
	}
	return r
}

// TestProofExport_HoldsWhatItSaysWithoutPersonalValues_P4_C1_D2 exports a living
// installation and checks the archive file by file: every sealed audit entry and
// checkpoint with the key that verifies them, every notice and consent record (JSON lines
// and CSV alike), the register in both languages and three formats, a manifest whose hashes
// match, no personal value anywhere, and an audit entry for the export.
func TestProofExport_HoldsWhatItSaysWithoutPersonalValues_P4_C1_D2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		ids := mustCustomers(t, a, 6)
		a.Sealer.BatchSize = 10 // several checkpoints
		var progress []proof.Progress
		raw, m := mustExport(t, a, proof.Options{ProgressEvery: 25, Progress: func(p proof.Progress) { progress = append(progress, p) }})
		ar := mustRead(t, raw)

		// Files and manifest.
		want := []string{proof.FileReadme, proof.FilePublicKey, proof.FileLatest, proof.FileCheckpoints, proof.FileEntries,
			proof.FileNoticesJSON, proof.FileNoticesCSV, proof.FileRecordsJSON, proof.FileRecordsCSV,
			"register/register-fr.json", "register/register-fr.md", "register/register-fr.html",
			"register/register-en.json", "register/register-en.md", "register/register-en.html", proof.FileManifest}
		if !slices.Equal(ar.names, want) {
			t.Fatalf("archive files = %v; want %v", ar.names, want)
		}
		var stored proof.Manifest
		if err := json.Unmarshal(ar.files[proof.FileManifest], &stored); err != nil {
			t.Fatalf("manifest.json: %v", err)
		}
		if stored.Format != proof.Format || stored.GeneratedBy != "system:proof-test" || stored.Since != nil || len(stored.Files) != len(want)-1 {
			t.Errorf("manifest = %+v; want format %s, by system:proof-test, no start date, %d files", stored, proof.Format, len(want)-1)
		}
		for _, f := range stored.Files {
			sum := sha256.Sum256(ar.files[f.Name])
			if got := hex.EncodeToString(sum[:]); got != f.SHA256 || int64(len(ar.files[f.Name])) != f.Size {
				t.Errorf("manifest: %s has SHA-256 %s, size %d; the file has %s, %d", f.Name, f.SHA256, f.Size, got, len(ar.files[f.Name]))
			}
		}
		if stored.Counts != m.Counts {
			t.Errorf("manifest counts %+v; Export returned %+v", stored.Counts, m.Counts)
		}

		// Audit log: every sealed entry, in leaf order, up to the latest checkpoint, which
		// the key verifies.
		latest, err := a.DB.LatestCheckpoint(context.Background())
		if err != nil || latest == nil {
			t.Fatalf("LatestCheckpoint = %v, %v", latest, err)
		}
		entries := ar.lines(proof.FileEntries)
		if int64(len(entries)) != latest.Size || m.Counts.AuditEntries != latest.Size || m.Audit.Latest == nil || m.Audit.Latest.Size != latest.Size || m.Audit.Latest.Root != latest.Root {
			t.Errorf("audit entries = %d, manifest latest %+v; want %d entries up to the latest checkpoint %d %s", len(entries), m.Audit.Latest, latest.Size, latest.Size, latest.Root)
		}
		actions := map[string]int{}
		for i, l := range entries {
			var e proof.EntryLine
			if err := json.Unmarshal([]byte(l), &e); err != nil || e.LeafIndex == nil || *e.LeafIndex != int64(i) || len(e.LeafHash) != 64 || e.MAC == "" || e.UID == "" {
				t.Fatalf("entry line %d = %s (%v); want leaf %d with its hash and MAC", i, l, err, i)
			}
			actions[e.Action]++
		}
		if actions["customer.create"] != len(ids) || actions["customer.read"] < len(ids) || actions[consent.ActRecord] != 2*len(ids) {
			t.Errorf("audit actions = %v; want %d creations, reads and %d consent records", actions, len(ids), 2*len(ids))
		}
		cps := ar.lines(proof.FileCheckpoints)
		if len(cps) < 3 || int64(len(cps)) != m.Counts.Checkpoints {
			t.Errorf("checkpoints = %d (manifest %d); want every checkpoint, several", len(cps), m.Counts.Checkpoints)
		}
		pub, err := proof.ParsePublicKey(ar.files[proof.FilePublicKey])
		if err != nil || !pub.Equal(a.AuditPublicKey()) {
			t.Errorf("public key = %v, %v; want the installation's audit key", pub, err)
		}
		if cp, err := audit.ParseSignedCheckpoint(ar.files[proof.FileLatest], a.AuditPublicKey()); err != nil || cp.Size != uint64(latest.Size) {
			t.Errorf("checkpoint.txt = %+v, %v; want the latest signed checkpoint", cp, err)
		}

		// Consent proofs (C-1): every notice with its hash, every record, JSON and CSV.
		notices := ar.lines(proof.FileNoticesJSON)
		if len(notices) != 2 {
			t.Errorf("notices = %d; want 2 (marketing e-mail and SMS)", len(notices))
		}
		for _, l := range notices {
			var n consent.Notice
			if err := json.Unmarshal([]byte(l), &n); err != nil || n.Hash != consent.NoticeHash(n.Purpose, n.Version, n.Text) || n.Text.FR == "" || n.Text.EN == "" {
				t.Errorf("notice line %s (%v); want French and English texts and their hash", l, err)
			}
		}
		records := ar.lines(proof.FileRecordsJSON)
		if len(records) != 2*len(ids) || m.Counts.ConsentRecords != int64(len(records)) {
			t.Errorf("consent records = %d (manifest %d); want %d", len(records), m.Counts.ConsentRecords, 2*len(ids))
		}
		perCustomer := map[fidelis.CustomerID]int{}
		for _, l := range records {
			var r consent.Record
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.NoticeVersion != 1 || r.NoticeHash == "" || r.Method != consent.MethodPaper ||
				r.Decision != privacy.ConsentGranted || r.RecordedBy != "system:test-consents" || r.CollectedAt.IsZero() || r.RecordedAt.IsZero() {
				t.Errorf("record line %s (%v); want purpose, channel, decision, notice version and hash, method, times, recorder", l, err)
			}
			perCustomer[r.CustomerID]++
		}
		for _, id := range ids {
			if perCustomer[id] != 2 {
				t.Errorf("customer %s has %d records in the export; want 2", id, perCustomer[id])
			}
		}
		rows, err := csv.NewReader(bytes.NewReader(ar.files[proof.FileRecordsCSV])).ReadAll()
		if err != nil || len(rows) != len(records)+1 || rows[0][0] != "id" || rows[0][1] != "customer_id" {
			t.Errorf("records.csv = %d rows, %v; want a header and %d rows", len(rows), err, len(records))
		}

		// Register (D-2): both languages, three formats, content hashes that verify.
		for _, lang := range []string{"fr", "en"} {
			var reg register.Register
			if err := json.Unmarshal(ar.files["register/register-"+lang+".json"], &reg); err != nil || !reg.Verify() || reg.Lang != lang || len(reg.Activities) == 0 {
				t.Errorf("register-%s.json: %v; want a verified register in %s", lang, err, lang)
			}
			hash := strings.TrimPrefix(reg.ContentHash, "sha256:")
			for _, f := range []string{"md", "html"} {
				if !bytes.Contains(ar.files["register/register-"+lang+"."+f], []byte(hash)) {
					t.Errorf("register-%s.%s does not carry the content hash", lang, f)
				}
			}
		}
		readme := string(ar.files[proof.FileReadme])
		for _, w := range []string{"## Français", "## English", "fidelis proof verify", "RFC 6962", "SHA-256(0x00", "Ed25519", "fidelis-audit/v1"} {
			if !strings.Contains(readme, w) {
				t.Errorf("README lacks %q", w)
			}
		}

		// D-5: no personal value in any file.
		for name, body := range ar.files {
			for _, c := range canaries {
				if bytes.Contains(body, []byte(c)) {
					t.Errorf("%s holds the personal value %q", name, c)
				}
			}
		}

		// Progress was reported for each stage, then the export itself was audited.
		var finals []string
		for _, p := range progress {
			if p.Final {
				finals = append(finals, fmt.Sprintf("%s=%d", p.Stage, p.Done))
			}
		}
		if wantFinals := []string{fmt.Sprintf("%s=%d", proof.FileCheckpoints, len(cps)), fmt.Sprintf("%s=%d", proof.FileEntries, len(entries)),
			fmt.Sprintf("%s=%d", proof.FileRecordsJSON, len(records))}; !slices.Equal(finals, wantFinals) || len(progress) <= len(finals) {
			t.Errorf("progress finals = %v (of %d reports); want %v and reports along the way", finals, len(progress), wantFinals)
		}
		exported := 0
		a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
			if e.Action == proof.ActExport && e.Outcome == audit.OutcomeOK && e.Actor == "system:proof-test" && e.Subject == "" &&
				strings.Contains(e.Reason, fmt.Sprintf("entries=%d ", len(entries))) && strings.Contains(e.Reason, fmt.Sprintf("consents=%d ", len(records))) {
				exported++
			}
			return nil
		})
		if exported != 1 {
			t.Errorf("%d audit entries %s with the counts; want 1", exported, proof.ActExport)
		}

		// The file verifies offline, against the installation's key too.
		if r := verify(t, raw, a.AuditPublicKey()); !r.OK() || r.Audit == nil || r.Audit.Entries != latest.Size || r.ConsentRecords != int64(len(records)) || r.Registers != 6 {
			t.Errorf("Verify(fresh export) = %+v, problems %v; want OK with every part", r, r.Problems)
		}
		// And the log in the database still verifies, the export's own entry included.
		if _, err := a.Sealer.SealAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r, err := a.VerifyAudit(context.Background()); err != nil || !r.OK() {
			t.Errorf("VerifyAudit after export = %+v, %v", r, err)
		}
	})
}

// TestProofVerify_NamesTheAlteredEntry_P4 alters an exported file as a forger would and
// checks that Verify fails naming what was altered: an entry (with the manifest hashes
// recomputed, and without), a removed last entry, a checkpoint, a consent notice, a
// register, an added file, another key.
func TestProofVerify_NamesTheAlteredEntry_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		mustCustomers(t, a, 3)
		a.Sealer.BatchSize = 7
		raw, _ := mustExport(t, a, proof.Options{})
		if r := verify(t, raw, nil); !r.OK() {
			t.Fatalf("Verify(fresh export) problems = %v; want none", r.Problems)
		}
		entryAt := func(ar *archive, i int) proof.EntryLine {
			var e proof.EntryLine
			json.Unmarshal([]byte(ar.lines(proof.FileEntries)[i]), &e)
			return e
		}
		setLine := func(ar *archive, name string, i int, fn func(string) string) {
			ls := ar.lines(name)
			ls[i] = fn(ls[i])
			ar.files[name] = []byte(strings.Join(ls, "\n") + "\n")
		}
		for _, tc := range []struct {
			name  string
			alter func(ar *archive) (rehash bool, first string)
		}{
			{"entry_changed_manifest_rehashed", func(ar *archive) (bool, string) {
				e := entryAt(ar, 9)
				setLine(ar, proof.FileEntries, 9, func(l string) string {
					return strings.Replace(l, `"purpose":"`+e.Purpose+`"`, `"purpose":"marketing_email"`, 1)
				})
				return true, fmt.Sprintf("audit: entry %d (leaf 9): changed", e.ID)
			}},
			{"entry_changed", func(ar *archive) (bool, string) {
				e := entryAt(ar, 4)
				setLine(ar, proof.FileEntries, 4, func(l string) string {
					return strings.Replace(l, `"actor":"`+e.Actor+`"`, `"actor":"user:usr_nobody"`, 1)
				})
				return false, proof.FileEntries + ": SHA-256 or size does not match the manifest"
			}},
			{"entry_leaf_hash_forged_too", func(ar *archive) (bool, string) {
				// The forger also recomputes the leaf hash: the signed root then differs.
				e := entryAt(ar, 2)
				setLine(ar, proof.FileEntries, 2, func(l string) string { return strings.Replace(l, e.LeafHash, strings.Repeat("0", 64), 1) })
				return true, fmt.Sprintf("audit: entry %d (leaf 2): changed", e.ID)
			}},
			{"last_entry_removed", func(ar *archive) (bool, string) {
				ls := ar.lines(proof.FileEntries)
				ar.files[proof.FileEntries] = []byte(strings.Join(ls[:len(ls)-1], "\n") + "\n")
				return true, "audit: leaf"
			}},
			{"entry_unparsable", func(ar *archive) (bool, string) {
				setLine(ar, proof.FileEntries, 5, func(l string) string { return l[:len(l)/2] })
				return true, proof.FileEntries + " line 6:"
			}},
			{"checkpoint_time_changed", func(ar *archive) (bool, string) {
				setLine(ar, proof.FileCheckpoints, 0, func(l string) string {
					var c proof.CheckpointLine
					json.Unmarshal([]byte(l), &c)
					return strings.Replace(l, c.Time, "2020-01-01T00:00:00.000000Z", 1)
				})
				return true, "audit: leaf 7: checkpoint: signature of the checkpoint at size 7 does not verify"
			}},
			{"notice_text_changed", func(ar *archive) (bool, string) {
				setLine(ar, proof.FileNoticesJSON, 0, func(l string) string { return strings.Replace(l, "J'accepte", "J'accepterais", 1) })
				return true, proof.FileNoticesJSON + " line 1: notice"
			}},
			{"register_changed", func(ar *archive) (bool, string) {
				ar.files["register/register-en.json"] = bytes.Replace(ar.files["register/register-en.json"], []byte(`"contract"`), []byte(`"consent"`), 1)
				return true, "register/register-en.json: content does not match"
			}},
			{"file_added", func(ar *archive) (bool, string) {
				ar.names = append(ar.names, "audit/extra.jsonl")
				ar.files["audit/extra.jsonl"] = []byte("{}\n")
				return true, "audit/extra.jsonl: not listed in the manifest"
			}},
			{"key_replaced", func(ar *archive) (bool, string) {
				pub, _, _ := ed25519.GenerateKey(rand.Reader)
				der, _ := x509.MarshalPKIXPublicKey(pub)
				ar.files[proof.FilePublicKey] = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
				return true, proof.FilePublicKey + ": key"
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ar := mustRead(t, raw)
				rehash, first := tc.alter(ar)
				r := verify(t, ar.zip(t, rehash), nil)
				if r.OK() || !strings.HasPrefix(r.Problems[0], first) {
					t.Errorf("Verify(%s) problems = %q; want the first to start with %q", tc.name, r.Problems, first)
				}
			})
		}
		// An auditor holding the real key refuses a file re-signed with another one.
		other, _, _ := ed25519.GenerateKey(rand.Reader)
		if r := verify(t, raw, other); r.OK() || !strings.Contains(r.Problems[0], "is not the expected key") {
			t.Errorf("Verify(other key) problems = %q; want the key refused", r.Problems)
		}
		if _, err := proof.Verify(context.Background(), bytes.NewReader([]byte("PK not a zip")), 12, nil); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Verify(not a zip) = %v; want EINVALID", err)
		}
	})
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// TestProofExport_Since_P4_C1 exports from a start date: audit entries resume at the last
// checkpoint before it (with the frontier that links them to the signed tree), consent
// records are those recorded from it, checkpoints, notices and register are whole, and the
// file verifies offline.
func TestProofExport_Since_P4_C1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		clk := &clock{t: time.Now().UTC().Add(-10 * 24 * time.Hour).Truncate(time.Second)}
		a := fidelistest.MustApp(t, b, fidelistest.Options{Now: clk.Now})
		a.Sealer.BatchSize = 5
		old := mustCustomers(t, a, 3)
		if _, err := a.Sealer.SealAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		before, err := a.DB.LatestCheckpoint(context.Background())
		if err != nil || before == nil {
			t.Fatal(before, err)
		}
		clk.add(48 * time.Hour)
		since := clk.Now().Add(-24 * time.Hour)
		recent := mustCustomers(t, a, 2)

		raw, m := mustExport(t, a, proof.Options{Since: since})
		ar := mustRead(t, raw)
		if m.Since == nil || !m.Since.Equal(since) || m.Audit.Start == nil || m.Audit.Start.Size != before.Size || m.Audit.FirstLeaf != before.Size {
			t.Fatalf("manifest since %v, start %+v, first leaf %d; want %v and the checkpoint of size %d", m.Since, m.Audit.Start, m.Audit.FirstLeaf, since, before.Size)
		}
		if _, ok := ar.files[proof.FileStart]; !ok {
			t.Fatalf("no %s in an export with a start date", proof.FileStart)
		}
		entries := ar.lines(proof.FileEntries)
		var first proof.EntryLine
		json.Unmarshal([]byte(entries[0]), &first)
		if *first.LeafIndex != before.Size || int64(len(entries)) != m.Audit.Latest.Size-before.Size {
			t.Errorf("entries from leaf %d, %d of them; want from %d to %d", *first.LeafIndex, len(entries), before.Size, m.Audit.Latest.Size)
		}
		for _, l := range entries {
			var e proof.EntryLine
			json.Unmarshal([]byte(l), &e)
			if at, _ := time.Parse(time.RFC3339Nano, e.At); at.Before(since) {
				t.Errorf("entry %d at %s is before the start date %s", e.ID, e.At, since)
			}
		}
		all, err := a.DB.CheckpointsPage(context.Background(), 0, m.Audit.Latest.Size, 1000)
		if err != nil || int64(len(ar.lines(proof.FileCheckpoints))) != int64(len(all)) || len(all) < 3 {
			t.Errorf("checkpoints in the file = %d; want all %d (%v)", len(ar.lines(proof.FileCheckpoints)), len(all), err)
		}
		var got []fidelis.CustomerID
		for _, l := range ar.lines(proof.FileRecordsJSON) {
			var r consent.Record
			json.Unmarshal([]byte(l), &r)
			if !slices.Contains(got, r.CustomerID) {
				got = append(got, r.CustomerID)
			}
		}
		slices.Sort(got)
		slices.Sort(recent)
		if !slices.Equal(got, recent) || len(ar.lines(proof.FileRecordsJSON)) != 2*len(recent) {
			t.Errorf("consent records of %v; want the %d records of the recent customers %v only (not %v)", got, 2*len(recent), recent, old)
		}
		if len(ar.lines(proof.FileNoticesJSON)) != 2 || m.Counts.Registers != 6 {
			t.Errorf("notices %d, registers %d; want the whole notices and register", len(ar.lines(proof.FileNoticesJSON)), m.Counts.Registers)
		}
		r := verify(t, raw, a.AuditPublicKey())
		if !r.OK() || r.Audit.Entries != int64(len(entries)) || r.Audit.Size != m.Audit.Latest.Size {
			t.Errorf("Verify(export since) = %+v, problems %q; want OK, recomputed from the start frontier", r.Audit, r.Problems)
		}
		// A forged frontier does not reach the signed root.
		var sl proof.StartLine
		json.Unmarshal(ar.files[proof.FileStart], &sl)
		sl.Frontier[0][0] ^= 1
		ar.files[proof.FileStart], _ = json.Marshal(sl)
		if r := verify(t, ar.zip(t, true), nil); r.OK() || !strings.Contains(r.Problems[0], "starting frontier") {
			t.Errorf("Verify(forged frontier) problems = %q; want the frontier refused", r.Problems)
		}
		// A start date in the future is refused.
		if _, err := a.Proof.Export(asRole(fidelis.RoleDPO), &bytes.Buffer{}, proof.Options{Since: clk.Now().Add(time.Hour)}); fidelis.ErrorCode(err) != fidelis.EINVALID {
			t.Errorf("Export(since in the future) = %v; want EINVALID", err)
		}
	})
}

// TestProofExport_RefusesRolesWithoutTheRight_P4: only roles holding both verify_audit and
// read_register export proof; a refusal writes nothing and is audited.
func TestProofExport_RefusesRolesWithoutTheRight_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		for _, role := range []fidelis.Role{fidelis.RoleAdmin, fidelis.RoleDPO, fidelis.RoleAuditor} {
			if _, err := a.Proof.Export(asRole(role), &bytes.Buffer{}, proof.Options{}); err != nil {
				t.Errorf("Export as %s = %v; want allowed", role, err)
			}
		}
		for _, role := range []fidelis.Role{fidelis.RoleSales, fidelis.RoleMarketing, fidelis.RoleSupport, fidelis.RoleLoyaltyManager, fidelis.RoleSubject, "nobody"} {
			var buf bytes.Buffer
			_, err := a.Proof.Export(asRole(role), &buf, proof.Options{})
			if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EFORBIDDEN || e.Reason != "action_not_permitted" || buf.Len() != 0 {
				t.Errorf("Export as %s = %v, %d bytes; want EFORBIDDEN action_not_permitted and nothing written", role, err, buf.Len())
			}
		}
		if _, err := a.Proof.Export(context.Background(), &bytes.Buffer{}, proof.Options{}); fidelis.ErrorCode(err) != fidelis.EUNAUTHORIZED {
			t.Errorf("Export without an actor = %v; want EUNAUTHORIZED", err)
		}
		denied := 0
		a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
			if e.Action == proof.ActExport && e.Outcome == audit.OutcomeDenied {
				denied++
			}
			return nil
		})
		if denied != 6 {
			t.Errorf("%d denied %s entries; want 6", denied, proof.ActExport)
		}
	})
}

func TestParseSince_P4(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
		code fidelis.Code
	}{
		{"", time.Time{}, ""},
		{"2026-01-31", time.Date(2026, 1, 30, 23, 0, 0, 0, time.UTC), ""}, // midnight in Paris
		{"2026-03-01T08:30:00Z", time.Date(2026, 3, 1, 8, 30, 0, 0, time.UTC), ""},
		{"2026-03-14T12:00:00.5+01:00", time.Date(2026, 3, 14, 11, 0, 0, 500000000, time.UTC), ""},
		{"2026-03-15", time.Time{}, fidelis.EINVALID}, // future
		{"31/01/2026", time.Time{}, fidelis.EINVALID},
		{"1999-12-31", time.Time{}, fidelis.EINVALID},
	} {
		t.Run(tt.in, func(t *testing.T) {
			got, err := proof.ParseSince(tt.in, paris, now)
			if !got.Equal(tt.want) || fidelis.ErrorCode(err) != tt.code {
				t.Fatalf("ParseSince(%q) = %v, %v; want %v, code %q", tt.in, got, err, tt.want, tt.code)
			}
		})
	}
}
