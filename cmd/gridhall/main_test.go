package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// binary is the gridhall executable built once for the process tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gridhall-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "gridhall")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build gridhall: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs a command in-process with the given standard input and returns
// its exit status and output.
func cli(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(env{ctx: context.Background(), getenv: func(string) string { return "" },
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errOut}, args)
	return code, out.String(), errOut.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	cases := [][]string{
		{"serve", "--help"}, {"migrate", "--help"}, {"user", "add", "--help"}, {"user", "passwd", "--help"},
		{"user", "list", "--help"}, {"user", "disable", "--help"}, {"token", "create", "--help"},
		{"token", "revoke", "--help"}, {"audit", "verify", "--help"}, {"version", "--help"}, {"--help"},
		{"territory", "import", "--help"}, {"territory", "export", "--help"}, {"territory", "assign", "--help"}, {"demo", "--help"},
		{"keys", "rotate", "--help"}, {"keys", "list", "--help"}, {"keys", "rewrap", "--help"},
		{"calendar", "import", "--help"}, {"calendar", "export", "--help"}, {"categories", "import", "--help"}, {"categories", "export", "--help"},
	}
	for _, args := range cases {
		code, out, errOut := cli(t, "", args...)
		all := out + errOut
		if code != 0 || !strings.Contains(all, "Usage") && args[0] != "version" {
			t.Errorf("%v: exit %d, output %q", args, code, all)
		}
		if args[0] != "version" && args[0] != "--help" && (!strings.Contains(all, "-data-dir") || !strings.Contains(all, "-db")) {
			t.Errorf("%v: data flags missing from help", args)
		}
	}
	if code, _, _ := cli(t, "", "serve", "--help"); code != 0 {
		t.Fatal("serve --help")
	}
	if _, _, errOut := cli(t, "", "serve", "--help"); !strings.Contains(errOut, "-addr") || !strings.Contains(errOut, "-admin-password-file") {
		t.Error("serve help lacks --addr or --admin-password-file")
	}
	if code, _, errOut := cli(t, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
}

// storageArgs returns --data-dir/--db flags for a fresh database of engine e.
func storageArgs(t *testing.T, e db.Engine) []string {
	if e == db.Postgres {
		return []string{"--data-dir", t.TempDir(), "--db", dbtest.PostgresSchema(t)}
	}
	return []string{"--data-dir", t.TempDir()}
}

func TestAccountsTokensAndAuditFromTheConsole(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := storageArgs(t, e)
			with := func(args ...string) []string { return append(args, s...) }

			code, out, errOut := cli(t, "grid-worker-pw\n", with("user", "add", "--username", "wang", "--role", "grid_worker", "--scope", "420106001002003", "--name", "王丽")...)
			if code != 0 || !strings.Contains(out, "created user wang") {
				t.Fatalf("user add: %d %s %s", code, out, errOut)
			}
			code, _, errOut = cli(t, "x\n", with("user", "add", "--username", "Wang", "--role", "emperor")...)
			if code != 1 || !strings.Contains(errOut, "--role: Unknown role") || !strings.Contains(errOut, "--password") {
				t.Fatalf("bad user add: %d %q", code, errOut)
			}
			code, out, _ = cli(t, "", with("user", "list")...)
			if code != 0 || !strings.Contains(out, "wang") || !strings.Contains(out, "420106/420106001/420106001002/420106001002003") {
				t.Fatalf("user list: %d %s", code, out)
			}
			code, out, errOut = cli(t, "", with("token", "create", "--user", "wang", "--name", "patrol app", "--scopes", "read,write", "--expires", "30d")...)
			token := strings.TrimSpace(out)
			if code != 0 || !strings.HasPrefix(token, "gh_") || !strings.Contains(errOut, "shown only now") {
				t.Fatalf("token create: %d %q %q", code, out, errOut)
			}
			if code, out, _ = cli(t, "", with("token", "list")...); code != 0 || !strings.Contains(out, "patrol app") || strings.Contains(out, token) {
				t.Fatalf("token list: %d %s", code, out)
			}
			if code, _, _ = cli(t, "", with("token", "revoke", "1")...); code != 0 {
				t.Fatal("token revoke")
			}
			if code, _, errOut = cli(t, "", with("token", "revoke", "abc")...); code != 2 {
				t.Fatalf("token revoke abc: %d %s", code, errOut)
			}
			if code, _, _ = cli(t, "new-password-1\n", with("user", "passwd", "wang")...); code != 0 {
				t.Fatal("user passwd")
			}
			if code, out, _ = cli(t, "", with("user", "disable", "wang")...); code != 0 || !strings.Contains(out, "disabled") {
				t.Fatal("user disable")
			}
			if code, out, _ = cli(t, "", with("user", "list")...); code != 0 || !strings.Contains(out, "disabled") {
				t.Fatalf("list after disable: %s", out)
			}
			code, out, errOut = cli(t, "", with("audit", "verify")...)
			// Five account changes, and the seeding of the built-in catalogue and calendar.
			if code != 0 || !strings.Contains(out, "audit chain intact: 7 entries") {
				t.Fatalf("audit verify: %d %q %q", code, out, errOut)
			}

			// Alter one row behind GridHall's back: verify must fail and name it.
			d := openRaw(t, e, s)
			if _, err := d.ExecContext(context.Background(), "UPDATE audit_log SET actor_name = 'someone else' WHERE seq = 3"); err != nil {
				t.Fatal(err)
			}
			code, _, errOut = cli(t, "", with("audit", "verify")...)
			if code != 1 || !strings.Contains(errOut, "BROKEN at entry 3") {
				t.Fatalf("tampered audit verify: %d %q", code, errOut)
			}
		})
	}
}

func openRaw(t *testing.T, e db.Engine, storage []string) *db.DB {
	t.Helper()
	o := db.Options{SQLitePath: filepath.Join(storage[1], "gridhall.db")}
	if e == db.Postgres {
		o = db.Options{PostgresDSN: storage[3]}
	}
	d, err := db.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// node is a gridhall serve process.
type node struct {
	url    string
	stderr *bytes.Buffer
}

// startServe starts `gridhall serve` with args in dir and waits for its
// "listening" log line.
func startServe(t *testing.T, dir string, extraEnv []string, args ...string) node {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		cmd.Wait()
		pw.Close()
	})
	var logs bytes.Buffer
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			logs.WriteString(line + "\n")
			var rec struct{ Msg, URL string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				found <- rec.URL
			}
		}
	}()
	select {
	case u := <-found:
		return node{url: u, stderr: &logs}
	case <-time.After(60 * time.Second):
		t.Fatalf("gridhall serve did not start; log:\n%s", logs.String())
	}
	return node{}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeWithNoFlags runs `gridhall serve` exactly as a newcomer would:
// SQLite under ./data, listening on 127.0.0.1:8080.
func TestServeWithNoFlags(t *testing.T) {
	if ln, err := net.Listen("tcp", "127.0.0.1:8080"); err != nil {
		t.Fatalf("port 8080 is taken, so the default address cannot be tested: %v", err)
	} else {
		ln.Close()
	}
	dir := t.TempDir()
	n := startServe(t, dir, []string{"GRIDHALL_ADMIN_PASSWORD=first-admin-password"})
	if n.url != "http://127.0.0.1:8080" {
		t.Fatalf("listening on %s", n.url)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "gridhall.db")); err != nil {
		t.Fatalf("no database under ./data: %v", err)
	}
	code, body := get(t, http.DefaultClient, n.url+"/readyz")
	if code != 200 || !strings.Contains(body, "sqlite") {
		t.Fatalf("readyz: %d %s", code, body)
	}
}

func TestFirstStartPrintsASetupLinkWithoutPassword(t *testing.T) {
	n := startServe(t, t.TempDir(), nil, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(n.stderr.String(), "/setup?token=") {
		if time.Now().After(deadline) {
			t.Fatalf("no setup link printed:\n%s", n.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing is open: the home page sends anonymous visitors to sign in.
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(n.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		t.Fatalf("home page answered %d to an anonymous visitor", resp.StatusCode)
	}
}

// TestTwoNodesOnOnePostgresShareSessions signs in on one node and uses the
// session on the other, then signs out on the second and checks the first
// no longer accepts it.
func TestTwoNodesOnOnePostgresShareSessions(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) == "" {
		dbtest.Engines(t) // fails under CI=true
		t.Skip("PostgreSQL tier not configured (set " + dbtest.PostgresEnv + ")")
	}
	dsn := dbtest.PostgresSchema(t)
	env := []string{"GRIDHALL_ADMIN_PASSWORD=shared-admin-password", "GRIDHALL_DB=" + dsn}
	a := startServe(t, t.TempDir(), env, "--addr", "127.0.0.1:0")
	b := startServe(t, t.TempDir(), env, "--addr", "127.0.0.1:0")
	for _, n := range []node{a, b} {
		if code, body := get(t, http.DefaultClient, n.url+"/readyz"); code != 200 || !strings.Contains(body, "postgres") {
			t.Fatalf("%s readyz: %d %s", n.url, code, body)
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(a.url+"/login", url.Values{"username": {"admin"}, "password": {"shared-admin-password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login on node A: %d", resp.StatusCode)
	}
	au, _ := url.Parse(a.url)
	bu, _ := url.Parse(b.url)
	jar.SetCookies(bu, jar.Cookies(au)) // both nodes sit behind one address in production
	code, body := get(t, c, b.url+"/api/v1/me")
	if code != 200 || !strings.Contains(body, `"username":"admin"`) {
		t.Fatalf("session from A on B: %d %s", code, body)
	}
	// Sign out on B with the CSRF token of the session, then A must refuse it.
	var sid string
	for _, ck := range jar.Cookies(bu) {
		if strings.HasSuffix(ck.Name, "gridhall_session") {
			sid = ck.Value
		}
	}
	old := jar.Cookies(au)
	resp, err = c.PostForm(b.url+"/logout", url.Values{"csrf": {csrfFor(sid)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout on B: %d", resp.StatusCode)
	}
	c2 := &http.Client{}
	req, _ := http.NewRequest("GET", a.url+"/api/v1/me", nil)
	for _, ck := range old {
		req.AddCookie(ck)
	}
	resp, err = c2.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session signed out on B still works on A: %d", resp.StatusCode)
	}
	// And the audit chain written by two nodes verifies.
	code, out, errOut := cli(t, "", "audit", "verify", "--db", dsn)
	if code != 0 {
		t.Fatalf("audit verify after two nodes: %d %s %s", code, out, errOut)
	}
}

// csrfFor computes the CSRF token of a session id as the pages embed it.
func csrfFor(sessionID string) string { return auth.CSRFToken(sessionID) }

// TestTerritoryChangeReachesEveryNode edits a boundary through one node and
// waits for the other node, on the same PostgreSQL, to route by it.
func TestTerritoryChangeReachesEveryNode(t *testing.T) {
	if os.Getenv(dbtest.PostgresEnv) == "" {
		dbtest.Engines(t) // fails under CI=true
		t.Skip("PostgreSQL tier not configured (set " + dbtest.PostgresEnv + ")")
	}
	dsn := dbtest.PostgresSchema(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "t.geojson")
	box := func(a, b, c, d float64) string {
		return fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`, a, b, c, b, c, d, a, d, a, b)
	}
	feature := func(code, name, geom string) string {
		return fmt.Sprintf(`{"type":"Feature","properties":{"code":%q,"name":%q},"geometry":%s}`, code, name, geom)
	}
	os.WriteFile(file, []byte(`{"type":"FeatureCollection","features":[`+strings.Join([]string{
		feature("420106", "区", box(114.30, 30.50, 114.34, 30.54)),
		feature("420106001", "街道", box(114.30, 30.50, 114.34, 30.54)),
		feature("420106001001", "社区", box(114.30, 30.50, 114.34, 30.54)),
		feature("420106001001001", "西网格", box(114.30, 30.50, 114.32, 30.54)),
		feature("420106001001002", "东网格", box(114.32, 30.50, 114.34, 30.54)),
	}, ",")+`]}`), 0o600)
	if code, out, errOut := cli(t, "", "territory", "import", file, "--db", dsn); code != 0 {
		t.Fatalf("import: %s %s", out, errOut)
	}
	if code, _, errOut := cli(t, "district-password\n", "user", "add", "--username", "district", "--role", "district_admin", "--scope", "420106", "--db", dsn); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := cli(t, "worker-password\n", "user", "add", "--username", "gw", "--role", "grid_worker", "--scope", "420106001001", "--db", dsn); code != 0 {
		t.Fatal(errOut)
	}
	if code, out, errOut := cli(t, "", "territory", "assign", "420106001001001", "gw", "--db", dsn); code != 0 || !strings.Contains(out, "gw is now worker of grid 420106001001001") {
		t.Fatalf("assign: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := cli(t, "", "territory", "assign", "420106001001", "gw", "--db", dsn); code != 1 || !strings.Contains(errOut, "--grid: Staff are assigned to grids only") {
		t.Fatalf("assign to a community: %d %s", code, errOut)
	}
	_, token, _ := cli(t, "", "token", "create", "--user", "district", "--name", "t", "--scopes", "read,write", "--db", dsn)
	token = strings.TrimSpace(token)

	env := []string{"GRIDHALL_ADMIN_PASSWORD=shared-admin-password", "GRIDHALL_DB=" + dsn, "GRIDHALL_TERRITORY_POLL=200ms"}
	a := startServe(t, t.TempDir(), env, "--addr", "127.0.0.1:0")
	b := startServe(t, t.TempDir(), env, "--addr", "127.0.0.1:0")
	locate := func(n node) string {
		_, body := get(t, http.DefaultClient, n.url+"/api/v1/locate?lng=114.315&lat=30.52")
		var loc struct{ Code string }
		json.Unmarshal([]byte(body), &loc)
		return loc.Code
	}
	if got := locate(b); got != "420106001001001" {
		t.Fatalf("before the edit node B locates %q", got)
	}
	// Move the border west: shrink the west grid, then grow the east one, on node A.
	for _, edit := range []struct{ code, geom string }{
		{"420106001001001", box(114.30, 30.50, 114.31, 30.54)},
		{"420106001001002", box(114.31, 30.50, 114.34, 30.54)},
	} {
		req, _ := http.NewRequest("PUT", a.url+"/api/v1/territory/nodes/"+edit.code+"/boundary", strings.NewReader(`{"geometry":`+edit.geom+`}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("edit %s on node A: %d %s", edit.code, resp.StatusCode, body)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for locate(b) != "420106001001002" {
		if time.Now().After(deadline) {
			t.Fatal("node B never routed by the new boundary")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := locate(a); got != "420106001001002" {
		t.Fatalf("node A locates %q after its own edit", got)
	}
}
