package geo

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tidwall/rtree"
)

// The benchmark city: 50,000 generated grids over a 0.5° × 0.4° box around
// Wuhan (114.3E 30.6N), and 1,000,000 random points in the same box.
var benchBox = orb.Bound{Min: orb.Point{114.05, 30.4}, Max: orb.Point{114.55, 30.8}}

const benchNX, benchNY = 250, 200

var benchData = sync.OnceValues(func() ([]Feature, []orb.Point) {
	cells := GenerateGrids(benchBox, benchNX, benchNY, 1)
	fs := make([]Feature, len(cells))
	for k, c := range cells {
		fs[k] = Feature{Code: fmt.Sprintf("420106001001%05d", k), Level: 3, Shape: orb.MultiPolygon{c}}
	}
	rng := rand.New(rand.NewPCG(42, 42))
	pts := make([]orb.Point, 1_000_000)
	w, h := benchBox.Max[0]-benchBox.Min[0], benchBox.Max[1]-benchBox.Min[1]
	for k := range pts {
		pts[k] = orb.Point{benchBox.Min[0] + rng.Float64()*w, benchBox.Min[1] + rng.Float64()*h}
	}
	return fs, pts
})

var benchIndex = sync.OnceValue(func() *Index {
	fs, _ := benchData()
	return Build(fs)
})

// BenchmarkLocate measures point → grid lookups on one goroutine.
func BenchmarkLocate(b *testing.B) {
	_, pts := benchData()
	ix := benchIndex()
	b.ReportAllocs()
	b.ResetTimer()
	found := 0
	for i := 0; i < b.N; i++ {
		if _, ok := ix.Locate(pts[i%len(pts)]); ok {
			found++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	if b.N >= len(pts) && found != b.N {
		b.Fatalf("%d of %d points inside the grids were not found", b.N-found, b.N)
	}
}

// BenchmarkLocateTerritory is BenchmarkLocate over a whole territory tree
// on the same box: a district, streets, communities, the 50,000 grids (some
// missing) and micro-grids, so lookups also fall back to parents.
func BenchmarkLocateTerritory(b *testing.B) {
	_, pts := benchData()
	fs, _ := territoryTree(benchBox, benchNX, benchNY, 1)
	ix := Build(fs)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ix.Locate(pts[i%len(pts)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkLocateRTree is the alternative the index was measured against:
// an R-tree over the features' bounding boxes, then Contains on every hit.
func BenchmarkLocateRTree(b *testing.B) {
	fs, pts := benchData()
	var tr rtree.RTreeG[int]
	for k, f := range fs {
		bb := Bound(f.Shape)
		tr.Insert(bb.Min, bb.Max, k)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p := pts[i%len(pts)]
		tr.Search(p, p, func(_, _ [2]float64, k int) bool {
			return !Contains(fs[k].Shape, p)
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
}

// BenchmarkBuild measures building the index over the 50,000 grids and
// reports the heap the finished index keeps.
func BenchmarkBuild(b *testing.B) {
	fs, _ := benchData()
	var keep *Index
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapAlloc
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		keep = Build(fs)
	}
	b.StopTimer()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(int64(ms.HeapAlloc)-int64(before))/(1<<20), "index-MiB")
	b.ReportMetric(float64(len(keep.cand))/float64(len(keep.cells)-1), "candidates/cell")
	runtime.KeepAlive(keep)
}

// The validation benchmarks run on the shapes an import of the benchmark
// city checks: every grid, each grid against its community (a block of 6×4
// grids, dissolved), and each grid against its eastern neighbour.
var benchBlocks = sync.OnceValue(func() []orb.MultiPolygon {
	fs, _ := benchData()
	blocks := make([]orb.MultiPolygon, len(fs))
	byBlock := map[int][]orb.Polygon{}
	for k, f := range fs {
		byBlock[(k/benchNX/4)*1000+(k%benchNX)/6] = append(byBlock[(k/benchNX/4)*1000+(k%benchNX)/6], f.Shape[0])
	}
	dissolved := map[int]orb.MultiPolygon{}
	for key, ps := range byBlock {
		dissolved[key] = Dissolve(ps)
	}
	for k := range fs {
		blocks[k] = dissolved[(k/benchNX/4)*1000+(k%benchNX)/6]
	}
	return blocks
})

func BenchmarkCheckShape(b *testing.B) {
	fs, _ := benchData()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if p := CheckShape(fs[i%len(fs)].Shape); p != nil {
			b.Fatal(p)
		}
	}
}

func BenchmarkWithin(b *testing.B) {
	fs, _ := benchData()
	blocks := benchBlocks()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % len(fs)
		if !Within(fs[k].Shape, blocks[k], 1) {
			b.Fatalf("grid %d is not within its community", k)
		}
	}
}

func BenchmarkOverlaps(b *testing.B) {
	fs, _ := benchData()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := i % (len(fs) - 1)
		if k%benchNX == benchNX-1 {
			k--
		}
		if Overlaps(fs[k].Shape, fs[k+1].Shape, 1) {
			b.Fatalf("grids %d and %d overlap", k, k+1)
		}
	}
}
