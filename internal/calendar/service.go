package calendar

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// RefreshInterval is how long a node trusts its cached calendars before it
// re-reads the one-row version that every calendar change bumps: a change
// made on another node is in use everywhere within this time. A node's own
// changes are in use at once.
const RefreshInterval = 5 * time.Second

// Service keeps one calendar per district. A district is a 6-digit district
// code, or "" for the installation's calendar, which districts inherit:
// a district without settings of its own has the installation's, and for a
// year the district has not imported, the installation's exceptions of that
// year; an installation that has not imported a year has China's built-in
// arrangement for it (see BuiltinDays).
type Service struct {
	db    *db.DB
	audit *audit.Log
	clock clock.Clock
	st    store

	mu      sync.Mutex
	version int64 // calendar_version the cache was built at; -1 before the first read
	checked time.Time
	cache   map[string]*Calendar
}

// NewService returns the calendar service.
func NewService(d *db.DB, a *audit.Log, c clock.Clock) *Service {
	return &Service{db: d, audit: a, clock: c, version: -1, cache: map[string]*Calendar{}}
}

// ImportResult says what an import found and did.
type ImportResult struct {
	District string `json:"district"`
	Year     int    `json:"year"`
	Holidays int    `json:"holidays"` // holiday rows imported
	Workdays int    `json:"workdays"` // make-up working day rows imported
	Replaced int    `json:"replaced"` // exceptions of the year the import replaced
	// Problems lists every problem of a rejected file, in file order.
	Problems []Problem `json:"problems"`
}

// For returns the calendar of a district ("" for the installation's). It is
// cached; see RefreshInterval.
func (s *Service) For(ctx context.Context, district string) (*Calendar, error) {
	const op = "calendar.For"
	if !validDistrict(district) {
		return nil, errs.Fields(op, map[string]string{"district": "calendar.error.district"})
	}
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.cache[district]
	fresh := !now.Before(s.checked) && now.Sub(s.checked) < RefreshInterval
	s.mu.Unlock()
	if ok && fresh {
		return c, nil
	}
	// The version is read before the rows, so a calendar is never cached
	// under a version newer than its data.
	v, err := s.st.version(ctx, s.db)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	s.mu.Lock()
	if v > s.version {
		s.version, s.cache = v, map[string]*Calendar{}
	}
	if v == s.version {
		s.checked = now
	}
	c, ok = s.cache[district]
	s.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err = s.load(ctx, district)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	s.mu.Lock()
	if v == s.version {
		s.cache[district] = c
	}
	s.mu.Unlock()
	return c, nil
}

// invalidate drops the cache after a change this node made, so that the
// next For reads the new version at once.
func (s *Service) invalidate() {
	s.mu.Lock()
	s.cache, s.checked = map[string]*Calendar{}, time.Time{}
	s.mu.Unlock()
}

// load builds a district's calendar from the database, inheriting as the
// Service's comment says.
func (s *Service) load(ctx context.Context, district string) (*Calendar, error) {
	st, err := s.st.load(ctx, s.db, district)
	if err != nil {
		return nil, err
	}
	var set Settings
	raw, ok := st.settings[district]
	if !ok {
		raw, ok = st.settings[""]
	}
	if ok {
		if err := json.Unmarshal([]byte(raw), &set); err != nil {
			return nil, err
		}
	}
	yearOf := func(date string) int {
		y, _ := strconv.Atoi(date[:min(4, len(date))])
		return y
	}
	// A year is the district's own when it has imported it; rows of a year
	// without its mark are counted as imported too, rather than ignored.
	for _, d := range st.days {
		st.years[d.district][yearOf(d.Date)] = true
	}
	own, inherited := st.years[district], st.years[""]
	for _, d := range st.days {
		y := yearOf(d.Date)
		if d.district == district || !own[y] {
			set.Days = append(set.Days, d.Day)
		}
	}
	for _, y := range BuiltinYears() {
		if !own[y] && !inherited[y] {
			set.Days = append(set.Days, BuiltinDays(y)...)
		}
	}
	return New(set)
}

// Days returns the exceptions in force for a district in a year: its own
// if it has imported the year, otherwise the inherited ones. Any signed-in
// staff member may read them.
func (s *Service) Days(ctx context.Context, actor auth.Actor, district string, year int) ([]Day, error) {
	const op = "calendar.Days"
	if !canRead(actor) {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if err := checkDistrictYear(op, district, year); err != nil {
		return nil, err
	}
	c, err := s.For(ctx, district)
	if err != nil {
		return nil, err
	}
	prefix := strconv.Itoa(year) + "-"
	out := []Day{}
	for _, d := range c.settings.Days {
		if strings.HasPrefix(d.Date, prefix) {
			out = append(out, d)
		}
	}
	return out, nil
}

// Export writes the exceptions Days returns in an import format ("csv" or
// "json"), so that an export imports unchanged.
func (s *Service) Export(ctx context.Context, actor auth.Actor, district string, year int, w io.Writer, format string) error {
	const op = "calendar.Export"
	if format != FormatCSV && format != FormatJSON {
		return errs.Fields(op, map[string]string{"format": "calendar.import.format"})
	}
	days, err := s.Days(ctx, actor, district, year)
	if err != nil {
		return err
	}
	return errs.Wrap(op, writeDays(w, format, year, days))
}

// Import replaces a district's exceptions of one year with those of a file
// ("csv" or "json"; see FormatCSV), atomically and with an audit entry.
// The file is checked whole first: when anything is wrong, nothing changes
// and the error, errs.Invalid "calendar.import.rejected", comes with every
// problem listed in the result. A file with no rows is valid: the year then
// has no exceptions. District administrators import for their district,
// system administrators for any.
func (s *Service) Import(ctx context.Context, actor auth.Actor, district string, year int, r io.Reader, format string) (ImportResult, error) {
	const op = "calendar.Import"
	res := ImportResult{District: district, Year: year, Problems: []Problem{}}
	if err := checkDistrictYear(op, district, year); err != nil {
		return res, err
	}
	if !canManage(actor, district) {
		return res, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	days, problems, err := parseDays(r, format, year)
	if err != nil {
		return res, err
	}
	if len(problems) > 0 {
		res.Problems = problems
		return res, errs.E(errs.Invalid, op, "calendar.import.rejected", len(problems))
	}
	for _, d := range days {
		if d.Kind == Holiday {
			res.Holidays++
		} else {
			res.Workdays++
		}
	}
	now := s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.bump(ctx, tx); err != nil {
			return err
		}
		n, err := s.st.replaceYear(ctx, tx, district, year, days, now)
		if err != nil {
			return err
		}
		res.Replaced = n
		return s.record(ctx, tx, actor, audit.Record{Action: "calendar.import", ObjectType: "calendar", ObjectID: objectID(district, year),
			ScopePath: district, Detail: map[string]any{"format": format, "holidays": res.Holidays, "workdays": res.Workdays, "replaced": n}})
	})
	if err != nil {
		return res, errs.Wrap(op, err)
	}
	s.invalidate()
	return res, nil
}

// SaveSettings sets a district's weekly pattern and working periods
// (see New for the rules and the defaults of empty fields). Exceptions are
// imported, not saved here: settings with Days fail.
func (s *Service) SaveSettings(ctx context.Context, actor auth.Actor, district string, set Settings) error {
	const op = "calendar.SaveSettings"
	if !validDistrict(district) {
		return errs.Fields(op, map[string]string{"district": "calendar.error.district"})
	}
	if !canManage(actor, district) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if len(set.Days) > 0 {
		return errs.Fields(op, map[string]string{"days": "calendar.error.days_apart"})
	}
	c, err := New(set)
	if err != nil {
		e := errs.As(err)
		return errs.Fields(op, e.Fields)
	}
	norm := c.Settings()
	norm.Days = nil
	raw, err := json.Marshal(norm)
	if err != nil {
		return errs.Wrap(op, err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.bump(ctx, tx); err != nil {
			return err
		}
		if err := s.st.saveSettings(ctx, tx, district, string(raw), s.clock.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "calendar.settings", ObjectType: "calendar", ObjectID: objectID(district, 0),
			ScopePath: district, Detail: norm})
	})
	if err != nil {
		return errs.Wrap(op, err)
	}
	s.invalidate()
	return nil
}

// errSeeded stops Seed's transaction when another node seeded first.
var errSeeded = errors.New("calendar already seeded")

// Seed stores China's built-in holiday arrangements as the installation's
// exceptions when the installation has never imported any, so that they can
// be seen, exported and corrected like imported ones. Until then For uses
// them anyway. Several nodes may seed at once: one does, the others find it
// done.
func (s *Service) Seed(ctx context.Context) error {
	const op = "calendar.Seed"
	actor := auth.SystemActor("system")
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.bump(ctx, tx); err != nil {
			return err
		}
		has, err := s.st.hasYears(ctx, tx, "")
		if err != nil {
			return err
		}
		if has {
			return errSeeded
		}
		now := s.clock.Now()
		for _, y := range BuiltinYears() {
			days := BuiltinDays(y)
			if _, err := s.st.replaceYear(ctx, tx, "", y, days, now); err != nil {
				return err
			}
			if err := s.record(ctx, tx, actor, audit.Record{Action: "calendar.seed", ObjectType: "calendar", ObjectID: objectID("", y),
				Detail: map[string]any{"days": len(days)}}); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errSeeded) {
		return nil
	}
	if err != nil {
		return errs.Wrap(op, err)
	}
	s.invalidate()
	return nil
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// objectID names a calendar, or one year of it, in the audit log:
// "default" for the installation's, else the district code; "/2026" for a year.
func objectID(district string, year int) string {
	id := district
	if id == "" {
		id = "default"
	}
	if year != 0 {
		id += "/" + strconv.Itoa(year)
	}
	return id
}

// canManage: district administrators (territory managers) and system
// administrators (settings managers) change the calendars their scope
// covers; only an actor scoped to the whole installation changes its
// default calendar.
func canManage(actor auth.Actor, district string) bool {
	return auth.Can(actor, auth.ManageSettings, district) || auth.Can(actor, auth.ManageTerritory, district)
}

// canRead: the calendar is no secret, but it is staff's working tool.
func canRead(actor auth.Actor) bool {
	return actor.Authenticated() && (actor.System || actor.Role.Staff())
}

// validDistrict accepts "" (the installation) and 6-digit district codes.
func validDistrict(d string) bool {
	if d == "" {
		return true
	}
	if len(d) != 6 {
		return false
	}
	for _, c := range []byte(d) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func checkDistrictYear(op, district string, year int) error {
	f := map[string]string{}
	if !validDistrict(district) {
		f["district"] = "calendar.error.district"
	}
	if year < MinYear || year > MaxYear {
		f["year"] = "calendar.error.year"
	}
	if len(f) > 0 {
		return errs.Fields(op, f)
	}
	return nil
}
