package export

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// store holds the package's SQL and nothing else.
type store struct{ engine db.Engine }

const jobColumns = `id, user_id, username, scope_path, format, filter, masked, lang, state, row_count, byte_size,
	file, sha256, error, attempts, downloads, lease_owner, COALESCE(lease_until, 0), created_at,
	COALESCE(started_at, 0), COALESCE(finished_at, 0), COALESCE(expires_at, 0)`

func scanJob(r interface{ Scan(...any) error }) (Job, error) {
	var j Job
	var format, filter, state string
	var lease, created, started, finished, expires int64
	err := r.Scan(&j.ID, &j.UserID, &j.Username, &j.ScopePath, &format, &filter, &j.Masked, &j.Lang, &state,
		&j.Rows, &j.Bytes, &j.File, &j.SHA256, &j.Error, &j.Attempts, &j.Downloads, &j.leaseOwner, &lease,
		&created, &started, &finished, &expires)
	if err != nil {
		return j, err
	}
	j.Format, j.State = Format(format), State(state)
	if err := json.Unmarshal([]byte(filter), &j.Filter); err != nil {
		return j, err
	}
	j.leaseExpiry, j.CreatedAt = instant(lease), db.FromMillis(created)
	j.StartedAt, j.FinishedAt, j.ExpiresAt = instant(started), instant(finished), instant(expires)
	return j, nil
}

func instant(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return db.FromMillis(ms)
}

func (store) insert(ctx context.Context, q db.Querier, j Job) (int64, error) {
	filter, err := json.Marshal(j.Filter)
	if err != nil {
		return 0, err
	}
	var id int64
	err = q.QueryRowContext(ctx, `INSERT INTO exports (user_id, username, scope_path, format, filter, masked, lang, state, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		j.UserID, j.Username, j.ScopePath, string(j.Format), string(filter), j.Masked, j.Lang, string(j.State),
		db.Millis(j.CreatedAt)).Scan(&id)
	return id, err
}

func (store) byID(ctx context.Context, q db.Querier, id int64) (Job, error) {
	return scanJob(q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM exports WHERE id = $1`, id))
}

// ofUser lists a user's jobs newest first, below the id before (0: from the
// newest).
func (store) ofUser(ctx context.Context, q db.Querier, userID, before int64, limit int) ([]Job, error) {
	args := []any{userID, limit}
	cond := ""
	if before > 0 {
		cond = " AND id < $3"
		args = append(args, before)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+jobColumns+` FROM exports WHERE user_id = $1`+cond+
		` ORDER BY id DESC LIMIT $2`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// skipLocked is the locking clause of the claim's subquery: on PostgreSQL
// concurrent claims from several nodes pass over each other's rows instead
// of waiting for them or taking the same one; SQLite's single writer runs
// one claim at a time and needs none.
func (s store) skipLocked() string {
	if s.engine == db.Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// claim takes the oldest job that is queued, or running under a lease that
// ran out (its node died), for owner until leaseUntil. Jobs that have been
// tried maxAttempts times are not taken again; see failExhausted.
// sql.ErrNoRows when there is nothing to do. id, when not 0, claims that
// job only.
func (s store) claim(ctx context.Context, q db.Querier, owner string, now, leaseUntil time.Time, maxAttempts int, id int64) (Job, error) {
	args := []any{owner, db.Millis(leaseUntil), db.Millis(now), maxAttempts}
	only := ""
	if id != 0 {
		only = " AND id = $5"
		args = append(args, id)
	}
	return scanJob(q.QueryRowContext(ctx, `UPDATE exports SET state = 'running', lease_owner = $1, lease_until = $2,
		attempts = attempts + 1, started_at = $3
		WHERE id IN (SELECT id FROM exports WHERE (state = 'queued' OR (state = 'running' AND lease_until < $3))
			AND attempts < $4`+only+` ORDER BY id LIMIT 1`+s.skipLocked()+`)
		RETURNING `+jobColumns, args...))
}

// failExhausted fails the running jobs whose lease ran out after their last
// attempt: an export that crashed its node every time is not tried forever.
func (store) failExhausted(ctx context.Context, q db.Querier, now time.Time, maxAttempts int) (int64, error) {
	res, err := q.ExecContext(ctx, `UPDATE exports SET state = 'failed', error = 'export.error.attempts', finished_at = $1,
		lease_owner = '', lease_until = NULL
		WHERE state = 'running' AND lease_until < $1 AND attempts >= $2`, db.Millis(now), maxAttempts)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// renew extends a running job's lease while its owner still holds it.
func (store) renew(ctx context.Context, q db.Querier, id int64, owner string, leaseUntil time.Time) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE exports SET lease_until = $1 WHERE id = $2 AND state = 'running' AND lease_owner = $3`,
		db.Millis(leaseUntil), id, owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// finish records a job's outcome, if owner still holds it: false means
// another node took the job over and the outcome is not this node's to
// record.
func (store) finish(ctx context.Context, q db.Querier, j Job, owner string) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE exports SET state = $1, row_count = $2, byte_size = $3, file = $4, sha256 = $5,
		error = $6, finished_at = $7, expires_at = $8, lease_owner = '', lease_until = NULL
		WHERE id = $9 AND state = 'running' AND lease_owner = $10`,
		string(j.State), j.Rows, j.Bytes, j.File, j.SHA256, j.Error, db.Millis(j.FinishedAt), nullMillis(j.ExpiresAt), j.ID, owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func nullMillis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return db.Millis(t)
}

// downloaded counts a download.
func (store) downloaded(ctx context.Context, q db.Querier, id int64) error {
	_, err := q.ExecContext(ctx, `UPDATE exports SET downloads = downloads + 1 WHERE id = $1`, id)
	return err
}

// expiring lists up to limit jobs whose files expired by now.
func (store) expiring(ctx context.Context, q db.Querier, now time.Time, limit int) ([]Job, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+jobColumns+` FROM exports WHERE expires_at <= $1 AND state = 'ready'
		ORDER BY expires_at LIMIT `+strconv.Itoa(limit), db.Millis(now))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// expire marks a ready job expired once its file is gone.
func (store) expire(ctx context.Context, q db.Querier, id int64) error {
	_, err := q.ExecContext(ctx, `UPDATE exports SET state = 'expired', file = '' WHERE id = $1 AND state = 'ready'`, id)
	return err
}

// forget deletes the rows of jobs that ended before a time: the audit log
// keeps what was exported and downloaded; the rows only serve the lists.
func (store) forget(ctx context.Context, q db.Querier, before time.Time) (int64, error) {
	res, err := q.ExecContext(ctx, `DELETE FROM exports WHERE state IN ('expired', 'failed') AND finished_at < $1`, db.Millis(before))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
