package load

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// recorder keeps every request's outcome: a histogram per kind for the
// whole run, and one for all kinds per sample interval (the time series).
type recorder struct {
	mu       sync.Mutex
	start    time.Time
	kinds    map[string]*kindRec
	ops      map[string]uint64
	interval Histogram
	ivErrors uint64
	series   []Sample
}

type kindRec struct {
	hist     Histogram
	errors   uint64
	byStatus map[string]uint64
}

func newRecorder() *recorder {
	return &recorder{kinds: map[string]*kindRec{}, ops: map[string]uint64{}}
}

func (r *recorder) op(name string) {
	r.mu.Lock()
	r.ops[name]++
	r.mu.Unlock()
}

// record counts one request: status is the HTTP status, or "net" when the
// connection failed or timed out. Every status of 400 or above is an error.
func (r *recorder) record(kind, status string, lat time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := r.kinds[kind]
	if k == nil {
		k = &kindRec{byStatus: map[string]uint64{}}
		r.kinds[kind] = k
	}
	k.hist.Record(lat)
	r.interval.Record(lat)
	k.byStatus[status]++
	if isError(status) {
		k.errors++
		r.ivErrors++
	}
}

func isError(status string) bool {
	n, err := strconv.Atoi(status)
	return err != nil || n >= 400
}

// Sample is one interval of the time series: the requests that ended in
// it, and the server's memory at its end.
type Sample struct {
	At        float64 `json:"at_s"` // seconds since the start
	Requests  uint64  `json:"requests"`
	Errors    uint64  `json:"errors"`
	RPS       float64 `json:"rps"`
	P50ms     float64 `json:"p50_ms"`
	P99ms     float64 `json:"p99_ms"`
	HeapInuse uint64  `json:"heap_inuse_bytes"` // go_memstats_heap_inuse_bytes
	RSS       uint64  `json:"rss_bytes"`        // process_resident_memory_bytes
	MemError  string  `json:"mem_error,omitempty"`
}

// sample reads the server's memory every Sample period and closes an
// interval of the time series.
func (r *runner) sample(ctx context.Context, start time.Time) {
	t := time.NewTicker(r.cfg.Sample)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// Not under ctx: a reading due as the run ends is still taken.
			s := r.scrape(context.Background(), start)
			if r.cfg.Progress != nil {
				fmt.Fprintf(r.cfg.Progress, "%7.0fs  %8.1f req/s  errors %d  p50 %.1f ms  p99 %.1f ms  heap %s  rss %s\n",
					s.At, s.RPS, s.Errors, s.P50ms, s.P99ms, mib(s.HeapInuse), mib(s.RSS))
			}
		}
	}
}

// scrape reads /metrics and closes the current interval with it.
func (r *runner) scrape(ctx context.Context, start time.Time) Sample {
	heap, rss, err := r.memory(ctx)
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	at := time.Since(start)
	prev := 0.0
	if n := len(r.rec.series); n > 0 {
		prev = r.rec.series[n-1].At
	}
	s := Sample{At: at.Seconds(), Requests: r.rec.interval.Count(), Errors: r.rec.ivErrors,
		P50ms: ms(r.rec.interval.Quantile(0.50)), P99ms: ms(r.rec.interval.Quantile(0.99)), HeapInuse: heap, RSS: rss}
	if d := at.Seconds() - prev; d > 0 {
		s.RPS = float64(s.Requests) / d
	}
	if err != nil {
		s.MemError = err.Error()
	}
	r.rec.series = append(r.rec.series, s)
	r.rec.interval = Histogram{}
	r.rec.ivErrors = 0
	return s
}

// memory reads the heap in use and the resident set size from the target's
// Prometheus metrics.
func (r *runner) memory(ctx context.Context) (heap, rss uint64, err error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", r.base+"/metrics", nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return 0, 0, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return ParseMemory(resp.Body)
}

// ParseMemory finds go_memstats_heap_inuse_bytes and
// process_resident_memory_bytes in a Prometheus text exposition.
func ParseMemory(rd io.Reader) (heap, rss uint64, err error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		var dst *uint64
		switch name {
		case "go_memstats_heap_inuse_bytes":
			dst = &heap
		case "process_resident_memory_bytes":
			dst = &rss
		default:
			continue
		}
		f, perr := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("metric %s: %v", name, perr)
		}
		*dst = uint64(f)
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	if heap == 0 {
		return 0, 0, fmt.Errorf("no go_memstats_heap_inuse_bytes in /metrics")
	}
	return heap, rss, nil
}

// KindStats are one kind of request's figures.
type KindStats struct {
	Kind     string            `json:"kind"`
	Count    uint64            `json:"count"`
	Errors   uint64            `json:"errors"`
	RPS      float64           `json:"rps"`
	P50ms    float64           `json:"p50_ms"`
	P90ms    float64           `json:"p90_ms"`
	P99ms    float64           `json:"p99_ms"`
	MaxMs    float64           `json:"max_ms"`
	ByStatus map[string]uint64 `json:"by_status"`
}

// Result is what a run measured.
type Result struct {
	Target    string            `json:"target"`
	Mode      string            `json:"mode"` // "open" (fixed rate) or "closed" (fixed clients)
	Rate      float64           `json:"rate_ops_per_s,omitempty"`
	Clients   int               `json:"clients"`
	Mix       string            `json:"mix"`
	Seconds   float64           `json:"seconds"`
	Ops       map[string]uint64 `json:"operations"`
	OpsPerSec float64           `json:"ops_per_s"`
	Total     KindStats         `json:"total"`
	Kinds     []KindStats       `json:"kinds"`
	Series    []Sample          `json:"series"`
}

func (r *recorder) result(cfg Config, elapsed time.Duration) *Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := &Result{Target: cfg.Target, Mode: "closed", Clients: cfg.Clients, Mix: cfg.Mix.String(), Seconds: elapsed.Seconds(),
		Ops: maps.Clone(r.ops), Series: slices.Clone(r.series)}
	if cfg.Rate > 0 {
		res.Mode, res.Rate = "open", cfg.Rate
	}
	var ops uint64
	for _, n := range r.ops {
		ops += n
	}
	res.OpsPerSec = float64(ops) / elapsed.Seconds()
	var all Histogram
	total := KindStats{Kind: "all", ByStatus: map[string]uint64{}}
	for _, name := range slices.Sorted(maps.Keys(r.kinds)) {
		k := r.kinds[name]
		res.Kinds = append(res.Kinds, stats(name, &k.hist, k.errors, k.byStatus, elapsed))
		all.Merge(&k.hist)
		total.Errors += k.errors
		for s, n := range k.byStatus {
			total.ByStatus[s] += n
		}
	}
	t := stats("all", &all, total.Errors, total.ByStatus, elapsed)
	res.Total = t
	return res
}

func stats(kind string, h *Histogram, errors uint64, byStatus map[string]uint64, elapsed time.Duration) KindStats {
	return KindStats{Kind: kind, Count: h.Count(), Errors: errors, RPS: float64(h.Count()) / elapsed.Seconds(),
		P50ms: ms(h.Quantile(0.50)), P90ms: ms(h.Quantile(0.90)), P99ms: ms(h.Quantile(0.99)), MaxMs: ms(h.Max()),
		ByStatus: maps.Clone(byStatus)}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// WriteTable prints the result for a person: the run, a row per kind of
// request, the errors by status, and the memory series.
func (res *Result) WriteTable(w io.Writer) error {
	mode := fmt.Sprintf("closed loop, %d clients", res.Clients)
	if res.Mode == "open" {
		mode = fmt.Sprintf("open loop, %.1f operations/s scheduled", res.Rate)
	}
	fmt.Fprintf(w, "target %s  %s  mix %s  %.1f s\n", res.Target, mode, res.Mix, res.Seconds)
	fmt.Fprintf(w, "operations %d (%.1f/s): report %d, act %d, view %d; requests %d (%.1f/s), errors %d\n\n",
		res.Ops["report"]+res.Ops["act"]+res.Ops["view"], res.OpsPerSec, res.Ops["report"], res.Ops["act"], res.Ops["view"],
		res.Total.Count, res.Total.RPS, res.Total.Errors)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "kind\trequests\treq/s\terrors\tp50 ms\tp90 ms\tp99 ms\tmax ms\t")
	for _, k := range append(slices.Clone(res.Kinds), res.Total) {
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%.2f\t%.2f\t%.2f\t%.1f\t\n", k.Kind, k.Count, k.RPS, k.Errors, k.P50ms, k.P90ms, k.P99ms, k.MaxMs)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	statuses := slices.Sorted(maps.Keys(res.Total.ByStatus))
	parts := make([]string, 0, len(statuses))
	for _, s := range statuses {
		parts = append(parts, fmt.Sprintf("%s: %d", s, res.Total.ByStatus[s]))
	}
	fmt.Fprintf(w, "\nby status: %s\n", strings.Join(parts, ", "))
	var errKinds []string
	for _, k := range res.Kinds {
		for _, s := range slices.Sorted(maps.Keys(k.ByStatus)) {
			if isError(s) {
				errKinds = append(errKinds, fmt.Sprintf("%s %s: %d", k.Kind, s, k.ByStatus[s]))
			}
		}
	}
	if len(errKinds) > 0 {
		fmt.Fprintf(w, "errors: %s\n", strings.Join(errKinds, ", "))
		if res.Total.ByStatus["429"] > 0 {
			fmt.Fprintln(w, "(429: the target limits each API token's rate; run it with --api-rate 0 for a load test)")
		}
	}
	fmt.Fprintln(w, "\nserver memory over time:")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "t s\treq/s\terrors\tp50 ms\tp99 ms\theap in use MiB\tRSS MiB\t")
	for _, s := range res.Series {
		if s.MemError != "" {
			fmt.Fprintf(tw, "%.0f\t%.1f\t%d\t%.2f\t%.2f\t%s\t\t\n", s.At, s.RPS, s.Errors, s.P50ms, s.P99ms, s.MemError)
			continue
		}
		fmt.Fprintf(tw, "%.0f\t%.1f\t%d\t%.2f\t%.2f\t%.1f\t%.1f\t\n", s.At, s.RPS, s.Errors, s.P50ms, s.P99ms,
			float64(s.HeapInuse)/(1<<20), float64(s.RSS)/(1<<20))
	}
	return tw.Flush()
}

// WriteJSON writes the result as indented JSON.
func (res *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}
