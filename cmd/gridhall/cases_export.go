package main

import (
	"flag"
	"io"
	"path/filepath"
	"strings"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/i18n"
)

func runCases(e env, args []string) error {
	return dispatch(e, "cases", map[string]func(env, []string) error{"export": casesExport}, "export", args)
}

// casesExport writes cases to a file through the same service and writers
// as the API's exports, as a district administrator over the whole
// installation; it is audited as "case.export".
func casesExport(e env, args []string) error {
	var format, out, reason, lang, queue, category, grid, state, channel, from, to string
	var reveal, overdue bool
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "the file to write (- for standard output)")
		fs.StringVar(&format, "format", "", "csv, xlsx or geojson (default: from the --out file's extension, else csv)")
		fs.BoolVar(&reveal, "reveal", false, "write reporters' contacts in full (needs --reason; audited)")
		fs.StringVar(&reason, "reason", "", "why contacts are revealed, 4 to 200 characters (recorded in the audit log)")
		fs.StringVar(&lang, "lang", i18n.Chinese, "language of the headers and words: zh-CN or en")
		fs.StringVar(&queue, "queue", "", "only the cases of this queue (default all)")
		fs.StringVar(&category, "category", "", "only this category (reference, e.g. M92001)")
		fs.StringVar(&grid, "grid", "", "only inside this territory code (any level)")
		fs.StringVar(&state, "state", "", "only cases in this state")
		fs.StringVar(&channel, "channel", "", "only cases reported through this channel")
		fs.BoolVar(&overdue, "overdue", false, "only overdue cases")
		fs.StringVar(&from, "from", "", "only cases reported on or after this day (YYYY-MM-DD)")
		fs.StringVar(&to, "to", "", "only cases reported on or before this day (YYYY-MM-DD)")
	}
	synopsis := "cases export --out FILE [--format csv|xlsx|geojson] [--reveal --reason TEXT] [--lang en] [--grid CODE] [--category REF] [--state S] [--from DAY] [--to DAY]"
	return dataCommand(e, "cases export", synopsis, args, 0, flags, func(a *app.App, _ []string) error {
		if out == "" {
			return usageError("usage: gridhall %s", synopsis)
		}
		if format == "" {
			format = strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
			if format != string(export.XLSX) && format != string(export.GeoJSON) {
				format = string(export.CSV)
			}
		}
		if i18n.Supported(lang) == "" {
			return usageError("--lang must be zh-CN or en")
		}
		masked := !reveal
		req := export.Request{Format: export.Format(format), Masked: &masked, Reason: reason, Lang: lang, Filter: export.Filter{
			Queue: cases.Queue(queue), Category: category, Grid: grid, State: cases.State(state), Channel: cases.Channel(channel),
			Overdue: overdue, ReportedFrom: from, ReportedTo: to}}
		actor := auth.SystemActorAs(consoleActor().Username, auth.DistrictAdmin)
		return writeExport(e, out, "cases", reveal, func(w io.Writer) (int, error) {
			return a.Exports.Write(e.ctx, actor, req, w)
		})
	})
}
