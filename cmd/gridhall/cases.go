package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/i18n"
)

func runCalendar(e env, args []string) error {
	return dispatch(e, "calendar", map[string]func(env, []string) error{
		"import": calendarImport, "export": calendarExport,
	}, "import|export", args)
}

func runCategories(e env, args []string) error {
	return dispatch(e, "categories", map[string]func(env, []string) error{
		"import": categoriesImport, "export": categoriesExport,
	}, "import|export", args)
}

// settingsActor is the console acting as a system administrator over the
// whole installation: calendars and categories are settings.
func settingsActor() auth.Actor { return auth.SystemActor(consoleActor().Username) }

// outFile opens the output named by --out ("-" is standard output).
func outFile(e env, name string) (io.Writer, func() error, error) {
	if name == "-" {
		return e.stdout, func() error { return nil }, nil
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}

func calendarImport(e env, args []string) error {
	var district string
	var year int
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&district, "district", "", "6-digit district code (default: the installation's calendar)")
		fs.IntVar(&year, "year", 0, "the year the file covers (required)")
	}
	return dataCommand(e, "calendar import", "calendar import --year YYYY [--district CODE] FILE.csv|FILE.json", args, 1, flags, func(a *app.App, pos []string) error {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		format := calendar.FormatCSV
		if strings.EqualFold(filepath.Ext(pos[0]), ".json") {
			format = calendar.FormatJSON
		}
		res, err := a.Calendar.Import(e.ctx, settingsActor(), district, year, f, format)
		if len(res.Problems) > 0 {
			b, _ := i18n.New()
			var msg strings.Builder
			fmt.Fprintf(&msg, "%s rejected, nothing written: %d problems\n", pos[0], len(res.Problems))
			for _, p := range res.Problems {
				fmt.Fprintf(&msg, "  line %d, %s: %s\n", p.Line, p.Field, b.T(i18n.English, p.Reason, p.Args...))
			}
			return exitError{code: 1, msg: strings.TrimRight(msg.String(), "\n")}
		}
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "%s: %d holidays and %d make-up working days for %d (%d replaced)\n", pos[0], res.Holidays, res.Workdays, res.Year, res.Replaced)
		return nil
	})
}

func calendarExport(e env, args []string) error {
	var district, out, format string
	var year int
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&district, "district", "", "6-digit district code (default: the installation's calendar)")
		fs.IntVar(&year, "year", 0, "the year to export (required)")
		fs.StringVar(&out, "out", "-", "output file (- for standard output)")
		fs.StringVar(&format, "format", calendar.FormatCSV, "csv or json")
	}
	return dataCommand(e, "calendar export", "calendar export --year YYYY [--district CODE] [--format csv|json] [--out FILE]", args, 0, flags, func(a *app.App, _ []string) error {
		w, done, err := outFile(e, out)
		if err != nil {
			return err
		}
		if err := a.Calendar.Export(e.ctx, settingsActor(), district, year, w, format); err != nil {
			done()
			return explain(err)
		}
		return done()
	})
}

func categoriesImport(e env, args []string) error {
	return dataCommand(e, "categories import", "categories import FILE.csv|FILE.xlsx", args, 1, nil, func(a *app.App, pos []string) error {
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		n, err := a.Catalog.Import(e.ctx, settingsActor(), f)
		var ie *catalog.ImportError
		if errors.As(err, &ie) {
			b, _ := i18n.New()
			var msg strings.Builder
			fmt.Fprintf(&msg, "%s rejected, nothing written: %d problems\n", pos[0], len(ie.Problems))
			for _, p := range ie.Problems {
				fmt.Fprintf(&msg, "  line %d, %s: %s\n", p.Line, p.Field, b.T(i18n.English, p.Reason))
			}
			return exitError{code: 1, msg: strings.TrimRight(msg.String(), "\n")}
		}
		if err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "%s: %d categories imported\n", pos[0], n)
		return nil
	})
}

func categoriesExport(e env, args []string) error {
	var out string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "-", "output file (- for standard output)")
	}
	return dataCommand(e, "categories export", "categories export [--out FILE]", args, 0, flags, func(a *app.App, _ []string) error {
		w, done, err := outFile(e, out)
		if err != nil {
			return err
		}
		if err := a.Catalog.Export(e.ctx, w); err != nil {
			done()
			return explain(err)
		}
		return done()
	})
}
