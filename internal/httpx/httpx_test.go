package httpx

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestEveryCodeHasAStatus(t *testing.T) {
	for _, c := range []errs.Code{errs.Invalid, errs.NotFound, errs.Forbidden, errs.Unauthenticated, errs.Conflict,
		errs.TooMany, errs.Unavailable, errs.TooLarge, errs.Gone, errs.Internal} {
		if _, ok := statuses[c]; !ok {
			t.Errorf("code %s has no status", c)
		}
	}
	if Status("made-up") != 500 {
		t.Error("unknown code must be 500")
	}
}

type sample struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

func decodeString(body, contentType string) (sample, error) {
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	var s sample
	err := DecodeJSON(r, &s)
	return s, err
}

func TestDecodeJSONNamesTheProblem(t *testing.T) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		body, ct  string
		code      errs.Code
		field     string
		messageEN string
		messageZH string
	}{
		{`{"name":"a","count":1}`, "application/json", "", "", "", ""},
		{`{"name":"a"`, "application/json", errs.Invalid, "", "cut short", "不完整"},
		{`{"name":"a",}`, "application/json", errs.Invalid, "", "not valid JSON (at byte 13)", "第 13 字节"},
		{`{"name":"a","count":"many"}`, "application/json", errs.Invalid, "count", `Field "count" has the wrong type`, "字段“count”"},
		{`{"name":"a","colour":"red"}`, "application/json", errs.Invalid, "colour", `"colour" is not known`, "未知字段“colour”"},
		{`{"name":"a"} {"name":"b"}`, "application/json", errs.Invalid, "", "after the JSON value", "多余数据"},
		{``, "application/json", errs.Invalid, "", "empty", "为空"},
		{`name=a`, "application/x-www-form-urlencoded", errs.Invalid, "", "must be JSON", "须为 JSON"},
		{`[1,2]`, "", errs.Invalid, "", "wrong type", "类型不对"},
	}
	for _, c := range cases {
		_, err := decodeString(c.body, c.ct)
		if errs.CodeOf(err) != c.code {
			t.Errorf("%q: code %q, want %q (%v)", c.body, errs.CodeOf(err), c.code, err)
			continue
		}
		if err == nil {
			continue
		}
		if c.field != "" && errs.As(err).Fields[c.field] == "" {
			t.Errorf("%q: field %s not named: %v", c.body, c.field, errs.As(err).Fields)
		}
		en := Translate(bundle, "en", "r1", err)
		zh := Translate(bundle, "zh-CN", "r1", err)
		if en.Status != 400 || !strings.Contains(en.Message, c.messageEN) || !strings.Contains(zh.Message, c.messageZH) {
			t.Errorf("%q: %d %q / %q", c.body, en.Status, en.Message, zh.Message)
		}
	}
}

func TestDecodeJSONTooLarge(t *testing.T) {
	h := LimitBody(1024, 1<<20, "/upload/")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]string
		err := DecodeJSON(r, &v)
		if errs.CodeOf(err) != errs.TooLarge {
			t.Errorf("got %v", err)
		}
	}))
	body := `{"a":"` + strings.Repeat("x", 2000) + `"}`
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(body)))
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"name":"a","count":1}`, `{`, `[]`, `{"count":1e999}`, `{"x":1}`, `null`, `"s"`, "\xff"} {
		f.Add(s)
	}
	bundle, _ := i18n.New()
	f.Fuzz(func(t *testing.T, body string) {
		_, err := decodeString(body, "application/json")
		if err == nil {
			return
		}
		// Every failure is a client error with a translated message, never internal.
		p := Translate(bundle, "en", "r", err)
		if p.Status != 400 || p.Message == "" || strings.HasPrefix(p.Message, "error.") {
			t.Fatalf("body %q: %d %q", body, p.Status, p.Message)
		}
	})
}

func jsonErrorWriter(bundle *i18n.Bundle) ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		WriteProblemJSON(w, Translate(bundle, "en", RequestID(r.Context()), err))
	}
}

func TestRouterRendersNotFoundAndMethodNotAllowed(t *testing.T) {
	bundle, _ := i18n.New()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "thing") })
	h := Router(mux, jsonErrorWriter(bundle))

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/nothing", nil))
	var body struct {
		Error Problem `json:"error"`
	}
	json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != 404 || body.Error.Code != errs.NotFound || body.Error.Message == "" {
		t.Fatalf("404: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("DELETE", "/things/1", nil))
	if rec.Code != 405 || !strings.Contains(rec.Header().Get("Allow"), "GET") {
		t.Fatalf("405: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/things/1", nil))
	if rec.Code != 200 || rec.Body.String() != "thing" {
		t.Fatalf("match: %d %s", rec.Code, rec.Body)
	}
}

func TestRecoverHidesThePanicAndLogsIt(t *testing.T) {
	bundle, _ := i18n.New()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("secret internals") })
	h := Chain(Router(mux, jsonErrorWriter(bundle)), Observe(log, false), Recover(log, jsonErrorWriter(bundle)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	id := rec.Header().Get("X-Request-Id")
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "secret internals") || !strings.Contains(rec.Body.String(), id) || id == "" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "secret internals") || !strings.Contains(logs.String(), `"route":"GET /boom"`) {
		t.Fatalf("log lacks the panic or the route: %s", logs.String())
	}
}

func TestObserveKeepsWellFormedRequestIDsOnly(t *testing.T) {
	h := Observe(slog.New(slog.NewTextHandler(io.Discard, nil)), false)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	for in, keep := range map[string]bool{"abc-123": true, "bad id\n": false, strings.Repeat("a", 65): false} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("X-Request-Id", in)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got := rec.Header().Get("X-Request-Id"); (got == in) != keep || got == "" {
			t.Errorf("request id %q became %q", in, got)
		}
	}
}

func TestMetricsAreLabelledByRoutePattern(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(http.ResponseWriter, *http.Request) {})
	h := Chain(Router(mux, func(w http.ResponseWriter, r *http.Request, err error) { w.WriteHeader(404) }),
		Observe(slog.New(slog.NewTextHandler(io.Discard, nil)), false), m.Middleware)
	for _, p := range []string{"/users/1", "/users/2", "/users/3", "/nope"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET", "GET /users/{id}", "200")); got != 3 {
		t.Fatalf("pattern counter = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("GET", "unmatched", "404")); got != 1 {
		t.Fatalf("unmatched counter = %v", got)
	}
}

func TestClientIPTrustsTheProxyOnlyWhenTold(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	r.RemoteAddr = "192.0.2.1:5555"
	r.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.7")
	if ClientIP(r, false) != "192.0.2.1" {
		t.Error("forwarded header trusted without a proxy")
	}
	if ClientIP(r, true) != "203.0.113.7" {
		t.Error("proxy's address not taken")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h := SecurityHeaders(false)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("CSP %q", csp)
	}
	for _, h := range []string{"X-Content-Type-Options", "Referrer-Policy"} {
		if rec.Header().Get(h) == "" {
			t.Errorf("missing %s", h)
		}
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
}

func TestEveryCodeHasADefaultMessageInBothLanguages(t *testing.T) {
	bundle, _ := i18n.New()
	for c := range statuses {
		key := defaultMessages[c]
		if key == "" {
			t.Errorf("code %s has no default message", c)
			continue
		}
		for _, lang := range i18n.Languages {
			if bundle.T(lang, key) == key {
				t.Errorf("%s: %s is not translated into %s", c, key, lang)
			}
		}
	}
}

func TestTileSourceExtendsTheCSPOnlyForUsableURLs(t *testing.T) {
	cases := map[string]string{
		"https://{s}.tile.example.org/{z}/{x}/{y}.png": "https://*.tile.example.org",
		"http://tiles.local:8080/{z}/{x}/{y}.png":      "http://tiles.local:8080",
		"":                                   "",
		"javascript:alert(1)":                "",
		"https://evil.example; script-src *": "",
	}
	for in, want := range cases {
		if got := TileSource(in); got != want {
			t.Errorf("TileSource(%q) = %q, want %q", in, got, want)
		}
	}
	if csp := CSP("https://*.tile.example.org"); !strings.Contains(csp, "img-src 'self' data: blob: https://*.tile.example.org;") {
		t.Errorf("CSP %q", csp)
	}
}
