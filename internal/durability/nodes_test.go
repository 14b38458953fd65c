//go:build durability

package durability_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/outbox"
)

// Three `gridhall serve` processes on one PostgreSQL behind a round-robin
// proxy behave as one installation: a session made through one node holds
// on the others, every due case timer fires once although all three run
// the timer job, every webhook message is delivered once although all
// three run the dispatcher, and a boundary changed through one node
// reaches the locator of the others within their poll interval.
func TestThreeNodesOnOnePostgresShareSessionsFireTimersOnceDeliverOnceAndSeeTerritoryChanges(t *testing.T) {
	const cases = 30
	ctx := context.Background()
	pg := startPG(t)
	s := newSite(t, "GRIDHALL_DB="+pg.dsn, "GRIDHALL_MASTER_KEY="+masterKey)
	exportDir := t.TempDir()
	var nodes []*node
	for _, name := range []string{"node-a", "node-b", "node-c"} {
		nodes = append(nodes, startNode(t, name, s, "--case-timer-every", "200ms", "--outbox-every", "200ms",
			"--territory-poll", "500ms", "--export-dir", exportDir, "--escalate-after", "0.5"))
	}
	d, err := db.Open(ctx, db.Options{PostgresDSN: pg.dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	// The load balancer: plain round robin, no stickiness.
	var next atomic.Uint64
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := int(next.Add(1)-1) % len(nodes)
			u, _ := url.Parse(nodes[i].URL)
			pr.SetURL(u)
			pr.Out.Header.Set("X-Test-Node", nodes[i].name)
		},
		ModifyResponse: func(r *http.Response) error {
			r.Header.Set("X-Test-Node", r.Request.Header.Get("X-Test-Node"))
			return nil
		},
	})
	defer proxy.Close()

	t.Run("a session made on one node holds on every node", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := browser.PostForm(proxy.URL+"/login", url.Values{"username": {"admin"}, "password": {s.password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
			t.Fatalf("sign in through the proxy: %d", resp.StatusCode)
		}
		served := map[string]int{}
		for range 3 * len(nodes) {
			resp, err := browser.Get(proxy.URL + "/api/v1/me")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"admin"`) {
				t.Fatalf("%s: /api/v1/me with the session: %d %s", resp.Header.Get("X-Test-Node"), resp.StatusCode, b)
			}
			served[resp.Header.Get("X-Test-Node")]++
		}
		if len(served) != len(nodes) {
			t.Fatalf("requests reached %v, want every node", served)
		}
	})

	// A webhook receiver that counts each delivery by its id.
	var mu sync.Mutex
	deliveries := map[string]int{}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		deliveries[r.Header.Get(outbox.HeaderDelivery)]++
		mu.Unlock()
	}))
	defer recv.Close()
	req, _ := http.NewRequest("POST", proxy.URL+"/api/v1/webhooks",
		strings.NewReader(`{"owner":"system:durability","url":"`+recv.URL+`/hook","events":"*"}`))
	req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", resp.StatusCode, b)
	}

	t.Run("each due timer fires once and each message goes once", func(t *testing.T) {
		l := newLedger()
		for i := range cases {
			m := fmt.Sprintf("nodes-%03d", i)
			l.attempt("case", m)
			r := reportCase.do(ctx, proxy.URL, s, m)
			if r.status != http.StatusCreated {
				t.Fatalf("report %s: %v", m, r.err)
			}
			l.ack("case", m, r.id)
		}
		// The shortest limit is an hour; rather than wait for it, move the
		// cases' stage a month into the past, so that their warning,
		// overdue and escalation timers are all due while three nodes run
		// the timer job every 200ms.
		past := time.Now().Add(-30 * 24 * time.Hour).UnixMilli()
		if _, err := d.ExecContext(ctx, `UPDATE cases SET stage_started_at = $1, stage_due_at = $2, timer_at = $2
			WHERE description LIKE '%nodes-%'`, past, past+int64(5*24*time.Hour/time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		overdueOf := func() (withOverdue, extra int) {
			if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT e.case_id), COUNT(*) - COUNT(DISTINCT e.case_id)
				FROM case_events e JOIN cases c ON c.id = e.case_id
				WHERE e.action = 'overdue' AND c.description LIKE '%nodes-%'`).Scan(&withOverdue, &extra); err != nil {
				t.Fatal(err)
			}
			return
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			if n, _ := overdueOf(); n == cases {
				break
			}
			if time.Now().After(deadline) {
				n, _ := overdueOf()
				t.Fatalf("%d of %d cases marked overdue within 30s", n, cases)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(2 * time.Second) // ten more passes of every node's timer job
		var twice int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT e.case_id, e.action FROM case_events e
			JOIN cases c ON c.id = e.case_id WHERE c.description LIKE '%nodes-%' AND e.action IN ('warn', 'overdue', 'escalate')
			GROUP BY e.case_id, e.action HAVING COUNT(*) > 1) x`).Scan(&twice); err != nil {
			t.Fatal(err)
		}
		if _, extra := overdueOf(); extra != 0 || twice != 0 {
			t.Fatalf("timers fired more than once: %d extra overdue events, %d (case, timer) pairs repeated", extra, twice)
		}
		var fired int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_events e JOIN cases c ON c.id = e.case_id
			WHERE c.description LIKE '%nodes-%' AND e.action IN ('warn', 'overdue', 'escalate')`).Scan(&fired); err != nil {
			t.Fatal(err)
		}

		// Every webhook message leaves the outbox and reaches the receiver once.
		var pending, sent int
		deadline = time.Now().Add(30 * time.Second)
		for {
			if err := d.QueryRowContext(ctx, `SELECT
				COUNT(*) FILTER (WHERE status = 'pending'), COUNT(*) FILTER (WHERE status = 'delivered')
				FROM outbox WHERE channel = 'webhook'`).Scan(&pending, &sent); err != nil {
				t.Fatal(err)
			}
			if pending == 0 && sent > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d webhook messages still pending after 30s", pending)
			}
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(time.Second) // let any duplicate arrive
		var nodesDelivering int
		if err := d.QueryRowContext(ctx, `SELECT COUNT(DISTINCT node) FROM outbox_attempts`).Scan(&nodesDelivering); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		total := 0
		for id, k := range deliveries {
			total += k
			if k != 1 {
				t.Errorf("delivery %s arrived %d times", id, k)
			}
		}
		if len(deliveries) != sent || total != sent {
			t.Errorf("receiver got %d deliveries (%d distinct), the outbox delivered %d", total, len(deliveries), sent)
		}
		if sent < cases {
			t.Errorf("only %d webhook messages for %d reported cases", sent, cases)
		}
		t.Logf("%d cases: %d timers fired (each once), %d overdue marks; %d webhook messages each delivered once (attempts logged by %d distinct node names)",
			cases, fired, cases, sent, nodesDelivering)
	})

	t.Run("a boundary changed on one node reaches the others", func(t *testing.T) {
		type location struct {
			Inside  bool   `json:"inside"`
			Code    string `json:"code"`
			Version int64  `json:"version"`
		}
		locate := func(n *node, lng, lat float64) location {
			code, b := get(fmt.Sprintf("%s/api/v1/locate?lng=%v&lat=%v", n.URL, lng, lat), "")
			var loc location
			if code != http.StatusOK || json.Unmarshal(b, &loc) != nil {
				t.Fatalf("%s: locate: %d %s", n.name, code, b)
			}
			return loc
		}
		grid := locate(nodes[1], reportLng, reportLat)
		if !grid.Inside || grid.Code == "" {
			t.Fatalf("the report point is in no grid: %+v", grid)
		}
		// A probe point in the same (micro)grid, 20 to 60 m from the report point.
		var qLng, qLat float64
		found := false
		for _, r := range []float64{0.0006, 0.0004, 0.0002} {
			for _, off := range [][2]float64{{r, 0}, {-r, 0}, {0, r}, {0, -r}, {r, r}, {-r, -r}, {r, -r}, {-r, r}} {
				qLng, qLat = reportLng+off[0], reportLat+off[1]
				if l := locate(nodes[1], qLng, qLat); l.Code == grid.Code {
					found = true
					break
				}
			}
			if found {
				break
			}
		}
		if !found {
			t.Fatalf("no probe point around the report point lies in grid %s", grid.Code)
		}
		// Through node A, shrink the grid to a 20 m square around the report
		// point, which leaves the probe point outside it.
		const h = 0.0001
		geom := fmt.Sprintf(`{"geometry":{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}}`,
			reportLng-h, reportLat-h, reportLng+h, reportLat-h, reportLng+h, reportLat+h, reportLng-h, reportLat+h, reportLng-h, reportLat-h)
		req, _ := http.NewRequest("PUT", nodes[0].URL+"/api/v1/territory/nodes/"+grid.Code+"/boundary", strings.NewReader(geom))
		req.Header.Set("Authorization", "Bearer "+s.tokens["district"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("change the boundary on node A: %d %s", resp.StatusCode, b)
		}
		changed := time.Now()
		for _, n := range nodes[1:] {
			for {
				if l := locate(n, qLng, qLat); l.Code != grid.Code {
					if c := locate(n, reportLng, reportLat); c.Code != grid.Code || c.Version == grid.Version {
						t.Fatalf("%s: the report point now locates to %+v, want grid %s at a new version", n.name, c, grid.Code)
					}
					break
				}
				// Ten poll intervals: a liveness bound for a 500ms poll.
				if time.Since(changed) > 5*time.Second {
					t.Fatalf("%s still locates the probe point in grid %s 5s after the change on node A", n.name, grid.Code)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		t.Logf("nodes B and C saw the boundary changed on node A within %s (poll 500ms)", time.Since(changed).Round(10*time.Millisecond))
	})

	for _, n := range nodes {
		if !n.alive() {
			t.Errorf("%s exited: %v", n.name, n.waitErr)
		}
		n.stop()
	}
	auditVerify(t, s)
}
