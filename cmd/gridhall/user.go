package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
)

// consoleActor is the audit identity of console commands: the operating
// system user who ran them.
func consoleActor() auth.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return auth.SystemActor("cli:" + name)
}

// explain turns a service error into a console message in English, naming
// every bad field as the flag that sets it.
func explain(err error) error {
	e := errs.As(err)
	if e.Code == errs.Internal {
		return err
	}
	b, berr := i18n.New()
	if berr != nil {
		return err
	}
	msg := b.T(i18n.English, e.Msg, e.Args...)
	for f, k := range e.Fields {
		msg += fmt.Sprintf("\n  --%s: %s", strings.ReplaceAll(f, "_", "-"), b.T(i18n.English, k))
	}
	return exitError{code: 1, msg: msg}
}

// readPassword reads a password from a file, or else the first line of
// standard input, so that it never appears in the process list or the shell
// history.
func readPassword(e env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	fmt.Fprint(e.stderr, "Password (one line on standard input): ")
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	fmt.Fprintln(e.stderr)
	return strings.TrimRight(line, "\r\n"), nil
}

func runUser(e env, args []string) error {
	return dispatch(e, "user", map[string]func(env, []string) error{
		"add": userAdd, "passwd": userPasswd, "list": userList,
		"disable": userSetDisabled(true), "enable": userSetDisabled(false),
	}, "add|passwd|list|disable|enable", args)
}

func rolesList() string {
	s := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

func userAdd(e env, args []string) error {
	var in auth.NewUser
	var role, pwFile string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&in.Username, "username", "", "user name (lower-case letters, digits, . _ - @)")
		fs.StringVar(&in.DisplayName, "name", "", "display name (default: the user name)")
		fs.StringVar(&role, "role", "", "role: "+rolesList())
		fs.StringVar(&in.Scope, "scope", "", "territorial scope: a district, street, community or grid code, or a code path")
		fs.StringVar(&pwFile, "password-file", "", "read the password from this file (default: first line of standard input)")
		fs.BoolVar(&in.MustChangePassword, "must-change-password", false, "make the user choose a new password at first login")
	}
	return dataCommand(e, "user add", "user add --username NAME --role ROLE [--scope CODE] [flags]", args, 0, flags,
		func(a *app.App, _ []string) error {
			in.Role = auth.Role(role)
			pw, err := readPassword(e, pwFile)
			if err != nil {
				return err
			}
			in.Password = pw
			u, err := a.Auth.CreateUser(e.ctx, consoleActor(), in)
			if err != nil {
				return explain(err)
			}
			fmt.Fprintf(e.stdout, "created user %s (id %d, role %s, scope %q)\n", u.Username, u.ID, u.Role, u.Scope)
			return nil
		})
}

func userPasswd(e env, args []string) error {
	var pwFile string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&pwFile, "password-file", "", "read the new password from this file (default: first line of standard input)")
	}
	return dataCommand(e, "user passwd", "user passwd [flags] USERNAME", args, 1, flags, func(a *app.App, pos []string) error {
		actor := consoleActor()
		u, err := a.Auth.UserByName(e.ctx, actor, pos[0])
		if err != nil {
			return explain(err)
		}
		pw, err := readPassword(e, pwFile)
		if err != nil {
			return err
		}
		if err := a.Auth.ResetPassword(e.ctx, actor, u.ID, pw); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "password of %s changed; its sessions were signed out\n", u.Username)
		return nil
	})
}

func userList(e env, args []string) error {
	var query string
	flags := func(fs *flag.FlagSet) { fs.StringVar(&query, "q", "", "only user or display names starting with this") }
	return dataCommand(e, "user list", "user list [flags]", args, 0, flags, func(a *app.App, _ []string) error {
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tROLE\tSCOPE\tSTATUS")
		const page = 200
		var after int64
		for {
			users, err := a.Auth.ListUsers(e.ctx, consoleActor(), auth.UserFilter{Query: query, AfterID: after, Limit: page})
			if err != nil {
				return explain(err)
			}
			for _, u := range users {
				status := "active"
				if u.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.DisplayName, u.Role, u.Scope, status)
			}
			if len(users) < page {
				return tw.Flush()
			}
			after = users[len(users)-1].ID
		}
	})
}

func userSetDisabled(disabled bool) func(env, []string) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return func(e env, args []string) error {
		return dataCommand(e, "user "+verb, "user "+verb+" [flags] USERNAME", args, 1, nil, func(a *app.App, pos []string) error {
			actor := consoleActor()
			u, err := a.Auth.UserByName(e.ctx, actor, pos[0])
			if err != nil {
				return explain(err)
			}
			if err := a.Auth.SetDisabled(e.ctx, actor, u.ID, disabled); err != nil {
				return explain(err)
			}
			fmt.Fprintf(e.stdout, "%sd user %s\n", verb, u.Username)
			return nil
		})
	}
}
