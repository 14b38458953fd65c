package web

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/territory"
)

// mapTerritory is a small district: one street, one community split into
// two grids.
const mapTerritory = `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"420106","name":"武昌区","name_en":"Wuchang District"},
 "geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.34,30.50],[114.34,30.54],[114.30,30.54],[114.30,30.50]]]}},
{"type":"Feature","properties":{"code":"420106001","name":"中南路街道","name_en":"Zhongnan Road Street"},
 "geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.34,30.50],[114.34,30.54],[114.30,30.54],[114.30,30.50]]]}},
{"type":"Feature","properties":{"code":"420106001001","name":"Y社区","name_en":"Community Y"},
 "geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.34,30.50],[114.34,30.54],[114.30,30.54],[114.30,30.50]]]}},
{"type":"Feature","properties":{"code":"420106001001001","name":"第一网格"},
 "geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.32,30.50],[114.32,30.54],[114.30,30.54],[114.30,30.50]]]}},
{"type":"Feature","properties":{"code":"420106001001002","name":"第二网格"},
 "geometry":{"type":"Polygon","coordinates":[[[114.32,30.50],[114.34,30.50],[114.34,30.54],[114.32,30.54],[114.32,30.50]]]}}
]}`

const testTileURL = "https://tiles.example.org/{z}/{x}/{y}.png"

// newMapEnv is newEnv with the territory service wired in and the test
// territory imported.
func newMapEnv(t *testing.T) *env {
	t.Helper()
	d := dbtest.Open(t, db.SQLite)
	al := audit.New(d)
	svc := testAuth(d, al)
	terr := territory.NewService(d, al, svc, clock.System{}, territory.DefaultTolerance)
	if _, err := terr.Import(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), []byte(mapTerritory), false); err != nil {
		t.Fatalf("import the test territory: %v", err)
	}
	return envWith(t, Deps{Auth: svc, Audit: al, Territory: terr, MapTileURL: testTileURL})
}

func TestMapPageByRole(t *testing.T) {
	e := newMapEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	e.user("community", auth.CommunityStaff, "420106001001", false)
	e.user("auditor", auth.Auditor, "", false)
	e.user("admin", auth.SystemAdmin, "", false)

	t.Run("district_admin may edit", func(t *testing.T) {
		b := e.browser("zh-CN")
		b.signIn("district")
		res := b.get("/map")
		wantStatus(t, res, http.StatusOK)
		wantHTML(t, res, `data-can-edit="true"`)
		wantHTML(t, res, `data-edit-scopes="420106"`)
		wantHTML(t, res, `data-scopes="420106"`)
		wantHTML(t, res, `data-lang="zh-CN"`)
		wantText(t, res, "武昌区")
		wantHTML(t, res, `/static/vendor/leaflet-geoman.min.js`)
		wantHTML(t, res, `/static/map.js`)
		wantHTML(t, res, `href="/map" aria-current="page"`)
	})
	t.Run("community staff may only look", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("community")
		res := b.get("/map")
		wantStatus(t, res, http.StatusOK)
		wantHTML(t, res, `data-can-edit="false"`)
		wantHTML(t, res, `data-scopes="420106001001"`)
		wantHTML(t, res, `data-lang="en"`)
		wantText(t, res, "Community Y")
		if strings.Contains(res.Body, "leaflet-geoman") {
			t.Error("the editing library is sent to an account that cannot edit")
		}
		if !strings.Contains(b.get("/").Body, `href="/map"`) {
			t.Error("home page of community staff does not offer the map")
		}
	})
	t.Run("system_admin sees everything and edits nothing", func(t *testing.T) {
		b := e.browser("en")
		b.signIn("admin")
		res := b.get("/map")
		wantStatus(t, res, http.StatusOK)
		wantHTML(t, res, `data-can-edit="false"`)
		wantText(t, res, e.bundle.T(i18n.English, "scope.all"))
	})
	t.Run("auditor is refused", func(t *testing.T) {
		b := e.browser("")
		b.signIn("auditor")
		wantStatus(t, b.get("/map"), http.StatusForbidden)
		if strings.Contains(b.get("/").Body, `href="/map"`) {
			t.Error("the auditor is offered the map")
		}
	})
	t.Run("anonymous visitors sign in first", func(t *testing.T) {
		wantRedirect(t, e.browser("").get("/map"), "/login?next=%2Fmap")
	})
}

func TestMapPagePassesTileURL(t *testing.T) {
	e := newMapEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	b := e.browser("")
	b.signIn("district")
	wantHTML(t, b.get("/map"), `data-tile-layer="`+testTileURL+`"`)
}

// Without a territory service (or before anything is imported) the page
// still renders; the script then says the map is empty.
func TestMapPageWithoutTerritory(t *testing.T) {
	e := newEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	b := e.browser("")
	b.signIn("district")
	res := b.get("/map")
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `data-tile-layer=""`)
	if strings.Contains(res.Body, `class="map-places"`) {
		t.Error("the page names places that do not exist")
	}
}

func TestMapPageHasNoInlineScriptOrStyle(t *testing.T) {
	e := newMapEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	b := e.browser("")
	b.signIn("district")
	res := b.get("/map")
	for _, bad := range []string{"<style", " style=", "<script>", " onclick=", " onchange=", " onsubmit=", "javascript:"} {
		if strings.Contains(res.Body, bad) {
			t.Errorf("/map contains %q", bad)
		}
	}
}

// Every string map.js asks for with t('name') must reach it as a
// data-t-name attribute, in both languages.
func TestMapScriptStringsAreOnThePage(t *testing.T) {
	src, err := os.ReadFile("static/map.js")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\bt\('([a-zA-Z]+)'`).FindAllStringSubmatch(string(src), -1) {
		names = append(names, m[1])
	}
	// kindName builds these names from the feature kinds.
	for _, k := range territory.Kinds {
		names = append(names, "kind"+strings.ToUpper(k[:1])+k[1:])
	}
	if len(names) < 20 {
		t.Fatalf("found only %d strings in map.js: the scan is broken", len(names))
	}
	upper := regexp.MustCompile(`[A-Z]`)
	e := newMapEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	for _, lang := range i18n.Languages {
		b := e.browser("")
		b.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
		b.signIn("district")
		res := b.get("/map")
		for _, n := range names {
			attr := "data-t-" + upper.ReplaceAllStringFunc(n, func(s string) string { return "-" + strings.ToLower(s) }) + `="`
			i := strings.Index(res.Body, attr)
			if i < 0 {
				t.Errorf("%s: map.js uses t(%q) but the page has no %s", lang, n, attr)
				continue
			}
			if strings.HasPrefix(res.Body[i+len(attr):], `"`) {
				t.Errorf("%s: %s is empty", lang, attr)
			}
		}
	}
}
