package geo

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// Feature is one territory unit to locate points in.
type Feature struct {
	Code  string
	Level int // 0 district, 1 street, 2 community, 3 grid, 4 micro-grid
	Shape orb.MultiPolygon
}

// Index answers point → deepest feature. It is immutable after Build and safe
// for concurrent use by any number of goroutines.
type Index struct {
	codes []string

	// Each feature is one contiguous blob in data, so testing a candidate
	// touches one run of memory:
	//   feature: minX minY maxX maxY index npolys, then its polygons
	//   polygon: nrings, then its rings, the shell first
	//   ring:    nfloats minX minY maxX maxY band, then nfloats coordinates
	//            (x, y interleaved, explicitly closed); band is -1 or an
	//            index into bands
	data  []float64
	bands []bandTable
	bxy   []float64 // band edges, 4 floats each: xi, yi, xj, yj

	// The uniform grid of cells. A point maps to column (x-x0)·sx and row
	// (y-y0)·sy; the extent is padded so every feature lies strictly inside.
	x0, y0, sx, sy float64
	fnx, fny       float64
	nx, ny         int
	cells          []cell   // one per cell plus a sentinel holding len(cand)
	cand           []uint32 // blob offsets of features whose boundary touches the cell, deepest first
}

// cell is the grid's entry for one cell: the deepest feature covering the
// whole cell (-1 none) and where its candidates start. Both share a cache
// line, and the next cell's start ends the candidate list.
type cell struct {
	full  int32
	start uint32
}

// bandTable indexes the edges of a long ring by horizontal band.
type bandTable struct {
	y0, sy float64 // band of y: int((y-y0)·sy), clamped
	nb     int
	starts []int32 // nb+1 offsets into bxy, in edges
}

func (bt *bandTable) bandOf(y float64) int {
	return min(max(int((y-bt.y0)*bt.sy), 0), bt.nb-1)
}

// Blob header sizes, in float64s.
const (
	featHdr = 6
	ringHdr = 6
)

// Tuning, chosen with BenchmarkLocate (see BENCHMARKS.md at the repository root).
const (
	cellsPerFeature = 16      // grid cells per indexed feature
	maxCells        = 1 << 22 // cap on the grid's memory (32 MiB of cell table)
	bandMinEdges    = 48      // rings with more edges get a band index
	edgesPerBand    = 4       // average edges per band
)

// Build indexes fs. Features with a non-finite coordinate (which CheckShape
// rejects) and rings of fewer than three points (which contain nothing) are
// left out. Among features containing a point, Locate returns the one with
// the highest Level, and among equal levels the one earliest in fs.
func Build(fs []Feature) *Index {
	ix := &Index{}
	size := 0
	for _, f := range fs {
		if n := blobSize(f.Shape); n > 0 && finiteShape(f.Shape) {
			size += n
		}
	}
	ix.data = make([]float64, 0, size)
	var offs []uint32
	var levels []int
	for _, f := range fs {
		if blobSize(f.Shape) == 0 || !finiteShape(f.Shape) {
			continue
		}
		offs = append(offs, uint32(len(ix.data)))
		levels = append(levels, f.Level)
		ix.addBlob(f.Shape, len(ix.codes))
		ix.codes = append(ix.codes, f.Code)
	}
	if len(offs) == 0 {
		return ix
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, o := range offs {
		minX, minY = math.Min(minX, ix.data[o]), math.Min(minY, ix.data[o+1])
		maxX, maxY = math.Max(maxX, ix.data[o+2]), math.Max(maxY, ix.data[o+3])
	}
	ix.layGrid(offs, minX, minY, maxX, maxY)
	ix.fillCells(offs, levels)
	return ix
}

func finiteShape(mp orb.MultiPolygon) bool {
	for _, poly := range mp {
		for _, r := range poly {
			for _, p := range r {
				if math.IsNaN(p[0]) || math.IsInf(p[0], 0) || math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
					return false
				}
			}
		}
	}
	return true
}

// blobSize returns the length of mp's blob, 0 when it has no polygon with a
// usable shell.
func blobSize(mp orb.MultiPolygon) int {
	n, polys := featHdr, 0
	for _, poly := range mp {
		if len(poly) == 0 || len(poly[0]) < 3 {
			continue
		}
		polys++
		n++
		for _, r := range poly {
			if len(r) >= 3 {
				n += ringHdr + 2*len(r) + 2 // room for the closing point
			}
		}
	}
	if polys == 0 {
		return 0
	}
	return n
}

func (ix *Index) addBlob(mp orb.MultiPolygon, fi int) {
	at := len(ix.data)
	ix.data = append(ix.data, math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1), float64(fi), 0)
	for _, poly := range mp {
		if len(poly) == 0 || len(poly[0]) < 3 {
			continue
		}
		ix.data[at+5]++
		pat := len(ix.data)
		ix.data = append(ix.data, 0)
		for k, r := range poly {
			if len(r) < 3 {
				continue
			}
			ix.data[pat]++
			rat := len(ix.data)
			ix.addRing(r)
			if k == 0 { // the feature's box is its shells' box
				ix.data[at] = math.Min(ix.data[at], ix.data[rat+1])
				ix.data[at+1] = math.Min(ix.data[at+1], ix.data[rat+2])
				ix.data[at+2] = math.Max(ix.data[at+2], ix.data[rat+3])
				ix.data[at+3] = math.Max(ix.data[at+3], ix.data[rat+4])
			}
		}
	}
}

// addRing appends r's header and coordinates, closing it, and gives it a
// band table when it is long.
func (ix *Index) addRing(r orb.Ring) {
	at := len(ix.data)
	ix.data = append(ix.data, 0, math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1), -1)
	for _, p := range r {
		ix.data = append(ix.data, p[0], p[1])
		ix.data[at+1], ix.data[at+2] = math.Min(ix.data[at+1], p[0]), math.Min(ix.data[at+2], p[1])
		ix.data[at+3], ix.data[at+4] = math.Max(ix.data[at+3], p[0]), math.Max(ix.data[at+4], p[1])
	}
	if r[0] != r[len(r)-1] {
		ix.data = append(ix.data, r[0][0], r[0][1])
	}
	xy := ix.data[at+ringHdr:]
	ix.data[at] = float64(len(xy))
	if edges := len(xy)/2 - 1; edges > bandMinEdges && ix.data[at+4] > ix.data[at+2] {
		ix.data[at+5] = float64(len(ix.bands))
		ix.bands = append(ix.bands, ix.bandRing(xy, ix.data[at+2], ix.data[at+4], edges))
	}
}

// bandRing splits the ring's y-extent into horizontal bands and lists in each
// band the edges whose y-range meets it. An edge can only be counted for a
// point whose y lies in the edge's y-range, and bandOf is monotone, so the
// edges listed under bandOf(y) include every edge that can count for y.
func (ix *Index) bandRing(xy []float64, minY, maxY float64, edges int) bandTable {
	nb := max(1, edges/edgesPerBand)
	bt := bandTable{y0: minY, sy: float64(nb) / (maxY - minY), nb: nb, starts: make([]int32, nb+1)}
	counts := make([]int32, nb+1)
	for k := 0; k+3 < len(xy); k += 2 {
		yi, yj := xy[k+1], xy[k+3]
		if yi == yj {
			continue // horizontal edges never count
		}
		for b := bt.bandOf(min(yi, yj)); b <= bt.bandOf(max(yi, yj)); b++ {
			counts[b+1]++
		}
	}
	base := int32(len(ix.bxy) / 4)
	for b := 0; b < nb; b++ {
		counts[b+1] += counts[b]
	}
	for b := 0; b <= nb; b++ {
		bt.starts[b] = base + counts[b]
	}
	ix.bxy = append(ix.bxy, make([]float64, 4*int(counts[nb]))...)
	fill := counts[:nb] // now the next free slot of each band
	for k := 0; k+3 < len(xy); k += 2 {
		xi, yi, xj, yj := xy[k], xy[k+1], xy[k+2], xy[k+3]
		if yi == yj {
			continue
		}
		for b := bt.bandOf(min(yi, yj)); b <= bt.bandOf(max(yi, yj)); b++ {
			at := 4 * int(base+fill[b])
			ix.bxy[at], ix.bxy[at+1], ix.bxy[at+2], ix.bxy[at+3] = xi, yi, xj, yj
			fill[b]++
		}
	}
	return bt
}

// layGrid chooses the cell grid over the features' extent, padded by a
// relative 1e-9 so that the cell computation never rounds a point of a
// feature out of range. It aims at cellsPerFeature cells per feature, and at
// least so many cells that a feature of median size spans about
// cellsPerFeature of them: the two agree for a compact territory, and the
// second keeps cells small when features are spread over a wide area with
// empty land between them. maxCells caps the memory either way.
func (ix *Index) layGrid(offs []uint32, minX, minY, maxX, maxY float64) {
	w, h := maxX-minX, maxY-minY
	target := float64(cellsPerFeature * len(offs))
	if w > 0 && h > 0 {
		ws, hs := make([]float64, len(offs)), make([]float64, len(offs))
		for k, o := range offs {
			ws[k], hs[k] = ix.data[o+2]-ix.data[o], ix.data[o+3]-ix.data[o+1]
		}
		slices.Sort(ws)
		slices.Sort(hs)
		if mw, mh := ws[len(ws)/2], hs[len(hs)/2]; mw > 0 && mh > 0 {
			target = max(target, w/mw*h/mh*cellsPerFeature)
		}
	}
	n := int(min(target, maxCells))
	nx, ny := 1, 1
	switch {
	case w > 0 && h > 0:
		nx = int(math.Round(math.Sqrt(float64(n) * w / h)))
		nx = min(max(nx, 1), n)
		ny = max(1, n/nx)
	case w > 0:
		nx = n
	case h > 0:
		ny = n
	}
	ix.nx, ix.ny = nx, ny
	ix.fnx, ix.fny = float64(nx), float64(ny)
	ix.x0, ix.y0 = minX, minY
	pad := func(d float64) float64 { return d + d*1e-9 + 1e-300 }
	ix.sx = float64(nx) / pad(w)
	ix.sy = float64(ny) / pad(h)
}

func (ix *Index) cellX(x float64) int {
	return min(max(int((x-ix.x0)*ix.sx), 0), ix.nx-1)
}

func (ix *Index) cellY(y float64) int {
	return min(max(int((y-ix.y0)*ix.sy), 0), ix.ny-1)
}

// fillCells classifies every cell of every feature's bounding box as touched
// by the feature's boundary (a candidate) or untouched, in which case the
// feature either covers the whole cell or misses it entirely.
func (ix *Index) fillCells(offs []uint32, levels []int) {
	// better reports whether feature a outranks feature b in Locate's answer.
	better := func(a, b int32) bool {
		return levels[a] > levels[b] || levels[a] == levels[b] && a < b
	}
	ncell := ix.nx * ix.ny
	full := make([]int32, ncell)
	for c := range full {
		full[c] = -1
	}
	type pair struct{ cell, f int32 }
	var pairs []pair
	var mask []bool
	cw, ch := 1/ix.sx, 1/ix.sy
	for fi, off := range offs {
		box := ix.data[off : off+4]
		cx0, cx1 := ix.cellX(box[0]), ix.cellX(box[2])
		cy0, cy1 := ix.cellY(box[1]), ix.cellY(box[3])
		mw := cx1 - cx0 + 1
		mask = slices.Grow(mask[:0], mw*(cy1-cy0+1))[:mw*(cy1-cy0+1)]
		clear(mask)
		ix.eachRing(off, func(xy []float64) {
			for k := 0; k+3 < len(xy); k += 2 {
				ix.markEdge(mask, cx0, cy0, mw, xy[k], xy[k+1], xy[k+2], xy[k+3])
			}
		})
		for cy := cy0; cy <= cy1; cy++ {
			yc := ix.y0 + (float64(cy)+0.5)*ch
			known, inside := false, false
			for cx := cx0; cx <= cx1; cx++ {
				c := int32(cy*ix.nx + cx)
				if mask[(cy-cy0)*mw+cx-cx0] {
					pairs = append(pairs, pair{c, int32(fi)})
					known = false
					continue
				}
				if !known {
					inside = ix.featContains(off, ix.x0+(float64(cx)+0.5)*cw, yc)
					known = true
				}
				if inside && (full[c] < 0 || better(int32(fi), full[c])) {
					full[c] = int32(fi)
				}
			}
		}
	}
	// Candidates outranked by the cell's covering feature can never be the
	// answer, so they are dropped here; every candidate left outranks it,
	// and Locate returns the first that contains the point.
	kept := pairs[:0]
	for _, p := range pairs {
		if fc := full[p.cell]; fc < 0 || better(p.f, fc) {
			kept = append(kept, p)
		}
	}
	ix.cells = make([]cell, ncell+1)
	for c := range ncell {
		ix.cells[c].full = full[c]
	}
	for _, p := range kept {
		ix.cells[p.cell+1].start++
	}
	for c := range ncell {
		ix.cells[c+1].start += ix.cells[c].start
	}
	ix.cand = make([]uint32, len(kept))
	next := make([]uint32, ncell)
	for c := range ncell {
		next[c] = ix.cells[c].start
	}
	// Group per cell, deepest first (ties: earliest feature).
	slices.SortFunc(kept, func(a, b pair) int {
		switch {
		case a.cell != b.cell:
			return int(a.cell - b.cell)
		case a.f == b.f:
			return 0
		case better(a.f, b.f):
			return -1
		}
		return 1
	})
	for _, p := range kept {
		ix.cand[next[p.cell]] = offs[p.f]
		next[p.cell]++
	}
}

// eachRing calls fn with the coordinates of every ring of the feature at off.
func (ix *Index) eachRing(off uint32, fn func(xy []float64)) {
	d := ix.data
	at := int(off) + featHdr
	for range int(d[off+5]) {
		nr := int(d[at])
		at++
		for range nr {
			n := int(d[at])
			fn(d[at+ringHdr : at+ringHdr+n])
			at += ringHdr + n
		}
	}
}

// markEdge marks every cell of the feature's box whose rectangle, widened by
// a millionth of a cell, the edge touches. The widening dwarfs the rounding
// of cellX/cellY (about 1e-12 of a cell), so an unmarked cell is one that no
// point of the edge can share with any point mapped into it.
func (ix *Index) markEdge(mask []bool, cx0, cy0, mw int, xi, yi, xj, yj float64) {
	cw, ch := 1/ix.sx, 1/ix.sy
	ex, ey := cw*1e-6, ch*1e-6
	ylo, yhi := min(yi, yj), max(yi, yj)
	r0, r1 := ix.cellY(ylo-ey), ix.cellY(yhi+ey)
	r0 = max(r0, cy0)
	r1 = min(r1, cy0+len(mask)/mw-1)
	for r := r0; r <= r1; r++ {
		// The part of the edge within this row's widened y-range.
		ya := max(ylo, ix.y0+float64(r)*ch-ey)
		yb := min(yhi, ix.y0+float64(r+1)*ch+ey)
		if ya > yb {
			continue
		}
		xa, xb := xi, xj
		if yi != yj {
			ta := min(max((ya-yi)/(yj-yi), 0), 1)
			tb := min(max((yb-yi)/(yj-yi), 0), 1)
			xa, xb = xi+ta*(xj-xi), xi+tb*(xj-xi)
		}
		c0 := max(ix.cellX(min(xa, xb)-ex), cx0)
		c1 := min(ix.cellX(max(xa, xb)+ex), cx0+mw-1)
		row := mask[(r-cy0)*mw : (r-cy0+1)*mw]
		for c := c0; c <= c1; c++ {
			row[c-cx0] = true
		}
	}
}

// Len returns the number of features in the index.
func (ix *Index) Len() int { return len(ix.codes) }

// Locate returns the code of the deepest feature containing p (by Contains),
// or ok=false when no feature contains it: the point is outside the
// jurisdiction. It does not allocate.
func (ix *Index) Locate(p orb.Point) (code string, ok bool) {
	if f := ix.locate(p[0], p[1]); f >= 0 {
		return ix.codes[f], true
	}
	return "", false
}

func (ix *Index) locate(x, y float64) int32 {
	fx := (x - ix.x0) * ix.sx
	fy := (y - ix.y0) * ix.sy
	// Written so that NaN fails: such points are outside everything.
	if !(fx >= 0 && fx < ix.fnx && fy >= 0 && fy < ix.fny) {
		return -1
	}
	c := int(fy)*ix.nx + int(fx)
	cl := ix.cells[c : c+2 : c+2]
	for _, off := range ix.cand[cl[0].start:cl[1].start] {
		if ix.featContains(off, x, y) {
			return int32(ix.data[off+4])
		}
	}
	return cl[0].full
}

// featContains tests the feature whose blob starts at off.
func (ix *Index) featContains(off uint32, x, y float64) bool {
	d := ix.data[off:]
	if !(x >= d[0] && x < d[2] && y >= d[1] && y < d[3]) {
		return false
	}
	at := featHdr
	for range int(d[5]) {
		nr := int(d[at])
		at++
		end := at
		for range nr {
			end += ringHdr + int(d[end])
		}
		if ix.ringIn(d[at:], x, y) {
			inHole := false
			for h, hat := 1, at+ringHdr+int(d[at]); h < nr; h++ {
				if ix.ringIn(d[hat:], x, y) {
					inHole = true
					break
				}
				hat += ringHdr + int(d[hat])
			}
			if !inHole {
				return true
			}
		}
		at = end
	}
	return false
}

// ringIn is ringContains over a ring's blob. Outside the ring's box the
// answer is known: west of it the ray crosses the closed ring an even number
// of times, and east of it, above or below it no edge can count.
func (ix *Index) ringIn(d []float64, x, y float64) bool {
	if !(x >= d[1] && x < d[3] && y >= d[2] && y < d[4]) {
		return false
	}
	var xy []float64
	if b := int(d[5]); b >= 0 {
		bt := &ix.bands[b]
		band := bt.bandOf(y)
		xy = ix.bxy[4*bt.starts[band] : 4*bt.starts[band+1]]
		in := false
		for k := 0; k+3 < len(xy); k += 4 {
			xi, yi, xj, yj := xy[k], xy[k+1], xy[k+2], xy[k+3]
			if (yi > y) != (yj > y) && westOf(xi, yi, xj, yj, x, y) {
				in = !in
			}
		}
		return in
	}
	xy = d[ringHdr : ringHdr+int(d[0])]
	in := false
	for k := 0; k+3 < len(xy); k += 2 {
		xi, yi, xj, yj := xy[k], xy[k+1], xy[k+2], xy[k+3]
		if (yi > y) != (yj > y) && westOf(xi, yi, xj, yj, x, y) {
			in = !in
		}
	}
	return in
}
