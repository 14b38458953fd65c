package people_test

import (
	"bytes"
	"encoding/csv"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
)

// exportWorld is an import world with five residents registered by import:
// a household of two and one of one in grid 1, one in grid 3, and one who
// moved out.
type exportWorld struct {
	*impWorld
	ids    []string // identity numbers, in the order of the rows
	phones []string
}

func newExportWorld(t *testing.T, d *db.DB) exportWorld {
	t.Helper()
	w := newImpWorld(t, d)
	ew := exportWorld{impWorld: w}
	for i := range 5 {
		ew.ids = append(ew.ids, impID(200+i, i%2 == 1))
		ew.phones = append(ew.phones, "1390000000"+string(rune('1'+i)))
	}
	data := csvFile(t, [][]string{
		{"姓名", "身份证号", "联系电话", "楼栋", "单元", "门牌号", "楼层", "与户主关系", "户籍类型", "标签", "入住日期"},
		{"张三", ew.ids[0], ew.phones[0], "中南一路1号", "1", "101", "1", "户主", "户籍", "残疾人、社区矫正对象", "2019-05-01"},
		{"=HYPERLINK(\"x\")", ew.ids[1], ew.phones[1], "中南一路1号", "1", "101", "1", "配偶", "流动", "", ""},
		{"李四", ew.ids[2], ew.phones[2], "中南一路1号", "2", "-101", "-1", "", "", "", "2010/3/1"},
		{"王五", ew.ids[3], ew.phones[3], "中南一路3号", "1", "301", "3", "户主", "境外", "veteran", ""},
		{"赵六", ew.ids[4], ew.phones[4], "中南一路1号", "1", "102", "1", "户主", "", "", "2020-01-01"},
	})
	rep, err := w.importBytes(w.cs, data, "seed.csv", people.ImportOptions{})
	if err != nil || rep.Imported != 5 {
		t.Fatalf("%v %v", err, problemLines(rep.Problems))
	}
	rs, err := w.svc.Search(w.ctx, w.cs, people.Filter{Name: "赵六"})
	if err != nil || len(rs) != 1 {
		t.Fatal(rs, err)
	}
	if err := w.svc.MoveOut(w.ctx, w.cs, rs[0].ID, "2026-11-01"); err != nil {
		t.Fatal(err)
	}
	return ew
}

func (w exportWorld) export(t *testing.T, format string, f people.Filter, reveal bool, reason, lang string) ([]byte, int, error) {
	t.Helper()
	var b bytes.Buffer
	n, err := w.svc.Export(w.ctx, w.district, &b, format, f, reveal, reason, lang)
	return b.Bytes(), n, err
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestExportIsMaskedUnlessRevealedWithAReason(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newExportWorld(t, d)
		for _, format := range []string{people.ExportCSV, people.ExportXLSX} {
			data, n, err := w.export(t, format, people.Filter{}, false, "", "")
			if err != nil || n != 4 {
				t.Fatalf("%s: %d rows, %v", format, n, err)
			}
			text := sheetText(t, format, data)
			for i := range 4 {
				if strings.Contains(text, w.ids[i]) || strings.Contains(text, w.phones[i]) || strings.Contains(text, w.ids[i][6:14]) {
					t.Fatalf("%s: a masked export holds a full number:\n%s", format, text)
				}
			}
			if !strings.Contains(text, w.ids[0][:4]+"**********"+w.ids[0][14:]) || !strings.Contains(text, "139****0001") {
				t.Fatalf("%s: masked numbers missing:\n%s", format, text)
			}
		}
		entries, err := audit.New(d).List(w.ctx, audit.Filter{Limit: 1})
		if err != nil || entries[0].Action != "resident.export" || !strings.Contains(entries[0].Detail, `"revealed":false`) || !strings.Contains(entries[0].Detail, `"rows":4`) {
			t.Fatalf("audit: %+v %v", entries, err)
		}

		// Revealing needs a reason, and the permission in every scope.
		_, _, err = w.export(t, people.ExportCSV, people.Filter{}, true, "  ", "")
		if e := errs.As(err); e.Code != errs.Invalid || e.Fields["reason"] != "people.reveal.reason" {
			t.Fatalf("no reason: %v", err)
		}
		var b bytes.Buffer
		if _, err := w.svc.Export(w.ctx, w.gw, &b, people.ExportCSV, people.Filter{}, true, "家访核对", ""); !errs.Is(err, errs.Forbidden) || b.Len() > 0 {
			t.Fatalf("grid worker reveal: %v, %d bytes", err, b.Len())
		}
		if _, err := w.svc.Export(w.ctx, w.cs, &b, "pdf", people.Filter{}, false, "", ""); errs.As(err).Fields["format"] != "people.export.format" {
			t.Fatalf("format: %v", err)
		}

		data, n, err := w.export(t, people.ExportCSV, people.Filter{}, true, "核对户籍信息", "")
		if err != nil || n != 4 {
			t.Fatal(n, err)
		}
		rows := readCSV(t, data)
		if len(rows) != 5 || !slices.Equal(rows[0][:3], []string{"姓名", "证件类型", "证件号码"}) {
			t.Fatalf("rows: %q", rows)
		}
		// Numbers in full, kept as text for spreadsheets by a leading tab.
		if rows[1][2] != "\t"+w.ids[0] || rows[1][5] != "\t"+w.phones[0] || rows[1][1] != "居民身份证" || rows[1][11] != "户主" {
			t.Fatalf("revealed row: %q", rows[1])
		}
		// A name that a spreadsheet would run as a formula is defused; the
		// floor of a basement stays a number; restricted tags show to
		// those who may reveal; derived tags (aged 60+) never.
		if rows[2][0] != `'=HYPERLINK("x")` || rows[3][10] != "-1" || rows[3][9] != "-101" || rows[1][13] != "社区矫正对象、残疾人" {
			t.Fatalf("rows: %q", rows)
		}
		entries, _ = audit.New(d).List(w.ctx, audit.Filter{Limit: 1})
		if entries[0].Action != "resident.export" || entries[0].Reason != "核对户籍信息" || !strings.Contains(entries[0].Detail, `"revealed":true`) {
			t.Fatalf("audit: %+v", entries[0])
		}
		for _, secret := range w.ids {
			if strings.Contains(entries[0].Detail, secret) {
				t.Fatal("personal data in the audit log")
			}
		}
	})
}

// sheetText returns the cells of an export as tab-separated text.
func sheetText(t *testing.T, format string, data []byte) string {
	t.Helper()
	if format == people.ExportCSV {
		var b strings.Builder
		for _, r := range readCSV(t, data) {
			b.WriteString(strings.Join(r, "\t") + "\n")
		}
		return b.String()
	}
	f, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, "\t") + "\n")
	}
	return b.String()
}

func TestRevealedExportImportsAgain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newExportWorld(t, d)
		for _, c := range []struct{ format, lang string }{{people.ExportCSV, ""}, {people.ExportXLSX, "en"}} {
			data, _, err := w.export(t, c.format, people.Filter{}, true, "迁移数据", c.lang)
			if err != nil {
				t.Fatal(err)
			}
			// A registry of its own, with the same buildings.
			w2 := newImpWorld(t, dbtest.Open(t, d.Engine))
			rep, err := w2.importBytes(w2.cs, data, "export."+c.format, people.ImportOptions{})
			if err != nil || rep.Imported != 4 || rep.Households != 3 || rep.Houses != 3 {
				t.Fatalf("%s %s: %v %+v %v", c.format, c.lang, err, rep, problemLines(rep.Problems))
			}
			for i, id := range w.ids[:4] {
				old, _ := w.svc.Search(w.ctx, w.cs, people.Filter{Document: id})
				got, _ := w2.svc.Search(w2.ctx, w2.cs, people.Filter{Document: id})
				if len(old) != 1 || len(got) != 1 {
					t.Fatalf("%s: resident %d: %v %v", c.format, i, old, got)
				}
				o, g := old[0], got[0]
				if g.Name != o.Name || g.Gender != o.Gender || g.BirthDate != o.BirthDate || g.Phone != o.Phone || g.Registration != o.Registration ||
					g.Relation != o.Relation || g.MoveIn != o.MoveIn || !slices.Equal(g.Tags, o.Tags) {
					t.Fatalf("%s: resident %d came back as\n%+v\nnot\n%+v", c.format, i, g, o)
				}
				od, _ := w.svc.Resident(w.ctx, w.cs, o.ID)
				gd, _ := w2.svc.Resident(w2.ctx, w2.cs, g.ID)
				if gd.House.Unit != od.House.Unit || gd.House.Number != od.House.Number || gd.House.Floor != od.House.Floor || len(gd.Members) != len(od.Members) {
					t.Fatalf("%s: household of resident %d: %+v, not %+v", c.format, i, gd, od)
				}
			}
		}
	})
}

func TestExportIsLimitedToTheExportersGrids(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newExportWorld(t, d)
		var b bytes.Buffer
		n, err := w.svc.Export(w.ctx, w.gw, &b, people.ExportCSV, people.Filter{}, false, "", "en")
		if err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, b.Bytes())
		var names []string
		for _, r := range rows[1:] {
			names = append(names, r[0])
		}
		// 王五 lives in grid 3, outside the grid worker's grids 1 and 2; and
		// restricted tags are not theirs to see.
		if n != 3 || rows[0][0] != "Name" || slices.Contains(names, "王五") || len(names) != 3 || rows[1][13] != "Person with disability" {
			t.Fatalf("%d rows: %q", n, rows)
		}
		// Exporting the carriers of a restricted tag would reveal them.
		b.Reset()
		if _, err := w.svc.Export(w.ctx, w.gw, &b, people.ExportCSV, people.Filter{Tag: "community_correction"}, false, "", ""); !errs.Is(err, errs.Forbidden) || b.Len() > 0 {
			t.Fatalf("restricted tag filter: %v, %d bytes", err, b.Len())
		}
		// Filters narrow an export as they narrow a search.
		b.Reset()
		n, err = w.svc.Export(w.ctx, w.district, &b, people.ExportCSV, people.Filter{Tag: "veteran"}, false, "", "")
		if err != nil || n != 1 || !strings.Contains(b.String(), "王五") {
			t.Fatalf("%d %v %s", n, err, b.String())
		}
		b.Reset()
		if _, err := w.svc.Export(w.ctx, w.street, &b, people.ExportCSV, people.Filter{}, false, "", ""); err != nil {
			t.Fatalf("street staff read the registry, so they may export it masked: %v", err)
		}
	})
}
