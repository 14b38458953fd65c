// Package db opens GridHall's database — an embedded SQLite file or a
// PostgreSQL server — applies the embedded migrations, and hides the few
// differences between the engines. SQL elsewhere is written once with $n
// placeholders and runs on both.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Querier is what stores need to run SQL: satisfied by *sql.DB, *sql.Tx and *DB.
type Querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// DB is an open database. On SQLite it holds one writer connection beside a
// pool of read-only connections, because SQLite admits one writer at a time
// and queuing writers in Go is cheaper than spinning on SQLITE_BUSY. On
// PostgreSQL both point to the same pool.
type DB struct {
	Engine Engine
	write  *sql.DB
	read   *sql.DB
	path   string
	// writers queues SQLite's write transactions first come, first served.
	// database/sql hands a freed connection to a random waiter, which under
	// load leaves some requests waiting many turns; a channel's senders are
	// served in order. nil on PostgreSQL, whose writers do not queue.
	writers chan struct{}
}

// Path is the SQLite database file ("" on PostgreSQL).
func (d *DB) Path() string { return d.path }

// Options say which database to open.
type Options struct {
	// SQLitePath is the database file when PostgresDSN is empty.
	SQLitePath string
	// PostgresDSN selects PostgreSQL when set.
	PostgresDSN string
	// MaxConns bounds the PostgreSQL pool and the SQLite read pool.
	MaxConns int
}

// Open connects to the database and checks that it answers. It does not
// migrate; call Migrate.
func Open(ctx context.Context, o Options) (*DB, error) {
	if o.MaxConns < 1 {
		o.MaxConns = 8
	}
	var d *DB
	var err error
	if o.PostgresDSN != "" {
		d, err = openPostgres(o)
	} else {
		d, err = openSQLite(o)
	}
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := d.Ping(pctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to %s: %w", d.Engine, err)
	}
	return d, nil
}

func openPostgres(o Options) (*DB, error) {
	pool, err := sql.Open("pgx", o.PostgresDSN)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	pool.SetMaxOpenConns(o.MaxConns)
	pool.SetMaxIdleConns(o.MaxConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{Engine: Postgres, write: pool, read: pool}, nil
}

func openSQLite(o Options) (*DB, error) {
	if o.SQLitePath == "" {
		return nil, errors.New("open sqlite: no database path")
	}
	if dir := filepath.Dir(o.SQLitePath); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	// busy_timeout must come before journal_mode: switching to WAL itself
	// needs the lock and would fail at once while another process holds it.
	base := "file:" + o.SQLitePath + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_time_format=sqlite"
	// IMMEDIATE takes the write lock at BEGIN, so a transaction never fails
	// half-way when it upgrades from reading to writing.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(o.MaxConns)
	r.SetMaxIdleConns(o.MaxConns)
	return &DB{Engine: SQLite, write: w, read: r, path: o.SQLitePath, writers: make(chan struct{}, 1)}, nil
}

// Close closes every connection.
func (d *DB) Close() error {
	err := d.write.Close()
	if d.read != d.write {
		err = errors.Join(err, d.read.Close())
	}
	return err
}

// Ping checks that the database answers, on the write path (which on SQLite
// also proves the file is writable).
func (d *DB) Ping(ctx context.Context) error {
	var one int
	return d.write.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// ExecContext runs a statement outside a transaction on the write path.
func (d *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := d.queue(ctx); err != nil {
		return nil, err
	}
	defer d.unqueue()
	return d.write.ExecContext(ctx, q, args...)
}

// queue waits for the writer's turn on SQLite.
func (d *DB) queue(ctx context.Context) error {
	if d.writers == nil {
		return nil
	}
	select {
	case d.writers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *DB) unqueue() {
	if d.writers != nil {
		<-d.writers
	}
}

// QueryContext runs a read-only query on the read pool.
func (d *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.read.QueryContext(ctx, q, args...)
}

// QueryRowContext runs a read-only single-row query on the read pool.
func (d *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return d.read.QueryRowContext(ctx, q, args...)
}

// Tx runs fn in one write transaction: committed when fn returns nil, rolled
// back otherwise (also on panic, which is then re-raised).
func (d *DB) Tx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	if err := d.queue(ctx); err != nil {
		return err
	}
	defer d.unqueue()
	tx, err := d.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// ForUpdate is the row-locking suffix for a SELECT inside a transaction.
// SQLite needs none: its write transactions are already exclusive.
func (d *DB) ForUpdate() string {
	if d.Engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// IsUniqueViolation reports whether err is a unique or primary-key conflict.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Millis converts a time to the stored form: Unix milliseconds, UTC. Both
// engines store instants as BIGINT so that comparisons and ordering are the
// same SQL everywhere.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// FromMillis converts a stored instant back to a UTC time.
func FromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// Optimize keeps the query planner's statistics fresh. SQLite gathers none
// by itself, and without them it picks poor indexes for queue pages over
// millions of cases; so the first call on a database without statistics
// runs ANALYZE (sampled: about a second at ten million cases), later calls
// PRAGMA optimize, which re-analyses only tables that changed a lot.
// PostgreSQL's autovacuum keeps its own statistics; there it does nothing.
func (d *DB) Optimize(ctx context.Context) error {
	if d.Engine != SQLite {
		return nil
	}
	if err := d.queue(ctx); err != nil {
		return err
	}
	defer d.unqueue()
	var n int
	err := d.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'`).Scan(&n)
	if err != nil {
		return err
	}
	stmt := "PRAGMA optimize"
	if n == 0 {
		stmt = "ANALYZE"
	}
	if _, err := d.write.ExecContext(ctx, "PRAGMA analysis_limit = 1000"); err != nil {
		return err
	}
	_, err = d.write.ExecContext(ctx, stmt)
	return err
}
