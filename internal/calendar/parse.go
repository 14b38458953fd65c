package calendar

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/errs"
)

// The formats of an import or export file.
//
// CSV: a header row naming the columns date, kind and name (in any order;
// also 日期, 类型, 名称; name may be left out), then one exception per row.
// Dates are YYYY-MM-DD. The kind is holiday or workday, or in Chinese 休,
// 节假日, 放假 or 假 for a holiday and 班, 上班, 调休上班 or 补班 for a make-up
// working day. Lines starting with # are comments; a UTF-8 byte-order mark
// (as Excel writes) is skipped.
//
// JSON: {"year": 2026, "days": [{"date": "2026-10-01", "kind": "holiday",
// "name": "国庆节"}]}; "year" may be left out, and kinds are as in CSV.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Import bounds: a year has at most 366 dated exceptions, and a file of
// them is a few kilobytes.
const (
	MaxImportBytes = 256 << 10
	MaxImportRows  = 366
	MinYear        = 2000
	MaxYear        = 2100
)

// Problem is one thing wrong with an import file: where (the file's line
// number, the field) and why (an i18n key with its arguments).
type Problem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"` // date, kind, name, year, days, a column's header, or "" for the file
	Reason string `json:"reason"`
	Args   []any  `json:"args,omitempty"`
}

// kindWords maps the kinds an import may write to the Kind they mean.
var kindWords = map[string]Kind{
	"holiday": Holiday, "休": Holiday, "节假日": Holiday, "放假": Holiday, "假": Holiday,
	"workday": Workday, "班": Workday, "上班": Workday, "调休上班": Workday, "补班": Workday,
}

// csvColumns maps the header words of a CSV import to field names.
var csvColumns = map[string]string{
	"date": "date", "日期": "date",
	"kind": "kind", "类型": "kind",
	"name": "name", "名称": "name",
}

// parseDays reads one year's exceptions from a file of the given format.
// Problems with the content come back as a list, all of them, so that a
// file is corrected in one go; the error is for a file that cannot be
// considered at all (an unknown format, too large, unreadable).
func parseDays(r io.Reader, format string, year int) ([]Day, []Problem, error) {
	const op = "calendar.parse"
	if format != FormatCSV && format != FormatJSON {
		return nil, nil, errs.Fields(op, map[string]string{"format": "calendar.import.format"})
	}
	raw, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, nil, errs.Wrap(op, err)
	}
	if len(raw) > MaxImportBytes {
		return nil, nil, errs.E(errs.TooLarge, op, "calendar.import.too_large", MaxImportBytes>>10)
	}
	p := &dayParser{year: year, seen: map[string]int{}}
	if format == FormatCSV {
		p.csv(raw)
	} else {
		p.json(raw)
	}
	if len(p.problems) > 0 {
		return nil, p.problems, nil
	}
	return p.days, nil, nil
}

// dayParser collects the exceptions and problems of one file.
type dayParser struct {
	year     int
	days     []Day
	problems []Problem
	seen     map[string]int // date → line where it first appeared
	rows     int
}

func (p *dayParser) problem(line int, field, reason string, args ...any) {
	p.problems = append(p.problems, Problem{Line: line, Field: field, Reason: reason, Args: args})
}

// more counts a row and reports whether it may be read: past MaxImportRows
// the file is rejected at that row.
func (p *dayParser) more(line int) bool {
	p.rows++
	if p.rows > MaxImportRows {
		p.problem(line, "", "calendar.import.too_many_rows", MaxImportRows)
		return false
	}
	return true
}

// row checks one exception and keeps it when it is good.
func (p *dayParser) row(line int, date, kind, name string) {
	before := len(p.problems)
	date, kind, name = strings.TrimSpace(date), strings.TrimSpace(kind), strings.TrimSpace(name)
	switch t, ok := parseDate(date); {
	case date == "":
		p.problem(line, "date", "error.field.required")
	case !ok:
		p.problem(line, "date", "calendar.import.date")
	case t.Year() != p.year:
		p.problem(line, "date", "calendar.import.wrong_year", p.year)
	default:
		if first, dup := p.seen[date]; dup {
			p.problem(line, "date", "calendar.import.duplicate", first)
		} else {
			p.seen[date] = line
		}
	}
	k, ok := kindWords[strings.ToLower(kind)]
	switch {
	case kind == "":
		p.problem(line, "kind", "error.field.required")
	case !ok:
		p.problem(line, "kind", "calendar.import.kind")
	}
	switch {
	case !validName(name) && utf8.RuneCountInString(name) > maxNameRunes:
		p.problem(line, "name", "error.field.too_long")
	case !validName(name):
		p.problem(line, "name", "calendar.import.name_chars")
	}
	if len(p.problems) == before {
		p.days = append(p.days, Day{Date: date, Kind: k, Name: name})
	}
}

func (p *dayParser) csv(raw []byte) {
	raw = bytes.TrimPrefix(raw, []byte("\uFEFF"))
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		p.csvError(err, 1)
		return
	}
	line, _ := r.FieldPos(0)
	cols := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if h == "" {
			continue
		}
		f, ok := csvColumns[strings.ToLower(h)]
		switch {
		case !ok:
			p.problem(line, h, "calendar.import.unknown_column")
		case cols[f] != 0:
			p.problem(line, h, "calendar.import.duplicate_column")
		default:
			cols[f] = i + 1 // 0 means absent
		}
	}
	for _, f := range []string{"date", "kind"} {
		if cols[f] == 0 {
			p.problem(line, f, "calendar.import.missing_column")
		}
	}
	if len(p.problems) > 0 {
		return
	}
	width := len(header)
	cell := func(rec []string, f string) string {
		if i := cols[f] - 1; i >= 0 && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			p.csvError(err, line+1)
			return
		}
		line, _ = r.FieldPos(0)
		if !p.more(line) {
			return
		}
		for _, extra := range rec[min(width, len(rec)):] {
			if strings.TrimSpace(extra) != "" {
				p.problem(line, "", "calendar.import.extra_cells")
				break
			}
		}
		p.row(line, cell(rec, "date"), cell(rec, "kind"), cell(rec, "name"))
	}
}

func (p *dayParser) csvError(err error, line int) {
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		p.problem(pe.Line, "", "calendar.import.csv_syntax")
	case errors.Is(err, io.EOF):
		p.problem(line, "", "calendar.import.no_header")
	default:
		p.problem(line, "", "calendar.import.csv_syntax")
	}
}

// lines turns byte offsets into line numbers; offsets must not decrease.
type lines struct {
	raw       []byte
	off, line int
}

func (l *lines) at(off int) int {
	off = min(off, len(l.raw))
	if off > l.off {
		l.line += bytes.Count(l.raw[l.off:off], []byte{'\n'})
		l.off = off
	}
	return l.line + 1
}

// skip returns the offset of the first byte at or after off that is not
// JSON whitespace or a comma: where the next value starts.
func (l *lines) skip(off int) int {
	for off < len(l.raw) && strings.IndexByte(" \t\r\n,", l.raw[off]) >= 0 {
		off++
	}
	return off
}

func (p *dayParser) json(raw []byte) {
	ln := &lines{raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	syntax := func(err error) {
		off := int(dec.InputOffset())
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset)
		}
		p.problem(ln.at(off), "", "calendar.import.json_syntax")
	}
	tok, err := dec.Token()
	if err != nil {
		syntax(err)
		return
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		p.problem(ln.at(0), "", "calendar.import.json_shape")
		return
	}
	seenKey := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			syntax(err)
			return
		}
		key, _ := tok.(string)
		line := ln.at(int(dec.InputOffset()))
		if seenKey[key] {
			p.problem(line, key, "calendar.import.duplicate_field")
		}
		seenKey[key] = true
		switch key {
		case "year":
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				syntax(err)
				return
			}
			if y, err := strconv.Atoi(string(v)); err != nil || y != p.year {
				p.problem(line, "year", "calendar.import.year_mismatch", p.year)
			}
		case "days":
			if !p.jsonDays(dec, ln, line, syntax) {
				return
			}
		default:
			p.problem(line, key, "calendar.import.unknown_field")
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				syntax(err)
				return
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		syntax(err)
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		p.problem(ln.at(int(dec.InputOffset())), "", "calendar.import.json_syntax")
		return
	}
	if !seenKey["days"] {
		p.problem(1, "days", "error.field.required")
	}
}

// jsonDays reads the "days" array; false means the file could not be read
// further.
func (p *dayParser) jsonDays(dec *json.Decoder, ln *lines, line int, syntax func(error)) bool {
	tok, err := dec.Token()
	if err != nil {
		syntax(err)
		return false
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		p.problem(line, "days", "calendar.import.json_shape")
		if _, ok := tok.(json.Delim); ok {
			// An object: skip it whole so the rest of the file is checked.
			return p.skipValue(dec, syntax)
		}
		return true
	}
	for dec.More() {
		line := ln.at(ln.skip(int(dec.InputOffset())))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			syntax(err)
			return false
		}
		if !p.more(line) {
			return false
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(v, &fields); err != nil || fields == nil {
			p.problem(line, "", "calendar.import.json_shape")
			continue
		}
		text := map[string]string{}
		bad := false
		for k, raw := range fields {
			if k != "date" && k != "kind" && k != "name" {
				p.problem(line, k, "calendar.import.unknown_field")
				bad = true
				continue
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				p.problem(line, k, "calendar.import.not_text")
				bad = true
				continue
			}
			text[k] = s
		}
		if !bad {
			p.row(line, text["date"], text["kind"], text["name"])
		}
	}
	if _, err := dec.Token(); err != nil {
		syntax(err)
		return false
	}
	return true
}

// skipValue skips the rest of an object or array whose opening delimiter
// was just read.
func (p *dayParser) skipValue(dec *json.Decoder, syntax func(error)) bool {
	for depth := 1; depth > 0; {
		tok, err := dec.Token()
		if err != nil {
			syntax(err)
			return false
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return true
}

// writeDays writes one year's exceptions in an import format, so that an
// export imports again unchanged.
func writeDays(w io.Writer, format string, year int, days []Day) error {
	switch format {
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write([]string{"date", "kind", "name"}); err != nil {
			return err
		}
		for _, d := range days {
			if err := cw.Write([]string{d.Date, string(d.Kind), d.Name}); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case FormatJSON:
		if days == nil {
			days = []Day{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Year int   `json:"year"`
			Days []Day `json:"days"`
		}{year, days})
	}
	return errs.Fields("calendar.write", map[string]string{"format": "calendar.import.format"})
}
