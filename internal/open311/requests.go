package open311

import (
	"encoding/json"
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
// may know of a case, never its reporter. Fields are in the standard's
// order; empty ones are omitted.
type request struct {
	XMLName            xml.Name  `xml:"request" json:"-"`
	ID                 string    `xml:"service_request_id" json:"service_request_id"`
	Status             string    `xml:"status" json:"status"`
	StatusNotes        string    `xml:"status_notes,omitempty" json:"status_notes,omitempty"`
	ServiceName        string    `xml:"service_name,omitempty" json:"service_name,omitempty"`
	ServiceCode        string    `xml:"service_code" json:"service_code"`
	Description        string    `xml:"description,omitempty" json:"description,omitempty"`
	AgencyResponsible  string    `xml:"agency_responsible,omitempty" json:"agency_responsible,omitempty"`
	RequestedDatetime  string    `xml:"requested_datetime" json:"requested_datetime"`
	UpdatedDatetime    string    `xml:"updated_datetime" json:"updated_datetime"`
	ExpectedDatetime   string    `xml:"expected_datetime,omitempty" json:"expected_datetime,omitempty"`
	Address            string    `xml:"address,omitempty" json:"address,omitempty"`
	AddressID          string    `xml:"address_id,omitempty" json:"address_id,omitempty"`
	Lat                float64   `xml:"lat" json:"lat"`
	Long               float64   `xml:"long" json:"long"`
	MediaURL           string    `xml:"media_url,omitempty" json:"media_url,omitempty"`
	ExtendedAttributes *extended `xml:"extended_attributes,omitempty" json:"extended_attributes,omitempty"`
	Notes              *noteList `xml:"notes,omitempty" json:"notes,omitempty"`
}

// extended are the extended_attributes of a request (extensions=true).
type extended struct {
	GridCode string `xml:"grid_code,omitempty" json:"grid_code,omitempty"`
	Channel  string `xml:"channel" json:"channel"`
	// ExtendedStatus is FixMyStreet's finer status of the request.
	ExtendedStatus string `xml:"extended_status" json:"extended_status"`
	// WorkflowState is GridHall's own state, the external_status_code of
	// service-request updates.
	WorkflowState string `xml:"workflow_state" json:"workflow_state"`
	// DuplicateOf is the request a duplicate was merged into.
	DuplicateOf string `xml:"duplicate_of,omitempty" json:"duplicate_of,omitempty"`
	// MediaURLs are the media URLs clients sent with the request and its
	// updates, as sent.
	MediaURLs *urlList `xml:"media_urls,omitempty" json:"media_urls,omitempty"`
}

// note is one public step of a request's history (extensions=true).
type note struct {
	XMLName     xml.Name `xml:"note" json:"-"`
	Datetime    string   `xml:"datetime" json:"datetime"`
	Action      string   `xml:"action" json:"action"`
	Status      string   `xml:"status" json:"status"`
	Description string   `xml:"description,omitempty" json:"description,omitempty"`
	MediaURL    string   `xml:"media_url,omitempty" json:"media_url,omitempty"`
}

// Lists inside a request are pointers to these wrappers: encoding/xml
// writes the parent of an "a>b" path even for an empty list, and an empty
// element is what GeoReport validators refuse. In JSON each is the array.
type (
	noteList struct {
		Items []note `xml:"note"`
	}
	urlList struct {
		Items []string `xml:"media_url"`
	}
)

func (l noteList) MarshalJSON() ([]byte, error) { return json.Marshal(l.Items) }

func (l urlList) MarshalJSON() ([]byte, error) { return json.Marshal(l.Items) }

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

// extendedStatus is FixMyStreet's extended status of a case that reached
// state st by action: where the workflow stands in the words FixMyStreet
// clients show. Only the check on site confirms a fix; until then the
// work is in progress.
func extendedStatus(action string, st cases.State) string {
	if action == string(cases.Merge) {
		return "duplicate"
	}
	switch st {
	case cases.Verified, cases.Accepted:
		return "investigating"
	case cases.Registered, cases.Dispatched, cases.Suspended:
		return "action_scheduled"
	case cases.Handling, cases.Handled:
		return "in_progress"
	case cases.Checked, cases.Closed:
		return "fixed"
	case cases.Rejected:
		return "no_further_action"
	case cases.Cancelled:
		return "cancelled"
	}
	return "open"
}

// caseStatus is the extended status of a case now.
func caseStatus(c cases.Case) string {
	if c.State == cases.Cancelled && c.DuplicateOf != 0 {
		return "duplicate"
	}
	return extendedStatus("", c.State)
}

// mediaURL is where a step's first photo is served, else its first link.
func (s *Server) mediaURL(r *http.Request, photos []int64, links []string) string {
	if len(photos) > 0 {
		return s.base(r) + Prefix + "media/" + strconv.FormatInt(photos[0], 10)
	}
	if len(links) > 0 {
		return links[0]
	}
	return ""
}

// view turns cases into requests in lang: the last public note of each as
// its status notes, its first public photo (else link) as its media, and
// with ext the extended attributes and the public history.
func (s *Server) view(r *http.Request, cs []cases.Case, lang string, ext bool) ([]request, error) {
	ids := make([]int64, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	steps, err := s.d.Cases.PublicSteps(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	byCase := map[int64][]cases.PublicStep{}
	for _, e := range steps {
		byCase[e.CaseID] = append(byCase[e.CaseID], e)
	}
	depts := map[string]string{}
	if ds, err := s.d.Catalog.Departments(r.Context()); err == nil {
		for _, d := range ds {
			depts[d.Code] = d.Name.In(lang)
		}
	}
	out := make([]request, 0, len(cs))
	for _, c := range cs {
		q := request{ID: c.Number, Status: status(c.State), ServiceCode: c.Category,
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
		var links []string
		var into string
		var hist []note
		for _, e := range byCase[c.ID] {
			if e.Note != "" {
				q.StatusNotes = e.Note
			}
			if q.MediaURL == "" && len(e.Photos) > 0 {
				q.MediaURL = s.mediaURL(r, e.Photos, nil)
			}
			if e.AddressID != "" {
				q.AddressID = e.AddressID
			}
			if e.Into != "" {
				into = e.Into
			}
			links = append(links, e.Links...)
			if ext {
				hist = append(hist, note{Datetime: iso(e.At), Action: e.Action, Status: extendedStatus(e.Action, e.To),
					Description: e.Note, MediaURL: s.mediaURL(r, e.Photos, e.Links)})
			}
		}
		if q.MediaURL == "" && len(links) > 0 {
			q.MediaURL = links[0]
		}
		if ext {
			q.ExtendedAttributes = &extended{GridCode: c.GridCode, Channel: string(c.Channel), ExtendedStatus: caseStatus(c),
				WorkflowState: string(c.State), DuplicateOf: into}
			if len(links) > 0 {
				q.ExtendedAttributes.MediaURLs = &urlList{Items: links}
			}
			if len(hist) > 0 {
				q.Notes = &noteList{Items: hist}
			}
		}
		out = append(out, q)
	}
	return out, nil
}

// Limits of GET requests.{fmt} and servicerequestupdates.{fmt}.
const (
	// defaultLimit is the standard's: without paging, up to 1000 items.
	defaultLimit = 1000
	// With page or page_size, the common extension's pages: 50 items by
	// default, at most 500.
	defaultPageSize, maxPageSize = 50, 500
	// window bounds start_date/end_date: 90 days by default and at most.
	window = 90 * 24 * time.Hour
	// Radius of a lat/long search in metres: 500 by default, at most 10 km
	// (about a district), so one query never sweeps a province.
	defaultRadius, maxRadius = 500, 10_000
)

// paging reads page and page_size: without either, the standard's limit.
func paging(get func(string) string) (limit, offset int, bad []FieldError) {
	ps, pg := get("page_size"), get("page")
	if ps == "" && pg == "" {
		return defaultLimit, 0, nil
	}
	size, page := defaultPageSize, 1
	if ps != "" {
		n, err := strconv.Atoi(ps)
		if err != nil || n < 1 || n > maxPageSize {
			bad = append(bad, FieldError{Field: "page_size", Key: "open311.error.range", Args: []any{"page_size", 1, maxPageSize}})
		} else {
			size = n
		}
	}
	if pg != "" {
		n, err := strconv.Atoi(pg)
		if err != nil || n < 1 || n > 1_000_000 {
			bad = append(bad, FieldError{Field: "page", Key: "open311.error.range", Args: []any{"page", 1, 1_000_000}})
		} else {
			page = n
		}
	}
	return size, (page - 1) * size, bad
}

// dateWindow reads start_date and end_date into [from, to): the 90 days up
// to now by default, and never wider than 90 days.
func (s *Server) dateWindow(get func(string) string) (from, to time.Time, bad []FieldError) {
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"start_date", &from}, {"end_date", &to}} {
		if v := get(p.name); v != "" {
			t, ok := parseTime(v)
			if !ok {
				bad = append(bad, FieldError{Field: p.name, Key: "open311.error.datetime", Args: []any{p.name}})
			}
			*p.dst = t
		}
	}
	switch {
	case from.IsZero() && to.IsZero():
		to = s.d.Clock.Now().Add(time.Minute)
		from = to.Add(-window)
	case from.IsZero():
		from = to.Add(-window)
	case to.IsZero() || to.Sub(from) > window:
		to = from.Add(window)
	}
	return from, to, bad
}

// near reads lat, long and radius: nil when no point is asked for.
func near(get func(string) string) (*cases.Near, []FieldError) {
	lat, long, rad := get("lat"), get("long"), get("radius")
	if lat == "" && long == "" {
		if rad != "" {
			return nil, []FieldError{{Field: "radius", Key: "open311.error.radius_point"}}
		}
		return nil, nil
	}
	la, lo, ok := point(lat, long)
	if !ok {
		return nil, []FieldError{{Field: "lat/long", Key: "open311.error.point"}}
	}
	n := &cases.Near{Lat: la, Lng: lo, Radius: defaultRadius}
	if rad != "" {
		r, err := strconv.ParseFloat(rad, 64)
		if err != nil || !(r >= 1 && r <= maxRadius) {
			return nil, []FieldError{{Field: "radius", Key: "open311.error.range", Args: []any{"radius", 1, maxRadius}}}
		}
		n.Radius = r
	}
	return n, nil
}

// extensionsOn reports whether the client asked for extensions=true; any
// other value leaves them off.
func extensionsOn(get func(string) string) bool { return strings.EqualFold(get("extensions"), "true") }

// listRequests serves GET requests.{fmt} with the standard's filters plus
// page/page_size, updated_after/updated_before, lat/long/radius and
// extensions.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, f string) {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	var pf cases.PublicFilter
	var bad []FieldError
	pf.Limit, pf.Offset, bad = paging(get)
	if v := get("service_request_id"); v != "" {
		// The standard: a list of ids overrides every other filter.
		for _, n := range strings.Split(v, ",") {
			if id, err := s.d.Cases.PublicIDByNumber(r.Context(), strings.TrimSpace(n)); err == nil {
				pf.IDs = append(pf.IDs, id)
			}
		}
		if len(bad) == 0 && len(pf.IDs) == 0 {
			s.write(w, f, http.StatusOK, requestList{}, []request{})
			return
		}
	} else {
		if v := get("service_code"); v != "" {
			pf.Categories = strings.Split(v, ",")
		}
		var more []FieldError
		pf.From, pf.To, more = s.dateWindow(get)
		bad = append(bad, more...)
		for _, p := range []struct {
			name string
			dst  *time.Time
		}{{"updated_after", &pf.UpdatedAfter}, {"updated_before", &pf.UpdatedBefore}} {
			if v := get(p.name); v != "" {
				t, ok := parseTime(v)
				if !ok {
					bad = append(bad, FieldError{Field: p.name, Key: "open311.error.datetime", Args: []any{p.name}})
				}
				*p.dst = t
			}
		}
		pf.Near, more = near(get)
		bad = append(bad, more...)
		if v := get("status"); v != "" {
			for _, st := range strings.Split(v, ",") {
				switch strings.TrimSpace(st) {
				case "open":
					pf.Open = true
				case "closed":
					pf.Closed = true
				default:
					bad = append(bad, FieldError{Field: "status", Key: "open311.error.status", Args: []any{"open, closed"}})
				}
			}
		}
	}
	if len(bad) > 0 {
		s.failFields(w, r, bad)
		return
	}
	cs, err := s.d.Cases.PublicCases(r.Context(), pf)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	out, err := s.view(r, cs, s.d.I18n.Match(r.Header.Get("Accept-Language")), extensionsOn(get))
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
	get := func(k string) string { return strings.TrimSpace(r.URL.Query().Get(k)) }
	out, err := s.view(r, []cases.Case{c}, s.d.I18n.Match(r.Header.Get("Accept-Language")), extensionsOn(get))
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	s.write(w, f, http.StatusOK, requestList{Requests: out}, out)
}

// token serves GET tokens/{token}.{fmt}. Every service here is realtime:
// POST requests answers with the service_request_id at once and never
// hands out a token, so no token exists to look up and each is unknown
// (404, in the requested format).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	tok, _, ok := format(r.PathValue("file"))
	if !ok {
		s.notFound(w, r)
		return
	}
	s.fail(w, r, http.StatusNotFound, "open311.error.unknown_token", tok)
}

// media serves the photo of a public step, the media_url of requests and
// updates: anyone may see what a case's public timeline shows, and
// nothing else.
func (s *Server) media(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		s.notFound(w, r)
		return
	}
	ct, data, err := s.d.Cases.PublicPhoto(r.Context(), id)
	if err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			s.notFound(w, r)
			return
		}
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	h := w.Header()
	// A photo never changes under its id, and a public step stays public.
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Content-Type", ct)
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Content-Disposition", "inline")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(data)
}

// failWith turns a service error into a GeoReport error: 403 for
// permissions, 404 for what is not there, 503 when the service cannot
// answer, 400 for everything else, one error per bad field, each naming
// the field as the client sent it.
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
	if len(p.Fields) == 0 {
		s.errors(w, r, status, []apiError{{Code: status, Description: p.Message}})
		return
	}
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]apiError, 0, len(keys))
	for _, k := range keys {
		out = append(out, apiError{Code: status, Description: openField(k) + ": " + p.Fields[k]})
	}
	s.errors(w, r, status, out)
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
	case "links":
		return "media_url"
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
