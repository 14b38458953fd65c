package auth

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/errs"
)

// The one-time setup link lets the operator create the first administrator
// in the browser when no password was provided at first start. Only the hash
// of its secret is stored, and it stops working once any account exists.
const (
	setupSettingKey = "setup_token"
	setupLifetime   = 24 * time.Hour
)

// NeedsSetup reports whether the database has no accounts yet.
func (s *Service) NeedsSetup(ctx context.Context) (bool, error) {
	n, err := s.st.countUsers(ctx, s.db)
	return n == 0, errs.Wrap("auth.NeedsSetup", err)
}

// EnsureFirstAdmin creates the first system administrator from a password
// supplied by the operator, when no account exists. It reports whether it
// created one.
func (s *Service) EnsureFirstAdmin(ctx context.Context, username, password string) (bool, error) {
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need {
		return false, err
	}
	_, err = s.CreateUser(ctx, SystemActor("bootstrap"), NewUser{Username: username, DisplayName: username, Password: password, Role: SystemAdmin})
	if errs.Is(err, errs.Conflict) {
		return false, nil // another node created it first
	}
	return err == nil, err
}

// NewSetupToken creates (or replaces) the one-time setup secret and returns it.
func (s *Service) NewSetupToken(ctx context.Context) (string, error) {
	secret := newSecret()
	exp := s.clock.Now().Add(setupLifetime)
	v := hashSecret(secret) + " " + strconv.FormatInt(exp.UnixMilli(), 10)
	return secret, errs.Wrap("auth.NewSetupToken", s.st.putSetting(ctx, s.db, setupSettingKey, v, s.clock.Now()))
}

// CheckSetupToken reports whether secret is the current, unexpired setup
// secret and no account exists yet.
func (s *Service) CheckSetupToken(ctx context.Context, secret string) bool {
	need, err := s.NeedsSetup(ctx)
	if err != nil || !need || secret == "" {
		return false
	}
	v, err := s.st.setting(ctx, s.db, setupSettingKey)
	if err != nil || len(v) < 66 {
		return false
	}
	exp, err := strconv.ParseInt(v[65:], 10, 64)
	if err != nil || !s.clock.Now().Before(time.UnixMilli(exp)) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(v[:64]), []byte(hashSecret(secret))) == 1
}

// CompleteSetup creates the first administrator with a valid setup secret
// and signs them in.
func (s *Service) CompleteSetup(ctx context.Context, secret string, in NewUser, ip, ua string) (Session, error) {
	const op = "auth.CompleteSetup"
	if !s.CheckSetupToken(ctx, secret) {
		return Session{}, errs.E(errs.NotFound, op, "error.setup.invalid")
	}
	in.Role, in.Scope = SystemAdmin, ""
	password := in.Password
	if _, err := s.CreateUser(ctx, SystemActor("setup"), in); err != nil {
		return Session{}, err
	}
	if err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.deleteSetting(ctx, tx, setupSettingKey); err != nil {
			return err
		}
		return s.record(ctx, tx, SystemActor("setup"), audit.Record{Action: "setup.complete", ObjectType: "user", ObjectID: in.Username})
	}); err != nil {
		return Session{}, errs.Wrap(op, err)
	}
	return s.Login(ctx, LoginInput{Username: in.Username, Password: password, IP: ip, UserAgent: ua})
}
