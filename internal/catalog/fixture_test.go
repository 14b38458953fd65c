package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
)

// Counts of the built-in data: the national catalogue file and the local
// extension.
const (
	nationalComponents = 153
	nationalMatters    = 250
)

// env is a seeded catalogue on database d, with the people who act on it.
type env struct {
	ctx   context.Context
	db    *db.DB
	audit *audit.Log
	auth  *auth.Service
	clock *clock.Fake
	svc   *catalog.Service
	admin auth.Actor // the system administrator: manages settings everywhere
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
	c := clock.NewFake(time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC))
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	e := &env{ctx: ctx, db: d, audit: al, auth: a, clock: c, svc: catalog.NewService(d, al, c),
		admin: auth.Actor{UserID: 1, Username: "admin", Role: auth.SystemAdmin}}
	if _, err := e.svc.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}

// user creates an account and returns its id.
func (e *env) user(t testing.TB, name string, role auth.Role, scope string) int64 {
	t.Helper()
	u, err := e.auth.CreateUser(e.ctx, auth.SystemActor("test"), auth.NewUser{Username: name, DisplayName: name,
		Password: "correct horse battery", Role: role, Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// lastAudit returns the newest audit entry.
func (e *env) lastAudit(t testing.TB) audit.Entry {
	t.Helper()
	es, err := e.audit.List(e.ctx, audit.Filter{Limit: 1})
	if err != nil || len(es) == 0 {
		t.Fatalf("audit: %v %v", es, err)
	}
	return es[0]
}

func (e *env) count(t testing.TB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
