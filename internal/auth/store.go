package auth

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// User is an account. The password hash never leaves this package.
type User struct {
	ID                 int64     `json:"id"`
	Username           string    `json:"username"`
	DisplayName        string    `json:"display_name"`
	Role               Role      `json:"role"`
	Scope              string    `json:"scope"`
	Locale             string    `json:"locale,omitempty"`
	Disabled           bool      `json:"disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	passwordHash       string
}

// Actor returns the actor acting as u.
func (u User) Actor() Actor {
	return Actor{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Role: u.Role, Scope: u.Scope,
		Locale: u.Locale, MustChangePassword: u.MustChangePassword}
}

const userColumns = `u.id, u.username, u.display_name, u.password_hash, u.role, u.scope_path, u.locale,
	u.disabled, u.must_change_password, u.created_at, u.updated_at`

type scanner interface{ Scan(...any) error }

func scanUser(s scanner, extra ...any) (User, error) {
	var u User
	var created, updated int64
	dest := append([]any{&u.ID, &u.Username, &u.DisplayName, &u.passwordHash, &u.Role, &u.Scope, &u.Locale,
		&u.Disabled, &u.MustChangePassword, &created, &updated}, extra...)
	if err := s.Scan(dest...); err != nil {
		return User{}, err
	}
	u.CreatedAt, u.UpdatedAt = db.FromMillis(created), db.FromMillis(updated)
	return u, nil
}

// store is the SQL of accounts, sessions, tokens, throttling and settings.
type store struct{}

func (store) countUsers(ctx context.Context, q db.Querier) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
	return n, err
}

func (store) insertUser(ctx context.Context, q db.Querier, u User, now time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO users
		(username, display_name, password_hash, role, scope_path, locale, disabled, must_change_password, created_at, updated_at, password_changed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $9) RETURNING id`,
		u.Username, u.DisplayName, u.passwordHash, u.Role, u.Scope, u.Locale, u.Disabled, u.MustChangePassword, db.Millis(now)).Scan(&id)
	return id, err
}

// userByName returns the account or sql.ErrNoRows.
func (store) userByName(ctx context.Context, q db.Querier, username string) (User, error) {
	return scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u WHERE u.username = $1", username))
}

func (store) userByID(ctx context.Context, q db.Querier, id int64) (User, error) {
	return scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u WHERE u.id = $1", id))
}

// listUsers pages by id; afterID is the cursor. scope limits to accounts
// inside a scope path; query matches user or display name prefixes.
func (store) listUsers(ctx context.Context, q db.Querier, scope, query string, afterID int64, limit int) ([]User, error) {
	like := escapeLike(strings.ToLower(query)) + "%"
	rows, err := q.QueryContext(ctx, "SELECT "+userColumns+` FROM users u
		WHERE u.id > $1 AND ($2 = '' OR u.scope_path = $2 OR u.scope_path LIKE $3 ESCAPE '\')
		AND ($4 = '' OR u.username LIKE $5 ESCAPE '\' OR LOWER(u.display_name) LIKE $5 ESCAPE '\')
		ORDER BY u.id LIMIT $6`, afterID, scope, escapeLike(scope)+"/%", query, like, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (store) setPassword(ctx context.Context, q db.Querier, id int64, hash string, mustChange bool, now time.Time) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $1, must_change_password = $2,
		password_changed_at = $3, updated_at = $3 WHERE id = $4`, hash, mustChange, db.Millis(now), id)
	return err
}

func (store) setDisabled(ctx context.Context, q db.Querier, id int64, disabled bool, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3", disabled, db.Millis(now), id)
	return err
}

func (store) setLocale(ctx context.Context, q db.Querier, id int64, locale string, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE users SET locale = $1, updated_at = $2 WHERE id = $3", locale, db.Millis(now), id)
	return err
}

// Sessions.

func (store) insertSession(ctx context.Context, q db.Querier, idHash string, userID int64, now, expires time.Time, ip, ua string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
		VALUES ($1, $2, $3, $3, $4, $5, $6)`, idHash, userID, db.Millis(now), db.Millis(expires), ip, ua)
	return err
}

// sessionUser returns the account of a session with the session's last
// activity and absolute expiry.
func (store) sessionUser(ctx context.Context, q db.Querier, idHash string) (u User, lastSeen, expires time.Time, err error) {
	var ls, ex int64
	u, err = scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+`, s.last_seen_at, s.expires_at
		FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`, idHash), &ls, &ex)
	return u, db.FromMillis(ls), db.FromMillis(ex), err
}

func (store) touchSession(ctx context.Context, q db.Querier, idHash string, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2", db.Millis(now), idHash)
	return err
}

func (store) deleteSession(ctx context.Context, q db.Querier, idHash string) (bool, error) {
	res, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE id_hash = $1", idHash)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// deleteUserSessions removes every session of a user except keepHash.
func (store) deleteUserSessions(ctx context.Context, q db.Querier, userID int64, keepHash string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2", userID, keepHash)
	return err
}

// deleteExpired removes sessions past their absolute or idle expiry and
// throttle windows that have ended.
func (store) deleteExpired(ctx context.Context, q db.Querier, now time.Time, idle, window time.Duration) (int64, error) {
	res, err := q.ExecContext(ctx, "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
		db.Millis(now), db.Millis(now.Add(-idle)))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	if _, err := q.ExecContext(ctx, "DELETE FROM throttle WHERE window_start <= $1", db.Millis(now.Add(-window))); err != nil {
		return n, err
	}
	return n, nil
}

// API tokens.

// Token describes an API token; its secret is shown once at creation and
// never stored.
type Token struct {
	ID         int64      `json:"id"`
	UserID     int64      `json:"user_id"`
	Username   string     `json:"username"`
	Name       string     `json:"name"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

func nullMillis(t *time.Time) any {
	if t == nil {
		return nil
	}
	return db.Millis(*t)
}

func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := db.FromMillis(n.Int64)
	return &t
}

func (store) insertToken(ctx context.Context, q db.Querier, t Token, secretHash string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, secret_hash, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		t.UserID, t.Name, secretHash, strings.Join(t.Scopes, " "), db.Millis(t.CreatedAt), nullMillis(t.ExpiresAt)).Scan(&id)
	return id, err
}

const tokenColumns = `t.id, t.user_id, u.username, t.name, t.scopes, t.created_at, t.expires_at, t.revoked_at, t.last_used_at`

func scanToken(s scanner, extra ...any) (Token, error) {
	var t Token
	var scopes string
	var created int64
	var exp, rev, used sql.NullInt64
	if err := s.Scan(append([]any{&t.ID, &t.UserID, &t.Username, &t.Name, &scopes, &created, &exp, &rev, &used}, extra...)...); err != nil {
		return Token{}, err
	}
	t.Scopes = strings.Fields(scopes)
	t.CreatedAt = db.FromMillis(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsedAt = timePtr(exp), timePtr(rev), timePtr(used)
	return t, nil
}

func (store) tokenByID(ctx context.Context, q db.Querier, id int64) (Token, error) {
	return scanToken(q.QueryRowContext(ctx, "SELECT "+tokenColumns+" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1", id))
}

// tokenUser returns a token by its secret hash together with its account.
func (store) tokenUser(ctx context.Context, q db.Querier, secretHash string) (Token, User, error) {
	row := q.QueryRowContext(ctx, "SELECT "+tokenColumns+", "+userColumns+
		" FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1", secretHash)
	var u User
	var created, updated int64
	t, err := scanToken(row, &u.ID, &u.Username, &u.DisplayName, &u.passwordHash, &u.Role, &u.Scope, &u.Locale,
		&u.Disabled, &u.MustChangePassword, &created, &updated)
	u.CreatedAt, u.UpdatedAt = db.FromMillis(created), db.FromMillis(updated)
	return t, u, err
}

func (store) listTokens(ctx context.Context, q db.Querier, userID int64, limit int) ([]Token, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+tokenColumns+` FROM api_tokens t JOIN users u ON u.id = t.user_id
		WHERE ($1 = 0 OR t.user_id = $1) ORDER BY t.id DESC LIMIT $2`, userID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (store) revokeToken(ctx context.Context, q db.Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", db.Millis(now), id)
	return err
}

func (store) revokeUserTokens(ctx context.Context, q db.Querier, userID int64, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL", db.Millis(now), userID)
	return err
}

func (store) touchToken(ctx context.Context, q db.Querier, id int64, now time.Time) error {
	_, err := q.ExecContext(ctx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", db.Millis(now), id)
	return err
}

// Throttling.

// countAttempt records one login attempt against key inside a fixed window
// and returns the attempts in the current window and when it started. The
// count is taken before the password is checked, in one atomic statement, so
// parallel guesses cannot slip past the limit between check and update.
func (store) countAttempt(ctx context.Context, q db.Querier, key string, now time.Time, window time.Duration) (int, time.Time, error) {
	var n int
	var start int64
	err := q.QueryRowContext(ctx, `INSERT INTO throttle (key, failures, window_start) VALUES ($1, 1, $2)
		ON CONFLICT (key) DO UPDATE SET
			failures = CASE WHEN throttle.window_start <= $3 THEN 1 ELSE throttle.failures + 1 END,
			window_start = CASE WHEN throttle.window_start <= $3 THEN $2 ELSE throttle.window_start END
		RETURNING failures, window_start`, key, db.Millis(now), db.Millis(now.Add(-window))).Scan(&n, &start)
	return n, db.FromMillis(start), err
}

func (store) clearAttempts(ctx context.Context, q db.Querier, key string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM throttle WHERE key = $1", key)
	return err
}

// forgiveAttempt takes back one attempt: a successful login from an address
// does not count towards that address's limit.
func (store) forgiveAttempt(ctx context.Context, q db.Querier, key string) error {
	_, err := q.ExecContext(ctx, "UPDATE throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0", key)
	return err
}

// Settings.

func (store) setting(ctx context.Context, q db.Querier, key string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = $1", key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (store) putSetting(ctx context.Context, q db.Querier, key, value string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, db.Millis(now))
	return err
}

func (store) deleteSetting(ctx context.Context, q db.Querier, key string) error {
	_, err := q.ExecContext(ctx, "DELETE FROM settings WHERE key = $1", key)
	return err
}

// Extra scopes.

func (store) userScopes(ctx context.Context, q db.Querier, userID int64) ([]string, error) {
	rows, err := q.QueryContext(ctx, "SELECT scope_path FROM user_scopes WHERE user_id = $1 ORDER BY scope_path", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func (store) replaceUserScopes(ctx context.Context, q db.Querier, userID int64, paths []string) error {
	if _, err := q.ExecContext(ctx, "DELETE FROM user_scopes WHERE user_id = $1", userID); err != nil {
		return err
	}
	for _, p := range paths {
		if _, err := q.ExecContext(ctx, "INSERT INTO user_scopes (user_id, scope_path) VALUES ($1, $2) ON CONFLICT DO NOTHING", userID, p); err != nil {
			return err
		}
	}
	return nil
}
