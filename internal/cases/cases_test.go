package cases_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

// Neighbour dispute (community), lift breakdown (property), water repair:
// local categories without required questions.
const (
	dispute = "M90002"
	repair  = "M92001"
)

func ids(p cases.Page) []int64 {
	var out []int64
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestAReportAtAPointIsRoutedToItsGridAndReachesThatGridWorkersQueue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		b := s.building(t, 5)
		c := s.report(t, s.as(t, "r1"), b, repair, "楼下水管爆裂，水流到路上")
		if c.GridCode != b.GridCode || c.State != cases.Reported || c.Number == "" {
			t.Fatalf("case routed to %q in state %s (number %q), building is in %s", c.GridCode, c.State, c.Number, b.GridCode)
		}
		worker := s.workerOf(t, b.GridCode)
		p, err := s.svc.List(s.ctx, s.as(t, worker), cases.Filter{Queue: cases.QVerify})
		if err != nil || !slices.Contains(ids(p), c.ID) {
			t.Fatalf("%s's verify queue %v (%v) lacks case %d", worker, ids(p), err, c.ID)
		}
		if p.Items[0].Light != calendar.Green {
			t.Errorf("fresh case light %s", p.Items[0].Light)
		}
		// The workbench's counts agree with the queue.
		counts, err := s.svc.Counts(s.ctx, s.as(t, worker))
		if err != nil || counts[cases.QVerify] != len(p.Items) || counts[cases.QCheck] != 0 {
			t.Fatalf("%s's counts %v (%v), verify queue holds %d", worker, counts, err, len(p.Items))
		}
		// A grid worker of another community does not see it.
		other := "gw10"
		if other == worker {
			other = "gw01"
		}
		p, err = s.svc.List(s.ctx, s.as(t, other), cases.Filter{Queue: cases.QVerify})
		if err != nil || slices.Contains(ids(p), c.ID) {
			t.Fatalf("%s sees another grid's case: %v %v", other, ids(p), err)
		}
		if _, err := s.svc.Get(s.ctx, s.as(t, other), c.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("%s read another grid's case: %v", other, err)
		}
		// The same place given in GCJ-02, as a phone map sends it, lands in the same grid.
		in, err := s.svc.Report(s.ctx, s.as(t, "r1"), cases.NewCase{Category: repair, Description: "同一处水管漏水",
			Lng: ptr(b.Lng + 0.0052), Lat: ptr(b.Lat - 0.0024), CRS: "gcj02"})
		if err != nil {
			t.Fatal(err)
		}
		if in.Case.GridCode == "" {
			t.Fatal("GCJ-02 report not routed")
		}
	})
}

func ptr(v float64) *float64 { return &v }

func TestATypedAddressIsEnoughToReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		b := s.building(t, 3)
		in, err := s.svc.Report(s.ctx, s.as(t, "r1"), cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Address: b.Address})
		if err != nil {
			t.Fatal(err)
		}
		if in.Case.GridCode != b.GridCode {
			t.Fatalf("typed address routed to %s, building is in %s", in.Case.GridCode, b.GridCode)
		}
	})
}

func TestABadReportIsRefusedWithEveryFieldNamedAndStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		r := s.as(t, "r1")
		cases_ := []struct {
			name  string
			in    cases.NewCase
			field string
		}{
			{"no category", cases.NewCase{Description: "路灯不亮了", Address: s.building(t, 0).Address}, "category"},
			{"unknown category", cases.NewCase{Category: "M99999", Description: "路灯不亮了", Address: s.building(t, 0).Address}, "category"},
			{"short text", cases.NewCase{Category: dispute, Description: "吵", Address: s.building(t, 0).Address}, "description"},
			{"nowhere", cases.NewCase{Category: dispute, Description: "楼上噪音扰民"}, "address"},
			{"unknown address", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Address: "火星路999号"}, "address"},
			{"outside", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Lng: ptr(116.4), Lat: ptr(39.9)}, "location"},
			{"half a point", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Lng: ptr(114.3)}, "location"},
			{"bad crs", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Lng: ptr(114.305), Lat: ptr(30.548), CRS: "mars"}, "crs"},
			{"bad email", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Address: s.building(t, 0).Address, Contact: cases.Contact{Email: "not an address"}}, "contact.email"},
			{"missing answer", cases.NewCase{Category: "M91001", Description: "楼道堆满纸箱", Address: s.building(t, 0).Address}, "attribute[hazard_type]"},
			{"self-handled on the web", cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Address: s.building(t, 0).Address, SelfHandled: true, Result: "已经处理好了"}, "self_handled"},
		}
		for _, tc := range cases_ {
			_, err := s.svc.Report(s.ctx, r, tc.in)
			e := errs.As(err)
			if e.Code != errs.Invalid || e.Fields[tc.field] == "" {
				t.Errorf("%s: got %v, want invalid naming %s", tc.name, err, tc.field)
			}
		}
		var n int
		if err := d.QueryRowContext(s.ctx, "SELECT COUNT(*) FROM cases").Scan(&n); err != nil || n != 0 {
			t.Fatalf("%d cases stored after bad reports (%v)", n, err)
		}
		// A resident cannot use the patrol channel.
		_, err := s.svc.Report(s.ctx, r, cases.NewCase{Category: dispute, Description: "楼上噪音扰民", Address: s.building(t, 0).Address, Channel: cases.Patrol})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("resident patrol report: %v", err)
		}
	})
}

// journey walks a resident's report through the standard workflow to a
// rating and returns the case id.
func journey(t *testing.T, s *stack) (int64, string) {
	b := s.building(t, 7)
	worker := s.workerOf(t, b.GridCode)
	c := s.report(t, s.as(t, "r1"), b, repair, "小区主干道水管漏水，路面积水")
	s.act(t, worker, c.ID, cases.Verify, cases.Input{Note: "现场确认漏水"})
	s.act(t, "street", c.ID, cases.Accept, cases.Input{})
	s.act(t, "street", c.ID, cases.Register, cases.Input{Urgency: catalog.Pressing})
	s.act(t, "street", c.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	s.act(t, "water1", c.ID, cases.Sign, cases.Input{})
	s.act(t, "water1", c.ID, cases.Handle, cases.Input{Note: "已更换破损管段", Photos: photos(t, 1)})
	s.act(t, worker, c.ID, cases.Check, cases.Input{Note: "现场已无积水"})
	s.act(t, "street", c.ID, cases.Close, cases.Input{})
	got := s.act(t, "r1", c.ID, cases.Rate, cases.Input{Rating: cases.Satisfied, Note: "很快"})
	if got.State != cases.Closed || got.Rating != cases.Satisfied {
		t.Fatalf("after the journey: %s rated %d", got.State, got.Rating)
	}
	return c.ID, worker
}

func TestTheWholeJourneyFromReportToRatingShowsEveryStepAndTellsTheResident(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		id, _ := journey(t, s)
		det, err := s.svc.Get(s.ctx, s.as(t, "r1"), id)
		if err != nil {
			t.Fatal(err)
		}
		var steps []string
		for _, e := range det.Events {
			steps = append(steps, e.Action)
		}
		want := []string{"report", "verify", "accept", "register", "dispatch", "sign", "handle", "check", "close", "rate"}
		if !slices.Equal(steps, want) {
			t.Fatalf("timeline %v, want %v", steps, want)
		}
		if len(det.Events[6].Attachments) != 1 {
			t.Fatalf("handling step has %d photos", len(det.Events[6].Attachments))
		}
		for _, e := range det.Events {
			if e.ActorRole != auth.Resident && e.ActorName != "" {
				t.Errorf("the resident sees staff name %q on step %s", e.ActorName, e.Action)
			}
		}
		ct, data, err := s.svc.Photo(s.ctx, s.as(t, "r1"), det.Events[6].Attachments[0], true)
		if err != nil || ct != "image/jpeg" || len(data) == 0 {
			t.Fatalf("thumbnail: %s %d %v", ct, len(data), err)
		}
		if _, _, err := s.svc.Photo(s.ctx, s.as(t, "r2"), det.Events[6].Attachments[0], false); !errs.Is(err, errs.NotFound) {
			t.Fatalf("another resident fetched the photo: %v", err)
		}
		// The resident was told at acceptance, dispatch, handling and closure.
		ob := outbox.NewService(d, nil, nil, s.clock, nil)
		disp := outbox.NewDispatcher(d, s.clock, outbox.Config{}, nil)
		if _, err := disp.RunOnce(s.ctx); err != nil {
			t.Fatal(err)
		}
		msgs, err := ob.Inbox(s.ctx, s.as(t, "r1").UserID, outbox.InboxFilter{Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var events []string
		for _, m := range msgs {
			events = append(events, m.Event)
		}
		slices.Sort(events)
		if wantEv := []string{"case.accepted", "case.closed", "case.dispatched", "case.handled"}; !slices.Equal(events, wantEv) {
			t.Fatalf("resident told %v, want %v", events, wantEv)
		}
		// The department's handlers were told the case arrived.
		msgs, err = ob.Inbox(s.ctx, s.as(t, "water1").UserID, outbox.InboxFilter{Limit: 50})
		if err != nil || len(msgs) != 1 || msgs[0].Event != "case.assigned" {
			t.Fatalf("department handler inbox %+v %v", msgs, err)
		}
		// The figures count the case exactly.
		f, err := s.svc.Figures(s.ctx, s.as(t, "street"), cases.FiguresQuery{Territory: "420106001", From: start.Add(-time.Hour), To: start.Add(24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if f.Reported != 1 || f.Registered != 1 || f.Handled != 1 || f.HandledOnTime != 1 || f.Closed != 1 || f.ClosedOnTime != 1 || f.Satisfied != 1 || f.Rates.Satisfaction != 1 {
			t.Fatalf("figures %+v", f)
		}
	})
}

func TestADepartmentSeesOnlyTheCasesDispatchedToIt(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		toDept := func(i int, dept string) int64 {
			c := s.report(t, s.as(t, "r1"), s.building(t, i), repair, "水管漏水"+strconv.Itoa(i))
			s.act(t, s.workerOf(t, c.GridCode), c.ID, cases.Verify, cases.Input{})
			s.act(t, "street", c.ID, cases.Accept, cases.Input{})
			s.act(t, "street", c.ID, cases.Register, cases.Input{})
			s.act(t, "street", c.ID, cases.Dispatch, cases.Input{Target: "department:" + dept})
			return c.ID
		}
		w := toDept(1, "water")
		f := toDept(2, "fire")
		for _, q := range []cases.Queue{cases.QSign, cases.QAll} {
			p, err := s.svc.List(s.ctx, s.as(t, "water1"), cases.Filter{Queue: q})
			if err != nil || !slices.Equal(ids(p), []int64{w}) {
				t.Fatalf("water's %s queue %v (%v), want [%d]", q, ids(p), err, w)
			}
		}
		if _, err := s.svc.Get(s.ctx, s.as(t, "water1"), f); !errs.Is(err, errs.NotFound) {
			t.Fatalf("water read fire's case: %v", err)
		}
		if _, err := s.svc.Act(s.ctx, s.as(t, "water1"), f, cases.Sign, cases.Input{}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("water signed for fire's case: %v", err)
		}
		// Transferred to water, the fire case leaves fire's queue and joins water's.
		s.act(t, "street", f, cases.Transfer, cases.Input{Target: "department:water", Note: "属供水问题"})
		p, _ := s.svc.List(s.ctx, s.as(t, "fire1"), cases.Filter{Queue: cases.QSign})
		if len(p.Items) != 0 {
			t.Fatalf("fire still has %v", ids(p))
		}
		p, _ = s.svc.List(s.ctx, s.as(t, "water1"), cases.Filter{Queue: cases.QSign})
		if !slices.Contains(ids(p), f) {
			t.Fatalf("water lacks the transferred case: %v", ids(p))
		}
	})
}

func TestDeadlinesRunOnTheWorkingCalendarAcrossAHolidayAndAMakeUpSaturday(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		cst := time.FixedZone("CST", 8*3600)
		// Wednesday 30 September 2026, 17:00, the eve of the National Day holiday (1–7 October).
		c := clock.NewFake(time.Date(2026, 9, 30, 17, 0, 0, 0, cst))
		s := newStack(t, d, c)
		cs := s.report(t, s.as(t, "r1"), s.building(t, 4), repair, "水管漏水，急需维修")
		// Verify has 2 working hours: one left on the 30th, the other on Thursday 8 October.
		if want := time.Date(2026, 10, 8, 10, 0, 0, 0, cst); !cs.StageDueAt.Equal(want) {
			t.Fatalf("verify due %s, want %s", cs.StageDueAt.In(cst), want)
		}
		// Dispatched as pressing on Friday 9 October at 17:00: one working day (8 h) ends on
		// the make-up working Saturday the 10th at 17:00, not on Monday.
		c.Set(time.Date(2026, 10, 9, 16, 0, 0, 0, cst))
		s.act(t, s.workerOf(t, cs.GridCode), cs.ID, cases.Verify, cases.Input{})
		s.act(t, "street", cs.ID, cases.Accept, cases.Input{})
		s.act(t, "street", cs.ID, cases.Register, cases.Input{Urgency: catalog.Pressing})
		c.Set(time.Date(2026, 10, 9, 17, 0, 0, 0, cst))
		got := s.act(t, "street", cs.ID, cases.Dispatch, cases.Input{Target: "department:water"})
		if want := time.Date(2026, 10, 10, 17, 0, 0, 0, cst); !got.HandleDueAt.Equal(want) {
			t.Fatalf("handle due %s, want %s", got.HandleDueAt.In(cst), want)
		}
		// Lights along the way, by working time: Saturday 15:00 is 6 of 8 hours (green),
		// 16:00 is 7 of 8 (yellow), Monday 09:30 is past the limit (red).
		s.act(t, "water1", cs.ID, cases.Sign, cases.Input{})
		for _, tc := range []struct {
			at   time.Time
			want calendar.Light
		}{
			{time.Date(2026, 10, 10, 15, 0, 0, 0, cst), calendar.Green},
			{time.Date(2026, 10, 10, 16, 0, 0, 0, cst), calendar.Yellow},
			{time.Date(2026, 10, 12, 9, 30, 0, 0, cst), calendar.Red},
		} {
			c.Set(tc.at)
			det, err := s.svc.Get(s.ctx, s.as(t, "water1"), cs.ID)
			if err != nil || det.Light != tc.want {
				t.Errorf("at %s light %s (%v), want %s", tc.at, det.Light, err, tc.want)
			}
		}
	})
}

func TestTimersWarnThenMarkOverdueThenEscalateOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		c := clock.NewFake(start)
		s := newStack(t, d, c)
		cs := s.report(t, s.as(t, "r1"), s.building(t, 2), repair, "水管漏水")
		// Verify: 2 working hours from Monday 09:30 → due 11:30, warning at 11:06.
		for _, step := range []struct {
			at      time.Time
			fired   int
			overdue bool
			level   cases.Level
		}{
			{start.Add(90 * time.Minute), 0, false, cases.GridLevel},
			{start.Add(97 * time.Minute), 1, false, cases.GridLevel},
			{start.Add(2*time.Hour + time.Minute), 1, true, cases.GridLevel},
			{start.Add(2*time.Hour + 2*time.Minute), 0, true, cases.GridLevel},
			// Half the limit (1 working hour) past 11:30 is 13:30 after the lunch break.
			{start.Add(4 * time.Hour), 1, true, cases.CommunityLevel},
			{start.Add(50 * time.Hour), 0, true, cases.CommunityLevel},
		} {
			c.Set(step.at)
			n, err := s.svc.RunTimers(s.ctx)
			if err != nil || n != step.fired {
				t.Fatalf("at %s: %d timers fired (%v), want %d", step.at, n, err, step.fired)
			}
			det, _ := s.svc.Get(s.ctx, s.as(t, "street"), cs.ID)
			if det.Case.Overdue != step.overdue || det.Case.Level != step.level {
				t.Fatalf("at %s: overdue %v level %s, want %v %s", step.at, det.Case.Overdue, det.Case.Level, step.overdue, step.level)
			}
		}
		p, err := s.svc.List(s.ctx, s.as(t, "street"), cases.Filter{Queue: cases.QOverdue})
		if err != nil || !slices.Equal(ids(p), []int64{cs.ID}) {
			t.Fatalf("overdue queue %v %v", ids(p), err)
		}
		// Verifying late closes the stage as not on time.
		s.act(t, s.workerOf(t, cs.GridCode), cs.ID, cases.Verify, cases.Input{})
		var onTime bool
		if err := d.QueryRowContext(s.ctx, "SELECT on_time FROM case_stages WHERE case_id = $1 AND stage = 'verify'", cs.ID).Scan(&onTime); err != nil || onTime {
			t.Fatalf("late verify recorded on_time=%v (%v)", onTime, err)
		}
	})
}

func TestLikelyDuplicatesAreOfferedAndMergingTellsEveryReporter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, clock.NewFake(start))
		b := s.building(t, 6)
		first := s.report(t, s.as(t, "r1"), b, repair, "3号楼门口水管爆裂，路面全是水")
		lng, lat := b.Lng+0.0002, b.Lat
		in, err := s.svc.Report(s.ctx, s.as(t, "r2"), cases.NewCase{Category: repair, Description: "3号楼门口的水管爆裂了", Lng: &lng, Lat: &lat})
		if err != nil {
			t.Fatal(err)
		}
		if len(in.Duplicates) == 0 || in.Duplicates[0].ID != first.ID {
			t.Fatalf("duplicates offered %+v, want case %d", in.Duplicates, first.ID)
		}
		// Another category at the same place is not a duplicate.
		other, err := s.svc.Report(s.ctx, s.as(t, "r2"), cases.NewCase{Category: dispute, Description: "3号楼门口水管爆裂，路面全是水", Lng: &lng, Lat: &lat})
		if err != nil || len(other.Duplicates) != 0 {
			t.Fatalf("other category offered %+v (%v)", other.Duplicates, err)
		}
		s.act(t, s.workerOf(t, b.GridCode), in.Case.ID, cases.Merge, cases.Input{Target: first.Number})
		det, err := s.svc.Get(s.ctx, s.as(t, "r2"), first.ID)
		if err != nil {
			t.Fatalf("the second reporter cannot follow the surviving case: %v", err)
		}
		if det.Case.State != cases.Reported {
			t.Fatalf("survivor state %s", det.Case.State)
		}
		gone, _ := s.svc.Get(s.ctx, s.as(t, "r2"), in.Case.ID)
		if gone.Case.State != cases.Cancelled || gone.Case.DuplicateOf != first.ID {
			t.Fatalf("merged case %s dup of %d", gone.Case.State, gone.Case.DuplicateOf)
		}
		// Both reporters hear about the survivor from now on.
		s.act(t, s.workerOf(t, b.GridCode), first.ID, cases.Verify, cases.Input{})
		s.act(t, "street", first.ID, cases.Accept, cases.Input{})
		disp := outbox.NewDispatcher(d, s.clock, outbox.Config{}, nil)
		if _, err := disp.RunOnce(s.ctx); err != nil {
			t.Fatal(err)
		}
		ob := outbox.NewService(d, nil, nil, s.clock, nil)
		for _, r := range []string{"r1", "r2"} {
			msgs, _ := ob.Inbox(s.ctx, s.as(t, r).UserID, outbox.InboxFilter{Limit: 50})
			got := false
			for _, m := range msgs {
				got = got || (m.Event == "case.accepted" && m.Link == "/cases/"+strconv.FormatInt(first.ID, 10))
			}
			if !got {
				t.Errorf("%s was not told the surviving case was accepted: %+v", r, msgs)
			}
		}
	})
}
