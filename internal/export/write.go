package export

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/sheet"
)

// columns are the export's columns, by the machine name GeoJSON properties
// use; CSV and XLSX headers are the translations of "export.column.<name>".
var columns = []string{
	"number", "category", "category_name", "state", "channel",
	"grid_code", "grid_name", "community_name", "street_name", "address", "lat", "lng",
	"reported_at", "stage_due_at", "handle_due_at", "closed_at", "department", "rating", "description",
	"reporter_name", "reporter_phone", "reporter_email",
}

// Column positions that writers treat specially.
const (
	colLat   = 10
	colLng   = 11
	colPhone = 20
)

// maxXLSXRows is the most rows a worksheet holds (with its header row).
const maxXLSXRows = 1_048_576

// sink receives the rows of an export.
type sink interface {
	row(r *cases.ExportRow) error
	finish() error
	abort()
}

// newSink starts a file of format f in language lang on w.
func newSink(f Format, w io.Writer, tr *i18n.Bundle, lang string) (sink, error) {
	switch f {
	case XLSX:
		return newXLSXSink(w, tr, lang)
	case GeoJSON:
		return newGeoJSONSink(w), nil
	}
	return newCSVSink(w, tr, lang)
}

// cellWriter turns a row into the cells of a spreadsheet: words in the
// file's language, times in China Standard Time.
type cellWriter struct {
	tr    *i18n.Bundle
	lang  string
	cells []string
	words map[string]string // i18n key → word, so each is translated once
}

func newCellWriter(tr *i18n.Bundle, lang string) *cellWriter {
	return &cellWriter{tr: tr, lang: lang, cells: make([]string, len(columns)), words: map[string]string{}}
}

func (c *cellWriter) header() []string {
	h := make([]string, len(columns))
	for i, name := range columns {
		h[i] = c.word("export.column." + name)
	}
	return h
}

func (c *cellWriter) word(key string) string {
	w, ok := c.words[key]
	if !ok {
		w = c.tr.T(c.lang, key)
		c.words[key] = w
	}
	return w
}

func (c *cellWriter) fill(r *cases.ExportRow) []string {
	v := c.cells
	v[0], v[1], v[2] = r.Number, r.Category, r.CategoryName.In(c.lang)
	v[3], v[4] = c.word("case.state."+string(r.State)), c.word("cases.page.channel."+string(r.Channel))
	v[5], v[6], v[7], v[8] = r.GridCode, nodeName(r.Grid.NameZH, r.Grid.NameEN, c.lang),
		nodeName(r.Community.NameZH, r.Community.NameEN, c.lang), nodeName(r.Street.NameZH, r.Street.NameEN, c.lang)
	v[9] = r.Address
	v[colLat], v[colLng] = "", ""
	if r.Located {
		v[colLat], v[colLng] = strconv.FormatFloat(r.Lat, 'f', -1, 64), strconv.FormatFloat(r.Lng, 'f', -1, 64)
	}
	v[12], v[13], v[14], v[15] = localTime(r.CreatedAt), localTime(r.StageDueAt), localTime(r.HandleDueAt), localTime(r.ClosedAt)
	v[16] = r.Department.In(c.lang)
	v[17] = c.word("cases.page.rating." + strconv.Itoa(int(r.Rating)))
	v[18] = r.Description
	v[19], v[colPhone], v[21] = r.Contact.Name, r.Contact.Phone, r.Contact.Email
	return v
}

func nodeName(zh, en, lang string) string {
	if strings.HasPrefix(lang, "en") && en != "" {
		return en
	}
	return zh
}

// localTime is a time as people in China read it; "" for none.
func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(calendar.Location()).Format("2006-01-02 15:04:05")
}

// csvSink writes the export as CSV for spreadsheets (sheet.CSVWriter).
type csvSink struct {
	w     *sheet.CSVWriter
	cells *cellWriter
}

func newCSVSink(w io.Writer, tr *i18n.Bundle, lang string) (*csvSink, error) {
	s := &csvSink{w: sheet.NewCSVWriter(w, func(col int) bool { return col == colPhone }), cells: newCellWriter(tr, lang)}
	return s, s.w.Write(s.cells.header())
}

func (s *csvSink) row(r *cases.ExportRow) error { return s.w.Write(s.cells.fill(r)) }

func (s *csvSink) finish() error { return s.w.Flush() }

func (s *csvSink) abort() {}

// xlsxSink writes the export as a workbook (sheet.XLSXWriter).
type xlsxSink struct {
	w     *sheet.XLSXWriter
	buf   []any
	cells *cellWriter
}

func newXLSXSink(w io.Writer, tr *i18n.Bundle, lang string) (*xlsxSink, error) {
	// Widths in characters, so numbers, names and addresses show whole.
	xw, err := sheet.NewXLSXWriter(w, tr.T(lang, "export.sheet"),
		map[int]float64{1: 16, 3: 20, 7: 16, 10: 30, 13: 20, 14: 20, 15: 20, 16: 20, 17: 20, 19: 40})
	if err != nil {
		return nil, err
	}
	s := &xlsxSink{w: xw, cells: newCellWriter(tr, lang), buf: make([]any, len(columns))}
	if err := s.write(s.cells.header()); err != nil {
		xw.Abort()
		return nil, err
	}
	return s, nil
}

func (s *xlsxSink) row(r *cases.ExportRow) error {
	if s.w.Rows() >= maxXLSXRows {
		return errTooManyRows
	}
	v := s.cells.fill(r)
	for i, c := range v {
		s.buf[i] = c
	}
	// Coordinates are numbers, so a sheet can sort and map them; everything
	// else is text, so phone numbers keep every digit.
	if r.Located {
		s.buf[colLat], s.buf[colLng] = r.Lat, r.Lng
	}
	return s.w.Write(s.buf)
}

func (s *xlsxSink) write(cells []string) error {
	for i, c := range cells {
		s.buf[i] = c
	}
	return s.w.Write(s.buf)
}

func (s *xlsxSink) finish() error { return s.w.Finish() }

func (s *xlsxSink) abort() { s.w.Abort() }

// geoJSONSink writes an RFC 7946 FeatureCollection, one feature per line:
// a point for each located case (null geometry otherwise) and the columns as
// properties, with codes rather than words and times in RFC 3339, for GIS
// tools rather than people.
type geoJSONSink struct {
	bw    *bufio.Writer
	first bool
	buf   []byte
}

func newGeoJSONSink(w io.Writer) *geoJSONSink {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(`{"type":"FeatureCollection","features":[`)
	return &geoJSONSink{bw: bw, first: true}
}

func (s *geoJSONSink) row(r *cases.ExportRow) error {
	b := s.buf[:0]
	if !s.first {
		b = append(b, ',')
	}
	s.first = false
	b = append(b, "\n{\"type\":\"Feature\",\"geometry\":"...)
	if r.Located {
		b = append(b, `{"type":"Point","coordinates":[`...)
		b = strconv.AppendFloat(b, r.Lng, 'f', -1, 64)
		b = append(b, ',')
		b = strconv.AppendFloat(b, r.Lat, 'f', -1, 64)
		b = append(b, "]}"...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"properties":{"id":`...)
	b = strconv.AppendInt(b, r.ID, 10)
	str := func(name, v string) {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendJSONString(b, v)
	}
	str("number", r.Number)
	str("category", r.Category)
	str("category_name", r.CategoryName.Zh)
	str("category_name_en", r.CategoryName.En)
	str("state", string(r.State))
	str("channel", string(r.Channel))
	str("grid_code", r.GridCode)
	str("grid_name", r.Grid.NameZH)
	str("community_name", r.Community.NameZH)
	str("street_name", r.Street.NameZH)
	str("address", r.Address)
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"reported_at", r.CreatedAt}, {"stage_due_at", r.StageDueAt}, {"handle_due_at", r.HandleDueAt}, {"closed_at", r.ClosedAt}} {
		if t.at.IsZero() {
			continue
		}
		b = append(b, ',', '"')
		b = append(b, t.name...)
		b = append(b, `":"`...)
		b = t.at.In(calendar.Location()).AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	str("department", r.Department.Zh)
	b = append(b, `,"rating":`...)
	b = strconv.AppendInt(b, int64(r.Rating), 10)
	str("description", r.Description)
	str("reporter_name", r.Contact.Name)
	str("reporter_phone", r.Contact.Phone)
	str("reporter_email", r.Contact.Email)
	b = append(b, "}}"...)
	s.buf = b
	_, err := s.bw.Write(b)
	return err
}

func (s *geoJSONSink) finish() error {
	s.bw.WriteString("\n]}\n")
	return s.bw.Flush()
}

func (s *geoJSONSink) abort() {}

// appendJSONString appends v as a JSON string. Invalid UTF-8 becomes U+FFFD,
// as encoding/json does; <, > and & are escaped so the file is safe to
// embed in a page.
func appendJSONString(b []byte, v string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(v); {
		c := v[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			b = append(b, v[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
