// Package web is GridHall's HTML face: server-rendered pages for residents,
// grid workers and staff. Each page or action lives in its own small file;
// templates and static assets are embedded, so the binary is the whole
// application. Handlers are thin: decode the form, call a service, render a
// page or redirect. Every visible string is a translation key, and no page
// carries inline script or style, so the Content-Security-Policy can forbid
// both.
package web

import (
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/openapi"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// Deps are the services and settings the web face needs.
type Deps struct {
	Auth       *auth.Service
	Audit      *audit.Log
	I18n       *i18n.Bundle
	Log        *slog.Logger
	Clock      clock.Clock
	TrustProxy bool
	Version    string
	// Territory serves the map page's heading; nil leaves it out.
	Territory *territory.Service
	// People serves the registry pages (search, residents, import, visits,
	// care, statistics) and residents' self-service (sign-up, own record);
	// nil answers them with "unavailable".
	People *people.Service
	// Cases and Catalog serve the case pages (report, case, workbench,
	// figures); nil answers them with "unavailable".
	Cases   *cases.Service
	Catalog *catalog.Service
	// Outbox serves the inbox and the unread count in the header; nil
	// leaves both out.
	Outbox *outbox.Service
	// MapTileURL is an optional tile layer under the map's boundaries
	// ("https://tiles.example.org/{z}/{x}/{y}.png"); empty draws them on a
	// plain background, which works offline.
	MapTileURL string
	// APIDoc is the OpenAPI document of /api/v1, shown as a reference page
	// at /developers/api; nil answers it with "unavailable".
	APIDoc *openapi.Document
	// Exports serves case exports (the workbench's export form, /exports
	// and the downloads); nil leaves the form out and answers the pages
	// with "unavailable".
	Exports *export.Service
}

// Web serves the HTML pages. It is immutable after New and safe for
// concurrent use.
type Web struct {
	auth       *auth.Service
	audit      *audit.Log
	i18n       *i18n.Bundle
	log        *slog.Logger
	clock      clock.Clock
	trustProxy bool
	version    string
	territory  *territory.Service
	people     *people.Service
	cases      *cases.Service
	catalog    *catalog.Service
	outbox     *outbox.Service
	mapTileURL string
	apiDoc     *openapi.Document
	exports    *export.Service

	pages    map[string]*template.Template // page name → layout with that page's blocks
	staticFS fs.FS
	assets   map[string]string // static file name → content fingerprint
}

// New parses the embedded templates and fingerprints the static files once,
// so that a broken template fails at start-up rather than on a user's request.
func New(d Deps) (*Web, error) {
	if d.Auth == nil || d.Audit == nil || d.I18n == nil || d.Log == nil || d.Clock == nil {
		return nil, errors.New("web: Deps needs Auth, Audit, I18n, Log and Clock")
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	staticFS, assets, err := loadStatic()
	if err != nil {
		return nil, err
	}
	return &Web{
		auth: d.Auth, audit: d.Audit, i18n: d.I18n, log: d.Log, clock: d.Clock,
		trustProxy: d.TrustProxy, version: d.Version,
		territory: d.Territory, people: d.People, mapTileURL: d.MapTileURL,
		cases: d.Cases, catalog: d.Catalog, outbox: d.Outbox, apiDoc: d.APIDoc, exports: d.Exports,
		pages: pages, staticFS: staticFS, assets: assets,
	}, nil
}

// handler is a page or action. It returns the errors it does not render
// itself; wrap turns them into an error page.
type handler func(rw http.ResponseWriter, r *http.Request) error

// access says who may reach a route and what is checked before its handler.
type access uint8

const (
	// signedIn routes send anonymous visitors to the login page.
	signedIn access = 1 << iota
	// csrf routes change state: a signed-in visitor's form must carry the
	// session's anti-forgery token. Anonymous forms (login, setup) have no
	// session to bind a token to and rely on http.CrossOriginProtection.
	csrf
	// pendingPassword routes stay reachable while the account must change
	// its password; every other route redirects to /password then.
	pendingPassword
)

// Register adds the pages and actions to mux.
func (w *Web) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /static/", w.serveStatic)
	routes := []struct {
		pattern string
		h       handler
		access  access
	}{
		{"GET /{$}", w.home, signedIn},
		{"GET /login", w.loginPage, 0},
		{"POST /login", w.login, 0},
		{"POST /logout", w.logout, csrf | pendingPassword},
		{"GET /password", w.passwordPage, signedIn | pendingPassword},
		{"POST /password", w.changePassword, signedIn | csrf | pendingPassword},
		{"POST /prefs", w.prefs, csrf | pendingPassword},
		{"GET /admin/users", w.usersPage, signedIn},
		{"POST /admin/users", w.createUser, signedIn | csrf},
		{"POST /admin/users/{id}/disable", w.disableUser, signedIn | csrf},
		{"POST /admin/users/{id}/enable", w.enableUser, signedIn | csrf},
		{"POST /admin/users/{id}/password", w.resetPassword, signedIn | csrf},
		{"GET /audit", w.auditPage, signedIn},
		{"GET /map", w.mapPage, signedIn},
		{"GET /territory", w.territoryFilesPage, signedIn},
		{"POST /territory/import", w.territoryImport, signedIn | csrf},
		{"GET /territory/export", w.territoryExport, signedIn},
		{"GET /people", w.peoplePage, signedIn},
		{"POST /people/search", w.peopleSearch, signedIn | csrf},
		{"GET /people/{id}", w.residentPage, signedIn},
		{"POST /people/{id}/reveal", w.revealResident, signedIn | csrf},
		{"GET /people/import", w.importPage, signedIn},
		{"POST /people/import", w.importPeople, signedIn | csrf},
		{"GET /visits", w.visitsPage, signedIn},
		{"GET /visits/new", w.newVisitPage, signedIn},
		{"POST /visits", w.recordVisit, signedIn | csrf},
		{"GET /care", w.carePage, signedIn},
		{"GET /stats", w.statsPage, signedIn},
		{"GET /signup", w.signupPage, 0},
		{"POST /signup", w.signup, 0},
		{"GET /me", w.mePage, signedIn},
		{"POST /me/verify", w.verifyMe, signedIn | csrf},
		{"GET /me/data", w.myData, signedIn},
		{"GET /report", w.reportPage, signedIn},
		{"POST /report", w.submitReport, signedIn | csrf},
		{"GET /report/addresses", w.reportAddresses, signedIn},
		{"GET /report/done/{id}", w.reportDone, signedIn},
		{"GET /cases/new", w.quickReportPage, signedIn},
		{"POST /cases/new", w.submitQuickReport, signedIn | csrf},
		{"GET /cases/mine", w.myCasesPage, signedIn},
		{"GET /cases/figures", w.figuresPage, signedIn},
		{"GET /cases/{id}", w.casePage, signedIn},
		{"POST /cases/{id}/act", w.actOnCase, signedIn | csrf},
		{"GET /cases/{id}/photos/{photo}", w.casePhoto, signedIn},
		{"GET /cases/{id}/photos/{photo}/thumb", w.casePhoto, signedIn},
		{"GET /work", w.workPage, signedIn},
		{"POST /work/dispatch", w.bulkDispatch, signedIn | csrf},
		{"POST /exports", w.createExport, signedIn | csrf},
		{"GET /exports", w.exportsPage, signedIn},
		{"GET /exports/{id}/download", w.downloadExport, signedIn},
		{"GET /inbox", w.inboxPage, signedIn},
		{"POST /inbox/read", w.markRead, signedIn | csrf},
		{"POST /inbox/read-all", w.markAllRead, signedIn | csrf},
		{"GET /developers/api", w.apiDocPage, 0},
		{"GET /setup", w.setupPage, 0},
		{"POST /setup", w.setup, 0},
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, w.wrap(rt.h, rt.access))
	}
}

// wrap applies a route's access rules around its handler and renders the
// errors the handler returns.
func (w *Web) wrap(h handler, a access) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		// Pages carry personal data and anti-forgery tokens, and community
		// centres share computers: nothing may stay in a cache or come back
		// through the Back button after signing out.
		rw.Header().Set("Cache-Control", "no-store")
		actor := auth.ActorFrom(r.Context())
		if r.Method == http.MethodPost {
			if err := parseForm(r); err != nil {
				w.WriteError(rw, r, err)
				return
			}
		}
		switch {
		case a&signedIn != 0 && !signedInActor(actor):
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			http.Redirect(rw, r, target, http.StatusSeeOther)
			return
		case actor.MustChangePassword && a&pendingPassword == 0:
			http.Redirect(rw, r, "/password", http.StatusSeeOther)
			return
		case a&csrf != 0 && signedInActor(actor) && !validCSRF(r):
			w.WriteError(rw, r, errs.E(errs.Forbidden, "web.csrf", "error.csrf"))
			return
		}
		if err := h(rw, r); err != nil {
			w.WriteError(rw, r, err)
		}
	})
}

// signedInActor reports whether the request comes from an account (through
// a session cookie or an API token) rather than an anonymous visitor.
func signedInActor(a auth.Actor) bool { return a.UserID != 0 }

// redirect answers a form or page with 303 See Other, so that the browser
// follows with a GET and a reload does not resubmit the form.
func redirect(rw http.ResponseWriter, r *http.Request, target string) error {
	http.Redirect(rw, r, target, http.StatusSeeOther)
	return nil
}
