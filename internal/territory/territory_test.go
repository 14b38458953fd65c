package territory_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/territory"
)

// The test territory: district 420106 is the box 114.30–114.34 E,
// 30.50–30.54 N; street 420106001 and community 420106001002 cover it; the
// community is split into four 0.02° square grids, numbered west→east,
// north→south as the standard asks.
const (
	district  = "420106"
	street    = "420106001"
	community = "420106001002"
	gridNW    = "420106001002001"
	gridNE    = "420106001002002"
	gridSW    = "420106001002003"
	gridSE    = "420106001002004"
)

func box(minLng, minLat, maxLng, maxLat float64) orb.Polygon {
	return orb.Polygon{{{minLng, minLat}, {maxLng, minLat}, {maxLng, maxLat}, {minLng, maxLat}, {minLng, minLat}}}
}

type feat struct {
	code, name string
	shape      any
}

func collection(fs ...feat) []byte {
	type geom struct {
		Type        string `json:"type"`
		Coordinates any    `json:"coordinates"`
	}
	var out struct {
		Type     string `json:"type"`
		Features []any  `json:"features"`
	}
	out.Type = "FeatureCollection"
	for _, f := range fs {
		g := geom{Type: "Polygon", Coordinates: f.shape}
		if mp, ok := f.shape.(orb.MultiPolygon); ok {
			g = geom{Type: "MultiPolygon", Coordinates: mp}
		}
		out.Features = append(out.Features, map[string]any{"type": "Feature",
			"properties": map[string]any{"code": f.code, "name": f.name}, "geometry": g})
	}
	b, _ := json.Marshal(out)
	return b
}

func baseTerritory() []byte {
	return collection(
		feat{district, "武昌区", box(114.30, 30.50, 114.34, 30.54)},
		feat{street, "中南路街道", box(114.30, 30.50, 114.34, 30.54)},
		feat{community, "Y社区", box(114.30, 30.50, 114.34, 30.54)},
		feat{gridNW, "第一网格", box(114.30, 30.52, 114.32, 30.54)},
		feat{gridNE, "第二网格", box(114.32, 30.52, 114.34, 30.54)},
		feat{gridSW, "第三网格", box(114.30, 30.50, 114.32, 30.52)},
		feat{gridSE, "第四网格", box(114.32, 30.50, 114.34, 30.52)},
	)
}

type fixture struct {
	ctx   context.Context
	db    *db.DB
	auth  *auth.Service
	svc   *territory.Service
	clock *clock.Fake
	admin auth.Actor
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	f := newFixtureEmpty(t, d)
	if _, err := f.svc.Import(f.ctx, f.admin, baseTerritory(), false); err != nil {
		t.Fatalf("import base territory: %v", err)
	}
	return f
}

// newFixtureEmpty is a fixture with no territory yet.
func newFixtureEmpty(t *testing.T, d *db.DB) fixture {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour,
		LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	f := fixture{ctx: context.Background(), db: d, auth: a, svc: territory.NewService(d, al, a, c, territory.DefaultTolerance), clock: c,
		admin: auth.Actor{UserID: 1, Username: "district", Role: auth.DistrictAdmin, Scope: district}}
	return f
}

func (f fixture) count(t *testing.T, q string) int {
	t.Helper()
	var n int
	if err := f.db.QueryRowContext(f.ctx, q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportCreatesThenLeavesIdenticalNodesAlone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if n := f.count(t, "SELECT COUNT(*) FROM territory_nodes WHERE valid_to IS NULL"); n != 7 {
			t.Fatalf("%d current nodes, want 7", n)
		}
		res, err := f.svc.Import(f.ctx, f.admin, baseTerritory(), false)
		if err != nil || res.Unchanged != 7 || res.Created+res.Updated != 0 {
			t.Fatalf("re-import: %+v %v", res, err)
		}
		// Export and import back: nothing changes.
		nodes, err := f.svc.Tree(f.ctx, f.admin, territory.MicroGrid)
		if err != nil || len(nodes) != 7 {
			t.Fatalf("tree: %d %v", len(nodes), err)
		}
		var buf strings.Builder
		if err := territory.WriteGeoJSON(&buf, nodes); err != nil {
			t.Fatal(err)
		}
		res, err = f.svc.Import(f.ctx, f.admin, []byte(buf.String()), false)
		if err != nil || res.Unchanged != 7 {
			t.Fatalf("round trip: %+v %v", res, err)
		}
	})
}

// TestABadFileIsRejectedWholeWithEveryProblem is the acceptance case: an
// overlapping sibling, a self-intersecting ring, a grid outside its
// community and a malformed code, all reported, nothing written.
func TestABadFileIsRejectedWholeWithEveryProblem(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		before := f.count(t, "SELECT COUNT(*) FROM territory_nodes")
		auditBefore := f.count(t, "SELECT COUNT(*) FROM audit_log")
		bad := collection(
			feat{"420106001002005", "overlapping", box(114.31, 30.51, 114.33, 30.53)},
			feat{"420106001002006", "bowtie", orb.Polygon{{{114.30, 30.50}, {114.31, 30.51}, {114.31, 30.50}, {114.30, 30.51}, {114.30, 30.50}}}},
			feat{"420106001002007", "outside", box(114.35, 30.50, 114.36, 30.51)},
			feat{"42010600100200X", "bad code", box(114.30, 30.50, 114.31, 30.51)},
		)
		res, err := f.svc.Import(f.ctx, f.admin, bad, false)
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad file accepted: %v", err)
		}
		want := map[int]string{0: "territory.problem.overlaps_sibling", 1: "territory.problem.self_intersection",
			2: "territory.problem.not_within_parent", 3: "territory.problem.code_format"}
		got := map[int]string{}
		for _, p := range res.Problems {
			got[p.Index] = p.Reason
		}
		for i, reason := range want {
			if got[i] != reason {
				t.Errorf("feature %d: reason %q, want %q (all: %+v)", i, got[i], reason, res.Problems)
			}
		}
		if n := f.count(t, "SELECT COUNT(*) FROM territory_nodes"); n != before {
			t.Fatalf("a rejected file wrote %d nodes", n-before)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM audit_log"); n != auditBefore {
			t.Fatal("a rejected file was audited as a change")
		}
	})
}

func TestLocate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cases := []struct {
			lng, lat float64
			want     string
		}{
			{114.31, 30.53, gridNW},
			{114.33, 30.53, gridNE},
			{114.31, 30.51, gridSW},
			{114.33, 30.51, gridSE},
			{114.32, 30.51, gridSE}, // on the north–south edge between SW and SE: east wins
			{114.31, 30.52, gridNW}, // on the east–west edge between NW and SW: north wins
			{114.50, 30.51, ""},     // outside the jurisdiction
		}
		for _, c := range cases {
			loc, err := f.svc.Locate(f.ctx, c.lng, c.lat, geo.WGS84)
			if err != nil {
				t.Fatal(err)
			}
			if loc.Code != c.want || loc.Inside != (c.want != "") {
				t.Errorf("(%v, %v) → %q inside=%v, want %q", c.lng, c.lat, loc.Code, loc.Inside, c.want)
			}
			if c.want != "" && (len(loc.Path) != 4 || loc.Path[0].Code != district || loc.Path[3].Code != c.want || loc.Path[2].NameZH != "Y社区") {
				t.Errorf("path of %s: %+v", c.want, loc.Path)
			}
		}
		// The same place given as AMap (GCJ-02) and Baidu (BD-09) coordinates.
		p := orb.Point{114.313, 30.527}
		for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
			q := geo.FromWGS84(p, crs)
			loc, err := f.svc.Locate(f.ctx, q[0], q[1], crs)
			if err != nil || loc.Code != gridNW {
				t.Errorf("%s input: %q %v", crs, loc.Code, err)
			}
		}
		if _, err := f.svc.Locate(f.ctx, 200, 30, geo.WGS84); errs.As(err).Fields["lng"] == "" {
			t.Errorf("bad longitude not named: %v", err)
		}
	})
}

func TestTheLowestEnclosingNodeWhenNoGridContainsThePoint(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// A second community with no grids yet: the locator answers the community.
		res, err := f.svc.Import(f.ctx, f.admin, collection(
			feat{district, "武昌区", box(114.30, 30.50, 114.38, 30.54)},
			feat{street, "中南路街道", box(114.30, 30.50, 114.38, 30.54)},
			feat{"420106001003", "Z社区", box(114.34, 30.50, 114.38, 30.54)},
		), false)
		if err != nil || res.Created != 1 || res.Updated != 2 {
			t.Fatalf("grow: %+v %v", res, err)
		}
		loc, _ := f.svc.Locate(f.ctx, 114.36, 30.52, geo.WGS84)
		if loc.Code != "420106001003" || loc.Kind != "community" {
			t.Fatalf("got %+v", loc)
		}
	})
}

func TestBoundaryEditKeepsHistoryAndReachesOtherNodes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// Another GridHall node on the same database: its own service and locator.
		other := territory.NewService(d, audit.New(d), f.auth, f.clock, territory.DefaultTolerance)
		if err := other.Locator().Refresh(f.ctx); err != nil {
			t.Fatal(err)
		}
		pt := orb.Point{114.325, 30.51}      // in SE now; in SW after the edit
		routed := other.Locator().Locate(pt) // what a case reported here now would store
		if routed.Code != gridSE || routed.Version == 0 {
			t.Fatalf("before: %+v", routed)
		}
		f.svc.AddBuildings(f.ctx, f.admin, []territory.NewBuilding{{Name: "3号楼", Address: "中南路3号", Lng: pt[0], Lat: pt[1], Households: 40}})

		// Move the SW/SE border east to 114.33: first an edit that overlaps SE is refused.
		geom := func(p orb.Polygon) json.RawMessage {
			b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": p})
			return b
		}
		res, err := f.svc.UpdateBoundary(f.ctx, f.admin, gridSW, geom(box(114.30, 30.50, 114.33, 30.52)))
		if !errs.Is(err, errs.Invalid) || len(res.Problems) != 1 || res.Problems[0].Reason != "territory.problem.overlaps_sibling" || res.Problems[0].Other != gridSE {
			t.Fatalf("overlapping edit: %+v %v", res, err)
		}
		// Shrink SE first, then grow SW: both valid.
		if _, err := f.svc.UpdateBoundary(f.ctx, f.admin, gridSE, geom(box(114.33, 30.50, 114.34, 30.52))); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateBoundary(f.ctx, f.admin, gridSW, geom(box(114.30, 30.50, 114.33, 30.52))); err != nil {
			t.Fatal(err)
		}
		if err := other.Locator().Refresh(f.ctx); err != nil {
			t.Fatal(err)
		}
		if loc := other.Locator().Locate(pt); loc.Code != gridSW {
			t.Fatalf("the other node still routes by the old boundary: %s", loc.Code)
		}
		hist, err := f.svc.History(f.ctx, f.admin, gridSW)
		if err != nil || len(hist) != 2 || hist[0].ValidTo == nil || hist[1].ValidTo != nil {
			t.Fatalf("history: %+v %v", hist, err)
		}
		// The version the earlier routing used is still on record, unchanged,
		// and still contains the point: the earlier answer stays explainable.
		histSE, _ := f.svc.History(f.ctx, f.admin, gridSE)
		var kept bool
		for _, v := range histSE {
			if v.ID == routed.Version && v.ValidTo != nil && geo.Contains(v.Boundary, pt) {
				kept = true
			}
		}
		if !kept || len(histSE) != 2 {
			t.Fatalf("the boundary version %d used for earlier routing is gone: %+v", routed.Version, histSE)
		}
		bs, _ := f.svc.Buildings(f.ctx, f.admin, territory.BuildingFilter{})
		if len(bs) != 1 || bs[0].GridCode != gridSW {
			t.Fatalf("building not re-found after the boundary change: %+v", bs)
		}
	})
}

func TestBuildingsAreScopedSearchableAndStaffed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var in []territory.NewBuilding
		for i, c := range [][2]float64{{114.31, 30.53}, {114.33, 30.53}, {114.31, 30.51}, {114.33, 30.51}} {
			for j := 0; j < 3; j++ {
				in = append(in, territory.NewBuilding{Name: fmt.Sprintf("%d号楼", i*3+j+1), Address: fmt.Sprintf("武昌区中南路%d号", i*3+j+1),
					Lng: c[0] + float64(j)*0.001, Lat: c[1], Households: 30})
			}
		}
		if _, err := f.svc.AddBuildings(f.ctx, f.admin, in); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddBuildings(f.ctx, f.admin, []territory.NewBuilding{{Name: "x", Address: "武昌区 中南路 １号", Lng: 114.31, Lat: 30.53}}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("duplicate address (after normalising) accepted: %v", err)
		}
		if _, err := f.svc.AddBuildings(f.ctx, f.admin, []territory.NewBuilding{{Name: "x", Address: "远方1号", Lng: 120, Lat: 30}}); errs.As(err).Fields["lng"] == "" {
			t.Fatalf("building outside the jurisdiction: %v", err)
		}

		mk := func(name string, role auth.Role, scope string) auth.User {
			u, err := f.auth.CreateUser(f.ctx, auth.SystemActor("t"), auth.NewUser{Username: name, Password: "password-" + name, Role: role, Scope: scope})
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
		worker := mk("wang", auth.GridWorker, community)
		staff := mk("chen", auth.CommunityStaff, community)
		for _, g := range []string{gridNW, gridSE} {
			if err := f.svc.Assign(f.ctx, f.admin, g, "wang", territory.DutyWorker); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.svc.Assign(f.ctx, f.admin, gridNW, "chen", territory.DutyLeader); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Assign(f.ctx, f.admin, community, "wang", territory.DutyWorker); errs.As(err).Fields["grid"] == "" {
			t.Fatalf("assigned to a community: %v", err)
		}
		// The worker's actor as the session layer builds it.
		s, err := f.auth.Login(f.ctx, auth.LoginInput{Username: "wang", Password: "password-wang", IP: "1.1.1.1"})
		if err != nil {
			t.Fatal(err)
		}
		wa, err := f.auth.Authenticate(f.ctx, s.ID)
		if err != nil || len(wa.Scopes) != 2 {
			t.Fatalf("worker scopes: %+v %v", wa.Scopes, err)
		}
		bs, err := f.svc.Buildings(f.ctx, wa, territory.BuildingFilter{})
		if err != nil || len(bs) != 6 {
			t.Fatalf("grid worker sees %d buildings, want the 6 of their two grids (%v)", len(bs), err)
		}
		for _, b := range bs {
			if b.GridCode != gridNW && b.GridCode != gridSE {
				t.Errorf("grid worker sees a building of %s", b.GridCode)
			}
		}
		sa := staff.Actor()
		if bs, err := f.svc.Buildings(f.ctx, sa, territory.BuildingFilter{}); err != nil || len(bs) != 12 {
			t.Fatalf("community staff sees %d buildings, want 12 (%v)", len(bs), err)
		}
		if bs, _ := f.svc.SearchBuildings(f.ctx, wa, "中南路1", 10); len(bs) == 0 || bs[0].Address != "武昌区中南路1号" && !strings.HasPrefix(bs[0].Address, "武昌区中南路1") {
			t.Errorf("search: %+v", bs)
		}
		if bs, _ := f.svc.SearchBuildings(f.ctx, sa, "中南路 １２", 5); len(bs) == 0 || bs[0].Address != "武昌区中南路12号" {
			t.Errorf("search with spaces and full-width digits: %+v", bs)
		}
		if bs, _ := f.svc.SearchBuildings(f.ctx, sa, "武中12", 5); len(bs) != 1 || bs[0].Address != "武昌区中南路12号" {
			t.Errorf("fuzzy search: %+v", bs)
		}
		card, err := f.svc.Card(f.ctx, sa, gridNW)
		if err != nil || len(card.Staff) != 2 || card.Buildings != 3 || card.BuildingHouseholds != 90 || card.HouseholdsPerWorker != 90 {
			t.Fatalf("card: %+v %v", card, err)
		}
		// Unassigning narrows the worker's scope at once.
		if err := f.svc.Unassign(f.ctx, f.admin, gridSE, "wang"); err != nil {
			t.Fatal(err)
		}
		wa, _ = f.auth.Authenticate(f.ctx, s.ID)
		if bs, _ := f.svc.Buildings(f.ctx, wa, territory.BuildingFilter{}); len(bs) != 3 {
			t.Fatalf("after unassigning: %d buildings", len(bs))
		}
		_ = worker
	})
}

func TestOnlyDistrictAdminsManageTheTerritory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, a := range []auth.Actor{
			{UserID: 5, Role: auth.SystemAdmin},
			{UserID: 6, Role: auth.CommunityStaff, Scope: "420106/420106001/420106001002"},
			{UserID: 7, Role: auth.DistrictAdmin, Scope: "420111"},
		} {
			if _, err := f.svc.Import(f.ctx, a, baseTerritory(), false); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s in %q imported: %v", a.Role, a.Scope, err)
			}
		}
	})
}

func FuzzParseFeatureCollection(f *testing.F) {
	f.Add(string(baseTerritory()))
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"420106"},"geometry":{"type":"Point","coordinates":[1,2]}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[null, 1, "x", {"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[[[1]]]]}}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		fs, ps := territory.ParseFeatureCollection([]byte(s))
		for _, p := range ps {
			if !strings.HasPrefix(p.Reason, "territory.problem.") {
				t.Fatalf("reason %q", p.Reason)
			}
		}
		for _, f := range fs {
			if _, ok := territory.LevelOf(f.Code); !ok || len(f.Shape) == 0 {
				t.Fatalf("accepted feature %+v", f)
			}
		}
	})
}

func TestADryRunWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		before := f.count(t, "SELECT COUNT(*) FROM territory_nodes")
		res, err := f.svc.Import(f.ctx, f.admin, collection(feat{"420106001002005", "新网格", box(114.33, 30.50, 114.331, 30.501)}), true)
		// It overlaps the south-east grid: rejected, dry run or not.
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("dry run of a bad file: %+v %v", res, err)
		}
		res, err = f.svc.Import(f.ctx, f.admin, collection(feat{gridSW, "第三网格（新）", box(114.30, 30.50, 114.32, 30.52)}), true)
		if err != nil || !res.DryRun || res.Updated != 1 {
			t.Fatalf("dry run: %+v %v", res, err)
		}
		if n := f.count(t, "SELECT COUNT(*) FROM territory_nodes"); n != before {
			t.Fatal("a dry run wrote")
		}
		if _, err := f.svc.Import(f.ctx, auth.Actor{UserID: 9, Role: auth.GridWorker, Scope: district}, []byte("not json"), false); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a grid worker learned parse problems: %v", err)
		}
	})
}

func TestStaffScopesMustNameRealPlacesOnceATerritoryExists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureEmpty(t, d)
		f.auth.SetScopeCheck(f.svc.ScopeKnown)
		console := auth.SystemActor("t")
		mk := func(name, scope string) error {
			_, err := f.auth.CreateUser(f.ctx, console, auth.NewUser{Username: name, Password: "password-" + name, Role: auth.CommunityStaff, Scope: scope})
			return err
		}
		if err := mk("early", "420999001002"); err != nil {
			t.Fatalf("before any territory, a well-formed scope is accepted: %v", err)
		}
		if _, err := f.svc.Import(f.ctx, f.admin, baseTerritory(), false); err != nil {
			t.Fatal(err)
		}
		if err := mk("late", "420999001002"); errs.As(err).Fields["scope"] != "error.scope.unknown" {
			t.Fatalf("a scope outside the territory was accepted: %v", err)
		}
		if err := mk("right", community); err != nil {
			t.Fatalf("a real community refused: %v", err)
		}
	})
}
