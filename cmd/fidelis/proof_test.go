package main_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/proof"
)

// rewriteZip copies the zip at src to dst with fn applied to each file's content, then the
// manifest's hashes recomputed, as a careful forger would.
func rewriteZip(t *testing.T, src, dst string, fn func(name string, b []byte) []byte) {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	var names []string
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		names = append(names, f.Name)
		files[f.Name] = fn(f.Name, b.Bytes())
	}
	var m proof.Manifest
	if err := json.Unmarshal(files[proof.FileManifest], &m); err != nil {
		t.Fatal(err)
	}
	for i, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		m.Files[i].SHA256, m.Files[i].Size = hex.EncodeToString(sum[:]), int64(len(files[f.Name]))
	}
	files[proof.FileManifest], _ = json.Marshal(&m)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, n := range names {
		w, _ := zw.Create(n)
		w.Write(files[n])
	}
	zw.Close()
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestProofCommand_ExportVerifyAndTamper_P4 drives the real binary on both backends: the
// auditor exports proof (progress on stderr), "proof verify" passes offline (the data
// directory moved away) and with the key, fails with exit 3 naming the entry once an entry
// in the zip is altered; roles without the right and bad input are refused, writing no file.
func TestProofCommand_ExportVerifyAndTamper_P4(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		dir := t.TempDir()
		args := []string{"--data", dir}
		if b.URL != "" {
			args = append(args, "--db", fidelistest.MustPostgresSchema(t, b.URL))
		}
		if r := run(t, append(args, "demo", "--load-only", "--customers", "40")...); r.code != 0 {
			t.Fatalf("demo: %d %s", r.code, r.stderr)
		}
		out := filepath.Join(t.TempDir(), "proof.zip")
		r := run(t, append(args, "proof", "export", "--out", out)...)
		if r.code != 0 || !strings.Contains(r.stdout, "proof written to "+out) || !strings.Contains(r.stderr, proof.FileEntries+": ") || !strings.Contains(r.stderr, "done") {
			t.Fatalf("proof export = exit %d, stdout %q, stderr %q; want the file written and progress on stderr", r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stdout, "consent records: ") || !strings.Contains(r.stdout, "latest checkpoint: size ") {
			t.Errorf("proof export summary = %q; want counts and the latest checkpoint", r.stdout)
		}
		// Offline: no data directory, no database.
		offline := filepath.Join(t.TempDir(), "empty")
		keyPEM := filepath.Join(t.TempDir(), "audit.pem")
		zr, err := zip.OpenReader(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			if f.Name == proof.FilePublicKey {
				rc, _ := f.Open()
				var k bytes.Buffer
				k.ReadFrom(rc)
				rc.Close()
				os.WriteFile(keyPEM, k.Bytes(), 0o600)
			}
		}
		zr.Close()
		v := run(t, "--data", offline, "--db", "", "proof", "verify", out, "--key", keyPEM)
		if v.code != 0 || !strings.Contains(v.stdout, "proof OK") || !strings.Contains(v.stdout, "register documents: 6") {
			t.Fatalf("proof verify = exit %d, %q %q; want proof OK", v.code, v.stdout, v.stderr)
		}
		if _, err := os.Stat(offline); !os.IsNotExist(err) {
			t.Errorf("proof verify created %s (%v); it must not open an installation", offline, err)
		}

		// One entry altered in the zip (manifest recomputed): exit 3 naming it.
		var id int64
		bad := filepath.Join(t.TempDir(), "bad.zip")
		rewriteZip(t, out, bad, func(name string, b []byte) []byte {
			if name != proof.FileEntries {
				return b
			}
			lines := strings.Split(string(b), "\n")
			var e proof.EntryLine
			json.Unmarshal([]byte(lines[20]), &e)
			id = e.ID
			lines[20] = strings.Replace(lines[20], `"action":"`+e.Action+`"`, `"action":"customer.update"`, 1)
			return []byte(strings.Join(lines, "\n"))
		})
		v = run(t, "proof", "verify", bad)
		want := fmt.Sprintf("proof verification FAILED: audit: entry %d (leaf 20): changed", id)
		if v.code != 3 || !strings.Contains(v.stderr, want) || !strings.Contains(v.stdout, "PROBLEM: ") {
			t.Errorf("proof verify(altered) = exit %d, stderr %q; want exit 3 and %q", v.code, v.stderr, want)
		}

		// Refusals write nothing.
		for _, tc := range []struct {
			args []string
			code int
			want string
		}{
			{[]string{"proof", "export", "--out", out + ".sales", "--role", "sales"}, 5, "role sales may not export proof"},
			{[]string{"proof", "export", "--out", out + ".support", "--role", "support"}, 5, "needs verify_audit and read_register"},
			{[]string{"proof", "export", "--out", out + ".x", "--role", "emperor"}, 2, "role: is not a known role"},
			{[]string{"proof", "export", "--out", out + ".since", "--since", "yesterday"}, 2, "since: must be a date"},
			{[]string{"proof", "export"}, 2, "out: is required"},
		} {
			r := run(t, append(args, tc.args...)...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("fidelis %v = exit %d, %q; want exit %d containing %q", tc.args, r.code, r.stderr, tc.code, tc.want)
			}
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(out), "*"))
		if len(leftovers) != 1 {
			t.Errorf("files beside the export = %v; want only %s (no partial or refused export)", leftovers, out)
		}
		if r := run(t, append(args, "proof", "export", "--out", out+".dpo", "--role", "dpo", "--since", "2020-01-01")...); r.code != 0 {
			t.Errorf("proof export --role dpo --since 2020-01-01 = exit %d, %q", r.code, r.stderr)
		}
		if v := run(t, "proof", "verify", out+".dpo"); v.code != 0 || !strings.Contains(v.stdout, "since 20") {
			t.Errorf("proof verify(since) = exit %d, %q %q", v.code, v.stdout, v.stderr)
		}
		if v := run(t, "proof", "verify", filepath.Join(dir, "nope.zip")); v.code != 4 {
			t.Errorf("proof verify(missing file) = exit %d; want 4", v.code)
		}
	})
}
