package people

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
)

// store is the registry's SQL.
type store struct{}

// residentRow is a stored resident, sensitive fields still sealed.
type residentRow struct {
	id, householdID                         int64
	relation                                Relation
	name                                    string
	gender                                  Gender
	birthDate, documentKind                 string
	documentSealed, documentIndex           string
	phoneSealed, phoneIndex                 string
	registration                            Registration
	moveIn, moveOut, gridPath, verification string
}

const residentColumns = `r.id, COALESCE(r.household_id, 0), r.relation, r.name, r.gender, r.birth_date, r.document_kind,
	r.document_sealed, r.document_index, r.phone_sealed, r.phone_index, r.registration, r.move_in, r.move_out, r.grid_path, r.verification`

func scanResident(s interface{ Scan(...any) error }) (residentRow, error) {
	var r residentRow
	err := s.Scan(&r.id, &r.householdID, &r.relation, &r.name, &r.gender, &r.birthDate, &r.documentKind,
		&r.documentSealed, &r.documentIndex, &r.phoneSealed, &r.phoneIndex, &r.registration, &r.moveIn, &r.moveOut, &r.gridPath, &r.verification)
	return r, err
}

func collectResidents(rows *sql.Rows, err error) ([]residentRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []residentRow
	for rows.Next() {
		r, err := scanResident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (store) insertHouse(ctx context.Context, q db.Querier, h House, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO houses (building_id, unit, number, floor, use, grid_path, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id`, h.BuildingID, h.Unit, h.Number, h.Floor, string(h.Use), h.GridPath, db.Millis(now)).Scan(&id)
	return id, err
}

func (store) house(ctx context.Context, q db.Querier, id int64) (House, error) {
	var h House
	err := q.QueryRowContext(ctx, "SELECT id, building_id, unit, number, floor, use, grid_path FROM houses WHERE id = $1", id).
		Scan(&h.ID, &h.BuildingID, &h.Unit, &h.Number, &h.Floor, &h.Use, &h.GridPath)
	return h, err
}

type householdRow struct {
	id, houseID, headID int64
	gridPath            string
}

func (store) household(ctx context.Context, q db.Querier, id int64) (householdRow, error) {
	var h householdRow
	err := q.QueryRowContext(ctx, "SELECT id, house_id, COALESCE(head_id, 0), grid_path FROM households WHERE id = $1", id).
		Scan(&h.id, &h.houseID, &h.headID, &h.gridPath)
	return h, err
}

func (store) insertHousehold(ctx context.Context, q db.Querier, houseID int64, gridPath string, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO households (house_id, grid_path, created_at, updated_at) VALUES ($1, $2, $3, $3) RETURNING id`,
		houseID, gridPath, db.Millis(now)).Scan(&id)
	return id, err
}

func (store) setHead(ctx context.Context, q db.Querier, householdID, residentID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE households SET head_id = $1, updated_at = $2 WHERE id = $3", residentID, db.Millis(now), householdID)
	return err
}

func (store) insertResident(ctx context.Context, q db.Querier, r residentRow, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO residents (household_id, relation, name, gender, birth_date, document_kind,
		document_sealed, document_index, phone_sealed, phone_index, registration, move_in, grid_path, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id`,
		r.householdID, string(r.relation), r.name, string(r.gender), r.birthDate, r.documentKind, r.documentSealed, r.documentIndex,
		r.phoneSealed, r.phoneIndex, string(r.registration), r.moveIn, r.gridPath, db.Millis(now)).Scan(&id)
	return id, err
}

// addTags gives a new resident its tags (distinct codes) in one statement.
func (st store) addTags(ctx context.Context, q db.Querier, residentID int64, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	tags := make([]residentTag, len(codes))
	for i, c := range codes {
		tags[i] = residentTag{residentID, c}
	}
	return st.importInsertTags(ctx, q, tags)
}

// tagCodes returns which of the codes are in the dictionary.
func (store) tagCodes(ctx context.Context, q db.Querier, codes []string) ([]string, error) {
	ph, args := placeholders(codes, 0)
	rows, err := q.QueryContext(ctx, "SELECT code FROM tags WHERE code IN ("+ph+")", args...)
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

type tagRef struct {
	code       string
	restricted bool
}

// tagsOf returns the stored tags of the residents, in one query.
func (store) tagsOf(ctx context.Context, q db.Querier, ids []int64) (map[int64][]tagRef, error) {
	ph, args := placeholders(ids, 0)
	rows, err := q.QueryContext(ctx, "SELECT rt.resident_id, t.code, t.restricted FROM resident_tags rt JOIN tags t ON t.code = rt.tag_code WHERE rt.resident_id IN ("+ph+") ORDER BY t.code", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]tagRef{}
	for rows.Next() {
		var id int64
		var t tagRef
		if err := rows.Scan(&id, &t.code, &t.restricted); err != nil {
			return nil, err
		}
		out[id] = append(out[id], t)
	}
	return out, rows.Err()
}

// householdSizes counts the current members of each household, in one query.
func (store) householdSizes(ctx context.Context, q db.Querier, ids []int64) (map[int64]int, error) {
	ph, args := placeholders(ids, 0)
	rows, err := q.QueryContext(ctx, "SELECT household_id, COUNT(*) FROM residents WHERE household_id IN ("+ph+") AND move_out = '' AND anonymised_at IS NULL GROUP BY household_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

func (store) resident(ctx context.Context, q db.Querier, id int64) (residentRow, error) {
	return scanResident(q.QueryRowContext(ctx, "SELECT "+residentColumns+" FROM residents r WHERE r.id = $1 AND r.anonymised_at IS NULL", id))
}

func (store) members(ctx context.Context, q db.Querier, householdID int64) ([]residentRow, error) {
	return collectResidents(q.QueryContext(ctx, "SELECT "+residentColumns+" FROM residents r WHERE r.household_id = $1 AND r.anonymised_at IS NULL ORDER BY r.id LIMIT 100", householdID))
}

// query is a validated search.
type query struct {
	name                      string
	documentIndex, phoneIndex string
	building, house           int64
	tag                       string
	after                     int64
	limit                     int
}

// residentWhere is the condition of a registry search (and of an export,
// which must select exactly what a search would): the scope, the filters,
// never anonymised records, and with currentOnly not those who moved out.
// Each condition is served by an index: the blind indexes, the name (prefix
// as a range, byte-ordered on both engines), the scope path, the tag.
func residentWhere(scopes []string, s query, currentOnly bool) ([]string, []any) {
	cond, args := auth.ScopeSQL("r.grid_path", scopes, 1)
	where := []string{"(" + cond + ")", "r.anonymised_at IS NULL"}
	if currentOnly {
		where = append(where, "r.move_out = ''")
	}
	add := func(sql string, vals ...any) {
		for _, v := range vals {
			args = append(args, v)
			sql = strings.Replace(sql, "?", "$"+strconv.Itoa(len(args)), 1)
		}
		where = append(where, sql)
	}
	if s.name != "" {
		add("r.name >= ? AND r.name < ?", s.name, s.name+"\U0010FFFF")
	}
	if s.documentIndex != "" {
		add("r.document_index = ?", s.documentIndex)
	}
	if s.phoneIndex != "" {
		add("r.phone_index = ?", s.phoneIndex)
	}
	if s.house != 0 {
		add("r.household_id IN (SELECT id FROM households WHERE house_id = ?)", s.house)
	}
	if s.building != 0 {
		add("r.household_id IN (SELECT hh.id FROM households hh JOIN houses h ON h.id = hh.house_id WHERE h.building_id = ?)", s.building)
	}
	if s.tag != "" {
		add("r.id IN (SELECT resident_id FROM resident_tags WHERE tag_code = ?)", s.tag)
	}
	return where, args
}

// search runs a scoped, paginated search.
func (store) search(ctx context.Context, q db.Querier, scopes []string, s query) ([]residentRow, error) {
	where, args := residentWhere(scopes, s, false)
	args = append(args, s.after)
	where = append(where, "r.id > $"+strconv.Itoa(len(args)))
	args = append(args, s.limit)
	return collectResidents(q.QueryContext(ctx, "SELECT "+residentColumns+" FROM residents r WHERE "+strings.Join(where, " AND ")+
		" ORDER BY r.id LIMIT $"+strconv.Itoa(len(args)), args...))
}

func placeholders[T any](vals []T, offset int) (string, []any) {
	var b strings.Builder
	args := make([]any, len(vals))
	for i, v := range vals {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(offset+i+1))
		args[i] = v
	}
	return b.String(), args
}

func (store) byDocument(ctx context.Context, q db.Querier, index string) (residentRow, error) {
	return scanResident(q.QueryRowContext(ctx, "SELECT "+residentColumns+" FROM residents r WHERE r.document_index = $1 AND r.anonymised_at IS NULL", index))
}

func (store) byUser(ctx context.Context, q db.Querier, userID int64) (residentRow, error) {
	return scanResident(q.QueryRowContext(ctx, "SELECT "+residentColumns+" FROM residents r WHERE r.user_id = $1 AND r.anonymised_at IS NULL ORDER BY r.id LIMIT 1", userID))
}

// tagRestricted reports whether a tag is restricted (false for unknown tags,
// which match nobody).
func (store) tagRestricted(ctx context.Context, q db.Querier, code string) (bool, error) {
	var r bool
	err := q.QueryRowContext(ctx, "SELECT restricted FROM tags WHERE code = $1", code).Scan(&r)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return r, err
}
