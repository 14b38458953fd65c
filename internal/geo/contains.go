package geo

import (
	"math"
	"math/big"

	"github.com/paulmach/orb"
)

// Contains reports whether p lies in mp by the package's edge rule: inside
// some member's exterior ring and inside none of that member's holes, each
// ring decided by the eastward crossing-number test evaluated exactly.
func Contains(mp orb.MultiPolygon, p orb.Point) bool {
	for _, poly := range mp {
		if polygonContains(poly, p[0], p[1]) {
			return true
		}
	}
	return false
}

func polygonContains(poly orb.Polygon, x, y float64) bool {
	if len(poly) == 0 || !ringContains(poly[0], x, y) {
		return false
	}
	for _, h := range poly[1:] {
		if ringContains(h, x, y) {
			return false
		}
	}
	return true
}

// ringContains is the crossing-number test. The closing edge (last → first)
// is always included: for a closed ring it has length zero and never counts,
// and an unclosed ring is treated as if it were closed.
func ringContains(r orb.Ring, x, y float64) bool {
	n := len(r)
	if n < 2 {
		return false
	}
	in := false
	xi, yi := r[n-1][0], r[n-1][1]
	for _, q := range r {
		xj, yj := q[0], q[1]
		if (yi > y) != (yj > y) && westOf(xi, yi, xj, yj, x, y) {
			in = !in
		}
		xi, yi = xj, yj
	}
	return in
}

// westOf reports whether (x, y) lies strictly west of the non-horizontal edge
// (xi,yi)-(xj,yj) at height y, that is x < xIntersect, decided exactly: the
// point is west exactly when it is left of the edge directed upwards.
func westOf(xi, yi, xj, yj, x, y float64) bool {
	o := orient(xi, yi, xj, yj, x, y)
	if yj > yi {
		return o > 0
	}
	return o < 0
}

// ccwErrBound is Shewchuk's bound on the rounding error of the orientation
// determinant computed in float64 ((3 + 16ε)ε, ε = 2⁻⁵³): a computed value
// larger in magnitude than ccwErrBound·(|l|+|r|) has the true sign.
const ccwErrBound = (3.0 + 16.0*0x1p-53) * 0x1p-53

// tinyProducts is where the error bound stops holding because products may
// underflow into the subnormal range; below it the exact path decides.
const tinyProducts = 0x1p-960

// orient returns the sign of the cross product (b-a)×(c-a): +1 when c lies to
// the left of the directed line a→b, -1 to the right, 0 on it. The float64
// filter decides nearly every call; the rest are computed exactly.
func orient(ax, ay, bx, by, cx, cy float64) int {
	l := (bx - ax) * (cy - ay)
	r := (by - ay) * (cx - ax)
	det := l - r
	sum := math.Abs(l) + math.Abs(r)
	bound := ccwErrBound * sum
	if sum > tinyProducts {
		if det > bound {
			return 1
		}
		if -det > bound {
			return -1
		}
	}
	// A point at either end, common when edges of one ring are related,
	// needs no arithmetic.
	if cx == ax && cy == ay || cx == bx && cy == by || ax == bx && ay == by {
		return 0
	}
	return orientExact(ax, ay, bx, by, cx, cy, det)
}

// orientExact decides the orientation exactly. Within a wide range of
// magnitudes it uses error-free transformations: each coordinate difference
// becomes an exact two-term sum, each product of those an exact sum of
// products split with FMA, and the sign of the 16-term total is read from
// its nonoverlapping expansion, all without allocating. Outside that range
// (where products could underflow or overflow) it falls back to rational
// arithmetic. Coordinates that are not finite have no exact value; their
// float64 result (or 0 for NaN) is returned so that every input gets an
// answer without a panic.
func orientExact(ax, ay, bx, by, cx, cy, det float64) int {
	for _, v := range [...]float64{ax, ay, bx, by, cx, cy} {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			switch {
			case det > 0:
				return 1
			case det < 0:
				return -1
			}
			return 0
		}
	}
	var d [4][2]float64 // bx-ax, cy-ay, by-ay, cx-ax as exact hi+lo pairs
	d[0][0], d[0][1] = twoDiff(bx, ax)
	d[1][0], d[1][1] = twoDiff(cy, ay)
	d[2][0], d[2][1] = twoDiff(by, ay)
	d[3][0], d[3][1] = twoDiff(cx, ax)
	for _, pair := range d {
		for _, v := range pair {
			if a := math.Abs(v); v != 0 && (a < 0x1p-450 || a > 0x1p450 || math.IsInf(v, 0)) {
				return orientRat(ax, ay, bx, by, cx, cy)
			}
		}
	}
	var e [17]float64
	n := 0
	for i := range 2 {
		for j := range 2 {
			p, q := twoProduct(d[0][i], d[1][j])
			n = growExpansion(e[:], n, p)
			n = growExpansion(e[:], n, q)
			p, q = twoProduct(d[2][i], d[3][j])
			n = growExpansion(e[:], n, -p)
			n = growExpansion(e[:], n, -q)
		}
	}
	// The components do not overlap and grow in magnitude, so the last
	// nonzero one carries the sign of the sum.
	for k := n - 1; k >= 0; k-- {
		switch {
		case e[k] > 0:
			return 1
		case e[k] < 0:
			return -1
		}
	}
	return 0
}

// twoDiff returns s, err with s = fl(a-b) and s+err = a-b exactly.
func twoDiff(a, b float64) (float64, float64) {
	s := a - b
	bv := a - s
	av := s + bv
	return s, (a - av) + (bv - b)
}

// twoSum returns s, err with s = fl(a+b) and s+err = a+b exactly.
func twoSum(a, b float64) (float64, float64) {
	s := a + b
	bv := s - a
	av := s - bv
	return s, (a - av) + (b - bv)
}

// twoProduct returns p, err with p = fl(a·b) and p+err = a·b exactly (no
// underflow or overflow: the caller keeps magnitudes in range).
func twoProduct(a, b float64) (float64, float64) {
	p := a * b
	return p, math.FMA(a, b, -p)
}

// growExpansion adds b to the nonoverlapping expansion e[:n] (smallest
// component first), in place, dropping zero components; Shewchuk's
// GROW-EXPANSION-ZEROELIM. It returns the new length.
func growExpansion(e []float64, n int, b float64) int {
	q, h := b, 0
	for i := range n {
		var err float64
		q, err = twoSum(q, e[i])
		if err != 0 {
			e[h] = err
			h++
		}
	}
	if q != 0 || h == 0 {
		e[h] = q
		h++
	}
	return h
}

// orientRat is the orientation in rational arithmetic, for magnitudes the
// float64 expansion cannot hold exactly.
func orientRat(ax, ay, bx, by, cx, cy float64) int {
	var rax, ray, t1, t2, u big.Rat
	rax.SetFloat64(ax)
	ray.SetFloat64(ay)
	t1.SetFloat64(bx)
	t1.Sub(&t1, &rax)
	u.SetFloat64(cy)
	u.Sub(&u, &ray)
	t1.Mul(&t1, &u)
	t2.SetFloat64(by)
	t2.Sub(&t2, &ray)
	u.SetFloat64(cx)
	u.Sub(&u, &rax)
	t2.Mul(&t2, &u)
	return t1.Cmp(&t2)
}
