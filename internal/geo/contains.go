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
	return orientExact(ax, ay, bx, by, cx, cy, det)
}

// orientExact computes the orientation in rational arithmetic. Coordinates
// that are not finite have no exact value; their float64 result (or 0 for
// NaN) is returned so that every input gets an answer without a panic.
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
