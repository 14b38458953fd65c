package sheet_test

import (
	"reflect"
	"testing"

	"github.com/gridhall/gridhall/internal/sheet"
)

// residentFields are the columns of a resident import, as the people package
// might declare them.
var residentFields = []sheet.Field{
	{Key: "name", Aliases: []string{"姓名", "名字", "Name", "Full name"}, Required: true},
	{Key: "id_number", Aliases: []string{"身份证号", "身份证号码", "公民身份号码", "证件号码", "ID number", "ID card number"}, Required: true},
	{Key: "gender", Aliases: []string{"性别", "Gender", "Sex"}},
	{Key: "birth_date", Aliases: []string{"出生日期", "出生年月日", "Date of birth", "Birth date"}},
	{Key: "phone", Aliases: []string{"联系电话", "手机号", "手机号码", "电话", "Phone", "Mobile"}},
	{Key: "registration", Aliases: []string{"户籍类型", "人口类型", "Registration"}},
	{Key: "building", Aliases: []string{"楼栋", "楼号", "Building"}, Required: true},
	{Key: "room", Aliases: []string{"门牌号", "房号", "房间号", "Room", "Room number"}, Required: true},
	{Key: "relation", Aliases: []string{"与户主关系", "Relation to head", "Relationship"}},
	{Key: "move_in", Aliases: []string{"入住日期", "Move-in date"}},
}

func TestMapColumnsFindsChineseAndEnglishHeaders(t *testing.T) {
	cases := []struct {
		name   string
		header []string
		want   map[string]int
	}{
		{
			"a Chinese template",
			[]string{"序号", "姓名", "公民身份号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋", "门牌号", "与户主关系", "入住日期"},
			map[string]int{"name": 1, "id_number": 2, "gender": 3, "birth_date": 4, "phone": 5, "registration": 6, "building": 7, "room": 8, "relation": 9, "move_in": 10},
		},
		{
			"other Chinese names, other order",
			[]string{"房号", "楼号", "手机号", "身份证号", "姓名"},
			map[string]int{"room": 0, "building": 1, "phone": 2, "id_number": 3, "name": 4},
		},
		{
			"English",
			[]string{"Full Name", "ID number", "SEX", "date of birth", "Mobile", "Building", "Room Number", "Relation to head"},
			map[string]int{"name": 0, "id_number": 1, "gender": 2, "birth_date": 3, "phone": 4, "building": 5, "room": 6, "relation": 7},
		},
		{
			"field keys, as GridHall exports them",
			[]string{"name", "id_number", "building", "room", "move_in"},
			map[string]int{"name": 0, "id_number": 1, "building": 2, "room": 3, "move_in": 4},
		},
		{
			"hand-made: marks, notes, full width and spaces",
			[]string{"*姓 名", "身份证号（必填）", "出生日期(YYYY-MM-DD)", "联系电话：", "楼栋【必填】", "门牌号*", "ＩＤ　Ｎｕｍｂｅｒ备用"},
			map[string]int{"name": 0, "id_number": 1, "birth_date": 2, "phone": 3, "building": 4, "room": 5},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, problems := sheet.MapColumns(c.header, residentFields, nil)
			if len(problems) != 0 {
				t.Errorf("problems %+v", problems)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("mapping %v, want %v", got, c.want)
			}
		})
	}
}

func TestMapColumnsReportsWhatItCannotPlace(t *testing.T) {
	cases := []struct {
		name      string
		header    []string
		overrides map[string]string
		want      map[string]int
		problems  []sheet.ColumnProblem
	}{
		{
			name:     "required fields missing",
			header:   []string{"姓名", "性别", "备注"},
			want:     map[string]int{"name": 0, "gender": 1},
			problems: []sheet.ColumnProblem{{Field: "id_number", Reason: "sheet.column.missing"}, {Field: "building", Reason: "sheet.column.missing"}, {Field: "room", Reason: "sheet.column.missing"}},
		},
		{
			name:     "two columns for one field",
			header:   []string{"姓名", "身份证号", "公民身份号码", "楼栋", "房号", "电话", "手机号"},
			want:     map[string]int{"name": 0, "building": 3, "room": 4},
			problems: []sheet.ColumnProblem{{Field: "id_number", Header: "身份证号 / 公民身份号码", Reason: "sheet.column.ambiguous"}, {Field: "phone", Header: "电话 / 手机号", Reason: "sheet.column.ambiguous"}},
		},
		{
			name:     "two columns that differ only in a note",
			header:   []string{"姓名", "身份证号", "楼栋", "房号", "联系电话（手机）", "联系电话（固话）"},
			want:     map[string]int{"name": 0, "id_number": 1, "building": 2, "room": 3},
			problems: []sheet.ColumnProblem{{Field: "phone", Header: "联系电话（手机） / 联系电话（固话）", Reason: "sheet.column.ambiguous"}},
		},
		{
			name:      "overrides settle ambiguity and name unusual headers",
			header:    []string{"户主/成员姓名", "身份证号", "公民身份号码", "幢", "室", "电话", "手机号"},
			overrides: map[string]string{"name": "户主/成员姓名", "id_number": "公民身份号码", "building": "幢", "room": "室", "phone": "手机号"},
			want:      map[string]int{"name": 0, "id_number": 2, "building": 3, "room": 4, "phone": 6},
		},
		{
			name:      "an override is matched like a header is told apart",
			header:    []string{"姓名", "身份证号", "楼栋", "房号", "联系电话（手机）", "联系电话（固话）"},
			overrides: map[string]string{"phone": "联系电话(手机)"},
			want:      map[string]int{"name": 0, "id_number": 1, "building": 2, "room": 3, "phone": 4},
		},
		{
			name:      "an empty override leaves a field out on purpose",
			header:    []string{"姓名", "身份证号", "楼栋", "房号", "电话"},
			overrides: map[string]string{"phone": "", "room": ""},
			want:      map[string]int{"name": 0, "id_number": 1, "building": 2},
			problems:  []sheet.ColumnProblem{{Field: "room", Reason: "sheet.column.missing"}},
		},
		{
			name:      "overrides naming a header or a field that does not exist",
			header:    []string{"姓名", "身份证号", "楼栋", "房号"},
			overrides: map[string]string{"phone": "联系方式", "nickname": "姓名", "email": "邮箱"},
			want:      map[string]int{"name": 0, "id_number": 1, "building": 2, "room": 3},
			problems: []sheet.ColumnProblem{
				{Field: "phone", Header: "联系方式", Reason: "sheet.column.unknown_override"},
				{Field: "email", Header: "邮箱", Reason: "sheet.column.unknown_override"},
				{Field: "nickname", Header: "姓名", Reason: "sheet.column.unknown_override"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, problems := sheet.MapColumns(c.header, residentFields, c.overrides)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("mapping %v, want %v", got, c.want)
			}
			if !reflect.DeepEqual(problems, c.problems) {
				t.Errorf("problems\n%+v\nwant\n%+v", problems, c.problems)
			}
		})
	}
}

func TestMapColumnsOnAnOpenedSheet(t *testing.T) {
	records := [][]string{
		{"姓名", "公民身份号码", "性别", "手机号", "楼栋", "房号", "与户主关系"},
		{"张伟", "11010519491231002X", "男", "13812345678", "3栋", "2-501", "户主"},
	}
	header, rows := readAll(t, csvBytes(t, ',', records), "a.csv")
	m, problems := sheet.MapColumns(header, residentFields, nil)
	if len(problems) != 0 {
		t.Fatalf("problems %+v", problems)
	}
	if got := rows[0].Cells[m["id_number"]]; got != "11010519491231002X" {
		t.Errorf("id_number %q", got)
	}
	if got := rows[0].Cells[m["relation"]]; got != "户主" {
		t.Errorf("relation %q", got)
	}
}
