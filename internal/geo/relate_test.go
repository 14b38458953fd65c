package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// Shapes for the relation tests are drawn in metres east and north of a
// point in Wuhan and converted to degrees, so tolerances read naturally.
const lng0, lat0 = 114.3, 30.6

func deg(x, y float64) orb.Point {
	return orb.Point{lng0 + x/(metersPerDegree*math.Cos(lat0*math.Pi/180)), lat0 + y/metersPerDegree}
}

// mRing makes a closed ring from x, y pairs in metres.
func mRing(xy ...float64) orb.Ring {
	r := make(orb.Ring, 0, len(xy)/2+1)
	for k := 0; k+1 < len(xy); k += 2 {
		r = append(r, deg(xy[k], xy[k+1]))
	}
	if r[0] != r[len(r)-1] {
		r = append(r, r[0])
	}
	return r
}

func mRect(x0, y0, x1, y1 float64) orb.Ring {
	return mRing(x0, y0, x1, y0, x1, y1, x0, y1)
}

func TestWithin(t *testing.T) {
	parent := orb.MultiPolygon{{mRect(0, 0, 100, 100)}}
	tests := []struct {
		name         string
		inner, outer orb.MultiPolygon
		tol          float64
		want         bool
	}{
		{"identical", parent, parent, 1, true},
		{"identical with no tolerance", parent, parent, 0, true},
		{"strictly inside", orb.MultiPolygon{{mRect(10, 10, 20, 20)}}, parent, 1, true},
		{"sharing two of the parent's edges", orb.MultiPolygon{{mRect(0, 0, 50, 50)}}, parent, 0, true},
		{"sticking out 0.5 m with 1 m tolerance", orb.MultiPolygon{{mRect(10, 10, 100.5, 20)}}, parent, 1, true},
		{"sticking out 5 m with 1 m tolerance", orb.MultiPolygon{{mRect(10, 10, 105, 20)}}, parent, 1, false},
		{"sticking out 0.5 m with no tolerance", orb.MultiPolygon{{mRect(10, 10, 100.5, 20)}}, parent, 0, false},
		{"vertex 0.9 m out along a diagonal", orb.MultiPolygon{{mRing(50, 50, 100.6, 100.6, 50, 90)}}, parent, 1, true},
		{"vertex 1.5 m out along a diagonal", orb.MultiPolygon{{mRing(50, 50, 101.1, 101.1, 50, 90)}}, parent, 1, false},
		{"poking 5 m into the missing corner of an L", orb.MultiPolygon{{mRect(45, 45, 55, 55)}},
			orb.MultiPolygon{{mRing(0, 0, 100, 0, 100, 50, 50, 50, 50, 100, 0, 100)}}, 1, false},
		{"poking 0.5 m into the missing corner of an L", orb.MultiPolygon{{mRect(45, 45, 50.5, 50.5)}},
			orb.MultiPolygon{{mRing(0, 0, 100, 0, 100, 50, 50, 50, 50, 100, 0, 100)}}, 1, true},
		{"entirely outside", orb.MultiPolygon{{mRect(200, 200, 210, 210)}}, parent, 1, false},
		{"bigger than the parent", orb.MultiPolygon{{mRect(-10, -10, 110, 110)}}, parent, 1, false},
		{"edge crossing the notch of a U, vertices inside", orb.MultiPolygon{{mRect(10, 60, 90, 80)}},
			orb.MultiPolygon{{mRing(0, 0, 100, 0, 100, 100, 70, 100, 70, 40, 30, 40, 30, 100, 0, 100)}}, 1, false},
		{"covering a 50 m hole of the parent", parent, orb.MultiPolygon{{mRect(0, 0, 100, 100), mRect(25, 25, 75, 75)}}, 1, false},
		{"covering a 0.5 m hole of the parent", parent, orb.MultiPolygon{{mRect(0, 0, 100, 100), mRect(50, 50, 50.5, 50.5)}}, 1, true},
		{"beside the parent's hole", orb.MultiPolygon{{mRect(0, 0, 20, 20)}}, orb.MultiPolygon{{mRect(0, 0, 100, 100), mRect(25, 25, 75, 75)}}, 1, true},
		{"spanning a 20 m gap between members", orb.MultiPolygon{{mRect(40, 10, 80, 20)}},
			orb.MultiPolygon{{mRect(0, 0, 50, 100)}, {mRect(70, 0, 120, 100)}}, 1, false},
		{"within the second member", orb.MultiPolygon{{mRect(80, 10, 90, 20)}},
			orb.MultiPolygon{{mRect(0, 0, 50, 100)}, {mRect(70, 0, 120, 100)}}, 1, true},
		{"multipolygon child, both members inside", orb.MultiPolygon{{mRect(10, 10, 20, 20)}, {mRect(30, 30, 40, 40)}}, parent, 1, true},
		{"multipolygon child, one member outside", orb.MultiPolygon{{mRect(10, 10, 20, 20)}, {mRect(130, 30, 140, 40)}}, parent, 1, false},
		{"empty child", nil, parent, 1, true},
		{"empty parent", parent, nil, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Within(tc.inner, tc.outer, tc.tol); got != tc.want {
				t.Errorf("Within = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestOverlaps(t *testing.T) {
	a := orb.MultiPolygon{{mRect(0, 0, 100, 100)}}
	tests := []struct {
		name string
		a, b orb.MultiPolygon
		tol  float64
		want bool
	}{
		{"shared edge", a, orb.MultiPolygon{{mRect(100, 0, 200, 100)}}, 1, false},
		{"shared edge with no tolerance", a, orb.MultiPolygon{{mRect(100, 0, 200, 100)}}, 0, false},
		{"shared part of an edge", a, orb.MultiPolygon{{mRect(100, 30, 200, 60)}}, 1, false},
		{"touching corner", a, orb.MultiPolygon{{mRect(100, 100, 200, 200)}}, 1, false},
		{"disjoint", a, orb.MultiPolygon{{mRect(300, 0, 400, 100)}}, 1, false},
		{"sliver 0.5 m thinner than the 1 m tolerance", a, orb.MultiPolygon{{mRect(99.5, 0, 200, 100)}}, 1, false},
		{"tilted sliver up to 0.8 m", a, orb.MultiPolygon{{mRing(100, 0, 200, 0, 200, 100, 99.2, 100)}}, 1, false},
		{"real overlap of 5 m", a, orb.MultiPolygon{{mRect(95, 0, 200, 100)}}, 1, true},
		{"overlap of 0.5 m with no tolerance", a, orb.MultiPolygon{{mRect(99.5, 0, 200, 100)}}, 0, true},
		{"identical", a, a, 1, true},
		{"identical, walked the other way", a, orb.MultiPolygon{{reverse(mRect(0, 0, 100, 100))}}, 1, true},
		{"one inside the other", a, orb.MultiPolygon{{mRect(40, 40, 60, 60)}}, 1, true},
		{"one inside the other, the other way round", orb.MultiPolygon{{mRect(40, 40, 60, 60)}}, a, 1, true},
		{"crossing like a plus sign", orb.MultiPolygon{{mRect(40, -50, 60, 150)}}, orb.MultiPolygon{{mRect(-50, 40, 150, 60)}}, 1, true},
		{"island in a hole", orb.MultiPolygon{{mRect(0, 0, 100, 100), mRect(25, 25, 75, 75)}}, orb.MultiPolygon{{mRect(25, 25, 75, 75)}}, 1, false},
		{"bigger island over a hole", orb.MultiPolygon{{mRect(0, 0, 100, 100), mRect(25, 25, 75, 75)}}, orb.MultiPolygon{{mRect(20, 20, 80, 80)}}, 1, true},
		{"deep thin spike into the neighbour", a, orb.MultiPolygon{{mRing(100, 0, 200, 0, 200, 100, 100, 100, 100, 50.1, 80, 50, 100, 49.9)}}, 1, true},
		{"second member overlapping", orb.MultiPolygon{{mRect(300, 0, 400, 100)}, {mRect(90, 0, 150, 100)}}, a, 1, true},
		{"empty", a, nil, 1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Overlaps(tc.a, tc.b, tc.tol); got != tc.want {
				t.Errorf("Overlaps(a, b) = %v, want %v", got, tc.want)
			}
			if got := Overlaps(tc.b, tc.a, tc.tol); got != tc.want {
				t.Errorf("Overlaps(b, a) = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRelationsOnGeneratedGrids checks the relations on wiggly shared edges:
// neighbours never overlap, each cell is within its dissolved block, and a
// cell is not within a neighbouring block.
func TestRelationsOnGeneratedGrids(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.3, 30.6}, Max: orb.Point{114.306, 30.604}}
	const nx, ny = 6, 4
	cells := GenerateGrids(b, nx, ny, 21)
	var west, east []orb.Polygon
	for k, c := range cells {
		if k%nx < nx/2 {
			west = append(west, c)
		} else {
			east = append(east, c)
		}
	}
	westBlock, eastBlock := Dissolve(west), Dissolve(east)
	if p := CheckShape(westBlock); p != nil {
		t.Fatalf("dissolved block: %v", p)
	}
	for k, c := range cells {
		mp := orb.MultiPolygon{c}
		own, other := westBlock, eastBlock
		if k%nx >= nx/2 {
			own, other = eastBlock, westBlock
		}
		if !Within(mp, own, 0.1) {
			t.Errorf("cell %d is not within its block", k)
		}
		if Within(mp, other, 0.1) {
			t.Errorf("cell %d is within the other block", k)
		}
		for j := k + 1; j < len(cells); j++ {
			if Overlaps(mp, orb.MultiPolygon{cells[j]}, 0.1) {
				t.Errorf("cells %d and %d overlap", k, j)
			}
		}
		if !Overlaps(mp, own, 0.1) {
			t.Errorf("cell %d does not overlap its block", k)
		}
	}
	if Overlaps(westBlock, eastBlock, 0.1) {
		t.Error("neighbouring blocks overlap")
	}
}
