package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/export"
)

// Case exports on the web: the workbench's export form asks for the queue
// as filtered, /exports lists the account's exports with where each
// stands, and a ready one downloads through the export service, which
// audits every download. Small exports are ready when the form returns;
// larger ones are written in the background, so the list offers a plain
// Refresh link (the CSP forbids inline script, and none is needed).

// exportsPageSize is how many exports one page of /exports shows.
const exportsPageSize = 30

// exportNotices confirm an export request (?ok=…): ready at once, or left
// to the background worker.
var exportNotices = map[string]string{
	"ready":  "exports.notice.ready",
	"queued": "exports.notice.queued",
}

// exportForm is the workbench's export form: the queue's filters, carried
// as hidden fields, and the choices.
type exportForm struct {
	Filter  cases.Filter
	Formats []export.Format
	Format  string
	// CanReveal offers full contact details, with a reason: only to those
	// who may reveal personal data wherever they act, as the service
	// demands. Everyone else exports masked without being asked.
	CanReveal bool
	Unmasked  bool
	// Open unfolds the form: it comes back refused, with its problems.
	Open bool
}

// exportService returns the export service, or Unavailable without it.
func (w *Web) exportService(op string) (*export.Service, error) {
	if w.exports == nil {
		return nil, errs.E(errs.Unavailable, op, "error.unavailable")
	}
	return w.exports, nil
}

// mayRevealEverywhere reports whether the actor holds the reveal
// permission in every scope it acts in, the condition for an unmasked
// export. It only decides what the form offers; the service checks again.
func mayRevealEverywhere(a auth.Actor) bool {
	scopes := a.EffectiveScopes()
	return len(scopes) > 0 && !slices.ContainsFunc(scopes, func(sc string) bool { return !auth.Can(a, auth.RevealPeople, sc) })
}

// workExport is the export form of a workbench page showing f, or nil when
// the actor may not export or the installation runs without exports.
// After a refused export the page's form holds what was chosen.
func (w *Web) workExport(p *page, f cases.Filter) *exportForm {
	if w.exports == nil || !p.Actor.Role.Staff() {
		return nil
	}
	x := &exportForm{Filter: f, Formats: export.Formats, Format: string(export.CSV), CanReveal: mayRevealEverywhere(p.Actor)}
	if v, ok := p.Form.Values["format"]; ok {
		x.Format, x.Unmasked, x.Open = v, p.Form.Values["unmasked"] == "on", true
	}
	return x
}

// exportFilterFields are the workbench's filters as the export form posts
// them (and /work takes them).
var exportFilterFields = []string{"queue", "category", "grid", "state", "overdue", "channel"}

// createExport handles POST /exports: an export of the workbench's queue as
// filtered, in the chosen format, masked unless the form asks otherwise
// with a reason. Done, it goes to /exports; refused for the input, the
// workbench comes back with the problems beside the form.
func (w *Web) createExport(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.createExport"
	svc, err := w.exportService(op)
	if err != nil {
		return err
	}
	pf := r.PostForm
	req := export.Request{Format: export.Format(pf.Get("format")), Lang: w.lang(r),
		Filter: export.Filter{Queue: cases.Queue(pf.Get("queue")), Category: strings.TrimSpace(pf.Get("category")),
			Grid: strings.TrimSpace(pf.Get("grid")), State: cases.State(pf.Get("state")), Overdue: pf.Get("overdue") == "on",
			Channel: cases.Channel(pf.Get("channel"))}}
	if pf.Get("unmasked") == "on" {
		masked := false
		req.Masked, req.Reason = &masked, pf.Get("reason")
	}
	j, err := svc.Create(r.Context(), auth.ActorFrom(r.Context()), req)
	if err != nil {
		fm, status, ok := w.formProblem(rw, r, err, formValues(r, "format", "unmasked", "reason"))
		if !ok {
			return err
		}
		q := url.Values{}
		for _, k := range exportFilterFields {
			if v := pf.Get(k); v != "" {
				q.Set(k, v)
			}
		}
		return w.showWork(rw, r, q, status, fm)
	}
	ok := "queued"
	if j.State == export.Ready {
		ok = "ready"
	}
	return redirect(rw, r, "/exports?ok="+ok)
}

// exportRow is an export as /exports shows it.
type exportRow struct {
	ID       int64
	FileName string
	Format   string
	Filter   string
	State    export.State
	// StateName is the state in words; Badge colours it (on: ready, off:
	// failed), the words saying the same for those who cannot see colour.
	StateName string
	Badge     string
	Rows      int64
	Size      string
	Created   string
	Expires   string
	Masked    bool
	Error     string
	Download  string // the download's URL, once ready
}

// exportsData is one page of /exports.
type exportsData struct {
	Rows []exportRow
	// Refresh is this page's URL while an export on it is still being
	// written.
	Refresh  string
	NextURL  string
	FirstURL string
}

// exportsPage handles GET /exports?before=…: the account's exports, newest
// first.
func (w *Web) exportsPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.exportsPage"
	svc, err := w.exportService(op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	if !actor.Role.Staff() {
		// Only staff export (cases.CheckExport), so only staff have any.
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	before, err := cursor(r.URL.Query().Get("before"))
	if err != nil {
		return err
	}
	jobs, err := svc.List(r.Context(), actor, before, exportsPageSize+1)
	if err != nil {
		return err
	}
	p := w.newPage(r, "exports", "/exports")
	p.Notice = noticeFor(p, exportNotices, r)
	d := exportsData{}
	if len(jobs) > exportsPageSize {
		jobs = jobs[:exportsPageSize]
		d.NextURL = "/exports?before=" + strconv.FormatInt(jobs[len(jobs)-1].ID, 10)
	}
	if before != 0 {
		d.FirstURL = "/exports"
	}
	sum, err := w.filterSummarizer(r, p, actor)
	if err != nil {
		return err
	}
	now := w.clock.Now()
	for _, j := range jobs {
		row := exportRow{ID: j.ID, FileName: j.FileName(), Format: p.T("exports.format." + string(j.Format)), Filter: sum(j.Filter),
			State: j.State, Rows: j.Rows, Size: humanSize(j.Bytes), Created: p.When(j.CreatedAt), Masked: j.Masked}
		if j.State == export.Ready && !j.ExpiresAt.After(now) {
			// Past its expiry but not yet purged: the download would be
			// refused as gone, so it is shown as such.
			row.State = export.Expired
		}
		row.StateName = p.T("exports.state." + string(row.State))
		switch row.State {
		case export.Ready:
			row.Badge = "on"
			row.Expires = p.When(j.ExpiresAt)
			row.Download = "/exports/" + strconv.FormatInt(j.ID, 10) + "/download"
		case export.Queued, export.Running:
			d.Refresh = r.URL.RequestURI()
		case export.Failed:
			row.Badge = "off"
			if j.Error != "" {
				row.Error = p.T(j.Error)
			}
		}
		d.Rows = append(d.Rows, row)
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "exports", p)
}

// filterSummarizer returns a function that says in words what an export
// selected, naming categories and places in the page's language (codes
// where the names cannot be read).
func (w *Web) filterSummarizer(r *http.Request, p *page, actor auth.Actor) (func(export.Filter) string, error) {
	cats := map[string]string{}
	if w.catalog != nil {
		var err error
		if cats, err = w.categoryNames(r.Context(), p.Lang); err != nil {
			return nil, err
		}
	}
	places, _, err := w.casePlaces(r.Context(), actor, p.Lang, auth.ReadCases)
	if err != nil {
		return nil, err
	}
	name := func(names map[string]string, code string) string {
		if n := names[code]; n != "" {
			return n
		}
		return code
	}
	return func(f export.Filter) string {
		q := f.Queue
		if q == "" {
			q = cases.QAll
		}
		parts := []string{string(q)}
		if slices.Contains(cases.Queues, q) {
			parts[0] = p.T("cases.page.queue." + string(q))
		}
		if f.Category != "" {
			parts = append(parts, name(cats, f.Category))
		}
		if f.Grid != "" {
			parts = append(parts, name(places, f.Grid))
		}
		if f.State != "" {
			parts = append(parts, p.StateName(f.State))
		}
		if f.Channel != "" {
			parts = append(parts, p.ChannelName(f.Channel))
		}
		if f.Overdue {
			parts = append(parts, p.T("cases.page.work.overdue"))
		}
		if f.ReportedFrom != "" {
			parts = append(parts, p.T("exports.filter.from", f.ReportedFrom))
		}
		if f.ReportedTo != "" {
			parts = append(parts, p.T("exports.filter.to", f.ReportedTo))
		}
		return strings.Join(parts, " · ")
	}, nil
}

// humanSize is a file size in bytes, KB, MB or GB (units of 1,024), the
// same in every language.
func humanSize(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, unit := float64(n)/1024, "KB"
	for _, u := range []string{"MB", "GB", "TB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + unit
}

// downloadExport handles GET /exports/{id}/download: a ready export's file,
// for its requester (or an administrator over them), through the service,
// which audits the download first. Not ready is a conflict, expired is
// gone, another's is forbidden: each an error page.
func (w *Web) downloadExport(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.downloadExport"
	svc, err := w.exportService(op)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return errs.E(errs.NotFound, op, "export.error.not_found")
	}
	j, f, err := svc.Open(r.Context(), auth.ActorFrom(r.Context()), id)
	if err != nil {
		return err
	}
	defer f.Close()
	export.Serve(rw, r, j, f)
	return nil
}
