package web

import (
	"bytes"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
)

// multipartPost posts a multipart form as a browser would, with a file
// under "file" unless fileName is "".
func (b *browser) multipartPost(target string, fields url.Values, fileName string, content []byte) response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if fileName != "" {
		fw, _ := mw.CreateFormFile("file", fileName)
		fw.Write(content)
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, target, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

// importID is a valid identity number for the import tests.
func importID(n int, female bool) string {
	return people.GenerateIDNumber("420106", time.Date(1985, 5, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n), female, 100+n)
}

// importCSV is a register whose "居民" and "楼" columns are not recognised
// automatically, with good rows on lines 2 and 7 and one bad row of each
// kind between them.
func importCSV(t *testing.T) ([]byte, []string) {
	t.Helper()
	good1, good2 := importID(1, true), importID(2, false)
	wrongCheck := importID(3, false)
	wrongCheck = wrongCheck[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", wrongCheck[17])+1)%11])
	rows := [][]string{
		{"居民", "公民身份号码", "联系电话", "楼", "单元", "门牌号", "与户主关系"},
		{"赵一", good1, "13800000001", "中南一路1号", "1", "301", "户主"},
		{"钱二", wrongCheck, "", "中南一路1号", "1", "302", "户主"},
		{"孙三", importID(4, true), "12345", "中南一路1号", "1", "303", "户主"},
		{"李四", good1, "", "中南一路1号", "1", "304", "户主"},
		{"周五", importID(5, false), "", "不存在路99号", "1", "305", "户主"},
		{"吴六", good2, "13800000002", "1号楼", "1", "306", "户主"},
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), []string{good1, good2, wrongCheck, importID(4, true), importID(5, false), "13800000001", "13800000002"}
}

// importMapping is the mapping the user chooses for importCSV.
func importMapping(csrf, step string, validOnly bool) url.Values {
	v := url.Values{"csrf": {csrf}, "step": {step}}
	for _, f := range people.ImportFields {
		v.Set("map."+f.Key, "")
	}
	for k, h := range map[string]string{"name": "居民", "document_number": "公民身份号码", "phone": "联系电话", "building": "楼",
		"unit": "单元", "house": "门牌号", "relation": "与户主关系"} {
		v.Set("map."+k, h)
	}
	if validOnly {
		v.Set("valid_only", "on")
	}
	return v
}

func TestImportGoesThroughTheColumnsToTheReport(t *testing.T) {
	e := newPeopleEnv(t)
	data, numbers := importCSV(t)
	noNumbers := func(t *testing.T, res response) {
		t.Helper()
		for _, n := range numbers {
			if strings.Contains(res.Body, n) {
				t.Fatalf("the import page shows %s", n)
			}
		}
	}
	b := e.as("cs", i18n.English)
	en := func(key string, args ...any) string { return e.bundle.T(i18n.English, key, args...) }

	res := b.get("/people/import")
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `enctype="multipart/form-data"`)
	wantHTML(t, res, `value="columns"`)

	// Step 2: the columns found automatically are chosen; the others are
	// listed as problems to settle.
	res = b.multipartPost("/people/import", url.Values{"csrf": {b.csrf()}, "step": {"columns"}}, "登记表.csv", data)
	wantStatus(t, res, http.StatusOK)
	noNumbers(t, res)
	wantText(t, res, en("registry.import.column_problems", 2))
	wantText(t, res, en("sheet.column.missing"))
	wantHTML(t, res, `<select id="map-name" name="map.name">`)
	wantHTML(t, res, `<option value="公民身份号码" selected>`)
	wantHTML(t, res, `<option value="居民">`)
	wantText(t, res, en("registry.import.file.again", "登记表.csv"))
	if strings.Contains(res.Body, `class="alert"`) {
		t.Error("the columns step reports its findings as a failure")
	}

	// Step 3: a check with the chosen columns lists every bad row with its
	// reason, in the user's language, and writes nothing.
	res = b.multipartPost("/people/import", importMapping(b.csrf(), "check", false), "登记表.csv", data)
	wantStatus(t, res, http.StatusBadRequest)
	noNumbers(t, res)
	wantText(t, res, en("registry.import.problems", 4))
	for _, want := range []struct {
		line   int
		column string
		reason string
	}{
		{3, "公民身份号码", en("people.id.check")},
		{4, "联系电话", en("people.phone.format")},
		{5, "公民身份号码", en("people.import.duplicate_in_file", 2)},
		{6, "楼", en("people.import.building_unknown")},
	} {
		wantHTML(t, res, `<span class="problem-where">`+escaped(en("registry.import.line", want.line))+` · `+escaped(en("registry.import.column", want.column))+`</span>
      <span class="problem-reason">`+escaped(want.reason)+`</span>`)
	}
	if rs, _ := e.people.Search(t.Context(), auth.SystemActorAs("test", auth.CommunityStaff), people.Filter{Name: "赵一"}); len(rs) != 0 {
		t.Fatal("the check wrote residents")
	}
	zh := e.as("cs", i18n.Chinese)
	res = zh.multipartPost("/people/import", importMapping(zh.csrf(), "check", false), "登记表.csv", data)
	wantText(t, res, e.bundle.T(i18n.Chinese, "people.id.check"))
	wantText(t, res, e.bundle.T(i18n.Chinese, "registry.import.line", 3))

	// Without "valid rows only", an import with bad rows writes nothing.
	res = b.multipartPost("/people/import", importMapping(b.csrf(), "import", false), "登记表.csv", data)
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, en("people.import.rejected", 4))

	// With it, the two good rows are imported.
	res = b.multipartPost("/people/import", importMapping(b.csrf(), "import", true), "登记表.csv", data)
	wantStatus(t, res, http.StatusOK)
	noNumbers(t, res)
	wantText(t, res, en("registry.import.imported", "登记表.csv", 2, 2))
	rs, err := e.people.Search(t.Context(), auth.SystemActorAs("test", auth.CommunityStaff), people.Filter{Name: "吴六"})
	if err != nil || len(rs) != 1 {
		t.Fatalf("imported: %+v %v", rs, err)
	}
}

func TestImportAsksForTheFileAgain(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("cs", i18n.English)
	res := b.multipartPost("/people/import", url.Values{"csrf": {b.csrf()}, "step": {"columns"}}, "", nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "registry.import.file.required"))
	// In the later steps the chosen columns are kept.
	form := importMapping(b.csrf(), "check", false)
	form["header"] = []string{"居民", "公民身份号码", "楼"}
	res = b.multipartPost("/people/import", form, "", nil)
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "registry.import.file.required"))
	wantHTML(t, res, `<option value="居民" selected>`)
	// A file that is not a spreadsheet goes back to the first step.
	res = b.multipartPost("/people/import", url.Values{"csrf": {b.csrf()}, "step": {"columns"}}, "old.xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 Excel 97"))
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "sheet.error.xls"))
	wantHTML(t, res, `value="columns"`)
}

func TestImportNeedsTheRightToWriteTheRegistry(t *testing.T) {
	e := newPeopleEnv(t)
	data, _ := importCSV(t)
	for _, user := range []string{"district", "auditor"} {
		b := e.as(user, i18n.English)
		wantStatus(t, b.get("/people/import"), http.StatusForbidden)
		wantStatus(t, b.multipartPost("/people/import", importMapping(b.csrf(), "import", true), "a.csv", data), http.StatusForbidden)
	}
	if strings.Contains(e.as("district", i18n.English).get("/").Body, `href="/people/import"`) {
		t.Error("the district administrator is offered the import")
	}
}

// A file whose columns are all recognised is checked at once: the columns
// step already says how many rows are valid.
func TestImportColumnsStepPreviewsTheRows(t *testing.T) {
	e := newPeopleEnv(t)
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll([][]string{
		{"姓名", "身份证号", "楼栋", "门牌号"},
		{"赵一", importID(1, true), "1号楼", "301"},
		{"钱二", "123", "1号楼", "302"},
	})
	b := e.as("cs", i18n.English)
	res := b.multipartPost("/people/import", url.Values{"csrf": {b.csrf()}, "step": {"columns"}}, "a.csv", buf.Bytes())
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, e.bundle.T(i18n.English, "registry.import.preview", 2, 1))
	wantHTML(t, res, `<option value="姓名" selected>`)
	if strings.Contains(res.Body, `class="problems"`) {
		t.Error("the columns step lists problems although every column was found")
	}
}
