// Package load is GridHall's load generator: it plays residents reporting
// cases, staff working them through the whole workflow and people viewing
// pages against a GridHall on this machine, open-loop at a fixed rate or
// closed-loop with a fixed number of clients, and reports throughput,
// errors, latency percentiles per kind of request and the server's memory
// over time. It is bounded in time and in requests and refuses any target
// that is not loopback: a test tool, not a weapon.
package load

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mix weighs the three kinds of operation: a resident's report, a worker's
// workflow step, and a page view.
type Mix struct {
	Report, Act, View int
}

// DefaultMix is 40 % reports, 30 % workflow steps, 30 % views.
var DefaultMix = Mix{Report: 40, Act: 30, View: 30}

// ParseMix reads "report=40,act=30,view=30"; kinds left out weigh 0.
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return Mix{}, fmt.Errorf("mix %q: want kind=weight,… with weights ≥ 0", s)
		}
		switch k {
		case "report":
			m.Report = n
		case "act":
			m.Act = n
		case "view":
			m.View = n
		default:
			return Mix{}, fmt.Errorf("mix %q: unknown kind %q (report, act, view)", s, k)
		}
	}
	if m.Report+m.Act+m.View == 0 {
		return Mix{}, fmt.Errorf("mix %q: every weight is 0", s)
	}
	return m, nil
}

func (m Mix) String() string { return fmt.Sprintf("report=%d,act=%d,view=%d", m.Report, m.Act, m.View) }

// Config is one run.
type Config struct {
	Target string // http://127.0.0.1:PORT
	Plan   Plan
	// Rate, when > 0, starts that many operations per second on schedule
	// whatever the server does (open loop), and each request's latency is
	// counted from when its operation should have started, so a slow server
	// is not hidden by the generator waiting for it (coordinated omission).
	// Otherwise Clients clients each start an operation when their previous
	// one ends (closed loop): the server's capacity.
	Rate    float64
	Clients int // closed loop: clients; open loop: the most operations in flight (default 1,000)
	// Duration bounds the run in time and MaxRequests in requests (0: no
	// bound besides Duration); both are required to be sensible by the
	// command.
	Duration    time.Duration
	MaxRequests int64
	Mix         Mix
	// Sample is how often the server's memory is read from /metrics and a
	// line of the time series is kept (default 10 s).
	Sample  time.Duration
	Timeout time.Duration // per request (default 30 s)
	// Progress, when set, gets a line per sample as the run goes.
	Progress io.Writer
	Seed     uint64
}

// Run plays cfg against its target until the duration passes, the request
// bound is reached or ctx ends, and returns what it measured.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	base, err := CheckTarget(cfg.Target)
	if err != nil {
		return nil, err
	}
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	if cfg.Duration <= 0 {
		return nil, errors.New("load: a duration is required")
	}
	if cfg.Mix == (Mix{}) {
		cfg.Mix = DefaultMix
	}
	if cfg.Clients <= 0 {
		cfg.Clients = 1000
		if cfg.Rate <= 0 {
			cfg.Clients = 16
		}
	}
	if cfg.Sample <= 0 {
		cfg.Sample = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	r := &runner{cfg: cfg, base: strings.TrimSuffix(base.String(), "/"), client: newClient(cfg.Clients, cfg.Timeout),
		rec: newRecorder(), photo: pngPhoto(), claimed: map[int64]bool{}, done: map[int64]int{}}
	defer r.client.CloseIdleConnections()
	r.stages = workflow(cfg.Plan)
	now := time.Now()
	r.statsFrom, r.statsTo = now.AddDate(0, 0, -30).Format("2006-01-02"), now.Format("2006-01-02")

	// Requests run under ctx (an interrupt ends them); the run's end, by
	// time or by the request bound, only stops new ones from being sent.
	runCtx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	r.ctx, r.over, r.stop = ctx, runCtx, cancel
	start := time.Now()
	r.rec.start = start

	var sampler sync.WaitGroup
	sampler.Go(func() { r.sample(runCtx, start) })
	if cfg.Rate > 0 {
		r.openLoop(runCtx, start)
	} else {
		r.closedLoop(runCtx)
	}
	elapsed := time.Since(start)
	cancel()
	sampler.Wait()
	// One last memory reading, after the load.
	r.scrape(context.Background(), start)
	return r.rec.result(cfg, elapsed), nil
}

type runner struct {
	cfg    Config
	base   string
	client *http.Client
	rec    *recorder
	stages []stage
	photo  []byte
	ctx    context.Context // requests' context
	over   context.Context // done when the run is over
	stop   context.CancelFunc

	requests atomic.Int64 // started, against MaxRequests
	opSeq    atomic.Uint64

	mu      sync.Mutex
	claimed map[int64]bool // cases a client is acting on now
	// done is, for each case, 1 + the furthest step of the workflow taken
	// on it: the load only moves cases forward, so a page showing a case at
	// that step or an earlier one is older than the step.
	done    map[int64]int
	recent  [256]int64 // ids of cases seen lately, for case pages
	nRecent int

	statsFrom, statsTo string
}

// openLoop starts operations at the configured rate, on a schedule fixed in
// advance, each in its own goroutine (at most Clients at once: beyond that
// an operation waits for a slot, and the wait counts in its latency).
func (r *runner) openLoop(ctx context.Context, start time.Time) {
	interval := time.Duration(float64(time.Second) / r.cfg.Rate)
	slots := make(chan struct{}, r.cfg.Clients)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := int64(0); ; i++ {
		due := start.Add(time.Duration(i) * interval)
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		if ctx.Err() != nil || r.exhausted() {
			return
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		rng := rand.New(rand.NewPCG(r.cfg.Seed, r.opSeq.Add(1)))
		wg.Go(func() {
			defer func() { <-slots }()
			r.op(rng, due)
		})
	}
}

// closedLoop runs Clients clients, each starting its next operation as soon
// as its last one ends.
func (r *runner) closedLoop(ctx context.Context) {
	var wg sync.WaitGroup
	for c := range r.cfg.Clients {
		rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(c)+1<<32))
		wg.Go(func() {
			for ctx.Err() == nil && !r.exhausted() {
				r.op(rng, time.Now())
			}
		})
	}
	wg.Wait()
}

func (r *runner) exhausted() bool {
	return r.cfg.MaxRequests > 0 && r.requests.Load() >= r.cfg.MaxRequests
}

// opRun is one operation under way; it is counted once it sends its first
// request, so operations the end of the run cut short before any request
// are not.
type opRun struct {
	name    string
	counted bool
}

// op runs one operation chosen by the mix; intended is when it should have
// started, which its first request's latency counts from.
func (r *runner) op(rng *rand.Rand, intended time.Time) {
	m := r.cfg.Mix
	n := rng.IntN(m.Report + m.Act + m.View)
	switch {
	case n < m.Report:
		r.report(&opRun{name: "report"}, rng, intended)
	case n < m.Report+m.Act:
		r.act(&opRun{name: "act"}, rng, intended)
	default:
		r.view(&opRun{name: "view"}, rng, intended)
	}
}

// call sends one request and records it under kind, with its latency
// counted from from; it returns the body and whether the answer was 2xx.
// Once the run is over (its duration passed or its request bound reached)
// no request is sent, but one already sent is waited for and counted: what
// the server did is all in the figures, so its database matches them.
func (r *runner) call(o *opRun, kind, method, path, token, contentType string, body []byte, from time.Time) ([]byte, bool) {
	if r.over.Err() != nil {
		return nil, false
	}
	if n := r.requests.Add(1); r.cfg.MaxRequests > 0 && n >= r.cfg.MaxRequests {
		if n > r.cfg.MaxRequests {
			return nil, false
		}
		defer r.stop() // the last request allowed: send it, then end the run
	}
	if !o.counted {
		o.counted = true
		r.rec.op(o.name)
	}
	req, err := http.NewRequestWithContext(r.ctx, method, r.base+path, bytes.NewReader(body))
	if err != nil {
		r.rec.record(kind, "client", time.Since(from))
		return nil, false
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.rec.record(kind, "net", time.Since(from))
		return nil, false
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	lat := time.Since(from)
	if err != nil {
		r.rec.record(kind, "net", lat)
		return nil, false
	}
	r.rec.record(kind, strconv.Itoa(resp.StatusCode), lat)
	return out, resp.StatusCode < 300
}

var descriptions = []string{"路灯不亮，晚上很黑", "楼道垃圾堆放多日无人清理", "人行道地砖破损翘起", "早点摊占用人行道经营",
	"单元门禁坏了一周没人修", "小区门口雨后积水严重", "商铺音箱外放声音太大", "电动车堆在单元门口"}

func (r *runner) report(o *opRun, rng *rand.Rand, from time.Time) {
	p := r.cfg.Plan
	pt := p.Points[rng.IntN(len(p.Points))]
	body, _ := json.Marshal(map[string]any{"category": p.Categories[rng.IntN(len(p.Categories))],
		"description": descriptions[rng.IntN(len(descriptions))], "lng": pt[0], "lat": pt[1]})
	out, ok := r.call(o, "report", "POST", "/api/v1/cases", p.ResidentToken, "application/json", body, from)
	if !ok {
		return
	}
	var in struct {
		Case struct {
			ID int64 `json:"id"`
		} `json:"case"`
	}
	if json.Unmarshal(out, &in) == nil && in.Case.ID != 0 {
		r.seen(in.Case.ID)
	}
}

// stage is one step of the workflow: the queue it is taken from, the
// action, and who does it with what.
type stage struct {
	queue, action string
	tokens        []string // any of them may take the step
	body          string
	photo         bool
}

// workflow is the case workflow as the load plays it: a resident's report
// is verified by a community worker, accepted, registered and dispatched by
// the street's centre to the department, signed for and handled (with a
// photo) by its handler, checked on site by a community worker and closed
// by the centre.
func workflow(p Plan) []stage {
	street, handler := []string{p.StreetToken}, []string{p.HandlerToken}
	return []stage{
		{queue: "verify", action: "verify", tokens: p.FieldTokens, body: `{"note":"现场核实属实"}`},
		{queue: "accept", action: "accept", tokens: street, body: `{}`},
		{queue: "register", action: "register", tokens: street, body: `{}`},
		{queue: "dispatch", action: "dispatch", tokens: street, body: `{"target":"department:` + p.Department + `"}`},
		{queue: "sign", action: "sign", tokens: handler, body: `{}`},
		{queue: "handle", action: "handle", tokens: handler, body: `{"note":"已处置完毕"}`, photo: true},
		{queue: "check", action: "check", tokens: p.FieldTokens, body: `{"note":"核查通过"}`},
		{queue: "close", action: "close", tokens: street, body: `{}`},
	}
}

// act is a worker's turn: starting from a random step and going back up
// the workflow, it opens that step's queue and takes the first case no
// other client holds and that no client has taken this step or a later one
// on (the page may be older than another client's steps), and takes the
// step.
// Several clients thus work the same queues as real staff would, without
// stepping on each other's cases: a conflict (409) is the server's error.
func (r *runner) act(o *opRun, rng *rand.Rand, from time.Time) {
	start := rng.IntN(len(r.stages))
	for k := range r.stages {
		step := (start - k + len(r.stages)) % len(r.stages)
		s := r.stages[step]
		token := s.tokens[rng.IntN(len(s.tokens))]
		out, ok := r.call(o, "queue", "GET", "/api/v1/cases?limit=20&queue="+s.queue, token, "", nil, from)
		from = time.Now()
		if !ok {
			return
		}
		var page struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		if json.Unmarshal(out, &page) != nil {
			continue
		}
		for _, it := range page.Items {
			r.seen(it.ID)
			if !r.claim(it.ID, step) {
				continue
			}
			ct, body := "application/json", []byte(s.body)
			if s.photo {
				ct, body = r.withPhoto(s.body)
			}
			r.call(o, "act:"+s.action, "POST", "/api/v1/cases/"+strconv.FormatInt(it.ID, 10)+"/actions/"+s.action, token, ct, body, from)
			r.release(it.ID, step)
			return
		}
	}
}

func (r *runner) claim(id int64, step int) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.claimed[id] || r.done[id] > step {
		return false
	}
	r.claimed[id] = true
	return true
}

func (r *runner) release(id int64, step int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done[id] = max(r.done[id], step+1)
	delete(r.claimed, id)
}

func (r *runner) seen(id int64) {
	r.mu.Lock()
	r.recent[r.nRecent%len(r.recent)] = id
	r.nRecent++
	r.mu.Unlock()
}

func (r *runner) recentCase(rng *rand.Rand) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := min(r.nRecent, len(r.recent))
	if n == 0 {
		return 0
	}
	return r.recent[rng.IntN(n)]
}

// view is someone looking: the workbench page, a case's page, a queue
// through the API, the street's figures for the last 30 days, or a point
// located on the map.
func (r *runner) view(o *opRun, rng *rand.Rand, from time.Time) {
	p := r.cfg.Plan
	switch rng.IntN(5) {
	case 0:
		r.call(o, "view:work", "GET", "/work", p.StreetToken, "", nil, from)
	case 1:
		if id := r.recentCase(rng); id != 0 {
			r.call(o, "view:case", "GET", "/cases/"+strconv.FormatInt(id, 10), p.StreetToken, "", nil, from)
			return
		}
		fallthrough // nothing seen yet: the queue shows some
	case 2:
		out, ok := r.call(o, "view:queue", "GET", "/api/v1/cases?queue=all&limit=50", p.StreetToken, "", nil, from)
		if ok {
			var page struct {
				Items []struct {
					ID int64 `json:"id"`
				} `json:"items"`
			}
			if json.Unmarshal(out, &page) == nil && len(page.Items) > 0 {
				r.seen(page.Items[rng.IntN(len(page.Items))].ID)
			}
		}
	case 3:
		q := url.Values{"territory": {p.Street}, "from": {r.statsFrom}, "to": {r.statsTo}}
		r.call(o, "view:stats", "GET", "/api/v1/stats/cases?"+q.Encode(), p.StreetToken, "", nil, from)
	default:
		pt := p.Points[rng.IntN(len(p.Points))]
		r.call(o, "view:locate", "GET", fmt.Sprintf("/api/v1/locate?lng=%.6f&lat=%.6f", pt[0], pt[1]), "", "", nil, from)
	}
}

// withPhoto wraps an action's JSON in the multipart form a handler sends
// with a photo of the result.
func (r *runner) withPhoto(jsonPart string) (string, []byte) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("case", jsonPart)
	w, _ := mw.CreateFormFile("photo", "result.png")
	w.Write(r.photo)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// pngPhoto is a small real PNG, so the server decodes and stores a photo as
// it would a phone's (smaller, to keep the load on the workflow).
func pngPhoto() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
