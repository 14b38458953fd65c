package catalog

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseImport feeds arbitrary files to the import parser: it must
// never panic, and whatever it accepts must be a valid catalogue.
func FuzzParseImport(f *testing.F) {
	national, err := dataFiles.ReadFile("data/urban-management-catalogue.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(national)
	for _, s := range []string{
		"",
		"kind,code,major_code,major_name,name\n",
		"kind,code,major_code,major_name,name,name_en,department,public\nmatter,95010,95,意见建议,建议,Suggestion,community,true\n",
		"kind,code,major_code,major_name,name\nmatter,6010,6,市容环境类,暴露垃圾\n",
		"kind,code,major_code,major_name,name\ncomponent,90001,90,本地,x\nmatter,01001,01,a,b\nmatter,01001,01,c,d\n",
		"kind\tcode\tmajor_code\tmajor_name\tname\n事项\t95001\t95\t意见建议\t建议\n",
		"kind,code,major_code,major_name,name\nmatter,06010,06,\"市容\n环境\",暴露垃圾\n",
		"kind,code,major_code,major_name,name\nmatter,06010,06,\"unterminated\n",
		"\xef\xbb\xbfkind,code,major_code,major_name,name\nmatter,06010,06,a,b\n",
		"PK\x03\x04garbage",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, problems := parseImport(data)
		if len(problems) > 0 {
			for _, p := range problems {
				if p.Reason == "" || p.Line < 0 {
					t.Fatalf("problem without a reason or line: %+v", p)
				}
			}
			return
		}
		if len(rows) == 0 || len(rows) > MaxImportRows {
			t.Fatalf("%d rows accepted", len(rows))
		}
		seen := map[catKey]bool{}
		for _, r := range rows {
			c := r.cat
			if !c.Kind.Valid() || !ValidCode(c.Code) || c.Group != c.Code[:2] || c.Name.Zh == "" || c.GroupName.Zh == "" ||
				!utf8.ValidString(c.Name.Zh+c.Name.En+c.GroupName.Zh+c.Department) {
				t.Fatalf("accepted a bad row: %+v", r)
			}
			if seen[catKey{c.Kind, c.Code}] {
				t.Fatalf("accepted %s twice", c.Ref())
			}
			seen[catKey{c.Kind, c.Code}] = true
		}
	})
}

// FuzzCheckAnswers checks arbitrary answers to every datatype: never a
// panic, and what it returns checks again to itself.
func FuzzCheckAnswers(f *testing.F) {
	list := []Value{{Key: "a", Name: Names{Zh: "甲"}}, {Key: "b", Name: Names{Zh: "乙"}}}
	c := Category{Kind: Matter, Code: "94001", Attributes: []Attribute{
		{Code: "s", Datatype: String, Variable: true, Required: true},
		{Code: "n", Datatype: Number, Variable: true},
		{Code: "d", Datatype: Datetime, Variable: true},
		{Code: "t", Datatype: Text, Variable: true},
		{Code: "one", Datatype: SingleValueList, Variable: true, Values: list},
		{Code: "many", Datatype: MultiValueList, Variable: true, Values: list},
	}}
	for _, s := range [][2]string{
		{"s", "hello"}, {"n", "+1.5"}, {"n", "1e3"}, {"d", "2026-11-21T09:30:00Z"}, {"d", "2026-11-21 17:30"},
		{"d", "2026-13-01 00:00"}, {"t", "a\nb"}, {"one", "a"}, {"one", "a\x1fb"}, {"many", "a\x1fb\x1fa"}, {"many", "c"},
		{"s", strings.Repeat("x", 201)}, {"s", "\xff"}, {"unknown", "x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, code, joined string) {
		// \x1f separates the values of one answer.
		in := map[string][]string{code: strings.Split(joined, "\x1f")}
		out, problems := c.CheckAnswers(in)
		for field, key := range problems {
			if !strings.HasPrefix(field, "attribute[") || key == "" {
				t.Fatalf("problem %q: %q", field, key)
			}
		}
		for k, vs := range out {
			if len(vs) == 0 || slices.Contains(vs, "") {
				t.Fatalf("empty answer kept for %s: %q", k, vs)
			}
		}
		again, problems2 := c.CheckAnswers(out)
		for field := range problems2 {
			if field != AnswerField("s") || len(out["s"]) > 0 {
				t.Fatalf("normalized answers %v do not check: %v", out, problems2)
			}
		}
		if !maps.EqualFunc(out, again, slices.Equal[[]string]) {
			t.Fatalf("normalizing twice: %v then %v", out, again)
		}
	})
}
