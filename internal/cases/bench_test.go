package cases_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/gen"
)

// Benchmarks of the case store at city scale. The data are written by one
// INSERT … SELECT per million rows from a generated series, with the
// secondary indexes and the case_facts triggers set aside during the load
// and rebuilt after it by gen.SetAside, as `gridhall gen` loads a city (an
// index built from sorted data is far quicker than one grown row by row);
// case_facts is then filled by the same aggregate migration 0010 runs over
// existing cases. How long that takes is logged.

// benchCases is how many cases the queue benchmark stores: 200,000 by
// default, GRIDHALL_BENCH_CASES for the real figure (10,000,000).
func benchCases(b *testing.B, def int) int {
	if v := os.Getenv("GRIDHALL_BENCH_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("GRIDHALL_BENCH_CASES=%q: want a count of at least 1000", v)
		}
		return n
	}
	return def
}

// city is the generated territory: 10 districts × 10 streets × 5
// communities × 5 grids, 2,500 grids, with paths as GridHall writes them.
type city struct{ districts, streets, communities, grids int }

// districtCode is the code of district d (0-based): 420101, 420102, …
func districtCode(d int) string { return strconv.Itoa(420101 + d) }

func (c city) streetPath(d, s int) string {
	dc := districtCode(d)
	return fmt.Sprintf("%s/%s%03d", dc, dc, s+1)
}

func (c city) gridPath(d, s, m, g int) string {
	dc := districtCode(d)
	return fmt.Sprintf("%s/%s%03d/%s%03d%03d/%s%03d%03d%03d", dc, dc, s+1, dc, s+1, m+1, dc, s+1, m+1, g+1)
}

// categories the generated cases are about: local and national matters.
var benchCategories = []string{"90002", "93001", "93002", "93005", "92001", "06010", "06012", "06036", "06042", "07001",
	"09006", "09009", "09010", "09012", "01037", "01001", "06013", "06028", "08001", "91003"}

// departments the generated cases are dispatched to.
var benchDepartments = []string{"urban-mgmt", "sanitation", "water", "housing", "property", "community"}

// openShare is the part of the cases that are still open: the newest ones.
const openShare = 0.02

// generate stores n cases reported over [from, to), spread over the
// grids, ids in the order of reporting. The newest openShare of them are
// open, spread over the open states, with deadlines around now (a tenth
// past it, and marked overdue); the others closed (94%), rejected (3%) or
// cancelled (3%), with the facts of a handled case. Grid, category, state
// and department are drawn from a multiplicative hash of the id, so that
// they do not depend on one another.
func generate(b *testing.B, d *db.DB, grids []string, n int, from, to, now time.Time) {
	ctx := context.Background()
	began := time.Now()
	if _, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS bench_grids (k INTEGER PRIMARY KEY, path TEXT NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	restore, err := gen.SetAside(ctx, d, "cases")
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM bench_grids`); err != nil {
			return err
		}
		for k, g := range grids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bench_grids (k, path) VALUES ($1, $2)`, k, g); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	span := db.Millis(to) - db.Millis(from)
	openFrom := int64(float64(n) * (1 - openShare))
	cats := "'" + strings.Join(benchCategories, "") + "'"
	depts := make([]string, len(benchDepartments))
	for i, x := range benchDepartments {
		depts[i] = fmt.Sprintf("WHEN %d THEN '%s'", i, x)
	}
	deptCase := "CASE (h / 13) % " + strconv.Itoa(len(benchDepartments)) + " " + strings.Join(depts, " ") + " END"
	open := make([]string, len(cases.OpenStates))
	for i, st := range cases.OpenStates {
		open[i] = fmt.Sprintf("WHEN %d THEN '%s'", i, st)
	}
	stateCase := fmt.Sprintf(`CASE WHEN i > %d THEN CASE (h / 104729) %% %d %s END
		WHEN (h / 1000003) %% 100 < 94 THEN 'closed' WHEN (h / 1000003) %% 100 < 97 THEN 'rejected' ELSE 'cancelled' END`,
		openFrom, len(cases.OpenStates), strings.Join(open, " "))
	nowMs := db.Millis(now)
	overriding := ""
	if d.Engine == db.Postgres {
		// The ids follow the order of reporting, as the identity would.
		overriding = "OVERRIDING SYSTEM VALUE"
	}
	const chunk = 1_000_000
	for lo := 1; lo <= n; lo += chunk {
		hi := min(n, lo+chunk-1)
		series := seriesSQL(d.Engine, lo, hi)
		// The columns of each row, computed from i.
		q := `INSERT INTO cases (id, number, category_kind, category_code, urgency, description, lng, lat, grid_path, channel,
			reporter_role, state, assignee_kind, assignee, stage, stage_started_at, stage_due_at, overdue, timer_at,
			created_at, updated_at, registered_at, dispatched_at, handled_at, handled_on_time, checked_at, closed_at,
			closed_on_time, reworks, rating) ` + overriding + `
		SELECT i, 'B' || i, 'matter', substr(` + cats + `, CAST(1 + 5 * ((h / 7919) % ` + strconv.Itoa(len(benchCategories)) + `) AS INTEGER), 5), 'normal',
			'路灯不亮，晚上很黑', 114.3 + (i % 1000) * 0.00001, 30.54 + (i % 997) * 0.00001,
			(SELECT path FROM bench_grids WHERE k = h % ` + strconv.Itoa(len(grids)) + `),
			CASE i % 4 WHEN 0 THEN 'web' WHEN 1 THEN 'patrol' WHEN 2 THEN 'hotline' ELSE 'api' END, 'resident', st,
			CASE WHEN st IN ('dispatched', 'handling', 'handled', 'checked', 'closed', 'suspended') THEN 'department' ELSE '' END,
			CASE WHEN st IN ('dispatched', 'handling', 'handled', 'checked', 'closed', 'suspended') THEN ` + deptCase + ` ELSE '' END,
			CASE st WHEN 'reported' THEN 'verify' WHEN 'verified' THEN 'register' WHEN 'accepted' THEN 'register'
				WHEN 'registered' THEN 'dispatch' WHEN 'dispatched' THEN 'sign' WHEN 'handling' THEN 'handle'
				WHEN 'suspended' THEN 'handle' WHEN 'handled' THEN 'check' WHEN 'checked' THEN 'close' ELSE '' END,
			CASE WHEN open THEN due - 14400000 END,
			CASE WHEN open THEN due END,
			open AND due < ` + strconv.FormatInt(nowMs, 10) + `,
			CASE WHEN open AND st <> 'suspended' THEN due END,
			created, created,
			CASE WHEN st IN ('registered', 'dispatched', 'handling', 'handled', 'checked', 'closed', 'suspended') OR (st = 'cancelled' AND i % 2 = 0) THEN created + 3600000 END,
			CASE WHEN st IN ('dispatched', 'handling', 'handled', 'checked', 'closed', 'suspended') THEN created + 7200000 END,
			CASE WHEN st IN ('handled', 'checked', 'closed') THEN created + 86400000 END,
			CASE WHEN st IN ('handled', 'checked', 'closed') THEN i % 10 <> 0 END,
			CASE WHEN st IN ('checked', 'closed') THEN created + 90000000 END,
			CASE WHEN st = 'closed' THEN created + 93600000 END,
			CASE WHEN st = 'closed' THEN i % 8 <> 0 END,
			CASE WHEN i % 20 = 0 THEN 1 ELSE 0 END,
			CASE WHEN st = 'closed' AND i % 3 <> 0 THEN CASE WHEN i % 20 = 1 THEN 3 WHEN i % 7 = 2 THEN 2 ELSE 1 END ELSE 0 END
		FROM (SELECT i, h, st, st NOT IN ('closed', 'rejected', 'cancelled') AS open,
				` + strconv.FormatInt(db.Millis(from), 10) + ` + i * ` + strconv.FormatInt(span, 10) + ` / ` + strconv.Itoa(n+1) + ` AS created,
				` + strconv.FormatInt(nowMs, 10) + ` + ((h / 977) % 1000 - 100) * 432000 AS due
			FROM (SELECT i, h, ` + stateCase + ` AS st FROM (SELECT i, (i * 2654435761) % 4294967296 AS h FROM ` + series + `) x) s) r`
		if _, err := d.ExecContext(ctx, q); err != nil {
			b.Fatalf("generate cases %d–%d: %v", lo, hi, err)
		}
	}
	if d.Engine == db.Postgres {
		if _, err := d.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('cases', 'id'), $1)`, n); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("stored %d cases in %s", n, time.Since(began).Round(time.Second))
	rebuilt := time.Now()
	if err := restore(ctx, d); err != nil {
		b.Fatal(err)
	}
	if d.Engine == db.Postgres {
		if _, err := d.ExecContext(ctx, "ANALYZE cases"); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("rebuilt indexes, triggers and case_facts in %s (%s in all)", time.Since(rebuilt).Round(time.Second), time.Since(began).Round(time.Second))
}

// seriesSQL is a FROM item of the integers lo…hi in a column i.
func seriesSQL(e db.Engine, lo, hi int) string {
	if e == db.Postgres {
		return fmt.Sprintf("generate_series(%d, %d) AS g(i)", lo, hi)
	}
	return fmt.Sprintf("(WITH RECURSIVE n(i) AS (SELECT %d UNION ALL SELECT i + 1 FROM n WHERE i < %d) SELECT i FROM n) AS g", lo, hi)
}

// benchNow is when the benchmarks look at the data: a Thursday afternoon.
var benchNow = time.Date(2026, 11, 19, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))

// BenchmarkQueuePage lists the first page (50 cases) of the usual queues,
// each filtered and sorted as the workbench shows it, over a city of 2,500
// grids holding GRIDHALL_BENCH_CASES cases (default 200,000) reported over
// five years, 2% of them open. Reported: p50 and p99 of one List call, in
// milliseconds, through the service (permission, scope, SQL, scanning,
// lights). The pages run twice: on the database as loaded, without
// statistics ("no-statistics"), and after `PRAGMA analysis_limit=1000;
// ANALYZE`, the sampled statistics SQLite's query planner chooses indexes
// by ("statistics"; the time it took is logged).
func BenchmarkQueuePage(b *testing.B) {
	n := benchCases(b, 200_000)
	d := dbtest.Open(b, db.SQLite)
	s := node(b, d, clock.NewFake(benchNow))
	if _, err := s.cat.Seed(s.ctx); err != nil {
		b.Fatal(err)
	}
	if err := s.cal.Seed(s.ctx); err != nil {
		b.Fatal(err)
	}
	c := city{districts: 10, streets: 10, communities: 5, grids: 5}
	var grids []string
	for di := range c.districts {
		for si := range c.streets {
			for m := range c.communities {
				for g := range c.grids {
					grids = append(grids, c.gridPath(di, si, m, g))
				}
			}
		}
	}
	generate(b, d, grids, n, benchNow.AddDate(-5, 0, 0), benchNow, benchNow)
	console := auth.SystemActor("bench")
	u, err := s.auth.CreateUser(s.ctx, console, auth.NewUser{Username: "urban1", Password: "correct horse battery",
		Role: auth.DepartmentHandler, Scope: districtCode(3)})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.cat.AddMember(s.ctx, console, "urban-mgmt", u.ID); err != nil {
		b.Fatal(err)
	}
	dept, err := s.auth.ActorOf(s.ctx, u.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("no-statistics", func(b *testing.B) { queuePages(b, s, c, dept) })

	began := time.Now()
	if _, err := d.ExecContext(s.ctx, "PRAGMA analysis_limit=1000; ANALYZE"); err != nil {
		b.Fatal(err)
	}
	b.Logf("ANALYZE (analysis_limit=1000) took %s", time.Since(began).Round(time.Millisecond))
	// Connections read the statistics when they open.
	d2, err := db.Open(s.ctx, db.Options{SQLitePath: d.Path(), MaxConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d2.Close() })
	b.Run("statistics", func(b *testing.B) { queuePages(b, node(b, d2, clock.NewFake(benchNow)), c, dept) })
}

// queuePages times the first page of each queue on the generated city;
// dept is a handler of the urban-management department.
func queuePages(b *testing.B, s *stack, c city, dept auth.Actor) {
	street := auth.Actor{UserID: 90001, Username: "street", Role: auth.StreetStaff, Scope: c.streetPath(3, 4)}
	worker := auth.Actor{UserID: 90002, Username: "gw", Role: auth.GridWorker, Scope: c.streetPath(3, 4),
		Scopes: []string{c.gridPath(3, 4, 0, 0), c.gridPath(3, 4, 0, 1)}}
	district := auth.Actor{UserID: 90003, Username: "district", Role: auth.DistrictAdmin, Scope: districtCode(3)}
	grid := auth.ScopeCode(c.gridPath(3, 4, 2, 3))
	pages := []struct {
		name  string
		actor auth.Actor
		f     cases.Filter
	}{
		{"street-dispatch", street, cases.Filter{Queue: cases.QDispatch}},
		{"street-dispatch-category", street, cases.Filter{Queue: cases.QDispatch, Category: "M06010"}},
		{"street-all-by-deadline", street, cases.Filter{Queue: cases.QAll, Sort: "due"}},
		{"street-all-grid-by-deadline", street, cases.Filter{Queue: cases.QAll, Grid: grid, Sort: "due"}},
		{"street-all-newest-grid", street, cases.Filter{Queue: cases.QAll, Grid: grid}},
		{"grid-worker-verify", worker, cases.Filter{Queue: cases.QVerify}},
		{"department-handle", dept, cases.Filter{Queue: cases.QHandle}},
		{"department-handle-page-2", dept, cases.Filter{Queue: cases.QHandle}},
		{"district-overdue", district, cases.Filter{Queue: cases.QOverdue}},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			f := p.f
			f.Limit = 50
			first, err := s.svc.List(s.ctx, p.actor, f)
			if err != nil {
				b.Fatal(err)
			}
			if strings.HasSuffix(p.name, "page-2") {
				if first.Next == "" {
					b.Fatal("no second page")
				}
				f.After = first.Next
			}
			lat := make([]time.Duration, 0, b.N)
			items := 0
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				p, err := s.svc.List(s.ctx, p.actor, f)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t0))
				items = len(p.Items)
			}
			b.StopTimer()
			reportLatency(b, lat)
			b.ReportMetric(float64(items), "items")
		})
	}
}

// reportLatency reports the p50 and p99 of lat in milliseconds.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
}

// BenchmarkFigures counts a street's figures over a year in which
// GRIDHALL_BENCH_FIGURES cases (default 100,000; the goal is stated for
// 1,000,000) were reported in its 20 grids: "summary" is cases.Figures
// (case_facts for the whole days, the cases for the part-days at the
// ends); "counting-cases" is the same counts over the cases table, as
// Figures did before case_facts, for comparison.
func BenchmarkFigures(b *testing.B) {
	n := 100_000
	if v := os.Getenv("GRIDHALL_BENCH_FIGURES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1000 {
			b.Fatalf("GRIDHALL_BENCH_FIGURES=%q: want a count of at least 1000", v)
		}
	}
	for _, e := range dbtest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			s := node(b, d, clock.NewFake(benchNow))
			var grids []string
			for m := range 4 {
				for g := range 5 {
					grids = append(grids, fmt.Sprintf("420106/420106001/420106001%03d/420106001%03d%03d", m+1, m+1, g+1))
				}
			}
			// Another street's cases share the table.
			for g := range 20 {
				grids = append(grids, fmt.Sprintf("420106/420106002/420106002001/420106002001%03d", g+1))
			}
			from := benchNow.AddDate(-1, 0, 0)
			generate(b, d, grids, 2*n, from, benchNow, benchNow)
			street := auth.Actor{UserID: 90001, Username: "street", Role: auth.StreetStaff, Scope: "420106/420106001"}
			q := cases.FiguresQuery{Territory: "420106001", From: from, To: benchNow}
			b.Run("summary", func(b *testing.B) {
				f, err := s.svc.Figures(s.ctx, street, q)
				if err != nil || f.Reported < n*9/10 || f.Reported > n*11/10 {
					b.Fatalf("figures %+v (%v), want about %d reported", f, err, n)
				}
				lat := make([]time.Duration, 0, b.N)
				b.ResetTimer()
				for range b.N {
					t0 := time.Now()
					if _, err := s.svc.Figures(s.ctx, street, q); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				b.StopTimer()
				reportLatency(b, lat)
			})
			b.Run("counting-cases", func(b *testing.B) {
				lat := make([]time.Duration, 0, b.N)
				for range b.N {
					t0 := time.Now()
					var reported, closed int
					if err := d.QueryRowContext(s.ctx, `SELECT COUNT(*), COUNT(closed_at), COALESCE(SUM(CASE WHEN overdue AND handled_at IS NULL
						AND state NOT IN ('rejected', 'cancelled', 'closed') THEN 1 ELSE 0 END), 0),
						COALESCE(SUM(CASE WHEN rating = 1 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN reworks > 0 THEN 1 ELSE 0 END), 0),
						COALESCE(SUM(CASE WHEN handled_on_time THEN 1 ELSE 0 END), 0)
						FROM cases WHERE grid_path >= $1 AND grid_path < $2 AND created_at >= $3 AND created_at < $4`,
						"420106/420106001/", "420106/4201060010", db.Millis(from), db.Millis(benchNow)).Scan(&reported, &closed,
						new(int), new(int), new(int), new(int)); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				reportLatency(b, lat)
			})
		})
	}
}
