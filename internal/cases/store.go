package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/db"
)

// store holds the package's SQL and nothing else.
type store struct{}

const caseColumns = `id, number, category_kind, category_code, urgency, description, address, lng, lat,
	grid_path, territory_version, channel, reporter_id, reporter_role, anonymous, answers, state, level,
	assignee_kind, assignee, handler_id, stage, stage_started_at, stage_due_at, overdue, timer_at, timer_step,
	handle_due_at, suspended_from, suspended_at, extension_pending, self_handled, duplicate_of,
	reworks, redispatches, extensions, suspensions, urgings, rating, rating_note,
	created_at, updated_at, verified_at, registered_at, dispatched_at, handled_at, checked_at, closed_at, rated_at, version`

type scanner interface{ Scan(dest ...any) error }

func scanCase(r scanner) (Case, error) {
	var c Case
	var lng, lat sql.NullFloat64
	var reporter, handler, dup sql.NullInt64
	var stageStarted, stageDue, timer, handleDue, suspendedAt sql.NullInt64
	var verified, registered, dispatched, handled, checked, closed, rated sql.NullInt64
	var created, updated int64
	var answers, kind, urgency, channel, role, state, level, stage, suspFrom string
	err := r.Scan(&c.ID, &c.Number, &kind, &c.CategoryCode, &urgency, &c.Description, &c.Address, &lng, &lat,
		&c.GridPath, &c.TerritoryVersion, &channel, &reporter, &role, &c.Anonymous, &answers, &state, &level,
		&c.AssigneeKind, &c.Assignee, &handler, &stage, &stageStarted, &stageDue, &c.Overdue, &timer, &c.TimerStep,
		&handleDue, &suspFrom, &suspendedAt, &c.ExtensionPending, &c.SelfHandled, &dup,
		&c.Reworks, &c.Redispatches, &c.Extensions, &c.Suspensions, &c.Urgings, &c.Rating, &c.RatingNote,
		&created, &updated, &verified, &registered, &dispatched, &handled, &checked, &closed, &rated, &c.Version)
	if err != nil {
		return c, err
	}
	c.CategoryKind, c.Urgency, c.Channel, c.ReporterRole = catalog.Kind(kind), catalog.Urgency(urgency), Channel(channel), auth.Role(role)
	c.State, c.Level, c.Stage, c.SuspendedFrom = State(state), Level(level), catalog.Stage(stage), State(suspFrom)
	c.Category = catalogRef(c.CategoryKind, c.CategoryCode)
	c.Lng, c.Lat, c.Located = lng.Float64, lat.Float64, lng.Valid && lat.Valid
	c.GridCode = lastSegment(c.GridPath)
	c.ReporterID, c.HandlerID, c.DuplicateOf = reporter.Int64, handler.Int64, dup.Int64
	c.StageStartedAt, c.StageDueAt, c.TimerAt = at(stageStarted), at(stageDue), at(timer)
	c.HandleDueAt, c.SuspendedAt = at(handleDue), at(suspendedAt)
	c.CreatedAt, c.UpdatedAt = db.FromMillis(created), db.FromMillis(updated)
	c.VerifiedAt, c.RegisteredAt, c.DispatchedAt = at(verified), at(registered), at(dispatched)
	c.HandledAt, c.CheckedAt, c.ClosedAt, c.RatedAt = at(handled), at(checked), at(closed), at(rated)
	if answers != "" && answers != "{}" {
		_ = json.Unmarshal([]byte(answers), &c.Answers)
	}
	return c, nil
}

func catalogRef(k catalog.Kind, code string) string {
	return catalog.Category{Kind: k, Code: code}.Ref()
}

func lastSegment(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}

func at(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return db.FromMillis(v.Int64)
}

// ms is a nullable instant for a column.
func ms(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.Millis(t)
}

func nullInt(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

// nextNumber draws the next case number of a day: 20261121-00042. The
// counter row is locked by the upsert, so nodes never hand out a number twice.
func (store) nextNumber(ctx context.Context, q db.Querier, day string) (string, error) {
	var n int64
	err := q.QueryRowContext(ctx, `INSERT INTO case_numbers (day, last) VALUES ($1, 1)
		ON CONFLICT (day) DO UPDATE SET last = case_numbers.last + 1 RETURNING last`, day).Scan(&n)
	if err != nil {
		return "", err
	}
	s := strconv.FormatInt(n, 10)
	if len(s) < 5 {
		s = strings.Repeat("0", 5-len(s)) + s
	}
	return day + "-" + s, nil
}

func (store) insertCase(ctx context.Context, q db.Querier, c Case, contact string) (int64, error) {
	answers, err := json.Marshal(c.Answers)
	if err != nil {
		return 0, err
	}
	var lng, lat any
	if c.Located {
		lng, lat = c.Lng, c.Lat
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO cases (number, category_kind, category_code, urgency, description, address,
		lng, lat, grid_path, territory_version, channel, reporter_id, reporter_role, reporter_contact, anonymous, answers,
		state, level, assignee_kind, assignee, handler_id, stage, stage_started_at, stage_due_at, timer_at, timer_step,
		handle_due_at, self_handled, created_at, updated_at, verified_at, registered_at, dispatched_at, handled_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$28,$29,$30,$31,$32,$33,$34)
		RETURNING id`,
		c.Number, string(c.CategoryKind), c.CategoryCode, string(c.Urgency), c.Description, c.Address,
		lng, lat, c.GridPath, c.TerritoryVersion, string(c.Channel), nullInt(c.ReporterID), string(c.ReporterRole), contact, c.Anonymous, string(answers),
		string(c.State), string(c.Level), c.AssigneeKind, c.Assignee, nullInt(c.HandlerID), string(c.Stage), ms(c.StageStartedAt), ms(c.StageDueAt), ms(c.TimerAt), c.TimerStep,
		ms(c.HandleDueAt), c.SelfHandled, db.Millis(c.CreatedAt), db.Millis(c.UpdatedAt), ms(c.VerifiedAt), ms(c.RegisteredAt), ms(c.DispatchedAt), ms(c.HandledAt)).Scan(&id)
	return id, err
}

// updateCase writes every mutable column, guarded by the version the change
// was computed from: a concurrent change makes it affect no row.
func (store) updateCase(ctx context.Context, q db.Querier, c Case, handledOnTime, closedOnTime any) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE cases SET category_kind=$1, category_code=$2, urgency=$3, state=$4, level=$5,
		assignee_kind=$6, assignee=$7, handler_id=$8, stage=$9, stage_started_at=$10, stage_due_at=$11, overdue=$12,
		timer_at=$13, timer_step=$14, handle_due_at=$15, suspended_from=$16, suspended_at=$17, extension_pending=$18,
		duplicate_of=$19, reworks=$20, redispatches=$21, extensions=$22, suspensions=$23, urgings=$24, rating=$25,
		rating_note=$26, updated_at=$27, verified_at=$28, registered_at=$29, dispatched_at=$30, handled_at=$31,
		checked_at=$32, closed_at=$33, rated_at=$34, handled_on_time=COALESCE($35, handled_on_time),
		closed_on_time=COALESCE($36, closed_on_time), version=version+1
		WHERE id=$37 AND version=$38`,
		string(c.CategoryKind), c.CategoryCode, string(c.Urgency), string(c.State), string(c.Level),
		c.AssigneeKind, c.Assignee, nullInt(c.HandlerID), string(c.Stage), ms(c.StageStartedAt), ms(c.StageDueAt), c.Overdue,
		ms(c.TimerAt), c.TimerStep, ms(c.HandleDueAt), string(c.SuspendedFrom), ms(c.SuspendedAt), c.ExtensionPending,
		nullInt(c.DuplicateOf), c.Reworks, c.Redispatches, c.Extensions, c.Suspensions, c.Urgings, int(c.Rating),
		c.RatingNote, db.Millis(c.UpdatedAt), ms(c.VerifiedAt), ms(c.RegisteredAt), ms(c.DispatchedAt), ms(c.HandledAt),
		ms(c.CheckedAt), ms(c.ClosedAt), ms(c.RatedAt), handledOnTime, closedOnTime,
		c.ID, c.Version)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (store) caseByID(ctx context.Context, q db.Querier, id int64, lock string) (Case, error) {
	c, err := scanCase(q.QueryRowContext(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = $1`+lock, id))
	if err != nil {
		return c, err
	}
	c.Assists, err = store{}.assists(ctx, q, id)
	return c, err
}

func (store) caseIDByNumber(ctx context.Context, q db.Querier, number string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM cases WHERE number = $1`, number).Scan(&id)
	return id, err
}

func (store) contact(ctx context.Context, q db.Querier, id int64) (string, error) {
	var s string
	err := q.QueryRowContext(ctx, `SELECT reporter_contact FROM cases WHERE id = $1`, id).Scan(&s)
	return s, err
}

func (store) assists(ctx context.Context, q db.Querier, id int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT department FROM case_assists WHERE case_id = $1 ORDER BY department`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (store) addAssist(ctx context.Context, q db.Querier, id int64, dept string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_assists (case_id, department) VALUES ($1, $2) ON CONFLICT DO NOTHING`, id, dept)
	return err
}

// Event is one step on a case's timeline.
type Event struct {
	ID          int64          `json:"id"`
	At          time.Time      `json:"at"`
	ActorID     int64          `json:"-"`
	ActorName   string         `json:"actor"`
	ActorRole   auth.Role      `json:"actor_role"`
	Action      string         `json:"action"`
	From        State          `json:"from"`
	To          State          `json:"to"`
	Note        string         `json:"note,omitempty"`
	Detail      map[string]any `json:"detail,omitempty"`
	Public      bool           `json:"public"`
	Attachments []int64        `json:"attachments,omitempty"`
}

func (store) insertEvent(ctx context.Context, q db.Querier, caseID int64, e Event) (int64, error) {
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail)
		if err != nil {
			return 0, err
		}
		detail = string(b)
	}
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO case_events (case_id, at, actor_id, actor_name, actor_role, action,
		from_state, to_state, note, detail, public) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id`,
		caseID, db.Millis(e.At), nullInt(e.ActorID), e.ActorName, string(e.ActorRole), e.Action,
		string(e.From), string(e.To), e.Note, detail, e.Public).Scan(&id)
	return id, err
}

func (store) events(ctx context.Context, q db.Querier, caseID int64) ([]Event, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, at, actor_id, actor_name, actor_role, action, from_state, to_state, note, detail, public
		FROM case_events WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var atMs int64
		var actor sql.NullInt64
		var role, from, to, detail string
		if err := rows.Scan(&e.ID, &atMs, &actor, &e.ActorName, &role, &e.Action, &from, &to, &e.Note, &detail, &e.Public); err != nil {
			return nil, err
		}
		e.At, e.ActorID, e.ActorRole, e.From, e.To = db.FromMillis(atMs), actor.Int64, auth.Role(role), State(from), State(to)
		if detail != "{}" && detail != "" {
			_ = json.Unmarshal([]byte(detail), &e.Detail)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// stageRow is one stage occurrence of a case, the unit the on-time
// indicators count.
type stageRow struct {
	Stage     catalog.Stage
	StartedAt time.Time
	DueAt     time.Time
	GridPath  string
	Assignee  string
}

// firstStage opens a new case's first stage, which is number 1 without
// asking: one statement less in every report's transaction.
func (store) firstStage(ctx context.Context, q db.Querier, caseID int64, r stageRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_stages (case_id, seq, stage, started_at, due_at, grid_path, assignee)
		VALUES ($1, 1, $2, $3, $4, $5, $6)`,
		caseID, string(r.Stage), db.Millis(r.StartedAt), ms(r.DueAt), r.GridPath, r.Assignee)
	return err
}

func (store) openStage(ctx context.Context, q db.Querier, caseID int64, r stageRow) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_stages (case_id, seq, stage, started_at, due_at, grid_path, assignee)
		VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM case_stages WHERE case_id = $1), $2, $3, $4, $5, $6)`,
		caseID, string(r.Stage), db.Millis(r.StartedAt), ms(r.DueAt), r.GridPath, r.Assignee)
	return err
}

// closeStage finishes the case's open stage at now; a stage without a
// deadline counts as on time.
func (store) closeStage(ctx context.Context, q db.Querier, caseID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE case_stages SET done_at = $2,
		on_time = (due_at IS NULL OR due_at >= $2)
		WHERE case_id = $1 AND done_at IS NULL`, caseID, db.Millis(now))
	return err
}

// moveStageDue moves the deadline of the case's open stage (an approved
// extension, a resumed suspension).
func (store) moveStageDue(ctx context.Context, q db.Querier, caseID int64, due time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE case_stages SET due_at = $2 WHERE case_id = $1 AND done_at IS NULL`, caseID, ms(due))
	return err
}

func (store) lateStages(ctx context.Context, q db.Querier, caseID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_stages WHERE case_id = $1 AND on_time = FALSE
		AND stage IN ('handle', 'check', 'close')`, caseID).Scan(&n)
	return n, err
}

func (store) insertAttachment(ctx context.Context, q db.Querier, caseID, eventID int64, a attachment, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO case_attachments (case_id, event_id, content_type, data, thumb, thumb_type,
		width, height, sha256, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id`,
		caseID, eventID, a.ContentType, a.Data, a.Thumb, a.ThumbType, a.Width, a.Height, a.SHA256, db.Millis(now)).Scan(&id)
	return id, err
}

func (store) attachmentIDs(ctx context.Context, q db.Querier, caseID int64) (map[int64][]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, event_id FROM case_attachments WHERE case_id = $1 ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]int64{}
	for rows.Next() {
		var id int64
		var ev sql.NullInt64
		if err := rows.Scan(&id, &ev); err != nil {
			return nil, err
		}
		out[ev.Int64] = append(out[ev.Int64], id)
	}
	return out, rows.Err()
}

// attachment reads a photo and whether the step it belongs to is public.
func (store) attachment(ctx context.Context, q db.Querier, id int64, thumb bool) (caseID int64, contentType string, data []byte, public bool, err error) {
	col, typ := "a.data", "a.content_type"
	if thumb {
		col, typ = "a.thumb", "a.thumb_type"
	}
	err = q.QueryRowContext(ctx, `SELECT a.case_id, `+typ+`, `+col+`, COALESCE(e.public, TRUE) FROM case_attachments a
		LEFT JOIN case_events e ON e.id = a.event_id WHERE a.id = $1`, id).Scan(&caseID, &contentType, &data, &public)
	return
}

func (store) follow(ctx context.Context, q db.Querier, caseID, userID int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_followers (case_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, caseID, userID)
	return err
}

func (store) follows(ctx context.Context, q db.Querier, caseID, userID int64) (bool, error) {
	if userID == 0 {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM case_followers WHERE case_id = $1 AND user_id = $2`, caseID, userID).Scan(&n)
	return n > 0, err
}

// moveFollowers makes the followers of a merged case follow the survivor.
func (store) moveFollowers(ctx context.Context, q db.Querier, from, to int64) error {
	_, err := q.ExecContext(ctx, `INSERT INTO case_followers (case_id, user_id)
		SELECT $2, user_id FROM case_followers WHERE case_id = $1 ON CONFLICT DO NOTHING`, from, to)
	return err
}

// recipient is an account told about a case, in its own language.
type recipient struct {
	UserID int64
	Locale string
}

func (store) followers(ctx context.Context, q db.Querier, caseID int64) ([]recipient, error) {
	rows, err := q.QueryContext(ctx, `SELECT f.user_id, COALESCE(u.locale, '') FROM case_followers f
		LEFT JOIN users u ON u.id = f.user_id WHERE f.case_id = $1 ORDER BY f.user_id`, caseID)
	if err != nil {
		return nil, err
	}
	return scanRecipients(rows)
}

func (store) usersByID(ctx context.Context, q db.Querier, ids []int64) ([]recipient, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), id
	}
	rows, err := q.QueryContext(ctx, `SELECT id, locale FROM users WHERE disabled = FALSE AND id IN (`+strings.Join(ph, ",")+`) ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	return scanRecipients(rows)
}

func scanRecipients(rows *sql.Rows) ([]recipient, error) {
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var r recipient
		if err := rows.Scan(&r.UserID, &r.Locale); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// candidate is what the duplicate check weighs of an earlier case.
type candidate struct {
	ID          int64
	Number      string
	State       State
	Description string
	Lng, Lat    float64
	CreatedAt   time.Time
}

// candidates are recent open cases of one category inside a bounding box:
// the pool in which duplicates are sought. It reads only the columns the
// check needs, because every report runs it.
func (store) candidates(ctx context.Context, q db.Querier, kind catalog.Kind, code string, since time.Time, minLng, minLat, maxLng, maxLat float64, limit int) ([]candidate, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, number, state, description, lng, lat, created_at FROM cases
		WHERE category_kind = $1 AND category_code = $2 AND created_at >= $3
		AND lng BETWEEN $4 AND $5 AND lat BETWEEN $6 AND $7
		AND state NOT IN ('rejected', 'cancelled', 'closed')
		ORDER BY created_at DESC LIMIT $8`,
		string(kind), code, db.Millis(since), minLng, maxLng, minLat, maxLat, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []candidate
	for rows.Next() {
		var c candidate
		var state string
		var created int64
		if err := rows.Scan(&c.ID, &c.Number, &state, &c.Description, &c.Lng, &c.Lat, &created); err != nil {
			return nil, err
		}
		c.State, c.CreatedAt = State(state), db.FromMillis(created)
		out = append(out, c)
	}
	return out, rows.Err()
}

func scanCases(rows *sql.Rows) ([]Case, error) {
	defer rows.Close()
	var out []Case
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// due lists cases whose timer has come, oldest first.
func (store) dueTimers(ctx context.Context, q db.Querier, now time.Time, limit int) ([]Case, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases WHERE timer_at <= $1 ORDER BY timer_at LIMIT $2`,
		db.Millis(now), limit)
	if err != nil {
		return nil, err
	}
	return scanCases(rows)
}
