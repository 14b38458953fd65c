package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/httpx"
)

// loginData carries the page to return to after signing in.
type loginData struct {
	Next string
}

// loginPage handles GET /login. A visitor who is already signed in goes on
// to where the link pointed.
func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) error {
	next := r.URL.Query().Get("next")
	if signedInActor(auth.ActorFrom(r.Context())) {
		return redirect(rw, r, safeRedirect(next))
	}
	p := w.newPage(r, "login", "/login")
	p.Data = loginData{Next: nextParam(next)}
	return w.render(rw, http.StatusOK, "login", p)
}

// login handles POST /login. A wrong password or a throttled attempt shows
// the login form again with the translated reason and the matching status
// (401, 429 with Retry-After); success opens a fresh session.
func (w *Web) login(rw http.ResponseWriter, r *http.Request) error {
	next := nextParam(r.PostFormValue("next"))
	sess, err := w.auth.Login(r.Context(), auth.LoginInput{
		Username:  r.PostFormValue("username"),
		Password:  r.PostFormValue("password"),
		IP:        httpx.ClientIP(r, w.trustProxy),
		UserAgent: r.UserAgent(),
	})
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, formValues(r, "username"))
		if !ok {
			return err
		}
		p := w.newPage(r, "login", "/login")
		p.Form, p.Data = f, loginData{Next: next}
		return w.render(rw, status, "login", p)
	}
	httpx.SetSessionCookie(rw, r, w.trustProxy, sess.ID)
	if l := sess.Actor.Locale; l != "" {
		w.setPrefCookie(rw, r, langCookie, l)
	}
	if sess.Actor.MustChangePassword {
		return redirect(rw, r, "/password")
	}
	return redirect(rw, r, safeRedirect(next))
}

// nextParam keeps a return path only when it is a safe local one, so that
// the login form never carries an off-site target along.
func nextParam(next string) string {
	if isLocalPath(next) {
		return next
	}
	return ""
}
