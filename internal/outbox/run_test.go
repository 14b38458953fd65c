package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/outbox"
)

func TestRunDrainsABacklogAndStopsWithItsContext(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	uid := e.user(t, "li")
	const total = 250
	msgs := make([]outbox.Message, total)
	for i := range msgs {
		msgs[i] = outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "受理"}
	}
	e.enqueue(t, msgs...)
	ctx, cancel := context.WithCancel(e.ctx)
	stopped := make(chan struct{})
	go func() {
		// An interval far beyond the test: only the full-batch rule can
		// drain the backlog of three batches.
		e.dispatcher(outbox.Config{BatchSize: 100}).Run(ctx, time.Hour)
		close(stopped)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := e.svc.Unread(e.ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		if n == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d delivered", n, total)
		}
		time.Sleep(5 * time.Millisecond) // waiting for completion, not measuring time
	}
	cancel()
	<-stopped
}
