// Package dbtest gives each test a fresh, migrated, real database: an SQLite
// file in the test's temporary directory, and — when GRIDHALL_TEST_POSTGRES
// names a PostgreSQL server — a schema of its own on that server. When CI=true
// a missing PostgreSQL fails the test instead of skipping the engine, so the
// PostgreSQL tier can never silently disappear.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// PostgresEnv names the variable holding the DSN of the test server.
const PostgresEnv = "GRIDHALL_TEST_POSTGRES"

// Engines returns the engines to test on: SQLite always, PostgreSQL when
// configured. Under CI=true an unconfigured PostgreSQL is a test failure.
func Engines(t testing.TB) []db.Engine {
	t.Helper()
	if os.Getenv(PostgresEnv) != "" {
		return []db.Engine{db.SQLite, db.Postgres}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: the PostgreSQL tier must run in CI", PostgresEnv)
	}
	return []db.Engine{db.SQLite}
}

// Each runs fn as a subtest on a fresh migrated database of every engine.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range Engines(t) {
		t.Run(string(e), func(t *testing.T) { fn(t, Open(t, e)) })
	}
}

// Open returns a fresh migrated database of engine e, removed after the test.
func Open(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	d := OpenEmpty(t, e)
	if _, err := d.Migrate(context.Background(), time.Now()); err != nil {
		t.Fatalf("migrate %s: %v", e, err)
	}
	return d
}

// OpenEmpty returns a fresh database of engine e without migrations.
func OpenEmpty(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	o := Options(t, e)
	d, err := db.Open(context.Background(), o)
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// Options returns connection options for a fresh database of engine e; for
// PostgreSQL it creates a new schema and drops it after the test. Tests that
// start gridhall processes pass these to the binary.
func Options(t testing.TB, e db.Engine) db.Options {
	t.Helper()
	switch e {
	case db.SQLite:
		return db.Options{SQLitePath: t.TempDir() + "/gridhall.db", MaxConns: 4}
	case db.Postgres:
		return db.Options{PostgresDSN: PostgresSchema(t), MaxConns: 4}
	}
	t.Fatalf("unknown engine %q", e)
	return db.Options{}
}

// PostgresSchema creates an empty schema on the test server and returns a DSN
// whose search_path selects it. The schema is dropped after the test.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		t.Fatalf("%s is not set", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		a, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer a.Close()
		a.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
