package territory

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
)

// Building is a residential or other building (楼栋) with its address and
// the grid the locator placed it in.
type Building struct {
	ID         int64     `json:"id"`
	Name       string    `json:"name"`
	Address    string    `json:"address"`
	Lng        float64   `json:"lng"`
	Lat        float64   `json:"lat"`
	Units      int       `json:"units"`
	Floors     int       `json:"floors"`
	Households int       `json:"households"`
	GridCode   string    `json:"grid_code"`
	GridPath   string    `json:"-"`
	CreatedAt  time.Time `json:"created_at"`
}

// NewBuilding is the input for adding a building. The point may be given in
// WGS84, GCJ-02 or BD-09; it is stored in WGS84.
type NewBuilding struct {
	Name       string  `json:"name"`
	Address    string  `json:"address"`
	Lng        float64 `json:"lng"`
	Lat        float64 `json:"lat"`
	CRS        string  `json:"crs"`
	Units      int     `json:"units"`
	Floors     int     `json:"floors"`
	Households int     `json:"households"`
}

func (in *NewBuilding) validate() (orb.Point, map[string]string) {
	f := map[string]string{}
	in.Name, in.Address = strings.TrimSpace(in.Name), strings.TrimSpace(in.Address)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		f["name"] = "error.field.required"
	}
	if in.Address == "" || utf8.RuneCountInString(in.Address) > 200 {
		f["address"] = "error.field.required"
	}
	crs, err := geo.ParseCRS(in.CRS)
	if err != nil {
		f["crs"] = "territory.error.crs"
	}
	if math.IsNaN(in.Lng) || in.Lng < -180 || in.Lng > 180 {
		f["lng"] = "territory.error.lng"
	}
	if math.IsNaN(in.Lat) || in.Lat < -90 || in.Lat > 90 {
		f["lat"] = "territory.error.lat"
	}
	if in.Units < 0 || in.Units > 100 {
		f["units"] = "territory.error.count"
	}
	if in.Floors < 0 || in.Floors > 200 {
		f["floors"] = "territory.error.count"
	}
	if in.Households < 0 || in.Households > 5000 {
		f["households"] = "territory.error.count"
	}
	if in.Units == 0 {
		in.Units = 1
	}
	if in.Floors == 0 {
		in.Floors = 1
	}
	return geo.ToWGS84(orb.Point{in.Lng, in.Lat}, crs), f
}

// AddBuildings adds buildings in one transaction, each placed in its grid by
// the locator. All or nothing: a bad row fails the whole call with the field
// errors of the first bad one, prefixed by its position ("3.lat").
func (s *Service) AddBuildings(ctx context.Context, actor auth.Actor, in []NewBuilding) ([]Building, error) {
	const op = "territory.AddBuildings"
	if err := s.loc.Ensure(ctx); err != nil {
		return nil, errs.Wrap(op, err)
	}
	now := s.clock.Now()
	out := make([]Building, 0, len(in))
	for i := range in {
		p, f := in[i].validate()
		if len(f) == 0 {
			if loc := s.loc.Locate(p); !loc.Inside {
				f["lng"] = "territory.error.outside"
			} else if !auth.Can(actor, auth.ManageTerritory, loc.ScopePath()) && !auth.Can(actor, auth.WritePeople, loc.ScopePath()) {
				return nil, errs.E(errs.Forbidden, op, "error.forbidden")
			} else {
				out = append(out, Building{Name: in[i].Name, Address: in[i].Address, Lng: p[0], Lat: p[1], Units: in[i].Units,
					Floors: in[i].Floors, Households: in[i].Households, GridCode: loc.Code, GridPath: loc.ScopePath(), CreatedAt: now})
			}
		}
		if len(f) > 0 {
			if len(in) > 1 {
				prefixed := map[string]string{}
				for k, v := range f {
					prefixed[itoa(i)+"."+k] = v
				}
				f = prefixed
			}
			return nil, errs.Fields(op, f)
		}
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for i := range out {
			id, err := s.st.insertBuilding(ctx, tx, out[i], now)
			if err != nil {
				return err
			}
			out[i].ID = id
		}
		detail := map[string]any{"count": len(out)}
		if len(out) == 1 {
			detail["name"] = out[0].Name
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "building.create", ObjectType: "building", ObjectID: idString(out[0].ID),
			ScopePath: out[0].GridPath, Detail: detail})
	})
	if db.IsUniqueViolation(err) {
		return nil, &errs.Error{Code: errs.Conflict, Op: op, Msg: "territory.error.address_taken", Fields: map[string]string{"address": "territory.error.address_taken"}}
	}
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, nil
}

// BuildingByID returns a building whatever the actor's scope: capabilities
// that attach records to buildings (the people registry) check the actor
// against the building's grid themselves, with their own permission.
func (s *Service) BuildingByID(ctx context.Context, id int64) (Building, error) {
	const op = "territory.BuildingByID"
	b, err := scanBuilding(s.db.QueryRowContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Building{}, errs.E(errs.NotFound, op, "territory.error.no_building")
	}
	return b, errs.Wrap(op, err)
}

// BuildingFilter pages through buildings.
type BuildingFilter struct {
	GridCode string
	AfterID  int64
	Limit    int
}

// Buildings lists the buildings inside the actor's scopes, by id.
func (s *Service) Buildings(ctx context.Context, actor auth.Actor, f BuildingFilter) ([]Building, error) {
	const op = "territory.Buildings"
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	bs, err := s.st.listBuildings(ctx, s.db, scopes, f.GridCode, f.AfterID, f.Limit)
	return bs, errs.Wrap(op, err)
}

// readScopes returns the scopes in which the actor may read the territory
// (none when the role may not read it at all).
func readScopes(actor auth.Actor) []string {
	var out []string
	for _, sc := range actor.EffectiveScopes() {
		if auth.Can(actor, auth.ReadTerritory, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// SearchBuildings finds buildings by address or name as a person would type
// it: prefix matches first, then the query as a contiguous part, then its
// characters in order with gaps ("中山12" finds "中山路12号"). Only
// buildings inside the actor's scopes are searched.
func (s *Service) SearchBuildings(ctx context.Context, actor auth.Actor, query string, limit int) ([]Building, error) {
	const op = "territory.SearchBuildings"
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	return s.searchBuildings(ctx, op, scopes, query, limit)
}

// FindAddress finds buildings by a typed address anywhere in the
// installation, for anyone: a resident reporting a problem types where it is
// instead of dropping a pin. Building addresses are public places, not
// personal data; the answer carries no household figures.
func (s *Service) FindAddress(ctx context.Context, query string, limit int) ([]Building, error) {
	bs, err := s.searchBuildings(ctx, "territory.FindAddress", []string{""}, query, limit)
	for i := range bs {
		bs[i].Households, bs[i].Units, bs[i].Floors = 0, 0, 0
	}
	return bs, err
}

func (s *Service) searchBuildings(ctx context.Context, op string, scopes []string, query string, limit int) ([]Building, error) {
	key := AddressKey(query)
	if key == "" {
		return nil, errs.Fields(op, map[string]string{"q": "error.field.required"})
	}
	if utf8.RuneCountInString(key) > 50 {
		return nil, errs.Fields(op, map[string]string{"q": "error.field.too_long"})
	}
	if limit <= 0 || limit > 50 {
		limit = 20
	}
	// Fetch more candidates than asked for so that ranking can put the best first.
	cands, err := s.st.searchBuildings(ctx, s.db, scopes, key, limit*5)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	rank := func(b Building) int {
		k := AddressKey(b.Address)
		switch {
		case strings.HasPrefix(k, key):
			return 0
		case strings.Contains(k, key), strings.Contains(AddressKey(b.Name), key):
			return 1
		}
		return 2
	}
	sort.SliceStable(cands, func(i, j int) bool {
		ri, rj := rank(cands[i]), rank(cands[j])
		if ri != rj {
			return ri < rj
		}
		return len(cands[i].Address) < len(cands[j].Address)
	})
	return cands[:min(limit, len(cands))], nil
}

// relocateBuildings re-finds the grid of every building in the changed area
// with an index of the territory as it stands inside the transaction.
func (s *Service) relocateBuildings(ctx context.Context, tx *sql.Tx, area orb.Bound, now time.Time) error {
	snap, err := buildSnapshot(ctx, s.st, tx)
	if err != nil {
		return err
	}
	bs, err := s.st.buildingsInBound(ctx, tx, area)
	if err != nil {
		return err
	}
	for _, b := range bs {
		loc := snap.locate(orb.Point{b.Lng, b.Lat})
		if loc.Code == b.GridCode {
			continue
		}
		if err := s.st.setBuildingGrid(ctx, tx, b.ID, loc.Code, loc.ScopePath(), now); err != nil {
			return err
		}
	}
	return nil
}

// Store.

const buildingColumns = "id, name, address, lng, lat, units, floors, households, grid_code, grid_path, created_at"

func scanBuilding(s interface{ Scan(...any) error }) (Building, error) {
	var b Building
	var created int64
	err := s.Scan(&b.ID, &b.Name, &b.Address, &b.Lng, &b.Lat, &b.Units, &b.Floors, &b.Households, &b.GridCode, &b.GridPath, &created)
	b.CreatedAt = db.FromMillis(created)
	return b, err
}

func collectBuildings(rows *sql.Rows, err error) ([]Building, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Building
	for rows.Next() {
		b, err := scanBuilding(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (store) insertBuilding(ctx context.Context, q db.Querier, b Building, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO buildings (name, address, address_key, lng, lat, units, floors, households, grid_code, grid_path, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id`,
		b.Name, b.Address, AddressKey(b.Address), b.Lng, b.Lat, b.Units, b.Floors, b.Households, b.GridCode, b.GridPath, db.Millis(now)).Scan(&id)
	return id, err
}

func (store) listBuildings(ctx context.Context, q db.Querier, scopes []string, grid string, afterID int64, limit int) ([]Building, error) {
	cond, args := scopeCondition("grid_path", scopes, 1)
	n := len(args)
	args = append(args, afterID, grid, limit)
	return collectBuildings(q.QueryContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE ("+cond+") AND id > $"+itoa(n+1)+
		" AND ($"+itoa(n+2)+" = '' OR grid_code = $"+itoa(n+2)+") ORDER BY id LIMIT $"+itoa(n+3), args...))
}

// searchBuildings returns prefix matches of the address key (an index range
// scan) followed by subsequence matches (a scan limited to the scopes).
func (store) searchBuildings(ctx context.Context, q db.Querier, scopes []string, key string, limit int) ([]Building, error) {
	cond, args := scopeCondition("grid_path", scopes, 1)
	n := len(args)
	prefixArgs := append(slicesClone(args), key, key+"\U0010FFFF", limit)
	prefix, err := collectBuildings(q.QueryContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE ("+cond+") AND address_key >= $"+itoa(n+1)+
		" AND address_key < $"+itoa(n+2)+" ORDER BY address_key LIMIT $"+itoa(n+3), prefixArgs...))
	if err != nil || len(prefix) >= limit {
		return prefix, err
	}
	var pattern strings.Builder
	pattern.WriteByte('%')
	for _, r := range key {
		if r == '%' || r == '_' || r == '\\' {
			pattern.WriteByte('\\')
		}
		pattern.WriteRune(r)
		pattern.WriteByte('%')
	}
	fuzzyArgs := append(slicesClone(args), pattern.String(), limit)
	fuzzy, err := collectBuildings(q.QueryContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE ("+cond+") AND (address_key LIKE $"+itoa(n+1)+
		" ESCAPE '\\' OR LOWER(name) LIKE $"+itoa(n+1)+" ESCAPE '\\') ORDER BY id LIMIT $"+itoa(n+2), fuzzyArgs...))
	if err != nil {
		return nil, err
	}
	seen := map[int64]bool{}
	for _, b := range prefix {
		seen[b.ID] = true
	}
	for _, b := range fuzzy {
		if !seen[b.ID] {
			prefix = append(prefix, b)
		}
	}
	return prefix, nil
}

func slicesClone(a []any) []any { return append([]any(nil), a...) }

func (store) buildingsInBound(ctx context.Context, q db.Querier, b orb.Bound) ([]Building, error) {
	return collectBuildings(q.QueryContext(ctx, "SELECT "+buildingColumns+" FROM buildings WHERE lng >= $1 AND lng <= $2 AND lat >= $3 AND lat <= $4",
		b.Min[0], b.Max[0], b.Min[1], b.Max[1]))
}

func (store) setBuildingGrid(ctx context.Context, q db.Querier, id int64, code, path string, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE buildings SET grid_code = $1, grid_path = $2, updated_at = $3 WHERE id = $4", code, path, db.Millis(now), id)
	return err
}
