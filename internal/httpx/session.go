package httpx

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// Session cookie names. Over HTTPS the __Host- prefix makes the browser
// refuse the cookie unless it is Secure, host-only and for the whole site.
const (
	sessionCookie       = "gridhall_session"
	secureSessionCookie = "__Host-gridhall_session"
)

// SessionCookieName returns the cookie name for a plain or TLS request.
func SessionCookieName(secure bool) string {
	if secure {
		return secureSessionCookie
	}
	return sessionCookie
}

// SessionID returns the session id the browser presented, or "".
func SessionID(r *http.Request) string {
	for _, name := range []string{secureSessionCookie, sessionCookie} {
		if c, err := r.Cookie(name); err == nil && auth.ValidSessionID(c.Value) {
			return c.Value
		}
	}
	return ""
}

// SetSessionCookie gives the browser a session cookie: HttpOnly so scripts
// cannot read it, SameSite=Lax so other sites cannot send it with forms,
// Secure over TLS. It has no Max-Age: it ends with the browser, and the
// server enforces idle and absolute expiry anyway.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, trustProxy bool, id string) {
	secure := IsTLS(r, trustProxy)
	http.SetCookie(w, &http.Cookie{Name: SessionCookieName(secure), Value: id, Path: "/", HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the session cookie from the browser.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request, trustProxy bool) {
	secure := IsTLS(r, trustProxy)
	http.SetCookie(w, &http.Cookie{Name: SessionCookieName(secure), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secure, SameSite: http.SameSiteLaxMode, Expires: time.Unix(0, 0)})
}

type sessionKey struct{}

// SessionFrom returns the session id the current actor came through, or "".
func SessionFrom(ctx context.Context) string {
	s, _ := ctx.Value(sessionKey{}).(string)
	return s
}

// Authenticate puts the actor in the context: from an API token in the
// Authorization header (a bad token is a 401 at once: a machine client
// should not silently continue as anonymous), or else from the session
// cookie (a stale cookie is cleared and the request continues anonymous, so
// the page can offer to sign in).
func Authenticate(svc *auth.Service, trustProxy bool, writeErr ErrorWriter) Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if h := r.Header.Get("Authorization"); h != "" {
				scheme, cred, _ := strings.Cut(h, " ")
				if !strings.EqualFold(scheme, "Bearer") {
					writeErr(w, r, errs.E(errs.Unauthenticated, "auth", "error.token.invalid"))
					return
				}
				a, err := svc.AuthenticateToken(ctx, cred)
				if err != nil {
					writeErr(w, r, err)
					return
				}
				next.ServeHTTP(w, r.WithContext(auth.WithActor(ctx, a)))
				return
			}
			if id := SessionID(r); id != "" {
				a, err := svc.Authenticate(ctx, id)
				switch {
				case err == nil:
					ctx = auth.WithActor(ctx, a)
					ctx = context.WithValue(ctx, sessionKey{}, id)
				case errs.Is(err, errs.Unauthenticated):
					ClearSessionCookie(w, r, trustProxy)
				default:
					writeErr(w, r, err)
					return
				}
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// Lang returns the request's language: the "lang" cookie when it names a
// supported language, else the best match for Accept-Language.
func Lang(r *http.Request, match func(acceptLanguage string) string) string {
	if c, err := r.Cookie("lang"); err == nil {
		for _, l := range []string{"zh-CN", "en"} {
			if c.Value == l {
				return l
			}
		}
	}
	return match(r.Header.Get("Accept-Language"))
}
