package geo

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/paulmach/orb"
)

// smallRing reads a closed ring from bytes as integer coordinates in
// [-8, 8]: tiny integer polygons are full of the degenerate cases (points on
// edges, at vertices, on horizontal edges, collinear runs) the rule is about.
func smallRing(b []byte) orb.Ring {
	var r orb.Ring
	for k := 0; k+1 < len(b); k += 2 {
		r = append(r, orb.Point{float64(int(b[k])%17 - 8), float64(int(b[k+1])%17 - 8)})
	}
	if len(r) > 0 {
		r = append(r, r[0])
	}
	return r
}

// FuzzContains checks Contains and Index.Locate against the reference on
// small integer polygons, self-intersecting ones included, and points on a
// grid of eighths. The first byte says how many points go to the shell; the
// rest, if any, form a hole.
func FuzzContains(f *testing.F) {
	f.Add([]byte{4, 0, 0, 16, 0, 16, 16, 0, 16}, int8(0), int8(0))
	f.Add([]byte{4, 0, 0, 16, 0, 16, 16, 0, 16, 4, 4, 12, 4, 12, 12}, int8(8), int8(8))
	f.Add([]byte{5, 0, 0, 8, 8, 16, 0, 16, 16, 0, 16}, int8(64), int8(64))
	f.Add([]byte{4, 0, 0, 16, 16, 16, 0, 0, 16}, int8(64), int8(64)) // bowtie, point at the crossing
	f.Add([]byte{3, 8, 8, 8, 8, 8, 8}, int8(0), int8(0))
	f.Fuzz(func(t *testing.T, data []byte, px, py int8) {
		if len(data) == 0 || len(data) > 64 {
			return
		}
		n := 2 * int(data[0])
		body := data[1:]
		n = min(n, len(body))
		poly := orb.Polygon{smallRing(body[:n])}
		if hole := smallRing(body[n:]); len(hole) > 0 {
			poly = append(poly, hole)
		}
		mp := orb.MultiPolygon{poly}
		p := orb.Point{float64(px) / 8, float64(py) / 8}
		got, want := Contains(mp, p), refContains(mp, p)
		if got != want {
			t.Fatalf("Contains(%v, %v) = %v, reference %v", mp, p, got, want)
		}
		_, ok := Build([]Feature{{Code: "f", Shape: mp}}).Locate(p)
		if ok != got {
			t.Fatalf("Locate(%v) in %v = %v, Contains %v", p, mp, ok, got)
		}
	})
}

// FuzzCheckShape feeds CheckShape, and the functions that accept what it
// accepts, arbitrary shapes. In raw mode coordinates are any float64 bit
// pattern (NaN, ±Inf, subnormals, huge values): nothing may panic. In grid
// mode they are quarter degrees near Wuhan, and a shape CheckShape accepts
// must behave: its interior point is inside it and located, it lies within
// itself and overlaps itself.
func FuzzCheckShape(f *testing.F) {
	f.Add([]byte{1, 0x11, 0, 0, 8, 0, 8, 8, 0, 8, 0, 0})
	f.Add([]byte{1, 0x12, 0, 0, 16, 0, 16, 16, 0, 16, 0, 0, 4, 4, 8, 4, 8, 8, 4, 4})
	f.Add([]byte{1, 0x21, 0, 0, 4, 0, 4, 4, 0, 0, 8, 8, 12, 8, 12, 12, 8, 8})
	f.Add([]byte{0, 0x11, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 0, 0, 0, 0, 0, 0, 0xf0, 0x7f})
	f.Fuzz(checkShapeProperties)
}

func checkShapeProperties(t *testing.T, data []byte) {
	if len(data) < 2 || len(data) > 256 {
		return
	}
	raw := data[0]%2 == 0
	members, rings := 1+int(data[1]>>4)%3, 1+int(data[1]&0xf)%3
	var pts []orb.Point
	body := data[2:]
	if raw {
		for k := 0; k+16 <= len(body); k += 16 {
			pts = append(pts, orb.Point{
				math.Float64frombits(binary.LittleEndian.Uint64(body[k:])),
				math.Float64frombits(binary.LittleEndian.Uint64(body[k+8:])),
			})
		}
	} else {
		for k := 0; k+1 < len(body); k += 2 {
			pts = append(pts, orb.Point{114 + float64(int8(body[k]))/4, 30 + float64(int8(body[k+1]))/4})
		}
	}
	// Cut the points into members × rings rings of near-equal length,
	// closing each: rings of the same start point close themselves.
	var mp orb.MultiPolygon
	per := max(1, len(pts)/(members*rings))
	for m := 0; m < members && len(pts) > 0; m++ {
		var poly orb.Polygon
		for r := 0; r < rings && len(pts) > 0; r++ {
			k := min(per, len(pts))
			ring := append(orb.Ring{}, pts[:k]...)
			pts = pts[k:]
			if len(ring) > 2 && ring[0] != ring[len(ring)-1] {
				ring = append(ring, ring[0])
			}
			poly = append(poly, ring)
		}
		mp = append(mp, poly)
	}
	prob := CheckShape(mp)
	ip := InteriorPoint(mp)
	Centroid(mp)
	Bound(mp)
	ix := Build([]Feature{{Code: "f", Shape: mp}})
	_, located := ix.Locate(ip)
	if prob != nil || raw {
		// Only robustness: these must not panic on invalid shapes. Big
		// self-crossing tangles cost them O(n³) (every edge cut by every
		// other, each piece tested), which callers avoid by checking
		// shapes first; small ones exercise the same paths.
		if len(body) <= 96 {
			Within(mp, mp, 1)
			Overlaps(mp, mp, 1)
		}
		return
	}
	if !Contains(mp, ip) || !located {
		t.Fatalf("valid shape %v: interior point %v contained %v, located %v", mp, ip, Contains(mp, ip), located)
	}
	if !Within(mp, mp, 0) {
		t.Fatalf("valid shape %v is not within itself", mp)
	}
	if !Overlaps(mp, mp, 0) {
		t.Fatalf("valid shape %v does not overlap itself", mp)
	}
}

// FuzzToWGS84 checks that finite coordinates convert to finite coordinates
// in every direction, and that well inside China the inverse undoes the
// forward transform.
func FuzzToWGS84(f *testing.F) {
	f.Add(116.397428, 39.90923, uint8(1))
	f.Add(114.3, 30.6, uint8(2))
	f.Add(72.004, 0.8293, uint8(1))
	f.Add(-0.1276, 51.5072, uint8(2))
	f.Add(1e308, -1e308, uint8(2))
	f.Fuzz(func(t *testing.T, lng, lat float64, c uint8) {
		crs := []CRS{WGS84, GCJ02, BD09, "other"}[c%4]
		p := orb.Point{lng, lat}
		w, g := ToWGS84(p, crs), FromWGS84(p, crs)
		if finite(p) && (!finite(w) || !finite(g)) {
			t.Fatalf("ToWGS84(%v, %s) = %v, FromWGS84 = %v: not finite", p, crs, w, g)
		}
		if lng >= 73 && lng <= 135 && lat >= 4 && lat <= 53 {
			if back := FromWGS84(w, crs); !near(back, p, 1e-8) {
				t.Fatalf("FromWGS84(ToWGS84(%v, %s)) = %v", p, crs, back)
			}
		}
	})
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsInf(p[0], 0) && !math.IsNaN(p[1]) && !math.IsInf(p[1], 0)
}
