package open311

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

// request is a service request as GeoReport v2 shows it: what the public
// may know of a case, never its reporter.
type request struct {
	XMLName           xml.Name `xml:"request" json:"-"`
	ID                string   `xml:"service_request_id" json:"service_request_id"`
	Status            string   `xml:"status" json:"status"`
	StatusNotes       string   `xml:"status_notes,omitempty" json:"status_notes,omitempty"`
	ServiceName       string   `xml:"service_name,omitempty" json:"service_name,omitempty"`
	ServiceCode       string   `xml:"service_code" json:"service_code"`
	Description       string   `xml:"description,omitempty" json:"description,omitempty"`
	AgencyResponsible string   `xml:"agency_responsible,omitempty" json:"agency_responsible,omitempty"`
	RequestedDatetime string   `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime   string   `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime  string   `xml:"expected_datetime,omitempty" json:"expected_datetime,omitempty"`
	Address           string   `xml:"address,omitempty" json:"address,omitempty"`
	Lat               float64  `xml:"lat" json:"lat"`
	Long              float64  `xml:"long" json:"long"`
}

type requestList struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []request `xml:"request"`
}

// status maps the workflow onto GeoReport's two statuses: a case is closed
// once nothing more will be done (closed, rejected, cancelled).
func status(s cases.State) string {
	if s.Final() {
		return "closed"
	}
	return "open"
}

// view turns cases into requests in lang, with the last public note of each
// as its status notes.
func (s *Server) view(r *http.Request, cs []cases.Case, lang string) ([]request, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	hist, err := s.d.Cases.PublicHistory(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	notes := map[int64]string{}
	for _, e := range hist {
		if e.Note != "" {
			notes[e.CaseID] = e.Note
		}
	}
	depts := map[string]string{}
	if ds, err := s.d.Catalog.Departments(r.Context()); err == nil {
		for _, d := range ds {
			depts[d.Code] = d.Name.In(lang)
		}
	}
	out := make([]request, 0, len(cs))
	for _, c := range cs {
		q := request{ID: c.Number, Status: status(c.State), StatusNotes: notes[c.ID], ServiceCode: c.Category,
			Description: c.Description, RequestedDatetime: iso(c.CreatedAt), UpdatedDatetime: iso(c.UpdatedAt),
			Address: c.Address, Lat: c.Lat, Long: c.Lng}
		if cat, err := s.d.Catalog.ByRef(r.Context(), c.Category); err == nil {
			q.ServiceName = cat.Name.In(lang)
		}
		if c.AssigneeKind == cases.ToDepartment {
			q.AgencyResponsible = depts[c.Assignee]
		}
		switch {
		case !c.HandleDueAt.IsZero() && !c.State.Final():
			q.ExpectedDatetime = iso(c.HandleDueAt)
		case !c.StageDueAt.IsZero() && !c.State.Final():
			q.ExpectedDatetime = iso(c.StageDueAt)
		}
		out = append(out, q)
	}
	return out, nil
}

// parseTime reads a GeoReport datetime (W3C ISO 8601, with or without
// fractional seconds).
func parseTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// listRequests serves GET requests.{fmt} with the standard's filters plus
// page/page_size and updated_after/updated_before.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, f string) {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	var pf cases.PublicFilter
	bad := func(field string) { s.fail(w, r, http.StatusBadRequest, "open311.error.parameter", field) }
	if v := get("service_request_id"); v != "" {
		for _, n := range strings.Split(v, ",") {
			id, err := s.d.Cases.PublicIDByNumber(r.Context(), strings.TrimSpace(n))
			if err == nil {
				pf.IDs = append(pf.IDs, id)
			}
		}
		if len(pf.IDs) == 0 {
			s.write(w, f, http.StatusOK, requestList{}, []request{})
			return
		}
	} else {
		if v := get("service_code"); v != "" {
			pf.Categories = strings.Split(v, ",")
		}
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"start_date", &pf.From}, {"end_date", &pf.To}, {"updated_after", &pf.UpdatedAfter}, {"updated_before", &pf.UpdatedBefore}} {
			if v := get(p.name); v != "" {
				t, ok := parseTime(v)
				if !ok {
					bad(p.name)
					return
				}
				*p.dst = t
			}
		}
		// The standard's default and widest window: 90 days.
		const window = 90 * 24 * time.Hour
		switch {
		case pf.From.IsZero() && pf.To.IsZero():
			pf.To = s.d.Clock.Now().Add(time.Minute)
			pf.From = pf.To.Add(-window)
		case pf.From.IsZero():
			pf.From = pf.To.Add(-window)
		case pf.To.IsZero() || pf.To.Sub(pf.From) > window:
			pf.To = pf.From.Add(window)
		}
		switch get("status") {
		case "":
		case "open":
			pf.Open = true
		case "closed":
			pf.Closed = true
		default:
			for _, st := range strings.Split(get("status"), ",") {
				switch strings.TrimSpace(st) {
				case "open":
					pf.Open = true
				case "closed":
					pf.Closed = true
				default:
					bad("status")
					return
				}
			}
		}
	}
	size, page := 1000, 1
	if v := get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("page_size")
			return
		}
		size = n
	}
	if v := get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			bad("page")
			return
		}
		page = n
	}
	pf.Limit, pf.Offset = size, (page-1)*size
	cs, err := s.d.Cases.PublicCases(r.Context(), pf)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	out, err := s.view(r, cs, s.d.I18n.Match(r.Header.Get("Accept-Language")))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	s.write(w, f, http.StatusOK, requestList{Requests: out}, out)
}

// oneRequest serves GET requests/{id}.{fmt}: a list of one.
func (s *Server) oneRequest(w http.ResponseWriter, r *http.Request) {
	number, f, ok := format(r.PathValue("file"))
	if !ok {
		s.notFound(w, r)
		return
	}
	id, err := s.d.Cases.PublicIDByNumber(r.Context(), number)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_request", number)
		return
	}
	c, err := s.d.Cases.PublicCase(r.Context(), id)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_request", number)
		return
	}
	out, err := s.view(r, []cases.Case{c}, s.d.I18n.Match(r.Header.Get("Accept-Language")))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	s.write(w, f, http.StatusOK, requestList{Requests: out}, out)
}

// created is the answer to a POST: the new request's id and a notice.
type created struct {
	XMLName       xml.Name `xml:"request" json:"-"`
	ID            string   `xml:"service_request_id" json:"service_request_id"`
	ServiceNotice string   `xml:"service_notice,omitempty" json:"service_notice,omitempty"`
}

type createdList struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []created `xml:"request"`
}

// maxUploads bounds the media parts of one POST.
const maxUploads = 6

// apiKey finds the client's key where clients put it: the form, the query
// string, or an Authorization: Bearer header.
func apiKey(r *http.Request) string {
	if k := strings.TrimSpace(r.PostForm.Get("api_key")); k != "" {
		return k
	}
	if k := strings.TrimSpace(r.URL.Query().Get("api_key")); k != "" {
		return k
	}
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimSpace(strings.TrimPrefix(h, "Bearer "))
	}
	return ""
}

// postRequest serves POST requests.{fmt}: a report from an Open311 client,
// taken in like any other channel's.
func (s *Server) postRequest(w http.ResponseWriter, r *http.Request, f string) {
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "open311.error.form")
		return
	}
	actor, err := s.d.Auth.AuthenticateToken(r.Context(), apiKey(r))
	if err != nil || !actor.HasTokenScope("open311") {
		s.fail(w, r, http.StatusForbidden, "open311.error.api_key")
		return
	}
	form := r.PostForm
	code := strings.TrimSpace(form.Get("service_code"))
	if code == "" {
		s.fail(w, r, http.StatusBadRequest, "open311.error.parameter", "service_code")
		return
	}
	svc, err := s.d.Catalog.ByRef(r.Context(), code)
	if err != nil || !svc.Public || !svc.Active {
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_service", code)
		return
	}
	in := cases.NewCase{Category: code, Description: form.Get("description"), Address: form.Get("address_string"),
		Channel: cases.Open311, Answers: Attributes(form),
		Contact: cases.Contact{Name: strings.TrimSpace(form.Get("first_name") + " " + form.Get("last_name")),
			Phone: strings.TrimSpace(form.Get("phone")), Email: strings.TrimSpace(form.Get("email"))}}
	if lat, long := strings.TrimSpace(form.Get("lat")), strings.TrimSpace(form.Get("long")); lat != "" || long != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(long, 64)
		if err1 != nil || err2 != nil {
			s.fail(w, r, http.StatusBadRequest, "open311.error.parameter", "lat/long")
			return
		}
		in.Lat, in.Lng = &la, &lo
	}
	if strings.TrimSpace(in.Description) == "" {
		// The standard makes the description optional (some clients send
		// only the attributes); the service's name then says what it is.
		in.Description = s.d.I18n.T(lang, "open311.description.none", svc.Name.In(lang))
	}
	if r.MultipartForm != nil {
		for _, name := range []string{"media", "media[]"} {
			for _, fh := range r.MultipartForm.File[name] {
				if len(in.Photos) == maxUploads {
					break
				}
				file, err := fh.Open()
				if err != nil {
					s.fail(w, r, http.StatusBadRequest, "open311.error.form")
					return
				}
				defer file.Close()
				in.Photos = append(in.Photos, cases.Upload{Name: fh.Filename, R: file})
			}
		}
	}
	res, err := s.d.Cases.Report(r.Context(), actor, in)
	if err != nil {
		s.failWith(w, r, err, lang)
		return
	}
	out := []created{{ID: res.Case.Number, ServiceNotice: s.d.I18n.T(lang, "open311.notice.received", res.Case.Number)}}
	s.write(w, f, http.StatusOK, createdList{Requests: out}, out)
}

// failWith turns a service error into a GeoReport error: 403 for
// permissions, 404 for what is not there, 503 when the service cannot
// answer, 400 for everything else, with every bad field named.
func (s *Server) failWith(w http.ResponseWriter, r *http.Request, err error, lang string) {
	p := httpx.Translate(s.d.I18n, lang, httpx.RequestID(r.Context()), err)
	status := http.StatusBadRequest
	switch errs.CodeOf(err) {
	case errs.Forbidden, errs.Unauthenticated:
		status = http.StatusForbidden
	case errs.NotFound:
		status = http.StatusNotFound
	case errs.Unavailable, errs.Internal:
		status = http.StatusServiceUnavailable
	}
	desc := p.Message
	if len(p.Fields) > 0 {
		keys := make([]string, 0, len(p.Fields))
		for k := range p.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, openField(k)+": "+p.Fields[k])
		}
		desc = strings.Join(parts, "; ")
	}
	e := apiError{Code: status, Description: desc}
	s.write(w, formatOf(r.URL.Path), status, errorList{Errors: []apiError{e}}, []apiError{e})
}

// openField names a case field as the client sent it.
func openField(f string) string {
	switch f {
	case "location":
		return "lat/long"
	case "address":
		return "address_string"
	case "category":
		return "service_code"
	case "photos":
		return "media"
	}
	return strings.TrimPrefix(f, "contact.")
}

// Attributes reads the answers of a GeoReport form: attribute[CODE]=v, and
// for several values attribute[CODE][]=v or attribute[CODE] repeated. Both
// forms give the same answers.
func Attributes(form url.Values) map[string][]string {
	out := map[string][]string{}
	for key, vs := range form {
		rest, ok := strings.CutPrefix(key, "attribute[")
		if !ok {
			continue
		}
		code, tail, ok := strings.Cut(rest, "]")
		if !ok || code == "" || (tail != "" && tail != "[]") {
			continue
		}
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				out[code] = append(out[code], v)
			}
		}
	}
	return out
}
