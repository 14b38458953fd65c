package api

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/people"
)

func (a *API) registerPeople(mux *http.ServeMux) {
	mux.Handle("POST /api/v1/houses", a.handle(a.createHouse, "write"))
	mux.Handle("POST /api/v1/residents", a.handle(a.createResident, "write"))
	// Searching takes a body, not a query string: identity and phone numbers
	// must not travel in URLs, which proxies and browsers log and keep.
	mux.Handle("POST /api/v1/residents/search", a.handle(a.searchResidents, "read"))
	mux.Handle("GET /api/v1/residents/{id}", a.handle(a.getResident, "read"))
	mux.Handle("POST /api/v1/residents/{id}/reveal", a.handle(a.revealResident, "read"))
}

func (a *API) createHouse(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in people.NewHouse
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	h, err := a.d.People.AddHouse(r.Context(), actor, in)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, h)
	return nil
}

func (a *API) createResident(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in people.NewResident
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	res, err := a.d.People.AddResident(r.Context(), actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/residents/"+strconv.FormatInt(res.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, res)
	return nil
}

func (a *API) searchResidents(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Name       string `json:"name"`
		Document   string `json:"document"`
		Phone      string `json:"phone"`
		BuildingID int64  `json:"building_id"`
		HouseID    int64  `json:"house_id"`
		Tag        string `json:"tag"`
		// Cursor is the next_cursor of the page before; After is its
		// older name, still accepted.
		Cursor string `json:"cursor"`
		After  int64  `json:"after"`
		Limit  int    `json:"limit"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Cursor != "" {
		n, err := strconv.ParseInt(in.Cursor, 10, 64)
		if err != nil || n < 0 {
			return errs.Fields("api.searchResidents", map[string]string{"cursor": "error.field.number"})
		}
		in.After = n
	}
	// The cursor is only right when the page holds what was asked for, so
	// a limit the service would not honour is refused, as in pageParams.
	switch {
	case in.Limit == 0:
		in.Limit = 50
	case in.Limit < 1 || in.Limit > 200:
		return errs.Fields("api.searchResidents", map[string]string{"limit": "error.field.limit"})
	}
	rs, err := a.d.People.Search(r.Context(), actor, people.Filter{Name: in.Name, Document: in.Document, Phone: in.Phone,
		BuildingID: in.BuildingID, HouseID: in.HouseID, Tag: in.Tag, AfterID: in.After, Limit: in.Limit})
	if err != nil {
		return err
	}
	p := Page[people.Resident]{Items: rs}
	if len(rs) == in.Limit {
		p.NextCursor = strconv.FormatInt(rs[len(rs)-1].ID, 10)
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) getResident(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := a.d.People.Resident(r.Context(), actor, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (a *API) revealResident(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	v, err := a.d.People.Reveal(r.Context(), actor, id, in.Field, in.Reason)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"field": in.Field, "value": v})
	return nil
}
