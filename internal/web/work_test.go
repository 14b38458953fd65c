package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/outbox"
)

func TestTheWorkbenchShowsTheActorsQueuesWithCountsAndFilters(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)
	a := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	b := e.report("r2", home, neighbours, "楼上每晚噪音", 0)
	e.act(worker, b.ID, cases.Verify, cases.Input{})

	gw := e.as(worker, i18n.English)
	res := gw.get("/work")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	// The first queue is the grid worker's verify queue, with one case.
	wantHTML(t, res, `<a href="/work?queue=verify" aria-current="page">To verify <span class="count">1</span></a>`)
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(a.ID, 10)+`"`)
	wantText(t, res, "On time")
	if strings.Contains(res.Body, `href="/cases/`+strconv.FormatInt(b.ID, 10)+`"`) {
		t.Error("a verified case is still in the verify queue")
	}
	wantHTML(t, res, `href="/cases/new"`)

	street := e.as("street", i18n.English)
	res = street.get("/work")
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `<a href="/work?queue=accept" aria-current="page">To accept <span class="count">1</span></a>`)
	wantHTML(t, res, `href="/work?queue=all"`)
	if strings.Contains(res.Body, `queue=verify`) || strings.Contains(res.Body, `queue=mine`) {
		t.Error("the street's workbench offers queues it does not work")
	}
	// Filters travel as query parameters.
	res = street.get("/work?queue=all&category=" + neighbours)
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(b.ID, 10)+`"`)
	if strings.Contains(res.Body, `href="/cases/`+strconv.FormatInt(a.ID, 10)+`"`) {
		t.Error("the category filter lets another category through")
	}
	wantHTML(t, res, `<details class="filters panel" open>`)
	res = street.get("/work?queue=all&state=reported&channel=web")
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(a.ID, 10)+`"`)
	res = street.get("/work?queue=all&grid=12")
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "case.error.grid"))
	wantStatus(t, street.get("/work?queue=all&after=nonsense"), http.StatusBadRequest)
	wantStatus(t, street.get("/work?queue=verify"), http.StatusNotFound)

	// Residents and auditors have no workbench.
	for _, who := range []string{"resident", "auditor"} {
		wantStatus(t, e.as(who, i18n.English).get("/work"), http.StatusForbidden)
	}
}

func TestTheDispatchQueueSendsSeveralCasesAtOnce(t *testing.T) {
	e := newCaseEnv(t)
	var ids []int64
	for i, text := range []string{"楼道水管爆裂", "小区门口水管漏水", "地下室进水"} {
		c := e.report("resident", e.building(5+i), waterRepair, text, 0)
		e.act(e.workerOf(c.GridCode), c.ID, cases.Verify, cases.Input{})
		e.act("street", c.ID, cases.Accept, cases.Input{})
		e.act("street", c.ID, cases.Register, cases.Input{})
		ids = append(ids, c.ID)
	}
	street := e.as("street", i18n.Chinese)
	res := street.get("/work?queue=dispatch")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `<form class="bulk-form" method="post" action="/work/dispatch">`)
	wantHTML(t, res, `<input type="checkbox" name="case" value="`+strconv.FormatInt(ids[0], 10)+`">`)
	// One case is dispatched by someone else meanwhile: it is refused, the
	// others go.
	e.act("street", ids[2], cases.Dispatch, cases.Input{Target: "department:water"})
	f := url.Values{"csrf": {street.csrf()}, "target": {"department:water"}}
	for _, id := range ids {
		f.Add("case", strconv.FormatInt(id, 10))
	}
	res = street.post("/work/dispatch", f)
	wantRedirect(t, res, "/work?failed=1&n=2&ok=bulk&queue=dispatch")
	res = street.get(res.Header.Get("Location"))
	wantText(t, res, e.bundle.T(i18n.Chinese, "cases.page.work.bulk.partly", 2, 1))
	for _, id := range ids {
		if c := e.get(id); c.State != cases.Dispatched || c.Assignee != "water" {
			t.Errorf("case %d: %s to %s", id, c.State, c.Assignee)
		}
	}
	// The water department now has them to sign for.
	res = e.as("water", i18n.English).get("/work")
	wantHTML(t, res, `<a href="/work?queue=sign" aria-current="page">To sign for <span class="count">3</span></a>`)
	// Nothing ticked is refused.
	res = street.post("/work/dispatch", url.Values{"csrf": {street.csrf()}, "target": {"department:water"}})
	wantStatus(t, res, http.StatusBadRequest)
	// The page says what to change, in the reader's language.
	wantText(t, res, e.bundle.T(i18n.Chinese, "case.error.bulk"))
}

func TestAResidentFollowsTheirReportsAndIsAskedToRateClosedOnes(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	open := e.report("resident", home, neighbours, "楼上每晚噪音", 0)
	e.report("r2", home, neighbours, "别人的上报", 0)
	b := e.as("resident", i18n.English)
	res := b.get("/cases/mine")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(c.ID, 10)+`"`)
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(open.ID, 10)+`"`)
	if strings.Contains(res.Body, "别人的上报") || strings.Count(res.Body, `class="card case-card`) != 2 {
		t.Error("my reports list other people's reports")
	}
	if strings.Contains(res.Body, `#act-rate`) {
		t.Error("an open case is offered for rating")
	}
	e.act(worker, c.ID, cases.Verify, cases.Input{})
	e.act("street", c.ID, cases.Accept, cases.Input{})
	e.act("street", c.ID, cases.Register, cases.Input{})
	e.act("street", c.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	e.act("water", c.ID, cases.Sign, cases.Input{})
	e.act("water", c.ID, cases.Handle, cases.Input{Note: "已修复", Photos: []cases.Upload{{Name: "a.jpg", R: strings.NewReader(string(testJPEG(t)))}}})
	e.act(worker, c.ID, cases.Check, cases.Input{})
	e.act("street", c.ID, cases.Close, cases.Input{})
	res = b.get("/cases/mine")
	wantHTML(t, res, `href="/cases/`+strconv.FormatInt(c.ID, 10)+`#act-rate"`)
	res = b.get("/cases/" + strconv.FormatInt(c.ID, 10))
	wantHTML(t, res, `id="act-rate"`)
	wantHTML(t, res, `name="rating" value="1"`)
	// Staff follow their own reports there too; a workbench is not needed.
	wantStatus(t, e.as("auditor", i18n.English).get("/cases/mine"), http.StatusOK)
}

func TestTheInboxShowsUnreadMessagesAndMarksThemRead(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	b := e.as("resident", i18n.English)
	res := b.get("/inbox")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantText(t, res, e.bundle.T(i18n.English, "inbox.empty"))
	if strings.Contains(res.Body, `class="count"`) {
		t.Error("an empty inbox shows an unread count")
	}
	// Acceptance and dispatch tell the reporter.
	e.act(worker, c.ID, cases.Verify, cases.Input{})
	e.act("street", c.ID, cases.Accept, cases.Input{})
	e.act("street", c.ID, cases.Register, cases.Input{})
	e.act("street", c.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	if _, err := outbox.NewDispatcher(e.d, e.clock, outbox.Config{}, nil).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	res = b.get("/")
	wantHTML(t, res, `<span class="count"><span aria-hidden="true">2</span><span class="visually-hidden">2 unread</span></span>`)
	res = b.get("/inbox")
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	if n := strings.Count(res.Body, `class="card message unread"`); n != 2 {
		t.Fatalf("%d unread messages listed, want 2", n)
	}
	wantText(t, res, c.Number)
	msgs, err := e.outbox.Inbox(context.Background(), e.actor("resident").UserID, outboxFilter())
	if err != nil || len(msgs) != 2 {
		t.Fatalf("inbox: %v %d", err, len(msgs))
	}
	// Opening a message marks it read and follows its link.
	res = b.post("/inbox/read", url.Values{"csrf": {b.csrf()}, "id": {strconv.FormatInt(msgs[0].ID, 10)}, "open": {msgs[0].Link}})
	wantRedirect(t, res, "/cases/"+strconv.FormatInt(c.ID, 10))
	wantHTML(t, b.get("/inbox"), `<span class="count"><span aria-hidden="true">1</span><span class="visually-hidden">1 unread</span></span>`)
	// Someone else's message cannot be marked.
	other := e.as("r2", i18n.English)
	wantStatus(t, other.post("/inbox/read", url.Values{"csrf": {other.csrf()}, "id": {strconv.FormatInt(msgs[1].ID, 10)}}), http.StatusNotFound)
	// A link that leaves the site is not followed.
	res = b.post("/inbox/read", url.Values{"csrf": {b.csrf()}, "id": {strconv.FormatInt(msgs[1].ID, 10)}, "open": {"//evil.example"}})
	wantRedirect(t, res, "/inbox?ok=read")
	res = b.post("/inbox/read-all", url.Values{"csrf": {b.csrf()}})
	wantRedirect(t, res, "/inbox?ok=all")
	res = b.get("/inbox?ok=all")
	wantText(t, res, e.bundle.T(i18n.English, "inbox.notice.all"))
	if strings.Contains(res.Body, `class="count"`) || strings.Contains(res.Body, "message unread") {
		t.Error("messages still unread after marking all read")
	}
	wantStatus(t, b.get("/inbox?before=x"), http.StatusBadRequest)
}

func TestCaseFiguresCountAPeriodForThoseWhoMayReadThem(t *testing.T) {
	e := newCaseEnv(t)
	home := e.building(5)
	worker := e.workerOf(home.GridCode)
	c := e.report("resident", home, waterRepair, "楼道水管爆裂", 0)
	e.report("resident", home, neighbours, "楼上每晚噪音", 0)
	e.act(worker, c.ID, cases.Verify, cases.Input{})
	e.act("street", c.ID, cases.Accept, cases.Input{})
	e.act("street", c.ID, cases.Register, cases.Input{})
	e.act("street", c.ID, cases.Dispatch, cases.Input{Target: "department:water"})
	period := "&from=2026-11-01&to=2026-11-30"

	street := e.as("street", i18n.English)
	res := street.get("/cases/figures?territory=" + home.GridCode[:9] + period)
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `<tr data-figure="reported"><th scope="row">Reported</th><td class="num">2</td></tr>`)
	wantHTML(t, res, `<tr data-figure="registered"><th scope="row">Registered</th><td class="num">1</td></tr>`)
	wantHTML(t, res, `<tr data-rate="valid_report"><th scope="row">Valid report rate</th><td class="num">50.0%</td></tr>`)
	// Another period counts nothing.
	res = street.get("/cases/figures?territory=" + home.GridCode[:9] + "&from=2026-10-01&to=2026-10-31")
	wantHTML(t, res, `<tr data-figure="reported"><th scope="row">Reported</th><td class="num">0</td></tr>`)
	// Departments' figures are for the whole installation's statistics
	// readers and for the department itself: the street is refused.
	if strings.Contains(res.Body, `id="f-department"`) {
		t.Error("the street is offered departments' figures")
	}
	wantStatus(t, street.get("/cases/figures?department=water"+period), http.StatusForbidden)
	water := e.as("water", i18n.English)
	res = water.get("/cases/figures?" + period[1:])
	wantStatus(t, res, http.StatusOK)
	wantNoRawKeys(t, res)
	wantHTML(t, res, `<option value="water" selected>`)
	wantHTML(t, res, `<tr data-figure="dispatched"><th scope="row">Dispatched (to handle)</th><td class="num">1</td></tr>`)
	wantStatus(t, water.get("/cases/figures?department=housing"+period), http.StatusForbidden)
	// Bad dates are named.
	res = street.get("/cases/figures?from=yesterday&to=2026-11-30")
	wantStatus(t, res, http.StatusBadRequest)
	wantHTML(t, res, `id="f-from-error"`)
	res = street.get("/cases/figures?from=2026-11-30&to=2026-11-01")
	wantStatus(t, res, http.StatusBadRequest)
	// The default period is this month.
	wantStatus(t, street.get("/cases/figures"), http.StatusOK)
	for _, who := range []string{"resident", "auditor"} {
		wantStatus(t, e.as(who, i18n.English).get("/cases/figures"), http.StatusForbidden)
	}
}

func TestQueueCountsStopAtNinetyNinePlus(t *testing.T) {
	p := &page{}
	for n, want := range map[int]string{0: "0", 7: "7", 99: "99", 100: "99+", 250: "99+"} {
		if got := p.CountText(n); got != want {
			t.Errorf("CountText(%d) = %q, want %q", n, got, want)
		}
	}
}

// outboxFilter is a page of an inbox large enough for the tests.
func outboxFilter() outbox.InboxFilter { return outbox.InboxFilter{Limit: 50} }
