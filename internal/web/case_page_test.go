package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/i18n"
)

// version reads the version a case page's forms carry.
func version(t *testing.T, res response, a cases.Action) int {
	t.Helper()
	re := regexp.MustCompile(`id="act-` + string(a) + `" [^>]*>\s*<h3>[^<]*</h3>\s*<input type="hidden" name="csrf" value="[^"]*">\s*<input type="hidden" name="action" value="` + string(a) + `">\s*<input type="hidden" name="version" value="(\d+)">`)
	m := re.FindStringSubmatch(res.Body)
	if m == nil {
		t.Fatalf("%s: the page offers no %s form; body:\n%s", res.Request.URL, a, res.Body)
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

func TestEveryStepOfACaseIsTakenThroughItsPageAndShownOnTheTimeline(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂，水流到路上", 1)
	page := "/cases/" + strconv.FormatInt(c.ID, 10)
	worker := e.workerOf(home.GridCode)

	// step takes action a as the browser b through the case page's form.
	step := func(b *browser, a cases.Action, extra url.Values, photos int) {
		t.Helper()
		res := b.get(page)
		wantStatus(t, res, http.StatusOK)
		wantNoRawKeys(t, res)
		v := version(t, res, a)
		f := actValues(b.csrf(), a, v, extra)
		if photos > 0 {
			var list [][]byte
			for range photos {
				list = append(list, testJPEG(t))
			}
			res = b.postMultipart(page+"/act", f, map[string][][]byte{"photos": list})
		} else {
			res = b.post(page+"/act", f)
		}
		wantRedirect(t, res, page+"?ok="+string(a))
	}
	gw := e.as(worker, i18n.Chinese)
	step(gw, cases.Verify, url.Values{"note": {"现场确认属实"}}, 0)
	street := e.as("street", i18n.English)
	step(street, cases.Accept, nil, 0)
	step(street, cases.Register, url.Values{"urgency": {"pressing"}}, 0)
	// The dispatch form offers the category's department first.
	res := street.get(page)
	wantHTML(t, res, `<option value="department:community" selected>`)
	step(street, cases.Dispatch, url.Values{"target": {"department:water"}}, 0)
	water := e.as("water", i18n.Chinese)
	step(water, cases.Sign, nil, 0)
	// Handling needs a photo of the result and a report.
	res = water.post(page+"/act", actValues(water.csrf(), cases.Handle, e.get(c.ID).Version, url.Values{"note": {"已更换水管"}}))
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="act-handle-photos-error">`+escaped(e.bundle.T(i18n.Chinese, "case.error.photo_required")))
	wantHTML(t, res, `>已更换水管</textarea>`)
	step(water, cases.Handle, url.Values{"note": {"已更换水管"}}, 1)
	step(gw, cases.Check, nil, 0)
	step(street, cases.Close, nil, 0)
	resident := e.as("resident", i18n.English)
	step(resident, cases.Rate, url.Values{"rating": {"1"}, "note": {"Quick and tidy"}}, 0)

	got := e.get(c.ID)
	if got.State != cases.Closed || got.Rating != cases.Satisfied || got.Urgency != "pressing" || got.Assignee != "water" {
		t.Fatalf("after the journey: state %s, rating %d, urgency %s, assignee %s", got.State, got.Rating, got.Urgency, got.Assignee)
	}
	res = resident.get(page + "?ok=rate")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantText(t, res, "Done: Rate.")
	timeline := res.Body[strings.Index(res.Body, `id="timeline-heading"`):]
	for _, a := range []string{"report", "verify", "accept", "register", "dispatch", "sign", "handle", "check", "close", "rate"} {
		name := capitalize(e.bundle.T(i18n.English, "case.action."+a))
		if !strings.Contains(timeline, `<strong class="event-action">`+escaped(name)+`</strong>`) {
			t.Errorf("the resident's timeline lacks %q", name)
		}
	}
	wantText(t, res, "To Water Affairs Bureau")
	wantText(t, res, "Satisfied")
	// Residents see which office acted, not who.
	if strings.Contains(timeline, worker) || strings.Contains(timeline, ">water ·") {
		t.Error("the resident's timeline names staff accounts")
	}
	// Nothing more to do for the resident, who has rated.
	if strings.Contains(res.Body, `id="act-rate"`) {
		t.Error("a rated case still offers the rating form")
	}
	// Staff see who did what, with the photos of the handling.
	res = street.get(page)
	wantText(t, res, "water · Department handler")
	if n := strings.Count(res.Body, `/thumb"`); n != 2 {
		t.Errorf("staff see %d photos, want 2 (the report's and the handling's)", n)
	}
}

func TestAStepFromAStalePageIsRefusedAndChangesNothing(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	page := "/cases/" + strconv.FormatInt(c.ID, 10)
	worker := e.workerOf(home.GridCode)
	gw := e.as(worker, i18n.English)
	stale := version(t, gw.get(page), cases.Verify)
	// Meanwhile someone adds a note: the case moved on.
	e.act("street", c.ID, cases.Note, cases.Input{Note: "来电催促"})
	res := gw.post(page+"/act", actValues(gw.csrf(), cases.Verify, stale, url.Values{"note": {"ok"}}))
	wantStatus(t, res, http.StatusConflict)
	wantText(t, res, e.bundle.T(i18n.English, "case.error.stale"))
	// The page shown again carries the new version.
	if v := version(t, res, cases.Verify); v != stale+1 {
		t.Errorf("the refused page offers version %d, want %d", v, stale+1)
	}
	// A form without a version is as stale.
	f := actValues(gw.csrf(), cases.Verify, 0, nil)
	f.Del("version")
	wantStatus(t, gw.post(page+"/act", f), http.StatusConflict)
	if got := e.get(c.ID); got.State != cases.Reported {
		t.Fatalf("a refused step changed the case to %s", got.State)
	}
	// A step the state does not allow is refused with the reason.
	res = gw.post(page+"/act", actValues(gw.csrf(), cases.Close, stale+1, nil))
	wantStatus(t, res, http.StatusConflict)
	// One the actor may not take is forbidden.
	r := e.as("resident", i18n.English)
	res = r.post(page+"/act", actValues(r.csrf(), cases.Verify, stale+1, nil))
	wantStatus(t, res, http.StatusForbidden)
	wantText(t, res, e.bundle.T(i18n.English, "case.error.not_allowed", e.bundle.T(i18n.English, "case.action.verify")))
	res = gw.post(page+"/act", actValues(gw.csrf(), "fly", stale+1, nil))
	wantStatus(t, res, http.StatusBadRequest)
}

func TestACasePageIsShownOnlyToThoseWhoMayReadIt(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	page := "/cases/" + strconv.FormatInt(c.ID, 10)
	worker := e.workerOf(home.GridCode)
	other := "gw10"
	if other == worker {
		other = "gw01"
	}
	for _, tc := range []struct {
		who    string
		status int
	}{
		{"resident", http.StatusOK}, {worker, http.StatusOK}, {"street", http.StatusOK}, {"district", http.StatusOK},
		{"r2", http.StatusNotFound}, {other, http.StatusNotFound}, {"water", http.StatusNotFound}, {"auditor", http.StatusNotFound},
	} {
		res := e.as(tc.who, i18n.English).get(page)
		wantStatus(t, res, tc.status)
		if tc.status == http.StatusOK {
			wantNoRawKeys(t, res)
		}
	}
	// Staff see where it is and how it came; residents do not need the grid.
	wantHTML(t, e.as("street", i18n.English).get(page), `data-grid="`+home.GridCode+`"`)
	if strings.Contains(e.as("resident", i18n.English).get(page).Body, `data-grid=`) {
		t.Error("the resident's page shows the grid")
	}
	b := e.as("resident", i18n.English)
	wantStatus(t, b.get("/cases/0"), http.StatusNotFound)
	wantStatus(t, b.get("/cases/x"), http.StatusNotFound)
	wantStatus(t, b.get("/cases/999999"), http.StatusNotFound)
	wantRedirect(t, e.browser("").get(page), "/login?next=%2Fcases%2F"+strconv.FormatInt(c.ID, 10))
}

func TestPhotosAreServedOnlyToThoseWhoMayReadTheirStep(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 1)
	other := e.report("r2", e.building(40), waterRepair, "路面积水", 1)
	det, err := e.cases.Get(context.Background(), e.actor("resident"), c.ID)
	if err != nil || len(det.Events) == 0 || len(det.Events[0].Attachments) != 1 {
		t.Fatalf("report photos: %v %+v", err, det.Events)
	}
	pid := strconv.FormatInt(det.Events[0].Attachments[0], 10)
	page := "/cases/" + strconv.FormatInt(c.ID, 10)
	b := e.as("resident", i18n.English)
	for _, suffix := range []string{"", "/thumb"} {
		res := b.get(page + "/photos/" + pid + suffix)
		wantStatus(t, res, http.StatusOK)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "image/") {
			t.Errorf("photo%s served as %q", suffix, ct)
		}
		if cc := res.Header.Get("Cache-Control"); !strings.HasPrefix(cc, "private") {
			t.Errorf("photo%s cached as %q", suffix, cc)
		}
	}
	wantStatus(t, e.as("r2", i18n.English).get(page+"/photos/"+pid), http.StatusNotFound)
	// The other case's photo is not reachable through this case's URL.
	odet, err := e.cases.Get(context.Background(), e.actor("r2"), other.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, b.get(page+"/photos/"+strconv.FormatInt(odet.Events[0].Attachments[0], 10)), http.StatusNotFound)
	wantRedirect(t, e.browser("").get(page+"/photos/"+pid), "/login?next="+url.QueryEscape(page+"/photos/"+pid))
	// A photo of a step residents do not see (a return, here) stays with staff.
	worker := e.workerOf(home.GridCode)
	e.act(worker, c.ID, cases.Verify, cases.Input{})
	e.act("street", c.ID, cases.Accept, cases.Input{})
	e.act("street", c.ID, cases.Register, cases.Input{})
	e.act("street", c.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	water := e.as("water", i18n.English)
	res := water.postMultipart(page+"/act", actValues(water.csrf(), cases.Return, e.get(c.ID).Version, url.Values{"note": {"不属于水务"}}),
		map[string][][]byte{"photos": {testJPEG(t)}})
	wantRedirect(t, res, page+"?ok=return")
	sdet, err := e.cases.Get(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := sdet.Events[len(sdet.Events)-1]
	if last.Action != "return" || len(last.Attachments) != 1 {
		t.Fatalf("return event: %+v", last)
	}
	hidden := page + "/photos/" + strconv.FormatInt(last.Attachments[0], 10)
	wantStatus(t, e.as("street", i18n.English).get(hidden), http.StatusOK)
	wantStatus(t, b.get(hidden), http.StatusNotFound)
}
