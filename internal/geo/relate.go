package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// metersPerDegree is the length of one degree along a great circle of the
// WGS84 equatorial radius; a degree of longitude is cos(lat) of it.
const metersPerDegree = 6378137 * math.Pi / 180

// minTol is the tolerance used when the caller asks for none: a micrometre,
// enough to absorb the rounding of projecting shapes that share edges.
const minTol = 1e-6

// Within reports whether inner lies inside outer, allowing inner to stick out
// by at most tolMeters: every point of inner's boundary must be inside outer
// or within tolMeters of outer's boundary, and no hole of outer wider than
// the tolerance may lie inside inner. An empty inner is within anything;
// nothing non-empty is within an empty outer.
func Within(inner, outer orb.MultiPolygon, tolMeters float64) bool {
	if !hasPoints(inner) {
		return true
	}
	if !hasPoints(outer) {
		return false
	}
	tol := clampTol(tolMeters)
	pl := newPlane(Bound(inner).Union(Bound(outer)))
	in, out := pl.project(inner), pl.project(outer)
	if !Bound(out).Pad(tol+minTol).Contains(Bound(in).Min) || !Bound(out).Pad(tol+minTol).Contains(Bound(in).Max) {
		return false
	}
	oe := newEdgeSet(out)
	for _, poly := range in {
		if len(poly) == 0 {
			continue
		}
		// The shell bounds the member; its holes cannot reach further.
		var stray bool
		eachEdge(poly[0], func(a, b orb.Point) bool {
			stray = strays(a, b, out, oe, false, tol)
			return !stray
		})
		if stray {
			return false
		}
	}
	// The boundaries agree; what is left is a hole of outer that inner
	// covers, such as a child drawn without the lake its parent leaves out.
	for _, poly := range out {
		for _, h := range poly[1:] {
			p := InteriorPoint(orb.MultiPolygon{{h}})
			if !Contains(out, p) && oe.farFrom(p, tol) && Contains(in, p) {
				return false
			}
		}
	}
	return true
}

// Overlaps reports whether the interiors of a and b overlap by more than
// tolMeters: some point of one's boundary lies inside the other farther than
// tolMeters from the other's boundary, or a member of one has an interior
// point inside the other farther than that from the other's boundary (which
// catches identical shapes and shapes whose boundaries coincide). Shared edges,
// touching corners and slivers thinner than the tolerance are not overlaps.
func Overlaps(a, b orb.MultiPolygon, tolMeters float64) bool {
	if !hasPoints(a) || !hasPoints(b) {
		return false
	}
	ba, bb := Bound(a), Bound(b)
	if !ba.Intersects(bb) {
		return false
	}
	tol := clampTol(tolMeters)
	pl := newPlane(ba.Union(bb))
	pa, pb := pl.project(a), pl.project(b)
	ea, eb := newEdgeSet(pa), newEdgeSet(pb)
	if boundaryEnters(pa, pb, eb, tol) || boundaryEnters(pb, pa, ea, tol) {
		return true
	}
	for _, m := range pa {
		if p := InteriorPoint(orb.MultiPolygon{m}); Contains(pb, p) && eb.farFrom(p, tol) {
			return true
		}
	}
	for _, m := range pb {
		if p := InteriorPoint(orb.MultiPolygon{m}); Contains(pa, p) && ea.farFrom(p, tol) {
			return true
		}
	}
	return false
}

// boundaryEnters reports whether some edge of s runs inside other farther
// than tol from other's boundary.
func boundaryEnters(s, other orb.MultiPolygon, oe *edgeSet, tol float64) bool {
	for _, poly := range s {
		for _, r := range poly {
			var stray bool
			eachEdge(r, func(a, b orb.Point) bool {
				stray = strays(a, b, other, oe, true, tol)
				return !stray
			})
			if stray {
				return true
			}
		}
	}
	return false
}

func clampTol(t float64) float64 {
	if !(t > minTol) { // also NaN
		return minTol
	}
	return t
}

func hasPoints(mp orb.MultiPolygon) bool {
	for _, poly := range mp {
		for _, r := range poly {
			if len(r) > 0 {
				return true
			}
		}
	}
	return false
}

// plane is a local equirectangular projection to metres about a centre.
type plane struct{ lng0, lat0, kx, ky float64 }

func newPlane(b orb.Bound) plane {
	c := b.Center()
	return plane{lng0: c[0], lat0: c[1], kx: metersPerDegree * math.Cos(c[1]*math.Pi/180), ky: metersPerDegree}
}

func (pl plane) project(mp orb.MultiPolygon) orb.MultiPolygon {
	out := make(orb.MultiPolygon, len(mp))
	for k, poly := range mp {
		out[k] = make(orb.Polygon, len(poly))
		for j, r := range poly {
			pr := make(orb.Ring, len(r))
			for i, p := range r {
				pr[i] = orb.Point{(p[0] - pl.lng0) * pl.kx, (p[1] - pl.lat0) * pl.ky}
			}
			out[k][j] = pr
		}
	}
	return out
}

// eachEdge calls fn for every edge of r, including the closing edge when r is
// not closed, until fn returns false.
func eachEdge(r orb.Ring, fn func(a, b orb.Point) bool) {
	n := len(r)
	for k := 0; k < n; k++ {
		a, b := r[k], r[(k+1)%n]
		if k == n-1 && (n < 2 || a == b) {
			break
		}
		if !fn(a, b) {
			return
		}
	}
}

// edgeSet holds a shape's edges for proximity queries, with an R-tree over
// their boxes when there are enough of them to be worth one.
type edgeSet struct {
	segs [][2]orb.Point
	tr   *rtree.RTreeG[int]
}

func newEdgeSet(mp orb.MultiPolygon) *edgeSet {
	es := &edgeSet{}
	for _, poly := range mp {
		for _, r := range poly {
			eachEdge(r, func(a, b orb.Point) bool {
				es.segs = append(es.segs, [2]orb.Point{a, b})
				return true
			})
		}
	}
	if len(es.segs) > 32 {
		es.tr = &rtree.RTreeG[int]{}
		for k, s := range es.segs {
			es.tr.Insert(segMin(s[0], s[1]), segMax(s[0], s[1]), k)
		}
	}
	return es
}

// near calls fn with every edge whose box meets [lo, hi].
func (es *edgeSet) near(lo, hi [2]float64, fn func(s [2]orb.Point)) {
	if es.tr != nil {
		es.tr.Search(lo, hi, func(_, _ [2]float64, k int) bool {
			fn(es.segs[k])
			return true
		})
		return
	}
	for _, s := range es.segs {
		if max(s[0][0], s[1][0]) >= lo[0] && min(s[0][0], s[1][0]) <= hi[0] &&
			max(s[0][1], s[1][1]) >= lo[1] && min(s[0][1], s[1][1]) <= hi[1] {
			fn(s)
		}
	}
}

// farFrom reports whether p is farther than tol from every edge.
func (es *edgeSet) farFrom(p orb.Point, tol float64) bool {
	far := true
	es.near([2]float64{p[0] - tol, p[1] - tol}, [2]float64{p[0] + tol, p[1] + tol}, func(s [2]orb.Point) {
		if far && segDist2(s[0], s[1], p) <= tol*tol {
			far = false
		}
	})
	return far
}

func segDist2(a, b, p orb.Point) float64 {
	vx, vy := b[0]-a[0], b[1]-a[1]
	wx, wy := p[0]-a[0], p[1]-a[1]
	l2 := vx*vx + vy*vy
	t := 0.0
	if l2 > 0 {
		t = min(max((wx*vx+wy*vy)/l2, 0), 1)
	}
	dx, dy := wx-t*vx, wy-t*vy
	return dx*dx + dy*dy
}

// strays reports whether part of the edge a–b lies on the given side of other
// (inside when inside is true) farther than tol from other's boundary. The
// edge is cut where it meets other's boundary; each piece is then wholly on
// one side, judged at its middle, and a piece on that side must be covered by
// the capsules of radius tol around other's edges.
func strays(a, b orb.Point, other orb.MultiPolygon, oe *edgeSet, inside bool, tol float64) bool {
	ts := []float64{0, 1}
	lo, hi := segMin(a, b), segMax(a, b)
	rx, ry := b[0]-a[0], b[1]-a[1]
	const eps = 1e-9
	oe.near(lo, hi, func(s [2]orb.Point) {
		c, d := s[0], s[1]
		sx, sy := d[0]-c[0], d[1]-c[1]
		qx, qy := c[0]-a[0], c[1]-a[1]
		den := rx*sy - ry*sx
		scale := math.Hypot(rx, ry) * math.Hypot(sx, sy)
		if math.Abs(den) > 1e-12*scale {
			t := (qx*sy - qy*sx) / den
			u := (qx*ry - qy*rx) / den
			if t >= -eps && t <= 1+eps && u >= -eps && u <= 1+eps {
				ts = append(ts, min(max(t, 0), 1))
			}
			return
		}
		// Parallel: where the other edge's ends project onto this one.
		if l2 := rx*rx + ry*ry; l2 > 0 {
			for _, e := range [2]orb.Point{c, d} {
				if t := ((e[0]-a[0])*rx + (e[1]-a[1])*ry) / l2; t > 0 && t < 1 {
					ts = append(ts, t)
				}
			}
		}
	})
	slices.Sort(ts)
	for k := 0; k+1 < len(ts); k++ {
		t0, t1 := ts[k], ts[k+1]
		if t1 <= t0 {
			continue
		}
		tm := (t0 + t1) / 2
		mid := orb.Point{a[0] + tm*rx, a[1] + tm*ry}
		if Contains(other, mid) != inside {
			continue
		}
		p := orb.Point{a[0] + t0*rx, a[1] + t0*ry}
		q := orb.Point{a[0] + t1*rx, a[1] + t1*ry}
		if !covered(p, q, oe, tol) {
			return true
		}
	}
	return false
}

// covered reports whether every point of p–q is within tol of some edge: the
// union of the stretches of p–q inside each edge's capsule spans all of it.
func covered(p, q orb.Point, oe *edgeSet, tol float64) bool {
	var spans [][2]float64
	lo, hi := segMin(p, q), segMax(p, q)
	lo[0], lo[1], hi[0], hi[1] = lo[0]-tol, lo[1]-tol, hi[0]+tol, hi[1]+tol
	oe.near(lo, hi, func(s [2]orb.Point) {
		if t0, t1, ok := capsuleSpan(p, q, s[0], s[1], tol); ok {
			spans = append(spans, [2]float64{t0, t1})
		}
	})
	slices.SortFunc(spans, func(x, y [2]float64) int {
		switch {
		case x[0] < y[0]:
			return -1
		case x[0] > y[0]:
			return 1
		}
		return 0
	})
	const slack = 1e-9
	reach := 0.0
	for _, s := range spans {
		if s[0] > reach+slack {
			return false
		}
		reach = max(reach, s[1])
	}
	return reach >= 1-slack
}

// capsuleSpan returns the parameters t ∈ [0, 1] of p + t(q-p) within r of
// the segment c–d. The capsule is convex, so they form one interval: the
// hull of the intervals inside the discs at c and d and the band along c–d.
func capsuleSpan(p, q, c, d orb.Point, r float64) (float64, float64, bool) {
	vx, vy := q[0]-p[0], q[1]-p[1]
	lo, hi := math.Inf(1), math.Inf(-1)
	add := func(t0, t1 float64) {
		t0, t1 = max(t0, 0), min(t1, 1)
		if t0 <= t1 {
			lo, hi = min(lo, t0), max(hi, t1)
		}
	}
	for _, e := range [2]orb.Point{c, d} {
		wx, wy := p[0]-e[0], p[1]-e[1]
		A := vx*vx + vy*vy
		B := 2 * (vx*wx + vy*wy)
		C := wx*wx + wy*wy - r*r
		if A == 0 {
			if C <= 0 {
				add(0, 1)
			}
			continue
		}
		if disc := B*B - 4*A*C; disc >= 0 {
			sq := math.Sqrt(disc)
			add((-B-sq)/(2*A), (-B+sq)/(2*A))
		}
	}
	ux, uy := d[0]-c[0], d[1]-c[1]
	if l := math.Hypot(ux, uy); l > 0 {
		ux, uy = ux/l, uy/l
		wx, wy := p[0]-c[0], p[1]-c[1]
		// Along the edge s(t) = s0 + t·s1 must lie in [0, l]; across it
		// n(t) = n0 + t·n1 in [-r, r].
		s0, s1 := wx*ux+wy*uy, vx*ux+vy*uy
		n0, n1 := -wx*uy+wy*ux, -vx*uy+vy*ux
		t0, t1 := 0.0, 1.0
		clip := func(v0, v1, vmin, vmax float64) {
			if v1 == 0 {
				if v0 < vmin || v0 > vmax {
					t0, t1 = 1, 0
				}
				return
			}
			a, b := (vmin-v0)/v1, (vmax-v0)/v1
			if a > b {
				a, b = b, a
			}
			t0, t1 = math.Max(t0, a), math.Min(t1, b)
		}
		clip(s0, s1, 0, l)
		clip(n0, n1, -r, r)
		add(t0, t1)
	}
	return lo, hi, lo <= hi
}
