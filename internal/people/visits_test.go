package people_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// Scope paths of the demo territory used by the visits and statistics tests.
const (
	pathStreet     = "420106/420106001"
	pathCommunityY = "420106/420106001/420106001001"
	pathGrid1      = "420106/420106001/420106001001/420106001001001"
	pathGrid2      = "420106/420106001/420106001001/420106001001002"
	pathGrid3      = "420106/420106001/420106001001/420106001001003"
	pathDingziqiao = "420106/420106001/420106001002"
)

// registeredAt is when the world fixture registers everyone: 10:00 in
// Beijing on Saturday 21 November 2026.
var registeredAt = time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)

// world is a registry with real accounts (visits name their worker), a
// fake clock, and houses in grids 1 and 3 of Community Y and in Dingziqiao.
type world struct {
	ctx      context.Context
	db       *db.DB
	clock    *clock.Fake
	svc      *people.Service
	gw       auth.Actor // grid worker of Community Y's grids 1 and 2
	cs       auth.Actor // community staff of Community Y
	other    auth.Actor // community staff of Dingziqiao
	street   auth.Actor // street staff: reads the registry, writes nothing
	district auth.Actor // district administrator: reads and may reveal
	grid1    []int64    // houses in grid 1
	grid3    int64      // a house in grid 3, outside the grid worker's grids
	ding     int64      // a house in Dingziqiao
	seq      int
}

func newWorld(t testing.TB, d *db.DB) *world {
	t.Helper()
	c := clock.NewFake(registeredAt)
	st := newStack(t, d, c)
	ctx, a, terr, planner := st.ctx, st.auth, st.terr, st.planner
	w := &world{ctx: ctx, db: d, clock: c, svc: st.svc}
	user := func(name string, role auth.Role, scope string) auth.Actor {
		u, err := a.CreateUser(ctx, auth.SystemActor("t"), auth.NewUser{Username: name, DisplayName: name + " 同志",
			Password: "a long enough password", Role: role, Scope: scope})
		if err != nil {
			t.Fatal(err)
		}
		return u.Actor()
	}
	w.gw = user("gw", auth.GridWorker, pathCommunityY)
	w.gw.Scopes = []string{pathGrid1, pathGrid2}
	w.cs = user("cs", auth.CommunityStaff, pathCommunityY)
	w.other = user("other", auth.CommunityStaff, pathDingziqiao)
	w.street = user("street", auth.StreetStaff, pathStreet)
	w.district = user("district", auth.DistrictAdmin, "420106")
	bs, err := terr.AddBuildings(ctx, planner, []territory.NewBuilding{
		{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507},
		{Name: "3号楼", Address: "中南一路3号", Lng: 114.3082, Lat: 30.5507},
		{Name: "9号楼", Address: "丁字桥路9号", Lng: 114.3150, Lat: 30.5500},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{pathGrid1, pathGrid3, pathDingziqiao + "/"} {
		if !strings.HasPrefix(bs[i].GridPath+"/", want) {
			t.Fatalf("building %d lies in %s, want %s", i, bs[i].GridPath, want)
		}
	}
	house := func(actor auth.Actor, building int64, number string) int64 {
		h, err := w.svc.AddHouse(ctx, actor, people.NewHouse{BuildingID: building, Unit: "1", Number: number, Floor: 1})
		if err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	for i := range 8 {
		w.grid1 = append(w.grid1, house(w.cs, bs[0].ID, "10"+string(rune('1'+i))))
	}
	w.grid3 = house(w.cs, bs[1].ID, "301")
	w.ding = house(w.other, bs[2].ID, "901")
	return w
}

// person describes a resident to register.
type person struct {
	name   string
	birth  string
	female bool
	reg    people.Registration
	tags   []string
}

// add registers p in a new household in house, or in household when house
// is 0, and returns the resident.
func (w *world) add(t testing.TB, actor auth.Actor, house, household int64, p person) people.Resident {
	t.Helper()
	b, err := time.Parse("2006-01-02", p.birth)
	if err != nil {
		t.Fatal(err)
	}
	w.seq++
	in := people.NewResident{HouseID: house, HouseholdID: household, Name: p.name, Registration: p.reg, Tags: p.tags,
		DocumentNumber: people.GenerateIDNumber("420106", b, p.female, w.seq)}
	if p.reg == people.Foreign {
		in.DocumentKind, in.DocumentNumber, in.BirthDate, in.Gender = people.DocPassport, fmt.Sprintf("E%08d", w.seq), p.birth, people.Male
		if p.female {
			in.Gender = people.Female
		}
	}
	r, err := w.svc.AddResident(w.ctx, actor, in)
	if err != nil {
		t.Fatalf("register %s: %v", p.name, err)
	}
	return r
}

// beijing returns an instant given as Beijing wall time.
func beijing(y int, m time.Month, d, hour, minute int) time.Time {
	return time.Date(y, m, d, hour, minute, 0, 0, time.FixedZone("CST", 8*3600))
}

func TestAVisitIsLoggedWithItsHouseholdsFindingsAndAnAuditEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		a := w.add(t, w.gw, w.grid1[0], 0, person{name: "王秀英", birth: "1950-03-08", female: true})
		b := w.add(t, w.gw, w.grid1[1], 0, person{name: "李明", birth: "1990-07-01"})
		now := w.clock.Now()
		v, err := w.svc.RecordVisit(w.ctx, w.gw, people.NewVisit{
			HouseholdIDs: []int64{b.HouseholdID, a.HouseholdID, b.HouseholdID},
			Companions:   "  社区民警张警官 ",
			StartedAt:    now.Add(-2 * time.Hour), EndedAt: now.Add(-time.Hour),
			Findings: []people.Finding{
				{Kind: people.FindingDispute, Description: "楼上楼下噪音纠纷，已初步调解"},
				{Kind: people.FindingFireHazard, Description: " 楼道堆放纸箱 "},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if v.ID == 0 || v.WorkerID != w.gw.UserID || v.WorkerName != "gw 同志" || v.GridCode != "420106001001001" ||
			!slices.Equal(v.HouseholdIDs, []int64{a.HouseholdID, b.HouseholdID}) || v.Companions != "社区民警张警官" ||
			!v.StartedAt.Equal(now.Add(-2*time.Hour)) || len(v.Findings) != 2 || v.Findings[1].Description != "楼道堆放纸箱" {
			t.Fatalf("recorded: %+v", v)
		}
		// A visit without findings is a visit too.
		if _, err := w.svc.RecordVisit(w.ctx, w.gw, people.NewVisit{HouseholdIDs: []int64{a.HouseholdID},
			StartedAt: now.Add(-30 * time.Minute), EndedAt: now}); err != nil {
			t.Fatal(err)
		}
		vs, err := w.svc.Visits(w.ctx, w.cs, people.VisitFilter{})
		if err != nil || len(vs) != 2 {
			t.Fatalf("listed %d visits: %v", len(vs), err)
		}
		got := vs[1]
		if got.ID != v.ID || got.WorkerName != v.WorkerName || got.GridCode != v.GridCode || !slices.Equal(got.HouseholdIDs, v.HouseholdIDs) ||
			got.Companions != v.Companions || !got.StartedAt.Equal(v.StartedAt) || !got.EndedAt.Equal(v.EndedAt) ||
			!got.CreatedAt.Equal(v.CreatedAt) || !slices.Equal(got.Findings, v.Findings) {
			t.Fatalf("read back:\n%+v\nrecorded:\n%+v", got, v)
		}
		if vs[0].Findings == nil || len(vs[0].Findings) != 0 {
			t.Fatalf("no findings should be an empty list: %#v", vs[0].Findings)
		}
		var scope, detail string
		var n int
		if err := d.QueryRowContext(w.ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'visit.create'").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d audit entries: %v", n, err)
		}
		if err := d.QueryRowContext(w.ctx, "SELECT scope_path, detail FROM audit_log WHERE action = 'visit.create' AND object_id = $1",
			strconv.FormatInt(v.ID, 10)).Scan(&scope, &detail); err != nil {
			t.Fatal(err)
		}
		if scope != pathGrid1 || !strings.Contains(detail, `"households":2`) || !strings.Contains(detail, `"findings":2`) ||
			strings.Contains(detail, "噪音") || strings.Contains(detail, "张警官") {
			t.Fatalf("audit entry: %s %s", scope, detail)
		}
	})
}

func TestBadVisitsAreRejectedFieldByField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		mine := w.add(t, w.cs, w.grid1[0], 0, person{name: "甲", birth: "1950-01-01"}).HouseholdID
		grid3 := w.add(t, w.cs, w.grid3, 0, person{name: "乙", birth: "1951-01-01"}).HouseholdID
		ding := w.add(t, w.other, w.ding, 0, person{name: "丙", birth: "1952-01-01"}).HouseholdID
		now := w.clock.Now()
		good := func() people.NewVisit {
			return people.NewVisit{HouseholdIDs: []int64{mine}, StartedAt: now.Add(-time.Hour), EndedAt: now.Add(-30 * time.Minute),
				Findings: []people.Finding{{Kind: people.FindingRequest, Description: "希望加装扶手"}}}
		}
		many := make([]int64, 51)
		for i := range many {
			many[i] = int64(i + 1)
		}
		cases := []struct {
			name  string
			edit  func(v *people.NewVisit)
			field string
			key   string
		}{
			{"no household", func(v *people.NewVisit) { v.HouseholdIDs = nil }, "household_ids", "error.field.required"},
			{"too many households", func(v *people.NewVisit) { v.HouseholdIDs = many }, "household_ids", "people.visit.too_many_households"},
			{"unknown household", func(v *people.NewVisit) { v.HouseholdIDs = []int64{mine, 99999} }, "household_ids", "people.household.unknown"},
			{"household in another of the community's grids", func(v *people.NewVisit) { v.HouseholdIDs = []int64{mine, grid3} }, "household_ids", "people.household.unknown"},
			{"household in another community", func(v *people.NewVisit) { v.HouseholdIDs = []int64{ding} }, "household_ids", "people.household.unknown"},
			{"companions too long", func(v *people.NewVisit) { v.Companions = strings.Repeat("陪", 101) }, "companions", "error.field.too_long"},
			{"no start", func(v *people.NewVisit) { v.StartedAt = time.Time{} }, "started_at", "error.field.required"},
			{"started 31 days ago", func(v *people.NewVisit) { v.StartedAt = now.Add(-31 * 24 * time.Hour) }, "started_at", "people.visit.too_old"},
			{"no end", func(v *people.NewVisit) { v.EndedAt = time.Time{} }, "ended_at", "error.field.required"},
			{"ends before it starts", func(v *people.NewVisit) { v.EndedAt = v.StartedAt.Add(-time.Minute) }, "ended_at", "people.visit.ends_before_start"},
			{"ends in an hour", func(v *people.NewVisit) { v.EndedAt = now.Add(time.Hour) }, "ended_at", "people.visit.future"},
			{"unknown finding", func(v *people.NewVisit) { v.Findings[0].Kind = "gossip" }, "findings.0.kind", "people.finding.kind"},
			{"finding without words", func(v *people.NewVisit) {
				v.Findings = append(v.Findings, people.Finding{Kind: people.FindingOther, Description: "  "})
			}, "findings.1.description", "error.field.required"},
			{"finding too long", func(v *people.NewVisit) { v.Findings[0].Description = strings.Repeat("字", 501) }, "findings.0.description", "error.field.too_long"},
			{"too many findings", func(v *people.NewVisit) {
				for range 20 {
					v.Findings = append(v.Findings, v.Findings[0])
				}
			}, "findings", "people.visit.too_many_findings"},
		}
		for _, c := range cases {
			in := good()
			c.edit(&in)
			_, err := w.svc.RecordVisit(w.ctx, w.gw, in)
			if e := errs.As(err); e.Code != errs.Invalid || e.Fields[c.field] != c.key || len(e.Fields) != 1 {
				t.Errorf("%s: got %v, want only %s on %s", c.name, err, c.key, c.field)
			}
		}
		// A visit that starts tomorrow either ends in the future or before
		// it starts: both times are named.
		in := good()
		in.StartedAt, in.EndedAt = now.Add(24*time.Hour), now.Add(25*time.Hour)
		_, err := w.svc.RecordVisit(w.ctx, w.gw, in)
		if f := errs.As(err).Fields; f["started_at"] != "people.visit.future" || f["ended_at"] != "people.visit.future" {
			t.Errorf("a visit tomorrow: %v", err)
		}
		// The limits themselves are allowed: 30 days back, 100 companions'
		// characters, 500 of description, a phone clock a minute ahead.
		in = good()
		in.StartedAt, in.EndedAt = now.Add(-30*24*time.Hour+time.Minute), now.Add(time.Minute)
		in.Companions, in.Findings[0].Description = strings.Repeat("陪", 100), strings.Repeat("字", 500)
		if _, err := w.svc.RecordVisit(w.ctx, w.gw, in); err != nil {
			t.Fatalf("a visit at the limits: %v", err)
		}
		// Reading the registry is not enough to log a visit, and the console
		// has no account to log it under.
		for _, actor := range []auth.Actor{w.street, auth.SystemActorAs("cli", auth.CommunityStaff)} {
			if _, err := w.svc.RecordVisit(w.ctx, actor, good()); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s logged a visit: %v", actor.Role, err)
			}
		}
		var n int
		if err := d.QueryRowContext(w.ctx, "SELECT (SELECT COUNT(*) FROM visits) + (SELECT COUNT(*) FROM visit_households) + (SELECT COUNT(*) FROM visit_findings)").Scan(&n); err != nil || n != 3 {
			t.Fatalf("rows left by the rejected visits: %d (want the 3 of the one good visit), %v", n, err)
		}
	})
}

func TestVisitsAreListedInScopeNewestFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		a := w.add(t, w.cs, w.grid1[0], 0, person{name: "甲", birth: "1950-01-01"}).HouseholdID
		b := w.add(t, w.cs, w.grid1[1], 0, person{name: "乙", birth: "1960-01-01"}).HouseholdID
		c := w.add(t, w.cs, w.grid3, 0, person{name: "丙", birth: "1970-01-01"}).HouseholdID
		e := w.add(t, w.other, w.ding, 0, person{name: "丁", birth: "1980-01-01"}).HouseholdID
		now := w.clock.Now()
		visit := func(actor auth.Actor, hh ...int64) int64 {
			t.Helper()
			v, err := w.svc.RecordVisit(w.ctx, actor, people.NewVisit{HouseholdIDs: hh, StartedAt: now.Add(-time.Hour), EndedAt: now})
			if err != nil {
				t.Fatal(err)
			}
			return v.ID
		}
		v1 := visit(w.gw, a)
		v2 := visit(w.cs, c)
		v3 := visit(w.gw, b, a)
		v4 := visit(w.cs, a)
		v5 := visit(w.other, e)
		ids := func(actor auth.Actor, f people.VisitFilter) []int64 {
			t.Helper()
			vs, err := w.svc.Visits(w.ctx, actor, f)
			if err != nil {
				t.Fatal(err)
			}
			out := []int64{}
			for _, v := range vs {
				out = append(out, v.ID)
			}
			return out
		}
		checks := []struct {
			name  string
			actor auth.Actor
			f     people.VisitFilter
			want  []int64
		}{
			{"grid worker: their grids only", w.gw, people.VisitFilter{}, []int64{v4, v3, v1}},
			{"community staff: the community", w.cs, people.VisitFilter{}, []int64{v4, v3, v2, v1}},
			{"another community", w.other, people.VisitFilter{}, []int64{v5}},
			{"the street reads all of it", w.street, people.VisitFilter{}, []int64{v5, v4, v3, v2, v1}},
			{"by household", w.cs, people.VisitFilter{HouseholdID: a}, []int64{v4, v3, v1}},
			{"by household outside the grids", w.gw, people.VisitFilter{HouseholdID: c}, []int64{}},
			{"by worker", w.cs, people.VisitFilter{WorkerID: w.gw.UserID}, []int64{v3, v1}},
			{"by worker and household", w.cs, people.VisitFilter{WorkerID: w.gw.UserID, HouseholdID: b}, []int64{v3}},
			{"first page", w.cs, people.VisitFilter{Limit: 2}, []int64{v4, v3}},
			{"next page", w.cs, people.VisitFilter{Limit: 2, AfterID: v3}, []int64{v2, v1}},
			{"past the end", w.cs, people.VisitFilter{Limit: 2, AfterID: v1}, []int64{}},
		}
		for _, c := range checks {
			if got := ids(c.actor, c.f); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
		for _, actor := range []auth.Actor{{UserID: 99, Role: auth.SystemAdmin}, {UserID: 98, Role: auth.Auditor}} {
			if _, err := w.svc.Visits(w.ctx, actor, people.VisitFilter{}); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s listed visits: %v", actor.Role, err)
			}
		}
	})
}

func TestCareScheduleMarksDueAndOverdueVisits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newWorld(t, d)
		g := w.grid1
		emptyNest := w.add(t, w.cs, g[0], 0, person{name: "空巢", birth: "1956-05-01", female: true, tags: []string{"empty_nest"}})
		w.add(t, w.cs, 0, emptyNest.HouseholdID, person{name: "老伴", birth: "1954-02-01"}) // 60+, not alone: no schedule of his own
		alone := w.add(t, w.cs, g[1], 0, person{name: "独居", birth: "1946-09-09", female: true})
		disabled := w.add(t, w.cs, g[2], 0, person{name: "残疾", birth: "1991-04-04", tags: []string{"disabled", "veteran"}})
		correction := w.add(t, w.cs, g[3], 0, person{name: "矫正", birth: "1996-06-06", tags: []string{"community_correction"}})
		w.add(t, w.cs, g[4], 0, person{name: "青年", birth: "1996-07-07", tags: []string{"veteran"}}) // no interval
		turns60 := w.add(t, w.cs, g[5], 0, person{name: "将满六十", birth: "1966-11-25"})               // alone, 60 on Wednesday
		left := w.add(t, w.cs, g[6], 0, person{name: "子女搬走", birth: "1950-10-10"})
		child := w.add(t, w.cs, 0, left.HouseholdID, person{name: "子女", birth: "1980-10-10"})
		inGrid3 := w.add(t, w.cs, w.grid3, 0, person{name: "三网格", birth: "1944-04-04"})
		inDing := w.add(t, w.other, w.ding, 0, person{name: "丁字桥", birth: "1945-05-05"})
		// The child moves out: the parent now lives alone.
		if err := w.svc.MoveOut(w.ctx, w.cs, child.ID, "2026-11-21"); err != nil {
			t.Fatal(err)
		}

		// Two days later the grid worker visits the empty-nest couple and
		// the disabled man, in one round.
		w.clock.Set(beijing(2026, 11, 23, 11, 0))
		visitedAt := beijing(2026, 11, 23, 9, 0)
		if _, err := w.svc.RecordVisit(w.ctx, w.gw, people.NewVisit{HouseholdIDs: []int64{emptyNest.HouseholdID, disabled.HouseholdID},
			StartedAt: visitedAt, EndedAt: visitedAt.Add(40 * time.Minute)}); err != nil {
			t.Fatal(err)
		}

		type row struct {
			id     int64
			status people.CareStatus
			days   int
		}
		schedule := func(actor auth.Actor, on time.Time) []row {
			t.Helper()
			items, err := w.svc.CareDue(w.ctx, actor, on)
			if err != nil {
				t.Fatal(err)
			}
			out := []row{}
			for _, it := range items {
				out = append(out, row{it.ResidentID, it.Status, it.DaysPastDue})
			}
			return out
		}
		const due, overdue = people.StatusDue, people.StatusOverdue
		day := func(m time.Month, d int) time.Time { return beijing(2026, m, d, 12, 0) }
		checks := []struct {
			name  string
			actor auth.Actor
			on    time.Time
			want  []row
		}{
			// Never visited: due since registration on the 21st. The visited
			// households are not due for a week (empty nest) or a month.
			{"today, grid worker", w.gw, time.Time{}, []row{{alone.ID, due, 2}, {left.ID, due, 2}}},
			// Community staff also see grid 3, and the restricted tag's
			// schedule, which is hidden from the grid worker.
			{"today, community staff", w.cs, time.Time{}, []row{{alone.ID, due, 2}, {correction.ID, due, 2}, {left.ID, due, 2}, {inGrid3.ID, due, 2}}},
			{"today, Dingziqiao", w.other, time.Time{}, []row{{inDing.ID, due, 2}}},
			// Half a weekly interval, rounded up, past due: overdue. The
			// 59-year-old living alone turns 60 on the 25th.
			{"24th", w.gw, day(11, 24), []row{{alone.ID, due, 3}, {left.ID, due, 3}}},
			{"25th", w.gw, day(11, 25), []row{{alone.ID, overdue, 4}, {turns60.ID, overdue, 4}, {left.ID, overdue, 4}}},
			{"30th: the empty nest is due", w.gw, day(11, 30), []row{{alone.ID, overdue, 9}, {turns60.ID, overdue, 9}, {left.ID, overdue, 9}, {emptyNest.ID, due, 0}}},
			{"3 December", w.gw, day(12, 3), []row{{alone.ID, overdue, 12}, {turns60.ID, overdue, 12}, {left.ID, overdue, 12}, {emptyNest.ID, due, 3}}},
			{"4 December", w.gw, day(12, 4), []row{{alone.ID, overdue, 13}, {turns60.ID, overdue, 13}, {left.ID, overdue, 13}, {emptyNest.ID, overdue, 4}}},
			// Monthly: due on 23 December, overdue 15 days later.
			{"6 January", w.gw, beijing(2027, 1, 6, 23, 59), []row{{alone.ID, overdue, 46}, {turns60.ID, overdue, 46}, {left.ID, overdue, 46}, {emptyNest.ID, overdue, 37}, {disabled.ID, due, 14}}},
			{"7 January", w.gw, beijing(2027, 1, 7, 0, 0), []row{{alone.ID, overdue, 47}, {turns60.ID, overdue, 47}, {left.ID, overdue, 47}, {emptyNest.ID, overdue, 38}, {disabled.ID, overdue, 15}}},
			// Asked for a day before anyone was registered: nothing is due.
			{"before registration", w.cs, day(11, 20), []row{}},
		}
		for _, c := range checks {
			if got := schedule(c.actor, c.on); !slices.Equal(got, c.want) {
				t.Errorf("%s:\n got %v\nwant %v", c.name, got, c.want)
			}
		}

		// An item shows the reasons, the last visit and the due day.
		items, _ := w.svc.CareDue(w.ctx, w.cs, day(12, 1))
		byID := map[int64]people.CareItem{}
		for _, it := range items {
			byID[it.ResidentID] = it
		}
		en := byID[emptyNest.ID]
		if en.Name != "空巢" || en.HouseholdID != emptyNest.HouseholdID || en.GridCode != "420106001001001" || !slices.Equal(en.Tags, []string{"empty_nest"}) ||
			en.IntervalDays != 7 || en.LastVisitAt == nil || !en.LastVisitAt.Equal(visitedAt) || en.DueOn != "2026-11-30" {
			t.Errorf("empty-nest item: %+v", en)
		}
		al := byID[alone.ID]
		if !slices.Equal(al.Tags, []string{people.TagAged60, people.TagLivesAlone}) || al.LastVisitAt != nil || al.DueOn != "2026-11-21" || al.IntervalDays != 7 {
			t.Errorf("never-visited item: %+v", al)
		}
		if c := byID[correction.ID]; !slices.Equal(c.Tags, []string{"community_correction"}) || c.IntervalDays != 7 {
			t.Errorf("restricted item for community staff: %+v", c)
		}
		gwItems, _ := w.svc.CareDue(w.ctx, w.gw, day(12, 1))
		for _, it := range gwItems {
			if it.ResidentID == correction.ID || slices.Contains(it.Tags, "community_correction") {
				t.Errorf("the grid worker sees a restricted schedule: %+v", it)
			}
		}
		if _, err := w.svc.CareDue(w.ctx, auth.Actor{UserID: 99, Role: auth.Auditor}, time.Time{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("an auditor read the care schedule: %v", err)
		}
	})
}
