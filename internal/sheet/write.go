package sheet

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
)

// CSVWriter writes a spreadsheet as UTF-8 CSV with a byte-order mark
// (without it, Excel and WPS read UTF-8 as the local code page and garble
// Chinese) and CRLF line ends, as Excel writes CSV; every cell goes through
// CSVCell.
type CSVWriter struct {
	bw         *bufio.Writer
	cw         *csv.Writer
	buf        []string
	longNumber func(col int) bool
}

// NewCSVWriter writes to w; longNumber says which columns hold long numbers
// (identity or phone numbers in full) that must stay text.
func NewCSVWriter(w io.Writer, longNumber func(col int) bool) *CSVWriter {
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\uFEFF")
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	return &CSVWriter{bw: bw, cw: cw, longNumber: longNumber}
}

// Write writes one row.
func (c *CSVWriter) Write(cells []string) error {
	c.buf = c.buf[:0]
	for i, v := range cells {
		c.buf = append(c.buf, CSVCell(v, c.longNumber != nil && c.longNumber(i)))
	}
	return c.cw.Write(c.buf)
}

// Flush writes out what is buffered.
func (c *CSVWriter) Flush() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// XLSXWriter writes a one-sheet workbook through excelize's streaming
// writer, which keeps rows beyond its buffer in a temporary file, so a
// large export does not grow in memory; the workbook is assembled in Finish.
type XLSXWriter struct {
	w    io.Writer
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
}

// NewXLSXWriter starts a workbook whose sheet is called name, with column
// widths in characters by 1-based column number.
func NewXLSXWriter(w io.Writer, name string, widths map[int]float64) (*XLSXWriter, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		f.Close()
		return nil, err
	}
	for col, width := range widths {
		if err := sw.SetColWidth(col, col, width); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &XLSXWriter{w: w, f: f, sw: sw}, nil
}

// Write appends one row; strings stay text (so numbers keep every digit),
// numbers are numbers.
func (x *XLSXWriter) Write(cells []any) error {
	x.rows++
	return x.sw.SetRow("A"+strconv.Itoa(x.rows), cells)
}

// Rows is how many rows have been written, the header included.
func (x *XLSXWriter) Rows() int { return x.rows }

// Finish assembles the workbook and writes it out.
func (x *XLSXWriter) Finish() error {
	defer x.f.Close()
	if err := x.sw.Flush(); err != nil {
		return err
	}
	return x.f.Write(x.w)
}

// Abort drops the workbook and its temporary files.
func (x *XLSXWriter) Abort() { x.f.Close() }
