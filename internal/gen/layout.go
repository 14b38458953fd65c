package gen

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/territory"
)

// node is one place of the generated territory.
type node struct {
	level          territory.Level
	code, path     string
	nameZH, nameEN string
	bound          orb.Bound
	parent         int // index of the parent in the level above; -1 for a district
	first, count   int // the children: indexes in the level below
	grids          int // grids inside, which sizes the node's area
}

// layout is the generated tree, level by level: districts, streets,
// communities, grids. Children of a node are consecutive in their level and
// numbered west→east, north→south, as DOMAIN.md §2 asks of grids.
type layout struct {
	levels [4][]node
}

// The city lies around Wuhan's centre; a grid is about 380 m × 350 m.
const (
	centreLng = 114.30
	centreLat = 30.55
	cellLng   = 0.0040
	cellLat   = 0.0032
	// lngMetres is how much shorter a degree of longitude is than one of
	// latitude at 30.5°N: it keeps the cells near square on the ground.
	lngMetres = 0.862
)

// districtNames are Wuhan's districts with their GB/T 2260 codes, then
// invented ones for the larger scales (codes 420150 on).
var districtNames = [][3]string{
	{"420102", "江岸区", "Jiang'an District"}, {"420103", "江汉区", "Jianghan District"},
	{"420104", "硚口区", "Qiaokou District"}, {"420105", "汉阳区", "Hanyang District"},
	{"420106", "武昌区", "Wuchang District"}, {"420107", "青山区", "Qingshan District"},
	{"420111", "洪山区", "Hongshan District"}, {"420112", "东西湖区", "Dongxihu District"},
	{"420113", "汉南区", "Hannan District"}, {"420114", "蔡甸区", "Caidian District"},
	{"420115", "江夏区", "Jiangxia District"}, {"420116", "黄陂区", "Huangpi District"},
	{"420117", "新洲区", "Xinzhou District"},
}

var (
	districtSyllables = []string{"东湖", "沌口", "临空", "长江", "光谷", "汉口北", "武湖", "阳逻", "金口", "纸坊", "横店", "前川", "汤逊湖", "后湖", "南湖", "白沙", "天河", "黄家湖"}
	districtSuffixes  = []string{"新区", "区", "东区", "西区", "南区", "北区"}
	streetFirst       = []string{"中南", "水果湖", "首义", "紫阳", "杨园", "徐家棚", "积玉桥", "粮道", "黄鹤楼", "白沙洲", "南湖", "珞南", "关山", "卓刀泉", "花山", "九峰", "狮子山", "张家湾", "洪山", "和平", "青山", "红卫", "冶金", "工人村", "武东", "钢花", "新沟桥", "红钢城", "厂前", "八吉府", "丹水池", "后湖", "永清", "大智", "一元", "车站", "球场", "劳动", "塔子湖", "百步亭"}
	streetSecond      = []string{"路", "街", "里", "桥", "湖", "岭", "园", "门", "口", "坊"}
	communityFirst    = []string{"幸福", "和谐", "阳光", "翠柳", "紫荆", "丁香", "梅苑", "桂园", "兰亭", "竹林", "松涛", "枫林", "金桥", "银河", "友谊", "团结", "建设", "光明", "东亭", "西苑", "南苑", "北湖", "鹦鹉", "晴川", "琴台", "月湖", "知音", "长丰", "新华", "民主"}
	communitySecond   = []string{"", "一", "二", "三", "东", "西", "南", "北", "新村", "花园", "小区", "家园", "苑", "里", "湾", "坊", "城", "港", "岸", "园"}
)

// districtName is the code and names of the d-th district (0-based).
func districtName(d int) (code, zh, en string) {
	if d < len(districtNames) {
		n := districtNames[d]
		return n[0], n[1], n[2]
	}
	k := d - len(districtNames)
	zh = districtSyllables[k%len(districtSyllables)] + districtSuffixes[(k/len(districtSyllables))%len(districtSuffixes)]
	return fmt.Sprintf("4201%02d", 50+k), zh, fmt.Sprintf("District %d", d+1)
}

// newLayout builds the territory tree of a scale and cuts the city's area
// into nested rectangles: each node's area in proportion to its grids.
func newLayout(s Scale) *layout {
	l := &layout{}
	nComm := ceilDiv(s.Grids, gridsPerCommunity)
	nStreet := ceilDiv(nComm, communitiesPerStreet)
	nDistrict := ceilDiv(nStreet, streetsPerDistrict)
	// Counts of children: the last node of a level takes the rest.
	share := func(total, per, i int) int { return min(per, total-i*per) }
	for d := range nDistrict {
		code, zh, en := districtName(d)
		l.levels[territory.District] = append(l.levels[territory.District], node{level: territory.District, code: code,
			nameZH: zh, nameEN: en, parent: -1, first: d * streetsPerDistrict, count: share(nStreet, streetsPerDistrict, d)})
	}
	for si := range nStreet {
		d := si / streetsPerDistrict
		k := si % streetsPerDistrict
		dn := l.levels[territory.District][d]
		zh := streetFirst[k%len(streetFirst)] + streetSecond[(k/len(streetFirst)+d)%len(streetSecond)]
		l.levels[territory.Street] = append(l.levels[territory.Street], node{level: territory.Street,
			code: fmt.Sprintf("%s%03d", dn.code, k+1), nameZH: zh + "街道", nameEN: fmt.Sprintf("%s, street %d", dn.nameEN, k+1),
			parent: d, first: si * communitiesPerStreet, count: share(nComm, communitiesPerStreet, si)})
	}
	for ci := range nComm {
		si := ci / communitiesPerStreet
		k := ci % communitiesPerStreet
		sn := l.levels[territory.Street][si]
		zh := communityFirst[(k+si*7)%len(communityFirst)] + communitySecond[(k+si)%len(communitySecond)]
		l.levels[territory.Community] = append(l.levels[territory.Community], node{level: territory.Community,
			code: fmt.Sprintf("%s%03d", sn.code, k+1), nameZH: zh + "社区", nameEN: fmt.Sprintf("%s, community %d", sn.nameEN, k+1),
			parent: si, first: ci * gridsPerCommunity, count: share(s.Grids, gridsPerCommunity, ci)})
	}
	for gi := range s.Grids {
		ci := gi / gridsPerCommunity
		k := gi % gridsPerCommunity
		cn := l.levels[territory.Community][ci]
		l.levels[territory.Grid] = append(l.levels[territory.Grid], node{level: territory.Grid,
			code: fmt.Sprintf("%s%03d", cn.code, k+1), nameZH: fmt.Sprintf("%s第%d网格", cn.nameZH, k+1),
			nameEN: fmt.Sprintf("%s, grid %d", cn.nameEN, k+1), parent: ci, grids: 1})
	}
	// Grid counts up the tree, paths down it.
	for lv := territory.Community; lv >= territory.District; lv-- {
		for i := range l.levels[lv] {
			n := &l.levels[lv][i]
			for c := n.first; c < n.first+n.count; c++ {
				n.grids += l.levels[lv+1][c].grids
			}
		}
	}
	for lv := territory.District; lv <= territory.Grid; lv++ {
		for i := range l.levels[lv] {
			n := &l.levels[lv][i]
			n.path, _ = auth.ScopeFromCode(n.code)
		}
	}
	// The city's rectangle, then each node cut into its children.
	area := float64(s.Grids) * cellLng * cellLat
	w := math.Sqrt(area * 1.2 / lngMetres)
	h := area / w
	city := orb.Bound{Min: orb.Point{centreLng - w/2, centreLat - h/2}, Max: orb.Point{centreLng + w/2, centreLat + h/2}}
	top := l.levels[territory.District]
	weights := make([]int, len(top))
	for i, n := range top {
		weights[i] = n.grids
	}
	for i, b := range partition(city, weights) {
		top[i].bound = b
	}
	for lv := territory.District; lv < territory.Grid; lv++ {
		for _, n := range l.levels[lv] {
			kids := l.levels[lv+1][n.first : n.first+n.count]
			weights := make([]int, len(kids))
			for i, k := range kids {
				weights[i] = k.grids
			}
			for i, b := range partition(n.bound, weights) {
				kids[i].bound = b
			}
		}
	}
	return l
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// partition cuts b into len(weights) rectangles that tile it exactly, each
// with an area in proportion to its weight: rows from north to south, each
// row cut west to east (a brick wall). Shared edges are computed once and
// the outer edges copied from b, so that neighbours and parents meet
// without gaps or overlaps in floating point.
func partition(b orb.Bound, weights []int) []orb.Bound {
	n := len(weights)
	w, h := (b.Max[0]-b.Min[0])*lngMetres, b.Max[1]-b.Min[1]
	rows := max(1, min(n, int(math.Round(math.Sqrt(float64(n)*h/w)))))
	total := 0
	for _, x := range weights {
		total += x
	}
	out := make([]orb.Bound, 0, n)
	cum := 0
	ys := make([]float64, rows+1)
	starts := make([]int, rows+1)
	for r := 0; r <= rows; r++ {
		starts[r] = n * r / rows
	}
	ys[0], ys[rows] = b.Max[1], b.Min[1]
	for r := 1; r < rows; r++ {
		for _, x := range weights[starts[r-1]:starts[r]] {
			cum += x
		}
		ys[r] = b.Max[1] - (b.Max[1]-b.Min[1])*float64(cum)/float64(total)
	}
	for r := range rows {
		row := weights[starts[r]:starts[r+1]]
		rowTotal := 0
		for _, x := range row {
			rowTotal += x
		}
		x0, c := b.Min[0], 0
		for i, x := range row {
			c += x
			x1 := b.Min[0] + (b.Max[0]-b.Min[0])*float64(c)/float64(rowTotal)
			if i == len(row)-1 {
				x1 = b.Max[0]
			}
			out = append(out, orb.Bound{Min: orb.Point{x0, ys[r+1]}, Max: orb.Point{x1, ys[r]}})
			x0 = x1
		}
	}
	return out
}

// rect is a bound as a closed counter-clockwise ring.
func rect(b orb.Bound) orb.MultiPolygon {
	return orb.MultiPolygon{{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}}
}

// inside is a point of b drawn from u, v in [0, 1), kept a tenth of the
// width away from b's edges so that the locator never has to decide a
// point on a shared edge.
func inside(b orb.Bound, u, v float64) orb.Point {
	return orb.Point{b.Min[0] + (0.1+0.8*u)*(b.Max[0]-b.Min[0]), b.Min[1] + (0.1+0.8*v)*(b.Max[1]-b.Min[1])}
}
