package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/prometheus/client_golang/prometheus"
)

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so that the first listed runs first.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// ErrorWriter renders an error in the face the request came through (an
// HTML page or a JSON body).
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	routeKey
)

// route carries the matched route pattern out of the router to the outer
// middleware, which see only their own copy of the request.
type route struct{ pattern string }

// RequestID returns the request's id, or "".
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// SetRoute records the matched route pattern for logs and metrics.
func SetRoute(ctx context.Context, pattern string) {
	if rt, ok := ctx.Value(routeKey).(*route); ok {
		rt.pattern = pattern
	}
}

func validRequestID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// ClientIP returns the client's address: the connection's peer, or — only
// when a trusted reverse proxy is configured — the last address the proxy
// appended to X-Forwarded-For (earlier ones are client-controlled).
func ClientIP(r *http.Request, trustProxy bool) string {
	if trustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// IsTLS reports whether the client reached us over HTTPS, directly or
// through a trusted proxy.
func IsTLS(r *http.Request, trustProxy bool) bool {
	return r.TLS != nil || (trustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// Observe assigns the request id (kept from a well-formed X-Request-Id
// header, else random), puts the request's origin in the context for the
// audit log, and writes one structured access-log line per request with the
// route pattern, never the query string (it may hold personal data).
func Observe(log *slog.Logger, trustProxy bool) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			id := r.Header.Get("X-Request-Id")
			if !validRequestID(id) {
				b := make([]byte, 8)
				rand.Read(b)
				id = hex.EncodeToString(b)
			}
			w.Header().Set("X-Request-Id", id)
			ip := ClientIP(r, trustProxy)
			rt := &route{}
			ctx := context.WithValue(r.Context(), requestIDKey, id)
			ctx = context.WithValue(ctx, routeKey, rt)
			ctx = audit.WithSource(ctx, audit.Source{IP: ip, RequestID: id})
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r.WithContext(ctx))
			log.LogAttrs(ctx, slog.LevelInfo, "request",
				slog.String("id", id), slog.String("method", r.Method), slog.String("route", rt.pattern),
				slog.String("path", r.URL.Path), slog.Int("status", sw.status()), slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", time.Since(start)), slog.String("ip", ip))
		})
	}
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	bytes int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Recover turns a panic into a logged internal error: the user gets an error
// page or JSON body with the request id, never a stack trace.
func Recover(log *slog.Logger, writeErr ErrorWriter) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				p := recover()
				if p == nil {
					return
				}
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.LogAttrs(r.Context(), slog.LevelError, "panic",
					slog.String("id", RequestID(r.Context())), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				writeErr(w, r, errs.Wrap("panic", fmt.Errorf("panic: %v", p)))
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// CSP forbids inline scripts and styles, plugins, framing and foreign form
// targets. Images may also come from the extra sources given to
// SecurityHeaders (a map tile server).
func CSP(imgSources ...string) string {
	img := "'self' data: blob:"
	for _, s := range imgSources {
		img += " " + s
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src " + img + "; " +
		"font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
}

// TileSource turns a map tile URL template into a CSP source: its scheme and
// host, with Leaflet's {s} subdomain placeholder as a wildcard. It returns
// "" for an empty or unusable URL.
func TileSource(tileURL string) string {
	scheme, rest, ok := strings.Cut(tileURL, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	host = strings.ReplaceAll(host, "{s}", "*")
	if host == "" || strings.ContainsAny(host, " ;'\"{}") {
		return ""
	}
	return scheme + "://" + host
}

// SecurityHeaders sets the headers every response carries.
func SecurityHeaders(trustProxy bool, imgSources ...string) Middleware {
	csp := CSP(imgSources...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "same-origin")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(self), geolocation=(self), microphone=()")
			if IsTLS(r, trustProxy) {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// LimitBody caps every request body at n bytes, and at upload bytes for
// paths under one of the upload prefixes (file imports); reading past the cap
// fails with *http.MaxBytesError, which DecodeJSON reports as TooLarge.
func LimitBody(n, upload int64, uploadPrefixes ...string) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			limit := n
			for _, p := range uploadPrefixes {
				if strings.HasPrefix(r.URL.Path, p) {
					limit = upload
				}
			}
			if r.ContentLength > limit {
				w.Header().Set("Connection", "close")
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// Metrics are the HTTP server's Prometheus collectors.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridhall_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gridhall_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Middleware counts requests labelled by route pattern, not raw path, so
// that ids in paths do not explode the number of series.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		pattern := "unmatched"
		if rt, ok := r.Context().Value(routeKey).(*route); ok && rt.pattern != "" {
			pattern = rt.pattern
		}
		m.requests.WithLabelValues(r.Method, pattern, strconv.Itoa(sw.status())).Inc()
		m.duration.WithLabelValues(r.Method, pattern).Observe(time.Since(start).Seconds())
	})
}

// Router dispatches to a ServeMux, records the matched pattern for logs and
// metrics, and renders unmatched routes (404) and wrong methods (405) through
// writeErr, so that they get the same page or JSON error as everything else.
func Router(mux *http.ServeMux, writeErr ErrorWriter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern == "" {
			rec := &headerRecorder{header: http.Header{}}
			h.ServeHTTP(rec, r)
			if rec.code == http.StatusMethodNotAllowed {
				w.Header().Set("Allow", rec.header.Get("Allow"))
				e := errs.E(errs.Invalid, "route", "error.method_not_allowed")
				writeErr(&fixedStatus{ResponseWriter: w, code: http.StatusMethodNotAllowed}, r, e)
				return
			}
			writeErr(w, r, errs.E(errs.NotFound, "route", "error.not_found"))
			return
		}
		SetRoute(r.Context(), pattern)
		mux.ServeHTTP(w, r)
	})
}

// headerRecorder captures what the mux's own 404/405 handler would write.
type headerRecorder struct {
	header http.Header
	code   int
}

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(code int)        { h.code = code }

// fixedStatus forces the status written through it (405 has no error code of
// its own).
type fixedStatus struct {
	http.ResponseWriter
	code int
}

func (f *fixedStatus) WriteHeader(int) { f.ResponseWriter.WriteHeader(f.code) }
