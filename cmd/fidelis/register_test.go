package main_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
)

// TestRegisterCommand_PrintsRegisterAndNotice_D2_R5 drives "fidelis register" on both
// backends: Markdown register by default, the notice with --notice, every format and
// language, the controller from flags and FIDELIS_* variables, deterministic output.
func TestRegisterCommand_PrintsRegisterAndNotice_D2_R5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		args := []string{"--data", t.TempDir()}
		if b.URL != "" {
			args = append(args, "--db", fidelistest.MustPostgresSchema(t, b.URL))
		}
		r := run(t, append(args, "register")...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "# Registre des activités de traitement\n") || !strings.Contains(r.stdout, "*non configuré*") {
			t.Fatalf("fidelis register = exit %d, stderr %q; want the French Markdown register saying the controller is not configured\n%s", r.code, r.stderr, r.stdout)
		}
		for _, p := range privacy.DefaultPurposes() {
			if !strings.Contains(r.stdout, "`"+string(p.Name)+"`") || !strings.Contains(r.stdout, p.Retention.FR) {
				t.Errorf("register lacks purpose %s or its retention", p.Name)
			}
		}
		if again := run(t, append(args, "register")...); again.stdout != r.stdout {
			t.Error("two runs of fidelis register differ; the output must be deterministic")
		}

		t.Setenv("FIDELIS_CONTROLLER_NAME", "Cave Beaumont SARL")
		t.Setenv("FIDELIS_DPO_CONTACT", "dpo@beaumont.example")
		conf := append(args, "--controller-email", "rgpd@beaumont.example", "--controller-address", "2 quai Saint-Antoine, 69002 Lyon")
		n := run(t, append(conf, "register", "--notice", "--lang", "en", "--format", "html")...)
		for _, want := range []string{"<!doctype html>", "<h1>Privacy notice</h1>", "Cave Beaumont SARL", "rgpd@beaumont.example", "dpo@beaumont.example", "CNIL", "Right to erasure"} {
			if n.code != 0 || !strings.Contains(n.stdout, want) {
				t.Errorf("fidelis register --notice --lang en --format html = exit %d (%s); output lacks %q", n.code, n.stderr, want)
			}
		}
		j := run(t, append(conf, "register", "--format", "json", "--lang", "en")...)
		var reg register.Register
		if err := json.Unmarshal([]byte(j.stdout), &reg); err != nil || !reg.Verify() || reg.Lang != "en" || reg.Controller.Name != "Cave Beaumont SARL" || !reg.Controller.Configured {
			t.Errorf("fidelis register --format json = exit %d, %v: %+v; want a verified English register with the configured controller", j.code, err, reg.Controller)
		}
	})
}

func TestRegisterCommand_BadInput(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"register", "--format", "pdf"}, "format: must be json, md or html"},
		{[]string{"register", "--lang", "de", "--format", "odt"}, "lang: must be fr or en"},
		{[]string{"--controller-email", "not-an-address", "register"}, "controller-email"},
		{[]string{"--dpo-name", "Jeanne", "register"}, "dpo-contact: is required"},
	} {
		r := run(t, append([]string{"--data", dir}, tc.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("fidelis %v = exit %d, %q; want exit 2 containing %q and no output", tc.args, r.code, r.stderr, tc.want)
		}
	}
}
