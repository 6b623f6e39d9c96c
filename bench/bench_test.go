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
	// indexes are the stored e-mail blind indexes, for the bare references.
	indexes [][]byte
	http    *http.Client
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
	rows, err := f.raw.Query(`SELECT email_bidx FROM customers WHERE email_bidx IS NOT NULL`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var idx []byte
		if err := rows.Scan(&idx); err != nil {
			b.Fatal(err)
		}
		f.indexes = append(f.indexes, idx)
	}
	rows.Close()
	// Collect IDs and e-mails through the API (the only way to see plaintext).
	cursor := ""
	for len(f.ids) < seedCustomers {
		resp := f.do(b, "GET", "/api/v1/customers?limit=200"+cursorParam(cursor), nil)
		var page struct {
			Items []struct {
				ID    string  `json:"id"`
				Email *string `json:"email"`
			} `json:"items"`
			Next *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(resp, &page); err != nil {
			b.Fatal(err)
		}
		for _, it := range page.Items {
			f.ids = append(f.ids, it.ID)
			if it.Email != nil {
				f.emails = append(f.emails, *it.Email)
			}
		}
		if page.Next == nil {
			break
		}
		cursor = *page.Next
	}
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
		// Same durability as Fidelis: WAL, synchronous NORMAL, one writer.
		fidelistest.MustExec(b, db, "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL")
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

func (f *fixture) bareGet(id string) ([]byte, error) {
	var v, g, fam, e []byte
	err := f.raw.QueryRow(f.q(`SELECT id, given_name, family_name, email FROM customers WHERE id = ?`), id).Scan(&v, &g, &fam, &e)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string][]byte{"id": v, "given_name": g, "family_name": fam, "email": e})
}

// bareByIndex looks a customer up by one of the stored blind indexes (collected once, so the
// reference does one query per lookup, like the API).
func (f *fixture) bareByIndex(i int64) ([]byte, error) {
	idx := f.indexes[i%int64(len(f.indexes))]
	var v, g, fam, e []byte
	err := f.raw.QueryRow(f.q(`SELECT id, given_name, family_name, email FROM customers WHERE email_bidx = ? LIMIT 1`), idx).Scan(&v, &g, &fam, &e)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string][]byte{"id": v, "given_name": g, "family_name": fam, "email": e})
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
			parallel(b, func(i int64) error { _, err := f.bareGet(f.ids[i%int64(len(f.ids))]); return err })
		})
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			out, err := f.bareGet(r.URL.Query().Get("id"))
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
			parallel(b, func(i int64) error { _, err := f.bareByIndex(i); return err })
		})
		var seq atomic.Int64
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			out, err := f.bareByIndex(seq.Add(1))
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
