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
	cfg := config.Default()
	fs := flagSet(e, "migrate", "migrate [flags]")
	config.RegisterStorage(fs, &cfg)
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	v, err := a.DB.SchemaVersion(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "database (%s) is at schema version %d\n", a.DB.Engine, v)
	return nil
}
