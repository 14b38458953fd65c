package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/territory"
)

// casePageTemplates are the page templates that need the case stack, so
// TestCasePagesRenderInBothLanguages renders them rather than
// TestEveryPageRendersInBothLanguages.
var casePageTemplates = map[string]bool{
	"report": true, "report_done": true, "case": true, "work": true, "mine": true, "inbox": true, "case_figures": true,
}

func TestCasePagesRenderInBothLanguages(t *testing.T) {
	keys := templateKeys(t)
	e := newCaseEnv(t)
	home := e.building(5)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 1)
	id := strconv.FormatInt(c.ID, 10)
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			r, st := e.as("resident", lang), e.as("street", lang)
			step := func(n string) string {
				return "/report?" + url.Values{"category": {fireHazard}, "address": {home.Address}, "step": {n}}.Encode()
			}
			pages := []struct {
				template string
				res      response
				status   int
			}{
				{"report", r.get("/report"), http.StatusOK},
				{"report", r.get("/report?q=%E7%81%AB"), http.StatusOK},
				{"report", r.get(step("2")), http.StatusOK},
				{"report", r.get(step("3")), http.StatusOK},
				{"report", r.postMultipart("/report", url.Values{"csrf": {r.csrf()}, "category": {fireHazard}}, nil), http.StatusBadRequest},
				{"report", st.get("/cases/new?" + url.Values{"category": {waterRepair}, "address": {home.Address}, "step": {"3"}}.Encode()), http.StatusOK},
				{"report_done", r.get("/report/done/" + id), http.StatusOK},
				{"case", r.get("/cases/" + id), http.StatusOK},
				{"case", st.get("/cases/" + id), http.StatusOK},
				{"case", st.post("/cases/"+id+"/act", actValues(st.csrf(), cases.Reject, c.Version, nil)), http.StatusBadRequest},
				{"work", st.get("/work"), http.StatusOK},
				{"work", st.get("/work?queue=all&overdue=on"), http.StatusOK},
				{"mine", r.get("/cases/mine"), http.StatusOK},
				{"inbox", r.get("/inbox"), http.StatusOK},
				{"case_figures", st.get("/cases/figures"), http.StatusOK},
			}
			var covered []string
			for _, p := range pages {
				wantStatus(t, p.res, p.status)
				wantHTML(t, p.res, `<html lang="`+lang+`"`)
				wantNoRawKeys(t, p.res)
				for _, k := range keys {
					if strings.Contains(p.res.Body, k) {
						t.Errorf("%s page shows the untranslated key %q", p.template, k)
					}
				}
				covered = append(covered, p.template)
			}
			for name := range casePageTemplates {
				if !slices.Contains(covered, name) {
					t.Errorf("page template %s is not rendered by this test", name)
				}
			}
		})
	}
}

// Every code the case pages name by a built key (states, actions, channels,
// lights, queues, …) has a name in both catalogs.
func TestCaseLabelsAreInBothCatalogs(t *testing.T) {
	var keys []string
	add := func(prefix string, codes ...string) {
		for _, c := range codes {
			keys = append(keys, prefix+c)
		}
	}
	for _, s := range cases.States {
		add("case.state.", string(s))
	}
	for _, a := range cases.Actions {
		add("case.action.", string(a))
	}
	add("case.action.", "report", "merged")
	for _, ch := range cases.Channels {
		add("cases.page.channel.", string(ch))
	}
	for _, q := range cases.Queues {
		add("cases.page.queue.", string(q))
	}
	for _, l := range cases.Levels {
		add("cases.page.level.", string(l))
	}
	for _, u := range catalog.Urgencies {
		add("cases.page.urgency.", string(u))
	}
	add("cases.page.light.", string(calendar.None), string(calendar.Green), string(calendar.Yellow), string(calendar.Red))
	add("cases.page.rating.", "0", "1", "2", "3")
	add("cases.page.limit.", string(calendar.Hours), string(calendar.Days))
	add("cases.page.quick.lead.", string(cases.Patrol), string(cases.Hotline))
	add("cases.page.done.next.", string(cases.Reported), string(cases.Verified), string(cases.Handled))
	for _, k := range doneNext {
		keys = append(keys, k)
	}
	counts, rates := figureRows(&page{bundle: mustBundle(t), Lang: i18n.English}, cases.Figures{})
	for _, r := range append(counts, rates...) {
		if strings.HasPrefix(r.Label, "cases.page.") {
			t.Errorf("figure %s has no name", r.Key)
		}
	}
	for _, k := range inboxNotices {
		keys = append(keys, k)
	}
	cats := catalogs(t)
	for _, k := range keys {
		for lang, cat := range cats {
			if _, ok := cat[k]; !ok {
				t.Errorf("key %q is missing from %s.json", k, lang)
			}
		}
	}
}

func mustBundle(t testing.TB) *i18n.Bundle {
	t.Helper()
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The workbench names each case's grid, and its grid filter offers the
// grids the actor works, and no other.
func TestTheWorkbenchNamesPlacesAndFiltersByTheActorsGrids(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)
	e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	nodes, err := e.terr.Tree(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), territory.Grid)
	if err != nil {
		t.Fatal(err)
	}
	actor := e.actor(worker)
	var grid territory.Node
	var mine, others []string
	for _, n := range nodes {
		if n.Code == home.GridCode {
			grid = n
		}
		switch {
		case n.Level != territory.Grid:
		case auth.Can(actor, auth.ReadCases, n.Path):
			mine = append(mine, n.Code)
		default:
			others = append(others, n.Code)
		}
	}
	if grid.Code == "" || !slices.Contains(mine, grid.Code) || len(others) == 0 {
		t.Fatalf("grid %s: the worker's grids %v, others %d", home.GridCode, mine, len(others))
	}
	for _, lang := range i18n.Languages {
		name := grid.NameZH
		if lang == i18n.English && grid.NameEN != "" {
			name = grid.NameEN
		}
		res := e.as(worker, lang).get("/work")
		wantStatus(t, res, http.StatusOK)
		wantHTML(t, res, escaped(name)+" · ")
		wantHTML(t, res, `<option value="`+grid.Code+`">`+escaped(name)+`</option>`)
		for _, code := range mine {
			wantHTML(t, res, `<option value="`+code+`">`)
		}
		for _, code := range others {
			if strings.Contains(res.Body, `<option value="`+code+`"`) {
				t.Errorf("%s: the grid worker is offered grid %s outside their own", lang, code)
			}
		}
	}
}
