// Package territory owns GridHall's places: the district → street →
// community → grid tree with boundaries and history, the point → grid
// locator, buildings with addresses, and the staff assigned to grids.
// Every report, resident, building and worker belongs to a place found here.
package territory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"golang.org/x/text/unicode/norm"

	"github.com/gridhall/gridhall/internal/auth"
)

// Level is a node's depth in the tree.
type Level int

// The levels, with the length of their codes: a 6-digit GB/T 2260 district
// and 3 more digits for each level below.
const (
	District Level = iota
	Street
	Community
	Grid
	MicroGrid
)

// Kinds names the levels as they appear in files and the API.
var Kinds = []string{"district", "street", "community", "grid", "microgrid"}

func (l Level) String() string {
	if l < District || l > MicroGrid {
		return "unknown"
	}
	return Kinds[l]
}

// LevelOf returns the level of a territory code, or false when the code is
// not 6, 9, 12, 15 or 18 digits.
func LevelOf(code string) (Level, bool) {
	n := len(code)
	if n < 6 || n > 18 || (n-6)%3 != 0 {
		return 0, false
	}
	for i := 0; i < n; i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	return Level((n - 6) / 3), true
}

// ParentCode returns the code of a node's parent: the code without its last
// three digits ("" for a district).
func ParentCode(code string) string {
	if len(code) <= 6 {
		return ""
	}
	return code[:len(code)-3]
}

// Node is one current or historical version of a place.
type Node struct {
	ID         int64              `json:"version"`
	Code       string             `json:"code"`
	Path       string             `json:"path"`
	ParentCode string             `json:"parent,omitempty"`
	Level      Level              `json:"-"`
	NameZH     string             `json:"name"`
	NameEN     string             `json:"name_en,omitempty"`
	Boundary   orb.MultiPolygon   `json:"-"`
	Population int64              `json:"population"`
	Households int64              `json:"households"`
	ValidFrom  time.Time          `json:"valid_from"`
	ValidTo    *time.Time         `json:"valid_to,omitempty"`
	Bound      orb.Bound          `json:"-"`
	Extra      map[string]float64 `json:"-"`
}

// Kind returns the node's kind name.
func (n Node) Kind() string { return n.Level.String() }

// Problem is one thing wrong with an imported or edited boundary. Reason is an
// i18n key; Index is the feature's position in the file (-1 for an edit).
type Problem struct {
	Index  int    `json:"index"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason"`
	Other  string `json:"other,omitempty"`
	// Message is Reason translated, filled in by the faces.
	Message string `json:"message,omitempty"`
}

// Feature is a parsed GeoJSON feature of a territory file.
type Feature struct {
	Index  int
	Code   string
	NameZH string
	NameEN string
	Parent string // the optional "parent" property, checked against the code
	Shape  orb.MultiPolygon
}

// ParseFeatureCollection reads a GeoJSON FeatureCollection (RFC 7946) of
// territory nodes. It returns every feature it could read and a problem for
// every feature it could not, so that one bad feature does not hide the
// others. A file that is not a FeatureCollection at all is one problem at
// index -1.
func ParseFeatureCollection(data []byte) ([]Feature, []Problem) {
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil || fc.Type != "FeatureCollection" {
		return nil, []Problem{{Index: -1, Reason: "territory.problem.not_feature_collection"}}
	}
	var out []Feature
	var problems []Problem
	for i, raw := range fc.Features {
		f, p := parseFeature(i, raw)
		if p != nil {
			problems = append(problems, *p)
			continue
		}
		out = append(out, f)
	}
	if len(fc.Features) == 0 {
		problems = append(problems, Problem{Index: -1, Reason: "territory.problem.empty"})
	}
	return out, problems
}

func parseFeature(i int, raw json.RawMessage) (Feature, *Problem) {
	var f struct {
		Type       string          `json:"type"`
		Properties map[string]any  `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	if err := json.Unmarshal(raw, &f); err != nil || f.Type != "Feature" {
		return Feature{}, &Problem{Index: i, Reason: "territory.problem.not_feature"}
	}
	code, _ := f.Properties["code"].(string)
	code = strings.TrimSpace(code)
	if _, ok := LevelOf(code); !ok {
		return Feature{}, &Problem{Index: i, Code: code, Reason: "territory.problem.code_format"}
	}
	name := firstString(f.Properties, "name", "name_zh")
	if name == "" || utf8.RuneCountInString(name) > 100 {
		return Feature{}, &Problem{Index: i, Code: code, Reason: "territory.problem.name"}
	}
	shape, p := ParseGeometry(f.Geometry)
	if p != "" {
		return Feature{}, &Problem{Index: i, Code: code, Reason: p}
	}
	parent, _ := f.Properties["parent"].(string)
	return Feature{Index: i, Code: code, NameZH: name, NameEN: firstString(f.Properties, "name_en"), Parent: strings.TrimSpace(parent), Shape: shape}, nil
}

func firstString(props map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := props[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// ParseGeometry reads a GeoJSON Polygon or MultiPolygon geometry and returns
// it as a MultiPolygon, or the problem's i18n key. Only these two types can
// bound a place, so they are decoded directly rather than through a general
// GeoJSON library.
func ParseGeometry(raw json.RawMessage) (orb.MultiPolygon, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, "territory.problem.no_geometry"
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, "territory.problem.geometry_type"
	}
	switch g.Type {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil {
			return nil, "territory.problem.coordinates"
		}
		p, ok := toPolygon(c)
		if !ok {
			return nil, "territory.problem.coordinates"
		}
		return orb.MultiPolygon{p}, ""
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &c); err != nil || len(c) == 0 {
			return nil, "territory.problem.coordinates"
		}
		mp := make(orb.MultiPolygon, 0, len(c))
		for _, pc := range c {
			p, ok := toPolygon(pc)
			if !ok {
				return nil, "territory.problem.coordinates"
			}
			mp = append(mp, p)
		}
		return mp, ""
	}
	return nil, "territory.problem.geometry_type"
}

// toPolygon converts GeoJSON polygon coordinates; every position must have a
// longitude and a latitude (an altitude is allowed and dropped).
func toPolygon(c [][][]float64) (orb.Polygon, bool) {
	if len(c) == 0 {
		return nil, false
	}
	p := make(orb.Polygon, 0, len(c))
	for _, rc := range c {
		r := make(orb.Ring, 0, len(rc))
		for _, pos := range rc {
			if len(pos) < 2 || len(pos) > 3 {
				return nil, false
			}
			r = append(r, orb.Point{pos[0], pos[1]})
		}
		p = append(p, r)
	}
	return p, true
}

// EncodeBoundary is the stored and exported form of a boundary: a GeoJSON
// Polygon when it has one part, else a MultiPolygon.
func EncodeBoundary(mp orb.MultiPolygon) string {
	var b []byte
	var err error
	if len(mp) == 1 {
		b, err = json.Marshal(struct {
			Type        string      `json:"type"`
			Coordinates orb.Polygon `json:"coordinates"`
		}{"Polygon", mp[0]})
	} else {
		b, err = json.Marshal(struct {
			Type        string           `json:"type"`
			Coordinates orb.MultiPolygon `json:"coordinates"`
		}{"MultiPolygon", mp})
	}
	if err != nil {
		panic(fmt.Sprintf("territory: encode boundary: %v", err)) // only NaN/Inf fail, and CheckShape rejects them first
	}
	return string(b)
}

// DecodeBoundary reads a stored boundary.
func DecodeBoundary(s string) (orb.MultiPolygon, error) {
	mp, p := ParseGeometry(json.RawMessage(s))
	if p != "" {
		return nil, fmt.Errorf("stored boundary is not a polygon: %s", p)
	}
	return mp, nil
}

// AddressKey normalises an address for search: full-width characters folded
// to their ASCII forms (NFKC), letters lower-cased, and whitespace and
// punctuation removed, so "武昌区 中山路 １２号" and "武昌区中山路12号" match.
func AddressKey(s string) string {
	s = norm.NFKC.String(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r):
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// pathOf returns the scope path of a code.
func pathOf(code string) string {
	p, err := auth.ScopeFromCode(code)
	if err != nil {
		return ""
	}
	return p
}
