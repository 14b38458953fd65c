package geo

import (
	"math"
	"math/big"
	"math/rand/v2"

	"github.com/paulmach/orb"
)

// The reference point-in-polygon test, written independently of contains.go
// from the documented consequence of the edge rule rather than from the rule
// itself: a point is judged as if it were moved east by δ and north by δ²
// (δ = 2⁻²⁰⁰, far below the spacing of any coordinates the tests use), and
// that moved point is classified by its winding number (odd = inside).
// Edges far from the point are judged in float64, where the move cannot
// change the answer; edges whose orientation float64 cannot settle are judged
// for the moved point in exact rational arithmetic.

var (
	refDelta   = new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Lsh(big.NewInt(1), 200))
	refDelta2  = new(big.Rat).Mul(refDelta, refDelta)
	refRelSafe = 1e-10 // float results closer to zero than this (relative) go exact
)

func refContains(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		if len(poly) == 0 || !refRing(poly[0], p) {
			continue
		}
		inHole := false
		for _, h := range poly[1:] {
			if refRing(h, p) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// refRing returns whether the winding number of the nudged point about r is
// odd. r is treated as closed.
func refRing(r orb.Ring, p orb.Point) bool {
	n := len(r)
	if n < 2 {
		return false
	}
	wn := 0
	for k := range n {
		a, b := r[k], r[(k+1)%n]
		// The nudged y lies strictly between p.y and the next float above
		// it, so "vertex at or below the nudged point" is "vertex.y <= p.y".
		aBelow, bBelow := a[1] <= p[1], b[1] <= p[1]
		switch {
		case aBelow && !bBelow: // upward crossing of the nudged line
			if refSide(a, b, p) > 0 {
				wn++
			}
		case !aBelow && bBelow: // downward
			if refSide(a, b, p) < 0 {
				wn--
			}
		}
	}
	return wn%2 != 0
}

// refSide returns the side of the nudged point relative to the directed
// line a→b: +1 left, -1 right (never 0 for the nudged point in the tests'
// coordinate ranges).
func refSide(a, b, p orb.Point) int {
	t1 := (b[0] - a[0]) * (p[1] - a[1])
	t2 := (b[1] - a[1]) * (p[0] - a[0])
	if d := t1 - t2; math.Abs(d) > refRelSafe*(math.Abs(t1)+math.Abs(t2)) {
		if d > 0 {
			return 1
		}
		return -1
	}
	rat := func(v float64) *big.Rat { return new(big.Rat).SetFloat64(v) }
	px := new(big.Rat).Add(rat(p[0]), refDelta)
	py := new(big.Rat).Add(rat(p[1]), refDelta2)
	ax, ay := rat(a[0]), rat(a[1])
	l := new(big.Rat).Mul(new(big.Rat).Sub(rat(b[0]), ax), new(big.Rat).Sub(py, ay))
	r := new(big.Rat).Mul(new(big.Rat).Sub(rat(b[1]), ay), new(big.Rat).Sub(px, ax))
	return l.Cmp(r)
}

// testPoints returns n points for the partition of b into cells: a mix of
// uniform random points (some outside b), vertices of the cells, points
// interpolated along the cells' edges, and points on b's own sides.
func testPoints(rng *rand.Rand, b orb.Bound, cells []orb.Polygon, n int) []orb.Point {
	w, h := b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]
	pts := make([]orb.Point, 0, n)
	for len(pts) < n {
		switch rng.IntN(10) {
		case 0, 1, 2, 3: // anywhere, 5% margin around b
			pts = append(pts, orb.Point{b.Min[0] + (rng.Float64()*1.1-0.05)*w, b.Min[1] + (rng.Float64()*1.1-0.05)*h})
		case 4, 5: // a vertex
			r := cells[rng.IntN(len(cells))][0]
			pts = append(pts, r[rng.IntN(len(r))])
		case 6, 7, 8: // on (within rounding of) an edge
			r := cells[rng.IntN(len(cells))][0]
			k := rng.IntN(len(r) - 1)
			t := rng.Float64()
			a, c := r[k], r[k+1]
			pts = append(pts, orb.Point{a[0] + t*(c[0]-a[0]), a[1] + t*(c[1]-a[1])})
		case 9: // on one of b's sides
			t := rng.Float64()
			switch rng.IntN(4) {
			case 0:
				pts = append(pts, orb.Point{b.Min[0], b.Min[1] + t*h})
			case 1:
				pts = append(pts, orb.Point{b.Max[0], b.Min[1] + t*h})
			case 2:
				pts = append(pts, orb.Point{b.Min[0] + t*w, b.Min[1]})
			default:
				pts = append(pts, orb.Point{b.Min[0] + t*w, b.Max[1]})
			}
		}
	}
	return pts
}

// inHalfOpen reports whether p is in [min, max) × [min, max): the part of the
// plane that a partition of b covers under the edge rule.
func inHalfOpen(b orb.Bound, p orb.Point) bool {
	return p[0] >= b.Min[0] && p[0] < b.Max[0] && p[1] >= b.Min[1] && p[1] < b.Max[1]
}
