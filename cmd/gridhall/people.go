package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
)

func runPeople(e env, args []string) error {
	return dispatch(e, "people", map[string]func(env, []string) error{
		"import": peopleImport, "export": peopleExport,
	}, "import|export", args)
}

// peopleImporter is the console importing the registry: community staff
// over the whole installation, the role that registers residents.
func peopleImporter() auth.Actor {
	return auth.SystemActorAs(consoleActor().Username, auth.CommunityStaff)
}

// peopleExporter is the console exporting the registry: a district
// administrator over the whole installation, who may read it and, giving a
// reason, reveal it.
func peopleExporter() auth.Actor {
	return auth.SystemActorAs(consoleActor().Username, auth.DistrictAdmin)
}

// mappingFlag collects repeated --map field=header choices.
type mappingFlag map[string]string

func (m mappingFlag) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}

func (m mappingFlag) Set(v string) error {
	field, header, ok := strings.Cut(v, "=")
	if field = strings.TrimSpace(field); !ok || field == "" {
		return fmt.Errorf("want field=header, such as document_number=证件号")
	}
	m[field] = strings.TrimSpace(header)
	return nil
}

func importFieldKeys() string {
	keys := make([]string, len(people.ImportFields))
	for i, f := range people.ImportFields {
		keys[i] = f.Key
	}
	return strings.Join(keys, ", ")
}

func peopleImport(e env, args []string) error {
	var dry, validOnly bool
	mapping := mappingFlag{}
	flags := func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "check every row and report; write nothing")
		fs.BoolVar(&validOnly, "valid-only", false, "import the valid rows even when some are bad (those are skipped and listed)")
		fs.Var(mapping, "map", "field=header: read a field from the column with this header, repeatable (an empty header leaves the field out);\nfields: "+importFieldKeys())
	}
	synopsis := "people import [--dry-run] [--valid-only] [--map field=header]... FILE.csv|FILE.xlsx"
	return dataCommand(e, "people import", synopsis, args, 1, flags, func(a *app.App, pos []string) error {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		opt := people.ImportOptions{DryRun: dry, ValidOnly: validOnly}
		if len(mapping) > 0 {
			opt.Mapping = mapping
		}
		name := filepath.Base(pos[0])
		rep, err := a.People.Import(e.ctx, peopleImporter(), f, st.Size(), name, opt)
		if err != nil && errs.CodeOf(err) != errs.Invalid {
			return explain(err)
		}
		b, berr := i18n.New()
		if berr != nil {
			return berr
		}
		rep.Localize(func(key string, args ...any) string { return b.T(i18n.English, key, args...) })
		printImportReport(e.stdout, b, name, rep)
		if err != nil {
			msg := b.T(i18n.English, errs.As(err).Msg, errs.As(err).Args...)
			return exitError{code: 1, msg: fmt.Sprintf("%s: %s", name, msg)}
		}
		switch {
		case rep.DryRun:
			fmt.Fprintf(e.stdout, "%s: dry run, nothing written: %d rows, %d valid\n", name, rep.Rows, rep.Valid)
		default:
			fmt.Fprintf(e.stdout, "%s: imported %d residents, %d new households, %d new houses", name, rep.Imported, rep.Households, rep.Houses)
			if skipped := rep.Rows - rep.Valid; skipped > 0 {
				fmt.Fprintf(e.stdout, "; %d bad rows skipped", skipped)
			}
			fmt.Fprintln(e.stdout)
		}
		return nil
	})
}

// printImportReport prints the columns used and every problem listed.
func printImportReport(w io.Writer, b *i18n.Bundle, name string, rep people.ImportReport) {
	if len(rep.Mapping) > 0 {
		var cols []string
		for _, f := range people.ImportFields {
			if h, ok := rep.Mapping[f.Key]; ok {
				cols = append(cols, f.Key+" ← "+h)
			}
		}
		fmt.Fprintf(w, "%s: columns: %s\n", name, strings.Join(cols, ", "))
	}
	for _, p := range rep.ColumnProblems {
		fmt.Fprintf(w, "  field %s: %s", p.Field, b.T(i18n.English, p.Reason))
		if p.Header != "" {
			fmt.Fprintf(w, " [%s]", p.Header)
		}
		fmt.Fprintln(w)
	}
	for _, p := range rep.Problems {
		where := fmt.Sprintf("line %d", p.Line)
		switch {
		case p.Column != "":
			where += ", " + p.Column
		case p.Field != "":
			where += ", " + p.Field
		}
		fmt.Fprintf(w, "  %s: %s\n", where, p.Message)
	}
	if rep.Truncated {
		fmt.Fprintf(w, "  … and more: only the first %d problems are listed\n", len(rep.Problems))
	}
	if bad := rep.Rows - rep.Valid; bad > 0 {
		fmt.Fprintf(w, "%s: %d rows read, %d valid, %d with problems\n", name, rep.Rows, rep.Valid, bad)
	}
}

func peopleExport(e env, args []string) error {
	var format, out, reason, lang, name, tag string
	var building int64
	var reveal bool
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "the file to write (- for standard output)")
		fs.StringVar(&format, "format", "", "csv or xlsx (default: from the --out file's extension, else csv)")
		fs.BoolVar(&reveal, "reveal", false, "write identity and phone numbers in full (needs --reason; audited)")
		fs.StringVar(&reason, "reason", "", "why the numbers are revealed, 4 to 200 characters (recorded in the audit log)")
		fs.StringVar(&lang, "lang", i18n.Chinese, "language of the headers and values: zh-CN or en")
		fs.StringVar(&name, "name", "", "only residents whose name starts with this")
		fs.Int64Var(&building, "building", 0, "only residents of this building (id)")
		fs.StringVar(&tag, "tag", "", "only residents with this tag (code)")
	}
	synopsis := "people export --out FILE [--format csv|xlsx] [--reveal --reason TEXT] [--lang en] [--building ID] [--tag CODE]"
	return dataCommand(e, "people export", synopsis, args, 0, flags, func(a *app.App, _ []string) error {
		if out == "" {
			return usageError("usage: gridhall %s", synopsis)
		}
		if format == "" {
			format = people.ExportCSV
			if strings.EqualFold(filepath.Ext(out), ".xlsx") {
				format = people.ExportXLSX
			}
		}
		if i18n.Supported(lang) == "" {
			return usageError("--lang must be zh-CN or en")
		}
		f := people.Filter{Name: name, BuildingID: building, Tag: tag}
		return writeExport(e, out, "residents", reveal, func(w io.Writer) (int, error) {
			return a.People.Export(e.ctx, peopleExporter(), w, format, f, reveal, reason, lang)
		})
	})
}

// writeExport runs write into the file out, or standard output for "-",
// and says on standard error how many records went out and whether they
// were masked. A file is written beside its target and renamed into place,
// so a failed export leaves no partial file that could pass for a whole
// one.
func writeExport(e env, out, what string, revealed bool, write func(io.Writer) (int, error)) error {
	if out == "-" {
		bw := bufio.NewWriter(e.stdout)
		if _, err := write(bw); err != nil {
			return explain(err)
		}
		return bw.Flush()
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".gridhall-export-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	bw := bufio.NewWriterSize(tmp, 1<<20)
	n, err := write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return explain(err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	how := "masked"
	if revealed {
		how = "revealed, audited"
	}
	fmt.Fprintf(e.stderr, "exported %d %s to %s (%s)\n", n, what, out, how)
	return nil
}
