package geo

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/paulmach/orb/encoding/wkb"
)

// postgisPoints is how many of the benchmark points PostGIS is asked about.
const postgisPoints = 20_000

// BenchmarkPostGISContains is the yardstick for BenchmarkLocate: the same
// 50,000 grids in a PostGIS table with a GiST index, and the same points
// looked up one query at a time over one connection, as a database-backed
// locator would. It needs GRIDHALL_TEST_POSTGRES (a DSN such as
// postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable, see
// scripts/pg-cluster.sh) and the postgis extension; it skips without them.
// It works in a schema of its own and drops it afterwards.
func BenchmarkPostGISContains(b *testing.B) {
	dsn := os.Getenv("GRIDHALL_TEST_POSTGRES")
	if dsn == "" {
		b.Skip("GRIDHALL_TEST_POSTGRES is not set: no PostgreSQL to compare with (scripts/pg-cluster.sh starts one)")
	}
	ctx := context.Background()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Skipf("cannot connect to GRIDHALL_TEST_POSTGRES: %v", err)
	}
	b.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		b.Skipf("the postgis extension is not available (apt-get install postgresql-15-postgis-3): %v", err)
	}
	schema := fmt.Sprintf("geo_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	// The extension lives in public; the benchmark's tables in its schema.
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"SET search_path TO " + schema + ", public",
		"CREATE TABLE staging (code text, wkb bytea)",
		"CREATE TABLE grids (code text PRIMARY KEY, shape geometry(Polygon, 4326) NOT NULL)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Cleanup(func() {
		if _, err := conn.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			b.Errorf("dropping %s: %v", schema, err)
		}
	})

	fs, pts := benchData()
	pts = pts[:postgisPoints]
	start := time.Now()
	rows := make([][]any, len(fs))
	for k, f := range fs {
		data, err := wkb.Marshal(f.Shape[0])
		if err != nil {
			b.Fatal(err)
		}
		rows[k] = []any{f.Code, data}
	}
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{schema, "staging"}, []string{"code", "wkb"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		b.Fatalf("COPY: %v", err)
	}
	for _, q := range []string{
		"INSERT INTO grids SELECT code, ST_GeomFromWKB(wkb, 4326) FROM staging",
		"CREATE INDEX grids_shape ON grids USING gist (shape)",
		"ANALYZE grids",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Logf("loaded %d polygons and built the GiST index in %v", len(fs), time.Since(start).Round(time.Millisecond))

	stmt, err := conn.PrepareContext(ctx, "SELECT code FROM grids WHERE ST_Contains(shape, ST_SetSRID(ST_Point($1, $2), 4326)) LIMIT 1")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stmt.Close() })
	lookup := func(k int) (string, bool) {
		var code string
		err := stmt.QueryRowContext(ctx, pts[k][0], pts[k][1]).Scan(&code)
		if err == sql.ErrNoRows {
			return "", false
		}
		if err != nil {
			b.Fatal(err)
		}
		return code, true
	}
	// Both must give the same answers; random points never land exactly on
	// an edge, where ST_Contains and the edge rule would differ by design.
	ix := benchIndex()
	var differ []string
	for k := range 1000 {
		got, _ := lookup(k)
		if want, _ := ix.Locate(pts[k]); got != want {
			differ = append(differ, fmt.Sprintf("%v: PostGIS %q, Locate %q", pts[k], got, want))
		}
	}
	if len(differ) > 0 {
		b.Fatalf("PostGIS and Locate disagree on %d of 1000 points:\n%s", len(differ), strings.Join(differ, "\n"))
	}

	k := 0
	for b.Loop() {
		lookup(k)
		k = (k + 1) % len(pts)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}
