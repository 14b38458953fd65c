package geo

import (
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// Problem is what is wrong with a shape: a machine key (Reason), the place
// when it is known (At, zero otherwise) and, for overlaps, the code of the
// other feature (Other, set by the caller).
type Problem struct {
	Reason string
	At     orb.Point
	Other  string
}

// The reasons a shape is rejected.
const (
	ReasonEmpty             = "empty"              // no polygon, or a polygon without rings
	ReasonInvalidCoordinate = "invalid_coordinate" // NaN, ±Inf, |lng| > 180 or |lat| > 90
	ReasonTooFewPoints      = "too_few_points"     // fewer than 4 points or 3 distinct vertices in a ring
	ReasonRingNotClosed     = "ring_not_closed"    // first point differs from the last
	ReasonSelfIntersection  = "self_intersection"  // rings cross, touch themselves, share a stretch, or members overlap
	ReasonHoleOutsideShell  = "hole_outside_shell" // a hole not inside its shell, or inside another hole
	ReasonNotWithinParent   = "not_within_parent"  // for callers: Within said no
	ReasonOverlapsSibling   = "overlaps_sibling"   // for callers: Overlaps said yes
)

func (p *Problem) Error() string {
	s := "geo: " + p.Reason
	if p.At != (orb.Point{}) {
		s += fmt.Sprintf(" at (%g, %g)", p.At[0], p.At[1])
	}
	if p.Other != "" {
		s += " with " + p.Other
	}
	return s
}

// Bound returns the bounding box of every point of mp (an empty orb.Bound,
// with Min > Max, when mp has no points).
func Bound(mp orb.MultiPolygon) orb.Bound {
	b := orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}
	seen := false
	for _, poly := range mp {
		for _, r := range poly {
			for _, p := range r {
				b.Min[0], b.Min[1] = math.Min(b.Min[0], p[0]), math.Min(b.Min[1], p[1])
				b.Max[0], b.Max[1] = math.Max(b.Max[0], p[0]), math.Max(b.Max[1], p[1])
				seen = true
			}
		}
	}
	if !seen {
		return orb.Bound{Min: orb.Point{1, 1}, Max: orb.Point{-1, -1}}
	}
	return b
}

func validCoord(p orb.Point) bool {
	// The comparisons are false for NaN, and ±Inf is out of range.
	return p[0] >= -180 && p[0] <= 180 && p[1] >= -90 && p[1] <= 90
}

// ring is a ring prepared for checking: consecutive duplicate points and the
// closing point removed, so v[k] → v[(k+1)%n] are its edges.
type ring struct {
	v    []orb.Point
	poly int // member of the multipolygon
	hole bool
	b    orb.Bound
}

func (r *ring) edge(k int) (orb.Point, orb.Point) {
	return r.v[k], r.v[(k+1)%len(r.v)]
}

// CheckShape returns nil when mp is a shape the locator and the checks can
// rely on, or the first problem found, checked in this order: empty,
// invalid_coordinate, too_few_points / ring_not_closed, self_intersection
// (any ring crossing or touching itself, including spikes; two rings of the
// shape crossing or sharing a stretch of boundary; two members overlapping),
// hole_outside_shell. Distinct rings may touch at single points. Connectedness
// of a polygon's interior (a hole touching its shell at two points) is not
// checked.
func CheckShape(mp orb.MultiPolygon) *Problem {
	if len(mp) == 0 {
		return &Problem{Reason: ReasonEmpty}
	}
	for _, poly := range mp {
		if len(poly) == 0 {
			return &Problem{Reason: ReasonEmpty}
		}
		for _, r := range poly {
			for _, p := range r {
				if !validCoord(p) {
					return &Problem{Reason: ReasonInvalidCoordinate, At: p}
				}
			}
		}
	}
	var rings []ring
	for pi, poly := range mp {
		for k, r := range poly {
			switch {
			case len(r) < 4:
				var at orb.Point
				if len(r) > 0 {
					at = r[0]
				}
				return &Problem{Reason: ReasonTooFewPoints, At: at}
			case r[0] != r[len(r)-1]:
				return &Problem{Reason: ReasonRingNotClosed, At: r[len(r)-1]}
			}
			v := make([]orb.Point, 0, len(r)-1)
			for _, p := range r[:len(r)-1] {
				if len(v) == 0 || v[len(v)-1] != p {
					v = append(v, p)
				}
			}
			for len(v) > 1 && v[len(v)-1] == v[0] {
				v = v[:len(v)-1]
			}
			if len(v) < 3 {
				return &Problem{Reason: ReasonTooFewPoints, At: r[0]}
			}
			rings = append(rings, ring{v: v, poly: pi, hole: k > 0, b: orb.MultiPoint(v).Bound()})
		}
	}
	if p := checkCrossings(rings); p != nil {
		return p
	}
	return checkNesting(rings)
}

// segID names edge k of ring r.
type segID struct{ r, k int32 }

// checkCrossings finds pairs of edges that meet where they should not. Pairs
// are found with an R-tree over the edges' boxes when there are many.
func checkCrossings(rings []ring) *Problem {
	var segs []segID
	for r := range rings {
		for k := range rings[r].v {
			segs = append(segs, segID{int32(r), int32(k)})
		}
	}
	pair := func(s, t segID) *Problem {
		return checkPair(rings, s, t)
	}
	if len(segs) <= 64 {
		for i := range segs {
			for j := i + 1; j < len(segs); j++ {
				if p := pair(segs[i], segs[j]); p != nil {
					return p
				}
			}
		}
		return nil
	}
	var tr rtree.RTreeG[int]
	for i, s := range segs {
		a, b := rings[s.r].edge(int(s.k))
		tr.Insert(segMin(a, b), segMax(a, b), i)
	}
	var found *Problem
	for i, s := range segs {
		a, b := rings[s.r].edge(int(s.k))
		tr.Search(segMin(a, b), segMax(a, b), func(_, _ [2]float64, j int) bool {
			if j <= i {
				return true
			}
			found = pair(s, segs[j])
			return found == nil
		})
		if found != nil {
			return found
		}
	}
	return nil
}

func segMin(a, b orb.Point) [2]float64 { return [2]float64{min(a[0], b[0]), min(a[1], b[1])} }
func segMax(a, b orb.Point) [2]float64 { return [2]float64{max(a[0], b[0]), max(a[1], b[1])} }

func checkPair(rings []ring, s, t segID) *Problem {
	rs, rt := &rings[s.r], &rings[t.r]
	a, b := rs.edge(int(s.k))
	c, d := rt.edge(int(t.k))
	rel, at := relate(a, b, c, d)
	if rel == relNone {
		return nil
	}
	if s.r == t.r {
		n := int32(len(rs.v))
		adjacent := (s.k+1)%n == t.k || (t.k+1)%n == s.k
		// Neighbouring edges meet at their shared vertex; anything more is
		// a spike doubling back along the ring.
		if adjacent && rel == relTouch {
			return nil
		}
		return &Problem{Reason: ReasonSelfIntersection, At: at}
	}
	if rel != relTouch {
		return &Problem{Reason: ReasonSelfIntersection, At: at}
	}
	// Two rings meeting at one point is allowed, unless one passes through
	// the other there.
	a1, a2 := around(rs, int(s.k), at)
	b1, b2 := around(rt, int(t.k), at)
	if inWedge(at, a1, a2, b1) != inWedge(at, a1, a2, b2) {
		return &Problem{Reason: ReasonSelfIntersection, At: at}
	}
	return nil
}

// around returns the two points next to p along ring r, given that p lies on
// edge k: the ends of the edge when p is inside it, or the vertices before
// and after p when p is one of its ends.
func around(r *ring, k int, p orb.Point) (orb.Point, orb.Point) {
	n := len(r.v)
	a, b := r.edge(k)
	switch p {
	case a:
		return r.v[(k+n-1)%n], b
	case b:
		return a, r.v[(k+2)%n]
	}
	return a, b
}

// inWedge reports whether q lies strictly inside the sector swept
// counter-clockwise from the ray t→a1 to the ray t→a2. A q on either ray
// counts as outside; that case is a shared stretch of boundary, which is
// reported as an overlap of edges.
func inWedge(t, a1, a2, q orb.Point) bool {
	o := func(p, r orb.Point) int { return orient(t[0], t[1], p[0], p[1], r[0], r[1]) }
	switch o12 := o(a1, a2); {
	case o12 > 0:
		return o(a1, q) > 0 && o(q, a2) > 0
	case o12 < 0:
		return !(o(a2, q) >= 0 && o(q, a1) >= 0)
	default: // a straight line through t: the half-plane to the left of t→a1
		return o(a1, q) > 0
	}
}

type segRel int

const (
	relNone    segRel = iota
	relTouch          // the segments share exactly one point, an end of one of them
	relCross          // they cross at a point inside both
	relOverlap        // collinear, sharing a stretch of positive length
)

// relate classifies how segments a–b and c–d meet and returns a point where
// they do, using the exact orientation predicate.
func relate(a, b, c, d orb.Point) (segRel, orb.Point) {
	if max(a[0], b[0]) < min(c[0], d[0]) || max(c[0], d[0]) < min(a[0], b[0]) ||
		max(a[1], b[1]) < min(c[1], d[1]) || max(c[1], d[1]) < min(a[1], b[1]) {
		return relNone, orb.Point{}
	}
	d1 := orient(a[0], a[1], b[0], b[1], c[0], c[1])
	d2 := orient(a[0], a[1], b[0], b[1], d[0], d[1])
	if d1 == 0 && d2 == 0 {
		return relateCollinear(a, b, c, d)
	}
	d3 := orient(c[0], c[1], d[0], d[1], a[0], a[1])
	d4 := orient(c[0], c[1], d[0], d[1], b[0], b[1])
	if d1*d2 < 0 && d3*d4 < 0 {
		return relCross, crossPoint(a, b, c, d)
	}
	switch {
	case d1 == 0 && within(a, b, c):
		return relTouch, c
	case d2 == 0 && within(a, b, d):
		return relTouch, d
	case d3 == 0 && within(c, d, a):
		return relTouch, a
	case d4 == 0 && within(c, d, b):
		return relTouch, b
	}
	return relNone, orb.Point{}
}

func relateCollinear(a, b, c, d orb.Point) (segRel, orb.Point) {
	// Compare along the axis in which the line is longer (exact: the
	// points are collinear, so order on that axis is order on the line).
	ax := 0
	if math.Abs(b[1]-a[1])+math.Abs(d[1]-c[1]) > math.Abs(b[0]-a[0])+math.Abs(d[0]-c[0]) {
		ax = 1
	}
	lo1, hi1 := a, b
	if hi1[ax] < lo1[ax] {
		lo1, hi1 = hi1, lo1
	}
	lo2, hi2 := c, d
	if hi2[ax] < lo2[ax] {
		lo2, hi2 = hi2, lo2
	}
	lo, hi := lo1, hi1
	if lo2[ax] > lo[ax] {
		lo = lo2
	}
	if hi2[ax] < hi[ax] {
		hi = hi2
	}
	switch {
	case lo[ax] > hi[ax]:
		return relNone, orb.Point{}
	case lo[ax] == hi[ax]:
		return relTouch, lo
	}
	return relOverlap, lo
}

// within reports whether p, known to be collinear with a–b, lies on it.
func within(a, b, p orb.Point) bool {
	return p[0] >= min(a[0], b[0]) && p[0] <= max(a[0], b[0]) &&
		p[1] >= min(a[1], b[1]) && p[1] <= max(a[1], b[1])
}

// onSegment reports exactly whether p lies on the closed segment a–b.
func onSegment(a, b, p orb.Point) bool {
	return orient(a[0], a[1], b[0], b[1], p[0], p[1]) == 0 && within(a, b, p)
}

// crossPoint returns the approximate point where two crossing segments meet,
// for reporting.
func crossPoint(a, b, c, d orb.Point) orb.Point {
	rx, ry := b[0]-a[0], b[1]-a[1]
	sx, sy := d[0]-c[0], d[1]-c[1]
	den := rx*sy - ry*sx
	if den == 0 {
		return a
	}
	t := ((c[0]-a[0])*sy - (c[1]-a[1])*sx) / den
	return orb.Point{a[0] + t*rx, a[1] + t*ry}
}

// checkNesting runs once rings are known to meet only at single points, so a
// ring lies wholly on one side of any other and one of its points off the
// other's boundary tells which side.
func checkNesting(rings []ring) *Problem {
	shell := map[int]int{} // member → index of its shell in rings
	for i := range rings {
		if !rings[i].hole {
			shell[rings[i].poly] = i
		}
	}
	for i := range rings {
		h := &rings[i]
		if !h.hole {
			continue
		}
		s := &rings[shell[h.poly]]
		if p, ok := pointOff(h, s); !ok || !ringContains(orb.Ring(s.v), p[0], p[1]) {
			return &Problem{Reason: ReasonHoleOutsideShell, At: h.v[0]}
		}
		for j := i + 1; j < len(rings); j++ {
			g := &rings[j]
			if !g.hole || g.poly != h.poly || !h.b.Intersects(g.b) {
				continue
			}
			if p, ok := pointOff(h, g); ok && ringContains(orb.Ring(g.v), p[0], p[1]) {
				return &Problem{Reason: ReasonHoleOutsideShell, At: p}
			}
			if p, ok := pointOff(g, h); ok && ringContains(orb.Ring(h.v), p[0], p[1]) {
				return &Problem{Reason: ReasonHoleOutsideShell, At: p}
			}
		}
	}
	// Members must not overlap: no member's shell may lie inside another
	// member (a member inside another's hole is fine).
	members := make([][]*ring, 0, len(shell))
	for i := range rings {
		if m := rings[i].poly; m >= len(members) {
			members = append(members, nil)
		}
		members[len(members)-1] = append(members[len(members)-1], &rings[i])
	}
	for i, mi := range members {
		for j, mj := range members {
			if i == j || !mi[0].b.Intersects(mj[0].b) {
				continue
			}
			p, ok := pointOffAll(mi[0], mj)
			if ok && memberContains(mj, p) {
				return &Problem{Reason: ReasonSelfIntersection, At: p}
			}
		}
	}
	return nil
}

func memberContains(m []*ring, p orb.Point) bool {
	if !ringContains(orb.Ring(m[0].v), p[0], p[1]) {
		return false
	}
	for _, h := range m[1:] {
		if ringContains(orb.Ring(h.v), p[0], p[1]) {
			return false
		}
	}
	return true
}

// pointOff returns a vertex of r, or failing that the midpoint of one of its
// edges, that is not on other's boundary.
func pointOff(r, other *ring) (orb.Point, bool) {
	return pointOffAll(r, []*ring{other})
}

func pointOffAll(r *ring, others []*ring) (orb.Point, bool) {
	on := func(p orb.Point) bool {
		for _, o := range others {
			if !o.b.Contains(p) {
				continue
			}
			for k := range o.v {
				a, b := o.edge(k)
				if onSegment(a, b, p) {
					return true
				}
			}
		}
		return false
	}
	for _, p := range r.v {
		if !on(p) {
			return p, true
		}
	}
	for k := range r.v {
		a, b := r.edge(k)
		if p := (orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}); !on(p) {
			return p, true
		}
	}
	return orb.Point{}, false
}

// Centroid returns the area-weighted centre of mp (holes subtract). It may
// lie outside a concave shape; use InteriorPoint for a point that is inside.
// For shapes without area it is the mean of the vertices, and the zero point
// for an empty shape.
func Centroid(mp orb.MultiPolygon) orb.Point {
	var sa, sx, sy float64
	var n int
	var mx, my float64
	for _, poly := range mp {
		for k, r := range poly {
			if len(r) == 0 {
				continue
			}
			a, cx, cy := ringMoments(r)
			// Shells add and holes subtract, whatever their winding.
			if (k == 0) != (a > 0) {
				a, cx, cy = -a, -cx, -cy
			}
			sa += a
			sx += cx
			sy += cy
			end := len(r)
			if end > 1 && r[0] == r[end-1] {
				end--
			}
			for _, p := range r[:end] {
				mx += p[0]
				my += p[1]
				n++
			}
		}
	}
	switch {
	case sa != 0 && !math.IsNaN(sa):
		return orb.Point{sx / sa, sy / sa}
	case n > 0:
		return orb.Point{mx / float64(n), my / float64(n)}
	}
	return orb.Point{}
}

// ringMoments returns the signed area of r and its first moments (area times
// centroid), computed relative to the first vertex for precision.
func ringMoments(r orb.Ring) (a, mx, my float64) {
	ox, oy := r[0][0], r[0][1]
	n := len(r)
	for k := range n {
		x1, y1 := r[k][0]-ox, r[k][1]-oy
		x2, y2 := r[(k+1)%n][0]-ox, r[(k+1)%n][1]-oy
		c := x1*y2 - x2*y1
		a += c
		mx += (x1 + x2) * c
		my += (y1 + y2) * c
	}
	a /= 2
	// Moments about the origin: Σ(x1+x2)c/6 is area·centroid relative to
	// (ox, oy); shift back by area·(ox, oy).
	return a, mx/6 + a*ox, my/6 + a*oy
}

// InteriorPoint returns a point that Contains(mp, point) accepts, for labels
// and tests: on a horizontal line through a member (the largest first), the
// middle of the widest stretch inside it, trying lines near the middle of
// the member first and verifying the result. For a shape without area it
// falls back to Centroid, which is then not inside.
func InteriorPoint(mp orb.MultiPolygon) orb.Point {
	order := make([]int, len(mp))
	areas := make([]float64, len(mp))
	for k, poly := range mp {
		order[k] = k
		if len(poly) > 0 && len(poly[0]) > 2 {
			areas[k] = math.Abs(ringArea(poly[0]))
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case areas[a] > areas[b]:
			return -1
		case areas[a] < areas[b]:
			return 1
		}
		return 0
	})
	for _, k := range order {
		if p, ok := polygonInteriorPoint(mp[k]); ok {
			return p
		}
	}
	return Centroid(mp)
}

// polygonInteriorPoint tries horizontal lines halfway between consecutive
// distinct vertex heights, so no line passes through a vertex, nearest the
// middle first, and keeps the widest verified stretch among the first few
// lines that yield one.
func polygonInteriorPoint(poly orb.Polygon) (orb.Point, bool) {
	if len(poly) == 0 || len(poly[0]) < 3 {
		return orb.Point{}, false
	}
	var ys []float64
	for _, r := range poly {
		for _, p := range r {
			if !math.IsNaN(p[1]) && !math.IsInf(p[1], 0) {
				ys = append(ys, p[1])
			}
		}
	}
	slices.Sort(ys)
	ys = slices.Compact(ys)
	if len(ys) < 2 {
		return orb.Point{}, false
	}
	mid := (ys[0] + ys[len(ys)-1]) / 2
	var lines []float64
	for k := 0; k+1 < len(ys); k++ {
		y := ys[k] + (ys[k+1]-ys[k])/2
		if y > ys[k] && y < ys[k+1] {
			lines = append(lines, y)
		}
	}
	slices.SortStableFunc(lines, func(a, b float64) int {
		da, db := math.Abs(a-mid), math.Abs(b-mid)
		switch {
		case da < db:
			return -1
		case da > db:
			return 1
		}
		return 0
	})
	var best orb.Point
	bestW, tried := -1.0, 0
	var xs []float64
	for _, y := range lines {
		xs = xs[:0]
		for _, r := range poly {
			n := len(r)
			for k := range n {
				a, b := r[k], r[(k+1)%n]
				if (a[1] > y) != (b[1] > y) {
					xs = append(xs, a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]))
				}
			}
		}
		slices.Sort(xs)
		found := false
		for k := 0; k+1 < len(xs); k += 2 {
			w := xs[k+1] - xs[k]
			p := orb.Point{xs[k] + w/2, y}
			if w > bestW && polygonContains(poly, p[0], p[1]) {
				best, bestW, found = p, w, true
			}
		}
		if found {
			if tried++; tried == 5 {
				break
			}
		}
	}
	return best, bestW >= 0
}
