// Package app is GridHall's composition root: configuration → database →
// services → faces → HTTP server. It is the only package that knows every
// other one; the command line calls into it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/gridhall/gridhall/internal/api"
	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/open311"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/ratelimit"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
	"github.com/gridhall/gridhall/internal/web"
)

// App is a running GridHall: its database, services and faces.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Clock     clock.Clock
	DB        *db.DB
	Audit     *audit.Log
	Auth      *auth.Service
	Territory *territory.Service
	Keys      *seal.Keyring // nil when no master key is configured (PostgreSQL)
	People    *people.Service
	Catalog   *catalog.Service
	Calendar  *calendar.Service
	Cases     *cases.Service
	Outbox    *outbox.Service
	Exports   *export.Service
	I18n      *i18n.Bundle
	Version   string
}

// NewLogger returns the process logger writing to w in the configured format.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// Options are the parts of an App that are not configuration: the build's
// version and the clock (a fake one in tests).
type Options struct {
	Version string
	Clock   clock.Clock
}

// Open connects to the configured database, applies pending migrations and
// builds the services.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger, o Options) (*App, error) {
	d, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c := o.Clock
	if c == nil {
		c = clock.System{}
	}
	version := o.Version
	n, err := d.Migrate(ctx, c.Now())
	if err != nil {
		d.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if n > 0 {
		log.Info("applied migrations", "count", n, "engine", d.Engine)
	}
	bundle, err := i18n.New()
	if err != nil {
		d.Close()
		return nil, err
	}
	al := audit.New(d)
	authSvc := auth.NewService(d, al, c, auth.Settings{
		SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionAbsolute,
		LoginMaxFailures: cfg.LoginMaxFailures, LoginIPMaxFailures: cfg.LoginIPMaxFailures, LoginWindow: cfg.LoginWindow,
	})
	terr := territory.NewService(d, al, authSvc, c, cfg.BoundaryTolerance)
	authSvc.SetScopeCheck(terr.ScopeKnown)
	keys, err := openKeyring(ctx, cfg, d, log)
	if err != nil {
		d.Close()
		return nil, err
	}
	if cfg.SMTPPasswordFile != "" {
		b, err := os.ReadFile(cfg.SMTPPasswordFile)
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("read --smtp-password-file: %w", err)
		}
		cfg.SMTPPassword = strings.TrimRight(string(b), "\r\n")
	}
	cat := catalog.NewService(d, al, c)
	cal := calendar.NewService(d, al, c)
	// The built-in catalogue and calendar make a new installation usable at
	// once; both seeds leave existing (edited) data alone.
	if _, err := cat.Seed(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("seed the category catalogue: %w", err)
	}
	if err := cal.Seed(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("seed the working calendar: %w", err)
	}
	caseCfg := cases.DefaultConfig()
	caseCfg.EscalateAfter, caseCfg.DuplicateRadius, caseCfg.DuplicateWindow = cfg.EscalateAfter, cfg.DuplicateRadius, cfg.DuplicateWindow
	// Department handlers manage their own department's webhook endpoints.
	policy := func(actor auth.Actor, owner string) bool {
		if actor.Role != auth.DepartmentHandler {
			return false
		}
		ds, err := cat.DepartmentsOf(ctx, actor.UserID)
		return err == nil && slices.Contains(ds, owner)
	}
	a := &App{
		Config: cfg, Log: log, Clock: c, DB: d, Audit: al, I18n: bundle, Version: version, Auth: authSvc, Territory: terr,
		Keys: keys, People: people.NewService(d, al, keys, terr, c), Catalog: cat, Calendar: cal,
		Outbox: outbox.NewService(d, al, keys, c, policy),
		Cases: cases.NewService(cases.Deps{DB: d, Audit: al, Clock: c, Territory: terr, Users: authSvc, Catalog: cat,
			Calendar: cal, Keys: keys, I18n: bundle, Log: log}, caseCfg),
	}
	exportCfg := export.DefaultConfig()
	exportCfg.Dir, exportCfg.TTL = cfg.ExportDirectory(), cfg.ExportTTL
	a.Exports = export.New(export.Deps{DB: d, Audit: al, Clock: c, Cases: a.Cases, Users: authSvc, I18n: bundle, Log: log}, exportCfg)
	return a, nil
}

// openKeyring opens the field-encryption keys with the configured master
// key. On SQLite without one, a key is generated once into the data
// directory: a single machine then works out of the box, and the operator is
// told to keep a copy elsewhere. On PostgreSQL every node must use the same
// key, which no node can invent, so without one the registry stays
// unavailable (its requests answer 503) while everything else runs.
func openKeyring(ctx context.Context, cfg config.Config, d *db.DB, log *slog.Logger) (*seal.Keyring, error) {
	mk, ok, err := seal.LoadMasterKey(cfg.MasterKeyFile, cfg.MasterKey)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if !ok && !cfg.IsPostgres() {
		path := filepath.Join(cfg.DataDir, "master.key")
		if mk, ok, err = seal.LoadMasterKey(path, ""); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("master key %s: %w", path, err)
		}
		if !ok {
			var text string
			mk, text = seal.GenerateMasterKey()
			if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
				return nil, err
			}
			if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
				return nil, fmt.Errorf("write master key: %w", err)
			}
			log.Warn("generated a master key for personal data; keep a copy of it away from this machine, or the data cannot be read after a loss",
				"file", path)
		}
		ok = true
	}
	if !ok {
		log.Warn("no master key configured (--master-key-file or GRIDHALL_MASTER_KEY): the people registry is unavailable")
		return nil, nil
	}
	return seal.Open(ctx, d, mk)
}

// OpenDB connects to the configured database without migrating.
func OpenDB(ctx context.Context, cfg config.Config) (*db.DB, error) {
	o := db.Options{MaxConns: cfg.DBMaxConns}
	if cfg.IsPostgres() {
		o.PostgresDSN = cfg.DB
	} else {
		o.SQLitePath = cfg.SQLitePath()
	}
	return db.Open(ctx, o)
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler builds the whole HTTP handler: routes of every face wrapped in the
// shared middleware.
func (a *App) Handler() (http.Handler, error) {
	w, err := web.New(web.Deps{Auth: a.Auth, Audit: a.Audit, Territory: a.Territory, People: a.People, I18n: a.I18n, Log: a.Log, Clock: a.Clock,
		TrustProxy: a.Config.TrustProxy, Version: a.Version, MapTileURL: a.Config.MapTileURL,
		Cases: a.Cases, Catalog: a.Catalog, Outbox: a.Outbox, APIDoc: api.Document(), Exports: a.Exports})
	if err != nil {
		return nil, err
	}
	limiter := ratelimit.New(a.Config.APIRate, a.Config.APIBurst, a.Clock)
	jsonAPI := api.New(api.Deps{Auth: a.Auth, Audit: a.Audit, Territory: a.Territory, People: a.People, I18n: a.I18n, Log: a.Log,
		Cases: a.Cases, Catalog: a.Catalog, Calendar: a.Calendar, Outbox: a.Outbox, Exports: a.Exports,
		Limiter:    limiter,
		TrustProxy: a.Config.TrustProxy})

	// writeErr picks the face by the request: machine clients get JSON, people
	// get a page.
	writeErr := func(rw http.ResponseWriter, r *http.Request, err error) {
		if wantsJSON(r) {
			jsonAPI.WriteError(rw, r, err)
			return
		}
		w.WriteError(rw, r, err) // logs internal errors itself: pages call it directly too
	}

	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := httpx.NewMetrics(reg)
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(rw, http.StatusOK, map[string]string{"status": "ok", "version": a.Version})
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	jsonAPI.Register(mux)
	open311.New(open311.Deps{Catalog: a.Catalog, Cases: a.Cases, Auth: a.Auth, Territory: a.Territory, Clock: a.Clock, I18n: a.I18n, BaseURL: a.Config.BaseURL, Changeset: open311Changeset,
		Limiter: limiter}).Register(mux)
	w.Register(mux)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		writeErr(rw, r, errs.E(errs.Forbidden, "csrf", "error.csrf"))
	}))
	return httpx.Chain(httpx.Router(mux, writeErr),
		httpx.Observe(a.Log, a.Config.TrustProxy),
		metrics.Middleware,
		httpx.Recover(a.Log, writeErr),
		httpx.SecurityHeaders(a.Config.TrustProxy, tileSources(a.Config.MapTileURL)...),
		httpx.LimitBody(a.Config.MaxBodyBytes, a.Config.MaxUploadBytes, api.UploadPrefix, web.UploadPrefix, api.CasesPrefix, api.CategoriesImportPath,
			api.ResidentsImportPrefix, web.PeopleImportPrefix, web.ReportPrefix, web.CasesPrefix, open311.UploadPrefix),
		cop.Handler,
		httpx.Authenticate(a.Auth, a.Config.TrustProxy, writeErr),
	), nil
}

func tileSources(tileURL string) []string {
	if s := httpx.TileSource(tileURL); s != "" {
		return []string{s}
	}
	return nil
}

// wantsJSON tells machine clients from browsers: the API and Open311 paths,
// a Bearer credential, or an Accept header that asks for JSON over HTML.
func wantsJSON(r *http.Request) bool {
	if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/open311/") ||
		strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "application/json") && !strings.Contains(accept, "text/html")
}

// readyz answers 200 when the database answers within two seconds, else 503,
// so a load balancer takes a node out while its database is unreachable.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		w.Header().Set("Retry-After", "5")
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready", "database": string(a.DB.Engine)})
}

// Bootstrap makes sure a new installation is not open to the world: with no
// accounts, it creates the first administrator from the configured password,
// or else prints a one-time setup link on the console.
func (a *App) Bootstrap(ctx context.Context, console io.Writer, baseURL string) error {
	need, err := a.Auth.NeedsSetup(ctx)
	if err != nil || !need {
		return err
	}
	pw := a.Config.AdminPassword
	if a.Config.AdminPasswordFile != "" {
		b, err := os.ReadFile(a.Config.AdminPasswordFile)
		if err != nil {
			return fmt.Errorf("read --admin-password-file: %w", err)
		}
		pw = strings.TrimRight(string(b), "\r\n")
	}
	if pw != "" {
		created, err := a.Auth.EnsureFirstAdmin(ctx, a.Config.AdminUser, pw)
		if err != nil {
			return fmt.Errorf("create first administrator %q: %w", a.Config.AdminUser, err)
		}
		if created {
			a.Log.Info("created the first administrator", "username", a.Config.AdminUser)
		}
		return nil
	}
	secret, err := a.Auth.NewSetupToken(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(console, "\nGridHall has no accounts yet. To create the first administrator, open within 24 hours:\n\n    %s/setup?token=%s\n\n", baseURL, secret)
	return nil
}

// Serve runs the HTTP server until ctx ends, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish within the shutdown
// timeout, and closes. ready, when not nil, receives the listening address.
func (a *App) Serve(ctx context.Context, console io.Writer, ready func(addr string)) error {
	h, err := a.Handler()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if a.Config.TLSCert != "" {
		scheme = "https"
	}
	base := a.Config.BaseURL
	if base == "" {
		base = scheme + "://" + ln.Addr().String()
	}
	if err := a.Bootstrap(ctx, console, strings.TrimRight(base, "/")); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	go a.sweep(ctx)
	if err := a.Territory.Locator().Refresh(ctx); err != nil {
		a.Log.Warn("territory index not built at start; retrying in the background", "err", err)
	}
	go a.Territory.Locator().Run(ctx, a.Config.TerritoryPoll, a.Log)
	if a.Keys != nil {
		go a.refreshKeys(ctx)
	}
	go a.retention(ctx)
	go a.Cases.Run(ctx, a.Config.CaseTimerEvery, a.Log)
	go a.dispatcher().Run(ctx, a.Config.OutboxEvery)
	// Exports asked for on this node wake its worker at once; the poll finds
	// those asked for on other nodes and those a dead node left behind.
	go a.Exports.Run(ctx, 10*time.Second)
	errc := make(chan error, 1)
	go func() {
		if a.Config.TLSCert != "" {
			errc <- srv.ServeTLS(ln, a.Config.TLSCert, a.Config.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	a.Log.Info("listening", "url", scheme+"://"+ln.Addr().String(), "engine", a.DB.Engine, "version", a.Version)
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// open311Changeset is when the GeoReport face last changed, for its
// discovery document.
var open311Changeset = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// dispatcher delivers this node's share of the outbox.
func (a *App) dispatcher() *outbox.Dispatcher {
	return outbox.NewDispatcher(a.DB, a.Clock, outbox.Config{Keys: a.Keys, SMTP: outbox.SMTPConfig{
		Addr: a.Config.SMTPAddr, From: a.Config.SMTPFrom, Username: a.Config.SMTPUser, Password: a.Config.SMTPPassword,
	}}, a.Log)
}

// refreshKeys reloads the field-encryption keys every minute, so that a key
// rotated on another node (or by the console) becomes current here too.
func (a *App) refreshKeys(ctx context.Context) {
	clock.Every(ctx, time.Minute, func() {
		if err := a.Keys.Refresh(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("key refresh failed", "err", err)
		}
	})
}

// retention erases the personal data of residents who moved out longer ago
// than the retention period, checking every hour. Every node runs it; each
// row is anonymised once (see people.AnonymiseMovedOut). The same hourly
// round purges old notifications and refreshes SQLite's planner statistics.
func (a *App) retention(ctx context.Context) {
	run := func() {
		n, err := a.People.AnonymiseMovedOut(ctx, time.Duration(a.Config.RetentionDays)*24*time.Hour)
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Warn("retention job failed", "err", err)
		case n > 0:
			a.Log.Info("anonymised residents past retention", "count", n)
		}
		if err := a.DB.Optimize(ctx); err != nil && ctx.Err() == nil {
			a.Log.Warn("refreshing the query planner's statistics failed", "err", err)
		}
		// Delivered and dead notifications, with their delivery log, are
		// kept for a month: long enough to answer "did the department get it?".
		m, err := a.Outbox.Purge(ctx, a.Clock.Now().AddDate(0, 0, -30))
		switch {
		case err != nil && ctx.Err() == nil:
			a.Log.Warn("outbox purge failed", "err", err)
		case m > 0:
			a.Log.Info("purged old notifications", "count", m)
		}
	}
	run()
	clock.Every(ctx, time.Hour, run)
}

// sweep removes expired sessions and throttle windows every ten minutes.
func (a *App) sweep(ctx context.Context) {
	clock.Every(ctx, 10*time.Minute, func() {
		if n, err := a.Auth.Sweep(ctx); err != nil {
			a.Log.Warn("session sweep failed", "err", err)
		} else if n > 0 {
			a.Log.Debug("swept expired sessions", "count", n)
		}
	})
}
