//go:build !race

package export

import (
	"testing"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// The acceptance test: a 200,000-case export completes with the heap
// growing by far less than the file it writes, so it cannot be holding the
// set. It is left out of the race detector's pass, which makes it minutes
// long; TestTwentyThousandCaseExportStreams runs the same path there.
func TestTwoHundredThousandCaseExportCompletesWithoutHoldingTheSet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		size := exportInBounds(t, d, 200_000, 64<<20)
		if size <= 64<<20 {
			t.Fatalf("the file is %d MiB; it must exceed the 64 MiB heap bound for the bound to prove anything", size>>20)
		}
	})
}
