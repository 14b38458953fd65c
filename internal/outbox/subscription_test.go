package outbox_test

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

// subscribe creates an endpoint with filters as the administrator.
func (e env) subscribe(t testing.TB, in outbox.NewEndpoint) outbox.Endpoint {
	t.Helper()
	if in.URL == "" {
		in.URL = "https://recv.example.cn/" + in.Owner
	}
	ep, _, err := e.svc.CreateEndpoint(e.ctx, admin, in)
	if err != nil {
		t.Fatalf("create %+v: %v", in, err)
	}
	return ep
}

// fanOut lists the outbox's webhook rows as "event→endpoint id", sorted.
func (e env) fanOut(t testing.TB) []string {
	t.Helper()
	rs, err := e.d.QueryContext(e.ctx, "SELECT event, endpoint_id FROM outbox WHERE channel = 'webhook'")
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var ev string
		var id int64
		if err := rs.Scan(&ev, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev+"→"+itoa(id))
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// caseEvent is a webhook message about a case in a place and a category.
func caseEvent(event, dept, territory, category string) outbox.Message {
	return outbox.Message{Channel: outbox.Webhook, Event: event, To: dept, Territory: territory, Category: category,
		Payload: payload(1)}
}

func TestSubscriptionsRouteByOwnerTerritoryCategoryAndEvent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		// A system subscriber for one street and one category, case events only.
		street := e.subscribe(t, outbox.NewEndpoint{Owner: "system:gis", Events: "case.*", Territory: "420106001",
			Categories: "M92001"})
		// A system subscriber for a major class of components, everywhere.
		major := e.subscribe(t, outbox.NewEndpoint{Owner: "system:env", Events: "*", Categories: "c01"})
		// A department's endpoint with the broadest filters, and one narrowed to another street.
		dept := e.subscribe(t, outbox.NewEndpoint{Owner: "dept-a", Events: "*"})
		deptElsewhere := e.subscribe(t, outbox.NewEndpoint{Owner: "dept-a", Events: "*", Territory: "420106002"})
		gone := e.subscribe(t, outbox.NewEndpoint{Owner: "system:old", Events: "*"})
		if err := e.svc.DisableEndpoint(e.ctx, admin, gone.ID); err != nil {
			t.Fatal(err)
		}

		e.enqueue(t,
			// dept-a's case on the street, in the category: both subscribers of it.
			caseEvent("case.dispatch", "dept-a", "420106001002003", "M92001"),
			// dept-b's case there: the system subscriber, never dept-a's endpoints.
			caseEvent("case.accept", "dept-b", "420106001002003", "M92001"),
			// Another street; another category; an event type not subscribed to.
			caseEvent("case.report", "", "420106002001", "M92001"),
			caseEvent("case.register", "", "420106001002", "M92002"),
			caseEvent("visit.overdue", "", "420106001002", "M92001"),
			// Outside the territory, in the component class.
			caseEvent("case.verify", "", "", "C01005"),
			// dept-a's case on the other street, a component.
			caseEvent("case.handle", "dept-a", "420106002001001", "C01005"),
		)
		want := []string{
			"case.accept→" + itoa(street.ID),
			"case.dispatch→" + itoa(street.ID),
			"case.dispatch→" + itoa(dept.ID),
			"case.handle→" + itoa(major.ID),
			"case.handle→" + itoa(dept.ID),
			"case.handle→" + itoa(deptElsewhere.ID),
			"case.verify→" + itoa(major.ID),
		}
		slices.Sort(want)
		if got := e.fanOut(t); !slices.Equal(got, want) {
			t.Fatalf("fan-out\n got %v\nwant %v", got, want)
		}
	})
}

func TestUpdatingFiltersReroutesNewEvents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		ep := e.subscribe(t, outbox.NewEndpoint{Owner: "system:gis", Events: "case.accept", Territory: "420106001"})
		e.enqueue(t, caseEvent("case.accept", "", "420106002001", "M92001"))
		if got := e.fanOut(t); len(got) != 0 {
			t.Fatalf("before the update: %v", got)
		}
		up, err := e.svc.UpdateEndpoint(e.ctx, admin, ep.ID, outbox.EndpointUpdate{URL: " https://new.example.cn/h ",
			Events: "case.*", Territory: "420106002", Categories: "M92, C01001"})
		if err != nil {
			t.Fatal(err)
		}
		if up.URL != "https://new.example.cn/h" || up.Territory != "420106002" || !slices.Equal(up.Categories, []string{"C01001", "M92"}) ||
			!slices.Equal(up.Events, []string{"case.*"}) || up.Owner != "system:gis" || !up.System {
			t.Fatalf("updated: %+v", up)
		}
		e.enqueue(t, caseEvent("case.close", "", "420106002001", "M92001"), caseEvent("case.open", "", "420106001001", "M92001"))
		if got := e.fanOut(t); !slices.Equal(got, []string{"case.close→" + itoa(ep.ID)}) {
			t.Fatalf("after the update: %v", got)
		}
		eps, err := e.svc.Endpoints(e.ctx, admin, "system:gis")
		if err != nil || len(eps) != 1 || eps[0].Territory != "420106002" || len(eps[0].Categories) != 2 {
			t.Fatalf("listed: %+v %v", eps, err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM audit_log WHERE action = 'webhook.update' AND object_id = $1", itoa(ep.ID)); n != 1 {
			t.Fatalf("%d update audit entries", n)
		}
		if err := e.svc.DisableEndpoint(e.ctx, admin, ep.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateEndpoint(e.ctx, admin, ep.ID, outbox.EndpointUpdate{URL: "https://a.cn/h", Events: "*"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("updating a disabled endpoint: %v", err)
		}
	})
}

func TestSubscriptionFiltersAreValidatedNamingTheField(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	ok := outbox.NewEndpoint{Owner: "system:gis", URL: "https://a.cn/h", Events: "*"}
	tests := []struct {
		name  string
		edit  func(*outbox.NewEndpoint)
		field string
		key   string
	}{
		{"territory with a partial level", func(in *outbox.NewEndpoint) { in.Territory = "4201060" }, "territory", "outbox.error.territory"},
		{"territory with letters", func(in *outbox.NewEndpoint) { in.Territory = "42010A" }, "territory", "outbox.error.territory"},
		{"category with a bad kind", func(in *outbox.NewEndpoint) { in.Categories = "X92001" }, "categories", "outbox.error.categories"},
		{"category of 4 digits", func(in *outbox.NewEndpoint) { in.Categories = "M9200" }, "categories", "outbox.error.categories"},
		{"too many categories", func(in *outbox.NewEndpoint) {
			var cs []string
			for i := range 51 {
				cs = append(cs, fmt.Sprintf("M92%03d", i))
			}
			in.Categories = strings.Join(cs, ",")
		}, "categories", "outbox.error.categories"},
		{"wildcard inside an event", func(in *outbox.NewEndpoint) { in.Events = "case.*.x" }, "events", "outbox.error.events"},
		{"bare wildcard prefix", func(in *outbox.NewEndpoint) { in.Events = ".*" }, "events", "outbox.error.events"},
		{"system owner without a name", func(in *outbox.NewEndpoint) { in.Owner = "system:" }, "owner", "outbox.error.system_owner"},
		{"system owner with upper case", func(in *outbox.NewEndpoint) { in.Owner = "system:GIS" }, "owner", "outbox.error.system_owner"},
		{"the system audience as owner", func(in *outbox.NewEndpoint) { in.Owner = "*" }, "owner", "outbox.error.owner"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok
			tt.edit(&in)
			_, _, err := e.svc.CreateEndpoint(e.ctx, admin, in)
			if got := errs.As(err).Fields[tt.field]; !errs.Is(err, errs.Invalid) || got != tt.key {
				t.Fatalf("err = %v (%v), want %s: %s", err, errs.As(err).Fields, tt.field, tt.key)
			}
		})
	}
	ep := e.subscribe(t, ok)
	_, err := e.svc.UpdateEndpoint(e.ctx, admin, ep.ID, outbox.EndpointUpdate{URL: "https://a.cn/h", Events: "*", Territory: "1"})
	if got := errs.As(err).Fields["territory"]; got != "outbox.error.territory" {
		t.Fatalf("update with a bad territory: %v", err)
	}
	if n := e.count(t, "SELECT COUNT(*) FROM webhook_endpoints"); n != 1 {
		t.Fatalf("%d endpoints after refused input", n)
	}
}

func TestOnlySettingsManagersManageSystemSubscribers(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	handler := auth.Actor{UserID: 9, Username: "dept-a-handler", Role: auth.DepartmentHandler, Scope: "420106"}
	// Even a policy that lets the handler manage every owner does not reach system subscribers.
	e := newEnvWith(t, d, nil, func(auth.Actor, string) bool { return true })
	in := outbox.NewEndpoint{Owner: "system:gis", URL: "https://a.cn/h", Events: "*"}
	if _, _, err := e.svc.CreateEndpoint(e.ctx, handler, in); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("handler creates a system subscriber: %v", err)
	}
	sys := e.subscribe(t, in)
	if _, err := e.svc.Endpoints(e.ctx, handler, "system:gis"); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("handler lists system subscribers: %v", err)
	}
	if _, err := e.svc.UpdateEndpoint(e.ctx, handler, sys.ID, outbox.EndpointUpdate{URL: "https://b.cn/h", Events: "*"}); !errs.Is(err, errs.NotFound) {
		t.Fatalf("handler updates a system subscriber: %v", err)
	}
	if _, err := e.svc.RotateSecret(e.ctx, handler, sys.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("handler rotates a system subscriber's secret: %v", err)
	}
	if _, _, err := e.svc.CreateEndpoint(e.ctx, handler, outbox.NewEndpoint{Owner: "dept-a", URL: "https://a.cn/h", Events: "*",
		Territory: "420106001", Categories: "M92"}); err != nil {
		t.Fatalf("handler creates a filtered department endpoint: %v", err)
	}
}
