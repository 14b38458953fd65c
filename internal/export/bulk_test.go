package export

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/territory"
)

// bulkCases inserts n cases straight into the table, spread over the demo
// grids, each with a long description and the same sealed contact: a large
// register made in seconds, not through the workflow, which an export reads
// as it reads any other.
func bulkCases(t testing.TB, s *stack, n int) {
	t.Helper()
	c := s.report(t, s.buildingIn(t, communityY), dispute, "批量导出的样本案件", zhang, false)
	var sealed string
	if err := s.d.QueryRowContext(s.ctx, `SELECT reporter_contact FROM cases WHERE id = $1`, c.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	bs, err := s.terr.Buildings(s.ctx, auth.SystemActorAs("test", auth.DistrictAdmin), territory.BuildingFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var grids []territory.Building
	for _, b := range bs {
		if !seen[b.GridPath] {
			seen[b.GridPath] = true
			grids = append(grids, b)
		}
	}
	var values []string
	for i, b := range grids {
		values = append(values, "("+strconv.Itoa(i)+", '"+b.GridPath+"', "+strconv.FormatFloat(b.Lng, 'f', -1, 64)+", "+
			strconv.FormatFloat(b.Lat, 'f', -1, 64)+")")
	}
	desc := strings.Repeat("楼道堆放杂物影响通行，", 10)
	at := start.UnixMilli()
	const chunk = 50_000
	for from := 1; from <= n; from += chunk {
		to := min(from+chunk-1, n)
		_, err := s.d.ExecContext(s.ctx, `INSERT INTO cases (number, category_kind, category_code, urgency, description, address,
				lng, lat, grid_path, channel, reporter_contact, state, created_at, updated_at)
			WITH RECURSIVE seq(n) AS (SELECT `+strconv.Itoa(from)+` UNION ALL SELECT n + 1 FROM seq WHERE n < `+strconv.Itoa(to)+`),
				g(i, path, lng, lat) AS (VALUES `+strings.Join(values, ", ")+`)
			SELECT 'B' || CAST(seq.n AS TEXT), 'matter', '90002', 'normal', $1 || CAST(seq.n AS TEXT), '中南一路' || CAST(seq.n % 300 AS TEXT) || '号',
				g.lng, g.lat, g.path, 'web', $2, 'reported', `+strconv.FormatInt(at, 10)+` + seq.n, `+strconv.FormatInt(at, 10)+` + seq.n
			FROM seq JOIN g ON g.i = seq.n % `+strconv.Itoa(len(grids)), desc, sealed)
		if err != nil {
			t.Fatalf("bulk insert: %v", err)
		}
	}
	// A register loaded at once has no planner statistics yet; a running
	// installation has them (autovacuum on PostgreSQL, the hourly Optimize
	// on SQLite). Without them PostgreSQL guesses that a territory range
	// selects few rows and sorts every batch instead of reading by id.
	if s.d.Engine == db.Postgres {
		if _, err := s.d.ExecContext(s.ctx, "ANALYZE cases"); err != nil {
			t.Fatal(err)
		}
	} else if err := s.d.Optimize(s.ctx); err != nil {
		t.Fatal(err)
	}
}

// memoryOf runs fn while sampling the heap, and returns by how much the
// heap in use grew at its peak and how much fn allocated in all.
func memoryOf(fn func()) (peakGrowth, allocated uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				peak = max(peak, m.HeapInuse)
			}
		}
	})
	fn()
	close(stop)
	wg.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	peak = max(peak, after.HeapInuse)
	return peak - before.HeapInuse, after.TotalAlloc - before.TotalAlloc
}

// exportInBounds exports n bulk cases as CSV through the worker and checks
// the row count and that the heap grew by less than maxGrowth at its peak,
// returning the file's size.
func exportInBounds(t *testing.T, d *db.DB, n int, maxGrowth uint64) int64 {
	cfg := DefaultConfig()
	cfg.SyncLimit = 0
	s := newStack(t, d, cfg)
	bulkCases(t, s, n)
	district := s.as(t, "district")
	j, err := s.svc.Create(s.ctx, district, Request{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	var workErr error
	growth, allocated := memoryOf(func() { _, workErr = s.svc.Work(s.ctx) })
	if workErr != nil {
		t.Fatal(workErr)
	}
	j, err = s.svc.Get(s.ctx, district, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != Ready || j.Rows != int64(n)+1 { // the bulk rows and the sample case
		t.Fatalf("export: %s with %d rows (%s), want ready with %d", j.State, j.Rows, j.Error, n+1)
	}
	st, err := os.Stat(filepath.Join(s.dir, j.File))
	if err != nil || st.Size() != j.Bytes {
		t.Fatalf("file: %v, %d bytes on disk, %d recorded", err, st.Size(), j.Bytes)
	}
	t.Logf("%d rows, %d MiB file; heap peak growth %.1f MiB; %.0f bytes allocated per row",
		j.Rows, j.Bytes>>20, float64(growth)/(1<<20), float64(allocated)/float64(j.Rows))
	if growth > maxGrowth {
		t.Errorf("the heap grew by %d MiB at its peak, over the bound of %d MiB: the export holds rows it should stream",
			growth>>20, maxGrowth>>20)
	}
	return j.Bytes
}

// A smaller register for the race detector's pass: the same path, a bound
// that only a held set would break.
func TestTwentyThousandCaseExportStreams(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		exportInBounds(t, d, 20_000, 32<<20)
	})
}

// BenchmarkExportCSV measures a CSV export of 20,000 cases from SQLite,
// straight to a discarding writer: rows per second, bytes and allocations
// per row.
func BenchmarkExportCSV(b *testing.B) {
	benchmarkExport(b, CSV)
}

// BenchmarkExportXLSX is BenchmarkExportCSV writing a workbook.
func BenchmarkExportXLSX(b *testing.B) {
	benchmarkExport(b, XLSX)
}

// BenchmarkExportGeoJSON is BenchmarkExportCSV writing GeoJSON.
func BenchmarkExportGeoJSON(b *testing.B) {
	benchmarkExport(b, GeoJSON)
}

func benchmarkExport(b *testing.B, f Format) {
	const n = 20_000
	s := newStack(b, dbtest.Open(b, db.SQLite), DefaultConfig())
	bulkCases(b, s, n)
	console := auth.SystemActorAs("bench", auth.DistrictAdmin)
	var rows int
	size := &counter{}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for b.Loop() {
		var err error
		if rows, err = s.svc.Write(s.ctx, console, Request{Format: f}, io.MultiWriter(io.Discard, size)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(size.n)/total, "bytes/row")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/total, "allocs/row")
}
