package proof

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/audit/merkle"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/register"
)

// Report is the result of Verify. The file is intact when Problems is empty.
type Report struct {
	Manifest *Manifest
	KeyID    string
	// Audit is the recomputation of the audit log; nil if it could not start.
	Audit          *audit.Report
	ConsentNotices int64
	ConsentRecords int64
	Registers      int64
	Problems       []string
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxLine bounds one line of a JSON lines file: entries and records are far smaller.
const maxLine = 1 << 20

// Verify checks a proof file from its contents alone, without a database: every file
// against the manifest, the audit log through audit.Verify (every leaf, every Merkle root
// at a checkpoint, every checkpoint signature), the consent notices' hashes and the records'
// notice references, and the register's content hashes. With key set, the file's public key
// must be that key (obtained by the auditor separately). Problems are listed in that order;
// an error means the file cannot be read as a zip archive at all.
func Verify(ctx context.Context, ra io.ReaderAt, size int64, key ed25519.PublicKey) (*Report, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "not_a_proof_file", Message: "not a zip archive: " + err.Error()}
	}
	v := &verifier{ctx: ctx, r: &Report{}, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if _, dup := v.files[f.Name]; dup {
			v.problem("%s: appears twice in the archive", f.Name)
		}
		v.files[f.Name] = f
	}
	if !v.manifest() {
		return v.r, nil
	}
	pub := v.publicKey(key)
	if pub != nil {
		v.auditLog(pub)
	}
	v.consents()
	v.registers()
	return v.r, nil
}

type verifier struct {
	ctx   context.Context
	r     *Report
	files map[string]*zip.File
}

func (v *verifier) problem(format string, args ...any) {
	if len(v.r.Problems) < 100 {
		v.r.Problems = append(v.r.Problems, fmt.Sprintf(format, args...))
	}
}

func (v *verifier) read(name string) ([]byte, bool) {
	f, ok := v.files[name]
	if !ok {
		v.problem("%s: missing", name)
		return nil, false
	}
	rc, err := f.Open()
	if err != nil {
		v.problem("%s: %v", name, err)
		return nil, false
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		v.problem("%s: %v", name, err)
		return nil, false
	}
	return b, true
}

// manifest checks every file against the manifest; false when there is no usable manifest.
func (v *verifier) manifest() bool {
	b, ok := v.read(FileManifest)
	if !ok {
		return false
	}
	m := &Manifest{}
	if err := json.Unmarshal(b, m); err != nil {
		v.problem("%s: %v", FileManifest, err)
		return false
	}
	if m.Format != Format {
		v.problem("%s: format %q is not %q", FileManifest, m.Format, Format)
		return false
	}
	v.r.Manifest = m
	listed := map[string]bool{FileManifest: true}
	for _, f := range m.Files {
		listed[f.Name] = true
		zf, ok := v.files[f.Name]
		if !ok {
			v.problem("%s: listed in the manifest but missing", f.Name)
			continue
		}
		rc, err := zf.Open()
		if err != nil {
			v.problem("%s: %v", f.Name, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		switch {
		case err != nil:
			v.problem("%s: %v", f.Name, err)
		case hex.EncodeToString(h.Sum(nil)) != f.SHA256 || n != f.Size:
			v.problem("%s: SHA-256 or size does not match the manifest (changed after export)", f.Name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(v.files)) {
		if !listed[name] {
			v.problem("%s: not listed in the manifest (added after export)", name)
		}
	}
	return true
}

// publicKey reads the file's key, checks it against the manifest and against want.
func (v *verifier) publicKey(want ed25519.PublicKey) ed25519.PublicKey {
	b, ok := v.read(FilePublicKey)
	if !ok {
		return nil
	}
	pub, err := ParsePublicKey(b)
	if err != nil {
		v.problem("%s: %v", FilePublicKey, err)
		return nil
	}
	v.r.KeyID = merkle.KeyID(pub)
	if m := v.r.Manifest; m.Audit.KeyID != v.r.KeyID || m.Audit.PublicKey != base64.StdEncoding.EncodeToString(pub) {
		v.problem("%s: key %s is not the key of the manifest (%s)", FilePublicKey, v.r.KeyID, m.Audit.KeyID)
	}
	if want != nil && !want.Equal(pub) {
		v.problem("%s: the file's key %s is not the expected key %s", FilePublicKey, v.r.KeyID, merkle.KeyID(want))
		return nil
	}
	return pub
}

// ParsePublicKey reads an Ed25519 public key in PEM (PKIX), as the proof file holds it.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "PUBLIC KEY" {
		return nil, errors.New("not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return pub, nil
}

// zipLog is the audit log as a proof file holds it: audit.Verify reads it like the
// database.
type zipLog struct {
	v       *verifier
	entries *zip.File
	cps     []audit.Checkpoint
	start   *audit.Checkpoint
}

var _ audit.PartialStore = (*zipLog)(nil)

func (z *zipLog) Checkpoints(context.Context) ([]audit.Checkpoint, error) { return z.cps, nil }

func (z *zipLog) Start(context.Context) (*audit.Checkpoint, error) { return z.start, nil }

// lineError is a line of a JSON lines file that does not parse.
type lineError struct {
	file string
	line int
	err  error
}

func (e *lineError) Error() string { return fmt.Sprintf("%s line %d: %v", e.file, e.line, e.err) }

func (z *zipLog) ScanEntries(ctx context.Context, fn func(*audit.Entry) error) error {
	return eachLine(z.entries, func(n int, b []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := parseEntry(b)
		if err != nil {
			return &lineError{FileEntries, n, err}
		}
		return fn(e)
	})
}

func parseEntry(b []byte) (*audit.Entry, error) {
	var l EntryLine
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return nil, err
	}
	at, err := time.Parse(time.RFC3339Nano, l.At)
	if err != nil {
		return nil, fmt.Errorf("at: %w", err)
	}
	mac, err := base64.StdEncoding.DecodeString(l.MAC)
	if err != nil {
		return nil, fmt.Errorf("mac: %w", err)
	}
	leaf, err := hex.DecodeString(l.LeafHash)
	if err != nil {
		return nil, fmt.Errorf("leaf_hash: %w", err)
	}
	e := &audit.Entry{ID: l.ID, UID: l.UID, At: at, Actor: l.Actor, Action: l.Action, Subject: l.Subject, Purpose: fidelis.Purpose(l.Purpose),
		Outcome: audit.Outcome(l.Outcome), Reason: l.Reason, RequestID: l.RequestID, MAC: mac, LeafIndex: l.LeafIndex, LeafHash: leaf}
	for _, f := range l.Fields {
		e.Fields = append(e.Fields, fidelis.Field(f))
	}
	return e, nil
}

// eachLine calls fn with every line of f, numbered from 1.
func eachLine(f *zip.File, fn func(n int, line []byte) error) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	sc := bufio.NewScanner(rc)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if err := fn(n, sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s line %d: %w", f.Name, n+1, err)
	}
	return nil
}

func (v *verifier) checkpoints() ([]audit.Checkpoint, bool) {
	f, ok := v.files[FileCheckpoints]
	if !ok {
		v.problem("%s: missing", FileCheckpoints)
		return nil, false
	}
	var cps []audit.Checkpoint
	err := eachLine(f, func(n int, b []byte) error {
		var l CheckpointLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return &lineError{FileCheckpoints, n, err}
		}
		at, err := time.Parse(checkpointTime, l.Time)
		if err != nil {
			return &lineError{FileCheckpoints, n, fmt.Errorf("time: %w", err)}
		}
		sig, err := base64.StdEncoding.DecodeString(l.Signature)
		if err != nil {
			return &lineError{FileCheckpoints, n, fmt.Errorf("signature: %w", err)}
		}
		cps = append(cps, audit.Checkpoint{Size: l.Size, Root: l.Root, At: at, KeyID: l.KeyID, Signature: sig})
		return nil
	})
	if err != nil {
		v.problem("%v", err)
		return nil, false
	}
	return cps, true
}

func (v *verifier) start() (*audit.Checkpoint, bool) {
	if _, ok := v.files[FileStart]; !ok {
		if v.r.Manifest.Audit.Start != nil {
			v.problem("%s: missing, but the manifest names a start checkpoint", FileStart)
			return nil, false
		}
		return nil, true
	}
	b, _ := v.read(FileStart)
	var sl StartLine
	if err := json.Unmarshal(b, &sl); err != nil {
		v.problem("%s: %v", FileStart, err)
		return nil, false
	}
	// The compact range encoding of merkle.CompactRange: version 1, size, hashes.
	fr := make([]byte, 9, 9+len(sl.Frontier)*merkle.HashSize)
	fr[0] = 1
	binary.BigEndian.PutUint64(fr[1:], uint64(sl.Size))
	for _, h := range sl.Frontier {
		fr = append(fr, h[:]...)
	}
	return &audit.Checkpoint{Size: sl.Size, Root: sl.Root, Frontier: fr}, true
}

func (v *verifier) auditLog(pub ed25519.PublicKey) {
	m := v.r.Manifest
	cps, ok := v.checkpoints()
	if !ok {
		return
	}
	start, ok := v.start()
	if !ok {
		return
	}
	entries, ok := v.files[FileEntries]
	if !ok {
		v.problem("%s: missing", FileEntries)
		return
	}
	rep, err := audit.Verify(v.ctx, &zipLog{v: v, entries: entries, cps: cps, start: start}, nil, pub)
	if err != nil {
		v.problem("%v", err)
		return
	}
	v.r.Audit = rep
	for _, p := range rep.Problems {
		v.problem("audit: %s", p)
	}
	if rep.Entries != m.Counts.AuditEntries || int64(rep.Checkpoints) != m.Counts.Checkpoints {
		v.problem("%s: counts %d entries and %d checkpoints; the file holds %d and %d", FileManifest, m.Counts.AuditEntries, m.Counts.Checkpoints, rep.Entries, rep.Checkpoints)
	}
	var last *audit.Checkpoint
	if len(cps) > 0 {
		last = &cps[len(cps)-1]
	}
	switch l := m.Audit.Latest; {
	case l == nil && last != nil, l != nil && last == nil:
		v.problem("%s: the latest checkpoint does not match %s", FileManifest, FileCheckpoints)
	case l != nil && (l.Size != last.Size || l.Root != last.Root):
		v.problem("%s: latest checkpoint size %d root %s; %s ends at size %d root %s", FileManifest, l.Size, l.Root, FileCheckpoints, last.Size, last.Root)
	}
	if f, ok := v.files[FileLatest]; ok && last != nil {
		b, _ := v.read(f.Name)
		cp, err := audit.ParseSignedCheckpoint(b, pub)
		if err != nil || cp.Size != uint64(last.Size) || cp.Root != last.Root {
			v.problem("%s: not the latest signed checkpoint (%v)", FileLatest, err)
		}
	}
}

func (v *verifier) consents() {
	m := v.r.Manifest
	notices := map[string]string{} // purpose/version -> hash
	if f, ok := v.files[FileNoticesJSON]; ok {
		err := eachLine(f, func(n int, b []byte) error {
			var nl NoticeLine
			if err := json.Unmarshal(b, &nl); err != nil {
				return &lineError{f.Name, n, err}
			}
			if consent.NoticeHash(nl.Purpose, nl.Version, nl.Text) != nl.Hash {
				v.problem("%s line %d: notice %s version %d does not hash to %s (text changed)", f.Name, n, nl.Purpose, nl.Version, nl.Hash)
			}
			notices[fmt.Sprintf("%s/%d", nl.Purpose, nl.Version)] = nl.Hash
			v.r.ConsentNotices++
			return nil
		})
		if err != nil {
			v.problem("%v", err)
		}
	} else {
		v.problem("%s: missing", FileNoticesJSON)
	}
	if v.r.ConsentNotices != m.Counts.ConsentNotices {
		v.problem("%s: counts %d consent notices; the file holds %d", FileManifest, m.Counts.ConsentNotices, v.r.ConsentNotices)
	}
	v.csvRows(FileNoticesCSV, noticeHeader, m.Counts.ConsentNotices, nil)

	var ids []string // in file order, to compare with the CSV; IDs are short
	if f, ok := v.files[FileRecordsJSON]; ok {
		err := eachLine(f, func(n int, b []byte) error {
			var r RecordLine
			if err := json.Unmarshal(b, &r); err != nil {
				return &lineError{f.Name, n, err}
			}
			if r.NoticeVersion > 0 {
				if h, ok := notices[fmt.Sprintf("%s/%d", r.Purpose, r.NoticeVersion)]; !ok || h != r.NoticeHash {
					v.problem("%s line %d: record %s cites notice %s version %d with hash %q, which %s does not hold", f.Name, n, r.ID, r.Purpose, r.NoticeVersion, r.NoticeHash, FileNoticesJSON)
				}
			}
			ids = append(ids, r.ID)
			v.r.ConsentRecords++
			return nil
		})
		if err != nil {
			v.problem("%v", err)
		}
	} else {
		v.problem("%s: missing", FileRecordsJSON)
	}
	if v.r.ConsentRecords != m.Counts.ConsentRecords {
		v.problem("%s: counts %d consent records; the file holds %d", FileManifest, m.Counts.ConsentRecords, v.r.ConsentRecords)
	}
	v.csvRows(FileRecordsCSV, recordHeader, m.Counts.ConsentRecords, ids)
}

// csvRows checks a CSV file: its header, its number of rows and, when ids is set, that its
// first column lists them in order (the same records as the JSON lines).
func (v *verifier) csvRows(name string, header []string, want int64, ids []string) {
	f, ok := v.files[name]
	if !ok {
		v.problem("%s: missing", name)
		return
	}
	rc, err := f.Open()
	if err != nil {
		v.problem("%s: %v", name, err)
		return
	}
	defer rc.Close()
	cr := csv.NewReader(rc)
	cr.FieldsPerRecord = len(header)
	head, err := cr.Read()
	if err != nil || !slices.Equal(head, header) {
		v.problem("%s: header is not %s", name, strings.Join(header, ","))
		return
	}
	var n int64
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			v.problem("%s: %v", name, err)
			return
		}
		if ids != nil && (n >= int64(len(ids)) || row[0] != ids[n]) {
			v.problem("%s row %d: record %s is not the one of the JSON lines", name, n+1, row[0])
			return
		}
		n++
	}
	if n != want {
		v.problem("%s: %d rows; the manifest counts %d", name, n, want)
	}
}

func (v *verifier) registers() {
	for _, lang := range registerLangs {
		b, ok := v.read(registerFile(lang, register.OutJSON))
		if !ok {
			continue
		}
		var doc register.Register
		if err := json.Unmarshal(b, &doc); err != nil {
			v.problem("%s: %v", registerFile(lang, register.OutJSON), err)
			continue
		}
		if !doc.Verify() || doc.Lang != lang {
			v.problem("%s: content does not match its content hash %s (changed)", registerFile(lang, register.OutJSON), doc.ContentHash)
		}
		v.r.Registers++
		for _, format := range registerFormats[1:] {
			name := registerFile(lang, format)
			if b, ok := v.read(name); ok {
				if !bytes.Contains(b, []byte(strings.TrimPrefix(doc.ContentHash, "sha256:"))) {
					v.problem("%s: does not carry the content hash of %s", name, registerFile(lang, register.OutJSON))
				}
				v.r.Registers++
			}
		}
	}
	if v.r.Registers != v.r.Manifest.Counts.Registers {
		v.problem("%s: counts %d register documents; the file holds %d", FileManifest, v.r.Manifest.Counts.Registers, v.r.Registers)
	}
}
