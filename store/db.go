// Package store persists Fidelis on SQLite (embedded, pure Go) or PostgreSQL. It only
// persists: business rules live in the domain packages, and both databases run the same
// SQL through database/sql, with dialect differences confined to the migrations and a few
// statements chosen by Dialect. The storetest suite checks both alike.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/fidelis/fidelis"
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine.
type Dialect string

// Dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database. For SQLite it holds two pools over the same file: one writer
// connection (SQLite allows one writer; BEGIN IMMEDIATE avoids deadlocking upgrades) and a
// pool of read-only readers (WAL lets them run beside the writer). For PostgreSQL both are
// the same pool.
type DB struct {
	Dialect Dialect
	write   *sql.DB
	read    *sql.DB
	path    string // SQLite file, "" for PostgreSQL

	rebound sync.Map // query with ? -> query with $n (PostgreSQL)

	writeStmts, readStmts sync.Map // prepared statements per pool (SQLite)

	// Audit group commit (see RecordAudit).
	auditOnce sync.Once
	auditQ    chan auditRequest
	auditDone chan struct{}
	journal   *auditJournal // SQLite: audit entries of reads (see auditjournal.go)
	ckpt      *checkpointer // SQLite: WAL checkpoints off the writer's path (see checkpoint.go)
	closing   chan struct{}
	closeOnce sync.Once
}

var errClosed = &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "the database is closed"}

// DatabaseFile is the SQLite file name inside the data directory.
const DatabaseFile = "fidelis.db"

// sqlitePragmas are applied on every connection. secure_delete overwrites deleted content
// with zeros, without which erased key bytes would linger in free pages: crypto-shredding
// depends on it. synchronous=NORMAL in WAL mode is durable across application crashes
// and loses at most the last transactions on power loss. The WAL is copied back into the
// database by a background checkpointer (checkpoint.go), not by the commit that fills it:
// the automatic checkpoint stays as a backstop at 32768 pages (128 MiB of WAL), which the
// checkpointer keeps the WAL far below; erasures checkpoint at once (see Tx.truncateWAL).
// temp_store(MEMORY) keeps sort spills, which may hold ciphertext, off the disk.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_pragma=cache_size(-16384)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(32768)&_time_format=sqlite"

// uriEscaper escapes the characters that end the path part of an SQLite URI filename.
var uriEscaper = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")

// OpenSQLite opens (creating if needed) the database in data directory dir.
func OpenSQLite(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data directory: %w", err)
	}
	path := filepath.Join(dir, DatabaseFile)
	uri := "file:" + uriEscaper.Replace(path)
	w, err := sql.Open("sqlite", uri+"?"+sqlitePragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: protect %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", uri+"?"+sqlitePragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	db := &DB{Dialect: SQLite, write: w, read: r, path: path, closing: make(chan struct{})}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.ckpt, err = startCheckpointer(uri+"?"+sqlitePragmas, db.closing); err != nil {
		db.Close()
		return nil, err
	}
	if db.journal, err = openAuditJournal(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// OpenPostgres connects to the PostgreSQL database at url and applies migrations. Writes
// and reads have pools of their own: every connection of the read pool runs with
// default_transaction_read_only, so that a read (ReadTx), which runs without a
// transaction of its own, cannot write.
func OpenPostgres(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	readCfg := cfg.Copy()
	readCfg.RuntimeParams["default_transaction_read_only"] = "on"
	pools := []*sql.DB{stdlib.OpenDB(*cfg), stdlib.OpenDB(*readCfg)}
	for i, p := range pools {
		p.SetMaxOpenConns(postgresConns[i])
		p.SetMaxIdleConns(postgresConns[i])
		p.SetConnMaxIdleTime(5 * time.Minute)
	}
	db := &DB{Dialect: Postgres, write: pools[0], read: pools[1], closing: make(chan struct{})}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, p := range pools {
		if err := p.PingContext(pctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connect to postgres: %w", err)
		}
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// postgresConns bounds the connections of a node's write and read pools: two nodes at
// their busiest stay within PostgreSQL's default max_connections (100). Single orders
// share write transactions (loyalty.Service.OrderWriters), and a read holds a connection
// for one statement at a time.
var postgresConns = [2]int{32, 16}

// Open opens PostgreSQL when url is set, SQLite in dir otherwise.
func Open(ctx context.Context, dir, url string) (*DB, error) {
	if url != "" {
		return OpenPostgres(ctx, url)
	}
	return OpenSQLite(ctx, dir)
}

// Path returns the SQLite file, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Close stops the audit writer (after the batch it is writing) and closes the pools.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.journal != nil {
			db.journal.close() // ingests what is left while the database is open
		}
		close(db.closing)
	})
	db.auditOnce.Do(func() {}) // no writer may start after this
	if db.auditDone != nil {
		<-db.auditDone
	}
	if db.ckpt != nil {
		db.ckpt.stop()
	}
	for _, m := range []*sync.Map{&db.writeStmts, &db.readStmts} {
		m.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Ping checks that the database answers (for /healthz).
func (db *DB) Ping(ctx context.Context) error { return db.read.PingContext(ctx) }

// Checkpoint forces a WAL checkpoint on SQLite, truncating the WAL file (no-op on PostgreSQL).
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	return db.checkpointTruncate(ctx)
}

// checkpointTruncate copies the whole WAL back into the database and truncates it, never
// at the same time as the background checkpointer (SQLite would skip one of the two).
func (db *DB) checkpointTruncate(ctx context.Context) error {
	if db.ckpt != nil {
		db.ckpt.mu.Lock()
		defer db.ckpt.mu.Unlock()
	}
	_, err := db.write.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	return err
}

func (db *DB) migrate(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations/"+string(db.Dialect))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if db.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	opts := []goose.ProviderOption{}
	if db.Dialect == Postgres {
		// Two nodes starting together must not migrate twice.
		opts = append(opts, goose.WithSessionLocker(newPostgresLocker()))
	}
	p, err := goose.NewProvider(dialect, db.write, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// q adapts a query written with ? placeholders to the dialect.
func (db *DB) q(query string) string {
	if db.Dialect != Postgres {
		return query
	}
	if v, ok := db.rebound.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	s := b.String()
	db.rebound.Store(query, s)
	return s
}

// Tx is one transaction. It implements the transaction interfaces the domain packages
// declare (customer.Tx, audit.SealTx, ...).
type Tx struct {
	db *DB
	tx *sql.Tx
	// conn is the session of a PostgreSQL write transaction (tx is then nil). Its BEGIN is
	// sent lazily, with the transaction's first statement, so that a chunk of orders sends
	// it in the same round trip as its reads (ReadChunk); begun says it has been sent.
	conn       *sql.Conn
	begun      bool
	stmts      *sync.Map // of the pool the transaction runs on; nil: no statement cache
	unprepared []string  // queries to prepare after the transaction
	pool       *sql.DB   // set when tx is nil: statements run on the pool (reads)
	// truncateWAL asks for a WAL checkpoint after commit: an erasure must not leave the old
	// key pages in the WAL file until the next automatic checkpoint.
	truncateWAL bool
}

// stmt returns the prepared statement for query within the transaction, or nil if it is
// not prepared yet. On SQLite, parsing a statement costs more than running it, so each pool
// keeps its statements prepared (database/sql keeps them prepared per connection; pgx
// caches by itself). Preparing needs a free connection, which the single writer does not
// have inside a transaction: a new query runs unprepared once and is prepared after commit.
func (t *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.stmts == nil {
		return nil
	}
	if v, ok := t.stmts.Load(query); ok {
		if t.tx == nil {
			return v.(*sql.Stmt)
		}
		return t.tx.StmtContext(ctx, v.(*sql.Stmt))
	}
	if t.tx == nil {
		// Outside a transaction no connection is held: prepare now.
		t.db.prepare(t.pool, t.stmts, []string{query})
		if v, ok := t.stmts.Load(query); ok {
			return v.(*sql.Stmt)
		}
		return nil
	}
	t.unprepared = append(t.unprepared, query)
	return nil
}

// prepare prepares the queries the transaction ran unprepared.
func (db *DB) prepare(pool *sql.DB, stmts *sync.Map, queries []string) {
	for _, q := range queries {
		if _, ok := stmts.Load(q); ok {
			continue
		}
		st, err := pool.Prepare(q)
		if err != nil {
			continue // it will run unprepared again and be retried
		}
		if _, loaded := stmts.LoadOrStore(q, st); loaded {
			st.Close()
		}
	}
}

// inTx says statements run in a transaction (a write, or a snapshot), not one by one on a
// pool (ReadTx).
func (t *Tx) inTx() bool { return t.tx != nil || t.conn != nil }

// begin sends a lazily begun transaction's BEGIN, once.
func (t *Tx) begin(ctx context.Context) error {
	if t.conn == nil || t.begun {
		return nil
	}
	if _, err := t.conn.ExecContext(ctx, `BEGIN`); err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	t.begun = true
	return nil
}

// end commits (or, if commit is false, rolls back) a lazily begun transaction and hands
// its session back to the pool. PostgreSQL answers COMMIT in a failed transaction by
// rolling it back without an error: the command tag tells. A session left inside a
// transaction (a ROLLBACK that could not be sent) is closed by the pool, not reused (the
// pgx driver refuses to reset it).
func (t *Tx) end(ctx context.Context, commit bool) error {
	defer t.conn.Close()
	if !t.begun {
		return nil
	}
	if !commit {
		_, err := t.conn.ExecContext(context.WithoutCancel(ctx), `ROLLBACK`)
		return err
	}
	return t.conn.Raw(func(dc any) error {
		tag, err := dc.(*stdlib.Conn).Conn().Exec(ctx, `COMMIT`)
		if err == nil && tag.String() != "COMMIT" {
			err = errors.New("the transaction was rolled back: " + tag.String())
		}
		return err
	})
}

func (t *Tx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	if t.conn != nil {
		if err := t.begin(ctx); err != nil {
			return nil, err
		}
		return t.conn.ExecContext(ctx, t.db.q(query), args...)
	}
	if t.tx == nil {
		return t.pool.ExecContext(ctx, t.db.q(query), args...)
	}
	return t.tx.ExecContext(ctx, t.db.q(query), args...)
}

func (t *Tx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	if t.conn != nil {
		if err := t.begin(ctx); err != nil {
			return nil, err
		}
		return t.conn.QueryContext(ctx, t.db.q(query), args...)
	}
	if t.tx == nil {
		return t.pool.QueryContext(ctx, t.db.q(query), args...)
	}
	return t.tx.QueryContext(ctx, t.db.q(query), args...)
}

// row is the one row queryRow reads, or the error that kept its statement from running.
type row struct {
	*sql.Row
	err error
}

func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	return r.Row.Scan(dest...)
}

func (t *Tx) queryRow(ctx context.Context, query string, args ...any) row {
	if st := t.stmt(ctx, query); st != nil {
		return row{Row: st.QueryRowContext(ctx, args...)}
	}
	if t.conn != nil {
		if err := t.begin(ctx); err != nil {
			return row{err: err}
		}
		return row{Row: t.conn.QueryRowContext(ctx, t.db.q(query), args...)}
	}
	if t.tx == nil {
		return row{Row: t.pool.QueryRowContext(ctx, t.db.q(query), args...)}
	}
	return row{Row: t.tx.QueryRowContext(ctx, t.db.q(query), args...)}
}

// WriteTx runs fn in a read-write transaction, committing if fn returns nil.
func (db *DB) WriteTx(ctx context.Context, fn func(*Tx) error) error {
	return db.run(ctx, db.write, &db.writeStmts, nil, fn)
}

// ReadTx runs fn as a read: its statements run one by one on the read pool, without an
// explicit transaction. Each statement reads a consistent committed state, and the
// BEGIN/COMMIT pair would triple the cost of the common one-statement read (three round
// trips on PostgreSQL instead of one). A read of several statements may therefore see a
// change committed between two of them, as it would in PostgreSQL's READ COMMITTED
// transaction, which takes a new snapshot per statement too; callers treat reads as
// advisory and re-check under the write transaction when they act (as Update does). On
// PostgreSQL the read pool's sessions are read-only (OpenPostgres); on SQLite it is opened
// read-only.
func (db *DB) ReadTx(ctx context.Context, fn func(*Tx) error) error {
	t := &Tx{db: db, pool: db.read}
	if db.Dialect == SQLite {
		t.stmts = &db.readStmts
	}
	return translate(fn(t))
}

func (db *DB) run(ctx context.Context, pool *sql.DB, stmts *sync.Map, opts *sql.TxOptions, fn func(*Tx) error) error {
	if db.Dialect == Postgres && pool == db.write && opts == nil {
		return db.runLazy(ctx, fn)
	}
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return translate(fmt.Errorf("store: begin: %w", err))
	}
	t := &Tx{db: db, tx: tx}
	if db.Dialect == SQLite {
		t.stmts = stmts
	}
	err = fn(t)
	if err != nil {
		_ = tx.Rollback()
		err = translate(err)
	} else if err = tx.Commit(); err != nil {
		err = translate(fmt.Errorf("store: commit: %w", err))
	} else if pool == db.write && db.ckpt != nil {
		db.ckpt.wake()
	}
	if len(t.unprepared) > 0 {
		db.prepare(pool, stmts, t.unprepared)
	}
	if err == nil && t.truncateWAL && db.Dialect == SQLite {
		// Best effort: with readers active the WAL cannot be truncated now; the next
		// checkpoint overwrites it.
		_ = db.checkpointTruncate(context.WithoutCancel(ctx))
	}
	return err
}

// runLazy runs fn in a PostgreSQL write transaction begun with its first statement (Tx.conn).
func (db *DB) runLazy(ctx context.Context, fn func(*Tx) error) error {
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return translate(fmt.Errorf("store: begin: %w", err))
	}
	t := &Tx{db: db, conn: conn}
	if err = fn(t); err != nil {
		_ = t.end(ctx, false)
		return translate(err)
	}
	if err = t.end(ctx, true); err != nil {
		return translate(fmt.Errorf("store: commit: %w", err))
	}
	return nil
}

// translate turns driver errors a caller can act on into fidelis errors.
func translate(err error) error {
	if err == nil || fidelis.AsError(err) != nil {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "the operation was cancelled or timed out", Err: err}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "the database is busy; try again", Err: err}
		case sqlite3.SQLITE_CONSTRAINT:
			return &fidelis.Error{Code: fidelis.ECONFLICT, Message: "the change conflicts with existing data", Err: err}
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505" || pe.Code == "23514" || pe.Code == "23503": // unique, check or foreign-key violation, as SQLITE_CONSTRAINT
			return &fidelis.Error{Code: fidelis.ECONFLICT, Message: "the change conflicts with existing data", Err: err}
		case pe.Code == "40001" || pe.Code == "40P01":
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Message: "a concurrent change interfered; try again", Err: err}
		}
	}
	return err
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func nullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicros(n.Int64)
	return &t
}

func notFound(what string) error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Message: "no " + what + " with this id"}
}
