package cases_test

import (
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/i18n"
)

// rawFigures counts the facts of the cases reported in the street in
// [from, to) straight from the cases table: the oracle for the summary the
// triggers keep.
func rawFigures(t *testing.T, s *stack, from, to time.Time) cases.Figures {
	t.Helper()
	var f cases.Figures
	err := s.d.QueryRowContext(s.ctx, `SELECT COUNT(*),
		COUNT(registered_at),
		COALESCE(SUM(CASE WHEN state = 'cancelled' AND registered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COUNT(dispatched_at),
		COALESCE(SUM(CASE WHEN redispatches > 0 THEN 1 ELSE 0 END), 0),
		COUNT(handled_at),
		COALESCE(SUM(CASE WHEN handled_on_time THEN 1 ELSE 0 END), 0),
		COUNT(closed_at),
		COALESCE(SUM(CASE WHEN closed_on_time THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN reworks > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN extensions > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN suspensions > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN overdue AND handled_at IS NULL AND state NOT IN ('rejected', 'cancelled', 'closed') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 2 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 3 THEN 1 ELSE 0 END), 0)
		FROM cases WHERE grid_path >= $1 AND grid_path < $2 AND created_at >= $3 AND created_at < $4`,
		"420106/420106001/", "420106/4201060010", db.Millis(from), db.Millis(to)).Scan(
		&f.Reported, &f.Registered, &f.Cancelled, &f.Dispatched, &f.Redispatched, &f.Handled, &f.HandledOnTime,
		&f.Closed, &f.ClosedOnTime, &f.Reworked, &f.Extended, &f.Suspended, &f.Overdue, &f.Satisfied, &f.Basically, &f.Unsatisfied)
	if err != nil {
		t.Fatal(err)
	}
	f.Rated = f.Satisfied + f.Basically + f.Unsatisfied
	return f
}

// TestFiguresFromTheSummaryEqualCountingTheCases plays a month of the demo
// street's cases through the workflow (every action, the timers, reworks,
// extensions, suspensions, ratings) and compares the street's figures —
// whole days from case_facts, part-days from the cases — with counting the
// cases themselves, over periods aligned to days and not.
func TestFiguresFromTheSummaryEqualCountingTheCases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		if err := demo.SeedDepartments(s.ctx, s.auth, s.cat); err != nil {
			t.Fatal(err)
		}
		tr, err := i18n.New()
		if err != nil {
			t.Fatal(err)
		}
		sum, err := demo.SeedCasesOver(s.ctx, cases.Deps{DB: d, Audit: audit.New(d), Territory: s.terr, Users: s.auth, Catalog: s.cat,
			Calendar: s.cal, I18n: tr}, start, demo.CaseVolume{Days: 30, PerDay: 10, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		cst := time.FixedZone("CST", 8*3600)
		midnight := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, cst)
		periods := []struct {
			name     string
			from, to time.Time
		}{
			{"whole days", midnight.AddDate(0, 0, -40), midnight.AddDate(0, 0, 1)},
			{"part-days at both ends", midnight.AddDate(0, 0, -20).Add(13*time.Hour + 17*time.Minute), start.Add(-time.Hour)},
			{"within one day", midnight.AddDate(0, 0, -3).Add(9 * time.Hour), midnight.AddDate(0, 0, -3).Add(15 * time.Hour)},
			{"one millisecond past midnight", midnight.AddDate(0, 0, -10).Add(time.Millisecond), midnight.AddDate(0, 0, -2)},
		}
		for _, p := range periods {
			got, err := s.svc.Figures(s.ctx, s.as(t, "street"), cases.FiguresQuery{Territory: demo.StreetCode, From: p.from, To: p.to})
			if err != nil {
				t.Fatal(err)
			}
			want := rawFigures(t, s, p.from, p.to)
			got.Rates, got.ToClose = cases.Rates{}, 0
			if got != want {
				t.Errorf("%s:\n got %+v\nwant %+v", p.name, got, want)
			}
		}
		all, err := s.svc.Figures(s.ctx, s.as(t, "street"), cases.FiguresQuery{Territory: demo.StreetCode, From: start.AddDate(0, -2, 0), To: start.Add(time.Hour)})
		if err != nil || all.Reported != sum.Cases || all.Reworked == 0 || all.Extended == 0 || all.Rated == 0 || all.Overdue == 0 {
			t.Fatalf("the month's figures %+v (%v) for %d cases", all, err, sum.Cases)
		}
	})
}
