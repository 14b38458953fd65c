package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestAResidentReportsAProblemInThreeStepsAndSeesItsNumber(t *testing.T) {
	e := newCaseEnv(t)
	b := e.as("resident", i18n.English)
	home := e.building(5)

	// Step 1: groups of public categories, each category a link.
	res := b.get("/report")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantText(t, res, "Livelihood requests")
	wantHTML(t, res, `href="/report?category=`+waterRepair+`"`)
	if strings.Contains(res.Body, `href="/report?category=C`) {
		t.Error("residents are offered components, which are not public")
	}
	// The search finds categories by their words.
	res = b.get("/report?q=" + url.QueryEscape("repair"))
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `id="found-heading"`)
	wantHTML(t, res, `href="/report?category=`+waterRepair+`"`)

	// Step 2: where, a typed address.
	res = b.get("/report?category=" + waterRepair)
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `id="f-address"`)
	wantText(t, res, "Water, power, gas or heating repair")

	// Step 3: the details, the place carried in hidden fields.
	step3 := "/report?" + url.Values{"category": {waterRepair}, "address": {home.Address}, "step": {"3"}}.Encode()
	res = b.get(step3)
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `<input type="hidden" name="address" value="`+escaped(home.Address)+`">`)
	wantHTML(t, res, `type="file" accept="image/*" capture="environment" multiple`)
	wantHTML(t, res, `enctype="multipart/form-data"`)
	wantHTML(t, res, `name="anonymous"`)
	if strings.Contains(res.Body, `name="self_handled"`) || strings.Contains(res.Body, `name="contact_name"`) {
		t.Error("the residents' form offers staff fields")
	}

	res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"Burst water pipe in the stairwell"}}, map[string][][]byte{"photos": {testJPEG(t)}})
	id := caseIDFrom(t, res)
	res = b.get(res.Header.Get("Location"))
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	c := e.get(id)
	wantHTML(t, res, `<strong id="case-number">`+c.Number+`</strong>`)
	wantText(t, res, e.bundle.T(i18n.English, "case.state.reported"))
	if c.State != cases.Reported || c.GridCode != home.GridCode || c.Channel != cases.Web {
		t.Fatalf("stored case: state %s, grid %s (building in %s), channel %s", c.State, c.GridCode, home.GridCode, c.Channel)
	}
	// The photo came with it, and the case page shows it.
	res = b.get("/cases/" + strconv.FormatInt(id, 10))
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `/thumb"`)
	wantText(t, res, "Burst water pipe in the stairwell")
}

func TestAReportOfTheSameProblemNearbyListsTheLikelyDuplicate(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	first := e.report("r2", home, waterRepair, "楼道水管爆裂漏水", 0)
	b := e.as("resident", i18n.Chinese)
	res := b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"楼道水管爆裂，漏水严重"}}, nil)
	res = b.get(res.Header.Get("Location"))
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `id="dup-heading"`)
	wantText(t, res, first.Number)
	// The confirmation does not offer the new case as its own duplicate.
	if strings.Count(res.Body, `class="card duplicate"`) != 1 {
		t.Errorf("duplicates listed: %d, want 1", strings.Count(res.Body, `class="card duplicate"`))
	}
	// Someone else's confirmation page is not theirs to see.
	other := e.as("r2", i18n.Chinese)
	wantStatus(t, other.get(res.Request.URL.Path), http.StatusNotFound)
}

func TestTheWhereStepSuggestsBuildingsAndRefusesUnknownPlaces(t *testing.T) {
	e := newCaseEnv(t)
	b := e.as("resident", i18n.Chinese)
	zh := func(key string) string { return e.bundle.T(i18n.Chinese, key) }
	step3 := func(address string) string {
		return "/report?" + url.Values{"category": {waterRepair}, "address": {address}, "step": {"3"}}.Encode()
	}
	res := b.get(step3("火星路999号"))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `<p class="field-error" id="f-address-error">`+escaped(zh("case.error.address_unknown"))+`</p>`)
	res = b.get(step3(""))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-address-error">`+escaped(zh("case.error.where")))
	// A street name alone matches many buildings: they are offered.
	home := e.building(5)
	street := strings.TrimRightFunc(home.Address, func(r rune) bool { return r == '号' || (r >= '0' && r <= '9') })
	res = b.get(step3(street))
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `id="suggest-heading"`)
	wantHTML(t, res, escaped(step3(home.Address)))
	// An unknown category goes back to the first step.
	res = b.get("/report?category=M99999")
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, zh("case.error.category"))
	// Components are not for residents, even by URL.
	wantStatus(t, b.get("/report?category=C01001"), http.StatusBadRequest)
	// Suggestions for the script.
	res = b.get("/report/addresses?q=" + url.QueryEscape(street))
	wantStatus(t, res, http.StatusOK)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") || !strings.Contains(res.Body, home.Address) {
		t.Fatalf("suggestions: %s %s", res.Header.Get("Content-Type"), res.Body)
	}
	wantStatus(t, b.get("/report/addresses?q=x"), http.StatusOK)
}

func TestABadReportIsShownAgainInTheUsersLanguageAndStoresNothing(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	for _, lang := range []string{i18n.Chinese, i18n.English} {
		b := e.as("resident", lang)
		tr := func(key string) string { return e.bundle.T(lang, key) }
		// Too short a description.
		res := b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "address": {home.Address},
			"description": {"漏"}, "anonymous": {"on"}}, nil)
		wantStatus(t, res, http.StatusBadRequest)
		wantNoRawKeys(t, res)
		wantText(t, res, tr("error.invalid_fields"))
		wantHTML(t, res, `<p class="field-error" id="f-description-error">`+escaped(tr("case.error.description_short"))+`</p>`)
		wantHTML(t, res, `>漏</textarea>`)
		wantHTML(t, res, `id="f-anonymous" name="anonymous" checked`)
		// A required question unanswered, and an address that names nothing.
		res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {fireHazard}, "address": {"火星路999号"},
			"description": {"楼道里堆满了纸箱"}}, nil)
		wantStatus(t, res, http.StatusBadRequest)
		wantHTML(t, res, `id="q-hazard_type-error">`+escaped(tr("error.field.required")))
		wantText(t, res, tr("case.error.address_unknown"))
		// A file that is no image.
		res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "address": {home.Address},
			"description": {"楼道水管爆裂"}}, map[string][][]byte{"photos": {[]byte("not a picture")}})
		wantStatus(t, res, http.StatusBadRequest)
		wantHTML(t, res, `id="f-photos-error"`)
		// Seven photos, one too many.
		seven := make([][]byte, 7)
		for i := range seven {
			seven[i] = testJPEG(t)
		}
		res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "address": {home.Address},
			"description": {"楼道水管爆裂"}}, map[string][][]byte{"photos": seven})
		wantStatus(t, res, http.StatusBadRequest)
		wantHTML(t, res, `id="f-photos-error">`+escaped(tr("case.error.too_many_photos")))
	}
	if n := e.countCases(); n != 0 {
		t.Fatalf("refused reports stored %d cases", n)
	}
	// Without the anti-forgery token nothing is filed either.
	b := e.as("resident", i18n.English)
	res := b.postMultipart("/report", url.Values{"category": {waterRepair}, "address": {home.Address}, "description": {"楼道水管爆裂"}}, nil)
	wantStatus(t, res, http.StatusForbidden)
	if n := e.countCases(); n != 0 {
		t.Fatalf("a forged report stored %d cases", n)
	}
}

func TestQuestionsAreAskedByTheirDatatype(t *testing.T) {
	e := newCaseEnv(t)
	b := e.as("resident", i18n.English)
	home := e.building(5)
	step3 := func(cat string) response {
		return b.get("/report?" + url.Values{"category": {cat}, "address": {home.Address}, "step": {"3"}}.Encode())
	}
	res := step3(fireHazard)
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `<input type="radio" name="attribute[hazard_type]" value="blocked_exit">`)
	res = step3(homeCare)
	wantHTML(t, res, `<input type="checkbox" name="attribute[needs]" value="meals">`)
	wantHTML(t, res, `id="q-visit_time" name="attribute[visit_time]" value="" autocomplete="off"`)
	wantHTML(t, res, `type="datetime-local"`)
	res = step3(neighbours)
	wantHTML(t, res, `id="q-parties" name="attribute[parties]"`)
	wantHTML(t, res, `inputmode="decimal"`)

	// Answers are stored as the category asks them.
	res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {homeCare}, "address": {home.Address},
		"description": {"My neighbour needs help with meals"}, "attribute[needs]": {"meals", "company"},
		"attribute[visit_time]": {"2026-11-18T10:00"}}, nil)
	id := caseIDFrom(t, res)
	c := e.get(id)
	if strings.Join(c.Answers["needs"], ",") != "meals,company" || !strings.HasPrefix(c.Answers["visit_time"][0], "2026-11-18T10:00") {
		t.Fatalf("answers stored: %v", c.Answers)
	}
	// The case page names the answers.
	res = b.get("/cases/" + strconv.FormatInt(id, 10))
	wantText(t, res, "Meals, Company")
	wantText(t, res, "2026-11-18 10:00")

	// A bad number is refused beside its question and keeps the answers.
	res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {neighbours}, "address": {home.Address},
		"description": {"Noise every night"}, "attribute[parties]": {"two"}}, nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="q-parties-error"`)
	wantHTML(t, res, `value="two"`)
}

func TestStaffQuickReportsUseTheirOwnChannel(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)

	// A grid worker reports from patrol, fixed on the spot.
	gw := e.as(worker, i18n.English)
	res := gw.get("/cases/new?" + url.Values{"category": {"C01001"}, "address": {home.Address}, "step": {"3"}}.Encode())
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `name="self_handled"`)
	wantHTML(t, res, `name="result_photos"`)
	res = gw.postMultipart("/cases/new", url.Values{"csrf": {gw.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"Leaking tap at the gate"}, "self_handled": {"on"}, "result": {"Closed the valve and replaced the tap"}},
		map[string][][]byte{"result_photos": {testJPEG(t)}})
	id := caseIDFrom(t, res)
	if c := e.get(id); c.Channel != cases.Patrol || c.State != cases.Handled || !c.SelfHandled {
		t.Fatalf("patrol report stored as %s in state %s (self-handled %v)", c.Channel, c.State, c.SelfHandled)
	}
	// Fixing on the spot needs words for what was done.
	res = gw.postMultipart("/cases/new", url.Values{"csrf": {gw.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"Leaking tap at the gate"}, "self_handled": {"on"}}, nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-result-error"`)

	// The street's centre records a call, with the caller's contact, which
	// staff then see masked.
	st := e.as("street", i18n.English)
	res = st.get("/cases/new?" + url.Values{"category": {waterRepair}, "address": {home.Address}, "step": {"3"}}.Encode())
	wantHTML(t, res, `name="contact_phone"`)
	res = st.postMultipart("/cases/new", url.Values{"csrf": {st.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"Caller reports no water since morning"}, "contact_name": {"王建国"}, "contact_phone": {"13812345678"}}, nil)
	id = caseIDFrom(t, res)
	if c := e.get(id); c.Channel != cases.Hotline {
		t.Fatalf("hotline report stored as %s", c.Channel)
	}
	// Staff who did not report it land on the case page.
	wantRedirect(t, gw.get("/report/done/"+strconv.FormatInt(id, 10)), "/cases/"+strconv.FormatInt(id, 10))
	res = gw.get("/cases/" + strconv.FormatInt(id, 10))
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, "138****5678")
	if strings.Contains(res.Body, "13812345678") || strings.Contains(res.Body, "王建国") {
		t.Error("the case page shows the caller's contact unmasked")
	}
	// A bad phone number is refused beside its field.
	res = st.postMultipart("/cases/new", url.Values{"csrf": {st.csrf()}, "category": {waterRepair}, "address": {home.Address},
		"description": {"Caller reports no water"}, "contact_phone": {"call me"}}, nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-contact_phone-error">`+escaped(e.bundle.T(i18n.English, "case.error.phone")))

	// Roles that do not report get no quick report; residents use theirs.
	for _, who := range []string{"resident", "water", "district", "auditor"} {
		wantStatus(t, e.as(who, i18n.English).get("/cases/new"), http.StatusForbidden)
	}
	for _, who := range []string{"district", "auditor", "water"} {
		wantStatus(t, e.as(who, i18n.English).get("/report"), http.StatusForbidden)
	}
	wantRedirect(t, e.browser("").get("/report"), "/login?next=%2Freport")
}

func TestAPinOnTheMapIsAnotherWayToSayWhere(t *testing.T) {
	// Without a tile layer there is no map: typing the address is the way.
	plain := newCaseEnv(t)
	res := plain.as("resident", i18n.English).get("/report?category=" + waterRepair)
	if strings.Contains(res.Body, `id="report-map"`) || strings.Contains(res.Body, "leaflet.js") {
		t.Error("the form offers a map without a tile layer")
	}

	e := newCaseEnvWith(t, "https://tiles.example.org/{z}/{x}/{y}.png")
	b := e.as("resident", i18n.English)
	res = b.get("/report?category=" + waterRepair)
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `data-tiles="https://tiles.example.org/{z}/{x}/{y}.png" data-bounds="114.`)
	wantHTML(t, res, `<div class="field pin-field" data-pin hidden>`)
	wantHTML(t, res, `vendor/leaflet.js`)
	home := e.building(5)
	lng, lat := strconv.FormatFloat(home.Lng, 'f', 6, 64), strconv.FormatFloat(home.Lat, 'f', 6, 64)
	res = b.get("/report?" + url.Values{"category": {waterRepair}, "lng": {lng}, "lat": {lat}, "step": {"3"}}.Encode())
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, e.bundle.T(i18n.English, "cases.page.where.pin"))
	wantHTML(t, res, `<input type="hidden" name="lng" value="`+lng+`">`)
	res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "lng": {lng}, "lat": {lat},
		"description": {"Water pours out of the manhole"}}, nil)
	c := e.get(caseIDFrom(t, res))
	if c.GridCode != home.GridCode {
		t.Fatalf("pinned report routed to %s, the pin is in %s", c.GridCode, home.GridCode)
	}
	// A pin off the globe, or outside the area served, is refused.
	res = b.get("/report?" + url.Values{"category": {waterRepair}, "lng": {"NaN"}, "lat": {lat}, "step": {"3"}}.Encode())
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "case.error.location"))
	res = b.postMultipart("/report", url.Values{"csrf": {b.csrf()}, "category": {waterRepair}, "lng": {"116.4"}, "lat": {"39.9"},
		"description": {"Water pours out of the manhole"}}, nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "case.error.outside"))
}
