package people_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

type fixture struct {
	ctx    context.Context
	db     *db.DB
	svc    *people.Service
	terr   *territory.Service
	keys   *seal.Keyring
	gw     auth.Actor // grid worker of Community Y's grids 1 and 2
	cs     auth.Actor // community staff of Community Y
	other  auth.Actor // community staff of Dingziqiao community
	houseA int64      // in Community Y grid 1
	houseB int64      // in Dingziqiao community
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC))
	st := newStack(t, d, c)
	ctx, terr, keys, planner := st.ctx, st.terr, st.keys, st.planner
	f := fixture{ctx: ctx, db: d, svc: st.svc, terr: terr, keys: keys}
	bs, err := terr.AddBuildings(ctx, planner, []territory.NewBuilding{
		{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507}, // Community Y, grid 1
		{Name: "9号楼", Address: "丁字桥路9号", Lng: 114.3150, Lat: 30.5500}, // Dingziqiao
	})
	if err != nil {
		t.Fatal(err)
	}
	f.gw = auth.Actor{UserID: 10, Role: auth.GridWorker, Scope: "420106/420106001/420106001001",
		Scopes: []string{"420106/420106001/420106001001/420106001001001", "420106/420106001/420106001001/420106001001002"}}
	f.cs = auth.Actor{UserID: 11, Role: auth.CommunityStaff, Scope: "420106/420106001/420106001001"}
	f.other = auth.Actor{UserID: 12, Role: auth.CommunityStaff, Scope: "420106/420106001/420106001002"}
	ha, err := f.svc.AddHouse(ctx, f.cs, people.NewHouse{BuildingID: bs[0].ID, Unit: "1", Number: "101", Floor: 1})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := f.svc.AddHouse(ctx, f.other, people.NewHouse{BuildingID: bs[1].ID, Unit: "2", Number: "202", Floor: 2, Use: people.Rented})
	if err != nil {
		t.Fatal(err)
	}
	f.houseA, f.houseB = ha.ID, hb.ID
	return f
}

// A valid identity number of a woman born 1950-03-08 in district 420106.
var (
	oldWoman = people.GenerateIDNumber("420106", time.Date(1950, 3, 8, 0, 0, 0, 0, time.UTC), true, 12)
	youngMan = people.GenerateIDNumber("420106", time.Date(1990, 7, 1, 0, 0, 0, 0, time.UTC), false, 31)
	child    = people.GenerateIDNumber("420106", time.Date(2015, 1, 20, 0, 0, 0, 0, time.UTC), false, 45)
)

func TestRegisteringResidentsSealsAndMasks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r, err := f.svc.AddResident(f.ctx, f.gw, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman,
			Phone: "138 0013 5678", Tags: []string{"disabled", "community_correction"}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Gender != people.Female || r.BirthDate != "1950-03-08" || r.Age != 76 || r.Relation != people.Head {
			t.Fatalf("derived from the identity number: %+v", r)
		}
		if r.Document != seal.MaskIDNumber(oldWoman) || r.Phone != "138****5678" || strings.Contains(r.Document, oldWoman[4:14]) {
			t.Fatalf("not masked: %s %s", r.Document, r.Phone)
		}
		has := func(tags []string, t string) bool {
			for _, x := range tags {
				if x == t {
					return true
				}
			}
			return false
		}
		// The grid worker may not see the restricted tag; community staff may.
		if !has(r.Tags, people.TagAged60) || !has(r.Tags, people.TagLivesAlone) || !has(r.Tags, "disabled") || has(r.Tags, "community_correction") {
			t.Fatalf("tags as the grid worker sees them: %v", r.Tags)
		}
		detail, err := f.svc.Resident(f.ctx, f.cs, r.ID)
		if err != nil || !has(detail.Tags, "community_correction") {
			t.Fatalf("tags as community staff see them: %v %v", detail.Tags, err)
		}
		// A second member: no longer living alone.
		if _, err := f.svc.AddResident(f.ctx, f.gw, people.NewResident{HouseholdID: r.HouseholdID, Relation: people.Child, Name: "李明", DocumentNumber: youngMan}); err != nil {
			t.Fatal(err)
		}
		detail, _ = f.svc.Resident(f.ctx, f.cs, r.ID)
		if has(detail.Tags, people.TagLivesAlone) || len(detail.Members) != 1 || detail.Members[0].Name != "李明" || detail.House.Number != "101" {
			t.Fatalf("household: %+v", detail)
		}
		// Nothing sensitive is stored in plain text.
		var raw string
		rows, _ := d.QueryContext(f.ctx, "SELECT document_sealed || phone_sealed || document_index || phone_index FROM residents")
		for rows.Next() {
			var s string
			rows.Scan(&s)
			raw += s
		}
		rows.Close()
		if strings.Contains(raw, oldWoman) || strings.Contains(raw, "13800135678") || strings.Contains(raw, youngMan) {
			t.Fatal("a sensitive number is stored in plain text")
		}
	})
}

func TestBadResidentsAreRejectedFieldByField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		wrongCheck := oldWoman[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", oldWoman[17])+1)%11])
		cases := []struct {
			in    people.NewResident
			field string
			key   string
		}{
			{people.NewResident{HouseID: f.houseA, Name: "甲", DocumentNumber: wrongCheck}, "document_number", "people.id.check"},
			{people.NewResident{HouseID: f.houseA, Name: "乙", DocumentNumber: oldWoman, BirthDate: "1951-03-08"}, "birth_date", "people.id.birth_mismatch"},
			{people.NewResident{HouseID: f.houseA, Name: "丙", DocumentNumber: oldWoman, Gender: people.Male}, "gender", "people.id.gender_mismatch"},
			{people.NewResident{HouseID: f.houseA, Name: "丁", DocumentNumber: youngMan, Phone: "12345"}, "phone", "people.phone.format"},
			{people.NewResident{HouseID: f.houseA, Name: "", DocumentNumber: youngMan}, "name", "error.field.required"},
			{people.NewResident{HouseID: f.houseA, Name: "戊", DocumentNumber: youngMan, Tags: []string{"aged_60_plus"}}, "tags", "people.tag.derived"},
			{people.NewResident{HouseID: f.houseA, Name: "己", DocumentNumber: youngMan, Tags: []string{"vip"}}, "tags", "people.tag.unknown"},
			{people.NewResident{HouseID: 999, Name: "庚", DocumentNumber: youngMan}, "house_id", "people.house.unknown"},
			{people.NewResident{HouseID: f.houseB, Name: "辛", DocumentNumber: youngMan}, "house_id", "people.house.unknown"}, // outside the worker's grids
		}
		for _, c := range cases {
			_, err := f.svc.AddResident(f.ctx, f.gw, c.in)
			if e := errs.As(err); e.Code != errs.Invalid || e.Fields[c.field] != c.key {
				t.Errorf("%s: got %v, want %s on %s", c.in.Name, err, c.key, c.field)
			}
		}
		if _, err := f.svc.AddResident(f.ctx, f.gw, people.NewResident{HouseID: f.houseA, Name: "壬", DocumentNumber: youngMan}); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "癸", DocumentNumber: strings.ToLower(youngMan)})
		if e := errs.As(err); e.Code != errs.Conflict || e.Fields["document_number"] != "people.id.duplicate" {
			t.Fatalf("duplicate identity number: %v", err)
		}
	})
}

func TestBadHousesAreRejectedFieldByField(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "甲", DocumentNumber: youngMan})
		if err != nil {
			t.Fatal(err)
		}
		det, err := f.svc.Resident(f.ctx, f.cs, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		b := det.House.BuildingID
		cases := []struct {
			in    people.NewHouse
			field string
			key   string
		}{
			{people.NewHouse{BuildingID: b, Unit: "1"}, "number", "error.field.required"},
			{people.NewHouse{BuildingID: b, Unit: "1", Number: strings.Repeat("1", 21)}, "number", "error.field.too_long"},
			{people.NewHouse{BuildingID: b, Unit: strings.Repeat("1", 21), Number: "102"}, "unit", "error.field.too_long"},
			{people.NewHouse{BuildingID: b, Unit: "1", Number: "102", Floor: 201}, "floor", "people.import.floor"},
			{people.NewHouse{BuildingID: b, Unit: "1", Number: "102", Use: "castle"}, "use", "people.house.use"},
			{people.NewHouse{BuildingID: 999, Unit: "1", Number: "102"}, "building_id", "territory.error.no_building"},
		}
		for _, c := range cases {
			_, err := f.svc.AddHouse(f.ctx, f.cs, c.in)
			if e := errs.As(err); e.Code != errs.Invalid || e.Fields[c.field] != c.key {
				t.Errorf("%+v: got %v, want %s on %s", c.in, err, c.key, c.field)
			}
		}
		_, err = f.svc.AddHouse(f.ctx, f.cs, people.NewHouse{BuildingID: b, Unit: "1", Number: "101"})
		if e := errs.As(err); e.Code != errs.Conflict || e.Fields["number"] != "people.house.taken" {
			t.Fatalf("a house added twice: %v", err)
		}
	})
}

func TestSearchIsScopedAndUsesBlindIndexes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a, _ := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman, Phone: "13800135678"})
		f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseholdID: a.HouseholdID, Relation: people.Grandchild, Name: "王小宝", DocumentNumber: child, Tags: []string{"disabled"}})
		b, err := f.svc.AddResident(f.ctx, f.other, people.NewResident{HouseID: f.houseB, Name: "王建国", DocumentNumber: youngMan, Phone: "027-87654321", Registration: people.Floating})
		if err != nil {
			t.Fatal(err)
		}
		count := func(actor auth.Actor, fl people.Filter) int {
			t.Helper()
			rs, err := f.svc.Search(f.ctx, actor, fl)
			if err != nil {
				t.Fatalf("search %+v: %v", fl, err)
			}
			return len(rs)
		}
		if n := count(f.gw, people.Filter{Name: "王"}); n != 2 {
			t.Errorf("grid worker finds %d 王, want the 2 of their grids", n)
		}
		if n := count(f.other, people.Filter{Name: "王"}); n != 1 {
			t.Errorf("the other community's staff find %d 王", n)
		}
		if n := count(f.gw, people.Filter{Document: youngMan}); n != 0 {
			t.Errorf("grid worker found a resident outside their grids by identity number")
		}
		if n := count(f.other, people.Filter{Document: strings.ToLower(youngMan)}); n != 1 {
			t.Errorf("exact identity lookup: %d", n)
		}
		if n := count(f.other, people.Filter{Phone: "027 8765 4321"}); n != 1 {
			t.Errorf("exact phone lookup: %d", n)
		}
		if n := count(f.cs, people.Filter{Tag: "disabled"}); n != 1 {
			t.Errorf("by tag: %d", n)
		}
		if n := count(f.cs, people.Filter{HouseID: f.houseA}); n != 2 {
			t.Errorf("by house: %d", n)
		}
		// Pagination.
		p1, _ := f.svc.Search(f.ctx, f.cs, people.Filter{Limit: 1})
		p2, _ := f.svc.Search(f.ctx, f.cs, people.Filter{Limit: 1, AfterID: p1[0].ID})
		if len(p1) != 1 || len(p2) != 1 || p2[0].ID <= p1[0].ID {
			t.Errorf("pages: %v %v", p1, p2)
		}
		if _, err := f.svc.Resident(f.ctx, f.gw, b.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("grid worker read a resident outside their grids: %v", err)
		}
		if _, err := f.svc.Search(f.ctx, f.gw, people.Filter{Tag: "community_correction"}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a grid worker filtered by a restricted tag: %v", err)
		}
		if _, err := f.svc.Search(f.ctx, f.cs, people.Filter{Tag: "community_correction"}); err != nil {
			t.Errorf("community staff filtering by a restricted tag: %v", err)
		}
		if _, err := f.svc.Search(f.ctx, auth.Actor{UserID: 1, Role: auth.SystemAdmin}, people.Filter{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("system_admin searched the registry: %v", err)
		}
	})
}

func TestRevealNeedsPermissionAndAReasonAndIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r, _ := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman, Phone: "13800135678"})
		if _, err := f.svc.Reveal(f.ctx, f.gw, r.ID, people.FieldPhone, "need to call her"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a grid worker revealed: %v", err)
		}
		if _, err := f.svc.Reveal(f.ctx, f.other, r.ID, people.FieldPhone, "need to call her"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("staff of another community revealed: %v", err)
		}
		if _, err := f.svc.Reveal(f.ctx, f.cs, r.ID, people.FieldPhone, " "); errs.As(err).Fields["reason"] == "" {
			t.Fatalf("reveal without a reason: %v", err)
		}
		v, err := f.svc.Reveal(f.ctx, f.cs, r.ID, people.FieldDocument, "核对低保申请")
		if err != nil || v != oldWoman {
			t.Fatalf("reveal: %q %v", v, err)
		}
		var reason, detail string
		if err := d.QueryRowContext(f.ctx, "SELECT reason, detail FROM audit_log WHERE action = 'resident.reveal' ORDER BY seq DESC LIMIT 1").Scan(&reason, &detail); err != nil {
			t.Fatal(err)
		}
		if reason != "核对低保申请" || strings.Contains(detail, oldWoman) {
			t.Fatalf("audit entry: %q %q", reason, detail)
		}
	})
}

func TestKeyRotationKeepsEveryRecordReadableAndFindable(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var ids []string
		for i := 0; i < 7; i++ {
			id := people.GenerateIDNumber("420106", time.Date(1960+i, 1, 2, 0, 0, 0, 0, time.UTC), i%2 == 0, i)
			ids = append(ids, id)
			if _, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, HouseholdID: 0, Name: "住户" + string(rune('甲'+i)), DocumentNumber: id, Phone: "1380013000" + string(rune('0'+i))}); err != nil {
				t.Fatal(err)
			}
		}
		before := f.keys.CurrentKeyID()
		if _, err := f.svc.RotateKeys(f.ctx, f.cs); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("staff rotated keys: %v", err)
		}
		res, err := f.svc.RotateKeys(f.ctx, auth.SystemActor("cli:test"))
		if err != nil || res.Resealed != 7 || res.NewKeyID == before || len(res.Retired) != 1 || res.Retired[0] != before {
			t.Fatalf("rotate: %+v %v", res, err)
		}
		// No value is sealed with the old key any more.
		rows, _ := d.QueryContext(f.ctx, "SELECT document_sealed FROM residents")
		for rows.Next() {
			var s string
			rows.Scan(&s)
			if k, _ := seal.KeyIDOf(s); k != res.NewKeyID {
				t.Errorf("a value still sealed with key %d", k)
			}
		}
		rows.Close()
		// Every record is readable and every lookup still works.
		for i, id := range ids {
			rs, err := f.svc.Search(f.ctx, f.cs, people.Filter{Document: id})
			if err != nil || len(rs) != 1 {
				t.Fatalf("lookup %d after rotation: %v %v", i, rs, err)
			}
			v, err := f.svc.Reveal(f.ctx, f.cs, rs[0].ID, people.FieldDocument, "key rotation check")
			if err != nil || v != id {
				t.Fatalf("reveal after rotation: %q %v", v, err)
			}
			if rs, _ := f.svc.Search(f.ctx, f.cs, people.Filter{Phone: "1380013000" + string(rune('0'+i))}); len(rs) != 1 {
				t.Fatalf("phone lookup %d after rotation", i)
			}
		}
		// A second rotation reseals everything again and retires the last key.
		res2, err := f.svc.RotateKeys(f.ctx, auth.SystemActor("cli:test"))
		if err != nil || res2.Resealed != 7 || len(res2.Retired) != 1 || res2.Retired[0] != res.NewKeyID {
			t.Fatalf("second rotation: %+v %v", res2, err)
		}
	})
}

func TestMovedOutResidentsAreAnonymisedAfterRetention(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		r, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman, Phone: "13800135678", MoveIn: "2001-01-01", Tags: []string{"disabled"}})
		if err != nil {
			t.Fatal(err)
		}
		stay, _ := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseholdID: r.HouseholdID, Relation: people.Child, Name: "李明", DocumentNumber: youngMan})
		if err := f.svc.MoveOut(f.ctx, f.gw, r.ID, "2031-01-01"); errs.As(err).Fields["move_out"] == "" {
			t.Fatalf("a move-out in the future: %v", err)
		}
		if err := f.svc.MoveOut(f.ctx, f.gw, r.ID, "2024-06-30"); err != nil {
			t.Fatal(err)
		}
		// Three years' retention from 2026-11-21: not yet due.
		if n, err := f.svc.AnonymiseMovedOut(f.ctx, 3*365*24*time.Hour); err != nil || n != 0 {
			t.Fatalf("anonymised early: %d %v", n, err)
		}
		n, err := f.svc.AnonymiseMovedOut(f.ctx, 365*24*time.Hour)
		if err != nil || n != 1 {
			t.Fatalf("anonymise: %d %v", n, err)
		}
		if n, _ := f.svc.AnonymiseMovedOut(f.ctx, 365*24*time.Hour); n != 0 {
			t.Fatalf("anonymised twice: %d", n)
		}
		if _, err := f.svc.Resident(f.ctx, f.cs, r.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("an anonymised resident is still readable: %v", err)
		}
		if rs, _ := f.svc.Search(f.ctx, f.cs, people.Filter{Document: oldWoman}); len(rs) != 0 {
			t.Fatal("an anonymised resident is still findable by identity number")
		}
		var name, doc, phone string
		d.QueryRowContext(f.ctx, "SELECT name, document_sealed, phone_sealed FROM residents WHERE id = $1", r.ID).Scan(&name, &doc, &phone)
		if name != "" || doc != "" || phone != "" {
			t.Fatalf("personal data left behind: %q %q %q", name, doc, phone)
		}
		if _, err := f.svc.Resident(f.ctx, f.cs, stay.ID); err != nil {
			t.Fatalf("the household member who stayed: %v", err)
		}
		// The same person may be registered again later.
		if _, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman}); err != nil {
			t.Fatalf("re-registering after anonymisation: %v", err)
		}
	})
}
