// Package api is GridHall's JSON face under /api/v1. Handlers are thin:
// decode, call a service with the actor from the context, encode. Errors use
// the one JSON error format of httpx, translated into the client's language.
package api

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/ratelimit"
	"github.com/gridhall/gridhall/internal/territory"
)

// Deps are what the API needs.
type Deps struct {
	Auth      *auth.Service
	Audit     *audit.Log
	Territory *territory.Service
	People    *people.Service
	Cases     *cases.Service
	Catalog   *catalog.Service
	Calendar  *calendar.Service
	Outbox    *outbox.Service
	Exports   *export.Service
	I18n      *i18n.Bundle
	Log       *slog.Logger
	// Limiter bounds each API token's request rate (nil: no limit).
	Limiter *ratelimit.Limiter
	// TrustProxy says whether X-Forwarded-For names the client (behind a
	// trusted reverse proxy), for per-address limits.
	TrustProxy bool
}

// API serves /api/v1.
type API struct {
	d Deps
}

// New returns the JSON API.
func New(d Deps) *API { return &API{d: d} }

// Register adds the API routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+OpenAPIPath, a.openAPI)
	mux.Handle("GET /api/v1/me", a.handle(a.me, "read"))
	mux.Handle("POST /api/v1/me/password", a.handle(a.changePassword, "write"))
	mux.Handle("GET /api/v1/users", a.handle(a.listUsers, "read"))
	mux.Handle("POST /api/v1/users", a.handle(a.createUser, "write"))
	mux.Handle("GET /api/v1/users/{id}", a.handle(a.getUser, "read"))
	mux.Handle("POST /api/v1/users/{id}/disable", a.handle(a.setDisabled(true), "write"))
	mux.Handle("POST /api/v1/users/{id}/enable", a.handle(a.setDisabled(false), "write"))
	mux.Handle("GET /api/v1/tokens", a.handle(a.listTokens, "read"))
	mux.Handle("POST /api/v1/tokens", a.handle(a.createToken, "write"))
	mux.Handle("DELETE /api/v1/tokens/{id}", a.handle(a.revokeToken, "write"))
	mux.Handle("GET /api/v1/audit", a.handle(a.listAudit, "read"))
	a.registerTerritory(mux)
	a.registerPeople(mux)
	a.registerSelfService(mux)
	a.registerVisits(mux)
	a.registerImport(mux)
	a.registerCases(mux)
	a.registerExports(mux)
	a.registerWebhooks(mux)
	a.registerCatalog(mux)
}

// handlerFunc is an API handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request, actor auth.Actor) error

// handle requires an authenticated actor whose API token (if any) carries
// the scope, then runs h and renders its error.
func (a *API) handle(h handlerFunc, scope string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor := auth.ActorFrom(r.Context())
		if !actor.Authenticated() {
			a.WriteError(w, r, errs.E(errs.Unauthenticated, "api", "error.unauthenticated"))
			return
		}
		if !actor.HasTokenScope(scope) && !(scope == "read" && actor.HasTokenScope("write")) {
			a.WriteError(w, r, errs.E(errs.Forbidden, "api", "error.token.scope", scope))
			return
		}
		if err := a.limit(w, actor); err != nil {
			a.WriteError(w, r, err)
			return
		}
		if err := h(w, r, actor); err != nil {
			a.WriteError(w, r, err)
		}
	})
}

// limit takes one request from the actor's token bucket and says how much
// is left (RateLimit-Limit, RateLimit-Remaining); past the limit the error
// carries the wait, which becomes 429 with Retry-After. Requests in a
// browser session are not limited here: people do not click that fast, and
// sign-in has its own throttle.
func (a *API) limit(w http.ResponseWriter, actor auth.Actor) error {
	if actor.TokenID == 0 || a.d.Limiter == nil {
		return nil
	}
	d := a.d.Limiter.Allow(actor.TokenID)
	if d.Limit > 0 {
		w.Header().Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		w.Header().Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	}
	if !d.Allowed {
		e := errs.E(errs.TooMany, "api.limit", "error.rate_limited")
		e.RetryAfter = d.RetryAfter
		return e
	}
	return nil
}

// WriteError renders err as a JSON error in the client's language. Internal
// errors are logged with the request id; the client sees only the id.
func (a *API) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	reqID := httpx.RequestID(r.Context())
	if errs.CodeOf(err) == errs.Internal {
		a.d.Log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("id", reqID), slog.Any("err", err))
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.WriteProblemJSON(w, httpx.Translate(a.d.I18n, httpx.Lang(r, a.d.I18n.Match), reqID, err))
}

// Page is one page of a list with the cursor of the next page ("" at the end).
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// pageParams reads the cursor and limit query parameters, naming the bad one.
// Every list takes its position as `cursor` (the next_cursor of the page
// before); legacy is the name a list used before that rule and is still
// accepted, so that older clients keep working.
func pageParams(r *http.Request, legacy string) (cursor int64, limit int, err error) {
	q := r.URL.Query()
	f := map[string]string{}
	name := "cursor"
	if q.Get(name) == "" && legacy != "" && q.Get(legacy) != "" {
		name = legacy
	}
	if s := q.Get(name); s != "" {
		if cursor, err = strconv.ParseInt(s, 10, 64); err != nil || cursor < 0 {
			f[name] = "error.field.number"
		}
	}
	limit = 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 200 {
			f["limit"] = "error.field.limit"
		}
		limit = n
	}
	if len(f) > 0 {
		return 0, 0, errs.Fields("api.page", f)
	}
	return cursor, limit, nil
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errs.E(errs.NotFound, "api.pathID", "error.not_found")
	}
	return id, nil
}
