package outbox_test

import (
	"net/url"
	"os"
	"sync"
	"testing"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/outbox"
)

// withSearchPath is the test server's DSN selecting schema.
func withSearchPath(t *testing.T, schema string) string {
	t.Helper()
	u, err := url.Parse(os.Getenv(dbtest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestTwoNodesDeliverEveryMessageExactlyOnce(t *testing.T) {
	const hooks, notes = 200, 100
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		uid := e.user(t, "li")
		rc := newReceiver(t, nil)
		_, secret := e.endpoint(t, "dept-a", rc.URL, "*")
		msgs := make([]outbox.Message, 0, hooks+notes)
		for i := range hooks {
			msgs = append(msgs, outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(i)})
			if i < notes {
				msgs = append(msgs, outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "受理"})
			}
		}
		e.enqueue(t, msgs...)

		nodes := []*outbox.Dispatcher{
			e.dispatcher(outbox.Config{Node: "node-a", BatchSize: 7}),
			e.dispatcherOn(reopen(t, d), outbox.Config{Node: "node-b", BatchSize: 7}),
		}
		delivered := make([]int, len(nodes))
		var wg sync.WaitGroup
		for i, n := range nodes {
			wg.Go(func() {
				// Each node runs until a round finds nothing it can claim.
				for {
					got, err := n.RunOnce(e.ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if got == 0 {
						return
					}
					delivered[i] += got
				}
			})
		}
		wg.Wait()
		// Whatever one node left behind while the other held it is taken now.
		for _, n := range nodes {
			for runOnce(t, e.ctx, n) > 0 {
			}
		}
		t.Logf("delivered per node: %v", delivered)

		byID := rc.delivered()
		if len(byID) != hooks {
			t.Fatalf("%d distinct webhook deliveries, want %d", len(byID), hooks)
		}
		for id, n := range byID {
			if n != 1 {
				t.Errorf("delivery %s received %d times", id, n)
			}
		}
		if len(rc.got()) != hooks {
			t.Errorf("%d requests for %d messages", len(rc.got()), hooks)
		}
		for _, r := range rc.got()[:3] {
			if err := outbox.Verify([]byte(secret), r.header, r.body, e.clk.Now(), 0); err != nil {
				t.Error(err)
			}
		}
		if n, _ := e.svc.Unread(e.ctx, uid); n != notes {
			t.Errorf("%d inbox messages, want %d", n, notes)
		}
		for _, r := range e.rows(t) {
			if r.status != "delivered" || r.attempts != 1 {
				t.Fatalf("row %+v", r)
			}
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox_attempts"); n != hooks+notes {
			t.Errorf("%d attempts logged, want %d", n, hooks+notes)
		}
	})
}
