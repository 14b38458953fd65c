package geo

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestOrientExact checks the float64-expansion orientation against rational
// arithmetic on nearly collinear triples, where the filter cannot decide:
// points interpolated along a line and nudged by a few ulps, at geographic,
// small-integer and extreme magnitudes.
func TestOrientExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	scales := []float64{1, 114.3, 1e-7, 1e6, 1e-200, 1e200, 0x1p-449, 0x1p449}
	nudge := func(v float64) float64 {
		for range rng.IntN(4) {
			if rng.IntN(2) == 0 {
				v = math.Nextafter(v, math.Inf(1))
			} else {
				v = math.Nextafter(v, math.Inf(-1))
			}
		}
		return v
	}
	decided := map[int]int{}
	for range 50_000 {
		s := scales[rng.IntN(len(scales))]
		ax, ay := s*(rng.Float64()-0.5), s*(rng.Float64()-0.5)
		bx, by := ax+s*(rng.Float64()-0.5)*1e-3, ay+s*(rng.Float64()-0.5)*1e-3
		if rng.IntN(4) == 0 { // small integers: exact collinearity is common
			ax, ay, bx, by = float64(rng.IntN(9)), float64(rng.IntN(9)), float64(rng.IntN(9)), float64(rng.IntN(9))
		}
		tt := rng.Float64()*3 - 1
		cx, cy := nudge(ax+tt*(bx-ax)), nudge(ay+tt*(by-ay))
		want := orientRat(ax, ay, bx, by, cx, cy)
		if got := orientExact(ax, ay, bx, by, cx, cy, 0); got != want {
			t.Fatalf("orientExact(%v, %v, %v, %v, %v, %v) = %d, rational %d", ax, ay, bx, by, cx, cy, got, want)
		}
		if got := orient(ax, ay, bx, by, cx, cy); got != want {
			t.Fatalf("orient(%v, %v, %v, %v, %v, %v) = %d, rational %d", ax, ay, bx, by, cx, cy, got, want)
		}
		decided[want]++
	}
	if decided[0] == 0 || decided[1] == 0 || decided[-1] == 0 {
		t.Errorf("signs seen %v; want all three", decided)
	}
}
