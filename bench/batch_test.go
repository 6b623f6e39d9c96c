package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/loyalty"
)

// batchOrders is the size of one till batch in BenchmarkOrderBatch.
const batchOrders = 500

// batchFixture is an installation with a programme (terms in force, a rule of 1 point per
// EUR) and members to buy.
type batchFixture struct {
	a       *app.App
	base    string
	token   string
	raw     *sql.DB
	prog    string
	members []fidelis.CustomerID
	http    *http.Client
	run     string
	seq     atomic.Int64
}

func newBatchFixture(b *testing.B, be fidelistest.Backend, members int) *batchFixture {
	b.Helper()
	a := fidelistest.MustApp(b, be, fidelistest.Options{Logs: io.Discard})
	admin := app.SystemContext(context.Background(), "bench", fidelis.RoleAdmin)
	p, err := a.Loyalty.CreateProgramme(admin, loyalty.ProgrammeInput{Name: "Club", Currency: "EUR", PointValueCents: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Loyalty.PublishTerms(admin, p.ID, loyalty.TermsInput{Text: loyalty.Text{FR: "Conditions", EN: "Terms"}, ExpiryMonths: 24,
		Mediator: loyalty.Mediator{Name: "Médiateur", Website: "https://mediateur.example", Address: "1 rue de Paris, 75001 Paris"}}); err != nil {
		b.Fatal(err)
	}
	if _, err := a.Loyalty.CreateRule(admin, loyalty.Rule{Programme: p.ID, ID: "base", Name: loyalty.Text{FR: "Base", EN: "Base"}, PointsPerUnit: 1}); err != nil {
		b.Fatal(err)
	}
	f := &batchFixture{a: a, base: fidelistest.MustServe(b, a), token: fidelistest.MustToken(b, a, fidelis.RoleLoyaltyManager), prog: p.ID,
		http: &http.Client{Timeout: time.Minute}, run: fmt.Sprint(time.Now().UnixNano())}
	f.raw = rawPool(b, a)
	if a.Config.DBURL == "" {
		// The rest of Fidelis's connection settings, so that the bare writes pay what the
		// API's pay: foreign keys checked (postings and lots cite their transaction), the
		// same page cache.
		fidelistest.MustExec(b, f.raw, "PRAGMA foreign_keys=ON", "PRAGMA cache_size=-16384")
	}
	till := app.SystemContext(context.Background(), "till", fidelis.RoleLoyaltyManager)
	for i := range members {
		c, err := a.Customers.Create(till, fidelis.PurposeLoyalty, customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldGivenName: fidelis.NewSecret("Membre")}})
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := a.Loyalty.Join(till, fidelis.PurposeLoyalty, loyalty.MembershipInput{Programme: p.ID, Customer: c.ID, TermsVersion: 1, Channel: "store", Key: fmt.Sprintf("join-%d", i)}); err != nil {
			b.Fatal(err)
		}
		f.members = append(f.members, c.ID)
	}
	return f
}

// body returns the next batch: batchOrders one-line orders of distinct members, each with
// a new idempotency key.
func (f *batchFixture) body() []byte {
	n := f.seq.Add(1)
	at := time.Now().UTC().Format(time.RFC3339Nano)
	orders := make([]map[string]any, batchOrders)
	for j := range orders {
		orders[j] = map[string]any{"idempotency_key": fmt.Sprintf("%s-%d-%d", f.run, n, j), "programme_id": f.prog,
			"customer_id": f.members[(int(n)*batchOrders+j)%len(f.members)], "ordered_at": at, "channel": "store", "store": "paris-01", "currency": "EUR",
			"lines": []any{map[string]any{"gtin": "4006381333931", "category": "grocery", "quantity": 2, "unit_price_cents": 1250, "promotion_cents": 100}}}
	}
	b, _ := json.Marshal(map[string]any{"orders": orders})
	return b
}

func (f *batchFixture) post(b *testing.B, body []byte) {
	req, _ := http.NewRequest("POST", f.base+"/api/v1/orders/batch", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Fidelis-Purpose", "loyalty")
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var res struct {
		Summary struct{ Created int } `json:"summary"`
	}
	if resp.StatusCode != 200 || json.Unmarshal(out, &res) != nil || res.Summary.Created != batchOrders {
		b.Fatalf("batch = %d: %.500s", resp.StatusCode, out)
	}
}

// bareBatch writes, with bare INSERTs in one transaction, the rows the batch path writes
// for batchOrders orders: per order an idempotency key, the order, its earning transaction
// with two postings and a lot, the member's new balance, an audit entry and an outbox
// event. No validation, authorisation, JSON, HTTP nor rule evaluation.
func (f *batchFixture) bareBatch(b *testing.B, n int64) {
	q := f.q
	tx, err := f.raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	us := now.UnixMicro()
	stmts := map[string]*sql.Stmt{} // prepared once per batch, as a careful bare writer would
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	for j := range batchOrders {
		cus := f.members[(int(n)*batchOrders+j)%len(f.members)]
		oid, tid, lid := fidelis.NewID("lod", now), fidelis.NewID("ltx", now), fidelis.NewID("lot", now)
		for _, st := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO loyalty_idempotency (scope, idem_key, request_hash, programme_id, result, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
				[]any{"bare", fmt.Sprintf("bare-%s-%d-%d", f.run, n, j), "0000000000000000000000000000000000000000000000000000000000000000", f.prog, oid, us}},
			{`INSERT INTO loyalty_orders (id, programme_id, customer_id, ordered_at, channel, store, document, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				[]any{oid, f.prog, cus, us, "store", "paris-01", `{"currency":"EUR","lines":[{"gtin":"4006381333931","category":"grocery","quantity":2,"unit_price_cents":1250,"promotion_cents":100,"refunded":0}]}`, us}},
			{`INSERT INTO loyalty_transactions (id, programme_id, customer_id, kind, at, rule_id, rule_version, terms_version, reason_fr, reason_en, reference) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				[]any{tid, f.prog, cus, "earn", us, "base", 1, 1, "24 points : 1 point par EUR sur 24,00 EUR, règle « base » v1", "24 points: 1 point per EUR on 24.00 EUR, rule \"base\" v1", oid}},
			{`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES (?, 0, ?, 'issuance', '', -24, '')`, []any{tid, f.prog}},
			{`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES (?, 1, ?, 'member', ?, 24, ?)`, []any{tid, f.prog, cus, lid}},
			{`INSERT INTO loyalty_lots (id, programme_id, customer_id, tx_id, earned_at, expires_at, points, remaining) VALUES (?, ?, ?, ?, ?, ?, 24, 24)`, []any{lid, f.prog, cus, tid, us, us}},
			{`UPDATE loyalty_members SET balance = balance + 24, version = version + 1 WHERE programme_id = ? AND customer_id = ?`, []any{f.prog, cus}},
			{`INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				[]any{fidelis.NewID("aud", now), us, "token:bench", "loyalty.order", string(cus), "loyalty", "", "ok", "", "", []byte("0123456789abcdef0123456789abcdef")}},
			{`INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)`,
				[]any{fidelis.NewID("evt", now), us, "loyalty.order_recorded", string(cus), `{"type":"loyalty.order_recorded"}`}},
		} {
			ps, ok := stmts[st.sql]
			if !ok {
				if ps, err = tx.Prepare(q(st.sql)); err != nil {
					tx.Rollback()
					b.Fatal(err)
				}
				stmts[st.sql] = ps
			}
			if _, err := ps.Exec(st.args...); err != nil {
				tx.Rollback()
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// backlog returns the audit entries not sealed yet and the outbox events not dispatched
// yet: the work the audit sealer and the webhook dispatcher still have to do.
func (f *batchFixture) backlog(b *testing.B) (unsealed, undispatched int64) {
	unsealed, err := f.a.DB.PendingAudit(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	if err := f.raw.QueryRow(`SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL`).Scan(&undispatched); err != nil {
		b.Fatal(err)
	}
	return unsealed, undispatched
}

// catchUp seals every pending audit entry and dispatches every pending event now, as the
// sealer and the dispatcher jobs do on their next tick (they may run at the same time:
// both are safe to run concurrently), then copies the SQLite WAL back into the database
// file, as the background checkpointer does a moment after writes: every path's batch is
// thus charged its own checkpoint, none leaves it to the next path.
func (f *batchFixture) catchUp(b *testing.B) {
	ctx := context.Background()
	for range 100 {
		if _, err := f.a.Sealer.SealAll(ctx); err != nil {
			b.Fatal(err)
		}
		if _, err := f.a.Dispatcher.RunOnce(ctx); err != nil {
			b.Fatal(err)
		}
		if u, d := f.backlog(b); u == 0 && d == 0 {
			if err := f.a.DB.Checkpoint(ctx); err != nil {
				b.Fatal(err)
			}
			return
		}
	}
	b.Fatal("the audit log and the outbox did not catch up")
}

// q adapts a query written with ? placeholders to the dialect.
func (f *batchFixture) q(s string) string {
	if f.a.Config.DBURL == "" {
		return s
	}
	out, k := []byte{}, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			k++
			out = append(out, fmt.Sprintf("$%d", k)...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// bareRowsPerInsert is how many rows one statement of bareBatchMulti writes.
const bareRowsPerInsert = 100

// bareBatchMulti writes the same rows as bareBatch, in one transaction per batchOrders
// orders, with multi-row statements of bareRowsPerInsert rows (prepared once per batch):
// the fastest bare way to write these rows, and the reference for a batch path that
// writes multi-row statements too. The members' balances move by one UPDATE per statement
// chunk (every order earns the same 24 points here).
func (f *batchFixture) bareBatchMulti(b *testing.B, n int64) {
	tx, err := f.raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	now := time.Now()
	us := now.UnixMicro()
	type table struct {
		head, row string
		rows      func(j int, cus fidelis.CustomerID, oid, tid, lid string) [][]any
	}
	tables := []table{
		{`INSERT INTO loyalty_idempotency (scope, idem_key, request_hash, programme_id, result, created_at) VALUES `, `(?, ?, ?, ?, ?, ?)`,
			func(j int, _ fidelis.CustomerID, oid, _, _ string) [][]any {
				return [][]any{{"bare", fmt.Sprintf("bare-%s-%d-%d", f.run, n, j), "0000000000000000000000000000000000000000000000000000000000000000", f.prog, oid, us}}
			}},
		{`INSERT INTO loyalty_orders (id, programme_id, customer_id, ordered_at, channel, store, document, created_at) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, oid, _, _ string) [][]any {
				return [][]any{{oid, f.prog, cus, us, "store", "paris-01", `{"currency":"EUR","lines":[{"gtin":"4006381333931","category":"grocery","quantity":2,"unit_price_cents":1250,"promotion_cents":100,"refunded":0}]}`, us}}
			}},
		{`INSERT INTO loyalty_transactions (id, programme_id, customer_id, kind, at, rule_id, rule_version, terms_version, reason_fr, reason_en, reference) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, oid, tid, _ string) [][]any {
				return [][]any{{tid, f.prog, cus, "earn", us, "base", 1, 1, "24 points : 1 point par EUR sur 24,00 EUR, règle « base » v1", "24 points: 1 point per EUR on 24.00 EUR, rule \"base\" v1", oid}}
			}},
		{`INSERT INTO loyalty_postings (tx_id, seq, programme_id, account, customer_id, amount, lot_id) VALUES `, `(?, ?, ?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, _, tid, lid string) [][]any {
				return [][]any{{tid, 0, f.prog, "issuance", "", -24, ""}, {tid, 1, f.prog, "member", cus, 24, lid}}
			}},
		{`INSERT INTO loyalty_lots (id, programme_id, customer_id, tx_id, earned_at, expires_at, points, remaining) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, _, tid, lid string) [][]any {
				return [][]any{{lid, f.prog, cus, tid, us, us, 24, 24}}
			}},
		{`INSERT INTO audit_entries (uid, at, actor, action, subject, purpose, fields, outcome, reason, request_id, mac) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, _, _, _ string) [][]any {
				return [][]any{{fidelis.NewID("aud", now), us, "token:bench", "loyalty.order", string(cus), "loyalty", "", "ok", "", "", []byte("0123456789abcdef0123456789abcdef")}}
			}},
		{`INSERT INTO outbox (id, at, type, subject, payload) VALUES `, `(?, ?, ?, ?, ?)`,
			func(_ int, cus fidelis.CustomerID, _, _, _ string) [][]any {
				return [][]any{{fidelis.NewID("evt", now), us, "loyalty.order_recorded", string(cus), `{"type":"loyalty.order_recorded"}`}}
			}},
	}
	// The rows of every table, generated as bareBatch does, then written per table.
	rows := make([][][]any, len(tables))
	members := make([]any, 0, batchOrders)
	for j := range batchOrders {
		cus := f.members[(int(n)*batchOrders+j)%len(f.members)]
		oid, tid, lid := fidelis.NewID("lod", now), fidelis.NewID("ltx", now), fidelis.NewID("lot", now)
		for k, t := range tables {
			rows[k] = append(rows[k], t.rows(j, cus, oid, tid, lid)...)
		}
		members = append(members, cus)
	}
	stmts := map[string]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	exec := func(query string, args []any) {
		st, ok := stmts[query]
		if !ok {
			if st, err = tx.Prepare(f.q(query)); err != nil {
				b.Fatal(err)
			}
			stmts[query] = st
		}
		if _, err := st.Exec(args...); err != nil {
			b.Fatal(err)
		}
	}
	for k, t := range tables {
		for chunk := range slices.Chunk(rows[k], bareRowsPerInsert) {
			var args []any
			for _, r := range chunk {
				args = append(args, r...)
			}
			exec(t.head+t.row+strings.Repeat(", "+t.row, len(chunk)-1), args)
		}
	}
	for chunk := range slices.Chunk(members, bareRowsPerInsert) {
		exec(`UPDATE loyalty_members SET balance = balance + 24, version = version + 1 WHERE programme_id = ? AND customer_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)`,
			append([]any{f.prog}, chunk...))
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOrderBatch: POST /api/v1/orders/batch of 500 one-line orders of distinct
// members (each earning one balanced transaction of two postings and a lot) beside two bare
// references writing the same rows in one transaction: one prepared statement per row
// (bare_inserts) and multi-row statements (bare_multirow).
//
// The three paths take turns on one installation, batch after batch (the first path
// rotating), so that they write into the same database at the same size and under the same
// machine load: each batch adds 500 orders' rows, and a database growing during the run
// slows whichever path runs last. "tx/s" times a batch's writes alone (what a till waits
// for); "sustained" also sealing its audit entries into the Merkle log, dispatching its
// events and checkpointing the SQLite WAL right after (which every path's rows need, and
// the API's background jobs do a moment later; they may also run during a batch, as they do
// in production). It reports ledger transactions per second (postings are twice that) and
// the API's ratios to both references; docs/benchmarks.md records them.
func BenchmarkOrderBatch(b *testing.B) {
	for _, be := range fidelistest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) {
			f := newBatchFixture(b, be, 2000)
			// prepare returns the write of one batch, made ready outside the timed region
			// (the API's request body is built beforehand, as a till has it).
			paths := []struct {
				name    string
				prepare func() func()
			}{
				{"api", func() func() { body := f.body(); return func() { f.post(b, body) } }},
				{"bare", func() func() { n := f.seq.Add(1); return func() { f.bareBatch(b, n) } }},
				{"multirow", func() func() { n := f.seq.Add(1); return func() { f.bareBatchMulti(b, n) } }},
			}
			writes := make([]time.Duration, len(paths))
			sustained := make([]time.Duration, len(paths))
			b.ResetTimer()
			for i := range b.N {
				for k := range paths {
					p := (i + k) % len(paths)
					write := paths[p].prepare()
					start := time.Now()
					write()
					writes[p] += time.Since(start)
					f.catchUp(b)
					sustained[p] += time.Since(start)
				}
			}
			b.StopTimer()
			rate := func(d time.Duration) float64 { return float64(b.N*batchOrders) / d.Seconds() }
			for p, path := range paths {
				b.ReportMetric(rate(writes[p]), path.name+"_tx/s")
				b.ReportMetric(rate(sustained[p]), path.name+"_sustained_tx/s")
			}
			b.ReportMetric(rate(writes[0])/rate(writes[1]), "api/bare")
			b.ReportMetric(rate(writes[0])/rate(writes[2]), "api/multirow")
			b.ReportMetric(rate(sustained[0])/rate(sustained[1]), "sustained_api/bare")
			b.ReportMetric(rate(sustained[0])/rate(sustained[2]), "sustained_api/multirow")
			b.ReportMetric(0, "ns/op")
		})
	}
}
