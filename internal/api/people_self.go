package api

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

func (a *API) registerSelfService(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/signup", a.signUp)
	mux.Handle("POST /api/v1/me/verify", a.handle(a.verifySelf, "write"))
	mux.Handle("GET /api/v1/me/resident", a.handle(a.myRecord, "read"))
	mux.Handle("GET /api/v1/me/data", a.handle(a.myData, "read"))
	mux.Handle("POST /api/v1/residents/{id}/verify-in-person", a.handle(a.verifyInPerson, "write"))
}

// signUp opens a resident account; it is public, limited per address by the
// service, and answers with the session the web face would set as a cookie.
func (a *API) signUp(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Phone    string `json:"phone"`
		Password string `json:"password"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		a.WriteError(w, r, err)
		return
	}
	s, err := a.d.People.SignUp(r.Context(), a.d.Auth, in.Phone, in.Password, httpx.ClientIP(r, a.d.TrustProxy))
	if err != nil {
		a.WriteError(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusCreated, map[string]any{"username": s.Actor.Username, "role": s.Actor.Role})
}

func (a *API) verifySelf(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Name           string `json:"name"`
		DocumentNumber string `json:"document_number"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := a.d.People.VerifySelf(r.Context(), a.d.Auth, actor, in.Name, in.DocumentNumber); err != nil {
		return err
	}
	return a.myRecord(w, r, actor)
}

func (a *API) myRecord(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	rec, err := a.d.People.Me(r.Context(), actor)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteJSON(w, http.StatusOK, rec)
	return nil
}

func (a *API) myData(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	data, err := a.d.People.DownloadMyData(r.Context(), actor)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="my-data.json"`)
	httpx.WriteJSON(w, http.StatusOK, data)
	return nil
}

func (a *API) verifyInPerson(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var in struct {
		Username string `json:"username"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.Username == "" {
		return errs.Fields("api.verifyInPerson", map[string]string{"username": "error.field.required"})
	}
	if err := a.d.People.VerifyInPerson(r.Context(), a.d.Auth, actor, id, in.Username); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
