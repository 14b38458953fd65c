package people

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/territory"
)

// Stats are the population figures of one place: its current residents
// (not moved out, not anonymised) counted by gender, age band, registration
// type and tag.
type Stats struct {
	Code string `json:"code"`
	Kind string `json:"kind"` // district, street, community, grid or microgrid
	// On is the day (China Standard Time) ages are computed for.
	On string `json:"on"`
	// Households counts households with at least one current resident.
	Households   int                  `json:"households"`
	Residents    int                  `json:"residents"`
	Gender       map[Gender]int       `json:"gender"`
	AgeBands     []AgeBand            `json:"age_bands"`
	Registration map[Registration]int `json:"registration"`
	// Tags counts residents per dictionary tag, every tag present with zero
	// when unused; restricted tags appear only for actors who may reveal
	// personal data in the place.
	Tags        map[string]int `json:"tags"`
	Aged60Plus  int            `json:"aged_60_plus"`
	LivingAlone int            `json:"living_alone"`
}

// AgeBand is the number of current residents whose age lies in
// [MinAge, MaxAge]; MaxAge 0 means no upper bound.
type AgeBand struct {
	Band   string `json:"band"`
	MinAge int    `json:"min_age"`
	MaxAge int    `json:"max_age,omitempty"`
	Count  int    `json:"count"`
}

// ageBands are the bands of the Community Y survey (DOMAIN.md §1): ≤20,
// 21–30, 31–40, 41–50, 51–60, ≥60. The survey's last two bands overlap at
// 60; a 60-year-old is counted in 60+, so that the 60+ band always equals
// the aged_60_plus figure, and the band before it is 51–59.
var ageBands = []AgeBand{
	{Band: "0_20", MinAge: 0, MaxAge: 20},
	{Band: "21_30", MinAge: 21, MaxAge: 30},
	{Band: "31_40", MinAge: 31, MaxAge: 40},
	{Band: "41_50", MinAge: 41, MaxAge: 50},
	{Band: "51_59", MinAge: 51, MaxAge: 59},
	{Band: "60_plus", MinAge: 60},
}

// Stats returns the population figures of a territory node (district,
// street, community or grid) that lies inside the actor's scopes: a grid
// worker may ask for each of their grids, not for their community.
//
// The figures come from three aggregate queries, each one pass over the
// node's range of the residents_current index, and a read of the small tag
// dictionary; no resident is read into Go, so a community of ten thousand
// costs milliseconds even in a registry of millions.
func (s *Service) Stats(ctx context.Context, actor auth.Actor, code string) (Stats, error) {
	const op = "people.Stats"
	code = strings.TrimSpace(code)
	if code == "" {
		return Stats{}, errs.Fields(op, map[string]string{"code": "error.field.required"})
	}
	path, err := auth.ScopeFromCode(code)
	if err != nil {
		return Stats{}, errs.Fields(op, map[string]string{"code": errs.As(err).Msg})
	}
	level, _ := territory.LevelOf(code)
	if !auth.Can(actor, auth.ReadStats, path) {
		return Stats{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	known, err := s.terr.ScopeKnown(ctx, path)
	if err != nil {
		return Stats{}, errs.Wrap(op, err)
	}
	if !known {
		return Stats{}, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	today := s.today()
	st := Stats{Code: code, Kind: level.String(), On: today.Format(dateLayout),
		Gender: map[Gender]int{Male: 0, Female: 0}, Registration: map[Registration]int{}, Tags: map[string]int{}}
	for _, r := range Registrations {
		st.Registration[r] = 0
	}
	// Birth dates are stored as YYYY-MM-DD, so "at least n years old" is a
	// string comparison with a cut-off date computed here, once.
	cutoffs := make([]string, len(ageBands)-1)
	for i, b := range ageBands[1:] {
		cutoffs[i] = bornBy(today, b.MinAge)
	}
	genders := []Gender{Male, Female}
	c, err := s.st.residentCounts(ctx, s.db, path, genders, Registrations, cutoffs)
	if err != nil {
		return Stats{}, errs.Wrap(op, err)
	}
	st.Residents = c.total
	for i, g := range genders {
		st.Gender[g] = c.gender[i]
	}
	for i, r := range Registrations {
		st.Registration[r] = c.registration[i]
	}
	// c.atLeast[i] counts the residents of band i+1 and older.
	st.AgeBands = make([]AgeBand, len(ageBands))
	copy(st.AgeBands, ageBands)
	older := c.total
	for i := range st.AgeBands {
		next := 0
		if i < len(c.atLeast) {
			next = c.atLeast[i]
		}
		st.AgeBands[i].Count = older - next
		older = next
	}
	st.Aged60Plus = st.AgeBands[len(ageBands)-1].Count
	if st.Households, st.LivingAlone, err = s.st.householdCounts(ctx, s.db, path); err != nil {
		return Stats{}, errs.Wrap(op, err)
	}
	dict, err := s.st.tagDictionary(ctx, s.db)
	if err != nil {
		return Stats{}, errs.Wrap(op, err)
	}
	counts, err := s.st.tagCounts(ctx, s.db, path)
	if err != nil {
		return Stats{}, errs.Wrap(op, err)
	}
	// The node lies inside the actor's scopes, so one check covers every
	// resident counted.
	reveal := auth.Can(actor, auth.RevealPeople, path)
	for _, t := range dict {
		if !t.restricted || reveal {
			st.Tags[t.code] = counts[t.code]
		}
	}
	return st, nil
}

// bornBy returns the latest birth date (YYYY-MM-DD) of a person who is at
// least years old on day: the same month and day, years earlier. When day is
// 29 February and that year had none, the string names a day that does not
// exist, which is right: it sorts after every 28 February and before every
// 1 March, and someone born on 1 March is not yet of age, as ageOn says.
func bornBy(day time.Time, years int) string {
	y, m, d := day.Date()
	return fmt.Sprintf("%04d-%02d-%02d", y-years, int(m), d)
}

// currentResident is the condition for a resident who counts: living here
// now and not anonymised.
const currentResident = "move_out = '' AND anonymised_at IS NULL"

// counts are the marginal counts of current residents in a place, in the
// order of the values asked for.
type counts struct {
	total                int
	gender, registration []int
	atLeast              []int // born on or before each cut-off
}

// residentCounts counts the current residents inside path, by gender, by
// registration and born on or before each cut-off, in one pass without
// GROUP BY: conditional sums stream over the index range, where grouping
// would sort every row (SQLite has no hash aggregation), and only the
// marginal counts are wanted.
func (store) residentCounts(ctx context.Context, q db.Querier, path string, genders []Gender, regs []Registration, cutoffs []string) (counts, error) {
	cond, args := auth.ScopeSQL("grid_path", []string{path}, 1)
	var cols []string
	sum := func(test string, v any) {
		args = append(args, v)
		cols = append(cols, "COALESCE(SUM(CASE WHEN "+test+" $"+strconv.Itoa(len(args))+" THEN 1 ELSE 0 END), 0)")
	}
	for _, g := range genders {
		sum("gender =", string(g))
	}
	for _, r := range regs {
		sum("registration =", string(r))
	}
	for _, c := range cutoffs {
		sum("birth_date <=", c)
	}
	c := counts{gender: make([]int, len(genders)), registration: make([]int, len(regs)), atLeast: make([]int, len(cutoffs))}
	dest := []any{&c.total}
	for _, part := range [][]int{c.gender, c.registration, c.atLeast} {
		for i := range part {
			dest = append(dest, &part[i])
		}
	}
	err := q.QueryRowContext(ctx, "SELECT COUNT(*), "+strings.Join(cols, ", ")+" FROM residents WHERE "+cond+" AND "+currentResident, args...).Scan(dest...)
	return c, err
}

// householdCounts returns how many households inside path have a current
// resident, and how many of those have exactly one (a resident living
// alone), grouping the residents by household in one query. A household's
// members share its grid path, so grouping by (grid_path, household_id)
// makes the same groups, in the order of the residents_current index: no
// sort.
func (store) householdCounts(ctx context.Context, q db.Querier, path string) (households, alone int, err error) {
	cond, args := auth.ScopeSQL("grid_path", []string{path}, 1)
	err = q.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END), 0) FROM
		(SELECT COUNT(*) AS n FROM residents WHERE `+cond+" AND "+currentResident+
		" AND household_id IS NOT NULL GROUP BY grid_path, household_id) hh", args...).Scan(&households, &alone)
	return households, alone, err
}

// tagDictionary lists every tag code with its restriction.
func (store) tagDictionary(ctx context.Context, q db.Querier) ([]tagRef, error) {
	rows, err := q.QueryContext(ctx, "SELECT code, restricted FROM tags ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tagRef
	for rows.Next() {
		var t tagRef
		if err := rows.Scan(&t.code, &t.restricted); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// tagCounts counts the current residents inside path per tag. The CROSS
// JOIN makes SQLite walk the place's residents and look up each one's tags,
// rather than scan every tag of the registry, which it otherwise prefers;
// PostgreSQL plans it as the inner join it is.
func (store) tagCounts(ctx context.Context, q db.Querier, path string) (map[string]int, error) {
	cond, args := auth.ScopeSQL("r.grid_path", []string{path}, 1)
	rows, err := q.QueryContext(ctx, `SELECT rt.tag_code, COUNT(*) FROM residents r CROSS JOIN resident_tags rt
		WHERE rt.resident_id = r.id AND `+cond+" AND r.move_out = '' AND r.anonymised_at IS NULL GROUP BY rt.tag_code", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var code string
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, err
		}
		out[code] = n
	}
	return out, rows.Err()
}
