package main

import (
	"crypto/rand"
	"encoding/base32"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/gen"
)

// runGen generates a realistic data set at a chosen scale into an empty
// database (the one --db / GRIDHALL_DB names, as for serve).
func runGen(e env, args []string) error {
	var scaleName, passwordFile, nowText string
	var grids, residents, caseCount, years int
	var seed uint64
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&scaleName, "scale", "community", "preset scale: "+gen.PresetNames())
		fs.IntVar(&grids, "grids", 0, "number of grids (overrides the scale's)")
		fs.IntVar(&residents, "residents", -1, "number of residents (overrides the scale's)")
		fs.IntVar(&caseCount, "cases", -1, "number of cases (overrides the scale's)")
		fs.IntVar(&years, "years", 0, "years of case history ending now (overrides the scale's)")
		fs.Uint64Var(&seed, "seed", 1, "random seed: the same seed, scale and --now give the same data")
		fs.StringVar(&nowText, "now", "", "end of the generated history, RFC 3339 or YYYY-MM-DD (default: the current minute)")
		fs.StringVar(&passwordFile, "password-file", "", "file whose first line is every generated account's password (default: generated and printed)")
	}
	synopsis := "gen [--scale community|street|district|city|megacity] [--grids N] [--residents N] [--cases N] [--years N] [--seed N] [--now TIME] [--password-file F] [--db …]"
	return dataCommand(e, "gen", synopsis, args, 0, flags, func(a *app.App, _ []string) error {
		sc, err := gen.Preset(scaleName)
		if err != nil {
			return usageError("%v", err)
		}
		if grids > 0 {
			sc.Grids = grids
		}
		if residents >= 0 {
			sc.Residents = residents
		}
		if caseCount >= 0 {
			sc.Cases = caseCount
		}
		if years > 0 {
			sc.Years = years
		}
		if grids > 0 || residents >= 0 || caseCount >= 0 || years > 0 {
			sc.Name += "+overrides"
		}
		if err := sc.Validate(); err != nil {
			return usageError("%v", err)
		}
		now := time.Now().Truncate(time.Minute)
		if nowText != "" {
			if now, err = parseNow(nowText); err != nil {
				return usageError("--now: %v", err)
			}
		}
		password := ""
		if passwordFile != "" {
			b, err := os.ReadFile(passwordFile)
			if err != nil {
				return err
			}
			password, _, _ = strings.Cut(string(b), "\n")
			password = strings.TrimRight(password, "\r")
		}
		if password == "" {
			b := make([]byte, 10)
			rand.Read(b)
			password = "gen-" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:12]
		}
		fmt.Fprintf(e.stderr, "gen: %s, seed %d, history ending %s, on %s\n", sc, seed, now.Format(time.RFC3339), a.DB.Engine)
		sum, err := gen.Run(e.ctx, gen.Deps{DB: a.DB, Audit: a.Audit, Keys: a.Keys, Catalog: a.Catalog, Calendar: a.Calendar},
			gen.Options{Scale: sc, Seed: seed, Now: now, Password: password, Progress: e.stderr})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Generated %d districts, %d streets, %d communities, %d grids; %d accounts; %d buildings, %d houses, %d households, %d residents (%d aged 60 or over); %d cases (%d open) with %d timeline entries and %d stages.\n",
			sum.Districts, sum.Streets, sum.Communities, sum.Grids, sum.Accounts, sum.Buildings, sum.Houses, sum.Households,
			sum.Residents, sum.Aged60, sum.Cases, sum.Open, sum.Events, sum.Stages)
		for _, p := range sum.Phases {
			rate := ""
			if p.Rows > 0 {
				rate = fmt.Sprintf(", %d rows, %.0f rows/s", p.Rows, float64(p.Rows)/p.Took.Seconds())
			}
			fmt.Fprintf(e.stdout, "  %-46s %8s%s\n", p.Name, p.Took.Round(100*time.Millisecond), rate)
		}
		fmt.Fprintf(e.stdout, "%d rows in %s (%.0f rows/s). Every account's password: %s\n", sum.Rows, sum.Took.Round(time.Second),
			float64(sum.Rows)/sum.Took.Seconds(), password)
		fmt.Fprintln(e.stdout, "Accounts: admin, auditor; d<district code> (district), s<street code> (dispatch centre), c<community code>-1|2 (community staff), g<grid code> (grid worker), <department>-<district code> (department handler), r<community code> (resident).")
		return nil
	})
}

// parseNow reads --now: an RFC 3339 instant or a date (its end of office
// hours, 18:00 China Standard Time).
func parseNow(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, s, time.FixedZone("CST", 8*3600))
	if err != nil {
		return time.Time{}, fmt.Errorf("want RFC 3339 (2026-11-19T15:00:00+08:00) or a date (2026-11-19), got %q", s)
	}
	return d.Add(18 * time.Hour), nil
}
