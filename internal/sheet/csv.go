package sheet

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// openCSV picks the encoding and the delimiter and reads the header.
func openCSV(r io.ReaderAt, size int64) (Reader, error) {
	text, err := decodeCSV(r, size)
	if err != nil {
		return nil, err
	}
	// The header decides the delimiter, so look at its line before the CSV
	// reader takes the stream.
	br := bufio.NewReaderSize(text, 64<<10)
	first, err := br.Peek(64 << 10)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, &Error{Key: ErrKeyRead, Err: err}
	}
	first = bytes.TrimLeft(first, "\r\n") // blank lines before the header
	if i := bytes.IndexByte(first, '\n'); i >= 0 {
		first = first[:i]
	}
	src := &csvSource{guard: &recordGuard{r: br}}
	src.cr = csv.NewReader(src.guard)
	src.cr.Comma = delimiter(first)
	src.cr.FieldsPerRecord = -1 // ragged rows are padded, not refused
	src.cr.ReuseRecord = true
	rs := &rows{src: src}
	if err := rs.start(); err != nil {
		return nil, err
	}
	return rs, nil
}

// decodeCSV returns the file as UTF-8 text. A BOM decides; without one the
// file is UTF-8 if every byte sequence in it is valid UTF-8, else GB18030:
// the whole file is checked, because a sheet with an English header can have
// its first Chinese name a million rows down. GB18030 is a superset of GBK and
// GB2312, so it reads whatever a Chinese Excel or WPS saved. Invalid bytes
// become U+FFFD in every encoding, so every cell is valid UTF-8.
func decodeCSV(r io.ReaderAt, size int64) (io.Reader, error) {
	sr := io.NewSectionReader(r, 0, size)
	bom := make([]byte, 3)
	n, err := sr.ReadAt(bom, 0)
	if err != nil && err != io.EOF {
		return nil, &Error{Key: ErrKeyRead, Err: err}
	}
	bom = bom[:n]
	var dec *encoding.Decoder
	skip := int64(0)
	switch {
	case bytes.HasPrefix(bom, bomUTF8):
		dec, skip = unicode.UTF8.NewDecoder(), 3
	case bytes.HasPrefix(bom, bomUTF16LE):
		dec, skip = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM).NewDecoder(), 2
	case bytes.HasPrefix(bom, bomUTF16BE):
		dec, skip = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewDecoder(), 2
	default:
		valid, err := validUTF8(io.NewSectionReader(r, 0, size))
		if err != nil {
			return nil, &Error{Key: ErrKeyRead, Err: err}
		}
		if valid {
			return io.NewSectionReader(r, 0, size), nil
		}
		dec = simplifiedchinese.GB18030.NewDecoder()
	}
	return transform.NewReader(io.NewSectionReader(r, skip, size-skip), dec), nil
}

// validUTF8 reads r to the end and reports whether it is valid UTF-8, in
// constant memory.
func validUTF8(r io.Reader) (bool, error) {
	buf := make([]byte, 64<<10)
	carry := 0 // bytes of a character cut by the end of the previous read
	for {
		n, err := r.Read(buf[carry:])
		n += carry
		end := n
		if err == nil {
			// Hold back an incomplete character at the end for the next read.
			start := n - 1
			for start > 0 && start > n-utf8.UTFMax && !utf8.RuneStart(buf[start]) {
				start--
			}
			if start >= 0 && !utf8.FullRune(buf[start:n]) {
				end = start
			}
		}
		if !utf8.Valid(buf[:end]) {
			return false, nil
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		carry = copy(buf, buf[end:n])
	}
}

// delimiter picks the comma unless the header line has more tabs (Excel's
// "Unicode text" and "text" exports) or semicolons (CSV from European locales).
func delimiter(header []byte) rune {
	commas := bytes.Count(header, []byte{','})
	tabs := bytes.Count(header, []byte{'\t'})
	semis := bytes.Count(header, []byte{';'})
	switch {
	case tabs > commas && tabs >= semis:
		return '\t'
	case semis > commas && semis > tabs:
		return ';'
	}
	return ','
}

// errRecordTooLong stops the CSV reader inside a record that has grown past
// maxRecordBytes.
var errRecordTooLong = errors.New("record longer than the longest possible row")

// recordGuard counts the bytes handed to the CSV reader and fails once the
// record being read, the bytes past the end of the last full record, passes
// maxRecordBytes. encoding/csv keeps a whole record in memory, so without it a
// quote that is never closed would read the rest of the file into one cell.
type recordGuard struct {
	r    io.Reader
	read int64
	// recordEnd is where the last full record ended, set by csvSource.
	// (csv.Reader.InputOffset moves on line by line, inside records too.)
	recordEnd int64
}

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.read-g.recordEnd > maxRecordBytes {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	g.read += int64(n)
	return n, err
}

// csvSource yields CSV records with their row numbers.
type csvSource struct {
	cr    *csv.Reader
	guard *recordGuard
	// row and endLine are the row number and the last text line of the
	// previous record: each record's row is the previous row plus the lines
	// between them, so blank lines count as rows (encoding/csv skips them, a
	// spreadsheet program shows them) and lines inside quoted cells do not.
	row, endLine int
}

func (s *csvSource) next() ([]string, int, error) {
	rec, err := s.cr.Read()
	if err == io.EOF {
		return nil, 0, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			line := s.row + pe.StartLine - s.endLine
			if errors.Is(err, errRecordTooLong) {
				return nil, 0, &Error{Key: ErrKeyRowTooLong, Line: line, Err: err}
			}
			return nil, 0, &Error{Key: ErrKeyQuote, Line: line, Err: err}
		case errors.Is(err, errRecordTooLong):
			return nil, 0, &Error{Key: ErrKeyRowTooLong, Line: s.row + 1, Err: err}
		}
		return nil, 0, &Error{Key: ErrKeyRead, Line: s.row + 1, Err: err}
	}
	s.guard.recordEnd = s.cr.InputOffset()
	start, _ := s.cr.FieldPos(0)
	last, _ := s.cr.FieldPos(len(rec) - 1)
	s.row += start - s.endLine
	s.endLine = last + strings.Count(rec[len(rec)-1], "\n")
	return rec, s.row, nil
}
