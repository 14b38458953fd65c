package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

func (a *API) me(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	httpx.WriteJSON(w, http.StatusOK, map[string]any{
		"id": actor.UserID, "username": actor.Username, "display_name": actor.DisplayName,
		"role": actor.Role, "scope": actor.Scope, "locale": actor.Locale, "must_change_password": actor.MustChangePassword,
	})
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		CurrentPassword string `json:"current_password"`
		NewPassword     string `json:"new_password"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if err := a.d.Auth.ChangePassword(r.Context(), actor, httpx.SessionFrom(r.Context()), in.CurrentPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	after, limit, err := pageParams(r, "after")
	if err != nil {
		return err
	}
	users, err := a.d.Auth.ListUsers(r.Context(), actor, auth.UserFilter{Query: r.URL.Query().Get("q"), AfterID: after, Limit: limit})
	if err != nil {
		return err
	}
	p := Page[auth.User]{Items: users}
	if p.Items == nil {
		p.Items = []auth.User{}
	}
	if len(users) == limit {
		p.NextCursor = strconv.FormatInt(users[len(users)-1].ID, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}

func (a *API) createUser(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in auth.NewUser
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	u, err := a.d.Auth.CreateUser(r.Context(), actor, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/users/"+strconv.FormatInt(u.ID, 10))
	httpx.WriteJSON(w, http.StatusCreated, u)
	return nil
}

func (a *API) getUser(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	u, err := a.d.Auth.UserByID(r.Context(), actor, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, u)
	return nil
}

func (a *API) setDisabled(disabled bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := a.d.Auth.SetDisabled(r.Context(), actor, id, disabled); err != nil {
			return err
		}
		return a.getUser(w, r, actor)
	}
}

func (a *API) listTokens(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	ts, err := a.d.Auth.ListTokens(r.Context(), actor, 0)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []auth.Token{}
	}
	httpx.WriteJSON(w, http.StatusOK, Page[auth.Token]{Items: ts})
	return nil
}

func (a *API) createToken(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Username     string   `json:"username"`
		Name         string   `json:"name"`
		Scopes       []string `json:"scopes"`
		ExpiresInDay int      `json:"expires_in_days"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	if in.ExpiresInDay < 0 || in.ExpiresInDay > 3650 {
		return errs.Fields("api.createToken", map[string]string{"expires_in_days": "error.token.expiry"})
	}
	t, secret, err := a.d.Auth.CreateToken(r.Context(), actor, auth.NewToken{
		Username: in.Username, Name: in.Name, Scopes: in.Scopes, ExpiresIn: time.Duration(in.ExpiresInDay) * 24 * time.Hour})
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, struct {
		auth.Token
		Secret string `json:"token"`
	}{t, secret})
	return nil
}

func (a *API) revokeToken(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := a.d.Auth.RevokeToken(r.Context(), actor, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) listAudit(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	if !auth.Can(actor, auth.ReadAudit, actor.Scope) {
		return errs.E(errs.Forbidden, "api.listAudit", "error.forbidden")
	}
	before, limit, err := pageParams(r, "before")
	if err != nil {
		return err
	}
	es, err := a.d.Audit.List(r.Context(), audit.Filter{BeforeSeq: before, ScopePath: actor.Scope, Limit: limit})
	if err != nil {
		return errs.Wrap("api.listAudit", err)
	}
	p := Page[audit.Entry]{Items: es}
	if p.Items == nil {
		p.Items = []audit.Entry{}
	}
	if len(es) == limit {
		p.NextCursor = strconv.FormatInt(es[len(es)-1].Seq, 10)
	}
	httpx.WriteJSON(w, http.StatusOK, p)
	return nil
}
