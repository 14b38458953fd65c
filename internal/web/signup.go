package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/httpx"
)

// signupPage handles GET /signup: a resident opens an account with their
// phone number and a password. Someone already signed in goes home.
func (w *Web) signupPage(rw http.ResponseWriter, r *http.Request) error {
	if signedInActor(auth.ActorFrom(r.Context())) {
		return redirect(rw, r, "/")
	}
	p := w.newPage(r, "signup", "/signup")
	return w.render(rw, http.StatusOK, "signup", p)
}

// signup handles POST /signup. The form is anonymous, so it carries no
// anti-forgery token and relies on http.CrossOriginProtection, like the
// login form; the service limits sign-ups per client address. Success signs
// the new resident in and sends them to their record, to verify it.
func (w *Web) signup(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.signup"
	if signedInActor(auth.ActorFrom(r.Context())) {
		return redirect(rw, r, "/")
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	values := formValues(r, "phone")
	show := func(f form, status int) error {
		p := w.newPage(r, "signup", "/signup")
		p.Form = f
		return w.render(rw, status, "signup", p)
	}
	password := r.PostFormValue("password")
	if password != r.PostFormValue("confirm_password") {
		return show(w.fieldError(r, values, "confirm_password", "error.password.mismatch"), http.StatusBadRequest)
	}
	sess, err := svc.SignUp(r.Context(), w.auth, r.PostFormValue("phone"), password, httpx.ClientIP(r, w.trustProxy))
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, values)
		if !ok {
			return err
		}
		return show(f, status)
	}
	httpx.SetSessionCookie(rw, r, w.trustProxy, sess.ID)
	return redirect(rw, r, "/me?ok=welcome")
}
