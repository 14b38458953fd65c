package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// store holds the catalog's SQL.
type store struct{}

const categoryColumns = `kind, code, group_code, group_name_zh, group_name_en, name_zh, name_en, department,
	public, active, limits, attributes, keywords`

// allCategories reads every category, in (kind, code) order.
func (store) allCategories(ctx context.Context, q db.Querier) ([]Category, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+categoryColumns+" FROM categories ORDER BY kind, code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Category
	for rows.Next() {
		var c Category
		var limits, attrs string
		if err := rows.Scan(&c.Kind, &c.Code, &c.Group, &c.GroupName.Zh, &c.GroupName.En, &c.Name.Zh, &c.Name.En,
			&c.Department, &c.Public, &c.Active, &limits, &attrs, &c.Keywords); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(limits), &c.Limits); err != nil {
			return nil, fmt.Errorf("category %s limits: %w", c.Ref(), err)
		}
		if err := json.Unmarshal([]byte(attrs), &c.Attributes); err != nil {
			return nil, fmt.Errorf("category %s attributes: %w", c.Ref(), err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// upsertBatch is how many categories one INSERT carries: 15 parameters a
// row stays far below both engines' limits on parameters.
const upsertBatch = 100

// upsertCategories writes categories in batches of multi-row INSERTs that
// replace existing rows but keep their created_at.
func (store) upsertCategories(ctx context.Context, tx *sql.Tx, cats []Category, now time.Time) error {
	at := db.Millis(now)
	for start := 0; start < len(cats); start += upsertBatch {
		batch := cats[start:min(start+upsertBatch, len(cats))]
		var b strings.Builder
		b.WriteString("INSERT INTO categories (" + categoryColumns + ", created_at, updated_at) VALUES ")
		args := make([]any, 0, len(batch)*15)
		for i, c := range batch {
			limits, err := json.Marshal(c.Limits)
			if err != nil {
				return err
			}
			attrs, err := json.Marshal(c.Attributes)
			if err != nil {
				return err
			}
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range 15 {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", len(args)+j+1)
			}
			b.WriteByte(')')
			args = append(args, string(c.Kind), c.Code, c.Group, c.GroupName.Zh, c.GroupName.En, c.Name.Zh, c.Name.En,
				c.Department, c.Public, c.Active, string(limits), string(attrs), c.Keywords, at, at)
		}
		b.WriteString(` ON CONFLICT (kind, code) DO UPDATE SET group_code = excluded.group_code,
			group_name_zh = excluded.group_name_zh, group_name_en = excluded.group_name_en,
			name_zh = excluded.name_zh, name_en = excluded.name_en, department = excluded.department,
			public = excluded.public, active = excluded.active, limits = excluded.limits,
			attributes = excluded.attributes, keywords = excluded.keywords, updated_at = excluded.updated_at`)
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func (store) countCategories(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM categories").Scan(&n)
	return n, err
}

// lockVersion takes the version row's lock for the rest of the transaction,
// so that catalogue writers on several nodes (a seed, an import) queue up.
func (store) lockVersion(ctx context.Context, tx *sql.Tx, d *db.DB) error {
	var v int64
	return tx.QueryRowContext(ctx, "SELECT version FROM catalog_version WHERE id = 1"+d.ForUpdate()).Scan(&v)
}

func (store) bumpVersion(ctx context.Context, tx *sql.Tx, now time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE catalog_version SET version = version + 1, changed_at = $1 WHERE id = 1", db.Millis(now))
	return err
}

func (store) version(ctx context.Context, q db.Querier) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT version FROM catalog_version WHERE id = 1").Scan(&v)
	return v, err
}

const departmentColumns = "code, name_zh, name_en, scope_path, active"

func scanDepartment(sc interface{ Scan(...any) error }) (Department, error) {
	var d Department
	err := sc.Scan(&d.Code, &d.Name.Zh, &d.Name.En, &d.ScopePath, &d.Active)
	return d, err
}

// maxDepartments bounds the department list; an installation has tens.
const maxDepartments = 10000

// departments lists the departments by code.
func (store) departments(ctx context.Context, q db.Querier) ([]Department, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+departmentColumns+" FROM departments ORDER BY code LIMIT $1", maxDepartments)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Department{}
	for rows.Next() {
		d, err := scanDepartment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// department returns one department, or sql.ErrNoRows.
func (store) department(ctx context.Context, q db.Querier, code string) (Department, error) {
	return scanDepartment(q.QueryRowContext(ctx, "SELECT "+departmentColumns+" FROM departments WHERE code = $1", code))
}

func (store) upsertDepartment(ctx context.Context, tx *sql.Tx, d Department, now time.Time) error {
	at := db.Millis(now)
	_, err := tx.ExecContext(ctx, `INSERT INTO departments (`+departmentColumns+`, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)
		ON CONFLICT (code) DO UPDATE SET name_zh = excluded.name_zh, name_en = excluded.name_en,
			scope_path = excluded.scope_path, active = excluded.active, updated_at = excluded.updated_at`,
		d.Code, d.Name.Zh, d.Name.En, d.ScopePath, d.Active, at)
	return err
}

// insertDepartments adds departments in one statement.
func (store) insertDepartments(ctx context.Context, tx *sql.Tx, ds []Department, now time.Time) error {
	if len(ds) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("INSERT INTO departments (" + departmentColumns + ", created_at, updated_at) VALUES ")
	args := make([]any, 0, len(ds)*6+1)
	args = append(args, db.Millis(now))
	for i, d := range ds {
		if i > 0 {
			b.WriteString(", ")
		}
		n := len(args)
		fmt.Fprintf(&b, "($%d, $%d, $%d, $%d, $%d, $1, $1)", n+1, n+2, n+3, n+4, n+5)
		args = append(args, d.Code, d.Name.Zh, d.Name.En, d.ScopePath, d.Active)
	}
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}

func (store) countDepartments(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM departments").Scan(&n)
	return n, err
}

func (store) userExists(ctx context.Context, q db.Querier, id int64) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users WHERE id = $1", id).Scan(&n)
	return n > 0, err
}

// addMember adds a member; it reports false when they already were one.
func (store) addMember(ctx context.Context, tx *sql.Tx, code string, userID int64, now time.Time) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO department_members (department_code, user_id, added_at)
		VALUES ($1, $2, $3) ON CONFLICT (department_code, user_id) DO NOTHING`, code, userID, db.Millis(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// removeMember removes a member; it reports false when they were none.
func (store) removeMember(ctx context.Context, tx *sql.Tx, code string, userID int64) (bool, error) {
	res, err := tx.ExecContext(ctx, "DELETE FROM department_members WHERE department_code = $1 AND user_id = $2", code, userID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// departmentsOfSQL lists the codes of the active departments a user
// belongs to: a range scan of department_members_user and a primary-key
// probe each (a test checks the plan).
const departmentsOfSQL = `SELECT m.department_code FROM department_members m
	JOIN departments d ON d.code = m.department_code
	WHERE m.user_id = $1 AND d.active ORDER BY m.department_code`

// departmentsOf returns the codes of the active departments a user belongs to.
func (store) departmentsOf(ctx context.Context, q db.Querier, userID int64) ([]string, error) {
	return textColumn(q.QueryContext(ctx, departmentsOfSQL, userID))
}

// maxMembers bounds a member list; a department has tens of handlers.
const maxMembers = 10000

func (store) members(ctx context.Context, q db.Querier, code string) ([]int64, error) {
	rows, err := q.QueryContext(ctx, "SELECT user_id FROM department_members WHERE department_code = $1 ORDER BY user_id LIMIT $2", code, maxMembers)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// textColumn collects a one-column result of text.
func textColumn(rows *sql.Rows, err error) ([]string, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
