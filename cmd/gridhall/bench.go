package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gridhall/gridhall/internal/bench"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/gen"
	"github.com/gridhall/gridhall/internal/seal"
)

// runBench measures the headline workloads on a data set and prints one
// table of figures beside their peers and limits.
func runBench(e env, args []string) error {
	cfg := config.Default()
	const synopsis = "bench [--quick] [--scale district] [--data-dir DIR | --db DSN] [--postgis DSN] [--json FILE]"
	fs := flagSet(e, "bench", synopsis)
	config.RegisterStorage(fs, &cfg)
	quick := fs.Bool("quick", false, "every workload briefly on a community-scale data set: checks the command works (about a minute)")
	scale := fs.String("scale", "district", "scale of the data set generated into an empty database: "+gen.PresetNames())
	postgis := fs.String("postgis", "", "a PostgreSQL DSN with PostGIS available, to measure ST_Contains beside the locator")
	sqlite3 := fs.String("sqlite3", "", "the sqlite3 shell for the import peer (default: sqlite3 on PATH)")
	jsonPath := fs.String("json", "", "also write the table as JSON to this file")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("bench takes no arguments, got %q", fs.Args())
	}
	scaleSet := false
	fs.Visit(func(f *flag.Flag) { scaleSet = scaleSet || f.Name == "scale" })
	if *quick && !scaleSet {
		*scale = "community"
	}
	sc, err := gen.Preset(*scale)
	if err != nil {
		return usageError("--scale: %v", err)
	}
	tmp, err := os.MkdirTemp("", "gridhall-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Without a database named, the data set is generated into a fresh
	// SQLite file that is removed afterwards: the bench never writes into
	// ./data by accident.
	def := config.Default()
	if cfg.DB == def.DB && cfg.DataDir == def.DataDir {
		cfg.DataDir = tmp
	}
	if cfg.IsPostgres() && cfg.MasterKeyFile == "" && cfg.MasterKey == "" {
		// The registry needs a master key; PostgreSQL nodes never invent one,
		// so the bench brings its own for its throwaway registry rows.
		_, text := seal.GenerateMasterKey()
		cfg.MasterKeyFile = tmp + "/master.key"
		if err := os.WriteFile(cfg.MasterKeyFile, []byte(text+"\n"), 0o600); err != nil {
			return err
		}
	}
	cfg.APIRate = 0 // the bench's own tokens must not be throttled
	if cfg.LogLevel < slog.LevelWarn {
		cfg.LogLevel = slog.LevelWarn // not a line per request
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	began := time.Now()
	sum, err := gen.Run(e.ctx, gen.Deps{DB: a.DB, Audit: a.Audit, Keys: a.Keys, Catalog: a.Catalog, Calendar: a.Calendar},
		gen.Options{Scale: sc, Seed: 1, Now: time.Now().Truncate(time.Minute), Password: "bench-" + fmt.Sprint(began.UnixNano()), Progress: e.stderr})
	switch {
	case errors.Is(err, gen.ErrNotEmpty):
		fmt.Fprintln(e.stderr, "bench: the database holds data; measuring on it as it is")
	case err != nil:
		return err
	default:
		fmt.Fprintf(e.stderr, "bench: generated the %s data set in %s\n", sc.Name, sum.Took.Round(time.Second))
	}
	if err := a.Territory.Locator().Refresh(e.ctx); err != nil {
		return err
	}
	if err := a.Catalog.Refresh(e.ctx); err != nil {
		return err
	}
	size, err := bench.DataSetSize(e.ctx, a.DB)
	if err != nil {
		return err
	}
	rep, err := bench.Run(e.ctx, a, size, bench.Options{Quick: *quick, PostGIS: *postgis, SQLite3: *sqlite3, TempDir: tmp, Log: e.stderr})
	if err != nil {
		return err
	}
	if err := rep.WriteTable(e.stdout); err != nil {
		return err
	}
	if *jsonPath != "" {
		f, err := os.Create(*jsonPath)
		if err != nil {
			return err
		}
		if err := rep.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
