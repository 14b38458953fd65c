package calendar_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/errs"
)

var cst = calendar.Location()

// at reads "2006-01-02 15:04" in China Standard Time.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, cst)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func show(t time.Time) string { return t.In(cst).Format("2006-01-02 15:04:05.000 Mon") }

func TestDeadlinesOnChinas2026Calendar(t *testing.T) {
	c := calendar.Default()
	hours := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Hours} }
	days := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Days} }
	tests := []struct {
		name  string
		start string
		limit calendar.Limit
		want  string
	}{
		{"4 working hours from Friday 16:00 before the Qingming weekend", "2026-04-03 16:00", hours(4), "2026-04-07 11:00"},
		{"4 working hours from Thursday 16:00 before the Dragon Boat break", "2026-06-18 16:00", hours(4), "2026-06-22 11:00"},
		{"2 working days across National Day", "2026-09-30 10:00", days(2), "2026-10-09 10:00"},
		{"1 working day from Friday lands on the make-up Saturday", "2026-10-09 14:00", days(1), "2026-10-10 14:00"},
		{"the make-up Sunday before National Day counts", "2026-09-18 17:00", hours(2), "2026-09-20 10:00"},
		{"New Year's make-up Sunday counts", "2025-12-31 17:00", hours(2), "2026-01-04 10:00"},
		{"Spring Festival: the make-up Saturday, then nine days off", "2026-02-13 09:00", days(3), "2026-02-24 18:00"},
		{"20 working days across Mid-Autumn and National Day", "2026-09-21 09:00", days(20), "2026-10-23 18:00"},
		{"a full day ends at 18:00, not the next morning", "2026-03-02 09:00", days(1), "2026-03-02 18:00"},
		{"a start in the lunch break counts from 13:00", "2026-03-02 12:30", hours(1), "2026-03-02 14:00"},
		{"a start at 12:00 counts from 13:00", "2026-03-02 12:00", hours(1), "2026-03-02 14:00"},
		{"a start before the working day counts from 09:00", "2026-03-02 06:00", hours(3), "2026-03-02 12:00"},
		{"a start in the evening counts from the next morning", "2026-03-02 21:00", hours(1), "2026-03-03 10:00"},
		{"a start on a holiday counts from the next working day", "2026-10-03 11:00", hours(4), "2026-10-08 14:00"},
		{"beyond the built-in years the weekly pattern alone applies", "2027-10-01 09:00", days(1), "2027-10-01 18:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(t, tt.start)
			got := c.Deadline(start, tt.limit)
			if want := at(t, tt.want); !got.Equal(want) {
				t.Fatalf("Deadline(%s, %s) = %s, want %s", tt.start, tt.limit, show(got), show(want))
			}
			if w := c.Working(start, got); w != tt.limit.Duration(c) {
				t.Fatalf("Working(start, deadline) = %v, want %v", w, tt.limit.Duration(c))
			}
		})
	}
}

func TestAddKeepsTheStartsLocationAndReturnsStartForNoTime(t *testing.T) {
	c := calendar.Default()
	start := at(t, "2026-03-02 10:00").UTC()
	if got := c.Add(start, time.Hour); got.Location() != time.UTC || !got.Equal(at(t, "2026-03-02 11:00")) {
		t.Fatalf("Add = %v", got)
	}
	sat := at(t, "2026-03-07 10:00")
	for _, d := range []time.Duration{0, -time.Hour} {
		if got := c.Add(sat, d); !got.Equal(sat) {
			t.Fatalf("Add(start, %v) = %s, want start", d, show(got))
		}
	}
	if got := c.Deadline(sat, calendar.Limit{Amount: 0, Unit: calendar.Hours}); !got.IsZero() {
		t.Fatalf("an invalid limit has a deadline: %s", show(got))
	}
}

func TestIsWorkdayFollowsHolidaysAndMakeUpDays(t *testing.T) {
	c := calendar.Default()
	tests := []struct {
		day  time.Time
		want bool
	}{
		{time.Date(2026, 10, 1, 0, 0, 0, 0, cst), false},      // National Day, Thursday
		{time.Date(2026, 10, 8, 0, 0, 0, 0, cst), true},       // Thursday after the break
		{time.Date(2026, 10, 10, 0, 0, 0, 0, cst), true},      // make-up Saturday
		{time.Date(2026, 10, 11, 0, 0, 0, 0, cst), false},     // ordinary Sunday
		{time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC), true},  // make-up Sunday, as a UTC date
		{time.Date(2026, 1, 3, 12, 0, 0, 0, time.UTC), false}, // New Year break, Saturday
		{time.Date(2026, 3, 2, 0, 0, 0, 0, cst), true},        // ordinary Monday
		// 20:00 UTC on 30 September is 04:00 on 1 October in Beijing.
		{time.Date(2026, 9, 30, 20, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := c.IsWorkday(tt.day); got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, want %v", show(tt.day), got, tt.want)
		}
	}
}

// TestBuiltin2026IsSelfConsistent checks the built-in arrangement against
// the State Council's arithmetic: 104 weekend days and 13 statutory holidays
// leave 248 working days, make-up days fall on weekends, and every entry is
// named.
func TestBuiltin2026IsSelfConsistent(t *testing.T) {
	days := calendar.BuiltinDays(2026)
	if len(days) == 0 {
		t.Fatal("no built-in 2026 arrangement")
	}
	holidays, workdays := 0, 0
	for _, d := range days {
		date, err := time.Parse("2006-01-02", d.Date)
		if err != nil || date.Year() != 2026 || d.Name == "" {
			t.Errorf("bad entry %+v", d)
		}
		switch d.Kind {
		case calendar.Workday:
			workdays++
			if wd := date.Weekday(); wd != time.Saturday && wd != time.Sunday {
				t.Errorf("make-up day %s is a %s", d.Date, wd)
			}
		case calendar.Holiday:
			holidays++
		}
	}
	if holidays != 33 || workdays != 6 {
		t.Errorf("%d holiday and %d make-up entries, want 33 and 6", holidays, workdays)
	}
	c := calendar.Default()
	n := 0
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, cst); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		if c.IsWorkday(d) {
			n++
		}
	}
	if n != 248 {
		t.Errorf("2026 has %d working days, want 248", n)
	}
	start, end := time.Date(2026, 1, 1, 0, 0, 0, 0, cst), time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
	if w := c.Working(start, end); w != 248*8*time.Hour {
		t.Errorf("Working over 2026 = %v, want %v", w, 248*8*time.Hour)
	}
	if got := calendar.BuiltinYears(); len(got) == 0 || got[0] != 2026 {
		t.Errorf("BuiltinYears = %v", got)
	}
}

func TestNewAppliesDefaultsAndNormalises(t *testing.T) {
	c, err := calendar.New(calendar.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if c.DayLength() != 8*time.Hour {
		t.Fatalf("DayLength = %v", c.DayLength())
	}
	s := c.Settings()
	if b, _ := json.Marshal(s); string(b) != `{"workdays":[1,2,3,4,5],"periods":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"18:00"}]}` {
		t.Fatalf("settings = %s", b)
	}
	if !c.IsWorkday(time.Date(2026, 10, 1, 0, 0, 0, 0, cst)) {
		t.Fatal("a calendar without exceptions keeps 1 October as a Thursday")
	}
	c, err = calendar.New(calendar.Settings{Workdays: []int{6, 7, 1}, Periods: []calendar.Period{{Start: "22:00", End: "24:00"}},
		Days: []calendar.Day{{Date: "2026-01-05", Kind: calendar.Holiday}, {Date: "2026-01-01", Kind: calendar.Workday, Name: "x"}}})
	if err != nil {
		t.Fatal(err)
	}
	s = c.Settings()
	if b, _ := json.Marshal(s); string(b) != `{"workdays":[1,6,7],"periods":[{"start":"22:00","end":"24:00"}]}` || s.Days[0].Date != "2026-01-01" {
		t.Fatalf("settings = %s, days %v", b, s.Days)
	}
	if c.DayLength() != 2*time.Hour {
		t.Fatalf("DayLength = %v", c.DayLength())
	}
	// Monday 5 January is a holiday; Thursday 1 January a make-up day.
	// From Saturday 23:00: 1 h on Saturday, 2 h on Sunday (the period's end
	// is the midnight that starts Monday), none on Monday, 1 h on Saturday.
	if got := c.Add(at(t, "2026-01-03 23:00"), 3*time.Hour); !got.Equal(at(t, "2026-01-05 00:00")) {
		t.Fatalf("Add = %s", show(got))
	}
	if got := c.Add(at(t, "2026-01-03 23:00"), 4*time.Hour); !got.Equal(at(t, "2026-01-10 23:00")) {
		t.Fatalf("Add = %s", show(got))
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	p := func(s, e string) calendar.Period { return calendar.Period{Start: s, End: e} }
	tests := []struct {
		name  string
		s     calendar.Settings
		field string
	}{
		{"weekday 0", calendar.Settings{Workdays: []int{0, 1}}, "workdays"},
		{"weekday 8", calendar.Settings{Workdays: []int{8}}, "workdays"},
		{"weekday twice", calendar.Settings{Workdays: []int{1, 1}}, "workdays"},
		{"hour without leading zero", calendar.Settings{Periods: []calendar.Period{p("9:00", "12:00")}}, "periods"},
		{"end before start", calendar.Settings{Periods: []calendar.Period{p("12:00", "09:00")}}, "periods"},
		{"empty period", calendar.Settings{Periods: []calendar.Period{p("09:00", "09:00")}}, "periods"},
		{"overlap", calendar.Settings{Periods: []calendar.Period{p("09:00", "12:00"), p("11:00", "13:00")}}, "periods"},
		{"out of order", calendar.Settings{Periods: []calendar.Period{p("13:00", "18:00"), p("09:00", "12:00")}}, "periods"},
		{"past midnight", calendar.Settings{Periods: []calendar.Period{p("22:00", "24:30")}}, "periods"},
		{"minute 60", calendar.Settings{Periods: []calendar.Period{p("09:60", "10:00")}}, "periods"},
		{"signed hour", calendar.Settings{Periods: []calendar.Period{p("+9:00", "10:00")}}, "periods"},
		{"too many periods", calendar.Settings{Periods: func() []calendar.Period {
			var ps []calendar.Period
			for h := 0; h < 13; h++ {
				ps = append(ps, calendar.Period{Start: time.Date(0, 1, 1, h, 0, 0, 0, time.UTC).Format("15:04"), End: time.Date(0, 1, 1, h, 30, 0, 0, time.UTC).Format("15:04")})
			}
			return ps
		}()}, "periods"},
		{"no such date", calendar.Settings{Days: []calendar.Day{{Date: "2026-02-30", Kind: calendar.Holiday}}}, "days"},
		{"unknown kind", calendar.Settings{Days: []calendar.Day{{Date: "2026-02-03", Kind: "off"}}}, "days"},
		{"date twice", calendar.Settings{Days: []calendar.Day{{Date: "2026-02-03", Kind: calendar.Holiday}, {Date: "2026-02-03", Kind: calendar.Workday}}}, "days"},
		{"control character in name", calendar.Settings{Days: []calendar.Day{{Date: "2026-02-03", Kind: calendar.Holiday, Name: "a\nb"}}}, "days"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.New(tt.s)
			e := errs.As(err)
			if err == nil || e.Code != errs.Invalid || e.Fields[tt.field] == "" || len(e.Fields) != 1 {
				t.Fatalf("New = %v, want invalid field %q", err, tt.field)
			}
		})
	}
}

func TestLights(t *testing.T) {
	const limit = 100 * time.Hour
	tests := []struct {
		elapsed, limit time.Duration
		want           calendar.Light
	}{
		{0, limit, calendar.Green},
		{79 * time.Hour, limit, calendar.Green},
		{80*time.Hour - 1, limit, calendar.Green},
		{80 * time.Hour, limit, calendar.Yellow},
		{100 * time.Hour, limit, calendar.Yellow},
		{100*time.Hour + 1, limit, calendar.Red},
		{101 * time.Hour, limit, calendar.Red},
		{5, 7, calendar.Green}, // 80% of 7 is 5.6
		{6, 7, calendar.Yellow},
		{3, 4, calendar.Green}, // 80% of 4 is 3.2
		{4, 4, calendar.Yellow},
		{math.MaxInt64 / 2, math.MaxInt64, calendar.Green},
		{math.MaxInt64 - 1, math.MaxInt64, calendar.Yellow},
		{math.MaxInt64, math.MaxInt64, calendar.Yellow},
		{time.Hour, 0, calendar.None},
		{time.Hour, -time.Hour, calendar.None},
	}
	for _, tt := range tests {
		if got := calendar.LightOf(tt.elapsed, tt.limit); got != tt.want {
			t.Errorf("LightOf(%d, %d) = %s, want %s", tt.elapsed, tt.limit, got, tt.want)
		}
	}
}

func TestStatusMeasuresWorkingTime(t *testing.T) {
	c := calendar.Default()
	start := at(t, "2026-03-02 09:00") // Monday
	deadline := c.Deadline(start, calendar.Limit{Amount: 10, Unit: calendar.Hours})
	if !deadline.Equal(at(t, "2026-03-03 11:00")) {
		t.Fatalf("deadline %s", show(deadline))
	}
	tests := []struct {
		now      string
		light    calendar.Light
		fraction float64
	}{
		{"2026-03-02 09:00", calendar.Green, 0},
		{"2026-03-02 17:54", calendar.Green, 0.79},
		{"2026-03-02 17:00", calendar.Green, 0.70}, // 7 h: 12:00–13:00 does not count
		{"2026-03-03 09:00", calendar.Yellow, 0.80},
		{"2026-03-03 11:00", calendar.Yellow, 1},
		{"2026-03-03 11:06", calendar.Red, 1.01},
	}
	for _, tt := range tests {
		light, f := c.Status(start, deadline, at(t, tt.now))
		if light != tt.light || math.Abs(f-tt.fraction) > 1e-9 {
			t.Errorf("Status at %s = %s %.4f, want %s %.4f", tt.now, light, f, tt.light, tt.fraction)
		}
	}
	// A deadline at Friday 18:00 is not overrun over the weekend: no
	// working time passes until Monday 09:00.
	fri := at(t, "2026-03-06 09:00")
	dl := c.Deadline(fri, calendar.Limit{Amount: 8, Unit: calendar.Hours})
	if light, _ := c.Status(fri, dl, at(t, "2026-03-07 12:00")); light != calendar.Yellow {
		t.Errorf("Saturday after a deadline at %s: %s, want yellow", show(dl), light)
	}
	if light, _ := c.Status(fri, dl, at(t, "2026-03-09 09:01")); light != calendar.Red {
		t.Errorf("Monday 09:01: %s, want red", light)
	}
	if light, f := c.Status(fri, time.Time{}, at(t, "2026-03-09 09:01")); light != calendar.None || f != 0 {
		t.Errorf("no deadline: %s %v", light, f)
	}
}

func TestLimit(t *testing.T) {
	half, err := calendar.New(calendar.Settings{Periods: []calendar.Period{{Start: "08:30", End: "12:00"}, {Start: "14:00", End: "18:00"}}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		l     calendar.Limit
		valid bool
		text  string
		dur   time.Duration // on the 7.5-hour calendar
	}{
		{calendar.Limit{Amount: 4, Unit: calendar.Hours}, true, "4 working hours", 4 * time.Hour},
		{calendar.Limit{Amount: 1, Unit: calendar.Hours}, true, "1 working hour", time.Hour},
		{calendar.Limit{Amount: 1, Unit: calendar.Days}, true, "1 working day", 7*time.Hour + 30*time.Minute},
		{calendar.Limit{Amount: 20, Unit: calendar.Days}, true, "20 working days", 150 * time.Hour},
		{calendar.Limit{Amount: calendar.MaxLimitAmount, Unit: calendar.Days}, true, "1000 working days", 7500 * time.Hour},
		{calendar.Limit{Amount: calendar.MaxLimitAmount + 1, Unit: calendar.Days}, false, "1001 working days", 0},
		{calendar.Limit{Amount: 0, Unit: calendar.Hours}, false, "0 working hours", 0},
		{calendar.Limit{Amount: -1, Unit: calendar.Days}, false, "-1 working days", 0},
		{calendar.Limit{Amount: 3, Unit: "weeks"}, false, "3 weeks", 0},
	}
	for _, tt := range tests {
		if tt.l.Valid() != tt.valid || tt.l.String() != tt.text || tt.l.Duration(half) != tt.dur {
			t.Errorf("%#v: valid %v, %q, %v", tt.l, tt.l.Valid(), tt.l.String(), tt.l.Duration(half))
		}
	}
	if d := (calendar.Limit{Amount: 2, Unit: calendar.Days}).Duration(nil); d != 16*time.Hour {
		t.Errorf("2 days without a calendar = %v", d)
	}
	var l calendar.Limit
	if err := json.Unmarshal([]byte(`{"amount":4,"unit":"hours"}`), &l); err != nil || l != (calendar.Limit{Amount: 4, Unit: calendar.Hours}) {
		t.Errorf("JSON: %v %v", l, err)
	}
}

// ref is a deliberately slow calendar, written apart from the package: it
// asks minute by minute whether that minute is working time.
type ref struct {
	week    map[time.Weekday]bool
	periods [][2]int        // minutes from midnight, [start, end)
	except  map[[3]int]bool // (y, m, d) → working
}

func newRef(s calendar.Settings) *ref {
	r := &ref{week: map[time.Weekday]bool{}, except: map[[3]int]bool{}}
	if len(s.Workdays) == 0 {
		s.Workdays = []int{1, 2, 3, 4, 5}
	}
	if len(s.Periods) == 0 {
		s.Periods = calendar.DefaultSettings().Periods
	}
	for _, d := range s.Workdays {
		r.week[time.Weekday(d%7)] = true
	}
	mins := func(s string) int {
		var h, m int
		_, _ = fmt.Sscanf(s, "%d:%d", &h, &m)
		return h*60 + m
	}
	for _, p := range s.Periods {
		r.periods = append(r.periods, [2]int{mins(p.Start), mins(p.End)})
	}
	for _, d := range s.Days {
		t, _ := time.Parse("2006-01-02", d.Date)
		r.except[[3]int{t.Year(), int(t.Month()), t.Day()}] = d.Kind == calendar.Workday
	}
	return r
}

// workday reports whether the date of t is a working day.
func (r *ref) workday(t time.Time) bool {
	y, m, d := t.In(cst).Date()
	work, ok := r.except[[3]int{y, int(m), d}]
	if !ok {
		work = r.week[t.In(cst).Weekday()]
	}
	return work
}

// working reports whether the minute starting at t is working time.
func (r *ref) working(t time.Time) bool {
	if !r.workday(t) {
		return false
	}
	t = t.In(cst)
	mm := t.Hour()*60 + t.Minute()
	for _, p := range r.periods {
		if mm >= p[0] && mm < p[1] {
			return true
		}
	}
	return false
}

// next is the minute after t, or the next midnight when t's whole day is
// a rest day (only to keep the test quick: rest days have no working
// minute to count).
func (r *ref) next(t time.Time) time.Time {
	if !r.workday(t) {
		y, m, d := t.In(cst).Date()
		return time.Date(y, m, d+1, 0, 0, 0, 0, cst)
	}
	return t.Add(time.Minute)
}

func (r *ref) add(start time.Time, d time.Duration) time.Time {
	t := start
	for d > 0 {
		if r.working(t) {
			d -= time.Minute
		}
		t = r.next(t)
	}
	return t
}

func (r *ref) between(a, b time.Time) time.Duration {
	var w time.Duration
	for t := a; t.Before(b); t = r.next(t) {
		if r.working(t) {
			w += time.Minute
		}
	}
	return w
}

// testCalendars are the calendars the property test runs on: the default
// one, one with odd periods (touching, from midnight, to midnight) and
// exceptions that change something and some that change nothing, and one
// with a single working day a week.
func testCalendars(t testing.TB) map[string]calendar.Settings {
	t.Helper()
	def := calendar.DefaultSettings()
	def.Days = calendar.Default().Settings().Days
	return map[string]calendar.Settings{
		"default": def,
		"odd": {
			Workdays: []int{2, 3, 4, 5, 6},
			Periods: []calendar.Period{{Start: "00:00", End: "01:00"}, {Start: "08:30", End: "11:45"}, {Start: "11:45", End: "12:00"},
				{Start: "14:00", End: "17:30"}, {Start: "19:00", End: "24:00"}},
			Days: []calendar.Day{
				{Date: "2026-02-03", Kind: calendar.Holiday}, {Date: "2026-02-04", Kind: calendar.Holiday},
				{Date: "2026-02-05", Kind: calendar.Holiday}, {Date: "2026-02-09", Kind: calendar.Workday}, // a Monday
				{Date: "2026-02-08", Kind: calendar.Workday}, {Date: "2026-02-07", Kind: calendar.Holiday}, // Sunday, Saturday
				{Date: "2026-02-10", Kind: calendar.Workday}, {Date: "2026-02-15", Kind: calendar.Holiday}, // no effect
				{Date: "2026-06-01", Kind: calendar.Workday}, {Date: "2026-12-31", Kind: calendar.Holiday},
			},
		},
		"sundays only": {
			Workdays: []int{7},
			Periods:  []calendar.Period{{Start: "10:00", End: "10:45"}},
			Days:     []calendar.Day{{Date: "2026-03-01", Kind: calendar.Holiday}, {Date: "2026-03-04", Kind: calendar.Workday}},
		},
	}
}

// TestAddAndWorkingAgreeWithMinuteStepping compares Add and Working with
// the slow reference on random minute-aligned starts and durations, and
// checks that Working inverts Add on arbitrary instants.
func TestAddAndWorkingAgreeWithMinuteStepping(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 10))
	base := time.Date(2025, 12, 1, 0, 0, 0, 0, cst)
	for name, s := range testCalendars(t) {
		t.Run(name, func(t *testing.T) {
			c, err := calendar.New(s)
			if err != nil {
				t.Fatal(err)
			}
			r := newRef(s)
			iterations := 80
			if testing.Short() {
				iterations = 20
			}
			for i := 0; i < iterations; i++ {
				start := base.Add(time.Duration(rng.IntN(400*24*60)) * time.Minute)
				// Mostly short limits, now and then up to ten working days.
				maxMin := 8 * 60
				if i%4 == 0 {
					maxMin = int(10 * c.DayLength() / time.Minute)
				}
				d := time.Duration(1+rng.IntN(maxMin)) * time.Minute
				got, want := c.Add(start, d), r.add(start, d)
				if !got.Equal(want) {
					t.Fatalf("Add(%s, %v) = %s, reference %s", show(start), d, show(got), show(want))
				}
				if w := c.Working(start, got); w != d {
					t.Fatalf("Working(%s, Add(…, %v)) = %v", show(start), d, w)
				}
				end := start.Add(time.Duration(rng.IntN(12*24*60)) * time.Minute)
				if got, want := c.Working(start, end), r.between(start, end); got != want {
					t.Fatalf("Working(%s, %s) = %v, reference %v", show(start), show(end), got, want)
				}
				// Off the minute grid, with long spans: Working inverts
				// Add, and Add(a, Working(a, b)) never passes b.
				a := start.Add(time.Duration(rng.Int64N(int64(time.Minute))))
				long := time.Duration(rng.Int64N(int64(300 * c.DayLength())))
				if w := c.Working(a, c.Add(a, long)); w != long {
					t.Fatalf("Working(%s, Add(…, %v)) = %v", show(a), long, w)
				}
				b := a.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
				if back := c.Add(a, c.Working(a, b)); back.After(b) {
					t.Fatalf("Add(%s, Working(…, %s)) = %s, after b", show(a), show(b), show(back))
				}
			}
		})
	}
}

func TestWorkingOfEmptyAndReversedSpansIsZero(t *testing.T) {
	c := calendar.Default()
	a := at(t, "2026-03-02 10:00")
	if c.Working(a, a) != 0 || c.Working(a, a.Add(-time.Hour)) != 0 {
		t.Fatal("non-zero working time for an empty or reversed span")
	}
	if w := c.Working(at(t, "2026-03-02 12:10"), at(t, "2026-03-02 12:50")); w != 0 {
		t.Fatalf("lunch break counted: %v", w)
	}
	far := c.Working(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9000, 1, 1, 0, 0, 0, 0, time.UTC))
	if far != math.MaxInt64 {
		t.Fatalf("a span beyond a Duration = %v, want saturation", far)
	}
}

func BenchmarkAdd20WorkingDays(b *testing.B) {
	c := calendar.Default()
	start := time.Date(2026, 9, 21, 9, 0, 0, 0, cst)
	l := calendar.Limit{Amount: 20, Unit: calendar.Days}
	for b.Loop() {
		c.Deadline(start, l)
	}
}

func BenchmarkAddOneYear(b *testing.B) {
	c := calendar.Default()
	start := time.Date(2026, 1, 5, 10, 30, 0, 0, cst)
	for b.Loop() {
		c.Add(start, 248*8*time.Hour)
	}
}

func BenchmarkWorkingOneYear(b *testing.B) {
	c := calendar.Default()
	from, to := time.Date(2026, 1, 1, 0, 0, 0, 0, cst), time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
	for b.Loop() {
		c.Working(from, to)
	}
}

func BenchmarkStatus(b *testing.B) {
	c := calendar.Default()
	start := time.Date(2026, 9, 28, 15, 0, 0, 0, cst)
	deadline := c.Deadline(start, calendar.Limit{Amount: 5, Unit: calendar.Days})
	now := time.Date(2026, 10, 9, 11, 0, 0, 0, cst)
	for b.Loop() {
		c.Status(start, deadline, now)
	}
}
