package catalog_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
)

// questionnaire asks one question of every datatype.
func questionnaire() catalog.Category {
	list := []catalog.Value{{Key: "meals", Name: catalog.Names{Zh: "助餐"}}, {Key: "bathing", Name: catalog.Names{Zh: "助浴"}}}
	return catalog.Category{Kind: catalog.Matter, Code: "94001", Attributes: []catalog.Attribute{
		{Code: "name", Datatype: catalog.String, Variable: true},
		{Code: "count", Datatype: catalog.Number, Variable: true},
		{Code: "when", Datatype: catalog.Datetime, Variable: true},
		{Code: "note", Datatype: catalog.Text, Variable: true},
		{Code: "kind", Datatype: catalog.SingleValueList, Variable: true, Values: list},
		{Code: "needs", Datatype: catalog.MultiValueList, Variable: true, Values: list},
		{Code: "must", Datatype: catalog.String, Variable: true, Required: true},
		{Code: "info", Datatype: catalog.Text, Variable: false, Required: true},
	}}
}

func TestCheckAnswers(t *testing.T) {
	const must = "must"
	tests := []struct {
		name     string
		code     string
		in       []string
		want     []string // the normalized answer; nil for none
		problem  string   // the i18n key for attribute[code]
		wantMust bool     // whether to leave "must" unanswered
	}{
		{name: "string trimmed", code: "name", in: []string{"  王芳 "}, want: []string{"王芳"}},
		{name: "string of 200 characters", code: "name", in: []string{strings.Repeat("字", 200)}, want: []string{strings.Repeat("字", 200)}},
		{name: "string too long", code: "name", in: []string{strings.Repeat("字", 201)}, problem: "error.field.too_long"},
		{name: "string with a line break", code: "name", in: []string{"a\nb"}, problem: "catalog.answer.one_line"},
		{name: "string invalid utf-8", code: "name", in: []string{"a\xffb"}, problem: "catalog.answer.invalid_text"},
		{name: "string with NUL", code: "name", in: []string{"a\x00b"}, problem: "catalog.answer.invalid_text"},
		{name: "string twice", code: "name", in: []string{"a", "b"}, problem: "catalog.answer.single"},
		{name: "empty answers are none", code: "name", in: []string{"", "  "}, want: nil},
		{name: "integer", code: "count", in: []string{"3"}, want: []string{"3"}},
		{name: "decimal with plus", code: "count", in: []string{"+2.50"}, want: []string{"2.50"}},
		{name: "negative", code: "count", in: []string{"-1"}, want: []string{"-1"}},
		{name: "not a number", code: "count", in: []string{"three"}, problem: "catalog.answer.number"},
		{name: "hex is not a number", code: "count", in: []string{"0x10"}, problem: "catalog.answer.number"},
		{name: "NaN is not a number", code: "count", in: []string{"NaN"}, problem: "catalog.answer.number"},
		{name: "exponent is not a number", code: "count", in: []string{"1e9"}, problem: "catalog.answer.number"},
		{name: "rfc 3339", code: "when", in: []string{"2026-11-21T09:30:00Z"}, want: []string{"2026-11-21T09:30:00Z"}},
		{name: "rfc 3339 with offset and fraction", code: "when", in: []string{"2026-11-21T17:30:00.123+08:00"}, want: []string{"2026-11-21T17:30:00+08:00"}},
		{name: "typed in china time", code: "when", in: []string{"2026-11-21 17:30"}, want: []string{"2026-11-21T17:30:00+08:00"}},
		{name: "datetime-local input", code: "when", in: []string{"2026-11-21T17:30"}, want: []string{"2026-11-21T17:30:00+08:00"}},
		{name: "bad datetime", code: "when", in: []string{"21/11/2026"}, problem: "catalog.answer.datetime"},
		{name: "impossible date", code: "when", in: []string{"2026-02-30 10:00"}, problem: "catalog.answer.datetime"},
		{name: "text with lines", code: "note", in: []string{"第一行\n第二行"}, want: []string{"第一行\n第二行"}},
		{name: "text too long", code: "note", in: []string{strings.Repeat("x", 2001)}, problem: "error.field.too_long"},
		{name: "single value", code: "kind", in: []string{"meals"}, want: []string{"meals"}},
		{name: "single unknown value", code: "kind", in: []string{"dancing"}, problem: "catalog.answer.unknown_value"},
		{name: "single with several values", code: "kind", in: []string{"meals", "bathing"}, problem: "catalog.answer.single"},
		{name: "multi values without repeats", code: "needs", in: []string{"bathing", "meals", "bathing"}, want: []string{"bathing", "meals"}},
		{name: "multi with an unknown value", code: "needs", in: []string{"meals", "dancing"}, problem: "catalog.answer.unknown_value"},
		{name: "required missing", code: "name", in: []string{"x"}, want: []string{"x"}, wantMust: true},
		{name: "unknown code ignored", code: "colour", in: []string{"red"}, want: nil},
		{name: "non-variable ignored", code: "info", in: []string{"anything"}, want: nil},
	}
	c := questionnaire()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := map[string][]string{tt.code: tt.in}
			if !tt.wantMust {
				in[must] = []string{"yes"}
			}
			out, problems := c.CheckAnswers(in)
			field := catalog.AnswerField(tt.code)
			if got := problems[field]; got != tt.problem {
				t.Fatalf("problem %q, want %q (all: %v)", got, tt.problem, problems)
			}
			if tt.wantMust {
				if problems[catalog.AnswerField(must)] != "error.field.required" {
					t.Fatalf("required answer missing not reported: %v", problems)
				}
			} else if len(problems) > 1 || (tt.problem == "" && len(problems) > 0) {
				t.Fatalf("unexpected problems %v", problems)
			}
			if tt.problem == "" && !slices.Equal(out[tt.code], tt.want) {
				t.Fatalf("answer %q, want %q", out[tt.code], tt.want)
			}
			if tt.problem != "" {
				if _, kept := out[tt.code]; kept {
					t.Fatal("a bad answer was kept")
				}
			}
			if _, ok := out["info"]; ok {
				t.Fatal("a non-variable attribute got an answer")
			}
		})
	}
}

func TestCheckedAnswersCheckAgainUnchanged(t *testing.T) {
	c := questionnaire()
	in := map[string][]string{"name": {" a "}, "count": {"+7"}, "when": {"2026-01-02 03:04"}, "note": {"n"},
		"kind": {"meals"}, "needs": {"meals", "meals", "bathing"}, "must": {"m"}}
	out, problems := c.CheckAnswers(in)
	if problems != nil {
		t.Fatal(problems)
	}
	again, problems := c.CheckAnswers(out)
	if problems != nil || !maps.EqualFunc(out, again, slices.Equal[[]string]) {
		t.Fatalf("%v → %v, %v", out, again, problems)
	}
}

func TestRefsAndNames(t *testing.T) {
	for _, tt := range []struct {
		ref  string
		kind catalog.Kind
		code string
		ok   bool
	}{
		{"C01001", catalog.Component, "01001", true},
		{"M06010", catalog.Matter, "06010", true},
		{"m90001", catalog.Matter, "90001", true},
		{"M0601", "", "", false},
		{"X06010", "", "", false},
		{"M06O10", "", "", false},
		{"", "", "", false},
	} {
		k, code, ok := catalog.ParseRef(tt.ref)
		if k != tt.kind || code != tt.code || ok != tt.ok {
			t.Errorf("ParseRef(%q) = %q %q %v", tt.ref, k, code, ok)
		}
		if ok {
			if back := (catalog.Category{Kind: k, Code: code}).Ref(); !strings.EqualFold(back, tt.ref) {
				t.Errorf("Ref of %q is %q", tt.ref, back)
			}
		}
	}
	for _, tt := range []struct {
		c     catalog.Category
		local bool
	}{
		{catalog.Category{Kind: catalog.Matter, Code: "90001"}, true},
		{catalog.Category{Kind: catalog.Matter, Code: "99999"}, true},
		{catalog.Category{Kind: catalog.Matter, Code: "89001"}, false},
		{catalog.Category{Kind: catalog.Component, Code: "90001"}, false},
	} {
		if tt.c.Local() != tt.local {
			t.Errorf("%s local %v", tt.c.Ref(), !tt.local)
		}
	}
	n := catalog.Names{Zh: "路灯", En: "Street light"}
	for lang, want := range map[string]string{"zh-CN": "路灯", "en": "Street light", "en-GB": "Street light", "": "路灯"} {
		if got := n.In(lang); got != want {
			t.Errorf("In(%q) = %q", lang, got)
		}
	}
	if got := (catalog.Names{Zh: "路灯"}).In("en"); got != "路灯" {
		t.Errorf("English falls back to Chinese: %q", got)
	}
	if got := (catalog.Names{En: "Lamp"}).In("zh-CN"); got != "Lamp" {
		t.Errorf("Chinese falls back to English: %q", got)
	}
}

func TestDefaultLimits(t *testing.T) {
	h := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Hours} }
	d := func(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Days} }
	want := map[catalog.Urgency][]calendar.Limit{ // in the order of catalog.Stages
		catalog.Normal:   {h(2), h(2), h(2), h(1), d(5), h(4)},
		catalog.Pressing: {h(1), h(1), h(1), h(1), d(1), h(2)},
		catalog.Urgent:   {h(1), h(1), h(1), h(1), h(4), h(1)},
	}
	l := catalog.DefaultLimits()
	for u, ls := range want {
		for i, s := range catalog.Stages {
			if got, ok := l.For(u, s); !ok || got != ls[i] {
				t.Errorf("%s %s: %v, want %v", u, s, got, ls[i])
			}
		}
	}
	l[catalog.Normal][catalog.Handle] = d(9)
	if got, _ := catalog.DefaultLimits().For(catalog.Normal, catalog.Handle); got != d(5) {
		t.Error("DefaultLimits shares its maps")
	}
	if _, ok := (catalog.Limits{}).For(catalog.Normal, catalog.Handle); ok {
		t.Error("an empty table has a limit")
	}
}
