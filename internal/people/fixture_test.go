package people_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// stack is the real service stack every registry test stands on: accounts,
// the demo territory imported, a keyring under a fresh master key, and the
// registry itself, all on database d with clock c.
type stack struct {
	ctx     context.Context
	audit   *audit.Log
	auth    *auth.Service
	terr    *territory.Service
	keys    *seal.Keyring
	svc     *people.Service
	planner auth.Actor // the district administrator who set the territory up
}

func newStack(t testing.TB, d *db.DB, c clock.Clock) stack {
	t.Helper()
	ctx := context.Background()
	al := audit.New(d)
	a := auth.NewService(d, al, c, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour, LoginMaxFailures: 5,
		LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	terr := territory.NewService(d, al, a, c, territory.DefaultTolerance)
	planner := auth.SystemActorAs("t", auth.DistrictAdmin)
	if _, err := terr.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}
	mk, _ := seal.GenerateMasterKey()
	keys, err := seal.Open(ctx, d, mk)
	if err != nil {
		t.Fatal(err)
	}
	return stack{ctx: ctx, audit: al, auth: a, terr: terr, keys: keys, svc: people.NewService(d, al, keys, terr, c), planner: planner}
}
