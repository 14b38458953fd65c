package people_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
)

// expectedStats counts a population the slow, obvious way, independently of
// the service's SQL: one resident at a time, ages by calendar arithmetic.
func expectedStats(pop []placed, path string, today time.Time, reveal bool, restricted map[string]bool) people.Stats {
	want := people.Stats{Gender: map[people.Gender]int{people.Male: 0, people.Female: 0},
		Registration: map[people.Registration]int{people.Registered: 0, people.Floating: 0, people.Foreign: 0}, Tags: map[string]int{}}
	for code, r := range restricted {
		if !r || reveal {
			want.Tags[code] = 0
		}
	}
	members := map[int64]int{}
	for _, p := range pop {
		if !p.current || !auth.Within(path, p.path) {
			continue
		}
		members[p.household]++
		want.Residents++
		g := people.Male
		if p.female {
			g = people.Female
		}
		want.Gender[g]++
		reg := p.reg
		if reg == "" {
			reg = people.Registered
		}
		want.Registration[reg]++
		if ageOn(p.birth, today) >= 60 {
			want.Aged60Plus++
		}
		for _, t := range p.tags {
			if _, visible := want.Tags[t]; visible {
				want.Tags[t]++
			}
		}
	}
	want.Households = len(members)
	for _, n := range members {
		if n == 1 {
			want.LivingAlone++
		}
	}
	return want
}

// ageOn counts full years from a birth date to a day.
func ageOn(birth string, today time.Time) int {
	b, _ := time.Parse("2006-01-02", birth)
	age := today.Year() - b.Year()
	if today.Month() < b.Month() || today.Month() == b.Month() && today.Day() < b.Day() {
		age--
	}
	return age
}

// checkStats compares the service's figures with the ones counted one
// resident at a time.
func checkStats(t *testing.T, name string, got people.Stats, pop []placed, path string, today time.Time, reveal bool, restricted map[string]bool) {
	t.Helper()
	want := expectedStats(pop, path, today, reveal, restricted)
	if got.On != today.Format("2006-01-02") || got.Households != want.Households || got.Residents != want.Residents ||
		got.Aged60Plus != want.Aged60Plus || got.LivingAlone != want.LivingAlone || !maps.Equal(got.Gender, want.Gender) ||
		!maps.Equal(got.Registration, want.Registration) || !maps.Equal(got.Tags, want.Tags) {
		t.Errorf("%s:\n got %+v\nwant %+v", name, got, want)
	}
	wantBands := map[string]int{"0_20": 0, "21_30": 0, "31_40": 0, "41_50": 0, "51_59": 0, "60_plus": 0}
	for _, p := range pop {
		if p.current && auth.Within(path, p.path) {
			wantBands[bandOf(ageOn(p.birth, today))]++
		}
	}
	gotBands := map[string]int{}
	for _, b := range got.AgeBands {
		gotBands[b.Band] = b.Count
	}
	if !maps.Equal(gotBands, wantBands) || len(got.AgeBands) != 6 || got.AgeBands[0].Band != "0_20" || got.AgeBands[5].MinAge != 60 {
		t.Errorf("%s: age bands %+v, want %v", name, got.AgeBands, wantBands)
	}
}

// bandOf returns the band a resident of the given age falls in.
func bandOf(age int) string {
	switch {
	case age <= 20:
		return "0_20"
	case age <= 30:
		return "21_30"
	case age <= 40:
		return "31_40"
	case age <= 50:
		return "41_50"
	case age < 60:
		return "51_59"
	}
	return "60_plus"
}

// placed is a registered resident and where they live.
type placed struct {
	person
	id, household int64
	path          string
	current       bool
}

func TestPopulationStatsCountExactly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		// Today is 21 November 2026 in Beijing: the birth dates sit on the
		// edges of the age bands.
		var pop []placed
		add := func(actor auth.Actor, house, household int64, path string, p person) placed {
			r := w.add(t, actor, house, household, p)
			x := placed{person: p, id: r.ID, household: r.HouseholdID, path: path, current: true}
			pop = append(pop, x)
			return x
		}
		g := w.grid1
		h1 := add(w.cs, g[0], 0, pathGrid1, person{name: "王秀英", birth: "1950-03-08", female: true, tags: []string{"disabled"}})
		add(w.cs, 0, h1.household, pathGrid1, person{name: "李明", birth: "1990-07-01", reg: people.Floating})
		add(w.cs, g[1], 0, pathGrid1, person{name: "满二十", birth: "2006-11-21"})                        // 20 today: ≤20
		h3 := add(w.cs, g[2], 0, pathGrid1, person{name: "明天满二十一", birth: "2005-11-22", female: true}) // still 20
		add(w.cs, 0, h3.household, pathGrid1, person{name: "今天满二十一", birth: "2005-11-21", female: true,
			tags: []string{"low_income", "community_correction"}})
		add(w.cs, g[3], 0, pathGrid1, person{name: "今天满六十", birth: "1966-11-21", tags: []string{"empty_nest"}})
		add(w.cs, g[4], 0, pathGrid1, person{name: "明天满六十", birth: "1966-11-22", reg: people.Foreign})
		h6 := add(w.cs, g[5], 0, pathGrid1, person{name: "户主", birth: "1976-01-01"})
		moved := add(w.cs, 0, h6.household, pathGrid1, person{name: "搬走", birth: "1986-06-15", female: true, tags: []string{"disabled"}})
		gone := add(w.cs, 0, h6.household, pathGrid1, person{name: "注销", birth: "2016-01-01", tags: []string{"key_youth"}})
		add(w.cs, g[6], 0, pathGrid1, person{name: "闰日", birth: "1964-02-29", female: true})
		add(w.cs, w.grid3, 0, pathGrid3, person{name: "三网格", birth: "1940-01-01", female: true, tags: []string{"mental_disorder", "empty_nest"}})
		add(w.cs, 0, pop[len(pop)-1].household, pathGrid3, person{name: "三网格子", birth: "1970-01-01", reg: people.Floating})
		add(w.other, w.ding, 0, pathDingziqiao, person{name: "丁字桥", birth: "1980-05-05", reg: people.Floating, tags: []string{"veteran"}})
		// One member's record is anonymised after moving out, another has
		// just moved out: neither counts, and the head of their household
		// now lives alone.
		if err := w.svc.MoveOut(w.ctx, w.cs, gone.id, "2026-11-21"); err != nil {
			t.Fatal(err)
		}
		if n, err := w.svc.AnonymiseMovedOut(w.ctx, 0); err != nil || n != 1 {
			t.Fatalf("anonymised %d: %v", n, err)
		}
		if err := w.svc.MoveOut(w.ctx, w.cs, moved.id, "2026-11-21"); err != nil {
			t.Fatal(err)
		}
		for i := range pop {
			pop[i].current = pop[i].id != moved.id && pop[i].id != gone.id
		}
		restricted := map[string]bool{}
		rows, err := d.QueryContext(w.ctx, "SELECT code, restricted FROM tags")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			var r bool
			rows.Scan(&c, &r)
			restricted[c] = r
		}
		rows.Close()

		today := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
		checks := []struct {
			name   string
			actor  auth.Actor
			code   string
			path   string
			kind   string
			reveal bool
		}{
			{"grid worker, their grid", w.gw, "420106001001001", pathGrid1, "grid", false},
			{"grid worker, their empty grid", w.gw, "420106001001002", pathGrid2, "grid", false},
			{"community staff, the community", w.cs, "420106001001", pathCommunityY, "community", true},
			{"community staff, a grid", w.cs, "420106001001003", pathGrid3, "grid", true},
			{"street staff", w.street, "420106001", pathStreet, "street", false},
			{"district", w.district, "420106", "420106", "district", true},
		}
		for _, c := range checks {
			got, err := w.svc.Stats(w.ctx, c.actor, c.code)
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if got.Code != c.code || got.Kind != c.kind {
				t.Errorf("%s: node %s %s", c.name, got.Code, got.Kind)
			}
			checkStats(t, c.name, got, pop, c.path, today, c.reveal, restricted)
		}
		// The figures of grid 1 spelled out once, so a mistake shared by the
		// service and expectedStats would still show.
		g1, _ := w.svc.Stats(w.ctx, w.gw, "420106001001001")
		bands := fmt.Sprint(g1.AgeBands)
		if g1.Residents != 9 || g1.Households != 7 || g1.LivingAlone != 5 || g1.Aged60Plus != 3 ||
			bands != "[{0_20 0 20 2} {21_30 21 30 1} {31_40 31 40 1} {41_50 41 50 1} {51_59 51 59 1} {60_plus 60 0 3}]" ||
			g1.Tags["disabled"] != 1 || g1.Tags["low_income"] != 1 || g1.Tags["empty_nest"] != 1 {
			t.Errorf("grid 1: %+v", g1)
		}
		// Restricted tags are not even named to those who may not reveal.
		for _, actor := range []auth.Actor{w.gw, w.street} {
			st, _ := w.svc.Stats(w.ctx, actor, "420106001001001")
			for code, r := range restricted {
				if _, named := st.Tags[code]; r && named {
					t.Errorf("%s sees restricted tag %s", actor.Role, code)
				}
			}
		}

		// On 29 February 2028 someone born on 28 February 2007 is 21, and
		// someone born on 1 March 2007 is still 20: 2007 had no 29 February.
		add(w.cs, g[7], 0, pathGrid1, person{name: "二月末", birth: "2007-02-28"})
		add(w.cs, 0, pop[len(pop)-1].household, pathGrid1, person{name: "三月初", birth: "2007-03-01", female: true})
		for _, day := range []time.Time{time.Date(2028, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC),
			time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)} {
			w.clock.Set(day.Add(-8*time.Hour + time.Minute)) // 00:01 in Beijing
			got, err := w.svc.Stats(w.ctx, w.cs, "420106001001001")
			if err != nil {
				t.Fatal(err)
			}
			checkStats(t, "grid 1 on "+day.Format("2006-01-02"), got, pop, pathGrid1, day, true, restricted)
		}
		w.clock.Set(time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC))
		if got, _ := w.svc.Stats(w.ctx, w.cs, "420106001001001"); got.AgeBands[0].Count != 1 || got.AgeBands[1].Count != 4 {
			t.Errorf("on 29 February 2028 only the one born on 1 March 2007 is 20 or under: %+v", got.AgeBands)
		}

		bad := []struct {
			name  string
			actor auth.Actor
			code  string
			want  errs.Code
			field string
		}{
			{"grid worker asks for their community", w.gw, "420106001001", errs.Forbidden, ""},
			{"grid worker asks for a grid not theirs", w.gw, "420106001001003", errs.Forbidden, ""},
			{"community staff ask for the street", w.cs, "420106001", errs.Forbidden, ""},
			{"community staff ask for another community", w.cs, "420106001002", errs.Forbidden, ""},
			{"auditor", auth.Actor{UserID: 99, Role: auth.Auditor}, "420106", errs.Forbidden, ""},
			{"no such grid", w.cs, "420106001001009", errs.NotFound, ""},
			{"not a code", w.cs, "42O106", errs.Invalid, "code"},
			{"no code", w.cs, " ", errs.Invalid, "code"},
		}
		for _, c := range bad {
			_, err := w.svc.Stats(w.ctx, c.actor, c.code)
			if e := errs.As(err); e.Code != c.want || (c.field != "" && e.Fields[c.field] == "") {
				t.Errorf("%s: %v, want %s", c.name, err, c.want)
			}
		}
	})
}

// BenchmarkStatsCommunity measures the statistics of Community Y, holding
// about 10,000 residents, in a registry of GRIDHALL_BENCH_RESIDENTS residents
// (100,000 by default), and of the whole street; and, on the same data, the
// community's care schedule. Rows are inserted directly, in bulk, with
// placeholder sealed values: it is the grouped queries being measured.
func BenchmarkStatsCommunity(b *testing.B) {
	total := 100_000
	if s := os.Getenv("GRIDHALL_BENCH_RESIDENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 20_000 {
			b.Fatalf("GRIDHALL_BENCH_RESIDENTS=%q: want a number of at least 20000", s)
		}
		total = n
	}
	for _, e := range dbtest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			w := newWorld(b, d)
			start := time.Now()
			seedResidents(b, w, total)
			b.Logf("%s: seeded %d residents in %s", e, total, time.Since(start).Round(time.Millisecond))
			for _, c := range []struct{ name, code string }{{"community", "420106001001"}, {"street", "420106001"}} {
				var st people.Stats
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						var err error
						if st, err = w.svc.Stats(w.ctx, w.district, c.code); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(st.Residents), "residents")
				})
			}
			b.Run("care_community", func(b *testing.B) {
				var items []people.CareItem
				for b.Loop() {
					var err error
					if items, err = w.svc.CareDue(w.ctx, w.cs, time.Time{}); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(items)), "items")
			})
		})
	}
}

// seedResidents inserts total residents in households of three: about
// 10,000 in Community Y's six grids, the rest in the street's other
// communities and, for large registries, in other districts. About one
// resident in five carries a tag. The rows are made by four INSERT … SELECT
// statements over a counter, not bound one by one, so that a million
// residents take seconds.
func seedResidents(b *testing.B, w *world, total int) {
	b.Helper()
	ctx := context.Background()
	var paths []string
	for grid := 1; grid <= 20; grid++ {
		comm, n := 1+(grid-1)/6, 1+(grid-1)%6
		if comm > 1 {
			comm, n = 2+(grid-7)/5, 1+(grid-7)%5
		}
		paths = append(paths, fmt.Sprintf("420106/420106001/420106001%03d/420106001%03d%03d", comm, comm, n))
	}
	for i := range 60 {
		c := fmt.Sprintf("%06d", 420200+i)
		paths = append(paths, fmt.Sprintf("%s/%s001/%s001001/%s001001001", c, c, c, c))
	}
	// Community Y gets one house in every; the street's other 14 grids
	// share the rest, or for registries over 200,000, the street and the
	// 60 other districts do.
	every, others := max(1, total/10_000), 14
	if total > 200_000 {
		others = len(paths) - 6
	}
	birth := "printf('%04d-%02d-%02d', 1930 + x.i % 95, 1 + x.i % 12, 1 + x.i % 28)"
	if w.db.Engine == db.Postgres {
		birth = "to_char(make_date(1930 + x.i % 95, 1 + x.i % 12, 1 + x.i % 28), 'YYYY-MM-DD')"
	}
	err := w.db.Tx(ctx, func(tx *sql.Tx) error {
		if w.db.Engine == db.Postgres {
			// VACUUM marks pages all-visible, which index-only scans need,
			// only once the inserting commit is flushed; test servers often
			// run with synchronous_commit off.
			if _, err := tx.ExecContext(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
				return err
			}
		}
		var places []string
		for k, p := range paths {
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO buildings (name, address, address_key, lng, lat, grid_code, grid_path, created_at, updated_at)
				VALUES ('楼', $1, $1, 114.3, 30.55, $2, $3, 0, 0) RETURNING id`, "bench "+p, p[strings.LastIndexByte(p, '/')+1:], p).Scan(&id); err != nil {
				return err
			}
			places = append(places, fmt.Sprintf("(%d, %d, '%s')", k, id, p))
		}
		steps := []struct {
			sql  string
			args []any
		}{
			{`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $1),
				places(k, building_id, grid_path) AS (VALUES ` + strings.Join(places, ", ") + `)
				INSERT INTO houses (building_id, unit, number, floor, use, grid_path, created_at, updated_at)
				SELECT p.building_id, 'B', CAST(n.i AS TEXT), 1, 'owner_occupied', p.grid_path, 0, 0 FROM n JOIN places p
				ON p.k = CASE WHEN n.i % $2 = 0 THEN (n.i / $2) % 6 ELSE 6 + n.i % $3 END`, []any{total / 3, every, others}},
			{"INSERT INTO households (house_id, grid_path, created_at, updated_at) SELECT id, grid_path, 0, 0 FROM houses WHERE unit = 'B' ORDER BY id", nil},
			{`INSERT INTO residents (household_id, relation, name, gender, birth_date, document_kind, document_sealed, document_index,
				phone_sealed, phone_index, registration, move_in, grid_path, created_at, updated_at)
				SELECT x.id, 'other', '居民' || x.i, CASE WHEN x.i % 2 = 1 THEN 'F' ELSE 'M' END, ` + birth + `, 'id_card', 'sealed', 'idx' || x.i,
				'sealed', '', CASE WHEN x.i % 7 = 0 THEN 'floating' ELSE 'registered' END, '2020-01-01', x.grid_path, 0, 0
				FROM (SELECT hh.id, hh.grid_path, CAST(h.number AS INTEGER) * 3 + m.m AS i FROM households hh JOIN houses h ON h.id = hh.house_id
				CROSS JOIN (SELECT 0 AS m UNION ALL SELECT 1 UNION ALL SELECT 2) m WHERE h.unit = 'B') x ORDER BY x.i`, nil},
			// About one in five, picked by a multiplicative hash so that no
			// place's share depends on how its house numbers fall.
			{`INSERT INTO resident_tags (resident_id, tag_code) SELECT id, CASE (id / 7) % 5 WHEN 0 THEN 'disabled' WHEN 1 THEN 'low_income'
				WHEN 2 THEN 'empty_nest' WHEN 3 THEN 'veteran' ELSE 'key_youth' END FROM residents WHERE (id * 7919) % 31 < 6 AND document_sealed = 'sealed'`, nil},
		}
		for _, st := range steps {
			if _, err := tx.ExecContext(ctx, st.sql, st.args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Fresh planner statistics and, on PostgreSQL, a visibility map for
	// index-only scans: what autovacuum keeps up in a live database.
	maintain := "ANALYZE"
	if w.db.Engine == db.Postgres {
		maintain = "VACUUM ANALYZE"
	}
	for _, table := range []string{"residents", "resident_tags", "households"} {
		if _, err := w.db.ExecContext(ctx, maintain+" "+table); err != nil {
			b.Fatal(err)
		}
	}
}
