package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// Each API token has its own bucket: past its burst a token gets 429 with
// Retry-After in the usual error format and language, other tokens carry
// on, and the bucket refills with time.
func TestAnAPITokenPastItsRateGets429WithRetryAfter(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSiteWith(t, e, func(c *config.Config) { c.APIRate, c.APIBurst = 0.5, 3 })
			_, other, err := s.app.Auth.CreateToken(context.Background(), auth.SystemActor("t"),
				auth.NewToken{Username: "admin", Name: "second", Scopes: []string{"read"}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				resp, body := s.do(t, "GET", "/api/v1/me", s.admin, "", "")
				if resp.StatusCode != 200 {
					t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
				}
				if got := resp.Header.Get("RateLimit-Remaining"); got != string(rune('0'+2-i)) {
					t.Fatalf("request %d: RateLimit-Remaining %q", i, got)
				}
			}
			resp, body := s.do(t, "GET", "/api/v1/me", s.admin, "", "", "Accept-Language", "zh-CN")
			if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "3" {
				t.Fatalf("fourth request: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
			}
			p := decodeError(t, body)
			if p.Error.Code != "too_many_requests" || p.Error.Message == "" || p.Error.Message[0] < 0x80 {
				t.Fatalf("429 body is not a translated error: %s", body)
			}
			// A refused request changes nothing, and the other token is not held up.
			if resp, _ := s.do(t, "GET", "/api/v1/me", other, "", ""); resp.StatusCode != 200 {
				t.Fatalf("second token: %d", resp.StatusCode)
			}
			s.clock.Advance(2 * time.Second)
			if resp, _ := s.do(t, "GET", "/api/v1/me", s.admin, "", ""); resp.StatusCode != 200 {
				t.Fatalf("after the wait: %d", resp.StatusCode)
			}
			// An Open311 client spends the same kind of budget: three posts
			// (refused for their content), then 429 in GeoReport's format.
			_, o311, err := s.app.Auth.CreateToken(context.Background(), auth.SystemActor("t"),
				auth.NewToken{Username: "admin", Name: "civic app", Scopes: []string{"open311"}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				resp, body := s.do(t, "POST", "/open311/v2/requests.json", "", "application/x-www-form-urlencoded", "api_key="+o311)
				want := 400
				if i == 3 {
					want = 429
				}
				if resp.StatusCode != want || (want == 429 && (resp.Header.Get("Retry-After") == "" || !strings.HasPrefix(body, `[{"code":429`))) {
					t.Fatalf("open311 post %d: %d %s", i, resp.StatusCode, body)
				}
			}
		})
	}
}
