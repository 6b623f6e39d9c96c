package bench_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// earnMembers is the number of members the earn benchmarks spread their orders over.
const earnMembers = 256

// earnParallelism × GOMAXPROCS is the number of concurrent clients (32 on 2 cores), for
// the API and for pgbench alike.
const earnParallelism = 16

func earnClients() int { return earnParallelism * runtime.GOMAXPROCS(0) }

// earnFixture is an installation with a programme (terms, a base rule and a category
// multiplier) and members, served over HTTP, with a bare pool on the same database.
type earnFixture struct {
	a       *app.App
	base    string
	token   string
	raw     *sql.DB
	prog    string
	members []fidelis.CustomerID
	http    *http.Client
	pg      bool
	stmts   []*sql.Stmt // bareEarnSQL prepared on the bare pool
}

func newEarnFixture(b *testing.B, be fidelistest.Backend) *earnFixture {
	b.Helper()
	a := fidelistest.MustApp(b, be, fidelistest.Options{Logs: io.Discard})
	admin := app.SystemContext(context.Background(), "bench", fidelis.RoleAdmin)
	mgr := app.SystemContext(context.Background(), "bench", fidelis.RoleLoyaltyManager)
	p, _, err := a.Loyalty.LaunchProgramme(admin, loyalty.ProgrammeInput{Name: "Club Bench", Currency: "EUR", PointValueCents: 1},
		loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions.", EN: "Terms."}, ExpiryMonths: 24,
			Mediator: loyalty.Mediator{Name: "Médiateur FEVAD", Website: "https://www.mediateurfevad.fr", Address: "60 rue La Boétie, 75008 Paris"}})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Loyalty.CreateRule(admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1,
		Multipliers: []loyalty.Multiplier{{Category: "toys", Percent: 200}}}); err != nil {
		b.Fatal(err)
	}
	inputs := make([]customer.Input, earnMembers)
	for i := range inputs {
		inputs[i] = customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret(fmt.Sprintf("Membre %d", i))}}
	}
	ids, err := a.Customers.CreateMany(admin, fidelis.PurposeCustomerService, inputs)
	if err != nil {
		b.Fatal(err)
	}
	for i, id := range ids {
		if _, _, err := a.Loyalty.Join(mgr, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: id, TermsVersion: 1, Channel: "store", Key: fmt.Sprintf("join-%d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	f := &earnFixture{a: a, base: fidelistest.MustServe(b, a), token: fidelistest.MustToken(b, a, fidelis.RoleLoyaltyManager), prog: p.ID, members: ids,
		raw: rawPool(b, a), pg: a.Config.DBURL != "",
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
	// Orders must come after the rule's publication to earn under it.
	time.Sleep(2 * time.Millisecond)
	return f
}

// run is a benchmark-unique prefix for Idempotency-Keys and bare IDs.
func runID() string {
	p := make([]byte, 6)
	rand.Read(p)
	return hex.EncodeToString(p)
}

// earnOrder returns the body of an order of two lines (27.50 EUR, 52 points).
func (f *earnFixture) earnOrder(i int64) []byte {
	body, _ := json.Marshal(map[string]any{"programme_id": f.prog, "customer_id": f.members[i%int64(len(f.members))],
		"ordered_at": time.Now().UTC().Format(time.RFC3339Nano), "channel": "store", "store": "lyon-01", "currency": "EUR",
		"lines": []map[string]any{
			{"gtin": "4006381333931", "category": "toys", "quantity": 2, "unit_price_cents": 1250, "promotion_cents": 0},
			{"gtin": "5901234123457", "category": "grocery", "quantity": 1, "unit_price_cents": 250, "promotion_cents": 0},
		}})
	return body
}

// apiEarn places one order through POST /api/v1/orders with a fresh Idempotency-Key.
func (f *earnFixture) apiEarn(run string, i int64) error {
	req, _ := http.NewRequest("POST", f.base+"/api/v1/orders", bytes.NewReader(f.earnOrder(i)))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Fidelis-Purpose", string(fidelis.PurposeLoyalty))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "bench-"+run+"-"+strconv.FormatInt(i, 10))
	resp, err := f.http.Do(req)
	if err != nil {
		return err
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("POST /api/v1/orders = %d: %s", resp.StatusCode, out)
	}
	return nil
}

func (f *earnFixture) q(s string) string { return (&fixture{a: f.a}).q(s) }

// bareEarnSQL are the writes of an earn, in order.
var bareEarnSQL = []string{
	`INSERT INTO loyalty_idempotency (scope, idem_key, request_hash, programme_id, result, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
	`INSERT INTO loyalty_orders (id, programme_id, customer_id, ordered_at, channel, store, document, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO loyalty_transactions (id, programme_id, customer_id, kind, at, rule_id, rule_version, terms_version, reason_fr, reason_en, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO loyalty_lots (id, programme_id, customer_id, tx_id, earned_at, expires_at, points, remaining, notified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	`UPDATE loyalty_members SET balance = balance + ?, version = version + 1 WHERE programme_id = ? AND customer_id = ?`,
	`INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
	`INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)`,
}

// prepareBare prepares the bare earn's statements once: the reference does not pay for
// parsing, as Fidelis's SQLite store does not.
func (f *earnFixture) prepareBare(b *testing.B) {
	if f.stmts != nil {
		return
	}
	for _, q := range bareEarnSQL {
		st, err := f.raw.Prepare(f.q(q))
		if err != nil {
			b.Fatal(err)
		}
		f.stmts = append(f.stmts, st)
	}
}

// bareEarn does, in one transaction on the bare pool, the writes of an earn: the
// idempotency key, the order, the ledger transaction and its two postings, the lot, the
// member's balance, an audit entry and an outbox event, with prepared statements. No
// reads, no validation, no authorisation, no JSON, no HTTP.
func (f *earnFixture) bareEarn(run string, i int64) error {
	now := time.Now().UnixMicro()
	id := run + "_" + strconv.FormatInt(i, 10)
	cus := string(f.members[i%int64(len(f.members))])
	args := [][]any{
		{"token:bench", "bare-" + id, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", f.prog, "lod_" + id, now},
		{"lod_" + id, f.prog, cus, now, "store", "lyon-01", `{"currency":"EUR","lines":[{"gtin":"4006381333931","category":"toys","quantity":2,"unit_price_cents":1250,"promotion_cents":0,"refunded":0},{"gtin":"5901234123457","category":"grocery","quantity":1,"unit_price_cents":250,"promotion_cents":0,"refunded":0}]}`, now},
		{"ltx_" + id, f.prog, cus, "earn", now, "base", 1, 1, "52 points : 1 point par EUR sur 27,50 EUR avec multiplicateurs, règle « base » v1", "52 points: 1 point per EUR on 27.50 EUR with multipliers, rule \"base\" v1", "lod_" + id},
		{"ltx_" + id, 0, f.prog, "issuance", "", -52, ""},
		{"ltx_" + id, 1, f.prog, "member", cus, 52, "lot_" + id},
		{"lot_" + id, f.prog, cus, "ltx_" + id, now, now + 2*365*24*3600*1e6, 52, 52, nil},
		{52, f.prog, cus},
		{"aud_" + id, now, "token:bench", "loyalty.order", cus, "loyalty", "", "ok", "", "req_" + id, randomBlob()[:32]},
		{"evt_" + id, now, "loyalty.order_recorded", cus, `{"programme_id":"` + f.prog + `","customer_id":"` + cus + `","order_id":"lod_` + id + `"}`},
	}
	tx, err := f.raw.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for n, st := range f.stmts {
		if _, err := tx.Stmt(st).Exec(args[n]...); err != nil {
			return fmt.Errorf("%s: %w", bareEarnSQL[n][:30], err)
		}
	}
	return tx.Commit()
}

// settle seals the audit entries left by the previous run, so that no run pays for
// another's background work.
func (f *earnFixture) settle(b *testing.B) {
	if _, err := f.a.Sealer.SealAll(context.Background()); err != nil {
		b.Fatal(err)
	}
}

// parallelClients runs fn from earnClients() goroutines and reports transactions per second.
func parallelClients(b *testing.B, fn func(i int64) error) {
	var n atomic.Int64
	b.SetParallelism(earnParallelism)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkEarn measures one earn per request through the real HTTP API (POST
// /api/v1/orders with an Idempotency-Key: validation, authorisation and lawfulness, the
// member locked, the order, the ledger transaction with its postings and lot, the audit
// entry and the outbox event in one transaction) from 32 concurrent clients, beside:
//
//   - on both backends, bare_storage: the same writes in one transaction on a bare pool,
//     with the same durability (SQLite WAL, synchronous=NORMAL; PostgreSQL defaults);
//
//   - on PostgreSQL, pgbench_tpcb: pgbench's built-in TPC-B-like script on the same server,
//     with as many clients, in a scratch database created and dropped by the benchmark
//     (scale factor = clients, as pgbench's documentation advises, so its branch rows are
//     not one hot spot). Its ns/op is 1e9 ÷ its transactions per second.
//
//     FIDELIS_TEST_POSTGRES=... go test -run '^$' -bench Earn -benchtime 5s -count 3 ./bench/
func BenchmarkEarn(b *testing.B) {
	for _, be := range fidelistest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			f := newEarnFixture(b, be)
			b.Run("api", func(b *testing.B) {
				f.settle(b)
				run := runID()
				parallelClients(b, func(i int64) error { return f.apiEarn(run, i) })
			})
			b.Run("bare_storage", func(b *testing.B) {
				f.prepareBare(b)
				f.settle(b)
				run := runID()
				parallelClients(b, func(i int64) error { return f.bareEarn(run, i) })
			})
			if f.pg {
				b.Run("pgbench_tpcb", func(b *testing.B) { pgbenchTPCB(b, be.URL, earnClients()) })
			}
		})
	}
}

var tpsRE = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbenchTPCB runs pgbench's TPC-B-like script for 10 seconds with clients clients on the
// server of dsn, in a scratch database it creates and drops, and reports its rate.
func pgbenchTPCB(b *testing.B, dsn string, clients int) {
	bin := "/usr/bin/pgbench"
	if _, err := os.Stat(bin); err != nil {
		if bin, err = exec.LookPath("pgbench"); err != nil {
			b.Skip("pgbench is not installed")
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		b.Fatal(err)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	scratch := "fidelis_pgbench_" + runID()
	if _, err := admin.Exec(`CREATE DATABASE ` + scratch); err != nil {
		b.Fatal(err)
	}
	defer admin.Exec(`DROP DATABASE IF EXISTS ` + scratch + ` WITH (FORCE)`)
	env := append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(), "PGDATABASE="+scratch)
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
	}
	cmd := func(args ...string) string {
		c := exec.Command(bin, args...)
		c.Env = env
		out, err := c.CombinedOutput()
		if err != nil {
			b.Fatalf("pgbench %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	b.StopTimer()
	cmd("-i", "-q", "-s", strconv.Itoa(clients))
	b.StartTimer()
	out := cmd("-b", "tpcb-like", "-c", strconv.Itoa(clients), "-j", strconv.Itoa(runtime.GOMAXPROCS(0)), "-T", "10")
	m := tpsRE.FindStringSubmatch(out)
	if m == nil {
		b.Fatalf("no tps in pgbench output:\n%s", out)
	}
	tps, _ := strconv.ParseFloat(m[1], 64)
	b.ReportMetric(tps, "tx/s")
	b.ReportMetric(1e9/tps, "ns/op")
}
