package i18n

import (
	"slices"
	"strings"
	"testing"
)

func TestCatalogsHaveTheSameKeysAndNoEmptyMessages(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := b.Keys(Chinese), b.Keys(English)
	slices.Sort(zh)
	slices.Sort(en)
	for _, k := range zh {
		if _, ok := slices.BinarySearch(en, k); !ok {
			t.Errorf("%s is in zh-CN but not in en", k)
		}
		if strings.TrimSpace(b.T(Chinese, k)) == "" {
			t.Errorf("zh-CN %s is empty", k)
		}
	}
	for _, k := range en {
		if _, ok := slices.BinarySearch(zh, k); !ok {
			t.Errorf("%s is in en but not in zh-CN", k)
		}
	}
	for _, k := range zh {
		// The same placeholders in both languages, or a translation would print %!d(MISSING).
		if strings.Count(b.T(Chinese, k), "%") != strings.Count(b.T(English, k), "%") {
			t.Errorf("%s: placeholders differ between languages", k)
		}
	}
}

func TestMatch(t *testing.T) {
	b, _ := New()
	cases := map[string]string{
		"":                        Chinese,
		"en-US,en;q=0.9":          English,
		"zh-CN,zh;q=0.9,en;q=0.8": Chinese,
		"zh-TW":                   Chinese,
		"fr-FR":                   Chinese,
		"fr-FR,en;q=0.5":          English,
		"*":                       Chinese,
	}
	for in, want := range cases {
		if got := b.Match(in); got != want {
			t.Errorf("Match(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestTranslateFallsBack(t *testing.T) {
	b, _ := New()
	if got := b.T(English, "error.login.throttled", 3); !strings.Contains(got, "3 minutes") {
		t.Errorf("args not formatted: %q", got)
	}
	if got := b.T(English, "no.such.key"); got != "no.such.key" {
		t.Errorf("unknown key: %q", got)
	}
	if got := b.T("xx", "error.login.failed"); got != b.T(Chinese, "error.login.failed") {
		t.Errorf("unknown language: %q", got)
	}
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"en", "zh-CN,zh;q=0.9", "*;q=0", "en;q=x", strings.Repeat("a-", 100)} {
		f.Add(s)
	}
	b, _ := New()
	f.Fuzz(func(t *testing.T, s string) {
		if got := b.Match(s); !slices.Contains(Languages, got) {
			t.Fatalf("Match(%q) = %q", s, got)
		}
	})
}
