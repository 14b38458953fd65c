package cases

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Queue names a list of cases waiting for someone.
type Queue string

// The queues. Each is the cases in some states that the actor's role works
// on, inside the actor's territory or assigned to the actor.
const (
	QVerify   Queue = "verify"   // grid workers: public reports to verify on site
	QAccept   Queue = "accept"   // centre: verified reports to accept
	QRegister Queue = "register" // centre: accepted, to register
	QDispatch Queue = "dispatch" // centre: registered, to dispatch
	QSign     Queue = "sign"     // assignee: dispatched, to sign for
	QHandle   Queue = "handle"   // assignee: signed, being handled
	QCheck    Queue = "check"    // field staff: handled, to check on site
	QClose    Queue = "close"    // centre: checked, to close
	QApprove  Queue = "approve"  // centre: extension requests
	QOverdue  Queue = "overdue"  // supervisors: overdue open cases
	QAll      Queue = "all"      // every case the actor may read
	QMine     Queue = "mine"     // the cases the actor reported or follows
)

// Queues lists the queues in workbench order.
var Queues = []Queue{QVerify, QAccept, QRegister, QDispatch, QSign, QHandle, QCheck, QClose, QApprove, QOverdue, QAll, QMine}

// queueDef says which states a queue holds and who works it.
type queueDef struct {
	states []State
	// who reports whether the actor works this queue, and how its cases are
	// found: by territory, or by being the assignee.
	who      func(w Who) bool
	assigned bool
}

func has(a auth.Action) func(w Who) bool {
	return func(w Who) bool {
		for _, sc := range w.EffectiveScopes() {
			if auth.Can(w.Actor, a, sc) {
				return true
			}
		}
		return false
	}
}

func fieldRole(w Who) bool {
	return (w.Role == auth.GridWorker || w.Role == auth.CommunityStaff) && has(auth.HandleCases)(w)
}

func handlerRole(w Who) bool {
	return w.Role == auth.DepartmentHandler && len(w.Departments) > 0 || fieldRole(w)
}

var queueDefs = map[Queue]queueDef{
	QVerify:   {states: []State{Reported}, who: fieldRole},
	QAccept:   {states: []State{Verified}, who: has(auth.DispatchCases)},
	QRegister: {states: []State{Accepted}, who: has(auth.DispatchCases)},
	QDispatch: {states: []State{Registered}, who: has(auth.DispatchCases)},
	QSign:     {states: []State{Dispatched}, who: handlerRole, assigned: true},
	QHandle:   {states: []State{Handling}, who: handlerRole, assigned: true},
	QCheck:    {states: []State{Handled}, who: fieldRole},
	QClose:    {states: []State{Checked}, who: has(auth.DispatchCases)},
	QApprove:  {states: []State{Dispatched, Handling}, who: has(auth.DispatchCases)},
	QOverdue:  {states: OpenStates, who: has(auth.SuperviseCases)},
	QAll:      {states: States, who: func(w Who) bool { return w.Role == auth.DepartmentHandler || has(auth.ReadCases)(w) }},
	QMine:     {states: States, who: func(w Who) bool { return w.UserID != 0 }},
}

// QueuesFor lists the queues the actor works, in workbench order.
func (s *Service) QueuesFor(ctx context.Context, actor auth.Actor) ([]Queue, error) {
	w, err := s.Who(ctx, actor)
	if err != nil {
		return nil, err
	}
	return s.queuesOf(w), nil
}

func (s *Service) queuesOf(w Who) []Queue {
	var out []Queue
	for _, q := range Queues {
		if queueDefs[q].who(w) {
			out = append(out, q)
		}
	}
	return out
}

// Filter narrows and orders a queue.
type Filter struct {
	Queue    Queue   `json:"queue"`
	Category string  `json:"category"` // catalog ref
	Grid     string  `json:"grid"`     // a territory code at any level
	State    State   `json:"state"`
	Overdue  bool    `json:"overdue"`
	Channel  Channel `json:"channel"`
	// Sort is "due" (nearest deadline first; the default for work queues)
	// or "new" (newest first; the default for all and mine).
	Sort  string `json:"sort"`
	After string `json:"after"` // the cursor of the previous page
	Limit int    `json:"limit"`
}

// Item is a case in a list, with its light.
type Item struct {
	Case
	Light    calendar.Light `json:"light"`
	Fraction float64        `json:"fraction"`
}

// Page is one page of a queue.
type Page struct {
	Items []Item `json:"items"`
	Next  string `json:"next,omitempty"`
}

// List returns a page of a queue for the actor: filtered, sorted by deadline
// or by age, with a cursor for the next page. Every variant is an index
// range scan; see the cases_queue and cases_assignee indexes.
func (s *Service) List(ctx context.Context, actor auth.Actor, f Filter) (Page, error) {
	const op = "cases.List"
	w, err := s.Who(ctx, actor)
	if err != nil {
		return Page{}, err
	}
	q, order, none, err := s.conditions(ctx, w, &f)
	if err != nil || none {
		return Page{Items: []Item{}}, err
	}
	// The page's ids first, then their rows: the inner query can run on an
	// index alone (see cases_open), so only the page's rows are read, not
	// every row the sort considers.
	sqlText := "SELECT " + caseColumns + " FROM cases WHERE id IN (SELECT id FROM cases WHERE " + q.conds() +
		" ORDER BY " + order + " LIMIT " + q.arg(f.Limit+1) + ") ORDER BY " + order
	rows, err := s.db.QueryContext(ctx, sqlText, q.args...)
	if err != nil {
		return Page{}, errs.Wrap(op, err)
	}
	cs, err := scanCases(rows)
	if err != nil {
		return Page{}, errs.Wrap(op, err)
	}
	page := Page{Items: make([]Item, 0, min(len(cs), f.Limit))}
	if len(cs) > f.Limit {
		last := cs[f.Limit-1]
		page.Next = "0." + itoa(last.ID)
		if f.Sort == "due" {
			page.Next = strconv.FormatInt(db.Millis(last.StageDueAt), 10) + "." + itoa(last.ID)
		}
		cs = cs[:f.Limit]
	}
	for _, c := range cs {
		it := Item{Case: c}
		if it.Light, it.Fraction, err = s.light(ctx, c); err != nil {
			return Page{}, errs.Wrap(op, err)
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}

// conditions turns a queue and its filters into SQL conditions for w, with
// the order of the queue's sort; none is true when nothing can match. It
// fills in the filter's defaults (queue, limit, sort).
func (s *Service) conditions(ctx context.Context, w Who, f *Filter) (q *sqlBuilder, order string, none bool, err error) {
	const op = "cases.List"
	if f.Queue == "" {
		f.Queue = QAll
	}
	def, ok := queueDefs[f.Queue]
	if !ok {
		return nil, "", false, errs.Fields(op, map[string]string{"queue": "case.error.queue"})
	}
	if !def.who(w) {
		return nil, "", false, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if f.Sort == "" {
		f.Sort = "due"
		if f.Queue == QAll || f.Queue == QMine {
			f.Sort = "new"
		}
	}
	if f.Sort != "due" && f.Sort != "new" {
		return nil, "", false, errs.Fields(op, map[string]string{"sort": "case.error.sort"})
	}
	q = &sqlBuilder{}
	states := def.states
	if f.State != "" {
		if !slices.Contains(States, f.State) {
			return nil, "", false, errs.Fields(op, map[string]string{"state": "case.error.state_filter"})
		}
		if !slices.Contains(states, f.State) {
			return nil, "", true, nil
		}
		states = []State{f.State}
	}
	// Only open cases carry the overdue mark (a stage that ends clears it),
	// so the overdue queue needs no list of states; without one, the
	// planner reads the small index of running stages (cases_open) instead
	// of a range per open state.
	if f.Queue == QOverdue && f.State == "" {
		states = States
	}
	if len(states) < len(States) {
		ph := make([]string, len(states))
		for i, st := range states {
			ph[i] = q.arg(string(st))
		}
		q.where("state IN (" + strings.Join(ph, ",") + ")")
	}
	switch {
	case f.Queue == QMine:
		q.where("id IN (SELECT case_id FROM case_followers WHERE user_id = " + q.arg(w.UserID) + ")")
	case def.assigned || w.Role == auth.DepartmentHandler:
		if w.Role == auth.DepartmentHandler {
			if len(w.Departments) == 0 {
				return nil, "", true, nil
			}
			ph := make([]string, len(w.Departments))
			for i, d := range w.Departments {
				ph[i] = q.arg(d)
			}
			in := strings.Join(ph, ",")
			cond := "(assignee_kind = 'department' AND assignee IN (" + in + "))"
			if f.Queue == QAll {
				cond = "(" + cond + " OR id IN (SELECT case_id FROM case_assists WHERE department IN (" + in + ")))"
			}
			q.where(cond)
		} else {
			q.where("assignee_kind = 'user' AND assignee = " + q.arg(itoa(w.UserID)))
		}
	default:
		action := auth.ReadCases
		switch f.Queue {
		case QVerify, QCheck:
			action = auth.HandleCases
		case QAccept, QRegister, QDispatch, QClose, QApprove:
			action = auth.DispatchCases
		case QOverdue:
			action = auth.SuperviseCases
		}
		var scopes []string
		for _, sc := range w.EffectiveScopes() {
			if auth.Can(w.Actor, action, sc) {
				scopes = append(scopes, sc)
			}
		}
		cond, args := auth.ScopeSQL("grid_path", scopes, q.next())
		q.args = append(q.args, args...)
		q.where("(" + cond + ")")
	}
	if f.Queue == QApprove {
		q.where("extension_pending <> ''")
	}
	if f.Queue == QOverdue || f.Overdue {
		q.where("overdue = TRUE")
	}
	if f.Grid != "" {
		path, err := auth.ScopeFromCode(strings.TrimSpace(f.Grid))
		if err != nil {
			return nil, "", false, errs.Fields(op, map[string]string{"grid": "case.error.grid"})
		}
		cond, args := auth.ScopeSQL("grid_path", []string{path}, q.next())
		q.args = append(q.args, args...)
		q.where("(" + cond + ")")
	}
	if f.Category != "" {
		cat, err := s.cat.ByRef(ctx, f.Category)
		if err != nil {
			return nil, "", false, errs.Fields(op, map[string]string{"category": "case.error.category"})
		}
		q.where("category_kind = " + q.arg(string(cat.Kind)) + " AND category_code = " + q.arg(cat.Code))
	}
	if f.Channel != "" {
		if !slices.Contains(Channels, f.Channel) {
			return nil, "", false, errs.Fields(op, map[string]string{"channel": "case.error.channel"})
		}
		q.where("channel = " + q.arg(string(f.Channel)))
	}
	order = "id DESC"
	if f.Sort == "due" {
		// Sorting by deadline lists the cases whose clock runs.
		q.where("stage_due_at IS NOT NULL")
		order = "stage_due_at, id"
	}
	if f.After != "" {
		due, id, ok := parseCursor(f.After)
		if !ok {
			return nil, "", false, errs.Fields(op, map[string]string{"after": "case.error.cursor"})
		}
		if f.Sort == "due" {
			d := q.arg(due)
			q.where("(stage_due_at > " + d + " OR (stage_due_at = " + d + " AND id > " + q.arg(id) + "))")
		} else {
			q.where("id < " + q.arg(id))
		}
	}
	return q, order, false, nil
}

func parseCursor(s string) (due, id int64, ok bool) {
	a, b, found := strings.Cut(s, ".")
	if !found {
		return 0, 0, false
	}
	due, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return due, id, err1 == nil && err2 == nil && id > 0
}

// sqlBuilder collects conditions and their numbered arguments.
type sqlBuilder struct {
	parts []string
	args  []any
}

func (b *sqlBuilder) next() int { return len(b.args) + 1 }

func (b *sqlBuilder) arg(v any) string {
	b.args = append(b.args, v)
	return "$" + strconv.Itoa(len(b.args))
}

func (b *sqlBuilder) where(cond string) { b.parts = append(b.parts, cond) }

func (b *sqlBuilder) conds() string {
	if len(b.parts) == 0 {
		return "TRUE"
	}
	return strings.Join(b.parts, " AND ")
}

// Counts says how many cases wait in each of the actor's queues, up to a
// cap: a workbench shows "999+" rather than counting millions.
func (s *Service) Counts(ctx context.Context, actor auth.Actor) (map[Queue]int, error) {
	const op = "cases.Counts"
	w, err := s.Who(ctx, actor)
	if err != nil {
		return nil, err
	}
	out := map[Queue]int{}
	for _, qu := range s.queuesOf(w) {
		if qu == QAll || qu == QMine {
			continue
		}
		f := Filter{Queue: qu}
		q, _, none, err := s.conditions(ctx, w, &f)
		if err != nil {
			return nil, err
		}
		if none {
			out[qu] = 0
			continue
		}
		var n int
		if err := s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT id FROM cases WHERE "+q.conds()+
			" LIMIT "+strconv.Itoa(CountCap)+") capped", q.args...).Scan(&n); err != nil {
			return nil, errs.Wrap(op, err)
		}
		out[qu] = n
	}
	return out, nil
}

// CountCap is where Counts stops counting: a workbench shows "99+" rather
// than counting millions.
const CountCap = 100
