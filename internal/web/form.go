package web

import (
	"crypto/subtle"
	"errors"
	"mime"
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

// parseForm reads a posted form. A body over the server's limit is
// TooLarge, an undecodable one Invalid: bad input never becomes a 500.
func parseForm(r *http.Request) error {
	const op = "web.parseForm"
	parse := r.ParseForm
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		// ParseForm leaves multipart bodies alone, and the anti-forgery token
		// travels inside them. Uploads beyond this much memory spill to
		// temporary files, which the server removes after the request.
		parse = func() error { return r.ParseMultipartForm(8 << 20) }
	}
	if err := parse(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errs.E(errs.TooLarge, op, "error.too_large")
		}
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.form.invalid", Err: err}
	}
	return nil
}

// validCSRF reports whether a posted form carries the anti-forgery token of
// the session it came with. An actor without a session (an API token) has no
// token to match, so its forms never pass.
func validCSRF(r *http.Request) bool {
	sid := httpx.SessionFrom(r.Context())
	if sid == "" {
		return false
	}
	got, want := r.PostFormValue("csrf"), auth.CSRFToken(sid)
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// form is what a page needs to show a form again after a failed submission:
// the entered values (never passwords) and the translated messages.
type form struct {
	Values  map[string]string
	Errors  map[string]string // field name → translated message
	Message string            // translated message about the whole form
}

// formValues copies the named fields of the posted form, to be shown again.
// Password fields are never listed, so they never travel back to the page.
func formValues(r *http.Request, names ...string) map[string]string {
	v := make(map[string]string, len(names))
	for _, n := range names {
		v[n] = r.PostFormValue(n)
	}
	return v
}

// formProblem translates a service error for showing beside a form. It
// reports false for errors that are not about the input (forbidden, not
// found, internal), which belong on an error page instead. A Retry-After
// header is set here, when the service asked for one.
func (w *Web) formProblem(rw http.ResponseWriter, r *http.Request, err error, values map[string]string) (form, int, bool) {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.Unauthenticated, errs.Conflict, errs.TooMany:
	default:
		return form{}, 0, false
	}
	p := httpx.Translate(w.i18n, w.lang(r), httpx.RequestID(r.Context()), err)
	if p.RetryAfter > 0 {
		rw.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	return form{Values: values, Errors: p.Fields, Message: p.Message}, p.Status, true
}

// fieldError is the form state for one bad field detected by the web face
// itself (before any service is called), such as a mistyped confirmation.
func (w *Web) fieldError(r *http.Request, values map[string]string, name, key string) form {
	lang := w.lang(r)
	return form{Values: values, Errors: map[string]string{name: w.i18n.T(lang, key)},
		Message: w.i18n.T(lang, "error.invalid_fields")}
}
