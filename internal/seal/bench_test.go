package seal

import (
	"testing"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// The benchmarks measure one 18-character identity number, the field a
// resident import seals and indexes for every row.

func BenchmarkSeal(b *testing.B) {
	k := mustOpen(b, dbtest.Open(b, db.SQLite), newMasterKey(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Seal(purposeID, "42010219900101123X"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnseal(b *testing.B) {
	k := mustOpen(b, dbtest.Open(b, db.SQLite), newMasterKey(b))
	s := mustSeal(b, k, purposeID, "42010219900101123X")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Unseal(purposeID, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBlindIndex(b *testing.B) {
	k := mustOpen(b, dbtest.Open(b, db.SQLite), newMasterKey(b))
	b.ReportAllocs()
	for b.Loop() {
		k.BlindIndex(purposeID, "42010219900101123X")
	}
}

// BenchmarkSealParallel shows how sealing scales over cores: the keyring
// takes no lock on this path.
func BenchmarkSealParallel(b *testing.B) {
	k := mustOpen(b, dbtest.Open(b, db.SQLite), newMasterKey(b))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := k.Seal(purposeID, "42010219900101123X"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
