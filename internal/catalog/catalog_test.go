package catalog_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

func TestSeedLoadsTheNationalCatalogueAndTheLocalMatters(t *testing.T) {
	builtin, err := catalog.BuiltinCategories()
	if err != nil {
		t.Fatal(err)
	}
	local := 0
	for _, c := range builtin {
		if c.Local() {
			local++
		}
	}
	if local < 25 {
		t.Fatalf("only %d local categories", local)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d) // seeds once
		if n := e.count(t, "SELECT COUNT(*) FROM categories WHERE kind = 'component'"); n != nationalComponents {
			t.Errorf("%d components, want %d", n, nationalComponents)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM categories WHERE kind = 'matter' AND group_code < '90'"); n != nationalMatters {
			t.Errorf("%d national matters, want %d", n, nationalMatters)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM categories WHERE kind = 'matter' AND group_code >= '90'"); n != local {
			t.Errorf("%d local matters, want %d", n, local)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM (SELECT DISTINCT kind, code FROM categories) k"); n != nationalComponents+nationalMatters+local {
			t.Errorf("%d distinct (kind, code), want every row distinct", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM departments"); n != 12 {
			t.Errorf("%d departments, want 12", n)
		}

		// A second seed, on this node or another, adds nothing.
		for _, svc := range []*catalog.Service{e.svc, catalog.NewService(d, e.audit, e.clock)} {
			n, err := svc.Seed(e.ctx)
			if err != nil || n != 0 {
				t.Fatalf("second seed: %d, %v", n, err)
			}
		}
		if n := e.count(t, "SELECT COUNT(*) FROM categories"); n != nationalComponents+nationalMatters+local {
			t.Fatalf("%d categories after a second seed", n)
		}

		all, err := e.svc.Categories(e.ctx, catalog.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		depts, err := e.svc.Departments(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		known := map[string]bool{}
		for _, dep := range depts {
			known[dep.Code] = dep.Active
		}
		for _, c := range all {
			if err := catalog.Validate(c); err != nil {
				t.Errorf("%s: %v", c.Ref(), err)
			}
			if c.Name.En == "" || c.GroupName.En == "" {
				t.Errorf("%s %s has no English name", c.Ref(), c.Name.Zh)
			}
			if !known[c.Department] {
				t.Errorf("%s: department %q is not an active department", c.Ref(), c.Department)
			}
			if c.Public != (c.Kind == catalog.Matter) || !c.Active {
				t.Errorf("%s: public %v active %v", c.Ref(), c.Public, c.Active)
			}
			for _, u := range catalog.Urgencies {
				for _, s := range catalog.Stages {
					if l, ok := c.Limits.For(u, s); !ok || !l.Valid() {
						t.Errorf("%s: no valid %s limit for %s", c.Ref(), s, u)
					}
				}
			}
		}
	})
}

func TestSeededCategoriesCarryTheirOwnHandlingLimits(t *testing.T) {
	h := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Hours} }
	dd := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Days} }
	tests := []struct {
		ref, name                string
		normal, pressing, urgent calendar.Limit
	}{
		{"M06010", "暴露垃圾", h(4), h(4), h(4)},
		{"M06012", "道路不洁", h(2), h(2), h(2)},
		{"M91006", "积水内涝", h(4), h(4), h(4)},
		{"M04013", "绿地异常", dd(5), dd(1), h(4)},
		{"M06001", "私搭乱建", dd(20), dd(1), h(4)},
		{"M08016", "无证建设", dd(20), dd(1), h(4)},
		{"M06013", "道路破损", dd(5), dd(1), h(4)}, // the defaults
		{"C01037", "路灯", dd(5), dd(1), h(4)},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		for _, tt := range tests {
			c, err := e.svc.ByRef(e.ctx, tt.ref)
			if err != nil {
				t.Fatal(tt.ref, err)
			}
			if c.Name.Zh != tt.name {
				t.Errorf("%s is %s, want %s", tt.ref, c.Name.Zh, tt.name)
			}
			for u, want := range map[catalog.Urgency]calendar.Limit{catalog.Normal: tt.normal, catalog.Pressing: tt.pressing, catalog.Urgent: tt.urgent} {
				if got, _ := c.Limits.For(u, catalog.Handle); got != want {
					t.Errorf("%s %s handle: %v, want %v", tt.ref, u, got, want)
				}
			}
			if got, _ := c.Limits.For(catalog.Normal, catalog.Verify); got != h(2) {
				t.Errorf("%s normal verify: %v", tt.ref, got)
			}
		}
	})
}

func TestCategoriesFilterAndLookups(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		all, _ := e.svc.Categories(e.ctx, catalog.Filter{})
		refs := func(f catalog.Filter) []string {
			t.Helper()
			cs, err := e.svc.Categories(e.ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, c := range cs {
				out = append(out, c.Ref())
			}
			return out
		}
		tests := []struct {
			name   string
			f      catalog.Filter
			want   []string // exactly these, when set
			count  int      // or this many, when want is nil
			holds  []string // and these among them
			misses []string // but not these
		}{
			{name: "all", f: catalog.Filter{}, count: len(all)},
			{name: "components", f: catalog.Filter{Kind: catalog.Component}, count: nationalComponents},
			{name: "public are the matters", f: catalog.Filter{PublicOnly: true}, count: len(all) - nationalComponents, misses: []string{"C01037"}},
			{name: "group", f: catalog.Filter{Kind: catalog.Matter, Group: "10"}, want: []string{"M10001", "M10002"}},
			{name: "chinese word", f: catalog.Filter{Query: "垃圾箱"}, want: []string{"C03005", "M03005"}},
			{name: "english words any case", f: catalog.Filter{Query: "Exposed RUBBISH"}, want: []string{"M06010"}},
			{name: "english query not in chinese names", f: catalog.Filter{Query: "rubbish", Lang: "zh-CN"}, count: 0},
			{name: "chinese query in english names", f: catalog.Filter{Query: "垃圾", Lang: "en"}, count: 0},
			{name: "keywords", f: catalog.Filter{Query: "e-bike corridor"}, want: []string{"M91005"}},
			{name: "code", f: catalog.Filter{Query: "06010"}, want: []string{"M06010"}},
			{name: "ref", f: catalog.Filter{Query: "c01037"}, want: []string{"C01037"}},
			{name: "local group", f: catalog.Filter{Group: "94"}, count: 5, holds: []string{"M94001"}},
		}
		for _, tt := range tests {
			got := refs(tt.f)
			switch {
			case tt.want != nil && !slices.Equal(got, tt.want):
				t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
			case tt.want == nil && len(got) != tt.count:
				t.Errorf("%s: %d categories, want %d", tt.name, len(got), tt.count)
			}
			for _, r := range tt.holds {
				if !slices.Contains(got, r) {
					t.Errorf("%s: %s missing", tt.name, r)
				}
			}
			for _, r := range tt.misses {
				if slices.Contains(got, r) {
					t.Errorf("%s: %s present", tt.name, r)
				}
			}
		}

		c, err := e.svc.Category(e.ctx, catalog.Matter, "01037")
		if err != nil || c.Name.Zh != "路灯异常" || c.Name.En != "Street light problem" || c.Ref() != "M01037" || c.Department != "urban-mgmt" {
			t.Fatalf("M01037: %+v %v", c, err)
		}
		// What a caller receives is its own: changing it changes no one else's.
		c.Limits[catalog.Normal][catalog.Handle] = calendar.Limit{Amount: 99, Unit: calendar.Days}
		c2, _ := e.svc.ByRef(e.ctx, "m01037")
		if l, _ := c2.Limits.For(catalog.Normal, catalog.Handle); l.Amount == 99 {
			t.Fatal("a caller's change reached the snapshot")
		}
		for _, ref := range []string{"", "M0103", "X01037", "M01016", "C90001", "M010370"} {
			if _, err := e.svc.ByRef(e.ctx, ref); !errs.Is(err, errs.NotFound) {
				t.Errorf("ByRef(%q): %v, want not found", ref, err)
			}
		}

		groups, err := e.svc.Groups(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 5 component classes, 10 national matter classes, 6 local ones.
		if len(groups) != 21 {
			t.Fatalf("%d groups: %+v", len(groups), groups)
		}
		sum := 0
		for _, g := range groups {
			sum += g.Count
			if g.Local != (g.Kind == catalog.Matter && g.Code >= "90") || g.Name.Zh == "" || g.Name.En == "" {
				t.Errorf("group %+v", g)
			}
		}
		if sum != len(all) {
			t.Errorf("groups hold %d categories, want %d", sum, len(all))
		}
		if g := groups[0]; g.Kind != catalog.Component || g.Code != "01" || g.Name.Zh != "市政公用设施" || g.Count != 76 {
			t.Errorf("first group %+v", g)
		}
	})
}

// fireCategory is a local matter as an administrator might add it.
func fireCategory() catalog.Category {
	return catalog.Category{
		Kind: catalog.Matter, Code: "91099", GroupName: catalog.Names{Zh: "安全隐患", En: "Safety hazards"},
		Name: catalog.Names{Zh: " 电动车入户 ", En: "E-bike kept indoors"}, Department: "fire", Public: true, Active: true,
		Limits: catalog.Limits{catalog.Normal: {catalog.Handle: {Amount: 3, Unit: calendar.Days}}},
		Attributes: []catalog.Attribute{
			{Code: "floor", Datatype: catalog.Number, Variable: true, Order: 2, Description: catalog.Names{Zh: "楼层"}},
			{Code: "seen_at", Datatype: catalog.Datetime, Variable: true, Required: true, Order: 1, Description: catalog.Names{Zh: "发现时间"}},
		},
	}
}

func TestSaveCreatesUpdatesAndAudits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		if err := e.svc.Save(e.ctx, e.admin, fireCategory()); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.ByRef(e.ctx, "M91099")
		if err != nil {
			t.Fatal(err)
		}
		if c.Group != "91" || c.Name.Zh != "电动车入户" || !c.Local() {
			t.Errorf("saved %+v", c)
		}
		if l, _ := c.Limits.For(catalog.Normal, catalog.Handle); l != (calendar.Limit{Amount: 3, Unit: calendar.Days}) {
			t.Errorf("own limit %v", l)
		}
		if l, ok := c.Limits.For(catalog.Urgent, catalog.Check); !ok || l != (calendar.Limit{Amount: 1, Unit: calendar.Hours}) {
			t.Errorf("missing limit not filled from the defaults: %v %v", l, ok)
		}
		if c.Attributes[0].Code != "seen_at" || c.Attributes[1].Code != "floor" {
			t.Errorf("attributes not in order: %+v", c.Attributes)
		}
		if a := e.lastAudit(t); a.Action != "category.create" || a.ObjectID != "M91099" || a.ActorName != "admin" {
			t.Errorf("audit %+v", a)
		}

		c.Active = false
		c.GroupName = catalog.Names{Zh: "安全隐患排查", En: "Safety hazard checks"}
		if err := e.svc.Save(e.ctx, e.admin, c); err != nil {
			t.Fatal(err)
		}
		if a := e.lastAudit(t); a.Action != "category.update" || !strings.Contains(a.Detail, `"group_renamed":6`) {
			t.Errorf("audit %+v", a)
		}
		active, _ := e.svc.Categories(e.ctx, catalog.Filter{ActiveOnly: true, Group: "91"})
		if len(active) != 6 {
			t.Errorf("%d active in group 91, want the 6 others", len(active))
		}
		for _, o := range active {
			if o.GroupName.Zh != "安全隐患排查" {
				t.Errorf("%s still in group %q", o.Ref(), o.GroupName.Zh)
			}
		}
	})
}

func TestSaveRefusesBadCategoriesAndOtherRoles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		if err := e.svc.SaveDepartment(e.ctx, e.admin, catalog.Department{Code: "closed", Name: catalog.Names{Zh: "撤销的部门"}}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name   string
			change func(c *catalog.Category)
			field  string
			key    string
		}{
			{"department unknown", func(c *catalog.Category) { c.Department = "nobody" }, "department", "catalog.department.unknown"},
			{"department inactive", func(c *catalog.Category) { c.Department = "closed" }, "department", "catalog.department.inactive"},
			{"department malformed", func(c *catalog.Category) { c.Department = "Fire Dept" }, "department", "catalog.department.unknown"},
			{"kind", func(c *catalog.Category) { c.Kind = "event" }, "kind", "catalog.kind.unknown"},
			{"code", func(c *catalog.Category) { c.Code = "9101" }, "code", "catalog.code.format"},
			{"local component", func(c *catalog.Category) { c.Kind = catalog.Component }, "code", "catalog.code.local_component"},
			{"group", func(c *catalog.Category) { c.Group = "92" }, "group", "catalog.group.mismatch"},
			{"name", func(c *catalog.Category) { c.Name.Zh = "  " }, "name", "error.field.required"},
			{"group name", func(c *catalog.Category) { c.GroupName.Zh = strings.Repeat("组", 101) }, "group_name", "error.field.too_long"},
			{"limit", func(c *catalog.Category) {
				c.Limits[catalog.Normal][catalog.Sign] = calendar.Limit{Amount: 0, Unit: calendar.Hours}
			}, "limits.normal.sign", "catalog.limit.invalid"},
			{"limit unit", func(c *catalog.Category) {
				c.Limits[catalog.Urgent] = map[catalog.Stage]calendar.Limit{catalog.Handle: {Amount: 2, Unit: "weeks"}}
			}, "limits.urgent.handle", "catalog.limit.invalid"},
			{"limit urgency", func(c *catalog.Category) {
				c.Limits["whenever"] = map[catalog.Stage]calendar.Limit{catalog.Handle: {Amount: 2, Unit: calendar.Days}}
			}, "limits.whenever.handle", "catalog.limit.invalid"},
			{"attribute code", func(c *catalog.Category) { c.Attributes[1].Code = "seen at" }, "attributes[1].code", "catalog.attribute.code"},
			{"attribute twice", func(c *catalog.Category) { c.Attributes[1].Code = "floor" }, "attributes[1].code", "catalog.attribute.duplicate"},
			{"datatype", func(c *catalog.Category) { c.Attributes[0].Datatype = "integer" }, "attributes[0].datatype", "catalog.attribute.datatype"},
			{"list without values", func(c *catalog.Category) { c.Attributes[0].Datatype = catalog.SingleValueList }, "attributes[0].values", "catalog.attribute.no_values"},
			{"values of a non-list", func(c *catalog.Category) {
				c.Attributes[0].Values = []catalog.Value{{Key: "1", Name: catalog.Names{Zh: "一"}}}
			}, "attributes[0].values", "catalog.attribute.values_not_list"},
			{"value key twice", func(c *catalog.Category) {
				c.Attributes[0].Datatype = catalog.MultiValueList
				c.Attributes[0].Values = []catalog.Value{{Key: "a", Name: catalog.Names{Zh: "甲"}}, {Key: "a", Name: catalog.Names{Zh: "乙"}}}
			}, "attributes[0].values[1].key", "catalog.value.duplicate"},
			{"value name", func(c *catalog.Category) {
				c.Attributes[0].Datatype = catalog.MultiValueList
				c.Attributes[0].Values = []catalog.Value{{Key: "a"}}
			}, "attributes[0].values[0].name", "error.field.required"},
			{"description", func(c *catalog.Category) { c.Attributes[0].Description = catalog.Names{} }, "attributes[0].description", "error.field.required"},
			{"keywords", func(c *catalog.Category) { c.Keywords = strings.Repeat("k", 501) }, "keywords", "error.field.too_long"},
		}
		for _, tt := range tests {
			c := fireCategory()
			tt.change(&c)
			err := e.svc.Save(e.ctx, e.admin, c)
			var fe *errs.Error
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("%s: %v, want invalid", tt.name, err)
				continue
			}
			fe = errs.As(err)
			if fe.Fields[tt.field] != tt.key {
				t.Errorf("%s: fields %v, want %s: %s", tt.name, fe.Fields, tt.field, tt.key)
			}
		}

		for _, a := range []auth.Actor{
			{},
			{UserID: 2, Username: "district", Role: auth.DistrictAdmin, Scope: "420106"},
			{UserID: 3, Username: "street", Role: auth.StreetStaff},
			{UserID: 4, Username: "auditor", Role: auth.Auditor},
			{UserID: 5, Username: "resident", Role: auth.Resident},
		} {
			if err := e.svc.Save(e.ctx, a, fireCategory()); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s saved a category: %v", a.Role, err)
			}
			if _, err := e.svc.Import(e.ctx, a, strings.NewReader("kind,code,major_code,major_name,name\n")); !errs.Is(err, errs.Forbidden) {
				t.Errorf("%s imported: %v", a.Role, err)
			}
		}
		// A district administrator over the whole installation manages the
		// catalogue through the territory right.
		whole := auth.Actor{UserID: 6, Username: "city", Role: auth.DistrictAdmin}
		if err := e.svc.Save(e.ctx, whole, fireCategory()); err != nil {
			t.Errorf("district admin over everything: %v", err)
		}
		if _, err := e.svc.ByRef(e.ctx, "M91099"); err != nil {
			t.Error(err)
		}
	})
}

func TestSnapshotFollowsAnotherNodesSave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		other := catalog.NewService(d, e.audit, e.clock) // a second node on the same database
		before, err := other.ByRef(e.ctx, "M06010")
		if err != nil {
			t.Fatal(err)
		}
		changed := before
		changed.Name.Zh = "暴露垃圾（含建筑垃圾）"
		if err := e.svc.Save(e.ctx, e.admin, changed); err != nil {
			t.Fatal(err)
		}
		// The saving node sees its own change at once.
		if c, _ := e.svc.ByRef(e.ctx, "M06010"); c.Name.Zh != changed.Name.Zh {
			t.Fatalf("saving node sees %q", c.Name.Zh)
		}
		// The other node serves its snapshot until the poll interval passes…
		if c, _ := other.ByRef(e.ctx, "M06010"); c.Name.Zh != before.Name.Zh {
			t.Fatalf("other node reloaded before the poll interval: %q", c.Name.Zh)
		}
		e.clock.Advance(catalog.PollInterval)
		// …then compares the version and reloads.
		if c, _ := other.ByRef(e.ctx, "M06010"); c.Name.Zh != changed.Name.Zh {
			t.Fatalf("other node still sees %q after the poll interval", c.Name.Zh)
		}

		// Refresh compares at once.
		changed.Name.Zh = "暴露垃圾"
		if err := e.svc.Save(e.ctx, e.admin, changed); err != nil {
			t.Fatal(err)
		}
		if err := other.Refresh(e.ctx); err != nil {
			t.Fatal(err)
		}
		if c, _ := other.ByRef(e.ctx, "M06010"); c.Name.Zh != "暴露垃圾" {
			t.Fatalf("after Refresh: %q", c.Name.Zh)
		}

		// An import on one node reaches the other the same way.
		if _, err := e.svc.Import(e.ctx, e.admin, strings.NewReader("kind,code,major_code,major_name,name\nmatter,95010,95,意见建议,线上议事建议\n")); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(catalog.PollInterval)
		if _, err := other.ByRef(e.ctx, "M95010"); err != nil {
			t.Fatalf("imported category on the other node: %v", err)
		}
	})
}

// TestConcurrentFirstReadsGetTheirCategories has readers race for the first
// load of a fresh node's snapshot; under -race it also checks that the
// snapshot is published safely.
func TestConcurrentFirstReadsGetTheirCategories(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		svc := catalog.NewService(d, e.audit, e.clock)
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ref := []string{"M06010", "C01037", "M94001", "M10002"}[i%4]
				c, err := svc.ByRef(context.Background(), ref)
				if err != nil {
					errc <- err
				} else if c.Ref() != ref {
					errc <- fmt.Errorf("ByRef(%s) = %s", ref, c.Ref())
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
	})
}
