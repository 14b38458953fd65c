package web

import (
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
)

// errorHeadings name the kind of failure above the message, by status;
// statuses not listed get errorpage.failed.
var errorHeadings = map[int]string{
	http.StatusUnauthorized:    "errorpage.unauthenticated",
	http.StatusForbidden:       "errorpage.forbidden",
	http.StatusNotFound:        "errorpage.not_found",
	http.StatusTooManyRequests: "errorpage.too_many",
}

// errorData is what the error page shows.
type errorData struct {
	Heading string
	Message string
	// Problems are the messages of the fields named by a validation error
	// that reached this generic page (a form without its own page to show
	// them beside), so the reader learns what to change, not only that
	// something did.
	Problems []string
	// SignIn offers the login page, for errors a fresh session would fix.
	SignIn bool
}

// WriteError renders err as a full HTML page in the visitor's language, with
// the status httpx.Translate gives it and a Retry-After header when the
// error carries one. Internal errors are logged with the request id, and the
// page shows only that id, never the cause.
func (w *Web) WriteError(rw http.ResponseWriter, r *http.Request, err error) {
	reqID := httpx.RequestID(r.Context())
	if errs.CodeOf(err) == errs.Internal {
		w.log.LogAttrs(r.Context(), slog.LevelError, "web: internal error",
			slog.String("id", reqID), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
	}
	lang := w.lang(r)
	p := httpx.Translate(w.i18n, lang, reqID, err)
	h := rw.Header()
	h.Set("Cache-Control", "no-store")
	if p.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	pg := w.newPage(r, "", "/")
	heading, ok := errorHeadings[p.Status]
	if !ok {
		heading = "errorpage.failed"
	}
	pg.Data = errorData{Heading: pg.T(heading), Message: p.Message, SignIn: p.Code == errs.Unauthenticated && !pg.SignedIn(),
		Problems: sortedValues(p.Fields)}
	if rerr := w.render(rw, p.Status, "error", pg); rerr != nil {
		// The error page itself failed: fall back to plain text, which
		// cannot fail, rather than leave the visitor with nothing.
		w.log.LogAttrs(r.Context(), slog.LevelError, "web: error page failed",
			slog.String("id", reqID), slog.String("error", rerr.Error()))
		h.Set("Content-Type", "text/plain; charset=utf-8")
		rw.WriteHeader(p.Status)
		_, _ = rw.Write([]byte(p.Message + "\n"))
	}
}

// sortedValues lists a map's values in the order of its keys, so the page
// reads the same every time.
func sortedValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}
