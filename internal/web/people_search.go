package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
)

// peoplePageSize is how many residents one page of results shows.
const peoplePageSize = 50

// peopleData is the registry search page: the filter and one page of
// masked results.
type peopleData struct {
	Name string
	Tag  string
	// ByNumber says the results answer a search by identity or phone number.
	// The number itself is never written back into the page.
	ByNumber bool
	Results  []people.Resident
	Places   map[string]string // grid names by code
	After    int64             // the cursor this page started from; 0 on the first page
	NextURL  string            // the following page, "" on the last
	Tags     []string
}

// FirstURL is the first page of the same name and tag search.
func (d peopleData) FirstURL() string { return peopleURL(d.Name, d.Tag, 0) }

// peopleURL is the address of a name/tag search page. Names and tags may
// travel in URLs; identity and phone numbers never do.
func peopleURL(name, tag string, after int64) string {
	q := url.Values{}
	if name != "" {
		q.Set("name", name)
	}
	if tag != "" {
		q.Set("tag", tag)
	}
	if after > 0 {
		q.Set("after", strconv.FormatInt(after, 10))
	}
	if len(q) == 0 {
		return "/people"
	}
	return "/people?" + q.Encode()
}

// peoplePage handles GET /people?name=…&tag=…&after=…: the search form and
// one page of the residents in the actor's scope that match the name prefix
// and tag (all of them when neither is given).
func (w *Web) peoplePage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.peoplePage"
	actor, err := requireSomewhere(r, op, auth.ReadPeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	after, err := cursor(q.Get("after"))
	if err != nil {
		return err
	}
	d := peopleData{Name: strings.TrimSpace(q.Get("name")), Tag: q.Get("tag"), After: after, Tags: filterTags(actor)}
	if !slices.Contains(d.Tags, d.Tag) {
		d.Tag = ""
	}
	// One more than a page tells whether a next page exists.
	rs, err := svc.Search(r.Context(), actor, people.Filter{Name: d.Name, Tag: d.Tag, AfterID: after, Limit: peoplePageSize + 1})
	if err != nil {
		return err
	}
	if len(rs) > peoplePageSize {
		rs = rs[:peoplePageSize]
		d.NextURL = peopleURL(d.Name, d.Tag, rs[len(rs)-1].ID)
	}
	d.Results = rs
	p := w.newPage(r, "people", "/people")
	if d.Places, err = w.placeNames(r.Context(), actor, p.Lang); err != nil {
		return err
	}
	p.Form = form{Values: map[string]string{"name": d.Name}}
	p.Data = d
	return w.render(rw, http.StatusOK, "people", p)
}

// peopleSearch handles POST /people/search, the search form. A search by
// identity or phone number is answered here, so that the number stays out of
// URLs, logs and browser history; a search by name and tag alone goes on to
// GET /people, whose pages can be linked and paged.
func (w *Web) peopleSearch(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.peopleSearch"
	actor, err := requireSomewhere(r, op, auth.ReadPeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	d := peopleData{Name: strings.TrimSpace(r.PostFormValue("name")), Tag: r.PostFormValue("tag"), Tags: filterTags(actor)}
	if !slices.Contains(d.Tags, d.Tag) {
		d.Tag = ""
	}
	document, phone := strings.TrimSpace(r.PostFormValue("document")), strings.TrimSpace(r.PostFormValue("phone"))
	if document == "" && phone == "" {
		return redirect(rw, r, peopleURL(d.Name, d.Tag, 0))
	}
	d.ByNumber = true
	p := w.newPage(r, "people", "/people")
	if d.Places, err = w.placeNames(r.Context(), actor, p.Lang); err != nil {
		return err
	}
	values := map[string]string{"name": d.Name}
	// An exact number matches a handful of residents at most: one page.
	rs, err := svc.Search(r.Context(), actor, people.Filter{Name: d.Name, Tag: d.Tag, Document: document, Phone: phone, Limit: peoplePageSize})
	status := http.StatusOK
	if err != nil {
		f, st, ok := w.formProblem(rw, r, err, values)
		if !ok {
			return err
		}
		p.Form, status = f, st
	} else {
		p.Form = form{Values: values}
		d.Results = rs
	}
	p.Data = d
	return w.render(rw, status, "people", p)
}

// numberInput is an identity or phone number box of the search form.
type numberInput struct {
	Name, Type, Label, Error string
}

// NumberInput describes a number box of the search form, with its error.
func (p *page) NumberInput(name, typ, label string) numberInput {
	return numberInput{Name: name, Type: typ, Label: label, Error: p.Form.Errors[name]}
}
