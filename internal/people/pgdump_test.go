package people_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// TestAPostgreSQLDumpHoldsNoNumbers registers residents on PostgreSQL and
// reads a pg_dump of the schema, the way a backup leaves the building.
func TestAPostgreSQLDumpHoldsNoNumbers(t *testing.T) {
	if len(dbtest.Engines(t)) < 2 {
		t.Skip("PostgreSQL tier not configured (set " + dbtest.PostgresEnv + ")")
	}
	pgDump, err := exec.LookPath("pg_dump")
	if err != nil {
		pgDump = "/usr/lib/postgresql/15/bin/pg_dump"
	}
	if _, err := os.Stat(pgDump); err != nil {
		t.Fatalf("pg_dump not found: %v", err)
	}
	o := dbtest.Options(t, db.Postgres)
	d, err := db.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.Migrate(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	al := audit.New(d)
	a := auth.NewService(d, al, clock.System{}, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 5, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, clock.System{}, territory.DefaultTolerance)
	planner := auth.SystemActorAs("t", auth.DistrictAdmin)
	if _, err := terr.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}
	bs, err := terr.AddBuildings(ctx, planner, []territory.NewBuilding{{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507}})
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	ps := people.NewService(d, al, keys, terr, clock.System{})
	staff := auth.SystemActorAs("t", auth.CommunityStaff)
	h, err := ps.AddHouse(ctx, staff, people.NewHouse{BuildingID: bs[0].ID, Unit: "1", Number: "101", Floor: 1})
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	var household int64
	for i := 0; i < 12; i++ {
		id := people.GenerateIDNumber("420106", time.Date(1950+i*5, 6, 1+i, 0, 0, 0, 0, time.UTC), i%2 == 0, i)
		phone := "1390000" + string(rune('1'+i%9)) + "234"
		in := people.NewResident{Name: "住户", DocumentNumber: id, Phone: phone}
		if i == 0 {
			in.HouseID = h.ID
		} else {
			in.HouseholdID, in.Relation = household, people.Other
		}
		r, err := ps.AddResident(ctx, staff, in)
		if err != nil {
			t.Fatal(err)
		}
		household = r.HouseholdID
		secrets = append(secrets, id, phone)
	}
	u, _ := url.Parse(o.PostgresDSN)
	schema := u.Query().Get("search_path")
	q := url.Values{"sslmode": {"disable"}}
	u.RawQuery = q.Encode()
	out, err := exec.Command(pgDump, "--schema="+schema, "--no-owner", u.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}
	dump := string(out)
	if !strings.Contains(dump, "COPY "+schema+".residents") || !strings.Contains(dump, "s1.") {
		t.Fatalf("the dump holds no residents (%d bytes)", len(dump))
	}
	for _, s := range secrets {
		if strings.Contains(dump, s) {
			t.Fatalf("the dump holds %s… in plain text", s[:4])
		}
	}
}
