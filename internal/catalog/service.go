package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// PollInterval is how long a node serves its snapshot of the categories
// before it asks the database whether another node changed them: the
// catalogue changes a few times a year and is read on every intake.
const PollInterval = 5 * time.Second

// Service owns the catalogue and the departments.
type Service struct {
	db    *db.DB
	audit *audit.Log
	clock clock.Clock
	st    store

	mu      sync.Mutex // one reload at a time
	snap    atomic.Pointer[snapshot]
	checked atomic.Int64 // when the stored version was last compared, Unix ms
	stale   atomic.Bool  // set by this node's own changes: compare at the next read
}

// snapshot is the categories as of one catalog_version. It is never changed
// once published; readers get clones of its categories.
type snapshot struct {
	version int64
	cats    []Category // by kind, then code
	byKey   map[catKey]int
	groups  []Group
}

// NewService returns the catalogue service. It reads nothing until first used.
func NewService(d *db.DB, a *audit.Log, c clock.Clock) *Service {
	return &Service{db: d, audit: a, clock: c}
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// current returns the snapshot, reloading it when this node changed the
// catalogue or when PollInterval has passed and the stored version moved.
func (s *Service) current(ctx context.Context) (*snapshot, error) {
	if snap := s.snap.Load(); snap != nil && s.fresh(s.clock.Now()) {
		return snap, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	snap := s.snap.Load()
	if snap != nil && s.fresh(now) {
		return snap, nil // another reader reloaded while this one waited
	}
	// Cleared before the version is read: a change committed from here on
	// sets it again and is seen at the next read.
	s.stale.Store(false)
	v, err := s.st.version(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if snap == nil || snap.version != v {
		// The version is read before the rows: a change landing in between
		// makes the next check reload again, never marks old rows as new.
		cats, err := s.st.allCategories(ctx, s.db)
		if err != nil {
			return nil, err
		}
		snap = buildSnapshot(v, cats)
		s.snap.Store(snap)
	}
	s.checked.Store(now.UnixMilli())
	return snap, nil
}

func (s *Service) fresh(now time.Time) bool {
	since := now.UnixMilli() - s.checked.Load()
	return !s.stale.Load() && since >= 0 && since < PollInterval.Milliseconds()
}

// invalidate makes the next read compare the stored version.
func (s *Service) invalidate() { s.stale.Store(true) }

// Refresh compares the stored version now and reloads the categories when
// another node changed them.
func (s *Service) Refresh(ctx context.Context) error {
	s.invalidate()
	_, err := s.current(ctx)
	return err
}

func buildSnapshot(v int64, cats []Category) *snapshot {
	snap := &snapshot{version: v, cats: cats, byKey: make(map[catKey]int, len(cats))}
	idx := map[groupKey]int{}
	for i, c := range cats {
		snap.byKey[catKey{c.Kind, c.Code}] = i
		k := groupKey{c.Kind, c.Group}
		gi, ok := idx[k]
		if !ok {
			gi = len(snap.groups)
			idx[k] = gi
			snap.groups = append(snap.groups, Group{Kind: c.Kind, Code: c.Group, Name: c.GroupName, Local: c.Local()})
		}
		snap.groups[gi].Count++
	}
	return snap
}

// Filter selects categories. The zero Filter selects all of them.
type Filter struct {
	Kind       Kind
	Group      string // major class code
	PublicOnly bool   // only those residents may choose
	ActiveOnly bool   // only those that take new cases
	// Query keeps categories that contain every word of it, ignoring case,
	// in their code, Ref, keywords, name or group name.
	Query string
	// Lang limits the names Query searches to one language ("zh-CN" or
	// "en"); "" searches both.
	Lang string
}

func (f Filter) match(c Category, words []string) bool {
	switch {
	case f.Kind != "" && c.Kind != f.Kind,
		f.Group != "" && c.Group != f.Group,
		f.PublicOnly && !c.Public,
		f.ActiveOnly && !c.Active:
		return false
	}
	if len(words) == 0 {
		return true
	}
	hay := []string{c.Code, strings.ToLower(c.Ref()), strings.ToLower(c.Keywords)}
	en := strings.HasPrefix(strings.ToLower(f.Lang), "en")
	if f.Lang == "" || !en {
		hay = append(hay, c.Name.Zh, c.GroupName.Zh)
	}
	if f.Lang == "" || en {
		hay = append(hay, strings.ToLower(c.Name.En), strings.ToLower(c.GroupName.En))
	}
	for _, w := range words {
		if !slices.ContainsFunc(hay, func(h string) bool { return strings.Contains(h, w) }) {
			return false
		}
	}
	return true
}

// Categories lists the categories f selects, by kind and code.
func (s *Service) Categories(ctx context.Context, f Filter) ([]Category, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, errs.Wrap("catalog.Categories", err)
	}
	words := strings.Fields(strings.ToLower(f.Query))
	out := []Category{}
	for _, c := range snap.cats {
		if f.match(c, words) {
			out = append(out, c.clone())
		}
	}
	return out, nil
}

// Category returns one category; errs.NotFound when there is none.
func (s *Service) Category(ctx context.Context, kind Kind, code string) (Category, error) {
	const op = "catalog.Category"
	snap, err := s.current(ctx)
	if err != nil {
		return Category{}, errs.Wrap(op, err)
	}
	i, ok := snap.byKey[catKey{kind, code}]
	if !ok {
		return Category{}, errs.E(errs.NotFound, op, "catalog.category.not_found")
	}
	return snap.cats[i].clone(), nil
}

// ByRef returns the category a Ref ("M06010") names; errs.NotFound when it
// is malformed or names none.
func (s *Service) ByRef(ctx context.Context, ref string) (Category, error) {
	kind, code, ok := ParseRef(ref)
	if !ok {
		return Category{}, errs.E(errs.NotFound, "catalog.ByRef", "catalog.category.not_found")
	}
	return s.Category(ctx, kind, code)
}

// Groups lists the major classes of each kind, by kind and code.
func (s *Service) Groups(ctx context.Context) ([]Group, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, errs.Wrap("catalog.Groups", err)
	}
	return slices.Clone(snap.groups), nil
}

// canManage: the catalogue belongs to the whole installation, so it takes
// the settings right, or the territory right, over all of it.
func canManage(actor auth.Actor, scope string) bool {
	return auth.Can(actor, auth.ManageSettings, scope) || auth.Can(actor, auth.ManageTerritory, scope)
}

// Save creates or updates a category. Missing time limits are filled from
// DefaultLimits; a changed group name renames the whole group. The actor
// needs auth.ManageSettings or auth.ManageTerritory over the whole
// installation.
func (s *Service) Save(ctx context.Context, actor auth.Actor, c Category) error {
	const op = "catalog.Save"
	if !canManage(actor, "") {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	c = c.normalize()
	f := validate(c)
	if _, bad := f["department"]; !bad && c.Department != "" {
		d, err := s.st.department(ctx, s.db, c.Department)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			f["department"] = "catalog.department.unknown"
		case err != nil:
			return errs.Wrap(op, err)
		case !d.Active:
			f["department"] = "catalog.department.inactive"
		}
	}
	if len(f) > 0 {
		return errs.Fields(op, f)
	}
	c.sortAttributes()
	now := s.clock.Now()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.lockVersion(ctx, tx, s.db); err != nil {
			return err
		}
		all, err := s.st.allCategories(ctx, tx)
		if err != nil {
			return err
		}
		action := "category.create"
		write := []Category{c}
		for _, o := range all {
			switch {
			case o.Kind == c.Kind && o.Code == c.Code:
				action = "category.update"
			case o.Kind == c.Kind && o.Group == c.Group && o.GroupName != c.GroupName:
				o.GroupName = c.GroupName
				write = append(write, o)
			}
		}
		if err := s.st.upsertCategories(ctx, tx, write, now); err != nil {
			return err
		}
		if err := s.st.bumpVersion(ctx, tx, now); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "category", ObjectID: c.Ref(),
			Detail: map[string]any{"name": c.Name.Zh, "department": c.Department, "public": c.Public, "active": c.Active,
				"attributes": len(c.Attributes), "group_renamed": len(write) - 1}})
	})
	if err != nil {
		return errs.Wrap(op, err)
	}
	s.invalidate()
	return nil
}

// Import reads a catalogue file — CSV (UTF-8 or GB18030) or XLSX with the
// columns kind, code, major_code, major_name, name and optionally name_en,
// department, public — and creates or updates its categories in one
// transaction. Columns the file lacks keep their stored values, and a
// present cell sets its value even when empty (so that an Export imports
// again unchanged); new categories take the built-in defaults for what the
// file does not say: an English name when the built-in data knows the
// Chinese one, their group's department when the cell is empty, Public for
// matters, the default time limits. A major_name renames the whole group. When any row is
// bad nothing is written and the error, errs.Invalid
// "catalog.import.rejected", carries an *ImportError listing every problem.
// It returns the number of rows applied.
func (s *Service) Import(ctx context.Context, actor auth.Actor, r io.Reader) (int, error) {
	const op = "catalog.Import"
	if !canManage(actor, "") {
		return 0, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	if len(data) > MaxImportBytes {
		return 0, errs.E(errs.TooLarge, op, "catalog.import.too_large")
	}
	rows, problems := parseImport(data)
	// The departments are checked here too, so that the report lists every
	// problem at once, and again in the transaction against a change since.
	depts, err := s.st.departments(ctx, s.db)
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	if problems = append(problems, checkDepartments(rows, depts)...); len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b RowProblem) int { return a.Line - b.Line })
		return 0, rejected(op, problems)
	}
	b, err := loadBuiltin()
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	now := s.clock.Now()
	var created, updated int
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.lockVersion(ctx, tx, s.db); err != nil {
			return err
		}
		depts, err := s.st.departments(ctx, tx)
		if err != nil {
			return err
		}
		if ps := checkDepartments(rows, depts); len(ps) > 0 {
			return rejected(op, ps)
		}
		all, err := s.st.allCategories(ctx, tx)
		if err != nil {
			return err
		}
		var write []Category
		write, created, updated = merge(b, all, rows)
		if err := s.st.upsertCategories(ctx, tx, write, now); err != nil {
			return err
		}
		if err := s.st.bumpVersion(ctx, tx, now); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "category.import", ObjectType: "category",
			Detail: map[string]any{"rows": len(rows), "created": created, "updated": updated}})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	s.invalidate()
	return len(rows), nil
}

// checkDepartments reports rows naming a department that does not exist or
// no longer takes cases.
func checkDepartments(rows []importRow, depts []Department) []RowProblem {
	active := make(map[string]bool, len(depts))
	for _, d := range depts {
		active[d.Code] = d.Active
	}
	var ps []RowProblem
	for _, r := range rows {
		code := r.cat.Department
		if !r.hasDepartment || code == "" {
			continue
		}
		if a, ok := active[code]; !ok {
			ps = append(ps, RowProblem{Line: r.line, Field: colDepartment, Reason: "catalog.department.unknown"})
		} else if !a {
			ps = append(ps, RowProblem{Line: r.line, Field: colDepartment, Reason: "catalog.department.inactive"})
		}
	}
	return ps
}

// merge applies imported rows to the stored categories and returns the
// categories to write: the imported ones that are new or changed, and the
// others of a group whose name the file changed.
func merge(b *builtin, stored []Category, rows []importRow) (write []Category, created, updated int) {
	byKey := make(map[catKey]int, len(stored))
	for i, c := range stored {
		byKey[catKey{c.Kind, c.Code}] = i
	}
	next := make([]Category, len(stored), len(stored)+len(rows))
	for i, c := range stored {
		next[i] = c.clone()
	}
	groupNames := map[groupKey]Names{}
	for _, r := range rows {
		in := r.cat
		g := groupKey{in.Kind, in.Group}
		if _, done := groupNames[g]; !done {
			n := Names{Zh: in.GroupName.Zh, En: b.groupEnglish(in.Kind, in.Group, in.GroupName.Zh)}
			for _, o := range stored {
				if o.Kind == in.Kind && o.Group == in.Group && o.GroupName.Zh == n.Zh {
					n.En = o.GroupName.En // the stored English name of an unchanged group
					break
				}
			}
			groupNames[g] = n
		}
		i, exists := byKey[catKey{in.Kind, in.Code}]
		var c Category
		if exists {
			c = next[i]
			c.Name.Zh = in.Name.Zh
			if r.hasDepartment {
				c.Department = in.Department
			}
		} else {
			c = b.complete(Category{Kind: in.Kind, Code: in.Code, Group: in.Group, GroupName: in.GroupName,
				Name: Names{Zh: in.Name.Zh, En: b.english(in.Name.Zh)}, Department: in.Department})
		}
		if r.hasNameEn {
			c.Name.En = in.Name.En
		}
		if r.hasPublic {
			c.Public = in.Public
		}
		if exists {
			next[i] = c
		} else {
			byKey[catKey{c.Kind, c.Code}] = len(next)
			next = append(next, c)
		}
	}
	for i := range next {
		if n, ok := groupNames[groupKey{next[i].Kind, next[i].Group}]; ok {
			next[i].GroupName = n
		}
	}
	for i, c := range next {
		switch {
		case i >= len(stored):
			created++
			write = append(write, c)
		case !reflect.DeepEqual(c, stored[i]):
			updated++
			write = append(write, c)
		}
	}
	return write, created, updated
}

// rejected is the error of an import with problems: errs.Invalid whose
// Fields name "line:field" for each problem, with the full list as an
// *ImportError beneath it.
func rejected(op string, ps []RowProblem) error {
	f := make(map[string]string, len(ps))
	lines := map[int]bool{}
	for _, p := range ps {
		f[fmt.Sprintf("%d:%s", p.Line, p.Field)] = p.Reason
		lines[p.Line] = true
	}
	return &errs.Error{Code: errs.Invalid, Op: op, Msg: "catalog.import.rejected", Args: []any{len(lines)},
		Fields: f, Err: &ImportError{Problems: ps}}
}

// Export writes every category in the format Import reads, by kind and code.
func (s *Service) Export(ctx context.Context, w io.Writer) error {
	const op = "catalog.Export"
	cats, err := s.st.allCategories(ctx, s.db)
	if err != nil {
		return errs.Wrap(op, err)
	}
	return errs.Wrap(op, writeCSV(w, cats))
}

// Seed loads the built-in departments and catalogue into empty tables (each
// on its own: a table that has rows is left alone), in one transaction, and
// returns how many categories it added. It is safe to call at every start
// and from several nodes at once.
func (s *Service) Seed(ctx context.Context) (int, error) {
	const op = "catalog.Seed"
	b, err := loadBuiltin()
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	now := s.clock.Now()
	var cats, depts int
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.lockVersion(ctx, tx, s.db); err != nil {
			return err
		}
		if n, err := s.st.countDepartments(ctx, tx); err != nil {
			return err
		} else if n == 0 {
			if err := s.st.insertDepartments(ctx, tx, b.departments, now); err != nil {
				return err
			}
			depts = len(b.departments)
		}
		if n, err := s.st.countCategories(ctx, tx); err != nil {
			return err
		} else if n == 0 {
			if err := s.st.upsertCategories(ctx, tx, b.categories, now); err != nil {
				return err
			}
			cats = len(b.categories)
		}
		if cats+depts == 0 {
			return nil
		}
		if err := s.st.bumpVersion(ctx, tx, now); err != nil {
			return err
		}
		return s.record(ctx, tx, auth.SystemActor("system"), audit.Record{Action: "catalog.seed", ObjectType: "category",
			Detail: map[string]any{"categories": cats, "departments": depts}})
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	s.invalidate()
	return cats, nil
}

// Departments lists the departments by code.
func (s *Service) Departments(ctx context.Context) ([]Department, error) {
	ds, err := s.st.departments(ctx, s.db)
	return ds, errs.Wrap("catalog.Departments", err)
}

// Department returns one department; errs.NotFound when there is none.
func (s *Service) Department(ctx context.Context, code string) (Department, error) {
	const op = "catalog.Department"
	d, err := s.st.department(ctx, s.db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return Department{}, errs.E(errs.NotFound, op, "catalog.department.not_found")
	}
	return d, errs.Wrap(op, err)
}

// SaveDepartment creates or updates a department. The actor needs
// auth.ManageSettings or auth.ManageTerritory over the department's scope,
// and over its old scope when it moves.
func (s *Service) SaveDepartment(ctx context.Context, actor auth.Actor, d Department) error {
	const op = "catalog.SaveDepartment"
	d.Code, d.Name = strings.TrimSpace(d.Code), trimNames(d.Name)
	f := map[string]string{}
	if !ValidDepartmentCode(d.Code) {
		f["code"] = "catalog.department.code"
	}
	checkNames(f, "name", d.Name)
	scope, err := auth.ParseScope(d.ScopePath)
	if err != nil {
		f["scope_path"] = errs.As(err).Msg
	}
	d.ScopePath = scope
	if len(f) > 0 {
		return errs.Fields(op, f)
	}
	if !canManage(actor, d.ScopePath) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		action := "department.create"
		old, err := s.st.department(ctx, tx, d.Code)
		switch {
		case err == nil:
			if !canManage(actor, old.ScopePath) {
				return errs.E(errs.Forbidden, op, "error.forbidden")
			}
			action = "department.update"
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if err := s.st.upsertDepartment(ctx, tx, d, s.clock.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "department", ObjectID: d.Code,
			ScopePath: d.ScopePath, Detail: map[string]any{"name": d.Name.Zh, "active": d.Active}})
	})
	return errs.Wrap(op, err)
}

// memberChange authorizes a change of a department's members and runs it
// with its audit entry when change reports that it changed something.
func (s *Service) memberChange(ctx context.Context, actor auth.Actor, op, action, code string, userID int64,
	change func(tx *sql.Tx) (bool, error)) error {
	d, err := s.Department(ctx, code)
	if err != nil {
		return err
	}
	if !canManage(actor, d.ScopePath) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		changed, err := change(tx)
		if err != nil || !changed {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "department", ObjectID: code,
			ScopePath: d.ScopePath, Detail: map[string]any{"user_id": userID}})
	})
	return errs.Wrap(op, err)
}

// AddMember makes an account a member of a department, so that it handles
// the department's cases. Adding a member twice changes nothing.
func (s *Service) AddMember(ctx context.Context, actor auth.Actor, code string, userID int64) error {
	const op = "catalog.AddMember"
	return s.memberChange(ctx, actor, op, "department.member_add", code, userID, func(tx *sql.Tx) (bool, error) {
		ok, err := s.st.userExists(ctx, tx, userID)
		if err != nil {
			return false, err
		}
		if !ok {
			return false, errs.Fields(op, map[string]string{"user_id": "error.user.not_found"})
		}
		return s.st.addMember(ctx, tx, code, userID, s.clock.Now())
	})
}

// RemoveMember takes an account out of a department. Removing a
// non-member changes nothing.
func (s *Service) RemoveMember(ctx context.Context, actor auth.Actor, code string, userID int64) error {
	return s.memberChange(ctx, actor, "catalog.RemoveMember", "department.member_remove", code, userID, func(tx *sql.Tx) (bool, error) {
		return s.st.removeMember(ctx, tx, code, userID)
	})
}

// DepartmentsOf returns the codes of the active departments userID is a
// member of, in one indexed query: it runs on every request of a
// department handler.
func (s *Service) DepartmentsOf(ctx context.Context, userID int64) ([]string, error) {
	codes, err := s.st.departmentsOf(ctx, s.db, userID)
	return codes, errs.Wrap("catalog.DepartmentsOf", err)
}

// Members returns the user ids of a department's members; errs.NotFound
// when there is no such department.
func (s *Service) Members(ctx context.Context, code string) ([]int64, error) {
	const op = "catalog.Members"
	ids, err := s.st.members(ctx, s.db, code)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(ids) == 0 {
		if _, err := s.Department(ctx, code); err != nil {
			return nil, err
		}
	}
	return ids, nil
}
