package load_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/load"
)

// demoTarget is a whole GridHall with the demo street, its accounts and
// departments, served over loopback HTTP with the production configuration
// except the per-token rate limit (a load test's tokens would be throttled),
// and a load plan made for it by Setup.
func demoTarget(t *testing.T, e db.Engine) (*app.App, *httptest.Server, load.Plan) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default()
	cfg.APIRate = 0
	o := dbtest.Options(t, e)
	cfg.DataDir, cfg.DB = t.TempDir(), o.PostgresDSN
	if e == db.SQLite {
		cfg.DB = o.SQLitePath
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler), app.Options{Version: "load-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if err := demo.Seed(ctx, a.Auth, a.Territory, "load-test-password"); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedDepartments(ctx, a.Auth, a.Catalog); err != nil {
		t.Fatal(err)
	}
	if err := a.Territory.Locator().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := load.Setup(ctx, a, load.SetupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Setup again reuses the accounts and issues new tokens.
	p, err := load.Setup(ctx, a, load.SetupOptions{Street: demo.StreetCode})
	if err != nil {
		t.Fatalf("second setup: %v", err)
	}
	if p.Street != first.Street || p.StreetToken == first.StreetToken {
		t.Fatalf("second setup: street %s (first %s), token renewed: %v", p.Street, first.Street, p.StreetToken != first.StreetToken)
	}
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return a, srv, p
}

func TestLoadRunsTheWorkflowWithoutErrorsAndItsCountsAddUp(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			a, srv, p := demoTarget(t, e)
			if p.Street != demo.StreetCode || len(p.FieldTokens) != 4 || len(p.Points) == 0 {
				t.Fatalf("plan: street %s, %d community workers, %d points", p.Street, len(p.FieldTokens), len(p.Points))
			}
			// Closed loop first, so there are cases in every stage, then open loop.
			var reports uint64
			for _, cfg := range []load.Config{
				{Clients: 4, Duration: 4 * time.Second, Mix: load.Mix{Report: 30, Act: 60, View: 10}},
				{Rate: 40, Clients: 50, Duration: 3 * time.Second},
			} {
				cfg.Target, cfg.Plan, cfg.Sample = srv.URL, p, time.Second
				res, err := load.Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				var out strings.Builder
				res.WriteTable(&out)
				t.Logf("%s loop:\n%s", res.Mode, out.String())
				if res.Total.Errors != 0 {
					t.Errorf("%d errors: %v", res.Total.Errors, res.Total.ByStatus)
				}
				// Requests by kind add up to the total, and so do requests by status.
				var byKind, byStatus uint64
				seen := map[string]bool{}
				for _, k := range res.Kinds {
					byKind += k.Count
					seen[k.Kind] = true
					var s uint64
					for _, n := range k.ByStatus {
						s += n
					}
					if s != k.Count {
						t.Errorf("%s: %d requests but %d by status", k.Kind, k.Count, s)
					}
				}
				for _, n := range res.Total.ByStatus {
					byStatus += n
				}
				if byKind != res.Total.Count || byStatus != res.Total.Count || res.Total.Count == 0 {
					t.Errorf("total %d, by kind %d, by status %d", res.Total.Count, byKind, byStatus)
				}
				// Each report is one request; each view one; each step at least one.
				var kinds []string
				for k := range seen {
					kinds = append(kinds, k)
				}
				if n := res.Ops["report"]; n == 0 || res.Total.ByStatus["201"] != n {
					t.Errorf("%d reports, %d answered 201", n, res.Total.ByStatus["201"])
				}
				reports += res.Total.ByStatus["201"]
				if res.Mode == "closed" {
					for _, k := range []string{"report", "queue", "act:verify", "act:accept", "act:dispatch", "act:sign", "act:handle"} {
						if !seen[k] {
							t.Errorf("no %s request in %v", k, kinds)
						}
					}
				}
				if len(res.Series) < 2 || res.Series[0].HeapInuse == 0 || res.Series[0].RSS == 0 {
					t.Errorf("memory series %+v", res.Series)
				}
			}
			// The server stored exactly the cases that were answered 201.
			var stored uint64
			if err := a.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM cases WHERE reporter_id =
				(SELECT id FROM users WHERE username = 'load-resident')`).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if stored != reports {
				t.Errorf("%d cases stored, %d reports answered 201", stored, reports)
			}
		})
	}
}

func TestLoadStopsAtTheRequestBound(t *testing.T) {
	_, srv, p := demoTarget(t, db.SQLite)
	res, err := load.Run(context.Background(), load.Config{Target: srv.URL, Plan: p, Clients: 8, Duration: time.Minute, MaxRequests: 60})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total.Count == 0 || res.Total.Count > 60 || res.Seconds > 30 {
		t.Fatalf("%d requests in %.1f s, want at most 60 and an early stop", res.Total.Count, res.Seconds)
	}
}

func TestLoadRefusesRemoteTargets(t *testing.T) {
	_, err := load.Run(context.Background(), load.Config{Target: "http://192.0.2.1:8080", Plan: load.Plan{}, Duration: time.Second})
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("err = %v", err)
	}
}
