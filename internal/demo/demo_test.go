package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/territory"
)

func TestTheDemoIsCommunityYsStreet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		c := clock.System{}
		al := audit.New(d)
		a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
			LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
		terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
		if err := demo.Seed(ctx, a, terr, "demo-password-1"); err != nil {
			t.Fatal(err)
		}
		district := auth.Actor{UserID: 1, Role: auth.DistrictAdmin, Scope: demo.DistrictCode}
		nodes, err := terr.Tree(ctx, district, territory.MicroGrid)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, n := range nodes {
			kinds[n.Kind()]++
		}
		if kinds["community"] != 4 || kinds["grid"] < 18 || kinds["grid"] > 24 {
			t.Fatalf("demo territory: %v", kinds)
		}
		var households, buildings int
		var after int64
		for {
			bs, err := terr.Buildings(ctx, district, territory.BuildingFilter{AfterID: after, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				households += b.Households
				buildings++
				// Every building was placed in the grid that contains it.
				if loc := terr.Locator().Locate(orb.Point{b.Lng, b.Lat}); loc.Code != b.GridCode || len(b.GridCode) != 15 {
					t.Errorf("building %s in %s, located in %s", b.Name, b.GridCode, loc.Code)
				}
			}
			if len(bs) < 500 {
				break
			}
			after = bs[len(bs)-1].ID
		}
		if households != demo.Households || buildings < 70 {
			t.Fatalf("%d households in %d buildings", households, buildings)
		}
		staff, err := terr.Staff(ctx, district, "")
		if err != nil {
			t.Fatal(err)
		}
		workers, leaders := map[string]int{}, 0
		for _, m := range staff {
			if m.Duty == territory.DutyWorker {
				workers[m.Username]++
			} else {
				leaders++
			}
		}
		if len(workers) != 10 || leaders != kinds["grid"] {
			t.Fatalf("%d workers, %d leaders for %d grids", len(workers), leaders, kinds["grid"])
		}
		// Every login works, and a grid worker acts in exactly their grids.
		for _, acc := range demo.Accounts() {
			s, err := a.Login(ctx, auth.LoginInput{Username: acc.Username, Password: "demo-password-1", IP: "127.0.0.1"})
			if err != nil {
				t.Fatalf("login %s: %v", acc.Username, err)
			}
			if acc.Role == auth.GridWorker {
				act, _ := a.Authenticate(ctx, s.ID)
				if len(act.Scopes) != 2 {
					t.Errorf("%s acts in %v", acc.Username, act.Scopes)
				}
			}
		}
		// Community Y's first grid is numbered from the north-west corner.
		loc := terr.Locator().Locate(orb.Point{114.3003, 30.5507})
		if loc.Code != "420106001001001" {
			t.Errorf("north-west corner of Community Y located in %q", loc.Code)
		}
	})
}
