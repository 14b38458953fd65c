package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/people"
)

// registerVisits adds the visits log, the care schedule and the population
// statistics, which are built on the registry.
func (a *API) registerVisits(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/visits", a.handle(a.createVisit, "write"))
	mux.Handle("GET /api/v1/visits", a.handle(a.listVisits, "read"))
	mux.Handle("GET /api/v1/care", a.handle(a.careDue, "read"))
	mux.Handle("GET /api/v1/stats/population", a.handle(a.populationStats, "read"))
}

func (a *API) createVisit(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	// Times travel as strings and are parsed here, so that a malformed one
	// is reported against its field rather than as a bad body.
	var in struct {
		HouseholdIDs []int64          `json:"household_ids"`
		Companions   string           `json:"companions"`
		StartedAt    string           `json:"started_at"`
		EndedAt      string           `json:"ended_at"`
		Findings     []people.Finding `json:"findings"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	f := map[string]string{}
	instant := func(field, s string) time.Time {
		if s == "" {
			return time.Time{} // the service reports it as required
		}
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			f[field] = "people.visit.time_format"
		}
		return t
	}
	nv := people.NewVisit{HouseholdIDs: in.HouseholdIDs, Companions: in.Companions, Findings: in.Findings,
		StartedAt: instant("started_at", in.StartedAt), EndedAt: instant("ended_at", in.EndedAt)}
	if len(f) > 0 {
		return errs.Fields("api.createVisit", f)
	}
	v, err := a.d.People.RecordVisit(r.Context(), actor, nv)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (a *API) listVisits(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	after, limit, err := pageParams(r, "after")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := map[string]string{}
	id := func(name string) int64 {
		s := q.Get(name)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			f[name] = "error.field.number"
		}
		return n
	}
	filter := people.VisitFilter{HouseholdID: id("household"), WorkerID: id("worker"), AfterID: after, Limit: limit}
	if len(f) > 0 {
		return errs.Fields("api.listVisits", f)
	}
	vs, err := a.d.People.Visits(r.Context(), actor, filter)
	if err != nil {
		return err
	}
	p := Page[people.Visit]{Items: vs}
	if len(vs) == limit {
		p.NextCursor = strconv.FormatInt(vs[len(vs)-1].ID, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) careDue(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var on time.Time // today
	if s := r.URL.Query().Get("on"); s != "" {
		// The schedule's days are Beijing days.
		d, err := time.ParseInLocation("2006-01-02", s, time.FixedZone("CST", 8*3600))
		if err != nil {
			return errs.Fields("api.careDue", map[string]string{"on": "people.care.on"})
		}
		on = d
	}
	items, err := a.d.People.CareDue(r.Context(), actor, on)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, Page[people.CareItem]{Items: items})
	return nil
}

func (a *API) populationStats(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	st, err := a.d.People.Stats(r.Context(), actor, r.URL.Query().Get("code"))
	if err != nil {
		return err
	}
	// Restricted tag counts depend on who asks: never shared by a cache.
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, st)
	return nil
}
