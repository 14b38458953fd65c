package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
)

// peoplePageTemplates are the page templates that need the registry, so
// TestPeoplePagesRenderInBothLanguages renders them rather than
// TestEveryPageRendersInBothLanguages.
var peoplePageTemplates = map[string]bool{
	"people": true, "resident": true, "people_import": true, "visit": true, "visits": true,
	"care": true, "stats": true, "signup": true, "me": true,
}

func TestPeoplePagesRenderInBothLanguages(t *testing.T) {
	keys := templateKeys(t)
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			e := newPeopleEnv(t)
			cs, gw := e.as("cs", lang), e.as("gw", lang)
			anon := e.browser("")
			anon.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
			resident := e.browser("")
			resident.cookies["lang"] = &http.Cookie{Name: "lang", Value: lang}
			data, _ := importCSV(t)
			res := resident.post("/signup", url.Values{"phone": {"13700000000"}, "password": {testPassword}, "confirm_password": {testPassword}})
			wantStatus(t, res, http.StatusSeeOther)
			pages := []struct {
				template string
				res      response
				status   int
			}{
				{"people", cs.get("/people"), http.StatusOK},
				{"resident", cs.get(residentURL(e.wang.ID)), http.StatusOK},
				{"resident", cs.post(residentURL(e.wang.ID)+"/reveal", url.Values{"csrf": {cs.csrf()}, "field": {"phone"}}), http.StatusBadRequest},
				{"people_import", cs.get("/people/import"), http.StatusOK},
				{"people_import", cs.multipartPost("/people/import", url.Values{"csrf": {cs.csrf()}, "step": {"columns"}}, "a.csv", data), http.StatusOK},
				{"people_import", cs.multipartPost("/people/import", importMapping(cs.csrf(), "check", false), "a.csv", data), http.StatusBadRequest},
				{"visit", gw.get("/visits/new"), http.StatusOK},
				{"visit", gw.post("/visits", url.Values{"csrf": {gw.csrf()}, "do": {"save"}}), http.StatusBadRequest},
				{"visits", gw.get("/visits"), http.StatusOK},
				{"care", gw.get("/care"), http.StatusOK},
				{"stats", cs.get("/stats"), http.StatusOK},
				{"signup", anon.get("/signup"), http.StatusOK},
				{"signup", anon.post("/signup", url.Values{"phone": {"1"}}), http.StatusBadRequest},
				{"me", resident.get("/me"), http.StatusOK},
				{"me", resident.post("/me/verify", url.Values{"csrf": {resident.csrf()}, "name": {"x"}, "document_number": {"1"}}), http.StatusBadRequest},
				{"home", cs.get("/"), http.StatusOK},
				{"home", resident.get("/"), http.StatusOK},
			}
			var covered []string
			for _, p := range pages {
				wantStatus(t, p.res, p.status)
				wantHTML(t, p.res, `<html lang="`+lang+`"`)
				for _, k := range keys {
					if strings.Contains(p.res.Body, k) {
						t.Errorf("%s %s shows the untranslated key %q", p.res.Request.Method, p.res.Request.URL, k)
					}
				}
				for _, bad := range []string{"<style", " style=", "<script>", " onclick=", " onchange=", " onsubmit=", "javascript:"} {
					if strings.Contains(p.res.Body, bad) {
						t.Errorf("%s contains %q", p.res.Request.URL, bad)
					}
				}
				wantNoSecrets(t, p.res)
				covered = append(covered, p.template)
			}
			for name := range peoplePageTemplates {
				if !slices.Contains(covered, name) {
					t.Errorf("page template %s is not rendered by this test", name)
				}
			}
		})
	}
}

// Every code the registry pages name through Label (genders, relations,
// tags, finding kinds, …) has a name in both catalogs, and so has every
// notice.
func TestRegistryLabelsAreInBothCatalogs(t *testing.T) {
	var keys []string
	add := func(prefix string, codes ...string) {
		for _, c := range codes {
			keys = append(keys, prefix+c)
		}
	}
	add("registry.gender.", string(people.Male), string(people.Female))
	for _, r := range people.Relations {
		add("registry.relation.", string(r))
	}
	for _, r := range people.Registrations {
		add("registry.registration.", string(r))
	}
	for _, u := range people.HouseUses {
		add("registry.use.", string(u))
	}
	add("registry.document_kind.", people.DocumentKinds...)
	for _, tg := range dictionaryTags {
		add("registry.tag.", tg.code)
	}
	add("registry.tag.", people.TagAged60, people.TagLivesAlone)
	for _, k := range people.FindingKinds {
		add("visits.finding.", string(k))
	}
	add("care.status.", string(people.StatusDue), string(people.StatusOverdue))
	add("me.verification.", people.VerifiedNone, people.VerifiedSelf, people.VerifiedInPerson)
	for _, f := range people.ImportFields {
		add("registry.import.field.", f.Key)
	}
	for _, b := range []string{"gender", "ages", "registration", "tags"} {
		add("stats.", b, b+".head")
	}
	for _, m := range []map[string]string{visitsNotices, meNotices} {
		for _, k := range m {
			keys = append(keys, k)
		}
	}
	// Keys the Go code uses outside calls the key scan recognises.
	keys = append(keys, "visits.time.format", "registry.import.file.required")
	for lang, cat := range catalogs(t) {
		for _, k := range keys {
			if _, ok := cat[k]; !ok {
				t.Errorf("%s.json lacks %q", lang, k)
			}
		}
	}
}

func TestRegistryPostsNeedTheCSRFToken(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("cs", i18n.English)
	id := strconv.FormatInt(e.wang.ID, 10)
	forms := map[string]url.Values{
		"/people/search":            {"document": {wangDoc}},
		"/people/" + id + "/reveal": {"field": {"document"}, "reason": {"checking an application"}},
		"/visits":                   {"household": {strconv.FormatInt(e.wang.HouseholdID, 10)}, "do": {"save"}},
	}
	for target, form := range forms {
		for name, token := range map[string]string{"missing": "", "wrong": auth.CSRFToken("another-session")} {
			t.Run(target+"/"+name, func(t *testing.T) {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if token != "" {
					f.Set("csrf", token)
				}
				res := b.post(target, f)
				wantStatus(t, res, http.StatusForbidden)
				wantText(t, res, e.bundle.T(i18n.English, "error.csrf"))
				wantNoSecrets(t, res)
			})
		}
	}
	data, _ := importCSV(t)
	res := b.multipartPost("/people/import", url.Values{"step": {"import"}, "valid_only": {"on"}}, "a.csv", data)
	wantStatus(t, res, http.StatusForbidden)
	if rs, _ := e.people.Search(t.Context(), auth.SystemActorAs("test", auth.CommunityStaff), people.Filter{Name: "吴六"}); len(rs) != 0 {
		t.Fatal("a forged import wrote residents")
	}
	resident := e.browser("en")
	resident.post("/signup", url.Values{"phone": {"13700000000"}, "password": {testPassword}, "confirm_password": {testPassword}})
	res = resident.post("/me/verify", url.Values{"name": {"王秀英"}, "document_number": {wangDoc}})
	wantStatus(t, res, http.StatusForbidden)
	wantNoSecrets(t, res)
	// Nothing was revealed.
	entries, err := e.audit.List(t.Context(), audit.Filter{ObjectType: "resident", ObjectID: id})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Action == "resident.reveal" {
			t.Fatalf("a forged reveal was audited: %+v", en)
		}
	}
}

// Without the registry wired in, its pages say so instead of failing.
func TestRegistryPagesWithoutTheService(t *testing.T) {
	e := newEnv(t)
	e.user("cs", auth.CommunityStaff, communityY, false)
	b := e.browser("en")
	b.signIn("cs")
	for _, p := range []string{"/people", "/people/1", "/visits", "/visits/new", "/care", "/stats"} {
		wantStatus(t, b.get(p), http.StatusServiceUnavailable)
	}
	wantStatus(t, e.browser("en").post("/signup", url.Values{"phone": {"13700000000"}}), http.StatusServiceUnavailable)
}
