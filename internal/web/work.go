package web

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/territory"
)

// The workbench: a tab for each queue the actor works, with how many cases
// wait in it, the queue sorted by deadline with its lights, filters that
// travel as query parameters, and in the dispatch queue a form that sends
// several cases to one department at once.

// workPageSize is how many cases one page of a queue shows.
const workPageSize = 30

// queueTab is one tab of the workbench.
type queueTab struct {
	Queue   cases.Queue
	Count   int
	Counted bool // all and mine are not counted
	Current bool
	URL     string
}

// workData is the workbench.
type workData struct {
	Tabs       []queueTab
	Queue      cases.Queue
	Rows       []caseRow
	Filter     cases.Filter
	Filtered   bool
	NextURL    string
	FirstURL   string
	Groups     []categoryGroup
	Places     []statsPlace
	States     []cases.State
	Channels   []cases.Channel
	Bulk       bool // the dispatch queue's bulk form
	Depts      []department
	CanQuick   bool
	CanFigures bool
	// MapPoints is the API query for this page's cases as GeoJSON points;
	// TileURL the optional tile layer under them.
	MapPoints string
	TileURL   string
	// Export is the form that exports the queue as filtered; nil without
	// the export service.
	Export *exportForm
}

// workNotice confirms a bulk dispatch: ?ok=bulk&n=…&failed=….
func workNotice(p *page, r *http.Request) string {
	q := r.URL.Query()
	if q.Get("ok") != "bulk" {
		return ""
	}
	n, failed := formInt(q.Get("n")), formInt(q.Get("failed"))
	if failed > 0 {
		return p.T("cases.page.work.bulk.partly", n, failed)
	}
	return p.T("cases.page.work.bulk.done", n)
}

// workPage handles GET /work?queue=…&category=…&grid=…&state=…&overdue=on&
// channel=…&after=…: one page of one of the actor's queues.
func (w *Web) workPage(rw http.ResponseWriter, r *http.Request) error {
	return w.showWork(rw, r, r.URL.Query(), http.StatusOK, form{})
}

// showWork draws the workbench for the filters in q with status; fm holds
// the problems of a refused form posted from it (the export form), shown
// beside that form.
func (w *Web) showWork(rw http.ResponseWriter, r *http.Request, q url.Values, status int, fm form) error {
	const op = "web.workPage"
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	queues, err := svc.QueuesFor(r.Context(), actor)
	if err != nil {
		return err
	}
	// Everyone follows their own reports; the workbench is for those who
	// work on others'.
	queues = slices.DeleteFunc(queues, func(q cases.Queue) bool { return q == cases.QMine })
	if len(queues) == 0 {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	f := cases.Filter{Queue: cases.Queue(q.Get("queue")), Category: strings.TrimSpace(q.Get("category")),
		Grid: strings.TrimSpace(q.Get("grid")), State: cases.State(q.Get("state")), Overdue: q.Get("overdue") == "on",
		Channel: cases.Channel(q.Get("channel")), After: q.Get("after"), Limit: workPageSize}
	if f.Queue == "" {
		f.Queue = queues[0]
	}
	if !slices.Contains(queues, f.Queue) {
		return errs.E(errs.NotFound, op, "error.not_found")
	}
	if f.Queue != cases.QAll {
		// Work queues are worked by deadline, nearest first.
		f.Sort = "due"
	}
	p := w.newPage(r, "work", "/work?"+q.Encode())
	p.Notice = workNotice(p, r)
	p.Form = fm
	d := workData{Queue: f.Queue, Filter: f, States: cases.States, Channels: cases.Channels,
		Filtered: f.Category != "" || f.Grid != "" || f.State != "" || f.Overdue || f.Channel != "",
		CanQuick: p.CanQuickReport(), CanFigures: p.CanSeeFigures()}
	counts, err := svc.Counts(r.Context(), actor)
	if err != nil {
		return err
	}
	for _, qu := range queues {
		n, counted := counts[qu]
		d.Tabs = append(d.Tabs, queueTab{Queue: qu, Count: n, Counted: counted, Current: qu == f.Queue,
			URL: "/work?queue=" + url.QueryEscape(string(qu))})
	}
	page, err := svc.List(r.Context(), actor, f)
	if err != nil {
		fm, s, ok := w.formProblem(rw, r, err, nil)
		if !ok {
			return err
		}
		p.Form, status = fm, s
	}
	d.Export = w.workExport(p, f)
	names, err := w.categoryNames(r.Context(), p.Lang)
	if err != nil {
		return err
	}
	// One read of the territory names the rows' places and fills the
	// grid filter.
	placeNames, places, err := w.casePlaces(r.Context(), actor, p.Lang, auth.ReadCases)
	if err != nil {
		return err
	}
	d.Rows = caseRows(p, page.Items, names, placeNames)
	if page.Next != "" {
		next := maps.Clone(q)
		next.Set("queue", string(f.Queue))
		next.Set("after", page.Next)
		d.NextURL = "/work?" + next.Encode()
	}
	if f.After != "" {
		first := maps.Clone(q)
		first.Del("after")
		first.Set("queue", string(f.Queue))
		d.FirstURL = "/work?" + first.Encode()
	}
	if d.Groups, err = w.categoryGroups(r.Context(), catalog.Filter{}, p.Lang); err != nil {
		return err
	}
	d.Places = places
	mq := url.Values{"format": {"geojson"}, "queue": {string(f.Queue)}, "limit": {strconv.Itoa(workPageSize)}}
	for k, v := range map[string]string{"category": f.Category, "grid": f.Grid, "state": string(f.State), "channel": string(f.Channel), "sort": f.Sort, "cursor": f.After} {
		if v != "" {
			mq.Set(k, v)
		}
	}
	if f.Overdue {
		mq.Set("overdue", "true")
	}
	d.MapPoints, d.TileURL = "/api/v1/cases?"+mq.Encode(), w.mapTileURL
	if f.Queue == cases.QDispatch && len(d.Rows) > 0 {
		d.Bulk = true
		if d.Depts, err = w.departments(r.Context(), p.Lang); err != nil {
			return err
		}
	}
	p.Data = d
	return w.render(rw, status, "work", p)
}

// casePlaces reads the territory the actor may see, once for a page: names
// maps each code to its name in lang, for the rows (empty without the
// territory service or for an actor who may not read the territory; the
// rows then show codes), and places lists, from the largest down to the
// grids, those in which the actor may take action, for the grid filter
// (nil for such actors, who type a code instead).
func (w *Web) casePlaces(ctx context.Context, actor auth.Actor, lang string, action auth.Action) (map[string]string, []statsPlace, error) {
	names := map[string]string{}
	if w.territory == nil || !canReadTerritory(actor) {
		return names, nil, nil
	}
	nodes, err := w.territory.Tree(ctx, actor, territory.Grid)
	if err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(nodes, func(a, b territory.Node) int { return strings.Compare(a.Path, b.Path) })
	var places []statsPlace
	for _, n := range nodes {
		name := n.NameZH
		if lang == i18n.English && n.NameEN != "" {
			name = n.NameEN
		}
		names[n.Code] = name
		if auth.Can(actor, action, n.Path) {
			places = append(places, statsPlace{Code: n.Code, Name: name})
		}
	}
	return names, places, nil
}

// bulkDispatch handles POST /work/dispatch: the ticked cases of the
// dispatch queue go to one department, each in its own transaction; the
// workbench then says how many went and how many were refused (a case
// another dispatcher took meanwhile, say).
func (w *Web) bulkDispatch(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.bulkDispatch"
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	ids := ids(r.PostForm["case"])
	res, err := svc.ActMany(r.Context(), auth.ActorFrom(r.Context()), ids, cases.Dispatch,
		cases.Input{Target: strings.TrimSpace(r.PostFormValue("target")), Note: r.PostFormValue("note")})
	if err != nil {
		return err
	}
	done := 0
	for _, x := range res {
		if x.Error == nil {
			done++
		}
	}
	back := url.Values{"queue": {string(cases.QDispatch)}, "ok": {"bulk"}, "n": {strconv.Itoa(done)}, "failed": {strconv.Itoa(len(res) - done)}}
	return redirect(rw, r, "/work?"+back.Encode())
}

// mineData is the list of a reporter's own cases.
type mineData struct {
	Rows     []caseRow
	NextURL  string
	FirstURL string
}

// myCasesPage handles GET /cases/mine?after=…: the cases the actor
// reported or follows, newest first, with a way to rate closed ones.
func (w *Web) myCasesPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.myCasesPage"
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	after := r.URL.Query().Get("after")
	page, err := svc.List(r.Context(), actor, cases.Filter{Queue: cases.QMine, After: after, Limit: workPageSize})
	if err != nil {
		return err
	}
	p := w.newPage(r, "mine", "/cases/mine")
	names, err := w.categoryNames(r.Context(), p.Lang)
	if err != nil {
		return err
	}
	d := mineData{Rows: caseRows(p, page.Items, names, nil)}
	if page.Next != "" {
		d.NextURL = "/cases/mine?after=" + url.QueryEscape(page.Next)
	}
	if after != "" {
		d.FirstURL = "/cases/mine"
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "mine", p)
}
