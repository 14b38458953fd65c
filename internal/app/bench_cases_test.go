package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/bench"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/territory"
)

// intakeClients is how many clients report at once in BenchmarkCaseIntake.
const intakeClients = 50

// BenchmarkCaseIntake reports cases through the real POST /api/v1/cases of
// a whole GridHall on SQLite, over loopback HTTP, from 50 concurrent
// clients, each holding its own keep-alive connection: the bearer token is
// looked up, the point is routed to its grid, the category, calendar and
// duplicate checks run, and the case is stored with its timeline entry,
// first stage, follower, case_facts count, audit entry and (empty) outbox
// fan-out in one transaction. Photos are off. See BENCHMARKS.md, "Cases".
//
// Beside it, on the same server and database, "bare" is the limit: a
// handler that decodes the same JSON and inserts one row in one write
// transaction, with the same durability, and nothing else.
//
// Reported: cases/s (requests/s for bare), and the p50 and p99 latency a
// client saw, in milliseconds.
func BenchmarkCaseIntake(b *testing.B) {
	a := openApp(b, db.SQLite)
	ctx := context.Background()
	if err := demo.Seed(ctx, a.Auth, a.Territory, "bench-password-1"); err != nil {
		b.Fatal(err)
	}
	if err := a.Territory.Locator().Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	// The street's dispatch centre's account, as a hotline system would
	// hold it.
	_, token, err := a.Auth.CreateToken(ctx, auth.SystemActor("bench"), auth.NewToken{Username: "street", Name: "12345 hotline", Scopes: []string{"read", "write"}})
	if err != nil {
		b.Fatal(err)
	}
	bodies := intakeBodies(b, a, 4096)

	if err := bench.CreateBareTable(ctx, a.DB); err != nil {
		b.Fatal(err)
	}
	app, err := a.Handler()
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/", app)
	mux.Handle("POST /bench/bare", bench.BareInsert(a.DB, a.Clock))
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)

	for _, ep := range []struct{ name, path, unit string }{
		{"cases", "/api/v1/cases", "cases/s"},
		{"bare", "/bench/bare", "inserts/s"},
	} {
		b.Run(ep.name, func(b *testing.B) {
			lat, elapsed := drive(b, srv.URL+ep.path, token, bodies)
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), ep.unit)
			b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
			b.ReportMetric(ms(lat[min(len(lat)-1, len(lat)*99/100)]), "p99-ms")
			b.ReportMetric(0, "ns/op") // the rate and latencies are the figures
		})
	}
}

// openApp opens a GridHall on a fresh database of engine e, with the
// production configuration (but no per-token rate limit) and an empty
// database: no accounts yet.
func openApp(t testing.TB, e db.Engine) *app.App {
	t.Helper()
	cfg := config.Default()
	cfg.APIRate = 0 // a benchmark's clients must not be throttled by the per-token limit
	o := dbtest.Options(t, e)
	cfg.DataDir, cfg.DB = t.TempDir(), o.PostgresDSN
	if e == db.SQLite {
		cfg.DB = o.SQLitePath
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.DiscardHandler), app.Options{Version: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// drive sends b.N requests from intakeClients clients, each on its own
// connection, and returns every request's latency and the wall time.
func drive(b *testing.B, url, token string, bodies [][]byte) ([]time.Duration, time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: intakeClients, MaxConnsPerHost: intakeClients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	lats := make([][]time.Duration, intakeClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range intakeClients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				req, _ := http.NewRequest("POST", url, bytes.NewReader(bodies[int(i)%len(bodies)]))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lats[c] = append(lats[c], time.Since(t0))
				if resp.StatusCode != http.StatusCreated {
					b.Errorf("status %d: %s", resp.StatusCode, body)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	if len(all) == 0 {
		b.Fatal("no request completed")
	}
	return all, elapsed
}

// intakeBodies are n report bodies as a client sends them: a public
// category without required questions, a description, and a point inside
// one of the demo street's grids.
func intakeBodies(b *testing.B, a *app.App, n int) [][]byte {
	ctx := context.Background()
	cats, err := a.Catalog.Categories(ctx, catalog.Filter{PublicOnly: true, ActiveOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	var refs []string
	for _, c := range cats {
		if !slices.ContainsFunc(c.Attributes, func(a catalog.Attribute) bool { return a.Required }) {
			refs = append(refs, c.Ref())
		}
	}
	bs, err := a.Territory.Buildings(ctx, auth.SystemActorAs("bench", auth.DistrictAdmin), territory.BuildingFilter{Limit: 500})
	if err != nil || len(bs) == 0 {
		b.Fatalf("buildings: %v", err)
	}
	minLng, minLat, maxLng, maxLat := bs[0].Lng, bs[0].Lat, bs[0].Lng, bs[0].Lat
	for _, x := range bs {
		minLng, minLat, maxLng, maxLat = min(minLng, x.Lng), min(minLat, x.Lat), max(maxLng, x.Lng), max(maxLat, x.Lat)
	}
	texts := []string{"路灯不亮，晚上很黑", "楼道垃圾堆放多日无人清理", "人行道地砖破损翘起", "早点摊占用人行道经营", "单元门禁坏了一周没人修",
		"小区门口雨后积水严重", "商铺音箱外放声音太大", "电动车堆在单元门口"}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([][]byte, 0, n)
	for len(out) < n {
		lng, lat := minLng+rng.Float64()*(maxLng-minLng), minLat+rng.Float64()*(maxLat-minLat)
		if loc, err := a.Territory.Locate(ctx, lng, lat, geo.WGS84); err != nil || !loc.Inside {
			continue
		}
		body, _ := json.Marshal(map[string]any{"category": refs[rng.IntN(len(refs))], "description": texts[rng.IntN(len(texts))],
			"lng": lng, "lat": lat})
		out = append(out, body)
	}
	return out
}
