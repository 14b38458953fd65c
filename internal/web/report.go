package web

import (
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/territory"
)

// The report form: a resident reports a problem in three steps on a phone —
// what (a category), where (a typed address, or a pin when a map is
// configured), and the details (description, photos, the category's
// questions) — then sees the case number. Each step is a page of its own
// whose state travels in the URL and in hidden fields: nothing is kept on
// the server between steps, so any node of a cluster can serve the next one,
// and the Back button works. Staff use the same steps at /cases/new, with
// their own channel: grid workers report from patrol (and may say they fixed
// the problem on the spot), the street's centre records a call with the
// caller's contact.

// Limits of the report form.
const (
	// addressSuggestions is how many buildings a typed address offers.
	addressSuggestions = 8
	// maxCategoryQuery bounds the category search box.
	maxCategoryQuery = 50
)

// reportFlow is one way into the report form.
type reportFlow struct {
	Base    string        // the form's path: /report or /cases/new
	Channel cases.Channel // the channel its reports arrive on
	Nav     string        // the navigation entry it belongs to
	Staff   bool          // quick report: every active category, not only public ones
}

// publicFlow is the residents' form.
var publicFlow = reportFlow{Base: "/report", Channel: cases.Web, Nav: "report"}

// flowFor is the quick-report flow of a staff member, or false for roles
// that do not report (department handlers, administrators, auditors).
func flowFor(a auth.Actor) (reportFlow, bool) {
	ch := quickChannel(a)
	if ch == "" {
		return reportFlow{}, false
	}
	return reportFlow{Base: "/cases/new", Channel: ch, Nav: "work", Staff: true}, true
}

// question is one of the category's questions as the form asks it.
type question struct {
	Code, Field, Label string
	Datatype           catalog.Datatype
	Required           bool
	Info               bool // a non-variable attribute: text to read, no answer
	Value              string
	Values             []answerChoice
	Error              string
}

// answerChoice is one value of a list question.
type answerChoice struct {
	Key, Name string
	Checked   bool
}

// reportData is the report form at one of its steps.
type reportData struct {
	Flow reportFlow
	Step int
	// Step 1: the groups, or the categories a search found.
	Groups   []categoryGroup
	Query    string
	Found    []categoryChoice
	Searched bool
	// Step 2 and 3: the chosen category and place.
	Category    categoryChoice
	Address     string
	Lng, Lat    string
	Suggestions []territory.Building
	TileURL     string
	Bounds      string // the area served, "minLng,minLat,maxLng,maxLat", where the map starts
	// Step 3: the details.
	Questions    []question
	Description  string
	Anonymous    bool
	SelfHandled  bool
	Result       string
	ContactName  string
	ContactPhone string
	MaxPhotos    int
}

// CategoryURL is the first step, to choose another category.
func (d reportData) CategoryURL() string { return d.Flow.Base }

// WhereURL is the second step with the current choices, to change the place.
func (d reportData) WhereURL() string {
	v := url.Values{"category": {d.Category.Ref}}
	if d.Address != "" {
		v.Set("address", d.Address)
	}
	return d.Flow.Base + "?" + v.Encode()
}

// DetailsURL is the third step for an address the form suggests.
func (d reportData) DetailsURL(address string) string {
	return d.Flow.Base + "?" + url.Values{"category": {d.Category.Ref}, "address": {address}, "step": {"3"}}.Encode()
}

// Located reports whether the place is a map pin rather than an address.
func (d reportData) Located() bool { return d.Lng != "" && d.Lat != "" }

// reportPage handles GET /report: the resident's form, at the step its
// query asks for.
func (w *Web) reportPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.reportPage"
	if err := requireReporter(r, op); err != nil {
		return err
	}
	return w.reportStep(rw, r, op, publicFlow)
}

// quickReportPage handles GET /cases/new: the staff member's quick report.
func (w *Web) quickReportPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.quickReportPage"
	flow, ok := flowFor(auth.ActorFrom(r.Context()))
	if !ok {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	return w.reportStep(rw, r, op, flow)
}

// requireReporter lets in whoever may report somewhere; residents may
// report anywhere.
func requireReporter(r *http.Request, op string) error {
	if a := auth.ActorFrom(r.Context()); a.Role != auth.Resident && !canSomewhere(a, auth.ReportCase) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	return nil
}

// reportStep shows the step the query asks for: no category is the first,
// a category the second, and step=3 with a place that is found the third.
// A place the form cannot use shows the second step again, with the
// problem or with the buildings the address may mean.
func (w *Web) reportStep(rw http.ResponseWriter, r *http.Request, op string, flow reportFlow) error {
	if _, err := w.caseService(op); err != nil {
		return err
	}
	q := r.URL.Query()
	p := w.newPage(r, flow.Nav, flow.Base)
	d := reportData{Flow: flow, Step: 1, MaxPhotos: maxPhotos}
	ref := strings.TrimSpace(q.Get("category"))
	if ref == "" {
		return w.renderReport(rw, r, http.StatusOK, p, &d, q.Get("q"))
	}
	cat, ok, err := w.reportCategory(r.Context(), flow, ref)
	if err != nil {
		return err
	}
	if !ok {
		p.Form = w.fieldErrors(r, nil, map[string]string{"category": "case.error.category"})
		return w.renderReport(rw, r, http.StatusBadRequest, p, &d, "")
	}
	d.Category = categoryChoice{Ref: cat.Ref(), Name: cat.Name.In(p.Lang)}
	d.Address, d.Lng, d.Lat = strings.TrimSpace(q.Get("address")), strings.TrimSpace(q.Get("lng")), strings.TrimSpace(q.Get("lat"))
	d.Step = 2
	if q.Get("step") == "3" {
		bad, err := w.checkWhere(r.Context(), &d)
		if err != nil {
			return err
		}
		switch {
		case len(bad) > 0:
			p.Form = w.fieldErrors(r, nil, bad)
			return w.renderReport(rw, r, http.StatusBadRequest, p, &d, "")
		case len(d.Suggestions) == 0:
			d.Step = 3
			d.Questions = questions(p, cat, nil, nil)
		}
	}
	return w.renderReport(rw, r, http.StatusOK, p, &d, "")
}

// renderReport fills what the step lists and renders it.
func (w *Web) renderReport(rw http.ResponseWriter, r *http.Request, status int, p *page, d *reportData, query string) error {
	switch d.Step {
	case 1:
		f := catalog.Filter{ActiveOnly: true, PublicOnly: !d.Flow.Staff}
		groups, err := w.categoryGroups(r.Context(), f, p.Lang)
		if err != nil {
			return err
		}
		d.Groups = groups
		d.Query = strings.TrimSpace(query)
		if d.Query != "" {
			d.Searched = true
			if utf8.RuneCountInString(d.Query) > maxCategoryQuery {
				d.Query = string([]rune(d.Query)[:maxCategoryQuery])
			}
			f.Query = d.Query
			cats, err := w.catalog.Categories(r.Context(), f)
			if err != nil {
				return err
			}
			for _, c := range cats {
				d.Found = append(d.Found, categoryChoice{Ref: c.Ref(), Name: c.Name.In(p.Lang)})
			}
		}
	case 2:
		if w.mapTileURL != "" && w.territory != nil {
			bounds, err := w.areaBounds(r.Context())
			if err != nil {
				return err
			}
			d.TileURL, d.Bounds = w.mapTileURL, bounds
		}
	}
	p.Data = d
	return w.render(rw, status, "report", p)
}

// reportCategory finds the category ref names, if the flow may use it: an
// active one, and for residents a public one.
func (w *Web) reportCategory(ctx context.Context, flow reportFlow, ref string) (catalog.Category, bool, error) {
	cat, err := w.catalog.ByRef(ctx, ref)
	switch {
	case errs.Is(err, errs.NotFound):
		return cat, false, nil
	case err != nil:
		return cat, false, err
	}
	return cat, cat.Active && (cat.Public || flow.Staff), nil
}

// checkWhere checks the place of the second step before the third is
// shown: a pin must be a number pair; an address must name a known
// building. When it names several, none exactly, d.Suggestions lists them
// for the reporter to choose. Problems are returned by field → message key.
func (w *Web) checkWhere(ctx context.Context, d *reportData) (map[string]string, error) {
	if d.Lng != "" || d.Lat != "" {
		if _, _, ok := point(d.Lng, d.Lat); !ok {
			return map[string]string{"location": "case.error.location"}, nil
		}
		return nil, nil
	}
	if d.Address == "" {
		return map[string]string{"address": "case.error.where"}, nil
	}
	if w.territory == nil {
		return nil, errs.E(errs.Unavailable, "web.checkWhere", "error.unavailable")
	}
	bs, err := w.territory.FindAddress(ctx, d.Address, addressSuggestions)
	if errs.Is(err, errs.Invalid) {
		key := errs.As(err).Fields["q"]
		if key == "" {
			key = "case.error.address_unknown"
		}
		return map[string]string{"address": key}, nil
	}
	if err != nil {
		return nil, err
	}
	if len(bs) == 0 {
		return map[string]string{"address": "case.error.address_unknown"}, nil
	}
	key := territory.AddressKey(d.Address)
	exact := slices.ContainsFunc(bs, func(b territory.Building) bool { return territory.AddressKey(b.Address) == key })
	if !exact && len(bs) > 1 {
		d.Suggestions = bs
	}
	return nil, nil
}

// areaBounds is the box around the districts the installation serves, or
// "" before a territory is imported. Where GridHall works is no secret: a
// resident who may not read the territory still needs the map to start
// there.
func (w *Web) areaBounds(ctx context.Context) (string, error) {
	nodes, err := w.territory.Tree(ctx, auth.SystemActorAs("web", auth.DistrictAdmin), territory.District)
	if err != nil || len(nodes) == 0 {
		return "", err
	}
	b := nodes[0].Boundary.Bound()
	for _, n := range nodes[1:] {
		b = b.Union(n.Boundary.Bound())
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	return f(b.Min[0]) + "," + f(b.Min[1]) + "," + f(b.Max[0]) + "," + f(b.Max[1]), nil
}

// point parses a pin's longitude and latitude: finite numbers on the
// globe. Whether the point lies in the area served is the service's to say.
func point(lng, lat string) (float64, float64, bool) {
	x, err1 := strconv.ParseFloat(strings.TrimSpace(lng), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	// NaN fails every comparison, so it is refused here too.
	ok := err1 == nil && err2 == nil && x >= -180 && x <= 180 && y >= -90 && y <= 90
	return x, y, ok
}

// questions prepares the category's questions for the form, with the
// answers and the translated problems of a failed submission.
func questions(p *page, cat catalog.Category, answers url.Values, problems map[string]string) []question {
	out := make([]question, 0, len(cat.Attributes))
	for _, a := range cat.Attributes {
		field := catalog.AnswerField(a.Code)
		q := question{Code: a.Code, Field: field, Label: a.Description.In(p.Lang), Datatype: a.Datatype,
			Required: a.Required, Info: !a.Variable, Value: answers.Get(field), Error: problems[field]}
		for _, v := range a.Values {
			q.Values = append(q.Values, answerChoice{Key: v.Key, Name: v.Name.In(p.Lang), Checked: slices.Contains(answers[field], v.Key)})
		}
		out = append(out, q)
	}
	return out
}

// maxPhotos is what the form says about photos; the service enforces its
// own configured limit.
const maxPhotos = 6

// submitReport handles POST /report: the third step's form.
func (w *Web) submitReport(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.submitReport"
	if err := requireReporter(r, op); err != nil {
		return err
	}
	return w.fileReport(rw, r, op, publicFlow)
}

// submitQuickReport handles POST /cases/new.
func (w *Web) submitQuickReport(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.submitQuickReport"
	flow, ok := flowFor(auth.ActorFrom(r.Context()))
	if !ok {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	return w.fileReport(rw, r, op, flow)
}

// fileReport files the report the third step posted, and goes on to its
// confirmation; a refused report shows the third step again with the
// problems beside the fields, and stores nothing.
func (w *Web) fileReport(rw http.ResponseWriter, r *http.Request, op string, flow reportFlow) error {
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	f := r.PostForm
	p := w.newPage(r, flow.Nav, flow.Base)
	d := reportData{Flow: flow, Step: 3, MaxPhotos: maxPhotos,
		Address: strings.TrimSpace(f.Get("address")), Lng: strings.TrimSpace(f.Get("lng")), Lat: strings.TrimSpace(f.Get("lat")),
		Description: f.Get("description"), Anonymous: f.Get("anonymous") == "on",
		SelfHandled: f.Get("self_handled") == "on", Result: f.Get("result"),
		ContactName: f.Get("contact_name"), ContactPhone: f.Get("contact_phone")}
	in := cases.NewCase{Category: strings.TrimSpace(f.Get("category")), Description: d.Description, Address: d.Address,
		Channel: flow.Channel, Answers: map[string][]string{}}
	cat, catOK, err := w.reportCategory(r.Context(), flow, in.Category)
	if err != nil {
		return err
	}
	d.Category = categoryChoice{Ref: in.Category, Name: in.Category}
	if catOK {
		d.Category.Name = cat.Name.In(p.Lang)
		for _, a := range cat.Attributes {
			if vs := f[catalog.AnswerField(a.Code)]; len(vs) > 0 {
				in.Answers[a.Code] = vs
			}
		}
	}
	bad := map[string]string{}
	if !catOK {
		// A category the flow may not use is refused here: the service
		// would take a non-public one from staff on the residents' form.
		bad["category"] = "case.error.category"
	}
	if d.Located() {
		lng, lat, ok := point(d.Lng, d.Lat)
		if !ok {
			bad["location"] = "case.error.location"
		}
		in.Lng, in.Lat = &lng, &lat
	}
	switch flow.Channel {
	case cases.Web:
		in.Anonymous = d.Anonymous
	case cases.Patrol:
		in.SelfHandled, in.Result = d.SelfHandled, d.Result
	case cases.Hotline:
		in.Contact = cases.Contact{Name: strings.TrimSpace(d.ContactName), Phone: strings.TrimSpace(d.ContactPhone)}
	}
	in.Photos = uploads(r, "photos")
	if in.SelfHandled {
		in.ResultPhotos = uploads(r, "result_photos")
	}
	defer closeUploads(in.Photos, in.ResultPhotos)
	show := func(status int, fm form) error {
		// The service names the contact's fields as its input does.
		for from, to := range map[string]string{"contact.name": "contact_name", "contact.phone": "contact_phone"} {
			if msg, ok := fm.Errors[from]; ok {
				fm.Errors[to] = msg
			}
		}
		fm.Values = map[string]string{"description": d.Description, "result": d.Result,
			"contact_name": d.ContactName, "contact_phone": d.ContactPhone}
		if catOK {
			d.Questions = questions(p, cat, f, fm.Errors)
		}
		p.Form = fm
		p.Data = &d
		return w.render(rw, status, "report", p)
	}
	if len(bad) > 0 {
		return show(http.StatusBadRequest, w.fieldErrors(r, nil, bad))
	}
	res, err := svc.Report(r.Context(), actor, in)
	if err != nil {
		fm, status, ok := w.formProblem(rw, r, err, nil)
		if !ok {
			return err
		}
		return show(status, fm)
	}
	return redirect(rw, r, "/report/done/"+strconv.FormatInt(res.Case.ID, 10))
}

// uploads opens the files posted under name. Unreadable parts are skipped:
// the service reports what it cannot use.
func uploads(r *http.Request, name string) []cases.Upload {
	if r.MultipartForm == nil {
		return nil
	}
	var out []cases.Upload
	for _, fh := range r.MultipartForm.File[name] {
		if fh.Size == 0 && fh.Filename == "" {
			continue // an empty file input
		}
		f, err := fh.Open()
		if err != nil {
			continue
		}
		out = append(out, cases.Upload{Name: fh.Filename, R: f})
	}
	return out
}

// closeUploads closes the opened upload parts.
func closeUploads(lists ...[]cases.Upload) {
	for _, l := range lists {
		for _, u := range l {
			if c, ok := u.R.(multipart.File); ok {
				c.Close()
			}
		}
	}
}

// addressSuggestion is one answer of /report/addresses.
type addressSuggestion struct {
	Address string  `json:"address"`
	Name    string  `json:"name"`
	Lng     float64 `json:"lng"`
	Lat     float64 `json:"lat"`
}

// reportAddresses handles GET /report/addresses?q=…: the buildings whose
// address matches what the reporter is typing, for report.js to offer as
// suggestions. Without the script the second step suggests the same
// buildings after the form is sent.
func (w *Web) reportAddresses(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.reportAddresses"
	if err := requireReporter(r, op); err != nil {
		return err
	}
	out := []addressSuggestion{}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if w.territory != nil && utf8.RuneCountInString(territory.AddressKey(q)) >= 2 {
		bs, err := w.territory.FindAddress(r.Context(), q, addressSuggestions)
		if err != nil && !errs.Is(err, errs.Invalid) {
			return err
		}
		for _, b := range bs {
			out = append(out, addressSuggestion{Address: b.Address, Name: b.Name, Lng: b.Lng, Lat: b.Lat})
		}
	}
	httpx.WriteJSON(rw, http.StatusOK, out)
	return nil
}

// reportDoneData is the confirmation of a report.
type reportDoneData struct {
	Case       cases.Case
	Category   string
	Duplicates []cases.Candidate
	Staff      bool
	Again      string // the form to report another problem
	Next       string // what happens next, for the case's state
}

// doneNext says what happens next to a report in the states one can be in
// when it is filed: waiting for the grid worker's check, for the centre, or
// already fixed on patrol. Other states get the general text.
var doneNext = map[cases.State]string{
	cases.Reported: "cases.page.done.next.reported",
	cases.Verified: "cases.page.done.next.verified",
	cases.Handled:  "cases.page.done.next.handled",
}

// reportDone handles GET /report/done/{id}: the case number and state of a
// report just filed, and the open cases nearby that probably report the
// same problem, so the reporter can follow one of those instead.
func (w *Web) reportDone(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.reportDone"
	svc, det, err := w.caseOf(r, op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	c := det.Case
	if c.ReporterID != actor.UserID {
		// The confirmation is the reporter's; others read the case page.
		return redirect(rw, r, "/cases/"+strconv.FormatInt(c.ID, 10))
	}
	// The same question the service answered when the report came in:
	// asked again here, so the confirmation survives a reload.
	dups, err := svc.Similar(r.Context(), actor, cases.Draft{Category: c.Category, Lng: c.Lng, Lat: c.Lat, Description: c.Description})
	if err != nil {
		return err
	}
	dups = slices.DeleteFunc(dups, func(x cases.Candidate) bool { return x.ID == c.ID })
	flow, staff := flowFor(actor)
	if !staff {
		flow = publicFlow
	}
	p := w.newPage(r, flow.Nav, r.URL.Path)
	next, ok := doneNext[c.State]
	if !ok {
		next = "cases.page.done.next"
	}
	p.Data = reportDoneData{Case: c, Category: det.Category.Name.In(p.Lang), Duplicates: dups, Staff: staff, Again: flow.Base, Next: p.T(next)}
	return w.render(rw, http.StatusOK, "report_done", p)
}
