package geo

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
)

func rect(x0, y0, x1, y1 float64) orb.Ring {
	return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
}

func TestContainsEdgeRule(t *testing.T) {
	// Each group partitions a rectangle with edges shared exactly.
	squares := map[string]orb.MultiPolygon{ // four unit squares around (1, 1)
		"sw": {{rect(0, 0, 1, 1)}}, "se": {{rect(1, 0, 2, 1)}},
		"nw": {{rect(0, 1, 1, 2)}}, "ne": {{rect(1, 1, 2, 2)}},
	}
	slanted := map[string]orb.MultiPolygon{ // [0,3]×[0,1] cut along (0,0)–(3,1)
		"below": {{{{0, 0}, {3, 0}, {3, 1}, {0, 0}}}},
		"above": {{{{0, 0}, {3, 1}, {0, 1}, {0, 0}}}},
	}
	holes := map[string]orb.MultiPolygon{ // [0,4]² with a hole and its island
		"holed":  {{rect(0, 0, 4, 4), rect(1, 1, 3, 3)}},
		"island": {{rect(1, 1, 3, 3)}},
	}
	tests := []struct {
		name   string
		shapes map[string]orb.MultiPolygon
		p      orb.Point
		want   string // the one shape containing p, "" for none
	}{
		{"inside one square", squares, orb.Point{0.5, 0.5}, "sw"},
		{"north-south shared edge belongs to the east", squares, orb.Point{1, 0.5}, "se"},
		{"east-west shared edge belongs to the north", squares, orb.Point{0.5, 1}, "nw"},
		{"vertex shared by four belongs to the north-east", squares, orb.Point{1, 1}, "ne"},
		{"west border is inside", squares, orb.Point{0, 0.5}, "sw"},
		{"south border is inside", squares, orb.Point{0.5, 0}, "sw"},
		{"south-west corner is inside", squares, orb.Point{0, 0}, "sw"},
		{"east border is outside", squares, orb.Point{2, 0.5}, ""},
		{"north border is outside", squares, orb.Point{0.5, 2}, ""},
		{"north-east corner is outside", squares, orb.Point{2, 2}, ""},
		{"north-west corner is outside", squares, orb.Point{0, 2}, ""},
		{"south-east corner is outside", squares, orb.Point{2, 0}, ""},
		{"slanted shared edge belongs to the east side", slanted, orb.Point{1.5, 0.5}, "below"},
		{"one ulp west of the slanted edge", slanted, orb.Point{math.Nextafter(1.5, 0), 0.5}, "above"},
		{"one ulp east of the slanted edge", slanted, orb.Point{math.Nextafter(1.5, 2), 0.5}, "below"},
		// fl(0.3) < 3·fl(0.1): the point is west of the line by 3e-17.
		{"decided exactly near the slanted edge", slanted, orb.Point{0.3, 0.1}, "above"},
		{"slanted edge's south-west end belongs to the east-north-east", slanted, orb.Point{0, 0}, "below"},
		{"slanted edge's north-east end is outside", slanted, orb.Point{3, 1}, ""},
		{"west border of the upper half", slanted, orb.Point{0, 0.5}, "above"},
		{"in the hole", holes, orb.Point{2, 2.5}, "island"},
		{"in the ring around the hole", holes, orb.Point{0.5, 0.5}, "holed"},
		{"hole's west edge belongs to the hole", holes, orb.Point{1, 2}, "island"},
		{"hole's east edge belongs to the shape around it", holes, orb.Point{3, 2}, "holed"},
		{"hole's south edge belongs to the hole", holes, orb.Point{2, 1}, "island"},
		{"hole's north edge belongs to the shape around it", holes, orb.Point{2, 3}, "holed"},
		{"hole's south-west corner belongs to the hole", holes, orb.Point{1, 1}, "island"},
		{"hole's north-east corner belongs to the shape around it", holes, orb.Point{3, 3}, "holed"},
		{"NaN is outside", squares, orb.Point{math.NaN(), 0.5}, ""},
		{"minus infinity is outside", squares, orb.Point{math.Inf(-1), 0.5}, ""},
		{"plus infinity is outside", squares, orb.Point{0.5, math.Inf(1)}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for name, mp := range tc.shapes {
				if got, want := Contains(mp, tc.p), name == tc.want; got != want {
					t.Errorf("Contains(%s, %v) = %v, want %v", name, tc.p, got, want)
				}
				if math.IsNaN(tc.p[0]) || math.IsInf(tc.p[0], 0) || math.IsInf(tc.p[1], 0) {
					continue
				}
				if got, want := refContains(mp, tc.p), name == tc.want; got != want {
					t.Errorf("reference(%s, %v) = %v, want %v", name, tc.p, got, want)
				}
			}
		})
	}
}

func TestContainsMultiPolygonAndOpenRings(t *testing.T) {
	mp := orb.MultiPolygon{{rect(0, 0, 1, 1)}, {rect(5, 5, 6, 6)}}
	open := orb.MultiPolygon{{orb.Ring{{0, 0}, {1, 0}, {1, 1}, {0, 1}}}}
	tests := []struct {
		name string
		mp   orb.MultiPolygon
		p    orb.Point
		want bool
	}{
		{"first member", mp, orb.Point{0.5, 0.5}, true},
		{"second member", mp, orb.Point{5.5, 5.5}, true},
		{"between members", mp, orb.Point{3, 3}, false},
		{"open ring is closed implicitly", open, orb.Point{0.5, 0.5}, true},
		{"open ring's implicit closing edge is its west border", open, orb.Point{0, 0.5}, true},
		{"empty multipolygon", nil, orb.Point{0, 0}, false},
		{"polygon without rings", orb.MultiPolygon{{}}, orb.Point{0, 0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Contains(tc.mp, tc.p); got != tc.want {
				t.Errorf("Contains = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestContainsPartition checks on a generated 50×40 partition that Contains
// agrees with the reference on 100,000 points (about half of them on edges
// or at vertices) and that every point of the covered area lies in exactly
// one cell.
func TestContainsPartition(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.3, 30.5}, Max: orb.Point{114.35, 30.54}}
	const nx, ny = 50, 40
	cells := GenerateGrids(b, nx, ny, 7)
	cw, ch := (b.Max[0]-b.Min[0])/nx, (b.Max[1]-b.Min[1])/ny
	mps := make([]orb.MultiPolygon, len(cells))
	for k, c := range cells {
		mps[k] = orb.MultiPolygon{c}
		// The neighbourhood search below relies on each cell staying within
		// half a cell of its lattice box.
		row, col := k/nx, k%nx
		bb := c.Bound()
		x0, y1 := b.Min[0]+float64(col)*cw, b.Max[1]-float64(row)*ch
		if bb.Min[0] < x0-cw/2 || bb.Max[0] > x0+1.5*cw || bb.Max[1] > y1+ch/2 || bb.Min[1] < y1-1.5*ch {
			t.Fatalf("cell %d strays from its lattice box: %v", k, bb)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	pts := testPoints(rng, b, cells, 100_000)
	onEdge := 0
	for _, p := range pts {
		col := int(math.Floor((p[0] - b.Min[0]) / cw))
		row := int(math.Floor((b.Max[1] - p[1]) / ch))
		hits := 0
		for r := row - 1; r <= row+1; r++ {
			for c := col - 1; c <= col+1; c++ {
				if r < 0 || r >= ny || c < 0 || c >= nx {
					continue
				}
				k := r*nx + c
				got, want := Contains(mps[k], p), refContains(mps[k], p)
				if got != want {
					t.Fatalf("Contains(cell %d, %v) = %v, reference says %v", k, p, got, want)
				}
				if got {
					hits++
				}
			}
		}
		if want := map[bool]int{true: 1, false: 0}[inHalfOpen(b, p)]; hits != want {
			t.Fatalf("point %v lies in %d cells, want %d", p, hits, want)
		}
		if ringTouches(cells, row, col, nx, ny, p) {
			onEdge++
		}
	}
	t.Logf("%d of %d points lie exactly on a cell boundary", onEdge, len(pts))
	if onEdge < 10_000 {
		t.Errorf("only %d of the points lie on a cell's boundary; the test needs many", onEdge)
	}
}

// ringTouches reports whether p lies exactly on the boundary of a cell near
// (row, col), by the exact orientation predicate.
func ringTouches(cells []orb.Polygon, row, col, nx, ny int, p orb.Point) bool {
	for r := max(row-1, 0); r <= min(row+1, ny-1); r++ {
		for c := max(col-1, 0); c <= min(col+1, nx-1); c++ {
			ring := cells[r*nx+c][0]
			for k := 0; k+1 < len(ring); k++ {
				if onSegment(ring[k], ring[k+1], p) {
					return true
				}
			}
		}
	}
	return false
}
