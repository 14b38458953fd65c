package api

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/territory"
)

// UploadPrefix is where request bodies may be as large as a file upload.
const UploadPrefix = "/api/v1/territory/import"

func (a *API) registerTerritory(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/locate", a.locate)
	mux.Handle("GET /api/v1/territory", a.handle(a.territoryGeoJSON, "read"))
	mux.Handle("POST /api/v1/territory/import", a.handle(a.territoryImport, "write"))
	mux.Handle("GET /api/v1/territory/nodes/{code}", a.handle(a.territoryCard, "read"))
	mux.Handle("GET /api/v1/territory/nodes/{code}/history", a.handle(a.territoryHistory, "read"))
	mux.Handle("PUT /api/v1/territory/nodes/{code}/boundary", a.handle(a.territoryBoundary, "write"))
	mux.Handle("GET /api/v1/territory/nodes/{code}/staff", a.handle(a.gridStaff, "read"))
	mux.Handle("PUT /api/v1/territory/nodes/{code}/staff/{username}", a.handle(a.assignStaff, "write"))
	mux.Handle("DELETE /api/v1/territory/nodes/{code}/staff/{username}", a.handle(a.unassignStaff, "write"))
	mux.Handle("GET /api/v1/buildings", a.handle(a.listBuildings, "read"))
	mux.Handle("POST /api/v1/buildings", a.handle(a.createBuilding, "write"))
	mux.Handle("GET /api/v1/buildings/search", a.handle(a.searchBuildings, "read"))
}

// locate is public: where a point lies is geography, not personal data.
func (a *API) locate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := map[string]string{}
	lat, err := strconv.ParseFloat(q.Get("lat"), 64)
	if err != nil {
		f["lat"] = "territory.error.lat"
	}
	lng, err := strconv.ParseFloat(q.Get("lng"), 64)
	if err != nil {
		f["lng"] = "territory.error.lng"
	}
	crs, err := geo.ParseCRS(q.Get("crs"))
	if err != nil {
		f["crs"] = "territory.error.crs"
	}
	if len(f) > 0 {
		a.WriteError(w, r, errs.Fields("api.locate", f))
		return
	}
	loc, err := a.d.Territory.Locate(r.Context(), lng, lat, crs)
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, loc)
}

func (a *API) territoryGeoJSON(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	level := territory.MicroGrid
	if s := r.URL.Query().Get("level"); s != "" {
		found := false
		for i, k := range territory.Kinds {
			if k == s {
				level, found = territory.Level(i), true
			}
		}
		if !found {
			return errs.Fields("api.territory", map[string]string{"level": "territory.error.level"})
		}
	}
	nodes, err := a.d.Territory.Tree(r.Context(), actor, level)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return territory.WriteGeoJSON(w, nodes)
}

// writeProblems answers a rejected import or edit: the usual error body plus
// every problem, translated.
func (a *API) writeProblems(w http.ResponseWriter, r *http.Request, err error, problems []territory.Problem) {
	lang := httpx.Lang(r, a.d.I18n.Match)
	p := httpx.Translate(a.d.I18n, lang, httpx.RequestID(r.Context()), err)
	for i := range problems {
		problems[i].Message = a.d.I18n.T(lang, problems[i].Reason)
	}
	httpx.WriteJSON(w, p.Status, map[string]any{"error": p, "problems": problems})
}

func (a *API) territoryImport(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return httpx.BodyError(err)
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	res, err := a.d.Territory.Import(r.Context(), actor, data, dry)
	return a.writeImportResult(w, r, res, err)
}

// writeImportResult answers an import or a boundary edit: the counts, or
// the rejection with every problem.
func (a *API) writeImportResult(w http.ResponseWriter, r *http.Request, res territory.ImportResult, err error) error {
	if err != nil {
		if len(res.Problems) > 0 {
			a.writeProblems(w, r, err, res.Problems)
			return nil
		}
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) territoryCard(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	c, err := a.d.Territory.Card(r.Context(), actor, r.PathValue("code"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

func (a *API) territoryHistory(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	ns, err := a.d.Territory.History(r.Context(), actor, r.PathValue("code"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return territory.WriteGeoJSON(w, ns)
}

func (a *API) territoryBoundary(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Geometry json.RawMessage `json:"geometry"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := a.d.Territory.UpdateBoundary(r.Context(), actor, r.PathValue("code"), in.Geometry)
	return a.writeImportResult(w, r, res, err)
}

func (a *API) gridStaff(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	m, err := a.d.Territory.Staff(r.Context(), actor, r.PathValue("code"))
	if err != nil {
		return err
	}
	if m == nil {
		m = []territory.StaffMember{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[territory.StaffMember]{Items: m})
	return nil
}

func (a *API) assignStaff(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Duty territory.Duty `json:"duty"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := a.d.Territory.Assign(r.Context(), actor, r.PathValue("code"), r.PathValue("username"), in.Duty); err != nil {
		return err
	}
	return a.gridStaff(w, r, actor)
}

func (a *API) unassignStaff(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.d.Territory.Unassign(r.Context(), actor, r.PathValue("code"), r.PathValue("username")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listBuildings(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	after, limit, err := pageParams(r, "after")
	if err != nil {
		return err
	}
	bs, err := a.d.Territory.Buildings(r.Context(), actor, territory.BuildingFilter{GridCode: r.URL.Query().Get("grid"), AfterID: after, Limit: limit})
	if err != nil {
		return err
	}
	p := Page[territory.Building]{Items: bs}
	if p.Items == nil {
		p.Items = []territory.Building{}
	}
	if len(bs) == limit {
		p.NextCursor = strconv.FormatInt(bs[len(bs)-1].ID, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) createBuilding(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in territory.NewBuilding
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	bs, err := a.d.Territory.AddBuildings(r.Context(), actor, []territory.NewBuilding{in})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/buildings/"+strconv.FormatInt(bs[0].ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, bs[0])
	return nil
}

func (a *API) searchBuildings(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	limit := 20
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 50 {
			return errs.Fields("api.searchBuildings", map[string]string{"limit": "error.field.limit"})
		}
		limit = n
	}
	bs, err := a.d.Territory.SearchBuildings(r.Context(), actor, r.URL.Query().Get("q"), limit)
	if err != nil {
		return err
	}
	if bs == nil {
		bs = []territory.Building{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[territory.Building]{Items: bs})
	return nil
}
