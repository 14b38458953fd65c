package web

import (
	"math"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/i18n"
)

// FuzzDecodeAct: any posted step form decodes without a panic, to an action
// the workflow knows or to a refusal, with numbers in range.
func FuzzDecodeAct(f *testing.F) {
	for _, seed := range [][6]string{
		{"verify", "3", "", "", "", ""},
		{"rate", "7", "1", "", "", "满意"},
		{"rate", "7", "99999999999999999999", "", "", ""},
		{"request_extension", "2", "", "3", "days", "等材料"},
		{"request_extension", "2", "", "-5", "weeks", ""},
		{"register", "x", "", "", "", ""},
		{"dispatch", "1e9", "", "", "", "department:water"},
		{"fly", "1", "", "", "", ""},
		{"", "", "", "", "", ""},
		{"note", "9223372036854775807", "", "", "", "\x00"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5])
	}
	f.Fuzz(func(t *testing.T, action, version, rating, amount, unit, text string) {
		form := url.Values{"action": {action}, "version": {version}, "rating": {rating}, "limit_amount": {amount},
			"limit_unit": {unit}, "note": {text}, "target": {text}, "urgency": {unit}}
		a, in, ok := decodeAct(form)
		if !ok {
			if slices.Contains(cases.Actions, cases.Action(action)) {
				t.Fatalf("known action %q refused", action)
			}
			return
		}
		if a != cases.Action(action) || in.Version < 0 || in.Version > maxVersion || in.Rating < 0 || in.Limit.Amount < 0 {
			t.Fatalf("decoded %q %+v from %q", a, in, form)
		}
		if in.Note != text || in.Target != strings.TrimSpace(text) {
			t.Fatalf("note or target changed: %q %q", in.Note, in.Target)
		}
	})
}

// FuzzPoint: a pin is a finite point on the globe or refused.
func FuzzPoint(f *testing.F) {
	for _, seed := range [][2]string{
		{"114.305", "30.548"}, {"NaN", "30"}, {"Inf", "-Inf"}, {"181", "0"}, {"", ""}, {" 114.3 ", "30.5"}, {"1e400", "0"}, {"0x1p-2", "0"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, lng, lat string) {
		x, y, ok := point(lng, lat)
		if ok && (math.IsNaN(x) || math.IsNaN(y) || math.Abs(x) > 180 || math.Abs(y) > 90) {
			t.Fatalf("point(%q, %q) = %v, %v accepted", lng, lat, x, y)
		}
	})
}

// FuzzLimitName: any pending extension text is shown without a panic, and
// a well-formed one in words.
func FuzzLimitName(f *testing.F) {
	for _, seed := range []string{"3 days", "12 hours", "3 weeks", "", " ", "x days", "-1 days", "99999999999999999999 hours"} {
		f.Add(seed)
	}
	p := &page{bundle: mustBundle(f), Lang: i18n.English}
	f.Fuzz(func(t *testing.T, s string) {
		out := limitName(p, s)
		if strings.Contains(out, "cases.page.") {
			t.Fatalf("limitName(%q) = %q", s, out)
		}
	})
}
