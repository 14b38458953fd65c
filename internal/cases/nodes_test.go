package cases_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/outbox"
)

// Two GridHall nodes on one PostgreSQL run the timer job at the same time:
// every overdue timer fires exactly once, and every notification it raises
// is delivered once.
func TestTwoNodesOnOnePostgresFireEachOverdueTimerOnceAndDeliverEachMessageOnce(t *testing.T) {
	if !hasEngine(t, db.Postgres) {
		t.Skip("PostgreSQL is not configured (set GRIDHALL_TEST_POSTGRES; CI always does)")
	}
	ctx := context.Background()
	o := dbtest.Options(t, db.Postgres)
	open := func() *db.DB {
		d, err := db.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		return d
	}
	d1, d2 := open(), open()
	c := clock.NewFake(start)
	if _, err := d1.Migrate(ctx, c.Now()); err != nil {
		t.Fatal(err)
	}
	a := newStack(t, d1, c)
	b := node(t, d2, c)
	if err := b.terr.Locator().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		cs := a.report(t, a.as(t, "r1"), a.building(t, i%20), repair, "水管漏水，需要维修")
		a.act(t, a.workerOf(t, cs.GridCode), cs.ID, cases.Verify, cases.Input{})
		a.act(t, "street", cs.ID, cases.Accept, cases.Input{})
		a.act(t, "street", cs.ID, cases.Register, cases.Input{})
		a.act(t, "street", cs.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	}
	// Past the deadline and past the escalation point: each case has three
	// timers due (warning, overdue, escalation), fired one per pass.
	c.Advance(10 * 24 * time.Hour)
	var wg sync.WaitGroup
	fired := make([]int, 2)
	for i, s := range []*stack{a, b} {
		wg.Go(func() {
			for range 8 {
				k, err := s.svc.RunTimers(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				fired[i] += k
			}
		})
	}
	wg.Wait()
	if got := fired[0] + fired[1]; got != 3*n {
		t.Fatalf("nodes fired %d + %d timers, want %d (three per case)", fired[0], fired[1], 3*n)
	}
	var dup int
	if err := d1.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT case_id, action FROM case_events
		WHERE action IN ('warn', 'overdue', 'escalate') GROUP BY case_id, action HAVING COUNT(*) <> 1) x`).Scan(&dup); err != nil || dup != 0 {
		t.Fatalf("%d case timers fired other than once (%v)", dup, err)
	}
	var overdue int
	if err := d1.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_events WHERE action = 'overdue'`).Scan(&overdue); err != nil || overdue != n {
		t.Fatalf("%d overdue events, want %d (%v)", overdue, n, err)
	}
	// Both nodes deliver the outbox at once; each message lands once.
	var pending int
	if err := d1.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox`).Scan(&pending); err != nil || pending < 4*n {
		t.Fatalf("%d messages enqueued (%v): the resident's and the department's, at least %d", pending, err, 4*n)
	}
	for i, d := range []*db.DB{d1, d2} {
		disp := outbox.NewDispatcher(d, c, outbox.Config{Node: []string{"a", "b"}[i], BatchSize: 7}, nil)
		wg.Go(func() {
			for range 30 {
				if _, err := disp.RunOnce(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	var delivered, inbox int
	if err := d1.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'delivered'`).Scan(&delivered); err != nil {
		t.Fatal(err)
	}
	if err := d1.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages`).Scan(&inbox); err != nil {
		t.Fatal(err)
	}
	if delivered != pending || inbox != pending {
		t.Fatalf("%d messages enqueued, %d delivered, %d in inboxes", pending, delivered, inbox)
	}
}

func hasEngine(t *testing.T, e db.Engine) bool {
	for _, x := range dbtest.Engines(t) {
		if x == e {
			return true
		}
	}
	return false
}
