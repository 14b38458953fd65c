package territory

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// Card is what the map shows when a node is clicked.
type Card struct {
	Node
	Kind                string        `json:"kind"`
	Ancestors           []NodeRef     `json:"ancestors"`
	Staff               []StaffMember `json:"staff"`
	Buildings           int           `json:"buildings"`
	BuildingHouseholds  int64         `json:"building_households"`
	HouseholdsPerWorker float64       `json:"households_per_worker,omitempty"`
}

// Node returns the card of a current node the actor may read.
func (s *Service) Card(ctx context.Context, actor auth.Actor, code string) (Card, error) {
	const op = "territory.Card"
	n, err := s.st.currentNode(ctx, s.db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return Card{}, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	if err != nil {
		return Card{}, errs.Wrap(op, err)
	}
	if !canReadNode(actor, n.Path) {
		return Card{}, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	c := Card{Node: n, Kind: n.Kind()}
	ancestors, err := s.st.currentNodesByCodes(ctx, s.db, strings.Split(n.Path, "/"))
	if err != nil {
		return Card{}, errs.Wrap(op, err)
	}
	for _, a := range ancestors {
		c.Ancestors = append(c.Ancestors, NodeRef{Code: a.Code, Kind: a.Kind(), NameZH: a.NameZH, NameEN: a.NameEN})
	}
	if c.Staff, err = s.st.staffOf(ctx, s.db, []string{n.Path}); err != nil {
		return Card{}, errs.Wrap(op, err)
	}
	if c.Buildings, c.BuildingHouseholds, err = s.st.buildingTotals(ctx, s.db, n.Path); err != nil {
		return Card{}, errs.Wrap(op, err)
	}
	households := max(n.Households, c.BuildingHouseholds)
	workers := 0
	for _, m := range c.Staff {
		if m.Duty == DutyWorker {
			workers++
		}
	}
	if workers > 0 && n.Level == Grid {
		c.HouseholdsPerWorker = float64(households) / float64(workers)
	}
	return c, nil
}

// canReadNode lets an actor see a node inside its scopes and the ancestors
// of its scopes (a grid worker sees which community and street their grid
// belongs to).
func canReadNode(actor auth.Actor, path string) bool {
	if auth.Can(actor, auth.ReadTerritory, path) {
		return true
	}
	for _, sc := range readScopes(actor) {
		if auth.Within(path, sc) {
			return true
		}
	}
	return false
}

// Tree returns the current nodes inside the actor's scopes down to maxLevel,
// with the ancestors of the scopes, ordered by code.
func (s *Service) Tree(ctx context.Context, actor auth.Actor, maxLevel Level) ([]Node, error) {
	const op = "territory.Tree"
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	nodes, err := s.st.currentWithin(ctx, s.db, scopes, maxLevel)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	var ancestors []string
	for _, sc := range scopes {
		parts := strings.Split(sc, "/")
		ancestors = append(ancestors, parts[:max(0, len(parts)-1)]...)
	}
	if len(ancestors) > 0 {
		anc, err := s.st.currentNodesByCodes(ctx, s.db, unique(ancestors))
		if err != nil {
			return nil, errs.Wrap(op, err)
		}
		nodes = append(anc, nodes...)
	}
	return nodes, nil
}

// WriteGeoJSON writes nodes as an RFC 7946 FeatureCollection, streaming one
// feature at a time. The output imports back unchanged.
func WriteGeoJSON(w io.Writer, nodes []Node) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	for i, n := range nodes {
		if i > 0 {
			bw.WriteByte(',')
		}
		props := map[string]any{"code": n.Code, "name": n.NameZH, "name_en": n.NameEN, "kind": n.Kind(),
			"parent": n.ParentCode, "population": n.Population, "households": n.Households,
			"version": n.ID, "valid_from": n.ValidFrom}
		if n.ValidTo != nil {
			props["valid_to"] = *n.ValidTo
		}
		propsJSON, err := json.Marshal(props)
		if err != nil {
			return err
		}
		bw.WriteString("\n{\"type\":\"Feature\",\"properties\":")
		bw.Write(propsJSON)
		bw.WriteString(`,"geometry":`)
		bw.WriteString(EncodeBoundary(n.Boundary))
		bw.WriteByte('}')
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

// UpdateBoundary replaces one node's boundary after the same validation as
// an import: within its parent, not overlapping its siblings, still holding
// its children. The old boundary is kept as history.
func (s *Service) UpdateBoundary(ctx context.Context, actor auth.Actor, code string, geometry json.RawMessage) (ImportResult, error) {
	const op = "territory.UpdateBoundary"
	n, err := s.st.currentNode(ctx, s.db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return ImportResult{}, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	if err != nil {
		return ImportResult{}, errs.Wrap(op, err)
	}
	if !auth.Can(actor, auth.ManageTerritory, n.Path) {
		if canReadNode(actor, n.Path) {
			return ImportResult{}, errs.E(errs.Forbidden, op, "error.forbidden")
		}
		return ImportResult{}, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	shape, prob := ParseGeometry(geometry)
	if prob != "" {
		return ImportResult{Problems: []Problem{{Index: -1, Code: code, Reason: prob}}}, invalidFile(op)
	}
	f := Feature{Index: -1, Code: code, NameZH: n.NameZH, NameEN: n.NameEN, Shape: shape}
	return s.apply(ctx, actor, op, []Feature{f}, nil, false)
}

// History returns every version of a node, oldest first.
func (s *Service) History(ctx context.Context, actor auth.Actor, code string) ([]Node, error) {
	const op = "territory.History"
	ns, err := s.st.history(ctx, s.db, code)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	if len(ns) == 0 || !canReadNode(actor, ns[0].Path) {
		return nil, errs.E(errs.NotFound, op, "territory.error.no_node")
	}
	return ns, nil
}

// ScopeKnown reports whether a scope path names a current place. Before any
// territory has been imported every well-formed path is accepted, so that a
// new installation can create its staff before its boundaries.
func (s *Service) ScopeKnown(ctx context.Context, path string) (bool, error) {
	v, err := s.st.version(ctx, s.db)
	if err != nil || v == 0 {
		return true, err
	}
	code := path[strings.LastIndexByte(path, '/')+1:]
	n, err := s.st.currentNode(ctx, s.db, code)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil && n.Path == path, err
}
