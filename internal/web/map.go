package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/territory"
)

// mapData is what the map page needs besides the layout. The boundaries,
// cards and searches come from the JSON API, fetched by static/map.js with
// the session cookie, so that the page and the API answer from the same
// services and permission checks.
type mapData struct {
	// Places names the places the actor's scopes cover, for the heading;
	// empty when the territory has not been imported yet.
	Places []string
	// CanEdit offers boundary editing; EditScopes are the territory codes
	// under which the actor may edit ("" alone: everywhere). The API checks
	// the same permission again on every save.
	CanEdit    bool
	EditScopes string
	// Scopes are the territory codes the actor reads (its own area, which
	// the map first shows; "" alone: everywhere).
	Scopes  string
	TileURL string
}

// CanReadTerritory reports whether the actor may see the territory in at
// least one of its scopes, which decides whether the map is offered.
func (p *page) CanReadTerritory() bool { return canReadTerritory(p.Actor) }

func canReadTerritory(a auth.Actor) bool {
	return slices.ContainsFunc(a.EffectiveScopes(), func(sc string) bool { return auth.Can(a, auth.ReadTerritory, sc) })
}

// mapPage handles GET /map: boundaries coloured by level on a full-screen
// map, a search box and the card of the chosen place, and boundary
// editing for those who manage the territory.
func (w *Web) mapPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.mapPage"
	actor := auth.ActorFrom(r.Context())
	if !canReadTerritory(actor) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	p := w.newPage(r, "map", "/map")
	d := mapData{TileURL: w.mapTileURL}
	var read, edit []string
	for _, sc := range actor.EffectiveScopes() {
		if auth.Can(actor, auth.ReadTerritory, sc) {
			read = append(read, auth.ScopeCode(sc))
		}
		if auth.Can(actor, auth.ManageTerritory, sc) {
			edit = append(edit, auth.ScopeCode(sc))
		}
	}
	d.Scopes = strings.Join(read, " ")
	d.CanEdit, d.EditScopes = len(edit) > 0, strings.Join(edit, " ")
	places, err := w.scopePlaces(r, actor, p.Lang)
	if err != nil {
		return errs.Wrap(op, err)
	}
	d.Places = places
	p.Data = d
	return w.render(rw, http.StatusOK, "map", p)
}

// scopePlaces returns the names of the places the actor's scopes cover, in
// lang, or the "whole installation" label for an unscoped actor. Scopes
// without a place yet (nothing imported) are left out.
func (w *Web) scopePlaces(r *http.Request, actor auth.Actor, lang string) ([]string, error) {
	var codes []string
	deepest := territory.District
	for _, sc := range actor.EffectiveScopes() {
		if !auth.Can(actor, auth.ReadTerritory, sc) {
			continue
		}
		if sc == "" {
			return []string{w.i18n.T(lang, "scope.all")}, nil
		}
		code := auth.ScopeCode(sc)
		if lvl, ok := territory.LevelOf(code); ok {
			codes = append(codes, code)
			deepest = max(deepest, lvl)
		}
	}
	if w.territory == nil || len(codes) == 0 {
		return nil, nil
	}
	nodes, err := w.territory.Tree(r.Context(), actor, deepest)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, n := range nodes {
		if !slices.Contains(codes, n.Code) {
			continue
		}
		name := n.NameZH
		if lang == i18n.English && n.NameEN != "" {
			name = n.NameEN
		}
		names = append(names, name)
	}
	return names, nil
}
