package web

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// Categories the case tests report: water repair (a local matter without
// questions), a fire hazard (a required single-choice question), home care
// (a required multiple choice and a datetime) and a neighbour dispute (an
// optional number).
const (
	waterRepair = "M92001"
	fireHazard  = "M91001"
	homeCare    = "M94001"
	neighbours  = "M90002"
)

// caseStart is a Monday morning in Beijing, far from holidays: the case
// service's clock starts there, so deadlines and lights do not depend on
// the day the tests run.
var caseStart = time.Date(2026, 11, 16, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

// caseEnv is the web face on the whole case stack and a fresh SQLite
// database: the demo street (territory, buildings, accounts with password
// testPassword, grid assignments, department members), the built-in
// catalogue and calendar, the case service on a fake clock and the outbox.
// Two residents, "resident" (the demo's) and "r2", report.
type caseEnv struct {
	*env
	d      *db.DB
	clock  *clock.Fake
	terr   *territory.Service
	cat    *catalog.Service
	cases  *cases.Service
	outbox *outbox.Service
}

func newCaseEnv(t *testing.T) *caseEnv {
	t.Helper()
	return newCaseEnvWith(t, "")
}

// newCaseEnvWith is newCaseEnv with a map tile layer, which adds the pin
// map to the report form.
func newCaseEnvWith(t *testing.T, tileURL string) *caseEnv {
	t.Helper()
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	al := audit.New(d)
	c := clock.NewFake(caseStart)
	svc := testAuth(d, al)
	terr := territory.NewService(d, al, svc, c, territory.DefaultTolerance)
	if err := demo.Seed(ctx, svc, terr, testPassword); err != nil {
		t.Fatal(err)
	}
	if err := terr.Locator().Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	cat := catalog.NewService(d, al, c)
	if _, err := cat.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedDepartments(ctx, svc, cat); err != nil {
		t.Fatal(err)
	}
	cal := calendar.NewService(d, al, c)
	if err := cal.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	cs := cases.NewService(cases.Deps{DB: d, Audit: al, Clock: c, Territory: terr, Users: svc, Catalog: cat, Calendar: cal,
		Keys: keys, I18n: bundle}, cases.DefaultConfig())
	ob := outbox.NewService(d, al, keys, c, nil)
	e := &caseEnv{env: envWith(t, Deps{Auth: svc, Audit: al, Territory: terr, Cases: cs, Catalog: cat, Outbox: ob, MapTileURL: tileURL}),
		d: d, clock: c, terr: terr, cat: cat, cases: cs, outbox: ob}
	e.user("r2", auth.Resident, "", false)
	return e
}

// as signs in a fresh browser as username, reading pages in lang.
func (e *caseEnv) as(username, lang string) *browser {
	e.t.Helper()
	b := e.browser(lang)
	b.signIn(username)
	return b
}

// actor is the actor an account acts as, with its grids.
func (e *caseEnv) actor(username string) auth.Actor {
	e.t.Helper()
	u, err := e.svc.UserByName(context.Background(), auth.SystemActor("test"), username)
	if err != nil {
		e.t.Fatal(err)
	}
	a, err := e.svc.ActorOf(context.Background(), u.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// building is a demo building by index.
func (e *caseEnv) building(i int) territory.Building {
	e.t.Helper()
	bs, err := e.terr.Buildings(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), territory.BuildingFilter{Limit: 200})
	if err != nil || len(bs) <= i {
		e.t.Fatalf("buildings: %v (%d)", err, len(bs))
	}
	return bs[i]
}

// workerOf is the grid worker assigned to the grid with code.
func (e *caseEnv) workerOf(grid string) string {
	e.t.Helper()
	staff, err := e.terr.Staff(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), grid)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, m := range staff {
		if m.Duty == territory.DutyWorker {
			return m.Username
		}
	}
	e.t.Fatalf("no grid worker for %s", grid)
	return ""
}

// report files a web report through the service, as username, at b.
func (e *caseEnv) report(username string, b territory.Building, category, text string, photos int) cases.Case {
	e.t.Helper()
	in := cases.NewCase{Category: category, Description: text, Address: b.Address, Channel: cases.Web}
	for range photos {
		in.Photos = append(in.Photos, cases.Upload{Name: "p.jpg", R: bytes.NewReader(testJPEG(e.t))})
	}
	res, err := e.cases.Report(context.Background(), e.actor(username), in)
	if err != nil {
		e.t.Fatalf("report: %v", err)
	}
	return res.Case
}

// act takes a step through the service.
func (e *caseEnv) act(username string, id int64, a cases.Action, in cases.Input) cases.Case {
	e.t.Helper()
	c, err := e.cases.Act(context.Background(), e.actor(username), id, a, in)
	if err != nil {
		e.t.Fatalf("%s %s: %v", username, a, err)
	}
	return c
}

// get reads a case through the service, as the system.
func (e *caseEnv) get(id int64) cases.Case {
	e.t.Helper()
	d, err := e.cases.Get(context.Background(), auth.SystemActorAs("test", auth.DistrictAdmin), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return d.Case
}

// countCases counts every stored case.
func (e *caseEnv) countCases() int {
	e.t.Helper()
	var n int
	if err := e.d.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM cases").Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// testJPEG is a small JPEG, as a phone camera would send (only smaller).
func testJPEG(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		for y := range 48 {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 120, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// postMultipart posts a multipart form with fields and, under each file
// field, the given files.
func (b *browser) postMultipart(target string, fields url.Values, files map[string][][]byte) response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			if err := mw.WriteField(k, v); err != nil {
				b.e.t.Fatal(err)
			}
		}
	}
	for k, list := range files {
		for i, data := range list {
			fw, err := mw.CreateFormFile(k, "photo"+strconv.Itoa(i)+".jpg")
			if err != nil {
				b.e.t.Fatal(err)
			}
			if _, err := fw.Write(data); err != nil {
				b.e.t.Fatal(err)
			}
		}
	}
	if err := mw.Close(); err != nil {
		b.e.t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// actValues is the form a case page posts for action a on version v.
func actValues(csrf string, a cases.Action, v int, extra url.Values) url.Values {
	f := url.Values{"csrf": {csrf}, "action": {string(a)}, "version": {strconv.Itoa(v)}}
	for k, vs := range extra {
		f[k] = vs
	}
	return f
}

// wantNoRawKeys fails when a page shows a message key instead of its text:
// the keys of these pages are built at run time, beyond the key scan of
// TestEveryUsedKeyIsInBothCatalogs.
func wantNoRawKeys(t *testing.T, res response) {
	t.Helper()
	for _, prefix := range []string{"cases.page.", "inbox.", "case.state.", "case.action.", "case.error.", "role."} {
		if i := strings.Index(res.Body, prefix); i >= 0 {
			t.Fatalf("%s %s: page shows a raw key near %q", res.Request.Method, res.Request.URL, res.Body[max(0, i-80):min(len(res.Body), i+80)])
		}
	}
}

// caseIDFrom reads the case id from a redirect to /report/done/{id}.
func caseIDFrom(t *testing.T, res response) int64 {
	t.Helper()
	loc := res.Header.Get("Location")
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/report/done/"), 10, 64)
	if res.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("report: status %d, location %q; body:\n%s", res.StatusCode, loc, res.Body)
	}
	return id
}
