package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
)

// TestEveryPageRendersInBothLanguages visits each page template in both
// languages and checks that no message key shows through untranslated.
func TestEveryPageRendersInBothLanguages(t *testing.T) {
	keys := templateKeys(t)
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			e := newEnv(t)
			secret, err := e.svc.NewSetupToken(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			anon := e.browser("")
			anon.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
			setup := anon.get("/setup?token=" + url.QueryEscape(secret))

			admin := e.user("admin", auth.SystemAdmin, "", false)
			e.user("auditor", auth.Auditor, "", false)
			e.user("district", auth.DistrictAdmin, "420106", false)
			signedIn := func(name string) *browser {
				b := e.browser("")
				b.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
				b.signIn(name)
				return b
			}
			a, au, da := signedIn("admin"), signedIn("auditor"), signedIn("district")
			pages := []struct {
				template string
				res      response
				status   int
			}{
				{"setup", setup, http.StatusOK},
				{"login", anon.get("/login"), http.StatusOK},
				{"error", anon.get("/no/such/page"), http.StatusNotFound},
				{"home", a.get("/"), http.StatusOK},
				{"password", a.get("/password"), http.StatusOK},
				{"users", a.get("/admin/users"), http.StatusOK},
				{"user_password", a.post("/admin/users/"+strconv.FormatInt(admin.ID, 10)+"/password",
					url.Values{"csrf": {a.csrf()}, "password": {"short"}}), http.StatusBadRequest},
				{"audit", au.get("/audit"), http.StatusOK},
				{"map", a.get("/map"), http.StatusOK},
				{"territory", da.get("/territory"), http.StatusOK},
			}
			var covered []string
			for _, p := range pages {
				wantStatus(t, p.res, p.status)
				wantHTML(t, p.res, `<html lang="`+lang+`"`)
				for _, k := range keys {
					if strings.Contains(p.res.Body, k) {
						t.Errorf("%s page shows the untranslated key %q", p.template, k)
					}
				}
				covered = append(covered, p.template)
			}
			for name := range e.web.pages {
				if !slices.Contains(covered, name) && !peoplePageTemplates[name] && !casePageTemplates[name] && !exportPageTemplates[name] && name != "apidoc" {
					t.Errorf("page template %s is not rendered by this test", name)
				}
			}
		})
	}
}

func TestLargeTextClassOnEveryPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	b.cookies["text"] = &http.Cookie{Name: "text", Value: "large"}
	for _, path := range []string{"/login", "/nope"} {
		wantHTML(t, b.get(path), `<html lang="zh-CN" class="large-text">`)
	}
}

func TestWriteErrorHidesInternalCauseAndShowsRequestID(t *testing.T) {
	e := newEnv(t)
	h := httpx.Observe(slog.New(slog.DiscardHandler), false)(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		e.web.WriteError(rw, r, errors.New("pq: relation secret_table does not exist"))
	}))
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Accept-Language", "en")
	h.ServeHTTP(rec, req)
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != http.StatusInternalServerError || id == "" {
		t.Fatalf("status %d, request id %q", rec.Code, id)
	}
	body := rec.Body.String()
	if strings.Contains(body, "secret_table") {
		t.Fatal("the error page reveals the internal cause")
	}
	if !strings.Contains(body, escaped(e.bundle.T(i18n.English, "error.internal", id))) {
		t.Fatalf("the error page lacks the request id:\n%s", body)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q", got)
	}
}

func TestWriteErrorSetsRetryAfter(t *testing.T) {
	e := newEnv(t)
	rec := httptest.NewRecorder()
	err := &errs.Error{Code: errs.TooMany, Msg: "error.too_many", RetryAfter: 30 * time.Second}
	e.web.WriteError(rec, httptest.NewRequest(http.MethodGet, "/", nil), err)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "31" {
		t.Fatalf("status %d, Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
}

func TestBadRequestsNeverAnswer500(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	b := e.browser("")
	b.signIn("admin")
	for _, tc := range []struct {
		method, path, body, contentType string
		status                          int
	}{
		{"POST", "/login", "%zz=%", "application/x-www-form-urlencoded", http.StatusBadRequest},
		{"POST", "/prefs", "lang=%ff%fe", "application/x-www-form-urlencoded", http.StatusForbidden},
		{"PUT", "/login", "", "", http.StatusMethodNotAllowed},
		{"GET", "/static/", "", "", http.StatusNotFound},
		{"GET", "/static/vendor/", "", "", http.StatusNotFound},
		{"GET", "/static/../web.go", "", "", http.StatusNotFound},
		{"GET", "/setup?token=%ff", "", "", http.StatusNotFound},
		{"POST", "/setup", "token=x&password=a&confirm_password=b", "application/x-www-form-urlencoded", http.StatusNotFound},
		{"POST", "/setup", "token=x&password=a&confirm_password=a", "application/x-www-form-urlencoded", http.StatusNotFound},
		{"GET", "/audit?before=1e9", "", "", http.StatusForbidden},
	} {
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.contentType != "" {
			req.Header.Set("Content-Type", tc.contentType)
		}
		res := b.do(req)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s: status %d, want %d", tc.method, tc.path, res.StatusCode, tc.status)
		}
	}
}

func TestOversizedFormIsTooLarge(t *testing.T) {
	e := newEnv(t)
	h := httpx.LimitBody(1024, 1024)(e.h)
	req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader("username="+strings.Repeat("a", 4096)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", rec.Code)
	}
}
