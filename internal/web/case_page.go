package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
)

// The case page: what was reported, where it stands (state, light,
// deadline), the whole timeline, and one small form for each step the
// viewer may take now. Every form carries the case's version, so a form
// left open while someone else moved the case is refused rather than acting
// on facts that changed.

// primaryActions move a case forward through the workflow; the page shows
// their forms first and open. The other steps wait under "more".
var primaryActions = []cases.Action{
	cases.Verify, cases.Accept, cases.Register, cases.Dispatch, cases.Sign, cases.Handle,
	cases.Check, cases.Close, cases.Rate, cases.ApproveExtension, cases.Resume,
}

// dangerActions end or undo work; their buttons look like it.
var dangerActions = []cases.Action{cases.Reject, cases.Cancel, cases.Return, cases.Rework, cases.Merge, cases.Suspend}

// actionForm is one step's form on the case page.
type actionForm struct {
	Action       cases.Action
	NoteRequired bool
	Target       bool // a department select (dispatch, transfer, assist)
	Departments  []department
	Selected     string // the department offered first
	Rating       bool
	Limit        bool
	Urgency      bool
	Urgencies    []catalog.Urgency
	Photos       bool
	Merge        bool
	Danger       bool
	Primary      bool
	// Values and Errors are those of a refused submission of this form.
	Values map[string]string
	Errors map[string]string
}

// eventRow is a timeline entry as the page shows it.
type eventRow struct {
	At      string
	Action  string
	Actor   string
	To      cases.State
	Note    string
	Details []string
	Photos  []int64
}

// answerRow is an answer to one of the category's questions.
type answerRow struct {
	Label  string
	Values []string
}

// caseData is the case page.
type caseData struct {
	Case        cases.Case
	Category    string
	Light       calendar.Light
	Due         string
	Place       string
	Assignee    string
	Assists     []string
	Extension   string
	Photos      []int64
	Answers     []answerRow
	Contact     cases.Contact
	Staff       bool
	Reporter    bool
	Events      []eventRow
	Primary     []actionForm
	More        []actionForm
	Version     int
	FailedOpen  bool // a refused form under "more" keeps the list open
	RatingValue []cases.Rating
}

// casePage handles GET /cases/{id}.
func (w *Web) casePage(rw http.ResponseWriter, r *http.Request) error {
	return w.showCase(rw, r, http.StatusOK, "", form{})
}

// showCase renders the case page; failed and f carry a refused step's form
// back to it.
func (w *Web) showCase(rw http.ResponseWriter, r *http.Request, status int, failed cases.Action, f form) error {
	const op = "web.casePage"
	_, det, err := w.caseOf(r, op)
	if err != nil {
		return err
	}
	id, actor := det.Case.ID, auth.ActorFrom(r.Context())
	back := "/cases/" + strconv.FormatInt(id, 10)
	p := w.newPage(r, caseNav(actor), back)
	if status == http.StatusOK {
		if a := cases.Action(r.URL.Query().Get("ok")); slices.Contains(cases.Actions, a) {
			p.Notice = p.T("cases.page.notice.done", p.ActionName(string(a)))
		}
	}
	p.Form = form{Message: f.Message}
	depts, err := w.departments(r.Context(), p.Lang)
	if err != nil {
		return err
	}
	d, err := w.caseView(r, p, det, depts)
	if err != nil {
		return err
	}
	for _, a := range det.Allowed {
		af := actionFormFor(det, a, depts)
		if a == failed {
			af.Values, af.Errors = f.Values, f.Errors
			d.FailedOpen = !af.Primary
		}
		if af.Primary {
			d.Primary = append(d.Primary, af)
		} else {
			d.More = append(d.More, af)
		}
	}
	p.Data = d
	return w.render(rw, status, "case", p)
}

// caseNav is the navigation entry the case pages belong to.
func caseNav(a auth.Actor) string {
	if a.Role == auth.Resident {
		return "mine"
	}
	return "work"
}

// caseView prepares what the page shows of a case.
func (w *Web) caseView(r *http.Request, p *page, det cases.Detail, depts []department) (caseData, error) {
	c := det.Case
	staff := p.Actor.Role.Staff()
	d := caseData{Case: c, Category: det.Category.Name.In(p.Lang), Light: det.Light, Staff: staff,
		Reporter: c.ReporterID == p.Actor.UserID, Contact: det.Contact, Version: c.Version, Due: p.stageDue(c.State, c.StageDueAt),
		RatingValue: []cases.Rating{cases.Satisfied, cases.BasicallySatisfied, cases.Unsatisfied}}
	if d.Category == "" {
		d.Category = c.Category
	}
	if staff && c.GridCode != "" {
		places, err := w.placeNames(r.Context(), p.Actor, p.Lang)
		if err != nil {
			return d, err
		}
		d.Place = p.PlaceName(places, c.GridCode)
	}
	switch c.AssigneeKind {
	case cases.ToDepartment:
		d.Assignee = departmentName(depts, c.Assignee)
	case cases.ToUser:
		d.Assignee = p.T("cases.page.assignee.person")
	}
	for _, a := range c.Assists {
		d.Assists = append(d.Assists, departmentName(depts, a))
	}
	if c.ExtensionPending != "" {
		d.Extension = limitName(p, c.ExtensionPending)
	}
	d.Answers = answerRows(p, det.Category, c.Answers)
	for _, e := range det.Events {
		if e.Action == "report" && d.Photos == nil {
			// The report's photos head the page; the timeline does not
			// repeat them.
			d.Photos = e.Attachments
			e.Attachments = nil
		}
		d.Events = append(d.Events, eventRowOf(p, e, depts, det.Category))
	}
	return d, nil
}

// eventRowOf describes a timeline entry in the page's language.
func eventRowOf(p *page, e cases.Event, depts []department, cat catalog.Category) eventRow {
	row := eventRow{At: p.When(e.At), Action: p.ActionName(e.Action), To: e.To, Note: e.Note, Photos: e.Attachments}
	switch {
	case e.ActorID != 0 && e.ActorID == p.Actor.UserID:
		row.Actor = p.T("cases.page.you")
	case e.ActorName != "":
		row.Actor = e.ActorName + " · " + p.RoleName(e.ActorRole)
	case e.ActorRole != "":
		// Residents see which office acted, not who.
		row.Actor = p.RoleName(e.ActorRole)
	default:
		row.Actor = p.T("cases.page.system")
	}
	for _, k := range []string{"channel", "target", "category", "rating", "limit", "level", "into", "from", "self_handled"} {
		v, ok := e.Detail[k]
		if !ok {
			continue
		}
		s := detailText(p, k, v, depts, cat)
		if s != "" {
			row.Details = append(row.Details, s)
		}
	}
	return row
}

// detailText says one fact of a timeline entry's detail in words.
func detailText(p *page, key string, v any, depts []department, cat catalog.Category) string {
	str, _ := v.(string)
	switch key {
	case "channel":
		return p.T("cases.page.event.channel", p.ChannelName(cases.Channel(str)))
	case "target":
		kind, code, _ := strings.Cut(str, ":")
		if kind == cases.ToDepartment {
			return p.T("cases.page.event.target", departmentName(depts, code))
		}
		return p.T("cases.page.event.target", p.T("cases.page.assignee.person"))
	case "category":
		if str == cat.Ref() {
			return p.T("cases.page.event.category", cat.Name.In(p.Lang))
		}
		return p.T("cases.page.event.category", str)
	case "rating":
		if n, ok := v.(float64); ok {
			return p.RatingName(cases.Rating(n))
		}
	case "limit":
		if m, ok := v.(map[string]any); ok {
			amount, _ := m["amount"].(float64)
			unit, _ := m["unit"].(string)
			return p.T("cases.page.event.limit", limitName(p, strconv.Itoa(int(amount))+" "+unit))
		}
	case "level":
		return p.T("cases.page.event.level", p.T("cases.page.level."+str))
	case "into":
		return p.T("cases.page.event.into", str)
	case "from":
		return p.T("cases.page.event.from", str)
	case "self_handled":
		if b, _ := v.(bool); b {
			return p.T("cases.page.event.self_handled")
		}
	}
	return ""
}

// limitName says a time limit ("3 days", as the service writes a pending
// extension) in words.
func limitName(p *page, s string) string {
	a, u, _ := strings.Cut(s, " ")
	n, err := strconv.Atoi(a)
	if err != nil || (u != string(calendar.Hours) && u != string(calendar.Days)) {
		return s
	}
	return p.T("cases.page.limit."+u, n)
}

// answerRows lists the answers in the order the category asks its
// questions, list keys by their names and datetimes in Beijing time.
func answerRows(p *page, cat catalog.Category, answers map[string][]string) []answerRow {
	var out []answerRow
	for _, a := range cat.Attributes {
		vals := answers[a.Code]
		if len(vals) == 0 {
			continue
		}
		row := answerRow{Label: a.Description.In(p.Lang)}
		for _, v := range vals {
			switch {
			case a.Datatype.List():
				if i := slices.IndexFunc(a.Values, func(x catalog.Value) bool { return x.Key == v }); i >= 0 {
					v = a.Values[i].Name.In(p.Lang)
				}
			case a.Datatype == catalog.Datetime:
				if t, err := time.Parse(time.RFC3339, v); err == nil {
					v = p.When(t)
				}
			}
			row.Values = append(row.Values, v)
		}
		out = append(out, row)
	}
	return out
}

// actionFormFor prepares the form of one allowed step.
func actionFormFor(det cases.Detail, a cases.Action, depts []department) actionForm {
	c := det.Case
	f := actionForm{Action: a, NoteRequired: cases.NeedsNote(a), Primary: slices.Contains(primaryActions, a),
		Danger: slices.Contains(dangerActions, a)}
	switch a {
	case cases.Dispatch, cases.Transfer, cases.Assist:
		f.Target = true
		for _, d := range depts {
			// The department that has the case is no target of a
			// transfer or an assist.
			if a != cases.Dispatch && c.AssigneeKind == cases.ToDepartment && c.Assignee == d.Code {
				continue
			}
			f.Departments = append(f.Departments, d)
		}
		if a == cases.Dispatch {
			f.Selected = det.Category.Department
		}
	case cases.Rate:
		f.Rating = true
	case cases.RequestExtension:
		f.Limit = true
	case cases.Register:
		f.Urgency = true
		f.Urgencies = []catalog.Urgency{catalog.Normal, catalog.Pressing, catalog.Urgent}
		f.Selected = string(c.Urgency)
	case cases.Handle:
		f.Photos = true
	case cases.Merge:
		f.Merge = true
	}
	return f
}

// actForm is an action's form with the page, for the "actform" partial.
type actForm struct {
	P    *page
	F    actionForm
	Case cases.Case
}

// ActForm pairs an action's form with the page and the case.
func (p *page) ActForm(f actionForm) actForm {
	return actForm{P: p, F: f, Case: p.Data.(caseData).Case}
}

// Value is the refused submission's value of a field of this form.
func (f actForm) Value(name string) string { return f.F.Values[name] }

// Error is the problem with a field of this form.
func (f actForm) Error(name string) string { return f.F.Errors[name] }

// ID is a page-unique id for a field of this form.
func (f actForm) ID(name string) string { return "act-" + string(f.F.Action) + "-" + name }

// caseOf reads the case named by the path's {id} for the signed-in actor,
// with the service that holds it.
func (w *Web) caseOf(r *http.Request, op string) (*cases.Service, cases.Detail, error) {
	svc, err := w.caseService(op)
	if err != nil {
		return nil, cases.Detail{}, err
	}
	id, err := caseID(r, op, "id")
	if err != nil {
		return nil, cases.Detail{}, err
	}
	det, err := svc.Get(r.Context(), auth.ActorFrom(r.Context()), id)
	return svc, det, err
}

// casePhoto handles GET /cases/{id}/photos/{photo}[/thumb]: a photo of a
// step the viewer may see. Photos of steps that are not public never reach
// residents, even by a guessed id.
func (w *Web) casePhoto(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.casePhoto"
	photo, err := caseID(r, op, "photo")
	if err != nil {
		return err
	}
	svc, det, err := w.caseOf(r, op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	if !slices.ContainsFunc(det.Events, func(e cases.Event) bool { return slices.Contains(e.Attachments, photo) }) {
		return errs.E(errs.NotFound, op, "error.not_found")
	}
	ct, data, err := svc.Photo(r.Context(), actor, photo, strings.HasSuffix(r.URL.Path, "/thumb"))
	if err != nil {
		return err
	}
	h := rw.Header()
	// A photo never changes under its id, but it is personal: only the
	// viewer's own browser may keep it.
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", "inline")
	rw.WriteHeader(http.StatusOK)
	_, _ = rw.Write(data)
	return nil
}
