// Package proof exports, in one zip file, the evidence a controller shows an auditor or the
// supervisory authority (P-4, GDPR art. 5(2) and 30): the audit log with its signed
// checkpoints and the key that verifies them, the consent proofs (every notice version and
// every record of the consent ledger, C-1) and the register of processing (D-2), with a
// manifest of SHA-256 hashes and a README saying how to check everything offline. Verify
// checks such a file from its contents alone, without the database.
//
// Nothing in the file is a personal value: audit entries, consent records and the register
// hold IDs, codes, field names and times only (D-5); customers appear by their
// pseudonymous ID.
package proof

import (
	"archive/zip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/audit/merkle"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
)

// Format names the layout of a proof file; Verify refuses others.
const Format = "fidelis-proof/v1"

// ActExport is the audit action of an export.
const ActExport = "proof.export"

// Files of a proof archive.
const (
	FileReadme      = "README.md"
	FileManifest    = "manifest.json"
	FilePublicKey   = "audit/public-key.pem"
	FileEntries     = "audit/entries.jsonl"
	FileCheckpoints = "audit/checkpoints.jsonl"
	FileLatest      = "audit/checkpoint.txt"
	FileStart       = "audit/start.json"
	FileNoticesJSON = "consent/notices.jsonl"
	FileNoticesCSV  = "consent/notices.csv"
	FileRecordsJSON = "consent/records.jsonl"
	FileRecordsCSV  = "consent/records.csv"
)

// registerFile names the register in lang and format ("register/register-fr.md").
func registerFile(lang, format string) string { return "register/register-" + lang + "." + format }

// Store is what an export reads. Every method runs its own short read, so that an export of
// a large installation neither holds a long transaction nor loads a table in memory.
type Store interface {
	audit.Recorder
	// LatestCheckpoint returns the newest checkpoint, or nil for an empty log.
	LatestCheckpoint(ctx context.Context) (*audit.Checkpoint, error)
	// CheckpointBefore returns the newest checkpoint made before t, or nil if none.
	CheckpointBefore(ctx context.Context, t time.Time) (*audit.Checkpoint, error)
	// CheckpointsPage returns up to limit checkpoints of sizes in (after, upTo], by size.
	CheckpointsPage(ctx context.Context, after, upTo int64, limit int) ([]audit.Checkpoint, error)
	// LeavesPage returns up to limit sealed entries with leaf indexes in [from, to), by
	// leaf index.
	LeavesPage(ctx context.Context, from, to int64, limit int) ([]audit.Entry, error)
	// ConsentNotices returns every version of every consent notice.
	ConsentNotices(ctx context.Context) ([]*consent.Notice, error)
	// ConsentRecordsPage returns up to limit records of the whole ledger (every customer)
	// with IDs above after ("" for the first page), recorded at or after since (zero: all),
	// by ID.
	ConsentRecordsPage(ctx context.Context, after string, since time.Time, limit int) ([]*consent.Record, error)
}

// Service exports proof files. It is safe for concurrent use.
type Service struct {
	Store    Store
	Registry *privacy.Registry
	Register *register.Service
	Audit    *audit.Log
	// PublicKey verifies the audit checkpoints.
	PublicKey ed25519.PublicKey
	// Seal, when set, seals the audit entries written so far before an export, so that it
	// covers them; otherwise an export covers the log up to its latest checkpoint.
	Seal func(ctx context.Context) error
	Now  func() time.Time
	// Version is the Fidelis version written in the manifest; empty if unknown.
	Version string
	// Calendar is the time zone a start date without a time is read in (UTC when nil).
	Calendar *time.Location
}

// Page sizes of the reads.
const (
	entriesPage     = 5000
	checkpointsPage = 5000
	recordsPage     = 2000
)

// DefaultProgressEvery is how many items pass between two progress reports.
const DefaultProgressEvery = 10000

// Progress says how far an export is. Stage is the file being written; Done counts its
// items so far; Final is set once per stage, when it is complete.
type Progress struct {
	Stage string
	Done  int64
	Final bool
}

// Options tune an export.
type Options struct {
	// Since, when set, limits the audit entries and the consent records to those from that
	// time on; the checkpoints, the notices and the register are always whole.
	Since time.Time
	// Progress, when set, is called every ProgressEvery items (DefaultProgressEvery when
	// zero) and at the end of each stage.
	Progress      func(Progress)
	ProgressEvery int
}

// Manifest describes a proof file: when and by whom it was made, what it holds, and the
// SHA-256 of every other file in it.
type Manifest struct {
	Format         string     `json:"format"`
	GeneratedAt    time.Time  `json:"generated_at"`
	GeneratedBy    string     `json:"generated_by"`
	FidelisVersion string     `json:"fidelis_version,omitempty"`
	Since          *time.Time `json:"since,omitempty"`
	Counts         Counts     `json:"counts"`
	Audit          AuditInfo  `json:"audit"`
	Files          []File     `json:"files"`
}

// Counts are the numbers of items in a proof file.
type Counts struct {
	AuditEntries   int64 `json:"audit_entries"`
	Checkpoints    int64 `json:"checkpoints"`
	ConsentNotices int64 `json:"consent_notices"`
	ConsentRecords int64 `json:"consent_records"`
	Registers      int64 `json:"register_documents"`
}

// AuditInfo describes the audit log part.
type AuditInfo struct {
	Origin    string `json:"origin"`
	KeyID     string `json:"key_id"`
	PublicKey string `json:"public_key"` // raw Ed25519 key, standard base64
	// FirstLeaf is the leaf index of the first entry in the file: 0, or the size of the
	// start checkpoint of an export with a start date.
	FirstLeaf int64 `json:"first_leaf"`
	// Latest is the newest checkpoint: the file holds the log up to its size.
	Latest *CheckpointRef `json:"latest_checkpoint"`
	// Start is the checkpoint the entries continue from (exports with a start date).
	Start *CheckpointRef `json:"start_checkpoint,omitempty"`
}

// CheckpointRef names a checkpoint.
type CheckpointRef struct {
	Size int64       `json:"size"`
	Root merkle.Hash `json:"root"`
	Time time.Time   `json:"time"`
}

// File is one file of the archive with its size and SHA-256.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// EntryLine is one line of audit/entries.jsonl.
type EntryLine struct {
	ID        int64    `json:"id"`
	UID       string   `json:"uid"`
	At        string   `json:"at"` // RFC 3339 in UTC, as the authentication code covers it
	Actor     string   `json:"actor"`
	Action    string   `json:"action"`
	Subject   string   `json:"subject"`
	Purpose   string   `json:"purpose"`
	Fields    []string `json:"fields"`
	Outcome   string   `json:"outcome"`
	Reason    string   `json:"reason"`
	RequestID string   `json:"request_id"`
	MAC       string   `json:"mac"` // standard base64
	LeafIndex *int64   `json:"leaf_index"`
	LeafHash  string   `json:"leaf_hash"` // hex
}

// CheckpointLine is one line of audit/checkpoints.jsonl.
type CheckpointLine struct {
	Size      int64       `json:"size"`
	Root      merkle.Hash `json:"root"` // hex
	Time      string      `json:"time"` // as signed: RFC 3339, UTC, microseconds
	KeyID     string      `json:"key_id"`
	Signature string      `json:"signature"` // standard base64
}

// StartLine is audit/start.json: the checkpoint the entries of an export with a start date
// continue from, with the compact range (RFC 6962 subtree roots, largest first) of the
// tree at its size.
type StartLine struct {
	Size     int64         `json:"size"`
	Root     merkle.Hash   `json:"root"`
	Frontier []merkle.Hash `json:"frontier"`
}

// checkpointTime is the layout of a checkpoint time as signed.
const checkpointTime = "2006-01-02T15:04:05.000000Z"

func entryLine(e *audit.Entry) EntryLine {
	fields := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		fields[i] = string(f)
	}
	return EntryLine{ID: e.ID, UID: e.UID, At: e.At.UTC().Format(time.RFC3339Nano), Actor: e.Actor, Action: e.Action,
		Subject: e.Subject, Purpose: string(e.Purpose), Fields: fields, Outcome: string(e.Outcome), Reason: e.Reason,
		RequestID: e.RequestID, MAC: base64.StdEncoding.EncodeToString(e.MAC), LeafIndex: e.LeafIndex, LeafHash: hex.EncodeToString(e.LeafHash)}
}

func checkpointLine(cp *audit.Checkpoint) CheckpointLine {
	return CheckpointLine{Size: cp.Size, Root: cp.Root, Time: cp.At.UTC().Format(checkpointTime), KeyID: cp.KeyID,
		Signature: base64.StdEncoding.EncodeToString(cp.Signature)}
}

// ParseSince reads a start date: "" (none), a date "2006-01-02" (midnight in loc) or an
// RFC 3339 time. It must not be in the future.
func ParseSince(s string, loc *time.Location, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(time.DateOnly, s, loc)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, fidelis.Invalid(fidelis.FieldError{Field: "since", Rule: "invalid_date", Message: "must be a date (2026-01-31) or an RFC 3339 time (2026-01-31T08:00:00Z)"})
		}
	}
	switch {
	case t.After(now):
		return time.Time{}, fidelis.Invalid(fidelis.FieldError{Field: "since", Rule: "in_future", Message: "must not be in the future"})
	case t.Year() < 2000:
		return time.Time{}, fidelis.Invalid(fidelis.FieldError{Field: "since", Rule: "too_old", Message: "is not a plausible date"})
	}
	return fidelis.UTC(t), nil
}

// Check reports, as an error, whether the actor in ctx may export proof: the file holds the
// audit log and the register, so the role must hold both verify_audit and read_register
// (admin, dpo and auditor by default). A refusal is audited.
func (s *Service) Check(ctx context.Context) (fidelis.Actor, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return actor, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !s.Registry.Can(actor.Role, fidelis.ActionVerifyAudit) || !s.Registry.Can(actor.Role, fidelis.ActionReadRegister) {
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActExport, Outcome: audit.OutcomeDenied, Reason: "action_not_permitted"}))
		return actor, fidelis.Refusal("action_not_permitted", "role "+string(actor.Role)+" may not export proof: it needs verify_audit and read_register")
	}
	return actor, nil
}

func (s *Service) now() time.Time {
	if s.Now == nil {
		return fidelis.UTC(time.Now())
	}
	return fidelis.UTC(s.Now())
}

// Export writes the proof file to w, a zip archive, and returns its manifest. The actor in
// ctx must pass Check. Nothing is written to w before the checks pass; an error after that
// leaves w with an incomplete archive, which the caller discards. The export is audited
// (ActExport, with its counts).
func (s *Service) Export(ctx context.Context, w io.Writer, opt Options) (*Manifest, error) {
	actor, err := s.Check(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !opt.Since.IsZero() && opt.Since.After(now) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "since", Rule: "in_future", Message: "must not be in the future"})
	}
	if s.Seal != nil {
		if err := s.Seal(ctx); err != nil {
			return nil, fmt.Errorf("proof: seal the audit log: %w", err)
		}
	}
	// The start is read before the latest checkpoint, so that it is never newer.
	var start *audit.Checkpoint
	if !opt.Since.IsZero() {
		if start, err = s.Store.CheckpointBefore(ctx, opt.Since); err != nil {
			return nil, err
		}
	}
	latest, err := s.Store.LatestCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	x := &exporter{s: s, ctx: ctx, zw: zip.NewWriter(w), opt: opt}
	if x.opt.ProgressEvery <= 0 {
		x.opt.ProgressEvery = DefaultProgressEvery
	}
	m := &Manifest{Format: Format, GeneratedAt: now, GeneratedBy: actor.String(), FidelisVersion: s.Version,
		Audit: AuditInfo{Origin: audit.Origin, KeyID: merkle.KeyID(s.PublicKey), PublicKey: base64.StdEncoding.EncodeToString(s.PublicKey)}}
	if !opt.Since.IsZero() {
		since := opt.Since
		m.Since = &since
	}
	x.m = m
	if err := x.run(start, latest); err != nil {
		return nil, fmt.Errorf("proof.Export: %w", err)
	}
	c := m.Counts
	reason := fmt.Sprintf("entries=%d checkpoints=%d notices=%d consents=%d registers=%d", c.AuditEntries, c.Checkpoints, c.ConsentNotices, c.ConsentRecords, c.Registers)
	if m.Since != nil {
		reason += " since=" + m.Since.Format(time.RFC3339)
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActExport, Reason: reason})); err != nil {
		return nil, fmt.Errorf("proof.Export: audit: %w", err)
	}
	return m, nil
}

// exporter writes one archive.
type exporter struct {
	s   *Service
	ctx context.Context
	zw  *zip.Writer
	opt Options
	m   *Manifest
}

func (x *exporter) run(start, latest *audit.Checkpoint) error {
	if err := x.file(FileReadme, func(w io.Writer) error { _, err := io.WriteString(w, readme); return err }); err != nil {
		return err
	}
	if err := x.auditLog(start, latest); err != nil {
		return err
	}
	if err := x.consents(); err != nil {
		return err
	}
	if err := x.registers(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(x.m, "", "  ")
	if err != nil {
		return err
	}
	f, err := x.zw.CreateHeader(&zip.FileHeader{Name: FileManifest, Method: zip.Deflate, Modified: x.m.GeneratedAt})
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return err
	}
	return x.zw.Close()
}

// hashingWriter counts and hashes what goes into one file of the archive.
type hashingWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashingWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// file writes one file of the archive through fn and lists it in the manifest.
func (x *exporter) file(name string, fn func(w io.Writer) error) error {
	if err := x.ctx.Err(); err != nil {
		return err
	}
	f, err := x.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: x.m.GeneratedAt})
	if err != nil {
		return err
	}
	hw := &hashingWriter{w: f, h: sha256.New()}
	if err := fn(hw); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	x.m.Files = append(x.m.Files, File{Name: name, Size: hw.n, SHA256: hex.EncodeToString(hw.h.Sum(nil))})
	return nil
}

func (x *exporter) progress(stage string, n int64, final bool) {
	if x.opt.Progress != nil && (final || n%int64(x.opt.ProgressEvery) == 0) {
		x.opt.Progress(Progress{Stage: stage, Done: n, Final: final})
	}
}

// jsonLines writes values one per line.
type jsonLines struct{ enc *json.Encoder }

func newJSONLines(w io.Writer) jsonLines {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return jsonLines{enc}
}

func (j jsonLines) write(v any) error { return j.enc.Encode(v) }

func (x *exporter) auditLog(start, latest *audit.Checkpoint) error {
	pub, err := x509.MarshalPKIXPublicKey(x.s.PublicKey)
	if err != nil {
		return fmt.Errorf("audit public key: %w", err)
	}
	if err := x.file(FilePublicKey, func(w io.Writer) error {
		return pem.Encode(w, &pem.Block{Type: "PUBLIC KEY", Bytes: pub})
	}); err != nil {
		return err
	}
	var upTo int64
	if latest != nil {
		upTo = latest.Size
		x.m.Audit.Latest = &CheckpointRef{Size: latest.Size, Root: latest.Root, Time: latest.At}
		if err := x.file(FileLatest, func(w io.Writer) error { _, err := w.Write(audit.FormatCheckpoint(latest)); return err }); err != nil {
			return err
		}
	}
	// Every checkpoint up to the latest, whatever the start date: each one's signature can
	// be checked, and the later ones recomputed.
	err = x.file(FileCheckpoints, func(w io.Writer) error {
		out := newJSONLines(w)
		var after int64
		for after < upTo {
			page, err := x.s.Store.CheckpointsPage(x.ctx, after, upTo, checkpointsPage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			for i := range page {
				if err := out.write(checkpointLine(&page[i])); err != nil {
					return err
				}
				x.m.Counts.Checkpoints++
				x.progress(FileCheckpoints, x.m.Counts.Checkpoints, false)
			}
			after = page[len(page)-1].Size
		}
		x.progress(FileCheckpoints, x.m.Counts.Checkpoints, true)
		return nil
	})
	if err != nil {
		return err
	}
	var from int64
	if start != nil && latest != nil {
		from = start.Size
		var cr merkle.CompactRange
		if err := cr.UnmarshalBinary(start.Frontier); err != nil || int64(cr.Size()) != start.Size {
			return fmt.Errorf("frontier of checkpoint %d: %v", start.Size, err)
		}
		sl := StartLine{Size: start.Size, Root: start.Root, Frontier: frontierHashes(start.Frontier)}
		x.m.Audit.Start = &CheckpointRef{Size: start.Size, Root: start.Root, Time: start.At}
		if err := x.file(FileStart, func(w io.Writer) error { return newJSONLines(w).write(sl) }); err != nil {
			return err
		}
	}
	x.m.Audit.FirstLeaf = from
	return x.file(FileEntries, func(w io.Writer) error {
		out := newJSONLines(w)
		next := from
		for next < upTo {
			page, err := x.s.Store.LeavesPage(x.ctx, next, upTo, entriesPage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				return fmt.Errorf("leaves %d..%d are missing from the log: run 'fidelis audit verify'", next, upTo-1)
			}
			for i := range page {
				e := &page[i]
				if e.LeafIndex == nil || *e.LeafIndex != next {
					return fmt.Errorf("leaf %d is missing from the log: run 'fidelis audit verify'", next)
				}
				if err := out.write(entryLine(e)); err != nil {
					return err
				}
				next++
				x.m.Counts.AuditEntries++
				x.progress(FileEntries, x.m.Counts.AuditEntries, false)
			}
		}
		x.progress(FileEntries, x.m.Counts.AuditEntries, true)
		return nil
	})
}

// frontierHashes splits a stored compact range (see merkle.CompactRange.MarshalBinary)
// into its hashes; the caller has checked it decodes.
func frontierHashes(b []byte) []merkle.Hash {
	const header = 1 + 8
	out := []merkle.Hash{}
	for i := header; i+merkle.HashSize <= len(b); i += merkle.HashSize {
		out = append(out, merkle.Hash(b[i:i+merkle.HashSize]))
	}
	return out
}

// NoticeLine is one line of consent/notices.jsonl.
type NoticeLine = consent.Notice

// RecordLine is one line of consent/records.jsonl.
type RecordLine = consent.Record

var noticeHeader = []string{"purpose", "version", "hash", "published_at", "published_by", "text_fr", "text_en"}

var recordHeader = []string{"id", "customer_id", "purpose", "channel", "decision", "notice_version", "notice_hash", "method",
	"parental", "minor", "reference", "collected_at", "recorded_at", "recorded_by"}

func noticeRow(n *consent.Notice) []string {
	return []string{string(n.Purpose), strconv.Itoa(n.Version), n.Hash, n.PublishedAt.UTC().Format(time.RFC3339Nano), n.PublishedBy, n.Text.FR, n.Text.EN}
}

func recordRow(r *consent.Record) []string {
	version := ""
	if r.NoticeVersion > 0 {
		version = strconv.Itoa(r.NoticeVersion)
	}
	return []string{r.ID, string(r.CustomerID), string(r.Purpose), string(r.Channel), string(r.Decision), version, r.NoticeHash,
		string(r.Method), strconv.FormatBool(r.Parental), strconv.FormatBool(r.Minor), r.Reference,
		r.CollectedAt.UTC().Format(time.RFC3339Nano), r.RecordedAt.UTC().Format(time.RFC3339Nano), r.RecordedBy}
}

// safeCells guards a CSV row against spreadsheet formulas (a cell starting with = + - @ or a
// control character is prefixed with an apostrophe); the JSON lines keep the exact values.
func safeCells(row []string) []string {
	for i, c := range row {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			row[i] = "'" + c
		}
	}
	return row
}

func (x *exporter) consents() error {
	notices, err := x.s.Store.ConsentNotices(x.ctx)
	if err != nil {
		return err
	}
	if err := x.file(FileNoticesJSON, func(w io.Writer) error {
		out := newJSONLines(w)
		for _, n := range notices {
			if err := out.write(n); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return err
	}
	if err := x.file(FileNoticesCSV, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		cw.Write(noticeHeader)
		for _, n := range notices {
			cw.Write(safeCells(noticeRow(n)))
		}
		cw.Flush()
		return cw.Error()
	}); err != nil {
		return err
	}
	x.m.Counts.ConsentNotices = int64(len(notices))

	// The ledger is read once, page by page: the JSON lines go into the archive as they
	// come, the CSV rows into a temporary file copied in afterwards (a zip archive is
	// written one file at a time), so that both list exactly the same records.
	tmp, err := os.CreateTemp("", "fidelis-proof-*.csv")
	if err != nil {
		return err
	}
	defer func() { tmp.Close(); os.Remove(tmp.Name()) }()
	cw := csv.NewWriter(tmp)
	cw.Write(recordHeader)
	err = x.file(FileRecordsJSON, func(w io.Writer) error {
		out := newJSONLines(w)
		after := ""
		for {
			page, err := x.s.Store.ConsentRecordsPage(x.ctx, after, x.opt.Since, recordsPage)
			if err != nil {
				return err
			}
			for _, r := range page {
				if err := out.write(r); err != nil {
					return err
				}
				cw.Write(safeCells(recordRow(r)))
				x.m.Counts.ConsentRecords++
				x.progress(FileRecordsJSON, x.m.Counts.ConsentRecords, false)
			}
			if len(page) < recordsPage {
				break
			}
			after = page[len(page)-1].ID
		}
		x.progress(FileRecordsJSON, x.m.Counts.ConsentRecords, true)
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("%s: %w", FileRecordsCSV, err)
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return x.file(FileRecordsCSV, func(w io.Writer) error { _, err := io.Copy(w, tmp); return err })
}

// registerLangs and registerFormats are the renderings of the register in a proof file.
var (
	registerLangs   = []string{register.LangFR, register.LangEN}
	registerFormats = []string{register.OutJSON, register.OutMarkdown, register.OutHTML}
)

func (x *exporter) registers() error {
	for _, lang := range registerLangs {
		doc, err := x.s.Register.Register(x.ctx, lang)
		if err != nil {
			return err
		}
		for _, format := range registerFormats {
			b, err := register.Render(doc, format)
			if err != nil {
				return err
			}
			if err := x.file(registerFile(lang, format), func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
				return err
			}
			x.m.Counts.Registers++
		}
	}
	return nil
}
