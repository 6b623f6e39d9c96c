// Package fidelistest provides test helpers that run Fidelis against real parts: SQLite in a
// temporary directory, PostgreSQL in a fresh schema when FIDELIS_TEST_POSTGRES is set (and
// mandatory when CI=true), and a real HTTP server on loopback.
package fidelistest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/auth"
)

// Backend names a database backend under test.
type Backend struct {
	Name string // "sqlite" or "postgres"
	URL  string // PostgreSQL base URL; "" for SQLite
}

// Backends returns the backends to run a test against: SQLite always, PostgreSQL when
// FIDELIS_TEST_POSTGRES holds a URL. Under CI=true a missing PostgreSQL fails the test:
// the PostgreSQL suite must never be skipped silently in CI.
func Backends(tb testing.TB) []Backend {
	tb.Helper()
	bs := []Backend{{Name: "sqlite"}}
	if u := os.Getenv("FIDELIS_TEST_POSTGRES"); u != "" {
		bs = append(bs, Backend{Name: "postgres", URL: u})
	} else if os.Getenv("CI") == "true" {
		tb.Fatal("CI=true but FIDELIS_TEST_POSTGRES is not set: the PostgreSQL suite must run in CI")
	}
	return bs
}

// ForEachBackend runs fn as a subtest per backend.
func ForEachBackend(t *testing.T, fn func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(t) {
		t.Run(b.Name, func(t *testing.T) { fn(t, b) })
	}
}

// MustPostgresSchema creates an empty schema in the database at base and returns a URL
// whose connections use it; the schema is dropped at cleanup.
func MustPostgresSchema(tb testing.TB, base string) string {
	tb.Helper()
	db, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatalf("open postgres: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	schema := strings.ReplaceAll(strings.ToLower(fidelis.NewID("t", time.Now())), "_", "")
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema (is PostgreSQL reachable at FIDELIS_TEST_POSTGRES?): %v", err)
	}
	tb.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse FIDELIS_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Options tune MustApp.
type Options struct {
	Now    func() time.Time
	Logs   io.Writer // where the application logs go; a file in the data dir by default
	Mutate func(*app.Config)
}

// MustApp opens a fresh installation on backend b, in a temporary data directory (which
// also holds the key file and the logs), with cheap password hashing.
func MustApp(tb testing.TB, b Backend, opts ...Options) *app.App {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	dir := tb.TempDir()
	cfg := app.Config{DataDir: dir, Now: o.Now, Stderr: io.Discard, Argon2: auth.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}}
	if b.URL != "" {
		cfg.DBURL = MustPostgresSchema(tb, b.URL)
	}
	logs := o.Logs
	if logs == nil {
		f, err := os.Create(dir + "/fidelis.log")
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { f.Close() })
		logs = f
		cfg.Stderr = f
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Mutate != nil {
		o.Mutate(&cfg)
	}
	a, err := app.Open(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("app.Open(%s): %v", b.Name, err)
	}
	tb.Cleanup(func() { a.Close() })
	return a
}

// MustServe serves a on a loopback port until the test ends and returns its base URL.
func MustServe(tb testing.TB, a *app.App) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := a.Serve(ctx, ln, nil); err != nil {
			tb.Errorf("Serve: %v", err)
		}
	})
	tb.Cleanup(func() { cancel(); wg.Wait() })
	return "http://" + ln.Addr().String()
}

// MustToken creates an API token for role.
func MustToken(tb testing.TB, a *app.App, role fidelis.Role) string {
	tb.Helper()
	tok, _, err := a.Auth.CreateToken(app.SystemContext(context.Background(), "test", fidelis.RoleAdmin), "test", role)
	if err != nil {
		tb.Fatalf("CreateToken(%s): %v", role, err)
	}
	return tok
}

// Client calls the API with a token.
type Client struct {
	TB    testing.TB
	Base  string
	Token string
	HTTP  *http.Client
}

// NewClient returns a client for base with token.
func NewClient(tb testing.TB, base, token string) *Client {
	return &Client{TB: tb, Base: base, Token: token, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Response is a decoded API response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r *Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("response is not a JSON object (status %d): %v", r.Status, err)
	}
	return m
}

// Do sends a request with the purpose header (if not empty) and a JSON body (if not nil;
// a string or []byte is sent as is).
func (c *Client) Do(method, path string, purpose fidelis.Purpose, body any, header ...string) *Response {
	c.TB.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.TB.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.TB.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if purpose != "" {
		req.Header.Set("Fidelis-Purpose", string(purpose))
	}
	status, h, b := send(c.TB, c.HTTP, req, header)
	return &Response{Status: status, Header: h, Body: b}
}

// send adds header (name/value pairs) to req, sends it and reads the whole response.
func send(tb testing.TB, client *http.Client, req *http.Request, header []string) (int, http.Header, []byte) {
	tb.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// MustStatus fails the test unless r has status want.
func (r *Response) MustStatus(tb testing.TB, want int) *Response {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status = %d; want %d (body %s)", r.Status, want, truncate(r.Body))
	}
	return r
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return fmt.Sprintf("%s... (%d bytes)", b[:600], len(b))
	}
	return string(b)
}

// MustRawDB opens a second, plain connection to a's database, for tests that tamper with
// rows directly (as an attacker with database access would). Queries use $1-style
// placeholders on PostgreSQL and ? on SQLite; prefer literals.
func MustRawDB(tb testing.TB, a *app.App) *sql.DB {
	tb.Helper()
	// Audit entries of reads may still be in the SQLite audit journal: take them in, so
	// that raw queries of audit_entries see every entry recorded so far.
	if err := a.DB.SyncAudit(context.Background()); err != nil {
		tb.Fatalf("sync audit journal: %v", err)
	}
	var db *sql.DB
	var err error
	if a.Config.DBURL != "" {
		db, err = sql.Open("pgx", a.Config.DBURL)
	} else {
		db, err = sql.Open("sqlite", "file:"+strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(a.DB.Path())+"?_pragma=busy_timeout(10000)")
	}
	if err != nil {
		tb.Fatalf("open raw database: %v", err)
	}
	db.SetMaxOpenConns(1)
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustExec runs statements on a raw connection.
func MustExec(tb testing.TB, db *sql.DB, stmts ...string) {
	tb.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("exec %q: %v", s, err)
		}
	}
}

// BlobLiteral returns an SQL literal for bytes given in hex, in a's dialect.
func BlobLiteral(a *app.App, hex string) string {
	if a.Config.DBURL != "" {
		return "decode('" + hex + "', 'hex')"
	}
	return "X'" + hex + "'"
}
