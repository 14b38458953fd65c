// Command gridhall is the GridHall community governance platform: one binary
// that serves the web pages, the JSON API and background jobs, and manages
// accounts, tokens and the audit log from the console.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// env is what a command needs from its process, passed in so that commands
// run the same in tests.
type env struct {
	ctx    context.Context
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

// command is one subcommand.
type command struct {
	summary string
	run     func(e env, args []string) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":      {"run the web server (default 127.0.0.1:8080, SQLite under ./data)", runServe},
		"demo":       {"seed a demo of Community Y's street under ./demo-data (once) and serve it", runDemo},
		"migrate":    {"apply pending database migrations and exit", runMigrate},
		"people":     {"import and export the people registry (CSV/XLSX)", runPeople},
		"user":       {"manage accounts: add, passwd, list, disable, enable", runUser},
		"token":      {"manage API tokens: create, list, revoke", runToken},
		"audit":      {"check the audit log: verify", runAudit},
		"keys":       {"manage the keys protecting personal data: init, list, rotate, rewrap", runKeys},
		"territory":  {"import and export the territory tree as GeoJSON", runTerritory},
		"calendar":   {"import and export the working calendar's holidays and make-up days", runCalendar},
		"categories": {"import and export the case categories (CSV/XLSX)", runCategories},
		"cases":      {"export cases (CSV/XLSX/GeoJSON), masked unless --reveal", runCases},
		"gen":        {"generate a realistic territory, registry and case history at a scale (community … megacity) into an empty database", runGen},
		"bench":      {"measure the headline workloads on a generated data set, each beside its peer or limit (--quick: a check)", runBench},
		"load":       {"load-test a GridHall on this machine: reports, workflow steps, page views (--setup prepares it)", runLoad},
		"backup":     {"write an online, checked copy of the SQLite database (--out FILE)", runBackup},
		"version":    {"print the version", func(e env, _ []string) error { fmt.Fprintln(e.stdout, "gridhall", version); return nil }},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(env{ctx: ctx, getenv: os.Getenv, stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// exitError carries a specific exit status.
type exitError struct {
	code int
	msg  string
}

func (e exitError) Error() string { return e.msg }

// run executes a command line and returns the process exit status:
// 0 success, 1 failure, 2 usage error.
func run(e env, args []string) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "gridhall: unknown command %q\n\n", args[0])
		usage(e.stderr, cmds)
		return 2
	}
	err := c.run(e, args[1:])
	var ee exitError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ee):
		if ee.msg != "" {
			fmt.Fprintln(e.stderr, "gridhall:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(e.stderr, "gridhall:", err)
	return 1
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "GridHall — community digital governance platform")
	fmt.Fprintln(w, "\nUsage: gridhall <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nEvery flag can also be set by a GRIDHALL_* environment variable (--data-dir ↔ GRIDHALL_DATA_DIR).")
	fmt.Fprintln(w, "Run 'gridhall <command> --help' for a command's flags.")
}

// usageError reports a wrong command line with exit status 2.
func usageError(format string, a ...any) error {
	return exitError{code: 2, msg: fmt.Sprintf(format, a...)}
}
