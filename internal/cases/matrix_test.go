package cases_test

import (
	"testing"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

// reach brings a new case to state st the way the workflow does.
func (s *stack) reach(t *testing.T, st cases.State) cases.Case {
	t.Helper()
	c := s.report(t, s.as(t, "r1"), s.building(t, 9), repair, "水管漏水，需要维修")
	gw := s.workerOf(t, c.GridCode)
	path := map[cases.State][]struct {
		who string
		a   cases.Action
		in  cases.Input
	}{
		cases.Reported: {},
		cases.Rejected: {{"street", cases.Reject, cases.Input{Note: "不属实"}}},
	}
	steps := []struct {
		who string
		a   cases.Action
		in  cases.Input
		at  cases.State
	}{
		{gw, cases.Verify, cases.Input{}, cases.Verified},
		{"street", cases.Accept, cases.Input{}, cases.Accepted},
		{"street", cases.Register, cases.Input{}, cases.Registered},
		{"street", cases.Dispatch, cases.Input{Target: "department:water"}, cases.Dispatched},
		{"water1", cases.Sign, cases.Input{}, cases.Handling},
		{"water1", cases.Handle, cases.Input{Note: "已修复", Photos: photos(t, 1)}, cases.Handled},
		{gw, cases.Check, cases.Input{}, cases.Checked},
		{"street", cases.Close, cases.Input{}, cases.Closed},
	}
	if p, ok := path[st]; ok {
		for _, x := range p {
			c = s.act(t, x.who, c.ID, x.a, x.in)
		}
		return c
	}
	stop := map[cases.State]cases.State{cases.Cancelled: cases.Accepted, cases.Suspended: cases.Handling}[st]
	for _, x := range steps {
		if c.State == st || (stop != "" && c.State == stop) {
			break
		}
		c = s.act(t, x.who, c.ID, x.a, x.in)
	}
	switch st {
	case cases.Cancelled:
		c = s.act(t, "street", c.ID, cases.Cancel, cases.Input{Note: "重复"})
	case cases.Suspended:
		c = s.act(t, "street", c.ID, cases.Suspend, cases.Input{Note: "等待配件"})
	}
	if c.State != st {
		t.Fatalf("reached %s, want %s", c.State, st)
	}
	return c
}

// Through the service, on the real database: in every state every action is
// taken by the account that would take it; the workflow table allows it or
// refuses it, and the service does exactly that — an allowed step is stored
// with its timeline entry, a refused one changes nothing.
func TestEveryStateAndActionThroughTheService(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		target := s.report(t, s.as(t, "r2"), s.building(t, 9), repair, "另一处水管漏水")
		actor := map[cases.Action]string{
			cases.Sign: "water1", cases.Return: "water1", cases.Handle: "water1", cases.RequestExtension: "water1",
			cases.Rate: "r1",
		}
		for _, st := range cases.States {
			for _, a := range cases.Actions {
				c := s.reach(t, st)
				who := actor[a]
				if who == "" {
					who = "street"
				}
				if a == cases.Verify || a == cases.Check || a == cases.Rework {
					who = s.workerOf(t, c.GridCode)
				}
				in := cases.Input{Note: "说明", Rating: cases.Satisfied, Limit: calendar.Limit{Amount: 2, Unit: calendar.Days}}
				switch a {
				case cases.Dispatch:
					in.Target = "department:water"
				case cases.Transfer, cases.Assist:
					in.Target = "department:fire"
				case cases.Merge:
					in.Target = target.Number
				case cases.Handle:
					in.Photos = photos(t, 1)
				case cases.ApproveExtension, cases.RefuseExtension:
					if st == cases.Dispatched || st == cases.Handling {
						c = s.act(t, "water1", c.ID, cases.RequestExtension, cases.Input{Note: "需要配件", Limit: in.Limit})
					}
				}
				w, err := s.svc.Who(s.ctx, s.as(t, who))
				if err != nil {
					t.Fatal(err)
				}
				want, decided := cases.Decide(w, c, a)
				if !w.CanRead(c) {
					// Cases not (yet) dispatched to a department are not there for it.
					decided = errs.E(errs.NotFound, "test", "case.error.not_found")
				}
				got, err := s.svc.Act(s.ctx, s.as(t, who), c.ID, a, in)
				after, gerr := s.svc.Get(s.ctx, s.as(t, "street"), c.ID)
				if gerr != nil {
					t.Fatal(gerr)
				}
				switch {
				case decided == nil && err != nil:
					t.Errorf("%s/%s by %s: refused (%v), the workflow allows it", st, a, who, err)
				case decided == nil && (got.State != want || after.Case.State != want || after.Case.Version != c.Version+1):
					t.Errorf("%s/%s by %s: stored state %s version %d, want %s version %d", st, a, who, after.Case.State, after.Case.Version, want, c.Version+1)
				case decided == nil && after.Events[len(after.Events)-1].Action != string(a):
					t.Errorf("%s/%s: the timeline's last step is %s", st, a, after.Events[len(after.Events)-1].Action)
				case decided != nil && errs.CodeOf(err) != errs.CodeOf(decided):
					t.Errorf("%s/%s by %s: got %v, want refusal %v", st, a, who, err, decided)
				case decided != nil && (after.Case.Version != c.Version || after.Case.State != st):
					t.Errorf("%s/%s by %s: a refused action changed the case", st, a, who)
				}
			}
		}
	})
}
