package gen

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// originRegions are the places floating residents' identity numbers come
// from: other cities of Hubei and the provinces that send most people to
// Wuhan.
var originRegions = []string{"420500", "421000", "420900", "421100", "420800", "421200", "430100", "410100", "360100", "500100", "510100", "340100"}

// person is one resident drawn for a household.
type person struct {
	relation people.Relation
	female   bool
	age      int
}

// household draws the members of a household of n people: a quarter of
// the residents are 60 or over, as in DOMAIN.md's Community Y (24%).
func household(rng *rand.Rand, n int) []person {
	between := func(lo, hi int) int { return lo + rng.IntN(hi-lo+1) }
	female := rng.IntN(2) == 0
	var ps []person
	switch {
	case n == 1:
		age := between(22, 59)
		if rng.Float64() < 0.55 {
			age = between(60, 94) // elderly living alone
		}
		return []person{{people.Head, female, age}}
	case n == 2:
		age := between(22, 59)
		if rng.Float64() < 0.55 {
			age = between(60, 90)
		}
		return []person{{people.Head, false, age}, {people.Spouse, true, max(20, age+between(-4, 3))}}
	}
	head := between(28, 58)
	ps = append(ps, person{people.Head, false, head}, person{people.Spouse, true, max(22, head+between(-4, 3))})
	child := func() person { return person{people.Child, rng.IntN(2) == 0, max(0, head-between(22, 36))} }
	parent := func() person { return person{people.Parent, rng.IntN(2) == 0, min(99, head+between(24, 32))} }
	ps = append(ps, child())
	switch n {
	case 4:
		if rng.IntN(2) == 0 {
			ps = append(ps, child())
		} else {
			ps = append(ps, parent())
		}
	case 5:
		ps = append(ps, parent(), parent())
	}
	return ps
}

// householdSize draws how many live together: 2.74 on average.
func householdSize(rng *rand.Rand) int {
	x := rng.Float64()
	for i, w := range []float64{0.16, 0.30, 0.28, 0.16} {
		if x < w {
			return i + 1
		}
		x -= w
	}
	return 5
}

// writePeople writes, grid by grid, buildings at points inside the grid,
// their houses, and the households and residents living in them, with
// identity numbers and phones sealed as the registry seals them.
func (g *generator) writePeople(l *loader) error {
	created := db.Millis(g.epoch)
	buildings, err := l.table("buildings", "id", "name", "address", "address_key", "lng", "lat", "units", "floors", "households",
		"grid_code", "grid_path", "created_at", "updated_at")
	if err != nil {
		return err
	}
	houses, err := l.table("houses", "id", "building_id", "unit", "number", "floor", "use", "grid_path", "created_at", "updated_at")
	if err != nil {
		return err
	}
	households, err := l.table("households", "id", "house_id", "head_id", "grid_path", "created_at", "updated_at")
	if err != nil {
		return err
	}
	residents, err := l.table("residents", "id", "household_id", "relation", "name", "gender", "birth_date", "document_kind",
		"document_sealed", "document_index", "phone_sealed", "phone_index", "registration", "move_in", "grid_path",
		"verification", "created_at", "updated_at")
	if err != nil {
		return err
	}
	tags, err := l.table("resident_tags", "resident_id", "tag_code")
	if err != nil {
		return err
	}
	cst := calendar.Location()
	now := g.o.Now.In(cst)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	base := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
	// Identity numbers must be unique: one counter per region, birth date
	// and sex picks the sequence number (500 of each sex per date).
	regions := len(g.l.levels[territory.District]) + len(originRegions)
	seqs := make([]uint16, regions<<17)
	grids := g.l.levels[territory.Grid]
	g.gridBuildings = make([]int64, len(grids)+1)
	g.commBuildings = make([]int64, len(g.l.levels[territory.Community]))
	var bID, hID, hhID, rID int64
	var commN int64
	R, G := int64(g.o.Scale.Residents), int64(len(grids))
	for gi, gn := range grids {
		if err := l.maybeCommit(); err != nil {
			return err
		}
		rng := g.rngFor(streamGrids, uint64(gi))
		if gi == 0 || grids[gi-1].parent != gn.parent {
			g.commBuildings[gn.parent] = bID + 1
			commN = 0
		}
		g.gridBuildings[gi] = bID + 1
		left := int((R*int64(gi+1))/G - (R*int64(gi))/G)
		district := g.districtOf(gi)
		dcode := g.l.levels[territory.District][district].code
		comm := g.l.levels[territory.Community][gn.parent]
		for nb := 0; left > 0 || nb == 0; nb++ {
			bID++
			commN++
			units, floors := 1+rng.IntN(3), 6+rng.IntN(13)
			if rng.Float64() < 0.2 {
				floors = 18 + rng.IntN(16)
			}
			// A small remainder gets a small building, not an empty tower.
			if need := int(float64(left)/2.74/0.92/2) + 1; units*floors > need {
				units, floors = 1, max(2, min(floors, need))
			}
			hh := 0
			for u := 1; u <= units; u++ {
				for f := 1; f <= floors; f++ {
					for k := 1; k <= 2; k++ {
						hID++
						number := strconv.Itoa(f*100 + k)
						if left == 0 || rng.Float64() < 0.08 {
							if err := houses.add(hID, bID, strconv.Itoa(u), number, f, string(people.Vacant), gn.path, created, created); err != nil {
								return err
							}
							continue
						}
						use := people.OwnerOccupied
						switch x := rng.Float64(); {
						case x < 0.22:
							use = people.Rented
						case x < 0.24:
							use = people.GroupRented
						}
						if err := houses.add(hID, bID, strconv.Itoa(u), number, f, string(use), gn.path, created, created); err != nil {
							return err
						}
						hhID++
						hh++
						members := household(rng, min(left, householdSize(rng)))
						left -= len(members)
						if err := households.add(hhID, hID, rID+1, gn.path, created, created); err != nil {
							return err
						}
						surname := surnames[rng.IntN(len(surnames))]
						elderly := true
						for _, m := range members {
							elderly = elderly && m.age >= 60
						}
						floating := use != people.OwnerOccupied && rng.Float64() < 0.6 || rng.Float64() < 0.1
						for _, m := range members {
							rID++
							name := personName(rng, m.female)
							if m.relation != people.Spouse && m.relation != people.Parent {
								name = surname + name[len(surnames[0]):]
							}
							birth := today.AddDate(-m.age, 0, -rng.IntN(365))
							region, ri := dcode, district
							reg := people.Registered
							if floating {
								reg = people.Floating
								k := rng.IntN(len(originRegions))
								region, ri = originRegions[k], len(g.l.levels[territory.District])+k
							}
							var doc string
							for {
								days := int(birth.Sub(base).Hours() / 24)
								key := ri<<17 | days<<1
								if m.female {
									key |= 1
								}
								if seqs[key] < 500 {
									doc = people.GenerateIDNumber(region, birth, m.female, int(seqs[key]))
									seqs[key]++
									break
								}
								birth = birth.AddDate(0, 0, -1)
							}
							phone := ""
							if m.age >= 16 {
								phone = fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000))
							}
							sealed, err := people.SealIdentity(g.d.Keys, people.DocIDCard, doc, phone)
							if err != nil {
								return err
							}
							gender := people.Male
							if m.female {
								gender = people.Female
							}
							moveIn := birth
							if m.age > 18 {
								moveIn = today.AddDate(-rng.IntN(min(m.age-17, 30)), -rng.IntN(12), -rng.IntN(28))
							}
							if err := residents.add(rID, hhID, string(m.relation), name, string(gender), birth.Format(time.DateOnly), people.DocIDCard,
								sealed.DocumentSealed, sealed.DocumentIndex, sealed.PhoneSealed, sealed.PhoneIndex, string(reg),
								moveIn.Format(time.DateOnly), gn.path, "none", created, created); err != nil {
								return err
							}
							g.sum.Residents++
							if m.age >= 60 {
								g.sum.Aged60++
							}
							for _, t := range residentTags(rng, m.age, elderly && len(members) <= 2) {
								if err := tags.add(rID, t); err != nil {
									return err
								}
							}
						}
					}
				}
			}
			p := g.buildingPoint(gi, bID)
			addr := g.buildingAddress(gn.parent, commN)
			if err := buildings.add(bID, fmt.Sprintf("%s%d号楼", comm.nameZH, commN), addr, territory.AddressKey(addr), p[0], p[1],
				units, floors, hh, gn.code, gn.path, created, created); err != nil {
				return err
			}
			g.sum.Buildings++
		}
	}
	g.gridBuildings[len(grids)] = bID + 1
	g.sum.Houses, g.sum.Households = int(hID), int(hhID)
	return nil
}

// residentTags draws a resident's care and key-group tags. Restricted
// groups are rare, as they are.
func residentTags(rng *rand.Rand, age int, emptyNest bool) []string {
	var out []string
	x := rng.Float64()
	switch {
	case x < 0.02:
		out = append(out, "disabled")
	case x < 0.05:
		out = append(out, "low_income")
	case x < 0.07 && age > 25:
		out = append(out, "veteran")
	}
	if emptyNest && rng.Float64() < 0.4 {
		out = append(out, "empty_nest")
	}
	switch y := rng.Float64(); {
	case y < 0.0005:
		out = append(out, "community_correction")
	case y < 0.0015 && age > 20:
		out = append(out, "released_prisoner")
	case y < 0.0025:
		out = append(out, "mental_disorder")
	case y < 0.0030 && age >= 12 && age <= 25:
		out = append(out, "key_youth")
	}
	return out
}

// buildingPoint is where building id of grid gi stands: drawn from the
// building's own random source, so cases can find it again without the
// buildings being kept.
func (g *generator) buildingPoint(gi int, id int64) orb.Point {
	rng := g.rngFor(streamBuildings, uint64(id))
	return inside(g.l.levels[territory.Grid][gi].bound, rng.Float64(), rng.Float64())
}
