// Package gen generates a realistic installation at a chosen scale — from
// one community to a megacity of 50,000 grids, ten million residents and ten
// million cases over five years — straight into an empty SQLite or
// PostgreSQL database (`gridhall gen`).
//
// Everything is written by bulk paths, never through the services one row at
// a time: multi-row prepared INSERTs in large transactions on SQLite, COPY
// on PostgreSQL, with the secondary indexes and the case_facts triggers set
// aside during the load and rebuilt after it. The rows are nevertheless the
// rows the services would have written: identity numbers sealed with the
// installation's keys and found through the same blind indexes, cases with
// the timeline, stage clocks and counters their workflow would have left,
// case_facts filled by the aggregate of migration 0010, and one audit entry
// "data.generated" appended through the audit log so the chain verifies.
//
// Generation streams: rows are drawn in order and written in batches, and
// nothing that grows with the data set is held, so memory stays bounded
// whatever the scale. It is deterministic: every random draw comes from a
// generator seeded by the seed and the row's place (a grid, a case), so the
// same seed, scale and Now give identical data.
package gen

import (
	"fmt"
	"slices"
	"strings"
)

// Scale is how much to generate.
type Scale struct {
	// Name is the preset the scale came from ("" for none).
	Name string
	// Grids is the number of grids; communities hold 10 grids, streets 10
	// communities and districts 20 streets, so the tree follows from it.
	Grids int
	// Residents is the number of residents, spread evenly over the grids.
	Residents int
	// Cases is the number of cases reported over Years years ending now.
	Cases int
	Years int
}

// Fan-out of the territory tree: how many children a node has.
const (
	gridsPerCommunity     = 10
	communitiesPerStreet  = 10
	streetsPerDistrict    = 20
	maxDistricts          = 99
	maxCommunitiesPerNode = 999 // three digits per level
)

// Presets are the named scales, smallest first.
var Presets = []Scale{
	{Name: "community", Grids: 10, Residents: 3_000, Cases: 5_000, Years: 2},
	{Name: "street", Grids: 80, Residents: 25_000, Cases: 40_000, Years: 3},
	{Name: "district", Grids: 1_000, Residents: 250_000, Cases: 300_000, Years: 5},
	{Name: "city", Grids: 5_000, Residents: 1_000_000, Cases: 1_000_000, Years: 5},
	{Name: "megacity", Grids: 50_000, Residents: 10_000_000, Cases: 10_000_000, Years: 5},
}

// PresetNames lists the presets' names, for help texts.
func PresetNames() string {
	names := make([]string, len(Presets))
	for i, p := range Presets {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Preset returns the named scale.
func Preset(name string) (Scale, error) {
	i := slices.IndexFunc(Presets, func(s Scale) bool { return s.Name == name })
	if i < 0 {
		return Scale{}, fmt.Errorf("unknown scale %q (want one of %s)", name, PresetNames())
	}
	return Presets[i], nil
}

// Validate checks that the scale can be generated: at least one grid, one
// resident per grid at most ten thousand times over, and codes that fit
// the territory code's digits.
func (s Scale) Validate() error {
	switch {
	case s.Grids < 1:
		return fmt.Errorf("grids must be at least 1, got %d", s.Grids)
	case s.Grids > maxDistricts*streetsPerDistrict*communitiesPerStreet*gridsPerCommunity:
		return fmt.Errorf("grids must be at most %d, got %d", maxDistricts*streetsPerDistrict*communitiesPerStreet*gridsPerCommunity, s.Grids)
	case s.Residents < 0 || s.Cases < 0:
		return fmt.Errorf("residents and cases must not be negative")
	case s.Residents > s.Grids*20_000:
		return fmt.Errorf("at most 20,000 residents per grid, got %d residents in %d grids", s.Residents, s.Grids)
	case s.Years < 1 || s.Years > 20:
		return fmt.Errorf("years must be from 1 to 20, got %d", s.Years)
	}
	return nil
}

// String describes the scale in one line.
func (s Scale) String() string {
	name := s.Name
	if name == "" {
		name = "custom"
	}
	return fmt.Sprintf("%s: %d grids, %d residents, %d cases over %d years", name, s.Grids, s.Residents, s.Cases, s.Years)
}
