package open311

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/cases"
)

// update is one of FixMyStreet's service-request updates: a public step of
// a case after its report.
type update struct {
	XMLName            xml.Name `xml:"request_update" json:"-"`
	UpdateID           string   `xml:"update_id" json:"update_id"`
	ServiceRequestID   string   `xml:"service_request_id" json:"service_request_id"`
	Status             string   `xml:"status" json:"status"`
	UpdatedDatetime    string   `xml:"updated_datetime" json:"updated_datetime"`
	Description        string   `xml:"description,omitempty" json:"description,omitempty"`
	MediaURL           string   `xml:"media_url,omitempty" json:"media_url,omitempty"`
	ExternalStatusCode string   `xml:"external_status_code,omitempty" json:"external_status_code,omitempty"`
}

type updateList struct {
	XMLName xml.Name `xml:"service_request_updates"`
	Updates []update `xml:"request_update"`
}

// updateCreated is the answer to POST servicerequestupdates: the id of
// the timeline entry the update is.
type updateCreated struct {
	XMLName  xml.Name `xml:"request_update" json:"-"`
	UpdateID string   `xml:"update_id" json:"update_id"`
}

type updateCreatedList struct {
	XMLName xml.Name        `xml:"service_request_updates"`
	Updates []updateCreated `xml:"request_update"`
}

// listUpdates serves GET servicerequestupdates.{fmt}?start_date&end_date:
// the public steps of every case in the window, oldest first, each with
// the FixMyStreet status the case had after it (lower case, as
// FixMyStreet reads them) and GridHall's state as external_status_code.
func (s *Server) listUpdates(w http.ResponseWriter, r *http.Request, f string) {
	q := r.URL.Query()
	get := func(k string) string { return strings.TrimSpace(q.Get(k)) }
	var uf cases.UpdatesFilter
	var bad, more []FieldError
	uf.Limit, uf.Offset, bad = paging(get)
	uf.From, uf.To, more = s.dateWindow(get)
	if bad = append(bad, more...); len(bad) > 0 {
		s.failFields(w, r, bad)
		return
	}
	steps, err := s.d.Cases.PublicUpdates(r.Context(), uf)
	if err != nil {
		s.fail(w, r, http.StatusServiceUnavailable, "error.unavailable")
		return
	}
	out := make([]update, 0, len(steps))
	for _, e := range steps {
		out = append(out, update{UpdateID: strconv.FormatInt(e.ID, 10), ServiceRequestID: e.Number,
			Status: extendedStatus(e.Action, e.To), UpdatedDatetime: iso(e.At), Description: e.Note,
			MediaURL: s.mediaURL(r, e.Photos, e.Links), ExternalStatusCode: string(e.To)})
	}
	s.write(w, f, http.StatusOK, updateList{Updates: out}, out)
}

// postUpdate serves POST servicerequestupdates.{fmt}: a client's comment
// on a request goes on the case's public timeline, once per update_id.
func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request, f string) {
	actor, ok := s.client(w, r)
	if !ok {
		return
	}
	in, bad := ParseUpdate(r.PostForm)
	if len(bad) > 0 {
		s.failFields(w, r, bad)
		return
	}
	id, err := s.d.Cases.PublicIDByNumber(r.Context(), in.RequestID)
	if err != nil {
		s.fail(w, r, http.StatusNotFound, "open311.error.unknown_request", in.RequestID)
		return
	}
	in.Update.CaseID = id
	ev, err := s.d.Cases.AddClientUpdate(r.Context(), actor, in.Update)
	if err != nil {
		s.failWith(w, r, err, s.d.I18n.Match(r.Header.Get("Accept-Language")))
		return
	}
	out := []updateCreated{{UpdateID: strconv.FormatInt(ev, 10)}}
	s.write(w, f, http.StatusOK, updateCreatedList{Updates: out}, out)
}
