package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
)

func TestStaticFilesAreServedWithCacheHeaders(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	page := b.get("/login")
	for _, name := range []string{"app.css", "app.js", "icon.svg"} {
		sum := e.web.assets[name]
		if sum == "" {
			t.Fatalf("%s is not embedded", name)
		}
		url := "/static/" + name + "?v=" + sum
		wantHTML(t, page, url)
		res := b.get(url)
		wantStatus(t, res, http.StatusOK)
		if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
			t.Errorf("%s: Cache-Control %q, want a long immutable cache", url, got)
		}
		// An unversioned or outdated URL must be revalidated, not cached.
		stale := b.get("/static/" + name + "?v=old")
		if got := stale.Header.Get("Cache-Control"); got != "no-cache" {
			t.Errorf("%s?v=old: Cache-Control %q, want no-cache", name, got)
		}
		req := b.get("/static/" + name)
		etag := req.Header.Get("ETag")
		r := httptest.NewRequest(http.MethodGet, "/static/"+name, nil)
		r.Header.Set("If-None-Match", etag)
		if res := b.do(r); res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: status %d, want 304", name, res.StatusCode)
		}
	}
	if ct := b.get("/static/app.css").Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("app.css Content-Type %q", ct)
	}
	wantStatus(t, b.get("/static/missing.css"), http.StatusNotFound)
}

// The stylesheet and script must work under a CSP without 'unsafe-inline':
// no page may carry inline style or script.
func TestPagesHaveNoInlineScriptOrStyle(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	e.user("other", auth.Resident, "", false)
	b := e.browser("")
	pages := []response{b.get("/login")}
	b.signIn("admin")
	pages = append(pages, b.get("/"), b.get("/password"), b.get("/admin/users"))
	for _, res := range pages {
		for _, bad := range []string{"<style", " style=", "<script>", " onclick=", " onchange=", " onsubmit=", "javascript:"} {
			if strings.Contains(res.Body, bad) {
				t.Errorf("%s contains %q", res.Request.URL, bad)
			}
		}
	}
}
