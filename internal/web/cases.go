package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
)

// This file holds what the case pages share: the service checks, the
// translated names of states, actions and lights, and the short form of a
// case that lists show.

// ReportPrefix and CasesPrefix are the paths under which the case pages
// accept photos, so the app lets their bodies be as large as a file upload:
// a report carries up to six phone photos, and so may a step such as
// handle.
const (
	ReportPrefix = "/report"
	CasesPrefix  = "/cases/"
)

// caseService returns the case service, or Unavailable when this
// installation runs without it.
func (w *Web) caseService(op string) (*cases.Service, error) {
	if w.cases == nil || w.catalog == nil {
		return nil, errs.E(errs.Unavailable, op, "error.unavailable")
	}
	return w.cases, nil
}

// caseID reads the {id} of a case's URL. A malformed id names no case, so
// it is answered like an unknown one.
func caseID(r *http.Request, op, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id < 1 {
		return 0, errs.E(errs.NotFound, op, "case.error.not_found")
	}
	return id, nil
}

// canWork reports whether the actor works on cases at all (has queues
// beyond its own reports). It only decides what the navigation offers; the
// service checks every queue again.
func canWork(a auth.Actor) bool {
	return a.Role.Staff() && (a.Role == auth.DepartmentHandler || canSomewhere(a, auth.ReadCases))
}

// quickChannel is the channel of a staff member's quick report: grid
// workers and community staff report what they find on patrol, the
// street's centre records calls. Other roles do not report; "" says so.
func quickChannel(a auth.Actor) cases.Channel {
	switch a.Role {
	case auth.GridWorker, auth.CommunityStaff:
		return cases.Patrol
	case auth.StreetStaff:
		return cases.Hotline
	}
	return ""
}

// CanWork reports whether the navigation offers the workbench.
func (p *page) CanWork() bool { return p.SignedIn() && canWork(p.Actor) }

// CanQuickReport reports whether the actor files quick reports (/cases/new).
func (p *page) CanQuickReport() bool { return p.SignedIn() && quickChannel(p.Actor) != "" }

// CanReport reports whether the actor reports through the public form: the
// residents, for whom it is the main task.
func (p *page) CanReport() bool { return p.IsResident() }

// CanSeeFigures reports whether the navigation offers the case figures.
func (p *page) CanSeeFigures() bool {
	return p.SignedIn() && (canSomewhere(p.Actor, auth.ReadStats) || canSomewhere(p.Actor, auth.SuperviseCases) ||
		p.Actor.Role == auth.DepartmentHandler)
}

// StateName is the translated name of a case's state.
func (p *page) StateName(s cases.State) string { return p.T("case.state." + string(s)) }

// ActionName is the translated name of a step on a case, as a label: the
// English catalogue writes actions in lower case for use inside sentences.
func (p *page) ActionName(a string) string { return capitalize(p.T("case.action." + a)) }

// ChannelName is the translated name of a report channel.
func (p *page) ChannelName(c cases.Channel) string { return p.T("cases.page.channel." + string(c)) }

// UrgencyName is the translated name of an urgency.
func (p *page) UrgencyName(u catalog.Urgency) string { return p.T("cases.page.urgency." + string(u)) }

// RatingName is the translated name of a rating.
func (p *page) RatingName(r cases.Rating) string {
	return p.T("cases.page.rating." + strconv.Itoa(int(r)))
}

// LightName says in words what a warning light means, so the badge does
// not rely on its colour.
func (p *page) LightName(l calendar.Light) string { return p.T("cases.page.light." + string(l)) }

// When is an instant as the case pages show it: Beijing time to the minute.
func (p *page) When(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(beijing).Format("2006-01-02 15:04")
}

// stageDue is a case's stage deadline as the pages show it, "" while no
// clock runs: in a final state or suspended.
func (p *page) stageDue(s cases.State, due time.Time) string {
	if s.Final() || s == cases.Suspended {
		return ""
	}
	return p.When(due)
}

// capitalize upper-cases the first letter; Chinese text is unchanged.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError || !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// caseRow is a case as lists show it.
type caseRow struct {
	ID       int64
	Number   string
	Category string
	State    cases.State
	Light    calendar.Light
	Due      string // stage deadline, "" when no clock runs
	Overdue  bool
	Address  string
	Place    string
	Created  string
	// CanRate is set on a reporter's closed, unrated case.
	CanRate bool
}

// caseRows turns a page of a queue into rows, naming categories and places
// in lang. names maps category refs to names (see categoryNames).
func caseRows(p *page, items []cases.Item, names map[string]string, places map[string]string) []caseRow {
	out := make([]caseRow, 0, len(items))
	for _, it := range items {
		row := caseRow{ID: it.ID, Number: it.Number, Category: names[it.Category], State: it.State, Light: it.Light,
			Overdue: it.Overdue || it.Light == calendar.Red, Address: it.Address, Created: p.When(it.CreatedAt),
			Due:     p.stageDue(it.State, it.StageDueAt),
			CanRate: it.State == cases.Closed && it.Rating == cases.Unrated && it.ReporterID == p.Actor.UserID}
		if row.Category == "" {
			row.Category = it.Category
		}
		if it.GridCode != "" {
			row.Place = p.PlaceName(places, it.GridCode)
		}
		out = append(out, row)
	}
	return out
}

// categoryNames names every category by its ref in lang: lists show
// many cases, and the catalogue is held in memory, so one call serves them
// all.
func (w *Web) categoryNames(ctx context.Context, lang string) (map[string]string, error) {
	cats, err := w.catalog.Categories(ctx, catalog.Filter{})
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(cats))
	for _, c := range cats {
		out[c.Ref()] = c.Name.In(lang)
	}
	return out, nil
}

// department is a department as a select offers it.
type department struct {
	Code, Name string
}

// departments lists the active departments with names in lang.
func (w *Web) departments(ctx context.Context, lang string) ([]department, error) {
	ds, err := w.catalog.Departments(ctx)
	if err != nil {
		return nil, err
	}
	var out []department
	for _, d := range ds {
		if d.Active {
			out = append(out, department{Code: d.Code, Name: d.Name.In(lang)})
		}
	}
	return out, nil
}

// departmentName names a department by code from ds, else the code.
func departmentName(ds []department, code string) string {
	if i := slices.IndexFunc(ds, func(d department) bool { return d.Code == code }); i >= 0 {
		return ds[i].Name
	}
	return code
}

// categoryGroup is a major class of the catalogue with its categories, as
// the report form's first step and the filters offer them.
type categoryGroup struct {
	Key        string // kind and code, unique across kinds
	Name       string
	Categories []categoryChoice
}

// categoryChoice is one category to pick.
type categoryChoice struct {
	Ref, Name string
}

// categoryGroups groups the categories f selects by major class, local
// community matters first (they are what residents report most), then the
// national matters, then the components.
func (w *Web) categoryGroups(ctx context.Context, f catalog.Filter, lang string) ([]categoryGroup, error) {
	cats, err := w.catalog.Categories(ctx, f)
	if err != nil {
		return nil, err
	}
	rank := func(c catalog.Category) int {
		switch {
		case c.Local():
			return 0
		case c.Kind == catalog.Matter:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(cats, func(a, b catalog.Category) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Code, b.Code)
	})
	var out []categoryGroup
	for _, c := range cats {
		key := string(c.Kind) + c.Group
		if len(out) == 0 || out[len(out)-1].Key != key {
			name := c.GroupName.In(lang)
			if c.Kind == catalog.Component && !strings.Contains(strings.ToLower(name), "component") && !strings.Contains(name, "部件") {
				// Components and matters share class names: 市政公用设施
				// is a class of both.
				name = w.i18n.T(lang, "cases.page.group.component", name)
			}
			out = append(out, categoryGroup{Key: key, Name: name})
		}
		g := &out[len(out)-1]
		g.Categories = append(g.Categories, categoryChoice{Ref: c.Ref(), Name: c.Name.In(lang)})
	}
	return out, nil
}

// CountText is a count as a badge shows it: "99+" from cases.CountCap on,
// where the service stops counting a queue.
func (p *page) CountText(n int) string {
	if n >= cases.CountCap {
		return strconv.Itoa(cases.CountCap-1) + "+"
	}
	return strconv.Itoa(n)
}

// UnreadText is the unread count of the header's inbox link.
func (p *page) UnreadText() string { return p.CountText(p.Unread) }

// caseList is a list of cases for the "caselist" partial; Select adds a
// checkbox to each, for a bulk form around the list.
type caseList struct {
	P      *page
	Rows   []caseRow
	Select bool
}

// CaseList prepares rows for the "caselist" partial.
func (p *page) CaseList(rows []caseRow, sel bool) caseList {
	return caseList{P: p, Rows: rows, Select: sel}
}

// thumbs are a case's photos for the "thumbs" partial.
type thumbs struct {
	Case int64
	IDs  []int64
	Alt  string
}

// Thumbs prepares photos of case id for the "thumbs" partial.
func (p *page) Thumbs(id int64, photos []int64) thumbs {
	return thumbs{Case: id, IDs: photos, Alt: p.T("cases.page.photo")}
}

// PhotoField describes an optional photo input named name, with the
// problem of a refused submission.
func (p *page) PhotoField(name, label, hint string) field {
	return field{ID: "f-" + name, Name: name, Type: "file", Label: label, Hint: hint, Error: p.Form.Errors[name],
		OptionalText: p.T("form.optional")}
}

// questionView is a question with the page, for the "question" partial.
type questionView struct {
	P *page
	Q question
}

// Question pairs a question with the page.
func (p *page) Question(q question) questionView { return questionView{P: p, Q: q} }
