package territory

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Duty is what a person does in a grid.
type Duty string

// The duties.
const (
	DutyWorker Duty = "worker" // 专职网格员
	DutyLeader Duty = "leader" // 网格长
)

// StaffMember is a person assigned to a grid.
type StaffMember struct {
	GridCode    string    `json:"grid_code"`
	UserID      int64     `json:"user_id"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Duty        Duty      `json:"duty"`
	AssignedAt  time.Time `json:"assigned_at"`
}

// Assign puts an account on a grid as worker or leader. A grid worker's
// scope follows their assignments: from now on they act in exactly the grids
// they are assigned to.
func (s *Service) Assign(ctx context.Context, actor auth.Actor, gridCode, username string, duty Duty) error {
	return s.changeStaff(ctx, actor, gridCode, username, duty, true)
}

// Unassign takes an account off a grid.
func (s *Service) Unassign(ctx context.Context, actor auth.Actor, gridCode, username string) error {
	return s.changeStaff(ctx, actor, gridCode, username, "", false)
}

func (s *Service) changeStaff(ctx context.Context, actor auth.Actor, gridCode, username string, duty Duty, assign bool) error {
	const op = "territory.changeStaff"
	f := map[string]string{}
	if assign && duty != DutyWorker && duty != DutyLeader {
		f["duty"] = "territory.error.duty"
	}
	n, err := s.st.currentNode(ctx, s.db, gridCode)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		f["grid"] = "territory.error.no_node"
	case err != nil:
		return errs.Wrap(op, err)
	case n.Level != Grid && n.Level != MicroGrid:
		f["grid"] = "territory.error.not_grid"
	}
	if len(f) > 0 {
		return errs.Fields(op, f)
	}
	if !auth.Can(actor, auth.ManageTerritory, n.Path) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	u, err := s.auth.UserByName(ctx, auth.SystemActor("territory"), username)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.Fields(op, map[string]string{"username": "error.user.not_found"})
		}
		return err
	}
	if assign && u.Role != auth.GridWorker && u.Role != auth.CommunityStaff {
		return errs.Fields(op, map[string]string{"username": "territory.error.staff_role"})
	}
	now := s.clock.Now()
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		action := "grid.unassign"
		if assign {
			action = "grid.assign"
			if _, err := tx.ExecContext(ctx, `INSERT INTO grid_staff (grid_code, user_id, duty, assigned_at) VALUES ($1, $2, $3, $4)
				ON CONFLICT (grid_code, user_id) DO UPDATE SET duty = excluded.duty`, gridCode, u.ID, string(duty), db.Millis(now)); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, "DELETE FROM grid_staff WHERE grid_code = $1 AND user_id = $2", gridCode, u.ID); err != nil {
			return err
		}
		if u.Role == auth.GridWorker {
			grids, err := s.st.gridsOf(ctx, tx, u.ID)
			if err != nil {
				return err
			}
			paths := make([]string, len(grids))
			for i, g := range grids {
				paths[i] = pathOf(g)
			}
			if err := s.auth.SetScopesTx(ctx, tx, u.ID, paths); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "grid", ObjectID: gridCode, ScopePath: n.Path,
			Detail: map[string]any{"user": u.Username, "duty": duty}})
	}))
}

// Staff returns the people assigned to the grids inside the actor's scopes
// (or inside one node when code is set).
func (s *Service) Staff(ctx context.Context, actor auth.Actor, code string) ([]StaffMember, error) {
	const op = "territory.Staff"
	scopes := readScopes(actor)
	if code != "" {
		n, err := s.st.currentNode(ctx, s.db, code)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !canReadNode(actor, n.Path)) {
			return nil, errs.E(errs.NotFound, op, "territory.error.no_node")
		}
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		scopes = []string{n.Path}
	}
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	m, err := s.st.staffOf(ctx, s.db, scopes)
	return m, errs.Wrap(op, err)
}

// Store.

func (store) gridsOf(ctx context.Context, q db.Querier, userID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT grid_code FROM grid_staff WHERE user_id = $1 ORDER BY grid_code", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// staffOf lists the staff of every grid inside the scope paths. Grid codes
// extend their ancestors' codes, so "inside" is a code prefix.
func (store) staffOf(ctx context.Context, q db.Querier, scopes []string) ([]StaffMember, error) {
	var conds []string
	var args []any
	for _, sc := range scopes {
		code := sc[strings.LastIndexByte(sc, '/')+1:]
		if code == "" {
			conds, args = []string{"TRUE"}, nil
			break
		}
		args = append(args, code+"%")
		conds = append(conds, "g.grid_code LIKE $"+itoa(len(args)))
	}
	rows, err := q.QueryContext(ctx, `SELECT g.grid_code, u.id, u.username, u.display_name, g.duty, g.assigned_at
		FROM grid_staff g JOIN users u ON u.id = g.user_id WHERE (`+strings.Join(conds, " OR ")+`) ORDER BY g.grid_code, g.duty DESC, u.username LIMIT 1000`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StaffMember
	for rows.Next() {
		var m StaffMember
		var at int64
		if err := rows.Scan(&m.GridCode, &m.UserID, &m.Username, &m.DisplayName, &m.Duty, &at); err != nil {
			return nil, err
		}
		m.AssignedAt = db.FromMillis(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// buildingTotals counts the buildings and their households inside a path.
func (store) buildingTotals(ctx context.Context, q db.Querier, path string) (int, int64, error) {
	var n int
	var h int64
	err := q.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(households), 0) FROM buildings WHERE grid_path = $1 OR grid_path LIKE $2",
		path, path+"/%").Scan(&n, &h)
	return n, h, err
}
