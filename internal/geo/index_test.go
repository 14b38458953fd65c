package geo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// bruteIndex answers Locate the slow, obvious way: every feature whose box
// holds the point (found with an R-tree), tested with Contains; the highest
// level wins, the earliest feature among equals.
type bruteIndex struct {
	fs []Feature
	tr rtree.RTreeG[int]
}

func newBrute(fs []Feature) *bruteIndex {
	bi := &bruteIndex{fs: fs}
	for k, f := range fs {
		if b := Bound(f.Shape); !b.IsEmpty() {
			bi.tr.Insert(b.Min, b.Max, k)
		}
	}
	return bi
}

func (bi *bruteIndex) locate(p orb.Point) (string, bool) {
	best := -1
	bi.tr.Search(p, p, func(_, _ [2]float64, k int) bool {
		if Contains(bi.fs[k].Shape, p) {
			if best < 0 || bi.fs[k].Level > bi.fs[best].Level || bi.fs[k].Level == bi.fs[best].Level && k < best {
				best = k
			}
		}
		return true
	})
	if best < 0 {
		return "", false
	}
	return bi.fs[best].Code, true
}

// territoryTree generates a five-level territory over b: one district (the
// rectangle b), streets and communities that are unions of blocks of grid
// cells (streets as multipolygons of their cells, communities dissolved into
// single polygons), the grids themselves, and micro-grids inside a few grids.
// Some grids, communities and streets are left out, so that points there
// fall back to the next level up.
func territoryTree(b orb.Bound, nx, ny int, seed int64) (fs []Feature, cells []orb.Polygon) {
	cells = GenerateGrids(b, nx, ny, seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	const cbx, cby = 6, 4 // cells per community
	const sbx, sby = 2, 2 // communities per street
	fs = append(fs, Feature{Code: "420106", Level: 0, Shape: orb.MultiPolygon{{rect(b.Min[0], b.Min[1], b.Max[0], b.Max[1])}}})
	streets := map[[2]int]orb.MultiPolygon{}
	var streetKeys [][2]int
	cw, ch := (b.Max[0]-b.Min[0])/float64(nx), (b.Max[1]-b.Min[1])/float64(ny)
	for cy := 0; cy*cby < ny; cy++ {
		for cx := 0; cx*cbx < nx; cx++ {
			var block []orb.Polygon
			var grids []Feature
			for row := cy * cby; row < min(ny, (cy+1)*cby); row++ {
				for col := cx * cbx; col < min(nx, (cx+1)*cbx); col++ {
					cell := cells[row*nx+col]
					block = append(block, cell)
					if rng.IntN(20) == 0 {
						continue // a gap in the grid layer
					}
					code := fmt.Sprintf("g%03d%03d", row, col)
					grids = append(grids, Feature{Code: code, Level: 3, Shape: orb.MultiPolygon{cell}})
					if rng.IntN(50) == 0 {
						// Micro-grids in the middle of the cell's lattice box,
						// which the cell always covers.
						x0 := b.Min[0] + (float64(col)+0.3)*cw
						y1 := b.Max[1] - (float64(row)+0.3)*ch
						micro := orb.Bound{Min: orb.Point{x0, y1 - 0.4*ch}, Max: orb.Point{x0 + 0.4*cw, y1}}
						for k, m := range GenerateGrids(micro, 2, 1, seed+int64(row*nx+col)) {
							grids = append(grids, Feature{Code: fmt.Sprintf("%s%03d", code, k), Level: 4, Shape: orb.MultiPolygon{m}})
						}
					}
				}
			}
			sk := [2]int{cx / sbx, cy / sby}
			if _, ok := streets[sk]; !ok {
				streetKeys = append(streetKeys, sk)
			}
			for _, c := range block {
				streets[sk] = append(streets[sk], c)
			}
			if rng.IntN(5) > 0 { // some communities are missing
				fs = append(fs, Feature{Code: fmt.Sprintf("c%02d%02d", cy, cx), Level: 2, Shape: Dissolve(block)})
			}
			fs = append(fs, grids...)
		}
	}
	for _, sk := range streetKeys {
		if rng.IntN(3) == 0 {
			continue // and some streets
		}
		fs = append(fs, Feature{Code: fmt.Sprintf("s%02d%02d", sk[1], sk[0]), Level: 1, Shape: streets[sk]})
	}
	// Shuffle so the index cannot lean on input order.
	rng.Shuffle(len(fs), func(i, j int) { fs[i], fs[j] = fs[j], fs[i] })
	return fs, cells
}

func TestLocateMatchesBruteForce(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.2, 30.5}, Max: orb.Point{114.26, 30.54}}
	fs, cells := territoryTree(b, 60, 40, 11)
	ix := Build(fs)
	if ix.Len() != len(fs) {
		t.Fatalf("Len = %d, want %d", ix.Len(), len(fs))
	}
	bi := newBrute(fs)
	rng := rand.New(rand.NewPCG(3, 4))
	pts := testPoints(rng, b, cells, 100_000)
	levelOf := map[string]int{}
	for _, f := range fs {
		levelOf[f.Code] = f.Level
	}
	levels := map[int]int{}
	var outside int
	for _, p := range pts {
		got, gotOK := ix.Locate(p)
		want, wantOK := bi.locate(p)
		if got != want || gotOK != wantOK {
			t.Fatalf("Locate(%v) = %q, %v; brute force says %q, %v", p, got, gotOK, want, wantOK)
		}
		if gotOK != inHalfOpen(b, p) {
			t.Fatalf("Locate(%v) ok = %v, but the district covers it: %v", p, gotOK, inHalfOpen(b, p))
		}
		if !gotOK {
			outside++
		} else {
			levels[levelOf[got]]++
		}
	}
	// The points must exercise every level and the outside.
	if outside == 0 || len(levels) != 5 {
		t.Errorf("points fell outside %d times and by level %v; want outside and every level", outside, levels)
	}
}

func TestLocateEdgeCases(t *testing.T) {
	sq := func(code string, level int, x0, y0, x1, y1 float64) Feature {
		return Feature{Code: code, Level: level, Shape: orb.MultiPolygon{{rect(x0, y0, x1, y1)}}}
	}
	tests := []struct {
		name string
		fs   []Feature
		p    orb.Point
		want string // "" for not found
	}{
		{"no features", nil, orb.Point{0, 0}, ""},
		{"one feature, inside", []Feature{sq("a", 3, 0, 0, 1, 1)}, orb.Point{0.5, 0.5}, "a"},
		{"one feature, east border", []Feature{sq("a", 3, 0, 0, 1, 1)}, orb.Point{1, 0.5}, ""},
		{"one feature, west border", []Feature{sq("a", 3, 0, 0, 1, 1)}, orb.Point{0, 0.5}, "a"},
		{"deeper level wins", []Feature{sq("parent", 2, 0, 0, 4, 4), sq("child", 3, 1, 1, 2, 2)}, orb.Point{1.5, 1.5}, "child"},
		{"deeper level wins whatever the order", []Feature{sq("child", 3, 1, 1, 2, 2), sq("parent", 2, 0, 0, 4, 4)}, orb.Point{1.5, 1.5}, "child"},
		{"falls back to the parent", []Feature{sq("parent", 2, 0, 0, 4, 4), sq("child", 3, 1, 1, 2, 2)}, orb.Point{3, 3}, "parent"},
		{"equal levels: the first wins", []Feature{sq("first", 3, 0, 0, 2, 2), sq("second", 3, 1, 1, 3, 3)}, orb.Point{1.5, 1.5}, "first"},
		{"shared edge between two", []Feature{sq("w", 3, 0, 0, 1, 1), sq("e", 3, 1, 0, 2, 1)}, orb.Point{1, 0.5}, "e"},
		{"NaN", []Feature{sq("a", 3, 0, 0, 1, 1)}, orb.Point{nan(), 0.5}, ""},
		{"non-finite feature is left out", []Feature{sq("a", 3, 0, 0, nan(), 1), sq("b", 2, 0, 0, 1, 1)}, orb.Point{0.5, 0.5}, "b"},
		{"degenerate bound: a single vertical sliver", []Feature{{Code: "s", Shape: orb.MultiPolygon{{{{0, 0}, {0, 1}, {0, 2}, {0, 0}}}}}}, orb.Point{0, 0.5}, ""},
		{"point far away", []Feature{sq("a", 3, 0, 0, 1, 1)}, orb.Point{1e300, -1e300}, ""},
		{"hole is outside", []Feature{{Code: "h", Shape: orb.MultiPolygon{{rect(0, 0, 3, 3), rect(1, 1, 2, 2)}}}}, orb.Point{1.5, 1.5}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Build(tc.fs).Locate(tc.p)
			if got != tc.want || ok != (tc.want != "") {
				t.Errorf("Locate(%v) = %q, %v; want %q", tc.p, got, ok, tc.want)
			}
		})
	}
}

// TestLocateLongRings covers the band index of rings with many edges: a
// polygon with a finely wiggled boundary against its plain twin.
func TestLocateLongRings(t *testing.T) {
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{1, 1}}
	cells := GenerateGrids(b, 5, 5, 5)
	big := Dissolve(cells) // one ring of about a hundred and fifty vertices
	if len(big) != 1 || len(big[0][0]) < 2*bandMinEdges {
		t.Fatalf("dissolved shape has %d members, %d vertices", len(big), len(big[0][0]))
	}
	inner := Dissolve(cells[12:13]) // the middle cell: a hole
	withHole := orb.MultiPolygon{{big[0][0], reverse(inner[0][0])}}
	fs := []Feature{{Code: "big", Level: 0, Shape: withHole}}
	ix := Build(fs)
	bi := newBrute(fs)
	rng := rand.New(rand.NewPCG(8, 9))
	for _, p := range testPoints(rng, b, cells, 20_000) {
		got, ok := ix.Locate(p)
		want, wantOK := bi.locate(p)
		if got != want || ok != wantOK {
			t.Fatalf("Locate(%v) = %q, %v; want %q, %v", p, got, ok, want, wantOK)
		}
	}
}

func TestLocateConcurrent(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.2, 30.5}, Max: orb.Point{114.26, 30.54}}
	fs, cells := territoryTree(b, 30, 20, 12)
	ix := Build(fs)
	pts := testPoints(rand.New(rand.NewPCG(5, 6)), b, cells, 2000)
	want := make([]string, len(pts))
	for k, p := range pts {
		want[k], _ = ix.Locate(p)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for k := g; k < len(pts); k += 4 {
				if got, _ := ix.Locate(pts[k]); got != want[k] {
					t.Errorf("concurrent Locate(%v) = %q, want %q", pts[k], got, want[k])
				}
			}
		})
	}
	wg.Wait()
}

func nan() float64 { return math.NaN() }

func reverse(r orb.Ring) orb.Ring {
	out := make(orb.Ring, len(r))
	for k, p := range r {
		out[len(r)-1-k] = p
	}
	return out
}

// TestLocateSpreadOut covers territories far apart (two towns 100 km apart
// with empty land between), where the grid of cells must stay fine enough
// around each. (Much farther apart, maxCells caps the grid and lookups slow
// down gracefully, still exact.)
func TestLocateSpreadOut(t *testing.T) {
	b1 := orb.Bound{Min: orb.Point{114.2, 30.5}, Max: orb.Point{114.26, 30.54}}
	b2 := orb.Bound{Min: orb.Point{115.2, 31.5}, Max: orb.Point{115.26, 31.54}}
	fs1, cells1 := territoryTree(b1, 30, 20, 31)
	fs2, cells2 := territoryTree(b2, 30, 20, 32)
	for k := range fs2 {
		fs2[k].Code = "b" + fs2[k].Code
	}
	fs := append(fs1, fs2...)
	ix := Build(fs)
	most := uint32(0)
	for c := 0; c+1 < len(ix.cells); c++ {
		most = max(most, ix.cells[c+1].start-ix.cells[c].start)
	}
	if most > 12 {
		t.Errorf("a cell has %d candidates; the grid is too coarse", most)
	}
	bi := newBrute(fs)
	rng := rand.New(rand.NewPCG(13, 14))
	pts := append(testPoints(rng, b1, cells1, 10_000), testPoints(rng, b2, cells2, 10_000)...)
	for _, p := range pts {
		got, ok := ix.Locate(p)
		want, wantOK := bi.locate(p)
		if got != want || ok != wantOK {
			t.Fatalf("Locate(%v) = %q, %v; brute force says %q, %v", p, got, ok, want, wantOK)
		}
	}
}
