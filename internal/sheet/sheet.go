// Package sheet reads the spreadsheets community staff fill in, CSV or XLSX,
// one row at a time, so that an import of a million residents needs no more
// memory than one of a hundred; and it maps their column headers, written in
// Chinese or English, to the fields an import expects.
//
// It knows nothing of residents or houses: callers turn rows into records and
// report the problems of each row by its line number. Errors that stop the
// reading are *Error values carrying an i18n message key, the row and the
// column, so every face can tell the user in their language where to look.
package sheet

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Limits of what a sheet may hold. They bound the memory one row can take and
// stop a wrong file (a binary, a log) from being read as a giant row.
const (
	// MaxCellBytes is the longest cell, in bytes of UTF-8: no field of the
	// registry comes close, so a longer cell is a mistake in the file.
	MaxCellBytes = 4096
	// MaxColumns is the most columns a header may have.
	MaxColumns = 200
	// maxRecordBytes bounds one CSV record as it is read, before it is split
	// into cells, so a file with a runaway quote cannot fill the memory.
	maxRecordBytes = MaxColumns*(MaxCellBytes+3) + 64<<10
)

// Reader yields the rows of a CSV or XLSX file one at a time. It is not safe
// for concurrent use.
type Reader interface {
	// Header returns the header row: its cells trimmed, empty cells at its
	// end dropped. It has at least one column and at most MaxColumns, and no
	// two columns with the same name (compared as MapColumns tells headers
	// apart). The caller must not change it.
	Header() []string
	// Next returns the next data row, its cells trimmed and padded or cut to
	// len(Header()), and its line: the row number a spreadsheet program shows
	// for it, the header's being the first row that has anything in it (1 in
	// most files). For CSV a quoted cell spanning several lines of text is one
	// row, as Excel and WPS show it. Rows with nothing but empty cells are
	// skipped. The row is valid until the next call: copy what you keep.
	// Next returns io.EOF after the last row; any other error is an *Error
	// that ends the reading, and later calls return it again.
	Next() (row []string, line int, err error)
	// Close removes the temporary files of an XLSX reader; call it always.
	Close() error
}

// Error is a problem that stops a sheet from being read. Key is an i18n
// message key; Line (the row as in Reader.Next) and Column (1-based) say where,
// when known, and Header names the column when it has a name. Err keeps the
// cause for logs.
type Error struct {
	Key    string
	Line   int
	Column int
	Header string
	Err    error
}

// The error keys.
const (
	ErrKeyEmpty           = "sheet.error.empty"            // no header row
	ErrKeyXLS             = "sheet.error.xls"              // the old binary .xls, or an encrypted workbook
	ErrKeyXLSX            = "sheet.error.xlsx"             // a zip that is not a readable workbook
	ErrKeyTooLarge        = "sheet.error.too_large"        // a workbook that unpacks to more than 2 GiB
	ErrKeyHeaderEmpty     = "sheet.error.header_empty"     // a column without a name between named ones
	ErrKeyHeaderDuplicate = "sheet.error.header_duplicate" // two columns with the same name
	ErrKeyTooManyColumns  = "sheet.error.too_many_columns" // more than MaxColumns columns
	ErrKeyQuote           = "sheet.error.quote"            // CSV quotes that do not pair up
	ErrKeyCellTooLong     = "sheet.error.cell_too_long"    // a cell longer than MaxCellBytes
	ErrKeyRowTooLong      = "sheet.error.row_too_long"     // a CSV record longer than the longest possible row
	ErrKeyRead            = "sheet.error.read"             // the file could not be read
)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("sheet")
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d", e.Column)
		if e.Header != "" {
			fmt.Fprintf(&b, " (%s)", e.Header)
		}
	}
	b.WriteString(": " + e.Key)
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

var (
	zipMagic = []byte("PK\x03\x04")
	// oleMagic starts a Compound File: the binary .xls of Excel 97–2003, and
	// also the wrapper of a password-protected .xlsx.
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Open starts reading a sheet of size bytes. It tells XLSX from CSV by the
// content (a zip archive is XLSX; the binary .xls of Excel 97–2003 is refused
// with a key asking to save as .xlsx) and then by name's extension, reads the
// header and checks it. CSV may be UTF-8 (with or without BOM), UTF-16 with a
// BOM (Excel's "Unicode text") or GB18030 (what Chinese Excel and WPS save as
// "CSV"), delimited by commas, tabs or semicolons; of an XLSX workbook the
// first sheet is read. Errors are *Error values.
func Open(r io.ReaderAt, size int64, name string) (Reader, error) {
	head := make([]byte, 8)
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, &Error{Key: ErrKeyRead, Err: err}
	}
	head = head[:n]
	ext := strings.ToLower(filepath.Ext(name))
	switch {
	case n == 0:
		return nil, &Error{Key: ErrKeyEmpty}
	case bytes.Equal(head, oleMagic):
		return nil, &Error{Key: ErrKeyXLS}
	case bytes.HasPrefix(head, zipMagic), ext == ".xlsx" || ext == ".xlsm":
		return openXLSX(r, size)
	}
	// Anything else is read as text, .xls included: many systems export
	// tab-separated text under that name.
	return openCSV(r, size)
}

// rowSource is what the CSV and XLSX readers have in common: raw rows with
// their line numbers. io.EOF ends them.
type rowSource interface {
	next() (cells []string, line int, err error)
}

// rows turns raw rows into the Reader's rows: trimmed, checked against the
// limits, empty ones skipped, fitted to the header.
type rows struct {
	src    rowSource
	header []string
	out    []string // reused: rows are handed out one at a time
	err    error
}

// start reads and checks the header: the first row with anything in it.
func (r *rows) start() error {
	for {
		cells, line, err := r.src.next()
		if err == io.EOF {
			return &Error{Key: ErrKeyEmpty}
		}
		if err != nil {
			return err
		}
		if err := checkCells(cells, line, nil); err != nil {
			return err
		}
		trimCells(cells)
		end := len(cells)
		for end > 0 && cells[end-1] == "" {
			end-- // Excel keeps empty cells that were once formatted
		}
		if end == 0 {
			continue
		}
		header := append([]string(nil), cells[:end]...)
		if len(header) > MaxColumns {
			return &Error{Key: ErrKeyTooManyColumns, Line: line, Column: MaxColumns + 1}
		}
		seen := make(map[string]int, len(header))
		for i, h := range header {
			if h == "" {
				return &Error{Key: ErrKeyHeaderEmpty, Line: line, Column: i + 1}
			}
			k := nameKey(h)
			if j, dup := seen[k]; dup {
				return &Error{Key: ErrKeyHeaderDuplicate, Line: line, Column: i + 1, Header: h, Err: fmt.Errorf("same as column %d (%s)", j+1, header[j])}
			}
			seen[k] = i
		}
		r.header = header
		r.out = make([]string, len(header))
		return nil
	}
}

func (r *rows) Header() []string { return r.header }

// Close closes the source when it has anything to close.
func (r *rows) Close() error {
	if c, ok := r.src.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

func (r *rows) Next() ([]string, int, error) {
	if r.err != nil {
		return nil, 0, r.err
	}
	for {
		cells, line, err := r.src.next()
		if err != nil {
			r.err = err
			return nil, 0, err
		}
		if len(cells) > len(r.header) {
			cells = cells[:len(r.header)] // what is under no header belongs to no field
		}
		if err := checkCells(cells, line, r.header); err != nil {
			r.err = err
			return nil, 0, err
		}
		clear(r.out)
		empty := true
		for i, c := range cells {
			r.out[i] = strings.TrimSpace(c)
			if r.out[i] != "" {
				empty = false
			}
		}
		if !empty {
			return r.out, line, nil
		}
	}
}

// checkCells applies the cell limit.
func checkCells(cells []string, line int, header []string) error {
	for i, c := range cells {
		if len(c) > MaxCellBytes && len(strings.TrimSpace(c)) > MaxCellBytes {
			e := &Error{Key: ErrKeyCellTooLong, Line: line, Column: i + 1}
			if i < len(header) {
				e.Header = header[i]
			}
			return e
		}
	}
	return nil
}

func trimCells(cells []string) {
	for i, c := range cells {
		cells[i] = strings.TrimSpace(c)
	}
}
