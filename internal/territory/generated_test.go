package territory_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/territory"
)

// TestLocatorAgreesWithBruteForceOnAGeneratedTerritory imports a generated
// street of 6 communities × 12 jittered grids through the service and checks
// 100,000 random points — a tenth of them exactly on grid vertices — against
// a plain loop over every imported boundary with the documented edge rule.
// Then the same places given in GCJ-02 and BD-09 must land in the same grid.
func TestLocatorAgreesWithBruteForceOnAGeneratedTerritory(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	f := newFixtureEmpty(t, d)
	street := orb.Bound{Min: orb.Point{114.20, 30.40}, Max: orb.Point{114.26, 30.44}}
	comms := geoBoxes(street, 3, 2)
	type gf struct {
		code  string
		shape orb.Polygon
	}
	var all []gf
	all = append(all, gf{"420106", rectOf(street)}, gf{"420106001", rectOf(street)})
	for i, cb := range comms {
		cc := fmt.Sprintf("420106001%03d", i+1)
		all = append(all, gf{cc, rectOf(cb)})
		for j, g := range geo.GenerateGrids(cb, 4, 3, int64(i)) {
			all = append(all, gf{fmt.Sprintf("%s%03d", cc, j+1), g})
		}
	}
	var fs []feat
	for _, g := range all {
		fs = append(fs, feat{g.code, "n" + g.code, g.shape})
	}
	res, err := f.svc.Import(f.ctx, f.admin, collection(fs...), false)
	if err != nil || res.Created != len(all) {
		t.Fatalf("import: %+v %v", res, err)
	}
	if err := f.svc.Locator().Refresh(f.ctx); err != nil {
		t.Fatal(err)
	}
	brute := func(p orb.Point) string {
		best, lvl := "", -1
		for _, g := range all {
			l, _ := territory.LevelOf(g.code)
			if int(l) > lvl && geo.Contains(orb.MultiPolygon{g.shape}, p) {
				best, lvl = g.code, int(l)
			}
		}
		return best
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var vertices []orb.Point
	for _, g := range all[8:] {
		vertices = append(vertices, g.shape[0]...)
	}
	wide := orb.Bound{Min: orb.Point{114.19, 30.39}, Max: orb.Point{114.27, 30.45}}
	for i := 0; i < 100000; i++ {
		var p orb.Point
		if i%10 == 0 {
			p = vertices[rng.IntN(len(vertices))]
		} else {
			p = orb.Point{wide.Min[0] + rng.Float64()*(wide.Max[0]-wide.Min[0]), wide.Min[1] + rng.Float64()*(wide.Max[1]-wide.Min[1])}
		}
		got := f.svc.Locator().Locate(p)
		if want := brute(p); got.Code != want || got.Inside != (want != "") {
			t.Fatalf("point %v: locator %q, reference %q", p, got.Code, want)
		}
	}
	mismatches := 0
	for i := 0; i < 5000; i++ {
		p := orb.Point{street.Min[0] + rng.Float64()*(street.Max[0]-street.Min[0]), street.Min[1] + rng.Float64()*(street.Max[1]-street.Min[1])}
		want := f.svc.Locator().Locate(p).Code
		// Skip points within a centimetre of a boundary, where the conversions'
		// sub-centimetre error may legitimately cross it.
		near := false
		for _, dx := range []float64{-1e-7, 1e-7} {
			for _, dy := range []float64{-1e-7, 1e-7} {
				if f.svc.Locator().Locate(orb.Point{p[0] + dx, p[1] + dy}).Code != want {
					near = true
				}
			}
		}
		if near {
			continue
		}
		for _, crs := range []geo.CRS{geo.GCJ02, geo.BD09} {
			q := geo.FromWGS84(p, crs)
			loc, err := f.svc.Locate(f.ctx, q[0], q[1], crs)
			if err != nil || loc.Code != want {
				mismatches++
				t.Errorf("%v as %s %v: %q, want %q (%v)", p, crs, q, loc.Code, want, err)
			}
		}
		if mismatches > 5 {
			t.FailNow()
		}
	}
}

func geoBoxes(b orb.Bound, nx, ny int) []orb.Bound {
	var out []orb.Bound
	w, h := (b.Max[0]-b.Min[0])/float64(nx), (b.Max[1]-b.Min[1])/float64(ny)
	for r := 0; r < ny; r++ {
		for c := 0; c < nx; c++ {
			minLng, maxLat := b.Min[0]+float64(c)*w, b.Max[1]-float64(r)*h
			maxLng, minLat := b.Min[0]+float64(c+1)*w, b.Max[1]-float64(r+1)*h
			if c == nx-1 {
				maxLng = b.Max[0]
			}
			if r == ny-1 {
				minLat = b.Min[1]
			}
			out = append(out, orb.Bound{Min: orb.Point{minLng, minLat}, Max: orb.Point{maxLng, maxLat}})
		}
	}
	return out
}

func rectOf(b orb.Bound) orb.Polygon {
	return orb.Polygon{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}
