package web

import (
	"net/http"
	"slices"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
)

// PeopleImportPrefix is where the registry import accepts a spreadsheet
// upload larger than an ordinary form, like UploadPrefix.
const PeopleImportPrefix = "/people/import"

// The steps of the import page.
const (
	importUpload  = "upload"  // choose a file
	importColumns = "columns" // check which column holds which field
	importReport  = "report"  // the result of a check or an import
)

// importData is what the import page shows at each step.
type importData struct {
	Step     string
	FileName string
	// Headers are the file's column names, the choices of each field.
	Headers []string
	Fields  []importField
	// ColumnProblems are fields without a usable column, translated.
	ColumnProblems []problemRow
	Report         people.ImportReport
	// Problems are the report's bad rows, translated.
	Problems  []importProblem
	ValidOnly bool
	// Imported is set when rows were written (not a dry run).
	Imported bool
}

// importField is one field of the import with the column chosen for it.
type importField struct {
	Key      string
	Name     string // translated
	Required bool
	Column   string // the header chosen; "" for none
}

// importProblem is one bad row of the file, translated.
type importProblem struct {
	Line   int
	Column string
	Field  string
	Reason string
}

// importPage handles GET /people/import: the first step, choosing a CSV or
// XLSX file.
func (w *Web) importPage(rw http.ResponseWriter, r *http.Request) error {
	if _, err := requireSomewhere(r, "web.importPage", auth.WritePeople); err != nil {
		return err
	}
	p := w.newPage(r, "people", "/people/import")
	p.Data = importData{Step: importUpload}
	return w.render(rw, http.StatusOK, "people_import", p)
}

// importPeople handles POST /people/import, a multipart upload, for every
// later step. The file is not kept between the steps: it holds identity
// numbers in plain text, and a copy on one node's disk would neither be
// safe nor found by the next request on another node. The mapping and
// report steps therefore ask for the file again.
//
// step=columns checks the file with the automatic mapping and shows, for
// each field, the column found; step=check (a dry run) and step=import use
// the mapping chosen there (map.<field> = header, "" for none).
func (w *Web) importPeople(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.importPeople"
	actor, err := requireSomewhere(r, op, auth.WritePeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	step := r.PostFormValue("step")
	p := w.newPage(r, "people", "/people/import")
	d := importData{Step: importColumns, ValidOnly: r.PostFormValue("valid_only") == "on"}
	// A body over the upload limit has already failed in wrap's parseForm.
	file, header, err := r.FormFile("file")
	if err != nil {
		d.Step = importUpload
		if step == "check" || step == "import" {
			d.Step = importColumns
			d.Fields = chosenFields(p, r)
			d.Headers = r.PostForm["header"]
		}
		p.Form = w.fieldError(r, nil, "file", "registry.import.file.required")
		p.Data = d
		return w.render(rw, http.StatusBadRequest, "people_import", p)
	}
	defer file.Close()
	d.FileName = header.Filename
	opt := people.ImportOptions{DryRun: true, ValidOnly: d.ValidOnly}
	if step == "check" || step == "import" {
		d.Step = importReport
		opt.DryRun = step == "check"
		opt.Mapping = map[string]string{}
		for _, f := range people.ImportFields {
			opt.Mapping[f.Key] = r.PostFormValue("map." + f.Key)
		}
	}
	// The first look at a file (step=columns) is a dry run with the
	// automatic mapping: it finds the headers and checks every row.
	rep, ierr := svc.Import(r.Context(), actor, file, header.Size, header.Filename, opt)
	lang := w.lang(r)
	rep.Localize(func(key string, args ...any) string { return w.i18n.T(lang, key, args...) })
	d.Report, d.Headers = rep, rep.Headers
	d.Imported = ierr == nil && !rep.DryRun
	d.Fields = mappedFields(p, rep.Mapping)
	for _, cp := range rep.ColumnProblems {
		d.ColumnProblems = append(d.ColumnProblems, problemRow{Where: p.Label("registry.import.field.", cp.Field),
			Message: w.i18n.T(lang, cp.Reason), Other: cp.Header})
	}
	for _, rp := range rep.Problems {
		d.Problems = append(d.Problems, importProblem{Line: rp.Line, Column: rp.Column,
			Field: p.Label("registry.import.field.", rp.Field), Reason: rp.Message})
	}
	status := http.StatusOK
	switch {
	case ierr == nil:
	case len(rep.Headers) == 0:
		// The file could not be read at all: choose another.
		d.Step = importUpload
		f, st, ok := w.formProblem(rw, r, ierr, nil)
		if !ok {
			return ierr
		}
		p.Form, status = f, st
	case d.Step == importColumns && slices.Contains([]string{"people.import.columns", "people.import.rejected"}, errs.As(ierr).Msg):
		// Column and row problems are what this step is for: they are
		// listed, not reported as a failure.
	default:
		f, st, ok := w.formProblem(rw, r, ierr, nil)
		if !ok {
			return ierr
		}
		p.Form, status = f, st
	}
	p.Data = d
	return w.render(rw, status, "people_import", p)
}

// mappedFields lists the import's fields with the column the service
// mapped to each.
func mappedFields(p *page, mapping map[string]string) []importField {
	out := make([]importField, len(people.ImportFields))
	for i, f := range people.ImportFields {
		out[i] = importField{Key: f.Key, Name: p.Label("registry.import.field.", f.Key), Required: f.Required, Column: mapping[f.Key]}
	}
	return out
}

// chosenFields lists the import's fields with the columns chosen in the
// posted form, to show the mapping step again.
func chosenFields(p *page, r *http.Request) []importField {
	m := map[string]string{}
	for _, f := range people.ImportFields {
		m[f.Key] = r.PostFormValue("map." + f.Key)
	}
	return mappedFields(p, m)
}
