package calendar_test

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

const district = "420106"

var (
	sysAdmin      = auth.Actor{UserID: 1, Username: "root", Role: auth.SystemAdmin}
	districtAdmin = auth.Actor{UserID: 2, Username: "wuchang", Role: auth.DistrictAdmin, Scope: district}
	otherAdmin    = auth.Actor{UserID: 3, Username: "hongshan", Role: auth.DistrictAdmin, Scope: "420111"}
	streetStaff   = auth.Actor{UserID: 4, Username: "street", Role: auth.StreetStaff, Scope: district + "/420106001"}
	gridWorker    = auth.Actor{UserID: 5, Username: "grid", Role: auth.GridWorker, Scope: district + "/420106001/420106001001"}
	resident      = auth.Actor{UserID: 6, Username: "resident", Role: auth.Resident}
	anonymous     = auth.Actor{}
)

// node is one gridhall node's calendar service on a shared database.
type node struct {
	ctx context.Context
	svc *calendar.Service
	log *audit.Log
}

func newNode(d *db.DB, c clock.Clock) node {
	al := audit.New(d)
	return node{ctx: context.Background(), svc: calendar.NewService(d, al, c), log: al}
}

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func (n node) importCSV(t *testing.T, actor auth.Actor, district string, year int, csv string) calendar.ImportResult {
	t.Helper()
	res, err := n.svc.Import(n.ctx, actor, district, year, strings.NewReader(csv), calendar.FormatCSV)
	if err != nil {
		t.Fatalf("import: %v (%+v)", err, res.Problems)
	}
	return res
}

func (n node) days(t *testing.T, district string, year int) []calendar.Day {
	t.Helper()
	days, err := n.svc.Days(n.ctx, gridWorker, district, year)
	if err != nil {
		t.Fatal(err)
	}
	return days
}

func (n node) calendar(t *testing.T, district string) *calendar.Calendar {
	t.Helper()
	c, err := n.svc.For(n.ctx, district)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (n node) audits(t *testing.T, objectID string) []audit.Entry {
	t.Helper()
	es, err := n.log.List(n.ctx, audit.Filter{ObjectType: "calendar", ObjectID: objectID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

const national2027 = "date,kind,name\n2027-10-01,holiday,国庆节\n2027-10-04,holiday,国庆节\n2027-09-26,workday,国庆节调休上班\n"

func TestImportReplacesTheYearAtomicallyWithAnAuditEntry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		res := n.importCSV(t, districtAdmin, district, 2027, national2027)
		if res.Holidays != 2 || res.Workdays != 1 || res.Replaced != 0 || len(res.Problems) != 0 {
			t.Fatalf("first import: %+v", res)
		}
		want := []calendar.Day{
			{Date: "2027-09-26", Kind: calendar.Workday, Name: "国庆节调休上班"},
			{Date: "2027-10-01", Kind: calendar.Holiday, Name: "国庆节"},
			{Date: "2027-10-04", Kind: calendar.Holiday, Name: "国庆节"},
		}
		if got := n.days(t, district, 2027); !reflect.DeepEqual(got, want) {
			t.Fatalf("days = %+v", got)
		}
		c := n.calendar(t, district)
		if c.IsWorkday(time.Date(2027, 10, 1, 0, 0, 0, 0, cst)) || !c.IsWorkday(time.Date(2027, 9, 26, 0, 0, 0, 0, cst)) {
			t.Fatal("the imported days are not in force")
		}

		res = n.importCSV(t, districtAdmin, district, 2027, "date,kind\n2027-05-03,holiday\n")
		if res.Replaced != 3 || res.Holidays != 1 {
			t.Fatalf("second import: %+v", res)
		}
		if got := n.days(t, district, 2027); !reflect.DeepEqual(got, []calendar.Day{{Date: "2027-05-03", Kind: calendar.Holiday}}) {
			t.Fatalf("after replacing: %+v", got)
		}
		// Other years and other districts are untouched: they inherit.
		if got := n.days(t, district, 2026); !reflect.DeepEqual(got, calendar.BuiltinDays(2026)) {
			t.Fatalf("2026 of the district is not the built-in arrangement: %d days", len(got))
		}
		if got := n.days(t, "420111", 2027); len(got) != 0 {
			t.Fatalf("another district got %+v", got)
		}
		es := n.audits(t, district+"/2027")
		if len(es) != 2 || es[0].Action != "calendar.import" || es[0].ScopePath != district || es[0].ActorName != "wuchang" ||
			!strings.Contains(es[0].Detail, `"replaced":3`) {
			t.Fatalf("audit entries %+v", es)
		}
	})
}

func TestImportRejectsABadFileWhole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		n.importCSV(t, districtAdmin, district, 2027, national2027)
		before := n.days(t, district, 2027)
		bad := "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,\n2027-01-01,workday,\n2026-12-31,休,\n2027-03-01,off,\n"
		for _, format := range []string{calendar.FormatCSV, calendar.FormatJSON} {
			data := bad
			if format == calendar.FormatJSON {
				data = `{"year":2027,"days":[{"date":"2027-01-01","kind":"holiday"},{"date":"2027-13-01","kind":"holiday"}]}`
			}
			res, err := n.svc.Import(n.ctx, districtAdmin, district, 2027, strings.NewReader(data), format)
			if e := errs.As(err); err == nil || e.Code != errs.Invalid || e.Msg != "calendar.import.rejected" {
				t.Fatalf("%s: error %v", format, err)
			}
			if format == calendar.FormatCSV {
				want := []calendar.Problem{
					{Line: 3, Field: "date", Reason: "calendar.import.date"},
					{Line: 4, Field: "date", Reason: "calendar.import.duplicate", Args: []any{2}},
					{Line: 5, Field: "date", Reason: "calendar.import.wrong_year", Args: []any{2027}},
					{Line: 6, Field: "kind", Reason: "calendar.import.kind"},
				}
				if !reflect.DeepEqual(res.Problems, want) {
					t.Fatalf("problems %+v", res.Problems)
				}
			} else if len(res.Problems) != 1 || res.Problems[0].Field != "date" {
				t.Fatalf("json problems %+v", res.Problems)
			}
		}
		if got := n.days(t, district, 2027); !reflect.DeepEqual(got, before) {
			t.Fatalf("a rejected import changed the days: %+v", got)
		}
		if es := n.audits(t, district+"/2027"); len(es) != 1 {
			t.Fatalf("%d audit entries, want only the first import's", len(es))
		}
	})
}

func TestImportChecksItsArguments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		tests := []struct {
			name     string
			district string
			year     int
			format   string
			data     string
			code     errs.Code
			field    string
		}{
			{"short district", "4201", 2027, "csv", "date,kind\n", errs.Invalid, "district"},
			{"street as district", "420106001", 2027, "csv", "date,kind\n", errs.Invalid, "district"},
			{"year too early", district, 1999, "csv", "date,kind\n", errs.Invalid, "year"},
			{"unknown format", district, 2027, "xlsx", "date,kind\n", errs.Invalid, "format"},
			{"too large", district, 2027, "csv", "date,kind\n" + strings.Repeat("#\n", calendar.MaxImportBytes), errs.TooLarge, ""},
		}
		for _, tt := range tests {
			_, err := n.svc.Import(n.ctx, sysAdmin, tt.district, tt.year, strings.NewReader(tt.data), tt.format)
			if e := errs.As(err); err == nil || e.Code != tt.code || (tt.field != "" && e.Fields[tt.field] == "") {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		if es := n.audits(t, district+"/2027"); len(es) != 0 {
			t.Fatalf("failed imports were audited: %+v", es)
		}
	})
}

func TestWhoMayImportAndRead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		tests := []struct {
			name     string
			actor    auth.Actor
			district string
			write    bool
			read     bool
		}{
			{"system admin, installation", sysAdmin, "", true, true},
			{"system admin, a district", sysAdmin, district, true, true},
			{"console", auth.SystemActor("cli"), "", true, true},
			{"district admin, own district", districtAdmin, district, true, true},
			{"district admin, another district", otherAdmin, district, false, true},
			{"district admin, installation", districtAdmin, "", false, true},
			{"street staff, own district", streetStaff, district, false, true},
			{"grid worker", gridWorker, district, false, true},
			{"auditor", auth.Actor{UserID: 7, Role: auth.Auditor}, district, false, true},
			{"resident", resident, district, false, false},
			{"anonymous", anonymous, district, false, false},
		}
		for _, tt := range tests {
			_, err := n.svc.Import(n.ctx, tt.actor, tt.district, 2028, strings.NewReader("date,kind\n"), calendar.FormatCSV)
			if (err == nil) != tt.write || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s: import: %v", tt.name, err)
			}
			err = n.svc.SaveSettings(n.ctx, tt.actor, tt.district, calendar.DefaultSettings())
			if (err == nil) != tt.write || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s: save settings: %v", tt.name, err)
			}
			_, err = n.svc.Days(n.ctx, tt.actor, tt.district, 2028)
			if (err == nil) != tt.read || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s: days: %v", tt.name, err)
			}
			err = n.svc.Export(n.ctx, tt.actor, tt.district, 2028, &bytes.Buffer{}, calendar.FormatCSV)
			if (err == nil) != tt.read || (err != nil && !errs.Is(err, errs.Forbidden)) {
				t.Errorf("%s: export: %v", tt.name, err)
			}
		}
	})
}

func TestForSeesAnotherNodesChangesAfterRefresh(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		a, b := newNode(d, clk), newNode(d, clk)
		start := time.Date(2027, 9, 30, 17, 0, 0, 0, cst) // Thursday
		oneDay := calendar.Limit{Amount: 1, Unit: calendar.Days}
		before := time.Date(2027, 10, 1, 17, 0, 0, 0, cst)
		after := time.Date(2027, 10, 5, 17, 0, 0, 0, cst) // 1 and 4 October off
		if got := a.calendar(t, district).Deadline(start, oneDay); !got.Equal(before) {
			t.Fatalf("node A before the import: %s", show(got))
		}
		b.importCSV(t, districtAdmin, district, 2027, national2027)
		if got := b.calendar(t, district).Deadline(start, oneDay); !got.Equal(after) {
			t.Fatalf("node B does not see its own import at once: %s", show(got))
		}
		clk.Advance(calendar.RefreshInterval - time.Millisecond)
		if got := a.calendar(t, district).Deadline(start, oneDay); !got.Equal(before) {
			t.Fatalf("node A re-read before the refresh interval: %s", show(got))
		}
		clk.Advance(time.Millisecond)
		if got := a.calendar(t, district).Deadline(start, oneDay); !got.Equal(after) {
			t.Fatalf("node A does not see node B's import after the refresh interval: %s", show(got))
		}

		// Settings too: B makes Saturday a working day for the district.
		six := calendar.DefaultSettings()
		six.Workdays = []int{1, 2, 3, 4, 5, 6}
		if err := b.svc.SaveSettings(b.ctx, districtAdmin, district, six); err != nil {
			t.Fatal(err)
		}
		clk.Advance(calendar.RefreshInterval)
		if !a.calendar(t, district).IsWorkday(time.Date(2027, 10, 9, 0, 0, 0, 0, cst)) {
			t.Fatal("node A does not see node B's settings")
		}
	})
}

func TestDistrictsInheritTheInstallationCalendar(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		n.importCSV(t, sysAdmin, "", 2027, national2027)
		if got := n.days(t, district, 2027); len(got) != 3 {
			t.Fatalf("the district does not inherit the installation's 2027: %+v", got)
		}
		// An imported empty year is the district's own: no exceptions.
		n.importCSV(t, districtAdmin, district, 2027, "date,kind,name\n")
		if got := n.days(t, district, 2027); len(got) != 0 {
			t.Fatalf("the district's own empty 2027 still shows %+v", got)
		}
		if got := n.days(t, "", 2027); len(got) != 3 {
			t.Fatalf("the installation lost its 2027: %+v", got)
		}
		// Settings: the installation's, until the district has its own.
		long := calendar.Settings{Periods: []calendar.Period{{Start: "08:00", End: "12:00"}, {Start: "13:00", End: "18:00"}}}
		if err := n.svc.SaveSettings(n.ctx, sysAdmin, "", long); err != nil {
			t.Fatal(err)
		}
		if got := n.calendar(t, district).DayLength(); got != 9*time.Hour {
			t.Fatalf("district day length %v, want the installation's 9h", got)
		}
		if err := n.svc.SaveSettings(n.ctx, districtAdmin, district, calendar.Settings{}); err != nil {
			t.Fatal(err)
		}
		if got := n.calendar(t, district).DayLength(); got != 8*time.Hour {
			t.Fatalf("district day length %v, want its own 8h", got)
		}
		if got := n.calendar(t, "").DayLength(); got != 9*time.Hour {
			t.Fatalf("installation day length %v", got)
		}
		if es := n.audits(t, "default"); len(es) != 1 || es[0].Action != "calendar.settings" ||
			!strings.Contains(es[0].Detail, `"08:00"`) {
			t.Fatalf("settings audit %+v", es)
		}
	})
}

func TestSaveSettingsValidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		tests := []struct {
			name  string
			s     calendar.Settings
			field string
		}{
			{"no such weekday", calendar.Settings{Workdays: []int{9}}, "workdays"},
			{"overlapping periods", calendar.Settings{Periods: []calendar.Period{{Start: "09:00", End: "12:00"}, {Start: "10:00", End: "11:00"}}}, "periods"},
			{"days belong to imports", calendar.Settings{Days: []calendar.Day{{Date: "2027-01-01", Kind: calendar.Holiday}}}, "days"},
		}
		for _, tt := range tests {
			err := n.svc.SaveSettings(n.ctx, districtAdmin, district, tt.s)
			if e := errs.As(err); err == nil || e.Code != errs.Invalid || e.Fields[tt.field] == "" {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
		if err := n.svc.SaveSettings(n.ctx, districtAdmin, "42010x", calendar.Settings{}); errs.As(err).Fields["district"] == "" {
			t.Errorf("bad district: %v", err)
		}
		if es := n.audits(t, district); len(es) != 0 {
			t.Fatalf("rejected settings were audited")
		}
	})
}

func TestSeedStoresTheBuiltinArrangementOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		clk := clock.NewFake(t0)
		n := newNode(d, clk)
		// Before seeding, the built-in arrangement is in force anyway.
		if n.calendar(t, "").IsWorkday(time.Date(2026, 10, 1, 0, 0, 0, 0, cst)) {
			t.Fatal("1 October 2026 is a working day before seeding")
		}
		if got := n.days(t, "", 2026); !reflect.DeepEqual(got, calendar.BuiltinDays(2026)) {
			t.Fatalf("days before seeding: %d", len(got))
		}
		// Two nodes seed at once: one does, the other finds it done.
		other := newNode(d, clk)
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		for _, s := range []*calendar.Service{n.svc, other.svc} {
			wg.Go(func() { errc <- s.Seed(n.ctx) })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		es := n.audits(t, "default/2026")
		if len(es) != 1 || es[0].Action != "calendar.seed" {
			t.Fatalf("seed audit entries %+v", es)
		}
		if got := n.days(t, "", 2026); !reflect.DeepEqual(got, calendar.BuiltinDays(2026)) {
			t.Fatalf("days after seeding: %d", len(got))
		}
		// An administrator's correction survives a later Seed.
		n.importCSV(t, sysAdmin, "", 2026, "date,kind\n2026-10-01,holiday\n")
		if err := n.svc.Seed(n.ctx); err != nil {
			t.Fatal(err)
		}
		if got := n.days(t, "", 2026); len(got) != 1 {
			t.Fatalf("Seed overwrote an import: %d days", len(got))
		}
		if got := n.days(t, district, 2026); len(got) != 1 {
			t.Fatalf("the district does not inherit the corrected year: %d days", len(got))
		}
	})
}

func TestExportImportsUnchanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		n := newNode(d, clock.NewFake(t0))
		want := calendar.BuiltinDays(2026)
		for _, format := range []string{calendar.FormatCSV, calendar.FormatJSON} {
			var buf bytes.Buffer
			if err := n.svc.Export(n.ctx, gridWorker, "", 2026, &buf, format); err != nil {
				t.Fatal(err)
			}
			res, err := n.svc.Import(n.ctx, districtAdmin, district, 2026, &buf, format)
			if err != nil {
				t.Fatalf("%s: %v %+v", format, err, res.Problems)
			}
			if res.Holidays+res.Workdays != len(want) {
				t.Fatalf("%s: %+v", format, res)
			}
			if got := n.days(t, district, 2026); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s: round trip changed the days", format)
			}
		}
		var buf bytes.Buffer
		if err := n.svc.Export(n.ctx, gridWorker, district, 2031, &buf, calendar.FormatJSON); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != "{\n  \"year\": 2031,\n  \"days\": []\n}\n" {
			t.Fatalf("empty export %q", got)
		}
		if err := n.svc.Export(n.ctx, gridWorker, district, 2031, &buf, "pdf"); errs.As(err).Fields["format"] == "" {
			t.Fatalf("unknown export format: %v", err)
		}
	})
}
