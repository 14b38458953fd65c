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
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/i18n"
)

// exportEnv is the case fixture with the export service, writing into a
// temporary directory on the cases' fake clock. syncLimit 0 leaves every
// export to the worker (the test calls Work).
type exportEnv struct {
	*caseEnv
	exports *export.Service
}

func newExportEnv(t *testing.T, syncLimit int) *exportEnv {
	t.Helper()
	e := newCaseEnv(t)
	x := export.New(export.Deps{DB: e.d, Audit: e.audit, Clock: e.clock, Cases: e.cases, Users: e.svc, I18n: e.bundle},
		export.Config{Dir: t.TempDir(), SyncLimit: syncLimit})
	e.env = envWith(t, Deps{Auth: e.svc, Audit: e.audit, Territory: e.terr, Cases: e.cases, Catalog: e.cat, Outbox: e.outbox, Exports: x})
	// The pages tell an expired export from a ready one by the time: the
	// same fake clock as the service's, as one clock serves both in the app.
	e.web.clock = e.clock
	return &exportEnv{caseEnv: e, exports: x}
}

// jobs lists username's exports through the service, newest first.
func (e *exportEnv) jobs(username string) []export.Job {
	e.t.Helper()
	js, err := e.exports.List(context.Background(), e.actor(username), 0, 50)
	if err != nil {
		e.t.Fatal(err)
	}
	return js
}

// exportValues is the workbench's export form as the page posts it: the
// token, the queue's filters and the choices.
func exportValues(csrf string, filter url.Values, extra url.Values) url.Values {
	f := url.Values{"csrf": {csrf}}
	for k, vs := range filter {
		f[k] = vs
	}
	for k, vs := range extra {
		f[k] = vs
	}
	return f
}

// auditCount counts the audit entries of action on export id.
func (e *exportEnv) auditCount(action string, id int64) int {
	e.t.Helper()
	entries, err := e.audit.List(context.Background(), audit.Filter{ObjectType: "export", ObjectID: strconv.FormatInt(id, 10), Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, en := range entries {
		if en.Action == action {
			n++
		}
	}
	return n
}

func TestTheWorkbenchExportsItsFilteredQueueForDownload(t *testing.T) {
	e := newExportEnv(t, 5000)
	home := e.building(5)
	water := []cases.Case{e.report("resident", home, waterRepair, "楼道水管爆裂", 0), e.report("r2", home, waterRepair, "水表漏水", 0)}
	e.report("resident", home, neighbours, "楼上噪音", 0)
	filter := url.Values{"queue": {"all"}, "category": {waterRepair}}

	street := e.as("street", i18n.English)
	work := street.get("/work?" + filter.Encode())
	wantStatus(t, work, http.StatusOK)
	wantHTML(t, work, `action="/exports"`)
	wantHTML(t, work, `<input type="hidden" name="category" value="`+waterRepair+`">`)
	wantHTML(t, work, `<a class="button" href="/exports">`)
	wantText(t, work, "Excel (XLSX)")

	res := street.post("/exports", exportValues(street.csrf(), filter, url.Values{"format": {"csv"}}))
	wantRedirect(t, res, "/exports?ok=ready")
	js := e.jobs("street")
	if len(js) != 1 {
		t.Fatalf("exports after one request: %d", len(js))
	}
	j := js[0]
	if want := (export.Filter{Queue: cases.QAll, Category: waterRepair}); j.Filter != want || j.Format != export.CSV || j.State != export.Ready || j.Rows != int64(len(water)) || !j.Masked {
		t.Fatalf("job %+v, want the workbench's filter %+v, csv, ready, %d rows, masked", j, want, len(water))
	}

	list := street.get("/exports?ok=ready")
	wantStatus(t, list, http.StatusOK)
	wantText(t, list, "Your export is ready. Download it below.")
	download := "/exports/" + strconv.FormatInt(j.ID, 10) + "/download"
	wantHTML(t, list, `href="`+download+`"`)
	for _, s := range []string{"CSV", "Ready", "All cases · ", "Masked", "Available until", humanSize(j.Bytes)} {
		wantText(t, list, s)
	}
	if strings.Contains(list.Body, ">Refresh</a>") {
		t.Error("a page of ready exports offers a refresh")
	}
	wantNoRawKeys(t, list)

	file := street.get(download)
	wantStatus(t, file, http.StatusOK)
	if got := file.Header.Get("Content-Type"); got != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", got)
	}
	if got, want := file.Header.Get("Content-Disposition"), `attachment; filename=`+j.FileName(); got != want {
		t.Errorf("Content-Disposition %q, want %q", got, want)
	}
	if got := file.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options %q", got)
	}
	for _, c := range water {
		if !strings.Contains(file.Body, c.Number) {
			t.Errorf("the file lacks case %s", c.Number)
		}
	}
	if n := e.auditCount("case.export.download", j.ID); n != 1 {
		t.Errorf("%d download audit entries, want 1", n)
	}

	// Another account, even a colleague who may read the same cases, gets
	// an error page and no file, and nothing is recorded as downloaded.
	other := e.as(e.workerOf(home.GridCode), i18n.English)
	denied := other.get(download)
	wantStatus(t, denied, http.StatusForbidden)
	wantText(t, denied, "Only the person who asked for this export, or an administrator, may see it.")
	if strings.Contains(denied.Body, water[0].Number) {
		t.Error("the refusal shows the file")
	}
	if n := e.auditCount("case.export.download", j.ID); n != 1 {
		t.Errorf("%d download audit entries after a refusal, want 1", n)
	}
	if mine := other.get("/exports"); strings.Contains(mine.Body, download) {
		t.Error("another account's list shows the export")
	}
}

func TestTheExportFormRefusesABadFormatBesideTheField(t *testing.T) {
	e := newExportEnv(t, 5000)
	filter := url.Values{"queue": {"all"}, "state": {string(cases.Registered)}}
	for _, lang := range i18n.Languages {
		b := e.as("street", lang)
		res := b.post("/exports", exportValues(b.csrf(), filter, url.Values{"format": {"pdf"}}))
		wantStatus(t, res, http.StatusBadRequest)
		// The workbench again, the form unfolded with the message beside
		// the format, in the reader's language, and the filters kept.
		wantHTML(t, res, `<details class="filters panel" id="export" open>`)
		wantHTML(t, res, `<p class="field-error" id="f-export-format-error">`+escaped(e.bundle.T(lang, "export.error.format"))+`</p>`)
		wantHTML(t, res, `aria-invalid="true" aria-describedby="f-export-format-error"`)
		wantText(t, res, e.bundle.T(lang, "error.invalid_fields"))
		wantHTML(t, res, `<input type="hidden" name="state" value="registered">`)
		wantNoRawKeys(t, res)
	}
	if js := e.jobs("street"); len(js) != 0 {
		t.Fatalf("a refused form made %d exports", len(js))
	}
}

func TestExportsAreMaskedUnlessOneWhoMayRevealGivesAReason(t *testing.T) {
	e := newExportEnv(t, 5000)
	all := url.Values{"queue": {"all"}}

	// Street staff may not reveal residents' contacts: no choice is
	// offered, the export is masked, and a forged request is refused.
	street := e.as("street", i18n.English)
	work := street.get("/work?queue=all")
	wantStatus(t, work, http.StatusOK)
	if strings.Contains(work.Body, `name="unmasked"`) {
		t.Error("street staff are offered unmasked exports")
	}
	wantText(t, work, "Reporters' phone numbers and e-mail addresses are masked.")
	wantRedirect(t, street.post("/exports", exportValues(street.csrf(), all, url.Values{"format": {"xlsx"}})), "/exports?ok=ready")
	forged := street.post("/exports", exportValues(street.csrf(), all, url.Values{"format": {"csv"}, "unmasked": {"on"}, "reason": {"核实上报人身份"}}))
	wantStatus(t, forged, http.StatusForbidden)
	wantText(t, forged, e.bundle.T(i18n.English, "export.error.reveal_forbidden"))
	if js := e.jobs("street"); len(js) != 1 || !js[0].Masked || js[0].Format != export.XLSX {
		t.Fatalf("street's exports: %+v", js)
	}

	// Community staff may: the form offers it, masked stays the default,
	// and unmasked needs a reason.
	cs := e.as("cs01", i18n.English)
	work = cs.get("/work?queue=all")
	wantStatus(t, work, http.StatusOK)
	wantHTML(t, work, `<input type="checkbox" name="unmasked" id="f-export-unmasked">`)
	wantRedirect(t, cs.post("/exports", exportValues(cs.csrf(), all, url.Values{"format": {"csv"}})), "/exports?ok=ready")
	if js := e.jobs("cs01"); len(js) != 1 || !js[0].Masked {
		t.Fatalf("cs01's default export: %+v", js)
	}
	short := cs.post("/exports", exportValues(cs.csrf(), all, url.Values{"format": {"geojson"}, "unmasked": {"on"}, "reason": {"x"}}))
	wantStatus(t, short, http.StatusBadRequest)
	wantHTML(t, short, `<p class="field-error" id="f-reason-error">`+escaped(e.bundle.T(i18n.English, "export.error.reason"))+`</p>`)
	wantHTML(t, short, `<input type="checkbox" name="unmasked" id="f-export-unmasked" checked>`)
	wantHTML(t, short, `<option value="geojson" selected>`)
	wantRedirect(t, cs.post("/exports", exportValues(cs.csrf(), all, url.Values{"format": {"csv"}, "unmasked": {"on"}, "reason": {"核实上报人身份"}})), "/exports?ok=ready")
	js := e.jobs("cs01")
	if len(js) != 2 || js[0].Masked {
		t.Fatalf("cs01's exports after an unmasked one: %+v", js)
	}
	list := cs.get("/exports")
	wantText(t, list, "In full")
	wantText(t, list, "Masked")
}

func TestALargeExportWaitsThenDownloadsThenExpires(t *testing.T) {
	e := newExportEnv(t, 0)
	home := e.building(5)
	e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	b := e.as("street", i18n.Chinese)
	wantRedirect(t, b.post("/exports", exportValues(b.csrf(), url.Values{"queue": {"all"}, "overdue": {"on"}}, url.Values{"format": {"csv"}})), "/exports?ok=queued")
	js := e.jobs("street")
	if len(js) != 1 || js[0].State != export.Queued || !js[0].Filter.Overdue {
		t.Fatalf("exports: %+v", js)
	}
	download := "/exports/" + strconv.FormatInt(js[0].ID, 10) + "/download"

	list := b.get("/exports?ok=queued")
	wantStatus(t, list, http.StatusOK)
	wantText(t, list, e.bundle.T(i18n.Chinese, "exports.notice.queued"))
	wantText(t, list, e.bundle.T(i18n.Chinese, "exports.state.queued"))
	wantHTML(t, list, `<a class="button primary" href="/exports?ok=queued">`+escaped(e.bundle.T(i18n.Chinese, "exports.refresh"))+`</a>`)
	if strings.Contains(list.Body, download) {
		t.Error("a waiting export offers its download")
	}
	early := b.get(download)
	wantStatus(t, early, http.StatusConflict)
	wantText(t, early, e.bundle.T(i18n.Chinese, "export.error.not_ready"))

	if ok, err := e.exports.Work(context.Background()); err != nil || !ok {
		t.Fatalf("work: %v, %v", ok, err)
	}
	list = b.get("/exports")
	wantText(t, list, e.bundle.T(i18n.Chinese, "exports.state.ready"))
	wantHTML(t, list, `href="`+download+`"`)
	if strings.Contains(list.Body, escaped(e.bundle.T(i18n.Chinese, "exports.refresh"))) {
		t.Error("a page of finished exports offers a refresh")
	}
	wantStatus(t, b.get(download), http.StatusOK)

	e.clock.Advance(25 * time.Hour)
	list = b.get("/exports")
	wantText(t, list, e.bundle.T(i18n.Chinese, "exports.state.expired"))
	if strings.Contains(list.Body, download) {
		t.Error("an expired export offers its download")
	}
	gone := b.get(download)
	wantStatus(t, gone, http.StatusGone)
	wantText(t, gone, e.bundle.T(i18n.Chinese, "export.error.expired"))
}

func TestExportsAreForStaff(t *testing.T) {
	e := newExportEnv(t, 5000)
	res := e.as("resident", i18n.English).get("/exports")
	wantStatus(t, res, http.StatusForbidden)
	r2 := e.as("r2", i18n.English)
	wantStatus(t, r2.post("/exports", exportValues(r2.csrf(), url.Values{"queue": {"mine"}}, url.Values{"format": {"csv"}})), http.StatusForbidden)
	if js := e.jobs("r2"); len(js) != 0 {
		t.Fatalf("a resident's exports: %+v", js)
	}
}

// exportPageTemplates are the page templates that need the export
// service, so TestExportPagesRenderInBothLanguages renders them rather than
// TestEveryPageRendersInBothLanguages.
var exportPageTemplates = map[string]bool{"exports": true}

func TestExportPagesRenderInBothLanguages(t *testing.T) {
	keys := templateKeys(t)
	e := newExportEnv(t, 0)
	e.report("resident", e.building(5), waterRepair, "楼道水管爆裂", 0)
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			cs := e.as("cs01", lang)
			empty := cs.get("/exports")
			for _, format := range export.Formats {
				wantRedirect(t, cs.post("/exports", exportValues(cs.csrf(), url.Values{"queue": {"all"}, "category": {waterRepair},
					"state": {"registered"}, "channel": {"web"}, "overdue": {"on"}}, url.Values{"format": {string(format)}})), "/exports?ok=queued")
			}
			queued := cs.get("/exports?ok=queued")
			if _, err := e.exports.Work(context.Background()); err != nil {
				t.Fatal(err)
			}
			pages := []struct {
				template string
				res      response
				status   int
			}{
				{"exports", empty, http.StatusOK},
				{"exports", queued, http.StatusOK},
				{"exports", cs.get("/exports"), http.StatusOK},
				{"work", cs.get("/work?queue=all"), http.StatusOK},
				{"work", cs.post("/exports", exportValues(cs.csrf(), url.Values{"queue": {"all"}}, url.Values{"format": {"doc"}, "unmasked": {"on"}})), http.StatusBadRequest},
			}
			for _, p := range pages {
				wantStatus(t, p.res, p.status)
				wantHTML(t, p.res, `<html lang="`+lang+`"`)
				wantNoRawKeys(t, p.res)
				for _, k := range keys {
					if strings.Contains(p.res.Body, k) {
						t.Errorf("%s page shows the untranslated key %q", p.template, k)
					}
				}
			}
			// Every state and format has its name in this language.
			for _, s := range []export.State{export.Queued, export.Running, export.Ready, export.Failed, export.Expired} {
				if k := "exports.state." + string(s); e.bundle.T(lang, k) == k {
					t.Errorf("%s lacks %s", lang, k)
				}
			}
			for _, f := range export.Formats {
				if k := "exports.format." + string(f); e.bundle.T(lang, k) == k {
					t.Errorf("%s lacks %s", lang, k)
				}
			}
		})
	}
}

func TestHumanSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KB", 1536: "1.5 KB", 5 << 20: "5.0 MB", 3 << 30: "3.0 GB"} {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}
