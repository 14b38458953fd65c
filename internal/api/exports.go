package api

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/httpx"
)

// registerExports adds bulk exports of cases: ask for one, follow it,
// download it once ready.
func (a *API) registerExports(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/exports", a.handle(a.createExport, "read"))
	mux.Handle("GET /api/v1/exports", a.handle(a.listExports, "read"))
	mux.Handle("GET /api/v1/exports/{id}", a.handle(a.getExport, "read"))
	mux.Handle("GET /api/v1/exports/{id}/download", a.handle(a.downloadExport, "read"))
}

// exportView is an export as the API shows it: the job, its error in the
// client's language, and where to download it once ready.
type exportView struct {
	export.Job
	Error       string `json:"error,omitempty"`
	DownloadURL string `json:"download_url,omitempty"`
}

func (a *API) viewExport(r *http.Request, j export.Job) exportView {
	v := exportView{Job: j}
	if j.Error != "" {
		v.Error = a.d.I18n.T(httpx.Lang(r, a.d.I18n.Match), j.Error)
	}
	if j.State == export.Ready {
		v.DownloadURL = "/api/v1/exports/" + strconv.FormatInt(j.ID, 10) + "/download"
	}
	return v
}

func (a *API) exportsReady() error {
	if a.d.Exports == nil {
		return errs.E(errs.Unavailable, "api.exports", "error.unavailable")
	}
	return nil
}

// createExport takes {"format", the filters, "masked", "reason"} and answers
// 202 with the job: ready already when it was small, else queued.
func (a *API) createExport(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.exportsReady(); err != nil {
		return err
	}
	var in export.Request
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	in.Lang = httpx.Lang(r, a.d.I18n.Match)
	j, err := a.d.Exports.Create(r.Context(), actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/exports/"+strconv.FormatInt(j.ID, 10))
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusAccepted, a.viewExport(r, j))
	return nil
}

// listExports lists the caller's exports, newest first; `after` is the
// next_cursor of the page before.
func (a *API) listExports(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.exportsReady(); err != nil {
		return err
	}
	after, limit, err := pageParams(r, "after")
	if err != nil {
		return err
	}
	js, err := a.d.Exports.List(r.Context(), actor, after, limit)
	if err != nil {
		return err
	}
	p := Page[exportView]{Items: make([]exportView, 0, len(js))}
	for _, j := range js {
		p.Items = append(p.Items, a.viewExport(r, j))
	}
	if len(js) == limit {
		p.NextCursor = strconv.FormatInt(js[len(js)-1].ID, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) getExport(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.exportsReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, err := a.d.Exports.Get(r.Context(), actor, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, a.viewExport(r, j))
	return nil
}

// downloadExport streams a ready export's file; the service has written
// the download to the audit log before the first byte. Range requests are
// served (see export.Serve), so an interrupted download of a large file can
// resume (each one is audited).
func (a *API) downloadExport(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.exportsReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, f, err := a.d.Exports.Open(r.Context(), actor, id)
	if err != nil {
		return err
	}
	defer f.Close()
	export.Serve(w, r, j, f)
	return nil
}
