package geo

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// CRS is a coordinate reference system of incoming points.
type CRS string

// The coordinate systems GridHall accepts. WGS84 is what it stores (the same
// as CGCS2000 to within centimetres); GCJ02 is the obfuscated system of AMap
// (Gaode) and Tencent maps, BD09 Baidu's, which is GCJ02 shifted once more.
const (
	WGS84 CRS = "wgs84"
	GCJ02 CRS = "gcj02"
	BD09  CRS = "bd09"
)

// ErrUnknownCRS is returned, wrapped, by ParseCRS for a name it does not know.
var ErrUnknownCRS = errors.New("unknown coordinate system")

// ParseCRS reads a CRS name, case-insensitively and ignoring surrounding
// space, "-" and "_" ("GCJ-02" and "bd_09" are accepted). The empty string
// means WGS84.
func ParseCRS(s string) (CRS, error) {
	n := strings.NewReplacer("-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(s)))
	switch CRS(n) {
	case "", WGS84:
		return WGS84, nil
	case GCJ02:
		return GCJ02, nil
	case BD09:
		return BD09, nil
	}
	return "", fmt.Errorf("geo: %w: %q (want wgs84, gcj02 or bd09)", ErrUnknownCRS, s)
}

// The published GCJ-02 algorithm: the Krasovsky 1940 ellipsoid and a fixed
// polynomial-and-sine offset, applied only inside a rough box around China.
const (
	gcjA  = 6378245.0
	gcjEE = 0.00669342162296594323
	bdXPi = math.Pi * 3000.0 / 180.0
)

// outOfChina is the standard algorithm's test; outside the box the offsets
// are not applied, so GCJ-02 and BD-09 equal WGS84 there.
func outOfChina(p orb.Point) bool {
	return !(p[0] >= 72.004 && p[0] <= 137.8347 && p[1] >= 0.8293 && p[1] <= 55.8271)
}

func gcjOffset(lng, lat float64) (dlng, dlat float64) {
	x, y := lng-105.0, lat-35.0
	dlat = -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dlat += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dlat += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	dlat += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	dlng = 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dlng += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dlng += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	dlng += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	rad := lat / 180.0 * math.Pi
	magic := 1 - gcjEE*math.Sin(rad)*math.Sin(rad)
	sq := math.Sqrt(magic)
	dlat = (dlat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sq) * math.Pi)
	dlng = (dlng * 180.0) / (gcjA / sq * math.Cos(rad) * math.Pi)
	return dlng, dlat
}

func wgsToGCJ(p orb.Point) orb.Point {
	dlng, dlat := gcjOffset(p[0], p[1])
	return orb.Point{p[0] + dlng, p[1] + dlat}
}

func gcjToBD(p orb.Point) orb.Point {
	x, y := p[0], p[1]
	z := math.Sqrt(x*x+y*y) + 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) + 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006}
}

// bdToGCJApprox is the published closed-form inverse, good to ~1e-6°; it
// seeds the exact iterative inverse.
func bdToGCJApprox(p orb.Point) orb.Point {
	x, y := p[0]-0.0065, p[1]-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdXPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdXPi)
	return orb.Point{z * math.Cos(theta), z * math.Sin(theta)}
}

// FromWGS84 converts a WGS84 point into the given system (for tests and
// exports). Points outside China, and any point for an unknown or WGS84
// system, are returned unchanged.
func FromWGS84(p orb.Point, to CRS) orb.Point {
	if outOfChina(p) {
		return p
	}
	switch to {
	case GCJ02:
		return wgsToGCJ(p)
	case BD09:
		return gcjToBD(wgsToGCJ(p))
	}
	return p
}

// ToWGS84 converts a point given in the system from into WGS84. The forward
// transforms have no closed-form inverse, so the answer is found by fixed-point
// iteration on FromWGS84 until it reproduces p to within 1e-9° (the offsets
// change by less than 1e-3 per degree, so each step gains three digits and a
// handful of steps suffice). Points outside China are returned unchanged, as
// are non-finite points and points for WGS84 or an unknown system.
func ToWGS84(p orb.Point, from CRS) orb.Point {
	if (from != GCJ02 && from != BD09) || outOfChina(p) {
		return p
	}
	w := p
	if from == BD09 {
		w = bdToGCJApprox(p)
	}
	w = orb.Point{2*w[0] - wgsToGCJ(w)[0], 2*w[1] - wgsToGCJ(w)[1]} // first guess: subtract the offset at w
	for range 20 {
		f := FromWGS84(w, from)
		dx, dy := f[0]-p[0], f[1]-p[1]
		w = orb.Point{w[0] - dx, w[1] - dy}
		if math.Abs(dx) < 1e-9 && math.Abs(dy) < 1e-9 {
			break
		}
	}
	return w
}
