package outbox_test

import (
	"database/sql"
	"testing"

	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/outbox"
)

// BenchmarkEnqueueAndDispatchInApp measures the in-app path end to end: a
// use case's transaction enqueues a batch of messages, then the dispatcher
// claims them and moves them into the inbox. msgs/s is the throughput.
func BenchmarkEnqueueAndDispatchInApp(b *testing.B) {
	const batch = 100
	for _, engine := range dbtest.Engines(b) {
		b.Run(string(engine), func(b *testing.B) {
			d := dbtest.Open(b, engine)
			e := newEnv(b, d)
			uid := e.user(b, "li")
			dp := e.dispatcher(outbox.Config{BatchSize: batch})
			msgs := make([]outbox.Message, batch)
			for i := range msgs {
				msgs[i] = outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid,
					Subject: "您的报事已受理", Body: "编号 2026-000042", Link: "/cases/42"}
			}
			b.ResetTimer()
			for b.Loop() {
				if err := d.Tx(e.ctx, func(tx *sql.Tx) error { return outbox.Enqueue(e.ctx, tx, e.clk.Now(), msgs...) }); err != nil {
					b.Fatal(err)
				}
				if n := runOnce(b, e.ctx, dp); n != batch {
					b.Fatalf("delivered %d", n)
				}
			}
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
