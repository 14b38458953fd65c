package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
)

// visitForm is a filled-in visit form for household hh, in Beijing time.
func visitForm(csrf string, hh int64, extra url.Values) url.Values {
	now := time.Now().In(beijing)
	v := url.Values{"csrf": {csrf}, "household": {strconv.FormatInt(hh, 10)},
		"started_at": {now.Add(-40 * time.Minute).Format(dateTimeLocal)}, "ended_at": {now.Add(-10 * time.Minute).Format(dateTimeLocal)}}
	for k, vs := range extra {
		v[k] = vs
	}
	return v
}

func TestVisitFormOffersTheCareListAndSavesAVisit(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("gw", i18n.English)
	hh := strconv.FormatInt(e.wang.HouseholdID, 10)

	res := b.get("/visits/new")
	wantStatus(t, res, http.StatusOK)
	wantNoSecrets(t, res)
	// 王秀英 is disabled (a visit every 30 days) and was never visited.
	wantHTML(t, res, `name="household" value="`+hh+`"`)
	wantText(t, res, "王秀英")
	wantHTML(t, res, `type="datetime-local"`)
	wantHTML(t, res, `name="finding.fire_hazard"`)
	if strings.Contains(res.Body, `value="`+hh+`" checked`) {
		t.Error("a household is ticked before the worker ticks it")
	}
	// Linked from the care list, the household comes ticked.
	wantHTML(t, b.get("/visits/new?household="+hh), `value="`+hh+`" checked`)

	// A search keeps what was ticked and typed, and adds the households found.
	res = b.post("/visits", visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"search"}, "q": {"李"},
		"companions": {"Volunteer Chen"}, "finding.fire_hazard": {"on"}, "finding.fire_hazard.text": {"Blocked stairwell"}}))
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `value="`+hh+`" checked`)
	wantHTML(t, res, `value="Volunteer Chen"`)
	wantHTML(t, res, `value="Blocked stairwell"`)
	wantHTML(t, res, `class="choices found"`)
	wantText(t, res, "李明")

	// Saving: a ticked finding without words is stored under its kind's name.
	res = b.post("/visits", visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"}, "companions": {"Volunteer Chen"},
		"finding.fire_hazard": {"on"}, "finding.fire_hazard.text": {"Blocked stairwell"}, "finding.request": {"on"}}))
	wantRedirect(t, res, "/visits?ok=recorded")
	res = b.get("/visits?ok=recorded")
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, e.bundle.T(i18n.English, "visits.notice.recorded"))
	wantText(t, res, "Blocked stairwell")
	wantText(t, res, "Volunteer Chen")
	wantText(t, res, e.bundle.T(i18n.English, "visits.household.number", e.wang.HouseholdID))
	vs, err := e.people.Visits(t.Context(), auth.SystemActorAs("test", auth.CommunityStaff), people.VisitFilter{})
	if err != nil || len(vs) != 1 || len(vs[0].Findings) != 2 || vs[0].Findings[1].Description != "Request for help" && vs[0].Findings[0].Description != "Request for help" {
		t.Fatalf("stored visit: %+v %v", vs, err)
	}
	if vs[0].EndedAt.Sub(vs[0].StartedAt) != 30*time.Minute {
		t.Errorf("times: %s – %s", vs[0].StartedAt, vs[0].EndedAt)
	}
	// Visited today: no longer due, so no longer on the form's care list.
	if strings.Contains(b.get("/visits/new").Body, `name="household" value="`+hh+`"`) {
		t.Error("a household visited today is still due")
	}
}

func TestVisitFormShowsItsErrorsBesideTheFields(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("gw", i18n.Chinese)
	zh := func(key string, args ...any) string { return e.bundle.T(i18n.Chinese, key, args...) }

	// No household ticked.
	f := visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"}})
	f.Del("household")
	res := b.post("/visits", f)
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `<p class="field-error" id="households-error">`+escaped(zh("error.field.required"))+`</p>`)

	// A household outside the worker's grids is unknown, as in the registry.
	res = b.post("/visits", visitForm(b.csrf(), e.zhang.HouseholdID, url.Values{"do": {"save"}}))
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, zh("people.household.unknown"))

	// Times: unreadable, and an end before the start.
	res = b.post("/visits", visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"}, "started_at": {"yesterday"}}))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-started_at-error">`+escaped(zh("visits.time.format")))
	now := time.Now().In(beijing)
	res = b.post("/visits", visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"},
		"started_at": {now.Add(-10 * time.Minute).Format(dateTimeLocal)}, "ended_at": {now.Add(-time.Hour).Format(dateTimeLocal)}}))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-ended_at-error"`)

	// A finding's error lands beside that finding.
	res = b.post("/visits", visitForm(b.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"},
		"finding.dispute": {"on"}, "finding.dispute.text": {strings.Repeat("吵", 501)}}))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `<p class="field-error" id="finding-dispute-error">`+escaped(zh("error.field.too_long"))+`</p>`)
}

func TestVisitPagesNeedTheRegistry(t *testing.T) {
	e := newPeopleEnv(t)
	// The district administrator reads the registry but does not visit.
	d := e.as("district", i18n.English)
	wantStatus(t, d.get("/visits"), http.StatusOK)
	wantStatus(t, d.get("/care"), http.StatusOK)
	wantStatus(t, d.get("/visits/new"), http.StatusForbidden)
	res := d.post("/visits", visitForm(d.csrf(), e.wang.HouseholdID, url.Values{"do": {"save"}}))
	wantStatus(t, res, http.StatusForbidden)
	if strings.Contains(d.get("/visits").Body, `href="/visits/new"`) {
		t.Error("the district administrator is offered the visit form")
	}
	a := e.as("auditor", i18n.English)
	for _, p := range []string{"/visits", "/visits/new", "/care"} {
		wantStatus(t, a.get(p), http.StatusForbidden)
	}
}

func TestCareListShowsWhoIsDueInTheArea(t *testing.T) {
	e := newPeopleEnv(t)
	res := e.as("gw", i18n.English).get("/care")
	wantStatus(t, res, http.StatusOK)
	wantNoSecrets(t, res)
	wantText(t, res, "王秀英")
	wantText(t, res, e.bundle.T(i18n.English, "care.status.due"))
	wantText(t, res, e.bundle.T(i18n.English, "care.never"))
	wantHTML(t, res, `href="/visits/new?household=`+strconv.FormatInt(e.wang.HouseholdID, 10)+`"`)
	wantHTML(t, res, `href="`+residentURL(e.wang.ID)+`"`)
	other := e.as("other", i18n.English).get("/care")
	wantStatus(t, other, http.StatusOK)
	if strings.Contains(other.Body, "王秀英") {
		t.Error("staff of another community see 王秀英 on their care list")
	}
	wantText(t, other, e.bundle.T(i18n.English, "care.none"))
}

func TestCareListPagesThroughTheSchedule(t *testing.T) {
	e := newPeopleEnv(t)
	staff := auth.SystemActorAs("test", auth.CommunityStaff)
	// Disabled residents are visited monthly: each one is due at once.
	for i := range carePageSize + 3 {
		doc := people.GenerateIDNumber("420106", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i), i%2 == 0, 9)
		if _, err := e.people.AddResident(t.Context(), staff, people.NewResident{HouseholdID: e.wang.HouseholdID, Relation: people.Other,
			Name: "周" + strconv.Itoa(i), DocumentNumber: doc, Tags: []string{"disabled"}}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("cs", i18n.English)
	first := b.get("/care")
	wantStatus(t, first, http.StatusOK)
	wantText(t, first, e.bundle.T(i18n.English, "care.summary", carePageSize+4, 0))
	if n := strings.Count(first.Body, `<li class="card care`); n != carePageSize {
		t.Fatalf("the first page lists %d residents, want %d", n, carePageSize)
	}
	wantHTML(t, first, `href="/care?from=`+strconv.Itoa(carePageSize)+`"`)
	second := b.get("/care?from=" + strconv.Itoa(carePageSize))
	if n := strings.Count(second.Body, `<li class="card care`); n != 4 {
		t.Fatalf("the second page lists %d residents, want 4", n)
	}
	wantHTML(t, second, `href="/care?from=0"`)
	wantStatus(t, b.get("/care?from=x"), http.StatusBadRequest)
}
