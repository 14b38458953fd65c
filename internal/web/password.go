package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/httpx"
)

// passwordPage handles GET /password. Accounts whose password was set by an
// administrator land here until they choose their own.
func (w *Web) passwordPage(rw http.ResponseWriter, r *http.Request) error {
	return w.render(rw, http.StatusOK, "password", w.newPage(r, "password", "/password"))
}

// changePassword handles POST /password. The confirmation is compared here,
// before the service is asked, because only the form has two copies; the
// service checks the current password and the new one's strength.
func (w *Web) changePassword(rw http.ResponseWriter, r *http.Request) error {
	newPw := r.PostFormValue("new_password")
	if newPw != r.PostFormValue("confirm_password") {
		p := w.newPage(r, "password", "/password")
		p.Form = w.fieldError(r, nil, "confirm_password", "error.password.mismatch")
		return w.render(rw, http.StatusBadRequest, "password", p)
	}
	ctx := r.Context()
	err := w.auth.ChangePassword(ctx, auth.ActorFrom(ctx), httpx.SessionFrom(ctx), r.PostFormValue("current_password"), newPw)
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, nil)
		if !ok {
			return err
		}
		p := w.newPage(r, "password", "/password")
		p.Form = f
		return w.render(rw, status, "password", p)
	}
	return redirect(rw, r, "/?ok=password")
}
