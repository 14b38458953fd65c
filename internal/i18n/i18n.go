// Package i18n translates GridHall's message keys into Simplified Chinese and
// English. Catalogs are embedded JSON files, one per language, with the same
// keys (a test enforces it); placeholders use fmt verbs.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"

	"golang.org/x/text/language"
)

//go:embed locales/*.json
var files embed.FS

// The supported languages; the first is the default.
const (
	Chinese = "zh-CN"
	English = "en"
)

// Languages lists the supported languages, default first.
var Languages = []string{Chinese, English}

// Bundle holds the catalogs. It is read-only after New and safe for
// concurrent use.
type Bundle struct {
	catalogs map[string]map[string]string
	matcher  language.Matcher
}

// New loads the embedded catalogs.
func New() (*Bundle, error) {
	b := &Bundle{catalogs: map[string]map[string]string{}}
	var tags []language.Tag
	for _, lang := range Languages {
		raw, err := files.ReadFile("locales/" + lang + ".json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("locale %s: %w", lang, err)
		}
		b.catalogs[lang] = m
		tags = append(tags, language.MustParse(lang))
	}
	b.matcher = language.NewMatcher(tags)
	return b, nil
}

// Keys returns the keys of one language's catalog.
func (b *Bundle) Keys(lang string) []string {
	var ks []string
	for k := range b.catalogs[lang] {
		ks = append(ks, k)
	}
	return ks
}

// Supported returns lang when it is a supported language, else "".
func Supported(lang string) string {
	for _, l := range Languages {
		if strings.EqualFold(l, lang) {
			return l
		}
	}
	return ""
}

// Match picks the best supported language for an Accept-Language header,
// defaulting to Chinese.
func (b *Bundle) Match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Chinese
	}
	_, idx, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return Chinese
	}
	return Languages[idx]
}

// T translates key into lang, formatting args into its placeholders. An
// unknown key falls back to the other language and then to the key itself, so
// a missing translation shows something rather than nothing.
func (b *Bundle) T(lang, key string, args ...any) string {
	msg, ok := b.catalogs[lang][key]
	if !ok {
		if msg, ok = b.catalogs[Chinese][key]; !ok {
			msg = key
		}
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}
