package demo_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// caseStack is the demo street with everything its cases need, and a case
// service whose clock stands at now, where the history ends.
type caseStack struct {
	ctx   context.Context
	d     *db.DB
	deps  cases.Deps
	svc   *cases.Service
	auth  *auth.Service
	now   time.Time
	users map[string]auth.Actor
}

func newCaseStack(t testing.TB, d *db.DB, now time.Time) *caseStack {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(now)
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
	if err := demo.Seed(ctx, a, terr, "demo-password-1"); err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(d, al, c)
	if _, err := cat.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	cal := calendar.NewService(d, al, c)
	if err := cal.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedDepartments(ctx, a, cat); err != nil {
		t.Fatal(err)
	}
	tr, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	deps := cases.Deps{DB: d, Audit: al, Clock: c, Territory: terr, Users: a, Catalog: cat, Calendar: cal, Keys: keys, I18n: tr}
	return &caseStack{ctx: ctx, d: d, deps: deps, svc: cases.NewService(deps, cases.DefaultConfig()), auth: a, now: now,
		users: map[string]auth.Actor{}}
}

func (s *caseStack) as(t testing.TB, name string) auth.Actor {
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

// all pages through a queue to its end.
func (s *caseStack) all(t testing.TB, who string, f cases.Filter) []cases.Item {
	t.Helper()
	var out []cases.Item
	f.Limit = 200
	for {
		p, err := s.svc.List(s.ctx, s.as(t, who), f)
		if err != nil {
			t.Fatalf("%s lists %s: %v", who, f.Queue, err)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		f.After = p.Next
	}
}

// A Monday morning: the weekend's reports wait, the week's work is under way.
var historyEnd = time.Date(2026, 11, 16, 10, 20, 0, 0, calendar.Location())

// short is a history small enough for every test run on both engines; it
// takes the same paths as the year.
var short = demo.CaseVolume{Days: 28, PerDay: 6, Seed: 7}

func TestTheDemoHistoryShowsEveryOpenStateAndLightWithConsistentFigures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newCaseStack(t, d, historyEnd)
		sum, err := demo.SeedCasesOver(s.ctx, s.deps, s.now, short)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", sum)
		checkHistory(t, s, sum)
	})
}

// TestTheDemoHistoryShowsEveryLightWhenItEndsOffHours ends the history in
// the night of a public holiday and of a Saturday: the lights are counted
// in working time, so the demo shows them whenever it is started.
func TestTheDemoHistoryShowsEveryLightWhenItEndsOffHours(t *testing.T) {
	for _, end := range []time.Time{
		time.Date(2026, 10, 3, 2, 0, 0, 0, calendar.Location()),    // National Day holiday
		time.Date(2026, 11, 21, 23, 30, 0, 0, calendar.Location()), // Saturday night
	} {
		t.Run(end.Format("2006-01-02T15:04"), func(t *testing.T) {
			s := newCaseStack(t, dbtest.Open(t, db.SQLite), end)
			sum, err := demo.SeedCasesOver(s.ctx, s.deps, s.now, demo.CaseVolume{Days: 14, PerDay: 6, Seed: 5})
			if err != nil {
				t.Fatal(err)
			}
			checkHistory(t, s, sum)
		})
	}
}

// checkHistory proves what every demo history must show, and returns the
// street's figures.
func checkHistory(t *testing.T, s *caseStack, sum demo.CaseSummary) cases.Figures {
	t.Helper()
	var n int
	if err := s.d.QueryRowContext(s.ctx, "SELECT COUNT(*) FROM cases").Scan(&n); err != nil || n != sum.Cases {
		t.Fatalf("%d cases stored (%v), summary says %d", n, err, sum.Cases)
	}
	if sum.Actions < 5*sum.Cases || sum.Timers == 0 {
		t.Errorf("%d actions and %d timers on %d cases", sum.Actions, sum.Timers, sum.Cases)
	}

	// Every open state holds cases, and every state with a clock shows
	// every light.
	for _, st := range cases.OpenStates {
		items := s.all(t, "street", cases.Filter{Queue: cases.QAll, State: st, Sort: "new"})
		lights := map[calendar.Light]int{}
		for _, it := range items {
			lights[it.Light]++
		}
		if len(items) == 0 {
			t.Errorf("no %s cases", st)
			continue
		}
		if st == cases.Suspended {
			if lights[calendar.None] != len(items) {
				t.Errorf("suspended cases show lights %v", lights)
			}
			continue
		}
		for _, l := range []calendar.Light{calendar.Green, calendar.Yellow, calendar.Red} {
			if lights[l] == 0 {
				t.Errorf("%d %s cases, none %s: %v", len(items), st, l, lights)
			}
		}
	}

	// Every work queue has work in it for someone who works it.
	workers := map[cases.Queue][]string{
		cases.QAccept: {"street"}, cases.QRegister: {"street"}, cases.QDispatch: {"street"}, cases.QClose: {"street"},
		cases.QApprove: {"street"}, cases.QOverdue: {"street"},
		cases.QSign: {"water", "sanitation", "housing", "community", "property", "urban-mgmt"},
	}
	workers[cases.QHandle] = workers[cases.QSign]
	for i := range 10 {
		gw := fmt.Sprintf("gw%02d", i+1)
		workers[cases.QVerify] = append(workers[cases.QVerify], gw)
		workers[cases.QCheck] = append(workers[cases.QCheck], gw)
	}
	for q, who := range workers {
		found := 0
		for _, name := range who {
			p, err := s.svc.List(s.ctx, s.as(t, name), cases.Filter{Queue: q, Limit: 5})
			if err != nil {
				t.Fatalf("%s lists %s: %v", name, q, err)
			}
			found += len(p.Items)
		}
		if found == 0 {
			t.Errorf("queue %s is empty for %v", q, who)
		}
	}
	if p, err := s.svc.List(s.ctx, s.as(t, "resident"), cases.Filter{Queue: cases.QMine}); err != nil || len(p.Items) == 0 {
		t.Errorf("the resident follows no cases (%v)", err)
	}

	// The street's figures add up.
	f, err := s.svc.Figures(s.ctx, s.as(t, "street"), cases.FiguresQuery{Territory: demo.StreetCode,
		From: s.now.AddDate(-1, 0, -1), To: s.now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if !(f.Closed <= f.Handled && f.Handled <= f.Dispatched && f.Dispatched <= f.Registered && f.Registered <= f.Reported) ||
		f.Reported != sum.Cases || f.Closed != sum.States[cases.Closed] || f.Closed == 0 {
		t.Errorf("figures out of order: reported %d, registered %d, dispatched %d, handled %d, closed %d (summary %v)",
			f.Reported, f.Registered, f.Dispatched, f.Handled, f.Closed, sum.States)
	}
	if f.Satisfied+f.Basically+f.Unsatisfied != f.Rated || f.Rated == 0 || f.Rated > f.Closed ||
		f.HandledOnTime > f.Handled || f.ClosedOnTime > f.Closed || f.Overdue == 0 || f.Cancelled > f.Registered {
		t.Errorf("figures inconsistent: %+v", f)
	}

	// Stage rows follow the cases: closed, rejected and cancelled cases have
	// no running stage; every other case with a clock has exactly one.
	var bad int
	if err := s.d.QueryRowContext(s.ctx, `SELECT COUNT(*) FROM cases c WHERE
		(SELECT COUNT(*) FROM case_stages s WHERE s.case_id = c.id AND s.done_at IS NULL) <>
		CASE WHEN c.state IN ('closed', 'rejected', 'cancelled') THEN 0 ELSE 1 END`).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("%d cases whose running stages disagree with their state (%v)", bad, err)
	}
	// Every case's timeline starts with its report and ends in its state.
	if err := s.d.QueryRowContext(s.ctx, `SELECT COUNT(*) FROM cases c WHERE
		(SELECT e.action FROM case_events e WHERE e.case_id = c.id ORDER BY e.id LIMIT 1) <> 'report'
		OR (SELECT e.to_state FROM case_events e WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1) <> c.state`).Scan(&bad); err != nil || bad != 0 {
		t.Errorf("%d cases whose timeline disagrees with their state (%v)", bad, err)
	}

	// Every step is in the audit log, and the chain holds.
	rep, err := audit.New(s.d).Verify(s.ctx)
	if err != nil {
		t.Fatalf("audit chain: %v %+v", err, rep.Problem)
	}
	if rep.Entries < int64(sum.Cases+sum.Actions) {
		t.Errorf("%d audit entries for %d reports and %d actions", rep.Entries, sum.Cases, sum.Actions)
	}
	if !slices.ContainsFunc(s.all(t, "street", cases.Filter{Queue: cases.QOverdue}), func(it cases.Item) bool { return it.Overdue }) {
		t.Error("no overdue case in the supervisor's queue")
	}
	return f
}

func TestTheDemoHistoryIsTheSameForTheSameSeed(t *testing.T) {
	v := demo.CaseVolume{Days: 6, PerDay: 6, Seed: 11}
	rows := func() []string {
		s := newCaseStack(t, dbtest.Open(t, db.SQLite), historyEnd)
		if _, err := demo.SeedCasesOver(s.ctx, s.deps, s.now, v); err != nil {
			t.Fatal(err)
		}
		r, err := s.d.QueryContext(s.ctx, `SELECT number || category_code || state || grid_path || created_at || updated_at || rating
			FROM cases ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var out []string
		for r.Next() {
			var x string
			if err := r.Scan(&x); err != nil {
				t.Fatal(err)
			}
			out = append(out, x)
		}
		return out
	}
	a, b := rows(), rows()
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("two histories of the same seed differ: %d and %d cases", len(a), len(b))
	}
}
