package web

import (
	"net/http"
	"net/url"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

// setupData carries the one-time secret from the setup link into the form.
type setupData struct {
	Token string
}

// setupPage handles GET /setup?token=…: the form for the first administrator,
// shown only for the current setup secret while no account exists. Any other
// visitor gets a 404, so the page does not reveal that setup is pending.
func (w *Web) setupPage(rw http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("token")
	if !w.auth.CheckSetupToken(r.Context(), token) {
		return errs.E(errs.NotFound, "web.setupPage", "error.setup.invalid")
	}
	p := w.newPage(r, "", "/")
	p.Data = setupData{Token: token}
	return w.render(rw, http.StatusOK, "setup", p)
}

// setup handles POST /setup: it creates the first administrator and signs
// them in.
func (w *Web) setup(rw http.ResponseWriter, r *http.Request) error {
	token := r.PostFormValue("token")
	values := formValues(r, "username", "display_name")
	show := func(f form, status int) error {
		p := w.newPage(r, "", "/setup?token="+url.QueryEscape(token))
		p.Form, p.Data = f, setupData{Token: token}
		return w.render(rw, status, "setup", p)
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm_password") {
		if !w.auth.CheckSetupToken(r.Context(), token) {
			return errs.E(errs.NotFound, "web.setup", "error.setup.invalid")
		}
		return show(w.fieldError(r, values, "confirm_password", "error.password.mismatch"), http.StatusBadRequest)
	}
	sess, err := w.auth.CompleteSetup(r.Context(), token, auth.NewUser{
		Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), Password: password,
	}, httpx.ClientIP(r, w.trustProxy), r.UserAgent())
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, values)
		if !ok {
			return err
		}
		return show(f, status)
	}
	httpx.SetSessionCookie(rw, r, w.trustProxy, sess.ID)
	return redirect(rw, r, "/")
}
