package people_test

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/people"
)

// The import benchmark, run by scripts/bench-import.sh, which also times
// sqlite3's own .import of the same file for comparison:
//
//	GRIDHALL_BENCH_ROWS   rows of the generated register (default 1,000,000)
//	GRIDHALL_BENCH_CSV    the register to import; generated when unset
//	GRIDHALL_BENCH_CSV_OUT where TestWriteImportBenchCSV writes the register
const benchBuildings = 200

func benchRows(tb testing.TB) int {
	n := 1_000_000
	if s := os.Getenv("GRIDHALL_BENCH_ROWS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			tb.Fatalf("GRIDHALL_BENCH_ROWS=%q", s)
		}
	}
	return n
}

// writeBenchCSV writes the benchmark's register: the rows of writeRegister
// in the buildings benchWorld adds.
func writeBenchCSV(tb testing.TB, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	addrs := make([]string, benchBuildings)
	for i := range addrs {
		addrs[i] = benchAddress(i)
	}
	writeRegister(tb, bw, rows, addrs)
	if err := bw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// benchAddress is the address addBuildings gives building i.
func benchAddress(i int) string { return "中南二路" + strconv.Itoa(i+1) + "号" }

// TestWriteImportBenchCSV writes the benchmark's register to
// $GRIDHALL_BENCH_CSV_OUT, so that the script can time other tools on the
// same file. Without the variable it writes a small register to a temporary
// file, so that every test run checks the generator still writes a header
// and one line per resident.
func TestWriteImportBenchCSV(t *testing.T) {
	out, rows := os.Getenv("GRIDHALL_BENCH_CSV_OUT"), benchRows(t)
	if out == "" {
		out, rows = filepath.Join(t.TempDir(), "register.csv"), 100
	}
	writeBenchCSV(t, out, rows)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if lines := bytes.Count(b, []byte("\n")); lines != rows+1 {
		t.Fatalf("%s has %d lines, want a header and %d rows", out, lines, rows)
	}
}

// BenchmarkImport1M imports a register of a million residents (by default)
// into an empty SQLite registry with 200 buildings, then looks 10,000 of
// them up by identity number. It reports the rate of the validation pass
// alone (a dry run) and of the whole import, the largest heap in use seen
// during the import (sampled every 100 ms without forcing a collection, so
// garbage not yet collected counts too), and the lookup latencies. Run it
// once: -benchtime 1x.
func BenchmarkImport1M(b *testing.B) {
	rows := benchRows(b)
	path := os.Getenv("GRIDHALL_BENCH_CSV")
	if path == "" {
		path = filepath.Join(b.TempDir(), "register.csv")
		writeBenchCSV(b, path, rows)
	}
	for range b.N {
		b.StopTimer()
		d := dbtest.Open(b, db.SQLite)
		w := newImpWorld(b, d)
		addBuildings(b, w.terr, benchBuildings)
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		st, _ := f.Stat()
		runtime.GC()
		b.StartTimer()

		start := time.Now()
		rep, err := w.svc.Import(w.ctx, w.console, f, st.Size(), "register.csv", people.ImportOptions{DryRun: true})
		if err != nil || rep.Valid != rows {
			b.Fatalf("dry run: %v, %d of %d valid %v", err, rep.Valid, rows, problemLines(rep.Problems))
		}
		check := time.Since(start)

		peak := sampleHeap()
		start = time.Now()
		rep, err = w.svc.Import(w.ctx, w.console, f, st.Size(), "register.csv", people.ImportOptions{})
		took := time.Since(start)
		heap := peak()
		f.Close()
		if err != nil || rep.Imported != rows {
			b.Fatalf("import: %v, %d of %d imported", err, rep.Imported, rows)
		}
		b.StopTimer()

		lookups := make([]time.Duration, 10_000)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range lookups {
			n := rng.IntN(rows)
			t0 := time.Now()
			rs, err := w.svc.Search(w.ctx, w.console, people.Filter{Document: registerID(n)})
			lookups[i] = time.Since(t0)
			if err != nil || len(rs) != 1 {
				b.Fatalf("lookup of row %d: %v %d", n, err, len(rs))
			}
		}
		slices.Sort(lookups)
		us := func(q float64) float64 { return float64(lookups[int(q*float64(len(lookups)-1))].Microseconds()) }

		b.ReportMetric(float64(rows)/check.Seconds(), "check-rows/s")
		b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		b.ReportMetric(took.Seconds(), "import-s")
		b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MB")
		b.ReportMetric(us(0.50), "lookup-p50-us")
		b.ReportMetric(us(0.99), "lookup-p99-us")
		b.ReportMetric(float64(st.Size())/(1<<20), "file-MB")
	}
}

// sampleHeap samples HeapInuse every 100 ms until the returned function is
// called, which returns the largest value seen.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	read := func() {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		if m.HeapInuse > peak.Load() {
			peak.Store(m.HeapInuse)
		}
	}
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		wg.Wait()
		read()
		return peak.Load()
	}
}
