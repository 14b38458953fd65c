package auth_test

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

// cheap argon2 parameters keep the suite fast; the production parameters are
// exercised by TestDefaultParametersHashAndVerify.
var cheap = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

type fixture struct {
	db    *db.DB
	svc   *auth.Service
	clock *clock.Fake
	audit *audit.Log
	ctx   context.Context
}

func newFixture(t *testing.T, d *db.DB) fixture {
	t.Helper()
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	al := audit.New(d)
	svc := auth.NewService(d, al, c, auth.Settings{
		SessionIdle: 30 * time.Minute, SessionAbsolute: 8 * time.Hour,
		LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginWindow: 15 * time.Minute, Argon2: cheap,
	})
	return fixture{db: d, svc: svc, clock: c, audit: al, ctx: context.Background()}
}

var console = auth.SystemActor("cli:test")

func (f fixture) mustCreate(t *testing.T, name string, role auth.Role, scope string) auth.User {
	t.Helper()
	u, err := f.svc.CreateUser(f.ctx, console, auth.NewUser{Username: name, Password: "pass-" + name + "-123", Role: role, Scope: scope})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return u
}

func (f fixture) login(name, pw, ip string) (auth.Session, error) {
	return f.svc.Login(f.ctx, auth.LoginInput{Username: name, Password: pw, IP: ip, UserAgent: "test"})
}

func TestAccountsOnBothEngines(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		t.Run("create validates every field at once", func(t *testing.T) {
			_, err := f.svc.CreateUser(f.ctx, console, auth.NewUser{Username: "A B", Password: "short", Role: "king", Scope: "42x"})
			e := errs.As(err)
			if e.Code != errs.Invalid {
				t.Fatalf("code = %s, want invalid", e.Code)
			}
			for _, field := range []string{"username", "password", "role", "scope"} {
				if e.Fields[field] == "" {
					t.Errorf("no message for field %s: %v", field, e.Fields)
				}
			}
		})
		wang := f.mustCreate(t, "wang.li", auth.GridWorker, "420106001002003")
		if wang.Scope != "420106/420106001/420106001002/420106001002003" {
			t.Fatalf("scope stored as %q", wang.Scope)
		}
		t.Run("duplicate user name is a conflict naming the field", func(t *testing.T) {
			_, err := f.svc.CreateUser(f.ctx, console, auth.NewUser{Username: "WANG.LI", Password: "another-password", Role: auth.Resident})
			if e := errs.As(err); e.Code != errs.Conflict || e.Fields["username"] == "" {
				t.Fatalf("got %v, want conflict on username", err)
			}
		})
		t.Run("only account managers create accounts", func(t *testing.T) {
			_, err := f.svc.CreateUser(f.ctx, wang.Actor(), auth.NewUser{Username: "x1", Password: "long-enough-pw", Role: auth.Resident})
			if !errs.Is(err, errs.Forbidden) {
				t.Fatalf("grid worker created an account: %v", err)
			}
		})
		t.Run("list pages by id and searches by prefix", func(t *testing.T) {
			for _, n := range []string{"zhang.san", "zhang.wei", "li.na"} {
				f.mustCreate(t, n, auth.Resident, "")
			}
			page, err := f.svc.ListUsers(f.ctx, console, auth.UserFilter{Limit: 2})
			if err != nil || len(page) != 2 {
				t.Fatalf("first page: %v %v", page, err)
			}
			next, err := f.svc.ListUsers(f.ctx, console, auth.UserFilter{Limit: 2, AfterID: page[1].ID})
			if err != nil || len(next) != 2 || next[0].ID <= page[1].ID {
				t.Fatalf("second page: %v %v", next, err)
			}
			found, err := f.svc.ListUsers(f.ctx, console, auth.UserFilter{Query: "zhang"})
			if err != nil || len(found) != 2 {
				t.Fatalf("search zhang: %v %v", found, err)
			}
			none, err := f.svc.ListUsers(f.ctx, console, auth.UserFilter{Query: "%"})
			if err != nil || len(none) != 0 {
				t.Fatalf("a %% search must match literally: %v %v", none, err)
			}
		})
	})
}

func TestLoginSessionsAndExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.mustCreate(t, "chen", auth.CommunityStaff, "420106001002")
		s1, err := f.login("Chen ", "pass-chen-123", "10.0.0.1")
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		s2, err := f.login("chen", "pass-chen-123", "10.0.0.1")
		if err != nil || s2.ID == s1.ID {
			t.Fatalf("second login must get a new session id: %v", err)
		}
		a, err := f.svc.Authenticate(f.ctx, s1.ID)
		if err != nil || a.Username != "chen" || a.Role != auth.CommunityStaff {
			t.Fatalf("authenticate: %+v %v", a, err)
		}

		t.Run("idle expiry", func(t *testing.T) {
			f.clock.Advance(29 * time.Minute)
			if _, err := f.svc.Authenticate(f.ctx, s1.ID); err != nil {
				t.Fatalf("session active within idle time: %v", err)
			}
			f.clock.Advance(29 * time.Minute) // s1 was touched; s2 has now been idle 58 minutes
			if _, err := f.svc.Authenticate(f.ctx, s2.ID); !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("idle session still valid: %v", err)
			}
			if _, err := f.svc.Authenticate(f.ctx, s1.ID); err != nil {
				t.Fatalf("recently used session expired: %v", err)
			}
		})
		t.Run("absolute expiry despite activity", func(t *testing.T) {
			// s1 was created at 09:00 with an 8-hour absolute limit; keep it
			// busy every 25 minutes and it must still end at 17:00.
			start := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
			for f.clock.Now().Before(start.Add(10 * time.Hour)) {
				f.clock.Advance(25 * time.Minute)
				_, err := f.svc.Authenticate(f.ctx, s1.ID)
				end := start.Add(8 * time.Hour)
				if now := f.clock.Now(); now.Before(end) && err != nil {
					t.Fatalf("expired early at %v: %v", now, err)
				} else if !now.Before(end) {
					if err == nil {
						t.Fatalf("session valid at %v, past its absolute expiry", now)
					}
					return
				}
			}
		})
		t.Run("logout revokes", func(t *testing.T) {
			s, err := f.login("chen", "pass-chen-123", "10.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.svc.Logout(f.ctx, s.Actor, s.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Authenticate(f.ctx, s.ID); !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("session valid after logout: %v", err)
			}
		})
		t.Run("password change ends the other sessions", func(t *testing.T) {
			keep, _ := f.login("chen", "pass-chen-123", "10.0.0.1")
			other, _ := f.login("chen", "pass-chen-123", "10.0.0.2")
			err := f.svc.ChangePassword(f.ctx, keep.Actor, keep.ID, "wrong", "a-new-password")
			if e := errs.As(err); e.Fields["current_password"] == "" {
				t.Fatalf("wrong current password not named: %v", err)
			}
			if err := f.svc.ChangePassword(f.ctx, keep.Actor, keep.ID, "pass-chen-123", "a-new-password"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Authenticate(f.ctx, keep.ID); err != nil {
				t.Fatalf("current session ended: %v", err)
			}
			if _, err := f.svc.Authenticate(f.ctx, other.ID); err == nil {
				t.Fatal("other session survived a password change")
			}
			if _, err := f.login("chen", "a-new-password", "10.0.0.1"); err != nil {
				t.Fatalf("new password rejected: %v", err)
			}
		})
		t.Run("disabling ends sessions and blocks login", func(t *testing.T) {
			s, _ := f.login("chen", "a-new-password", "10.0.0.1")
			u, _ := f.svc.UserByName(f.ctx, console, "chen")
			if err := f.svc.SetDisabled(f.ctx, console, u.ID, true); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.Authenticate(f.ctx, s.ID); err == nil {
				t.Fatal("session of a disabled account still valid")
			}
			if _, err := f.login("chen", "a-new-password", "10.0.0.1"); !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("disabled account logged in: %v", err)
			}
		})
	})
}

func TestLoginThrottling(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.mustCreate(t, "zhao", auth.GridWorker, "420106001002003")
		var throttled int
		var retry time.Duration
		for i := 1; i <= 10; i++ {
			_, err := f.login("zhao", "wrong-password", "10.0.0.9")
			switch errs.CodeOf(err) {
			case errs.Unauthenticated:
				if throttled > 0 {
					t.Fatalf("attempt %d checked the password after throttling began", i)
				}
			case errs.TooMany:
				throttled++
				retry = errs.As(err).RetryAfter
			default:
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		if throttled != 5 {
			t.Fatalf("throttled %d of 10 attempts, want the last 5", throttled)
		}
		var locks int
		if err := d.QueryRowContext(f.ctx, "SELECT COUNT(*) FROM audit_log WHERE action = 'session.login_throttled' AND object_id = 'zhao'").Scan(&locks); err != nil {
			t.Fatal(err)
		}
		if locks != 1 {
			t.Fatalf("%d lockout entries for zhao, want exactly 1 however many attempts were throttled", locks)
		}
		if retry <= 0 || retry > 15*time.Minute {
			t.Fatalf("retry after %v", retry)
		}
		if _, err := f.login("zhao", "pass-zhao-123", "10.0.0.9"); !errs.Is(err, errs.TooMany) {
			t.Fatalf("right password inside the window must still be throttled: %v", err)
		}
		if _, err := f.login("zhao", "pass-zhao-123", "10.0.0.10"); !errs.Is(err, errs.TooMany) {
			t.Fatalf("the account limit must hold from another address too: %v", err)
		}
		f.clock.Advance(retry)
		if _, err := f.login("zhao", "pass-zhao-123", "10.0.0.9"); err != nil {
			t.Fatalf("right password after the window: %v", err)
		}

		t.Run("per address across accounts", func(t *testing.T) {
			for i := 0; i < 50; i++ {
				f.login("nobody"+string(rune('a'+i%26))+string(rune('a'+i/26)), "x-wrong-password", "10.9.9.9")
			}
			if _, err := f.login("zhao", "pass-zhao-123", "10.9.9.9"); !errs.Is(err, errs.TooMany) {
				t.Fatalf("address limit not applied: %v", err)
			}
		})
	})
}

func TestAPITokens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.mustCreate(t, "hotline", auth.StreetStaff, "420106001")
		tok, secret, err := f.svc.CreateToken(f.ctx, console, auth.NewToken{Username: "hotline", Name: "12345 bridge", Scopes: []string{"write", "read"}, ExpiresIn: 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, auth.TokenPrefix) || tok.Scopes[0] != "read" {
			t.Fatalf("token %+v secret %q", tok, secret)
		}
		a, err := f.svc.AuthenticateToken(f.ctx, secret)
		if err != nil || a.Username != "hotline" || a.TokenID != tok.ID || !a.HasTokenScope("write") || a.HasTokenScope("open311") {
			t.Fatalf("authenticate token: %+v %v", a, err)
		}
		if _, err := f.svc.AuthenticateToken(f.ctx, secret[:len(secret)-1]+"x"); err == nil {
			t.Fatal("altered token accepted")
		}
		_, _, err = f.svc.CreateToken(f.ctx, console, auth.NewToken{Username: "hotline", Name: "", Scopes: []string{"root"}})
		if e := errs.As(err); e.Fields["name"] == "" || e.Fields["scopes"] == "" {
			t.Fatalf("bad token input not named: %v", err)
		}
		f.clock.Advance(24 * time.Hour)
		if _, err := f.svc.AuthenticateToken(f.ctx, secret); err == nil {
			t.Fatal("expired token accepted")
		}
		_, s2, _ := f.svc.CreateToken(f.ctx, console, auth.NewToken{Username: "hotline", Name: "n", Scopes: []string{"read"}})
		list, _ := f.svc.ListTokens(f.ctx, console, 0)
		if err := f.svc.RevokeToken(f.ctx, console, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateToken(f.ctx, s2); err == nil {
			t.Fatal("revoked token accepted")
		}
		if err := f.svc.RevokeToken(f.ctx, console, 9999); !errs.Is(err, errs.NotFound) {
			t.Fatalf("revoke unknown: %v", err)
		}
	})
}

// TestNoSecretStoredInPlainText looks through every text column of every
// table for the passwords, session ids and tokens the test used.
func TestNoSecretStoredInPlainText(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.mustCreate(t, "sun", auth.GridWorker, "420106001002003")
		s, err := f.login("sun", "pass-sun-123", "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := f.svc.CreateToken(f.ctx, console, auth.NewToken{Username: "sun", Name: "n", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		f.login("sun", "a-wrong-guess-pw", "10.0.0.1")
		secrets := []string{"pass-sun-123", "a-wrong-guess-pw", s.ID, tok, strings.TrimPrefix(tok, auth.TokenPrefix)}
		for _, table := range []string{"users", "sessions", "api_tokens", "audit_log", "throttle", "settings"} {
			rows, err := d.QueryContext(f.ctx, "SELECT * FROM "+table)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]sql.NullString, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					for _, sec := range secrets {
						if strings.Contains(v.String, sec) {
							t.Errorf("%s.%s holds a secret in plain text", table, cols[i])
						}
					}
				}
			}
			rows.Close()
		}
	})
}

func TestEveryChangeIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		u := f.mustCreate(t, "qian", auth.GridWorker, "420106001002003")
		s, _ := f.login("qian", "pass-qian-123", "10.0.0.1")
		f.svc.ChangePassword(f.ctx, s.Actor, s.ID, "pass-qian-123", "qian-new-password")
		f.svc.ResetPassword(f.ctx, console, u.ID, "qian-reset-password")
		f.svc.SetDisabled(f.ctx, console, u.ID, true)
		f.svc.SetDisabled(f.ctx, console, u.ID, false)
		es, err := f.audit.List(f.ctx, audit.Filter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range es {
			got[e.Action] = true
		}
		for _, want := range []string{"user.create", "session.login", "user.password_change", "user.password_reset", "user.disable", "user.enable"} {
			if !got[want] {
				t.Errorf("no audit entry %s", want)
			}
		}
		if rep, err := f.audit.Verify(f.ctx); err != nil {
			t.Fatalf("chain: %v %+v", err, rep.Problem)
		}
	})
}

func TestFirstAdministrator(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		secret, err := f.svc.NewSetupToken(f.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.svc.CheckSetupToken(f.ctx, "wrong") || !f.svc.CheckSetupToken(f.ctx, secret) {
			t.Fatal("setup token check wrong")
		}
		s, err := f.svc.CompleteSetup(f.ctx, secret, auth.NewUser{Username: "root", Password: "first-admin-pw"}, "127.0.0.1", "t")
		if err != nil || s.Actor.Role != auth.SystemAdmin {
			t.Fatalf("setup: %+v %v", s.Actor, err)
		}
		if f.svc.CheckSetupToken(f.ctx, secret) {
			t.Fatal("setup link still valid after use")
		}
		created, err := f.svc.EnsureFirstAdmin(f.ctx, "admin", "another-admin-pw")
		if err != nil || created {
			t.Fatalf("a second first admin was created: %v %v", created, err)
		}
	})
}

func TestDefaultParametersHashAndVerify(t *testing.T) {
	h := auth.HashPassword("a reasonably long password", auth.DefaultArgon2)
	if !strings.Contains(h, "m=19456,t=2,p=1") || !auth.CheckPassword(h, "a reasonably long password") {
		t.Fatalf("default hash %q", h)
	}
}
