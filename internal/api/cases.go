package api

import (
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/outbox"
)

// CasesPrefix is where case requests may carry photos, so their bodies may be
// as large as an upload.
const CasesPrefix = "/api/v1/cases"

// registerCases adds case handling: intake, the workflow's actions, queues,
// figures, and the data they stand on (categories, departments, calendar),
// plus the caller's in-app messages.
func (a *API) registerCases(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/cases", a.handle(a.reportCase, "write"))
	mux.Handle("GET /api/v1/cases", a.handle(a.listCases, "read"))
	mux.Handle("GET /api/v1/cases/similar", a.handle(a.similarCases, "read"))
	mux.Handle("POST /api/v1/cases/bulk/{action}", a.handle(a.bulkAct, "write"))
	mux.Handle("GET /api/v1/cases/{id}", a.handle(a.getCase, "read"))
	mux.Handle("POST /api/v1/cases/{id}/actions/{action}", a.handle(a.actOnCase, "write"))
	mux.Handle("GET /api/v1/cases/{id}/photos/{photo}", a.handle(a.casePhoto, "read"))
	mux.Handle("GET /api/v1/queues", a.handle(a.queueCounts, "read"))
	mux.Handle("GET /api/v1/stats/cases", a.handle(a.caseFigures, "read"))
	mux.Handle("GET /api/v1/categories", a.handle(a.listCategories, "read"))
	mux.Handle("GET /api/v1/categories/{ref}", a.handle(a.getCategory, "read"))
	mux.Handle("GET /api/v1/departments", a.handle(a.listDepartments, "read"))
	mux.Handle("GET /api/v1/calendar/{district}/{year}", a.handle(a.calendarDays, "read"))
	mux.Handle("POST /api/v1/calendar/{district}/{year}", a.handle(a.calendarImport, "write"))
	mux.Handle("GET /api/v1/inbox", a.handle(a.inbox, "read"))
	mux.Handle("POST /api/v1/inbox/read", a.handle(a.markRead, "write"))
}

// casesReady answers 503 on an installation built without case handling
// (tests of other faces).
func (a *API) casesReady() error {
	if a.d.Cases == nil {
		return errs.E(errs.Unavailable, "api.cases", "error.unavailable")
	}
	return nil
}

// reportCase takes a report as JSON, or as a multipart form whose "case"
// part is the JSON and whose "photo" parts are images.
func (a *API) reportCase(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	var in cases.NewCase
	files, err := decodeWithPhotos(r, &in)
	if err != nil {
		return err
	}
	defer closeAll(files)
	in.Photos = files
	if in.Channel == "" {
		in.Channel = cases.API
	}
	res, err := a.d.Cases.Report(r.Context(), actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/cases/"+strconv.FormatInt(res.Case.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, res)
	return nil
}

// decodeWithPhotos reads a JSON body, or a multipart form with the JSON in
// its "case" part and images in "photo" parts.
func decodeWithPhotos(r *http.Request, v any) ([]cases.Upload, error) {
	const op = "api.decodeWithPhotos"
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		return nil, httpx.DecodeJSON(r, v)
	}
	if err := r.ParseMultipartForm(8 << 20); err != nil {
		return nil, errs.Fields(op, map[string]string{"body": "error.form.invalid"})
	}
	data := r.FormValue("case")
	if data == "" {
		return nil, errs.Fields(op, map[string]string{"case": "error.field.required"})
	}
	jr := r.Clone(r.Context())
	jr.Body = io.NopCloser(strings.NewReader(data))
	jr.Header = http.Header{"Content-Type": {"application/json"}}
	jr.ContentLength = int64(len(data))
	if err := httpx.DecodeJSON(jr, v); err != nil {
		return nil, err
	}
	var out []cases.Upload
	for _, fh := range r.MultipartForm.File["photo"] {
		f, err := fh.Open()
		if err != nil {
			closeAll(out)
			return nil, errs.Fields(op, map[string]string{"photo": "media.error.corrupt"})
		}
		out = append(out, cases.Upload{Name: fh.Filename, R: f})
	}
	return out, nil
}

func closeAll(us []cases.Upload) {
	for _, u := range us {
		if c, ok := u.R.(multipart.File); ok {
			c.Close()
		}
	}
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := a.d.Cases.Get(r.Context(), actor, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) actOnCase(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in cases.Input
	files, err := decodeWithPhotos(r, &in)
	if err != nil {
		return err
	}
	defer closeAll(files)
	in.Photos = files
	c, err := a.d.Cases.Act(r.Context(), actor, id, cases.Action(r.PathValue("action")), in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, c)
	return nil
}

// bulkResult is the outcome of a bulk action on one case.
type bulkResult struct {
	ID    int64          `json:"id"`
	OK    bool           `json:"ok"`
	Error *httpx.Problem `json:"error,omitempty"`
}

func (a *API) bulkAct(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	var in struct {
		IDs []int64 `json:"ids"`
		cases.Input
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := a.d.Cases.ActMany(r.Context(), actor, in.IDs, cases.Action(r.PathValue("action")), in.Input)
	if err != nil {
		return err
	}
	out := make([]bulkResult, len(res))
	lang := httpx.Lang(r, a.d.I18n.Match)
	for i, x := range res {
		out[i] = bulkResult{ID: x.ID, OK: x.Error == nil}
		if x.Error != nil {
			p := httpx.Translate(a.d.I18n, lang, httpx.RequestID(r.Context()), x.Error)
			out[i].Error = &p
		}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"results": out})
	return nil
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	q := r.URL.Query()
	f := cases.Filter{Queue: cases.Queue(q.Get("queue")), Category: q.Get("category"), Grid: q.Get("grid"),
		State: cases.State(q.Get("state")), Channel: cases.Channel(q.Get("channel")), Sort: q.Get("sort"), After: q.Get("cursor")}
	bad := map[string]string{}
	switch q.Get("overdue") {
	case "", "false", "0":
	case "true", "1":
		f.Overdue = true
	default:
		bad["overdue"] = "error.field.boolean"
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			bad["limit"] = "error.field.limit"
		}
		f.Limit = n
	}
	if len(bad) > 0 {
		return errs.Fields("api.listCases", bad)
	}
	p, err := a.d.Cases.List(r.Context(), actor, f)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	if q.Get("format") == "geojson" {
		httpx.WriteJSON(w, http.StatusOK, casesGeoJSON(p))
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, Page[cases.Item]{Items: p.Items, NextCursor: p.Next})
	return nil
}

// casesGeoJSON is a queue page as points for a map of open cases.
func casesGeoJSON(p cases.Page) map[string]any {
	features := make([]map[string]any, 0, len(p.Items))
	for _, it := range p.Items {
		features = append(features, map[string]any{
			"type":     "Feature",
			"geometry": map[string]any{"type": "Point", "coordinates": []float64{it.Lng, it.Lat}},
			"properties": map[string]any{"id": it.ID, "number": it.Number, "state": it.State, "light": it.Light,
				"category": it.Category, "overdue": it.Overdue},
		})
	}
	out := map[string]any{"type": "FeatureCollection", "features": features}
	if p.Next != "" {
		out["next_cursor"] = p.Next
	}
	return out
}

func (a *API) similarCases(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	q := r.URL.Query()
	bad := map[string]string{}
	num := func(name string) float64 {
		v, err := strconv.ParseFloat(q.Get(name), 64)
		if err != nil {
			bad[name] = "error.field.number"
		}
		return v
	}
	d := cases.Draft{Category: q.Get("category"), Lng: num("lng"), Lat: num("lat"), Description: q.Get("text")}
	if len(bad) > 0 {
		return errs.Fields("api.similarCases", bad)
	}
	out, err := a.d.Cases.Similar(r.Context(), actor, d)
	if err != nil {
		return err
	}
	if out == nil {
		out = []cases.Candidate{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

func (a *API) casePhoto(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	pid, err := strconv.ParseInt(r.PathValue("photo"), 10, 64)
	if err != nil || pid < 1 {
		return errs.E(errs.NotFound, "api.casePhoto", "error.not_found")
	}
	ct, data, err := a.d.Cases.Photo(r.Context(), actor, pid, r.URL.Query().Get("size") == "thumb")
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, err = w.Write(data)
	return err
}

func (a *API) queueCounts(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	n, err := a.d.Cases.Counts(r.Context(), actor)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"queues": n})
	return nil
}

func (a *API) caseFigures(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	q := r.URL.Query()
	bad := map[string]string{}
	day := func(name string) time.Time {
		t, err := time.ParseInLocation("2006-01-02", q.Get(name), calendar.Location())
		if err != nil {
			bad[name] = "error.field.date"
		}
		return t
	}
	fq := cases.FiguresQuery{Territory: q.Get("territory"), Department: q.Get("department"), From: day("from"), To: day("to")}
	if len(bad) > 0 {
		return errs.Fields("api.caseFigures", bad)
	}
	fq.To = fq.To.AddDate(0, 0, 1) // "to" is the last day counted
	f, err := a.d.Cases.Figures(r.Context(), actor, fq)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, f)
	return nil
}

func (a *API) listCategories(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	q := r.URL.Query()
	cs, err := a.d.Catalog.Categories(r.Context(), catalog.Filter{Kind: catalog.Kind(q.Get("kind")), Group: q.Get("group"),
		PublicOnly: !actor.Role.Staff(), ActiveOnly: q.Get("all") != "true", Query: q.Get("q"), Lang: httpx.Lang(r, a.d.I18n.Match)})
	if err != nil {
		return err
	}
	out := make([]categoryView, len(cs))
	for i, c := range cs {
		out[i] = viewCategory(c)
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}

// categoryView is a category as clients see it, keyed by its ref.
type categoryView struct {
	Ref string `json:"ref"`
	catalog.Category
}

func viewCategory(c catalog.Category) categoryView { return categoryView{Ref: c.Ref(), Category: c} }

func (a *API) getCategory(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	c, err := a.d.Catalog.ByRef(r.Context(), r.PathValue("ref"))
	if err != nil || (!c.Public && !actor.Role.Staff()) {
		return errs.E(errs.NotFound, "api.getCategory", "error.not_found")
	}
	httpx.WriteJSON(w, http.StatusOK, viewCategory(c))
	return nil
}

func (a *API) listDepartments(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	ds, err := a.d.Catalog.Departments(r.Context())
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"items": ds})
	return nil
}

func (a *API) calendarDays(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return errs.Fields("api.calendarDays", map[string]string{"year": "error.field.number"})
	}
	district := r.PathValue("district")
	if district == "default" {
		district = ""
	}
	format := r.URL.Query().Get("format")
	if format == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return a.d.Calendar.Export(r.Context(), actor, district, year, w, "csv")
	}
	days, err := a.d.Calendar.Days(r.Context(), actor, district, year)
	if err != nil {
		return err
	}
	if days == nil {
		days = []calendar.Day{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"year": year, "days": days})
	return nil
}

// calendarImport replaces a district's holidays and make-up working days of
// a year with the body: CSV (text/csv) or JSON.
func (a *API) calendarImport(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return errs.Fields("api.calendarImport", map[string]string{"year": "error.field.number"})
	}
	district := r.PathValue("district")
	if district == "default" {
		district = ""
	}
	format := "json"
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		format = "csv"
	}
	res, err := a.d.Calendar.Import(r.Context(), actor, district, year, r.Body, format)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

func (a *API) inbox(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if a.d.Outbox == nil {
		return errs.E(errs.Unavailable, "api.inbox", "error.unavailable")
	}
	before, limit, err := pageParams(r, "cursor")
	if err != nil {
		return err
	}
	msgs, err := a.d.Outbox.Inbox(r.Context(), actor.UserID, outbox.InboxFilter{UnreadOnly: r.URL.Query().Get("unread") == "true", Before: before, Limit: limit})
	if err != nil {
		return err
	}
	p := Page[outbox.InboxMessage]{Items: msgs}
	if p.Items == nil {
		p.Items = []outbox.InboxMessage{}
	}
	if len(msgs) == limit {
		p.NextCursor = strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) markRead(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if a.d.Outbox == nil {
		return errs.E(errs.Unavailable, "api.markRead", "error.unavailable")
	}
	var in struct {
		IDs []int64 `json:"ids"`
		All bool    `json:"all"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	var err error
	if in.All {
		err = a.d.Outbox.MarkAllRead(r.Context(), actor.UserID)
	} else {
		err = a.d.Outbox.MarkRead(r.Context(), actor.UserID, in.IDs...)
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// CategoriesImportPath takes a whole catalogue file, as large as an upload.
const CategoriesImportPath = "/api/v1/categories/import"

// registerCatalog adds the editing of categories and departments: the
// catalogue is data an administrator keeps, not code.
func (a *API) registerCatalog(mux *http.ServeMux) {
	mux.Handle("PUT /api/v1/categories/{ref}", a.handle(a.saveCategory, "write"))
	mux.Handle("POST "+CategoriesImportPath, a.handle(a.importCategories, "write"))
	mux.Handle("GET /api/v1/categories/export", a.handle(a.exportCategories, "read"))
	mux.Handle("PUT /api/v1/departments/{code}", a.handle(a.saveDepartment, "write"))
	mux.Handle("PUT /api/v1/departments/{code}/members/{user}", a.handle(a.departmentMember(true), "write"))
	mux.Handle("DELETE /api/v1/departments/{code}/members/{user}", a.handle(a.departmentMember(false), "write"))
}

// saveCategory creates or replaces the category named by the path.
func (a *API) saveCategory(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	kind, code, ok := catalog.ParseRef(r.PathValue("ref"))
	if !ok {
		return errs.E(errs.NotFound, "api.saveCategory", "error.not_found")
	}
	var c catalog.Category
	if err := httpx.DecodeJSON(r, &c); err != nil {
		return err
	}
	c.Kind, c.Code = kind, code
	if err := a.d.Catalog.Save(r.Context(), actor, c); err != nil {
		return err
	}
	saved, err := a.d.Catalog.Category(r.Context(), kind, code)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, viewCategory(saved))
	return nil
}

// importCategories applies a catalogue file (CSV or XLSX, the national
// catalogue's columns) whole, or lists every bad row.
func (a *API) importCategories(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	n, err := a.d.Catalog.Import(r.Context(), actor, r.Body)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]int{"imported": n})
	return nil
}

func (a *API) exportCategories(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	if !actor.Role.Staff() {
		return errs.E(errs.Forbidden, "api.exportCategories", "error.forbidden")
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="categories.csv"`)
	return a.d.Catalog.Export(r.Context(), w)
}

func (a *API) saveDepartment(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if err := a.casesReady(); err != nil {
		return err
	}
	var d catalog.Department
	if err := httpx.DecodeJSON(r, &d); err != nil {
		return err
	}
	d.Code = r.PathValue("code")
	if err := a.d.Catalog.SaveDepartment(r.Context(), actor, d); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

// departmentMember adds or removes an account (by user name) from a
// department.
func (a *API) departmentMember(add bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
		if err := a.casesReady(); err != nil {
			return err
		}
		// Only those who may manage departments somewhere learn whether an
		// account exists; the catalogue checks the department's own scope.
		if !auth.Can(actor, auth.ManageSettings, actor.Scope) && !auth.Can(actor, auth.ManageTerritory, actor.Scope) {
			return errs.E(errs.Forbidden, "api.departmentMember", "error.forbidden")
		}
		u, err := a.d.Auth.UserByName(r.Context(), auth.SystemActor("api"), r.PathValue("user"))
		if err != nil {
			return errs.E(errs.NotFound, "api.departmentMember", "error.user.not_found")
		}
		if add {
			err = a.d.Catalog.AddMember(r.Context(), actor, r.PathValue("code"), u.ID)
		} else {
			err = a.d.Catalog.RemoveMember(r.Context(), actor, r.PathValue("code"), u.ID)
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
