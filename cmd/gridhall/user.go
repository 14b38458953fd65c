package main

import (
	"bufio"
	"fmt"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/config"
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
// every bad field.
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
// standard input (so that it never appears in the process list or shell
// history).
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
	sub := map[string]func(env, []string) error{
		"add": userAdd, "passwd": userPasswd, "list": userList,
		"disable": userSetDisabled(true), "enable": userSetDisabled(false),
	}
	if len(args) == 0 || sub[args[0]] == nil {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: gridhall user add|passwd|list|disable|enable [flags]\nRun 'gridhall user <sub> --help' for flags.")
			return nil
		}
		return usageError("usage: gridhall user add|passwd|list|disable|enable [flags]")
	}
	return sub[args[0]](e, args[1:])
}

func userAdd(e env, args []string) error {
	cfg := config.Default()
	fs := flagSet(e, "user add", "user add --username NAME --role ROLE [--scope CODE] [flags]")
	config.RegisterStorage(fs, &cfg)
	var in auth.NewUser
	var role, pwFile string
	fs.StringVar(&in.Username, "username", "", "user name (lower-case letters, digits, . _ - @)")
	fs.StringVar(&in.DisplayName, "name", "", "display name (default: the user name)")
	fs.StringVar(&role, "role", "", "role: "+rolesList())
	fs.StringVar(&in.Scope, "scope", "", "territorial scope: a district, street, community or grid code, or a code path")
	fs.StringVar(&pwFile, "password-file", "", "read the password from this file (default: first line of standard input)")
	fs.BoolVar(&in.MustChangePassword, "must-change-password", false, "make the user choose a new password at first login")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	in.Role = auth.Role(role)
	pw, err := readPassword(e, pwFile)
	if err != nil {
		return err
	}
	in.Password = pw
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Auth.CreateUser(e.ctx, consoleActor(), in)
	if err != nil {
		return explain(err)
	}
	fmt.Fprintf(e.stdout, "created user %s (id %d, role %s, scope %q)\n", u.Username, u.ID, u.Role, u.Scope)
	return nil
}

func rolesList() string {
	s := make([]string, len(auth.Roles))
	for i, r := range auth.Roles {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// oneName parses flags and exactly one positional user name.
func oneName(fs interface {
	NArg() int
	Arg(int) string
}, what string) (string, error) {
	if fs.NArg() != 1 {
		return "", usageError("%s takes exactly one user name", what)
	}
	return fs.Arg(0), nil
}

func userPasswd(e env, args []string) error {
	cfg := config.Default()
	fs := flagSet(e, "user passwd", "user passwd [flags] USERNAME")
	config.RegisterStorage(fs, &cfg)
	pwFile := fs.String("password-file", "", "read the new password from this file (default: first line of standard input)")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	name, err := oneName(fs, "user passwd")
	if err != nil {
		return err
	}
	pw, err := readPassword(e, *pwFile)
	if err != nil {
		return err
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	actor := consoleActor()
	u, err := a.Auth.UserByName(e.ctx, actor, name)
	if err != nil {
		return explain(err)
	}
	if err := a.Auth.ResetPassword(e.ctx, actor, u.ID, pw); err != nil {
		return explain(err)
	}
	fmt.Fprintf(e.stdout, "password of %s changed; its sessions were signed out\n", u.Username)
	return nil
}

func userList(e env, args []string) error {
	cfg := config.Default()
	fs := flagSet(e, "user list", "user list [flags]")
	config.RegisterStorage(fs, &cfg)
	query := fs.String("q", "", "only user or display names starting with this")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tNAME\tROLE\tSCOPE\tSTATUS")
	var after int64
	for {
		page, err := a.Auth.ListUsers(e.ctx, consoleActor(), auth.UserFilter{Query: *query, AfterID: after, Limit: 200})
		if err != nil {
			return explain(err)
		}
		for _, u := range page {
			status := "active"
			if u.Disabled {
				status = "disabled"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, u.DisplayName, u.Role, u.Scope, status)
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].ID
	}
	return tw.Flush()
}

func userSetDisabled(disabled bool) func(env, []string) error {
	verb := "enable"
	if disabled {
		verb = "disable"
	}
	return func(e env, args []string) error {
		cfg := config.Default()
		fs := flagSet(e, "user "+verb, "user "+verb+" [flags] USERNAME")
		config.RegisterStorage(fs, &cfg)
		if err := parse(e, fs, &cfg, args); err != nil {
			return err
		}
		name, err := oneName(fs, "user "+verb)
		if err != nil {
			return err
		}
		a, err := openApp(e, cfg)
		if err != nil {
			return err
		}
		defer a.Close()
		actor := consoleActor()
		u, err := a.Auth.UserByName(e.ctx, actor, name)
		if err != nil {
			return explain(err)
		}
		if err := a.Auth.SetDisabled(e.ctx, actor, u.ID, disabled); err != nil {
			return explain(err)
		}
		fmt.Fprintf(e.stdout, "%sd user %s\n", verb, u.Username)
		return nil
	}
}
