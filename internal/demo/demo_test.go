package demo_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
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

// TestTheDemoRegistryIsCommunityYsPeopleAndKeepsTheirNumbersPrivate seeds
// the whole demo on SQLite, then reads the database files as raw bytes.
func TestTheDemoRegistryIsCommunityYsPeopleAndKeepsTheirNumbersPrivate(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	c := clock.System{}
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
	if err := demo.Seed(ctx, a, terr, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	ps := people.NewService(d, al, keys, terr, c)
	sum, err := demo.SeedPeople(ctx, ps, terr, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Households != demo.Households || sum.Residents < 7000 || sum.Residents > 8000 {
		t.Fatalf("%d residents in %d households", sum.Residents, sum.Households)
	}
	if share := float64(sum.Aged60) / float64(sum.Residents); share < 0.20 || share > 0.28 {
		t.Fatalf("%.1f%% aged 60+, want about 24%%", share*100)
	}
	// Every generated identity number is valid and unique.
	seen := map[string]bool{}
	for _, n := range sum.Documents {
		if _, p := people.ParseIDCard(n, time.Now()); p != "" || seen[n] {
			t.Fatalf("identity number %s…: %s (duplicate %v)", n[:6], p, seen[n])
		}
		seen[n] = true
	}
	d.Close()
	var raw []byte
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(d.Path() + suffix)
		raw = append(raw, b...)
	}
	if len(raw) < 1<<20 {
		t.Fatalf("read only %d bytes", len(raw))
	}
	// One pass over the bytes: every window of 11 or 18 characters inside a
	// run of digits (and X) is looked up among the secrets.
	secrets := map[string]bool{}
	for _, n := range append(sum.Documents, sum.Phones...) {
		secrets[n] = true
	}
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' || c == 'X' }
	for i := 0; i < len(raw); {
		if !isDigit(raw[i]) {
			i++
			continue
		}
		j := i
		for j < len(raw) && isDigit(raw[j]) {
			j++
		}
		for _, w := range []int{11, 18} {
			for k := i; k+w <= j; k++ {
				if secrets[string(raw[k:k+w])] {
					t.Fatalf("the database file holds %s… in plain text", raw[k:k+4])
				}
			}
		}
		i = j
	}
}
