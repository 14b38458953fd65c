package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
)

// createUser handles POST /admin/users. An account created here must choose
// its own password at its first login; the administrator never knows it
// for long. Invalid input shows the list again with the form filled in.
func (w *Web) createUser(rw http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	_, err := w.auth.CreateUser(ctx, auth.ActorFrom(ctx), auth.NewUser{
		Username:           r.PostFormValue("username"),
		DisplayName:        r.PostFormValue("display_name"),
		Password:           r.PostFormValue("password"),
		Role:               auth.Role(r.PostFormValue("role")),
		Scope:              r.PostFormValue("scope"),
		MustChangePassword: true,
	})
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, formValues(r, "username", "display_name", "role", "scope"))
		if !ok {
			return err
		}
		p := w.newPage(r, "users", "/admin/users")
		p.Form = f
		return w.renderUsers(rw, r, status, p, usersData{})
	}
	return redirect(rw, r, "/admin/users?ok=created")
}
