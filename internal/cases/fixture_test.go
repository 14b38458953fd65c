package cases_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// stack is the real service stack every case test stands on: the demo
// street (territory, buildings, accounts and grid assignments), the
// built-in catalogue and calendar, and the case service, on database d with
// clock c. Department handlers "water1" (water) and "fire1" (fire) and a
// resident "r1" are added.
type stack struct {
	ctx   context.Context
	d     *db.DB
	clock *clock.Fake
	auth  *auth.Service
	terr  *territory.Service
	cat   *catalog.Service
	cal   *calendar.Service
	svc   *cases.Service
	users map[string]auth.Actor
}

// start is a Monday morning in Beijing, far from holidays.
var start = time.Date(2026, 11, 16, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

func newStack(t testing.TB, d *db.DB, c *clock.Fake) *stack {
	t.Helper()
	s := node(t, d, c)
	if err := demo.Seed(s.ctx, s.auth, s.terr, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := s.terr.Locator().Refresh(s.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.cat.Seed(s.ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.cal.Seed(s.ctx); err != nil {
		t.Fatal(err)
	}
	ctx, a, cat := s.ctx, s.auth, s.cat
	console := auth.SystemActor("test")
	for _, u := range []auth.NewUser{
		{Username: "water1", DisplayName: "水务", Password: "correct horse battery", Role: auth.DepartmentHandler, Scope: "420106"},
		{Username: "fire1", DisplayName: "消防", Password: "correct horse battery", Role: auth.DepartmentHandler, Scope: "420106"},
		{Username: "r1", DisplayName: "居民", Password: "correct horse battery", Role: auth.Resident},
		{Username: "r2", DisplayName: "居民二", Password: "correct horse battery", Role: auth.Resident},
	} {
		if _, err := a.CreateUser(ctx, console, u); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range [][2]string{{"water", "water1"}, {"fire", "fire1"}} {
		u, err := a.UserByName(ctx, console, m[1])
		if err != nil {
			t.Fatal(err)
		}
		if err := cat.AddMember(ctx, console, m[0], u.ID); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// node builds the services of one GridHall node on d, without seeding:
// a second node on the same PostgreSQL shares the first one's data.
func node(t testing.TB, d *db.DB, c *clock.Fake) *stack {
	t.Helper()
	ctx := context.Background()
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
	cat := catalog.NewService(d, al, c)
	cal := calendar.NewService(d, al, c)
	tr, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.Open(ctx, d, testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{ctx: ctx, d: d, clock: c, auth: a, terr: terr, cat: cat, cal: cal, users: map[string]auth.Actor{}}
	s.svc = cases.NewService(cases.Deps{DB: d, Audit: al, Clock: c, Territory: terr, Users: a, Catalog: cat, Calendar: cal,
		Keys: keys, I18n: tr}, cases.DefaultConfig())
	return s
}

// testMasterKey is shared by every node of a test, as a real deployment's
// nodes share theirs.
var testMasterKey, _ = seal.GenerateMasterKey()

// as returns the actor an account acts as, with its grids.
func (s *stack) as(t testing.TB, name string) auth.Actor {
	t.Helper()
	if a, ok := s.users[name]; ok {
		return a
	}
	u, err := s.auth.UserByName(s.ctx, auth.SystemActor("test"), name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.auth.ActorOf(s.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.users[name] = a
	return a
}

// buildingIn returns a demo building and the grid path it lies in.
func (s *stack) building(t testing.TB, i int) territory.Building {
	t.Helper()
	bs, err := s.terr.Buildings(s.ctx, auth.SystemActorAs("test", auth.DistrictAdmin), territory.BuildingFilter{Limit: 200})
	if err != nil || len(bs) <= i {
		t.Fatalf("buildings: %v (%d)", err, len(bs))
	}
	return bs[i]
}

// workerOf is the grid worker assigned to the grid with code.
func (s *stack) workerOf(t testing.TB, grid string) string {
	t.Helper()
	staff, err := s.terr.Staff(s.ctx, auth.SystemActorAs("test", auth.DistrictAdmin), grid)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range staff {
		if m.Duty == territory.DutyWorker {
			return m.Username
		}
	}
	t.Fatalf("no grid worker for %s", grid)
	return ""
}

// report files a resident's web report at building b.
func (s *stack) report(t testing.TB, who auth.Actor, b territory.Building, category, text string) cases.Case {
	t.Helper()
	lng, lat := b.Lng, b.Lat
	in, err := s.svc.Report(s.ctx, who, cases.NewCase{Category: category, Description: text, Lng: &lng, Lat: &lat, Channel: cases.Web})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return in.Case
}

func (s *stack) act(t testing.TB, who string, id int64, a cases.Action, in cases.Input) cases.Case {
	t.Helper()
	c, err := s.svc.Act(s.ctx, s.as(t, who), id, a, in)
	if err != nil {
		t.Fatalf("%s %s: %v", who, a, err)
	}
	return c
}

// photo is a small JPEG.
func photo(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func photos(t testing.TB, n int) []cases.Upload {
	out := make([]cases.Upload, n)
	for i := range out {
		out[i] = cases.Upload{Name: "p.jpg", R: bytes.NewReader(photo(t))}
	}
	return out
}
