package gen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/seal"
)

// Deps are what generation needs of an open installation.
type Deps struct {
	DB       *db.DB
	Audit    *audit.Log
	Keys     *seal.Keyring // seals residents' identity numbers; required
	Catalog  *catalog.Service
	Calendar *calendar.Service
}

// Options say what to generate.
type Options struct {
	Scale Scale
	Seed  uint64
	// Now is the end of the generated history; the same seed, scale and
	// Now give the same data.
	Now time.Time
	// Password is every generated account's password. Its argon2id hash is
	// computed once and shared: hashing each account would take hours.
	Password string
	// Progress receives a line per phase and every few seconds (nil: none).
	Progress io.Writer
}

// Summary says what Run wrote.
type Summary struct {
	Districts, Streets, Communities, Grids int
	Buildings, Accounts                    int
	Houses, Households, Residents          int
	Aged60                                 int
	Cases, Open, Events, Stages            int
	Rows                                   int64 // every row written
	Took                                   time.Duration
	Phases                                 []Phase
}

// Phase is how long one part of the run took.
type Phase struct {
	Name string
	Took time.Duration
	Rows int64
}

// ErrNotEmpty is returned by Run for a database that already holds data.
var ErrNotEmpty = errors.New("the database already holds data")

// bulkTables are the tables whose secondary indexes are dropped during the
// load and rebuilt after it.
var bulkTables = []string{"users", "user_scopes", "grid_staff", "department_members", "territory_nodes", "buildings",
	"houses", "households", "residents", "resident_tags", "cases", "case_events", "case_stages", "case_followers", "case_assists"}

// Run generates the data set into d, which must be freshly migrated: no
// accounts, territory, buildings, residents or cases (the catalogue,
// calendar and keys that opening an installation seeds are expected). It
// ends with one audit entry "data.generated" and fresh planner statistics.
func Run(ctx context.Context, d Deps, o Options) (Summary, error) {
	began := time.Now()
	var sum Summary
	if err := o.Scale.Validate(); err != nil {
		return sum, err
	}
	if d.Keys == nil {
		return sum, errors.New("residents' identity numbers are sealed: configure a master key (--master-key-file or GRIDHALL_MASTER_KEY)")
	}
	if o.Password == "" {
		return sum, errors.New("no password for the generated accounts")
	}
	if o.Now.IsZero() {
		return sum, errors.New("no end time (Now) for the generated history")
	}
	if err := checkEmpty(ctx, d.DB); err != nil {
		return sum, err
	}
	p := &progress{w: o.Progress, start: began}
	g, err := newGenerator(ctx, d, o, p)
	if err != nil {
		return sum, err
	}
	p.phase("preparing: dropping secondary indexes and case_facts triggers for the load")
	restore, err := SetAside(ctx, d.DB, bulkTables...)
	if err != nil {
		return sum, err
	}
	err = d.DB.WithBulkConn(ctx, func(c *sql.Conn) error { return g.load(c, restore) })
	if err != nil {
		return sum, err
	}
	if d.DB.Engine == db.Postgres {
		if err := resetSequences(ctx, d.DB); err != nil {
			return sum, err
		}
	}
	if err := d.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := d.Audit.Append(ctx, tx, o.Now, audit.Record{ActorName: "gen", ActorRole: string(auth.SystemAdmin),
			Action: "data.generated", ObjectType: "installation", Detail: map[string]any{
				"scale": o.Scale.Name, "grids": o.Scale.Grids, "residents": o.Scale.Residents, "cases": o.Scale.Cases,
				"years": o.Scale.Years, "seed": o.Seed, "now": o.Now.UTC().Format(time.RFC3339)}})
		return err
	}); err != nil {
		return sum, err
	}
	p.phase("planner statistics")
	t := time.Now()
	if d.DB.Engine == db.Postgres {
		if _, err := d.DB.ExecContext(ctx, "ANALYZE"); err != nil {
			return sum, err
		}
	} else if err := d.DB.Optimize(ctx); err != nil {
		return sum, err
	}
	g.sum.Phases = append(g.sum.Phases, Phase{Name: "statistics", Took: time.Since(t)})
	g.sum.Rows = p.rows.Load()
	g.sum.Took = time.Since(began)
	p.phase(fmt.Sprintf("done: %d rows in %s", g.sum.Rows, g.sum.Took.Round(time.Second)))
	return g.sum, nil
}

// checkEmpty refuses a database holding anything gen would write.
func checkEmpty(ctx context.Context, d *db.DB) error {
	var users, nodes, buildings, residents, cases int64
	err := d.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM territory_nodes),
		(SELECT COUNT(*) FROM buildings), (SELECT COUNT(*) FROM residents), (SELECT COUNT(*) FROM cases)`).
		Scan(&users, &nodes, &buildings, &residents, &cases)
	if err != nil {
		return err
	}
	if users+nodes+buildings+residents+cases > 0 {
		return fmt.Errorf("%w (%d accounts, %d territory nodes, %d buildings, %d residents, %d cases): gen writes only into an empty, freshly migrated database",
			ErrNotEmpty, users, nodes, buildings, residents, cases)
	}
	return nil
}

// resetSequences moves PostgreSQL's identity sequences past the ids the
// load gave explicitly, so that the next row the services insert gets a
// fresh id.
func resetSequences(ctx context.Context, d *db.DB) error {
	for _, t := range []string{"users", "territory_nodes", "buildings", "houses", "households", "residents", "cases", "case_events"} {
		if _, err := d.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), COALESCE((SELECT MAX(id) FROM `+t+`), 0) + 1, false)`); err != nil {
			return fmt.Errorf("sequence of %s: %w", t, err)
		}
	}
	return nil
}

// progress prints phases and, every five seconds, rows written and the rate.
type progress struct {
	w     io.Writer
	start time.Time
	rows  atomic.Int64
	last  atomic.Int64 // unix nanoseconds of the last line
	mark  atomic.Int64 // rows at the last line
	what  atomic.Pointer[string]
}

func (p *progress) phase(s string) {
	if p.w == nil {
		return
	}
	fmt.Fprintf(p.w, "gen: [%s] %s\n", fmtDur(time.Since(p.start)), s)
}

// set names what is being written, for the periodic lines.
func (p *progress) set(what string) { p.what.Store(&what) }

func (p *progress) add(n int) {
	total := p.rows.Add(int64(n))
	if p.w == nil {
		return
	}
	now := time.Now().UnixNano()
	last := p.last.Load()
	if last == 0 {
		p.last.CompareAndSwap(0, now)
		return
	}
	if now-last < int64(5*time.Second) || !p.last.CompareAndSwap(last, now) {
		return
	}
	prev := p.mark.Swap(total)
	rate := float64(total-prev) / (float64(now-last) / float64(time.Second))
	what := ""
	if s := p.what.Load(); s != nil {
		what = *s
	}
	fmt.Fprintf(p.w, "gen: [%s] %s: %d rows written, %.0f rows/s\n", fmtDur(time.Since(p.start)), what, total, rate)
}

func fmtDur(d time.Duration) string {
	d = d.Round(time.Second)
	return fmt.Sprintf("%d:%02d:%02d", int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60)
}
