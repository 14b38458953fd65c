package cases

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
)

// Input is what an action may need besides the case: a note or reason, a
// target (a department or a person to dispatch to, a case to merge into),
// a rating, an extension, photos.
type Input struct {
	Note string `json:"note"`
	// Target is "department:CODE" or "user:ID" for dispatch, transfer and
	// assist; a case number or id for merge.
	Target   string          `json:"target"`
	Rating   Rating          `json:"rating"`
	Limit    calendar.Limit  `json:"limit"`
	Urgency  catalog.Urgency `json:"urgency"`  // register may correct it
	Category string          `json:"category"` // register may correct it
	Photos   []Upload        `json:"-"`
	// Version, when set, must be the case's current version: a form sent
	// from a stale page is refused instead of acting on changed facts.
	Version int `json:"version"`
}

// needsNote are the actions that must say why.
var needsNote = map[Action]bool{
	Reject: true, Cancel: true, Return: true, Rework: true, RequestExtension: true, RefuseExtension: true,
	Suspend: true, Urge: true, Escalate: true, Note: true, Handle: true,
}

// Act takes action a on case id for actor: it checks the workflow table and
// the input, then in one transaction updates the case and its stage clock,
// appends the timeline entry with photos, the audit entry and the outbox
// messages. Refusals say why and change nothing.
func (s *Service) Act(ctx context.Context, actor auth.Actor, id int64, a Action, in Input) (Case, error) {
	const op = "cases.Act"
	w, err := s.Who(ctx, actor)
	if err != nil {
		return Case{}, err
	}
	if _, ok := rules[a]; !ok {
		return Case{}, errs.Fields(op, map[string]string{"action": "case.error.action"})
	}
	// Photos are read and cleaned before the transaction: decoding images
	// must not hold the writer.
	photos, err := s.photos(op, in.Photos)
	if err != nil {
		return Case{}, err
	}
	var out Case
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.load(ctx, tx, op, w, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if in.Version != 0 && in.Version != c.Version {
			return errs.E(errs.Conflict, op, "case.error.stale")
		}
		to, err := Decide(w, c, a)
		if err != nil {
			return err
		}
		out, err = s.apply(ctx, tx, w, c, a, to, in, photos)
		return err
	})
	if err != nil {
		return Case{}, errs.Wrap(op, err)
	}
	return out, nil
}

// BulkResult is the outcome of one case of a bulk action.
type BulkResult struct {
	ID    int64 `json:"id"`
	Error error `json:"-"`
	Case  Case  `json:"case,omitzero"`
}

// ActMany takes the same action on several cases, each in its own
// transaction, as the standard allows for dispatch: one refusal does not
// undo the others, and each result says what happened.
func (s *Service) ActMany(ctx context.Context, actor auth.Actor, ids []int64, a Action, in Input) ([]BulkResult, error) {
	const op = "cases.ActMany"
	if len(ids) == 0 || len(ids) > 200 {
		return nil, errs.Fields(op, map[string]string{"ids": "case.error.bulk"})
	}
	if a != Dispatch && a != Accept && a != Register && a != Close && a != Urge {
		return nil, errs.Fields(op, map[string]string{"action": "case.error.bulk_action"})
	}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		c, err := s.Act(ctx, actor, id, a, in)
		out = append(out, BulkResult{ID: id, Case: c, Error: err})
	}
	return out, nil
}

// target is where a dispatch, transfer or assist sends a case.
type target struct {
	kind, key string
}

func (s *Service) checkTarget(ctx context.Context, c Case, a Action, raw string, f map[string]string) target {
	kind, key, ok := strings.Cut(strings.TrimSpace(raw), ":")
	if !ok || key == "" {
		f["target"] = "case.error.target"
		return target{}
	}
	switch kind {
	case ToDepartment:
		d, err := s.cat.Department(ctx, key)
		if err != nil || !d.Active {
			f["target"] = "case.error.target"
			return target{}
		}
		if a == Transfer && c.AssigneeKind == ToDepartment && c.Assignee == key {
			f["target"] = "case.error.same_target"
		}
		if a == Assist && c.AssigneeKind == ToDepartment && c.Assignee == key {
			f["target"] = "case.error.same_target"
		}
		return target{kind, key}
	case ToUser:
		if a == Assist {
			break
		}
		uid, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			break
		}
		// Matters that stay in the grid go to the field staff who cover it.
		who, err := s.users.ActorOf(ctx, uid)
		if err != nil || (who.Role != auth.GridWorker && who.Role != auth.CommunityStaff) ||
			!auth.Can(who, auth.HandleCases, c.GridPath) {
			break
		}
		return target{kind, key}
	}
	f["target"] = "case.error.target"
	return target{}
}

// apply computes and writes the effect of an allowed action.
func (s *Service) apply(ctx context.Context, tx *sql.Tx, w Who, c Case, a Action, to State, in Input, photos []attachment) (Case, error) {
	const op = "cases.Act"
	now := s.clock.Now()
	f := map[string]string{}
	in.Note = strings.TrimSpace(in.Note)
	if needsNote[a] && in.Note == "" {
		f["note"] = "case.error.note_required"
	}
	if utf8.RuneCountInString(in.Note) > maxNote {
		f["note"] = "error.field.too_long"
	}
	if a == Handle && len(photos) == 0 {
		f["photos"] = "case.error.photo_required"
	}
	cat, err := s.cat.ByRef(ctx, c.Category)
	if err != nil {
		return c, err
	}
	n := c
	n.State, n.UpdatedAt = to, now
	detail := map[string]any{}
	var tg target
	var merged Case
	switch a {
	case Dispatch, Transfer, Assist:
		tg = s.checkTarget(ctx, c, a, in.Target, f)
	case Rate:
		if in.Rating < Satisfied || in.Rating > Unsatisfied {
			f["rating"] = "case.error.rating"
		}
	case RequestExtension:
		if !in.Limit.Valid() || (in.Limit.Unit == calendar.Days && in.Limit.Amount > 30) || (in.Limit.Unit == calendar.Hours && in.Limit.Amount > 240) {
			f["limit"] = "case.error.limit"
		}
	case Register:
		if in.Urgency != "" {
			if in.Urgency != catalog.Urgent && in.Urgency != catalog.Pressing && in.Urgency != catalog.Normal {
				f["urgency"] = "case.error.urgency"
			} else {
				n.Urgency = in.Urgency
			}
		}
		if in.Category != "" && in.Category != c.Category {
			nc, err := s.cat.ByRef(ctx, in.Category)
			if err != nil || !nc.Active {
				f["category"] = "case.error.category"
			} else {
				cat, n.CategoryKind, n.CategoryCode, n.Category = nc, nc.Kind, nc.Code, nc.Ref()
				detail["category"] = nc.Ref()
			}
		}
	case Merge:
		merged, err = s.mergeTarget(ctx, tx, w, c, in.Target, f)
		if err != nil {
			return c, err
		}
	}
	if len(f) > 0 {
		return c, errs.Fields(op, f)
	}
	cal, err := s.calendarFor(ctx, c.GridPath)
	if err != nil {
		return c, err
	}

	restage := stageOf(to) != c.Stage
	switch a {
	case Verify:
		n.VerifiedAt = now
	case Register:
		n.RegisteredAt = now
	case Dispatch, Transfer:
		n.AssigneeKind, n.Assignee = tg.kind, tg.key
		n.DispatchedAt = now
		if a == Transfer {
			n.Redispatches++
			restage = true
		}
		if l, ok := limitOf(cat, n.Urgency, catalog.Handle); ok {
			n.HandleDueAt = cal.Deadline(now, l)
		}
		detail["target"] = tg.kind + ":" + tg.key
	case Assist:
		if err := s.st.addAssist(ctx, tx, c.ID, tg.key); err != nil {
			return c, err
		}
		n.Assists = append(n.Assists, tg.key)
		detail["target"] = tg.kind + ":" + tg.key
	case Sign:
		n.HandlerID = w.UserID
	case Return:
		n.Redispatches++
		n.AssigneeKind, n.Assignee, n.HandlerID, n.HandleDueAt, n.ExtensionPending = "", "", 0, time.Time{}, ""
	case Handle:
		n.HandledAt, n.HandlerID = now, w.UserID
	case Check:
		n.CheckedAt = now
	case Rework:
		n.Reworks++
		n.HandledAt, n.CheckedAt = time.Time{}, time.Time{}
		restage = true
		// The rework gets a fresh handling limit from now.
		if l, ok := limitOf(cat, n.Urgency, catalog.Handle); ok {
			n.HandleDueAt = cal.Deadline(now, l)
		}
	case Close:
		n.ClosedAt = now
	case Rate:
		n.Rating, n.RatingNote, n.RatedAt = in.Rating, in.Note, now
		detail["rating"] = int(in.Rating)
	case RequestExtension:
		n.ExtensionPending = limitText(in.Limit)
		detail["limit"] = in.Limit
	case ApproveExtension:
		l, ok := parseLimitText(c.ExtensionPending)
		if !ok {
			return c, errs.E(errs.Internal, op, "error.internal")
		}
		n.ExtensionPending = ""
		n.Extensions++
		if !n.HandleDueAt.IsZero() {
			n.HandleDueAt = cal.Add(n.HandleDueAt, l.Duration(cal))
		}
		if c.State == Handling {
			n.StageDueAt = n.HandleDueAt
			s.resetTimer(&n, cal)
			if err := s.st.moveStageDue(ctx, tx, c.ID, n.StageDueAt); err != nil {
				return c, err
			}
		}
		detail["limit"] = l
	case RefuseExtension:
		n.ExtensionPending = ""
	case Suspend:
		n.SuspendedFrom, n.SuspendedAt = c.State, now
		n.Suspensions++
		n.TimerAt = time.Time{}
		restage = false // the stage's clock pauses; its row stays open
	case Resume:
		// The clock resumes with the working time that was left.
		left := cal.Working(c.SuspendedAt, c.StageDueAt)
		n.StageDueAt = cal.Add(now, left)
		if !c.HandleDueAt.IsZero() {
			n.HandleDueAt = cal.Add(now, cal.Working(c.SuspendedAt, c.HandleDueAt))
		}
		n.SuspendedFrom, n.SuspendedAt = "", time.Time{}
		n.Stage = stageOf(to)
		s.resetTimer(&n, cal)
		if err := s.st.moveStageDue(ctx, tx, c.ID, n.StageDueAt); err != nil {
			return c, err
		}
		restage = false
	case Urge:
		n.Urgings++
	case Escalate:
		n.Level = c.Level.Next()
		detail["level"] = n.Level
	case Merge:
		n.DuplicateOf = merged.ID
		detail["into"] = merged.Number
	}
	if a == Suspend {
		n.Stage = c.Stage
	} else if restage || to.Final() {
		if err := s.st.closeStage(ctx, tx, c.ID, now); err != nil {
			return c, err
		}
		s.startStage(&n, cal, cat, now)
		if n.Stage != "" {
			if err := s.st.openStage(ctx, tx, c.ID, stageRow{Stage: n.Stage, StartedAt: now, DueAt: n.StageDueAt, GridPath: n.GridPath, Assignee: n.Assignee}); err != nil {
				return c, err
			}
		}
	}
	var handledOnTime, closedOnTime any
	if a == Handle {
		handledOnTime = n.HandleDueAt.IsZero() || !now.After(n.HandleDueAt)
	}
	if a == Close {
		late, err := s.st.lateStages(ctx, tx, c.ID)
		if err != nil {
			return c, err
		}
		closedOnTime = late == 0
	}
	ok, err := s.st.updateCase(ctx, tx, n, handledOnTime, closedOnTime)
	if err != nil {
		return c, err
	}
	if !ok {
		return c, errs.E(errs.Conflict, op, "case.error.stale")
	}
	n.Version++
	evID, err := s.st.insertEvent(ctx, tx, c.ID, Event{At: now, ActorID: w.UserID, ActorName: w.Username, ActorRole: w.Role,
		Action: string(a), From: c.State, To: n.State, Note: in.Note, Detail: detail, Public: publicAction(a)})
	if err != nil {
		return c, err
	}
	for _, p := range photos {
		if _, err := s.st.insertAttachment(ctx, tx, c.ID, evID, p, now); err != nil {
			return c, err
		}
	}
	if a == Merge {
		if err := s.st.moveFollowers(ctx, tx, c.ID, merged.ID); err != nil {
			return c, err
		}
		if _, err := s.st.insertEvent(ctx, tx, merged.ID, Event{At: now, ActorID: w.UserID, ActorName: w.Username, ActorRole: w.Role,
			Action: "merged", From: merged.State, To: merged.State, Detail: map[string]any{"from": c.Number}, Public: true}); err != nil {
			return c, err
		}
	}
	if err := s.record(ctx, tx, w.Actor, audit.Record{Action: "case." + string(a), ObjectType: "case", ObjectID: itoa(c.ID),
		ScopePath: c.GridPath, Detail: map[string]any{"number": c.Number, "from": c.State, "to": n.State}}); err != nil {
		return c, err
	}
	if err := s.notify(ctx, tx, n, string(a), w.Actor); err != nil {
		return c, err
	}
	if a == Merge {
		merged.UpdatedAt = now
		if err := s.notify(ctx, tx, merged, "merged", w.Actor); err != nil {
			return c, err
		}
	}
	return n, nil
}

// publicAction says which steps residents see on their case's timeline:
// what happened to their report, not the office's internal back-and-forth.
func publicAction(a Action) bool {
	switch a {
	case Urge, Escalate, Assist, RequestExtension, RefuseExtension, Return:
		return false
	}
	return true
}

func (s *Service) mergeTarget(ctx context.Context, tx *sql.Tx, w Who, c Case, raw string, f map[string]string) (Case, error) {
	raw = strings.TrimSpace(raw)
	var id int64
	if v, err := strconv.ParseInt(raw, 10, 64); err == nil {
		id = v
	} else if v, err := s.st.caseIDByNumber(ctx, tx, raw); err == nil {
		id = v
	} else if !errors.Is(err, sql.ErrNoRows) {
		return Case{}, err
	}
	if id == 0 || id == c.ID {
		f["target"] = "case.error.merge_target"
		return Case{}, nil
	}
	t, err := s.st.caseByID(ctx, tx, id, "")
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (!w.CanRead(t) || t.State == Rejected || t.State == Cancelled)) {
		f["target"] = "case.error.merge_target"
		return Case{}, nil
	}
	return t, err
}

// startStage starts the clock of the stage the case's state is in.
func (s *Service) startStage(c *Case, cal *calendar.Calendar, cat catalog.Category, now time.Time) {
	c.Stage = stageOf(c.State)
	c.StageStartedAt, c.StageDueAt, c.Overdue, c.TimerAt, c.TimerStep = time.Time{}, time.Time{}, false, time.Time{}, 0
	if c.Stage == "" {
		return
	}
	c.StageStartedAt = now
	if c.Stage == catalog.Handle && !c.HandleDueAt.IsZero() {
		// Handling runs against the limit set at dispatch, so the time a
		// department takes to sign for a case counts.
		c.StageDueAt = c.HandleDueAt
	} else if l, ok := limitOf(cat, c.Urgency, c.Stage); ok {
		c.StageDueAt = cal.Deadline(now, l)
	}
	s.resetTimer(c, cal)
}

// Timer steps: a yellow warning at 80% of the limit, the overdue mark at the
// deadline, escalation when configured.
const (
	stepWarn = iota
	stepOverdue
	stepEscalate
	stepDone
)

// resetTimer schedules the first timer of the current stage.
func (s *Service) resetTimer(c *Case, cal *calendar.Calendar) {
	c.TimerAt, c.TimerStep, c.Overdue = time.Time{}, stepWarn, false
	if c.StageDueAt.IsZero() {
		return
	}
	total := cal.Working(c.StageStartedAt, c.StageDueAt)
	c.TimerAt = cal.Add(c.StageStartedAt, total*4/5)
}
