package territory

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
)

// Service owns the territory: its tree, boundaries, buildings and staff.
type Service struct {
	db    *db.DB
	audit *audit.Log
	auth  *auth.Service
	clock clock.Clock
	tol   float64
	loc   *Locator
	st    store
}

// NewService returns the territory service. tolerance is in metres (see
// DefaultTolerance).
func NewService(d *db.DB, a *audit.Log, authSvc *auth.Service, c clock.Clock, tolerance float64) *Service {
	return &Service{db: d, audit: a, auth: authSvc, clock: c, tol: tolerance, loc: NewLocator(d)}
}

// Locator returns the service's point → grid locator.
func (s *Service) Locator() *Locator { return s.loc }

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// ImportResult says what an import did or, for a dry run, would do.
type ImportResult struct {
	Created   int       `json:"created"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	DryRun    bool      `json:"dry_run"`
	Problems  []Problem `json:"problems,omitempty"`
}

// invalidFile is the error of an import or edit rejected for problems; the
// problems themselves are in the result.
var invalidFile = func(op string) error { return errs.E(errs.Invalid, op, "territory.error.invalid_file") }

// Import reads a GeoJSON FeatureCollection of territory nodes and applies it
// in one transaction: new codes are created, changed boundaries or names
// start a new version (the old one is kept as history), identical ones are
// left alone. Nothing is written unless every feature is valid; the result
// lists every problem by feature index, code and reason.
func (s *Service) Import(ctx context.Context, actor auth.Actor, data []byte, dryRun bool) (ImportResult, error) {
	const op = "territory.Import"
	if !auth.Can(actor, auth.ManageTerritory, actor.Scope) {
		return ImportResult{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	features, problems := ParseFeatureCollection(data)
	for _, f := range features {
		if !auth.Can(actor, auth.ManageTerritory, pathOf(f.Code)) {
			return ImportResult{}, errs.E(errs.Forbidden, op, "error.forbidden")
		}
	}
	return s.apply(ctx, actor, op, features, problems, dryRun)
}

// apply validates and writes features inside one transaction.
func (s *Service) apply(ctx context.Context, actor auth.Actor, op string, features []Feature, problems []Problem, dryRun bool) (ImportResult, error) {
	var res ImportResult
	res.DryRun = dryRun
	errRejected := errors.New("rejected")
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		pl, err := validate(features, s.tol,
			func(codes []string) ([]Node, error) { return s.st.currentNodesByCodes(ctx, tx, codes) },
			func(parents []string) ([]Node, error) { return s.st.currentChildren(ctx, tx, parents) })
		if err != nil {
			return err
		}
		res.Problems = append(problems, pl.problems...)
		slices.SortStableFunc(res.Problems, func(a, b Problem) int { return a.Index - b.Index })
		if len(res.Problems) > 0 {
			return errRejected
		}
		if err := s.write(ctx, tx, actor, pl.features, &res); err != nil {
			return err
		}
		if dryRun {
			return errRejected // roll back what a real import would have written
		}
		return nil
	})
	switch {
	case errors.Is(err, errRejected) && len(res.Problems) > 0:
		return res, invalidFile(op)
	case errors.Is(err, errRejected):
		return res, nil // a clean dry run
	case err != nil:
		return ImportResult{}, errs.Wrap(op, err)
	}
	if err := s.loc.Refresh(ctx); err != nil {
		return res, errs.Wrap(op, err)
	}
	return res, nil
}

// write applies validated features, bumps the territory version, re-finds
// the grids of buildings in the changed area, and audits each change.
func (s *Service) write(ctx context.Context, tx *sql.Tx, actor auth.Actor, features []Feature, res *ImportResult) error {
	now := s.clock.Now()
	codes := make([]string, len(features))
	for i, f := range features {
		codes[i] = f.Code
	}
	existing, err := s.st.currentNodesByCodes(ctx, tx, codes)
	if err != nil {
		return err
	}
	cur := map[string]Node{}
	for _, n := range existing {
		cur[n.Code] = n
	}
	var changedArea orb.Bound
	first := true
	for _, f := range features {
		old, exists := cur[f.Code]
		if exists && old.NameZH == f.NameZH && old.NameEN == f.NameEN && EncodeBoundary(old.Boundary) == EncodeBoundary(f.Shape) {
			res.Unchanged++
			continue
		}
		lvl, _ := LevelOf(f.Code)
		n := Node{Code: f.Code, Path: pathOf(f.Code), ParentCode: ParentCode(f.Code), Level: lvl, NameZH: f.NameZH, NameEN: f.NameEN, Boundary: f.Shape}
		action := "territory.node_create"
		if exists {
			n.Population, n.Households = old.Population, old.Households
			if err := s.st.closeNode(ctx, tx, old.ID, now); err != nil {
				return err
			}
			action = "territory.node_update"
			res.Updated++
		} else {
			res.Created++
		}
		id, err := s.st.insertNode(ctx, tx, n, now)
		if err != nil {
			return err
		}
		b := geo.Bound(f.Shape)
		if exists {
			b = b.Union(old.Boundary.Bound())
		}
		if first {
			changedArea, first = b, false
		} else {
			changedArea = changedArea.Union(b)
		}
		if err := s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "territory_node", ObjectID: f.Code,
			ScopePath: n.Path, Detail: map[string]any{"version_id": id, "name": f.NameZH}}); err != nil {
			return err
		}
	}
	if res.Created+res.Updated == 0 {
		return nil
	}
	if _, err := s.st.bumpVersion(ctx, tx, now); err != nil {
		return err
	}
	return s.relocateBuildings(ctx, tx, changedArea, now)
}

// Location is the answer of the locator.
type Location struct {
	Inside bool   `json:"inside"`
	Code   string `json:"code,omitempty"`
	// Version identifies the boundary version that decided the answer.
	// Whatever is routed by the locator (a case) stores it with the code, so
	// it keeps the grid it was routed to after the boundary changes.
	Version int64     `json:"version,omitempty"`
	Kind    string    `json:"kind,omitempty"`
	Path    []NodeRef `json:"path,omitempty"`
	WGS84   orb.Point `json:"wgs84"`
}

// NodeRef names a node.
type NodeRef struct {
	Code   string `json:"code"`
	Kind   string `json:"kind"`
	NameZH string `json:"name"`
	NameEN string `json:"name_en,omitempty"`
}

// Locate finds the grid of a point given in any supported coordinate system.
// It is public geography: no actor is needed.
func (s *Service) Locate(ctx context.Context, lng, lat float64, crs geo.CRS) (Location, error) {
	const op = "territory.Locate"
	f := map[string]string{}
	if lng < -180 || lng > 180 || lng != lng {
		f["lng"] = "territory.error.lng"
	}
	if lat < -90 || lat > 90 || lat != lat {
		f["lat"] = "territory.error.lat"
	}
	if len(f) > 0 {
		return Location{}, errs.Fields(op, f)
	}
	if err := s.loc.Ensure(ctx); err != nil {
		return Location{}, errs.Wrap(op, err)
	}
	return s.loc.Locate(geo.ToWGS84(orb.Point{lng, lat}, crs)), nil
}

func idString(id int64) string { return strconv.FormatInt(id, 10) }
