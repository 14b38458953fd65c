package outbox

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// The statuses of an outbox row. A row leaves pending exactly once.
const (
	statusPending   = "pending"
	statusDelivered = "delivered"
	statusDead      = "dead"
	statusSkipped   = "skipped"
)

// insertChunk bounds the rows of one INSERT: 12 parameters each stays far
// below both engines' parameter limits.
const insertChunk = 500

// activeSubscriptions finds the active endpoints whose routes match r, in
// one query: each column's IN list is a set of equality probes into the
// webhook_routes primary key, so the cost follows the matching routes, not
// the number of endpoints. An endpoint with several matching categories
// appears once.
func activeSubscriptions(ctx context.Context, q db.Querier, r routes) ([]subscription, error) {
	args := make([]any, 0, len(r.audiences)+len(r.territories)+len(r.categories))
	in := func(vals []string) string {
		p := placeholders(len(vals), len(args))
		for _, v := range vals {
			args = append(args, v)
		}
		return p
	}
	query := `SELECT DISTINCT e.id, e.owner, e.events, e.territory, e.categories
		FROM webhook_routes r JOIN webhook_endpoints e ON e.id = r.endpoint_id
		WHERE r.audience IN (` + in(r.audiences) + `) AND r.territory IN (` + in(r.territories) + `)
			AND r.category IN (` + in(r.categories) + `) AND e.active ORDER BY e.id`
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []subscription
	for rows.Next() {
		var s subscription
		if err := rows.Scan(&s.id, &s.owner, &s.events, &s.territory, &s.categories); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// replaceRoutes rewrites the routing rows of an active endpoint from its
// owner and filters.
func replaceRoutes(ctx context.Context, q db.Querier, e endpointRow) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM webhook_routes WHERE endpoint_id = $1", e.id); err != nil {
		return err
	}
	audience, cats := routeRows(e.owner, splitList(e.categories))
	var b strings.Builder
	b.WriteString("INSERT INTO webhook_routes (audience, territory, category, endpoint_id) VALUES ")
	args := make([]any, 0, 4*len(cats))
	for i, c := range cats {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + placeholders(4, len(args)) + ")")
		args = append(args, audience, e.territory, c, e.id)
	}
	_, err := q.ExecContext(ctx, b.String(), args...)
	return err
}

// splitList splits a stored comma-separated list; "" is the empty list.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// insertMessages writes rows in multi-row INSERTs. ON CONFLICT DO NOTHING
// drops repeated idempotency keys without an error, which matters on
// PostgreSQL: a failed statement would abort the caller's transaction.
func insertMessages(ctx context.Context, q db.Querier, rows []newRow, now time.Time) error {
	at := db.Millis(now)
	for len(rows) > 0 {
		n := min(len(rows), insertChunk)
		var b strings.Builder
		b.WriteString(`INSERT INTO outbox (channel, event, user_id, recipient, endpoint_id, subject, body, link, payload,
			idem_key, next_at, created_at) VALUES `)
		args := make([]any, 0, n*12)
		for i, r := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + placeholders(12, len(args)) + ")")
			args = append(args, string(r.Channel), r.Event, nullInt(r.UserID), r.To, nullInt(r.endpointID),
				r.Subject, r.Body, r.Link, string(r.Payload), nullString(r.Key), at, at)
		}
		b.WriteString(" ON CONFLICT (idem_key) DO NOTHING")
		if _, err := q.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// claimed is an outbox row held by this node.
type claimed struct {
	id         int64
	channel    Channel
	event      string
	userID     int64
	recipient  string
	endpointID int64
	subject    string
	body       string
	payload    string
	attempts   int
	createdAt  int64
}

// claim is a dispatcher's hold on a batch: rows it may finish only while
// they still carry both values.
type claim struct {
	node  string
	lease int64
}

// skipLocked is the locking clause of the claim's subquery. On PostgreSQL
// it makes concurrent claims from several nodes pass over each other's rows
// instead of waiting for them; SQLite has no row locks and needs none, its
// single writer runs one claim at a time.
func skipLocked(e db.Engine) string {
	if e == db.Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// claimDue claims up to limit due rows. Besides the lease it moves next_at
// to the lease end, so that rows in flight leave the due range of the
// outbox_due index and a claim never rescans them.
func claimDue(ctx context.Context, tx *sql.Tx, e db.Engine, c claim, now time.Time, limit int) ([]claimed, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE outbox SET claimed_by = $1, lease_until = $2, next_at = $2
		WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND next_at <= $3
			AND (lease_until IS NULL OR lease_until < $3) ORDER BY next_at, id LIMIT $4`+skipLocked(e)+`)
		RETURNING id, channel, event, COALESCE(user_id, 0), recipient, COALESCE(endpoint_id, 0), subject, body, payload,
			attempts, created_at`, c.node, c.lease, db.Millis(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []claimed
	for rows.Next() {
		var m claimed
		if err := rows.Scan(&m.id, &m.channel, &m.event, &m.userID, &m.recipient, &m.endpointID, &m.subject, &m.body,
			&m.payload, &m.attempts, &m.createdAt); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// endpointRow is what delivery needs of an endpoint; secrets still as stored.
type endpointRow struct {
	id             int64
	owner          string
	url            string
	events         string
	territory      string
	categories     string
	secret         string
	previousSecret string
	previousUntil  int64 // 0: none
	active         bool
	createdAt      int64
	disabledAt     int64
}

const endpointColumns = `id, owner, url, events, territory, categories, secret, previous_secret, COALESCE(previous_until, 0),
	active, created_at, COALESCE(disabled_at, 0)`

func scanEndpoint(s interface{ Scan(...any) error }) (endpointRow, error) {
	var e endpointRow
	err := s.Scan(&e.id, &e.owner, &e.url, &e.events, &e.territory, &e.categories, &e.secret, &e.previousSecret,
		&e.previousUntil, &e.active, &e.createdAt, &e.disabledAt)
	return e, err
}

func collectEndpoints(rows *sql.Rows, err error) ([]endpointRow, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []endpointRow
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func endpointsByID(ctx context.Context, q db.Querier, ids []int64) (map[int64]endpointRow, error) {
	rows, err := collectEndpoints(q.QueryContext(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id IN ("+
		placeholders(len(ids), 0)+")", int64Args(ids)...))
	if err != nil {
		return nil, err
	}
	out := make(map[int64]endpointRow, len(rows))
	for _, e := range rows {
		out[e.id] = e
	}
	return out, nil
}

func int64Args(ids []int64) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return args
}

// deliverInApp moves the given in-app rows, as far as they are still held
// by c, into their recipients' inboxes and marks them delivered, all in tx.
// It returns how many it delivered.
func deliverInApp(ctx context.Context, tx *sql.Tx, c claim, ids []int64, now time.Time) (int, error) {
	in := placeholders(len(ids), 4)
	args := append([]any{db.Millis(now), c.node, c.lease, statusDelivered}, int64Args(ids)...)
	rows, err := tx.QueryContext(ctx, `UPDATE outbox SET status = $4, attempts = attempts + 1, lease_until = NULL,
		done_at = $1, last_error = '' WHERE claimed_by = $2 AND lease_until = $3 AND status = 'pending' AND id IN (`+in+`)
		RETURNING id`, args...)
	if err != nil {
		return 0, err
	}
	var held []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		held = append(held, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(held) == 0 {
		return 0, nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO messages (user_id, event, subject, body, link, created_at)
		SELECT user_id, event, subject, body, link, created_at FROM outbox WHERE id IN (`+placeholders(len(held), 0)+`)
		ORDER BY id`, int64Args(held)...); err != nil {
		return 0, err
	}
	args = append([]any{db.Millis(now), c.node}, int64Args(held)...)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_attempts (message_id, attempt, at, outcome, node)
		SELECT id, attempts, $1, 'delivered', $2 FROM outbox WHERE id IN (`+placeholders(len(held), 2)+`)`, args...); err != nil {
		return 0, err
	}
	return len(held), nil
}

// outcomeRow is the result of one attempt, to be recorded.
type outcomeRow struct {
	outcome    Outcome
	statusCode int
	err        string
	duration   time.Duration
	nextAt     time.Time // for Failed
}

// recordOutcome writes one attempt to the log and, if c still holds the
// message, its new state. It reports whether the claim was still held.
func recordOutcome(ctx context.Context, tx *sql.Tx, c claim, m claimed, o outcomeRow, now time.Time) (bool, error) {
	status, nextAt, doneAt := statusPending, db.Millis(o.nextAt), any(db.Millis(now))
	switch o.outcome {
	case Delivered:
		status = statusDelivered
	case Dead:
		status = statusDead
	case Skipped:
		status = statusSkipped
	default:
		doneAt = nil
	}
	if o.outcome != Failed {
		nextAt = db.Millis(now)
	}
	res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = $1, attempts = attempts + 1, last_error = $2, next_at = $3,
		lease_until = NULL, done_at = $4 WHERE id = $5 AND claimed_by = $6 AND lease_until = $7 AND status = 'pending'`,
		status, o.err, nextAt, doneAt, m.id, c.node, c.lease)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_attempts
		(message_id, endpoint_id, attempt, at, outcome, status_code, error, duration_ms, node)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		m.id, nullInt(m.endpointID), m.attempts+1, db.Millis(now), string(o.outcome), o.statusCode, o.err,
		o.duration.Milliseconds(), c.node); err != nil {
		return false, err
	}
	return n == 1, nil
}

// release hands rows this node claimed but did not start back to the queue
// at once, instead of leaving them until the lease ends.
func release(ctx context.Context, q db.Querier, c claim, ids []int64, now time.Time) error {
	args := append([]any{db.Millis(now), c.node, c.lease}, int64Args(ids)...)
	_, err := q.ExecContext(ctx, `UPDATE outbox SET lease_until = NULL, next_at = $1
		WHERE claimed_by = $2 AND lease_until = $3 AND status = 'pending' AND id IN (`+placeholders(len(ids), 3)+`)`, args...)
	return err
}

func inbox(ctx context.Context, q db.Querier, userID int64, f InboxFilter) ([]InboxMessage, error) {
	query := "SELECT id, event, subject, body, link, created_at, read_at FROM messages WHERE user_id = $1"
	args := []any{userID}
	if f.UnreadOnly {
		query += " AND read_at IS NULL"
	}
	if f.Before > 0 {
		args = append(args, f.Before)
		query += " AND id < $2"
	}
	args = append(args, f.Limit)
	query += " ORDER BY id DESC LIMIT " + placeholders(1, len(args)-1)
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []InboxMessage{}
	for rows.Next() {
		var m InboxMessage
		var created int64
		var read sql.NullInt64
		if err := rows.Scan(&m.ID, &m.Event, &m.Subject, &m.Body, &m.Link, &created, &read); err != nil {
			return nil, err
		}
		m.CreatedAt = db.FromMillis(created)
		if read.Valid {
			t := db.FromMillis(read.Int64)
			m.ReadAt = &t
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func unread(ctx context.Context, q db.Querier, userID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE user_id = $1 AND read_at IS NULL", userID).Scan(&n)
	return n, err
}

// countOwn counts how many of ids are messages of userID.
func countOwn(ctx context.Context, q db.Querier, userID int64, ids []int64) (int, error) {
	var n int
	args := append([]any{userID}, int64Args(ids)...)
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM messages WHERE user_id = $1 AND id IN ("+placeholders(len(ids), 1)+")",
		args...).Scan(&n)
	return n, err
}

func markRead(ctx context.Context, q db.Querier, userID int64, ids []int64, now time.Time) error {
	query := "UPDATE messages SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL"
	args := []any{db.Millis(now), userID}
	if ids != nil {
		query += " AND id IN (" + placeholders(len(ids), 2) + ")"
		args = append(args, int64Args(ids)...)
	}
	_, err := q.ExecContext(ctx, query, args...)
	return err
}

// insertEndpoint adds an active endpoint with its routes.
func insertEndpoint(ctx context.Context, q db.Querier, e endpointRow) (int64, error) {
	err := q.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (owner, url, events, territory, categories, secret, active,
		created_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7) RETURNING id`,
		e.owner, e.url, e.events, e.territory, e.categories, e.secret, e.createdAt).Scan(&e.id)
	if err != nil {
		return 0, err
	}
	return e.id, replaceRoutes(ctx, q, e)
}

// updateEndpoint stores an active endpoint's new settings and routes.
func updateEndpoint(ctx context.Context, q db.Querier, e endpointRow) error {
	if _, err := q.ExecContext(ctx, "UPDATE webhook_endpoints SET url = $1, events = $2, territory = $3, categories = $4 WHERE id = $5",
		e.url, e.events, e.territory, e.categories, e.id); err != nil {
		return err
	}
	return replaceRoutes(ctx, q, e)
}

func endpointByID(ctx context.Context, q db.Querier, id int64, suffix string) (endpointRow, error) {
	return scanEndpoint(q.QueryRowContext(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE id = $1"+suffix, id))
}

// maxEndpoints bounds the endpoints listed for one owner.
const maxEndpoints = 200

func endpointsOf(ctx context.Context, q db.Querier, owner string) ([]endpointRow, error) {
	return collectEndpoints(q.QueryContext(ctx, "SELECT "+endpointColumns+" FROM webhook_endpoints WHERE owner = $1 ORDER BY id LIMIT $2",
		owner, maxEndpoints))
}

func rotateSecret(ctx context.Context, q db.Querier, id int64, secret, previous string, until int64) error {
	_, err := q.ExecContext(ctx, "UPDATE webhook_endpoints SET secret = $1, previous_secret = $2, previous_until = $3 WHERE id = $4",
		secret, previous, until, id)
	return err
}

// disableEndpoint marks an endpoint disabled and drops its routes: a
// disabled endpoint is never enabled again, and fan-out need not pass over it.
func disableEndpoint(ctx context.Context, q db.Querier, id int64, now time.Time) error {
	if _, err := q.ExecContext(ctx, "UPDATE webhook_endpoints SET active = FALSE, disabled_at = $1 WHERE id = $2 AND active",
		db.Millis(now), id); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, "DELETE FROM webhook_routes WHERE endpoint_id = $1", id)
	return err
}

// deliveries reads a page of an endpoint's delivery log, newest first,
// from the attempts older than f.After (0: from the newest).
func deliveries(ctx context.Context, q db.Querier, endpointID int64, f DeliveryFilter) ([]Delivery, error) {
	args := []any{endpointID, f.Limit}
	after := ""
	if f.After > 0 {
		args = append(args, f.After)
		after = " AND a.id < $3"
	}
	rows, err := q.QueryContext(ctx, `SELECT a.id, a.message_id, o.event, a.attempt, a.at, a.outcome, a.status_code, a.error,
		a.duration_ms FROM outbox_attempts a JOIN outbox o ON o.id = a.message_id
		WHERE a.endpoint_id = $1`+after+` ORDER BY a.id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var at, ms int64
		if err := rows.Scan(&d.ID, &d.MessageID, &d.Event, &d.Attempt, &at, &d.Outcome, &d.StatusCode, &d.Error, &ms); err != nil {
			return nil, err
		}
		d.At, d.Duration = db.FromMillis(at), time.Duration(ms)*time.Millisecond
		out = append(out, d)
	}
	return out, rows.Err()
}

// purgeChunk bounds the rows one purge transaction deletes, so retention
// never holds the writer for long.
const purgeChunk = 1000

// purgeSome deletes up to purgeChunk finished messages done before cutoff,
// with their delivery log, and returns how many messages it deleted.
func purgeSome(ctx context.Context, tx *sql.Tx, cutoff time.Time) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM outbox WHERE status <> 'pending' AND done_at < $1 LIMIT $2`, db.Millis(cutoff), purgeChunk)
	if err != nil {
		return 0, err
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(ids) == 0 {
		return 0, err
	}
	in, args := placeholders(len(ids), 0), int64Args(ids)
	if _, err := tx.ExecContext(ctx, "DELETE FROM outbox_attempts WHERE message_id IN ("+in+")", args...); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM outbox WHERE id IN ("+in+")", args...); err != nil {
		return 0, err
	}
	return len(ids), nil
}
