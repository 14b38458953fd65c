package catalog_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

func TestDepartmentsAreSavedValidatedAndAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ds, err := e.svc.Departments(e.ctx)
		if err != nil || len(ds) != 12 {
			t.Fatalf("%d departments, %v", len(ds), err)
		}
		if ds[0].Code != "civil-affairs" || ds[0].Name.Zh != "民政局" || !ds[0].Active || ds[0].ScopePath != "" {
			t.Errorf("first department %+v", ds[0])
		}

		district := auth.Actor{UserID: 2, Username: "district", Role: auth.DistrictAdmin, Scope: "420106"}
		gas := catalog.Department{Code: "gas", Name: catalog.Names{Zh: " 燃气公司 ", En: "Gas company"}, ScopePath: "420106", Active: true}
		if err := e.svc.SaveDepartment(e.ctx, district, gas); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.Department(e.ctx, "gas")
		if err != nil || got.Name.Zh != "燃气公司" || got.ScopePath != "420106" || !got.Active {
			t.Fatalf("%+v %v", got, err)
		}
		if a := e.lastAudit(t); a.Action != "department.create" || a.ObjectID != "gas" || a.ScopePath != "420106" {
			t.Errorf("audit %+v", a)
		}
		gas.Active = false
		gas.ScopePath = "420106001" // a bare code is read as its path
		if err := e.svc.SaveDepartment(e.ctx, district, gas); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.svc.Department(e.ctx, "gas"); got.Active || got.ScopePath != "420106/420106001" {
			t.Errorf("updated %+v", got)
		}
		if a := e.lastAudit(t); a.Action != "department.update" {
			t.Errorf("audit %+v", a)
		}
		if _, err := e.svc.Department(e.ctx, "nobody"); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown department: %v", err)
		}

		for _, tt := range []struct {
			name  string
			d     catalog.Department
			field string
			key   string
		}{
			{"code with capitals", catalog.Department{Code: "Gas", Name: catalog.Names{Zh: "燃气"}}, "code", "catalog.department.code"},
			{"code too long", catalog.Department{Code: strings.Repeat("a", 41), Name: catalog.Names{Zh: "燃气"}}, "code", "catalog.department.code"},
			{"no name", catalog.Department{Code: "gas2"}, "name", "error.field.required"},
			{"bad scope", catalog.Department{Code: "gas2", Name: catalog.Names{Zh: "燃气"}, ScopePath: "4201"}, "scope_path", "error.scope.length"},
		} {
			err := e.svc.SaveDepartment(e.ctx, e.admin, tt.d)
			if !errs.Is(err, errs.Invalid) || errs.As(err).Fields[tt.field] != tt.key {
				t.Errorf("%s: %v", tt.name, err)
			}
		}

		// Outside their scope, or without the right, people cannot.
		other := auth.Actor{UserID: 3, Username: "other", Role: auth.DistrictAdmin, Scope: "420107"}
		for _, tt := range []struct {
			actor auth.Actor
			d     catalog.Department
		}{
			{other, catalog.Department{Code: "water2", Name: catalog.Names{Zh: "水务"}, ScopePath: "420106"}},
			{district, catalog.Department{Code: "water3", Name: catalog.Names{Zh: "水务"}}},                    // the whole installation
			{district, catalog.Department{Code: "fire", Name: catalog.Names{Zh: "消防"}, ScopePath: "420106"}}, // an installation-wide one, moved
			{auth.Actor{UserID: 4, Username: "street", Role: auth.StreetStaff, Scope: "420106"}, catalog.Department{Code: "water4", Name: catalog.Names{Zh: "水务"}, ScopePath: "420106"}},
		} {
			if err := e.svc.SaveDepartment(e.ctx, tt.actor, tt.d); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s saved %s: %v", tt.actor.Username, tt.d.Code, err)
			}
		}
		if fire, _ := e.svc.Department(e.ctx, "fire"); fire.ScopePath != "" || fire.Name.Zh != "消防救援大队" {
			t.Errorf("fire changed: %+v", fire)
		}
	})
}

func TestDepartmentMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		wang := e.user(t, "wang", auth.DepartmentHandler, "420106")
		li := e.user(t, "li", auth.DepartmentHandler, "420106")
		for _, m := range []struct {
			code string
			user int64
		}{{"water", wang}, {"sanitation", wang}, {"water", li}, {"water", wang}} { // the last one again
			if err := e.svc.AddMember(e.ctx, e.admin, m.code, m.user); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'department.member_add'"); n != 3 {
			t.Errorf("%d member audits, want 3: adding a member twice is no change", n)
		}
		codes, err := e.svc.DepartmentsOf(e.ctx, wang)
		if err != nil || !slices.Equal(codes, []string{"sanitation", "water"}) {
			t.Fatalf("DepartmentsOf: %v %v", codes, err)
		}
		if codes, _ := e.svc.DepartmentsOf(e.ctx, 999); len(codes) != 0 || codes == nil {
			t.Errorf("DepartmentsOf a stranger: %#v", codes)
		}
		ids, err := e.svc.Members(e.ctx, "water")
		if err != nil || !slices.Equal(ids, []int64{wang, li}) {
			t.Fatalf("members %v %v", ids, err)
		}
		if ids, err := e.svc.Members(e.ctx, "fire"); err != nil || len(ids) != 0 {
			t.Errorf("members of fire: %v %v", ids, err)
		}
		if _, err := e.svc.Members(e.ctx, "nobody"); !errs.Is(err, errs.NotFound) {
			t.Errorf("members of an unknown department: %v", err)
		}

		// An inactive department gives its members nothing to act for.
		san, _ := e.svc.Department(e.ctx, "sanitation")
		san.Active = false
		if err := e.svc.SaveDepartment(e.ctx, e.admin, san); err != nil {
			t.Fatal(err)
		}
		if codes, _ := e.svc.DepartmentsOf(e.ctx, wang); !slices.Equal(codes, []string{"water"}) {
			t.Errorf("after deactivation: %v", codes)
		}

		if err := e.svc.RemoveMember(e.ctx, e.admin, "water", wang); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RemoveMember(e.ctx, e.admin, "water", wang); err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'department.member_remove'"); n != 1 {
			t.Errorf("%d removal audits, want 1", n)
		}
		if ids, _ := e.svc.Members(e.ctx, "water"); !slices.Equal(ids, []int64{li}) {
			t.Errorf("members after removal %v", ids)
		}

		if err := e.svc.AddMember(e.ctx, e.admin, "water", 999); !errs.Is(err, errs.Invalid) || errs.As(err).Fields["user_id"] != "error.user.not_found" {
			t.Errorf("unknown user: %v", err)
		}
		if err := e.svc.AddMember(e.ctx, e.admin, "nobody", li); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown department: %v", err)
		}
		outsider := auth.Actor{UserID: li, Username: "li", Role: auth.DepartmentHandler, Scope: "420106"}
		if err := e.svc.AddMember(e.ctx, outsider, "water", li); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a handler added themself: %v", err)
		}
		if err := e.svc.RemoveMember(e.ctx, outsider, "water", li); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a handler removed themself: %v", err)
		}
	})
}

// TestDepartmentsOfUsesTheMemberIndex checks the plan on SQLite only:
// PostgreSQL chooses plans by table statistics, SQLite's plan is stable.
func TestDepartmentsOfUsesTheMemberIndex(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	rows, err := d.QueryContext(e.ctx, "EXPLAIN QUERY PLAN "+catalog.DepartmentsOfSQL, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	joined := strings.Join(plan, "; ")
	if !strings.Contains(joined, "department_members_user") || strings.Contains(joined, "SCAN m") {
		t.Errorf("plan: %s", joined)
	}
}
