package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

func appendN(t *testing.T, d *db.DB, l *audit.Log, n int) {
	t.Helper()
	ctx := audit.WithSource(context.Background(), audit.Source{IP: "10.1.2.3", RequestID: "req-1"})
	for i := 0; i < n; i++ {
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			_, err := l.Append(ctx, tx, time.Now(), audit.Record{ActorID: 0, ActorName: "cli:test", ActorRole: "system_admin",
				Action: "user.create", ObjectType: "user", ObjectID: "42", ScopePath: "420106", Detail: map[string]int{"n": i}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifiesAndNamesTheFirstBadEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		l := audit.New(d)
		rep, err := l.Verify(ctx)
		if err != nil || rep.Entries != 0 {
			t.Fatalf("empty log: %+v %v", rep, err)
		}
		appendN(t, d, l, 6)
		rep, err = l.Verify(ctx)
		if err != nil || rep.Entries != 6 || len(rep.Head) != 64 {
			t.Fatalf("intact log: %+v %v", rep, err)
		}
		es, _ := l.List(ctx, audit.Filter{Limit: 1})
		if es[0].IP != "10.1.2.3" || es[0].RequestID != "req-1" || es[0].Seq != 6 {
			t.Fatalf("entry lacks its origin: %+v", es[0])
		}

		tamper := []struct {
			name    string
			sql     string
			undo    string
			wantSeq int64
			reason  string
		}{
			{"altered reason", "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3", "UPDATE audit_log SET reason = '' WHERE seq = 3", 3, "altered"},
			{"altered time", "UPDATE audit_log SET at = at + 1 WHERE seq = 2", "UPDATE audit_log SET at = at - 1 WHERE seq = 2", 2, "altered"},
			{"altered actor", "UPDATE audit_log SET actor_name = 'someone' WHERE seq = 5", "UPDATE audit_log SET actor_name = 'cli:test' WHERE seq = 5", 5, "altered"},
		}
		for _, tc := range tamper {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := d.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				rep, err := l.Verify(ctx)
				if !errors.Is(err, audit.ErrBroken) || rep.Problem.Seq != tc.wantSeq || !strings.Contains(rep.Problem.Reason, tc.reason) {
					t.Fatalf("Verify = %+v, %v; want entry %d %s", rep.Problem, err, tc.wantSeq, tc.reason)
				}
				if _, err := d.ExecContext(ctx, tc.undo); err != nil {
					t.Fatal(err)
				}
				if _, err := l.Verify(ctx); err != nil {
					t.Fatalf("after undo: %v", err)
				}
			})
		}
		t.Run("recomputed hash still breaks the link", func(t *testing.T) {
			// A forger who rewrites entry 2 and its hash breaks entry 3's link.
			if _, err := d.ExecContext(ctx, "UPDATE audit_log SET hash = 'f00d' WHERE seq = 2"); err != nil {
				t.Fatal(err)
			}
			rep, err := l.Verify(ctx)
			if !errors.Is(err, audit.ErrBroken) || rep.Problem.Seq != 2 {
				t.Fatalf("Verify = %+v, %v", rep.Problem, err)
			}
		})
	})
}

func TestDeletedAndInsertedEntriesAreFound(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cases := []struct {
			name    string
			sql     string
			wantSeq int64
		}{
			{"deleted in the middle", "DELETE FROM audit_log WHERE seq = 3", 4},
			{"deleted at the end", "DELETE FROM audit_log WHERE seq = 5", 5},
			{"inserted after the head", `INSERT INTO audit_log (seq, at, actor_name, actor_role, action, object_type, object_id, scope_path, ip, request_id, reason, detail, prev_hash, hash)
				SELECT 6, at, actor_name, actor_role, action, object_type, object_id, scope_path, ip, request_id, reason, detail, hash, hash FROM audit_log WHERE seq = 5`, 6},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if _, err := d.ExecContext(ctx, "DELETE FROM audit_log"); err != nil {
					t.Fatal(err)
				}
				if _, err := d.ExecContext(ctx, "UPDATE audit_head SET seq = 0, hash = ''"); err != nil {
					t.Fatal(err)
				}
				l := audit.New(d)
				appendN(t, d, l, 5)
				if _, err := d.ExecContext(ctx, tc.sql); err != nil {
					t.Fatal(err)
				}
				rep, err := l.Verify(ctx)
				if !errors.Is(err, audit.ErrBroken) || rep.Problem.Seq != tc.wantSeq {
					t.Fatalf("Verify = %+v, %v; want the break at entry %d", rep.Problem, err, tc.wantSeq)
				}
			})
		}
	})
}

// TestConcurrentAppendsKeepOneChain appends from many goroutines at once;
// on PostgreSQL these are separate connections racing for the head.
func TestConcurrentAppendsKeepOneChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := audit.New(d)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				appendN(t, d, l, 10)
			}()
		}
		wg.Wait()
		rep, err := l.Verify(context.Background())
		if err != nil || rep.Entries != 40 {
			t.Fatalf("after concurrent appends: %+v %v", rep, err)
		}
	})
}

func TestRolledBackChangeLeavesNoEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := audit.New(d)
		ctx := context.Background()
		boom := errors.New("the change failed")
		err := d.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := l.Append(ctx, tx, time.Now(), audit.Record{ActorName: "x", Action: "user.create", ObjectType: "user", ObjectID: "1"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		rep, err := l.Verify(ctx)
		if err != nil || rep.Entries != 0 {
			t.Fatalf("a rolled-back change left an audit entry: %+v %v", rep, err)
		}
	})
}
