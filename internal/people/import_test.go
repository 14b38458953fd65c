package people_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// Scope paths of the demo territory, as the import tests use them.
const (
	impCommunityY = "420106/420106001/420106001001"
	impGrid1      = impCommunityY + "/420106001001001"
	impGrid2      = impCommunityY + "/420106001001002"
	impGrid3      = impCommunityY + "/420106001001003"
	impDing       = "420106/420106001/420106001002"
)

// impWorld is a registry with buildings in grids 1 and 3 of Community Y and
// in Dingziqiao, and the people who import into it.
type impWorld struct {
	ctx      context.Context
	db       *db.DB
	svc      *people.Service
	terr     *territory.Service
	cs       auth.Actor // community staff of Community Y
	gw       auth.Actor // grid worker of Community Y's grids 1 and 2
	street   auth.Actor // street staff: reads the registry, writes nothing
	district auth.Actor // district administrator: reads and reveals
	console  auth.Actor // the console operator, as the CLI acts
	b1, b3   territory.Building
	b9       territory.Building
}

func newImpWorld(t testing.TB, d *db.DB) *impWorld {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC))
	st := newStack(t, d, c)
	ctx, terr, planner := st.ctx, st.terr, st.planner
	bs, err := terr.AddBuildings(ctx, planner, []territory.NewBuilding{
		{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507},
		{Name: "3号楼", Address: "中南一路3号", Lng: 114.3082, Lat: 30.5507},
		{Name: "9号楼", Address: "丁字桥路9号", Lng: 114.3150, Lat: 30.5500},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{impGrid1, impGrid3, impDing} {
		if !auth.Within(want, bs[i].GridPath) {
			t.Fatalf("building %d lies in %s, want %s", i, bs[i].GridPath, want)
		}
	}
	return &impWorld{ctx: ctx, db: d, svc: st.svc, terr: terr,
		cs:       auth.Actor{UserID: 11, Username: "cs", Role: auth.CommunityStaff, Scope: impCommunityY},
		gw:       auth.Actor{UserID: 10, Username: "gw", Role: auth.GridWorker, Scope: impCommunityY, Scopes: []string{impGrid1, impGrid2}},
		street:   auth.Actor{UserID: 13, Username: "street", Role: auth.StreetStaff, Scope: "420106/420106001"},
		district: auth.Actor{UserID: 14, Username: "district", Role: auth.DistrictAdmin, Scope: "420106"},
		console:  auth.SystemActorAs("cli:test", auth.CommunityStaff),
		b1:       bs[0], b3: bs[1], b9: bs[2]}
}

// impID returns the n-th identity number of a set of valid, distinct ones.
func impID(n int, female bool) string {
	birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%20000)
	return people.GenerateIDNumber("420106", birth, female, n/20000)
}

// birthOf returns the birth date an identity number holds, as YYYY-MM-DD.
func birthOf(id string) string { return id[6:10] + "-" + id[10:12] + "-" + id[12:14] }

func csvFile(t testing.TB, rows [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (w *impWorld) importBytes(actor auth.Actor, data []byte, name string, opt people.ImportOptions) (people.ImportReport, error) {
	return w.svc.Import(w.ctx, actor, bytes.NewReader(data), int64(len(data)), name, opt)
}

// counts are the sizes of the tables an import may change.
func (w *impWorld) counts(t testing.TB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"residents", "houses", "households", "resident_tags", "audit_log"} {
		var n int
		if err := w.db.QueryRowContext(w.ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func wantCode(t *testing.T, err error, code errs.Code, msg string) {
	t.Helper()
	e := errs.As(err)
	if err == nil || e.Code != code || e.Msg != msg {
		t.Fatalf("error = %v, want %s %s", err, code, msg)
	}
}

// problemLines summarises problems as "line column reason [other]".
func problemLines(ps []people.RowProblem) []string {
	var out []string
	for _, p := range ps {
		s := fmt.Sprintf("%d %s %s", p.Line, p.Column, p.Reason)
		if p.Other != 0 {
			s += fmt.Sprintf(" %d", p.Other)
		}
		out = append(out, s)
	}
	return out
}

var zhHeader = []string{"姓名", "公民身份号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋", "单元", "门牌号", "与户主关系", "标签"}

// badFile has two good rows (lines 2 and 5) and one of each kind of bad row.
func badFile(t testing.TB) []byte {
	good1, good2 := impID(1, true), impID(2, false)
	wrongCheck := impID(3, false)
	wrongCheck = wrongCheck[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", wrongCheck[17])+1)%11])
	other := impID(4, true)
	return csvFile(t, [][]string{
		zhHeader,
		{"王秀英", good1, "女", birthOf(good1), "13800135678", "户籍", "中南一路1号", "1", "101", "户主", "残疾人"},
		{"错校验", wrongCheck, "", "", "", "", "中南一路1号", "1", "102", "", ""},
		{"错生日", other, "女", "1960-01-01", "", "", "中南一路1号", "1", "103", "", ""},
		{"李明", good2, "男", "", "027-87654321", "流动", "1号楼", "1", "101", "子女", ""},
		{"重复", good1, "", "", "", "", "中南一路1号", "1", "104", "", ""},
		{"错电话", impID(5, false), "", "", "12345", "", "中南一路1号", "1", "105", "", ""},
		{"无楼", impID(6, true), "", "", "", "", "不存在路99号", "1", "106", "", ""},
	})
}

func TestImportOfABadFileIsRejectedWholeWithEveryBadRowListed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		before := w.counts(t)
		rep, err := w.importBytes(w.cs, badFile(t), "登记表.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.rejected")
		want := []string{
			"3 公民身份号码 people.id.check",
			"4 出生日期 people.id.birth_mismatch",
			"6 公民身份号码 people.import.duplicate_in_file 2",
			"7 联系电话 people.phone.format",
			"8 楼栋 people.import.building_unknown",
		}
		if got := problemLines(rep.Problems); !slices.Equal(got, want) {
			t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Rows != 7 || rep.Valid != 2 || rep.Imported != 0 || rep.Truncated || rep.Mapping["document_number"] != "公民身份号码" {
			t.Fatalf("report: %+v", rep)
		}
		if after := w.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a rejected import changed the database: %v → %v", before, after)
		}

		// The same file, importing the valid rows only: exactly those two.
		rep, err = w.importBytes(w.cs, badFile(t), "登记表.csv", people.ImportOptions{ValidOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Imported != 2 || rep.Valid != 2 || len(rep.Problems) != 5 || rep.Households != 1 || rep.Houses != 1 {
			t.Fatalf("valid-only report: %+v", rep)
		}
		after := w.counts(t)
		if after["residents"] != before["residents"]+2 || after["audit_log"] != before["audit_log"]+1 || after["resident_tags"] != before["resident_tags"]+1 {
			t.Fatalf("valid-only import: %v → %v", before, after)
		}
		rs, err := w.svc.Search(w.ctx, w.cs, people.Filter{Document: impID(1, true)})
		if err != nil || len(rs) != 1 || rs[0].Name != "王秀英" || rs[0].Phone != "138****5678" || !slices.Contains(rs[0].Tags, "disabled") {
			t.Fatalf("imported resident: %+v %v", rs, err)
		}
		rs, _ = w.svc.Search(w.ctx, w.cs, people.Filter{Phone: "02787654321"})
		if len(rs) != 1 || rs[0].Name != "李明" || rs[0].Registration != people.Floating || rs[0].Relation != people.Child || rs[0].BirthDate != birthOf(impID(2, false)) {
			t.Fatalf("second resident: %+v", rs)
		}
		entries, err := audit.New(d).List(w.ctx, audit.Filter{Limit: 1})
		if err != nil || entries[0].Action != "resident.import" || !auth.Within(impGrid1, entries[0].ScopePath) {
			t.Fatalf("audit: %+v %v", entries, err)
		}
		for _, secret := range []string{impID(1, true), "13800135678", "王秀英"} {
			if strings.Contains(entries[0].Detail, secret) {
				t.Fatalf("the audit entry holds personal data: %s", entries[0].Detail)
			}
		}
		if !strings.Contains(entries[0].Detail, "登记表.csv") || !strings.Contains(entries[0].Detail, `"skipped":5`) {
			t.Fatalf("audit detail: %s", entries[0].Detail)
		}
	})
}

func TestImportFindsDuplicatesAgainstTheRegistry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		h, err := w.svc.AddHouse(w.ctx, w.cs, people.NewHouse{BuildingID: w.b1.ID, Unit: "1", Number: "101"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.AddResident(w.ctx, w.cs, people.NewResident{HouseID: h.ID, Name: "已登记", DocumentNumber: impID(7, true)}); err != nil {
			t.Fatal(err)
		}
		// Written with spaces and a lower-case x or not, it is the same number.
		spaced := impID(7, true)
		spaced = spaced[:6] + " " + spaced[6:14] + " " + spaced[14:]
		rep, err := w.importBytes(w.cs, csvFile(t, [][]string{
			{"姓名", "身份证号", "楼栋", "门牌号"},
			{"新人", impID(8, false), "中南一路1号", "102"},
			{"再登记", spaced, "中南一路1号", "101"},
		}), "a.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.rejected")
		if got := problemLines(rep.Problems); !slices.Equal(got, []string{"3 身份证号 people.id.duplicate"}) {
			t.Fatalf("problems: %v", got)
		}
	})
}

func TestImportReadsEnglishHeadersAndXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		f := excelize.NewFile()
		defer f.Close()
		date, err := f.NewStyle(&excelize.Style{NumFmt: 14})
		if err != nil {
			t.Fatal(err)
		}
		id1, id2 := impID(10, false), impID(11, true)
		rows := [][]any{
			{"Name", "ID number", "Gender", "Date of birth", "Mobile", "Registration", "Building", "Unit", "Room", "Floor", "Relationship", "Move-in date", "Tags"},
			{"Zhang Wei", id1, "M", nil, 13912345678, "registered", "中南一路1号", "2", "201", 2, "head", nil, "veteran; low_income"},
			{"Li Na", id2, "female", nil, "", "floating", "1号楼", "2", "201", "2F", "spouse", "2020/5/1", "Person with disability"},
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
				t.Fatal(err)
			}
		}
		// Dates as Excel stores them: numbers shown through a date format.
		for i, id := range []string{id1, id2} {
			birth, _ := time.Parse("2006-01-02", birthOf(id))
			cell, _ := excelize.CoordinatesToCellName(4, i+2)
			f.SetCellValue("Sheet1", cell, birth)
			f.SetCellStyle("Sheet1", cell, cell, date)
		}
		f.SetCellValue("Sheet1", "L2", time.Date(2019, 3, 8, 0, 0, 0, 0, time.UTC))
		f.SetCellStyle("Sheet1", "L2", "L2", date)
		var buf bytes.Buffer
		if err := f.Write(&buf); err != nil {
			t.Fatal(err)
		}
		rep, err := w.importBytes(w.cs, buf.Bytes(), "residents.xlsx", people.ImportOptions{})
		if err != nil {
			t.Fatalf("%v %+v", err, rep.Problems)
		}
		if rep.Imported != 2 || rep.Households != 1 || rep.Houses != 1 || rep.Mapping["house"] != "Room" || rep.Mapping["move_in"] != "Move-in date" {
			t.Fatalf("report: %+v", rep)
		}
		rs, err := w.svc.Search(w.ctx, w.cs, people.Filter{Document: id1})
		if err != nil || len(rs) != 1 {
			t.Fatal(rs, err)
		}
		z := rs[0]
		if z.Name != "Zhang Wei" || z.Gender != people.Male || z.BirthDate != birthOf(id1) || z.MoveIn != "2019-03-08" || z.Relation != people.Head ||
			!slices.Contains(z.Tags, "veteran") || !slices.Contains(z.Tags, "low_income") || z.Phone != "139****5678" {
			t.Fatalf("Zhang Wei: %+v", z)
		}
		det, err := w.svc.Resident(w.ctx, w.cs, z.ID)
		if err != nil || det.House.Floor != 2 || det.House.Unit != "2" || det.House.Number != "201" || len(det.Members) != 1 ||
			det.Members[0].Name != "Li Na" || det.Members[0].MoveIn != "2020-05-01" || !slices.Contains(det.Members[0].Tags, "disabled") {
			t.Fatalf("household: %+v %v", det, err)
		}
	})
}

func TestImportColumnMappingChosenByTheUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		data := csvFile(t, [][]string{
			{"居民", "号码", "楼", "房", "联系电话", "手机号"},
			{"赵六", impID(20, false), "中南一路1号", "301", "13800000001", "13900000001"},
		})
		// Nothing matches name, the document, the building or the house;
		// two columns match the phone.
		rep, err := w.importBytes(w.cs, data, "m.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.columns")
		var got []string
		for _, p := range rep.ColumnProblems {
			got = append(got, p.Field+" "+p.Reason+" "+p.Header)
		}
		want := []string{"name sheet.column.missing ", "document_number sheet.column.missing ", "phone sheet.column.ambiguous 联系电话 / 手机号",
			"building sheet.column.missing ", "house sheet.column.missing "}
		if !slices.Equal(got, want) || !slices.Equal(rep.Headers, []string{"居民", "号码", "楼", "房", "联系电话", "手机号"}) {
			t.Fatalf("column problems: %q\nheaders: %q", got, rep.Headers)
		}
		if w.counts(t)["residents"] != 0 {
			t.Fatal("written")
		}
		mapping := map[string]string{"name": "居民", "document_number": "号码", "building": "楼", "house": "房", "phone": "手机号"}
		rep, err = w.importBytes(w.cs, data, "m.csv", people.ImportOptions{Mapping: mapping})
		if err != nil || rep.Imported != 1 || rep.Mapping["phone"] != "手机号" {
			t.Fatalf("%v %+v", err, rep)
		}
		rs, _ := w.svc.Search(w.ctx, w.cs, people.Filter{Phone: "13900000001"})
		if len(rs) != 1 || rs[0].Name != "赵六" {
			t.Fatalf("mapped phone: %+v", rs)
		}
		// A header the sheet does not have is a column problem too.
		_, err = w.importBytes(w.cs, data, "m.csv", people.ImportOptions{Mapping: map[string]string{"name": "姓名"}})
		wantCode(t, err, errs.Invalid, "people.import.columns")
	})
}

func TestImportGroupsRowsIntoHouseholds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		// A household registered before the import, in house 105.
		h, err := w.svc.AddHouse(w.ctx, w.cs, people.NewHouse{BuildingID: w.b1.ID, Unit: "1", Number: "105"})
		if err != nil {
			t.Fatal(err)
		}
		existing, err := w.svc.AddResident(w.ctx, w.cs, people.NewResident{HouseID: h.ID, Name: "老住户", DocumentNumber: impID(30, false)})
		if err != nil {
			t.Fatal(err)
		}
		n := 40
		row := func(name, house, rel string) []string {
			n++
			return []string{name, impID(n, n%2 == 0), "中南一路1号", "1", house, rel}
		}
		data := csvFile(t, [][]string{
			{"姓名", "证件号码", "楼栋地址", "单元", "门牌号", "与户主关系"},
			row("甲", "101", "户主"), row("乙", "101", "配偶"), row("丙", "101", "子女"),
			row("丁", "102", ""), row("戊", "102", ""), // no relations: the first is the head
			row("己", "103", "子女"), row("庚", "103", "户主"), // the head listed after a member
			row("辛", "104", "户主"), row("壬", "104", "配偶"), row("癸", "104", "户主"), row("子", "104", "子女"), // two households
			row("丑", "105", "其他"),  // joins the registered household
			row("寅", "101室", "父母"), // house 101 again, further down: joins 甲's household
		})
		rep, err := w.importBytes(w.cs, data, "hh.csv", people.ImportOptions{})
		if err != nil {
			t.Fatalf("%v %v", err, problemLines(rep.Problems))
		}
		if rep.Imported != 13 || rep.Households != 5 || rep.Houses != 4 {
			t.Fatalf("report: %+v", rep)
		}
		rows, err := d.QueryContext(w.ctx, `SELECT r.name, r.relation, r.household_id, COALESCE(hh.head_id, 0), r.id, h.number
			FROM residents r JOIN households hh ON hh.id = r.household_id JOIN houses h ON h.id = hh.house_id ORDER BY r.id`)
		if err != nil {
			t.Fatal(err)
		}
		type member struct {
			relation, house string
			household       int64
			head            bool
		}
		got := map[string]member{}
		for rows.Next() {
			var name, rel, house string
			var hh, head, id int64
			if err := rows.Scan(&name, &rel, &hh, &head, &id, &house); err != nil {
				t.Fatal(err)
			}
			got[name] = member{rel, house, hh, head == id}
		}
		rows.Close()
		same := func(names ...string) {
			t.Helper()
			for _, nm := range names[1:] {
				if got[nm].household != got[names[0]].household {
					t.Errorf("%s and %s are in different households: %+v %+v", names[0], nm, got[names[0]], got[nm])
				}
			}
		}
		same("甲", "乙", "丙", "寅")
		same("丁", "戊")
		same("己", "庚")
		same("辛", "壬")
		same("癸", "子")
		same("老住户", "丑")
		for _, pair := range [][2]string{{"甲", "丁"}, {"丁", "己"}, {"辛", "癸"}, {"己", "辛"}} {
			if got[pair[0]].household == got[pair[1]].household {
				t.Errorf("%s and %s share a household", pair[0], pair[1])
			}
		}
		for name, want := range map[string]struct {
			rel  people.Relation
			head bool
		}{
			"甲": {people.Head, true}, "乙": {people.Spouse, false}, "寅": {people.Parent, false},
			"丁": {people.Head, true}, "戊": {people.Other, false},
			"己": {people.Child, false}, "庚": {people.Head, true},
			"辛": {people.Head, true}, "癸": {people.Head, true}, "子": {people.Child, false},
			"丑": {people.Other, false}, "老住户": {people.Head, true},
		} {
			if m := got[name]; m.relation != string(want.rel) || m.head != want.head {
				t.Errorf("%s: %+v, want relation %s head %v", name, m, want.rel, want.head)
			}
		}
		if got["寅"].house != "101" || got["丑"].household != existing.HouseholdID {
			t.Errorf("house numbers: %+v", got)
		}
	})
}

func TestImportChecksEachKindOfValue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		header := []string{"姓名", "证件类型", "证件号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋", "门牌号", "楼层", "与户主关系", "入住日期", "标签"}
		row := func(n int, change func(r []string)) []string {
			id := impID(100+n, false)
			r := []string{"测试", "", id, "", "", "", "", "中南一路1号", fmt.Sprint(100 + n), "", "", "", ""}
			change(r)
			return r
		}
		rows := [][]string{header,
			row(1, func(r []string) { r[4] = "1950年1月1日"; r[2] = impID(0, false) }),                  // 2: good, Chinese date
			row(2, func(r []string) { r[1], r[2], r[3], r[4] = "护照", "E12345678", "女", "1988/2/3" }), // 3: good passport
			row(3, func(r []string) { r[1] = "驾驶证" }),                                                // 4
			row(4, func(r []string) { r[3] = "未知" }),                                                 // 5
			row(5, func(r []string) { r[4] = "1950-02-30" }),                                         // 6
			row(6, func(r []string) { r[6] = "常住" }),                                                 // 7
			row(7, func(r []string) { r[9] = "三楼" }),                                                 // 8
			row(8, func(r []string) { r[10] = "邻居" }),                                                // 9
			row(9, func(r []string) { r[11] = "2099-01-01" }),                                        // 10
			row(10, func(r []string) { r[12] = "低保对象、贵宾" }),                                          // 11
			row(11, func(r []string) { r[12] = "aged_60_plus" }),                                     // 12
			row(12, func(r []string) { r[0] = "" }),                                                  // 13
			row(13, func(r []string) { r[8] = "" }),                                                  // 14
			row(14, func(r []string) { r[0] = "名\x00字" }),                                            // 15
			row(15, func(r []string) { r[7] = "丁字桥路9号" }),                                            // 16: outside the scope
			row(16, func(r []string) {
				r[1], r[2], r[3], r[4] = "护照", "E12345678", "男", "1980-01-01"
				r[0] = "重复护照"
			}), // 17: same passport as line 3
		}
		rep, err := w.importBytes(w.cs, csvFile(t, rows), "k.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.rejected")
		want := []string{
			"4 证件类型 people.document.kind",
			"5 性别 people.gender.unknown",
			"6 出生日期 people.date.invalid",
			"7 户籍类型 people.registration.unknown",
			"8 楼层 people.import.floor",
			"9 与户主关系 people.relation.unknown",
			"10 入住日期 people.date.invalid",
			"11 标签 people.tag.unknown",
			"12 标签 people.tag.derived",
			"13 姓名 error.field.required",
			"14 门牌号 error.field.required",
			"15 姓名 people.import.nul",
			"16 楼栋 people.import.building_unknown",
			"17 证件号码 people.import.duplicate_in_file 3",
		}
		if got := problemLines(rep.Problems); !slices.Equal(got, want) {
			t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Valid != 2 {
			t.Fatalf("valid: %d", rep.Valid)
		}
	})
}

func TestImportIsLimitedToTheImportersScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		data := csvFile(t, [][]string{
			{"姓名", "身份证号", "楼栋", "门牌号"},
			{"一", impID(50, false), "中南一路1号", "101"},
			{"三", impID(51, false), "3号楼", "301"},
		})
		// Street staff read the registry but may not write it anywhere.
		_, err := w.importBytes(w.street, data, "s.csv", people.ImportOptions{})
		wantCode(t, err, errs.Forbidden, "error.forbidden")
		// A grid worker of grids 1 and 2 does not see grid 3's building.
		rep, err := w.importBytes(w.gw, data, "s.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.rejected")
		if got := problemLines(rep.Problems); !slices.Equal(got, []string{"3 楼栋 people.import.building_unknown"}) {
			t.Fatalf("problems: %v", got)
		}
		// Community staff may write in all of Community Y.
		if rep, err := w.importBytes(w.cs, data, "s.csv", people.ImportOptions{}); err != nil || rep.Imported != 2 {
			t.Fatalf("%v %+v", err, rep)
		}
	})
}

func TestImportDryRunWritesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		w := newImpWorld(t, d)
		data := csvFile(t, [][]string{{"姓名", "身份证号", "楼栋", "门牌号"}, {"一", impID(60, false), "中南一路1号", "101"}})
		before := w.counts(t)
		rep, err := w.importBytes(w.console, data, "d.csv", people.ImportOptions{DryRun: true})
		if err != nil || rep.Valid != 1 || rep.Imported != 0 || !rep.DryRun {
			t.Fatalf("%v %+v", err, rep)
		}
		if after := w.counts(t); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("a dry run changed the database: %v → %v", before, after)
		}
		// A file with a header and no rows is refused; so is one that is
		// not a sheet, with the sheet's reason.
		_, err = w.importBytes(w.console, csvFile(t, [][]string{{"姓名", "身份证号", "楼栋", "门牌号"}}), "e.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "people.import.no_rows")
		_, err = w.importBytes(w.console, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 old excel"), "e.xls", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "sheet.error.xls")
		// A quote that is never closed stops the reading at its row.
		rep, err = w.importBytes(w.console, []byte("姓名,身份证号,楼栋,门牌号\n一,"+impID(61, false)+",中南一路1号,101\n\"二,x,y,z\n"), "q.csv", people.ImportOptions{})
		wantCode(t, err, errs.Invalid, "sheet.error.quote")
		if got := problemLines(rep.Problems); !slices.Equal(got, []string{"3  sheet.error.quote"}) {
			t.Fatalf("problems: %v", got)
		}
	})
}

func TestImportReportIsLocalized(t *testing.T) {
	rep := people.ImportReport{Problems: []people.RowProblem{{Line: 6, Reason: "people.import.duplicate_in_file", Other: 2}, {Line: 7, Reason: "people.phone.format"}}}
	rep.Localize(func(key string, args ...any) string { return fmt.Sprint(key, args) })
	if rep.Problems[0].Message != "people.import.duplicate_in_file[2]" || rep.Problems[1].Message != "people.phone.format[]" {
		t.Fatalf("%+v", rep.Problems)
	}
}

// raceEnabled reports whether the test binary runs under the race
// detector, which makes the database ten times slower.
func raceEnabled() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return true
			}
		}
	}
	return false
}

// writeRegister writes n valid rows for the import benchmarks and memory
// test: the residents of houses of 2–3 people in the buildings named, with
// a column of notes that the import ignores (it makes the file as large as
// a real register without adding anything the import keeps).
func writeRegister(t testing.TB, w io.Writer, n int, buildings []string) {
	t.Helper()
	bw := csv.NewWriter(w)
	if err := bw.Write([]string{"姓名", "公民身份号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋地址", "单元", "门牌号", "楼层", "与户主关系", "入住日期", "标签", "备注"}); err != nil {
		t.Fatal(err)
	}
	rels := []string{"户主", "配偶", "子女"}
	note := strings.Repeat("网格员走访记录：情况正常，", 6)
	for i := range n {
		id := registerID(i)
		house := i / 3
		b := buildings[house%len(buildings)]
		unit := fmt.Sprint(1 + house/len(buildings)%4)
		number := fmt.Sprintf("%d%02d", 1+house/len(buildings)/4%30, 1+house/len(buildings)/120)
		gender := "男"
		if (id[16]-'0')%2 == 0 {
			gender = "女"
		}
		tags := ""
		if i%50 == 0 {
			tags = "残疾人"
		}
		if err := bw.Write([]string{fmt.Sprintf("居民%07d", i), id, gender, birthOf(id), fmt.Sprintf("138%08d", i), "户籍", b, unit, number,
			fmt.Sprint(1 + house/len(buildings)%30), rels[i%3], "2021-05-01", tags, note}); err != nil {
			t.Fatal(err)
		}
	}
	bw.Flush()
	if err := bw.Error(); err != nil {
		t.Fatal(err)
	}
}

// registerID is the identity number of row i of a generated register:
// distinct for i below 3,000,000.
func registerID(i int) string {
	birth := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%30000)
	regions := []string{"420106", "420102", "420111", "110105", "310104"}
	return people.GenerateIDNumber(regions[i/30000%5], birth, i/150000%2 == 1, i/300000*37+i/30000%5)
}

// addBuildings adds n buildings in grid 1 and returns their addresses.
func addBuildings(t testing.TB, terr *territory.Service, n int) []string {
	t.Helper()
	var in []territory.NewBuilding
	var addrs []string
	for i := range n {
		a := fmt.Sprintf("中南二路%d号", i+1)
		in = append(in, territory.NewBuilding{Name: fmt.Sprintf("二路%d栋", i+1), Address: a, Lng: 114.3003, Lat: 30.5507})
		addrs = append(addrs, a)
	}
	if _, err := terr.AddBuildings(context.Background(), auth.SystemActorAs("t", auth.DistrictAdmin), in); err != nil {
		t.Fatal(err)
	}
	return addrs
}

// heapSampler records the largest live heap seen while it runs: HeapInuse
// right after a collection, every 100 ms. Forcing the collection measures
// what the import keeps, not garbage the collector has yet to free.
type heapSampler struct {
	peak atomic.Uint64
	stop chan struct{}
	wg   sync.WaitGroup
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{stop: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.HeapInuse > s.peak.Load() {
		s.peak.Store(m.HeapInuse)
	}
}

// Stop ends the sampling and returns the peak in bytes.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	s.wg.Wait()
	return s.peak.Load()
}

func TestImportStreamsInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and imports a register of 200,000 rows")
	}
	rows := 200_000
	if raceEnabled() {
		rows = 20_000 // the race detector slows SQLite tenfold; the bound below still holds
	}
	d := dbtest.Open(t, db.SQLite)
	w := newImpWorld(t, d)
	addrs := addBuildings(t, w.terr, 200)
	path := filepath.Join(t.TempDir(), "register.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	writeRegister(t, f, rows, addrs)
	size, _ := f.Seek(0, io.SeekEnd)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	s := startHeapSampler()
	rep, err := w.svc.Import(w.ctx, w.console, f, size, "register.csv", people.ImportOptions{})
	peak := s.Stop()
	f.Close()
	if err != nil {
		t.Fatalf("%v %v", err, problemLines(rep.Problems))
	}
	// Each house has three rows, the head first: one household each, also
	// after the house cache (50,000 houses) was emptied on the way.
	houses := (rows + 2) / 3
	if rep.Imported != rows || rep.Houses != houses || rep.Households != houses {
		t.Fatalf("imported %d of %d rows, %d houses, %d households; want %d", rep.Imported, rows, rep.Houses, rep.Households, houses)
	}
	if c := w.counts(t); c["houses"] != houses || c["households"] != houses {
		t.Fatalf("stored: %v", c)
	}
	// What the import may keep: the duplicate set (20 B a row), the house
	// cache and the batches, a few MB. 24 MB over the starting heap leaves
	// room for the runtime, and is far below the file (about 290 B a row,
	// 58 MB at 200,000 rows): an import that held the file, or a slice of
	// its rows, would fail it.
	const bound = 24 << 20
	grew := int64(peak) - int64(base.HeapInuse)
	t.Logf("%d rows, file %.1f MB, heap at start %.1f MB, peak %.1f MB (+%.1f MB)", rows, float64(size)/(1<<20),
		float64(base.HeapInuse)/(1<<20), float64(peak)/(1<<20), float64(grew)/(1<<20))
	if grew > bound {
		t.Fatalf("the import's heap grew by %.1f MB, more than %d MB", float64(grew)/(1<<20), bound>>20)
	}
	if !raceEnabled() && grew > size/2 {
		t.Fatalf("the import's heap grew by %d bytes for a file of %d", grew, size)
	}
}

// FuzzImportDryRun feeds arbitrary files to a dry-run import: whatever the
// bytes, the answer is a report or an invalid-file error, never a crash or
// an internal error, and the report is consistent.
func FuzzImportDryRun(f *testing.F) {
	f.Add(badFile(f), "a.csv")
	f.Add([]byte("姓名,身份证号,楼栋,门牌号\n一,"+impID(1, false)+",中南一路1号,101\n"), "b.csv")
	f.Add([]byte("Name\tID number\tBuilding\tHouse\tBirth date\tFloor\n二\t"+impID(2, true)+"\t1号楼\t1\t2024年2月30日\t3楼\n"), "c.txt")
	f.Add([]byte("姓名;证件号码;楼栋;门牌号;标签\n\"三\";\"x\";\"\";'101;残疾人，，、vip\n"), "d.csv")
	f.Add([]byte("PK\x03\x04 not really a zip"), "e.xlsx")
	w := newImpWorld(f, dbtest.Open(f, db.SQLite))
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		rep, err := w.importBytes(w.cs, data, name, people.ImportOptions{DryRun: true})
		if err != nil && !errs.Is(err, errs.Invalid) {
			t.Fatalf("%v", err)
		}
		if rep.Valid > rep.Rows || rep.Imported != 0 || len(rep.Problems) > 1000 {
			t.Fatalf("report: %+v", rep)
		}
		if !slices.IsSortedFunc(rep.Problems, func(a, b people.RowProblem) int { return a.Line - b.Line }) {
			t.Fatalf("problems out of order: %v", problemLines(rep.Problems))
		}
	})
}
