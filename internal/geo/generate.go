package geo

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/paulmach/orb"
)

// Shape of the generated cells, as fractions of a cell: how far an inner
// lattice vertex may move from its regular position, and how far the extra
// vertices along an edge may leave the straight line. With these bounds two
// edges meeting at a vertex are at least ~20° apart while an edge's wiggle
// stays within ~7° of the edge near its ends, so every cell is a simple ring.
const (
	genJitter = 0.2
	genWiggle = 0.03
)

// GenerateGrids returns a deterministic partition of the rectangle b into
// nx·ny quadrilateral-ish cells: a regular lattice whose inner vertices are
// jittered, with 1–9 extra vertices along every edge, so that each cell has
// 8–40 distinct vertices. Neighbours share their edges vertex for vertex (the
// same float64 values, walked in opposite directions), the outer vertices lie
// exactly on b's sides, and the cells tile b with no gap and no overlap.
// Rings are closed and counter-clockwise. Cells are ordered north to south,
// west to east within a row (cell (row, col) is at index row·nx+col), the
// order in which grids are numbered. The same seed gives the same cells.
func GenerateGrids(b orb.Bound, nx, ny int, seed int64) []orb.Polygon {
	if nx <= 0 || ny <= 0 || !(b.Max[0] > b.Min[0]) || !(b.Max[1] > b.Min[1]) ||
		math.IsInf(b.Max[0]-b.Min[0], 0) || math.IsInf(b.Max[1]-b.Min[1], 0) {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	dx := (b.Max[0] - b.Min[0]) / float64(nx)
	dy := (b.Max[1] - b.Min[1]) / float64(ny)
	jit := func() float64 { return (2*rng.Float64() - 1) * genJitter }

	// Lattice vertex (i, j), j counted from the south.
	vtx := make([]orb.Point, (nx+1)*(ny+1))
	for j := 0; j <= ny; j++ {
		for i := 0; i <= nx; i++ {
			x := b.Min[0] + float64(i)*dx
			y := b.Min[1] + float64(j)*dy
			if i > 0 && i < nx {
				x += jit() * dx
			}
			if j > 0 && j < ny {
				y += jit() * dy
			}
			switch i {
			case 0:
				x = b.Min[0]
			case nx:
				x = b.Max[0]
			}
			switch j {
			case 0:
				y = b.Min[1]
			case ny:
				y = b.Max[1]
			}
			vtx[j*(nx+1)+i] = orb.Point{x, y}
		}
	}

	// The extra vertices of one edge, from a to b. On the outer border they
	// stay exactly on the rectangle's side so the cells tile b exactly.
	edge := func(a, c orb.Point, border bool) []orb.Point {
		k := 1 + rng.IntN(9)
		ex, ey := c[0]-a[0], c[1]-a[1]
		length := math.Hypot(ex, ey)
		nxn, nyn := -ey/length, ex/length // unit normal
		pts := make([]orb.Point, k)
		for m := range k {
			t := (float64(m+1) + 0.6*(rng.Float64()-0.5)) / float64(k+1)
			off := 0.0
			if !border {
				off = (2*rng.Float64() - 1) * genWiggle * 4 * t * (1 - t) * length
			}
			p := orb.Point{a[0] + t*ex + off*nxn, a[1] + t*ey + off*nyn}
			if border && ex == 0 {
				p[0] = a[0]
			}
			if border && ey == 0 {
				p[1] = a[1]
			}
			pts[m] = p
		}
		return pts
	}
	// horiz[j*nx+i]: from vertex (i, j) east to (i+1, j).
	horiz := make([][]orb.Point, (ny+1)*nx)
	for j := 0; j <= ny; j++ {
		for i := 0; i < nx; i++ {
			horiz[j*nx+i] = edge(vtx[j*(nx+1)+i], vtx[j*(nx+1)+i+1], j == 0 || j == ny)
		}
	}
	// vert[j*(nx+1)+i]: from vertex (i, j) north to (i, j+1).
	vert := make([][]orb.Point, ny*(nx+1))
	for j := 0; j < ny; j++ {
		for i := 0; i <= nx; i++ {
			vert[j*(nx+1)+i] = edge(vtx[j*(nx+1)+i], vtx[(j+1)*(nx+1)+i], i == 0 || i == nx)
		}
	}

	cells := make([]orb.Polygon, 0, nx*ny)
	for row := 0; row < ny; row++ {
		j := ny - 1 - row
		for i := 0; i < nx; i++ {
			bottom, right := horiz[j*nx+i], vert[j*(nx+1)+i+1]
			top, left := horiz[(j+1)*nx+i], vert[j*(nx+1)+i]
			r := make(orb.Ring, 0, 5+len(bottom)+len(right)+len(top)+len(left))
			r = append(r, vtx[j*(nx+1)+i])
			r = append(r, bottom...)
			r = append(r, vtx[j*(nx+1)+i+1])
			r = append(r, right...)
			r = append(r, vtx[(j+1)*(nx+1)+i+1])
			r = appendReversed(r, top)
			r = append(r, vtx[(j+1)*(nx+1)+i])
			r = appendReversed(r, left)
			r = append(r, r[0])
			cells = append(cells, orb.Polygon{r})
		}
	}
	return cells
}

func appendReversed(r orb.Ring, pts []orb.Point) orb.Ring {
	for k := len(pts) - 1; k >= 0; k-- {
		r = append(r, pts[k])
	}
	return r
}

// Dissolve merges polygons that share edges exactly (the same vertices on
// both sides, as GenerateGrids and good topological data produce) into the
// multipolygon of their union: edges walked in both directions cancel, and
// what remains is traced into rings, splitting at vertices where pieces touch,
// with holes assigned to the smallest shell around them. It does not
// intersect edges, so polygons that overlap or meet at T-junctions give an
// invalid result; CheckShape will say so. Shells come out counter-clockwise,
// holes clockwise.
func Dissolve(ps []orb.Polygon) orb.MultiPolygon {
	type dirEdge struct{ a, b orb.Point }
	count := map[dirEdge]int{}
	var order []dirEdge // deterministic tracing order
	add := func(a, b orb.Point) {
		if a == b {
			return
		}
		if count[dirEdge{b, a}] > 0 {
			count[dirEdge{b, a}]--
			return
		}
		if count[dirEdge{a, b}] == 0 {
			order = append(order, dirEdge{a, b})
		}
		count[dirEdge{a, b}]++
	}
	for _, poly := range ps {
		for k, r := range poly {
			if len(r) < 3 {
				continue
			}
			// Shells counter-clockwise, holes clockwise: interior on the left.
			ccw := ringArea(r) > 0
			rev := ccw != (k == 0)
			n := len(r)
			for m := range n {
				a, c := r[m], r[(m+1)%n]
				if rev {
					a, c = c, a
				}
				add(a, c)
			}
		}
	}
	out := map[orb.Point][]orb.Point{}
	for _, e := range order {
		for range count[e] {
			out[e.a] = append(out[e.a], e.b)
		}
	}
	var shells, holes []orb.Ring
	for _, e := range order {
		for len(out[e.a]) > 0 && slices.Contains(out[e.a], e.b) {
			r := traceRing(out, e.a, e.b)
			if len(r) < 4 {
				continue
			}
			if ringArea(r) > 0 {
				shells = append(shells, r)
			} else {
				holes = append(holes, r)
			}
		}
	}
	mp := make(orb.MultiPolygon, len(shells))
	areas := make([]float64, len(shells))
	for k, s := range shells {
		mp[k] = orb.Polygon{s}
		areas[k] = ringArea(s)
	}
	for _, h := range holes {
		best := -1
		for k, s := range shells {
			if (best < 0 || areas[k] < areas[best]) && ringEncloses(s, h) {
				best = k
			}
		}
		if best >= 0 {
			mp[best] = append(mp[best], h)
		}
	}
	return mp
}

// traceRing follows unused edges from a→b, at each vertex taking the sharpest
// left turn, which keeps the traced face on the left as small as possible
// and so splits pieces that touch at a vertex into separate rings.
func traceRing(out map[orb.Point][]orb.Point, a, b orb.Point) orb.Ring {
	take := func(from, to orb.Point) {
		s := out[from]
		i := slices.Index(s, to)
		out[from] = slices.Delete(s, i, i+1)
	}
	r := orb.Ring{a}
	take(a, b)
	prev, cur := a, b
	for cur != a {
		r = append(r, cur)
		next := out[cur]
		if len(next) == 0 {
			return nil // an open chain: the input was not a clean partition
		}
		back := math.Atan2(prev[1]-cur[1], prev[0]-cur[0])
		best, bestTurn := 0, math.Inf(1)
		for k, q := range next {
			// Clockwise angle from the way back to the candidate: the smallest
			// is the sharpest left turn.
			turn := back - math.Atan2(q[1]-cur[1], q[0]-cur[0])
			for turn <= 0 {
				turn += 2 * math.Pi
			}
			if turn < bestTurn {
				best, bestTurn = k, turn
			}
		}
		prev, cur = cur, next[best]
		take(prev, cur)
	}
	return append(r, a)
}

// ringArea returns the signed area of r by the shoelace formula, positive
// for a counter-clockwise ring. Coordinates are taken relative to the first
// vertex to keep precision for small rings far from the origin.
func ringArea(r orb.Ring) float64 {
	if len(r) < 3 {
		return 0
	}
	ox, oy := r[0][0], r[0][1]
	var s float64
	n := len(r)
	for k := range n {
		p, q := r[k], r[(k+1)%n]
		s += (p[0]-ox)*(q[1]-oy) - (q[0]-ox)*(p[1]-oy)
	}
	return s / 2
}

// ringEncloses reports whether hole h lies inside ring s, judged by h's
// first vertex that is not a vertex of s (holes may touch shells).
func ringEncloses(s, h orb.Ring) bool {
	for _, p := range h {
		if !slices.Contains(s, p) {
			return ringContains(s, p[0], p[1])
		}
	}
	return false
}
