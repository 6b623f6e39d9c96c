package main_test

import (
	"context"
	"database/sql"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/retention"
)

type pastClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *pastClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func (c *pastClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// seedRetention stores, in data directory dir, customers whose data dates back years:
// a customer who bought 4 years ago (to archive), one who bought 6 years ago (to erase),
// one like it on legal hold, and a prospect whose renewal request cannot be sent (no mail
// server). It returns their IDs in that order.
func seedRetention(t *testing.T, dir string) []fidelis.CustomerID {
	t.Helper()
	now := time.Now().UTC()
	clk := &pastClock{t: now.AddDate(-6, 0, -2)}
	a, err := app.Open(context.Background(), app.Config{DataDir: dir, Now: clk.Now, Stderr: io.Discard, RetentionInterval: -1,
		Argon2: auth.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := app.SystemContext(context.Background(), "seed", fidelis.RoleAdmin)
	var ids []fidelis.CustomerID
	for i, ago := range []int{4, 6, 6, 6} {
		clk.Set(now.AddDate(-ago, 0, -1))
		c, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, customer.Input{Set: map[fidelis.Field]fidelis.Secret{
			fidelis.FieldGivenName: fidelis.NewSecret("Client"), fidelis.FieldEmail: fidelis.NewSecret("client" + string(rune('a'+i)) + "@example.fr")}})
		if err != nil {
			t.Fatal(err)
		}
		if i < 3 {
			if _, err := a.Retention.RecordActivity(ctx, fidelis.PurposeCustomerService, c.ID, retention.KindPurchase, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, c.ID)
	}
	if _, err := a.Retention.PlaceHold(ctx, fidelis.PurposeDataProtection, ids[2], retention.HoldInput{Case: "TJ-2026-9", Reason: "Refund dispute before the court"}); err != nil {
		t.Fatal(err)
	}
	return ids
}

func countCustomers(t *testing.T, dir string) (customers, archived int) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dir+"/fidelis.db?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT COUNT(*) FROM customers`).Scan(&customers); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM subject_states WHERE state LIKE '%"archived"%'`).Scan(&archived); err != nil {
		t.Fatal(err)
	}
	return customers, archived
}

// TestCLI_RetentionRun_T7_T8: the dry run reports what is due and changes nothing; the run
// archives and erases, with counts and one line per customer naming the rule, the dates
// and the reason, IDs only; a held customer is left alone until the hold is lifted.
func TestCLI_RetentionRun_T7_T8(t *testing.T) {
	dir := t.TempDir()
	ids := seedRetention(t, dir)
	archive, erase, held, prospect := ids[0], ids[1], ids[2], ids[3]

	r := run(t, "--data", dir, "retention", "rules")
	if r.code != 0 || !strings.Contains(r.stdout, "T-1") || !strings.Contains(r.stdout, "T-6") || !regexp.MustCompile(`T-5\s+Accounting records\s+120`).MatchString(r.stdout) {
		t.Fatalf("retention rules = exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	dry := run(t, "--data", dir, "retention", "run", "--dry-run")
	if dry.code != 0 || !strings.Contains(dry.stdout, "dry run (nothing changed)") {
		t.Fatalf("dry run = exit %d\n%s%s", dry.code, dry.stdout, dry.stderr)
	}
	want := map[fidelis.CustomerID]string{archive: `archive\s+T-2\s+` + string(archive) + `\s+customer\s+\d{4}-\d\d-\d\d`, erase: `erase\s+T-2\s+` + string(erase) + `.*evidence_period_over`,
		held: `held\s+T-2\s+` + string(held) + `.*legal_hold \(TJ-2026-9\)`, prospect: `blocked\s+T-1\s+` + string(prospect) + `.*no_mail_server`}
	for id, re := range want {
		if !regexp.MustCompile(re).MatchString(dry.stdout) {
			t.Errorf("dry run has no line for %s matching %q:\n%s", id, re, dry.stdout)
		}
	}
	if !strings.Contains(dry.stdout, "notify=0 wait=0 archive=1 erase=1 held=1 blocked=1 failed=0") {
		t.Errorf("dry run counts:\n%s", dry.stdout)
	}
	if strings.Contains(dry.stdout, "@example.fr") || strings.Contains(dry.stdout, "Client") {
		t.Error("the report shows personal data")
	}
	if n, arch := countCustomers(t, dir); n != 4 || arch != 0 {
		t.Fatalf("after the dry run: %d customers, %d archived; want 4 and 0 (nothing changed)", n, arch)
	}

	res := run(t, "--data", dir, "retention", "run")
	if res.code != 0 || !strings.Contains(res.stdout, "archive=1 erase=1 held=1 blocked=1") {
		t.Fatalf("run = exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if n, arch := countCustomers(t, dir); n != 3 || arch != 1 {
		t.Fatalf("after the run: %d customers, %d archived; want 3 and 1", n, arch)
	}
	again := run(t, "--data", dir, "retention", "run")
	if again.code != 0 || !strings.Contains(again.stdout, "archive=0 erase=0 held=1 blocked=1") || !strings.Contains(again.stdout, "archived=1") {
		t.Errorf("second run:\n%s", again.stdout)
	}

	list := run(t, "--data", dir, "retention", "hold", "list")
	m := regexp.MustCompile(`(hld_[0-9a-z]{26})\s+` + string(held) + `\s+TJ-2026-9`).FindStringSubmatch(list.stdout)
	if list.code != 0 || m == nil || !strings.Contains(list.stdout, "1 legal hold(s)") {
		t.Fatalf("hold list = exit %d\n%s%s", list.code, list.stdout, list.stderr)
	}
	if r := run(t, "--data", dir, "retention", "hold", "lift", "--customer", string(held), "--hold", m[1], "--reason", "x"); r.code != 2 || !strings.Contains(r.stderr, "reason") {
		t.Errorf("lift with a short reason = exit %d %q; want 2 naming the reason", r.code, r.stderr)
	}
	if r := run(t, "--data", dir, "retention", "hold", "lift", "--customer", string(held), "--hold", m[1], "--reason", "Judgment is final"); r.code != 0 {
		t.Fatalf("hold lift = exit %d %s", r.code, r.stderr)
	}
	after := run(t, "--data", dir, "retention", "run")
	if !regexp.MustCompile(`erase\s+T-2\s+` + string(held)).MatchString(after.stdout) {
		t.Errorf("after the lift, the customer is not erased:\n%s", after.stdout)
	}
	if r := run(t, "--data", dir, "retention", "hold", "place", "--customer", string(archive), "--case", "C-1", "--reason", "Claim by the customer's insurer"); r.code != 0 || !strings.Contains(r.stdout, "placed on "+string(archive)) {
		t.Errorf("hold place = exit %d %s%s", r.code, r.stdout, r.stderr)
	}
	if r := runEnv(t, []string{"FIDELIS_RETENTION_GRACE_DAYS=0"}, "--data", dir, "retention", "rules"); r.code != 2 || !strings.Contains(r.stderr, "FIDELIS_RETENTION_GRACE_DAYS") {
		t.Errorf("bad grace setting: exit %d %q; want 2 naming the variable", r.code, r.stderr)
	}
}
