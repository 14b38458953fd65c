package outbox_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/seal"
)

// t0 is the fake clock's start in every test.
var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

// admin manages settings, and so every webhook endpoint.
var admin = auth.SystemActor("test")

// env is a migrated database with a fake clock and the outbox service.
type env struct {
	ctx context.Context
	d   *db.DB
	clk *clock.Fake
	svc *outbox.Service
}

func newEnv(t testing.TB, d *db.DB) env {
	return newEnvWith(t, d, nil, nil)
}

func newEnvWith(t testing.TB, d *db.DB, keys *seal.Keyring, policy outbox.OwnerPolicy) env {
	t.Helper()
	clk := clock.NewFake(t0)
	return env{ctx: context.Background(), d: d, clk: clk, svc: outbox.NewService(d, audit.New(d), keys, clk, policy)}
}

// dispatcher returns a dispatcher of e with a test-friendly configuration:
// fixed backoff of one minute per attempt, unless cfg says otherwise.
func (e env) dispatcher(cfg outbox.Config) *outbox.Dispatcher {
	return e.dispatcherOn(e.d, cfg)
}

func (e env) dispatcherOn(d *db.DB, cfg outbox.Config) *outbox.Dispatcher {
	if cfg.Backoff == nil {
		cfg.Backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Minute }
	}
	return outbox.NewDispatcher(d, e.clk, cfg, nil)
}

// enqueue enqueues msgs in a transaction of their own.
func (e env) enqueue(t testing.TB, msgs ...outbox.Message) {
	t.Helper()
	if err := e.d.Tx(e.ctx, func(tx *sql.Tx) error { return outbox.Enqueue(e.ctx, tx, e.clk.Now(), msgs...) }); err != nil {
		t.Fatal(err)
	}
}

// user inserts an account and returns its id.
func (e env) user(t testing.TB, name string) int64 {
	t.Helper()
	var id int64
	now := db.Millis(e.clk.Now())
	if err := e.d.Tx(e.ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(e.ctx, `INSERT INTO users (username, display_name, password_hash, role, created_at,
			updated_at, password_changed_at) VALUES ($1, $1, 'x', 'resident', $2, $2, $2) RETURNING id`, name, now).Scan(&id)
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

// endpoint creates a webhook endpoint as the administrator.
func (e env) endpoint(t testing.TB, owner, url, events string) (outbox.Endpoint, string) {
	t.Helper()
	ep, secret, err := e.svc.CreateEndpoint(e.ctx, admin, outbox.NewEndpoint{Owner: owner, URL: url, Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return ep, secret
}

// row is an outbox row as the tests inspect it.
type row struct {
	id         int64
	channel    string
	endpointID int64
	status     string
	attempts   int
	lastError  string
	claimedBy  string
}

// rows returns every outbox row in id order.
func (e env) rows(t testing.TB) []row {
	t.Helper()
	rs, err := e.d.QueryContext(e.ctx, `SELECT id, channel, COALESCE(endpoint_id, 0), status, attempts, last_error,
		COALESCE(claimed_by, '') FROM outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.channel, &r.endpointID, &r.status, &r.attempts, &r.lastError, &r.claimedBy); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// count runs a COUNT query.
func (e env) count(t testing.TB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := e.d.QueryRowContext(e.ctx, query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// runOnce calls RunOnce and fails the test on error.
func runOnce(t testing.TB, ctx context.Context, d *outbox.Dispatcher) int {
	t.Helper()
	n, err := d.RunOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// receipt is one request a test receiver got.
type receipt struct {
	header http.Header
	body   []byte
	status int
}

// receiver is a webhook receiver: answer decides each response by the
// request's sequence number (0-based); nil answers 200.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	receipts []receipt
	answer   func(n int, r *http.Request) int
}

func newReceiver(t testing.TB, answer func(n int, r *http.Request) int) *receiver {
	rc := &receiver{answer: answer}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.receipts)
		rc.receipts = append(rc.receipts, receipt{header: r.Header.Clone(), body: body})
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.answer != nil {
			status = rc.answer(n, r)
		}
		rc.mu.Lock()
		rc.receipts[n].status = status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) got() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.receipts...)
}

// delivered counts 2xx receipts per delivery id.
func (rc *receiver) delivered() map[string]int {
	out := map[string]int{}
	for _, r := range rc.got() {
		if r.status >= 200 && r.status < 300 {
			out[r.header.Get(outbox.HeaderDelivery)]++
		}
	}
	return out
}

// payload builds a webhook JSON body.
func payload(caseID int) json.RawMessage {
	return json.RawMessage(`{"case_id":` + strconv.Itoa(caseID) + `,"title":"井盖缺失"}`)
}
