package main

import (
	"fmt"
	"os"
	"time"

	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/load"
)

// The load generator's bounds: a run is a test, so it cannot be asked to
// run for ever or without a request budget.
const (
	maxLoadDuration = 24 * time.Hour
	maxLoadRequests = 100_000_000
)

func runLoad(e env, args []string) error {
	cfg := config.Default()
	const synopsis = "load --setup [--data-dir DIR | --db DSN] [--street CODE] [--plan FILE]\n" +
		"       gridhall load --target http://127.0.0.1:PORT [--plan FILE] [--rate N | --clients N] --duration D\n" +
		"                     [--max-requests N] [--mix report=40,act=30,view=30] [--sample 10s] [--json FILE]"
	fs := flagSet(e, "load", synopsis)
	config.RegisterStorage(fs, &cfg)
	setup := fs.Bool("setup", false, "prepare the installation named by --data-dir/--db for load: create the load accounts and tokens, write --plan, and exit")
	street := fs.String("street", "", "with --setup: the street to play in (default: the first street)")
	planPath := fs.String("plan", "load-plan.json", "the load plan: accounts' tokens, the street, report points (written by --setup)")
	target := fs.String("target", "", "the GridHall to load: http://127.0.0.1:PORT (loopback only)")
	rate := fs.Float64("rate", 0, "open loop: operations started per second, on schedule whatever the server does")
	clients := fs.Int("clients", 0, "closed loop: clients each starting an operation when the last ends (default 16); open loop: most operations in flight (default 1000)")
	duration := fs.Duration("duration", 0, "how long to run (required, at most 24h)")
	maxReq := fs.Int64("max-requests", 10_000_000, "stop after this many requests")
	mixFlag := fs.String("mix", load.DefaultMix.String(), "weights of reports, workflow steps and page views")
	sample := fs.Duration("sample", 10*time.Second, "how often to read the server's memory from /metrics and close a line of the time series")
	jsonPath := fs.String("json", "", "also write the result as JSON to this file (- for stdout)")
	seed := fs.Uint64("seed", 1, "random seed of the operations")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("load takes no arguments, got %q", fs.Args())
	}
	if *setup {
		a, err := openApp(e, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		p, err := load.Setup(e.ctx, a, load.SetupOptions{Street: *street})
		if err != nil {
			return err
		}
		if err := load.WritePlan(*planPath, p); err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "wrote %s: street %s, department %s, %d community workers, %d report points, %d categories\n",
			*planPath, p.Street, p.Department, len(p.FieldTokens), len(p.Points), len(p.Categories))
		return nil
	}
	switch {
	case *target == "":
		return usageError("load: --target is required (or --setup)")
	case *duration <= 0 || *duration > maxLoadDuration:
		return usageError("load: --duration must be more than 0 and at most %s", maxLoadDuration)
	case *maxReq <= 0 || *maxReq > maxLoadRequests:
		return usageError("load: --max-requests must be from 1 to %d", maxLoadRequests)
	case *rate < 0 || *clients < 0:
		return usageError("load: --rate and --clients cannot be negative")
	}
	if _, err := load.CheckTarget(*target); err != nil {
		return usageError("%v", err)
	}
	mix, err := load.ParseMix(*mixFlag)
	if err != nil {
		return usageError("%v", err)
	}
	p, err := load.ReadPlan(*planPath)
	if err != nil {
		return err
	}
	res, err := load.Run(e.ctx, load.Config{Target: *target, Plan: p, Rate: *rate, Clients: *clients, Duration: *duration,
		MaxRequests: *maxReq, Mix: mix, Sample: *sample, Progress: e.stderr, Seed: *seed})
	if err != nil {
		return err
	}
	if err := res.WriteTable(e.stdout); err != nil {
		return err
	}
	switch *jsonPath {
	case "":
	case "-":
		return res.WriteJSON(e.stdout)
	default:
		f, err := os.Create(*jsonPath)
		if err != nil {
			return err
		}
		if err := res.WriteJSON(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return nil
}
