package gen

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/territory"
)

// generator holds what the whole run shares: the territory tree, the ids
// of the accounts cases are handled by, and the catalogue. Everything in it
// grows with the number of grids, never with residents or cases.
type generator struct {
	ctx   context.Context
	d     Deps
	o     Options
	p     *progress
	l     *layout
	sum   Summary
	hash  string // the shared password hash
	epoch time.Time
	// Accounts, by position in their level.
	districtAdmin []int64
	deptHandler   [][]int64 // [district][department]
	centre        []int64   // [street]: its dispatch centre
	commStaff     [][2]int64
	resident      []int64 // [community]: a resident's account that reports
	worker        []int64 // [grid]
	departments   []string
	// Buildings: the first id of each grid's and community's buildings.
	gridBuildings []int64 // len grids+1
	commBuildings []int64 // [community]
	// The case mix.
	cats     []*catInfo
	catCum   []float64
	cals     []*calendar.Calendar // [district]
	nextUser int64
	// gridNodeBase+1+i is the id of grid i's node: the boundary version a
	// case routed into it records.
	gridNodeBase int64
}

// newGenerator lays out the territory and reads the catalogue and the
// calendars.
func newGenerator(ctx context.Context, d Deps, o Options, p *progress) (*generator, error) {
	g := &generator{ctx: ctx, d: d, o: o, p: p, l: newLayout(o.Scale)}
	g.epoch = o.Now.AddDate(-o.Scale.Years, 0, -30)
	g.hash = auth.HashPassword(o.Password, auth.DefaultArgon2)
	depts, err := d.Catalog.Departments(ctx)
	if err != nil {
		return nil, err
	}
	for _, dp := range depts {
		if dp.Active {
			g.departments = append(g.departments, dp.Code)
		}
	}
	slices.Sort(g.departments)
	if len(g.departments) == 0 {
		return nil, fmt.Errorf("the catalogue has no departments")
	}
	if err := g.loadCategories(); err != nil {
		return nil, err
	}
	for _, n := range g.l.levels[territory.District] {
		c, err := d.Calendar.For(ctx, n.code)
		if err != nil {
			return nil, fmt.Errorf("calendar of %s: %w", n.code, err)
		}
		g.cals = append(g.cals, c)
	}
	return g, nil
}

// load writes everything on one connection and then rebuilds what
// SetAside set aside (restore). SQLite gets the settings of a bulk load for
// the duration — no journal and no fsync, since a failed run is thrown away
// and every page is then written once; no foreign-key lookups per row; a
// large page cache; two sorter threads for building the indexes — and its
// usual settings back after it.
func (g *generator) load(c *sql.Conn, restore func(context.Context, db.Querier) error) error {
	ctx := g.ctx
	exec := func(q string) error {
		_, err := c.ExecContext(ctx, q)
		if err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		return nil
	}
	if g.d.DB.Engine == db.SQLite {
		for _, q := range []string{"PRAGMA foreign_keys = OFF", "PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF",
			"PRAGMA cache_size = -262144", "PRAGMA temp_store = MEMORY", "PRAGMA threads = 2"} {
			if err := exec(q); err != nil {
				return err
			}
		}
		var mode string
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return err
		}
		if mode != "off" {
			return fmt.Errorf("the database is still in journal mode %q: another connection has it open", mode)
		}
		defer func() {
			for _, q := range []string{"PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
				"PRAGMA cache_size = -2000", "PRAGMA temp_store = DEFAULT", "PRAGMA threads = 0"} {
				_, _ = c.ExecContext(context.Background(), q)
			}
		}()
		if err := exec("BEGIN"); err != nil {
			return err
		}
	} else if err := exec("SET synchronous_commit = off"); err != nil {
		return err
	}
	l := newLoader(ctx, g.d.DB.Engine, c, g.p.add)
	err := g.write(l)
	if cerr := l.close(); err == nil {
		err = cerr
	}
	if err != nil {
		if g.d.DB.Engine == db.SQLite {
			_, _ = c.ExecContext(context.Background(), "ROLLBACK")
		}
		return err
	}
	if g.d.DB.Engine == db.SQLite {
		if err := exec("COMMIT"); err != nil {
			return err
		}
		// Sorting index entries in memory would take gigabytes at city
		// scale; temporary files hold them instead.
		if err := exec("PRAGMA temp_store = FILE"); err != nil {
			return err
		}
	}
	g.p.phase("rebuilding indexes, case_facts and triggers")
	t := time.Now()
	if err := restore(g.ctx, c); err != nil {
		return fmt.Errorf("rebuild: %w", err)
	}
	g.sum.Phases = append(g.sum.Phases, Phase{Name: "indexes, case_facts", Took: time.Since(t)})
	return nil
}

// write generates the territory, the accounts, the registry and the cases.
func (g *generator) write(l *loader) error {
	steps := []struct {
		name string
		fn   func(*loader) error
	}{
		{"territory and accounts", g.writeWorld},
		{"buildings, houses, households and residents", g.writePeople},
		{"cases, timelines and stages", g.writeCases},
	}
	for _, s := range steps {
		g.p.phase("writing " + s.name)
		g.p.set(s.name)
		t, r := time.Now(), g.p.rows.Load()
		if err := s.fn(l); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if err := l.flush(); err != nil {
			return err
		}
		// The writer may still hold the last batches: wait for it so the
		// phase's time is its own.
		if err := l.exec("SELECT 1"); err != nil {
			return err
		}
		g.sum.Phases = append(g.sum.Phases, Phase{Name: s.name, Took: time.Since(t), Rows: g.p.rows.Load() - r})
	}
	return nil
}

var (
	surnames    = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡"}
	givenMale   = []string{"伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "斌", "建国", "建华", "志强", "海涛", "国庆", "文博", "子轩", "浩然", "宇航", "俊杰", "家豪", "德华", "振华", "卫东"}
	givenFemale = []string{"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂兰", "玉兰", "淑珍", "美玲", "晓燕", "雨涵", "欣怡", "梓涵", "诗琪", "春梅", "雪梅", "丽华", "凤英", "金凤", "慧敏"}
)

func personName(rng *rand.Rand, female bool) string {
	given := givenMale
	if female {
		given = givenFemale
	}
	return surnames[rng.IntN(len(surnames))] + given[rng.IntN(len(given))]
}

// rngFor is the random source of one thing: stream tells the kind of
// thing (grids, cases, …), n which one. Drawing from a source of its own
// makes each row independent of how many draws came before it.
func (g *generator) rngFor(stream, n uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.o.Seed, stream<<48|n))
}

// Random streams.
const (
	streamUsers = iota + 1
	streamGrids
	streamBuildings
	streamDays
	streamCases
)

// writeWorld writes the territory tree, the accounts with their scopes,
// grid duties and departments, and bumps the territory version.
func (g *generator) writeWorld(l *loader) error {
	epoch := db.Millis(g.epoch)
	nodes, err := l.table("territory_nodes", "id", "code", "path", "parent_code", "level", "name_zh", "name_en", "boundary",
		"min_lng", "min_lat", "max_lng", "max_lat", "population", "households", "valid_from")
	if err != nil {
		return err
	}
	id := int64(0)
	for lv := territory.District; lv <= territory.Grid; lv++ {
		if lv == territory.Grid {
			g.gridNodeBase = id
		}
		for _, n := range g.l.levels[lv] {
			id++
			b := n.bound
			if err := nodes.add(id, n.code, n.path, territory.ParentCode(n.code), int(lv), n.nameZH, n.nameEN,
				territory.EncodeBoundary(rect(b)), b.Min[0], b.Min[1], b.Max[0], b.Max[1], int64(0), int64(0), epoch); err != nil {
				return err
			}
		}
	}
	g.sum.Districts, g.sum.Streets = len(g.l.levels[territory.District]), len(g.l.levels[territory.Street])
	g.sum.Communities, g.sum.Grids = len(g.l.levels[territory.Community]), len(g.l.levels[territory.Grid])

	users, err := l.table("users", "id", "username", "display_name", "password_hash", "role", "scope_path", "locale",
		"disabled", "must_change_password", "created_at", "updated_at", "password_changed_at")
	if err != nil {
		return err
	}
	scopes, err := l.table("user_scopes", "user_id", "scope_path")
	if err != nil {
		return err
	}
	staff, err := l.table("grid_staff", "grid_code", "user_id", "duty", "assigned_at")
	if err != nil {
		return err
	}
	members, err := l.table("department_members", "department_code", "user_id", "added_at")
	if err != nil {
		return err
	}
	rng := g.rngFor(streamUsers, 0)
	user := func(name, display string, role auth.Role, scope string) (int64, error) {
		g.nextUser++
		return g.nextUser, users.add(g.nextUser, name, display, g.hash, string(role), scope, "", false, false, epoch, epoch, epoch)
	}
	name := func() string { return personName(rng, rng.IntN(2) == 0) }
	if _, err := user("admin", "系统管理员", auth.SystemAdmin, ""); err != nil {
		return err
	}
	if _, err := user("auditor", "审计员", auth.Auditor, ""); err != nil {
		return err
	}
	for _, n := range g.l.levels[territory.District] {
		uid, err := user("d"+n.code, n.nameZH+"网格中心", auth.DistrictAdmin, n.path)
		if err != nil {
			return err
		}
		g.districtAdmin = append(g.districtAdmin, uid)
		var handlers []int64
		for _, dp := range g.departments {
			uid, err := user(dp+"-"+n.code, name(), auth.DepartmentHandler, n.path)
			if err != nil {
				return err
			}
			if err := members.add(dp, uid, epoch); err != nil {
				return err
			}
			handlers = append(handlers, uid)
		}
		g.deptHandler = append(g.deptHandler, handlers)
	}
	for _, n := range g.l.levels[territory.Street] {
		uid, err := user("s"+n.code, name(), auth.StreetStaff, n.path)
		if err != nil {
			return err
		}
		if _, err := user("s"+n.code+"-2", name(), auth.StreetStaff, n.path); err != nil {
			return err
		}
		g.centre = append(g.centre, uid)
	}
	for _, n := range g.l.levels[territory.Community] {
		var cs [2]int64
		for k := range cs {
			if cs[k], err = user(fmt.Sprintf("c%s-%d", n.code, k+1), name(), auth.CommunityStaff, n.path); err != nil {
				return err
			}
		}
		g.commStaff = append(g.commStaff, cs)
		uid, err := user("r"+n.code, name(), auth.Resident, "")
		if err != nil {
			return err
		}
		g.resident = append(g.resident, uid)
	}
	for gi, n := range g.l.levels[territory.Grid] {
		comm := g.l.levels[territory.Community][n.parent]
		uid, err := user("g"+n.code, name(), auth.GridWorker, comm.path)
		if err != nil {
			return err
		}
		g.worker = append(g.worker, uid)
		// A grid worker acts in their grid; the grid's leader is one of
		// the community's two staff.
		if err := scopes.add(uid, n.path); err != nil {
			return err
		}
		if err := staff.add(n.code, uid, "worker", epoch); err != nil {
			return err
		}
		if err := staff.add(n.code, g.commStaff[n.parent][gi%2], "leader", epoch); err != nil {
			return err
		}
	}
	g.sum.Accounts = int(g.nextUser)
	return l.exec(fmt.Sprintf("UPDATE territory_version SET version = 1, changed_at = %d WHERE id = 1", epoch))
}

// districtOf is the district index of a grid.
func (g *generator) districtOf(grid int) int {
	c := g.l.levels[territory.Grid][grid].parent
	s := g.l.levels[territory.Community][c].parent
	return g.l.levels[territory.Street][s].parent
}

// streetOf is the street index of a grid.
func (g *generator) streetOf(grid int) int {
	c := g.l.levels[territory.Grid][grid].parent
	return g.l.levels[territory.Community][c].parent
}

// road is the road a community's buildings are numbered along.
func road(community node) string {
	return strings.TrimSuffix(community.nameZH, "社区") + "路"
}

// buildingAddress is the address of the n-th building (1-based) of a
// community: unique, since names are unique under their parent.
func (g *generator) buildingAddress(comm int, n int64) string {
	c := g.l.levels[territory.Community][comm]
	s := g.l.levels[territory.Street][c.parent]
	d := g.l.levels[territory.District][s.parent]
	return fmt.Sprintf("武汉市%s%s%s%d号", d.nameZH, s.nameZH, road(c), n)
}

// catalogue lookup kept small: the categories a case may be about.
func (g *generator) loadCategories() error {
	all, err := g.d.Catalog.Categories(g.ctx, catalog.Filter{ActiveOnly: true})
	if err != nil {
		return err
	}
	return g.weighCategories(all)
}
