package people

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/sheet"
	"github.com/gridhall/gridhall/internal/territory"
)

// Spreadsheet import of the registry.
//
// An import reads the file twice. Pass 1 validates every row with the rules
// of the registration form (NewResident.validate) plus what only a file has
// (a known building, a duplicate within the file, one against the registry)
// and keeps, per row, only the 16-byte blind index of its document and its
// line number, for finding duplicates. Pass 2, when the whole file is valid or
// the user asked for the valid rows only, reads the file again and writes it
// inside one transaction, in batches of importInsertRows rows, so an import
// is applied whole or not at all. The file itself is never held in memory:
// the sheet package streams it (see sheet.Open), and the two passes re-open
// it from its io.ReaderAt.
//
// Memory, measured by TestImportStreamsInBoundedMemory and
// BenchmarkImport1M: the duplicate set takes 20 bytes per row (20 MB for a
// million rows), the bad-row set one bit per line, the list of problems at
// most maxListedProblems entries, the buildings of the importer's scope
// (thousands) and, in pass 2, a cache of at most importHouseCache houses and
// 8 bytes for each house created; nothing else grows with the file. On
// SQLite the import's transaction also gets a page cache of 128 MiB (see
// importCache), outside the Go heap.

// Import limits and batch sizes.
const (
	// MaxImportRows is the most data rows one import may hold. It bounds
	// the duplicate set (20 MB) and the transaction of pass 2; a larger
	// register is imported in parts.
	MaxImportRows = 1_000_000
	// maxListedProblems is how many problems a report lists; the count of
	// bad rows is always complete, and Truncated says when more exist.
	maxListedProblems = 1000
	// importInsertRows is how many rows pass 2 writes at a time: the
	// houses and households of the batch in one INSERT each, its residents
	// in one INSERT on PostgreSQL (see importInsertResidents for SQLite).
	// 200 rows of 15 values stay far below the parameter limits of both
	// engines (SQLite 32,766, PostgreSQL 65,535), while the per-statement
	// cost is spread over enough rows to no longer matter.
	importInsertRows = 200
	// importLookupBatch is how many blind indexes one registry lookup asks
	// about: one indexed IN query per 500 rows instead of one per row.
	importLookupBatch = 500
	// importHouseCache bounds pass 2's cache of houses and their latest
	// household. A miss is answered by the database inside the import's
	// transaction, which sees the houses and households written so far, so
	// the cache only saves queries: files are usually sorted by house and
	// almost always hit it.
	importHouseCache = 50_000
)

// Positions of the import fields in ImportFields.
const (
	imfName = iota
	imfDocNumber
	imfDocKind
	imfGender
	imfBirth
	imfPhone
	imfRegistration
	imfBuilding
	imfUnit
	imfHouse
	imfFloor
	imfRelation
	imfMoveIn
	imfTags
	imfCount
)

// ImportFields are the columns an import understands, with the header names
// they go by in Chinese and English (matched loosely by sheet.MapColumns).
// The aliases include the export's headers in both languages, so that a
// revealed export imports again as it is.
var ImportFields = []sheet.Field{
	imfName:         {Key: "name", Aliases: []string{"姓名", "名字", "居民姓名", "Name", "Full name"}, Required: true},
	imfDocNumber:    {Key: "document_number", Aliases: []string{"身份证号", "身份证号码", "公民身份号码", "证件号码", "证件号", "ID number", "ID card number", "Document number"}, Required: true},
	imfDocKind:      {Key: "document_kind", Aliases: []string{"证件类型", "证件种类", "Document type", "Document kind"}},
	imfGender:       {Key: "gender", Aliases: []string{"性别", "Gender", "Sex"}},
	imfBirth:        {Key: "birth_date", Aliases: []string{"出生日期", "出生年月日", "Birth date", "Date of birth"}},
	imfPhone:        {Key: "phone", Aliases: []string{"联系电话", "手机号", "手机号码", "电话", "Phone", "Mobile", "Telephone"}},
	imfRegistration: {Key: "registration", Aliases: []string{"户籍类型", "人口类型", "Registration"}},
	imfBuilding:     {Key: "building", Aliases: []string{"楼栋", "楼栋地址", "地址", "楼栋名称", "Building", "Building address", "Address"}, Required: true},
	imfUnit:         {Key: "unit", Aliases: []string{"单元", "单元号", "Unit"}},
	imfHouse:        {Key: "house", Aliases: []string{"门牌号", "房号", "室", "房间号", "House", "House number", "Room"}, Required: true},
	imfFloor:        {Key: "floor", Aliases: []string{"楼层", "所在楼层", "Floor"}},
	imfRelation:     {Key: "relation", Aliases: []string{"与户主关系", "关系", "Relation", "Relationship", "Relation to head"}},
	imfMoveIn:       {Key: "move_in", Aliases: []string{"入住日期", "入住时间", "迁入日期", "Move-in date", "Moved in"}},
	imfTags:         {Key: "tags", Aliases: []string{"标签", "人员标签", "Tags"}},
}

// impFieldOf finds an import field by key; the registration form's field
// keys (NewResident's JSON names) are the same as the import's.
var impFieldOf = func() map[string]int {
	m := make(map[string]int, len(ImportFields))
	for i, f := range ImportFields {
		m[f.Key] = i
	}
	return m
}()

// ImportOptions are the user's choices for an import.
type ImportOptions struct {
	// Mapping is the field key → header chosen by the user in the mapping
	// step; nil maps automatically. See sheet.MapColumns.
	Mapping map[string]string
	// ValidOnly imports the valid rows even when some are bad; they are
	// skipped and reported.
	ValidOnly bool
	// DryRun validates only: nothing is written.
	DryRun bool
}

// RowProblem is one thing wrong with one row: where (the row number a
// spreadsheet shows, the column's header) and why (an i18n key).
type RowProblem struct {
	Line    int    `json:"line"`
	Column  string `json:"column"` // the header text; "" when the field has no column
	Field   string `json:"field"`  // the field key; "" for a problem of the file itself
	Reason  string `json:"reason"` // i18n key
	Message string `json:"message,omitempty"`
	// Other is the earlier row a duplicate repeats: the message of
	// "people.import.duplicate_in_file" takes it as its argument.
	Other int `json:"other_line,omitempty"`
}

// Args are the arguments of the problem's message.
func (p RowProblem) Args() []any {
	if p.Other > 0 {
		return []any{p.Other}
	}
	return nil
}

// ImportReport says what an import found and did.
type ImportReport struct {
	Headers        []string              `json:"headers"`
	Mapping        map[string]string     `json:"mapping"` // field → header as used
	ColumnProblems []sheet.ColumnProblem `json:"column_problems,omitempty"`
	Rows           int                   `json:"rows"`       // data rows read
	Valid          int                   `json:"valid"`      // rows without problems
	Imported       int                   `json:"imported"`   // residents written
	Households     int                   `json:"households"` // households created
	Houses         int                   `json:"houses"`     // houses created
	// Problems lists the problems in row order, at most 1,000 of them;
	// Truncated says there are more.
	Problems  []RowProblem `json:"problems"`
	Truncated bool         `json:"truncated"`
	DryRun    bool         `json:"dry_run"`
	ValidOnly bool         `json:"valid_only"`
}

// Localize fills the Message of every problem with t, a translation into
// the user's language (for instance a bound i18n.Bundle.T).
func (r *ImportReport) Localize(t func(key string, args ...any) string) {
	for i := range r.Problems {
		r.Problems[i].Message = t(r.Problems[i].Reason, r.Problems[i].Args()...)
	}
}

// Import reads a CSV or XLSX register of residents and adds them, creating
// the houses and households they live in. Every row is checked (see the
// file comment above); when any is bad, nothing is written unless
// opt.ValidOnly, and the error, errs.Invalid "people.import.rejected", comes
// with the report listing each problem. Column problems fail with
// "people.import.columns", more than MaxImportRows rows with
// "people.import.too_many_rows", an unreadable file with the sheet's key.
// The caller bounds the file's size.
func (s *Service) Import(ctx context.Context, actor auth.Actor, file io.ReaderAt, size int64, name string, opt ImportOptions) (ImportReport, error) {
	const op = "people.Import"
	rep := ImportReport{Headers: []string{}, Mapping: map[string]string{}, Problems: []RowProblem{}, DryRun: opt.DryRun, ValidOnly: opt.ValidOnly}
	if err := s.ready(op); err != nil {
		return rep, err
	}
	if len(scopesFor(actor, auth.WritePeople)) == 0 {
		return rep, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	imp, err := s.newImporter(ctx, actor)
	if err != nil {
		return rep, errs.Wrap(op, err)
	}
	r, err := sheet.Open(file, size, name)
	if err != nil {
		return rep, importFileError(op, err, &rep)
	}
	header := r.Header()
	rep.Headers = slices.Clone(header)
	cols, colProblems := sheet.MapColumns(header, ImportFields, opt.Mapping)
	for k, c := range cols {
		rep.Mapping[k] = header[c]
	}
	if len(colProblems) > 0 {
		_ = r.Close()
		rep.ColumnProblems = colProblems
		return rep, errs.E(errs.Invalid, op, "people.import.columns")
	}
	imp.setColumns(header, cols)

	chk, err := imp.check(ctx, r)
	_ = r.Close()
	rep.Rows = chk.rows
	rep.Valid = chk.rows - chk.bad.count()
	rep.Problems, rep.Truncated = chk.problems.sorted()
	if err != nil {
		return rep, importFileError(op, err, &rep)
	}
	switch {
	case rep.Rows == 0:
		return rep, errs.E(errs.Invalid, op, "people.import.no_rows")
	case rep.Valid < rep.Rows && !opt.ValidOnly:
		return rep, errs.E(errs.Invalid, op, "people.import.rejected", rep.Rows-rep.Valid)
	case opt.DryRun || rep.Valid == 0:
		return rep, nil
	}

	if err := s.beforeImportTx(ctx); err != nil {
		return rep, errs.Wrap(op, err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		r, err := sheet.Open(file, size, name)
		if err != nil {
			return err
		}
		defer r.Close()
		restore, err := s.importCache(ctx, tx)
		if err != nil {
			return err
		}
		defer restore()
		w := imp.newWriter(ctx, tx)
		if err := imp.write(ctx, r, chk.bad, w); err != nil {
			return err
		}
		if w.imported != rep.Valid {
			return fmt.Errorf("import: pass 2 wrote %d rows, pass 1 found %d valid: the file changed", w.imported, rep.Valid)
		}
		rep.Imported, rep.Households, rep.Houses = w.imported, w.newHouseholds, w.newHouses
		// One entry for the whole import: counts and the file's name, never
		// a resident's data.
		return s.record(ctx, tx, actor, audit.Record{Action: "resident.import", ObjectType: "resident", ScopePath: w.scope,
			Detail: map[string]any{"file": auditFileName(name), "rows": rep.Rows, "imported": rep.Imported, "skipped": rep.Rows - rep.Valid,
				"households": rep.Households, "houses": rep.Houses, "valid_only": opt.ValidOnly}})
	})
	if err != nil {
		rep.Imported, rep.Households, rep.Houses = 0, 0, 0
		if db.IsUniqueViolation(err) {
			// Someone registered one of these people (or added one of these
			// houses) between the check and the write: nothing was written.
			return rep, errs.E(errs.Conflict, op, "people.import.conflict")
		}
		return rep, errs.Wrap(op, err)
	}
	return rep, nil
}

// SQLite settings for the import's one large transaction. (They belong in
// package db beside the other pragmas; they are here while only the import
// needs them.)
//
// beforeImportTx keeps statement journals in memory on the writer
// connection: inside a transaction SQLite copies every page a multi-row
// statement changes to a statement journal, so that it can undo that
// statement alone, and by default the journal spills to a temporary file
// past 64 KiB, which came to five file writes per imported row. It must be
// set before the transaction begins, and stays: it only moves a bounded,
// per-statement journal from a file into memory.
func (s *Service) beforeImportTx(ctx context.Context) error {
	if s.db.Engine != db.SQLite {
		return nil
	}
	_, err := s.db.ExecContext(ctx, "PRAGMA temp_store = MEMORY")
	return err
}

// importCache gives the transaction's connection a 128 MiB page cache
// until restore is called. A million residents add some 150 MB of randomly
// ordered index entries (the document and phone blind indexes, the birth
// dates); with SQLite's default 2 MiB cache nearly every insert reads and
// writes pages through the WAL. Inserting a million sealed rows alone took
// 90 s with 64 MiB, 58 s with 128 MiB and 56–61 s with 256 MiB on a
// two-core server. The cache is SQLite's memory, outside the Go heap, and
// bounded whatever the file's size.
func (s *Service) importCache(ctx context.Context, tx *sql.Tx) (restore func(), err error) {
	if s.db.Engine != db.SQLite {
		return func() {}, nil
	}
	var was int
	if err := tx.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&was); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -131072"); err != nil {
		return nil, err
	}
	return func() {
		// The connection is the app's one writer: put its cache back even
		// when the import's context is done.
		_, _ = tx.ExecContext(context.Background(), "PRAGMA cache_size = "+strconv.Itoa(was))
	}, nil
}

// auditFileName keeps the last element of an upload's name, shortened: it
// says which file was imported without carrying a client's folders.
func auditFileName(name string) string {
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	if r := []rune(name); len(r) > 100 {
		name = string(r[:100])
	}
	return name
}

// importFileError turns an error that stopped the reading into the import's
// error; a sheet error that names a row is listed as that row's problem.
func importFileError(op string, err error, rep *ImportReport) error {
	var se *sheet.Error
	if !errors.As(err, &se) {
		return errs.Wrap(op, err)
	}
	if se.Line > 0 {
		p := RowProblem{Line: se.Line, Column: se.Header, Reason: se.Key}
		if len(rep.Problems) < maxListedProblems {
			rep.Problems = append(rep.Problems, p)
			slices.SortStableFunc(rep.Problems, func(a, b RowProblem) int { return a.Line - b.Line })
		} else {
			rep.Truncated = true
		}
	}
	return &errs.Error{Code: errs.Invalid, Op: op, Msg: se.Key, Err: err}
}

// impBuilding is a building an import may attach houses to.
type impBuilding struct {
	id        int64
	gridPath  string
	ambiguous bool // a name shared by several buildings of the scope
}

// importer holds what both passes need: the columns, the buildings of the
// importer's scope and the tag dictionary.
type importer struct {
	s      *Service
	actor  auth.Actor
	today  time.Time
	header []string
	col    [imfCount]int // column of each field, -1 when it has none
	// byAddress finds a building by the AddressKey of its address, byName
	// by that of its name (only among the buildings the actor may write in).
	byAddress, byName map[string]impBuilding
	tags              map[string]string // impKey of a code or name → code
}

func (s *Service) newImporter(ctx context.Context, actor auth.Actor) (*importer, error) {
	imp := &importer{s: s, actor: actor, today: s.today(), byAddress: map[string]impBuilding{}, byName: map[string]impBuilding{}, tags: map[string]string{}}
	// The buildings are loaded once, a page of 500 at a time: a scope has
	// thousands, and looking each row's building up in a map beats a query
	// per row by three orders of magnitude. Buildings outside the actor's
	// write scope are left out, so that they read as unknown: an import
	// does not reveal what exists elsewhere.
	var after int64
	for {
		bs, err := s.terr.Buildings(ctx, actor, territory.BuildingFilter{AfterID: after, Limit: 500})
		if errs.Is(err, errs.Forbidden) {
			break
		}
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			if !auth.Can(actor, auth.WritePeople, b.GridPath) {
				continue
			}
			ib := impBuilding{id: b.ID, gridPath: b.GridPath}
			imp.byAddress[territory.AddressKey(b.Address)] = ib
			k := territory.AddressKey(b.Name)
			if prev, ok := imp.byName[k]; ok && prev.id != b.ID {
				ib.ambiguous = true
			}
			imp.byName[k] = ib
		}
		if len(bs) < 500 {
			break
		}
		after = bs[len(bs)-1].ID
	}
	dict, err := s.st.importTagNames(ctx, s.db)
	if err != nil {
		return nil, err
	}
	for _, t := range dict {
		for _, n := range t.names {
			imp.tags[impKey(n)] = t.code
		}
	}
	// Derived tags are no dictionary entries, but naming one is a mistake
	// of its own, which validate reports as such.
	for _, code := range []string{TagAged60, TagLivesAlone} {
		imp.tags[impKey(code)] = code
	}
	return imp, nil
}

func (imp *importer) setColumns(header []string, cols map[string]int) {
	imp.header = header
	for i := range imp.col {
		imp.col[i] = -1
	}
	for k, c := range cols {
		imp.col[impFieldOf[k]] = c
	}
}

// impRow is a parsed, validated row.
type impRow struct {
	c        cleaned
	rel      Relation // as written; "" when the row does not say
	building impBuilding
	unit     string
	number   string
	floor    int
}

// rowProblems collects the problems of one row, one per field.
type rowProblems struct {
	imp  *importer
	line int
	list []RowProblem
	seen [imfCount]bool
}

func (p *rowProblems) add(field int, reason string) {
	if p.seen[field] {
		return // the first problem of a field is the one to fix first
	}
	p.seen[field] = true
	col := ""
	if c := p.imp.col[field]; c >= 0 {
		col = p.imp.header[c]
	}
	p.list = append(p.list, RowProblem{Line: p.line, Column: col, Field: ImportFields[field].Key, Reason: reason})
}

// parse reads and validates one row. It is pure but for the maps loaded by
// newImporter, so both passes see the same verdict on the same row.
func (imp *importer) parse(cells []string, p *rowProblems) impRow {
	var v [imfCount]string
	for f, c := range imp.col {
		if c < 0 {
			continue
		}
		s := cells[c]
		if strings.IndexByte(s, 0) >= 0 {
			p.add(f, "people.import.nul")
			continue
		}
		// A leading apostrophe is how spreadsheet users force text (for
		// identity numbers, which Excel would round): it is not data.
		v[f] = strings.TrimSpace(strings.TrimPrefix(s, "'"))
	}
	var row impRow
	in := NewResident{HouseID: 1, Name: v[imfName], DocumentNumber: v[imfDocNumber], Phone: v[imfPhone]}
	if s := v[imfDocKind]; s != "" {
		if in.DocumentKind = lookupWord(impDocKinds, s); in.DocumentKind == "" {
			p.add(imfDocKind, problemDocKind)
			p.seen[imfDocNumber] = true // its form depends on the kind
		}
	}
	if s := v[imfGender]; s != "" {
		if in.Gender = lookupWord(impGenders, s); in.Gender == "" {
			p.add(imfGender, "people.gender.unknown")
		}
	}
	if s := v[imfBirth]; s != "" {
		d, ok := impDate(s)
		if !ok {
			p.add(imfBirth, "people.date.invalid")
		}
		in.BirthDate = d
	}
	if s := v[imfRegistration]; s != "" {
		if in.Registration = lookupWord(impRegistrations, s); in.Registration == "" {
			p.add(imfRegistration, "people.registration.unknown")
		}
	}
	if s := v[imfRelation]; s != "" {
		if row.rel = lookupWord(impRelations, s); row.rel == "" {
			p.add(imfRelation, "people.relation.unknown")
		}
		in.Relation = row.rel
	}
	if s := v[imfMoveIn]; s != "" {
		d, ok := impDate(s)
		if !ok {
			p.add(imfMoveIn, "people.date.invalid")
		}
		in.MoveIn = d
	}
	if s := v[imfTags]; s != "" {
		for t := range strings.FieldsFuncSeq(s, isTagSeparator) {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			code, ok := imp.tags[t]
			if !ok {
				code, ok = imp.tags[impKey(t)]
			}
			if !ok {
				p.add(imfTags, "people.tag.unknown")
				break
			}
			in.Tags = append(in.Tags, code)
		}
	}
	switch b := v[imfBuilding]; {
	case p.seen[imfBuilding]:
	case b == "":
		p.add(imfBuilding, "error.field.required")
	default:
		k := territory.AddressKey(b)
		var ok bool
		if row.building, ok = imp.byAddress[k]; !ok {
			row.building, ok = imp.byName[k]
		}
		switch {
		case !ok:
			p.add(imfBuilding, "people.import.building_unknown")
		case row.building.ambiguous:
			p.add(imfBuilding, "people.import.building_ambiguous")
		}
	}
	row.unit = strings.TrimSuffix(norm.NFKC.String(v[imfUnit]), "单元")
	if utf8.RuneCountInString(row.unit) > 20 {
		p.add(imfUnit, "error.field.too_long")
	}
	row.number = strings.TrimSuffix(norm.NFKC.String(v[imfHouse]), "室")
	switch n := utf8.RuneCountInString(row.number); {
	case n == 0:
		p.add(imfHouse, "error.field.required")
	case n > 20:
		p.add(imfHouse, "error.field.too_long")
	}
	if s := v[imfFloor]; s != "" {
		f, ok := impFloor(s)
		if !ok {
			p.add(imfFloor, "people.import.floor")
		}
		row.floor = f
	}
	c, f := in.validate(imp.today)
	for k, reason := range f {
		if i, ok := impFieldOf[k]; ok {
			p.add(i, reason)
		}
	}
	// validate reports a map; problems of one row are listed by column.
	slices.SortFunc(p.list, func(a, b RowProblem) int { return impFieldOf[a.Field] - impFieldOf[b.Field] })
	row.c = c
	return row
}

func isTagSeparator(r rune) bool {
	switch r {
	case ',', '，', '、', ';', '；', '|', '\n':
		return true
	}
	return false
}

// impKey is the form in which values typed into a sheet are compared with
// the words an import knows: full-width forms folded (NFKC), lower case,
// without spaces, punctuation and symbols.
func impKey(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r):
			return -1
		}
		return unicode.ToLower(r)
	}, norm.NFKC.String(s))
}

// lookupWord finds a typed value among the words of an import, trying the
// value as it is before its impKey: most cells hold a word exactly as the
// import knows it, and normalising a million cells costs seconds.
func lookupWord[T ~string](words map[string]T, s string) T {
	if v, ok := words[s]; ok {
		return v
	}
	return words[impKey(s)]
}

// impDate reads a date as people type it or Excel shows it: 2006-01-02,
// 2006/1/2, 2006.1.2, 20060102, 2006年1月2日, and a date-time whose time is
// dropped. It returns the date as 2006-01-02.
func impDate(s string) (string, bool) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && allASCII(s[:4], isDigit) && allASCII(s[5:7], isDigit) && allASCII(s[8:], isDigit) {
		// Already 2006-01-02, as most cells are (and as XLSX dates read):
		// only the calendar needs checking.
		if _, err := time.Parse(dateLayout, s); err == nil {
			return s, true
		}
		return "", false
	}
	s = strings.TrimSpace(norm.NFKC.String(s))
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i]
	}
	s = dateSeparators.Replace(s)
	var parts []string
	if len(s) == 8 && allASCII(s, isDigit) {
		parts = []string{s[:4], s[4:6], s[6:]}
	} else {
		parts = strings.Split(s, "-")
	}
	if len(parts) != 3 || len(parts[0]) != 4 {
		return "", false
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 4 || !allASCII(p, isDigit) {
			return "", false
		}
		n[i], _ = strconv.Atoi(p)
	}
	t := time.Date(n[0], time.Month(n[1]), n[2], 0, 0, 0, 0, time.UTC)
	if t.Year() != n[0] || int(t.Month()) != n[1] || t.Day() != n[2] {
		return "", false // 2023-02-30 would roll over into March
	}
	return t.Format(dateLayout), true
}

var dateSeparators = strings.NewReplacer("年", "-", "月", "-", "日", "", "/", "-", ".", "-")

// impFloor reads a floor: a whole number from -5 to 200, optionally
// followed by 层, 楼 or F as people write it.
func impFloor(s string) (int, bool) {
	s = strings.TrimSpace(norm.NFKC.String(s))
	for _, suffix := range []string{"层", "楼", "F", "f"} {
		s = strings.TrimSuffix(s, suffix)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < -5 || n > 200 {
		return 0, false
	}
	return n, true
}

// The words of the import's enumerated columns, and of the export, in
// Chinese and English. Each code also matches itself.
var (
	docKindNames = map[string][2]string{
		DocIDCard: {"居民身份证", "ID card"}, DocPassport: {"护照", "Passport"},
		DocHKMacaoPermit: {"港澳居民来往内地通行证", "Hong Kong/Macao permit"}, DocTaiwanPermit: {"台湾居民来往大陆通行证", "Taiwan permit"},
		DocForeignPermanent: {"外国人永久居留身份证", "Foreign permanent residence ID"}, DocOther: {"其他证件", "Other document"},
	}
	genderNames       = map[Gender][2]string{Male: {"男", "Male"}, Female: {"女", "Female"}}
	registrationNames = map[Registration][2]string{Registered: {"户籍", "registered"}, Floating: {"流动", "floating"}, Foreign: {"境外", "foreign"}}
	relationNames     = map[Relation][2]string{
		Head: {"户主", "head"}, Spouse: {"配偶", "spouse"}, Child: {"子女", "child"}, Parent: {"父母", "parent"},
		Grandchild: {"孙子女", "grandchild"}, Sibling: {"兄弟姐妹", "sibling"}, Other: {"其他", "other"},
	}
)

// impWords builds a lookup by impKey from the names of each value, the value
// itself, and further words people use.
func impWords[T ~string](names map[T][2]string, more map[string]T) map[string]T {
	m := map[string]T{}
	for v, n := range names {
		m[impKey(string(v))], m[impKey(n[0])], m[impKey(n[1])] = v, v, v
	}
	for w, v := range more {
		m[impKey(w)] = v
	}
	return m
}

var (
	impDocKinds = impWords(docKindNames, map[string]string{
		"身份证": DocIDCard, "港澳通行证": DocHKMacaoPermit, "回乡证": DocHKMacaoPermit, "台胞证": DocTaiwanPermit,
		"永久居留证": DocForeignPermanent, "其他": DocOther,
	})
	impGenders       = impWords(genderNames, map[string]Gender{"男性": Male, "女性": Female, "M": Male, "F": Female})
	impRegistrations = impWords(registrationNames, map[string]Registration{
		"户籍人口": Registered, "流动人口": Floating, "境外人员": Foreign, "境外人口": Foreign,
	})
	impRelations = impWords(relationNames, map[string]Relation{
		"本人": Head, "户主本人": Head, "head of household": Head,
		"妻": Spouse, "妻子": Spouse, "夫": Spouse, "丈夫": Spouse,
		"子": Child, "女": Child, "儿子": Child, "女儿": Child, "长子": Child, "长女": Child, "次子": Child, "次女": Child,
		"父亲": Parent, "母亲": Parent, "孙子": Grandchild, "孙女": Grandchild, "外孙子": Grandchild, "外孙女": Grandchild,
		"兄弟": Sibling, "姐妹": Sibling, "哥哥": Sibling, "弟弟": Sibling, "姐姐": Sibling, "妹妹": Sibling,
	})
)

// importCheck is what pass 1 keeps.
type importCheck struct {
	rows     int
	bad      lineSet
	problems problemList
}

// check is pass 1: it validates every row, finds duplicates within the file
// and against the registry, and returns what pass 2 needs, which is which
// lines are bad. An error is returned for a file that cannot be read to
// its end, and with it what was found so far.
func (imp *importer) check(ctx context.Context, r sheet.Reader) (importCheck, error) {
	var chk importCheck
	var docs docSet
	pending := make([]pendingDoc, 0, importLookupBatch)
	probs := rowProblems{imp: imp}
	for {
		cells, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return chk, err
		}
		chk.rows++
		if chk.rows > MaxImportRows || line > 1<<31-1 {
			chk.rows--
			return chk, errs.E(errs.Invalid, "people.Import", "people.import.too_many_rows", MaxImportRows)
		}
		if chk.rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return chk, err
			}
		}
		probs.line, probs.list, probs.seen = line, probs.list[:0], [imfCount]bool{}
		row := imp.parse(cells, &probs)
		if len(probs.list) > 0 {
			chk.bad.add(line)
			for _, p := range probs.list {
				chk.problems.add(p)
			}
		}
		if row.c.documentNorm == "" {
			continue
		}
		index := imp.s.documentIndex(row.c.DocumentKind, row.c.documentNorm)
		docs.add(index, line)
		pending = append(pending, pendingDoc{index, line})
		if len(pending) == importLookupBatch {
			if err := imp.lookupRegistry(ctx, pending, &chk); err != nil {
				return chk, err
			}
			pending = pending[:0]
		}
	}
	if err := imp.lookupRegistry(ctx, pending, &chk); err != nil {
		return chk, err
	}
	docs.duplicates(func(line, first int) {
		chk.bad.add(line)
		col := ""
		if c := imp.col[imfDocNumber]; c >= 0 {
			col = imp.header[c]
		}
		chk.problems.add(RowProblem{Line: line, Column: col, Field: ImportFields[imfDocNumber].Key, Reason: "people.import.duplicate_in_file", Other: first})
	})
	return chk, nil
}

type pendingDoc struct {
	index string
	line  int
}

// lookupRegistry marks the rows whose document is already registered, in
// one query for the whole batch.
func (imp *importer) lookupRegistry(ctx context.Context, batch []pendingDoc, chk *importCheck) error {
	if len(batch) == 0 {
		return nil
	}
	indexes := make([]string, len(batch))
	for i, p := range batch {
		indexes[i] = p.index
	}
	found, err := imp.s.st.importRegistered(ctx, imp.s.db, indexes)
	if err != nil {
		return err
	}
	col := ""
	if c := imp.col[imfDocNumber]; c >= 0 {
		col = imp.header[c]
	}
	for _, p := range batch {
		if found[p.index] {
			chk.bad.add(p.line)
			chk.problems.add(RowProblem{Line: p.line, Column: col, Field: ImportFields[imfDocNumber].Key, Reason: "people.id.duplicate"})
		}
	}
	return nil
}

// docSet holds the blind index and line of every document in a file, 20
// bytes a row, in chunks of 65,536 entries: growing by chunks never copies
// (a doubling slice would briefly need twice the memory), and sorted chunks
// merge into one ordered stream in which duplicates are neighbours. A hash
// set would take about twice the memory for the same job.
type docSet struct {
	chunks [][]docEntry
}

type docEntry struct {
	digest [16]byte
	line   int32
}

const docChunk = 1 << 16

func (d *docSet) add(index string, line int) {
	var e docEntry
	if n, err := hex.Decode(e.digest[:], []byte(index)); err != nil || n != len(e.digest) {
		panic("people: a blind index is not 16 bytes of hex") // seal.BlindIndex always makes one
	}
	e.line = int32(line)
	if n := len(d.chunks); n == 0 || len(d.chunks[n-1]) == docChunk {
		d.chunks = append(d.chunks, make([]docEntry, 0, docChunk))
	}
	last := &d.chunks[len(d.chunks)-1]
	*last = append(*last, e)
}

func compareDocs(a, b docEntry) int {
	if c := bytes.Compare(a.digest[:], b.digest[:]); c != 0 {
		return c
	}
	return int(a.line - b.line)
}

// duplicates calls fn for every entry whose digest an earlier line has, with
// that first line. It sorts the chunks and merges them; with at most 16
// chunks (a million rows) picking the smallest head by a scan is as fast as
// a heap.
func (d *docSet) duplicates(fn func(line, first int)) {
	for _, c := range d.chunks {
		slices.SortFunc(c, compareDocs)
	}
	heads := make([]int, len(d.chunks))
	var prev docEntry
	havePrev := false
	for {
		best := -1
		for i, c := range d.chunks {
			if heads[i] < len(c) && (best < 0 || compareDocs(c[heads[i]], d.chunks[best][heads[best]]) < 0) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		e := d.chunks[best][heads[best]]
		heads[best]++
		if havePrev && e.digest == prev.digest {
			fn(int(e.line), int(prev.line))
			continue // prev stays the first line of this document
		}
		prev, havePrev = e, true
	}
}

// lineSet is a set of line numbers, one bit each.
type lineSet []uint64

func (s *lineSet) add(line int) {
	i := line / 64
	if i >= len(*s) {
		*s = append(*s, make([]uint64, i+1-len(*s)+len(*s)/4)...)
	}
	(*s)[i] |= 1 << (line % 64)
}

func (s lineSet) has(line int) bool {
	i := line / 64
	return i < len(s) && s[i]&(1<<(line%64)) != 0
}

func (s lineSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// problemList keeps the maxListedProblems first problems by row and column
// (problems arrive out of order: duplicates are found after the last row),
// in a max-heap whose top is the one to drop, and counts them all.
type problemList struct {
	heap  []RowProblem
	total int
}

func problemLess(a, b RowProblem) bool {
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	return impFieldOf[a.Field] < impFieldOf[b.Field]
}

func (l *problemList) add(p RowProblem) {
	l.total++
	h := l.heap
	if len(h) == maxListedProblems {
		if !problemLess(p, h[0]) {
			return
		}
		h[0] = p
		l.down(0)
		return
	}
	l.heap = append(h, p)
	for i := len(l.heap) - 1; i > 0; {
		parent := (i - 1) / 2
		if !problemLess(l.heap[parent], l.heap[i]) {
			break
		}
		l.heap[parent], l.heap[i] = l.heap[i], l.heap[parent]
		i = parent
	}
}

func (l *problemList) down(i int) {
	h := l.heap
	for {
		big, left, right := i, 2*i+1, 2*i+2
		if left < len(h) && problemLess(h[big], h[left]) {
			big = left
		}
		if right < len(h) && problemLess(h[big], h[right]) {
			big = right
		}
		if big == i {
			return
		}
		h[i], h[big] = h[big], h[i]
		i = big
	}
}

// sorted returns the kept problems in row order, and whether some were not kept.
func (l *problemList) sorted() ([]RowProblem, bool) {
	out := slices.Clone(l.heap)
	if out == nil {
		out = []RowProblem{}
	}
	slices.SortStableFunc(out, func(a, b RowProblem) int {
		switch {
		case problemLess(a, b):
			return -1
		case problemLess(b, a):
			return 1
		}
		return 0
	})
	return out, l.total > len(out)
}

// write is pass 2: it reads the file again and writes every row that pass 1
// did not find bad. Reading, checking and sealing the rows (a third of the
// work) runs in a goroutine of its own, a few batches ahead of the one that
// writes them, so that the two use both cores of a small server.
func (imp *importer) write(ctx context.Context, r sheet.Reader, bad lineSet, w *impWriter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []impPending, 4)
	var readErr error
	go func() {
		defer close(batches)
		readErr = imp.produce(ctx, r, bad, batches)
	}()
	var err error
	for b := range batches {
		if err != nil {
			continue // drain, so that the reader ends
		}
		if err = w.write(b); err != nil {
			cancel()
		}
	}
	if err != nil {
		return err
	}
	return readErr // the channel's closing orders this read after the write
}

// produce reads, checks and seals the rows to write, and sends them in
// batches of importInsertRows.
func (imp *importer) produce(ctx context.Context, r sheet.Reader, bad lineSet, out chan<- []impPending) error {
	probs := rowProblems{imp: imp}
	batch := make([]impPending, 0, importInsertRows)
	send := func() error {
		select {
		case out <- batch:
			batch = make([]impPending, 0, importInsertRows)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for {
		cells, line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if bad.has(line) {
			continue
		}
		probs.line, probs.list, probs.seen = line, probs.list[:0], [imfCount]bool{}
		row := imp.parse(cells, &probs)
		if len(probs.list) > 0 {
			return fmt.Errorf("import: line %d was valid in pass 1 and is not in pass 2: the file changed", line)
		}
		sealed, err := imp.s.sealRow(row.c)
		if err != nil {
			return err
		}
		sealed.gridPath = row.building.gridPath
		batch = append(batch, impPending{row: sealed, tags: row.c.Tags, key: houseKey(row.building.id, row.unit, row.number),
			building: row.building.id, unit: row.unit, number: row.number, floor: row.floor, rel: row.rel})
		if len(batch) == importInsertRows {
			if err := send(); err != nil {
				return err
			}
		}
	}
	if len(batch) == 0 {
		return nil
	}
	return send()
}

// impWriter writes the rows of pass 2 in batches, inside the import's
// transaction.
type impWriter struct {
	ctx   context.Context
	s     *Service
	tx    engineTx
	now   int64
	batch []impPending
	// houses caches each house seen (by building, unit and number) with the
	// household that rows of that house join: the latest one this import
	// started there, or else the latest one already registered.
	houses map[string]*impHouse
	// hadHouses says whether a building had houses before this import
	// first wrote to it; created holds a hash of the address of every house
	// the import created, 8 bytes each. A house missing from the cache is
	// new, without asking the database, unless its building had houses or
	// its hash is among those created (perhaps another house's: that only
	// costs a lookup). This spares the lookups of a community's first
	// import, where every house is new.
	hadHouses map[int64]bool
	created   map[uint64]struct{}
	seed      maphash.Seed
	// headless are the households this import started with a member who
	// is not the head (a head listed after a member): a head row that
	// comes later in the same house becomes their head.
	headless    map[int64]bool
	placeholder int64
	// What was written, and the narrowest scope containing all of it.
	imported, newHouseholds, newHouses int
	scope                              string
	scoped                             bool
}

type impHouse struct {
	id        int64
	household int64 // 0: none yet; negative: a placeholder until the batch's households are inserted
}

// impPending is a row waiting in the batch.
type impPending struct {
	row       residentRow
	tags      []string
	key       string
	building  int64
	unit      string
	number    string
	floor     int
	rel       Relation
	household int64
	head      bool
}

func (imp *importer) newWriter(ctx context.Context, tx *sql.Tx) *impWriter {
	return &impWriter{ctx: ctx, s: imp.s, tx: engineTx{tx, imp.s.db.Engine == db.SQLite, map[string]*sql.Stmt{}}, now: db.Millis(imp.s.clock.Now()), houses: map[string]*impHouse{}, hadHouses: map[int64]bool{}, created: map[uint64]struct{}{}, seed: maphash.MakeSeed(), headless: map[int64]bool{}}
}

func houseKey(building int64, unit, number string) string {
	return strconv.FormatInt(building, 10) + "\x00" + unit + "\x00" + number
}

// write writes one batch.
func (w *impWriter) write(batch []impPending) error {
	for _, p := range batch {
		if !w.scoped {
			w.scope, w.scoped = p.row.gridPath, true
		} else if !auth.Within(w.scope, p.row.gridPath) {
			w.scope = commonScope(w.scope, p.row.gridPath)
		}
	}
	w.batch = batch
	return w.flush()
}

// commonScope returns the longest path, by whole segments, that contains both.
func commonScope(a, b string) string {
	for !auth.Within(a, b) {
		i := strings.LastIndexByte(a, '/')
		if i < 0 {
			return ""
		}
		a = a[:i]
	}
	return a
}

// flush writes the batch: houses that do not exist yet, households that
// rows start, the residents, the heads of new households, the tags. Each is
// one statement for the whole batch.
func (w *impWriter) flush() error {
	if len(w.batch) == 0 {
		return nil
	}
	if len(w.houses) > importHouseCache {
		clear(w.houses)
	}
	if err := w.resolveHouses(); err != nil {
		return err
	}
	if err := w.assignHouseholds(); err != nil {
		return err
	}
	ids, err := w.insertResidents()
	if err != nil {
		return err
	}
	var heads [][2]int64
	var tags []residentTag
	for i, p := range w.batch {
		if p.head {
			heads = append(heads, [2]int64{p.household, ids[i]})
		}
		for _, t := range p.tags {
			tags = append(tags, residentTag{ids[i], t})
		}
	}
	if err := w.setHeads(heads); err != nil {
		return err
	}
	if err := w.insertTags(tags); err != nil {
		return err
	}
	w.imported += len(w.batch)
	clear(w.batch) // drop the sealed values before the next batch
	w.batch = w.batch[:0]
	return nil
}

// resolveHouses finds the houses of the batch missing from the cache, in the
// database or else by creating them.
func (w *impWriter) resolveHouses() error {
	var missing []int // the first row of each missing house
	seen := map[string]bool{}
	for i, p := range w.batch {
		if w.houses[p.key] == nil && !seen[p.key] {
			seen[p.key] = true
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var unknown []int64
	for _, i := range missing {
		if b := w.batch[i].building; !slices.Contains(unknown, b) {
			if _, ok := w.hadHouses[b]; !ok {
				unknown = append(unknown, b)
			}
		}
	}
	if len(unknown) > 0 {
		with, err := w.s.st.importBuildingsWithHouses(w.ctx, w.tx, unknown)
		if err != nil {
			return err
		}
		for _, b := range unknown {
			w.hadHouses[b] = with[b]
		}
	}
	var keys []impHouseKey
	var create []impPending
	mayExist := func(p impPending) bool {
		_, made := w.created[maphash.String(w.seed, p.key)]
		return made || w.hadHouses[p.building]
	}
	for _, i := range missing {
		p := w.batch[i]
		if mayExist(p) {
			keys = append(keys, impHouseKey{p.building, p.unit, p.number})
		} else {
			create = append(create, p)
		}
	}
	if len(keys) > 0 {
		found, err := w.s.st.importFindHouses(w.ctx, w.tx, keys)
		if err != nil {
			return err
		}
		for _, i := range missing {
			p := w.batch[i]
			if !mayExist(p) {
				continue
			}
			if h, ok := found[impHouseKey{p.building, p.unit, p.number}]; ok {
				w.houses[p.key] = &impHouse{id: h[0], household: h[1]}
			} else {
				create = append(create, p)
			}
		}
	}
	if len(create) == 0 {
		return nil
	}
	created, err := w.s.st.importInsertHouses(w.ctx, w.tx, create, w.now)
	if err != nil {
		return err
	}
	for _, p := range create {
		w.houses[p.key] = &impHouse{id: created[impHouseKey{p.building, p.unit, p.number}]}
		w.created[maphash.String(w.seed, p.key)] = struct{}{}
	}
	w.newHouses += len(create)
	return nil
}

// assignHouseholds decides the household of each row, in file order:
//   - a head starts a household, unless the house's latest household was
//     started by this import with a member who is not the head (the head
//     was listed after them): then the head joins it and becomes its head;
//   - any other row joins the latest household this import started in the
//     house, or else the latest one already registered there;
//   - failing both, the row starts a household: as its head when the row
//     does not say its relation (a sheet without a relation column makes
//     the first row of each house its head), else headless for now.
//
// New households get placeholder ids, replaced once they are inserted.
func (w *impWriter) assignHouseholds() error {
	type newHousehold struct {
		house       int64
		gridPath    string
		placeholder int64
	}
	var created []newHousehold
	start := func(p *impPending, h *impHouse) {
		w.placeholder--
		created = append(created, newHousehold{h.id, p.row.gridPath, w.placeholder})
		h.household, p.household = w.placeholder, w.placeholder
	}
	for i := range w.batch {
		p := &w.batch[i]
		h := w.houses[p.key]
		switch {
		case p.rel == Head && h.household != 0 && w.headless[h.household]:
			p.household, p.head = h.household, true
			delete(w.headless, h.household)
		case p.rel == Head:
			start(p, h)
			p.head = true
		case h.household != 0:
			p.household = h.household
			if p.rel == "" {
				p.row.relation = Other // validate made a row without a relation the head
			}
		default:
			start(p, h)
			if p.rel == "" {
				p.head = true // validate already made it the head
			} else {
				w.headless[p.household] = true
			}
		}
	}
	if len(created) == 0 {
		return nil
	}
	houses := make([]int64, len(created))
	paths := make([]string, len(created))
	for i, c := range created {
		houses[i], paths[i] = c.house, c.gridPath
	}
	ids, err := w.s.st.importInsertHouseholds(w.ctx, w.tx, houses, paths, w.now)
	if err != nil {
		return err
	}
	byPlaceholder := make(map[int64]int64, len(created))
	for i, c := range created {
		byPlaceholder[c.placeholder] = ids[i]
	}
	for i := range w.batch {
		p := &w.batch[i]
		if p.household < 0 {
			p.household = byPlaceholder[p.household]
		}
		if h := w.houses[p.key]; h.household < 0 {
			h.household = byPlaceholder[h.household]
		}
	}
	for ph := range w.headless {
		if ph < 0 {
			delete(w.headless, ph)
			w.headless[byPlaceholder[ph]] = true
		}
	}
	w.newHouseholds += len(created)
	return nil
}

func (w *impWriter) insertResidents() ([]int64, error) {
	rows := make([]residentRow, len(w.batch))
	for i, p := range w.batch {
		rows[i] = p.row
		rows[i].householdID = p.household
	}
	return w.s.st.importInsertResidents(w.ctx, w.tx, rows, w.now)
}

func (w *impWriter) setHeads(heads [][2]int64) error {
	if len(heads) == 0 {
		return nil
	}
	return w.s.st.importSetHeads(w.ctx, w.tx, heads, w.now)
}

type residentTag struct {
	resident int64
	code     string
}

func (w *impWriter) insertTags(tags []residentTag) error {
	for len(tags) > 0 {
		n := min(len(tags), 500)
		if err := w.s.st.importInsertTags(w.ctx, w.tx, tags[:n]); err != nil {
			return err
		}
		tags = tags[n:]
	}
	return nil
}

// The import's SQL. It lives here rather than in store.go because it is the
// import's alone: multi-row statements sized to the batch.

// sqlArgs collects the parameters of a statement as its text is built, and
// writes each one's placeholder. On PostgreSQL that is $n. On SQLite it is an
// anonymous ?: SQLite treats $n as a parameter *name*, and both parsing and
// binding look names up in a list, which makes a statement of 2,600
// parameters quadratic — it took 70% of an import's time. Anonymous
// parameters are numbered by position and cost nothing to find. (The
// difference belongs in package db; it is here while only the import needs
// statements this large.)
type sqlArgs struct {
	sqlite bool
	args   []any
	b      strings.Builder
}

func newSQLArgs(q db.Querier, capacity int) *sqlArgs {
	return &sqlArgs{sqlite: isSQLite(q), args: make([]any, 0, capacity)}
}

// isSQLite tells the engine behind a querier: the service's *db.DB, or a
// transaction, whose driver it finds through the connection's type.
func isSQLite(q db.Querier) bool {
	switch v := q.(type) {
	case *db.DB:
		return v.Engine == db.SQLite
	case engineTx:
		return v.sqlite
	}
	return false
}

// engineTx is a transaction that knows its engine, and keeps the
// statements an import runs again and again prepared: parsing an INSERT of
// 200 rows costs as much as running it.
type engineTx struct {
	*sql.Tx
	sqlite bool
	stmts  map[string]*sql.Stmt
}

// prepared returns the transaction's prepared statement for text.
func (t engineTx) prepared(ctx context.Context, text string) (*sql.Stmt, error) {
	if st, ok := t.stmts[text]; ok {
		return st, nil
	}
	st, err := t.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	t.stmts[text] = st
	return st, nil
}

// sql writes text.
func (a *sqlArgs) sql(text string) *sqlArgs {
	a.b.WriteString(text)
	return a
}

// arg adds a parameter and writes its placeholder.
func (a *sqlArgs) arg(v any) *sqlArgs {
	a.args = append(a.args, v)
	if a.sqlite {
		a.b.WriteByte('?')
	} else {
		a.b.WriteByte('$')
		a.b.WriteString(strconv.Itoa(len(a.args)))
	}
	return a
}

// row writes one parenthesised group of parameters, preceded by a comma
// unless it is the first.
func (a *sqlArgs) row(first bool, vals ...any) *sqlArgs {
	if !first {
		a.b.WriteString(", ")
	}
	a.b.WriteByte('(')
	for i, v := range vals {
		if i > 0 {
			a.b.WriteString(", ")
		}
		a.arg(v)
	}
	a.b.WriteByte(')')
	return a
}

func (a *sqlArgs) query(ctx context.Context, q db.Querier) (*sql.Rows, error) {
	return q.QueryContext(ctx, a.b.String(), a.args...)
}

// queryPrepared runs the statement through a prepared statement when q is
// an import's transaction: for statements of the same text every batch.
func (a *sqlArgs) queryPrepared(ctx context.Context, q db.Querier) (*sql.Rows, error) {
	t, ok := q.(engineTx)
	if !ok {
		return a.query(ctx, q)
	}
	st, err := t.prepared(ctx, a.b.String())
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, a.args...)
}

func (a *sqlArgs) exec(ctx context.Context, q db.Querier) error {
	_, err := q.ExecContext(ctx, a.b.String(), a.args...)
	return err
}

type importTag struct {
	code  string
	names []string
}

// importTagNames returns the tag dictionary with the names a sheet may use.
func (store) importTagNames(ctx context.Context, q db.Querier) ([]importTag, error) {
	rows, err := q.QueryContext(ctx, "SELECT code, name_zh, name_en FROM tags ORDER BY code")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []importTag
	for rows.Next() {
		var code, zh, en string
		if err := rows.Scan(&code, &zh, &en); err != nil {
			return nil, err
		}
		out = append(out, importTag{code, []string{code, zh, en}})
	}
	return out, rows.Err()
}

// importRegistered returns which of the document blind indexes belong to a
// live resident: an IN list served by the unique index residents_document.
func (store) importRegistered(ctx context.Context, q db.Querier, indexes []string) (map[string]bool, error) {
	a := newSQLArgs(q, len(indexes)).sql("SELECT document_index FROM residents WHERE document_index IN (")
	for i, x := range indexes {
		if i > 0 {
			a.sql(", ")
		}
		a.arg(x)
	}
	rows, err := a.sql(") AND anonymised_at IS NULL").query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out[s] = true
	}
	return out, rows.Err()
}

type impHouseKey struct {
	building     int64
	unit, number string
}

// importBuildingsWithHouses says which of the buildings have houses.
func (store) importBuildingsWithHouses(ctx context.Context, q db.Querier, buildings []int64) (map[int64]bool, error) {
	a := newSQLArgs(q, len(buildings)).sql("SELECT DISTINCT building_id FROM houses WHERE building_id IN (")
	for i, b := range buildings {
		if i > 0 {
			a.sql(", ")
		}
		a.arg(b)
	}
	rows, err := a.sql(")").query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var b int64
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out[b] = true
	}
	return out, rows.Err()
}

// importFindHouses returns the id and the latest household (0 for none) of
// each house that exists, by address. Each term of the OR is served by the
// unique index houses_address.
func (store) importFindHouses(ctx context.Context, q db.Querier, keys []impHouseKey) (map[impHouseKey][2]int64, error) {
	a := newSQLArgs(q, 3*len(keys)).sql(`SELECT h.id, h.building_id, h.unit, h.number,
		COALESCE((SELECT MAX(hh.id) FROM households hh WHERE hh.house_id = h.id), 0) FROM houses h WHERE `)
	for i, k := range keys {
		if i > 0 {
			a.sql(" OR ")
		}
		a.sql("(h.building_id = ").arg(k.building).sql(" AND h.unit = ").arg(k.unit).sql(" AND h.number = ").arg(k.number).sql(")")
	}
	rows, err := a.query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[impHouseKey][2]int64{}
	for rows.Next() {
		var k impHouseKey
		var id, household int64
		if err := rows.Scan(&id, &k.building, &k.unit, &k.number, &household); err != nil {
			return nil, err
		}
		out[k] = [2]int64{id, household}
	}
	return out, rows.Err()
}

// importInsertHouses adds houses (distinct addresses) and returns their ids
// by address, which is unique, so RETURNING's order does not matter.
func (store) importInsertHouses(ctx context.Context, q db.Querier, hs []impPending, now int64) (map[impHouseKey]int64, error) {
	const insert = "INSERT INTO houses (building_id, unit, number, floor, use, grid_path, created_at, updated_at) VALUES "
	a := newSQLArgs(q, 8*len(hs)).sql(insert)
	for i, h := range hs {
		a.row(i == 0, h.building, h.unit, h.number, h.floor, string(OwnerOccupied), h.row.gridPath, now, now)
	}
	rows, err := a.sql(" RETURNING id, building_id, unit, number").query(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[impHouseKey]int64, len(hs))
	for rows.Next() {
		var k impHouseKey
		var id int64
		if err := rows.Scan(&id, &k.building, &k.unit, &k.number); err != nil {
			return nil, err
		}
		out[k] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) != len(hs) {
		return nil, fmt.Errorf("import: inserted %d houses, got %d back", len(hs), len(out))
	}
	return out, nil
}

// importInsertHouseholds adds households, in the order given, and returns
// their ids in that order. Neither engine promises RETURNING's order, but
// both number the rows of one INSERT in the order of its VALUES, so the ids
// of each house, sorted, belong to that house's households in order.
func (store) importInsertHouseholds(ctx context.Context, q db.Querier, houses []int64, paths []string, now int64) ([]int64, error) {
	out := make([]int64, 0, len(houses))
	for len(houses) > 0 {
		n := min(len(houses), importInsertRows)
		a := newSQLArgs(q, 4*n).sql("INSERT INTO households (house_id, grid_path, created_at, updated_at) VALUES ")
		for i := range n {
			a.row(i == 0, houses[i], paths[i], now, now)
		}
		rows, err := a.sql(" RETURNING id, house_id").query(ctx, q)
		if err != nil {
			return nil, err
		}
		byHouse := map[int64][]int64{}
		for rows.Next() {
			var id, house int64
			if err := rows.Scan(&id, &house); err != nil {
				rows.Close()
				return nil, err
			}
			byHouse[house] = append(byHouse[house], id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, ids := range byHouse {
			slices.Sort(ids)
		}
		for i := range n {
			ids := byHouse[houses[i]]
			if len(ids) == 0 {
				return nil, fmt.Errorf("import: household of house %d not returned", houses[i])
			}
			out = append(out, ids[0])
			byHouse[houses[i]] = ids[1:]
		}
		houses, paths = houses[n:], paths[n:]
	}
	return out, nil
}

// importInsertResidents adds residents and returns their ids in the order
// given, matched through the document index, which is unique.
//
// On SQLite each row is its own execution of one prepared statement: a
// multi-row INSERT inside a transaction makes SQLite keep a statement
// journal, a copy of every page the statement changes, so that it can undo
// the statement alone; with the registry's three randomly ordered indexes
// that copying took a third of a million-row import. A single-row INSERT
// checks its constraints before writing and needs no such journal, and in
// process the call costs a few microseconds. PostgreSQL, a round trip away,
// gets the multi-row statement.
func (store) importInsertResidents(ctx context.Context, q db.Querier, rs []residentRow, now int64) ([]int64, error) {
	const insert = `INSERT INTO residents (household_id, relation, name, gender, birth_date, document_kind,
		document_sealed, document_index, phone_sealed, phone_index, registration, move_in, grid_path, created_at, updated_at) VALUES `
	if t, ok := q.(engineTx); ok && t.sqlite {
		st, err := t.prepared(ctx, insert+"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(rs))
		for i, r := range rs {
			if err := st.QueryRowContext(ctx, r.householdID, string(r.relation), r.name, string(r.gender), r.birthDate, r.documentKind,
				r.documentSealed, r.documentIndex, r.phoneSealed, r.phoneIndex, string(r.registration), r.moveIn, r.gridPath, now, now).Scan(&ids[i]); err != nil {
				return nil, err
			}
		}
		return ids, nil
	}
	a := newSQLArgs(q, 15*len(rs)).sql(insert)
	for i, r := range rs {
		a.row(i == 0, r.householdID, string(r.relation), r.name, string(r.gender), r.birthDate, r.documentKind,
			r.documentSealed, r.documentIndex, r.phoneSealed, r.phoneIndex, string(r.registration), r.moveIn, r.gridPath, now, now)
	}
	a.sql(" RETURNING id, document_index")
	run := a.query
	if len(rs) == importInsertRows {
		run = a.queryPrepared // every batch but the last
	}
	rows, err := run(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byIndex := make(map[string]int64, len(rs))
	for rows.Next() {
		var id int64
		var index string
		if err := rows.Scan(&id, &index); err != nil {
			return nil, err
		}
		byIndex[index] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		if ids[i] = byIndex[r.documentIndex]; ids[i] == 0 {
			return nil, errors.New("import: a resident's id was not returned")
		}
	}
	return ids, nil
}

// importSetHeads sets the heads of households, (household, resident) pairs,
// in one UPDATE. The CASTs tell PostgreSQL the parameters' type, which it
// cannot infer inside CASE.
func (store) importSetHeads(ctx context.Context, q db.Querier, heads [][2]int64, now int64) error {
	a := newSQLArgs(q, 3*len(heads)+1).sql("UPDATE households SET head_id = CASE id")
	for _, h := range heads {
		a.sql(" WHEN CAST(").arg(h[0]).sql(" AS BIGINT) THEN CAST(").arg(h[1]).sql(" AS BIGINT)")
	}
	a.sql(" END, updated_at = ").arg(now).sql(" WHERE id IN (")
	for i, h := range heads {
		if i > 0 {
			a.sql(", ")
		}
		a.sql("CAST(").arg(h[0]).sql(" AS BIGINT)")
	}
	return a.sql(")").exec(ctx, q)
}

func (store) importInsertTags(ctx context.Context, q db.Querier, tags []residentTag) error {
	a := newSQLArgs(q, 2*len(tags)).sql("INSERT INTO resident_tags (resident_id, tag_code) VALUES ")
	for i, t := range tags {
		a.row(i == 0, t.resident, t.code)
	}
	return a.exec(ctx, q)
}
