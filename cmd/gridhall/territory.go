package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/territory"
)

func runTerritory(e env, args []string) error {
	return dispatch(e, "territory", map[string]func(env, []string) error{
		"import": territoryImport, "export": territoryExport, "assign": territoryAssign, "unassign": territoryUnassign,
	}, "import|export|assign|unassign", args)
}

// territoryActor is the console acting as a district administrator: the
// territory is theirs to manage.
func territoryActor() auth.Actor {
	return auth.SystemActorAs(consoleActor().Username, auth.DistrictAdmin)
}

func territoryImport(e env, args []string) error {
	var dry bool
	flags := func(fs *flag.FlagSet) {
		fs.BoolVar(&dry, "dry-run", false, "validate and report what would change, write nothing")
	}
	return dataCommand(e, "territory import", "territory import [flags] FILE.geojson", args, 1, flags, func(a *app.App, pos []string) error {
		data, err := os.ReadFile(pos[0])
		if err != nil {
			return err
		}
		res, err := a.Territory.Import(e.ctx, territoryActor(), data, dry)
		if len(res.Problems) > 0 {
			b, _ := i18n.New()
			var msg strings.Builder
			fmt.Fprintf(&msg, "%s rejected, nothing written: %d problems\n", pos[0], len(res.Problems))
			for _, p := range res.Problems {
				where := "file"
				if p.Index >= 0 {
					where = fmt.Sprintf("feature %d", p.Index)
				}
				if p.Code != "" {
					where += " (" + p.Code + ")"
				}
				fmt.Fprintf(&msg, "  %s: %s", where, b.T(i18n.English, p.Reason))
				if p.Other != "" {
					fmt.Fprintf(&msg, " [%s]", p.Other)
				}
				msg.WriteByte('\n')
			}
			return exitError{code: 1, msg: strings.TrimRight(msg.String(), "\n")}
		}
		if err != nil {
			return explain(err)
		}
		verb := "imported"
		if dry {
			verb = "dry run, would import"
		}
		fmt.Fprintf(e.stdout, "%s %s: %d created, %d updated, %d unchanged\n", pos[0], verb, res.Created, res.Updated, res.Unchanged)
		return nil
	})
}

func territoryExport(e env, args []string) error {
	var out, level string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "-", "output file (- for standard output)")
		fs.StringVar(&level, "level", "microgrid", "deepest level to export: "+strings.Join(territory.Kinds, ", "))
	}
	return dataCommand(e, "territory export", "territory export [--out FILE] [--level grid]", args, 0, flags, func(a *app.App, _ []string) error {
		lvl := -1
		for i, k := range territory.Kinds {
			if k == level {
				lvl = i
			}
		}
		if lvl < 0 {
			return usageError("--level must be one of %s", strings.Join(territory.Kinds, ", "))
		}
		nodes, err := a.Territory.Tree(e.ctx, territoryActor(), territory.Level(lvl))
		if err != nil {
			return explain(err)
		}
		var w io.Writer = e.stdout
		if out != "-" {
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			defer f.Close()
			bw := bufio.NewWriter(f)
			defer bw.Flush()
			w = bw
		}
		if err := territory.WriteGeoJSON(w, nodes); err != nil {
			return err
		}
		if out != "-" {
			fmt.Fprintf(e.stderr, "exported %d nodes to %s\n", len(nodes), out)
		}
		return nil
	})
}

func territoryAssign(e env, args []string) error {
	var duty string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&duty, "duty", "worker", "worker (专职网格员) or leader (网格长)")
	}
	return dataCommand(e, "territory assign", "territory assign [--duty worker|leader] GRID USERNAME", args, 2, flags, func(a *app.App, pos []string) error {
		if err := a.Territory.Assign(e.ctx, territoryActor(), pos[0], pos[1], territory.Duty(duty)); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "%s is now %s of grid %s\n", pos[1], duty, pos[0])
		return nil
	})
}

func territoryUnassign(e env, args []string) error {
	return dataCommand(e, "territory unassign", "territory unassign GRID USERNAME", args, 2, nil, func(a *app.App, pos []string) error {
		if err := a.Territory.Unassign(e.ctx, territoryActor(), pos[0], pos[1]); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "%s no longer works in grid %s\n", pos[1], pos[0])
		return nil
	})
}
