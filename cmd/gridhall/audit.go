package main

import (
	"errors"
	"fmt"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/audit"
)

func runAudit(e env, args []string) error {
	return dispatch(e, "audit", map[string]func(env, []string) error{"verify": auditVerify}, "verify", args)
}

func auditVerify(e env, args []string) error {
	return dataCommand(e, "audit verify", "audit verify [flags]", args, 0, nil, func(a *app.App, _ []string) error {
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
	})
}
