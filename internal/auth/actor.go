// Package auth holds GridHall's accounts, passwords, sessions, API tokens,
// roles with territorial scope, and the permission function Can. Services of
// every capability take an Actor and ask Can before they act.
package auth

import (
	"context"
	"slices"
)

// Actor is who performs an action: a signed-in account, a machine client
// holding an API token, or the system itself (the command line, background
// jobs).
type Actor struct {
	UserID      int64
	Username    string
	DisplayName string
	Role        Role
	Scope       string // primary territory code path; "" is the whole installation
	// Scopes, when set, are the actor's effective scopes and replace Scope
	// in permission checks: a grid worker assigned to several grids acts in
	// exactly those grids.
	Scopes []string
	Locale string
	// MustChangePassword is set for accounts whose password was set by
	// someone else; the web face sends them to the change-password page.
	MustChangePassword bool
	// TokenID and TokenScopes are set when the actor came through an API token.
	TokenID     int64
	TokenScopes []string
	// System marks actions of the installation itself (CLI, jobs).
	System bool
}

// SystemActor is the actor for the command line and background jobs: it may
// manage accounts and settings, like a system administrator at the console.
func SystemActor(name string) Actor {
	return Actor{Username: name, DisplayName: name, Role: SystemAdmin, System: true}
}

// SystemActorAs is the console acting in a given role over the whole
// installation, for operator commands that belong to a role other than
// system_admin (importing the territory is a district administrator's act).
// The role's permissions still apply: the console gains no access to
// residents' data by importing boundaries.
func SystemActorAs(name string, role Role) Actor {
	return Actor{Username: name, DisplayName: name, Role: role, System: true}
}

// HasTokenScope reports whether an API-token actor holds scope s. Actors that
// did not come through a token are not limited by token scopes.
func (a Actor) HasTokenScope(s string) bool {
	return a.TokenID == 0 || slices.Contains(a.TokenScopes, s)
}

// Covers reports whether the resource scope lies inside one of the actor's
// scopes.
func (a Actor) Covers(resourceScope string) bool {
	if len(a.Scopes) == 0 {
		return Within(a.Scope, resourceScope)
	}
	for _, s := range a.Scopes {
		if Within(s, resourceScope) {
			return true
		}
	}
	return false
}

// EffectiveScopes returns the scopes the actor acts in.
func (a Actor) EffectiveScopes() []string {
	if len(a.Scopes) == 0 {
		return []string{a.Scope}
	}
	return a.Scopes
}

// Authenticated reports whether a is a real account or the system.
func (a Actor) Authenticated() bool { return a.UserID != 0 || a.System }

type actorKey struct{}

// WithActor returns a context carrying the current actor.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor stored by WithActor, or the zero (anonymous) Actor.
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	return a
}
