package catalog_test

import (
	"bytes"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

func TestImportCreatesAndUpdatesKeepingWhatTheFileDoesNotSay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		before, _ := e.svc.ByRef(e.ctx, "M06010")
		file := "kind,code,major_code,major_name,name,name_en,department,public\n" +
			"matter,95010,95,意见建议,线上议事建议,Online deliberation suggestion,community,true\n" +
			// Leading zeros dropped by a spreadsheet program come back.
			"matter,6010,6,市容环境类,暴露垃圾,Exposed refuse,sanitation,否\n" +
			// Present but empty optional cells: no English name, no department; public left alone.
			"component,01037,01,市政公用设施,路灯,,,\n"
		n, err := e.svc.Import(e.ctx, e.admin, strings.NewReader(file))
		if err != nil || n != 3 {
			t.Fatalf("import: %d, %v", n, err)
		}
		created, _ := e.svc.ByRef(e.ctx, "M95010")
		if created.Name.En != "Online deliberation suggestion" || created.Department != "community" || !created.Public || !created.Active ||
			created.GroupName.En != "Opinions and suggestions" {
			t.Errorf("created %+v", created)
		}
		if l, ok := created.Limits.For(catalog.Normal, catalog.Handle); !ok || l != (calendar.Limit{Amount: 5, Unit: calendar.Days}) {
			t.Errorf("created without the default limits: %v", created.Limits)
		}
		updated, _ := e.svc.ByRef(e.ctx, "M06010")
		if updated.Name.En != "Exposed refuse" || updated.Department != "sanitation" || updated.Public {
			t.Errorf("updated %+v", updated)
		}
		if l, _ := updated.Limits.For(catalog.Normal, catalog.Handle); l != (calendar.Limit{Amount: 4, Unit: calendar.Hours}) ||
			updated.GroupName != before.GroupName {
			t.Errorf("import lost what the file does not carry: %v %+v", l, updated.GroupName)
		}
		lamp, _ := e.svc.ByRef(e.ctx, "C01037")
		if lamp.Name.En != "" || lamp.Department != "" || lamp.Public {
			t.Errorf("lamp %+v", lamp)
		}
		if a := e.lastAudit(t); a.Action != "category.import" || !strings.Contains(a.Detail, `"created":1`) || !strings.Contains(a.Detail, `"updated":2`) {
			t.Errorf("audit %+v", a)
		}

		// Only the five national columns: a new name, English from the
		// built-in names; other values stay.
		if _, err := e.svc.Import(e.ctx, e.admin, strings.NewReader("kind,code,major_code,major_name,name\nmatter,06010,06,市容环境类,暴露垃圾\n")); err != nil {
			t.Fatal(err)
		}
		if again, _ := e.svc.ByRef(e.ctx, "M06010"); again.Name.En != "Exposed refuse" || again.Department != "sanitation" {
			t.Errorf("columns the file lacks changed: %+v", again)
		}

		// A new major name renames the group, also for rows not in the file.
		if _, err := e.svc.Import(e.ctx, e.admin, strings.NewReader("kind,code,major_code,major_name,name\nmatter,10003,10,其他类,井盖被盗\n")); err != nil {
			t.Fatal(err)
		}
		for _, ref := range []string{"M10001", "M10002", "M10003"} {
			if c, err := e.svc.ByRef(e.ctx, ref); err != nil || c.GroupName.Zh != "其他类" {
				t.Errorf("%s group %+v %v", ref, c.GroupName, err)
			}
		}
	})
}

func TestImportOfABadFileIsRejectedWholeWithEveryBadRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		if err := e.svc.SaveDepartment(e.ctx, e.admin, catalog.Department{Code: "closed", Name: catalog.Names{Zh: "撤销的部门"}}); err != nil {
			t.Fatal(err)
		}
		file := "kind,code,major_code,major_name,name,department,public\n" +
			"matter,95011,95,意见建议,好的一行,community,yes\n" + // 2: good
			"event,95012,95,意见建议,种类错,,\n" + // 3
			"matter,95x01,95,意见建议,编码错,,\n" + // 4
			"matter,95013,96,意见建议,大类不符,,\n" + // 5
			"matter,95014,95,意见建议,,,\n" + // 6
			"component,95015,95,意见建议,本地部件,,\n" + // 7
			"matter,95011,95,意见建议,重复,,\n" + // 8
			"matter,95016,95,意见建议X,组名不同,,\n" + // 9
			"matter,95017,95,意见建议,部门不存在,nobody,\n" + // 10
			"matter,95018,95,意见建议,部门撤销,closed,\n" + // 11
			"matter,95019,95,意见建议,公开值错,,maybe\n" + // 12
			"matter,95020,95,意见建议,\"两\n行\",,\n" // 13: a quoted cell across lines is one row
		want := []catalog.RowProblem{
			{Line: 3, Field: "kind", Reason: "catalog.kind.unknown"},
			{Line: 4, Field: "code", Reason: "catalog.code.format"},
			{Line: 5, Field: "major_code", Reason: "catalog.group.mismatch"},
			{Line: 6, Field: "name", Reason: "error.field.required"},
			{Line: 7, Field: "code", Reason: "catalog.code.local_component"},
			{Line: 8, Field: "code", Reason: "catalog.import.duplicate"},
			{Line: 9, Field: "major_name", Reason: "catalog.import.group_name_differs"},
			{Line: 10, Field: "department", Reason: "catalog.department.unknown"},
			{Line: 11, Field: "department", Reason: "catalog.department.inactive"},
			{Line: 12, Field: "public", Reason: "catalog.import.public"},
			{Line: 13, Field: "name", Reason: "catalog.answer.one_line"},
		}
		categories := e.count(t, "SELECT COUNT(*) FROM categories")
		audits := e.count(t, "SELECT COUNT(*) FROM audit_log")
		n, err := e.svc.Import(e.ctx, e.admin, strings.NewReader(file))
		if !errs.Is(err, errs.Invalid) || n != 0 {
			t.Fatalf("import: %d, %v", n, err)
		}
		if e := errs.As(err); e.Msg != "catalog.import.rejected" || len(e.Args) != 1 || e.Args[0] != len(want) ||
			e.Fields["10:department"] != "catalog.department.unknown" {
			t.Errorf("error %+v", e)
		}
		var ie *catalog.ImportError
		if !errors.As(err, &ie) {
			t.Fatalf("no ImportError in %v", err)
		}
		if !slices.Equal(ie.Problems, want) {
			t.Errorf("problems\n got %v\nwant %v", ie.Problems, want)
		}
		if _, err := e.svc.ByRef(e.ctx, "M95011"); !errs.Is(err, errs.NotFound) {
			t.Error("the good row of a rejected file was written")
		}
		if e.count(t, "SELECT COUNT(*) FROM categories") != categories || e.count(t, "SELECT COUNT(*) FROM audit_log") != audits {
			t.Error("a rejected import changed the database")
		}
	})
}

func TestImportRefusesFilesItCannotUse(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		tests := []struct {
			name string
			file string
			want []catalog.RowProblem
		}{
			{"empty", "", []catalog.RowProblem{{Reason: "sheet.error.empty"}}},
			{"header only", "kind,code,major_code,major_name,name\n", []catalog.RowProblem{{Line: 1, Reason: "catalog.import.no_rows"}}},
			{"missing column", "kind,code,major_code,name\nmatter,06010,06,暴露垃圾\n",
				[]catalog.RowProblem{{Line: 1, Field: "major_name", Reason: "sheet.column.missing"}}},
			{"unpaired quote", "kind,code,major_code,major_name,name\nmatter,06010,06,\"市容环境类,暴露垃圾\n",
				[]catalog.RowProblem{{Line: 2, Reason: "sheet.error.quote"}}},
		}
		for _, tt := range tests {
			_, err := e.svc.Import(e.ctx, e.admin, strings.NewReader(tt.file))
			var ie *catalog.ImportError
			if !errs.Is(err, errs.Invalid) || !errors.As(err, &ie) {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if !slices.Equal(ie.Problems, tt.want) {
				t.Errorf("%s: %v, want %v", tt.name, ie.Problems, tt.want)
			}
		}
		big := bytes.Repeat([]byte("x"), catalog.MaxImportBytes+1)
		if _, err := e.svc.Import(e.ctx, e.admin, bytes.NewReader(big)); !errs.Is(err, errs.TooLarge) {
			t.Errorf("oversized file: %v", err)
		}
	})
}

func TestExportImportsAgainUnchanged(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		var out bytes.Buffer
		if err := e.svc.Export(e.ctx, &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out.String(), "\r\n"), "\r\n")
		if lines[0] != "kind,code,major_code,major_name,name,name_en,department,public" {
			t.Fatalf("header %q", lines[0])
		}
		all, _ := e.svc.Categories(e.ctx, catalog.Filter{})
		if len(lines) != len(all)+1 {
			t.Fatalf("%d lines for %d categories", len(lines), len(all))
		}
		// The national file's own rows are the first five columns of the export.
		national, err := os.ReadFile("data/urban-management-catalogue.csv")
		if err != nil {
			t.Fatal(err)
		}
		for i, row := range strings.Split(strings.TrimSpace(string(national)), "\r\n")[1:] {
			if got := strings.SplitN(lines[i+1], ",", 6)[:5]; strings.Join(got, ",") != row {
				t.Fatalf("export line %d: %q, want %q", i+2, got, row)
			}
		}
		n, err := e.svc.Import(e.ctx, e.admin, bytes.NewReader(out.Bytes()))
		if err != nil || n != len(all) {
			t.Fatalf("re-import: %d, %v", n, err)
		}
		if a := e.lastAudit(t); !strings.Contains(a.Detail, `"created":0`) || !strings.Contains(a.Detail, `"updated":0`) {
			t.Errorf("re-import changed something: %s", a.Detail)
		}
	})
}

func TestImportReadsWhatChineseSpreadsheetsSave(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		// WPS and Chinese Excel save CSV in GB18030, and staff write the
		// headers in Chinese.
		file := "类型,编码,大类代码,大类名称,名称,英文名称,责任部门,居民可选\n事项,95021,95,意见建议,垃圾分类建议,Waste sorting suggestion,community,是\n"
		gb, err := simplifiedchinese.GB18030.NewEncoder().String(file)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Import(e.ctx, e.admin, strings.NewReader(gb)); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.ByRef(e.ctx, "M95021")
		if err != nil || c.Name.Zh != "垃圾分类建议" || c.Name.En != "Waste sorting suggestion" || !c.Public {
			t.Fatalf("%+v %v", c, err)
		}
	})
}
