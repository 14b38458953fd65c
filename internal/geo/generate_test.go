package geo

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

func TestGenerateGrids(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.3, 30.5}, Max: orb.Point{114.35, 30.54}}
	const nx, ny = 25, 20
	cells := GenerateGrids(b, nx, ny, 3)
	if len(cells) != nx*ny {
		t.Fatalf("got %d cells, want %d", len(cells), nx*ny)
	}
	type edge struct{ a, b orb.Point }
	edges := map[edge]int{}
	var area float64
	for k, c := range cells {
		if p := CheckShape(orb.MultiPolygon{c}); p != nil {
			t.Fatalf("cell %d: %v", k, p)
		}
		r := c[0]
		if n := len(r) - 1; n < 8 || n > 40 {
			t.Errorf("cell %d has %d vertices, want 8–40", k, n)
		}
		a := ringArea(r)
		if a <= 0 {
			t.Errorf("cell %d is not counter-clockwise", k)
		}
		area += a
		for j := 0; j+1 < len(r); j++ {
			edges[edge{r[j], r[j+1]}]++
		}
	}
	if want := (b.Max[0] - b.Min[0]) * (b.Max[1] - b.Min[1]); math.Abs(area-want) > 1e-9*want {
		t.Errorf("cells cover %g, the rectangle %g", area, want)
	}
	// Every edge is walked the other way by a neighbour, vertex for vertex,
	// unless it lies on the rectangle's border.
	onBorder := func(p orb.Point) bool {
		return p[0] == b.Min[0] || p[0] == b.Max[0] || p[1] == b.Min[1] || p[1] == b.Max[1]
	}
	for e, n := range edges {
		if n != 1 {
			t.Fatalf("edge %v walked %d times in one direction", e, n)
		}
		if edges[edge{e.b, e.a}] == 0 && !(onBorder(e.a) && onBorder(e.b)) {
			t.Fatalf("edge %v has no neighbour and is not on the border", e)
		}
	}
	// Row-major from the north-west.
	if c := Centroid(orb.MultiPolygon{cells[0]}); c[0] > b.Min[0]+0.05/nx*2 || c[1] < b.Max[1]-0.04/ny*2 {
		t.Errorf("first cell's centre %v is not in the north-west", c)
	}
	whole := Dissolve(cells)
	if len(whole) != 1 || len(whole[0]) != 1 || Bound(whole) != b {
		t.Errorf("dissolving all cells gives %d members with bound %v, want one rectangle", len(whole), Bound(whole))
	}
}

func TestGenerateGridsIsDeterministic(t *testing.T) {
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	a1, a2, other := GenerateGrids(b, 4, 3, 9), GenerateGrids(b, 4, 3, 9), GenerateGrids(b, 4, 3, 10)
	if !orb.MultiPolygon(a1).Equal(orb.MultiPolygon(a2)) {
		t.Error("the same seed gave different cells")
	}
	if orb.MultiPolygon(a1).Equal(orb.MultiPolygon(other)) {
		t.Error("different seeds gave the same cells")
	}
}

func TestGenerateGridsRejectsBadInput(t *testing.T) {
	ok := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	tests := []struct {
		name   string
		b      orb.Bound
		nx, ny int
	}{
		{"no columns", ok, 0, 3},
		{"negative rows", ok, 3, -1},
		{"empty bound", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{1, 2}}, 3, 3},
		{"inverted bound", orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{0, 0}}, 3, 3},
		{"NaN bound", orb.Bound{Min: orb.Point{math.NaN(), 0}, Max: orb.Point{1, 1}}, 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := GenerateGrids(tc.b, tc.nx, tc.ny, 1); got != nil {
				t.Errorf("got %d cells, want none", len(got))
			}
		})
	}
}

func TestDissolve(t *testing.T) {
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{4, 4}}
	cells := GenerateGrids(b, 4, 4, 2) // row-major from the north-west
	border := []orb.Polygon{}
	for k, c := range cells {
		if row, col := k/4, k%4; row == 0 || row == 3 || col == 0 || col == 3 {
			border = append(border, c)
		}
	}
	tests := []struct {
		name           string
		ps             []orb.Polygon
		members, holes int
	}{
		{"one cell", cells[:1], 1, 0},
		{"a row", cells[:4], 1, 0},
		{"the border cells: a ring around a hole", border, 1, 1},
		{"two cells touching at a corner", []orb.Polygon{cells[0], cells[5]}, 2, 0},
		{"two apart", []orb.Polygon{cells[0], cells[15]}, 2, 0},
		{"clockwise input", []orb.Polygon{{reverse(cells[0][0])}, {reverse(cells[1][0])}}, 1, 0},
		{"nothing", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mp := Dissolve(tc.ps)
			holes := 0
			for _, p := range mp {
				holes += len(p) - 1
			}
			if len(mp) != tc.members || holes != tc.holes {
				t.Fatalf("got %d members, %d holes; want %d, %d", len(mp), holes, tc.members, tc.holes)
			}
			if len(mp) > 0 {
				if p := CheckShape(mp); p != nil {
					t.Fatalf("dissolved shape is invalid: %v", p)
				}
			}
			// The union contains exactly the points some input contains.
			for _, c := range cells {
				for _, p := range c[0] {
					in := false
					for _, q := range tc.ps {
						in = in || Contains(orb.MultiPolygon{q}, p)
					}
					if Contains(mp, p) != in {
						t.Fatalf("dissolved shape contains %v: %v, inputs: %v", p, !in, in)
					}
				}
			}
		})
	}
}
