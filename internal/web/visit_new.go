package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// The visit form: a grid worker on the street ticks the households visited
// (from their care list, or found by name or building), the findings, and
// saves. Times default to the last half hour. Everything is one form, so
// that a search keeps what was already ticked and typed: its button posts
// the form back to be shown again, with the households found added.

// Limits of the visit form.
const (
	// visitCareShown is how many households due for a visit the form
	// lists; the whole schedule is on /care.
	visitCareShown = 8
	// visitFoundMax bounds a household search: a worker looks for one
	// family, not a building's whole register.
	visitFoundMax = 200
	// visitDefaultLength is how long ago a new visit starts by default.
	visitDefaultLength = 30 * time.Minute
	// dateTimeLocal is the value format of <input type="datetime-local">.
	dateTimeLocal = "2006-01-02T15:04"
)

// householdChoice is a household the worker may tick: the people named are
// the residents due for a visit (care list) or found by the search.
type householdChoice struct {
	ID          int64
	Names       []string
	GridCode    string
	Tags        []string
	Status      people.CareStatus // "" when not on the care list
	DaysPastDue int
	Checked     bool
}

// findingChoice is one kind of finding on the form.
type findingChoice struct {
	Kind    people.FindingKind
	Checked bool
	Text    string
	Error   string // translated
}

// visitFormData is the visit form.
type visitFormData struct {
	Care     []householdChoice
	CareMore int // households due beyond those listed
	Found    []householdChoice
	Searched bool
	// Others are ticked households listed neither in Care nor in Found
	// (ticked before a new search, or linked from another page).
	Others    []householdChoice
	Places    map[string]string // grid names by code
	Query     string
	Building  int64
	Buildings []territory.Building
	Findings  []findingChoice
}

// newVisitPage handles GET /visits/new?household=…: the empty form, with
// the linked households ticked.
func (w *Web) newVisitPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.newVisitPage"
	if _, err := requireSomewhere(r, op, auth.WritePeople); err != nil {
		return err
	}
	p := w.newPage(r, "visits", "/visits/new")
	now := w.clock.Now().In(beijing)
	p.Form = form{Values: map[string]string{
		"started_at": now.Add(-visitDefaultLength).Format(dateTimeLocal),
		"ended_at":   now.Format(dateTimeLocal),
	}}
	ticked := ids(r.URL.Query()["household"])
	d, err := w.visitForm(r.Context(), op, p.Lang, ticked, r.URL.Query())
	if err != nil {
		return err
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "visit", p)
}

// recordVisit handles POST /visits: do=search shows the form again with the
// households found; otherwise the visit is saved and the worker goes on to
// the visits list.
func (w *Web) recordVisit(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.recordVisit"
	actor, err := requireSomewhere(r, op, auth.WritePeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	ticked := ids(r.PostForm["household"])
	values := formValues(r, "companions", "started_at", "ended_at")
	show := func(status int, f form) error {
		p := w.newPage(r, "visits", "/visits/new")
		d, err := w.visitForm(r.Context(), op, p.Lang, ticked, r.PostForm)
		if err != nil {
			return err
		}
		for i := range d.Findings {
			d.Findings[i].Error = f.Errors["finding."+string(d.Findings[i].Kind)]
		}
		p.Form, p.Data = f, d
		return w.render(rw, status, "visit", p)
	}
	if r.PostFormValue("do") == "search" {
		return show(http.StatusOK, form{Values: values})
	}
	in := people.NewVisit{HouseholdIDs: ticked, Companions: r.PostFormValue("companions")}
	bad := map[string]string{}
	in.StartedAt = localTime(r.PostFormValue("started_at"), "started_at", bad)
	in.EndedAt = localTime(r.PostFormValue("ended_at"), "ended_at", bad)
	var kinds []people.FindingKind // the kind of each finding, by index
	for _, k := range people.FindingKinds {
		text := strings.TrimSpace(r.PostFormValue("finding." + string(k) + ".text"))
		if r.PostFormValue("finding."+string(k)) != "on" && text == "" {
			continue
		}
		if text == "" {
			// A ticked finding needs no words: the kind is the finding.
			text = w.i18n.T(w.lang(r), "visits.finding."+string(k))
		}
		in.Findings = append(in.Findings, people.Finding{Kind: k, Description: text})
		kinds = append(kinds, k)
	}
	if len(bad) > 0 {
		return show(http.StatusBadRequest, w.fieldErrors(r, values, bad))
	}
	if _, err := svc.RecordVisit(r.Context(), actor, in); err != nil {
		f, status, ok := w.formProblem(rw, r, err, values)
		if !ok {
			return err
		}
		// The service names findings by index; the form, by kind.
		for name, msg := range f.Errors {
			rest, ok := strings.CutPrefix(name, "findings.")
			if !ok {
				continue
			}
			i, _, _ := strings.Cut(rest, ".")
			if n, err := strconv.Atoi(i); err == nil && n < len(kinds) {
				f.Errors["finding."+string(kinds[n])] = msg
			}
		}
		return show(status, f)
	}
	return redirect(rw, r, "/visits?ok=recorded")
}

// fieldErrors is the form state for bad fields the web face found itself,
// by field name → message key.
func (w *Web) fieldErrors(r *http.Request, values map[string]string, keys map[string]string) form {
	lang := w.lang(r)
	f := form{Values: values, Errors: map[string]string{}, Message: w.i18n.T(lang, "error.invalid_fields")}
	for name, key := range keys {
		f.Errors[name] = w.i18n.T(lang, key)
	}
	return f
}

// localTime parses a datetime-local value as Beijing time, where the
// workers are. A bad value is noted in bad under name; an empty one is left
// to the service, which reports it as required.
func localTime(s, name string, bad map[string]string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	for _, layout := range []string{dateTimeLocal, dateTimeLocal + ":05"} {
		if t, err := time.ParseInLocation(layout, s, beijing); err == nil {
			return t
		}
	}
	bad[name] = "visits.time.format"
	return time.Time{}
}

// ids parses household ids from form or query values, skipping anything
// that is not a positive number, without repeats.
func ids(values []string) []int64 {
	var out []int64
	for _, v := range values {
		if n := formInt(v); n > 0 && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// visitForm loads the form's lists: the households due for a visit, the
// households found by the search in values (q: a name prefix; building),
// and the findings as posted.
func (w *Web) visitForm(ctx context.Context, op, lang string, ticked []int64, values url.Values) (visitFormData, error) {
	svc, err := w.registry(op)
	if err != nil {
		return visitFormData{}, err
	}
	actor := auth.ActorFrom(ctx)
	d := visitFormData{Query: strings.TrimSpace(values.Get("q")), Building: formInt(values.Get("building"))}
	if d.Places, err = w.placeNames(ctx, actor, lang); err != nil {
		return visitFormData{}, err
	}
	isTicked := func(id int64) bool { return slices.Contains(ticked, id) }
	care, err := svc.CareDue(ctx, actor, time.Time{})
	if err != nil {
		return visitFormData{}, err
	}
	all := careHouseholds(care)
	listed := map[int64]bool{}
	for i, h := range all {
		h.Checked = isTicked(h.ID)
		// Ticked households stay in view even beyond the first few.
		if i < visitCareShown || h.Checked {
			d.Care = append(d.Care, h)
			listed[h.ID] = true
		}
	}
	d.CareMore = len(all) - len(d.Care)
	if w.territory != nil {
		// A worker's grids hold a few dozen buildings; a community's a
		// few hundred.
		bs, err := w.territory.Buildings(ctx, actor, territory.BuildingFilter{Limit: 500})
		if err != nil && !errs.Is(err, errs.Forbidden) {
			return visitFormData{}, err
		}
		d.Buildings = bs
	}
	if d.Query != "" || d.Building != 0 {
		d.Searched = true
		rs, err := svc.Search(ctx, actor, people.Filter{Name: d.Query, BuildingID: d.Building, Limit: visitFoundMax})
		if err != nil {
			return visitFormData{}, err
		}
		for _, h := range foundHouseholds(rs) {
			h.Checked = isTicked(h.ID)
			d.Found = append(d.Found, h)
			listed[h.ID] = true
		}
	}
	byID := map[int64]householdChoice{}
	for _, h := range all {
		byID[h.ID] = h
	}
	for _, id := range ticked {
		if listed[id] {
			continue
		}
		h, ok := byID[id]
		if !ok {
			h = householdChoice{ID: id}
		}
		h.Checked = true
		d.Others = append(d.Others, h)
	}
	for _, k := range people.FindingKinds {
		d.Findings = append(d.Findings, findingChoice{Kind: k, Checked: values.Get("finding."+string(k)) == "on",
			Text: values.Get("finding." + string(k) + ".text")})
	}
	return d, nil
}

// careHouseholds groups the care schedule by household, in its order (most
// urgent first), naming everyone in the household who is due.
func careHouseholds(items []people.CareItem) []householdChoice {
	var out []householdChoice
	at := map[int64]int{}
	for _, it := range items {
		i, ok := at[it.HouseholdID]
		if !ok {
			i = len(out)
			at[it.HouseholdID] = i
			out = append(out, householdChoice{ID: it.HouseholdID, GridCode: it.GridCode, Status: it.Status, DaysPastDue: it.DaysPastDue})
		}
		h := &out[i]
		h.Names = append(h.Names, it.Name)
		for _, t := range it.Tags {
			if !slices.Contains(h.Tags, t) {
				h.Tags = append(h.Tags, t)
			}
		}
	}
	return out
}

// foundHouseholds groups search results by household, in the order found.
func foundHouseholds(rs []people.Resident) []householdChoice {
	var out []householdChoice
	at := map[int64]int{}
	for _, r := range rs {
		i, ok := at[r.HouseholdID]
		if !ok {
			i = len(out)
			at[r.HouseholdID] = i
			out = append(out, householdChoice{ID: r.HouseholdID, GridCode: r.GridCode})
		}
		out[i].Names = append(out[i].Names, r.Name)
	}
	return out
}

// choice is a household checkbox as the "choice" partial draws it, with the
// page for its translations.
type choice struct {
	P      *page
	H      householdChoice
	Places map[string]string
}

// Choice pairs a household with the page and the grid names for the
// "choice" partial.
func (p *page) Choice(places map[string]string, h householdChoice) choice {
	return choice{P: p, H: h, Places: places}
}
