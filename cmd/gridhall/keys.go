package main

import (
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/seal"
)

func runKeys(e env, args []string) error {
	return dispatch(e, "keys", map[string]func(env, []string) error{
		"init": keysInit, "list": keysList, "rotate": keysRotate, "rewrap": keysRewrap,
	}, "init|list|rotate|rewrap", args)
}

// keysInit prints a new master key; it touches no database.
func keysInit(e env, args []string) error {
	fs := flagSet(e, "keys init", "keys init")
	if err := fs.Parse(args); err != nil {
		return err
	}
	_, text := seal.GenerateMasterKey()
	fmt.Fprintln(e.stderr, "A new master key. Store it in a file readable only by gridhall (--master-key-file) or in GRIDHALL_MASTER_KEY,")
	fmt.Fprintln(e.stderr, "give every node the same one, and keep a copy offline: without it the personal data cannot be read.")
	fmt.Fprintln(e.stdout, text)
	return nil
}

// requireKeys fails clearly when no master key is configured.
func requireKeys(a *app.App) error {
	if a.Keys == nil {
		return exitError{code: 1, msg: "no master key configured: set --master-key-file or GRIDHALL_MASTER_KEY"}
	}
	return nil
}

func keysList(e env, args []string) error {
	return dataCommand(e, "keys list", "keys list [flags]", args, 0, nil, func(a *app.App, _ []string) error {
		if err := requireKeys(a); err != nil {
			return err
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKIND\tCREATED\tSTATUS")
		for _, k := range a.Keys.Keys() {
			status := ""
			switch {
			case k.Current:
				status = "current"
			case !k.RetiredAt.IsZero():
				status = "retired " + k.RetiredAt.Format(time.DateOnly) + " (still reads old values)"
			case k.Kind == "index":
				status = "blind index"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", k.ID, k.Kind, k.CreatedAt.Format(time.DateTime), status)
		}
		return tw.Flush()
	})
}

func keysRotate(e env, args []string) error {
	return dataCommand(e, "keys rotate", "keys rotate [flags]", args, 0, nil, func(a *app.App, _ []string) error {
		if err := requireKeys(a); err != nil {
			return err
		}
		res, err := a.People.RotateKeys(e.ctx, consoleActor())
		if err != nil {
			return explain(err)
		}
		retired := make([]string, len(res.Retired))
		for i, id := range res.Retired {
			retired[i] = fmt.Sprint(id)
		}
		fmt.Fprintf(e.stdout, "new data key %d is current; %d records re-encrypted; retired keys: %s\n",
			res.NewKeyID, res.Resealed, strings.Join(retired, ", "))
		return nil
	})
}

func keysRewrap(e env, args []string) error {
	var newFile string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&newFile, "new-master-key-file", "", "file with the new master key (make one with 'gridhall keys init')")
	}
	return dataCommand(e, "keys rewrap", "keys rewrap --new-master-key-file FILE [flags]", args, 0, flags, func(a *app.App, _ []string) error {
		if err := requireKeys(a); err != nil {
			return err
		}
		if newFile == "" {
			return usageError("--new-master-key-file is required")
		}
		// A named file is always read (ok is true) or an error.
		mk, _, err := seal.LoadMasterKey(newFile, "")
		if err != nil {
			return fmt.Errorf("new master key: %w", err)
		}
		if err := a.Keys.RewrapAll(e.ctx, mk); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, "every key is now wrapped with the new master key; restart every node with it")
		return nil
	})
}
