package sheet

import (
	"archive/zip"
	"errors"
	"io"
	"os"
	"strings"

	"github.com/xuri/excelize/v2"
)

const (
	// maxUnzipped bounds what a workbook may unpack to. A million rows of a
	// resident register come to about 1 GiB of XML; more is a zip bomb or not
	// a register.
	maxUnzipped = 2 << 30
	// unzipInMemory is the largest part kept in memory while reading: bigger
	// worksheets and shared-string tables go to temporary files, which
	// excelize then reads as streams.
	unzipInMemory = 1 << 20
)

// openXLSX opens the first sheet of a workbook for streaming.
//
// excelize.OpenReader reads the whole file into memory before anything else,
// while excelize.OpenFile reads the zip entries straight from the file; so the
// upload is first copied to a temporary file, which is removed as soon as it
// has been opened (excelize has by then unpacked what it needs).
func openXLSX(r io.ReaderAt, size int64) (Reader, error) {
	if err := checkZip(r, size); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp("", "gridhall-sheet-*.xlsx")
	if err != nil {
		return nil, &Error{Key: ErrKeyRead, Err: err}
	}
	defer os.Remove(tmp.Name())
	_, err = io.Copy(tmp, io.NewSectionReader(r, 0, size))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, &Error{Key: ErrKeyRead, Err: err}
	}
	f, err := excelize.OpenFile(tmp.Name(), excelize.Options{UnzipSizeLimit: maxUnzipped, UnzipXMLSizeLimit: unzipInMemory})
	if err != nil {
		return nil, &Error{Key: ErrKeyXLSX, Err: err}
	}
	src := &xlsxSource{f: f}
	rs := &rows{src: src}
	if err := src.start(); err != nil {
		_ = src.Close()
		return nil, err
	}
	if err := rs.start(); err != nil {
		_ = src.Close()
		return nil, err
	}
	return rs, nil
}

// checkZip looks at the zip's directory, without unpacking anything: it must
// hold a workbook's xl/ folder (so a .docx or .ods is told apart from an empty
// workbook) and unpack to at most maxUnzipped bytes.
func checkZip(r io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return &Error{Key: ErrKeyXLSX, Err: err}
	}
	var total uint64
	workbook := false
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if len(f.Name) > 3 && strings.EqualFold(f.Name[:3], "xl/") {
			workbook = true
		}
	}
	switch {
	case !workbook:
		return &Error{Key: ErrKeyXLSX, Err: errors.New("no xl/ folder: not an Excel workbook")}
	case total > maxUnzipped:
		return &Error{Key: ErrKeyTooLarge}
	}
	return nil
}

// xlsxSource yields the rows of the first sheet with their row numbers.
type xlsxSource struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

func (s *xlsxSource) start() error {
	sheets := s.f.GetSheetList()
	if len(sheets) == 0 {
		return &Error{Key: ErrKeyEmpty}
	}
	if err := isoDates(s.f); err != nil {
		return &Error{Key: ErrKeyXLSX, Err: err}
	}
	rows, err := s.f.Rows(sheets[0])
	if err != nil {
		return &Error{Key: ErrKeyXLSX, Err: err}
	}
	s.rows = rows
	return nil
}

func (s *xlsxSource) next() ([]string, int, error) {
	// Rows.Next counts every row number, also those missing from the file
	// because they are empty, so s.line is the row number Excel shows.
	for s.rows.Next() {
		s.line++
		cells, err := s.rows.Columns()
		if err != nil {
			return nil, 0, &Error{Key: ErrKeyXLSX, Line: s.line, Err: err}
		}
		if len(cells) > 0 {
			return cells, s.line, nil
		}
	}
	if err := s.rows.Error(); err != nil {
		return nil, 0, &Error{Key: ErrKeyXLSX, Line: s.line + 1, Err: err}
	}
	return nil, 0, io.EOF
}

// Close removes the temporary files excelize made.
func (s *xlsxSource) Close() error {
	var err error
	if s.rows != nil {
		err = s.rows.Close()
	}
	return errors.Join(err, s.f.Close())
}

// dateKind says whether a number format shows a date, a date and time, or
// neither (numbers, text, times of day, durations).
type dateKind int

const (
	notDate dateKind = iota
	dateOnly
	dateTime
)

// isoDates makes every date-formatted number read as an ISO date.
//
// Excel stores a date as a number of days and shows it through the cell's
// number format, which differs by locale and by whoever made the template:
// 2024/3/5, 2024年3月5日, 05-Mar-24. excelize's row iterator applies the
// format but does not say which format a cell had, so instead the workbook's
// date formats are replaced, in memory, before reading: every cell style
// with a date format gets "yyyy-mm-dd" (or "yyyy-mm-dd hh:mm:ss" when the
// format shows the time too), and every such date reads as 2006-01-02.
func isoDates(f *excelize.File) error {
	date, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("[$-409]yyyy-mm-dd")})
	if err != nil {
		return err
	}
	stamp, err := f.NewStyle(&excelize.Style{CustomNumFmt: ptr("[$-409]yyyy-mm-dd hh:mm:ss")})
	if err != nil {
		return err
	}
	xfs := f.Styles.CellXfs.Xf
	dateFmt, stampFmt := xfs[date].NumFmtID, xfs[stamp].NumFmtID
	custom := map[int]string{}
	if f.Styles.NumFmts != nil {
		for _, nf := range f.Styles.NumFmts.NumFmt {
			custom[nf.NumFmtID] = nf.FormatCode
			if nf.FormatCode16 != "" {
				custom[nf.NumFmtID] = nf.FormatCode16 // the one excelize applies
			}
		}
	}
	for i := range xfs {
		id := xfs[i].NumFmtID
		if id == nil || i == date || i == stamp {
			continue
		}
		kind := builtInDateKind(*id)
		if code, ok := custom[*id]; ok {
			kind = formatDateKind(code)
		}
		switch kind {
		case dateOnly:
			xfs[i].NumFmtID = dateFmt
		case dateTime:
			xfs[i].NumFmtID = stampFmt
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// builtInDateKind classifies Excel's built-in number formats (ECMA-376 Part 1,
// 18.8.30), reading 27–58 as a Chinese (zh-CN) Excel does.
func builtInDateKind(id int) dateKind {
	switch id {
	case 14, 15, 16, 17, // m/d/yy, d-mmm-yy, d-mmm, mmm-yy
		27, 28, 29, 30, 31, 36, // yyyy"年"m"月", m"月"d"日", m/d/yy, yyyy"年"m"月"d"日"
		50, 51, 52, 53, 54, 57, 58:
		return dateOnly
	case 22: // m/d/yy h:mm
		return dateTime
	}
	return notDate
}

// formatDateKind classifies a custom number format code by its first
// section: it shows a date when, outside quoted text, escapes and brackets, it
// has a year, day or era (y, d, e, g) or a month (m with no hour or second
// beside it, where m would mean minutes).
func formatDateKind(code string) dateKind {
	var b strings.Builder
	for i := 0; i < len(code); i++ {
		switch c := code[i]; c {
		case ';':
			i = len(code) // only the section for positive numbers
		case '"':
			if j := strings.IndexByte(code[i+1:], '"'); j >= 0 {
				i += j + 1
			} else {
				i = len(code)
			}
		case '\\', '_', '*':
			i++ // an escaped character, a space the width of one, a fill
		case '[':
			// Colours, conditions and locales ([Red], [>100], [$-804]) say
			// nothing of dates; an elapsed time ([h]:mm) is a duration.
			if j := strings.IndexByte(code[i:], ']'); j >= 0 {
				i += j
			} else {
				i = len(code)
			}
		default:
			b.WriteByte(c)
		}
	}
	s := strings.ToLower(b.String())
	for _, word := range []string{"general", "am/pm", "a/p"} {
		s = strings.ReplaceAll(s, word, "")
	}
	numeric := strings.ContainsAny(s, "0#?") // 0.00E+00 is not an era
	hasTime := strings.ContainsAny(s, "hs")
	hasDate := strings.ContainsAny(s, "yd") ||
		!numeric && strings.ContainsAny(s, "eg") ||
		!hasTime && strings.Contains(s, "m")
	switch {
	case hasDate && hasTime:
		return dateTime
	case hasDate:
		return dateOnly
	}
	return notDate
}
