package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSafeRedirect(t *testing.T) {
	for in, want := range map[string]string{
		"/":                           "/",
		"/admin/users?q=wang&after=3": "/admin/users?q=wang&after=3",
		"/login?next=%2Faudit":        "/login?next=%2Faudit",
		"":                            "/",
		"audit":                       "/",
		"//evil.example":              "/",
		"///evil.example":             "/",
		"/\\evil.example":             "/",
		"/a\\b":                       "/",
		"/\t/evil.example":            "/",
		"/\n/evil.example":            "/",
		"/ /x":                        "/",
		"https://evil.example/":       "/",
		"javascript:alert(1)":         "/",
		"/" + strings.Repeat("a", maxRedirectLen): "/",
	} {
		if got := safeRedirect(in); got != want {
			t.Errorf("safeRedirect(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSafeRedirect checks that whatever safeRedirect lets through, once it
// has gone through http.Redirect and been resolved by a client against our
// own URL, still points at our own site.
func FuzzSafeRedirect(f *testing.F) {
	for _, s := range []string{"/", "/audit?before=3", "//evil", "/\\evil", "/%2F%2Fevil", "/.//evil", "/..//evil",
		"/a/../../evil", "http://evil", "/\x00", "/%0a/evil", "/?next=//evil", "/#//evil", "\\\\evil"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://gridhall.example/login")
	f.Fuzz(func(t *testing.T, target string) {
		got := safeRedirect(target)
		if got != "/" && got != target {
			t.Fatalf("safeRedirect(%q) = %q: neither the input nor /", target, got)
		}
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest(http.MethodPost, "/login", nil), got, http.StatusSeeOther)
		loc := rec.Header().Get("Location")
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("safeRedirect(%q) = %q: Location %q does not parse: %v", target, got, loc, err)
		}
		if r := base.ResolveReference(u); r.Scheme != base.Scheme || r.Host != base.Host || r.User != nil {
			t.Fatalf("safeRedirect(%q) = %q: Location %q leaves the site for %s", target, got, loc, r)
		}
		if strings.ContainsAny(loc, "\\\t\r\n") || strings.HasPrefix(loc, "//") {
			t.Fatalf("safeRedirect(%q): Location %q could be read as another site by a browser", target, loc)
		}
	})
}
