package main_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
)

var binary string

// TestMain builds the real binary once; the tests drive it as an operator would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fidelis-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "fidelis")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build fidelis:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "FIDELIS_LOG_LEVEL=warn")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

func TestDemo_LoadsTenThousandAndVerifies(t *testing.T) {
	dir := t.TempDir()
	r := run(t, "--data", dir, "demo", "--load-only", "--customers", "10000")
	if r.code != 0 || !strings.Contains(r.stderr, "Loaded 10000 demo customers") || !strings.Contains(r.stderr, "password:") {
		t.Fatalf("demo = exit %d, stderr %q; want exit 0, progress, admin password", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "Back it up NOW") {
		t.Fatalf("first start did not warn to back up the key file: %q", r.stderr)
	}
	if st, err := os.Stat(filepath.Join(dir, "fidelis.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	v := run(t, "--data", dir, "audit", "verify")
	if v.code != 0 || !strings.Contains(v.stdout, "audit log OK") || !strings.Contains(v.stdout, "pending 0") {
		t.Fatalf("audit verify = exit %d, %q %q; want OK with nothing pending", v.code, v.stdout, v.stderr)
	}
	again := run(t, "--data", dir, "demo", "--load-only")
	if again.code != 0 || !strings.Contains(again.stderr, "already holds 10000 customers") || strings.Contains(again.stderr, "password:") {
		t.Fatalf("second demo = exit %d, %q; want data kept and no new admin password", again.code, again.stderr)
	}
}

// TestAuditVerify_CLIExitsNamingFirstBadEntry_P4 tampers with the SQLite file behind the
// binary's back and expects exit status 3 naming the entry.
func TestAuditVerify_CLIExitsNamingFirstBadEntry_P4(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, "--data", dir, "demo", "--load-only", "--customers", "50"); r.code != 0 {
		t.Fatalf("demo: %d %s", r.code, r.stderr)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "fidelis.db"))
	if err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := db.QueryRow("SELECT id FROM audit_entries WHERE leaf_index = 20").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("UPDATE audit_entries SET action = 'customer.read' WHERE id = ?", id); err != nil {
		t.Fatal(err)
	}
	db.Close()
	r := run(t, "--data", dir, "audit", "verify")
	want := fmt.Sprintf("first bad entry: entry %d (leaf 20)", id)
	if r.code != 3 || !strings.Contains(r.stderr, want) {
		t.Fatalf("audit verify = exit %d, stderr %q; want exit 3 and %q", r.code, r.stderr, want)
	}
}

func TestCLI_BadInputIsAClearError(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"token", "create", "--role", "emperor"}, 2, "role: is not a known role"},
		{[]string{"token", "create"}, 1, `required flag(s) "role" not set`},
		{[]string{"demo", "--customers", "0", "--load-only"}, 2, "customers: must be from 1 to 1000000"},
		{[]string{"--log-level", "loud", "migrate"}, 2, "log-level"},
		{[]string{"user", "create", "--username", "bob", "--role", "support"}, 2, "password-file"},
	} {
		r := run(t, append([]string{"--data", dir}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("fidelis %v = exit %d, %q; want exit %d containing %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}

// TestKeysRotate_WhileServing_D3 rotates the key-encryption key while a server runs
// against the same data: every data key is rewrapped, the server keeps reading old and
// new customers, and a clean stop follows SIGTERM.
func TestKeysRotate_WhileServing_D3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		dir := t.TempDir()
		args := []string{"--data", dir}
		if b.URL != "" {
			args = append(args, "--db", fidelistest.MustPostgresSchema(t, b.URL))
		}
		if r := run(t, append(args, "demo", "--load-only", "--customers", "1200")...); r.code != 0 {
			t.Fatalf("demo: %d %s", r.code, r.stderr)
		}
		token := strings.TrimSpace(run(t, append(args, "token", "create", "--role", "admin")...).stdout)

		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		srv := exec.CommandContext(ctx, binary, append(args, "serve", "--addr", "127.0.0.1:0")...)
		stderr, _ := srv.StderrPipe()
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		base := waitListening(t, stderr)
		c := fidelistest.NewClient(t, base, token)
		before := c.Do("GET", "/api/v1/customers?limit=3", fidelis.PurposeCustomerService, nil).MustStatus(t, 200).Body

		r := run(t, append(args, "keys", "rotate")...)
		if r.code != 0 || !strings.Contains(r.stderr, "Rewrapped 1200 data keys") {
			t.Fatalf("keys rotate = exit %d, %q; want 1200 rewrapped", r.code, r.stderr)
		}
		after := c.Do("GET", "/api/v1/customers?limit=3", fidelis.PurposeCustomerService, nil).MustStatus(t, 200).Body
		if !bytes.Equal(stripTimes(before), stripTimes(after)) {
			t.Fatal("customers read differently after key rotation")
		}
		created := c.Do("POST", "/api/v1/customers", fidelis.PurposeCustomerService, map[string]string{"family_name": "Après-Rotation"}).MustStatus(t, 201).JSON(t)
		c.Do("GET", "/api/v1/customers/"+created["id"].(string), fidelis.PurposeCustomerService, nil).MustStatus(t, 200)

		resp, err := http.Get(base + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz = %v, %v", resp, err)
		}
		resp.Body.Close()
		if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := srv.Wait(); err != nil {
			t.Fatalf("serve did not stop cleanly on SIGTERM: %v", err)
		}
		v := run(t, append(args, "audit", "verify")...)
		if v.code != 0 || !strings.Contains(v.stdout, "pending 0") {
			t.Fatalf("audit verify after shutdown = %d %q; want OK with nothing pending", v.code, v.stdout)
		}
	})
}

var timesRE = regexp.MustCompile(`"(created_at|updated_at)":"[^"]*"`)

func stripTimes(b []byte) []byte { return timesRE.ReplaceAll(b, nil) }

func waitListening(t *testing.T, r io.Reader) string {
	t.Helper()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)/`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case u := <-found:
		return u
	case <-time.After(30 * time.Second):
		t.Fatal("server did not start listening within 30s")
	}
	return ""
}

// TestAuditVerify_AgainstArchivedCheckpoint_P4 removes the end of the log together with
// its newest checkpoint: the shortened log verifies on its own (nothing in the database can
// tell), and fails against the checkpoint archived before.
func TestAuditVerify_AgainstArchivedCheckpoint_P4(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, "--data", dir, "demo", "--load-only", "--customers", "20"); r.code != 0 {
		t.Fatalf("demo: %d %s", r.code, r.stderr)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "fidelis.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var before int64
	if err := db.QueryRow("SELECT MAX(tree_size) FROM audit_checkpoints").Scan(&before); err != nil {
		t.Fatal(err)
	}
	run(t, "--data", dir, "token", "create", "--role", "auditor") // one more audit entry
	seal := run(t, "--data", dir, "audit", "seal")
	archived := filepath.Join(dir, "archived-checkpoint.txt")
	if err := os.WriteFile(archived, []byte(seal.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := run(t, "--data", dir, "audit", "verify", "--against", archived); v.code != 0 {
		t.Fatalf("verify against a fresh checkpoint = %d %q", v.code, v.stdout)
	}
	for _, q := range []string{
		fmt.Sprintf("DELETE FROM audit_entries WHERE leaf_index >= %d", before),
		fmt.Sprintf("DELETE FROM audit_checkpoints WHERE tree_size > %d", before),
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if v := run(t, "--data", dir, "audit", "verify"); v.code != 0 {
		t.Fatalf("verify of the truncated log alone = %d; the truncation was expected to be invisible without an archive", v.code)
	}
	v := run(t, "--data", dir, "audit", "verify", "--against", archived)
	if v.code != 3 || !strings.Contains(v.stderr, "its end was removed") {
		t.Fatalf("verify --against after truncation = exit %d, %q; want 3 and the end removed", v.code, v.stderr)
	}
	forged := strings.Replace(seal.stdout, "\n"+fmt.Sprint(before+1)+"\n", "\n"+fmt.Sprint(before)+"\n", 1)
	if err := os.WriteFile(archived, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if v := run(t, "--data", dir, "audit", "verify", "--against", archived); v.code != 2 || !strings.Contains(v.stderr, "does not verify") {
		t.Fatalf("verify against a forged checkpoint = exit %d, %q; want 2, signature refused", v.code, v.stderr)
	}
}
