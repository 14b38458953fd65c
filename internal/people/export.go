package people

import (
	"context"
	"database/sql"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/sheet"
	"github.com/gridhall/gridhall/internal/territory"
)

// The export formats.
const (
	ExportCSV  = "csv"
	ExportXLSX = "xlsx"
)

// exportPage is how many residents one query of an export reads: large
// enough that the per-query cost vanishes, small enough to hold in memory.
const exportPage = 1000

// exportHeaders are the export's columns, in Chinese and in English. Each is
// an alias of an import field (ImportFields), so a revealed export imports
// again as it is.
var exportHeaders = [2][]string{
	{"姓名", "证件类型", "证件号码", "性别", "出生日期", "联系电话", "户籍类型", "楼栋地址", "单元", "门牌号", "楼层", "与户主关系", "入住日期", "标签"},
	{"Name", "Document type", "Document number", "Gender", "Birth date", "Phone", "Registration", "Building address", "Unit", "House number", "Floor", "Relation", "Move-in date", "Tags"},
}

// Export writes the current residents inside the actor's scopes that match
// the filter (its AfterID and Limit are ignored) to w as CSV or XLSX, in
// pages of 1,000 by id, so an export of a million residents takes the memory
// of one page (XLSX rows go through excelize's streaming writer, which keeps
// them in a temporary file). Headers and words are Chinese unless lang is
// "en". It returns the number of residents written.
//
// Identity and phone numbers are masked unless reveal: then the actor must
// hold the reveal permission in every one of their scopes (a grid worker
// never does) and give a reason of 4 to 200 characters. Every export is
// audited as "resident.export" with its row count (and reason), before the
// first row is written: a failed audit means nothing leaves.
//
// Moved-out residents are not exported: the export is the register of who
// lives here, and it imports again as such. Derived tags (aged 60+, living
// alone) are left out too, since an import may not set them; restricted tags
// appear only where the actor may reveal, and filtering by one takes the
// reveal permission, as in Search.
func (s *Service) Export(ctx context.Context, actor auth.Actor, w io.Writer, format string, f Filter, reveal bool, reason, lang string) (int, error) {
	const op = "people.Export"
	if err := s.ready(op); err != nil {
		return 0, err
	}
	scopes := readScopes(actor)
	if len(scopes) == 0 {
		return 0, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	fields := map[string]string{}
	if format != ExportCSV && format != ExportXLSX {
		fields["format"] = "people.export.format"
	}
	reason = strings.TrimSpace(reason)
	if reveal {
		for _, sc := range scopes {
			if !auth.Can(actor, auth.RevealPeople, sc) {
				return 0, errs.E(errs.Forbidden, op, "error.forbidden")
			}
		}
		if n := utf8.RuneCountInString(reason); n < 4 || n > 200 {
			fields["reason"] = "people.reveal.reason"
		}
	}
	if err := s.checkTagFilter(ctx, op, actor, scopes, f.Tag); err != nil {
		return 0, err
	}
	q, problem := s.filterQuery(f)
	if problem != "" {
		fields["phone"] = problem
	}
	if len(fields) > 0 {
		return 0, errs.Fields(op, fields)
	}
	x := &exporter{s: s, actor: actor, reveal: reveal, english: lang == "en", addresses: map[int64]string{}, tagNames: map[string][2]string{}}
	if err := x.load(ctx); err != nil {
		return 0, errs.Wrap(op, err)
	}
	// The audit entry counts the rows when the export starts; the pages
	// that follow read the registry as it then is.
	count, err := s.st.exportCount(ctx, s.db, scopes, q)
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	scope := scopes[0]
	for _, sc := range scopes[1:] {
		scope = commonScope(scope, sc)
	}
	detail := map[string]any{"format": format, "rows": count, "revealed": reveal, "filter": exportFilterDetail(f)}
	r := audit.Record{Action: "resident.export", ObjectType: "resident", ScopePath: scope, Detail: detail}
	if reveal {
		r.Reason = reason
	}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error { return s.record(ctx, tx, actor, r) }); err != nil {
		return 0, errs.Wrap(op, err)
	}
	var out exportSink
	if format == ExportCSV {
		out = newCSVSink(w)
	} else if out, err = newXLSXSink(w, x.english); err != nil {
		return 0, errs.Wrap(op, err)
	}
	n, err := x.run(ctx, scopes, q, out)
	if err == nil {
		err = out.finish()
	} else {
		out.abort()
	}
	return n, errs.Wrap(op, err)
}

// exportFilterDetail says which filters an export used, for the audit log:
// the ids and the tag, and only whether a name, a document or a phone was
// given, since those are personal data.
func exportFilterDetail(f Filter) map[string]any {
	d := map[string]any{}
	if f.BuildingID != 0 {
		d["building_id"] = f.BuildingID
	}
	if f.HouseID != 0 {
		d["house_id"] = f.HouseID
	}
	if f.Tag != "" {
		d["tag"] = f.Tag
	}
	for k, v := range map[string]string{"name": f.Name, "document": f.Document, "phone": f.Phone} {
		if strings.TrimSpace(v) != "" {
			d[k] = true
		}
	}
	return d
}

// exporter turns stored residents into rows of the sheet.
type exporter struct {
	s         *Service
	actor     auth.Actor
	reveal    bool
	english   bool
	addresses map[int64]string     // building id → address
	tagNames  map[string][2]string // code → Chinese and English names
}

// load reads the addresses of the buildings in the actor's scope and the
// tag dictionary, once for the whole export.
func (x *exporter) load(ctx context.Context) error {
	var after int64
	for {
		bs, err := x.s.terr.Buildings(ctx, x.actor, territory.BuildingFilter{AfterID: after, Limit: 500})
		if errs.Is(err, errs.Forbidden) {
			break
		}
		if err != nil {
			return err
		}
		for _, b := range bs {
			x.addresses[b.ID] = b.Address
		}
		if len(bs) < 500 {
			break
		}
		after = bs[len(bs)-1].ID
	}
	tags, err := x.s.st.importTagNames(ctx, x.s.db)
	if err != nil {
		return err
	}
	for _, t := range tags {
		x.tagNames[t.code] = [2]string{t.names[1], t.names[2]}
	}
	return nil
}

// word picks the Chinese or English name.
func (x *exporter) word(names [2]string, ok bool, fallback string) string {
	switch {
	case !ok:
		return fallback
	case x.english:
		return names[1]
	}
	return names[0]
}

// run pages through the residents and hands each row to out.
func (x *exporter) run(ctx context.Context, scopes []string, q query, out exportSink) (int, error) {
	lang := 0
	if x.english {
		lang = 1
	}
	if err := out.row(exportHeaders[lang]); err != nil {
		return 0, err
	}
	cells := make([]string, len(exportHeaders[0]))
	n := 0
	for after := int64(0); ; {
		page, err := x.s.st.exportPage(ctx, x.s.db, scopes, q, after, exportPage)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		ids := make([]int64, len(page))
		for i, r := range page {
			ids[i] = r.id
		}
		tags, err := x.s.st.tagsOf(ctx, x.s.db, ids)
		if err != nil {
			return n, err
		}
		for _, r := range page {
			if err := x.cells(ctx, r, tags[r.id], cells); err != nil {
				return n, err
			}
			if err := out.row(cells); err != nil {
				return n, err
			}
			n++
		}
		after = page[len(page)-1].id
	}
}

// cells fills the cells of one resident, in the order of exportHeaders.
func (x *exporter) cells(ctx context.Context, r exportRow, tags []tagRef, c []string) error {
	doc, err := x.s.keys.Unseal(purposeDocument, r.documentSealed)
	if err != nil {
		return err
	}
	phone, err := x.s.keys.Unseal(purposePhone, r.phoneSealed)
	if err != nil {
		return err
	}
	if !x.reveal {
		doc, phone = maskDocument(r.documentKind, doc), seal.MaskPhone(phone)
	}
	kind, ok := docKindNames[r.documentKind]
	c[0] = r.name
	c[1] = x.word(kind, ok, r.documentKind)
	c[2] = doc
	g, ok := genderNames[r.gender]
	c[3] = x.word(g, ok, string(r.gender))
	c[4] = r.birthDate
	c[5] = phone
	reg, ok := registrationNames[r.registration]
	c[6] = x.word(reg, ok, string(r.registration))
	c[7] = x.address(ctx, r.building)
	c[8], c[9] = r.unit, r.number
	c[10] = ""
	if r.building != 0 {
		c[10] = strconv.Itoa(r.floor)
	}
	rel, ok := relationNames[r.relation]
	c[11] = x.word(rel, ok, string(r.relation))
	c[12] = r.moveIn
	var names []string
	for _, t := range tags {
		if t.restricted && !auth.Can(x.actor, auth.RevealPeople, r.gridPath) {
			continue
		}
		n, ok := x.tagNames[t.code]
		names = append(names, x.word(n, ok, t.code))
	}
	sep := "、"
	if x.english {
		sep = ", "
	}
	c[13] = strings.Join(names, sep)
	return nil
}

// address returns a building's address, looking up the rare building the
// scoped list did not have (one that moved into the scope meanwhile).
func (x *exporter) address(ctx context.Context, id int64) string {
	if id == 0 {
		return ""
	}
	if a, ok := x.addresses[id]; ok {
		return a
	}
	a := ""
	if b, err := x.s.terr.BuildingByID(ctx, id); err == nil {
		a = b.Address
	}
	x.addresses[id] = a
	return a
}

// exportSink receives the rows of an export.
type exportSink interface {
	row(cells []string) error
	finish() error
	abort()
}

// csvSink writes the export as CSV (sheet.CSVWriter); the identity and
// phone numbers (columns 2 and 5) stay text.
type csvSink struct{ w *sheet.CSVWriter }

func newCSVSink(w io.Writer) *csvSink {
	return &csvSink{w: sheet.NewCSVWriter(w, func(col int) bool { return col == 2 || col == 5 })}
}

func (c *csvSink) row(cells []string) error { return c.w.Write(cells) }

func (c *csvSink) finish() error { return c.w.Flush() }

func (c *csvSink) abort() {}

// xlsxSink writes the export as a workbook (sheet.XLSXWriter).
type xlsxSink struct {
	w   *sheet.XLSXWriter
	buf []any
}

func newXLSXSink(w io.Writer, english bool) (*xlsxSink, error) {
	name := "居民"
	if english {
		name = "Residents"
	}
	// Widths in characters, so the identity numbers and addresses show whole.
	xw, err := sheet.NewXLSXWriter(w, name, map[int]float64{1: 10, 2: 14, 3: 22, 6: 16, 8: 28, 14: 20})
	if err != nil {
		return nil, err
	}
	return &xlsxSink{w: xw}, nil
}

func (x *xlsxSink) row(cells []string) error {
	x.buf = x.buf[:0]
	for i, v := range cells {
		// The floor is a number; everything else is text, so identity and
		// phone numbers keep every digit.
		if n, err := strconv.Atoi(v); i == 10 && x.w.Rows() > 0 && err == nil {
			x.buf = append(x.buf, n)
			continue
		}
		x.buf = append(x.buf, v)
	}
	return x.w.Write(x.buf)
}

func (x *xlsxSink) finish() error { return x.w.Finish() }

func (x *xlsxSink) abort() { x.w.Abort() }

// exportRow is a resident with the house they live in.
type exportRow struct {
	residentRow
	unit, number string
	floor        int
	building     int64
}

// exportWhere is the condition of an export: exactly a search's
// conditions, limited to current residents.
func exportWhere(scopes []string, s query) (string, []any) {
	where, args := residentWhere(scopes, s, true)
	return strings.Join(where, " AND "), args
}

func (store) exportCount(ctx context.Context, q db.Querier, scopes []string, s query) (int, error) {
	where, args := exportWhere(scopes, s)
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM residents r WHERE "+where, args...).Scan(&n)
	return n, err
}

// exportPage reads one page of residents after an id, with their houses.
func (store) exportPage(ctx context.Context, q db.Querier, scopes []string, s query, after int64, limit int) ([]exportRow, error) {
	where, args := exportWhere(scopes, s)
	n := len(args)
	args = append(args, after, limit)
	rows, err := q.QueryContext(ctx, "SELECT "+residentColumns+`, COALESCE(h.unit, ''), COALESCE(h.number, ''), COALESCE(h.floor, 0), COALESCE(h.building_id, 0)
		FROM residents r LEFT JOIN households hh ON hh.id = r.household_id LEFT JOIN houses h ON h.id = hh.house_id
		WHERE `+where+" AND r.id > $"+strconv.Itoa(n+1)+" ORDER BY r.id LIMIT $"+strconv.Itoa(n+2), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []exportRow
	for rows.Next() {
		var e exportRow
		r := &e.residentRow
		if err := rows.Scan(&r.id, &r.householdID, &r.relation, &r.name, &r.gender, &r.birthDate, &r.documentKind,
			&r.documentSealed, &r.documentIndex, &r.phoneSealed, &r.phoneIndex, &r.registration, &r.moveIn, &r.moveOut, &r.gridPath, &r.verification,
			&e.unit, &e.number, &e.floor, &e.building); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
