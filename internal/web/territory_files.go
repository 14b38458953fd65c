package web

import (
	"errors"
	"io"
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/territory"
)

// UploadPrefix is where the web face accepts file uploads larger than an
// ordinary form.
const UploadPrefix = "/territory/import"

// territoryFilesData is what the boundary files page shows after an upload.
type territoryFilesData struct {
	Done     bool
	Result   territory.ImportResult
	Problems []problemRow
	FileName string
}

// problemRow is one translated problem of a rejected file.
type problemRow struct {
	Where   string
	Code    string
	Message string
	Other   string
}

// CanManageTerritory reports whether the actor may import and edit
// boundaries in their own scope.
func (p *page) CanManageTerritory() bool {
	return auth.Can(p.Actor, auth.ManageTerritory, p.Actor.Scope)
}

// requireTerritoryManager lets only those who manage the territory in their
// own scope (district administrators) reach the boundary files; actions that
// need the territory service also need it wired in.
func (w *Web) requireTerritoryManager(r *http.Request, needService bool) error {
	actor := auth.ActorFrom(r.Context())
	if !auth.Can(actor, auth.ManageTerritory, actor.Scope) || (needService && w.territory == nil) {
		return errs.E(errs.Forbidden, "web.territory", "error.forbidden")
	}
	return nil
}

// territoryFilesPage handles GET /territory: upload a GeoJSON file of
// boundaries (checked whole before anything is written) or download the
// current tree.
func (w *Web) territoryFilesPage(rw http.ResponseWriter, r *http.Request) error {
	if err := w.requireTerritoryManager(r, false); err != nil {
		return err
	}
	p := w.newPage(r, "map", "/territory")
	p.Data = territoryFilesData{}
	return w.render(rw, http.StatusOK, "territory", p)
}

// territoryImport handles POST /territory/import, a multipart upload.
func (w *Web) territoryImport(rw http.ResponseWriter, r *http.Request) error {
	if err := w.requireTerritoryManager(r, true); err != nil {
		return err
	}
	p := w.newPage(r, "map", "/territory")
	file, header, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, "web.territoryImport", "error.too_large")
		}
		p.Form = w.fieldError(r, nil, "file", "error.field.required")
		p.Data = territoryFilesData{}
		return w.render(rw, http.StatusBadRequest, "territory", p)
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return errs.E(errs.TooLarge, "web.territoryImport", "error.too_large")
	}
	res, err := w.territory.Import(r.Context(), auth.ActorFrom(r.Context()), data, r.PostFormValue("dry_run") == "on")
	d := territoryFilesData{Done: err == nil, Result: res, FileName: header.Filename}
	lang := w.lang(r)
	for _, pr := range res.Problems {
		row := problemRow{Code: pr.Code, Message: w.i18n.T(lang, pr.Reason), Other: pr.Other}
		if pr.Index >= 0 {
			// People count features from one; the API's index counts from zero.
			row.Where = w.i18n.T(lang, "territory.files.feature", pr.Index+1)
		}
		d.Problems = append(d.Problems, row)
	}
	p.Data = d
	status := http.StatusOK
	if err != nil {
		f, st, ok := w.formProblem(rw, r, err, nil)
		if !ok {
			return err
		}
		p.Form, status = f, st
	}
	return w.render(rw, status, "territory", p)
}

// territoryExport handles GET /territory/export: the current tree within the
// actor's scope as a GeoJSON file that imports back unchanged.
func (w *Web) territoryExport(rw http.ResponseWriter, r *http.Request) error {
	if err := w.requireTerritoryManager(r, true); err != nil {
		return err
	}
	nodes, err := w.territory.Tree(r.Context(), auth.ActorFrom(r.Context()), territory.MicroGrid)
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "application/geo+json")
	rw.Header().Set("Content-Disposition", `attachment; filename="territory.geojson"`)
	return territory.WriteGeoJSON(rw, nodes)
}
