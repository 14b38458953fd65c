package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// Residents is about how many residents the demo registers (DOMAIN.md:
// about 7,500 permanent residents, about 24% of them over 60).
const Residents = 7500

var (
	surnames = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
		"郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡"}
	givenMale   = []string{"伟", "强", "磊", "军", "勇", "杰", "涛", "明", "超", "斌", "建国", "建华", "志强", "海燕", "国庆", "文博", "子轩", "浩然", "宇航", "俊杰", "家豪", "德华", "振华", "卫东"}
	givenFemale = []string{"芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀英", "桂兰", "玉兰", "淑珍", "美玲", "晓燕", "雨涵", "欣怡", "梓涵", "诗琪", "春梅", "雪梅", "丽华", "凤英", "金凤", "慧敏"}
)

// ageBands draws ages so that the demo's age structure is close to the
// case's: about a quarter over 60.
var ageBands = []struct {
	lo, hi int
	weight float64
}{{0, 20, 0.17}, {21, 30, 0.12}, {31, 40, 0.16}, {41, 50, 0.14}, {51, 59, 0.17}, {60, 92, 0.24}}

func drawAge(rng *rand.Rand, min int) int {
	for {
		x := rng.Float64()
		for _, b := range ageBands {
			if x < b.weight {
				if age := b.lo + rng.IntN(b.hi-b.lo+1); age >= min {
					return age
				}
				break
			}
			x -= b.weight
		}
	}
}

// PeopleSummary says what SeedPeople registered. The numbers are returned so
// that tests can prove none of them is stored or logged in plain text.
type PeopleSummary struct {
	Households, Residents, Aged60 int
	Documents, Phones             []string
}

// SeedPeople registers the demo's houses, households and residents in the
// demo buildings, as community staff would, through the registry service.
func SeedPeople(ctx context.Context, ps *people.Service, terr *territory.Service, today time.Time) (PeopleSummary, error) {
	var sum PeopleSummary
	staff := auth.SystemActorAs("demo", auth.CommunityStaff)
	planner := auth.SystemActorAs("demo", auth.DistrictAdmin)
	rng := rand.New(rand.NewPCG(7500, 2630))
	seq := map[string]int{}
	var buildings []territory.Building
	var after int64
	for {
		page, err := terr.Buildings(ctx, planner, territory.BuildingFilter{AfterID: after, Limit: 500})
		if err != nil {
			return sum, err
		}
		buildings = append(buildings, page...)
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].ID
	}
	// Household sizes average about 2.85, which gives about 7,500 residents.
	sizes := []struct {
		n      int
		weight float64
	}{{1, 0.13}, {2, 0.28}, {3, 0.31}, {4, 0.18}, {5, 0.10}}
	for _, b := range buildings {
		for h := 0; h < b.Households; h++ {
			floor := 1 + h%max(1, b.Floors)
			unit := 1 + h/max(1, b.Floors)%max(1, b.Units)
			house, err := ps.AddHouse(ctx, staff, people.NewHouse{BuildingID: b.ID, Unit: fmt.Sprint(unit), Number: fmt.Sprintf("%d%02d", floor, h/(max(1, b.Floors)*max(1, b.Units))+1), Floor: floor})
			if err != nil {
				return sum, fmt.Errorf("demo house: %w", err)
			}
			x, size := rng.Float64(), 1
			for _, s := range sizes {
				if x < s.weight {
					size = s.n
					break
				}
				x -= s.weight
			}
			surname := surnames[rng.IntN(len(surnames))]
			var householdID int64
			for m := 0; m < size; m++ {
				female := rng.IntN(2) == 0
				age := drawAge(rng, 0)
				relation := people.Head
				switch {
				case m == 0:
					age = drawAge(rng, 22)
				case m == 1 && size > 1:
					relation = people.Spouse
					age = max(22, age)
				default:
					relation = []people.Relation{people.Child, people.Child, people.Parent, people.Grandchild}[rng.IntN(4)]
				}
				given := givenMale
				if female {
					given = givenFemale
				}
				name := surname + given[rng.IntN(len(given))]
				if relation == people.Spouse {
					name = surnames[rng.IntN(len(surnames))] + given[rng.IntN(len(given))]
				}
				birth := today.AddDate(-age, 0, -rng.IntN(365))
				key := birth.Format("20060102") + fmt.Sprint(female)
				seq[key]++
				in := people.NewResident{Name: name, Relation: relation,
					DocumentNumber: people.GenerateIDNumber("420106", birth, female, seq[key]),
					Phone:          fmt.Sprintf("1%d%09d", 3+rng.IntN(7), rng.IntN(1_000_000_000)),
					Registration:   []people.Registration{people.Registered, people.Registered, people.Registered, people.Floating}[rng.IntN(4)],
					MoveIn:         today.AddDate(-rng.IntN(20), -rng.IntN(12), 0).Format("2006-01-02")}
				if age < 16 {
					in.Phone = ""
				}
				switch r := rng.Float64(); {
				case r < 0.02:
					in.Tags = []string{"disabled"}
				case r < 0.05:
					in.Tags = []string{"low_income"}
				case r < 0.07 && age > 25:
					in.Tags = []string{"veteran"}
				}
				if m == 0 {
					in.HouseID = house.ID
				} else {
					in.HouseholdID = householdID
				}
				r, err := ps.AddResident(ctx, staff, in)
				if err != nil {
					return sum, fmt.Errorf("demo resident %d: %w", sum.Residents+1, err)
				}
				householdID = r.HouseholdID
				sum.Residents++
				if r.Age >= 60 {
					sum.Aged60++
				}
				sum.Documents = append(sum.Documents, in.DocumentNumber)
				if in.Phone != "" {
					sum.Phones = append(sum.Phones, in.Phone)
				}
			}
			sum.Households++
		}
	}
	return sum, nil
}
