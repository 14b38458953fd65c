// Package calendar is the working calendar (工作日历) on which every case time
// limit is computed: which days are working days (a weekly pattern, public
// holidays that fall on weekdays, and the weekend days made working days, 调休)
// and which hours of a working day count (its working periods), all reckoned
// in China Standard Time.
//
// calendar.go is the pure model: an immutable Calendar answering "when does a
// limit of so much working time run out" (Add, Deadline), "how much working
// time lies between two instants" (Working) and "which warning light does a
// case show" (Status, LightOf). Neither walks the days of a span: the working
// days between two dates are counted arithmetically (whole weeks times the
// working days of a week, plus a prefix sum over the dated exceptions found by
// binary search), and Add finds its last day by galloping and bisecting over
// that count, so a year costs about as much as a day (see the benchmarks).
// store.go and service.go keep one calendar per district in the database.
package calendar

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/errs"
)

// cst is China Standard Time. China has had no daylight saving time since
// 1991, so every day is exactly 24 hours long and a day number is a division.
var cst = time.FixedZone("CST", 8*3600)

const (
	cstOffset  = 8 * 3600 // seconds east of UTC
	secondsDay = 24 * 3600
	// epochWeekday is the weekday of day number 0, 1970-01-01.
	epochWeekday = int64(time.Thursday)
	// maxPeriods bounds the working periods of a day.
	maxPeriods = 12
	// maxNameRunes bounds the name of a dated exception.
	maxNameRunes = 50
	dateLayout   = "2006-01-02"
)

// Location returns China Standard Time (UTC+8), the zone in which working
// days and working periods are reckoned.
func Location() *time.Location { return cst }

// Settings are the rules of a calendar.
type Settings struct {
	// Workdays are the working days of an ordinary week, numbered as in
	// ISO 8601 and on Chinese calendars: 1 = Monday … 7 = Sunday. Empty
	// means Monday to Friday.
	Workdays []int `json:"workdays"`
	// Periods are the working periods of a working day in China Standard
	// Time, in order and not overlapping. Empty means 09:00–12:00 and
	// 13:00–18:00.
	Periods []Period `json:"periods"`
	// Days are the dated exceptions. They are imported year by year (see
	// Service.Import), not saved with the other settings, so they are not
	// part of the settings' JSON.
	Days []Day `json:"-"`
}

// Period is one working period of a day, from Start to End ("HH:MM", China
// Standard Time). End may be "24:00", the midnight that ends the day.
type Period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Kind says what a dated exception makes of its day.
type Kind string

// The kinds of dated exception.
const (
	// Holiday is a public holiday: not a working day although the weekly
	// pattern says it would be (非工作日).
	Holiday Kind = "holiday"
	// Workday is a make-up working day (调休上班): a working day although
	// the weekly pattern says it would not be, typically a Saturday or
	// Sunday next to a holiday.
	Workday Kind = "workday"
)

// Day is a dated exception to the weekly pattern.
type Day struct {
	Date string `json:"date"` // YYYY-MM-DD
	Kind Kind   `json:"kind"`
	Name string `json:"name"` // e.g. 国庆节; may be empty
}

// DefaultSettings returns the usual rules: Monday to Friday, 09:00–12:00 and
// 13:00–18:00 (eight working hours a day), no dated exceptions.
func DefaultSettings() Settings {
	return Settings{
		Workdays: []int{1, 2, 3, 4, 5},
		Periods:  []Period{{Start: "09:00", End: "12:00"}, {Start: "13:00", End: "18:00"}},
	}
}

// span is a working period as offsets from midnight.
type span struct{ start, end time.Duration }

// Calendar is the immutable working calendar of one district. Its methods
// are safe for concurrent use.
type Calendar struct {
	settings Settings // normalised, Days sorted by date
	week     [7]bool  // working weekdays, indexed by time.Weekday
	perWeek  int64    // working days in an ordinary week, at least 1
	// weekPrefix[k] counts the working weekdays among the k days that start
	// the week of day number 0 (a Thursday): with it the pattern's working
	// days before any day number are one division away.
	weekPrefix [8]int64
	periods    []span
	dayLen     time.Duration
	// The dated exceptions, sorted by day number. delta is +1 for a
	// make-up working day on a pattern rest day, -1 for a holiday on a
	// pattern working day and 0 for one that changes nothing; deltaPrefix
	// sums them so that the effect of every exception before a day is one
	// binary search away.
	exDays      []int64
	exWork      []bool
	deltaPrefix []int64
}

// New builds a calendar from s. Empty Workdays or Periods take the defaults
// (see DefaultSettings). Bad settings fail with errs.Invalid naming the
// fields "workdays", "periods" or "days".
func New(s Settings) (*Calendar, error) {
	const op = "calendar.New"
	def := DefaultSettings()
	if len(s.Workdays) == 0 {
		s.Workdays = def.Workdays
	}
	if len(s.Periods) == 0 {
		s.Periods = def.Periods
	}
	c := &Calendar{}
	bad := map[string]string{}
	if !c.setWeek(s.Workdays) {
		bad["workdays"] = "calendar.error.workdays"
	}
	periods, ok := parsePeriods(s.Periods)
	if !ok {
		bad["periods"] = "calendar.error.periods"
	}
	days, ok := normaliseDays(s.Days)
	if !ok {
		bad["days"] = "calendar.error.days"
	}
	if len(bad) > 0 {
		return nil, errs.Fields(op, bad)
	}
	c.periods = periods
	for _, p := range periods {
		c.dayLen += p.end - p.start
	}
	c.settings = Settings{Workdays: make([]int, 0, 7), Periods: make([]Period, len(periods)), Days: days}
	for iso := 1; iso <= 7; iso++ {
		if c.week[time.Weekday(iso%7)] {
			c.settings.Workdays = append(c.settings.Workdays, iso)
		}
	}
	for i, p := range periods {
		c.settings.Periods[i] = Period{Start: formatOffset(p.start), End: formatOffset(p.end)}
	}
	c.deltaPrefix = make([]int64, 1, len(days)+1)
	for _, d := range days {
		n := dayNumber(d.Date)
		work := d.Kind == Workday
		delta := int64(0)
		if pattern := c.week[weekdayOf(n)]; work && !pattern {
			delta = 1
		} else if !work && pattern {
			delta = -1
		}
		c.exDays = append(c.exDays, n)
		c.exWork = append(c.exWork, work)
		c.deltaPrefix = append(c.deltaPrefix, c.deltaPrefix[len(c.deltaPrefix)-1]+delta)
	}
	return c, nil
}

// setWeek fills the weekly pattern from ISO weekday numbers; each must be
// 1–7 and appear once.
func (c *Calendar) setWeek(iso []int) bool {
	for _, d := range iso {
		if d < 1 || d > 7 || c.week[time.Weekday(d%7)] {
			return false
		}
		c.week[time.Weekday(d%7)] = true
		c.perWeek++
	}
	for k := int64(0); k < 7; k++ {
		c.weekPrefix[k+1] = c.weekPrefix[k]
		if c.week[(epochWeekday+k)%7] {
			c.weekPrefix[k+1]++
		}
	}
	return c.perWeek > 0
}

// parsePeriods reads "HH:MM" periods: each non-empty, in order, not
// overlapping (touching is allowed), at most maxPeriods.
func parsePeriods(ps []Period) ([]span, bool) {
	if len(ps) > maxPeriods {
		return nil, false
	}
	out := make([]span, 0, len(ps))
	var last time.Duration
	for _, p := range ps {
		s, ok1 := parseClock(p.Start)
		e, ok2 := parseClock(p.End)
		if !ok1 || !ok2 || s >= e || s < last {
			return nil, false
		}
		out = append(out, span{s, e})
		last = e
	}
	return out, true
}

// parseClock reads "HH:MM" from 00:00 to 24:00 as an offset from midnight.
func parseClock(s string) (time.Duration, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || s[0] == '+' || s[0] == '-' || s[3] == '+' || s[3] == '-' ||
		h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute, true
}

func formatOffset(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// normaliseDays checks dated exceptions (a valid date, a known kind, a
// short printable name, each date once) and returns them sorted by date.
func normaliseDays(days []Day) ([]Day, bool) {
	out := slices.Clone(days)
	for _, d := range out {
		if _, ok := parseDate(d.Date); !ok || (d.Kind != Holiday && d.Kind != Workday) || !validName(d.Name) {
			return nil, false
		}
	}
	slices.SortFunc(out, func(a, b Day) int { return strings.Compare(a.Date, b.Date) })
	for i := 1; i < len(out); i++ {
		if out[i].Date == out[i-1].Date {
			return nil, false
		}
	}
	return out, true
}

// parseDate reads a strict YYYY-MM-DD date.
func parseDate(s string) (time.Time, bool) {
	if len(s) != len(dateLayout) {
		return time.Time{}, false
	}
	t, err := time.Parse(dateLayout, s)
	return t, err == nil
}

// validName accepts names of at most maxNameRunes printable characters.
func validName(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > maxNameRunes {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// dayNumber is the day number of a valid YYYY-MM-DD date: days since
// 1970-01-01.
func dayNumber(date string) int64 {
	t, _ := parseDate(date)
	return floorDiv(t.Unix(), secondsDay)
}

// Settings returns the calendar's rules, normalised: weekdays in order,
// periods as "HH:MM", exceptions sorted by date.
func (c *Calendar) Settings() Settings {
	return Settings{
		Workdays: slices.Clone(c.settings.Workdays),
		Periods:  slices.Clone(c.settings.Periods),
		Days:     slices.Clone(c.settings.Days),
	}
}

// DayLength is the working time of one working day: the length of a
// working day in limits counted in days.
func (c *Calendar) DayLength() time.Duration { return c.dayLen }

// IsWorkday reports whether the date that contains the instant day, in
// China Standard Time, is a working day. A date built with time.Date at
// midnight UTC or China Standard Time names the intended date.
func (c *Calendar) IsWorkday(day time.Time) bool {
	n, _ := split(day)
	return c.isWork(n)
}

// Add returns the instant at which d of working time has elapsed after
// start: the earliest instant t with Working(start, t) == d. A start outside
// working time therefore counts from the next working period's start, and
// the result lies inside a working period or at its end (18:00 rather than
// the next day's 09:00). A d of zero or less returns start.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return start
	}
	day, off := split(start)
	if c.isWork(day) {
		done := c.upto(off)
		if d <= c.dayLen-done {
			return join(day, c.at(done+d), start.Location())
		}
		d -= c.dayLen - done
	}
	// Skip k whole working days, then spend the rest (0, dayLen] in the
	// (k+1)-th working day from tomorrow.
	k := int64((d - 1) / c.dayLen)
	rest := d - time.Duration(k)*c.dayLen
	return join(c.nthWorkday(day+1, k+1), c.at(rest), start.Location())
}

// Working returns the working time between a and b; 0 if b is not after a.
func (c *Calendar) Working(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	da, oa := split(a)
	db, ob := split(b)
	if da == db {
		if !c.isWork(da) {
			return 0
		}
		return c.upto(ob) - c.upto(oa)
	}
	var w time.Duration
	if c.isWork(da) {
		w = c.dayLen - c.upto(oa)
	}
	if c.isWork(db) {
		w += c.upto(ob)
	}
	// Only spans of centuries overflow a Duration; saturate like time.Sub.
	full := c.workdays(da+1, db)
	if full > int64((math.MaxInt64-w)/c.dayLen) {
		return math.MaxInt64
	}
	return w + time.Duration(full)*c.dayLen
}

// Deadline is the instant at which limit l, started at start, runs out:
// Add(start, l.Duration(c)). An invalid limit has no deadline: the zero time.
func (c *Calendar) Deadline(start time.Time, l Limit) time.Time {
	if !l.Valid() {
		return time.Time{}
	}
	return c.Add(start, l.Duration(c))
}

// Status is the warning light of a case started at start that must be done
// by deadline, seen at now, and the fraction of its limit spent, both
// measured in working time. A zero deadline (no limit) shows None.
func (c *Calendar) Status(start, deadline, now time.Time) (Light, float64) {
	if deadline.IsZero() {
		return None, 0
	}
	limit := c.Working(start, deadline)
	if limit <= 0 {
		return None, 0
	}
	elapsed := c.Working(start, now)
	return LightOf(elapsed, limit), float64(elapsed) / float64(limit)
}

// isWork reports whether day number n is a working day.
func (c *Calendar) isWork(n int64) bool {
	if i, ok := slices.BinarySearch(c.exDays, n); ok {
		return c.exWork[i]
	}
	return c.week[weekdayOf(n)]
}

// workdays counts the working days in the day numbers [x, y).
func (c *Calendar) workdays(x, y int64) int64 {
	if y <= x {
		return 0
	}
	return c.patternBefore(y) - c.patternBefore(x) + c.deltaBefore(y) - c.deltaBefore(x)
}

// patternBefore counts the pattern's working days before day number n,
// counted from day 0 (negative for earlier days).
func (c *Calendar) patternBefore(n int64) int64 {
	return floorDiv(n, 7)*c.perWeek + c.weekPrefix[n-floorDiv(n, 7)*7]
}

// deltaBefore sums the effect of the exceptions before day number n.
func (c *Calendar) deltaBefore(n int64) int64 {
	i, _ := slices.BinarySearch(c.exDays, n)
	return c.deltaPrefix[i]
}

// nthWorkday returns the n-th working day (n >= 1) on or after day number
// from. The pattern has a working day every week and the exceptions are
// finite, so it exists: gallop to a day past it, then bisect.
func (c *Calendar) nthWorkday(from, n int64) int64 {
	lo := from // workdays(from, lo) < n
	step := 7 * ((n + c.perWeek - 1) / c.perWeek)
	hi := from + step
	for c.workdays(from, hi) < n {
		lo = hi
		step *= 2
		hi = from + step
	}
	// Smallest e in (lo, hi] with workdays(from, e) >= n; the day is e-1.
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if c.workdays(from, mid) >= n {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi - 1
}

// upto is the working time of a working day before offset off.
func (c *Calendar) upto(off time.Duration) time.Duration {
	var w time.Duration
	for _, p := range c.periods {
		if off <= p.start {
			break
		}
		w += min(off, p.end) - p.start
	}
	return w
}

// at is the earliest offset of a working day before which x of working
// time lies, for 0 < x <= dayLen.
func (c *Calendar) at(x time.Duration) time.Duration {
	for _, p := range c.periods {
		if l := p.end - p.start; x > l {
			x -= l
		} else {
			return p.start + x
		}
	}
	return c.periods[len(c.periods)-1].end
}

// split turns an instant into its day number and offset from midnight,
// both in China Standard Time.
func split(t time.Time) (int64, time.Duration) {
	s := t.Unix() + cstOffset
	n := floorDiv(s, secondsDay)
	return n, time.Duration(s-n*secondsDay)*time.Second + time.Duration(t.Nanosecond())
}

// join is the inverse of split, in location loc.
func join(n int64, off time.Duration, loc *time.Location) time.Time {
	return time.Unix(n*secondsDay-cstOffset, int64(off)).In(loc)
}

func weekdayOf(n int64) time.Weekday {
	return time.Weekday((n - floorDiv(n, 7)*7 + epochWeekday) % 7)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Unit is the unit of a time limit.
type Unit string

// The units of a time limit. Both count working time.
const (
	Hours Unit = "hours" // working hours
	Days  Unit = "days"  // working days, each as long as the calendar's DayLength
)

// MaxLimitAmount bounds a limit's amount: a thousand working days is about
// four years, beyond any real time limit.
const MaxLimitAmount = 1000

// Limit is a time limit such as 4 working hours or 20 working days.
type Limit struct {
	Amount int  `json:"amount"`
	Unit   Unit `json:"unit"`
}

// Valid reports whether l has a known unit and an amount from 1 to
// MaxLimitAmount.
func (l Limit) Valid() bool {
	return (l.Unit == Hours || l.Unit == Days) && l.Amount >= 1 && l.Amount <= MaxLimitAmount
}

// Duration is the working time l allows: hours as they are, days times the
// calendar's working-day length (a nil calendar counts eight-hour days).
// An invalid limit allows nothing.
func (l Limit) Duration(c *Calendar) time.Duration {
	if !l.Valid() {
		return 0
	}
	if l.Unit == Hours {
		return time.Duration(l.Amount) * time.Hour
	}
	day := 8 * time.Hour
	if c != nil {
		day = c.dayLen
	}
	return time.Duration(l.Amount) * day
}

// String writes l for logs and reports, e.g. "4 working hours",
// "1 working day". Pages translate limits themselves.
func (l Limit) String() string {
	var unit string
	switch l.Unit {
	case Hours:
		unit = "working hour"
	case Days:
		unit = "working day"
	default:
		return fmt.Sprintf("%d %s", l.Amount, l.Unit)
	}
	if l.Amount != 1 {
		unit += "s"
	}
	return strconv.Itoa(l.Amount) + " " + unit
}

// Light is a case's warning light.
type Light string

// The warning lights.
const (
	None   Light = "none"   // no time limit
	Green  Light = "green"  // under 80% of the limit spent
	Yellow Light = "yellow" // 80% to 100% spent, 100% included
	Red    Light = "red"    // more than the limit spent: overdue
)

// LightOf is the light for elapsed working time against a limit: Green
// below 80%, Yellow from 80% up to and including 100%, Red beyond; None when
// there is no limit (limit <= 0). The comparison is exact, in integers.
func LightOf(elapsed, limit time.Duration) Light {
	switch {
	case limit <= 0:
		return None
	case elapsed > limit:
		return Red
	}
	// elapsed*5 < limit*4 without overflow: with limit = 5q + r, it is
	// (elapsed - 4q)*5 < 4r, where 4r < 20.
	q, r := limit/5, limit%5
	if diff := elapsed - 4*q; diff < 0 || (diff < 4 && 5*diff < 4*r) {
		return Green
	}
	return Yellow
}
