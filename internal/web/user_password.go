package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
)

// resetPassword handles POST /admin/users/{id}/password: an administrator
// sets a temporary password, which the account must replace at its next
// login. A rejected password is shown on a page of its own with the reset
// form for that one account, since the list row it came from may lie on any
// page of the list.
func (w *Web) resetPassword(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	actor := auth.ActorFrom(ctx)
	err = w.auth.ResetPassword(ctx, actor, id, r.PostFormValue("password"))
	if err == nil {
		return redirect(rw, r, "/admin/users?ok=password")
	}
	f, status, ok := w.formProblem(rw, r, err, nil)
	if !ok {
		return err
	}
	u, err := w.auth.UserByID(ctx, actor, id)
	if err != nil {
		return err
	}
	p := w.newPage(r, "users", "/admin/users")
	p.Form, p.Data = f, u
	return w.render(rw, status, "user_password", p)
}
