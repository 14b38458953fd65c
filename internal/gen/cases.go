package gen

import (
	"cmp"
	"github.com/gridhall/gridhall/internal/sampletext"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/territory"
)

// catInfo is a category cases are drawn from.
type catInfo struct {
	c       catalog.Category
	ref     string
	dept    string // the department it is dispatched to; "" sends it to the grid worker
	selfFix bool   // a grid worker often fixes it on the spot
}

// commonRefs are the categories a street sees most, most frequent first
// (the demo's year of Community Y): the head of the Zipf-like weighting.
// The rest of the catalogue follows in an order drawn from the seed.
var commonRefs = []string{"M06010", "M09009", "M93001", "M90002", "M06036", "M07001", "M92001", "M06012", "M93002",
	"M09006", "M01037", "M93005", "M06042", "M09010", "M93003", "M91003", "M09012", "M06013", "M08001", "M91006",
	"M06028", "M09005", "M06027", "M93004", "M06001", "M91002", "M01001", "M92002", "M94002", "C01037"}

// selfFixRefs are small problems a grid worker clears on the spot.
var selfFixRefs = []string{"M06010", "M06012", "M06036", "M07001", "M09010", "M09011", "M06035"}

// gridGroups are the local major classes whose matters stay in the grid:
// disputes (90) and care (94) go to the grid worker, not a department.
var gridGroups = []string{"90", "94"}

// weighCategories orders the categories and weighs rank r by 1/(r+1)^1.1.
func (g *generator) weighCategories(all []catalog.Category) error {
	known := map[string]bool{}
	for _, d := range g.departments {
		known[d] = true
	}
	byRef := map[string]catalog.Category{}
	for _, c := range all {
		byRef[c.Ref()] = c
	}
	var order []catalog.Category
	for _, r := range commonRefs {
		if c, ok := byRef[r]; ok {
			order = append(order, c)
			delete(byRef, r)
		}
	}
	rest := make([]catalog.Category, 0, len(byRef))
	for _, c := range byRef {
		rest = append(rest, c)
	}
	key := func(c catalog.Category) uint64 {
		h := fnv.New64a()
		h.Write([]byte(strconv.FormatUint(g.o.Seed, 10) + c.Ref()))
		return h.Sum64()
	}
	slices.SortFunc(rest, func(a, b catalog.Category) int { return cmp.Compare(key(a), key(b)) })
	order = append(order, rest...)
	if len(order) == 0 {
		return errNoCategories
	}
	total := 0.0
	for r, c := range order {
		ci := &catInfo{c: c, ref: c.Ref(), dept: c.Department, selfFix: slices.Contains(selfFixRefs, c.Ref())}
		switch {
		case c.Local() && slices.Contains(gridGroups, c.Group):
			ci.dept = ""
		case !known[ci.dept]:
			ci.dept = "urban-mgmt"
			if !known[ci.dept] {
				ci.dept = g.departments[0]
			}
		}
		g.cats = append(g.cats, ci)
		total += 1 / math.Pow(float64(r+1), 1.1)
		g.catCum = append(g.catCum, total)
	}
	return nil
}

type genError string

func (e genError) Error() string { return string(e) }

const errNoCategories = genError("the catalogue has no active categories")

func (g *generator) drawCategory(rng *rand.Rand) *catInfo {
	x := rng.Float64() * g.catCum[len(g.catCum)-1]
	return g.cats[min(len(g.cats)-1, sort.SearchFloat64s(g.catCum, x))]
}

// phrases end a generated report's description; the timeline's notes come
// from sampletext, as the demo's do.
var phrases = []string{"请尽快处理", "影响居民出行", "已经持续好几天了", "居民反映强烈", "存在安全隐患", "晚上尤其明显", "多次反映未解决", "请相关部门核实"}

// reportTime is when in the day a report comes: office hours mostly on
// working days, spread over the waking day otherwise.
func reportTime(rng *rand.Rand, work bool) time.Duration {
	if !work {
		return time.Duration(8*60+rng.IntN(13*60))*time.Minute + time.Duration(rng.IntN(60))*time.Second
	}
	spans := []struct{ from, to, weight int }{{7, 9, 8}, {9, 12, 40}, {12, 13, 5}, {13, 18, 38}, {18, 22, 9}}
	x := rng.IntN(100)
	for _, sp := range spans {
		if x < sp.weight {
			return time.Duration(sp.from*60+rng.IntN((sp.to-sp.from)*60))*time.Minute + time.Duration(rng.IntN(60))*time.Second
		}
		x -= sp.weight
	}
	return 10 * time.Hour
}

// caseWriter holds the sinks of the case tables and the counters that run
// across cases.
type caseWriter struct {
	g                                      *generator
	cases, events, stages, follows, assist *sink
	numbers                                *sink
	eventID                                int64
	sim                                    sim
}

// writeCases draws the reports day by day over the years before Now —
// more on working days and in office hours, growing as the platform is
// adopted — and plays each case's life until Now, so that old cases are
// closed and the newest stand in every open state.
func (g *generator) writeCases(l *loader) error {
	if g.o.Scale.Cases == 0 {
		return nil
	}
	w := &caseWriter{g: g}
	var err error
	if w.cases, err = l.table("cases", caseCols...); err != nil {
		return err
	}
	if w.events, err = l.table("case_events", "id", "case_id", "at", "actor_id", "actor_name", "actor_role", "action",
		"from_state", "to_state", "note", "detail", "public"); err != nil {
		return err
	}
	if w.stages, err = l.table("case_stages", "case_id", "seq", "stage", "started_at", "due_at", "done_at", "on_time",
		"grid_path", "assignee"); err != nil {
		return err
	}
	if w.follows, err = l.table("case_followers", "case_id", "user_id"); err != nil {
		return err
	}
	if w.assist, err = l.table("case_assists", "case_id", "department"); err != nil {
		return err
	}
	if w.numbers, err = l.table("case_numbers", "day", "last"); err != nil {
		return err
	}
	cst := calendar.Location()
	now := g.o.Now
	start := now.AddDate(-g.o.Scale.Years, 0, 0)
	first := time.Date(start.In(cst).Year(), start.In(cst).Month(), start.In(cst).Day(), 0, 0, 0, 0, cst)
	cal := g.cals[0]
	// The weight of each day: rest days a third of a working day, summer
	// busier, and use growing from 60% to 100% over the years.
	var days []time.Time
	var weights []float64
	total := 0.0
	for day := first; day.Before(now); day = day.AddDate(0, 0, 1) {
		w := 1.0
		if !cal.IsWorkday(day) {
			w = 0.35
		}
		if m := day.Month(); m >= time.June && m <= time.August {
			w *= 1.15
		}
		w *= 0.6 + 0.4*float64(day.Sub(first))/float64(now.Sub(first))
		lo, hi := later(day, start), earlier(day.AddDate(0, 0, 1), now)
		w *= float64(hi.Sub(lo)) / float64(24*time.Hour)
		days = append(days, day)
		weights = append(weights, w)
		total += w
	}
	n := g.o.Scale.Cases
	id, cum := int64(0), 0.0
	done := 0
	for di, day := range days {
		cum += weights[di]
		k := int(math.Round(float64(n)*cum/total)) - done
		if di == len(days)-1 {
			k = n - done
		}
		if k <= 0 {
			continue
		}
		done += k
		rng := g.rngFor(streamDays, uint64(di))
		work := cal.IsWorkday(day)
		lo, hi := later(day, start), earlier(day.AddDate(0, 0, 1), now)
		times := make([]time.Time, k)
		for i := range times {
			t := day.Add(reportTime(rng, work))
			if t.Before(lo) || !t.Before(hi) {
				t = lo.Add(time.Duration(rng.Int64N(int64(hi.Sub(lo)))))
			}
			times[i] = t.Truncate(time.Millisecond)
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		for i, t := range times {
			id++
			if err := w.write(id, t, day.Format("20060102")+"-"+pad5(i+1)); err != nil {
				return err
			}
		}
		if err := w.numbers.add(day.Format("20060102"), int64(k)); err != nil {
			return err
		}
		if err := l.maybeCommit(); err != nil {
			return err
		}
	}
	return nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func pad5(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 5 {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	return s
}

var caseCols = []string{"id", "number", "category_kind", "category_code", "urgency", "description", "address", "lng", "lat",
	"grid_path", "territory_version", "channel", "reporter_id", "reporter_role", "reporter_contact", "anonymous", "answers",
	"state", "level", "assignee_kind", "assignee", "handler_id", "stage", "stage_started_at", "stage_due_at", "overdue",
	"timer_at", "timer_step", "handle_due_at", "suspended_from", "suspended_at", "extension_pending", "self_handled",
	"duplicate_of", "reworks", "redispatches", "extensions", "suspensions", "urgings", "rating", "rating_note",
	"created_at", "updated_at", "verified_at", "registered_at", "dispatched_at", "handled_at", "handled_on_time",
	"checked_at", "closed_at", "closed_on_time", "rated_at", "version"}

// who is an account acting on a case.
type who struct {
	id   int64
	name string
	role auth.Role
}

var timerWho = who{name: "timer", role: auth.SystemAdmin}

// evt is one timeline entry.
type evt struct {
	at       time.Time
	by       who
	action   string
	from, to cases.State
	note     string
	detail   string
	public   bool
}

// stageRec is one stage occurrence.
type stageRec struct {
	stage    catalog.Stage
	started  time.Time
	due      time.Time
	done     time.Time
	onTime   bool
	assignee string
}

// sim is one case being played: its columns as the service keeps them,
// its timeline and its stages. One is reused for every case.
type sim struct {
	g     *generator
	rng   *rand.Rand
	cal   *calendar.Calendar
	cat   *catInfo
	now   time.Time
	t     time.Time // the time of the last step
	stop  bool      // the next step would come after now
	grid  int
	path  string
	urg   catalog.Urgency
	state cases.State
	level cases.Level
	stage catalog.Stage

	stageStart, stageDue, timerAt, handleDue, suspendedAt time.Time
	timerStep                                             int
	overdue                                               bool
	assigneeKind, assignee, suspendedFrom, extPending     string
	handler                                               int64
	selfHandled                                           bool
	reworks, redispatches, extensions, suspensions        int
	urgings, rating, updates                              int
	ratingNote                                            string
	verified, registered, dispatched, handled             time.Time
	checked, closed, rated, updated                       time.Time
	handledOnTime, closedOnTime                           *bool
	events                                                []evt
	stages                                                []stageRec
}

// stageOf mirrors the workflow: the timed stage of a state.
func stageOf(s cases.State) catalog.Stage {
	switch s {
	case cases.Reported:
		return catalog.Verify
	case cases.Verified, cases.Accepted:
		return catalog.Register
	case cases.Registered:
		return catalog.Dispatch
	case cases.Dispatched:
		return catalog.Sign
	case cases.Handling:
		return catalog.Handle
	case cases.Handled:
		return catalog.Check
	case cases.Checked:
		return stageClose
	}
	return ""
}

// stageClose is the duty chief's window for closing, on the register limit.
const stageClose catalog.Stage = "close"

func (s *sim) limit(st catalog.Stage) calendar.Limit {
	if st == stageClose {
		st = catalog.Register
	}
	if l, ok := s.cat.c.Limits.For(s.urg, st); ok {
		return l
	}
	l, _ := catalog.DefaultLimits().For(s.urg, st)
	return l
}

func (s *sim) emit(by who, action string, from, to cases.State, note, detail string, public bool) {
	if detail == "" {
		detail = "{}"
	}
	s.events = append(s.events, evt{at: s.t, by: by, action: action, from: from, to: to, note: note, detail: detail, public: public})
}

// fire runs the stage timers due before until: the warning at 80% of the
// limit, the overdue mark at the deadline, escalation half a limit later.
func (s *sim) fire(until time.Time, inclusive bool) {
	for !s.timerAt.IsZero() && (s.timerAt.Before(until) || inclusive && s.timerAt.Equal(until)) {
		at := s.timerAt
		detail := `{"due_at":"` + s.stageDue.UTC().Format(time.RFC3339Nano) + `","stage":"` + string(s.stage) + `"}`
		step := ""
		switch s.timerStep {
		case 0:
			step = "warn"
			s.timerStep, s.timerAt = 1, s.stageDue
		case 1:
			step = "overdue"
			s.overdue = true
			s.timerStep, s.timerAt = 3, time.Time{}
			if s.level.Next() != "" {
				limit := s.cal.Working(s.stageStart, s.stageDue)
				s.timerStep, s.timerAt = 2, s.cal.Add(s.stageDue, limit/2)
			}
		default:
			step = "escalate"
			s.timerStep, s.timerAt = 3, time.Time{}
			if next := s.level.Next(); next != "" {
				s.level = next
			}
			detail = `{"due_at":"` + s.stageDue.UTC().Format(time.RFC3339Nano) + `","level":"` + string(s.level) + `","stage":"` + string(s.stage) + `"}`
		}
		prev := s.t
		s.t = at
		s.updated = at
		s.updates++
		s.emit(timerWho, step, s.state, s.state, "", detail, false)
		s.t = prev
	}
}

func (s *sim) resetTimer() {
	s.timerAt, s.timerStep, s.overdue = time.Time{}, 0, false
	if s.stageDue.IsZero() {
		return
	}
	total := s.cal.Working(s.stageStart, s.stageDue)
	s.timerAt = s.cal.Add(s.stageStart, total*4/5)
}

// startStage starts the clock of the current state's stage at s.t.
func (s *sim) startStage() {
	s.stage = stageOf(s.state)
	s.stageStart, s.stageDue, s.overdue, s.timerAt, s.timerStep = time.Time{}, time.Time{}, false, time.Time{}, 0
	if s.stage == "" {
		return
	}
	s.stageStart = s.t
	if s.stage == catalog.Handle && !s.handleDue.IsZero() {
		s.stageDue = s.handleDue
	} else {
		s.stageDue = s.cal.Deadline(s.t, s.limit(s.stage))
	}
	s.resetTimer()
	s.stages = append(s.stages, stageRec{stage: s.stage, started: s.t, due: s.stageDue, assignee: s.assignee})
}

func (s *sim) closeStage() {
	if n := len(s.stages); n > 0 && s.stages[n-1].done.IsZero() {
		r := &s.stages[n-1]
		r.done = s.t
		r.onTime = r.due.IsZero() || !r.due.Before(s.t)
	}
}

// at moves the case's clock to t for its next step, firing the timers due
// before it; false when t is not before now, and the case stops there.
func (s *sim) at(t time.Time) bool {
	if s.stop {
		return false
	}
	if t.Before(s.t.Add(time.Minute)) {
		t = s.t.Add(time.Minute)
	}
	t = t.Truncate(time.Millisecond)
	if !t.Before(s.now) {
		s.stop = true
		return false
	}
	s.fire(t, false)
	s.t = t
	return true
}

// within is the instant at which frac of the current stage's limit has
// passed, in working time.
func (s *sim) within(frac float64) time.Time {
	if s.stageDue.IsZero() {
		return s.cal.Add(s.t, time.Duration(frac*float64(2*time.Hour)))
	}
	limit := s.cal.Working(s.stageStart, s.stageDue)
	return s.cal.Add(s.stageStart, time.Duration(frac*float64(limit)))
}

// act takes a workflow step at s.t: the state change, the stage clock as
// the service's apply moves it, and the timeline entry.
func (s *sim) act(by who, a cases.Action, to cases.State, note, detail string) {
	from := s.state
	restage := stageOf(to) != s.stage
	s.state, s.updated = to, s.t
	s.updates++
	switch a {
	case cases.Verify:
		s.verified = s.t
	case cases.Register:
		s.registered = s.t
	case cases.Sign:
		s.handler = by.id
	case cases.Handle:
		s.handled, s.handler = s.t, by.id
		ok := s.handleDue.IsZero() || !s.t.After(s.handleDue)
		s.handledOnTime = &ok
	case cases.Check:
		s.checked = s.t
	case cases.Rework:
		s.reworks++
		s.handled, s.checked = time.Time{}, time.Time{}
		restage = true
		s.handleDue = s.cal.Deadline(s.t, s.limit(catalog.Handle))
	case cases.Close:
		s.closed = s.t
	case cases.Transfer:
		s.redispatches++
		restage = true
	case cases.Return:
		s.redispatches++
		s.assigneeKind, s.assignee, s.handler, s.handleDue, s.extPending = "", "", 0, time.Time{}, ""
	case cases.Urge:
		s.urgings++
	}
	if a == cases.Suspend {
		s.suspendedFrom, s.suspendedAt = string(from), s.t
		s.suspensions++
		s.timerAt = time.Time{}
	} else if restage || to.Final() {
		s.closeStage()
		s.startStage()
	}
	if a == cases.Close {
		late := false
		for _, r := range s.stages {
			if !r.done.IsZero() && !r.onTime && (r.stage == catalog.Handle || r.stage == catalog.Check || r.stage == stageClose) {
				late = true
			}
		}
		ok := !late
		s.closedOnTime = &ok
	}
	public := true
	switch a {
	case cases.Urge, cases.Escalate, cases.Assist, cases.RequestExtension, cases.RefuseExtension, cases.Return:
		public = false
	}
	s.emit(by, string(a), from, to, note, detail, public)
}

// dispatch sends the case to a target at s.t (dispatch or transfer).
func (s *sim) dispatch(by who, a cases.Action, kind, key string) {
	s.assigneeKind, s.assignee = kind, key
	s.dispatched = s.t
	s.handleDue = s.cal.Deadline(s.t, s.limit(catalog.Handle))
	to := cases.Dispatched
	s.act(by, a, to, "", `{"target":"`+kind+":"+key+`"}`)
}

// write plays case id, reported at t, and writes its rows.
func (w *caseWriter) write(id int64, t time.Time, number string) error {
	g := w.g
	rng := g.rngFor(streamCases, uint64(id))
	s := &w.sim
	*s = sim{g: g, rng: rng, now: g.o.Now, t: t, events: s.events[:0], stages: s.stages[:0], level: cases.GridLevel}
	grids := g.l.levels[territory.Grid]
	s.grid = rng.IntN(len(grids))
	gn := grids[s.grid]
	s.path = gn.path
	district := g.districtOf(s.grid)
	s.cal = g.cals[district]
	street := g.streetOf(s.grid)
	comm := gn.parent
	centre := who{g.centre[street], "s" + g.l.levels[territory.Street][street].code, auth.StreetStaff}
	worker := who{g.worker[s.grid], "g" + gn.code, auth.GridWorker}
	leader := who{g.commStaff[comm][s.grid%2], "c" + g.l.levels[territory.Community][comm].code + "-" + strconv.Itoa(s.grid%2+1), auth.CommunityStaff}
	dcode := g.l.levels[territory.District][district].code
	handlerOf := func(dept string) who {
		k, _ := slices.BinarySearch(g.departments, dept)
		return who{g.deptHandler[district][k], dept + "-" + dcode, auth.DepartmentHandler}
	}

	var channel cases.Channel
	switch x := rng.Float64(); {
	case x < 0.35:
		channel = cases.Patrol
	case x < 0.65:
		channel = cases.Web
	case x < 0.90:
		channel = cases.Hotline
	default:
		channel = cases.API
	}
	for {
		s.cat = g.drawCategory(rng)
		if s.cat.c.Public || channel == cases.Patrol || channel == cases.Hotline {
			break
		}
	}
	s.urg = catalog.Normal
	switch x := rng.Float64(); {
	case x < 0.03:
		s.urg = catalog.Urgent
	case x < 0.15:
		s.urg = catalog.Pressing
	}
	var reporter who
	switch channel {
	case cases.Patrol:
		reporter = worker
	case cases.Hotline:
		reporter = centre
	default:
		reporter = who{g.resident[comm], "r" + g.l.levels[territory.Community][comm].code, auth.Resident}
	}
	// Where: at one of the grid's buildings, or out on the street.
	var lng, lat float64
	var address string
	if first, end := g.gridBuildings[s.grid], g.gridBuildings[s.grid+1]; end > first && rng.Float64() < 0.7 {
		b := first + rng.Int64N(end-first)
		p := g.buildingPoint(s.grid, b)
		lng, lat = p[0], p[1]
		address = g.buildingAddress(comm, b-g.commBuildings[comm]+1)
	} else {
		p := inside(gn.bound, rng.Float64(), rng.Float64())
		lng, lat = p[0], p[1]
		address = road(g.l.levels[territory.Community][comm]) + "附近"
	}
	description := s.cat.c.Name.Zh + "，" + sampletext.Pick(rng, phrases)

	// How the case will go.
	self := channel == cases.Patrol && s.cat.selfFix && rng.Float64() < 0.5
	public := channel != cases.Patrol
	reject := public && rng.Float64() < 0.04
	cancel := !reject && !self && rng.Float64() < 0.02
	toGrid := s.cat.dept == ""
	wrongDept, transfer := "", false
	if !self && !toGrid && rng.Float64() < 0.04 {
		for wrongDept == "" || wrongDept == s.cat.dept {
			wrongDept = g.departments[rng.IntN(len(g.departments))]
		}
		transfer = rng.Float64() < 0.3
	}
	reworks := 0
	if rng.Float64() < 0.06 {
		reworks = 1
		if rng.Float64() < 0.15 {
			reworks = 2
		}
	}
	checkRework := rng.Float64() < 0.01
	extension, refuse, assist, suspend := false, false, false, 0
	if !self && !toGrid {
		extension = rng.Float64() < 0.07
		refuse = rng.Float64() < 0.2
		assist = rng.Float64() < 0.02
		switch x := rng.Float64(); {
		case x < 0.003:
			suspend = 2
		case x < 0.025:
			suspend = 1
		}
	}
	rating := 0
	if channel != cases.Patrol && rng.Float64() < 0.92 {
		unsat, basic := 0.03, 0.13
		if reworks > 0 || suspend > 0 || extension {
			unsat, basic = 0.16, 0.3
		}
		switch x := rng.Float64(); {
		case x < unsat:
			rating = 3
		case x < unsat+basic:
			rating = 2
		default:
			rating = 1
		}
	}

	// The report.
	created := s.t
	s.updated = created
	switch {
	case self:
		s.state = cases.Handled
		s.verified, s.registered, s.dispatched, s.handled = created, created, created, created
		s.assigneeKind, s.assignee, s.handler, s.selfHandled = cases.ToUser, strconv.FormatInt(reporter.id, 10), reporter.id, true
	case channel == cases.Patrol:
		s.state, s.verified = cases.Verified, created
	default:
		s.state = cases.Reported
	}
	s.startStage()
	s.emit(reporter, "report", "", s.state, "", `{"channel":"`+string(channel)+`"}`, true)
	if self {
		s.emit(reporter, string(cases.Handle), cases.Handled, cases.Handled, sampletext.Pick(rng, sampletext.Fix), `{"self_handled":true}`, true)
	}
	var assisting string

	// The workflow, step by step, until it ends or reaches now.
	p := sampletext.Pace
	if s.state == cases.Reported {
		if reject && rng.Float64() < 0.5 {
			if s.at(s.within(p(rng))) {
				s.act(centre, cases.Reject, cases.Rejected, sampletext.Pick(rng, sampletext.Reject), "")
			}
		} else if s.at(s.within(p(rng))) {
			s.act(worker, cases.Verify, cases.Verified, "已到现场核实", "")
		}
	}
	if s.state == cases.Verified {
		if reject {
			if s.at(s.within(p(rng))) {
				s.act(centre, cases.Reject, cases.Rejected, sampletext.Pick(rng, sampletext.Reject), "")
			}
		} else if s.at(s.within(p(rng) * 0.5)) {
			s.act(centre, cases.Accept, cases.Accepted, "", "")
		}
	}
	if s.state == cases.Accepted {
		if cancel && rng.Float64() < 0.4 {
			if s.at(s.within(p(rng))) {
				s.act(centre, cases.Cancel, cases.Cancelled, sampletext.Pick(rng, sampletext.Cancel), "")
			}
		} else if s.at(s.within(p(rng))) {
			s.act(centre, cases.Register, cases.Registered, "", "")
		}
	}
	for s.state == cases.Registered && !s.stop {
		if cancel {
			if s.at(s.within(p(rng))) {
				s.act(centre, cases.Cancel, cases.Cancelled, sampletext.Pick(rng, sampletext.Cancel), "")
			}
			break
		}
		if !s.at(s.within(p(rng))) {
			break
		}
		switch {
		case toGrid:
			s.dispatch(centre, cases.Dispatch, cases.ToUser, strconv.FormatInt(worker.id, 10))
		case wrongDept != "" && s.redispatches == 0:
			s.dispatch(centre, cases.Dispatch, cases.ToDepartment, wrongDept)
		default:
			s.dispatch(centre, cases.Dispatch, cases.ToDepartment, s.cat.dept)
		}
		if wrongDept != "" && s.assignee == wrongDept {
			if transfer {
				if s.at(s.within(0.5 * p(rng))) {
					s.dispatch(centre, cases.Transfer, cases.ToDepartment, s.cat.dept)
				}
			} else if s.at(s.within(p(rng))) {
				s.act(handlerOf(wrongDept), cases.Return, cases.Registered, sampletext.Pick(rng, sampletext.Return), "")
			}
		}
	}
	handler := func() who {
		if s.assigneeKind == cases.ToUser {
			return worker
		}
		return handlerOf(s.assignee)
	}
	if s.state == cases.Dispatched && s.at(s.within(p(rng))) {
		s.act(handler(), cases.Sign, cases.Handling, "", "")
	}
	extended, suspended, urged := false, false, false
	for s.state == cases.Handling && !s.stop {
		h := handler()
		switch {
		case extension && !extended:
			extended = true
			if !s.at(s.within(0.5 + 0.3*rng.Float64())) {
				continue
			}
			days := 2 + rng.IntN(4)
			limit := `{"limit":{"amount":` + strconv.Itoa(days) + `,"unit":"days"}}`
			s.extPending = strconv.Itoa(days) + " days"
			s.act(h, cases.RequestExtension, cases.Handling, sampletext.Pick(rng, sampletext.Extend), limit)
			if !s.at(s.cal.Add(s.t, time.Duration(1+rng.IntN(4))*time.Hour)) {
				continue
			}
			s.extPending = ""
			if refuse {
				s.act(centre, cases.RefuseExtension, cases.Handling, "时限内可以完成，不予延期", "")
				continue
			}
			s.extensions++
			s.handleDue = s.cal.Add(s.handleDue, time.Duration(days)*s.cal.DayLength())
			s.stageDue = s.handleDue
			s.resetTimer()
			s.stages[len(s.stages)-1].due = s.stageDue
			s.act(centre, cases.ApproveExtension, cases.Handling, "", limit)
			continue
		case suspend > 0 && !suspended:
			suspended = true
			if !s.at(s.within(0.2 + 0.3*rng.Float64())) {
				continue
			}
			s.act(centre, cases.Suspend, cases.Suspended, sampletext.Pick(rng, sampletext.Suspend), "")
			if suspend == 2 || !s.at(s.cal.Add(s.t, time.Duration(3+rng.IntN(25))*s.cal.DayLength())) {
				continue
			}
			// The clock resumes with the working time that was left.
			s.stageDue = s.cal.Add(s.t, s.cal.Working(s.suspendedAt, s.stageDue))
			if !s.handleDue.IsZero() {
				s.handleDue = s.cal.Add(s.t, s.cal.Working(s.suspendedAt, s.handleDue))
			}
			s.suspendedFrom, s.suspendedAt = "", time.Time{}
			s.stage = stageOf(cases.Handling)
			s.resetTimer()
			s.stages[len(s.stages)-1].due = s.stageDue
			s.act(centre, cases.Resume, cases.Handling, "", "")
			continue
		case assist && assisting == "":
			if !s.at(s.within(0.1)) {
				continue
			}
			for assisting == "" || assisting == s.assignee {
				assisting = g.departments[rng.IntN(len(g.departments))]
			}
			s.act(centre, cases.Assist, cases.Handling, "", `{"target":"department:`+assisting+`"}`)
			continue
		}
		pc := p(rng)
		if pc > 0.9 && !urged {
			urged = true
			if s.at(s.within(0.85)) {
				s.act(centre, cases.Urge, cases.Handling, sampletext.Pick(rng, sampletext.Urge), "")
			}
		}
		if !s.at(s.within(pc)) {
			break
		}
		notes := sampletext.Handle
		if s.assigneeKind == cases.ToUser {
			notes = sampletext.Grid
		}
		s.act(h, cases.Handle, cases.Handled, sampletext.Pick(rng, notes), "")
		checker := worker
		if s.handler == worker.id {
			checker = leader
		}
		if s.reworks < reworks {
			if s.at(s.within(p(rng))) {
				s.act(checker, cases.Rework, cases.Handling, sampletext.Pick(rng, sampletext.Rework), "")
			}
			continue
		}
		if s.at(s.within(p(rng))) {
			s.act(checker, cases.Check, cases.Checked, "现场核查，问题已解决", "")
		}
		if s.state == cases.Checked && checkRework && s.reworks == 0 {
			if s.at(s.within(p(rng))) {
				s.act(centre, cases.Rework, cases.Handling, sampletext.Pick(rng, sampletext.Rework), "")
			}
		}
	}
	if s.state == cases.Handled && s.selfHandled {
		// A grid worker's own fix is checked by the grid's leader.
		if s.at(s.within(p(rng))) {
			s.act(leader, cases.Check, cases.Checked, "现场核查，问题已解决", "")
		}
	}
	if s.state == cases.Checked && s.at(s.within(p(rng))) {
		s.act(centre, cases.Close, cases.Closed, "", "")
	}
	if s.state == cases.Closed && rating > 0 && !s.stop {
		t := s.t.Add(time.Duration(30+rng.IntN(72*60)) * time.Minute)
		if t.Before(s.now) {
			s.t = t.Truncate(time.Millisecond)
			s.rating, s.ratingNote, s.rated = rating, sampletext.Pick(rng, sampletext.Rate[rating]), s.t
			s.updated = s.t
			s.updates++
			s.emit(reporter, string(cases.Rate), cases.Closed, cases.Closed, s.ratingNote, `{"rating":`+strconv.Itoa(rating)+`}`, true)
		}
	}
	// The timers that have fired by now on a case still waiting.
	if !s.state.Final() && s.state != cases.Suspended {
		s.fire(s.now, true)
	}

	g.sum.Cases++
	if !s.state.Final() {
		g.sum.Open++
	}
	g.sum.Events += len(s.events)
	g.sum.Stages += len(s.stages)
	return w.flushCase(id, number, created, channel, reporter, description, address, lng, lat, assisting)
}

// flushCase writes the case row, its timeline, stages, follower and
// assisting department.
func (w *caseWriter) flushCase(id int64, number string, created time.Time, channel cases.Channel, reporter who,
	description, address string, lng, lat float64, assisting string) error {
	s := &w.sim
	ms := func(t time.Time) any {
		if t.IsZero() {
			return nil
		}
		return db.Millis(t)
	}
	nullID := func(v int64) any {
		if v == 0 {
			return nil
		}
		return v
	}
	nullBool := func(b *bool) any {
		if b == nil {
			return nil
		}
		return *b
	}
	if err := w.cases.add(id, number, string(s.cat.c.Kind), s.cat.c.Code, string(s.urg), description, address, lng, lat,
		s.path, w.g.gridNodeBase+1+int64(s.grid), string(channel), nullID(reporter.id), string(reporter.role), "", false, "{}",
		string(s.state), string(s.level), s.assigneeKind, s.assignee, nullID(s.handler), string(s.stage), ms(s.stageStart), ms(s.stageDue), s.overdue,
		ms(s.timerAt), s.timerStep, ms(s.handleDue), s.suspendedFrom, ms(s.suspendedAt), s.extPending, s.selfHandled,
		nil, s.reworks, s.redispatches, s.extensions, s.suspensions, s.urgings, s.rating, s.ratingNote,
		db.Millis(created), db.Millis(s.updated), ms(s.verified), ms(s.registered), ms(s.dispatched), ms(s.handled), nullBool(s.handledOnTime),
		ms(s.checked), ms(s.closed), nullBool(s.closedOnTime), ms(s.rated), 1+s.updates); err != nil {
		return err
	}
	for _, e := range s.events {
		w.eventID++
		if err := w.events.add(w.eventID, id, db.Millis(e.at), nullID(e.by.id), e.by.name, string(e.by.role), e.action,
			string(e.from), string(e.to), e.note, e.detail, e.public); err != nil {
			return err
		}
	}
	for i, r := range s.stages {
		var onTime any
		if !r.done.IsZero() {
			onTime = r.onTime
		}
		if err := w.stages.add(id, i+1, string(r.stage), db.Millis(r.started), ms(r.due), ms(r.done), onTime, s.path, r.assignee); err != nil {
			return err
		}
	}
	if reporter.id != 0 {
		if err := w.follows.add(id, reporter.id); err != nil {
			return err
		}
	}
	if assisting != "" {
		return w.assist.add(id, assisting)
	}
	return nil
}
