package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// Community Y, its first grid, and a neighbouring community of the demo
// territory.
const (
	communityY = "420106001001"
	gridY1     = "420106001001001"
	gridY3     = "420106001001003"
	dingziqiao = "420106001002"
)

// Residents of the people env: numbers that must never reach a page except
// the response to their reveal.
var (
	wangDoc   = people.GenerateIDNumber("420106", time.Date(1950, 3, 8, 0, 0, 0, 0, time.UTC), true, 12)
	wangPhone = "13800135678"
	liDoc     = people.GenerateIDNumber("420106", time.Date(1990, 7, 1, 0, 0, 0, 0, time.UTC), false, 31)
	liPhone   = "13912345678"
	zhangDoc  = people.GenerateIDNumber("420106", time.Date(1980, 1, 20, 0, 0, 0, 0, time.UTC), false, 45)
	// secrets are every sensitive number the env registers.
	secrets = []string{wangDoc, wangPhone, liDoc, liPhone, zhangDoc}
)

// peopleEnv is the web face with the territory and registry services on a
// fresh SQLite database: the demo territory, a building in Community Y's
// first grid and one in Dingziqiao, and three residents.
type peopleEnv struct {
	*env
	terr   *territory.Service
	people *people.Service
	// wang (aged 60+, disabled) heads a household in Community Y grid 1 with
	// li; zhang lives in Dingziqiao.
	wang, li, zhang people.Resident
}

// Accounts of the people env: gw is a grid worker of Community Y's first
// grid, gw3 of its third grid (where nobody lives), cs community staff of
// Community Y, other community staff of Dingziqiao, district the district
// administrator.
func newPeopleEnv(t *testing.T) *peopleEnv {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	al := audit.New(d)
	c := clock.System{}
	svc := testAuth(d, al)
	terr := territory.NewService(d, al, svc, c, territory.DefaultTolerance)
	planner := auth.SystemActorAs("test", auth.DistrictAdmin)
	if _, err := terr.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	ps := people.NewService(d, al, keys, terr, c)
	e := &peopleEnv{env: envWith(t, Deps{Auth: svc, Audit: al, Territory: terr, People: ps}), terr: terr, people: ps}

	bs, err := terr.AddBuildings(ctx, planner, []territory.NewBuilding{
		{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507}, // Community Y, grid 1
		{Name: "9号楼", Address: "丁字桥路9号", Lng: 114.3150, Lat: 30.5500}, // Dingziqiao
	})
	if err != nil {
		t.Fatal(err)
	}
	if bs[0].GridCode != gridY1 || !strings.HasPrefix(bs[1].GridCode, dingziqiao) {
		t.Fatalf("buildings placed in %s and %s", bs[0].GridCode, bs[1].GridCode)
	}
	staff := auth.SystemActorAs("test", auth.CommunityStaff)
	house := func(b territory.Building, number string) people.House {
		h, err := ps.AddHouse(ctx, staff, people.NewHouse{BuildingID: b.ID, Unit: "1", Number: number, Floor: 1})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	resident := func(in people.NewResident) people.Resident {
		r, err := ps.AddResident(ctx, staff, in)
		if err != nil {
			t.Fatalf("add %s: %v", in.Name, err)
		}
		return r
	}
	e.wang = resident(people.NewResident{HouseID: house(bs[0], "101").ID, Name: "王秀英", DocumentNumber: wangDoc, Phone: wangPhone, Tags: []string{"disabled"}})
	e.li = resident(people.NewResident{HouseholdID: e.wang.HouseholdID, Relation: people.Child, Name: "李明", DocumentNumber: liDoc, Phone: liPhone})
	e.zhang = resident(people.NewResident{HouseID: house(bs[1], "202").ID, Name: "张伟", DocumentNumber: zhangDoc})

	e.user("gw", auth.GridWorker, communityY, false)
	e.user("gw3", auth.GridWorker, communityY, false)
	for grid, name := range map[string]string{gridY1: "gw", gridY3: "gw3"} {
		if err := terr.Assign(ctx, planner, grid, name, territory.DutyWorker); err != nil {
			t.Fatal(err)
		}
	}
	e.user("cs", auth.CommunityStaff, communityY, false)
	e.user("other", auth.CommunityStaff, dingziqiao, false)
	e.user("district", auth.DistrictAdmin, "420106", false)
	e.user("auditor", auth.Auditor, "", false)
	return e
}

// as signs a new browser in as username, in lang.
func (e *peopleEnv) as(username, lang string) *browser {
	e.t.Helper()
	b := e.browser("")
	b.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
	b.signIn(username)
	return b
}

// wantNoSecrets fails the test when a page shows a full identity or phone
// number of the env's residents.
func wantNoSecrets(t *testing.T, res response) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(res.Body, s) {
			t.Fatalf("%s %s shows the full number %s", res.Request.Method, res.Request.URL, s)
		}
	}
}

func residentURL(id int64) string { return "/people/" + strconv.FormatInt(id, 10) }

func TestPeopleSearchIsLimitedToTheSearchersArea(t *testing.T) {
	e := newPeopleEnv(t)
	for _, tc := range []struct {
		user      string
		see, miss []string
	}{
		{"gw", []string{"王秀英", "李明"}, []string{"张伟"}},
		{"cs", []string{"王秀英", "李明"}, []string{"张伟"}},
		{"other", []string{"张伟"}, []string{"王秀英", "李明"}},
		{"district", []string{"王秀英", "李明", "张伟"}, nil},
		{"gw3", nil, []string{"王秀英", "李明", "张伟"}},
	} {
		t.Run(tc.user, func(t *testing.T) {
			res := e.as(tc.user, i18n.English).get("/people")
			wantStatus(t, res, http.StatusOK)
			wantNoSecrets(t, res)
			for _, n := range tc.see {
				wantText(t, res, n)
			}
			for _, n := range tc.miss {
				if strings.Contains(res.Body, n) {
					t.Errorf("%s sees %s", tc.user, n)
				}
			}
		})
	}
	t.Run("masked numbers and derived tags", func(t *testing.T) {
		res := e.as("cs", i18n.English).get("/people")
		wantText(t, res, seal.MaskIDNumber(wangDoc))
		wantText(t, res, "138****5678")
		wantHTML(t, res, `class="badge derived">`+escaped("Aged 60+"))
		wantHTML(t, res, `class="badge">Person with disability`)
	})
	t.Run("name prefix and tag", func(t *testing.T) {
		b := e.as("cs", i18n.English)
		res := b.get("/people?name=" + url.QueryEscape("王"))
		wantText(t, res, "王秀英")
		if strings.Contains(res.Body, "李明") {
			t.Error("a name search for 王 lists 李明")
		}
		res = b.get("/people?tag=disabled")
		wantText(t, res, "王秀英")
		if strings.Contains(res.Body, "李明") {
			t.Error("the disabled filter lists 李明")
		}
	})
	t.Run("staff without the registry are refused", func(t *testing.T) {
		wantStatus(t, e.as("auditor", i18n.English).get("/people"), http.StatusForbidden)
		if strings.Contains(e.as("auditor", i18n.English).get("/").Body, `href="/people"`) {
			t.Error("the auditor is offered the registry")
		}
	})
}

func TestPeopleSearchPagesWithMore(t *testing.T) {
	e := newPeopleEnv(t)
	staff := auth.SystemActorAs("test", auth.CommunityStaff)
	for i := range peoplePageSize + 5 {
		doc := people.GenerateIDNumber("420106", time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i), i%2 == 0, 7)
		if _, err := e.people.AddResident(t.Context(), staff, people.NewResident{HouseholdID: e.wang.HouseholdID, Relation: people.Other,
			Name: "陈" + strconv.Itoa(i), DocumentNumber: doc}); err != nil {
			t.Fatal(err)
		}
	}
	b := e.as("cs", i18n.English)
	first := b.get("/people?name=" + url.QueryEscape("陈"))
	wantStatus(t, first, http.StatusOK)
	i := strings.Index(first.Body, `href="/people?after=`)
	if i < 0 {
		t.Fatalf("no next page link:\n%s", first.Body)
	}
	next := first.Body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.IndexByte(next, '"')], "&amp;", "&")
	second := b.get(next)
	wantStatus(t, second, http.StatusOK)
	if n := strings.Count(second.Body, `<tr>`) - 1; n != 5 {
		t.Fatalf("the second page has %d rows, want 5", n)
	}
	wantText(t, second, e.bundle.T(i18n.English, "pager.first"))
}

// Identity and phone numbers are posted, never put in a URL, and never
// written back into the page.
func TestPeopleSearchByNumberIsPosted(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("cs", i18n.English)
	res := b.post("/people/search", url.Values{"csrf": {b.csrf()}, "document": {strings.ToLower(wangDoc)}})
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, "王秀英")
	wantNoSecrets(t, res)
	if strings.Contains(res.Body, "李明") {
		t.Error("a search by number lists another resident")
	}
	res = b.post("/people/search", url.Values{"csrf": {b.csrf()}, "phone": {"139 1234 5678"}})
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, "李明")
	wantNoSecrets(t, res)
	// Outside the searcher's area a number finds nobody.
	res = b.post("/people/search", url.Values{"csrf": {b.csrf()}, "document": {zhangDoc}})
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, e.bundle.T(i18n.English, "registry.results.none"))
	// A malformed phone number is reported beside its field.
	res = b.post("/people/search", url.Values{"csrf": {b.csrf()}, "phone": {"12"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "people.phone.format"))
	if strings.Contains(res.Body, `value="12"`) {
		t.Error("the phone number is written back into the form")
	}
	// Name and tag alone go on to the linkable GET page.
	res = b.post("/people/search", url.Values{"csrf": {b.csrf()}, "name": {"王"}, "tag": {"disabled"}})
	wantRedirect(t, res, "/people?name="+url.QueryEscape("王")+"&tag=disabled")
}

func TestResidentPageIsNotFoundOutsideTheArea(t *testing.T) {
	e := newPeopleEnv(t)
	for _, tc := range []struct {
		user   string
		id     int64
		status int
	}{
		{"gw", e.wang.ID, http.StatusOK},
		{"gw", e.zhang.ID, http.StatusNotFound},
		{"gw3", e.wang.ID, http.StatusNotFound},
		{"other", e.wang.ID, http.StatusNotFound},
		{"other", e.zhang.ID, http.StatusOK},
		{"cs", e.li.ID, http.StatusOK},
		{"cs", 999999, http.StatusNotFound},
		{"auditor", e.wang.ID, http.StatusNotFound},
	} {
		res := e.as(tc.user, i18n.English).get(residentURL(tc.id))
		if res.StatusCode != tc.status {
			t.Errorf("%s on resident %d: status %d, want %d", tc.user, tc.id, res.StatusCode, tc.status)
		}
		wantNoSecrets(t, res)
	}
	wantStatus(t, e.as("cs", i18n.English).get("/people/abc"), http.StatusNotFound)
}

func TestResidentPageShowsHouseholdAndMaskedNumbers(t *testing.T) {
	e := newPeopleEnv(t)
	res := e.as("cs", i18n.Chinese).get(residentURL(e.wang.ID))
	wantStatus(t, res, http.StatusOK)
	wantNoSecrets(t, res)
	for _, s := range []string{"王秀英", "李明", "1号楼", "中南一路1号", "101", seal.MaskIDNumber(wangDoc), "138****5678", "残疾人", "60岁以上", "户籍人口"} {
		wantText(t, res, s)
	}
	wantHTML(t, res, `href="`+residentURL(e.li.ID)+`"`)
	wantHTML(t, res, `action="`+residentURL(e.wang.ID)+`/reveal"`)
	wantHTML(t, res, `href="/visits/new?household=`+strconv.FormatInt(e.wang.HouseholdID, 10)+`"`)
	// Community staff may reveal; a grid worker may not, so is not offered.
	gw := e.as("gw", i18n.Chinese).get(residentURL(e.wang.ID))
	wantStatus(t, gw, http.StatusOK)
	if strings.Contains(gw.Body, "/reveal") {
		t.Error("a grid worker is offered the reveal form")
	}
	// A child without a phone has no phone row to reveal.
	if strings.Contains(e.as("other", i18n.Chinese).get(residentURL(e.zhang.ID)).Body, `name="field" value="phone"`) {
		t.Error("a reveal form for a phone number that does not exist")
	}
}

func TestRevealNeedsAReasonAndIsAudited(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("cs", i18n.English)
	target := residentURL(e.wang.ID) + "/reveal"

	res := b.post(target, url.Values{"csrf": {b.csrf()}, "field": {"document"}, "reason": {""}})
	wantStatus(t, res, http.StatusBadRequest)
	wantNoSecrets(t, res)
	wantHTML(t, res, `<p class="field-error" id="reason-document-error">`+escaped(e.bundle.T(i18n.English, "people.reveal.reason"))+`</p>`)
	wantHTML(t, res, `<details class="reveal" open>`)

	zh := e.as("cs", i18n.Chinese)
	res = zh.post(target, url.Values{"csrf": {zh.csrf()}, "field": {"phone"}, "reason": {"a"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.Chinese, "people.reveal.reason"))
	wantHTML(t, res, `id="reason-phone-error"`)

	res = b.post(target, url.Values{"csrf": {b.csrf()}, "field": {"document"}, "reason": {"Checking the pension application"}})
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `id="value-document"`)
	wantText(t, res, wangDoc)
	wantText(t, res, e.bundle.T(i18n.English, "registry.reveal.done"))
	if strings.Contains(res.Body, wangPhone) {
		t.Error("revealing the document also shows the phone number")
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	entries, err := e.audit.List(t.Context(), audit.Filter{ObjectType: "resident", ObjectID: strconv.FormatInt(e.wang.ID, 10), Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var reveals int
	for _, en := range entries {
		if en.Action == "resident.reveal" {
			reveals++
			if en.Reason != "Checking the pension application" || en.ActorName != "cs" {
				t.Errorf("audit entry %+v", en)
			}
		}
	}
	if reveals != 1 {
		t.Fatalf("%d reveals audited, want 1 (failed attempts are not reveals)", reveals)
	}
	// Shown once: the page itself masks it again.
	wantNoSecrets(t, b.get(residentURL(e.wang.ID)))

	// A grid worker cannot reveal, even by posting the form by hand; a
	// resident outside the area is not found.
	gw := e.as("gw", i18n.English)
	res = gw.post(target, url.Values{"csrf": {gw.csrf()}, "field": {"document"}, "reason": {"just looking around"}})
	wantStatus(t, res, http.StatusForbidden)
	wantNoSecrets(t, res)
	res = b.post(residentURL(e.zhang.ID)+"/reveal", url.Values{"csrf": {b.csrf()}, "field": {"document"}, "reason": {"just looking around"}})
	wantStatus(t, res, http.StatusNotFound)
	wantNoSecrets(t, res)
}
