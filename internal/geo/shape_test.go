package geo

import (
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"
)

// pts makes a ring from x, y pairs.
func pts(xy ...float64) orb.Ring {
	r := make(orb.Ring, 0, len(xy)/2)
	for k := 0; k+1 < len(xy); k += 2 {
		r = append(r, orb.Point{xy[k], xy[k+1]})
	}
	return r
}

func TestCheckShape(t *testing.T) {
	sq := rect(0, 0, 4, 4)
	tests := []struct {
		name   string
		mp     orb.MultiPolygon
		reason string // "" for valid
		at     *orb.Point
	}{
		{"square", orb.MultiPolygon{{sq}}, "", nil},
		{"clockwise square", orb.MultiPolygon{{reverse(sq)}}, "", nil},
		{"repeated consecutive points", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 0, 4, 4, 0, 4, 0, 4, 0, 0)}}, "", nil},
		{"collinear vertex on a straight edge", orb.MultiPolygon{{pts(0, 0, 2, 0, 4, 0, 4, 4, 0, 4, 0, 0)}}, "", nil},
		{"polygon with a hole", orb.MultiPolygon{{sq, rect(1, 1, 2, 2)}}, "", nil},
		{"polygon with two holes", orb.MultiPolygon{{sq, rect(1, 1, 2, 2), rect(2.5, 2.5, 3, 3)}}, "", nil},
		{"multipolygon with holes", orb.MultiPolygon{{sq, rect(1, 1, 2, 2)}, {rect(5, 5, 9, 9), rect(6, 6, 7, 7)}}, "", nil},
		{"island inside another member's hole", orb.MultiPolygon{{sq, rect(1, 1, 3, 3)}, {rect(1.5, 1.5, 2.5, 2.5)}}, "", nil},
		{"hole touching its shell at one point", orb.MultiPolygon{{sq, pts(0, 2, 1, 1, 1, 3, 0, 2)}}, "", nil},
		{"members touching at a corner", orb.MultiPolygon{{rect(0, 0, 1, 1)}, {rect(1, 1, 2, 2)}}, "", nil},
		{"real coordinates", orb.MultiPolygon{{rect(114.30, 30.60, 114.31, 30.61)}}, "", nil},

		{"no polygons", nil, ReasonEmpty, nil},
		{"polygon without rings", orb.MultiPolygon{{}}, ReasonEmpty, nil},
		{"NaN", orb.MultiPolygon{{pts(0, 0, 4, 0, math.NaN(), 4, 0, 0)}}, ReasonInvalidCoordinate, nil},
		{"infinity", orb.MultiPolygon{{pts(0, 0, math.Inf(1), 0, 4, 4, 0, 0)}}, ReasonInvalidCoordinate, nil},
		{"latitude above 90", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 90.5, 0, 0)}}, ReasonInvalidCoordinate, &orb.Point{4, 90.5}},
		{"longitude below -180", orb.MultiPolygon{{pts(-181, 0, 4, 0, 4, 4, -181, 0)}}, ReasonInvalidCoordinate, &orb.Point{-181, 0}},
		{"three points", orb.MultiPolygon{{pts(0, 0, 4, 0, 0, 0)}}, ReasonTooFewPoints, nil},
		{"empty ring", orb.MultiPolygon{{orb.Ring{}}}, ReasonTooFewPoints, nil},
		{"four points, two distinct", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 0, 0, 0)}}, ReasonTooFewPoints, nil},
		{"hole with too few points", orb.MultiPolygon{{sq, pts(1, 1, 2, 1, 1, 1)}}, ReasonTooFewPoints, nil},
		{"ring not closed", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 4, 0, 4)}}, ReasonRingNotClosed, &orb.Point{0, 4}},
		{"bowtie", orb.MultiPolygon{{pts(0, 0, 2, 2, 2, 0, 0, 2, 0, 0)}}, ReasonSelfIntersection, &orb.Point{1, 1}},
		{"spike doubling back", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 4, 4, 6, 4, 4, 0, 4, 0, 0)}}, ReasonSelfIntersection, nil},
		{"spike back along the closing edge", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 4, 0, 4, 0, -1, 0, 0)}}, ReasonSelfIntersection, nil},
		{"ring touching itself at a vertex", orb.MultiPolygon{{pts(0, 0, 2, 1, 4, 0, 4, 2, 2, 1, 0, 2, 0, 0)}}, ReasonSelfIntersection, &orb.Point{2, 1}},
		{"vertex touching another edge of its ring", orb.MultiPolygon{{pts(0, 0, 4, 0, 4, 4, 2, 0, 0, 4, 0, 0)}}, ReasonSelfIntersection, &orb.Point{2, 0}},
		{"hole crossing its shell", orb.MultiPolygon{{sq, rect(3, 1, 5, 2)}}, ReasonSelfIntersection, nil},
		{"hole sharing a stretch of the shell", orb.MultiPolygon{{sq, rect(0, 1, 1, 2)}}, ReasonSelfIntersection, nil},
		{"hole leaving and re-entering its shell at vertices only", orb.MultiPolygon{{sq, pts(3, 3, 4, 4, 5, 3, 4, 2, 3, 3)}}, ReasonSelfIntersection, nil},
		{"holes crossing each other", orb.MultiPolygon{{sq, rect(1, 1, 2, 2), rect(1.5, 1.5, 3, 3)}}, ReasonSelfIntersection, nil},
		{"members crossing", orb.MultiPolygon{{sq}, {rect(3, 3, 5, 5)}}, ReasonSelfIntersection, nil},
		{"members sharing an edge", orb.MultiPolygon{{rect(0, 0, 1, 1)}, {rect(1, 0, 2, 1)}}, ReasonSelfIntersection, nil},
		{"member inside another member", orb.MultiPolygon{{sq}, {rect(1, 1, 2, 2)}}, ReasonSelfIntersection, &orb.Point{1, 1}},
		{"member around another member", orb.MultiPolygon{{rect(1, 1, 2, 2)}, {sq}}, ReasonSelfIntersection, &orb.Point{1, 1}},
		{"member crossing another at vertices only", orb.MultiPolygon{{rect(0, 0, 2, 2)}, {pts(1, 1, 2, 2, 3, 3, 2, 1.5, 1, 1)}}, ReasonSelfIntersection, nil},
		{"members meeting at a vertex without crossing", orb.MultiPolygon{{rect(0, 0, 2, 2)}, {pts(2, 2, 3, 1, 3, 3, 1, 3, 2, 2)}}, "", nil},
		{"hole outside its shell", orb.MultiPolygon{{sq, rect(5, 5, 6, 6)}}, ReasonHoleOutsideShell, nil},
		{"hole inside another hole", orb.MultiPolygon{{sq, rect(1, 1, 3, 3), rect(1.5, 1.5, 2, 2)}}, ReasonHoleOutsideShell, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := CheckShape(tc.mp)
			switch {
			case tc.reason == "" && p != nil:
				t.Fatalf("CheckShape = %v, want valid", p)
			case tc.reason == "":
				return
			case p == nil:
				t.Fatalf("CheckShape = nil, want %s", tc.reason)
			case p.Reason != tc.reason:
				t.Fatalf("CheckShape = %v, want %s", p, tc.reason)
			case tc.at != nil && p.At != *tc.at:
				t.Fatalf("CheckShape at %v, want at %v", p.At, *tc.at)
			}
			if !strings.Contains(p.Error(), tc.reason) {
				t.Errorf("Error() = %q does not name the reason", p.Error())
			}
		})
	}
}

func TestProblemError(t *testing.T) {
	p := &Problem{Reason: ReasonOverlapsSibling, At: orb.Point{114.3, 30.6}, Other: "420106001001002"}
	if got, want := p.Error(), "geo: overlaps_sibling at (114.3, 30.6) with 420106001001002"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (&Problem{Reason: ReasonEmpty}).Error(), "geo: empty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestBound(t *testing.T) {
	mp := orb.MultiPolygon{{rect(1, 2, 3, 4)}, {rect(-1, 0, 0, 1), rect(-0.5, 0.2, -0.2, 0.5)}}
	if got, want := Bound(mp), (orb.Bound{Min: orb.Point{-1, 0}, Max: orb.Point{3, 4}}); got != want {
		t.Errorf("Bound = %v, want %v", got, want)
	}
	if b := Bound(nil); !b.IsEmpty() {
		t.Errorf("Bound(nil) = %v, want an empty bound", b)
	}
}

func TestCentroid(t *testing.T) {
	tests := []struct {
		name string
		mp   orb.MultiPolygon
		want orb.Point
	}{
		{"square", orb.MultiPolygon{{rect(114, 30, 116, 32)}}, orb.Point{115, 31}},
		{"clockwise square", orb.MultiPolygon{{reverse(rect(0, 0, 2, 2))}}, orb.Point{1, 1}},
		{"symmetric hole", orb.MultiPolygon{{rect(0, 0, 4, 4), rect(1, 1, 3, 3)}}, orb.Point{2, 2}},
		// An L of three unit squares: (0.5,0.5), (1.5,0.5), (0.5,1.5).
		{"L shape", orb.MultiPolygon{{pts(0, 0, 2, 0, 2, 1, 1, 1, 1, 2, 0, 2, 0, 0)}}, orb.Point{2.5 / 3, 2.5 / 3}},
		{"two members", orb.MultiPolygon{{rect(0, 0, 1, 1)}, {rect(2, 0, 3, 1)}}, orb.Point{1.5, 0.5}},
		{"no area: mean of vertices", orb.MultiPolygon{{pts(0, 0, 2, 0, 4, 0, 0, 0)}}, orb.Point{2, 0}},
		{"empty", nil, orb.Point{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Centroid(tc.mp)
			if math.Abs(got[0]-tc.want[0]) > 1e-9 || math.Abs(got[1]-tc.want[1]) > 1e-9 {
				t.Errorf("Centroid = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestInteriorPoint(t *testing.T) {
	b := orb.Bound{Min: orb.Point{114.3, 30.6}, Max: orb.Point{114.32, 30.62}}
	cells := GenerateGrids(b, 8, 6, 3)
	tests := map[string]orb.MultiPolygon{
		"square":                   {{rect(0, 0, 1, 1)}},
		"hole where the centre is": {{rect(0, 0, 4, 4), rect(1, 1, 3, 3)}},
		"C shape":                  {{pts(0, 0, 3, 0, 3, 1, 1, 1, 1, 2, 3, 2, 3, 3, 0, 3, 0, 0)}},
		"thin diagonal sliver":     {{pts(0, 0, 1000, 1000.001, 1000, 1000, 0, 0)}},
		"tiny far from the origin": {{rect(114.3, 30.6, 114.3+1e-9, 30.6+1e-9)}},
		"small member and big one": {{rect(0, 0, 1, 1)}, {rect(10, 10, 20, 20)}},
		"dissolved block":          Dissolve(cells[:20]),
		"all cells dissolved":      Dissolve(cells),
	}
	for k, c := range cells {
		tests["generated cell "+string(rune('A'+k%26))+string(rune('a'+k/26))] = orb.MultiPolygon{c}
	}
	for name, mp := range tests {
		t.Run(name, func(t *testing.T) {
			p := InteriorPoint(mp)
			if !Contains(mp, p) {
				t.Errorf("InteriorPoint = %v, which the shape does not contain", p)
			}
		})
	}
	if got := InteriorPoint(orb.MultiPolygon{{rect(10, 10, 20, 20)}, {rect(0, 0, 1, 1)}}); got[0] < 10 {
		t.Errorf("InteriorPoint = %v, want a point in the larger member", got)
	}
}
