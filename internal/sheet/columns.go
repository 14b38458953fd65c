package sheet

import (
	"maps"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Field is a value an import expects, with the header names it goes by.
type Field struct {
	Key string // the field's name in the import, e.g. "id_number"; it also matches a header of its own
	// Aliases are the header names of the field in Chinese and English, e.g.
	// "身份证号", "公民身份号码", "ID number". They match headers loosely: see
	// MapColumns.
	Aliases  []string
	Required bool
}

// ColumnProblem is why a field could not be given a column. Reason is an i18n
// message key.
type ColumnProblem struct {
	Field  string // the field's key
	Header string // the header or headers concerned, joined by " / "; "" for a missing field
	Reason string
}

// The reasons of column problems.
const (
	ReasonMissing         = "sheet.column.missing"          // a required field matches no header
	ReasonAmbiguous       = "sheet.column.ambiguous"        // a field matches two or more headers
	ReasonUnknownOverride = "sheet.column.unknown_override" // the user chose a header, or a field, the sheet does not have
)

// MapColumns finds each field's column in a header. It returns the column
// index of every field it could place, and the problems of the others.
//
// A header matches a field when, once both are normalised, it equals the
// field's key or one of its aliases. Normalising forgives what varies between
// hand-made templates: full-width forms (NFKC), case, spaces, punctuation and
// symbols (so "联系电话*", "联系电话：" and "联 系 电 话" match "联系电话"), and
// a note in brackets ("出生日期（YYYY-MM-DD）", "身份证号【必填】").
//
// overrides are the user's choices in the mapping step, field key → header
// name (compared without brackets dropped, so it names exactly one column),
// and win over matching; an empty header name leaves the field without
// a column on purpose. A choice naming a header the sheet lacks, or a field
// that is not in fields, is reported as "sheet.column.unknown_override".
// A field that matches two headers is "sheet.column.ambiguous" (the user
// settles it with an override), and a required field left without a column is
// "sheet.column.missing". Problems come in the order of fields, then of
// overrides for unknown fields by key.
func MapColumns(header []string, fields []Field, overrides map[string]string) (map[string]int, []ColumnProblem) {
	exact := make(map[string][]int, len(header)) // by nameKey
	loose := make(map[string][]int, len(header)) // by nameKey and by looseKey
	for i, h := range header {
		k := nameKey(h)
		exact[k] = append(exact[k], i)
		loose[k] = append(loose[k], i)
		if l := looseKey(h); l != k {
			loose[l] = append(loose[l], i)
		}
	}
	mapping := make(map[string]int, len(fields))
	var problems []ColumnProblem
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.Key] = true
		if name, ok := overrides[f.Key]; ok {
			if strings.TrimSpace(name) == "" {
				if f.Required {
					problems = append(problems, ColumnProblem{Field: f.Key, Reason: ReasonMissing})
				}
				continue
			}
			if cols := exact[nameKey(name)]; len(cols) > 0 {
				// Open refuses headers with the same nameKey, so there is one.
				mapping[f.Key] = cols[0]
			} else {
				problems = append(problems, ColumnProblem{Field: f.Key, Header: name, Reason: ReasonUnknownOverride})
			}
			continue
		}
		var cols []int
		for _, name := range append([]string{f.Key}, f.Aliases...) {
			for _, c := range loose[nameKey(name)] {
				if !slices.Contains(cols, c) {
					cols = append(cols, c)
				}
			}
		}
		switch {
		case len(cols) == 1:
			mapping[f.Key] = cols[0]
		case len(cols) > 1:
			slices.Sort(cols)
			names := make([]string, len(cols))
			for i, c := range cols {
				names[i] = header[c]
			}
			problems = append(problems, ColumnProblem{Field: f.Key, Header: strings.Join(names, " / "), Reason: ReasonAmbiguous})
		case f.Required:
			problems = append(problems, ColumnProblem{Field: f.Key, Reason: ReasonMissing})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		if !known[k] {
			problems = append(problems, ColumnProblem{Field: k, Header: overrides[k], Reason: ReasonUnknownOverride})
		}
	}
	return mapping, problems
}

// nameKey is the form in which header names are told apart: two headers with
// the same nameKey are the same column name. It drops what varies between
// hand-made templates without changing the name: full-width forms (by NFKC),
// case, spaces, punctuation, symbols and invisible format characters.
func nameKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return unicode.ToLower(r)
	}, norm.NFKC.String(s))
}

// looseKey is nameKey without notes in brackets, "出生日期（YYYY-MM-DD）" →
// "出生日期", unless the whole name is in brackets. It is only for matching
// aliases: "联系电话（手机）" and "联系电话（固话）" are different columns.
func looseKey(s string) string {
	if k := nameKey(dropBracketed(norm.NFKC.String(s))); k != "" {
		return k
	}
	return nameKey(s)
}

// brackets pairs the brackets that set off a note in a header, after NFKC
// (which has already turned （） and ［］ into their ASCII forms).
var brackets = map[rune]rune{'(': ')', '[': ']', '{': '}', '【': '】', '〔': '〕', '〖': '〗', '<': '>', '《': '》'}

// dropBracketed removes the bracketed notes of a header, brackets included.
func dropBracketed(s string) string {
	var b strings.Builder
	var closing []rune
	for _, r := range s {
		if c, ok := brackets[r]; ok {
			closing = append(closing, c)
			continue
		}
		if n := len(closing); n > 0 {
			if r == closing[n-1] {
				closing = closing[:n-1]
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
