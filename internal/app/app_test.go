package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

type site struct {
	*httptest.Server
	app   *app.App
	clock *clock.Fake
	admin string        // API token of the system administrator
	logs  *bytes.Buffer // everything the app logged
}

// newSite runs the whole HTTP stack on a real database of engine e.
func newSite(t testing.TB, e db.Engine) site {
	t.Helper()
	return newSiteWith(t, e, nil)
}

// newSiteWith is newSite with the configuration adjusted by tune first.
// Tests run on a fake clock that stands still, so API tokens get a bucket
// no test empties unless it sets a limit of its own.
func newSiteWith(t testing.TB, e db.Engine, tune func(*config.Config)) site {
	t.Helper()
	cfg := config.Default()
	cfg.APIBurst = 1_000_000
	o := dbtest.Options(t, e)
	cfg.DataDir, cfg.DB = t.TempDir(), o.PostgresDSN
	if e == db.SQLite {
		cfg.DB = o.SQLitePath
	}
	cfg.MaxBodyBytes = 4096
	if tune != nil {
		tune(&cfg)
	}
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := app.Open(context.Background(), cfg, log, app.Options{Version: "test", Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	console := auth.SystemActor("test")
	if _, err := a.Auth.CreateUser(ctx, console, auth.NewUser{Username: "admin", Password: "admin-password-1", Role: auth.SystemAdmin}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := a.Auth.CreateToken(ctx, console, auth.NewToken{Username: "admin", Name: "t", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	return site{Server: srv, app: a, clock: c, admin: tok, logs: logs}
}

// lockedWriter serialises writes from concurrent requests into one buffer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s site) do(t *testing.T, method, path, token, contentType, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

type apiError struct {
	Error struct {
		Code      string            `json:"code"`
		Message   string            `json:"message"`
		Fields    map[string]string `json:"fields"`
		RequestID string            `json:"request_id"`
	} `json:"error"`
}

func decodeError(t *testing.T, body string) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error.Code == "" {
		t.Fatalf("not a JSON error: %q", body)
	}
	return e
}

func TestEveryResponseCarriesSecurityHeaders(t *testing.T) {
	s := newSite(t, db.SQLite)
	for _, rq := range []struct{ method, path, token, ct, body string }{
		{"GET", "/", "", "", ""}, {"GET", "/login", "", "", ""}, {"GET", "/static/app.css", "", "", ""},
		{"GET", "/healthz", "", "", ""}, {"GET", "/readyz", "", "", ""}, {"GET", "/metrics", "", "", ""},
		{"GET", "/no/such/page", "", "", ""}, {"GET", "/api/v1/nothing", "", "", ""}, {"GET", "/api/v1/me", "", "", ""},
		{"GET", "/api/v1/me", s.admin, "", ""}, {"POST", "/api/v1/users", s.admin, "application/json", "{"},
		{"POST", "/login", "", "application/x-www-form-urlencoded", "username=a&password=b"}, {"PATCH", "/login", "", "", ""},
	} {
		resp, _ := s.do(t, rq.method, rq.path, rq.token, rq.ct, rq.body)
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("X-Content-Type-Options") != "nosniff" ||
			h.Get("Referrer-Policy") == "" || h.Get("X-Request-Id") == "" {
			t.Errorf("%s %s (%d): security headers missing: %v", rq.method, rq.path, resp.StatusCode, h)
		}
		if resp.StatusCode >= 500 {
			t.Errorf("%s %s answered %d", rq.method, rq.path, resp.StatusCode)
		}
	}
}

func TestUnknownRoutes(t *testing.T) {
	s := newSite(t, db.SQLite)
	resp, body := s.do(t, "GET", "/api/v1/nothing", s.admin, "", "")
	if resp.StatusCode != 404 || decodeError(t, body).Error.Code != "not_found" {
		t.Fatalf("API 404: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/no/such/page", "", "", "", "Accept", "text/html", "Accept-Language", "en")
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "not found") {
		t.Fatalf("page 404: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = s.do(t, "GET", "/no/such/page", "", "", "", "Accept-Language", "zh-CN")
	if resp.StatusCode != 404 || !strings.Contains(body, "找不到") {
		t.Fatalf("page 404 in Chinese: %d %.300s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "DELETE", "/api/v1/me", s.admin, "", "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") == "" || decodeError(t, body).Error.Message == "" {
		t.Fatalf("405: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

func TestMalformedJSONGetsA400NamingTheProblem(t *testing.T) {
	s := newSite(t, db.SQLite)
	cases := []struct{ body, want string }{
		{`{"username": "li", `, "cut short"},
		{`{"username": "li",}`, "at byte"},
		{`{"username": 7}`, `"username"`},
		{`{"username": "li", "favourite": 1}`, `"favourite"`},
		{`{"username": "li", "password": "` + strings.Repeat("x", 5000) + `"}`, "larger than 4096"},
	}
	for _, c := range cases {
		resp, body := s.do(t, "POST", "/api/v1/users", s.admin, "application/json", c.body, "Accept-Language", "en")
		e := decodeError(t, body)
		if resp.StatusCode/100 != 4 || !strings.Contains(e.Error.Message, c.want) {
			t.Errorf("%.40q: %d %s", c.body, resp.StatusCode, body)
		}
	}
	resp, body := s.do(t, "POST", "/api/v1/users", s.admin, "application/json", `{"username":"Bad Name","password":"x","role":"mayor"}`, "Accept-Language", "zh-CN")
	e := decodeError(t, body)
	if resp.StatusCode != 400 || e.Error.Code != "invalid" || e.Error.Fields["username"] == "" || e.Error.Fields["role"] != "未知角色。" {
		t.Fatalf("field errors: %d %s", resp.StatusCode, body)
	}
	users, _ := s.app.Auth.ListUsers(context.Background(), auth.SystemActor("t"), auth.UserFilter{})
	if len(users) != 1 {
		t.Fatalf("a rejected request changed something: %d users", len(users))
	}
}

func TestTenWrongPasswordsAreThrottledAndTheRightOneWorksAfterTheWindow(t *testing.T) {
	s := newSite(t, db.SQLite)
	form := func(pw string) (*http.Response, string) {
		return s.do(t, "POST", "/login", "", "application/x-www-form-urlencoded",
			url.Values{"username": {"admin"}, "password": {pw}}.Encode(), "Accept-Language", "en")
	}
	var last *http.Response
	var body string
	for i := 0; i < 10; i++ {
		last, body = form("wrong-password")
	}
	if last.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("10th wrong password: %d", last.StatusCode)
	}
	retry, err := strconv.Atoi(last.Header.Get("Retry-After"))
	if err != nil || retry <= 0 {
		t.Fatalf("Retry-After %q", last.Header.Get("Retry-After"))
	}
	if !strings.Contains(body, "Too many failed sign-in attempts") {
		t.Fatalf("throttle message not shown: %.500s", body)
	}
	if resp, _ := form("admin-password-1"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password inside the window: %d", resp.StatusCode)
	}
	s.clock.Advance(time.Duration(retry) * time.Second)
	resp, _ := form("admin-password-1")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Set-Cookie"), "gridhall_session=") {
		t.Fatalf("right password after the window: %d %v", resp.StatusCode, resp.Header)
	}
	ck := resp.Header.Get("Set-Cookie")
	if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
		t.Fatalf("session cookie attributes: %s", ck)
	}
	sid := strings.TrimPrefix(strings.Split(ck, ";")[0], "gridhall_session=")
	s.do(t, "GET", "/api/v1/me?token="+s.admin, s.admin, "", "")
	logged := s.logs.String()
	if !strings.Contains(logged, `"msg":"request"`) {
		t.Fatal("no access log captured")
	}
	for _, secret := range []string{"admin-password-1", "wrong-password", sid, s.admin} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log contains a secret (%.8s…)", secret)
		}
	}
}

func TestCrossSiteFormsAreRefused(t *testing.T) {
	s := newSite(t, db.SQLite)
	resp, _ := s.do(t, "POST", "/login", "", "application/x-www-form-urlencoded", "username=admin&password=admin-password-1",
		"Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site login form: %d", resp.StatusCode)
	}
}

func TestTokenScopesAndBadTokens(t *testing.T) {
	s := newSite(t, db.SQLite)
	_, readOnly, err := s.app.Auth.CreateToken(context.Background(), auth.SystemActor("t"), auth.NewToken{Username: "admin", Name: "ro", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, body := s.do(t, "GET", "/api/v1/users", readOnly, "", ""); resp.StatusCode != 200 || !strings.Contains(body, `"username":"admin"`) || strings.Contains(body, "argon2") {
		t.Fatalf("read with read token: %d %s", resp.StatusCode, body)
	}
	resp, body := s.do(t, "POST", "/api/v1/users", readOnly, "application/json", `{}`)
	if resp.StatusCode != 403 || decodeError(t, body).Error.Code != "forbidden" {
		t.Fatalf("write with read token: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{"Bearer gh_nope", "Basic YWRtaW46eA==", "Bearer " + readOnly + "x"} {
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", bad)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("%q: %d", bad, resp.StatusCode)
		}
	}
	resp, body = s.do(t, "POST", "/api/v1/users", s.admin, "application/json",
		`{"username":"li.na","display_name":"李娜","password":"li-na-password","role":"grid_worker","scope":"420106001002003"}`)
	if resp.StatusCode != 201 || resp.Header.Get("Location") == "" || !strings.Contains(body, `"scope":"420106/420106001/420106001002/420106001002003"`) {
		t.Fatalf("create user: %d %s", resp.StatusCode, body)
	}
}

func TestMetricsAndReadiness(t *testing.T) {
	s := newSite(t, db.SQLite)
	s.do(t, "GET", "/api/v1/users/1", s.admin, "", "")
	s.do(t, "GET", "/api/v1/users/2", s.admin, "", "")
	_, body := s.do(t, "GET", "/metrics", "", "", "")
	if !strings.Contains(body, `route="GET /api/v1/users/{id}"`) || strings.Contains(body, `/api/v1/users/1"`) {
		t.Fatalf("metrics not labelled by pattern:\n%s", grep(body, "gridhall_http_requests_total"))
	}
	resp, body := s.do(t, "GET", "/readyz", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("readyz: %d %s", resp.StatusCode, body)
	}
	s.app.DB.Close()
	resp, _ = s.do(t, "GET", "/readyz", "", "", "")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz with the database gone: %d", resp.StatusCode)
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestTheAPIRunsOnBothEngines(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			resp, body := s.do(t, "GET", "/api/v1/me", s.admin, "", "")
			if resp.StatusCode != 200 || !strings.Contains(body, `"role":"system_admin"`) {
				t.Fatalf("me: %d %s", resp.StatusCode, body)
			}
			resp, body = s.do(t, "GET", "/readyz", "", "", "")
			if resp.StatusCode != 200 || !strings.Contains(body, string(e)) {
				t.Fatalf("readyz: %d %s", resp.StatusCode, body)
			}
		})
	}
}
