package main

import (
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
)

func runToken(e env, args []string) error {
	return dispatch(e, "token", map[string]func(env, []string) error{"create": tokenCreate, "revoke": tokenRevoke, "list": tokenList},
		"create|list|revoke", args)
}

// parseLifetime reads a token lifetime: a Go duration ("720h") or a number of
// days ("90d"); "0" or "never" means no expiry.
func parseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "never" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > 3650 {
			return 0, fmt.Errorf("days must be a whole number from 1 to 3650")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > 3650*24*time.Hour {
		return 0, fmt.Errorf("want a positive duration such as 90d or 720h, or never")
	}
	return d, nil
}

func tokenCreate(e env, args []string) error {
	var in auth.NewToken
	var scopes, expires string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&in.Username, "user", "", "account the token acts as")
		fs.StringVar(&in.Name, "name", "", "label saying what the token is for")
		fs.StringVar(&scopes, "scopes", "read", "comma-separated scopes: "+strings.Join(auth.TokenScopes, ", "))
		fs.StringVar(&expires, "expires", "90d", "lifetime: days (90d), a duration (720h) or never")
	}
	return dataCommand(e, "token create", "token create --user NAME --name LABEL [--scopes read,write] [--expires 90d]", args, 0, flags,
		func(a *app.App, _ []string) error {
			life, err := parseLifetime(expires)
			if err != nil {
				return usageError("--expires: %v", err)
			}
			in.ExpiresIn = life
			for _, s := range strings.Split(scopes, ",") {
				if s = strings.TrimSpace(s); s != "" {
					in.Scopes = append(in.Scopes, s)
				}
			}
			t, secret, err := a.Auth.CreateToken(e.ctx, consoleActor(), in)
			if err != nil {
				return explain(err)
			}
			exp := "never"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(e.stderr, "created token %d for %s (scopes %s, expires %s); it is shown only now:\n",
				t.ID, t.Username, strings.Join(t.Scopes, ","), exp)
			fmt.Fprintln(e.stdout, secret)
			return nil
		})
}

func tokenList(e env, args []string) error {
	return dataCommand(e, "token list", "token list [flags]", args, 0, nil, func(a *app.App, _ []string) error {
		ts, err := a.Auth.ListTokens(e.ctx, consoleActor(), 0)
		if err != nil {
			return explain(err)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSER\tNAME\tSCOPES\tEXPIRES\tSTATUS")
		for _, t := range ts {
			exp, status := "never", "active"
			if t.ExpiresAt != nil {
				exp = t.ExpiresAt.Format(time.DateOnly)
				if !a.Clock.Now().Before(*t.ExpiresAt) {
					status = "expired"
				}
			}
			if t.RevokedAt != nil {
				status = "revoked"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, strings.Join(t.Scopes, ","), exp, status)
		}
		return tw.Flush()
	})
}

func tokenRevoke(e env, args []string) error {
	return dataCommand(e, "token revoke", "token revoke [flags] ID", args, 1, nil, func(a *app.App, pos []string) error {
		id, err := strconv.ParseInt(pos[0], 10, 64)
		if err != nil || id < 1 {
			return usageError("token id must be a positive number, got %q", pos[0])
		}
		if err := a.Auth.RevokeToken(e.ctx, consoleActor(), id); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "revoked token %d\n", id)
		return nil
	})
}
