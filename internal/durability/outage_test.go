//go:build durability

package durability_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// While GridHall runs under write load, its PostgreSQL goes away — once
// with a fast shutdown, once with an immediate one (a crash) — for several
// seconds and comes back on the same port. The process stays up; every
// request completes within the client's 10-second bound and is either a
// success or a 503 with Retry-After; /readyz says not ready during the
// outage and ready after; writes succeed again within a liveness bound of
// 30 seconds of the database's return without a restart; and nothing
// acknowledged is lost.
func TestPostgresOutageAnswers503AndRecoversWithoutLosingAnAcknowledgedWrite(t *testing.T) {
	const (
		writers  = 3
		downFor  = 6 * time.Second
		recovery = 30 * time.Second // a liveness bound, not a performance target
	)
	pg := startPG(t)
	s := newSite(t, "GRIDHALL_DB="+pg.dsn, "GRIDHALL_MASTER_KEY="+masterKey)
	n := startNode(t, "pg-outage", s, "--case-timer-every", "500ms", "--outbox-every", "500ms", "--territory-poll", "500ms")
	l := newLedger()

	type tally struct {
		mu       sync.Mutex
		byStatus map[int]int
		bad      []string
		lastOK   time.Time
		slowest  time.Duration
	}
	tl := &tally{byStatus: map[int]int{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				wr := reportCase
				if i%3 == 2 {
					wr = addBuilding
				}
				m := fmt.Sprintf("out-w%di%05d", w, i)
				l.attempt(wr.kind, m)
				r := wr.do(context.Background(), n.URL, s, m)
				tl.mu.Lock()
				tl.byStatus[r.status]++
				tl.slowest = max(tl.slowest, r.took)
				switch {
				case r.status == http.StatusCreated:
					tl.lastOK = time.Now()
				case r.status == http.StatusServiceUnavailable && r.retryAfter != "":
				default:
					if len(tl.bad) < 10 {
						tl.bad = append(tl.bad, fmt.Sprintf("%s %s after %s: status %d, Retry-After %q: %v", wr.kind, m, r.took, r.status, r.retryAfter, r.err))
					}
				}
				tl.mu.Unlock()
				switch r.status {
				case http.StatusCreated:
					l.ack(wr.kind, m, r.id)
				case http.StatusServiceUnavailable:
					time.Sleep(100 * time.Millisecond) // a polite client would wait Retry-After; keep probing faster
				}
			}
		})
	}

	// /readyz, polled throughout.
	type probe struct {
		at   time.Time
		code int
	}
	var pmu sync.Mutex
	var probes []probe
	var polling atomic.Bool
	polling.Store(true)
	var pwg sync.WaitGroup
	pwg.Go(func() {
		for polling.Load() {
			code, _ := get(n.URL+"/readyz", "")
			pmu.Lock()
			probes = append(probes, probe{time.Now(), code})
			pmu.Unlock()
			time.Sleep(200 * time.Millisecond)
		}
	})
	readyzSince := func(from time.Time) (codes map[int]int) {
		pmu.Lock()
		defer pmu.Unlock()
		codes = map[int]int{}
		for _, p := range probes {
			if p.at.After(from) {
				codes[p.code]++
			}
		}
		return codes
	}

	var recoveries []time.Duration
	for _, mode := range []string{"fast", "immediate"} {
		time.Sleep(2 * time.Second) // load on a healthy database first
		pg.halt(t, mode)
		down := time.Now()
		time.Sleep(downFor)
		if c := readyzSince(down.Add(time.Second)); c[http.StatusServiceUnavailable] == 0 || c[http.StatusOK] > 0 {
			t.Errorf("%s outage: /readyz answered %v, want only 503", mode, c)
		}
		if !n.alive() {
			t.Fatalf("%s outage: gridhall exited: %v", mode, n.waitErr)
		}
		pg.resume(t)
		back := time.Now()
		for {
			tl.mu.Lock()
			ok := tl.lastOK.After(back)
			tl.mu.Unlock()
			if ok && readyzSince(back)[http.StatusOK] > 0 {
				break
			}
			if time.Since(back) > recovery {
				t.Fatalf("%s outage: no successful write and ready /readyz within %s of the database's return", mode, recovery)
			}
			time.Sleep(50 * time.Millisecond)
		}
		recoveries = append(recoveries, time.Since(back))
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	polling.Store(false)
	pwg.Wait()
	if !n.alive() {
		t.Fatalf("gridhall exited: %v", n.waitErr)
	}
	n.stop()

	tl.mu.Lock()
	for _, b := range tl.bad {
		t.Errorf("neither a success nor a 503 with Retry-After within the client's 10s: %s", b)
	}
	statuses := make([]int, 0, len(tl.byStatus))
	for c := range tl.byStatus {
		statuses = append(statuses, c)
	}
	sort.Ints(statuses)
	summary := ""
	for _, c := range statuses {
		summary += fmt.Sprintf(" %d×%d", c, tl.byStatus[c])
	}
	tl.mu.Unlock()
	if tl.byStatus[http.StatusServiceUnavailable] == 0 {
		t.Error("no request saw the outage: the test did not test it")
	}

	ctx := context.Background()
	d, err := db.Open(ctx, db.Options{PostgresDSN: pg.dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	extra := checkWrites(t, d, l, "out-w")
	verified := auditVerify(t, s)
	t.Logf("answers:%s; slowest %s; recovered %v after the database returned (fast, immediate); "+
		"%d writes acknowledged (%d cases, %d buildings), all present exactly once; %d unacknowledged committed; %s",
		summary, tl.slowest.Round(time.Millisecond), recoveries, len(l.acked), l.count("case"), l.count("building"), extra, verified)
}
