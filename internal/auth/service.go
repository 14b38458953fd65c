package auth

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Settings are the knobs of authentication, taken from the configuration.
type Settings struct {
	SessionIdle        time.Duration
	SessionAbsolute    time.Duration
	LoginMaxFailures   int
	LoginIPMaxFailures int
	LoginWindow        time.Duration
	Argon2             Argon2Params
}

// Service owns accounts, sessions and tokens.
type Service struct {
	db    *db.DB
	audit *audit.Log
	clock clock.Clock
	set   Settings
	st    store
	// dummyHash is checked against when an account does not exist, so that a
	// failed login takes the same time whether or not the name is known.
	dummyHash string
	// scopeKnown, when set, tells whether a scope path names a place of the
	// territory. The territory capability provides it; auth cannot import it.
	scopeKnown func(ctx context.Context, path string) (bool, error)
}

// SetScopeCheck installs the check that a staff scope names a real place.
// The composition root calls it once, before serving.
func (s *Service) SetScopeCheck(known func(ctx context.Context, path string) (bool, error)) {
	s.scopeKnown = known
}

// NewService returns the account service.
func NewService(d *db.DB, a *audit.Log, c clock.Clock, s Settings) *Service {
	if s.Argon2 == (Argon2Params{}) {
		s.Argon2 = DefaultArgon2
	}
	return &Service{db: d, audit: a, clock: c, set: s, dummyHash: HashPassword("gridhall-dummy-password", s.Argon2)}
}

// Settings returns the service's settings.
func (s *Service) Settings() Settings { return s.set }

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	if r.ActorName == "" {
		r.ActorName = "anonymous"
	}
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// Session is a signed-in browser session. ID is the secret for the cookie;
// only its hash is stored.
type Session struct {
	ID        string
	Actor     Actor
	ExpiresAt time.Time
}

// LoginInput is what the login form or API sends.
type LoginInput struct {
	Username  string
	Password  string
	IP        string
	UserAgent string
}

// Login checks a password and opens a new session with a fresh id. Attempts
// are throttled per account and per client address; once either limit is
// reached inside the window, every attempt — right or wrong — gets TooMany
// until the window ends, so guessing gains nothing.
func (s *Service) Login(ctx context.Context, in LoginInput) (Session, error) {
	const op = "auth.Login"
	name := normalizeUsername(in.Username)
	if name == "" || in.Password == "" {
		f := map[string]string{}
		if name == "" {
			f["username"] = "error.field.required"
		}
		if in.Password == "" {
			f["password"] = "error.field.required"
		}
		return Session{}, errs.Fields(op, f)
	}
	if len(in.Password) > MaxPasswordLen {
		return Session{}, errs.E(errs.Unauthenticated, op, "error.login.failed")
	}
	now := s.clock.Now()
	acctKey, ipKey := "login:user:"+name, "login:ip:"+in.IP
	var retry time.Duration
	var lockedNow bool
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		n, start, err := s.st.countAttempt(ctx, tx, acctKey, now, s.set.LoginWindow)
		if err != nil {
			return err
		}
		ni, starti, err := s.st.countAttempt(ctx, tx, ipKey, now, s.set.LoginWindow)
		if err != nil {
			return err
		}
		if n > s.set.LoginMaxFailures {
			retry = start.Add(s.set.LoginWindow).Sub(now)
			lockedNow = n == s.set.LoginMaxFailures+1
		}
		if ni > s.set.LoginIPMaxFailures {
			retry = max(retry, starti.Add(s.set.LoginWindow).Sub(now))
			lockedNow = lockedNow || ni == s.set.LoginIPMaxFailures+1
		}
		if lockedNow {
			// Audit the moment the lock starts, not every throttled attempt,
			// so that an attacker cannot flood the log.
			return s.record(ctx, tx, Actor{}, audit.Record{Action: "session.login_throttled", ObjectType: "user", ObjectID: name,
				Detail: map[string]any{"retry_after_s": int(retry.Seconds())}})
		}
		return nil
	})
	if err != nil {
		return Session{}, errs.Wrap(op, err)
	}
	if retry > 0 {
		e := errs.E(errs.TooMany, op, "error.login.throttled", int((retry+time.Minute-1)/time.Minute))
		e.RetryAfter = retry
		return Session{}, e
	}

	u, err := s.st.userByName(ctx, s.db, name)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Session{}, errs.Wrap(op, err)
	}
	hash := s.dummyHash
	if found {
		hash = u.passwordHash
	}
	ok := CheckPassword(hash, in.Password) && found && !u.Disabled
	if !ok {
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			return s.record(ctx, tx, Actor{}, audit.Record{Action: "session.login_failed", ObjectType: "user", ObjectID: name})
		})
		if err != nil {
			return Session{}, errs.Wrap(op, err)
		}
		return Session{}, errs.E(errs.Unauthenticated, op, "error.login.failed")
	}

	sess := Session{ID: newSecret(), Actor: u.Actor(), ExpiresAt: now.Add(s.set.SessionAbsolute)}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.clearAttempts(ctx, tx, acctKey); err != nil {
			return err
		}
		if err := s.st.forgiveAttempt(ctx, tx, ipKey); err != nil {
			return err
		}
		if err := s.st.insertSession(ctx, tx, hashSecret(sess.ID), u.ID, now, sess.ExpiresAt, in.IP, truncate(in.UserAgent, 200)); err != nil {
			return err
		}
		return s.record(ctx, tx, sess.Actor, audit.Record{Action: "session.login", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10), ScopePath: u.Scope})
	})
	if err != nil {
		return Session{}, errs.Wrap(op, err)
	}
	return sess, nil
}

// touchEvery limits how often a session's last activity is written: idle
// expiry only needs minute precision, and a write per request would make
// every page view a database write.
const touchEvery = time.Minute

// Authenticate returns the actor of a session id, or Unauthenticated when the
// session does not exist, has been idle too long, has passed its absolute
// expiry, or belongs to a disabled account.
func (s *Service) Authenticate(ctx context.Context, sessionID string) (Actor, error) {
	const op = "auth.Authenticate"
	if !ValidSessionID(sessionID) {
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.session.invalid")
	}
	h := hashSecret(sessionID)
	u, lastSeen, expires, err := s.st.sessionUser(ctx, s.db, h)
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.session.invalid")
	}
	if err != nil {
		return Actor{}, errs.Wrap(op, err)
	}
	now := s.clock.Now()
	if !now.Before(expires) || !now.Before(lastSeen.Add(s.set.SessionIdle)) || u.Disabled {
		if _, err := s.st.deleteSession(ctx, s.db, h); err != nil {
			return Actor{}, errs.Wrap(op, err)
		}
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.session.expired")
	}
	if now.Sub(lastSeen) >= touchEvery {
		if err := s.st.touchSession(ctx, s.db, h, now); err != nil {
			return Actor{}, errs.Wrap(op, err)
		}
	}
	a, err := s.actorOf(ctx, u)
	return a, errs.Wrap(op, err)
}

// actorOf returns the actor acting as u with its effective scopes: a grid
// worker with assigned grids acts in exactly those grids.
func (s *Service) actorOf(ctx context.Context, u User) (Actor, error) {
	a := u.Actor()
	if u.Role != GridWorker {
		return a, nil
	}
	scopes, err := s.st.userScopes(ctx, s.db, u.ID)
	a.Scopes = scopes
	return a, err
}

// ActorOf returns the actor an enabled account acts as, with its effective
// scopes, so that a capability can check what another account may do (may
// this grid worker be sent a case in that grid?). Not found for unknown or
// disabled accounts.
func (s *Service) ActorOf(ctx context.Context, userID int64) (Actor, error) {
	const op = "auth.ActorOf"
	u, err := s.st.userByID(ctx, s.db, userID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && u.Disabled) {
		return Actor{}, errs.E(errs.NotFound, op, "error.not_found")
	}
	if err != nil {
		return Actor{}, errs.Wrap(op, err)
	}
	a, err := s.actorOf(ctx, u)
	return a, errs.Wrap(op, err)
}

// SetScopesTx replaces an account's extra scopes inside the caller's
// transaction; the territory capability calls it when it assigns grids.
func (s *Service) SetScopesTx(ctx context.Context, tx *sql.Tx, userID int64, paths []string) error {
	return s.st.replaceUserScopes(ctx, tx, userID, paths)
}

// Logout revokes a session.
func (s *Service) Logout(ctx context.Context, actor Actor, sessionID string) error {
	return errs.Wrap("auth.Logout", s.db.Tx(ctx, func(tx *sql.Tx) error {
		found, err := s.st.deleteSession(ctx, tx, hashSecret(sessionID))
		if err != nil || !found {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "session.logout", ObjectType: "user", ObjectID: strconv.FormatInt(actor.UserID, 10), ScopePath: actor.Scope})
	}))
}

// NewUser is the input for creating an account.
type NewUser struct {
	Username           string `json:"username"`
	DisplayName        string `json:"display_name"`
	Password           string `json:"password"`
	Role               Role   `json:"role"`
	Scope              string `json:"scope"`
	MustChangePassword bool   `json:"must_change_password"`
}

var isUnique = db.IsUniqueViolation

func normalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func validUsername(s string) bool {
	if len(s) < 2 || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// validate normalises the input and returns every problem at once.
func (in *NewUser) validate() map[string]string {
	f := map[string]string{}
	in.Username = normalizeUsername(in.Username)
	in.DisplayName = strings.TrimSpace(in.DisplayName)
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	if !validUsername(in.Username) {
		f["username"] = "error.username.format"
	}
	if utf8.RuneCountInString(in.DisplayName) > 100 {
		f["display_name"] = "error.field.too_long"
	}
	if p := passwordProblem(in.Username, in.Password); p != "" {
		f["password"] = p
	}
	if !in.Role.Valid() {
		f["role"] = "error.role.unknown"
	}
	scope, err := ParseScope(in.Scope)
	switch {
	case err != nil:
		f["scope"] = errs.As(err).Msg
	case in.Role == Resident && scope != "":
		f["scope"] = "error.scope.resident"
	case in.Role.Staff() && scope == "" && in.Role != SystemAdmin && in.Role != Auditor:
		f["scope"] = "error.field.required"
	}
	in.Scope = scope
	return f
}

// CreateUser adds an account. Only system administrators (and the console)
// manage accounts, and only inside their own scope.
func (s *Service) CreateUser(ctx context.Context, actor Actor, in NewUser) (User, error) {
	const op = "auth.CreateUser"
	if !Can(actor, ManageAccounts, "") && !Can(actor, ManageAccounts, in.Scope) {
		return User{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	f := in.validate()
	if _, bad := f["scope"]; !bad && in.Scope != "" && s.scopeKnown != nil {
		known, err := s.scopeKnown(ctx, in.Scope)
		if err != nil {
			return User{}, errs.Wrap(op, err)
		}
		if !known {
			f["scope"] = "error.scope.unknown"
		}
	}
	if len(f) > 0 {
		return User{}, errs.Fields(op, f)
	}
	if !Can(actor, ManageAccounts, in.Scope) {
		return User{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	now := s.clock.Now()
	u := User{Username: in.Username, DisplayName: in.DisplayName, Role: in.Role, Scope: in.Scope,
		MustChangePassword: in.MustChangePassword, CreatedAt: now, UpdatedAt: now,
		passwordHash: HashPassword(in.Password, s.set.Argon2)}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := s.st.insertUser(ctx, tx, u, now)
		if err != nil {
			return err
		}
		u.ID = id
		return s.record(ctx, tx, actor, audit.Record{Action: "user.create", ObjectType: "user", ObjectID: strconv.FormatInt(id, 10),
			ScopePath: u.Scope, Detail: map[string]any{"username": u.Username, "role": u.Role, "scope": u.Scope}})
	})
	if isUnique(err) {
		return User{}, &errs.Error{Code: errs.Conflict, Op: op, Msg: "error.username.taken", Fields: map[string]string{"username": "error.username.taken"}}
	}
	if err != nil {
		return User{}, errs.Wrap(op, err)
	}
	return u, nil
}

// UserFilter pages through accounts.
type UserFilter struct {
	Query   string
	AfterID int64
	Limit   int
}

// ListUsers returns one page of the accounts the actor manages, by id.
func (s *Service) ListUsers(ctx context.Context, actor Actor, f UserFilter) ([]User, error) {
	const op = "auth.ListUsers"
	if !Can(actor, ManageAccounts, actor.Scope) {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	users, err := s.st.listUsers(ctx, s.db, actor.Scope, strings.TrimSpace(f.Query), f.AfterID, f.Limit)
	return users, errs.Wrap(op, err)
}

// UserByName returns an account the actor manages.
func (s *Service) UserByName(ctx context.Context, actor Actor, username string) (User, error) {
	const op = "auth.UserByName"
	u, err := s.st.userByName(ctx, s.db, normalizeUsername(username))
	return s.managed(op, actor, u, err)
}

// UserByID returns an account the actor manages.
func (s *Service) UserByID(ctx context.Context, actor Actor, id int64) (User, error) {
	const op = "auth.UserByID"
	u, err := s.st.userByID(ctx, s.db, id)
	return s.managed(op, actor, u, err)
}

func (s *Service) managed(op string, actor Actor, u User, err error) (User, error) {
	if !Can(actor, ManageAccounts, actor.Scope) {
		return User{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !Can(actor, ManageAccounts, u.Scope)) {
		return User{}, errs.E(errs.NotFound, op, "error.user.not_found")
	}
	return u, errs.Wrap(op, err)
}

// ResetPassword sets another account's password (an administrator's act):
// the account must choose a new password at its next login, and every open
// session of it ends.
func (s *Service) ResetPassword(ctx context.Context, actor Actor, userID int64, password string) error {
	const op = "auth.ResetPassword"
	u, err := s.UserByID(ctx, actor, userID)
	if err != nil {
		return err
	}
	if p := passwordProblem(u.Username, password); p != "" {
		return errs.Fields(op, map[string]string{"password": p})
	}
	hash := HashPassword(password, s.set.Argon2)
	now := s.clock.Now()
	// A password set by another account must be replaced by its owner; one
	// set at the console is the operator's own doing.
	mustChange := !actor.System && actor.UserID != u.ID
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.setPassword(ctx, tx, u.ID, hash, mustChange, now); err != nil {
			return err
		}
		if err := s.st.deleteUserSessions(ctx, tx, u.ID, ""); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "user.password_reset", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10), ScopePath: u.Scope})
	}))
}

// ChangePassword lets an account change its own password, proving the old
// one. Every other session of the account ends; the current one stays.
func (s *Service) ChangePassword(ctx context.Context, actor Actor, currentSessionID, oldPassword, newPassword string) error {
	const op = "auth.ChangePassword"
	if actor.UserID == 0 {
		return errs.E(errs.Unauthenticated, op, "error.session.invalid")
	}
	u, err := s.st.userByID(ctx, s.db, actor.UserID)
	if err != nil {
		return errs.Wrap(op, err)
	}
	f := map[string]string{}
	if !CheckPassword(u.passwordHash, oldPassword) {
		f["current_password"] = "error.password.wrong"
	}
	if p := passwordProblem(u.Username, newPassword); p != "" {
		f["new_password"] = p
	} else if newPassword == oldPassword {
		f["new_password"] = "error.password.unchanged"
	}
	if len(f) > 0 {
		return errs.Fields(op, f)
	}
	hash := HashPassword(newPassword, s.set.Argon2)
	keep := ""
	if currentSessionID != "" {
		keep = hashSecret(currentSessionID)
	}
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.setPassword(ctx, tx, u.ID, hash, false, s.clock.Now()); err != nil {
			return err
		}
		if err := s.st.deleteUserSessions(ctx, tx, u.ID, keep); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "user.password_change", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10), ScopePath: u.Scope})
	}))
}

// SetDisabled disables or re-enables an account. Disabling ends its sessions
// and revokes its API tokens at once.
func (s *Service) SetDisabled(ctx context.Context, actor Actor, userID int64, disabled bool) error {
	const op = "auth.SetDisabled"
	u, err := s.UserByID(ctx, actor, userID)
	if err != nil {
		return err
	}
	if disabled && u.ID == actor.UserID {
		return errs.E(errs.Conflict, op, "error.user.disable_self")
	}
	now := s.clock.Now()
	action := "user.enable"
	if disabled {
		action = "user.disable"
	}
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.setDisabled(ctx, tx, u.ID, disabled, now); err != nil {
			return err
		}
		if disabled {
			if err := s.st.deleteUserSessions(ctx, tx, u.ID, ""); err != nil {
				return err
			}
			if err := s.st.revokeUserTokens(ctx, tx, u.ID, now); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, actor, audit.Record{Action: action, ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10), ScopePath: u.Scope})
	}))
}

// SupportedLocales are the languages an account may choose.
var SupportedLocales = []string{"zh-CN", "en"}

// SetLocale remembers an account's language.
func (s *Service) SetLocale(ctx context.Context, actor Actor, locale string) error {
	const op = "auth.SetLocale"
	if !slices.Contains(SupportedLocales, locale) {
		return errs.Fields(op, map[string]string{"lang": "error.locale.unknown"})
	}
	if actor.UserID == 0 {
		return nil
	}
	return errs.Wrap(op, s.st.setLocale(ctx, s.db, actor.UserID, locale, s.clock.Now()))
}

// NewToken is the input for creating an API token.
type NewToken struct {
	Username  string        `json:"username"`
	Name      string        `json:"name"`
	Scopes    []string      `json:"scopes"`
	ExpiresIn time.Duration `json:"-"`
}

// CreateToken issues an API token for an account and returns its secret,
// which is shown once and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, actor Actor, in NewToken) (Token, string, error) {
	const op = "auth.CreateToken"
	u, err := s.UserByName(ctx, actor, in.Username)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return Token{}, "", errs.Fields(op, map[string]string{"username": "error.user.not_found"})
		}
		return Token{}, "", err
	}
	f := map[string]string{}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || utf8.RuneCountInString(in.Name) > 100 {
		f["name"] = "error.field.required"
	}
	if len(in.Scopes) == 0 {
		f["scopes"] = "error.field.required"
	}
	for _, sc := range in.Scopes {
		if !slices.Contains(TokenScopes, sc) {
			f["scopes"] = "error.token.scope_unknown"
		}
	}
	if in.ExpiresIn < 0 {
		f["expires"] = "error.token.expiry"
	}
	if u.Disabled {
		f["username"] = "error.user.disabled"
	}
	if len(f) > 0 {
		return Token{}, "", errs.Fields(op, f)
	}
	now := s.clock.Now()
	t := Token{UserID: u.ID, Username: u.Username, Name: in.Name, Scopes: slices.Compact(slices.Sorted(slices.Values(in.Scopes))), CreatedAt: now}
	if in.ExpiresIn > 0 {
		exp := now.Add(in.ExpiresIn)
		t.ExpiresAt = &exp
	}
	secret := TokenPrefix + newSecret()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := s.st.insertToken(ctx, tx, t, hashSecret(secret))
		if err != nil {
			return err
		}
		t.ID = id
		return s.record(ctx, tx, actor, audit.Record{Action: "token.create", ObjectType: "api_token", ObjectID: strconv.FormatInt(id, 10),
			ScopePath: u.Scope, Detail: map[string]any{"user": u.Username, "name": t.Name, "scopes": t.Scopes}})
	})
	if err != nil {
		return Token{}, "", errs.Wrap(op, err)
	}
	return t, secret, nil
}

// ListTokens returns API tokens, newest first; userID 0 lists all.
func (s *Service) ListTokens(ctx context.Context, actor Actor, userID int64) ([]Token, error) {
	const op = "auth.ListTokens"
	if !Can(actor, ManageAccounts, actor.Scope) {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	ts, err := s.st.listTokens(ctx, s.db, userID, 200)
	return ts, errs.Wrap(op, err)
}

// RevokeToken revokes an API token at once.
func (s *Service) RevokeToken(ctx context.Context, actor Actor, id int64) error {
	const op = "auth.RevokeToken"
	t, err := s.st.tokenByID(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, op, "error.token.not_found")
	}
	if err != nil {
		return errs.Wrap(op, err)
	}
	if _, err := s.UserByID(ctx, actor, t.UserID); err != nil {
		if errs.Is(err, errs.NotFound) {
			return errs.E(errs.NotFound, op, "error.token.not_found")
		}
		return err
	}
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.revokeToken(ctx, tx, id, s.clock.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "token.revoke", ObjectType: "api_token", ObjectID: strconv.FormatInt(id, 10)})
	}))
}

// AuthenticateToken returns the actor of an API token presented as a Bearer
// credential: the token's account limited to the token's scopes.
func (s *Service) AuthenticateToken(ctx context.Context, bearer string) (Actor, error) {
	const op = "auth.AuthenticateToken"
	secret, ok := ParseToken(bearer)
	if !ok {
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.token.invalid")
	}
	t, u, err := s.st.tokenUser(ctx, s.db, hashSecret(secret))
	if errors.Is(err, sql.ErrNoRows) {
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.token.invalid")
	}
	if err != nil {
		return Actor{}, errs.Wrap(op, err)
	}
	now := s.clock.Now()
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) || u.Disabled {
		return Actor{}, errs.E(errs.Unauthenticated, op, "error.token.invalid")
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.st.touchToken(ctx, s.db, t.ID, now); err != nil {
			return Actor{}, errs.Wrap(op, err)
		}
	}
	a, err := s.actorOf(ctx, u)
	if err != nil {
		return Actor{}, errs.Wrap(op, err)
	}
	a.TokenID, a.TokenScopes = t.ID, t.Scopes
	return a, nil
}

// Sweep deletes expired sessions and ended throttle windows. Every node may
// run it: the deletes are idempotent.
func (s *Service) Sweep(ctx context.Context) (int64, error) {
	n, err := s.st.deleteExpired(ctx, s.db, s.clock.Now(), s.set.SessionIdle, s.set.LoginWindow)
	return n, errs.Wrap("auth.Sweep", err)
}
