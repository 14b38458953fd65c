//go:build !race

package demo_test

import (
	"testing"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
)

// TestTheDemoYearIsAboutFourThousandCasesMostlyClosedAndRated seeds the
// demo's whole year, on SQLite, as `gridhall demo` does. The race detector
// slows the pure-Go SQLite tenfold, so this file is built only without it;
// `make test` runs it in a pass of its own (scripts/test-all.sh).
func TestTheDemoYearIsAboutFourThousandCasesMostlyClosedAndRated(t *testing.T) {
	s := newCaseStack(t, dbtest.Open(t, db.SQLite), historyEnd)
	sum, err := demo.SeedCases(s.ctx, s.deps, s.now)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Cases < 3000 || sum.Cases > 5000 {
		t.Errorf("%d cases in the year, want 3,000–5,000", sum.Cases)
	}
	f := checkHistory(t, s, sum)
	closed := float64(f.Closed) / float64(f.Reported)
	rated := float64(f.Rated) / float64(f.Closed)
	satisfied := float64(f.Satisfied) / float64(f.Rated)
	basically := float64(f.Basically) / float64(f.Rated)
	unsatisfied := float64(f.Unsatisfied) / float64(f.Rated)
	if closed < 0.85 || rated < 0.55 || satisfied < 0.72 || satisfied > 0.88 || basically < 0.10 || basically > 0.22 ||
		unsatisfied < 0.02 || unsatisfied > 0.10 {
		t.Errorf("closed %.2f, rated %.2f of closed; satisfied %.2f, basically %.2f, unsatisfied %.2f",
			closed, rated, satisfied, basically, unsatisfied)
	}
	for _, st := range []cases.State{cases.Rejected, cases.Cancelled} {
		if sum.States[st] < 20 {
			t.Errorf("only %d %s cases in a year", sum.States[st], st)
		}
	}
	if f.Reworked < 50 || f.Extended < 50 || f.Suspended < 20 || f.Redispatched < 50 {
		t.Errorf("too few detours: %d reworked, %d extended, %d suspended, %d redispatched", f.Reworked, f.Extended, f.Suspended, f.Redispatched)
	}
	// Categories, channels and grids vary.
	var categories, channels, grids int
	for q, n := range map[string]*int{"category_kind || category_code": &categories, "channel": &channels, "grid_path": &grids} {
		if err := s.d.QueryRowContext(s.ctx, "SELECT COUNT(DISTINCT "+q+") FROM cases").Scan(n); err != nil {
			t.Fatal(err)
		}
	}
	if categories < 40 || channels != 4 || grids < 18 {
		t.Errorf("%d categories, %d channels, %d grids", categories, channels, grids)
	}
	// Most reports come in office hours on working days.
	var office int
	cal, err := s.deps.Calendar.For(s.ctx, demo.DistrictCode)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := s.d.QueryContext(s.ctx, "SELECT created_at FROM cases")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var ms int64
		if err := rows.Scan(&ms); err != nil {
			t.Fatal(err)
		}
		at := db.FromMillis(ms).In(calendar.Location())
		if cal.IsWorkday(at) && at.Hour() >= 8 && at.Hour() < 19 {
			office++
		}
	}
	if share := float64(office) / float64(sum.Cases); share < 0.7 {
		t.Errorf("%.0f%% of reports in office hours", share*100)
	}
}
