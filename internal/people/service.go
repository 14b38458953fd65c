package people

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// Service owns the registry.
type Service struct {
	db    *db.DB
	audit *audit.Log
	keys  *seal.Keyring
	terr  *territory.Service
	clock clock.Clock
	st    store
}

// NewService returns the registry service.
func NewService(d *db.DB, a *audit.Log, keys *seal.Keyring, terr *territory.Service, c clock.Clock) *Service {
	return &Service{db: d, audit: a, keys: keys, terr: terr, clock: c}
}

// ready fails while no master key is configured: without it nothing
// personal can be sealed or read.
func (s *Service) ready(op string) error {
	if s.keys == nil {
		return errs.E(errs.Unavailable, op, "people.error.no_master_key")
	}
	return nil
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// today is the registry's calendar day, in China Standard Time: birthdays
// and move-in dates are Beijing dates.
func (s *Service) today() time.Time {
	t := s.clock.Now().In(chinaTime)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

var chinaTime = time.FixedZone("CST", 8*3600)

// House is a dwelling (房屋) in a building.
type House struct {
	ID         int64    `json:"id"`
	BuildingID int64    `json:"building_id"`
	Unit       string   `json:"unit"`
	Number     string   `json:"number"`
	Floor      int      `json:"floor"`
	Use        HouseUse `json:"use"`
	GridPath   string   `json:"-"`
}

// NewHouse is the input for adding a house.
type NewHouse struct {
	BuildingID int64    `json:"building_id"`
	Unit       string   `json:"unit"`
	Number     string   `json:"number"`
	Floor      int      `json:"floor"`
	Use        HouseUse `json:"use"`
}

// AddHouse adds a house to a building inside the actor's scope.
func (s *Service) AddHouse(ctx context.Context, actor auth.Actor, in NewHouse) (House, error) {
	const op = "people.AddHouse"
	f := map[string]string{}
	in.Unit, in.Number = strings.TrimSpace(in.Unit), strings.TrimSpace(in.Number)
	if utf8.RuneCountInString(in.Unit) > 20 {
		f["unit"] = "error.field.too_long"
	}
	switch {
	case in.Number == "":
		f["number"] = "error.field.required"
	case utf8.RuneCountInString(in.Number) > 20:
		f["number"] = "error.field.too_long"
	}
	if in.Floor < -5 || in.Floor > 200 {
		f["floor"] = "people.import.floor" // the import's rule, and its message
	}
	if in.Use == "" {
		in.Use = OwnerOccupied
	}
	if !slices.Contains(HouseUses, in.Use) {
		f["use"] = "people.house.use"
	}
	b, err := s.terr.BuildingByID(ctx, in.BuildingID)
	if errs.Is(err, errs.NotFound) || (err == nil && !auth.Can(actor, auth.ReadPeople, b.GridPath)) {
		f["building_id"] = "territory.error.no_building"
	} else if err != nil {
		return House{}, err
	}
	if len(f) > 0 {
		return House{}, errs.Fields(op, f)
	}
	if !auth.Can(actor, auth.WritePeople, b.GridPath) {
		return House{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	h := House{BuildingID: b.ID, Unit: in.Unit, Number: in.Number, Floor: in.Floor, Use: in.Use, GridPath: b.GridPath}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := s.st.insertHouse(ctx, tx, h, s.clock.Now())
		if err != nil {
			return err
		}
		h.ID = id
		return s.record(ctx, tx, actor, audit.Record{Action: "house.create", ObjectType: "house", ObjectID: strconv.FormatInt(id, 10), ScopePath: h.GridPath})
	})
	if db.IsUniqueViolation(err) {
		return House{}, &errs.Error{Code: errs.Conflict, Op: op, Msg: "people.house.taken", Fields: map[string]string{"number": "people.house.taken"}}
	}
	return h, errs.Wrap(op, err)
}

// AddResident registers a resident: in an existing household, or as the head
// of a new household in a house. The identity and phone numbers are sealed;
// only their blind indexes are searchable.
func (s *Service) AddResident(ctx context.Context, actor auth.Actor, in NewResident) (Resident, error) {
	const op = "people.AddResident"
	if err := s.ready(op); err != nil {
		return Resident{}, err
	}
	c, f := in.validate(s.today())
	var gridPath string
	var houseID int64
	if in.HouseholdID != 0 {
		hh, err := s.st.household(ctx, s.db, in.HouseholdID)
		switch {
		case errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, hh.gridPath)):
			f["household_id"] = "people.household.unknown"
		case err != nil:
			return Resident{}, errs.Wrap(op, err)
		}
		gridPath, houseID = hh.gridPath, hh.houseID
		if c.Relation == Head {
			f["relation"] = "people.relation.head_taken"
		}
	} else if in.HouseID != 0 {
		h, err := s.st.house(ctx, s.db, in.HouseID)
		switch {
		case errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, h.GridPath)):
			f["house_id"] = "people.house.unknown"
		case err != nil:
			return Resident{}, errs.Wrap(op, err)
		}
		gridPath, houseID = h.GridPath, h.ID
		c.Relation = Head
	}
	if _, bad := f["tags"]; !bad && len(c.Tags) > 0 {
		known, err := s.st.tagCodes(ctx, s.db, c.Tags)
		if err != nil {
			return Resident{}, errs.Wrap(op, err)
		}
		if len(known) != len(c.Tags) {
			f["tags"] = "people.tag.unknown"
		}
	}
	if len(f) > 0 {
		return Resident{}, errs.Fields(op, f)
	}
	if !auth.Can(actor, auth.WritePeople, gridPath) {
		return Resident{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	row, err := s.sealRow(c)
	if err != nil {
		return Resident{}, errs.Wrap(op, err)
	}
	row.gridPath = gridPath
	now := s.clock.Now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		hhID := in.HouseholdID
		if hhID == 0 {
			id, err := s.st.insertHousehold(ctx, tx, houseID, gridPath, now)
			if err != nil {
				return err
			}
			hhID = id
		}
		row.householdID = hhID
		id, err := s.st.insertResident(ctx, tx, row, now)
		if err != nil {
			return err
		}
		row.id = id
		if c.Relation == Head {
			if err := s.st.setHead(ctx, tx, hhID, id, now); err != nil {
				return err
			}
		}
		if err := s.st.addTags(ctx, tx, id, c.Tags); err != nil {
			return err
		}
		// The audit entry names the record, never its contents.
		return s.record(ctx, tx, actor, audit.Record{Action: "resident.create", ObjectType: "resident", ObjectID: strconv.FormatInt(id, 10),
			ScopePath: gridPath, Detail: map[string]any{"household_id": hhID}})
	})
	if db.IsUniqueViolation(err) {
		return Resident{}, &errs.Error{Code: errs.Conflict, Op: op, Msg: "people.id.duplicate", Fields: map[string]string{"document_number": "people.id.duplicate"}}
	}
	if err != nil {
		return Resident{}, errs.Wrap(op, err)
	}
	rs, err := s.views(ctx, staffSees(actor), []residentRow{row})
	if err != nil {
		return Resident{}, errs.Wrap(op, err)
	}
	return rs[0], nil
}

// documentIndex is the blind index of a normalised document number: the
// kind is part of it, so equal numbers of different documents differ.
func (s *Service) documentIndex(kind, number string) string {
	return s.keys.BlindIndex(purposeDocument, kind+":"+number)
}

// sealRow seals the sensitive fields of a validated resident and computes
// their blind indexes.
func (s *Service) sealRow(c cleaned) (residentRow, error) {
	doc, err := s.keys.Seal(purposeDocument, c.documentNorm)
	if err != nil {
		return residentRow{}, err
	}
	phone, err := s.keys.Seal(purposePhone, c.phoneNorm)
	if err != nil {
		return residentRow{}, err
	}
	r := residentRow{relation: c.Relation, name: c.Name, gender: c.Gender, birthDate: c.BirthDate, documentKind: c.DocumentKind,
		documentSealed: doc, documentIndex: s.documentIndex(c.DocumentKind, c.documentNorm),
		phoneSealed: phone, registration: c.Registration, moveIn: c.MoveIn}
	if c.phoneNorm != "" {
		r.phoneIndex = s.keys.BlindIndex(purposePhone, c.phoneNorm)
	}
	return r, nil
}

// Resident is a resident as staff see it: sensitive numbers masked, derived
// tags computed, restricted tags only for those allowed to see them.
type Resident struct {
	ID           int64        `json:"id"`
	HouseholdID  int64        `json:"household_id"`
	Relation     Relation     `json:"relation"`
	Name         string       `json:"name"`
	Gender       Gender       `json:"gender"`
	BirthDate    string       `json:"birth_date"`
	Age          int          `json:"age"`
	DocumentKind string       `json:"document_kind"`
	Document     string       `json:"document"`
	Phone        string       `json:"phone"`
	Registration Registration `json:"registration"`
	MoveIn       string       `json:"move_in"`
	MoveOut      string       `json:"move_out,omitempty"`
	GridCode     string       `json:"grid_code"`
	Tags         []string     `json:"tags"`
	Verification string       `json:"verification"`
}

// seesRestricted says whether the viewer may see a resident's restricted tags.
type seesRestricted func(r residentRow) bool

// staffSees is the rule for staff: the right to reveal personal data in the
// resident's grid.
func staffSees(actor auth.Actor) seesRestricted {
	return func(r residentRow) bool { return auth.Can(actor, auth.RevealPeople, r.gridPath) }
}

// views turns stored rows into masked views with their tags, in two queries
// for the whole page (tags, household sizes), never one per row.
func (s *Service) views(ctx context.Context, sees seesRestricted, rows []residentRow) ([]Resident, error) {
	if len(rows) == 0 {
		return []Resident{}, nil
	}
	ids := make([]int64, len(rows))
	hhs := make([]int64, 0, len(rows))
	for i, r := range rows {
		ids[i] = r.id
		hhs = append(hhs, r.householdID)
	}
	tags, err := s.st.tagsOf(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	sizes, err := s.st.householdSizes(ctx, s.db, hhs)
	if err != nil {
		return nil, err
	}
	today := s.today()
	out := make([]Resident, len(rows))
	for i, r := range rows {
		doc, err := s.keys.Unseal(purposeDocument, r.documentSealed)
		if err != nil {
			return nil, err
		}
		phone, err := s.keys.Unseal(purposePhone, r.phoneSealed)
		if err != nil {
			return nil, err
		}
		v := Resident{ID: r.id, HouseholdID: r.householdID, Relation: r.relation, Name: r.name, Gender: r.gender, BirthDate: r.birthDate,
			Age: ageOn(r.birthDate, today), DocumentKind: r.documentKind, Document: maskDocument(r.documentKind, doc), Phone: seal.MaskPhone(phone),
			Registration: r.registration, MoveIn: r.moveIn, MoveOut: r.moveOut, GridCode: auth.ScopeCode(r.gridPath), Verification: r.verification, Tags: []string{}}
		for _, t := range tags[r.id] {
			if !t.restricted || sees(r) {
				v.Tags = append(v.Tags, t.code)
			}
		}
		if v.Age >= 60 {
			v.Tags = append(v.Tags, TagAged60)
		}
		if r.moveOut == "" && sizes[r.householdID] == 1 {
			v.Tags = append(v.Tags, TagLivesAlone)
		}
		out[i] = v
	}
	return out, nil
}

func maskDocument(kind, number string) string {
	if kind == "id_card" {
		return seal.MaskIDNumber(number)
	}
	return seal.MaskPassport(number)
}

// Filter selects residents. Every search is limited to the searcher's scope.
type Filter struct {
	Name       string // prefix
	Document   string // exact identity or other document number, through the blind index
	Phone      string // exact, through the blind index
	BuildingID int64
	HouseID    int64
	Tag        string
	AfterID    int64
	Limit      int
}

// Search returns one page of the residents inside the actor's scopes that
// match the filter, masked, by id.
func (s *Service) Search(ctx context.Context, actor auth.Actor, f Filter) ([]Resident, error) {
	const op = "people.Search"
	if err := s.ready(op); err != nil {
		return nil, err
	}
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	if err := s.checkTagFilter(ctx, op, actor, scopes, f.Tag); err != nil {
		return nil, err
	}
	q, prob := s.filterQuery(f)
	if prob != "" {
		return nil, errs.Fields(op, map[string]string{"phone": prob})
	}
	q.after, q.limit = f.AfterID, f.Limit
	rows, err := s.st.search(ctx, s.db, scopes, q)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	vs, err := s.views(ctx, staffSees(actor), rows)
	return vs, errs.Wrap(op, err)
}

// checkTagFilter refuses a filter by a restricted tag unless the actor may
// see restricted tags in every one of their scopes: filtering by one would
// reveal who carries it.
func (s *Service) checkTagFilter(ctx context.Context, op string, actor auth.Actor, scopes []string, tag string) error {
	if tag == "" {
		return nil
	}
	restricted, err := s.st.tagRestricted(ctx, s.db, tag)
	if err != nil {
		return errs.Wrap(op, err)
	}
	for _, sc := range scopes {
		if restricted && !auth.Can(actor, auth.RevealPeople, sc) {
			return errs.E(errs.Forbidden, op, "error.forbidden")
		}
	}
	return nil
}

// filterQuery turns a filter (but its page) into a query, the numbers
// through their blind indexes. It returns the phone's problem key, if any.
func (s *Service) filterQuery(f Filter) (query, string) {
	q := query{name: strings.TrimSpace(f.Name), building: f.BuildingID, house: f.HouseID, tag: f.Tag}
	if d := strings.TrimSpace(f.Document); d != "" {
		norm := strings.ToUpper(d)
		kind := DocIDCard
		if card, p := ParseIDCard(d, s.today()); p == "" {
			norm = card.Number
		} else if len(norm) != 18 {
			kind = DocPassport
		}
		q.documentIndex = s.documentIndex(kind, norm)
	}
	if p := strings.TrimSpace(f.Phone); p != "" {
		norm, prob := NormalizePhone(p)
		if prob != "" {
			return q, prob
		}
		q.phoneIndex = s.keys.BlindIndex(purposePhone, norm)
	}
	return q, ""
}

// readScopes returns the actor's scopes in which the registry may be read.
func readScopes(actor auth.Actor) []string { return scopesFor(actor, auth.ReadPeople) }

// scopesFor returns the actor's scopes in which they may take the action.
func scopesFor(actor auth.Actor, action auth.Action) []string {
	var out []string
	for _, sc := range actor.EffectiveScopes() {
		if auth.Can(actor, action, sc) {
			out = append(out, sc)
		}
	}
	return out
}

// Detail is a resident with their household.
type Detail struct {
	Resident
	Members []Resident `json:"members"`
	House   House      `json:"house"`
}

// Resident returns one resident inside the actor's scope with the other
// members of their household, masked.
func (s *Service) Resident(ctx context.Context, actor auth.Actor, id int64) (Detail, error) {
	const op = "people.Resident"
	if err := s.ready(op); err != nil {
		return Detail{}, err
	}
	row, err := s.st.resident(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, row.gridPath)) {
		return Detail{}, errs.E(errs.NotFound, op, "people.resident.unknown")
	}
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	return s.detail(ctx, staffSees(actor), row)
}

func (s *Service) detail(ctx context.Context, sees seesRestricted, row residentRow) (Detail, error) {
	const op = "people.detail"
	members, err := s.st.members(ctx, s.db, row.householdID)
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	vs, err := s.views(ctx, sees, append([]residentRow{row}, members...))
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	d := Detail{Resident: vs[0], Members: []Resident{}}
	for _, m := range vs[1:] {
		if m.ID != row.id {
			d.Members = append(d.Members, m)
		}
	}
	hh, err := s.st.household(ctx, s.db, row.householdID)
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	if d.House, err = s.st.house(ctx, s.db, hh.houseID); err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	return d, nil
}

// Revealable fields.
const (
	FieldDocument = "document"
	FieldPhone    = "phone"
)

// Reveal returns one sensitive value in full. It needs the reveal permission
// in the resident's grid and a typed reason, and every reveal is audited with
// that reason: the value is returned only once its audit entry is committed.
func (s *Service) Reveal(ctx context.Context, actor auth.Actor, id int64, field, reason string) (string, error) {
	const op = "people.Reveal"
	if err := s.ready(op); err != nil {
		return "", err
	}
	reason = strings.TrimSpace(reason)
	f := map[string]string{}
	if field != FieldDocument && field != FieldPhone {
		f["field"] = "people.reveal.field"
	}
	if utf8.RuneCountInString(reason) < 4 || utf8.RuneCountInString(reason) > 200 {
		f["reason"] = "people.reveal.reason"
	}
	row, err := s.st.resident(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, row.gridPath) && !auth.Can(actor, auth.RevealPeople, row.gridPath)) {
		return "", errs.E(errs.NotFound, op, "people.resident.unknown")
	}
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	if !auth.Can(actor, auth.RevealPeople, row.gridPath) {
		return "", errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if len(f) > 0 {
		return "", errs.Fields(op, f)
	}
	sealed, purpose := row.documentSealed, purposeDocument
	if field == FieldPhone {
		sealed, purpose = row.phoneSealed, purposePhone
	}
	value, err := s.keys.Unseal(purpose, sealed)
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		return s.record(ctx, tx, actor, audit.Record{Action: "resident.reveal", ObjectType: "resident", ObjectID: strconv.FormatInt(id, 10),
			ScopePath: row.gridPath, Reason: reason, Detail: map[string]any{"field": field}})
	})
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	return value, nil
}
