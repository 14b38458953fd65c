package calendar

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/errs"
)

// reasons are the i18n keys a parse problem may carry; the fuzz targets
// check that no other key escapes.
var reasons = map[string]bool{
	"error.field.required": true, "error.field.too_long": true,
	"calendar.import.date": true, "calendar.import.wrong_year": true, "calendar.import.duplicate": true,
	"calendar.import.kind": true, "calendar.import.name_chars": true, "calendar.import.too_many_rows": true,
	"calendar.import.unknown_column": true, "calendar.import.duplicate_column": true, "calendar.import.missing_column": true,
	"calendar.import.extra_cells": true, "calendar.import.csv_syntax": true, "calendar.import.no_header": true,
	"calendar.import.json_syntax": true, "calendar.import.json_shape": true, "calendar.import.duplicate_field": true,
	"calendar.import.year_mismatch": true, "calendar.import.unknown_field": true, "calendar.import.not_text": true,
}

func parse(t testing.TB, format, data string) ([]Day, []Problem) {
	t.Helper()
	days, problems, err := parseDays(strings.NewReader(data), format, 2026)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return days, problems
}

func TestParseAcceptsEnglishAndChineseForms(t *testing.T) {
	want := []Day{
		{Date: "2026-10-01", Kind: Holiday, Name: "国庆节"},
		{Date: "2026-10-10", Kind: Workday, Name: "国庆节调休上班"},
		{Date: "2026-10-02", Kind: Holiday},
		{Date: "2026-09-20", Kind: Workday, Name: "x"},
		{Date: "2026-05-01", Kind: Holiday, Name: "劳动节"},
		{Date: "2026-05-09", Kind: Workday, Name: "劳动节"},
	}
	one := []Day{{Date: "2026-10-01", Kind: Holiday}}
	tests := []struct {
		name, format, data string
		want               []Day
	}{
		{"english csv", FormatCSV, "date,kind,name\n2026-10-01,holiday,国庆节\n2026-10-10,workday,国庆节调休上班\n2026-10-02,Holiday,\n" +
			"2026-09-20,WORKDAY, x \n2026-05-01,放假,劳动节\n2026-05-09,补班,劳动节\n", want},
		{"chinese csv from excel", FormatCSV, "\uFEFF名称,日期,类型\r\n# 国庆\r\n国庆节,2026-10-01,休\r\n国庆节调休上班,2026-10-10,班\r\n,2026-10-02,节假日\r\n" +
			"x,2026-09-20,调休上班\r\n劳动节,2026-05-01,假\r\n劳动节,2026-05-09,上班\r\n\r\n", want},
		{"csv without a name column", FormatCSV, "date,kind\n2026-10-01,holiday\n", one},
		{"json", FormatJSON, `{"year": 2026, "days": [
			{"date": "2026-10-01", "kind": "holiday", "name": "国庆节"},
			{"date": "2026-10-10", "kind": "workday", "name": "国庆节调休上班"},
			{"date": "2026-10-02", "kind": "节假日"},
			{"date": "2026-09-20", "kind": "调休上班", "name": "x"},
			{"date": "2026-05-01", "kind": "休", "name": "劳动节"},
			{"date": "2026-05-09", "kind": "班", "name": "劳动节"}]}`, want},
		{"json without a year", FormatJSON, `{"days":[{"date":"2026-10-01","kind":"holiday"}]}`, one},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			days, problems := parse(t, tt.format, tt.data)
			if len(problems) > 0 {
				t.Fatalf("problems: %+v", problems)
			}
			if !reflect.DeepEqual(days, tt.want) {
				t.Fatalf("days = %+v\nwant %+v", days, tt.want)
			}
		})
	}
}

func TestParseEmptyYearIsValid(t *testing.T) {
	for format, data := range map[string]string{FormatCSV: "date,kind,name\n", FormatJSON: `{"year":2026,"days":[]}`} {
		days, problems := parse(t, format, data)
		if len(days) != 0 || len(problems) != 0 {
			t.Errorf("%s: %v %v", format, days, problems)
		}
	}
}

func TestParseListsEveryBadRow(t *testing.T) {
	tests := []struct {
		name, format, data string
		want               []Problem
	}{
		{"csv rows", FormatCSV, "date,kind,name\n" +
			"2026-10-01,holiday,国庆节\n" + // 2: good
			"2026-13-01,holiday,\n" + // 3: no such date
			"2027-01-01,holiday,\n" + // 4: another year
			",workday,\n" + // 5: no date
			"2026-10-01,workday,\n" + // 6: repeats line 2
			"2026-10-02,off,\n" + // 7: unknown kind
			"2026-10-03,,\n" + // 8: no kind
			"2026-10-04,holiday," + strings.Repeat("节", 51) + "\n" + // 9: long name
			"2026-10-05,holiday,a\x01b\n" + // 10: control character
			"2026-10-06,holiday,,surplus\n" + // 11: a cell beyond the header
			"2026/10/07,班,\"two\nlines\"\n" + // 12: slashes; the quoted name spans 12–13
			"2026-10-08,holiday,\n", // 14: good
			[]Problem{
				{Line: 3, Field: "date", Reason: "calendar.import.date"},
				{Line: 4, Field: "date", Reason: "calendar.import.wrong_year", Args: []any{2026}},
				{Line: 5, Field: "date", Reason: "error.field.required"},
				{Line: 6, Field: "date", Reason: "calendar.import.duplicate", Args: []any{2}},
				{Line: 7, Field: "kind", Reason: "calendar.import.kind"},
				{Line: 8, Field: "kind", Reason: "error.field.required"},
				{Line: 9, Field: "name", Reason: "error.field.too_long"},
				{Line: 10, Field: "name", Reason: "calendar.import.name_chars"},
				{Line: 11, Field: "", Reason: "calendar.import.extra_cells"},
				{Line: 12, Field: "date", Reason: "calendar.import.date"},
				{Line: 12, Field: "name", Reason: "calendar.import.name_chars"},
			}},
		{"csv header", FormatCSV, "Datum,kind,kind\n2026-10-01,holiday,x\n", []Problem{
			{Line: 1, Field: "Datum", Reason: "calendar.import.unknown_column"},
			{Line: 1, Field: "kind", Reason: "calendar.import.duplicate_column"},
			{Line: 1, Field: "date", Reason: "calendar.import.missing_column"},
		}},
		{"csv empty", FormatCSV, "", []Problem{{Line: 1, Reason: "calendar.import.no_header"}}},
		{"csv comments only", FormatCSV, "# nothing\n", []Problem{{Line: 1, Reason: "calendar.import.no_header"}}},
		{"csv bad quote", FormatCSV, "date,kind,name\n2026-10-01,holiday,\"x\n", []Problem{{Line: 2, Reason: "calendar.import.csv_syntax"}}},
		{"csv stray quote", FormatCSV, "date,kind,name\n2026-10-01,holi\"day,x\n", []Problem{{Line: 2, Reason: "calendar.import.csv_syntax"}}},
		{"json rows", FormatJSON, "{\"year\": 2026,\n \"days\": [\n" +
			"  {\"date\": \"2026-10-01\", \"kind\": \"holiday\"},\n" + // 3: good
			"  {\"date\": \"2026-10-01\", \"kind\": \"holiday\"},\n" + // 4: repeat
			"  {\"date\": 20261002, \"kind\": \"holiday\"},\n" + // 5: not text
			"  {\"date\": \"2026-10-03\", \"kind\": \"holiday\", \"note\": \"x\"},\n" + // 6: unknown field
			"  \"2026-10-04\",\n" + // 7: not an object
			"  {\"kind\": \"workday\"}, {\"date\": \"2026-10-05\", \"kind\": \"?\"}\n" + // 8: two bad rows
			"]}\n",
			[]Problem{
				{Line: 4, Field: "date", Reason: "calendar.import.duplicate", Args: []any{3}},
				{Line: 5, Field: "date", Reason: "calendar.import.not_text"},
				{Line: 6, Field: "note", Reason: "calendar.import.unknown_field"},
				{Line: 7, Field: "", Reason: "calendar.import.json_shape"},
				{Line: 8, Field: "date", Reason: "error.field.required"},
				{Line: 8, Field: "kind", Reason: "calendar.import.kind"},
			}},
		{"json year and fields", FormatJSON, "{\"year\": 2027,\n\"dayz\": [],\n\"year\": \"2026\"}", []Problem{
			{Line: 1, Field: "year", Reason: "calendar.import.year_mismatch", Args: []any{2026}},
			{Line: 2, Field: "dayz", Reason: "calendar.import.unknown_field"},
			{Line: 3, Field: "year", Reason: "calendar.import.duplicate_field"},
			{Line: 3, Field: "year", Reason: "calendar.import.year_mismatch", Args: []any{2026}},
			{Line: 1, Field: "days", Reason: "error.field.required"},
		}},
		{"json days not a list", FormatJSON, "{\"days\": {\"date\": \"2026-10-01\"}, \"year\": 2026}", []Problem{
			{Line: 1, Field: "days", Reason: "calendar.import.json_shape"},
		}},
		{"json not an object", FormatJSON, "[]", []Problem{{Line: 1, Reason: "calendar.import.json_shape"}}},
		{"json syntax", FormatJSON, "{\"year\": 2026,\n\"days\": [\n{\"date\": \"2026-10-01\" \"kind\": 1}]}", []Problem{
			{Line: 3, Reason: "calendar.import.json_syntax"},
		}},
		{"json trailing data", FormatJSON, "{\"days\": []}\n{}", []Problem{{Line: 2, Reason: "calendar.import.json_syntax"}}},
		{"json empty", FormatJSON, "", []Problem{{Line: 1, Reason: "calendar.import.json_syntax"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			days, problems := parse(t, tt.format, tt.data)
			if days != nil {
				t.Errorf("a rejected file returned days %v", days)
			}
			if !reflect.DeepEqual(problems, tt.want) {
				t.Fatalf("problems\n got %+v\nwant %+v", problems, tt.want)
			}
		})
	}
}

func TestParseBoundsTheFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,kind\n")
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < MaxImportRows+5; i++ {
		b.WriteString(day.AddDate(0, 0, i%365).Format("2006-01-02") + ",holiday\n")
	}
	_, problems := parse(t, FormatCSV, b.String())
	last := problems[len(problems)-1]
	if last.Reason != "calendar.import.too_many_rows" || last.Line != MaxImportRows+2 {
		t.Fatalf("last problem %+v", last)
	}

	_, _, err := parseDays(strings.NewReader("date,kind\n"+strings.Repeat("#", MaxImportBytes)), FormatCSV, 2026)
	if !errs.Is(err, errs.TooLarge) {
		t.Fatalf("oversized file: %v", err)
	}
	_, _, err = parseDays(strings.NewReader(""), "xlsx", 2026)
	if e := errs.As(err); e.Code != errs.Invalid || e.Fields["format"] != "calendar.import.format" {
		t.Fatalf("unknown format: %v", err)
	}
}

// checkParsed holds for every file: problems name a line and a known key;
// an accepted file's days are a valid calendar's exceptions of the year, and
// an export of them reads back the same in both formats.
func checkParsed(t *testing.T, days []Day, problems []Problem, err error) {
	if err != nil {
		if !errs.Is(err, errs.TooLarge) {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	if len(problems) > 0 {
		if days != nil {
			t.Fatal("days returned with problems")
		}
		for _, p := range problems {
			if p.Line < 1 || !reasons[p.Reason] {
				t.Fatalf("bad problem %+v", p)
			}
		}
		return
	}
	if _, err := New(Settings{Days: days}); err != nil {
		t.Fatalf("accepted days make no calendar: %v (%+v)", err, days)
	}
	for _, d := range days {
		if !strings.HasPrefix(d.Date, "2026-") {
			t.Fatalf("day outside the year: %+v", d)
		}
	}
	for _, format := range []string{FormatCSV, FormatJSON} {
		var buf bytes.Buffer
		if err := writeDays(&buf, format, 2026, days); err != nil {
			t.Fatal(err)
		}
		again, problems, err := parseDays(&buf, format, 2026)
		if err != nil || len(problems) > 0 || len(again) != len(days) || (len(days) > 0 && !reflect.DeepEqual(again, days)) {
			t.Fatalf("%s round trip: %v %+v\n got %+v\nwant %+v", format, err, problems, again, days)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"date,kind,name\n2026-10-01,holiday,国庆节\n2026-10-10,workday,\n",
		"\uFEFF日期,类型,名称\r\n2026-10-01,休,国庆节\r\n# c\r\n2026-10-10,班,\"a,\"\"b\"\"\"\r\n",
		"date,kind\n2026-02-30,holiday\n2026-10-01,x\n2026-10-01,holiday\n",
		"name,date,kind,\n,2026-01-01,holiday,\n",
		"date,kind,name\n\"2026-10-01\n\",holiday,x\n",
		"date,kind,name\n2026-10-01,holiday,\"\n",
		"",
		"date,kind,name,extra\n",
	} {
		f.Add([]byte(s))
	}
	raw, _ := holidayFiles.ReadFile("holidays/2026.csv")
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		days, problems, err := parseDays(bytes.NewReader(data), FormatCSV, 2026)
		checkParsed(t, days, problems, err)
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"year":2026,"days":[{"date":"2026-10-01","kind":"holiday","name":"国庆节"},{"date":"2026-10-10","kind":"班"}]}`,
		`{"days":[]}`,
		`{"year":2027,"days":[{"date":"2026-10-01"}],"x":{"y":[1,2]}}`,
		`{"days":[1,"a",null,{"date":null},{"date":"2026-10-01","kind":"holiday","name":"a\u0000b"}]}`,
		`{"days":{"a":[{}]}}`,
		`{"days":[{"date":"2026-10-01","kind":"holiday"}]} x`,
		`[{"date":"2026-10-01"}]`,
		`{"year":2026,"days":[`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		days, problems, err := parseDays(bytes.NewReader(data), FormatJSON, 2026)
		checkParsed(t, days, problems, err)
	})
}

// FuzzSettings feeds settings JSON to New: it accepts or rejects without
// panicking, and an accepted calendar's Add and Working agree.
func FuzzSettings(f *testing.F) {
	for _, s := range []string{
		`{"workdays":[1,2,3,4,5],"periods":[{"start":"09:00","end":"12:00"},{"start":"13:00","end":"18:00"}]}`,
		`{"workdays":[7],"periods":[{"start":"00:00","end":"24:00"}]}`,
		`{"workdays":[6,1],"periods":[{"start":"08:30","end":"08:31"},{"start":"08:31","end":"23:59"}]}`,
		`{"workdays":[0],"periods":[{"start":"9:00","end":"12:00"}]}`,
		`{"periods":[{"start":"24:00","end":"24:00"}]}`,
		`{}`,
	} {
		f.Add([]byte(s), int64(0), int64(3*time.Hour))
	}
	base := time.Date(2026, 9, 28, 0, 0, 0, 0, cst)
	f.Fuzz(func(t *testing.T, data []byte, offset, d int64) {
		var s Settings
		if json.Unmarshal(data, &s) != nil {
			return
		}
		s.Days = BuiltinDays(2026)
		c, err := New(s)
		if err != nil {
			if e := errs.As(err); e.Code != errs.Invalid || len(e.Fields) == 0 {
				t.Fatalf("New failed without naming fields: %v", err)
			}
			return
		}
		start := base.Add(time.Duration(offset % int64(400*24*time.Hour)))
		dur := time.Duration(d % int64(1000*c.DayLength()))
		end := c.Add(start, dur)
		if dur > 0 && c.Working(start, end) != dur {
			t.Fatalf("Working(start, Add(start, %v)) = %v", dur, c.Working(start, end))
		}
		if end.Before(start) {
			t.Fatalf("Add went backwards")
		}
	})
}
