package cases

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/territory"
)

// ExportFilter selects the cases of a bulk export: a queue's filters (its
// sort, cursor and limit are ignored: an export reads every match in id
// order) and a range of report times.
type ExportFilter struct {
	Filter
	From time.Time // reported at or after; zero: no lower bound
	To   time.Time // reported before; zero: no upper bound
}

// ExportRow is a case as a bulk export writes it: the case with the names
// that make it readable outside GridHall, and its reporter's contact.
type ExportRow struct {
	Case
	CategoryName            catalog.Names
	Grid, Community, Street territory.NodeRef // zero when the code is unknown
	Department              catalog.Names     // the assigned department; zero when none
	Contact                 Contact
}

// ExportBatch is how many cases one query of an export reads: large enough
// that the per-query cost vanishes, small enough that a batch is a few
// megabytes whatever the size of the export.
const ExportBatch = 2000

// CheckExport checks an export's filter and the actor's right to it before
// anything runs, so that a refused export is refused when it is asked for,
// not later in the background: the actor must be staff who may read the
// queue, and to reveal reporters' contacts must hold the reveal permission
// in every scope they act in (as for the people registry).
func (s *Service) CheckExport(ctx context.Context, actor auth.Actor, f ExportFilter, reveal bool) error {
	_, _, err := s.exportQuery(ctx, actor, f, reveal)
	return err
}

// CountExport counts the cases an export would write, up to limit+1: enough
// to tell a small export, which can be written at once, from a large one.
func (s *Service) CountExport(ctx context.Context, actor auth.Actor, f ExportFilter, limit int) (int, error) {
	const op = "cases.CountExport"
	q, none, err := s.exportQuery(ctx, actor, f, false)
	if err != nil || none {
		return 0, err
	}
	n, err := s.st.countCapped(ctx, s.db, q.conds(), q.args, limit+1)
	return n, errs.Wrap(op, err)
}

// Export calls fn with every case matching f that the actor may read, in id
// order. It reads ExportBatch cases per query, each query starting after the
// last id of the one before (keyset pagination), so an export of millions of
// cases holds one batch in memory; cases reported while it runs are written
// when their id is still ahead. Contacts are masked unless reveal (see
// CheckExport), and stay masked for reporters who asked for anonymity. The
// row passed to fn is reused: fn must not keep it. It returns the number of
// rows written.
func (s *Service) Export(ctx context.Context, actor auth.Actor, f ExportFilter, reveal bool, fn func(*ExportRow) error) (int, error) {
	const op = "cases.Export"
	q, none, err := s.exportQuery(ctx, actor, f, reveal)
	if err != nil || none {
		return 0, err
	}
	if err := s.terr.Locator().Ensure(ctx); err != nil {
		return 0, errs.Wrap(op, err)
	}
	x := exportNames{s: s, cats: map[string]catalog.Names{}, depts: map[string]catalog.Names{}}
	var (
		batch []exportCase
		row   ExportRow
		n     int
		after int64
	)
	for {
		batch, err = s.st.exportBatch(ctx, s.db, q.conds(), q.args, after, ExportBatch, batch[:0])
		if err != nil {
			return n, errs.Wrap(op, err)
		}
		for i := range batch {
			c := &batch[i]
			row = ExportRow{Case: c.Case}
			x.fill(ctx, &row)
			if row.Contact, err = s.unsealContact(c.Case, c.contact, reveal); err != nil {
				return n, errs.Wrap(op, err)
			}
			if err := fn(&row); err != nil {
				return n, err
			}
			n++
		}
		if len(batch) < ExportBatch {
			return n, nil
		}
		after = batch[len(batch)-1].ID
	}
}

// exportQuery builds the conditions of an export for actor; none is true
// when nothing can match.
func (s *Service) exportQuery(ctx context.Context, actor auth.Actor, f ExportFilter, reveal bool) (*sqlBuilder, bool, error) {
	const op = "cases.Export"
	if !actor.Role.Staff() {
		return nil, false, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if reveal {
		for _, sc := range actor.EffectiveScopes() {
			if !auth.Can(actor, auth.RevealPeople, sc) {
				return nil, false, errs.E(errs.Forbidden, op, "export.error.reveal_forbidden")
			}
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return nil, false, errs.Fields(op, map[string]string{"reported_to": "export.error.range"})
	}
	w, err := s.Who(ctx, actor)
	if err != nil {
		return nil, false, err
	}
	// "new" adds no condition on deadlines: an export wants every case of
	// the queue, not only those whose clock runs.
	f.Sort, f.After = "new", ""
	q, _, none, err := s.conditions(ctx, w, &f.Filter)
	if err != nil || none {
		return nil, none, err
	}
	if !f.From.IsZero() {
		q.where("created_at >= " + q.arg(db.Millis(f.From)))
	}
	if !f.To.IsZero() {
		q.where("created_at < " + q.arg(db.Millis(f.To)))
	}
	return q, false, nil
}

// exportNames looks up the names an export writes beside the codes, once
// per category and department: an export of a million cases names a few
// hundred of each.
type exportNames struct {
	s     *Service
	cats  map[string]catalog.Names
	depts map[string]catalog.Names
}

func (x *exportNames) fill(ctx context.Context, r *ExportRow) {
	name, ok := x.cats[r.Category]
	if !ok {
		if cat, err := x.s.cat.Category(ctx, r.CategoryKind, r.CategoryCode); err == nil {
			name = cat.Name
		}
		x.cats[r.Category] = name
	}
	r.CategoryName = name
	if r.AssigneeKind == ToDepartment {
		d, ok := x.depts[r.Assignee]
		if !ok {
			if dep, err := x.s.cat.Department(ctx, r.Assignee); err == nil {
				d = dep.Name
			}
			x.depts[r.Assignee] = d
		}
		r.Department = d
	}
	// A path is district/street/community/grid[/micro-grid]; the locator
	// holds the names of every current node in memory.
	loc := x.s.terr.Locator()
	segs := 0
	for rest := r.GridPath; rest != ""; segs++ {
		var code string
		code, rest, _ = strings.Cut(rest, "/")
		switch segs {
		case 1:
			r.Street, _ = loc.Ref(code)
		case 2:
			r.Community, _ = loc.Ref(code)
		}
	}
	if segs >= 4 {
		r.Grid, _ = loc.Ref(r.GridCode)
	}
}

// exportCase is a stored case with its sealed contact.
type exportCase struct {
	Case
	contact string
}

// withContact scans a case row followed by its sealed contact.
type withContact struct {
	r       scanner
	contact *string
}

func (w withContact) Scan(dest ...any) error { return w.r.Scan(append(dest, w.contact)...) }

// exportBatch reads the next batch of an export into out: the cases
// matching conds with an id above after, in id order.
func (store) exportBatch(ctx context.Context, q db.Querier, conds string, args []any, after int64, limit int, out []exportCase) ([]exportCase, error) {
	n := len(args)
	all := append(append(make([]any, 0, n+2), args...), after, limit)
	rows, err := q.QueryContext(ctx, "SELECT "+caseColumns+", reporter_contact FROM cases WHERE "+conds+
		" AND id > $"+strconv.Itoa(n+1)+" ORDER BY id LIMIT $"+strconv.Itoa(n+2), all...)
	if err != nil {
		return out, err
	}
	defer rows.Close()
	for rows.Next() {
		var e exportCase
		if e.Case, err = scanCase(withContact{rows, &e.contact}); err != nil {
			return out, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// countCapped counts the cases matching conds, stopping at limit.
func (store) countCapped(ctx context.Context, q db.Querier, conds string, args []any, limit int) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT id FROM cases WHERE "+conds+
		" LIMIT "+strconv.Itoa(limit)+") capped", args...).Scan(&n)
	return n, err
}
