package sheet_test

import (
	"archive/zip"
	"bytes"
	"fmt"
	"hash/crc32"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gridhall/gridhall/internal/sheet"
)

// serial is a date as Excel stores it: days since 30 December 1899.
func serial(t time.Time) float64 {
	return t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24
}

// workbook builds an XLSX file; fill gets the workbook with its first sheet
// named "居民".
func workbook(t testing.TB, fill func(f *excelize.File)) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "居民"); err != nil {
		t.Fatal(err)
	}
	fill(f)
	var b bytes.Buffer
	if err := f.Write(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func style(t testing.TB, f *excelize.File, s *excelize.Style) int {
	t.Helper()
	id, err := f.NewStyle(s)
	must(t, err)
	return id
}

func TestXLSXReadsCellsAsTheyAreShownAndDatesAsISO(t *testing.T) {
	birth := time.Date(1950, 3, 8, 0, 0, 0, 0, time.UTC)
	moveIn := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("居民", "A1", &[]any{"姓名", "出生日期", "入住日期", "户籍登记日期", "登记时间", "到访时刻", "人数", "面积", "联系电话", "身份证号", "备注", ""}))
		must(t, f.SetSheetRow("居民", "A2", &[]any{" 张伟 ", serial(birth), serial(moveIn), serial(birth), serial(moveIn) + 0.75, 0.75, 3, 86.5, 13812345678, "11010519491231002X", "2024/3/5"}))
		// Row 3 is missing from the file; row 4 is ragged, row 5 only spaces,
		// row 6 runs past the header.
		must(t, f.SetCellValue("居民", "A4", "王芳"))
		must(t, f.SetCellValue("居民", "C4", serial(moveIn.AddDate(0, 0, 1))))
		must(t, f.SetSheetRow("居民", "A5", &[]any{"  ", " "}))
		must(t, f.SetSheetRow("居民", "A6", &[]any{"李秀英", serial(time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC))}))
		must(t, f.SetCellValue("居民", "M6", "多余"))
		must(t, f.SetColStyle("居民", "B", style(t, f, &excelize.Style{NumFmt: 14})))                                   // m/d/yy, shown as yyyy/m/d by Chinese Excel
		must(t, f.SetCellStyle("居民", "C2", "C6", style(t, f, &excelize.Style{CustomNumFmt: ptr(`yyyy"年"m"月"d"日"`)}))) // a template's own format
		must(t, f.SetCellStyle("居民", "D2", "D2", style(t, f, &excelize.Style{NumFmt: 31})))                           // built-in yyyy"年"m"月"d"日"
		must(t, f.SetCellStyle("居民", "E2", "E2", style(t, f, &excelize.Style{NumFmt: 22})))                           // m/d/yy h:mm
		must(t, f.SetCellStyle("居民", "F2", "F2", style(t, f, &excelize.Style{CustomNumFmt: ptr("h:mm")})))            // a time of day stays one
		must(t, f.SetCellStyle("居民", "H2", "H2", style(t, f, &excelize.Style{NumFmt: 2})))                            // 0.00
		// A second sheet, made active: the first sheet is still the one read.
		_, err := f.NewSheet("说明")
		must(t, err)
		must(t, f.SetCellValue("说明", "A1", "填表说明"))
		f.SetActiveSheet(1)
	})
	header, rows := readAll(t, data, "居民.xlsx")
	if want := []string{"姓名", "出生日期", "入住日期", "户籍登记日期", "登记时间", "到访时刻", "人数", "面积", "联系电话", "身份证号", "备注"}; !reflect.DeepEqual(header, want) {
		t.Errorf("header %q, want %q", header, want)
	}
	want := []row{
		{2, []string{"张伟", "1950-03-08", "2024-03-05", "1950-03-08", "2024-03-05 18:00:00", "18:00", "3", "86.50", "13812345678", "11010519491231002X", "2024/3/5"}},
		{4, []string{"王芳", "", "2024-03-06", "", "", "", "", "", "", "", ""}},
		{6, []string{"李秀英", "2000-02-29", "", "", "", "", "", "", "", "", ""}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}
}

func ptr[T any](v T) *T { return &v }

func TestXLSXHeaderBelowEmptyRowsKeepsExcelRowNumbers(t *testing.T) {
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("居民", "B3", &[]any{"姓名", "电话"}))
		must(t, f.SetSheetRow("居民", "B4", &[]any{"张伟", "13812345678"}))
		must(t, f.SetSheetRow("居民", "B7", &[]any{"王芳"}))
	})
	// Column A is empty: it has no name, so the header starts with an empty
	// column, which is refused.
	if e := readErr(t, data, "a.xlsx"); e == nil || e.Key != sheet.ErrKeyHeaderEmpty || e.Line != 3 || e.Column != 1 {
		t.Errorf("error %v, want header_empty at line 3 column 1", e)
	}
	data = workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("居民", "A3", &[]any{"姓名", "电话"}))
		must(t, f.SetSheetRow("居民", "A4", &[]any{"张伟", "13812345678"}))
		must(t, f.SetSheetRow("居民", "A7", &[]any{"王芳"}))
	})
	_, rows := readAll(t, data, "a.xlsx")
	if want := []row{{4, []string{"张伟", "13812345678"}}, {7, []string{"王芳", ""}}}; !reflect.DeepEqual(rows, want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
}

func TestXLSXLargeSharedStringTable(t *testing.T) {
	// Past 1 MiB the shared strings are read from a temporary file rather than
	// memory: the values must come out the same. 10,000 rows of two distinct
	// strings of about 70 bytes make a table of 1.7 MiB.
	const n = 10_000
	id := func(i int) string {
		return fmt.Sprintf("GH-%06d-湖北省武汉市洪山区珞喻路社区居民登记编号", i)
	}
	name := func(i int) string {
		return fmt.Sprintf("居民%06d号，住址湖北省武汉市洪山区珞喻路%d号", i, i)
	}
	data := workbook(t, func(f *excelize.File) {
		must(t, f.SetSheetRow("居民", "A1", &[]any{"编号", "姓名"}))
		for i := range n {
			must(t, f.SetSheetRow("居民", fmt.Sprintf("A%d", i+2), &[]any{id(i), name(i)}))
		}
	})
	_, rows := readAll(t, data, "a.xlsx")
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		if want := (row{i + 2, []string{id(i), name(i)}}); !reflect.DeepEqual(r, want) {
			t.Fatalf("row %v, want %v", r, want)
		}
	}
}

func TestXLSXErrors(t *testing.T) {
	long := strings.Repeat("x", sheet.MaxCellBytes+1)
	cases := []struct {
		name   string
		data   []byte
		key    string
		line   int
		column int
		header string
	}{
		{"empty workbook", workbook(t, func(*excelize.File) {}), sheet.ErrKeyEmpty, 0, 0, ""},
		{"duplicate column", workbook(t, func(f *excelize.File) {
			must(t, f.SetSheetRow("居民", "A1", &[]any{"姓名", "电话", "姓名"}))
		}), sheet.ErrKeyHeaderDuplicate, 1, 3, "姓名"},
		{"long cell", workbook(t, func(f *excelize.File) {
			must(t, f.SetSheetRow("居民", "A1", &[]any{"姓名", "备注"}))
			must(t, f.SetSheetRow("居民", "A5", &[]any{"张伟", long}))
		}), sheet.ErrKeyCellTooLong, 5, 2, "备注"},
		{"zip bomb", zipBomb(t), sheet.ErrKeyTooLarge, 0, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := readErr(t, c.data, "a.xlsx")
			if e == nil {
				t.Fatal("no error")
			}
			if e.Key != c.key || e.Line != c.line || e.Column != c.column || e.Header != c.header {
				t.Errorf("error %+v, want key %s line %d column %d header %q", e, c.key, c.line, c.column, c.header)
			}
		})
	}
}

// zipWith returns a zip archive holding the named files.
func zipWith(t testing.TB, names ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, n := range names {
		w, err := z.Create(n)
		must(t, err)
		_, err = w.Write([]byte("<x/>"))
		must(t, err)
	}
	must(t, z.Close())
	return b.Bytes()
}

// zipBomb returns a workbook whose directory claims a sheet of 3 GiB (the
// claim is all Open looks at before refusing it).
func zipBomb(t testing.TB) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, name := range []string{"xl/workbook.xml", "xl/worksheets/sheet1.xml"} {
		h := &zip.FileHeader{Name: name, Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte("x")), CompressedSize64: 1, UncompressedSize64: 1}
		if strings.HasSuffix(name, "sheet1.xml") {
			h.UncompressedSize64 = 3 << 30
		}
		w, err := z.CreateRaw(h)
		must(t, err)
		_, err = w.Write([]byte("x"))
		must(t, err)
	}
	must(t, z.Close())
	return b.Bytes()
}
