// Package bench measures Fidelis through its HTTP API beside bare references measured in
// the same run: the bare storage operation (the same SQL on the same database, without
// encryption, authorisation or audit) and a bare net/http handler doing that same bare
// storage operation on a loopback server. Ratios between them are what docs/benchmarks.md
// records: absolute numbers drift on shared machines, ratios hold.
//
//	go test -run '^$' -bench . -count 3 ./bench/
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
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

const seedCustomers = 2000

type fixture struct {
	a      *app.App
	base   string
	token  string
	raw    *sql.DB
	ids    []string
	emails []string
	http   *http.Client
}

func newFixture(b *testing.B, be fidelistest.Backend) *fixture {
	b.Helper()
	a := fidelistest.MustApp(b, be, fidelistest.Options{Logs: io.Discard})
	if err := a.LoadDemo(context.Background(), seedCustomers, 7, io.Discard); err != nil {
		b.Fatal(err)
	}
	f := &fixture{a: a, base: fidelistest.MustServe(b, a), token: fidelistest.MustToken(b, a, fidelis.RoleAdmin),
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}}
	f.raw = rawPool(b, a)
	// Collect the records through the API (the only way to see plaintext), and store them
	// in plain columns for the bare references: what a store without encryption,
	// authorisation or audit would hold.
	var records []map[string]any
	cursor := ""
	for len(records) < seedCustomers {
		resp := f.do(b, "GET", "/api/v1/customers?limit=200"+cursorParam(cursor), nil)
		var page struct {
			Items []map[string]any `json:"items"`
			Next  *string          `json:"next_cursor"`
		}
		if err := json.Unmarshal(resp, &page); err != nil {
			b.Fatal(err)
		}
		for _, it := range page.Items {
			records = append(records, it)
			f.ids = append(f.ids, it["id"].(string))
			if e, ok := it["email"].(string); ok {
				f.emails = append(f.emails, e)
			}
		}
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
	f.loadBare(b, records)
	return f
}

func cursorParam(c string) string {
	if c == "" {
		return ""
	}
	return "&cursor=" + c
}

// rawPool opens a bare database/sql pool on the same database, with the same pragmas.
func rawPool(b *testing.B, a *app.App) *sql.DB {
	db := fidelistest.MustRawDB(b, a)
	db.SetMaxOpenConns(8)
	if a.Config.DBURL == "" {
		// Same durability as Fidelis: WAL, synchronous NORMAL, one writer; and the same WAL
		// checkpoints: not in the commit that fills the WAL (the automatic checkpoint is only
		// a far backstop) but by Fidelis's background checkpointer, which copies the WAL back
		// whatever wrote it, a moment after Fidelis's own commits (its audit sealer seals the
		// bare writes' entries every second).
		fidelistest.MustExec(b, db, "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA wal_autocheckpoint=32768")
		db.SetMaxOpenConns(1)
	}
	return db
}

func (f *fixture) do(b *testing.B, method, path string, body []byte) []byte {
	req, _ := http.NewRequest(method, f.base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Fidelis-Purpose", "customer_service")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.http.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("%s %s = %d", method, path, resp.StatusCode)
	}
	return out
}

// bareServer serves handler on loopback, as Fidelis is served, and returns its URL.
func bareServer(b *testing.B, h http.HandlerFunc) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func randomBlob() []byte {
	p := make([]byte, 48)
	rand.Read(p)
	return p
}

func (f *fixture) q(s string) string {
	if f.a.Config.DBURL == "" {
		return s
	}
	n := 0
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, s[i])
	}
	return string(out)
}

// bareInsert inserts a customer-shaped row with random blobs: the storage work of a create
// without key generation, encryption, validation, history or audit.
func (f *fixture) bareInsert(i int64) error {
	id := fmt.Sprintf("bare_%d_%s", i, hex.EncodeToString(randomBlob()[:6]))
	_, err := f.raw.Exec(f.q(`INSERT INTO customers (id, version, created_at, updated_at, email_bidx, given_name, family_name, email) VALUES (?, 1, 0, 0, ?, ?, ?, ?)`),
		id, randomBlob()[:16], randomBlob(), randomBlob(), randomBlob())
	return err
}

// bareColumns are the columns of the bare references' table: the record the API returns,
// in plain text.
var bareColumns = func() []string {
	cols := []string{"id", "version", "created_at", "updated_at"}
	for _, f := range fidelis.CustomerFields() {
		cols = append(cols, string(f))
	}
	return cols
}()

// loadBare creates the bare references' table, bench_customers, indexed by e-mail, and
// copies the API's records into it.
func (f *fixture) loadBare(b *testing.B, records []map[string]any) {
	defs := make([]string, len(bareColumns))
	for i, c := range bareColumns {
		defs[i] = c + " TEXT"
	}
	defs[0] = "id TEXT PRIMARY KEY"
	fidelistest.MustExec(b, f.raw, "CREATE TABLE bench_customers ("+strings.Join(defs, ", ")+")",
		"CREATE INDEX bench_customers_email ON bench_customers (email)")
	insert := f.q("INSERT INTO bench_customers (" + strings.Join(bareColumns, ", ") + ") VALUES (?" + strings.Repeat(", ?", len(bareColumns)-1) + ")")
	tx, err := f.raw.Begin()
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range records {
		args := make([]any, len(bareColumns))
		for i, c := range bareColumns {
			switch v := r[c].(type) {
			case nil:
			case string:
				args[i] = v
			default: // numbers, attributes: stored as their JSON text
				j, _ := json.Marshal(v)
				args[i] = string(j)
			}
		}
		if _, err := tx.Exec(insert, args...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// bareFind reads the whole record where column = value from the bare table and encodes it
// as the API does, {"items": [record]}: the bare storage operation of a lookup.
func (f *fixture) bareFind(column, value string) ([]byte, error) {
	vals := make([]sql.NullString, len(bareColumns))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := f.raw.QueryRow(f.q("SELECT "+strings.Join(bareColumns, ", ")+" FROM bench_customers WHERE "+column+" = ?"), value).Scan(ptrs...)
	if err != nil {
		return nil, err
	}
	rec := make(map[string]any, len(vals))
	for i, v := range vals {
		if v.Valid {
			rec[bareColumns[i]] = v.String
		}
	}
	return json.Marshal(map[string]any{"items": []any{rec}})
}

func parallel(b *testing.B, fn func(i int64) error) {
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := fn(n.Add(1)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func (f *fixture) get(url string) error {
	resp, err := f.http.Get(url)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

func forBackends(b *testing.B, fn func(b *testing.B, f *fixture)) {
	for _, be := range fidelistest.Backends(b) {
		b.Run(be.Name, func(b *testing.B) { fn(b, newFixture(b, be)) })
	}
}

// BenchmarkCreate: POST /api/v1/customers against a bare INSERT and a bare handler doing it.
func BenchmarkCreate(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		body, _ := json.Marshal(map[string]any{"given_name": "Élodie", "family_name": "Lefèvre", "email": "elodie.lefevre@example.com",
			"phone": "06 12 34 56 78", "city": "Lyon", "country": "FR", "attributes": map[string]string{"shoe_size": "38"}})
		b.Run("api", func(b *testing.B) {
			parallel(b, func(int64) error { f.do(b, "POST", "/api/v1/customers", body); return nil })
		})
		b.Run("bare_storage", func(b *testing.B) { parallel(b, f.bareInsert) })
		var seq atomic.Int64
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if err := f.bareInsert(seq.Add(1)); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.WriteHeader(201)
			w.Write([]byte(`{"ok":true}`))
		})
		b.Run("bare_http", func(b *testing.B) {
			parallel(b, func(int64) error {
				resp, err := f.http.Post(url, "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return nil
			})
		})
	})
}

// BenchmarkLookupByID: GET /api/v1/customers/{id} against a bare SELECT and a bare handler.
func BenchmarkLookupByID(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		b.Run("api", func(b *testing.B) {
			parallel(b, func(i int64) error { f.do(b, "GET", "/api/v1/customers/"+f.ids[i%int64(len(f.ids))], nil); return nil })
		})
		b.Run("bare_storage", func(b *testing.B) {
			parallel(b, func(i int64) error { _, err := f.bareFind("id", f.ids[i%int64(len(f.ids))]); return err })
		})
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			out, err := f.bareFind("id", r.URL.Query().Get("id"))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
		})
		b.Run("bare_http", func(b *testing.B) {
			parallel(b, func(i int64) error { return f.get(url + "?id=" + f.ids[i%int64(len(f.ids))]) })
		})
	})
}

// BenchmarkLookupByEmail: POST /api/v1/customers/search by e-mail (blind index) against a
// bare SELECT by index and a bare handler doing it.
func BenchmarkLookupByEmail(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		bodies := make([][]byte, len(f.emails))
		for i, e := range f.emails {
			bodies[i], _ = json.Marshal(map[string]string{"email": e})
		}
		b.Run("api", func(b *testing.B) {
			parallel(b, func(i int64) error {
				f.do(b, "POST", "/api/v1/customers/search", bodies[i%int64(len(bodies))])
				return nil
			})
		})
		b.Run("bare_storage", func(b *testing.B) {
			parallel(b, func(i int64) error { _, err := f.bareFind("email", f.emails[i%int64(len(f.emails))]); return err })
		})
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			var q struct {
				Email string `json:"email"`
			}
			if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			out, err := f.bareFind("email", q.Email)
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
		})
		b.Run("bare_http", func(b *testing.B) {
			parallel(b, func(i int64) error {
				resp, err := f.http.Post(url, "application/json", bytes.NewReader(bodies[i%int64(len(bodies))]))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				return nil
			})
		})
	})
}
