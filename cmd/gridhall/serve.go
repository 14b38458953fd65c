package main

import (
	"flag"
	"fmt"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/config"
)

// flagSet returns a flag set for a subcommand that prints its usage to stderr
// and returns errors instead of exiting.
func flagSet(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("gridhall "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gridhall %s\n\nFlags (each also GRIDHALL_<NAME> in the environment):\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and the environment, mapping a bad command line to a
// usage error.
func parse(e env, fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := config.Parse(fs, cfg, args, e.getenv); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError("%v", err)
	}
	return nil
}

// openApp opens the database (migrating it) with the logger on stderr.
func openApp(e env, cfg config.Config) (*app.App, error) {
	return app.Open(e.ctx, cfg, app.NewLogger(cfg, e.stderr), app.Options{Version: version})
}

// dataCommand runs a console command that works on the database: it takes
// the storage flags plus those flags adds, parses args, checks that exactly
// nargs positional arguments were given (before touching the database),
// opens and migrates the database, and hands the app and the positional
// arguments to run.
func dataCommand(e env, name, synopsis string, args []string, nargs int, flags func(fs *flag.FlagSet),
	run func(a *app.App, pos []string) error) error {
	cfg := config.Default()
	fs := flagSet(e, name, synopsis)
	config.RegisterStorage(fs, &cfg)
	if flags != nil {
		flags(fs)
	}
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() != nargs {
		return usageError("usage: gridhall %s", synopsis)
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return run(a, fs.Args())
}

// dispatch runs the subcommand of a command group such as "user add".
func dispatch(e env, group string, subs map[string]func(env, []string) error, order string, args []string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintf(e.stdout, "Usage: gridhall %s %s [flags]\nRun 'gridhall %s <sub> --help' for flags.\n", group, order, group)
		return nil
	}
	if len(args) == 0 || subs[args[0]] == nil {
		return usageError("usage: gridhall %s %s [flags]", group, order)
	}
	return subs[args[0]](e, args[1:])
}

func runServe(e env, args []string) error {
	cfg := config.Default()
	fs := flagSet(e, "serve", "serve [flags]")
	config.RegisterStorage(fs, &cfg)
	config.RegisterServer(fs, &cfg)
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("serve takes no arguments, got %q", fs.Args())
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(e.ctx, e.stderr, nil)
}

func runMigrate(e env, args []string) error {
	return dataCommand(e, "migrate", "migrate [flags]", args, 0, nil, func(a *app.App, _ []string) error {
		v, err := a.DB.SchemaVersion(e.ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "database (%s) is at schema version %d\n", a.DB.Engine, v)
		return nil
	})
}
