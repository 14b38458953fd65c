package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/httpx"
)

// logout handles POST /logout: the session ends on the server, not only in
// this browser, so a copied cookie stops working too.
func (w *Web) logout(rw http.ResponseWriter, r *http.Request) error {
	if sid := httpx.SessionFrom(r.Context()); sid != "" {
		if err := w.auth.Logout(r.Context(), auth.ActorFrom(r.Context()), sid); err != nil {
			return err
		}
	}
	httpx.ClearSessionCookie(rw, r, w.trustProxy)
	return redirect(rw, r, "/login")
}
