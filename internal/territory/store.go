package territory

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
)

// store is the territory's SQL.
type store struct{}

const nodeColumns = `id, code, path, parent_code, level, name_zh, name_en, boundary, min_lng, min_lat, max_lng, max_lat,
	population, households, valid_from, valid_to`

func scanNode(s interface{ Scan(...any) error }) (Node, error) {
	var n Node
	var boundary string
	var from int64
	var to sql.NullInt64
	if err := s.Scan(&n.ID, &n.Code, &n.Path, &n.ParentCode, &n.Level, &n.NameZH, &n.NameEN, &boundary,
		&n.Bound.Min[0], &n.Bound.Min[1], &n.Bound.Max[0], &n.Bound.Max[1], &n.Population, &n.Households, &from, &to); err != nil {
		return Node{}, err
	}
	mp, err := DecodeBoundary(boundary)
	if err != nil {
		return Node{}, err
	}
	n.Boundary = mp
	n.ValidFrom = db.FromMillis(from)
	if to.Valid {
		t := db.FromMillis(to.Int64)
		n.ValidTo = &t
	}
	return n, nil
}

func collectNodes(rows *sql.Rows, err error) ([]Node, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// currentNode returns the current version of a code, or sql.ErrNoRows.
func (store) currentNode(ctx context.Context, q db.Querier, code string) (Node, error) {
	return scanNode(q.QueryRowContext(ctx, "SELECT "+nodeColumns+" FROM territory_nodes WHERE code = $1 AND valid_to IS NULL", code))
}

// currentNodesByCodes returns the current versions of the given codes.
func (store) currentNodesByCodes(ctx context.Context, q db.Querier, codes []string) ([]Node, error) {
	return inChunks(codes, func(chunk []string) ([]Node, error) {
		ph, args := placeholders(chunk, 0)
		return collectNodes(q.QueryContext(ctx, "SELECT "+nodeColumns+" FROM territory_nodes WHERE valid_to IS NULL AND code IN ("+ph+")", args...))
	})
}

// currentChildren returns the current children of the given parents.
func (store) currentChildren(ctx context.Context, q db.Querier, parents []string) ([]Node, error) {
	return inChunks(parents, func(chunk []string) ([]Node, error) {
		ph, args := placeholders(chunk, 0)
		return collectNodes(q.QueryContext(ctx, "SELECT "+nodeColumns+" FROM territory_nodes WHERE valid_to IS NULL AND parent_code IN ("+ph+") ORDER BY code", args...))
	})
}

// currentWithin returns the current nodes whose path lies inside one of the
// scope paths ("" is everything), down to maxLevel, ordered by code.
func (store) currentWithin(ctx context.Context, q db.Querier, scopes []string, maxLevel Level) ([]Node, error) {
	cond, args := scopeCondition("path", scopes, 1)
	args = append(args, int(maxLevel))
	return collectNodes(q.QueryContext(ctx, "SELECT "+nodeColumns+" FROM territory_nodes WHERE valid_to IS NULL AND ("+cond+
		") AND level <= $"+itoa(len(args))+" ORDER BY code", args...))
}

// history returns every version of a code, oldest first.
func (store) history(ctx context.Context, q db.Querier, code string) ([]Node, error) {
	return collectNodes(q.QueryContext(ctx, "SELECT "+nodeColumns+" FROM territory_nodes WHERE code = $1 ORDER BY valid_from, id", code))
}

func (store) insertNode(ctx context.Context, q db.Querier, n Node, now time.Time) (int64, error) {
	b := n.Boundary.Bound()
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO territory_nodes (code, path, parent_code, level, name_zh, name_en, boundary,
		min_lng, min_lat, max_lng, max_lat, population, households, valid_from)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		n.Code, n.Path, n.ParentCode, int(n.Level), n.NameZH, n.NameEN, EncodeBoundary(n.Boundary),
		b.Min[0], b.Min[1], b.Max[0], b.Max[1], n.Population, n.Households, db.Millis(now)).Scan(&id)
	return id, err
}

// closeNode ends a version; the row stays as history.
func (store) closeNode(ctx context.Context, q db.Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE territory_nodes SET valid_to = $1 WHERE id = $2", db.Millis(now), id)
	return err
}

func (store) bumpVersion(ctx context.Context, q db.Querier, now time.Time) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "UPDATE territory_version SET version = version + 1, changed_at = $1 WHERE id = 1 RETURNING version", db.Millis(now)).Scan(&v)
	return v, err
}

func (store) version(ctx context.Context, q db.Querier) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT version FROM territory_version WHERE id = 1").Scan(&v)
	return v, err
}

// locatorRow is what the locator needs of a node.
type locatorRow struct {
	ID                         int64
	Code, Path, NameZH, NameEN string
	Level                      Level
	Boundary                   orb.MultiPolygon
}

// allCurrent streams every current node to fn, for building the locator.
func (store) allCurrent(ctx context.Context, q db.Querier, fn func(locatorRow) error) error {
	rows, err := q.QueryContext(ctx, "SELECT id, code, path, name_zh, name_en, level, boundary FROM territory_nodes WHERE valid_to IS NULL")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r locatorRow
		var boundary string
		if err := rows.Scan(&r.ID, &r.Code, &r.Path, &r.NameZH, &r.NameEN, &r.Level, &boundary); err != nil {
			return err
		}
		if r.Boundary, err = DecodeBoundary(boundary); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Helpers shared by the queries.

const chunkSize = 500

func inChunks[T any](keys []string, fn func([]string) ([]T, error)) ([]T, error) {
	var out []T
	for i := 0; i < len(keys); i += chunkSize {
		part, err := fn(keys[i:min(i+chunkSize, len(keys))])
		if err != nil {
			return nil, err
		}
		out = append(out, part...)
	}
	return out, nil
}

func placeholders(vals []string, offset int) (string, []any) {
	var b strings.Builder
	args := make([]any, len(vals))
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + itoa(offset+i+1))
		args[i] = v
	}
	return b.String(), args
}

// scopeCondition is auth.ScopeSQL: the territory's tables carry scope paths too.
var scopeCondition = auth.ScopeSQL

func itoa(n int) string { return strconv.Itoa(n) }
