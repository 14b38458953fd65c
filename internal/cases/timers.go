package cases

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/errs"
)

// timerActor is who the timeline and audit log show for the timer job.
var timerActor = auth.SystemActor("timer")

// RunTimers fires every case timer that has come due: the yellow warning at
// 80% of a stage's limit, the overdue mark at its deadline, and escalation
// up the ladder when configured. It is safe on several nodes at once: a
// timer fires by a conditional update of the case's timer step, which only
// one transaction can win, and everything the timer does happens in that
// transaction. It returns how many timers fired.
func (s *Service) RunTimers(ctx context.Context) (int, error) {
	const op = "cases.RunTimers"
	now := s.clock.Now()
	due, err := s.st.dueTimers(ctx, s.db, now, 200)
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	fired := 0
	for _, c := range due {
		ok, err := s.fire(ctx, c, now)
		if err != nil {
			return fired, errs.Wrap(op, err)
		}
		if ok {
			fired++
		}
	}
	return fired, nil
}

// fire runs one case's due timer; false when another node fired it first.
func (s *Service) fire(ctx context.Context, c Case, now time.Time) (bool, error) {
	cal, err := s.calendarFor(ctx, c.GridPath)
	if err != nil {
		return false, err
	}
	n := c
	n.UpdatedAt = now
	var step string
	switch c.TimerStep {
	case stepWarn:
		step = "warn"
		n.TimerStep, n.TimerAt = stepOverdue, c.StageDueAt
	case stepOverdue:
		step = "overdue"
		n.Overdue = true
		n.TimerStep, n.TimerAt = stepDone, time.Time{}
		if s.cfg.EscalateAfter > 0 && c.Level.Next() != "" {
			limit := cal.Working(c.StageStartedAt, c.StageDueAt)
			n.TimerStep = stepEscalate
			n.TimerAt = cal.Add(c.StageDueAt, time.Duration(float64(limit)*s.cfg.EscalateAfter))
		}
	case stepEscalate:
		step = "escalate"
		n.TimerStep, n.TimerAt = stepDone, time.Time{}
		if next := c.Level.Next(); next != "" {
			n.Level = next
		}
	default:
		step = "none"
		n.TimerAt = time.Time{}
	}
	won := false
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		ok, err := s.st.updateCase(ctx, tx, n, nil, nil)
		if err != nil || !ok {
			return err // lost the race: the case changed or another node fired
		}
		won = true
		n.Version++
		if step == "none" {
			return nil
		}
		detail := map[string]any{"stage": c.Stage, "due_at": c.StageDueAt}
		if step == "escalate" {
			detail["level"] = n.Level
		}
		if _, err := s.st.insertEvent(ctx, tx, c.ID, Event{At: now, ActorName: timerActor.Username, ActorRole: timerActor.Role,
			Action: step, From: c.State, To: c.State, Detail: detail, Public: false}); err != nil {
			return err
		}
		if step != "warn" {
			if err := s.record(ctx, tx, timerActor, audit.Record{Action: "case." + step, ObjectType: "case",
				ObjectID: itoa(c.ID), ScopePath: c.GridPath, Detail: detail}); err != nil {
				return err
			}
		}
		return s.notify(ctx, tx, n, step, timerActor)
	})
	return won, err
}

// Run fires timers every interval until ctx ends.
func (s *Service) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	clock.Every(ctx, every, func() {
		if _, err := s.RunTimers(ctx); err != nil && ctx.Err() == nil {
			log.Error("case timers", "err", err)
		}
	})
}
