// Package demo seeds a demonstration database: the street of the "Community
// Y" case in DOMAIN.md — four communities in a central business district,
// twenty grids, buildings for 2,630 households, ten full-time grid workers
// and fifteen community workers — so that `gridhall demo` shows a living
// installation. Later capabilities add their own demo data here.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/territory"
)

// Codes of the demo territory.
const (
	DistrictCode = "420106"
	StreetCode   = "420106001"
)

// Households is the number of households of the case.
const Households = 2630

// Account is a demo login.
type Account struct {
	Username string
	Name     string
	Role     auth.Role
	Scope    string
}

type community struct {
	code, nameZH, nameEN, road string
	bound                      orb.Bound
	nx, ny                     int
	staff                      int // community workers
}

// The street is about 1.5 km × 1.2 km of Wuchang's business district,
// split unevenly into four communities.
var (
	streetBound   = orb.Bound{Min: orb.Point{114.3000, 30.5400}, Max: orb.Point{114.3160, 30.5510}}
	districtBound = orb.Bound{Min: orb.Point{114.2900, 30.5300}, Max: orb.Point{114.3260, 30.5610}}
	communities   = []community{
		{"420106001001", "Y社区", "Community Y", "中南一路", orb.Bound{Min: orb.Point{114.3000, 30.5455}, Max: orb.Point{114.3085, 30.5510}}, 3, 2, 4},
		{"420106001002", "丁字桥社区", "Dingziqiao Community", "丁字桥路", orb.Bound{Min: orb.Point{114.3085, 30.5455}, Max: orb.Point{114.3160, 30.5510}}, 2, 2, 4},
		{"420106001003", "中南二路社区", "Zhongnan 2nd Road Community", "中南二路", orb.Bound{Min: orb.Point{114.3000, 30.5400}, Max: orb.Point{114.3085, 30.5455}}, 3, 2, 4},
		{"420106001004", "民主路社区", "Minzhu Road Community", "民主路", orb.Bound{Min: orb.Point{114.3085, 30.5400}, Max: orb.Point{114.3160, 30.5455}}, 2, 2, 3},
	}
)

func rect(b orb.Bound) orb.Polygon {
	return orb.Polygon{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}

type gridInfo struct {
	code  string
	shape orb.Polygon
	comm  int
}

// grids cuts every community into its grids, numbered west→east,
// north→south as the standard asks.
func grids() []gridInfo {
	var out []gridInfo
	for ci, c := range communities {
		for i, p := range geo.GenerateGrids(c.bound, c.nx, c.ny, int64(ci+1)) {
			out = append(out, gridInfo{code: fmt.Sprintf("%s%03d", c.code, i+1), shape: p, comm: ci})
		}
	}
	return out
}

// TerritoryGeoJSON returns the demo territory as a GeoJSON FeatureCollection.
func TerritoryGeoJSON() []byte {
	type feature struct {
		Type       string         `json:"type"`
		Properties map[string]any `json:"properties"`
		Geometry   map[string]any `json:"geometry"`
	}
	f := func(code, zh, en string, p orb.Polygon) feature {
		return feature{"Feature", map[string]any{"code": code, "name": zh, "name_en": en},
			map[string]any{"type": "Polygon", "coordinates": p}}
	}
	fs := []feature{
		f(DistrictCode, "武昌区", "Wuchang District", rect(districtBound)),
		f(StreetCode, "中南路街道", "Zhongnanlu Street", rect(streetBound)),
	}
	for _, c := range communities {
		fs = append(fs, f(c.code, c.nameZH, c.nameEN, rect(c.bound)))
	}
	for _, g := range grids() {
		c := communities[g.comm]
		n := g.code[len(g.code)-3:]
		fs = append(fs, f(g.code, fmt.Sprintf("%s第%d网格", c.nameZH, atoi(n)), fmt.Sprintf("%s, grid %d", c.nameEN, atoi(n)), g.shape))
	}
	b, _ := json.Marshal(map[string]any{"type": "FeatureCollection", "features": fs})
	return b
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// Accounts lists the demo logins.
func Accounts() []Account {
	as := []Account{
		{"admin", "系统管理员", auth.SystemAdmin, ""},
		{"district", "区网格中心", auth.DistrictAdmin, DistrictCode},
		{"street", "街道指挥中心", auth.StreetStaff, StreetCode},
		{"auditor", "审计员", auth.Auditor, ""},
	}
	// One handler for each department that most cases go to, and a resident
	// who reports problems.
	for _, d := range DepartmentAccounts {
		as = append(as, Account{d[0], d[1], auth.DepartmentHandler, DistrictCode})
	}
	as = append(as, Account{"resident", "居民王女士", auth.Resident, ""})
	surnames := []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高"}
	given := []string{"丽", "伟", "芳", "敏", "静", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明"}
	n := 0
	for ci, c := range communities {
		for j := 0; j < c.staff; j++ {
			n++
			as = append(as, Account{fmt.Sprintf("cs%02d", n), surnames[(n-1)%15] + given[(n+ci)%15], auth.CommunityStaff, pathOf(c.code)})
		}
	}
	gs := grids()
	for i := 0; i < 10; i++ {
		// Each worker covers two neighbouring grids of one community.
		as = append(as, Account{fmt.Sprintf("gw%02d", i+1), surnames[(i+7)%15] + given[(i+3)%15], auth.GridWorker, pathOf(communities[gs[2*i].comm].code)})
	}
	return as
}

// DepartmentAccounts are the demo's department handlers: user name (also
// the department code), display name.
var DepartmentAccounts = [][2]string{
	{"water", "水务局办事员"}, {"sanitation", "环卫所办事员"}, {"housing", "住建局办事员"},
	{"community", "社区工作站"}, {"property", "物业服务中心"}, {"urban-mgmt", "城管执法队"},
}

// SeedDepartments makes each demo department handler a member of its
// department in the catalogue.
func SeedDepartments(ctx context.Context, authSvc *auth.Service, cat *catalog.Service) error {
	console := auth.SystemActor("demo")
	for _, d := range DepartmentAccounts {
		u, err := authSvc.UserByName(ctx, console, d[0])
		if err != nil {
			return fmt.Errorf("demo department account %s: %w", d[0], err)
		}
		if err := cat.AddMember(ctx, console, d[0], u.ID); err != nil {
			return fmt.Errorf("demo department %s: %w", d[0], err)
		}
	}
	return nil
}

func pathOf(code string) string {
	p, _ := auth.ScopeFromCode(code)
	return p
}

// Seed writes the demo into an empty database: the territory, the buildings
// and the accounts with their grid assignments, all with password.
func Seed(ctx context.Context, authSvc *auth.Service, terr *territory.Service, password string) error {
	console := auth.SystemActor("demo")
	for _, a := range Accounts() {
		if _, err := authSvc.CreateUser(ctx, console, auth.NewUser{Username: a.Username, DisplayName: a.Name, Password: password, Role: a.Role, Scope: a.Scope}); err != nil {
			return fmt.Errorf("demo account %s: %w", a.Username, err)
		}
	}
	planner := auth.SystemActorAs("demo", auth.DistrictAdmin)
	if _, err := terr.Import(ctx, planner, TerritoryGeoJSON(), false); err != nil {
		return fmt.Errorf("demo territory: %w", err)
	}
	if _, err := terr.AddBuildings(ctx, planner, Buildings()); err != nil {
		return fmt.Errorf("demo buildings: %w", err)
	}
	gs := grids()
	for i, g := range gs {
		if err := terr.Assign(ctx, planner, g.code, fmt.Sprintf("gw%02d", i/2+1), territory.DutyWorker); err != nil {
			return fmt.Errorf("demo staff: %w", err)
		}
	}
	// Each grid's leader is a community worker of its community.
	first := map[int]int{}
	n := 0
	for ci, c := range communities {
		first[ci] = n + 1
		n += c.staff
	}
	for i, g := range gs {
		leader := fmt.Sprintf("cs%02d", first[g.comm]+i%communities[g.comm].staff)
		if err := terr.Assign(ctx, planner, g.code, leader, territory.DutyLeader); err != nil {
			return fmt.Errorf("demo grid leader: %w", err)
		}
	}
	return nil
}

// Buildings returns the demo buildings: residential blocks spread over the
// grids, with 20–36 households each, 2,630 in all.
func Buildings() []territory.NewBuilding {
	rng := rand.New(rand.NewPCG(2630, 7500))
	gs := grids()
	var out []territory.NewBuilding
	left := Households
	numbers := map[string]int{}
	for i := 0; left > 0; i++ {
		g := gs[i%len(gs)]
		c := communities[g.comm]
		h := min(left, 20+rng.IntN(17))
		left -= h
		b := g.shape.Bound()
		var p orb.Point
		for {
			p = orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			if geo.Contains(orb.MultiPolygon{g.shape}, p) {
				break
			}
		}
		numbers[c.road]++
		n := numbers[c.road]
		out = append(out, territory.NewBuilding{
			Name: fmt.Sprintf("%s%d号楼", c.nameZH, n), Address: fmt.Sprintf("武汉市武昌区%s%d号", c.road, n),
			Lng: p[0], Lat: p[1], Units: 1 + h/12, Floors: 6 + rng.IntN(13), Households: h,
		})
	}
	return out
}
