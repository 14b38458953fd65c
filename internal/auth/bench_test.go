package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

func BenchmarkCan(b *testing.B) {
	a := auth.Actor{UserID: 1, Role: auth.CommunityStaff, Scope: "420106/420106001/420106001002"}
	res := "420106/420106001/420106001002/420106001002003"
	for b.Loop() {
		auth.Can(a, auth.ReadPeople, res)
	}
}

// BenchmarkHashPassword measures the production argon2id cost: the price of
// every login, and of every guess an attacker makes against a stolen hash.
func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		auth.HashPassword("a reasonably long password", auth.DefaultArgon2)
	}
}

// BenchmarkAuthenticateSession is the cost every signed-in page view pays.
func BenchmarkAuthenticateSession(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			d := dbtest.Open(b, e)
			svc := auth.NewService(d, audit.New(d), clock.System{}, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour,
				LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: cheap})
			ctx := context.Background()
			if _, err := svc.CreateUser(ctx, auth.SystemActor("b"), auth.NewUser{Username: "bench.user", Password: "bench-password", Role: auth.GridWorker, Scope: "420106001"}); err != nil {
				b.Fatal(err)
			}
			s, err := svc.Login(ctx, auth.LoginInput{Username: "bench.user", Password: "bench-password", IP: "127.0.0.1"})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := svc.Authenticate(ctx, s.ID); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
