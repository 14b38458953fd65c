package web

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/i18n"
)

// chartData extracts and decodes the JSON data block of the statistics page.
func chartData(t *testing.T, res response) statsCharts {
	t.Helper()
	const open = `<script type="application/json" id="stats-data">`
	i := strings.Index(res.Body, open)
	if i < 0 {
		t.Fatalf("no data block:\n%s", res.Body)
	}
	rest := res.Body[i+len(open):]
	raw := rest[:strings.Index(rest, "</script>")]
	var c statsCharts
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatalf("the data block is not JSON: %v\n%s", err, raw)
	}
	return c
}

func TestStatsPageShowsTablesAndChartData(t *testing.T) {
	e := newPeopleEnv(t)
	res := e.as("cs", i18n.Chinese).get("/stats")
	wantStatus(t, res, http.StatusOK)
	// Community staff start with their community.
	wantHTML(t, res, `<option value="`+communityY+`" selected>`)
	wantHTML(t, res, `<option value="`+gridY1+`">`)
	if strings.Contains(res.Body, `value="`+dingziqiao+`"`) {
		t.Error("another community is offered")
	}
	wantHTML(t, res, `/static/vendor/echarts.min.js`)
	wantHTML(t, res, `/static/stats.js`)
	for _, id := range []string{"gender", "ages", "registration", "tags"} {
		wantHTML(t, res, `id="chart-`+id+`"`)
	}
	c := chartData(t, res)
	want := map[string]int{"女": 1, "男": 1, "60岁及以上": 1, "31–40岁": 1, "户籍人口": 2, "残疾人": 1, "60岁以上": 1, "独居": 0}
	got := map[string]int{}
	for _, rows := range [][]statsRow{c.Gender, c.Ages, c.Registration, c.Tags} {
		for _, r := range rows {
			got[r.Name] = r.Value
		}
	}
	for name, n := range want {
		if v, ok := got[name]; !ok || v != n {
			t.Errorf("%s: %d (present %v), want %d; all: %v", name, v, ok, n, got)
		}
	}
	if len(c.Ages) != 6 {
		t.Errorf("%d age bands, want 6", len(c.Ages))
	}
	// The tables carry the same figures.
	wantHTML(t, res, `<tr><th scope="row">`+html.EscapeString("60岁及以上")+`</th><td class="num">1</td></tr>`)
	// Community staff may see special populations' counts (restricted tags).
	if _, ok := got["社区矫正对象"]; !ok {
		t.Error("community staff do not see the restricted tags' counts")
	}
}

func TestStatsPageStaysInsideTheScope(t *testing.T) {
	e := newPeopleEnv(t)
	gw := e.as("gw", i18n.English)
	res := gw.get("/stats")
	wantStatus(t, res, http.StatusOK)
	// A grid worker sees their grid, not the community, nor special
	// populations.
	wantHTML(t, res, `<option value="`+gridY1+`" selected>`)
	if strings.Contains(res.Body, `<option value="`+communityY+`"`) {
		t.Error("the grid worker is offered the community")
	}
	c := chartData(t, res)
	for _, r := range c.Tags {
		if r.Name == "Under community correction" {
			t.Error("a grid worker sees a restricted tag's count")
		}
	}
	wantStatus(t, gw.get("/stats?code="+communityY), http.StatusForbidden)
	wantStatus(t, e.as("other", i18n.English).get("/stats?code="+communityY), http.StatusForbidden)
	bad := gw.get("/stats?code=abc")
	wantStatus(t, bad, http.StatusBadRequest)
	wantHTML(t, bad, `id="f-code-error"`)
	wantStatus(t, e.as("auditor", i18n.English).get("/stats"), http.StatusForbidden)
	// The district sees everything below it.
	d := e.as("district", i18n.English).get("/stats?code=" + dingziqiao)
	wantStatus(t, d, http.StatusOK)
	wantHTML(t, d, `<option value="420106">`)
	wantHTML(t, d, `<option value="`+dingziqiao+`" selected>`)
}
