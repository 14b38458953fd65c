package outbox_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/seal"
)

func TestWebhookRetriedWithBackoffIsDeliveredOnceSigned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n < 2 {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		})
		ep, secret := e.endpoint(t, "dept-a", rc.URL+"/hook?token=private", "case.accepted")
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(7)})
		dp := e.dispatcher(outbox.Config{}) // backoff: attempt × 1 min

		if n := runOnce(t, e.ctx, dp); n != 0 {
			t.Fatalf("first attempt delivered %d", n)
		}
		// Not due again before the backoff has passed.
		e.clk.Advance(59 * time.Second)
		runOnce(t, e.ctx, dp)
		if got := len(rc.got()); got != 1 {
			t.Fatalf("%d requests before the backoff ended", got)
		}
		e.clk.Advance(time.Second)
		if n := runOnce(t, e.ctx, dp); n != 0 {
			t.Fatalf("second attempt delivered %d", n)
		}
		e.clk.Advance(2 * time.Minute)
		if n := runOnce(t, e.ctx, dp); n != 1 {
			t.Fatalf("third attempt delivered %d", n)
		}
		e.clk.Advance(time.Hour)
		if n := runOnce(t, e.ctx, dp); n != 0 {
			t.Fatalf("delivered again: %d", n)
		}

		got := rc.got()
		if len(got) != 3 {
			t.Fatalf("%d requests, want 3", len(got))
		}
		if dl := rc.delivered(); len(dl) != 1 {
			t.Fatalf("successful deliveries %v, want one", dl)
		}
		sent := []time.Time{t0, t0.Add(time.Minute), t0.Add(3 * time.Minute)}
		for i, r := range got {
			if r.header.Get(outbox.HeaderDelivery) != got[0].header.Get(outbox.HeaderDelivery) {
				t.Errorf("delivery id changed between attempts: %q vs %q", r.header.Get(outbox.HeaderDelivery), got[0].header.Get(outbox.HeaderDelivery))
			}
			if r.header.Get(outbox.HeaderEvent) != "case.accepted" || r.header.Get("Content-Type") != "application/json" {
				t.Errorf("headers: %v", r.header)
			}
			if r.header.Get(outbox.HeaderTimestamp) != strconv.FormatInt(sent[i].Unix(), 10) {
				t.Errorf("attempt %d timestamp %s, want %d", i+1, r.header.Get(outbox.HeaderTimestamp), sent[i].Unix())
			}
			if err := outbox.Verify([]byte(secret), r.header, r.body, sent[i], 5*time.Minute); err != nil {
				t.Errorf("attempt %d: signature: %v", i+1, err)
			}
			if string(r.body) != string(payload(7)) {
				t.Errorf("body %s", r.body)
			}
		}
		rows := e.rows(t)
		if len(rows) != 1 || rows[0].status != "delivered" || rows[0].attempts != 3 {
			t.Fatalf("outbox row: %+v", rows)
		}
		log, err := e.svc.Deliveries(e.ctx, admin, ep.ID, outbox.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 3 {
			t.Fatalf("delivery log: %+v", log)
		}
		want := []struct {
			attempt int
			outcome outbox.Outcome
			code    int
			at      time.Time
		}{{3, outbox.Delivered, 204, sent[2]}, {2, outbox.Failed, 500, sent[1]}, {1, outbox.Failed, 500, sent[0]}}
		for i, w := range want {
			l := log[i]
			if l.Attempt != w.attempt || l.Outcome != w.outcome || l.StatusCode != w.code || !l.At.Equal(w.at) ||
				l.MessageID != rows[0].id || l.Event != "case.accepted" {
				t.Errorf("log[%d] = %+v, want %+v", i, l, w)
			}
			if strings.Contains(l.Error, "private") || strings.Contains(l.Error, secret) {
				t.Errorf("log[%d] leaks the URL or secret: %q", i, l.Error)
			}
		}
		if log[1].Error != "HTTP 500" {
			t.Errorf("failure logged as %q", log[1].Error)
		}
	})
}

func TestWebhookIsDeadAfterMaxAttempts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		rc := newReceiver(t, func(int, *http.Request) int { return http.StatusBadGateway })
		ep, _ := e.endpoint(t, "dept-a", rc.URL, "*")
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)})
		dp := e.dispatcher(outbox.Config{MaxAttempts: 4})
		for range 10 {
			runOnce(t, e.ctx, dp)
			e.clk.Advance(time.Hour)
		}
		if n := len(rc.got()); n != 4 {
			t.Fatalf("%d attempts, want 4", n)
		}
		rows := e.rows(t)
		if rows[0].status != "dead" || rows[0].attempts != 4 || rows[0].lastError != "HTTP 502" {
			t.Fatalf("row: %+v", rows[0])
		}
		log, _ := e.svc.Deliveries(e.ctx, admin, ep.ID, outbox.DeliveryFilter{Limit: 2})
		if len(log) != 2 || log[0].Outcome != outbox.Dead || log[1].Outcome != outbox.Failed {
			t.Fatalf("log: %+v", log)
		}
		// The next page starts after the cursor and ends with the log.
		older, _ := e.svc.Deliveries(e.ctx, admin, ep.ID, outbox.DeliveryFilter{After: log[1].ID, Limit: 10})
		if len(older) != 2 || older[0].ID >= log[1].ID || older[1].Attempt != 1 {
			t.Fatalf("older page: %+v", older)
		}
	})
}

func TestUnreachableWebhookIsRetriedWithoutLeakingTheURL(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	rc := newReceiver(t, nil)
	url := rc.URL + "/hook?token=s3cr3t"
	rc.Close() // nothing listens there any more
	e.endpoint(t, "dept-a", url, "*")
	e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)})
	if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 0 {
		t.Fatalf("delivered %d", n)
	}
	r := e.rows(t)[0]
	if r.status != "pending" || r.attempts != 1 || r.lastError == "" || strings.Contains(r.lastError, "s3cr3t") {
		t.Fatalf("row: %+v", r)
	}
}

func TestExpiredLeaseIsReclaimedByAnotherNode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		arrived, unblock := make(chan struct{}), make(chan struct{})
		rc := newReceiver(t, func(n int, _ *http.Request) int {
			if n == 0 { // node A's request hangs: A is stuck or dying
				close(arrived)
				<-unblock
			}
			return http.StatusOK
		})
		e.endpoint(t, "dept-a", rc.URL, "*")
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)})
		a := e.dispatcher(outbox.Config{Node: "node-a", Lease: 2 * time.Minute})
		b := e.dispatcherOn(reopen(t, d), outbox.Config{Node: "node-b", Lease: 2 * time.Minute})

		type result struct {
			n   int
			err error
		}
		doneA := make(chan result)
		go func() {
			n, err := a.RunOnce(e.ctx)
			doneA <- result{n, err}
		}()
		<-arrived
		if n := runOnce(t, e.ctx, b); n != 0 {
			t.Fatalf("node B delivered %d while A's lease holds", n)
		}
		e.clk.Advance(2*time.Minute + time.Second)
		if n := runOnce(t, e.ctx, b); n != 1 {
			t.Fatalf("node B delivered %d after A's lease ended, want 1", n)
		}
		close(unblock)
		ra := <-doneA
		if ra.err != nil || ra.n != 0 {
			t.Fatalf("node A: delivered %d, err %v; its late success must not count", ra.n, ra.err)
		}
		r := e.rows(t)[0]
		if r.status != "delivered" || r.attempts != 1 || r.claimedBy != "node-b" {
			t.Fatalf("row: %+v (A's late outcome must not overwrite B's)", r)
		}
		// Both attempts are in the log; receivers dedupe by delivery id.
		if n := e.count(t, "SELECT COUNT(*) FROM outbox_attempts"); n != 2 {
			t.Fatalf("%d attempts logged, want 2", n)
		}
		if dl := rc.delivered(); len(dl) != 1 {
			t.Fatalf("deliveries by id: %v", dl)
		}
	})
}

// reopen opens a second handle on the database of d, as a second node
// would: on PostgreSQL the same schema, on SQLite the same file.
func reopen(t *testing.T, d *db.DB) *db.DB {
	t.Helper()
	var o db.Options
	if d.Engine == db.SQLite {
		o = db.Options{SQLitePath: d.Path(), MaxConns: 4}
	} else {
		var schema string
		if err := d.QueryRowContext(context.Background(), "SELECT current_schema()").Scan(&schema); err != nil {
			t.Fatal(err)
		}
		o = db.Options{PostgresDSN: withSearchPath(t, schema), MaxConns: 4}
	}
	d2, err := db.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d2.Close() })
	return d2
}

func TestRotatedSecretSignsBesideTheOldOneFor24Hours(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		rc := newReceiver(t, nil)
		ep, oldSecret := e.endpoint(t, "dept-a", rc.URL, "*")
		newSecret, err := e.svc.RotateSecret(e.ctx, admin, ep.ID)
		if err != nil {
			t.Fatal(err)
		}
		if newSecret == oldSecret || !strings.HasPrefix(newSecret, "ghwh_") {
			t.Fatalf("new secret %q", newSecret)
		}
		dp := e.dispatcher(outbox.Config{})
		send := func() receipt {
			e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)})
			runOnce(t, e.ctx, dp)
			got := rc.got()
			return got[len(got)-1]
		}
		r := send()
		if n := strings.Count(r.header.Get(outbox.HeaderSignature), "v1="); n != 2 {
			t.Fatalf("signature header %q: want two signatures during the overlap", r.header.Get(outbox.HeaderSignature))
		}
		for _, s := range []string{oldSecret, newSecret} {
			if err := outbox.Verify([]byte(s), r.header, r.body, e.clk.Now(), time.Minute); err != nil {
				t.Errorf("during overlap: %v", err)
			}
		}
		eps, _ := e.svc.Endpoints(e.ctx, admin, "dept-a")
		if eps[0].PreviousUntil == nil || !eps[0].PreviousUntil.Equal(t0.Add(24*time.Hour)) {
			t.Fatalf("previous until %v", eps[0].PreviousUntil)
		}
		e.clk.Advance(24*time.Hour + time.Second)
		r = send()
		if err := outbox.Verify([]byte(newSecret), r.header, r.body, e.clk.Now(), time.Minute); err != nil {
			t.Errorf("after overlap, new secret: %v", err)
		}
		if err := outbox.Verify([]byte(oldSecret), r.header, r.body, e.clk.Now(), time.Minute); !errs.Is(err, errs.Invalid) {
			t.Errorf("after overlap, old secret still verifies: %v", err)
		}
	})
}

func TestEndpointSecretIsSealedWhenAMasterKeyExists(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		mk, _ := seal.GenerateMasterKey()
		keys, err := seal.Open(context.Background(), d, mk)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name   string
			keys   *seal.Keyring
			sealed bool
		}{{"with master key", keys, true}, {"without master key", nil, false}} {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnvWith(t, d, tt.keys, nil)
				rc := newReceiver(t, nil)
				owner := strings.ReplaceAll(tt.name, " ", "-")
				ep, secret := e.endpoint(t, owner, rc.URL, "*")
				var stored string
				if err := d.QueryRowContext(e.ctx, "SELECT secret FROM webhook_endpoints WHERE id = $1", ep.ID).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				if got := strings.HasPrefix(stored, "s1.") && !strings.Contains(stored, secret); got != tt.sealed {
					t.Fatalf("stored %q for secret %q: sealed = %v, want %v", stored, secret, got, tt.sealed)
				}
				e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: owner, Payload: payload(1)})
				if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{Keys: tt.keys})); n != 1 {
					t.Fatalf("delivered %d", n)
				}
				r := rc.got()[0]
				if err := outbox.Verify([]byte(secret), r.header, r.body, e.clk.Now(), time.Minute); err != nil {
					t.Fatal(err)
				}
			})
		}
		// A sealed secret cannot be used by a node without the master key:
		// the delivery fails (and is retried) rather than going out unsigned.
		e := newEnvWith(t, d, keys, nil)
		rc := newReceiver(t, nil)
		e.endpoint(t, "sealed", rc.URL, "*")
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "sealed", Payload: payload(1)})
		if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 0 || len(rc.got()) != 0 {
			t.Fatalf("delivered %d, %d requests without the key", n, len(rc.got()))
		}
	})
}

func TestDisabledEndpointGetsNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		rc := newReceiver(t, nil)
		ep, _ := e.endpoint(t, "dept-a", rc.URL, "*")
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)})
		if err := e.svc.DisableEndpoint(e.ctx, admin, ep.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DisableEndpoint(e.ctx, admin, ep.ID); err != nil {
			t.Fatalf("disabling twice: %v", err)
		}
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.closed", To: "dept-a", Payload: payload(1)})
		if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 0 || len(rc.got()) != 0 {
			t.Fatalf("delivered %d to a disabled endpoint", n)
		}
		rows := e.rows(t)
		if len(rows) != 1 || rows[0].status != "skipped" {
			t.Fatalf("rows: %+v (pending one skipped, none new)", rows)
		}
		if _, err := e.svc.RotateSecret(e.ctx, admin, ep.ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("rotating a disabled endpoint: %v", err)
		}
		eps, _ := e.svc.Endpoints(e.ctx, admin, "dept-a")
		if len(eps) != 1 || eps[0].Active || eps[0].DisabledAt == nil {
			t.Fatalf("endpoints: %+v", eps)
		}
	})
}

func TestCreateEndpointValidatesNamingTheField(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	tests := []struct {
		name  string
		in    outbox.NewEndpoint
		field string
		key   string
	}{
		{"no owner", outbox.NewEndpoint{URL: "https://a.cn/h", Events: "*"}, "owner", "outbox.error.owner"},
		{"no URL", outbox.NewEndpoint{Owner: "d", Events: "*"}, "url", "error.field.required"},
		{"ftp URL", outbox.NewEndpoint{Owner: "d", URL: "ftp://a.cn/h", Events: "*"}, "url", "outbox.error.url"},
		{"relative URL", outbox.NewEndpoint{Owner: "d", URL: "/hook", Events: "*"}, "url", "outbox.error.url"},
		{"URL without host", outbox.NewEndpoint{Owner: "d", URL: "https:///hook", Events: "*"}, "url", "outbox.error.url"},
		{"URL with fragment", outbox.NewEndpoint{Owner: "d", URL: "https://a.cn/h#x", Events: "*"}, "url", "outbox.error.url"},
		{"URL with password", outbox.NewEndpoint{Owner: "d", URL: "https://u:p@a.cn/h", Events: "*"}, "url", "outbox.error.url_credentials"},
		{"URL too long", outbox.NewEndpoint{Owner: "d", URL: "https://a.cn/" + strings.Repeat("x", 2000), Events: "*"}, "url", "error.field.too_long"},
		{"no events", outbox.NewEndpoint{Owner: "d", URL: "https://a.cn/h", Events: " "}, "events", "outbox.error.events"},
		{"bad event", outbox.NewEndpoint{Owner: "d", URL: "https://a.cn/h", Events: "case.accepted,Case Closed"}, "events", "outbox.error.events"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.CreateEndpoint(e.ctx, admin, tt.in)
			if got := errs.As(err).Fields[tt.field]; !errs.Is(err, errs.Invalid) || got != tt.key {
				t.Fatalf("err = %v, want %s: %s", err, tt.field, tt.key)
			}
		})
	}
	ep, secret, err := e.svc.CreateEndpoint(e.ctx, admin, outbox.NewEndpoint{Owner: " d ", URL: " http://a.cn:8080/h?x=1 ",
		Events: "case.closed, case.accepted,case.closed,"})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Owner != "d" || ep.URL != "http://a.cn:8080/h?x=1" || strings.Join(ep.Events, ",") != "case.accepted,case.closed" ||
		!ep.Active || len(secret) < 40 {
		t.Fatalf("endpoint %+v, secret %q", ep, secret)
	}
	entries := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'webhook.create' AND object_id = $1 AND detail NOT LIKE '%x=1%'",
		strconv.FormatInt(ep.ID, 10))
	if entries != 1 {
		t.Fatalf("%d audit entries without the URL's query, want 1", entries)
	}
}

func TestEndpointPermissions(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	handler := auth.Actor{UserID: 9, Username: "dept-a-handler", Role: auth.DepartmentHandler, Scope: "420106"}
	ownDepartment := func(a auth.Actor, owner string) bool {
		return a.Role == auth.DepartmentHandler && strings.HasPrefix(a.Username, owner+"-")
	}
	plain := newEnv(t, d)
	if _, _, err := plain.svc.CreateEndpoint(plain.ctx, handler, outbox.NewEndpoint{Owner: "dept-a", URL: "https://a.cn/h", Events: "*"}); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("handler without policy: %v", err)
	}
	if _, _, err := plain.svc.CreateEndpoint(plain.ctx, auth.Actor{}, outbox.NewEndpoint{Owner: "dept-a", URL: "https://a.cn/h", Events: "*"}); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("anonymous: %v", err)
	}
	e := newEnvWith(t, d, nil, ownDepartment)
	mine, _, err := e.svc.CreateEndpoint(e.ctx, handler, outbox.NewEndpoint{Owner: "dept-a", URL: "https://a.cn/h", Events: "*"})
	if err != nil {
		t.Fatalf("own department: %v", err)
	}
	if _, _, err := e.svc.CreateEndpoint(e.ctx, handler, outbox.NewEndpoint{Owner: "dept-b", URL: "https://a.cn/h", Events: "*"}); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("other department: %v", err)
	}
	theirs, _ := e.endpoint(t, "dept-b", "https://b.cn/h", "*")
	if _, err := e.svc.Endpoints(e.ctx, handler, "dept-b"); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("listing another owner's endpoints: %v", err)
	}
	for _, op := range []struct {
		name string
		call func(id int64) error
	}{
		{"rotate", func(id int64) error { _, err := e.svc.RotateSecret(e.ctx, handler, id); return err }},
		{"deliveries", func(id int64) error {
			_, err := e.svc.Deliveries(e.ctx, handler, id, outbox.DeliveryFilter{Limit: 10})
			return err
		}},
		{"disable", func(id int64) error { return e.svc.DisableEndpoint(e.ctx, handler, id) }},
	} {
		if err := op.call(theirs.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s another owner's endpoint: %v, want not found", op.name, err)
		}
		if err := op.call(mine.ID); err != nil {
			t.Errorf("%s own endpoint: %v", op.name, err)
		}
	}
}
