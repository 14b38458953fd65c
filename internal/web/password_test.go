package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestChangePasswordShowsFieldErrors(t *testing.T) {
	e := newEnv(t)
	e.user("he", auth.GridWorker, "420106", false)
	b := e.browser("zh-CN")
	b.signIn("he")
	for _, tc := range []struct {
		name             string
		current, pw, pw2 string
		field, key       string
	}{
		{"mismatch", testPassword, "a new long password", "a different password", "confirm_password", "error.password.mismatch"},
		{"wrong current", "not my password", "a new long password", "a new long password", "current_password", "error.password.wrong"},
		{"too short", testPassword, "short", "short", "new_password", "error.password.too_short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.post("/password", url.Values{"csrf": {b.csrf()}, "current_password": {tc.current},
				"new_password": {tc.pw}, "confirm_password": {tc.pw2}})
			wantStatus(t, res, http.StatusBadRequest)
			wantHTML(t, res, `<p class="field-error" id="f-`+tc.field+`-error">`+escaped(e.bundle.T(i18n.Chinese, tc.key))+`</p>`)
		})
	}
}

func TestChangePasswordKeepsThisSessionAndEndsOthers(t *testing.T) {
	e := newEnv(t)
	e.user("ma", auth.GridWorker, "420106", false)
	phone, desk := e.browser(""), e.browser("")
	phone.signIn("ma")
	desk.signIn("ma")
	res := desk.post("/password", url.Values{"csrf": {desk.csrf()}, "current_password": {testPassword},
		"new_password": {"a new long password"}, "confirm_password": {"a new long password"}})
	wantRedirect(t, res, "/?ok=password")
	wantStatus(t, desk.get("/"), http.StatusOK)
	wantRedirect(t, phone.get("/"), "/login")
}
