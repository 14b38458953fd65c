package people

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// This file holds the visits log (民情日志) — grid workers' visits to
// households and what they found — and the care schedule built on it, which
// tells a worker whom to visit next.

// FindingKind is what a visit found.
type FindingKind string

// The kinds of finding.
const (
	FindingDispute        FindingKind = "dispute"         // 矛盾纠纷
	FindingRequest        FindingKind = "request"         // 民生诉求
	FindingSuggestion     FindingKind = "suggestion"      // 意见建议
	FindingSecurityHazard FindingKind = "security_hazard" // 治安隐患
	FindingFireHazard     FindingKind = "fire_hazard"     // 消防隐患
	FindingSanitation     FindingKind = "sanitation"      // 环境卫生
	FindingOther          FindingKind = "other"
)

// FindingKinds lists the kinds of finding.
var FindingKinds = []FindingKind{FindingDispute, FindingRequest, FindingSuggestion, FindingSecurityHazard,
	FindingFireHazard, FindingSanitation, FindingOther}

// Finding is one thing a visit found, in a few words.
type Finding struct {
	Kind        FindingKind `json:"kind"`
	Description string      `json:"description"`
}

// Limits of a visit record.
const (
	maxVisitHouseholds = 50
	maxFindings        = 20
	maxCompanions      = 100 // characters
	maxFindingText     = 500 // characters
	// visitWindow is how far back a visit may be logged: a worker catches
	// up on a week's notes, not on last year's.
	visitWindow = 30 * 24 * time.Hour
	// clockSkew forgives a phone whose clock runs a little ahead, so that a
	// visit logged as ending "now" is not refused as being in the future.
	clockSkew = 5 * time.Minute
)

// NewVisit is the input for logging a visit. Times are instants; the faces
// parse them (RFC 3339 in the JSON API).
type NewVisit struct {
	HouseholdIDs []int64
	Companions   string
	StartedAt    time.Time
	EndedAt      time.Time
	Findings     []Finding
}

// validate normalises a visit and returns every problem by field, as i18n
// keys. Findings are named findings.<index>.<field>. Whether the households
// exist and lie in the actor's grids is checked by the service.
func (in NewVisit) validate(now time.Time) (NewVisit, map[string]string) {
	f := map[string]string{}
	// Stored instants have millisecond precision; truncate now so that what
	// is returned is what a later read returns.
	c := NewVisit{Companions: strings.TrimSpace(in.Companions),
		StartedAt: in.StartedAt.UTC().Truncate(time.Millisecond), EndedAt: in.EndedAt.UTC().Truncate(time.Millisecond)}
	seen := map[int64]bool{}
	for _, id := range in.HouseholdIDs {
		if !seen[id] {
			seen[id] = true
			c.HouseholdIDs = append(c.HouseholdIDs, id)
		}
	}
	switch {
	case len(c.HouseholdIDs) == 0:
		f["household_ids"] = "error.field.required"
	case len(c.HouseholdIDs) > maxVisitHouseholds:
		f["household_ids"] = "people.visit.too_many_households"
	}
	if utf8.RuneCountInString(c.Companions) > maxCompanions {
		f["companions"] = "error.field.too_long"
	}
	latest := now.Add(clockSkew)
	switch {
	case in.StartedAt.IsZero():
		f["started_at"] = "error.field.required"
	case in.StartedAt.Before(now.Add(-visitWindow)):
		f["started_at"] = "people.visit.too_old"
	case in.StartedAt.After(latest):
		f["started_at"] = "people.visit.future"
	}
	switch {
	case in.EndedAt.IsZero():
		f["ended_at"] = "error.field.required"
	case in.EndedAt.After(latest):
		f["ended_at"] = "people.visit.future"
	case !in.StartedAt.IsZero() && in.EndedAt.Before(in.StartedAt):
		f["ended_at"] = "people.visit.ends_before_start"
	}
	if len(in.Findings) > maxFindings {
		f["findings"] = "people.visit.too_many_findings"
	}
	for i, x := range in.Findings[:min(len(in.Findings), maxFindings)] {
		x.Description = strings.TrimSpace(x.Description)
		name := "findings." + strconv.Itoa(i) + "."
		if !slices.Contains(FindingKinds, x.Kind) {
			f[name+"kind"] = "people.finding.kind"
		}
		switch {
		case x.Description == "":
			f[name+"description"] = "error.field.required"
		case utf8.RuneCountInString(x.Description) > maxFindingText:
			f[name+"description"] = "error.field.too_long"
		}
		c.Findings = append(c.Findings, x)
	}
	return c, f
}

// Visit is a logged visit.
type Visit struct {
	ID         int64  `json:"id"`
	WorkerID   int64  `json:"worker_id"`
	WorkerName string `json:"worker_name"`
	// GridCode is the grid of the first household visited; the visit is
	// listed to those whose scope covers it.
	GridCode     string    `json:"grid_code"`
	HouseholdIDs []int64   `json:"household_ids"`
	Companions   string    `json:"companions"`
	StartedAt    time.Time `json:"started_at"`
	EndedAt      time.Time `json:"ended_at"`
	Findings     []Finding `json:"findings"`
	CreatedAt    time.Time `json:"created_at"`
	gridPath     string
}

// RecordVisit logs a visit by the actor to households in their grids. The
// actor needs the right to write the registry at every household visited;
// a household they may not even read is reported as unknown, as elsewhere
// in the registry, so that its existence does not leak.
func (s *Service) RecordVisit(ctx context.Context, actor auth.Actor, in NewVisit) (Visit, error) {
	const op = "people.RecordVisit"
	// A visit names the person who made it: the console and jobs, which act
	// without an account, cannot make one.
	if actor.UserID == 0 {
		return Visit{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	now := s.clock.Now()
	c, f := in.validate(now)
	var paths []string
	if _, bad := f["household_ids"]; !bad {
		known, err := s.st.householdPaths(ctx, s.db, c.HouseholdIDs)
		if err != nil {
			return Visit{}, errs.Wrap(op, err)
		}
		for _, id := range c.HouseholdIDs {
			p, ok := known[id]
			if !ok || !auth.Can(actor, auth.ReadPeople, p) {
				f["household_ids"] = "people.household.unknown"
				break
			}
			paths = append(paths, p)
		}
	}
	if len(f) > 0 {
		return Visit{}, errs.Fields(op, f)
	}
	for _, p := range paths {
		if !auth.Can(actor, auth.WritePeople, p) {
			return Visit{}, errs.E(errs.Forbidden, op, "error.forbidden")
		}
	}
	name := actor.DisplayName
	if name == "" {
		name = actor.Username
	}
	v := Visit{WorkerID: actor.UserID, WorkerName: name, GridCode: auth.ScopeCode(paths[0]), HouseholdIDs: slices.Sorted(slices.Values(c.HouseholdIDs)),
		Companions: c.Companions, StartedAt: c.StartedAt, EndedAt: c.EndedAt, Findings: c.Findings, CreatedAt: db.FromMillis(db.Millis(now)), gridPath: paths[0]}
	if v.Findings == nil {
		v.Findings = []Finding{}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := s.st.insertVisit(ctx, tx, v)
		if err != nil {
			return err
		}
		v.ID = id
		if err := s.st.insertVisitHouseholds(ctx, tx, id, v.HouseholdIDs); err != nil {
			return err
		}
		if err := s.st.insertFindings(ctx, tx, id, v.Findings); err != nil {
			return err
		}
		// Counts only: findings are free text about people and stay out of
		// the audit log, which many more people may read.
		return s.record(ctx, tx, actor, audit.Record{Action: "visit.create", ObjectType: "visit", ObjectID: strconv.FormatInt(id, 10),
			ScopePath: v.gridPath, Detail: map[string]any{"households": len(v.HouseholdIDs), "findings": len(v.Findings)}})
	})
	if err != nil {
		return Visit{}, errs.Wrap(op, err)
	}
	return v, nil
}

// VisitFilter selects visits. Results are newest first: AfterID is the id
// of the last visit of the previous page, and the next page holds older
// visits.
type VisitFilter struct {
	HouseholdID int64
	WorkerID    int64
	AfterID     int64
	Limit       int
}

// Visits returns one page of the visits inside the actor's scopes, newest
// first, with their households and findings.
func (s *Service) Visits(ctx context.Context, actor auth.Actor, f VisitFilter) ([]Visit, error) {
	const op = "people.Visits"
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	vs, err := s.st.visits(ctx, s.db, scopes, f)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(vs) == 0 {
		return []Visit{}, nil
	}
	ids := make([]int64, len(vs))
	for i, v := range vs {
		ids[i] = v.ID
	}
	hhs, err := s.st.visitHouseholds(ctx, s.db, ids)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	fs, err := s.st.visitFindings(ctx, s.db, ids)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	for i := range vs {
		vs[i].HouseholdIDs = hhs[vs[i].ID]
		vs[i].Findings = fs[vs[i].ID]
		if vs[i].Findings == nil {
			vs[i].Findings = []Finding{}
		}
	}
	return vs, nil
}

// CareStatus says how urgently a resident on the care schedule needs a visit.
type CareStatus string

// The statuses of the care schedule. On day D, with the due day N (the day
// of the household's last visit plus the interval):
//   - due when D ≥ N;
//   - overdue when D ≥ N + interval/2, that is when at least half an interval
//     more has passed (rounded up to whole days: 4 days for a weekly visit,
//     15 for a monthly one).
//
// A household never visited has been due since the resident was registered,
// so a new resident is due at once and becomes overdue like everyone else
// if nobody goes.
const (
	StatusDue     CareStatus = "due"
	StatusOverdue CareStatus = "overdue"
)

// Care schedule rules.
const (
	// aloneElderlyDays is the interval of the derived "aged 60+ living
	// alone" rule: weekly, like empty-nest elderly.
	aloneElderlyDays = 7
	// maxCareItems bounds the schedule: a worker's list, most urgent first,
	// not a dump of a district.
	maxCareItems = 1000
)

// CareItem is a resident due for a visit. Only the name and references are
// shown: the schedule is a worker's list, and numbers stay sealed.
type CareItem struct {
	ResidentID  int64  `json:"resident_id"`
	Name        string `json:"name"`
	HouseholdID int64  `json:"household_id"`
	GridCode    string `json:"grid_code"`
	// Tags are the reasons the resident is on the schedule: their tags with
	// a visit interval (restricted ones only for actors who may reveal
	// them), and the derived aged_60_plus and living_alone together when
	// that rule applies.
	Tags         []string   `json:"tags"`
	IntervalDays int        `json:"interval_days"`
	LastVisitAt  *time.Time `json:"last_visit_at"`
	DueOn        string     `json:"due_on"`
	DaysPastDue  int        `json:"days_past_due"`
	Status       CareStatus `json:"status"`
}

// CareDue returns the care schedule of the actor's scopes on a day (China
// Standard Time; the zero time means today): every current resident with a
// visit interval whose visit is due or overdue, overdue first, then by days
// past due, most first. A resident's interval is the shortest of their
// tags' visit_days and, for residents aged 60 or more who are the only
// current member of their household, seven days. Intervals that come from
// restricted tags count only for actors who may reveal them, so the
// schedule never hints at a special population to a grid worker.
//
// Three queries whatever the size: residents with an interval from a tag,
// elderly residents living alone, and the last visit of every household in
// scope, grouped.
func (s *Service) CareDue(ctx context.Context, actor auth.Actor, on time.Time) ([]CareItem, error) {
	const op = "people.CareDue"
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	day := s.today()
	if !on.IsZero() {
		day = chinaDay(on)
	}
	tagged, err := s.st.careTagged(ctx, s.db, scopes)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	alone, err := s.st.careAloneElderly(ctx, s.db, scopes, bornBy(day, 60))
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	last, err := s.st.lastVisits(ctx, s.db, scopes)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	type entry struct {
		careRow
		days int
		tags []string
	}
	byID := map[int64]*entry{}
	var order []int64
	add := func(r careRow, days int, tags ...string) {
		e := byID[r.id]
		if e == nil {
			e = &entry{careRow: r}
			byID[r.id] = e
			order = append(order, r.id)
		}
		if e.days == 0 || days < e.days {
			e.days = days
		}
		e.tags = append(e.tags, tags...)
	}
	for _, r := range tagged {
		if !r.restricted || auth.Can(actor, auth.RevealPeople, r.gridPath) {
			add(r, r.visitDays, r.tag)
		}
	}
	for _, r := range alone {
		add(r, aloneElderlyDays, TagAged60, TagLivesAlone)
	}
	items := []CareItem{}
	for _, id := range order {
		e := byID[id]
		it := CareItem{ResidentID: e.id, Name: e.name, HouseholdID: e.householdID, GridCode: auth.ScopeCode(e.gridPath),
			Tags: slices.Compact(slices.Sorted(slices.Values(e.tags))), IntervalDays: e.days}
		due := chinaDay(e.registered)
		if at, ok := last[e.householdID]; ok {
			it.LastVisitAt = &at
			due = chinaDay(at).AddDate(0, 0, e.days)
		}
		past := int(day.Sub(due).Hours() / 24)
		if past < 0 {
			continue
		}
		it.DueOn, it.DaysPastDue, it.Status = due.Format(dateLayout), past, StatusDue
		if past >= (e.days+1)/2 {
			it.Status = StatusOverdue
		}
		items = append(items, it)
	}
	slices.SortFunc(items, func(a, b CareItem) int {
		if a.Status != b.Status {
			if a.Status == StatusOverdue {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.DaysPastDue, a.DaysPastDue), cmp.Compare(a.IntervalDays, b.IntervalDays), cmp.Compare(a.ResidentID, b.ResidentID))
	})
	return items[:min(len(items), maxCareItems)], nil
}

// chinaDay returns the calendar day of an instant in China Standard Time,
// as midnight UTC like Service.today, so that days subtract exactly.
func chinaDay(t time.Time) time.Time {
	c := t.In(chinaTime)
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
}

// Store.

// householdPaths returns the scope path of each existing household.
func (store) householdPaths(ctx context.Context, q db.Querier, ids []int64) (map[int64]string, error) {
	ph, args := placeholders(ids, 0)
	rows, err := q.QueryContext(ctx, "SELECT id, grid_path FROM households WHERE id IN ("+ph+")", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

func (store) insertVisit(ctx context.Context, q db.Querier, v Visit) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO visits (worker_id, grid_path, started_at, ended_at, companions, created_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, v.WorkerID, v.gridPath, db.Millis(v.StartedAt), db.Millis(v.EndedAt),
		v.Companions, db.Millis(v.CreatedAt)).Scan(&id)
	return id, err
}

// insertVisitHouseholds links a visit to its households in one statement.
func (store) insertVisitHouseholds(ctx context.Context, q db.Querier, visitID int64, ids []int64) error {
	rows := make([]string, len(ids))
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		rows[i] = "($" + strconv.Itoa(2*i+1) + ", $" + strconv.Itoa(2*i+2) + ")"
		args = append(args, visitID, id)
	}
	_, err := q.ExecContext(ctx, "INSERT INTO visit_households (visit_id, household_id) VALUES "+strings.Join(rows, ", "), args...)
	return err
}

// insertFindings stores a visit's findings in one statement, in order.
func (store) insertFindings(ctx context.Context, q db.Querier, visitID int64, fs []Finding) error {
	if len(fs) == 0 {
		return nil
	}
	rows := make([]string, len(fs))
	args := make([]any, 0, 3*len(fs))
	for i, f := range fs {
		rows[i] = "($" + strconv.Itoa(3*i+1) + ", $" + strconv.Itoa(3*i+2) + ", $" + strconv.Itoa(3*i+3) + ")"
		args = append(args, visitID, string(f.Kind), f.Description)
	}
	_, err := q.ExecContext(ctx, "INSERT INTO visit_findings (visit_id, kind, description) VALUES "+strings.Join(rows, ", "), args...)
	return err
}

// visits runs a scoped, filtered page of visits, newest first.
func (store) visits(ctx context.Context, q db.Querier, scopes []string, f VisitFilter) ([]Visit, error) {
	cond, args := auth.ScopeSQL("v.grid_path", scopes, 1)
	where := []string{"(" + cond + ")"}
	add := func(sql string, v any) {
		args = append(args, v)
		where = append(where, strings.Replace(sql, "?", "$"+strconv.Itoa(len(args)), 1))
	}
	if f.WorkerID != 0 {
		add("v.worker_id = ?", f.WorkerID)
	}
	if f.HouseholdID != 0 {
		add("v.id IN (SELECT visit_id FROM visit_households WHERE household_id = ?)", f.HouseholdID)
	}
	if f.AfterID > 0 {
		add("v.id < ?", f.AfterID)
	}
	args = append(args, f.Limit)
	rows, err := q.QueryContext(ctx, `SELECT v.id, v.worker_id, u.display_name, v.grid_path, v.started_at, v.ended_at, v.companions, v.created_at
		FROM visits v JOIN users u ON u.id = v.worker_id WHERE `+strings.Join(where, " AND ")+
		" ORDER BY v.id DESC LIMIT $"+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		var v Visit
		var started, ended, created int64
		if err := rows.Scan(&v.ID, &v.WorkerID, &v.WorkerName, &v.gridPath, &started, &ended, &v.Companions, &created); err != nil {
			return nil, err
		}
		v.GridCode = auth.ScopeCode(v.gridPath)
		v.StartedAt, v.EndedAt, v.CreatedAt = db.FromMillis(started), db.FromMillis(ended), db.FromMillis(created)
		out = append(out, v)
	}
	return out, rows.Err()
}

// visitHouseholds returns the households of each visit, in one query.
func (store) visitHouseholds(ctx context.Context, q db.Querier, ids []int64) (map[int64][]int64, error) {
	ph, args := placeholders(ids, 0)
	rows, err := q.QueryContext(ctx, "SELECT visit_id, household_id FROM visit_households WHERE visit_id IN ("+ph+") ORDER BY visit_id, household_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var v, h int64
		if err := rows.Scan(&v, &h); err != nil {
			return nil, err
		}
		out[v] = append(out[v], h)
	}
	return out, rows.Err()
}

// visitFindings returns the findings of each visit in their order, in one
// query.
func (store) visitFindings(ctx context.Context, q db.Querier, ids []int64) (map[int64][]Finding, error) {
	ph, args := placeholders(ids, 0)
	rows, err := q.QueryContext(ctx, "SELECT visit_id, kind, description FROM visit_findings WHERE visit_id IN ("+ph+") ORDER BY visit_id, id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]Finding{}
	for rows.Next() {
		var v int64
		var f Finding
		if err := rows.Scan(&v, &f.Kind, &f.Description); err != nil {
			return nil, err
		}
		out[v] = append(out[v], f)
	}
	return out, rows.Err()
}

// careRow is a resident on the care schedule, with one of the tags that
// put them there (none for the derived rule).
type careRow struct {
	id, householdID int64
	name, gridPath  string
	registered      time.Time
	tag             string
	restricted      bool
	visitDays       int
}

const careColumns = "r.id, r.household_id, r.name, r.grid_path, r.created_at"

// careCandidates selects the ids of current residents in scope, with extra
// conditions on x, from the covering residents_current index. The care
// queries join the candidates back to residents by id, so that a table row
// is read only for residents on the schedule, not for everyone in scope.
func careCandidates(scopes []string, extra string) (string, []any) {
	cond, args := auth.ScopeSQL("x.grid_path", scopes, 1)
	return "(SELECT x.id FROM residents x WHERE (" + cond + ") AND x.move_out = '' AND x.anonymised_at IS NULL AND x.household_id IS NOT NULL" + extra + ") c", args
}

// careTagged returns one row per current resident in scope and tag with a
// visit interval. CROSS JOIN fixes SQLite's join order: candidates first,
// each looked up in resident_tags by its key.
func (store) careTagged(ctx context.Context, q db.Querier, scopes []string) ([]careRow, error) {
	cands, args := careCandidates(scopes, "")
	rows, err := q.QueryContext(ctx, "SELECT "+careColumns+", t.code, t.restricted, t.visit_days FROM "+cands+
		` CROSS JOIN resident_tags rt CROSS JOIN tags t CROSS JOIN residents r
		WHERE rt.resident_id = c.id AND t.code = rt.tag_code AND t.visit_days > 0 AND r.id = c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []careRow
	for rows.Next() {
		var r careRow
		var created int64
		if err := rows.Scan(&r.id, &r.householdID, &r.name, &r.gridPath, &created, &r.tag, &r.restricted, &r.visitDays); err != nil {
			return nil, err
		}
		r.registered = db.FromMillis(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// careAloneElderly returns the current residents in scope born on or before
// bornBy who are the only current member of their household.
func (store) careAloneElderly(ctx context.Context, q db.Querier, scopes []string, bornBy string) ([]careRow, error) {
	cands, args := careCandidates(scopes, ` AND x.birth_date <= $BORN AND NOT EXISTS (SELECT 1 FROM residents o
		WHERE o.household_id = x.household_id AND o.id <> x.id AND o.move_out = '' AND o.anonymised_at IS NULL)`)
	args = append(args, bornBy)
	cands = strings.Replace(cands, "$BORN", "$"+strconv.Itoa(len(args)), 1)
	rows, err := q.QueryContext(ctx, "SELECT "+careColumns+" FROM "+cands+" CROSS JOIN residents r WHERE r.id = c.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []careRow
	for rows.Next() {
		var r careRow
		var created int64
		if err := rows.Scan(&r.id, &r.householdID, &r.name, &r.gridPath, &created); err != nil {
			return nil, err
		}
		r.registered = db.FromMillis(created)
		out = append(out, r)
	}
	return out, rows.Err()
}

// lastVisits returns when each household in scope was last visited, in one
// grouped query that walks the scope's households in index order and looks
// up each one's visits: no list of ids (a district's schedule would run into
// the engines' limits on bound parameters) and no sort.
func (store) lastVisits(ctx context.Context, q db.Querier, scopes []string) (map[int64]time.Time, error) {
	cond, args := auth.ScopeSQL("h.grid_path", scopes, 1)
	rows, err := q.QueryContext(ctx, `SELECT h.id, MAX(v.started_at) FROM households h CROSS JOIN visit_households vh CROSS JOIN visits v
		WHERE (`+cond+`) AND vh.household_id = h.id AND v.id = vh.visit_id GROUP BY h.grid_path, h.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, err
		}
		out[id] = db.FromMillis(at)
	}
	return out, rows.Err()
}
