package auth

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/errs"
)

// Throttle counts one attempt at something guessable (a sign-up, an identity
// check) against key inside a fixed window, in the database so that every
// node shares the count, and fails with TooMany past limit.
func (s *Service) Throttle(ctx context.Context, key string, limit int, window time.Duration) error {
	const op = "auth.Throttle"
	now := s.clock.Now()
	var n int
	var start time.Time
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, start, err = s.st.countAttempt(ctx, tx, key, now, window)
		return err
	})
	if err != nil {
		return errs.Wrap(op, err)
	}
	if n > limit {
		e := errs.E(errs.TooMany, op, "error.too_many")
		e.RetryAfter = start.Add(window).Sub(now)
		return e
	}
	return nil
}

// SignUpResident opens a resident account for a self-registering member of
// the public. username is the resident's normalised phone number (the
// registry normalises it); the account has no scope and can do nothing with
// anyone else's data. Sign-ups are limited per client address.
func (s *Service) SignUpResident(ctx context.Context, username, password, ip string) (Session, error) {
	const op = "auth.SignUpResident"
	if err := s.Throttle(ctx, "signup:ip:"+ip, 20, time.Hour); err != nil {
		return Session{}, err
	}
	in := NewUser{Username: username, DisplayName: username, Password: password, Role: Resident}
	if f := in.validate(); len(f) > 0 {
		if _, bad := f["username"]; bad {
			f["phone"] = "people.phone.format"
			delete(f, "username")
		}
		return Session{}, errs.Fields(op, f)
	}
	now := s.clock.Now()
	u := User{Username: in.Username, DisplayName: in.DisplayName, Role: Resident, CreatedAt: now, UpdatedAt: now,
		passwordHash: HashPassword(password, s.set.Argon2)}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		id, err := s.st.insertUser(ctx, tx, u, now)
		if err != nil {
			return err
		}
		u.ID = id
		return s.record(ctx, tx, u.Actor(), audit.Record{Action: "user.signup", ObjectType: "user", ObjectID: strconv.FormatInt(id, 10)})
	})
	if isUnique(err) {
		return Session{}, &errs.Error{Code: errs.Conflict, Op: op, Msg: "auth.signup.taken", Fields: map[string]string{"phone": "auth.signup.taken"}}
	}
	if err != nil {
		return Session{}, errs.Wrap(op, err)
	}
	return s.Login(ctx, LoginInput{Username: username, Password: password, IP: ip})
}
