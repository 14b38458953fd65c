// Package people is GridHall's registry of actual population and housing
// (实有人口/房屋): houses in buildings, households, residents and their tags.
// It is private by design: identity and phone numbers are sealed at rest
// (internal/seal), found only through keyed blind indexes, shown masked, and
// revealed only to those allowed, with a typed reason that is audited.
package people

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Gender as recorded.
type Gender string

// The genders of the identity card.
const (
	Male   Gender = "M"
	Female Gender = "F"
)

// Registration is how a resident is registered at the address.
type Registration string

// The registration types.
const (
	Registered Registration = "registered" // 户籍人口
	Floating   Registration = "floating"   // 流动人口
	Foreign    Registration = "foreign"    // 境外人员
)

// Registrations lists the registration types.
var Registrations = []Registration{Registered, Floating, Foreign}

// HouseUse is what a house is used for.
type HouseUse string

// The house uses.
const (
	OwnerOccupied HouseUse = "owner_occupied" // 自住
	Rented        HouseUse = "rented"         // 出租
	GroupRented   HouseUse = "group_rented"   // 群租
	Vacant        HouseUse = "vacant"         // 空置
)

// HouseUses lists the house uses.
var HouseUses = []HouseUse{OwnerOccupied, Rented, GroupRented, Vacant}

// Relation is a member's relation to the head of the household.
type Relation string

// The relations.
const (
	Head       Relation = "head"
	Spouse     Relation = "spouse"
	Child      Relation = "child"
	Parent     Relation = "parent"
	Grandchild Relation = "grandchild"
	Sibling    Relation = "sibling"
	Other      Relation = "other"
)

// Relations lists the relations.
var Relations = []Relation{Head, Spouse, Child, Parent, Grandchild, Sibling, Other}

// Derived tags are computed from the record, never typed.
const (
	TagAged60     = "aged_60_plus" // from the birth date
	TagLivesAlone = "living_alone" // the only current member of the household
)

// Sealing purposes: the additional data of each sealed column, so that a
// sealed value cannot be moved to another column, and the blind-index domain.
const (
	purposeDocument = "resident.document"
	purposePhone    = "resident.phone"
)

// NewResident is the input for registering a resident.
type NewResident struct {
	// HouseholdID joins an existing household; when 0, a new household is
	// created in HouseID with this resident as its head.
	HouseholdID    int64        `json:"household_id"`
	HouseID        int64        `json:"house_id"`
	Relation       Relation     `json:"relation"`
	Name           string       `json:"name"`
	Gender         Gender       `json:"gender"`
	BirthDate      string       `json:"birth_date"`
	DocumentKind   string       `json:"document_kind"`
	DocumentNumber string       `json:"document_number"`
	Phone          string       `json:"phone"`
	Registration   Registration `json:"registration"`
	MoveIn         string       `json:"move_in"`
	Tags           []string     `json:"tags"`
}

// cleaned is a validated resident: normalised values ready to seal and store.
type cleaned struct {
	NewResident
	documentNorm string
	phoneNorm    string
}

const dateLayout = "2006-01-02"

// validate normalises the input and returns every problem by field, as i18n
// keys. For mainland identity cards the birth date and gender are read from
// the number when left out, and must agree with it when given.
func (in NewResident) validate(today time.Time) (cleaned, map[string]string) {
	f := map[string]string{}
	c := cleaned{NewResident: in}
	c.Name = strings.TrimSpace(in.Name)
	if c.Name == "" {
		f["name"] = "error.field.required"
	} else if utf8.RuneCountInString(c.Name) > 50 {
		f["name"] = "error.field.too_long"
	}
	if c.DocumentKind == "" {
		c.DocumentKind = "id_card"
	}
	if c.Relation == "" {
		c.Relation = Head
		if in.HouseholdID != 0 {
			c.Relation = Other
		}
	}
	if !slices.Contains(Relations, c.Relation) {
		f["relation"] = "people.relation.unknown"
	}
	if in.HouseholdID == 0 && in.HouseID == 0 {
		f["house_id"] = "error.field.required"
	}
	if c.Registration == "" {
		c.Registration = Registered
	}
	if !slices.Contains(Registrations, c.Registration) {
		f["registration"] = "people.registration.unknown"
	}
	number := strings.TrimSpace(in.DocumentNumber)
	if number == "" {
		f["document_number"] = "error.field.required"
	} else if c.DocumentKind == "id_card" {
		card, p := ParseIDCard(number, today)
		if p != "" {
			f["document_number"] = p
		} else {
			c.documentNorm = card.Number
			birth := card.Birth.Format(dateLayout)
			gender := Male
			if card.Female {
				gender = Female
			}
			switch {
			case in.BirthDate == "":
				c.BirthDate = birth
			case in.BirthDate != birth:
				f["birth_date"] = "people.id.birth_mismatch"
			}
			switch {
			case in.Gender == "":
				c.Gender = gender
			case in.Gender != gender:
				f["gender"] = "people.id.gender_mismatch"
			}
		}
	} else if p := ValidDocument(c.DocumentKind, number); p != "" {
		f["document_number"] = p
	} else {
		c.documentNorm = strings.ToUpper(number)
	}
	if c.DocumentKind != "id_card" {
		if c.Gender != Male && c.Gender != Female {
			f["gender"] = "people.gender.unknown"
		}
		if d, err := time.Parse(dateLayout, c.BirthDate); err != nil || d.After(today) || d.Year() < 1900 {
			f["birth_date"] = "people.date.invalid"
		}
	}
	if strings.TrimSpace(in.Phone) != "" {
		n, p := NormalizePhone(in.Phone)
		if p != "" {
			f["phone"] = p
		}
		c.phoneNorm = n
	}
	if c.MoveIn == "" {
		c.MoveIn = today.Format(dateLayout)
	} else if d, err := time.Parse(dateLayout, c.MoveIn); err != nil || d.After(today.AddDate(0, 0, 1)) {
		f["move_in"] = "people.date.invalid"
	}
	c.Tags = slices.Compact(slices.Sorted(slices.Values(in.Tags)))
	for _, t := range c.Tags {
		if t == TagAged60 || t == TagLivesAlone {
			f["tags"] = "people.tag.derived"
		}
	}
	return c, f
}

// ageOn returns full years between a birth date and a day.
func ageOn(birth string, on time.Time) int {
	b, err := time.Parse(dateLayout, birth)
	if err != nil {
		return -1
	}
	age := on.Year() - b.Year()
	if on.Month() < b.Month() || on.Month() == b.Month() && on.Day() < b.Day() {
		age-- // the birthday has not come yet this year
	}
	return age
}
