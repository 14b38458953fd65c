// Package geo is GridHall's planar geometry: which grid a point falls in,
// whether a boundary is well formed, whether a child boundary lies inside its
// parent and whether two siblings overlap, and the conversions between the
// coordinate systems Chinese phone maps use. It is pure code: no database, no
// I/O, no package state. Coordinates are orb.Point{lng, lat} in degrees; shapes
// are orb.MultiPolygon with closed rings, exterior rings first.
//
// # The edge rule
//
// A point belongs to a ring by the crossing-number test with a ray towards +x
// (east): the edge from (xi, yi) to (xj, yj) is counted when
//
//	(yi > y) != (yj > y)  and  x < xi + (y-yi)·(xj-xi)/(yj-yi)
//
// and the point is inside when the count is odd. The comparison is decided
// exactly, as if in real arithmetic: it is the sign of an orientation
// determinant, computed in float64 with Shewchuk's error bound and, in the
// rare case the bound cannot vouch for the sign, recomputed exactly with
// error-free transformations (FMA products, expansion sums). So the rule holds
// to the last bit and does not depend on the direction in which a shared edge
// is walked; computing xIntersect in floating point instead puts points near
// an edge in both neighbours or in neither. A polygon contains a point inside its exterior ring and inside
// none of its holes; a multipolygon contains a point that any member contains.
//
// The consequence is what makes routing deterministic. The rule decides every
// point as if it were moved an infinitesimal step east and a much smaller step
// north, so when polygons share their edges exactly (a partition), every point
// of the covered area belongs to exactly one polygon, including points on
// shared edges and at shared vertices: a point on a north–south edge belongs to
// the polygon to its east, a point on an east–west edge to the polygon to its
// north, a shared vertex to the polygon just east-north-east of it. Points on
// the west and south borders of the covered area are inside, points on the
// east and north borders are outside. A point in a hole is outside.
//
// # Locating points
//
// Build lays a uniform grid of cells over the features' extent (about
// sixteen cells per feature). For each cell it records the deepest feature that covers
// the whole cell (found once per run of untouched cells with one
// point-in-polygon test) and, ordered deepest first, the features whose
// boundary passes through the cell; features outranked by the covering one are
// dropped. Locate computes the cell from the point with two multiplications,
// tests the few boundary candidates with the edge rule and stops at the first
// that contains the point. Cells are marked as touched by an edge with a margin
// far larger than the rounding of the cell computation, so a cell's "covered"
// verdict is exact for every point that maps to it. Rings with many edges get
// a per-ring index of horizontal bands, so a district with thousands of
// vertices costs a few edge tests, not thousands. Each feature's rings are
// stored as one contiguous run of float64s, so testing a candidate touches
// one stretch of memory; with random points the lookup is bound by cache
// misses, not arithmetic. BENCHMARKS.md (repository root) has the figures: about three million
// lookups a second on one core for 50,000 grids, against under one million
// for an R-tree over bounding boxes followed by Contains (every lookup
// descends the tree, then tests whole polygons) and about ten thousand for
// PostGIS. The grid's weakness is features spread very unevenly (one far-off
// feature stretches the grid and crowds the rest into few cells); territory
// data is compact, so it is not a concern here.
//
// # Validation
//
// CheckShape rejects what would make the rule above meaningless: non-finite or
// out-of-range coordinates, open or degenerate rings, rings that cross or touch
// themselves, rings of one shape that cross or share a stretch of boundary,
// holes outside their shell or inside another hole, and members of a
// multipolygon that overlap. Rings of different members, and a hole and its
// shell, may touch at single points, as in the OGC simple-features model.
// Segment relations are decided with the same exact orientation predicate.
//
// Within and Overlaps work in a local metric plane (an equirectangular
// projection about the shapes' centre, accurate to well under one per cent
// across a city) and compare boundaries: each edge is split where it meets
// the other shape's boundary, and a piece that lies on the wrong side must be
// covered by the union of the capsules of radius tol around the other
// boundary's edges. A representative interior point settles the cases where
// the boundaries never separate (identical shapes, a hole filled by a child).
package geo
