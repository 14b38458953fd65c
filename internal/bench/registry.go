package bench

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// registryBuildings is how many buildings the generated register lives in.
const registryBuildings = 100

// registry imports a generated register of residents through the registry
// service (validation, sealing, blind indexes, households), beside
// sqlite3's own `.import` of the same file into a plain table, then looks
// residents up by identity number over HTTP.
func (r *runner) registry(ctx context.Context) error {
	rows := 100_000
	if r.o.Quick {
		rows = 2_000
	}
	// The registry is kept by community workers: the one whose community
	// holds the first report point imports into buildings there.
	pt := r.plan.Points[0]
	loc, err := r.a.Territory.Locate(ctx, pt[0], pt[1], geo.WGS84)
	if err != nil {
		return err
	}
	var actor auth.Actor
	token := ""
	for _, t := range r.plan.FieldTokens {
		a, err := r.a.Auth.AuthenticateToken(ctx, t)
		if err != nil {
			return err
		}
		if len(loc.Code) >= 12 && strings.HasSuffix(a.Scope, loc.Code[:12]) {
			actor, token = a, t
		}
	}
	if token == "" {
		return fmt.Errorf("no community worker of the load plan keeps %s", loc.Code)
	}
	// Buildings of its own, named for this run, so a second run on the same
	// database imports into new ones instead of colliding.
	tag := time.Now().Format("150405")
	var nb []territory.NewBuilding
	var addrs []string
	for i := range registryBuildings {
		a := fmt.Sprintf("基准路%s-%d号", tag, i+1)
		nb = append(nb, territory.NewBuilding{Name: fmt.Sprintf("基准%d栋", i+1), Address: a, Lng: pt[0], Lat: pt[1]})
		addrs = append(addrs, a)
	}
	if _, err := r.a.Territory.AddBuildings(ctx, auth.SystemActorAs("bench", auth.DistrictAdmin), nb); err != nil {
		return err
	}
	path := filepath.Join(r.o.TempDir, "bench-register-"+tag+".csv")
	ids, err := writeRegister(path, rows, addrs)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := r.a.People.Import(ctx, actor, f, st.Size(), filepath.Base(path), people.ImportOptions{ValidOnly: true})
	if err != nil {
		return err
	}
	took := time.Since(start)
	if rep.Imported == 0 {
		return fmt.Errorf("registry import wrote nothing: %d rows, %d problems (first: %+v)", rep.Rows, len(rep.Problems), rep.Problems)
	}
	rate := float64(rep.Imported) / took.Seconds()
	row := Row{Workload: fmt.Sprintf("registry import, %d rows (CSV)", rows), Figure: fmt.Sprintf("%.0f rows/s (%.1f s, %d imported)", rate, took.Seconds(), rep.Imported),
		Value: rate, Peer: "sqlite3 .import of the same CSV into a plain table", PeerFig: "not measured (no sqlite3 CLI)", Ratio: "—",
		Goal: "≥ 30 % of sqlite3 .import; 1,000,000 rows < 30 s", Met: met(rate >= 1_000_000/30.0)}
	if raw, err := r.sqliteImport(ctx, path, rows); err == nil {
		row.PeerFig = fmt.Sprintf("%.0f rows/s", raw)
		row.Ratio = ratio(rate, raw)
		row.Met = met(rate >= 0.3*raw && rate >= 1_000_000/30.0)
	} else if !isNotFound(err) {
		return err
	}
	r.add(row)

	// Lookup by identity number, over HTTP, one client.
	s, err := r.drive(ctx, 1, r.dur(10*time.Second), 0, http.StatusOK, func(i int) *http.Request {
		body, _ := json.Marshal(map[string]any{"document": ids[(i*7919)%len(ids)], "limit": 10})
		return r.req("POST", "/api/v1/residents/search", token, body)
	})
	if err != nil {
		return err
	}
	r.add(Row{Workload: "resident lookup by identity number (HTTP)", Figure: latency(s), Value: s.p(0.99), Peer: "goal p99",
		PeerFig: "5 ms", Ratio: ratio(5, s.p(0.99)), Goal: "p99 < 5 ms", Met: met(s.p(0.99) < 5)})
	return nil
}

type notFound struct{ error }

func isNotFound(err error) bool { _, ok := err.(notFound); return ok }

// sqliteImport times the sqlite3 shell importing the CSV into a new table
// of a new database file: the raw speed of getting those rows into SQLite.
func (r *runner) sqliteImport(ctx context.Context, csvPath string, rows int) (float64, error) {
	bin := r.o.SQLite3
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("sqlite3"); err != nil {
			return 0, notFound{err}
		}
	}
	dbPath := filepath.Join(r.o.TempDir, fmt.Sprintf("bench-sqlite3-%d.db", time.Now().UnixNano()))
	defer os.Remove(dbPath)
	cmd := exec.CommandContext(ctx, bin, dbPath)
	cmd.Stdin = strings.NewReader(".mode csv\n.import '" + strings.ReplaceAll(csvPath, "'", "''") + "' register\n")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("sqlite3 .import: %v: %s", err, out)
	}
	return float64(rows) / time.Since(start).Seconds(), nil
}

// writeRegister writes n valid residents in houses of three in the named
// buildings, in the registry's import columns, and returns their identity
// numbers. The identity numbers are of region 420106, born 1935–2016,
// sequence numbers from 700 up, so they do not collide with a generated
// data set's low sequence numbers.
func writeRegister(path string, n int, buildings []string) ([]string, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"姓名", "公民身份号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋地址", "单元", "门牌号", "楼层", "与户主关系", "入住日期", "标签", "备注"})
	rels := []string{"户主", "配偶", "子女"}
	ids := make([]string, 0, n)
	for i := range n {
		birth := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%30000)
		female := i%2 == 1
		id := people.GenerateIDNumber("420106", birth, female, 700+i/30000)
		ids = append(ids, id)
		house := i / 3
		gender := "男"
		if female {
			gender = "女"
		}
		w.Write([]string{fmt.Sprintf("基准居民%07d", i), id, gender, birth.Format("2006-01-02"), fmt.Sprintf("139%08d", i), "户籍",
			buildings[house%len(buildings)], fmt.Sprint(1 + house/len(buildings)%4), fmt.Sprintf("%d%02d", 1+house/len(buildings)/4%30, 1+house/len(buildings)/120),
			fmt.Sprint(1 + house/len(buildings)%30), rels[i%3], "2021-05-01", "", "基准测试"})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	return ids, f.Close()
}

// postgisRate loads the grids' boundaries into PostGIS (a schema of its
// own, dropped after), checks PostGIS and the locator agree on the first
// 200 points, and times ST_Contains through a GiST index over one
// connection for d.
func postgisRate(ctx context.Context, dsn string, grids []territory.Node, pts [][2]float64, d time.Duration, terr *territory.Service) (float64, error) {
	pdb, err := sql.Open("pgx", dsn)
	if err != nil {
		return 0, err
	}
	defer pdb.Close()
	conn, err := pdb.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("--postgis: %v", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "CREATE EXTENSION IF NOT EXISTS postgis"); err != nil {
		return 0, fmt.Errorf("--postgis: the postgis extension is not available (apt-get install postgresql-15-postgis-3): %v", err)
	}
	schema := fmt.Sprintf("gridhall_bench_%d", time.Now().UnixNano())
	defer conn.ExecContext(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"SET search_path TO " + schema + ", public",
		"CREATE TABLE staging (code text, wkb bytea)",
		"CREATE TABLE grids (code text PRIMARY KEY, shape geometry(MultiPolygon, 4326) NOT NULL)",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %v", q, err)
		}
	}
	rows := make([][]any, 0, len(grids))
	for _, g := range grids {
		data, err := wkb.Marshal(g.Boundary)
		if err != nil {
			return 0, err
		}
		rows = append(rows, []any{g.Code, data})
	}
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{schema, "staging"}, []string{"code", "wkb"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("COPY: %v", err)
	}
	for _, q := range []string{
		"INSERT INTO grids SELECT code, ST_Multi(ST_GeomFromWKB(wkb, 4326)) FROM staging",
		"CREATE INDEX grids_shape ON grids USING gist (shape)",
		"ANALYZE grids",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return 0, fmt.Errorf("%s: %v", q, err)
		}
	}
	stmt, err := conn.PrepareContext(ctx, "SELECT code FROM grids WHERE ST_Contains(shape, ST_SetSRID(ST_Point($1, $2), 4326)) LIMIT 1")
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	lookup := func(p [2]float64) (string, error) {
		var code string
		err := stmt.QueryRowContext(ctx, p[0], p[1]).Scan(&code)
		if err == sql.ErrNoRows {
			return "", nil
		}
		return code, err
	}
	// Both must give the same grid (the locator may go one level deeper,
	// to a micro-grid, which starts with its grid's code).
	for _, p := range pts[:200] {
		got, err := lookup(p)
		if err != nil {
			return 0, err
		}
		loc, err := terr.Locate(ctx, p[0], p[1], geo.WGS84)
		if err != nil {
			return 0, err
		}
		want := ""
		if loc.Inside && len(loc.Code) >= len(grids[0].Code) {
			want = loc.Code[:len(grids[0].Code)]
		}
		if got != want {
			return 0, fmt.Errorf("PostGIS and the locator disagree at %v: %q vs %q", p, got, want)
		}
	}
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for range 100 {
			if _, err := lookup(pts[n%len(pts)]); err != nil {
				return 0, err
			}
			n++
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
