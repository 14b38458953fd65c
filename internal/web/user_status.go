package web

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// disableUser handles POST /admin/users/{id}/disable: the account can no
// longer sign in, and its sessions and API tokens end at once.
func (w *Web) disableUser(rw http.ResponseWriter, r *http.Request) error {
	return w.setDisabled(rw, r, true, "disabled")
}

// enableUser handles POST /admin/users/{id}/enable.
func (w *Web) enableUser(rw http.ResponseWriter, r *http.Request) error {
	return w.setDisabled(rw, r, false, "enabled")
}

func (w *Web) setDisabled(rw http.ResponseWriter, r *http.Request, disabled bool, notice string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := w.auth.SetDisabled(ctx, auth.ActorFrom(ctx), id, disabled); err != nil {
		return err
	}
	return redirect(rw, r, "/admin/users?ok="+notice)
}

// pathID reads the {id} of an account URL. A malformed id names no account,
// so it is answered like an unknown one.
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.E(errs.NotFound, "web.pathID", "error.user.not_found")
	}
	return id, nil
}
