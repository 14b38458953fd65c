package web

import (
	"context"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
)

// testPassword is the password of every account the tests create.
const testPassword = "correct horse battery"

// env is the web face on a real account service and a fresh SQLite
// database, wrapped in the same middleware the app uses.
type env struct {
	t      *testing.T
	svc    *auth.Service
	audit  *audit.Log
	bundle *i18n.Bundle
	web    *Web
	h      http.Handler
}

func newEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t, db.SQLite)
	al := audit.New(d)
	return envWith(t, Deps{Auth: testAuth(d, al), Audit: al})
}

// testAuth is a real account service on d with cheap hashing: the tests
// sign in often and run under -race.
func testAuth(d *db.DB, al *audit.Log) *auth.Service {
	return auth.NewService(d, al, clock.System{}, auth.Settings{
		SessionIdle: time.Hour, SessionAbsolute: 12 * time.Hour,
		LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginWindow: 15 * time.Minute,
		Argon2: auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1},
	})
}

// envWith builds the web face from deps (the caller sets Auth, Audit and any
// capability services; the catalogs, logger, clock and version are filled in
// here) and wraps it in the app's routing and authentication middleware.
func envWith(t *testing.T, deps Deps) *env {
	t.Helper()
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	deps.I18n, deps.Log, deps.Clock, deps.Version = bundle, log, clock.System{}, "test-1.2.3"
	w, err := New(deps)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	w.Register(mux)
	h := httpx.Chain(httpx.Router(mux, w.WriteError), httpx.Observe(log, false), httpx.Authenticate(deps.Auth, false, w.WriteError))
	return &env{t: t, svc: deps.Auth, audit: deps.Audit, bundle: bundle, web: w, h: h}
}

// user creates an account directly through the service.
func (e *env) user(name string, role auth.Role, scope string, mustChange bool) auth.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), auth.SystemActor("test"), auth.NewUser{
		Username: name, DisplayName: "Display " + name, Password: testPassword, Role: role, Scope: scope, MustChangePassword: mustChange,
	})
	if err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// browser keeps cookies between requests to env's handler, like a real one,
// but does not follow redirects, so that tests see them.
type browser struct {
	e              *env
	cookies        map[string]*http.Cookie
	acceptLanguage string
}

func (e *env) browser(acceptLanguage string) *browser {
	return &browser{e: e, cookies: map[string]*http.Cookie{}, acceptLanguage: acceptLanguage}
}

// response is a finished response with its body read.
type response struct {
	*http.Response
	Body string
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	if b.acceptLanguage != "" {
		req.Header.Set("Accept-Language", b.acceptLanguage)
	}
	for _, c := range b.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, req)
	res := rec.Result()
	res.Request = req
	body, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return response{Response: res, Body: string(body)}
}

func (b *browser) get(target string) response {
	b.e.t.Helper()
	return b.do(httptest.NewRequest(http.MethodGet, target, nil))
}

func (b *browser) post(target string, form url.Values) response {
	b.e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// session is the browser's session cookie value, or "".
func (b *browser) session() string {
	if c, ok := b.cookies[httpx.SessionCookieName(false)]; ok {
		return c.Value
	}
	return ""
}

// csrf is the anti-forgery token the pages give this browser's session.
func (b *browser) csrf() string { return auth.CSRFToken(b.session()) }

// signIn logs in and fails the test unless the login succeeded.
func (b *browser) signIn(username string) response {
	b.e.t.Helper()
	res := b.post("/login", url.Values{"username": {username}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || b.session() == "" {
		b.e.t.Fatalf("sign in %s: status %d, body %s", username, res.StatusCode, res.Body)
	}
	return res
}

// wantStatus fails the test unless res has the status.
func wantStatus(t *testing.T, res response, status int) {
	t.Helper()
	if res.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", res.Request.Method, res.Request.URL, res.StatusCode, status, res.Body)
	}
}

// wantRedirect fails the test unless res is a 303 to location.
func wantRedirect(t *testing.T, res response, location string) {
	t.Helper()
	wantStatus(t, res, http.StatusSeeOther)
	if got := res.Header.Get("Location"); got != location {
		t.Fatalf("%s %s: redirect to %q, want %q", res.Request.Method, res.Request.URL, got, location)
	}
}

// escaped is text as the templates write it into a page.
func escaped(text string) string {
	var b strings.Builder
	template.Must(template.New("").Parse("{{.}}")).Execute(&b, text)
	return b.String()
}

// wantText fails the test unless the page shows text.
func wantText(t *testing.T, res response, text string) {
	t.Helper()
	if !strings.Contains(res.Body, escaped(text)) {
		t.Fatalf("%s %s: page lacks %q; body:\n%s", res.Request.Method, res.Request.URL, text, res.Body)
	}
}

// wantHTML fails the test unless the page's markup contains fragment.
func wantHTML(t *testing.T, res response, fragment string) {
	t.Helper()
	if !strings.Contains(res.Body, fragment) {
		t.Fatalf("%s %s: markup lacks %q; body:\n%s", res.Request.Method, res.Request.URL, fragment, res.Body)
	}
}
