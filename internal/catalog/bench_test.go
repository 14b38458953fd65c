package catalog_test

import (
	"testing"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// BenchmarkSeed loads the built-in catalogue into empty tables on SQLite:
// a fresh installation does this once at its first start.
func BenchmarkSeed(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	al := audit.New(d)
	c := clock.System{}
	ctx := b.Context()
	for b.Loop() {
		b.StopTimer()
		for _, q := range []string{"DELETE FROM categories", "DELETE FROM departments"} {
			if _, err := d.ExecContext(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		svc := catalog.NewService(d, al, c)
		b.StartTimer()
		if n, err := svc.Seed(ctx); err != nil || n == 0 {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkCategoryLookup is the read every intake makes.
func BenchmarkCategoryLookup(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	svc := catalog.NewService(d, audit.New(d), clock.System{})
	ctx := b.Context()
	if _, err := svc.Seed(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := svc.ByRef(ctx, "M06010"); err != nil {
			b.Fatal(err)
		}
	}
}
