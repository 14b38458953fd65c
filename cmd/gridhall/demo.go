package main

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/demo"
)

func runDemo(e env, args []string) error {
	cfg := config.Default()
	cfg.DataDir = "./demo-data" // never mix demo data into a real installation's ./data
	fs := flagSet(e, "demo", "demo [flags]")
	config.RegisterStorage(fs, &cfg)
	config.RegisterServer(fs, &cfg)
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError("demo takes no arguments, got %q", fs.Args())
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	empty, err := a.Auth.NeedsSetup(e.ctx)
	if err != nil {
		return err
	}
	if empty {
		password := e.getenv("GRIDHALL_DEMO_PASSWORD")
		if password == "" {
			b := make([]byte, 10)
			rand.Read(b)
			password = "demo-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:12]
		}
		if err := demo.Seed(e.ctx, a.Auth, a.Territory, password); err != nil {
			return err
		}
		if err := demo.SeedDepartments(e.ctx, a.Auth, a.Catalog); err != nil {
			return err
		}
		sum, err := demo.SeedPeople(e.ctx, a.People, a.Territory, a.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Registered %d residents in %d households (%d aged 60 or over).\n", sum.Residents, sum.Households, sum.Aged60)
		fmt.Fprintln(e.stderr, "Playing a year of cases through the workflow…")
		cs, err := demo.SeedCases(e.ctx, cases.Deps{DB: a.DB, Audit: a.Audit, Territory: a.Territory, Users: a.Auth, Catalog: a.Catalog,
			Calendar: a.Calendar, Keys: a.Keys, I18n: a.I18n, Log: a.Log}, a.Clock.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stderr, "Seeded %d cases with %d workflow steps; %d are still open.\n", cs.Cases, cs.Actions, cs.Open())
		fmt.Fprintf(e.stderr, "\nSeeded the demo of Community Y's street (%d households). Every account's password: %s\n\n", demo.Households, password)
		tw := tabwriter.NewWriter(e.stderr, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  USER\tROLE\tSCOPE\tNAME")
		for _, acc := range demo.Accounts() {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", acc.Username, acc.Role, acc.Scope, acc.Name)
		}
		tw.Flush()
		fmt.Fprintln(e.stderr)
	} else {
		fmt.Fprintf(e.stderr, "The demo database in %s is already seeded; sign in with the accounts printed when it was.\n", cfg.DataDir)
	}
	return a.Serve(e.ctx, e.stderr, nil)
}
