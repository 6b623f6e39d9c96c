package main_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// runEnv runs the binary with extra environment variables.
func runEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(append(os.Environ(), "FIDELIS_LOG_LEVEL=warn"), env...)
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

func TestCLI_RightsDeadlinesAndSuppressionPurge_R1_R15(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, "--data", dir, "rights", "deadlines"); r.code != 0 || !strings.Contains(r.stdout, "0 open request(s)") {
		t.Errorf("rights deadlines = exit %d, %q %q; want 0 open requests", r.code, r.stdout, r.stderr)
	}
	if r := run(t, "--data", dir, "suppression", "purge"); r.code != 0 || !strings.Contains(r.stdout, "expired suppression entries deleted: 0") {
		t.Errorf("suppression purge = exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	for _, env := range []string{"FIDELIS_BACKUP_RETENTION_DAYS=abc", "FIDELIS_SUPPRESSION_DAYS=0", "FIDELIS_RIGHTS_DUE_SOON_DAYS=99"} {
		name, _, _ := strings.Cut(env, "=")
		if r := runEnv(t, []string{env}, "--data", dir, "rights", "deadlines"); r.code != 2 || !strings.Contains(r.stderr, name) {
			t.Errorf("%s: exit %d, %q; want exit 2 naming the variable", env, r.code, r.stderr)
		}
	}
	if r := runEnv(t, []string{"FIDELIS_BACKUP_RETENTION_DAYS=30", "FIDELIS_SUPPRESSION_DAYS=1095", "FIDELIS_RIGHTS_DUE_SOON_DAYS=10"}, "--data", dir, "rights", "deadlines"); r.code != 0 {
		t.Errorf("valid settings: exit %d, %q", r.code, r.stderr)
	}
}

// TestDemo_RightsQueueShowsEachDeadlineState_R1: the demo data set holds rights requests in
// each deadline state, listed by the CLI most urgent first.
func TestDemo_RightsQueueShowsEachDeadlineState_R1(t *testing.T) {
	dir := t.TempDir()
	if r := run(t, "--data", dir, "demo", "--load-only", "--customers", "20"); r.code != 0 {
		t.Fatalf("demo: %d %s", r.code, r.stderr)
	}
	r := run(t, "--data", dir, "rights", "deadlines")
	if r.code != 0 || !strings.Contains(r.stdout, "5 open request(s)") {
		t.Fatalf("rights deadlines = exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.Contains(lines[0], "overdue") || !strings.Contains(lines[0], "access") {
		t.Errorf("first line %q; want the overdue access request", lines[0])
	}
	for _, w := range []string{"due_soon", "extended", " ok "} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("deadlines output lacks %q:\n%s", w, r.stdout)
		}
	}
}
