//go:build durability

package durability_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/demo"
)

// gridhall is the binary under test: GRIDHALL_BIN, or built once here.
var gridhall string

// repoRoot is the module root, for scripts/pg-cluster.sh.
var repoRoot string

func TestMain(m *testing.M) {
	_, file, _, _ := runtime.Caller(0)
	repoRoot = filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
	cleanup := func() {}
	if b := os.Getenv("GRIDHALL_BIN"); b != "" {
		gridhall = b
	} else {
		dir, err := os.MkdirTemp("", "gridhall-durability-bin-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cleanup = func() { os.RemoveAll(dir) }
		gridhall = filepath.Join(dir, "gridhall")
		goBin := os.Getenv("GO")
		if goBin == "" {
			goBin = "go"
		}
		build := exec.Command(goBin, "build", "-o", gridhall, "./cmd/gridhall")
		build.Dir = repoRoot
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build gridhall: %v\n%s", err, out)
			cleanup()
			os.Exit(1)
		}
	}
	code := m.Run()
	cleanup()
	os.Exit(code)
}

func isCI() bool { return os.Getenv("CI") == "true" || os.Getenv("CI") == "1" }

// baseEnv is the process environment without any GRIDHALL_* setting of the
// caller's, so that only what a test passes configures the nodes.
func baseEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GRIDHALL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// cli runs a gridhall console command and returns its standard output.
func cli(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(gridhall, args...)
	cmd.Env = baseEnv(env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("gridhall %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// site is an installation ready for traffic: the demo territory and three
// accounts with a password and an API token each (read and write scopes):
// admin (system_admin: accounts, webhooks), district (district_admin of
// the demo district: territory, buildings) and resident (reports cases).
type site struct {
	env      []string // GRIDHALL_* settings every process of the site gets
	password string
	tokens   map[string]string
}

// reportLng and reportLat lie inside a grid of the demo territory.
const reportLng, reportLat = 114.3003, 30.5507

func newSite(t *testing.T, env ...string) site {
	t.Helper()
	dir := t.TempDir()
	s := site{env: env, password: "durability-Passw0rd!"}
	pw := filepath.Join(dir, "password")
	terr := filepath.Join(dir, "territory.geojson")
	if err := os.WriteFile(pw, []byte(s.password+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(terr, demo.TerritoryGeoJSON(), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, env, "territory", "import", terr)
	s.tokens = map[string]string{}
	for _, u := range [][]string{{"admin", "system_admin", ""}, {"district", "district_admin", demo.DistrictCode}, {"resident", "resident", ""}} {
		cli(t, env, "user", "add", "--username", u[0], "--role", u[1], "--scope", u[2], "--password-file", pw)
		s.tokens[u[0]] = strings.TrimSpace(cli(t, env, "token", "create", "--user", u[0], "--name", "durability",
			"--scopes", "read,write", "--expires", "never"))
	}
	return s
}

// node is one running `gridhall serve`.
type node struct {
	t       *testing.T
	name    string
	cmd     *exec.Cmd
	URL     string
	logPath string
	exited  chan struct{}
	waitErr error
}

// serveFlags are the flags every test node gets: any port on loopback,
// JSON logs, no per-token rate limit (the load would trip it) and no
// duplicate suggestions (the tests report many cases at one point).
var serveFlags = []string{"serve", "--addr", "127.0.0.1:0", "--log-format", "json", "--api-rate", "0",
	"--duplicate-radius", "0", "--shutdown-timeout", "5s"}

// startNode starts `gridhall serve` and waits until it listens and is ready.
func startNode(t *testing.T, name string, s site, args ...string) *node {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(gridhall, append(append([]string{}, serveFlags...), args...)...)
	cmd.Env = baseEnv(s.env...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	n := &node{t: t, name: name, cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	urls := make(chan string, 1)
	go func() {
		defer logf.Close()
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			logf.Write(append(line, '\n'))
			var m struct{ Msg, URL string }
			if json.Unmarshal(line, &m) == nil && m.Msg == "listening" {
				select {
				case urls <- m.URL:
				default:
				}
			}
		}
	}()
	go func() {
		n.waitErr = cmd.Wait()
		close(n.exited)
	}()
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			n.dumpLog(40)
		}
	})
	select {
	case n.URL = <-urls:
	case <-n.exited:
		n.dumpLog(40)
		t.Fatalf("%s exited before listening: %v", name, n.waitErr)
	case <-time.After(60 * time.Second):
		n.dumpLog(40)
		t.Fatalf("%s did not listen within 60s", name)
	}
	n.waitReady(30 * time.Second)
	return n
}

// waitReady polls /readyz until it answers 200.
func (n *node) waitReady(within time.Duration) {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if code, _ := get(n.URL+"/readyz", ""); code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s not ready within %s", n.name, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alive reports whether the process still runs.
func (n *node) alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// kill ends the process with SIGKILL, as a power cut or the OOM killer
// would, and waits for it to be gone.
func (n *node) kill() {
	if n.alive() {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-n.exited
}

// stop ends the process with SIGTERM (a graceful shutdown) and checks that
// it exits cleanly.
func (n *node) stop() {
	n.t.Helper()
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.exited:
		if n.waitErr != nil {
			n.t.Errorf("%s: graceful stop: %v", n.name, n.waitErr)
		}
	case <-time.After(30 * time.Second):
		n.t.Errorf("%s did not stop within 30s of SIGTERM", n.name)
		n.kill()
	}
}

func (n *node) dumpLog(lines int) {
	b, _ := os.ReadFile(n.logPath)
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var errors []string
	for _, l := range all {
		// Requests that failed, not the background jobs' retry noise.
		if (strings.Contains(l, "internal error") || strings.Contains(l, `"panic"`)) && len(errors) < 20 {
			errors = append(errors, l)
		}
	}
	if len(errors) > 0 {
		n.t.Logf("---- first %d request errors logged by %s ----\n%s", len(errors), n.name, strings.Join(errors, "\n"))
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	n.t.Logf("---- last %d log lines of %s ----\n%s", len(all), n.name, strings.Join(all, "\n"))
}

// client is the HTTP client of every test request. Its timeout is the bound
// the outage test holds GridHall to: every request completes within it.
var client = &http.Client{Timeout: 10 * time.Second}

func get(url, token string) (int, []byte) {
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// result is the outcome of one write as the client saw it.
type result struct {
	status     int    // 0 when no answer came (connection refused, reset, timeout)
	err        error  // the transport error when status is 0
	id         int64  // the created row, on 201
	retryAfter string // the Retry-After header
	took       time.Duration
}

// write is one kind of write the load generators make; each carries a
// client-chosen marker that the checks find it by.
type write struct {
	kind string // "case" or "building"
	user string // whose token writes it
	path string
	body func(marker string) string
	id   func(body []byte) (int64, error)
}

var reportCase = write{kind: "case", path: "/api/v1/cases", user: "resident",
	body: func(m string) string {
		return fmt.Sprintf(`{"category":"M92001","description":"水管漏水 %s","lng":%v,"lat":%v}`, m, reportLng, reportLat)
	},
	id: func(b []byte) (int64, error) {
		var v struct {
			Case struct {
				ID     int64  `json:"id"`
				Number string `json:"number"`
			} `json:"case"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.Case.ID == 0 || v.Case.Number == "" {
			return 0, fmt.Errorf("no case id and number in %s (%v)", b, err)
		}
		return v.Case.ID, nil
	}}

var addBuilding = write{kind: "building", path: "/api/v1/buildings", user: "district",
	body: func(m string) string {
		return fmt.Sprintf(`{"name":"%s","address":"中南一路 %s","lng":%v,"lat":%v}`, m, m, reportLng, reportLat)
	},
	id: func(b []byte) (int64, error) {
		var v struct {
			ID int64 `json:"id"`
		}
		if err := json.Unmarshal(b, &v); err != nil || v.ID == 0 {
			return 0, fmt.Errorf("no building id in %s (%v)", b, err)
		}
		return v.ID, nil
	}}

func (w write) do(ctx context.Context, base string, s site, marker string) result {
	start := time.Now()
	req, _ := http.NewRequestWithContext(ctx, "POST", base+w.path, strings.NewReader(w.body(marker)))
	req.Header.Set("Authorization", "Bearer "+s.tokens[w.user])
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), took: time.Since(start)}
	if resp.StatusCode == http.StatusCreated {
		if r.id, err = w.id(b); err != nil {
			r.status, r.err = -1, err
		}
	} else {
		r.err = fmt.Errorf("%d %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return r
}

// ledger records what the server acknowledged and what it was asked.
type ledger struct {
	mu        sync.Mutex
	acked     map[string]ack // marker → acknowledged write
	attempted map[string]string
}

type ack struct {
	kind string
	id   int64
}

func newLedger() *ledger {
	return &ledger{acked: map[string]ack{}, attempted: map[string]string{}}
}

func (l *ledger) attempt(kind, marker string) {
	l.mu.Lock()
	l.attempted[marker] = kind
	l.mu.Unlock()
}

func (l *ledger) ack(kind, marker string, id int64) {
	l.mu.Lock()
	l.acked[marker] = ack{kind, id}
	l.mu.Unlock()
}

func (l *ledger) count(kind string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, a := range l.acked {
		if a.kind == kind {
			n++
		}
	}
	return n
}

// masterKey seals personal data on PostgreSQL; every node needs the same.
const masterKey = "6d1f0b7a3c2e4f5a8b9c0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c"

// pgCluster is a throwaway PostgreSQL 15 cluster of scripts/pg-cluster.sh,
// owned by one test because the tests stop and start it.
type pgCluster struct {
	dir, dsn string
}

// startPG starts a cluster, or fails the test in CI and skips it elsewhere
// when PostgreSQL cannot start (as scripts/test-all.sh treats its tier).
func startPG(t *testing.T) *pgCluster {
	t.Helper()
	// /tmp, not t.TempDir(): the unprivileged cluster owner must reach it.
	dir, err := os.MkdirTemp("/tmp", "gridhall-durability-pg.")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "pg-cluster.sh"), "start", dir)
	// Durable settings: the tests crash the server and count what survived,
	// which the fast throwaway settings (fsync and synchronous commit off)
	// would lose on purpose.
	cmd.Env = append(os.Environ(), "PG_TEST_DURABLE=1")
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		_ = exec.Command(filepath.Join(repoRoot, "scripts", "pg-cluster.sh"), "stop", dir).Run()
		os.RemoveAll(dir)
		if isCI() {
			t.Fatalf("PostgreSQL 15 could not start and CI=true: %v\n%s", err, errOut.String())
		}
		t.Skipf("SKIPPED: PostgreSQL 15 could not start (in CI this fails): %v\n%s", err, errOut.String())
	}
	c := &pgCluster{dir: dir, dsn: strings.TrimSpace(string(out))}
	t.Cleanup(func() {
		if out, err := exec.Command(filepath.Join(repoRoot, "scripts", "pg-cluster.sh"), "stop", dir).CombinedOutput(); err != nil {
			t.Errorf("stop PostgreSQL: %v\n%s", err, out)
		}
	})
	return c
}

func (c *pgCluster) run(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(repoRoot, "scripts", "pg-cluster.sh"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("pg-cluster.sh %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// halt stops the server (mode fast or immediate), keeping its data.
func (c *pgCluster) halt(t *testing.T, mode string) { c.run(t, "halt", c.dir, mode) }

// resume starts it again on the same port.
func (c *pgCluster) resume(t *testing.T) { c.run(t, "resume", c.dir) }
