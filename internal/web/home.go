package web

import "net/http"

// homeNotices are the confirmations the home page shows after a redirect
// (?ok=…); the query names one, it never carries text.
var homeNotices = map[string]string{
	"password": "password.changed",
}

// home handles GET /: a greeting with the signed-in account's role and
// scope, and the links its role may use.
func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	p := w.newPage(r, "home", "/")
	p.Notice = noticeFor(p, homeNotices, r)
	return w.render(rw, http.StatusOK, "home", p)
}

// noticeFor translates the confirmation named by the ok query parameter,
// or returns "" when there is none or it is unknown.
func noticeFor(p *page, notices map[string]string, r *http.Request) string {
	if key, ok := notices[r.URL.Query().Get("ok")]; ok {
		return p.T(key)
	}
	return ""
}
