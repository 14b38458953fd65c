package catalog

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/sheet"
)

// The catalogue file: the national catalogue's own columns, then optional
// ones a platform adds. Export writes all of them; Import needs the first
// five.
const (
	colKind       = "kind"
	colCode       = "code"
	colMajorCode  = "major_code"
	colMajorName  = "major_name"
	colName       = "name"
	colNameEn     = "name_en"
	colDepartment = "department"
	colPublic     = "public"
)

// ImportFields are the columns Import understands, with the header names
// they also go by (matched loosely by sheet.MapColumns).
var ImportFields = []sheet.Field{
	{Key: colKind, Aliases: []string{"类型", "种类", "Kind"}, Required: true},
	{Key: colCode, Aliases: []string{"编码", "代码", "小类代码", "小类编码", "Code"}, Required: true},
	{Key: colMajorCode, Aliases: []string{"大类代码", "大类编码", "Major code"}, Required: true},
	{Key: colMajorName, Aliases: []string{"大类名称", "大类", "Major name"}, Required: true},
	{Key: colName, Aliases: []string{"名称", "小类名称", "Name"}, Required: true},
	{Key: colNameEn, Aliases: []string{"英文名称", "English name"}},
	{Key: colDepartment, Aliases: []string{"部门", "责任部门", "Department"}},
	{Key: colPublic, Aliases: []string{"居民可选", "公开", "Public"}},
}

// Import limits: a catalogue has a few hundred rows.
const (
	MaxImportBytes = 4 << 20
	MaxImportRows  = 5000
)

// RowProblem is one thing wrong with an imported file: the line (the row
// number a spreadsheet shows; 1 is the header), the column's field key ("" for
// the row or file as a whole) and an i18n message key.
type RowProblem struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// ImportError lists every problem of a rejected import. Import returns it
// as the cause of an errs.Invalid error; take it with errors.As.
type ImportError struct {
	Problems []RowProblem
}

func (e *ImportError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems", len(e.Problems))
	for i, p := range e.Problems {
		if i == 10 {
			b.WriteString("; …")
			break
		}
		fmt.Fprintf(&b, "; line %d %s: %s", p.Line, p.Field, p.Reason)
	}
	return b.String()
}

// importRow is a parsed data row: the category's columns, and which of the
// optional columns the file has (an absent column leaves the stored value
// alone; a present one sets it, even to "").
type importRow struct {
	line                                int
	cat                                 Category
	hasNameEn, hasDepartment, hasPublic bool
}

// parseImport reads a catalogue file (CSV in UTF-8 or GB18030, or XLSX, as
// package sheet reads them) and checks every row on its own: the department
// codes are checked against the database by the caller. It returns the rows
// it read, bad ones included, so that the caller can add its own problems;
// the rows are only good to apply when there are no problems. Problems are
// in line order.
func parseImport(data []byte) ([]importRow, []RowProblem) {
	r, err := sheet.Open(bytes.NewReader(data), int64(len(data)), "catalogue.csv")
	if err != nil {
		return nil, []RowProblem{sheetProblem(err)}
	}
	defer r.Close()
	header := r.Header()
	cols, colProblems := sheet.MapColumns(header, ImportFields, nil)
	if len(colProblems) > 0 {
		var ps []RowProblem
		for _, p := range colProblems {
			ps = append(ps, RowProblem{Line: 1, Field: p.Field, Reason: p.Reason})
		}
		return nil, ps
	}
	cell := func(row []string, field string) (string, bool) {
		i, ok := cols[field]
		if !ok {
			return "", false
		}
		return row[i], true
	}

	var rows []importRow
	var problems []RowProblem
	seen := map[catKey]bool{}
	groupNames := map[groupKey]string{}
	for {
		row, line, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, sheetProblem(err))
			break
		}
		if len(rows) >= MaxImportRows {
			problems = append(problems, RowProblem{Line: line, Reason: "catalog.import.too_many_rows"})
			break
		}
		bad := func(field, reason string) {
			problems = append(problems, RowProblem{Line: line, Field: field, Reason: reason})
		}
		ir := importRow{line: line}
		c := &ir.cat

		kind, _ := cell(row, colKind)
		c.Kind = parseKind(kind)
		if !c.Kind.Valid() {
			bad(colKind, "catalog.kind.unknown")
		}
		code, _ := cell(row, colCode)
		c.Code = padDigits(code, codeDigits)
		major, _ := cell(row, colMajorCode)
		c.Group = padDigits(major, groupDigits)
		switch {
		case !ValidCode(c.Code):
			bad(colCode, "catalog.code.format")
		case c.Kind == Component && LocalCode(c.Code):
			bad(colCode, "catalog.code.local_component")
		case c.Group != c.Code[:groupDigits]:
			bad(colMajorCode, "catalog.group.mismatch")
		}
		c.GroupName.Zh, _ = cell(row, colMajorName)
		checkCell(bad, colMajorName, c.GroupName.Zh, maxNameRunes, true)
		c.Name.Zh, _ = cell(row, colName)
		checkCell(bad, colName, c.Name.Zh, maxNameRunes, true)
		c.Name.En, ir.hasNameEn = cell(row, colNameEn)
		checkCell(bad, colNameEn, c.Name.En, maxNameEnRunes, false)
		c.Department, ir.hasDepartment = cell(row, colDepartment)
		if c.Department != "" && !ValidDepartmentCode(c.Department) {
			bad(colDepartment, "catalog.department.unknown")
		}
		if pub, ok := cell(row, colPublic); ok && pub != "" {
			v, valid := parseBool(pub)
			if !valid {
				bad(colPublic, "catalog.import.public")
			}
			c.Public, ir.hasPublic = v, true
		}

		if c.Kind.Valid() && ValidCode(c.Code) {
			k := catKey{c.Kind, c.Code}
			if seen[k] {
				bad(colCode, "catalog.import.duplicate")
			}
			seen[k] = true
			g := groupKey{c.Kind, c.Group}
			if name, ok := groupNames[g]; !ok {
				groupNames[g] = c.GroupName.Zh
			} else if name != c.GroupName.Zh {
				bad(colMajorName, "catalog.import.group_name_differs")
			}
		}
		rows = append(rows, ir)
	}
	if len(problems) == 0 && len(rows) == 0 {
		problems = append(problems, RowProblem{Line: 1, Reason: "catalog.import.no_rows"})
	}
	return rows, problems
}

// sheetProblem turns an error of package sheet into a problem at its line.
func sheetProblem(err error) RowProblem {
	var se *sheet.Error
	if errors.As(err, &se) {
		return RowProblem{Line: se.Line, Field: se.Header, Reason: se.Key}
	}
	return RowProblem{Reason: sheet.ErrKeyRead}
}

func checkCell(bad func(field, reason string), field, v string, max int, required bool) {
	switch {
	case required && v == "":
		bad(field, "error.field.required")
	case utf8.RuneCountInString(v) > max:
		bad(field, "error.field.too_long")
	case strings.ContainsAny(v, "\r\n\x00"):
		bad(field, "catalog.answer.one_line")
	}
}

// padDigits restores the leading zeros a spreadsheet program drops from a
// code it took for a number ("1001" → "01001"). Anything else stays as it is.
func padDigits(s string, n int) string {
	if len(s) < n && digits(s) {
		return strings.Repeat("0", n-len(s)) + s
	}
	return s
}

// parseKind reads a kind in English or Chinese.
func parseKind(s string) Kind {
	switch strings.ToLower(s) {
	case "component", "部件":
		return Component
	case "matter", "事项":
		return Matter
	}
	return ""
}

// parseBool reads yes or no as people type it.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "y", "1", "是", "对", "√":
		return true, true
	case "false", "no", "n", "0", "否", "不", "×":
		return false, true
	}
	if b, err := strconv.ParseBool(s); err == nil {
		return b, true
	}
	return false, false
}

// exportHeader is the header Export writes: the national catalogue's
// columns, then the platform's.
var exportHeader = []string{colKind, colCode, colMajorCode, colMajorName, colName, colNameEn, colDepartment, colPublic}

// writeCSV writes categories in the catalogue format, like the national
// catalogue file: UTF-8 without BOM, CRLF line ends. An export imports again
// unchanged.
func writeCSV(w io.Writer, cats []Category) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(exportHeader); err != nil {
		return err
	}
	for _, c := range cats {
		if err := cw.Write([]string{string(c.Kind), c.Code, c.Group, c.GroupName.Zh, c.Name.Zh, c.Name.En, c.Department,
			strconv.FormatBool(c.Public)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
