package web

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/gridhall/gridhall/internal/i18n"
)

func TestSetupCreatesFirstAdministrator(t *testing.T) {
	e := newEnv(t)
	secret, err := e.svc.NewSetupToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser("en")
	wantStatus(t, b.get("/setup"), http.StatusNotFound)
	wantStatus(t, b.get("/setup?token=wrong"), http.StatusNotFound)
	page := b.get("/setup?token=" + url.QueryEscape(secret))
	wantStatus(t, page, http.StatusOK)
	wantHTML(t, page, `name="token" value="`+secret+`"`)

	form := url.Values{"token": {secret}, "username": {"boss"}, "display_name": {"Boss"},
		"password": {"a long admin password"}, "confirm_password": {"another password"}}
	res := b.post("/setup", form)
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "error.password.mismatch"))
	wantHTML(t, res, `value="boss"`)

	form.Set("confirm_password", "a long admin password")
	wantRedirect(t, b.post("/setup", form), "/")
	home := b.get("/")
	wantStatus(t, home, http.StatusOK)
	wantText(t, home, e.bundle.T(i18n.English, "role.system_admin"))

	// The link works once.
	wantStatus(t, e.browser("").get("/setup?token="+url.QueryEscape(secret)), http.StatusNotFound)
	wantStatus(t, e.browser("").post("/setup", form), http.StatusNotFound)
}

func TestSetupShowsServiceFieldErrors(t *testing.T) {
	e := newEnv(t)
	secret, err := e.svc.NewSetupToken(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	res := e.browser("zh-CN").post("/setup", url.Values{"token": {secret}, "username": {"x"}, "password": {"short"}, "confirm_password": {"short"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.Chinese, "error.username.format"))
	wantText(t, res, e.bundle.T(i18n.Chinese, "error.password.too_short"))
	if need, _ := e.svc.NeedsSetup(t.Context()); !need {
		t.Fatal("a rejected setup created an account")
	}
}
