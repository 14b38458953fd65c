package open311

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
)

// created is the answer to a POST: the new request's id and a notice, and
// the client's account id echoed. Services are realtime, so never a token.
type created struct {
	XMLName       xml.Name `xml:"request" json:"-"`
	ID            string   `xml:"service_request_id" json:"service_request_id"`
	ServiceNotice string   `xml:"service_notice,omitempty" json:"service_notice,omitempty"`
	AccountID     string   `xml:"account_id,omitempty" json:"account_id,omitempty"`
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

// client reads a POST's form and authenticates its key: an API token with
// the open311 scope. It answers false once it has written the error.
func (s *Server) client(w http.ResponseWriter, r *http.Request) (auth.Actor, bool) {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		s.fail(w, r, http.StatusBadRequest, "open311.error.form")
		return auth.Actor{}, false
	}
	actor, err := s.d.Auth.AuthenticateToken(r.Context(), apiKey(r))
	if err != nil || actor.TokenID == 0 || !actor.HasTokenScope("open311") {
		s.fail(w, r, http.StatusForbidden, "open311.error.api_key")
		return auth.Actor{}, false
	}
	// The same per-token budget as the JSON API: a client is one client
	// whichever face it writes through.
	if d := s.d.Limiter.Allow(actor.TokenID); !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(int(d.RetryAfter.Seconds())+1))
		s.fail(w, r, http.StatusTooManyRequests, "error.rate_limited")
		return auth.Actor{}, false
	}
	return actor, true
}

// postRequest serves POST requests.{fmt}: a report from an Open311 client,
// taken in like any other channel's.
func (s *Server) postRequest(w http.ResponseWriter, r *http.Request, f string) {
	lang := s.d.I18n.Match(r.Header.Get("Accept-Language"))
	actor, ok := s.client(w, r)
	if !ok {
		return
	}
	var media []cases.Upload
	if r.MultipartForm != nil {
		for _, name := range []string{"media", "media[]"} {
			for _, fh := range r.MultipartForm.File[name] {
				if len(media) == maxUploads {
					break
				}
				file, err := fh.Open()
				if err != nil {
					s.fail(w, r, http.StatusBadRequest, "open311.error.form")
					return
				}
				defer file.Close()
				media = append(media, cases.Upload{Name: fh.Filename, R: file})
			}
		}
	}
	in, bad := ParseRequest(r.PostForm, media)
	if len(bad) > 0 {
		s.failFields(w, r, bad)
		return
	}
	svc, err := s.d.Catalog.ByRef(r.Context(), in.Case.Category)
	if err != nil || !svc.Public || !svc.Active {
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_service", in.Case.Category)
		return
	}
	if in.AddressID != 0 {
		// An address id is one of our buildings: its point places the
		// request unless the client sent one, its address names it.
		b, err := s.d.Territory.BuildingByID(r.Context(), in.AddressID)
		if err != nil {
			s.failFields(w, r, []FieldError{{Field: "address_id", Key: "open311.error.address_id", Args: []any{in.Case.AddressID}}})
			return
		}
		if in.Case.Lat == nil {
			in.Case.Lat, in.Case.Lng = &b.Lat, &b.Lng
		}
		if in.Case.Address == "" {
			in.Case.Address = b.Address
		}
	}
	if in.Case.Description == "" {
		// The standard makes the description optional (some clients send
		// only the attributes); the service's name then says what it is.
		in.Case.Description = s.d.I18n.T(lang, "open311.description.none", svc.Name.In(lang))
	}
	res, err := s.d.Cases.Report(r.Context(), actor, in.Case)
	if err != nil {
		s.failWith(w, r, err, lang)
		return
	}
	out := []created{{ID: res.Case.Number, ServiceNotice: s.d.I18n.T(lang, "open311.notice.received", res.Case.Number),
		AccountID: in.AccountID}}
	s.write(w, f, http.StatusOK, createdList{Requests: out}, out)
}
