package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/load"
	"github.com/gridhall/gridhall/internal/territory"
)

// Options choose how long and with what the workloads run.
type Options struct {
	// Quick runs every workload briefly on small inputs: it checks that
	// the command works end to end, in about a minute.
	Quick bool
	// PostGIS is a PostgreSQL DSN with the postgis extension available;
	// "" leaves the PostGIS row "not measured".
	PostGIS string
	// SQLite3 is the sqlite3 command-line shell for the import peer; ""
	// looks for it on PATH.
	SQLite3 string
	// TempDir holds the generated register and the peer databases.
	TempDir string
	// Log gets a line as each workload starts (nil: none).
	Log io.Writer
}

// Row is one line of the table: a workload's figure beside its peer or
// limit. Ratio is figure ÷ peer, or peer ÷ figure for latencies, so that
// above 1 always means GridHall is better than the peer; Goal is the
// target an earlier issue set for it, with Met saying whether it is.
type Row struct {
	Workload string  `json:"workload"`
	Figure   string  `json:"figure"`
	Value    float64 `json:"value"`
	Peer     string  `json:"peer"`
	PeerFig  string  `json:"peer_figure"`
	Ratio    string  `json:"ratio"`
	Goal     string  `json:"goal"`
	Met      string  `json:"met"`
}

// Report is a whole run.
type Report struct {
	Engine  string `json:"engine"`
	DataSet string `json:"data_set"`
	Rows    []Row  `json:"rows"`
}

// runner holds a run's server, tokens and options.
type runner struct {
	a      *app.App
	o      Options
	plan   load.Plan
	srv    *httptest.Server
	client *http.Client
	rows   []Row
	// district is a token of a district administrator, for the district's
	// figures.
	district string
}

// Run measures every workload on a, which must hold a data set with a
// territory and cases (`gridhall gen`), and returns the rows in order.
// It creates load accounts and tokens in it (load.Setup), a bench table,
// a district account and a few buildings and residents for the registry
// workloads: run it on a copy of a data set, never on a live installation.
func Run(ctx context.Context, a *app.App, dataSet string, o Options) (*Report, error) {
	if o.TempDir == "" {
		o.TempDir = os.TempDir()
	}
	plan, err := load.Setup(ctx, a, load.SetupOptions{})
	if err != nil {
		return nil, err
	}
	r := &runner{a: a, o: o, plan: plan}
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	defer r.srv.Close()
	defer r.client.CloseIdleConnections()
	for _, w := range []struct {
		name string
		fn   func(context.Context) error
	}{
		{"case intake over HTTP", r.intake},
		{"point → grid", r.locate},
		{"work-queue pages", r.queues},
		{"case detail", r.detail},
		{"KPI figures", r.figures},
		{"registry import and lookup", r.registry},
	} {
		r.logf("bench: %s", w.name)
		if err := w.fn(ctx); err != nil {
			return nil, fmt.Errorf("bench %s: %w", w.name, err)
		}
	}
	r.peakMemory()
	return &Report{Engine: string(a.DB.Engine), DataSet: dataSet, Rows: r.rows}, nil
}

func (r *runner) logf(format string, a ...any) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, format+"\n", a...)
	}
}

// start serves the application with its two peers mounted beside it on the
// same server: the bare insert and hello world.
func (r *runner) start(ctx context.Context) error {
	if err := CreateBareTable(ctx, r.a.DB); err != nil {
		return err
	}
	h, err := r.a.Handler()
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.Handle("POST /bench/bare", BareInsert(r.a.DB, r.a.Clock))
	mux.HandleFunc("GET /bench/hello", Hello)
	r.srv = httptest.NewServer(mux)
	r.client = &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}, Timeout: time.Minute}
	// A district administrator for the district's figures.
	console := auth.SystemActor("bench")
	district := r.plan.Street[:6]
	if _, err := r.a.Auth.UserByName(ctx, console, "bench-district"); errs.Is(err, errs.NotFound) {
		if _, err := r.a.Auth.CreateUser(ctx, console, auth.NewUser{Username: "bench-district", DisplayName: "bench-district",
			Password: "bench-" + strconv.FormatInt(time.Now().UnixNano(), 36), Role: auth.DistrictAdmin, Scope: district}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	_, r.district, err = r.a.Auth.CreateToken(ctx, console, auth.NewToken{Username: "bench-district", Name: "gridhall bench",
		Scopes: []string{"read"}, ExpiresIn: 24 * time.Hour})
	return err
}

// sample is what a driven workload measured.
type sample struct {
	n       int
	elapsed time.Duration
	hist    load.Histogram
}

func (s *sample) rate() float64 { return float64(s.n) / s.elapsed.Seconds() }
func (s *sample) p(q float64) float64 {
	return float64(s.hist.Quantile(q)) / float64(time.Millisecond)
}

// drive sends requests from clients goroutines, each on its own keep-alive
// connection and starting the next when the last is answered (closed
// loop), for d or until n requests; every answer must have status want.
func (r *runner) drive(ctx context.Context, clients int, d time.Duration, n int, want int, mk func(i int) *http.Request) (*sample, error) {
	var next atomic.Int64
	var mu sync.Mutex
	s := &sample{}
	var firstErr error
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var h load.Histogram
			for ctx.Err() == nil && time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if n > 0 && i >= int64(n) {
					break
				}
				req := mk(int(i)).WithContext(ctx)
				t0 := time.Now()
				resp, err := r.client.Do(req)
				if err == nil {
					var body []byte
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != want {
						err = fmt.Errorf("%s %s: status %d: %.300s", req.Method, req.URL.Path, resp.StatusCode, body)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				h.Record(time.Since(t0))
			}
			mu.Lock()
			s.hist.Merge(&h)
			mu.Unlock()
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	s.n = int(s.hist.Count())
	if firstErr != nil {
		return nil, firstErr
	}
	if s.n == 0 {
		return nil, fmt.Errorf("no request completed")
	}
	return s, nil
}

func (r *runner) req(method, path, token string, body []byte) *http.Request {
	req, _ := http.NewRequest(method, r.srv.URL+path, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// dur is a workload's length: short in quick mode.
func (r *runner) dur(full time.Duration) time.Duration {
	if r.o.Quick {
		return min(full, 2*time.Second)
	}
	return full
}

func (r *runner) add(row Row) { r.rows = append(r.rows, row) }

func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	x := a / b
	switch {
	case x >= 100:
		return fmt.Sprintf("%.0f×", x)
	case x >= 10:
		return fmt.Sprintf("%.1f×", x)
	default:
		return fmt.Sprintf("%.2f×", x)
	}
}

func latency(s *sample) string { return fmt.Sprintf("p50 %.2f / p99 %.2f ms", s.p(0.5), s.p(0.99)) }

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// intakeClients is how many clients report at once, as in BenchmarkCaseIntake.
const intakeClients = 50

// intake is POST /api/v1/cases from 50 clients beside the bare insert and
// hello world from the same clients on the same server.
func (r *runner) intake(ctx context.Context) error {
	rng := rand.New(rand.NewPCG(3, 4))
	bodies := make([][]byte, 2048)
	texts := []string{"路灯不亮，晚上很黑", "楼道垃圾堆放多日无人清理", "人行道地砖破损翘起", "单元门禁坏了一周没人修"}
	for i := range bodies {
		pt := r.plan.Points[rng.IntN(len(r.plan.Points))]
		bodies[i], _ = json.Marshal(map[string]any{"category": r.plan.Categories[rng.IntN(len(r.plan.Categories))],
			"description": texts[i%len(texts)], "lng": pt[0], "lat": pt[1]})
	}
	d := r.dur(20 * time.Second)
	cases, err := r.drive(ctx, intakeClients, d, 0, http.StatusCreated, func(i int) *http.Request {
		return r.req("POST", "/api/v1/cases", r.plan.StreetToken, bodies[i%len(bodies)])
	})
	if err != nil {
		return err
	}
	bare, err := r.drive(ctx, intakeClients, d, 0, http.StatusCreated, func(i int) *http.Request {
		return r.req("POST", "/bench/bare", "", bodies[i%len(bodies)])
	})
	if err != nil {
		return err
	}
	hello, err := r.drive(ctx, intakeClients, r.dur(10*time.Second), 0, http.StatusOK, func(int) *http.Request {
		return r.req("GET", "/bench/hello", "", nil)
	})
	if err != nil {
		return err
	}
	fig := fmt.Sprintf("%.0f cases/s (%s)", cases.rate(), latency(cases))
	r.add(Row{Workload: "case intake over HTTP, 50 clients", Figure: fig, Value: cases.rate(),
		Peer: "bare single-row insert, same server", PeerFig: fmt.Sprintf("%.0f inserts/s (%s)", bare.rate(), latency(bare)),
		Ratio: ratio(cases.rate(), bare.rate()), Goal: "≥ 2,000 cases/s; ≥ 50 % of bare; p99 < 25 ms",
		Met: met(cases.rate() >= 2000 && cases.rate() >= bare.rate()/2 && cases.p(0.99) < 25)})
	r.add(Row{Workload: "case intake over HTTP, 50 clients", Figure: fig, Value: cases.rate(),
		Peer: "Go hello-world handler, same server", PeerFig: fmt.Sprintf("%.0f requests/s (%s)", hello.rate(), latency(hello)),
		Ratio: ratio(cases.rate(), hello.rate()), Goal: "—", Met: "—"})
	return nil
}

// locate is the point → grid locator on one goroutine over random points
// of the territory's grids, beside PostGIS ST_Contains on the same
// polygons. It times territory.Locate, what a report pays (the index
// lookup and the answer's path up the tree), not the bare index that
// internal/geo's benchmark times.
func (r *runner) locate(ctx context.Context) error {
	planner := auth.SystemActorAs("bench", auth.DistrictAdmin)
	nodes, err := r.a.Territory.Tree(ctx, planner, territory.Grid)
	if err != nil {
		return err
	}
	var grids []territory.Node
	var box = nodes[0].Bound
	for _, n := range nodes {
		if n.Level == territory.Grid {
			grids = append(grids, n)
			box = box.Union(n.Bound)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	pts := make([][2]float64, 100_000)
	for i := range pts {
		pts[i] = [2]float64{box.Min[0] + rng.Float64()*(box.Max[0]-box.Min[0]), box.Min[1] + rng.Float64()*(box.Max[1]-box.Min[1])}
	}
	d := r.dur(5 * time.Second)
	n := 0
	start := time.Now()
	for time.Since(start) < d {
		for range 1000 {
			p := pts[n%len(pts)]
			if _, err := r.a.Territory.Locate(ctx, p[0], p[1], geo.WGS84); err != nil {
				return err
			}
			n++
		}
	}
	rate := float64(n) / time.Since(start).Seconds()
	row := Row{Workload: fmt.Sprintf("point → grid (territory.Locate, with the node's path), %d grids, one goroutine", len(grids)),
		Figure: fmt.Sprintf("%.0f lookups/s", rate), Value: rate, Peer: "PostGIS ST_Contains + GiST, one connection",
		PeerFig: "not measured (no --postgis)", Ratio: "—", Goal: "≥ 1,000,000/s per core; ≥ 20× PostGIS", Met: met(rate >= 1e6)}
	if r.o.PostGIS != "" {
		pg, err := postgisRate(ctx, r.o.PostGIS, grids, pts, d, r.a.Territory)
		if err != nil {
			return err
		}
		row.PeerFig = fmt.Sprintf("%.0f lookups/s", pg)
		row.Ratio = ratio(rate, pg)
		row.Met = met(rate >= 1e6 && rate >= 20*pg)
	}
	r.add(row)
	return nil
}

// queues are the workbench's queue pages over HTTP, one client: the
// street's dispatch queue, every case of the street by deadline, and a
// community worker's verify queue.
func (r *runner) queues(ctx context.Context) error {
	d := r.dur(10 * time.Second)
	for _, q := range []struct{ name, path, token string }{
		{"street centre's dispatch queue", "/api/v1/cases?queue=dispatch", r.plan.StreetToken},
		{"street, all cases newest first", "/api/v1/cases?queue=all", r.plan.StreetToken},
		{"community worker's verify queue", "/api/v1/cases?queue=verify", r.plan.FieldTokens[0]},
		{"workbench page (HTML)", "/work", r.plan.StreetToken},
	} {
		s, err := r.drive(ctx, 1, d, 0, http.StatusOK, func(int) *http.Request { return r.req("GET", q.path, q.token, nil) })
		if err != nil {
			return err
		}
		r.add(Row{Workload: "work queue: " + q.name + ", 50 rows", Figure: latency(s), Value: s.p(0.99),
			Peer: "goal p99", PeerFig: "20 ms", Ratio: ratio(20, s.p(0.99)), Goal: "p99 < 20 ms", Met: met(s.p(0.99) < 20)})
	}
	return nil
}

// detail is a case's JSON and its page, for cases of the street.
func (r *runner) detail(ctx context.Context) error {
	out, err := r.get(ctx, "/api/v1/cases?queue=all&limit=200", r.plan.StreetToken)
	if err != nil {
		return err
	}
	var page struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(out, &page); err != nil || len(page.Items) == 0 {
		return fmt.Errorf("no case to show (%v)", err)
	}
	hello, err := r.drive(ctx, 1, r.dur(3*time.Second), 0, http.StatusOK, func(int) *http.Request { return r.req("GET", "/bench/hello", "", nil) })
	if err != nil {
		return err
	}
	for _, k := range []struct{ name, prefix string }{{"JSON", "/api/v1/cases/"}, {"page (HTML)", "/cases/"}} {
		s, err := r.drive(ctx, 1, r.dur(10*time.Second), 0, http.StatusOK, func(i int) *http.Request {
			return r.req("GET", k.prefix+strconv.FormatInt(page.Items[i%len(page.Items)].ID, 10), r.plan.StreetToken, nil)
		})
		if err != nil {
			return err
		}
		r.add(Row{Workload: "case detail, " + k.name, Figure: latency(s), Value: s.p(0.99), Peer: "hello world, one client",
			PeerFig: latency(hello), Ratio: ratio(hello.p(0.5), s.p(0.5)) + " (p50)", Goal: "—", Met: "—"})
	}
	return nil
}

func (r *runner) get(ctx context.Context, path, token string) ([]byte, error) {
	resp, err := r.client.Do(r.req("GET", path, token, nil).WithContext(ctx))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: status %d: %.300s", path, resp.StatusCode, b)
	}
	return b, err
}

// figures are a year's KPI figures of the street and of the district.
func (r *runner) figures(ctx context.Context) error {
	now := time.Now()
	q := func(code string) string {
		return "/api/v1/stats/cases?" + url.Values{"territory": {code}, "from": {now.AddDate(-1, 0, 0).Format("2006-01-02")},
			"to": {now.Format("2006-01-02")}}.Encode()
	}
	for _, f := range []struct {
		name, path, token string
		goal              bool // the cases issue set < 100 ms for a street's year; none for a district's
	}{
		{"a street, one year", q(r.plan.Street), r.plan.StreetToken, true},
		{"the district, one year", q(r.plan.Street[:6]), r.district, false},
	} {
		s, err := r.drive(ctx, 1, r.dur(10*time.Second), 0, http.StatusOK, func(int) *http.Request { return r.req("GET", f.path, f.token, nil) })
		if err != nil {
			return err
		}
		row := Row{Workload: "KPI figures, " + f.name, Figure: latency(s), Value: s.p(0.99), Peer: "a street's goal, p99", PeerFig: "100 ms",
			Ratio: ratio(100, s.p(0.99)), Goal: "— (the < 100 ms goal is a street's)", Met: "—"}
		if f.goal {
			row.Peer, row.Goal, row.Met = "goal p99", "< 100 ms", met(s.p(0.99) < 100)
		}
		r.add(row)
	}
	return nil
}

// peakMemory is the process's resident high-water mark: server, clients
// and data generation together, as they ran in one process.
func (r *runner) peakMemory() {
	b, err := os.ReadFile("/proc/self/status")
	fig := "unknown (no /proc/self/status)"
	var v float64
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				v = kb / 1024
				fig = fmt.Sprintf("%.0f MiB", v)
			}
		}
	}
	r.add(Row{Workload: "peak memory (RSS high-water mark of the bench process, data generation included)", Figure: fig, Value: v, Peer: "—", PeerFig: "—",
		Ratio: "—", Goal: "—", Met: "—"})
}

// WriteTable prints the report as one table.
func (rep *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "gridhall bench — %s, data set: %s\n\n", rep.Engine, rep.DataSet)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "workload\tGridHall\tpeer / limit\tpeer figure\tratio\tgoal\tmet")
	for _, r := range rep.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Workload, r.Figure, r.Peer, r.PeerFig, r.Ratio, r.Goal, r.Met)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nratio: GridHall ÷ peer for rates, peer ÷ GridHall for latencies (above 1: GridHall is faster).")
	return nil
}

// WriteJSON writes the report as indented JSON.
func (rep *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// DataSetSize describes the data set in a: its grids, residents and cases.
func DataSetSize(ctx context.Context, d *db.DB) (string, error) {
	var grids, residents, cases int64
	for _, q := range []struct {
		sql string
		n   *int64
	}{
		{"SELECT COUNT(*) FROM territory_nodes WHERE valid_to IS NULL AND level = 3", &grids},
		{"SELECT COUNT(*) FROM residents", &residents},
		{"SELECT COUNT(*) FROM cases", &cases},
	} {
		if err := d.QueryRowContext(ctx, q.sql).Scan(q.n); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d grids, %d residents, %d cases", grids, residents, cases), nil
}
