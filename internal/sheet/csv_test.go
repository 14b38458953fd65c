package sheet_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"

	"github.com/gridhall/gridhall/internal/sheet"
)

var residents = [][]string{
	{"姓名", "公民身份号码", "性别", "联系电话", "楼栋", "门牌号"},
	{"张伟", "11010519491231002X", "男", "138 1234 5678", "3栋", "2-501"},
	{"王芳", "420106198506153724", "女", "027-87654321", "3栋", "2-502"},
	{"李秀英", "", "女", "", "12栋", "1-101"},
}

func encode(t *testing.T, enc encoding.Encoding, data []byte) []byte {
	t.Helper()
	out, err := enc.NewEncoder().Bytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func wantRows(records [][]string) []row {
	var rows []row
	for i, rec := range records[1:] {
		rows = append(rows, row{i + 2, rec})
	}
	return rows
}

func TestCSVEncodingsReadTheSameRows(t *testing.T) {
	plain := csvBytes(t, ',', residents)
	cases := []struct {
		name string
		data []byte
	}{
		{"UTF-8", plain},
		{"UTF-8 with BOM (Excel's CSV UTF-8)", append([]byte("\xEF\xBB\xBF"), plain...)},
		{"GB18030 (Chinese Excel's CSV)", encode(t, simplifiedchinese.GB18030, plain)},
		{"GBK", encode(t, simplifiedchinese.GBK, plain)},
		{"UTF-16LE with BOM", encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), plain)},
		{"UTF-16BE with BOM", encode(t, unicode.UTF16(unicode.BigEndian, unicode.UseBOM), plain)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header, rows := readAll(t, c.data, "居民.csv")
			if !reflect.DeepEqual(header, residents[0]) {
				t.Errorf("header %q, want %q", header, residents[0])
			}
			if want := wantRows(residents); !reflect.DeepEqual(rows, want) {
				t.Errorf("rows\n%q\nwant\n%q", rows, want)
			}
		})
	}
}

func TestCSVGB18030IsFoundFarFromTheStart(t *testing.T) {
	// An English header and 5,000 ASCII rows before the first Chinese name:
	// the encoding is decided by the whole file, not its beginning.
	records := [][]string{{"name", "phone"}}
	for range 5000 {
		records = append(records, []string{"Zhang Wei", "13812345678"})
	}
	records = append(records, []string{"欧阳娜娜", "13912345678"})
	data := encode(t, simplifiedchinese.GB18030, csvBytes(t, ',', records))
	if bytes.IndexFunc(data[:64<<10], func(r rune) bool { return r >= utf8.RuneSelf }) >= 0 {
		t.Fatal("test file has non-ASCII bytes in its first 64 KiB")
	}
	_, rows := readAll(t, data, "people.csv")
	if last := rows[len(rows)-1]; last.Cells[0] != "欧阳娜娜" || last.Line != 5002 {
		t.Errorf("last row %q", last)
	}
}

func TestCSVInvalidBytesBecomeReplacementCharacters(t *testing.T) {
	// A UTF-8 BOM promises UTF-8; a broken byte does not turn it into GB18030.
	data := []byte("\xEF\xBB\xBF姓名,备注\r\n张\xFF三,好\r\n")
	_, rows := readAll(t, data, "a.csv")
	if got := rows[0].Cells[0]; got != "张\uFFFD三" {
		t.Errorf("cell %q", got)
	}
}

func TestCSVDelimiterFollowsTheHeader(t *testing.T) {
	records := [][]string{
		{"姓名", "地址", "备注"},
		{"张伟", "洪山区, 珞喻路 1 号", "a;b"},
		{"王芳", "武昌区", "c\td"},
	}
	cases := []struct {
		name  string
		comma rune
	}{
		{"comma", ','},
		{"tab (Excel text export)", '\t'},
		{"semicolon", ';'},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			header, rows := readAll(t, csvBytes(t, c.comma, records), "a.txt")
			if !reflect.DeepEqual(header, records[0]) || !reflect.DeepEqual(rows, wantRows(records)) {
				t.Errorf("read %q %q", header, rows)
			}
		})
	}
	t.Run("Unicode text from Excel: UTF-16LE, tabs", func(t *testing.T) {
		data := encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), csvBytes(t, '\t', records))
		header, rows := readAll(t, data, "居民.txt")
		if !reflect.DeepEqual(header, records[0]) || !reflect.DeepEqual(rows, wantRows(records)) {
			t.Errorf("read %q %q", header, rows)
		}
	})
	t.Run("text exported as .xls", func(t *testing.T) {
		header, _ := readAll(t, csvBytes(t, '\t', records), "导出.xls")
		if !reflect.DeepEqual(header, records[0]) {
			t.Errorf("header %q", header)
		}
	})
}

func TestCSVLinesAreSpreadsheetRows(t *testing.T) {
	data := strings.Join([]string{
		"", // a blank line before the header is row 1
		" 姓名 ,地址,电话,,",
		`张伟,"洪山区`,
		`珞喻路 1 号",13812345678`, // rows 3, spread over two lines
		`王芳,"他说""你好""",`,       // row 4
		"",                     // row 5, blank
		",,",                   // row 6, only empty cells
		"  ,\t, ",              // row 7, only spaces
		"李秀英",                  // row 8, short
		`赵磊,"a`,
		``,
		`b",1,extra,cells`, // row 9, with a blank line inside a quoted cell, and too long
		"孙丽,\"\",\"\"",     // row 10
	}, "\r\n") + "\r\n"
	header, rows := readAll(t, []byte(data), "a.csv")
	if want := []string{"姓名", "地址", "电话"}; !reflect.DeepEqual(header, want) {
		t.Errorf("header %q, want %q", header, want)
	}
	want := []row{
		{3, []string{"张伟", "洪山区\n珞喻路 1 号", "13812345678"}},
		{4, []string{"王芳", `他说"你好"`, ""}},
		{8, []string{"李秀英", "", ""}},
		{9, []string{"赵磊", "a\n\nb", "1"}},
		{10, []string{"孙丽", "", ""}},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("rows\n%q\nwant\n%q", rows, want)
	}
}

func TestCSVErrorsNameTheRowAndColumn(t *testing.T) {
	long := strings.Repeat("长", sheet.MaxCellBytes/3+1)
	many := make([]string, sheet.MaxColumns+1)
	for i := range many {
		many[i] = "列" + strings.Repeat("x", i%7) + string(rune('A'+i%26)) + strings.Repeat("y", i/26)
	}
	cases := []struct {
		name   string
		data   string
		key    string
		line   int
		column int
		header string
	}{
		{"empty file", "", sheet.ErrKeyEmpty, 0, 0, ""},
		{"only blank lines", "\r\n\r\n,,\r\n", sheet.ErrKeyEmpty, 0, 0, ""},
		{"only a BOM", "\xEF\xBB\xBF", sheet.ErrKeyEmpty, 0, 0, ""},
		{"duplicate column", "姓名,电话,姓名\r\n", sheet.ErrKeyHeaderDuplicate, 1, 3, "姓名"},
		{"duplicate column, other case and width", "Name,电话,ＮＡＭＥ\r\n", sheet.ErrKeyHeaderDuplicate, 1, 3, "ＮＡＭＥ"},
		{"duplicate column, spaces", "姓名,姓 名\r\n", sheet.ErrKeyHeaderDuplicate, 1, 2, "姓 名"},
		{"empty column name", "姓名,,电话\r\n", sheet.ErrKeyHeaderEmpty, 1, 2, ""},
		{"too many columns", strings.Join(many, ",") + "\r\n", sheet.ErrKeyTooManyColumns, 1, sheet.MaxColumns + 1, ""},
		{"long header cell", "姓名," + long + "\r\n", sheet.ErrKeyCellTooLong, 1, 2, ""},
		{"long cell", "姓名,备注\r\n张伟,短\r\n王芳," + long + "\r\n", sheet.ErrKeyCellTooLong, 3, 2, "备注"},
		{"bare quote", "姓名,备注\r\n张伟,5\"高\r\n", sheet.ErrKeyQuote, 2, 0, ""},
		{"text after a closing quote", "姓名,备注\r\n张伟,\"a\"b\r\n", sheet.ErrKeyQuote, 2, 0, ""},
		{"bad quote after a multi-line cell", "姓名,备注\r\n张伟,\"第一行\r\n第二行\"\r\n\r\n王芳,\"x\"y\r\n", sheet.ErrKeyQuote, 4, 0, ""},
		{"quote never closed", "姓名,备注\r\n张伟,好\r\n王芳,\"没有结束\r\n李四,好\r\n", sheet.ErrKeyQuote, 3, 0, ""},
		{"bad quote in the header", "姓名,\"备\"注\r\n", sheet.ErrKeyQuote, 1, 0, ""},
		{"runaway quote", "姓名,备注\r\n张伟,\"" + strings.Repeat("没有结束的引号\r\n", 200_000), sheet.ErrKeyRowTooLong, 2, 0, ""},
		{"runaway line", "姓名,备注\r\n" + strings.Repeat("x", 2<<20), sheet.ErrKeyRowTooLong, 2, 0, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := readErr(t, []byte(c.data), "a.csv")
			if e == nil {
				t.Fatal("no error")
			}
			if e.Key != c.key || e.Line != c.line || e.Column != c.column || e.Header != c.header {
				t.Errorf("error %+v, want key %s line %d column %d header %q", e, c.key, c.line, c.column, c.header)
			}
		})
	}
}

func TestOpenTellsFormatsApart(t *testing.T) {
	ole := []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0, 0, 0}
	cases := []struct {
		name, file string
		data       []byte
		key        string
	}{
		{"Excel 97–2003 workbook", "居民.xls", ole, sheet.ErrKeyXLS},
		{"encrypted workbook", "居民.xlsx", ole, sheet.ErrKeyXLS},
		{"text named .xlsx", "居民.xlsx", []byte("姓名,电话\r\n"), sheet.ErrKeyXLSX},
		{"zip that is no workbook", "居民.csv", zipWith(t, "word/document.xml"), sheet.ErrKeyXLSX},
		{"truncated zip", "居民.xlsx", zipWith(t, "xl/workbook.xml")[:30], sheet.ErrKeyXLSX},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := readErr(t, c.data, c.file)
			if e == nil || e.Key != c.key {
				t.Errorf("error %v, want %s", e, c.key)
			}
		})
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("姓名,电话\r\n张伟,138\r\n"))
	f.Add([]byte("\xEF\xBB\xBFa\tb\n1\t2\t3\n\n4"))
	f.Add([]byte("a,b\n\"x\ny\",\"q\"\"\"\n\"bad"))
	gb, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte("姓名;电话\n张伟;1\n"))
	f.Add(gb)
	f.Add([]byte("\xFF\xFEa\x00,\x00b\x00\n\x001\x00"))
	f.Add([]byte("a,a\n"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), "fuzz.csv")
		if err != nil {
			return
		}
		defer r.Close()
		n := len(r.Header())
		if n == 0 || n > sheet.MaxColumns {
			t.Fatalf("header of %d columns", n)
		}
		prev := 0
		for {
			cells, line, err := r.Next()
			if err != nil {
				return
			}
			if len(cells) != n {
				t.Fatalf("row of %d cells under a header of %d", len(cells), n)
			}
			if line <= prev {
				t.Fatalf("line %d after %d", line, prev)
			}
			prev = line
			for _, c := range cells {
				if !utf8.ValidString(c) || len(c) > sheet.MaxCellBytes || c != strings.TrimSpace(c) {
					t.Fatalf("cell %q", c)
				}
			}
		}
	})
}
