package main

import (
	"errors"
	"fmt"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/config"
)

func runAudit(e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(e.stdout, "Usage: gridhall audit verify [flags]")
			return nil
		}
		return usageError("usage: gridhall audit verify [flags]")
	}
	cfg := config.Default()
	fs := flagSet(e, "audit verify", "audit verify [flags]")
	config.RegisterStorage(fs, &cfg)
	if err := parse(e, fs, &cfg, args[1:]); err != nil {
		return err
	}
	a, err := openApp(e, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	rep, err := a.Audit.Verify(e.ctx)
	if errors.Is(err, audit.ErrBroken) {
		return exitError{code: 1, msg: fmt.Sprintf("audit chain BROKEN at entry %d: %s (%d entries verified before it)",
			rep.Problem.Seq, rep.Problem.Reason, rep.Entries)}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "audit chain intact: %d entries, head %s\n", rep.Entries, rep.Head)
	return nil
}
