package audit_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// BenchmarkAppend is the cost the audit chain adds to every state change:
// one transaction holding the head lock, one insert, one head update.
func BenchmarkAppend(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			l := audit.New(d)
			ctx := context.Background()
			rec := audit.Record{ActorID: 1, ActorName: "bench", ActorRole: "system_admin", Action: "user.create", ObjectType: "user", ObjectID: "1"}
			for b.Loop() {
				if err := d.Tx(ctx, func(tx *sql.Tx) error {
					_, err := l.Append(ctx, tx, time.Now(), rec)
					return err
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify measures the streaming chain check per entry.
func BenchmarkVerify(b *testing.B) {
	d := dbtest.Open(b, "sqlite")
	l := audit.New(d)
	ctx := context.Background()
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		for i := 0; i < 10000; i++ {
			if _, err := l.Append(ctx, tx, time.Now(), audit.Record{ActorName: "b", Action: "x", ObjectType: "y", ObjectID: "z"}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := l.Verify(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/entry")
}
