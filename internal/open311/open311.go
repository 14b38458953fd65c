// Package open311 is the Open311 GeoReport v2 face of case handling, at
// /open311/v2/: the discovery document, the list of services (one per public
// category) and each service's definition (the category's questions), the
// service requests (cases) with their public history, and FixMyStreet's
// service-request updates, in XML and JSON as ../shared/OPEN311.md describes. The format is picked by the
// URL's suffix; errors come in the same format as the request asked for.
package open311

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/ratelimit"
	"github.com/gridhall/gridhall/internal/territory"
)

// Prefix is where GeoReport v2 is served.
const Prefix = "/open311/v2/"

// Deps are what the face needs.
type Deps struct {
	Catalog *catalog.Service
	Cases   *cases.Service
	Auth    *auth.Service
	// Territory resolves a request's address_id to its building.
	Territory *territory.Service
	Clock     clock.Clock
	I18n      *i18n.Bundle
	// BaseURL is the public URL of the installation, for the discovery
	// document's endpoint ("" uses the request's host).
	BaseURL string
	// Contact is shown in the discovery document.
	Contact string
	// Limiter bounds each API token's request rate, shared with the JSON
	// API (nil: no limit).
	Limiter *ratelimit.Limiter
	// Changeset is when this face last changed, for discovery.
	Changeset time.Time
}

// Server serves GeoReport v2.
type Server struct{ d Deps }

// New returns the GeoReport v2 face.
func New(d Deps) *Server { return &Server{d: d} }

// Register mounts the routes. A catch-all answers unknown resources with a
// GeoReport error rather than the site's HTML page.
func (s *Server) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+Prefix+"{file}", s.top)
	mux.HandleFunc("POST "+Prefix+"{file}", s.topPost)
	mux.HandleFunc("GET "+Prefix+"services/{file}", s.definition)
	mux.HandleFunc("GET "+Prefix+"requests/{file}", s.oneRequest)
	mux.HandleFunc("GET "+Prefix+"tokens/{file}", s.token)
	mux.HandleFunc("GET "+Prefix+"media/{id}", s.media)
	mux.HandleFunc(Prefix, s.notFound)
}

// UploadPrefix is where GeoReport clients post bodies as large as uploads:
// POST requests.{fmt} carries media[] photos.
const UploadPrefix = Prefix + "requests"

// top serves the resources at the root: discovery, services, requests and
// FixMyStreet's servicerequestupdates.
func (s *Server) top(w http.ResponseWriter, r *http.Request) {
	name, f, ok := format(r.PathValue("file"))
	switch {
	case ok && name == "discovery":
		s.discovery(w, r, f)
	case ok && name == "services":
		s.services(w, r, f)
	case ok && name == "requests":
		s.listRequests(w, r, f)
	case ok && name == "servicerequestupdates":
		s.listUpdates(w, r, f)
	default:
		s.notFound(w, r)
	}
}

// topPost serves POST requests.{fmt} and servicerequestupdates.{fmt}.
func (s *Server) topPost(w http.ResponseWriter, r *http.Request) {
	name, f, ok := format(r.PathValue("file"))
	switch {
	case ok && name == "requests":
		s.postRequest(w, r, f)
	case ok && name == "servicerequestupdates":
		s.postUpdate(w, r, f)
	default:
		s.notFound(w, r)
	}
}

// format splits "name.xml" / "name.json"; ok is false for anything else.
func format(file string) (name, f string, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i < 0 {
		return "", "", false
	}
	name, f = file[:i], file[i+1:]
	return name, f, f == "xml" || f == "json"
}

// formatOf is the format the path asks for, XML when it names none: the
// standard's mandatory format, so that even a malformed URL gets an error
// a client can read.
func formatOf(path string) string {
	if strings.HasSuffix(path, ".json") {
		return "json"
	}
	return "xml"
}

// apiError is one entry of a GeoReport error list.
type apiError struct {
	XMLName     xml.Name `xml:"error" json:"-"`
	Code        int      `xml:"code" json:"code"`
	Description string   `xml:"description" json:"description"`
}

type errorList struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []apiError `xml:"error"`
}

// fail writes a GeoReport error in the request's format and language.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, key string, args ...any) {
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	s.errors(w, r, status, []apiError{{Code: status, Description: s.d.I18n.T(lang, key, args...)}})
}

// failFields writes a 400 with one error per refused parameter, each
// description naming the parameter as the client sent it.
func (s *Server) failFields(w http.ResponseWriter, r *http.Request, fes []FieldError) {
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	out := make([]apiError, 0, len(fes))
	for _, fe := range fes {
		out = append(out, apiError{Code: http.StatusBadRequest,
			Description: fe.Field + ": " + s.d.I18n.T(lang, fe.Key, fe.Args...)})
	}
	s.errors(w, r, http.StatusBadRequest, out)
}

// errors writes a list of GeoReport errors in the format the path asks for.
func (s *Server) errors(w http.ResponseWriter, r *http.Request, status int, es []apiError) {
	s.write(w, formatOf(r.URL.Path), status, errorList{Errors: es}, es)
}

// write renders v as XML (with its declaration) or jsonV as JSON.
func (s *Server) write(w http.ResponseWriter, f string, status int, xmlV, jsonV any) {
	if f == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(jsonV)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	_ = enc.Encode(xmlV)
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.fail(w, r, http.StatusNotFound, "open311.error.not_found")
}

// iso writes a GeoReport datetime: W3C ISO 8601, no fractional seconds.
func iso(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

type endpoint struct {
	XMLName       xml.Name `xml:"endpoint" json:"-"`
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

type discoveryDoc struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact,omitempty" json:"contact,omitempty"`
	KeyService string     `xml:"key_service,omitempty" json:"key_service,omitempty"`
	Endpoints  []endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

// base is the installation's public URL without a trailing slash: the
// configured one, else the request's scheme and host.
func (s *Server) base(r *http.Request) string {
	if s.d.BaseURL != "" {
		return strings.TrimRight(s.d.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) discovery(w http.ResponseWriter, r *http.Request, f string) {
	base := s.base(r)
	cs := iso(s.d.Changeset)
	doc := discoveryDoc{Changeset: cs, Contact: s.d.Contact,
		KeyService: strings.TrimRight(base, "/") + "/admin/users",
		Endpoints: []endpoint{{Specification: "http://wiki.open311.org/GeoReport_v2",
			URL: strings.TrimRight(base, "/") + strings.TrimSuffix(Prefix, "/"), Changeset: cs, Type: "production",
			Formats: []string{"text/xml", "application/json"}}}}
	s.write(w, f, http.StatusOK, doc, doc)
}

// service is one entry of services.{fmt}.
type service struct {
	XMLName     xml.Name `xml:"service" json:"-"`
	Code        string   `xml:"service_code" json:"service_code"`
	Name        string   `xml:"service_name" json:"service_name"`
	Description string   `xml:"description,omitempty" json:"description,omitempty"`
	Metadata    bool     `xml:"metadata" json:"metadata"`
	Type        string   `xml:"type" json:"type"`
	Keywords    string   `xml:"keywords,omitempty" json:"keywords,omitempty"`
	Group       string   `xml:"group,omitempty" json:"group,omitempty"`
}

type serviceList struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

func (s *Server) services(w http.ResponseWriter, r *http.Request, f string) {
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	cs, err := s.d.Catalog.Categories(r.Context(), catalog.Filter{PublicOnly: true, ActiveOnly: true, Lang: lang})
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	out := make([]service, 0, len(cs))
	for _, c := range cs {
		out = append(out, service{Code: c.Ref(), Name: c.Name.In(lang), Metadata: hasQuestions(c), Type: "realtime",
			Keywords: strings.Join(strings.FieldsFunc(c.Keywords, func(r rune) bool { return r == ',' || r == '，' }), ", "),
			Group:    c.GroupName.In(lang)})
	}
	s.write(w, f, http.StatusOK, serviceList{Services: out}, out)
}

// hasQuestions reports whether a category asks the reporter anything, which
// is what a service's metadata flag tells clients.
func hasQuestions(c catalog.Category) bool {
	for _, a := range c.Attributes {
		if a.Variable {
			return true
		}
	}
	return false
}

type value struct {
	XMLName xml.Name `xml:"value" json:"-"`
	Key     string   `xml:"key" json:"key"`
	Name    string   `xml:"name" json:"name"`
}

type attribute struct {
	XMLName             xml.Name   `xml:"attribute" json:"-"`
	Variable            bool       `xml:"variable" json:"variable"`
	Code                string     `xml:"code" json:"code"`
	Datatype            string     `xml:"datatype" json:"datatype"`
	Required            bool       `xml:"required" json:"required"`
	DatatypeDescription string     `xml:"datatype_description,omitempty" json:"datatype_description,omitempty"`
	Order               int        `xml:"order" json:"order"`
	Description         string     `xml:"description" json:"description"`
	Values              *valueList `xml:"values,omitempty" json:"values,omitempty"`
}

// valueList holds an attribute's values; a pointer, so that an attribute
// without values has no empty <values> element (see noteList).
type valueList struct {
	Items []value `xml:"value"`
}

func (l valueList) MarshalJSON() ([]byte, error) { return json.Marshal(l.Items) }

type definitionDoc struct {
	XMLName    xml.Name    `xml:"service_definition" json:"-"`
	Code       string      `xml:"service_code" json:"service_code"`
	Attributes []attribute `xml:"attributes>attribute" json:"attributes"`
}

func (s *Server) definition(w http.ResponseWriter, r *http.Request) {
	code, f, ok := format(r.PathValue("file"))
	if !ok {
		s.notFound(w, r)
		return
	}
	c, err := s.d.Catalog.ByRef(r.Context(), code)
	if err != nil || !c.Public || !c.Active {
		if err != nil && errs.CodeOf(err) != errs.NotFound && errs.CodeOf(err) != errs.Invalid {
			s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
			return
		}
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_service", code)
		return
	}
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	doc := definitionDoc{Code: c.Ref(), Attributes: []attribute{}}
	for _, a := range c.Attributes {
		at := attribute{Variable: a.Variable, Code: a.Code, Datatype: string(a.Datatype), Required: a.Required,
			Order: a.Order, Description: a.Description.In(lang)}
		for _, v := range a.Values {
			if at.Values == nil {
				at.Values = &valueList{}
			}
			at.Values.Items = append(at.Values.Items, value{Key: v.Key, Name: v.Name.In(lang)})
		}
		doc.Attributes = append(doc.Attributes, at)
	}
	s.write(w, f, http.StatusOK, doc, doc)
}
