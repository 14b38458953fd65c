package export

import (
	"context"
	"strings"
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

// stack is the real service stack exports stand on: the demo street
// (territory, buildings, accounts), the built-in catalogue and calendar,
// the case service and the export service writing into a temporary
// directory, on database d with a fake clock.
type stack struct {
	ctx   context.Context
	d     *db.DB
	clock *clock.Fake
	audit *audit.Log
	auth  *auth.Service
	terr  *territory.Service
	cases *cases.Service
	svc   *Service
	deps  Deps
	dir   string
}

// start is a Monday morning in Beijing.
var start = time.Date(2026, 11, 16, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// The categories the tests report in.
const (
	dispute = "M90002"
	repair  = "M92001"
)

var testMasterKey, _ = seal.GenerateMasterKey()

func newStack(t testing.TB, d *db.DB, cfg Config) *stack {
	t.Helper()
	s := node(t, d, clock.NewFake(start), cfg)
	if err := demo.Seed(s.ctx, s.auth, s.terr, "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	if err := s.terr.Locator().Refresh(s.ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// node builds the services of one GridHall node on d without seeding the
// territory: a second node on the same PostgreSQL shares the first's data
// (and, as a deployment must, its export directory).
func node(t testing.TB, d *db.DB, c *clock.Fake, cfg Config) *stack {
	t.Helper()
	ctx := context.Background()
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
	cat := catalog.NewService(d, al, c)
	cal := calendar.NewService(d, al, c)
	if _, err := cat.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cal.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	tr, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := seal.Open(ctx, d, testMasterKey)
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(cases.Deps{DB: d, Audit: al, Clock: c, Territory: terr, Users: a, Catalog: cat, Calendar: cal,
		Keys: keys, I18n: tr}, cases.DefaultConfig())
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	deps := Deps{DB: d, Audit: al, Clock: c, Cases: cs, Users: a, I18n: tr}
	return &stack{ctx: ctx, d: d, clock: c, audit: al, auth: a, terr: terr, cases: cs, deps: deps, dir: cfg.Dir, svc: New(deps, cfg)}
}

// as returns the actor an account acts as, with its grids.
func (s *stack) as(t testing.TB, name string) auth.Actor {
	t.Helper()
	u, err := s.auth.UserByName(s.ctx, auth.SystemActor("test"), name)
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.auth.ActorOf(s.ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// buildingIn returns a demo building inside the community with code.
func (s *stack) buildingIn(t testing.TB, community string) territory.Building {
	t.Helper()
	bs, err := s.terr.Buildings(s.ctx, auth.SystemActorAs("test", auth.DistrictAdmin), territory.BuildingFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if strings.HasPrefix(b.GridCode, community) {
			return b
		}
	}
	t.Fatalf("no building in %s", community)
	return territory.Building{}
}

// report files a resident's web report with a contact at building b.
func (s *stack) report(t testing.TB, b territory.Building, category, text string, contact cases.Contact, anonymous bool) cases.Case {
	t.Helper()
	lng, lat := b.Lng, b.Lat
	in, err := s.cases.Report(s.ctx, s.as(t, "resident"), cases.NewCase{Category: category, Description: text, Lng: &lng, Lat: &lat,
		Channel: cases.Web, Contact: contact, Anonymous: anonymous})
	if err != nil {
		t.Fatalf("report: %v", err)
	}
	return in.Case
}

// auditOf returns the audit entries with action, oldest first.
func (s *stack) auditOf(t testing.TB, action string) []audit.Entry {
	t.Helper()
	es, err := s.audit.List(s.ctx, audit.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Entry
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Action == action {
			out = append(out, es[i])
		}
	}
	return out
}
