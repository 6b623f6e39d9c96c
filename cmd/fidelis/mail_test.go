package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
)

// TestMailTest_SendsThroughConfiguredSMTP drives "fidelis mail test" against a real SMTP
// server: STARTTLS with a private CA (--smtp-ca-file), AUTH PLAIN with the password from
// FIDELIS_SMTP_PASSWORD_FILE, a message in the asked language.
func TestMailTest_SendsThroughConfiguredSMTP(t *testing.T) {
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, RequireTLS: true, Username: "crm", Password: "pa ss-wörd"})
	dir := t.TempDir()
	ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "smtp-password")
	if err := os.WriteFile(ca, srv.CAPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pw, []byte("pa ss-wörd\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FIDELIS_SMTP_PASSWORD_FILE", pw)
	t.Setenv("FIDELIS_SMTP_FROM", "Boutique Dupont <no-reply@dupont.example>")
	args := []string{"--data", dir, "--smtp-host", "127.0.0.1", "--smtp-port", strconv.Itoa(srv.Port), "--smtp-username", "crm", "--smtp-ca-file", ca}
	r := run(t, append(args, "mail", "test", "--to", "ops@dupont.example", "--lang", "en")...)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "<msg_") {
		t.Fatalf("fidelis mail test = exit %d, stdout %q, stderr %q; want a Message-ID", r.code, r.stdout, r.stderr)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].Auth != "crm" || msgs[0].To[0] != "ops@dupont.example" ||
		!strings.Contains(string(msgs[0].Data), "Subject: Fidelis test message") || !strings.Contains(string(msgs[0].Data), "Message-ID: "+strings.TrimSpace(r.stdout)) {
		t.Fatalf("server received %d messages: %+v", len(msgs), msgs)
	}
	if strings.Contains(r.stderr, "ops@dupont.example") || strings.Contains(r.stderr, "pa ss-wörd") {
		t.Errorf("the command's output shows the address or the password: %q", r.stderr)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"mail", "test", "--to", "ops@dupont.example"}, "smtp-host"},
		{[]string{"--smtp-host", "smtp.example.fr", "--smtp-port", "99999", "mail", "test", "--to", "a@b.fr"}, "smtp-port"},
		{[]string{"--smtp-host", "smtp.example.fr", "--smtp-tls", "none", "mail", "test", "--to", "a@b.fr"}, "smtp-tls"},
		{[]string{"--smtp-host", "smtp.example.fr", "--smtp-from", "nobody", "mail", "test", "--to", "a@b.fr"}, "smtp-from"},
	} {
		os.Unsetenv("FIDELIS_SMTP_PASSWORD_FILE")
		r := run(t, append([]string{"--data", dir}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("fidelis %v = exit %d, %q; want exit 2 naming %s", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
